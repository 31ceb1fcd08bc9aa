import type { DynamoStore } from '../adapters/dynamodb.ts';
import type { IsoDate } from '../core/dates.ts';
import { formatMinor } from '../core/money.ts';
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

export interface CustomerFile {
  customer?: Customer | undefined;
  statement: Statement;
  financials: FinancialStatement[];
  line: CustomerLine;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
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

  /** The receivables table: every customer as of `asOf`, largest overdue first. */
  async customers(asOf: IsoDate): Promise<CustomerLine[]> {
    const ids = await this.store.listCustomerIds();
    const files = await mapLimit(ids, 16, (id) => this.customer(id, asOf));
    const lines = files.filter((f): f is CustomerFile => f !== undefined).map((f) => f.line);
    return lines.sort(
      (a, b) =>
        Number(b.overdueAmount) - Number(a.overdueAmount) ||
        Number(b.openAmount) - Number(a.openAmount) ||
        (a.customerId < b.customerId ? -1 : 1),
    );
  }

  runs(limit = 50): Promise<IngestRun[]> {
    return this.store.listRuns(limit);
  }

  run(runId: string): Promise<{ run: IngestRun; rejects: RejectRecord[] } | undefined> {
    return this.store.getRun(runId);
  }
}
