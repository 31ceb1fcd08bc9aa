import { minorDigits } from '../core/currencies.ts';
import type { IsoDate } from '../core/dates.ts';
import { type RatesOf, type RateUsed, rateAsOf } from '../core/fx.ts';
import { convertMinorRatio, formatMinor } from '../core/money.ts';
import { AGING_BUCKETS, type AgingBucket, type ReceivableSummary } from '../core/receivables.ts';
import type { Customer } from '../core/records.ts';

/**
 * The customers list: one row per customer from its stored summary, master data and latest
 * assessment, searched, filtered, sorted and paged in memory. Pure: the read model that holds the
 * rows lives in `queries.ts`.
 */

export const RATING_VALUES = ['A', 'B', 'C', 'D', 'E'] as const;
export const RISK_VALUES = ['low', 'medium', 'high'] as const;
export const PAGE_SIZES = [50, 100, 200] as const;
export const DEFAULT_PAGE_SIZE = 200;

/** The columns a list can be sorted by (each shown column). */
export const SORT_KEYS = [
  'id',
  'name',
  'currency',
  'open',
  'overdue',
  ...AGING_BUCKETS,
  'openInvoices',
  'maxDaysPastDue',
  'avgDaysLate',
  'unapplied',
  'limit',
  'limitUse',
  'score',
  'rating',
  'risk',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface CustomerQuery {
  /** Case-insensitive substring of the id or the name. */
  readonly q?: string | undefined;
  readonly rating?: (typeof RATING_VALUES)[number] | undefined;
  readonly risk?: (typeof RISK_VALUES)[number] | undefined;
  readonly currency?: string | undefined;
  readonly overdue?: boolean | undefined;
  readonly overLimit?: boolean | undefined;
  readonly hideZero?: boolean | undefined;
  /** undefined: largest overdue first (then largest open, then id). */
  readonly sort?: SortKey | undefined;
  readonly dir?: 'asc' | 'desc' | undefined;
  /** undefined: every row on one page (the JSON and the CLI without paging). */
  readonly size?: number | undefined;
  readonly page?: number | undefined;
  /** The currency the book's totals are converted into. */
  readonly report?: string | undefined;
}

/** One customer of the list, amounts in minor units of `summary.currency`. */
export interface ListRow {
  readonly customerId: string;
  readonly summary: ReceivableSummary;
  readonly customer?: Customer | undefined;
  /** Open receivables less unapplied cash (never below 0), as the credit limit is used. */
  readonly exposure: number;
  /** The credit limit in the summary's currency; undefined without one (or in another currency). */
  readonly limit?: number | undefined;
  /** exposure / limit in percent; undefined without a limit; null when the limit is 0 and something is owed. */
  readonly limitUse?: number | null | undefined;
  readonly score?: number | undefined;
  readonly rating?: string | undefined;
  readonly riskClass?: string | undefined;
  readonly assessedOn?: IsoDate | undefined;
  /** Lower-case id and name, searched by `q`. */
  readonly haystack: string;
}

export function rowOf(
  summary: ReceivableSummary,
  customer: Customer | undefined,
  assessment: { score: number; rating: string; riskClass: string; asOf: IsoDate } | undefined,
): ListRow {
  const exposure = Math.max(0, summary.openAmount - summary.unappliedCash);
  const limit =
    customer?.creditLimit !== undefined && (customer.currency ?? summary.currency) === summary.currency
      ? customer.creditLimit
      : undefined;
  const limitUse =
    limit === undefined ? undefined : limit > 0 ? (exposure / limit) * 100 : exposure > 0 ? null : 0;
  return {
    customerId: summary.customerId,
    summary,
    customer,
    exposure,
    limit,
    limitUse,
    score: assessment?.score,
    rating: assessment?.rating,
    riskClass: assessment?.riskClass,
    assessedOn: assessment?.asOf,
    haystack: `${summary.customerId}\u0000${customer?.name ?? ''}`.toLowerCase(),
  };
}

/** Whether a row is over its limit: exposure above the limit (any exposure on a limit of 0). */
export const overLimit = (r: ListRow) => r.limit !== undefined && r.exposure > r.limit;

export function matches(r: ListRow, q: CustomerQuery): boolean {
  if (q.q && !r.haystack.includes(q.q.toLowerCase())) return false;
  if (q.rating && r.rating !== q.rating) return false;
  if (q.risk && r.riskClass !== q.risk) return false;
  if (q.currency && r.summary.currency !== q.currency) return false;
  if (q.overdue && !(r.summary.overdueAmount > 0)) return false;
  if (q.overLimit && !overLimit(r)) return false;
  if (q.hideZero && r.summary.openAmount === 0 && r.summary.unappliedCash === 0) return false;
  return true;
}

const major = (minor: number, currency: string) => minor / 10 ** (minorDigits(currency) ?? 2);

/**
 * The value a column sorts by: text for id, name, currency, rating and risk class; numbers for the
 * rest. Amounts compare as numbers of their own currency's major units (filter one currency to
 * compare like with like). Missing values (no name, no score...) sort last in either direction.
 */
function sortValue(r: ListRow, key: SortKey): string | number | undefined {
  const s = r.summary;
  const m = (n: number) => major(n, s.currency);
  switch (key) {
    case 'id':
      return r.customerId;
    case 'name':
      return r.customer?.name?.toLowerCase();
    case 'currency':
      return s.currency;
    case 'open':
      return m(s.openAmount);
    case 'overdue':
      return m(s.overdueAmount);
    case 'openInvoices':
      return s.openInvoices;
    case 'maxDaysPastDue':
      return s.maxDaysPastDue;
    case 'avgDaysLate':
      return s.avgDaysLate ?? undefined;
    case 'unapplied':
      return m(s.unappliedCash);
    case 'limit':
      return r.limit === undefined ? undefined : m(r.limit);
    case 'limitUse':
      return r.limitUse === undefined ? undefined : (r.limitUse ?? Number.POSITIVE_INFINITY);
    case 'score':
      return r.score;
    case 'rating':
      return r.rating;
    case 'risk':
      return r.riskClass === undefined ? undefined : RISK_VALUES.indexOf(r.riskClass as 'low');
    default:
      return m(s.aging[key as AgingBucket]);
  }
}

const byId = (a: ListRow, b: ListRow) =>
  a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0;

/** The default order: largest overdue first, then largest open, then id. */
export function defaultOrder(a: ListRow, b: ListRow): number {
  return (
    major(b.summary.overdueAmount, b.summary.currency) - major(a.summary.overdueAmount, a.summary.currency) ||
    major(b.summary.openAmount, b.summary.currency) - major(a.summary.openAmount, a.summary.currency) ||
    byId(a, b)
  );
}

export function sortRows(
  rows: ListRow[],
  sort: SortKey | undefined,
  dir: 'asc' | 'desc' | undefined,
): ListRow[] {
  if (sort === undefined) return rows.sort(defaultOrder);
  const sign = (dir ?? 'asc') === 'asc' ? 1 : -1;
  const keyed = rows.map((r) => ({ r, v: sortValue(r, sort) }));
  keyed.sort((a, b) => {
    if (a.v === undefined || b.v === undefined)
      return a.v === b.v ? byId(a.r, b.r) : a.v === undefined ? 1 : -1;
    const c = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
    return c !== 0 ? sign * c : byId(a.r, b.r);
  });
  return keyed.map((k) => k.r);
}

/** How the list is ordered, in words ("largest overdue first", "by score, descending"). */
export function orderWords(sort: SortKey | undefined, dir: 'asc' | 'desc' | undefined): string {
  if (sort === undefined) return 'largest overdue first';
  return `by ${SORT_LABELS[sort].toLowerCase()}, ${(dir ?? 'asc') === 'asc' ? 'ascending' : 'descending'}`;
}

export const SORT_LABELS: Record<SortKey, string> = {
  id: 'Customer',
  name: 'Name',
  currency: 'Currency',
  open: 'Open',
  overdue: 'Overdue',
  notDue: 'Not due',
  d1_30: '1–30',
  d31_60: '31–60',
  d61_90: '61–90',
  d91_180: '91–180',
  over180: '180+',
  openInvoices: 'Open invoices',
  maxDaysPastDue: 'Max days past due',
  avgDaysLate: 'Avg days late',
  unapplied: 'Unapplied cash',
  limit: 'Credit limit',
  limitUse: 'Limit use',
  score: 'Score',
  rating: 'Rating',
  risk: 'Risk class',
};

// ---------------------------------------------------------------------------------------------
// Book totals in one reporting currency

/** One currency's open and overdue totals and their conversion into the reporting currency. */
export interface ConvertedTotal {
  readonly currency: string;
  readonly customers: number;
  readonly open: number;
  readonly overdue: number;
  readonly exposure: number;
  /** The rate used ("EUR/USD 1.0850 of 2025-03-28"), or undefined for the reporting currency itself. */
  readonly rate?: RateUsed | undefined;
  /** In the reporting currency; undefined when no rate is on file (listed apart, never dropped). */
  readonly converted?:
    | { readonly open: number; readonly overdue: number; readonly exposure: number }
    | undefined;
}

export interface BookTotals {
  readonly report: string;
  readonly asOf: IsoDate;
  readonly byCurrency: readonly ConvertedTotal[];
  /** The sum of the converted totals; the currencies without a rate are not in it. */
  readonly total: { readonly open: number; readonly overdue: number; readonly exposure: number };
  readonly unconverted: readonly string[];
}

/**
 * The rows' open, overdue and exposure per currency, each converted into `report` with the latest
 * rate on file dated on or before `asOf` (the direct pair, else the inverse, else a cross rate
 * through a pivot: functions/core/fx.ts), rounded once per
 * currency. `rates(from, to)` gives the stored rates of one pair.
 */
export function bookTotals(
  rows: readonly ListRow[],
  report: string,
  asOf: IsoDate,
  rates: RatesOf,
): BookTotals {
  const acc = new Map<string, { customers: number; open: number; overdue: number; exposure: number }>();
  for (const r of rows) {
    const c = r.summary.currency;
    const t = acc.get(c) ?? { customers: 0, open: 0, overdue: 0, exposure: 0 };
    t.customers++;
    t.open += r.summary.openAmount;
    t.overdue += r.summary.overdueAmount;
    t.exposure += r.exposure;
    acc.set(c, t);
  }
  const byCurrency: ConvertedTotal[] = [];
  const total = { open: 0, overdue: 0, exposure: 0 };
  const unconverted: string[] = [];
  for (const [currency, t] of [...acc].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (currency === report) {
      byCurrency.push({
        currency,
        ...t,
        converted: { open: t.open, overdue: t.overdue, exposure: t.exposure },
      });
      total.open += t.open;
      total.overdue += t.overdue;
      total.exposure += t.exposure;
      continue;
    }
    const rate = rateAsOf(rates, currency, report, asOf);
    if (!rate) {
      byCurrency.push({ currency, ...t });
      unconverted.push(currency);
      continue;
    }
    const conv = (n: number) => convertMinorRatio(n, currency, report, rate.ratio);
    const converted = { open: conv(t.open), overdue: conv(t.overdue), exposure: conv(t.exposure) };
    total.open += converted.open;
    total.overdue += converted.overdue;
    total.exposure += converted.exposure;
    byCurrency.push({
      currency,
      ...t,
      rate: rate.used,
      converted,
    });
  }
  return { report, asOf, byCurrency, total, unconverted };
}

// ---------------------------------------------------------------------------------------------
// CSV

/**
 * A CSV cell that a spreadsheet will not run as a formula: text starting with = + - @, a tab or a
 * carriage return gets a leading apostrophe (OWASP "CSV injection"). A plain decimal number
 * ("-12.50") is left as it is: it is a number, not a formula. Quoted when it holds a comma, a quote
 * or a line break.
 */
export function csvCell(v: string | number | null | undefined): string {
  if (v === undefined || v === null) return '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = [
  'customer_id',
  'name',
  'currency',
  'open',
  'overdue',
  ...AGING_BUCKETS.map((b) => `aging_${b}`),
  'open_invoices',
  'max_days_past_due',
  'avg_days_late',
  'unapplied_cash',
  'credit_limit',
  'exposure',
  'limit_use_pct',
  'score',
  'rating',
  'risk_class',
  'assessed_on',
];

/** The rows as CSV, in the order given: amounts as plain decimals of the currency column. */
export function customersCsv(rows: readonly ListRow[]): string {
  const out = [CSV_HEADER.join(',')];
  for (const r of rows) {
    const s = r.summary;
    const m = (n: number) => formatMinor(n, s.currency);
    out.push(
      [
        r.customerId,
        r.customer?.name,
        s.currency,
        m(s.openAmount),
        m(s.overdueAmount),
        ...AGING_BUCKETS.map((b) => m(s.aging[b])),
        s.openInvoices,
        s.maxDaysPastDue,
        s.avgDaysLate,
        m(s.unappliedCash),
        r.limit === undefined ? undefined : m(r.limit),
        m(r.exposure),
        r.limitUse === undefined ? undefined : r.limitUse === null ? 'no limit (0)' : r.limitUse.toFixed(1),
        r.score,
        r.rating,
        r.riskClass,
        r.assessedOn,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${out.join('\r\n')}\r\n`;
}
