import { grouped, type Page } from '../../../functions/core/paging.ts';
import type { Alert } from '../../../functions/credit/alerts.ts';
import { SEVERITIES, SEVERITY_RANK, type Severity } from '../../../functions/credit/policy.ts';
import type { AlertFilter } from '../../../functions/credit/ports.ts';
import { type Html, html } from './layout.ts';
import type { ConsoleCredit } from './options.ts';
import { afterParam, choiceParam, hrefWith, pagerHtml, pagingJson, shownHtml } from './paging.ts';
import { customerHref, instant } from './shared.ts';

/**
 * The Alerts page (`/alerts`, JSON at `/api/alerts`): the active alerts a page at a time, most
 * severe first, or the resolved ones, newest first; narrowed by status and severity. Each page
 * says which part of how many it shows; the counts come from the store's COUNT queries (nothing
 * read to count), so they are the ones the Ops page shows.
 */

export const ACTIVE_PAGE = 200;
export const RESOLVED_PAGE = 200;
/** Resolved alerts shown under the active ones on the first page. */
export const RESOLVED_SHOWN = 50;

export const STATUSES = ['active', 'open', 'acknowledged', 'snoozed', 'resolved'] as const;
export type Status = (typeof STATUSES)[number];
/** Most severe first, as the page lists them. */
export const BY_RANK: readonly Severity[] = [...SEVERITIES].reverse();

export interface AlertsQuery {
  readonly status: Status;
  readonly severity: Severity | undefined;
  readonly after: string | undefined;
}

export function alertsQuery(params: URLSearchParams): AlertsQuery {
  return {
    status: choiceParam(params, 'status', STATUSES) ?? 'active',
    severity: choiceParam(params, 'severity', BY_RANK),
    after: afterParam(params),
  };
}

export const filterOf = (q: AlertsQuery): AlertFilter => ({
  severity: q.severity,
  status: q.status === 'active' || q.status === 'resolved' ? undefined : q.status,
});

/** The page's address with the filters kept (and the page's cursor, when given). */
export const alertsHref = (q: Omit<AlertsQuery, 'after'>, after?: string, api = false) =>
  hrefWith(api ? '/api/alerts' : '/alerts', {
    status: q.status === 'active' ? undefined : q.status,
    severity: q.severity,
    after,
  });

/** What the page shows: a page of the list asked for and, on the first page of all active alerts, the latest resolved. */
export interface AlertsView {
  readonly q: AlertsQuery;
  readonly page: Page<Alert>;
  /** Active alerts by severity (with the status filter), for the counts and the severity links. */
  readonly bySeverity?: Record<Severity, number> | undefined;
  readonly recent?: Page<Alert> | undefined;
}

export async function alertsView(credit: ConsoleCredit, q: AlertsQuery): Promise<AlertsView> {
  const store = credit.store;
  const filter = filterOf(q);
  if (q.status === 'resolved')
    return { q, page: await store.alertsPage('resolved', filter, { size: RESOLVED_PAGE, after: q.after }) };
  // One COUNT per severity gives both the counts by severity and the total (no second count).
  const counts = store.activeAlertCounts({ status: filter.status });
  const total = counts.then((c) => (q.severity ? c[q.severity] : BY_RANK.reduce((n, s) => n + c[s], 0)));
  const withRecent = q.status === 'active' && q.severity === undefined && q.after === undefined;
  const [bySeverity, page, recent] = await Promise.all([
    counts,
    store.alertsPage('active', filter, { size: ACTIVE_PAGE, after: q.after }, total),
    withRecent ? store.alertsPage('resolved', {}, { size: RESOLVED_SHOWN }) : undefined,
  ]);
  return { q, page, bySeverity, recent };
}

/** The JSON answer: the same page, with where it sits and the links to the pages beside it. */
export function alertsJson(v: AlertsView): unknown {
  const href = (after: string | undefined) => alertsHref(v.q, after, true);
  const paging = { ...pagingJson(v.page, href), ...(v.bySeverity ? { bySeverity: v.bySeverity } : {}) };
  if (v.q.status === 'resolved') return { resolved: v.page.items, paging: { resolved: paging } };
  return {
    active: v.page.items,
    ...(v.recent ? { resolved: v.recent.items } : {}),
    paging: {
      active: paging,
      ...(v.recent
        ? { resolved: pagingJson(v.recent, (a) => alertsHref({ ...v.q, status: 'resolved' }, a, true)) }
        : {}),
    },
  };
}

/** Links that narrow the list: by status, and by severity (with the counts of the active ones). */
export function filtersHtml(v: AlertsView): Html {
  const link = (label: string, q: Omit<AlertsQuery, 'after'>, on: boolean) =>
    on ? html`<strong aria-current="true">${label}</strong>` : html`<a href="${alertsHref(q)}">${label}</a>`;
  const statuses = STATUSES.map(
    (s, i) => html`${i > 0 ? ' · ' : ''}${link(s, { status: s, severity: v.q.severity }, s === v.q.status)}`,
  );
  const severities = [undefined, ...BY_RANK].map((s, i) => {
    const n = s && v.bySeverity ? ` (${grouped(v.bySeverity[s])})` : '';
    return html`${i > 0 ? ' · ' : ''}${link(`${s ?? 'all'}${n}`, { status: v.q.status, severity: s }, s === v.q.severity)}`;
  });
  return html`<nav class="filters" aria-label="filters"><span class="muted">Status:</span> ${statuses}<br><span class="muted">Severity:</span> ${severities}</nav>`;
}

/** "critical open alerts" (what the page lists, in words). */
export const listWords = (q: AlertsQuery) =>
  `${q.severity ? `${q.severity} ` : ''}${q.status === 'active' ? 'active' : q.status} alerts`;

export function resolvedTable(alerts: readonly Alert[], names: ReadonlyMap<string, string>): Html {
  return html`<div class="wrap"><table>
<thead><tr><th>Severity</th><th>Customer</th><th>Rule</th><th>Opened as of</th><th>Resolved</th><th>How</th><th>Summary</th></tr></thead>
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

export function alertsPage(v: AlertsView, names: ReadonlyMap<string, string>): Html {
  const { q, page } = v;
  const resolved = q.status === 'resolved';
  const order = resolved ? 'newest first' : 'most severe first';
  const c = v.bySeverity;
  const all = c ? BY_RANK.reduce((n, s) => n + c[s], 0) : 0;
  const counts = c
    ? html`<p class="muted" id="alert-counts">${grouped(all)} ${q.status} alert${all === 1 ? '' : 's'} (${BY_RANK.map((s) => `${grouped(c[s])} ${s}`).join(', ')}). The console is read-only: answer an alert with the CLI,
<code>sentinel alerts ack|resolve &lt;customer&gt;/&lt;rule&gt;</code> or <code>sentinel alerts snooze &lt;customer&gt;/&lt;rule&gt; --until YYYY-MM-DD</code>.</p>`
    : '';
  const empty =
    q.status === 'active' && q.severity === undefined
      ? 'No active alerts. The early-warning rules run after every upload and daily at 05:00.'
      : `No ${listWords(q)}.`;
  const href = (after: string | undefined) => alertsHref(q, after);
  const list =
    page.total === 0 && page.items.length === 0
      ? html`<p class="note">${empty}</p>`
      : html`${shownHtml(page, resolved ? 'Resolved alerts' : 'Alerts', order, q.severity || !['active', 'resolved'].includes(q.status) ? listWords(q) : undefined)}
${pagerHtml(page, href)}
${resolved ? resolvedTable(page.items, names) : activeAlertsTable(page.items, names, true)}
${pagerHtml(page, href)}`;
  return html`<h1>${resolved ? 'Resolved alerts' : 'Alerts'}</h1>
${counts}
${filtersHtml(v)}
${list}
${v.recent ? recentSection(v.recent, names) : ''}`;
}

/** GET /alerts and /api/alerts. */
export async function alertsReply(
  credit: ConsoleCredit,
  params: URLSearchParams,
  api: boolean,
): Promise<{ readonly json: unknown } | { readonly title: string; readonly body: Html }> {
  const v = await alertsView(credit, alertsQuery(params));
  if (api) return { json: alertsJson(v) };
  const names = await customerNames(credit, [...v.page.items, ...(v.recent?.items ?? [])]);
  return { title: v.q.status === 'resolved' ? 'Resolved alerts' : 'Alerts', body: alertsPage(v, names) };
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

export function activeAlertsTable(
  alerts: readonly Alert[],
  names: ReadonlyMap<string, string>,
  withCustomer: boolean,
): Html {
  return html`<div class="wrap"><table>
<thead><tr><th>Severity</th>${withCustomer ? html`<th>Customer</th>` : ''}<th>Rule</th><th>Status</th><th>Opened as of</th><th>Suggested action</th><th>Summary</th><th>Evidence</th><th>Answer with</th></tr></thead>
<tbody>
${alerts.map(
  (a) => html`<tr><td>${severityBadge(a.severity)}</td>
${withCustomer ? html`<td><a href="${customerHref(a.customerId, a.seenAsOf)}">${a.customerId}</a>${names.get(a.customerId) ? html`<br><span class="muted">${names.get(a.customerId)}</span>` : ''}</td>` : ''}
<td><code class="word">${a.rule}</code></td><td class="text">${statusText(a)}</td>
<td>${a.openedAsOf}${a.seenAsOf !== a.openedAsOf ? html`<br><span class="muted">seen ${a.seenAsOf}</span>` : ''}</td><td>${actionText(a)}</td>
<td class="text">${a.summary}</td><td class="text">${evidenceList(a.evidence)}</td><td><code class="word">${ackCommand(a)}</code></td></tr>`,
)}
</tbody></table></div>`;
}

export async function customerNames(
  credit: ConsoleCredit,
  alerts: readonly Alert[],
): Promise<Map<string, string>> {
  const found = await credit.store.getCustomers([...new Set(alerts.map((a) => a.customerId))]);
  const names = new Map<string, string>();
  for (const [id, c] of found) if (c.name) names.set(id, c.name);
  return names;
}
