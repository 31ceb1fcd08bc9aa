import { createHash } from 'node:crypto';
import { daysBetween, type IsoDate, isoDateOrNull } from '../core/dates.ts';
import type { FieldIssue } from './promises.ts';

/**
 * Disputes (README "Collections"): a customer contests an invoice; someone owns the answer by a
 * date; until it is resolved the invoice is left out of every demand. One record per invoice holds
 * its dispute now and those before it, so two people opening a dispute on one invoice at once make
 * one dispute (a conditional write on the record). Pure here: the checks and the day's view.
 */

export const DISPUTE_OUTCOMES = ['credit-note', 'customer-pays', 'written-off'] as const;
export type DisputeOutcome = (typeof DISPUTE_OUTCOMES)[number];

export interface Dispute {
  /** `DSP-<opened on>-<hash>`. */
  readonly disputeId: string;
  readonly customerId: string;
  readonly invoiceId: string;
  readonly reason: string;
  /** Who answers it. */
  readonly owner: string;
  /** The day an answer is due. */
  readonly answerBy: IsoDate;
  readonly openedOn: IsoDate;
  readonly openedBy: string;
  readonly openedAt: string;
  readonly resolvedOn?: IsoDate | undefined;
  readonly resolvedBy?: string | undefined;
  readonly outcome?: DisputeOutcome | undefined;
  readonly note?: string | undefined;
}

/** Whether the dispute is open on the day: opened by it and not resolved by it. */
export const openOn = (d: Dispute, asOf: IsoDate): boolean =>
  d.openedOn <= asOf && (d.resolvedOn === undefined || d.resolvedOn > asOf);

/** Days a dispute open on the day has been open, and whether its answer is late. */
export function ageOf(d: Dispute, asOf: IsoDate): { days: number; late: boolean } {
  return { days: daysBetween(d.openedOn, asOf), late: asOf > d.answerBy };
}

export interface DisputeRequest {
  readonly customerId: string;
  readonly invoiceId: string;
  readonly reason: string;
  readonly owner: string;
  readonly answerBy: string;
  readonly openedBy: string;
  readonly note?: string | undefined;
}

/**
 * Checks a dispute to open as of `today` on an invoice the customer has open that day: a reason,
 * an owner, an answer date not in the past (within a year), who opens it. A paid invoice, one not
 * on file, or one already disputed is refused by the caller, which knows the books.
 */
export function checkDispute(
  req: DisputeRequest,
  at: { readonly today: IsoDate; readonly now: string },
): { ok: true; dispute: Dispute } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const reason = req.reason.trim();
  if (reason === '') issues.push({ field: 'reason', message: 'is required: what the customer contests' });
  else if (reason.length > 500) issues.push({ field: 'reason', message: 'is longer than 500 characters' });
  const owner = req.owner.trim();
  if (owner === '') issues.push({ field: 'owner', message: 'is required: who answers it' });
  const answerBy = isoDateOrNull(req.answerBy.trim());
  if (!answerBy) issues.push({ field: 'answerBy', message: 'must be a date (YYYY-MM-DD)' });
  else if (answerBy < at.today)
    issues.push({ field: 'answerBy', message: `is in the past (today is ${at.today})` });
  else if (daysBetween(at.today, answerBy) > 365)
    issues.push({ field: 'answerBy', message: 'is more than a year ahead' });
  const by = req.openedBy.trim();
  if (by === '') issues.push({ field: 'openedBy', message: 'is required: who opens it' });
  const note = req.note?.trim() || undefined;
  if (note && note.length > 500) issues.push({ field: 'note', message: 'is longer than 500 characters' });
  if (issues.length > 0 || !answerBy) return { ok: false, issues };
  const hash = createHash('sha256')
    .update([req.customerId, req.invoiceId, at.today, reason, owner].join('\u0000'))
    .digest('hex')
    .slice(0, 10);
  return {
    ok: true,
    dispute: {
      disputeId: `DSP-${at.today}-${hash}`,
      customerId: req.customerId,
      invoiceId: req.invoiceId,
      reason,
      owner,
      answerBy,
      openedOn: at.today,
      openedBy: by,
      openedAt: at.now,
      note,
    },
  };
}
