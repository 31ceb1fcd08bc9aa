import type { AuditEvent } from '../core/audit.ts';
import type { IsoDate } from '../core/dates.ts';
import type { Alert } from '../credit/alerts.ts';
import type { CustomerPartition } from '../credit/ports.ts';
import type { DueCustomer, Review, ReviewOutcome, ReviewState } from './review.ts';

/** One run of the periodic review: what it selected, and once reported, what came of it. */
export interface ReviewRun {
  /** The workflow execution's name: a retried or resumed run keeps it. */
  readonly runId: string;
  readonly asOf: IsoDate;
  readonly policyId: string;
  readonly trigger: 'schedule' | 'manual';
  readonly startedAt: string;
  readonly status: 'running' | 'done';
  /** Customers selected (the manifest's length). */
  readonly selected: number;
  readonly manifest: ManifestRef;
  readonly finishedAt?: string | undefined;
  readonly counts?: ReviewCounts | undefined;
  /** Where the report landed (object keys or file paths). */
  readonly report?: { readonly csv: string; readonly html: string } | undefined;
  /** How the run asked people for the limit changes that need approval (none asked: undefined). */
  readonly approvals?: ApprovalsAsked | undefined;
}

/** One request per customer, or one for the whole batch (above the policy's `batchAbove`). */
export type ApprovalsAsked =
  | { readonly mode: 'each'; readonly count: number; readonly byCustomer: Readonly<Record<string, string>> }
  | { readonly mode: 'batch'; readonly count: number; readonly transferId: string };

export interface ReviewCounts {
  readonly reviewed: number;
  readonly failed: number;
  readonly outcomes: Readonly<Record<ReviewOutcome, number>>;
  readonly ratingUp: number;
  readonly ratingDown: number;
  readonly attention: number;
}

/** Where the selected customers are listed: an S3 object on AWS (the Distributed Map reads it), a file locally. */
export interface ManifestRef {
  readonly Bucket: string;
  readonly Key: string;
}

export interface ManifestStore {
  put(runId: string, items: readonly DueCustomer[]): Promise<ManifestRef>;
  get(ref: ManifestRef): Promise<DueCustomer[]>;
}

/** Where a run's report goes: the reports bucket on AWS, the outbox locally. */
export interface ReportStore {
  put(
    runId: string,
    report: { readonly csv: string; readonly html: string },
  ): Promise<{ csv: string; html: string }>;
}

/** A limit a review set, kept on the customer's file with who and why. */
export interface LimitChange {
  readonly customerId: string;
  readonly currency: string;
  readonly from: number | undefined;
  readonly to: number;
  readonly on: IsoDate;
  readonly at: string;
  readonly by: string;
  readonly reviewId: string;
  readonly reason: string;
}

export interface ReviewStore {
  listCustomerIds(): Promise<string[]>;
  /** Every customer's state after its last review. */
  reviewStates(): Promise<ReviewState[]>;
  listAlerts(which: 'active'): Promise<Alert[]>;
  loadCustomerPartition(customerId: string): Promise<CustomerPartition>;
  /** Creates the run unless it exists; returns the run as stored (a resumed run finds its own). */
  createRun(run: ReviewRun): Promise<ReviewRun>;
  putRun(run: ReviewRun): Promise<void>;
  getRun(runId: string): Promise<ReviewRun | undefined>;
  /** Runs, newest first: every one, or the newest `limit`. */
  listRuns(limit?: number): Promise<ReviewRun[]>;
  getReview(runId: string, customerId: string): Promise<Review | undefined>;
  /** The run's stored reviews of these customers (one range read: a batch is a run of ids in order). */
  reviewsIn(runId: string, customerIds: readonly string[]): Promise<Map<string, Review>>;
  /** Stores a new review unless one exists for the run and customer; returns the one stored. */
  claimReview(r: Review): Promise<Review>;
  /** Writes a limit on the customer's master data (the change itself is kept by `completeBatch`). */
  updateProfileLimit(c: LimitChange): Promise<void>;
  /**
   * Stores what a batch did, in as few writes as the store allows: each review marked done (and a
   * copy in its customer's history), each customer's review state, each limit change's record.
   */
  completeBatch(done: {
    readonly reviews: readonly Review[];
    readonly states: readonly ReviewState[];
    readonly limitChanges: readonly LimitChange[];
  }): Promise<void>;
  /** A run's reviews by customer (those `filter` selects). */
  reviewsOf(runId: string, filter?: RunReviewsFilter): Promise<Review[]>;
  /** A customer's reviews, newest first: every one, or the newest `limit`. */
  customerReviews(customerId: string, limit?: number): Promise<Review[]>;
  getReviewState(customerId: string): Promise<ReviewState | undefined>;
  /** `once`: see the transfers' store; a retried step's record is appended once. */
  appendAudit(e: AuditEvent, opts?: { readonly once?: string }): Promise<unknown>;
}

/** Limit changes a review may not make on its own go to the approval chain. */
export interface LimitApprovals {
  /** Asks for approval of one review's limit (first limit, increase or decrease); idempotent per review. */
  requestChange(r: Review): Promise<{ transferId: string }>;
  /** Asks once for every limit change of a run that needs approval, with their table; idempotent per run. */
  requestBatch(run: ReviewRun, reviews: readonly Review[]): Promise<{ transferId: string }>;
}

/** Tells people: a limit cut (an alert, at once) and the run's summary. */
export interface ReviewNotifier {
  limitCut(r: Review): Promise<void>;
  summary(run: ReviewRun, reviews: readonly Review[]): Promise<void>;
}

/** Narrows a run's reviews: to those that need attention, to one outcome (or the failed ones). */
export interface RunReviewsFilter {
  readonly attention?: boolean | undefined;
  readonly outcome?: 'cut' | 'raise' | 'approval' | 'keep' | 'failed' | undefined;
}
