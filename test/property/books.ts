import fc from 'fast-check';
import { addDays, addMonths, fromDayNumber, type IsoDate } from '../../functions/core/dates.ts';
import type {
  ExternalScore,
  FinancialStatement,
  Guarantee,
  InsuranceCover,
  Invoice,
  Payment,
  TransferCommitment,
} from '../../functions/core/records.ts';
import type { Alert, AlertStatus } from '../../functions/credit/alerts.ts';
import { assess, type CreditFile, type PriorAssessment } from '../../functions/credit/assess.ts';
import { ACTIONS, policyInForce, RATINGS, RULES, type Severity } from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * Generated credit files for the decision properties. Each customer has a few to a dozen
 * invoices over up to 24 months before the as-of date (sometimes none, sometimes none in the last
 * year), payment terms of 0-90 days, invoices paid early, late, in part or never (by the
 * customer's habit: prompt, slow or bad), payments on account, a credit limit or none (often near
 * what the formula gives, so reviews cut, raise, keep and ask for approval), bank
 * guarantees and credit insurance valid, expired, not yet valid or in another currency, financial
 * statements, an external score, approved transfers, earlier ratings and alerts of any rule,
 * severity and status, in six currencies (JPY has no minor unit; CHF and JPY have no rating cap
 * and no approval amount in the default policy). Every date is set relative to the as-of date;
 * payments after it have not happened yet and are left out.
 */

export const CURRENCIES = ['EUR', 'USD', 'GBP', 'CNY', 'JPY', 'CHF'] as const;
/** The policy shipped with the product (default-2026.12): the one the properties hold the decisions to. */
export const POLICY = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);

const INDUSTRIES = ['utilities', 'manufacturing', 'retail', 'construction', 'hospitality', 'mining'];
const STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'snoozed', 'resolved'];
const TRANSFER_TYPES = ['refund', 'overpayment_return', 'rebate', 'credit_release'];

/**
 * How a customer pays: days after the due date (from, to), and the shares of invoices never paid
 * and paid in part (%).
 */
type Habit = 'prompt' | 'slow' | 'bad';
const HABITS: Record<Habit, { from: number; to: number; never: number; partly: number }> = {
  prompt: { from: -10, to: 5, never: 2, partly: 2 },
  slow: { from: -5, to: 60, never: 8, partly: 8 },
  bad: { from: 0, to: 200, never: 30, partly: 15 },
};

/** A generated customer: its credit file, its stored alerts (active and resolved) and the as-of date. */
export interface GeneratedFile {
  readonly asOf: IsoDate;
  readonly file: CreditFile;
  readonly alerts: readonly Alert[];
}

/** Mostly `common`, now and then `rare`. */
const mostly = <T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<T>, weight = 4) =>
  fc.oneof({ arbitrary: common, weight }, { arbitrary: rare, weight: 1 });

/** An as-of date from 2024 to 2027, month ends and leap days included by chance. */
export const asOfArb: fc.Arbitrary<IsoDate> = fc
  .integer({ min: 0, max: 4 * 365 })
  .map((d) => fromDayNumber(19_723 + d)); // 19,723 is 2024-01-01

const invoiceSpec = fc.record({
  /** Where in the customer's history it was issued, in thousandths of the span (0: the newest end). */
  at: fc.integer({ min: 0, max: 1000 }),
  terms: fc.integer({ min: 0, max: 90 }),
  /** Its amount as a percentage of the customer's usual invoice. */
  sizePct: fc.integer({ min: 10, max: 300 }),
  disputed: mostly(fc.constant(false), fc.constant(true), 6),
  /** How late it was paid, in thousandths of the customer's habit's range of days. */
  lateness: fc.integer({ min: 0, max: 1000 }),
  /** Against the customer's habit's shares (in %): never paid, paid in part (`sharePct`), or paid. */
  roll: fc.integer({ min: 0, max: 99 }),
  sharePct: fc.integer({ min: 20, max: 99 }),
  referenced: mostly(fc.constant(true), fc.constant(false), 2),
});

/** Days relative to the as-of date that cover starts (maybe unsaid) and how long it runs. */
const validitySpec = fc.record({
  start: fc.integer({ min: -800, max: 60 }),
  days: fc.integer({ min: 1, max: 900 }),
  saysFrom: fc.boolean(),
});

const limitSpec = fc.oneof(
  fc.constant({ kind: 'none' } as const),
  fc.record({
    kind: fc.constant('amount' as const),
    amount: mostly(fc.nat(2_000_000_000), fc.constant(0), 6),
  }),
  fc.record({ kind: fc.constant('sales' as const), pct: fc.integer({ min: 0, max: 70 }) }),
  // Near what the formula gives, so reviews land on every outcome (keep, cut, raise, approvals).
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('formula' as const),
      pct: mostly(fc.integer({ min: 75, max: 125 }), fc.integer({ min: 20, max: 200 }), 2),
    }),
  },
);

const customerSpec = fc.record({
  currency: fc.constantFrom(...CURRENCIES),
  named: mostly(fc.constant(true), fc.constant(false), 12),
  habit: fc.constantFrom<Habit>('prompt', 'prompt', 'prompt', 'slow', 'slow', 'bad'),
  industry: fc.option(fc.constantFrom(...INDUSTRIES), { nil: undefined }),
  terms: fc.option(fc.integer({ min: 0, max: 90 }), { nil: undefined, freq: 4 }),
  /** The usual invoice, minor units: 1-9 times 10^3..10^7. */
  scale: fc
    .tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 3, max: 7 }))
    .map(([m, e]) => m * 10 ** e),
  /** Days from the newest to the oldest invoice, and from the as-of date back to the newest. */
  span: fc.integer({ min: 1, max: 730 }),
  gap: mostly(fc.integer({ min: 0, max: 45 }), fc.integer({ min: 330, max: 520 }), 10),
  invoices: fc.array(invoiceSpec, { maxLength: 12 }),
  onAccount: fc.array(
    fc.record({ back: fc.integer({ min: 0, max: 400 }), sizePct: fc.integer({ min: 5, max: 150 }) }),
    { maxLength: 1 },
  ),
  limit: limitSpec,
  guarantees: fc.array(
    fc.record({
      sizePct: fc.integer({ min: 10, max: 500 }),
      foreign: mostly(fc.constant(false), fc.constant(true)),
      valid: validitySpec,
    }),
    { maxLength: 2 },
  ),
  insurance: fc.array(
    fc.record({
      shareBp: fc.integer({ min: 5000, max: 9500 }),
      capPct: fc.integer({ min: 50, max: 2000 }),
      foreign: mostly(fc.constant(false), fc.constant(true)),
      valid: validitySpec,
    }),
    { maxLength: 2 },
  ),
  statements: fc.uniqueArray(
    fc.record({
      monthsBack: fc.integer({ min: 0, max: 30 }),
      foreign: mostly(fc.constant(false), fc.constant(true), 6),
      /** Annual revenue in months of usual invoices (undefined: not given). */
      revenue: fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined, freq: 5 }),
      assets: fc.integer({ min: 5, max: 500 }),
      currentPct: fc.integer({ min: 5, max: 90 }),
      inventoryPct: fc.integer({ min: 0, max: 60 }),
      debtPct: fc.integer({ min: 10, max: 130 }),
      shortDebtPct: fc.integer({ min: 10, max: 100 }),
      retainedPct: fc.integer({ min: -40, max: 50 }),
      ebitPct: fc.integer({ min: -20, max: 30 }),
    }),
    { maxLength: 2, selector: (s) => s.monthsBack },
  ),
  score: fc.option(
    fc.record({ back: fc.integer({ min: 0, max: 500 }), score: fc.integer({ min: 0, max: 100 }) }),
    {
      nil: undefined,
    },
  ),
  transfers: fc.array(
    fc.record({
      type: fc.constantFrom(...TRANSFER_TYPES),
      sizePct: fc.integer({ min: 5, max: 200 }),
      approvedBack: fc.integer({ min: -10, max: 300 }),
      paidAfter: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
      foreign: mostly(fc.constant(false), fc.constant(true), 6),
    }),
    { maxLength: 1 },
  ),
  /** At most one alert per rule is active, as the store keeps them. */
  alerts: fc.uniqueArray(
    fc.record({
      rule: fc.constantFrom(...RULES),
      severity: mostly(
        fc.constantFrom<Severity>('info', 'warning'),
        fc.constantFrom<Severity>('high', 'critical'),
        3,
      ),
      status: fc.constantFrom(...STATUSES),
      back: fc.integer({ min: 0, max: 60 }),
    }),
    { maxLength: 2, selector: (a) => a.rule },
  ),
  recent: fc.uniqueArray(
    fc.record({ back: fc.integer({ min: 1, max: 80 }), rating: fc.constantFrom(...RATINGS) }),
    { maxLength: 2, selector: (p) => p.back },
  ),
});
type CustomerSpec = typeof customerSpec extends fc.Arbitrary<infer S> ? S : never;

const pct = (v: number, p: number) => Math.max(1, Math.floor((v * p) / 100));

/** Another currency than `ccy` (for cover and statements that do not count). */
const otherThan = (ccy: string) => (ccy === 'EUR' ? 'USD' : 'EUR');

/** The invoices and the payments made against them by the as-of date. */
function booksOf(s: CustomerSpec, id: string, asOf: IsoDate): { invoices: Invoice[]; payments: Payment[] } {
  const invoices: Invoice[] = [];
  const payments: Payment[] = [];
  s.invoices.forEach((v, j) => {
    const back = Math.min(730, s.gap + Math.round((v.at * s.span) / 1000));
    const issueDate = addDays(asOf, -back);
    const dueDate = addDays(issueDate, v.terms);
    const invoiceId = `${id}-I${String(j).padStart(2, '0')}`;
    const amount = pct(s.scale, v.sizePct);
    invoices.push({
      customerId: id,
      invoiceId,
      issueDate,
      dueDate,
      amount,
      currency: s.currency,
      disputed: v.disputed,
    });
    const habit = HABITS[s.habit];
    if (v.roll < habit.never) return;
    // Never before the invoice was issued.
    const late = Math.max(-v.terms, habit.from + Math.round((v.lateness * (habit.to - habit.from)) / 1000));
    const receivedDate = addDays(dueDate, late);
    if (receivedDate > asOf) return; // not paid yet as of the date
    payments.push({
      customerId: id,
      paymentId: `${id}-P${String(j).padStart(2, '0')}`,
      receivedDate,
      amount: v.roll < habit.never + habit.partly ? pct(amount, v.sharePct) : amount,
      currency: s.currency,
      invoiceIds: v.referenced ? [invoiceId] : [],
    });
  });
  for (const [k, p] of s.onAccount.entries())
    payments.push({
      customerId: id,
      paymentId: `${id}-A${k}`,
      receivedDate: addDays(asOf, -p.back),
      amount: pct(s.scale, p.sizePct),
      currency: s.currency,
      invoiceIds: [],
    });
  return { invoices, payments };
}

function validity(v: CustomerSpec['guarantees'][number]['valid'], asOf: IsoDate) {
  return {
    validFrom: v.saysFrom ? addDays(asOf, v.start) : undefined,
    expiry: addDays(asOf, v.start + v.days),
  };
}

/**
 * The limit on file: none, an amount, a share of the invoicing of the year to the as-of date, or
 * a share of what the formula recommends for the file (placed with `assess`, as
 * test/integration/review-book.ts does; the properties never take the formula's word for it).
 */
function limitOf(s: CustomerSpec, file: CreditFile, asOf: IsoDate): number | undefined {
  const l = s.limit;
  if (l.kind === 'none') return undefined;
  if (l.kind === 'amount') return l.amount;
  if (l.kind === 'formula') {
    const recommended = assess(file, asOf, POLICY).limit.recommended ?? s.scale;
    return Math.round((recommended * l.pct) / 100);
  }
  const yearAgo = addMonths(asOf, -12);
  const sales = file.invoices.filter((i) => i.issueDate > yearAgo).reduce((sum, i) => sum + i.amount, 0);
  return Math.floor((sales * l.pct) / 100);
}

function statementOf(s: CustomerSpec, t: CustomerSpec['statements'][number], id: string, asOf: IsoDate) {
  const totalAssets = s.scale * t.assets;
  const currentAssets = pct(totalAssets, t.currentPct);
  const totalLiabilities = pct(totalAssets, t.debtPct);
  const statement: FinancialStatement = {
    customerId: id,
    periodEnd: addMonths(asOf, -t.monthsBack),
    currency: t.foreign ? otherThan(s.currency) : s.currency,
    revenue: t.revenue === undefined ? undefined : s.scale * t.revenue,
    currentAssets,
    currentLiabilities: pct(totalLiabilities, t.shortDebtPct),
    inventory: Math.floor((currentAssets * t.inventoryPct) / 100),
    totalAssets,
    totalLiabilities,
    retainedEarnings: Math.trunc((totalAssets * t.retainedPct) / 100),
    ebit: Math.trunc((totalAssets * t.ebitPct) / 100),
    equity: totalAssets - totalLiabilities,
  };
  return statement;
}

function alertsOf(s: CustomerSpec, id: string, asOf: IsoDate): Alert[] {
  return s.alerts.map((a, k) => {
    const openedAsOf = addDays(asOf, -a.back);
    const openedAt = `${openedAsOf}T05:00:00.000Z`;
    return {
      alertId: `${id}/${a.rule}/${openedAt}`,
      customerId: id,
      rule: a.rule,
      status: a.status,
      severity: a.severity,
      action: ACTIONS[k % ACTIONS.length] as (typeof ACTIONS)[number],
      summary: `generated ${a.severity} ${a.rule} alert`,
      evidence: {},
      policyId: POLICY.id,
      openedAt,
      openedAsOf,
      seenAsOf: asOf,
      notifiedSeverity: a.severity,
      resolvedAt: a.status === 'resolved' ? `${asOf}T05:00:00.000Z` : undefined,
      history: [{ at: openedAt, event: 'opened', severity: a.severity }],
    };
  });
}

/** Builds one customer's credit file and alerts from its spec. */
function build(s: CustomerSpec, id: string, asOf: IsoDate): GeneratedFile {
  const { invoices, payments } = booksOf(s, id, asOf);
  const guarantees: Guarantee[] = s.guarantees.map((g, k) => ({
    customerId: id,
    guaranteeId: `${id}-G${k}`,
    issuer: `Bank ${k}`,
    amount: pct(s.scale, g.sizePct),
    currency: g.foreign ? otherThan(s.currency) : s.currency,
    ...validity(g.valid, asOf),
  }));
  const insurance: InsuranceCover[] = s.insurance.map((c, k) => ({
    customerId: id,
    policyId: `${id}-CI${k}`,
    insurer: `Insurer ${k}`,
    insuredShareBp: c.shareBp,
    cap: pct(s.scale, c.capPct),
    currency: c.foreign ? otherThan(s.currency) : s.currency,
    ...validity(c.valid, asOf),
  }));
  const scores: ExternalScore[] = s.score
    ? [
        {
          customerId: id,
          agency: 'Agency',
          date: addDays(asOf, -s.score.back),
          score: s.score.score,
          scaleMax: 100,
        },
      ]
    : [];
  const transfers: TransferCommitment[] = s.transfers.map((t, k) => {
    const approvedOn = addDays(asOf, -t.approvedBack);
    return {
      customerId: id,
      transferId: `${id}-T${k}`,
      transferType: t.type,
      amount: pct(s.scale, t.sizePct),
      currency: t.foreign ? otherThan(s.currency) : s.currency,
      approvedOn,
      paidOn: t.paidAfter === undefined ? undefined : addDays(approvedOn, t.paidAfter),
    };
  });
  const recent: PriorAssessment[] = [...s.recent]
    .sort((p, q) => q.back - p.back)
    .map((p) => ({ asOf: addDays(asOf, -p.back), rating: p.rating, score: 50, policyId: POLICY.id }));
  const unlimited: CreditFile = {
    customerId: id,
    customer: s.named
      ? {
          customerId: id,
          name: `Customer ${id}`,
          currency: s.currency,
          industry: s.industry,
          paymentTermsDays: s.terms,
        }
      : undefined,
    currency: s.currency,
    invoices,
    payments,
    financials: s.statements.map((t) => statementOf(s, t, id, asOf)),
    guarantees,
    insurance,
    scores,
    transfers,
    recent,
  };
  const creditLimit = limitOf(s, unlimited, asOf);
  // Unnamed with a limit: a limit written on a customer nobody uploaded, so not on file.
  const file = s.named || creditLimit !== undefined ? withLimit(unlimited, creditLimit) : unlimited;
  return { asOf, file, alerts: alertsOf(s, id, asOf) };
}

/** One customer's generated credit file. */
export const creditFileArb: fc.Arbitrary<GeneratedFile> = fc
  .tuple(customerSpec, asOfArb)
  .map(([s, asOf]) => build(s, 'C1', asOf));

/** A book of customers C01, C02, ... as of one date. */
export function bookArb(
  min: number,
  max: number,
): fc.Arbitrary<{ asOf: IsoDate; customers: GeneratedFile[] }> {
  return fc
    .tuple(fc.array(customerSpec, { minLength: min, maxLength: max }), asOfArb)
    .map(([specs, asOf]) => ({
      asOf,
      customers: specs.map((s, i) => build(s, `C${String(i + 1).padStart(2, '0')}`, asOf)),
    }));
}

/** The same file with another limit on it (undefined: none), as a review or an approval would leave it. */
export function withLimit(file: CreditFile, limit: number | undefined): CreditFile {
  const customer = file.customer ?? { customerId: file.customerId, name: '', currency: file.currency };
  return { ...file, customer: { ...customer, creditLimit: limit } };
}

/** Any limit, or none. */
export const anyLimitArb: fc.Arbitrary<number | undefined> = fc.option(
  mostly(fc.nat(5_000_000_000), fc.constant(0), 5),
  { nil: undefined },
);
