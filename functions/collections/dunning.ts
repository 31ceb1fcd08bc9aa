import { minorDigits } from '../core/currencies.ts';
import { addDays, daysBetween, type IsoDate } from '../core/dates.ts';
import { formatMoney, parseMinorUnits } from '../core/money.ts';
import { disputedOpen, type InvoiceStatus, type Statement } from '../core/receivables.ts';
import type { CollectionsPolicy, DunningLevel, RiskClass } from '../credit/policy.ts';
import type { RatedPromise } from './promises.ts';

/**
 * Dunning (README "Collections"): where a customer stands on the collection plan as of a date, and
 * whether a message goes out that day. One decision per customer, never per invoice: every overdue
 * item of the customer is in the one message, at the highest level its oldest undisputed overdue
 * item has reached. Disputed items are shown and left out of the demand; an invoice disputed in
 * part (a line) is split in two, the part disputed shown and left out, the rest demanded as usual;
 * unapplied cash is taken off it. Pure: the same statement, contacts and date give the same
 * decision.
 */

/** A message the plan sent the customer before: its level and day. */
export interface Contact {
  readonly level: string;
  readonly on: IsoDate;
}

/**
 * An open item as the statement has it, with its days past due as of the day (negative: not yet
 * due); or one of the two parts of an invoice disputed in part, its `open` that part's.
 */
export interface DunningItem
  extends Pick<
    InvoiceStatus,
    'invoiceId' | 'currency' | 'issueDate' | 'dueDate' | 'amount' | 'open' | 'disputed'
  > {
  readonly daysPastDue: number;
  /**
   * Set when the invoice's open amount is split between `disputed` and `overdue` or `notDue` (a
   * dispute on part of it): the invoice's whole open amount, of which `open` is this item's part.
   */
  readonly invoiceOpen?: number | undefined;
  /** On a disputed item: the line its dispute names, if any. */
  readonly line?: string | undefined;
}

export interface Dunning {
  readonly customerId: string;
  readonly asOf: IsoDate;
  /** The credit currency: every total is in it. */
  readonly currency: string;
  /** Which ladder applies: the risk class's own, or the policy's `levels`. */
  readonly ladder: RiskClass | 'default';
  /** Undisputed open items past due, oldest due first: what is demanded. */
  readonly overdue: readonly DunningItem[];
  /** Open disputed items (or the part disputed of an invoice), due or not: shown, left out of the demand. */
  readonly disputed: readonly DunningItem[];
  /** Undisputed open items not yet due: shown for the statement. */
  readonly notDue: readonly DunningItem[];
  /** Open items in a currency other than the credit currency (not converted): shown, not demanded. */
  readonly otherCurrency: readonly DunningItem[];
  readonly totals: {
    readonly overdue: number;
    readonly disputed: number;
    readonly notDue: number;
    readonly unappliedCash: number;
    /** What the message asks for: overdue less unapplied cash, never below zero. */
    readonly demand: number;
  };
  /** Days past due of the oldest undisputed overdue item (0 when none). */
  readonly oldestDaysPastDue: number;
  /** The highest level reached, if any. */
  readonly reached?: DunningLevel | undefined;
  /**
   * The level acted on today (a message, a task, a hold, a hand-over), if any: the level reached,
   * except that a customer past the legal level who was never sent the last reminder (the final
   * notice) in this episode gets that reminder first.
   */
  readonly send?: DunningLevel | undefined;
  /** Why it is sent, or why not, in one sentence. */
  readonly why: string;
  /** The next step if nothing changes (no payment, no new item): its level and day. */
  readonly next?: { readonly level: string; readonly on: IsoDate } | undefined;
  /** The promise to pay holding the chase today, if one does. */
  readonly promise?: RatedPromise | undefined;
}

const item = (s: InvoiceStatus): DunningItem => ({
  invoiceId: s.invoiceId,
  currency: s.currency,
  issueDate: s.issueDate,
  dueDate: s.dueDate,
  amount: s.amount,
  open: s.open,
  daysPastDue: s.daysPastDue ?? 0,
  disputed: s.disputed,
});
const byDue = (a: DunningItem, b: DunningItem) =>
  a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.invoiceId < b.invoiceId ? -1 : 1;
const sum = (xs: readonly DunningItem[]) => xs.reduce((n, x) => n + x.open, 0);
const later = (a: IsoDate, b: IsoDate) => (a > b ? a : b);

/** The plan's minimum demand in a currency, in minor units (0 when the policy names none). */
export function minDemandOf(plan: CollectionsPolicy, currency: string): number {
  const text = plan.minDemand[currency];
  if (text === undefined) return 0;
  const r = parseMinorUnits(text, minorDigits(currency) ?? 2, { decimal: '.', thousands: '' });
  return r.ok ? r.value : 0;
}

/** The ladder a customer is chased on: its risk class's, else the policy's levels. */
export function ladderOf(
  plan: CollectionsPolicy,
  riskClass: RiskClass | undefined,
): { ladder: RiskClass | 'default'; levels: readonly DunningLevel[] } {
  const own = riskClass ? plan.byRiskClass[riskClass] : undefined;
  return own && riskClass ? { ladder: riskClass, levels: own } : { ladder: 'default', levels: plan.levels };
}

/**
 * The customer's dunning as of the statement's date. `contacts` are the messages the plan sent
 * before (any order). A level is sent once in an episode (from the due date of the oldest item now
 * overdue: earlier contacts were about debts since paid); a customer that reaches a higher level
 * before a lower one went out gets the higher one alone; no two messages within `minGapDays`.
 */
export function dunningAsOf(
  customerId: string,
  statement: Statement,
  plan: CollectionsPolicy,
  opts: {
    readonly riskClass?: RiskClass | undefined;
    readonly contacts?: readonly Contact[];
    /** The customer's promises to pay, rated as of the day: a pending or kept one pauses the chase. */
    readonly promises?: readonly RatedPromise[];
  } = {},
): Dunning {
  const { summary } = statement;
  const asOf = summary.asOf;
  const currency = summary.currency;
  const open = statement.invoices.filter((s) => s.settledDate === undefined && s.open > 0);
  const mine: DunningItem[] = [];
  for (const s of open) {
    if (s.currency !== currency) continue;
    const part = disputedOpen(s);
    const line = s.disputeLine !== undefined ? { line: s.disputeLine } : {};
    if (part === 0) mine.push(item(s));
    else if (part >= s.open) mine.push({ ...item(s), disputed: true, ...line });
    else {
      // Disputed in part: the part is set apart, the rest is an undisputed item like any other.
      mine.push(
        { ...item(s), open: part, disputed: true, invoiceOpen: s.open, ...line },
        { ...item(s), open: s.open - part, disputed: false, invoiceOpen: s.open },
      );
    }
  }
  const overdue = mine.filter((i) => !i.disputed && i.daysPastDue > 0).sort(byDue);
  const disputed = mine.filter((i) => i.disputed).sort(byDue);
  const notDue = mine.filter((i) => !i.disputed && i.daysPastDue <= 0).sort(byDue);
  const otherCurrency = open
    .filter((i) => i.currency !== currency)
    .map(item)
    .sort(byDue);
  const unappliedCash = summary.unappliedCash;
  const totals = {
    overdue: sum(overdue),
    disputed: sum(disputed),
    notDue: sum(notDue),
    unappliedCash,
    demand: Math.max(0, sum(overdue) - unappliedCash),
  };
  const { ladder, levels } = ladderOf(plan, opts.riskClass);
  const first = levels[0] as DunningLevel;
  const oldest = overdue[0];
  const oldestDaysPastDue = oldest?.daysPastDue ?? 0;
  const base = {
    customerId,
    asOf,
    currency,
    ladder,
    overdue,
    disputed,
    notDue,
    otherCurrency,
    totals,
    oldestDaysPastDue,
  };
  const money = (n: number) => formatMoney(n, currency);

  if (!oldest) {
    const upcoming = notDue[0];
    return {
      ...base,
      why: disputed.some((i) => i.daysPastDue > 0)
        ? 'only disputed items are overdue: nothing is chased while they are disputed'
        : 'nothing is overdue',
      next: upcoming ? { level: first.name, on: addDays(upcoming.dueDate, first.afterDays) } : undefined,
    };
  }
  const episode = oldest.dueDate;
  const contacts = [...(opts.contacts ?? [])].sort((a, b) => (a.on < b.on ? -1 : a.on > b.on ? 1 : 0));
  const last = contacts.at(-1);
  const sentIndex = Math.max(
    -1,
    ...contacts.filter((c) => c.on >= episode).map((c) => levels.findIndex((l) => l.name === c.level)),
  );
  const reachedIndex = levels.findLastIndex((l) => l.afterDays <= oldestDaysPastDue);
  const reached = levels[reachedIndex];
  const atLevel = (i: number, after?: IsoDate) => {
    const l = levels[i];
    if (!l) return undefined;
    const on = addDays(episode, l.afterDays);
    return { level: l.name, on: after ? later(on, after) : on };
  };
  const gapEnds = last ? addDays(last.on, plan.minGapDays) : undefined;

  if (!reached)
    return {
      ...base,
      why: `the oldest overdue item (${oldest.invoiceId}) is ${oldestDaysPastDue} day${oldestDaysPastDue === 1 ? '' : 's'} past due; the first level ("${first.name}") comes at ${first.afterDays}`,
      next: atLevel(0, gapEnds),
    };
  const standing = { ...base, reached };
  // A promise to pay holds the chase: a pending one until its grace ends, a kept one until its date
  // (the customer did what it said; the rest waits for the day it named). A broken or partly kept
  // one holds nothing: the chase goes on at the level reached.
  const final = levels.findLast((l) => l.action === 'remind');
  const told = contacts.some((c) => c.on >= episode && c.level === final?.name);
  const holding = (opts.promises ?? [])
    .map((p) => ({
      p,
      until: p.state === 'pending' ? p.graceEnds : p.state === 'kept' ? p.promisedDate : '',
    }))
    .filter((h) => h.until >= asOf && h.p.madeOn <= asOf)
    // The one holding longest (then by id): the same promises in any order hold the same way.
    .sort((a, b) =>
      a.until !== b.until ? (a.until < b.until ? 1 : -1) : a.p.promiseId < b.p.promiseId ? -1 : 1,
    )[0];
  if (holding)
    return {
      ...standing,
      promise: holding.p,
      why: `a promise to pay holds the chase (${holding.p.why})`,
      next: (() => {
        // What goes out when the hold ends: the next level, but never the hand-over untold.
        const i = sentIndex >= reachedIndex ? sentIndex + 1 : reachedIndex;
        const after = addDays(holding.until, 1);
        return levels[i]?.action === 'legal' && final && !told
          ? { level: final.name, on: after }
          : atLevel(i, after);
      })(),
    };
  if (totals.demand === 0)
    return {
      ...standing,
      why: `unapplied cash of ${money(unappliedCash)} covers the ${money(totals.overdue)} overdue: apply it before chasing`,
    };
  const min = minDemandOf(plan, currency);
  if (totals.demand < min)
    return {
      ...standing,
      why: `the demand of ${money(totals.demand)} is below the plan's minimum of ${money(min)}`,
    };
  if (sentIndex >= reachedIndex) {
    const sent = levels[sentIndex] as DunningLevel;
    const when = contacts.filter((c) => c.level === sent.name && c.on >= episode).at(-1)?.on ?? episode;
    return {
      ...standing,
      why: `"${sent.name}" went out on ${when}; the next level follows at its day`,
      next: atLevel(sentIndex + 1, gapEnds),
    };
  }
  if (gapEnds && asOf < gapEnds && last)
    return {
      ...standing,
      why: `the last message went out on ${last.on}, ${daysBetween(last.on, asOf)} days ago; the plan waits ${plan.minGapDays} days between two`,
      next: { level: reached.name, on: gapEnds },
    };
  // Nobody is handed over to legal without having been told: the last reminder (the final notice)
  // goes out first, and the hand-over follows after the gap. Told means that very notice went out
  // in this episode: a hold put on a customer first seen far overdue told the customer nothing.
  if (reached.action === 'legal' && final && !told)
    return {
      ...standing,
      send: final,
      why: `the oldest undisputed overdue item (${oldest.invoiceId}) is ${oldestDaysPastDue} days past due, past "${reached.name}" at ${reached.afterDays}, but the hand-over waits for the final notice: "${final.name}" goes out first; ${money(totals.demand)} demanded`,
      next: { level: reached.name, on: addDays(asOf, Math.max(1, plan.minGapDays)) },
    };
  return {
    ...standing,
    send: reached,
    why: `the oldest undisputed overdue item (${oldest.invoiceId}) is ${oldestDaysPastDue} days past due: "${reached.name}" comes at ${reached.afterDays}; ${money(totals.demand)} demanded`,
    next: atLevel(reachedIndex + 1, addDays(asOf, plan.minGapDays)),
  };
}
