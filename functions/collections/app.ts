import type { AuditEvent } from '../core/audit.ts';
import type { IsoDate } from '../core/dates.ts';
import type { Policy } from '../credit/policy.ts';
import type { CollectionsStore, PromiseBook } from './ports.ts';
import {
  checkPromise,
  type FieldIssue,
  type PromiseRequest,
  type RatedPromise,
  ratePromise,
} from './promises.ts';
import { dunningFor, promisesAsOf } from './run.ts';

/** A promise refused: each bad field named; nothing was written. */
export class PromiseRefusedError extends Error {
  constructor(readonly issues: readonly FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
    this.name = 'PromiseRefusedError';
  }
}

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
  });
  if (!checked.ok) throw new PromiseRefusedError(checked.issues);
  const p = checked.promise;
  const outcome = await deps.store.recordPromise(p);
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
