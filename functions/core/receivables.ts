import { addDays, dayNumber, daysBetween, type IsoDate, lastDateMemo } from './dates.ts';
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
/** Received date, then payment id: the order payments are applied in. */
export function byReceived(a: Payment, b: Payment): number {
  if (a.receivedDate !== b.receivedDate) return a.receivedDate < b.receivedDate ? -1 : 1;
  return a.paymentId === b.paymentId ? 0 : a.paymentId < b.paymentId ? -1 : 1;
}

/**
 * The payments in the order they are applied in (`byReceived`): the same array when they already
 * are, else a sorted copy. A customer's few payments are sorted by insertion, which for a handful
 * is several times quicker than `Array.prototype.sort` with a comparator.
 */
export function inReceivedOrder(payments: readonly Payment[]): readonly Payment[] {
  let k = 1;
  while (k < payments.length && byReceived(payments[k - 1] as Payment, payments[k] as Payment) <= 0) k++;
  if (k >= payments.length) return payments;
  if (payments.length > 32) return [...payments].sort(byReceived);
  const out = payments.slice();
  for (let i = k; i < out.length; i++) {
    const p = out[i] as Payment;
    let j = i - 1;
    while (j >= 0 && byReceived(out[j] as Payment, p) > 0) {
      out[j + 1] = out[j] as Payment;
      j--;
    }
    out[j + 1] = p;
  }
  return out;
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
  const detail: AllocationResult = { applications: [], notes: [] };
  applyPayments(invoices, inReceivedOrder(payments), undefined, detail);
  return detail;
}

/** What the allocation leaves: per invoice (in the order given) and the cash left over. */
interface Applied {
  /** Per invoice: what is still open (its amount less what was applied to it). */
  readonly open: number[];
  /** Per invoice: the received date of the last payment applied to it (undefined: none). */
  readonly last: (IsoDate | undefined)[];
  /** Unapplied cash in the currency asked for. */
  unapplied: number;
  /** Unapplied cash in other currencies (undefined when there is none). */
  otherCash: Map<string, number> | undefined;
}

/** Below this many invoices a payment's invoice is found by scanning; above, through a map. */
const SCAN_MAX = 16;

/**
 * The one allocation algorithm (see allocatePayments), written for the evaluation's hot path:
 * amounts per invoice position, no map for a small book, payments sorted only when they are not
 * already in received order, the FIFO order made only when a payment names no invoice. With
 * `detail`, it also records every allocation and note. Invoice ids are unique (they key the store).
 */
function applyPayments(
  invoices: readonly Invoice[],
  /** In received order (`inReceivedOrder`). */
  ordered: readonly Payment[],
  /** The currency unapplied cash is summed in (undefined: not summed). */
  currency: string | undefined,
  detail?: AllocationResult,
): Applied {
  const n = invoices.length;
  const open = new Array<number>(n);
  for (let j = 0; j < n; j++) open[j] = (invoices[j] as Invoice).amount;
  const last = new Array<IsoDate | undefined>(n).fill(undefined);
  const out: Applied = { open, last, unapplied: 0, otherCash: undefined };
  let index: Map<string, number> | undefined;
  let fifo: number[] | undefined;
  for (const p of ordered) {
    const allocations: Allocation[] | undefined = detail ? [] : undefined;
    let remaining = p.amount;
    const refs = p.invoiceIds;
    if (refs.length > 0) {
      for (const ref of refs) {
        let i = -1;
        if (n <= SCAN_MAX) {
          for (let j = 0; j < n; j++)
            if ((invoices[j] as Invoice).invoiceId === ref) {
              i = j;
              break;
            }
        } else {
          if (!index) {
            index = new Map();
            for (let j = 0; j < n; j++) index.set((invoices[j] as Invoice).invoiceId, j);
          }
          i = index.get(ref) ?? -1;
        }
        const inv = invoices[i];
        if (!inv) detail?.notes.push({ paymentId: p.paymentId, invoiceId: ref, code: 'UNKNOWN_INVOICE' });
        else if (inv.issueDate > p.receivedDate)
          detail?.notes.push({ paymentId: p.paymentId, invoiceId: ref, code: 'INVOICE_NOT_YET_ISSUED' });
        else if (inv.currency !== p.currency)
          detail?.notes.push({ paymentId: p.paymentId, invoiceId: ref, code: 'CURRENCY_MISMATCH' });
        else {
          const take = Math.min(open[i] as number, remaining);
          if (take > 0) {
            open[i] = (open[i] as number) - take;
            last[i] = p.receivedDate; // payments come in received order: this one is the latest
            remaining -= take;
            allocations?.push({ paymentId: p.paymentId, invoiceId: ref, amount: take, date: p.receivedDate });
          }
        }
      }
    } else {
      if (!fifo) {
        fifo = Array.from({ length: n }, (_, j) => j);
        fifo.sort((a, b) => byDueThenId(invoices[a] as Invoice, invoices[b] as Invoice));
      }
      for (const i of fifo) {
        if (remaining === 0) break;
        const inv = invoices[i] as Invoice;
        if (inv.issueDate > p.receivedDate || inv.currency !== p.currency) continue;
        const take = Math.min(open[i] as number, remaining);
        if (take > 0) {
          open[i] = (open[i] as number) - take;
          last[i] = p.receivedDate;
          remaining -= take;
          allocations?.push({
            paymentId: p.paymentId,
            invoiceId: inv.invoiceId,
            amount: take,
            date: p.receivedDate,
          });
        }
      }
    }
    if (currency !== undefined) {
      if (p.currency === currency) out.unapplied += remaining;
      else if (remaining > 0) {
        out.otherCash ??= new Map();
        out.otherCash.set(p.currency, (out.otherCash.get(p.currency) ?? 0) + remaining);
      }
    }
    if (detail && allocations)
      detail.applications.push({
        paymentId: p.paymentId,
        receivedDate: p.receivedDate,
        currency: p.currency,
        allocations,
        unapplied: remaining,
      });
  }
  return out;
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
  /** Under dispute, in whole or in part (`disputedPart`): the ERP's flag or a dispute open on the day. */
  readonly disputed: boolean;
  /**
   * When a dispute contests only part of it (a line: README "Collections"): that part, minor units
   * of `currency`. What is disputed of the open amount is the smaller of the two (`disputedOpen`):
   * a payment since leaves only what is open disputed. Absent on a disputed invoice: all of it.
   */
  readonly disputedPart?: number;
  /** The line of the invoice its dispute names, if it names one. */
  readonly disputeLine?: string;
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

/** A customer's receivables as of a date, without the per-invoice statuses: what the evaluation reads. */
export interface Receivables {
  readonly summary: ReceivableSummary;
  /** The invoices issued by the date, in the order given. */
  readonly invoices: readonly Invoice[];
  /** The payments received by the date, in the order they are applied in (`byReceived`). */
  readonly payments: readonly Payment[];
  /** Per invoice: what is still open. */
  readonly open: readonly number[];
  /** Per invoice settled by the date: the received date of the payment that closed it. */
  readonly settledDate: readonly (IsoDate | undefined)[];
  /** Per invoice settled by the date: max(0, settled - due); -1 for an open one. */
  readonly daysLate: readonly number[];
}

/** The invoices issued by `asOf`: the same array when all are (the usual case for today's books). */
function issuedBy(invoices: readonly Invoice[], asOf: IsoDate): readonly Invoice[] {
  for (let k = 0; k < invoices.length; k++)
    if ((invoices[k] as Invoice).issueDate > asOf) return invoices.filter((i) => i.issueDate <= asOf);
  return invoices;
}

/** The payments received by `asOf`, likewise. */
function receivedBy(payments: readonly Payment[], asOf: IsoDate): readonly Payment[] {
  for (let k = 0; k < payments.length; k++)
    if ((payments[k] as Payment).receivedDate > asOf) return payments.filter((p) => p.receivedDate <= asOf);
  return payments;
}

/** The day number of `asOf` and the first day of its DSO window (the same for every customer of a run). */
const dsoWindow = lastDateMemo((asOf: IsoDate, dsoDays: number) => ({
  asOfDay: dayNumber(asOf),
  salesFrom: addDays(asOf, -dsoDays),
}));

/**
 * A customer's receivables as the books stood at the end of `asOf`: only invoices issued and
 * payments received by then exist. Every figure follows DOMAIN.md's formulas.
 */
export function receivablesAsOf(books: CustomerBooks, asOf: IsoDate, dsoDays = 90): Receivables {
  return receivablesWith(books, asOf, dsoDays);
}

function receivablesWith(
  books: CustomerBooks,
  asOf: IsoDate,
  dsoDays: number,
  detail?: AllocationResult,
): Receivables {
  const invoices = issuedBy(books.invoices, asOf);
  const payments = inReceivedOrder(receivedBy(books.payments, asOf));
  const currency = mainCurrency(books);
  const applied = applyPayments(invoices, payments, currency, detail);
  const { asOfDay, salesFrom } = dsoWindow(asOf, dsoDays);

  let notDue = 0;
  let d1_30 = 0;
  let d31_60 = 0;
  let d61_90 = 0;
  let d91_180 = 0;
  let over180 = 0;
  let other: Map<string, number> | undefined;
  const n = invoices.length;
  // The allocation's arrays become the receivables' own: settled dates are the last payment
  // dates of the invoices paid off (cleared below for the others).
  const open = applied.open;
  const settledDate = applied.last;
  const daysLate = new Array<number>(n);
  let openAmount = 0;
  let overdueAmount = 0;
  let disputedAmount = 0;
  let openInvoices = 0;
  let maxDaysPastDue = 0;
  let settledInvoices = 0;
  let lateSum = 0;
  let sales = 0;
  for (let i = 0; i < n; i++) {
    const inv = invoices[i] as Invoice;
    const o = open[i] as number;
    const lastPaid = settledDate[i];
    if (o === 0 && lastPaid !== undefined) {
      const late = Math.max(0, dayNumber(lastPaid) - dayNumber(inv.dueDate));
      daysLate[i] = late;
      settledInvoices++;
      lateSum += late;
    } else {
      if (lastPaid !== undefined) settledDate[i] = undefined; // partly paid: still open
      daysLate[i] = -1;
      if (inv.currency !== currency) {
        other ??= new Map();
        other.set(inv.currency, (other.get(inv.currency) ?? 0) + o);
        continue;
      }
      const daysPastDue = asOfDay - dayNumber(inv.dueDate);
      openAmount += o;
      openInvoices++;
      // The buckets of agingBucket, summed in locals (a keyed store per invoice is slower).
      if (daysPastDue <= 0) notDue += o;
      else {
        overdueAmount += o;
        if (daysPastDue <= 30) d1_30 += o;
        else if (daysPastDue <= 60) d31_60 += o;
        else if (daysPastDue <= 90) d61_90 += o;
        else if (daysPastDue <= 180) d91_180 += o;
        else over180 += o;
      }
      if (inv.disputed) disputedAmount += o;
      if (daysPastDue > maxDaysPastDue) maxDaysPastDue = daysPastDue;
    }
    if (inv.currency === currency && inv.issueDate > salesFrom) sales += inv.amount;
  }

  const otherCash = applied.otherCash;
  const summary: ReceivableSummary = {
    customerId: books.customerId,
    currency,
    asOf,
    openAmount,
    overdueAmount,
    disputedAmount,
    aging: { notDue, d1_30, d31_60, d61_90, d91_180, over180 },
    openInvoices,
    maxDaysPastDue,
    settledInvoices,
    avgDaysLate: settledInvoices === 0 ? null : Math.round((lateSum / settledInvoices) * 100) / 100,
    unappliedCash: applied.unapplied,
    dso: sales === 0 ? null : Math.round((openAmount / sales) * dsoDays * 10) / 10,
    otherCurrencies:
      other === undefined && otherCash === undefined
        ? []
        : [...new Set([...(other?.keys() ?? []), ...(otherCash?.keys() ?? [])])].sort().map((c) => ({
            currency: c,
            openAmount: other?.get(c) ?? 0,
            unappliedCash: otherCash?.get(c) ?? 0,
          })),
  };
  return { summary, invoices, payments, open, settledDate, daysLate };
}

/**
 * The receivables as of `asOf` with every invoice's status (by due date) and every payment's
 * allocations: what the console and the CLI show.
 */
export function statementAsOf(books: CustomerBooks, asOf: IsoDate, dsoDays = 90): Statement {
  const detail: AllocationResult = { applications: [], notes: [] };
  const r = receivablesWith(books, asOf, dsoDays, detail);
  const statuses: InvoiceStatus[] = r.invoices.map((inv, i) => {
    const base = {
      invoiceId: inv.invoiceId,
      currency: inv.currency,
      issueDate: inv.issueDate,
      dueDate: inv.dueDate,
      amount: inv.amount,
      open: r.open[i] as number,
      disputed: inv.disputed,
    };
    const settled = r.settledDate[i];
    if (settled !== undefined)
      return {
        ...base,
        settledDate: settled,
        daysLate: r.daysLate[i] as number,
        daysToSettle: daysBetween(inv.issueDate, settled),
      };
    const daysPastDue = daysBetween(inv.dueDate, asOf);
    return { ...base, daysPastDue, bucket: agingBucket(daysPastDue) };
  });
  statuses.sort(byDueThenId);
  return { summary: r.summary, invoices: statuses, applications: detail.applications, notes: detail.notes };
}

/** What a dispute open on the day contests of its invoice: a part (absent: all that is open), its line. */
export interface DisputedPart {
  /** Minor units of the invoice's currency; absent: the whole open amount. */
  readonly amount?: number | undefined;
  readonly line?: string | undefined;
}

/** What is disputed of an item's open amount: all of it, the part a dispute names (at most all), or none. */
export function disputedOpen(i: Pick<InvoiceStatus, 'open' | 'disputed' | 'disputedPart'>): number {
  if (!i.disputed) return 0;
  return i.disputedPart === undefined ? i.open : Math.min(i.disputedPart, i.open);
}

/**
 * The statement with the invoices under dispute on the day marked disputed: those the ERP flags
 * and those named in `disputedOn` (a dispute record open on the day; functions/collections/
 * disputes.ts `disputedOn`), each with the part it contests when it names one (a set names whole
 * invoices). An invoice is disputed when either says so (README "Collections"); the ERP's flag has
 * no part, so it disputes all of it whatever a record says. The summary's disputed amount counts
 * what is disputed of each open item in the credit currency (`disputedOpen`).
 */
export function withDisputes(
  st: Statement,
  disputedOn: ReadonlySet<string> | ReadonlyMap<string, DisputedPart>,
): Statement {
  if (disputedOn.size === 0) return st;
  const partOf = (id: string): DisputedPart | undefined =>
    disputedOn instanceof Map ? disputedOn.get(id) : disputedOn.has(id) ? {} : undefined;
  const ccy = st.summary.currency;
  let disputedAmount = 0;
  const invoices = st.invoices.map((i) => {
    const p = partOf(i.invoiceId);
    const d: InvoiceStatus =
      !p || (i.disputed && i.disputedPart === undefined && p.line === undefined)
        ? i
        : {
            ...i,
            disputed: true,
            ...(p.amount !== undefined && !i.disputed ? { disputedPart: p.amount } : {}),
            ...(p.line !== undefined ? { disputeLine: p.line } : {}),
          };
    if (d.currency === ccy && d.settledDate === undefined) disputedAmount += disputedOpen(d);
    return d;
  });
  return { ...st, summary: { ...st.summary, disputedAmount }, invoices };
}

/**
 * "Undisputed DSO" (README "What the figures mean"): the summary's simple DSO with what is under
 * dispute (its `disputedAmount`: of each disputed invoice in the credit currency, its open amount,
 * or only the part a dispute on a line names; see `withDisputes`) taken out of the open
 * receivables. The credit sales of the period stay as they are: a disputed invoice was still sold,
 * and taking it out of both would compare the rest against sales it is no part of. So the two
 * differ only by what is under dispute: DSO says how long the money takes to come in, undisputed
 * DSO how long the money nobody contests takes. Null without sales, as DSO is.
 */
export function undisputedDso(st: Statement, dsoDays = 90): number | null {
  const s = st.summary;
  const salesFrom = addDays(s.asOf, -dsoDays);
  let sales = 0;
  // The sales of receivablesWith: invoices in the credit currency issued in the period.
  for (const i of st.invoices) if (i.currency === s.currency && i.issueDate > salesFrom) sales += i.amount;
  return sales === 0 ? null : Math.round(((s.openAmount - s.disputedAmount) / sales) * dsoDays * 10) / 10;
}
