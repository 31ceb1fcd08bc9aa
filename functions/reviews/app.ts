import { createHash } from 'node:crypto';
import { mapLimit } from '../core/concurrency.ts';
import { dateInZone, type IsoDate, isoDateOrNull } from '../core/dates.ts';
import { asOfFile, creditFileOf } from '../credit/evaluate.ts';
import type { Policy } from '../credit/policy.ts';
import type { ChangeNotifier, Clock } from '../ingest/ports.ts';
import type {
  LimitApprovals,
  LimitChange,
  ManifestRef,
  ManifestStore,
  ReportStore,
  ReviewCounts,
  ReviewNotifier,
  ReviewRun,
  ReviewStore,
} from './ports.ts';
import { reviewReport } from './report.ts';
import {
  type DueCustomer,
  dueCustomers,
  failedReview,
  type Review,
  type ReviewState,
  reviewCustomer,
  reviewHash,
  stateAfter,
} from './review.ts';

export interface ReviewDeps {
  readonly store: ReviewStore;
  readonly manifests: ManifestStore;
  readonly reports: ReportStore;
  readonly notifier: ReviewNotifier;
  readonly approvals: LimitApprovals;
  /** The policy in force, read at every step (a run records the one it selected with). */
  readonly policy: () => Promise<Policy>;
  readonly clock: Clock;
  /** IANA zone "today" is taken in when a run names no date. */
  readonly timeZone: string;
  /**
   * Told of the customers whose limit a batch changed, so their limit use and alerts are evaluated
   * again at once (the ingestion's "customers changed" topic on AWS, the local evaluator offline).
   */
  readonly changes?: ChangeNotifier | undefined;
  /** Customers reviewed in parallel within a batch. @default 8 */
  readonly concurrency?: number;
  /** Wait before a customer's review is tried again (then 4x, ...). @default 100 */
  readonly retryBaseMs?: number;
}

/** What the workflow's steps send and answer (statemachines/periodic-review.asl.json). */
export type ReviewStep =
  | {
      readonly step: 'select';
      readonly runId: string;
      /** The execution's input: a day to review as of, or the schedule's time (default: today). */
      readonly input?: {
        readonly asOf?: IsoDate | undefined;
        readonly scheduledTime?: string | undefined;
        readonly trigger?: ReviewRun['trigger'] | undefined;
      };
    }
  | {
      readonly step: 'review';
      /** The Distributed Map's batch: `BatchInput` plus the manifest's items. */
      readonly BatchInput: { readonly runId: string; readonly asOf: IsoDate };
      readonly Items: readonly DueCustomer[];
    }
  | { readonly step: 'report'; readonly runId: string };

export interface SelectResult {
  readonly runId: string;
  readonly asOf: IsoDate;
  readonly selected: number;
  readonly manifest: ManifestRef;
}

export interface BatchResult {
  readonly reviewed: number;
  readonly failed: number;
  /** Reviews found already done (a retried batch or a resumed run): not reviewed twice. */
  readonly alreadyDone: number;
}

export interface ReportResult {
  readonly run: ReviewRun;
  readonly durationSeconds: number;
}

const REVIEWER = 'periodic-review';

/** What carrying out a review leaves to store with its batch. */
interface CarriedOut {
  readonly review: Review;
  readonly state?: ReviewState | undefined;
  readonly limit?: LimitChange | undefined;
}
/** Tries of one customer's review before it is stored as failed. */
const CUSTOMER_ATTEMPTS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run's input cannot be read: the execution fails at once, with this as its error name. */
export class ReviewInputError extends Error {
  override readonly name = 'ReviewInputError';
}

/**
 * The periodic review's three steps. Each is safe to run again: `select` keeps the manifest of a
 * run that already has one; `review` stores each customer's review with a conditional write before
 * carrying out its outcome, and carries out only what is not yet done; `report` reads what is
 * stored. So a run that crashed half-way resumes without reviewing anyone twice.
 */
export class ReviewApp {
  constructor(private readonly deps: ReviewDeps) {}

  async run(step: ReviewStep): Promise<SelectResult | BatchResult | ReportResult> {
    switch (step.step) {
      case 'select': {
        const i = step.input ?? {};
        if (i.asOf !== undefined && isoDateOrNull(i.asOf) === null)
          throw new ReviewInputError(`asOf "${i.asOf}" is not a real YYYY-MM-DD date`);
        const at = i.scheduledTime ? new Date(i.scheduledTime) : this.deps.clock.now();
        if (Number.isNaN(at.getTime()))
          throw new ReviewInputError(`scheduledTime "${i.scheduledTime}" is not an instant`);
        return this.select(step.runId, i.asOf ?? dateInZone(at, this.deps.timeZone), i.trigger ?? 'schedule');
      }
      case 'review':
        return this.reviewBatch(step.BatchInput.runId, step.BatchInput.asOf, step.Items);
      case 'report':
        return this.report(step.runId);
    }
  }

  /** Selects the customers due as of `asOf` and writes them to the run's manifest. */
  async select(runId: string, asOf: IsoDate, trigger: ReviewRun['trigger']): Promise<SelectResult> {
    const { store } = this.deps;
    const existing = await store.getRun(runId);
    if (existing)
      return { runId, asOf: existing.asOf, selected: existing.selected, manifest: existing.manifest };
    const policy = await this.deps.policy();
    const due = await dueNow(store, asOf, policy);
    const manifest = await this.deps.manifests.put(runId, due);
    const run = await store.createRun({
      runId,
      asOf,
      policyId: policy.id,
      trigger,
      startedAt: this.deps.clock.now().toISOString(),
      status: 'running',
      selected: due.length,
      manifest,
    });
    return { runId, asOf: run.asOf, selected: run.selected, manifest: run.manifest };
  }

  /**
   * Reviews a batch of the manifest; a customer whose review fails is stored as failed, not
   * skipped. Each review is stored before its outcome is carried out, the batch's reviews go on
   * the audit trail in one record, and only then is each marked done: a batch retried after a
   * crash carries out again (idempotently) only what was not marked done.
   */
  async reviewBatch(runId: string, asOf: IsoDate, items: readonly DueCustomer[]): Promise<BatchResult> {
    const { store } = this.deps;
    const policy = await this.deps.policy();
    const stored = await store.reviewsIn(
      runId,
      items.map((i) => i.customerId),
    );
    let alreadyDone = 0;
    const carried: CarriedOut[] = [];
    await mapLimit(items, this.deps.concurrency ?? 8, async (item) => {
      const before = stored.get(item.customerId);
      if (before?.applied) {
        alreadyDone++;
        return;
      }
      carried.push(await this.carryOut(before ?? (await this.make(runId, asOf, item, policy))));
    });
    if (carried.length > 0) {
      carried.sort((a, b) => (a.review.customerId < b.review.customerId ? -1 : 1));
      // One record per batch keeps the single hash chain short at a million customers, and still
      // holds every review: its hash, so any later change to a stored review shows.
      // Once per batch of customers: a retry after the record went in but before the batch was
      // marked done carries out the same customers and gets the first try's record.
      const batchKey = createHash('sha256')
        .update(carried.map((c) => c.review.customerId).join('\n'))
        .digest('hex');
      await store.appendAudit(
        {
          at: this.deps.clock.now().toISOString(),
          kind: 'review.batch',
          subject: runId,
          actor: REVIEWER,
          data: {
            asOf,
            reviews: carried.map(({ review: r }) => ({
              customerId: r.customerId,
              status: r.status,
              outcome: r.outcome ?? null,
              hash: reviewHash(r),
            })),
          },
        },
        { once: `review.batch#${runId}#${batchKey}` },
      );
      await store.completeBatch({
        reviews: carried.map((c) => ({ ...c.review, applied: true })),
        states: carried.flatMap((c) => (c.state ? [c.state] : [])),
        limitChanges: carried.flatMap((c) => (c.limit ? [c.limit] : [])),
      });
      const changed = carried.flatMap((c) => (c.limit ? [c.limit.customerId] : []));
      if (changed.length > 0)
        await this.deps.changes?.customersChanged({
          type: 'customers.changed',
          runId,
          asOf,
          customerIds: changed,
        });
    }
    const failed = carried.filter((c) => c.review.status === 'failed').length;
    return { reviewed: carried.length - failed, failed, alreadyDone };
  }

  /** Reviews one customer and stores the review (or finds the one a crashed attempt stored). */
  private async make(runId: string, asOf: IsoDate, item: DueCustomer, policy: Policy): Promise<Review> {
    const now = this.deps.clock.now().toISOString();
    const review = await reviewWithRetries(this.deps, runId, asOf, item, policy, now, CUSTOMER_ATTEMPTS);
    return this.deps.store.claimReview(review);
  }

  /** What a run as of `asOf` would do now, with nothing stored, asked or announced (`previewReview`). */
  preview(asOf: IsoDate): Promise<ReviewPreview> {
    return previewReview(this.deps, asOf);
  }

  /**
   * Carries out a stored review's outcome: the limit written, the cut announced, the customer's
   * review state moved on. Each is idempotent, so a retry does no harm; the announcement may go
   * twice (at least once). Approvals are asked by `report`, once the run knows how many there are.
   */
  private async carryOut(r: Review): Promise<CarriedOut> {
    if (r.status !== 'done') return { review: r };
    let limit: LimitChange | undefined;
    if ((r.outcome === 'cut' || r.outcome === 'raise') && r.limitAfter !== undefined && r.currency) {
      limit = {
        customerId: r.customerId,
        currency: r.currency,
        from: r.currentLimit,
        to: r.limitAfter,
        on: r.asOf,
        at: r.reviewedAt,
        by: REVIEWER,
        reviewId: r.reviewId,
        reason: r.decision ?? '',
      };
      await this.deps.store.updateProfileLimit(limit);
    }
    if (r.outcome === 'cut') await this.deps.notifier.limitCut(r);
    return { review: r, state: stateAfter(r), limit };
  }

  /**
   * Asks people for the run's limit changes that need approval: one request per customer, or,
   * above the policy's `review.approvals.batchAbove`, one request for the whole batch with its
   * table. Both are idempotent (named after the review or the run), so a report step run again
   * asks nothing twice.
   */
  private async askApprovals(run: ReviewRun, reviews: readonly Review[]): Promise<ReviewRun['approvals']> {
    const asking = reviews.filter((r) => r.status === 'done' && r.outcome === 'approval');
    if (asking.length === 0) return undefined;
    const policy = await this.deps.policy();
    if (asking.length > policy.review.approvals.batchAbove) {
      const { transferId } = await this.deps.approvals.requestBatch(run, asking);
      return { mode: 'batch', count: asking.length, transferId };
    }
    const byCustomer: Record<string, string> = {};
    for (const r of asking)
      byCustomer[r.customerId] = (await this.deps.approvals.requestChange(r)).transferId;
    return { mode: 'each', count: asking.length, byCustomer };
  }

  /**
   * Reports the run: every customer of the manifest with its review, those with none (their batch
   * failed after its retries) stored as failed reviews first; CSV and HTML to the report store,
   * the summary to the notifier.
   */
  async report(runId: string): Promise<ReportResult> {
    const { store } = this.deps;
    const run = await store.getRun(runId);
    if (!run) throw new Error(`there is no review run ${runId}`);
    if (run.status === 'done' && run.finishedAt)
      return { run, durationSeconds: secondsBetween(run.startedAt, run.finishedAt) };
    const manifest = await this.deps.manifests.get(run.manifest);
    const reviews = new Map((await store.reviewsOf(runId)).map((r) => [r.customerId, r]));
    const now = this.deps.clock.now().toISOString();
    const missing: string[] = [];
    const notReviewed: Review[] = [];
    for (const item of manifest) {
      const r = reviews.get(item.customerId);
      if (r?.applied) continue;
      missing.push(item.customerId);
      // No review, or one stored but not carried out: the batch failed for good (the Map tolerated it).
      const failed = failedReview(
        { runId, customerId: item.customerId, due: item.reason, asOf: run.asOf, now, policyId: run.policyId },
        new Error(
          r
            ? `its batch failed after its retries before the review was audited; its outcome (${r.outcome ?? 'none'}) may be partly carried out: check the customer's limit and transfers`
            : 'not reviewed: its batch failed after its retries',
        ),
      );
      reviews.set(item.customerId, { ...failed, applied: true });
      notReviewed.push({ ...failed, applied: true });
    }
    if (notReviewed.length > 0)
      await store.completeBatch({ reviews: notReviewed, states: [], limitChanges: [] });
    const sorted = [...reviews.values()].sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
    const approvals = await this.askApprovals(run, sorted);
    const all = sorted.map((r) => withTransfer(r, approvals));
    const finishedAt = now;
    const done: ReviewRun = { ...run, status: 'done', finishedAt, counts: countsOf(all), approvals };
    const files = reviewReport(done, all);
    const report = await this.deps.reports.put(runId, files);
    const final: ReviewRun = { ...done, report };
    // The run on the trail: its counts, the customers it could not review, and the report's hash.
    await store.appendAudit(
      {
        at: finishedAt,
        kind: 'review.run',
        subject: runId,
        actor: REVIEWER,
        data: {
          asOf: run.asOf,
          policyId: run.policyId,
          selected: run.selected,
          counts: final.counts,
          notReviewed: missing,
          approvals: approvals ?? null,
          reportCsvSha256: createHash('sha256').update(files.csv).digest('hex'),
        },
      },
      { once: `review.run#${runId}` },
    );
    await store.putRun(final);
    await this.deps.notifier.summary(final, all);
    return {
      run: final,
      durationSeconds: secondsBetween(run.startedAt, finishedAt),
    };
  }
}

/** A review with the approval request that carries it (reports and pages show it). */
export function withTransfer(r: Review, approvals: ReviewRun['approvals']): Review {
  if (r.outcome !== 'approval' || r.transferId || !approvals) return r;
  const transferId = approvals.mode === 'batch' ? approvals.transferId : approvals.byCustomer[r.customerId];
  return transferId ? { ...r, transferId } : r;
}

/** The customers due as of `asOf`: every customer, its review state and the active alerts, read whole. */
async function dueNow(
  store: Pick<ReviewStore, 'listCustomerIds' | 'reviewStates' | 'listAlerts'>,
  asOf: IsoDate,
  policy: Policy,
): Promise<DueCustomer[]> {
  const [ids, states, alerts] = await Promise.all([
    store.listCustomerIds(),
    store.reviewStates(),
    store.listAlerts('active'),
  ]);
  return dueCustomers(ids, new Map(states.map((s) => [s.customerId, s])), alerts, asOf, policy);
}

/**
 * One customer's review as of `asOf`, computed and not stored: a read that fails is tried again
 * (throttling, a dropped connection) before the review is a failed one, reported with its error.
 */
async function reviewWithRetries(
  deps: Pick<ReviewDeps, 'store' | 'retryBaseMs'>,
  runId: string,
  asOf: IsoDate,
  item: DueCustomer,
  policy: Policy,
  now: string,
  attempts: number,
): Promise<Review> {
  for (let attempt = 1; ; attempt++) {
    try {
      const part = await deps.store.loadCustomerPartition(item.customerId);
      return reviewCustomer({
        runId,
        customerId: item.customerId,
        due: item.reason,
        asOf,
        now,
        file: asOfFile(creditFileOf(item.customerId, part), asOf),
        previous: part.review,
        alerts: part.alerts ?? [],
        policy,
      });
    } catch (error) {
      if (attempt < attempts) {
        await sleep((deps.retryBaseMs ?? 100) * 4 ** (attempt - 1));
        continue;
      }
      return failedReview(
        { runId, customerId: item.customerId, due: item.reason, asOf, now, policyId: policy.id },
        error,
      );
    }
  }
}

/** What a review run would do, before anything changes: its counts and every customer's decision. */
export interface ReviewPreview {
  readonly asOf: IsoDate;
  readonly policyId: string;
  readonly selected: number;
  readonly counts: ReviewCounts;
  /** How the run would ask people: nothing to ask, one request per customer, or one for the batch. */
  readonly approvals: 'none' | 'each' | 'batch';
  /** Every customer due, in id order, without the factors (the run's own page has them). */
  readonly reviews: readonly Review[];
}

/** How a previewed run would ask people, in words (the CLI's dry run and the console's preview). */
export const PREVIEW_APPROVAL_WORDS: Readonly<Record<ReviewPreview['approvals'], string>> = {
  none: 'nothing needs approval',
  each: 'one approval request per customer',
  batch: 'one approval request for the whole batch, with its table',
};

/** The run id a preview's reviews carry: nothing is stored under it. */
export const PREVIEW_RUN = 'preview';

/**
 * A dry run: the customers a review as of `asOf` would select, each re-scored and decided exactly
 * as the run would (the same selection, `reviewCustomer` and approval rule), and nothing stored,
 * no limit written, no approval asked, nobody told. What the console and `sentinel review run
 * --dry-run` show before a person runs the review.
 */
export async function previewReview(
  deps: Pick<ReviewDeps, 'store' | 'policy' | 'clock' | 'concurrency' | 'retryBaseMs'>,
  asOf: IsoDate,
): Promise<ReviewPreview> {
  const policy = await deps.policy();
  const due = await dueNow(deps.store, asOf, policy);
  const now = deps.clock.now().toISOString();
  const reviews = await mapLimit(due, deps.concurrency ?? 8, async (item) => {
    const { factors: _f, ...r } = await reviewWithRetries(
      deps,
      PREVIEW_RUN,
      asOf,
      item,
      policy,
      now,
      CUSTOMER_ATTEMPTS,
    );
    return r;
  });
  const asking = reviews.filter((r) => r.status === 'done' && r.outcome === 'approval').length;
  return {
    asOf,
    policyId: policy.id,
    selected: due.length,
    counts: countsOf(reviews),
    approvals: asking === 0 ? 'none' : asking > policy.review.approvals.batchAbove ? 'batch' : 'each',
    reviews,
  };
}

const secondsBetween = (from: string, to: string) => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);

export function countsOf(reviews: readonly Review[]): ReviewCounts {
  const outcomes = { cut: 0, raise: 0, approval: 0, keep: 0 };
  let reviewed = 0;
  let failed = 0;
  let ratingUp = 0;
  let ratingDown = 0;
  let attention = 0;
  for (const r of reviews) {
    if (r.attention) attention++;
    if (r.status === 'failed') {
      failed++;
      continue;
    }
    reviewed++;
    if (r.outcome) outcomes[r.outcome]++;
    if (r.previous && r.rating && r.rating !== r.previous.rating) {
      if (r.rating > r.previous.rating) ratingDown++;
      else ratingUp++;
    }
  }
  return { reviewed, failed, outcomes, ratingUp, ratingDown, attention };
}
