import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { DynamoReviewStore } from '../../../functions/adapters/dynamodb-reviews.ts';
import { dateInZone, type IsoDate } from '../../../functions/core/dates.ts';
import { formatMoney } from '../../../functions/core/money.ts';
import type { Policy } from '../../../functions/credit/policy.ts';
import type { ChangeNotifier, Clock } from '../../../functions/ingest/ports.ts';
import {
  type ReportResult,
  ReviewApp,
  type ReviewDeps,
  type ReviewStep,
  withTransfer,
} from '../../../functions/reviews/app.ts';
import { recordReviewStep } from '../../../functions/reviews/metrics.ts';
import type {
  LimitApprovals,
  ManifestRef,
  ManifestStore,
  ReportStore,
  ReviewNotifier,
  ReviewRun,
} from '../../../functions/reviews/ports.ts';
import type { DueCustomer, Review } from '../../../functions/reviews/review.ts';
import { reviewSummary } from '../../../functions/reviews/summary.ts';
import type { ConsoleReviews } from '../console/index.ts';
import { localAudit } from './audit-key.ts';
import { withCrashPoints } from './resume.ts';
import {
  batchesOf,
  distributedToInline,
  LOCAL_ITEM_READER,
  substitute,
  taskStates,
  withLocalTimeouts,
} from './workflow.ts';

/** The one definition of the periodic review, as CDK deploys it. */
export const REVIEW_ASL = resolve(import.meta.dirname, '../../../statemachines/periodic-review.asl.json');

type Json = Record<string, unknown>;

/** Manifests as files under `<dataDir>/reviews/`: the "bucket" is `local`, the key a relative path. */
export class FileManifestStore implements ManifestStore {
  readonly root: string;
  constructor(dataDir: string) {
    this.root = resolve(dataDir, 'reviews');
  }
  private pathOf(key: string): string {
    const p = resolve(this.root, key);
    if (!p.startsWith(this.root + sep)) throw new Error(`manifest key ${key} leaves ${this.root}`);
    return p;
  }
  async put(runId: string, items: readonly DueCustomer[]): Promise<ManifestRef> {
    const Key = `${runId}/manifest.json`;
    const path = this.pathOf(Key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(`${path}.part`, JSON.stringify(items));
    await rename(`${path}.part`, path);
    return { Bucket: 'local', Key };
  }
  async get(ref: ManifestRef): Promise<DueCustomer[]> {
    return JSON.parse(await readFile(this.pathOf(ref.Key), 'utf8')) as DueCustomer[];
  }
}

/** Reports in the outbox: `<dataDir>/outbox/reviews/<run>.csv` and `.html`. */
export class OutboxReportStore implements ReportStore {
  constructor(private readonly dataDir: string) {}
  async put(runId: string, report: { csv: string; html: string }): Promise<{ csv: string; html: string }> {
    const dir = join(this.dataDir, 'outbox', 'reviews');
    await mkdir(dir, { recursive: true });
    const csv = join(dir, `${runId}.csv`);
    const html = join(dir, `${runId}.html`);
    await writeFile(csv, report.csv);
    await writeFile(html, report.html);
    return { csv, html };
  }
}

/** Limit cuts and run summaries as lines of `<dataDir>/outbox/reviews.jsonl` (SNS on AWS). */
export class OutboxReviewNotifier implements ReviewNotifier {
  constructor(private readonly dataDir: string) {}
  private async line(v: Json): Promise<void> {
    await mkdir(join(this.dataDir, 'outbox'), { recursive: true });
    await appendFile(join(this.dataDir, 'outbox', 'reviews.jsonl'), `${JSON.stringify(v)}\n`);
  }
  async limitCut(r: Review): Promise<void> {
    const ccy = r.currency ?? '';
    await this.line({
      type: 'review.limitCut',
      severity: 'warning',
      customerId: r.customerId,
      reviewId: r.reviewId,
      subject: `Credit limit of ${r.customerId} cut to ${formatMoney(r.limitAfter ?? 0, ccy)}`,
      text: r.decision,
    });
  }
  async summary(run: ReviewRun): Promise<void> {
    await this.line({ type: 'review.summary', ...reviewSummary(run) });
  }
}

/** Until limit changes go through the approval chain locally, they are refused plainly. */
export const noLimitApprovals: LimitApprovals = {
  requestChange: async (r) => {
    throw new Error(`no approval chain is wired to ask for ${r.customerId}'s limit change`);
  },
  requestBatch: async (run) => {
    throw new Error(`no approval chain is wired to ask for review ${run.runId}'s limit changes`);
  },
};

/**
 * The periodic review on aws-local-stepfunctions: the same ASL file, its Distributed Map made
 * inline (`distributedToInline`), every `lambda:invoke` mapped to the same steps (`ReviewApp.run`)
 * and the manifest read from where `select` wrote it.
 */
export class LocalReviews {
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, (params: Json) => Promise<unknown>> = {};
  readonly app: ReviewApp;

  constructor(
    private readonly deps: ReviewDeps,
    private readonly options: {
      /** Another definition text (tests). @default statemachines/periodic-review.asl.json */
      readonly definition?: string;
      /** Milliseconds a Retry waits, by state name, instead of the definition's backoff (tests). */
      readonly retryIntervals?: Readonly<Record<string, number>>;
      /** Where the review metrics go (`<dataDir>/metrics.jsonl` in `npm start`). @default none */
      readonly metrics?: Metrics;
      /**
       * Batches reviewed at once. On AWS the deploy sets it (-c reviewConcurrency); here every batch shares one
       * process and its embedded DynamoDB, which answers one request at a time. @default 4
       */
      readonly batchConcurrency?: number;
    } = {},
  ) {
    const definitionText = options.definition ?? readFileSync(REVIEW_ASL, 'utf8');
    this.app = new ReviewApp(deps);
    // The file's ${ReviewConcurrency} is the deploy's setting on AWS; here it is the local batch
    // concurrency (the inline Map's MaxConcurrencyPath reads it the same way).
    const def = withLocalTimeouts(
      distributedToInline(
        JSON.parse(
          substitute(definitionText, {
            ReviewStepsFunction: 'credit-sentinel-review-steps',
            ReviewBatchFunction: 'credit-sentinel-review-batch',
            ReviewConcurrency: String(options.batchConcurrency ?? 4),
          }),
        ),
      ),
    );
    for (const t of taskStates(def)) {
      if (t.resource === 'arn:aws:states:::lambda:invoke')
        this.handlers[t.name] = async (p) => {
          const step = p.Payload as ReviewStep;
          const out = await this.app.run(step);
          if (this.options.metrics) recordReviewStep(this.options.metrics, step.step, out);
          return { Payload: out };
        };
      else if (t.resource === LOCAL_ITEM_READER)
        this.handlers[t.name] = async (p) => {
          const items = await this.deps.manifests.get({ Bucket: String(p.Bucket), Key: String(p.Key) });
          return p.MaxItemsPerBatch === undefined
            ? items
            : batchesOf(items, Number(p.MaxItemsPerBatch), p.BatchInput);
        };
      else throw new Error(`Task state ${t.name} (${t.resource}) has no local handler`);
    }
    this.machine = new StateMachine(def as unknown as ConstructorParameters<typeof StateMachine>[0]);
  }

  /**
   * Runs a review as of `asOf` (default: today) to its report. With the id of a run that did not
   * finish, resumes it: the manifest it selected is kept and customers already reviewed are not
   * reviewed again.
   */
  async run(input: {
    asOf?: IsoDate;
    trigger?: ReviewRun['trigger'];
    runId?: string;
  }): Promise<ReportResult & { resumed: boolean }> {
    const day = input.asOf ?? dateInZone(this.deps.clock.now(), this.deps.timeZone);
    const runId = input.runId ?? `review-${day}-${randomBytes(4).toString('hex')}`;
    const resumed = input.runId !== undefined && (await this.deps.store.getRun(input.runId)) !== undefined;
    const execution = this.machine.run(
      { ...(input.asOf ? { asOf: input.asOf } : {}), trigger: input.trigger ?? 'manual' },
      {
        overrides: {
          taskResourceLocalHandlers: this.handlers as never,
          ...(this.options.retryIntervals
            ? { retryIntervalOverrides: { ...this.options.retryIntervals } }
            : {}),
        },
        context: { Execution: { Id: `local:periodic-review:${runId}`, Name: runId } } as never,
      },
    );
    let output: Json;
    try {
      output = (await execution.result) as Json;
    } catch (e) {
      const cause = e instanceof ExecutionError ? (e.cause as Error | undefined) : (e as Error);
      throw cause ?? e;
    }
    const run = await this.deps.store.getRun(runId);
    if (!run) throw new Error(`review run ${runId} finished without a record`);
    const result = output.result as { durationSeconds?: number } | undefined;
    return { run, durationSeconds: result?.durationSeconds ?? 0, resumed };
  }
}

export interface LocalReviewsRuntime {
  readonly store: DynamoReviewStore;
  /** Runs one review at a time: a run asked while another runs starts after it. */
  run(input: {
    asOf?: IsoDate;
    runId?: string;
    trigger?: ReviewRun['trigger'];
  }): Promise<ReportResult & { resumed: boolean }>;
  /** What the console shows and accepts. */
  readonly console: ConsoleReviews;
  /** Resolves once the review running now (if any) and the ones queued behind it have finished. */
  idle(): Promise<void>;
  /**
   * Queues every run the store says is still running (a stopped process left it half-way) to be
   * carried on under its own id: the manifest it selected is kept and the customers already
   * reviewed are not reviewed again. Resolves with each run's id as it is queued; `idle()` waits
   * for them.
   */
  resume(onDone?: (r: ReportResult & { resumed: boolean }) => void): Promise<string[]>;
}

/** The periodic review in `npm start`: the local store, outbox, and the product's approval chain. */
export function localReviewsRuntime(o: {
  readonly client: DynamoReviewStore['client'];
  readonly tableName: string;
  readonly dataDir: string;
  readonly policy: () => Promise<Policy>;
  readonly approvals: LimitApprovals;
  readonly timeZone: string;
  readonly clock?: Clock;
  /** Where the review metrics go. @default none */
  readonly metrics?: Metrics;
  /** Told of the customers whose limit a review changed (the local evaluator listens). */
  readonly changes?: ChangeNotifier;
}): LocalReviewsRuntime {
  const audit = localAudit(o.dataDir);
  const store = new DynamoReviewStore({
    client: o.client,
    tableName: o.tableName,
    auditKey: audit.auditKey,
    auditAnchor: audit.anchor,
  });
  const reports = new OutboxReportStore(o.dataDir);
  // Named places a run may die (SENTINEL_CRASH_AT, functions/core/crash.ts; free unless armed):
  // after the run record (its manifest selected), after a customer's review is stored, after a
  // batch's audit record, after a batch is marked done, before the run's record is written done.
  const crashable = withCrashPoints(store, {
    createRun: 'reviews.after-select',
    claimReview: 'reviews.after-claim',
    appendAudit: 'reviews.after-audit',
    completeBatch: 'reviews.after-batch',
    putRun: 'before:reviews.before-done',
  });
  // Built at the first run: validating the definition takes ~0.3 s, which `npm start` need not wait for.
  let engine: LocalReviews | undefined;
  const reviews = () =>
    (engine ??= new LocalReviews(
      {
        store: crashable,
        manifests: new FileManifestStore(o.dataDir),
        reports,
        notifier: new OutboxReviewNotifier(o.dataDir),
        approvals: o.approvals,
        policy: o.policy,
        clock: o.clock ?? { now: () => new Date() },
        timeZone: o.timeZone,
        changes: o.changes,
      },
      { metrics: o.metrics },
    ));
  let chain: Promise<unknown> = Promise.resolve();
  const run: LocalReviewsRuntime['run'] = (input) => {
    const next = chain.then(() => reviews().run(input));
    chain = next.catch(() => undefined);
    return next;
  };
  const fileOf = async (runId: string, kind: 'csv' | 'html') => {
    const r = await store.getRun(runId);
    const path = r?.report?.[kind];
    return path ? readFile(path, 'utf8').catch(() => undefined) : undefined;
  };
  /** Counts of finished runs' reviews per filter (see `console.show`). */
  const doneTotals = new Map<string, number>();
  return {
    store,
    run,
    resume: async (onDone) => {
      const running = (await store.listRuns()).filter((r) => r.status === 'running');
      for (const r of running.reverse())
        void run({ runId: r.runId, asOf: r.asOf, trigger: r.trigger })
          .then((done) => onDone?.(done))
          .catch((e: unknown) =>
            console.error(`reviews: run ${r.runId} could not be carried on: ${(e as Error).message}`),
          );
      return running.map((r) => r.runId);
    },
    idle: async () => {
      for (let seen: Promise<unknown> | undefined; seen !== chain; ) {
        seen = chain;
        await chain;
      }
    },
    console: {
      list: (req) => store.runsPage(req),
      show: async (runId, req, filter) => {
        const r = await store.getRun(runId);
        if (!r) return undefined;
        // A finished run's reviews neither come nor go, nor change outcome: each filter's count is
        // read once (10,000 reviews: 0.5 s a count) and kept with the process.
        const key = `${runId}|${filter?.attention ? 'attention' : ''}|${filter?.outcome ?? ''}`;
        const known = r.status === 'done' ? doneTotals.get(key) : undefined;
        const page = await store.reviewsPage(runId, req, filter, known);
        if (r.status === 'done' && known === undefined) {
          if (doneTotals.size >= 1000) doneTotals.clear();
          doneTotals.set(key, page.total);
        }
        return { run: r, reviews: { ...page, items: page.items.map((x) => withTransfer(x, r.approvals)) } };
      },
      all: async (runId, filter) => {
        const r = await store.getRun(runId);
        if (!r) return undefined;
        const reviews = await store.reviewsOf(runId, filter);
        return { run: r, reviews: reviews.map((x) => withTransfer(x, r.approvals)) };
      },
      run: async (asOf, runId) => {
        const r = await run({ asOf, runId, trigger: 'manual' });
        return { run: r.run, resumed: r.resumed };
      },
      preview: (asOf) => reviews().app.preview(asOf),
      report: fileOf,
      customer: async (customerId) => {
        const reviews = await store.customerReviews(customerId);
        // Each review's approval request is named by its run (asked once the run was reviewed).
        const runs = new Map<string, ReviewRun | undefined>();
        for (const r of reviews)
          if (r.outcome === 'approval' && !runs.has(r.runId)) runs.set(r.runId, await store.getRun(r.runId));
        return {
          state: await store.getReviewState(customerId),
          reviews: reviews.map((r) => withTransfer(r, runs.get(r.runId)?.approvals)),
        };
      },
    },
  };
}
