import type { IsoDate } from '../../functions/core/dates.ts';
import { formatMinor } from '../../functions/core/money.ts';
import { grouped, type Page, type PageRequest } from '../../functions/core/paging.ts';
import type { ReviewRun } from '../../functions/reviews/ports.ts';
import type { Review, ReviewState } from '../../functions/reviews/review.ts';
import { type Html, html } from './console.ts';
import { hrefWith, pagerHtml, shownHtml } from './console-paging.ts';

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
    filter?: { readonly attention?: boolean },
  ) => Promise<{ run: ReviewRun; reviews: Page<Review> } | undefined>;
  /**
   * Runs a review as of the date (default today) in the product's workflow engine, to its report;
   * with the id of a run that did not finish, resumes it.
   */
  readonly run: (asOf?: IsoDate, runId?: string) => Promise<{ run: ReviewRun; resumed: boolean }>;
  /** The run's report file, as written to the outbox. */
  readonly report: (runId: string, kind: 'csv' | 'html') => Promise<string | undefined>;
  /** Where a customer stands, and every review of it, newest first. */
  readonly customer: (customerId: string) => Promise<{ state?: ReviewState | undefined; reviews: Review[] }>;
}

export const reviewHref = (runId: string) => `/reviews/${encodeURIComponent(runId)}`;

const amount = (v: number | undefined, ccy: string | undefined) =>
  v === undefined || !ccy
    ? html`<span class="muted">—</span>`
    : html`${formatMinor(v, ccy)} <span class="ccy">${ccy}</span>`;

const OUTCOME_WORDS: Record<string, string> = {
  cut: 'limit cut',
  raise: 'limit raised',
  approval: 'approval asked',
  keep: 'limit kept',
};

function outcomeCell(r: Review): Html {
  if (r.status === 'failed') return html`<td class="late">failed: ${r.error ?? ''}</td>`;
  const words = OUTCOME_WORDS[r.outcome ?? ''] ?? '';
  return r.outcome === 'approval' && r.transferId
    ? html`<td>${words} (<a href="/transfers/${encodeURIComponent(r.transferId)}">${r.transferId}</a>)</td>`
    : html`<td>${words}</td>`;
}

const ratingText = (r: Review) =>
  r.previous && r.rating && r.previous.rating !== r.rating
    ? `${r.previous.rating} → ${r.rating}`
    : (r.rating ?? '—');

export const RUNS_PAGE = 50;
export const REVIEWS_PAGE = 200;
/** A customer's reviews shown on its page; the JSON has them all. */
const CUSTOMER_REVIEWS_SHOWN = 20;

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
<p>Customers are re-rated on the policy's cadence (high risk monthly, medium quarterly, low yearly by default) and at once after a severe alert or a downgrade. Cuts apply at once; large increases go to the approval chain as credit releases. A run starts daily after the daily evaluation, or here.</p>
${problem ? html`<div class="problem">${problem}</div>` : ''}
<form method="post" action="/reviews/run" class="inline">
<label for="asOf">Review as of</label> <input id="asOf" name="asOf" type="date" value="${today}" required>
<button type="submit">Run a review now</button>
</form>
<h2>Runs (${grouped(page.total)})</h2>
${
  page.total === 0 && runs.length === 0
    ? html`<p class="muted">No review has run yet.</p>`
    : html`${shownHtml(page, 'Runs', 'newest first')}<table><thead><tr><th>As of</th><th>Started by</th><th>Status</th><th class="num">Due</th><th class="num">Reviewed</th><th class="num">Failed</th><th class="num">Cut</th><th class="num">Raised</th><th class="num">For approval</th><th class="num">Attention</th><th>Run</th></tr></thead>
<tbody>${rows}</tbody></table>
${pagerHtml(page, (after) => hrefWith('/reviews', { after }))}`
}`;
}

/** A run's page: its counts, then its customers a page at a time (all, or those that need attention). */
export function reviewRunPage(run: ReviewRun, page: Page<Review>, attention = false): Html {
  const c = run.counts;
  const href = (after: string | undefined, only = attention) =>
    hrefWith(reviewHref(run.runId), { attention: only ? '1' : undefined, after });
  const toggle = attention
    ? html`<a href="${href(undefined, false)}">Show every customer</a>`
    : html`<a href="${href(undefined, true)}">Show only those that need attention${c ? ` (${grouped(c.attention)})` : ''}</a>`;
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
${shownHtml(page, 'Customers', 'by customer id')}
<table><thead><tr><th>Customer</th><th>Why due</th><th>Rating</th><th class="num">Score</th><th class="num">Limit before</th><th class="num">Recommended</th><th class="num">Limit after</th><th>Outcome</th><th>Next review</th><th>Attention</th></tr></thead>
<tbody>${page.items.map(
    (
      r,
    ) => html`<tr><td><a href="/customers/${encodeURIComponent(r.customerId)}?asOf=${r.asOf}">${r.customerId}</a>${r.name && r.name !== r.customerId ? html` <span class="muted">${r.name}</span>` : ''}</td>
<td class="text">${r.due}</td><td>${ratingText(r)}</td><td class="num">${r.score ?? '—'}</td>
<td class="num">${amount(r.currentLimit, r.currency)}</td><td class="num">${amount(r.recommendedLimit, r.currency)}</td><td class="num">${amount(r.limitAfter, r.currency)}</td>
${outcomeCell(r)}<td>${r.nextReviewOn ?? '—'}</td><td>${r.attention ? 'yes' : ''}</td></tr>`,
  )}</tbody></table>
${pagerHtml(page, (after) => href(after))}`;
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
<table><thead><tr><th>As of</th><th>Rating</th><th class="num">Limit before</th><th class="num">Limit after</th><th>Outcome</th><th>Why</th></tr></thead>
<tbody>${v.reviews
        .slice(0, CUSTOMER_REVIEWS_SHOWN)
        .map(
          (r) =>
            html`<tr><td><a href="${reviewHref(r.runId)}">${r.asOf}</a></td><td>${ratingText(r)}</td><td class="num">${amount(r.currentLimit, r.currency)}</td><td class="num">${amount(r.limitAfter, r.currency)}</td>${outcomeCell(r)}<td class="text">${r.decision ?? r.error ?? ''}</td></tr>`,
        )}</tbody></table>`
}</section>`;
}
