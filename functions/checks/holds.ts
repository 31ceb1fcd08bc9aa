import type { FieldIssue } from '../collections/promises.ts';
import { mapLimit } from '../core/concurrency.ts';
import { addDays, daysBetween, type IsoDate, parseDate } from '../core/dates.ts';
import { formatMoney } from '../core/money.ts';
import { holdPolicyOf, type Policy } from '../credit/policy.ts';
import { idFrom, type TransferApp } from '../transfers/app.ts';
import { type ApprovalPolicy, resolvePerson, unknownPerson } from '../transfers/approval-policy.ts';
import type { Transfer } from '../transfers/ports.ts';
import { type CheckResult, cancelCheck, checkCredit } from './app.ts';
import type { Reservation } from './decide.ts';
import { type HeldOrder, type HeldRelease, heldQueueKey } from './held.ts';
import type { CheckLog } from './log.ts';
import type { CheckDeps, CheckStore } from './ports.ts';

/**
 * Holds that explain and release themselves (README "Held orders"; issue 18 item 5): the hold
 * queue re-checked (a payment, a raise, another order cancelled may have cleared a hold), held
 * orders that waited too long expired, and the order release a person asks of the approval chain
 * for a held order, carried out when the chain ends.
 */

const MAX_ATTEMPTS = 50;

/** What a re-check of the hold queue did. */
export interface RecheckReport {
  readonly rechecked: number;
  /** Approved now: reserved and out of the queue, with the reason codes that cleared. */
  readonly released: readonly { customerId: string; orderId: string; cleared: readonly string[] }[];
  /** Still held, with the reasons of today. */
  readonly held: readonly { customerId: string; orderId: string; reasons: readonly string[] }[];
  /** Held longer than the policy's holdDays: out of the queue. */
  readonly expired: readonly { customerId: string; orderId: string; heldOn: IsoDate }[];
  /** Orders whose re-check failed (tried again next time). */
  readonly failed: readonly { customerId: string; orderId: string; error: string }[];
}

/**
 * Re-runs the real check (functions/checks/app.ts) of every order in the hold queue, or of the
 * given customers' held orders, as of `today`, actor `system`: approved, the order is reserved
 * and released (`credit-check.released`, with what cleared); still held, its reasons are those of
 * today; held more than `creditCheck.holdDays` days, it expires without a check
 * (`credit-check.expired`). Two re-checks at once release an order once (the reservation and the
 * hold are each written over the version read).
 */
export async function recheckHeld(
  deps: CheckDeps,
  policy: Policy,
  at: { readonly today: IsoDate; readonly now: string; readonly customers?: readonly string[] | undefined },
): Promise<RecheckReport> {
  const queue = (await deps.store.heldOrders?.(at.customers)) ?? [];
  const { holdDays } = holdPolicyOf(policy);
  const released: { customerId: string; orderId: string; cleared: readonly string[] }[] = [];
  const held: { customerId: string; orderId: string; reasons: readonly string[] }[] = [];
  const expired: { customerId: string; orderId: string; heldOn: IsoDate }[] = [];
  const failed: { customerId: string; orderId: string; error: string }[] = [];
  // A customer's held orders one after another, oldest first: the headroom a payment freed goes
  // to the order that has waited longest. Customers four at a time.
  const byCustomer = new Map<string, HeldOrder[]>();
  for (const h of [...queue].sort((a, b) => heldQueueKey(a).localeCompare(heldQueueKey(b))))
    byCustomer.set(h.customerId, [...(byCustomer.get(h.customerId) ?? []), h]);
  await mapLimit([...byCustomer.values()], 4, async (orders) => {
    for (const h of orders) await recheckOne(h);
  });
  return { rechecked: queue.length, released, held, expired, failed };

  async function recheckOne(h: HeldOrder): Promise<void> {
    const who = { customerId: h.customerId, orderId: h.orderId };
    try {
      if (daysBetween(h.heldOn, at.today) > holdDays) {
        if (await expireHeld(deps, h, at, holdDays)) expired.push({ ...who, heldOn: h.heldOn });
        return;
      }
      const r: CheckResult = await checkCredit(
        deps,
        policy,
        { ...who, ...h.order },
        { today: at.today, now: at.now, by: 'system' },
      );
      // Released by this re-check; an approval another writer released first is not counted twice.
      if (r.released) released.push({ ...who, cleared: r.released });
      else if (r.decision.outcome !== 'approve')
        held.push({ ...who, reasons: r.decision.reasons.map((x) => x.code) });
    } catch (e) {
      failed.push({ ...who, error: (e as Error).message });
    }
  }
}

/** A held order out of the queue after `holdDays`; false when another writer moved it first. */
async function expireHeld(
  deps: CheckDeps,
  h: HeldOrder,
  at: { readonly today: IsoDate; readonly now: string },
  holdDays: number,
): Promise<boolean> {
  const { writeHeld, getHeld } = deps.store;
  if (!writeHeld || !getHeld) return false;
  let cur: HeldOrder | undefined = h;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && cur?.state === 'held'; attempt++) {
    const next: HeldOrder = {
      ...cur,
      state: 'expired',
      version: cur.version + 1,
      closedOn: at.today,
      closedBy: 'system',
      closedWhy: `held since ${cur.heldOn}, more than the policy's ${holdDays} days: expired`,
    };
    if ((await writeHeld.call(deps.store, next, cur.version)) === 'written') {
      await deps.log.logCheck(cur.customerId, {
        at: at.now,
        kind: 'credit-check.expired',
        subject: cur.customerId,
        actor: 'system',
        data: {
          orderId: cur.orderId,
          heldOn: cur.heldOn,
          holdDays,
          amount: cur.order.amount,
          currency: cur.order.currency,
          reasons: cur.reasons.map((x) => `${x.code}: ${x.text}`),
        },
      });
      return true;
    }
    cur = await getHeld.call(deps.store, h.customerId, h.orderId);
  }
  return false;
}

/**
 * Cancels an order (its reservation, and its hold: functions/checks/app.ts) and, when that freed
 * headroom, re-checks the customer's other held orders at once.
 */
export async function cancelAndRecheck(
  deps: CheckDeps,
  policy: Policy,
  req: { readonly customerId: string; readonly orderId: string; readonly by: string },
  at: { readonly today: IsoDate; readonly now: string },
): Promise<{ released: Reservation | undefined; held: HeldOrder | undefined; rechecked?: RecheckReport }> {
  const released = await cancelCheck(deps, req, at);
  const held = await deps.store.getHeld?.(req.customerId, req.orderId);
  if (!released) return { released, held };
  const rechecked = await recheckHeld(deps, policy, { ...at, customers: [req.customerId] });
  return { released, held, rechecked };
}

// ---- the order release on the approval chain ------------------------------------------------

export interface OrderReleaseDeps {
  readonly store: CheckStore;
  readonly log: CheckLog;
  readonly policy: () => Promise<Policy>;
  readonly approvalPolicy: () => Promise<ApprovalPolicy>;
  /** TransferApp.requestOrderRelease. */
  readonly approvals: Pick<TransferApp, 'requestOrderRelease'>;
  readonly today: () => IsoDate;
  readonly clock: { now(): Date };
}

export type ReleaseOutcome =
  | { readonly ok: true; readonly held: HeldOrder; readonly transferId: string }
  | { readonly ok: false; readonly status: 400 | 404 | 409; readonly issues: FieldIssue[] };

/** The approvers' evidence in words: the hold's reasons, the exposure, the limit, the headroom, the rating. */
export function releaseEvidence(h: HeldOrder): string {
  const e = h.evidence;
  const m = (n: number) => formatMoney(n, e.currency);
  return [
    `held since ${h.heldOn}: ${h.reasons.map((r) => `${r.code}: ${r.text}`).join(' ')}`,
    `exposure with the order ${m(e.exposure)}, limit ${e.limit === null ? 'none' : m(e.limit)}, headroom after ${e.headroomAfter === null ? '-' : m(e.headroomAfter)}, rating ${e.rating === null ? 'not rated' : `${e.rating} (${e.riskClass} risk)`}`,
  ].join('; ');
}

/**
 * Asks the approval chain to ship a held order by exception (README "Held orders"): `requester` a
 * person of the approval policy, a `reason` (3-300 characters), `until` a day from today to
 * `creditCheck.releaseMaxDays` ahead. The order must be held now with no release pending (asking
 * again with the same fields finds the same request). The release is noted on the hold, then the
 * `order_release` is asked; its amount is the order's in the credit currency.
 */
export async function requestOrderRelease(deps: OrderReleaseDeps, input: unknown): Promise<ReleaseOutcome> {
  const o = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const text = (k: string) => (typeof o[k] === 'string' ? (o[k] as string).trim() : '');
  const issues: FieldIssue[] = [];
  const today = deps.today();
  const { releaseMaxDays } = holdPolicyOf(await deps.policy());
  const customerId = text('customerId');
  const orderId = text('orderId');
  if (!customerId) issues.push({ field: 'customerId', message: 'is required' });
  if (!orderId) issues.push({ field: 'orderId', message: 'is required' });
  const reason = text('reason');
  if (reason.length < 3) issues.push({ field: 'reason', message: 'must say why (at least 3 characters)' });
  else if (reason.length > 300) issues.push({ field: 'reason', message: 'must be at most 300 characters' });
  const last = addDays(today, releaseMaxDays);
  const u = parseDate(text('until'));
  if (!u.ok)
    issues.push({ field: 'until', message: 'must be a date YYYY-MM-DD: the last day the order may ship' });
  else if (u.value < today)
    issues.push({ field: 'until', message: `${u.value} is in the past (today is ${today})` });
  else if (u.value > last)
    issues.push({
      field: 'until',
      message: `${u.value} is more than ${releaseMaxDays} days ahead: at most ${last} (creditCheck.releaseMaxDays)`,
    });
  const people = await deps.approvalPolicy();
  const raw = text('requester');
  const requester = raw ? resolvePerson(people, raw) : undefined;
  if (!raw) issues.push({ field: 'requester', message: 'is required: a person of the approval policy' });
  else if (!requester) issues.push({ field: 'requester', message: unknownPerson(raw) });
  for (const k of Object.keys(o))
    if (!['customerId', 'orderId', 'reason', 'until', 'requester'].includes(k))
      issues.push({ field: k, message: 'is not a field of an order release' });
  if (issues.length > 0 || !u.ok || !requester) return { ok: false, status: 400, issues };
  const { getHeld, writeHeld } = deps.store;
  if (!getHeld || !writeHeld) throw new Error('this check store keeps no held orders');
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const h = await getHeld.call(deps.store, customerId, orderId);
    if (!h)
      return {
        ok: false,
        status: 404,
        issues: [{ field: 'orderId', message: `${customerId} has no held order ${orderId}` }],
      };
    const releases = h.releases ?? [];
    const pending = releases.at(-1)?.status === 'pending' ? releases.at(-1) : undefined;
    let release: HeldRelease;
    if (pending) {
      if (pending.requestedBy !== requester || pending.until !== u.value || pending.reason !== reason)
        return {
          ok: false,
          status: 409,
          issues: [
            {
              field: 'orderId',
              message: `an order release of ${orderId} is pending already (${pending.transferId}, asked by ${pending.requestedBy})`,
            },
          ],
        };
      release = pending;
    } else {
      if (h.state !== 'held')
        return {
          ok: false,
          status: 409,
          issues: [
            {
              field: 'orderId',
              message: `order ${orderId} of ${customerId} is ${h.state}, not held: nothing to release`,
            },
          ],
        };
      release = {
        transferId: `TR-${idFrom(`order-release:${customerId}:${orderId}:${h.heldAt}:${releases.length}`)}`,
        requestedBy: requester,
        requestedAt: deps.clock.now().toISOString(),
        reason,
        until: u.value,
        status: 'pending',
      };
      const next: HeldOrder = { ...h, releases: [...releases, release], version: h.version + 1 };
      if ((await writeHeld.call(deps.store, next, h.version)) === 'conflict') continue;
    }
    const file = await deps.store.loadCheckFile(customerId);
    const e = h.evidence;
    const inCredit = e.thisOrder > 0;
    await deps.approvals.requestOrderRelease({
      transferId: release.transferId,
      customerId,
      name: file.customer?.name ?? customerId,
      amount: inCredit ? e.thisOrder : h.order.amount,
      currency: inCredit ? e.currency : h.order.currency,
      reason: `${reason} | until ${release.until}; ${releaseEvidence(h)}`,
      requester,
      orderRelease: {
        orderId,
        orderAmount: h.order.amount,
        orderCurrency: h.order.currency,
        until: release.until,
        heldOn: h.heldOn,
        reasons: h.reasons.map((r) => `${r.code}: ${r.text}`),
        exposure: e.exposure,
        limit: e.limit,
        headroomAfter: e.headroomAfter,
        rating: e.rating,
        riskClass: e.riskClass,
      },
    });
    return {
      ok: true,
      held: (await getHeld.call(deps.store, customerId, orderId)) ?? h,
      transferId: release.transferId,
    };
  }
  throw new Error(`the release of ${orderId} could not be noted: ${MAX_ATTEMPTS} writes raced it`);
}

/**
 * What the approval chain does with an order release (TransferDeps.orderReleases): approved, the
 * held order is `excepted` until the release's end (a check of it until then approves with
 * `RELEASED_BY_APPROVAL`), logged `credit-check.excepted`; ended otherwise, it stays held and the
 * release is noted (`credit-check.release-refused`). Each a write over the version read; a step run
 * again finds its work done.
 */
export function orderReleaseOutcomes(deps: {
  readonly store: CheckStore;
  readonly log: CheckLog;
  readonly clock: { now(): Date };
}) {
  const { getHeld, writeHeld } = deps.store;
  const mustGet = async (customerId: string, orderId: string) => {
    const h = await getHeld?.call(deps.store, customerId, orderId);
    if (!h || !writeHeld) throw new Error(`there is no held order ${orderId} of ${customerId}`);
    return h;
  };
  const noted = (h: HeldOrder, t: Transfer, status: HeldRelease['status']): HeldRelease[] => {
    const list = [...(h.releases ?? [])];
    const i = list.findIndex((r) => r.transferId === t.transferId);
    const decidedAt = t.closedAt ?? deps.clock.now().toISOString();
    if (i >= 0) list[i] = { ...(list[i] as HeldRelease), status, decidedAt };
    return list;
  };
  return {
    async excepted(t: Transfer): Promise<void> {
      const r = t.orderRelease;
      if (!r) return;
      const customerId = t.request.customerId;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const h = await mustGet(customerId, r.orderId);
        if (h.exception?.transferId === t.transferId) return;
        if ((h.releases ?? []).find((x) => x.transferId === t.transferId)?.status === 'approved') return;
        const approvedOn = t.approvedOn ?? deps.clock.now().toISOString().slice(0, 10);
        const applies = h.state === 'held';
        const next: HeldOrder = {
          ...h,
          version: h.version + 1,
          releases: noted(h, t, 'approved'),
          ...(applies
            ? {
                state: 'excepted' as const,
                exception: { transferId: t.transferId, until: r.until, approvedOn },
                closedOn: approvedOn,
                closedBy: 'approval chain',
                closedWhy: `order release ${t.transferId} approved: ships until ${r.until}`,
              }
            : {}),
        };
        if (
          (await (writeHeld as NonNullable<typeof writeHeld>).call(deps.store, next, h.version)) ===
          'conflict'
        )
          continue;
        await deps.log.logCheck(customerId, {
          at: t.closedAt ?? deps.clock.now().toISOString(),
          kind: 'credit-check.excepted',
          subject: customerId,
          actor: 'approval chain',
          data: {
            orderId: r.orderId,
            transferId: t.transferId,
            until: r.until,
            approvedOn,
            applies,
            ...(applies ? {} : { why: `the order was ${h.state} when the release was approved` }),
            amount: r.orderAmount,
            currency: r.orderCurrency,
            reasons: r.reasons,
            exposure: r.exposure,
            limit: r.limit,
            headroomAfter: r.headroomAfter,
            creditCurrency: t.request.currency,
            rating: r.rating,
            riskClass: r.riskClass,
          },
        });
        return;
      }
    },
    async decided(t: Transfer): Promise<void> {
      const r = t.orderRelease;
      if (!r || t.status === 'approved' || t.status === 'pending') return;
      const status: HeldRelease['status'] =
        t.status === 'rejected' ? 'rejected' : t.status === 'recalled' ? 'recalled' : 'expired';
      const customerId = t.request.customerId;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const h = await mustGet(customerId, r.orderId);
        const mine = (h.releases ?? []).find((x) => x.transferId === t.transferId);
        if (mine?.status !== 'pending') return;
        const next: HeldOrder = { ...h, version: h.version + 1, releases: noted(h, t, status) };
        if (
          (await (writeHeld as NonNullable<typeof writeHeld>).call(deps.store, next, h.version)) ===
          'conflict'
        )
          continue;
        await deps.log.logCheck(customerId, {
          at: t.closedAt ?? deps.clock.now().toISOString(),
          kind: 'credit-check.release-refused',
          subject: customerId,
          actor: t.closedBy ?? 'approval chain',
          data: {
            orderId: r.orderId,
            transferId: t.transferId,
            status: t.status,
            outcome: t.outcome,
            state: h.state,
          },
        });
        return;
      }
    },
  };
}
