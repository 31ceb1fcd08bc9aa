import type { Page } from '../../../functions/core/paging.ts';
import type { IngestRun, RejectRecord } from '../../../functions/ingest/ports.ts';
import { type Html, html, kv } from './layout.ts';
import { DEFAULT_RUNS } from './options.ts';
import { hrefWith, pagerHtml, shownHtml } from './paging.ts';
import { instant, numCell, runHref } from './shared.ts';

// ---------------------------------------------------------------------------------------------
// Runs

export const statusBadge = (r: IngestRun) =>
  r.status === 'processed'
    ? html`<span class="badge ok">processed</span>`
    : html`<span class="badge bad">unreadable</span>${r.reason ? html` <span class="muted">${r.reason}</span>` : ''}`;

export const runsHref = (limit: number, after: string | undefined, api = false) =>
  hrefWith(api ? '/api/runs' : '/runs', { limit: limit === DEFAULT_RUNS ? undefined : String(limit), after });

export function runsPage(page: Page<IngestRun>, limit: number): Html {
  const runs = page.items;
  if (page.total === 0 && runs.length === 0)
    return html`<h1>Ingest runs</h1><p class="note">No files ingested yet.</p>`;
  return html`<h1>Ingest runs</h1>
${shownHtml(page, 'Runs', 'newest first')}
<div class="wrap"><table>
<thead><tr><th>Started</th><th>File</th><th>Profile</th><th>Kinds</th><th>Status</th><th class="num">Rows read</th><th class="num">Accepted</th><th class="num">Rejected</th><th class="num">Warnings</th><th></th></tr></thead>
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
${pagerHtml(page, (after) => runsHref(limit, after))}`;
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
