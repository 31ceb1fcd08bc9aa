import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isCurrency } from '../../../functions/core/currencies.ts';
import { rateSearchWords, rateWords } from '../../../functions/core/fx.ts';
import { formatMinor, formatMoney } from '../../../functions/core/money.ts';
import {
  BookPredictionsCache,
  bookRecords,
  type CustomerPredictions,
  cashForecast,
  forecastActual,
  forecastActualJson,
  forecastCsv,
  forecastJson,
  forecastRates,
  type PredictStore,
  predictBook,
} from '../../../functions/predict/book.ts';
import { asOfOption, CliFailure, jsonText, table, today, UsageError, withStore } from './common.ts';

/**
 * `sentinel forecast` and the predictions block of `sentinel customer` (issue 19; README
 * "Predicted payment dates"): every customer's open invoices predicted as of the day, the segment
 * read once over the same pass.
 */

/**
 * One customer's predictions as of the day, the segment being every customer's (on a book of more
 * than SEGMENT_READ_MAX customers, its own history only: `predictions.segment` says which).
 */
export async function customerPredictions(
  store: PredictStore,
  customerId: string,
  asOf: string,
): Promise<CustomerPredictions | undefined> {
  return new BookPredictionsCache(store).customer(customerId, asOf);
}

/** The short block `sentinel customer` prints: the 7/30/90-day sums and each open invoice's date. */
export function predictionsText(p: CustomerPredictions): string {
  if (p.invoices.length === 0) return `Expected payments as of ${p.asOf}: no open invoice.`;
  const sums = p.expectedCash.map(
    (c) =>
      `${c.currency}: ${formatMoney(c.in7, c.currency)} within 7 days, ${formatMoney(c.in30, c.currency)} within 30, ${formatMoney(c.in90, c.currency)} within 90 (of ${formatMoney(c.openTotal, c.currency)} open)`,
  );
  return [
    `Expected payments as of ${p.asOf} (80% interval P10-P90${p.segment ? '' : "; from the customer's own history only, the book being too large to read for one customer"}):`,
    ...sums.map((s) => `  ${s}`),
    '',
    table(
      ['invoice', 'due', 'open', 'expected', 'P10', 'P90', 'reason'],
      p.invoices.map((i) => [
        i.invoiceId,
        i.dueDate,
        formatMinor(i.open, i.currency),
        i.expected,
        i.p10,
        i.p90,
        i.reason,
      ]),
      new Set([2]),
    ),
  ].join('\n');
}

export async function cmdForecast(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'as-of': { type: 'string' },
      report: { type: 'string' },
      json: { type: 'boolean', default: false },
      csv: { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length > 0)
    throw new UsageError(`forecast takes no arguments (got ${positionals.join(' ')})`);
  const asOf = asOfOption(values['as-of']);
  const asked = values.report?.trim().toUpperCase();
  if (asked !== undefined && !isCurrency(asked))
    throw new UsageError(`--report ${values.report} is not an ISO 4217 currency code`);
  return withStore(values['data-dir'], async (env) => {
    const book = await predictBook(env.store, asOf);
    const report = asked ?? book.mainCurrency;
    const rates = await forecastRates(env.store, book, report);
    const f = cashForecast(book, report, rates);
    // A forecast of a past day, beside what came in as the books read today.
    const readOn = today();
    const actual =
      asOf < readOn
        ? forecastActual(f, book, await bookRecords(env.store, readOn), readOn, rates)
        : undefined;
    if (values.csv !== undefined) {
      try {
        await writeFile(values.csv, forecastCsv(f, formatMinor));
      } catch (e) {
        throw new CliFailure(`cannot write ${values.csv}: ${(e as Error).message}`);
      }
    }
    if (values.json) {
      console.log(
        jsonText({
          ...forecastJson(f, formatMinor),
          ...(actual ? { actual: forecastActualJson(actual, report, formatMinor) } : {}),
        }),
      );
      return 0;
    }
    const money = (n: number) => formatMinor(n, report);
    console.log(
      `Cash-in forecast as of ${asOf}, in ${report}: ${f.openInvoices} open invoices of ${f.customers} customers, each open amount in the week of its expected payment date\n`,
    );
    console.log(
      table(
        [
          'week',
          'from',
          'to',
          'expected',
          'low',
          'high',
          'all at P10',
          'all at P90',
          ...(actual ? ['came in', 'by due dates'] : []),
        ],
        f.weeks.map((w, i) => {
          const a = actual?.weeks[i];
          return [
            String(w.week),
            w.from,
            w.to,
            money(w.converted.expected),
            money(w.converted.low),
            money(w.converted.high),
            money(w.converted.atP10),
            money(w.converted.atP90),
            ...(a ? (a.ended ? [money(a.cameIn), money(a.byDueDate)] : ['-', '-']) : []),
          ];
        }),
        new Set([0, 3, 4, 5, 6, 7, 8, 9]),
      ),
    );
    console.log(`\n13 weeks: ${formatMoney(f.total.expected, report)} expected`);
    if (actual)
      console.log(
        actual.meanAbsError
          ? `Against what came in (the books as read on ${actual.readOn}; an invoice counts in the week it was settled in full), over the ${actual.endedWeeks} weeks ended: mean weekly error ${formatMoney(actual.meanAbsError.model, report)}, against ${formatMoney(actual.meanAbsError.dueDates, report)} for every invoice on its due date.`
          : `No week has ended by ${actual.readOn}: nothing to compare with what came in yet.`,
      );
    console.log(
      'Band: from the smallest to the largest of the expected total, the total if every invoice came on its P10 date and the total if every invoice came on its P90 date.',
    );
    for (const c of f.currencies)
      if (c.currency !== report)
        console.log(
          c.rate
            ? `${c.currency}: ${formatMoney(c.expected, c.currency)} expected, converted at ${rateWords(c.rate)}`
            : `${c.currency}: ${formatMoney(c.expected, c.currency)} expected, left out of the ${report} figures: no ${c.currency}/${report} rate on file by ${asOf} (${rateSearchWords(c.currency, report)})`,
        );
    for (const l of f.later)
      console.log(
        `after the 13 weeks: ${formatMoney(l.open, l.currency)} (${l.invoices} invoice${l.invoices === 1 ? '' : 's'})`,
      );
    for (const u of f.unplaced)
      console.log(
        `not counted on: ${formatMoney(u.open, u.currency)} overdue (${u.invoices} invoice${u.invoices === 1 ? '' : 's'}) further past due than any settled invoice of the customer or the book`,
      );
    if (values.csv !== undefined) console.log(`CSV written to ${values.csv}`);
    return 0;
  });
}
