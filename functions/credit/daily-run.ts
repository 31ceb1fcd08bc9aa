import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { dateInZone, type IsoDate } from '../core/dates.ts';
import type { Clock } from '../ingest/ports.ts';
import { recordEvaluation } from './app.ts';
import {
  type BatchEvaluation,
  type EvaluationRun,
  evaluateBatch,
  FutureEvaluationError,
  finishEvaluation,
  sendDigest,
} from './evaluate.ts';
import type { Policy } from './policy.ts';
import type { AlertNotifier, CreditStore } from './ports.ts';

/**
 * The daily evaluation fanned out (statemachines/daily-evaluation.asl.json): `list` writes every
 * customer id to the run's manifest, the Distributed Map hands it out in batches to `batch`
 * (`evaluateBatch`: the customers' part, stored and told once), and `report` takes the book-level
 * part once (`finishEvaluation`: the book's concentration, the claims left untold, the counts),
 * sends the daily digest and names every customer no batch evaluated. The same steps run on AWS
 * (functions/credit/daily-run-handler.ts) and locally (infra/local/runtime/daily-evaluation.ts).
 */

/** Where the manifest is (an S3 object on AWS; `Bucket` is `local` for a file of the data dir). */
export interface RunObjectRef {
  readonly Bucket: string;
  readonly Key: string;
}

/** A batch that failed after its retries: its customers and why (the ASL's Catch records it). */
export interface FailedBatch {
  readonly customerIds: readonly string[];
  readonly error: string;
  readonly cause: string;
}

/** The run's report: kept beside its manifest, and what `report` answers (failures cut to 20 batches). */
export interface DailyRunReport {
  readonly runId: string;
  readonly asOf: IsoDate;
  /** Customers in the manifest. */
  readonly listed: number;
  readonly run: EvaluationRun;
  /** Batches that failed after their retries, with their customers. */
  readonly failedBatches: readonly FailedBatch[];
  /** Every customer no batch evaluated (failed batches', and any a Map that stopped never reached). */
  readonly notEvaluated: readonly string[];
  /** Whether the daily digest went out (undefined: not asked for, or nothing active). */
  readonly digest?: 'sent' | 'failed' | undefined;
  /** The active alerts the digest listed, or why it failed. */
  readonly digestNote?: string | undefined;
  readonly durationSeconds: number;
}

/** The run's files: its manifest, one result per batch done, one record per batch failed, the report. */
export interface DailyRunFiles {
  putManifest(runId: string, customerIds: readonly string[]): Promise<RunObjectRef>;
  getManifest(ref: RunObjectRef): Promise<string[]>;
  /** Keyed by the batch's first customer, so a retried batch replaces its own result. */
  putBatch(runId: string, batch: BatchEvaluation): Promise<void>;
  listBatches(runId: string): Promise<BatchEvaluation[]>;
  putFailure(runId: string, failure: FailedBatch): Promise<void>;
  listFailures(runId: string): Promise<FailedBatch[]>;
  putReport(runId: string, report: DailyRunReport): Promise<void>;
}

export interface DailyRunDeps {
  readonly store: CreditStore;
  readonly notifier: AlertNotifier;
  readonly files: DailyRunFiles;
  /** The policy in force, read at every step (a policy set during a run applies from its next batch). */
  readonly policy: () => Promise<Policy>;
  readonly clock: Clock;
  readonly timeZone: string;
  /** Customers loaded in parallel within a batch. @default 8 */
  readonly concurrency?: number;
}

export type DailyRunStep =
  | {
      readonly step: 'list';
      readonly runId: string;
      /** The execution input: the schedule's time, or a day by hand, and whether to send the digest. */
      readonly input: { readonly scheduledTime?: string; readonly asOf?: IsoDate; readonly digest?: boolean };
    }
  | {
      readonly step: 'batch';
      readonly BatchInput: { readonly runId: string; readonly asOf: IsoDate };
      readonly Items: readonly string[];
    }
  | {
      readonly step: 'batchFailed';
      readonly BatchInput: { readonly runId: string; readonly asOf: IsoDate };
      readonly Items: readonly string[];
      readonly error?: { readonly Error?: string; readonly Cause?: string };
    }
  | {
      readonly step: 'report';
      readonly runId: string;
      readonly asOf: IsoDate;
      readonly manifest: RunObjectRef;
      readonly startedAt: string;
      readonly digest?: boolean;
    };

export interface ListResult {
  readonly runId: string;
  readonly asOf: IsoDate;
  readonly customers: number;
  readonly manifest: RunObjectRef;
  readonly startedAt: string;
  readonly digest: boolean;
}

/** What a batch answers (its full result is in the run's files: a Map output stays small). */
export interface BatchResult {
  readonly customers: number;
  readonly evaluated: number;
  readonly skipped: number;
  readonly opened: number;
  readonly escalated: number;
  readonly resolved: number;
}

/** The report as `report` answers it: at most this many failed batches named (the file has all). */
export const REPORTED_FAILED_BATCHES = 20;

export type DailyRunOutput = ListResult | BatchResult | { recorded: true } | DailyRunReport;

/** A day asked by hand that is not today or the schedule's own day. */
export class NotADailyRunError extends Error {
  constructor(asOf: IsoDate, today: IsoDate) {
    super(
      `a daily run evaluates today (${today}) or the scheduled day; ${asOf} is neither (a what-if is \`aws lambda invoke\` of the evaluate function with its asOf)`,
    );
    this.name = 'NotADailyRunError';
  }
}

export class DailyRunApp {
  constructor(private readonly deps: DailyRunDeps) {}

  private evalDeps(policy: Policy) {
    const { store, notifier, clock, timeZone, concurrency } = this.deps;
    return { store, notifier, policy, clock, timeZone, concurrency };
  }

  async run(step: DailyRunStep): Promise<DailyRunOutput> {
    switch (step.step) {
      case 'list':
        return this.list(step);
      case 'batch':
        return this.batch(step);
      case 'batchFailed':
        await this.deps.files.putFailure(step.BatchInput.runId, {
          customerIds: [...step.Items],
          error: step.error?.Error ?? 'unknown',
          cause: (step.error?.Cause ?? '').slice(0, 1000),
        });
        return { recorded: true };
      case 'report':
        return this.report(step);
    }
  }

  /** Every customer id, sorted, to the run's manifest; the day is the schedule's (or today). */
  async list(step: Extract<DailyRunStep, { step: 'list' }>): Promise<ListResult> {
    const { clock, timeZone, store, files } = this.deps;
    const now = clock.now();
    const today = dateInZone(now, timeZone);
    const asOf =
      step.input.asOf ??
      dateInZone(step.input.scheduledTime ? new Date(step.input.scheduledTime) : now, timeZone);
    // The scheduled day after today is refused by the evaluation itself (FutureEvaluationError);
    // a day by hand must be today: another past day is a what-if, not a daily run.
    if (asOf > today) throw new FutureEvaluationError(asOf, today, timeZone);
    if (step.input.asOf !== undefined && asOf < today) throw new NotADailyRunError(asOf, today);
    const ids = [...new Set(await store.listCustomerIds())].sort();
    const manifest = await files.putManifest(step.runId, ids);
    return {
      runId: step.runId,
      asOf,
      customers: ids.length,
      manifest,
      startedAt: now.toISOString(),
      digest: step.input.digest ?? false,
    };
  }

  async batch(step: Extract<DailyRunStep, { step: 'batch' }>): Promise<BatchResult> {
    const policy = await this.deps.policy();
    const b = await evaluateBatch(this.evalDeps(policy), {
      asOf: step.BatchInput.asOf,
      customerIds: step.Items,
    });
    await this.deps.files.putBatch(step.BatchInput.runId, b);
    return {
      customers: b.customerIds.length,
      evaluated: b.evaluated,
      skipped: b.skipped,
      opened: b.opened,
      escalated: b.escalated,
      resolved: b.resolved,
    };
  }

  /**
   * The book-level part over the batches done, the digest when asked, and every customer no batch
   * evaluated, named with its batch's error. Customers of a failed batch count in the book's
   * concentration with their stored summaries, as skipped ones do.
   */
  async report(step: Extract<DailyRunStep, { step: 'report' }>): Promise<DailyRunReport> {
    const { files } = this.deps;
    const [ids, batches, failures] = await Promise.all([
      files.getManifest(step.manifest),
      files.listBatches(step.runId),
      files.listFailures(step.runId),
    ]);
    const done = new Set<string>();
    for (const b of batches) for (const id of b.customerIds) done.add(id);
    const notEvaluated = ids.filter((id) => !done.has(id));
    // A batch that failed and then succeeded (a redriven run) is no longer failed.
    const failedBatches = failures.filter((f) => f.customerIds.some((id) => !done.has(id)));
    const recorded = new Set(failedBatches.flatMap((f) => f.customerIds));
    const unrecorded = notEvaluated.filter((id) => !recorded.has(id));
    if (unrecorded.length > 0)
      failedBatches.push({
        customerIds: unrecorded,
        error: 'NotReached',
        cause: 'the Map stopped before a batch of these customers finished',
      });
    const policy = await this.deps.policy();
    const run = await finishEvaluation(this.evalDeps(policy), {
      asOf: step.asOf,
      batches,
      notEvaluated,
    });
    let digest: DailyRunReport['digest'];
    let digestNote: string | undefined;
    if (step.digest)
      try {
        const d = await sendDigest(this.deps, step.asOf);
        digest = d ? 'sent' : undefined;
        digestNote = d ? `${d.active} active` : undefined;
      } catch (e) {
        // Logged and counted by the caller (DigestsFailed); the run's alerts are stored and told,
        // and a retry would evaluate the whole book again for one message.
        digest = 'failed';
        digestNote = e instanceof Error ? e.message : String(e);
      }
    const report: DailyRunReport = {
      runId: step.runId,
      asOf: step.asOf,
      listed: ids.length,
      run,
      failedBatches,
      notEvaluated,
      digest,
      digestNote,
      durationSeconds: Math.max(0, (this.deps.clock.now().getTime() - Date.parse(step.startedAt)) / 1000),
    };
    await files.putReport(step.runId, report);
    return report;
  }
}

/** The report as a step answers it: the failed batches cut to REPORTED_FAILED_BATCHES, customers to 100 each. */
export function reportOutput(r: DailyRunReport): DailyRunReport & { readonly failed: number } {
  return {
    ...r,
    failed: r.notEvaluated.length,
    notEvaluated: r.notEvaluated.slice(0, 100),
    failedBatches: r.failedBatches.slice(0, REPORTED_FAILED_BATCHES).map((f) => ({
      ...f,
      customerIds: f.customerIds.slice(0, 100),
    })),
  };
}

/**
 * The metrics of a daily run's report (the evaluation's own, as the single pass records them, and
 * the batches that failed: alarmed through the execution's failure, counted here per run).
 */
export function recordDailyReport(metrics: Metrics, r: DailyRunReport): void {
  recordEvaluation(metrics, r.run, r.durationSeconds * 1000);
  metrics.addMetric('EvaluationBatchesFailed', MetricUnit.Count, r.failedBatches.length);
  metrics.addMetric('CustomersNotEvaluated', MetricUnit.Count, r.notEvaluated.length);
  if (r.digest === 'sent') metrics.addMetric('DigestsSent', MetricUnit.Count, 1);
  if (r.digest === 'failed') metrics.addMetric('DigestsFailed', MetricUnit.Count, 1);
}
