import { addDays, daysBetween, type IsoDate } from '../core/dates.ts';
import {
  DEFAULT_PARAMS,
  type InvoiceRecord,
  isOpenOn,
  type ModelParams,
  predictSettlement,
  segmentAsOf,
} from './model.ts';

/**
 * The leak-free protocol of issue 19 (README "Predicted payment dates"): at each month end, every
 * invoice open that day (issued on or before it, settled after it) has its settlement date
 * predicted from what was known that day (`knownAsOf`: invoices issued and settlements received up
 * to it), then compared with the real settlement date. An invoice never settled in the books is
 * left out (no answer to compare with). Writes nothing.
 *
 * Baselines, each as of the date:
 *  - due: the due date, or tomorrow when the due date is today or past;
 *  - median: the issue date plus the customer's median days-to-settle over its invoices settled so
 *    far (the due-date rule when it has none);
 *  - conditional: the same median over only those of its settled invoices that took longer than
 *    this one has already been open (the due-date rule when there are none).
 * A median of an even count is the mean of the two middle values rounded down to a whole day (a
 * date: issue date + median days); a date already past is taken as tomorrow, as for the due date.
 * These are the choices that reproduce the issue's figures (8.47, 6.09, 5.99): "known" means
 * settled on or before the date, "took longer" means strictly more days than this one's age.
 *
 * The weekly forecast: for each date, the next 13 weeks (days 1-7 after it, 8-14, ...); the
 * predicted receipts of a week are the amounts of the open invoices expected in it, against what
 * those same invoices really brought in that week. "Sum of due dates" expects each on its due date,
 * or tomorrow once due. Invoices issued after the date are in neither side: no forecast of the open
 * book can know them (`weeklyAllReceipts` says how much they add to what came in).
 */

export const PROTOCOL_FROM: IsoDate = '2012-03-31';
export const PROTOCOL_TO: IsoDate = '2013-11-30';
export const WEEKS = 13;

/** The last day of every month from `from`'s month to `to`'s. */
export function monthEnds(from: IsoDate, to: IsoDate): IsoDate[] {
  const out: IsoDate[] = [];
  let y = Number(from.slice(0, 4));
  let m = Number(from.slice(5, 7));
  for (;;) {
    const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
    const end = addDays(next, -1);
    if (end > to) return out;
    if (end >= from) out.push(end);
    m = m === 12 ? 1 : m + 1;
    if (m === 1) y++;
  }
}

export interface Scored {
  readonly count: number;
  /** Mean absolute error, days. */
  readonly mae: number;
}

export interface PredictionRow {
  readonly asOf: IsoDate;
  readonly customerId: string;
  readonly invoiceId: string;
  readonly amount: number;
  readonly actual: IsoDate;
  readonly expected: IsoDate;
  readonly p10: IsoDate;
  readonly p90: IsoDate;
  readonly basis: string;
  readonly dueDate: IsoDate;
  /** Baselines' predictions, days after asOf. */
  readonly dueDays: number;
  readonly medianDays: number;
  readonly conditionalDays: number;
  readonly actualDays: number;
  readonly expectedDays: number;
}

export interface PredictionBacktest {
  readonly dates: readonly IsoDate[];
  readonly params: ModelParams;
  readonly predictions: number;
  readonly baselines: { readonly due: Scored; readonly median: Scored; readonly conditional: Scored };
  readonly model: Scored & {
    /** Share of actual dates inside [P10, P90], both ends included. */
    readonly coverage: number;
    /** Predictions by basis: customer, segment, terms. */
    readonly bases: Readonly<Record<string, number>>;
  };
  /** Mean absolute weekly error over dates x 13 weeks, minor units (single currency books). */
  readonly weekly: {
    readonly weeks: number;
    readonly model: number;
    readonly dueDates: number;
    /** Mean weekly receipts from the open book, for scale. */
    readonly meanActual: number;
    /** Mean weekly receipts including invoices issued after the date. */
    readonly meanAllReceipts: number;
  };
  readonly rows: readonly PredictionRow[];
}

/** The median in whole days: the mean of the two middle values rounded down for an even count. */
export function wholeDayMedian(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1
    ? (s[mid] as number)
    : Math.floor(((s[mid - 1] as number) + (s[mid] as number)) / 2);
}

function byCustomer(invoices: readonly InvoiceRecord[]): Map<string, InvoiceRecord[]> {
  const out = new Map<string, InvoiceRecord[]>();
  for (const inv of invoices) {
    const list = out.get(inv.customerId);
    if (list) list.push(inv);
    else out.set(inv.customerId, [inv]);
  }
  return out;
}

export function backtestPredictions(
  invoices: readonly InvoiceRecord[],
  opts: { dates?: readonly IsoDate[]; params?: ModelParams } = {},
): PredictionBacktest {
  const dates = opts.dates ?? monthEnds(PROTOCOL_FROM, PROTOCOL_TO);
  const params = opts.params ?? DEFAULT_PARAMS;
  const customers = byCustomer(invoices);
  const rows: PredictionRow[] = [];
  let weeklyModel = 0;
  let weeklyDue = 0;
  let weeklyActual = 0;
  let weeklyAll = 0;
  let weekCount = 0;
  for (const asOf of dates) {
    const segment = segmentAsOf(invoices, asOf);
    const known = byCustomer(segment.invoices);
    const dateRows: PredictionRow[] = [];
    for (const [customerId, all] of customers) {
      const history = known.get(customerId) ?? [];
      const settledDays = history
        .filter((h) => h.settledDate !== undefined)
        .map((h) => daysBetween(h.issueDate, h.settledDate as IsoDate));
      const customerMedian = wholeDayMedian(settledDays);
      for (const inv of all) {
        if (!isOpenOn(inv, asOf) || inv.settledDate === undefined) continue;
        const age = daysBetween(inv.issueDate, asOf);
        const dueDays = Math.max(1, daysBetween(asOf, inv.dueDate));
        const fromIssue = (m: number | undefined) => (m === undefined ? dueDays : Math.max(1, m - age));
        const conditional = wholeDayMedian(settledDays.filter((d) => d > age));
        const p = predictSettlement(inv, asOf, history, segment, params);
        dateRows.push({
          asOf,
          customerId,
          invoiceId: inv.invoiceId,
          dueDate: inv.dueDate,
          amount: inv.amount,
          actual: inv.settledDate,
          expected: p.expected,
          p10: p.p10,
          p90: p.p90,
          basis: p.basis,
          dueDays,
          medianDays: fromIssue(customerMedian),
          conditionalDays: fromIssue(conditional),
          actualDays: daysBetween(asOf, inv.settledDate),
          expectedDays: daysBetween(asOf, p.expected),
        });
      }
    }
    rows.push(...dateRows);
    // The next 13 weeks: week k holds days 7k+1 .. 7k+7 after the date.
    const week = (days: number) => Math.floor((days - 1) / 7);
    const model = new Array<number>(WEEKS).fill(0);
    const due = new Array<number>(WEEKS).fill(0);
    const actual = new Array<number>(WEEKS).fill(0);
    const allIn = new Array<number>(WEEKS).fill(0);
    const add = (arr: number[], days: number, amount: number) => {
      const w = week(days);
      if (w >= 0 && w < WEEKS) arr[w] = (arr[w] as number) + amount;
    };
    for (const r of dateRows) {
      // As the product's forecast: an overdue invoice nothing places is in no week (`cashForecast`).
      if (!(r.basis === 'terms' && r.dueDate < asOf)) add(model, r.expectedDays, r.amount);
      add(due, r.dueDays, r.amount);
      add(actual, r.actualDays, r.amount);
    }
    for (const inv of invoices)
      if (inv.settledDate !== undefined && inv.settledDate > asOf)
        add(allIn, daysBetween(asOf, inv.settledDate), inv.amount);
    for (let w = 0; w < WEEKS; w++) {
      weeklyModel += Math.abs((model[w] as number) - (actual[w] as number));
      weeklyDue += Math.abs((due[w] as number) - (actual[w] as number));
      weeklyActual += actual[w] as number;
      weeklyAll += allIn[w] as number;
      weekCount++;
    }
  }
  const mae = (f: (r: PredictionRow) => number): Scored => ({
    count: rows.length,
    mae: rows.length === 0 ? 0 : rows.reduce((s, r) => s + Math.abs(f(r) - r.actualDays), 0) / rows.length,
  });
  const bases: Record<string, number> = {};
  for (const r of rows) bases[r.basis] = (bases[r.basis] ?? 0) + 1;
  const inside = rows.filter((r) => r.p10 <= r.actual && r.actual <= r.p90).length;
  return {
    dates,
    params,
    predictions: rows.length,
    baselines: {
      due: mae((r) => r.dueDays),
      median: mae((r) => r.medianDays),
      conditional: mae((r) => r.conditionalDays),
    },
    model: { ...mae((r) => r.expectedDays), coverage: rows.length === 0 ? 0 : inside / rows.length, bases },
    weekly: {
      weeks: weekCount,
      model: weekCount === 0 ? 0 : weeklyModel / weekCount,
      dueDates: weekCount === 0 ? 0 : weeklyDue / weekCount,
      meanActual: weekCount === 0 ? 0 : weeklyActual / weekCount,
      meanAllReceipts: weekCount === 0 ? 0 : weeklyAll / weekCount,
    },
    rows,
  };
}
