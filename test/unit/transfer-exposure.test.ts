import { describe, expect, it } from 'vitest';
import type { CreditFile } from '../../functions/credit/assess.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { commitmentOf, exposureStanding } from '../../functions/transfers/exposure.ts';
import type { Transfer } from '../../functions/transfers/ports.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { inv } from './credit-fixtures.ts';

/**
 * Where a transfer stands in its customer's exposure: the words follow what the credit file holds
 * of it, with the predicate of the exposure figure (console-exposure.test.ts checks them together
 * on the real console for every type and state).
 */

const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
const AS_OF = '2026-06-30';

const approved: Transfer = {
  transferId: 'TR-A',
  request: {
    customerId: 'C1',
    type: 'rebate',
    amount: 50_000,
    currency: 'EUR',
    beneficiaryName: 'Acme',
    beneficiaryAccount: 'DE89370400440532013000',
    reason: 'volume rebate',
    requester: 'rita',
  },
  requestedAt: '2026-06-01T09:00:00.000Z',
  requestedOn: '2026-06-01',
  status: 'approved',
  approvedOn: '2026-06-02',
};

/** C1 owes 4000.00 (one invoice not yet due); `transfers` as the credit file holds them. */
const file = (transfers: CreditFile['transfers']): CreditFile => ({
  customerId: 'C1',
  currency: 'EUR',
  invoices: [inv('I1', '2026-06-10', '2026-07-10', 400_000)],
  payments: [],
  financials: [],
  guarantees: [],
  insurance: [],
  scores: [],
  transfers,
});

const committed = commitmentOf(approved);
if (!committed) throw new Error('fixture: an approved rebate is committed');
const onFile = committed;

describe('exposureStanding', () => {
  it('an approved rebate on the file counts until paid, with the figure with and without it', () => {
    expect(exposureStanding(approved, AS_OF, { file: file([onFile]), policy })).toEqual({
      counts: true,
      words: "Approved on 2026-06-02: it counts in C1's exposure until it is paid.",
      figure: { currency: 'EUR', exposure: 450_000, without: 400_000 },
    });
  });

  it('failed after its approval (the execute step): judged by the file, as an approved one', () => {
    const failed: Transfer = {
      ...approved,
      status: 'failed',
      failure: {
        error: 'Error',
        cause: 'x',
        state: 'Execute',
        at: '2026-06-02T10:00:00.000Z',
        from: 'approved',
      },
    };
    expect(exposureStanding(failed, AS_OF, { file: file([onFile]), policy })).toMatchObject({
      counts: true,
      words:
        "Failed after every level approved it (retry it to finish recording it). Approved on 2026-06-02: it counts in C1's exposure until it is paid.",
      figure: { exposure: 450_000, without: 400_000 },
    });
    expect(exposureStanding(failed, AS_OF, { file: file([]), policy })).toMatchObject({
      counts: false,
      words:
        "Failed after every level approved it, before it was put on C1's credit file: the exposure does not count it until it is retried.",
    });
    const early: Transfer = {
      ...failed,
      failure: { ...(failed.failure as NonNullable<Transfer['failure']>), from: 'pending' },
    };
    expect(exposureStanding(early, AS_OF, { file: file([]), policy })).toMatchObject({
      counts: false,
      words: 'Failed before its last approval: it does not count in the exposure (retry or recall it).',
    });
  });

  it('judged by the file, not the transfer record: approved but missing from the file is not counted', () => {
    expect(exposureStanding(approved, AS_OF, { file: file([]), policy })).toMatchObject({
      counts: false,
      words: "Approved, but not on C1's credit file: the exposure does not count it.",
      figure: { exposure: 400_000, without: 400_000 },
    });
  });

  it('paid on the file: a rebate no longer counts; as of a day before the payment it still did', () => {
    const paid = { ...onFile, paidOn: '2026-06-20' };
    expect(
      exposureStanding({ ...approved, paidOn: '2026-06-20' }, AS_OF, { file: file([paid]), policy }),
    ).toMatchObject({
      counts: false,
      words:
        "Paid on 2026-06-20: it no longer counts in C1's exposure (it counted from 2026-06-02 until then): a rebate is the company's cost, not the customer's debt.",
    });
    expect(exposureStanding(approved, '2026-06-19', { file: file([paid]), policy }).counts).toBe(true);
  });

  it('as of a day before the approval it does not count yet', () => {
    expect(exposureStanding(approved, '2026-06-01', { file: file([onFile]), policy })).toMatchObject({
      counts: false,
      words: "Approved on 2026-06-02: it counts in C1's exposure from that day, not yet as of 2026-06-01.",
    });
  });

  it('a limit increase and a bank account change move no money, and give no figure', () => {
    const limit = {
      ...approved,
      request: { ...approved.request, type: 'credit_release' as const },
      limitChange: { to: 1, reviewId: 'r/C1' },
    };
    expect(exposureStanding(limit, AS_OF, { file: file([]), policy })).toEqual({
      counts: false,
      words: 'A credit limit change moves no money: it never counts in the exposure.',
    });
    const change = {
      ...approved,
      request: { ...approved.request, type: 'bank_account_change' as const, amount: 0 },
    };
    expect(exposureStanding(change, AS_OF, { file: file([]), policy }).figure).toBeUndefined();
  });

  it('without the credit file: the rule alone, and no figure', () => {
    expect(exposureStanding(approved, AS_OF)).toEqual({
      counts: true,
      words: "Approved on 2026-06-02: it counts in C1's exposure until it is paid.",
    });
    expect(exposureStanding({ ...approved, status: 'expired' }, AS_OF)).toEqual({
      counts: false,
      words: 'Expired: it never counted in the exposure.',
      figure: undefined,
    });
  });
});
