import { mapLimit } from '../core/concurrency.ts';
import type { IsoDate } from '../core/dates.ts';
import type { DunningChannel, Policy } from '../credit/policy.ts';
import type { CreditStore } from '../credit/ports.ts';
import { type Contact, type Dunning, ladderOf } from './dunning.ts';
import { type CreditHold, holdOn } from './ports.ts';
import { channelOf, contactsOf, dunningFor } from './run.ts';

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
}

/** Whether anything of the customer is overdue, disputed or not: the worklist lists it unless asked for all. */
export const hasOverdue = (d: Dunning): boolean =>
  d.overdue.length > 0 || d.disputed.some((i) => i.daysPastDue > 0);

/**
 * Every customer's dunning as of a day (README "Collections"), most pressing first: those acted on
 * today, then by level reached (highest first), days past due of the oldest item (most first), the
 * demand (largest first, between customers of one currency: amounts in two currencies do not
 * compare), then by id. Every
 * customer is in it, none cut short; `contactsOf` gives the messages sent before (@default the
 * steps the collections run recorded on the customer's file).
 * Reads the customers' stored books and latest assessment (its risk class picks the ladder); writes
 * nothing.
 */
export async function collectionsWorklist(
  store: Pick<CreditStore, 'listCustomerIds' | 'loadCustomerPartition'>,
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
  const entries = await mapLimit(ids, opts.concurrency ?? 8, async (id) => {
    const part = await store.loadCustomerPartition(id);
    const riskClass = part.assessment?.riskClass;
    const d = dunningFor(id, part, plan, asOf, opts.contactsOf?.(id) ?? contactsOf(part.contacts));
    opts.onProgress?.(++done, ids.length);
    const { levels } = ladderOf(plan, riskClass);
    return {
      ...d,
      name: part.books.customer?.name,
      levelIndex: levels.findIndex((l) => l.name === d.reached?.name),
      hold: holdOn(part.creditHold, asOf) ? part.creditHold : undefined,
      channel: d.send && channelOf(d.send, part.books.customer),
      collector: part.assignment?.collector,
    };
  });
  return entries.sort(
    (a, b) =>
      Number(b.send !== undefined) - Number(a.send !== undefined) ||
      b.levelIndex - a.levelIndex ||
      b.oldestDaysPastDue - a.oldestDaysPastDue ||
      (a.currency === b.currency ? b.totals.demand - a.totals.demand : a.currency < b.currency ? -1 : 1) ||
      (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0),
  );
}
