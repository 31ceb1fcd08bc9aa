import type { IsoDate } from '../core/dates.ts';
import { formatMoney } from '../core/money.ts';
import type { CheckOrder, CreditDecision, Reason } from './decide.ts';

/**
 * Held orders (README "Credit checks", "Held orders"; issue 18 item 5): an order a check answered
 * `hold` is kept in its customer's partition (`HELD#<order>`) with its reasons, listed in the hold
 * queue (the table's index, `HELDORDERS`) while it is held. It leaves the queue when a later check
 * approves it (`released`, by any path: a payment, a raise, another order cancelled), when it is
 * cancelled, when it waits longer than the policy's `holdDays` (`expired`), or when an order
 * release is approved on the approval chain (`excepted` until the release's end date).
 */
export const HELD_STATES = ['held', 'released', 'excepted', 'cancelled', 'expired'] as const;
export type HeldState = (typeof HELD_STATES)[number];

/** What the hold showed when it was last checked: the approvers' evidence. */
export interface HeldEvidence {
  /** The credit currency: exposure, limit and headroom are in it. */
  readonly currency: string;
  /** The exposure with this order (minor units). */
  readonly exposure: number;
  /** This order in the credit currency (minor units). */
  readonly thisOrder: number;
  readonly limit: number | null;
  readonly headroomAfter: number | null;
  readonly rating: string | null;
  readonly riskClass: string | null;
  readonly policyId: string;
}

/** An order release asked of the approval chain for a held order. */
export interface HeldRelease {
  readonly transferId: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly reason: string;
  /** The last day the exception holds (inclusive). */
  readonly until: IsoDate;
  readonly status: 'pending' | 'approved' | 'rejected' | 'recalled' | 'expired';
  readonly decidedAt?: string | undefined;
}

/** `HELD#<order>` in the customer's partition. */
export interface HeldOrder {
  readonly customerId: string;
  readonly orderId: string;
  /** The order as checked (amount in minor units of its currency). */
  readonly order: Omit<CheckOrder, 'customerId' | 'orderId'>;
  /** The reasons of the latest check that held it. */
  readonly reasons: readonly Reason[];
  readonly evidence: HeldEvidence;
  /** The day it was first held (a new hold after it left the queue starts again). */
  readonly heldOn: IsoDate;
  readonly heldAt: string;
  readonly lastCheckedOn: IsoDate;
  readonly lastCheckedAt: string;
  readonly state: HeldState;
  /** Moves on with every write; each write is conditional on the version read. */
  readonly version: number;
  /** When it left the queue, by whom, and why in words. */
  readonly closedOn?: IsoDate | undefined;
  readonly closedBy?: string | undefined;
  readonly closedWhy?: string | undefined;
  /** Released by a check: the reason codes it had and no longer has. */
  readonly cleared?: readonly string[] | undefined;
  /** The order releases asked (the latest last). */
  readonly releases?: readonly HeldRelease[] | undefined;
  /** Set while excepted: the approval and the last day it holds. */
  readonly exception?:
    | { readonly transferId: string; readonly until: IsoDate; readonly approvedOn: IsoDate }
    | undefined;
}

/**
 * The hold queue's index key, oldest first: the day it was held (the day the page shows), then
 * the instant, customer and order.
 */
export const heldQueueKey = (h: Pick<HeldOrder, 'heldOn' | 'heldAt' | 'customerId' | 'orderId'>): string =>
  `${h.heldOn}#${h.heldAt}#${h.customerId}#${h.orderId}`;

export const evidenceOf = (d: CreditDecision): HeldEvidence => ({
  currency: d.currency,
  exposure: d.exposure.total,
  thisOrder: d.exposure.thisOrder,
  limit: d.limit,
  headroomAfter: d.headroomAfter,
  rating: d.rating,
  riskClass: d.riskClass,
  policyId: d.policyId,
});

/** Whether an approved order release applies to this order on `asOf` (same amount and currency, not past its end). */
export function exceptionApplies(h: HeldOrder | undefined, order: CheckOrder, asOf: IsoDate): boolean {
  return (
    h?.state === 'excepted' &&
    h.exception !== undefined &&
    asOf <= h.exception.until &&
    h.order.amount === order.amount &&
    h.order.currency === order.currency
  );
}

/**
 * A held decision turned into an approval by an approved order release (README "Held orders"): the
 * outcome `approve`, `RELEASED_BY_APPROVAL` first naming the approval and its end, and the reasons
 * that would have held it kept beside it as evidence. A block (handed over to legal) is not turned.
 */
export function releasedByApproval(d: CreditDecision, h: HeldOrder): CreditDecision {
  const e = h.exception as NonNullable<HeldOrder['exception']>;
  return {
    ...d,
    outcome: 'approve',
    reasons: [
      {
        code: 'RELEASED_BY_APPROVAL',
        text: `Released by approval ${e.transferId} (order release approved on ${e.approvedOn}) until ${e.until}: it ships though the check would hold it.`,
      },
      ...d.reasons,
    ],
  };
}

/** The next state of a held order after a check's decision; undefined when nothing is to be written. */
export function afterCheck(
  prev: HeldOrder | undefined,
  customerId: string,
  order: CheckOrder,
  d: CreditDecision,
  result: 'reserved' | 'kept' | 'none',
  at: { readonly today: IsoDate; readonly now: string; readonly by: string },
): { next: HeldOrder; released?: readonly string[] } | undefined {
  const storeDown = d.reasons.some((r) => r.code === 'STORE_UNAVAILABLE');
  if (storeDown) return undefined;
  if (d.outcome === 'hold') {
    // Not on file: no partition to keep it in (a credit application comes first).
    if (d.reasons.some((r) => r.code === 'CREDIT_APPLICATION_NEEDED')) return undefined;
    const open = prev?.state === 'held';
    return {
      next: {
        customerId,
        orderId: order.orderId,
        order: {
          amount: order.amount,
          currency: order.currency,
          requestedShipDate: order.requestedShipDate,
          stage: order.stage,
          channel: order.channel,
        },
        reasons: d.reasons,
        evidence: evidenceOf(d),
        heldOn: open ? prev.heldOn : at.today,
        heldAt: open ? prev.heldAt : at.now,
        lastCheckedOn: at.today,
        lastCheckedAt: at.now,
        state: 'held',
        version: (prev?.version ?? 0) + 1,
        ...(prev?.releases ? { releases: prev.releases } : {}),
      },
    };
  }
  if (d.outcome === 'approve' && result !== 'none' && prev?.state === 'held') {
    const now = new Set(d.reasons.map((r) => r.code));
    const cleared = prev.reasons.map((r) => r.code).filter((c) => !now.has(c));
    return {
      next: {
        ...prev,
        lastCheckedOn: at.today,
        lastCheckedAt: at.now,
        state: 'released',
        version: prev.version + 1,
        closedOn: at.today,
        closedBy: at.by,
        closedWhy: `approved by a check on ${at.today}: ${cleared.join(', ') || 'nothing'} cleared`,
        cleared,
      },
      released: cleared,
    };
  }
  return undefined;
}

/** One line of the hold queue as a person reads it. */
export function heldLine(h: HeldOrder): string {
  const e = h.evidence;
  return `${h.customerId} ${h.orderId} ${formatMoney(h.order.amount, h.order.currency)} ${h.state} since ${h.heldOn} (last checked ${h.lastCheckedOn}): ${h.reasons.map((r) => r.code).join(', ')}; exposure ${formatMoney(e.exposure, e.currency)}, limit ${e.limit === null ? 'none' : formatMoney(e.limit, e.currency)}`;
}
