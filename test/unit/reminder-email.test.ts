import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { type Contact, type Dunning, dunningAsOf } from '../../functions/collections/dunning.ts';
import {
  REMINDER_LANGUAGES,
  REMINDER_TEMPLATES,
  type ReminderInput,
  reminderEmail,
  statementCsv,
} from '../../functions/collections/reminder.ts';
import type { IsoDate } from '../../functions/core/dates.ts';
import { toEml } from '../../functions/core/eml.ts';
import { type CustomerBooks, statementAsOf } from '../../functions/core/receivables.ts';
import type { Invoice, Payment } from '../../functions/core/records.ts';
import { type CollectionsPolicy, parsePolicy } from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * The payment reminder worked out by hand, on the default plan (friendly at 3 days past due, firm
 * at 15, final at 30; 7 days between two messages) and the book of test/unit/dunning.test.ts:
 * A 1,000.00 due 2026-03-01, B 500.00 due 03-20, C 200.00 due 04-15, D 300.00 due 02-01 disputed,
 * 150.00 received on 03-30 for an invoice we do not know (unapplied); plus U 99.50 USD due 03-01.
 * Each message is read back from its `.eml` by mailparser, as a mail client would.
 */
const parsed = parsePolicy(DEFAULT_POLICY_DOCUMENT);
if (!parsed.ok) throw new Error('the default policy is invalid');
const plan = parsed.policy.collections as CollectionsPolicy;

const inv = (
  invoiceId: string,
  dueDate: IsoDate,
  cents: number,
  disputed = false,
  currency = 'EUR',
): Invoice => ({
  customerId: 'C1',
  invoiceId,
  issueDate: '2026-01-02',
  dueDate,
  amount: cents,
  currency,
  disputed,
});
const pay = (paymentId: string, receivedDate: IsoDate, cents: number, invoiceIds: string[]): Payment => ({
  customerId: 'C1',
  paymentId,
  receivedDate,
  amount: cents,
  currency: 'EUR',
  invoiceIds,
});
const books = (invoices: Invoice[], payments: Payment[] = []): CustomerBooks => ({
  customerId: 'C1',
  currency: 'EUR',
  invoices,
  payments,
});
const dun = (b: CustomerBooks, asOf: IsoDate, contacts: Contact[] = [], customerId = 'C1') =>
  dunningAsOf(customerId, statementAsOf(b, asOf), plan, { contacts });

const INVOICES = [
  inv('A', '2026-03-01', 100_000),
  inv('B', '2026-03-20', 50_000),
  inv('C', '2026-04-15', 20_000),
  inv('D', '2026-02-01', 30_000, true),
  inv('U', '2026-03-01', 9_950, false, 'USD'),
];
const BOOK = books(INVOICES, [pay('P1', '2026-03-30', 15_000, ['X-404'])]);
const CREDITOR = {
  name: 'Northwind Supplies Ltd',
  remittance: ['Bank: Example Bank AG', 'IBAN: DE89 3704 0044 0532 0130 00', 'BIC: COBADEFFXXX'],
};

const input = (dunning: Dunning, over: Partial<ReminderInput['customer']> = {}): ReminderInput => ({
  dunning,
  customer: { customerId: dunning.customerId, name: 'Acme GmbH', contactName: 'Maria Schmidt', ...over },
  creditor: CREDITOR,
  portalUrl: 'https://portal.example.com/s/abc?c=C1&d=2026-03-31',
});

/** The message as its recipient's mail client reads it. */
async function received(i: ReminderInput) {
  const m = reminderEmail(i);
  const eml = toEml({
    from: 'Northwind credit control <ar@northwind.example>',
    to: 'Maria Schmidt <maria@acme.example>',
    subject: m.subject,
    text: m.text,
    html: m.html,
    date: new Date('2026-03-31T07:00:00Z'),
    messageId: `dun.${i.dunning.customerId}.${i.dunning.asOf}@northwind.example`,
    attachments: [m.attachment],
  });
  const p = await simpleParser(eml);
  const file = p.attachments[0];
  if (!file || p.attachments.length !== 1) throw new Error('expected exactly one attachment');
  return { m, subject: p.subject, text: p.text ?? '', html: p.html || '', file };
}

/** RFC 4180 rows (quoted cells may hold commas, quotes and line breaks); the BOM removed. */
function csvRows(csv: string): string[][] {
  const s = csv.replace(/^\uFEFF/, '');
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && s[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) throw new Error('the CSV does not end with CRLF');
  return rows;
}

/** A plain decimal cell in cents, read as text (no float): `-150.00` -> -15000. */
const cents = (cell: string) => {
  if (!/^-?\d+\.\d{2}$/.test(cell)) throw new Error(`not a plain decimal: ${cell}`);
  return Number(cell.replace('.', ''));
};

describe('the final notice in English, worked out by hand', () => {
  const d = dun(BOOK, '2026-03-31');

  it('is the level the dunning sends, with the figures of the dunning', () => {
    expect(d.send?.template).toBe('final');
    // 1,500.00 overdue (A and B) less 150.00 unapplied: 1,350.00; the disputed 300.00 is not asked for.
    expect(d.totals).toEqual({
      overdue: 150_000,
      disputed: 30_000,
      notDue: 20_000,
      unappliedCash: 15_000,
      demand: 135_000,
    });
  });

  it('subject: the tone, the creditor, the amount demanded and the customer', async () => {
    const r = await received(input(d));
    expect(r.subject).toBe('Final notice from Northwind Supplies Ltd: 1,350.00 EUR overdue — Acme GmbH');
  });

  it('the text: greeting, demand, every section, how to pay, the portal and the "already paid" line', async () => {
    const r = await received(input(d));
    expect(r.text).toBe(
      [
        'Dear Maria Schmidt,',
        '',
        'This is our final notice. The invoices below for Acme GmbH (customer number C1) are still unpaid; the oldest is now 30 days overdue. Unless we receive the amount due by 2026-04-07, we will hold further deliveries and may hand the debt over for collection.',
        '',
        'Amount due now: 1,350.00 EUR',
        '',
        'Overdue invoices (as of 2026-03-31)',
        '- A: issued 2026-01-02, due 2026-03-01, 30 days overdue; amount 1,000.00 EUR, open 1,000.00 EUR',
        '- B: issued 2026-01-02, due 2026-03-20, 11 days overdue; amount 500.00 EUR, open 500.00 EUR',
        '',
        'Total overdue: 1,500.00 EUR',
        'Payments received not yet matched to an invoice, deducted: -150.00 EUR',
        'Amount due now: 1,350.00 EUR',
        '',
        'Disputed invoices: under review, left out of the amount due',
        '- D: issued 2026-01-02, due 2026-02-01, 58 days overdue; amount 300.00 EUR, open 300.00 EUR',
        '',
        'Total disputed, not included: 300.00 EUR',
        '',
        'Not yet due, for your information',
        '- C: issued 2026-01-02, due 2026-04-15, not yet due; amount 200.00 EUR, open 200.00 EUR',
        '',
        'Total not yet due: 200.00 EUR',
        '',
        'Open invoices in another currency: not included in the amount due, not converted',
        '- U: issued 2026-01-02, due 2026-03-01, 30 days overdue; amount 99.50 USD, open 99.50 USD',
        '',
        'How to pay',
        'Bank: Example Bank AG',
        'IBAN: DE89 3704 0044 0532 0130 00',
        'BIC: COBADEFFXXX',
        '',
        'Please quote your customer number C1 as the payment reference.',
        '',
        'See your statement, tell us when you will pay, or dispute an invoice:',
        'https://portal.example.com/s/abc?c=C1&d=2026-03-31',
        '',
        'The attached statement (statement-C1-2026-03-31.csv) lists every open invoice.',
        '',
        'If you have already paid, thank you, and please ignore this reminder; it helps us if you reply with the payment reference so we can match it.',
        '',
        'Kind regards,',
        'Credit control, Northwind Supplies Ltd',
        '',
      ].join('\n'),
    );
  });

  it('the HTML: the same content, the demand emphasised, the link escaped, inline styles only', async () => {
    const r = await received(input(d));
    expect(r.html).toBe(r.m.html);
    expect(r.html).toContain('<html lang="en">');
    expect(r.html).toContain('Amount due now: <strong>1,350.00 EUR</strong>');
    expect(r.html).toContain('>Payments received not yet matched to an invoice, deducted</td>');
    // Amounts never break inside the number; a date may after its year.
    expect(r.html).toContain('<span style="white-space:nowrap">1,000.00</span> EUR</td>');
    expect(r.html).toContain('>2026-<wbr>03-01</td>');
    expect(r.html).toContain('<a href="https://portal.example.com/s/abc?c=C1&amp;d=2026-03-31"');
    // The disputed item is in its own table, after the heading saying it is left out.
    const disputed = r.html.indexOf('Disputed invoices: under review, left out of the amount due');
    expect(disputed).toBeGreaterThan(r.html.indexOf('1,350.00 EUR'));
    expect(r.html.indexOf('>D</td>')).toBeGreaterThan(disputed);
    expect(r.html).not.toMatch(/<style|<link|<script|class=/);
    // No width fixed in pixels anywhere: only max-width on the wrapper and 100% on the tables.
    expect(r.html.match(/(?<![-\w])width:[^;"]+/g)).toEqual(expect.arrayContaining(['width:100%']));
    expect(r.html).not.toMatch(/(?<![-\w])width:\s*\d+px/);
  });

  it('the CSV statement: header, one row per item, the totals; exact text, BOM and CRLF', async () => {
    const r = await received(input(d));
    expect(r.file.filename).toBe('statement-C1-2026-03-31.csv');
    expect(r.file.contentType).toBe('text/csv');
    const csv = r.file.content.toString('utf8');
    expect(r.file.content.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(csv).toBe(
      '\uFEFFCustomer,Invoice,Status,Issue date,Due date,Days past due,Currency,Amount,Open\r\n' +
        'C1,A,overdue,2026-01-02,2026-03-01,30,EUR,1000.00,1000.00\r\n' +
        'C1,B,overdue,2026-01-02,2026-03-20,11,EUR,500.00,500.00\r\n' +
        'C1,D,disputed,2026-01-02,2026-02-01,58,EUR,300.00,300.00\r\n' +
        // Not due for 15 more days; a negative number stays a number (no apostrophe).
        'C1,C,not due,2026-01-02,2026-04-15,-15,EUR,200.00,200.00\r\n' +
        'C1,U,other currency,2026-01-02,2026-03-01,30,USD,99.50,99.50\r\n' +
        'C1,,Total overdue,,,,EUR,,1500.00\r\n' +
        'C1,,Unapplied cash (deducted),,,,EUR,,-150.00\r\n' +
        'C1,,Amount demanded,,,,EUR,,1350.00\r\n',
    );
    expect(csv).toBe(statementCsv(d, 'en'));
  });

  it('the CSV totals reconcile with the dunning: overdue rows add up, less the cash, to the demand', async () => {
    const rows = csvRows((await received(input(d))).file.content.toString('utf8'));
    const [head, ...rest] = rows;
    expect(head).toHaveLength(9);
    for (const r of rest) expect(r).toHaveLength(9);
    const items = rest.filter((r) => r[1] !== '');
    // One row per item of the dunning, none lost or doubled.
    expect(items.map((r) => r[1])).toEqual(['A', 'B', 'D', 'C', 'U']);
    const open = (status: string) =>
      items.filter((r) => r[2] === status).reduce((n, r) => n + cents(r[8] as string), 0);
    const total = (label: string) => cents(rest.find((r) => r[2] === label)?.[8] as string);
    expect(open('overdue')).toBe(150_000);
    expect(total('Total overdue')).toBe(150_000);
    expect(total('Unapplied cash (deducted)')).toBe(-15_000);
    expect(total('Amount demanded')).toBe(135_000);
    expect(total('Total overdue') + total('Unapplied cash (deducted)')).toBe(total('Amount demanded'));
    expect(open('disputed')).toBe(d.totals.disputed);
    expect(open('not due')).toBe(d.totals.notDue);
    expect(total('Amount demanded')).toBe(d.totals.demand);
  });
});

describe('the tone follows the template', () => {
  it('friendly: "may have been overlooked", no deadline, nothing unapplied yet', async () => {
    // 2026-03-05: A is 4 days past due; B and C not due; the 150.00 arrives later.
    const d = dun(BOOK, '2026-03-05');
    expect(d.send?.template).toBe('friendly');
    const r = await received(input(d));
    expect(r.subject).toBe('Payment reminder from Northwind Supplies Ltd: 1,000.00 EUR overdue — Acme GmbH');
    expect(r.text).toContain(
      'This may have been overlooked, so this is a friendly reminder: we would be grateful if you could arrange payment soon.',
    );
    expect(r.text).not.toMatch(/within 7 days|final notice|deliveries/i);
    expect(r.text).toContain('Amount due now: 1,000.00 EUR');
    // No unapplied cash: no line for it.
    expect(r.text).not.toContain('not yet matched');
    expect(r.text).toContain(
      '- B: issued 2026-01-02, due 2026-03-20, not yet due; amount 500.00 EUR, open 500.00 EUR',
    );
  });

  it('firm: "now N days overdue, please pay within 7 days", by the date', async () => {
    // 2026-03-17, friendly sent on 03-04: A is 16 days past due.
    const d = dun(BOOK, '2026-03-17', [{ level: 'friendly', on: '2026-03-04' }]);
    expect(d.send?.template).toBe('firm');
    const r = await received(input(d));
    expect(r.subject).toBe(
      'Urgent payment reminder from Northwind Supplies Ltd: 1,000.00 EUR overdue — Acme GmbH',
    );
    expect(r.text).toContain(
      'the oldest is now 16 days overdue. Please pay the amount due within 7 days, by 2026-03-24.',
    );
  });
});

describe('in Chinese', () => {
  it('the final notice: natural Chinese, ISO dates, the same figures', async () => {
    const d = dun(BOOK, '2026-03-31');
    const r = await received(input(d, { name: '上海贸易有限公司', contactName: '张伟', language: 'zh' }));
    expect(r.subject).toBe('【Northwind Supplies Ltd】最后催款通知：逾期 1,350.00 EUR — 上海贸易有限公司');
    const lines = r.text.split('\n');
    expect(lines[0]).toBe('尊敬的张伟：');
    expect(r.text).toContain(
      '这是最后催款通知。上海贸易有限公司（客户编号 C1）的以下发票仍未付款，其中最早的一张已逾期 30 天。如我们在 2026-04-07 前仍未收到应付金额，我们将暂停向贵司供货，并可能将该欠款移交催收机构处理。',
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        '应付金额：1,350.00 EUR',
        '逾期发票（截至 2026-03-31）',
        '- 发票 A：开票日期 2026-01-02，到期日 2026-03-01，逾期 30 天；金额 1,000.00 EUR，未付 1,000.00 EUR',
        '逾期合计：1,500.00 EUR',
        '已收到但尚未核销到发票的款项（已扣除）：-150.00 EUR',
        '争议中的发票：正在核查，不计入应付金额',
        '- 发票 D：开票日期 2026-01-02，到期日 2026-02-01，逾期 58 天；金额 300.00 EUR，未付 300.00 EUR',
        '未到期发票，仅供参考',
        '- 发票 C：开票日期 2026-01-02，到期日 2026-04-15，未到期；金额 200.00 EUR，未付 200.00 EUR',
        '其他币种的未结发票：不计入应付金额，未作换算',
        '付款方式',
        '付款时请注明贵司客户编号 C1 作为付款参考。',
        '如您已付款，谢谢！请忽略本提醒；如方便，请回复告知付款参考号，以便我们核对入账。',
      ]),
    );
    expect(r.html).toContain('<html lang="zh-CN">');
    expect(r.html).toContain('应付金额：<strong>1,350.00 EUR</strong>');
    expect(r.html).toContain('>发票号</th><th style="');
    // The statement's labels in Chinese, the figures as in English.
    expect(csvRows(r.file.content.toString('utf8'))).toEqual([
      ['客户编号', '发票号', '状态', '开票日期', '到期日', '逾期天数', '币种', '金额', '未付金额'],
      ['C1', 'A', '逾期', '2026-01-02', '2026-03-01', '30', 'EUR', '1000.00', '1000.00'],
      ['C1', 'B', '逾期', '2026-01-02', '2026-03-20', '11', 'EUR', '500.00', '500.00'],
      ['C1', 'D', '争议中', '2026-01-02', '2026-02-01', '58', 'EUR', '300.00', '300.00'],
      ['C1', 'C', '未到期', '2026-01-02', '2026-04-15', '-15', 'EUR', '200.00', '200.00'],
      ['C1', 'U', '其他币种', '2026-01-02', '2026-03-01', '30', 'USD', '99.50', '99.50'],
      ['C1', '', '逾期合计', '', '', '', 'EUR', '', '1500.00'],
      ['C1', '', '未核销收款（已扣除）', '', '', '', 'EUR', '', '-150.00'],
      ['C1', '', '应付金额', '', '', '', 'EUR', '', '1350.00'],
    ]);
  });

  it('the friendly and firm reminders: 付款提醒, and 请于...前 with the date', async () => {
    const friendly = await received(
      input(dun(BOOK, '2026-03-05'), { name: '上海贸易有限公司', contactName: undefined, language: 'zh' }),
    );
    expect(friendly.subject).toBe('【Northwind Supplies Ltd】付款提醒：逾期 1,000.00 EUR — 上海贸易有限公司');
    // No contact on file: the company is greeted.
    expect(friendly.text.split('\n')[0]).toBe('尊敬的上海贸易有限公司：');
    expect(friendly.text).toContain('可能是一时疏忽。特此友情提醒，烦请尽快安排付款。');
    const firm = await received(
      input(dun(BOOK, '2026-03-17', [{ level: 'friendly', on: '2026-03-04' }]), { language: 'zh' }),
    );
    expect(firm.subject).toBe('【Northwind Supplies Ltd】催款通知：逾期 1,000.00 EUR — Acme GmbH');
    expect(firm.text).toContain('其中最早的一张已逾期 16 天。请于 2026-03-24 前（7 天内）付清应付金额。');
  });
});

describe('data typed by others stays data', () => {
  const EVIL = '<script>alert(1)</script>';
  const HYPER = '=HYPERLINK("http://evil.example","pay here")';

  it('a customer name with markup is escaped in the HTML, kept as text elsewhere', async () => {
    const d = dun(BOOK, '2026-03-31');
    const r = await received(input(d, { name: EVIL, contactName: `${EVIL}\r\nBcc: x@evil.example` }));
    expect(r.html).not.toContain('<script>');
    expect(r.html).toContain('Dear &lt;script&gt;alert(1)&lt;/script&gt; Bcc: x@evil.example,');
    expect(r.html).toContain(
      '<title>Final notice from Northwind Supplies Ltd: 1,350.00 EUR overdue — &lt;script&gt;',
    );
    // The line break is gone from the text part and the subject.
    expect(r.text.split('\n')[0]).toBe(`Dear ${EVIL} Bcc: x@evil.example,`);
    expect(r.subject).toBe(`Final notice from Northwind Supplies Ltd: 1,350.00 EUR overdue — ${EVIL}`);
  });

  it('formula-like invoice ids and customer ids are prefixed in the CSV; amounts stay numbers', async () => {
    const evil = books(
      [
        inv(HYPER, '2026-03-01', 100_000),
        inv('+1', '2026-03-10', 5_000),
        inv('@SUM(A1)', '2026-03-11', 7_000, true),
        inv('-2+3', '2026-04-30', 1_000),
      ],
      [],
    );
    const d = dun(evil, '2026-03-31', [], '=cmd|"/c calc"!A0');
    const r = await received(input(d));
    // The customer id made safe for a file name.
    expect(r.file.filename).toBe('statement-_cmd_c_calc_A0-2026-03-31.csv');
    const csv = r.file.content.toString('utf8');
    expect(csv.split('\r\n').slice(1, 5)).toEqual([
      `"'=cmd|""/c calc""!A0","'=HYPERLINK(""http://evil.example"",""pay here"")",overdue,2026-01-02,2026-03-01,30,EUR,1000.00,1000.00`,
      `"'=cmd|""/c calc""!A0",'+1,overdue,2026-01-02,2026-03-10,21,EUR,50.00,50.00`,
      `"'=cmd|""/c calc""!A0",'@SUM(A1),disputed,2026-01-02,2026-03-11,20,EUR,70.00,70.00`,
      `"'=cmd|""/c calc""!A0",'-2+3,not due,2026-01-02,2026-04-30,-30,EUR,10.00,10.00`,
    ]);
    // Every text cell that starts a formula carries the apostrophe; every number cell is a plain number.
    for (const row of csvRows(csv).slice(1)) {
      for (const cell of row) if (/^[=+@\t\r]/.test(cell)) throw new Error(`unsafe cell ${cell}`);
      for (const cell of [row[5], row[7], row[8]]) expect(cell).toMatch(/^(-?\d+(\.\d+)?)?$/);
    }
    // In the HTML the id is text.
    expect(r.html).toContain('>=HYPERLINK(&quot;http://evil.example&quot;,&quot;pay here&quot;)</td>');
  });

  it('no remittance lines: pay to the account on the invoices; a bad portal link is refused', () => {
    const d = dun(BOOK, '2026-03-31');
    const m = reminderEmail({ ...input(d), creditor: { name: '', remittance: [] }, portalUrl: undefined });
    expect(m.text).toContain('How to pay\nPlease pay to the bank account shown on our invoices.\n');
    expect(m.text).not.toContain('See your statement');
    expect(m.subject).toBe('Final notice: 1,350.00 EUR overdue — Acme GmbH');
    expect(() => reminderEmail({ ...input(d), portalUrl: 'javascript:alert(1)' })).toThrow(
      'the portal link must be an http(s) URL',
    );
  });
});

describe('what cannot be sent', () => {
  it('a dunning with nothing to send, or a template the renderer does not know, is an error', () => {
    const none = dun(BOOK, '2026-03-02');
    expect(none.send).toBeUndefined();
    expect(() => reminderEmail(input(none))).toThrow(/nothing to send to C1 as of 2026-03-02/);
    const d = dun(BOOK, '2026-03-31');
    const hold = { ...d, send: { ...(d.send as NonNullable<Dunning['send']>), template: 'hold' } };
    expect(() => reminderEmail(input(hold))).toThrow(
      'level "final" names the template "hold", which the reminder email does not know: friendly, firm, final',
    );
  });

  it('names its languages and templates', () => {
    expect(REMINDER_LANGUAGES).toEqual(['en', 'zh']);
    expect(REMINDER_TEMPLATES).toEqual(['friendly', 'firm', 'final']);
  });
});
