import { mapLimit } from '../core/concurrency.ts';
import { daysBetween, type IsoDate } from '../core/dates.ts';
import { readRates } from '../core/fx.ts';
import { type DunningChannel, type Policy, scoreFactorOf } from '../credit/policy.ts';
import type { CreditStore } from '../credit/ports.ts';
import type { IngestStore } from '../ingest/ports.ts';
import { recordsAsOf } from '../predict/book.ts';
import { type InvoiceRecord, predictSettlement } from '../predict/model.ts';
import { type Contact, type Dunning, type DunningItem, ladderOf } from './dunning.ts';
import { type CreditHold, holdOn } from './ports.ts';
import { channelOf, contactsOf, dunningFor, promisesAsOf } from './run.ts';
import {
  type ExpectedWait,
  failedPromises,
  ratingOn,
  type ScoreFactor,
  type ScoreInput,
  scoreOf,
} from './score.ts';

/** One customer of the worklist: its dunning as of the day, with its name. */
export interface WorklistEntry extends Dunning {
  readonly name?: string | undefined;
  /** Where the level reached stands on its ladder (-1: none reached). */
  readonly levelIndex: number;
  /** Its credit hold, when one is on as of the day. */
  readonly hold?: CreditHold | undefined;
  /** How today's step goes out: the level's channel, or `phone` for an emailed level without a billing address. */
  readonly channel?: DunningChannel | undefined;
  /** Who works the customer (its assignment), if anyone. */
  readonly collector?: string | undefined;
  /** Its worklist score, 0 to 100 (one decimal): the list's order (README "Collections"). */
  readonly score: number;
  /** Each factor of the score: what it measured, its part of 1 and the points it gives. */
  readonly scoreFactors: readonly ScoreFactor[];
  /** Said beside the score: nothing demanded, or no rate on file for the demand's currency. */
  readonly scoreNotes: readonly string[];
}

/** Whether anything of the customer is overdue, disputed or not: the worklist lists it unless asked for all. */
export const hasOverdue = (d: Dunning): boolean =>
  d.overdue.length > 0 || d.disputed.some((i) => i.daysPastDue > 0);

/**
 * The worklist's order: the highest score first; between equal scores (one decimal), those acted on
 * today, then by level reached (highest first), days past due of the oldest item (most first), the
 * demand (largest first, between customers of one currency: amounts in two currencies do not
 * compare), then by id. A total order: the same entries come out the same whatever order they
 * came in.
 */
export function worklistOrder(a: WorklistEntry, b: WorklistEntry): number {
  return (
    b.score - a.score ||
    Number(b.send !== undefined) - Number(a.send !== undefined) ||
    b.levelIndex - a.levelIndex ||
    b.oldestDaysPastDue - a.oldestDaysPastDue ||
    (a.currency === b.currency ? b.totals.demand - a.totals.demand : a.currency < b.currency ? -1 : 1) ||
    (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0)
  );
}

/**
 * Each demanded item's expected wait (the expected wait factor, README "The worklist's score"): the
 * payment-date model (functions/predict/model.ts) over the customer's own invoices as known on
 * the day, never the segment's (the customer's own behaviour is what a collector acts on, and the
 * list reads one customer at a time). An item no settled invoice of the customer's went as long
 * past due has no days: the model would only say "tomorrow" for want of anything to go by.
 */
export function expectedWaits(
  overdue: readonly Pick<DunningItem, 'invoiceId' | 'issueDate' | 'dueDate' | 'open'>[],
  history: readonly InvoiceRecord[],
  asOf: IsoDate,
): ExpectedWait[] {
  return overdue.map((item) => {
    const p = predictSettlement(item, asOf, history);
    return {
      invoiceId: item.invoiceId,
      open: item.open,
      days: p.basis === 'terms' ? undefined : daysBetween(asOf, p.expected),
      reason: p.reason,
    };
  });
}

/**
 * Every customer's dunning as of a day (README "Collections"), scored by the policy's
 * `collections.score` and in `worklistOrder`. Every customer is in it, none cut short;
 * `contactsOf` gives the messages sent before (@default the steps the collections run recorded on
 * the customer's file). Reads the customers' stored books, latest assessment (its risk class picks
 * the ladder, its rating on the day is scored) and the FX rates of their currencies against the
 * score's; writes nothing.
 */
export async function collectionsWorklist(
  store: Pick<CreditStore, 'listCustomerIds' | 'loadCustomerPartition'> & Pick<IngestStore, 'getFxRates'>,
  policy: Policy,
  asOf: IsoDate,
  opts: {
    readonly contactsOf?: (customerId: string) => readonly Contact[];
    readonly concurrency?: number;
    readonly onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<WorklistEntry[]> {
  const plan = policy.collections;
  if (!plan) return [];
  const ids = await store.listCustomerIds();
  let done = 0;
  const read = await mapLimit(ids, opts.concurrency ?? 8, async (id) => {
    const part = await store.loadCustomerPartition(id);
    const riskClass = part.assessment?.riskClass;
    const d = dunningFor(id, part, plan, asOf, opts.contactsOf?.(id) ?? contactsOf(part.contacts));
    opts.onProgress?.(++done, ids.length);
    const { levels } = ladderOf(plan, riskClass);
    const entry = {
      ...d,
      name: part.books.customer?.name,
      levelIndex: levels.findIndex((l) => l.name === d.reached?.name),
      hold: holdOn(part.creditHold, asOf) ? part.creditHold : undefined,
      channel: d.send && channelOf(d.send, part.books.customer),
      collector: part.assignment?.collector,
    };
    const input: ScoreInput = {
      demand: d.totals.demand,
      currency: d.currency,
      oldestDaysPastDue: d.oldestDaysPastDue,
      rating: ratingOn(part.assessment, asOf),
      ...failedPromises(promisesAsOf(part, plan, asOf), asOf, plan.score.brokenPromises.windowDays),
      // Predicted only when the policy weighs it: it reads the customer's whole history again.
      waits:
        scoreFactorOf(plan.score, 'expectedWait').weight === 0
          ? undefined
          : d.overdue.length === 0
            ? []
            : expectedWaits(d.overdue, recordsAsOf(id, part.books, asOf).invoices, asOf),
    };
    return { entry, input };
  });
  const rates = await readRates(
    read.map((r) => r.input.currency),
    plan.score.currency,
    (base, quote) => store.getFxRates(base, quote),
  );
  return read
    .map(({ entry, input }): WorklistEntry => {
      const s = scoreOf(input, plan.score, asOf, rates);
      return { ...entry, score: s.score, scoreFactors: s.factors, scoreNotes: s.notes };
    })
    .sort(worklistOrder);
}
