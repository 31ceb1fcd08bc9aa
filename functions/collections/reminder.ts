import { addDays } from '../core/dates.ts';
import { formatMinor, formatMoney } from '../core/money.ts';
import { EMAIL_TEMPLATES } from '../credit/policy.ts';
import { csvCell } from '../ingest/rejects.ts';
import { escapeHtml } from '../transfers/approval-page.ts';
import type { Dunning, DunningItem } from './dunning.ts';

/**
 * The payment reminder a customer gets (README "Collections"): one message per customer with every
 * overdue item, at the tone of the level sent (friendly, firm, final), in English or Chinese, as
 * text and HTML, with the statement as a CSV a spreadsheet opens safely. Pure: no I/O.
 *
 * What is demanded is the dunning's `totals.demand` (undisputed overdue less unapplied cash): the
 * disputed items are shown and said to be left out (of an invoice disputed in part, the part, with
 * the line; the rest is among the overdue), items not due and items in another currency are shown
 * for information, never added in or converted. Every name, id and remittance line is data: HTML
 * escapes all of it, the text part and the subject never get a line break from it.
 */

export type ReminderLanguage = 'en' | 'zh';
export const REMINDER_LANGUAGES: readonly ReminderLanguage[] = ['en', 'zh'];

/** Template names the email renderer knows: the policy refuses an emailed level naming another. */
export const REMINDER_TEMPLATES: readonly string[] = EMAIL_TEMPLATES;
type Template = (typeof EMAIL_TEMPLATES)[number];

export interface ReminderInput {
  /** Its `send` is the level being sent. */
  readonly dunning: Dunning;
  readonly customer: {
    readonly customerId: string;
    readonly name: string;
    readonly contactName?: string | undefined;
    readonly language?: ReminderLanguage | undefined;
  };
  /** Who is owed, and how to pay: one line each (bank, IBAN, reference...). */
  readonly creditor: { readonly name: string; readonly remittance: readonly string[] };
  /** Where the customer sees the statement, promises a date or disputes a line. */
  readonly portalUrl?: string | undefined;
}

export interface ReminderEmail {
  subject: string;
  text: string;
  html: string;
  attachment: { filename: string; contentType: 'text/csv; charset=utf-8'; content: string };
}

/** The firm and final reminders ask for payment within this many days. */
const PAY_WITHIN_DAYS = 7;
const SUBJECT_MAX = 200;

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]+/gu;
/** A value on one line: control characters (line breaks among them) become a space. */
const one = (v: string | number): string => String(v).replace(CONTROL, ' ').trim();

type Status = 'overdue' | 'disputed' | 'notDue' | 'otherCurrency';

/** Every word of the message, by language: the sentences take the figures they need. */
interface Words {
  readonly subject: Record<Template, string>;
  readonly subjectLine: (label: string, creditor: string, amount: string, customer: string) => string;
  readonly greeting: (name: string) => string;
  readonly who: (name: string, customerId: string) => string;
  /** Between a label and its value. */
  readonly colon: string;
  readonly intro: Record<Template, (who: string, days: number, by: string) => string>;
  readonly demand: string;
  readonly heads: Record<Exclude<Status, 'overdue'>, string> & { overdue: (asOf: string) => string };
  readonly columns: readonly [string, string, string, string, string, string];
  readonly notDueDays: string;
  readonly line: (i: DunningItem, days: string, amount: string, open: string) => string;
  /**
   * Under an item of an invoice disputed in part, or a dispute naming a line: on the disputed
   * part, what is disputed of what is open and the line; on the rest, that the part is set apart.
   */
  readonly partDisputed: (part: string, open: string | undefined, line: string | undefined) => string;
  readonly partChased: (part: string) => string;
  readonly totalOverdue: string;
  readonly unapplied: string;
  readonly totalDisputed: string;
  readonly totalNotDue: string;
  readonly howToPay: string;
  readonly reference: (customerId: string) => string;
  readonly noRemittance: string;
  readonly portal: string;
  readonly portalButton: string;
  readonly attached: (file: string) => string;
  readonly alreadyPaid: string;
  readonly closing: (creditor: string) => readonly string[];
  readonly csv: { readonly head: readonly string[]; readonly status: Record<Status, string> };
  readonly csvTotals: readonly [string, string, string];
}

const EN: Words = {
  subject: { friendly: 'Payment reminder', firm: 'Urgent payment reminder', final: 'Final notice' },
  subjectLine: (label, creditor, amount, customer) =>
    `${label}${creditor ? ` from ${creditor}` : ''}: ${amount} overdue — ${customer}`,
  greeting: (name) => `Dear ${name},`,
  who: (name, id) => `${name} (customer number ${id})`,
  colon: ': ',
  intro: {
    friendly: (who) =>
      `Our records show that the invoices below for ${who} are past their due date. This may have been overlooked, so this is a friendly reminder: we would be grateful if you could arrange payment soon.`,
    firm: (who, days, by) =>
      `Our records show that the invoices below for ${who} are still unpaid; the oldest is now ${days} days overdue. Please pay the amount due within ${PAY_WITHIN_DAYS} days, by ${by}.`,
    final: (who, days, by) =>
      `This is our final notice. The invoices below for ${who} are still unpaid; the oldest is now ${days} days overdue. Unless we receive the amount due by ${by}, we will hold further deliveries and may hand the debt over for collection.`,
  },
  demand: 'Amount due now',
  heads: {
    overdue: (asOf) => `Overdue invoices (as of ${asOf})`,
    disputed: 'Disputed invoices: under review, left out of the amount due',
    notDue: 'Not yet due, for your information',
    otherCurrency: 'Open invoices in another currency: not included in the amount due, not converted',
  },
  columns: ['Invoice', 'Issued', 'Due', 'Days overdue', 'Amount', 'Open'],
  notDueDays: 'not due',
  line: (i, days, amount, open) =>
    `- ${one(i.invoiceId)}: issued ${i.issueDate}, due ${i.dueDate}, ${i.daysPastDue > 0 ? `${days} days overdue` : 'not yet due'}; amount ${amount}, open ${open}`,
  partDisputed: (part, open, line) =>
    `Disputed${line ? `: ${line}` : ''}${open ? ` (${part} of the ${open} open)` : ''}`,
  partChased: (part) => `${part} of it is disputed and left out of the amount due (see below)`,
  totalOverdue: 'Total overdue',
  unapplied: 'Payments received not yet matched to an invoice, deducted',
  totalDisputed: 'Total disputed, not included',
  totalNotDue: 'Total not yet due',
  howToPay: 'How to pay',
  reference: (id) => `Please quote your customer number ${id} as the payment reference.`,
  noRemittance: 'Please pay to the bank account shown on our invoices.',
  portal: 'See your statement, tell us when you will pay, or dispute an invoice:',
  portalButton: 'View your statement',
  attached: (file) => `The attached statement (${file}) lists every open invoice.`,
  alreadyPaid:
    'If you have already paid, thank you, and please ignore this reminder; it helps us if you reply with the payment reference so we can match it.',
  closing: (creditor) => ['Kind regards,', creditor ? `Credit control, ${creditor}` : 'Credit control'],
  csv: {
    head: [
      'Customer',
      'Invoice',
      'Status',
      'Issue date',
      'Due date',
      'Days past due',
      'Currency',
      'Amount',
      'Open',
    ],
    status: { overdue: 'overdue', disputed: 'disputed', notDue: 'not due', otherCurrency: 'other currency' },
  },
  csvTotals: ['Total overdue', 'Unapplied cash (deducted)', 'Amount demanded'],
};

const ZH: Words = {
  subject: { friendly: '付款提醒', firm: '催款通知', final: '最后催款通知' },
  subjectLine: (label, creditor, amount, customer) =>
    `${creditor ? `【${creditor}】` : ''}${label}：逾期 ${amount} — ${customer}`,
  greeting: (name) => `尊敬的${name}：`,
  who: (name, id) => `${name}（客户编号 ${id}）`,
  colon: '：',
  intro: {
    friendly: (who) =>
      `根据我们的记录，${who}的以下发票已过付款期限，可能是一时疏忽。特此友情提醒，烦请尽快安排付款。`,
    firm: (who, days, by) =>
      `根据我们的记录，${who}的以下发票仍未付款，其中最早的一张已逾期 ${days} 天。请于 ${by} 前（${PAY_WITHIN_DAYS} 天内）付清应付金额。`,
    final: (who, days, by) =>
      `这是最后催款通知。${who}的以下发票仍未付款，其中最早的一张已逾期 ${days} 天。如我们在 ${by} 前仍未收到应付金额，我们将暂停向贵司供货，并可能将该欠款移交催收机构处理。`,
  },
  demand: '应付金额',
  heads: {
    overdue: (asOf) => `逾期发票（截至 ${asOf}）`,
    disputed: '争议中的发票：正在核查，不计入应付金额',
    notDue: '未到期发票，仅供参考',
    otherCurrency: '其他币种的未结发票：不计入应付金额，未作换算',
  },
  columns: ['发票号', '开票日期', '到期日', '逾期天数', '金额', '未付金额'],
  notDueDays: '未到期',
  line: (i, days, amount, open) =>
    `- 发票 ${one(i.invoiceId)}：开票日期 ${i.issueDate}，到期日 ${i.dueDate}，${i.daysPastDue > 0 ? `逾期 ${days} 天` : '未到期'}；金额 ${amount}，未付 ${open}`,
  partDisputed: (part, open, line) =>
    `争议${line ? `内容：${line}` : ''}${open ? `（未付 ${open} 中的 ${part}）` : ''}`,
  partChased: (part) => `其中 ${part} 有争议，不计入应付金额（见下文）`,
  totalOverdue: '逾期合计',
  unapplied: '已收到但尚未核销到发票的款项（已扣除）',
  totalDisputed: '争议金额合计（不计入）',
  totalNotDue: '未到期合计',
  howToPay: '付款方式',
  reference: (id) => `付款时请注明贵司客户编号 ${id} 作为付款参考。`,
  noRemittance: '请付款至我方发票上所列的银行账户。',
  portal: '查看对账单、告知付款日期或对发票提出异议：',
  portalButton: '查看对账单',
  attached: (file) => `附件对账单（${file}）列出了全部未结发票。`,
  alreadyPaid: '如您已付款，谢谢！请忽略本提醒；如方便，请回复告知付款参考号，以便我们核对入账。',
  closing: (creditor) => ['顺祝商祺！', creditor ? `${creditor} 信用管理部` : '信用管理部'],
  csv: {
    head: ['客户编号', '发票号', '状态', '开票日期', '到期日', '逾期天数', '币种', '金额', '未付金额'],
    status: { overdue: '逾期', disputed: '争议中', notDue: '未到期', otherCurrency: '其他币种' },
  },
  csvTotals: ['逾期合计', '未核销收款（已扣除）', '应付金额'],
};

const WORDS: Record<ReminderLanguage, Words> = { en: EN, zh: ZH };

/** The statement's words in a language: the customer portal shows the statement the email carries. */
export type StatementWords = Pick<
  Words,
  | 'colon'
  | 'demand'
  | 'heads'
  | 'columns'
  | 'notDueDays'
  | 'partDisputed'
  | 'partChased'
  | 'totalOverdue'
  | 'unapplied'
  | 'totalDisputed'
  | 'totalNotDue'
  | 'howToPay'
  | 'reference'
  | 'noRemittance'
  | 'closing'
>;
export const statementWords = (language: ReminderLanguage): StatementWords => WORDS[language];

// ---- the CSV statement ----

/**
 * A number cell. csvCell prefixes every cell starting with "-" (it cannot tell -5 from a formula
 * such as -2+3), which would make a negative amount text; a plain decimal is no formula, so its sign
 * goes in front of the escaped digits and a spreadsheet reads a number (receivables/list.ts's rule).
 */
const numberCell = (s: string) => (/^-\d+(\.\d+)?$/.test(s) ? `-${csvCell(s.slice(1))}` : csvCell(s));

/** `statement-<customer>-<asOf>.csv`, the customer id reduced to what any file system takes. */
function statementFilename(d: Dunning): string {
  const id = d.customerId.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 64) || 'customer';
  return `statement-${id}-${d.asOf}.csv`;
}

/**
 * The note under an item, if it has one: the part disputed of an invoice disputed in part and the
 * line its dispute names; on the rest of such an invoice, that the part is set apart.
 */
export function itemNote(w: Pick<Words, 'partDisputed' | 'partChased'>, i: DunningItem): string | undefined {
  const money = (n: number) => formatMoney(n, i.currency);
  if (i.disputed)
    return i.invoiceOpen !== undefined || i.line
      ? w.partDisputed(
          money(i.open),
          i.invoiceOpen !== undefined ? money(i.invoiceOpen) : undefined,
          i.line !== undefined ? one(i.line) : undefined,
        )
      : undefined;
  return i.invoiceOpen !== undefined ? w.partChased(money(i.invoiceOpen - i.open)) : undefined;
}

/**
 * The statement as CSV: a header row in the language, one row per open item (overdue, disputed,
 * not due, other currency) with its status, then the overdue total, the unapplied cash taken off
 * (negative, so the open column adds up) and the demand. An invoice disputed in part has two rows,
 * the part disputed and the rest overdue (or not due), their open amounts adding up to its own.
 * Amounts are plain decimals in the item's currency's own digits; every cell is formula-safe. CRLF
 * line ends and a BOM: Excel then reads the UTF-8 (Chinese labels, names) right.
 */
export function statementCsv(d: Dunning, language: ReminderLanguage): string {
  const w = WORDS[language].csv;
  const groups: [Status, readonly DunningItem[]][] = [
    ['overdue', d.overdue],
    ['disputed', d.disputed],
    ['notDue', d.notDue],
    ['otherCurrency', d.otherCurrency],
  ];
  const rows = groups.flatMap(([status, items]) =>
    items.map((i) => [
      csvCell(d.customerId),
      csvCell(i.invoiceId),
      csvCell(w.status[status]),
      csvCell(i.issueDate),
      csvCell(i.dueDate),
      numberCell(String(i.daysPastDue)),
      csvCell(i.currency),
      numberCell(formatMinor(i.amount, i.currency)),
      numberCell(formatMinor(i.open, i.currency)),
    ]),
  );
  const [overdue, unapplied, demand] = WORDS[language].csvTotals;
  const total = (label: string, minor: number) => [
    csvCell(d.customerId),
    '',
    csvCell(label),
    '',
    '',
    '',
    csvCell(d.currency),
    '',
    numberCell(formatMinor(minor, d.currency)),
  ];
  const lines = [
    w.head.map(csvCell),
    ...rows,
    total(overdue, d.totals.overdue),
    total(unapplied, d.totals.unappliedCash === 0 ? 0 : -d.totals.unappliedCash),
    total(demand, d.totals.demand),
  ];
  return `\uFEFF${lines.map((cells) => cells.join(',')).join('\r\n')}\r\n`;
}

// ---- the message ----

/** What the message says, in order; rendered once as text and once as HTML. Every string is plain text. */
type Block =
  | { readonly kind: 'p'; readonly text: string }
  | { readonly kind: 'demand'; readonly label: string; readonly amount: string }
  | { readonly kind: 'h'; readonly text: string }
  | {
      readonly kind: 'items';
      readonly rows: readonly (readonly string[])[];
      readonly lines: readonly string[];
      /** Per row: the note under it (a dispute on part of the invoice), if any. */
      readonly notes: readonly (string | undefined)[];
    }
  | { readonly kind: 'sums'; readonly rows: readonly (readonly [string, string])[] }
  | { readonly kind: 'lines'; readonly lines: readonly string[] }
  | { readonly kind: 'link'; readonly text: string; readonly url: string; readonly button: string };

/** Only a web link may become the call to action. */
function checkedUrl(url: string): string {
  if (!/^https?:\/\/[^\s"<>]+$/i.test(url)) throw new Error('the portal link must be an http(s) URL');
  return url;
}

function templateOf(d: Dunning): Template {
  const level = d.send;
  if (!level)
    throw new Error(
      `nothing to send to ${d.customerId} as of ${d.asOf}: the dunning has no level to send (${d.why})`,
    );
  if (!REMINDER_TEMPLATES.includes(level.template))
    throw new Error(
      `level "${level.name}" names the template "${level.template}", which the reminder email does not know: ${REMINDER_TEMPLATES.join(', ')}`,
    );
  return level.template as Template;
}

function blocksOf(input: ReminderInput, w: Words, template: Template, filename: string): Block[] {
  const d = input.dunning;
  const money = (n: number, ccy = d.currency) => formatMoney(n, ccy);
  const name = one(input.customer.name) || one(input.customer.customerId);
  const id = one(input.customer.customerId);
  const who = w.who(name, id);
  const items = (list: readonly DunningItem[]): Block => ({
    kind: 'items',
    rows: list.map((i) => [
      one(i.invoiceId),
      i.issueDate,
      i.dueDate,
      i.daysPastDue > 0 ? String(i.daysPastDue) : w.notDueDays,
      money(i.amount, i.currency),
      money(i.open, i.currency),
    ]),
    lines: list.map((i) =>
      w.line(i, String(i.daysPastDue), money(i.amount, i.currency), money(i.open, i.currency)),
    ),
    notes: list.map((i) => itemNote(w, i)),
  });
  const remittance = input.creditor.remittance.map(one).filter((l) => l !== '');
  const blocks: Block[] = [
    { kind: 'p', text: w.greeting(one(input.customer.contactName ?? '') || name) },
    { kind: 'p', text: w.intro[template](who, d.oldestDaysPastDue, addDays(d.asOf, PAY_WITHIN_DAYS)) },
    { kind: 'demand', label: w.demand, amount: money(d.totals.demand) },
    { kind: 'h', text: w.heads.overdue(d.asOf) },
    items(d.overdue),
    {
      kind: 'sums',
      rows: [
        [w.totalOverdue, money(d.totals.overdue)],
        ...(d.totals.unappliedCash > 0 ? [[w.unapplied, money(-d.totals.unappliedCash)] as const] : []),
        [w.demand, money(d.totals.demand)],
      ],
    },
  ];
  if (d.disputed.length > 0)
    blocks.push({ kind: 'h', text: w.heads.disputed }, items(d.disputed), {
      kind: 'sums',
      rows: [[w.totalDisputed, money(d.totals.disputed)]],
    });
  if (d.notDue.length > 0)
    blocks.push({ kind: 'h', text: w.heads.notDue }, items(d.notDue), {
      kind: 'sums',
      rows: [[w.totalNotDue, money(d.totals.notDue)]],
    });
  // Listed in their own currency, never added up with the rest nor converted.
  if (d.otherCurrency.length > 0)
    blocks.push({ kind: 'h', text: w.heads.otherCurrency }, items(d.otherCurrency));
  blocks.push(
    { kind: 'h', text: w.howToPay },
    { kind: 'lines', lines: remittance.length > 0 ? remittance : [w.noRemittance] },
    { kind: 'p', text: w.reference(id) },
  );
  if (input.portalUrl !== undefined)
    blocks.push({ kind: 'link', text: w.portal, url: checkedUrl(input.portalUrl), button: w.portalButton });
  blocks.push(
    { kind: 'p', text: w.attached(filename) },
    { kind: 'p', text: w.alreadyPaid },
    { kind: 'lines', lines: w.closing(one(input.creditor.name)) },
  );
  return blocks;
}

function renderText(blocks: readonly Block[], w: Words): string {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.kind === 'p') out.push(b.text, '');
    else if (b.kind === 'demand') out.push(`${b.label}${w.colon}${b.amount}`, '');
    else if (b.kind === 'h') out.push(b.text);
    else if (b.kind === 'items')
      out.push(...b.lines.flatMap((l, n) => [l, ...(b.notes[n] ? [`  ${b.notes[n]}`] : [])]), '');
    else if (b.kind === 'sums') out.push(...b.rows.map(([l, v]) => `${l}${w.colon}${v}`), '');
    else if (b.kind === 'lines') out.push(...b.lines, '');
    else out.push(b.text, b.url, '');
  }
  return out.join('\n');
}

/**
 * Inline styles only (mail clients drop style sheets). Nothing has a fixed width: the tables take
 * the width there is and wrap, so a 390 px phone never scrolls sideways. Where a cell may break is
 * chosen: an invoice id anywhere, a date after its year, an amount only before its currency code
 * (a number cut in two is misread), a heading between words.
 */
const CELL = 'padding:4px;border-bottom:1px solid #e2e5ea;vertical-align:top';
const S = {
  body: "margin:0;padding:16px;background:#ffffff;color:#1d2430;font:14px/1.5 Arial,Helvetica,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;word-wrap:break-word;overflow-wrap:break-word",
  wrap: 'max-width:640px;margin:0 auto',
  p: 'margin:8px 0',
  demand: 'margin:12px 0;padding:10px 12px;background:#fdf3e7;border-left:4px solid #c46a0c;font-size:16px',
  h: 'margin:18px 0 6px;font-size:15px',
  table: 'width:100%;border-collapse:collapse;margin:4px 0 8px;font-size:12px',
  th: `${CELL};background:#f4f5f7;text-align:left;vertical-align:bottom`,
  thNum: `${CELL};background:#f4f5f7;text-align:right;vertical-align:bottom`,
  id: `${CELL};text-align:left;overflow-wrap:anywhere;word-break:break-word`,
  td: `${CELL};text-align:left`,
  num: `${CELL};text-align:right`,
  nowrap: 'white-space:nowrap',
  note: `${CELL};text-align:left;color:#5a6372;font-style:italic`,
  sumLabel: 'padding:2px 4px;text-align:left',
  sumValue: 'padding:2px 4px;text-align:right;white-space:nowrap',
  button:
    'display:inline-block;padding:10px 18px;background:#1f5fbf;color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold',
} as const;

/** A date that may break after its year: `2026-<wbr>03-01`. */
const dateHtml = (v: string) => escapeHtml(v).replace(/^(\d{4}-)/, '$1<wbr>');
/** `formatMoney`'s text with the number kept on one line: `<span nowrap>1,234.56</span> EUR`. */
const moneyHtml = (v: string) => {
  const at = v.lastIndexOf(' ');
  return at < 0
    ? `<span style="${S.nowrap}">${escapeHtml(v)}</span>`
    : `<span style="${S.nowrap}">${escapeHtml(v.slice(0, at))}</span> ${escapeHtml(v.slice(at + 1))}`;
};

function renderHtml(blocks: readonly Block[], w: Words, lang: string, subject: string): string {
  const e = escapeHtml;
  const body = blocks.map((b) => {
    switch (b.kind) {
      case 'p':
        return `<p style="${S.p}">${e(b.text)}</p>`;
      case 'demand':
        return `<p style="${S.demand}">${e(b.label)}${w.colon}<strong>${e(b.amount)}</strong></p>`;
      case 'h':
        return `<h2 style="${S.h}">${e(b.text)}</h2>`;
      case 'items': {
        // Invoice, issued, due, days, amount, open: days and money right-aligned.
        const cell = (v: string, c: number) =>
          c === 0
            ? `<td style="${S.id}">${e(v)}</td>`
            : c <= 2
              ? `<td style="${S.td}">${dateHtml(v)}</td>`
              : `<td style="${S.num}">${c === 3 ? e(v) : moneyHtml(v)}</td>`;
        // A note goes on a row of its own under its item, across the table.
        const note = (n: number) => {
          const t = b.notes[n];
          return t ? `\n<tr><td colspan="${w.columns.length}" style="${S.note}">${e(t)}</td></tr>` : '';
        };
        return [
          `<table style="${S.table}">`,
          `<tr>${w.columns.map((h, c) => `<th style="${c >= 3 ? S.thNum : S.th}">${e(h)}</th>`).join('')}</tr>`,
          ...b.rows.map((r, n) => `<tr>${r.map(cell).join('')}</tr>${note(n)}`),
          '</table>',
        ].join('\n');
      }
      case 'sums':
        return [
          `<table style="${S.table}">`,
          ...b.rows.map(
            ([l, v], n) =>
              `<tr${n === b.rows.length - 1 && b.rows.length > 1 ? ' style="font-weight:bold"' : ''}><td style="${S.sumLabel}">${e(l)}</td><td style="${S.sumValue}">${e(v)}</td></tr>`,
          ),
          '</table>',
        ].join('\n');
      case 'lines':
        return `<p style="${S.p}">${b.lines.map(e).join('<br>')}</p>`;
      default: // the link
        return `<p style="${S.p}">${e(b.text)}</p>\n<p style="margin:12px 0 16px"><a href="${e(b.url)}" style="${S.button}">${e(b.button)}</a></p>`;
    }
  });
  return [
    '<!doctype html>',
    `<html lang="${lang}">`,
    `<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${e(subject)}</title></head>`,
    `<body style="${S.body}">`,
    `<div style="${S.wrap}">`,
    ...body,
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The reminder of the level the dunning sends: subject, text, HTML and the CSV statement. */
export function reminderEmail(input: ReminderInput): ReminderEmail {
  const d = input.dunning;
  const template = templateOf(d);
  const language = input.customer.language ?? 'en';
  if (!REMINDER_LANGUAGES.includes(language))
    throw new Error(`reminders are written in ${REMINDER_LANGUAGES.join(' or ')}, not "${language}"`);
  const w = WORDS[language];
  const filename = statementFilename(d);
  const name = one(input.customer.name) || one(input.customer.customerId);
  const subjectChars = Array.from(
    w
      .subjectLine(
        w.subject[template],
        one(input.creditor.name),
        formatMoney(d.totals.demand, d.currency),
        name,
      )
      .replace(/\s+/g, ' '),
  );
  const subject =
    subjectChars.length <= SUBJECT_MAX
      ? subjectChars.join('')
      : `${subjectChars.slice(0, SUBJECT_MAX - 1).join('')}…`;
  const blocks = blocksOf(input, w, template, filename);
  return {
    subject,
    text: renderText(blocks, w),
    html: renderHtml(blocks, w, language === 'zh' ? 'zh-CN' : 'en', subject),
    attachment: { filename, contentType: 'text/csv; charset=utf-8', content: statementCsv(d, language) },
  };
}
