import { addDays, daysBetween, type IsoDate } from '../core/dates.ts';
import type { RatesOf } from '../core/fx.ts';
import type { WorklistScorePolicy } from '../credit/policy.ts';
import { type InvoiceRecord, isOpenOn, knownAsOf } from '../predict/model.ts';
import { scoreOf } from './score.ts';
import { expectedWaits } from './worklist.ts';

/**
 * Does the expected wait put first the money that would not come in by itself? (issue 19 item 3;
 * README "The worklist's score".) On each date, every customer with something overdue is scored
 * as the worklist scores it, from what was known that day only (invoices issued and settlements
 * made by then: `knownAsOf`), once with the policy's score as given and once with the expected
 * wait's weight at 0; then the books' later settlements say how much of each customer's overdue
 * money was still unpaid `horizonDays` later. The measure: the share of that still-unpaid money
 * held by the first quarter of the list (rounded up), averaged over the dates that had any, beside
 * the best any order could do (the customers sorted by what they left unpaid).
 *
 * What it leaves out, the same for both orders: unapplied cash, disputes, promises to pay and
 * ratings (the records carry none: every customer is unrated), and the level reached (between
 * equal scores the order is the oldest debt, then the largest, then the id); a customer overdue in
 * several currencies is scored on its first overdue invoice's (the IBM sample has one, USD).
 */
export interface PriorityBacktest {
  readonly horizonDays: number;
  /** Dates with at least 4 customers overdue and some money still unpaid at the horizon. */
  readonly dates: number;
  /** Customers overdue per such date, on average. */
  readonly customersPerDate: number;
  /** The first quarter's share of the still-unpaid money (0 to 1), averaged over the dates. */
  readonly withWait: number;
  readonly withoutWait: number;
  readonly best: number;
}

interface Row {
  readonly id: string;
  readonly oldest: number;
  readonly demand: number;
  readonly unpaid: number;
  readonly scored: readonly [number, number];
}

export function backtestWorklistPriority(
  records: readonly InvoiceRecord[],
  score: WorklistScorePolicy,
  dates: readonly IsoDate[],
  opts: { readonly horizonDays: number; readonly rates?: RatesOf } = { horizonDays: 14 },
): PriorityBacktest {
  const rates: RatesOf = opts.rates ?? (() => []);
  const without: WorklistScorePolicy = {
    ...score,
    expectedWait: { ...(score.expectedWait ?? { capDays: 30 }), weight: 0 },
  };
  const byCustomer = new Map<string, InvoiceRecord[]>();
  for (const r of records) {
    const list = byCustomer.get(r.customerId) ?? [];
    list.push(r);
    byCustomer.set(r.customerId, list);
  }
  const sum = { withWait: 0, withoutWait: 0, best: 0, customers: 0, dates: 0 };
  for (const asOf of dates) {
    const horizon = addDays(asOf, opts.horizonDays);
    const rows: Row[] = [];
    for (const [id, all] of [...byCustomer].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const known = knownAsOf(all, asOf);
      const overdue = known.filter((r) => isOpenOn(r, asOf) && r.dueDate < asOf && r.amount > 0);
      if (overdue.length === 0) continue;
      const currency = (overdue[0] as InvoiceRecord).currency;
      const mine = overdue.filter((r) => r.currency === currency);
      const demand = mine.reduce((s, r) => s + r.amount, 0);
      const oldest = Math.max(...mine.map((r) => daysBetween(r.dueDate, asOf)));
      // The answer, from the books as they finally stand: never read by the scores above.
      const settled = new Map(all.map((r) => [r.invoiceId, r.settledDate]));
      const unpaid = mine
        .filter((r) => {
          const on = settled.get(r.invoiceId);
          return on === undefined || on > horizon;
        })
        .reduce((s, r) => s + r.amount, 0);
      const input = {
        demand,
        currency,
        oldestDaysPastDue: oldest,
        broken: 0,
        partial: 0,
        waits: expectedWaits(
          mine.map((r) => ({ ...r, open: r.amount })),
          known,
          asOf,
        ),
      };
      rows.push({
        id,
        oldest,
        demand,
        unpaid,
        scored: [scoreOf(input, score, asOf, rates).score, scoreOf(input, without, asOf, rates).score],
      });
    }
    const total = rows.reduce((s, r) => s + r.unpaid, 0);
    if (rows.length < 4 || total === 0) continue;
    const k = Math.ceil(rows.length / 4);
    const firstQuarter = (order: (a: Row, b: Row) => number) =>
      [...rows]
        .sort(order)
        .slice(0, k)
        .reduce((s, r) => s + r.unpaid, 0) / total;
    const ties = (a: Row, b: Row) =>
      b.oldest - a.oldest || b.demand - a.demand || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    sum.withWait += firstQuarter((a, b) => b.scored[0] - a.scored[0] || ties(a, b));
    sum.withoutWait += firstQuarter((a, b) => b.scored[1] - a.scored[1] || ties(a, b));
    sum.best += firstQuarter((a, b) => b.unpaid - a.unpaid || ties(a, b));
    sum.customers += rows.length;
    sum.dates++;
  }
  const mean = (x: number) => (sum.dates > 0 ? x / sum.dates : 0);
  return {
    horizonDays: opts.horizonDays,
    dates: sum.dates,
    customersPerDate: mean(sum.customers),
    withWait: mean(sum.withWait),
    withoutWait: mean(sum.withoutWait),
    best: mean(sum.best),
  };
}
