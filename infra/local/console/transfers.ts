import type { IncomingMessage } from 'node:http';
import type { IsoDate } from '../../../functions/core/dates.ts';
import { formatMinor } from '../../../functions/core/money.ts';
import { grouped, type Page, slicePage } from '../../../functions/core/paging.ts';
import { asOfFile, creditFileOf } from '../../../functions/credit/evaluate.ts';
import { type ExposureStanding, exposureStanding } from '../../../functions/transfers/exposure.ts';
import { evidenceHtml } from '../../../functions/transfers/messages.ts';
import {
  type Approval,
  TRANSFER_STATUSES,
  type Transfer,
  type TransferFilter,
} from '../../../functions/transfers/ports.ts';
import { REQUEST_FIELDS, TRANSFER_TYPES, type TransferType } from '../../../functions/transfers/request.ts';
import type { OutboxMail } from '../runtime/transfers.ts';
import { Html, html, kv, type Part } from './layout.ts';
import type { ConsoleOptions, ConsoleTransfers } from './options.ts';
import {
  afterParam,
  choiceParam,
  csvReply,
  currencyParam,
  dateParam,
  holds,
  hrefWith,
  IN_MEMORY_MAX,
  pageLink,
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
import {
  customerHref,
  FORM_TYPE,
  formFields,
  HttpProblem,
  htmlReply,
  instant,
  minorCell,
  money,
  problem,
  type Reply,
  readBody,
} from './shared.ts';

/** Where a transfer stands in its customer's exposure as of `asOf`, from the credit file when the console has it. */
export async function standingOf(
  opts: ConsoleOptions,
  t: Transfer,
  asOf: IsoDate,
): Promise<ExposureStanding> {
  if (!opts.credit) return exposureStanding(t, asOf);
  const id = t.request.customerId;
  const [part, policy] = await Promise.all([
    opts.credit.store.loadCustomerPartition(id),
    opts.credit.policy(),
  ]);
  return exposureStanding(t, asOf, { file: asOfFile(creditFileOf(id, part), asOf), policy });
}

// ---------------------------------------------------------------------------------------------
// Transfers and the outbox

export const TYPE_LABELS: Record<TransferType, string> = {
  refund: 'Refund',
  overpayment_return: 'Overpayment return',
  rebate: 'Rebate',
  credit_release: 'Credit release',
  bank_account_change: 'Bank account change',
  limit_decrease: 'Limit decrease',
  limit_batch: 'Limit changes (batch)',
  credit_application: 'Credit application',
  policy_change: 'Credit policy change',
  order_release: 'Order release',
};

export const typeLabel = (type: string) => TYPE_LABELS[type as TransferType] ?? type.replace(/_/g, ' ');

export const transferHref = (id: string) => `/transfers/${encodeURIComponent(id)}`;
export const transferJsonHref = (id: string) => `/api/transfers/${encodeURIComponent(id)}`;

/** The status as a badge, with the level waiting while pending. */
export const transferStatus = (t: Transfer) =>
  html`<span class="badge ${t.status === 'approved' ? 'ok' : t.status === 'pending' ? '' : 'bad'}">${t.status}</span>${t.status === 'pending' && t.level ? html` level ${t.level} of ${t.levels?.length ?? t.level}` : ''}`;

export type RequestField = (typeof REQUEST_FIELDS)[number];
export const isField = (f: string): f is RequestField => (REQUEST_FIELDS as readonly string[]).includes(f);
export type RequestValues = Record<RequestField, string>;

export const FIELD_LABELS: Record<RequestField, string> = {
  customerId: 'Customer id',
  type: 'Type',
  amount: 'Amount',
  currency: 'Currency',
  beneficiaryName: 'Beneficiary name',
  beneficiaryAccount: 'Beneficiary account',
  reason: 'Reason',
  requester: 'Requester',
};

export const FIELD_HINTS: Partial<Record<RequestField, string>> = {
  amount: 'In the currency below, e.g. 2500.00; leave it empty for a bank account change.',
  currency: 'ISO 4217 code, e.g. EUR.',
  beneficiaryAccount: 'An IBAN (its check digits are checked) or another account number.',
  reason: 'Why the money goes out: the approvers read it.',
  requester: 'Your id: you cannot approve your own request.',
};

export const EMPTY_REQUEST: RequestValues = {
  customerId: '',
  type: 'refund',
  amount: '',
  currency: 'EUR',
  beneficiaryName: '',
  beneficiaryAccount: '',
  reason: '',
  requester: '',
};

export type Issue = { readonly field: string; readonly message: string };

/** What the form shows: the values (typed or defaults), the problems found, the known customers. */
export interface RequestForm {
  readonly values: RequestValues;
  readonly issues: readonly Issue[];
  readonly customers: readonly { readonly id: string; readonly name?: string | undefined }[];
  /** How many customers are on file, when the suggestions are only the first of them. */
  readonly customersOnFile?: number | undefined;
  /** The customers list is still being read: no suggestions yet. */
  readonly suggestionsPending?: boolean | undefined;
  /** The customer picker: what was searched for and what matched, or the customer picked. */
  readonly picker?: Picker | undefined;
}

/** The customer picker's state: a search (its text and matches) and/or the customer just picked. */
export interface Picker {
  readonly find: string;
  readonly matches?: CustomerMatches | undefined;
  readonly picked?: { readonly id: string; readonly name?: string | undefined } | undefined;
}

export interface CustomerMatches {
  readonly found: readonly { readonly id: string; readonly name?: string | undefined }[];
  /** More matched than are shown. */
  readonly more: boolean;
}

/** The form's values from a posted body: every field as text ("" when missing), nothing else. */
export function requestValues(body: URLSearchParams): RequestValues {
  const v = { ...EMPTY_REQUEST };
  for (const f of REQUEST_FIELDS) v[f] = body.get(f) ?? '';
  return v;
}

/**
 * The picker's rows at the top of the request form. Its buttons submit the whole form with GET to
 * `/transfers` (`formmethod`/`formaction`, no script): what was typed comes back filled in, with the
 * matches, and a match's button fills in its id. Search is the form's first button, so Enter in any
 * field searches and never sends a request by accident.
 */
export function pickerHtml(p: Picker | undefined): Html {
  const get = html`formmethod="get" formaction="/transfers#request" formnovalidate`;
  const matches = p?.matches;
  const list = !matches
    ? ''
    : matches.found.length === 0
      ? html`<span class="err" id="find-none">No customer on file has "${p?.find}" in its id or name.</span>`
      : html`<ul class="picks" id="picks">${matches.found.map(
          (c) =>
            html`<li><button type="submit" ${get} name="pick" value="${c.id}">${c.id}${c.name ? ` — ${c.name}` : ''}</button></li>`,
        )}</ul>${matches.more ? html`<span class="hint">The first ${matches.found.length} matches, by id: type more of the id or name to narrow them.</span>` : ''}`;
  const picked = p?.picked
    ? html`<span class="hint" id="picked">Picked <strong>${p.picked.id}</strong>${p.picked.name ? ` (${p.picked.name})` : ''}: it is in the customer id below.</span>`
    : '';
  return html`<label for="find">Find the customer</label><div class="picker"><input type="search" id="find" name="find" value="${p?.find ?? ''}" placeholder="id or name" autocomplete="off"><button type="submit" ${get} name="search" value="1">Search</button></div>
<div>${list}${picked}${!list && !picked ? html`<span class="hint">Part of the id or the name; pick one of the matches.</span>` : ''}</div>
`;
}

export function requestFormHtml({
  values,
  issues,
  customers,
  customersOnFile,
  suggestionsPending,
  picker,
}: RequestForm): Html {
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
      f === 'customerId' && suggestionsPending
        ? 'The customer list is still being read (about a minute at 100,000 customers), so there are no suggestions yet: find the customer with the search below, or type its id.'
        : f === 'customerId' && customersOnFile !== undefined && customersOnFile > customers.length
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
${pickerHtml(picker)}${fields}<div class="actions"><button type="submit">Request the transfer</button></div>
</form>
${datalist}</section>`;
}

export const TRANSFERS_PAGE = 100;

// ---------------------------------------------------------------------------------------------
// The list of transfers: search, filters, sort, paging and CSV, all in the URL.
//
// What is read per page: with no search and the list's own order (newest first) the store pages
// it (`?after=`), its filters (status, type, currency, requested dates) a FilterExpression the
// store applies and counts. A search (the customer's name is not on the transfer) or another sort
// reads the transfers the store's filters select, at most IN_MEMORY_MAX (counted first), and pages
// them by number in memory.

export const TRANSFER_SORT_LABELS = {
  requested: 'Requested',
  amount: 'Amount',
  status: 'Status',
  customer: 'Customer',
} as const;
export type TransferSort = keyof typeof TRANSFER_SORT_LABELS;
export const TRANSFER_SORTS = Object.keys(TRANSFER_SORT_LABELS) as TransferSort[];
const FIRST_DIR: Record<TransferSort, 'asc' | 'desc'> = {
  requested: 'desc',
  amount: 'desc',
  status: 'asc',
  customer: 'asc',
};

export interface TransfersQuery extends TransferFilter {
  /** Part of the transfer id, the customer's id or name, or the beneficiary's name. */
  readonly q?: string | undefined;
  readonly sort?: TransferSort | undefined;
  readonly dir?: 'asc' | 'desc' | undefined;
  readonly after?: string | undefined;
  readonly page?: number | undefined;
}

export function transfersQuery(params: URLSearchParams): TransfersQuery {
  const { sort, dir } = sortParams(params, TRANSFER_SORTS);
  const from = dateParam(params, 'from');
  const to = dateParam(params, 'to');
  if (from && to && from > to) throw new HttpProblem(400, `from ${from} is after to ${to}.`);
  return {
    q: searchParam(params),
    status: choiceParam(params, 'status', TRANSFER_STATUSES),
    type: choiceParam(params, 'type', TRANSFER_TYPES),
    currency: currencyParam(params),
    from,
    to,
    sort,
    dir: sort ? (dir ?? FIRST_DIR[sort]) : undefined,
    after: afterParam(params),
    page: params.has('page') ? pageParam(params) : undefined,
  };
}

const storeOrder = (q: TransfersQuery) =>
  q.q === undefined && (q.sort === undefined || (q.sort === 'requested' && q.dir === 'desc'));

export const transfersParams = (q: TransfersQuery): Record<string, string | undefined> => ({
  q: q.q,
  status: q.status,
  type: q.type,
  currency: q.currency,
  from: q.from,
  to: q.to,
  sort: q.sort,
  dir: q.sort ? q.dir : undefined,
});

const filterOf = (q: TransfersQuery): TransferFilter => ({
  status: q.status,
  type: q.type,
  currency: q.currency,
  from: q.from,
  to: q.to,
});

const narrowed = (q: TransfersQuery) => Boolean(q.q || q.status || q.type || q.currency || q.from || q.to);

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Transfers in the order asked for; ties newest first. Amounts compare in major units (a bank account change has none: last). */
export function sortTransfers(ts: readonly Transfer[], sort: TransferSort, dir: 'asc' | 'desc'): Transfer[] {
  const s = dir === 'desc' ? -1 : 1;
  const newest = (a: Transfer, b: Transfer) =>
    cmp(b.requestedAt, a.requestedAt) || cmp(a.transferId, b.transferId);
  const major = (t: Transfer) =>
    t.request.amount === undefined ? undefined : Number(formatMinor(t.request.amount, t.request.currency));
  const by: Record<TransferSort, (a: Transfer, b: Transfer) => number> = {
    requested: (a, b) => -s * newest(a, b),
    status: (a, b) => s * cmp(a.status, b.status) || newest(a, b),
    customer: (a, b) => s * cmp(a.request.customerId, b.request.customerId) || newest(a, b),
    amount: (a, b) => {
      const x = major(a);
      const y = major(b);
      if (x === undefined || y === undefined)
        return (x === undefined ? 1 : 0) - (y === undefined ? 1 : 0) || newest(a, b);
      return s * (x - y) || newest(a, b);
    },
  };
  return [...ts].sort(by[sort]);
}

/** The customers' names of some transfers (one batch read of their profiles), when the console has the store. */
async function namesOf(opts: ConsoleOptions, ts: readonly Transfer[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (!opts.credit) return names;
  const found = await opts.credit.store.getCustomers([...new Set(ts.map((t) => t.request.customerId))]);
  for (const [id, c] of found) if (c.name) names.set(id, c.name);
  return names;
}

/** Every transfer the query selects, in its order (the CSV, and a page computed in memory). */
export async function matchingTransfers(
  opts: ConsoleOptions,
  t: ConsoleTransfers,
  q: TransfersQuery,
): Promise<{ transfers: Transfer[]; names: Map<string, string> }> {
  const read = await t.list(filterOf(q));
  const names = await namesOf(opts, read);
  const needle = q.q;
  const found =
    needle === undefined
      ? read
      : read.filter(
          (x) =>
            holds(x.transferId, needle) ||
            holds(x.request.customerId, needle) ||
            holds(names.get(x.request.customerId), needle) ||
            holds(x.request.beneficiaryName, needle),
        );
  return {
    transfers: q.sort && !storeOrder(q) ? sortTransfers(found, q.sort, q.dir ?? FIRST_DIR[q.sort]) : found,
    names,
  };
}

export interface TransfersView {
  readonly q: TransfersQuery;
  readonly page: Page<Transfer>;
  readonly inMemory: boolean;
  readonly tooMany?: number | undefined;
  readonly names: ReadonlyMap<string, string>;
}

export async function transfersView(
  opts: ConsoleOptions,
  t: ConsoleTransfers,
  q: TransfersQuery,
): Promise<TransfersView> {
  if (storeOrder(q)) {
    const page = await t.page({ size: TRANSFERS_PAGE, after: q.after }, filterOf(q));
    return { q, page, inMemory: false, names: await namesOf(opts, page.items) };
  }
  // Counted first (the store's count of its filter; two items read): past IN_MEMORY_MAX, nothing more.
  const n = (await t.page({ size: 1 }, filterOf(q))).total;
  if (n > IN_MEMORY_MAX)
    return { q, page: { items: [], from: 1, total: n }, inMemory: true, tooMany: n, names: new Map() };
  const { transfers, names } = await matchingTransfers(opts, t, q);
  return { q, page: slicePage(transfers, q.page ?? 1, TRANSFERS_PAGE), inMemory: true, names };
}

function listForm(q: TransfersQuery): Html {
  return html`<form class="filters" method="get" action="/transfers" role="search" id="transfer-filters">
<p><label for="tq">Search</label> <input type="search" id="tq" name="q" value="${q.q ?? ''}" placeholder="transfer, customer or beneficiary" maxlength="100">
${selectHtml('status', 'Status', TRANSFER_STATUSES, q.status, 'f-status')}
${selectHtml(
  'type',
  'Type',
  TRANSFER_TYPES.map((x) => [x, TYPE_LABELS[x]] as const),
  q.type,
  'f-type',
)}
<label for="f-currency">Currency</label> <input type="text" id="f-currency" name="currency" value="${q.currency ?? ''}" size="4" maxlength="3" autocomplete="off"></p>
<p><label for="f-from">Requested from</label> <input type="date" id="f-from" name="from" value="${q.from ?? ''}">
<label for="f-to">to</label> <input type="date" id="f-to" name="to" value="${q.to ?? ''}">
${sortSelects(TRANSFER_SORT_LABELS, { sort: q.sort, dir: q.dir }, 'newest first', 'f-sort')}</p>
<p><button type="submit">Show</button> <a href="/transfers">Clear the filters</a> · <a href="${hrefWith('/transfers.csv', transfersParams(q))}" download>Download these transfers (CSV)</a></p>
</form>`;
}

export function transfersPage(v: TransfersView, form: RequestForm): Html {
  const { q, page } = v;
  const base = transfersParams(q);
  const href = (o: Record<string, string | undefined>) => hrefWith('/transfers', { ...base, ...o });
  const head = (key: TransferSort, label: string, cls = '') =>
    sortHead(key, label, { sort: q.sort, dir: q.dir }, href, { cls, descFirst: FIRST_DIR[key] === 'desc' });
  const rows = page.items.map(
    (
      t,
    ) => html`<tr><td><a href="${transferHref(t.transferId)}">${t.transferId}</a> <a class="muted" href="${transferJsonHref(t.transferId)}">JSON</a></td>
<td>${instant(t.requestedAt)}</td><td><a href="${customerHref(t.request.customerId, t.requestedOn)}">${t.request.customerId}</a>${v.names.get(t.request.customerId) ? html`<br><span class="muted">${v.names.get(t.request.customerId)}</span>` : ''}</td>
<td>${typeLabel(t.request.type)}</td>${minorCell(t.request.amount, t.request.currency)}
<td>${t.request.requester}</td><td>${transferStatus(t)}</td>
<td>${(t.gate?.flags ?? []).join(', ') || '—'}</td><td>${t.outcome ?? ''}</td></tr>`,
  );
  const order =
    q.sort && !storeOrder(q)
      ? `by ${TRANSFER_SORT_LABELS[q.sort].toLowerCase()}, ${q.dir === 'desc' ? 'descending' : 'ascending'}`
      : 'newest first';
  const list =
    v.tooMany !== undefined
      ? tooManyHtml(v.tooMany, 'transfers', 'status, type, currency or requested dates')
      : page.total === 0 && page.items.length === 0
        ? narrowed(q)
          ? html`<p class="note">No transfer matches these filters. <a href="/transfers">Clear the filters</a>.</p>`
          : html`<p>No transfer has been requested yet.</p>`
        : html`${shownHtml(page, 'Transfers', order, narrowed(q) ? 'matching transfers' : undefined)}
<div class="wrap"><table id="transfers"><thead><tr><th>Transfer</th>${head('requested', 'Requested')}${head('customer', 'Customer')}<th>Type</th>${head('amount', 'Amount', 'num')}<th>Requester</th>${head('status', 'Status')}<th>Gate flags</th><th>Outcome</th></tr></thead><tbody>${rows}</tbody></table></div>
${pagerHtml(page, pageLink(href, v.inMemory))}`;
  return html`<h1>Transfers</h1>
<p class="muted">Requested with the form below, <code>sentinel transfer request</code> or <code>POST /api/transfers</code>; approvers decide from the links in their emails (see the <a href="/outbox">outbox</a>) or on Slack.</p>
${requestFormHtml(form)}
<h2 id="list">Requested transfers (${grouped(page.total)})</h2>
${page.total > 0 || narrowed(q) ? listForm(q) : '' /* nothing to search or filter yet */}
${list}`;
}

const TRANSFERS_CSV = [
  'transfer_id',
  'requested_at',
  'customer_id',
  'customer_name',
  'type',
  'amount',
  'currency',
  'requester',
  'status',
  'gate_flags',
  'outcome',
];

/** GET /transfers.csv: every transfer the list's filters, search and sort select, in its order (amounts plain decimals beside their currency). */
export async function transfersCsvReply(
  opts: ConsoleOptions,
  t: ConsoleTransfers,
  params: URLSearchParams,
): Promise<Reply> {
  const q = transfersQuery(params);
  const { transfers, names } = await matchingTransfers(opts, t, q);
  return csvReply(
    'transfers.csv',
    TRANSFERS_CSV,
    transfers.map((x) => [
      x.transferId,
      x.requestedAt,
      x.request.customerId,
      names.get(x.request.customerId),
      typeLabel(x.request.type),
      x.request.amount === undefined ? undefined : formatMinor(x.request.amount, x.request.currency),
      x.request.currency,
      x.request.requester,
      x.status,
      (x.gate?.flags ?? []).join(' '),
      x.outcome,
    ]),
  );
}

export const DATALIST_MAX = 1000;
/** How long the form waits for the customers read model's first read before it goes without suggestions. */
export const SUGGESTIONS_WAIT_MS = 1500;

/**
 * The customers on file for the form's datalist (ids and names), when the console has the store:
 * the first `DATALIST_MAX` by id, and how many there are (the form says so when that is more).
 */
export async function knownCustomers(
  opts: ConsoleOptions,
): Promise<Pick<RequestForm, 'customers' | 'customersOnFile' | 'suggestionsPending'>> {
  if (!opts.credit) return { customers: [] };
  // From the customers list's read model (kept in memory): at 100,000 customers reading every id
  // from the store took 3.7 s a request. Nothing recomputed for the suggestions (liveLimit 0). The
  // model's first read (a minute at 100,000) is not waited for beyond SUGGESTIONS_WAIT_MS: the form
  // comes without suggestions and says why, and the read goes on for the next request.
  const reading = opts.queries.customers(opts.today(), { sort: 'id', size: DATALIST_MAX, liveLimit: 0 });
  reading.catch(() => undefined);
  const list = await Promise.race([
    reading,
    new Promise<undefined>((ok) => setTimeout(() => ok(undefined), SUGGESTIONS_WAIT_MS).unref()),
  ]);
  if (!list) return { customers: [], suggestionsPending: true };
  return {
    customers: list.rows.map((r) => ({ id: r.customerId, name: r.customer?.name })),
    customersOnFile: list.customers,
  };
}

/** The Transfers page: an empty form (200), or the form as sent with its problems (400). */
export async function transfersReply(
  opts: ConsoleOptions,
  t: ConsoleTransfers,
  refused?: { readonly values: RequestValues; readonly issues: readonly Issue[] },
  after?: string,
  params?: URLSearchParams,
): Promise<Reply> {
  const picking = params !== undefined && (params.has('find') || params.has('pick'));
  // The picker sends the request form's fields (type, currency...) with GET: the list is not filtered by them.
  const query = params && !picking ? transfersQuery(params) : { after };
  const [list, customers, picked] = await Promise.all([
    transfersView(opts, t, query),
    knownCustomers(opts),
    picking && params ? pickerOf(opts, params) : undefined,
  ]);
  return htmlReply(
    refused ? 400 : 200,
    refused ? 'Transfer not requested' : 'Transfers',
    transfersPage(list, {
      values: picked?.values ?? refused?.values ?? EMPTY_REQUEST,
      issues: refused?.issues ?? [],
      ...customers,
      picker: picked?.picker,
    }),
    'transfers',
  );
}

export const PICKS_MAX = 20;
/** Profiles read per store round when the names are searched. */
const NAME_CHUNK = 500;

/**
 * The customers whose id or name holds `text` (any case): ids first (the exact id, then by id),
 * then names, by id; at most `PICKS_MAX`, and whether more matched. Ids come from the summary
 * index in one read; names from the profiles, read a chunk at a time until enough have matched.
 */
export async function findCustomers(opts: ConsoleOptions, text: string): Promise<CustomerMatches> {
  if (!opts.credit) return { found: [], more: false };
  const store = opts.credit.store;
  const needle = text.trim().toLowerCase();
  if (needle === '') return { found: [], more: false };
  const ids = await store.listCustomerIds();
  const byId = ids
    .filter((id) => id.toLowerCase().includes(needle))
    .sort((a, b) => Number(b.toLowerCase() === needle) - Number(a.toLowerCase() === needle));
  const found: { id: string; name?: string | undefined }[] = [];
  const shownIds = byId.slice(0, PICKS_MAX + 1);
  const names = await store.getCustomers(shownIds);
  for (const id of shownIds) found.push({ id, name: names.get(id)?.name });
  const taken = new Set(byId);
  for (let i = 0; i < ids.length && found.length <= PICKS_MAX; i += NAME_CHUNK) {
    const chunk = ids.slice(i, i + NAME_CHUNK).filter((id) => !taken.has(id));
    const profiles = await store.getCustomers(chunk);
    for (const id of chunk) {
      const name = profiles.get(id)?.name;
      if (name?.toLowerCase().includes(needle)) found.push({ id, name });
    }
  }
  return { found: found.slice(0, PICKS_MAX), more: found.length > PICKS_MAX };
}

/** GET /transfers?find=...&pick=... (the picker's buttons): the form's values as sent, the matches or the pick. */
export async function pickerOf(
  opts: ConsoleOptions,
  params: URLSearchParams,
): Promise<{ values: RequestValues; picker: Picker }> {
  const values = requestValues(params);
  if (!params.has('type')) values.type = EMPTY_REQUEST.type;
  if (!params.has('currency')) values.currency = EMPTY_REQUEST.currency;
  const find = (params.get('find') ?? '').trim().slice(0, 100);
  const pick = (params.get('pick') ?? '').trim();
  if (pick !== '') {
    const profile = opts.credit ? (await opts.credit.store.getCustomers([pick])).get(pick) : undefined;
    values.customerId = pick;
    // The customer's currency, when the form still holds the default and the profile says otherwise.
    if (profile?.currency && (!params.has('currency') || params.get('currency') === EMPTY_REQUEST.currency))
      values.currency = profile.currency;
    return { values, picker: { find, picked: { id: pick, name: profile?.name } } };
  }
  return { values, picker: { find, matches: find === '' ? undefined : await findCustomers(opts, find) } };
}

/** POST /transfers/new: the form's request; 303 to the new transfer's page, or the form again. */
export async function requestTransfer(
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
export async function markPaidForm(
  t: ConsoleTransfers,
  transferId: string,
  req: IncomingMessage,
): Promise<Reply> {
  const body = await formFields(req, 'the transfer page');
  if (!(body instanceof URLSearchParams)) return body;
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

/** Where the transfer page's Recall button posts (the console's own form; the API's is `/transfers/ID/recall`). */
export const recallFormHref = (id: string) => `${transferHref(id)}/recall-form`;

/**
 * A form of the transfer page that names who acts (`by`) and asks the same `TransferApp` call the
 * API and the CLI use: 303 back to the transfer page, or a page saying why not, nothing changed.
 */
async function transferActionForm(
  transferId: string,
  req: IncomingMessage,
  action: {
    /** The page's title when refused: 'Not recalled'. */
    readonly refused: string;
    /** What the 303's text says when done: 'Recalled'. */
    readonly done: string;
    /** Said when nobody is named. */
    readonly whoNeeded: string;
    readonly act: (by: string) => Promise<{ ok: true } | { ok: false; status: number; message: string }>;
    /** The refusal's words, when not the app's own message. */
    readonly explain?: (status: number, by: string) => Part | undefined;
  },
): Promise<Reply> {
  const body = await formFields(req, 'the transfer page');
  if (!(body instanceof URLSearchParams)) return body;
  const by = (body.get('by') ?? '').trim();
  const back = html`<p><a href="${transferHref(transferId)}">Back to the transfer</a></p>`;
  const refuse = (status: number, message: Part) =>
    htmlReply(
      status,
      action.refused,
      html`<h1>${action.refused}</h1><div class="problem" role="alert">${message} Nothing was changed.</div>${back}`,
      'transfers',
    );
  if (by === '') return refuse(400, action.whoNeeded);
  const r = await action.act(by);
  if (!r.ok) return refuse(r.status, action.explain?.(r.status, by) ?? r.message);
  const location = transferHref(transferId);
  return { status: 303, type: 'text', body: `${action.done}: ${location}\n`, headers: { location } };
}

/**
 * POST /transfers/<id>/recall-form: the requester recalls a pending transfer through the same
 * `TransferApp.recall` the API and `sentinel transfer recall` use; 303 back to the transfer page,
 * or a page saying why not (anyone but the requester is refused).
 */
export function recallForm(t: ConsoleTransfers, transferId: string, req: IncomingMessage): Promise<Reply> {
  return transferActionForm(transferId, req, {
    refused: 'Not recalled',
    done: 'Recalled',
    whoNeeded: 'Say who you are: only the requester can recall a transfer.',
    act: (by) => t.recall(transferId, by),
    explain: (status, by) =>
      status === 403
        ? html`Only the requester can recall a transfer, and <strong>${by}</strong> did not request ${transferId}.`
        : undefined,
  });
}

/** Where the transfer page's Retry button posts (the console's own form; the API's is `/transfers/ID/retry`). */
export const retryFormHref = (id: string) => `${transferHref(id)}/retry-form`;

/**
 * POST /transfers/<id>/retry-form: someone of the approval policy retries a failed transfer
 * through the same `TransferApp.retry` the API and `sentinel transfer retry` use; 303 back to the
 * transfer page, or a page saying why not.
 */
export function retryForm(t: ConsoleTransfers, transferId: string, req: IncomingMessage): Promise<Reply> {
  return transferActionForm(transferId, req, {
    refused: 'Not retried',
    done: 'Retried',
    whoNeeded: 'Say who you are: a retry is recorded with your id.',
    act: (by) => t.retry(transferId, by),
  });
}

/** A failed transfer: what failed, where and when, and its Retry button. */
export function failureSection(t: Transfer): Html | '' {
  const f = t.failure;
  if (t.status !== 'failed' || !f) return '';
  return html`<h2>Failed</h2>
<div class="problem" role="alert" id="failure">A step of this transfer's approval failed after its retries: <strong>${f.error}</strong> in ${f.state} at ${instant(f.at)}. Its approval links are void and ops are alerted. ${f.from === 'approved' ? 'Every level had approved it: a retry only records it (nobody is asked again).' : 'A retry carries on from the first level not yet approved: nobody who approved is asked again, and the open links of the level it stood at work again.'}</div>
<dl class="kv"><dt>Cause</dt><dd class="pre">${f.cause || '—'}</dd></dl>
<form class="request" id="retry" method="post" action="${retryFormHref(t.transferId)}">
<label for="retry-by">Your id</label><div><input type="text" id="retry-by" name="by" required autocomplete="off"></div><div><span class="hint">A person of the approval policy; the retry is on the audit trail with your id.</span></div>
<div class="actions"><button type="submit">Retry the transfer</button></div>
</form>`;
}

/** A pending (or failed) transfer's Recall button, for its requester. */
export function recallSection(t: Transfer): Html | '' {
  if (t.status !== 'pending' && !(t.status === 'failed' && t.failure?.from !== 'approved')) return '';
  return html`<h2>Recall</h2>
<p>The requester can take this request back while it waits (or after it failed): every outstanding approval link stops working at once.</p>
<form class="request" id="recall" method="post" action="${recallFormHref(t.transferId)}">
<label for="recall-by">Requester</label><div><input type="text" id="recall-by" name="by" required autocomplete="off"></div><div><span class="hint">Your id, as on the request: only the requester can recall it.</span></div>
<div class="actions"><button type="submit">Recall the transfer</button></div>
</form>`;
}

export const approvalBadge = (a: Approval) =>
  html`<span class="badge ${a.status === 'approved' ? 'ok' : a.status === 'rejected' ? 'bad' : ''}">${a.status}</span>`;

/** Approved transfers that move money: when they were paid, or the form to mark one paid. */
export function paymentSection(t: Transfer, today: string): Html | '' {
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
export function exposureSection(t: Transfer, x: ExposureStanding, today: IsoDate): Html {
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

export function transferPage(
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
          t.application
            ? [
                'Credit application',
                html`<a href="/applications/${encodeURIComponent(t.application.applicationId)}">${t.application.applicationId}</a>`,
              ]
            : [
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
${failureSection(t)}
${recallSection(t)}
<h2>Approval chain</h2>
${chain}
<h2>Evidence shown to the approvers</h2>
${new Html(evidenceHtml(t))}`;
}

export const OUTBOX_PAGE = 200;
export const outboxHref = (p: string | undefined, api = false) =>
  hrefWith(api ? '/api/outbox' : '/outbox', { page: p });

export function outboxPage(page: Page<OutboxMail>): Html {
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
export function linkify(text: string): Html {
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
