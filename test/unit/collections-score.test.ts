import { describe, expect, it } from 'vitest';
import type { RatedPromise } from '../../functions/collections/promises.ts';
import {
  type ExpectedWait,
  failedPromises,
  ratingOn,
  type ScoreInput,
  scoreOf,
  scoreTerms,
  scoreWords,
} from '../../functions/collections/score.ts';
import { expectedWaits, type WorklistEntry, worklistOrder } from '../../functions/collections/worklist.ts';
import { addDays } from '../../functions/core/dates.ts';
import type { RatesOf } from '../../functions/core/fx.ts';
import type { FxRate } from '../../functions/core/records.ts';
import {
  type CollectionsPolicy,
  parsePolicy,
  policyInForce,
  type WorklistScorePolicy,
} from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * The collectors' worklist score (README "Collections"), worked by hand under the shipped policy:
 * 500,000.00 USD and 180 days as the caps, weights 40 amount overdue, 30 days past due, 15 rating,
 * 15 broken promises (two or more: all of it), A 0 to E 1, unrated 1; and 15 expected wait (30
 * days: all of it). The first tests leave the expected wait out (`FOUR`, as a policy written before
 * it), so the weights add up to 100; the expected wait's own tests weigh all five (115).
 */
const POLICY = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
const SCORE = (POLICY.collections as CollectionsPolicy).score;
const { expectedWait: _left, ...FOUR } = SCORE;
const AS_OF = '2026-03-31';

const fx = (date: string, base: string, quote: string, rate: string): FxRate => ({ date, base, quote, rate });
/** EUR/USD stored (one rate after the day, never used), USD/GBP stored the other way round, no CNY. */
const FX: FxRate[] = [
  fx('2026-03-01', 'EUR', 'USD', '1.0500'),
  fx('2026-03-28', 'EUR', 'USD', '1.0850'),
  fx('2026-04-02', 'EUR', 'USD', '1.2000'),
  fx('2026-03-30', 'USD', 'GBP', '0.8'),
];
const rates: RatesOf = (base, quote) => FX.filter((r) => r.base === base && r.quote === quote);

const input = (over: Partial<ScoreInput>): ScoreInput => ({
  demand: 0,
  currency: 'USD',
  oldestDaysPastDue: 0,
  broken: 0,
  partial: 0,
  ...over,
});
const points = (s: { factors: readonly { factor: string; points: number; part: number }[] }) =>
  Object.fromEntries(s.factors.map((f) => [f.factor, [f.part, f.points]]));

describe('the worklist score', () => {
  it('converts the demand with the latest rate on file by the day and adds the weighted parts', () => {
    // 120,000.00 EUR at 1.0850 (of 03-28; the 1.2000 of 04-02 is not known yet) = 130,200.00 USD:
    // 0.2604 of the cap, 10.416 points; 45 days of 180: 7.5; C: 0.5, 7.5; one broken of two: 7.5.
    const s = scoreOf(
      input({
        demand: 12_000_000,
        currency: 'EUR',
        oldestDaysPastDue: 45,
        rating: { rating: 'C', on: '2026-03-31' },
        broken: 1,
      }),
      FOUR,
      AS_OF,
      rates,
    );
    expect(s.score).toBe(32.9);
    expect(points(s)).toEqual({
      amountOverdue: [0.26, 10.4],
      daysPastDue: [0.25, 7.5],
      rating: [0.5, 7.5],
      brokenPromises: [0.5, 7.5],
      expectedWait: [0, 0],
    });
    expect(s.factors[0]).toMatchObject({
      factor: 'amountOverdue',
      currency: 'USD',
      amount: 13_020_000,
      cap: 50_000_000,
      rate: { pair: 'EUR/USD', rate: '1.0850', date: '2026-03-28' },
    });
    expect(s.notes).toEqual([]);
    expect(scoreWords({ score: s.score, scoreFactors: s.factors, scoreNotes: s.notes })).toBe(
      '32.9 = 10.4 amount overdue (120,000.00 EUR = 130,200.00 USD (EUR/USD 1.0850 of 2026-03-28) of a 500,000.00 USD cap) + 7.5 days past due (45 days of a 180-day cap) + 7.5 rating (rated C on 2026-03-31) + 7.5 broken promises (1 broken, 0 kept in part in 90 days, of a cap of 2)',
    );
  });

  it('uses a stored pair the other way round, and caps every part at 1', () => {
    // 40,000.00 GBP / 0.8 = 50,000.00 USD: 0.1, 4 points; 200 days: all 30; E: 15; three failed promises: 15.
    const s = scoreOf(
      input({
        demand: 4_000_000,
        currency: 'GBP',
        oldestDaysPastDue: 200,
        rating: { rating: 'E', on: '2026-03-01' },
        broken: 2,
        partial: 1,
      }),
      FOUR,
      AS_OF,
      rates,
    );
    expect(s.score).toBe(64);
    expect(points(s)).toEqual({
      amountOverdue: [0.1, 4],
      daysPastDue: [1, 30],
      rating: [1, 15],
      brokenPromises: [1, 15],
      expectedWait: [0, 0],
    });
    expect(s.factors[0]).toMatchObject({ amount: 5_000_000, rate: { pair: 'USD/GBP', rate: '0.8' } });
  });

  it('counts a demand whose currency has no rate on file at the cap, and says so', () => {
    // 26,700.00 CNY, no CNY rate: 40; 21 days: 3.5; not rated: 15.
    const s = scoreOf(
      input({ demand: 2_670_000, currency: 'CNY', oldestDaysPastDue: 21 }),
      FOUR,
      AS_OF,
      rates,
    );
    expect(s.score).toBe(58.5);
    expect(s.factors[0]).toMatchObject({ factor: 'amountOverdue', part: 1, points: 40, noRate: true });
    expect(s.factors[0]).not.toHaveProperty('amount');
    expect(s.factors[0]?.why).toBe('26,700.00 CNY, counted at the 500,000.00 USD cap');
    expect(s.factors[2]?.why).toBe('not rated by 2026-03-31');
    expect(s.notes).toEqual(['no CNY/USD rate on file by 2026-03-31: the amount counts at the cap']);
    // A rate on file only after the day is not on file by it.
    const early = scoreOf(input({ demand: 100, currency: 'GBP' }), FOUR, '2026-03-29', rates);
    expect(early.factors[0]).toMatchObject({ noRate: true, part: 1 });
  });

  it('gives nothing demanded no points, whatever the rating or the promises', () => {
    const s = scoreOf(
      input({
        currency: 'CNY',
        oldestDaysPastDue: 30,
        rating: { rating: 'E', on: AS_OF },
        broken: 2,
      }),
      FOUR,
      AS_OF,
      rates,
    );
    expect(s.score).toBe(0);
    expect(s.factors.map((f) => f.points)).toEqual([0, 0, 0, 0, 0]);
    // Nothing converts to nothing: no rate is needed, and none is said to be missing.
    expect(s.notes).toEqual(['nothing is demanded: no points']);
    expect(s.factors[0]).toMatchObject({ amount: 0, part: 0 });
  });

  it('scales weights that do not add up to 100, and leaves out a factor of weight 0', () => {
    const policy: WorklistScorePolicy = {
      ...FOUR,
      amountOverdue: { weight: 2, cap: '1000.00' },
      daysPastDue: { weight: 1, capDays: 10 },
      rating: { ...FOUR.rating, weight: 0 },
      brokenPromises: { ...FOUR.brokenPromises, weight: 0 },
    };
    // (2 × 0.5 + 1 × 1) / 3 = 66.7 of 100.
    const s = scoreOf(input({ demand: 50_000, oldestDaysPastDue: 12 }), policy, AS_OF, rates);
    expect(s.score).toBe(66.7);
    expect(points(s)).toEqual({
      amountOverdue: [0.5, 33.3],
      daysPastDue: [1, 33.3],
      rating: [1, 0],
      brokenPromises: [0, 0],
      expectedWait: [0, 0],
    });
    expect(scoreWords({ score: s.score, scoreFactors: s.factors, scoreNotes: [] })).toBe(
      '66.7 = 33.3 amount overdue (500.00 USD of a 1,000.00 USD cap) + 33.3 days past due (12 days of a 10-day cap)',
    );
  });

  it('reads the rating in effect on the day, and the promises that failed in the window', () => {
    const a = {
      asOf: '2026-04-10',
      rating: 'E' as const,
      recent: [
        { asOf: '2026-03-01', rating: 'B' as const, score: 70, policyId: 'p' },
        { asOf: '2026-03-20', rating: 'C' as const, score: 55, policyId: 'p' },
      ],
    };
    expect(ratingOn(a, AS_OF)).toEqual({ rating: 'C', on: '2026-03-20' });
    expect(ratingOn(a, '2026-04-10')).toEqual({ rating: 'E', on: '2026-04-10' });
    expect(ratingOn(a, '2026-02-28')).toBeUndefined();
    expect(ratingOn(undefined, AS_OF)).toBeUndefined();

    const rated = (graceEnds: string, state: RatedPromise['state']) => ({ graceEnds, state }) as RatedPromise;
    // As the brokenPromise rule counts them: grace ended after the day 90 days before (2025-12-31).
    expect(
      failedPromises(
        [
          rated('2025-12-31', 'broken'),
          rated('2026-01-01', 'broken'),
          rated('2026-03-30', 'partial'),
          rated('2026-03-15', 'kept'),
          rated('2026-04-05', 'pending'),
        ],
        AS_OF,
        90,
      ),
    ).toEqual({ broken: 1, partial: 1 });
  });

  it('orders by score, then acted on today, level reached, days, demand within a currency and id', () => {
    const e = (id: string, over: Partial<WorklistEntry>) =>
      ({
        customerId: id,
        currency: 'EUR',
        score: 10,
        levelIndex: 0,
        oldestDaysPastDue: 5,
        totals: { demand: 100 },
        ...over,
      }) as WorklistEntry;
    const list = [
      e('A', {}),
      e('B', { score: 10.1 }),
      e('C', { send: { name: 'firm' } as WorklistEntry['send'] }),
      e('D', { levelIndex: 1 }),
      e('E', { oldestDaysPastDue: 6 }),
      e('F', { totals: { demand: 200 } as WorklistEntry['totals'] }),
      e('G', { currency: 'CNY', totals: { demand: 1 } as WorklistEntry['totals'] }),
      e('H', {}),
    ];
    expect([...list].sort(worklistOrder).map((x) => x.customerId)).toEqual([
      'B',
      'C',
      'D',
      'E',
      'G',
      'F',
      'A',
      'H',
    ]);
    expect([...list].reverse().sort(worklistOrder)).toEqual([...list].sort(worklistOrder));
  });
});

describe("the expected wait (the worklist score's fifth factor)", () => {
  const usd = (demand: number, waits: ExpectedWait[]) =>
    input({ demand, oldestDaysPastDue: 45, rating: { rating: 'C', on: AS_OF }, waits });

  it('takes the longest wait of the demanded invoices over its cap, the five weights scaled from 115', () => {
    // 30,000.00 USD: 0.06 (40 × 0.06 = 2.4); 45 days: 0.25 (7.5); C: 0.5 (7.5); no promise broken;
    // B waits 24 days, the longest: 24/30 = 0.8 (15 × 0.8 = 12). (2.4 + 7.5 + 7.5 + 12) × 100/115 = 25.6.
    const s = scoreOf(
      usd(3_000_000, [
        { invoiceId: 'A', open: 2_000_000, days: 12, reason: '' },
        { invoiceId: 'B', open: 1_000_000, days: 24, reason: '' },
      ]),
      SCORE,
      AS_OF,
      rates,
    );
    expect(s.score).toBe(25.6);
    expect(points(s)).toEqual({
      amountOverdue: [0.06, 2.1],
      daysPastDue: [0.25, 6.5],
      rating: [0.5, 6.5],
      brokenPromises: [0, 0],
      expectedWait: [0.8, 10.4],
    });
    expect(s.factors[4]).toMatchObject({
      factor: 'expectedWait',
      invoiceId: 'B',
      days: 24,
      invoices: 2,
      unplaced: 0,
    });
    expect(s.factors[4]?.why).toBe(
      'B (10,000.00 USD) expected in 24 days, the longest wait of 2 overdue invoices, of a 30-day cap',
    );
  });

  it('counts an invoice further past due than any the customer has settled at the cap, and a wait past the cap as the cap', () => {
    const unplaced = scoreOf(
      usd(2_001_200, [
        { invoiceId: 'A', open: 2_000_000, days: 40, reason: '' },
        { invoiceId: 'B', open: 500, reason: '' },
        { invoiceId: 'C', open: 700, reason: '' },
      ]),
      SCORE,
      AS_OF,
      rates,
    );
    // Unplaced first, the larger of the two.
    expect(unplaced.factors[4]).toMatchObject({ invoiceId: 'C', part: 1, points: 13, unplaced: 2 });
    expect(unplaced.factors[4]?.why).toBe(
      'C (7.00 USD) and 1 other are already further past due than any invoice the customer has settled: at the cap',
    );
    const none = (n: number) =>
      scoreOf(
        usd(
          n * 100,
          Array.from({ length: n }, (_, i) => ({ invoiceId: `N${i}`, open: 100, reason: '' })),
        ),
        SCORE,
        AS_OF,
        rates,
      ).factors[4]?.why;
    expect(none(1)).toBe(
      'N0 (1.00 USD) is already further past due than any invoice the customer has settled: at the cap',
    );
    expect(none(2)).toBe(
      'N0 (1.00 USD) and 1 other are already further past due than any invoice the customer has settled: at the cap',
    );
    expect(none(3)).toMatch(/^N0 \(1\.00 USD\) and 2 others are already/);
    const beyond = scoreOf(
      usd(2_000_000, [{ invoiceId: 'A', open: 2_000_000, days: 40, reason: '' }]),
      SCORE,
      AS_OF,
      rates,
    );
    expect(beyond.factors[4]).toMatchObject({ invoiceId: 'A', days: 40, part: 1, points: 13 });
    expect(beyond.factors[4]?.why).toBe(
      'A (20,000.00 USD) expected in 40 days, the longest wait of 1 overdue invoice, of a 30-day cap',
    );
  });

  it('gives nothing demanded no points, and no waits a part of 0', () => {
    const none = scoreOf(usd(0, [{ invoiceId: 'A', open: 1, reason: '' }]), SCORE, AS_OF, rates);
    expect(none.score).toBe(0);
    const noWaits = scoreOf(usd(1_000_000, []), SCORE, AS_OF, rates);
    expect(noWaits.factors[4]).toMatchObject({ part: 0, points: 0, why: 'no demanded invoice to predict' });
  });

  it("predicts each demanded invoice from the customer's own settled invoices as known on the day", () => {
    const inv = (invoiceId: string, dueDate: string, settledDate?: string) => ({
      customerId: 'C1',
      invoiceId,
      issueDate: addDays(dueDate, -30),
      dueDate,
      amount: 100_000,
      currency: 'USD',
      settledDate,
    });
    // Settled 10, 20 and 2 days after due; one settled after the day (not known on it).
    const history = [
      inv('S1', '2026-01-31', '2026-02-10'),
      inv('S2', '2026-02-28', '2026-03-20'),
      inv('S3', '2026-03-15', '2026-03-17'),
      inv('S4', '2026-02-15', '2026-04-20'),
      inv('O1', '2026-03-22'),
      inv('O2', '2026-03-05'),
    ];
    const item = (invoiceId: string, dueDate: string) => ({
      invoiceId,
      issueDate: addDays(dueDate, -30),
      dueDate,
      open: 100_000,
    });
    const waits = expectedWaits([item('O1', '2026-03-22'), item('O2', '2026-03-05')], history, AS_OF);
    // O1, 9 days past due: S1 and S2 went longer (10, 20); their weighted median, 10 days after due,
    // is 2026-04-01, the day after: 1 day. O2, 26 days past due: none of the customer's went as long
    // (S4's 64 days are not known on the day): no days.
    expect(waits.map(({ reason: _, ...w }) => w)).toEqual([
      { invoiceId: 'O1', open: 100_000, days: 1 },
      { invoiceId: 'O2', open: 100_000, days: undefined },
    ]);
    expect(waits[0]?.reason).toContain('median of 2 settled invoices paid after this many days past due');
  });

  it('is never lowered by owing more on an invoice: amounts do not enter it', () => {
    const w = (open: number): ExpectedWait[] => [
      { invoiceId: 'A', open, days: 3, reason: '' },
      { invoiceId: 'B', open: 50_000, days: 20, reason: '' },
    ];
    const small = scoreOf(usd(60_000, w(10_000)), SCORE, AS_OF, rates);
    const large = scoreOf(usd(9_050_000, w(9_000_000)), SCORE, AS_OF, rates);
    expect(large.factors[4]?.part).toBe(small.factors[4]?.part);
    expect(large.score).toBeGreaterThan(small.score);
  });
});

describe("the policy's collections.score", () => {
  const withScore = (score: unknown) => {
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as { collections: Record<string, unknown> };
    if (score === undefined) delete doc.collections.score;
    else doc.collections.score = score;
    return parsePolicy(doc);
  };

  it('is shipped as documented, and a policy written before it gets it as shipped', () => {
    expect(SCORE).toEqual({
      currency: 'USD',
      amountOverdue: { weight: 40, cap: '500000.00' },
      daysPastDue: { weight: 30, capDays: 180 },
      rating: { weight: 15, parts: { A: 0, B: 0.25, C: 0.5, D: 0.75, E: 1, unrated: 1 } },
      brokenPromises: { weight: 15, capCount: 2, windowDays: 90 },
      expectedWait: { weight: 15, capDays: 30 },
    });
    // Written before the score: the four first factors as shipped, and no expected wait (off), so
    // the document's content, and so its id, is what it was.
    const before = withScore(undefined);
    expect(before.ok && before.policy.collections?.score).toEqual(FOUR);
    expect(before.ok && before.policy.collections?.score).not.toHaveProperty('expectedWait');
    expect(scoreTerms(FOUR)).not.toContain('expected wait');
    // Written with an empty expected wait: its defaults.
    const bare = withScore({ expectedWait: {} });
    expect(bare.ok && bare.policy.collections?.score.expectedWait).toEqual({ weight: 15, capDays: 30 });
    // Half written: the rest as shipped.
    const half = withScore({ daysPastDue: { capDays: 60 } });
    expect(half.ok && half.policy.collections?.score.daysPastDue).toEqual({ weight: 30, capDays: 60 });
    expect(scoreTerms(SCORE)).toBe(
      'amount overdue 40 (cap 500,000.00 USD), days past due 30 (cap 180 days), rating 15 (A 0, B 0.25, C 0.5, D 0.75, E 1, unrated 1), broken promises 15 (cap 2 in 90 days), expected wait 15 (cap 30 days)',
    );
  });

  it('names every bad field: its own form first, then how the fields stand together', () => {
    const r = withScore({
      currency: 'XYZ',
      amountOverdue: { weight: -1, cap: '12.5' },
      daysPastDue: { capDays: 0 },
      rating: { parts: { E: 2 } },
      brokenPromises: { capCount: 1.5, windowDays: 400 },
      expectedWait: { weight: -2, capDays: 0.5 },
    });
    expect(r.ok ? [] : r.issues).toEqual([
      { path: 'collections.score.currency', message: 'is not an ISO 4217 currency code' },
      { path: 'collections.score.amountOverdue.weight', message: 'must not be negative' },
      { path: 'collections.score.daysPastDue.capDays', message: 'must be at least 1 day' },
      { path: 'collections.score.rating.parts.E', message: 'must be from 0 to 1' },
      { path: 'collections.score.brokenPromises.capCount', message: 'must be a whole number' },
      { path: 'collections.score.brokenPromises.windowDays', message: 'must be at most 365 days' },
      { path: 'collections.score.expectedWait.weight', message: 'must not be negative' },
      { path: 'collections.score.expectedWait.capDays', message: 'must be a whole number of days' },
    ]);
    // Then how the fields stand together: a worse rating never weighs less.
    const falling = withScore({ rating: { parts: { A: 0.5, B: 0.25, C: 0.2 } } });
    expect(falling.ok ? [] : falling.issues).toEqual([
      { path: 'collections.score.rating.parts.B', message: "must not be below A's part (0.5)" },
      { path: 'collections.score.rating.parts.C', message: "must not be below B's part (0.25)" },
    ]);
    const unknown = withScore({ brokenPromises: { when: 'never' } });
    expect(unknown.ok ? [] : unknown.issues).toEqual([
      { path: 'collections.score.brokenPromises', message: 'Unrecognized key: "when"' },
    ]);
  });

  it('needs one weight above zero, and a cap with its currency’s decimals, above zero', () => {
    const zero = { weight: 0 };
    const r = withScore({
      currency: 'JPY',
      amountOverdue: { weight: 0, cap: '12.50' },
      daysPastDue: zero,
      rating: zero,
      brokenPromises: zero,
      expectedWait: zero,
    });
    expect(r.ok ? [] : r.issues).toEqual([
      { path: 'collections.score', message: 'every weight is 0: at least one factor must count' },
      { path: 'collections.score.amountOverdue.cap', message: 'has more than 0 decimals (JPY)' },
    ]);
    const none = withScore({ amountOverdue: { cap: '0.00' } });
    expect(none.ok ? [] : none.issues).toEqual([
      { path: 'collections.score.amountOverdue.cap', message: 'must be more than zero' },
    ]);
  });
});
