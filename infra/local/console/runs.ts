import { type Page, slicePage } from '../../../functions/core/paging.ts';
import { KINDS } from '../../../functions/ingest/kinds.ts';
import type { IngestRun, RejectRecord, RunFilter } from '../../../functions/ingest/ports.ts';
import type { ReceivablesQueries } from '../../../functions/receivables/queries.ts';
import { type Html, html, kv } from './layout.ts';
import { DEFAULT_RUNS } from './options.ts';
import {
  afterParam,
  choiceParam,
  csvReply,
  holds,
  hrefWith,
  IN_MEMORY_MAX,
  pageLink,
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
import { instant, limitParam, numCell, type Reply, runHref } from './shared.ts';

// ---------------------------------------------------------------------------------------------
// Runs

export const statusBadge = (r: IngestRun) =>
  r.status === 'processed'
    ? html`<span class="badge ok">processed</span>`
    : html`<span class="badge bad">unreadable</span>${r.reason ? html` <span class="muted">${r.reason}</span>` : ''}`;

/**
 * The Ingest runs page (`/runs`, JSON at `/api/runs`, CSV at `/runs.csv`): narrowed by kind and by
 * whether rows were rejected, searched by file name or run id, sorted by date, rows read or rows
 * rejected; all in the URL.
 *
 * What is read per page: in the list's own order (newest first, no search) the store pages it
 * (`?after=`), kind and rejects a FilterExpression it applies and counts. A search (any case, part
 * of a name) or another sort reads the runs the store's filters select, at most IN_MEMORY_MAX
 * (counted first), and pages them by number in memory.
 */

export const RUN_SORT_LABELS = { date: 'Started', rows: 'Rows read', rejects: 'Rejected' } as const;
export type RunSort = keyof typeof RUN_SORT_LABELS;
const RUN_SORTS = Object.keys(RUN_SORT_LABELS) as RunSort[];

export interface RunsQuery extends RunFilter {
  readonly q?: string | undefined;
  readonly sort?: RunSort | undefined;
  readonly dir?: 'asc' | 'desc' | undefined;
  readonly limit: number;
  readonly after?: string | undefined;
  readonly page?: number | undefined;
}

export function runsQuery(params: URLSearchParams): RunsQuery {
  const { sort, dir } = sortParams(params, RUN_SORTS);
  const rejects = choiceParam(params, 'rejects', ['yes', 'no'] as const);
  return {
    kind: choiceParam(params, 'kind', KINDS),
    rejects: rejects === undefined ? undefined : rejects === 'yes',
    q: searchParam(params),
    sort,
    dir: sort ? (dir ?? 'desc') : undefined,
    limit: limitParam(params),
    after: afterParam(params),
    page: params.has('page') ? pageParam(params) : undefined,
  };
}

const storeOrder = (q: RunsQuery) =>
  q.q === undefined && (q.sort === undefined || (q.sort === 'date' && q.dir === 'desc'));

export const runsParams = (q: RunsQuery): Record<string, string | undefined> => ({
  kind: q.kind,
  rejects: q.rejects === undefined ? undefined : q.rejects ? 'yes' : 'no',
  q: q.q,
  sort: q.sort,
  dir: q.sort ? q.dir : undefined,
  limit: q.limit === DEFAULT_RUNS ? undefined : String(q.limit),
});

export const runsHref = (q: RunsQuery, after: string | undefined, api = false, page?: string) =>
  hrefWith(api ? '/api/runs' : '/runs', { ...runsParams(q), after, page });

const filterOf = (q: RunsQuery): RunFilter => ({ kind: q.kind, rejects: q.rejects });

/** The runs in the order asked for; ties newest first. */
function sortRuns(runs: readonly IngestRun[], sort: RunSort, dir: 'asc' | 'desc'): IngestRun[] {
  const s = dir === 'desc' ? -1 : 1;
  const newest = (a: IngestRun, b: IngestRun) =>
    a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0;
  const by: Record<RunSort, (a: IngestRun, b: IngestRun) => number> = {
    date: (a, b) => -s * newest(a, b),
    rows: (a, b) => s * (a.rowsRead - b.rowsRead) || newest(a, b),
    rejects: (a, b) => s * (a.rejected - b.rejected) || newest(a, b),
  };
  return [...runs].sort(by[sort]);
}

/** Every run the query selects, in its order (the CSV, and a page computed in memory). */
export async function matchingRuns(queries: ReceivablesQueries, q: RunsQuery): Promise<IngestRun[]> {
  const read = await queries.runs(undefined, filterOf(q));
  const needle = q.q;
  const found =
    needle === undefined ? read : read.filter((r) => holds(r.file, needle) || holds(r.runId, needle));
  return q.sort && !storeOrder(q) ? sortRuns(found, q.sort, q.dir ?? 'desc') : found;
}

export interface RunsView {
  readonly q: RunsQuery;
  readonly page: Page<IngestRun>;
  readonly inMemory: boolean;
  readonly tooMany?: number | undefined;
}

export async function runsView(queries: ReceivablesQueries, q: RunsQuery): Promise<RunsView> {
  if (storeOrder(q))
    return {
      q,
      page: await queries.runsPage({ size: q.limit, after: q.after }, filterOf(q)),
      inMemory: false,
    };
  const n = (await queries.runsPage({ size: 1 }, filterOf(q))).total;
  if (n > IN_MEMORY_MAX) return { q, page: { items: [], from: 1, total: n }, inMemory: true, tooMany: n };
  return { q, page: slicePage(await matchingRuns(queries, q), q.page ?? 1, q.limit), inMemory: true };
}

const pageHref = (v: RunsView, api: boolean) => (token: string | undefined) =>
  v.inMemory ? runsHref(v.q, undefined, api, token) : runsHref(v.q, token, api);

export function runsJson(v: RunsView): unknown {
  return {
    runs: v.page.items,
    paging: pagingJson(v.page, pageHref(v, true)),
    query: Object.fromEntries(Object.entries(runsParams(v.q)).filter(([, x]) => x !== undefined)),
  };
}

function runsForm(q: RunsQuery): Html {
  return html`<form class="filters" method="get" action="/runs" role="search" id="run-filters">
<p><label for="q">Search</label> <input type="search" id="q" name="q" value="${q.q ?? ''}" placeholder="file name or run id" maxlength="100">
${selectHtml('kind', 'Kind', KINDS, q.kind)}
${selectHtml('rejects', 'Rejected rows', [['yes', 'some'] as const, ['no', 'none'] as const], q.rejects === undefined ? undefined : q.rejects ? 'yes' : 'no')}
${sortSelects(RUN_SORT_LABELS, { sort: q.sort, dir: q.dir }, 'newest first')}</p>
<p><button type="submit">Show</button> <a href="/runs">Clear the filters</a> · <a href="${hrefWith('/runs.csv', runsParams(q))}" download>Download these runs (CSV)</a></p>
</form>`;
}

export function runsPage(v: RunsView): Html {
  const { q, page } = v;
  const runs = page.items;
  const narrowed = Boolean(q.kind || q.rejects !== undefined || q.q);
  if (page.total === 0 && runs.length === 0 && !narrowed)
    return html`<h1>Ingest runs</h1><p class="note">No files ingested yet.</p>`;
  const base = runsParams(q);
  const href = (o: Record<string, string | undefined>) => hrefWith('/runs', { ...base, ...o });
  const head = (key: RunSort, cls = '') =>
    sortHead(key, RUN_SORT_LABELS[key], { sort: q.sort, dir: q.dir }, href, { cls, descFirst: true });
  const order =
    q.sort && !storeOrder(q)
      ? `by ${RUN_SORT_LABELS[q.sort].toLowerCase()}, ${q.dir === 'desc' ? 'descending' : 'ascending'}`
      : 'newest first';
  const list =
    v.tooMany !== undefined
      ? tooManyHtml(v.tooMany, 'runs', 'kind or rejected rows')
      : runs.length === 0
        ? html`<p class="note">No run matches these filters. <a href="/runs">Clear the filters</a>.</p>`
        : html`${shownHtml(page, 'Runs', order, narrowed ? 'matching runs' : undefined)}
<div class="wrap"><table>
<thead><tr>${head('date')}<th>File</th><th>Profile</th><th>Kinds</th><th>Status</th>${head('rows', 'num')}<th class="num">Accepted</th>${head('rejects', 'num')}<th class="num">Warnings</th><th></th></tr></thead>
<tbody>
${runs.map(
  (
    r,
  ) => html`<tr><td>${instant(r.startedAt)}</td><td class="wide"><a href="${runHref(r.runId)}">${r.file}</a></td>
<td>${r.profile || html`<span class="muted">—</span>`}</td><td>${r.kinds.join(', ')}</td><td class="wide">${statusBadge(r)}</td>
${numCell(r.rowsRead)}${numCell(r.acceptedTotal)}${numCell(r.rejected, true)}${numCell(r.warnings.length)}
<td><a href="${runHref(r.runId)}">details</a></td></tr>`,
)}
</tbody></table></div>
${pagerHtml(page, pageLink(href, v.inMemory))}`;
  return html`<h1>Ingest runs</h1>
${runsForm(q)}
${list}`;
}

const RUNS_CSV = [
  'started_at',
  'file',
  'profile',
  'kinds',
  'status',
  'rows_read',
  'accepted',
  'rejected',
  'warnings',
  'run_id',
];

/** GET /runs.csv: every run the page's filters, search and sort select, in its order. */
export async function runsCsvReply(queries: ReceivablesQueries, params: URLSearchParams): Promise<Reply> {
  const runs = await matchingRuns(queries, runsQuery(params));
  return csvReply(
    'ingest-runs.csv',
    RUNS_CSV,
    runs.map((r) => [
      r.startedAt,
      r.file,
      r.profile,
      r.kinds.join(' '),
      r.status,
      r.rowsRead,
      r.acceptedTotal,
      r.rejected,
      r.warnings.length,
      r.runId,
    ]),
  );
}

/** How many customers a run found with no master data on file, and what became of their rows. */
export function unknownCustomersCell(run: IngestRun): Html | string | undefined {
  const u = run.unknownCustomers;
  if (!u) return run.kinds.some((k) => k === 'invoices' || k === 'payments') ? '0' : undefined;
  const rows = `${u.rows.toLocaleString('en-US')} ${u.rows === 1 ? 'row' : 'rows'}`;
  return html`<span class="late">${u.customers.toLocaleString('en-US')}</span> (${rows} ${u.action}; see the warnings)`;
}

export function runPage(run: IngestRun, rejects: readonly RejectRecord[]): Html {
  const accepted = Object.entries(run.accepted)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const details = kv([
    ['Run', html`<code>${run.runId}</code>`],
    ['File', run.file],
    ['Object', html`<code>${run.objectRef}</code>`],
    ['Profile', run.profile],
    ['Kinds', run.kinds.join(', ')],
    ['Status', statusBadge(run)],
    ['Format', [run.format, run.encoding].filter(Boolean).join(', ')],
    ['Started', instant(run.startedAt)],
    ['Finished', instant(run.finishedAt)],
    ['Books date', run.asOf],
    ['Rows read', run.rowsRead.toLocaleString('en-US')],
    ['Accepted', `${run.acceptedTotal.toLocaleString('en-US')}${accepted ? ` (${accepted})` : ''}`],
    [
      'Rejected',
      run.rejected > 0 ? html`<span class="late">${run.rejected.toLocaleString('en-US')}</span>` : '0',
    ],
    ['Customers changed', String(run.customersChanged)],
    ['Customers not on file', unknownCustomersCell(run)],
    ['Rejects report', run.rejectsFile ? html`<code>${run.rejectsFile}</code>` : undefined],
    ['Warnings report', run.warningsFile ? html`<code>${run.warningsFile}</code>` : undefined],
  ]);
  const warnings =
    run.warnings.length === 0
      ? html`<p class="muted">None.</p>`
      : html`<ul>${run.warnings.map((w) => html`<li>${w}</li>`)}</ul>`;
  const cut =
    run.rejected > rejects.length
      ? html`<p class="note">Showing ${rejects.length.toLocaleString('en-US')} of ${run.rejected.toLocaleString('en-US')} rejected rows; the full list is in ${run.rejectsFile ? html`<code>${run.rejectsFile}</code>` : 'the rejects report next to the upload'}.</p>`
      : '';
  const rejectsTable =
    rejects.length === 0
      ? html`<p class="muted">No rejected rows.</p>`
      : html`<div class="wrap"><table>
<thead><tr><th class="num">Line</th><th>Column</th><th>Value</th><th>Reason</th></tr></thead>
<tbody>
${rejects.map(
  (r) => html`<tr><td class="num">${r.line === 0 ? 'file' : r.line}</td><td>${r.column}</td>
<td class="wide">${r.value === '' ? html`<span class="muted">(blank)</span>` : html`<code>${r.value}</code>`}</td><td class="wide">${r.reason}</td></tr>`,
)}
</tbody></table></div>`;
  return html`<p><a href="/runs">← All runs</a></p>
<h1>Run of ${run.file}</h1>
${details}
<h2>Warnings (${run.warnings.length})</h2>
${warnings}
<h2>Rejected rows (${run.rejected.toLocaleString('en-US')})</h2>
${cut}
${rejectsTable}`;
}
