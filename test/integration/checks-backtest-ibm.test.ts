import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtestChecks, type ReplayedOrder } from '../../functions/checks/backtest.ts';
import type { CreditFile } from '../../functions/credit/assess.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { ProfileCatalog } from '../../functions/ingest/uploads.ts';
import { checksBacktestText } from '../../infra/local/cli/checks.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { type Harness, harness } from './helpers.ts';

/**
 * The credit check replayed over the IBM accounts-receivable sample (issue 18 item 8; README
 * "Credit checks", "Backtest"): every invoice an order on its issue date. The sample has no
 * customer master: each customer is taken as on file in USD on the policy's default 30-day terms
 * (the master the decision-quality bench derives), its limit the one the evaluation of the day
 * before recommended.
 */
const FILE = resolve(
  import.meta.dirname,
  '../fixtures/datasets/ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv',
);
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);

let h: Harness;
let files: CreditFile[];
let csv: { cents: number; daysLate: number }[];

beforeAll(async () => {
  const text = await readFile(FILE, 'utf8');
  csv = text
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => {
      const c = line.split(',');
      return { cents: Math.round(Number(c[6]) * 100), daysLate: Number(c[11]) };
    });
  h = await harness();
  const profile = new ProfileCatalog().get('ibm-accounts-receivable');
  await h.load('ibm.csv', await readFile(FILE), { profile, now: '2014-01-31T12:00:00Z' });
  files = [];
  for (const id of (await h.env.store.listCustomerIds()).sort()) {
    const { books: b } = await h.env.store.loadCustomerPartition(id);
    files.push({
      customerId: id,
      customer: { customerId: id, name: `Customer ${id}`, currency: 'USD', paymentTermsDays: 30 },
      currency: 'USD',
      invoices: b.invoices,
      payments: b.payments,
      financials: [],
      guarantees: [],
      insurance: [],
      scores: [],
    });
  }
}, 120_000);
afterAll(async () => h?.close());

describe('the credit check replayed over a cut of the IBM sample', () => {
  it('three customers over 2012: every order decided, the counts add up, and a few checked by hand', () => {
    const cut = files.slice(0, 3);
    const seen: ReplayedOrder[] = [];
    const r = backtestChecks(cut, policy, {
      from: '2012-01-01',
      to: '2012-12-31',
      onOrder: (o) => seen.push(o),
    });
    const lines = seen.map(
      (o) =>
        `${o.issueDate} ${o.decision.customerId} ${o.decision.orderId} ${o.decision.outcome} ${o.decision.reasons.map((x) => x.code).join(',')} exp=${o.decision.exposure.total} lim=${o.decision.limit} ${o.fate}`,
    );
    console.log(lines.join('\n'));
    const invoices2012 = cut.flatMap((f) => f.invoices).filter((i) => i.issueDate.startsWith('2012-'));
    expect(r.orders).toBe(invoices2012.length);
    expect(Object.values(r.outcomes).reduce((a, b) => a + b, 0)).toBe(r.orders);
    expect(r.held.orders).toBe(r.outcomes.hold + r.outcomes.block);
    expect(r.approved.orders).toBe(r.outcomes.approve);
    for (const j of [r.held, r.approved, r.prepay])
      expect(j.paidLate + j.unpaid + j.paidOnTime + j.notDue).toBe(j.orders);
    // In date order.
    expect(seen.map((o) => o.issueDate)).toEqual([...seen.map((o) => o.issueDate)].sort());
    // By hand from the CSV (0465-DTULQ): on 2012-01-30 the 55.91 of 01-04 and the 40.22 of 01-09 are
    // open (paid 02-04 and 02-13), so the exposure is 55.91 + 40.22 + 59.34 = 155.47 against the
    // limit of 240.00 recommended on 01-29; paid 03-21, due 02-29: late.
    const at = (id: string) => seen.find((o) => o.decision.orderId === id) as ReplayedOrder;
    expect(at('5519301828').decision).toMatchObject({
      outcome: 'approve',
      limit: 24_000,
      exposure: { openItems: 9_613, thisOrder: 5_934, total: 15_547 },
    });
    expect(at('5519301828').fate).toBe('late');
    // On 2012-08-30 the 61.00 of 08-01 (paid 09-05) and the 70.67 of 08-29 (paid 09-28) are open on
    // the summary of 08-29: 61.00 + 70.67 + 28.95 = 160.62 over a limit of 140.00, held (a high
    // limit-use alert open too); paid 10-14, due 09-29: late, held rightly.
    expect(at('4838574848').decision).toMatchObject({
      outcome: 'hold',
      limit: 14_000,
      exposure: { openItems: 13_167, thisOrder: 2_895, total: 16_062 },
    });
    expect(at('4838574848').decision.reasons.map((x) => x.code)).toEqual(['ALERT_limitUse', 'OVER_LIMIT']);
    expect(at('4838574848').fate).toBe('late');
    // Each customer's first order: nothing invoiced before it, so no limit recommended yet: held.
    for (const f of cut) {
      const first = seen.find((o) => o.decision.customerId === f.customerId);
      if (!first) continue;
      expect(first.decision.outcome).toBe('hold');
      expect(first.decision.reasons[0]?.code).toBe('NO_CREDIT_LIMIT');
      expect(first.decision.exposure.openItems).toBe(0);
    }
  });
});

describe('the credit check replayed over the whole IBM sample', () => {
  it('2,466 orders of 2012-2013: held, blocked, prepay, and what the invoices did next', () => {
    const prepay = new Map<string, number>();
    const r = backtestChecks(files, policy, {
      onOrder: (o) => {
        if (o.decision.outcome !== 'approve-prepay') return;
        const k = `${o.decision.rating} ${o.decision.reasons.map((x) => x.code).join(',')}`;
        prepay.set(k, (prepay.get(k) ?? 0) + 1);
      },
    });
    // Sent to prepay: rated D (high risk) or E (no unsecured credit), nothing else.
    expect([...prepay.keys()].every((k) => /^[DE] /.test(k))).toBe(true);
    console.log(`prepay by rating and reasons: ${JSON.stringify(Object.fromEntries(prepay))}`);
    console.log(checksBacktestText(r, 0));
    expect(r.customers).toBe(100);
    expect(r.orders).toBe(2466);
    // The figures the README records ("Credit checks", "Backtest").
    expect(r.outcomes).toEqual({ approve: 1747, 'approve-prepay': 35, hold: 684, block: 0 });
    expect(r.prepay).toEqual({
      orders: 35,
      paidLate: 32,
      unpaid: 0,
      paidOnTime: 3,
      notDue: 0,
      customers: 11,
    });
    expect(r.held).toEqual({
      orders: 684,
      paidLate: 371,
      unpaid: 0,
      paidOnTime: 313,
      notDue: 0,
      customers: 100,
      customersPaidLate: 64,
    });
    expect(
      Object.fromEntries(Object.entries(r.heldBy).map(([k, j]) => [k, [j.orders, j.paidLate, j.paidOnTime]])),
    ).toEqual({
      OVER_LIMIT: [297, 125, 172],
      ALERT_limitUse: [192, 136, 56],
      NO_CREDIT_LIMIT: [100, 41, 59],
      ALERT_overdueAmount: [95, 69, 26],
    });
    expect(r.approved).toMatchObject({ orders: 1747, paidLate: 474, unpaid: 0, paidOnTime: 1273 });
    expect(r.approved.shippedOverdue).toEqual({ USD: 2_859_699 });
    expect(r.ordered).toEqual({ USD: 14_770_318 });
    expect(r.orderedPaidLate).toEqual({ USD: 5_396_078 });
    // Cross-checks against the CSV itself: every invoice once, and the late money is the sample's
    // own DaysLate > 0 rows.
    expect(r.ordered.USD).toBe(csv.reduce((a, c) => a + c.cents, 0));
    expect(r.orderedPaidLate.USD).toBe(csv.filter((c) => c.daysLate > 0).reduce((a, c) => a + c.cents, 0));
  });
});
