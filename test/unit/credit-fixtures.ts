import type { Invoice, Payment } from '../../functions/core/records.ts';
import { type Policy, parsePolicy } from '../../functions/credit/policy.ts';

/** Shared builders of the credit and receivables unit tests: customer C1, amounts in minor units (EUR unless asked). */

export function parsed(doc: unknown): Policy {
  const r = parsePolicy(doc);
  if (!r.ok) throw new Error(`policy refused: ${JSON.stringify(r.issues)}`);
  return r.policy;
}

/** Invoice and payment builders for customer C1 in one currency. */
export function bookBuilders(currency: string) {
  const inv = (
    invoiceId: string,
    issueDate: string,
    dueDate: string,
    amount: number,
    extra: Partial<Invoice> = {},
  ): Invoice => ({
    customerId: 'C1',
    invoiceId,
    issueDate,
    dueDate,
    amount,
    currency,
    disputed: false,
    ...extra,
  });
  const pay = (
    paymentId: string,
    receivedDate: string,
    amount: number,
    invoiceIds: string[] = [],
    extra: Partial<Payment> = {},
  ): Payment => ({ customerId: 'C1', paymentId, receivedDate, amount, currency, invoiceIds, ...extra });
  return { inv, pay };
}

export const { inv, pay } = bookBuilders('EUR');
