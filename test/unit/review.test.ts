import { describe, expect, it } from 'vitest';
import type { Customer, Invoice, Payment } from '../../functions/core/records.ts';
import type { Alert, AlertEvent } from '../../functions/credit/alerts.ts';
import { assess, type CreditFile } from '../../functions/credit/assess.ts';
import { type Policy, type PolicyDocument, policyInForce } from '../../functions/credit/policy.ts';
import {
  cadenceOf,
  dueCustomers,
  failedReview,
  type Review,
  type ReviewInput,
  type ReviewState,
  reviewCustomer,
  reviewHash,
  stateAfter,
} from '../../functions/reviews/review.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);

/** The default policy with one change. */
function variant(change: (d: PolicyDocument) => void): Policy {
  const d = structuredClone(DEFAULT_POLICY_DOCUMENT) as PolicyDocument;
  change(d);
  return policyInForce(undefined, d);
}

// ---- dueCustomers ----

const AS_OF = '2026-06-30';

function state(customerId: string, extra: Partial<ReviewState> = {}): ReviewState {
  return {
    customerId,
    reviewId: `run-0/${customerId}`,
    reviewedOn: '2026-05-31',
    reviewedAt: '2026-05-31T06:00:00.000Z',
    nextReviewOn: '2026-08-31',
    rating: 'C',
    score: 60,
    riskClass: 'medium',
    currency: 'EUR',
    limit: 1_000_000,
    ...extra,
  };
}

function alert(customerId: string, extra: Partial<Alert> = {}): Alert {
  const openedAt = extra.openedAt ?? '2026-06-10T06:00:00.000Z';
  const rule = extra.rule ?? 'daysPastDue';
  const severity = extra.severity ?? 'high';
  return {
    alertId: `${customerId}/${rule}/${openedAt}`,
    customerId,
    rule,
    status: 'open',
    severity,
    action: 'hold_deliveries',
    summary: 'test alert',
    evidence: {},
    policyId: policy.id,
    openedAt,
    openedAsOf: openedAt.slice(0, 10),
    seenAsOf: openedAt.slice(0, 10),
    notifiedSeverity: severity,
    history: [{ at: openedAt, event: 'opened', severity }],
    ...extra,
  };
}

const due = (
  ids: string[],
  states: ReviewState[],
  alerts: Alert[] = [],
  asOf: string = AS_OF,
  p: Policy = policy,
) => dueCustomers(ids, new Map(states.map((s) => [s.customerId, s])), alerts, asOf, p);

describe('dueCustomers', () => {
  it('selects a customer never reviewed for its first review', () => {
    expect(due(['C1'], [])).toEqual([{ customerId: 'C1', reason: 'first review' }]);
  });

  it('selects a customer whose next review date is the as-of date, not the day before', () => {
    const s = state('C1', { nextReviewOn: '2026-06-30' });
    expect(due(['C1'], [s], [], '2026-06-29')).toEqual([]);
    expect(due(['C1'], [s], [], '2026-06-30')).toEqual([
      { customerId: 'C1', reason: 'scheduled: due on 2026-06-30 (medium risk, every 3 months)' },
    ]);
    // A date already passed (a skipped run) is still due.
    expect(due(['C1'], [s], [], '2026-07-15').map((d) => d.customerId)).toEqual(['C1']);
  });

  it('names the cadence of the policy in the scheduled reason', () => {
    const s = state('C1', { nextReviewOn: '2026-06-01', riskClass: 'high' });
    expect(due(['C1'], [s])[0]?.reason).toBe('scheduled: due on 2026-06-01 (high risk, every 1 months)');
  });

  it('selects at once after a severe alert opened since the last review, not one opened before', () => {
    const s = state('C1');
    const after = alert('C1', { openedAt: '2026-06-10T06:00:00.000Z' });
    expect(due(['C1'], [s], [after])).toEqual([
      {
        customerId: 'C1',
        reason: 'at once: high alert daysPastDue raised after the last review (2026-05-31)',
      },
    ]);
    const before = alert('C1', { openedAt: '2026-05-20T06:00:00.000Z' });
    expect(due(['C1'], [s], [before])).toEqual([]);
    // One millisecond either side of the review instant.
    expect(due(['C1'], [s], [alert('C1', { openedAt: '2026-05-31T06:00:00.001Z' })])).toHaveLength(1);
    expect(due(['C1'], [s], [alert('C1', { openedAt: '2026-05-31T06:00:00.000Z' })])).toEqual([]);
  });

  it('selects at once after an alert opened before the review but escalated since', () => {
    const s = state('C1');
    const openedAt = '2026-05-20T06:00:00.000Z';
    const history = (at: string): AlertEvent[] => [
      { at: openedAt, event: 'opened', severity: 'warning' },
      { at, event: 'escalated', severity: 'high' },
    ];
    const escalatedAfter = alert('C1', { openedAt, history: history('2026-06-05T06:00:00.000Z') });
    expect(due(['C1'], [s], [escalatedAfter])).toEqual([
      {
        customerId: 'C1',
        reason: 'at once: high alert daysPastDue raised after the last review (2026-05-31)',
      },
    ]);
    const escalatedBefore = alert('C1', { openedAt, history: history('2026-05-25T06:00:00.000Z') });
    expect(due(['C1'], [s], [escalatedBefore])).toEqual([]);
    // Other events after the review (an acknowledgement) do not count.
    const acknowledged = alert('C1', {
      openedAt,
      history: [
        { at: openedAt, event: 'opened', severity: 'high' },
        { at: '2026-06-05T06:00:00.000Z', event: 'acknowledged', by: 'ana' },
      ],
    });
    expect(due(['C1'], [s], [acknowledged])).toEqual([]);
  });

  it('does not select for a warning alert (the default minSeverity is high), but does for a critical one', () => {
    const s = state('C1');
    expect(due(['C1'], [s], [alert('C1', { severity: 'warning' })])).toEqual([]);
    expect(due(['C1'], [s], [alert('C1', { severity: 'critical' })]).map((d) => d.customerId)).toEqual([
      'C1',
    ]);
  });

  it('follows the policy minSeverity', () => {
    const warningIsEnough = variant((d) => {
      d.review.atOnce.minSeverity = 'warning';
    });
    const s = state('C1');
    expect(due(['C1'], [s], [alert('C1', { severity: 'warning' })], AS_OF, warningIsEnough)).toHaveLength(1);
    expect(due(['C1'], [s], [alert('C1', { severity: 'info' })], AS_OF, warningIsEnough)).toEqual([]);
  });

  it('selects after a warning ratingDowngrade alert when atOnce.ratingDowngrade is true, not when false', () => {
    const s = state('C1');
    const downgrade = alert('C1', { rule: 'ratingDowngrade', severity: 'warning', action: 'review' });
    expect(due(['C1'], [s], [downgrade])).toEqual([
      {
        customerId: 'C1',
        reason: 'at once: warning alert ratingDowngrade raised after the last review (2026-05-31)',
      },
    ]);
    const noDowngrade = variant((d) => {
      d.review.atOnce.ratingDowngrade = false;
    });
    expect(due(['C1'], [s], [downgrade], AS_OF, noDowngrade)).toEqual([]);
    // A downgrade opened before the last review does not call for another one.
    const old = alert('C1', {
      rule: 'ratingDowngrade',
      severity: 'warning',
      openedAt: '2026-05-01T06:00:00.000Z',
    });
    expect(due(['C1'], [s], [old])).toEqual([]);
  });

  it('never selects at once for an alert measured against the limit (a cut raises limit use)', () => {
    const s = state('C1');
    const overLimit = alert('C1', { rule: 'limitUse', severity: 'high' });
    const overdueOfLimit = alert('C1', { rule: 'overdueAmount', severity: 'critical' });
    expect(due(['C1'], [s], [overLimit, overdueOfLimit])).toEqual([]);
    // The same customer with a severe alert of another rule is selected.
    expect(due(['C1'], [s], [overLimit, alert('C1')]).map((d) => d.customerId)).toEqual(['C1']);
  });

  it('ignores alerts of other customers', () => {
    expect(due(['C1'], [state('C1')], [alert('C2')])).toEqual([]);
  });

  it('reviews a customer named twice once, and answers in id order', () => {
    const states = [
      state('C2', { nextReviewOn: '2026-06-01' }),
      state('C3'), // not due
      state('C4'),
    ];
    const out = due(['C4', 'C2', 'C1', 'C2', 'C3', 'C1'], states, [alert('C4')]);
    expect(out.map((d) => d.customerId)).toEqual(['C1', 'C2', 'C4']);
    expect(out.map((d) => d.reason.split(':')[0])).toEqual(['first review', 'scheduled', 'at once']);
  });

  it('gives the scheduled reason before the alert one when both hold', () => {
    const s = state('C1', { nextReviewOn: '2026-06-30' });
    expect(due(['C1'], [s], [alert('C1')])[0]?.reason).toMatch(/^scheduled: /);
  });
});

// ---- reviewCustomer ----

function customer(creditLimit: number | undefined, extra: Partial<Customer> = {}): Customer {
  return {
    customerId: 'C1',
    name: 'Acme Trading',
    industry: 'Wholesale',
    currency: 'EUR',
    creditLimit,
    ...extra,
  };
}

/**
 * A customer that always pays on the due day: one invoice a month for the 12 months up to `asOf`'s
 * month (issued on the 1st, due and paid on the 10th), and one old invoice from 2022-01 so the
 * history is long. Nothing is open on `asOf` (which must be on or after the 10th).
 */
function goodPayer(asOf: string, monthly: number, limit: number | undefined, currency = 'EUR'): CreditFile {
  const invoices: Invoice[] = [];
  const payments: Payment[] = [];
  const book = (id: string, month: string, amount: number) => {
    invoices.push({
      customerId: 'C1',
      invoiceId: id,
      issueDate: `${month}-01`,
      dueDate: `${month}-10`,
      amount,
      currency,
      disputed: false,
    });
    payments.push({
      customerId: 'C1',
      paymentId: `P-${id}`,
      receivedDate: `${month}-10`,
      amount,
      currency,
      invoiceIds: [id],
    });
  };
  book('OLD', '2022-01', 100);
  const [y, m] = asOf.split('-').map(Number) as [number, number];
  for (let i = 11; i >= 0; i--) {
    const n = y * 12 + (m - 1) - i;
    const month = `${Math.floor(n / 12)}-${String((n % 12) + 1).padStart(2, '0')}`;
    book(`I${month}`, month, monthly);
  }
  return {
    customerId: 'C1',
    customer: customer(limit, { currency }),
    currency,
    invoices,
    payments,
    financials: [],
    guarantees: [],
    insurance: [],
    scores: [],
  };
}

/**
 * The good payer's scorecard under the default policy (100 points available):
 * mean 10 + weighted 10 + share late 8 + max DPD 12 + overdue share 8 + exposure to sales 8
 * (nothing owed: 0 months) + current 2 + quick 2 + debt 2 + Altman 4 (no statement: neutral)
 * + history 6 (>= 36 months) + external 2 + cover 2 (nothing owed: neutral) + industry 2 (wholesale)
 * = 78, with a limit or without (no factor reads it): rating B (65 <= score < 80), low risk.
 */
const GOOD_SCORE = 78;

/**
 * The recommendation, by hand: 12 x 60,000.00 sales in the window (the 2022 invoice is older) ->
 * 60,000.00 a month x (30 days of terms, the policy's default = 1 month, + 2 months for B) =
 * 180,000.00, under the B cap of 2,000,000.00 EUR, already 2 significant digits.
 */
const MONTHLY = 6_000_000; // 60,000.00 EUR
const RECOMMENDED = 18_000_000; // 180,000.00 EUR

function review(file: CreditFile, extra: Partial<ReviewInput> = {}): Review {
  return reviewCustomer({
    runId: 'run-1',
    customerId: 'C1',
    due: 'first review',
    asOf: AS_OF,
    now: '2026-06-30T05:00:00.000Z',
    file,
    alerts: [],
    policy,
    ...extra,
  });
}

describe('reviewCustomer: the fixture', () => {
  it('rates the good payer B with the score worked out by hand', () => {
    const r = review(goodPayer(AS_OF, MONTHLY, 10_000_000));
    expect(r.status).toBe('done');
    expect(r.score).toBe(GOOD_SCORE);
    expect(r.rating).toBe('B');
    expect(r.riskClass).toBe('low');
    expect(r.figures).toEqual({
      exposure: 0,
      openAmount: 0,
      overdueAmount: 0,
      maxDaysPastDue: 0,
      limitUse: 0,
      dso: 0, // nothing open against 90 days of sales
      salesInWindow: 12 * MONTHLY,
      salesMonths: 12,
      monthlySales: MONTHLY,
      secured: 0,
    });
    expect(review(goodPayer(AS_OF, MONTHLY, undefined)).score).toBe(GOOD_SCORE);
    expect(r.recommendedLimit).toBe(RECOMMENDED);
  });

  it('uses the same recommendation as the scorecard', () => {
    const file = goodPayer(AS_OF, MONTHLY, 20_000_000);
    expect(review(file).recommendedLimit).toBe(assess(file, AS_OF, policy).limit.recommended);
  });
});

describe('reviewCustomer: outcomes', () => {
  it('cuts a limit above the recommendation at once when it stays above the exposure, and asks for attention', () => {
    // 240,000.00 -> 180,000.00: 60,000.00 over (keep band 24,000.00), a cut of 25% (at most 50%),
    // and nothing is owed, so the exposure floor is 0.
    const r = review(goodPayer(AS_OF, MONTHLY, 24_000_000));
    expect(r.outcome).toBe('cut');
    expect(r.rule).toBe('CUT');
    expect(r.currentLimit).toBe(24_000_000);
    expect(r.recommendedLimit).toBe(RECOMMENDED);
    expect(r.limitAfter).toBe(RECOMMENDED);
    expect(r.attention).toBe(true);
    expect(r.decision).toBe(
      'cut from 240,000.00 EUR to 180,000.00 EUR at once: still above the exposure of 0.00 EUR',
    );
    expect(r.basis?.[0]).toMatch(/^60,000\.00 EUR average monthly sales/);
    expect(r.applied).toBe(false);
  });

  it('keeps a limit the recommendation is within keepWithin (10%) of, either side', () => {
    // 165,000.00: the formula's 180,000.00 is 15,000.00 above, within 16,500.00.
    const below = review(goodPayer(AS_OF, MONTHLY, 16_500_000));
    expect(below.outcome).toBe('keep');
    expect(below.limitAfter).toBe(16_500_000);
    expect(below.recommendedLimit).toBe(RECOMMENDED); // the formula's figure, whatever the limit
    expect(below.attention).toBe(false);
    expect(below.decision).toBe('keep 165,000.00 EUR: the formula gives 180,000.00 EUR, within 10% of it');
    // 195,000.00: 15,000.00 above the formula, within 19,500.00.
    const above = review(goodPayer(AS_OF, MONTHLY, 19_500_000));
    expect(above.outcome).toBe('keep');
    expect(above.limitAfter).toBe(19_500_000);
    // Exactly the formula.
    expect(review(goodPayer(AS_OF, MONTHLY, RECOMMENDED)).outcome).toBe('keep');
  });

  it('applies a raise within the share and under the amount threshold', () => {
    // 150,000.00 -> 180,000.00: +30,000.00 is 20% (<= 25%) and <= 100,000.00 EUR.
    const r = review(goodPayer(AS_OF, MONTHLY, 15_000_000));
    expect(r.outcome).toBe('raise');
    expect(r.limitAfter).toBe(RECOMMENDED);
    expect(r.recommendedLimit).toBe(RECOMMENDED);
    expect(r.attention).toBe(false);
    expect(r.decision).toBe(
      "raised from 150,000.00 EUR to 180,000.00 EUR: an increase of 30,000.00 EUR, within the policy's 25% and 100,000.00 EUR",
    );
  });

  it('sends a raise above the share for approval, leaving the current limit', () => {
    // 135,000.00 -> 180,000.00: +45,000.00 is 33% of the current limit.
    const r = review(goodPayer(AS_OF, MONTHLY, 13_500_000));
    expect(r.outcome).toBe('approval');
    expect(r.request).toBe('increase');
    expect(r.recommendedLimit).toBe(RECOMMENDED);
    expect(r.askedLimit).toBe(RECOMMENDED);
    expect(r.limitAfter).toBe(13_500_000);
    expect(r.attention).toBe(true);
    expect(r.decision).toBe(
      'raise from 135,000.00 EUR to 180,000.00 EUR needs approval: the increase of 45,000.00 EUR is more than 25% of the current limit',
    );
  });

  it('applies an increase of exactly the share (the rule is "more than"), not one cent more', () => {
    // 144,000.00 x 25% = 36,000.00 = 180,000.00 - 144,000.00.
    const at = review(goodPayer(AS_OF, MONTHLY, 14_400_000));
    expect(at.outcome).toBe('raise');
    expect(at.limitAfter).toBe(RECOMMENDED);
    // 143,999.99: the increase 36,000.01 is more than 35,999.9975.
    const over = review(goodPayer(AS_OF, MONTHLY, 14_399_999));
    expect(over.outcome).toBe('approval');
    expect(over.limitAfter).toBe(14_399_999);
  });

  describe('the amount threshold (EUR 100,000.00)', () => {
    // 12 x 300,000.00 -> 300,000.00 a month x 3 months = 900,000.00, under the B cap, 2 significant digits.
    const BIG_MONTHLY = 30_000_000;
    const BIG = 90_000_000;

    it('sends an increase within the share but above the amount for approval', () => {
      // 780,000.00 -> 900,000.00: +120,000.00 is 15.4% (<= 25%) but above 100,000.00.
      const r = review(goodPayer(AS_OF, BIG_MONTHLY, 78_000_000));
      expect(r.recommendedLimit).toBe(BIG);
      expect(r.outcome).toBe('approval');
      expect(r.limitAfter).toBe(78_000_000);
      expect(r.decision).toBe(
        'raise from 780,000.00 EUR to 900,000.00 EUR needs approval: the increase of 120,000.00 EUR is above 100,000.00 EUR',
      );
    });

    it('applies an increase of exactly the amount', () => {
      // 800,000.00 -> 900,000.00: +100,000.00 = the threshold, 12.5% of the limit.
      const r = review(goodPayer(AS_OF, BIG_MONTHLY, 80_000_000));
      expect(r.outcome).toBe('raise');
      expect(r.limitAfter).toBe(BIG);
    });

    it('has no amount threshold in a currency the policy names none for (JPY, no decimals)', () => {
      // 12 x 10,000,000 JPY -> 10,000,000 a month x 3 = 30,000,000 (no JPY cap); 24,000,000 -> 30,000,000 is exactly 25%.
      const r = review(goodPayer(AS_OF, 10_000_000, 24_000_000, 'JPY'));
      expect(r.currency).toBe('JPY');
      expect(r.recommendedLimit).toBe(30_000_000);
      expect(r.outcome).toBe('raise');
      expect(r.limitAfter).toBe(30_000_000);
      expect(r.decision).toBe(
        "raised from 24,000,000 JPY to 30,000,000 JPY: an increase of 6,000,000 JPY, within the policy's 25%",
      );
    });
  });

  it('sends any increase from a limit of 0 for approval', () => {
    const r = review(goodPayer(AS_OF, MONTHLY, 0));
    expect(r.currentLimit).toBe(0);
    expect(r.recommendedLimit).toBe(RECOMMENDED);
    expect(r.outcome).toBe('approval');
    expect(r.limitAfter).toBe(0);
    expect(r.attention).toBe(true);
  });

  it('sends a first limit for approval when none is on file', () => {
    const r = review(goodPayer(AS_OF, MONTHLY, undefined));
    expect(r.currentLimit).toBeUndefined();
    expect(r.recommendedLimit).toBe(RECOMMENDED);
    expect(r.outcome).toBe('approval');
    expect(r.request).toBe('first');
    expect(r.limitAfter).toBeUndefined();
    expect(r.attention).toBe(true);
    expect(r.decision).toBe('no limit on file: a first limit of 180,000.00 EUR needs approval');
  });

  it('without sales there is no recommendation: nothing is set, never a limit of 0.00', () => {
    // No invoices at all. The scorecard: neutral 5+5+4 for behaviour, max DPD 12, overdue share 8,
    // exposure to sales 4 (no sales), ratios 2+2+2+4, history 0, external 2, cover 2, industry 2 = 54:
    // rating C (50 <= score < 65), medium risk.
    const file: CreditFile = { ...goodPayer(AS_OF, MONTHLY, undefined), invoices: [], payments: [] };
    const r = review(file);
    expect(r.score).toBe(54);
    expect(r.rating).toBe('C');
    expect(r.recommendedLimit).toBeUndefined();
    expect(r.outcome).toBe('keep');
    expect(r.rule).toBe('NO_RECOMMENDATION');
    expect(r.limitAfter).toBeUndefined();
    expect(r.attention).toBe(false);
    expect(r.decision).toBe('no sales in the last 12 months, so no recommendation: no limit is set');
    expect(r.nextReviewOn).toBe('2026-09-30'); // medium: 3 months
    // With a limit on file, it stays.
    const kept = review({ ...file, customer: customer(5_000_000) });
    expect([kept.outcome, kept.limitAfter]).toEqual(['keep', 5_000_000]);
  });

  it('a dormant account that still owes long-overdue money keeps its limit for lack of sales, and asks for attention', () => {
    // One invoice of 2025-03-01, due 2025-03-31 and never paid: 456 days past due, no sales in the window.
    const file: CreditFile = {
      ...goodPayer(AS_OF, MONTHLY, 8_000_000),
      invoices: [
        {
          customerId: 'C1',
          invoiceId: 'OLD-1',
          issueDate: '2025-03-01',
          dueDate: '2025-03-31',
          amount: 3_000_000,
          currency: 'EUR',
          disputed: false,
        },
      ],
      payments: [],
    };
    // Every rating low risk, so the attention comes from the dormant debt alone.
    const allLow = variant((d) => {
      d.riskClass = { A: 'low', B: 'low', C: 'low', D: 'low', E: 'low' };
    });
    const r = review(file, { policy: allLow });
    expect([r.outcome, r.rule, r.limitAfter]).toEqual(['keep', 'NO_RECOMMENDATION', 8_000_000]);
    expect(r.figures?.maxDaysPastDue).toBe(456);
    expect(r.riskClass).toBe('low');
    expect(r.attention).toBe(true);
    // Nothing overdue that long: a quiet dormant account needs nobody.
    const quiet = review(
      {
        ...file,
        payments: [
          {
            customerId: 'C1',
            paymentId: 'P-OLD',
            receivedDate: '2025-03-31',
            amount: 3_000_000,
            currency: 'EUR',
            invoiceIds: ['OLD-1'],
          },
        ],
      },
      { policy: allLow },
    );
    expect([quiet.rule, quiet.attention]).toEqual(['NO_RECOMMENDATION', false]);
  });

  it('a customer known only from its invoices (no master data) gets no limit decision', () => {
    const r = review({ ...goodPayer(AS_OF, MONTHLY, undefined), customer: undefined });
    expect([r.outcome, r.rule, r.limitAfter]).toEqual(['keep', 'NOT_ON_FILE', undefined]);
  });

  it('a raise is held back while a high alert is active; a warning does not hold it', () => {
    const high = alert('C1', { rule: 'daysLateDrift', severity: 'high' });
    const held = review(goodPayer(AS_OF, MONTHLY, 15_000_000), { alerts: [high] });
    expect([held.outcome, held.rule, held.limitAfter]).toEqual(['keep', 'RAISE_BLOCKED', 15_000_000]);
    expect(held.decision).toBe(
      'keep 150,000.00 EUR: the formula gives 180,000.00 EUR, but no raise while an alert is active (high daysLateDrift)',
    );
    const resolved = { ...high, status: 'resolved' as const };
    expect(review(goodPayer(AS_OF, MONTHLY, 15_000_000), { alerts: [resolved] }).outcome).toBe('raise');
    const warning = alert('C1', { rule: 'daysLateDrift', severity: 'warning' });
    expect(review(goodPayer(AS_OF, MONTHLY, 15_000_000), { alerts: [warning] }).outcome).toBe('raise');
  });
});

describe('reviewCustomer: the next review and the previous state', () => {
  it('sets the next review the risk class cadence after the as-of date (low: 12 months)', () => {
    expect(cadenceOf(policy, 'low')).toBe(12);
    expect(review(goodPayer(AS_OF, MONTHLY, 10_000_000)).nextReviewOn).toBe('2027-06-30');
  });

  it('clamps an end-of-month date (2026-01-31 + 1 month = 2026-02-28), and a high-risk customer needs attention', () => {
    const bIsHigh = variant((d) => {
      d.riskClass.B = 'high';
    });
    const asOf = '2026-01-31';
    const r = review(goodPayer(asOf, MONTHLY, RECOMMENDED), { asOf, policy: bIsHigh });
    expect(r.rating).toBe('B');
    expect(r.riskClass).toBe('high');
    expect(r.outcome).toBe('keep');
    expect(r.nextReviewOn).toBe('2026-02-28');
    expect(r.attention).toBe(true);
    // Another cadence from the same date: 3 months to 2026-04-30.
    const quarterly = variant((d) => {
      d.riskClass.B = 'high';
      d.review.cadenceMonths = { high: 3, medium: 3, low: 12 };
    });
    expect(review(goodPayer(asOf, MONTHLY, RECOMMENDED), { asOf, policy: quarterly }).nextReviewOn).toBe(
      '2026-04-30',
    );
  });

  it('copies the previous state, and asks for attention when the rating fell', () => {
    const previous = state('C1', { rating: 'A', score: 85, reviewedOn: '2025-06-30', limit: RECOMMENDED });
    const r = review(goodPayer(AS_OF, MONTHLY, RECOMMENDED), { previous });
    expect(r.previous).toEqual({ reviewedOn: '2025-06-30', rating: 'A', score: 85, limit: RECOMMENDED });
    expect(r.outcome).toBe('keep');
    expect(r.rating).toBe('B');
    expect(r.attention).toBe(true);
  });

  it('does not ask for attention when the rating held or rose', () => {
    const same = review(goodPayer(AS_OF, MONTHLY, RECOMMENDED), { previous: state('C1', { rating: 'B' }) });
    expect(same.attention).toBe(false);
    const rose = review(goodPayer(AS_OF, MONTHLY, RECOMMENDED), { previous: state('C1', { rating: 'D' }) });
    expect(rose.previous?.rating).toBe('D');
    expect(rose.attention).toBe(false);
  });

  it('has no previous without a state', () => {
    expect(review(goodPayer(AS_OF, MONTHLY, RECOMMENDED)).previous).toBeUndefined();
  });

  it('records the run, the customer, the policy and why it was due', () => {
    const r = review(goodPayer(AS_OF, MONTHLY, RECOMMENDED), { runId: 'run-9', due: 'scheduled: x' });
    expect(r.reviewId).toBe('run-9/C1');
    expect(r.runId).toBe('run-9');
    expect(r.name).toBe('Acme Trading');
    expect(r.asOf).toBe(AS_OF);
    expect(r.reviewedAt).toBe('2026-06-30T05:00:00.000Z');
    expect(r.policyId).toBe(policy.id);
    expect(r.due).toBe('scheduled: x');
  });
});

// ---- failed reviews, the state after, the hash ----

describe('failedReview and stateAfter', () => {
  const input = {
    runId: 'run-1',
    customerId: 'C7',
    due: 'first review',
    asOf: AS_OF,
    now: '2026-06-30T05:00:00.000Z',
  };

  it('keeps the error text and asks for attention', () => {
    const f = failedReview({ ...input, policyId: policy.id }, new TypeError('no partition'));
    expect(f.status).toBe('failed');
    expect(f.error).toBe('TypeError: no partition');
    expect(f.attention).toBe(true);
    expect(f.reviewId).toBe('run-1/C7');
    expect(f.policyId).toBe(policy.id);
    expect(f.outcome).toBeUndefined();
    expect(f.rating).toBeUndefined();
    expect(failedReview({ ...input, policyId: 'p' }, 'timed out').error).toBe('timed out');
  });

  it('leaves no state after a failed review', () => {
    expect(stateAfter(failedReview({ ...input, policyId: 'p' }, new Error('x')))).toBeUndefined();
  });

  it('leaves the state of a done review: its date, rating, class and the limit after it', () => {
    const r = review(goodPayer(AS_OF, MONTHLY, 24_000_000)); // cut to 180,000.00
    expect(stateAfter(r)).toEqual({
      customerId: 'C1',
      reviewId: 'run-1/C1',
      reviewedOn: AS_OF,
      reviewedAt: '2026-06-30T05:00:00.000Z',
      nextReviewOn: '2027-06-30',
      rating: 'B',
      score: GOOD_SCORE,
      riskClass: 'low',
      currency: 'EUR',
      limit: RECOMMENDED,
    });
    // An approval leaves the current limit in the state until it is approved.
    expect(stateAfter(review(goodPayer(AS_OF, MONTHLY, 13_500_000)))?.limit).toBe(13_500_000);
  });
});

describe('reviewHash', () => {
  const r = review(goodPayer(AS_OF, MONTHLY, 10_000_000), { previous: state('C1') });

  it('is a SHA-256 hex digest, the same for the same review whatever its key order', () => {
    const h = reviewHash(r);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(reviewHash(structuredClone(r))).toBe(h);
    const reversed = Object.fromEntries(Object.entries(r).reverse()) as unknown as Review;
    expect(reviewHash(reversed)).toBe(h);
  });

  it('changes when any field changes', () => {
    const h = reviewHash(r);
    const keys = Object.keys(r) as (keyof Review)[];
    expect(keys.length).toBeGreaterThan(20);
    for (const k of keys) {
      // The `applied` mark and the approval request come after the hash is on the trail (tested below).
      if (k === 'applied' || k === 'transferId') continue;
      const v = r[k];
      const changed =
        typeof v === 'number'
          ? v + 1
          : typeof v === 'string'
            ? `${v}x`
            : typeof v === 'boolean'
              ? !v
              : v === undefined
                ? 'set'
                : Array.isArray(v)
                  ? v.slice(1)
                  : { ...v, extra: 1 };
      expect(reviewHash({ ...r, [k]: changed } as Review), `field ${k}`).not.toBe(h);
    }
    // A nested figure too.
    expect(
      reviewHash({ ...r, figures: { ...(r.figures as NonNullable<Review['figures']>), salesInWindow: 1 } }),
    ).not.toBe(h);
  });

  it('leaves out the applied mark and the approval request, so the stored review hashes to what the trail holds', () => {
    expect(reviewHash({ ...r, applied: true })).toBe(reviewHash({ ...r, applied: false }));
    // The run's report asks for approvals after the batch is on the trail, and names the request then.
    expect(reviewHash({ ...r, transferId: 'T1' })).toBe(reviewHash(r));
  });
});
