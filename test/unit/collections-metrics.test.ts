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

describe("recordCollections: the day's figures", () => {
  const figures = {
    promises: { kept: 2, partial: 1, broken: 3 },
    disputes: { open: 4, overdue: 1, oldestDays: 34 },
  };
  const DAY = [
    ['PromisesKept', 2],
    ['PromisesPartial', 1],
    ['PromisesBroken', 3],
    ['DisputesOpen', 4],
    ['DisputeAnswersOverdue', 1],
    ['OldestDisputeDays', 34],
  ];
  const dayPoints = async (d: string) =>
    (await readLocalMetrics(d)).filter((p) => DAY.some(([n]) => n === p.name)).map((p) => [p.name, p.value]);

  it("emits them from a batch that did all its steps, with the run's id and day as metadata, not dimensions", async () => {
    const d = join(dir, 'figures');
    const m = localMetrics(d, 'collections');
    recordCollections(m, report({ failed: 0, figures }));
    m.publishStoredMetrics();
    const points = await readLocalMetrics(d);
    expect(await dayPoints(d)).toEqual(DAY);
    for (const p of points.filter((x) => DAY.some(([n]) => n === x.name))) {
      expect(p.dimensions).toEqual({ service: 'collections' });
      expect(p.metadata).toEqual({ runId: 'run-1', asOf: '2026-03-31' });
    }
    // The steps' single-metric records carry none (their dimensions stay their own).
    expect(points.find((p) => p.name === 'RemindersSent')?.metadata).toBeUndefined();
  });

  it('emits none from a batch whose send failed: its retry emits them, once', async () => {
    const d = join(dir, 'figures-failed');
    const m = localMetrics(d, 'collections');
    recordCollections(m, report({ failed: 1, figures }));
    m.publishStoredMetrics();
    expect(await dayPoints(d)).toEqual([]);
    recordCollections(m, report({ failed: 0, byLevel: {}, figures }));
    m.publishStoredMetrics();
    expect(await dayPoints(d)).toEqual(DAY);
  });

  it('emits them from a dry run too (they describe the books, not what was sent), and none without a plan', async () => {
    const d = join(dir, 'figures-dry');
    const m = localMetrics(d, 'collections');
    recordCollections(m, report({ dryRun: true, failed: 0, figures }));
    m.publishStoredMetrics();
    expect((await readLocalMetrics(d)).map((p) => [p.name, p.value])).toEqual(DAY);
    const none = join(dir, 'figures-none');
    const n = localMetrics(none, 'collections');
    recordCollections(n, report({ dryRun: true, failed: 0 }));
    n.publishStoredMetrics();
    expect(await readLocalMetrics(none)).toEqual([]);
  });
});
