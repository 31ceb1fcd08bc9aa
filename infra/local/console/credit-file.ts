import { addMonths, daysBetween, type IsoDate } from '../../../functions/core/dates.ts';
import { formatMinor, groupDigits } from '../../../functions/core/money.ts';
import { AGING_BUCKETS, type AgingBucket } from '../../../functions/core/receivables.ts';
import type { CoverLine, CreditFile } from '../../../functions/credit/assess.ts';
import { type HistoryPoint, type LimitStep, limitHistory } from '../../../functions/credit/history.ts';
import type { Policy } from '../../../functions/credit/policy.ts';
import type { CustomerPartition } from '../../../functions/credit/ports.ts';
import type { Review } from '../../../functions/reviews/review.ts';
import type { Transfer } from '../../../functions/transfers/ports.ts';
import { BUCKET_LABELS } from './customers.ts';
import { type Html, html } from './layout.ts';
import { attr, COLORS, niceMax } from './ops.ts';
import { reviewHref } from './reviews.ts';
import { money, runHref } from './shared.ts';
import { transferHref, transferStatus, typeLabel } from './transfers.ts';

/**
 * The customer's credit file on its page: the aging and the scorecard as of the last twelve
 * month-ends, the credit limit's changes, the security and references on file, and the transfers
 * asked for the customer. Charts are inline SVG drawn on the server, as on the Ops page (no script,
 * no inline style: sizes and colours are attributes; the stylesheet's `svg.chart` lets them shrink
 * on a narrow screen), each an image with a title and a description and followed by a table of its
 * numbers.
 */

/** What the page shows of the file beyond the assessment of the day. */
export interface CreditFileView {
  readonly asOf: IsoDate;
  readonly currency: string;
  readonly history: readonly HistoryPoint[];
  readonly ratings: Policy['ratings'];
  readonly limits: readonly LimitStep[];
  readonly file: Pick<CreditFile, 'guarantees' | 'insurance' | 'scores'>;
  /** What each cover counts for in the assessment of the day (CoverLine), by kind and id. */
  readonly cover: readonly CoverLine[];
  /** The agency score the scorecard reads as of the date (the latest dated on or before it). */
  readonly scoreUsed?: { readonly agency: string; readonly date: IsoDate } | undefined;
  /** Every transfer asked for the customer, newest first; undefined when the console has no transfers. */
  readonly transfers?: readonly Transfer[] | undefined;
}

/** The limit history's sources, from one partition, the customer's reviews and its transfers. */
export function limitStepsOf(
  id: string,
  part: CustomerPartition,
  reviews: readonly Review[],
  transfers: readonly Transfer[],
  uploadedOn: IsoDate | undefined,
): LimitStep[] {
  const c = part.books.customer;
  return limitHistory({
    customerId: id,
    current:
      c?.creditLimit !== undefined && c.currency
        ? { amount: c.creditLimit, currency: c.currency }
        : undefined,
    profile: part.profileSource,
    uploadedOn,
    records: part.limitChanges ?? [],
    reviews,
    approved: transfers.flatMap((t) =>
      t.status === 'approved' && t.limitChange
        ? [
            {
              transferId: t.transferId,
              approvedOn: t.approvedOn,
              currency: t.request.currency,
              ...t.limitChange,
            },
          ]
        : [],
    ),
  });
}

// ---------------------------------------------------------------------------------------------
// Shared pieces of the charts

const BUCKET_COLORS: Record<AgingBucket, string> = {
  notDue: COLORS.ingested,
  d1_30: '#8fb3e8',
  d31_60: COLORS.warning,
  d61_90: COLORS.high,
  d91_180: COLORS.rejected,
  over180: COLORS.critical,
};

/** An amount as a person reads it, without the currency (the chart's title names it). */
const amount = (minor: number, ccy: string) => groupDigits(formatMinor(minor, ccy));

/** The chart's top in minor units: a round number of major units at or above `max`. */
function topOf(max: number, ccy: string): number {
  const scale = 10 ** (formatMinor(1, ccy).split('.')[1]?.length ?? 0);
  return niceMax(Math.ceil(max / scale)) * scale;
}

const label = (d: IsoDate) => d.slice(0, 7);

interface Frame {
  readonly left: number;
  readonly top: number;
  readonly plot: number;
  readonly width: number;
  readonly height: number;
}

function axis(f: Frame, ticks: readonly { v: number; text: string }[], y: (v: number) => number): Html {
  return html`${ticks.map(
    (
      t,
    ) => html`<line x1="${f.left - 4}" x2="${f.width - 8}" y1="${attr(y(t.v))}" y2="${attr(y(t.v))}" stroke="${COLORS.axis}" stroke-width="${t.v === 0 ? 1 : 0.5}"/>
<text x="${f.left - 8}" y="${attr(y(t.v) + 3)}" text-anchor="end" font-size="10" fill="${COLORS.text}">${t.text}</text>`,
  )}`;
}

const svgOpen = (id: string, f: Frame, title: string, desc: string, body: Html) =>
  html`<svg id="${id}" class="chart" role="img" aria-labelledby="${`${id}-title ${id}-desc`}" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="system-ui, sans-serif">
<title id="${`${id}-title`}">${title}</title>
<desc id="${`${id}-desc`}">${desc}</desc>
${body}
</svg>`;

const noData = (x: number, y: number) =>
  html`<text x="${attr(x)}" y="${attr(y)}" text-anchor="middle" font-size="9" fill="${COLORS.text}">no data</text>`;

// ---------------------------------------------------------------------------------------------
// Aging at each month-end

export function agingChart(points: readonly HistoryPoint[], ccy: string): Html {
  const slot = 46;
  const bar = 26;
  const f = { left: 84, top: 30, plot: 170, width: 84 + points.length * slot + 12, height: 30 + 170 + 30 };
  const max = topOf(Math.max(0, ...points.map((p) => p.figures?.openAmount ?? 0)), ccy);
  const y = (v: number) => f.top + f.plot - (v / max) * f.plot;
  const ticks = [0, max / 2, max].map((v) => ({ v, text: amount(Math.round(v), ccy) }));
  const known = points.filter((p) => p.figures);
  const bars = points.map((p, i) => {
    const x = f.left + i * slot + (slot - bar) / 2;
    const under = html`<text x="${attr(f.left + i * slot + slot / 2)}" y="${f.top + f.plot + 16}" text-anchor="middle" font-size="10" fill="${COLORS.text}">${label(p.asOf)}</text>`;
    if (!p.figures) return html`<g>${noData(x + bar / 2, f.top + f.plot - 6)}${under}</g>`;
    let base = 0;
    const parts = AGING_BUCKETS.map((b) => {
      const v = p.figures?.aging[b] ?? 0;
      if (v === 0) return '';
      const r = html`<rect x="${attr(x)}" y="${attr(y(base + v))}" width="${bar}" height="${attr(y(base) - y(base + v))}" fill="${BUCKET_COLORS[b]}"><title>${p.asOf}: ${BUCKET_LABELS[b]} ${amount(v, ccy)} ${ccy}</title></rect>`;
      base += v;
      return r;
    });
    return html`<g>${parts}${under}</g>`;
  });
  const legend = AGING_BUCKETS.map(
    (b, i) =>
      html`<rect x="${f.left + i * 78}" y="6" width="10" height="10" fill="${BUCKET_COLORS[b]}"/><text x="${f.left + i * 78 + 14}" y="15" font-size="11" fill="${COLORS.text}">${BUCKET_LABELS[b]}</text>`,
  );
  const last = known.at(-1);
  return svgOpen(
    'aging-chart',
    f,
    `Aging at each month-end, ${points[0]?.asOf ?? ''} to ${points.at(-1)?.asOf ?? ''}, in ${ccy}`,
    `Open receivables by days past due as of each month-end, stacked by bucket; ${points.length - known.length} month-ends before the first invoice show no data.${last?.figures ? ` On ${last.asOf}: ${amount(last.figures.openAmount, ccy)} ${ccy} open, ${amount(last.figures.overdueAmount, ccy)} ${ccy} overdue.` : ''} The table below lists every month-end.`,
    html`${axis(f, ticks, y)}${legend}${bars}`,
  );
}

export function agingTable(points: readonly HistoryPoint[], ccy: string): Html {
  const cell = (v: number, late: boolean) =>
    html`<td class="${v === 0 ? 'num zero' : late ? 'num late' : 'num'}">${money(v, ccy)}</td>`;
  return html`<div class="wrap"><table id="aging-history">
<caption class="muted">The numbers of the chart above, in ${ccy}</caption>
<thead><tr><th>Month-end</th>${AGING_BUCKETS.map((b) => html`<th class="${b === 'notDue' ? 'num' : 'num late'}">${BUCKET_LABELS[b]}</th>`)}<th class="num">Total open</th></tr></thead>
<tbody>${points.map((p) =>
    p.figures
      ? html`<tr><td>${p.asOf}</td>${AGING_BUCKETS.map((b) => cell(p.figures?.aging[b] ?? 0, b !== 'notDue'))}${cell(p.figures.openAmount, false)}</tr>`
      : html`<tr><td>${p.asOf}</td><td colspan="${AGING_BUCKETS.length + 1}" class="muted">no data: before the first invoice</td></tr>`,
  )}</tbody></table></div>`;
}

// ---------------------------------------------------------------------------------------------
// Score and rating at each month-end

export function scoreChart(points: readonly HistoryPoint[], ratings: Policy['ratings']): Html {
  const slot = 46;
  const f = { left: 40, top: 20, plot: 160, width: 40 + points.length * slot + 12, height: 20 + 160 + 30 };
  const y = (v: number) => f.top + f.plot - (v / 100) * f.plot;
  const x = (i: number) => f.left + i * slot + slot / 2;
  // The line breaks where a month has no data (before the first invoice is no score, not zero).
  const segments: string[] = [];
  let run = '';
  points.forEach((p, i) => {
    if (!p.figures) {
      if (run) segments.push(run);
      run = '';
      return;
    }
    run += `${run ? 'L' : 'M'}${attr(x(i))} ${attr(y(p.figures.score))} `;
  });
  if (run) segments.push(run);
  const bands = (['A', 'B', 'C', 'D'] as const).map(
    (r) =>
      html`<line x1="${f.left}" x2="${f.width - 8}" y1="${attr(y(ratings[r]))}" y2="${attr(y(ratings[r]))}" stroke="${COLORS.axis}" stroke-width="0.5" stroke-dasharray="3 3"/>
<text x="${f.width - 10}" y="${attr(y(ratings[r]) - 2)}" text-anchor="end" font-size="9" fill="${COLORS.text}">${r} from ${ratings[r]}</text>`,
  );
  const ticks = [0, 50, 100].map((v) => ({ v, text: String(v) }));
  const dots = points.map((p, i) => {
    const under = html`<text x="${attr(x(i))}" y="${f.top + f.plot + 16}" text-anchor="middle" font-size="10" fill="${COLORS.text}">${label(p.asOf)}</text>`;
    if (!p.figures) return html`${noData(x(i), f.top + f.plot - 6)}${under}`;
    const s = p.figures.score;
    return html`<circle cx="${attr(x(i))}" cy="${attr(y(s))}" r="3.5" fill="${COLORS.info}"><title>${p.asOf}: score ${s}, rating ${p.figures.rating}</title></circle>
<text x="${attr(x(i))}" y="${attr(y(s) - 7)}" text-anchor="middle" font-size="11" font-weight="600" fill="${COLORS.info}">${p.figures.rating}</text>${under}`;
  });
  const known = points.filter((p) => p.figures);
  return svgOpen(
    'score-chart',
    f,
    `Score and rating at each month-end, ${points[0]?.asOf ?? ''} to ${points.at(-1)?.asOf ?? ''}`,
    `The scorecard's score (0 to 100) as of each month-end, each point labelled with its rating; dashed lines mark where each rating begins. ${known.length === 0 ? 'No month-end has data yet.' : `From ${known[0]?.figures?.score} (${known[0]?.figures?.rating}) on ${known[0]?.asOf} to ${known.at(-1)?.figures?.score} (${known.at(-1)?.figures?.rating}) on ${known.at(-1)?.asOf}.`} The table below lists every month-end.`,
    html`${axis(f, ticks, y)}${bands}${segments.map((d) => html`<path d="${d.trim()}" fill="none" stroke="${COLORS.info}" stroke-width="2"/>`)}${dots}`,
  );
}

export function scoreTable(points: readonly HistoryPoint[]): Html {
  return html`<div class="wrap"><table id="score-history">
<caption class="muted">The numbers of the chart above</caption>
<thead><tr><th>Month-end</th><th class="num">Score</th><th>Rating</th><th>Risk class</th></tr></thead>
<tbody>${points.map((p) =>
    p.figures
      ? html`<tr><td>${p.asOf}</td><td class="num">${p.figures.score}</td><td>${p.figures.rating}</td><td>${p.figures.riskClass}</td></tr>`
      : html`<tr><td>${p.asOf}</td><td colspan="3" class="muted">no data: before the first invoice</td></tr>`,
  )}</tbody></table></div>`;
}

// ---------------------------------------------------------------------------------------------
// The credit limit over time

const SOURCE_WORDS: Record<LimitStep['source'], string> = {
  review: 'periodic review',
  approval: 'approved change',
  upload: 'master data upload',
};

/** The limit as a step line from the first change (or a year back) to the as-of date. */
export function limitChart(steps: readonly LimitStep[], asOf: IsoDate, ccy: string): Html {
  const f = { left: 84, top: 20, plot: 150, width: 640, height: 20 + 150 + 30 };
  const dated = steps.filter((s) => s.on !== undefined && s.currency === ccy);
  const firstOn = dated[0]?.on;
  const lastOn = dated.at(-1)?.on;
  const start = firstOn !== undefined && firstOn < asOf ? firstOn : addMonths(asOf, -12);
  const end = lastOn !== undefined && lastOn > asOf ? lastOn : asOf;
  const span = Math.max(1, daysBetween(start, end));
  const x = (d: IsoDate) => f.left + (Math.max(0, daysBetween(start, d)) / span) * (f.width - f.left - 16);
  const mine = steps.filter((s) => s.currency === ccy);
  const max = topOf(Math.max(0, ...mine.map((s) => Math.max(s.to, s.from ?? 0))), ccy);
  const y = (v: number) => f.top + f.plot - (v / max) * f.plot;
  // Each step holds its limit from its day to the next step's (the first one from the left edge).
  let d = '';
  mine.forEach((s, i) => {
    const from = s.on === undefined ? f.left : x(s.on);
    const next = mine[i + 1];
    const to = next?.on === undefined ? (next ? from : x(end)) : x(next.on);
    if (i === 0 && s.from !== undefined)
      d += `M${attr(f.left)} ${attr(y(s.from))} L${attr(from)} ${attr(y(s.from))} `;
    d += `${d ? 'L' : 'M'}${attr(from)} ${attr(y(s.to))} L${attr(to)} ${attr(y(s.to))} `;
  });
  const ticks = [0, max / 2, max].map((v) => ({ v, text: amount(Math.round(v), ccy) }));
  const marks = mine.map((s) => {
    const at = s.on === undefined ? f.left : x(s.on);
    return html`<circle cx="${attr(at)}" cy="${attr(y(s.to))}" r="3.5" fill="${COLORS.ingested}"><title>${s.on ?? 'date not known'}: ${s.from === undefined ? 'none' : amount(s.from, ccy)} to ${amount(s.to, ccy)} ${ccy} (${SOURCE_WORDS[s.source]})</title></circle>`;
  });
  const dates = html`<text x="${f.left}" y="${f.top + f.plot + 16}" font-size="10" fill="${COLORS.text}">${start}</text>
<text x="${f.width - 16}" y="${f.top + f.plot + 16}" text-anchor="end" font-size="10" fill="${COLORS.text}">${end}</text>`;
  const now = mine.at(-1);
  return svgOpen(
    'limit-chart',
    f,
    `Credit limit, ${start} to ${end}, in ${ccy}`,
    `${mine.length} change${mine.length === 1 ? '' : 's'} of the credit limit known${now ? `; the last sets it to ${amount(now.to, ccy)} ${ccy}` : ''}. The table below lists each with its date and reason.`,
    html`${axis(f, ticks, y)}${d ? html`<path d="${d.trim()}" fill="none" stroke="${COLORS.ingested}" stroke-width="2"/>` : ''}${marks}${dates}`,
  );
}

export function limitTable(steps: readonly LimitStep[]): Html {
  const limit = (v: number | undefined, ccy: string) =>
    v === undefined ? html`<span class="muted">none</span>` : money(v, ccy);
  const rows = [...steps].reverse().map((s) => {
    const refs = [
      s.reviewId
        ? html`review <a href="${reviewHref(s.reviewId.split('/')[0] ?? s.reviewId)}">${s.reviewId.split('/')[0]}</a>`
        : '',
      s.transferId ? html`transfer <a href="${transferHref(s.transferId)}">${s.transferId}</a>` : '',
      s.runId ? html`upload run <a href="${runHref(s.runId)}">${s.runId}</a>` : '',
    ].filter((r) => r !== '');
    return html`<tr><td>${s.on ?? html`<span class="muted">date not known</span>`}</td><td class="num">${limit(s.from, s.currency)}</td><td class="num">${money(s.to, s.currency)}</td><td>${SOURCE_WORDS[s.source]}</td><td class="text">${s.reason}</td><td class="text">${refs.map((r, i) => html`${i > 0 ? html`<br>` : ''}${r}`)}</td></tr>`;
  });
  return html`<div class="wrap"><table id="limit-history">
<caption class="muted">Every change of the credit limit, newest first</caption>
<thead><tr><th>On</th><th class="num">From</th><th class="num">To</th><th>By</th><th>Reason</th><th>Record</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

// ---------------------------------------------------------------------------------------------
// Security and references

/** "expired 12 days ago", "expires today", "expires in 15 days", relative to the as-of date. */
export function expiryMarker(expiry: IsoDate, asOf: IsoDate, validFrom?: IsoDate): Html {
  if (validFrom !== undefined && validFrom > asOf)
    return html`<span class="badge">not yet in force (from ${validFrom})</span>`;
  const n = daysBetween(asOf, expiry);
  if (n < 0) return html`<span class="badge bad">expired ${-n} day${n === -1 ? '' : 's'} ago</span>`;
  if (n === 0) return html`<span class="badge bad">expires today</span>`;
  return html`<span class="${n <= 30 ? 'badge sev-warning' : 'badge ok'}">expires in ${n} day${n === 1 ? '' : 's'}</span>`;
}

const STATUS_WORDS: Record<CoverLine['status'], string> = {
  counted: 'counted in full',
  capped: 'counted up to the cap',
  expired: 'expired: not counted',
  otherCurrency: 'another currency: not counted',
  nothingInsurable: 'nothing insurable owed',
};

function countedCell(lines: readonly CoverLine[], kind: CoverLine['kind'], id: string, ccy: string): Html {
  const l = lines.find((c) => c.kind === kind && c.id === id);
  if (!l) return html`<td class="muted">not in force as of the date</td>`;
  return html`<td>${money(l.counted, ccy)} <span class="muted">(${STATUS_WORDS[l.status]})</span></td>`;
}

export function securitySection(v: CreditFileView): Html {
  const { guarantees, insurance, scores } = v.file;
  const byExpiry = <T extends { expiry: IsoDate }>(xs: readonly T[]) =>
    [...xs].sort((a, b) => (a.expiry < b.expiry ? 1 : a.expiry > b.expiry ? -1 : 0));
  const g =
    guarantees.length === 0
      ? html`<p class="muted">No guarantee on file.</p>`
      : html`<div class="wrap"><table id="guarantees">
<thead><tr><th>Guarantee</th><th>Issuer</th><th class="num">Amount</th><th>Valid from</th><th>Expiry</th><th>As of ${v.asOf}</th><th>Counted in the limit</th></tr></thead>
<tbody>${byExpiry(guarantees).map(
          (x) =>
            html`<tr><td>${x.guaranteeId}</td><td>${x.issuer}</td><td class="num">${money(x.amount, x.currency)}</td><td>${x.validFrom ?? html`<span class="muted">—</span>`}</td><td>${x.expiry}</td><td>${expiryMarker(x.expiry, v.asOf, x.validFrom)}</td>${countedCell(v.cover, 'guarantee', x.guaranteeId, v.currency)}</tr>`,
        )}</tbody></table></div>`;
  const ins =
    insurance.length === 0
      ? html`<p class="muted">No credit insurance on file.</p>`
      : html`<div class="wrap"><table id="insurance">
<thead><tr><th>Policy</th><th>Insurer</th><th class="num">Insured share</th><th class="num">Cap per loss</th><th>Valid from</th><th>Expiry</th><th>As of ${v.asOf}</th><th>Counted in the limit</th></tr></thead>
<tbody>${byExpiry(insurance).map(
          (x) =>
            html`<tr><td>${x.policyId}</td><td>${x.insurer}</td><td class="num">${(x.insuredShareBp / 100).toFixed(1)}%</td><td class="num">${money(x.cap, x.currency)}</td><td>${x.validFrom ?? html`<span class="muted">—</span>`}</td><td>${x.expiry}</td><td>${expiryMarker(x.expiry, v.asOf, x.validFrom)}</td>${countedCell(v.cover, 'insurance', x.policyId, v.currency)}</tr>`,
        )}</tbody></table></div>`;
  const sc =
    scores.length === 0
      ? html`<p class="muted">No agency score on file.</p>`
      : html`<div class="wrap"><table id="agency-scores">
<thead><tr><th>Agency</th><th>Dated</th><th class="num">Score</th><th class="num">On 0–100</th><th>As of ${v.asOf}</th></tr></thead>
<tbody>${[...scores]
          .sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : 0))
          .map((x) => {
            const age = daysBetween(x.date, v.asOf);
            const used = v.scoreUsed?.agency === x.agency && v.scoreUsed.date === x.date;
            return html`<tr><td>${x.agency}</td><td>${x.date}</td><td class="num">${x.score} of ${x.scaleMax}</td><td class="num">${x.scaleMax > 0 ? Math.round((100 * x.score) / x.scaleMax) : '—'}</td><td>${age < 0 ? html`<span class="badge">dated after ${v.asOf}</span>` : html`${age} day${age === 1 ? '' : 's'} old${used ? html` · <span class="badge ok">the scorecard's</span>` : ''}`}</td></tr>`;
          })}</tbody></table></div>`;
  return html`<h2 id="security">Security and references</h2>
<p class="muted">Guarantees, credit insurance and agency scores on file, as uploaded; expiry is counted from ${v.asOf}. A guarantee counts in the limit while in force; an insurer pays its share of what is owed up to its cap (not on debts overdue beyond its extension period).</p>
<h3>Guarantees</h3>
${g}
<h3>Credit insurance</h3>
${ins}
<h3>Agency scores</h3>
${sc}`;
}

// ---------------------------------------------------------------------------------------------
// The customer's transfers

export function transfersSection(transfers: readonly Transfer[] | undefined): Html | '' {
  if (transfers === undefined) return '';
  const what = (t: Transfer) =>
    t.limitChange
      ? html`limit ${t.limitChange.from === undefined ? 'none' : money(t.limitChange.from, t.request.currency)} → ${money(t.limitChange.to, t.request.currency)}`
      : money(t.request.amount, t.request.currency);
  return html`<h2 id="customer-transfers">Transfers (${transfers.length})</h2>
${
  transfers.length === 0
    ? html`<p class="muted">No transfer has been requested for this customer.</p>`
    : html`<p class="muted">Every transfer requested for this customer, newest first.</p>
<div class="wrap"><table id="transfers-of-customer">
<thead><tr><th>Requested</th><th>Transfer</th><th>Type</th><th class="num">Amount</th><th>Status</th><th>Approved</th><th>Paid</th><th>Outcome</th></tr></thead>
<tbody>${transfers.map(
        (t) =>
          html`<tr><td>${t.requestedOn}</td><td><a href="${transferHref(t.transferId)}">${t.transferId}</a></td><td>${typeLabel(t.request.type)}</td><td class="num">${what(t)}</td><td>${transferStatus(t)}</td><td>${t.approvedOn ?? html`<span class="muted">—</span>`}</td><td>${t.paidOn ?? html`<span class="muted">—</span>`}</td><td class="text">${t.outcome ?? ''}</td></tr>`,
      )}</tbody></table></div>`
}`;
}

// ---------------------------------------------------------------------------------------------
// The whole section

export function creditFileSection(v: CreditFileView): Html {
  const ccy = v.currency;
  const first = v.history[0]?.asOf ?? v.asOf;
  return html`<h2 id="history">Aging at each month-end</h2>
<p class="muted">The open receivables as of each of the last ${v.history.length} month-ends (${first} to ${v.history.at(-1)?.asOf ?? v.asOf}), computed now from the books as they stood that day, as the statement above is for ${v.asOf}. Months before the first invoice have no data.</p>
<div class="wrap">${agingChart(v.history, ccy)}</div>
${agingTable(v.history, ccy)}
<h2>Score and rating at each month-end</h2>
<p class="muted">The scorecard as of each month-end under the policy in force now, as a what-if evaluation of that day would give.</p>
<div class="wrap">${scoreChart(v.history, v.ratings)}</div>
${scoreTable(v.history)}
<h2>Credit limit history</h2>
<p class="muted">Built from the limit records kept on the customer's file (each limit a periodic review set, or the approval chain approved), the customer's reviews and its approved limit-change transfers, and the master data's limit as last uploaded. A limit changed in the ERP and uploaded again shows as one change on the day of that upload; changes the ERP made between uploads are not known here.</p>
${
  v.limits.length === 0
    ? html`<p class="muted">No credit limit on file, and none was ever set here.</p>`
    : html`<div class="wrap">${limitChart(v.limits, v.asOf, ccy)}</div>
${limitTable(v.limits)}`
}
${securitySection(v)}
${transfersSection(v.transfers)}`;
}
