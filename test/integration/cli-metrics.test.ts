import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCollections } from '../../functions/collections/metrics.ts';
import type { CollectionsRunReport } from '../../functions/collections/run.ts';
import type { IngestRun } from '../../functions/ingest/ports.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { InboxObjectStore, OutboxNotifier } from '../../infra/local/runtime/files.ts';
import { InboxWatcher, localIngestHandler } from '../../infra/local/runtime/inbox.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { localMetrics } from '../../infra/local/runtime/metrics.ts';
import type { OpsSummary } from '../../infra/local/runtime/ops.ts';
import { sentinel } from './cli-run.ts';

let dir: string;
const dataDir = () => join(dir, 'data');
let runs: IngestRun[];

/**
 * `sentinel metrics` reads what the inbox's handler recorded in a data dir: uploads are ingested
 * here through the local ingest handler (as `sentinel start` does, on the same on-disk store), the
 * store is closed, and the CLI, in its own process, reports the figures.
 */
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-cli-metrics-'));
  const env = await openLocal({ dataDir: dataDir() });
  try {
    const root = join(dir, 'inbox');
    await InboxWatcher.prepare(root);
    await writeFile(
      join(root, 'invoices', 'march.csv'),
      [
        'invoice_id,customer_id,issue_date,due_date,amount,currency',
        'M1,ACME,2025-01-10,2025-02-09,"1,000.00",EUR',
        'M2,ACME,2025-02-01,2025-03-03,250.50,EUR',
        'M4,BOLT,2025-02-30,2025-03-31,5.00,EUR',
      ].join('\n'),
    );
    await writeFile(join(root, 'payments', 'empty.csv'), '');
    const inbox = new InboxObjectStore(root);
    const watcher = new InboxWatcher(
      inbox,
      localIngestHandler(env, inbox, new OutboxNotifier(dataDir()), 'UTC'),
    );
    await watcher.scan(false);
    runs = await new ReceivablesQueries(env.store).runs(10);
  } finally {
    await env.close();
  }
  // The collections function's records, as the local daily run writes them: a batch that sent two
  // reminders, then the day run again (a second start of the server), which sends nothing new and
  // counts the same promises and disputes.
  const collections = localMetrics(dataDir(), 'collections');
  const run = (claimant: string, byLevel: CollectionsRunReport['byLevel']): CollectionsRunReport => ({
    asOf: '2025-03-31',
    claimant,
    dryRun: false,
    customers: 2,
    steps: [],
    byLevel,
    failed: 0,
    figures: {
      promises: { kept: 1, partial: 0, broken: 2 },
      disputes: { open: 3, overdue: 1, oldestDays: 17 },
    },
  });
  for (const r of [run('start-1', { friendly: { email: 2 } }), run('start-2', {})]) {
    recordCollections(collections, r);
    collections.publishStoredMetrics();
  }
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('sentinel metrics', () => {
  it('--json: the ops summary of the data dir, as /api/ops gives it', async () => {
    expect(runs.map((r) => r.status).sort()).toEqual(['processed', 'unreadable']);
    const r = await sentinel(['metrics', '--json', '--data-dir', dataDir()], dir);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as OpsSummary;
    expect(s.ingest).toMatchObject({
      filesProcessed: 1,
      filesUnreadable: 1,
      rowsIngested: 2,
      rowsRejected: 1 + 1, // M4's date, and the empty file (whole, line 0)
      rejectRatio: 0.5,
    });
    expect(s.ingest.latencyMs.count).toBe(2);
    expect(s.days.at(-1)).toMatchObject({ rowsIngested: 2, rowsRejected: 2 });
    expect(s.metricsFile).toBe(join(dataDir(), 'metrics.jsonl'));
    // Live figures from the store; the inbox's failing files are known to a running server only.
    expect(s.deadLetter).toMatchObject({ unreadableRuns: 1, runsChecked: 2, inboxFailing: null });
    expect(s.deadLetter.latestUnreadable[0]?.file).toBe('payments/empty.csv');
    expect(s.alerts.open).toBe(0);
    expect(s.transfers).toMatchObject({ requested: 0, approvalsPending: 0, oldestPendingSeconds: null });
    expect(s.reviews).toMatchObject({ run: 0, failed: 0, durationSeconds: { count: 0 } });
    // The day's figures once, though two runs of the day recorded them.
    expect(s.collections).toMatchObject({
      sent: 2,
      promises: { kept: 1, partial: 0, broken: 2, days: 1 },
      disputes: { asOf: '2025-03-31', open: 3, overdue: 1, oldestDays: 17 },
    });
  });

  it('in words, and refuses arguments', async () => {
    const r = await sentinel(['metrics', '--data-dir', dataDir()], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('rows             2 ingested, 2 rejected (reject ratio 50.0%)');
    expect(r.stdout).toContain('dead letters     1 unreadable of the latest 2 runs');
    expect(r.stdout).toMatch(/Reviews\n {2}none yet/);
    expect(r.stdout).toContain('steps taken      2: friendly 2; by email 2; 0 not delivered');
    expect(r.stdout).toContain('promises         kept 1, partial 0, broken 2 (over 1 day counted)');
    expect(r.stdout).toContain('disputes open    3 as of 2025-03-31, the oldest 17 days; 1 answer overdue');
    const bad = await sentinel(['metrics', 'now', '--data-dir', dataDir()], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('metrics takes no arguments');
  });
});
