import type { Dispute } from '../collections/disputes.ts';
import type { Assignment, CallLog, ContactRecord, CreditHold, Handover } from '../collections/ports.ts';
import type { PromiseToPay } from '../collections/promises.ts';
import type { IsoDate } from '../core/dates.ts';
import type { ReceivableSummary } from '../core/receivables.ts';
import type {
  ExternalScore,
  FinancialStatement,
  Guarantee,
  InsuranceCover,
  TransferCommitment,
} from '../core/records.ts';
import type { CustomerBooksRecord } from '../ingest/ports.ts';
import type { LimitChange } from '../reviews/ports.ts';
import type { ReviewState } from '../reviews/review.ts';
import type { Alert, AlertDigest, Notification } from './alerts.ts';
import type { ExplainedAssessment } from './assess.ts';
import type { RuleName, Severity } from './policy.ts';

/** An assessment as stored: everything but the working figures, with its words. */
export type StoredAssessment = ExplainedAssessment;

/** Everything stored on one customer, read in one Query. */
export interface CustomerPartition {
  readonly books: CustomerBooksRecord;
  readonly summary?: ReceivableSummary | undefined;
  readonly financials: FinancialStatement[];
  readonly guarantees: Guarantee[];
  readonly insurance: InsuranceCover[];
  readonly scores: ExternalScore[];
  /** Approved transfers to or for the customer (written by the transfer workflow). */
  readonly transfers: TransferCommitment[];
  /** Active alerts (one per rule). */
  readonly alerts: Alert[];
  readonly assessment?: StoredAssessment | undefined;
  /** Where the customer stands after its last periodic review (functions/reviews). */
  readonly review?: ReviewState | undefined;
  /** The limits set on the customer's file (by a review, or an approved change), oldest first. */
  readonly limitChanges?: readonly LimitChange[] | undefined;
  /**
   * Where the master data's credit limit came from: the ingest run that last wrote the master data
   * and, when a review or an approval set the limit since, who and on which day (README "Periodic
   * reviews": a later upload writes the ERP's limit again).
   */
  /** Which rows came from packs of settled history (absent: none did). */
  readonly packed?: PackedHistory | undefined;
  /** The collection plan's steps taken for the customer, claimed or sent (functions/collections). */
  readonly contacts?: readonly ContactRecord[] | undefined;
  /** Promises to pay the customer made (functions/collections/promises.ts), oldest first. */
  readonly promises?: readonly PromiseToPay[] | undefined;
  /** Disputes recorded on its invoices, open or resolved (functions/collections/disputes.ts). */
  readonly disputes?: readonly Dispute[] | undefined;
  /** Its credit hold, on or lifted (the latest; functions/collections). */
  readonly creditHold?: CreditHold | undefined;
  /** Its hand-overs to legal or an agency, oldest first (functions/collections). */
  readonly handovers?: readonly Handover[] | undefined;
  /** Who works its collections (functions/collections). */
  readonly assignment?: Assignment | undefined;
  /** Calls and visits logged, oldest first (functions/collections). */
  readonly calls?: readonly CallLog[] | undefined;
  readonly profileSource?:
    | {
        readonly runId?: string | undefined;
        readonly limitSetBy?: string | undefined;
        readonly limitSetOn?: IsoDate | undefined;
      }
    | undefined;
}

/** What an evaluation stores for one customer. */
export interface EvaluationWrite {
  readonly customerId: string;
  /** The latest assessment, when it changed. */
  readonly assessment?: StoredAssessment | undefined;
  /** Also keep it as a dated entry of the history (score, rating, limit or policy changed). */
  readonly history?: boolean | undefined;
  readonly alerts: readonly Alert[];
}

/** The rows of a customer's history that may be packed (settled and old enough), by id. */
export interface HistoryPick {
  readonly invoiceIds: ReadonlySet<string>;
  readonly paymentIds: ReadonlySet<string>;
}

/** Which of a customer's rows were read from packs (README "Settled history, packed"). */
export interface PackedHistory {
  readonly invoiceIds: ReadonlySet<string>;
  readonly paymentIds: ReadonlySet<string>;
  /** Rows still stored in full beside an identical packed copy: deleted by the next packing. */
  readonly copies: number;
}

/** How a packing goes: when it runs, how many new rows make a pack, how long full copies stay. */
export interface PackOptions {
  readonly now: Date;
  /** New rows packed only when at least this many are picked and still stored in full. */
  readonly minRows: number;
  /** A full row is deleted only once its pack is this old. */
  readonly settleMs: number;
  /** Full rows deleted at most by one packing (the rest by the next). @default 250 */
  readonly maxDeletes?: number | undefined;
}

/** What one packing of a customer's settled history did. */
export interface PackOutcome {
  /** Rows put into a new pack. */
  readonly packed: number;
  /** Rows stored in full that were deleted, each one packed by an earlier packing. */
  readonly deleted: number;
  /** Another packing of the customer went first: what this one wrote was taken back. */
  readonly raced: boolean;
  /** The same for the packed payments' allocations (packed with them, deleted in the same budget). */
  readonly allocations: { readonly packed: number; readonly deleted: number };
}

export interface CreditStore extends NotificationLedger {
  listCustomerIds(): Promise<string[]>;
  loadCustomerPartition(customerId: string): Promise<CustomerPartition>;
  saveEvaluation(results: readonly EvaluationWrite[]): Promise<void>;
  /**
   * Packs the picked rows still stored in full (README "Settled history, packed"), and deletes the
   * full rows (up to `maxDeletes`) that an earlier packing packed at least `settleMs` before `now`. A store without it
   * keeps every row in full.
   */
  packHistory?(customerId: string, pick: HistoryPick, opts: PackOptions): Promise<PackOutcome>;
  /** Every active (or resolved) alert, however many: the store's pages are read to the end. */
  listAlerts(which: AlertList, filter?: AlertFilter): Promise<Alert[]>;
  /** How many alerts `listAlerts` would give, counted without reading them. */
  countAlerts(which: AlertList, filter?: AlertFilter): Promise<number>;
  /** Every customer's stored receivables summary (open amount by currency, for the book's concentration). */
  listSummaries(): Promise<{ customerId: string; currency: string; openAmount: number }[]>;
}

/** The active alerts (open, acknowledged, snoozed) or the resolved ones. */
export type AlertList = 'active' | 'resolved';

/** Narrows a list of alerts: to one severity, one status of the active ones, one rule, one customer. */
export interface AlertFilter {
  readonly severity?: Severity | undefined;
  readonly status?: 'open' | 'acknowledged' | 'snoozed' | undefined;
  readonly rule?: RuleName | undefined;
  readonly customerId?: string | undefined;
}

/** A policy as stored: the validated document, its id, who set it and when. */
export interface StoredPolicy {
  readonly id: string;
  readonly document: unknown;
  readonly setAt: string;
  readonly setBy: string;
  /** The policy-change request whose last approval put it in force (absent: set before approvals). */
  readonly approvedIn?: string | undefined;
}

/**
 * A credit policy waiting for the approval chain (README "The policy"): stored when it is uploaded
 * or set, under the id of the approval request that decides it. It is put in force (`StoredPolicy`)
 * only when the request's last level approves; where it stands is the request's status.
 */
export interface PendingPolicy {
  /** The approval request (a transfer of type `policy_change`) that decides it. */
  readonly transferId: string;
  /** Its policy id, `<version>+<hash>`. */
  readonly id: string;
  /** SHA-256 (hex) of its canonical JSON. */
  readonly hash: string;
  readonly document: unknown;
  /** ISO instant it was uploaded or set. */
  readonly proposedAt: string;
  /** Who asked: a person of the approval policy, or `policy-upload` for a file uploaded under policy/. */
  readonly requester: string;
  /** Where it came from: the uploaded object (`s3://...?versionId=`), or `sentinel policy set`. */
  readonly source: string;
  /** The policy in force when it was proposed, which its diff is against. */
  readonly replaces: string;
  /** Field by field, what it changes (old -> new values as JSON text). */
  readonly diff: readonly {
    readonly path: string;
    readonly from?: string | undefined;
    readonly to?: string | undefined;
  }[];
}

/** A new credit policy put to the approval chain (uploaded under policy/, or `sentinel policy set`). */
export interface PolicyProposal {
  /** Validated (an invalid policy never gets here). */
  readonly document: unknown;
  /** A person of the approval policy (id, email or Slack id), or `policy-upload` for an upload. */
  readonly requester: string;
  /** Where it came from: the uploaded object, or `sentinel policy set`. */
  readonly source: string;
  /** Makes asking twice (an upload ingested again) find the same request. @default a new request */
  readonly key?: string | undefined;
}

export type PolicyProposalOutcome =
  | {
      readonly ok: true;
      readonly transferId: string;
      readonly policyId: string;
      readonly superseded: readonly string[];
    }
  | { readonly ok: false; readonly problem: string; readonly field: string };

/** Where a new credit policy goes: the approval chain (the transfer app's `requestPolicyChange`). */
export interface PolicyChanges {
  propose(p: PolicyProposal): Promise<PolicyProposalOutcome>;
}

/** Where alerts go: SNS (with attributes) on AWS, the outbox and Slack locally. */
export interface AlertNotifier {
  notify(notifications: readonly Notification[], asOf: IsoDate): Promise<void>;
  /** Sends the daily digest (after the daily run) to the channels that asked for it. */
  digest(digest: AlertDigest): Promise<void>;
}

/** A notification record: who claimed it, when, and what they were to send. */
export interface NotificationClaim {
  /** `<alertId>#opened` or `<alertId>#escalated#<severity>`. */
  readonly key: string;
  readonly claimant: string;
  /** ISO instant of the claim. */
  readonly claimedAt: string;
  readonly state: 'claimed' | 'sent';
  readonly sentAt?: string | undefined;
  readonly asOf: IsoDate;
  readonly notification: Notification;
}

/** Where notification records live (the alerts' table). */
export interface NotificationLedger {
  /**
   * Claims `claim.key`: wins when nobody holds it, or when its holder claimed it before
   * `staleBefore` and never marked it sent. Otherwise returns the record that holds it.
   */
  claimNotification(claim: NotificationClaim, staleBefore: string): Promise<NotificationClaim | undefined>;
  markNotificationSent(key: string, claimant: string, at: string): Promise<void>;
  /**
   * Gives a claim up (its send failed), if `claimant` still holds it and it was not sent: the
   * record stays, with what to send, as if claimed long ago, so the next claim or sweep takes it.
   */
  releaseNotification(key: string, claimant: string): Promise<void>;
  /** Claims not marked sent, claimed before `staleBefore` (their claimants are taken for dead). */
  staleNotifications(staleBefore: string): Promise<NotificationClaim[]>;
  /** Whether the alert of `rule` opened at `openedAt` has been resolved since. */
  alertResolved(customerId: string, rule: string, openedAt: string): Promise<boolean>;
}
