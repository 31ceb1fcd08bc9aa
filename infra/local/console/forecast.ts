import { isCurrency } from '../../../functions/core/currencies.ts';
import type { IsoDate } from '../../../functions/core/dates.ts';
import { rateSearchWords, rateWords } from '../../../functions/core/fx.ts';
import { formatMinor, groupDigits } from '../../../functions/core/money.ts';
import {
  BookPredictionsCache,
  bookRecords,
  type CashForecast,
  type CustomerPredictions,
  cashForecast,
  type ForecastActual,
  forecastActual,
  forecastActualJson,
  forecastCsv,
  forecastJson,
  forecastRates,
} from '../../../functions/predict/book.ts';
import { type Html, html } from './layout.ts';
import { attr, COLORS, niceMax } from './ops.ts';
import type { ConsoleOptions } from './options.ts';
import { hrefWith } from './paging.ts';
import { asOfParam, htmlReply, jsonReply, minorCell, money, problem, type Reply } from './shared.ts';

/**
 * Predicted payment dates in the console (issue 19; README "Predicted payment dates"): each open
 * invoice's expected date on the customer page, with the cash expected in 7, 30 and 90 days, and
 * the book's 13-week cash-in forecast at /forecast (chart, table, CSV, JSON).
 */

const caches = new WeakMap<ConsoleOptions, BookPredictionsCache>();

/** The console's predictions: the ones it was given, else made over the credit store (once per console). */
export function predictionsOf(opts: ConsoleOptions): BookPredictionsCache | undefined {
  if (opts.predictions) return opts.predictions;
  if (!opts.credit) return undefined;
  let c = caches.get(opts);
  if (!c) {
    c = new BookPredictionsCache(opts.credit.store);
    caches.set(opts, c);
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// The customer page

/** At most this many predictions on the customer page (the JSON has them all). */
export const PREDICTIONS_SHOWN = 200;

export function predictionsSection(p: CustomerPredictions, asOf: IsoDate): Html {
  if (p.invoices.length === 0)
    return html`<h2>Expected payments</h2><p class="muted">No open invoice to predict as of ${asOf}.</p>`;
  const sums = html`<div class="wrap"><table id="expected-cash">
<thead><tr><th>Currency</th><th class="num">Within 7 days</th><th class="num">Within 30 days</th><th class="num">Within 90 days</th><th class="num">All open</th></tr></thead>
<tbody>${p.expectedCash.map(
    (c) =>
      html`<tr><td>${c.currency}</td>${minorCell(c.in7, c.currency)}${minorCell(c.in30, c.currency)}${minorCell(c.in90, c.currency)}${minorCell(c.openTotal, c.currency)}</tr>`,
  )}</tbody></table></div>`;
  const rows = p.invoices
    .slice(0, PREDICTIONS_SHOWN)
    .map(
      (i) =>
        html`<tr><td>${i.invoiceId}</td><td>${i.dueDate}</td>${minorCell(i.open, i.currency)}<td><strong>${i.expected}</strong></td><td>${i.p10} – ${i.p90}</td><td class="wide">${i.reason}</td></tr>`,
    );
  return html`<h2>Expected payments</h2>
<p class="muted">Each open invoice's expected payment date as of ${asOf}, with an 80% interval (P10 to P90), from what was known that day${p.segment ? " (the customer's settled invoices, with every customer's as the segment)" : " (the customer's own settled invoices only: the book is too large to read for one page; the forecast page reads it, and this page uses it after)"}. Cash expected: the open amounts whose expected date falls within 7, 30 or 90 days after ${asOf}.</p>
${sums}
<div class="wrap"><table id="expected-payments">
<thead><tr><th>Invoice</th><th>Due</th><th class="num">Open</th><th>Expected</th><th>P10 – P90</th><th>Reason</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${p.invoices.length > PREDICTIONS_SHOWN ? html`<p class="note">Showing the ${PREDICTIONS_SHOWN} expected first of ${p.invoices.length} open invoices; the sums above are of all of them, and the JSON at /api/customers/… has every prediction.</p>` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// /forecast

const amount = (minor: number, ccy: string) => groupDigits(formatMinor(minor, ccy));

export function forecastChart(f: CashForecast): Html {
  const ccy = f.report;
  const slot = 44;
  const bar = 24;
  const left = 84;
  const top = 30;
  const plot = 170;
  const width = left + f.weeks.length * slot + 12;
  const height = top + plot + 34;
  const scale = 10 ** (formatMinor(1, ccy).split('.')[1]?.length ?? 0);
  const maxV = Math.max(0, ...f.weeks.map((w) => w.converted.high));
  const max = niceMax(Math.ceil(maxV / scale)) * scale;
  const y = (v: number) => top + plot - (v / max) * plot;
  const ticks = [0, max / 2, max].map((v) => ({ v, text: amount(Math.round(v), ccy) }));
  const axis = ticks.map(
    (t) =>
      html`<line x1="${left - 4}" x2="${width - 8}" y1="${attr(y(t.v))}" y2="${attr(y(t.v))}" stroke="${COLORS.axis}" stroke-width="${t.v === 0 ? 1 : 0.5}"/><text x="${left - 8}" y="${attr(y(t.v) + 3)}" text-anchor="end" font-size="10" fill="${COLORS.text}">${t.text}</text>`,
  );
  const bars = f.weeks.map((w, i) => {
    const x = left + i * slot + (slot - bar) / 2;
    const c = w.converted;
    const mid = x + bar / 2;
    return html`<g><rect x="${attr(x)}" y="${attr(y(c.expected))}" width="${bar}" height="${attr(y(0) - y(c.expected))}" fill="${COLORS.ingested}"><title>Week ${w.week} (${w.from} to ${w.to}): expected ${amount(c.expected, ccy)} ${ccy}; band ${amount(c.low, ccy)} to ${amount(c.high, ccy)} ${ccy}</title></rect>
<line x1="${attr(mid)}" x2="${attr(mid)}" y1="${attr(y(c.high))}" y2="${attr(y(c.low))}" stroke="${COLORS.critical}" stroke-width="1.5"/>
<line x1="${attr(mid - 5)}" x2="${attr(mid + 5)}" y1="${attr(y(c.high))}" y2="${attr(y(c.high))}" stroke="${COLORS.critical}" stroke-width="1.5"/>
<line x1="${attr(mid - 5)}" x2="${attr(mid + 5)}" y1="${attr(y(c.low))}" y2="${attr(y(c.low))}" stroke="${COLORS.critical}" stroke-width="1.5"/>
<text x="${attr(left + i * slot + slot / 2)}" y="${top + plot + 16}" text-anchor="middle" font-size="10" fill="${COLORS.text}">W${w.week}</text>
<text x="${attr(left + i * slot + slot / 2)}" y="${top + plot + 28}" text-anchor="middle" font-size="8" fill="${COLORS.text}">${w.from.slice(5)}</text></g>`;
  });
  const legend = html`<rect x="${left}" y="6" width="10" height="10" fill="${COLORS.ingested}"/><text x="${left + 14}" y="15" font-size="11" fill="${COLORS.text}">expected</text>
<line x1="${left + 90}" x2="${left + 90}" y1="5" y2="17" stroke="${COLORS.critical}" stroke-width="1.5"/><text x="${left + 96}" y="15" font-size="11" fill="${COLORS.text}">band (all at P10 / all at P90)</text>`;
  return html`<svg id="forecast-chart" class="chart" role="img" aria-labelledby="forecast-chart-title forecast-chart-desc" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">
<title id="forecast-chart-title">Expected receipts per week, ${f.weeks[0]?.from ?? ''} to ${f.weeks.at(-1)?.to ?? ''}, in ${ccy}</title>
<desc id="forecast-chart-desc">Bars: the open invoices' amounts expected each week, converted into ${ccy}${f.unconverted.length > 0 ? ` (without ${f.unconverted.join(', ')}: no rate on file)` : ''}. Whiskers: the band, from the smallest to the largest of the expected total, the total if every invoice came on its P10 date and the total if every invoice came on its P90 date. The table below lists every week.</desc>
${axis}${legend}${bars}
</svg>`;
}

function forecastTable(f: CashForecast, actual?: ForecastActual): Html {
  const R = f.report;
  const currencies = f.currencies.map((c) => c.currency);
  const head = html`<tr><th>Week</th><th>From</th><th>To</th><th class="num">Expected in ${R}</th><th class="num">Low</th><th class="num">High</th><th class="num">All at P10</th><th class="num">All at P90</th>${actual ? html`<th class="num">Came in</th><th class="num">By due dates</th>` : ''}${currencies.length > 1 || currencies[0] !== R ? currencies.map((c) => html`<th class="num">Expected, ${c} invoices</th>`) : ''}</tr>`;
  const perCcy = currencies.length > 1 || currencies[0] !== R;
  const rows = f.weeks.map((w, i) => {
    const c = w.converted;
    const a = actual?.weeks[i];
    const came = a
      ? a.ended
        ? html`${minorCell(a.cameIn, R)}${minorCell(a.byDueDate, R)}`
        : html`<td class="num muted">–</td><td class="num muted">–</td>`
      : '';
    return html`<tr><td>${w.week}</td><td>${w.from}</td><td>${w.to}</td>${minorCell(c.expected, R)}${minorCell(c.low, R)}${minorCell(c.high, R)}${minorCell(c.atP10, R)}${minorCell(c.atP90, R)}${came}${perCcy ? w.byCurrency.map((x) => minorCell(x.expected, x.currency)) : ''}</tr>`;
  });
  const t = f.total;
  return html`<div class="wrap"><table id="forecast-table">
<thead>${head}</thead>
<tbody>${rows}</tbody>
<tfoot><tr><td>13 weeks</td><td></td><td></td>${minorCell(t.expected, R)}<td></td><td></td>${minorCell(t.atP10, R)}${minorCell(t.atP90, R)}${actual ? html`<td></td><td></td>` : ''}${perCcy ? f.currencies.map((c) => minorCell(c.expected, c.currency)) : ''}</tr></tfoot>
</table></div>`;
}

function currenciesTable(f: CashForecast): Html {
  const R = f.report;
  return html`<div class="wrap"><table id="forecast-currencies">
<thead><tr><th>Currency</th><th class="num">Invoices in the 13 weeks</th><th class="num">Expected (13 weeks)</th><th>Rate used</th></tr></thead>
<tbody>${f.currencies.map(
    (c) =>
      html`<tr><td>${c.currency}</td><td class="num">${c.invoices}</td>${minorCell(c.expected, c.currency)}<td>${c.currency === R ? html`<span class="muted">reporting currency</span>` : c.rate ? rateWords(c.rate) : html`<span class="late">no rate on file by ${f.asOf} (${rateSearchWords(c.currency, R)}): left out of the ${R} figures</span>`}</td></tr>`,
  )}</tbody></table></div>`;
}

export function forecastPage(f: CashForecast, actual?: ForecastActual): Html {
  const R = f.report;
  const unplaced =
    f.unplaced.length > 0
      ? html`<p class="note">Not counted on, in no week: ${f.unplaced.map((u, i) => html`${i > 0 ? ', ' : ''}${money(u.open, u.currency)} (${u.invoices} invoice${u.invoices === 1 ? '' : 's'})`)} overdue and further past due than any settled invoice of the customer or the book: nothing says when, or whether, it comes in.</p>`
      : '';
  const against = !actual
    ? ''
    : actual.meanAbsError
      ? html`<p class="muted" id="forecast-actual">Against what came in, as the books read on ${actual.readOn} (an invoice open on ${f.asOf} counts in the week it was settled in full): over the ${actual.endedWeeks} week${actual.endedWeeks === 1 ? '' : 's'} ended, the forecast was off by ${money(actual.meanAbsError.model, R)} a week on average; every invoice on its due date would have been off by ${money(actual.meanAbsError.dueDates, R)}.</p>`
      : html`<p class="muted" id="forecast-actual">No week has ended by ${actual.readOn}: nothing to compare with what came in yet.</p>`;
  const csv = hrefWith('/forecast.csv', { asOf: f.asOf, report: R });
  const later =
    f.later.length > 0
      ? html`<p class="muted">Expected after the 13 weeks, in no week: ${f.later.map((l, i) => html`${i > 0 ? ', ' : ''}${money(l.open, l.currency)} (${l.invoices} invoice${l.invoices === 1 ? '' : 's'})`)}.</p>`
      : '';
  const missing =
    f.unconverted.length > 0
      ? html`<p class="note">No rate on file by ${f.asOf} for ${f.unconverted.join(', ')} against ${R}: ${f.currencies
          .filter((c) => !c.converted)
          .map(
            (c, i) => html`${i > 0 ? ', ' : ''}${money(c.expected, c.currency)}`,
          )} expected in the 13 weeks ${f.unconverted.length === 1 ? 'is' : 'are'} left out of every ${R} figure (shown in its own currency below), not guessed.</p>`
      : '';
  return html`<h1>Cash-in forecast as of ${f.asOf}</h1>
<form class="asof" method="get" action="/forecast"><label>As of <input type="date" name="asOf" value="${f.asOf}"></label><label>in <input name="report" value="${R}" size="4"></label><button>Show</button></form>
<p class="muted">Expected receipts per week for the 13 weeks after ${f.asOf} (week 1: ${f.weeks[0]?.from} to ${f.weeks[0]?.to}), from the ${f.openInvoices} open invoice${f.openInvoices === 1 ? '' : 's'} of ${f.customers} customer${f.customers === 1 ? '' : 's'}: each open amount in the week of its expected payment date. Amounts in other currencies are converted into ${R} with the latest rate on file dated ${f.asOf} or before. The band of a week runs from the smallest to the largest of three totals: the expected one, the one if every invoice came on its P10 date, and the one if every invoice came on its P90 date. Invoices not yet issued are in no week. <a href="${csv}">Download CSV</a>.</p>
${missing}
${unplaced}
${against}
${forecastChart(f)}
${forecastTable(f, actual)}
<h2>Currencies</h2>
${currenciesTable(f)}
${later}`;
}

async function forecastOf(
  opts: ConsoleOptions,
  params: URLSearchParams,
  api: boolean,
): Promise<{ f: CashForecast; actual?: ForecastActual | undefined } | Reply> {
  const cache = predictionsOf(opts);
  if (!cache)
    return problem(404, 'The forecast is not available: this console runs without the credit store.', api);
  const asOf = asOfParam(params, opts.today);
  const book = await cache.asOf(asOf);
  const report = (params.get('report')?.trim().toUpperCase() || book.mainCurrency) as string;
  if (!isCurrency(report)) return problem(400, `"${report}" is not an ISO 4217 currency code.`, api);
  const rates = await forecastRates(cache.store, book, report);
  const f = cashForecast(book, report, rates);
  // A forecast of a past day, beside what came in as the books read today.
  const readOn = opts.today();
  if (asOf >= readOn) return { f };
  return { f, actual: forecastActual(f, book, await bookRecords(cache.store, readOn), readOn, rates) };
}

/** GET /forecast, /api/forecast and /forecast.csv. */
export async function forecastReply(
  opts: ConsoleOptions,
  params: URLSearchParams,
  as: 'html' | 'json' | 'csv',
): Promise<Reply> {
  const got = await forecastOf(opts, params, as === 'json');
  if (!('f' in got)) return got;
  const { f, actual } = got;
  if (as === 'json')
    return jsonReply(200, {
      ...forecastJson(f, formatMinor),
      ...(actual ? { actual: forecastActualJson(actual, f.report, formatMinor) } : {}),
    });
  if (as === 'csv')
    return {
      status: 200,
      type: 'text',
      body: forecastCsv(f, formatMinor),
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="forecast-${f.asOf}.csv"`,
      },
    };
  return htmlReply(200, `Forecast ${f.asOf}`, forecastPage(f, actual), 'forecast');
}
