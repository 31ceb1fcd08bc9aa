import { createHash, randomBytes } from 'node:crypto';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ApplicationOutcomes } from '../applications/app.ts';
import { applicationEvidence, type CreditApplication } from '../applications/application.ts';
import { holdOn } from '../collections/ports.ts';
import { mapLimit } from '../core/concurrency.ts';
import { crashPoint } from '../core/crash.ts';
import { type IsoDate, isoDateOrNull } from '../core/dates.ts';
import type { Page, PageRequest } from '../core/paging.ts';
import { receivablesAsOf } from '../core/receivables.ts';
import { assess, handsBackCash } from '../credit/assess.ts';
import { asOfFile, creditFileOf } from '../credit/evaluate.ts';
import { POLICY_UPLOADER, type Policy, parsePolicy, policyDiff, policyHash } from '../credit/policy.ts';
import type {
  CreditStore,
  PendingPolicy,
  PolicyProposal,
  PolicyProposalOutcome,
  StoredPolicy,
} from '../credit/ports.ts';
import type { ChangeNotifier, Clock } from '../ingest/ports.ts';
import type { LimitApprovals, LimitChange } from '../reviews/ports.ts';
import type { Review } from '../reviews/review.ts';
import {
  type ApprovalPolicy,
  approvalChain,
  type ChainLevel,
  policyChangeChain,
  resolvePerson,
  unknownPerson,
} from './approval-policy.ts';
import { batchChain, batchGate, batchOf } from './batch.ts';
import { commitmentOf, movesNoMoney, setsLimits } from './exposure.ts';
import { policyChangeGate, riskGate, unappliedCashCheck } from './gate.ts';
import { type LinkKey, signLink, verifyLink } from './links.ts';
import type {
  Approval,
  ApprovalNotice,
  ApprovalNotifier,
  ApproverContext,
  Decision,
  DecisionSeen,
  LevelState,
  LimitBatch,
  LimitBatchItem,
  NoticeLevel,
  OutboxKey,
  Recipient,
  Transfer,
  TransferFailure,
  TransferFilter,
  TransferStatus,
  TransferStore,
} from './ports.ts';
import {
  byFieldOrder,
  CREDIT_APPLICATION,
  checkTransferRequest,
  ORDER_RELEASE,
  type PassedFields,
  POLICY_CHANGE,
  POLICY_SUBJECT,
  type RequestIssue,
} from './request.ts';
import {
  ExecutionExistsError,
  type StepPayload,
  TaskTokenError,
  WORKFLOW_ERRORS,
  type WorkflowPort,
} from './workflow.ts';

/**
 * Transfer approvals, the same code on AWS and locally: the request, the steps the state machine
 * calls (gate, await, execute, close), an approver's decision from a link or Slack, and a recall.
 * The task token a level waits on lives in the store under the approvals' random ids; it is never
 * put in a link, a log line, a notice or a page.
 */
export interface TransferDeps {
  readonly store: TransferStore;
  readonly workflow: WorkflowPort;
  /** The customer's credit file: the gate's figures. */
  readonly credit: Pick<CreditStore, 'loadCustomerPartition'>;
  readonly creditPolicy: () => Promise<Policy>;
  readonly approvalPolicy: () => Promise<ApprovalPolicy>;
  readonly notifier: ApprovalNotifier;
  /** Link signing keys, current first (Secrets Manager on AWS, the data dir locally). */
  readonly keys: () => Promise<readonly LinkKey[]>;
  readonly clock: Clock;
  /** The finance team's today: the gate's as-of date and the day absences are looked up on. */
  readonly today: () => IsoDate;
  /** Where the approval pages are served: links are `<baseUrl>/approvals/<token>`. */
  readonly baseUrl: () => string;
  /**
   * Told when an approved or paid transfer changes a customer's exposure, so the customer is
   * evaluated again (the ingestion's "customers changed" topic on AWS, the local evaluator offline).
   */
  readonly changes?: ChangeNotifier | undefined;
  /**
   * Where TransfersRequested, TransfersDecided (by `outcome`) and DecisionLatency go
   * (functions/core/metrics.ts). Whoever builds the app publishes them: each Lambda handler at
   * the end of its invocation, the local runtime as they come. @default none recorded
   */
  readonly metrics?: Metrics | undefined;
  /**
   * Where an approved limit increase is written (the customer's file). Without it a review's
   * credit release cannot be executed. @default none
   */
  readonly limits?: { setCreditLimit(c: LimitChange): Promise<void> } | undefined;
  /**
   * Where a credit application's request is carried out (functions/applications/app.ts): the
   * account opened before its limit is written, the application decided when the request ends.
   * Without it a credit application can be neither approved nor closed. @default none
   */
  readonly applications?: ApplicationOutcomes | undefined;
  /**
   * Where an order release is carried out (functions/checks/holds.ts): approved, the held order is
   * excepted until the release's end; ended otherwise, it stays held. Without it an order release
   * can be neither approved nor closed. @default none
   */
  readonly orderReleases?:
    | { excepted(t: Transfer): Promise<void>; decided(t: Transfer): Promise<void> }
    | undefined;
  /**
   * Where a credit policy waits for its approval and is put in force (the credit store). Without
   * it a policy change can be neither asked nor executed. @default none
   */
  readonly policies?:
    | {
        putPendingPolicy(p: PendingPolicy): Promise<void>;
        getPendingPolicy(transferId: string): Promise<PendingPolicy | undefined>;
        putPolicy(p: StoredPolicy): Promise<void>;
      }
    | undefined;
  /**
   * Told when a transfer's workflow failed (after its record and the TransfersFailed metric, which
   * a CloudWatch alarm sends to the ops topic on AWS): locally an email to ops in the outbox.
   * Telling is best effort: the record and the metric stand whatever it does. @default none
   */
  readonly opsAlert?: ((t: Transfer, failure: TransferFailure) => Promise<void>) | undefined;
  /**
   * How long the requester's outcome notice waits on a claim another attempt holds (it is sending,
   * or it died doing so and the state machine retried the step) before taking it over.
   * @default 15,000 ms (the steps function runs for up to 60 s)
   */
  readonly outcomeClaimWaitMs?: number | undefined;
}

/** The longest cause a failed transfer keeps (its record, its page, the ops email). */
const CAUSE_MAX = 500;

/**
 * The cause of a failure as it is stored and shown: a Lambda error's message (not its stack), on
 * one line, at most CAUSE_MAX characters, with task tokens (long opaque strings, the local
 * `local-<uuid>` ones) and signed link tokens cut out: they are credentials.
 */
export function failureCause(cause: unknown): string {
  let text = typeof cause === 'string' ? cause : cause === undefined ? '' : JSON.stringify(cause);
  try {
    const parsed = JSON.parse(text) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') text = parsed.errorMessage;
  } catch {
    // not JSON: the cause as it is
  }
  const clean = text
    .replace(/local-[0-9a-f-]{36}/gi, '[token]')
    .replace(/[A-Za-z0-9+/=_.-]{80,}/g, '[token]')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > CAUSE_MAX ? `${clean.slice(0, CAUSE_MAX - 3)}...` : clean;
}

/** The reason a failure voids a transfer's open links with: a retry opens those of the level it stood at again. */
const FAILED_VOID = 'the transfer failed';

/** The ends of a transfer the TransfersDecided metric counts (its `outcome` dimension). */
const DECIDED_OUTCOMES: ReadonlySet<TransferStatus> = new Set([
  'approved',
  'rejected',
  'recalled',
  'expired',
]);

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 26 characters of Crockford base32 from 130 random bits (the top 2 unused): 128 bits of entropy. */
export function randomId(): string {
  const bytes = randomBytes(17);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 26; i++) {
    out += CROCKFORD[Number(bits & 31n)];
    bits >>= 5n;
  }
  return out;
}

/** 26 Crockford base32 characters of SHA-256(text): the same text always names the same transfer. */
export function idFrom(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  let bits = 0n;
  for (const b of digest.subarray(0, 17)) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 26; i++) {
    out += CROCKFORD[Number(bits & 31n)];
    bits >>= 5n;
  }
  return out;
}

/** An error the state machine catches by name (see statemachines/transfer-approval.asl.json). */
export class WorkflowError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_OF_ERROR: Record<string, TransferStatus> = {
  [WORKFLOW_ERRORS.refused]: 'refused',
  [WORKFLOW_ERRORS.rejected]: 'rejected',
  [WORKFLOW_ERRORS.recalled]: 'recalled',
  [WORKFLOW_ERRORS.expired]: 'expired',
};
const ERROR_OF_STATUS: Partial<Record<TransferStatus, string>> = {
  rejected: WORKFLOW_ERRORS.rejected,
  recalled: WORKFLOW_ERRORS.recalled,
  expired: WORKFLOW_ERRORS.expired,
  refused: WORKFLOW_ERRORS.refused,
};

export type RequestOutcome =
  | { readonly ok: true; readonly transfer: Transfer }
  | { readonly ok: false; readonly issues: { readonly field: string; readonly message: string }[] };

/** Why a decision was not taken: each is a page the person sees, and nothing changed. */
export type Refusal =
  | 'invalid-link'
  | 'expired-link'
  | 'unknown-approval'
  | 'not-the-approver'
  | 'already-decided'
  | 'no-longer-open'
  | 'transfer-closed'
  | 'requester'
  | 'second-level'
  | 'reason-required';

export type DecisionOutcome =
  | { readonly ok: true; readonly approval: Approval; readonly transfer: Transfer; readonly message: string }
  | {
      readonly ok: false;
      readonly refusal: Refusal;
      readonly status: 400 | 403 | 404 | 409 | 410;
      readonly message: string;
      readonly transfer?: Transfer | undefined;
      readonly approval?: Approval | undefined;
    };

/** What an approval page shows: the approval, its transfer, and who the link is for. */
export type ApprovalView =
  | {
      readonly ok: true;
      readonly approval: Approval;
      readonly transfer: Transfer;
      readonly approver: Recipient;
    }
  | Extract<DecisionOutcome, { ok: false }>;

/** A decision already taken on the transfer (ports.ts): the approval page and the notices list them. */
export type { DecisionSeen } from './ports.ts';

/** An approval page: the view, with the customer's name and the decisions taken so far. */
export type ApprovalPageView =
  | (Extract<ApprovalView, { ok: true }> & ApproverContext)
  | Extract<DecisionOutcome, { ok: false }>;

function person(policy: ApprovalPolicy, id: string): Recipient {
  const p = policy.people[id];
  if (p) return { id, name: p.name, email: p.email, slackId: p.slackId };
  return { id, name: id, email: id.includes('@') ? id : undefined };
}

function levelOf(t: Transfer, level: number): ChainLevel | undefined {
  return t.levels?.find((l) => l.level === level);
}

const REVIEWER = 'periodic-review';

/** A transfer's execution name: its id, then `<id>-r<n>` for the n-th retry (a name is used once). */
export function executionName(transferId: string, retries: number | undefined): string {
  return retries ? `${transferId}-r${retries}` : transferId;
}

/** The transfer an execution name stands for (`executionName` reversed). */
export function transferOfExecution(name: string): string {
  return name.replace(/-r\d+$/, '');
}

/** A record's `once` key: its kind and what makes it the only one (the transfer, a level, a round). */
function onceKey(kind: string, ...of: (string | number)[]): string {
  return [kind, ...of].join('#');
}

/** Said by a record appended after its step stopped past its write (`completeTrail`). */
const RECOVERED = 'appended later: the step that made it stopped before its record';
/**
 * How old a level's counted decision must be before another request marks its approval for it:
 * its own decider marks it within milliseconds of counting it, unless it stopped.
 */
const LIVE_DECISION_MS = 10_000;

/** How long a claim to send a notice holds before another sender may take it over (its sender died). */
const CLAIM_STALE_MS = 120_000;

/** How long a decision that completed a level waits to say truthfully that the next level was asked. */
const ASKED_WAIT_MS = 2_000;
/**
 * How old a retry recorded without its execution must be before another retry takes it up: a
 * retry in progress starts its execution within moments; one older than this stopped (or its
 * start failed) between the two.
 */
const RETRY_START_MS = 60_000;

const humanType = (t: Transfer) =>
  t.orderRelease
    ? 'order release'
    : t.request.type === 'limit_decrease'
      ? 'limit decrease'
      : t.application
        ? 'credit application'
        : 'credit release';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The periodic review's port to the approval chain (functions/reviews/ports.ts), served by a TransferApp. */
export function limitApprovals(
  app: Pick<TransferApp, 'requestLimitChange' | 'requestLimitBatch'>,
): LimitApprovals {
  return {
    requestChange: (r) => app.requestLimitChange(r),
    requestBatch: (run, reviews) => app.requestLimitBatch(run, reviews),
  };
}

export class TransferApp {
  constructor(private readonly deps: TransferDeps) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  /**
   * Counts a transfer that reached an end, once: each caller has just moved it out of `pending`
   * with a conditional write, which only one of concurrent attempts wins. On its own EMF record
   * (a single metric) so the `outcome` dimension stays on it alone. A refusal by the gate is no
   * decision and is not counted.
   */
  private decided(status: TransferStatus): void {
    if (!this.deps.metrics || !DECIDED_OUTCOMES.has(status)) return;
    this.deps.metrics
      .singleMetric()
      .addDimension('outcome', status)
      .addMetric('TransfersDecided', MetricUnit.Count, 1);
  }

  /**
   * Appends a record once: `once` names the step's own record (its kind, the transfer and what
   * makes it unique), so a step run again after it stopped past its record gets the first record
   * back instead of a second one.
   */
  private async audit(
    kind: string,
    subject: string,
    actor: string,
    data: unknown,
    once: string,
  ): Promise<void> {
    await this.deps.store.appendAudit({ at: this.now(), kind, subject, actor, data }, { once });
  }

  /** The request's record, from the transfer as stored (the request, the gate and resumes write it). */
  private async auditRequested(t: Transfer): Promise<void> {
    const byReview = (t.limitChange !== undefined && !t.application) || t.limitBatch !== undefined;
    await this.audit(
      'transfer.requested',
      t.transferId,
      byReview ? REVIEWER : t.request.requester,
      t.application
        ? {
            request: t.request,
            requestedOn: t.requestedOn,
            limitChange: t.limitChange,
            application: t.application,
          }
        : t.orderRelease
          ? { request: t.request, requestedOn: t.requestedOn, orderRelease: t.orderRelease }
          : byReview
            ? {
                request: t.request,
                requestedOn: t.requestedOn,
                limitChange: t.limitChange,
                limitBatch: t.limitBatch,
              }
            : t.policyChange
              ? { request: t.request, requestedOn: t.requestedOn, policyChange: t.policyChange }
              : { request: t.request, requestedOn: t.requestedOn },
      onceKey('transfer.requested', t.transferId),
    );
  }

  /**
   * Appends every record the transfer's stored state says happened and the trail lacks: a step
   * or a decision stopped (a killed process, a Lambda timed out) between its write and its
   * record, and the way it was carried on did not run it again. The request, the gate, each
   * level asked and each decision, in the chain's order; a record made this way says so
   * (`recovered`) and carries the original instants it knows. Run by a local restart for every
   * transfer it carries on and by the workflow's last steps (Execute, Close), so every ended
   * transfer has its whole trail. `asking`: a level about to be asked again, which writes its own.
   */
  async completeTrail(
    transferId: string,
    opts: { readonly asking?: number | undefined } = {},
  ): Promise<void> {
    const { store } = this.deps;
    const t = await store.getTransfer(transferId);
    if (!t) return;
    await this.auditRequested(t);
    if (t.gate && t.levels)
      await this.audit(
        'gate.evaluated',
        transferId,
        'system',
        { report: t.gate, chain: { levels: t.levels, why: t.chainWhy }, recovered: RECOVERED },
        onceKey('gate.evaluated', transferId),
      );
    await this.finishDecisions(transferId, opts);
    const all = await store.approvalsOf(transferId);
    for (const levelNo of [...new Set(all.map((a) => a.level))].sort((a, b) => a - b)) {
      const mine = all.filter((a) => a.level === levelNo);
      if (levelNo === opts.asking) continue;
      const level = levelOf(t, levelNo);
      const sent = (await store.noticesOf(transferId, levelNo)).filter(
        (n) => n.kind === 'approve' && n.round === 0 && n.state === 'sent',
      );
      await this.audit(
        'approval.requested',
        transferId,
        'system',
        {
          level: {
            level: levelNo,
            of: t.levels?.length ?? levelNo,
            name: level?.name,
            required: level?.required,
          },
          approvers: mine.map((a) => ({
            approvalId: a.approvalId,
            approver: a.approver,
            onBehalfOf: a.onBehalfOf,
          })),
          expiresAt: mine[0]?.expiresAt,
          notified: sent.map((n) => n.to),
          notifiedAt: mine[0]?.notifiedAt,
          recovered: RECOVERED,
        },
        onceKey('approval.requested', transferId, levelNo),
      );
      for (const a of mine)
        if (a.status === 'approved' || a.status === 'rejected')
          await this.audit(
            'approval.decided',
            transferId,
            a.approver,
            {
              approvalId: a.approvalId,
              level: a.level,
              onBehalfOf: a.onBehalfOf,
              decision: a.status,
              comment: a.comment,
              via: a.via,
              decidedAt: a.decidedAt,
              evidence: { request: t.request, gate: t.gate, chainWhy: t.chainWhy },
              recovered: RECOVERED,
            },
            onceKey('approval.decided', transferId, a.level, a.approver),
          );
    }
  }

  /**
   * Decisions a level counted but whose approvals a stopped decider never marked, marked now with
   * their records: called where nobody can be deciding at that moment (a process that is starting,
   * before it works out where each transfer stood; the workflow's last steps).
   */
  async finishDecisions(
    transferId: string,
    opts: { readonly asking?: number | undefined } = {},
  ): Promise<void> {
    const { store } = this.deps;
    for (const levelNo of new Set((await store.approvalsOf(transferId)).map((a) => a.level))) {
      if (levelNo === opts.asking) continue;
      const state = await store.levelState(transferId, levelNo);
      if (state) await this.markCounted(transferId, state);
    }
  }

  /**
   * The decisions a level counted whose approvals were never marked: a decider stopped between
   * its claim on the level and the mark on its approval (killed, or its write failed). The level's
   * record is what decided, so whoever carries the level on marks them as it says (the winner's own
   * comment and channel, never stored on the level, stay unknown) and appends their record,
   * marked recovered. Without this the winning approval would stay pending, and be voided later.
   */
  private async markCounted(
    transferId: string,
    state: LevelState,
    opts: { readonly olderThanMs?: number } = {},
  ): Promise<void> {
    const { store } = this.deps;
    const now = this.deps.clock.now().getTime();
    const decided = [
      ...state.approvedBy.map((c) => ({ ...c, status: 'approved' as const })),
      ...(state.outcome === 'rejected' && state.decidedApproval
        ? [
            {
              approvalId: state.decidedApproval,
              at: state.decidedAt ?? this.now(),
              claimant: state.claimant,
              status: 'rejected' as const,
            },
          ]
        : []),
    ];
    for (const c of decided) {
      // A decider of this very moment is still marking its own (with its comment and channel).
      if (opts.olderThanMs !== undefined && now - Date.parse(c.at) < opts.olderThanMs) continue;
      const a = await store.getApproval(transferId, c.approvalId);
      if (a?.status !== 'pending') continue;
      const r = await store.decide(transferId, c.approvalId, {
        status: c.status,
        decidedAt: c.at,
        claimant: c.claimant,
      });
      if (!r.ok) continue;
      await this.audit(
        'approval.decided',
        transferId,
        a.approver,
        {
          approvalId: a.approvalId,
          level: a.level,
          onBehalfOf: a.onBehalfOf,
          decision: c.status,
          decidedAt: c.at,
          recovered: RECOVERED,
        },
        onceKey('approval.decided', transferId, a.level, a.approver),
      );
    }
  }

  // ---- the request -------------------------------------------------------------------------

  /**
   * Validates, records and starts the approval workflow. Beyond the fields themselves, a request
   * must name a customer with master data on file, and where the approval policy says so
   * (`gate.refuseAboveUnappliedCash`) a refund or overpayment return must be within the customer's
   * unapplied cash. A refused request names every bad field at once; nothing is stored, audited or
   * started.
   */
  async request(input: unknown): Promise<RequestOutcome> {
    const checked = checkTransferRequest(input);
    const onFile = await this.onFileProblems(checked.ok ? checked.request : checked.passed);
    // The requester is a person of the approval policy, stored under their id whatever the spelling.
    const policy = await this.deps.approvalPolicy();
    const raw = (typeof input === 'object' && input !== null ? input : {}) as { requester?: unknown };
    const requester = typeof raw.requester === 'string' ? resolvePerson(policy, raw.requester) : undefined;
    if (requester === undefined && typeof raw.requester === 'string' && raw.requester.trim() !== '')
      onFile.push({ field: 'requester', message: unknownPerson(raw.requester) });
    if (!checked.ok || onFile.length > 0 || requester === undefined)
      return { ok: false, issues: byFieldOrder([...(checked.ok ? [] : checked.issues), ...onFile]) };
    const transfer: Transfer = {
      transferId: `TR-${randomId()}`,
      request: { ...checked.request, requester },
      requestedAt: this.now(),
      requestedOn: this.deps.today(),
      status: 'pending',
    };
    await this.deps.store.createTransfer(transfer);
    await this.auditRequested(transfer);
    const { executionId } = await this.deps.workflow.start(transfer.transferId, {
      transferId: transfer.transferId,
    });
    await this.deps.store.updateTransfer(transfer.transferId, { executionId }, { status: 'pending' });
    this.deps.metrics?.addMetric('TransfersRequested', MetricUnit.Count, 1);
    return { ok: true, transfer: { ...transfer, executionId } };
  }

  /** What the store says against a request's customer and amount (one read of the customer's file). */
  private async onFileProblems(r: PassedFields): Promise<RequestIssue[]> {
    if (r.customerId === undefined) return [];
    const part = await this.deps.credit.loadCustomerPartition(r.customerId);
    if (part.books.customer === undefined)
      return [{ field: 'customerId', message: `there is no customer ${r.customerId} on file` }];
    const { type, amount, currency } = r;
    if (type === undefined || amount === undefined || currency === undefined || !handsBackCash(type))
      return [];
    const policy = await this.deps.approvalPolicy();
    if (!policy.gate.refuseAboveUnappliedCash) return [];
    const today = this.deps.today();
    const file = creditFileOf(r.customerId, part);
    const cash = unappliedCashCheck({
      request: { type, amount, currency },
      asOf: today,
      onFile: { currency: file.currency, unappliedCash: receivablesAsOf(file, today).summary.unappliedCash },
      others: await this.deps.store.transfersOf(r.customerId),
    });
    return cash?.problem
      ? [
          {
            field: 'amount',
            message: `${cash.problem}; the approval policy refuses such a request (gate.refuseAboveUnappliedCash)`,
          },
        ]
      : [];
  }

  /**
   * Asks the approval chain for the credit limit a periodic review could not set on its own: a
   * first limit or an increase (a credit release of the increase) or a decrease below the exposure
   * or deeper than the policy allows (a limit decrease), requested by `periodic-review`. Its id
   * comes from the review, so asking again (a report step run again) finds the same transfer
   * instead of making another.
   */
  async requestLimitChange(r: Review): Promise<{ transferId: string }> {
    const to = r.askedLimit ?? r.recommendedLimit;
    if (to === undefined || !r.currency) throw new Error(`review ${r.reviewId} asks for no limit`);
    const from = r.currentLimit;
    const decrease = from !== undefined && to < from;
    return this.startReviewTransfer(`TR-${idFrom(`limit:${r.reviewId}`)}`, {
      request: {
        customerId: r.customerId,
        type: decrease ? 'limit_decrease' : 'credit_release',
        amount: decrease ? from - to : to - (from ?? 0),
        currency: r.currency,
        beneficiaryName: r.name ?? r.customerId,
        beneficiaryAccount: `LIMIT-${r.customerId}`.slice(0, 64).toUpperCase(),
        reason: `Periodic review ${r.asOf}: ${r.decision ?? 'limit change'}`.slice(0, 500),
        requester: REVIEWER,
      },
      limitChange: { from, to, reviewId: r.reviewId },
    });
  }

  /**
   * Asks the approval chain once for a review run's limit changes (more than the policy's
   * `review.approvals.batchAbove`): one request holding the whole table. Its id comes from the run.
   */
  async requestLimitBatch(
    run: { readonly runId: string; readonly asOf: IsoDate },
    reviews: readonly Review[],
  ): Promise<{ transferId: string }> {
    const b = batchOf(run, reviews);
    if (b.items.length === 0) throw new Error(`review run ${run.runId} asks for no limit change`);
    return this.startReviewTransfer(
      `TR-${idFrom(`limit-batch:${run.runId}`)}`,
      { request: b.request, limitBatch: b.limitBatch },
      b.items,
    );
  }

  /**
   * Asks the approval chain for a credit application's initial limit (README "Credit
   * applications"): a `credit_application` from the person who filed it, a first limit from none to
   * the recommended initial limit, the application's evidence in its reason and beside it. Its id
   * comes from the application, so asking again finds the same transfer.
   */
  async requestCreditApplication(a: CreditApplication): Promise<{ transferId: string }> {
    const r = a.rating;
    return this.startReviewTransfer(`TR-${idFrom(`application:${a.applicationId}`)}`, {
      request: {
        customerId: a.customerId,
        type: CREDIT_APPLICATION,
        amount: r.initialLimit,
        currency: a.currency,
        beneficiaryName: a.name,
        beneficiaryAccount: `LIMIT-${a.customerId}`.slice(0, 64).toUpperCase(),
        reason: applicationEvidence(a).slice(0, 500),
        requester: a.filedBy,
      },
      limitChange: { from: undefined, to: r.initialLimit, reviewId: a.applicationId },
      application: {
        applicationId: a.applicationId,
        requestedLimit: a.requestedLimit,
        score: r.score,
        rating: r.rating,
        riskClass: r.riskClass,
        missing: r.missing,
        flags: r.flags,
        basis: r.basis,
      },
    });
  }

  /**
   * Asks the approval chain to ship a held order by exception until a day (README "Held orders"):
   * an `order_release` from the person who asked, its amount the order's (in the credit currency,
   * so the levels by amount apply; the gate adds those by the customer's risk class), the hold's
   * evidence in its reason and beside it. The id comes from the caller (the hold and its ask), so
   * asking again finds the same transfer.
   */
  async requestOrderRelease(r: {
    readonly transferId: string;
    readonly customerId: string;
    readonly name: string;
    readonly amount: number;
    readonly currency: string;
    readonly reason: string;
    readonly requester: string;
    readonly orderRelease: NonNullable<Transfer['orderRelease']>;
  }): Promise<{ transferId: string }> {
    return this.startReviewTransfer(r.transferId, {
      request: {
        customerId: r.customerId,
        type: ORDER_RELEASE,
        amount: r.amount,
        currency: r.currency,
        beneficiaryName: r.name,
        beneficiaryAccount: `ORDER-${r.orderRelease.orderId}`.slice(0, 64).toUpperCase(),
        reason: r.reason.slice(0, 500),
        requester: r.requester,
      },
      orderRelease: r.orderRelease,
    });
  }

  /** Stores a review's transfer unless it exists, and starts its workflow unless it has one. */
  private async startReviewTransfer(
    transferId: string,
    what: Pick<
      Transfer,
      'request' | 'limitChange' | 'limitBatch' | 'policyChange' | 'application' | 'orderRelease'
    >,
    items?: readonly LimitBatchItem[],
  ): Promise<{ transferId: string }> {
    const existing = await this.deps.store.getTransfer(transferId);
    if (existing?.executionId) return { transferId };
    if (!existing) {
      const transfer: Transfer = {
        transferId,
        ...what,
        requestedAt: this.now(),
        requestedOn: this.deps.today(),
        status: 'pending',
      };
      // The batch's table first: the transfer is only visible once it is complete.
      if (items) await this.deps.store.putBatchItems(transferId, items);
      await this.deps.store.createTransfer(transfer);
      await this.auditRequested(transfer);
    }
    const { executionId } = await this.deps.workflow.start(transferId, { transferId });
    await this.deps.store.updateTransfer(transferId, { executionId }, { status: 'pending' });
    this.deps.metrics?.addMetric('TransfersRequested', MetricUnit.Count, 1);
    return { transferId };
  }

  // ---- credit policy changes ----------------------------------------------------------------

  /**
   * Puts a new credit policy (validated by the caller, as an upload or `sentinel policy set` does)
   * to the approval chain (README "The policy"): it is stored as pending, with its hash and its
   * diff against the policy in force, and a `policy_change` request about no customer, moving no
   * money, climbs the approval policy's `policyChange` levels. Nothing changes in force until the
   * last level approves. A change still pending is superseded: recalled, said in both records.
   * Refused: a requester the approval policy does not know, a policy that is already in force.
   */
  async requestPolicyChange(p: PolicyProposal): Promise<PolicyProposalOutcome> {
    const policies = this.deps.policies;
    if (!policies) throw new Error('this transfer app has no policy store: a policy change cannot be asked');
    const parsed = parsePolicy(p.document);
    if (!parsed.ok)
      return { ok: false, field: 'policy', problem: `the policy is not valid: ${parsed.issues[0]?.path}` };
    const { id, ...document } = parsed.policy;
    const approvals = await this.deps.approvalPolicy();
    const requester =
      p.requester === POLICY_UPLOADER ? POLICY_UPLOADER : resolvePerson(approvals, p.requester);
    if (requester === undefined) return { ok: false, field: 'by', problem: unknownPerson(p.requester) };
    const current = await this.deps.creditPolicy();
    if (current.id === id)
      return {
        ok: false,
        field: 'policy',
        problem: `policy ${id} is already in force: there is nothing to approve`,
      };
    const transferId = `TR-${p.key ? idFrom(`policy:${p.key}`) : randomId()}`;
    const { id: _current, ...inForce } = current;
    const pending: PendingPolicy = {
      transferId,
      id,
      hash: policyHash(document),
      document,
      proposedAt: this.now(),
      requester,
      source: p.source,
      replaces: current.id,
      diff: policyDiff(inForce, document),
    };
    const existing = await this.deps.store.getTransfer(transferId);
    if (existing?.executionId)
      return { ok: true, transferId, policyId: id, superseded: existing.policyChange?.supersedes ?? [] };
    const stored = existing ? await policies.getPendingPolicy(transferId) : undefined;
    if (!stored) await policies.putPendingPolicy(pending);
    const asked = stored ?? pending;
    // Changes still pending (or failed before their approvers finished, which a retry would carry
    // on) are superseded by this one: the newest policy asked is the one decided.
    const older = (await this.deps.store.transfersOf(POLICY_SUBJECT)).filter(
      (t) =>
        (t.status === 'pending' || (t.status === 'failed' && t.failure?.from !== 'approved')) &&
        t.transferId !== transferId &&
        t.policyChange !== undefined,
    );
    const supersedes = existing?.policyChange?.supersedes ?? older.map((t) => t.transferId);
    await this.audit(
      'policy.proposed',
      transferId,
      requester,
      {
        policyId: asked.id,
        hash: asked.hash,
        replaces: asked.replaces,
        source: asked.source,
        proposedAt: asked.proposedAt,
        diff: asked.diff,
        supersedes,
      },
      onceKey('policy.proposed', transferId),
    );
    await this.startReviewTransfer(transferId, {
      request: {
        customerId: POLICY_SUBJECT,
        type: POLICY_CHANGE,
        amount: 0,
        currency: 'EUR',
        beneficiaryName: `credit policy ${asked.id}`.slice(0, 140),
        beneficiaryAccount: 'POLICY-CHANGE',
        reason:
          `Credit policy ${asked.id} to replace ${asked.replaces}: ${plural(asked.diff.length, 'field')} change${supersedes.length > 0 ? `; supersedes ${supersedes.join(', ')}` : ''}`.slice(
            0,
            500,
          ),
        requester,
      },
      policyChange: {
        policyId: asked.id,
        hash: asked.hash,
        replaces: asked.replaces,
        changes: asked.diff.length,
        source: asked.source,
        supersedes: supersedes.length > 0 ? supersedes : undefined,
      },
    });
    for (const old of supersedes) await this.recall(old, requester, { supersededBy: transferId });
    return { ok: true, transferId, policyId: asked.id, superseded: supersedes };
  }

  /** The gate and chain of a credit policy change: the diff is the evidence, the chain its own levels. */
  private async gatePolicyChange(t: Transfer) {
    const [pending, policy] = await Promise.all([
      this.deps.policies?.getPendingPolicy(t.transferId),
      this.deps.approvalPolicy(),
    ]);
    if (!pending) throw new Error(`policy change ${t.transferId} has no pending policy on file`);
    return {
      report: policyChangeGate(pending, t.requestedOn),
      chain: policyChangeChain(t.request.requester, t.requestedOn, policy),
      policy,
    };
  }

  /**
   * Puts an approved policy change in force (the same write as an unapproved one once was), from
   * its approval instant, and records it with its hash and the policy it replaced.
   */
  private async putPolicyInForce(t: Transfer): Promise<void> {
    const policies = this.deps.policies;
    const pending = await policies?.getPendingPolicy(t.transferId);
    if (!policies || !pending) throw new Error(`policy change ${t.transferId} has no pending policy on file`);
    const r = parsePolicy(pending.document);
    if (!r.ok)
      throw new Error(
        `policy ${pending.id} no longer validates: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      );
    const replaced = (await this.deps.creditPolicy()).id;
    const effectiveAt = t.closedAt ?? this.now();
    await policies.putPolicy({
      id: pending.id,
      document: pending.document,
      setAt: effectiveAt,
      setBy: pending.source === 'sentinel policy set' ? pending.requester : pending.source,
      approvedIn: t.transferId,
    });
    const approvals = await this.deps.store.approvalsOf(t.transferId);
    await this.audit(
      'policy.in-force',
      t.transferId,
      'system',
      {
        policyId: pending.id,
        hash: pending.hash,
        replaced: replaced === pending.id ? pending.replaces : replaced,
        effectiveAt,
        requester: pending.requester,
        approvedBy: approvals
          .filter((a) => a.status === 'approved')
          .sort((a, b) => a.level - b.level)
          .map((a) => ({ level: a.level, approver: a.approver, at: a.decidedAt })),
      },
      onceKey('policy.in-force', t.transferId),
    );
  }

  // ---- the steps the state machine calls ----------------------------------------------------

  async steps(p: StepPayload): Promise<unknown> {
    switch (p.step) {
      case 'gate':
        return this.gate(p.transferId);
      case 'await':
        return this.awaitLevel(p);
      case 'execute':
        return this.execute(p.transferId);
      case 'close':
        return this.close(p.transferId, p.error, p.cause);
      case 'fail':
        return this.fail(p.transferId, p.state, p.failure);
    }
  }

  private async mustGet(transferId: string): Promise<Transfer> {
    const t = await this.deps.store.getTransfer(transferId);
    if (!t) throw new Error(`transfer ${transferId} is not on file`);
    return t;
  }

  private async gate(transferId: string) {
    const { store } = this.deps;
    const t = await this.mustGet(transferId);
    // A request stopped between storing the transfer and its record: the record first.
    await this.auditRequested(t);
    // Gated already (a retry after a failure, or this step run again): the chain it was gated
    // with, from the first level not yet approved, so nobody who approved is asked again.
    if (t.gate && t.levels && t.levels.length > 0) return this.storedPlan(t, t.levels);
    const { report, chain, policy } = t.limitBatch
      ? await this.gateBatch(t, t.limitBatch)
      : t.policyChange
        ? await this.gatePolicyChange(t)
        : await this.gateOne(t);
    await store.updateTransfer(
      transferId,
      { gate: report, levels: chain.ok ? chain.levels : undefined, chainWhy: chain.why },
      { status: 'pending' },
    );
    await this.audit(
      'gate.evaluated',
      transferId,
      'system',
      {
        report,
        chain: chain.ok
          ? { levels: chain.levels, why: chain.why }
          : { problem: chain.problem, why: chain.why },
        approvalPolicy: policy.version,
      },
      onceKey('gate.evaluated', transferId),
    );
    if (!chain.ok) throw new WorkflowError(WORKFLOW_ERRORS.refused, `no approval chain: ${chain.problem}`);
    return {
      levels: chain.levels.map((l) => ({ level: l.level, name: l.name, required: l.required })),
      reminderSeconds: policy.reminders.everySeconds,
      maxReminders: policy.reminders.max,
      start: 0,
    };
  }

  /** The plan of a transfer gated before; `start` is the index of its first level without an approval outcome. */
  private async storedPlan(t: Transfer, levels: readonly ChainLevel[]) {
    const policy = await this.deps.approvalPolicy();
    let start = 0;
    for (const l of levels) {
      const state = await this.deps.store.levelState(t.transferId, l.level);
      if (state?.outcome !== 'approved') break;
      start++;
    }
    return {
      levels: levels.map((l) => ({ level: l.level, name: l.name, required: l.required })),
      reminderSeconds: policy.reminders.everySeconds,
      maxReminders: policy.reminders.max,
      start,
    };
  }

  /** The gate and chain of a request about one customer. */
  private async gateOne(t: Transfer) {
    const [part, creditPolicy, policy, history] = await Promise.all([
      this.deps.credit.loadCustomerPartition(t.request.customerId),
      this.deps.creditPolicy(),
      this.deps.approvalPolicy(),
      this.deps.store.transfersOf(t.request.customerId),
    ]);
    const known = part.books.customer !== undefined || part.books.invoices.length > 0;
    const assessment = known
      ? assess(asOfFile(creditFileOf(t.request.customerId, part), t.requestedOn), t.requestedOn, creditPolicy)
      : undefined;
    const report = riskGate({
      transferId: t.transferId,
      request: t.request,
      asOf: t.requestedOn,
      assessment,
      alerts: part.alerts,
      history,
      settings: policy.gate,
      // No account receives money on a limit change or an order release: no beneficiary check.
      limitIncrease: setsLimits(t) || t.orderRelease !== undefined,
      creditHold: holdOn(part.creditHold, t.requestedOn) ? part.creditHold : undefined,
    });
    const chain = approvalChain(
      t.request,
      { riskClass: assessment?.riskClass, flags: report.flags, today: t.requestedOn },
      policy,
    );
    return { report, chain, policy };
  }

  /** The gate and chain of a review run's batch of limit changes (functions/transfers/batch.ts). */
  private async gateBatch(t: Transfer, b: LimitBatch) {
    const [items, policy] = await Promise.all([
      this.deps.store.batchItems(t.transferId),
      this.deps.approvalPolicy(),
    ]);
    return {
      report: batchGate(b, items, t.requestedOn),
      chain: batchChain(t, items, t.requestedOn, policy),
      policy,
    };
  }

  private async awaitLevel(p: Extract<StepPayload, { step: 'await' }>) {
    const { store } = this.deps;
    const t = await this.mustGet(p.transferId);
    if (t.status !== 'pending')
      throw new WorkflowError(ERROR_OF_STATUS[t.status] ?? 'TransferClosed', `the transfer is ${t.status}`);
    const levelNo = Number((p.level as { level?: unknown })?.level);
    const level = levelOf(t, levelNo);
    if (!level) throw new Error(`transfer ${p.transferId} has no level ${String(levelNo)}`);
    const policy = await this.deps.approvalPolicy();
    const all = await store.approvalsOf(p.transferId);
    const mine = all.filter((a) => a.level === levelNo);
    const info = {
      level: levelNo,
      of: t.levels?.length ?? levelNo,
      name: level.name,
      required: level.required,
    };
    if (t.level !== levelNo)
      await store.updateTransfer(p.transferId, { level: levelNo }, { status: 'pending' });

    const state = await store.levelState(p.transferId, levelNo);
    if (state) await this.markCounted(p.transferId, state, { olderThanMs: LIVE_DECISION_MS });
    if (state?.outcome === 'rejected')
      throw new WorkflowError(WORKFLOW_ERRORS.rejected, `level ${levelNo} was rejected`);

    // In the chain's order (the store keeps them by their random ids).
    const order = (id: string) => level.approvers.findIndex((x) => x.id === id);
    if (mine.length === 0 || p.reminders === 0) {
      let approvals = [...mine].sort((x, y) => order(x.approver) - order(y.approver));
      if (mine.length === 0) {
        // A person who approved an earlier level is not asked again: one person, one level.
        const approvedEarlier = new Set(all.filter((a) => a.status === 'approved').map((a) => a.approver));
        const now = this.deps.clock.now();
        const expiresAt = new Date(
          now.getTime() + (p.maxReminders + 1) * p.timeoutSeconds * 1000,
        ).toISOString();
        approvals = level.approvers
          .filter((who) => !approvedEarlier.has(who.id))
          .map((who) => ({
            approvalId: randomId(),
            transferId: p.transferId,
            level: levelNo,
            approver: who.id,
            onBehalfOf: who.onBehalfOf,
            status: 'pending',
            notifiedAt: now.toISOString(),
            expiresAt,
            reminders: 0,
          }));
        await store.putApprovals(approvals, p.taskToken);
        // A recall between the first read and the put found no approval to wake: read again after
        // the put, so that either the recall sees these approvals or this step sees the recall.
        const after = await this.mustGet(p.transferId);
        if (after.status !== 'pending') {
          await store.voidPending(p.transferId, `the transfer is ${after.status}`);
          throw new WorkflowError(
            ERROR_OF_STATUS[after.status] ?? 'TransferClosed',
            `the transfer is ${after.status}`,
          );
        }
      } else {
        // The first ask run again (a step retried after it failed half-way): the same approvals
        // wait under the new token, and only the notices not sent yet go out.
        await store.renewApprovals(p.transferId, levelNo, p.taskToken, {
          reminders: 0,
          expiresAt: mine[0]?.expiresAt as string,
        });
        if (state?.outcome === 'approved') {
          // Completed by a decider that stopped before voiding the level's other links.
          await store.voidPending(p.transferId, `level ${levelNo} complete`, {
            level: levelNo,
            keep: state.approvedBy.map((a) => a.approvalId),
          });
          await this.deps.workflow.sendTaskSuccess(p.taskToken, { level: levelNo });
          return {};
        }
      }
      const waiting = approvals.filter((a) => a.status === 'pending');
      const context = await this.approverContext(t, all, policy);
      const notices = await this.linkNotices(
        'approve',
        { ...t, level: levelNo },
        info,
        waiting,
        policy,
        context,
      );
      await this.sendOnce(levelNo, 0, notices);
      await this.audit(
        'approval.requested',
        p.transferId,
        'system',
        {
          level: info,
          approvers: approvals.map((a) => ({
            approvalId: a.approvalId,
            approver: a.approver,
            onBehalfOf: a.onBehalfOf,
          })),
          expiresAt: approvals[0]?.expiresAt,
          notified: notices.map((n) => n.to.id),
        },
        onceKey('approval.requested', p.transferId, levelNo),
      );
      return {};
    }

    // A reminder: the level waits again under a new token.
    const expiresAt = mine[0]?.expiresAt as string;
    await store.renewApprovals(p.transferId, levelNo, p.taskToken, { reminders: p.reminders, expiresAt });
    if (state?.outcome === 'approved') {
      // The level was completed while its last wait was timing out: carry on at once.
      await store.voidPending(p.transferId, `level ${levelNo} complete`, {
        level: levelNo,
        keep: state.approvedBy.map((a) => a.approvalId),
      });
      await this.deps.workflow.sendTaskSuccess(p.taskToken, { level: levelNo });
      return {};
    }
    const pending = mine
      .filter((a) => a.status === 'pending')
      .sort((x, y) => order(x.approver) - order(y.approver));
    const context = await this.approverContext(t, all, policy);
    const notices: ApprovalNotice[] = await this.linkNotices(
      'remind',
      t,
      info,
      pending,
      policy,
      context,
      p.reminders,
    );
    const last = p.reminders >= p.maxReminders;
    if (last)
      for (const id of policy.reminders.escalateTo)
        notices.push({
          kind: 'escalate',
          transfer: t,
          to: person(policy, id),
          level: info,
          waitingOn: pending.map((a) => person(policy, a.approver).name),
          context,
        });
    await this.sendOnce(levelNo, p.reminders, notices);
    await this.audit(
      last ? 'approval.escalated' : 'approval.reminded',
      p.transferId,
      'system',
      {
        level: info,
        reminder: p.reminders,
        waitingOn: pending.map((a) => a.approver),
        notified: notices.map((n) => n.to.id),
      },
      onceKey(last ? 'approval.escalated' : 'approval.reminded', p.transferId, levelNo, p.reminders),
    );
    return {};
  }

  /**
   * Sends each notice once (README "Approvals"): an outbox record per (transfer, level, kind,
   * round, person) is claimed with a conditional put before sending and marked sent after. A
   * send that fails gives its claim back and stops the step; the step run again sends only the
   * notices not sent. A claim whose sender died is taken over after `CLAIM_STALE_MS`; until then
   * the step fails with NoticeNotSent and its Retry comes back, so a notice is never skipped
   * because somebody else said they would send it.
   */
  private async sendOnce(level: number, round: number, notices: readonly ApprovalNotice[]): Promise<void> {
    const { store } = this.deps;
    // This step's own claims: a claim whose response was lost, sent again by the SDK, is still ours.
    const claimant = randomBytes(12).toString('base64url');
    for (const n of notices) {
      if (n.kind === 'outcome') continue;
      const k = { transferId: n.transfer.transferId, level, kind: n.kind, round, to: n.to.id };
      const now = this.deps.clock.now();
      const stale = new Date(now.getTime() - CLAIM_STALE_MS).toISOString();
      if (!(await store.claimNotice(k, now.toISOString(), stale, claimant))) {
        const held = (await store.noticesOf(k.transferId, level)).find(
          (o) => o.kind === k.kind && o.round === k.round && o.to === k.to,
        );
        if (!held || held.state === 'sent') continue;
        throw new WorkflowError(
          WORKFLOW_ERRORS.noticeNotSent,
          `${n.kind} notice to ${n.to.id} (level ${level}) is being sent by another attempt since ${held.at}; it is taken over if not sent within ${CLAIM_STALE_MS / 60_000} minutes`,
        );
      }
      try {
        await this.deps.notifier.send([n]);
      } catch (e) {
        await store.releaseNotice(k);
        throw new WorkflowError(
          WORKFLOW_ERRORS.noticeNotSent,
          `${n.kind} notice to ${n.to.id} (level ${level}) not sent: ${(e as Error).message}`,
        );
      }
      await store.noticeSent(k, this.now());
    }
  }

  private async linkNotices(
    kind: 'approve' | 'remind',
    t: Transfer,
    level: NoticeLevel,
    approvals: readonly Approval[],
    policy: ApprovalPolicy,
    context: ApproverContext,
    reminder = 0,
  ): Promise<ApprovalNotice[]> {
    const keys = await this.deps.keys();
    return approvals.map((a) => {
      const { url, token } = this.linkOf(a, keys);
      return {
        kind,
        transfer: t,
        to: person(policy, a.approver),
        level,
        url,
        token,
        onBehalfOf: a.onBehalfOf ? person(policy, a.onBehalfOf).name : undefined,
        reminder,
        expiresAt: a.expiresAt,
        context,
      };
    });
  }

  /** The signed link an approval's email carries: `<baseUrl>/approvals/<token>`, for its approver only. */
  async approvalUrl(a: Approval): Promise<string> {
    return this.linkOf(a, await this.deps.keys()).url;
  }

  private linkOf(a: Approval, keys: readonly LinkKey[]): { url: string; token: string } {
    const token = signLink(
      {
        transferId: a.transferId,
        approvalId: a.approvalId,
        approver: a.approver,
        exp: Math.floor(Date.parse(a.expiresAt) / 1000),
      },
      keys,
    );
    return { url: `${this.deps.baseUrl().replace(/\/+$/, '')}/approvals/${token}`, token };
  }

  private async execute(transferId: string) {
    const { store } = this.deps;
    const closedAt = this.now();
    const ok = await store.updateTransfer(
      transferId,
      {
        status: 'approved',
        closedAt,
        closedBy: 'system',
        level: undefined,
        outcome: 'every level approved',
        approvedOn: this.deps.today(),
      },
      { status: 'pending' },
    );
    const t = await this.mustGet(transferId);
    if (!ok && t.status !== 'approved') return { status: t.status };
    // A step run again after the status was set finishes what the first try may not have: the
    // links voided, the commitment (same key), the record and the requester's notice, each once.
    if (ok) this.decided('approved');
    await store.voidPending(transferId, 'every level approved');
    await this.commit(t);
    await this.completeTrail(transferId);
    const approvals = await store.approvalsOf(transferId);
    await this.audit(
      'transfer.executed',
      transferId,
      'system',
      {
        request: t.request,
        approvedOn: t.approvedOn,
        approvedBy: approvals
          .filter((a) => a.status === 'approved')
          .map((a) => ({ level: a.level, approver: a.approver, at: a.decidedAt })),
      },
      onceKey('transfer.executed', transferId),
    );
    await this.tellRequester(t);
    return { status: 'approved' };
  }

  /**
   * Puts an approved transfer that moves money on the customer's credit file, where the exposure
   * counts it, and has the customer evaluated again. A bank account change moves no money.
   */
  private async commit(t: Transfer): Promise<void> {
    if (t.policyChange) return this.putPolicyInForce(t);
    if (t.application) return this.openAccount(t, t.application.applicationId);
    if (t.orderRelease) {
      if (!this.deps.orderReleases)
        throw new Error(`transfer ${t.transferId} is an order release, and this app has no hold store`);
      return this.deps.orderReleases.excepted(t);
    }
    if (t.limitChange) return this.setLimits(t, [{ customerId: t.request.customerId, ...t.limitChange }]);
    if (t.limitBatch) return this.setLimits(t, await this.deps.store.batchItems(t.transferId));
    const c = commitmentOf(t);
    if (!c) return;
    await this.deps.store.putCommitment(c);
    await this.deps.changes?.customersChanged({
      type: 'customers.changed',
      runId: t.transferId,
      asOf: this.deps.today(),
      customerIds: [c.customerId],
    });
  }

  /**
   * An approved credit application: the account opened from it where the customer has no master
   * data, the limit written as a review's first limit is, then the application approved.
   */
  private async openAccount(t: Transfer, applicationId: string): Promise<void> {
    const applications = this.deps.applications;
    if (!applications || !t.limitChange)
      throw new Error(
        `transfer ${t.transferId} is a credit application, and this app has no application store`,
      );
    await applications.openAccount(applicationId);
    await this.setLimits(t, [{ customerId: t.request.customerId, ...t.limitChange }]);
    await applications.decided(applicationId, t);
  }

  /**
   * Writes the approved limits on the customers' files (idempotent: the same limit, the same
   * record key), then has those customers evaluated again.
   */
  private async setLimits(
    t: Transfer,
    changes: readonly {
      customerId: string;
      currency?: string;
      from?: number | undefined;
      to: number;
      reviewId: string;
    }[],
  ): Promise<void> {
    const limits = this.deps.limits;
    if (!limits) throw new Error(`transfer ${t.transferId} sets limits, and this app has no limit store`);
    await mapLimit(changes, 8, (c) =>
      limits.setCreditLimit({
        customerId: c.customerId,
        currency: c.currency ?? t.request.currency,
        from: c.from,
        to: c.to,
        on: t.approvedOn ?? this.deps.today(),
        at: t.closedAt ?? this.now(),
        by: 'approval chain',
        reviewId: c.reviewId,
        reason: `${t.limitBatch ? 'limit batch' : humanType(t)} ${t.transferId} approved at every level`,
      }),
    );
    await this.deps.changes?.customersChanged({
      type: 'customers.changed',
      runId: t.transferId,
      asOf: this.deps.today(),
      customerIds: changes.map((c) => c.customerId),
    });
  }

  /**
   * Finance marks an approved transfer paid: the money left on `on` (default today). From that day
   * a rebate or a credit release stops counting in the exposure (see `transferCounts`).
   */
  async markPaid(
    transferId: string,
    by: string,
    on?: string,
  ): Promise<
    { ok: true; transfer: Transfer } | { ok: false; status: 400 | 403 | 404 | 409; message: string }
  > {
    const t = await this.deps.store.getTransfer(transferId);
    if (!t) return { ok: false, status: 404, message: `There is no transfer ${transferId}.` };
    const policy = await this.deps.approvalPolicy();
    const marker = resolvePerson(policy, by);
    if (marker === undefined) return { ok: false, status: 400, message: `${unknownPerson(by)}.` };
    if (marker === (resolvePerson(policy, t.request.requester) ?? t.request.requester))
      return {
        ok: false,
        status: 403,
        message: 'The requester of a transfer cannot mark it paid: someone else in finance must.',
      };
    if (t.status !== 'approved')
      return {
        ok: false,
        status: 409,
        message: `The transfer is ${t.status}: only an approved transfer can be paid.`,
      };
    if (t.request.amount <= 0 || movesNoMoney(t))
      return {
        ok: false,
        status: 409,
        message: setsLimits(t)
          ? 'A credit limit change moves no money: there is nothing to pay.'
          : 'A bank account change moves no money: there is nothing to pay.',
      };
    if (t.paidOn !== undefined) return this.alreadyPaid(t);
    const today = this.deps.today();
    const paidOn = on === undefined || on === '' ? today : isoDateOrNull(on);
    if (paidOn === null) return { ok: false, status: 400, message: `"${on}" is not a date (YYYY-MM-DD).` };
    const approvedOn = t.approvedOn ?? today;
    if (paidOn < approvedOn || paidOn > today)
      return {
        ok: false,
        status: 400,
        message: `The paid day must be between the approval day ${approvedOn} and today ${today}; ${paidOn} is not.`,
      };
    const ok = await this.deps.store.updateTransfer(
      transferId,
      { paidOn, paidBy: marker, paidAt: this.now() },
      { status: 'approved', unpaid: true },
    );
    const now = await this.mustGet(transferId);
    if (!ok) return this.alreadyPaid(now);
    await this.commit(now);
    await this.audit(
      'transfer.paid',
      transferId,
      marker,
      {
        paidOn,
        amount: t.request.amount,
        currency: t.request.currency,
      },
      onceKey('transfer.paid', transferId),
    );
    return { ok: true, transfer: now };
  }

  /** The answer to a second "paid"; it also rewrites the commitment, in case the first stopped half-way. */
  private async alreadyPaid(t: Transfer): Promise<{ ok: false; status: 409; message: string }> {
    const c = commitmentOf(t);
    if (c) await this.deps.store.putCommitment(c);
    return {
      ok: false,
      status: 409,
      message: `Already marked paid on ${t.paidOn} by ${t.paidBy ?? 'someone'}.`,
    };
  }

  private async close(transferId: string, error: string, cause: string) {
    const { store } = this.deps;
    const status = STATUS_OF_ERROR[error] ?? 'expired';
    // A decision or a recall already set the status (and who); a refusal or an expiry sets it here.
    const ended = await store.updateTransfer(
      transferId,
      { status, closedAt: this.now(), closedBy: 'system', level: undefined, outcome: cause },
      { status: 'pending' },
    );
    if (ended) this.decided(status);
    await this.completeTrail(transferId);
    const voided = await store.voidPending(transferId, `transfer ${status}`);
    const t = await this.mustGet(transferId);
    // A credit application's request that ended without approval: the application with it.
    if (t.application && t.status !== 'approved')
      await this.deps.applications?.decided(t.application.applicationId, t);
    // An order release that ended without approval: the order stays held, the release noted.
    if (t.orderRelease && t.status !== 'approved') await this.deps.orderReleases?.decided(t);
    await this.audit(
      'transfer.closed',
      transferId,
      t.closedBy ?? 'system',
      {
        status: t.status,
        outcome: t.outcome,
        linksVoided: voided,
      },
      onceKey('transfer.closed', transferId),
    );
    await this.tellRequester(t);
    return { status: t.status };
  }

  /**
   * RecordFailure: a step failed after its retries. A pending transfer (or an approved one whose
   * execute step failed) becomes `failed` with the error, its cause (truncated, tokens cut out), the
   * state and when; one that had ended already (a close step failed) keeps its status and gets the
   * failure beside it. Either way its open links die, the failure is on the audit trail once,
   * TransfersFailed is counted (alarmed on AWS), ops are told, and the requester is told when it
   * became `failed`. The execution ends Failed after this step, whether it succeeded or not.
   */
  private async fail(
    transferId: string,
    state: string,
    caught: unknown,
  ): Promise<{ status: TransferStatus }> {
    const { store } = this.deps;
    const t = await this.mustGet(transferId);
    const c = (caught ?? {}) as { Error?: unknown; Cause?: unknown };
    const n = t.retries ?? 0;
    // Run again (its own Lambda retry) after the status was set: the failure as first recorded.
    const again = t.status === 'failed' && t.failure !== undefined;
    const failure: TransferFailure =
      again && t.failure
        ? t.failure
        : {
            error: typeof c.Error === 'string' && c.Error !== '' ? c.Error.slice(0, 100) : 'Error',
            cause: failureCause(c.Cause),
            state: state.slice(0, 50),
            at: this.now(),
            from: t.status,
          };
    const becomes = again || t.status === 'pending' || t.status === 'approved';
    if (!again) {
      const ok = await store.updateTransfer(
        transferId,
        becomes
          ? { status: 'failed', failure, outcome: `failed in ${failure.state}: ${failure.error}` }
          : { failure },
        { status: t.status },
      );
      // A decision or a recall changed it meanwhile: read again.
      if (!ok) return this.fail(transferId, state, caught);
      if (becomes) this.deps.metrics?.addMetric('TransfersFailed', MetricUnit.Count, 1);
    }
    const voided = await store.voidPending(
      transferId,
      `${FAILED_VOID} in ${failure.state}; it can be retried or recalled`,
    );
    await this.audit(
      'transfer.failed',
      transferId,
      'system',
      { ...failure, status: becomes ? 'failed' : t.status, linksVoided: voided, retries: n },
      onceKey('transfer.failed', transferId, n),
    );
    const now = await this.mustGet(transferId);
    await this.deps.opsAlert?.(now, failure).catch(() => undefined);
    if (becomes) await this.tellRequester(now).catch(() => undefined);
    return { status: now.status };
  }

  /**
   * Retries a failed transfer: a new execution (`<id>-r<n>`) from the gate, which keeps the chain
   * the transfer was gated with and starts at its first level not yet approved; the links of that
   * level voided by the failure work again (nobody is asked twice); an approved transfer whose
   * execute step failed goes straight to it. Only a failed transfer; of two retries at once, one
   * wins (a conditional write) and the other is told.
   */
  async retry(
    transferId: string,
    by: string,
  ): Promise<{ ok: true; transfer: Transfer } | { ok: false; status: 400 | 404 | 409; message: string }> {
    const { store } = this.deps;
    const t = await store.getTransfer(transferId);
    if (!t) return { ok: false, status: 404, message: `There is no transfer ${transferId}.` };
    const policy = await this.deps.approvalPolicy();
    const who = resolvePerson(policy, by);
    if (who === undefined) return { ok: false, status: 400, message: `${unknownPerson(by)}.` };
    // A retry recorded whose execution never started (the process stopped, or the start failed,
    // between the two) is taken up by the next retry: the same execution name, the same record.
    const unstarted = this.retryNotStarted(t);
    if ((t.status !== 'failed' || !t.failure) && !unstarted)
      return {
        ok: false,
        status: 409,
        message: `The transfer is ${t.status}: only a failed transfer can be retried.`,
      };
    const back = unstarted
      ? (t.status as 'pending' | 'approved')
      : t.failure?.from === 'approved'
        ? 'approved'
        : 'pending';
    const retries = unstarted ? (t.retries ?? 0) : (t.retries ?? 0) + 1;
    if (!unstarted) {
      const ok = await store.updateTransfer(
        transferId,
        {
          status: back,
          retries,
          retriedAt: this.now(),
          retriedBy: who,
          outcome: back === 'approved' ? 'every level approved' : undefined,
        },
        { status: 'failed' },
      );
      if (!ok) {
        const now = await this.mustGet(transferId);
        return {
          ok: false,
          status: 409,
          message: `The transfer is ${now.status}: only a failed transfer can be retried (it was retried or recalled meanwhile).`,
        };
      }
    }
    if (back === 'pending') await this.reopenLinks(t, policy);
    await this.completeTrail(transferId);
    await this.audit(
      'transfer.retried',
      transferId,
      unstarted ? (t.retriedBy ?? who) : who,
      { failure: t.failure, retry: retries },
      onceKey('transfer.retried', transferId, retries),
    );
    crashPoint('transfers.retry-before-start');
    let executionId: string;
    try {
      ({ executionId } = await this.deps.workflow.start(executionName(transferId, retries), { transferId }));
    } catch (e) {
      // Taken up again after its start went through and before its id was recorded: it runs.
      if (unstarted && e instanceof ExecutionExistsError)
        return { ok: true, transfer: await this.mustGet(transferId) };
      throw e;
    }
    // Recorded whatever the execution has done meanwhile (a quick one moves the status on at once):
    // a retry whose id is recorded is never taken up again.
    for (let status: TransferStatus = back, i = 0; i < 5; i++) {
      if (await store.updateTransfer(transferId, { executionId }, { status })) break;
      status = (await this.mustGet(transferId)).status;
    }
    return { ok: true, transfer: await this.mustGet(transferId) };
  }

  /**
   * Whether `t` was retried and its retry's execution never started: taken back from `failed`
   * (pending, or approved for a failed execute step) at least RETRY_START_MS ago, its execution id
   * still the one before the retry.
   */
  private retryNotStarted(t: Transfer): boolean {
    const n = t.retries ?? 0;
    if (n === 0 || t.retriedAt === undefined || (t.status !== 'pending' && t.status !== 'approved'))
      return false;
    if (t.executionId?.endsWith(`:${executionName(t.transferId, n)}`)) return false;
    return this.deps.clock.now().getTime() - Date.parse(t.retriedAt) >= RETRY_START_MS;
  }

  /**
   * The links of the level a failed transfer stood at, voided by the failure, open again with a
   * new expiry (the level's full wait from now): their approvers were asked, and the outbox says
   * so, so the retried level waits on them without asking again.
   */
  private async reopenLinks(t: Transfer, policy: ApprovalPolicy): Promise<void> {
    if (t.level === undefined) return;
    const state = await this.deps.store.levelState(t.transferId, t.level);
    if (state?.outcome) return;
    const voided = (await this.deps.store.approvalsOf(t.transferId)).filter(
      (a) => a.level === t.level && a.status === 'void' && a.voidReason?.startsWith(FAILED_VOID),
    );
    if (voided.length === 0) return;
    const expiresAt = new Date(
      this.deps.clock.now().getTime() + (policy.reminders.max + 1) * policy.reminders.everySeconds * 1000,
    ).toISOString();
    // The level's wait stores its own token on them when it runs.
    await this.deps.store.putApprovals(
      voided.map(({ voidReason: _v, ...a }) => ({ ...a, status: 'pending', reminders: 0, expiresAt })),
      '',
    );
  }

  /**
   * Tells the requester how the transfer (this try of it) ended, once: the outcome is claimed on
   * the outbox (level 0, the try's number as the round) before it is sent, so a step run again
   * after a kill or a retry, which tells again, finds it sent. A claim another attempt holds is
   * waited on (`outcomeClaimWaitMs`) and then taken over: that attempt is sending, or died doing
   * so (a Lambda killed mid-send, its step retried within seconds), and a requester told twice is
   * better than one never told. A failed send gives its claim back and fails the step.
   */
  private async tellRequester(t: Transfer): Promise<void> {
    const policy = await this.deps.approvalPolicy();
    const to = person(policy, t.request.requester);
    const k: OutboxKey = {
      transferId: t.transferId,
      level: 0,
      kind: 'outcome',
      round: t.retries ?? 0,
      to: to.id,
    };
    const { store } = this.deps;
    const now = this.deps.clock.now();
    const stale = new Date(now.getTime() - CLAIM_STALE_MS).toISOString();
    if (!(await store.claimNotice(k, now.toISOString(), stale))) {
      const deadline = Date.now() + (this.deps.outcomeClaimWaitMs ?? 15_000);
      for (;;) {
        const held = (await store.noticesOf(t.transferId, 0)).find(
          (o) => o.kind === 'outcome' && o.round === k.round && o.to === k.to,
        );
        if (!held || held.state === 'sent') return;
        if (Date.now() >= deadline) break;
        await new Promise((ok) => setTimeout(ok, 250));
      }
      // Still claimed, not sent: taken over (any claim made before this instant counts as stale).
      const at = this.deps.clock.now();
      if (!(await store.claimNotice(k, at.toISOString(), new Date(at.getTime() + 1).toISOString()))) return;
    }
    try {
      await this.deps.notifier.send([{ kind: 'outcome', transfer: t, to }]);
    } catch (e) {
      await store.releaseNotice(k);
      throw e;
    }
    await store.noticeSent(k, this.now());
  }

  // ---- decisions --------------------------------------------------------------------------------

  /** What a link shows, checked as a decision would be, without changing anything. */
  async view(token: string): Promise<ApprovalView> {
    const keys = await this.deps.keys();
    const check = verifyLink(token, keys, this.deps.clock.now());
    if (!check.ok)
      return check.reason === 'expired'
        ? { ok: false, refusal: 'expired-link', status: 410, message: 'This approval link has expired.' }
        : { ok: false, refusal: 'invalid-link', status: 400, message: 'This approval link is not valid.' };
    const { transferId, approvalId } = check.claims;
    const [approval, transfer, policy] = await Promise.all([
      this.deps.store.getApproval(transferId, approvalId),
      this.deps.store.getTransfer(transferId),
      this.deps.approvalPolicy(),
    ]);
    if (!approval || !transfer || approval.approver !== check.claims.approver)
      return { ok: false, refusal: 'unknown-approval', status: 404, message: 'There is no such approval.' };
    return { ok: true, approval, transfer, approver: person(policy, approval.approver) };
  }

  /**
   * What an approval page shows (checked as `view`): beside the transfer and its gate report, the
   * customer's name as its master data has it now, and the decisions already taken on the
   * transfer (earlier levels, and others of the same level) with their comments.
   */
  async approvalPage(token: string): Promise<ApprovalPageView> {
    const v = await this.view(token);
    if (!v.ok) return v;
    const [all, policy] = await Promise.all([
      this.deps.store.approvalsOf(v.transfer.transferId),
      this.deps.approvalPolicy(),
    ]);
    return { ...v, ...(await this.approverContext(v.transfer, all, policy, v.approval.approvalId)) };
  }

  /**
   * What an approver reads beside the transfer (the approval page and the approve, remind and
   * escalate notices alike): the customer's name as its master data has it now, the requester's
   * name, and every decision already taken on the transfer (`except` the reader's own), by level
   * then time, with its comment.
   */
  private async approverContext(
    transfer: Transfer,
    approvals: readonly Approval[],
    policy: ApprovalPolicy,
    except?: string,
  ): Promise<ApproverContext> {
    // A review's batch names no one customer (its id is the run's).
    const part =
      transfer.limitBatch || transfer.policyChange
        ? undefined
        : await this.deps.credit.loadCustomerPartition(transfer.request.customerId);
    const decisions: DecisionSeen[] = approvals
      .filter(
        (a): a is Approval & { status: Decision; decidedAt: string } =>
          a.approvalId !== except &&
          (a.status === 'approved' || a.status === 'rejected') &&
          a.decidedAt !== undefined,
      )
      .sort((x, y) => x.level - y.level || (x.decidedAt < y.decidedAt ? -1 : 1))
      .map((a) => ({
        level: a.level,
        by: person(policy, a.approver).name,
        onBehalfOf: a.onBehalfOf ? person(policy, a.onBehalfOf).name : undefined,
        decision: a.status,
        at: a.decidedAt,
        comment: a.comment,
        via: a.via,
      }));
    return {
      customer: { id: transfer.request.customerId, name: part?.books.customer?.name },
      requester: person(policy, transfer.request.requester).name,
      decisions,
    };
  }

  /**
   * An approver's decision. `as` is who is deciding, as the channel knows them: the email address
   * typed on the page, or the Slack user who pressed the button. Refused, with nothing changed,
   * unless the link is valid, unexpired, used by the person it was sent to, still pending, on a
   * pending transfer, by someone who is not the requester and approved no other level of it.
   */
  async decide(
    token: string,
    decision: Decision,
    as: { readonly email?: string | undefined; readonly slackId?: string | undefined },
    via: 'email' | 'slack',
    comment?: string,
  ): Promise<DecisionOutcome> {
    const v = await this.view(token);
    if (!v.ok) return v;
    const { approval, transfer, approver } = v;
    const policy = await this.deps.approvalPolicy();
    const who = (id: string) => person(policy, id).name;
    const same =
      via === 'slack'
        ? as.slackId !== undefined && approver.slackId !== undefined && as.slackId === approver.slackId
        : as.email !== undefined &&
          approver.email !== undefined &&
          as.email.trim().toLowerCase() === approver.email.toLowerCase();
    if (!same)
      return {
        ok: false,
        refusal: 'not-the-approver',
        status: 403,
        message: `This link was sent to ${approver.name}; only they can use it. Nothing was recorded.`,
        transfer,
        approval,
      };
    if (approval.status === 'approved' || approval.status === 'rejected')
      return this.alreadyDecided(approval, transfer, who);
    if (approval.status === 'void')
      return {
        ok: false,
        refusal: 'no-longer-open',
        status: 410,
        message: `This approval is no longer open (${approval.voidReason ?? 'closed'}). Nothing was recorded.`,
        transfer,
        approval,
      };
    if (transfer.status !== 'pending')
      return {
        ok: false,
        refusal: 'transfer-closed',
        status: 409,
        message: `This transfer is ${transfer.status}${transfer.closedBy && transfer.closedBy !== 'system' ? ` (by ${who(transfer.closedBy)})` : ''}. Nothing was recorded.`,
        transfer,
        approval,
      };
    const requester = resolvePerson(policy, transfer.request.requester) ?? transfer.request.requester;
    if (approval.approver === requester || approval.onBehalfOf === requester)
      return {
        ok: false,
        refusal: 'requester',
        status: 403,
        message: 'The requester of a transfer never approves it. Nothing was recorded.',
        transfer,
        approval,
      };
    const all = await this.deps.store.approvalsOf(transfer.transferId);
    const other = all.find(
      (a) => a.approver === approval.approver && a.level !== approval.level && a.status === 'approved',
    );
    if (other && decision === 'approved')
      return {
        ok: false,
        refusal: 'second-level',
        status: 403,
        message: `You approved level ${other.level} of this transfer; one person approves at most one level. Nothing was recorded.`,
        transfer,
        approval,
      };

    const level = levelOf(transfer, approval.level);
    const required = level?.required ?? 1;
    const before = await this.deps.store.levelState(transfer.transferId, approval.level);
    if (before?.outcome) return this.levelDecided(transfer, before, approval, who);

    // A rejection says why, on the audit trail and to the requester. A Slack button carries no
    // words, so a rejection from Slack is sent to the page, where the reason is asked for.
    if (decision === 'rejected' && !comment?.trim())
      return {
        ok: false,
        refusal: 'reason-required',
        status: 400,
        message:
          via === 'slack'
            ? `A rejection needs a reason, and a button cannot carry one: reject on the approval page, ${this.deps.baseUrl().replace(/\/+$/, '')}/approvals/${token}, with your reason. Nothing was recorded.`
            : 'A rejection needs a reason: write it in the comment box, then press Reject again. Nothing was recorded.',
        transfer,
        approval,
      };

    // The level first: one conditional write on the level's record decides which decision
    // completes or ends it. Only then is the approval itself marked (conditional on pending).
    const decidedAt = this.now();
    // This request's own mark on its writes (a lost response resent is its own; a second click is not).
    const claimant = randomBytes(9).toString('base64url');
    const claimed = await this.deps.store.decideLevel(
      transfer.transferId,
      approval.level,
      required,
      { approvalId: approval.approvalId, approver: approval.approver },
      { status: decision, decidedAt, claimant },
    );
    if (!claimed.ok) return this.levelDecided(transfer, claimed.state, approval, who);
    const r = await this.deps.store.decide(transfer.transferId, approval.approvalId, {
      status: decision,
      decidedAt,
      comment: comment?.trim() || undefined,
      via,
      claimant,
    });
    if (!r.ok) {
      // Voided meanwhile by a recall or an expiry, which closed the transfer first.
      const current = r.current ?? approval;
      return current.status === 'void'
        ? {
            ok: false,
            refusal: 'no-longer-open',
            status: 410,
            message: `This approval is no longer open (${current.voidReason ?? 'closed'}). Nothing was recorded.`,
            transfer,
            approval: current,
          }
        : this.alreadyDecided(current, transfer, who);
    }
    const waited = (Date.parse(decidedAt) - Date.parse(approval.notifiedAt)) / 1000;
    if (Number.isFinite(waited))
      this.deps.metrics?.addMetric('DecisionLatency', MetricUnit.Seconds, Math.max(0, waited));
    await this.audit(
      'approval.decided',
      transfer.transferId,
      approval.approver,
      {
        approvalId: approval.approvalId,
        level: approval.level,
        onBehalfOf: approval.onBehalfOf,
        decision,
        comment: comment?.trim() || undefined,
        via,
        // What the approver had in front of them.
        evidence: { request: transfer.request, gate: transfer.gate, chainWhy: transfer.chainWhy },
      },
      onceKey('approval.decided', transfer.transferId, approval.level, approval.approver),
    );
    const state = claimed.state;
    if (!state.outcome) {
      const more = required - state.approvedBy.length;
      return {
        ok: true,
        approval: r.approval,
        transfer,
        message: `Approved. Level ${approval.level} needs ${plural(more, 'more approval')}.`,
      };
    }
    const settled = await this.settleLevel(transfer, state, comment);
    return { ok: true, approval: r.approval, transfer: settled.transfer, message: settled.message };
  }

  /**
   * Carries out a level's outcome: a rejection closes the transfer and fails the wait; an approval
   * voids the level's other links and resumes the wait. Idempotent, so whoever finds an outcome not
   * yet carried out (a decider that stopped half-way) can finish it. Says only what is true: the
   * next level "has been asked" once its request is on the outbox as sent.
   */
  private async settleLevel(
    transfer: Transfer,
    state: LevelState,
    comment?: string,
  ): Promise<{ transfer: Transfer; message: string }> {
    const { store } = this.deps;
    const policy = await this.deps.approvalPolicy();
    const who = (id: string) => person(policy, id).name;
    const id = transfer.transferId;
    await this.markCounted(id, state, { olderThanMs: LIVE_DECISION_MS });
    const by = state.decidedBy ?? 'someone';
    const approvalId = state.decidedApproval ?? '';
    if (state.outcome === 'rejected') {
      const note = comment?.trim();
      const closed = await store.updateTransfer(
        id,
        {
          status: 'rejected',
          closedAt: state.decidedAt,
          closedBy: by,
          outcome: `rejected at level ${state.level} by ${who(by)}${note ? `: ${note}` : ''}`,
        },
        { status: 'pending' },
      );
      if (closed) this.decided('rejected');
      const now = await this.mustGet(id);
      if (now.status === 'rejected') {
        await store.voidPending(id, `rejected at level ${state.level} by ${who(by)}`, {
          keep: state.approvedBy.map((a) => a.approvalId),
        });
        await this.wake(id, approvalId, 'fail', WORKFLOW_ERRORS.rejected);
        return { transfer: now, message: 'Rejected. The transfer is stopped and the requester is told.' };
      }
      return {
        transfer: now,
        message: `Rejected. Your decision is recorded; the transfer had already been ${now.status}.`,
      };
    }
    await store.voidPending(id, `level ${state.level} complete`, {
      level: state.level,
      keep: state.approvedBy.map((a) => a.approvalId),
    });
    const woken = await this.wake(id, approvalId, 'succeed');
    const last = state.level >= (transfer.levels?.length ?? state.level);
    const head = `Approved. Level ${state.level} is complete`;
    if (last)
      return {
        transfer,
        message: woken
          ? 'Approved. That was the last level: the transfer is approved and the requester is told.'
          : `${head}, the last: the transfer will be recorded as approved when the workflow resumes.`,
      };
    const nextLevel = state.level + 1;
    if (!woken)
      return { transfer, message: `${head}; level ${nextLevel} will be asked when the workflow resumes.` };
    const asked = await this.askedWithin(id, nextLevel, ASKED_WAIT_MS);
    return {
      transfer,
      message: asked
        ? `${head}; level ${nextLevel} has been asked.`
        : `${head}; asking level ${nextLevel} now.`,
    };
  }

  /** Whether a level's first request is on the outbox as sent, waiting up to `ms` for the workflow to get there. */
  private async askedWithin(transferId: string, level: number, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      const notices = await this.deps.store.noticesOf(transferId, level);
      if (notices.some((n) => n.kind === 'approve' && n.state === 'sent')) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }

  /**
   * The answer to a decision on a level that another decision completed or ended first (or that
   * counted this approval already); any follow-up the winner left undone is finished here.
   */
  private async levelDecided(
    transfer: Transfer,
    state: LevelState,
    approval: Approval,
    who: (id: string) => string,
  ): Promise<DecisionOutcome> {
    const counted = state.approvedBy.find((a) => a.approvalId === approval.approvalId);
    // Helps only while the transfer still waits on this level: a later level is never touched.
    const now = await this.mustGet(transfer.transferId);
    if (state.outcome && now.status === 'pending' && (now.level ?? state.level) === state.level)
      await this.settleLevel(now, state);
    const at = counted?.at ?? state.decidedAt ?? 'an earlier time';
    const what = counted ? 'approved' : (state.outcome ?? 'approved');
    const by = counted ? approval.approver : (state.decidedBy ?? approval.approver);
    return {
      ok: false,
      refusal: 'already-decided',
      status: 409,
      message: `Already decided: ${what} by ${who(by)} at ${at}${counted ? '' : ` (level ${state.level} ${state.outcome === 'rejected' ? 'ended' : 'complete'})`}. Nothing was changed.`,
      transfer: (await this.deps.store.getTransfer(transfer.transferId)) ?? transfer,
      approval: (await this.deps.store.getApproval(transfer.transferId, approval.approvalId)) ?? approval,
    };
  }

  private alreadyDecided(a: Approval, transfer: Transfer, who: (id: string) => string): DecisionOutcome {
    return {
      ok: false,
      refusal: 'already-decided',
      status: 409,
      message: `Already decided: ${a.status} by ${who(a.approver)} at ${a.decidedAt ?? 'an earlier time'}. Nothing was changed.`,
      transfer,
      approval: a,
    };
  }

  /**
   * Resumes (or fails) the wait of an approval's level. A wait that already ended is no error.
   * True when a waiting task took it.
   */
  private async wake(
    transferId: string,
    approvalId: string,
    how: 'succeed' | 'fail',
    error = '',
  ): Promise<boolean> {
    const token = await this.deps.store.taskToken(transferId, approvalId);
    if (!token) return false;
    try {
      if (how === 'succeed') await this.deps.workflow.sendTaskSuccess(token, { approvalId });
      else await this.deps.workflow.sendTaskFailure(token, error, `${error} (approval ${approvalId})`);
      return true;
    } catch (e) {
      // Answered by another approver, or timed out: the next wait reads the stored state instead.
      if (
        !(e instanceof TaskTokenError) &&
        (e as Error).name !== 'TaskTimedOut' &&
        (e as Error).name !== 'InvalidToken'
      )
        throw e;
      return false;
    }
  }

  /** The requester takes a pending transfer back: every outstanding link dies at once. */
  async recall(
    transferId: string,
    by: string,
    opts: { readonly supersededBy?: string | undefined } = {},
  ): Promise<{ ok: true; transfer: Transfer } | { ok: false; status: 403 | 404 | 409; message: string }> {
    const t = await this.deps.store.getTransfer(transferId);
    if (!t) return { ok: false, status: 404, message: `There is no transfer ${transferId}.` };
    const policy = await this.deps.approvalPolicy();
    // A person by their id; a system requester (`periodic-review`) by its name.
    const who = resolvePerson(policy, by) ?? by.trim();
    // A policy change superseded by a newer one is recalled by the system, whoever asked it.
    if (!opts.supersededBy && who !== (resolvePerson(policy, t.request.requester) ?? t.request.requester))
      return { ok: false, status: 403, message: 'Only the requester can recall a transfer.' };
    if (t.status === 'failed' && t.failure?.from === 'approved')
      return {
        ok: false,
        status: 409,
        message:
          'The transfer was approved at every level before its execute step failed: retry it to finish recording it; an approved transfer cannot be recalled.',
      };
    const outcome = opts.supersededBy
      ? `recalled: superseded by the newer policy change ${opts.supersededBy} (asked by ${who})`
      : `recalled by ${who}`;
    // A failed transfer has no workflow left to stop: the recall only ends it.
    const from = t.status === 'failed' ? 'failed' : 'pending';
    const ok = await this.deps.store.updateTransfer(
      transferId,
      { status: 'recalled', closedAt: this.now(), closedBy: who, outcome },
      { status: from },
    );
    if (!ok) {
      const now = await this.mustGet(transferId);
      return {
        ok: false,
        status: 409,
        message: `The transfer is ${now.status}: there is nothing to recall.`,
      };
    }
    this.decided('recalled');
    const all = await this.deps.store.approvalsOf(transferId);
    const pending = all.filter((a) => a.status === 'pending');
    await this.deps.store.voidPending(transferId, 'recalled by the requester');
    await this.audit(
      'transfer.recalled',
      transferId,
      who,
      opts.supersededBy
        ? { linksVoided: pending.length, supersededBy: opts.supersededBy }
        : { linksVoided: pending.length },
      onceKey('transfer.recalled', transferId),
    );
    // The wait of the level it stands at, even when that level is complete and the workflow never
    // took it on (its decider stopped half-way): the recall is what clears it then.
    const first = pending[0] ?? all.find((a) => a.level === t.level);
    // A failed transfer's execution has ended: nothing waits to be woken.
    if (first && from === 'pending')
      await this.wake(transferId, first.approvalId, 'fail', WORKFLOW_ERRORS.recalled);
    return { ok: true, transfer: await this.mustGet(transferId) };
  }

  /** Every transfer (or those `filter` selects), newest first. */
  async list(filter?: TransferFilter): Promise<Transfer[]> {
    return this.deps.store.listTransfers(filter);
  }

  /** A page of the transfers (or of those `filter` selects), newest first, with how many there are. */
  async page(req: PageRequest, filter?: TransferFilter): Promise<Page<Transfer>> {
    return this.deps.store.transfersPage(req, filter);
  }

  /** Every approval waiting for a decision, oldest first. */
  async pendingApprovals(): Promise<Approval[]> {
    return this.deps.store.listPendingApprovals();
  }

  async show(transferId: string): Promise<{ transfer: Transfer; approvals: Approval[] } | undefined> {
    const transfer = await this.deps.store.getTransfer(transferId);
    if (!transfer) return undefined;
    return { transfer, approvals: await this.deps.store.approvalsOf(transferId) };
  }
}
