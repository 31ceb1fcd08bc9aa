import type { IsoDate } from '../../../functions/core/dates.ts';
import { rateWords } from '../../../functions/core/fx.ts';
import { formatMinor, formatMoney } from '../../../functions/core/money.ts';
import { grouped, type Page } from '../../../functions/core/paging.ts';
import {
  AGING_BUCKETS,
  type AgingBucket,
  disputedOpen,
  type InvoiceStatus,
} from '../../../functions/core/receivables.ts';
import type { Alert } from '../../../functions/credit/alerts.ts';
import {
  assess,
  type ExplainedAssessment,
  explainAssessment,
  type TransferCommitment,
  transferCounts,
} from '../../../functions/credit/assess.ts';
import { decisionFor, type LimitDecision } from '../../../functions/credit/decide.ts';
import { asOfFile, creditFileOf } from '../../../functions/credit/evaluate.ts';
import { creditHistory, monthEnds } from '../../../functions/credit/history.ts';
import type { CustomerPartition } from '../../../functions/credit/ports.ts';
import type { CustomerPredictions } from '../../../functions/predict/book.ts';
import {
  type CustomerQuery,
  customersCsv,
  DEFAULT_PAGE_SIZE,
  orderWords,
  PAGE_SIZES,
  RATING_VALUES,
  RISK_VALUES,
  SORT_KEYS,
  SORT_LABELS,
  type SortKey,
} from '../../../functions/receivables/list.ts';
import type { CustomerFile, CustomerList, ListOptions } from '../../../functions/receivables/queries.ts';
import type { Review } from '../../../functions/reviews/review.ts';
import { type AnswerForms, activeAlertsTable, bySeverity, words } from './alerts.ts';
import { type CollectionsRecord, collectionsRecordOf, collectionsRecordSection } from './collections.ts';
import { type CreditFileView, creditFileSection, limitStepsOf } from './credit-file.ts';
import { predictionsSection } from './forecast.ts';
import { type Html, html, kv } from './layout.ts';
import {
  type ConsoleCredit,
  type ConsoleOptions,
  type ConsoleTransfers,
  NOTES_SHOWN,
  OPEN_SHOWN,
  PAYMENTS_SHOWN,
  SETTLED_SHOWN,
} from './options.ts';
import {
  choiceParam,
  currencyParam,
  flagParam,
  hrefWith,
  option,
  pageParam,
  pagerHtml,
  searchParam,
  shownHtml,
  sortHead,
} from './paging.ts';
import {
  amountCell,
  asOfParam,
  customerHref,
  htmlReply,
  jsonReply,
  minorCell,
  money,
  numCell,
  type Reply,
} from './shared.ts';
import { transferHref, typeLabel } from './transfers.ts';

export const BUCKET_LABELS: Record<AgingBucket, string> = {
  notDue: 'Not due',
  d1_30: '1–30',
  d31_60: '31–60',
  d61_90: '61–90',
  d91_180: '91–180',
  over180: '180+',
};

export const NOTE_MEANING: Record<string, string> = {
  UNKNOWN_INVOICE:
    'names an invoice that is not on file (as of this date); the amount is kept as unapplied cash',
  INVOICE_NOT_YET_ISSUED: 'names an invoice issued after the payment was received; not applied to it',
  CURRENCY_MISMATCH: 'is in another currency than the invoice it names; not applied to it',
};

// ---------------------------------------------------------------------------------------------
// The receivables table

export const asOfForm = (action: string, asOf: IsoDate) =>
  html`<form class="asof" method="get" action="${action}">
<label for="asOf">As of</label> <input type="date" id="asOf" name="asOf" value="${asOf}" required>
<button type="submit">Show</button></form>`;

export const bucketHeads = AGING_BUCKETS.map(
  (b) => html`<th class="${b === 'notDue' ? 'num' : 'num late'}">${BUCKET_LABELS[b]}</th>`,
);

/** Rows of the receivables table on one page when the URL names no size. */
export const CUSTOMERS_PAGE = DEFAULT_PAGE_SIZE;

/** Above this many customers whose summary is of another date, the page shows their stored figures. */
export const LIVE_LIMIT = 5000;

const NUMERIC_SORT = new Set<SortKey>(
  SORT_KEYS.filter((k) => !['id', 'name', 'currency', 'rating', 'risk'].includes(k)),
);

const flag = flagParam;

/** The list's query from the URL (the page, the JSON and the CSV read the same parameters). */
export function customerQueryOf(params: URLSearchParams, api: boolean): CustomerQuery & ListOptions {
  const q = searchParam(params) ?? '';
  const code = (name: string) => currencyParam(params, name);
  const size = choiceParam(params, 'size', PAGE_SIZES.map(String));
  return {
    q: q === '' ? undefined : q,
    rating: choiceParam(params, 'rating', RATING_VALUES),
    risk: choiceParam(params, 'risk', RISK_VALUES),
    currency: code('currency'),
    overdue: flag(params, 'overdue'),
    overLimit: flag(params, 'overlimit'),
    hideZero: flag(params, 'nonzero'),
    sort: choiceParam(params, 'sort', SORT_KEYS),
    dir: choiceParam(params, 'dir', ['asc', 'desc'] as const),
    // The JSON without a size gives every matching customer (as it always did); the page 200.
    size: size !== undefined ? Number(size) : api ? undefined : CUSTOMERS_PAGE,
    page: pageParam(params),
    report: code('report'),
    liveLimit: LIVE_LIMIT,
  };
}

/** The URL parameters of a query (those set, in a fixed order): every link keeps the list as it is. */
export function queryParams(
  asOf: IsoDate,
  q: CustomerQuery,
  explicitSize: boolean,
): Record<string, string | undefined> {
  return {
    asOf,
    q: q.q,
    rating: q.rating,
    risk: q.risk,
    currency: q.currency,
    overdue: q.overdue ? '1' : undefined,
    overlimit: q.overLimit ? '1' : undefined,
    nonzero: q.hideZero ? '1' : undefined,
    sort: q.sort,
    dir: q.sort ? q.dir : undefined,
    size: explicitSize && q.size !== undefined ? String(q.size) : undefined,
    report: q.report,
  };
}

const filtered = (q: CustomerQuery) =>
  Boolean(q.q || q.rating || q.risk || q.currency || q.overdue || q.overLimit || q.hideZero);

function filterForm(list: CustomerList, q: CustomerQuery, explicitSize: boolean): Html {
  const check = (name: string, on: boolean | undefined, label: string) =>
    html`<label><input type="checkbox" name="${name}" value="1"${on ? html` checked` : ''}> ${label}</label>`;
  return html`<form class="filters" method="get" action="/customers" role="search">
<p><label for="asOf">As of</label> <input type="date" id="asOf" name="asOf" value="${list.asOf}" required>
<label for="q">Search</label> <input type="search" id="q" name="q" value="${q.q ?? ''}" placeholder="id or name" maxlength="100"></p>
<p><label for="rating">Rating</label> <select id="rating" name="rating">${option('', 'any', !q.rating)}${RATING_VALUES.map((r) => option(r, r, q.rating === r))}</select>
<label for="risk">Risk class</label> <select id="risk" name="risk">${option('', 'any', !q.risk)}${RISK_VALUES.map((r) => option(r, r, q.risk === r))}</select>
<label for="currency">Currency</label> <select id="currency" name="currency">${option('', 'any', !q.currency)}${list.currencies.map((c) => option(c, c, q.currency === c))}</select></p>
<p>${check('overdue', q.overdue, 'overdue only')} ${check('overlimit', q.overLimit, 'over limit')} ${check('nonzero', q.hideZero, 'hide zero balance')}</p>
<p><label for="sort">Sort by</label> <select id="sort" name="sort">${option('', 'largest overdue first', !q.sort)}${SORT_KEYS.map((k) => option(k, SORT_LABELS[k], q.sort === k))}</select>
<select name="dir" aria-label="direction">${option('asc', 'ascending', q.dir !== 'desc')}${option('desc', 'descending', q.dir === 'desc')}</select>
<label for="size">Per page</label> <select id="size" name="size">${PAGE_SIZES.map((n) => option(String(n), String(n), (explicitSize ? q.size : CUSTOMERS_PAGE) === n))}</select>
<label for="report">Totals in</label> <select id="report" name="report">${list.currencies.map((c) => option(c, c, list.book.report === c))}</select></p>
<p><button type="submit">Show</button> <a href="${hrefWith('/customers', { asOf: list.asOf })}">Clear the filters</a></p>
</form>`;
}

/** The basis of the figures, said once above the table. */
function basisNote(list: CustomerList): Html {
  const b = list.basis;
  const dates =
    b.summaryDates.length === 0
      ? ''
      : b.summaryDates.length === 1
        ? b.summaryDates[0]
        : `${b.summaryDates[0]} to ${b.summaryDates.at(-1)}`;
  const live =
    b.live > 0
      ? html`<p class="note">${grouped(b.live)} customer${b.live === 1 ? '' : 's'}' stored summaries are dated ${dates}, not ${list.asOf}: their figures were recomputed live from their invoices and payments as of ${list.asOf}.</p>`
      : '';
  const stale =
    b.stale > 0
      ? html`<p class="note">${grouped(b.stale)} customers' stored summaries are dated ${dates}, not ${list.asOf}: more than ${grouped(LIVE_LIMIT)} to recompute for a page, so their figures below are as of their stored dates. A customer's own page, or <code class="word">sentinel customers --as-of ${list.asOf}</code>, computes them as of ${list.asOf}.</p>`
      : '';
  const rated =
    b.assessed === 0
      ? 'No assessment is stored yet: rating, score and risk class are empty until an evaluation runs.'
      : `Rating, score and risk class are each customer's latest stored assessment (dated ${b.assessedFrom === b.assessedTo ? b.assessedFrom : `${b.assessedFrom} to ${b.assessedTo}`}); the customer's page computes them as of the date asked.`;
  const refreshing = b.refreshing
    ? html`<p class="note" role="status">The store changed at ${b.refreshing.since.replace('T', ' ').slice(0, 19)} UTC (an upload or an evaluation) and is being read again, which took ${Math.round(b.refreshing.lastReadMs / 1000)} s last time: until then this list shows the figures read at ${b.builtAt.replace('T', ' ').slice(0, 19)} UTC. Reload to see the new ones; a customer's own page is always computed from the store as it is now.</p>`
    : '';
  return html`${refreshing}${live}${stale}<p class="muted">${rated} Limit use is open less unapplied cash over the credit limit (approved transfers are counted on the customer's page). Read from the store at ${b.builtAt.replace('T', ' ').slice(0, 19)} UTC and kept until an ingest or an evaluation changes the data.</p>`;
}

function headCell(
  key: SortKey,
  q: CustomerQuery,
  href: (o: Record<string, string | undefined>) => string,
  cls = '',
): Html {
  return sortHead(key, SORT_LABELS[key], { sort: q.sort, dir: q.dir }, href, {
    cls,
    descFirst: NUMERIC_SORT.has(key),
  });
}

function useCell(use: number | null | undefined, over: boolean): Html {
  if (use === undefined) return html`<td class="num muted">—</td>`;
  if (use === null) return html`<td class="num late">limit 0</td>`;
  return html`<td class="${over ? 'num late' : 'num'}">${use.toFixed(1)}%</td>`;
}

function bookSection(list: CustomerList): Html | '' {
  const b = list.book;
  if (b.byCurrency.length === 0) return '';
  const R = b.report;
  const rows = b.byCurrency.map(
    (
      t,
    ) => html`<tr><td>${t.currency}</td>${numCell(t.customers)}${minorCell(t.open, t.currency)}${minorCell(t.overdue, t.currency, true)}${minorCell(t.exposure, t.currency)}
<td>${t.currency === R ? html`<span class="muted">reporting currency</span>` : t.rate ? rateWords(t.rate) : html`<span class="late">no rate on file</span>`}</td>
${t.converted ? html`${minorCell(t.converted.open, R)}${minorCell(t.converted.overdue, R, true)}${minorCell(t.converted.exposure, R)}` : html`<td class="num muted">—</td><td class="num muted">—</td><td class="num muted">—</td>`}</tr>`,
  );
  const apart =
    b.unconverted.length > 0
      ? html`<p class="note">No ${b.unconverted.map((c) => `${c}/${R}`).join(', ')} rate (either way) on file dated ${list.asOf} or before: ${b.unconverted.join(', ')} ${b.unconverted.length === 1 ? 'is' : 'are'} listed above in ${b.unconverted.length === 1 ? 'its' : 'their'} own currency and left out of the ${R} total. Upload fx rates to include ${b.unconverted.length === 1 ? 'it' : 'them'}.</p>`
      : '';
  return html`<h2>Book totals in ${R}</h2>
<p class="muted">Of the ${grouped(list.matched)} customer${list.matched === 1 ? '' : 's'} listed (every page). Each currency's totals are converted once with the latest rate on file dated ${list.asOf} or before (the pair as stored, or its inverse).</p>
<div class="wrap"><table>
<thead><tr><th>Currency</th><th class="num">Customers</th><th class="num">Open</th><th class="num late">Overdue</th><th class="num">Exposure</th><th>Rate used</th><th class="num">Open in ${R}</th><th class="num late">Overdue in ${R}</th><th class="num">Exposure in ${R}</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot><tr><td>Total ${R}</td><td></td><td></td><td></td><td></td><td>${b.unconverted.length > 0 ? `without ${b.unconverted.join(', ')}` : ''}</td>${minorCell(b.total.open, R)}${minorCell(b.total.overdue, R, true)}${minorCell(b.total.exposure, R)}</tr></tfoot>
</table></div>
${apart}`;
}

export function customersPage(list: CustomerList, q: CustomerQuery, explicitSize: boolean): Html {
  const asOf = list.asOf;
  const base = queryParams(asOf, q, explicitSize);
  const href = (over: Record<string, string | undefined>) => hrefWith('/customers', { ...base, ...over });
  const rows = list.rows.map((r, i) => {
    const l = list.lines[i] as (typeof list.lines)[number];
    return html`<tr>
<td><a href="${customerHref(l.customerId, asOf)}">${l.customerId}</a></td>
<td>${l.name ?? html`<span class="muted">(no master data)</span>`}</td>
<td>${l.currency}</td>
${amountCell(l.openAmount, l.currency)}
${amountCell(l.overdueAmount, l.currency, true)}
${AGING_BUCKETS.map((b) => amountCell(l.aging[b], l.currency, b !== 'notDue'))}
${numCell(l.openInvoices)}
${numCell(l.maxDaysPastDue, true)}
${numCell(l.avgDaysLate)}
${amountCell(l.unappliedCash, l.currency)}
${amountCell(l.creditLimit, l.currency)}
${useCell(r.limitUse, r.limit !== undefined && r.exposure > r.limit)}
${numCell(r.score)}
<td>${r.rating ?? html`<span class="muted">—</span>`}</td>
<td>${r.riskClass ?? html`<span class="muted">—</span>`}</td>
</tr>`;
  });
  const foot = list.totals.map(
    (t) => html`<tr>
<td>Total ${t.currency}</td>
<td>${grouped(t.customers)} customer${t.customers === 1 ? '' : 's'}</td>
<td>${t.currency}</td>
${amountCell(t.openAmount, t.currency)}
${amountCell(t.overdueAmount, t.currency, true)}
${AGING_BUCKETS.map((b) => amountCell(t.aging[b], t.currency, b !== 'notDue'))}
${numCell(t.openInvoices)}
${numCell(t.maxDaysPastDue, true)}
<td></td>
${amountCell(t.unappliedCash, t.currency)}
${amountCell(t.creditLimit, t.currency)}
<td colspan="4"></td>
</tr>`,
  );
  const h = (k: SortKey, cls = '') => headCell(k, q, href, cls);
  const table =
    list.customers === 0
      ? html`<p class="note">No receivables on file yet. Ingest a customers, invoices or payments file first.</p>`
      : list.matched === 0
        ? html`<p class="note">No customer matches these filters. <a href="${hrefWith('/customers', { asOf })}">Clear the filters</a>.</p>`
        : html`<div class="wrap"><table>
<thead><tr>${h('id')}${h('name')}${h('currency')}${h('open', 'num')}${h('overdue', 'num late')}
${AGING_BUCKETS.map((b) => h(b, b === 'notDue' ? 'num' : 'num late'))}
${h('openInvoices', 'num')}${h('maxDaysPastDue', 'num')}${h('avgDaysLate', 'num')}
${h('unapplied', 'num')}${h('limit', 'num')}${h('limitUse', 'num')}${h('score', 'num')}${h('rating')}${h('risk')}</tr></thead>
<tbody>
${rows}
</tbody>
<tfoot>
${foot}
</tfoot>
</table></div>`;
  const page: Page<unknown> = {
    items: list.rows as unknown[],
    from: Math.max(1, list.from),
    total: list.matched,
    next: list.page < list.pages ? String(list.page + 1) : undefined,
    prev: list.page > 1 ? { after: list.page === 2 ? undefined : String(list.page - 1) } : undefined,
  };
  const pageHref = (p: string | undefined) => href({ page: p });
  const isFiltered = filtered(q);
  const count = isFiltered
    ? `${grouped(list.matched)} of ${grouped(list.customers)} customers match; the totals are of those ${grouped(list.matched)}.`
    : `${grouped(list.customers)} customer${list.customers === 1 ? '' : 's'}; the totals are of all of them.`;
  const csv = hrefWith('/customers.csv', base);
  return html`<h1>Receivables as of ${asOf}</h1>
${filterForm(list, q, explicitSize)}
${basisNote(list)}
${list.matched === 0 ? '' : shownHtml(page, 'Customers', orderWords(q.sort, q.dir), isFiltered ? 'matching' : undefined)}
<p class="muted">${count} Amounts are in each customer's credit currency.
${list.matched === 0 ? '' : html`<a href="${csv}">Download CSV</a> (all ${grouped(list.matched)} ${isFiltered ? 'matching ' : ''}customers, every page, in this order).`}</p>
${table}
${pagerHtml(page, pageHref)}
${bookSection(list)}`;
}

// ---------------------------------------------------------------------------------------------
// One customer

export const yesNo = (b: boolean) => (b ? html`<span class="badge bad">disputed</span>` : '');

/** An open item's dispute: the badge, and for a dispute on a part the part disputed and its line. */
function disputedCell(i: InvoiceStatus): Html | '' {
  if (!i.disputed) return '';
  const part = disputedOpen(i);
  const said = [
    ...(part < i.open ? [`${formatMoney(part, i.currency)} of it`] : []),
    ...(i.disputeLine ? [i.disputeLine] : []),
  ];
  return html`${yesNo(true)}${said.length > 0 ? html` <span class="muted">${said.join(': ')}</span>` : ''}`;
}

export function customerPage(
  file: CustomerFile,
  id: string,
  asOf: IsoDate,
  credit?: CreditView,
  predictions?: CustomerPredictions,
): Html {
  const c = file.customer;
  const s = file.statement.summary;
  const ccy = s.currency;
  const open = file.statement.invoices.filter((i) => i.settledDate === undefined);
  const settled = file.statement.invoices
    .filter((i): i is InvoiceStatus & { settledDate: string } => i.settledDate !== undefined)
    .sort((a, b) =>
      a.settledDate < b.settledDate
        ? 1
        : a.settledDate > b.settledDate
          ? -1
          : a.invoiceId < b.invoiceId
            ? -1
            : a.invoiceId > b.invoiceId
              ? 1
              : 0,
    );
  const apps = [...file.statement.applications].sort((a, b) =>
    a.receivedDate < b.receivedDate
      ? 1
      : a.receivedDate > b.receivedDate
        ? -1
        : a.paymentId < b.paymentId
          ? -1
          : 1,
  );
  const notes = file.statement.notes;
  const unappliedOther = file.statement.applications.filter((a) => a.currency !== ccy && a.unapplied > 0);

  const master = c
    ? kv([
        ['Customer', c.customerId],
        ['Name', c.name],
        ['Country', c.country],
        ['Industry', c.industry],
        ['Credit currency', c.currency],
        ['Payment terms', c.paymentTermsDays === undefined ? undefined : `${c.paymentTermsDays} days`],
        [
          'Credit limit',
          c.creditLimit !== undefined && c.currency ? money(c.creditLimit, c.currency) : undefined,
        ],
        ['Registration no.', c.registrationNo],
      ])
    : html`<p class="note">No customer master data on file for this id; the figures come from its invoices and payments alone.</p>`;

  const utilisation =
    c?.creditLimit !== undefined && c.creditLimit > 0 && c.currency === ccy
      ? `${((s.openAmount / c.creditLimit) * 100).toFixed(1)}% of the credit limit`
      : undefined;
  const summary = kv([
    ['Open', money(s.openAmount, ccy)],
    [
      'Overdue',
      s.overdueAmount > 0 ? html`<span class="late">${money(s.overdueAmount, ccy)}</span>` : money(0, ccy),
    ],
    ['Disputed', money(s.disputedAmount, ccy)],
    ['Open invoices', String(s.openInvoices)],
    ['Max days past due', String(s.maxDaysPastDue)],
    ['Settled invoices', String(s.settledInvoices)],
    ['Avg days late', s.avgDaysLate === null ? undefined : String(s.avgDaysLate)],
    ['Unapplied cash', money(s.unappliedCash, ccy)],
    ['DSO (90 days)', s.dso === null ? undefined : String(s.dso)],
    // Beside DSO while anything is under dispute (otherwise it is DSO itself): the same sales, the
    // disputed open amount left out of the receivables.
    ...(s.disputedAmount > 0 && file.undisputedDso !== null
      ? [
          [
            'Undisputed DSO',
            html`${String(file.undisputedDso)} <span class="muted">(the ${money(s.disputedAmount, ccy)} disputed left out)</span>`,
          ] as [string, Html],
        ]
      : []),
    ['Credit used', utilisation],
  ]);

  const other =
    s.otherCurrencies.length > 0
      ? html`<p class="note">Open receivables in other currencies, not converted and left out of the figures above:
${s.otherCurrencies.map((o, i) => html`${i > 0 ? ', ' : ''}${money(o.openAmount, o.currency)}`)}.
The invoice tables below show every amount in units of ${ccy}, so those invoices' amounts are not in their own currency there (see the JSON for their original rows).</p>`
      : '';

  const aging = html`<div class="wrap"><table>
<thead><tr>${bucketHeads}<th class="num">Total open</th></tr></thead>
<tbody><tr>${AGING_BUCKETS.map((b) => minorCell(s.aging[b], ccy, b !== 'notDue'))}${minorCell(s.openAmount, ccy)}</tr></tbody>
</table></div>`;

  const openShown = open.slice(0, OPEN_SHOWN);
  const openTable =
    open.length === 0
      ? html`<p class="muted">No open items.</p>`
      : html`<div class="wrap"><table>
<thead><tr><th>Invoice</th><th>Issued</th><th>Due</th><th class="num">Amount</th><th class="num">Open</th><th class="num">Days past due</th><th>Bucket</th><th>Disputed</th></tr></thead>
<tbody>
${openShown.map((i) => {
  const late = (i.daysPastDue ?? 0) > 0;
  return html`<tr><td>${i.invoiceId}</td><td>${i.issueDate}</td><td>${i.dueDate}</td>
${minorCell(i.amount, i.currency)}${minorCell(i.open, i.currency, late)}${numCell(i.daysPastDue, true)}
<td class="${late ? 'late' : ''}">${i.bucket ? BUCKET_LABELS[i.bucket] : ''}</td><td>${disputedCell(i)}</td></tr>`;
})}
</tbody></table></div>
${open.length > OPEN_SHOWN ? html`<p class="note">Showing the ${OPEN_SHOWN} oldest due of ${open.length} open items; the JSON at <a href="${`/api${customerHref(id, asOf)}`}">/api/customers/…</a> has them all.</p>` : ''}`;

  const settledShown = settled.slice(0, SETTLED_SHOWN);
  const settledTable =
    settled.length === 0
      ? html`<p class="muted">No invoices settled by this date.</p>`
      : html`<div class="wrap"><table>
<thead><tr><th>Invoice</th><th>Issued</th><th>Due</th><th class="num">Amount</th><th>Settled</th><th class="num">Days late</th><th class="num">Days to settle</th><th>Disputed</th></tr></thead>
<tbody>
${settledShown.map(
  (
    i,
  ) => html`<tr><td>${i.invoiceId}</td><td>${i.issueDate}</td><td>${i.dueDate}</td>${minorCell(i.amount, i.currency)}
<td>${i.settledDate}</td>${numCell(i.daysLate, true)}${numCell(i.daysToSettle)}<td>${yesNo(i.disputed)}</td></tr>`,
)}
</tbody></table></div>
${settled.length > SETTLED_SHOWN ? html`<p class="note">Showing the ${SETTLED_SHOWN} most recently settled of ${settled.length} settled invoices.</p>` : ''}`;

  const payments =
    apps.length === 0
      ? html`<p class="muted">No payments received by this date.</p>`
      : html`<div class="wrap"><table>
<thead><tr><th>Payment</th><th>Received</th><th class="num">Amount</th><th>Applied to</th><th class="num">Unapplied</th></tr></thead>
<tbody>
${apps.slice(0, PAYMENTS_SHOWN).map((a) => {
  const total = a.allocations.reduce((n, x) => n + x.amount, 0) + a.unapplied;
  const applied =
    a.allocations.length === 0
      ? html`<span class="muted">nothing</span>`
      : a.allocations.map(
          (x, i) => html`${i > 0 ? html`<br>` : ''}${x.invoiceId}: ${money(x.amount, a.currency)}`,
        );
  return html`<tr><td>${a.paymentId}</td><td>${a.receivedDate}</td>${minorCell(total, a.currency)}
<td class="wide">${applied}</td>${minorCell(a.unapplied, a.currency)}</tr>`;
})}
</tbody>
<tfoot><tr><td colspan="4">Unapplied cash</td>${minorCell(s.unappliedCash, ccy)}</tr></tfoot>
</table></div>
${apps.length > PAYMENTS_SHOWN ? html`<p class="note">Showing the ${PAYMENTS_SHOWN} most recent of ${grouped(apps.length)} payments (the total above is of all of them); the JSON at <a href="${`/api${customerHref(id, asOf)}`}">/api/customers/…</a> has them all.</p>` : ''}
${unappliedOther.length > 0 ? html`<p class="note">Unapplied cash in other currencies, not in the total: ${unappliedOther.map((a, i) => html`${i > 0 ? ', ' : ''}${a.paymentId} ${money(a.unapplied, a.currency)}`)}.</p>` : ''}`;

  const notesTable =
    notes.length === 0
      ? ''
      : html`<h2>Allocation notes (${grouped(notes.length)})</h2>
<div class="wrap"><table>
<thead><tr><th>Payment</th><th>Invoice named</th><th>Code</th><th>Meaning</th></tr></thead>
<tbody>
${notes
  .slice(0, NOTES_SHOWN)
  .map(
    (n) =>
      html`<tr><td>${n.paymentId}</td><td>${n.invoiceId}</td><td><code>${n.code}</code></td><td class="wide">${NOTE_MEANING[n.code] ?? ''}</td></tr>`,
  )}
</tbody></table></div>
${notes.length > NOTES_SHOWN ? html`<p class="note">Showing the first ${NOTES_SHOWN} of ${grouped(notes.length)} notes; the JSON at <a href="${`/api${customerHref(id, asOf)}`}">/api/customers/…</a> has them all.</p>` : ''}`;

  const financials =
    file.financials.length === 0
      ? ''
      : html`<h2>Financial statements</h2>
<div class="wrap"><table>
<thead><tr><th>Period end</th><th class="num">Revenue</th><th class="num">EBIT</th><th class="num">Current assets</th><th class="num">Current liabilities</th><th class="num">Total assets</th><th class="num">Total liabilities</th><th class="num">Equity</th></tr></thead>
<tbody>
${[...file.financials]
  .sort((a, b) => (a.periodEnd < b.periodEnd ? 1 : -1))
  .map((f) => {
    const cell = (n: number | undefined) =>
      n === undefined ? html`<td class="num muted">—</td>` : minorCell(n, f.currency);
    return html`<tr><td>${f.periodEnd}</td>${cell(f.revenue)}${cell(f.ebit)}${cell(f.currentAssets)}${cell(f.currentLiabilities)}${cell(f.totalAssets)}${cell(f.totalLiabilities)}${cell(f.equity)}</tr>`;
  })}
</tbody></table></div>`;

  return html`<p><a href="${`/customers?asOf=${encodeURIComponent(asOf)}`}">← All customers</a></p>
<h1>${c?.name ?? id}${c?.name ? html` <span class="muted">· ${id}</span>` : ''}</h1>
${asOfForm(`/customers/${encodeURIComponent(id)}`, asOf)}
<div class="cols">
<section><h2>Master data</h2>${master}</section>
<section><h2>Summary as of ${asOf}</h2>${summary}</section>
</div>
${other}
${credit ? creditSection(credit) : ''}
<h2>Aging</h2>
${aging}
${credit ? creditFileSection(credit.file) : ''}
${credit?.collections ? collectionsRecordSection(credit.collections) : ''}
<h2>Open items (${open.length})</h2>
${openTable}
${predictions ? predictionsSection(predictions, asOf) : ''}
<h2>Settled invoices (${settled.length})</h2>
${settledTable}
<h2>Payments (${apps.length})</h2>
${payments}
${notesTable}
${financials}`;
}

// ---------------------------------------------------------------------------------------------
// Credit: assessments and alerts

/** A customer's assessment as of a date (computed live, never stored) and its active alerts. */
export interface CreditView {
  /** The assessment with its words, and what a review would decide today. */
  readonly assessment: ExplainedAssessment & { readonly decision: LimitDecision };
  readonly alerts: readonly Alert[];
  /** Open receivables less unapplied cash plus the approved transfers counted, as of the date. */
  readonly exposure: number;
  /** The approved transfers the exposure counts as of the date. */
  readonly transfers: readonly TransferCommitment[];
  /** The rest of the credit file: history, limit changes, security, the customer's transfers. */
  readonly file: CreditFileView;
  /** The answer forms of the active alerts (they come back to this page), when the console acts. */
  readonly answer?: AnswerForms | undefined;
  /** The collection plan's record of the customer as of the date: steps taken, promises, disputes. */
  readonly collections?: CollectionsRecord | undefined;
}

export function creditSection({ assessment: a, alerts, exposure, transfers, answer }: CreditView): Html {
  const ccy = a.currency;
  const l = a.limit;
  const got = a.factors.reduce((n, f) => n + f.points, 0);
  const max = a.factors.reduce((n, f) => n + f.maxPoints, 0);
  const head = kv([
    ['Score', `${a.score}/100`],
    ['Rating', html`<span class="rating">${a.rating}</span>`],
    ['Risk class', a.riskClass],
    ['Policy', html`<code>${a.policyId}</code>`],
    ['Exposure', money(exposure, ccy)],
    [
      'Approved transfers counted',
      transfers.length === 0
        ? undefined
        : html`${transfers.map((t, i) => html`${i > 0 ? ', ' : ''}<a href="${transferHref(t.transferId)}">${money(t.amount, t.currency)} ${typeLabel(t.transferType).toLowerCase()}</a>`)}`,
    ],
  ]);
  const limit = kv([
    ['Current limit', l.current === undefined ? undefined : money(l.current, l.currency)],
    [
      'Recommended',
      l.recommended === undefined ? 'none (no sales in the window)' : money(l.recommended, l.currency),
    ],
    ['Change', l.change],
    ['A review today', `${a.decision.outcome}: ${a.decision.words}`],
    ['Reason', l.reason],
    ['Basis', html`<ul class="basis">${l.basis.map((b) => html`<li>${b}</li>`)}</ul>`],
  ]);
  const factors = html`<div class="wrap"><table>
<thead><tr><th>Factor</th><th class="num">Points</th><th class="num">Max</th><th>Reason code</th><th>Reason</th></tr></thead>
<tbody>
${a.factors.map(
  (f) =>
    html`<tr><td>${words(f.factor)}</td>${numCell(f.points)}${numCell(f.maxPoints)}<td><code>${f.code}</code></td><td class="wide">${f.reason}</td></tr>`,
)}
</tbody>
<tfoot><tr><td>Total</td>${numCell(got)}${numCell(max)}<td colspan="2">score ${a.score}/100 = points as a share of the points available</td></tr></tfoot>
</table></div>`;
  const active =
    alerts.length === 0
      ? html`<p class="muted">No active alerts for this customer.</p>`
      : activeAlertsTable([...alerts].sort(bySeverity), new Map(), false, answer);
  return html`<h2>Credit assessment as of ${a.asOf}</h2>
<p class="muted">Computed now from the books as they stood that day, under the policy in force; amounts in ${ccy}. Nothing is stored from the console.</p>
<div class="cols">
<section>${head}</section>
<section><h2>Limit recommendation</h2>${limit}</section>
</div>
<h2>Score factors</h2>
${factors}
<h2>Active alerts (${alerts.length})</h2>
${active}`;
}

/** What the customer page reads beside the partition: its reviews, its transfers, the upload's date. */
export interface CreditViewMore {
  readonly reviews?: readonly Review[] | undefined;
  /** Every transfer asked for the customer (the transfer store's `transfersOf`). */
  readonly transfers?: ConsoleTransfers['ofCustomer'];
  /** The day an ingest run ran (the master data's limit as uploaded is dated by its run). */
  readonly runDate?: ((runId: string) => Promise<IsoDate | undefined>) | undefined;
  readonly answer?: AnswerForms | undefined;
  /** The customer's partition when the caller has read it already (the page reads it once). */
  readonly part?: CustomerPartition | undefined;
}

/**
 * The customer's credit as of a date and its file over time, from one load of its partition: the
 * assessment of the day and, in memory, the twelve month-ends before it (functions/credit/history.ts).
 */
export async function creditView(
  credit: ConsoleCredit,
  id: string,
  asOf: IsoDate,
  more: CreditViewMore = {},
): Promise<CreditView> {
  const [part, policy, asked] = await Promise.all([
    more.part ?? credit.store.loadCustomerPartition(id),
    credit.policy(),
    more.transfers ? more.transfers(id) : undefined,
  ]);
  const whole = creditFileOf(id, part);
  const file = asOfFile(whole, asOf);
  const assessed = assess(file, asOf, policy);
  const { figures, ...explained } = explainAssessment(assessed);
  const decision = decisionFor(file, assessed, part.alerts, policy);
  const transfers = (file.transfers ?? []).filter(
    (t) => t.currency === file.currency && transferCounts(t, asOf),
  );
  const runId = part.profileSource?.runId;
  const uploadedOn = runId && more.runDate ? await more.runDate(runId) : undefined;
  const newestFirst = asked
    ? [...asked].sort((a, b) => (a.requestedAt < b.requestedAt ? 1 : a.requestedAt > b.requestedAt ? -1 : 0))
    : undefined;
  return {
    assessment: { ...explained, decision },
    alerts: part.alerts,
    exposure: figures.exposure,
    transfers,
    answer: more.answer,
    collections: policy.collections
      ? collectionsRecordOf(
          id,
          part,
          policy.collections,
          asOf,
          more.answer && credit.collections ? more.answer : undefined,
        )
      : undefined,
    file: {
      asOf,
      currency: file.currency,
      history: creditHistory(whole, monthEnds(asOf), policy),
      ratings: policy.ratings,
      limits: limitStepsOf(id, part, more.reviews ?? [], asked ?? [], uploadedOn),
      file: whole,
      cover: figures.cover,
      scoreUsed: figures.externalScore,
      transfers: newestFirst,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The customers routes: the page, its JSON twin and its CSV

/** GET /customers and /api/customers: the same query, as a page or as JSON with the paging. */
export async function customersReply(
  opts: ConsoleOptions,
  params: URLSearchParams,
  api: boolean,
): Promise<Reply> {
  const asOf = asOfParam(params, opts.today);
  const query = customerQueryOf(params, api);
  const explicitSize = (params.get('size') ?? '') !== '';
  const list = await opts.queries.customers(asOf, query);
  if (!api)
    return htmlReply(200, `Receivables ${asOf}`, customersPage(list, query, explicitSize), 'customers');
  const base = queryParams(asOf, query, explicitSize);
  const href = (page: number) =>
    hrefWith('/api/customers', { ...base, page: page === 1 ? undefined : String(page) });
  return jsonReply(200, {
    asOf,
    customers: list.lines,
    totals: list.totals,
    book: {
      reportingCurrency: list.book.report,
      currencies: list.book.byCurrency.map((t) => ({
        currency: t.currency,
        customers: t.customers,
        openAmount: formatMinor(t.open, t.currency),
        overdueAmount: formatMinor(t.overdue, t.currency),
        exposure: formatMinor(t.exposure, t.currency),
        rate: t.rate,
        converted: t.converted
          ? {
              currency: list.book.report,
              openAmount: formatMinor(t.converted.open, list.book.report),
              overdueAmount: formatMinor(t.converted.overdue, list.book.report),
              exposure: formatMinor(t.converted.exposure, list.book.report),
            }
          : undefined,
      })),
      total: {
        currency: list.book.report,
        openAmount: formatMinor(list.book.total.open, list.book.report),
        overdueAmount: formatMinor(list.book.total.overdue, list.book.report),
        exposure: formatMinor(list.book.total.exposure, list.book.report),
      },
      unconverted: list.book.unconverted,
    },
    paging: {
      page: list.page,
      pages: list.pages,
      size: list.size,
      from: list.from,
      to: list.from === 0 ? 0 : list.from + list.rows.length - 1,
      total: list.matched,
      customersOnFile: list.customers,
      ...(list.page < list.pages ? { next: href(list.page + 1) } : {}),
      ...(list.page > 1 ? { prev: href(list.page - 1) } : {}),
    },
    query: Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)),
    basis: list.basis,
  });
}

/** GET /customers.csv: every customer the query selects (all pages), in its order. */
export async function customersCsvReply(opts: ConsoleOptions, params: URLSearchParams): Promise<Reply> {
  const asOf = asOfParam(params, opts.today);
  const query = { ...customerQueryOf(params, true), size: undefined, page: undefined };
  const list = await opts.queries.customers(asOf, query);
  return {
    status: 200,
    type: 'text',
    body: customersCsv(list.matchedRows),
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="customers-${asOf}.csv"`,
    },
  };
}
