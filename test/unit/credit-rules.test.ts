import { describe, expect, it } from 'vitest';
import type { PromiseToPay } from '../../functions/collections/promises.ts';
import { addDays } from '../../functions/core/dates.ts';
import type { Customer, FinancialStatement, Invoice, Payment } from '../../functions/core/records.ts';
import {
  assess,
  type CreditFile,
  type Guarantee,
  type InsuranceCover,
  type PriorAssessment,
} from '../../functions/credit/assess.ts';
import type { Policy, PolicyDocument, Rating, RuleName } from '../../functions/credit/policy.ts';
import {
  concentrationCandidate,
  type ExplainedCandidate,
  evaluateRules,
  explainCandidate,
  levelFor,
  median,
  type Portfolio,
  robustZ,
} from '../../functions/credit/rules.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { inv, parsed, pay } from './credit-fixtures.ts';

// ---- fixtures (EUR, amounts in cents) ----

const policy = parsed(DEFAULT_POLICY_DOCUMENT);
const AS_OF = '2026-06-30';

function customer(extra: Partial<Customer> = {}): Customer {
  return {
    customerId: 'C1',
    name: 'Acme',
    industry: 'Wholesale',
    currency: 'EUR',
    creditLimit: 1_000_000,
    ...extra,
  };
}

function file(extra: Partial<CreditFile> = {}): CreditFile {
  return {
    customerId: 'C1',
    customer: customer(),
    currency: 'EUR',
    invoices: [],
    payments: [],
    financials: [],
    guarantees: [],
    insurance: [],
    scores: [],
    ...extra,
  };
}

/** An open invoice of `amount`, not due until long after every asOf used here. */
function notDue(id: string, amount: number, issueDate = '2026-06-01'): Invoice {
  return inv(id, issueDate, '2027-06-30', amount);
}

function run(f: CreditFile, asOf = AS_OF, p: Policy = policy, portfolio?: Portfolio): ExplainedCandidate[] {
  return evaluateRules(f, assess(f, asOf, p), p, portfolio).map(explainCandidate);
}

function only(cs: ExplainedCandidate[], rule: RuleName): ExplainedCandidate | undefined {
  const hits = cs.filter((c) => c.rule === rule);
  expect(hits.length).toBeLessThanOrEqual(1); // at most one candidate per rule
  return hits[0];
}

function sev(cs: ExplainedCandidate[], rule: RuleName): string {
  const c = only(cs, rule);
  return c ? `${c.severity}/${c.action}` : 'none';
}

// ---- helpers ----

describe('levelFor', () => {
  const dpd = policy.rules.daysPastDue.levels;
  const use = policy.rules.limitUse.levels;

  it('returns the highest level reached (>= from)', () => {
    expect(levelFor(dpd, 29)).toBeUndefined();
    expect(levelFor(dpd, 30)?.severity).toBe('warning');
    expect(levelFor(dpd, 59)?.severity).toBe('warning');
    expect(levelFor(dpd, 60)?.severity).toBe('high');
    expect(levelFor(dpd, 90)).toEqual({ from: 90, severity: 'critical', action: 'cut_limit' });
    expect(levelFor(dpd, 10_000)?.severity).toBe('critical');
  });

  it('a strict level needs the measure above `from`', () => {
    expect(levelFor(use, 1)?.severity).toBe('warning');
    expect(levelFor(use, 1.0001)?.severity).toBe('high');
  });

  it('nothing for an empty list', () => {
    expect(levelFor([], 5)).toBeUndefined();
  });
});

describe('median', () => {
  it('middle value of an odd count, mean of the two middle values of an even count', () => {
    expect(median([5])).toBe(5);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5); // (2 + 3) / 2
    expect(median([10, 10, 1, 100])).toBe(10); // sorted 1, 10, 10, 100
    expect(median([-5, -1, -3])).toBe(-3);
  });

  it.each([7, 32, 33, 101])(
    'agrees with a full sort for %i values (insertion below 33, typed array above)',
    (n) => {
      const xs = Array.from({ length: n }, (_, i) => ((i * 7919) % 97) - 40 + (i % 3) / 4);
      const sorted = [...xs].sort((a, b) => a - b);
      const m = Math.floor(n / 2);
      expect(median(xs)).toBe(n % 2 ? sorted[m] : ((sorted[m - 1] as number) + (sorted[m] as number)) / 2);
    },
  );

  it('sorts numerically (not as text) and leaves the input alone', () => {
    const xs = [100, 9, 20];
    expect(median(xs)).toBe(20); // text order would give 100, 20, 9
    expect(xs).toEqual([100, 9, 20]);
  });
});

describe('robustZ', () => {
  // sorted: 800 900 1000 1000 1000 1000 1100 1200 -> median (1000 + 1000) / 2 = 1000
  // |x - 1000|: 200 100 0 0 0 0 100 200 -> sorted 0 0 0 0 100 100 200 200 -> MAD (0 + 100) / 2 = 50
  const hist = [1000, 1100, 900, 1000, 1200, 800, 1000, 1000];

  it('0.6745 * (x - median) / MAD', () => {
    const r = robustZ(1260, hist);
    expect(r.median).toBe(1000);
    expect(r.mad).toBe(50);
    expect(r.z).toBeCloseTo((0.6745 * 260) / 50, 12); // 3.5074
    expect(robustZ(740, hist).z).toBeCloseTo((0.6745 * -260) / 50, 12);
    expect(robustZ(1000, hist).z).toBe(0);
  });

  it('falls back to 1.2533 x mean absolute deviation when MAD is 0', () => {
    // sorted 900 1000 1000 1000 1000 1000 1100 1200: median 1000
    // deviations 100 0 0 0 0 0 100 200: MAD (0 + 0) / 2 = 0; mean deviation 400 / 8 = 50
    const h = [1000, 1000, 1000, 1000, 1000, 1100, 1200, 900];
    const r = robustZ(1220, h);
    expect(r.mad).toBe(0);
    expect(r.median).toBe(1000);
    expect(r.z).toBeCloseTo(220 / (1.2533 * 50), 12); // 3.5107
  });

  it('every value the same: any other value is infinitely far, signed; the same value is 0', () => {
    const h = [500, 500, 500];
    expect(robustZ(501, h).z).toBe(Number.POSITIVE_INFINITY);
    expect(robustZ(499, h).z).toBe(Number.NEGATIVE_INFINITY);
    expect(robustZ(500, h).z).toBe(0);
  });
});

// ---- the rules ----

describe('daysPastDue', () => {
  it.each([
    // due date -> days past due on 2026-06-30
    ['2026-06-01', 29, 'none'],
    ['2026-05-31', 30, 'warning/collect'],
    ['2026-05-02', 59, 'warning/collect'],
    ['2026-05-01', 60, 'high/hold_deliveries'],
    ['2026-04-02', 89, 'high/hold_deliveries'],
    ['2026-04-01', 90, 'critical/cut_limit'],
  ])('due %s: %i days -> %s', (due, days, expected) => {
    const f = file({ invoices: [inv('A', '2026-01-01', due, 100_000)] });
    const cs = run(f);
    expect(sev(cs, 'daysPastDue')).toBe(expected);
    if (expected !== 'none') {
      const c = only(cs, 'daysPastDue');
      expect(c?.evidence.maxDaysPastDue).toBe(days);
      expect(c?.summary).toBe(`an invoice is ${days} days past due`);
      expect(c?.customerId).toBe('C1');
      expect(c?.asOf).toBe(AS_OF);
      expect(c?.policyId).toBe(policy.id);
    }
  });

  it('a finding holds numbers (minor units, in the credit currency); its words are made from them', () => {
    const f = file({ invoices: [inv('A', '2026-01-01', '2026-05-01', 123_456), notDue('B', 50_000)] });
    const found = evaluateRules(f, assess(f, AS_OF, policy), policy).find((c) => c.rule === 'daysPastDue');
    expect(found?.currency).toBe(f.currency);
    expect(found?.rule === 'daysPastDue' && found.facts).toEqual({
      maxDaysPastDue: 60,
      overdueAmount: 123_456,
      openInvoices: 2,
    });
    expect(found && explainCandidate(found)).toEqual({
      customerId: 'C1',
      rule: 'daysPastDue',
      severity: 'high',
      action: 'hold_deliveries',
      asOf: AS_OF,
      policyId: policy.id,
      summary: 'an invoice is 60 days past due',
      evidence: { maxDaysPastDue: 60, overdueAmount: '1,234.56 EUR', openInvoices: 2 },
      facts: { maxDaysPastDue: 60, overdueAmount: 123_456, openInvoices: 2 },
      currency: f.currency,
    });
  });

  it('switched off in the policy, it never fires', () => {
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as PolicyDocument;
    doc.rules.daysPastDue.enabled = false;
    const off = parsed(doc);
    const f = file({ invoices: [inv('A', '2026-01-01', '2026-04-01', 100_000)] });
    expect(sev(run(f, AS_OF, off), 'daysPastDue')).toBe('none');
  });
});

describe('overdueAmount', () => {
  // limit 10,000.00 EUR; an overdue invoice (due 2026-06-01) of the given amount
  it.each([
    [99_999, 'none'], // 9.9999%
    [100_000, 'warning/collect'], // 10%
    [249_999, 'warning/collect'],
    [250_000, 'high/hold_deliveries'], // 25%
    [499_999, 'high/hold_deliveries'],
    [500_000, 'critical/cut_limit'], // 50%
  ])('overdue %i of a 1,000,000 limit -> %s', (amount, expected) => {
    const f = file({ invoices: [inv('A', '2026-05-01', '2026-06-01', amount)] });
    expect(sev(run(f), 'overdueAmount')).toBe(expected);
  });

  it('shows the share of the limit', () => {
    const f = file({ invoices: [inv('A', '2026-05-01', '2026-06-01', 250_000)] });
    const c = only(run(f), 'overdueAmount');
    expect(c?.evidence).toEqual({
      overdueAmount: '2,500.00 EUR',
      creditLimit: '10,000.00 EUR',
      share: '25.0%',
    });
    expect(c?.summary).toBe('2,500.00 EUR overdue, 25.0% of the credit limit');
  });

  it('without a limit the rule is silent (daysPastDue speaks for the overdue items)', () => {
    // 600 overdue of 1,000 open, 30 days past due
    const f = file({
      customer: customer({ creditLimit: undefined }),
      invoices: [inv('A', '2026-05-01', '2026-05-31', 600), notDue('B', 400)],
    });
    const cs = run(f);
    expect(sev(cs, 'overdueAmount')).toBe('none');
    expect(sev(cs, 'daysPastDue')).toBe('warning/collect');
  });

  it('a zero limit: silent too (limitUse reports anything owed against it)', () => {
    const f = file({
      customer: customer({ creditLimit: 0 }),
      invoices: [inv('A', '2026-05-01', '2026-06-01', 600), notDue('B', 400)],
    });
    const cs = run(f);
    expect(sev(cs, 'overdueAmount')).toBe('none');
    expect(sev(cs, 'limitUse')).toBe('high/hold_deliveries');
  });

  it('nothing overdue, no alert', () => {
    expect(sev(run(file({ invoices: [notDue('A', 900_000)] })), 'overdueAmount')).toBe('none');
  });
});

describe('limitUse', () => {
  it.each([
    [79_000, 100_000, 'none'], // 0.79
    [80_000, 100_000, 'warning/review'], // 0.8
    [100_000, 100_000, 'warning/review'], // 1.0: not above 1
    [10_001_000, 10_000_000, 'high/hold_deliveries'], // 1.0001
  ])('exposure %i against a limit of %i -> %s', (owed, limit, expected) => {
    const f = file({ customer: customer({ creditLimit: limit }), invoices: [notDue('A', owed)] });
    expect(sev(run(f), 'limitUse')).toBe(expected);
  });

  it('shows exposure, limit and use', () => {
    const f = file({ customer: customer({ creditLimit: 100_000 }), invoices: [notDue('A', 80_000)] });
    const c = only(run(f), 'limitUse');
    expect(c?.evidence).toEqual({ exposure: '800.00 EUR', creditLimit: '1,000.00 EUR', limitUse: '80.0%' });
    expect(c?.summary).toBe('exposure 800.00 EUR is 80.0% of the 1,000.00 EUR limit');
  });

  it('unapplied cash lowers the exposure below the threshold', () => {
    // 85,000 open - 6,000 unapplied = 79,000: 0.79
    const f = file({
      customer: customer({ creditLimit: 100_000 }),
      invoices: [notDue('A', 85_000)],
      payments: [pay('P', '2026-06-10', 6_000, ['NOPE'])],
    });
    expect(sev(run(f), 'limitUse')).toBe('none');
  });

  it('anything owed against a zero limit is high; nothing owed is fine', () => {
    const owed = file({ customer: customer({ creditLimit: 0 }), invoices: [notDue('A', 1)] });
    const c = only(run(owed), 'limitUse');
    expect(`${c?.severity}/${c?.action}`).toBe('high/hold_deliveries');
    expect(c?.summary).toBe('0.01 EUR owed against a zero credit limit');
    expect(sev(run(file({ customer: customer({ creditLimit: 0 }) })), 'limitUse')).toBe('none');
  });

  it('no limit on file, no alert', () => {
    const f = file({ customer: customer({ creditLimit: undefined }), invoices: [notDue('A', 99_000_000)] });
    expect(sev(run(f), 'limitUse')).toBe('none');
  });
});

describe('abnormalPayment', () => {
  // history (received on or before 2026-06-23 = asOf - 7 days), in cents x 100 of the robustZ example:
  // median 100,000, MAD 5,000
  const amounts = [100_000, 110_000, 90_000, 100_000, 120_000, 80_000, 100_000, 100_000];
  const history = amounts.map((a, i) => pay(`H${i}`, `2025-${String(i + 3).padStart(2, '0')}-15`, a));

  it.each([
    [126_000, 'warning/review'], // 0.6745 * 26,000 / 5,000 = 3.5074 > 3.5
    [125_900, 'none'], // 0.6745 * 25,900 / 5,000 = 3.4939
    [74_000, 'warning/review'], // -3.5074: far below also counts
    [74_100, 'none'],
  ])('a recent payment of %i -> %s', (amount, expected) => {
    const f = file({ payments: [...history, pay('R', '2026-06-24', amount)] });
    expect(sev(run(f), 'abnormalPayment')).toBe(expected);
  });

  it('names the worst recent payment with its evidence', () => {
    const f = file({
      payments: [...history, pay('R1', '2026-06-24', 126_000), pay('R2', '2026-06-30', 60_000)],
    });
    const c = only(run(f), 'abnormalPayment');
    // R2: 0.6745 * (60,000 - 100,000) / 5,000 = -5.396, further out than R1's 3.5074
    expect(c?.evidence).toEqual({
      paymentId: 'R2',
      receivedDate: '2026-06-30',
      amount: '600.00 EUR',
      medianOfHistory: '1,000.00 EUR',
      robustZ: -5.4,
      paymentsInHistory: 8,
    });
    expect(c?.summary).toBe("payment R2 of 600.00 EUR is far from this customer's usual 1,000.00 EUR");
  });

  it('a payment on the last day of the history is history, not recent', () => {
    // 2026-06-23 = asOf - 7: joins the history (9 payments) and nothing is recent
    const f = file({ payments: [...history, pay('R', '2026-06-23', 900_000)] });
    expect(sev(run(f), 'abnormalPayment')).toBe('none');
  });

  it('with fewer than 8 earlier payments, say nothing', () => {
    const f = file({ payments: [...history.slice(1), pay('R', '2026-06-24', 900_000)] });
    expect(sev(run(f), 'abnormalPayment')).toBe('none');
  });

  it('payments after asOf and in another currency are not looked at', () => {
    const f = file({
      payments: [
        ...history,
        pay('LATE', '2026-07-01', 900_000),
        pay('USD', '2026-06-25', 900_000, [], { currency: 'USD' }),
      ],
    });
    expect(sev(run(f), 'abnormalPayment')).toBe('none');
  });

  it('MAD = 0: the mean absolute deviation stands in', () => {
    // median 100,000; MAD 0; mean |dev| = (10,000 + 20,000 + 10,000) / 8 = 5,000
    const h = [100_000, 100_000, 100_000, 100_000, 100_000, 110_000, 120_000, 90_000].map((a, i) =>
      pay(`H${i}`, `2025-${String(i + 3).padStart(2, '0')}-15`, a),
    );
    // 22,000 / (1.2533 * 5,000) = 3.5107 > 3.5
    expect(sev(run(file({ payments: [...h, pay('R', '2026-06-24', 122_000)] })), 'abnormalPayment')).toBe(
      'warning/review',
    );
    // 21,900 / 6,266.5 = 3.4947
    expect(sev(run(file({ payments: [...h, pay('R', '2026-06-24', 121_900)] })), 'abnormalPayment')).toBe(
      'none',
    );
  });

  it('every earlier payment the same amount: any other amount is flagged and said in words', () => {
    const h = Array.from({ length: 8 }, (_, i) =>
      pay(`H${i}`, `2025-${String(i + 3).padStart(2, '0')}-15`, 50_000),
    );
    const c = only(run(file({ payments: [...h, pay('R', '2026-06-24', 50_001)] })), 'abnormalPayment');
    expect(c?.evidence.robustZ).toBe('every earlier payment was the same amount');
    expect(sev(run(file({ payments: [...h, pay('R', '2026-06-24', 50_000)] })), 'abnormalPayment')).toBe(
      'none',
    );
  });
});

describe('paymentFrequency', () => {
  // a big invoice keeps the exposure above zero; small payments (FIFO onto it) every 10 days
  const big = inv('A', '2025-12-01', '2027-06-30', 1_000_000);
  const every10 = ['2026-01-01', '2026-01-11', '2026-01-21', '2026-01-31'].map((d, i) =>
    pay(`P${i}`, d, 1_000),
  );

  it('a gap > 2 x the usual interval but under 30 days: no alert; from 30 days: alert', () => {
    const f = file({ invoices: [big], payments: every10 });
    // 2026-01-31 -> 2026-03-01: 28 + 1 = 29 days (> 2 x 10, but < 30)
    expect(sev(run(f, '2026-03-01'), 'paymentFrequency')).toBe('none');
    // 2026-03-02: 30 days
    const c = only(run(f, '2026-03-02'), 'paymentFrequency');
    expect(`${c?.severity}/${c?.action}`).toBe('warning/collect');
    expect(c?.evidence).toEqual({
      lastPayment: '2026-01-31',
      daysSinceLastPayment: 30,
      usualIntervalDays: 10,
      exposure: '9,960.00 EUR', // 10,000.00 - 4 x 10.00
    });
    expect(c?.summary).toBe('no payment for 30 days; this customer usually pays every 10 days');
  });

  it('the gap must be more than twice the median interval', () => {
    // every 20 days: 01-01, 01-21, 02-10, 03-02
    const every20 = ['2026-01-01', '2026-01-21', '2026-02-10', '2026-03-02'].map((d, i) =>
      pay(`P${i}`, d, 1_000),
    );
    const f = file({ invoices: [big], payments: every20 });
    // 2026-03-02 -> 2026-04-11: 29 + 11 = 40 = 2 x 20, not more
    expect(sev(run(f, '2026-04-11'), 'paymentFrequency')).toBe('none');
    expect(sev(run(f, '2026-04-12'), 'paymentFrequency')).toBe('warning/collect');
  });

  it('the usual interval is the median gap, not the mean', () => {
    // gaps 10, 10, 100: median 10 (mean 40)
    const ps = ['2025-10-01', '2025-10-11', '2025-10-21', '2026-01-29'].map((d, i) => pay(`P${i}`, d, 1_000));
    const c = only(run(file({ invoices: [big], payments: ps }), '2026-02-28'), 'paymentFrequency');
    // 2026-01-29 -> 2026-02-28: 30 days > 20
    expect(c?.evidence.usualIntervalDays).toBe(10);
    expect(c?.evidence.daysSinceLastPayment).toBe(30);
  });

  it('nothing owed, no alert', () => {
    // 4 x 1,000 pays the 4,000 invoice in full
    const f = file({ invoices: [inv('A', '2025-12-01', '2025-12-31', 4_000)], payments: every10 });
    expect(sev(run(f, AS_OF), 'paymentFrequency')).toBe('none');
  });

  it('needs payments on at least 4 different days', () => {
    const three = [...every10.slice(0, 3), pay('P9', '2026-01-21', 1_000)]; // 4 payments, 3 days
    expect(sev(run(file({ invoices: [big], payments: three }), AS_OF), 'paymentFrequency')).toBe('none');
    expect(sev(run(file({ invoices: [big], payments: every10 }), AS_OF), 'paymentFrequency')).toBe(
      'warning/collect',
    );
  });
});

describe('daysLateDrift', () => {
  // as of 2026-06-30: recent = settled after 2026-04-01, baseline = settled after 2025-04-01 up to 2026-04-01
  let n = 0;
  /** An invoice settled on `settled`, `late` days after its due date. */
  function settledLate(settled: string, late: number, amount = 10_000): { i: Invoice; p: Payment } {
    n++;
    const due = addDays(settled, -late);
    return { i: inv(`S${n}`, addDays(due, -30), due, amount), p: pay(`SP${n}`, settled, amount, [`S${n}`]) };
  }
  function drift(recent: [string, number][], base: [string, number][]): ExplainedCandidate[] {
    const rows = [...recent, ...base].map(([d, l]) => settledLate(d, l));
    return run(file({ invoices: rows.map((r) => r.i), payments: rows.map((r) => r.p) }));
  }
  const base0: [string, number][] = [
    ['2025-10-15', 0],
    ['2025-11-15', 0],
    ['2025-12-15', 0],
  ];
  const recentAt = (late: number[]): [string, number][] =>
    late.map((l, i) => [['2026-05-10', '2026-05-20', '2026-06-10'][i] as string, l]);

  it.each([
    [[9, 9, 9], 'none'], // drift 9
    [[10, 10, 10], 'warning/collect'], // drift 10
    [[5, 10, 15], 'warning/collect'], // mean 10
    [[19, 19, 19], 'warning/collect'],
    [[20, 20, 20], 'high/hold_deliveries'], // drift 20
  ])('recent days late %j against a baseline of 0 -> %s', (late, expected) => {
    expect(sev(drift(recentAt(late), base0), 'daysLateDrift')).toBe(expected);
  });

  it('measures against the customer’s own baseline', () => {
    // recent 30, 30, 30; baseline 15, 15, 15: drift 15 -> warning
    const base15: [string, number][] = base0.map(([d]) => [d, 15]);
    const c = only(drift(recentAt([30, 30, 30]), base15), 'daysLateDrift');
    expect(c?.severity).toBe('warning');
    expect(c?.evidence).toEqual({
      recentMeanDaysLate: 30,
      baselineMeanDaysLate: 15,
      driftDays: 15,
      recentSettled: 3,
      baselineSettled: 3,
    });
    // recent 25, 25, 25 against 15: drift 10, still warning; 24 -> none
    expect(sev(drift(recentAt([25, 25, 25]), base15), 'daysLateDrift')).toBe('warning/collect');
    expect(sev(drift(recentAt([24, 24, 24]), base15), 'daysLateDrift')).toBe('none');
  });

  it('a drift of exactly 10 days between fractional means warns', () => {
    // recent 20, 20, 21: mean 61/3 = 20.33; baseline 10, 10, 11: mean 31/3 = 10.33; drift 30/3 = 10 >= 10
    const base: [string, number][] = [
      ['2025-10-15', 10],
      ['2025-11-15', 10],
      ['2025-12-15', 11],
    ];
    expect(sev(drift(recentAt([20, 20, 21]), base), 'daysLateDrift')).toBe('warning/collect');
  });

  it('needs at least 3 settled invoices in each window', () => {
    expect(sev(drift(recentAt([30, 30]), base0), 'daysLateDrift')).toBe('none');
    expect(sev(drift(recentAt([30, 30, 30]), base0.slice(0, 2)), 'daysLateDrift')).toBe('none');
  });

  it('window edges: settled on 2026-04-01 is baseline; settled on 2025-04-01 is out', () => {
    const c = only(
      drift(recentAt([10, 10, 10]), [
        ['2025-10-15', 0],
        ['2025-11-15', 0],
        ['2026-04-01', 0], // baseline (not after 2026-04-01)
        ['2025-04-01', 90], // too old: would lift the baseline mean to 22.5
      ]),
      'daysLateDrift',
    );
    expect(c?.evidence.recentSettled).toBe(3);
    expect(c?.evidence.baselineSettled).toBe(3);
    expect(c?.evidence.baselineMeanDaysLate).toBe(0);
    expect(c?.severity).toBe('warning');
  });
});

describe('ratingDowngrade', () => {
  // the default policy compares with the best rating of the last 30 days: since 2026-05-31
  const f = file({ invoices: [notDue('A', 1_000)] });
  const a = assess(f, AS_OF, policy);
  const prior = (asOf: string, rating: Rating, score = 70): PriorAssessment => ({
    asOf,
    rating,
    score,
    policyId: policy.id,
  });
  const check = (recent: PriorAssessment[] | undefined, now: Rating) =>
    evaluateRules({ ...f, recent }, { ...a, rating: now }, policy).map(explainCandidate);

  it.each([
    ['B', 'C', 'warning/review'], // 1 notch
    ['A', 'C', 'high/cut_limit'], // 2 notches
    ['A', 'E', 'high/cut_limit'], // 4 notches
    ['C', 'C', 'none'],
    ['E', 'C', 'none'], // an upgrade
  ] as [Rating, Rating, string][])('from %s (2026-06-15) to %s -> %s', (before, now, expected) => {
    expect(sev(check([prior('2026-06-15', before)], now), 'ratingDowngrade')).toBe(expected);
  });

  it('nothing earlier on file, no alert', () => {
    expect(sev(check(undefined, 'E'), 'ratingDowngrade')).toBe('none');
    expect(sev(check([], 'E'), 'ratingDowngrade')).toBe('none');
  });

  it('the window: a fall 30 days back counts, 31 does not; an entry of the same day does not', () => {
    // `recent` holds rating changes: A until 05-31, C from 05-31 (30 days before 06-30): counts
    expect(sev(check([prior('2026-04-01', 'A'), prior('2026-05-31', 'C')], 'C'), 'ratingDowngrade')).toBe(
      'high/cut_limit',
    );
    // C from 05-30 (31 days back): C was already in effect when the window opened
    expect(sev(check([prior('2026-04-01', 'A'), prior('2026-05-30', 'C')], 'C'), 'ratingDowngrade')).toBe(
      'none',
    );
    expect(sev(check([prior(AS_OF, 'A')], 'C'), 'ratingDowngrade')).toBe('none');
  });

  it('compares with the best rating in the window, so a slide in steps is counted in full', () => {
    // A on 06-01, B on 06-10, C on 06-20, now D: 3 notches below A
    const c = only(
      check([prior('2026-06-01', 'A', 85), prior('2026-06-10', 'B', 70), prior('2026-06-20', 'C', 55)], 'D'),
      'ratingDowngrade',
    );
    expect(`${c?.severity}/${c?.action}`).toBe('high/cut_limit');
    expect(c?.evidence.fromRating).toBe('A');
    expect(c?.evidence.fromAsOf).toBe('2026-06-01');
    expect(c?.evidence.fromScore).toBe(85);
    expect(c?.evidence.notches).toBe(3);
  });

  it('a fall inside the window keeps warning after a recovery, until it leaves the window', () => {
    // B on 06-05, C on 06-10 (a fall), back to B now: the fall of 06-10 is still within 30 days
    const c = only(
      check([prior('2026-06-05', 'B', 70), prior('2026-06-10', 'C', 55)], 'B'),
      'ratingDowngrade',
    );
    expect(`${c?.severity}/${c?.action}`).toBe('warning/review');
    expect(c?.summary).toBe('rating fell from B (2026-06-05) to C (2026-06-10); B now');
    // A fall that is only seen in assessments older than the window is forgotten.
    expect(sev(check([prior('2026-05-01', 'B'), prior('2026-05-10', 'C')], 'C'), 'ratingDowngrade')).toBe(
      'none',
    );
  });

  it('the rating in effect when the window opens counts, however old its entry', () => {
    // A from 05-01 until B on 06-20, C now: A held on 05-31, so the fall is A -> C, 2 notches
    expect(sev(check([prior('2026-05-01', 'A'), prior('2026-06-20', 'B')], 'C'), 'ratingDowngrade')).toBe(
      'high/cut_limit',
    );
    // The same with a steady A that last changed long ago: a fall today from A
    expect(sev(check([prior('2025-01-01', 'A')], 'B'), 'ratingDowngrade')).toBe('warning/review');
  });

  it('uses the real assessment: the new customer scores 56 (C), B two weeks ago', () => {
    // one open invoice, issued this month: NC behaviour 5+5+4, dpd 0 -> 12, overdue 0 -> 8,
    // limit use 0.1% -> 8, NC ratios 2+2+2+4, history 0, NC score 2, cover 0% -> 0, wholesale 2 = 56
    expect(a.score).toBe(56);
    expect(a.rating).toBe('C');
    const c = only(
      evaluateRules({ ...f, recent: [prior('2026-06-15', 'B')] }, a, policy).map(explainCandidate),
      'ratingDowngrade',
    );
    expect(c?.evidence).toEqual({
      fromRating: 'B',
      fromAsOf: '2026-06-15',
      fromScore: 70,
      toRating: 'C',
      toAsOf: a.asOf,
      notches: 1,
      rating: 'C',
      score: 56,
      windowDays: 30,
    });
    expect(c?.summary).toBe(`rating fell from B (2026-06-15) to C (${a.asOf})`);
  });
});

describe('coverExpiring', () => {
  const g = (expiry: string, extra: Partial<Guarantee> = {}): Guarantee => ({
    customerId: 'C1',
    guaranteeId: 'G1',
    issuer: 'Big Bank',
    amount: 1_000_000,
    currency: 'EUR',
    expiry,
    ...extra,
  });
  const ins = (expiry: string): InsuranceCover => ({
    customerId: 'C1',
    policyId: 'N1',
    insurer: 'Safe Re',
    insuredShareBp: 9000,
    cap: 500_000,
    currency: 'EUR',
    expiry,
  });

  it.each([
    ['2026-07-30', 'warning/review'], // 30 days left
    ['2026-07-31', 'none'], // 31 days
    ['2026-06-30', 'warning/review'], // expires today
    ['2026-06-29', 'none'], // already expired
  ])('a guarantee expiring %s -> %s', (expiry, expected) => {
    expect(sev(run(file({ guarantees: [g(expiry)] })), 'coverExpiring')).toBe(expected);
  });

  it('a guarantee not yet valid is not expiring', () => {
    expect(
      sev(run(file({ guarantees: [g('2026-07-15', { validFrom: '2026-07-01' })] })), 'coverExpiring'),
    ).toBe('none');
  });

  it('names the first to expire and lists them all', () => {
    const c = only(
      run(file({ guarantees: [g('2026-07-20')], insurance: [ins('2026-07-10')] })),
      'coverExpiring',
    );
    expect(c?.summary).toBe('insurance N1 (Safe Re) expires on 2026-07-10, in 10 days');
    expect(c?.evidence).toEqual({
      expiring:
        'insurance N1 (Safe Re): 5,000.00 EUR until 2026-07-10; guarantee G1 (Big Bank): 10,000.00 EUR until 2026-07-20',
      daysLeft: 10,
    });
  });
});

describe('staleFinancials', () => {
  // as of 2026-06-15: stale when the period ended before 2025-03-15 (more than 15 months)
  const asOf = '2026-06-15';
  const fs = (periodEnd: string): FinancialStatement => ({
    customerId: 'C1',
    periodEnd,
    currency: 'EUR',
    revenue: 1_000_000,
  });
  const owing = (financials: FinancialStatement[]) => file({ invoices: [notDue('A', 1_000)], financials });

  it.each([
    ['2025-03-15', 'none'], // exactly 15 months
    ['2025-03-14', 'info/review'],
    ['2024-12-31', 'info/review'],
  ])('latest statement %s -> %s', (periodEnd, expected) => {
    expect(sev(run(owing([fs(periodEnd)]), asOf), 'staleFinancials')).toBe(expected);
  });

  it('only the latest statement counts', () => {
    expect(sev(run(owing([fs('2023-12-31'), fs('2025-12-31')]), asOf), 'staleFinancials')).toBe('none');
  });

  it('only while the customer owes money', () => {
    expect(sev(run(file({ financials: [fs('2023-12-31')] }), asOf), 'staleFinancials')).toBe('none');
  });

  it('no statement at all: nothing to be stale', () => {
    expect(sev(run(owing([]), asOf), 'staleFinancials')).toBe('none');
  });

  it('evidence', () => {
    const c = only(run(owing([fs('2024-12-31')]), asOf), 'staleFinancials');
    expect(c?.evidence).toEqual({ latestPeriodEnd: '2024-12-31', exposure: '10.00 EUR' });
  });
});

describe('disputedShare', () => {
  // as of 2026-06-30, compared with 2026-05-31
  it('from 0% to 10% of the open amount: alert', () => {
    const f = file({
      invoices: [
        inv('A', '2026-05-01', '2026-07-31', 900_000),
        inv('B', '2026-06-10', '2026-07-10', 100_000, { disputed: true }),
      ],
    });
    const c = only(run(f), 'disputedShare');
    expect(`${c?.severity}/${c?.action}`).toBe('warning/review');
    expect(c?.evidence).toEqual({
      disputedAmount: '1,000.00 EUR',
      disputedShare: '10.0%',
      shareBefore: '0.0%',
      since: '2026-05-31',
    });
  });

  it('below 10% now: no alert', () => {
    // 99,000 / 999,000 = 9.9%
    const f = file({
      invoices: [
        inv('A', '2026-05-01', '2026-07-31', 900_000),
        inv('B', '2026-06-10', '2026-07-10', 99_000, { disputed: true }),
      ],
    });
    expect(sev(run(f), 'disputedShare')).toBe('none');
  });

  it('already disputed 30 days ago: high but not rising, no alert', () => {
    // 2026-05-31 and now: 100,000 / 1,000,000 = 10%
    const f = file({
      invoices: [
        inv('A', '2026-05-01', '2026-07-31', 900_000),
        inv('B', '2026-05-15', '2026-07-10', 100_000, { disputed: true }),
      ],
    });
    expect(sev(run(f), 'disputedShare')).toBe('none');
  });

  it('rising because the undisputed part was paid', () => {
    // then 100,000 / 1,000,000 = 10%; A is paid down by 800,000: now 100,000 / 200,000 = 50%
    const f = file({
      invoices: [
        inv('A', '2026-05-01', '2026-07-31', 900_000),
        inv('B', '2026-05-15', '2026-07-10', 100_000, { disputed: true }),
      ],
      payments: [pay('P', '2026-06-15', 800_000, ['A'])],
    });
    const c = only(run(f), 'disputedShare');
    expect(c?.evidence.disputedShare).toBe('50.0%');
    expect(c?.evidence.shareBefore).toBe('10.0%');
  });

  it('a rise of exactly 10 points, from 20% to 30%, fires', () => {
    // then (2026-05-31): B 200,000 disputed of 1,000,000 open = 20%
    // now: A paid down by 100,000, C 100,000 disputed issued 06-10:
    //   open 700,000 + 200,000 + 100,000 = 1,000,000, disputed 300,000 = 30%: +10 points, >= minRise 0.1
    const f = file({
      invoices: [
        inv('A', '2026-05-01', '2026-07-31', 800_000),
        inv('B', '2026-05-15', '2026-07-10', 200_000, { disputed: true }),
        inv('C', '2026-06-10', '2026-07-10', 100_000, { disputed: true }),
      ],
      payments: [pay('P', '2026-06-15', 100_000, ['A'])],
    });
    const c = only(run(f), 'disputedShare');
    expect(c?.evidence.disputedShare).toBe('30.0%');
    expect(c?.evidence.shareBefore).toBe('20.0%');
  });

  it('a rise of less than 10 points: no alert', () => {
    // then 100,000 / 1,000,000 = 10%; now (100,000 + 95,000) / 1,095,000 = 17.8%: +7.8 points
    const f = file({
      invoices: [
        inv('A', '2026-05-01', '2026-07-31', 900_000),
        inv('B', '2026-05-15', '2026-07-10', 100_000, { disputed: true }),
        inv('C', '2026-06-10', '2026-07-10', 95_000, { disputed: true }),
      ],
    });
    expect(sev(run(f), 'disputedShare')).toBe('none');
  });
});

describe('brokenPromise', () => {
  // Promised on 2026-05-20 to pay 1,000.00 by 2026-06-01 (grace to 06-04); another by 2026-06-20 (grace to 06-23).
  const promise = (id: string, promisedDate: string, amount: number): PromiseToPay => ({
    promiseId: id,
    customerId: 'C1',
    amount,
    currency: 'EUR',
    promisedDate,
    madeOn: '2026-05-20',
    recordedBy: 'anna',
    via: 'call',
    recordedAt: '2026-05-20T09:00:00.000Z',
  });
  const open = [inv('A', '2026-04-01', '2026-05-01', 500_000)];

  it('one promise broken in the window: a warning to collect, with the promise in the evidence', () => {
    const c = only(
      run(file({ invoices: open, promises: [promise('PTP-1', '2026-06-01', 100_000)] })),
      'brokenPromise',
    );
    expect(`${c?.severity}/${c?.action}`).toBe('warning/collect');
    expect(c?.summary).toBe(
      '1 promise to pay not kept in the last 90 days (1 broken, 0 kept in part); the latest: 1,000.00 EUR promised by 2026-06-01, 0.00 EUR paid',
    );
    expect(c?.evidence).toEqual({
      broken: 1,
      partial: 0,
      latest: 'PTP-1: 1,000.00 EUR by 2026-06-01, 0.00 EUR paid (broken)',
    });
  });

  it('two not kept (one in part): high, hold deliveries; kept or pending ones raise nothing', () => {
    const f = file({
      invoices: open,
      payments: [pay('P1', '2026-06-10', 40_000)],
      promises: [promise('PTP-1', '2026-06-01', 100_000), promise('PTP-2', '2026-06-20', 100_000)],
    });
    // P1 (400.00, 06-10) is after PTP-1's grace, within PTP-2's: PTP-1 broken, PTP-2 partial.
    const c = only(run(f), 'brokenPromise');
    expect(`${c?.severity}/${c?.action}`).toBe('high/hold_deliveries');
    expect(c?.evidence).toMatchObject({ broken: 1, partial: 1 });
    // Before PTP-1's grace ended nothing is broken; a promise kept raises nothing.
    expect(only(run(f, '2026-06-04'), 'brokenPromise')).toBeUndefined();
    const kept = file({
      invoices: open,
      payments: [pay('P1', '2026-05-30', 100_000)],
      promises: [promise('PTP-1', '2026-06-01', 100_000)],
    });
    expect(only(run(kept), 'brokenPromise')).toBeUndefined();
    // Out of the window (grace ended more than 90 days before): forgotten.
    expect(
      only(
        run(file({ invoices: open, promises: [promise('PTP-1', '2026-06-01', 100_000)] }), '2026-09-03'),
        'brokenPromise',
      ),
    ).toBeUndefined();
  });
});

describe('concentration', () => {
  const f = file({ invoices: [notDue('A', 200_000)] });
  const book = (open: number, customers: number, ccy = 'EUR'): Portfolio => ({
    openByCurrency: new Map([[ccy, { open, customers }]]),
  });

  it('exactly 20% of the book: no alert; above: alert', () => {
    expect(sev(run(f, AS_OF, policy, book(1_000_000, 3)), 'concentration')).toBe('none'); // 0.2
    const c = only(run(f, AS_OF, policy, book(999_999, 3)), 'concentration'); // 0.2000002
    expect(`${c?.severity}/${c?.action}`).toBe('warning/review');
    expect(c?.summary).toBe('holds 20.0% of all open receivables in EUR');
    const d = only(run(f, AS_OF, policy, book(400_000, 2)), 'concentration'); // 0.5
    expect(d?.evidence).toEqual({
      openAmount: '2,000.00 EUR',
      allOpenReceivables: '4,000.00 EUR',
      share: '50.0%',
      customersInCurrency: 2,
    });
  });

  it('needs a portfolio of more than one customer in the currency', () => {
    expect(sev(run(f, AS_OF, policy, book(200_000, 1)), 'concentration')).toBe('none');
    expect(sev(run(f), 'concentration')).toBe('none');
    expect(sev(run(f, AS_OF, policy, book(400_000, 5, 'USD')), 'concentration')).toBe('none');
  });

  it('nothing open, nothing concentrated', () => {
    expect(sev(run(file(), AS_OF, policy, book(400_000, 5)), 'concentration')).toBe('none');
  });

  it('concentrationCandidate on its own (the whole-book pass)', () => {
    // 300,000 of 1,000,000 = 30% > 20%
    const c = concentrationCandidate('C7', 'GBP', 300_000, { open: 1_000_000, customers: 4 }, AS_OF, policy);
    expect(c?.facts).toEqual({
      openAmount: 300_000,
      allOpenReceivables: 1_000_000,
      share: 0.3,
      customersInCurrency: 4,
    });
    expect(c && explainCandidate(c)).toEqual({
      customerId: 'C7',
      rule: 'concentration',
      severity: 'warning',
      action: 'review',
      asOf: AS_OF,
      policyId: policy.id,
      summary: 'holds 30.0% of all open receivables in GBP',
      evidence: {
        openAmount: '3,000.00 GBP',
        allOpenReceivables: '10,000.00 GBP',
        share: '30.0%',
        customersInCurrency: 4,
      },
      facts: c?.facts,
      currency: 'GBP',
    });
    expect(
      concentrationCandidate('C7', 'GBP', 200_000, { open: 1_000_000, customers: 4 }, AS_OF, policy),
    ).toBe(undefined);
    expect(
      concentrationCandidate('C7', 'GBP', 900_000, { open: 1_000_000, customers: 1 }, AS_OF, policy),
    ).toBe(undefined);
    expect(concentrationCandidate('C7', 'GBP', 0, { open: 1_000_000, customers: 4 }, AS_OF, policy)).toBe(
      undefined,
    );
  });
});

describe('a quiet customer raises nothing', () => {
  it('no rule fires for a customer who owes little and pays on time', () => {
    const f = file({
      invoices: [inv('A', '2026-05-01', '2026-05-31', 10_000), notDue('B', 10_000)],
      payments: [pay('P', '2026-05-31', 10_000, ['A'])],
      financials: [{ customerId: 'C1', periodEnd: '2025-12-31', currency: 'EUR', revenue: 1_000_000 }],
    });
    expect(run(f)).toEqual([]);
  });
});
