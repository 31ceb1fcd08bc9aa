import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical.ts';
import { addMonths, type IsoDate } from '../core/dates.ts';
import type { Alert } from '../credit/alerts.ts';
import { assess, type CreditFile, explainAssessment, type FactorResult } from '../credit/assess.ts';
import { type DecisionRule, decisionFor } from '../credit/decide.ts';
import {
  type Policy,
  RATINGS,
  type Rating,
  type RiskClass,
  type RuleName,
  SEVERITY_RANK,
} from '../credit/policy.ts';

/**
 * Periodic reviews (DOMAIN "Periodic review"): every customer is re-rated on a schedule set by its
 * risk class (high monthly, medium quarterly, low yearly by default), and at once after a severe
 * alert or a rating downgrade; the limit the scorecard recommends is applied, or sent for approval.
 */

/** Where a customer stands after its last review: what the next run compares with. */
export interface ReviewState {
  readonly customerId: string;
  readonly reviewId: string;
  /** The as-of date of the last review. */
  readonly reviewedOn: IsoDate;
  /** When the last review ran (ISO instant): alerts raised after it call for a review at once. */
  readonly reviewedAt: string;
  readonly nextReviewOn: IsoDate;
  readonly rating: Rating;
  readonly score: number;
  readonly riskClass: RiskClass;
  readonly currency: string;
  /** The limit in force after the review (undefined: none on file). */
  readonly limit?: number | undefined;
}

/** A customer the run reviews, and why now. */
export interface DueCustomer {
  readonly customerId: string;
  readonly reason: string;
}

export type ReviewOutcome =
  /** The limit was cut to the recommendation at once (still above the exposure), with an alert. */
  | 'cut'
  /** A small increase, applied with a record. */
  | 'raise'
  /** A first limit, a large increase or a deep cut: people decide on the approval chain. */
  | 'approval'
  /** Nothing changes: within the keep band, a raise not allowed, a thin history, no recommendation. */
  | 'keep';

/** The figures a review used, as they stood on its date (minor units of `currency`). */
export interface ReviewFigures {
  readonly exposure: number;
  readonly openAmount: number;
  readonly overdueAmount: number;
  readonly maxDaysPastDue: number;
  readonly limitUse: number | undefined;
  readonly dso: number | null;
  /** Sales in the window, the months they are averaged over, and the average (none without sales). */
  readonly salesInWindow: number;
  readonly salesMonths: number;
  readonly monthlySales: number | undefined;
  /** The cover the limit counts (guarantees in force, the insured share of the insurable receivables). */
  readonly secured: number;
}

/** One customer's review: stored with the figures it used, the policy version and the outcome. */
export interface Review {
  /** `<run>/<customer>`. */
  readonly reviewId: string;
  readonly runId: string;
  readonly customerId: string;
  readonly name?: string | undefined;
  readonly asOf: IsoDate;
  readonly reviewedAt: string;
  readonly policyId: string;
  /** Why the customer was due. */
  readonly due: string;
  readonly status: 'done' | 'failed';
  /** What went wrong, for a failed review (the customer is reported, never skipped silently). */
  readonly error?: string | undefined;
  readonly currency?: string | undefined;
  readonly previous?:
    | {
        readonly reviewedOn: IsoDate;
        readonly rating: Rating;
        readonly score: number;
        readonly limit?: number | undefined;
      }
    | undefined;
  readonly score?: number | undefined;
  readonly rating?: Rating | undefined;
  readonly riskClass?: RiskClass | undefined;
  readonly factors?: readonly FactorResult[] | undefined;
  readonly figures?: ReviewFigures | undefined;
  /** The limit on file before the review, and the one the formula gives (none without sales). */
  readonly currentLimit?: number | undefined;
  readonly recommendedLimit?: number | undefined;
  /** Fewer months of sales than the policy's minimum: the recommendation never cut on its own. */
  readonly thinHistory?: boolean | undefined;
  readonly outcome?: ReviewOutcome | undefined;
  /** The decision rule that applied (functions/credit/decide.ts). */
  readonly rule?: DecisionRule | undefined;
  /** With outcome `approval`: what people are asked. */
  readonly request?: 'first' | 'increase' | 'decrease' | undefined;
  /** In words: the limit decision and why. */
  readonly decision?: string | undefined;
  /** How the formula's limit was built, step by step (the limit's basis in words). */
  readonly basis?: readonly string[] | undefined;
  /** The limit in force after the review (an approval leaves the current one until it is approved). */
  readonly limitAfter?: number | undefined;
  /** The limit people are asked for (outcome `approval`). */
  readonly askedLimit?: number | undefined;
  readonly nextReviewOn?: IsoDate | undefined;
  /** Rating fell, limit cut, approval asked, high risk or failed: someone should look. */
  readonly attention?: boolean | undefined;
  /** The approval request that carries an `approval` outcome (one per review, or one for the run's batch). */
  readonly transferId?: string | undefined;
  /** Whether the outcome has been carried out (limit written, approval asked, alert sent) and audited. */
  readonly applied?: boolean | undefined;
}

const notches = (from: Rating, to: Rating) => RATINGS.indexOf(to) - RATINGS.indexOf(from);

/** The months between reviews for a risk class. */
export function cadenceOf(policy: Policy, riskClass: RiskClass): number {
  return policy.review.cadenceMonths[riskClass];
}

/**
 * Rules measured against the credit limit (limit use, overdue as a share of the limit): their
 * alerts, a cut's own consequence among them, never make a customer due for a review at once (a
 * review would decide the same again: the recommendation never reads the limit).
 */
const LIMIT_RELATIVE_RULES: ReadonlySet<RuleName> = new Set<RuleName>(['limitUse', 'overdueAmount']);

/**
 * The customers due for review as of `asOf`, each with its reason, in id order:
 * never reviewed; the next review date reached; or, after the last review, an active alert at or
 * above the policy's severity opened or escalated (not of a rule measured against the limit), or
 * (when the policy says so) a rating-downgrade alert.
 */
export function dueCustomers(
  customerIds: readonly string[],
  states: ReadonlyMap<string, ReviewState>,
  activeAlerts: readonly Alert[],
  asOf: IsoDate,
  policy: Policy,
): DueCustomer[] {
  const { minSeverity, ratingDowngrade } = policy.review.atOnce;
  const triggers = new Map<string, Alert[]>();
  for (const a of activeAlerts)
    if (
      !LIMIT_RELATIVE_RULES.has(a.rule) &&
      (SEVERITY_RANK[a.severity] >= SEVERITY_RANK[minSeverity] ||
        (ratingDowngrade && a.rule === 'ratingDowngrade'))
    )
      triggers.set(a.customerId, [...(triggers.get(a.customerId) ?? []), a]);
  const out: DueCustomer[] = [];
  for (const id of [...new Set(customerIds)].sort()) {
    const s = states.get(id);
    if (!s) {
      out.push({ customerId: id, reason: 'first review' });
      continue;
    }
    if (s.nextReviewOn <= asOf) {
      out.push({
        customerId: id,
        reason: `scheduled: due on ${s.nextReviewOn} (${s.riskClass} risk, every ${cadenceOf(policy, s.riskClass)} months)`,
      });
      continue;
    }
    const alert = (triggers.get(id) ?? []).find((a) => raisedSince(a, s.reviewedAt));
    if (alert)
      out.push({
        customerId: id,
        reason: `at once: ${alert.severity} alert ${alert.rule} raised after the last review (${s.reviewedOn})`,
      });
  }
  return out;
}

/** Whether the alert opened, or its severity rose, after the instant given. */
function raisedSince(a: Alert, since: string): boolean {
  return (
    a.openedAt > since ||
    a.history.some((e) => (e.event === 'escalated' || e.event === 'reopened') && e.at > since)
  );
}

export interface ReviewInput {
  readonly runId: string;
  readonly customerId: string;
  readonly due: string;
  readonly asOf: IsoDate;
  /** ISO instant the review runs at. */
  readonly now: string;
  readonly file: CreditFile;
  readonly previous?: ReviewState | undefined;
  /** The customer's alerts as stored (the active ones can hold back a raise). */
  readonly alerts: readonly Alert[];
  readonly policy: Policy;
}

/**
 * Re-scores a customer as of the run's date (the scorecard of the daily evaluation) and decides
 * its limit with `decideLimit` (functions/credit/decide.ts): keep, cut at once, raise, or ask
 * people on the approval chain.
 */
export function reviewCustomer(input: ReviewInput): Review {
  const { file, policy, asOf, previous } = input;
  const a = explainAssessment(assess(file, asOf, policy));
  const x = a.figures;
  const s = x.receivables.summary;
  const d = decisionFor(file, a, input.alerts, policy);
  const current = file.customer?.creditLimit;
  const changes = d.outcome === 'cut' || d.outcome === 'raise';
  const fell = previous !== undefined && notches(previous.rating, a.rating) > 0;
  return {
    reviewId: `${input.runId}/${input.customerId}`,
    runId: input.runId,
    customerId: input.customerId,
    name: file.customer?.name,
    asOf,
    reviewedAt: input.now,
    policyId: policy.id,
    due: input.due,
    status: 'done',
    currency: a.currency,
    previous: previous && {
      reviewedOn: previous.reviewedOn,
      rating: previous.rating,
      score: previous.score,
      limit: previous.limit,
    },
    score: a.score,
    rating: a.rating,
    riskClass: a.riskClass,
    factors: a.factors,
    figures: {
      exposure: x.exposure,
      openAmount: s.openAmount,
      overdueAmount: s.overdueAmount,
      maxDaysPastDue: x.maxDaysPastDue,
      limitUse: x.limitUse,
      dso: s.dso,
      salesInWindow: x.salesInWindow,
      salesMonths: x.salesMonths,
      monthlySales: x.monthlySales,
      secured: x.secured,
    },
    currentLimit: current,
    recommendedLimit: a.limit.recommended,
    thinHistory: a.limit.thinHistory,
    outcome: d.outcome,
    rule: d.rule,
    request: d.request,
    decision: d.words,
    basis: a.limit.basis,
    limitAfter: changes ? d.to : current,
    askedLimit: d.outcome === 'approval' ? d.to : undefined,
    nextReviewOn: addMonths(asOf, cadenceOf(policy, a.riskClass)),
    // A dormant account that still owes long-overdue money is kept for lack of sales: someone looks.
    attention:
      fell ||
      d.outcome === 'cut' ||
      d.outcome === 'approval' ||
      a.riskClass === 'high' ||
      (d.rule === 'NO_RECOMMENDATION' && x.maxDaysPastDue > policy.review.increases.noRaiseAboveDaysPastDue),
    applied: false,
  };
}

/** A review that could not be made: kept and reported like the others, with the reason. */
export function failedReview(
  input: Pick<ReviewInput, 'runId' | 'customerId' | 'due' | 'asOf' | 'now'> & { policyId: string },
  error: unknown,
): Review {
  return {
    reviewId: `${input.runId}/${input.customerId}`,
    runId: input.runId,
    customerId: input.customerId,
    asOf: input.asOf,
    reviewedAt: input.now,
    policyId: input.policyId,
    due: input.due,
    status: 'failed',
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    attention: true,
    applied: false,
  };
}

/** The state a done review leaves the customer in (the next run's reference). */
export function stateAfter(r: Review): ReviewState | undefined {
  if (
    r.status !== 'done' ||
    !r.rating ||
    !r.riskClass ||
    r.score === undefined ||
    !r.nextReviewOn ||
    !r.currency
  )
    return undefined;
  return {
    customerId: r.customerId,
    reviewId: r.reviewId,
    reviewedOn: r.asOf,
    reviewedAt: r.reviewedAt,
    nextReviewOn: r.nextReviewOn,
    rating: r.rating,
    score: r.score,
    riskClass: r.riskClass,
    currency: r.currency,
    limit: r.limitAfter,
  };
}

/**
 * SHA-256 of a review's canonical JSON without its `applied` mark (set once the hash is on the
 * trail) and the approval request that carries it (asked by the run's report, after the audit):
 * what the audit trail holds of it, and what the stored review hashes to again.
 */
export function reviewHash(r: Review): string {
  const { applied: _applied, transferId: _transferId, ...content } = r;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
