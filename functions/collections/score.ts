import { minorDigits } from '../core/currencies.ts';
import { addDays, type IsoDate } from '../core/dates.ts';
import { convertAsOf, type RatesOf, type RateUsed, rateWords } from '../core/fx.ts';
import { formatMoney, parseMinorUnits } from '../core/money.ts';
import type { PriorAssessment } from '../credit/assess.ts';
import {
  type Rating,
  scoreFactorOf,
  WORKLIST_FACTORS,
  type WorklistFactor,
  type WorklistScorePolicy,
} from '../credit/policy.ts';
import type { RatedPromise } from './promises.ts';

/**
 * The collectors' worklist score (README "Collections"): each factor of a customer mapped to a part
 * from 0 to 1 by its rule and the policy's cap, weighted, on a scale of 0 to 100, so that a
 * collector sees why one customer comes before another. Pure: the same figures, policy, rates and
 * day give the same score.
 */

/** What the score reads of one customer as of the day. */
export interface ScoreInput {
  /** What is chased: undisputed overdue less unapplied cash, minor units of `currency`. */
  readonly demand: number;
  readonly currency: string;
  /** Days past due of the oldest undisputed overdue item (0 when none). */
  readonly oldestDaysPastDue: number;
  /** The rating in effect on the day, and the day it was given. */
  readonly rating?: { readonly rating: Rating; readonly on: IsoDate } | undefined;
  /** Promises broken or kept only in part whose grace ended in the policy's window. */
  readonly broken: number;
  readonly partial: number;
  /**
   * The demanded invoices' expected wait (`expectedWaits`): each overdue item's open amount and the
   * days from the day to its expected settlement, or no days when the customer's own settled
   * invoices cannot place it. Absent: not computed (the factor's weight is 0).
   */
  readonly waits?: readonly ExpectedWait[] | undefined;
}

/** One demanded invoice's expected wait (functions/collections/worklist.ts). */
export interface ExpectedWait {
  readonly invoiceId: string;
  /** Its part of the demand: the overdue item's open amount, minor units of the input's currency. */
  readonly open: number;
  /** Days from the day to the expected settlement (at least 1); absent when nothing places it. */
  readonly days?: number | undefined;
  /** The prediction's reason in one line. */
  readonly reason: string;
}

interface FactorBase {
  readonly weight: number;
  /** The factor's part, 0 to 1 (three decimals). */
  readonly part: number;
  /** What it adds to the score: weight × part on the 0-100 scale (one decimal). */
  readonly points: number;
  /** What was measured against the cap, in words. */
  readonly why: string;
}

/** One factor of a customer's score, with what it measured (amounts in minor units of `currency`). */
export type ScoreFactor = FactorBase &
  (
    | {
        readonly factor: 'amountOverdue';
        /** The reporting currency: the cap's and `amount`'s. */
        readonly currency: string;
        /** The demand converted into it; absent when no rate was on file. */
        readonly amount?: number | undefined;
        readonly cap: number;
        /** The rate used, when the demand is in another currency. */
        readonly rate?: RateUsed | undefined;
        /** No rate on file for the demand's currency by the day: the part is 1 (see `scoreOf`). */
        readonly noRate?: true | undefined;
      }
    | { readonly factor: 'daysPastDue'; readonly days: number; readonly capDays: number }
    | {
        readonly factor: 'rating';
        readonly rating?: Rating | undefined;
        readonly ratedOn?: IsoDate | undefined;
      }
    | {
        readonly factor: 'expectedWait';
        readonly capDays: number;
        /** The demanded invoices predicted. */
        readonly invoices: number;
        /** The longest expected wait's invoice. */
        readonly invoiceId?: string | undefined;
        /** Its days to the expected settlement; absent when the customer's history cannot place it. */
        readonly days?: number | undefined;
        /** How many of them the customer's history cannot place (each at the cap). */
        readonly unplaced: number;
      }
    | {
        readonly factor: 'brokenPromises';
        readonly broken: number;
        readonly partial: number;
        readonly capCount: number;
        readonly windowDays: number;
      }
  );

/** A factor as measured, before it is weighed. */
type Measured = ScoreFactor extends infer F
  ? F extends unknown
    ? Omit<F, 'weight' | 'points'>
    : never
  : never;

export interface WorklistScore {
  /** 0 to 100, one decimal: the points of the factors, summed before rounding. */
  readonly score: number;
  /** Every factor of the policy, in its order, weight 0 included. */
  readonly factors: readonly ScoreFactor[];
  /** Said beside the score: nothing demanded, or a demand whose currency has no rate on file. */
  readonly notes: readonly string[];
}

export const FACTOR_LABEL: Record<WorklistFactor, string> = {
  amountOverdue: 'amount overdue',
  daysPastDue: 'days past due',
  rating: 'rating',
  brokenPromises: 'broken promises',
  expectedWait: 'expected wait',
};

const round = (x: number, decimals: number) => Math.round(x * 10 ** decimals) / 10 ** decimals;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The policy's amount cap in minor units of its currency (validated with the policy). */
export function scoreCap(policy: WorklistScorePolicy): number {
  const r = parseMinorUnits(policy.amountOverdue.cap, minorDigits(policy.currency) ?? 2, {
    decimal: '.',
    thousands: '',
  });
  return r.ok ? r.value : 0;
}

/**
 * The customer's score as of `asOf`. Each factor's part:
 *
 * - amount overdue: the demand in the policy's currency (the latest rate on file by the day, the
 *   pair, its inverse or a cross rate through a pivot: functions/core/fx.ts) over the cap, at most 1. A demand in a currency with no rate on file
 *   counts as at the cap (1), and a note says so: a debt the book cannot measure is worked, not
 *   put at the bottom of the list;
 * - days past due: the oldest undisputed overdue item's days over `capDays`, at most 1;
 * - rating: the policy's part of the rating in effect on the day (`unrated` without one);
 * - broken promises: broken and partly kept promises over `capCount`, at most 1.
 *
 * A customer with nothing demanded (nothing undisputed overdue, or unapplied cash covering it)
 * scores 0, whatever its rating or promises: the score orders what there is to collect.
 */
export function scoreOf(
  input: ScoreInput,
  policy: WorklistScorePolicy,
  asOf: IsoDate,
  rates: RatesOf,
): WorklistScore {
  const report = policy.currency;
  const cap = scoreCap(policy);
  const capMoney = formatMoney(cap, report);
  const demanded = input.demand > 0;
  const notes: string[] = [];
  // Nothing demanded converts to nothing at any rate, or none.
  const converted = demanded
    ? convertAsOf(input.demand, input.currency, report, asOf, rates)
    : { amount: 0, rate: undefined };
  const own = formatMoney(input.demand, input.currency);
  if (!converted)
    notes.push(`no ${input.currency}/${report} rate on file by ${asOf}: the amount counts at the cap`);
  if (!demanded) notes.push('nothing is demanded: no points');
  const rated = input.rating;
  const failed = input.broken + input.partial;
  const raw: Measured[] = [
    converted
      ? {
          factor: 'amountOverdue',
          currency: report,
          amount: converted.amount,
          cap,
          rate: converted.rate,
          part: cap > 0 ? Math.min(1, converted.amount / cap) : 1,
          why: `${converted.rate ? `${own} = ${formatMoney(converted.amount, report)} (${rateWords(converted.rate)})` : own} of a ${capMoney} cap`,
        }
      : {
          factor: 'amountOverdue',
          currency: report,
          cap,
          noRate: true,
          part: 1,
          why: `${own}, counted at the ${capMoney} cap`,
        },
    {
      factor: 'daysPastDue',
      days: input.oldestDaysPastDue,
      capDays: policy.daysPastDue.capDays,
      part: Math.min(1, Math.max(0, input.oldestDaysPastDue) / policy.daysPastDue.capDays),
      why: `${plural(input.oldestDaysPastDue, 'day')} of a ${policy.daysPastDue.capDays}-day cap`,
    },
    {
      factor: 'rating',
      rating: rated?.rating,
      ratedOn: rated?.on,
      part: policy.rating.parts[rated?.rating ?? 'unrated'],
      why: rated ? `rated ${rated.rating} on ${rated.on}` : `not rated by ${asOf}`,
    },
    {
      factor: 'brokenPromises',
      broken: input.broken,
      partial: input.partial,
      capCount: policy.brokenPromises.capCount,
      windowDays: policy.brokenPromises.windowDays,
      part: Math.min(1, failed / policy.brokenPromises.capCount),
      why:
        failed === 0
          ? `none broken in ${policy.brokenPromises.windowDays} days`
          : `${input.broken} broken, ${input.partial} kept in part in ${policy.brokenPromises.windowDays} days, of a cap of ${policy.brokenPromises.capCount}`,
    },
    expectedWaitFactor(input, scoreFactorOf(policy, 'expectedWait').capDays),
  ];
  const weights = raw.map((f) => scoreFactorOf(policy, f.factor).weight);
  const total = weights.reduce((n, w) => n + w, 0);
  let sum = 0;
  const factors = raw.map((f, i) => {
    const weight = weights[i] ?? 0;
    const points = demanded && total > 0 ? (100 * weight * f.part) / total : 0;
    sum += points;
    return { ...f, weight, part: round(f.part, 3), points: round(points, 1) };
  });
  return { score: round(sum, 1), factors, notes };
}

/**
 * The expected wait's part: the longest expected wait among the demanded invoices, over the cap (at
 * most 1), as days past due reads the oldest item. An invoice the customer's own history cannot
 * place (no settled invoice of it went this long past due) counts at the cap: a customer letting an
 * invoice go longer than it ever has is the one to call. Amounts do not enter it, so owing more
 * never lowers it. Nothing demanded: 0.
 */
function expectedWaitFactor(input: ScoreInput, capDays: number): Measured {
  const waits = (input.waits ?? []).filter((w) => w.open > 0);
  // The longest: an unplaced one first, then the most days; between equals the largest, then the id.
  let longest: ExpectedWait | undefined;
  for (const w of waits) {
    const a = w.days ?? Number.POSITIVE_INFINITY;
    const b = longest ? (longest.days ?? Number.POSITIVE_INFINITY) : Number.NEGATIVE_INFINITY;
    if (
      !longest ||
      a > b ||
      (a === b && (w.open > longest.open || (w.open === longest.open && w.invoiceId < longest.invoiceId)))
    )
      longest = w;
  }
  const unplaced = waits.filter((w) => w.days === undefined).length;
  const what = longest && `${longest.invoiceId} (${formatMoney(longest.open, input.currency)})`;
  return {
    factor: 'expectedWait',
    capDays,
    invoices: waits.length,
    days: longest?.days,
    invoiceId: longest?.invoiceId,
    unplaced,
    part: !longest ? 0 : longest.days === undefined ? 1 : Math.min(1, longest.days / capDays),
    why: !input.waits
      ? 'not predicted: the policy does not weigh it'
      : !longest
        ? 'no demanded invoice to predict'
        : longest.days === undefined
          ? `${what}${unplaced > 1 ? ` and ${plural(unplaced - 1, 'other')} are` : ' is'} already further past due than any invoice the customer has settled: at the cap`
          : `${what} expected in ${plural(longest.days, 'day')}, the longest wait of ${plural(waits.length, 'overdue invoice')}, of a ${capDays}-day cap`,
  };
}

/**
 * The rating in effect on `asOf`: of the latest assessment made by that day, among the stored one
 * and the earlier ratings it keeps (90 days of them). None when every one is later than the day.
 */
export function ratingOn(
  assessment:
    | {
        readonly asOf: IsoDate;
        readonly rating: Rating;
        readonly recent?: readonly PriorAssessment[] | undefined;
      }
    | undefined,
  asOf: IsoDate,
): { rating: Rating; on: IsoDate } | undefined {
  if (!assessment) return undefined;
  let best: { rating: Rating; on: IsoDate } | undefined;
  for (const a of [...(assessment.recent ?? []), assessment])
    if (a.asOf <= asOf && (!best || a.asOf >= best.on)) best = { rating: a.rating, on: a.asOf };
  return best;
}

/** The promises broken or kept only in part whose grace ended in the last `windowDays` before `asOf`. */
export function failedPromises(
  promises: readonly RatedPromise[],
  asOf: IsoDate,
  windowDays: number,
): { broken: number; partial: number } {
  const from = addDays(asOf, -windowDays);
  const failed = promises.filter((p) => p.graceEnds > from && p.graceEnds <= asOf);
  return {
    broken: failed.filter((p) => p.state === 'broken').length,
    partial: failed.filter((p) => p.state === 'partial').length,
  };
}

/** Each factor counted, in one line: "40.0 amount overdue (...) + 30.0 days past due (...) + ...". */
export function pointsWords(factors: readonly ScoreFactor[]): string {
  return factors
    .filter((f) => f.weight > 0)
    .map((f) => `${f.points.toFixed(1)} ${FACTOR_LABEL[f.factor]} (${f.why})`)
    .join(' + ');
}

/** A worklist entry's score in one line: the sum, its factors and its notes. */
export function scoreWords(e: {
  readonly score: number;
  readonly scoreFactors: readonly ScoreFactor[];
  readonly scoreNotes: readonly string[];
}): string {
  return `${e.score.toFixed(1)} = ${pointsWords(e.scoreFactors)}${e.scoreNotes.map((n) => `; ${n}`).join('')}`;
}

/** The policy's score in words: each weight and cap ("amount overdue 40 (cap 100,000.00 EUR), ..."). */
export function scoreTerms(p: WorklistScorePolicy): string {
  const cap: Record<WorklistFactor, string> = {
    amountOverdue: `cap ${formatMoney(scoreCap(p), p.currency)}`,
    daysPastDue: `cap ${p.daysPastDue.capDays} days`,
    rating: Object.entries(p.rating.parts)
      .map(([r, x]) => `${r} ${x}`)
      .join(', '),
    brokenPromises: `cap ${p.brokenPromises.capCount} in ${p.brokenPromises.windowDays} days`,
    expectedWait: `cap ${scoreFactorOf(p, 'expectedWait').capDays} days`,
  };
  return WORKLIST_FACTORS.filter((f) => f !== 'expectedWait' || p.expectedWait)
    .map((f) => `${FACTOR_LABEL[f]} ${scoreFactorOf(p, f).weight} (${cap[f]})`)
    .join(', ');
}
