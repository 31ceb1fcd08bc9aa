import { addDays, type IsoDate } from '../core/dates.ts';
import { type Aging, type CustomerBooks, receivablesAsOf } from '../core/receivables.ts';
import type { LimitChange } from '../reviews/ports.ts';
import type { Review } from '../reviews/review.ts';
import { assess, type CreditFile } from './assess.ts';
import { asOfFile } from './evaluate.ts';
import type { Policy, Rating, RiskClass } from './policy.ts';

/**
 * A customer's credit file over time (the console's customer page): its aging and its scorecard as
 * of each of the last month-ends, and every change of its credit limit the store knows. Pure: the
 * figures of a month-end are the ones the statement and the assessment give as of that day, from
 * the same books (`receivablesAsOf`, `assess`), so they are reproducible and never a second formula.
 */

/** The month-ends on or before `asOf`, oldest first: `n` of them. */
export function monthEnds(asOf: IsoDate, n = 12): IsoDate[] {
  let y = Number(asOf.slice(0, 4));
  let m = Number(asOf.slice(5, 7));
  const endOf = (yy: number, mm: number) =>
    addDays(mm === 12 ? `${yy + 1}-01-01` : `${yy}-${String(mm + 1).padStart(2, '0')}-01`, -1);
  if (endOf(y, m) > asOf) [y, m] = m === 1 ? [y - 1, 12] : [y, m - 1];
  const out: IsoDate[] = [];
  for (let i = 0; i < n; i++) {
    out.push(endOf(y, m));
    [y, m] = m === 1 ? [y - 1, 12] : [y, m - 1];
  }
  return out.reverse();
}

/** The books as the statement reads them (ReceivablesQueries.customer): in the master data's currency. */
export const statementBooks = (file: CreditFile): CustomerBooks => ({
  customerId: file.customerId,
  currency: file.customer?.currency,
  invoices: file.invoices,
  payments: file.payments,
});

/** One month-end of the history. */
export interface HistoryPoint {
  readonly asOf: IsoDate;
  /**
   * The figures as of that day; undefined before the first invoice (nothing on file then: no
   * data, which is not the same as no risk).
   */
  readonly figures?:
    | {
        readonly currency: string;
        readonly aging: Aging;
        readonly openAmount: number;
        readonly overdueAmount: number;
        readonly score: number;
        readonly rating: Rating;
        readonly riskClass: RiskClass;
      }
    | undefined;
}

/**
 * The aging and the assessment as of each date, under `policy`: the aging is the statement's as
 * of that date (`receivablesAsOf` on the statement's books), the score and rating the assessment
 * the evaluation would have made that day (only assessments of earlier days count as its history).
 */
export function creditHistory(file: CreditFile, dates: readonly IsoDate[], policy: Policy): HistoryPoint[] {
  const books = statementBooks(file);
  let first: IsoDate | undefined;
  for (const i of file.invoices) if (first === undefined || i.issueDate < first) first = i.issueDate;
  return dates.map((asOf) => {
    if (first === undefined || first > asOf) return { asOf };
    const a = assess(asOfFile(file, asOf), asOf, policy);
    // With a credit currency on the master data the assessment's receivables are the statement's
    // (same books, same currency): read them there instead of allocating the payments twice.
    const s =
      books.currency !== undefined && books.currency === a.currency
        ? a.figures.receivables.summary
        : receivablesAsOf(books, asOf).summary;
    return {
      asOf,
      figures: {
        currency: s.currency,
        aging: s.aging,
        openAmount: s.openAmount,
        overdueAmount: s.overdueAmount,
        score: a.score,
        rating: a.rating,
        riskClass: a.riskClass,
      },
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The credit limit over time

/** One change of the credit limit: from what to what, on which day, and why. */
export interface LimitStep {
  /** The day it took effect; undefined when the store does not know it (a limit as first uploaded). */
  readonly on?: IsoDate | undefined;
  readonly currency: string;
  readonly from?: number | undefined;
  readonly to: number;
  /** review: a periodic review set it; approval: the approval chain approved it; upload: the master data. */
  readonly source: 'review' | 'approval' | 'upload';
  readonly reason: string;
  readonly by?: string | undefined;
  readonly reviewId?: string | undefined;
  readonly transferId?: string | undefined;
  /** The ingest run of an upload. */
  readonly runId?: string | undefined;
}

/** What the limit history is built from. */
export interface LimitSources {
  readonly customerId: string;
  /** The limit on the master data now, in `currency` (undefined: no limit on file). */
  readonly current?: { readonly amount: number; readonly currency: string } | undefined;
  /** Where the master data's limit came from (CustomerPartition.profileSource). */
  readonly profile?: { readonly runId?: string; readonly limitSetBy?: string } | undefined;
  /** The day the run that wrote the master data ran, when known. */
  readonly uploadedOn?: IsoDate | undefined;
  /** The limit records kept on the customer's file (reviews' cuts and raises, approved changes). */
  readonly records: readonly LimitChange[];
  /** The customer's reviews: a cut or raise carried out without a record kept beside it. */
  readonly reviews: readonly Review[];
  /** Approved limit changes asked for this customer: any the records do not hold. */
  readonly approved: readonly {
    readonly transferId: string;
    readonly approvedOn?: IsoDate | undefined;
    readonly currency: string;
    readonly from?: number | undefined;
    readonly to: number;
    readonly reviewId: string;
  }[];
}

const TRANSFER_ID = /\bTR-[A-Z0-9]+\b/;

/**
 * Every change of the credit limit the store knows, oldest first: the records kept with each
 * limit a review or an approval set; reviews and approved changes with no record (older data);
 * and the master data's limit as uploaded, when no review or approval set it since.
 */
export function limitHistory(s: LimitSources): LimitStep[] {
  const steps: LimitStep[] = [];
  const seen = new Set<string>();
  for (const r of s.records) {
    seen.add(r.reviewId);
    const approval = r.by === 'approval chain';
    steps.push({
      on: r.on,
      currency: r.currency,
      from: r.from,
      to: r.to,
      source: approval ? 'approval' : 'review',
      reason: r.reason,
      by: r.by,
      reviewId: r.reviewId,
      transferId: approval ? TRANSFER_ID.exec(r.reason)?.[0] : undefined,
    });
  }
  for (const r of s.reviews) {
    if (seen.has(r.reviewId) || r.status !== 'done' || !r.applied) continue;
    if ((r.outcome !== 'cut' && r.outcome !== 'raise') || r.limitAfter === undefined || !r.currency) continue;
    seen.add(r.reviewId);
    steps.push({
      on: r.asOf,
      currency: r.currency,
      from: r.currentLimit,
      to: r.limitAfter,
      source: 'review',
      reason: r.decision ?? '',
      reviewId: r.reviewId,
    });
  }
  for (const t of s.approved) {
    if (seen.has(t.reviewId)) continue;
    seen.add(t.reviewId);
    steps.push({
      on: t.approvedOn,
      currency: t.currency,
      from: t.from,
      to: t.to,
      source: 'approval',
      reason: `approved at every level (transfer ${t.transferId})`,
      reviewId: t.reviewId,
      transferId: t.transferId,
    });
  }
  steps.sort((a, b) => ((a.on ?? '') < (b.on ?? '') ? -1 : (a.on ?? '') > (b.on ?? '') ? 1 : 0));
  const cur = s.current;
  if (cur === undefined) return steps;
  const upload = (
    on: IsoDate | undefined,
    from: number | undefined,
    to: number,
    what: string,
  ): LimitStep => ({
    on,
    currency: cur.currency,
    from,
    to,
    source: 'upload',
    reason: what,
    runId: s.profile?.runId,
  });
  if (s.profile?.limitSetBy === undefined) {
    // The master data's limit is the one last uploaded: a change when it differs from the last set.
    const last = steps.at(-1);
    if (last === undefined)
      steps.push(
        upload(s.uploadedOn, undefined, cur.amount, 'the credit limit of the customers file uploaded'),
      );
    else if (last.to !== cur.amount || last.currency !== cur.currency)
      steps.push(
        upload(
          s.uploadedOn,
          last.currency === cur.currency ? last.to : undefined,
          cur.amount,
          "the customers file uploaded since set another limit (the ERP's)",
        ),
      );
  } else if (steps[0]?.from !== undefined && steps[0].currency === cur.currency) {
    // Set since by a review or an approval: the first change's "from" is the limit uploaded before
    // it. The master data's run is that upload's only when it ran before the first change (an
    // upload after it would have written the ERP's limit and its own run since).
    const first = steps[0];
    const known = s.uploadedOn !== undefined && first.on !== undefined && s.uploadedOn <= first.on;
    steps.unshift({
      ...upload(
        known ? s.uploadedOn : undefined,
        undefined,
        steps[0].from,
        'the credit limit of the customers file uploaded',
      ),
      runId: known ? s.profile?.runId : undefined,
    });
  }
  return steps;
}
