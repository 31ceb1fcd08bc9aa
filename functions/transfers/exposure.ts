import type { IsoDate } from '../core/dates.ts';
import type { TransferCommitment } from '../core/records.ts';
import { type CreditFile, figuresOf, handsBackCash, transferCounts } from '../credit/assess.ts';
import type { Policy } from '../credit/policy.ts';
import type { Transfer } from './ports.ts';

/** A credit limit change or a review's batch of them: approved, it sets limits; it moves no money. */
export const setsLimits = (t: Transfer): boolean => t.limitChange !== undefined || t.limitBatch !== undefined;
/** Nothing to pay and nothing in the exposure: a limit change, a batch of them, a bank account change. */
export const movesNoMoney = (t: Transfer): boolean =>
  setsLimits(t) ||
  t.request.type === 'bank_account_change' ||
  t.policyChange !== undefined ||
  t.orderRelease !== undefined;

/** What the customer's credit file counts of an approved transfer; undefined when it moves no money. */
export function commitmentOf(t: Transfer): TransferCommitment | undefined {
  const r = t.request;
  if (t.status !== 'approved' || r.amount <= 0 || t.approvedOn === undefined || movesNoMoney(t))
    return undefined;
  return {
    customerId: r.customerId,
    transferId: t.transferId,
    transferType: r.type,
    amount: r.amount,
    currency: r.currency,
    approvedOn: t.approvedOn,
    paidOn: t.paidOn,
  };
}

/** What a transfer does to its customer's exposure as of a day, said the way the figure does it. */
export interface ExposureStanding {
  /** Whether the customer's exposure figure counts this transfer as of the day. */
  readonly counts: boolean;
  /** Why, in words a finance reader reads (no figures). */
  readonly words: string;
  /**
   * The exposure as of the day, and what it would be without this transfer: present for a
   * transfer that moves money when the customer's credit file is at hand.
   */
  readonly figure?: { readonly currency: string; readonly exposure: number; readonly without: number };
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  refund: 'a refund',
  overpayment_return: 'an overpayment return',
  rebate: 'a rebate',
  credit_release: 'a credit release',
};

/**
 * Where a transfer stands in its customer's exposure as of `asOf` (DOMAIN: exposure = open
 * receivables + approved but unpaid transfers; see `transferCounts`). An approved transfer is
 * judged by what the credit file holds of it, with the predicate the exposure figure uses, so the
 * words and the figure cannot disagree; the figure is computed with and without it.
 * `credit` undefined: the credit file is not at hand, and the words say only what the rule says.
 */
export function exposureStanding(
  t: Transfer,
  asOf: IsoDate,
  credit?: { readonly file: CreditFile; readonly policy: Policy },
): ExposureStanding {
  const r = t.request;
  const file = credit?.file;
  if (t.policyChange)
    return {
      counts: false,
      words: 'A credit policy change moves no money: it never counts in the exposure.',
    };
  if (t.orderRelease)
    return {
      counts: false,
      words:
        'An order release moves no money: the order counts in the exposure as its reservation once it ships.',
    };
  if (setsLimits(t))
    return {
      counts: false,
      words: 'A credit limit change moves no money: it never counts in the exposure.',
    };
  if (r.type === 'bank_account_change')
    return { counts: false, words: 'A bank account change moves no money: it never counts in the exposure.' };
  const figure = credit && figureOf(t.transferId, credit.file, asOf, credit.policy);
  const status = `${t.status[0]?.toUpperCase()}${t.status.slice(1)}`;
  if (t.status === 'pending')
    return {
      counts: false,
      words: 'Pending: it does not count in the exposure until the last level approves it.',
      figure,
    };
  // Failed after every level approved it (its execute step): judged by what the credit file holds,
  // as an approved one is; failed before that, it never counted.
  const approvedThenFailed = t.status === 'failed' && t.failure?.from === 'approved';
  if (t.status === 'failed' && !approvedThenFailed)
    return {
      counts: false,
      words: 'Failed before its last approval: it does not count in the exposure (retry or recall it).',
      figure,
    };
  if (t.status !== 'approved' && !approvedThenFailed)
    return { counts: false, words: `${status}: it never counted in the exposure.`, figure };
  const onFile = file
    ? file.transfers?.find((c) => c.transferId === t.transferId)
    : approvedThenFailed
      ? undefined
      : commitmentOf(t);
  if (approvedThenFailed) {
    const head = 'Failed after every level approved it';
    if (!onFile)
      return {
        counts: false,
        words: `${head}, before it was put on ${r.customerId}'s credit file: the exposure does not count it until it is retried.`,
        figure,
      };
    const w = approvedWords(onFile, asOf);
    return { counts: w.counts, words: `${head} (retry it to finish recording it). ${w.words}`, figure };
  }
  if (!onFile)
    return {
      counts: false,
      words: `Approved, but not on ${r.customerId}'s credit file: the exposure does not count it.`,
      figure,
    };
  if (file && onFile.currency !== file.currency)
    return {
      counts: false,
      words: `Approved on ${onFile.approvedOn}, but in ${onFile.currency} while ${r.customerId}'s credit currency is ${file.currency}: the exposure does not count it (the limit basis says so).`,
      figure,
    };
  return { ...approvedWords(onFile, asOf), figure };
}

function approvedWords(c: TransferCommitment, asOf: IsoDate): { counts: boolean; words: string } {
  const counts = transferCounts(c, asOf);
  const paid = c.paidOn !== undefined && c.paidOn <= asOf;
  const who = `${c.customerId}'s exposure`;
  if (c.approvedOn > asOf)
    return {
      counts,
      words: `Approved on ${c.approvedOn}: it counts in ${who} from that day, not yet as of ${asOf}.`,
    };
  if (handsBackCash(c.transferType))
    return {
      counts,
      words: paid
        ? `Paid on ${c.paidOn}: it keeps counting in ${who}, as since its approval on ${c.approvedOn}: it handed back unapplied cash the receivables still hold.`
        : `Approved on ${c.approvedOn}: it counts in ${who} from that day, and keeps counting once paid: it hands back unapplied cash the receivables still hold.`,
    };
  return {
    counts,
    words: paid
      ? `Paid on ${c.paidOn}: it no longer counts in ${who} (it counted from ${c.approvedOn} until then): ${TYPE_WORDS[c.transferType] ?? 'it'} is the company's cost, not the customer's debt.`
      : `Approved on ${c.approvedOn}: it counts in ${who} until it is paid.`,
  };
}

/** The exposure figure as of `asOf`, and the same without the transfer. */
function figureOf(transferId: string, file: CreditFile, asOf: IsoDate, policy: Policy) {
  const without = { ...file, transfers: (file.transfers ?? []).filter((c) => c.transferId !== transferId) };
  return {
    currency: file.currency,
    exposure: figuresOf(file, asOf, policy).exposure,
    without: figuresOf(without, asOf, policy).exposure,
  };
}
