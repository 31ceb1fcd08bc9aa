import type { DynamoStore } from '../../functions/adapters/dynamodb.ts';
import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import type { Invoice, Payment } from '../../functions/core/records.ts';
import { assess, type CreditFile } from '../../functions/credit/assess.ts';
import { type Policy, parsePolicy } from '../../functions/credit/policy.ts';
import type { StoredRecord } from '../../functions/ingest/ports.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * The book the review tests share: four customers billing the same each month, each with a limit
 * set relative to the recommendation so its review lands on one outcome (the recommendation never
 * depends on the limit a customer has).
 */

export const REVIEW_AS_OF: IsoDate = '2026-06-30';
export const MONTHLY = 40_000_00;

/** The default policy under its own version. */
export function reviewTestPolicy(version = 'review-test'): Policy {
  const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as { version: string };
  doc.version = version;
  const r = parsePolicy(doc);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.policy;
}

/** A customer billing `monthly` EUR cents each month of the year to the as-of date, paid on time. */
export function books(customerId: string, monthly = MONTHLY): { invoices: Invoice[]; payments: Payment[] } {
  const invoices: Invoice[] = [];
  const payments: Payment[] = [];
  for (let m = 0; m < 12; m++) {
    const issueDate = addDays(REVIEW_AS_OF, -30 * (m + 1));
    const dueDate = addDays(issueDate, 30);
    const invoiceId = `${customerId}-I${m}`;
    invoices.push({
      customerId,
      invoiceId,
      issueDate,
      dueDate,
      amount: monthly,
      currency: 'EUR',
      disputed: false,
    });
    if (dueDate <= REVIEW_AS_OF)
      payments.push({
        customerId,
        paymentId: `${customerId}-P${m}`,
        receivedDate: dueDate,
        amount: monthly,
        currency: 'EUR',
        invoiceIds: [invoiceId],
      });
  }
  return { invoices, payments };
}

/** The limit the scorecard recommends for such a customer under `policy`. */
export function recommendedFor(policy: Policy, monthly = MONTHLY): number {
  const file: CreditFile = {
    customerId: 'CX',
    customer: { customerId: 'CX', name: 'CX', currency: 'EUR' },
    currency: 'EUR',
    ...books('CX', monthly),
    financials: [],
    guarantees: [],
    insurance: [],
    scores: [],
  };
  const r = assess(file, REVIEW_AS_OF, policy).limit.recommended;
  if (r === undefined) throw new Error('the review book has sales, so it has a recommendation');
  return r;
}

/** Each customer's limit, relative to the recommendation, the outcome it must give, and its words on the console. */
export const CASES = {
  // A third above the recommendation: a cut of a quarter, still above the exposure (one month billed).
  CCUT: { limit: (r: number) => Math.round(r / 0.75), outcome: 'cut', words: 'limit cut' },
  CRAISE: { limit: (r: number) => Math.round(r / 1.15), outcome: 'raise', words: 'limit raised' },
  CAPPROVE: { limit: (r: number) => Math.round(r / 2), outcome: 'approval', words: 'approval asked' },
  CKEEP: { limit: (r: number) => r, outcome: 'keep', words: 'limit kept' },
} as const;
export type CaseId = keyof typeof CASES;

/** Writes the four customers (master data, books, a summary so they are listed) into the store. */
export async function seedReviewBook(
  store: Pick<DynamoStore, 'write' | 'saveDerived'>,
  recommended: number,
): Promise<void> {
  const from = { runId: 'seed', line: 2 };
  const rows: StoredRecord[] = [];
  for (const [id, c] of Object.entries(CASES)) {
    const b = books(id);
    rows.push({
      kind: 'customers',
      row: { customerId: id, name: `${id} Ltd`, currency: 'EUR', creditLimit: c.limit(recommended) },
      from,
    });
    for (const row of b.invoices) rows.push({ kind: 'invoices', row, from });
    for (const row of b.payments) rows.push({ kind: 'payments', row, from });
  }
  await store.write(rows);
  await listCustomers(store, Object.keys(CASES));
}

/**
 * Writes an empty receivables summary for each customer, so the customer list (the summaries'
 * sharded index) names them; their figures are not read by the reviews.
 */
export async function listCustomers(
  store: Pick<DynamoStore, 'saveDerived'>,
  ids: readonly string[],
): Promise<void> {
  await store.saveDerived(
    ids.map((customerId) => ({
      customerId,
      applications: [],
      summary: {
        customerId,
        currency: 'EUR',
        asOf: REVIEW_AS_OF,
        openAmount: 0,
        overdueAmount: 0,
        disputedAmount: 0,
        aging: { notDue: 0, d1_30: 0, d31_60: 0, d61_90: 0, d91_180: 0, over180: 0 },
        openInvoices: 0,
        maxDaysPastDue: 0,
        settledInvoices: 0,
        avgDaysLate: null,
        unappliedCash: 0,
        dso: null,
        otherCurrencies: [],
      },
    })),
  );
}
