import { mapLimit } from '../core/concurrency.ts';
import { addDays, type IsoDate } from '../core/dates.ts';
import { convertAsOf, rateSearchWords } from '../core/fx.ts';
import { formatMoney } from '../core/money.ts';
import type { FxRate } from '../core/records.ts';
import type { OrderRow } from '../ingest/kinds.ts';
import {
  type CheckFile,
  CLOSED_DAYS,
  type ClosedOrder,
  NEVER_EXPIRES,
  type OrderBook,
  type Reservation,
  reservationActive,
  reservationSource,
} from './decide.ts';
import type { CheckLog } from './log.ts';

/**
 * What ends a reservation besides its expiry and a cancel (README "Credit checks", issue 18 items
 * 2 and 3): the ERP's open orders upload (an open order is reserved and counts in the exposure
 * until a later upload says it is cancelled, closed or invoiced), and an invoice that names its
 * order (the invoice now counts as an open item, so the order must not count too). Every write
 * goes over the version of the customer's `ORDERS` item it read, as a check's does, and is done
 * again from a fresh read when another writer (a check, a cancel, another upload) wrote first.
 */

/** What the order book needs of the store: the check's reads and conditional write, and the item alone. */
export interface OrderBookStore {
  loadCheckFile(
    customerId: string,
    fx?: { readonly from: string; readonly to: string; readonly asOf: IsoDate },
  ): Promise<CheckFile>;
  /** The customer's `ORDERS` item alone, strongly read (version 0 and no reservations when none). */
  loadOrders(customerId: string): Promise<OrderBook>;
  writeOrders(customerId: string, next: OrderBook, expectedVersion: number): Promise<'written' | 'conflict'>;
}

export interface OrderBookDeps {
  readonly store: OrderBookStore;
  /**
   * Where merges and releases are logged: the customer's partition, chained to the audit trail in
   * batches like the checks' own decisions (functions/checks/log.ts), so a large upload does not
   * queue on the one chain.
   */
  readonly log: CheckLog;
  /** Customers written at once. @default 8 */
  readonly concurrency?: number;
}

/** An uploaded order and the line of the file it came from. */
export interface UploadedOrder extends OrderRow {
  readonly line: number;
}

/** A row that could not land: reported against its line like a bad field. */
export interface OrderReject {
  readonly line: number;
  readonly column: string;
  readonly value: string;
  readonly reason: string;
}

/** What an uploaded order did to the customer's book. */
export type OrderChange =
  /** Open and not reserved before: reserved. */
  | {
      readonly kind: 'reserved';
      readonly orderId: string;
      readonly line: number;
      readonly after: Reservation;
    }
  /** Reserved by an earlier upload: the ERP's record replaces it (amount, ship date...). */
  | {
      readonly kind: 'updated';
      readonly orderId: string;
      readonly line: number;
      readonly before: Reservation;
      readonly after: Reservation;
    }
  /** Reserved by a check: the upload takes it over, counted once, with the ERP's amount. */
  | {
      readonly kind: 'merged';
      readonly orderId: string;
      readonly line: number;
      readonly before: Reservation;
      readonly after: Reservation;
    }
  | { readonly kind: 'unchanged'; readonly orderId: string; readonly line: number }
  /** Cancelled, closed or invoiced in the ERP: its reservation released. */
  | {
      readonly kind: 'closed';
      readonly orderId: string;
      readonly line: number;
      readonly status: OrderRow['status'];
      readonly before: Reservation;
    }
  /** Not open, and nothing reserved: nothing to do. */
  | { readonly kind: 'not-reserved'; readonly orderId: string; readonly line: number }
  /**
   * Open in the upload, but invoiced, cancelled or closed lately (the book remembers it for
   * `CLOSED_DAYS`): a stale report, not reserved again (it would count twice beside its invoice).
   */
  | {
      readonly kind: 'stale';
      readonly orderId: string;
      readonly line: number;
      readonly closed: ClosedOrder;
    };

const MAX_ATTEMPTS = 50;

/** The fields of a reservation an upload sets; the same ones twice is no change. */
const sameReservation = (a: Reservation, b: Reservation) =>
  a.amount === b.amount &&
  a.currency === b.currency &&
  a.counted === b.counted &&
  a.creditCurrency === b.creditCurrency &&
  a.requestedShipDate === b.requestedShipDate &&
  a.channel === b.channel &&
  reservationSource(a) === reservationSource(b) &&
  a.expiresOn === b.expiresOn;

/**
 * The customer's book after an upload's orders of that customer (pure). `counted` converts an
 * order's amount into the credit currency (undefined: no rate; the order is rejected, the book
 * keeps what it had). An open order is reserved as `upload`, never expiring; the same id reserved
 * by a check is taken over (counted once; the upload's amount wins); cancelled, closed or
 * invoiced releases whatever reservation the id holds. Expired check reservations are dropped
 * as the item is written, as a check drops them.
 */
export function applyUploadedOrders(
  book: OrderBook,
  orders: readonly UploadedOrder[],
  /** `creditCurrency` undefined: the customer has none on file; each order counts in its own. */
  at: { readonly asOf: IsoDate; readonly runId: string; readonly creditCurrency?: string | undefined },
  counted: (o: UploadedOrder) => number | undefined,
): {
  readonly reservations: Record<string, Reservation>;
  readonly closed: Record<string, ClosedOrder>;
  readonly changes: OrderChange[];
  readonly rejects: OrderReject[];
} {
  const reservations: Record<string, Reservation> = {};
  for (const [id, r] of Object.entries(book.reservations))
    if (reservationActive(r, at.asOf) || r.reservedOn > at.asOf) reservations[id] = r;
  const closed = recentlyClosed(book, at.asOf);
  const changes: OrderChange[] = [];
  const rejects: OrderReject[] = [];
  for (const o of orders) {
    const before = reservations[o.orderId];
    if (o.status !== 'open') {
      if (before) {
        delete reservations[o.orderId];
        closed[o.orderId] = { on: at.asOf, why: o.status === 'invoiced' ? 'invoiced' : o.status };
        changes.push({ kind: 'closed', orderId: o.orderId, line: o.line, status: o.status, before });
      } else changes.push({ kind: 'not-reserved', orderId: o.orderId, line: o.line });
      continue;
    }
    const ended = closed[o.orderId];
    if (!before && ended) {
      changes.push({ kind: 'stale', orderId: o.orderId, line: o.line, closed: ended });
      continue;
    }
    const credit = at.creditCurrency ?? o.currency;
    const c = counted(o);
    if (c === undefined) {
      rejects.push({
        line: o.line,
        column: 'currency',
        value: o.currency,
        reason: `currency has no ${o.currency}/${credit} rate on file dated on or before ${at.asOf} (${rateSearchWords(o.currency, credit)}): the order cannot be counted against the ${credit} limit (upload the rate, then the order again)`,
      });
      continue;
    }
    const after: Reservation = {
      orderId: o.orderId,
      amount: o.amount,
      currency: o.currency,
      counted: c,
      creditCurrency: credit,
      requestedShipDate: o.requestedShipDate,
      stage: 'order',
      channel: o.channel,
      // An order reserved earlier keeps the day it was first reserved.
      reservedOn: before && before.reservedOn <= at.asOf ? before.reservedOn : at.asOf,
      expiresOn: NEVER_EXPIRES,
      source: 'upload',
      from: { runId: at.runId, line: o.line },
      // The invoices already taken off it are not taken off again.
      ...(before?.invoiced ? { invoiced: before.invoiced } : {}),
    };
    if (!before) changes.push({ kind: 'reserved', orderId: o.orderId, line: o.line, after });
    else if (reservationSource(before) === 'check')
      changes.push({ kind: 'merged', orderId: o.orderId, line: o.line, before, after });
    else if (sameReservation(before, after)) {
      changes.push({ kind: 'unchanged', orderId: o.orderId, line: o.line });
      continue;
    } else changes.push({ kind: 'updated', orderId: o.orderId, line: o.line, before, after });
    reservations[o.orderId] = after;
  }
  return { reservations, closed, changes, rejects };
}

/** The orders the book remembers closed within `CLOSED_DAYS` of `asOf` (older ones forgotten). */
export function recentlyClosed(book: OrderBook, asOf: IsoDate): Record<string, ClosedOrder> {
  const from = addDays(asOf, -CLOSED_DAYS);
  const out: Record<string, ClosedOrder> = {};
  for (const [id, c] of Object.entries(book.closed ?? {})) if (c.on >= from) out[id] = c;
  return out;
}

/** An invoice that names its order (`order_id`). */
export interface InvoiceOfOrder {
  readonly customerId: string;
  readonly invoiceId: string;
  readonly orderId: string;
  readonly line: number;
  /** As stored: minor units of `currency`. */
  readonly amount: number;
  readonly currency: string;
}

/**
 * The reservations the invoices name, billed (pure). An invoice for less than what is left of the
 * order, in its currency, takes its amount off (what it counts in the credit currency in
 * proportion), remembered by invoice id so the same invoice again takes nothing more; one for all
 * of it, or more, or in another currency, releases the reservation, and the book remembers the
 * order invoiced (`closed`), so a stale report of it as open does not reserve it again.
 */
export function releaseInvoiced(
  book: OrderBook,
  invoices: readonly InvoiceOfOrder[],
  asOf: IsoDate,
): {
  readonly reservations: Record<string, Reservation>;
  readonly closed: Record<string, ClosedOrder>;
  readonly released: {
    readonly invoice: InvoiceOfOrder;
    readonly reservation: Reservation;
    /** Set when the invoice billed part of the order: what is still reserved. */
    readonly remaining?: Reservation | undefined;
  }[];
} {
  const reservations: Record<string, Reservation> = { ...book.reservations };
  const closed = recentlyClosed(book, asOf);
  const released: { invoice: InvoiceOfOrder; reservation: Reservation; remaining?: Reservation }[] = [];
  for (const invoice of invoices) {
    const r = reservations[invoice.orderId];
    if (!r || r.invoiced?.[invoice.invoiceId] !== undefined) continue;
    if (invoice.currency === r.currency && invoice.amount < r.amount) {
      const amount = r.amount - invoice.amount;
      const remaining: Reservation = {
        ...r,
        amount,
        counted: Number((BigInt(r.counted) * BigInt(amount) + BigInt(r.amount) / 2n) / BigInt(r.amount)),
        invoiced: { ...r.invoiced, [invoice.invoiceId]: invoice.amount },
      };
      reservations[invoice.orderId] = remaining;
      released.push({ invoice, reservation: r, remaining });
      continue;
    }
    delete reservations[invoice.orderId];
    closed[invoice.orderId] = { on: asOf, why: 'invoiced', invoiceId: invoice.invoiceId };
    released.push({ invoice, reservation: r });
  }
  return { reservations, closed, released };
}

/** What an orders upload did, over all its customers. */
export interface OrdersLanded {
  /** Rows that landed (reserved, updated, merged, unchanged, closed or nothing to close). */
  readonly landed: number;
  readonly counts: Readonly<Record<OrderChange['kind'], number>>;
  readonly rejects: OrderReject[];
  /** Run warnings: each merge with another amount than the check reserved. */
  readonly warnings: string[];
}

function groupBy<T extends { readonly customerId: string }>(rows: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const list = out.get(r.customerId);
    if (list) list.push(r);
    else out.set(r.customerId, [r]);
  }
  return out;
}

const backoff = (attempt: number) =>
  new Promise((ok) => setTimeout(ok, Math.floor(Math.random() * 5 * Math.min(attempt + 1, 8))));

/**
 * Lands an upload's orders in their customers' `ORDERS` items (see `applyUploadedOrders`). An
 * order of a customer with no master data on file is rejected (there is no limit to count it
 * against: a check would answer `CREDIT_APPLICATION_NEEDED`). A merge and a release go on the
 * audit trail (`credit-check.order-merged`, `credit-check.order-closed`); a plain reservation or
 * update is the run's record.
 */
export async function landOrders(
  deps: OrderBookDeps,
  orders: readonly UploadedOrder[],
  at: { readonly asOf: IsoDate; readonly now: string; readonly runId: string; readonly file: string },
): Promise<OrdersLanded> {
  const counts: Record<OrderChange['kind'], number> = {
    reserved: 0,
    updated: 0,
    merged: 0,
    unchanged: 0,
    closed: 0,
    'not-reserved': 0,
    stale: 0,
  };
  const rejects: OrderReject[] = [];
  const warnings: string[] = [];
  let landed = 0;
  await mapLimit([...groupBy(orders)], deps.concurrency ?? 8, async ([customerId, mine]) => {
    let file = await deps.store.loadCheckFile(customerId);
    if (!file.customer?.name) {
      for (const o of mine)
        rejects.push({
          line: o.line,
          column: 'customer_id',
          value: customerId,
          reason: `customer_id is not on file (no customer master data for ${customerId}): an order is reserved against the customer's credit limit; upload the customer first`,
        });
      return;
    }
    const credit = file.customer.currency ?? file.summary?.currency;
    // The rates each foreign currency needs, read once (the latest each way on or before the day).
    const rates: FxRate[] = [];
    for (const ccy of new Set(mine.filter((o) => o.status === 'open').map((o) => o.currency)))
      if (credit && ccy !== credit) {
        file = await deps.store.loadCheckFile(customerId, { from: ccy, to: credit, asOf: at.asOf });
        rates.push(...file.fxRates);
      }
    const counted = (o: UploadedOrder) =>
      convertAsOf(o.amount, o.currency, credit ?? o.currency, at.asOf, (b, q) =>
        rates.filter((r) => r.base === b && r.quote === q),
      )?.amount;
    let book = file.orders;
    for (let attempt = 0; ; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(
          `the orders of ${customerId} could not be written: ${MAX_ATTEMPTS} writes raced them`,
        );
      const r = applyUploadedOrders(
        book,
        mine,
        { asOf: at.asOf, runId: at.runId, creditCurrency: credit },
        counted,
      );
      const changed = r.changes.some(
        (c) => c.kind !== 'unchanged' && c.kind !== 'not-reserved' && c.kind !== 'stale',
      );
      const pruned = Object.keys(r.reservations).length !== Object.keys(book.reservations).length;
      if (changed || pruned) {
        const next: OrderBook = {
          version: book.version + 1,
          reservations: r.reservations,
          closed: r.closed,
        };
        if ((await deps.store.writeOrders(customerId, next, book.version)) === 'conflict') {
          await backoff(attempt);
          book = await deps.store.loadOrders(customerId);
          continue;
        }
      }
      rejects.push(...r.rejects);
      for (const c of r.changes) {
        counts[c.kind]++;
        landed++;
        if (
          c.kind === 'merged' &&
          (c.before.amount !== c.after.amount || c.before.currency !== c.after.currency)
        )
          warnings.push(
            `line ${c.line}: order ${c.orderId} of ${customerId} was reserved by a check for ${formatMoney(c.before.amount, c.before.currency)}; the upload's ${formatMoney(c.after.amount, c.after.currency)} (the ERP's record) replaces it, counted once`,
          );
        if (c.kind === 'stale')
          warnings.push(
            `line ${c.line}: order ${c.orderId} of ${customerId} was ${c.closed.why}${c.closed.invoiceId ? ` (invoice ${c.closed.invoiceId})` : ''} on ${c.closed.on}: an open row for it is taken as a stale report and not reserved again (it would count twice)`,
          );
        if (c.kind === 'merged')
          await deps.log.logCheck(customerId, {
            at: at.now,
            kind: 'credit-check.order-merged',
            subject: customerId,
            actor: 'ingest',
            data: {
              orderId: c.orderId,
              file: at.file,
              runId: at.runId,
              line: c.line,
              checked: {
                amount: c.before.amount,
                currency: c.before.currency,
                reservedOn: c.before.reservedOn,
              },
              uploaded: { amount: c.after.amount, currency: c.after.currency, counted: c.after.counted },
              amountChanged: c.before.amount !== c.after.amount || c.before.currency !== c.after.currency,
            },
          });
        if (c.kind === 'closed')
          await deps.log.logCheck(customerId, {
            at: at.now,
            kind: 'credit-check.order-closed',
            subject: customerId,
            actor: 'ingest',
            data: {
              orderId: c.orderId,
              status: c.status,
              file: at.file,
              runId: at.runId,
              line: c.line,
              amount: c.before.amount,
              currency: c.before.currency,
              source: reservationSource(c.before),
              reservedOn: c.before.reservedOn,
            },
          });
      }
      return;
    }
  });
  rejects.sort((a, b) => a.line - b.line);
  return { landed, counts, rejects, warnings };
}

/**
 * Releases the reservations the invoices of an upload name (issue 18 item 3), customer by
 * customer, each on the audit trail (`credit-check.invoiced`: the order, what it had reserved,
 * the invoice). Run after the invoices are stored and their customers' summaries recomputed, so
 * the order counts as its invoice from then on and never as neither; an invoice for part of the
 * order takes its amount off (`releaseInvoiced`). How many it released, and how many it reduced.
 */
export async function releaseInvoicedOrders(
  deps: OrderBookDeps,
  invoices: readonly InvoiceOfOrder[],
  at: {
    readonly now: string;
    readonly runId: string;
    readonly file: string;
    /** The day the invoices landed (remembered with an order they close). @default the day of `now` */
    readonly asOf?: IsoDate | undefined;
  },
): Promise<{ readonly released: number; readonly reduced: number }> {
  let released = 0;
  let reduced = 0;
  await mapLimit([...groupBy(invoices)], deps.concurrency ?? 8, async ([customerId, mine]) => {
    for (let attempt = 0; ; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(
          `the reservations invoiced for ${customerId} could not be released: ${MAX_ATTEMPTS} writes raced them`,
        );
      const book = await deps.store.loadOrders(customerId);
      const r = releaseInvoiced(book, mine, at.asOf ?? (at.now.slice(0, 10) as IsoDate));
      if (r.released.length === 0) return;
      const next: OrderBook = { version: book.version + 1, reservations: r.reservations, closed: r.closed };
      if ((await deps.store.writeOrders(customerId, next, book.version)) === 'conflict') {
        await backoff(attempt);
        continue;
      }
      for (const x of r.released)
        if (x.remaining) reduced++;
        else released++;
      for (const { invoice, reservation, remaining } of r.released)
        await deps.log.logCheck(customerId, {
          at: at.now,
          kind: 'credit-check.invoiced',
          subject: customerId,
          actor: 'ingest',
          data: {
            orderId: invoice.orderId,
            invoiceId: invoice.invoiceId,
            invoice: { amount: invoice.amount, currency: invoice.currency },
            reserved: {
              amount: reservation.amount,
              currency: reservation.currency,
              counted: reservation.counted,
              creditCurrency: reservation.creditCurrency,
              source: reservationSource(reservation),
              reservedOn: reservation.reservedOn,
              expiresOn: reservation.expiresOn,
            },
            // Billed in part: what is still reserved; else the reservation is released.
            ...(remaining
              ? { partial: true, remaining: { amount: remaining.amount, counted: remaining.counted } }
              : { partial: false }),
            file: at.file,
            runId: at.runId,
            line: invoice.line,
          },
        });
      return;
    }
  });
  return { released, reduced };
}
