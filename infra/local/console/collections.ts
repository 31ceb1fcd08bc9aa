import type { IncomingMessage } from 'node:http';
import {
  assignCollector,
  logCall,
  openDispute,
  RefusedError,
  recordPromise,
  releaseHold,
  resolveDispute,
  UnknownCustomerError,
} from '../../../functions/collections/app.ts';
import {
  ageOf,
  DISPUTE_OUTCOMES,
  type Dispute,
  disputedWords,
  openOn,
} from '../../../functions/collections/disputes.ts';
import {
  type Assignment,
  CALL_OUTCOMES,
  type CallLog,
  type ContactRecord,
  type CreditHold,
  type Handover,
  holdOn,
} from '../../../functions/collections/ports.ts';
import type { RatedPromise } from '../../../functions/collections/promises.ts';
import { dunningFor, promisesAsOf } from '../../../functions/collections/run.ts';
import { FACTOR_LABEL, scoreTerms, scoreWords } from '../../../functions/collections/score.ts';
import {
  collectionsWorklist,
  hasOverdue,
  type WorklistEntry,
} from '../../../functions/collections/worklist.ts';
import { addDays, type IsoDate } from '../../../functions/core/dates.ts';
import { formatMoney } from '../../../functions/core/money.ts';
import { moneyAsDecimals } from '../../../functions/core/money-json.ts';
import type { CollectionsPolicy, WorklistScorePolicy } from '../../../functions/credit/policy.ts';
import type { CustomerPartition } from '../../../functions/credit/ports.ts';
import { backHref } from './alerts.ts';
import { type Html, html, type Section } from './layout.ts';
import type { ConsoleCredit } from './options.ts';
import {
  asOfParam,
  customerHref,
  formFields,
  htmlReply,
  jsonReply,
  minorCell,
  problem,
  type Reply,
} from './shared.ts';

/**
 * `/collections` (and `/api/collections`): the collection plan as of a day, customer by customer
 * (README "Collections"), as `sentinel collections` prints it. Reads only.
 */
export async function collectionsReply(
  credit: ConsoleCredit,
  params: URLSearchParams,
  api: boolean,
  today: () => string,
  operator = 'console',
): Promise<Reply> {
  const asOf = asOfParam(params, today);
  const all = params.get('all') === '1';
  const policy = await credit.policy();
  const list = policy.collections ? await collectionsWorklist(credit.store, policy, asOf) : [];
  if (api) return jsonReply(200, moneyAsDecimals({ asOf, policyId: policy.id, customers: list }));
  const promised = params.get('promised');
  return htmlReply(
    200,
    'Collections',
    html`${promised ? html`<p class="done" role="status">Promise <code class="word">${promised}</code> recorded for ${params.get('customer') ?? ''}: the chase is held while it is pending.</p>` : ''}
${collectionsPage(list, { asOf, policyId: policy.id, all, planned: !!policy.collections, score: policy.collections?.score })}
${policy.collections && asOf === today() ? promiseForm(list, credit.collections !== undefined, today(), operator, policy.collections.promises.maxDays) : ''}`,
    'collections',
  );
}

/** Where the Collections page's promise form posts. */
export const PROMISE_PATH = '/collections/promise';

/** The form that records a promise to pay as of today: the customers with something open to promise. */
function promiseForm(
  list: readonly WorklistEntry[],
  enabled: boolean,
  today: string,
  operator: string,
  maxDays: number,
): Html {
  if (!enabled)
    return html`<p class="muted">Record a promise to pay with <code>sentinel collections promise</code>.</p>`;
  const owing = list.filter((e) => e.totals.overdue + e.totals.notDue > e.totals.unappliedCash);
  if (owing.length === 0) return html``;
  return html`<h2>Record a promise to pay</h2>
<p class="muted">As of today (${today}): what the customer said it will pay, in its currency, by when. The chase is held while it is pending; after the date and the plan's tolerance it is rated kept, partial or broken.</p>
<form class="request" method="post" action="${PROMISE_PATH}">
<label for="p-customer">Customer</label><select id="p-customer" name="customer" required>${owing.map((e) => html`<option value="${e.customerId}">${e.customerId} · ${e.name ?? ''} (${e.currency})</option>`)}</select><span class="hint">those with something open and undisputed</span>
<label for="p-amount">Amount</label><input id="p-amount" name="amount" inputmode="decimal" required placeholder="1,200.00"><span class="hint">in the customer's currency, at most what is open</span>
<label for="p-by">Paid by</label><input id="p-by" type="date" name="by" min="${today}" max="${addDays(today, maxDays)}" required><span class="hint">within ${maxDays} days</span>
<label for="p-via">Via</label><select id="p-via" name="via">${['call', 'email', 'visit', 'console'].map((v) => html`<option>${v}</option>`)}</select><span></span>
<label for="p-by-whom">Recorded by</label><input id="p-by-whom" name="recordedBy" value="${operator}" required><span class="hint">on the audit trail</span>
<label for="p-note">Note</label><input id="p-note" name="note" maxlength="500"><span></span>
<div class="actions"><button type="submit">Record the promise</button></div>
</form>`;
}

/** `POST /collections/promise`: the form's promise recorded, or the page again with each bad field named. */
export async function promiseFormReply(
  credit: ConsoleCredit,
  req: IncomingMessage,
  today: () => string,
): Promise<Reply> {
  const body = await formFields(req, 'the Collections page');
  if (!(body instanceof URLSearchParams)) return body;
  if (!credit.collections)
    return problem(405, 'This console records no promises: use sentinel collections promise.', false);
  const customerId = body.get('customer')?.trim() ?? '';
  try {
    const { promise } = await recordPromise(
      credit.collections,
      await credit.policy(),
      {
        customerId,
        amount: body.get('amount') ?? '',
        promisedDate: body.get('by') ?? '',
        recordedBy: body.get('recordedBy') ?? '',
        via: body.get('via') ?? 'console',
        note: body.get('note') ?? undefined,
      },
      { today: today(), now: new Date().toISOString() },
    );
    const location = `/collections?promised=${encodeURIComponent(promise.promiseId)}&customer=${encodeURIComponent(customerId)}`;
    return { status: 303, type: 'text', body: `Recorded: ${location}\n`, headers: { location } };
  } catch (e) {
    return refusedPage(
      e,
      'Promise not recorded',
      customerId,
      '/collections',
      'Back to Collections',
      'collections',
      'recorded',
    );
  }
}

/** What the customer page says after a collections form (a fixed sentence: nothing of the URL is shown). */
const DONE: Record<string, string> = {
  'dispute-opened':
    'The dispute was opened: what it contests (the invoice, or the part named) is left out of every demand until it is resolved.',
  'dispute-resolved':
    'The dispute was resolved: from today the invoice counts again unless it was credited or written off.',
  'hold-lifted': 'The credit hold was lifted.',
  'collector-assigned':
    'The collector was assigned: the customer is on their list from today, on the audit trail with who had it before.',
  'call-logged':
    'The call was logged. A promise it brought is recorded with the Collections page\'s form, a dispute with "Open a dispute" here: each with its own checks.',
};

export function collectionsDoneNote(params: URLSearchParams): Html | '' {
  const said = DONE[params.get('done') ?? ''];
  return said ? html`<p class="done" role="status">${said}</p>` : '';
}

/** Where the credit file's collections forms post. */
export const DISPUTE_PATH = '/collections/dispute';
export const RESOLVE_PATH = '/collections/resolve';
export const RELEASE_PATH = '/collections/release';
export const ASSIGN_PATH = '/collections/assign';
export const LOG_PATH = '/collections/log';
/** The paths the credit file's forms post to (ACTIONS below says what each does). */
export const ACTION_PATHS: readonly string[] = [
  DISPUTE_PATH,
  RESOLVE_PATH,
  RELEASE_PATH,
  ASSIGN_PATH,
  LOG_PATH,
];

/**
 * `POST /collections/dispute|resolve|release|assign|log` from the credit file: the action done as of today,
 * back to the customer's page saying so; refused, a page naming each bad field and changing nothing.
 */
export async function collectionsActionReply(
  credit: ConsoleCredit,
  path: string,
  req: IncomingMessage,
  today: () => string,
): Promise<Reply> {
  const body = await formFields(req, "the customer's credit file");
  if (!(body instanceof URLSearchParams)) return body;
  if (!credit.collections)
    return problem(405, 'This console records nothing: use the sentinel collections commands.', false);
  const customerId = body.get('customer')?.trim() ?? '';
  const invoiceId = body.get('invoice')?.trim() ?? '';
  const raw = body.get('back');
  const back = raw?.startsWith('/customers/') ? backHref(raw) : '/collections';
  const at = { today: today(), now: new Date().toISOString() };
  const action = ACTIONS[path];
  if (!action) return problem(404, `No such form: ${path}.`, false);
  const field = (name: string) => body.get(name) ?? '';
  try {
    await action.run(credit.collections, { customerId, invoiceId, field }, at);
    const u = new URL(back, 'http://console.invalid');
    u.searchParams.set('done', action.done);
    const location = `${u.pathname}${u.search}#collections`;
    return { status: 303, type: 'text', body: `Done: ${location}\n`, headers: { location } };
  } catch (e) {
    return refusedPage(
      e,
      action.refused,
      customerId,
      back,
      `Back to ${customerId || 'the customer'}`,
      'customers',
    );
  }
}

/** What a credit file form sends: the customer, the invoice (when it names one) and its fields. */
interface ActionFields {
  readonly customerId: string;
  readonly invoiceId: string;
  readonly field: (name: string) => string;
}

/** The credit file's forms, by the path they post to: what each does, and the note it comes back with. */
const ACTIONS: Readonly<
  Record<
    string,
    {
      readonly refused: string;
      readonly done: keyof typeof DONE;
      readonly run: (
        deps: NonNullable<ConsoleCredit['collections']>,
        f: ActionFields,
        at: { readonly today: string; readonly now: string },
      ) => Promise<unknown>;
    }
  >
> = {
  [DISPUTE_PATH]: {
    refused: 'Dispute not opened',
    done: 'dispute-opened',
    run: (deps, { customerId, invoiceId, field }, at) =>
      openDispute(
        deps,
        {
          customerId,
          invoiceId,
          reason: field('reason'),
          owner: field('owner'),
          answerBy: field('answerBy'),
          openedBy: field('by'),
          amount: field('amount'),
          line: field('line'),
        },
        at,
      ),
  },
  [RESOLVE_PATH]: {
    refused: 'Dispute not resolved',
    done: 'dispute-resolved',
    run: (deps, { customerId, invoiceId, field }, at) =>
      resolveDispute(deps, { customerId, invoiceId, outcome: field('outcome'), resolvedBy: field('by') }, at),
  },
  [RELEASE_PATH]: {
    refused: 'Hold not lifted',
    done: 'hold-lifted',
    run: (deps, { customerId, field }, at) =>
      releaseHold(deps, { customerId, releasedBy: field('by'), reason: field('reason') }, at),
  },
  [ASSIGN_PATH]: {
    refused: 'Collector not assigned',
    done: 'collector-assigned',
    run: async (deps, { customerId, field }, at) => {
      await onFile(deps, customerId);
      return assignCollector(deps, { customerId, collector: field('collector'), by: field('by') }, at);
    },
  },
  [LOG_PATH]: {
    refused: 'Call not logged',
    done: 'call-logged',
    run: async (deps, { customerId, field }, at) => {
      await onFile(deps, customerId);
      return logCall(
        deps,
        {
          customerId,
          outcome: field('outcome'),
          by: field('by'),
          channel: field('channel') || undefined,
          note: field('note'),
        },
        at,
      );
    },
  },
};

/**
 * Refuses a customer not on file: the forms are on a customer's page, but a post names its customer
 * itself, and an assignment or a call log would start a file of its own.
 */
async function onFile(deps: NonNullable<ConsoleCredit['collections']>, customerId: string): Promise<void> {
  const part = await deps.store.loadCustomerPartition(customerId);
  if (!part.books.customer && part.books.invoices.length === 0) throw new UnknownCustomerError(customerId);
}

/**
 * The page of a refused form: each bad field named, nothing changed, the way back. Any other
 * error is not the user's and is thrown on.
 */
function refusedPage(
  e: unknown,
  title: string,
  customerId: string,
  back: string,
  backText: string,
  area: Section,
  verb: 'changed' | 'recorded' = 'changed',
): Reply {
  if (!(e instanceof RefusedError || e instanceof UnknownCustomerError)) throw e;
  const issues = e instanceof RefusedError ? e.issues : [{ field: 'customer', message: e.message }];
  return htmlReply(
    400,
    title,
    html`<h1>${title}</h1>
<div class="problem">Nothing was ${verb} for ${customerId || 'the customer'}:
<ul>${issues.map((i) => html`<li><strong>${FIELD_LABEL[i.field] ?? i.field}</strong> ${i.message}</li>`)}</ul></div>
<p><a href="${back}">${backText}</a></p>`,
    area,
  );
}

const FIELD_LABEL: Record<string, string> = {
  invoice: 'Invoice',
  reason: 'Reason',
  owner: 'Owner',
  answerBy: 'Answer by',
  openedBy: 'Opened by',
  resolvedBy: 'By',
  releasedBy: 'By',
  outcome: 'Outcome',
  amount: 'Amount',
  line: 'Line',
  promisedDate: 'Paid by',
  recordedBy: 'Recorded by',
  via: 'Via',
  collector: 'Collector',
  by: 'By',
  channel: 'Channel',
  note: 'Note',
  customer: 'Customer',
};

/**
 * A customer's score, and folded under it how it adds up: each factor's points, its part of its
 * weight and what it measured (the summary's title says it all on hover).
 */
function scoreCell(e: WorklistEntry): Html {
  return html`<td class="num"><details class="score"><summary title="${scoreWords(e)}">${e.score.toFixed(1)}</summary>
<ul class="evidence">${e.scoreFactors.filter((f) => f.weight > 0).map((f) => html`<li>${f.points.toFixed(1)} <span>${FACTOR_LABEL[f.factor]}</span> (${f.part} of ${f.weight}): ${f.why}</li>`)}${e.scoreNotes.map((n) => html`<li><strong>${n}</strong></li>`)}</ul></details></td>`;
}

export function collectionsPage(
  list: readonly WorklistEntry[],
  v: {
    asOf: string;
    policyId: string;
    all: boolean;
    planned: boolean;
    score?: WorklistScorePolicy | undefined;
  },
): Html {
  const acted = list.filter((e) => e.send).length;
  const overdue = list.filter(hasOverdue).length;
  const shown = v.all ? list : list.filter(hasOverdue);
  const rows = shown.map(
    (
      e,
    ) => html`<tr><td><a href="${customerHref(e.customerId, v.asOf)}">${e.customerId}</a><br><span class="muted">${e.name ?? ''}</span>${e.hold ? html`<br><strong class="bad">on credit hold</strong> <span class="muted">since ${e.hold.since}</span>` : ''}</td>
${scoreCell(e)}
<td>${e.reached?.name ?? html`<span class="muted">—</span>`}</td>
<td>${e.send ? html`<strong>${e.send.name}</strong> <span class="muted">(${e.channel ?? e.send.channel})</span>` : html`<span class="muted">—</span>`}</td>
${minorCell(e.totals.demand, e.currency, e.send !== undefined)}
<td class="num">${e.oldestDaysPastDue}</td>
<td>${e.next ? html`${e.next.level} on ${e.next.on}` : html`<span class="muted">—</span>`}</td>
<td class="wide">${e.why}</td></tr>`,
  );
  return html`<h1>Collections</h1>
<p>The collection plan of policy <code>${v.policyId}</code> as of ${v.asOf}: for each customer, the level its oldest undisputed overdue item has reached, what is done today (a reminder, a call, the hold, the hand-over) or why not, and the next step if nothing is paid. What is disputed is never demanded (of an invoice disputed in part, only that part is set apart; the rest is chased); unapplied cash is taken off. "Today" is what the day's collections run does (after the daily evaluation, or <code>sentinel collections run</code>); a level that went out is not sent again.</p>
<form method="get" action="/collections" class="inline">
<label for="asOf">As of</label> <input id="asOf" name="asOf" type="date" value="${v.asOf}" required>
${v.all ? html`<input type="hidden" name="all" value="1">` : ''}
<button type="submit">Show</button>
</form>
${
  !v.planned
    ? html`<p class="problem">The policy in force has no collections section: nobody is chased.</p>`
    : html`<p><strong>${acted}</strong> to act on today, <strong>${overdue - acted}</strong> overdue and not acted on (each with its reason), <strong>${list.length - overdue}</strong> with nothing overdue${
        v.all
          ? html` (listed; <a href="/collections?asOf=${v.asOf}">only the overdue</a>)`
          : html` (<a href="/collections?asOf=${v.asOf}&amp;all=1">list them too</a>)`
      }.</p>
${v.score ? html`<p class="muted">Highest score first, from the policy's weights and caps: ${scoreTerms(v.score)}. Open a score for its points.</p>` : ''}
${
  shown.length === 0
    ? html`<p class="muted">Nobody to show.</p>`
    : html`<div class="wrap"><table><thead><tr><th>Customer</th><th class="num">Score</th><th>Level reached</th><th>Today</th><th class="num">Demand</th><th class="num">Days past due</th><th>Next</th><th>Why</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}`
}`;
}

/** What the collection plan has on a customer as of a day (its credit file's Collections section). */
export interface CollectionsRecord {
  readonly customerId: string;
  /** The credit hold on as of the day, if one is. */
  readonly hold?: CreditHold | undefined;
  /** The latest hand-over to legal made by the day, if any. */
  readonly handover?: Handover | undefined;
  /** Who works the customer, if assigned by the day. */
  readonly assignment?: Assignment | undefined;
  /** Calls and visits logged by the day, newest first. */
  readonly calls: readonly CallLog[];
  /** Its open invoices with no dispute (on all or part), oldest due first: what one may be opened on. */
  readonly disputable: readonly string[];
  /**
   * The forms (open or resolve a dispute, lift the hold, assign a collector, log a call) when the
   * page is today's and the console acts.
   */
  readonly forms?: { readonly actor: string; readonly today: IsoDate; readonly back: string } | undefined;
  readonly contacts: readonly ContactRecord[];
  readonly promises: readonly RatedPromise[];
  readonly disputes: readonly (Dispute & {
    readonly open: boolean;
    readonly days: number;
    readonly late: boolean;
  })[];
}

export function collectionsRecordOf(
  customerId: string,
  part: CustomerPartition,
  plan: CollectionsPolicy,
  asOf: IsoDate,
  forms?: CollectionsRecord['forms'],
): CollectionsRecord {
  const newest = <T extends { readonly on?: string }>(a: T, b: T) => ((a.on ?? '') < (b.on ?? '') ? 1 : -1);
  const d = dunningFor(customerId, part, plan, asOf, []);
  // The rest of an invoice disputed in part is among the items due, but it has its dispute.
  const under = new Set(d.disputed.map((i) => i.invoiceId));
  return {
    customerId,
    disputable: [...d.overdue, ...d.notDue, ...d.otherCurrency]
      .map((i) => i.invoiceId)
      .filter((i) => !under.has(i)),
    forms: forms && forms.today === asOf ? forms : undefined,
    hold: holdOn(part.creditHold, asOf) ? part.creditHold : undefined,
    handover: (part.handovers ?? []).filter((h) => h.on <= asOf).at(-1),
    assignment: part.assignment && part.assignment.since <= asOf ? part.assignment : undefined,
    calls: (part.calls ?? []).filter((c) => c.on <= asOf).sort((a, b) => (a.at < b.at ? 1 : -1)),
    contacts: (part.contacts ?? []).filter((c) => c.state === 'sent' && c.on <= asOf).sort(newest),
    promises: promisesAsOf(part, plan, asOf).sort((a, b) => (a.madeOn < b.madeOn ? 1 : -1)),
    disputes: (part.disputes ?? [])
      .filter((d) => d.openedOn <= asOf)
      .map((d) => {
        const open = openOn(d, asOf);
        return { ...d, open, ...ageOf(d, open || !d.resolvedOn ? asOf : d.resolvedOn) };
      })
      .sort((a, b) => (a.open !== b.open ? (a.open ? -1 : 1) : a.openedOn < b.openedOn ? 1 : -1)),
  };
}

/** The credit file's Collections section: disputes (open first), promises, the steps taken. */
export function collectionsRecordSection(r: CollectionsRecord): Html {
  const f = r.forms;
  if (
    r.contacts.length + r.promises.length + r.disputes.length + r.calls.length === 0 &&
    !r.hold &&
    !r.handover &&
    !r.assignment &&
    !f
  )
    return html``;
  const hidden = (f: NonNullable<CollectionsRecord['forms']>) =>
    html`<input type="hidden" name="customer" value="${r.customerId}"><input type="hidden" name="back" value="${f.back}">`;
  const disputes =
    r.disputes.length === 0
      ? html`<p class="muted">No dispute recorded.</p>`
      : html`<div class="wrap"><table><thead><tr><th>Invoice</th><th>Disputed</th><th>Reason</th><th>Owner</th><th>Opened</th><th>Answer by</th><th class="num">Days</th><th>State</th></tr></thead>
<tbody>${r.disputes.map(
          (
            d,
          ) => html`<tr><td>${d.invoiceId}</td><td>${disputedWords(d)}</td><td class="wide">${d.reason}</td><td>${d.owner}</td><td>${d.openedOn}</td><td>${d.answerBy}</td><td class="num">${d.days}</td>
<td>${d.open ? (d.late ? html`<strong>open, answer late</strong>` : 'open') : html`${d.outcome ?? ''} <span class="muted">(${d.resolvedOn ?? ''}, ${d.resolvedBy ?? ''})</span>`}${
            d.open && f
              ? html`<form class="answer" method="post" action="${RESOLVE_PATH}">${hidden(f)}<input type="hidden" name="invoice" value="${d.invoiceId}">
<label>Outcome <select name="outcome">${DISPUTE_OUTCOMES.map((o) => html`<option>${o}</option>`)}</select></label>
<label>By <input name="by" value="${f.actor}" required></label>
<span class="buttons"><button>Resolve</button></span></form>`
              : ''
          }</td></tr>`,
        )}</tbody></table></div>`;
  const promises =
    r.promises.length === 0
      ? html`<p class="muted">No promise to pay recorded.</p>`
      : html`<div class="wrap"><table><thead><tr><th>Made</th><th>Paid by</th><th class="num">Promised</th><th class="num">Received</th><th>State</th><th>Recorded by</th></tr></thead>
<tbody>${r.promises.map(
          (p) =>
            html`<tr><td>${p.madeOn}</td><td>${p.promisedDate}</td>${minorCell(p.amount, p.currency)}${minorCell(p.paid, p.currency)}<td>${p.state}</td><td>${p.recordedBy} <span class="muted">(${p.via})</span></td></tr>`,
        )}</tbody></table></div>`;
  const contacts =
    r.contacts.length === 0
      ? html`<p class="muted">No step of the plan taken yet.</p>`
      : html`<div class="wrap"><table><thead><tr><th>Day</th><th>Level</th><th>Channel</th><th class="num">Demanded</th><th>To</th></tr></thead>
<tbody>${r.contacts.map(
          (c) =>
            html`<tr><td>${c.on}</td><td>${c.level}</td><td>${c.channel}${c.note ? html`<br><span class="muted">${c.note}</span>` : ''}</td>${minorCell(c.demand, c.currency)}<td>${c.to ?? html`<span class="muted">—</span>`}</td></tr>`,
        )}</tbody></table></div>`;
  return html`<h2 id="collections">Collections</h2>
${r.hold ? html`<p class="problem" role="status"><strong>On credit hold</strong> since ${r.hold.since} (${r.hold.by}): ${r.hold.reason}. No delivery on credit; transfers climb more approval levels. A person lifts it${f ? '' : html`: <code>sentinel collections release ${r.hold.customerId} --by … --reason …</code>`}.</p>` : ''}
${
  r.hold && f
    ? html`<form class="answer" method="post" action="${RELEASE_PATH}">${hidden(f)}
<label>Why <input name="reason" required></label>
<label>By <input name="by" value="${f.actor}" required></label>
<span class="buttons"><button>Lift the hold</button></span></form>`
    : ''
}
${
  r.handover
    ? html`<p class="${r.handover.state === 'open' ? 'problem' : 'muted'}"><strong>Handed over to legal</strong> on ${r.handover.on} ("${r.handover.level}"): ${formatMoney(r.handover.demand, r.handover.currency)} demanded, ${r.handover.overdue.length} overdue item${r.handover.overdue.length === 1 ? '' : 's'}, ${r.handover.contacts.length} step${r.handover.contacts.length === 1 ? '' : 's'} before it${r.handover.state === 'withdrawn' ? html`; withdrawn on ${r.handover.withdrawnOn ?? ''} by ${r.handover.withdrawnBy ?? ''}: ${r.handover.withdrawReason ?? ''}` : html` (<code>sentinel collections handover ${r.customerId}</code>)`}.</p>`
    : ''
}
${r.assignment ? html`<p>Collector: <strong>${r.assignment.collector}</strong> <span class="muted">since ${r.assignment.since}, assigned by ${r.assignment.by}</span></p>` : f ? html`<p class="muted">No collector assigned.</p>` : ''}
${
  f
    ? html`<details><summary>${r.assignment ? 'Reassign' : 'Assign a collector'}</summary>
<form class="request" method="post" action="${ASSIGN_PATH}">${hidden(f)}
<label for="a-collector">Collector</label><input id="a-collector" name="collector" required maxlength="64"><span class="hint">who works the customer from today${r.assignment ? ` instead of ${r.assignment.collector}` : ''}: a person id (letters, digits, . _ @ -)</span>
<label for="a-by">Assigned by</label><input id="a-by" name="by" value="${f.actor}" required><span class="hint">on the audit trail</span>
<div class="actions"><button type="submit">Assign</button></div>
</form></details>`
    : ''
}
<h3>Disputes (${r.disputes.filter((d) => d.open).length} open)</h3>
${disputes}
${
  f && r.disputable.length > 0
    ? html`<details><summary>Open a dispute</summary>
<form class="request" method="post" action="${DISPUTE_PATH}">${hidden(f)}
<label for="d-invoice">Invoice</label><select id="d-invoice" name="invoice" required>${r.disputable.map((i) => html`<option>${i}</option>`)}</select><span class="hint">open and not disputed</span>
<label for="d-reason">Reason</label><input id="d-reason" name="reason" required maxlength="500"><span class="hint">what the customer contests</span>
<label for="d-amount">Amount</label><input id="d-amount" name="amount" inputmode="decimal" placeholder="340.00"><span class="hint">the part contested, in the invoice's currency; empty: all that is open</span>
<label for="d-line">Line</label><input id="d-line" name="line" maxlength="200"><span class="hint">which line of the invoice (optional)</span>
<label for="d-owner">Owner</label><input id="d-owner" name="owner" required><span class="hint">who answers it</span>
<label for="d-answer">Answer by</label><input id="d-answer" type="date" name="answerBy" min="${f.today}" required><span></span>
<label for="d-by">Opened by</label><input id="d-by" name="by" value="${f.actor}" required><span class="hint">on the audit trail</span>
<div class="actions"><button type="submit">Open the dispute</button></div>
</form></details>`
    : ''
}
<h3>Promises to pay (${r.promises.length})</h3>
${promises}
<h3>Steps of the plan taken (${r.contacts.length})</h3>
${contacts}
<h3>Calls and visits logged (${r.calls.length})</h3>
${
  r.calls.length === 0
    ? html`<p class="muted">None logged${r.assignment || f ? '' : html` (<code>sentinel collections log ${r.customerId} --outcome … --by …</code>)`}.</p>`
    : html`<div class="wrap"><table><thead><tr><th>Day</th><th>By</th><th>Channel</th><th>Outcome</th><th>Note</th></tr></thead>
<tbody>${r.calls.map((c) => html`<tr><td>${c.on}</td><td>${c.by}</td><td>${c.channel}</td><td>${c.outcome}</td><td class="wide">${c.note ?? ''}</td></tr>`)}</tbody></table></div>`
}
${
  f
    ? html`<details><summary>Log a call or visit</summary>
<form class="request" method="post" action="${LOG_PATH}">${hidden(f)}
<label for="l-channel">Channel</label><select id="l-channel" name="channel"><option>phone</option><option>visit</option></select><span></span>
<label for="l-outcome">Result</label><select id="l-outcome" name="outcome" required>${CALL_OUTCOMES.map((o) => html`<option>${o}</option>`)}</select><span class="hint">a promise or a dispute it brought is then recorded with its own form</span>
<label for="l-note">Note</label><input id="l-note" name="note" maxlength="500"><span></span>
<label for="l-by">Logged by</label><input id="l-by" name="by" value="${f.actor}" required><span class="hint">who called or visited</span>
<div class="actions"><button type="submit">Log it</button></div>
</form></details>`
    : ''
}`;
}
