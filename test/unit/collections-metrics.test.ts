import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCollections } from '../../functions/collections/metrics.ts';
import type { CollectionsRunReport } from '../../functions/collections/run.ts';
import { localMetrics, readLocalMetrics } from '../../infra/local/runtime/metrics.ts';

/** The collections metrics as the collections function publishes them (the same EMF records locally). */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'collections-metrics-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const report = (over: Partial<CollectionsRunReport>): CollectionsRunReport => ({
  asOf: '2026-03-31',
  claimant: 'run-1',
  dryRun: false,
  customers: 5,
  steps: [],
  byLevel: { friendly: { email: 2, phone: 1 }, final: { email: 1 } },
  failed: 1,
  ...over,
});

describe('recordCollections', () => {
  it('counts the steps sent by level and channel, each pair on its own record, and the failed ones', async () => {
    const d = join(dir, 'sent');
    const m = localMetrics(d, 'collections');
    recordCollections(m, report({}));
    m.publishStoredMetrics();
    const points = (await readLocalMetrics(d)).map((p) => [p.name, p.value, p.dimensions]);
    expect(points).toEqual(
      expect.arrayContaining([
        ['RemindersSent', 2, { service: 'collections', level: 'friendly', channel: 'email' }],
        ['RemindersSent', 1, { service: 'collections', level: 'friendly', channel: 'phone' }],
        ['RemindersSent', 1, { service: 'collections', level: 'final', channel: 'email' }],
        ['RemindersFailed', 1, { service: 'collections' }],
      ]),
    );
    expect(points).toHaveLength(4);
  });

  it('counts nothing for a dry run (nothing was sent)', async () => {
    const d = join(dir, 'dry');
    const m = localMetrics(d, 'collections');
    recordCollections(m, report({ dryRun: true }));
    m.publishStoredMetrics();
    expect(await readLocalMetrics(d)).toEqual([]);
  });
});
