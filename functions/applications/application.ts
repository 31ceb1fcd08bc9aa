import * as z from 'zod';
import { isCurrency, minorDigits } from '../core/currencies.ts';
import { type IsoDate, isoDateOrNull } from '../core/dates.ts';
import { formatMoney, parseMinorUnits } from '../core/money.ts';
import type { Customer, ExternalScore, FinancialStatement } from '../core/records.ts';
import {
  assess,
  type CreditFile,
  explainFactor,
  type FactorResult,
  roundToSignificant,
} from '../credit/assess.ts';
import { type Policy, RATINGS, type Rating, type RiskClass } from '../credit/policy.ts';

/**
 * A credit application (DOMAIN 10, 客户筛选 customer screening; README "Credit applications"): a
 * customer not yet on file, or on file without a limit, asks for credit with its company data,
 * financial statements, an agency score, trade references and the legal disputes on record. The
 * scorecard of the daily evaluation (functions/credit/assess.ts) rates it with what it has, says
 * what is missing, and recommends an initial limit; people decide it on the approval chain.
 */

export const APPLICATION_STATES = ['pending', 'approved', 'rejected', 'withdrawn'] as const;
export type ApplicationState = (typeof APPLICATION_STATES)[number];

/** A trade reference: a supplier that sells to the applicant on credit. */
export interface TradeReference {
  readonly name: string;
  readonly contact?: string | undefined;
  /** Years the supplier has sold to the applicant. */
  readonly years?: number | undefined;
  /** The credit the supplier gives, minor units of the application's currency. */
  readonly creditLimit?: number | undefined;
  /** Whether the supplier says it pays on time. */
  readonly paysOnTime?: boolean | undefined;
  readonly note?: string | undefined;
}

/** A legal dispute on record (court case, enforcement, insolvency filing). */
export interface LegalDispute {
  readonly date: IsoDate;
  readonly description: string;
  readonly state: 'open' | 'closed';
  /** Minor units of the application's currency. */
  readonly amount?: number | undefined;
}

/** What the scorecard made of the application on the day it was filed. */
export interface ApplicationRating {
  readonly asOf: IsoDate;
  readonly policyId: string;
  readonly score: number;
  readonly rating: Rating;
  readonly riskClass: RiskClass;
  readonly factors: readonly FactorResult[];
  /** What the application lacks, and what that does to the rating or the limit, in words. */
  readonly missing: readonly string[];
  /** What approvers should know beyond the score: open legal disputes, references that say late. */
  readonly flags: readonly string[];
  /** The recommended initial limit, minor units of the application's currency. */
  readonly initialLimit: number;
  /** How the initial limit was built, step by step. */
  readonly basis: readonly string[];
}

export interface CreditApplication {
  /** `APP-<customer>-<n>`: the customer's n-th application. */
  readonly applicationId: string;
  readonly customerId: string;
  readonly name: string;
  /** ISO 3166 alpha-2. */
  readonly country: string;
  /** The credit currency asked for. */
  readonly currency: string;
  readonly registrationNo: string;
  readonly industry?: string | undefined;
  readonly paymentTermsDays?: number | undefined;
  readonly requestedLimit: number;
  readonly financials: readonly FinancialStatement[];
  readonly score?: ExternalScore | undefined;
  readonly tradeReferences: readonly TradeReference[];
  readonly legalDisputes: readonly LegalDispute[];
  readonly filedBy: string;
  /** ISO instant, and the finance team's day. */
  readonly filedAt: string;
  readonly filedOn: IsoDate;
  readonly state: ApplicationState;
  /** Moves on every write; each write is conditional on the version read. */
  readonly version: number;
  readonly rating: ApplicationRating;
  /** Whether the customer had master data when it was filed (then the approval only sets the limit). */
  readonly onFile: boolean;
  /** The approval request that carries it. */
  readonly transferId?: string | undefined;
  /** When and by whom it left `pending`, and why. */
  readonly decidedAt?: string | undefined;
  readonly decidedBy?: string | undefined;
  readonly outcome?: string | undefined;
  /** The limit set on approval. */
  readonly approvedLimit?: number | undefined;
}

// ---- the input ----

const text = (max: number) =>
  z.string().trim().min(1, 'is required').max(max, `must be at most ${max} characters`);
const optionalText = (max: number) =>
  z.string().trim().max(max, `must be at most ${max} characters`).optional();
const date = z
  .string()
  .trim()
  .refine((s) => isoDateOrNull(s) !== null, 'is not a date (YYYY-MM-DD)');
/** Decimal text in major units ("12500.00"), or a number; parsed once the currency is known. */
const amountText = z.union([z.string(), z.number()]).transform((v) => String(v).trim());
/** A count or score written as a JSON number or as decimal text ("72"), as the amounts may be. */
const numeric = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v), schema);

const FIGURES = [
  'revenue',
  'currentAssets',
  'currentLiabilities',
  'inventory',
  'totalAssets',
  'totalLiabilities',
  'retainedEarnings',
  'ebit',
  'equity',
] as const;

const statementInput = z.strictObject({
  periodEnd: date,
  /** @default the application's currency */
  currency: z.string().trim().toUpperCase().refine(isCurrency, 'is not an ISO 4217 currency code').optional(),
  ...Object.fromEntries(FIGURES.map((f) => [f, amountText.optional()])),
}) as z.ZodType<{ periodEnd: string; currency?: string } & Partial<Record<(typeof FIGURES)[number], string>>>;

/** The fields of an application in the order a form shows them (and a 400 answer lists their problems). */
export const APPLICATION_FIELDS = [
  'customerId',
  'name',
  'country',
  'currency',
  'registrationNo',
  'industry',
  'paymentTermsDays',
  'requestedLimit',
  'financials',
  'score',
  'tradeReferences',
  'legalDisputes',
  'filedBy',
] as const;

export const applicationInput = z.strictObject({
  customerId: text(64).refine((s) => /^[\w.-]+$/.test(s), 'must be letters, digits, "_", "." or "-"'),
  name: text(140),
  country: z
    .string()
    .trim()
    .toUpperCase()
    .refine((s) => /^[A-Z]{2}$/.test(s), 'is not an ISO 3166 country code (two letters)'),
  currency: z.string().trim().toUpperCase().refine(isCurrency, 'is not an ISO 4217 currency code'),
  registrationNo: text(64),
  industry: optionalText(64),
  paymentTermsDays: numeric(
    z
      .number({ error: 'must be a whole number of days' })
      .int('must be a whole number of days')
      .min(0, 'must not be negative')
      .max(365, 'must be at most 365 days'),
  ).optional(),
  requestedLimit: amountText,
  financials: z.array(statementInput).max(10, 'at most 10 statements').default([]),
  score: z
    .strictObject({
      agency: text(64),
      date,
      score: numeric(z.number({ error: 'must be a number' }).min(0, 'must not be negative')),
      scaleMax: numeric(z.number({ error: 'must be a number' }).positive('must be greater than zero')),
    })
    .refine((s) => s.score <= s.scaleMax, { message: 'is above scaleMax', path: ['score'] })
    .optional(),
  tradeReferences: z
    .array(
      z.strictObject({
        name: text(140),
        contact: optionalText(140),
        years: numeric(z.number({ error: 'must be a number' }).min(0, 'must not be negative')).optional(),
        creditLimit: amountText.optional(),
        paysOnTime: z.boolean({ error: 'must be true or false' }).optional(),
        note: optionalText(500),
      }),
    )
    .max(20, 'at most 20 references')
    .default([]),
  legalDisputes: z
    .array(
      z.strictObject({
        date,
        description: text(500),
        state: z.enum(['open', 'closed'], { error: 'must be open or closed' }),
        amount: amountText.optional(),
      }),
    )
    .max(50, 'at most 50 disputes')
    .default([]),
  filedBy: text(64),
});

export interface ApplicationIssue {
  readonly field: string;
  readonly message: string;
}

/** A valid application as filed: amounts in minor units of its currency. */
export type ApplicationFiling = Pick<
  CreditApplication,
  | 'customerId'
  | 'name'
  | 'country'
  | 'currency'
  | 'registrationNo'
  | 'industry'
  | 'paymentTermsDays'
  | 'requestedLimit'
  | 'financials'
  | 'score'
  | 'tradeReferences'
  | 'legalDisputes'
  | 'filedBy'
>;

/** Problems in the order of the form's fields (nested ones under their field). */
export function byFieldOrder(issues: readonly ApplicationIssue[]): ApplicationIssue[] {
  const at = (f: string) => {
    const i = APPLICATION_FIELDS.indexOf(f.split('.')[0] as (typeof APPLICATION_FIELDS)[number]);
    return i < 0 ? APPLICATION_FIELDS.length : i;
  };
  return issues
    .map((x, i) => ({ x, i }))
    .sort((p, q) => at(p.x.field) - at(q.x.field) || p.i - q.i)
    .map((p) => p.x);
}

/**
 * Validates an application; every problem names its field (`financials.0.revenue`), all at once
 * (what a 400 answer lists). Amounts are decimal text in major units of the application's currency.
 */
export function parseApplication(
  input: unknown,
): { ok: true; filing: ApplicationFiling } | { ok: false; issues: ApplicationIssue[] } {
  const r = applicationInput.safeParse(input);
  const issues: ApplicationIssue[] = r.success
    ? []
    : r.error.issues.map((i) => ({
        field: i.path.map(String).join('.') || '(body)',
        message:
          i.code === 'invalid_type' && /received undefined/.test(i.message) ? 'is required' : i.message,
      }));
  // The amounts need the currency: checked whenever it passed, so one answer names every bad field.
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const ccy = typeof raw.currency === 'string' ? raw.currency.trim().toUpperCase() : '';
  const digits = isCurrency(ccy) ? (minorDigits(ccy) ?? 2) : undefined;
  const failed = new Set(issues.map((i) => i.field));
  const money = (
    field: string,
    v: unknown,
    opts: { required?: boolean; positive?: boolean; negative?: boolean; currency?: string },
  ): number | undefined => {
    if (failed.has(field)) return undefined;
    const given = v !== undefined && v !== null && String(v).trim() !== '';
    if (!given) {
      if (opts.required) issues.push({ field, message: `is required (${ccy || 'the currency'})` });
      return undefined;
    }
    const d = opts.currency ? (minorDigits(opts.currency) ?? 2) : digits;
    if (d === undefined) return undefined; // the currency is bad: said there
    const p = parseMinorUnits(String(v).trim(), d, { decimal: '.', thousands: '' });
    if (!p.ok) {
      issues.push({ field, message: `${p.reason} (${opts.currency ?? ccy})` });
      return undefined;
    }
    if (opts.positive && p.value <= 0) issues.push({ field, message: 'must be greater than zero' });
    else if (!opts.negative && p.value < 0) issues.push({ field, message: 'must not be negative' });
    return p.value;
  };
  const requestedLimit = money('requestedLimit', raw.requestedLimit, { required: true, positive: true });
  const statements = Array.isArray(raw.financials) ? (raw.financials as Record<string, unknown>[]) : [];
  const financials: FinancialStatement[] = statements.map((s, i) => {
    const sc =
      typeof s?.currency === 'string' && isCurrency(s.currency.trim().toUpperCase())
        ? s.currency.trim().toUpperCase()
        : ccy;
    const row: Record<string, unknown> = {
      customerId: typeof raw.customerId === 'string' ? raw.customerId.trim() : '',
      periodEnd: typeof s?.periodEnd === 'string' ? s.periodEnd.trim() : '',
      currency: sc,
    };
    for (const f of FIGURES)
      row[f] = money(`financials.${i}.${f}`, s?.[f], {
        negative: f === 'retainedEarnings' || f === 'ebit' || f === 'equity',
        currency: isCurrency(sc) ? sc : undefined,
      });
    return row as unknown as FinancialStatement;
  });
  const refs = Array.isArray(raw.tradeReferences) ? (raw.tradeReferences as Record<string, unknown>[]) : [];
  const refLimits = refs.map((t, i) => money(`tradeReferences.${i}.creditLimit`, t?.creditLimit, {}));
  const disputes = Array.isArray(raw.legalDisputes) ? (raw.legalDisputes as Record<string, unknown>[]) : [];
  const disputeAmounts = disputes.map((d, i) => money(`legalDisputes.${i}.amount`, d?.amount, {}));
  if (!r.success || issues.length > 0) return { ok: false, issues: byFieldOrder(issues) };
  const v = r.data;
  return {
    ok: true,
    filing: {
      customerId: v.customerId,
      name: v.name,
      country: v.country,
      currency: v.currency,
      registrationNo: v.registrationNo,
      industry: v.industry || undefined,
      paymentTermsDays: v.paymentTermsDays,
      requestedLimit: requestedLimit as number,
      financials,
      score: v.score && { customerId: v.customerId, ...v.score },
      tradeReferences: v.tradeReferences.map((t, i) => ({
        name: t.name,
        contact: t.contact || undefined,
        years: t.years,
        creditLimit: refLimits[i],
        paysOnTime: t.paysOnTime,
        note: t.note || undefined,
      })),
      legalDisputes: v.legalDisputes.map((d, i) => ({
        date: d.date,
        description: d.description,
        state: d.state,
        amount: disputeAmounts[i],
      })),
      filedBy: v.filedBy,
    },
  };
}

// ---- the rating ----

const LIQUIDITY = ['currentRatio', 'quickRatio', 'debtRatio', 'altmanZ2'] as const;
const BEHAVIOUR = ['meanDaysLate', 'weightedDaysLate', 'sharePaidLate', 'exposureToSales'] as const;

/**
 * Rates an application with the scorecard of the daily evaluation: a credit file made of what it
 * brings (master data without a limit, its statements and agency score, no invoices or payments),
 * assessed as of the day it is filed. Nothing is invented: what it lacks scores as the policy's
 * neutral points (or the band of zero history), and `missing` says so.
 *
 * The initial limit is the review's formula with the request standing in for the sales it cannot
 * have yet: min(requested limit, the policy's share of the latest annual revenue, the rating's cap
 * in the currency), 0 for a rating with no months of sales (no unsecured credit), rounded down to
 * the policy's significant digits. The cover term is 0: a new customer brings no guarantee yet.
 * An application with neither financial statements nor an agency score gets 0: nothing it brings
 * says it can pay.
 */
export function rateApplication(
  f: Omit<ApplicationFiling, 'filedBy'>,
  asOf: IsoDate,
  policy: Policy,
): ApplicationRating {
  const customer: Customer = {
    customerId: f.customerId,
    name: f.name,
    country: f.country,
    industry: f.industry,
    currency: f.currency,
    paymentTermsDays: f.paymentTermsDays,
    registrationNo: f.registrationNo,
  };
  const file: CreditFile = {
    customerId: f.customerId,
    customer,
    currency: f.currency,
    invoices: [],
    payments: [],
    financials: f.financials,
    guarantees: [],
    insurance: [],
    scores: f.score ? [f.score] : [],
  };
  const a = assess(file, asOf, policy);
  const x = a.figures;
  const ccy = f.currency;
  const m = (v: number) => formatMoney(v, ccy);
  const factors = a.factors.map(explainFactor);
  const scored = (names: readonly string[]) =>
    factors.filter((g) => names.includes(g.factor) && g.value === undefined);

  const missing: string[] = [];
  const stated = f.financials.filter((s) => s.periodEnd <= asOf);
  if (stated.length === 0)
    missing.push(
      `no financial statements: the liquidity factors (current ratio, quick ratio, debt ratio, Altman Z'') score as unknown, ${pointsOf(scored(LIQUIDITY))}`,
    );
  else {
    const unknown = scored(LIQUIDITY);
    for (const g of unknown) missing.push(`${g.reason}`);
  }
  if (!x.externalScore) {
    const g = factors.find((h) => h.factor === 'externalScore');
    missing.push(`no agency score: the external score scores as unknown${g ? `, ${pointsOf([g])}` : ''}`);
  }
  if (!f.industry) {
    const g = factors.find((h) => h.factor === 'industryRisk');
    missing.push(
      `no industry: industry risk scores as unknown${g ? `, ${g.points} of ${g.maxPoints} points` : ''}`,
    );
  } else {
    const g = factors.find((h) => h.factor === 'industryRisk');
    if (g?.detail === 'unclassed') missing.push(`${g.reason}: it scores as unclassed`);
  }
  missing.push(
    `no payment history (a new account): the payment-behaviour factors score as unknown, ${pointsOf(scored(BEHAVIOUR))}; nothing is owed, so days past due and the overdue share score in full, and 0 months of history scores the lowest band`,
  );
  if (x.latestRevenue === undefined || x.latestRevenue.currency !== ccy)
    missing.push(
      x.latestRevenue === undefined
        ? 'no revenue stated: the limit is not capped by a share of revenue'
        : `the latest revenue is in ${x.latestRevenue.currency}, not ${ccy}: the limit is not capped by a share of revenue`,
    );

  const flags: string[] = [];
  const open = f.legalDisputes.filter((d) => d.state === 'open');
  if (open.length > 0)
    flags.push(
      `${open.length} open legal dispute${open.length === 1 ? '' : 's'} on record: ${open
        .map((d) => `${d.date} ${d.description}${d.amount !== undefined ? ` (${m(d.amount)})` : ''}`)
        .join('; ')}`,
    );
  const closed = f.legalDisputes.length - open.length;
  if (closed > 0) flags.push(`${closed} closed legal dispute${closed === 1 ? '' : 's'} on record`);
  if (f.tradeReferences.length === 0) flags.push('no trade references');
  const late = f.tradeReferences.filter((t) => t.paysOnTime === false);
  if (late.length > 0)
    flags.push(
      `trade reference${late.length === 1 ? '' : 's'} saying it pays late: ${late.map((t) => t.name).join(', ')}`,
    );

  // The limit: the formula with the request in place of the sales term.
  const p = policy.limit;
  const months = p.monthsOfSales[a.rating];
  const basis: string[] = [];
  let base = f.requestedLimit;
  // Neither statements nor an agency score: the rating rests on neutral points and an account
  // that owes nothing yet, which is no evidence of ability to pay (DOMAIN 客户筛选).
  const blind = stated.length === 0 && !x.externalScore;
  if (blind) {
    base = 0;
    basis.push(
      `nothing to rate the customer on (no financial statements, no agency score): no unsecured credit until one is filed, ${m(0)}; it ships against prepayment or a guarantee`,
    );
  } else if (months <= 0) {
    base = 0;
    basis.push(`rating ${a.rating} allows no unsecured credit (0 months of sales): ${m(0)}`);
  } else {
    basis.push(`no sales history yet: the requested ${m(f.requestedLimit)} stands in for the sales term`);
    const st = x.latestRevenue;
    if (st?.revenue !== undefined && st.revenue > 0 && st.currency === ccy) {
      const amount = Math.floor(st.revenue * p.maxShareOfRevenue);
      if (amount < base) {
        base = amount;
        basis.push(
          `capped at ${p.maxShareOfRevenue * 100}% of revenue ${m(st.revenue)} (${st.periodEnd}) = ${m(amount)}`,
        );
      }
    }
    const cap = ratingCap(policy, ccy, a.rating);
    if (cap !== undefined && cap < base) {
      base = cap;
      basis.push(`capped at the rating ${a.rating} cap of ${m(cap)}`);
    }
  }
  const initialLimit = roundToSignificant(base, ccy, p.significantDigits, Math.floor);
  if (initialLimit !== base)
    basis.push(`rounded down to ${p.significantDigits} significant digits: ${m(initialLimit)}`);
  return {
    asOf,
    policyId: policy.id,
    score: a.score,
    rating: a.rating,
    riskClass: a.riskClass,
    factors,
    missing,
    flags,
    initialLimit,
    basis,
  };
}

function pointsOf(fs: readonly FactorResult[]): string {
  const got = fs.reduce((s, g) => s + g.points, 0);
  const max = fs.reduce((s, g) => s + g.maxPoints, 0);
  return `neutral points (${got} of ${max})`;
}

/** The rating's cap in the currency (the policy's caps are major-unit decimal text), or none. */
function ratingCap(policy: Policy, currency: string, rating: Rating): number | undefined {
  const byRating = policy.limit.caps[currency];
  const text = byRating?.[rating];
  if (text === undefined || !RATINGS.includes(rating)) return undefined;
  const v = parseMinorUnits(String(text), minorDigits(currency) ?? 2, { decimal: '.', thousands: '' });
  return v.ok ? v.value : undefined;
}

/** One paragraph an approver reads: who asks, for what, how the scorecard rates it, what is missing. */
export function applicationEvidence(a: CreditApplication): string {
  const m = (v: number) => formatMoney(v, a.currency);
  const r = a.rating;
  const parts = [
    `Credit application ${a.applicationId}: ${a.name} (${a.country}, reg. ${a.registrationNo}) asks ${m(a.requestedLimit)}`,
    `scorecard ${r.score} (${r.rating}, ${r.riskClass} risk); recommended initial limit ${m(r.initialLimit)}`,
    ...(r.flags.length > 0 ? [r.flags.join('; ')] : []),
    `missing: ${r.missing.length}`,
  ];
  return parts.join('; ');
}

/** The application's current state in words: what a check's hold and the list say. */
export function pendingWords(a: Pick<CreditApplication, 'filedOn' | 'requestedLimit' | 'currency'>): string {
  return `credit application pending since ${a.filedOn}, asked limit ${formatMoney(a.requestedLimit, a.currency)}`;
}
