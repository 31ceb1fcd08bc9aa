import { addDays, type IsoDate } from '../core/dates.ts';
import { formatMinor, formatMoney } from '../core/money.ts';
import type { Policy } from '../credit/policy.ts';
import { CSS, escapeHtml, page } from '../transfers/approval-page.ts';
import type { HttpRequest, HttpResponse } from '../transfers/http.ts';
import { type LinkKey, type PortalClaims, verifyPortalLink } from '../transfers/links.ts';
import {
  type DisputeDeps,
  DisputeRefusedError,
  openDispute,
  type PromiseDeps,
  PromiseRefusedError,
  recordPromise,
  UnknownCustomerError,
} from './app.ts';
import { type Dispute, openOn } from './disputes.ts';
import type { Dunning, DunningItem } from './dunning.ts';
import type { FieldIssue, RatedPromise } from './promises.ts';
import { itemNote, type ReminderLanguage, type StatementWords, statementWords } from './reminder.ts';
import { contactsOf, dunningFor, promisesAsOf } from './run.ts';

/**
 * The customer portal (README "Collections"): the page a reminder links to, where the customer
 * sees its statement as of today, tells us when it will pay, or disputes an invoice (or a part of
 * it: an amount and which line) with a comment. No login: the signed link is the credential, for
 * one customer and one reminder, until it expires (`collections.portal.linkDays`). GET shows and
 * changes nothing (mail scanners open every link); each POST records one thing on the audit trail,
 * then redirects to the page. One promise per link: a second through the same link finds the first
 * and says so.
 */

export interface PortalDeps {
  readonly store: PromiseDeps['store'] & DisputeDeps['store'];
  readonly audit: PromiseDeps['audit'];
  /** The credit policy in force (its `collections` section). */
  readonly policy: () => Promise<Policy>;
  readonly keys: () => Promise<readonly LinkKey[]>;
  readonly clock: { now(): Date };
  /** The finance team's today, in its time zone. */
  readonly today: () => IsoDate;
}

/** What the page shows, as of today. */
interface PortalView {
  readonly claims: PortalClaims;
  readonly today: IsoDate;
  readonly name: string;
  readonly language: ReminderLanguage;
  readonly creditor: { readonly name: string; readonly remittance: readonly string[] };
  readonly dunning: Dunning;
  /** The promise made through this link, if one was. */
  readonly viaLink?: RatedPromise | undefined;
  /** A promise pending today made another way (a call): shown, so the customer sees it was noted. */
  readonly pending?: RatedPromise | undefined;
  /** Disputes open today, by invoice. */
  readonly disputes: ReadonlyMap<string, Dispute>;
  readonly maxPromiseDate: IsoDate;
  /** Who works the customer: the owner of a dispute opened here. */
  readonly collector?: string | undefined;
}

async function viewOf(deps: PortalDeps, policy: Policy, claims: PortalClaims): Promise<PortalView> {
  const plan = policy.collections;
  if (!plan) throw new UnknownCustomerError(claims.customerId);
  const today = deps.today();
  const part = await deps.store.loadCustomerPartition(claims.customerId);
  if (!part.books.customer && part.books.invoices.length === 0)
    throw new UnknownCustomerError(claims.customerId);
  const promises = promisesAsOf(part, plan, today);
  const customer = part.books.customer;
  return {
    claims,
    today,
    name: customer?.name || claims.customerId,
    language: customer?.language ?? 'en',
    creditor: plan.creditor,
    dunning: dunningFor(claims.customerId, part, plan, today, contactsOf(part.contacts)),
    viaLink: promises.find((p) => p.link === claims.reminder),
    pending: promises.find((p) => p.state === 'pending' && p.link !== claims.reminder),
    disputes: new Map(
      (part.disputes ?? []).filter((d) => openOn(d, today)).map((d) => [d.invoiceId, d] as const),
    ),
    maxPromiseDate: addDays(today, plan.promises.maxDays),
    collector: part.assignment?.collector,
  };
}

// ---- words ----

interface PortalWords {
  readonly title: (creditor: string) => string;
  readonly heading: (name: string, id: string) => string;
  readonly asOf: (today: string) => string;
  readonly nothingDue: string;
  readonly promiseHead: string;
  readonly promiseIntro: string;
  readonly amount: (currency: string) => string;
  readonly date: string;
  readonly yourName: string;
  readonly note: string;
  readonly send: string;
  readonly promised: (amount: string, date: string, on: string) => string;
  readonly promiseState: Record<RatedPromise['state'], string>;
  readonly pendingOther: (amount: string, date: string) => string;
  readonly alreadyPromised: string;
  readonly disputeHead: string;
  readonly disputeIntro: string;
  readonly invoice: string;
  readonly reason: string;
  readonly reasons: readonly (readonly [string, string])[];
  readonly comment: string;
  readonly disputedAmount: string;
  readonly disputedAmountHint: string;
  readonly whichLine: string;
  readonly underReview: (invoice: string, by: string) => string;
  readonly partUnderReview: (part: string, invoice: string, by: string) => string;
  readonly nothingToDispute: string;
  readonly check: string;
  readonly fields: Record<string, string>;
  readonly footer: (name: string, until: string) => string;
  readonly badLink: string;
  readonly expired: string;
  readonly thanksPromise: string;
  readonly thanksDispute: string;
  readonly required: string;
  readonly chooseOne: string;
}

const EN: PortalWords = {
  title: (c) => (c ? `Your account with ${c}` : 'Your account'),
  heading: (name, id) => `Statement for ${name} (customer number ${id})`,
  asOf: (t) => `As of ${t}.`,
  nothingDue: 'Nothing is overdue today. Thank you.',
  promiseHead: 'Tell us when you will pay',
  promiseIntro:
    'Give the amount and the day it will have reached us. We will not chase you for it before then.',
  amount: (c) => `Amount (${c})`,
  date: 'Paid by',
  yourName: 'Your name',
  note: 'Anything we should know (optional)',
  send: 'Send',
  promised: (a, d, on) => `On ${on} you told us you will pay ${a} by ${d}.`,
  promiseState: {
    pending: 'We are waiting for it.',
    kept: 'We have received it. Thank you.',
    partial: 'We received part of it.',
    broken: 'We have not received it.',
  },
  pendingOther: (a, d) => `We have noted your promise to pay ${a} by ${d}.`,
  alreadyPromised:
    'A promise was already made through this link; it is shown below. To change it, please reply to our email.',
  disputeHead: 'Dispute an invoice',
  disputeIntro:
    'If an invoice, or a line of it, is wrong, tell us what is wrong. What you dispute is left out of the amount due until we have answered; the rest of the invoice is still due.',
  invoice: 'Invoice',
  reason: 'Reason',
  reasons: [
    ['amount', 'Wrong price or amount'],
    ['not-received', 'Goods or service not received'],
    ['quality', 'Damaged or not as ordered'],
    ['paid', 'Already paid'],
    ['other', 'Other'],
  ],
  comment: 'What is wrong',
  disputedAmount: "Amount disputed, in the invoice's currency (optional)",
  disputedAmountHint: 'Leave it empty to dispute all that is open on the invoice.',
  whichLine: 'Which line (optional)',
  underReview: (i, by) => `Invoice ${i} is under review; we will answer by ${by}.`,
  partUnderReview: (part, i, by) => `${part} of invoice ${i} is under review; we will answer by ${by}.`,
  nothingToDispute: 'No open invoice is left to dispute.',
  check: 'Please check:',
  fields: {
    amount: 'Amount',
    promisedDate: 'Paid by',
    recordedBy: 'Your name',
    openedBy: 'Your name',
    note: 'Note',
    invoice: 'Invoice',
    reason: 'Reason',
    comment: 'What is wrong',
    line: 'Which line',
  },
  footer: (name, until) => `This page is for ${name} only. Its link works until ${until}.`,
  badLink: 'This link is not valid. Please use the link in the latest email we sent you.',
  expired:
    'This link has expired. The latest email we sent you has a new one; or reply to it and we will help.',
  thanksPromise: 'Thank you: your promise is noted.',
  thanksDispute: 'Thank you: the invoice is under review.',
  required: 'is required',
  chooseOne: 'choose one',
};

const ZH: PortalWords = {
  title: (c) => (c ? `您在${c}的账户` : '您的账户'),
  heading: (name, id) => `${name}（客户编号 ${id}）的对账单`,
  asOf: (t) => `截至 ${t}。`,
  nothingDue: '目前没有逾期款项，谢谢！',
  promiseHead: '告知付款日期',
  promiseIntro: '请填写金额和款项到账的日期。在此日期之前，我们不会就此催款。',
  amount: (c) => `金额（${c}）`,
  date: '付款日期',
  yourName: '您的姓名',
  note: '备注（可选）',
  send: '提交',
  promised: (a, d, on) => `您于 ${on} 告知将在 ${d} 前支付 ${a}。`,
  promiseState: {
    pending: '我们正在等待该笔付款。',
    kept: '我们已收到该笔付款，谢谢！',
    partial: '我们只收到了部分款项。',
    broken: '我们尚未收到该笔付款。',
  },
  pendingOther: (a, d) => `我们已记录您将在 ${d} 前支付 ${a} 的承诺。`,
  alreadyPromised: '此链接已提交过付款承诺（见下方）。如需更改，请回复我们的邮件。',
  disputeHead: '对发票提出异议',
  disputeIntro:
    '如发票或其中某一行有误，请告诉我们问题所在。在我们答复之前，有异议的金额不计入应付金额；发票的其余部分仍需支付。',
  invoice: '发票',
  reason: '原因',
  reasons: [
    ['amount', '价格或金额有误'],
    ['not-received', '未收到货物或服务'],
    ['quality', '货物损坏或与订单不符'],
    ['paid', '已付款'],
    ['other', '其他'],
  ],
  comment: '问题说明',
  disputedAmount: '有异议的金额，按发票币种（可选）',
  disputedAmountHint: '如对发票全部未付金额有异议，请留空。',
  whichLine: '哪一行（可选）',
  underReview: (i, by) => `发票 ${i} 正在核查中，我们将在 ${by} 前答复。`,
  partUnderReview: (part, i, by) => `发票 ${i} 中的 ${part} 正在核查中，我们将在 ${by} 前答复。`,
  nothingToDispute: '没有可提出异议的未结发票。',
  check: '请检查：',
  fields: {
    amount: '金额',
    promisedDate: '付款日期',
    recordedBy: '您的姓名',
    openedBy: '您的姓名',
    note: '备注',
    invoice: '发票',
    reason: '原因',
    comment: '问题说明',
    line: '哪一行',
  },
  footer: (name, until) => `本页面仅供${name}使用，链接有效期至 ${until}。`,
  badLink: '此链接无效。请使用我们最近一封邮件中的链接。',
  expired: '此链接已过期。我们最近一封邮件中有新的链接；您也可以直接回复邮件，我们会协助处理。',
  thanksPromise: '谢谢！您的付款承诺已记录。',
  thanksDispute: '谢谢！该发票已进入核查。',
  required: '必填',
  chooseOne: '请选择一项',
};

const WORDS: Record<ReminderLanguage, PortalWords> = { en: EN, zh: ZH };

// ---- the page ----

/** What the customer typed, kept when a form is refused so nothing has to be typed again. */
type Typed = Readonly<Record<string, string>>;

interface Shown {
  readonly note?: { readonly kind: 'done' | 'problem'; readonly lines: readonly string[] } | undefined;
  readonly typed?: { readonly form: 'promise' | 'dispute'; readonly values: Typed } | undefined;
}

const e = escapeHtml;
const PORTAL_CSS = `${CSS}
input[type=text],input[type=date],select{width:100%;max-width:32rem;padding:.4rem;font:inherit}
label input,label select,label textarea{display:block;margin-top:.2rem;font-weight:normal}
.demand{font-size:1.15rem;background:#fdf3e7;border-left:4px solid #c46a0c;padding:.6rem .9rem}
button.send{background:#1f5fbf;color:#fff;border-color:#1f5fbf}
label .hint{display:block;font-weight:normal;font-size:.92em}
@media (max-width:32rem){table.reflow tr.note td{display:block}}`;

function itemsTable(w: StatementWords, items: readonly DunningItem[]) {
  const [inv, issued, due, days, amount, open] = w.columns;
  const head = [inv, issued, due, days, amount, open];
  const rows = items.map((i) => [
    e(i.invoiceId),
    e(i.issueDate),
    e(i.dueDate),
    i.daysPastDue > 0 ? e(i.daysPastDue) : e(w.notDueDays),
    e(formatMoney(i.amount, i.currency)),
    e(formatMoney(i.open, i.currency)),
  ]);
  const cls = (c: number) => (c >= 3 ? ' class="num"' : '');
  // A dispute on part of an invoice: a row of its own under the item says what is disputed.
  const note = (n: number) => {
    const t = items[n] ? itemNote(w, items[n]) : undefined;
    return t
      ? `<tr class="note"><td colspan="${head.length}"><span class="muted">${e(t)}</span></td></tr>`
      : '';
  };
  return `<div class="scroll"><table class="reflow"><thead><tr>${head.map((h, c) => `<th${cls(c)}>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map(
      (r, n) =>
        `<tr>${r.map((v, c) => `<td${cls(c)} data-label="${e(head[c] ?? '')}"><span>${v}</span></td>`).join('')}</tr>${note(n)}`,
    )
    .join('')}</tbody></table></div>`;
}

const sums = (rows: readonly (readonly [string, string])[]) =>
  `<dl class="kv">${rows.map(([l, v]) => `<dt>${e(l)}</dt><dd>${e(v)}</dd>`).join('')}</dl>`;

function statementHtml(v: PortalView, w: StatementWords, pw: PortalWords): string {
  const d = v.dunning;
  const money = (n: number) => formatMoney(n, d.currency);
  const out: string[] = [
    d.overdue.length > 0
      ? `<p class="demand" id="demand">${e(w.demand)}${e(w.colon)}<strong>${e(money(d.totals.demand))}</strong></p>`
      : `<p class="done" id="demand">${e(pw.nothingDue)}</p>`,
  ];
  if (d.overdue.length > 0)
    out.push(
      `<h2>${e(w.heads.overdue(d.asOf))}</h2>`,
      itemsTable(w, d.overdue),
      sums([
        [w.totalOverdue, money(d.totals.overdue)],
        ...(d.totals.unappliedCash > 0 ? [[w.unapplied, money(-d.totals.unappliedCash)] as const] : []),
        [w.demand, money(d.totals.demand)],
      ]),
    );
  if (d.disputed.length > 0)
    out.push(
      `<h2>${e(w.heads.disputed)}</h2>`,
      itemsTable(w, d.disputed),
      `<ul class="checks">${d.disputed
        .map((i) => {
          const x = v.disputes.get(i.invoiceId);
          if (!x) return '';
          // Disputed in part: the part under review, the rest is among the items due.
          return `<li>${e(
            i.invoiceOpen !== undefined
              ? pw.partUnderReview(formatMoney(i.open, i.currency), i.invoiceId, x.answerBy)
              : pw.underReview(i.invoiceId, x.answerBy),
          )}</li>`;
        })
        .join('')}</ul>`,
      sums([[w.totalDisputed, money(d.totals.disputed)]]),
    );
  if (d.notDue.length > 0)
    out.push(
      `<h2>${e(w.heads.notDue)}</h2>`,
      itemsTable(w, d.notDue),
      sums([[w.totalNotDue, money(d.totals.notDue)]]),
    );
  if (d.otherCurrency.length > 0)
    out.push(`<h2>${e(w.heads.otherCurrency)}</h2>`, itemsTable(w, d.otherCurrency));
  const remittance = v.creditor.remittance.filter((l) => l.trim() !== '');
  out.push(
    `<h2>${e(w.howToPay)}</h2>`,
    `<p>${(remittance.length > 0 ? remittance : [w.noRemittance]).map(e).join('<br>')}</p>`,
    `<p>${e(w.reference(v.claims.customerId))}</p>`,
  );
  return out.join('\n');
}

const field = (label: string, control: string) => `<label>${e(label)}${control}</label>`;

function promiseHtml(v: PortalView, pw: PortalWords, token: string, typed: Typed | undefined): string {
  const d = v.dunning;
  const out = [`<section class="box" id="promise"><h2>${e(pw.promiseHead)}</h2>`];
  const p = v.viaLink;
  if (p) {
    out.push(
      `<p id="promised">${e(pw.promised(formatMoney(p.amount, p.currency), p.promisedDate, p.madeOn))} ${e(pw.promiseState[p.state])}</p></section>`,
    );
    return out.join('\n');
  }
  if (v.pending)
    out.push(
      `<p>${e(pw.pendingOther(formatMoney(v.pending.amount, v.pending.currency), v.pending.promisedDate))}</p>`,
    );
  const open = d.totals.overdue + d.totals.notDue - d.totals.unappliedCash;
  if (open <= 0) {
    out.push(`<p class="muted">${e(pw.nothingDue)}</p></section>`);
    return out.join('\n');
  }
  const suggested = formatMinor(d.totals.demand > 0 ? d.totals.demand : open, d.currency);
  const val = (k: string, dflt = '') => e(typed?.[k] ?? dflt);
  out.push(
    `<p class="muted">${e(pw.promiseIntro)}</p>`,
    `<form method="post" action="/portal/${e(token)}/promise">`,
    field(
      pw.amount(d.currency),
      `<input type="text" name="amount" inputmode="decimal" required value="${val('amount', suggested)}">`,
    ),
    field(
      pw.date,
      `<input type="date" name="date" required min="${e(v.today)}" max="${e(v.maxPromiseDate)}" value="${val('date')}">`,
    ),
    field(pw.yourName, `<input type="text" name="name" required maxlength="100" value="${val('name')}">`),
    field(pw.note, `<textarea name="note" rows="2" maxlength="500">${val('note')}</textarea>`),
    `<button class="send" type="submit">${e(pw.send)}</button>`,
    '</form></section>',
  );
  return out.join('\n');
}

function disputeHtml(v: PortalView, pw: PortalWords, token: string, typed: Typed | undefined): string {
  const d = v.dunning;
  // The rest of an invoice disputed in part is among the items due, but the invoice has its dispute.
  const under = new Set(d.disputed.map((i) => i.invoiceId));
  const open = [...d.overdue, ...d.notDue, ...d.otherCurrency].filter((i) => !under.has(i.invoiceId));
  const out = [`<section class="box" id="dispute"><h2>${e(pw.disputeHead)}</h2>`];
  if (open.length === 0) {
    out.push(`<p class="muted">${e(pw.nothingToDispute)}</p></section>`);
    return out.join('\n');
  }
  const val = (k: string) => typed?.[k] ?? '';
  out.push(
    `<p class="muted">${e(pw.disputeIntro)}</p>`,
    `<form method="post" action="/portal/${e(token)}/dispute">`,
    field(
      pw.invoice,
      `<select name="invoice" required>${open
        .map(
          (i) =>
            `<option value="${e(i.invoiceId)}"${val('invoice') === i.invoiceId ? ' selected' : ''}>${e(i.invoiceId)}: ${e(formatMoney(i.open, i.currency))}, ${e(i.dueDate)}</option>`,
        )
        .join('')}</select>`,
    ),
    field(pw.whichLine, `<input type="text" name="line" maxlength="200" value="${e(val('line'))}">`),
    field(
      pw.disputedAmount,
      `<input type="text" name="amount" inputmode="decimal" value="${e(val('amount'))}"><span class="muted hint">${e(pw.disputedAmountHint)}</span>`,
    ),
    field(
      pw.reason,
      `<select name="reason" required><option value="">${e(pw.chooseOne)}</option>${pw.reasons
        .map(([k, l]) => `<option value="${e(k)}"${val('reason') === k ? ' selected' : ''}>${e(l)}</option>`)
        .join('')}</select>`,
    ),
    field(
      pw.comment,
      `<textarea name="comment" rows="3" required maxlength="500">${e(val('comment'))}</textarea>`,
    ),
    field(pw.yourName, `<input type="text" name="name" required maxlength="100" value="${e(val('name'))}">`),
    `<button class="send" type="submit">${e(pw.send)}</button>`,
    '</form></section>',
  );
  return out.join('\n');
}

function portalPage(status: number, v: PortalView, token: string, shown: Shown = {}): HttpResponse {
  const w = statementWords(v.language);
  const pw = WORDS[v.language];
  const note = shown.note
    ? `<div class="${shown.note.kind}" id="note" role="status">${shown.note.lines.map((l) => `<p>${e(l)}</p>`).join('')}</div>`
    : '';
  const until = addDays(new Date(v.claims.exp * 1000).toISOString().slice(0, 10) as IsoDate, -1);
  const body = [
    `<p class="muted">${e(pw.title(v.creditor.name))}</p>`,
    `<h1>${e(pw.heading(v.name, v.claims.customerId))}</h1>`,
    `<p class="muted">${e(pw.asOf(v.today))}</p>`,
    note,
    statementHtml(v, w, pw),
    promiseHtml(v, pw, token, shown.typed?.form === 'promise' ? shown.typed.values : undefined),
    disputeHtml(v, pw, token, shown.typed?.form === 'dispute' ? shown.typed.values : undefined),
    `<p class="muted">${w.closing(v.creditor.name).map(e).join('<br>')}</p>`,
    `<p class="muted" id="footer">${e(pw.footer(v.name, until))}</p>`,
  ].join('\n');
  return framed(status, pw.title(v.creditor.name), body, v.language);
}

/** The approval pages' frame, in the customer's language and with the portal's few extra rules. */
const framed = (status: number, title: string, body: string, language: ReminderLanguage) =>
  page(status, title, body, { lang: language === 'zh' ? 'zh-CN' : 'en', css: PORTAL_CSS });

function linkProblem(status: 404 | 410, message: string): HttpResponse {
  // The link says nothing valid about who it is for: the page names nobody, in both languages.
  return framed(
    status,
    'Statement',
    `<p class="problem" id="note">${e(message)}</p><p class="problem">${e(WORDS.zh[status === 410 ? 'expired' : 'badLink'])}</p>`,
    'en',
  );
}

function issuesOf(pw: PortalWords, issues: readonly FieldIssue[]): string[] {
  return [pw.check, ...issues.map((i) => `${pw.fields[i.field] ?? i.field}: ${i.message}`)];
}

const REDIRECT = (location: string): HttpResponse => ({
  status: 303,
  headers: {
    location,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  },
  body: '',
});

/**
 * The portal over HTTP, framework-free: the console serves it locally, a Lambda function URL on
 * AWS. `GET /portal/<token>` shows; `POST /portal/<token>/promise` and `/dispute` record, then
 * redirect to the page (`?done=promise|dispute`: the note it shows is fixed text, never the query's).
 */
export function portalHttp(deps: PortalDeps): (req: HttpRequest) => Promise<HttpResponse> {
  return async (req) => {
    const m = /^\/portal\/([\w-]+\.[\w-]+)(?:\/(promise|dispute))?\/?$/.exec(req.path);
    if (!m) return linkProblem(404, EN.badLink);
    const [, token, action] = m as unknown as [string, string, 'promise' | 'dispute' | undefined];
    const now = deps.clock.now();
    const check = verifyPortalLink(token, await deps.keys(), now);
    if (!check.ok)
      return linkProblem(
        check.reason === 'expired' ? 410 : 404,
        check.reason === 'expired' ? EN.expired : EN.badLink,
      );
    const policy = await deps.policy();
    let v: PortalView;
    try {
      v = await viewOf(deps, policy, check.claims);
    } catch (err) {
      if (err instanceof UnknownCustomerError) return linkProblem(404, EN.badLink);
      throw err;
    }
    const pw = WORDS[v.language];
    const self = `/portal/${token}`;
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (action) return REDIRECT(self);
      const done = req.query?.done;
      const note =
        done === 'promise' && v.viaLink
          ? { kind: 'done' as const, lines: [pw.thanksPromise] }
          : done === 'dispute'
            ? { kind: 'done' as const, lines: [pw.thanksDispute] }
            : undefined;
      return portalPage(200, v, token, { note });
    }
    if (req.method !== 'POST' || !action) {
      const r = portalPage(405, v, token);
      return { ...r, headers: { ...r.headers, allow: action ? 'POST' : 'GET, HEAD' } };
    }
    const form = new URLSearchParams(req.body);
    const typed = Object.fromEntries(form);
    const at = { today: v.today, now: now.toISOString() };
    const name = (form.get('name') ?? '').trim().slice(0, 100);
    const by = name === '' ? '' : `${name} (${v.claims.customerId}, portal)`;
    try {
      if (action === 'promise') {
        if (v.viaLink)
          return portalPage(409, v, token, { note: { kind: 'problem', lines: [pw.alreadyPromised] } });
        const r = await recordPromise(
          deps,
          policy,
          {
            customerId: v.claims.customerId,
            amount: form.get('amount') ?? '',
            promisedDate: form.get('date') ?? '',
            recordedBy: by,
            via: 'portal',
            note: form.get('note') ?? undefined,
          },
          at,
          { link: v.claims.reminder },
        );
        // Another send won (two at once, or a second tab): its promise is the link's. The same
        // promise sent twice (a double click) is the one the customer meant: thanks, as for the first.
        const same =
          r.promise.recordedBy === by && r.promise.promisedDate === (form.get('date') ?? '').trim();
        if (!r.recorded && !same)
          return portalPage(409, await viewOf(deps, policy, v.claims), token, {
            note: { kind: 'problem', lines: [pw.alreadyPromised] },
          });
        return REDIRECT(`${self}?done=promise`);
      }
      const reason = pw.reasons.find(([k]) => k === form.get('reason'));
      const comment = (form.get('comment') ?? '').trim();
      const issues: FieldIssue[] = [];
      if (!reason) issues.push({ field: 'reason', message: pw.chooseOne });
      if (comment === '') issues.push({ field: 'comment', message: pw.required });
      if (issues.length > 0) throw new DisputeRefusedError(issues);
      const plan = policy.collections;
      await openDispute(
        deps,
        {
          customerId: v.claims.customerId,
          invoiceId: (form.get('invoice') ?? '').trim(),
          // In the credit team's words: the reason's English label, then the customer's own.
          reason: `${EN.reasons.find(([k]) => k === reason?.[0])?.[1] ?? 'Other'}: ${comment}`,
          owner: v.collector ?? plan?.portal.disputeOwner ?? 'credit control',
          answerBy: addDays(v.today, plan?.portal.answerDays ?? 10),
          openedBy: by,
          amount: form.get('amount') ?? undefined,
          line: form.get('line') ?? undefined,
        },
        at,
      );
      return REDIRECT(`${self}?done=dispute`);
    } catch (err) {
      if (err instanceof PromiseRefusedError || err instanceof DisputeRefusedError)
        return portalPage(400, v, token, {
          note: { kind: 'problem', lines: issuesOf(pw, err.issues) },
          typed: { form: action, values: typed },
        });
      throw err;
    }
  };
}
