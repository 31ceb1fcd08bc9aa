import { addDays, type IsoDate } from '../core/dates.ts';
import type { Payment } from '../core/records.ts';
import type { CustomerPartition } from '../credit/ports.ts';
import { ageOf, type Dispute, openOn } from './disputes.ts';
import { type PromiseRules, type PromiseState, type PromiseToPay, ratePromise } from './promises.ts';

/**
 * The collections figures of a day (README "Ops"): the promises to pay whose rating became final
 * that day, and the disputes open on it. Pure, a function of the books and the day: every run of
 * a day gives the same figures (a re-run, a retried batch), so nothing remembers what was counted;
 * the metrics are emitted so that a day counts once (functions/collections/metrics.ts).
 */

/** Promises whose rating became final on the day, by that rating. */
export interface PromiseOutcomes {
  readonly kept: number;
  readonly partial: number;
  readonly broken: number;
}

/** The disputes open on the day. */
export interface DisputeFigures {
  readonly open: number;
  /** Of them, those whose answer date has passed. */
  readonly overdue: number;
  /** Days the oldest of them has been open (0 when none is, or it opened today). */
  readonly oldestDays: number;
}

export interface CollectionsFigures {
  readonly promises: PromiseOutcomes;
  readonly disputes: DisputeFigures;
}

export const NO_FIGURES: CollectionsFigures = {
  promises: { kept: 0, partial: 0, broken: 0 },
  disputes: { open: 0, overdue: 0, oldestDays: 0 },
};

/** Its rating as of the day (ratePromise counts the payments received by it); undefined before it was made. */
const stateOn = (
  p: PromiseToPay,
  payments: readonly Payment[],
  day: IsoDate,
  rules: PromiseRules,
): PromiseState | undefined => (p.madeOn > day ? undefined : ratePromise(p, payments, day, rules).state);

/**
 * The promises whose rating became final on `day`: kept, partial or broken as of the day and not so
 * the day before (pending then, or not yet made). Kept is final as soon as the payments reach the
 * amount; partial and broken on the day after the promised date plus the tolerance. With the books
 * fixed a final rating never changes again, so each promise is counted on one day only. The books
 * as they are now rate both days: a payment booked after the day it was received (an export a day
 * behind) makes the promise kept on a day already counted, and no later day counts it.
 */
export function promiseOutcomesOn(
  promises: readonly PromiseToPay[],
  payments: readonly Payment[],
  day: IsoDate,
  rules: PromiseRules,
): PromiseOutcomes {
  const out = { kept: 0, partial: 0, broken: 0 };
  const before = addDays(day, -1);
  for (const p of promises) {
    const now = stateOn(p, payments, day, rules);
    if (now === undefined || now === 'pending' || now === stateOn(p, payments, before, rules)) continue;
    out[now] += 1;
  }
  return out;
}

/** The disputes open on `day` (opened by it, not resolved by it), those past their answer date, the oldest's age. */
export function disputeFiguresOn(disputes: readonly Dispute[], day: IsoDate): DisputeFigures {
  let open = 0;
  let overdue = 0;
  let oldestDays = 0;
  for (const d of disputes) {
    if (!openOn(d, day)) continue;
    const age = ageOf(d, day);
    open += 1;
    if (age.late) overdue += 1;
    oldestDays = Math.max(oldestDays, age.days);
  }
  return { open, overdue, oldestDays };
}

/** A customer's figures of the day, from its partition as loaded (promises rated on its payments). */
export function figuresOf(
  part: Pick<CustomerPartition, 'books' | 'promises' | 'disputes'>,
  rules: PromiseRules,
  day: IsoDate,
): CollectionsFigures {
  return {
    promises: promiseOutcomesOn(part.promises ?? [], part.books.payments, day, rules),
    disputes: disputeFiguresOn(part.disputes ?? [], day),
  };
}

/**
 * Two sets of figures as one (customers into a batch, batches into a run): the counts add up, the
 * oldest dispute is the older of the two. The dashboard adds the batches up the same way (Sum, and
 * Maximum for the age).
 */
export function addFigures(a: CollectionsFigures, b: CollectionsFigures): CollectionsFigures {
  return {
    promises: {
      kept: a.promises.kept + b.promises.kept,
      partial: a.promises.partial + b.promises.partial,
      broken: a.promises.broken + b.promises.broken,
    },
    disputes: {
      open: a.disputes.open + b.disputes.open,
      overdue: a.disputes.overdue + b.disputes.overdue,
      oldestDays: Math.max(a.disputes.oldestDays, b.disputes.oldestDays),
    },
  };
}
