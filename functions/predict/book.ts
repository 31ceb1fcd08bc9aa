import { mapLimit } from '../core/concurrency.ts';
import { addDays, daysBetween, type IsoDate } from '../core/dates.ts';
import { type RatesOf, type RateUsed, rateAsOf, readRates } from '../core/fx.ts';
import { convertMinorRatio } from '../core/money.ts';
import { statementAsOf } from '../core/receivables.ts';
import type { FxRate, Invoice, Payment } from '../core/records.ts';
import {
  type InvoiceRecord,
  isOpenOn,
  knownAsOf,
  type Prediction,
  predictSettlement,
  type Segment,
  segmentAsOf,
} from './model.ts';

/**
 * The predictions of the stored books as of a date (issue 19 items 1 and 2; README "Predicted
 * payment dates"): each open invoice's expected settlement date, its P10-P90 interval and reason,
 * a customer's expected cash in the next 7, 30 and 90 days, and the book's 13-week cash-in
 * forecast per currency and in a reporting currency. Everything is read as the books stood at the
 * end of the date: the statement as of the date (invoices issued and payments received by then)
 * and then `knownAsOf`, so no later payment, settlement or invoice is ever read. Amounts are minor
 * units of their own currency; the open amount (what is still unpaid) is what is expected.
 */

/** A customer's stored books, as the store gives them. */
export interface StoredBooks {
  readonly customer?: { readonly currency?: string | undefined } | undefined;
  readonly invoices: readonly Invoice[];
  readonly payments: readonly Payment[];
}

/** What the predictions read from the store. */
export interface PredictStore {
  listCustomerIds(): Promise<string[]>;
  loadCustomerPartition(customerId: string): Promise<{ readonly books: StoredBooks }>;
  getFxRates(base: string, quote: string): Promise<FxRate[]>;
}

/** One customer's books as the model reads them, as of a date. */
export interface CustomerRecords {
  readonly customerId: string;
  /** The customer's credit currency (the statement's). */
  readonly currency: string;
  /** Its invoices as known on the date (`knownAsOf`); an open one's `amount` is what is still open. */
  readonly invoices: readonly InvoiceRecord[];
}

/**
 * A customer's invoices as known on `asOf`, from its stored books: the statement as of the date
 * gives each invoice's settlement date (the product's own allocation) and what is still open.
 */
export function recordsAsOf(customerId: string, books: StoredBooks, asOf: IsoDate): CustomerRecords {
  const st = statementAsOf(
    { customerId, currency: books.customer?.currency, invoices: books.invoices, payments: books.payments },
    asOf,
  );
  const channels = new Map<string, string>();
  for (const inv of books.invoices) if (inv.channel !== undefined) channels.set(inv.invoiceId, inv.channel);
  const invoices: InvoiceRecord[] = [];
  for (const s of st.invoices) {
    const settled = s.open === 0 && s.settledDate !== undefined;
    // A fully settled invoice's amount does not matter to the model; an open one's is what is left.
    invoices.push({
      customerId,
      invoiceId: s.invoiceId,
      issueDate: s.issueDate,
      dueDate: s.dueDate,
      amount: settled ? s.amount : s.open,
      currency: s.currency,
      settledDate: settled ? s.settledDate : undefined,
      channel: channels.get(s.invoiceId),
    });
  }
  return { customerId, currency: st.summary.currency, invoices: knownAsOf(invoices, asOf) };
}

/** One open invoice's prediction and what is expected of it. */
export interface InvoicePrediction extends Prediction {
  readonly currency: string;
  readonly dueDate: IsoDate;
  /** What is still open: the amount expected. */
  readonly open: number;
}

/** Open amounts expected (by their expected date) within 7, 30 and 90 days after the date, one currency. */
export interface ExpectedCash {
  readonly currency: string;
  readonly in7: number;
  readonly in30: number;
  readonly in90: number;
  /** All that is open in the currency, for scale. */
  readonly openTotal: number;
}

export interface CustomerPredictions {
  readonly customerId: string;
  readonly asOf: IsoDate;
  /** Whether the segment (every customer's history) was read: false when only the customer's own was. */
  readonly segment: boolean;
  /** The open invoices, earliest expected first. */
  readonly invoices: readonly InvoicePrediction[];
  /** Per currency of its open invoices, sorted by currency. */
  readonly expectedCash: readonly ExpectedCash[];
}

export const CASH_HORIZONS = [7, 30, 90] as const;

/**
 * A customer's open invoices' predictions as of `asOf`: from its own history, and the segment's
 * when `segment` (made once for the date by `segmentAsOf`) is given.
 */
export function predictCustomer(
  records: CustomerRecords,
  asOf: IsoDate,
  segment?: Segment,
): CustomerPredictions {
  const history = knownAsOf(records.invoices, asOf);
  const out: InvoicePrediction[] = [];
  for (const inv of history) {
    if (!isOpenOn(inv, asOf) || inv.amount <= 0) continue;
    const p = predictSettlement(inv, asOf, history, segment);
    out.push({
      invoiceId: inv.invoiceId,
      currency: inv.currency,
      dueDate: inv.dueDate,
      open: inv.amount,
      expected: p.expected,
      p10: p.p10,
      p90: p.p90,
      basis: p.basis,
      settledCount: p.settledCount,
      reason: p.reason,
    });
  }
  out.sort((a, b) =>
    a.expected !== b.expected
      ? a.expected < b.expected
        ? -1
        : 1
      : a.invoiceId < b.invoiceId
        ? -1
        : a.invoiceId > b.invoiceId
          ? 1
          : 0,
  );
  return {
    customerId: records.customerId,
    asOf,
    segment: segment !== undefined,
    invoices: out,
    expectedCash: expectedCash(out, asOf),
  };
}

/** Per currency: the open amounts whose expected date falls within 7, 30 and 90 days after `asOf`. */
export function expectedCash(predictions: readonly InvoicePrediction[], asOf: IsoDate): ExpectedCash[] {
  const acc = new Map<string, { in7: number; in30: number; in90: number; openTotal: number }>();
  for (const p of predictions) {
    const t = acc.get(p.currency) ?? { in7: 0, in30: 0, in90: 0, openTotal: 0 };
    const d = daysBetween(asOf, p.expected);
    if (d <= 7) t.in7 += p.open;
    if (d <= 30) t.in30 += p.open;
    if (d <= 90) t.in90 += p.open;
    t.openTotal += p.open;
    acc.set(p.currency, t);
  }
  return [...acc].sort(([a], [b]) => (a < b ? -1 : 1)).map(([currency, t]) => ({ currency, ...t }));
}

/** Every customer's records as of `asOf`, read once each from the store, 8 at a time, in id order. */
export async function bookRecords(store: PredictStore, asOf: IsoDate): Promise<CustomerRecords[]> {
  const ids = (await store.listCustomerIds()).sort();
  return mapLimit(ids, 8, async (id) => recordsAsOf(id, (await store.loadCustomerPartition(id)).books, asOf));
}

/** The segment as of `asOf` over the book's records: every customer's history, once. */
export function segmentOf(book: readonly CustomerRecords[], asOf: IsoDate): Segment {
  return segmentAsOf(
    book.flatMap((c) => c.invoices),
    asOf,
  );
}

export interface BookPredictions {
  readonly asOf: IsoDate;
  readonly customers: readonly CustomerPredictions[];
  /** The currency most customers are in (the customers list's default reporting currency). */
  readonly mainCurrency: string;
}

/** Every customer's predictions as of `asOf`, the segment computed once over the same read. */
export async function predictBook(store: PredictStore, asOf: IsoDate): Promise<BookPredictions> {
  const book = await bookRecords(store, asOf);
  return predictRecords(book, asOf);
}

export function predictRecords(book: readonly CustomerRecords[], asOf: IsoDate): BookPredictions {
  const segment = segmentOf(book, asOf);
  const counts = new Map<string, number>();
  for (const c of book) counts.set(c.currency, (counts.get(c.currency) ?? 0) + 1);
  const mainCurrency = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0]?.[0] ?? 'EUR';
  return {
    asOf,
    customers: book.map((c) => predictCustomer(c, asOf, segment)),
    mainCurrency,
  };
}

// ---------------------------------------------------------------------------------------------
// The 13-week cash-in forecast

export const FORECAST_WEEKS = 13;

/** One week's receipts in one currency, minor units. */
export interface WeekFigures {
  /** The open amounts expected in the week (by their expected date). */
  readonly expected: number;
  /** The week's total if every open invoice came on its P10 date. */
  readonly atP10: number;
  /** The week's total if every open invoice came on its P90 date. */
  readonly atP90: number;
  /** The band: the smallest of expected, atP10 and atP90. */
  readonly low: number;
  /** The band: the largest of the three. */
  readonly high: number;
}

export interface ForecastWeek {
  /** 1..13 */
  readonly week: number;
  /** The first and last day of the week: week 1 is the 7 days after the as-of date. */
  readonly from: IsoDate;
  readonly to: IsoDate;
  /** Per currency, sorted by currency; each currency of the book in every week (zeros included). */
  readonly byCurrency: readonly (WeekFigures & { readonly currency: string })[];
  /** In the reporting currency: the currencies with a rate (and the reporting currency itself). */
  readonly converted: WeekFigures;
}

export interface ForecastCurrency {
  readonly currency: string;
  /** The rate used; absent for the reporting currency itself and for a currency with no rate. */
  readonly rate?: RateUsed | undefined;
  /** False when no rate was on file by the date: left out of every converted figure. */
  readonly converted: boolean;
  /** The 13 weeks' expected receipts in the currency (its own minor units). */
  readonly expected: number;
  /** Open invoices of the currency expected within the 13 weeks. */
  readonly invoices: number;
}

export interface CashForecast {
  readonly asOf: IsoDate;
  readonly report: string;
  readonly weeks: readonly ForecastWeek[];
  readonly currencies: readonly ForecastCurrency[];
  /** Currencies with no rate on file by the date: not in the converted figures. */
  readonly unconverted: readonly string[];
  /** The 13 weeks' totals in the reporting currency (converted currencies only). */
  readonly total: WeekFigures;
  /** Open invoices expected after the 13 weeks (by their expected date), per currency: not in any week. */
  readonly later: readonly { readonly currency: string; readonly open: number; readonly invoices: number }[];
  /**
   * Overdue invoices nothing places (no settled invoice of the customer or the segment went as
   * long past due: the model could only say "tomorrow"), per currency: not in any week. Money
   * without a precedent for coming in is not counted on for next week.
   */
  readonly unplaced: readonly {
    readonly currency: string;
    readonly open: number;
    readonly invoices: number;
  }[];
  /** Customers and open invoices read. */
  readonly customers: number;
  readonly openInvoices: number;
}

/** The week (0-based) `date` falls in after `asOf`, or -1 outside the 13 weeks. */
function weekOf(asOf: IsoDate, date: IsoDate): number {
  const d = daysBetween(asOf, date);
  if (d < 1) return -1;
  const w = Math.floor((d - 1) / 7);
  return w < FORECAST_WEEKS ? w : -1;
}

const band = (expected: number, atP10: number, atP90: number): WeekFigures => ({
  expected,
  atP10,
  atP90,
  low: Math.min(expected, atP10, atP90),
  high: Math.max(expected, atP10, atP90),
});

/**
 * The expected receipts per week for the 13 weeks after `asOf` (week 1: days 1-7 after it), per
 * currency and in `report`: each currency's weekly figures converted once with the latest rate on
 * file dated on or before `asOf` (the pair, its inverse or a cross rate: functions/core/fx.ts); a
 * currency with no rate is left out
 * of the converted figures and listed in `unconverted`, never guessed.
 */
export function cashForecast(predictions: BookPredictions, report: string, rates: RatesOf): CashForecast {
  const asOf = predictions.asOf;
  type Acc = { expected: number[]; atP10: number[]; atP90: number[]; inWeeks: number };
  const acc = new Map<string, Acc>();
  const later = new Map<string, { open: number; invoices: number }>();
  const unplaced = new Map<string, { open: number; invoices: number }>();
  const put = (arr: number[], date: IsoDate, amount: number) => {
    const w = weekOf(asOf, date);
    if (w >= 0) arr[w] = (arr[w] as number) + amount;
  };
  let openInvoices = 0;
  for (const c of predictions.customers)
    for (const p of c.invoices) {
      openInvoices++;
      const a = acc.get(p.currency) ?? {
        expected: new Array<number>(FORECAST_WEEKS).fill(0),
        atP10: new Array<number>(FORECAST_WEEKS).fill(0),
        atP90: new Array<number>(FORECAST_WEEKS).fill(0),
        inWeeks: 0,
      };
      acc.set(p.currency, a);
      if (p.basis === 'terms' && p.dueDate < asOf) {
        const u = unplaced.get(p.currency) ?? { open: 0, invoices: 0 };
        u.open += p.open;
        u.invoices++;
        unplaced.set(p.currency, u);
        continue;
      }
      put(a.expected, p.expected, p.open);
      put(a.atP10, p.p10, p.open);
      put(a.atP90, p.p90, p.open);
      if (weekOf(asOf, p.expected) >= 0) a.inWeeks++;
      else {
        const l = later.get(p.currency) ?? { open: 0, invoices: 0 };
        l.open += p.open;
        l.invoices++;
        later.set(p.currency, l);
      }
    }
  const currencies: ForecastCurrency[] = [];
  const unconverted: string[] = [];
  const conv = new Map<string, (n: number) => number>();
  for (const [currency, a] of [...acc].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const expected = a.expected.reduce((s, n) => s + n, 0);
    if (currency === report) {
      conv.set(currency, (n) => n);
      currencies.push({ currency, converted: true, expected, invoices: a.inWeeks });
      continue;
    }
    const r = rateAsOf(rates, currency, report, asOf);
    if (!r) {
      unconverted.push(currency);
      currencies.push({ currency, converted: false, expected, invoices: a.inWeeks });
      continue;
    }
    conv.set(currency, (n) => convertMinorRatio(n, currency, report, r.ratio));
    currencies.push({ currency, rate: r.used, converted: true, expected, invoices: a.inWeeks });
  }
  const weeks: ForecastWeek[] = [];
  const total = { expected: 0, atP10: 0, atP90: 0 };
  for (let w = 0; w < FORECAST_WEEKS; w++) {
    const byCurrency = [...acc]
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([currency, a]) => ({
        currency,
        ...band(a.expected[w] as number, a.atP10[w] as number, a.atP90[w] as number),
      }));
    const sum = { expected: 0, atP10: 0, atP90: 0 };
    for (const f of byCurrency) {
      const c = conv.get(f.currency);
      if (!c) continue;
      sum.expected += c(f.expected);
      sum.atP10 += c(f.atP10);
      sum.atP90 += c(f.atP90);
    }
    total.expected += sum.expected;
    total.atP10 += sum.atP10;
    total.atP90 += sum.atP90;
    weeks.push({
      week: w + 1,
      from: addDays(asOf, 7 * w + 1),
      to: addDays(asOf, 7 * w + 7),
      byCurrency,
      converted: band(sum.expected, sum.atP10, sum.atP90),
    });
  }
  return {
    asOf,
    report,
    weeks,
    currencies,
    unconverted,
    total: band(total.expected, total.atP10, total.atP90),
    later: [...later].sort(([x], [y]) => (x < y ? -1 : 1)).map(([currency, l]) => ({ currency, ...l })),
    unplaced: [...unplaced].sort(([x], [y]) => (x < y ? -1 : 1)).map(([currency, u]) => ({ currency, ...u })),
    customers: predictions.customers.length,
    openInvoices,
  };
}

/** One week of a past forecast beside what came in (README "The cash-in forecast", "Against what came in"). */
export interface WeekActual {
  readonly week: number;
  /** The week had ended by the day the books were read: only ended weeks are compared. */
  readonly ended: boolean;
  /**
   * Per currency of the forecast: the open amounts (as of the forecast's date) of the invoices
   * settled in full within the week, and the same invoices' amounts by their due date (the "sum of
   * due dates" forecast: each on its due date, or the day after the forecast's once due).
   */
  readonly byCurrency: readonly {
    readonly currency: string;
    readonly cameIn: number;
    readonly byDueDate: number;
  }[];
  /** Both in the reporting currency, at the forecast's rates (its converted currencies only). */
  readonly cameIn: number;
  readonly byDueDate: number;
}

export interface ForecastActual {
  /** The day the books were read (today): settlements after it are not known yet. */
  readonly readOn: IsoDate;
  readonly weeks: readonly WeekActual[];
  /** Ended weeks compared. */
  readonly endedWeeks: number;
  /** Over the ended weeks, in the reporting currency: the mean absolute difference from what came in. */
  readonly meanAbsError?: { readonly model: number; readonly dueDates: number } | undefined;
}

/**
 * A forecast made as of a past day against what then came in (the treasurer's check on it): each
 * invoice open on the forecast's day counts its open amount in the week it was settled in full, as
 * the books read on `readOn` show it (`now`: every customer's records as of that day); a payment
 * in part counts when the invoice is settled. Beside it, the same invoices by their due dates. The
 * weeks ended by `readOn` are compared; currencies convert at the forecast's own rates (`rates`,
 * as of its day), once per currency and week.
 */
export function forecastActual(
  forecast: CashForecast,
  predictions: BookPredictions,
  now: readonly CustomerRecords[],
  readOn: IsoDate,
  rates: RatesOf,
): ForecastActual {
  const asOf = forecast.asOf;
  const settled = new Map<string, Map<string, IsoDate | undefined>>();
  for (const c of now)
    settled.set(c.customerId, new Map(c.invoices.map((i) => [i.invoiceId, i.settledDate])));
  const zero = () => new Array<number>(FORECAST_WEEKS).fill(0);
  const acc = new Map<string, { cameIn: number[]; byDueDate: number[] }>();
  for (const c of predictions.customers)
    for (const p of c.invoices) {
      const a = acc.get(p.currency) ?? { cameIn: zero(), byDueDate: zero() };
      acc.set(p.currency, a);
      const on = settled.get(c.customerId)?.get(p.invoiceId);
      const w = on !== undefined && on <= readOn ? weekOf(asOf, on) : -1;
      if (w >= 0) a.cameIn[w] = (a.cameIn[w] as number) + p.open;
      // Already due on the forecast's day: the day after, week 1.
      const d = p.dueDate <= asOf ? 0 : weekOf(asOf, p.dueDate);
      if (d >= 0) a.byDueDate[d] = (a.byDueDate[d] as number) + p.open;
    }
  const conv = new Map<string, (n: number) => number>();
  for (const currency of acc.keys()) {
    if (currency === forecast.report) conv.set(currency, (n) => n);
    else {
      const r = rateAsOf(rates, currency, forecast.report, asOf);
      if (r) conv.set(currency, (n) => convertMinorRatio(n, currency, forecast.report, r.ratio));
    }
  }
  const weeks: WeekActual[] = forecast.weeks.map((fw, w) => {
    const byCurrency = [...acc]
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([currency, a]) => ({
        currency,
        cameIn: a.cameIn[w] as number,
        byDueDate: a.byDueDate[w] as number,
      }));
    let cameIn = 0;
    let byDueDate = 0;
    for (const f of byCurrency) {
      const c = conv.get(f.currency);
      if (!c) continue;
      cameIn += c(f.cameIn);
      byDueDate += c(f.byDueDate);
    }
    return { week: fw.week, ended: fw.to <= readOn, byCurrency, cameIn, byDueDate };
  });
  const ended = weeks.filter((w) => w.ended);
  const mean = (f: (w: WeekActual) => number) => ended.reduce((t, w) => t + f(w), 0) / ended.length;
  return {
    readOn,
    weeks,
    endedWeeks: ended.length,
    meanAbsError:
      ended.length === 0
        ? undefined
        : {
            model: Math.round(
              mean((w) =>
                Math.abs((forecast.weeks[w.week - 1] as ForecastWeek).converted.expected - w.cameIn),
              ),
            ),
            dueDates: Math.round(mean((w) => Math.abs(w.byDueDate - w.cameIn))),
          },
  };
}

/** The stored rates of the book's currencies against `report`, read once each. */
export async function forecastRates(
  store: Pick<PredictStore, 'getFxRates'>,
  predictions: BookPredictions,
  report: string,
): Promise<RatesOf> {
  const currencies = new Set<string>();
  for (const c of predictions.customers) for (const p of c.invoices) currencies.add(p.currency);
  return readRates(currencies, report, (base, quote) => store.getFxRates(base, quote));
}

/** The forecast as CSV: week, from, to, currency, expected, low, high, at P10, at P90 (decimals). */
export function forecastCsv(f: CashForecast, format: (minor: number, currency: string) => string): string {
  const lines = ['week,from,to,currency,expected,low,high,at_p10,at_p90'];
  for (const w of f.weeks) {
    for (const c of w.byCurrency)
      lines.push(
        [
          w.week,
          w.from,
          w.to,
          c.currency,
          ...[c.expected, c.low, c.high, c.atP10, c.atP90].map((n) => format(n, c.currency)),
        ].join(','),
      );
    const t = w.converted;
    lines.push(
      [
        w.week,
        w.from,
        w.to,
        `total in ${f.report}`,
        ...[t.expected, t.low, t.high, t.atP10, t.atP90].map((n) => format(n, f.report)),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Above this many customers, a customer page does not read the whole book for the segment (minutes
 * at 100,000 customers): it predicts from the customer's own history, and says so, unless the
 * book's predictions for the date are already kept (the forecast page made them).
 */
export const SEGMENT_READ_MAX = 5_000;

/**
 * The book's predictions per date, kept while the store's change mark stays the same (the console
 * reads every customer once for a date, then answers the customer pages and the forecast from it).
 */
export class BookPredictionsCache {
  private readonly kept = new Map<string, Promise<BookPredictions>>();

  constructor(
    readonly store: PredictStore & { changeMark?(): Promise<string> },
    private readonly opts: { readonly size?: number; readonly segmentReadMax?: number } = {},
  ) {}

  private async key(asOf: IsoDate): Promise<string> {
    const mark = this.store.changeMark ? await this.store.changeMark() : String(Date.now());
    return `${asOf} ${mark}`;
  }

  async asOf(asOf: IsoDate): Promise<BookPredictions> {
    const key = await this.key(asOf);
    let got = this.kept.get(key);
    if (!got) {
      got = predictBook(this.store, asOf);
      got.catch(() => this.kept.delete(key));
      this.kept.set(key, got);
      while (this.kept.size > (this.opts.size ?? 4))
        this.kept.delete(this.kept.keys().next().value as string);
    }
    return got;
  }

  /**
   * One customer's predictions as of the date: the segment being the whole book's, or, on a book
   * of more than `segmentReadMax` customers whose predictions are not kept yet, its own history only.
   */
  async customer(customerId: string, asOf: IsoDate): Promise<CustomerPredictions | undefined> {
    const kept = this.kept.get(await this.key(asOf));
    if (
      !kept &&
      (await this.store.listCustomerIds()).length > (this.opts.segmentReadMax ?? SEGMENT_READ_MAX)
    ) {
      const { books } = await this.store.loadCustomerPartition(customerId);
      return predictCustomer(recordsAsOf(customerId, books, asOf), asOf);
    }
    return (await (kept ?? this.asOf(asOf))).customers.find((c) => c.customerId === customerId);
  }
}

/** An amount as the API gives it: a plain decimal string in major units (README "Money in the API"). */
type Decimal = (minor: number, currency: string) => string;

/** A customer's predictions with every amount as a decimal string beside its currency. */
export function predictionsJson(p: CustomerPredictions, format: Decimal) {
  return {
    asOf: p.asOf,
    segment: p.segment,
    invoices: p.invoices.map((i) => ({ ...i, open: format(i.open, i.currency) })),
    expectedCash: p.expectedCash.map((c) => ({
      currency: c.currency,
      in7: format(c.in7, c.currency),
      in30: format(c.in30, c.currency),
      in90: format(c.in90, c.currency),
      openTotal: format(c.openTotal, c.currency),
    })),
  };
}

/** The forecast with every amount as a decimal string beside its currency. */
/** A forecast's comparison with what came in, amounts as decimal strings. */
export function forecastActualJson(a: ForecastActual, report: string, format: Decimal) {
  return {
    readOn: a.readOn,
    endedWeeks: a.endedWeeks,
    ...(a.meanAbsError
      ? {
          meanAbsError: {
            currency: report,
            model: format(a.meanAbsError.model, report),
            dueDates: format(a.meanAbsError.dueDates, report),
          },
        }
      : {}),
    weeks: a.weeks.map((w) => ({
      week: w.week,
      ended: w.ended,
      byCurrency: w.byCurrency.map((c) => ({
        currency: c.currency,
        cameIn: format(c.cameIn, c.currency),
        byDueDate: format(c.byDueDate, c.currency),
      })),
      converted: {
        currency: report,
        cameIn: format(w.cameIn, report),
        byDueDate: format(w.byDueDate, report),
      },
    })),
  };
}

export function forecastJson(f: CashForecast, format: Decimal) {
  const figures = (w: WeekFigures, ccy: string) => ({
    expected: format(w.expected, ccy),
    low: format(w.low, ccy),
    high: format(w.high, ccy),
    atP10: format(w.atP10, ccy),
    atP90: format(w.atP90, ccy),
  });
  return {
    asOf: f.asOf,
    reportingCurrency: f.report,
    weeks: f.weeks.map((w) => ({
      week: w.week,
      from: w.from,
      to: w.to,
      byCurrency: w.byCurrency.map((c) => ({ currency: c.currency, ...figures(c, c.currency) })),
      converted: { currency: f.report, ...figures(w.converted, f.report) },
    })),
    total: { currency: f.report, ...figures(f.total, f.report) },
    currencies: f.currencies.map((c) => ({
      currency: c.currency,
      converted: c.converted,
      ...(c.rate ? { rate: c.rate } : {}),
      expected: format(c.expected, c.currency),
      invoices: c.invoices,
    })),
    unconverted: f.unconverted,
    later: f.later.map((l) => ({
      currency: l.currency,
      open: format(l.open, l.currency),
      invoices: l.invoices,
    })),
    unplaced: f.unplaced.map((u) => ({
      currency: u.currency,
      open: format(u.open, u.currency),
      invoices: u.invoices,
    })),
    customers: f.customers,
    openInvoices: f.openInvoices,
  };
}
