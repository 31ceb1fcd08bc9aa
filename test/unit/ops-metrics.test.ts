import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsPage } from '../../infra/local/console/ops.ts';
import {
  type Datapoint,
  localMetrics,
  metricsFile,
  readLocalMetrics,
} from '../../infra/local/runtime/metrics.ts';
import { percentile, rejectRatio, summarize } from '../../infra/local/runtime/ops.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-metrics-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('local metrics: Powertools EMF records in <dataDir>/metrics.jsonl', () => {
  it('writes one EMF record per publish, and a single metric with its own dimension on its own line', async () => {
    const d = join(dir, 'write');
    const m = localMetrics(d, 'evaluate');
    m.addMetric('CustomersEvaluated', MetricUnit.Count, 3);
    m.addMetric('EvaluationLatency', MetricUnit.Milliseconds, 120);
    m.singleMetric().addDimension('severity', 'high').addMetric('AlertsRaised', MetricUnit.Count, 2);
    m.publishStoredMetrics();
    m.publishStoredMetrics(); // nothing stored: no empty record

    const lines = (await readFile(metricsFile(d), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    const single = JSON.parse(lines[0] as string);
    expect(single._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'CreditSentinel',
        Dimensions: [['service', 'severity']],
        Metrics: [{ Name: 'AlertsRaised', Unit: 'Count' }],
      },
    ]);
    expect(single).toMatchObject({ service: 'evaluate', severity: 'high', AlertsRaised: 2 });
    const buffered = JSON.parse(lines[1] as string);
    expect(buffered.severity).toBeUndefined(); // the single metric's dimension did not leak
    expect(buffered).toMatchObject({ service: 'evaluate', CustomersEvaluated: 3, EvaluationLatency: 120 });

    const points = await readLocalMetrics(d);
    expect(points.map((p) => [p.name, p.unit, p.value, p.dimensions])).toEqual([
      ['AlertsRaised', 'Count', 2, { service: 'evaluate', severity: 'high' }],
      ['CustomersEvaluated', 'Count', 3, { service: 'evaluate' }],
      ['EvaluationLatency', 'Milliseconds', 120, { service: 'evaluate' }],
    ]);
  });

  it('an eager instance writes each metric as it comes', async () => {
    const d = join(dir, 'eager');
    const m = localMetrics(d, 'transfers', { eager: true });
    m.addMetric('TransfersRequested', MetricUnit.Count, 1);
    expect((await readLocalMetrics(d)).map((p) => p.name)).toEqual(['TransfersRequested']);
    m.addMetric('DecisionLatency', MetricUnit.Seconds, 42);
    expect((await readLocalMetrics(d)).map((p) => [p.name, p.value])).toEqual([
      ['TransfersRequested', 1],
      ['DecisionLatency', 42],
    ]);
  });

  it('tolerates a torn last line (a writer mid-line or a crash), and reads multi-value metrics', async () => {
    const d = join(dir, 'torn');
    const m = localMetrics(d, 'ingest');
    m.addMetric('IngestLatency', MetricUnit.Milliseconds, 10);
    m.addMetric('IngestLatency', MetricUnit.Milliseconds, 30); // Powertools keeps both: [10, 30]
    m.publishStoredMetrics();
    await appendFile(metricsFile(d), '{"_aws":{"Timestamp":17000,"CloudWatchMetrics":[{"Namesp');
    const points = await readLocalMetrics(d);
    expect(points.map((p) => p.value)).toEqual([10, 30]);
    // The next record starts on a line of its own: the torn one is still skipped, the new one read.
    m.addMetric('RowsIngested', MetricUnit.Count, 5);
    m.publishStoredMetrics();
    expect((await readLocalMetrics(d)).map((p) => [p.name, p.value])).toEqual([
      ['IngestLatency', 10],
      ['IngestLatency', 30],
      ['RowsIngested', 5],
    ]);
    expect((await readFile(metricsFile(d), 'utf8')).split('\n')).toHaveLength(4); // 3 lines and the final newline
  });

  it('no file yet: no datapoints; `since` keeps the later ones', async () => {
    expect(await readLocalMetrics(join(dir, 'none'))).toEqual([]);
    const d = join(dir, 'since');
    const m = localMetrics(d, 'ingest');
    m.setTimestamp(Date.now() - 3_600_000);
    m.addMetric('RowsIngested', MetricUnit.Count, 1);
    m.publishStoredMetrics();
    m.addMetric('RowsIngested', MetricUnit.Count, 2);
    m.publishStoredMetrics();
    const recent = await readLocalMetrics(d, { since: new Date(Date.now() - 60_000) });
    expect(recent.map((p) => p.value)).toEqual([2]);
  });
});

describe('the ops figures', () => {
  it('percentiles by nearest rank, worked by hand', () => {
    const v = [120, 15, 40, 300, 75, 60, 90, 20, 45, 1000];
    // sorted: 15 20 40 45 60 75 90 120 300 1000 (n = 10)
    // p50: rank ceil(0.5 * 10) = 5 -> 60; p95: rank ceil(9.5) = 10 -> 1000; p90: rank 9 -> 300
    expect(percentile(v, 50)).toBe(60);
    expect(percentile(v, 95)).toBe(1000);
    expect(percentile(v, 90)).toBe(300);
    // n = 3: p50 rank ceil(1.5) = 2; p95 rank ceil(2.85) = 3
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([3, 1, 2], 95)).toBe(3);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('reject ratio: refused rows over rows read', () => {
    expect(rejectRatio(90, 10)).toBe(0.1);
    expect(rejectRatio(0, 0)).toBeNull();
    expect(rejectRatio(0, 4)).toBe(1);
  });

  it('totals, per-day series in the time zone, dimensions, and live figures', () => {
    const at = (iso: string) => Date.parse(iso);
    const p = (iso: string, name: string, value: number, dims: Record<string, string> = {}): Datapoint => ({
      timestamp: at(iso),
      name,
      unit: 'Count',
      value,
      dimensions: { service: 'x', ...dims },
    });
    const points: Datapoint[] = [
      // 2025-06-29 22:30 UTC is 2025-06-30 00:30 in Amsterdam (CEST, UTC+2): a 06-30 datapoint.
      p('2025-06-29T22:30:00Z', 'RowsIngested', 900),
      p('2025-06-29T22:30:00Z', 'RowsRejected', 100),
      p('2025-06-29T22:30:00Z', 'IngestLatency', 200),
      p('2025-06-29T21:30:00Z', 'RowsIngested', 50), // 06-29 23:30 local
      p('2025-07-01T08:00:00Z', 'RowsIngested', 300),
      p('2025-07-01T08:00:00Z', 'IngestLatency', 100),
      p('2025-07-01T09:00:00Z', 'IngestLatency', 400),
      p('2025-07-01T09:00:00Z', 'IngestLatency', 300),
      p('2025-07-01T09:00:00Z', 'FilesProcessed', 3),
      p('2025-07-01T09:00:00Z', 'FilesUnreadable', 1),
      // Older than the 3-day window: in the totals, not in the series.
      p('2025-06-01T09:00:00Z', 'RowsIngested', 7),
      p('2025-07-01T09:00:00Z', 'AlertsRaised', 2, { severity: 'high' }),
      p('2025-07-01T09:00:00Z', 'AlertsRaised', 1, { severity: 'critical' }),
      p('2025-07-01T09:00:00Z', 'AlertsRaised', 0, { severity: 'info' }),
      p('2025-06-30T09:00:00Z', 'AlertsRaised', 4, { severity: 'high' }),
      p('2025-06-30T09:00:00Z', 'OpenAlerts', 9),
      p('2025-07-01T09:00:00Z', 'OpenAlerts', 6),
      p('2025-07-01T09:00:00Z', 'EvaluationLatency', 80),
      p('2025-07-01T09:00:00Z', 'TransfersRequested', 1),
      p('2025-07-01T09:00:00Z', 'TransfersDecided', 1, { outcome: 'approved' }),
      p('2025-07-01T09:05:00Z', 'TransfersDecided', 1, { outcome: 'rejected' }),
      p('2025-07-01T09:05:00Z', 'TransfersDecided', 1, { outcome: 'approved' }),
      p('2025-07-01T09:06:00Z', 'TransfersFailed', 1),
      p('2025-07-01T09:00:00Z', 'DecisionLatency', 60),
      p('2025-07-01T09:05:00Z', 'DecisionLatency', 3600),
    ];
    const s = summarize(
      points,
      {
        activeAlerts: 5,
        pendingApprovals: [{ notifiedAt: '2025-07-01T10:00:00Z' }, { notifiedAt: '2025-07-01T06:00:00Z' }],
        runs: [
          { runId: 'r2', file: 'x.pdf', status: 'unreadable', reason: 'a PDF', startedAt: 't2' },
          { runId: 'r1', file: 'a.csv', status: 'processed', startedAt: 't1' },
        ] as never,
      },
      { now: new Date('2025-07-01T12:00:00Z'), timeZone: 'Europe/Amsterdam', days: 3 },
    );
    expect(s.ingest).toEqual({
      filesProcessed: 3,
      filesUnreadable: 1,
      rowsIngested: 900 + 50 + 300 + 7,
      rowsRejected: 100,
      rejectRatio: 100 / 1357,
      // sorted 100 200 300 400: p50 rank 2 -> 200; p95 rank ceil(3.8) = 4 -> 400
      latencyMs: { count: 4, p50: 200, p95: 400 },
    });
    expect(s.days).toEqual([
      { day: '2025-06-29', rowsIngested: 50, rowsRejected: 0, rejectRatio: 0, alertsRaised: 0 },
      { day: '2025-06-30', rowsIngested: 900, rowsRejected: 100, rejectRatio: 0.1, alertsRaised: 4 },
      { day: '2025-07-01', rowsIngested: 300, rowsRejected: 0, rejectRatio: 0, alertsRaised: 3 },
    ]);
    expect(s.alerts).toMatchObject({
      raisedBySeverity: { info: 0, warning: 0, high: 6, critical: 1 },
      raised: 7,
      open: 5,
      openAtLastRun: 6, // the latest OpenAlerts
      evaluations: 1,
      evaluationLatencyMs: { count: 1, p50: 80, p95: 80 },
    });
    expect(s.transfers).toEqual({
      requested: 1,
      decidedByOutcome: { approved: 2, rejected: 1, recalled: 0, expired: 0 },
      failed: 1,
      // two values, 60 and 3600: p50 rank 1 -> 60; p95 rank 2 -> 3600
      decisionLatencySeconds: { count: 2, p50: 60, p95: 3600 },
      approvalsPending: 2,
      oldestPendingSeconds: 6 * 3600, // notified 06:00, now 12:00
    });
    // The Ops page says how many failed, with the way to them.
    const page = opsPage(s).toString();
    expect(page).toContain('id="transfers-failed"');
    expect(page).toContain('href="/transfers?status=failed"');
    expect(s.reviews).toEqual({
      run: 0,
      failed: 0,
      durationSeconds: { count: 0, p50: null, p95: null },
      limitChanges: { cut: 0, raise: 0, approval: 0 },
    });
    expect(s.deadLetter).toEqual({
      inboxFailing: null,
      unreadableRuns: 1,
      runsChecked: 2,
      latestUnreadable: [{ runId: 'r2', file: 'x.pdf', reason: 'a PDF', startedAt: 't2' }],
    });
    expect(s.since).toBe('2025-06-01T09:00:00.000Z');
  });

  it('collections: steps taken by level and by channel, and those not delivered, on the page', () => {
    const p = (name: string, value: number, dims: Record<string, string> = {}): Datapoint => ({
      timestamp: Date.parse('2025-07-01T05:10:00Z'),
      name,
      unit: 'Count',
      value,
      dimensions: { service: 'collections', ...dims },
    });
    const s = summarize(
      [
        p('RemindersSent', 3, { level: 'friendly', channel: 'email' }),
        p('RemindersSent', 1, { level: 'final', channel: 'email' }),
        p('RemindersSent', 2, { level: 'final', channel: 'phone' }),
        p('RemindersSent', 1, { level: 'courtesy-call', channel: 'phone' }), // a level of another policy
        p('RemindersFailed', 1),
        p('RemindersFailed', 0),
      ],
      {},
      { now: new Date('2025-07-01T12:00:00Z'), timeZone: 'UTC' },
    );
    expect(s.collections).toEqual({
      sent: 7,
      byLevel: { friendly: 3, firm: 0, final: 3, hold: 0, legal: 0, 'courtesy-call': 1 },
      byChannel: { email: 4, phone: 3, visit: 0, slack: 0 },
      failed: 1,
      promises: null,
      disputes: null,
    });
    const page = opsPage(s).toString();
    expect(page).toContain('friendly 3, final 3, courtesy-call 1');
    expect(page).toContain('email 4, phone 3');
    expect(page).toContain('1: the next run takes them');
    const none = opsPage(
      summarize([], {}, { now: new Date('2025-07-01T12:00:00Z'), timeZone: 'UTC' }),
    ).toString();
    expect(none).toContain('No collection step taken yet.');
    expect(none).not.toContain('id="collections-promises"');
  });

  it("collections: each day's figures from its latest run only, its batches added up (the oldest: their maximum)", () => {
    const p = (iso: string, runId: string, asOf: string, figures: Record<string, number>): Datapoint[] =>
      Object.entries(figures).map(([name, value]) => ({
        timestamp: Date.parse(iso),
        name,
        unit: 'Count',
        value,
        dimensions: { service: 'collections' },
        metadata: { runId, asOf },
      }));
    const points = [
      // 06-30, the run at start, in two batches.
      ...p('2025-06-30T06:00:00Z', 'start-1', '2025-06-30', {
        PromisesKept: 1,
        PromisesBroken: 1,
        DisputesOpen: 2,
        DisputeAnswersOverdue: 1,
        OldestDisputeDays: 10,
      }),
      ...p('2025-06-30T06:00:01Z', 'start-1', '2025-06-30', {
        PromisesKept: 2,
        DisputesOpen: 1,
        OldestDisputeDays: 12,
      }),
      // 06-30 again (the server started a second time), a payment booked since: the later run counts.
      ...p('2025-06-30T09:00:00Z', 'start-2', '2025-06-30', {
        PromisesKept: 4,
        PromisesBroken: 1,
        DisputesOpen: 3,
        DisputeAnswersOverdue: 1,
        OldestDisputeDays: 12,
      }),
      // 07-01, the daily run, in two batches.
      ...p('2025-07-01T05:00:00Z', 'daily-1', '2025-07-01', {
        PromisesPartial: 1,
        DisputesOpen: 1,
        DisputeAnswersOverdue: 1,
        OldestDisputeDays: 13,
      }),
      ...p('2025-07-01T05:00:02Z', 'daily-1', '2025-07-01', { DisputesOpen: 1, OldestDisputeDays: 3 }),
    ];
    const s = summarize(points, {}, { now: new Date('2025-07-01T12:00:00Z'), timeZone: 'UTC' });
    expect(s.collections.promises).toEqual({ kept: 4, partial: 1, broken: 1, days: 2 });
    expect(s.collections.disputes).toEqual({ asOf: '2025-07-01', open: 2, overdue: 1, oldestDays: 13 });
    // Summed as they come, the start's second run would have counted the kept promises of 06-30 twice.
    expect(points.filter((x) => x.name === 'PromisesKept').reduce((n, x) => n + x.value, 0)).toBe(7);
    const page = opsPage(s).toString();
    expect(page).toContain('No collection step taken yet.');
    expect(page).toContain('kept 4, partial 1, broken 1');
    expect(page).toContain('(over 2 days counted)');
    expect(page).toContain('2, the oldest 13 days');
    expect(page).toContain('(as of 2025-07-01)');
    expect(page).toContain('1: past the answer date');
    // A record without the run's metadata is a run of its own, on its day.
    const bare = summarize(
      points.map(({ metadata: _, ...x }) => x),
      {},
      { now: new Date('2025-07-01T12:00:00Z'), timeZone: 'UTC' },
    );
    expect(bare.collections.disputes).toEqual({ asOf: '2025-07-01', open: 1, overdue: 0, oldestDays: 3 });
  });

  it('nothing recorded and nothing asked: zeros and nulls, never NaN', () => {
    const s = summarize([], {}, { now: new Date('2025-07-01T12:00:00Z'), timeZone: 'UTC' });
    expect(s.days).toHaveLength(14);
    expect(s.days.at(-1)?.day).toBe('2025-07-01');
    expect(s.ingest.rejectRatio).toBeNull();
    expect(s.ingest.latencyMs).toEqual({ count: 0, p50: null, p95: null });
    expect(s.alerts.open).toBeNull();
    expect(s.transfers.approvalsPending).toBeNull();
    expect(s.transfers.oldestPendingSeconds).toBeNull();
    expect(s.since).toBeNull();
    expect(JSON.stringify(s)).not.toContain('NaN');
  });
});
