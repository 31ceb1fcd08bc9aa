import type { Invoice, Payment } from '../../functions/core/records.ts';
import { type Policy, parsePolicy } from '../../functions/credit/policy.ts';

/** Shared builders of the credit unit tests: customer C1, amounts in EUR cents. */

export function parsed(doc: unknown): Policy {
  const r = parsePolicy(doc);
  if (!r.ok) throw new Error(`policy refused: ${JSON.stringify(r.issues)}`);
  return r.policy;
}

export function inv(
  invoiceId: string,
  issueDate: string,
  dueDate: string,
  amount: number,
  extra: Partial<Invoice> = {},
): Invoice {
  return {
    customerId: 'C1',
    invoiceId,
    issueDate,
    dueDate,
    amount,
    currency: 'EUR',
    disputed: false,
    ...extra,
  };
}

export function pay(
  paymentId: string,
  receivedDate: string,
  amount: number,
  invoiceIds: string[] = [],
  extra: Partial<Payment> = {},
): Payment {
  return { customerId: 'C1', paymentId, receivedDate, amount, currency: 'EUR', invoiceIds, ...extra };
}
