import { describe, expect, it } from 'vitest';
import {
  checkDispute,
  type Dispute,
  disputedOn,
  disputedWords,
} from '../../functions/collections/disputes.ts';
import { dunningAsOf } from '../../functions/collections/dunning.ts';
import { reminderEmail, statementCsv } from '../../functions/collections/reminder.ts';
import type { IsoDate } from '../../functions/core/dates.ts';
import {
  type CustomerBooks,
  disputedOpen,
  statementAsOf,
  undisputedDso,
  withDisputes,
} from '../../functions/core/receivables.ts';
import type { Invoice, Payment } from '../../functions/core/records.ts';
import { type CollectionsPolicy, parsePolicy } from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * A dispute on a line of an invoice (issue 17 item 5; README "Collections"), worked out by hand on
 * the default plan (friendly at 3 days past due). L: 1,200.00 EUR issued 2026-02-20, due
 * 2026-03-22, 9 days past due on 2026-03-31; the customer contests one line of it, "2 pallets
 * damaged", 340.00 EUR, from 2026-03-31:
 *
 *   demanded    1,200.00 - 340.00 = 860.00 (friendly, the rest of L 9 days past due)
 *   disputed    340.00, shown and left out
 *   DSO         1,200.00 open / 1,200.00 sales x 90 = 90.0; undisputed (1,200.00 - 340.00) / 1,200.00 x 90 = 64.5
 *
 * A payment of 1,000.00 for L on 2026-04-05 leaves 200.00 open, less than the part: on 2026-04-06
 * all 200.00 is disputed, nothing is demanded, undisputed DSO is 0.
 */
const parsed = parsePolicy(DEFAULT_POLICY_DOCUMENT);
if (!parsed.ok) throw new Error('the default policy is invalid');
const plan = parsed.policy.collections as CollectionsPolicy;

const inv = (invoiceId: string, cents: number, over: Partial<Invoice> = {}): Invoice => ({
  customerId: 'C1',
  invoiceId,
  issueDate: '2026-02-20',
  dueDate: '2026-03-22',
  amount: cents,
  currency: 'EUR',
  disputed: false,
  ...over,
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

const DAY = '2026-03-31';
const at = { today: DAY, now: `${DAY}T09:00:00.000Z` };
const req = {
  customerId: 'C1',
  invoiceId: 'L',
  reason: 'goods damaged in transit',
  owner: 'sales-tom',
  answerBy: '2026-04-15',
  openedBy: 'anna',
};
const L = { invoiceId: 'L', currency: 'EUR', open: 120_000 };

/** The dispute on L's line, as openDispute records it. */
const lineDispute = (() => {
  const c = checkDispute({ ...req, amount: '340.00', line: '2 pallets damaged' }, at, L);
  if (!c.ok) throw new Error('expected the dispute to pass');
  return c.dispute;
})();

const BOOK = books([inv('L', 120_000)]);
const PAID_1000 = books([inv('L', 120_000)], [pay('P1', '2026-04-05', 100_000, ['L'])]);
const statementOf = (b: CustomerBooks, asOf: IsoDate, disputes: readonly Dispute[] = [lineDispute]) =>
  withDisputes(statementAsOf(b, asOf), disputedOn(disputes, asOf));
const dun = (b: CustomerBooks, asOf: IsoDate, disputes?: readonly Dispute[]) =>
  dunningAsOf('C1', statementOf(b, asOf, disputes), plan);

describe('checking a dispute on part of an invoice', () => {
  it('takes the part in the invoice currency and the line; without them it is the whole invoice, as before', () => {
    expect(lineDispute).toMatchObject({
      invoiceId: 'L',
      amount: 34_000,
      currency: 'EUR',
      line: '2 pallets damaged',
      openedOn: DAY,
    });
    expect(disputedWords(lineDispute)).toBe('340.00 EUR of it (line: 2 pallets damaged)');
    const whole = checkDispute(req, at, L);
    expect(whole.ok && whole.dispute).not.toHaveProperty('amount');
    expect(whole.ok && whole.dispute).not.toHaveProperty('line');
    expect(whole.ok && disputedWords(whole.dispute)).toBe('the whole invoice');
    // Another part is another dispute (two people contesting two amounts of one invoice at once
    // make one); the whole invoice's id is what it was before parts were.
    expect(whole.ok && whole.dispute.disputeId).not.toBe(lineDispute.disputeId);
    const again = checkDispute({ ...req, amount: '1,200.00', line: ' ' }, at, L);
    expect(again.ok && again.dispute).toMatchObject({ amount: 120_000, currency: 'EUR' });
    expect(again.ok && again.dispute).not.toHaveProperty('line');
  });

  it('refuses an amount that is not positive, has too many decimals or is more than is open, and a long line', () => {
    const issues = (over: Partial<typeof req & { amount: string; line: string }>, invoice = L) => {
      const c = checkDispute({ ...req, ...over }, at, invoice);
      return c.ok ? [] : c.issues.map((i) => `${i.field}: ${i.message}`);
    };
    expect(issues({ amount: '1,200.01', line: 'x'.repeat(201) })).toEqual([
      'amount: is more than the 1,200.00 EUR open on L on 2026-03-31',
      'line: is longer than 200 characters',
    ]);
    expect(issues({ amount: '0' })).toEqual(['amount: must be more than zero']);
    expect(issues({ amount: '-5.00' })).toEqual(['amount: must be more than zero']);
    expect(issues({ amount: '340.005' })[0]).toMatch(/^amount: .*\(EUR\)$/);
    expect(issues({ amount: 'three hundred' })[0]).toMatch(/^amount: .*\(EUR\)$/);
    // The currency's own decimals: JPY has none.
    expect(issues({ amount: '340.5' }, { invoiceId: 'J', currency: 'JPY', open: 100_000 })[0]).toMatch(
      /^amount: .*\(JPY\)$/,
    );
    expect(issues({ amount: '340' }, { invoiceId: 'J', currency: 'JPY', open: 100_000 })).toEqual([]);
    // A line of 200 characters is taken; an amount cannot be read without the invoice.
    expect(issues({ line: 'x'.repeat(200) })).toEqual([]);
    const none = checkDispute({ ...req, amount: '340.00' }, at);
    expect(none.ok ? [] : none.issues).toEqual([
      { field: 'amount', message: 'cannot be read without the invoice on file' },
    ]);
  });
});

describe('the decision with a dispute on a line, worked out by hand', () => {
  it('splits the invoice: the 340.00 disputed is shown and left out, the 860.00 rest is demanded', () => {
    const d = dun(BOOK, DAY);
    expect(d.overdue.map((i) => [i.invoiceId, i.open, i.invoiceOpen, i.disputed, i.daysPastDue])).toEqual([
      ['L', 86_000, 120_000, false, 9],
    ]);
    expect(d.disputed.map((i) => [i.invoiceId, i.open, i.invoiceOpen, i.line])).toEqual([
      ['L', 34_000, 120_000, '2 pallets damaged'],
    ]);
    expect(d.totals).toEqual({
      overdue: 86_000,
      disputed: 34_000,
      notDue: 0,
      unappliedCash: 0,
      demand: 86_000,
    });
    expect(d.send?.name).toBe('friendly');
    expect(d.why).toBe(
      'the oldest undisputed overdue item (L) is 9 days past due: "friendly" comes at 3; 860.00 EUR demanded',
    );
    // The day before the dispute was opened, all 1,200.00 was demanded.
    expect(dun(BOOK, '2026-03-30').totals).toMatchObject({ overdue: 120_000, disputed: 0, demand: 120_000 });
  });

  it('the statement counts only the part as disputed: the disputed amount and undisputed DSO', () => {
    const s = statementOf(BOOK, DAY);
    expect(s.invoices[0]).toMatchObject({
      disputed: true,
      disputedPart: 34_000,
      disputeLine: '2 pallets damaged',
    });
    expect(s.invoices[0] && disputedOpen(s.invoices[0])).toBe(34_000);
    expect(s.summary.disputedAmount).toBe(34_000);
    expect(s.summary.dso).toBe(90);
    expect(undisputedDso(s)).toBe(64.5);
  });

  it('a payment of 1,000.00 later leaves 200.00 open: all of it disputed, nothing demanded', () => {
    const d = dun(PAID_1000, '2026-04-06');
    expect(d.overdue).toEqual([]);
    // Less open than the part: no split, the whole 200.00 is disputed.
    expect(d.disputed.map((i) => [i.invoiceId, i.open, i.invoiceOpen, i.line])).toEqual([
      ['L', 20_000, undefined, '2 pallets damaged'],
    ]);
    expect(d.totals).toEqual({ overdue: 0, disputed: 20_000, notDue: 0, unappliedCash: 0, demand: 0 });
    expect(d.send).toBeUndefined();
    expect(d.why).toBe('only disputed items are overdue: nothing is chased while they are disputed');
    const s = statementOf(PAID_1000, '2026-04-06');
    expect(s.summary.disputedAmount).toBe(20_000);
    expect(undisputedDso(s)).toBe(0);
    // Before the payment came, the split stood.
    expect(dun(PAID_1000, '2026-04-04').totals).toMatchObject({ overdue: 86_000, disputed: 34_000 });
  });

  it('a dispute on the whole invoice, or the ERP flag, still sets all of it apart', () => {
    const { amount: _a, currency: _c, line: _l, ...whole } = lineDispute;
    expect(dun(BOOK, DAY, [whole]).totals).toMatchObject({ overdue: 0, disputed: 120_000, demand: 0 });
    // The ERP says all of it is disputed: a record of a part does not make it less.
    const flagged = dun(books([inv('L', 120_000, { disputed: true })]), DAY);
    expect(flagged.totals).toMatchObject({ overdue: 0, disputed: 120_000, demand: 0 });
    expect(flagged.disputed.map((i) => [i.open, i.invoiceOpen, i.line])).toEqual([
      [120_000, undefined, '2 pallets damaged'],
    ]);
    // Resolved: all of it is chased again.
    const resolved = {
      ...lineDispute,
      resolvedOn: '2026-04-02',
      resolvedBy: 'tom',
      outcome: 'customer-pays' as const,
    };
    expect(dun(BOOK, '2026-04-02', [resolved]).totals).toMatchObject({ overdue: 120_000, demand: 120_000 });
  });
});

describe('the reminder with a dispute on a line', () => {
  const d = dun(BOOK, DAY);
  const email = (language: 'en' | 'zh') =>
    reminderEmail({
      dunning: d,
      customer: { customerId: 'C1', name: 'Acme GmbH', contactName: 'Maria Schmidt', language },
      creditor: { name: 'Northwind Supplies Ltd', remittance: ['IBAN: DE89 3704 0044 0532 0130 00'] },
    });

  it('demands the 860.00 and shows the 340.00 under review with its line', () => {
    const m = email('en');
    expect(m.subject).toBe('Payment reminder from Northwind Supplies Ltd: 860.00 EUR overdue — Acme GmbH');
    expect(m.text).toContain(
      [
        'Amount due now: 860.00 EUR',
        '',
        'Overdue invoices (as of 2026-03-31)',
        '- L: issued 2026-02-20, due 2026-03-22, 9 days overdue; amount 1,200.00 EUR, open 860.00 EUR',
        '  340.00 EUR of it is disputed and left out of the amount due (see below)',
        '',
        'Total overdue: 860.00 EUR',
        'Amount due now: 860.00 EUR',
        '',
        'Disputed invoices: under review, left out of the amount due',
        '- L: issued 2026-02-20, due 2026-03-22, 9 days overdue; amount 1,200.00 EUR, open 340.00 EUR',
        '  Disputed: 2 pallets damaged (340.00 EUR of the 1,200.00 EUR open)',
        '',
        'Total disputed, not included: 340.00 EUR',
      ].join('\n'),
    );
    // In the HTML, each note is a row of its own under its item, across the table.
    expect(m.html).toContain(
      '<td colspan="6" style="padding:4px;border-bottom:1px solid #e2e5ea;vertical-align:top;text-align:left;color:#5a6372;font-style:italic">Disputed: 2 pallets damaged (340.00 EUR of the 1,200.00 EUR open)</td>',
    );
    expect(email('zh').text).toContain('其中 340.00 EUR 有争议，不计入应付金额（见下文）');
    expect(email('zh').text).toContain('争议内容：2 pallets damaged（未付 1,200.00 EUR 中的 340.00 EUR）');
  });

  it('the CSV lists both parts of L, and still adds up to the demand', () => {
    expect(statementCsv(d, 'en')).toBe(
      '\uFEFFCustomer,Invoice,Status,Issue date,Due date,Days past due,Currency,Amount,Open\r\n' +
        'C1,L,overdue,2026-02-20,2026-03-22,9,EUR,1200.00,860.00\r\n' +
        'C1,L,disputed,2026-02-20,2026-03-22,9,EUR,1200.00,340.00\r\n' +
        'C1,,Total overdue,,,,EUR,,860.00\r\n' +
        'C1,,Unapplied cash (deducted),,,,EUR,,0.00\r\n' +
        'C1,,Amount demanded,,,,EUR,,860.00\r\n',
    );
  });

  it('a line of the customer never breaks the text part', () => {
    const c = checkDispute({ ...req, amount: '340.00', line: 'pallet 3\r\nBcc: x@evil.example' }, at, L);
    if (!c.ok) throw new Error('expected the dispute to pass');
    const m = reminderEmail({
      dunning: dun(BOOK, DAY, [c.dispute]),
      customer: { customerId: 'C1', name: 'Acme GmbH' },
      creditor: { name: 'N', remittance: [] },
    });
    expect(m.text).toContain(
      '  Disputed: pallet 3 Bcc: x@evil.example (340.00 EUR of the 1,200.00 EUR open)',
    );
  });
});
