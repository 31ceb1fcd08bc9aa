import * as z from 'zod';
import { isCurrency, minorDigits } from '../core/currencies.ts';
import { parseMinorUnits } from '../core/money.ts';

/** Money leaving the company for or on behalf of a customer (DOMAIN "Multi-level approval"): what a person requests. */
export const TRANSFER_TYPES = [
  'refund',
  'overpayment_return',
  'rebate',
  'credit_release',
  'bank_account_change',
] as const;
/**
 * What only a periodic review asks the approval chain for: a credit limit decrease it may not
 * make on its own, and a run's limit changes asked together. No money moves.
 */
export const REVIEW_TRANSFER_TYPES = ['limit_decrease', 'limit_batch'] as const;
/**
 * A new customer's initial credit limit (README "Credit applications"): asked when a credit
 * application is filed; approving it sets the limit (and the master data from the application where
 * the customer has none). No money moves.
 */
export const CREDIT_APPLICATION = 'credit_application';
/**
 * A change of the credit policy (README "The policy"): asked when a policy is uploaded or set,
 * about no customer; approving it puts the policy in force. No money moves.
 */
export const POLICY_CHANGE = 'policy_change';
/**
 * A held order shipped by exception (README "Held orders"): asked by a person for an order a credit
 * check holds, with a reason and an end date; approving it lets the order ship until then
 * (functions/checks/holds.ts). Its amount is the order's, so the levels by amount apply. No money moves.
 */
export const ORDER_RELEASE = 'order_release';
/** The `customerId` a policy change is filed under (it is about no customer). */
export const POLICY_SUBJECT = 'credit-policy';
export type TransferType =
  | (typeof TRANSFER_TYPES)[number]
  | (typeof REVIEW_TRANSFER_TYPES)[number]
  | typeof CREDIT_APPLICATION
  | typeof POLICY_CHANGE
  | typeof ORDER_RELEASE;

/** ISO 13616 IBAN check: country, two check digits, then mod 97 of the rearranged digits is 1. */
export function ibanProblem(iban: string): string | undefined {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban))
    return 'is not an IBAN (two letters, two digits, 11-30 letters or digits)';
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rest = (rest * (v >= 10 ? 100 : 10) + v) % 97;
  }
  return rest === 1 ? undefined : 'fails the IBAN check digits (a typo?)';
}

/** An account number as it is compared: no spaces or dashes, upper case. */
export function normalAccount(text: string): string {
  return text.replace(/[\s-]+/g, '').toUpperCase();
}

const text = (max: number) =>
  z.string().trim().min(1, 'is required').max(max, `must be at most ${max} characters`);

/** The fields of a request in the order a form shows them (and a 400 answer lists their problems). */
export const REQUEST_FIELDS = [
  'customerId',
  'type',
  'amount',
  'currency',
  'beneficiaryName',
  'beneficiaryAccount',
  'reason',
  'requester',
] as const;

/** A transfer request as the API, the CLI and the console form send it: amounts as decimal text. */
export const transferRequestInput = z
  .strictObject({
    customerId: text(64),
    type: z.enum(TRANSFER_TYPES, { error: `must be one of ${TRANSFER_TYPES.join(', ')}` }),
    /** Decimal text in major units, e.g. "12500.00"; "0" or absent for a bank account change. */
    amount: z.string().trim().optional(),
    currency: z.string().trim().toUpperCase().refine(isCurrency, 'is not an ISO 4217 currency code'),
    beneficiaryName: text(140),
    /** An IBAN (checked) or another account number. */
    beneficiaryAccount: text(64)
      .transform(normalAccount)
      .superRefine((account, ctx) => {
        const p = /^[A-Z]{2}\d{2}/.test(account) ? ibanProblem(account) : undefined;
        if (p) ctx.addIssue({ code: 'custom', message: p });
      }),
    reason: z
      .string()
      .trim()
      .min(3, 'must say why (at least 3 characters)')
      .max(500, 'must be at most 500 characters'),
    requester: text(64),
  })
  .transform((r, ctx) => {
    const a = amountOf(r.type, r.amount, r.currency);
    if (!a.ok) ctx.addIssue({ code: 'custom', path: ['amount'], message: a.message });
    return { ...r, amount: a.ok ? a.value : 0 };
  });

/**
 * The amount in minor units of `currency`: required and above zero, except for a bank account
 * change, which moves no money (absent or 0). Needs a valid type and currency.
 */
function amountOf(
  type: (typeof TRANSFER_TYPES)[number],
  text: string | undefined,
  currency: string,
): { ok: true; value: number } | { ok: false; message: string } {
  const digits = minorDigits(currency) ?? 2;
  const given = text !== undefined && text.trim() !== '';
  const a = given ? parseMinorUnits(text.trim(), digits, { decimal: '.', thousands: '' }) : undefined;
  if (type === 'bank_account_change')
    return !a || (a.ok && a.value === 0)
      ? { ok: true, value: 0 }
      : { ok: false, message: 'must be absent or 0 for a bank account change' };
  if (!a) return { ok: false, message: `is required (${currency})` };
  if (!a.ok) return { ok: false, message: `${a.reason} (${currency})` };
  if (a.value <= 0) return { ok: false, message: 'must be greater than zero' };
  return { ok: true, value: a.value };
}

/**
 * A valid request: the amount in minor units of `currency` (0 for a bank account change). A person
 * requests one of TRANSFER_TYPES; a periodic review also asks for REVIEW_TRANSFER_TYPES.
 */
export type TransferRequest = Omit<z.output<typeof transferRequestInput>, 'type'> & {
  readonly type: TransferType;
};

export interface RequestIssue {
  readonly field: string;
  readonly message: string;
}

export type RequestResult =
  | { readonly ok: true; readonly request: TransferRequest }
  | { readonly ok: false; readonly issues: RequestIssue[] };

/**
 * The fields a request's checks against the store need (the customer, and the amount in its
 * currency), as far as they passed on their own: a request with a bad reason is still checked for
 * an unknown customer, so one answer names every bad field.
 */
export type PassedFields = Partial<Pick<TransferRequest, 'customerId' | 'type' | 'amount' | 'currency'>>;

/** Problems in the order of the form's fields (unknown fields last). */
export function byFieldOrder(issues: readonly RequestIssue[]): RequestIssue[] {
  const at = (f: string) => {
    const i = REQUEST_FIELDS.indexOf(f as (typeof REQUEST_FIELDS)[number]);
    return i < 0 ? REQUEST_FIELDS.length : i;
  };
  return [...issues].sort((p, q) => at(p.field) - at(q.field));
}

/** Validates a request; every problem names its field (what a 400 answer lists). */
export function parseTransferRequest(input: unknown): RequestResult {
  const r = checkTransferRequest(input);
  return r.ok ? r : { ok: false, issues: r.issues };
}

/** As `parseTransferRequest`, with the fields that passed when some did not. */
export function checkTransferRequest(
  input: unknown,
):
  | { readonly ok: true; readonly request: TransferRequest }
  | { readonly ok: false; readonly issues: RequestIssue[]; readonly passed: PassedFields } {
  const r = transferRequestInput.safeParse(input);
  if (r.success) return { ok: true, request: r.data };
  const issues = r.error.issues.map((i) => ({
    field: i.path.map(String).join('.') || '(body)',
    message: i.message,
  }));
  // The amount is checked against the type and currency after every field passed on its own:
  // when another field failed, it is checked here, so one answer names every bad field.
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const failed = new Set(issues.map((i) => i.field));
  const type = failed.has('type') ? undefined : TRANSFER_TYPES.find((t) => t === raw.type);
  const currency =
    !failed.has('currency') && typeof raw.currency === 'string'
      ? raw.currency.trim().toUpperCase()
      : undefined;
  const customerId =
    !failed.has('customerId') && typeof raw.customerId === 'string' ? raw.customerId.trim() : undefined;
  const amount = raw.amount;
  let value: number | undefined;
  if (
    !failed.has('amount') &&
    type !== undefined &&
    currency !== undefined &&
    (amount === undefined || typeof amount === 'string')
  ) {
    const a = amountOf(type, amount, currency);
    if (!a.ok) issues.push({ field: 'amount', message: a.message });
    else value = a.value;
  }
  return { ok: false, issues: byFieldOrder(issues), passed: { customerId, type, amount: value, currency } };
}
