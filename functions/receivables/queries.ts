import type { DynamoStore } from '../adapters/dynamodb.ts';
import { disputedOn } from '../collections/disputes.ts';
import { mapLimit } from '../core/concurrency.ts';
import type { IsoDate } from '../core/dates.ts';
import { type RatesOf, readRates } from '../core/fx.ts';
import { formatMinor } from '../core/money.ts';
import type { Page, PageRequest } from '../core/paging.ts';
import {
  AGING_BUCKETS,
  type AgingBucket,
  type ReceivableSummary,
  type Statement,
  statementAsOf,
  undisputedDso,
  withDisputes,
} from '../core/receivables.ts';
import type { Customer, FinancialStatement, FxRate } from '../core/records.ts';
import type { CustomerPartition } from '../credit/ports.ts';
import type { IngestRun, RejectRecord, RunFilter } from '../ingest/ports.ts';
import {
  type BookTotals,
  bookTotals,
  type CustomerQuery,
  type ListRow,
  matches,
  rowOf,
  sortRows,
} from './list.ts';

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
  /** Open less unapplied cash (never below 0), decimal like the amounts (the list only). */
  exposure?: string | undefined;
  /** Exposure / credit limit in percent, one decimal (the list only; null: a limit of 0 with something owed). */
  limitUse?: number | null | undefined;
  /** From the latest stored assessment (the list only; absent before any evaluation). */
  score?: number | undefined;
  rating?: string | undefined;
  riskClass?: string | undefined;
  assessedOn?: string | undefined;
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
  /**
   * The invoices under a dispute open on the day are marked disputed, as the ERP's flag marks them
   * (with the part contested, for a dispute on a line).
   */
  statement: Statement;
  financials: FinancialStatement[];
  line: CustomerLine;
  /**
   * DSO with what is disputed (the summary's `disputedAmount`: of a dispute on a line, its part)
   * left out of the receivables, the sales the same (`undisputedDso`); null without sales, as DSO.
   */
  undisputedDso: number | null;
}

export function lineOf(statement: Statement, customer?: Customer): CustomerLine {
  return lineOfSummary(statement.summary, customer);
}

/** A list row as a line: today's fields plus exposure, limit use and the stored assessment's headline. */
export function lineOfRow(r: ListRow): CustomerLine {
  return {
    ...lineOfSummary(r.summary, r.customer),
    exposure: formatMinor(r.exposure, r.summary.currency),
    limitUse: r.limitUse === undefined || r.limitUse === null ? r.limitUse : Math.round(r.limitUse * 10) / 10,
    score: r.score,
    rating: r.rating,
    riskClass: r.riskClass,
    assessedOn: r.assessedOn,
  };
}

export function lineOfSummary(s: ReceivableSummary, customer?: Customer): CustomerLine {
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
  private readonly readModel: CustomersReadModel;
  /** `slowReadMs`: see SLOW_READ_MS. */
  constructor(
    private readonly store: DynamoStore,
    opts: { readonly slowReadMs?: number } = {},
  ) {
    this.readModel = new CustomersReadModel(
      store,
      (id, asOf) => this.customer(id, asOf),
      Date.now,
      opts.slowReadMs ?? SLOW_READ_MS,
    );
  }

  /** `part`: the customer's partition when the caller has read it already. */
  async customer(
    customerId: string,
    asOf: IsoDate,
    part?: Pick<CustomerPartition, 'books' | 'financials' | 'disputes'>,
  ): Promise<CustomerFile | undefined> {
    const { books, financials, disputes } = part ?? (await this.store.loadCustomerPartition(customerId));
    if (!books.customer && books.invoices.length === 0 && books.payments.length === 0) return undefined;
    // An invoice with a dispute open on the day is disputed, whatever the ERP's flag says (as the
    // collection plan reads it; only the part a dispute on a line names): the statement, its
    // disputed amount and the undisputed DSO agree.
    const statement = withDisputes(
      statementAsOf(
        {
          customerId,
          currency: books.customer?.currency,
          invoices: books.invoices,
          payments: books.payments,
        },
        asOf,
      ),
      disputedOn(disputes, asOf),
    );
    return {
      customer: books.customer,
      statement,
      financials,
      line: lineOf(statement, books.customer),
      undisputedDso: undisputedDso(statement),
    };
  }

  /**
   * The receivables table as of `asOf`: the customers the query selects, in its order, a page of
   * them (every one without `size`), with totals per currency of all that match and the book's
   * totals in one reporting currency. Built from the read model (see `CustomersReadModel`).
   */
  async customers(asOf: IsoDate, query: CustomerQuery & ListOptions = {}): Promise<CustomerList> {
    const at = await this.readModel.rowsAsOf(asOf, query.liveLimit ?? Number.POSITIVE_INFINITY);
    const sorted = at.sorted(query.sort, query.dir);
    const filtering =
      query.q ||
      query.rating ||
      query.risk ||
      query.currency ||
      query.overdue ||
      query.overLimit ||
      query.hideZero;
    // A filter's rows (per order) and its totals (per reporting currency) are kept with the model:
    // paging through a list, or coming back to it, costs a slice.
    const filterKey = JSON.stringify([
      query.q?.toLowerCase(),
      query.rating,
      query.risk,
      query.currency,
      Boolean(query.overdue),
      Boolean(query.overLimit),
      Boolean(query.hideZero),
    ]);
    const matched = at.memo(`rows ${filterKey} ${query.sort ?? ''} ${query.dir ?? ''}`, () =>
      filtering ? sorted.filter((r) => matches(r, query)) : sorted,
    );
    const size = query.size ?? Math.max(matched.length, 1);
    const pages = Math.max(1, Math.ceil(matched.length / size));
    const page = Math.min(Math.max(1, query.page ?? 1), pages);
    const rows = matched.slice((page - 1) * size, page * size);
    const report = query.report ?? at.mainCurrency;
    const rates = await this.readModel.rates(at, report);
    const sums = at.memo(`totals ${filterKey} ${report}`, () => ({
      totals: totalsOfSummaries(matched),
      book: bookTotals(matched, report, asOf, rates),
    }));
    return {
      asOf,
      lines: rows.map(lineOfRow),
      rows,
      matchedRows: matched,
      totals: sums.totals,
      book: sums.book,
      customers: at.rows.length,
      matched: matched.length,
      page,
      pages,
      size,
      from: matched.length === 0 ? 0 : (page - 1) * size + 1,
      currencies: at.currencies,
      basis: this.readModel.refreshing ? { ...at.basis, refreshing: this.readModel.refreshing } : at.basis,
    };
  }

  /** The ingest runs, newest first: every one, or the newest `limit`. */
  runs(limit?: number, filter?: RunFilter): Promise<IngestRun[]> {
    return this.store.listRuns(limit, filter);
  }

  /** A page of the ingest runs (those `filter` selects), newest first, with how many there are. */
  runsPage(req: PageRequest, filter?: RunFilter): Promise<Page<IngestRun>> {
    return this.store.runsPage(req, filter);
  }

  run(runId: string): Promise<{ run: IngestRun; rejects: RejectRecord[] } | undefined> {
    return this.store.getRun(runId);
  }
}

/** Sums the customers per currency exactly, in minor units, from their summaries. */
export function totalsByCurrency(files: readonly CustomerFile[]): CurrencyTotal[] {
  return totalsOfSummaries(files.map((f) => ({ summary: f.statement.summary, customer: f.customer })));
}

/** `totalsByCurrency` of summaries and their master data (the list's rows). */
export function totalsOfSummaries(
  items: readonly { summary: ReceivableSummary; customer?: Customer | undefined }[],
): CurrencyTotal[] {
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
  for (const { summary: s, customer } of items) {
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

/** How the console asks for the list (the CLI and other callers leave it out). */
export interface ListOptions {
  /**
   * At most this many customers whose stored summary is of another date than `asOf` are
   * recomputed from their partitions; above it their stored figures are shown and the basis says so.
   * @default Infinity (every one recomputed: exact, and slow on a large book)
   */
  readonly liveLimit?: number | undefined;
}

/** Where the list's figures come from, said on the page. */
export interface ListBasis {
  /** The stored summaries' dates (distinct, ascending). */
  readonly summaryDates: readonly IsoDate[];
  /** Customers recomputed from their partitions as of the date asked (their summary is of another date). */
  readonly live: number;
  /** Customers shown with their stored summary of another date (more than the live limit differed). */
  readonly stale: number;
  /** When the read model was built from the store, and the change mark it was built at. */
  readonly builtAt: string;
  readonly mark: string;
  /** Set when the store has changed since `builtAt` and is being read again (a slow read). */
  readonly refreshing?: Refreshing | undefined;
  /** Customers with a stored assessment, and the dates of those assessments (oldest, newest). */
  readonly assessed: number;
  readonly assessedFrom?: IsoDate | undefined;
  readonly assessedTo?: IsoDate | undefined;
}

export interface CustomerList extends CustomerTable {
  readonly asOf: IsoDate;
  /** The page's rows (minor units), beside `lines` (their decimal strings). */
  readonly rows: readonly ListRow[];
  /** Every row that matches, in order (the CSV). */
  readonly matchedRows: readonly ListRow[];
  readonly book: BookTotals;
  /** Customers on file, and how many match the query. */
  readonly customers: number;
  readonly matched: number;
  readonly page: number;
  readonly pages: number;
  readonly size: number;
  /** Position of the page's first row among the matches (0 when none match). */
  readonly from: number;
  /** Every currency of the book, for the filter. */
  readonly currencies: readonly string[];
  readonly basis: ListBasis;
}

/** A customer's file as of a date (the live path). */
type FileOf = (customerId: string, asOf: IsoDate) => Promise<CustomerFile | undefined>;

interface Stored {
  readonly summaries: readonly ReceivableSummary[];
  readonly profiles: ReadonlyMap<string, Customer>;
  readonly assessments: ReadonlyMap<
    string,
    { score: number; rating: string; riskClass: string; asOf: IsoDate }
  >;
}

interface AsOfRows {
  readonly rows: readonly ListRow[];
  readonly currencies: readonly string[];
  /** The currency most customers are in (the default reporting currency). */
  readonly mainCurrency: string;
  readonly basis: ListBasis;
  /** The model these rows belong to (its rates are read once). */
  readonly model: { readonly fx: Map<string, Promise<FxRate[]>> };
  sorted(sort: CustomerQuery['sort'], dir: CustomerQuery['dir']): readonly ListRow[];
  /** A value computed once per key for these rows (the last 64 kept). */
  memo<T>(key: string, make: () => T): T;
}

/**
 * A model older than this is read again even when no mark moved (a review's limit change moves
 * none): in the background, the old one answering meanwhile.
 */
// At 100,000 customers a read takes 1.5-3 minutes of the process's time: not more often than this.
export const READ_MODEL_MAX_AGE_MS = 30 * 60_000;

/**
 * A read that took at least this long is not waited for again when the store changes: the list
 * answers from the model it has, saying the store changed and is being read again (at 100,000
 * customers a read takes over a minute; a demo book's, well under this, is waited for).
 */
export const SLOW_READ_MS = 3_000;

/** A list answered from a model the store has moved past, while the fresh one is read. */
export interface Refreshing {
  /** When the change was seen. */
  readonly since: string;
  /** How long the last read took (about as long as this one will). */
  readonly lastReadMs: number;
}

/**
 * The customers list's read model, in the process that serves it: every customer's stored SUMMARY
 * (the summaries' index), PROFILE and ASSESSMENT headline, read once and kept until the store's
 * change mark moves (an ingest started or finished, an evaluation stored assessments) or it is
 * older than `READ_MODEL_MAX_AGE_MS`. Rows for a date are built once per model, and each sort
 * order once per date; a request then only filters and slices.
 */
export class CustomersReadModel {
  private current:
    | {
        mark: string;
        at: number;
        /** How long its read took, once done. */
        readMs?: number;
        stored: Promise<Stored>;
        byAsOf: Map<string, Promise<AsOfRows>>;
        fx: Map<string, Promise<FxRate[]>>;
      }
    | undefined;

  constructor(
    private readonly store: DynamoStore,
    private readonly fileOf: FileOf,
    private readonly now: () => number = Date.now,
    private readonly slowReadMs = SLOW_READ_MS,
  ) {}

  /** Set while the model answering is older than the store (a slow read of the change under way). */
  refreshing: Refreshing | undefined;

  /** How many times the stored items were read (tests: the model is not rebuilt without a change). */
  builds = 0;

  private async model() {
    const mark = await this.store.changeMark();
    const c = this.current;
    if (c && c.mark === mark) {
      // Only old (no mark moved): answer from it while a fresh one is read behind it.
      if (this.now() - c.at >= READ_MODEL_MAX_AGE_MS && !this.refreshing_ && !this.behind) {
        const fresh = this.start(mark);
        this.refreshing_ = fresh.stored.then(
          () => {
            if (this.current === c) this.current = fresh;
          },
          () => {},
        );
        void this.refreshing_.finally(() => {
          this.refreshing_ = undefined;
        });
      }
      return c;
    }
    // A mark moved (an ingest, an evaluation) and the last read was slow: the model there is
    // answers, saying so, while the change is read behind it (one read at a time; a mark that
    // moves again meanwhile is read once that one is done).
    if (c?.readMs !== undefined && c.readMs >= this.slowReadMs) {
      if (!this.behind) {
        this.refreshing = { since: new Date(this.now()).toISOString(), lastReadMs: c.readMs };
        const fresh = this.start(mark);
        this.behind = fresh.stored.then(
          () => {
            if (this.current === c) this.current = fresh;
          },
          () => {},
        );
        void this.behind.finally(() => {
          this.behind = undefined;
          if (this.current !== c) this.refreshing = undefined;
        });
      }
      return c;
    }
    // Else the next answer waits for the data it changed.
    const next = this.start(mark);
    this.current = next;
    return next;
  }

  /** The read behind an old model (its age), if one is under way. */
  private refreshing_: Promise<void> | undefined;
  /** The read behind a model the store moved past, if one is under way. */
  private behind: Promise<void> | undefined;

  /** Resolves once no read behind the answering model is under way (tests). */
  async settled(): Promise<void> {
    while (this.behind || this.refreshing_) await (this.behind ?? this.refreshing_);
  }

  private start(mark: string) {
    this.builds++;
    const stored = this.readStored();
    const next = {
      mark,
      at: this.now(),
      readMs: undefined as number | undefined,
      stored,
      byAsOf: new Map<string, Promise<AsOfRows>>(),
      fx: new Map<string, Promise<FxRate[]>>(),
    };
    const began = this.now();
    stored.then(
      () => {
        next.readMs = this.now() - began;
      },
      () => {
        if (this.current === next) this.current = undefined;
      },
    );
    return next;
  }

  private async readStored(): Promise<Stored> {
    const summaries = await this.store.listSummaryItems();
    const ids = summaries.map((s) => s.customerId);
    const [profiles, heads] = await Promise.all([
      this.store.getCustomers(ids),
      this.store.getAssessmentHeads(ids),
    ]);
    return { summaries, profiles, assessments: heads };
  }

  async rowsAsOf(asOf: IsoDate, liveLimit: number): Promise<AsOfRows> {
    const m = await this.model();
    const key = `${asOf}|${liveLimit}`;
    let found = m.byAsOf.get(key);
    if (!found) {
      found = this.build(m, await m.stored, asOf, liveLimit);
      // Only a few dates are kept per model (a person looks at today and a month end or two).
      if (m.byAsOf.size >= 4) m.byAsOf.delete(m.byAsOf.keys().next().value as string);
      m.byAsOf.set(key, found);
      found.catch(() => m.byAsOf.delete(key));
    }
    return found;
  }

  /** The stored rates of each currency of `at` against `report`, both directions, read once per model. */
  rates(at: AsOfRows, report: string): Promise<RatesOf> {
    const m = at.model;
    return readRates(at.currencies, report, (base, quote) => {
      const k = `${base}/${quote}`;
      let p = m.fx.get(k);
      if (!p) {
        p = this.store.getFxRates(base, quote);
        m.fx.set(k, p);
      }
      return p;
    });
  }

  private async build(
    model: { mark: string; at: number; fx: Map<string, Promise<FxRate[]>> },
    stored: Stored,
    asOf: IsoDate,
    liveLimit: number,
  ): Promise<AsOfRows> {
    const other = stored.summaries.filter((s) => s.asOf !== asOf);
    const recompute = other.length <= liveLimit;
    const live = new Map<string, CustomerFile>();
    if (recompute && other.length > 0)
      for (const f of await mapLimit(other, 16, (s) => this.fileOf(s.customerId, asOf)))
        if (f) live.set(f.statement.summary.customerId, f);
    const rows: ListRow[] = [];
    const counts = new Map<string, number>();
    let assessedFrom: IsoDate | undefined;
    let assessedTo: IsoDate | undefined;
    for (const s of stored.summaries) {
      const f = live.get(s.customerId);
      if (recompute && s.asOf !== asOf && !f) continue; // no books left as of that date
      const a = stored.assessments.get(s.customerId);
      if (a) {
        if (!assessedFrom || a.asOf < assessedFrom) assessedFrom = a.asOf;
        if (!assessedTo || a.asOf > assessedTo) assessedTo = a.asOf;
      }
      const row = f
        ? rowOf(f.statement.summary, f.customer, a)
        : rowOf(s, stored.profiles.get(s.customerId), a);
      rows.push(row);
      counts.set(row.summary.currency, (counts.get(row.summary.currency) ?? 0) + 1);
    }
    const currencies = [...counts.keys()].sort();
    const mainCurrency = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0]?.[0] ?? 'EUR';
    const orders = new Map<string, readonly ListRow[]>();
    const memos = new Map<string, unknown>();
    const { mark, at } = model;
    return {
      model,
      memo<T>(key: string, make: () => T): T {
        if (memos.has(key)) return memos.get(key) as T;
        const v = make();
        if (memos.size >= 64) memos.delete(memos.keys().next().value as string);
        memos.set(key, v);
        return v;
      },
      rows,
      currencies,
      mainCurrency,
      basis: {
        summaryDates: [...new Set(stored.summaries.map((s) => s.asOf))].sort(),
        live: live.size,
        stale: recompute ? 0 : other.length,
        builtAt: new Date(at).toISOString(),
        mark,
        assessed: stored.assessments.size,
        assessedFrom,
        assessedTo,
      },
      sorted(sort, dir) {
        const k = `${sort ?? ''}|${sort === undefined ? '' : (dir ?? 'asc')}`;
        let o = orders.get(k);
        if (!o) {
          o = sortRows([...rows], sort, dir);
          orders.set(k, o);
        }
        return o;
      },
    };
  }
}
