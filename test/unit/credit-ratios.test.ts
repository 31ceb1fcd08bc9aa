import { describe, expect, it } from 'vitest';
import type { FinancialStatement } from '../../functions/core/records.ts';
import { altmanZ2, currentRatio, debtRatio, quickRatio, type Ratio } from '../../functions/credit/ratios.ts';

/** A statement in EUR cents; every figure can be overridden or removed (set to undefined). */
function stmt(extra: Partial<FinancialStatement> = {}): FinancialStatement {
  return {
    customerId: 'C1',
    periodEnd: '2025-12-31',
    currency: 'EUR',
    revenue: 200_000_000,
    currentAssets: 40_000_000,
    currentLiabilities: 25_000_000,
    inventory: 15_000_000,
    totalAssets: 100_000_000,
    totalLiabilities: 60_000_000,
    retainedEarnings: 20_000_000,
    ebit: 8_000_000,
    equity: 40_000_000,
    ...extra,
  };
}

/**
 * A statement for Altman Z'' tests on a total-assets base of 1,000,000 EUR: `wc`, `re`, `ebit`
 * are working capital, retained earnings and EBIT in thousands of EUR (so X1 = wc / 1000 ...),
 * `tl` the total liabilities in thousands; equity = total assets - total liabilities.
 */
function zStmt(wc: number, re: number, ebit: number, tl: number): FinancialStatement {
  const k = 100_000; // 1,000 EUR in cents
  return stmt({
    currentAssets: (300 + wc) * k,
    currentLiabilities: 300 * k,
    totalAssets: 1000 * k,
    totalLiabilities: tl * k,
    equity: (1000 - tl) * k,
    retainedEarnings: re * k,
    ebit: ebit * k,
  });
}

function num(r: Ratio): number {
  if (!('value' in r)) throw new Error(`expected a value, got: ${r.notComputable}`);
  return r.value;
}

function reasonOf(r: Ratio): string {
  if ('value' in r) throw new Error(`expected not computable, got ${r.value}`);
  return r.notComputable;
}

describe('current, quick and debt ratios on a worked example', () => {
  const s = stmt();

  it('current ratio = current assets / current liabilities', () => {
    // 400,000.00 / 250,000.00 = 1.6
    expect(num(currentRatio(s))).toBeCloseTo(400_000 / 250_000, 12);
    expect(num(currentRatio(s))).toBeCloseTo(1.6, 12);
  });

  it('quick ratio = (current assets - inventory) / current liabilities', () => {
    // (400,000 - 150,000) / 250,000 = 250,000 / 250,000 = 1
    expect(num(quickRatio(s))).toBe(1);
  });

  it('debt ratio = total liabilities / total assets', () => {
    // 600,000 / 1,000,000 = 0.6
    expect(num(debtRatio(s))).toBeCloseTo(0.6, 12);
  });

  it('quick ratio may be negative when inventory exceeds current assets, but stays finite', () => {
    // (400,000 - 500,000) / 250,000 = -0.4
    expect(num(quickRatio(stmt({ inventory: 50_000_000 })))).toBeCloseTo(-0.4, 12);
  });
});

describe("Altman Z''", () => {
  it('computes X1..X4 and the weighted sum by hand', () => {
    const s = stmt();
    // X1 = working capital / total assets = (400,000 - 250,000) / 1,000,000 = 0.15
    // X2 = retained earnings / total assets = 200,000 / 1,000,000 = 0.2
    // X3 = EBIT / total assets = 80,000 / 1,000,000 = 0.08
    // X4 = equity / total liabilities = 400,000 / 600,000 = 2/3
    // Z'' = 6.56*0.15 + 3.26*0.2 + 6.72*0.08 + 1.05*(2/3)
    //     = 0.984 + 0.652 + 0.5376 + 0.7 = 2.8736
    const z = altmanZ2(s);
    expect(num(z)).toBeCloseTo(2.8736, 10);
    expect(z.zone).toBe('safe');
  });

  it('a Z″ of exactly 2.60 is grey, a little above is safe', () => {
    // X1 = 0.07, X2 = 0.18, X3 = 0.075, X4 = 500/500 = 1
    // 6.56*0.07 + 3.26*0.18 + 6.72*0.075 + 1.05*1 = 0.4592 + 0.5868 + 0.504 + 1.05 = 2.60
    const at = altmanZ2(zStmt(70, 180, 75, 500));
    expect(num(at)).toBeCloseTo(2.6, 10);
    expect(at.zone).toBe('grey');
    // EBIT 76 instead of 75: + 6.72*0.001 = 2.60672 > 2.60
    const above = altmanZ2(zStmt(70, 180, 76, 500));
    expect(num(above)).toBeCloseTo(2.60672, 10);
    expect(above.zone).toBe('safe');
    // EBIT 74: 2.60 - 0.00672 = 2.59328, still grey
    const below = altmanZ2(zStmt(70, 180, 74, 500));
    expect(num(below)).toBeCloseTo(2.59328, 10);
    expect(below.zone).toBe('grey');
  });

  it('a Z″ of exactly 1.10 is grey, a little below is distress', () => {
    // X1 = 0.027, X2 = 0.056, X3 = 0.006, X4 = 400/600 = 2/3
    // 6.56*0.027 + 3.26*0.056 + 6.72*0.006 + 1.05*(2/3) = 0.17712 + 0.18256 + 0.04032 + 0.7 = 1.10
    const at = altmanZ2(zStmt(27, 56, 6, 600));
    expect(num(at)).toBeCloseTo(1.1, 10);
    expect(at.zone).toBe('grey');
    // EBIT 5 instead of 6: 1.10 - 0.00672 = 1.09328 < 1.10
    const below = altmanZ2(zStmt(27, 56, 5, 600));
    expect(num(below)).toBeCloseTo(1.09328, 10);
    expect(below.zone).toBe('distress');
    // EBIT 7: 1.10672, grey
    const above = altmanZ2(zStmt(27, 56, 7, 600));
    expect(num(above)).toBeCloseTo(1.10672, 10);
    expect(above.zone).toBe('grey');
  });

  it('another balanced statement whose Z″ is exactly 1.10 in decimal arithmetic is grey, not distress', () => {
    // Total assets 1,000,000 = liabilities 750,000 + equity 250,000.
    // X1 = 0.036, X2 = 0.036, X3 = 0.059, X4 = 250/750 = 1/3
    // 6.56*0.036 + 3.26*0.036 + 6.72*0.059 + 1.05/3 = 0.23616 + 0.11736 + 0.39648 + 0.35 = 1.10
    // DOMAIN.md: 1.10-2.60 is grey. The zone must not depend on binary rounding of the sum.
    const z = altmanZ2(zStmt(36, 36, 59, 750));
    expect(num(z)).toBeCloseTo(1.1, 10);
    expect(z.zone).toBe('grey');
  });

  it('a negative equity gives a negative X4 and a distress zone, still a finite number', () => {
    // Assets 1,000,000, liabilities 1,200,000, equity -200,000; WC 0, RE -300,000, EBIT -50,000
    // X1 = 0, X2 = -0.3, X3 = -0.05, X4 = -200/1200 = -1/6
    // Z'' = 0 - 0.978 - 0.336 - 0.175 = -1.489
    const z = altmanZ2(zStmt(0, -300, -50, 1200));
    expect(num(z)).toBeCloseTo(-1.489, 10);
    expect(z.zone).toBe('distress');
  });
});

describe('ratios that cannot be computed', () => {
  const all = (s: FinancialStatement) => ({
    currentRatio: currentRatio(s),
    quickRatio: quickRatio(s),
    debtRatio: debtRatio(s),
    altmanZ2: altmanZ2(s),
  });

  function expectNoNumbers(rs: Record<string, Ratio>) {
    for (const r of Object.values(rs)) {
      if ('value' in r) expect(Number.isFinite(r.value)).toBe(true);
      for (const v of Object.values(r)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    }
  }

  it('a missing figure names the field and the period', () => {
    const s = stmt({ inventory: undefined, ebit: undefined });
    expect(num(currentRatio(s))).toBeCloseTo(1.6, 12); // does not need them
    expect(reasonOf(quickRatio(s))).toBe('the statement of 2025-12-31 lacks inventory');
    expect(reasonOf(altmanZ2(s))).toBe('the statement of 2025-12-31 lacks ebit');
    expect(altmanZ2(s).zone).toBeUndefined();
    expect(num(debtRatio(s))).toBeCloseTo(0.6, 12);
  });

  it('missing current liabilities: current, quick and Z″ cannot be computed', () => {
    const rs = all(stmt({ currentLiabilities: undefined }));
    expect(reasonOf(rs.currentRatio)).toContain('lacks currentLiabilities');
    expect(reasonOf(rs.quickRatio)).toContain('lacks currentLiabilities');
    expect(reasonOf(rs.altmanZ2)).toContain('lacks currentLiabilities');
    expect(num(rs.debtRatio)).toBeCloseTo(0.6, 12);
    expectNoNumbers(rs);
  });

  it('zero current liabilities: no current or quick ratio (never Infinity)', () => {
    const rs = all(stmt({ currentLiabilities: 0 }));
    expect(reasonOf(rs.currentRatio)).toBe('currentLiabilities is zero in the statement of 2025-12-31');
    expect(reasonOf(rs.quickRatio)).toBe('currentLiabilities is zero in the statement of 2025-12-31');
    // Z'' does not divide by current liabilities: X1 = (400,000 - 0) / 1,000,000 = 0.4
    // 6.56*0.4 + 3.26*0.2 + 6.72*0.08 + 1.05*(2/3) = 2.624 + 0.652 + 0.5376 + 0.7 = 4.5136
    expect(num(rs.altmanZ2)).toBeCloseTo(4.5136, 10);
    expectNoNumbers(rs);
  });

  it('zero total assets: no debt ratio, no Z″', () => {
    const rs = all(stmt({ totalAssets: 0, currentAssets: 0, inventory: 0 }));
    expect(reasonOf(rs.debtRatio)).toBe('totalAssets is zero in the statement of 2025-12-31');
    expect(reasonOf(rs.altmanZ2)).toBe('totalAssets is zero in the statement of 2025-12-31');
    // current ratio is still 0 / 250,000 = 0
    expect(num(rs.currentRatio)).toBe(0);
    expectNoNumbers(rs);
  });

  it('negative total assets: nothing is computable', () => {
    const rs = all(stmt({ totalAssets: -1 }));
    for (const r of Object.values(rs))
      expect(reasonOf(r)).toBe('totalAssets is negative in the statement of 2025-12-31');
    expectNoNumbers(rs);
  });

  it('negative total liabilities: nothing is computable', () => {
    const rs = all(stmt({ totalLiabilities: -5_000_000 }));
    for (const r of Object.values(rs))
      expect(reasonOf(r)).toBe('totalLiabilities is negative in the statement of 2025-12-31');
    expectNoNumbers(rs);
  });

  it('current assets above total assets make no sense', () => {
    const rs = all(stmt({ currentAssets: 100_000_001 }));
    for (const r of Object.values(rs))
      expect(reasonOf(r)).toBe('current assets exceed total assets in the statement of 2025-12-31');
  });

  it('zero total liabilities: debt ratio 0, but no Z″ (X4 would divide by zero)', () => {
    const rs = all(stmt({ totalLiabilities: 0, equity: 100_000_000 }));
    expect(num(rs.debtRatio)).toBe(0); // 0 / 1,000,000
    expect(reasonOf(rs.altmanZ2)).toBe('totalLiabilities is zero in the statement of 2025-12-31');
    expect(rs.altmanZ2.zone).toBeUndefined();
    expectNoNumbers(rs);
  });
});
