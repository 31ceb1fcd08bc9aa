import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  NUMERIC_FACTORS,
  type PolicyDocument,
  parsePolicy,
  policyId,
  predictedLateOf,
  RULES,
} from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { parsed } from './credit-fixtures.ts';

/** A deep copy of the default policy document, to change one thing in. */
function defaultDoc(): PolicyDocument {
  return structuredClone(DEFAULT_POLICY_DOCUMENT) as PolicyDocument;
}

function issuesOf(doc: unknown): { path: string; message: string }[] {
  const r = parsePolicy(doc);
  if (r.ok) throw new Error('expected the policy to be refused');
  return r.issues;
}

function pathsOf(doc: unknown): string[] {
  return issuesOf(doc).map((i) => i.path);
}

/** The same JSON value with the keys of every object in reverse order. */
function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .reverse()
        .map(([k, x]) => [k, reverseKeys(x)]),
    );
  return v;
}

describe('the default policy', () => {
  const p = parsed(DEFAULT_POLICY_DOCUMENT);

  it('parses, with its documented figures', () => {
    expect(p.version).toBe('default-2026.12');
    expect(p.scorecard.behaviourMonths).toBe(12);
    expect(p.ratings).toEqual({ A: 80, B: 65, C: 50, D: 35 });
    expect(p.riskClass).toEqual({ A: 'low', B: 'low', C: 'medium', D: 'high', E: 'high' });
    expect(p.limit.significantDigits).toBe(2);
    expect(p.rules.ratingDowngrade.windowDays).toBe(30);
    expect(p.limit.keepWithin).toBe(0.1);
    expect(p.limit.maxShareOfRevenue).toBe(0.1);
  });

  it('has every numeric factor and industry risk, and the points add up to 100', () => {
    const f = p.scorecard.factors;
    for (const name of NUMERIC_FACTORS) expect(f[name], name).toBeDefined();
    expect(f.industryRisk).toBeDefined();
    // 10 + 10 + 8 + 12 + 8 + 8 + 5 + 4 + 5 + 10 + 6 + 5 + 5 (numeric) + 4 (industry) = 100
    const total =
      NUMERIC_FACTORS.reduce((a, name) => a + (f[name]?.maxPoints ?? 0), 0) +
      (f.industryRisk?.maxPoints ?? 0);
    expect(total).toBe(100);
  });

  it('takes points off for broken promises without adding to the 100 (issue 17 item 4)', () => {
    expect(p.scorecard.factors.brokenPromises?.bands).toEqual([
      { max: 0, points: 0 },
      { max: 1, points: -5 },
      { max: 2, points: -10 },
      { points: -15 },
    ]);
  });

  it('switches every rule on by default (enabled is optional and defaults to true)', () => {
    for (const rule of RULES)
      expect((rule === 'predictedLate' ? predictedLateOf(p) : p.rules[rule]).enabled, rule).toBe(true);
  });

  it('has an id of the form <version>+<8 hex>', () => {
    expect(p.id).toMatch(/^default-2026\.12\+[0-9a-f]{8}$/);
    // the hash is over the validated document (without the id itself)
    const { id, ...doc } = p;
    expect(id).toBe(policyId(doc));
  });

  it('the id is stable for the same content', () => {
    expect(parsed(DEFAULT_POLICY_DOCUMENT).id).toBe(p.id);
    expect(parsed(defaultDoc()).id).toBe(p.id);
  });

  it('the id does not change when only the order of keys changes', () => {
    const reordered = reverseKeys(defaultDoc());
    // the reordering really happened
    expect(Object.keys(reordered as object)[0]).not.toBe(Object.keys(defaultDoc())[0]);
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(defaultDoc()));
    expect(parsed(reordered).id).toBe(p.id);
  });

  it('the id changes when the content changes, even by one number', () => {
    const doc = defaultDoc();
    doc.ratings.A = 81;
    const changed = parsed(doc);
    expect(changed.id).toMatch(/^default-2026\.12\+[0-9a-f]{8}$/);
    expect(changed.id).not.toBe(p.id);

    const doc2 = defaultDoc();
    doc2.rules.coverExpiring.days = 31;
    expect(parsed(doc2).id).not.toBe(p.id);
    expect(parsed(doc2).id).not.toBe(changed.id);
  });

  it('the id carries a new version name', () => {
    const doc = defaultDoc();
    doc.version = 'acme-1';
    expect(parsed(doc).id).toMatch(/^acme-1\+[0-9a-f]{8}$/);
  });
});

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('gives the same text whatever the key order', () => {
    expect(canonicalJson({ x: 1, y: [true, null] })).toBe(canonicalJson({ y: [true, null], x: 1 }));
  });

  it('leaves out undefined members', () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });
});

describe('invalid policies are refused with the path of the bad field', () => {
  it('negative band points', () => {
    const doc = defaultDoc();
    const band = doc.scorecard.factors.altmanZ2?.bands[0];
    if (!band) throw new Error('fixture');
    band.points = -1;
    expect(issuesOf(doc)).toContainEqual({
      path: 'scorecard.factors.altmanZ2.bands.0.points',
      message: 'must not be negative',
    });
  });

  it('band points above the factor maximum', () => {
    const doc = defaultDoc();
    const band = doc.scorecard.factors.altmanZ2?.bands[0];
    if (!band) throw new Error('fixture');
    band.points = 11; // maxPoints is 10
    expect(issuesOf(doc)).toEqual([
      { path: 'scorecard.factors.altmanZ2.bands.0.points', message: 'must not exceed maxPoints' },
    ]);
  });

  it('neutral points above the maximum', () => {
    const doc = defaultDoc();
    const f = doc.scorecard.factors.cover;
    if (!f) throw new Error('fixture');
    f.neutralPoints = 6; // maxPoints is 5
    expect(pathsOf(doc)).toEqual(['scorecard.factors.cover.neutralPoints']);
  });

  it('a last band that is not a catch-all', () => {
    const doc = defaultDoc();
    const f = doc.scorecard.factors.quickRatio;
    if (!f) throw new Error('fixture');
    f.bands = [
      { min: 1, points: 4 },
      { min: 0.7, points: 2 },
    ];
    expect(pathsOf(doc)).toEqual(['scorecard.factors.quickRatio.bands.1']);
  });

  it('a band with both min and max', () => {
    const doc = defaultDoc();
    const f = doc.scorecard.factors.quickRatio;
    if (!f) throw new Error('fixture');
    f.bands = [{ min: 1, max: 2, points: 4 }, { points: 0 }];
    expect(pathsOf(doc)).toEqual(['scorecard.factors.quickRatio.bands.0']);
  });

  it('broken promises: points above 0, a clean record that loses points, no catch-all', () => {
    const doc = defaultDoc();
    doc.scorecard.factors.brokenPromises = { bands: [{ max: 0, points: 1 }, { points: -5 }] };
    expect(issuesOf(doc)).toEqual([
      {
        path: 'scorecard.factors.brokenPromises.bands.0.points',
        message: 'must be 0 or less: this factor only takes points off',
      },
    ]);
    doc.scorecard.factors.brokenPromises = { bands: [{ max: 1, points: -5 }, { points: -10 }] };
    expect(issuesOf(doc)).toEqual([
      {
        path: 'scorecard.factors.brokenPromises.bands.0.points',
        message: 'must be 0: a customer with none broken loses nothing',
      },
    ]);
    doc.scorecard.factors.brokenPromises = {
      bands: [
        { max: 0, points: 0 },
        { max: 1, points: -5 },
      ],
    };
    expect(pathsOf(doc)).toEqual(['scorecard.factors.brokenPromises.bands.1']);
    // "at least 1" first: 0 falls in the catch-all, which must then give 0.
    doc.scorecard.factors.brokenPromises = { bands: [{ min: 1, points: -5 }, { points: 0 }] };
    expect(parsePolicy(doc).ok).toBe(true);
  });

  it('a policy written before the brokenPromises factor still parses, without it', () => {
    const doc = defaultDoc();
    delete doc.scorecard.factors.brokenPromises;
    expect(parsed(doc).scorecard.factors.brokenPromises).toBeUndefined();
  });

  it('an unknown severity in a rule level', () => {
    const doc = defaultDoc();
    const level = doc.rules.limitUse.levels[0] as { severity: string };
    level.severity = 'urgent';
    expect(pathsOf(doc)).toEqual(['rules.limitUse.levels.0.severity']);
  });

  it('levels out of order', () => {
    const doc = defaultDoc();
    doc.rules.daysPastDue.levels.reverse(); // 90, 60, 30
    expect(issuesOf(doc)).toEqual([
      { path: 'rules.daysPastDue.levels', message: 'levels must be in increasing order of `from`' },
    ]);
  });

  it('a cap that is not a plain decimal amount', () => {
    const doc = defaultDoc();
    const caps = doc.limit.caps.EUR;
    if (!caps) throw new Error('fixture');
    caps.A = '5,000,000';
    // every issue points at the one bad cap
    expect([...new Set(pathsOf(doc))]).toEqual(['limit.caps.EUR.A']);
  });

  it('a cap with more decimals than the currency has', () => {
    const doc = defaultDoc();
    const caps = doc.limit.caps.EUR;
    if (!caps) throw new Error('fixture');
    caps.A = '5000000.123'; // EUR has 2 minor digits
    const issues = issuesOf(doc);
    expect(issues.map((i) => i.path)).toEqual(['limit.caps.EUR.A']);
    expect(issues[0]?.message).toContain('(EUR)');
  });

  it('caps in something that is not a currency', () => {
    const doc = defaultDoc();
    const eur = doc.limit.caps.EUR;
    if (!eur) throw new Error('fixture');
    doc.limit.caps.XYZ = eur;
    const paths = pathsOf(doc);
    expect(paths.length).toBe(1);
    expect(paths[0]?.startsWith('limit.caps')).toBe(true);
  });

  it('an unknown top-level key', () => {
    const doc = { ...defaultDoc(), colour: 'red' };
    const issues = issuesOf(doc);
    expect(issues.map((i) => i.path)).toEqual(['(top)']);
    expect(issues[0]?.message).toContain('colour');
  });

  it('an unknown key inside a rule', () => {
    const doc = defaultDoc();
    (doc.rules.coverExpiring as Record<string, unknown>).weeks = 4;
    const issues = issuesOf(doc);
    expect(issues.map((i) => i.path)).toEqual(['rules.coverExpiring']);
    expect(issues[0]?.message).toContain('weeks');
  });

  it('rating thresholds that do not fall from A to D', () => {
    const doc = defaultDoc();
    doc.ratings.B = 80; // equal to A
    expect(issuesOf(doc)).toEqual([{ path: 'ratings', message: 'thresholds must fall from A to D' }]);
  });

  it('a missing rule', () => {
    const doc = defaultDoc() as { rules: Record<string, unknown> };
    delete doc.rules.concentration;
    expect(pathsOf(doc)).toEqual(['rules.concentration']);
  });

  it('a share of revenue above 1 and a non-integer number of significant digits', () => {
    const doc = defaultDoc();
    doc.limit.maxShareOfRevenue = 1.5;
    doc.limit.significantDigits = 2.5;
    expect(pathsOf(doc).sort()).toEqual(['limit.maxShareOfRevenue', 'limit.significantDigits']);
  });

  it('more than 6 significant digits', () => {
    const doc = defaultDoc();
    doc.limit.significantDigits = 7;
    expect(pathsOf(doc)).toEqual(['limit.significantDigits']);
  });

  it('the old roundTo key is refused as unknown', () => {
    const doc = defaultDoc();
    (doc.limit as Record<string, unknown>).roundTo = 1000;
    const issues = issuesOf(doc);
    expect(issues.map((i) => i.path)).toEqual(['limit']);
    expect(issues[0]?.message).toContain('roundTo');
  });

  it('a downgrade window longer than 90 days (the store keeps 90 days of assessments)', () => {
    const doc = defaultDoc();
    doc.rules.ratingDowngrade.windowDays = 91;
    expect(pathsOf(doc)).toEqual(['rules.ratingDowngrade.windowDays']);
    doc.rules.ratingDowngrade.windowDays = 90;
    expect(parsePolicy(doc).ok).toBe(true);
  });

  it('a non-finite threshold', () => {
    const doc = defaultDoc();
    doc.rules.abnormalPayment.zScore = Number.POSITIVE_INFINITY;
    expect(pathsOf(doc)).toEqual(['rules.abnormalPayment.zScore']);
  });

  it('something that is not an object at all', () => {
    expect(pathsOf('policy')).toEqual(['(top)']);
  });
});
