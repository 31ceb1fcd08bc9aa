import { describe, expect, it } from 'vitest';
import type { PromiseToPay } from '../../functions/collections/promises.ts';
import type { Customer, FinancialStatement, TransferCommitment } from '../../functions/core/records.ts';
import {
  assess,
  type CreditFile,
  type ExternalScore,
  explainFactor,
  explainLimit,
  type FactorResult,
  type FactorScore,
  type Figures,
  figuresOf,
  type Guarantee,
  type InsuranceCover,
  notchesDown,
  promisesNotKept,
  ratingOf,
  recommendLimit as recommendLimitNumbers,
  salesMonthsOf,
  scoreFactors,
  transferCounts,
} from '../../functions/credit/assess.ts';
import type { PolicyDocument } from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { inv, parsed, pay } from './credit-fixtures.ts';

// ---- fixtures (EUR, amounts in cents) ----

const policy = parsed(DEFAULT_POLICY_DOCUMENT);
const AS_OF = '2026-06-30';

function customer(extra: Partial<Customer> = {}): Customer {
  return {
    customerId: 'C1',
    name: 'Acme Trading',
    industry: 'Wholesale',
    currency: 'EUR',
    creditLimit: 10_000_000, // 100,000.00 EUR
    ...extra,
  };
}

function statement(extra: Partial<FinancialStatement> = {}): FinancialStatement {
  return {
    customerId: 'C1',
    periodEnd: '2025-12-31',
    currency: 'EUR',
    revenue: 100_000_000, // 1,000,000.00 EUR
    currentAssets: 40_000_000,
    currentLiabilities: 20_000_000,
    inventory: 10_000_000,
    totalAssets: 100_000_000,
    totalLiabilities: 50_000_000,
    retainedEarnings: 20_000_000,
    ebit: 10_000_000,
    equity: 50_000_000,
    ...extra,
  };
}

function guarantee(
  guaranteeId: string,
  amount: number,
  expiry: string,
  extra: Partial<Guarantee> = {},
): Guarantee {
  return { customerId: 'C1', guaranteeId, issuer: 'Big Bank', amount, currency: 'EUR', expiry, ...extra };
}

function insurance(
  policyId: string,
  insuredShareBp: number,
  cap: number,
  expiry: string,
  extra: Partial<InsuranceCover> = {},
): InsuranceCover {
  return {
    customerId: 'C1',
    policyId,
    insurer: 'Safe Re',
    insuredShareBp,
    cap,
    currency: 'EUR',
    expiry,
    ...extra,
  };
}

function score(date: string, value: number, scaleMax: number): ExternalScore {
  return { customerId: 'C1', agency: 'Agency', date, score: value, scaleMax };
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

/**
 * The worked example, as of 2026-06-30 (behaviour window: settled after 2025-06-30).
 *
 * I0 5,000 due 2025-01-31 paid 2025-03-02: 30 days late, but settled before the window
 * I1 10,000 due 2026-01-31 paid 2026-01-31: 0 days late
 * I2 30,000 due 2026-03-03 paid 2026-03-13: 10 days late
 * I3 20,000 due 2026-03-31 paid 2026-04-30: 30 days late
 * I4 40,000 due 2026-05-01 paid 2026-05-01: 0 days late
 * I5 24,000 due 2026-05-31, open: 30 days past due
 * I6 36,000 due 2026-07-01, open, not due, disputed
 * P7 5,000 on 2026-06-15 names I4, already paid: unapplied cash
 */
const worked = {
  invoices: [
    inv('I0', '2025-01-01', '2025-01-31', 500_000),
    inv('I1', '2026-01-01', '2026-01-31', 1_000_000),
    inv('I2', '2026-02-01', '2026-03-03', 3_000_000),
    inv('I3', '2026-03-01', '2026-03-31', 2_000_000),
    inv('I4', '2026-04-01', '2026-05-01', 4_000_000),
    inv('I5', '2026-05-01', '2026-05-31', 2_400_000),
    inv('I6', '2026-06-01', '2026-07-01', 3_600_000, { disputed: true }),
  ],
  payments: [
    pay('P0', '2025-03-02', 500_000, ['I0']),
    pay('P1', '2026-01-31', 1_000_000, ['I1']),
    pay('P2', '2026-03-13', 3_000_000, ['I2']),
    pay('P3', '2026-04-30', 2_000_000, ['I3']),
    pay('P4', '2026-05-01', 4_000_000, ['I4']),
    pay('P7', '2026-06-15', 500_000, ['I4']),
  ],
  financials: [
    statement({ periodEnd: '2024-12-31', currentAssets: 10_000_000 }), // older, ignored
    statement(),
  ],
  guarantees: [
    guarantee('G1', 1_000_000, '2026-12-31', { validFrom: '2026-01-01' }),
    guarantee('G2', 5_000_000, '2026-12-31', { currency: 'USD' }),
    guarantee('G3', 9_000_000, '2026-06-29'), // expired the day before
  ],
  insurance: [insurance('N1', 9000, 2_000_000, '2027-01-31')],
  scores: [score('2025-01-01', 190, 200), score('2026-03-01', 140, 200)],
};
const workedFile = file(worked);

function factor(fs: FactorScore[], name: FactorResult['factor']): FactorResult {
  const f = fs.find((x) => x.factor === name);
  if (!f) throw new Error(`no factor ${name}`);
  return explainFactor(f);
}

/** The recommendation with its words, as the tests read it. */
function recommendLimit(...args: Parameters<typeof recommendLimitNumbers>) {
  return explainLimit(recommendLimitNumbers(...args));
}

// ---- figures ----

describe('figuresOf: the worked example', () => {
  const x = figuresOf(workedFile, AS_OF, policy);

  it('exposure = open receivables - unapplied cash, and limit use', () => {
    // open: I5 24,000 + I6 36,000 = 60,000; unapplied: P7 5,000
    expect(x.receivables.summary.openAmount).toBe(2_400_000 + 3_600_000);
    expect(x.receivables.summary.unappliedCash).toBe(500_000);
    expect(x.exposure).toBe(6_000_000 - 500_000);
    expect(x.creditLimit).toBe(10_000_000);
    // 55,000 / 100,000
    expect(x.limitUse).toBeCloseTo(0.55, 12);
  });

  it('overdue and disputed shares of the open amount', () => {
    expect(x.overdueShare).toBeCloseTo(2_400_000 / 6_000_000, 12); // 0.4
    expect(x.disputedShare).toBeCloseTo(3_600_000 / 6_000_000, 12); // 0.6
    expect(x.maxDaysPastDue).toBe(30); // 2026-05-31 -> 2026-06-30
  });

  it('payment behaviour over invoices settled in the last 12 months', () => {
    // I1..I4 settled after 2025-06-30; I0 (settled 2025-03-02) is out of the window
    expect(x.settled).toBe(4);
    // days late 0, 10, 30, 0
    expect(x.meanDaysLate).toBe((0 + 10 + 30 + 0) / 4); // 10
    // (0*10,000 + 10*30,000 + 30*20,000 + 0*40,000) / (10,000 + 30,000 + 20,000 + 40,000) = 900,000 / 100,000
    expect(x.weightedDaysLate).toBe(9);
    // 2 of 4 paid late
    expect(x.sharePaidLate).toBe(0.5);
  });

  it('history, sales and the latest statement known on the day', () => {
    // first invoice 2025-01-01 -> 2026-06-30: 17 whole months
    expect(x.historyMonths).toBe(17);
    // invoices issued after 2025-06-30: 10,000 + 30,000 + 20,000 + 40,000 + 24,000 + 36,000 = 160,000
    expect(x.salesInWindow).toBe(16_000_000);
    // 17 months since the first invoice, averaged over the 12 of the window: floor(16,000,000 / 12)
    expect(x.salesMonths).toBe(12);
    expect(x.monthlySales).toBe(1_333_333);
    // exposure 55,000.00 / 13,333.33 a month
    expect(x.exposureToSales).toBeCloseTo(5_500_000 / 1_333_333, 12);
    // no terms on the customer file: the policy's 30 days
    expect(x.termsDays).toBe(30);
    expect(x.latestStatement?.periodEnd).toBe('2025-12-31');
    // the latest of the two scores: 140 / 200 -> 70 on a 0-100 scale
    expect(x.externalScore).toEqual({ value: 70, agency: 'Agency', date: '2026-03-01' });
  });

  it('ratios from the latest statement', () => {
    expect(x.ratios.currentRatio).toEqual({ value: 2 }); // 400,000 / 200,000
    expect(x.ratios.quickRatio).toEqual({ value: 1.5 }); // (400,000 - 100,000) / 200,000
    expect(x.ratios.debtRatio).toEqual({ value: 0.5 }); // 500,000 / 1,000,000
    // X1 = 0.2, X2 = 0.2, X3 = 0.1, X4 = 1: 1.312 + 0.652 + 0.672 + 1.05 = 3.686
    const z = x.ratios.altmanZ2;
    expect('value' in z && z.value).toBeCloseTo(3.686, 10);
  });

  it('cover: valid guarantees in EUR plus the insured share, capped by the insurer', () => {
    // G1 10,000 counts; G2 is USD (listed, not counted); G3 expired yesterday
    expect(x.guaranteed).toBe(1_000_000);
    // nothing is more than 60 days past due (I5: 30), so all 55,000 is insurable:
    // 90% of 55,000 = 49,500, capped at 20,000
    expect(x.overdueBeyondExtension).toBe(0);
    expect(x.insured).toBe(Math.min(2_000_000, (5_500_000 * 9000) / 10_000));
    expect(x.insured).toBe(2_000_000);
    expect(x.secured).toBe(3_000_000);
    expect(x.uncounted).toEqual([]);
    expect(x.cover.map((c) => [c.id, c.status, c.counted])).toEqual([
      ['G1', 'counted', 1_000_000],
      ['G2', 'otherCurrency', 0],
      ['G3', 'expired', 0],
      ['N1', 'capped', 2_000_000],
    ]);
    expect(x.cover[3]).toMatchObject({ insurable: 5_500_000, shareBp: 9000, cap: 2_000_000 });
  });
});

describe('figuresOf: edge cases', () => {
  it('exposure never goes below zero when cash exceeds what is open', () => {
    const x = figuresOf(file({ payments: [pay('P1', '2026-06-01', 100_000)] }), AS_OF, policy);
    expect(x.receivables.summary.unappliedCash).toBe(100_000);
    expect(x.exposure).toBe(0);
    expect(x.limitUse).toBe(0); // 0 / 100,000
  });

  it('limit use is 999 when something is owed against a zero limit, 0 when nothing is', () => {
    const owed = file({
      customer: customer({ creditLimit: 0 }),
      invoices: [inv('A', '2026-06-01', '2026-07-01', 1)],
    });
    expect(figuresOf(owed, AS_OF, policy).limitUse).toBe(999);
    const none = file({ customer: customer({ creditLimit: 0 }) });
    expect(figuresOf(none, AS_OF, policy).limitUse).toBe(0);
  });

  it('limit use is undefined without a limit on file', () => {
    const x = figuresOf(file({ customer: customer({ creditLimit: undefined }) }), AS_OF, policy);
    expect(x.limitUse).toBeUndefined();
  });

  it('an invoice settled exactly at the start of the window is out, a day later is in', () => {
    const at = figuresOf(
      file({ ...worked, payments: [...worked.payments.slice(1), pay('P0', '2025-06-30', 500_000, ['I0'])] }),
      AS_OF,
      policy,
    );
    expect(at.settled).toBe(4);
    expect(at.meanDaysLate).toBe(10);

    const after = figuresOf(
      file({ ...worked, payments: [...worked.payments.slice(1), pay('P0', '2025-07-01', 500_000, ['I0'])] }),
      AS_OF,
      policy,
    );
    // I0 due 2025-01-31, settled 2025-07-01: 28 + 31 + 30 + 31 + 30 + 1 = 151 days late
    expect(after.settled).toBe(5);
    expect(after.meanDaysLate).toBeCloseTo((0 + 10 + 30 + 0 + 151) / 5, 12); // 38.2
    // (151*5,000 + 10*30,000 + 30*20,000) / (5,000 + 100,000) = 1,655,000 / 105,000
    expect(after.weightedDaysLate).toBeCloseTo(1_655_000 / 105_000, 12);
    expect(after.sharePaidLate).toBeCloseTo(3 / 5, 12);
  });

  it('a partly paid invoice is not settled and stays open', () => {
    const x = figuresOf(
      file({
        invoices: [inv('A', '2026-01-01', '2026-01-31', 1_000_000)],
        payments: [pay('P', '2026-02-10', 400_000, ['A'])],
      }),
      AS_OF,
      policy,
    );
    expect(x.settled).toBe(0);
    expect(x.meanDaysLate).toBeUndefined();
    expect(x.weightedDaysLate).toBeUndefined();
    expect(x.sharePaidLate).toBeUndefined();
    expect(x.exposure).toBe(600_000);
    expect(x.maxDaysPastDue).toBe(150); // 2026-01-31 -> 2026-06-30: 28 + 31 + 30 + 31 + 30
  });

  it('a guarantee is valid on its expiry day, and not before its start', () => {
    const x = figuresOf(
      file({
        invoices: [inv('A', '2026-06-01', '2026-07-01', 1_000_000)],
        guarantees: [
          guarantee('G1', 100_000, AS_OF),
          guarantee('G2', 200_000, '2027-01-01', { validFrom: '2026-07-01' }),
        ],
      }),
      AS_OF,
      policy,
    );
    expect(x.guaranteed).toBe(100_000);
    // G2 starts tomorrow: as of today it does not exist
    expect(x.cover.map((c) => [c.id, c.status])).toEqual([['G1', 'counted']]);
  });

  it('each insurer caps its own share; insurance in another currency is listed, not counted', () => {
    const x = figuresOf(
      file({
        invoices: [inv('A', '2026-06-01', '2026-07-01', 1_000_000)],
        insurance: [
          insurance('N1', 5000, 10_000_000, '2027-01-31'), // 50% of 10,000 = 5,000; cap 100,000 not reached
          insurance('N2', 3000, 100_000, '2027-01-31'), // 30% of 10,000 = 3,000, capped at 1,000
          insurance('N3', 9000, 10_000_000, '2027-01-31', { currency: 'USD' }),
        ],
      }),
      AS_OF,
      policy,
    );
    expect(x.insured).toBe(500_000 + 100_000);
    expect(x.cover.map((c) => [c.id, c.status, c.counted])).toEqual([
      ['N1', 'counted', 500_000],
      ['N2', 'capped', 100_000],
      ['N3', 'otherCurrency', 0],
    ]);
  });

  it('insurance pays nothing for debts overdue beyond the extension period (60 days)', () => {
    // A: 20,000 due 2026-03-22, 100 days past due: beyond 60. B: 5,000 due 2026-05-21, 40 days: within.
    // C: 10,000 not due. Exposure 35,000; insurable 35,000 - 20,000 = 15,000; 90% = 13,500.
    const x = figuresOf(
      file({
        invoices: [
          inv('A', '2026-02-20', '2026-03-22', 2_000_000),
          inv('B', '2026-04-21', '2026-05-21', 500_000),
          inv('C', '2026-06-10', '2026-07-10', 1_000_000),
        ],
        insurance: [insurance('N1', 9000, 10_000_000, '2027-01-31')],
      }),
      AS_OF,
      policy,
    );
    expect(x.exposure).toBe(3_500_000);
    expect(x.overdueBeyondExtension).toBe(2_000_000);
    expect(x.insured).toBe(1_350_000);
    expect(x.cover[0]).toMatchObject({ status: 'counted', insurable: 1_500_000, counted: 1_350_000 });
  });

  it('insurance on an exposure all overdue beyond the extension period counts nothing', () => {
    const x = figuresOf(
      file({
        invoices: [inv('A', '2025-08-01', '2025-08-31', 20_300_000)], // 303 days past due
        insurance: [insurance('N1', 9000, 10_000_000, '2027-01-31')],
      }),
      AS_OF,
      policy,
    );
    expect(x.insured).toBe(0);
    expect(x.cover[0]).toMatchObject({ status: 'nothingInsurable', insurable: 0, counted: 0 });
  });

  it('an expired guarantee is listed only when it ended within the sales window', () => {
    const x = figuresOf(
      file({
        guarantees: [guarantee('OLD', 100_000, '2025-06-30'), guarantee('RECENT', 100_000, '2025-07-01')],
      }),
      AS_OF,
      policy,
    );
    expect(x.cover.map((c) => c.id)).toEqual(['RECENT']);
  });

  it('a score on a 0-1000 scale is brought to 0-100', () => {
    const x = figuresOf(file({ scores: [score('2026-01-01', 655, 1000)] }), AS_OF, policy);
    expect(x.externalScore?.value).toBeCloseTo(65.5, 12); // 100 * 655 / 1000
  });
});

// ---- the scorecard ----

describe('scoring the worked example', () => {
  const a = assess(workedFile, AS_OF, policy);

  it('gives each factor its band points and reason code', () => {
    const got = a.factors.map((f) => [f.factor, f.points, f.maxPoints, f.code]);
    expect(got).toEqual([
      ['meanDaysLate', 5, 10, 'MEAN_DAYS_LATE_LE_15'], // 10 days
      ['weightedDaysLate', 5, 10, 'WEIGHTED_DAYS_LATE_LE_15'], // 9 days
      ['sharePaidLate', 3, 8, 'SHARE_PAID_LATE_LE_0_5'], // 50%
      ['maxDaysPastDue', 6, 12, 'MAX_DAYS_PAST_DUE_LE_30'], // 30 days
      ['overdueShare', 2, 8, 'OVERDUE_SHARE_LE_0_5'], // 40%
      ['exposureToSales', 0, 8, 'EXPOSURE_TO_SALES_OTHER'], // 55,000 / 13,333.33 = 4.1 months
      ['currentRatio', 5, 5, 'CURRENT_RATIO_GE_2'], // 2.00
      ['quickRatio', 4, 4, 'QUICK_RATIO_GE_1'], // 1.50
      ['debtRatio', 3, 5, 'DEBT_RATIO_LE_0_6'], // 0.50
      ['altmanZ2', 10, 10, 'ALTMAN_Z2_GE_2_6'], // 3.686
      ['historyMonths', 3, 6, 'HISTORY_MONTHS_GE_12'], // 17 months
      ['externalScore', 3, 5, 'EXTERNAL_SCORE_GE_60'], // 70
      ['cover', 5, 5, 'COVER_GE_0_5'], // 30,000 / 55,000 = 54.5%
      ['industryRisk', 2, 4, 'INDUSTRY_RISK_MEDIUM'], // wholesale
    ]);
  });

  it('explains each factor in words, with the figure', () => {
    expect(factor(a.factors, 'meanDaysLate').reason).toBe('mean days late 10.0 days: at most 15.0 days');
    expect(factor(a.factors, 'exposureToSales').reason).toBe(
      'exposure in months of sales 4.1 months: outside every better band',
    );
    expect(factor(a.factors, 'cover').value).toBeCloseTo(3_000_000 / 5_500_000, 12);
    expect(factor(a.factors, 'industryRisk').reason).toBe('industry "Wholesale" is medium risk');
  });

  it('score = round(100 * points / max points), rating C, medium risk', () => {
    // 5+5+3+6+2+0+5+4+3+10+3+3+5+2 = 56 of 100
    expect(a.score).toBe(Math.round((100 * 56) / 100));
    expect(a.rating).toBe('C');
    expect(a.riskClass).toBe('medium');
    expect(a.policyId).toBe(policy.id);
    expect(a.customerId).toBe('C1');
    expect(a.asOf).toBe(AS_OF);
    expect(a.currency).toBe('EUR');
  });
});

describe('band edges of each factor (default policy)', () => {
  const x = figuresOf(workedFile, AS_OF, policy);
  const scoreOf = (over: Partial<Figures>, name: FactorResult['factor']) => {
    const f = factor(scoreFactors({ ...x, ...over }, workedFile, policy), name);
    return [f.points, f.code];
  };

  it.each([
    [0, 10, 'MEAN_DAYS_LATE_LE_0'],
    [0.5, 8, 'MEAN_DAYS_LATE_LE_5'],
    [5, 8, 'MEAN_DAYS_LATE_LE_5'],
    [5.25, 5, 'MEAN_DAYS_LATE_LE_15'],
    [15, 5, 'MEAN_DAYS_LATE_LE_15'],
    [15.25, 2, 'MEAN_DAYS_LATE_LE_30'],
    [30, 2, 'MEAN_DAYS_LATE_LE_30'],
    [30.25, 0, 'MEAN_DAYS_LATE_OTHER'],
  ])('meanDaysLate %s -> %i points', (v, pts, code) => {
    expect(scoreOf({ meanDaysLate: v }, 'meanDaysLate')).toEqual([pts, code]);
  });

  it.each([
    [0, 10],
    [5, 8],
    [6, 5],
    [15, 5],
    [16, 2],
    [30, 2],
    [31, 0],
  ])('weightedDaysLate %s -> %i points', (v, pts) => {
    expect(scoreOf({ weightedDaysLate: v }, 'weightedDaysLate')[0]).toBe(pts);
  });

  it.each([
    [0, 8],
    [0.1, 8],
    [0.11, 6],
    [0.25, 6],
    [0.26, 3],
    [0.5, 3],
    [0.51, 0],
  ])('sharePaidLate %s -> %i points', (v, pts) => {
    expect(scoreOf({ sharePaidLate: v }, 'sharePaidLate')[0]).toBe(pts);
  });

  it.each([
    [0, 12, 'MAX_DAYS_PAST_DUE_LE_0'],
    [1, 9, 'MAX_DAYS_PAST_DUE_LE_15'],
    [15, 9, 'MAX_DAYS_PAST_DUE_LE_15'],
    [16, 6, 'MAX_DAYS_PAST_DUE_LE_30'],
    [30, 6, 'MAX_DAYS_PAST_DUE_LE_30'],
    [31, 3, 'MAX_DAYS_PAST_DUE_LE_60'],
    [60, 3, 'MAX_DAYS_PAST_DUE_LE_60'],
    [61, 1, 'MAX_DAYS_PAST_DUE_LE_90'],
    [90, 1, 'MAX_DAYS_PAST_DUE_LE_90'],
    [91, 0, 'MAX_DAYS_PAST_DUE_OTHER'],
  ])('maxDaysPastDue %s -> %i points', (v, pts, code) => {
    expect(scoreOf({ maxDaysPastDue: v }, 'maxDaysPastDue')).toEqual([pts, code]);
  });

  it.each([
    [0, 8],
    [0.01, 6],
    [0.1, 6],
    [0.11, 4],
    [0.25, 4],
    [0.26, 2],
    [0.5, 2],
    [0.51, 0],
  ])('overdueShare %s -> %i points', (v, pts) => {
    expect(scoreOf({ overdueShare: v }, 'overdueShare')[0]).toBe(pts);
  });

  it.each([
    [0, 8, 'EXPOSURE_TO_SALES_LE_2'],
    [2, 8, 'EXPOSURE_TO_SALES_LE_2'],
    [2.01, 6, 'EXPOSURE_TO_SALES_LE_3'],
    [3, 6, 'EXPOSURE_TO_SALES_LE_3'],
    [3.01, 3, 'EXPOSURE_TO_SALES_LE_4'],
    [4, 3, 'EXPOSURE_TO_SALES_LE_4'],
    [4.01, 0, 'EXPOSURE_TO_SALES_OTHER'],
  ])('exposureToSales %s -> %i points', (v, pts, code) => {
    expect(scoreOf({ exposureToSales: v }, 'exposureToSales')).toEqual([pts, code]);
  });

  it('no factor reads the credit limit: the same file under any limit scores the same', () => {
    for (const creditLimit of [undefined, 0, 1, 5_500_000, 10_000_000, 1e12]) {
      const other = { ...workedFile, customer: customer({ creditLimit }) };
      expect(assess(other, AS_OF, policy).factors).toEqual(assess(workedFile, AS_OF, policy).factors);
    }
  });

  const ratio = (name: 'currentRatio' | 'quickRatio' | 'debtRatio' | 'altmanZ2', v: number) =>
    scoreOf({ ratios: { ...x.ratios, [name]: { value: v } } }, name);

  it.each([
    [2, 5, 'CURRENT_RATIO_GE_2'],
    [1.99, 4, 'CURRENT_RATIO_GE_1_5'],
    [1.5, 4, 'CURRENT_RATIO_GE_1_5'],
    [1.49, 2, 'CURRENT_RATIO_GE_1'],
    [1, 2, 'CURRENT_RATIO_GE_1'],
    [0.99, 0, 'CURRENT_RATIO_OTHER'],
  ])('currentRatio %s -> %i points', (v, pts, code) => {
    expect(ratio('currentRatio', v)).toEqual([pts, code]);
  });

  it.each([
    [1, 4],
    [0.99, 2],
    [0.7, 2],
    [0.69, 0],
    [-0.4, 0],
  ])('quickRatio %s -> %i points', (v, pts) => {
    expect(ratio('quickRatio', v)[0]).toBe(pts);
  });

  it.each([
    [0.4, 5],
    [0.41, 3],
    [0.6, 3],
    [0.61, 1],
    [0.8, 1],
    [0.81, 0],
  ])('debtRatio %s -> %i points', (v, pts) => {
    expect(ratio('debtRatio', v)[0]).toBe(pts);
  });

  it.each([
    [2.6, 10, 'ALTMAN_Z2_GE_2_6'],
    [2.59, 5, 'ALTMAN_Z2_GE_1_1'],
    [1.1, 5, 'ALTMAN_Z2_GE_1_1'],
    [1.09, 0, 'ALTMAN_Z2_OTHER'],
    [-1.489, 0, 'ALTMAN_Z2_OTHER'],
  ])('altmanZ2 %s -> %i points', (v, pts, code) => {
    expect(ratio('altmanZ2', v)).toEqual([pts, code]);
  });

  it.each([
    [36, 6],
    [35, 5],
    [24, 5],
    [23, 3],
    [12, 3],
    [11, 1],
    [6, 1],
    [5, 0],
    [0, 0],
  ])('historyMonths %s -> %i points', (v, pts) => {
    expect(scoreOf({ historyMonths: v }, 'historyMonths')[0]).toBe(pts);
  });

  it.each([
    [80, 5],
    [79.9, 3],
    [60, 3],
    [59.9, 1],
    [40, 1],
    [39.9, 0],
  ])('externalScore %s -> %i points', (v, pts) => {
    expect(
      scoreOf({ externalScore: { value: v, agency: 'Agency', date: '2026-01-01' } }, 'externalScore')[0],
    ).toBe(pts);
  });

  it.each([
    // secured / exposure with exposure 10,000.00
    [500_000, 5, 'COVER_GE_0_5'], // 0.5
    [499_999, 3, 'COVER_GE_0_25'],
    [250_000, 3, 'COVER_GE_0_25'], // 0.25
    [249_999, 1, 'COVER_GE_0_1'],
    [100_000, 1, 'COVER_GE_0_1'], // 0.1
    [99_999, 0, 'COVER_OTHER'],
    [0, 0, 'COVER_OTHER'],
  ])('cover %i / 1,000,000 -> %i points', (secured, pts, code) => {
    expect(scoreOf({ exposure: 1_000_000, secured }, 'cover')).toEqual([pts, code]);
  });

  it.each([
    ['Wholesale', 2, 'INDUSTRY_RISK_MEDIUM'],
    ['  CONSTRUCTION ', 0, 'INDUSTRY_RISK_HIGH'],
    ['healthcare', 4, 'INDUSTRY_RISK_LOW'],
    ['Real Estate', 0, 'INDUSTRY_RISK_HIGH'],
    ['mining', 2, 'INDUSTRY_RISK_UNKNOWN'],
  ])('industry %j -> %i points', (industry, pts, code) => {
    const f = factor(
      scoreFactors(x, file({ ...worked, customer: customer({ industry }) }), policy),
      'industryRisk',
    );
    expect([f.points, f.code]).toEqual([pts, code]);
  });

  it('no industry on file is unknown', () => {
    const f = factor(
      scoreFactors(x, file({ ...worked, customer: customer({ industry: undefined }) }), policy),
      'industryRisk',
    );
    expect([f.points, f.code, f.reason]).toEqual([2, 'INDUSTRY_RISK_UNKNOWN', 'no industry on file']);
  });
});

describe('factors that cannot be computed get their neutral points', () => {
  it('a new customer with nothing on file', () => {
    const a = assess(
      file({ customer: customer({ creditLimit: undefined, industry: undefined }) }),
      AS_OF,
      policy,
    );
    const got = a.factors.map((f) => [f.factor, f.points, f.code]);
    expect(got).toEqual([
      ['meanDaysLate', 5, 'MEAN_DAYS_LATE_NOT_COMPUTABLE'],
      ['weightedDaysLate', 5, 'WEIGHTED_DAYS_LATE_NOT_COMPUTABLE'],
      ['sharePaidLate', 4, 'SHARE_PAID_LATE_NOT_COMPUTABLE'],
      ['maxDaysPastDue', 12, 'MAX_DAYS_PAST_DUE_LE_0'],
      ['overdueShare', 8, 'OVERDUE_SHARE_LE_0'],
      ['exposureToSales', 4, 'EXPOSURE_TO_SALES_NOT_COMPUTABLE'],
      ['currentRatio', 2, 'CURRENT_RATIO_NOT_COMPUTABLE'],
      ['quickRatio', 2, 'QUICK_RATIO_NOT_COMPUTABLE'],
      ['debtRatio', 2, 'DEBT_RATIO_NOT_COMPUTABLE'],
      ['altmanZ2', 4, 'ALTMAN_Z2_NOT_COMPUTABLE'],
      ['historyMonths', 0, 'HISTORY_MONTHS_OTHER'],
      ['externalScore', 2, 'EXTERNAL_SCORE_NOT_COMPUTABLE'],
      ['cover', 2, 'COVER_NOT_COMPUTABLE'],
      ['industryRisk', 2, 'INDUSTRY_RISK_UNKNOWN'],
    ]);
    for (const f of a.factors) if (f.code.endsWith('_NOT_COMPUTABLE')) expect(f.value).toBeUndefined();
    expect(factor(a.factors, 'exposureToSales').reason).toBe(
      'exposure in months of sales not computable: nothing invoiced in the sales window; neutral points',
    );
    expect(factor(a.factors, 'altmanZ2').reason).toContain('no financial statement on file');
    // 5+5+4+12+8+4+2+2+2+4+0+2+2+2 = 54
    expect(a.score).toBe(54);
    expect(a.rating).toBe('C');
  });

  it('a statement that makes no sense for Z″ gives its neutral points, with the reason', () => {
    const a = assess(
      file({ ...worked, financials: [statement({ totalLiabilities: 0, equity: 100_000_000 })] }),
      AS_OF,
      policy,
    );
    const z = factor(a.factors, 'altmanZ2');
    expect([z.points, z.code, z.value]).toEqual([4, 'ALTMAN_Z2_NOT_COMPUTABLE', undefined]);
    expect(z.reason).toContain('totalLiabilities is zero');
    // debt ratio 0 / 1,000,000 = 0 -> 5 points instead of 3
    expect(factor(a.factors, 'debtRatio').points).toBe(5);
    // 56 - 10 + 4 (Z'') - 3 + 5 (debt) = 52
    expect(a.score).toBe(52);
  });
});

describe('score, rating and risk class', () => {
  it.each([
    [100, 'A'],
    [80, 'A'],
    [79, 'B'],
    [65, 'B'],
    [64, 'C'],
    [50, 'C'],
    [49, 'D'],
    [35, 'D'],
    [34, 'E'],
    [0, 'E'],
  ])('score %i is rating %s', (s, r) => {
    expect(ratingOf(s, policy)).toBe(r);
  });

  it('risk class: A/B low, C medium, D/E high', () => {
    expect(policy.riskClass).toEqual({ A: 'low', B: 'low', C: 'medium', D: 'high', E: 'high' });
  });

  it('a customer far behind is rated E, high risk', () => {
    // Two open invoices, 100 and 40 days past due, 20,000 owed against a 10,000 limit, construction.
    const a = assess(
      file({
        customer: customer({ creditLimit: 1_000_000, industry: 'construction' }),
        invoices: [
          inv('A', '2026-02-20', '2026-03-22', 1_500_000), // 2026-03-22 -> 2026-06-30: 9 + 30 + 31 + 30 = 100
          inv('B', '2026-04-21', '2026-05-21', 500_000), // 10 + 30 = 40 days
        ],
      }),
      AS_OF,
      policy,
    );
    expect(a.figures.maxDaysPastDue).toBe(100);
    expect(a.figures.limitUse).toBe(2);
    // NC behaviour 5+5+4, dpd 0, overdue 100% 0, NC ratios 2+2+2+4, history 4 months 0, NC external 2,
    // cover 0% 0, construction 0; exposure 20,000 against 20,000 of sales over 5 months (first invoice
    // 2026-02-20: 4 months and 10 days): 4,000 a month, 5 months of sales owed: 0 -> 26
    expect(a.figures.salesMonths).toBe(5);
    expect(a.figures.exposureToSales).toBe(5);
    expect(a.score).toBe(26);
    expect(a.rating).toBe('E');
    expect(a.riskClass).toBe('high');
  });

  it('rounds the score of a policy whose points do not add up to 100', () => {
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as PolicyDocument;
    doc.scorecard.factors = {
      maxDaysPastDue: {
        maxPoints: 3,
        neutralPoints: 3,
        bands: [{ max: 0, points: 3 }, { max: 30, points: 2 }, { points: 0 }],
      },
      historyMonths: { maxPoints: 3, neutralPoints: 0, bands: [{ min: 12, points: 3 }, { points: 0 }] },
    };
    const small = parsed(doc);
    // 10 days past due -> 2 points; 5 months of history -> 0 points: round(100 * 2 / 6) = round(33.33) = 33
    const young = file({ invoices: [inv('A', '2026-01-21', '2026-06-20', 1_000)] });
    const a = assess(young, AS_OF, small);
    expect(a.factors.map((f) => f.points)).toEqual([2, 0]);
    expect(a.score).toBe(33);
    expect(a.rating).toBe('E');
    // 12 months of history -> 3 points: round(100 * 5 / 6) = round(83.33) = 83
    const older = file({ invoices: [inv('A', '2025-06-30', '2026-06-20', 1_000)] });
    const b = assess(older, AS_OF, small);
    expect(b.factors.map((f) => f.points)).toEqual([2, 3]);
    expect(b.score).toBe(83);
    expect(b.rating).toBe('A');
    expect(b.riskClass).toBe('low');
  });

  it('notchesDown counts ratings between two assessments', () => {
    expect(notchesDown('B', 'C')).toBe(1);
    expect(notchesDown('A', 'E')).toBe(4);
    expect(notchesDown('C', 'C')).toBe(0);
    expect(notchesDown('D', 'B')).toBe(-2);
  });
});

// ---- broken promises: a factor that only takes points off (issue 17 item 4) ----

/**
 * The worked example (56 points of 100: C, medium risk, 63,000.00 EUR recommended) with promises
 * to pay, rated as of 2026-06-30 with the default tolerance of 3 days (behaviour window: grace
 * ended after 2025-06-30). Its payments: P2 2026-03-13, P3 2026-04-30, P4 2026-05-01, P7 5,000.00
 * on 2026-06-15.
 *
 * BROKE1 5,000.00 by 2026-04-10 (made 03-20, grace to 04-13): nothing came 03-20..04-13: broken
 * BROKE2 20,000.00 by 2026-05-20 (made 05-05, grace to 05-23): nothing came 05-05..05-23: broken
 * PART 10,000.00 by 2026-06-20 (made 06-01, grace to 06-23): P7 5,000.00 only: kept in part
 * KEPT 5,000.00 by 2026-06-20 (made 06-01): P7 5,000.00: kept
 * OLD 5,000.00 by 2025-05-20 (grace to 2025-05-23): broken, but before the window
 * LATER 5,000.00 by 2026-07-10 (made 06-25): pending on the day
 */
const promise = (promiseId: string, madeOn: string, promisedDate: string, amount: number): PromiseToPay => ({
  promiseId,
  customerId: 'C1',
  amount,
  currency: 'EUR',
  promisedDate,
  madeOn,
  recordedBy: 'anna',
  via: 'call',
  recordedAt: `${madeOn}T09:00:00.000Z`,
});
const BROKE1 = promise('BROKE1', '2026-03-20', '2026-04-10', 500_000);
const BROKE2 = promise('BROKE2', '2026-05-05', '2026-05-20', 2_000_000);
const PART = promise('PART', '2026-06-01', '2026-06-20', 1_000_000);
const KEPT = promise('KEPT', '2026-06-01', '2026-06-20', 500_000);
const OLD = promise('OLD', '2025-05-01', '2025-05-20', 500_000);
const LATER = promise('LATER', '2026-06-25', '2026-07-10', 500_000);

describe('broken promises take points off; a clean record is scored as before', () => {
  const withPromises = (...promises: PromiseToPay[]) => assess(file({ ...worked, promises }), AS_OF, policy);
  const before = assess(workedFile, AS_OF, policy);

  it('no promise on file: the factor is not there, and the assessment is the one without it', () => {
    expect(before.factors.map((f) => f.factor)).not.toContain('brokenPromises');
    expect(before.figures.brokenPromises).toBeUndefined();
    // A promise made after the day does not exist yet.
    expect(
      assess(file({ ...worked, promises: [promise('NEXT', '2026-07-01', '2026-07-20', 1)] }), AS_OF, policy),
    ).toEqual(before);
  });

  it('promises kept, pending or before the window: listed with 0 points off, the score unchanged', () => {
    const a = withPromises(KEPT, OLD, LATER);
    expect(a.figures.brokenPromises).toBe(0);
    expect(explainFactor(factor(a.factors, 'brokenPromises'))).toMatchObject({
      value: 0,
      points: 0,
      maxPoints: 0,
      code: 'BROKEN_PROMISES_LE_0',
      reason: 'promises to pay broken or kept only in part 0: at most 0, nothing taken off',
    });
    expect([a.score, a.rating, a.limit.recommended]).toEqual([56, 'C', 6_300_000]);
    expect(a.factors.filter((f) => f.factor !== 'brokenPromises')).toEqual(before.factors);
  });

  it('one broken: 5 points off, 56 -> 51, still C; the limit stays 63,000.00 EUR', () => {
    const a = withPromises(BROKE1, KEPT);
    expect(factor(a.factors, 'brokenPromises')).toMatchObject({
      value: 1,
      points: -5,
      maxPoints: 0,
      code: 'BROKEN_PROMISES_LE_1',
      reason: 'promises to pay broken or kept only in part 1: at most 1, 5 points taken off',
    });
    // (56 - 5) of 100 points available: the deduction adds nothing to the 100.
    expect(a.factors.reduce((n, f) => n + f.maxPoints, 0)).toBe(100);
    expect(a.factors.reduce((n, f) => n + f.points, 0)).toBe(51);
    expect([a.score, a.rating, a.riskClass]).toEqual([51, 'C', 'medium']);
    expect(a.limit.recommended).toBe(6_300_000);
  });

  it('two (one broken, one kept in part): 10 points off, 56 -> 46, D, high risk; the limit falls to 53,000.00 EUR', () => {
    const a = withPromises(BROKE1, PART, KEPT);
    expect(factor(a.factors, 'brokenPromises')).toMatchObject({
      value: 2,
      points: -10,
      code: 'BROKEN_PROMISES_LE_2',
      reason: 'promises to pay broken or kept only in part 2: at most 2, 10 points taken off',
    });
    expect([a.score, a.rating, a.riskClass]).toEqual([46, 'D', 'high']);
    // Rating D: 1 month of terms + 0.75 months: floor(1,333,333 x 1.75) = 2,333,332, + 1,000,000
    // guarantee + 2,000,000 insured = 5,333,332 cents -> 53,000.00 EUR at 2 significant digits.
    expect(a.limit.formula.bySales).toBe(2_333_332);
    expect(a.limit.recommended).toBe(5_300_000);
  });

  it('three or more: 15 points off (a whole rating band); the score never goes below 0', () => {
    expect(withPromises(BROKE1, BROKE2, PART).score).toBe(41);
    const far = assess(
      file({
        customer: customer({ industry: 'construction' }),
        invoices: [inv('A', '2026-02-20', '2026-03-22', 1_500_000)],
        promises: [
          promise('X1', '2026-03-25', '2026-04-01', 100),
          promise('X2', '2026-04-25', '2026-05-01', 100),
          promise('X3', '2026-05-25', '2026-06-01', 100),
          promise('X4', '2026-06-01', '2026-06-10', 100),
        ],
      }),
      AS_OF,
      policy,
    );
    expect(factor(far.factors, 'brokenPromises')).toMatchObject({
      value: 4,
      points: -15,
      code: 'BROKEN_PROMISES_OTHER',
    });
    expect(far.score).toBeGreaterThanOrEqual(0);
    expect(far.rating).toBe('E');
  });

  it('a policy written before the factor scores promises as nothing (the alert rule still counts them)', () => {
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as PolicyDocument;
    delete doc.scorecard.factors.brokenPromises;
    const old = parsed(doc);
    const a = assess(file({ ...worked, promises: [BROKE1, BROKE2] }), AS_OF, old);
    expect(a.factors.map((f) => f.factor)).not.toContain('brokenPromises');
    expect([a.score, a.rating]).toEqual([56, 'C']);
  });

  it('promisesNotKept: broken and partial ones whose grace ended in the window, oldest grace first', () => {
    const f = file({ ...worked, promises: [PART, KEPT, OLD, LATER, BROKE2, BROKE1] });
    expect(
      promisesNotKept(f, AS_OF, '2025-06-30', policy).map((p) => [p.promiseId, p.state, p.paid]),
    ).toEqual([
      ['BROKE1', 'broken', 0],
      ['BROKE2', 'broken', 0],
      ['PART', 'partial', 500_000],
    ]);
    // The day BROKE2's grace ends it is still pending; the day after it counts.
    expect(promisesNotKept(f, '2026-05-23', '2025-06-30', policy).map((p) => p.promiseId)).toEqual([
      'BROKE1',
    ]);
    expect(promisesNotKept(f, '2026-05-24', '2025-06-30', policy).map((p) => p.promiseId)).toEqual([
      'BROKE1',
      'BROKE2',
    ]);
  });
});

describe('reproducibility', () => {
  it('the same file and asOf give a deep-equal result', () => {
    expect(assess(workedFile, AS_OF, policy)).toEqual(assess(workedFile, AS_OF, policy));
  });

  it('rows dated after asOf do not count', () => {
    const later = file({
      invoices: [...worked.invoices, inv('I9', '2026-07-01', '2026-07-31', 99_000_000)],
      payments: [...worked.payments, pay('P9', '2026-07-02', 2_400_000, ['I5'])],
      financials: [...worked.financials, statement({ periodEnd: '2026-12-31', totalLiabilities: 0 })],
      guarantees: [
        ...worked.guarantees,
        guarantee('G9', 50_000_000, '2027-12-31', { validFrom: '2026-07-01' }),
      ],
      insurance: [
        ...worked.insurance,
        insurance('N9', 10_000, 50_000_000, '2027-12-31', { validFrom: '2026-07-05' }),
      ],
      scores: [...worked.scores, score('2026-07-15', 10, 200)],
    });
    const a = assess(later, AS_OF, policy);
    expect(a).toEqual(assess(workedFile, AS_OF, policy));
    expect(a.score).toBe(56);
    // and a day later, the payment of I5 does count: 55,000 - 24,000 owed
    expect(assess(later, '2026-07-02', policy).figures.exposure).toBe(5_500_000 - 2_400_000 + 99_000_000);
  });
});

// ---- the limit ----

describe('recommended limit', () => {
  const x = figuresOf(workedFile, AS_OF, policy);
  const WORKED_SALES =
    '13,333.33 EUR average monthly sales (160,000.00 EUR over the last 12 months) x 2.5 months (30 days of payment terms + 1.5 months for rating C) = 33,333.32 EUR';

  it('the worked example: sales over terms and months, plus cover, rounded down; CUT', () => {
    const l = explainLimit(assess(workedFile, AS_OF, policy).limit);
    // average monthly sales: floor(16,000,000 / 12) = 1,333,333 cents
    // rating C: 30 days of terms (1 month) + 1.5 months -> floor(1,333,333 x 2.5) = floor(3,333,332.5) = 3,333,332
    // 10% of revenue 1,000,000.00 = 100,000.00 and the C cap 750,000.00 are both higher
    // + 1,000,000 guarantee + 2,000,000 insured = 6,333,332 cents = 63,333.32 EUR
    // -> 2 significant digits of major units: 63,000.00 EUR
    expect(3_333_332 + 1_000_000 + 2_000_000).toBe(6_333_332);
    expect(l.recommended).toBe(63_000 * 100);
    expect(l.current).toBe(10_000_000);
    expect(l.change).toBe('CUT');
    expect(l.thinHistory).toBe(false);
    expect(l.currency).toBe('EUR');
    expect(l.basis).toEqual([
      WORKED_SALES,
      '+ 10,000.00 EUR guarantee G1 (Big Bank), in force until 2026-12-31',
      'not counted: guarantee G2 (Big Bank) is in USD, not EUR',
      'not counted: guarantee G3 (Big Bank) expired on 2026-06-29',
      "+ 20,000.00 EUR insurance N1 (Safe Re): 90% of the insurable receivables 55,000.00 EUR, capped at the insurer's cap of 20,000.00 EUR, in force until 2027-01-31",
      'rounded down to 2 significant digits',
    ]);
    expect(
      l.reason.startsWith('the formula gives 63,000.00 EUR, below the current 100,000.00 EUR: rating C'),
    ).toBe(true);
  });

  it('never reads the limit it would replace: any current limit gives the same figure', () => {
    for (const creditLimit of [undefined, 0, 1_000, 6_300_000, 10_000_000, 1e12])
      expect(recommendLimit({ ...x, creditLimit }, 'C', policy).recommended).toBe(6_300_000);
  });

  it('the payment terms on file: 60 days are 2 months before the rating adds its own', () => {
    const l = recommendLimit({ ...x, termsDays: 60 }, 'C', policy);
    // floor(1,333,333 x 3.5) = 4,666,665 + 3,000,000 = 7,666,665 -> 76,000.00
    expect(l.recommended).toBe(7_600_000);
    expect(l.basis[0]).toBe(
      '13,333.33 EUR average monthly sales (160,000.00 EUR over the last 12 months) x 3.5 months (60 days of payment terms + 1.5 months for rating C) = 46,666.65 EUR',
    );
  });

  it('10% of revenue caps the sales figure when the statement is in the credit currency', () => {
    const l = recommendLimit({ ...x, latestRevenue: statement({ revenue: 15_000_000 }) }, 'C', policy);
    // min(3,333,332, 10% of 15,000,000 = 1,500,000) + 3,000,000 = 4,500,000
    expect(l.recommended).toBe(4_500_000);
    expect(l.basis).toContain('capped at 10% of revenue 150,000.00 EUR (2025-12-31) = 15,000.00 EUR');
  });

  it('the revenue cap reads the latest statement with a revenue, not an interim one without', () => {
    // Annual accounts to 2025-12-31 with revenue 150,000.00, then a 2026-03-31 balance sheet without a
    // revenue line: the cap is still 10% of 150,000.00.
    const file = {
      ...workedFile,
      financials: [
        statement({ revenue: 15_000_000 }),
        statement({ periodEnd: '2026-03-31', revenue: undefined }),
      ],
    };
    const a = assess(file, AS_OF, policy);
    expect(a.figures.latestStatement?.periodEnd).toBe('2026-03-31');
    expect(a.figures.latestRevenue?.periodEnd).toBe('2025-12-31');
    expect(a.limit.formula.byRevenue).toMatchObject({ revenue: 15_000_000, amount: 1_500_000 });
  });

  it('insurance does not count approved rebates: an insurer pays on receivables', () => {
    // 10,000.00 open not due and a 5,000.00 rebate approved: exposure 15,000.00, insurable 10,000.00.
    const x2 = figuresOf(
      file({
        invoices: [inv('A', '2026-06-10', '2026-07-10', 1_000_000)],
        insurance: [insurance('N1', 9000, 10_000_000, '2027-01-31')],
        transfers: [
          {
            customerId: 'C1',
            transferId: 'TR-R',
            transferType: 'rebate',
            amount: 500_000,
            currency: 'EUR',
            approvedOn: '2026-06-20',
          },
        ],
      }),
      AS_OF,
      policy,
    );
    expect(x2.exposure).toBe(1_500_000);
    expect(x2.insured).toBe(900_000);
  });

  it('revenue in another currency does not cap the limit', () => {
    const l = recommendLimit(
      { ...x, latestRevenue: statement({ revenue: 15_000_000, currency: 'USD' }) },
      'C',
      policy,
    );
    expect(l.recommended).toBe(6_300_000);
  });

  it("the rating's cap applies before guarantees and insurance are added", () => {
    const big: Figures = { ...x, monthlySales: 100_000_000, latestRevenue: undefined };
    // D: 100,000,000 x (1 + 0.75) = 175,000,000 > cap 250,000.00 EUR = 25,000,000
    const d = recommendLimit(big, 'D', policy);
    expect(d.recommended).toBe(25_000_000 + 3_000_000);
    expect(d.basis).toContain('capped at the rating D cap of 250,000.00 EUR');
    // A: 100,000,000 x (1 + 3) = 400,000,000 < cap 500,000,000; + 3,000,000 = 4,030,000.00 EUR -> 4,000,000.00
    expect(recommendLimit(big, 'A', policy).recommended).toBe(4_000_000 * 100);
    // E: 0 months, so no unsecured credit at all (not even the terms): only the cover
    const e = recommendLimit(big, 'E', policy);
    expect(e.recommended).toBe(3_000_000);
    expect(e.basis[0]).toContain('rating E allows no unsecured credit (0 months of sales): 0.00');
    expect(recommendLimit({ ...big, guaranteed: 0, insured: 0, cover: [] }, 'E', policy).recommended).toBe(0);
  });

  it("KEEP when the formula lands within 10% of the current limit; the figure stays the formula's", () => {
    // formula 6,300,000; current 7,000,000: |6,300,000 - 7,000,000| = 700,000 <= 700,000
    const l = recommendLimit({ ...x, creditLimit: 7_000_000 }, 'C', policy);
    expect(l.change).toBe('KEEP');
    expect(l.recommended).toBe(6_300_000);
    expect(l.reason).toBe('keep 70,000.00 EUR: the formula gives 63,000.00 EUR, within 10% of it');
  });

  it('exactly 10% away still keeps; just beyond cuts or raises', () => {
    const capped = { ...x, latestRevenue: statement({ revenue: 15_000_000 }) }; // formula 4,500,000
    // 5,000,000 - 4,500,000 = 500,000 = 10% of 5,000,000
    expect(recommendLimit({ ...capped, creditLimit: 5_000_000 }, 'C', policy).change).toBe('KEEP');
    // 5,000,100 - 4,500,000 = 500,100 > 500,010
    const cut = recommendLimit({ ...capped, creditLimit: 5_000_100 }, 'C', policy);
    expect([cut.change, cut.recommended]).toEqual(['CUT', 4_500_000]);
    // 4,500,000 - 4,100,000 = 400,000 <= 410,000
    expect(recommendLimit({ ...capped, creditLimit: 4_100_000 }, 'C', policy).change).toBe('KEEP');
    // 4,500,000 - 4,000,000 = 500,000 > 400,000
    const raise = recommendLimit({ ...capped, creditLimit: 4_000_000 }, 'C', policy);
    expect([raise.change, raise.recommended]).toEqual(['RAISE', 4_500_000]);
    expect(raise.reason.startsWith('the formula gives 45,000.00 EUR, above the current 40,000.00 EUR')).toBe(
      true,
    );
  });

  it('NEW when there is no limit on file; RAISE from a zero limit', () => {
    const n = recommendLimit({ ...x, creditLimit: undefined }, 'C', policy);
    expect([n.change, n.current, n.recommended]).toEqual(['NEW', undefined, 6_300_000]);
    expect(n.reason).toBe('no limit on file; the formula gives 63,000.00 EUR');
    const z = recommendLimit({ ...x, creditLimit: 0 }, 'C', policy);
    expect([z.change, z.recommended]).toEqual(['RAISE', 6_300_000]);
  });

  it('no sales in the window: no recommendation, never a cut to 0.00', () => {
    const old = file({ invoices: [inv('A', '2025-03-01', '2025-03-31', 1_000_000)] });
    const l = explainLimit(assess(old, AS_OF, policy).limit);
    expect([l.change, l.recommended, l.current]).toEqual(['NONE', undefined, 10_000_000]);
    expect(l.reason).toBe(
      'the limit of 100,000.00 EUR stays; nothing invoiced in the last 12 months: no sales, so no recommendation',
    );
    const none = explainLimit(
      assess(file({ customer: customer({ creditLimit: undefined }) }), AS_OF, policy).limit,
    );
    expect([none.change, none.recommended]).toEqual(['NONE', undefined]);
  });

  it('a thin history: the average is over the months observed, and the basis says how many', () => {
    // First invoice 2026-05-01: 1 month and 29 days to 2026-06-30, so 2 months (a month begun counts).
    // 20,000 + 20,000 over 2 months = 20,000 a month, not 40,000 / 12 = 3,333.33.
    const young = file({
      customer: customer({ creditLimit: 10_000_000, paymentTermsDays: 30 }),
      invoices: [
        inv('A', '2026-05-01', '2026-05-31', 2_000_000),
        inv('B', '2026-06-01', '2026-07-01', 2_000_000),
      ],
      payments: [pay('PA', '2026-05-31', 2_000_000, ['A'])],
    });
    const a = assess(young, AS_OF, policy);
    expect(a.figures.salesMonths).toBe(2);
    expect(a.figures.monthlySales).toBe(2_000_000);
    const l = explainLimit(a.limit);
    expect(l.thinHistory).toBe(true);
    expect(l.basis[0]).toMatch(
      /^20,000\.00 EUR average monthly sales \(40,000\.00 EUR over 2 months since the first invoice\)/,
    );
    expect(l.basis[1]).toBe(
      "thin history: 2 months of sales, fewer than the policy's 3: this recommendation never cuts a limit on its own",
    );
  });

  describe('rounding down to 2 significant digits of major units', () => {
    // rating E: 0 months of sales and a cap of 0, so the limit is the guarantee alone
    const only = (guaranteed: number, currency = 'EUR') =>
      recommendLimit(
        {
          ...x,
          currency,
          guaranteed,
          insured: 0,
          cover: [],
          uncounted: [],
          latestRevenue: undefined,
          creditLimit: undefined,
        },
        'E',
        policy,
      );

    it.each([
      [4_832_155, 4_800_000], // 48,321.55 -> 48,000.00
      [1_000_000, 1_000_000], // 10,000.00 stays
      [99_999, 99_000], // 999.99 -> 990.00
      [1_999, 1_900], // 19.99 -> 19.00
      [555, 500], // 5.55 -> 5.00
      [50, 0], // 0.50: less than one major unit
      [12_345_678_900, 12_000_000_000], // 123,456,789.00 -> 120,000,000.00
    ])('%i cents -> %i cents', (g, expected) => {
      const l = only(g);
      expect(l.recommended).toBe(expected);
      expect(l.change).toBe('NEW');
      expect(l.basis.includes('rounded down to 2 significant digits')).toBe(g !== expected);
    });

    it('in a currency without minor units', () => {
      // JPY 48,321 -> 48,000
      expect(only(48_321, 'JPY').recommended).toBe(48_000);
    });
  });

  it('a limit already at 2 significant digits is not rounded', () => {
    const l = recommendLimit(
      {
        ...x,
        salesInWindow: 12_000_000,
        monthlySales: 1_000_000,
        guaranteed: 0,
        insured: 0,
        cover: [],
        uncounted: [],
        latestRevenue: undefined,
      },
      'B',
      policy,
    );
    // monthly 1,000,000 x (1 month of terms + 2 months) = 3,000,000
    expect(l.recommended).toBe(3_000_000);
    expect(l.basis).toEqual([
      '10,000.00 EUR average monthly sales (120,000.00 EUR over the last 12 months) x 3 months (30 days of payment terms + 2 months for rating B) = 30,000.00 EUR',
    ]);
  });
});

describe('salesMonthsOf: the months the average is taken over', () => {
  it.each([
    [undefined, 0],
    ['2026-06-30', 1], // the first invoice today: one month begun
    ['2026-06-01', 1],
    ['2026-05-31', 1], // 2026-05-31 + 1 month = 2026-06-30: exactly one month
    ['2026-05-30', 1],
    ['2026-05-29', 2],
    ['2026-04-30', 2],
    ['2026-04-29', 3],
    ['2025-06-30', 12],
    ['2020-01-01', 12], // at most the window
    ['2026-07-01', 0], // not issued yet
  ] as const)('first invoice %s -> %i months', (first, months) => {
    expect(salesMonthsOf(first, AS_OF, 12)).toBe(months);
  });
});

describe('approved transfers in the exposure (DOMAIN: open receivables + approved but unpaid transfers)', () => {
  const commitment = (
    transferId: string,
    type: string,
    amount: number,
    approvedOn: string,
    extra: Partial<TransferCommitment> = {},
  ): TransferCommitment => ({
    customerId: 'C1',
    transferId,
    transferType: type,
    amount,
    currency: 'EUR',
    approvedOn,
    ...extra,
  });
  // 12,000.00 open, not yet due; limit 100,000.00.
  const owes = { invoices: [inv('A', '2026-06-01', '2026-07-31', 1_200_000)] };

  it('a rebate counts from its approval day until the day it is paid', () => {
    const rebate = commitment('TR-1', 'rebate', 300_000, '2026-06-10', { paidOn: '2026-06-20' });
    const at = (d: string) => figuresOf(file({ ...owes, transfers: [rebate] }), d, policy);
    expect(at('2026-06-09').exposure).toBe(1_200_000);
    expect(at('2026-06-09').approvedTransfers).toBe(0);
    expect(at('2026-06-10').exposure).toBe(1_500_000); // 12,000 + 3,000
    expect(at('2026-06-10').approvedTransfers).toBe(300_000);
    expect(at('2026-06-10').limitUse).toBe(0.15); // 15,000 / 100,000
    expect(at('2026-06-19').exposure).toBe(1_500_000);
    expect(at('2026-06-20').exposure).toBe(1_200_000); // paid: the company's cost, not the customer's debt
    const unpaid = commitment('TR-2', 'credit_release', 300_000, '2026-06-10');
    expect(figuresOf(file({ ...owes, transfers: [unpaid] }), AS_OF, policy).exposure).toBe(1_500_000);
  });

  it('an overpayment return cancels the unapplied cash it pays back, before and after it is paid', () => {
    // 12,000.00 open, 5,000.00 paid on no invoice that exists (kept as unapplied cash).
    const books = { ...owes, payments: [pay('P1', '2026-06-05', 500_000, ['NOPE'])] };
    const ret = commitment('TR-3', 'overpayment_return', 500_000, '2026-06-10', { paidOn: '2026-06-12' });
    const at = (d: string) => figuresOf(file({ ...books, transfers: [ret] }), d, policy);
    expect(at('2026-06-09').receivables.summary.unappliedCash).toBe(500_000);
    expect(at('2026-06-09').exposure).toBe(700_000); // 12,000 - 5,000
    expect(at('2026-06-10').exposure).toBe(1_200_000); // the cash is going back: 12,000 - 5,000 + 5,000
    expect(at('2026-06-12').exposure).toBe(1_200_000); // paid: still counted against the cash it returned
    expect(at(AS_OF).exposure).toBe(1_200_000);
  });

  it('a refund of a credit balance leaves nothing owed: the exposure stays at zero', () => {
    const books = { payments: [pay('P1', '2026-06-05', 500_000, ['NOPE'])] };
    const refund = commitment('TR-4', 'refund', 500_000, '2026-06-10', { paidOn: '2026-06-11' });
    for (const d of ['2026-06-09', '2026-06-10', '2026-06-11', AS_OF])
      expect(figuresOf(file({ ...books, transfers: [refund] }), d, policy).exposure).toBe(0);
    // A refund above the credit balance is owed back: 6,000 - 5,000 = 1,000.00.
    const more = commitment('TR-5', 'refund', 600_000, '2026-06-10');
    expect(figuresOf(file({ ...books, transfers: [more] }), AS_OF, policy).exposure).toBe(100_000);
  });

  it('a transfer in another currency is not counted, and the limit basis says so', () => {
    const usd = commitment('TR-6', 'rebate', 300_000, '2026-06-10', { currency: 'USD' });
    const x = figuresOf(file({ ...owes, transfers: [usd] }), AS_OF, policy);
    expect(x.exposure).toBe(1_200_000);
    expect(x.approvedTransfers).toBe(0);
    expect(x.uncounted).toEqual(['approved transfer TR-6 of 3,000.00 USD']);
    expect(recommendLimit(x, 'A', policy).basis).toContain(
      'not counted: approved transfer TR-6 of 3,000.00 USD, not EUR',
    );
  });

  it('transferCounts: the rule by itself', () => {
    const r = commitment('TR-7', 'rebate', 1, '2026-06-10', { paidOn: '2026-06-10' });
    expect(transferCounts(r, '2026-06-10')).toBe(false); // approved and paid the same day
    expect(transferCounts({ ...r, transferType: 'refund' }, '2026-06-10')).toBe(true);
    expect(transferCounts({ ...r, transferType: 'refund' }, '2026-06-09')).toBe(false);
  });
});
