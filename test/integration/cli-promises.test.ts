import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { addDays, dateInZone } from '../../functions/core/dates.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { sentinel } from './cli-run.ts';
import { collectionsDataDir } from './collections-book.ts';

/**
 * Promises to pay from the command line (README "Collections"), on the small collections book: LATE
 * owes 1,200.00 EUR and promises it within ten days. Recorded once however often it is typed, on the
 * audit trail; refused with each bad field named; while it is pending the day's run leaves LATE
 * alone and says why.
 */
let dir: string;
let dataDir: string;
const today = dateInZone(new Date(), 'UTC');
const by = addDays(today, 10);

beforeAll(async () => {
  ({ dir, dataDir } = await collectionsDataDir('sentinel-cli-promises-'));
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  sentinel([...args, '--data-dir', dataDir], dir, { env: { SENTINEL_TIME_ZONE: 'UTC' } });

describe('sentinel collections promise', () => {
  it('records a promise once, on the audit trail, and the run holds the chase while it is pending', async () => {
    const args = [
      'collections',
      'promise',
      'LATE',
      '--amount',
      '1,200.00',
      '--by',
      by,
      '--recorded-by',
      'anna',
    ];
    const first = await cli(...args, '--note', 'the CFO signs on Friday');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const id = first.stdout.match(/PTP-\S+/)?.[0];
    expect(first.stdout.trim()).toBe(
      `recorded: ${id} for LATE, 1,200.00 EUR promised by ${by} (made ${today}): it counts until ${addDays(by, 3)}; the chase is held while it is pending`,
    );
    // Typed again (a retry): the same promise, not a second one.
    const again = await cli(...args, '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({
      recorded: false,
      promise: { promiseId: id, amount: '1200.00', currency: 'EUR', state: 'pending', paid: '0.00' },
    });

    const list = await cli('collections', 'promises', 'LATE');
    const row = list.stdout
      .split('\n')
      .find((l) => l.startsWith('PTP-'))
      ?.split(/\s{2,}/);
    expect(row).toEqual([id, today, by, '1,200.00 EUR', '0.00 EUR', 'pending', 'anna (call)']);

    // The day's run: everyone else chased, LATE held, and the worklist says why.
    const run = JSON.parse((await cli('collections', 'run', '--json')).stdout);
    expect(run.steps.map((s: { customerId: string }) => s.customerId).sort()).toEqual(['CN', 'OLD']);
    const list2 = JSON.parse((await cli('collections', '--json')).stdout);
    const late = list2.customers.find((c: { customerId: string }) => c.customerId === 'LATE');
    expect(late.why).toBe(
      `a promise to pay holds the chase (1,200.00 EUR promised by ${by} (made ${today}): it counts until ${addDays(by, 3)})`,
    );
    expect(late.next).toEqual({ level: 'final', on: addDays(by, 4) });

    // On the audit trail, once.
    const env = await openLocal({ dataDir });
    try {
      const trail = await new DynamoTransferStore({
        client: env.store.client,
        tableName: env.store.tableName,
      }).auditTrail();
      const recorded = trail.filter((r) => r.kind === 'promise.recorded');
      expect(recorded.map((r) => [r.subject, r.actor, (r.data as { promiseId: string }).promiseId])).toEqual([
        ['LATE', 'anna', id],
      ]);
    } finally {
      await env.close();
    }
    expect((await cli('audit', 'verify')).code).toBe(0);
  });

  it('broken, it takes 5 points off the score the credit file explains (issue 17 item 4)', async () => {
    // LATE's promise counts until by + 3 (pending, nothing off); nothing paid, it is broken the day after.
    const explain = async (asOf: string) => {
      const r = await cli('customer', 'LATE', '--explain', '--as-of', asOf, '--json');
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as {
        assessment: {
          score: number;
          factors: { factor: string; points: number; maxPoints: number; code: string; reason: string }[];
        };
        wouldAlert: { rule: string }[];
      };
    };
    const pending = await explain(addDays(by, 3));
    expect(pending.assessment.factors.find((f) => f.factor === 'brokenPromises')).toMatchObject({
      points: 0,
      maxPoints: 0,
      code: 'BROKEN_PROMISES_LE_0',
    });
    const broken = await explain(addDays(by, 4));
    expect(broken.assessment.factors.find((f) => f.factor === 'brokenPromises')).toEqual({
      factor: 'brokenPromises',
      value: 1,
      points: -5,
      maxPoints: 0,
      code: 'BROKEN_PROMISES_LE_1',
      detail: 'at most 1, 5 points taken off',
      reason: 'promises to pay broken or kept only in part 1: at most 1, 5 points taken off',
    });
    // The points available stay 100, so the score is the points earned less the 5.
    const sum = (k: 'points' | 'maxPoints') => broken.assessment.factors.reduce((n, f) => n + f[k], 0);
    expect(sum('maxPoints')).toBe(100);
    expect(broken.assessment.score).toBe(Math.max(0, sum('points')));
    expect(broken.wouldAlert.map((c) => c.rule)).toContain('brokenPromise');
  });

  it('refuses a promise in the past, for more than is open, or for a customer not on file, and records nothing', async () => {
    const bad = await cli(
      'collections',
      'promise',
      'CN',
      '--amount',
      '30000',
      '--by',
      '2020-01-01',
      '--recorded-by',
      'li',
    );
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim()).toBe(
      `sentinel: promise not recorded: --amount is more than the 26,700.00 CNY open and undisputed; --by is in the past (today is ${today})`,
    );
    const nobody = await cli(
      'collections',
      'promise',
      'NOPE',
      '--amount',
      '1',
      '--by',
      by,
      '--recorded-by',
      'li',
    );
    expect(nobody.code).toBe(1);
    expect(nobody.stderr.trim()).toBe('sentinel: no customer NOPE on file');
    const usage = await cli('collections', 'promise', 'CN', '--amount', '1');
    expect(usage.code).toBe(2);
    expect((await cli('collections', 'promises', 'CN')).stdout.trim()).toBe(
      `CN made no promise to pay by ${today}`,
    );
  });
});
