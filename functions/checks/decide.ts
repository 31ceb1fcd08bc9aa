import type { CreditHold, Handover } from '../collections/ports.ts';
import { addDays, daysBetween, type IsoDate } from '../core/dates.ts';
import { convertAsOf, type RateUsed, rateSearchWords } from '../core/fx.ts';
import { formatMoney } from '../core/money.ts';
import type { ReceivableSummary } from '../core/receivables.ts';
import type { Customer, FxRate, TransferCommitment } from '../core/records.ts';
import { transferCounts } from '../credit/assess.ts';
import {
  creditCheckOf,
  type Policy,
  type Rating,
  type RiskClass,
  SEVERITY_RANK,
  type Severity,
} from '../credit/policy.ts';
import type { HeldOrder } from './held.ts';

/**
 * The credit check of an order (README "Credit checks", issue 18): may this order ship on credit?
 * Pure: the same order, credit file, policy and day always give the same decision. It reads only
 * the fixed items a check loads (`CheckFile`), never the customer's history.
 */

export const STAGES = ['order', 'delivery', 'invoice'] as const;
export type Stage = (typeof STAGES)[number];
export const OUTCOMES = ['approve', 'approve-prepay', 'hold', 'block'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** An order to check: amounts in minor units of `currency`. */
export interface CheckOrder {
  readonly customerId: string;
  readonly orderId: string;
  readonly amount: number;
  readonly currency: string;
  readonly requestedShipDate: IsoDate;
  readonly stage: Stage;
  readonly channel: string;
}

/** An approved order's amount held against the headroom until it expires or is cancelled. */
export interface Reservation {
  readonly orderId: string;
  /** Minor units of `currency` (the order's). */
  readonly amount: number;
  readonly currency: string;
  /** What it counts in the exposure: minor units of the credit currency, converted on the check's day. */
  readonly counted: number;
  readonly creditCurrency: string;
  readonly requestedShipDate: IsoDate;
  readonly stage: Stage;
  readonly channel: string;
  readonly reservedOn: IsoDate;
  /** It counts before this day, not from it (an uploaded order: `NEVER_EXPIRES`). */
  readonly expiresOn: IsoDate;
  /**
   * Who reserved it: an approved `check` (it expires after `reserveDays`), or the ERP's open
   * orders `upload` (it holds until a later upload closes it, an invoice names it, or a cancel;
   * functions/checks/release.ts). Absent on items written before uploads: a check's.
   */
  readonly source?: ReservationSource | undefined;
  /** An uploaded order: the run and line that last wrote it. */
  readonly from?: { readonly runId: string; readonly line: number } | undefined;
  /**
   * Invoices that billed part of it (invoice id: minor units of `currency`), already taken off
   * `amount`: the same invoice uploaded again takes nothing off twice (functions/checks/release.ts).
   */
  readonly invoiced?: Readonly<Record<string, number>> | undefined;
}

/** An order whose reservation ended by its invoice or the ERP's status, remembered a while. */
export interface ClosedOrder {
  readonly on: IsoDate;
  readonly why: 'invoiced' | 'cancelled' | 'closed';
  readonly invoiceId?: string | undefined;
}

/** How long a closed order is remembered: a stale ERP report naming it open within this is ignored. */
export const CLOSED_DAYS = 90;

export type ReservationSource = 'check' | 'upload';

/** Who reserved an order; items written before the field are a check's. */
export const reservationSource = (r: Reservation): ReservationSource => r.source ?? 'check';

/** The `expiresOn` of an uploaded order: it does not expire by itself. */
export const NEVER_EXPIRES: IsoDate = '9999-12-31';

/** A customer's `ORDERS` item: its reservations by order id, and the version each write moves on. */
export interface OrderBook {
  readonly version: number;
  readonly reservations: Readonly<Record<string, Reservation>>;
  /** Orders released by their invoice or a closing status in the last `CLOSED_DAYS` days. */
  readonly closed?: Readonly<Record<string, ClosedOrder>> | undefined;
}

export const EMPTY_ORDERS: OrderBook = { version: 0, reservations: {} };

/** What a check reads of a customer: fixed items by key and a few small prefixes. */
export interface CheckFile {
  /** Master data (`PROFILE`): undefined when none is on file. */
  readonly customer?: Customer | undefined;
  readonly summary?: ReceivableSummary | undefined;
  readonly assessment?:
    | {
        readonly asOf: IsoDate;
        readonly rating: Rating;
        readonly riskClass: RiskClass;
        readonly score: number;
        readonly policyId: string;
      }
    | undefined;
  readonly hold?: CreditHold | undefined;
  /** The customer's hand-overs to legal (open or withdrawn). */
  readonly handovers: readonly Pick<Handover, 'on' | 'state' | 'level'>[];
  readonly transfers: readonly TransferCommitment[];
  /** The active alerts (one per rule). */
  readonly alerts: readonly { readonly rule: string; readonly severity: Severity }[];
  readonly orders: OrderBook;
  /** The rates between the order's currency and the credit currency, both ways (only when they differ). */
  readonly fxRates: readonly FxRate[];
  /** The customer's latest credit application (`APPLICATION`), when one was filed. */
  readonly application?: CheckApplication | undefined;
  /** This order's `HELD#<order>` item, when it was ever held (read with the fixed items). */
  readonly held?: HeldOrder | undefined;
}

export type ReasonCode =
  | 'CREDIT_APPLICATION_NEEDED'
  | 'APPLICATION_PENDING'
  | 'NO_CREDIT_LIMIT'
  | 'HANDED_OVER'
  | 'CREDIT_HOLD'
  | 'OVERDUE_DAYS'
  | `ALERT_${string}`
  | 'PREPAY_RISK_CLASS'
  | 'NO_UNSECURED_CREDIT'
  | 'OVER_LIMIT'
  | 'STORE_UNAVAILABLE'
  | 'NO_FX_RATE'
  | 'WITHIN_LIMIT'
  | 'RELEASED_BY_APPROVAL';

export interface Reason {
  readonly code: ReasonCode;
  readonly text: string;
}

/** The exposure a check counts, in minor units of the credit currency. */
export interface ExposureBreakdown {
  readonly openItems: number;
  /** Subtracted: cash received and not applied to any invoice. */
  readonly unappliedCash: number;
  readonly approvedTransfers: number;
  /** Other orders reserved, not expired, shipping within the horizon. */
  readonly openOrders: number;
  readonly thisOrder: number;
  /** openItems - unappliedCash + approvedTransfers + openOrders + thisOrder. */
  readonly total: number;
}

export interface CreditDecision {
  readonly customerId: string;
  readonly orderId: string;
  readonly asOf: IsoDate;
  readonly outcome: Outcome;
  /** The reasons, the deciding ones first. */
  readonly reasons: readonly Reason[];
  /** The credit currency: the exposure, limit and headroom are in it. */
  readonly currency: string;
  readonly exposure: ExposureBreakdown;
  /** The credit limit on file; null when none is. */
  readonly limit: number | null;
  /** limit - exposure total; null without a limit. */
  readonly headroomAfter: number | null;
  readonly rating: Rating | null;
  readonly riskClass: RiskClass | null;
  readonly score: number | null;
  readonly assessedOn: IsoDate | null;
  /** The order's amount in the credit currency, and the rate used when it was converted. */
  readonly order: {
    readonly amount: number;
    readonly currency: string;
    readonly stage: Stage;
    readonly channel: string;
    readonly requestedShipDate: IsoDate;
    /** The rate the order was converted at, a cross rate with its two legs. */
    readonly rate?: RateUsed | undefined;
  };
  /** Other reservations counted (their order ids), and those not counted with why. */
  readonly ordersCounted: readonly string[];
  readonly ordersNotCounted: readonly { readonly orderId: string; readonly why: string }[];
  readonly policyId: string;
}

const ZERO: ExposureBreakdown = {
  openItems: 0,
  unappliedCash: 0,
  approvedTransfers: 0,
  openOrders: 0,
  thisOrder: 0,
  total: 0,
};

/** Whether a reservation still counts on `asOf` (reserved by then and not expired). */
export const reservationActive = (r: Reservation, asOf: IsoDate): boolean =>
  r.reservedOn <= asOf && asOf < r.expiresOn;

/**
 * Days past due of the oldest open item as of `asOf`, from the summary of its own day: an item
 * overdue then is that many days older now (an item that fell due since is seen by the next summary).
 */
export function oldestOverdueDays(s: ReceivableSummary | undefined, asOf: IsoDate): number {
  if (!s || s.maxDaysPastDue <= 0 || s.openAmount <= 0) return 0;
  return s.maxDaysPastDue + Math.max(0, daysBetween(s.asOf, asOf));
}

/**
 * The decision on `order` as of `asOf` (README "Credit checks"), in this order of precedence:
 * block (an open hand-over to legal), hold (no file, no limit, the store or a rate missing, a
 * credit hold, overdue beyond the policy's days, an alert the policy names), approve-prepay (a
 * risk class the policy sends to prepayment, or no unsecured credit: a limit of 0 or rating E),
 * hold (the headroom after this order below 0), else approve.
 * `file` undefined: nothing on file for the customer (or master data without a name).
 * `storeUnavailable`: the file could not be read; the answer is hold, never approve.
 */
export function decideCredit(
  order: CheckOrder,
  file: CheckFile | undefined,
  policy: Policy,
  asOf: IsoDate,
  opts: { readonly storeUnavailable?: string | undefined } = {},
): CreditDecision {
  const cc = creditCheckOf(policy);
  const base = {
    customerId: order.customerId,
    orderId: order.orderId,
    asOf,
    policyId: policy.id,
  };
  const orderPart = {
    amount: order.amount,
    currency: order.currency,
    stage: order.stage,
    channel: order.channel,
    requestedShipDate: order.requestedShipDate,
  };
  const unknownDecision = (reason: Reason): CreditDecision => ({
    ...base,
    outcome: 'hold',
    reasons: [reason],
    currency: order.currency,
    exposure: { ...ZERO, thisOrder: order.amount, total: order.amount },
    limit: null,
    headroomAfter: null,
    rating: null,
    riskClass: null,
    score: null,
    assessedOn: null,
    order: orderPart,
    ordersCounted: [],
    ordersNotCounted: [],
  });
  if (opts.storeUnavailable !== undefined)
    return unknownDecision({
      code: 'STORE_UNAVAILABLE',
      text: `The credit file could not be read (${opts.storeUnavailable}): the order is held until a check can be made.`,
    });
  const customer = file?.customer;
  const pending = applicationPending(file, order.customerId);
  if (!file || !customer?.name)
    return unknownDecision(
      pending ?? {
        code: 'CREDIT_APPLICATION_NEEDED',
        text: `${order.customerId} is not on file: credit application needed before selling on credit.`,
      },
    );

  const currency = customer.currency ?? file.summary?.currency ?? order.currency;
  const m = (n: number) => formatMoney(n, currency);
  const holds: Reason[] = [];
  const blocks: Reason[] = [];
  const prepay: Reason[] = [];

  // This order in the credit currency.
  let thisOrder = order.amount;
  let rate: CreditDecision['order']['rate'];
  if (order.currency !== currency) {
    const converted = convertAsOf(order.amount, order.currency, currency, asOf, (b, q) =>
      file.fxRates.filter((r) => r.base === b && r.quote === q),
    );
    if (converted) {
      thisOrder = converted.amount;
      rate = converted.rate;
    } else {
      thisOrder = 0;
      holds.push({
        code: 'NO_FX_RATE',
        text: `No ${order.currency}/${currency} rate on file dated on or before ${asOf} (${rateSearchWords(order.currency, currency)}): the order cannot be weighed against the ${currency} limit.`,
      });
    }
  }

  // The exposure (DOMAIN: open items - unapplied cash + approved unpaid transfers + open orders
  // shipping within the horizon + this order; an order counts once).
  const s = file.summary;
  const openItems = s && s.currency === currency ? s.openAmount : 0;
  const unappliedCash = s && s.currency === currency ? s.unappliedCash : 0;
  let approvedTransfers = 0;
  for (const t of file.transfers)
    if (transferCounts(t, asOf) && t.currency === currency) approvedTransfers += t.amount;
  const horizonEnd = addDays(asOf, cc.horizonDays);
  let openOrders = 0;
  const ordersCounted: string[] = [];
  const ordersNotCounted: { orderId: string; why: string }[] = [];
  for (const id of Object.keys(file.orders.reservations).sort()) {
    const r = file.orders.reservations[id] as Reservation;
    if (id === order.orderId) continue; // this order counts once, as this order
    if (!reservationActive(r, asOf)) ordersNotCounted.push({ orderId: id, why: `expired on ${r.expiresOn}` });
    else if (r.requestedShipDate > horizonEnd)
      ordersNotCounted.push({
        orderId: id,
        why: `ships ${r.requestedShipDate}, after the ${cc.horizonDays}-day horizon`,
      });
    else if (r.creditCurrency !== currency)
      ordersNotCounted.push({ orderId: id, why: `reserved in ${r.creditCurrency}, not ${currency}` });
    else {
      openOrders += r.counted;
      ordersCounted.push(id);
    }
  }
  const total = openItems - unappliedCash + approvedTransfers + openOrders + thisOrder;
  const exposure: ExposureBreakdown = {
    openItems,
    unappliedCash,
    approvedTransfers,
    openOrders,
    thisOrder,
    total,
  };
  const limit = customer.creditLimit ?? null;
  const headroomAfter = limit === null ? null : limit - total;

  // Block: handed over to legal.
  const handover = file.handovers.find((h) => h.state === 'open' && h.on <= asOf);
  if (handover)
    blocks.push({
      code: 'HANDED_OVER',
      text: `Handed over to legal on ${handover.on} ("${handover.level}"): no goods on credit or against prepayment until it is withdrawn.`,
    });
  // Holds: collections' credit hold, overdue, alerts, no limit.
  if (file.hold && file.hold.state === 'on' && file.hold.since <= asOf)
    holds.push({
      code: 'CREDIT_HOLD',
      text: `On credit hold since ${file.hold.since} (${file.hold.by}: ${file.hold.reason}): a person must lift it first.`,
    });
  const overdue = oldestOverdueDays(s, asOf);
  if (overdue > cc.overdueHoldDays)
    holds.push({
      code: 'OVERDUE_DAYS',
      text: `The oldest open item is ${overdue} days past due, more than the ${cc.overdueHoldDays} days the policy allows.`,
    });
  const minRank = SEVERITY_RANK[cc.holdAlerts.minSeverity];
  for (const a of [...file.alerts].sort((x, y) => (x.rule < y.rule ? -1 : x.rule > y.rule ? 1 : 0)))
    if ((cc.holdAlerts.rules as readonly string[]).includes(a.rule) && SEVERITY_RANK[a.severity] >= minRank)
      holds.push({
        code: `ALERT_${a.rule}`,
        text: `An active ${a.severity} ${a.rule} alert: the policy holds orders while it is open.`,
      });
  if (limit === null && pending) holds.push(pending);
  else if (limit === null)
    holds.push({
      code: 'NO_CREDIT_LIMIT',
      text: `No credit limit on file for ${order.customerId}: a limit must be set before selling on credit.`,
    });
  // Prepayment: the risk class or no unsecured credit.
  const a = file.assessment;
  if (a && cc.prepayRiskClasses.includes(a.riskClass))
    prepay.push({
      code: 'PREPAY_RISK_CLASS',
      text: `Rated ${a.rating} on ${a.asOf} (${a.riskClass} risk): the policy ships to this risk class against prepayment or a guarantee.`,
    });
  if (limit === 0 || a?.rating === 'E')
    prepay.push({
      code: 'NO_UNSECURED_CREDIT',
      text:
        limit === 0
          ? 'The credit limit is 0: no unsecured credit, so prepayment or a guarantee.'
          : 'Rated E: no unsecured credit, so prepayment or a guarantee.',
    });
  const over: Reason[] =
    headroomAfter !== null && headroomAfter < 0 && limit !== 0
      ? [
          {
            code: 'OVER_LIMIT',
            text: `The exposure with this order, ${m(total)}, is over the limit of ${m(limit as number)} by ${m(-headroomAfter)}.`,
          },
        ]
      : [];

  let outcome: Outcome;
  let reasons: Reason[];
  if (blocks.length > 0) {
    outcome = 'block';
    reasons = [...blocks, ...holds, ...prepay, ...over];
  } else if (holds.length > 0) {
    outcome = 'hold';
    reasons = [...holds, ...prepay, ...over];
  } else if (prepay.length > 0) {
    // Paid in advance (or guaranteed), the order adds nothing unsecured: the headroom is not the question.
    outcome = 'approve-prepay';
    reasons = [...prepay, ...over];
  } else if (over.length > 0) {
    outcome = 'hold';
    reasons = over;
  } else {
    outcome = 'approve';
    reasons = [
      {
        code: 'WITHIN_LIMIT',
        text: `The exposure with this order, ${m(total)}, is within the limit of ${m(limit as number)}: ${m(headroomAfter as number)} of headroom left.`,
      },
    ];
  }
  return {
    ...base,
    outcome,
    reasons,
    currency,
    exposure,
    limit,
    headroomAfter,
    rating: a?.rating ?? null,
    riskClass: a?.riskClass ?? null,
    score: a?.score ?? null,
    assessedOn: a?.asOf ?? null,
    order: { ...orderPart, rate },
    ordersCounted,
    ordersNotCounted,
  };
}

/** What a check reads of a credit application (functions/applications/application.ts). */
export interface CheckApplication {
  readonly applicationId: string;
  readonly state: string;
  readonly filedOn: IsoDate;
  readonly requestedLimit: number;
  readonly currency: string;
}

/** The hold a pending credit application gives a customer without a limit, or undefined. */
function applicationPending(file: CheckFile | undefined, customerId: string): Reason | undefined {
  const a = file?.application;
  if (a?.state !== 'pending') return undefined;
  return {
    code: 'APPLICATION_PENDING',
    text: `${customerId}: credit application pending since ${a.filedOn}, asked limit ${formatMoney(a.requestedLimit, a.currency)} (${a.applicationId}): no selling on credit until it is decided.`,
  };
}
