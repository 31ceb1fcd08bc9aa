import { describe, expect, it } from 'vitest';
import { type PolicyDocument, parsePolicy } from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/** The `review` section of the credit policy: cadences by risk class, at-once triggers, increase thresholds. */

type Doc = PolicyDocument & { review: { increases: { approvalAbove: Record<string, unknown> } } };

/** The default policy with one change. */
function variant(change: (d: Doc) => void): unknown {
  const d = structuredClone(DEFAULT_POLICY_DOCUMENT) as Doc;
  change(d);
  return d;
}

function issuesOf(doc: unknown): { path: string; message: string }[] {
  const r = parsePolicy(doc);
  if (r.ok) throw new Error('the policy was accepted');
  return r.issues;
}

function pathsOf(doc: unknown): string[] {
  return issuesOf(doc).map((i) => i.path);
}

describe('review.cadenceMonths', () => {
  it.each([
    ['high', 0, 'must be at least 1 month'],
    ['high', 1.5, 'must be a whole number of months'],
    ['low', 61, 'must be at most 60 months'],
    ['medium', -3, 'must be at least 1 month'],
  ] as const)('refuses %s = %s, naming the field', (cls, months, message) => {
    const issues = issuesOf(
      variant((d) => {
        d.review.cadenceMonths[cls] = months;
      }),
    );
    expect(issues).toContainEqual({ path: `review.cadenceMonths.${cls}`, message });
  });

  it('accepts the bounds 1 and 60', () => {
    const r = parsePolicy(
      variant((d) => {
        d.review.cadenceMonths = { high: 1, medium: 1, low: 60 };
      }),
    );
    expect(r.ok).toBe(true);
  });

  it('refuses a high-risk cadence longer than the medium one (path review.cadenceMonths.high)', () => {
    const issues = issuesOf(
      variant((d) => {
        d.review.cadenceMonths = { high: 4, medium: 3, low: 12 };
      }),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('review.cadenceMonths.high');
    expect(issues[0]?.message).toContain('4 > 3 months');
  });

  it('refuses a medium-risk cadence longer than the low one (path review.cadenceMonths.medium)', () => {
    const issues = issuesOf(
      variant((d) => {
        d.review.cadenceMonths = { high: 1, medium: 13, low: 12 };
      }),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('review.cadenceMonths.medium');
    expect(issues[0]?.message).toContain('13 > 12 months');
  });

  it('accepts the same months for every class', () => {
    const r = parsePolicy(
      variant((d) => {
        d.review.cadenceMonths = { high: 6, medium: 6, low: 6 };
      }),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.policy.review.cadenceMonths).toEqual({ high: 6, medium: 6, low: 6 });
  });
});

describe('review.increases', () => {
  it.each(['12,5', 'abc', '-5', ''])('refuses approvalAbove "%s", naming the currency', (text) => {
    const paths = pathsOf(
      variant((d) => {
        d.review.increases.approvalAbove.EUR = text;
      }),
    );
    expect(paths.length).toBeGreaterThan(0);
    expect(new Set(paths)).toEqual(new Set(['review.increases.approvalAbove.EUR']));
  });

  it('refuses an approvalAbove with more decimals than the currency has (JPY has none)', () => {
    const issues = issuesOf(
      variant((d) => {
        d.review.increases.approvalAbove.JPY = '100.5';
      }),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('review.increases.approvalAbove.JPY');
    expect(issues[0]?.message).toContain('JPY');
  });

  it('refuses an approvalAbove under a code that is not an ISO 4217 currency', () => {
    const paths = pathsOf(
      variant((d) => {
        d.review.increases.approvalAbove.EUX = '100000';
      }),
    );
    expect(paths).toEqual(['review.increases.approvalAbove.EUX']);
  });

  it('refuses a negative approvalAboveShare', () => {
    const issues = issuesOf(
      variant((d) => {
        d.review.increases.approvalAboveShare = -0.1;
      }),
    );
    expect(issues).toEqual([
      { path: 'review.increases.approvalAboveShare', message: 'must not be negative' },
    ]);
  });

  it('refuses an approvalAboveShare above 10', () => {
    expect(
      pathsOf(
        variant((d) => {
          d.review.increases.approvalAboveShare = 10.5;
        }),
      ),
    ).toEqual(['review.increases.approvalAboveShare']);
  });

  it('accepts a share of 0 and no amount thresholds at all', () => {
    const r = parsePolicy(
      variant((d) => {
        d.review.increases = { ...d.review.increases, approvalAboveShare: 0, approvalAbove: {} };
      }),
    );
    expect(r.ok).toBe(true);
  });
});

describe('review.atOnce', () => {
  it('refuses an unknown severity', () => {
    expect(
      pathsOf(
        variant((d) => {
          (d.review.atOnce as { minSeverity: string }).minSeverity = 'severe';
        }),
      ),
    ).toEqual(['review.atOnce.minSeverity']);
  });

  it('refuses an unknown field in the review section', () => {
    expect(
      pathsOf(
        variant((d) => {
          (d.review as Record<string, unknown>).everyMonth = true;
        }),
      ),
    ).toEqual(['review']);
  });
});

describe('the shipped default', () => {
  it('is accepted, with its review section as documented', () => {
    const r = parsePolicy(DEFAULT_POLICY_DOCUMENT);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.policy.review).toEqual({
      cadenceMonths: { high: 1, medium: 3, low: 12 },
      atOnce: { minSeverity: 'high', ratingDowngrade: true },
      increases: {
        approvalAboveShare: 0.25,
        approvalAbove: { EUR: '100000', USD: '100000', GBP: '80000', CNY: '700000' },
        noRaiseRatings: ['E'],
        noRaiseAboveDaysPastDue: 60,
        noRaiseAtSeverity: 'high',
      },
      cuts: { approvalAboveShare: 0.5 },
      approvals: { batchAbove: 10 },
    });
    expect(r.policy.limit).toMatchObject({
      salesWindowMonths: 12,
      minHistoryMonths: 3,
      defaultTermsDays: 30,
      insurerExtensionDays: 60,
    });
  });

  it('a policy written before these settings existed gets their defaults', () => {
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as {
      limit: Record<string, unknown>;
      review: Record<string, unknown> & { increases: Record<string, unknown> };
    };
    for (const k of ['salesWindowMonths', 'minHistoryMonths', 'defaultTermsDays', 'insurerExtensionDays'])
      delete doc.limit[k];
    delete doc.review.cuts;
    delete doc.review.approvals;
    for (const k of ['noRaiseRatings', 'noRaiseAboveDaysPastDue', 'noRaiseAtSeverity'])
      delete doc.review.increases[k];
    const r = parsePolicy(doc);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const shipped = parsePolicy(DEFAULT_POLICY_DOCUMENT);
    if (!shipped.ok) throw new Error('the shipped policy is invalid');
    expect(r.policy.limit).toEqual(shipped.policy.limit);
    expect(r.policy.review).toEqual(shipped.policy.review);
  });

  it('refuses the retired limitUse scorecard factor, saying why', () => {
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as {
      scorecard: { factors: Record<string, unknown> };
    };
    doc.scorecard.factors.limitUse = { maxPoints: 8, neutralPoints: 4, bands: [{ points: 0 }] };
    const r = parsePolicy(doc);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]?.path).toBe('scorecard.factors.limitUse');
    expect(r.issues[0]?.message).toMatch(
      /^is no longer a scorecard factor: a rating that reads the credit limit/,
    );
  });
});
