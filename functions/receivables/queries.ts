import type { DynamoStore } from '../adapters/dynamodb.ts';
import { mapLimit } from '../core/concurrency.ts';
import type { IsoDate } from '../core/dates.ts';
import { formatMinor } from '../core/money.ts';
import type { Page, PageRequest } from '../core/paging.ts';
import { AGING_BUCKETS, type AgingBucket, type Statement, statementAsOf } from '../core/receivables.ts';
import type { Customer, FinancialStatement } from '../core/records.ts';
import type { IngestRun, RejectRecord } from '../ingest/ports.ts';

/** One line of the receivables table, amounts as decimal strings in major units ("1234.50"). */
export interface CustomerLine {
  customerId: string;
  name?: string | undefined;
  currency: string;
  openAmount: string;
  overdueAmount: string;
  aging: Record<AgingBucket, string>;
  openInvoices: number;
  maxDaysPastDue: number;
  settledInvoices: number;
  avgDaysLate: number | null;
  unappliedCash: string;
  creditLimit?: string | undefined;
  dso: number | null;
}

/** Totals of one currency's customers in the receivables table. */
export interface CurrencyTotal {
  currency: string;
  customers: number;
  openAmount: string;
  overdueAmount: string;
  aging: Record<AgingBucket, string>;
  openInvoices: number;
  maxDaysPastDue: number;
  unappliedCash: string;
  /** Sum of the credit limits on file; undefined when no customer of the currency has one. */
  creditLimit?: string | undefined;
}

export interface CustomerTable {
  lines: CustomerLine[];
  totals: CurrencyTotal[];
}

export interface CustomerFile {
  customer?: Customer | undefined;
  statement: Statement;
  financials: FinancialStatement[];
  line: CustomerLine;
}

export function lineOf(statement: Statement, customer?: Customer): CustomerLine {
  const s = statement.summary;
  const m = (n: number) => formatMinor(n, s.currency);
  const aging = {} as Record<AgingBucket, string>;
  for (const b of AGING_BUCKETS) aging[b] = m(s.aging[b]);
  return {
    customerId: s.customerId,
    name: customer?.name,
    currency: s.currency,
    openAmount: m(s.openAmount),
    overdueAmount: m(s.overdueAmount),
    aging,
    openInvoices: s.openInvoices,
    maxDaysPastDue: s.maxDaysPastDue,
    settledInvoices: s.settledInvoices,
    avgDaysLate: s.avgDaysLate,
    unappliedCash: m(s.unappliedCash),
    creditLimit:
      customer?.creditLimit !== undefined && customer.currency
        ? formatMinor(customer.creditLimit, customer.currency)
        : undefined,
    dso: s.dso,
  };
}

/**
 * Receivables as the books stood on a date, recomputed from the stored invoices and payments
 * (never from a cached summary, so any past date gives the same figures every time).
 */
export class ReceivablesQueries {
  constructor(private readonly store: DynamoStore) {}

  async customer(customerId: string, asOf: IsoDate): Promise<CustomerFile | undefined> {
    const { books, financials } = await this.store.loadCustomerPartition(customerId);
    if (!books.customer && books.invoices.length === 0 && books.payments.length === 0) return undefined;
    const statement = statementAsOf(
      { customerId, currency: books.customer?.currency, invoices: books.invoices, payments: books.payments },
      asOf,
    );
    return { customer: books.customer, statement, financials, line: lineOf(statement, books.customer) };
  }

  /** The receivables table: every customer as of `asOf`, largest overdue first, with totals per currency. */
  async customers(asOf: IsoDate): Promise<CustomerTable> {
    const ids = await this.store.listCustomerIds();
    const files = (await mapLimit(ids, 16, (id) => this.customer(id, asOf))).filter(
      (f): f is CustomerFile => f !== undefined,
    );
    const lines = files
      .map((f) => f.line)
      .sort(
        (a, b) =>
          Number(b.overdueAmount) - Number(a.overdueAmount) ||
          Number(b.openAmount) - Number(a.openAmount) ||
          (a.customerId < b.customerId ? -1 : 1),
      );
    return { lines, totals: totalsByCurrency(files) };
  }

  /** The ingest runs, newest first: every one, or the newest `limit`. */
  runs(limit?: number): Promise<IngestRun[]> {
    return this.store.listRuns(limit);
  }

  /** A page of the ingest runs, newest first, with how many there are. */
  runsPage(req: PageRequest): Promise<Page<IngestRun>> {
    return this.store.runsPage(req);
  }

  run(runId: string): Promise<{ run: IngestRun; rejects: RejectRecord[] } | undefined> {
    return this.store.getRun(runId);
  }
}

/** Sums the customers per currency exactly, in minor units, from their summaries. */
export function totalsByCurrency(files: readonly CustomerFile[]): CurrencyTotal[] {
  const acc = new Map<
    string,
    {
      customers: number;
      open: number;
      overdue: number;
      aging: Record<AgingBucket, number>;
      openInvoices: number;
      maxDaysPastDue: number;
      unapplied: number;
      creditLimit: number | undefined;
    }
  >();
  for (const { statement, customer } of files) {
    const s = statement.summary;
    let t = acc.get(s.currency);
    if (!t) {
      t = {
        customers: 0,
        open: 0,
        overdue: 0,
        aging: { notDue: 0, d1_30: 0, d31_60: 0, d61_90: 0, d91_180: 0, over180: 0 },
        openInvoices: 0,
        maxDaysPastDue: 0,
        unapplied: 0,
        creditLimit: undefined,
      };
      acc.set(s.currency, t);
    }
    t.customers++;
    t.open += s.openAmount;
    t.overdue += s.overdueAmount;
    for (const b of AGING_BUCKETS) t.aging[b] += s.aging[b];
    t.openInvoices += s.openInvoices;
    t.maxDaysPastDue = Math.max(t.maxDaysPastDue, s.maxDaysPastDue);
    t.unapplied += s.unappliedCash;
    if (customer?.creditLimit !== undefined && customer.currency === s.currency)
      t.creditLimit = (t.creditLimit ?? 0) + customer.creditLimit;
  }
  return [...acc]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, t]) => {
      const m = (n: number) => formatMinor(n, currency);
      const aging = {} as Record<AgingBucket, string>;
      for (const b of AGING_BUCKETS) aging[b] = m(t.aging[b]);
      return {
        currency,
        customers: t.customers,
        openAmount: m(t.open),
        overdueAmount: m(t.overdue),
        aging,
        openInvoices: t.openInvoices,
        maxDaysPastDue: t.maxDaysPastDue,
        unappliedCash: m(t.unapplied),
        creditLimit: t.creditLimit === undefined ? undefined : m(t.creditLimit),
      };
    });
}
