import type { AuditEvent } from '../core/audit.ts';
import type { IsoDate } from '../core/dates.ts';
import { statementAsOf } from '../core/receivables.ts';
import { creditFileOf } from '../credit/evaluate.ts';
import type { Policy } from '../credit/policy.ts';
import {
  ageOf,
  checkDispute,
  DISPUTE_OUTCOMES,
  type Dispute,
  type DisputeOutcome,
  type DisputeRequest,
  openOn,
} from './disputes.ts';
import {
  type Assignment,
  CALL_OUTCOMES,
  type CallLog,
  type CallOutcome,
  type CollectionsStore,
  type CollectorBook,
  type CreditHold,
  type DisputeBook,
  type Handover,
  type HandoverBook,
  type HoldBook,
  type PromiseBook,
} from './ports.ts';
import {
  checkPromise,
  type FieldIssue,
  type PromiseRequest,
  type RatedPromise,
  ratePromise,
} from './promises.ts';
import { dunningFor, promisesAsOf } from './run.ts';

/** A request refused: each bad field named; nothing was written. */
export class RefusedError extends Error {
  constructor(readonly issues: readonly FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
    this.name = new.target.name;
  }
}

/** A promise refused. */
export class PromiseRefusedError extends RefusedError {}

/** The customer is not on file (no books, no master data): there is nothing to promise. */
export class UnknownCustomerError extends Error {
  constructor(readonly customerId: string) {
    super(`no customer ${customerId} on file`);
    this.name = 'UnknownCustomerError';
  }
}

export interface PromiseDeps {
  readonly store: Pick<CollectionsStore, 'loadCustomerPartition'> & PromiseBook;
  readonly audit: { appendAudit(e: AuditEvent, opts?: { readonly once?: string }): Promise<unknown> };
}

/**
 * Records a promise to pay (README "Collections") as of `today`: checked against what the customer
 * has open and undisputed that day (less unapplied cash), its date not past and within the plan's
 * reach; written once (the same promise recorded twice is one), then put on the audit trail. The
 * day's collections hold the chase while it is pending. Refuses with every bad field named.
 */
export async function recordPromise(
  deps: PromiseDeps,
  policy: Policy,
  req: PromiseRequest,
  at: { readonly today: IsoDate; readonly now: string },
  opts: {
    /** Made through this reminder's portal link: one promise per link (see `checkPromise`). */
    readonly link?: string | undefined;
  } = {},
): Promise<{ promise: RatedPromise; recorded: boolean }> {
  const plan = policy.collections;
  if (!plan)
    throw new PromiseRefusedError([
      { field: 'policy', message: `policy ${policy.id} has no collections section` },
    ]);
  const part = await deps.store.loadCustomerPartition(req.customerId);
  if (!part.books.customer && part.books.invoices.length === 0)
    throw new UnknownCustomerError(req.customerId);
  const d = dunningFor(req.customerId, part, plan, at.today, []);
  const open = d.totals.overdue + d.totals.notDue - d.totals.unappliedCash;
  const checked = checkPromise(req, {
    today: at.today,
    currency: d.currency,
    open,
    rules: plan.promises,
    now: at.now,
    link: opts.link,
  });
  if (!checked.ok) throw new PromiseRefusedError(checked.issues);
  const outcome = await deps.store.recordPromise(checked.promise);
  // Through a link, the one on file may say something else (made another day, or another amount):
  // it is the promise, and the caller tells the customer so.
  const p =
    outcome === 'exists' && opts.link
      ? (((await deps.store.loadCustomerPartition(req.customerId)).promises ?? []).find(
          (x) => x.promiseId === checked.promise.promiseId,
        ) ?? checked.promise)
      : checked.promise;
  // Another request's promise found under the link's id (two sends at once): that request puts it
  // on the trail; this one records nothing. The same promise again (a retry) is noted once.
  const mine =
    outcome === 'recorded' ||
    (p.amount === checked.promise.amount &&
      p.promisedDate === checked.promise.promisedDate &&
      p.recordedBy === checked.promise.recordedBy);
  if (!mine) {
    const payments = part.books.payments.filter((x) => x.receivedDate <= at.today);
    return { promise: ratePromise(p, payments, at.today, plan.promises), recorded: false };
  }
  await deps.audit.appendAudit(
    {
      at: at.now,
      kind: 'promise.recorded',
      subject: p.customerId,
      actor: p.recordedBy,
      data: {
        promiseId: p.promiseId,
        amount: p.amount,
        currency: p.currency,
        promisedDate: p.promisedDate,
        madeOn: p.madeOn,
        via: p.via,
        ...(p.note ? { note: p.note } : {}),
        ...(p.link ? { link: p.link } : {}),
      },
    },
    { once: `promise.${p.promiseId}` },
  );
  const payments = part.books.payments.filter((x) => x.receivedDate <= at.today);
  return { promise: ratePromise(p, payments, at.today, plan.promises), recorded: outcome === 'recorded' };
}

/** Every promise of the customer made by the day, rated as of it, newest first. */
export async function promisesOf(
  store: Pick<CollectionsStore, 'loadCustomerPartition'>,
  policy: Policy,
  customerId: string,
  asOf: IsoDate,
): Promise<RatedPromise[]> {
  const plan = policy.collections;
  if (!plan) return [];
  const part = await store.loadCustomerPartition(customerId);
  return promisesAsOf(part, plan, asOf).sort((a, b) =>
    a.madeOn < b.madeOn ? 1 : a.madeOn > b.madeOn ? -1 : a.promiseId < b.promiseId ? 1 : -1,
  );
}

export interface DisputeDeps {
  readonly store: Pick<CollectionsStore, 'loadCustomerPartition'> & DisputeBook;
  readonly audit: PromiseDeps['audit'];
}

/** A dispute refused: a field, or what the books say (an invoice paid, not on file, or disputed already). */
export class DisputeRefusedError extends RefusedError {}

/** A hold release refused. */
export class HoldRefusedError extends RefusedError {}

/**
 * Opens a dispute on one of the customer's invoices as of `today` (README "Collections"): the
 * invoice must be on file and open that day (a paid invoice has nothing to dispute); the fields
 * are checked, each bad one named (a part contested at most what is open on the invoice that day);
 * two people opening one at once make one dispute; on the audit trail. From the day it is opened
 * what it contests (the invoice, or the part it names) is left out of every demand.
 */
export async function openDispute(
  deps: DisputeDeps,
  req: DisputeRequest,
  at: { readonly today: IsoDate; readonly now: string },
): Promise<{ dispute: Dispute; opened: boolean }> {
  const part = await deps.store.loadCustomerPartition(req.customerId);
  if (!part.books.customer && part.books.invoices.length === 0)
    throw new UnknownCustomerError(req.customerId);
  const file = creditFileOf(req.customerId, part);
  const s = statementAsOf(
    { customerId: req.customerId, currency: file.currency, invoices: file.invoices, payments: file.payments },
    at.today,
  ).invoices.find((i) => i.invoiceId === req.invoiceId);
  const issues: FieldIssue[] = [];
  if (!s)
    issues.push({
      field: 'invoice',
      message: `${req.invoiceId} is not an invoice of ${req.customerId} on file`,
    });
  else if (s.settledDate !== undefined || s.open <= 0)
    issues.push({
      field: 'invoice',
      message: `${req.invoiceId} is paid${s.settledDate ? ` (settled on ${s.settledDate})` : ''}: there is nothing to dispute`,
    });
  const checked = checkDispute(
    req,
    at,
    s
      ? { invoiceId: s.invoiceId, currency: s.currency, open: s.settledDate === undefined ? s.open : 0 }
      : undefined,
  );
  if (!checked.ok) issues.push(...checked.issues);
  if (issues.length > 0 || !checked.ok) throw new DisputeRefusedError(issues);
  const { outcome, current } = await deps.store.openDispute(checked.dispute);
  if (outcome === 'exists' && current.disputeId !== checked.dispute.disputeId)
    throw new DisputeRefusedError([
      {
        field: 'invoice',
        message: `${req.invoiceId} is disputed already (${current.disputeId}, opened ${current.openedOn} by ${current.openedBy}, owner ${current.owner})`,
      },
    ]);
  await deps.audit.appendAudit(
    {
      at: at.now,
      kind: 'dispute.opened',
      subject: current.customerId,
      actor: current.openedBy,
      data: {
        disputeId: current.disputeId,
        invoiceId: current.invoiceId,
        reason: current.reason,
        ...(current.amount !== undefined ? { amount: current.amount, currency: current.currency } : {}),
        ...(current.line ? { line: current.line } : {}),
        owner: current.owner,
        answerBy: current.answerBy,
      },
    },
    { once: `dispute.${current.disputeId}.opened` },
  );
  return { dispute: current, opened: outcome === 'opened' };
}

/** Resolves an invoice's open dispute with its outcome, as of `today`; on the audit trail. */
export async function resolveDispute(
  deps: DisputeDeps,
  req: {
    readonly customerId: string;
    readonly invoiceId: string;
    readonly outcome: string;
    readonly resolvedBy: string;
    readonly note?: string | undefined;
  },
  at: { readonly today: IsoDate; readonly now: string },
): Promise<Dispute> {
  const issues: FieldIssue[] = [];
  if (!(DISPUTE_OUTCOMES as readonly string[]).includes(req.outcome))
    issues.push({ field: 'outcome', message: `must be one of ${DISPUTE_OUTCOMES.join(', ')}` });
  if (req.resolvedBy.trim() === '')
    issues.push({ field: 'resolvedBy', message: 'is required: who resolves it' });
  if (issues.length > 0) throw new DisputeRefusedError(issues);
  const r = await deps.store.resolveDispute(req.customerId, req.invoiceId, {
    resolvedOn: at.today,
    resolvedBy: req.resolvedBy.trim(),
    outcome: req.outcome as DisputeOutcome,
    note: req.note?.trim() || undefined,
  });
  if (r.outcome === 'not-open' || !r.current)
    throw new DisputeRefusedError([
      {
        field: 'invoice',
        message: r.current
          ? `${req.invoiceId} has no open dispute (${r.current.disputeId} was resolved on ${r.current.resolvedOn} by ${r.current.resolvedBy})`
          : `${req.invoiceId} of ${req.customerId} has no dispute`,
      },
    ]);
  const d = r.current;
  await deps.audit.appendAudit(
    {
      at: at.now,
      kind: 'dispute.resolved',
      subject: d.customerId,
      actor: d.resolvedBy ?? req.resolvedBy,
      data: {
        disputeId: d.disputeId,
        invoiceId: d.invoiceId,
        outcome: d.outcome,
        ...(d.note ? { note: d.note } : {}),
      },
    },
    { once: `dispute.${d.disputeId}.resolved` },
  );
  return d;
}

/** The customer's disputes, open ones first (oldest first), then resolved ones (latest first). */
export async function disputesOf(
  store: Pick<CollectionsStore, 'loadCustomerPartition'>,
  customerId: string,
  asOf: IsoDate,
): Promise<(Dispute & { open: boolean; days: number; late: boolean })[]> {
  const part = await store.loadCustomerPartition(customerId);
  return (part.disputes ?? [])
    .filter((d) => d.openedOn <= asOf)
    .map((d) => ({
      ...d,
      open: openOn(d, asOf),
      ...ageOf(d, d.resolvedOn && d.resolvedOn <= asOf ? d.resolvedOn : asOf),
    }))
    .sort((a, b) =>
      a.open !== b.open
        ? a.open
          ? -1
          : 1
        : a.open
          ? a.openedOn < b.openedOn
            ? -1
            : 1
          : a.openedOn < b.openedOn
            ? 1
            : -1,
    );
}

/**
 * Lifts a customer's credit hold (README "Collections"): a person, with a reason, as of today; on
 * the audit trail. Refused when no hold is on.
 */
export async function releaseHold(
  deps: { readonly store: HoldBook; readonly audit: PromiseDeps['audit'] },
  req: { readonly customerId: string; readonly releasedBy: string; readonly reason: string },
  at: { readonly today: IsoDate; readonly now: string },
): Promise<CreditHold> {
  const issues: FieldIssue[] = [];
  if (req.releasedBy.trim() === '')
    issues.push({ field: 'releasedBy', message: 'is required: who lifts it' });
  if (req.reason.trim() === '') issues.push({ field: 'reason', message: 'is required: why it is lifted' });
  if (issues.length > 0) throw new HoldRefusedError(issues);
  const h = await deps.store.releaseCreditHold(req.customerId, {
    releasedOn: at.today,
    releasedBy: req.releasedBy.trim(),
    releaseReason: req.reason.trim(),
  });
  if (!h)
    throw new HoldRefusedError([{ field: 'customer', message: `${req.customerId} is not on credit hold` }]);
  await deps.audit.appendAudit(
    {
      at: at.now,
      kind: 'hold.released',
      subject: h.customerId,
      actor: h.releasedBy ?? req.releasedBy,
      data: { since: h.since, placedBy: h.by, placedFor: h.reason, reason: h.releaseReason },
    },
    { once: `hold.${h.customerId}.${h.since}.released` },
  );
  return h;
}

/** A hand-over withdrawal refused. */
export class HandoverRefusedError extends RefusedError {}

/**
 * Withdraws a customer's open hand-over to legal (README "Collections"): a person, with a reason,
 * as of today; on the audit trail. Refused when none is open.
 */
export async function withdrawHandover(
  deps: { readonly store: HandoverBook; readonly audit: PromiseDeps['audit'] },
  req: { readonly customerId: string; readonly withdrawnBy: string; readonly reason: string },
  at: { readonly today: IsoDate; readonly now: string },
): Promise<Handover> {
  const issues: FieldIssue[] = [];
  if (req.withdrawnBy.trim() === '')
    issues.push({ field: 'withdrawnBy', message: 'is required: who withdraws it' });
  if (req.reason.trim() === '') issues.push({ field: 'reason', message: 'is required: why it is withdrawn' });
  if (issues.length > 0) throw new HandoverRefusedError(issues);
  const h = await deps.store.withdrawHandover(req.customerId, {
    withdrawnOn: at.today,
    withdrawnBy: req.withdrawnBy.trim(),
    withdrawReason: req.reason.trim(),
  });
  if (!h)
    throw new HandoverRefusedError([
      { field: 'customer', message: `${req.customerId} has no open hand-over to legal` },
    ]);
  await deps.audit.appendAudit(
    {
      at: at.now,
      kind: 'handover.withdrawn',
      subject: h.customerId,
      actor: h.withdrawnBy ?? req.withdrawnBy,
      data: { handedOverOn: h.on, demand: h.demand, currency: h.currency, reason: h.withdrawReason },
    },
    { once: `handover.${h.customerId}.${h.on}.withdrawn` },
  );
  return h;
}

/** An assignment or a call log refused. */
export class CollectorRefusedError extends RefusedError {}

const WHO = /^[\p{L}\p{N}._@-]{1,64}$/u;

/** Assigns (or reassigns) a customer to a collector as of today; on the audit trail with who had it before. */
export async function assignCollector(
  deps: { readonly store: CollectorBook; readonly audit: PromiseDeps['audit'] },
  req: { readonly customerId: string; readonly collector: string; readonly by: string },
  at: { readonly today: IsoDate; readonly now: string },
): Promise<{ assignment: Assignment; before?: Assignment | undefined }> {
  const issues: FieldIssue[] = [];
  const collector = req.collector.trim();
  const by = req.by.trim();
  if (!WHO.test(collector))
    issues.push({ field: 'collector', message: 'must be a person id (letters, digits, . _ @ -)' });
  if (by === '') issues.push({ field: 'by', message: 'is required: who assigns it' });
  if (issues.length > 0) throw new CollectorRefusedError(issues);
  const assignment: Assignment = { customerId: req.customerId, collector, since: at.today, by };
  const before = await deps.store.assignCollector(assignment);
  await deps.audit.appendAudit({
    at: at.now,
    kind: 'collector.assigned',
    subject: req.customerId,
    actor: by,
    data: { collector, ...(before ? { before: before.collector } : {}) },
  });
  return { assignment, before };
}

/** Logs a call or a visit and what came of it, as of today. */
export async function logCall(
  deps: { readonly store: CollectorBook },
  req: {
    readonly customerId: string;
    readonly outcome: string;
    readonly by: string;
    readonly channel?: string | undefined;
    readonly note?: string | undefined;
  },
  at: { readonly today: IsoDate; readonly now: string },
): Promise<CallLog> {
  const issues: FieldIssue[] = [];
  if (!(CALL_OUTCOMES as readonly string[]).includes(req.outcome))
    issues.push({ field: 'outcome', message: `must be one of ${CALL_OUTCOMES.join(', ')}` });
  const channel = req.channel ?? 'phone';
  if (channel !== 'phone' && channel !== 'visit')
    issues.push({ field: 'channel', message: 'must be phone or visit' });
  if (req.by.trim() === '') issues.push({ field: 'by', message: 'is required: who called or visited' });
  const note = req.note?.trim() || undefined;
  if (note && note.length > 500) issues.push({ field: 'note', message: 'is longer than 500 characters' });
  if (issues.length > 0) throw new CollectorRefusedError(issues);
  const log: CallLog = {
    customerId: req.customerId,
    on: at.today,
    at: at.now,
    by: req.by.trim(),
    channel: channel as CallLog['channel'],
    outcome: req.outcome as CallOutcome,
    note,
  };
  await deps.store.logCall(log);
  return log;
}
