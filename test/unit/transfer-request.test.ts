import { describe, expect, it } from 'vitest';
import {
  checkTransferRequest,
  ibanProblem,
  parseTransferRequest,
} from '../../functions/transfers/request.ts';

const valid = {
  customerId: 'ACME',
  type: 'refund',
  amount: '12500.00',
  currency: 'eur',
  beneficiaryName: 'Acme Ltd',
  beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
  reason: 'Credit note CN-17 refunded',
  requester: 'rita',
};

describe('transfer requests', () => {
  it('reads a valid request: minor units, upper-case currency, account without spaces', () => {
    expect(parseTransferRequest(valid)).toEqual({
      ok: true,
      request: { ...valid, amount: 1_250_000, currency: 'EUR', beneficiaryAccount: 'DE89370400440532013000' },
    });
    // A currency without minor units.
    const yen = parseTransferRequest({
      ...valid,
      currency: 'JPY',
      amount: '125000',
      beneficiaryAccount: '1234567',
    });
    expect(yen).toMatchObject({ ok: true, request: { amount: 125_000 } });
  });

  it('checks IBAN check digits (ISO 13616 mod 97)', () => {
    expect(ibanProblem('DE89370400440532013000')).toBeUndefined();
    expect(ibanProblem('GB82WEST12345698765432')).toBeUndefined();
    expect(ibanProblem('NL91ABNA0417164300')).toBeUndefined();
    expect(ibanProblem('DE89370400440532013001')).toMatch(/check digits/);
    expect(ibanProblem('DE8937')).toMatch(/not an IBAN/);
  });

  it('names every bad field', () => {
    const r = parseTransferRequest({
      ...valid,
      type: 'gift',
      amount: '12,500.00',
      currency: 'EURO',
      beneficiaryAccount: 'DE89 3704 0044 0532 0130 01',
      reason: '',
      requester: ' ',
    });
    expect(r.ok).toBe(false);
    const fields = r.ok ? [] : r.issues.map((i) => i.field).sort();
    // The account is checked by itself; the amount needs a valid type and currency to be judged.
    expect(fields).toEqual(['beneficiaryAccount', 'currency', 'reason', 'requester', 'type']);
    const r1 = parseTransferRequest({ ...valid, amount: '12.345', reason: '' });
    expect(r1).toEqual({
      ok: false,
      issues: [
        { field: 'amount', message: 'has more than 2 decimals (EUR)' },
        { field: 'reason', message: 'must say why (at least 3 characters)' },
      ],
    });
    const r2 = parseTransferRequest({
      ...valid,
      amount: '12.345',
      beneficiaryAccount: 'DE89 3704 0044 0532 0130 01',
    });
    expect(r2).toEqual({
      ok: false,
      issues: [
        { field: 'amount', message: 'has more than 2 decimals (EUR)' },
        { field: 'beneficiaryAccount', message: 'fails the IBAN check digits (a typo?)' },
      ],
    });
  });

  it('refuses what is not money leaving: zero, negative, missing; and unknown fields', () => {
    for (const amount of ['0', '-5.00', '', undefined])
      expect(parseTransferRequest({ ...valid, amount }), String(amount)).toMatchObject({
        ok: false,
        issues: [{ field: 'amount' }],
      });
    expect(parseTransferRequest({ ...valid, approver: 'rita' })).toMatchObject({
      ok: false,
      issues: [{ field: '(body)' }],
    });
    expect(parseTransferRequest('not an object')).toMatchObject({ ok: false });
  });

  it('a bank account change moves no money', () => {
    const change = { ...valid, type: 'bank_account_change', amount: undefined };
    expect(parseTransferRequest(change)).toMatchObject({ ok: true, request: { amount: 0 } });
    expect(parseTransferRequest({ ...change, amount: '0.00' })).toMatchObject({ ok: true });
    expect(parseTransferRequest({ ...change, amount: '10.00' })).toMatchObject({
      ok: false,
      issues: [{ field: 'amount', message: 'must be absent or 0 for a bank account change' }],
    });
  });

  it('a refused request still hands on the fields that passed, for the checks against the store', () => {
    expect(checkTransferRequest({ ...valid, customerId: ' NOPE42 ', reason: '' })).toEqual({
      ok: false,
      issues: [{ field: 'reason', message: 'must say why (at least 3 characters)' }],
      passed: { customerId: 'NOPE42', type: 'refund', amount: 1_250_000, currency: 'EUR' },
    });
    // A field that failed is not handed on; the amount needs its type and currency.
    expect(checkTransferRequest({ ...valid, customerId: '', currency: 'EURO' })).toMatchObject({
      ok: false,
      passed: { customerId: undefined, type: 'refund', amount: undefined, currency: undefined },
    });
    expect(checkTransferRequest({ ...valid, amount: '1.234', requester: '' })).toMatchObject({
      passed: { customerId: 'ACME', amount: undefined, currency: 'EUR' },
    });
  });
});
