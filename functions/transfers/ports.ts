import type { AuditEvent, AuditRecord } from '../core/audit.ts';
import type { IsoDate } from '../core/dates.ts';
import type { Page, PageRequest } from '../core/paging.ts';
import type { TransferCommitment } from '../core/records.ts';
import type { RiskClass } from '../credit/policy.ts';
import type { ChainLevel } from './approval-policy.ts';
import type { GateReport } from './gate.ts';
import type { TransferRequest } from './request.ts';

/** Narrows the list of transfers: a status, a type, a currency, a range of requested dates (both ends included). */
export interface TransferFilter {
  readonly status?: TransferStatus | undefined;
  readonly type?: string | undefined;
  readonly currency?: string | undefined;
  readonly from?: IsoDate | undefined;
  readonly to?: IsoDate | undefined;
}

/**
 * pending: at the gate or waiting for a level; approved: every level approved and the transfer
 * recorded; rejected: an approver said no; recalled: the requester took it back; expired: a level
 * went unanswered after every reminder; refused: the gate found no chain that could approve it;
 * failed: a step of its workflow failed after its retries (its links void, ops alerted): it is
 * retried (`TransferApp.retry`) or recalled.
 */
export type TransferStatus =
  | 'pending'
  | 'approved'
  | 'rejected'
  | 'recalled'
  | 'expired'
  | 'refused'
  | 'failed';
export const TRANSFER_STATUSES: readonly TransferStatus[] = [
  'pending',
  'approved',
  'rejected',
  'recalled',
  'expired',
  'refused',
  'failed',
];

/** Why a transfer's workflow failed (RecordFailure in statemachines/transfer-approval.asl.json). */
export interface TransferFailure {
  /** The error's name (e.g. `Error`, `NoticeNotSent`, `States.TaskFailed`). */
  readonly error: string;
  /** Its message, at most 500 characters, with anything like a task token cut out. */
  readonly cause: string;
  /** The state that failed: RiskGate, AwaitDecision, Execute or Close. */
  readonly state: string;
  /** ISO instant it was recorded. */
  readonly at: string;
  /** The status it had when it failed: a retry puts it back (`approved`: only the execute step runs again). */
  readonly from: TransferStatus;
}

export interface Transfer {
  /** `TR-` and 26 random base32 characters. */
  readonly transferId: string;
  readonly request: TransferRequest;
  /** ISO instant. */
  readonly requestedAt: string;
  /** The finance team's day the request was made: the gate's figures are as of it. */
  readonly requestedOn: IsoDate;
  readonly status: TransferStatus;
  readonly executionId?: string | undefined;
  /** The gate's checks, shown to every approver as evidence. */
  readonly gate?: GateReport | undefined;
  /** The chain the gate planned, and why it has that many levels. */
  readonly levels?: readonly ChainLevel[] | undefined;
  readonly chainWhy?: readonly string[] | undefined;
  /** The level (1-based) waiting for its approvals while pending after the gate. */
  readonly level?: number | undefined;
  /** ISO instant it left `pending`. */
  readonly closedAt?: string | undefined;
  /** Who ended it (the rejecting approver, the requester who recalled, `system`). */
  readonly closedBy?: string | undefined;
  /** Why it ended, in words. */
  readonly outcome?: string | undefined;
  /** The finance team's day the last level approved it: from then on it counts in the exposure. */
  readonly approvedOn?: IsoDate | undefined;
  /** The day the money left, as finance marked it (see `TransferApp.markPaid`). */
  readonly paidOn?: IsoDate | undefined;
  readonly paidBy?: string | undefined;
  /** ISO instant it was marked paid. */
  readonly paidAt?: string | undefined;
  /**
   * Set on a credit release or limit decrease a periodic review asked for: approving it sets the
   * customer's credit limit from `from` to `to` (no money moves, so nothing counts in the exposure
   * or is paid).
   */
  readonly limitChange?: LimitChangeAsked | undefined;
  /**
   * Set on a review run's batch of limit changes (asked once instead of once per customer):
   * approving it sets every limit of its table (`TransferStore.batchItems`).
   */
  readonly limitBatch?: LimitBatch | undefined;
  /** Set while (and after) the workflow failed: what failed, where and when. */
  readonly failure?: TransferFailure | undefined;
  /** How many times it was retried after a failure (each retry is a new execution, `<id>-r<n>`). */
  readonly retries?: number | undefined;
  /** The last retry: who and when. */
  readonly retriedBy?: string | undefined;
  readonly retriedAt?: string | undefined;
  /**
   * Set on a change of the credit policy (type `policy_change`): approving it puts the pending
   * policy (`PendingPolicy`, stored under this transfer's id) in force. No money moves.
   */
  readonly policyChange?: PolicyChangeAsked | undefined;
  /**
   * Set on a credit application's initial limit (type `credit_application`, with `limitChange`
   * from none): approving it opens the account from the application and sets the limit; its end
   * decides the application (functions/applications/app.ts).
   */
  readonly application?: ApplicationAsked | undefined;
  /**
   * Set on an order release (type `order_release`): approving it lets the held order ship until
   * `until` (functions/checks/holds.ts); its end without approval leaves it held. No money moves.
   */
  readonly orderRelease?: OrderReleaseAsked | undefined;
}

/** A held order on the approval chain: the hold's evidence the approvers read beside the request. */
export interface OrderReleaseAsked {
  readonly orderId: string;
  /** The order's amount in its own currency (minor units). */
  readonly orderAmount: number;
  readonly orderCurrency: string;
  /** The last day the release would hold. */
  readonly until: string;
  readonly heldOn: string;
  /** The hold's reasons, code and sentence. */
  readonly reasons: readonly string[];
  /** In the credit currency (the request's): the exposure with the order, the limit, the headroom after. */
  readonly exposure: number;
  readonly limit: number | null;
  readonly headroomAfter: number | null;
  readonly rating: string | null;
  readonly riskClass: string | null;
}

/** A credit application on the approval chain: what the approvers read beside the request. */
export interface ApplicationAsked {
  readonly applicationId: string;
  /** Minor units of the request's currency. */
  readonly requestedLimit: number;
  readonly score: number;
  readonly rating: string;
  readonly riskClass: string;
  /** What the application lacks, in words. */
  readonly missing: readonly string[];
  /** Open legal disputes, references that say it pays late. */
  readonly flags: readonly string[];
  /** How the initial limit was built. */
  readonly basis: readonly string[];
}

/** A credit policy change on the approval chain: which policy, its hash, what it replaces. */
export interface PolicyChangeAsked {
  readonly policyId: string;
  /** SHA-256 (hex) of the new policy's canonical JSON. */
  readonly hash: string;
  /** The policy in force when it was asked. */
  readonly replaces: string;
  /** How many fields it changes. */
  readonly changes: number;
  /** Where it came from (the uploaded object, or `sentinel policy set`). */
  readonly source: string;
  /** Earlier policy changes still pending that this one recalled. */
  readonly supersedes?: readonly string[] | undefined;
}

/** A credit limit change on the approval chain (a first limit, an increase or a decrease a review asked for). */
export interface LimitChangeAsked {
  readonly from?: number | undefined;
  readonly to: number;
  /** The review that recommended it (`<run>/<customer>`). */
  readonly reviewId: string;
}

/** A review run's limit changes asked for together: what the approvers read at the top. */
export interface LimitBatch {
  readonly runId: string;
  readonly asOf: IsoDate;
  readonly count: number;
  /** Per currency: how many changes, and the increases and decreases they add up to (minor units). */
  readonly byCurrency: readonly {
    readonly currency: string;
    readonly count: number;
    readonly increase: number;
    readonly decrease: number;
  }[];
}

/** One line of a batch's table: a customer's limit, from what to what, and why (the review's words). */
export interface LimitBatchItem {
  readonly customerId: string;
  readonly name?: string | undefined;
  readonly currency: string;
  readonly from?: number | undefined;
  readonly to: number;
  readonly reviewId: string;
  readonly request: 'first' | 'increase' | 'decrease';
  readonly rating?: string | undefined;
  readonly riskClass?: RiskClass | undefined;
  readonly exposure?: number | undefined;
  readonly overdue?: number | undefined;
  readonly maxDaysPastDue?: number | undefined;
  readonly why: string;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'void';

/** One approver's say on one level of one transfer: what a link points at. */
export interface Approval {
  /** 26 random base32 characters (128 bits): the link names it, the task token is stored under it. */
  readonly approvalId: string;
  readonly transferId: string;
  readonly level: number;
  /** Person id of the approval policy. */
  readonly approver: string;
  /** Set when the approver stands in for someone away. */
  readonly onBehalfOf?: string | undefined;
  readonly status: ApprovalStatus;
  /** ISO instants. */
  readonly notifiedAt: string;
  readonly expiresAt: string;
  /** Reminders sent for it so far. */
  readonly reminders: number;
  readonly decidedAt?: string | undefined;
  readonly comment?: string | undefined;
  /** The channel the decision came through. */
  readonly via?: 'email' | 'slack' | undefined;
  /** The request that decided it (see DecisionRecord.claimant). */
  readonly claimant?: string | undefined;
  /** Why it was voided (another approver rejected, recalled, expired, level complete). */
  readonly voidReason?: string | undefined;
}

export type Decision = 'approved' | 'rejected';

/** What `updateTransfer` requires of the transfer as stored before it writes. */
export interface TransferExpectation {
  readonly status: TransferStatus;
  readonly level?: number | undefined;
  /** Only while it is not marked paid. */
  readonly unpaid?: boolean | undefined;
}

/** A decision as it is recorded on an approval. */
export interface DecisionRecord {
  readonly status: Decision;
  readonly decidedAt: string;
  readonly comment?: string | undefined;
  /** How it came (unknown when a decision stopped half-way is finished by someone else). */
  readonly via?: 'email' | 'slack' | undefined;
  /**
   * The one request that made this decision (random): a write of it that went through with its
   * response lost, sent again by the SDK, is known as its own, and a second click is not.
   */
  readonly claimant?: string | undefined;
}

/** The level a notice is about: its number, of how many, its name and the approvals it needs. */
export interface NoticeLevel {
  readonly level: number;
  readonly of: number;
  readonly name: string;
  readonly required: number;
}

/**
 * A level of a transfer as decided so far: the one record every decision of the level is
 * claimed on (a conditional write against the count it read), so the first decision that
 * completes or ends the level is its only outcome.
 */
export interface LevelState {
  readonly level: number;
  /** The approvals counted towards the level's `required`, in the order they were counted. */
  readonly approvedBy: readonly {
    readonly approvalId: string;
    readonly approver: string;
    readonly at: string;
    /** The request that counted it (see DecisionRecord.claimant). */
    readonly claimant?: string | undefined;
  }[];
  /** Set once, by the approval that completed the level or the rejection that ended it. */
  readonly outcome?: Decision | undefined;
  readonly decidedBy?: string | undefined;
  readonly decidedApproval?: string | undefined;
  readonly decidedAt?: string | undefined;
  /** The request that ended the level (see DecisionRecord.claimant). */
  readonly claimant?: string | undefined;
}

export type LevelDecideResult =
  /** Counted (an approval) or the level ended (a rejection); `state.outcome` says whether it completed it. */
  | { readonly ok: true; readonly state: LevelState }
  /** Not counted: the level was decided already, or this approval was counted before. */
  | { readonly ok: false; readonly state: LevelState };

/** What an outbox record stands for: one notice to one person about one wait of one level. */
export interface OutboxKey {
  readonly transferId: string;
  /** The level asked; 0 for the requester's outcome notice. */
  readonly level: number;
  readonly kind: 'approve' | 'remind' | 'escalate' | 'outcome';
  /** 0 for the first ask, then the reminder number; for an outcome, the try (the transfer's retries). */
  readonly round: number;
  /** Person id. */
  readonly to: string;
}

export type DecideResult =
  | { readonly ok: true; readonly approval: Approval }
  /** The approval was not pending any more: as it stands now (first decision wins). */
  | { readonly ok: false; readonly current: Approval | undefined };

/**
 * Transfers, their approvals and the audit trail. Every state change that two people could race
 * on is a conditional write: the first wins, the second is told what won.
 */
export interface TransferStore {
  /** Stores a new transfer; throws if its id exists. */
  createTransfer(t: Transfer): Promise<void>;
  getTransfer(transferId: string): Promise<Transfer | undefined>;
  /**
   * Applies `patch` only while the transfer is in status `expect.status` (and, when given, on level
   * `expect.level`; with `unpaid`, only while it is not marked paid). False when it is not (someone
   * else changed it first); nothing is written then.
   */
  updateTransfer(
    transferId: string,
    patch: Partial<Omit<Transfer, 'transferId' | 'request' | 'requestedAt'>>,
    expect: TransferExpectation,
  ): Promise<boolean>;
  /** Puts an approved transfer on the customer's credit file, where the exposure counts it (idempotent). */
  putCommitment(c: TransferCommitment): Promise<void>;
  /** Every transfer (or those `filter` selects), newest first. */
  listTransfers(filter?: TransferFilter): Promise<Transfer[]>;
  /** A page of the transfers (or of those `filter` selects), newest first, with how many there are. */
  transfersPage(req: PageRequest, filter?: TransferFilter): Promise<Page<Transfer>>;
  /** A customer's transfers, newest first (the gate's history and duplicate checks). */
  transfersOf(customerId: string): Promise<Transfer[]>;
  /** Stores a batch's table with its transfer (idempotent: the same lines under the same keys). */
  putBatchItems(transferId: string, items: readonly LimitBatchItem[]): Promise<void>;
  /** A batch's table, every line, in customer order. */
  batchItems(transferId: string): Promise<LimitBatchItem[]>;

  /** Stores new approvals (pending) with the task token their level waits on. */
  putApprovals(approvals: readonly Approval[], taskToken: string): Promise<void>;
  /** Replaces the token and the reminder count of a level's pending approvals (a reminder is a new wait). */
  renewApprovals(
    transferId: string,
    level: number,
    taskToken: string,
    patch: { readonly reminders: number; readonly expiresAt: string },
  ): Promise<void>;
  getApproval(transferId: string, approvalId: string): Promise<Approval | undefined>;
  /** Every approval of a transfer, read consistently (k-of-n counts on it). */
  approvalsOf(transferId: string): Promise<Approval[]>;
  /** The task token an approval's level waits on; never returned with the approval itself. */
  taskToken(transferId: string, approvalId: string): Promise<string | undefined>;
  /** Records a decision only while the approval is pending: the first decision wins. */
  decide(transferId: string, approvalId: string, d: DecisionRecord): Promise<DecideResult>;
  /**
   * Voids every pending approval of a transfer (all its links die at once), or with `only.level`
   * those of one level, but those in `only.keep` (approvals already counted on their level, whose
   * own record is being written); returns how many.
   */
  voidPending(
    transferId: string,
    reason: string,
    only?: { readonly level?: number; readonly keep?: readonly string[] },
  ): Promise<number>;
  /**
   * Claims a level for a decision: an approval is counted (and completes the level when it is the
   * `required`-th), a rejection ends it, only while the level has no outcome and the count is the
   * one read; a writer that lost the race reads again. Exactly one outcome per level.
   */
  decideLevel(
    transferId: string,
    level: number,
    required: number,
    approval: { readonly approvalId: string; readonly approver: string },
    d: { readonly status: Decision; readonly decidedAt: string; readonly claimant?: string | undefined },
  ): Promise<LevelDecideResult>;
  /** A level as decided so far (undefined before its first decision). */
  levelState(transferId: string, level: number): Promise<LevelState | undefined>;
  /**
   * Claims the sending of one notice: true when this caller is to send it (nobody claimed it, a
   * claim older than `staleBefore` never finished, or the claim is already `claimant`'s: a write
   * whose response was lost and that the SDK sent again); false when it was sent or is being sent.
   */
  claimNotice(k: OutboxKey, claimedAt: string, staleBefore: string, claimant?: string): Promise<boolean>;
  /** Marks a claimed notice sent. */
  noticeSent(k: OutboxKey, sentAt: string): Promise<void>;
  /** Gives a claim up after the send failed, so that a retry sends it. */
  releaseNotice(k: OutboxKey): Promise<void>;
  /** The outbox records of a level's notices (what was asked, and whether it was sent). */
  noticesOf(
    transferId: string,
    level: number,
  ): Promise<(OutboxKey & { readonly state: 'claimed' | 'sent'; readonly at: string })[]>;
  /** Pending approvals across every transfer, oldest first. */
  listPendingApprovals(): Promise<Approval[]>;

  /** Appends to the one audit trail (seq and hash chained to the last record). */
  /**
   * Appends a record to the trail. `once`: the step's own key; a retry of a step that appended
   * already (it stopped before saying so) gets the record the first try made, not a second one.
   */
  appendAudit(e: AuditEvent, opts?: { readonly once?: string }): Promise<AuditRecord>;
  /** The whole trail in sequence order. */
  auditTrail(): Promise<AuditRecord[]>;
  /** The head kept apart from the records: the last record's seq and hash as last written. */
  auditHead(): Promise<{ readonly seq: number; readonly hash: string } | undefined>;
}

/** A person a notice goes to (an approver of the policy, or the requester when known). */
export interface Recipient {
  readonly id: string;
  readonly name: string;
  readonly email?: string | undefined;
  readonly slackId?: string | undefined;
}

/** A decision already taken on a transfer, as the approval page and the approval notices list it. */
export interface DecisionSeen {
  readonly level: number;
  /** The approver's name (the approval policy's), and whom they stood in for. */
  readonly by: string;
  readonly onBehalfOf?: string | undefined;
  readonly decision: Decision;
  readonly at: string;
  readonly comment?: string | undefined;
  readonly via?: 'email' | 'slack' | undefined;
}

/**
 * What an approver reads beside the transfer and its gate report, read once from the store for
 * the approval page and the notices alike (`TransferApp.approverContext`): the customer's name as
 * its master data has it now, the requester's name, and the decisions taken so far.
 */
export interface ApproverContext {
  /** Undefined name: no master data on file (or a review's batch, which names no one customer). */
  readonly customer: { readonly id: string; readonly name?: string | undefined };
  /** The requester's name (the approval policy's). */
  readonly requester: string;
  /** Every decision on the transfer (but the reader's own, on a page), by level then time. */
  readonly decisions: readonly DecisionSeen[];
}

/**
 * What the transfer workflow tells people. `approve` and `remind` carry the approver's signed
 * link; `escalate` tells someone above that a level is still unanswered (no link); `outcome` tells
 * the requester how it ended (or that it was approved).
 */
export type ApprovalNotice =
  | {
      readonly kind: 'approve' | 'remind';
      readonly transfer: Transfer;
      readonly to: Recipient;
      readonly level: NoticeLevel;
      /** The confirmation page: `<baseUrl>/approvals/<token>`; GET shows the evidence, a POST there decides. */
      readonly url: string;
      /** The signed link token (also the Slack button value). */
      readonly token: string;
      readonly onBehalfOf?: string | undefined;
      readonly reminder: number;
      /** ISO instant the link stops working. */
      readonly expiresAt: string;
      /** The customer's name and the decisions so far, shown before the link (absent: not read). */
      readonly context?: ApproverContext | undefined;
    }
  | {
      readonly kind: 'escalate';
      readonly transfer: Transfer;
      readonly to: Recipient;
      readonly level: NoticeLevel;
      /** Who has not answered. */
      readonly waitingOn: readonly string[];
      readonly context?: ApproverContext | undefined;
    }
  | {
      readonly kind: 'outcome';
      readonly transfer: Transfer;
      readonly to: Recipient;
    };

/** Where notices go: email (SES / SNS email) and Slack on AWS; `.eml` files and Slack locally. */
export interface ApprovalNotifier {
  send(notices: readonly ApprovalNotice[]): Promise<void>;
}
