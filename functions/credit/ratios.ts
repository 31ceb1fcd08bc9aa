import type { FinancialStatement } from '../core/records.ts';

/**
 * Ratios from a financial statement (DOMAIN.md "Formulas"). A ratio that cannot be computed (a
 * figure missing, a zero or negative denominator, figures that make no sense) comes back as a
 * reason, never as NaN or Infinity.
 */
export type Ratio = { readonly value: number } | { readonly notComputable: string };

export type AltmanZone = 'safe' | 'grey' | 'distress';

function need(s: FinancialStatement, fields: (keyof FinancialStatement)[]): string | undefined {
  const missing = fields.filter((f) => s[f] === undefined);
  return missing.length > 0 ? `the statement of ${s.periodEnd} lacks ${missing.join(', ')}` : undefined;
}

/** Sanity of the figures every ratio leans on: assets and liabilities cannot be negative. */
function impossible(s: FinancialStatement): string | undefined {
  for (const f of [
    'totalAssets',
    'currentAssets',
    'currentLiabilities',
    'totalLiabilities',
    'inventory',
  ] as const) {
    const v = s[f];
    if (v !== undefined && v < 0) return `${f} is negative in the statement of ${s.periodEnd}`;
  }
  if (s.currentAssets !== undefined && s.totalAssets !== undefined && s.currentAssets > s.totalAssets)
    return `current assets exceed total assets in the statement of ${s.periodEnd}`;
  return undefined;
}

function divide(num: number, den: number, what: string, s: FinancialStatement): Ratio {
  if (den <= 0)
    return {
      notComputable: `${what} is ${den === 0 ? 'zero' : 'negative'} in the statement of ${s.periodEnd}`,
    };
  const value = num / den;
  return Number.isFinite(value) ? { value } : { notComputable: `${what} gives no finite ratio` };
}

/** Current assets / current liabilities. */
export function currentRatio(s: FinancialStatement): Ratio {
  const why = need(s, ['currentAssets', 'currentLiabilities']) ?? impossible(s);
  if (why) return { notComputable: why };
  return divide(s.currentAssets as number, s.currentLiabilities as number, 'currentLiabilities', s);
}

/** (Current assets - inventory) / current liabilities. */
export function quickRatio(s: FinancialStatement): Ratio {
  const why = need(s, ['currentAssets', 'inventory', 'currentLiabilities']) ?? impossible(s);
  if (why) return { notComputable: why };
  return divide(
    (s.currentAssets as number) - (s.inventory as number),
    s.currentLiabilities as number,
    'currentLiabilities',
    s,
  );
}

/** Total liabilities / total assets. */
export function debtRatio(s: FinancialStatement): Ratio {
  const why = need(s, ['totalLiabilities', 'totalAssets']) ?? impossible(s);
  if (why) return { notComputable: why };
  return divide(s.totalLiabilities as number, s.totalAssets as number, 'totalAssets', s);
}

/**
 * Altman Z'' for non-manufacturers: 6.56·X1 + 3.26·X2 + 6.72·X3 + 1.05·X4, with X1 = working
 * capital / total assets, X2 = retained earnings / total assets, X3 = EBIT / total assets,
 * X4 = book equity / total liabilities. Zones: > 2.60 safe, 1.10-2.60 grey, < 1.10 distress.
 */
export function altmanZ2(s: FinancialStatement): Ratio & { zone?: AltmanZone } {
  const why =
    need(s, [
      'currentAssets',
      'currentLiabilities',
      'retainedEarnings',
      'ebit',
      'equity',
      'totalAssets',
      'totalLiabilities',
    ]) ?? impossible(s);
  if (why) return { notComputable: why };
  const ta = s.totalAssets as number;
  const tl = s.totalLiabilities as number;
  if (ta <= 0)
    return {
      notComputable: `totalAssets is ${ta === 0 ? 'zero' : 'negative'} in the statement of ${s.periodEnd}`,
    };
  if (tl <= 0)
    return {
      notComputable: `totalLiabilities is ${tl === 0 ? 'zero' : 'negative'} in the statement of ${s.periodEnd}`,
    };
  const x1 = ((s.currentAssets as number) - (s.currentLiabilities as number)) / ta;
  const x2 = (s.retainedEarnings as number) / ta;
  const x3 = (s.ebit as number) / ta;
  const x4 = (s.equity as number) / tl;
  // Rounded to 1e-9: a Z'' of exactly 1.10 in decimal must not come out as 1.0999999999999999.
  const value = Math.round((6.56 * x1 + 3.26 * x2 + 6.72 * x3 + 1.05 * x4) * 1e9) / 1e9;
  if (!Number.isFinite(value)) return { notComputable: 'the figures give no finite Z-score' };
  return { value, zone: value > 2.6 ? 'safe' : value >= 1.1 ? 'grey' : 'distress' };
}
