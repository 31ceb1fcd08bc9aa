import { minorDigits } from '../core/currencies.ts';
import { formatMoney, parseMinorUnits } from '../core/money.ts';
import { isOnFile } from '../core/records.ts';
import type { Alert } from './alerts.ts';
import {
  type Assessment,
  type CreditFile,
  type Figures,
  type LimitRecommendation,
  roundToSignificant,
} from './assess.ts';
import { type Policy, type Rating, type RuleName, SEVERITY_RANK, type Severity } from './policy.ts';

/**
 * What a review does with a limit recommendation (DOMAIN "Decision rules"): a careful credit
 * manager's rules, in this order:
 *
 * 1. No customer master data, or no recommendation (nothing invoiced in the sales window): keep.
 * 2. No limit on file: a first limit is a decision for people (approval); a rating that allows no
 *    unsecured credit and no cover leaves none (keep: ask for prepayment or cover).
 * 3. Within the policy's keep band of the current limit: keep.
 * 4. A cut: never on a thin history (keep); at once only when it leaves the limit at or above the
 *    exposure (rounded up) and takes at most `review.cuts.approvalAboveShare` of the limit;
 *    otherwise a limit decrease for people (approval).
 * 5. A raise: never at a rating of `noRaiseRatings`, with anything more than
 *    `noRaiseAboveDaysPastDue` days past due, or while an alert of `noRaiseAtSeverity` or above is
 *    active (keep, saying why). The limit-use alert does not block it: exposure over the limit is
 *    the limit's own measure, the raise is what answers it, and blocking it on that would make the
 *    limit depend on the limit it replaces; such a raise goes to people. (Overdue money measured
 *    against the limit is still overdue money: that alert holds a raise back.)
 *    A thin history, a first limit from zero, or an increase above the policy's share or amount
 *    goes to approval too; a small one is applied.
 *
 * Nothing here reads the limit to make the recommendation, only to compare with it, so applying a
 * decision and deciding again on the same data keeps the limit (a fixed point).
 */
export interface LimitDecision {
  readonly outcome: 'keep' | 'cut' | 'raise' | 'approval';
  /** The limit set (cut, raise), asked for (approval) or kept (keep; undefined when there is none). */
  readonly to: number | undefined;
  /** What people are asked to approve. */
  readonly request?: 'first' | 'increase' | 'decrease' | undefined;
  /** The rule that decided, as a stable code (see `DECISION_RULES`). */
  readonly rule: DecisionRule;
  /** The decision and why, in words. */
  readonly words: string;
}

export const DECISION_RULES = [
  'NOT_ON_FILE',
  'NO_RECOMMENDATION',
  'NO_CREDIT',
  'FIRST_LIMIT',
  'WITHIN_BAND',
  'THIN_HISTORY',
  'CUT',
  'CUT_BELOW_EXPOSURE',
  'CUT_TOO_DEEP',
  'RAISE_BLOCKED',
  'RAISE',
  'RAISE_FOR_APPROVAL',
] as const;
export type DecisionRule = (typeof DECISION_RULES)[number];

export interface DecisionInput {
  /** Whether customer master data is on file (a customer known only from its invoices is not). */
  readonly onFile: boolean;
  readonly limit: LimitRecommendation;
  readonly rating: Rating;
  readonly exposure: number;
  readonly maxDaysPastDue: number;
  /** The customer's active alerts (open, acknowledged or snoozed). */
  readonly activeAlerts: readonly { readonly rule: RuleName; readonly severity: Severity }[];
  readonly policy: Policy;
}

/** The limit decision a review takes for one customer (see above). */
export function decideLimit(d: DecisionInput): LimitDecision {
  const l = d.limit;
  const ccy = l.currency;
  const m = (v: number) => formatMoney(v, ccy);
  const current = l.current;
  const keep = (rule: DecisionRule, words: string): LimitDecision => ({
    outcome: 'keep',
    to: current,
    rule,
    words,
  });
  if (!d.onFile)
    return keep(
      'NOT_ON_FILE',
      'no customer master data on file (known only from its invoices or payments): no limit is decided until the customer is uploaded',
    );
  const to = l.recommended;
  if (to === undefined)
    return keep(
      'NO_RECOMMENDATION',
      `no sales in the last ${l.formula.windowMonths} months, so no recommendation: ${current === undefined ? 'no limit is set' : `the limit of ${m(current)} stays`}`,
    );
  if (current === undefined)
    return to === 0
      ? keep(
          'NO_CREDIT',
          `no limit on file, and rating ${d.rating} allows no unsecured credit: ask for prepayment or cover`,
        )
      : {
          outcome: 'approval',
          to,
          request: 'first',
          rule: 'FIRST_LIMIT',
          words: `no limit on file: a first limit of ${m(to)} needs approval${l.thinHistory ? ` (thin history: ${months(l.formula.salesMonths)} of sales)` : ''}${to < d.exposure ? `; it is below the exposure of ${m(d.exposure)}` : ''}`,
        };
  if (l.change === 'KEEP')
    return keep(
      'WITHIN_BAND',
      `keep ${m(current)}: the formula gives ${m(to)}, within ${l.formula.keepWithin * 100}% of it`,
    );
  return to < current ? decideCut(d, current, to, m) : decideRaise(d, current, to, m);
}

function decideCut(d: DecisionInput, current: number, to: number, m: (v: number) => string): LimitDecision {
  const l = d.limit;
  if (l.thinHistory)
    return {
      outcome: 'keep',
      to: current,
      rule: 'THIN_HISTORY',
      words: `keep ${m(current)}: the formula gives ${m(to)}, but on a thin history (${months(l.formula.salesMonths)} of sales, fewer than ${l.formula.minHistoryMonths}) a limit is never cut on its own`,
    };
  const floor = roundToSignificant(d.exposure, l.currency, l.formula.significantDigits, Math.ceil);
  const share = d.policy.review.cuts.approvalAboveShare;
  const cut = current - to;
  if (to < floor)
    return {
      outcome: 'approval',
      to,
      request: 'decrease',
      rule: 'CUT_BELOW_EXPOSURE',
      words: `cut from ${m(current)} to ${m(to)} needs approval: it is below the exposure of ${m(d.exposure)}, and a review never cuts a limit below what the customer owes on its own`,
    };
  if (cut > current * share)
    return {
      outcome: 'approval',
      to,
      request: 'decrease',
      rule: 'CUT_TOO_DEEP',
      words: `cut from ${m(current)} to ${m(to)} needs approval: it takes ${pct(cut / current)} of the limit, more than the ${pct(share)} a review cuts on its own`,
    };
  return {
    outcome: 'cut',
    to,
    rule: 'CUT',
    words: `cut from ${m(current)} to ${m(to)} at once: still above the exposure of ${m(d.exposure)}`,
  };
}

function decideRaise(d: DecisionInput, current: number, to: number, m: (v: number) => string): LimitDecision {
  const l = d.limit;
  const inc = d.policy.review.increases;
  const blocked = raiseBlockers(d);
  if (blocked.length > 0)
    return {
      outcome: 'keep',
      to: current,
      rule: 'RAISE_BLOCKED',
      words: `keep ${m(current)}: the formula gives ${m(to)}, but no raise ${blocked.join(', nor ')}`,
    };
  const increase = to - current;
  const capText = inc.approvalAbove[l.currency];
  const cap =
    capText === undefined
      ? undefined
      : parseMinorUnits(capText, minorDigits(l.currency) ?? 2, { decimal: '.', thousands: '' });
  const capValue = cap?.ok ? cap.value : undefined;
  const againstLimit = severeAlerts(d, true);
  const why = l.thinHistory
    ? `on a thin history (${months(l.formula.salesMonths)} of sales)`
    : againstLimit.length > 0
      ? `the customer is at or over its limit (${againstLimit.join(', ')})`
      : current === 0 || increase > current * inc.approvalAboveShare
        ? `the increase of ${m(increase)} is more than ${pct(inc.approvalAboveShare)} of the current limit`
        : capValue !== undefined && increase > capValue
          ? `the increase of ${m(increase)} is above ${m(capValue)}`
          : undefined;
  if (why)
    return {
      outcome: 'approval',
      to,
      request: 'increase',
      rule: 'RAISE_FOR_APPROVAL',
      words: `raise from ${m(current)} to ${m(to)} needs approval: ${why}`,
    };
  return {
    outcome: 'raise',
    to,
    rule: 'RAISE',
    words: `raised from ${m(current)} to ${m(to)}: an increase of ${m(increase)}, within the policy's ${pct(inc.approvalAboveShare)}${capValue === undefined ? '' : ` and ${m(capValue)}`}`,
  };
}

/** What a review would decide today for an assessed credit file (the credit file shows it beside the limit). */
export function decisionFor(
  file: CreditFile,
  a: Assessment & { readonly figures: Figures },
  alerts: readonly Alert[],
  policy: Policy,
): LimitDecision {
  return decideLimit({
    onFile: isOnFile(file.customer),
    limit: a.limit,
    rating: a.rating,
    exposure: a.figures.exposure,
    maxDaysPastDue: a.figures.maxDaysPastDue,
    activeAlerts: alerts.filter((al) => al.status !== 'resolved'),
    policy,
  });
}

/** Why a raise is not allowed now, in words ("at rating E", ...); empty when it is. */
export function raiseBlockers(d: Omit<DecisionInput, 'limit' | 'onFile' | 'exposure'>): string[] {
  const inc = d.policy.review.increases;
  const out: string[] = [];
  if (inc.noRaiseRatings.includes(d.rating)) out.push(`at rating ${d.rating}`);
  if (d.maxDaysPastDue > inc.noRaiseAboveDaysPastDue)
    out.push(`with an item ${d.maxDaysPastDue} days past due (more than ${inc.noRaiseAboveDaysPastDue})`);
  const severe = severeAlerts(d, false);
  if (severe.length > 0)
    out.push(`while ${severe.length === 1 ? 'an alert is' : 'alerts are'} active (${severe.join(', ')})`);
  return out;
}

/**
 * The customer's active alerts at or above the policy's `noRaiseAtSeverity`, in words ("high
 * daysPastDue"): the limit-use alert (`limitUse`: exposure against the limit), or the others.
 */
function severeAlerts(d: Pick<DecisionInput, 'activeAlerts' | 'policy'>, limitUse: boolean): string[] {
  const floor = SEVERITY_RANK[d.policy.review.increases.noRaiseAtSeverity];
  return d.activeAlerts
    .filter((a) => SEVERITY_RANK[a.severity] >= floor && (a.rule === 'limitUse') === limitUse)
    .map((a) => `${a.severity} ${a.rule}`);
}

const months = (n: number) => `${n} month${n === 1 ? '' : 's'}`;
const pct = (share: number) => `${Number((share * 100).toFixed(1))}%`;
