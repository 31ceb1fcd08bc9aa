import type { IsoDate } from '../../../functions/core/dates.ts';
import { grouped, slicePage } from '../../../functions/core/paging.ts';
import { AGING_BUCKETS, type AgingBucket, type InvoiceStatus } from '../../../functions/core/receivables.ts';
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
import type { CustomerFile, CustomerTable } from '../../../functions/receivables/queries.ts';
import { activeAlertsTable, bySeverity, words } from './alerts.ts';
import { type Html, html, kv, type Part } from './layout.ts';
import { type ConsoleCredit, OPEN_SHOWN, SETTLED_SHOWN } from './options.ts';
import { hrefWith, pagerHtml, shownHtml } from './paging.ts';
import { amountCell, customerHref, minorCell, money, numCell } from './shared.ts';
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

/** Lines of the receivables table on one page; the totals are of every customer. */
export const CUSTOMERS_PAGE = 200;

export function customersPage({ lines, totals }: CustomerTable, asOf: IsoDate, pageNo: number): Html {
  const shown = slicePage(lines, pageNo, CUSTOMERS_PAGE);
  const rows = shown.items.map(
    (l) => html`<tr>
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
</tr>`,
  );
  const foot = totals.map(
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
</tr>`,
  );
  const table =
    lines.length === 0
      ? html`<p class="note">No receivables on file yet. Ingest a customers, invoices or payments file first.</p>`
      : html`<div class="wrap"><table>
<thead><tr><th>Customer</th><th>Name</th><th>Currency</th><th class="num">Open</th><th class="num late">Overdue</th>
${bucketHeads}
<th class="num">Open invoices</th><th class="num">Max days past due</th><th class="num">Avg days late</th>
<th class="num">Unapplied cash</th><th class="num">Credit limit</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot>
${foot}
</tfoot>
</table></div>`;
  const href = (p: string | undefined) => hrefWith('/customers', { asOf, page: p });
  return html`<h1>Receivables as of ${asOf}</h1>
${asOfForm('/customers', asOf)}
${lines.length === 0 ? '' : shownHtml(shown, 'Customers', 'largest overdue first')}
<p class="muted">${grouped(lines.length)} customer${lines.length === 1 ? '' : 's'}; the totals are of all of them. Amounts are in each customer's credit currency.</p>
${table}
${pagerHtml(shown, href)}`;
}

// ---------------------------------------------------------------------------------------------
// One customer

export const yesNo = (b: boolean) => (b ? html`<span class="badge bad">disputed</span>` : '');

export function customerPage(file: CustomerFile, id: string, asOf: IsoDate, credit?: CreditView): Html {
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
<td class="${late ? 'late' : ''}">${i.bucket ? BUCKET_LABELS[i.bucket] : ''}</td><td>${yesNo(i.disputed)}</td></tr>`;
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
${apps.map((a) => {
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
${unappliedOther.length > 0 ? html`<p class="note">Unapplied cash in other currencies, not in the total: ${unappliedOther.map((a, i) => html`${i > 0 ? ', ' : ''}${a.paymentId} ${money(a.unapplied, a.currency)}`)}.</p>` : ''}`;

  const notesTable =
    notes.length === 0
      ? ''
      : html`<h2>Allocation notes</h2>
<div class="wrap"><table>
<thead><tr><th>Payment</th><th>Invoice named</th><th>Code</th><th>Meaning</th></tr></thead>
<tbody>
${notes.map(
  (n) =>
    html`<tr><td>${n.paymentId}</td><td>${n.invoiceId}</td><td><code>${n.code}</code></td><td class="wide">${NOTE_MEANING[n.code] ?? ''}</td></tr>`,
)}
</tbody></table></div>`;

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
<h2>Open items (${open.length})</h2>
${openTable}
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
}

export function creditSection({ assessment: a, alerts, exposure, transfers }: CreditView): Html {
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
      : activeAlertsTable([...alerts].sort(bySeverity), new Map(), false);
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

export async function creditView(credit: ConsoleCredit, id: string, asOf: IsoDate): Promise<CreditView> {
  const [part, policy] = await Promise.all([credit.store.loadCustomerPartition(id), credit.policy()]);
  const file = asOfFile(creditFileOf(id, part), asOf);
  const assessed = assess(file, asOf, policy);
  const { figures, ...explained } = explainAssessment(assessed);
  const decision = decisionFor(file, assessed, part.alerts, policy);
  const transfers = (file.transfers ?? []).filter(
    (t) => t.currency === file.currency && transferCounts(t, asOf),
  );
  return {
    assessment: { ...explained, decision },
    alerts: part.alerts,
    exposure: figures.exposure,
    transfers,
  };
}
