import type { IncomingMessage } from 'node:http';
import type { IsoDate } from '../../../functions/core/dates.ts';
import { isoDateOrNull } from '../../../functions/core/dates.ts';
import { formatMinor } from '../../../functions/core/money.ts';
import { grouped, type Page, type PageRequest, slicePage } from '../../../functions/core/paging.ts';
import { PREVIEW_APPROVAL_WORDS, type ReviewPreview } from '../../../functions/reviews/app.ts';
import type { ReviewRun, RunReviewsFilter } from '../../../functions/reviews/ports.ts';
import type { Review, ReviewState } from '../../../functions/reviews/review.ts';
import { type Html, html } from './layout.ts';
import type { ConsoleOptions } from './options.ts';
import {
  afterParam,
  choiceParam,
  csvReply,
  holds,
  hrefWith,
  IN_MEMORY_MAX,
  pageParam,
  pagerHtml,
  searchParam,
  selectHtml,
  shownHtml,
  sortHead,
  sortParams,
  sortSelects,
  tooManyHtml,
} from './paging.ts';
import { FORM_TYPE, htmlReply, jsonReply, money, problem, type Reply, readBody } from './shared.ts';

/**
 * The console's review pages: the runs (with a form to run one now), a run with every customer it
 * reviewed, and the review section of a customer's page. No script: the form is a plain POST.
 */
export interface ConsoleReviews {
  /** A page of the runs, newest first, with how many there are. */
  readonly list: (req: PageRequest) => Promise<Page<ReviewRun>>;
  /** A run and a page of its reviews by customer (only those that need attention, with `attention`). */
  readonly show: (
    runId: string,
    req: PageRequest,
    filter?: RunReviewsFilter,
  ) => Promise<{ run: ReviewRun; reviews: Page<Review> } | undefined>;
  /** A run and every review of it `filter` selects, by customer (a search, another sort, the CSV). */
  readonly all: (
    runId: string,
    filter?: RunReviewsFilter,
  ) => Promise<{ run: ReviewRun; reviews: Review[] } | undefined>;
  /**
   * Runs a review as of the date (default today) in the product's workflow engine, to its report;
   * with the id of a run that did not finish, resumes it.
   */
  readonly run: (asOf?: IsoDate, runId?: string) => Promise<{ run: ReviewRun; resumed: boolean }>;
  /** What a run as of the date would do, with nothing changed (a dry run). */
  readonly preview: (asOf: IsoDate) => Promise<ReviewPreview>;
  /** The run's report file, as written to the outbox. */
  readonly report: (runId: string, kind: 'csv' | 'html') => Promise<string | undefined>;
  /** Where a customer stands, and every review of it, newest first. */
  readonly customer: (customerId: string) => Promise<{ state?: ReviewState | undefined; reviews: Review[] }>;
}

export const reviewHref = (runId: string) => `/reviews/${encodeURIComponent(runId)}`;

/** An amount as a person reads it (formatMoney's form: grouped, with its currency), or a dash. */
export const amount = (v: number | undefined, ccy: string | undefined) =>
  v === undefined || !ccy ? html`<span class="muted">—</span>` : money(v, ccy);

export const OUTCOME_WORDS: Record<string, string> = {
  cut: 'limit cut',
  raise: 'limit raised',
  approval: 'approval asked',
  keep: 'limit kept',
};

export function outcomeCell(r: Review): Html {
  if (r.status === 'failed') return html`<td class="late">failed: ${r.error ?? ''}</td>`;
  const words = OUTCOME_WORDS[r.outcome ?? ''] ?? '';
  return r.outcome === 'approval' && r.transferId
    ? html`<td>${words} (<a href="/transfers/${encodeURIComponent(r.transferId)}">${r.transferId}</a>)</td>`
    : html`<td>${words}</td>`;
}

export const ratingText = (r: Review) =>
  r.previous && r.rating && r.previous.rating !== r.rating
    ? `${r.previous.rating} → ${r.rating}`
    : (r.rating ?? '—');

export const RUNS_PAGE = 50;
export const REVIEWS_PAGE = 200;
/** A customer's reviews shown on its page; the JSON has them all. */
export const CUSTOMER_REVIEWS_SHOWN = 20;

export function reviewsPage(page: Page<ReviewRun>, today: IsoDate, problem?: string): Html {
  const runs = page.items;
  const rows = runs.map((r) => {
    const c = r.counts;
    return html`<tr><td><a href="${reviewHref(r.runId)}">${r.asOf}</a></td><td>${r.trigger}</td><td>${r.status}</td>
<td class="num">${r.selected}</td><td class="num">${c?.reviewed ?? '—'}</td><td class="${c && c.failed > 0 ? 'num late' : 'num'}">${c?.failed ?? '—'}</td>
<td class="num">${c?.outcomes.cut ?? '—'}</td><td class="num">${c?.outcomes.raise ?? '—'}</td><td class="num">${c?.outcomes.approval ?? '—'}</td>
<td class="num">${c?.attention ?? '—'}</td><td><code>${r.runId}</code></td></tr>`;
  });
  return html`<h1>Periodic reviews</h1>
<p>Customers are re-rated on the policy's cadence (high risk monthly, medium quarterly, low yearly by default) and at once after a severe alert or a downgrade. A small cut that stays above the exposure, or a small raise, applies at once; a first limit, a large raise or a deep cut goes to the approval chain. A run starts daily after the daily evaluation, or here: you see what it would change first, and nothing changes until you confirm.</p>
${problem ? html`<div class="problem">${problem}</div>` : ''}
<form method="get" action="/reviews/preview" class="inline">
<label for="asOf">Review as of</label> <input id="asOf" name="asOf" type="date" value="${today}" required>
<button type="submit">Preview a review</button>
</form>
<h2>Runs (${grouped(page.total)})</h2>
${
  page.total === 0 && runs.length === 0
    ? html`<p class="muted">No review has run yet.</p>`
    : html`${shownHtml(page, 'Runs', 'newest first')}<div class="wrap"><table><thead><tr><th>As of</th><th>Started by</th><th>Status</th><th class="num">Due</th><th class="num">Reviewed</th><th class="num">Failed</th><th class="num">Cut</th><th class="num">Raised</th><th class="num">For approval</th><th class="num">Attention</th><th>Run</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${pagerHtml(page, (after) => hrefWith('/reviews', { after }))}`
}`;
}

// ---------------------------------------------------------------------------------------------
// A run's reviews: filtered by outcome and attention (by the store, which pages them by customer),
// searched by customer id or name and sorted by another column in memory (the run's reviews the
// store's filters select, at most IN_MEMORY_MAX, counted first), all in the URL; the CSV of them.

export const REVIEW_SORT_LABELS = {
  customer: 'Customer',
  rating: 'Rating',
  score: 'Score',
  limitBefore: 'Limit before',
  limitAfter: 'Limit after',
} as const;
export type ReviewSort = keyof typeof REVIEW_SORT_LABELS;
const REVIEW_SORTS = Object.keys(REVIEW_SORT_LABELS) as ReviewSort[];
const OUTCOMES = ['cut', 'raise', 'approval', 'keep', 'failed'] as const;

export interface RunReviewsQuery extends RunReviewsFilter {
  readonly q?: string | undefined;
  readonly sort?: ReviewSort | undefined;
  readonly dir?: 'asc' | 'desc' | undefined;
  readonly after?: string | undefined;
  readonly page?: number | undefined;
}

export function runReviewsQuery(params: URLSearchParams): RunReviewsQuery {
  const { sort, dir } = sortParams(params, REVIEW_SORTS);
  return {
    attention: params.get('attention') === '1' ? true : undefined,
    outcome: choiceParam(params, 'outcome', OUTCOMES),
    q: searchParam(params),
    sort,
    dir: sort ? (dir ?? (sort === 'customer' || sort === 'rating' ? 'asc' : 'desc')) : undefined,
    after: afterParam(params),
    page: params.has('page') ? pageParam(params) : undefined,
  };
}

const byCustomer = (q: RunReviewsQuery) =>
  q.q === undefined && (q.sort === undefined || (q.sort === 'customer' && q.dir === 'asc'));

export const runReviewsParams = (q: RunReviewsQuery): Record<string, string | undefined> => ({
  attention: q.attention ? '1' : undefined,
  outcome: q.outcome,
  q: q.q,
  sort: q.sort,
  dir: q.sort ? q.dir : undefined,
});

const reviewsFilter = (q: RunReviewsQuery): RunReviewsFilter => ({
  attention: q.attention,
  outcome: q.outcome,
});

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Reviews in the order asked for; ties by customer. Limits compare in major units; a missing figure last. */
function sortReviews(rs: readonly Review[], sort: ReviewSort, dir: 'asc' | 'desc'): Review[] {
  const s = dir === 'desc' ? -1 : 1;
  const num = (v: number | undefined, ccy: string | undefined) =>
    v === undefined || !ccy ? undefined : Number(formatMinor(v, ccy));
  const key: Record<ReviewSort, (r: Review) => string | number | undefined> = {
    customer: (r) => r.customerId,
    rating: (r) => r.rating,
    score: (r) => r.score,
    limitBefore: (r) => num(r.currentLimit, r.currency),
    limitAfter: (r) => num(r.limitAfter, r.currency),
  };
  const k = key[sort];
  return [...rs].sort((a, b) => {
    const x = k(a);
    const y = k(b);
    if (x === undefined || y === undefined)
      return (x === undefined ? 1 : 0) - (y === undefined ? 1 : 0) || cmp(a.customerId, b.customerId);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : cmp(String(x), String(y));
    return s * c || cmp(a.customerId, b.customerId);
  });
}

/** Every review of the run the query selects, in its order (the CSV, a page computed in memory). */
export async function matchingReviews(
  r: ConsoleReviews,
  runId: string,
  q: RunReviewsQuery,
): Promise<{ run: ReviewRun; reviews: Review[] } | undefined> {
  const found = await r.all(runId, reviewsFilter(q));
  if (!found) return undefined;
  const needle = q.q;
  const hit =
    needle === undefined
      ? found.reviews
      : found.reviews.filter((x) => holds(x.customerId, needle) || holds(x.name, needle));
  return {
    run: found.run,
    reviews: q.sort && !byCustomer(q) ? sortReviews(hit, q.sort, q.dir ?? 'asc') : hit,
  };
}

export interface RunReviewsView {
  readonly run: ReviewRun;
  readonly q: RunReviewsQuery;
  readonly page: Page<Review>;
  readonly inMemory: boolean;
  readonly tooMany?: number | undefined;
}

export async function runReviewsView(
  r: ConsoleReviews,
  runId: string,
  q: RunReviewsQuery,
): Promise<RunReviewsView | undefined> {
  if (byCustomer(q)) {
    const found = await r.show(runId, { size: REVIEWS_PAGE, after: q.after }, reviewsFilter(q));
    return found && { run: found.run, q, page: found.reviews, inMemory: false };
  }
  const counted = await r.show(runId, { size: 1 }, reviewsFilter(q));
  if (!counted) return undefined;
  const n = counted.reviews.total;
  if (n > IN_MEMORY_MAX)
    return { run: counted.run, q, page: { items: [], from: 1, total: n }, inMemory: true, tooMany: n };
  const all = await matchingReviews(r, runId, q);
  if (!all) return undefined;
  return { run: all.run, q, page: slicePage(all.reviews, q.page ?? 1, REVIEWS_PAGE), inMemory: true };
}

export const runReviewsHref =
  (runId: string, q: RunReviewsQuery, api = false) =>
  (token: string | undefined, inMemory: boolean) =>
    hrefWith(`${api ? '/api' : ''}${reviewHref(runId)}`, {
      ...runReviewsParams(q),
      ...(inMemory ? { page: token } : { after: token }),
    });

function reviewsForm(runId: string, q: RunReviewsQuery): Html {
  return html`<form class="filters" method="get" action="${reviewHref(runId)}" role="search" id="review-filters">
<p><label for="q">Search</label> <input type="search" id="q" name="q" value="${q.q ?? ''}" placeholder="customer id or name" maxlength="100">
${selectHtml(
  'outcome',
  'Outcome',
  OUTCOMES.map((o) => [o, o === 'failed' ? 'failed' : (OUTCOME_WORDS[o] ?? o)] as const),
  q.outcome,
)}
<label><input type="checkbox" name="attention" value="1"${q.attention ? html` checked` : ''}> needs attention only</label></p>
<p>${sortSelects(REVIEW_SORT_LABELS, { sort: q.sort, dir: q.dir }, 'by customer id')}</p>
<p><button type="submit">Show</button> <a href="${reviewHref(runId)}">Clear the filters</a> · <a href="${hrefWith(`${reviewHref(runId)}/reviews.csv`, runReviewsParams(q))}" download>Download these reviews (CSV)</a></p>
</form>`;
}

/** A run's page: its counts, then its customers a page at a time, filtered, searched and sorted. */
export function reviewRunPage(v: RunReviewsView): Html {
  const { run, q, page } = v;
  const attention = Boolean(q.attention);
  const c = run.counts;
  const base = runReviewsParams(q);
  const link = (o: Record<string, string | undefined>) => hrefWith(reviewHref(run.runId), { ...base, ...o });
  const toggle = attention
    ? html`<a href="${link({ attention: undefined })}">Show every customer</a>`
    : html`<a href="${link({ attention: '1' })}">Show only those that need attention${c ? ` (${grouped(c.attention)})` : ''}</a>`;
  const head = (key: ReviewSort, cls = '') =>
    sortHead(key, REVIEW_SORT_LABELS[key], { sort: q.sort, dir: q.dir }, link, {
      cls,
      descFirst: key !== 'customer' && key !== 'rating',
    });
  const order =
    q.sort && !byCustomer(q)
      ? `by ${REVIEW_SORT_LABELS[q.sort].toLowerCase()}, ${q.dir === 'desc' ? 'descending' : 'ascending'}`
      : 'by customer id';
  const narrowed = Boolean(q.attention || q.outcome || q.q);
  const table =
    v.tooMany !== undefined
      ? tooManyHtml(v.tooMany, 'reviews', 'outcome or attention')
      : page.items.length === 0 && page.total === 0
        ? html`<p class="note">No review ${narrowed ? 'matches these filters' : 'in this run'}.</p>`
        : html`${shownHtml(page, 'Customers', order)}
<div class="wrap"><table><thead><tr>${head('customer')}<th>Why due</th>${head('rating')}${head('score', 'num')}${head('limitBefore', 'num')}<th class="num">Recommended</th>${head('limitAfter', 'num')}<th>Outcome</th><th>Next review</th><th>Attention</th></tr></thead>
<tbody>${page.items.map(
            (
              r,
            ) => html`<tr><td><a href="/customers/${encodeURIComponent(r.customerId)}?asOf=${r.asOf}">${r.customerId}</a>${r.name && r.name !== r.customerId ? html` <span class="muted">${r.name}</span>` : ''}</td>
<td class="text">${r.due}</td><td>${ratingText(r)}</td><td class="num">${r.score ?? '—'}</td>
<td class="num">${amount(r.currentLimit, r.currency)}</td><td class="num">${amount(r.recommendedLimit, r.currency)}</td><td class="num">${amount(r.limitAfter, r.currency)}</td>
${outcomeCell(r)}<td>${r.nextReviewOn ?? '—'}</td><td>${r.attention ? 'yes' : ''}</td></tr>`,
          )}</tbody></table></div>
${pagerHtml(page, (token) => runReviewsHref(run.runId, q)(token, v.inMemory))}`;
  return html`<h1>Review as of ${run.asOf}</h1>
<dl class="kv"><dt>Run</dt><dd><code>${run.runId}</code></dd><dt>Policy</dt><dd><code>${run.policyId}</code></dd>
<dt>Started</dt><dd>${run.startedAt}</dd><dt>Finished</dt><dd>${run.finishedAt ?? 'not yet'}</dd>
<dt>Customers due</dt><dd>${run.selected}</dd>
${
  c
    ? html`<dt>Reviewed / failed</dt><dd>${c.reviewed} / ${c.failed}</dd>
<dt>Limits</dt><dd>${c.outcomes.cut} cut, ${c.outcomes.raise} raised, ${c.outcomes.approval} sent for approval, ${c.outcomes.keep} kept</dd>
<dt>Ratings</dt><dd>${c.ratingUp} up, ${c.ratingDown} down</dd><dt>Need attention</dt><dd>${c.attention}</dd>`
    : ''
}
<dt>Report</dt><dd>${run.report ? html`<a href="${reviewHref(run.runId)}/report.html">HTML</a> · <a href="${reviewHref(run.runId)}/report.csv">CSV</a>` : 'after the run'}</dd></dl>
<h2>${attention ? 'Customers that need attention' : 'Customers'} (${grouped(page.total)})</h2>
<p>${toggle}</p>
${reviewsForm(run.runId, q)}
${table}`;
}

const REVIEWS_CSV = [
  'customer_id',
  'name',
  'why_due',
  'rating_before',
  'rating',
  'score',
  'currency',
  'limit_before',
  'recommended',
  'limit_after',
  'outcome',
  'next_review',
  'attention',
];

/** GET /reviews/<run>/reviews.csv: the run's reviews the page's filters, search and sort select, in its order. */
export async function runReviewsCsvReply(
  r: ConsoleReviews,
  runId: string,
  params: URLSearchParams,
): Promise<Reply> {
  const found = await matchingReviews(r, runId, runReviewsQuery(params));
  if (!found) return problem(404, `There is no review run "${runId}".`, false);
  const m = (v: number | undefined, ccy: string | undefined) =>
    v === undefined || !ccy ? undefined : formatMinor(v, ccy);
  return csvReply(
    `review-${runId.replace(/[^\w.-]/g, '_')}.csv`,
    REVIEWS_CSV,
    found.reviews.map((x) => [
      x.customerId,
      x.name,
      x.due,
      x.previous?.rating,
      x.rating,
      x.score,
      x.currency,
      m(x.currentLimit, x.currency),
      m(x.recommendedLimit, x.currency),
      m(x.limitAfter, x.currency),
      x.status === 'failed' ? 'failed' : x.outcome,
      x.nextReviewOn,
      x.attention ? 'yes' : '',
    ]),
  );
}

export const DECISION_WORDS: Record<string, string> = {
  cut: 'cut at once',
  raise: 'raised at once',
  approval: 'asked for approval',
  keep: 'kept',
};

export const changeRow = (r: Review) => {
  const to = r.outcome === 'approval' ? r.askedLimit : r.limitAfter;
  return html`<tr><td><a href="/customers/${encodeURIComponent(r.customerId)}?asOf=${r.asOf}">${r.customerId}</a>${r.name && r.name !== r.customerId ? html` <span class="muted">${r.name}</span>` : ''}</td>
<td>${ratingText(r)}</td><td>${r.status === 'failed' ? 'failed' : (DECISION_WORDS[r.outcome ?? ''] ?? '')}</td>
<td class="num">${amount(r.currentLimit, r.currency)}</td><td class="num">${amount(to, r.currency)}</td>
<td class="num">${amount(r.figures?.exposure, r.currency)}</td><td class="num">${amount(r.figures?.overdueAmount, r.currency)}</td>
<td class="wide">${r.status === 'failed' ? (r.error ?? '') : (r.decision ?? '')}</td></tr>`;
};

export const changeTable = (rows: readonly Review[]) =>
  html`<div class="wrap"><table><thead><tr><th>Customer</th><th>Rating</th><th>Would be</th><th class="num">Limit now</th><th class="num">Limit after</th><th class="num">Exposure</th><th class="num">Overdue</th><th>Why</th></tr></thead>
<tbody>${rows.map(changeRow)}</tbody></table></div>`;

/**
 * What a review would do before it runs: the counts, every limit it would change or ask to change
 * (before and after, exposure, overdue and why), the customers it would keep, and the button that
 * runs it. Nothing has changed when this page is shown.
 */
export function reviewPreviewPage(p: ReviewPreview): Html {
  const c = p.counts;
  const changes = p.reviews.filter((r) => r.status === 'failed' || r.outcome !== 'keep');
  const kept = p.reviews.filter((r) => r.status !== 'failed' && r.outcome === 'keep');
  return html`<h1>Preview: a review as of ${p.asOf}</h1>
<p class="note">Nothing has changed yet. This is what the review would do if you run it now.</p>
<dl class="kv"><dt>Policy</dt><dd><code>${p.policyId}</code></dd><dt>Customers due</dt><dd>${p.selected}</dd>
<dt>Limits</dt><dd>${c.outcomes.cut} cut at once, ${c.outcomes.raise} raised at once, ${c.outcomes.approval} sent for approval, ${c.outcomes.keep} kept${c.failed > 0 ? html`, <span class="late">${c.failed} could not be reviewed</span>` : ''}</dd>
<dt>Approvals</dt><dd>${PREVIEW_APPROVAL_WORDS[p.approvals]}</dd><dt>Need attention</dt><dd>${c.attention}</dd></dl>
<form method="post" action="/reviews/run" class="inline">
<input type="hidden" name="asOf" value="${p.asOf}"><input type="hidden" name="confirmed" value="yes">
<button type="submit">Run this review</button> <a href="/reviews">Cancel</a>
</form>
<h2>Limits it would change or ask to change (${changes.length})</h2>
${changes.length === 0 ? html`<p class="muted">None: every limit stays as it is.</p>` : changeTable(changes)}
<h2>Limits it would keep (${kept.length})</h2>
${kept.length === 0 ? html`<p class="muted">None.</p>` : changeTable(kept)}`;
}

/** The review section of a customer's page. */
export function customerReviewSection(v: {
  state?: ReviewState | undefined;
  reviews: readonly Review[];
}): Html {
  const s = v.state;
  return html`<section><h2>Periodic review</h2>
${
  s
    ? html`<dl class="kv"><dt>Next review</dt><dd>${s.nextReviewOn} <span class="muted">(${s.riskClass} risk)</span></dd>
<dt>Last review</dt><dd>${s.reviewedOn}: rating ${s.rating} (${s.score})</dd></dl>`
    : html`<p class="muted">Not reviewed yet: the next review run selects this customer.</p>`
}
${
  v.reviews.length === 0
    ? ''
    : html`${v.reviews.length > CUSTOMER_REVIEWS_SHOWN ? html`<p class="muted">The ${CUSTOMER_REVIEWS_SHOWN} most recent of ${grouped(v.reviews.length)} reviews; the JSON of this page has them all.</p>` : ''}
<div class="wrap"><table><thead><tr><th>As of</th><th>Rating</th><th class="num">Limit before</th><th class="num">Limit after</th><th>Outcome</th><th>Why</th></tr></thead>
<tbody>${v.reviews
        .slice(0, CUSTOMER_REVIEWS_SHOWN)
        .map(
          (r) =>
            html`<tr><td><a href="${reviewHref(r.runId)}">${r.asOf}</a></td><td>${ratingText(r)}</td><td class="num">${amount(r.currentLimit, r.currency)}</td><td class="num">${amount(r.limitAfter, r.currency)}</td>${outcomeCell(r)}<td class="text">${r.decision ?? r.error ?? ''}</td></tr>`,
        )}</tbody></table></div>`
}</section>`;
}

/** GET /reviews/<run>/report.csv|.html: the run's report as written to the outbox. */
export async function reviewReport(opts: ConsoleOptions, runId: string, file: string): Promise<Reply> {
  const kind = file === 'report.csv' ? 'csv' : file === 'report.html' ? 'html' : undefined;
  if (!opts.reviews || !kind) return problem(404, 'There is no page at this address.', false);
  const body = await opts.reviews.report(runId, kind);
  if (body === undefined) return problem(404, `Review run "${runId}" has no report yet.`, false);
  return kind === 'csv'
    ? {
        status: 200,
        type: 'text',
        body,
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="${runId.replace(/[^\w.-]/g, '_')}.csv"`,
        },
      }
    : // The report is a standalone page with its own inline style: its own policy, still no script.
      {
        status: 200,
        type: 'html',
        body,
        headers: {
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        },
      };
}

/**
 * POST /reviews/run (the Reviews page's form: 303 to the run) or /api/reviews/runs (JSON, what
 * `sentinel review run` sends: {asOf?, runId?} to run or resume).
 */
export async function runReview(
  opts: ConsoleOptions,
  r: ConsoleReviews,
  req: IncomingMessage,
  api: boolean,
): Promise<Reply> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const body = await readBody(req);
  let asOf: string | undefined;
  let runId: string | undefined;
  if (api) {
    let input: { asOf?: unknown; runId?: unknown };
    try {
      input = body.trim() === '' ? {} : (JSON.parse(body) as typeof input);
    } catch {
      return problem(400, 'The body is not JSON.', true);
    }
    asOf = typeof input.asOf === 'string' ? input.asOf : undefined;
    runId = typeof input.runId === 'string' && input.runId !== '' ? input.runId : undefined;
  } else {
    if (type !== FORM_TYPE)
      return problem(415, `Send the form as ${FORM_TYPE}, as the Reviews page does.`, false);
    const form = new URLSearchParams(body);
    asOf = form.get('asOf')?.trim() || undefined;
    // A person runs a review from its preview: anything else is sent to the preview first.
    if (form.get('confirmed') !== 'yes' && (asOf === undefined || isoDateOrNull(asOf) !== null)) {
      const location = `/reviews/preview?asOf=${encodeURIComponent(asOf ?? opts.today())}`;
      return { status: 303, type: 'text', body: `Preview first: ${location}\n`, headers: { location } };
    }
  }
  if (asOf !== undefined && isoDateOrNull(asOf) === null) {
    const message = `"${asOf}" is not a date (YYYY-MM-DD). No review was run.`;
    if (api) return problem(400, message, true);
    return htmlReply(
      400,
      'Reviews',
      reviewsPage(await r.list({ size: RUNS_PAGE }), opts.today(), message),
      'reviews',
    );
  }
  const out = await r.run(asOf, runId);
  if (api) return jsonReply(200, out);
  const location = reviewHref(out.run.runId);
  return { status: 303, type: 'text', body: `Reviewed: ${location}\n`, headers: { location } };
}
