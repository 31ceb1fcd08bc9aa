import {
  DEFAULT_PROMISE_RULES,
  type PromiseToPay,
  type RatedPromise,
  ratePromise,
} from '../collections/promises.ts';
import { minorDigits } from '../core/currencies.ts';
import { addDays, addMonths, type IsoDate, lastDateMemo, monthsBetween } from '../core/dates.ts';
import { formatMoney, parseMinorUnits } from '../core/money.ts';
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
  /**
   * Promises to pay the customer made (functions/collections/promises.ts): the brokenPromise rule
   * and the brokenPromises factor count those broken or kept only in part.
   */
  readonly promises?: readonly PromiseToPay[] | undefined;
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
  /**
   * The latest statement that states a revenue: the limit's revenue cap reads it (an interim
   * balance sheet without a revenue line does not take the cap away).
   */
  readonly latestRevenue: FinancialStatement | undefined;
  readonly ratios: Readonly<Record<'currentRatio' | 'quickRatio' | 'debtRatio' | 'altmanZ2', Ratio>>;
  readonly externalScore: { value: number; agency: string; date: IsoDate } | undefined;
  /** Valid guarantees plus the insured share of the insurable receivables (capped), minor units. */
  readonly secured: number;
  readonly guaranteed: number;
  readonly insured: number;
  /** Each cover in force on the date or ended within the sales window: what it counts for, or why nothing. */
  readonly cover: readonly CoverLine[];
  /** Open items more than the insurer's extension period past due: no credit insurance pays them. */
  readonly overdueBeyondExtension: number;
  /** Approved transfers that are not in the credit currency and so are not counted. */
  readonly uncounted: readonly string[];
  /** Credit sales (invoiced in the credit currency) in the policy's sales window to `asOf`, minor units. */
  readonly salesInWindow: number;
  /**
   * The months the average monthly sales are taken over: from the first invoice (a month begun
   * counts) up to the policy's sales window; 0 before the first invoice.
   */
  readonly salesMonths: number;
  /** salesInWindow / salesMonths (minor units, rounded down); undefined when nothing was invoiced in the window. */
  readonly monthlySales: number | undefined;
  /** The exposure in months of average monthly sales; undefined without sales in the window. */
  readonly exposureToSales: number | undefined;
  /** The customer's payment terms, or the policy's default when its master data names none. */
  readonly termsDays: number;
  /**
   * Promises to pay broken or kept only in part whose grace ended in the behaviour window;
   * undefined when the customer made no promise by the date (the factor is then not scored at all).
   */
  readonly brokenPromises: number | undefined;
}

/**
 * A guarantee or credit insurance policy as the limit counts it (DOMAIN "Decision rules": cover
 * counts only for what it would really pay: valid on the date, within its cap, and not for debts
 * overdue beyond the insurer's extension period). Numbers only; `explainLimit` says it in words.
 */
export interface CoverLine {
  readonly kind: 'guarantee' | 'insurance';
  readonly id: string;
  /** The bank or insurer. */
  readonly by: string;
  readonly currency: string;
  /** What it counts for, in minor units of the credit currency (0 when it counts for nothing). */
  readonly counted: number;
  /**
   * counted: in force and counted in full (a guarantee's amount, an insurer's share of the
   * insurable receivables); capped: the insurer's cap bound it; expired: it ended before the date;
   * otherCurrency: not in the credit currency; nothingInsurable: nothing owed that the insurer
   * would pay. Cover that starts after the date is not listed (as of the date it does not exist).
   */
  readonly status: 'counted' | 'capped' | 'expired' | 'otherCurrency' | 'nothingInsurable';
  readonly expiry: IsoDate;
  /** Insurance: the insured share (basis points), the insurable receivables and the cap. */
  readonly shareBp?: number | undefined;
  readonly insurable?: number | undefined;
  readonly cap?: number | undefined;
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

/** The starts of the behaviour window and of the sales window (the same for every customer of a run). */
const scoreWindows = lastDateMemo((asOf: IsoDate, policy: Policy) => ({
  windowStart: addMonths(asOf, -policy.scorecard.behaviourMonths),
  salesFrom: addMonths(asOf, -policy.limit.salesWindowMonths),
}));

/**
 * Months from the first invoice to `asOf`, a month begun counting as one, at most `window`: what the
 * average monthly sales are taken over (a customer with two months of history is not read as
 * having twelve months of small sales).
 */
export function salesMonthsOf(first: IsoDate | undefined, asOf: IsoDate, window: number): number {
  if (first === undefined || first > asOf) return 0;
  const whole = monthsBetween(first, asOf);
  return Math.max(1, Math.min(window, addMonths(first, whole) < asOf ? whole + 1 : whole));
}

/** The figures of a credit file as of a date: only what was known that day counts. */
export function figuresOf(file: CreditFile, asOf: IsoDate, policy: Policy): Figures {
  const receivables = receivablesAsOf(file, asOf);
  const s = receivables.summary;
  const uncounted: string[] = [];
  let approvedTransfers = 0;
  for (const t of file.transfers ?? []) {
    if (!transferCounts(t, asOf)) continue;
    if (t.currency !== file.currency)
      uncounted.push(`approved transfer ${t.transferId} of ${formatMoney(t.amount, t.currency)}`);
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
  let salesInWindow = 0;
  let soldInWindow = false;
  // The invoices issued by the date, with what the receivables found of each.
  const { invoices, settledDate, daysLate } = receivables;
  for (let i = 0; i < invoices.length; i++) {
    const inv = invoices[i] as Invoice;
    if (first === undefined || inv.issueDate < first) first = inv.issueDate;
    if (inv.issueDate > salesFrom && inv.currency === file.currency) {
      salesInWindow += inv.amount;
      soldInWindow = true;
    }
    const on = settledDate[i];
    if (on === undefined || on <= windowStart) continue;
    const late = daysLate[i] as number;
    settled++;
    lateSum += late;
    if (late > 0) lateCount++;
    weighted += late * inv.amount;
    weight += inv.amount;
  }
  // A customer whose first invoice is at or before the window's start is averaged over the whole
  // window: one comparison, no date arithmetic, for most customers of a run.
  const window = policy.limit.salesWindowMonths;
  const salesMonths = first !== undefined && first <= salesFrom ? window : salesMonthsOf(first, asOf, window);
  const monthlySales = soldInWindow ? Math.floor(salesInWindow / salesMonths) : undefined;

  let latestStatement: FinancialStatement | undefined;
  let latestRevenue: FinancialStatement | undefined;
  for (const f of file.financials) {
    if (f.periodEnd > asOf) continue;
    if (latestStatement === undefined || f.periodEnd > latestStatement.periodEnd) latestStatement = f;
    if (f.revenue !== undefined && (latestRevenue === undefined || f.periodEnd > latestRevenue.periodEnd))
      latestRevenue = f;
  }
  let externalScore: Figures['externalScore'];
  for (const sc of file.scores)
    if (sc.date <= asOf && sc.scaleMax > 0 && (externalScore === undefined || sc.date > externalScore.date))
      externalScore = { value: (100 * sc.score) / sc.scaleMax, agency: sc.agency, date: sc.date };

  // Insurers pay on receivables, not on rebates or credit releases approved for the customer.
  const receivable = Math.max(0, s.openAmount - s.unappliedCash);
  const cover = coverOf(file, receivables, receivable, asOf, salesFrom, policy);

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
    latestRevenue,
    ratios: latestStatement
      ? {
          currentRatio: currentRatio(latestStatement),
          quickRatio: quickRatio(latestStatement),
          debtRatio: debtRatio(latestStatement),
          altmanZ2: altmanZ2(latestStatement),
        }
      : NO_RATIOS,
    externalScore,
    secured: cover.guaranteed + cover.insured,
    guaranteed: cover.guaranteed,
    insured: cover.insured,
    cover: cover.lines,
    overdueBeyondExtension: cover.overdueBeyondExtension,
    uncounted: uncounted.length > 0 ? uncounted : NOTHING_UNCOUNTED,
    salesInWindow,
    salesMonths,
    monthlySales,
    exposureToSales: monthlySales !== undefined && monthlySales > 0 ? exposure / monthlySales : undefined,
    termsDays: file.customer?.paymentTermsDays ?? policy.limit.defaultTermsDays,
    brokenPromises: file.promises?.some((p) => p.madeOn <= asOf)
      ? promisesNotKept(file, asOf, windowStart, policy).length
      : undefined,
  };
}

/**
 * The promises made by the date that were broken or kept only in part, whose grace ended after
 * `after` (and by the date, or they would still be pending), in the order their grace ended: each
 * rated from the payments received by the date, with the plan's tolerance. What the brokenPromise
 * rule counts over its window and the brokenPromises factor over the behaviour window.
 */
export function promisesNotKept(
  file: CreditFile,
  asOf: IsoDate,
  after: IsoDate,
  policy: Policy,
): RatedPromise[] {
  const rules = policy.collections?.promises ?? DEFAULT_PROMISE_RULES;
  // ratePromise counts payments up to the day rated at most, so the payments need no filter here.
  return (file.promises ?? [])
    .filter((p) => p.madeOn <= asOf)
    .map((p) => ratePromise(p, file.payments, asOf, rules))
    .filter((p) => (p.state === 'broken' || p.state === 'partial') && p.graceEnds > after)
    .sort((x, y) =>
      x.graceEnds < y.graceEnds ? -1 : x.graceEnds > y.graceEnds ? 1 : x.promiseId < y.promiseId ? -1 : 1,
    );
}

function valid(c: { validFrom?: IsoDate | undefined; expiry: IsoDate }, asOf: IsoDate): boolean {
  return (c.validFrom === undefined || c.validFrom <= asOf) && c.expiry >= asOf;
}

const NO_COVER = Object.freeze({
  lines: Object.freeze([]) as readonly CoverLine[],
  guaranteed: 0,
  insured: 0,
  overdueBeyondExtension: 0,
});

/**
 * What the guarantees and credit insurance on file would really pay as of the date: a guarantee in
 * force for its amount; an insurer its insured share of the insurable receivables (what is owed,
 * less unapplied cash, less what is overdue beyond its extension period: approved transfers are
 * not receivables an insurer pays), at most its cap. Cover outside its validity is
 * listed when it ended (or starts) within the sales window, so the basis says why it no longer
 * counts; cover in another currency is listed and counted for nothing.
 */
function coverOf(
  file: CreditFile,
  r: Receivables,
  receivable: number,
  asOf: IsoDate,
  since: IsoDate,
  policy: Policy,
): { lines: readonly CoverLine[]; guaranteed: number; insured: number; overdueBeyondExtension: number } {
  if (file.guarantees.length === 0 && file.insurance.length === 0) return NO_COVER;
  const lines: CoverLine[] = [];
  // Cover that ended within the sales window is listed (the basis says why it stopped counting).
  const ended = (c: { expiry: IsoDate }) => c.expiry < asOf && c.expiry > since;
  let guaranteed = 0;
  for (const g of file.guarantees) {
    const base = {
      kind: 'guarantee',
      id: g.guaranteeId,
      by: g.issuer,
      currency: g.currency,
      expiry: g.expiry,
    } as const;
    if (!valid(g, asOf)) {
      if (ended(g)) lines.push({ ...base, counted: 0, status: 'expired' });
    } else if (g.currency !== file.currency) {
      lines.push({ ...base, counted: 0, status: 'otherCurrency' });
    } else {
      guaranteed += g.amount;
      lines.push({ ...base, counted: g.amount, status: 'counted' });
    }
  }
  const beyond =
    file.insurance.length > 0 ? overdueBeyond(r, file.currency, asOf, policy.limit.insurerExtensionDays) : 0;
  const insurable = Math.max(0, receivable - beyond);
  let insured = 0;
  for (const c of file.insurance) {
    const base = {
      kind: 'insurance',
      id: c.policyId,
      by: c.insurer,
      currency: c.currency,
      expiry: c.expiry,
      shareBp: c.insuredShareBp,
      cap: c.cap,
    } as const;
    if (!valid(c, asOf)) {
      if (ended(c)) lines.push({ ...base, counted: 0, status: 'expired' });
    } else if (c.currency !== file.currency) {
      lines.push({ ...base, counted: 0, status: 'otherCurrency' });
    } else {
      const share = Math.floor((insurable * c.insuredShareBp) / 10_000);
      const counted = Math.min(c.cap, share);
      insured += counted;
      lines.push({
        ...base,
        insurable,
        counted,
        status: insurable === 0 ? 'nothingInsurable' : counted < share ? 'capped' : 'counted',
      });
    }
  }
  return { lines, guaranteed, insured, overdueBeyondExtension: beyond };
}

/** The open amount in the credit currency of the items more than `days` past due as of the date. */
function overdueBeyond(r: Receivables, currency: string, asOf: IsoDate, days: number): number {
  const dueBefore = addDays(asOf, -days);
  let sum = 0;
  for (let i = 0; i < r.invoices.length; i++) {
    const inv = r.invoices[i] as Invoice;
    const open = r.open[i] as number;
    if (open > 0 && inv.dueDate < dueBefore && inv.currency === currency) sum += open;
  }
  return sum;
}

// ---- the scorecard ----

/** Every factor a scorecard can have: the numeric ones, industry risk, and the deduction for broken promises. */
export type ScoredFactor = NumericFactor | 'industryRisk' | 'brokenPromises';

/**
 * One factor as scored: numbers and codes only. The words a person reads (`reason`) are made by
 * `explainFactor` where they are read or stored, not for every customer of every evaluation.
 */
export interface FactorScore {
  readonly factor: ScoredFactor;
  /** The figure scored (undefined when it could not be computed). */
  readonly value: number | string | undefined;
  /** 0 or less for a factor that only takes points off (brokenPromises), whose maxPoints is 0. */
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

const CODE: Record<ScoredFactor, string> = {
  meanDaysLate: 'MEAN_DAYS_LATE',
  weightedDaysLate: 'WEIGHTED_DAYS_LATE',
  sharePaidLate: 'SHARE_PAID_LATE',
  maxDaysPastDue: 'MAX_DAYS_PAST_DUE',
  overdueShare: 'OVERDUE_SHARE',
  exposureToSales: 'EXPOSURE_TO_SALES',
  currentRatio: 'CURRENT_RATIO',
  quickRatio: 'QUICK_RATIO',
  debtRatio: 'DEBT_RATIO',
  altmanZ2: 'ALTMAN_Z2',
  historyMonths: 'HISTORY_MONTHS',
  externalScore: 'EXTERNAL_SCORE',
  cover: 'COVER',
  industryRisk: 'INDUSTRY_RISK',
  brokenPromises: 'BROKEN_PROMISES',
};

const LABEL: Record<ScoredFactor, string> = {
  meanDaysLate: 'mean days late',
  weightedDaysLate: 'amount-weighted days late',
  sharePaidLate: 'share of invoices paid late',
  maxDaysPastDue: 'days past due of the oldest open item',
  overdueShare: 'overdue share of the open amount',
  exposureToSales: 'exposure in months of sales',
  currentRatio: 'current ratio',
  quickRatio: 'quick ratio',
  debtRatio: 'debt ratio',
  altmanZ2: "Altman Z''",
  historyMonths: 'months of history',
  externalScore: 'external score (0-100)',
  cover: 'guarantee and insurance cover of the exposure',
  industryRisk: 'industry risk',
  brokenPromises: 'promises to pay broken or kept only in part',
};

/** Shares are shown as percentages, days and months whole, ratios with two decimals, counts whole. */
function show(f: NumericFactor | 'brokenPromises', v: number): string {
  if (f === 'sharePaidLate' || f === 'overdueShare' || f === 'cover') return `${(v * 100).toFixed(1)}%`;
  if (f === 'exposureToSales') return `${v.toFixed(1)} months`;
  if (f === 'meanDaysLate' || f === 'weightedDaysLate') return `${v.toFixed(1)} days`;
  if (f === 'maxDaysPastDue') return `${v} days`;
  if (f === 'historyMonths') return `${v} months`;
  if (f === 'externalScore' || f === 'brokenPromises') return v.toFixed(0);
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
    case 'exposureToSales':
      return x.exposureToSales ?? NO_SALES;
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
const NO_SALES = 'nothing invoiced in the sales window';

function codeNumber(v: number): string {
  return String(v).replace('-', 'MINUS_').replace('.', '_');
}

type Band = { min?: number | undefined; max?: number | undefined; points: number };

/** A band in one shape with both bounds (infinite when open), its reason code and words. */
interface CompiledBand {
  readonly upTo: number;
  readonly from: number;
  readonly points: number;
  readonly code: string;
  readonly text: string;
}

/** A numeric factor of a policy, ready to score: its bands with their reason codes and words. */
interface CompiledFactor {
  readonly factor: NumericFactor;
  readonly maxPoints: number;
  readonly neutralPoints: number;
  readonly notComputableCode: string;
  readonly bands: readonly CompiledBand[];
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
  /** The deduction for broken promises: bands of 0 or fewer points. */
  readonly brokenPromises: readonly CompiledBand[] | undefined;
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
      bands: spec.bands.map((b) => compileBand(f, b)),
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
    brokenPromises: factors.brokenPromises?.bands.map((b) => compileBand('brokenPromises', b)),
    caps,
  };
  COMPILED.set(policy, c);
  return c;
}

/** Every band in one shape with both bounds (infinite when open): one comparison each. */
function compileBand(f: NumericFactor | 'brokenPromises', b: Band): CompiledBand {
  return {
    // "at most max" when max is given, else "at least min", else anything.
    upTo: b.max ?? Number.POSITIVE_INFINITY,
    from: b.max === undefined ? (b.min ?? Number.NEGATIVE_INFINITY) : Number.NEGATIVE_INFINITY,
    points: b.points,
    ...bandWords(f, b),
  };
}

/** The first band the figure falls in (the schema guarantees a catch-all last band). */
function bandOf(bands: readonly CompiledBand[], v: number): CompiledBand {
  const at = atThreshold(v);
  for (const band of bands) if (at <= band.upTo && at >= band.from) return band;
  return bands[bands.length - 1] as CompiledBand;
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
    const b = bandOf(spec.bands, v);
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
  // Scored only for a customer that made a promise by the date: one that never did is scored, and
  // its factors listed, exactly as before the factor existed. It adds nothing to the points
  // available (maxPoints 0), so a clean record leaves the score as it was and a broken one takes
  // the band's points off.
  const broken = x.brokenPromises;
  if (card.brokenPromises && broken !== undefined) {
    const b = bandOf(card.brokenPromises, broken);
    out.push({
      factor: 'brokenPromises',
      value: broken,
      points: b.points,
      maxPoints: 0,
      code: b.code,
      detail: b.text,
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

/** A band's reason code and words; a deduction's words say what it takes off. */
function bandWords(f: NumericFactor | 'brokenPromises', b: Band): { code: string; text: string } {
  const words =
    b.max !== undefined
      ? { code: `${CODE[f]}_LE_${codeNumber(b.max)}`, text: `at most ${show(f, b.max)}` }
      : b.min !== undefined
        ? { code: `${CODE[f]}_GE_${codeNumber(b.min)}`, text: `at least ${show(f, b.min)}` }
        : { code: `${CODE[f]}_OTHER`, text: 'outside every better band' };
  if (f !== 'brokenPromises') return words;
  const off = -b.points;
  return {
    code: words.code,
    text: `${words.text}, ${off === 0 ? 'nothing taken off' : `${off} point${off === 1 ? '' : 's'} taken off`}`,
  };
}

/**
 * A factor's points as a person reads them: "8/10", or "-5" for a factor that only takes points
 * off (it has no points of its own to give, so "/0" would say nothing).
 */
export const pointsText = (points: number, maxPoints: number): string =>
  maxPoints > 0 ? `${points}/${maxPoints}` : String(points);

/**
 * How much of its points a factor earned, to list the weakest first: points / maxPoints, and for a
 * factor that only takes points off, below every other when it took some (-1), as a full factor
 * when it took none (1).
 */
export const pointsShare = (f: { readonly points: number; readonly maxPoints: number }): number =>
  f.maxPoints > 0 ? f.points / f.maxPoints : f.points < 0 ? -1 : 1;

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
  // Broken promises can take more off than a weak file earned: the score stays in 0-100.
  const score = max > 0 ? Math.max(0, Math.round((100 * got) / max)) : 0;
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
  /**
   * The formula's limit. It never reads the limit it would replace (DOMAIN "Decision rules": no
   * loop through limit use), so applying it and recommending again on the same data gives it
   * again. Undefined when nothing was invoiced in the sales window: no sales, no recommendation.
   */
  readonly recommended: number | undefined;
  /**
   * RAISE or CUT (the formula against the current limit), KEEP (within `keepWithin` of it), NEW (no
   * limit on file), NONE (no recommendation). What a review does with it is `decideLimit`'s.
   */
  readonly change: 'RAISE' | 'CUT' | 'KEEP' | 'NEW' | 'NONE';
  /** Fewer months of sales history than the policy's minimum: the recommendation never cuts on its own. */
  readonly thinHistory: boolean;
  /** How the figure was built, step by step, in minor units of `currency`: `explainLimit` says it in words. */
  readonly formula: LimitFormula;
}

export interface LimitFormula {
  readonly rating: Rating;
  /** Credit sales in the window, the months they are averaged over and the average (0 without sales). */
  readonly salesInWindow: number;
  readonly salesMonths: number;
  readonly monthlySales: number;
  /** The policy's window and minimum history, in months. */
  readonly windowMonths: number;
  readonly minHistoryMonths: number;
  /** The payment terms the limit carries, in days. */
  readonly termsDays: number;
  /** The rating's months of sales on top of the terms (0: no unsecured credit). */
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
  /** Each guarantee and insurance policy: what it counts for, or why nothing. */
  readonly cover: readonly CoverLine[];
  /** Left out of the insured exposure: overdue beyond the insurer's extension period (days). */
  readonly overdueBeyondExtension: number;
  readonly extensionDays: number;
  /** Approved transfers left out because they are in another currency. */
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
 * limit = min(average monthly credit sales x (payment terms in months + the rating's months),
 *             the policy's share of the latest annual revenue, the rating's cap in the currency)
 *         + guarantees in force + the insured share of the insurable receivables (each insurer's cap applies),
 * rounded down to the policy's significant digits. The average is taken over the months observed
 * (from the first invoice, at most the policy's window); a rating with 0 months gets no unsecured
 * credit; nothing invoiced in the window gives no recommendation. It never reads the current limit,
 * which only decides whether the figure is a change (beyond `keepWithin`) or not.
 */
export function recommendLimit(x: Figures, rating: Rating, policy: Policy): LimitRecommendation {
  const p = policy.limit;
  const ccy = x.currency;
  const months = p.monthsOfSales[rating];
  const monthlySales = x.monthlySales ?? 0;
  const bySales = months > 0 ? Math.floor(monthlySales * (x.termsDays / 30 + months)) : 0;
  let base = bySales;
  let byRevenue: LimitFormula['byRevenue'];
  const st = x.latestRevenue;
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
  const rounded = roundToSignificant(total, ccy, p.significantDigits, Math.floor);
  const current = x.creditLimit;
  const recommended = x.monthlySales === undefined ? undefined : rounded;
  return {
    currency: ccy,
    current,
    recommended,
    change: limitChange(recommended, current, p.keepWithin),
    thinHistory: recommended !== undefined && x.salesMonths < p.minHistoryMonths,
    formula: {
      rating,
      salesInWindow: x.salesInWindow,
      salesMonths: x.salesMonths,
      monthlySales,
      windowMonths: p.salesWindowMonths,
      minHistoryMonths: p.minHistoryMonths,
      termsDays: x.termsDays,
      months,
      bySales,
      byRevenue,
      ratingCap,
      guaranteed: x.guaranteed,
      insured: x.insured,
      cover: x.cover,
      overdueBeyondExtension: x.overdueBeyondExtension,
      extensionDays: p.insurerExtensionDays,
      uncounted: x.uncounted,
      total,
      rounded,
      significantDigits: p.significantDigits,
      keepWithin: p.keepWithin,
    },
  };
}

function limitChange(
  recommended: number | undefined,
  current: number | undefined,
  keepWithin: number,
): LimitRecommendation['change'] {
  if (recommended === undefined) return 'NONE';
  if (current === undefined) return 'NEW';
  if (current > 0 && Math.abs(recommended - current) <= current * keepWithin) return 'KEEP';
  return recommended > current ? 'RAISE' : recommended < current ? 'CUT' : 'KEEP';
}

/**
 * An amount rounded to `digits` significant digits of major units, down (`Math.floor`: 48,321.55
 * -> 48,000.00 at two) or up (`Math.ceil`: 71,817.73 -> 72,000.00).
 */
export function roundToSignificant(
  amount: number,
  currency: string,
  digits: number,
  direction: (v: number) => number,
): number {
  const unit = 10 ** (minorDigits(currency) ?? 2);
  const major = direction === Math.ceil ? Math.ceil(amount / unit) : Math.floor(amount / unit);
  const step = major > 0 ? unit * 10 ** Math.max(0, digitsOf(major) - digits) : unit;
  return direction(amount / step) * step;
}

/** Decimal digits of a positive integer. */
function digitsOf(n: number): number {
  let d = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) d++;
  return d;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One cover line in words: what it counts for, or why nothing. */
function coverWords(c: CoverLine, f: LimitFormula, m: (v: number) => string, ccy: string): string {
  const what = `${c.kind} ${c.id} (${c.by})`;
  switch (c.status) {
    case 'counted':
    case 'capped': {
      if (c.kind === 'guarantee') return `+ ${m(c.counted)} ${what}, in force until ${c.expiry}`;
      const left =
        f.overdueBeyondExtension > 0
          ? ` (what is owed less ${m(f.overdueBeyondExtension)} more than ${f.extensionDays} days past due, which no insurer pays)`
          : '';
      const capped = c.status === 'capped' ? `, capped at the insurer's cap of ${m(c.cap ?? 0)}` : '';
      return `+ ${m(c.counted)} ${what}: ${((c.shareBp ?? 0) / 100).toFixed(0)}% of the insurable receivables ${m(c.insurable ?? 0)}${left}${capped}, in force until ${c.expiry}`;
    }
    case 'nothingInsurable':
      return f.overdueBeyondExtension > 0
        ? `${what} counts nothing: everything owed is more than ${f.extensionDays} days past due, which no insurer pays`
        : `${what} counts nothing: nothing is owed that it would insure`;
    case 'expired':
      return `not counted: ${what} expired on ${c.expiry}`;
    case 'otherCurrency':
      return `not counted: ${what} is in ${c.currency}, not ${ccy}`;
  }
}

/** The recommendation's basis and reason in words. */
export function explainLimit(l: LimitRecommendation): ExplainedLimit {
  const f = l.formula;
  const ccy = l.currency;
  const m = (v: number) => formatMoney(v, ccy);
  const current = l.current;
  if (l.recommended === undefined) {
    const none = `nothing invoiced in the last ${plural(f.windowMonths, 'month')}: no sales, so no recommendation`;
    return {
      ...l,
      basis: [none],
      reason:
        current === undefined ? `no limit on file; ${none}` : `the limit of ${m(current)} stays; ${none}`,
    };
  }
  const over =
    f.salesMonths < f.windowMonths
      ? `${plural(f.salesMonths, 'month')} since the first invoice`
      : `the last ${plural(f.salesMonths, 'month')}`;
  const sales = `${m(f.monthlySales)} average monthly sales (${m(f.salesInWindow)} over ${over})`;
  const basis = [
    f.months > 0
      ? `${sales} x ${Number((f.termsDays / 30 + f.months).toFixed(2))} months (${f.termsDays} days of payment terms + ${f.months} months for rating ${f.rating}) = ${m(f.bySales)}`
      : `${sales}; rating ${f.rating} allows no unsecured credit (0 months of sales): ${m(0)}`,
  ];
  if (l.thinHistory)
    basis.push(
      `thin history: ${plural(f.salesMonths, 'month')} of sales, fewer than the policy's ${f.minHistoryMonths}: this recommendation never cuts a limit on its own`,
    );
  if (f.byRevenue)
    basis.push(
      `capped at ${f.byRevenue.share * 100}% of revenue ${m(f.byRevenue.revenue)} (${f.byRevenue.periodEnd}) = ${m(f.byRevenue.amount)}`,
    );
  if (f.ratingCap !== undefined) basis.push(`capped at the rating ${f.rating} cap of ${m(f.ratingCap)}`);
  for (const c of f.cover) basis.push(coverWords(c, f, m, ccy));
  for (const u of f.uncounted) basis.push(`not counted: ${u}, not ${ccy}`);
  if (f.rounded !== f.total) basis.push(`rounded down to ${f.significantDigits} significant digits`);
  const thin = l.thinHistory ? ' (thin history)' : '';
  const reason =
    current === undefined
      ? `no limit on file; the formula gives ${m(l.recommended)}${thin}`
      : l.change === 'KEEP'
        ? `keep ${m(current)}: the formula gives ${m(l.recommended)}, within ${f.keepWithin * 100}% of it${thin}`
        : `the formula gives ${m(l.recommended)}, ${l.change === 'RAISE' ? 'above' : 'below'} the current ${m(current)}${thin}: rating ${f.rating}, ${basis.join('; ')}`;
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
