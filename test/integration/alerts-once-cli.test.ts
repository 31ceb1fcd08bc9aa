import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../functions/core/dates.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { type Dynalite, type LocalEnv, openLocal, startDynalite } from '../../infra/local/runtime/index.ts';
import { sentinel } from './cli-run.ts';
import { memoryUpload } from './helpers.ts';

/**
 * Two `sentinel evaluate` processes at once on one store (as next to `npm start`, or through
 * SENTINEL_DYNAMODB_ENDPOINT): each alert is told once in the outbox, under the id it is stored as.
 */
const ROUNDS = 2;
/** Enough customers that the two runs overlap (each takes a second or two, as a daily run does longer). */
const CUSTOMERS = 150;

const sentinelOn = (args: string[], cwd: string, endpoint: string) =>
  sentinel(args, cwd, { env: { SENTINEL_DYNAMODB_ENDPOINT: endpoint } });

describe('two `sentinel evaluate` at once', () => {
  let db: Dynalite;
  let dir: string;
  let env: LocalEnv;
  beforeAll(async () => {
    db = await startDynalite();
    dir = await mkdtemp(join(tmpdir(), 'sentinel-once-'));
    env = await openLocal({ endpoint: db.endpoint, dataDir: join(dir, 'data') });
  });
  afterAll(async () => {
    await env.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(`${ROUNDS} rounds: every alert told once, stored under the id it was told`, async () => {
    const today = new Date().toISOString().slice(0, 10);
    const due = addDays(today, -40);
    const issued = addDays(today, -70);
    const dataDir = join(dir, 'data');
    const failures: string[] = [];
    let told = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const lines = ['invoice_id,customer_id,issue_date,due_date,amount,currency'];
      for (let i = 0; i < CUSTOMERS; i++)
        lines.push(`K${round}-${i}-I,K${round}-${i},${issued},${due},${900 + i}.00,EUR`);
      await ingest(
        {
          store: env.store,
          notifier: { customersChanged: async () => undefined },
          clock: { now: () => new Date() },
          timeZone: 'UTC',
        },
        memoryUpload('invoices', `${lines.join('\n')}\n`),
      );
      const runs = await Promise.all(
        [0, 1].map(() => sentinelOn(['evaluate', '--json', '--data-dir', dataDir], dir, db.endpoint)),
      );
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      const outbox = (await readFile(join(dataDir, 'outbox', 'alerts.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as { type: string; alert: { alertId: string; customerId: string; rule: string } },
        );
      // Each process appends to the same outbox file.
      const mine = outbox.filter((m) => m.alert.customerId.startsWith(`K${round}-`));
      // Told twice: the same opening of a customer's rule, whatever id each run gave it.
      const byAlert = new Map<string, number>();
      for (const m of mine) {
        const k = `${m.type} ${m.alert.customerId}/${m.alert.rule}`;
        byAlert.set(k, (byAlert.get(k) ?? 0) + 1);
      }
      const twice = [...byAlert].filter(([, n]) => n > 1);
      const toldIds = new Set(mine.map((m) => m.alert.alertId));
      const stored = (await env.store.listAlerts('active')).filter((a) =>
        a.customerId.startsWith(`K${round}-`),
      );
      const untold = stored.filter((a) => !toldIds.has(a.alertId));
      if (twice.length > 0 || untold.length > 0)
        failures.push(
          `round ${round}: ${twice.length} told twice, ${untold.length} stored under an id never told`,
        );
      expect(stored.length).toBeGreaterThanOrEqual(CUSTOMERS);
      told += mine.length;
    }
    expect(failures).toEqual([]);
    expect(told).toBeGreaterThanOrEqual(CUSTOMERS * ROUNDS);
  }, 90_000);
});
