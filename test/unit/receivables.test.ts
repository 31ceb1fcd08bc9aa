import { describe, expect, it } from 'vitest';
import type { CustomerBooks } from '../../functions/core/receivables.ts';
import {
  AGING_BUCKETS,
  agingBucket,
  allocatePayments,
  byReceived,
  inReceivedOrder,
  statementAsOf,
  undisputedDso,
  withDisputes,
} from '../../functions/core/receivables.ts';
import { bookBuilders } from './credit-fixtures.ts';

const { inv, pay } = bookBuilders('USD');

/** invoiceId -> amount allocated, for one payment application */
function allocs(app: { allocations: { invoiceId: string; amount: number }[] } | undefined) {
  return app?.allocations.map((a) => [a.invoiceId, a.amount]);
}

describe('allocatePayments', () => {
  const A = inv('A', '2025-01-01', '2025-01-31', 10000);
  const B = inv('B', '2025-01-05', '2025-02-04', 5000);

  it('a payment naming an invoice pays only that one and keeps the rest as unapplied cash', () => {
    // A is older and open, but P1 names B: B gets 5000, 12000 - 5000 = 7000 stays unapplied
    const r = allocatePayments([A, B], [pay('P1', '2025-02-01', 12000, ['B'])]);
    expect(r.notes).toEqual([]);
    expect(r.applications).toEqual([
      {
        paymentId: 'P1',
        receivedDate: '2025-02-01',
        currency: 'USD',
        allocations: [{ paymentId: 'P1', invoiceId: 'B', amount: 5000, date: '2025-02-01' }],
        unapplied: 7000,
      },
    ]);
  });

  it('pays several named invoices in the order named', () => {
    // 12000: B 5000 first, then A 7000 of its 10000
    const r = allocatePayments([A, B], [pay('P1', '2025-02-01', 12000, ['B', 'A'])]);
    expect(allocs(r.applications[0])).toEqual([
      ['B', 5000],
      ['A', 7000],
    ]);
    expect(r.applications[0]?.unapplied).toBe(0);
  });

  it('a named invoice already paid in full leaves the payment unapplied', () => {
    const r = allocatePayments(
      [A],
      [pay('P1', '2025-02-01', 10000, ['A']), pay('P2', '2025-02-02', 3000, ['A'])],
    );
    expect(allocs(r.applications[0])).toEqual([['A', 10000]]);
    expect(r.applications[1]?.allocations).toEqual([]);
    expect(r.applications[1]?.unapplied).toBe(3000);
    expect(r.notes).toEqual([]);
  });

  it('without references pays oldest due first across invoices issued by the payment date', () => {
    const invoices = [
      inv('A', '2025-01-10', '2025-02-10', 6000),
      inv('B', '2025-01-01', '2025-01-31', 4000),
      inv('C', '2025-01-20', '2025-02-20', 3000),
      inv('D', '2025-03-05', '2025-04-04', 8000), // issued after the payment
    ];
    // 20000: B 4000 (due 01-31), A 6000 (02-10), C 3000 (02-20); D does not exist yet on 03-01
    // unapplied = 20000 - 13000 = 7000
    const r = allocatePayments(invoices, [pay('P1', '2025-03-01', 20000)]);
    expect(allocs(r.applications[0])).toEqual([
      ['B', 4000],
      ['A', 6000],
      ['C', 3000],
    ]);
    expect(r.applications[0]?.unapplied).toBe(7000);
    expect(r.notes).toEqual([]);
  });

  it('FIFO pays an invoice issued on the payment date itself', () => {
    const r = allocatePayments([inv('A', '2025-03-01', '2025-03-31', 500)], [pay('P1', '2025-03-01', 500)]);
    expect(allocs(r.applications[0])).toEqual([['A', 500]]);
  });

  it('partial payments carry the open amount over to later payments', () => {
    const invoices = [
      inv('A', '2025-01-10', '2025-02-10', 6000),
      inv('B', '2025-01-01', '2025-01-31', 4000),
      inv('C', '2025-01-20', '2025-02-20', 3000),
    ];
    // P1 5000: B 4000, A 1000 (A open 5000). P2 7000: A 5000, C 2000 (C open 1000).
    const r = allocatePayments(invoices, [pay('P2', '2025-03-10', 7000), pay('P1', '2025-03-01', 5000)]);
    expect(r.applications.map((a) => a.paymentId)).toEqual(['P1', 'P2']);
    expect(allocs(r.applications[0])).toEqual([
      ['B', 4000],
      ['A', 1000],
    ]);
    expect(allocs(r.applications[1])).toEqual([
      ['A', 5000],
      ['C', 2000],
    ]);
    expect(r.applications.map((a) => a.unapplied)).toEqual([0, 0]);
  });

  it('FIFO breaks due-date ties by issue date, then invoice id', () => {
    const invoices = [
      inv('Z', '2025-01-01', '2025-02-01', 100),
      inv('X', '2025-01-02', '2025-02-01', 100),
      inv('Y', '2025-01-01', '2025-02-01', 100),
    ];
    const r = allocatePayments(invoices, [pay('P1', '2025-03-01', 300)]);
    expect(r.applications[0]?.allocations.map((a) => a.invoiceId)).toEqual(['Y', 'Z', 'X']);
  });

  it('an overpayment without references is kept as unapplied cash', () => {
    // 10000 + 5000 open, 20000 paid -> 5000 unapplied
    const r = allocatePayments([A, B], [pay('P1', '2025-03-01', 20000)]);
    expect(allocs(r.applications[0])).toEqual([
      ['A', 10000],
      ['B', 5000],
    ]);
    expect(r.applications[0]?.unapplied).toBe(5000);
  });

  it('a payment with nothing open is entirely unapplied', () => {
    const r = allocatePayments([], [pay('P1', '2025-03-01', 1234)]);
    expect(r.applications[0]?.allocations).toEqual([]);
    expect(r.applications[0]?.unapplied).toBe(1234);
  });

  it('an unknown invoice reference is noted and the money kept as unapplied', () => {
    const r = allocatePayments([A], [pay('P1', '2025-02-01', 4000, ['NOPE'])]);
    expect(r.notes).toEqual([{ paymentId: 'P1', invoiceId: 'NOPE', code: 'UNKNOWN_INVOICE' }]);
    expect(r.applications[0]?.allocations).toEqual([]);
    expect(r.applications[0]?.unapplied).toBe(4000);
  });

  it('an unknown reference next to a known one: noted, and the known one is paid', () => {
    // 12000: NOPE noted, A takes 10000, 2000 unapplied (no FIFO fallback to B)
    const r = allocatePayments([A, B], [pay('P1', '2025-02-01', 12000, ['NOPE', 'A'])]);
    expect(r.notes).toEqual([{ paymentId: 'P1', invoiceId: 'NOPE', code: 'UNKNOWN_INVOICE' }]);
    expect(allocs(r.applications[0])).toEqual([['A', 10000]]);
    expect(r.applications[0]?.unapplied).toBe(2000);
  });

  it('an invoice issued after the payment is noted INVOICE_NOT_YET_ISSUED and not paid', () => {
    const later = inv('L', '2025-03-05', '2025-04-04', 8000);
    const r = allocatePayments([later], [pay('P1', '2025-03-01', 8000, ['L'])]);
    expect(r.notes).toEqual([{ paymentId: 'P1', invoiceId: 'L', code: 'INVOICE_NOT_YET_ISSUED' }]);
    expect(r.applications[0]?.allocations).toEqual([]);
    expect(r.applications[0]?.unapplied).toBe(8000);
  });

  it('a named invoice in another currency is noted CURRENCY_MISMATCH and not paid', () => {
    const r = allocatePayments([A], [pay('P1', '2025-02-01', 10000, ['A'], { currency: 'EUR' })]);
    expect(r.notes).toEqual([{ paymentId: 'P1', invoiceId: 'A', code: 'CURRENCY_MISMATCH' }]);
    expect(r.applications[0]?.allocations).toEqual([]);
    expect(r.applications[0]?.unapplied).toBe(10000);
    expect(r.applications[0]?.currency).toBe('EUR');
  });

  it('FIFO only pays invoices in the payment currency', () => {
    const eur = inv('E', '2025-01-20', '2025-02-20', 3000, { currency: 'EUR' });
    // A (USD) is older, but a EUR payment goes to E: 5000 - 3000 = 2000 unapplied EUR
    const r = allocatePayments([A, eur], [pay('P1', '2025-03-01', 5000, [], { currency: 'EUR' })]);
    expect(allocs(r.applications[0])).toEqual([['E', 3000]]);
    expect(r.applications[0]?.unapplied).toBe(2000);
  });

  it('same-day payments are applied in payment id order whatever the input order', () => {
    const invoices = [inv('A', '2025-01-01', '2025-01-31', 4000), inv('B', '2025-01-02', '2025-02-28', 4000)];
    const p1 = pay('P1', '2025-02-01', 3000);
    const p2 = pay('P2', '2025-02-01', 3000);
    // P1: A 3000 (A open 1000); P2: A 1000, B 2000
    const r = allocatePayments(invoices, [p2, p1]);
    expect(r.applications.map((a) => a.paymentId)).toEqual(['P1', 'P2']);
    expect(allocs(r.applications[0])).toEqual([['A', 3000]]);
    expect(allocs(r.applications[1])).toEqual([
      ['A', 1000],
      ['B', 2000],
    ]);
    expect(allocatePayments([...invoices].reverse(), [p1, p2])).toEqual(r);
  });

  it('payments are applied in received order, so a later payment never changes earlier allocations', () => {
    // P1 (no reference, 02-10) takes A by FIFO. P2 (03-01) names A, finds it paid, and stays unapplied;
    // B stays open. This is what makes the books as of 02-15 the allocations dated by then.
    const r = allocatePayments(
      [A, B],
      [pay('P2', '2025-03-01', 10000, ['A']), pay('P1', '2025-02-10', 10000)],
    );
    expect(allocs(r.applications[0])).toEqual([['A', 10000]]);
    expect(r.applications[1]?.allocations).toEqual([]);
    expect(r.applications[1]?.unapplied).toBe(10000);
  });
});

describe('inReceivedOrder', () => {
  it('gives back the same array when the payments are already in order', () => {
    const ps = [pay('P1', '2025-01-01', 1), pay('P2', '2025-01-01', 1), pay('P0', '2025-01-02', 1)];
    expect(inReceivedOrder(ps)).toBe(ps);
  });

  it('sorts a copy by received date, then payment id, and leaves the input alone', () => {
    const ps = [
      pay('P3', '2025-03-01', 1),
      pay('P2', '2025-01-01', 1),
      pay('P1', '2025-01-01', 1),
      pay('P0', '2025-02-01', 1),
    ];
    const before = ps.map((p) => p.paymentId);
    expect(inReceivedOrder(ps).map((p) => p.paymentId)).toEqual(['P1', 'P2', 'P0', 'P3']);
    expect(ps.map((p) => p.paymentId)).toEqual(before);
  });

  it.each([5, 32, 33, 200])('agrees with Array.prototype.sort for %i payments in a shuffled order', (n) => {
    // A fixed shuffle with repeated dates, so ties fall to the payment id.
    const ps = Array.from({ length: n }, (_, i) =>
      pay(
        `P${String((i * 7919) % n).padStart(3, '0')}`,
        `2025-01-${String(1 + ((i * 31) % 28)).padStart(2, '0')}`,
        1,
      ),
    );
    expect(inReceivedOrder(ps)).toEqual([...ps].sort(byReceived));
  });
});

describe('agingBucket', () => {
  it.each([
    [-30, 'notDue'],
    [-1, 'notDue'],
    [0, 'notDue'],
    [1, 'd1_30'],
    [30, 'd1_30'],
    [31, 'd31_60'],
    [60, 'd31_60'],
    [61, 'd61_90'],
    [90, 'd61_90'],
    [91, 'd91_180'],
    [180, 'd91_180'],
    [181, 'over180'],
    [10_000, 'over180'],
  ])('%i days past due -> %s', (days, bucket) => {
    expect(agingBucket(days)).toBe(bucket);
  });

  it('lists the buckets in age order', () => {
    expect(AGING_BUCKETS).toEqual(['notDue', 'd1_30', 'd31_60', 'd61_90', 'd91_180', 'over180']);
  });
});

describe('statementAsOf', () => {
  // One USD customer. Days past due are as of 2025-06-30 unless said otherwise.
  const books: CustomerBooks = {
    customerId: 'C1',
    currency: 'USD',
    invoices: [
      inv('A', '2024-11-01', '2024-12-01', 9000), // FIFO-paid 3000 -> open 6000
      inv('B', '2025-01-10', '2025-02-09', 10000), // settled by P1
      inv('C', '2025-02-01', '2025-03-03', 20000), // settled by P2 + P3
      inv('D', '2025-02-20', '2025-03-22', 8000), // open
      inv('E', '2025-03-15', '2025-04-14', 30000), // P5 12000 -> open 18000
      inv('F', '2025-04-20', '2025-05-20', 5000), // settled by P6, 2000 unapplied
      inv('G', '2025-04-25', '2025-05-25', 2500, { disputed: true }), // open, disputed
      inv('H', '2025-05-25', '2025-06-24', 7000), // open
      inv('I', '2025-06-20', '2025-07-20', 4000), // open, not due
      inv('X', '2025-06-10', '2025-07-10', 50000, { currency: 'EUR' }), // other currency
      inv('J', '2025-07-05', '2025-08-04', 99999), // issued after asOf
    ],
    payments: [
      pay('P1', '2025-02-05', 10000, ['B']),
      pay('P2', '2025-03-10', 5000, ['C']),
      pay('P3', '2025-04-12', 15000, ['C']),
      pay('P4', '2025-05-20', 3000), // FIFO: oldest due open is A (due 2024-12-01)
      pay('P5', '2025-06-01', 12000, ['E']),
      pay('P6', '2025-06-16', 7000, ['F']),
      pay('P7', '2025-06-20', 1000, [], { currency: 'EUR' }), // FIFO in EUR -> X
      pay('P8', '2025-07-01', 8000, ['D']), // received after asOf
    ],
  };

  it('summarises the books as of 2025-06-30', () => {
    const s = statementAsOf(books, '2025-06-30');
    // Open USD items and days past due (asOf - due):
    //   A 6000  2024-12-01 -> 2025-06-30 = 31+31+28+31+30+31+29 = 211 -> over180
    //   D 8000  03-22 -> 06-30 = 10+30+31+29 = 100 -> d91_180
    //   E 18000 04-14 -> 06-30 = 17+31+29 = 77 -> d61_90
    //   G 2500  05-25 -> 06-30 = 7+29 = 36 -> d31_60 (disputed)
    //   H 7000  06-24 -> 06-30 = 6 -> d1_30
    //   I 4000  07-20 -> 06-30 = -20 -> notDue
    // open = 6000+8000+18000+2500+7000+4000 = 45500; overdue = 45500 - 4000 = 41500
    // settled: B late max(0, 02-05 - 02-09) = 0; C late 04-12 - 03-03 = 40; F late 06-16 - 05-20 = 27
    //   avgDaysLate = (0 + 40 + 27) / 3 = 22.333 -> 22.33
    // unapplied: P6 7000 - 5000 = 2000 (USD); P7's EUR goes to X
    // DSO: sales issued after 06-30 - 90 = 04-01: F 5000 + G 2500 + H 7000 + I 4000 = 18500
    //   45500 / 18500 * 90 = 221.35 -> 221.4 (one decimal)
    expect(s.summary).toEqual({
      customerId: 'C1',
      currency: 'USD',
      asOf: '2025-06-30',
      openAmount: 45500,
      overdueAmount: 41500,
      disputedAmount: 2500,
      aging: { notDue: 4000, d1_30: 7000, d31_60: 2500, d61_90: 18000, d91_180: 8000, over180: 6000 },
      openInvoices: 6,
      maxDaysPastDue: 211,
      settledInvoices: 3,
      avgDaysLate: 22.33,
      unappliedCash: 2000,
      dso: 221.4,
      // X 50000 EUR - P7 1000 = 49000
      otherCurrencies: [{ currency: 'EUR', openAmount: 49000, unappliedCash: 0 }],
    });
    expect(s.notes).toEqual([]);
  });

  it('lists invoice statuses by due date, with settled dates, days late and days to settle', () => {
    const s = statementAsOf(books, '2025-06-30');
    expect(s.invoices.map((i) => i.invoiceId)).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'X', 'I']);
    const byId = new Map(s.invoices.map((i) => [i.invoiceId, i]));
    expect(byId.get('B')).toEqual({
      invoiceId: 'B',
      currency: 'USD',
      issueDate: '2025-01-10',
      dueDate: '2025-02-09',
      amount: 10000,
      open: 0,
      disputed: false,
      settledDate: '2025-02-05',
      daysLate: 0, // paid 4 days early
      daysToSettle: 26, // 01-10 -> 02-05 = 21 + 5
    });
    // C: 5000 on 03-10, closed by 15000 on 04-12: settled on the closing allocation's date
    expect(byId.get('C')).toMatchObject({
      open: 0,
      settledDate: '2025-04-12',
      daysLate: 40, // 03-03 -> 04-12 = 29 + 11
      daysToSettle: 70, // 02-01 -> 04-12 = 28 + 31 + 11
    });
    expect(byId.get('F')).toMatchObject({
      open: 0,
      settledDate: '2025-06-16',
      daysLate: 27, // 05-20 -> 06-16 = 11 + 16
      daysToSettle: 57, // 04-20 -> 06-16 = 11 + 31 + 15
    });
    expect(byId.get('A')).toEqual({
      invoiceId: 'A',
      currency: 'USD',
      issueDate: '2024-11-01',
      dueDate: '2024-12-01',
      amount: 9000,
      open: 6000,
      disputed: false,
      daysPastDue: 211,
      bucket: 'over180',
    });
    expect(byId.get('E')).toMatchObject({ open: 18000, daysPastDue: 77, bucket: 'd61_90' });
    expect(byId.get('G')).toMatchObject({ open: 2500, disputed: true, daysPastDue: 36, bucket: 'd31_60' });
    expect(byId.get('I')).toMatchObject({ open: 4000, daysPastDue: -20, bucket: 'notDue' });
    expect(byId.get('X')).toMatchObject({ currency: 'EUR', open: 49000, daysPastDue: -10, bucket: 'notDue' });
    expect(byId.has('J')).toBe(false);
    expect(s.applications.map((a) => a.paymentId)).toEqual(['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7']);
    expect(s.applications[3]?.allocations).toEqual([
      { paymentId: 'P4', invoiceId: 'A', amount: 3000, date: '2025-05-20' },
    ]);
  });

  it('as of an earlier date, later invoices and payments do not exist yet', () => {
    const s = statementAsOf(books, '2025-03-31');
    // Issued by 03-31: A, B, C, D, E. Received by 03-31: P1, P2.
    //   A 9000  2024-12-01 -> 2025-03-31 = 31+31+28+30 = 120 -> d91_180 (P4 not received yet)
    //   C 20000 - 5000 = 15000, 03-03 -> 03-31 = 28 -> d1_30 (P3 not received yet)
    //   D 8000  03-22 -> 03-31 = 9 -> d1_30
    //   E 30000 04-14 -> 03-31 = -14 -> notDue
    // open = 9000+15000+8000+30000 = 62000; overdue = 62000 - 30000 = 32000
    // DSO: sales issued after 03-31 - 90 = 2024-12-31: B+C+D+E = 68000; 62000/68000*90 = 82.06 -> 82.1
    expect(s.summary).toEqual({
      customerId: 'C1',
      currency: 'USD',
      asOf: '2025-03-31',
      openAmount: 62000,
      overdueAmount: 32000,
      disputedAmount: 0,
      aging: { notDue: 30000, d1_30: 23000, d31_60: 0, d61_90: 0, d91_180: 9000, over180: 0 },
      openInvoices: 4,
      maxDaysPastDue: 120,
      settledInvoices: 1,
      avgDaysLate: 0,
      unappliedCash: 0,
      dso: 82.1,
      otherCurrencies: [],
    });
    expect(s.invoices.map((i) => i.invoiceId)).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(s.invoices.find((i) => i.invoiceId === 'C')).toMatchObject({ open: 15000, daysPastDue: 28 });
    expect(s.applications.map((a) => a.paymentId)).toEqual(['P1', 'P2']);
  });

  it('asOf includes the whole of that day: a payment received on asOf counts', () => {
    const before = statementAsOf(books, '2025-04-11');
    const on = statementAsOf(books, '2025-04-12');
    expect(before.invoices.find((i) => i.invoiceId === 'C')).toMatchObject({ open: 15000 });
    expect(on.invoices.find((i) => i.invoiceId === 'C')).toMatchObject({
      open: 0,
      settledDate: '2025-04-12',
    });
    expect(on.summary.settledInvoices).toBe(2);
  });

  it('avgDaysLate is a plain mean rounded to 2 decimals, null when nothing is settled', () => {
    const b: CustomerBooks = {
      customerId: 'C1',
      currency: 'USD',
      invoices: [
        inv('A', '2025-01-01', '2025-01-31', 100),
        inv('B', '2025-01-01', '2025-01-31', 100),
        inv('C', '2025-01-01', '2025-01-31', 100),
      ],
      payments: [
        pay('P1', '2025-01-20', 100, ['A']), // early: 0 days late
        pay('P2', '2025-02-01', 100, ['B']), // 1 day late
        pay('P3', '2025-02-02', 100, ['C']), // 2 days late
      ],
    };
    // (0 + 1 + 2) / 3 = 1
    expect(statementAsOf(b, '2025-03-01').summary.avgDaysLate).toBe(1);
    // as of 02-01: A (0) and B (1) settled -> 0.5
    expect(statementAsOf(b, '2025-02-01').summary.avgDaysLate).toBe(0.5);
    expect(statementAsOf(b, '2025-01-19').summary.avgDaysLate).toBeNull();
    expect(statementAsOf(b, '2025-01-19').summary.settledInvoices).toBe(0);
  });

  it('DSO counts credit sales of the last N days, asOf included, and is null without sales', () => {
    const b: CustomerBooks = {
      customerId: 'C1',
      currency: 'USD',
      invoices: [
        inv('K1', '2025-04-01', '2025-05-01', 1000), // exactly 90 days before 06-30: outside
        inv('K2', '2025-04-02', '2025-05-02', 3000), // 89 days before: inside
      ],
      payments: [],
    };
    // open 4000 / sales 3000 * 90 = 120
    expect(statementAsOf(b, '2025-06-30').summary.dso).toBe(120);
    // 30-day window: sales issued after 05-31: none -> null
    expect(statementAsOf(b, '2025-06-30', 30).summary.dso).toBeNull();
    // as of 04-02 with 30 days: sales K1 + K2 = 4000, open 4000 -> 4000/4000*30 = 30
    expect(statementAsOf(b, '2025-04-02', 30).summary.dso).toBe(30);
  });

  it('keeps other-currency receivables visible but out of the USD figures', () => {
    const b: CustomerBooks = {
      customerId: 'C1',
      currency: 'USD',
      invoices: [
        inv('U', '2025-05-01', '2025-05-31', 1000),
        inv('E1', '2025-05-01', '2025-05-31', 2000, { currency: 'EUR' }),
        inv('E2', '2025-05-02', '2025-06-01', 500, { currency: 'EUR' }),
        inv('G1', '2025-05-03', '2025-06-02', 700, { currency: 'GBP' }),
      ],
      payments: [],
    };
    const s = statementAsOf(b, '2025-06-30');
    expect(s.summary.openAmount).toBe(1000);
    expect(s.summary.openInvoices).toBe(1);
    expect(s.summary.overdueAmount).toBe(1000);
    expect(s.summary.aging.d1_30).toBe(1000); // 05-31 -> 06-30 = 30
    expect(s.summary.maxDaysPastDue).toBe(30);
    expect(s.summary.otherCurrencies).toEqual([
      { currency: 'EUR', openAmount: 2500, unappliedCash: 0 },
      { currency: 'GBP', openAmount: 700, unappliedCash: 0 },
    ]);
    // sales are USD only: 1000 open / 1000 sales * 90
    expect(s.summary.dso).toBe(90);
  });

  it('without a credit currency uses the currency most invoices use (ties: alphabetical)', () => {
    const b: CustomerBooks = {
      customerId: 'C1',
      invoices: [
        inv('U', '2025-05-01', '2025-05-31', 1000),
        inv('E1', '2025-05-01', '2025-05-31', 2000, { currency: 'EUR' }),
        inv('E2', '2025-05-02', '2025-06-01', 500, { currency: 'EUR' }),
      ],
      payments: [],
    };
    expect(statementAsOf(b, '2025-06-30').summary.currency).toBe('EUR');
    expect(statementAsOf(b, '2025-06-30').summary.openAmount).toBe(2500);
    const tie = { ...b, invoices: b.invoices.slice(0, 2) };
    expect(statementAsOf(tie, '2025-06-30').summary.currency).toBe('EUR');
    const noInvoices: CustomerBooks = {
      customerId: 'C1',
      invoices: [],
      payments: [pay('P1', '2025-05-01', 100, [], { currency: 'GBP' })],
    };
    expect(statementAsOf(noInvoices, '2025-06-30').summary).toMatchObject({
      currency: 'GBP',
      unappliedCash: 100,
      openAmount: 0,
      dso: null,
      avgDaysLate: null,
    });
  });

  it('reports allocation notes of the payments received by asOf', () => {
    const b: CustomerBooks = {
      customerId: 'C1',
      currency: 'USD',
      invoices: [inv('A', '2025-05-01', '2025-05-31', 1000)],
      payments: [pay('P1', '2025-06-01', 400, ['GHOST'])],
    };
    const s = statementAsOf(b, '2025-06-30');
    expect(s.notes).toEqual([{ paymentId: 'P1', invoiceId: 'GHOST', code: 'UNKNOWN_INVOICE' }]);
    expect(s.summary.unappliedCash).toBe(400);
    expect(s.summary.openAmount).toBe(1000);
  });

  // Rows of the IBM accounts-receivable sample (datasets/), which carries DaysToSettle and DaysLate.
  it.each([
    // invoiceNumber, InvoiceDate, DueDate, SettledDate, amount, DaysToSettle, DaysLate
    ['0000611365', '2013-01-02', '2013-02-01', '2013-01-15', 5594, 13, 0],
    ['0007900770', '2013-01-26', '2013-02-25', '2013-03-03', 6174, 36, 6],
    ['0009231909', '2013-07-03', '2013-08-02', '2013-07-08', 6588, 5, 0],
    ['0009888306', '2013-02-10', '2013-03-12', '2013-03-17', 10592, 35, 5],
    ['0015752855', '2012-10-25', '2012-11-24', '2012-11-28', 7227, 34, 4],
  ])(
    'IBM sample %s: days to settle and days late match the data set',
    (id, issued, due, settled, amount, toSettle, late) => {
      const b: CustomerBooks = {
        customerId: 'C1',
        currency: 'USD',
        invoices: [inv(id, issued, due, amount)],
        payments: [pay(`${id}-settlement`, settled, amount, [id])],
      };
      const s = statementAsOf(b, '2014-01-09');
      expect(s.invoices[0]).toMatchObject({ settledDate: settled, daysToSettle: toSettle, daysLate: late });
    },
  );
});

describe('undisputed DSO (issue 17 item 5)', () => {
  /**
   * As of 2026-03-31, DSO over 90 days: sales are the invoices issued after 2025-12-31.
   *
   * A 3,000.00 issued 2026-01-10, open                                 sales, open 3,000.00
   * B 2,000.00 issued 2026-02-15, 1,000.00 paid, open 1,000.00         sales, open 1,000.00
   * C 1,500.00 issued 2026-03-01, open, disputed in the ERP            sales, open 1,500.00
   * D 4,500.00 issued 2025-11-01, open, a dispute open on the day      open 4,500.00 (before the window)
   * E   800.00 issued 2026-01-20, paid in full, disputed in the ERP    sales, settled: nothing open
   * F   700.00 EUR issued 2026-02-01, open, disputed                   another currency: in neither
   *
   * sales 3,000 + 2,000 + 1,500 + 800 = 7,300.00; open 3,000 + 1,000 + 1,500 + 4,500 = 10,000.00
   * DSO            = 10,000.00 / 7,300.00 x 90 = 123.287... -> 123.3
   * left out       = C 1,500.00 + D 4,500.00 = 6,000.00 (E is paid; F is not in USD)
   * undisputed DSO = (10,000.00 - 6,000.00) / 7,300.00 x 90 = 49.315... -> 49.3
   */
  const book: CustomerBooks = {
    customerId: 'C1',
    currency: 'USD',
    invoices: [
      inv('A', '2026-01-10', '2026-02-09', 300_000),
      inv('B', '2026-02-15', '2026-03-17', 200_000),
      inv('C', '2026-03-01', '2026-03-31', 150_000, { disputed: true }),
      inv('D', '2025-11-01', '2025-12-01', 450_000),
      inv('E', '2026-01-20', '2026-02-19', 80_000, { disputed: true }),
      inv('F', '2026-02-01', '2026-03-03', 70_000, { currency: 'EUR', disputed: true }),
    ],
    payments: [pay('P1', '2026-03-10', 100_000, ['B']), pay('P2', '2026-02-19', 80_000, ['E'])],
  };
  const AS_OF = '2026-03-31';
  const st = statementAsOf(book, AS_OF);

  it('leaves the disputed open amount out of the receivables and keeps the sales', () => {
    expect(st.summary.openAmount).toBe(1_000_000);
    expect(st.summary.dso).toBe(123.3);
    // Only the ERP's flag: C is left out, D (no dispute yet) is not: 8,500.00 / 7,300.00 x 90 = 104.79.
    expect(st.summary.disputedAmount).toBe(150_000);
    expect(undisputedDso(st)).toBe(104.8);
    // D's dispute open on the day: the summary's disputed amount and the undisputed DSO both count it.
    const disputed = withDisputes(st, new Set(['D']));
    expect(disputed.summary.disputedAmount).toBe(150_000 + 450_000);
    expect(disputed.summary.dso).toBe(123.3);
    expect(undisputedDso(disputed)).toBe(49.3);
    expect(disputed.invoices.find((i) => i.invoiceId === 'D')?.disputed).toBe(true);
    // The statement it was given is left as it was.
    expect(st.invoices.find((i) => i.invoiceId === 'D')?.disputed).toBe(false);
  });

  it('a partly paid invoice leaves out only what is open; nothing disputed gives DSO itself', () => {
    // B disputed: 1,000.00 left out (not its 2,000.00): 9,000.00 / 7,300.00 x 90 = 110.96 -> 111.
    const clean = statementAsOf(
      { ...book, invoices: book.invoices.map((i) => ({ ...i, disputed: false })) },
      AS_OF,
    );
    const b = withDisputes(clean, new Set(['B']));
    expect(b.summary.disputedAmount).toBe(100_000);
    expect(undisputedDso(b)).toBe(111);
    expect(undisputedDso(clean)).toBe(clean.summary.dso);
    expect(withDisputes(clean, new Set())).toBe(clean);
  });

  it('no sales in the period: null, as DSO is', () => {
    const old = statementAsOf(book, '2026-09-30');
    expect(old.summary.dso).toBeNull();
    expect(withDisputes(old, new Set(['D'])).summary.disputedAmount).toBe(600_000);
    expect(undisputedDso(withDisputes(old, new Set(['D'])))).toBeNull();
  });
});

describe('unapplied cash in another currency', () => {
  it('stays visible beside the figures instead of disappearing', () => {
    // A USD customer pays 300.00 EUR naming no invoice; it has no EUR invoice to pay.
    const s = statementAsOf(
      {
        customerId: 'C1',
        currency: 'USD',
        invoices: [inv('A', '2025-06-01', '2025-07-01', 10_000)],
        payments: [pay('P1', '2025-06-10', 30_000, [], { currency: 'EUR' })],
      },
      '2025-06-30',
    );
    expect(s.summary.unappliedCash).toBe(0);
    expect(s.summary.openAmount).toBe(10_000);
    expect(s.summary.otherCurrencies).toEqual([{ currency: 'EUR', openAmount: 0, unappliedCash: 30_000 }]);
  });
});
