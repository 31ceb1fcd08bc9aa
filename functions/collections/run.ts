import type { AuditEvent } from '../core/audit.ts';
import { mapLimit } from '../core/concurrency.ts';
import { crashPoint } from '../core/crash.ts';
import type { IsoDate } from '../core/dates.ts';
import { formatMoney } from '../core/money.ts';
import { statementAsOf, withDisputes } from '../core/receivables.ts';
import type { Customer } from '../core/records.ts';
import { creditFileOf } from '../credit/evaluate.ts';
import type {
  CollectionsPolicy,
  DunningAction,
  DunningChannel,
  DunningLevel,
  Policy,
} from '../credit/policy.ts';
import type { CustomerPartition } from '../credit/ports.ts';
import { type LinkKey, portalUrl } from '../transfers/links.ts';
import { disputedOn } from './disputes.ts';
import { type Contact, type Dunning, dunningAsOf } from './dunning.ts';
import { addFigures, type CollectionsFigures, figuresOf, NO_FIGURES } from './figures.ts';
import type { CollectionsStore, ContactRecord, CreditHold, Outreach, OutreachSender } from './ports.ts';
import { type RatedPromise, ratePromise } from './promises.ts';
import { reminderEmail } from './reminder.ts';

/**
 * The daily collections run (README "Collections"): every customer's dunning as of the day, and
 * each step the plan takes that day done once. Each step is claimed first (a conditional write
 * keyed by customer, level and day), then sent, then marked sent: two runs at once send it once; a
 * run retried after a crash finishes its own claims; a claim left by a run that died is taken over
 * after `CLAIM_TIMEOUT_MS` and sent with the same key (the local outbox finds a message written
 * already; SES would send it a second time only if the run died between SES's answer and the mark).
 * A step claimed on an earlier day and never sent is finished before the day's decision, so a
 * crash costs a day's delay at most, never a second reminder.
 */
export const CLAIM_TIMEOUT_MS = 10 * 60_000;

export interface CollectionsRunDeps {
  readonly store: CollectionsStore;
  readonly sender: OutreachSender;
  /** The run's id: a retry of the same run (a batch retried by Step Functions) passes the same. */
  readonly claimant: string;
  /** ISO instant, for the claims. */
  readonly now: () => string;
  readonly concurrency?: number | undefined;
  readonly claimTimeoutMs?: number | undefined;
  /**
   * Where the customer portal is served and the keys its links are signed with: each reminder
   * then carries its own link (README "Collections"). @default none: reminders carry no link
   */
  readonly portal?: { readonly baseUrl: string; readonly keys: readonly LinkKey[] } | undefined;
  /**
   * The audit trail the run's own holds and hand-overs go on (`hold.placed`, `handover.recorded`,
   * the run's id named), once a customer and day however often it is retried. @default none
   */
  readonly audit?:
    | { appendAudit(e: AuditEvent, opts?: { readonly once?: string }): Promise<unknown> }
    | undefined;
}

export interface CollectionsRunOptions {
  readonly asOf: IsoDate;
  /** Only these customers (a batch of the fan-out); @default every customer */
  readonly customerIds?: readonly string[] | undefined;
  /** Decide and report, claim and send nothing. */
  readonly dryRun?: boolean | undefined;
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
}

/** One step of the day, as the run's report lists it. */
export interface CollectionsStep {
  readonly customerId: string;
  readonly name?: string | undefined;
  readonly level: string;
  readonly action: DunningAction;
  readonly channel: DunningChannel;
  readonly demand: number;
  readonly currency: string;
  readonly to?: string | undefined;
  /** sent: done now; would-send: a dry run; held: another live run holds it; failed: not delivered. */
  readonly outcome: 'sent' | 'would-send' | 'held' | 'failed';
  /** The day it was decided for (earlier than the run's day when a crashed step is finished). */
  readonly on: IsoDate;
  readonly note?: string | undefined;
}

export interface CollectionsRunReport {
  readonly asOf: IsoDate;
  readonly claimant: string;
  readonly dryRun: boolean;
  /** Customers looked at. */
  readonly customers: number;
  readonly steps: readonly CollectionsStep[];
  /** Steps by level and channel: `{ friendly: { email: 3 } }`, sent (or, dry, would be). */
  readonly byLevel: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly failed: number;
  /**
   * The day's figures over the customers looked at (functions/collections/figures.ts): promises
   * whose rating became final on the day, disputes open on it. Absent without a collection plan
   * (no customer is read).
   */
  readonly figures?: CollectionsFigures | undefined;
}

const contactKey = (customerId: string, level: string, on: IsoDate) =>
  [customerId, level, on].map(encodeURIComponent).join('.');

/** The sent contacts as the plan counts them. */
export const contactsOf = (records: readonly ContactRecord[] | undefined): Contact[] =>
  (records ?? []).filter((r) => r.state === 'sent').map((r) => ({ level: r.level, on: r.on }));

const VERBS: Record<DunningChannel, string> = {
  email: 'Email',
  phone: 'Call',
  visit: 'Visit',
  slack: 'Chase',
};

/** The line a collector or owner gets for a step that is not an email to the customer. */
export function instructionFor(
  d: Dunning,
  name: string,
  channel: DunningChannel,
  action: DunningAction,
  level: string,
): string {
  const oldest = d.overdue[0];
  const due = formatMoney(d.totals.demand, d.currency);
  const detail = oldest
    ? `${d.overdue.length} overdue item${d.overdue.length === 1 ? '' : 's'}, the oldest (${oldest.invoiceId}) ${oldest.daysPastDue} days past due`
    : 'nothing overdue';
  const who = `${name} (${d.customerId})`;
  if (action === 'hold')
    return `Put ${who} on credit hold ("${level}"): ${due} demanded, ${detail}. No delivery on credit until it is paid or a person lifts the hold.`;
  if (action === 'legal')
    return `Hand ${who} over to legal or the collection agency ("${level}"): ${due} demanded, ${detail}; the final notice went out.`;
  return `${VERBS[channel]} ${who} about ${due} demanded ("${level}" reminder): ${detail}.`;
}

/**
 * How a level reaches the customer: its channel, except that an emailed level for a customer with
 * no billing address becomes a call. A reminder that goes nowhere would count as sent, and the
 * customer would next hear of it at the final notice.
 */
export function channelOf(
  level: Pick<DunningLevel, 'channel'>,
  customer: Customer | undefined,
): DunningChannel {
  return level.channel === 'email' && !customer?.billingEmail ? 'phone' : level.channel;
}

/** What the step hands the sender: the email, or the collector's instruction (the fallback when no address). */
function outreachOf(
  d: Dunning,
  customer: Customer | undefined,
  plan: CollectionsPolicy,
  on: IsoDate,
  portal: CollectionsRunDeps['portal'],
): { outreach: Outreach; note?: string | undefined } {
  const level = d.send as NonNullable<Dunning['send']>;
  const name = customer?.name || d.customerId;
  const base = {
    key: contactKey(d.customerId, level.name, on),
    customerId: d.customerId,
    customerName: name,
    level: level.name,
    action: level.action,
    on,
  };
  if (level.channel === 'email' && customer?.billingEmail) {
    const message = reminderEmail({
      dunning: d,
      customer: {
        customerId: d.customerId,
        name,
        contactName: customer.billingContact,
        language: customer.language,
      },
      creditor: { name: plan.creditor.name, remittance: plan.creditor.remittance },
      portalUrl: portal
        ? portalUrl(
            portal.baseUrl,
            portal.keys,
            d.customerId,
            { on, level: level.name },
            plan.portal.linkDays,
          )
        : undefined,
    });
    return {
      outreach: {
        ...base,
        channel: 'email',
        email: { to: customer.billingEmail, toName: customer.billingContact ?? name, message },
      },
    };
  }
  const channel = channelOf(level, customer);
  const note =
    level.channel === 'email' ? 'no billing email on file: a call instead of the email' : undefined;
  return {
    outreach: { ...base, channel, instruction: instructionFor(d, name, channel, level.action, level.name) },
    note,
  };
}

/**
 * Runs the day's collections over every customer (or a batch). A step that cannot be delivered is
 * given back and reported (`failed`), and the others go on; a store error fails the run, which is
 * retried as a whole (its own claims are finished, the rest found sent).
 */
export async function collectionsRun(
  deps: CollectionsRunDeps,
  policy: Policy,
  opts: CollectionsRunOptions,
): Promise<CollectionsRunReport> {
  const plan = policy.collections;
  const asOf = opts.asOf;
  const dryRun = opts.dryRun === true;
  const ids = opts.customerIds ? [...opts.customerIds] : await deps.store.listCustomerIds();
  const staleBefore = () =>
    new Date(Date.parse(deps.now()) - (deps.claimTimeoutMs ?? CLAIM_TIMEOUT_MS)).toISOString();
  let done = 0;
  let figures = NO_FIGURES;
  const perCustomer = await mapLimit(ids, deps.concurrency ?? 8, async (id) => {
    const steps: CollectionsStep[] = [];
    if (!plan) return steps;
    const part = await deps.store.loadCustomerPartition(id);
    const customer = part.books.customer;
    const records = [...(part.contacts ?? [])];
    figures = addFigures(figures, figuresOf(part, plan.promises, asOf));

    /** Claims, sends and marks one step; returns the record as it now stands, if sent. */
    const take = async (d: Dunning, on: IsoDate): Promise<ContactRecord | undefined> => {
      const { outreach, note } = outreachOf(d, customer, plan, on, deps.portal);
      const step = {
        customerId: id,
        name: customer?.name,
        level: outreach.level,
        action: outreach.action,
        channel: outreach.channel,
        demand: d.totals.demand,
        currency: d.currency,
        to: outreach.email?.to,
        on,
      };
      if (dryRun) {
        steps.push({ ...step, outcome: 'would-send', note });
        return undefined;
      }
      const claim: ContactRecord = {
        customerId: id,
        level: outreach.level,
        on,
        channel: outreach.channel,
        action: outreach.action,
        state: 'claimed',
        claimant: deps.claimant,
        claimedAt: deps.now(),
        demand: d.totals.demand,
        currency: d.currency,
        to: outreach.email?.to,
        note,
      };
      const held = await deps.store.claimContact(claim, staleBefore());
      if (held) {
        steps.push({
          ...step,
          outcome: 'held',
          note:
            held.state === 'sent'
              ? `sent already at ${held.sentAt ?? held.claimedAt}`
              : `being sent by run ${held.claimant} since ${held.claimedAt}`,
        });
        return held.state === 'sent' ? held : undefined;
      }
      crashPoint('collections:claimed');
      let said: { messageId?: string | undefined; note?: string | undefined };
      try {
        said = await deps.sender.send(outreach);
      } catch (e) {
        await deps.store.releaseContact(id, on, outreach.level, deps.claimant);
        steps.push({ ...step, outcome: 'failed', note: (e as Error).message });
        return undefined;
      }
      crashPoint('collections:sent');
      // The hold level puts the customer on credit hold, before the step is marked: a retry after a
      // crash here finds the step still claimed and puts it on (once) again.
      if (outreach.action === 'hold') {
        const hold: CreditHold = {
          customerId: id,
          state: 'on',
          since: on,
          by: 'collections',
          reason: `"${outreach.level}" reached: ${formatMoney(d.totals.demand, d.currency)} demanded, the oldest item ${d.oldestDaysPastDue} days past due`,
        };
        await deps.store.placeCreditHold(hold);
        await deps.audit?.appendAudit(
          {
            at: deps.now(),
            kind: 'hold.placed',
            subject: id,
            actor: 'collections',
            data: { level: outreach.level, on, reason: hold.reason, run: deps.claimant },
          },
          { once: `hold.${id}.${on}` },
        );
      }
      // The legal level hands the file over: what is demanded, the items, and every step, promise
      // and dispute before it, as they stand today (once a customer and day, before the mark).
      if (outreach.action === 'legal')
        await deps.store.recordHandover({
          customerId: id,
          name: customer?.name,
          on,
          level: outreach.level,
          currency: d.currency,
          demand: d.totals.demand,
          overdue: d.overdue.map((i) => ({
            invoiceId: i.invoiceId,
            dueDate: i.dueDate,
            daysPastDue: i.daysPastDue,
            open: i.open,
          })),
          // The part disputed of an invoice disputed in part (its rest is among the overdue).
          disputed: d.disputed.map((i) => ({
            invoiceId: i.invoiceId,
            open: i.open,
            ...(i.invoiceOpen !== undefined ? { invoiceOpen: i.invoiceOpen } : {}),
            ...(i.line !== undefined ? { line: i.line } : {}),
          })),
          contacts: records
            .filter((r) => r.state === 'sent' && r.on <= on)
            .map((r) => ({ level: r.level, on: r.on, channel: r.channel, to: r.to, note: r.note })),
          promises: promisesAsOf(part, plan, on).map((p) => ({
            promiseId: p.promiseId,
            amount: p.amount,
            promisedDate: p.promisedDate,
            state: p.state,
          })),
          state: 'open',
        });
      if (outreach.action === 'legal')
        await deps.audit?.appendAudit(
          {
            at: deps.now(),
            kind: 'handover.recorded',
            subject: id,
            actor: 'collections',
            data: {
              level: outreach.level,
              on,
              demand: d.totals.demand,
              currency: d.currency,
              run: deps.claimant,
            },
          },
          { once: `handover.${id}.${on}` },
        );
      const sent = {
        sentAt: deps.now(),
        to: outreach.email?.to,
        messageId: said.messageId,
        note: [note, said.note].filter(Boolean).join('; ') || undefined,
      };
      await deps.store.markContactSent(id, on, outreach.level, sent);
      steps.push({ ...step, outcome: 'sent', note: sent.note });
      return { ...claim, ...sent, state: 'sent' };
    };

    // A step claimed on an earlier day (or earlier today) and never marked sent is finished first,
    // as it was decided on its day, if its claimant is this run or taken for dead.
    const stale = staleBefore();
    for (const r of records.filter(
      (r) => r.state === 'claimed' && (r.claimant === deps.claimant || r.claimedAt < stale) && r.on <= asOf,
    )) {
      const then = dunningFor(id, part, plan, r.on, contactsOf(records));
      if (then.send?.name !== r.level) continue; // the books changed since: the day decides afresh
      const sent = await take(then, r.on);
      if (sent) records.splice(records.indexOf(r), 1, sent);
    }
    // A run as of a day before a step already taken (a late or replayed run) acts on nothing: the
    // plan as of that day cannot see the later step and would send its level a second time.
    const later = records.find((r) => r.on > asOf);
    const d = dunningFor(id, part, plan, asOf, contactsOf(records));
    if (d.send && later)
      steps.push({
        customerId: id,
        name: customer?.name,
        level: d.send.name,
        action: d.send.action,
        channel: channelOf(d.send, customer),
        demand: d.totals.demand,
        currency: d.currency,
        on: asOf,
        outcome: 'held',
        note: `a later step is on file ("${later.level}" on ${later.on}): a run as of an earlier day takes none`,
      });
    else if (d.send) await take(d, asOf);
    opts.onProgress?.(++done, ids.length);
    return steps;
  });
  const steps = perCustomer.flat();
  const byLevel: Record<string, Record<string, number>> = {};
  for (const s of steps)
    if (s.outcome === 'sent' || s.outcome === 'would-send') {
      const l = byLevel[s.level] ?? {};
      l[s.channel] = (l[s.channel] ?? 0) + 1;
      byLevel[s.level] = l;
    }
  return {
    asOf,
    claimant: deps.claimant,
    dryRun,
    customers: ids.length,
    steps,
    byLevel,
    failed: steps.filter((s) => s.outcome === 'failed').length,
    ...(plan ? { figures } : {}),
  };
}

/** A customer's dunning as of a day, from its stored books and latest risk class. */
export function dunningFor(
  id: string,
  part: CustomerPartition,
  plan: CollectionsPolicy,
  asOf: IsoDate,
  contacts: readonly Contact[],
): Dunning {
  const file = creditFileOf(id, part);
  // An invoice with a dispute open on the day is disputed, whatever the ERP's flag says: all of it,
  // or the part a dispute on a line names.
  const statement = withDisputes(
    statementAsOf(
      { customerId: id, currency: file.currency, invoices: file.invoices, payments: file.payments },
      asOf,
    ),
    disputedOn(part.disputes, asOf),
  );
  return dunningAsOf(id, statement, plan, {
    riskClass: part.assessment?.riskClass,
    contacts: contacts.filter((c) => c.on <= asOf),
    promises: promisesAsOf(part, plan, asOf),
  });
}

/** The customer's promises made by the day, rated as of it (payments received by it only). */
export function promisesAsOf(
  part: CustomerPartition,
  plan: CollectionsPolicy,
  asOf: IsoDate,
): RatedPromise[] {
  const payments = part.books.payments.filter((p) => p.receivedDate <= asOf);
  return (part.promises ?? [])
    .filter((p) => p.madeOn <= asOf)
    .map((p) => ratePromise(p, payments, asOf, plan.promises));
}
