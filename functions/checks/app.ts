import type { FieldIssue } from '../collections/promises.ts';
import { isCurrency, minorDigits } from '../core/currencies.ts';
import { addDays, type IsoDate, parseDate } from '../core/dates.ts';
import { CANONICAL_NUMBER_STYLE, formatMoney, parseMinorUnits } from '../core/money.ts';
import { creditCheckOf, type Policy } from '../credit/policy.ts';
import {
  type CheckOrder,
  type CreditDecision,
  decideCredit,
  type OrderBook,
  type Reservation,
  reservationActive,
  STAGES,
  type Stage,
} from './decide.ts';
import { afterCheck, exceptionApplies, type HeldOrder, releasedByApproval } from './held.ts';
import type { CheckDeps } from './ports.ts';

/** A check refused (README "Credit checks"): each bad field named; nothing was written. */
export class CheckRefusedError extends Error {
  constructor(readonly issues: readonly FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
    this.name = 'CheckRefusedError';
  }
}

const ID = /^[\p{L}\p{N}][\p{L}\p{N}._:/#-]{0,63}$/u;
const CHANNEL = /^[a-z][a-z0-9._-]{0,31}$/;

/**
 * Reads a check request as the API and the CLI receive it: `customerId`, `orderId`, `amount`
 * (decimal text in major units, "12,000.00" or "12000.00", or a JSON number), `currency`,
 * `requestedShipDate` (YYYY-MM-DD, not before today; default today), `stage` (default order),
 * `channel` (default `fallbackChannel`). Every bad field is named.
 */
export function parseCheckRequest(
  input: unknown,
  today: IsoDate,
  fallbackChannel = 'api',
): { ok: true; order: CheckOrder } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const o = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return { ok: false, issues: [{ field: '(body)', message: 'must be a JSON object' }] };
  const text = (k: string): string | undefined =>
    typeof o[k] === 'string' ? (o[k] as string).trim() : undefined;
  const customerId = text('customerId');
  if (!customerId) issues.push({ field: 'customerId', message: 'is required: the customer ordering' });
  else if (!ID.test(customerId)) issues.push({ field: 'customerId', message: 'is not a customer id' });
  const orderId = text('orderId');
  if (!orderId) issues.push({ field: 'orderId', message: "is required: the order's id" });
  else if (!ID.test(orderId))
    issues.push({ field: 'orderId', message: 'must be 1-64 letters, digits or . _ : / # - (no spaces)' });
  const currency = text('currency')?.toUpperCase();
  if (!currency) issues.push({ field: 'currency', message: 'is required: an ISO 4217 code such as EUR' });
  else if (!isCurrency(currency))
    issues.push({ field: 'currency', message: `${currency} is not an ISO 4217 currency code` });
  let amount: number | undefined;
  const raw = o.amount;
  if (raw === undefined || raw === null || raw === '')
    issues.push({ field: 'amount', message: "is required: the order's amount, e.g. 12000.00" });
  else if (typeof raw !== 'string' && typeof raw !== 'number')
    issues.push({ field: 'amount', message: 'must be a decimal amount such as 12000.00' });
  else {
    // Read with the currency's decimals, or 2 when it is unknown: a negative amount is named either way.
    const known = currency !== undefined && isCurrency(currency);
    const digits = known ? (minorDigits(currency) ?? 2) : 2;
    const parsed =
      typeof raw === 'number'
        ? parseMinorUnits(String(raw), digits, { decimal: '.', thousands: '' })
        : parseMinorUnits(raw, digits, CANONICAL_NUMBER_STYLE);
    if (!parsed.ok)
      issues.push({ field: 'amount', message: known ? `${parsed.reason} (${currency})` : parsed.reason });
    else if (parsed.value <= 0) issues.push({ field: 'amount', message: 'must be more than zero' });
    else if (known) amount = parsed.value;
  }
  let requestedShipDate = today;
  const ship = text('requestedShipDate');
  if (o.requestedShipDate !== undefined && o.requestedShipDate !== null) {
    const d = ship ? parseDate(ship) : undefined;
    if (!d?.ok) issues.push({ field: 'requestedShipDate', message: 'must be a date YYYY-MM-DD' });
    else if (d.value < today)
      issues.push({ field: 'requestedShipDate', message: `${d.value} is in the past (today is ${today})` });
    else requestedShipDate = d.value;
  }
  const stage = (text('stage') ?? 'order') as Stage;
  if (!STAGES.includes(stage))
    issues.push({ field: 'stage', message: `must be one of ${STAGES.join(', ')}` });
  const channel = text('channel') ?? fallbackChannel;
  if (!CHANNEL.test(channel))
    issues.push({ field: 'channel', message: 'must be a short lowercase name such as "web" or "edi"' });
  const known = new Set([
    'customerId',
    'orderId',
    'amount',
    'currency',
    'requestedShipDate',
    'stage',
    'channel',
  ]);
  for (const k of Object.keys(o))
    if (!known.has(k)) issues.push({ field: k, message: 'is not a field of a check' });
  if (issues.length > 0 || amount === undefined) return { ok: false, issues };
  return {
    ok: true,
    order: {
      customerId: customerId as string,
      orderId: orderId as string,
      amount,
      currency: currency as string,
      requestedShipDate,
      stage,
      channel,
    },
  };
}

/** A check's answer: the decision, and what it did to the order's reservation. */
export interface CheckResult {
  readonly decision: CreditDecision;
  /**
   * `reserved`: this approval reserved the amount; `kept`: the order was reserved already with the
   * same amount (it counts once); `none`: nothing reserved (not approved).
   */
  readonly reservation: 'reserved' | 'kept' | 'none';
  readonly reservedUntil?: IsoDate | undefined;
  /**
   * Set when this check took the order out of the hold queue (README "Held orders"): the reason
   * codes it was held for and no longer is.
   */
  readonly released?: readonly string[] | undefined;
}

const MAX_ATTEMPTS = 50;

/**
 * Checks an order (README "Credit checks"): reads the credit file (fixed items), decides, and on
 * `approve` reserves the amount in the customer's `ORDERS` item with a write conditional on the
 * version read; on a conflict (another check wrote first) reads and decides again, so two
 * channels can never both spend the same headroom. The same order with the same amount counts
 * once; with another amount it is refused. A store that cannot be read answers `hold`
 * (`STORE_UNAVAILABLE`). Every decision is logged in the customer's partition before the answer,
 * and chained to the audit trail in batches (functions/checks/log.ts).
 */
export async function checkCredit(
  deps: CheckDeps,
  policy: Policy,
  order: CheckOrder,
  at: { readonly today: IsoDate; readonly now: string; readonly by?: string | undefined },
): Promise<CheckResult> {
  const cc = creditCheckOf(policy);
  let result: CheckResult | undefined;
  // This order's hold as the last read found it (functions/checks/held.ts).
  let heldBefore: HeldOrder | undefined;
  const mineOnly = { orderId: order.orderId };
  for (let attempt = 0; attempt < MAX_ATTEMPTS && !result; attempt++) {
    let file: Awaited<ReturnType<CheckDeps['store']['loadCheckFile']>> | undefined;
    let problem: string | undefined;
    try {
      file = await deps.store.loadCheckFile(order.customerId, undefined, mineOnly);
      const credit = file.customer?.currency ?? file.summary?.currency;
      if (credit && credit !== order.currency)
        file = await deps.store.loadCheckFile(
          order.customerId,
          { from: order.currency, to: credit, asOf: at.today },
          mineOnly,
        );
    } catch (e) {
      problem = (e as Error).message || (e as Error).name;
    }
    if (problem !== undefined || !file) {
      result = {
        decision: decideCredit(order, undefined, policy, at.today, {
          storeUnavailable: problem ?? 'no file',
        }),
        reservation: 'none',
      };
      break;
    }
    // A customer not on file is decided with no file, but for its pending credit application.
    const known = file.customer?.name || file.application ? file : undefined;
    const mine = file.orders.reservations[order.orderId];
    const active = mine && reservationActive(mine, at.today) ? mine : undefined;
    if (active && (active.amount !== order.amount || active.currency !== order.currency))
      throw new CheckRefusedError([
        {
          field: 'amount',
          message: `order ${order.orderId} was checked on ${active.reservedOn} for ${formatMoney(active.amount, active.currency)}: a changed order needs a new order id, or cancel it first`,
        },
      ]);
    heldBefore = file.held;
    let decision = decideCredit(order, known, policy, at.today);
    // An order release approved on the approval chain: approved until its end date.
    if (decision.outcome === 'hold' && file.held && exceptionApplies(file.held, order, at.today))
      decision = releasedByApproval(decision, file.held);
    if (decision.outcome !== 'approve') {
      result = { decision, reservation: 'none' };
      break;
    }
    if (active) {
      result = { decision, reservation: 'kept', reservedUntil: active.expiresOn };
      break;
    }
    const expiresOn = addDays(at.today, cc.reserveDays);
    const r: Reservation = {
      orderId: order.orderId,
      amount: order.amount,
      currency: order.currency,
      counted: decision.exposure.thisOrder,
      creditCurrency: decision.currency,
      requestedShipDate: order.requestedShipDate,
      stage: order.stage,
      channel: order.channel,
      reservedOn: at.today,
      expiresOn,
    };
    // Expired reservations are dropped as the item is written again: it stays small.
    const reservations: Record<string, Reservation> = {};
    for (const [id, x] of Object.entries(file.orders.reservations))
      if (reservationActive(x, at.today) || x.reservedOn > at.today) reservations[id] = x;
    reservations[order.orderId] = r;
    // The orders it remembers closed go along (functions/checks/release.ts).
    const next: OrderBook = { ...file.orders, version: file.orders.version + 1, reservations };
    let written: 'written' | 'conflict';
    try {
      written = await deps.store.writeOrders(order.customerId, next, file.orders.version);
    } catch (e) {
      result = {
        decision: decideCredit(order, undefined, policy, at.today, {
          storeUnavailable: `the reservation could not be written: ${(e as Error).message || (e as Error).name}`,
        }),
        reservation: 'none',
      };
      break;
    }
    if (written === 'written') result = { decision, reservation: 'reserved', reservedUntil: expiresOn };
    else await new Promise((ok) => setTimeout(ok, Math.floor(Math.random() * 5 * Math.min(attempt + 1, 8))));
  }
  if (!result)
    result = {
      decision: decideCredit(order, undefined, policy, at.today, {
        storeUnavailable: `${MAX_ATTEMPTS} checks of this customer raced this one`,
      }),
      reservation: 'none',
    };
  const actor = at.by ?? order.channel;
  // The hold queue: a hold recorded (once per order), an approval taking it out of the queue.
  const released = await recordHeld(deps, order, result, { ...at, by: actor }, heldBefore);
  const event = {
    at: at.now,
    kind: 'credit-check.decided',
    subject: order.customerId,
    actor,
    data: auditData(result),
  };
  try {
    await deps.log.logCheck(order.customerId, event);
  } catch (e) {
    // A store that cannot be read cannot take the log either: the hold stands (nothing ships on
    // it). Any other decision unlogged fails the call; a retry of the same order keeps its
    // reservation and logs it.
    if (!result.decision.reasons.some((r) => r.code === 'STORE_UNAVAILABLE')) throw e;
  }
  if (released) {
    result = { ...result, released: released.cleared };
    await deps.log.logCheck(order.customerId, {
      at: at.now,
      kind: 'credit-check.released',
      subject: order.customerId,
      actor,
      data: {
        orderId: order.orderId,
        heldOn: released.held.heldOn,
        had: released.held.reasons.map((x) => `${x.code}: ${x.text}`),
        cleared: released.cleared,
        now: result.decision.reasons.map((x) => `${x.code}: ${x.text}`),
        exposure: result.decision.exposure.total,
        limit: result.decision.limit,
        headroomAfter: result.decision.headroomAfter,
        currency: result.decision.currency,
        reservation: result.reservation,
        ...(result.reservedUntil ? { reservedUntil: result.reservedUntil } : {}),
      },
    });
  }
  return result;
}

/**
 * Keeps the order's `HELD#` item in step with the check (functions/checks/held.ts): a hold
 * recorded or its reasons updated, an approval releasing it. A write over the version read; on a
 * conflict the item is read again and the same rule applied, so two checks at once release it
 * once. What it released (for the log), or undefined.
 */
async function recordHeld(
  deps: CheckDeps,
  order: CheckOrder,
  result: CheckResult,
  at: { readonly today: IsoDate; readonly now: string; readonly by: string },
  before: HeldOrder | undefined,
): Promise<{ held: HeldOrder; cleared: readonly string[] } | undefined> {
  const { writeHeld, getHeld } = deps.store;
  if (!writeHeld || !getHeld) return undefined;
  let prev = before;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const step = afterCheck(prev, order.customerId, order, result.decision, result.reservation, at);
    if (!step) return undefined;
    const written = await writeHeld.call(deps.store, step.next, prev?.version ?? 0);
    if (written === 'written')
      return step.released && prev ? { held: prev, cleared: step.released } : undefined;
    prev = await getHeld.call(deps.store, order.customerId, order.orderId);
  }
  throw new Error(`the hold of ${order.orderId} could not be written: ${MAX_ATTEMPTS} writes raced it`);
}

function auditData(r: CheckResult): Record<string, unknown> {
  const d = r.decision;
  return {
    orderId: d.orderId,
    outcome: d.outcome,
    reasons: d.reasons.map((x) => `${x.code}: ${x.text}`),
    order: { ...d.order },
    currency: d.currency,
    exposure: { ...d.exposure },
    limit: d.limit,
    headroomAfter: d.headroomAfter,
    rating: d.rating,
    riskClass: d.riskClass,
    ordersCounted: [...d.ordersCounted],
    policyId: d.policyId,
    reservation: r.reservation,
    ...(r.reservedUntil ? { reservedUntil: r.reservedUntil } : {}),
  };
}

/**
 * Releases an order's reservation (an order cancelled): an explicit call, on the audit trail. The
 * same order checked again later is a new check against the headroom of that day. Undefined when
 * the order holds no reservation.
 */
export async function cancelCheck(
  deps: CheckDeps,
  req: { readonly customerId: string; readonly orderId: string; readonly by: string },
  at: { readonly today: IsoDate; readonly now: string },
): Promise<Reservation | undefined> {
  const issues: FieldIssue[] = [];
  if (!ID.test(req.customerId)) issues.push({ field: 'customerId', message: 'is not a customer id' });
  if (!ID.test(req.orderId)) issues.push({ field: 'orderId', message: 'is not an order id' });
  if (issues.length > 0) throw new CheckRefusedError(issues);
  // A held order cancelled leaves the hold queue (state cancelled), on the audit trail.
  await cancelHeldOrder(deps, req, at);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const file = await deps.store.loadCheckFile(req.customerId);
    const mine = file.orders.reservations[req.orderId];
    if (!mine) return undefined;
    const reservations = { ...file.orders.reservations };
    delete reservations[req.orderId];
    // The orders it remembers closed go along (functions/checks/release.ts).
    const next: OrderBook = { ...file.orders, version: file.orders.version + 1, reservations };
    if ((await deps.store.writeOrders(req.customerId, next, file.orders.version)) === 'conflict') continue;
    await deps.log.logCheck(req.customerId, {
      at: at.now,
      kind: 'credit-check.cancelled',
      subject: req.customerId,
      actor: req.by,
      data: {
        orderId: req.orderId,
        amount: mine.amount,
        currency: mine.currency,
        reservedOn: mine.reservedOn,
        expiresOn: mine.expiresOn,
        active: reservationActive(mine, at.today),
      },
    });
    return mine;
  }
  throw new Error(`the reservation of ${req.orderId} could not be released: ${MAX_ATTEMPTS} writes raced it`);
}

/**
 * A held (or excepted) order cancelled: its `HELD#` item leaves the queue with state `cancelled`,
 * logged (`credit-check.hold-cancelled`). Undefined when the order is not held.
 */
export async function cancelHeldOrder(
  deps: CheckDeps,
  req: { readonly customerId: string; readonly orderId: string; readonly by: string },
  at: { readonly today: IsoDate; readonly now: string },
): Promise<HeldOrder | undefined> {
  const { writeHeld, getHeld } = deps.store;
  if (!writeHeld || !getHeld) return undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const h = await getHeld.call(deps.store, req.customerId, req.orderId);
    if (!h || (h.state !== 'held' && h.state !== 'excepted')) return undefined;
    const next: HeldOrder = {
      ...h,
      state: 'cancelled',
      version: h.version + 1,
      closedOn: at.today,
      closedBy: req.by,
      closedWhy: `cancelled by ${req.by} on ${at.today}`,
    };
    if ((await writeHeld.call(deps.store, next, h.version)) === 'conflict') continue;
    await deps.log.logCheck(req.customerId, {
      at: at.now,
      kind: 'credit-check.hold-cancelled',
      subject: req.customerId,
      actor: req.by,
      data: {
        orderId: req.orderId,
        was: h.state,
        heldOn: h.heldOn,
        amount: h.order.amount,
        currency: h.order.currency,
        reasons: h.reasons.map((x) => `${x.code}: ${x.text}`),
      },
    });
    return next;
  }
  throw new Error(`the hold of ${req.orderId} could not be cancelled: ${MAX_ATTEMPTS} writes raced it`);
}
