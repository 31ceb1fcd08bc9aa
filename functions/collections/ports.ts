import type { IsoDate } from '../core/dates.ts';
import type { DunningAction, DunningChannel } from '../credit/policy.ts';
import type { CreditStore } from '../credit/ports.ts';
import type { Dispute } from './disputes.ts';
import type { PromiseToPay } from './promises.ts';
import type { ReminderEmail } from './reminder.ts';

/**
 * One step of the collection plan taken for a customer (README "Collections"): a reminder emailed,
 * a call or visit set as a task, the owner told on Slack. Kept in the customer's partition under
 * `DUN#<on>#<level>`, so its key is the idempotency key: one per customer, level and day. It is
 * claimed before anything is sent and marked sent after; only sent ones count as contacts.
 */
export interface ContactRecord {
  readonly customerId: string;
  readonly level: string;
  readonly on: IsoDate;
  /** The level's channel, or `phone` when an email level found no billing address (the fallback). */
  readonly channel: DunningChannel;
  readonly action: DunningAction;
  readonly state: 'claimed' | 'sent';
  /** The run that claimed it (a retry of the same run finishes its own claim). */
  readonly claimant: string;
  /** ISO instant of the claim. */
  readonly claimedAt: string;
  readonly sentAt?: string | undefined;
  /** What was demanded, in minor units of `currency`. */
  readonly demand: number;
  readonly currency: string;
  /** The address an email went to. */
  readonly to?: string | undefined;
  readonly messageId?: string | undefined;
  /** Why the channel differs from the level's, or why nothing was delivered. */
  readonly note?: string | undefined;
}

/** Where contact records live: the customer's partition (DynamoDB). */
export interface ContactLedger {
  /**
   * Claims the record's key: wins when nobody holds it, or when it is claimed and not sent, by the
   * same claimant (a retry) or before `staleBefore` (its claimant is taken for dead). Otherwise
   * returns the record that holds it.
   */
  claimContact(c: ContactRecord, staleBefore: string): Promise<ContactRecord | undefined>;
  /** Marks it sent, with what was delivered; a record sent already stays as it was. */
  markContactSent(
    customerId: string,
    on: IsoDate,
    level: string,
    sent: Pick<ContactRecord, 'sentAt' | 'to' | 'messageId' | 'note'>,
  ): Promise<void>;
  /** Gives a claim up after a failed send, if `claimant` still holds it: the next run takes it. */
  releaseContact(customerId: string, on: IsoDate, level: string, claimant: string): Promise<void>;
}

export type CollectionsStore = Pick<CreditStore, 'listCustomerIds' | 'loadCustomerPartition'> &
  ContactLedger &
  HoldBook &
  HandoverBook;

/** Where disputes are kept: one record per invoice in the customer's partition. */
export interface DisputeBook {
  /** Opens it unless the invoice has an open dispute: then says so, with that one. */
  openDispute(d: Dispute): Promise<{ outcome: 'opened' | 'exists'; current: Dispute }>;
  /** Resolves the invoice's open dispute, if it has one. */
  resolveDispute(
    customerId: string,
    invoiceId: string,
    resolution: Required<Pick<Dispute, 'resolvedOn' | 'resolvedBy' | 'outcome'>> & Pick<Dispute, 'note'>,
  ): Promise<{ outcome: 'resolved' | 'not-open'; current?: Dispute | undefined }>;
}

/** Where promises to pay are kept: the customer's partition. */
export interface PromiseBook {
  /** Records it unless a promise with its id is on file: says which. */
  recordPromise(p: PromiseToPay): Promise<'recorded' | 'exists'>;
}

/** What one step of the plan hands to the outside world. */
export interface Outreach {
  /** `<customer>.<level>.<on>`: the same step always has the same key (the outbox dedupes on it). */
  readonly key: string;
  readonly customerId: string;
  readonly customerName: string;
  readonly level: string;
  readonly action: DunningAction;
  readonly on: IsoDate;
  readonly channel: DunningChannel;
  /** For `email`: the billing address and the message. */
  readonly email?:
    | { readonly to: string; readonly toName: string; readonly message: ReminderEmail }
    | undefined;
  /** For every other channel: one line for the collector or the owner (Slack, the task list). */
  readonly instruction?: string | undefined;
}

/** Where reminders go: SES and Slack on AWS; `.eml` files, a JSON Lines task list and Slack locally. */
export interface OutreachSender {
  /** Delivers it; throws when it could not. What it says back is kept on the contact record. */
  send(o: Outreach): Promise<{ readonly messageId?: string | undefined; readonly note?: string | undefined }>;
}

/**
 * A credit hold (README "Collections"): no delivery on credit, and every transfer to or for the
 * customer climbs more approval levels, until a person lifts it. Put on by the plan's hold level;
 * one record per customer (`HOLD`, the latest hold: the steps of the plan and the audit trail keep
 * the ones before it).
 */
export interface CreditHold {
  readonly customerId: string;
  readonly state: 'on' | 'off';
  readonly since: IsoDate;
  /** Who put it on: `collections` (the plan's run) or a person. */
  readonly by: string;
  readonly reason: string;
  readonly releasedOn?: IsoDate | undefined;
  readonly releasedBy?: string | undefined;
  readonly releaseReason?: string | undefined;
}

/** Whether the hold is on as of the day. */
export const holdOn = (h: CreditHold | undefined, asOf: IsoDate): boolean =>
  h !== undefined && h.since <= asOf && (h.releasedOn === undefined || h.releasedOn > asOf);

/** Where credit holds are kept: the customer's partition. */
export interface HoldBook {
  /** Puts the hold on unless one is on: says which (a retried run puts it on once). */
  placeCreditHold(h: CreditHold): Promise<'placed' | 'on-already'>;
  /** Lifts the hold that is on, if one is. */
  releaseCreditHold(
    customerId: string,
    release: { readonly releasedOn: IsoDate; readonly releasedBy: string; readonly releaseReason: string },
  ): Promise<CreditHold | undefined>;
}

/**
 * The file handed to legal or the collection agency when the plan's legal level is taken
 * (README "Collections"): what is demanded, the items, and every step, promise and dispute before
 * it, as they stood that day. One per customer and day (`HANDOVER#<day>`); a person may withdraw it.
 */
export interface Handover {
  readonly customerId: string;
  readonly name?: string | undefined;
  readonly on: IsoDate;
  readonly level: string;
  readonly currency: string;
  /** Minor units of `currency`. */
  readonly demand: number;
  readonly overdue: readonly {
    readonly invoiceId: string;
    readonly dueDate: IsoDate;
    readonly daysPastDue: number;
    readonly open: number;
  }[];
  /**
   * What is disputed of each invoice: `open` is the part disputed; `invoiceOpen` is set when that
   * is only part of what is open (the rest is among `overdue`).
   */
  readonly disputed: readonly {
    readonly invoiceId: string;
    readonly open: number;
    readonly invoiceOpen?: number | undefined;
    readonly line?: string | undefined;
  }[];
  readonly contacts: readonly Pick<ContactRecord, 'level' | 'on' | 'channel' | 'to' | 'note'>[];
  readonly promises: readonly {
    readonly promiseId: string;
    readonly amount: number;
    readonly promisedDate: IsoDate;
    readonly state: string;
  }[];
  readonly state: 'open' | 'withdrawn';
  readonly withdrawnOn?: IsoDate | undefined;
  readonly withdrawnBy?: string | undefined;
  readonly withdrawReason?: string | undefined;
}

/** Where hand-overs are kept: the customer's partition. */
export interface HandoverBook {
  /** Records it unless one is on file for the customer and day (a retried run records it once). */
  recordHandover(h: Handover): Promise<'recorded' | 'exists'>;
  /** Withdraws the customer's latest open hand-over, if there is one. */
  withdrawHandover(
    customerId: string,
    w: { readonly withdrawnOn: IsoDate; readonly withdrawnBy: string; readonly withdrawReason: string },
  ): Promise<Handover | undefined>;
}

/** Who works a customer's collections (README "Collections"): one `ASSIGN` record, the latest. */
export interface Assignment {
  readonly customerId: string;
  readonly collector: string;
  readonly since: IsoDate;
  readonly by: string;
}

/** What came of a call or a visit. */
export const CALL_OUTCOMES = [
  'reached',
  'no-answer',
  'left-message',
  'wrong-contact',
  'promised',
  'disputed',
  'refused',
] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** A call or a visit logged by a collector: `LOG#<at>` in the customer's partition. */
export interface CallLog {
  readonly customerId: string;
  readonly on: IsoDate;
  /** ISO instant it was logged (its key: two logs never share one). */
  readonly at: string;
  readonly by: string;
  readonly channel: 'phone' | 'visit';
  readonly outcome: CallOutcome;
  readonly note?: string | undefined;
}

/** Where assignments and call logs are kept: the customer's partition. */
export interface CollectorBook {
  assignCollector(a: Assignment): Promise<Assignment | undefined>;
  logCall(c: CallLog): Promise<void>;
}
