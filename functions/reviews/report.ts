import { formatMinor, formatMoney } from '../core/money.ts';
import { csvCell } from '../ingest/rejects.ts';
import type { ReviewRun } from './ports.ts';
import type { Review } from './review.ts';

/** The report's columns, in order (one row per customer of the run). */
export const REPORT_COLUMNS = [
  'customer_id',
  'name',
  'status',
  'due',
  'rating_before',
  'rating',
  'score_before',
  'score',
  'risk_class',
  'currency',
  'exposure',
  'overdue',
  'max_days_past_due',
  'limit_before',
  'recommended_limit',
  'limit_after',
  'asked_limit',
  'outcome',
  'rule',
  'thin_history',
  'transfer_id',
  'next_review',
  'attention',
  'decision',
  'basis',
  'error',
] as const;

/** Rows shown per section of the HTML page; the CSV always has every customer. */
export const HTML_ROWS = 2000;

/** The CSV's amounts: plain decimals a spreadsheet sums, their currency in the `currency` column. */
const amount = (v: number | undefined, ccy: string | undefined) =>
  v === undefined || !ccy ? '' : formatMinor(v, ccy);

function row(r: Review): (string | number)[] {
  return [
    r.customerId,
    r.name ?? '',
    r.status,
    r.due,
    r.previous?.rating ?? '',
    r.rating ?? '',
    r.previous?.score ?? '',
    r.score ?? '',
    r.riskClass ?? '',
    r.currency ?? '',
    amount(r.figures?.exposure, r.currency),
    amount(r.figures?.overdueAmount, r.currency),
    r.figures?.maxDaysPastDue ?? '',
    amount(r.currentLimit, r.currency),
    amount(r.recommendedLimit, r.currency),
    amount(r.limitAfter, r.currency),
    amount(r.askedLimit, r.currency),
    r.outcome ?? '',
    r.rule ?? '',
    r.thinHistory === undefined ? '' : r.thinHistory ? 'yes' : 'no',
    r.transferId ?? '',
    r.nextReviewOn ?? '',
    r.attention ? 'yes' : 'no',
    r.decision ?? '',
    (r.basis ?? []).join('; '),
    r.error ?? '',
  ];
}

const esc = (s: string | number) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

// On a phone the tables scroll inside their own box and the summary is one column (issue 15, "Phones").
const CSS = `body{font:15px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;overflow-wrap:break-word}
.wrap{overflow-x:auto;margin:.5rem 0 1.5rem}table{border-collapse:collapse}th,td{border-bottom:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f6f8fa}.bad{color:#a40e26}.good{color:#116329}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
@media (max-width:40rem){body{margin:1rem}dl{grid-template-columns:minmax(0,1fr);gap:0}dd{margin:0 0 .4rem}}`;

function table(
  title: string,
  rows: readonly Review[],
  cols: [string, (r: Review) => string, boolean?][],
): string {
  if (rows.length === 0) return `<h2>${esc(title)}</h2><p>None.</p>`;
  const shown = rows.slice(0, HTML_ROWS);
  const more = rows.length - shown.length;
  return `<h2>${esc(title)} (${rows.length})</h2><div class="wrap"><table><thead><tr>${cols.map(([h]) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${shown
    .map(
      (r) => `<tr>${cols.map(([, f, n]) => `<td${n ? ' class="n"' : ''}>${esc(f(r))}</td>`).join('')}</tr>`,
    )
    .join('')}</tbody></table></div>${more > 0 ? `<p>${more} more in the CSV report.</p>` : ''}`;
}

const who = (r: Review) => (r.name && r.name !== r.customerId ? `${r.customerId} ${r.name}` : r.customerId);
const limitCell = (v: number | undefined, r: Review) =>
  v === undefined || !r.currency ? '—' : formatMoney(v, r.currency);

function approvalsWords(run: ReviewRun): string {
  const a = run.approvals;
  if (!a) return 'nothing needed approval';
  return a.mode === 'batch'
    ? `once, for the whole batch of ${a.count} changes (${a.transferId})`
    : `one request per customer (${a.count})`;
}

/** The run's report: a CSV of every customer, and a page a person reads (changes and who needs attention). */
export function reviewReport(run: ReviewRun, reviews: readonly Review[]): { csv: string; html: string } {
  const csv = `${[REPORT_COLUMNS.join(','), ...reviews.map((r) => row(r).map(csvCell).join(','))].join('\r\n')}\r\n`;
  const c = run.counts;
  const ratingChanges = reviews.filter((r) => r.previous && r.rating && r.rating !== r.previous.rating);
  const limitChanges = reviews.filter(
    (r) => r.outcome === 'cut' || r.outcome === 'raise' || r.outcome === 'approval',
  );
  const attention = reviews.filter((r) => r.attention);
  const failed = reviews.filter((r) => r.status === 'failed');
  const summary: [string, string | number][] = [
    ['As of', run.asOf],
    ['Policy', run.policyId],
    ['Started', run.startedAt],
    ['Finished', run.finishedAt ?? '—'],
    ['Customers selected', run.selected],
    ['Reviewed', c?.reviewed ?? 0],
    ['Failed', c?.failed ?? 0],
    ['Limits cut', c?.outcomes.cut ?? 0],
    ['Limits raised', c?.outcomes.raise ?? 0],
    ['Sent for approval (first limits, large raises, deep cuts)', c?.outcomes.approval ?? 0],
    ['How approval was asked', approvalsWords(run)],
    ['Limits kept', c?.outcomes.keep ?? 0],
    ['Ratings up / down', `${c?.ratingUp ?? 0} / ${c?.ratingDown ?? 0}`],
    ['Need attention', c?.attention ?? 0],
  ];
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Credit review ${esc(run.asOf)} · credit-sentinel</title><style>${CSS}</style></head><body>
<h1>Credit review as of ${esc(run.asOf)}</h1>
<p>Run <code>${esc(run.runId)}</code>. Every customer of the run is in the CSV report, one row each.</p>
<dl>${summary.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
${table('Needs attention', attention, [
  ['Customer', who],
  ['Why due', (r) => r.due],
  [
    'Rating',
    (r) =>
      r.previous?.rating && r.rating !== r.previous.rating
        ? `${r.previous.rating} → ${r.rating ?? '?'}`
        : (r.rating ?? '—'),
  ],
  ['Outcome', (r) => (r.status === 'failed' ? `failed: ${r.error ?? ''}` : (r.decision ?? ''))],
])}
${table('Failed reviews', failed, [
  ['Customer', who],
  ['Why due', (r) => r.due],
  ['Error', (r) => r.error ?? ''],
])}
${table('Rating changes', ratingChanges, [
  ['Customer', who],
  ['Before', (r) => `${r.previous?.rating} (${r.previous?.score})`],
  ['Now', (r) => `${r.rating} (${r.score})`],
  ['Risk class', (r) => r.riskClass ?? ''],
])}
${table('Limit changes', limitChanges, [
  ['Customer', who],
  ['Rating', (r) => r.rating ?? '—'],
  ['Exposure', (r) => limitCell(r.figures?.exposure, r), true],
  ['Overdue', (r) => limitCell(r.figures?.overdueAmount, r), true],
  ['Before', (r) => limitCell(r.currentLimit, r), true],
  ['After', (r) => limitCell(r.outcome === 'approval' ? r.askedLimit : r.limitAfter, r), true],
  [
    'Outcome',
    (r) =>
      r.outcome === 'approval'
        ? `approval asked${r.transferId ? ` (${r.transferId})` : ''}`
        : (r.outcome ?? ''),
  ],
  ['Why', (r) => r.decision ?? ''],
  ['Basis', (r) => (r.basis ?? []).join('; ')],
])}
</body></html>
`;
  return { csv, html };
}
