import { describe, expect, it } from 'vitest';
import type { Invoice, Payment } from '../../functions/core/records.ts';
import { assess, type CreditFile } from '../../functions/credit/assess.ts';
import { type PolicyDocument, policyId, predictedLateOf } from '../../functions/credit/policy.ts';
import { type ExplainedCandidate, evaluateRules, explainCandidate } from '../../functions/credit/rules.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { inv, parsed, pay } from './credit-fixtures.ts';

// Issue 19 item 3: the "predicted late" early-warning rule, on a history worked by hand.
// C1 (EUR, amounts in cents), as of 2026-06-30.

const AS_OF = '2026-06-30';
const policy = parsed(DEFAULT_POLICY_DOCUMENT);

function withRule(predictedLate: Record<string, unknown>) {
  const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as PolicyDocument;
  (doc.rules as Record<string, unknown>).predictedLate = predictedLate;
  return parsed(doc);
}

function file(invoices: Invoice[], payments: Payment[]): CreditFile {
  return {
    customerId: 'C1',
    customer: {
      customerId: 'C1',
      name: 'Acme',
      industry: 'Wholesale',
      currency: 'EUR',
      creditLimit: 1_000_000,
    },
    currency: 'EUR',
    invoices,
    payments,
    financials: [],
    guarantees: [],
    insurance: [],
    scores: [],
  };
}

/** Three settled invoices of 500.00 on 30-day terms, each paid `late` days after its due date. */
function history(late: number): { invoices: Invoice[]; payments: Payment[] } {
  const dues = ['2026-01-31', '2026-03-03', '2026-03-31'];
  const issued = ['2026-01-01', '2026-02-01', '2026-03-01'];
  const invoices = dues.map((due, i) => inv(`H${i + 1}`, issued[i] as string, due, 50_000));
  const payments = dues.map((due, i) => {
    const d = new Date(`${due}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + late);
    return pay(`P${i + 1}`, d.toISOString().slice(0, 10), 50_000, [`H${i + 1}`]);
  });
  return { invoices, payments };
}

function predictedLate(f: CreditFile, p = policy, asOf = AS_OF): ExplainedCandidate | undefined {
  const hits = evaluateRules(f, assess(f, asOf, p), p)
    .filter((c) => c.rule === 'predictedLate')
    .map(explainCandidate);
  expect(hits.length).toBeLessThanOrEqual(1);
  return hits[0];
}

// O1: 1,000.00 issued 2026-06-15, due 2026-07-15 (15 days ahead: not yet due).
const O1 = inv('O1', '2026-06-15', '2026-07-15', 100_000);

describe('predictedLate', () => {
  it('a customer paying 20 days late with an invoice not yet due raises it at 15 days (the default)', () => {
    const h = history(20);
    const c = predictedLate(file([...h.invoices, O1], h.payments));
    // Its three settled invoices were each paid 20 days after due; all stayed open longer than O1
    // has (it is 15 days from due), so the median, P10 and P90 are 20: expected 2026-07-15 + 20.
    expect(c?.severity).toBe('warning');
    expect(c?.action).toBe('collect');
    expect(c?.facts).toEqual({
      days: 15,
      invoices: 1,
      amount: 100_000,
      worst: {
        invoiceId: 'O1',
        dueDate: '2026-07-15',
        open: 100_000,
        expected: '2026-08-04',
        p10: '2026-08-04',
        p90: '2026-08-04',
        daysLate: 20,
        settledCount: 3,
        reason: 'median of 3 settled invoices, 3 of them late: paid 20 days after the due date (not yet due)',
      },
    });
    expect(c?.summary).toBe(
      '1 invoice not yet overdue is expected more than 15 days late (1,000.00 EUR); the worst: O1 due 2026-07-15, expected 2026-08-04 (20 days late)',
    );
    expect(c?.evidence).toEqual({
      invoices: 1,
      amount: '1,000.00 EUR',
      invoice: 'O1',
      open: '1,000.00 EUR',
      dueDate: '2026-07-15',
      expected: '2026-08-04',
      p10ToP90: '2026-08-04 to 2026-08-04',
      daysLate: 20,
      reason: 'median of 3 settled invoices, 3 of them late: paid 20 days after the due date (not yet due)',
    });
  });

  it('a customer paying on time does not raise it', () => {
    const h = history(0);
    expect(predictedLate(file([...h.invoices, O1], h.payments))).toBeUndefined();
  });

  it('a customer with no settled invoice does not raise it (the due date is expected)', () => {
    expect(predictedLate(file([O1], []))).toBeUndefined();
  });

  it('the policy threshold moves it: 20 days late is not more than 20, and is more than 19', () => {
    const h = history(20);
    const f = file([...h.invoices, O1], h.payments);
    expect(predictedLate(f, withRule({ days: 20 }))).toBeUndefined();
    expect(predictedLate(f, withRule({ days: 19 }))?.facts).toMatchObject({ days: 19, invoices: 1 });
    expect(predictedLate(f, withRule({ enabled: false }))).toBeUndefined();
    // The severity and action are the policy's.
    expect(predictedLate(f, withRule({ severity: 'high', action: 'hold_deliveries' }))?.severity).toBe(
      'high',
    );
  });

  it('counts only open invoices not yet overdue, and names the worst (then the largest)', () => {
    const h = history(20);
    const overdue = inv('O0', '2026-05-21', '2026-06-20', 900_000); // 10 days past due: the daysPastDue rule's
    const small = inv('O2', '2026-06-20', '2026-07-20', 30_000);
    const c = predictedLate(file([...h.invoices, overdue, O1, small], h.payments));
    expect(c?.facts).toMatchObject({
      invoices: 2,
      amount: 130_000,
      worst: { invoiceId: 'O1', daysLate: 20 },
    });
    expect(c?.summary).toMatch(
      /^2 invoices not yet overdue are expected more than 15 days late \(1,300\.00 EUR\)/,
    );
  });

  it('minAmount (per currency) leaves smaller invoices out', () => {
    const h = history(20);
    const f = file([...h.invoices, O1], h.payments);
    expect(predictedLate(f, withRule({ minAmount: { EUR: '1000.01' } }))).toBeUndefined();
    expect(predictedLate(f, withRule({ minAmount: { EUR: '1000.00', USD: '5' } }))?.facts).toMatchObject({
      invoices: 1,
    });
  });

  it('resolves itself: once the invoice is paid, or overdue, nothing qualifies', () => {
    const h = history(20);
    const paid = file([...h.invoices, O1], [...h.payments, pay('P9', '2026-06-30', 100_000, ['O1'])]);
    expect(predictedLate(paid)).toBeUndefined();
    // On 2026-07-16 O1 is 1 day past due: the days-past-due rules speak for it now.
    expect(predictedLate(file([...h.invoices, O1], h.payments), policy, '2026-07-16')).toBeUndefined();
  });

  it('reads only what was known on the date: a settlement after it is not history', () => {
    const h = history(20);
    // H3 paid on 2026-04-20 is not known on 2026-04-19: only H1 and H2 are history then.
    const early = inv('E1', '2026-04-10', '2026-05-10', 100_000);
    const c = predictedLate(file([...h.invoices, early], h.payments), policy, '2026-04-19');
    expect(c?.facts).toMatchObject({ worst: { invoiceId: 'E1', settledCount: 2, expected: '2026-05-30' } });
  });
});

describe('the other rules are unchanged by it', () => {
  it('the same candidates of every other rule, with the rule on or off', () => {
    const h = history(20);
    const overdue = inv('O0', '2026-04-21', '2026-05-21', 900_000); // 40 days past due
    const f = file([...h.invoices, overdue, O1], h.payments);
    const on = evaluateRules(f, assess(f, AS_OF, policy), policy);
    const off = withRule({ enabled: false });
    const others = evaluateRules(f, assess(f, AS_OF, off), off);
    expect(on.map((c) => c.rule)).toContain('predictedLate');
    expect(others.map((c) => c.rule)).toContain('daysPastDue');
    const strip = (cs: typeof on) =>
      cs.filter((c) => c.rule !== 'predictedLate').map((c) => ({ ...c, policyId: '' }));
    expect(strip(on)).toEqual(strip(others));
  });
});

describe('predictedLate in the policy', () => {
  it('is optional: the shipped policy has no section, keeps its id and gets the defaults', () => {
    expect('predictedLate' in policy.rules).toBe(false);
    const { id: _id, ...doc } = policy;
    expect(policy.id).toBe(policyId(doc as PolicyDocument));
    expect(predictedLateOf(policy)).toEqual({
      enabled: true,
      days: 15,
      minAmount: {},
      severity: 'warning',
      action: 'collect',
    });
  });

  it('a policy that names it gets another id; a bad currency or amount is refused with its path', () => {
    expect(withRule({ days: 15 }).id).not.toBe(policy.id);
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as PolicyDocument;
    (doc.rules as Record<string, unknown>).predictedLate = { days: 0, minAmount: { EURO: '1' } };
    expect(() => parsed(doc)).toThrow(/rules\.predictedLate\.days.*|rules\.predictedLate\.minAmount\.EURO/);
  });
});
