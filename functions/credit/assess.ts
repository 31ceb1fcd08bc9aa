import { minorDigits } from '../core/currencies.ts';
import { addMonths, type IsoDate, lastDateMemo, monthsBetween } from '../core/dates.ts';
import { formatMinor, parseMinorUnits } from '../core/money.ts';
import { type Receivables, receivablesAsOf } from '../core/receivables.ts';
import type {
  Customer,
  ExternalScore,
  FinancialStatement,
  Guarantee,
  InsuranceCover,
  Invoice,
  Payment,
  TransferCommitment,
} from '../core/records.ts';

export type { ExternalScore, Guarantee, InsuranceCover, TransferCommitment };

import {
  NUMERIC_FACTORS,
  type NumericFactor,
  type Policy,
  RATINGS,
  type Rating,
  type RiskClass,
} from './policy.ts';
import { altmanZ2, currentRatio, debtRatio, quickRatio, type Ratio } from './ratios.ts';
import { atThreshold } from './thresholds.ts';

// ---- the credit file ----

/** An earlier assessment, for the downgrade rule. */
export interface PriorAssessment {
  readonly asOf: IsoDate;
  readonly rating: Rating;
  readonly score: number;
  readonly policyId: string;
}

/** Everything known of one customer, in its credit currency. */
export interface CreditFile {
  readonly customerId: string;
  readonly customer?: Customer | undefined;
  /** Credit currency: invoices and payments are in it (converted at ingest). */
  readonly currency: string;
  readonly invoices: readonly Invoice[];
  readonly payments: readonly Payment[];
  readonly financials: readonly FinancialStatement[];
  readonly guarantees: readonly Guarantee[];
  readonly insurance: readonly InsuranceCover[];
  readonly scores: readonly ExternalScore[];
  /** Approved transfers to or for the customer (they add to the exposure; see `transferCounts`). */
  readonly transfers?: readonly TransferCommitment[] | undefined;
  /** Earlier assessments, oldest first (the store keeps those of the last 90 days): the downgrade rule's reference. */
  readonly recent?: readonly PriorAssessment[] | undefined;
}

// ---- figures ----

export interface Figures {
  readonly asOf: IsoDate;
  readonly currency: string;
  readonly receivables: Receivables;
  /** Open receivables less unapplied cash, plus the approved transfers counted (never below zero). */
  readonly exposure: number;
  /** Approved transfers in the credit currency that count in the exposure as of the date. */
  readonly approvedTransfers: number;
  readonly creditLimit: number | undefined;
  /** Exposure / limit; 999 when the limit is zero and something is owed; undefined without a limit. */
  readonly limitUse: number | undefined;
  readonly overdueShare: number;
  readonly disputedShare: number;
  /** Settled within the behaviour window. */
  readonly settled: number;
  readonly meanDaysLate: number | undefined;
  readonly weightedDaysLate: number | undefined;
  readonly sharePaidLate: number | undefined;
  readonly maxDaysPastDue: number;
  readonly historyMonths: number;
  readonly latestStatement: FinancialStatement | undefined;
  readonly ratios: Readonly<Record<'currentRatio' | 'quickRatio' | 'debtRatio' | 'altmanZ2', Ratio>>;
  readonly externalScore: { value: number; agency: string; date: IsoDate } | undefined;
  /** Valid guarantees plus the insured share of the exposure (capped), minor units. */
  readonly secured: number;
  readonly guaranteed: number;
  readonly insured: number;
  /** Cover and approved transfers that are not in the credit currency and so are not counted. */
  readonly uncounted: readonly string[];
  /** Credit sales (invoiced) in the 12 months to `asOf`, minor units. */
  readonly sales12m: number;
}

const NO_STATEMENT: Ratio = { notComputable: 'no financial statement on file' };
const NO_RATIOS: Figures['ratios'] = Object.freeze({
  currentRatio: NO_STATEMENT,
  quickRatio: NO_STATEMENT,
  debtRatio: NO_STATEMENT,
  altmanZ2: NO_STATEMENT,
});
const NOTHING_UNCOUNTED: readonly string[] = Object.freeze([]);

const RETURNS: ReadonlySet<string> = new Set(['refund', 'overpayment_return']);

/** A transfer that hands the customer's own credit balance back: once paid it still counts (see below). */
export const handsBackCash = (transferType: string): boolean => RETURNS.has(transferType);

/**
 * Whether an approved transfer counts in the exposure as of `asOf` (DOMAIN: exposure = open
 * receivables + approved but unpaid transfers). It counts from the day it was approved until the
 * day it is paid. A refund or an overpayment return keeps counting once paid: it pays back the
 * unapplied cash the receivables still hold (they are built from the payments received, and the
 * payments export never shows that money leaving), so the two cancel out for good. A rebate or a
 * credit release stops counting once paid: it is the company's cost, not a debt of the customer's.
 */
export function transferCounts(t: TransferCommitment, asOf: IsoDate): boolean {
  return t.approvedOn <= asOf && (handsBackCash(t.transferType) || t.paidOn === undefined || t.paidOn > asOf);
}

/** The starts of the behaviour window and of the 12 months of sales (the same for every customer of a run). */
const scoreWindows = lastDateMemo((asOf: IsoDate, policy: Policy) => ({
  windowStart: addMonths(asOf, -policy.scorecard.behaviourMonths),
  salesFrom: addMonths(asOf, -12),
}));

/** The figures of a credit file as of a date: only what was known that day counts. */
export function figuresOf(file: CreditFile, asOf: IsoDate, policy: Policy): Figures {
  const receivables = receivablesAsOf(file, asOf);
  const s = receivables.summary;
  const uncounted: string[] = [];
  let approvedTransfers = 0;
  for (const t of file.transfers ?? []) {
    if (!transferCounts(t, asOf)) continue;
    if (t.currency !== file.currency)
      uncounted.push(
        `approved transfer ${t.transferId} (${formatMinor(t.amount, t.currency)}) is in ${t.currency}`,
      );
    else approvedTransfers += t.amount;
  }
  const exposure = Math.max(0, s.openAmount - s.unappliedCash + approvedTransfers);
  const creditLimit = file.customer?.creditLimit;
  const limitUse =
    creditLimit === undefined ? undefined : creditLimit > 0 ? exposure / creditLimit : exposure > 0 ? 999 : 0;

  const { windowStart, salesFrom } = scoreWindows(asOf, policy);
  let settled = 0;
  let lateSum = 0;
  let lateCount = 0;
  let weighted = 0;
  let weight = 0;
  let first: IsoDate | undefined;
  let sales12m = 0;
  // The invoices issued by the date, with what the receivables found of each.
  const { invoices, settledDate, daysLate } = receivables;
  for (let i = 0; i < invoices.length; i++) {
    const inv = invoices[i] as Invoice;
    if (first === undefined || inv.issueDate < first) first = inv.issueDate;
    if (inv.issueDate > salesFrom && inv.currency === file.currency) sales12m += inv.amount;
    const on = settledDate[i];
    if (on === undefined || on <= windowStart) continue;
    const late = daysLate[i] as number;
    settled++;
    lateSum += late;
    if (late > 0) lateCount++;
    weighted += late * inv.amount;
    weight += inv.amount;
  }

  let latestStatement: FinancialStatement | undefined;
  for (const f of file.financials)
    if (f.periodEnd <= asOf && (latestStatement === undefined || f.periodEnd > latestStatement.periodEnd))
      latestStatement = f;
  let externalScore: Figures['externalScore'];
  for (const sc of file.scores)
    if (sc.date <= asOf && sc.scaleMax > 0 && (externalScore === undefined || sc.date > externalScore.date))
      externalScore = { value: (100 * sc.score) / sc.scaleMax, agency: sc.agency, date: sc.date };

  let guaranteed = 0;
  for (const g of file.guarantees) {
    if (!valid(g, asOf)) continue;
    if (g.currency !== file.currency) uncounted.push(`guarantee ${g.guaranteeId} is in ${g.currency}`);
    else guaranteed += g.amount;
  }
  let insured = 0;
  for (const c of file.insurance) {
    if (!valid(c, asOf)) continue;
    if (c.currency !== file.currency) uncounted.push(`insurance ${c.policyId} is in ${c.currency}`);
    else insured += Math.min(c.cap, Math.floor((exposure * c.insuredShareBp) / 10_000));
  }

  return {
    asOf,
    currency: file.currency,
    receivables,
    exposure,
    approvedTransfers,
    creditLimit,
    limitUse,
    overdueShare: s.openAmount > 0 ? s.overdueAmount / s.openAmount : 0,
    disputedShare: s.openAmount > 0 ? s.disputedAmount / s.openAmount : 0,
    settled,
    meanDaysLate: settled > 0 ? lateSum / settled : undefined,
    weightedDaysLate: weight > 0 ? weighted / weight : undefined,
    sharePaidLate: settled > 0 ? lateCount / settled : undefined,
    maxDaysPastDue: Math.max(0, s.maxDaysPastDue),
    historyMonths: first === undefined ? 0 : monthsBetween(first, asOf),
    latestStatement,
    ratios: latestStatement
      ? {
          currentRatio: currentRatio(latestStatement),
          quickRatio: quickRatio(latestStatement),
          debtRatio: debtRatio(latestStatement),
          altmanZ2: altmanZ2(latestStatement),
        }
      : NO_RATIOS,
    externalScore,
    secured: guaranteed + insured,
    guaranteed,
    insured,
    uncounted: uncounted.length > 0 ? uncounted : NOTHING_UNCOUNTED,
    sales12m,
  };
}

function valid(c: { validFrom?: IsoDate | undefined; expiry: IsoDate }, asOf: IsoDate): boolean {
  return (c.validFrom === undefined || c.validFrom <= asOf) && c.expiry >= asOf;
}

// ---- the scorecard ----

/**
 * One factor as scored: numbers and codes only. The words a person reads (`reason`) are made by
 * `explainFactor` where they are read or stored, not for every customer of every evaluation.
 */
export interface FactorScore {
  readonly factor: NumericFactor | 'industryRisk';
  /** The figure scored (undefined when it could not be computed). */
  readonly value: number | string | undefined;
  readonly points: number;
  readonly maxPoints: number;
  /** Stable code for the band reached, e.g. `MEAN_DAYS_LATE_LE_5`, `ALTMAN_Z2_NOT_COMPUTABLE`. */
  readonly code: string;
  /**
   * The band reached in words ("at most 5.0 days"), why the figure could not be computed, or
   * the industry's risk class ("unclassed" when the policy does not class it). One string per
   * band of the policy, shared by every customer in it.
   */
  readonly detail: string;
}

/** A factor with its reason in words, with the figure: what is stored and shown. */
export interface FactorResult extends FactorScore {
  readonly reason: string;
}

export interface Assessment {
  readonly customerId: string;
  /** This assessment's rating and the earlier ones of the last 90 days, oldest first. */
  readonly recent?: readonly PriorAssessment[] | undefined;
  readonly asOf: IsoDate;
  readonly policyId: string;
  readonly currency: string;
  /** 0-100: the points earned as a share of the points available. */
  readonly score: number;
  readonly rating: Rating;
  readonly riskClass: RiskClass;
  readonly factors: FactorScore[];
  readonly limit: LimitRecommendation;
}

/** An assessment with its words: every factor's reason and the limit's basis and reason. */
export type ExplainedAssessment = Omit<Assessment, 'factors' | 'limit'> & {
  readonly factors: FactorResult[];
  readonly limit: ExplainedLimit;
};

const CODE: Record<NumericFactor | 'industryRisk', string> = {
  meanDaysLate: 'MEAN_DAYS_LATE',
  weightedDaysLate: 'WEIGHTED_DAYS_LATE',
  sharePaidLate: 'SHARE_PAID_LATE',
  maxDaysPastDue: 'MAX_DAYS_PAST_DUE',
  overdueShare: 'OVERDUE_SHARE',
  limitUse: 'LIMIT_USE',
  currentRatio: 'CURRENT_RATIO',
  quickRatio: 'QUICK_RATIO',
  debtRatio: 'DEBT_RATIO',
  altmanZ2: 'ALTMAN_Z2',
  historyMonths: 'HISTORY_MONTHS',
  externalScore: 'EXTERNAL_SCORE',
  cover: 'COVER',
  industryRisk: 'INDUSTRY_RISK',
};

const LABEL: Record<NumericFactor | 'industryRisk', string> = {
  meanDaysLate: 'mean days late',
  weightedDaysLate: 'amount-weighted days late',
  sharePaidLate: 'share of invoices paid late',
  maxDaysPastDue: 'days past due of the oldest open item',
  overdueShare: 'overdue share of the open amount',
  limitUse: 'limit use',
  currentRatio: 'current ratio',
  quickRatio: 'quick ratio',
  debtRatio: 'debt ratio',
  altmanZ2: "Altman Z''",
  historyMonths: 'months of history',
  externalScore: 'external score (0-100)',
  cover: 'guarantee and insurance cover of the exposure',
  industryRisk: 'industry risk',
};

/** Shares are shown as percentages, days and months whole, ratios with two decimals. */
function show(f: NumericFactor, v: number): string {
  if (f === 'sharePaidLate' || f === 'overdueShare' || f === 'limitUse' || f === 'cover')
    return `${(v * 100).toFixed(1)}%`;
  if (f === 'meanDaysLate' || f === 'weightedDaysLate') return `${v.toFixed(1)} days`;
  if (f === 'maxDaysPastDue') return `${v} days`;
  if (f === 'historyMonths') return `${v} months`;
  if (f === 'externalScore') return v.toFixed(0);
  return v.toFixed(2);
}

/** The figure behind a numeric factor, or why there is none (one shared string per reason). */
function figureOf(f: NumericFactor, x: Figures): number | string {
  switch (f) {
    case 'meanDaysLate':
      return x.meanDaysLate ?? NOTHING_SETTLED;
    case 'weightedDaysLate':
      return x.weightedDaysLate ?? NOTHING_SETTLED;
    case 'sharePaidLate':
      return x.sharePaidLate ?? NOTHING_SETTLED;
    case 'maxDaysPastDue':
      return x.maxDaysPastDue;
    case 'overdueShare':
      return x.overdueShare;
    case 'limitUse':
      return x.limitUse ?? 'no credit limit on file';
    case 'currentRatio':
    case 'quickRatio':
    case 'debtRatio':
    case 'altmanZ2': {
      const r = x.ratios[f];
      return 'value' in r ? r.value : r.notComputable;
    }
    case 'historyMonths':
      return x.historyMonths;
    case 'externalScore':
      return x.externalScore?.value ?? 'no external score on file';
    case 'cover':
      return x.exposure > 0 ? x.secured / x.exposure : 'nothing is owed, so there is nothing to cover';
  }
}

const NOTHING_SETTLED = 'no invoice settled in the behaviour window';

function codeNumber(v: number): string {
  return String(v).replace('-', 'MINUS_').replace('.', '_');
}

type Band = { min?: number | undefined; max?: number | undefined; points: number };

/** A numeric factor of a policy, ready to score: its bands with their reason codes and words. */
interface CompiledFactor {
  readonly factor: NumericFactor;
  readonly maxPoints: number;
  readonly neutralPoints: number;
  readonly notComputableCode: string;
  readonly bands: readonly {
    readonly upTo: number;
    readonly from: number;
    readonly points: number;
    readonly code: string;
    readonly text: string;
  }[];
}

/** What scoring needs of a policy, made once per policy (every customer reuses it). */
interface CompiledScorecard {
  readonly numeric: readonly CompiledFactor[];
  readonly industry:
    | {
        readonly maxPoints: number;
        readonly points: Record<RiskClass | 'unknown', number>;
        /** Lower-cased industry -> class. */
        readonly classes: ReadonlyMap<string, RiskClass>;
      }
    | undefined;
  /** Limit caps in minor units, by currency and rating. */
  readonly caps: ReadonlyMap<string, Partial<Record<Rating, number>>>;
}

const COMPILED = new WeakMap<Policy, CompiledScorecard>();

function compiled(policy: Policy): CompiledScorecard {
  let c = COMPILED.get(policy);
  if (c) return c;
  const factors = policy.scorecard.factors;
  const numeric: CompiledFactor[] = [];
  for (const f of NUMERIC_FACTORS) {
    const spec = factors[f];
    if (!spec) continue;
    numeric.push({
      factor: f,
      maxPoints: spec.maxPoints,
      neutralPoints: spec.neutralPoints,
      notComputableCode: `${CODE[f]}_NOT_COMPUTABLE`,
      // Every band in one shape with both bounds (infinite when open): one comparison each.
      bands: spec.bands.map((b) => ({
        // "at most max" when max is given, else "at least min", else anything.
        upTo: b.max ?? Number.POSITIVE_INFINITY,
        from: b.max === undefined ? (b.min ?? Number.NEGATIVE_INFINITY) : Number.NEGATIVE_INFINITY,
        points: b.points,
        ...bandWords(f, b),
      })),
    });
  }
  const ind = factors.industryRisk;
  const caps = new Map<string, Partial<Record<Rating, number>>>();
  for (const [ccy, byRating] of Object.entries(policy.limit.caps)) {
    const parsed: Partial<Record<Rating, number>> = {};
    for (const r of RATINGS) {
      const v = parseMinorUnits(byRating[r], minorDigits(ccy) ?? 2, { decimal: '.', thousands: '' });
      if (v.ok) parsed[r] = v.value; // the schema refuses a cap that does not parse
    }
    caps.set(ccy, parsed);
  }
  c = {
    numeric,
    industry: ind && {
      maxPoints: ind.maxPoints,
      points: ind.points,
      classes: new Map(Object.entries(ind.classes).map(([k, v]) => [k.toLowerCase(), v])),
    },
    caps,
  };
  COMPILED.set(policy, c);
  return c;
}

export function scoreFactors(x: Figures, file: CreditFile, policy: Policy): FactorScore[] {
  const card = compiled(policy);
  const out: FactorScore[] = [];
  // The factors in the order of CODE: the numeric ones, then industry risk.
  for (const spec of card.numeric) {
    const f = spec.factor;
    const v = figureOf(f, x);
    if (typeof v === 'string') {
      out.push({
        factor: f,
        value: undefined,
        points: spec.neutralPoints,
        maxPoints: spec.maxPoints,
        code: spec.notComputableCode,
        detail: v,
      });
      continue;
    }
    const at = atThreshold(v);
    const bands = spec.bands;
    // The schema guarantees a catch-all last band.
    let b = bands[bands.length - 1] as CompiledFactor['bands'][number];
    for (const band of bands)
      if (at <= band.upTo && at >= band.from) {
        b = band;
        break;
      }
    out.push({
      factor: f,
      value: v,
      points: b.points,
      maxPoints: spec.maxPoints,
      code: b.code,
      detail: b.text,
    });
  }
  const ind = card.industry;
  if (ind) {
    const industry = file.customer?.industry?.trim();
    const cls = industry ? ind.classes.get(industry.toLowerCase()) : undefined;
    const key = cls ?? 'unknown';
    out.push({
      factor: 'industryRisk',
      value: industry,
      points: ind.points[key],
      maxPoints: ind.maxPoints,
      code: INDUSTRY_CODE[key],
      detail: cls ?? UNCLASSED,
    });
  }
  return out;
}

const UNCLASSED = 'unclassed';
const INDUSTRY_CODE: Record<RiskClass | 'unknown', string> = {
  low: `${CODE.industryRisk}_LOW`,
  medium: `${CODE.industryRisk}_MEDIUM`,
  high: `${CODE.industryRisk}_HIGH`,
  unknown: `${CODE.industryRisk}_UNKNOWN`,
};

/** A factor's reason in words, with the figure (what `customer --explain` and the console show). */
export function explainFactor(f: FactorScore): FactorResult {
  return { ...f, reason: factorReason(f) };
}

function factorReason(f: FactorScore): string {
  if (f.factor === 'industryRisk') {
    const industry = f.value;
    if (industry === undefined || industry === '') return 'no industry on file';
    return f.detail === UNCLASSED
      ? `industry "${industry}" is not classed in the policy`
      : `industry "${industry}" is ${f.detail} risk`;
  }
  return typeof f.value === 'number'
    ? `${LABEL[f.factor]} ${show(f.factor, f.value)}: ${f.detail}`
    : `${LABEL[f.factor]} not computable: ${f.detail}; neutral points`;
}

/** A band's reason code and words. */
function bandWords(f: NumericFactor, b: Band): { code: string; text: string } {
  return b.max !== undefined
    ? { code: `${CODE[f]}_LE_${codeNumber(b.max)}`, text: `at most ${show(f, b.max)}` }
    : b.min !== undefined
      ? { code: `${CODE[f]}_GE_${codeNumber(b.min)}`, text: `at least ${show(f, b.min)}` }
      : { code: `${CODE[f]}_OTHER`, text: 'outside every better band' };
}

export function ratingOf(score: number, policy: Policy): Rating {
  const r = policy.ratings;
  return score >= r.A ? 'A' : score >= r.B ? 'B' : score >= r.C ? 'C' : score >= r.D ? 'D' : 'E';
}

/** Scores, rates and limits one customer as of a date under a policy: reproducible and explained. */
export function assess(file: CreditFile, asOf: IsoDate, policy: Policy): Assessment & { figures: Figures } {
  const figures = figuresOf(file, asOf, policy);
  const factors = scoreFactors(figures, file, policy);
  let max = 0;
  let got = 0;
  for (const f of factors) {
    max += f.maxPoints;
    got += f.points;
  }
  const score = max > 0 ? Math.round((100 * got) / max) : 0;
  const rating = ratingOf(score, policy);
  return {
    customerId: file.customerId,
    asOf,
    policyId: policy.id,
    currency: file.currency,
    score,
    rating,
    riskClass: policy.riskClass[rating],
    factors,
    limit: recommendLimit(figures, rating, policy),
    figures,
  };
}

// ---- the limit ----

export interface LimitRecommendation {
  readonly currency: string;
  readonly current: number | undefined;
  readonly recommended: number;
  /** RAISE, CUT, KEEP (within `keepWithin` of the current limit) or NEW (no limit on file). */
  readonly change: 'RAISE' | 'CUT' | 'KEEP' | 'NEW';
  /** How the figure was built, step by step, in minor units of `currency`: `explainLimit` says it in words. */
  readonly formula: LimitFormula;
}

export interface LimitFormula {
  readonly rating: Rating;
  /** Average monthly credit sales of the last 12 months. */
  readonly monthlySales: number;
  /** The rating's months of sales. */
  readonly months: number;
  readonly bySales: number;
  /** The share of the latest annual revenue, when it capped the figure. */
  readonly byRevenue?:
    | {
        readonly share: number;
        readonly revenue: number;
        readonly periodEnd: IsoDate;
        readonly amount: number;
      }
    | undefined;
  /** The rating's cap in the currency, when it capped the figure. */
  readonly ratingCap?: number | undefined;
  readonly guaranteed: number;
  readonly insured: number;
  /** Cover and transfers left out because they are in another currency. */
  readonly uncounted: readonly string[];
  /** The figure before rounding, and after. */
  readonly total: number;
  readonly rounded: number;
  readonly significantDigits: number;
  readonly keepWithin: number;
}

/** A recommendation with its words: what is stored and shown. */
export interface ExplainedLimit extends LimitRecommendation {
  /** How the figure was built, step by step. */
  readonly basis: string[];
  /** One sentence: the recommendation beside the current limit and why they differ. */
  readonly reason: string;
}

/**
 * limit = min(average monthly credit sales of the last 12 months x the rating's months of sales,
 *             the policy's share of the latest annual revenue, the rating's cap in the currency)
 *         + valid guarantees + the insured share of the exposure (each insurer's cap applies),
 * rounded down to the policy's significant digits. Within `keepWithin` of the current limit it keeps the current one.
 */
export function recommendLimit(x: Figures, rating: Rating, policy: Policy): LimitRecommendation {
  const p = policy.limit;
  const ccy = x.currency;
  const months = p.monthsOfSales[rating];
  const monthlySales = Math.floor(x.sales12m / 12);
  const bySales = Math.floor(monthlySales * months);
  let base = bySales;
  let byRevenue: LimitFormula['byRevenue'];
  const st = x.latestStatement;
  if (st?.revenue !== undefined && st.revenue > 0 && st.currency === ccy) {
    const amount = Math.floor(st.revenue * p.maxShareOfRevenue);
    if (amount < base) {
      base = amount;
      byRevenue = { share: p.maxShareOfRevenue, revenue: st.revenue, periodEnd: st.periodEnd, amount };
    }
  }
  let ratingCap: number | undefined;
  const cap = compiled(policy).caps.get(ccy)?.[rating];
  if (cap !== undefined && cap < base) {
    base = cap;
    ratingCap = cap;
  }
  const total = base + x.guaranteed + x.insured;
  // Rounded down to `significantDigits` figures in major units (48,321.55 -> 48,000.00 at two).
  const unit = 10 ** (minorDigits(ccy) ?? 2);
  const major = Math.floor(total / unit);
  const step = major > 0 ? unit * 10 ** Math.max(0, digitsOf(major) - p.significantDigits) : unit;
  const rounded = Math.floor(total / step) * step;
  const current = x.creditLimit;
  let change: LimitRecommendation['change'];
  let recommended = rounded;
  if (current === undefined) change = 'NEW';
  else if (current > 0 && Math.abs(rounded - current) <= current * p.keepWithin) {
    change = 'KEEP';
    recommended = current;
  } else change = rounded > current ? 'RAISE' : rounded < current ? 'CUT' : 'KEEP';
  return {
    currency: ccy,
    current,
    recommended,
    change,
    formula: {
      rating,
      monthlySales,
      months,
      bySales,
      byRevenue,
      ratingCap,
      guaranteed: x.guaranteed,
      insured: x.insured,
      uncounted: x.uncounted,
      total,
      rounded,
      significantDigits: p.significantDigits,
      keepWithin: p.keepWithin,
    },
  };
}

/** Decimal digits of a positive integer. */
function digitsOf(n: number): number {
  let d = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) d++;
  return d;
}

/** The recommendation's basis and reason in words. */
export function explainLimit(l: LimitRecommendation): ExplainedLimit {
  const f = l.formula;
  const ccy = l.currency;
  const m = (v: number) => formatMinor(v, ccy);
  const basis = [
    `${m(f.monthlySales)} average monthly sales x ${f.months} months for rating ${f.rating} = ${m(f.bySales)}`,
  ];
  if (f.byRevenue)
    basis.push(
      `capped at ${f.byRevenue.share * 100}% of revenue ${m(f.byRevenue.revenue)} (${f.byRevenue.periodEnd}) = ${m(f.byRevenue.amount)}`,
    );
  if (f.ratingCap !== undefined) basis.push(`capped at the rating ${f.rating} cap of ${m(f.ratingCap)}`);
  if (f.guaranteed > 0) basis.push(`+ ${m(f.guaranteed)} of valid guarantees`);
  if (f.insured > 0) basis.push(`+ ${m(f.insured)} insured share of the exposure`);
  for (const u of f.uncounted) basis.push(`not counted: ${u}, not ${ccy}`);
  if (f.rounded !== f.total) basis.push(`rounded down to ${f.significantDigits} significant digits`);
  const current = l.current;
  const reason =
    current === undefined
      ? `no limit on file; recommended ${m(l.recommended)}`
      : l.change === 'KEEP'
        ? `keep ${m(current)}: the formula gives ${m(f.rounded)}, within ${f.keepWithin * 100}% of it`
        : `${l.change === 'RAISE' ? 'raise' : 'cut'} ${m(current)} to ${m(l.recommended)}: rating ${f.rating}, ${basis[0]}${basis.length > 1 ? `; ${basis.slice(1).join('; ')}` : ''}`;
  return { ...l, basis, reason };
}

/** An assessment with its words (factor reasons, limit basis and reason), for storing and showing. */
export function explainAssessment<A extends Assessment>(
  a: A,
): Omit<A, 'factors' | 'limit'> & { factors: FactorResult[]; limit: ExplainedLimit } {
  return { ...a, factors: a.factors.map(explainFactor), limit: explainLimit(a.limit) };
}

/** Notches between two ratings: positive when `now` is worse than `before`. */
export function notchesDown(before: Rating, now: Rating): number {
  return RATINGS.indexOf(now) - RATINGS.indexOf(before);
}
