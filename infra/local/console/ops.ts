import {
  durationMs,
  durationSeconds,
  nonZero,
  type OpsDay,
  type OpsSummary,
  type Percentiles,
} from '../runtime/ops.ts';
import { type Html, html } from './layout.ts';

/**
 * The console's /ops page: the local stand-in for the CloudWatch dashboard. Charts are inline SVG
 * drawn on the server (the console's CSP allows no script, and no inline style either: colours
 * and sizes are SVG attributes). Each chart is an image with a title and a description, and the
 * table under it holds the same numbers.
 */

export const COLORS = {
  ingested: '#1f5fbf',
  rejected: '#a8261b',
  axis: '#b8bec8',
  text: '#5d6675',
  info: '#1f4a8a',
  warning: '#b07d00',
  high: '#d0442f',
  critical: '#7a1a12',
} as const;

export const count = (n: number) => n.toLocaleString('en-US');

export const ratio = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);
export const spread = (p: Percentiles, fmt: (v: number | null) => string) =>
  p.count === 0
    ? html`<span class="muted">none yet</span>`
    : html`p50 ${fmt(p.p50)} · p95 ${fmt(p.p95)} <span class="muted">(${count(p.count)})</span>`;

/** The smallest 1, 2 or 5 times a power of ten at or above `v` (at least 1): the chart's top. */
export function niceMax(v: number): number {
  if (v <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * power >= v) return m * power;
  return 10 * power;
}

export const attr = (n: number) => String(Math.round(n * 10) / 10);

/** Rows ingested and rejected per day: two bars a day, on one scale. */
export function rowsChart(days: readonly OpsDay[]): Html {
  const slot = 38;
  const bar = 14;
  const left = 56;
  const top = 28;
  const plot = 160;
  const width = left + days.length * slot + 12;
  const height = top + plot + 30;
  const max = niceMax(Math.max(0, ...days.map((d) => Math.max(d.rowsIngested, d.rowsRejected))));
  const y = (v: number) => top + plot - (v / max) * plot;
  const ingested = days.reduce((s, d) => s + d.rowsIngested, 0);
  const rejected = days.reduce((s, d) => s + d.rowsRejected, 0);
  const first = days[0]?.day ?? '';
  const last = days.at(-1)?.day ?? '';
  const ticks = [0, max / 2, max];
  const bars = days.map((d, i) => {
    const x = left + i * slot + (slot - 2 * bar - 2) / 2;
    const h = (v: number) => Math.max(0, top + plot - y(v));
    return html`<g>
<rect x="${attr(x)}" y="${attr(y(d.rowsIngested))}" width="${bar}" height="${attr(h(d.rowsIngested))}" fill="${COLORS.ingested}"><title>${d.day}: ${count(d.rowsIngested)} rows ingested</title></rect>
<rect x="${attr(x + bar + 2)}" y="${attr(y(d.rowsRejected))}" width="${bar}" height="${attr(h(d.rowsRejected))}" fill="${COLORS.rejected}"><title>${d.day}: ${count(d.rowsRejected)} rows rejected</title></rect>
<text x="${attr(left + i * slot + slot / 2)}" y="${top + plot + 16}" text-anchor="middle" font-size="10" fill="${COLORS.text}">${d.day.slice(5)}</text>
</g>`;
  });
  return html`<svg id="rows-chart" role="img" aria-labelledby="rows-chart-title rows-chart-desc" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">
<title id="rows-chart-title">Rows ingested and rejected per day, ${first} to ${last}</title>
<desc id="rows-chart-desc">${count(ingested)} rows ingested and ${count(rejected)} rejected over these ${days.length} days; the table below lists every day.</desc>
${ticks.map(
  (
    t,
  ) => html`<line x1="${left - 4}" x2="${width - 8}" y1="${attr(y(t))}" y2="${attr(y(t))}" stroke="${COLORS.axis}" stroke-width="${t === 0 ? 1 : 0.5}"/>
<text x="${left - 8}" y="${attr(y(t) + 3)}" text-anchor="end" font-size="10" fill="${COLORS.text}">${count(t)}</text>`,
)}
<rect x="${left}" y="6" width="10" height="10" fill="${COLORS.ingested}"/><text x="${left + 14}" y="15" font-size="11" fill="${COLORS.text}">ingested</text>
<rect x="${left + 80}" y="6" width="10" height="10" fill="${COLORS.rejected}"/><text x="${left + 94}" y="15" font-size="11" fill="${COLORS.text}">rejected</text>
${bars}
</svg>`;
}

/** Alerts raised by severity: one horizontal bar each, least severe first. */
export function severityChart(bySeverity: Readonly<Record<string, number>>): Html {
  const entries = Object.entries(bySeverity);
  const left = 72;
  const row = 26;
  const plot = 320;
  const width = left + plot + 70;
  const height = entries.length * row + 10;
  const max = niceMax(Math.max(0, ...entries.map(([, v]) => v)));
  const total = entries.reduce((s, [, v]) => s + v, 0);
  return html`<svg id="severity-chart" role="img" aria-labelledby="severity-chart-title severity-chart-desc" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">
<title id="severity-chart-title">Alerts raised by severity</title>
<desc id="severity-chart-desc">${count(total)} alerts raised: ${entries.map(([k, v]) => `${k} ${count(v)}`).join(', ')}.</desc>
${entries.map(([k, v], i) => {
  const yTop = 5 + i * row;
  const w = (v / max) * plot;
  const fill = (COLORS as Record<string, string>)[k] ?? COLORS.ingested;
  return html`<text x="${left - 8}" y="${yTop + 14}" text-anchor="end" font-size="11" fill="${COLORS.text}">${k}</text>
<rect x="${left}" y="${yTop + 2}" width="${attr(w)}" height="${row - 8}" fill="${fill}"><title>${k}: ${count(v)}</title></rect>
<text x="${attr(left + w + 6)}" y="${yTop + 14}" font-size="11" fill="${COLORS.text}">${count(v)}</text>`;
})}
<line x1="${left}" x2="${left}" y1="2" y2="${height - 2}" stroke="${COLORS.axis}"/>
</svg>`;
}

export const figure = (id: string, label: string, value: Html | string, hint?: Html | string) =>
  html`<dt>${label}</dt><dd id="${id}">${value}${hint ? html` <span class="muted">${hint}</span>` : ''}</dd>`;

export const orNone = (n: number | null, none = '—') => (n === null ? none : count(n));

const days = (n: number) => `${count(n)} day${n === 1 ? '' : 's'}`;

/** Promises rated final and disputes open, as the daily run counted them (none before it did). */
function collectionsFigures({ promises, disputes }: OpsSummary['collections']): Html | string {
  if (!promises && !disputes) return '';
  return html`<dl class="kv">
${promises ? figure('collections-promises', 'Promises', `kept ${count(promises.kept)}, partial ${count(promises.partial)}, broken ${count(promises.broken)}`, `(over ${days(promises.days)} counted)`) : ''}
${disputes ? figure('collections-disputes', 'Disputes open', disputes.open > 0 ? `${count(disputes.open)}, the oldest ${days(disputes.oldestDays)}` : '0', `(as of ${disputes.asOf})`) : ''}
${disputes ? figure('collections-disputes-overdue', 'Answers overdue', disputes.overdue > 0 ? html`<span class="problem">${count(disputes.overdue)}: past the answer date</span>` : '0') : ''}
</dl>`;
}

export function opsPage(s: OpsSummary): Html {
  const { ingest, alerts, transfers, reviews, collections, deadLetter } = s;
  const reviewsRan = reviews.run + reviews.failed > 0 || reviews.durationSeconds.count > 0;
  const failing = deadLetter.inboxFailing;
  return html`<h1>Ops</h1>
<p class="muted">What the handlers measured (the same metrics they send to CloudWatch on AWS), read back from <code>${s.metricsFile}</code>${s.since ? html` since ${s.since}` : ' (nothing recorded yet)'}, with live counts from the store. They are recorded by <code>sentinel start</code> (the inbox, the evaluations, the transfers), not by the <code>ingest</code> and <code>evaluate</code> commands. Days are in ${s.timeZone}. As JSON: <a href="/api/ops">/api/ops</a>; on the command line: <code>sentinel metrics</code>.</p>
<div class="cols">
<section><h2>Ingestion</h2><dl class="kv">
${figure('rows-ingested', 'Rows ingested', count(ingest.rowsIngested))}
${figure('rows-rejected', 'Rows rejected', count(ingest.rowsRejected))}
${figure('reject-ratio', 'Reject ratio', ratio(ingest.rejectRatio))}
${figure('files', 'Files', `${count(ingest.filesProcessed)} processed, ${count(ingest.filesUnreadable)} unreadable`)}
${figure('ingest-latency', 'Ingest latency', spread(ingest.latencyMs, durationMs))}
</dl></section>
<section><h2>Alerts</h2><dl class="kv">
${figure('open-alerts', 'Open now', orNone(alerts.open), alerts.openAtLastRun === null ? undefined : `(last run: ${count(alerts.openAtLastRun)})`)}
${figure('alerts-raised', 'Raised', count(alerts.raised))}
${figure('alerts-resolved', 'Resolved', count(alerts.resolved))}
${figure('evaluations', 'Evaluations', `${count(alerts.evaluations)} run, ${count(alerts.evaluationsFailed)} failed`)}
${figure('evaluation-latency', 'Evaluation time', spread(alerts.evaluationLatencyMs, durationMs))}
</dl></section>
<section><h2>Transfers</h2><dl class="kv">
${figure('approvals-pending', 'Approvals pending', orNone(transfers.approvalsPending))}
${figure('oldest-approval', 'Oldest waiting', transfers.oldestPendingSeconds === null ? html`<span class="muted">none waiting</span>` : durationSeconds(transfers.oldestPendingSeconds))}
${figure('decision-latency', 'Decision latency', spread(transfers.decisionLatencySeconds, durationSeconds))}
${figure('transfers-requested', 'Requested', count(transfers.requested))}
${figure('transfers-failed', 'Failed', transfers.failed > 0 ? html`<a href="/transfers?status=failed" class="problem">${count(transfers.failed)}: retry or recall them</a>` : count(transfers.failed))}
${figure(
  'transfers-decided',
  'Decided',
  Object.entries(transfers.decidedByOutcome)
    .map(([k, v]) => `${k} ${count(v)}`)
    .join(', '),
)}
</dl></section>
<section><h2>Reviews</h2>${
    reviewsRan
      ? html`<dl class="kv">
${figure('reviews-run', 'Reviewed', count(reviews.run))}
${figure('reviews-failed', 'Failed', count(reviews.failed))}
${figure('review-duration', 'Review run', spread(reviews.durationSeconds, durationSeconds))}
</dl>`
      : html`<p id="reviews-none" class="muted">No periodic review has run yet.</p>`
  }</section>
<section><h2>Collections</h2>${
    collections.sent + collections.failed > 0
      ? html`<dl class="kv">
${figure('collections-sent', 'Steps taken', count(collections.sent))}
${figure('collections-by-level', 'By level', nonZero(collections.byLevel))}
${figure('collections-by-channel', 'By channel', nonZero(collections.byChannel))}
${figure('collections-failed', 'Not delivered', collections.failed > 0 ? html`<span class="problem">${count(collections.failed)}: the next run takes them</span>` : count(collections.failed))}
</dl>`
      : html`<p id="collections-none" class="muted">No collection step taken yet.</p>`
  }${collectionsFigures(collections)}</section>
</div>

<h2>Rows per day</h2>
<div class="wrap">${rowsChart(s.days)}</div>
<div class="wrap"><table id="rows-per-day">
<caption class="muted">The numbers of the chart above</caption>
<thead><tr><th>Day</th><th class="num">Rows ingested</th><th class="num">Rows rejected</th><th class="num">Reject ratio</th><th class="num">Alerts raised</th></tr></thead>
<tbody>${s.days.map(
    (d) =>
      html`<tr><td>${d.day}</td><td class="num">${count(d.rowsIngested)}</td><td class="num">${count(d.rowsRejected)}</td><td class="num">${ratio(d.rejectRatio)}</td><td class="num">${count(d.alertsRaised)}</td></tr>`,
  )}</tbody>
</table></div>

<h2>Alerts raised by severity</h2>
<p class="muted">Alerts opened or escalated, by the severity they were raised to.</p>
<div class="wrap">${severityChart(alerts.raisedBySeverity)}</div>
<div class="wrap"><table id="alerts-by-severity">
<caption class="muted">The numbers of the chart above</caption>
<thead><tr><th>Severity</th><th class="num">Raised</th></tr></thead>
<tbody>${Object.entries(alerts.raisedBySeverity).map(
    ([k, v]) =>
      html`<tr><td><span class="${`badge sev-${k}`}">${k}</span></td><td class="num">${count(v)}</td></tr>`,
  )}</tbody>
</table></div>

<h2>Dead letters</h2>
<p class="muted">On AWS an upload whose ingest fails three times goes to the dead-letter queue. Here the inbox retries such a file at every scan; a file that cannot be read at all is no failure but a run marked unreadable, with its reason.</p>
<dl class="kv">
${figure('inbox-failing', 'Inbox files failing', failing === null ? html`<span class="muted">not known (the inbox runs in <code>sentinel start</code>)</span>` : count(failing.length))}
${figure('unreadable-runs', 'Unreadable uploads', orNone(deadLetter.unreadableRuns), `of the latest ${count(deadLetter.runsChecked)} runs`)}
</dl>
${
  failing && failing.length > 0
    ? html`<div class="wrap"><table id="inbox-failures"><thead><tr><th>File</th><th>Last failed</th><th>Reason</th></tr></thead>
<tbody>${failing.map((f) => html`<tr><td><code class="word">${f.file}</code></td><td>${f.at}</td><td class="text">${f.reason}</td></tr>`)}</tbody></table></div>`
    : ''
}
${
  deadLetter.latestUnreadable.length > 0
    ? html`<div class="wrap"><table id="unreadable"><thead><tr><th>Started</th><th>File</th><th>Reason</th></tr></thead>
<tbody>${deadLetter.latestUnreadable.map(
        (r) =>
          html`<tr><td>${r.startedAt}</td><td><a href="${`/runs/${encodeURIComponent(r.runId)}`}">${r.file}</a></td><td class="text">${r.reason ?? ''}</td></tr>`,
      )}</tbody></table></div>`
    : ''
}`;
}
