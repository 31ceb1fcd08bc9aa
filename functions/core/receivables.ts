import { addDays, daysBetween, type IsoDate } from './dates.ts';
import type { Invoice, Payment } from './records.ts';

/** Part of a payment applied to an invoice, effective on the payment's received date. */
export interface Allocation {
  readonly paymentId: string;
  readonly invoiceId: string;
  readonly amount: number;
  readonly date: IsoDate;
}

export type AllocationNoteCode = 'UNKNOWN_INVOICE' | 'INVOICE_NOT_YET_ISSUED' | 'CURRENCY_MISMATCH';

export interface AllocationNote {
  readonly paymentId: string;
  readonly invoiceId: string;
  readonly code: AllocationNoteCode;
}

export interface PaymentApplication {
  readonly paymentId: string;
  readonly receivedDate: IsoDate;
  readonly currency: string;
  readonly allocations: Allocation[];
  /** What is left of the payment after allocation: unapplied cash, kept on the customer. */
  readonly unapplied: number;
}

export interface AllocationResult {
  readonly applications: PaymentApplication[];
  readonly notes: AllocationNote[];
}

type Dated = { readonly dueDate: IsoDate; readonly issueDate: IsoDate; readonly invoiceId: string };
function byDueThenId(a: Dated, b: Dated): number {
  if (a.dueDate !== b.dueDate) return a.dueDate < b.dueDate ? -1 : 1;
  if (a.issueDate !== b.issueDate) return a.issueDate < b.issueDate ? -1 : 1;
  return a.invoiceId === b.invoiceId ? 0 : a.invoiceId < b.invoiceId ? -1 : 1;
}
function byReceived(a: Payment, b: Payment): number {
  if (a.receivedDate !== b.receivedDate) return a.receivedDate < b.receivedDate ? -1 : 1;
  return a.paymentId === b.paymentId ? 0 : a.paymentId < b.paymentId ? -1 : 1;
}

/**
 * Applies a customer's payments to its invoices (DOMAIN "Open amount"):
 * payments in received order; a payment that names invoices pays those, up to what is open, and
 * keeps the rest as unapplied cash; a payment that names none pays the oldest due invoices
 * issued by its date (FIFO) in its own currency; an overpayment stays as unapplied cash.
 * It only looks backwards in time, so the books as of any date are the allocations dated by then.
 */
export function allocatePayments(
  invoices: readonly Invoice[],
  payments: readonly Payment[],
): AllocationResult {
  const open = new Map<string, number>();
  const byId = new Map<string, Invoice>();
  for (const inv of invoices) {
    open.set(inv.invoiceId, inv.amount);
    byId.set(inv.invoiceId, inv);
  }
  const fifo = [...invoices].sort(byDueThenId);
  const ordered = [...payments].sort(byReceived);
  const applications: PaymentApplication[] = [];
  const notes: AllocationNote[] = [];
  for (const p of ordered) {
    const allocations: Allocation[] = [];
    let remaining = p.amount;
    if (p.invoiceIds.length > 0) {
      for (const ref of p.invoiceIds) {
        const inv = byId.get(ref);
        if (!inv) notes.push({ paymentId: p.paymentId, invoiceId: ref, code: 'UNKNOWN_INVOICE' });
        else if (inv.issueDate > p.receivedDate)
          notes.push({ paymentId: p.paymentId, invoiceId: ref, code: 'INVOICE_NOT_YET_ISSUED' });
        else if (inv.currency !== p.currency)
          notes.push({ paymentId: p.paymentId, invoiceId: ref, code: 'CURRENCY_MISMATCH' });
        else remaining = applyTo(inv, p, remaining, open, allocations);
      }
    } else {
      for (const inv of fifo) {
        if (remaining === 0) break;
        if (inv.issueDate <= p.receivedDate && inv.currency === p.currency)
          remaining = applyTo(inv, p, remaining, open, allocations);
      }
    }
    applications.push({
      paymentId: p.paymentId,
      receivedDate: p.receivedDate,
      currency: p.currency,
      allocations,
      unapplied: remaining,
    });
  }
  return { applications, notes };
}

/** Applies what is left of payment `p` to invoice `inv`; returns what is left after it. */
function applyTo(
  inv: Invoice,
  p: Payment,
  remaining: number,
  open: Map<string, number>,
  allocations: Allocation[],
): number {
  const left = open.get(inv.invoiceId) ?? 0;
  const take = Math.min(left, remaining);
  if (take <= 0) return remaining;
  open.set(inv.invoiceId, left - take);
  allocations.push({ paymentId: p.paymentId, invoiceId: inv.invoiceId, amount: take, date: p.receivedDate });
  return remaining - take;
}

export const AGING_BUCKETS = ['notDue', 'd1_30', 'd31_60', 'd61_90', 'd91_180', 'over180'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];
export type Aging = Record<AgingBucket, number>;

/** Aging bucket by days past due: not due, 1-30, 31-60, 61-90, 91-180, over 180. */
export function agingBucket(daysPastDue: number): AgingBucket {
  if (daysPastDue <= 0) return 'notDue';
  if (daysPastDue <= 30) return 'd1_30';
  if (daysPastDue <= 60) return 'd31_60';
  if (daysPastDue <= 90) return 'd61_90';
  if (daysPastDue <= 180) return 'd91_180';
  return 'over180';
}

export interface InvoiceStatus {
  readonly invoiceId: string;
  readonly currency: string;
  readonly issueDate: IsoDate;
  readonly dueDate: IsoDate;
  readonly amount: number;
  readonly open: number;
  readonly disputed: boolean;
  /** asOf - due for an open item (negative when not yet due); undefined once settled. */
  readonly daysPastDue?: number;
  readonly bucket?: AgingBucket;
  readonly settledDate?: IsoDate;
  /** max(0, settled - due) */
  readonly daysLate?: number;
  /** settled - issued */
  readonly daysToSettle?: number;
}

export interface ReceivableSummary {
  readonly customerId: string;
  readonly currency: string;
  readonly asOf: IsoDate;
  readonly openAmount: number;
  readonly overdueAmount: number;
  readonly disputedAmount: number;
  readonly aging: Aging;
  readonly openInvoices: number;
  readonly maxDaysPastDue: number;
  readonly settledInvoices: number;
  /** Plain mean of max(0, settled - due) over invoices settled by asOf; null when none. */
  readonly avgDaysLate: number | null;
  readonly unappliedCash: number;
  /** Simple DSO over `dsoDays`: open receivables / credit sales of the period * days; null without sales. */
  readonly dso: number | null;
  /** Receivables in a currency other than `currency` that could not be converted, kept visible. */
  readonly otherCurrencies: { currency: string; openAmount: number; unappliedCash: number }[];
}

export interface CustomerBooks {
  readonly customerId: string;
  /** The credit currency; when unknown, the currency most of the customer's invoices use. */
  readonly currency?: string | undefined;
  readonly invoices: readonly Invoice[];
  readonly payments: readonly Payment[];
}

export interface Statement {
  readonly summary: ReceivableSummary;
  readonly invoices: InvoiceStatus[];
  readonly applications: PaymentApplication[];
  readonly notes: AllocationNote[];
}

function mainCurrency(books: CustomerBooks): string {
  if (books.currency) return books.currency;
  const counts = new Map<string, number>();
  for (const inv of books.invoices) counts.set(inv.currency, (counts.get(inv.currency) ?? 0) + 1);
  let best = '';
  let bestCount = 0;
  for (const [c, n] of counts) {
    if (n > bestCount || (n === bestCount && c < best)) {
      best = c;
      bestCount = n;
    }
  }
  // XXX is ISO 4217's code for "no currency": a customer with master data but no money yet.
  return best || (books.payments[0]?.currency ?? 'XXX');
}

/**
 * A customer's receivables as the books stood at the end of `asOf`: only invoices issued and
 * payments received by then exist. Every figure follows DOMAIN.md's formulas.
 */
export function statementAsOf(books: CustomerBooks, asOf: IsoDate, dsoDays = 90): Statement {
  const invoices = books.invoices.filter((i) => i.issueDate <= asOf);
  const payments = books.payments.filter((p) => p.receivedDate <= asOf);
  const { applications, notes } = allocatePayments(invoices, payments);
  const currency = mainCurrency(books);

  const paid = new Map<string, { amount: number; last: IsoDate }>();
  for (const app of applications) {
    for (const a of app.allocations) {
      const prev = paid.get(a.invoiceId);
      paid.set(a.invoiceId, {
        amount: (prev?.amount ?? 0) + a.amount,
        last: prev && prev.last > a.date ? prev.last : a.date,
      });
    }
  }

  const aging: Aging = { notDue: 0, d1_30: 0, d31_60: 0, d61_90: 0, d91_180: 0, over180: 0 };
  const other = new Map<string, number>();
  const statuses: InvoiceStatus[] = [];
  let openAmount = 0;
  let overdueAmount = 0;
  let disputedAmount = 0;
  let openInvoices = 0;
  let maxDaysPastDue = 0;
  let settledInvoices = 0;
  let lateSum = 0;
  let sales = 0;
  const salesFrom = addDays(asOf, -dsoDays);
  for (const inv of invoices) {
    const p = paid.get(inv.invoiceId);
    const open = inv.amount - (p?.amount ?? 0);
    if (open === 0 && p) {
      const daysLate = Math.max(0, daysBetween(inv.dueDate, p.last));
      settledInvoices++;
      lateSum += daysLate;
      statuses.push({
        invoiceId: inv.invoiceId,
        currency: inv.currency,
        issueDate: inv.issueDate,
        dueDate: inv.dueDate,
        amount: inv.amount,
        open: 0,
        disputed: inv.disputed,
        settledDate: p.last,
        daysLate,
        daysToSettle: daysBetween(inv.issueDate, p.last),
      });
    } else {
      const daysPastDue = daysBetween(inv.dueDate, asOf);
      const bucket = agingBucket(daysPastDue);
      statuses.push({
        invoiceId: inv.invoiceId,
        currency: inv.currency,
        issueDate: inv.issueDate,
        dueDate: inv.dueDate,
        amount: inv.amount,
        open,
        disputed: inv.disputed,
        daysPastDue,
        bucket,
      });
      if (inv.currency !== currency) {
        other.set(inv.currency, (other.get(inv.currency) ?? 0) + open);
        continue;
      }
      openAmount += open;
      openInvoices++;
      aging[bucket] += open;
      if (daysPastDue > 0) overdueAmount += open;
      if (inv.disputed) disputedAmount += open;
      if (daysPastDue > maxDaysPastDue) maxDaysPastDue = daysPastDue;
    }
    if (inv.currency === currency && inv.issueDate > salesFrom) sales += inv.amount;
  }
  let unappliedCash = 0;
  const otherCash = new Map<string, number>();
  for (const app of applications) {
    if (app.currency === currency) unappliedCash += app.unapplied;
    else if (app.unapplied > 0)
      otherCash.set(app.currency, (otherCash.get(app.currency) ?? 0) + app.unapplied);
  }

  const summary: ReceivableSummary = {
    customerId: books.customerId,
    currency,
    asOf,
    openAmount,
    overdueAmount,
    disputedAmount,
    aging,
    openInvoices,
    maxDaysPastDue,
    settledInvoices,
    avgDaysLate: settledInvoices === 0 ? null : Math.round((lateSum / settledInvoices) * 100) / 100,
    unappliedCash,
    dso: sales === 0 ? null : Math.round((openAmount / sales) * dsoDays * 10) / 10,
    otherCurrencies: [...new Set([...other.keys(), ...otherCash.keys()])].sort().map((c) => ({
      currency: c,
      openAmount: other.get(c) ?? 0,
      unappliedCash: otherCash.get(c) ?? 0,
    })),
  };
  statuses.sort(byDueThenId);
  return { summary, invoices: statuses, applications, notes };
}
