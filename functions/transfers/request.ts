import { z } from 'zod';
import { isCurrency, minorDigits } from '../core/currencies.ts';
import { parseMinorUnits } from '../core/money.ts';

/** Money leaving the company for or on behalf of a customer (DOMAIN "Multi-level approval"). */
export const TRANSFER_TYPES = [
  'refund',
  'overpayment_return',
  'rebate',
  'credit_release',
  'bank_account_change',
] as const;
export type TransferType = (typeof TRANSFER_TYPES)[number];

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
    beneficiaryAccount: text(64).transform(normalAccount),
    reason: z
      .string()
      .trim()
      .min(3, 'must say why (at least 3 characters)')
      .max(500, 'must be at most 500 characters'),
    requester: text(64),
  })
  .transform((r, ctx) => {
    const digits = minorDigits(r.currency) ?? 2;
    let amount = 0;
    if (r.type === 'bank_account_change') {
      if (r.amount !== undefined && r.amount !== '') {
        const a = parseMinorUnits(r.amount, digits, { decimal: '.', thousands: '' });
        if (!a.ok || a.value !== 0)
          ctx.addIssue({
            code: 'custom',
            path: ['amount'],
            message: 'must be absent or 0 for a bank account change',
          });
      }
    } else {
      const a =
        r.amount === undefined || r.amount === ''
          ? ({ ok: false, reason: 'is required' } as const)
          : parseMinorUnits(r.amount, digits, { decimal: '.', thousands: '' });
      if (!a.ok) ctx.addIssue({ code: 'custom', path: ['amount'], message: `${a.reason} (${r.currency})` });
      else if (a.value <= 0)
        ctx.addIssue({ code: 'custom', path: ['amount'], message: 'must be greater than zero' });
      else amount = a.value;
    }
    if (/^[A-Z]{2}\d{2}/.test(r.beneficiaryAccount)) {
      const p = ibanProblem(r.beneficiaryAccount);
      if (p) ctx.addIssue({ code: 'custom', path: ['beneficiaryAccount'], message: p });
    }
    return { ...r, amount };
  });

/** A valid request: the amount in minor units of `currency` (0 for a bank account change). */
export type TransferRequest = z.output<typeof transferRequestInput>;

export type RequestResult =
  | { readonly ok: true; readonly request: TransferRequest }
  | { readonly ok: false; readonly issues: { readonly field: string; readonly message: string }[] };

/** Validates a request; every problem names its field (what a 400 answer lists). */
export function parseTransferRequest(input: unknown): RequestResult {
  const r = transferRequestInput.safeParse(input);
  if (r.success) return { ok: true, request: r.data };
  return {
    ok: false,
    issues: r.error.issues.map((i) => ({
      field: i.path.map(String).join('.') || '(body)',
      message: i.message,
    })),
  };
}
