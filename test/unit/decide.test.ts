import { describe, expect, it } from 'vitest';
import type { LimitRecommendation } from '../../functions/credit/assess.ts';
import { type DecisionInput, decideLimit, raiseBlockers } from '../../functions/credit/decide.ts';
import type { PolicyDocument } from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { parsed } from './credit-fixtures.ts';

/**
 * The limit decision rules one by one (functions/credit/decide.ts), on recommendations written by
 * hand: EUR, amounts in cents, the default policy (keep band 10%, automatic cuts up to 50% and never
 * below the exposure rounded up to 2 significant digits, raises up to 25% and 100,000.00 EUR, no
 * raise at E, beyond 60 days past due or with a high or critical alert active).
 */

const policy = parsed(DEFAULT_POLICY_DOCUMENT);

function rec(
  recommended: number | undefined,
  current: number | undefined,
  extra: Partial<LimitRecommendation> = {},
): LimitRecommendation {
  const change =
    recommended === undefined
      ? 'NONE'
      : current === undefined
        ? 'NEW'
        : current > 0 && Math.abs(recommended - current) <= current * 0.1
          ? 'KEEP'
          : recommended > current
            ? 'RAISE'
            : recommended < current
              ? 'CUT'
              : 'KEEP';
  return {
    currency: 'EUR',
    current,
    recommended,
    change,
    thinHistory: false,
    formula: {
      rating: 'B',
      salesInWindow: 0,
      salesMonths: 12,
      monthlySales: 0,
      windowMonths: 12,
      minHistoryMonths: 3,
      termsDays: 30,
      months: 2,
      bySales: 0,
      guaranteed: 0,
      insured: 0,
      cover: [],
      overdueBeyondExtension: 0,
      extensionDays: 60,
      uncounted: [],
      total: recommended ?? 0,
      rounded: recommended ?? 0,
      significantDigits: 2,
      keepWithin: 0.1,
    },
    ...extra,
  };
}

function decide(limit: LimitRecommendation, extra: Partial<DecisionInput> = {}) {
  return decideLimit({
    onFile: true,
    limit,
    rating: 'B',
    exposure: 0,
    maxDaysPastDue: 0,
    activeAlerts: [],
    policy,
    ...extra,
  });
}

describe('decideLimit: nothing to decide', () => {
  it('keeps when the customer has no master data on file', () => {
    const d = decide(rec(5_000_000, undefined), { onFile: false });
    expect([d.outcome, d.rule, d.to]).toEqual(['keep', 'NOT_ON_FILE', undefined]);
  });

  it('keeps when there is no recommendation (no sales in the window)', () => {
    const d = decide(rec(undefined, 10_000_000));
    expect([d.outcome, d.rule, d.to]).toEqual(['keep', 'NO_RECOMMENDATION', 10_000_000]);
    expect(d.words).toBe(
      'no sales in the last 12 months, so no recommendation: the limit of 100,000.00 EUR stays',
    );
  });

  it('keeps within the band', () => {
    const d = decide(rec(9_000_000, 10_000_000));
    expect([d.outcome, d.rule, d.to]).toEqual(['keep', 'WITHIN_BAND', 10_000_000]);
  });
});

describe('decideLimit: first limits', () => {
  it('asks people for a first limit', () => {
    const d = decide(rec(5_000_000, undefined));
    expect([d.outcome, d.request, d.to, d.rule]).toEqual(['approval', 'first', 5_000_000, 'FIRST_LIMIT']);
  });

  it('says when the first limit it asks for is below what the customer already owes', () => {
    const d = decide(rec(5_000_000, undefined), { exposure: 6_000_000 });
    expect(d.words).toBe(
      'no limit on file: a first limit of 50,000.00 EUR needs approval; it is below the exposure of 60,000.00 EUR',
    );
  });

  it('sets nothing when the rating allows no unsecured credit and there is no cover', () => {
    const d = decide(rec(0, undefined), { rating: 'E' });
    expect([d.outcome, d.rule, d.to]).toEqual(['keep', 'NO_CREDIT', undefined]);
    expect(d.words).toContain('ask for prepayment or cover');
  });
});

describe('decideLimit: cuts', () => {
  it('cuts at once when the cut is at most half the limit and stays above the exposure', () => {
    // 100,000.00 -> 60,000.00: 40%; exposure 58,000.00 rounds up to 58,000.00 <= 60,000.00.
    const d = decide(rec(6_000_000, 10_000_000), { exposure: 5_800_000 });
    expect([d.outcome, d.rule, d.to]).toEqual(['cut', 'CUT', 6_000_000]);
  });

  it('the floor is the exposure rounded up to 2 significant digits', () => {
    // exposure 59,000.01 rounds up to 60,000.00: a cut to 60,000.00 is still at once...
    expect(decide(rec(6_000_000, 10_000_000), { exposure: 5_900_001 }).outcome).toBe('cut');
    // ...but exposure 60,000.01 rounds up to 61,000.00: 60,000.00 is below it.
    const d = decide(rec(6_000_000, 10_000_000), { exposure: 6_000_001 });
    expect([d.outcome, d.request, d.rule, d.to]).toEqual([
      'approval',
      'decrease',
      'CUT_BELOW_EXPOSURE',
      6_000_000,
    ]);
    expect(d.words).toBe(
      'cut from 100,000.00 EUR to 60,000.00 EUR needs approval: it is below the exposure of 60,000.01 EUR, and a review never cuts a limit below what the customer owes on its own',
    );
  });

  it('a cut of more than half the limit goes to people, even above the exposure', () => {
    // 100,000.00 -> 49,000.00: 51%.
    const d = decide(rec(4_900_000, 10_000_000), { exposure: 0 });
    expect([d.outcome, d.rule]).toEqual(['approval', 'CUT_TOO_DEEP']);
    expect(d.words).toBe(
      'cut from 100,000.00 EUR to 49,000.00 EUR needs approval: it takes 51% of the limit, more than the 50% a review cuts on its own',
    );
    // Exactly half is at once.
    expect(decide(rec(5_000_000, 10_000_000)).outcome).toBe('cut');
  });

  it('a cut to 0.00 (rating E, no cover) of a customer that owes something is for people', () => {
    const d = decide(rec(0, 15_000_000), { rating: 'E', exposure: 12_910_026 });
    expect([d.outcome, d.request, d.to]).toEqual(['approval', 'decrease', 0]);
  });

  it('never cuts on a thin history', () => {
    const base = rec(4_000_000, 10_000_000);
    const d = decide({ ...base, thinHistory: true, formula: { ...base.formula, salesMonths: 2 } });
    expect([d.outcome, d.rule, d.to]).toEqual(['keep', 'THIN_HISTORY', 10_000_000]);
    expect(d.words).toBe(
      'keep 100,000.00 EUR: the formula gives 40,000.00 EUR, but on a thin history (2 months of sales, fewer than 3) a limit is never cut on its own',
    );
  });

  it('follows the policy: a stricter share sends a 40% cut to people', () => {
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as PolicyDocument;
    doc.review.cuts = { approvalAboveShare: 0.3 };
    const strict = parsed(doc);
    expect(decide(rec(6_000_000, 10_000_000), { policy: strict }).rule).toBe('CUT_TOO_DEEP');
  });
});

describe('decideLimit: raises', () => {
  it('raises within 25% and 100,000.00 at once', () => {
    const d = decide(rec(12_000_000, 10_000_000));
    expect([d.outcome, d.rule, d.to]).toEqual(['raise', 'RAISE', 12_000_000]);
  });

  it('never raises at rating E, beyond 60 days past due, or with a high or critical alert active', () => {
    const l = rec(12_000_000, 10_000_000);
    expect(decide(l, { rating: 'E' }).rule).toBe('RAISE_BLOCKED');
    expect(decide(l, { maxDaysPastDue: 61 }).rule).toBe('RAISE_BLOCKED');
    expect(decide(l, { maxDaysPastDue: 60 }).rule).toBe('RAISE');
    expect(decide(l, { activeAlerts: [{ rule: 'daysPastDue', severity: 'critical' }] }).rule).toBe(
      'RAISE_BLOCKED',
    );
    expect(decide(l, { activeAlerts: [{ rule: 'limitUse', severity: 'warning' }] }).rule).toBe('RAISE');
  });

  it('the limit-use alert does not block the raise that answers it: people decide', () => {
    // Over its limit with nothing overdue: the limit-use alert is the limit's own consequence; blocking
    // the raise on it would make the limit depend on the limit it replaces.
    const l = rec(12_000_000, 10_000_000);
    const d = decide(l, { activeAlerts: [{ rule: 'limitUse', severity: 'high' }] });
    expect([d.outcome, d.request, d.rule]).toEqual(['approval', 'increase', 'RAISE_FOR_APPROVAL']);
    expect(d.words).toBe(
      'raise from 100,000.00 EUR to 120,000.00 EUR needs approval: the customer is at or over its limit (high limitUse)',
    );
    // Overdue money measured against the limit is still overdue money: it holds the raise back.
    expect(decide(l, { activeAlerts: [{ rule: 'overdueAmount', severity: 'high' }] }).rule).toBe(
      'RAISE_BLOCKED',
    );
    // With a severe alert of another rule too, the raise is held back.
    const both = decide(l, {
      activeAlerts: [
        { rule: 'limitUse', severity: 'high' },
        { rule: 'daysLateDrift', severity: 'high' },
      ],
    });
    expect(both.rule).toBe('RAISE_BLOCKED');
  });

  it('says every reason a raise is held back', () => {
    const d = decide(rec(10_000_000, 8_000_000), {
      rating: 'E',
      maxDaysPastDue: 294,
      activeAlerts: [
        { rule: 'daysPastDue', severity: 'critical' },
        { rule: 'limitUse', severity: 'high' },
      ],
    });
    expect(d.words).toBe(
      'keep 80,000.00 EUR: the formula gives 100,000.00 EUR, but no raise at rating E, nor with an item 294 days past due (more than 60), nor while an alert is active (critical daysPastDue)',
    );
    expect(raiseBlockers({ rating: 'A', maxDaysPastDue: 0, activeAlerts: [], policy })).toEqual([]);
  });

  it('a raise on a thin history goes to people', () => {
    const base = rec(11_500_000, 10_000_000);
    const d = decide({ ...base, thinHistory: true, formula: { ...base.formula, salesMonths: 2 } });
    expect([d.outcome, d.request, d.rule]).toEqual(['approval', 'increase', 'RAISE_FOR_APPROVAL']);
    expect(d.words).toBe(
      'raise from 100,000.00 EUR to 115,000.00 EUR needs approval: on a thin history (2 months of sales)',
    );
  });
});
