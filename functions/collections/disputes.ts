import { createHash } from 'node:crypto';
import { minorDigits } from '../core/currencies.ts';
import { daysBetween, type IsoDate, isoDateOrNull } from '../core/dates.ts';
import { formatMoney, parseMinorUnits } from '../core/money.ts';
import type { DisputedPart } from '../core/receivables.ts';
import type { FieldIssue } from './promises.ts';

/**
 * Disputes (README "Collections"): a customer contests an invoice, or a part of it (a line: an
 * amount, as SAP's dispute cases carry one); someone owns the answer by a date; until it is
 * resolved what it contests is left out of every demand, and the rest of the invoice is chased as
 * usual. One record per invoice holds its dispute now and those before it, so two people opening a
 * dispute on one invoice at once make one dispute (a conditional write on the record). Pure here:
 * the checks and the day's view.
 */

export const DISPUTE_OUTCOMES = ['credit-note', 'customer-pays', 'written-off'] as const;
export type DisputeOutcome = (typeof DISPUTE_OUTCOMES)[number];

export interface Dispute {
  /** `DSP-<opened on>-<hash>`. */
  readonly disputeId: string;
  readonly customerId: string;
  readonly invoiceId: string;
  readonly reason: string;
  /**
   * The part contested, minor units of `currency` (the invoice's). Absent: all that is open on the
   * invoice, day by day (a dispute written before parts were, too).
   */
  readonly amount?: number | undefined;
  /** The invoice's currency, beside `amount`. */
  readonly currency?: string | undefined;
  /** Which line of the invoice is contested, in the customer's words (at most 200 characters). */
  readonly line?: string | undefined;
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

/**
 * The disputes open on the day, by invoice: what each contests (its amount; absent, all that is
 * open) and the line it names. What the statement marks disputed (core/receivables.ts
 * `withDisputes`), so the demand, the statement, the disputed amount and undisputed DSO agree.
 */
export function disputedOn(
  disputes: readonly Dispute[] | undefined,
  asOf: IsoDate,
): Map<string, DisputedPart> {
  const out = new Map<string, DisputedPart>();
  for (const d of disputes ?? [])
    if (openOn(d, asOf))
      out.set(d.invoiceId, {
        ...(d.amount !== undefined ? { amount: d.amount } : {}),
        ...(d.line !== undefined ? { line: d.line } : {}),
      });
  return out;
}

/** What a dispute contests, in words: "340.00 EUR of it" or "the whole invoice", and the line it names. */
export function disputedWords(d: Pick<Dispute, 'amount' | 'currency' | 'line'>): string {
  const part =
    d.amount !== undefined && d.currency ? `${formatMoney(d.amount, d.currency)} of it` : 'the whole invoice';
  return d.line ? `${part} (line: ${d.line})` : part;
}

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
  /** The part contested, as typed ("340.00"), in the invoice's currency; blank: all that is open. */
  readonly amount?: string | undefined;
  /** Which line is contested (optional). */
  readonly line?: string | undefined;
}

/** The invoice as the books have it on the day: what a dispute's amount is read and checked against. */
export interface DisputedInvoice {
  readonly invoiceId: string;
  readonly currency: string;
  /** Minor units open on the day. */
  readonly open: number;
}

/**
 * Checks a dispute to open as of `today` on an invoice the customer has open that day: a reason,
 * an owner, an answer date not in the past (within a year), who opens it; the part contested, if
 * given, a positive amount with the invoice currency's decimals and at most what is open on it
 * that day; the line at most 200 characters. A paid invoice, one not on file, or one already
 * disputed is refused by the caller, which knows the books (`invoice`: undefined when none is on
 * file, and an amount then cannot be read).
 */
export function checkDispute(
  req: DisputeRequest,
  at: { readonly today: IsoDate; readonly now: string },
  invoice?: DisputedInvoice,
): { ok: true; dispute: Dispute } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const reason = req.reason.trim();
  if (reason === '') issues.push({ field: 'reason', message: 'is required: what the customer contests' });
  else if (reason.length > 500) issues.push({ field: 'reason', message: 'is longer than 500 characters' });
  const typed = req.amount?.trim() ?? '';
  let amount: number | undefined;
  if (typed !== '') {
    if (!invoice) issues.push({ field: 'amount', message: 'cannot be read without the invoice on file' });
    else {
      const a = parseMinorUnits(typed, minorDigits(invoice.currency) ?? 2, { decimal: '.', thousands: ',' });
      if (!a.ok) issues.push({ field: 'amount', message: `${a.reason} (${invoice.currency})` });
      else if (a.value <= 0) issues.push({ field: 'amount', message: 'must be more than zero' });
      // Nothing open: the invoice is paid, and the caller says so.
      else if (invoice.open > 0 && a.value > invoice.open)
        issues.push({
          field: 'amount',
          message: `is more than the ${formatMoney(invoice.open, invoice.currency)} open on ${invoice.invoiceId} on ${at.today}`,
        });
      else amount = a.value;
    }
  }
  const line = req.line?.trim() || undefined;
  if (line && line.length > 200) issues.push({ field: 'line', message: 'is longer than 200 characters' });
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
  // A part and a line are in the id when given (another amount is another dispute); a whole
  // invoice's id is what it was before parts were.
  const said = [req.customerId, req.invoiceId, at.today, reason, owner];
  if (amount !== undefined || line) said.push(String(amount ?? ''), line ?? '');
  const hash = createHash('sha256').update(said.join('\u0000')).digest('hex').slice(0, 10);
  return {
    ok: true,
    dispute: {
      disputeId: `DSP-${at.today}-${hash}`,
      customerId: req.customerId,
      invoiceId: req.invoiceId,
      reason,
      ...(amount !== undefined && invoice ? { amount, currency: invoice.currency } : {}),
      ...(line ? { line } : {}),
      owner,
      answerBy,
      openedOn: at.today,
      openedBy: by,
      openedAt: at.now,
      note,
    },
  };
}
