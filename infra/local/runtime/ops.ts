import { addDays, dateInZone, type IsoDate } from '../../../functions/core/dates.ts';
import { METRICS, type MetricName } from '../../../functions/core/metrics.ts';
import type { IngestRun } from '../../../functions/ingest/ports.ts';
import type { Approval } from '../../../functions/transfers/ports.ts';
import { type Datapoint, metricsFile, readLocalMetrics } from './metrics.ts';

/**
 * The figures of the local ops page and `sentinel metrics`: the metrics the local handlers wrote
 * to `<dataDir>/metrics.jsonl` (the same EMF records CloudWatch gets on AWS), summed and
 * percentiled, plus what only the store knows now (open alerts, approvals waiting, unreadable
 * uploads). Local stand-in for the CloudWatch dashboard.
 */

/** The values a dimension of the catalogue takes (functions/core/metrics.ts). */
function dimensionValues(metric: MetricName, dimension: string): readonly string[] {
  const spec = METRICS.find((m) => m.name === metric);
  const dims = spec && 'dimensions' in spec ? (spec.dimensions as Record<string, readonly string[]>) : {};
  return dims[dimension] ?? [];
}

export const SEVERITY_VALUES = dimensionValues('AlertsRaised', 'severity');
export const OUTCOME_VALUES = dimensionValues('TransfersDecided', 'outcome');
export const LIMIT_CHANGE_VALUES = dimensionValues('LimitChanges', 'change');
export const REMINDER_LEVELS = dimensionValues('RemindersSent', 'level');
export const REMINDER_CHANNELS = dimensionValues('RemindersSent', 'channel');

export interface Percentiles {
  /** How many values there were. */
  readonly count: number;
  /** null when there is none. */
  readonly p50: number | null;
  readonly p95: number | null;
}

export interface OpsDay {
  /** The day in the team's time zone. */
  readonly day: IsoDate;
  readonly rowsIngested: number;
  readonly rowsRejected: number;
  /** rejected / (ingested + rejected); null on a day without rows. */
  readonly rejectRatio: number | null;
  readonly alertsRaised: number;
}

export interface InboxFailure {
  readonly file: string;
  readonly at: string;
  readonly reason: string;
}

export interface OpsSummary {
  /** ISO instant the summary was made. */
  readonly generatedAt: string;
  readonly timeZone: string;
  /** The file the metrics were read from. */
  readonly metricsFile: string;
  /** ISO instant of the oldest datapoint; null when nothing was recorded yet. */
  readonly since: string | null;
  readonly ingest: {
    readonly filesProcessed: number;
    readonly filesUnreadable: number;
    readonly rowsIngested: number;
    readonly rowsRejected: number;
    /** rejected / (ingested + rejected); null before any row. */
    readonly rejectRatio: number | null;
    /** One upload, read to stored (IngestLatency). */
    readonly latencyMs: Percentiles;
  };
  /** The last `days` days, oldest first, today included (days without data are zero). */
  readonly days: readonly OpsDay[];
  readonly alerts: {
    readonly evaluations: number;
    readonly evaluationsFailed: number;
    readonly customersEvaluated: number;
    /** Alerts opened or escalated, by the severity raised to. */
    readonly raisedBySeverity: Readonly<Record<string, number>>;
    readonly raised: number;
    readonly resolved: number;
    /** Active alerts in the store now; null when the store was not asked. */
    readonly open: number | null;
    /** What the last evaluation run reported (OpenAlerts); null before any run. */
    readonly openAtLastRun: number | null;
    readonly evaluationLatencyMs: Percentiles;
    readonly digestsSent: number;
    readonly digestsFailed: number;
  };
  readonly transfers: {
    readonly requested: number;
    readonly decidedByOutcome: Readonly<Record<string, number>>;
    /** Transfers whose workflow failed after its retries (TransfersFailed; alarmed on AWS). */
    readonly failed: number;
    /** An approver asked to the approver answering (DecisionLatency). */
    readonly decisionLatencySeconds: Percentiles;
    /** Approvals waiting for an answer now; null when the store was not asked. */
    readonly approvalsPending: number | null;
    /** How long the oldest of them has waited; null when none waits (or not asked). */
    readonly oldestPendingSeconds: number | null;
  };
  readonly reviews: {
    readonly run: number;
    readonly failed: number;
    readonly durationSeconds: Percentiles;
    readonly limitChanges: Readonly<Record<string, number>>;
  };
  /**
   * The collections runs' steps (RemindersSent, RemindersFailed) and the day's figures (promises,
   * disputes: each day's latest run, see `collectionsFigures`).
   */
  readonly collections: {
    readonly sent: number;
    /** Steps taken by level (the shipped plan's levels, and any other a policy names). */
    readonly byLevel: Readonly<Record<string, number>>;
    /** Steps taken by channel. */
    readonly byChannel: Readonly<Record<string, number>>;
    /** Steps not delivered (given back; the retry or the next run takes them). */
    readonly failed: number;
    /**
     * Promises to pay whose rating became final on the days a run counted, over those `days`
     * (PromisesKept, PromisesPartial, PromisesBroken); null before any run counted one.
     */
    readonly promises: {
      readonly kept: number;
      readonly partial: number;
      readonly broken: number;
      readonly days: number;
    } | null;
    /**
     * Disputes open as of the latest day a run counted (DisputesOpen, DisputeAnswersOverdue,
     * OldestDisputeDays); null before any run counted them.
     */
    readonly disputes: {
      readonly asOf: IsoDate;
      readonly open: number;
      readonly overdue: number;
      /** Days the oldest open one has been open (0 when none is). */
      readonly oldestDays: number;
    } | null;
  };
  /**
   * The local counterpart of the ingest dead-letter queue. On AWS a message goes to the DLQ when
   * the handler fails it three times; a file that cannot be read does not (it is stored as an
   * `unreadable` run with its reason). Locally the inbox retries a failing file at every scan, so
   * `inboxFailing` lists those files (known to the running server only: null elsewhere), and
   * `unreadableRuns` counts the uploads rejected whole, the ones someone has to fix and upload again.
   */
  readonly deadLetter: {
    readonly inboxFailing: readonly InboxFailure[] | null;
    /** Among the latest `runsChecked` runs; null when the store was not asked. */
    readonly unreadableRuns: number | null;
    readonly runsChecked: number;
    /** The latest few, newest first. */
    readonly latestUnreadable: readonly Pick<IngestRun, 'runId' | 'file' | 'reason' | 'startedAt'>[];
  };
}

/**
 * The p-th percentile by the nearest-rank method: the smallest value with at least p% of the
 * values at or below it (sorted ascending, the value at rank ceil(p/100 * n), 1-based). Always one
 * of the values, no interpolation, as CloudWatch's percentile statistics are read. null when empty.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

function percentiles(values: readonly number[]): Percentiles {
  return { count: values.length, p50: percentile(values, 50), p95: percentile(values, 95) };
}

/** 950 -> "950 ms", 1500 -> "1.5 s" (display). */
export function durationMs(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 1000 ? `${Math.round(ms)} ms` : durationSeconds(ms / 1000);
}

/** 42 -> "42 s", 600 -> "10.0 min", 7200 -> "2.0 h", 259200 -> "3.0 d" (display). */
export function durationSeconds(s: number | null): string {
  if (s === null) return '-';
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  if (s < 86_400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

/** `friendly 3, final 1`: the counts that are not zero, in the catalogue's order ("-" when none). */
export const nonZero = (by: Readonly<Record<string, number>>): string =>
  Object.entries(by)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`)
    .join(', ') || '-';

const PROMISE_FIGURES = ['PromisesKept', 'PromisesPartial', 'PromisesBroken'] as const;
const DISPUTE_FIGURES = ['DisputesOpen', 'DisputeAnswersOverdue', 'OldestDisputeDays'] as const;
const DAY_FIGURES: ReadonlySet<string> = new Set<string>([...PROMISE_FIGURES, ...DISPUTE_FIGURES]);

/**
 * The collections figures of the days: each run of a day emits the same (a function of the books
 * and the day), and `sentinel start` runs the day at every start as well as at 05:00, so a sum of
 * every record would count a day once per run. Per day (the record's `asOf`), the latest run (its
 * `runId`) only, its batches added up (the oldest dispute: their maximum), as the dashboard adds up
 * the batches of the one run a day on AWS. Promises are summed over those days; disputes are the
 * latest day's. A record without the metadata counts as a run of its own, on its timestamp's day.
 */
export function collectionsFigures(
  points: readonly Datapoint[],
  timeZone: string,
): Pick<OpsSummary['collections'], 'promises' | 'disputes'> {
  const runs = new Map<string, { asOf: IsoDate; at: number; sums: Map<string, number> }>();
  for (const p of points) {
    if (!DAY_FIGURES.has(p.name)) continue;
    const asOf = p.metadata?.asOf ?? dateInZone(new Date(p.timestamp), timeZone);
    const key = `${asOf}\u0000${p.metadata?.runId ?? `@${p.timestamp}`}`;
    const run = runs.get(key) ?? { asOf, at: p.timestamp, sums: new Map<string, number>() };
    run.at = Math.max(run.at, p.timestamp);
    const was = run.sums.get(p.name);
    run.sums.set(p.name, p.name === 'OldestDisputeDays' ? Math.max(was ?? 0, p.value) : (was ?? 0) + p.value);
    runs.set(key, run);
  }
  const latest = new Map<IsoDate, { at: number; sums: Map<string, number> }>();
  for (const r of runs.values()) {
    const seen = latest.get(r.asOf);
    if (!seen || r.at >= seen.at) latest.set(r.asOf, r);
  }
  if (latest.size === 0) return { promises: null, disputes: null };
  const days = [...latest.keys()].sort();
  const total = (name: string) => days.reduce((n, d) => n + (latest.get(d)?.sums.get(name) ?? 0), 0);
  const lastDay = days.at(-1) as IsoDate;
  const last = latest.get(lastDay)?.sums ?? new Map<string, number>();
  return {
    promises: {
      kept: total('PromisesKept'),
      partial: total('PromisesPartial'),
      broken: total('PromisesBroken'),
      days: days.length,
    },
    disputes: {
      asOf: lastDay,
      open: last.get('DisputesOpen') ?? 0,
      overdue: last.get('DisputeAnswersOverdue') ?? 0,
      oldestDays: last.get('OldestDisputeDays') ?? 0,
    },
  };
}

/** rejected / (ingested + rejected), null when both are zero. */
export function rejectRatio(ingested: number, rejected: number): number | null {
  const read = ingested + rejected;
  return read === 0 ? null : rejected / read;
}

/** What is read from the store at the time of the summary; each is optional. */
export interface LiveFigures {
  readonly activeAlerts?: number;
  /** The pending approvals (their `notifiedAt` gives the oldest's age). */
  readonly pendingApprovals?: readonly Pick<Approval, 'notifiedAt'>[];
  /** The latest ingest runs, newest first. */
  readonly runs?: readonly IngestRun[];
  readonly inboxFailing?: readonly InboxFailure[];
}

export interface SummaryOptions {
  readonly now: Date;
  readonly timeZone: string;
  /** @default 14 */
  readonly days?: number;
  readonly metricsFile?: string;
}

const LATEST_UNREADABLE = 10;

/** The ops figures of some datapoints and live figures (pure: the unit tests work it by hand). */
export function summarize(points: readonly Datapoint[], live: LiveFigures, o: SummaryOptions): OpsSummary {
  const of = (name: MetricName) => points.filter((p) => p.name === name);
  const sum = (name: MetricName) => of(name).reduce((s, p) => s + p.value, 0);
  const values = (name: MetricName) => of(name).map((p) => p.value);
  const byDimension = (name: MetricName, dimension: string, known: readonly string[]) => {
    const out: Record<string, number> = Object.fromEntries(known.map((v) => [v, 0]));
    for (const p of of(name)) {
      const v = p.dimensions[dimension];
      if (v !== undefined) out[v] = (out[v] ?? 0) + p.value;
    }
    return out;
  };
  const last = (name: MetricName) => {
    const all = of(name);
    let best: Datapoint | undefined;
    for (const p of all) if (!best || p.timestamp >= best.timestamp) best = p;
    return best?.value ?? null;
  };

  const today = dateInZone(o.now, o.timeZone);
  const n = Math.max(1, o.days ?? 14);
  const first = addDays(today, -(n - 1));
  const days = new Map<IsoDate, { rowsIngested: number; rowsRejected: number; alertsRaised: number }>();
  for (let i = 0; i < n; i++)
    days.set(addDays(first, i), { rowsIngested: 0, rowsRejected: 0, alertsRaised: 0 });
  for (const p of points) {
    const d = days.get(dateInZone(new Date(p.timestamp), o.timeZone));
    if (!d) continue;
    if (p.name === 'RowsIngested') d.rowsIngested += p.value;
    else if (p.name === 'RowsRejected') d.rowsRejected += p.value;
    else if (p.name === 'AlertsRaised') d.alertsRaised += p.value;
  }

  const rowsIngested = sum('RowsIngested');
  const rowsRejected = sum('RowsRejected');
  const raisedBySeverity = byDimension('AlertsRaised', 'severity', SEVERITY_VALUES);
  const pending = live.pendingApprovals;
  const oldest = pending?.reduce<number | undefined>((min, a) => {
    const t = Date.parse(a.notifiedAt);
    return Number.isNaN(t) ? min : min === undefined ? t : Math.min(min, t);
  }, undefined);
  const unreadable = live.runs?.filter((r) => r.status === 'unreadable');
  const since = points.reduce<number | undefined>(
    (min, p) => (min === undefined ? p.timestamp : Math.min(min, p.timestamp)),
    undefined,
  );

  return {
    generatedAt: o.now.toISOString(),
    timeZone: o.timeZone,
    metricsFile: o.metricsFile ?? '',
    since: since === undefined ? null : new Date(since).toISOString(),
    ingest: {
      filesProcessed: sum('FilesProcessed'),
      filesUnreadable: sum('FilesUnreadable'),
      rowsIngested,
      rowsRejected,
      rejectRatio: rejectRatio(rowsIngested, rowsRejected),
      latencyMs: percentiles(values('IngestLatency')),
    },
    days: [...days].map(([day, d]) => ({
      day,
      ...d,
      rejectRatio: rejectRatio(d.rowsIngested, d.rowsRejected),
    })),
    alerts: {
      // One EvaluationLatency per run that finished.
      evaluations: of('EvaluationLatency').length,
      evaluationsFailed: sum('EvaluationsFailed'),
      customersEvaluated: sum('CustomersEvaluated'),
      raisedBySeverity,
      raised: Object.values(raisedBySeverity).reduce((s, v) => s + v, 0),
      resolved: sum('AlertsResolved'),
      open: live.activeAlerts ?? null,
      openAtLastRun: last('OpenAlerts'),
      evaluationLatencyMs: percentiles(values('EvaluationLatency')),
      digestsSent: sum('DigestsSent'),
      digestsFailed: sum('DigestsFailed'),
    },
    transfers: {
      requested: sum('TransfersRequested'),
      decidedByOutcome: byDimension('TransfersDecided', 'outcome', OUTCOME_VALUES),
      failed: sum('TransfersFailed'),
      decisionLatencySeconds: percentiles(values('DecisionLatency')),
      approvalsPending: pending ? pending.length : null,
      oldestPendingSeconds:
        oldest === undefined ? null : Math.max(0, Math.round((o.now.getTime() - oldest) / 1000)),
    },
    reviews: {
      run: sum('ReviewsRun'),
      failed: sum('ReviewsFailed'),
      durationSeconds: percentiles(values('ReviewDuration')),
      limitChanges: byDimension('LimitChanges', 'change', LIMIT_CHANGE_VALUES),
    },
    collections: {
      sent: sum('RemindersSent'),
      byLevel: byDimension('RemindersSent', 'level', REMINDER_LEVELS),
      byChannel: byDimension('RemindersSent', 'channel', REMINDER_CHANNELS),
      failed: sum('RemindersFailed'),
      ...collectionsFigures(points, o.timeZone),
    },
    deadLetter: {
      inboxFailing: live.inboxFailing ? [...live.inboxFailing] : null,
      unreadableRuns: unreadable ? unreadable.length : null,
      runsChecked: live.runs?.length ?? 0,
      latestUnreadable: (unreadable ?? []).slice(0, LATEST_UNREADABLE).map((r) => ({
        runId: r.runId,
        file: r.file,
        reason: r.reason,
        startedAt: r.startedAt,
      })),
    },
  };
}

/** Where the live figures come from: the stores the runtime has open (each optional). */
export interface OpsSources {
  readonly dataDir: string;
  readonly timeZone: string;
  readonly now?: () => Date;
  /** @default 14 */
  readonly days?: number;
  /** Counts the active alerts: the same count the Alerts page shows, so the two agree. */
  readonly alerts?: { countAlerts(which: 'active'): Promise<number> };
  readonly approvals?: { listPendingApprovals(): Promise<readonly Pick<Approval, 'notifiedAt'>[]> };
  readonly runs?: { runs(limit: number): Promise<IngestRun[]> };
  /** The running inbox watcher's failing files (`InboxWatcher.failing`). */
  readonly inboxFailing?: () => readonly InboxFailure[];
}

/** How many of the latest ingest runs are looked through for unreadable ones. */
export const RUNS_CHECKED = 1000;

/** Reads the metrics file and the live figures, and summarizes them. */
export async function opsSummary(s: OpsSources): Promise<OpsSummary> {
  const [points, activeAlerts, pendingApprovals, runs] = await Promise.all([
    readLocalMetrics(s.dataDir),
    s.alerts?.countAlerts('active'),
    s.approvals?.listPendingApprovals(),
    s.runs?.runs(RUNS_CHECKED),
  ]);
  return summarize(
    points,
    { activeAlerts, pendingApprovals, runs, inboxFailing: s.inboxFailing?.() },
    {
      now: (s.now ?? (() => new Date()))(),
      timeZone: s.timeZone,
      days: s.days,
      metricsFile: metricsFile(s.dataDir),
    },
  );
}
