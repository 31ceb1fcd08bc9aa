import type { IncomingMessage } from 'node:http';
import type { AlertRef } from '../../../functions/adapters/dynamodb.ts';
import { addDays, type IsoDate, isoDateOrNull, parseDate } from '../../../functions/core/dates.ts';
import { formatMinor } from '../../../functions/core/money.ts';
import { moneyAsDecimals } from '../../../functions/core/money-json.ts';
import { grouped, type Page, slicePage } from '../../../functions/core/paging.ts';
import { type Alert, type AlertCommand, alertRef, applyCommand } from '../../../functions/credit/alerts.ts';
import {
  RULES,
  type RuleName,
  SEVERITIES,
  SEVERITY_RANK,
  type Severity,
} from '../../../functions/credit/policy.ts';
import type { AlertFilter, EvaluationWrite } from '../../../functions/credit/ports.ts';
import { type Html, html } from './layout.ts';
import type { ConsoleCredit, ConsoleOptions } from './options.ts';
import {
  afterParam,
  choiceParam,
  csvReply,
  holds,
  hrefWith,
  IN_MEMORY_MAX,
  pageParam,
  pagerHtml,
  pagingJson,
  searchParam,
  selectHtml,
  shownHtml,
  sortHead,
  sortParams,
  sortSelects,
  tooManyHtml,
} from './paging.ts';
import { customerHref, formFields, htmlReply, instant, type Reply } from './shared.ts';

/**
 * The Alerts page (`/alerts`, JSON at `/api/alerts`, CSV at `/alerts.csv`): the active alerts a
 * page at a time, most severe first, or the resolved ones, newest first; narrowed by status,
 * severity, rule and customer, searched by customer id or name, sorted by severity, the date
 * raised, the customer or the alert's amount. The filters, search and sort live in the URL (a
 * plain GET form), so every link and the CSV keep them.
 *
 * What is read per page: in the list's own order (no search, no other sort) the store pages it
 * (`?after=` its cursor; status, severity, rule and customer applied by the store, the counts from
 * its COUNT queries). A search (names are not on the alerts) or another sort cannot be paged by
 * the store: the alerts the store's filters select are read whole, searched and sorted in memory
 * and paged by number (`?page=`), at most `IN_MEMORY_MAX` of them (past that the page asks for a
 * narrower filter, counted first without reading an alert).
 */

/**
 * Active alerts a page: 100, as each row carries its answer form (200 rows made a 268 KB page,
 * past the 250 KB a page may weigh); the resolved list, without forms, shows 200.
 */
export const ACTIVE_PAGE = 100;
export const RESOLVED_PAGE = 200;
/** Resolved alerts shown under the active ones on the first page. */
export const RESOLVED_SHOWN = 50;

export const STATUSES = ['active', 'open', 'acknowledged', 'snoozed', 'resolved'] as const;
export type Status = (typeof STATUSES)[number];
/** Most severe first, as the page lists them. */
export const BY_RANK: readonly Severity[] = [...SEVERITIES].reverse();

export const ALERT_SORT_LABELS = {
  severity: 'Severity',
  raised: 'Raised',
  customer: 'Customer',
  amount: 'Amount',
} as const;
export type AlertSort = keyof typeof ALERT_SORT_LABELS;
export const ALERT_SORTS = Object.keys(ALERT_SORT_LABELS) as AlertSort[];
/** Each sort's first direction: severity, dates and amounts largest first; customers A to Z. */
const FIRST_DIR: Record<AlertSort, 'asc' | 'desc'> = {
  severity: 'desc',
  raised: 'desc',
  customer: 'asc',
  amount: 'desc',
};

export interface AlertsQuery {
  readonly status: Status;
  readonly severity: Severity | undefined;
  readonly rule?: RuleName | undefined;
  /** One customer's alerts (its exact id). */
  readonly customer?: string | undefined;
  /** Part of a customer's id or name. */
  readonly q?: string | undefined;
  readonly sort?: AlertSort | undefined;
  readonly dir?: 'asc' | 'desc' | undefined;
  /** The store's cursor (the list's own order). */
  readonly after: string | undefined;
  /** The page number (a search or another sort, computed in memory). */
  readonly page?: number | undefined;
}

export function alertsQuery(params: URLSearchParams): AlertsQuery {
  const { sort, dir } = sortParams(params, ALERT_SORTS);
  const customer = params.get('customer')?.trim() ?? '';
  return {
    status: choiceParam(params, 'status', STATUSES) ?? 'active',
    severity: choiceParam(params, 'severity', BY_RANK),
    rule: choiceParam(params, 'rule', RULES),
    customer: customer === '' ? undefined : customer,
    q: searchParam(params),
    sort,
    dir: sort ? (dir ?? FIRST_DIR[sort]) : undefined,
    after: afterParam(params),
    page: params.has('page') ? pageParam(params) : undefined,
  };
}

/** Whether the store's own order serves the query (no search; no sort, or the active list's severity order). */
export const storeOrder = (q: AlertsQuery) =>
  q.q === undefined &&
  (q.sort === undefined || (q.sort === 'severity' && q.dir === 'desc' && q.status !== 'resolved'));

export const filterOf = (q: AlertsQuery): AlertFilter => ({
  severity: q.severity,
  status: q.status === 'active' || q.status === 'resolved' ? undefined : q.status,
  rule: q.rule,
  customerId: q.customer,
});

/** The filter of the counts by severity (each severity's count is its own key range). */
const withoutSeverity = ({ severity: _, ...rest }: AlertFilter): Omit<AlertFilter, 'severity'> => rest;

/** The query's URL parameters (those set, in a fixed order): every link keeps the list as it is. */
export const alertsParams = (q: Omit<AlertsQuery, 'after'>): Record<string, string | undefined> => ({
  status: q.status === 'active' ? undefined : q.status,
  severity: q.severity,
  rule: q.rule,
  customer: q.customer,
  q: q.q,
  sort: q.sort,
  dir: q.sort ? q.dir : undefined,
});

/** The page's address with the filters kept (and the page's cursor or number, when given). */
export const alertsHref = (q: Omit<AlertsQuery, 'after'>, after?: string, api = false, page?: number) =>
  hrefWith(api ? '/api/alerts' : '/alerts', {
    ...alertsParams(q),
    after,
    page: page !== undefined && page > 1 ? String(page) : undefined,
  });

/** What the page shows: a page of the list asked for and, on the first page of all active alerts, the latest resolved. */
export interface AlertsView {
  readonly q: AlertsQuery;
  readonly page: Page<Alert>;
  /** Active alerts by severity (with the status filter), for the counts and the severity links. */
  readonly bySeverity?: Record<Severity, number> | undefined;
  readonly recent?: Page<Alert> | undefined;
  /** Paged by number in memory (a search or another sort), not by the store's cursor. */
  readonly inMemory?: boolean | undefined;
  /** How many matched, when more than a search or sort reads at once (nothing was read). */
  readonly tooMany?: number | undefined;
  /** The customers' names already read (a search reads them all). */
  readonly names?: ReadonlyMap<string, string> | undefined;
}

/** The amount an alert is about (its facts' headline amount, in the alert's currency), if it has one. */
export function alertAmount(
  a: Pick<Alert, 'facts' | 'currency'>,
): { readonly amount: number; readonly currency: string } | undefined {
  const f = a.facts as Record<string, unknown> | undefined;
  if (!f || !a.currency) return undefined;
  for (const k of ['overdueAmount', 'exposure', 'amount', 'disputedAmount', 'openAmount']) {
    const v = f[k];
    if (typeof v === 'number') return { amount: v, currency: a.currency };
  }
  return undefined;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The alerts in the order asked for (each sort ends with customer and rule, so ties are stable).
 * Amounts compare by their value in major units across currencies (the amount column says the
 * currency); alerts without an amount come last either way.
 */
export function sortAlerts<A extends SortFields>(
  alerts: readonly A[],
  sort: AlertSort,
  dir: 'asc' | 'desc',
): A[] {
  const s = dir === 'desc' ? -1 : 1;
  const tie = (a: SortFields, b: SortFields) => cmp(a.customerId, b.customerId) || cmp(a.rule, b.rule);
  const major = (a: SortFields) => {
    const m = alertAmount(a);
    return m ? Number(formatMinor(m.amount, m.currency)) : undefined;
  };
  const by: Record<AlertSort, (a: SortFields, b: SortFields) => number> = {
    severity: (a, b) => s * (SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]) || tie(a, b),
    raised: (a, b) => s * cmp(a.openedAt, b.openedAt) || tie(a, b),
    customer: (a, b) => s * tie(a, b),
    amount: (a, b) => {
      const x = major(a);
      const y = major(b);
      if (x === undefined || y === undefined)
        return (x === undefined ? 1 : 0) - (y === undefined ? 1 : 0) || tie(a, b);
      return s * (x - y) || tie(a, b);
    },
  };
  return [...alerts].sort(by[sort]);
}

/** What sorting and searching an alert reads (an alert, or the store's slim `AlertRef`). */
type SortFields = Pick<Alert, 'customerId' | 'rule' | 'severity' | 'openedAt' | 'facts' | 'currency'>;

/** The alerts a search keeps: those whose customer id or name holds the text. */
export const searchAlerts = <A extends SortFields>(
  alerts: readonly A[],
  q: string,
  names: ReadonlyMap<string, string>,
) => alerts.filter((a) => holds(a.customerId, q) || holds(names.get(a.customerId), q));

/**
 * The alerts the query selects as the store's slim references (customer, rule, severity, dates,
 * facts: no history, summary or evidence), searched and sorted: a page then reads its own alerts in
 * full by key. Names are read only for a search.
 */
async function matchingRefs(
  credit: ConsoleCredit,
  q: AlertsQuery,
): Promise<{ refs: AlertRef[]; names?: Map<string, string> | undefined }> {
  const which = q.status === 'resolved' ? 'resolved' : 'active';
  const read = await credit.store.alertRefs(which, filterOf(q));
  if (q.q === undefined)
    return { refs: q.sort && !storeOrder(q) ? sortAlerts(read, q.sort, q.dir ?? FIRST_DIR[q.sort]) : read };
  const names = await namesOf(
    credit,
    read.map((r) => r.customerId),
  );
  const found = searchAlerts(read, q.q, names);
  return {
    refs: q.sort && !storeOrder(q) ? sortAlerts(found, q.sort, q.dir ?? FIRST_DIR[q.sort]) : found,
    names,
  };
}

/**
 * Every alert the query selects, in its order (the CSV, and a page computed in memory): read from
 * the store with its filters, then searched and sorted here.
 */
export async function matchingAlerts(
  credit: ConsoleCredit,
  q: AlertsQuery,
): Promise<{ alerts: Alert[]; names: Map<string, string> }> {
  const which = q.status === 'resolved' ? 'resolved' : 'active';
  const read = await credit.store.listAlerts(which, filterOf(q));
  // Every name only for a search (names are not on the alerts); a sort needs none.
  const names = q.q === undefined ? new Map<string, string>() : await customerNames(credit, read);
  const found = q.q === undefined ? read : searchAlerts(read, q.q, names);
  return {
    alerts: q.sort && !storeOrder(q) ? sortAlerts(found, q.sort, q.dir ?? FIRST_DIR[q.sort]) : found,
    names,
  };
}

export async function alertsView(credit: ConsoleCredit, q: AlertsQuery): Promise<AlertsView> {
  const store = credit.store;
  const filter = filterOf(q);
  const resolved = q.status === 'resolved';
  if (!storeOrder(q)) {
    // Counted first (no alert read): a search or a sort reads them all, so only up to IN_MEMORY_MAX.
    const bySeverity = resolved ? undefined : await store.activeAlertCounts(withoutSeverity(filter));
    const n = bySeverity
      ? q.severity
        ? bySeverity[q.severity]
        : BY_RANK.reduce((m, s) => m + bySeverity[s], 0)
      : await store.countAlerts('resolved', filter);
    if (n > IN_MEMORY_MAX)
      return { q, page: { items: [], from: 1, total: n }, bySeverity, inMemory: true, tooMany: n };
    const { refs, names } = await matchingRefs(credit, q);
    const slice = slicePage(refs, q.page ?? 1, resolved ? RESOLVED_PAGE : ACTIVE_PAGE);
    const page = { ...slice, items: await credit.store.alertsByKey(slice.items) };
    return { q, page, bySeverity, inMemory: true, names };
  }
  if (resolved)
    return { q, page: await store.alertsPage('resolved', filter, { size: RESOLVED_PAGE, after: q.after }) };
  // One COUNT per severity gives both the counts by severity and the total (no second count).
  const counts = store.activeAlertCounts(withoutSeverity(filter));
  const total = counts.then((c) => (q.severity ? c[q.severity] : BY_RANK.reduce((n, s) => n + c[s], 0)));
  const withRecent =
    q.status === 'active' &&
    q.severity === undefined &&
    q.rule === undefined &&
    q.customer === undefined &&
    q.after === undefined;
  const [bySeverity, page, recent] = await Promise.all([
    counts,
    store.alertsPage('active', filter, { size: ACTIVE_PAGE, after: q.after }, total),
    withRecent ? store.alertsPage('resolved', {}, { size: RESOLVED_SHOWN }) : undefined,
  ]);
  return { q, page, bySeverity, recent };
}

/** A page's link: the store's cursor, or the page number of a list computed in memory. */
const pageHref = (v: AlertsView, api: boolean) => (token: string | undefined) =>
  v.inMemory
    ? alertsHref(v.q, undefined, api, token === undefined ? 1 : Number(token))
    : alertsHref(v.q, token, api);

/**
 * The JSON answer: the same page, with where it sits and the links to the pages beside it. Amounts
 * (the alerts' facts) as plain decimals beside their currency, as every API writes money.
 */
export function alertsJson(v: AlertsView): unknown {
  const href = pageHref(v, true);
  const paging = {
    ...pagingJson(v.page, href),
    ...(v.bySeverity ? { bySeverity: v.bySeverity } : {}),
    ...(v.tooMany !== undefined ? { tooMany: `more than ${IN_MEMORY_MAX} match: narrow the filters` } : {}),
  };
  const items = moneyAsDecimals(v.page.items);
  const query = Object.fromEntries(Object.entries(alertsParams(v.q)).filter(([, x]) => x !== undefined));
  if (v.q.status === 'resolved') return { resolved: items, paging: { resolved: paging }, query };
  return {
    active: items,
    ...(v.recent ? { resolved: moneyAsDecimals(v.recent.items) } : {}),
    paging: {
      active: paging,
      ...(v.recent
        ? { resolved: pagingJson(v.recent, (a) => alertsHref({ ...v.q, status: 'resolved' }, a, true)) }
        : {}),
    },
    query,
  };
}

/** Links that narrow the list: by status, and by severity (with the counts of the active ones). */
export function filtersHtml(v: AlertsView): Html {
  const link = (label: string, q: Omit<AlertsQuery, 'after'>, on: boolean) =>
    on ? html`<strong aria-current="true">${label}</strong>` : html`<a href="${alertsHref(q)}">${label}</a>`;
  const keep = { ...v.q, page: undefined };
  const statuses = STATUSES.map(
    (s, i) => html`${i > 0 ? ' · ' : ''}${link(s, { ...keep, status: s }, s === v.q.status)}`,
  );
  const severities = [undefined, ...BY_RANK].map((s, i) => {
    const n = s && v.bySeverity ? ` (${grouped(v.bySeverity[s])})` : '';
    return html`${i > 0 ? ' · ' : ''}${link(`${s ?? 'all'}${n}`, { ...keep, severity: s }, s === v.q.severity)}`;
  });
  return html`<nav class="filters" aria-label="filters"><span class="muted">Status:</span> ${statuses}<br><span class="muted">Severity:</span> ${severities}</nav>`;
}

/** The form that searches, filters and sorts (a plain GET form: what it asks for is in the URL). */
export function alertsForm(q: AlertsQuery): Html {
  return html`<form class="filters" method="get" action="/alerts" role="search" id="alert-filters">
<p><label for="q">Search</label> <input type="search" id="q" name="q" value="${q.q ?? ''}" placeholder="customer id or name" maxlength="100">
<label for="customer">Customer id</label> <input type="text" id="customer" name="customer" value="${q.customer ?? ''}" autocomplete="off"></p>
<p>${selectHtml(
    'status',
    'Status',
    STATUSES.filter((s) => s !== 'active'),
    q.status === 'active' ? undefined : q.status,
  )}
${selectHtml('severity', 'Severity', BY_RANK, q.severity)}
${selectHtml(
  'rule',
  'Rule',
  RULES.map((r) => [r, words(r)] as const),
  q.rule,
)}</p>
<p>${sortSelects(ALERT_SORT_LABELS, { sort: q.sort, dir: q.dir }, q.status === 'resolved' ? 'newest resolved first' : 'most severe first')}</p>
<p><button type="submit">Show</button> <a href="/alerts">Clear the filters</a> · <a href="${hrefWith('/alerts.csv', alertsParams(q))}" download>Download these alerts (CSV)</a></p>
</form>`;
}

/** "critical open alerts" (what the page lists, in words). */
export const listWords = (q: AlertsQuery) =>
  `${q.severity ? `${q.severity} ` : ''}${q.status === 'active' ? 'active' : q.status} ${q.rule ? `${words(q.rule)} ` : ''}alerts${q.customer ? ` of ${q.customer}` : ''}${q.q ? ` whose customer holds "${q.q}"` : ''}`;

const narrowed = (q: AlertsQuery) =>
  Boolean(q.severity || q.rule || q.customer || q.q || !['active', 'resolved'].includes(q.status));

/** A table's column heads: plain, or links that sort the list by them (the Alerts page). */
export type Heads = (key: AlertSort, label: string) => Html;
const plainHead: Heads = (_key, label) => html`<th>${label}</th>`;

export function resolvedTable(
  alerts: readonly Alert[],
  names: ReadonlyMap<string, string>,
  head: Heads = plainHead,
): Html {
  return html`<div class="wrap"><table>
<thead><tr>${head('severity', 'Severity')}${head('customer', 'Customer')}<th>Rule</th>${head('raised', 'Opened as of')}<th>Resolved</th><th>How</th><th>Summary</th></tr></thead>
<tbody>
${alerts.map(
  (a) => html`<tr><td>${severityBadge(a.severity)}</td>
<td><a href="${customerHref(a.customerId, a.seenAsOf)}">${a.customerId}</a>${names.get(a.customerId) ? html`<br><span class="muted">${names.get(a.customerId)}</span>` : ''}</td>
<td><code class="word">${a.rule}</code></td><td>${a.openedAsOf}</td><td>${instant(a.resolvedAt)}</td><td class="text">${statusText(a)}</td><td class="text">${a.summary}</td></tr>`,
)}
</tbody></table></div>`;
}

export function recentSection(recent: Page<Alert>, names: ReadonlyMap<string, string>): Html {
  const all = html`<a href="/alerts?status=resolved">every resolved alert, page by page</a>`;
  return html`<h2>Recently resolved (${grouped(recent.total)})</h2>
${
  recent.total === 0
    ? html`<p class="muted">None yet.</p>`
    : html`<p class="muted">The ${recent.items.length < recent.total ? html`${grouped(recent.items.length)} most recently resolved of ${grouped(recent.total)}` : html`${grouped(recent.total)} resolved`}, newest first; ${all}.</p>
${resolvedTable(recent.items, names)}`
}`;
}

export function alertsPage(
  v: AlertsView,
  names: ReadonlyMap<string, string>,
  answer?: AnswerForms,
  done?: Html | '',
): Html {
  const { q, page } = v;
  const resolved = q.status === 'resolved';
  const order =
    q.sort && !storeOrder(q)
      ? `by ${ALERT_SORT_LABELS[q.sort].toLowerCase()}, ${q.dir === 'desc' ? 'descending' : 'ascending'}`
      : resolved
        ? 'newest first'
        : 'most severe first';
  const c = v.bySeverity;
  const all = c ? BY_RANK.reduce((n, s) => n + c[s], 0) : 0;
  const counts = c
    ? html`<p class="muted" id="alert-counts">${grouped(all)} ${q.status} alert${all === 1 ? '' : 's'} (${BY_RANK.map((s) => `${grouped(c[s])} ${s}`).join(', ')}). Answer an alert with the form on its row, or tick several and answer them at once;
the CLI does the same: <code>sentinel alerts ack|resolve &lt;customer&gt;/&lt;rule&gt;</code> or <code>sentinel alerts snooze &lt;customer&gt;/&lt;rule&gt; --until YYYY-MM-DD</code>.</p>`
    : '';
  const empty = !narrowed(q)
    ? q.status === 'active'
      ? 'No active alerts. The early-warning rules run after every upload and daily at 05:00.'
      : 'No resolved alerts.'
    : html`No ${listWords(q)}. <a href="/alerts">Clear the filters</a>.`;
  const base = { ...q, page: undefined };
  const href = pageHref(v, false);
  const head: Heads = (key, label) =>
    sortHead(
      key,
      label,
      { sort: q.sort, dir: q.dir },
      (o) => alertsHref({ ...base, sort: o.sort as AlertSort, dir: o.dir as 'asc' | 'desc' }),
      {
        descFirst: FIRST_DIR[key] === 'desc',
      },
    );
  const list =
    v.tooMany !== undefined
      ? tooManyHtml(v.tooMany, listWords(q), 'status, severity, rule or customer')
      : page.total === 0 && page.items.length === 0
        ? html`<p class="note">${empty}</p>`
        : html`${shownHtml(page, resolved ? 'Resolved alerts' : 'Alerts', order, narrowed(q) ? listWords(q) : undefined)}
${pagerHtml(page, href)}
${resolved ? resolvedTable(page.items, names, head) : html`${answer && page.items.length > 0 ? bulkForm(answer) : ''}${activeAlertsTable(page.items, names, true, answer, head)}`}
${pagerHtml(page, href)}`;
  return html`<h1>${resolved ? 'Resolved alerts' : 'Alerts'}</h1>
${done ?? ''}
${counts}
${filtersHtml(v)}
${alertsForm(q)}
${list}
${v.recent ? recentSection(v.recent, names) : ''}`;
}

/** GET /alerts and /api/alerts. */
export async function alertsReply(
  credit: ConsoleCredit,
  params: URLSearchParams,
  api: boolean,
  opts?: Pick<ConsoleOptions, 'operator' | 'today'>,
): Promise<{ readonly json: unknown } | { readonly title: string; readonly body: Html }> {
  const v = await alertsView(credit, alertsQuery(params));
  if (api) return { json: alertsJson(v) };
  const names = v.names ?? (await customerNames(credit, [...v.page.items, ...(v.recent?.items ?? [])]));
  const answer = opts
    ? { back: alertsHref(v.q, v.q.after, false, v.q.page), actor: operatorOf(opts), today: opts.today() }
    : undefined;
  return {
    title: v.q.status === 'resolved' ? 'Resolved alerts' : 'Alerts',
    body: alertsPage(v, names, answer, doneNote(params)),
  };
}

/** The columns of /alerts.csv: the table's, as text (the answer forms and command left out). */
const ACTIVE_CSV = [
  'severity',
  'customer_id',
  'customer_name',
  'rule',
  'status',
  'opened_as_of',
  'seen_as_of',
  'suggested_action',
  'summary',
  'evidence',
];
const RESOLVED_CSV = [
  'severity',
  'customer_id',
  'customer_name',
  'rule',
  'opened_as_of',
  'resolved_at',
  'how',
  'summary',
];

/** GET /alerts.csv: every alert the page's filters, search and sort select (all pages), in its order. */
export async function alertsCsvReply(credit: ConsoleCredit, params: URLSearchParams): Promise<Reply> {
  const q = alertsQuery(params);
  const found = await matchingAlerts(credit, q);
  const alerts = found.alerts;
  const names = q.q === undefined ? await customerNames(credit, alerts) : found.names;
  const evidence = (a: Alert) =>
    Object.entries(a.evidence)
      .map(([k, x]) => `${words(k)}: ${String(x)}`)
      .join('; ');
  const resolved = q.status === 'resolved';
  const rows = alerts.map((a) =>
    resolved
      ? [
          a.severity,
          a.customerId,
          names.get(a.customerId),
          a.rule,
          a.openedAsOf,
          a.resolvedAt,
          text(statusText(a)),
          a.summary,
        ]
      : [
          a.severity,
          a.customerId,
          names.get(a.customerId),
          a.rule,
          text(statusText(a)),
          a.openedAsOf,
          a.seenAsOf,
          actionText(a),
          a.summary,
          evidence(a),
        ],
  );
  return csvReply(`alerts-${q.status}.csv`, resolved ? RESOLVED_CSV : ACTIVE_CSV, rows);
}

/** The text of a fragment (the CSV's status column): tags dropped, entities read back. */
function text(h: Html): string {
  return String(h)
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

export const severityBadge = (s: Severity) => html`<span class="${`badge sev-${s}`}">${s}</span>`;

export const bySeverity = (a: Alert, b: Alert) =>
  SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
  (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0) ||
  (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0);

/** A word for the shell: quoted when it holds anything but plain id characters. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9._\-/:@+=,]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export const ackCommand = (a: Alert) => `sentinel alerts ack ${shellWord(`${a.customerId}/${a.rule}`)}`;

/** "maxDaysPastDue" -> "max days past due" */
export const words = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

export const actionText = (a: Alert) => a.action.replace(/_/g, ' ');

export const evidenceList = (e: Alert['evidence']) =>
  html`<ul class="evidence">${Object.entries(e).map(([k, v]) => html`<li><span>${words(k)}:</span> ${String(v)}</li>`)}</ul>`;

/** The status, and who answered and how (the latest event of that kind). */
export function statusText(a: Alert): Html {
  const latest = (event: string) => [...a.history].reverse().find((h) => h.event === event);
  const who = (e: Alert['history'][number] | undefined) =>
    html`${e?.by ? html` by ${e.by}` : ''}${e?.note ? html` <span class="muted">(${e.note})</span>` : ''}`;
  if (a.status === 'snoozed') {
    const e = latest('snoozed');
    // A snooze without a note records "until <date>" as its note: said once is enough.
    return html`snoozed until ${a.snoozedUntil ?? '—'}${who(e?.note === `until ${a.snoozedUntil}` ? { ...e, note: undefined } : e)}`;
  }
  if (a.status === 'acknowledged') return html`acknowledged${who(latest('acknowledged'))}`;
  if (a.status === 'resolved') return html`resolved${who(latest('resolved'))}`;
  return html`${a.status}`;
}

/**
 * The active alerts. With `answer`, each row has a tick box for the bulk form (`form="bulk"`: the
 * form sits above the table, forms cannot nest) and its own small form in the last column.
 */
export function activeAlertsTable(
  alerts: readonly Alert[],
  names: ReadonlyMap<string, string>,
  withCustomer: boolean,
  answer?: AnswerForms,
  head: Heads = plainHead,
): Html {
  return html`<div class="wrap" id="active-alerts"><table>
<thead><tr>${head('severity', 'Severity')}${withCustomer ? head('customer', 'Customer') : ''}<th>Rule</th><th>Status</th>${head('raised', 'Opened as of')}<th>Suggested action</th><th>Summary</th><th>Evidence</th><th>Answer with</th>${answer ? html`<th>Answer here</th>` : ''}</tr></thead>
<tbody>
${alerts.map(
  (
    a,
  ) => html`<tr><td>${answer ? html`<label class="pick"><input type="checkbox" name="id" value="${a.alertId}" form="bulk" aria-label="${`select ${a.customerId}/${a.rule}`}"> ${severityBadge(a.severity)}</label>` : severityBadge(a.severity)}</td>
${withCustomer ? html`<td><a href="${customerHref(a.customerId, a.seenAsOf)}">${a.customerId}</a>${names.get(a.customerId) ? html`<br><span class="muted">${names.get(a.customerId)}</span>` : ''}</td>` : ''}
<td><code class="word">${a.rule}</code></td><td class="text">${statusText(a)}</td>
<td>${a.openedAsOf}${a.seenAsOf !== a.openedAsOf ? html`<br><span class="muted">seen ${a.seenAsOf}</span>` : ''}</td><td>${actionText(a)}</td>
<td class="text">${a.summary}</td><td class="text">${evidenceList(a.evidence)}</td><td><code class="word">${ackCommand(a)}</code></td>${answer ? html`<td>${rowForm(a, answer)}</td>` : ''}</tr>`,
)}
</tbody></table></div>`;
}

export async function customerNames(
  credit: ConsoleCredit,
  alerts: readonly Alert[],
): Promise<Map<string, string>> {
  return namesOf(
    credit,
    alerts.map((a) => a.customerId),
  );
}

async function namesOf(credit: ConsoleCredit, ids: readonly string[]): Promise<Map<string, string>> {
  const found = await credit.store.getCustomers([...new Set(ids)]);
  const names = new Map<string, string>();
  for (const [id, c] of found) if (c.name) names.set(id, c.name);
  return names;
}

// ---------------------------------------------------------------------------------------------
// Answering alerts: one on its row, or the ticked ones at once. Each goes through `applyCommand`,
// read and written as `sentinel alerts ack|snooze|resolve` does (the active alert by its key, then
// `saveEvaluation`), so an alert answered here reads exactly as one answered with the CLI.

export const ANSWER_PATH = '/alerts/answer';
export const ANSWERS = ['ack', 'snooze', 'resolve'] as const;
export type Answer = (typeof ANSWERS)[number];
const ANSWER_DONE: Record<Answer, string> = { ack: 'acknowledged', snooze: 'snoozed', resolve: 'resolved' };
export const NOTE_MAX = 500;

/** What the answer forms need: where to come back to, who is acting, and today (the earliest snooze is tomorrow). */
export interface AnswerForms {
  /** The list's address with its filters and page (`/alerts?...`). */
  readonly back: string;
  readonly actor: string;
  readonly today: IsoDate;
}

/**
 * Who the console's actions are recorded as unless the form says otherwise: the console's
 * `operator` option, else env SENTINEL_OPERATOR, else USER (the CLI's `--by` default), else "console".
 */
export function operatorOf(opts: Pick<ConsoleOptions, 'operator'>): string {
  return (
    opts.operator?.trim() || process.env.SENTINEL_OPERATOR?.trim() || process.env.USER?.trim() || 'console'
  );
}

// Lean on purpose: a page of 200 alerts carries 200 of these (the note's length is checked on the server).
const answerFields = (f: AnswerForms) => html`<input type="hidden" name="back" value="${f.back}">
<label>By <input name="actor" value="${f.actor}"></label>
<label>Note <input name="note"></label>
<label>Snooze until <input type="date" name="until" min="${addDays(f.today, 1)}"></label>
<span class="buttons"><button name="action" value="ack">Acknowledge</button>
<button name="action" value="snooze">Snooze</button>
<button name="action" value="resolve">Resolve</button></span>`;

/** The form above the table that answers every ticked alert at once. */
export function bulkForm(f: AnswerForms): Html {
  return html`<form id="bulk" class="answer bulk" method="post" action="${ANSWER_PATH}">
<strong>Ticked alerts:</strong>
${answerFields(f)}
</form>`;
}

/** The small form on an alert's row (folded, so the table stays a table). */
export function rowForm(a: Alert, f: AnswerForms): Html {
  return html`<details class="answer"><summary>Answer…</summary><form class="answer" method="post" action="${ANSWER_PATH}">
<input type="hidden" name="id" value="${a.alertId}">
${answerFields(f)}
</form></details>`;
}

/** "3 alerts acknowledged." after a 303 back to the list (`?did=ack&n=3`), or nothing. */
export function doneNote(params: URLSearchParams): Html | '' {
  const did = params.get('did');
  const n = Number(params.get('n'));
  if (!(ANSWERS as readonly string[]).includes(did ?? '') || !Number.isSafeInteger(n) || n < 1) return '';
  return html`<p class="done" role="status">${grouped(n)} alert${n === 1 ? '' : 's'} ${ANSWER_DONE[did as Answer]}.</p>`;
}

/**
 * The page to go back to: a posted `back` if it is this list's address (filters re-read) or a
 * customer's page (its date re-read: the customer page answers its alerts in place), else the list.
 */
export function backHref(raw: string | null): string {
  if (raw?.startsWith('/customers/')) {
    const u = new URL(raw, 'http://console.invalid');
    const id = /^\/customers\/([^/]+)$/.exec(u.pathname)?.[1];
    const asOf = isoDateOrNull(u.searchParams.get('asOf') ?? '');
    if (id === undefined) return '/alerts';
    try {
      return asOf ? customerHref(decodeURIComponent(id), asOf) : `/customers/${id}`;
    } catch {
      return '/alerts';
    }
  }
  if (!raw?.startsWith('/alerts')) return '/alerts';
  const u = new URL(raw, 'http://console.invalid');
  if (u.pathname !== '/alerts') return '/alerts';
  try {
    const q = alertsQuery(u.searchParams);
    return alertsHref(q, q.after, false, q.page);
  } catch {
    return '/alerts';
  }
}

export interface AnswerResult {
  readonly done: readonly Alert[];
  readonly refused: readonly { readonly id: string; readonly reason: string }[];
}

/**
 * Applies one command to the alerts `ids` name (`<customer>/<rule>` or an alert id), as the CLI's
 * `sentinel alerts ack|snooze|resolve` does for one: each read by its key, `applyCommand` decides,
 * the answered ones are written together.
 */
export async function answerAlerts(
  credit: ConsoleCredit,
  ids: readonly string[],
  cmd: AlertCommand,
  now: string,
  today: IsoDate,
): Promise<AnswerResult> {
  const done: Alert[] = [];
  const refused: { id: string; reason: string }[] = [];
  for (const id of ids) {
    const ref = alertRef(id);
    if (!ref) {
      refused.push({ id, reason: 'is not an alert id (<customer>/<rule>)' });
      continue;
    }
    const alert = await credit.store.activeAlert(ref.customerId, ref.rule);
    if (!alert || (ref.alertId !== undefined && alert.alertId !== ref.alertId)) {
      refused.push({ id, reason: 'is no longer active (resolved meanwhile?)' });
      continue;
    }
    const next = applyCommand(alert, cmd, now, today);
    if ('refused' in next) refused.push({ id, reason: next.refused });
    else done.push(next);
  }
  const byCustomer = new Map<string, Alert[]>();
  for (const a of done) byCustomer.set(a.customerId, [...(byCustomer.get(a.customerId) ?? []), a]);
  const writes: EvaluationWrite[] = [...byCustomer].map(([customerId, alerts]) => ({ customerId, alerts }));
  if (writes.length > 0) await credit.store.saveEvaluation(writes);
  return { done, refused };
}

const answerProblem = (status: number, message: string, back: string): Reply =>
  htmlReply(
    status,
    'Not answered',
    html`<h1>Not answered</h1><div class="problem">${message} Nothing was changed.</div>
<p><a href="${back}">Back to the alerts</a></p>`,
    'alerts',
  );

/**
 * POST /alerts/answer (a row's form or the bulk form): `id` (one or more), `action` (ack, snooze,
 * resolve), `actor`, `note`, `until` (snooze), `back`. Every alert answered: 303 back to the list
 * with its filters. Otherwise a page saying which were answered and why the others were not.
 */
export async function answerForm(
  opts: Pick<ConsoleOptions, 'operator' | 'today'>,
  credit: ConsoleCredit,
  req: IncomingMessage,
): Promise<Reply> {
  const body = await formFields(req, 'the Alerts page');
  if (!(body instanceof URLSearchParams)) return body;
  const back = backHref(body.get('back'));
  const action = body.get('action') ?? '';
  if (!(ANSWERS as readonly string[]).includes(action))
    return answerProblem(400, `Choose Acknowledge, Snooze or Resolve (not "${action}").`, back);
  const ids = [...new Set(body.getAll('id').map((s) => s.trim()))].filter((s) => s !== '');
  if (ids.length === 0) return answerProblem(400, 'Tick at least one alert.', back);
  if (ids.length > ACTIVE_PAGE)
    return answerProblem(400, `Answer at most ${ACTIVE_PAGE} alerts at once (a page of them).`, back);
  const by = body.get('actor')?.trim() || operatorOf(opts);
  const noteText = body.get('note')?.trim() ?? '';
  if (noteText.length > NOTE_MAX)
    return answerProblem(400, `The note is ${noteText.length} characters: at most ${NOTE_MAX}.`, back);
  const note = noteText === '' ? undefined : noteText;
  let cmd: AlertCommand;
  if (action === 'snooze') {
    const raw = body.get('until')?.trim() ?? '';
    if (raw === '') return answerProblem(400, 'Snoozing needs a date to snooze until.', back);
    const until = parseDate(raw, 'YYYY-MM-DD');
    if (!until.ok) return answerProblem(400, `Snooze until "${raw}": it ${until.reason}.`, back);
    cmd = { kind: 'snooze', by, until: until.value, note };
  } else cmd = { kind: action as 'ack' | 'resolve', by, note };
  const r = await answerAlerts(credit, ids, cmd, new Date().toISOString(), opts.today());
  if (r.refused.length === 0) {
    const u = new URL(back, 'http://console.invalid');
    u.searchParams.set('did', action);
    u.searchParams.set('n', String(r.done.length));
    const location = `${u.pathname}${u.search}`;
    return { status: 303, type: 'text', body: `Answered: ${location}\n`, headers: { location } };
  }
  const word = ANSWER_DONE[action as Answer];
  return htmlReply(
    r.done.length === 0 ? 409 : 200,
    r.done.length === 0 ? 'Not answered' : 'Partly answered',
    html`<h1>${r.done.length === 0 ? 'Not answered' : 'Partly answered'}</h1>
${r.done.length > 0 ? html`<p class="done" role="status">${grouped(r.done.length)} alert${r.done.length === 1 ? '' : 's'} ${word}: ${r.done.map((a, i) => html`${i > 0 ? ', ' : ''}<code class="word">${a.customerId}/${a.rule}</code>`)}.</p>` : ''}
<div class="problem">${r.refused.length === 1 ? 'This alert was' : `These ${r.refused.length} alerts were`} not ${word}, and nothing was changed on ${r.refused.length === 1 ? 'it' : 'them'}:
<ul>${r.refused.map((x) => html`<li><code class="word">${x.id}</code>: ${x.reason}</li>`)}</ul></div>
<p><a href="${back}">Back to the alerts</a></p>`,
    'alerts',
  );
}
