import { createHash } from 'node:crypto';
import { minorDigits } from '../core/currencies.ts';
import { addDays, daysBetween, type IsoDate, isoDateOrNull } from '../core/dates.ts';
import { formatMoney, parseMinorUnits } from '../core/money.ts';
import type { Payment } from '../core/records.ts';

/**
 * Promises to pay (README "Collections"): a customer says it will pay an amount by a date; the
 * payments received from the day it was made to the promised date (plus the plan's tolerance) rate
 * it kept, partial or broken. While a promise is pending, the plan chases nobody for it; a broken
 * one resumes the chase at the level reached. Pure: the same promise, payments and day give the
 * same rating.
 */

export interface PromiseToPay {
  /** `PTP-<made on>-<hash>`: the same promise recorded twice (a retried command) is one promise. */
  readonly promiseId: string;
  readonly customerId: string;
  /** Minor units of `currency` (the customer's credit currency). */
  readonly amount: number;
  readonly currency: string;
  /** The day the customer will have paid by. */
  readonly promisedDate: IsoDate;
  /** The day it was made (the run's "today", never later). */
  readonly madeOn: IsoDate;
  /** Who recorded it. */
  readonly recordedBy: string;
  /** Where it came from: a call, an email, the console, the portal. */
  readonly via: 'call' | 'email' | 'visit' | 'console' | 'portal';
  readonly note?: string | undefined;
  /** ISO instant it was recorded. */
  readonly recordedAt: string;
  /** The reminder (`<day>#<level>`) whose portal link it was made through: one promise per link. */
  readonly link?: string | undefined;
}

export type PromiseState = 'pending' | 'kept' | 'partial' | 'broken';

export interface RatedPromise extends PromiseToPay {
  readonly state: PromiseState;
  /** Paid from `madeOn` to the day rated (at most to the promised date plus the tolerance). */
  readonly paid: number;
  /** The last day a payment counts for it: the promised date plus the tolerance. */
  readonly graceEnds: IsoDate;
  /** One sentence a collector reads. */
  readonly why: string;
}

/** The plan's rules for promises. */
export interface PromiseRules {
  /** Days after the promised date a payment still keeps it. */
  readonly toleranceDays: number;
  /** How far ahead a promise may be: a promise for next year is no promise. */
  readonly maxDays: number;
}

export const DEFAULT_PROMISE_RULES: PromiseRules = { toleranceDays: 3, maxDays: 60 };

const VIA = ['call', 'email', 'visit', 'console', 'portal'] as const;

/** What a person asks to record, as text (the CLI's and the console's form). */
export interface PromiseRequest {
  readonly customerId: string;
  readonly amount: string;
  readonly promisedDate: string;
  readonly recordedBy: string;
  readonly via?: string | undefined;
  readonly note?: string | undefined;
}

/** A refused field and why, as the CLI prints and the console shows it. */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

/**
 * Checks a promise against the customer's open items as of `today`: a positive amount in the
 * customer's currency with its decimals, at most what is open and undisputed; a date not in the
 * past and within `maxDays`; someone who recorded it. Every bad field is named; nothing is written.
 */
export function checkPromise(
  req: PromiseRequest,
  ctx: {
    readonly today: IsoDate;
    readonly currency: string;
    /** Undisputed open amount (overdue and not yet due) less unapplied cash, in minor units. */
    readonly open: number;
    readonly rules: PromiseRules;
    readonly now: string;
    /**
     * The reminder whose portal link the customer used: the promise's id is the link's, so a
     * second promise through one link finds the first, whatever it says and whichever day.
     */
    readonly link?: string | undefined;
  },
): { ok: true; promise: PromiseToPay } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const amount = parseMinorUnits(req.amount.trim(), minorDigits(ctx.currency) ?? 2, {
    decimal: '.',
    thousands: ',',
  });
  if (!amount.ok) issues.push({ field: 'amount', message: `${amount.reason} (${ctx.currency})` });
  else if (amount.value <= 0) issues.push({ field: 'amount', message: 'must be more than zero' });
  else if (amount.value > ctx.open)
    issues.push({
      field: 'amount',
      message:
        ctx.open <= 0
          ? 'nothing undisputed is open to promise'
          : `is more than the ${formatMoney(ctx.open, ctx.currency)} open and undisputed`,
    });
  const date = isoDateOrNull(req.promisedDate.trim());
  if (!date) issues.push({ field: 'promisedDate', message: 'must be a date (YYYY-MM-DD)' });
  else if (date < ctx.today)
    issues.push({ field: 'promisedDate', message: `is in the past (today is ${ctx.today})` });
  else if (daysBetween(ctx.today, date) > ctx.rules.maxDays)
    issues.push({
      field: 'promisedDate',
      message: `is more than ${ctx.rules.maxDays} days ahead: the plan takes no promise that far`,
    });
  const by = req.recordedBy.trim();
  if (by === '') issues.push({ field: 'recordedBy', message: 'is required: who took the promise' });
  const via = (req.via ?? 'call').trim().toLowerCase();
  if (!(VIA as readonly string[]).includes(via))
    issues.push({ field: 'via', message: `must be one of ${VIA.join(', ')}` });
  const note = req.note?.trim() || undefined;
  if (note && note.length > 500) issues.push({ field: 'note', message: 'is longer than 500 characters' });
  if (issues.length > 0 || !amount.ok || !date) return { ok: false, issues };
  const content = ctx.link
    ? [req.customerId, 'portal', ctx.link].join('\u0000')
    : [req.customerId, amount.value, ctx.currency, date, ctx.today, by].join('\u0000');
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 10);
  return {
    ok: true,
    promise: {
      promiseId: ctx.link ? `PTP-${ctx.link.slice(0, 10)}-L${hash}` : `PTP-${ctx.today}-${hash}`,
      customerId: req.customerId,
      amount: amount.value,
      currency: ctx.currency,
      promisedDate: date,
      madeOn: ctx.today,
      recordedBy: by,
      via: via as PromiseToPay['via'],
      note,
      recordedAt: ctx.now,
      ...(ctx.link ? { link: ctx.link } : {}),
    },
  };
}

/**
 * A promise rated as of a day from the customer's payments in its currency received from the day it
 * was made: paid in full by the promised date plus the tolerance, kept (as soon as it is); nothing
 * by then, broken; some, partial; otherwise pending. A payment counts for every promise open when
 * it came (two promises a week apart, one payment: both see it), as a collector reads them.
 */
export function ratePromise(
  p: PromiseToPay,
  payments: readonly Payment[],
  asOf: IsoDate,
  rules: PromiseRules,
): RatedPromise {
  const graceEnds = addDays(p.promisedDate, rules.toleranceDays);
  const until = asOf < graceEnds ? asOf : graceEnds;
  const paid = payments
    .filter((x) => x.currency === p.currency && x.receivedDate >= p.madeOn && x.receivedDate <= until)
    .reduce((n, x) => n + x.amount, 0);
  const money = (n: number) => formatMoney(n, p.currency);
  const promised = `${money(p.amount)} promised by ${p.promisedDate} (made ${p.madeOn})`;
  let state: PromiseState;
  let why: string;
  if (paid >= p.amount) {
    state = 'kept';
    why = `${promised}: ${money(paid)} received since`;
  } else if (asOf <= graceEnds) {
    state = 'pending';
    why = `${promised}: ${paid > 0 ? `${money(paid)} received so far; ` : ''}it counts until ${graceEnds}`;
  } else if (paid > 0) {
    state = 'partial';
    why = `${promised}: only ${money(paid)} received by ${graceEnds}`;
  } else {
    state = 'broken';
    why = `${promised}: nothing received by ${graceEnds}`;
  }
  return { ...p, state, paid, graceEnds, why };
}
