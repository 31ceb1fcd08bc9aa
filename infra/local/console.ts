import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoStore } from '../../functions/adapters/dynamodb.ts';
import { type IsoDate, isoDateOrNull, parseDate } from '../../functions/core/dates.ts';
import { formatMinor, groupDigits } from '../../functions/core/money.ts';
import {
  BadCursorError,
  grouped,
  type Page,
  type PageRequest,
  slicePage,
} from '../../functions/core/paging.ts';
import { AGING_BUCKETS, type AgingBucket, type InvoiceStatus } from '../../functions/core/receivables.ts';
import type { Alert } from '../../functions/credit/alerts.ts';
import {
  assess,
  type ExplainedAssessment,
  explainAssessment,
  type TransferCommitment,
  transferCounts,
} from '../../functions/credit/assess.ts';
import { decisionFor, type LimitDecision } from '../../functions/credit/decide.ts';
import { asOfFile, creditFileOf } from '../../functions/credit/evaluate.ts';
import { type Policy, SEVERITY_RANK, type Severity } from '../../functions/credit/policy.ts';
import type { IngestRun, RejectRecord } from '../../functions/ingest/ports.ts';
import type { CustomerFile, CustomerTable, ReceivablesQueries } from '../../functions/receivables/queries.ts';
import type { RequestOutcome, TransferApp } from '../../functions/transfers/app.ts';
import { type ExposureStanding, exposureStanding } from '../../functions/transfers/exposure.ts';
import type { HttpRequest, HttpResponse } from '../../functions/transfers/http.ts';
import { evidenceHtml } from '../../functions/transfers/messages.ts';
import type { Approval, Transfer } from '../../functions/transfers/ports.ts';
import { REQUEST_FIELDS, TRANSFER_TYPES, type TransferType } from '../../functions/transfers/request.ts';
import { alertsReply } from './console-alerts.ts';
import { opsPage } from './console-ops.ts';
import { afterParam, hrefWith, pageParam, pagerHtml, pagingJson, shownHtml } from './console-paging.ts';
import {
  type ConsoleReviews,
  customerReviewSection,
  REVIEWS_PAGE,
  RUNS_PAGE,
  reviewHref,
  reviewPreviewPage,
  reviewRunPage,
  reviewsPage,
} from './console-reviews.ts';
import type { OpsSummary } from './ops.ts';
import type { OutboxMail } from './transfers.ts';

/**
 * The local console: the receivables table, a customer's file and credit assessment, the alerts,
 * the ingest runs, the transfers and the outbox, server-rendered with `node:http` only. Every value
 * that comes from data (uploaded files) is HTML-escaped through the `html` template tag; the pages
 * load no script at all. Its own pages only read (alerts are answered with the CLI), but for one
 * form: requesting a transfer (`POST /transfers/new`), refused when the browser says it comes from
 * another site. The approval pages, Slack's endpoint and the transfers API are the transfers
 * handler the Lambdas run, mounted here; they and the form are the only paths that accept a POST.
 */
export interface ConsoleOptions {
  readonly queries: ReceivablesQueries;
  /** The credit side: alerts and live assessments. Without it /alerts says it is not available. */
  readonly credit?: ConsoleCredit;
  /** The finance team's "today" as an ISO date: the default `asOf`. */
  readonly today: () => string;
  /** Transfer approvals: the approval pages, Slack's endpoint and the transfers API, and the outbox. */
  readonly transfers?: ConsoleTransfers;
  /** Periodic reviews: the runs, a run's customers and report, the form that runs one. */
  readonly reviews?: ConsoleReviews;
  /** The ops figures (metrics and live counts) of `/ops`. Without it /ops says it is not available. */
  readonly ops?: () => Promise<OpsSummary>;
  /** @default 8787; 0 picks a free port */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
}

export interface ConsoleCredit {
  /** Read only: the console never stores an assessment or an alert. */
  readonly store: Pick<
    DynamoStore,
    'alertsPage' | 'activeAlertCounts' | 'loadCustomerPartition' | 'getCustomers' | 'listCustomerIds'
  >;
  /** The policy in force, read on every request (so `sentinel policy set` shows at once). */
  readonly policy: () => Promise<Policy>;
}

export interface ConsoleTransfers {
  /** The same handler the approval and transfers Lambdas run. */
  readonly http: (req: HttpRequest) => Promise<HttpResponse>;
  /** A page of the transfers, newest first, with how many there are. */
  readonly page: (req: PageRequest) => Promise<Page<Transfer>>;
  /** A page of the outbox's emails, newest first (`page` from 1). */
  readonly mail: (page: number, size: number) => Promise<Page<OutboxMail>>;
  /** Validates, records and starts a transfer request (the console's form). */
  readonly request: (input: unknown) => Promise<RequestOutcome>;
  /** A transfer and its approvals (the console's transfer page). */
  readonly show: (transferId: string) => Promise<{ transfer: Transfer; approvals: Approval[] } | undefined>;
  /** Finance marks an approved transfer paid (the transfer page's form). */
  readonly markPaid: TransferApp['markPaid'];
}

export interface RunningConsole {
  readonly url: string;
  close(): Promise<void>;
}

const SETTLED_SHOWN = 200;
const OPEN_SHOWN = 1000;
const DEFAULT_RUNS = 50;
const MAX_RUNS = 1000;

// ---------------------------------------------------------------------------------------------
// HTML building: interpolations are escaped unless they are already Html.

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function render(v: Part): string {
  if (v === null || v === undefined || v === false || v === true) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return (v as readonly Part[]).map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i] as Part) + (strings[i + 1] as string);
  return new Html(out);
}

const CSS = `
:root{--fg:#1d2430;--muted:#5d6675;--line:#e2e5ea;--head:#f4f5f7;--accent:#1f5fbf;--red:#a8261b;--redbg:#fcebe9;--green:#1e6b34;--greenbg:#e6f4ea}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:#fff}
header{display:flex;gap:2rem;align-items:baseline;padding:.7rem 1.5rem;border-bottom:1px solid var(--line);background:var(--head)}
header .brand{font-weight:600}
header nav a{margin-right:1.1rem}
main{padding:1rem 1.5rem 3rem}
a{color:var(--accent);text-decoration:none}
a:hover{text-decoration:underline}
h1{font-size:1.35rem;margin:.4rem 0 1rem}
h2{font-size:1.05rem;margin:1.8rem 0 .5rem}
.wrap{overflow-x:auto}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:.35rem .65rem;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap;vertical-align:top}
thead th{background:var(--head);font-weight:600}
.num{text-align:right}
.ccy{color:var(--muted);font-size:.82em}
.zero{color:#9aa1ab}
.late{color:var(--red)}
td.late{background:var(--redbg)}
tfoot td{font-weight:600;border-top:2px solid var(--fg);border-bottom:none}
.muted{color:var(--muted)}
.note{background:#fff8e1;border-left:3px solid #e0a800;padding:.5rem .8rem;margin:.8rem 0;max-width:60rem}
.mail{border-top:1px solid var(--line);padding:.4rem 0 1rem}
.mailtext{white-space:pre-wrap;max-width:60rem;background:var(--head);padding:.6rem .8rem}
.problem{background:var(--redbg);border-left:3px solid var(--red);padding:.6rem .9rem;max-width:60rem}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:.2rem 1.2rem;margin:0}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0}
.cols{display:flex;flex-wrap:wrap;gap:1rem 3rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;font-size:.85em}
.ok{background:var(--greenbg);color:var(--green)}
.bad{background:var(--redbg);color:var(--red)}
form.asof{display:flex;gap:.5rem;align-items:center;margin:0 0 1rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em;white-space:pre-wrap;word-break:break-all}
td.wide{white-space:normal;min-width:16rem;max-width:40rem}
.sev-critical{background:#7a1a12;color:#fff}
.sev-high{background:var(--redbg);color:var(--red)}
.sev-warning{background:#fff3cd;color:#7a5300}
.sev-info{background:#e8eef8;color:#1f4a8a}
.rating{font-weight:600;font-size:1.1em}
ul.basis{margin:.3rem 0;padding-left:1.2rem}
ul.evidence{margin:0;padding:0;list-style:none;font-size:.9em}
ul.evidence span{color:var(--muted)}
code.word{white-space:nowrap;word-break:normal}
td.text{white-space:normal;min-width:10rem;max-width:24rem}
.pre{white-space:pre-wrap}
.problem ul{margin:.3rem 0 0;padding-left:1.2rem}
form.request{display:grid;grid-template-columns:max-content minmax(14rem,28rem) minmax(0,1fr);gap:.5rem 1rem;align-items:start;max-width:72rem;margin:.6rem 0 1.5rem}
form.request label{padding-top:.3rem}
form.request input,form.request select,form.request textarea{width:100%;font:inherit;padding:.3rem .45rem;border:1px solid #b8bec8;border-radius:3px;background:#fff}
form.request [aria-invalid=true]{border-color:var(--red);background:var(--redbg)}
form.request .err{display:block;color:var(--red);padding-top:.3rem}
form.request .hint{display:block;color:var(--muted);font-size:.88em;padding-top:.3rem}
form.request .actions{grid-column:2}
form.request button{font:inherit;padding:.4rem 1.1rem;border-radius:4px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
tbody.level th{background:#fafbfc;border-top:2px solid var(--line);font-weight:600}
section.evidence{max-width:72rem}
section.evidence p{margin:.3rem 0}
section.evidence p.title{margin:1.2rem 0 .35rem;font-size:1rem}
section.evidence table{margin:.2rem 0 .6rem}
p.shown{margin:.6rem 0 .4rem;font-weight:600}
nav.pager{margin:.7rem 0 1.2rem}
nav.pager a{margin-right:.3rem}
nav.filters{margin:.3rem 0 .6rem;line-height:1.9}
nav.filters strong{font-weight:600}
`;

// The only inline content is the stylesheet: the CSP allows exactly it, and no script at all.
const CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;

const BUCKET_LABELS: Record<AgingBucket, string> = {
  notDue: 'Not due',
  d1_30: '1–30',
  d31_60: '31–60',
  d61_90: '61–90',
  d91_180: '91–180',
  over180: '180+',
};

const NOTE_MEANING: Record<string, string> = {
  UNKNOWN_INVOICE:
    'names an invoice that is not on file (as of this date); the amount is kept as unapplied cash',
  INVOICE_NOT_YET_ISSUED: 'names an invoice issued after the payment was received; not applied to it',
  CURRENCY_MISMATCH: 'is in another currency than the invoice it names; not applied to it',
};

type Section = 'customers' | 'alerts' | 'runs' | 'transfers' | 'reviews' | 'outbox' | 'ops' | '';

const navLink = (href: string, label: string, on: boolean) =>
  html`<a href="${href}"${new Html(on ? ' aria-current="page"' : '')}>${label}</a>`;

function page(title: string, body: Html, active: Section = ''): string {
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · credit-sentinel</title>
<style>${new Html(CSS)}</style>
</head>
<body>
<header><span class="brand">credit-sentinel</span>
<nav>${navLink('/customers', 'Customers', active === 'customers')} · ${navLink('/alerts', 'Alerts', active === 'alerts')} · ${navLink('/runs', 'Runs', active === 'runs')} · ${navLink('/transfers', 'Transfers', active === 'transfers')} · ${navLink('/reviews', 'Reviews', active === 'reviews')} · ${navLink('/outbox', 'Outbox', active === 'outbox')} · ${navLink('/ops', 'Ops', active === 'ops')}</nav>
</header>
<main>
${body}
</main>
</body>
</html>
`}`;
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** "1234567.50" -> "1,234,567.50" (display only; the JSON keeps the plain decimal). */

const isZero = (decimal: string) => /^-?0*(\.0*)?$/.test(decimal);

/** An amount cell: right-aligned, grouped, with its currency; red when `late` and not zero. */
function amountCell(decimal: string | undefined, currency: string, late = false): Html {
  if (decimal === undefined) return html`<td class="num muted">—</td>`;
  const cls = isZero(decimal) ? 'num zero' : late ? 'num late' : 'num';
  return html`<td class="${cls}">${groupDigits(decimal)} <span class="ccy">${currency}</span></td>`;
}

const minorCell = (minor: number, currency: string, late = false) =>
  amountCell(formatMinor(minor, currency), currency, late);

const money = (minor: number, currency: string) =>
  html`${groupDigits(formatMinor(minor, currency))} <span class="ccy">${currency}</span>`;

const numCell = (n: number | null | undefined, late = false) =>
  n === null || n === undefined
    ? html`<td class="num muted">—</td>`
    : html`<td class="${late && n > 0 ? 'num late' : 'num'}">${n.toLocaleString('en-US')}</td>`;

/** "2025-03-31T09:00:00.000Z" -> "2025-03-31 09:00:00 UTC" */
export function instant(iso: string | undefined): string {
  if (!iso) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

export const customerHref = (id: string, asOf: IsoDate) =>
  `/customers/${encodeURIComponent(id)}?asOf=${encodeURIComponent(asOf)}`;
const runHref = (id: string) => `/runs/${encodeURIComponent(id)}`;

// ---------------------------------------------------------------------------------------------
// Replies

interface Reply {
  readonly status: number;
  readonly type: 'html' | 'json' | 'text';
  readonly body: string;
  readonly headers?: Record<string, string>;
}

const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  json: 'application/json; charset=utf-8',
  text: 'text/plain; charset=utf-8',
} as const;

const htmlReply = (status: number, title: string, body: Html, active: Section = '') => ({
  status,
  type: 'html' as const,
  body: page(title, body, active),
});

const jsonReply = (status: number, value: unknown): Reply => ({
  status,
  type: 'json',
  body: `${JSON.stringify(value, null, 2)}\n`,
});

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad request',
  403: 'Refused',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Not possible now',
  413: 'Too large',
  415: 'Unsupported form encoding',
  421: 'Wrong host',
  500: 'Something went wrong',
};

function problem(status: number, message: string, api: boolean): Reply {
  if (api) return jsonReply(status, { error: message });
  const title = STATUS_TITLES[status] ?? `Error ${status}`;
  return htmlReply(
    status,
    title,
    html`<h1>${title}</h1><div class="problem">${message}</div>
<p><a href="/customers">Back to the receivables</a></p>`,
  );
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function asOfParam(params: URLSearchParams, today: () => string): IsoDate {
  const raw = params.get('asOf');
  if (raw === null || raw.trim() === '') return today();
  const r = parseDate(raw.trim(), 'YYYY-MM-DD');
  if (!r.ok) {
    throw new HttpProblem(
      400,
      `asOf "${raw}" is not a valid date: it ${r.reason}. Give the date as YYYY-MM-DD, for example ${today()}.`,
    );
  }
  return r.value;
}

function limitParam(params: URLSearchParams): number {
  const raw = params.get('limit');
  if (raw === null || raw.trim() === '') return DEFAULT_RUNS;
  const v = raw.trim();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_RUNS)
    throw new HttpProblem(400, `limit "${raw}" must be a whole number from 1 to ${MAX_RUNS}.`);
  return Number(v);
}

// ---------------------------------------------------------------------------------------------
// The receivables table

const asOfForm = (action: string, asOf: IsoDate) =>
  html`<form class="asof" method="get" action="${action}">
<label for="asOf">As of</label> <input type="date" id="asOf" name="asOf" value="${asOf}" required>
<button type="submit">Show</button></form>`;

const bucketHeads = AGING_BUCKETS.map(
  (b) => html`<th class="${b === 'notDue' ? 'num' : 'num late'}">${BUCKET_LABELS[b]}</th>`,
);

/** Lines of the receivables table on one page; the totals are of every customer. */
const CUSTOMERS_PAGE = 200;

function customersPage({ lines, totals }: CustomerTable, asOf: IsoDate, pageNo: number): Html {
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

const kv = (pairs: [string, Part][]) =>
  html`<dl class="kv">${pairs.map(([k, v]) => html`<dt>${k}</dt><dd>${v === undefined || v === '' ? html`<span class="muted">—</span>` : v}</dd>`)}</dl>`;

const yesNo = (b: boolean) => (b ? html`<span class="badge bad">disputed</span>` : '');

function customerPage(file: CustomerFile, id: string, asOf: IsoDate, credit?: CreditView): Html {
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
interface CreditView {
  /** The assessment with its words, and what a review would decide today. */
  readonly assessment: ExplainedAssessment & { readonly decision: LimitDecision };
  readonly alerts: readonly Alert[];
  /** Open receivables less unapplied cash plus the approved transfers counted, as of the date. */
  readonly exposure: number;
  /** The approved transfers the exposure counts as of the date. */
  readonly transfers: readonly TransferCommitment[];
}

export const severityBadge = (s: Severity) => html`<span class="${`badge sev-${s}`}">${s}</span>`;

const bySeverity = (a: Alert, b: Alert) =>
  SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
  (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0) ||
  (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0);

/** A word for the shell: quoted when it holds anything but plain id characters. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9._\-/:@+=,]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const ackCommand = (a: Alert) => `sentinel alerts ack ${shellWord(`${a.customerId}/${a.rule}`)}`;

/** "maxDaysPastDue" -> "max days past due" */
const words = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

const actionText = (a: Alert) => a.action.replace(/_/g, ' ');

const evidenceList = (e: Alert['evidence']) =>
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

function creditSection({ assessment: a, alerts, exposure, transfers }: CreditView): Html {
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

export async function customerNames(
  credit: ConsoleCredit,
  alerts: readonly Alert[],
): Promise<Map<string, string>> {
  const found = await credit.store.getCustomers([...new Set(alerts.map((a) => a.customerId))]);
  const names = new Map<string, string>();
  for (const [id, c] of found) if (c.name) names.set(id, c.name);
  return names;
}

async function creditView(credit: ConsoleCredit, id: string, asOf: IsoDate): Promise<CreditView> {
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

/** Where a transfer stands in its customer's exposure as of `asOf`, from the credit file when the console has it. */
async function standingOf(opts: ConsoleOptions, t: Transfer, asOf: IsoDate): Promise<ExposureStanding> {
  if (!opts.credit) return exposureStanding(t, asOf);
  const id = t.request.customerId;
  const [part, policy] = await Promise.all([
    opts.credit.store.loadCustomerPartition(id),
    opts.credit.policy(),
  ]);
  return exposureStanding(t, asOf, { file: asOfFile(creditFileOf(id, part), asOf), policy });
}

// ---------------------------------------------------------------------------------------------
// Runs

const statusBadge = (r: IngestRun) =>
  r.status === 'processed'
    ? html`<span class="badge ok">processed</span>`
    : html`<span class="badge bad">unreadable</span>${r.reason ? html` <span class="muted">${r.reason}</span>` : ''}`;

const runsHref = (limit: number, after: string | undefined, api = false) =>
  hrefWith(api ? '/api/runs' : '/runs', { limit: limit === DEFAULT_RUNS ? undefined : String(limit), after });

function runsPage(page: Page<IngestRun>, limit: number): Html {
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
function unknownCustomersCell(run: IngestRun): Html | string | undefined {
  const u = run.unknownCustomers;
  if (!u) return run.kinds.some((k) => k === 'invoices' || k === 'payments') ? '0' : undefined;
  const rows = `${u.rows.toLocaleString('en-US')} ${u.rows === 1 ? 'row' : 'rows'}`;
  return html`<span class="late">${u.customers.toLocaleString('en-US')}</span> (${rows} ${u.action}; see the warnings)`;
}

function runPage(run: IngestRun, rejects: readonly RejectRecord[]): Html {
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

// ---------------------------------------------------------------------------------------------
// Transfers and the outbox

const TYPE_LABELS: Record<TransferType, string> = {
  refund: 'Refund',
  overpayment_return: 'Overpayment return',
  rebate: 'Rebate',
  credit_release: 'Credit release',
  bank_account_change: 'Bank account change',
  limit_decrease: 'Limit decrease',
  limit_batch: 'Limit changes (batch)',
};

const typeLabel = (type: string) => TYPE_LABELS[type as TransferType] ?? type.replace(/_/g, ' ');

const transferHref = (id: string) => `/transfers/${encodeURIComponent(id)}`;
const transferJsonHref = (id: string) => `/api/transfers/${encodeURIComponent(id)}`;

/** The status as a badge, with the level waiting while pending. */
const transferStatus = (t: Transfer) =>
  html`<span class="badge ${t.status === 'approved' ? 'ok' : t.status === 'pending' ? '' : 'bad'}">${t.status}</span>${t.status === 'pending' && t.level ? html` level ${t.level} of ${t.levels?.length ?? t.level}` : ''}`;

type RequestField = (typeof REQUEST_FIELDS)[number];
const isField = (f: string): f is RequestField => (REQUEST_FIELDS as readonly string[]).includes(f);
type RequestValues = Record<RequestField, string>;

const FIELD_LABELS: Record<RequestField, string> = {
  customerId: 'Customer id',
  type: 'Type',
  amount: 'Amount',
  currency: 'Currency',
  beneficiaryName: 'Beneficiary name',
  beneficiaryAccount: 'Beneficiary account',
  reason: 'Reason',
  requester: 'Requester',
};

const FIELD_HINTS: Partial<Record<RequestField, string>> = {
  amount: 'In the currency below, e.g. 2500.00; leave it empty for a bank account change.',
  currency: 'ISO 4217 code, e.g. EUR.',
  beneficiaryAccount: 'An IBAN (its check digits are checked) or another account number.',
  reason: 'Why the money goes out: the approvers read it.',
  requester: 'Your id: you cannot approve your own request.',
};

const EMPTY_REQUEST: RequestValues = {
  customerId: '',
  type: 'refund',
  amount: '',
  currency: 'EUR',
  beneficiaryName: '',
  beneficiaryAccount: '',
  reason: '',
  requester: '',
};

type Issue = { readonly field: string; readonly message: string };

/** What the form shows: the values (typed or defaults), the problems found, the known customers. */
interface RequestForm {
  readonly values: RequestValues;
  readonly issues: readonly Issue[];
  readonly customers: readonly { readonly id: string; readonly name?: string | undefined }[];
  /** How many customers are on file, when the suggestions are only the first of them. */
  readonly customersOnFile?: number | undefined;
}

/** The form's values from a posted body: every field as text ("" when missing), nothing else. */
function requestValues(body: URLSearchParams): RequestValues {
  const v = { ...EMPTY_REQUEST };
  for (const f of REQUEST_FIELDS) v[f] = body.get(f) ?? '';
  return v;
}

function requestFormHtml({ values, issues, customers, customersOnFile }: RequestForm): Html {
  const problems = (f: RequestField) => issues.filter((i) => i.field === f);
  const invalid = (f: RequestField) =>
    problems(f).length > 0 ? html` aria-invalid="true" aria-describedby="${`${f}-error`}"` : '';
  const control = (f: RequestField): Html => {
    const v = values[f];
    switch (f) {
      case 'type':
        return html`<select id="type" name="type"${invalid(f)}>${TRANSFER_TYPES.map(
          (t) => html`<option value="${t}"${new Html(t === v ? ' selected' : '')}>${TYPE_LABELS[t]}</option>`,
        )}</select>`;
      case 'reason':
        return html`<textarea id="reason" name="reason" rows="3"${invalid(f)}>${v}</textarea>`;
      case 'customerId':
        return html`<input type="text" id="customerId" name="customerId" value="${v}" autocomplete="off"${new Html(customers.length > 0 ? ' list="known-customers"' : '')}${invalid(f)}>`;
      case 'amount':
        return html`<input type="text" id="amount" name="amount" value="${v}" inputmode="decimal" autocomplete="off"${invalid(f)}>`;
      default:
        return html`<input type="text" id="${f}" name="${f}" value="${v}" autocomplete="off"${invalid(f)}>`;
    }
  };
  const fields = REQUEST_FIELDS.map((f) => {
    const found = problems(f);
    const hint =
      f === 'customerId' && customersOnFile !== undefined && customersOnFile > customers.length
        ? `Suggestions: the first ${grouped(customers.length)} of ${grouped(customersOnFile)} customers on file, by id; any id on file can be typed.`
        : FIELD_HINTS[f];
    return html`<label for="${f}">${FIELD_LABELS[f]}</label><div>${control(f)}</div>
<div>${found.length > 0 ? html`<span class="err" id="${`${f}-error`}">${found.map((i) => i.message).join('; ')}</span>` : ''}${hint ? html`<span class="hint">${hint}</span>` : ''}</div>
`;
  });
  const summary =
    issues.length === 0
      ? ''
      : html`<div class="problem" id="request-problems" role="alert"><strong>The transfer was not requested: nothing was stored.</strong> Correct ${issues.length === 1 ? 'this' : `these ${issues.length}`} and send it again:
<ul>${issues.map((i) =>
          isField(i.field)
            ? html`<li><a href="${`#${i.field}`}">${FIELD_LABELS[i.field]}</a> ${i.message}</li>`
            : html`<li>${i.field} ${i.message}</li>`,
        )}</ul></div>`;
  const datalist =
    customers.length === 0
      ? ''
      : html`<datalist id="known-customers">${customers.map((c) => html`<option value="${c.id}">${c.name ?? ''}</option>`)}</datalist>`;
  return html`<section id="request"><h2>Request a transfer</h2>
${summary}
<form class="request" method="post" action="/transfers/new">
${fields}<div class="actions"><button type="submit">Request the transfer</button></div>
</form>
${datalist}</section>`;
}

const TRANSFERS_PAGE = 100;

function transfersPage(page: Page<Transfer>, form: RequestForm): Html {
  const rows = page.items.map(
    (
      t,
    ) => html`<tr><td><a href="${transferHref(t.transferId)}">${t.transferId}</a> <a class="muted" href="${transferJsonHref(t.transferId)}">JSON</a></td>
<td>${instant(t.requestedAt)}</td><td><a href="${customerHref(t.request.customerId, t.requestedOn)}">${t.request.customerId}</a></td>
<td>${typeLabel(t.request.type)}</td>${minorCell(t.request.amount, t.request.currency)}
<td>${t.request.requester}</td><td>${transferStatus(t)}</td>
<td>${(t.gate?.flags ?? []).join(', ') || '—'}</td><td>${t.outcome ?? ''}</td></tr>`,
  );
  return html`<h1>Transfers</h1>
<p class="muted">Requested with the form below, <code>sentinel transfer request</code> or <code>POST /api/transfers</code>; approvers decide from the links in their emails (see the <a href="/outbox">outbox</a>) or on Slack.</p>
${requestFormHtml(form)}
<h2>Requested transfers (${grouped(page.total)})</h2>
${
  page.total === 0 && page.items.length === 0
    ? html`<p>No transfer has been requested yet.</p>`
    : html`${shownHtml(page, 'Transfers', 'newest first')}
<div class="wrap"><table id="transfers"><thead><tr><th>Transfer</th><th>Requested</th><th>Customer</th><th>Type</th><th class="num">Amount</th><th>Requester</th><th>Status</th><th>Gate flags</th><th>Outcome</th></tr></thead><tbody>${rows}</tbody></table></div>
${pagerHtml(page, (after) => hrefWith('/transfers', { after }))}`
}`;
}

const DATALIST_MAX = 1000;

/**
 * The customers on file for the form's datalist (ids and names), when the console has the store:
 * the first `DATALIST_MAX` by id, and how many there are (the form says so when that is more).
 */
async function knownCustomers(
  opts: ConsoleOptions,
): Promise<Pick<RequestForm, 'customers' | 'customersOnFile'>> {
  if (!opts.credit) return { customers: [] };
  const all = await opts.credit.store.listCustomerIds();
  const ids = all.slice(0, DATALIST_MAX);
  const found = await opts.credit.store.getCustomers(ids);
  return { customers: ids.map((id) => ({ id, name: found.get(id)?.name })), customersOnFile: all.length };
}

/** The Transfers page: an empty form (200), or the form as sent with its problems (400). */
async function transfersReply(
  opts: ConsoleOptions,
  t: ConsoleTransfers,
  refused?: { readonly values: RequestValues; readonly issues: readonly Issue[] },
  after?: string,
): Promise<Reply> {
  const [list, customers] = await Promise.all([
    t.page({ size: TRANSFERS_PAGE, after }),
    knownCustomers(opts),
  ]);
  return htmlReply(
    refused ? 400 : 200,
    refused ? 'Transfer not requested' : 'Transfers',
    transfersPage(list, {
      values: refused?.values ?? EMPTY_REQUEST,
      issues: refused?.issues ?? [],
      ...customers,
    }),
    'transfers',
  );
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why a request names a host this console does not answer for (DNS rebinding: a hostile name
 * resolved to 127.0.0.1 would make its pages same-origin with the console), or undefined. Only
 * when the console listens on a loopback address, where every honest Host is a loopback name.
 */
function foreignHost(opts: ConsoleOptions, req: IncomingMessage): string | undefined {
  const listen = opts.host ?? '127.0.0.1';
  if (!LOOPBACK_NAMES.has(listen) && listen !== '::1') return undefined;
  const host = req.headers.host;
  const name = host ? hostOf(`http://${host}`)?.replace(/:\d+$/, '') : undefined;
  if (name !== undefined && LOOPBACK_NAMES.has(name)) return undefined;
  return `This console answers for localhost only, not for ${host ?? 'a request without a Host'}.`;
}

/**
 * Why a request that can change something looks cross-site, or undefined when it does not.
 * The console has no login, so any web page could post a form to it: a browser says where the
 * request comes from with `Sec-Fetch-Site` and `Origin`, and either naming another site refuses it.
 * A request with neither (curl, a script) is allowed: it did not come from a web page.
 *
 * One exception: under the console's `Referrer-Policy: no-referrer` a browser sends `Origin: null`
 * with its own same-origin form posts, so "null" passes when `Sec-Fetch-Site` says `same-origin`
 * (a header no page can set). Without `Sec-Fetch-Site`, "null" is refused.
 */
function crossSiteReason(req: IncomingMessage): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return `The browser says this request was sent from another site (Sec-Fetch-Site: ${site}).`;
  const origin = req.headers.origin;
  if (origin === undefined || (origin === 'null' && site === 'same-origin')) return undefined;
  const host = req.headers.host;
  // The console speaks plain http: parsed that way, a Host of "name:80" compares as "name".
  const ours = host ? hostOf(`http://${host}`) : undefined;
  const theirs = hostOf(origin);
  if (ours === undefined || theirs === undefined || theirs !== ours)
    return `This request was sent from ${origin}, not from this console${host ? ` (${host})` : ''}.`;
  return undefined;
}

/** The host:port of a URL, lower case (without the scheme's default port); undefined if it is none. */
function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

const FORM_TYPE = 'application/x-www-form-urlencoded';

/** POST /transfers/new: the form's request; 303 to the new transfer's page, or the form again. */
async function requestTransfer(
  opts: ConsoleOptions,
  t: ConsoleTransfers,
  req: IncomingMessage,
): Promise<Reply> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== FORM_TYPE)
    return problem(
      415,
      `Send the form as ${FORM_TYPE}, as the form on the Transfers page does. Nothing was stored.`,
      false,
    );
  const values = requestValues(new URLSearchParams(await readBody(req)));
  const r = await t.request({ ...values });
  if (!r.ok) return transfersReply(opts, t, { values, issues: r.issues });
  const location = transferHref(r.transfer.transferId);
  return { status: 303, type: 'text', body: `Requested: ${location}\n`, headers: { location } };
}

/** POST /transfers/<id>/mark-paid: 303 back to the transfer page, or a page saying why not. */
async function markPaidForm(t: ConsoleTransfers, transferId: string, req: IncomingMessage): Promise<Reply> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== FORM_TYPE)
    return problem(
      415,
      `Send the form as ${FORM_TYPE}, as the transfer page does. Nothing was changed.`,
      false,
    );
  const body = new URLSearchParams(await readBody(req));
  const by = (body.get('by') ?? '').trim();
  const back = html`<p><a href="${transferHref(transferId)}">Back to the transfer</a></p>`;
  if (by === '')
    return htmlReply(
      400,
      'Not marked paid',
      html`<h1>Not marked paid</h1><div class="problem">Say who marks it paid. Nothing was changed.</div>${back}`,
      'transfers',
    );
  const r = await t.markPaid(transferId, by, (body.get('on') ?? '').trim() || undefined);
  if (!r.ok)
    return htmlReply(
      r.status,
      'Not marked paid',
      html`<h1>Not marked paid</h1><div class="problem">${r.message} Nothing was changed.</div>${back}`,
      'transfers',
    );
  const location = transferHref(transferId);
  return { status: 303, type: 'text', body: `Marked paid: ${location}\n`, headers: { location } };
}

const approvalBadge = (a: Approval) =>
  html`<span class="badge ${a.status === 'approved' ? 'ok' : a.status === 'rejected' ? 'bad' : ''}">${a.status}</span>`;

/** Approved transfers that move money: when they were paid, or the form to mark one paid. */
function paymentSection(t: Transfer, today: string): Html | '' {
  if (t.status !== 'approved' || t.request.amount <= 0) return '';
  if (t.limitChange)
    return html`<h2>Credit limit</h2><p>Approved on ${t.approvedOn ?? '?'}: ${t.request.customerId}'s credit limit is now ${money(t.limitChange.to, t.request.currency)}. No money moves, so there is nothing to pay.</p>`;
  if (t.paidOn)
    return html`<h2>Payment</h2><p>Paid on <strong>${t.paidOn}</strong> (marked by ${t.paidBy ?? '?'} at ${instant(t.paidAt)}).</p>`;
  return html`<h2>Payment</h2>
<p>Approved on ${t.approvedOn ?? '?'}, not paid yet. Mark it paid once the money has left:</p>
<form class="request" method="post" action="${`${transferHref(t.transferId)}/mark-paid`}">
<label for="by">Marked by</label><div><input type="text" id="by" name="by" required autocomplete="off"></div><div></div>
<label for="on">Paid on</label><div><input type="date" id="on" name="on" value="${today}" max="${today}" min="${t.approvedOn ?? ''}"></div><div><span class="hint">Between the approval day and today.</span></div>
<div class="actions"><button type="submit">Mark paid</button></div>
</form>`;
}

/**
 * What the transfer does to its customer's exposure today, in the words and with the figure the
 * customer's page shows (`exposureStanding` uses the exposure's own predicate and computes it).
 */
function exposureSection(t: Transfer, x: ExposureStanding, today: IsoDate): Html {
  const f = x.figure;
  const id = t.request.customerId;
  const figure = !f
    ? ''
    : x.counts && f.exposure === f.without
      ? html` <a href="${customerHref(id, today)}">${id}</a>'s exposure as of ${today}: <strong>${money(f.exposure, f.currency)}</strong>, the same without this transfer (the customer's unapplied cash exceeds what it owes, and the exposure never goes below zero).`
      : x.counts
        ? html` <a href="${customerHref(id, today)}">${id}</a>'s exposure as of ${today}: <strong>${money(f.exposure, f.currency)}</strong>; without this transfer: ${money(f.without, f.currency)}.`
        : html` <a href="${customerHref(id, today)}">${id}</a>'s exposure as of ${today}: <strong>${money(f.exposure, f.currency)}</strong>, without this transfer.`;
  return html`<h2>Exposure</h2><p id="exposure">${x.words}${figure}</p>`;
}

function transferPage(
  t: Transfer,
  approvals: readonly Approval[],
  today: IsoDate,
  standing: ExposureStanding,
): Html {
  const r = t.request;
  const names = new Map(t.levels?.flatMap((l) => l.approvers.map((a) => [a.id, a.name] as const)) ?? []);
  const who = (id: string) => {
    const name = names.get(id);
    return name && name !== id ? html`${name} <span class="muted">(${id})</span>` : html`${id}`;
  };
  const details = kv([
    ['Transfer', html`<code>${t.transferId}</code>`],
    ['Status', transferStatus(t)],
    ['Customer', html`<a href="${customerHref(r.customerId, t.requestedOn)}">${r.customerId}</a>`],
    ['Type', typeLabel(r.type)],
    [
      'Amount',
      r.type === 'bank_account_change'
        ? html`<span class="muted">none (a bank account change moves no money)</span>`
        : money(r.amount, r.currency),
    ],
    ...((t.limitChange
      ? [
          [
            'Credit limit',
            html`from ${t.limitChange.from === undefined ? 'none' : money(t.limitChange.from, r.currency)} to ${money(t.limitChange.to, r.currency)} once approved (no money moves)`,
          ],
          [
            'Asked by review',
            html`<a href="/reviews/${encodeURIComponent(t.limitChange.reviewId.split('/')[0] ?? '')}">${t.limitChange.reviewId}</a>`,
          ],
        ]
      : [
          ['Beneficiary', r.beneficiaryName],
          ['Beneficiary account', html`<code>${r.beneficiaryAccount}</code>`],
        ]) as [string, Part][]),
    ['Reason', html`<span class="pre">${r.reason}</span>`],
    ['Requester', r.requester],
    ['Requested at', instant(t.requestedAt)],
    ['Books date', t.requestedOn],
    ...(t.status === 'pending'
      ? []
      : ([
          ['Closed at', instant(t.closedAt)],
          ['Closed by', t.closedBy],
          ['Outcome', t.outcome],
        ] as [string, Part][])),
  ]);

  const levelNos = [
    ...new Set([...(t.levels ?? []).map((l) => l.level), ...approvals.map((a) => a.level)]),
  ].sort((x, y) => x - y);
  const of = t.levels?.length ?? levelNos.length;
  const levelState = (n: number, required: number | undefined, mine: readonly Approval[]) => {
    const approved = mine.filter((a) => a.status === 'approved').length;
    if (t.status === 'pending' && t.level === n) return `waiting, ${approved} of ${required ?? '?'} approved`;
    if (required !== undefined && approved >= required) return 'approved';
    if (mine.length === 0) return 'not reached';
    return `${approved} of ${required ?? '?'} approved`;
  };
  const chain =
    levelNos.length === 0
      ? html`<p class="muted">${t.gate ? 'No approval chain: nothing could approve this request (see the outcome).' : 'No chain yet: the risk gate plans it.'}</p>`
      : html`<div class="wrap"><table id="chain">
<thead><tr><th>Level</th><th>Approver</th><th>Status</th><th>Notified</th><th>Decided at</th><th>Via</th><th>Comment</th><th>Void reason</th></tr></thead>
${levelNos.map((n) => {
  const level = t.levels?.find((l) => l.level === n);
  const mine = approvals
    .filter((a) => a.level === n)
    .sort((x, y) =>
      x.notifiedAt < y.notifiedAt ? -1 : x.notifiedAt > y.notifiedAt ? 1 : x.approver < y.approver ? -1 : 1,
    );
  return html`<tbody class="level" id="${`level-${n}`}"><tr><th colspan="8">Level ${n} of ${of}${level ? html`: ${level.name}, ${level.required} approval${level.required === 1 ? '' : 's'} required` : ''} <span class="muted">(${levelState(n, level?.required, mine)})</span></th></tr>
${
  mine.length === 0
    ? html`<tr><td colspan="8" class="muted">No approvals asked for yet${level ? html`; approvers: ${level.approvers.map((a, i) => html`${i > 0 ? ', ' : ''}${who(a.id)}`)}` : ''}.</td></tr>`
    : mine.map(
        (
          a,
        ) => html`<tr class="approval"><td>${a.level}</td><td>${who(a.approver)}${a.onBehalfOf ? html`<br><span class="muted">for ${a.onBehalfOf}</span>` : ''}</td>
<td>${approvalBadge(a)}</td><td>${instant(a.notifiedAt)}</td><td>${instant(a.decidedAt)}</td><td>${a.via ?? '—'}</td>
<td class="text">${a.comment || html`<span class="muted">—</span>`}</td><td class="text">${a.voidReason ?? html`<span class="muted">—</span>`}</td></tr>`,
      )
}</tbody>`;
})}
</table></div>`;

  const waiting =
    t.status === 'pending' && !t.gate
      ? html`<p class="note">The risk gate has not run yet: reload this page in a moment to see its evidence and the approval chain.</p>`
      : '';
  return html`<p><a href="/transfers">← All transfers</a> · <a href="${transferJsonHref(t.transferId)}">JSON</a></p>
<h1>Transfer ${t.transferId}</h1>
${waiting}
${details}
${exposureSection(t, standing, today)}
${paymentSection(t, today)}
<h2>Approval chain</h2>
${chain}
<h2>Evidence shown to the approvers</h2>
${new Html(evidenceHtml(t))}`;
}

const OUTBOX_PAGE = 200;
const outboxHref = (p: string | undefined, api = false) =>
  hrefWith(api ? '/api/outbox' : '/outbox', { page: p });

function outboxPage(page: Page<OutboxMail>): Html {
  const items = page.items.map(
    (m) => html`<article class="mail"><h2>${m.subject}</h2>
<dl class="kv"><dt>To</dt><dd>${m.to}</dd><dt>Date</dt><dd>${m.date}</dd><dt>File</dt><dd><code>${m.file}</code></dd></dl>
<pre class="mailtext">${linkify(m.text)}</pre></article>`,
  );
  return html`<h1>Outbox</h1>
<p class="muted">What the approval emails would say: each is an <code>.eml</code> file (text and HTML) under <code>outbox/mail/</code> in the data dir, newest first.</p>
${page.total === 0 ? html`<p>No email has been written yet.</p>` : html`${shownHtml(page, 'Emails', 'newest first')}${items}${pagerHtml(page, (p) => outboxHref(p))}`}`;
}

/** The text of an email with its http(s) links made clickable (everything else escaped). */
function linkify(text: string): Html {
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    parts.push(text.slice(last, m.index));
    parts.push(html`<a href="${m[0]}">${m[0]}</a>`);
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push(text.slice(last));
  return html`${parts}`;
}

// ---------------------------------------------------------------------------------------------
// Routing

async function route(opts: ConsoleOptions, segs: readonly string[], params: URLSearchParams): Promise<Reply> {
  const q = opts.queries;
  const api = segs[0] === 'api';
  const p = api ? segs.slice(1) : segs;
  const [a, b, ...rest] = p;
  if (a === 'reviews' && b !== undefined && rest.length === 1 && !api)
    return reviewReport(opts, b, rest[0] as string);
  if (rest.length > 0) return problem(404, 'There is no page at this address.', api);
  if (a === 'reviews') {
    if (!opts.reviews) return problem(404, 'Reviews are not available in this console.', api);
    const after = afterParam(params);
    if (b === undefined) {
      const runs = await opts.reviews.list({ size: RUNS_PAGE, after });
      const href = (a: string | undefined) => hrefWith('/api/reviews', { after: a });
      if (api) return jsonReply(200, { runs: runs.items, paging: pagingJson(runs, href) });
      return htmlReply(200, 'Reviews', reviewsPage(runs, opts.today()), 'reviews');
    }
    if (b === 'preview') {
      const asOf = params.get('asOf')?.trim() || opts.today();
      if (isoDateOrNull(asOf) === null) {
        const message = `"${asOf}" is not a date (YYYY-MM-DD). Nothing was previewed.`;
        if (api) return problem(400, message, true);
        return htmlReply(
          400,
          'Reviews',
          reviewsPage(await opts.reviews.list({ size: RUNS_PAGE }), opts.today(), message),
          'reviews',
        );
      }
      const preview = await opts.reviews.preview(asOf);
      if (api) return jsonReply(200, preview);
      return htmlReply(200, `Preview ${asOf}`, reviewPreviewPage(preview), 'reviews');
    }
    const attention = params.get('attention') === '1';
    const found = await opts.reviews.show(b, { size: REVIEWS_PAGE, after }, { attention });
    if (!found) return problem(404, `There is no review run "${b}".`, api);
    if (api) {
      const href = (a: string | undefined) =>
        hrefWith(`/api${reviewHref(b)}`, { attention: attention ? '1' : undefined, after: a });
      return jsonReply(200, {
        run: found.run,
        reviews: found.reviews.items,
        paging: pagingJson(found.reviews, href),
      });
    }
    return htmlReply(
      200,
      `Review ${found.run.asOf}`,
      reviewRunPage(found.run, found.reviews, attention),
      'reviews',
    );
  }

  if (!api && p.length === 1 && a === 'healthz') return { status: 200, type: 'text', body: 'ok' };

  if ((p.length === 0 && !api) || (a === 'customers' && b === undefined)) {
    const asOf = asOfParam(params, opts.today);
    const table = await q.customers(asOf);
    if (api) return jsonReply(200, { asOf, customers: table.lines, totals: table.totals });
    return htmlReply(200, `Receivables ${asOf}`, customersPage(table, asOf, pageParam(params)), 'customers');
  }
  if (a === 'customers' && b !== undefined) {
    const asOf = asOfParam(params, opts.today);
    const file = await q.customer(b, asOf);
    if (!file) return problem(404, `There is no customer "${b}" on file.`, api);
    const credit = opts.credit ? await creditView(opts.credit, b, asOf) : undefined;
    const reviews = opts.reviews ? await opts.reviews.customer(b) : undefined;
    if (api)
      return jsonReply(200, {
        asOf,
        ...file,
        ...(credit
          ? {
              assessment: {
                ...credit.assessment,
                activeAlerts: credit.alerts,
                // The exposure the page shows (minor units of the credit currency) and the approved transfers in it.
                exposure: credit.exposure,
                transfersCounted: credit.transfers.map((t) => t.transferId),
              },
            }
          : {}),
        ...(reviews ? { review: { state: reviews.state, recent: reviews.reviews } } : {}),
      });
    const body = customerPage(file, b, asOf, credit);
    return htmlReply(
      200,
      file.customer?.name ?? b,
      reviews ? html`${body}${customerReviewSection(reviews)}` : body,
      'customers',
    );
  }
  if (a === 'alerts' && b === undefined) {
    if (!opts.credit)
      return problem(404, 'Alerts are not available: this console runs without the credit store.', api);
    const r = await alertsReply(opts.credit, params, api);
    return 'json' in r ? jsonReply(200, r.json) : htmlReply(200, r.title, r.body, 'alerts');
  }
  if (a === 'transfers' && !api) {
    if (!opts.transfers) return problem(404, 'Transfers are not available in this console.', api);
    // GET /transfers/new is where the form posts: reloaded or bookmarked, it is the page again.
    if (b === undefined || b === 'new')
      return transfersReply(opts, opts.transfers, undefined, afterParam(params));
    const found = await opts.transfers.show(b);
    if (!found)
      return htmlReply(
        404,
        'Not found',
        html`<h1>Not found</h1><div class="problem">There is no transfer "${b}".</div>
<p><a href="/transfers">Back to the transfers</a></p>`,
        'transfers',
      );
    const today = opts.today();
    return htmlReply(
      200,
      `Transfer ${found.transfer.transferId}`,
      transferPage(found.transfer, found.approvals, today, await standingOf(opts, found.transfer, today)),
      'transfers',
    );
  }
  if (a === 'outbox' && b === undefined) {
    if (!opts.transfers) return problem(404, 'The outbox is not available in this console.', api);
    const mail = await opts.transfers.mail(pageParam(params), OUTBOX_PAGE);
    if (api)
      return jsonReply(200, { mail: mail.items, paging: pagingJson(mail, (p) => outboxHref(p, true)) });
    return htmlReply(200, 'Outbox', outboxPage(mail), 'outbox');
  }
  if (a === 'ops' && b === undefined) {
    if (!opts.ops) return problem(404, 'The ops figures are not available in this console.', api);
    const summary = await opts.ops();
    if (api) return jsonReply(200, summary);
    return htmlReply(200, 'Ops', opsPage(summary), 'ops');
  }
  if (a === 'runs' && b === undefined) {
    const limit = limitParam(params);
    const page = await q.runsPage({ size: limit, after: afterParam(params) });
    if (api)
      return jsonReply(200, { runs: page.items, paging: pagingJson(page, (a) => runsHref(limit, a, true)) });
    return htmlReply(200, 'Ingest runs', runsPage(page, limit), 'runs');
  }
  if (a === 'runs' && b !== undefined) {
    const found = await q.run(b);
    if (!found) return problem(404, `There is no ingest run "${b}".`, api);
    if (api) return jsonReply(200, found);
    return htmlReply(200, `Run ${found.run.file}`, runPage(found.run, found.rejects), 'runs');
  }
  return problem(404, 'There is no page at this address.', api);
}

/** GET /reviews/<run>/report.csv|.html: the run's report as written to the outbox. */
async function reviewReport(opts: ConsoleOptions, runId: string, file: string): Promise<Reply> {
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
async function runReview(
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

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const body = Buffer.from(reply.body, 'utf8');
  res.writeHead(reply.status, {
    'content-type': CONTENT_TYPES[reply.type],
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    ...(reply.type === 'html' ? { 'content-security-policy': CSP } : {}),
    ...reply.headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function handle(opts: ConsoleOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  const api = rawPath === '/api' || rawPath.startsWith('/api/');
  const method = req.method ?? 'GET';
  try {
    const foreign = foreignHost(opts, req);
    if (foreign) {
      send(req, res, problem(421, foreign, api));
      return;
    }
    // Every request that can change something (the form, the transfers API, an approval) is
    // refused when a browser says another site sent it.
    const refused = method === 'GET' || method === 'HEAD' ? undefined : crossSiteReason(req);
    if (refused) {
      send(req, res, problem(403, `${refused} Nothing was changed.`, api));
      return;
    }
    if (opts.transfers && isTransfersPath(rawPath, method)) {
      const body = await readBody(req);
      const r = await opts.transfers.http({
        method: req.method ?? 'GET',
        path: rawPath.startsWith('/api/') ? rawPath.slice(4) : rawPath,
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
        ),
        body,
        query: Object.fromEntries(params),
      });
      const bytes = Buffer.from(r.body, 'utf8');
      res.writeHead(r.status, { ...r.headers, 'content-length': String(bytes.length) });
      res.end(req.method === 'HEAD' ? undefined : bytes);
      return;
    }
    const form = !api && isRequestFormPath(rawPath);
    if (opts.transfers && form && method === 'POST') {
      send(req, res, await requestTransfer(opts, opts.transfers, req));
      return;
    }
    const paid = api ? undefined : markPaidPath(rawPath);
    if (opts.transfers && paid !== undefined && method === 'POST') {
      send(req, res, await markPaidForm(opts.transfers, paid, req));
      return;
    }
    if (
      opts.reviews &&
      method === 'POST' &&
      (rawPath === '/reviews/run' || rawPath === '/api/reviews/runs')
    ) {
      send(req, res, await runReview(opts, opts.reviews, req, api));
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      const r =
        opts.transfers && form
          ? problem(405, 'Request a transfer with the form on the Transfers page (a POST).', api)
          : problem(405, 'This console is read-only: use GET.', api);
      send(req, res, { ...r, headers: { allow: opts.transfers && form ? 'GET, HEAD, POST' : 'GET, HEAD' } });
      return;
    }
    const trimmed = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
    let segs: string[];
    try {
      segs = trimmed === '/' || trimmed === '' ? [] : trimmed.slice(1).split('/').map(decodeURIComponent);
    } catch {
      send(req, res, problem(400, 'The address is not valid (bad percent-encoding).', api));
      return;
    }
    send(req, res, await route(opts, segs, params));
  } catch (e) {
    if (e instanceof HttpProblem || e instanceof BadCursorError) {
      send(req, res, problem(e instanceof HttpProblem ? e.status : 400, e.message, api));
      return;
    }
    console.error(`console: ${req.method} ${rawPath} failed:`, e);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(
      req,
      res,
      problem(500, 'The console could not build this page. The error was logged on the server.', api),
    );
  }
}

/**
 * What the transfers handler answers: the approval pages, Slack's endpoint, and the transfers API
 * (everything under `/api/transfers`; without `/api`, `POST /transfers` and the rest of
 * `/transfers/...`, e.g. `POST /transfers/ID/recall`). The console's own are the Transfers page
 * (GET `/transfers`), the request form (`/transfers/new`) and a transfer's page (GET `/transfers/ID`).
 */
function isTransfersPath(path: string, method: string): boolean {
  const api = path.startsWith('/api/');
  const p = api ? path.slice(4) : path;
  if (p.startsWith('/approvals/') || p === '/approvals' || p === '/slack/interactions') return true;
  if (api) return p === '/transfers' || p.startsWith('/transfers/');
  if (p === '/transfers') return method !== 'GET' && method !== 'HEAD';
  if (isRequestFormPath(p) || markPaidPath(p) !== undefined) return false;
  if ((method === 'GET' || method === 'HEAD') && /^\/transfers\/[^/]+\/?$/.test(p)) return false;
  return p.startsWith('/transfers/');
}

/** The transfer id of the transfer page's "mark paid" form path, or undefined. */
function markPaidPath(path: string): string | undefined {
  const m = /^\/transfers\/([^/]+)\/mark-paid\/?$/.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1] as string);
  } catch {
    return undefined;
  }
}

/** Where the request form posts (the console's own, not the transfers API's). */
const isRequestFormPath = (path: string) => path === '/transfers/new' || path === '/transfers/new/';

const BODY_MAX = 64 * 1024;

/** A request body as text, refused above 64 KiB. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > BODY_MAX) throw new HttpProblem(413, 'The request body is too large.');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the console; resolves once it listens. */
export async function startConsole(opts: ConsoleOptions): Promise<RunningConsole> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    void handle(opts, req, res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 8787, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  server.on('error', (e) => console.error('console: server error:', e));
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((e) => (e ? fail(e) : ok()));
        server.closeAllConnections();
      }),
  };
}
