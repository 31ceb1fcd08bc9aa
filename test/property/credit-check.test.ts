import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CheckFile,
  type CheckOrder,
  decideCredit,
  type Reservation,
} from '../../functions/checks/decide.ts';
import { addDays } from '../../functions/core/dates.ts';
import { policyInForce, RATINGS, SEVERITIES } from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * The credit check's decision as properties over generated credit files (README "Credit checks"):
 * the same inputs give the same decision, and a larger order never turns a hold (or a block, or a
 * prepayment) into an approval.
 */
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
const TODAY = '2026-06-30';
const RISK = { A: 'low', B: 'low', C: 'medium', D: 'high', E: 'high' } as const;

const money = fc.integer({ min: 0, max: 20_000_000 });
const reservationArb = fc.record({
  counted: fc.integer({ min: 1, max: 5_000_000 }),
  shipIn: fc.integer({ min: 0, max: 60 }),
  reservedAgo: fc.integer({ min: 0, max: 10 }),
});

const fileArb: fc.Arbitrary<CheckFile | undefined> = fc.option(
  fc
    .record({
      limit: fc.option(fc.integer({ min: 0, max: 10_000_000 }), { nil: undefined }),
      open: money,
      unapplied: fc.integer({ min: 0, max: 2_000_000 }),
      maxDaysPastDue: fc.integer({ min: -30, max: 120 }),
      rating: fc.option(fc.constantFrom(...RATINGS), { nil: undefined }),
      hold: fc.boolean(),
      handover: fc.boolean(),
      alerts: fc.array(
        fc.record({
          rule: fc.constantFrom('daysPastDue', 'limitUse', 'staleFinancials', 'brokenPromise'),
          severity: fc.constantFrom(...SEVERITIES),
        }),
        { maxLength: 3 },
      ),
      transfers: fc.array(fc.integer({ min: 1, max: 500_000 }), { maxLength: 3 }),
      orders: fc.array(reservationArb, { maxLength: 5 }),
    })
    .map(
      (g): CheckFile => ({
        customer: { customerId: 'C1', name: 'Acme', currency: 'EUR', creditLimit: g.limit },
        summary: {
          customerId: 'C1',
          currency: 'EUR',
          asOf: '2026-06-28',
          openAmount: g.open,
          overdueAmount: 0,
          disputedAmount: 0,
          aging: {} as never,
          openInvoices: 1,
          maxDaysPastDue: g.maxDaysPastDue,
          settledInvoices: 0,
          avgDaysLate: null,
          unappliedCash: g.unapplied,
          dso: null,
          otherCurrencies: [],
        },
        assessment: g.rating
          ? { asOf: '2026-06-29', rating: g.rating, riskClass: RISK[g.rating], score: 50, policyId: 'p' }
          : undefined,
        hold: g.hold
          ? { customerId: 'C1', state: 'on', since: '2026-06-01', by: 'collections', reason: 'x' }
          : undefined,
        handovers: g.handover ? [{ on: '2026-06-02', state: 'open', level: 'legal' }] : [],
        transfers: g.transfers.map((amount, i) => ({
          customerId: 'C1',
          transferId: `T${i}`,
          transferType: 'rebate',
          amount,
          currency: 'EUR',
          approvedOn: '2026-06-01',
        })),
        alerts: g.alerts,
        orders: {
          version: g.orders.length,
          reservations: Object.fromEntries(
            g.orders.map((o, i): [string, Reservation] => [
              `SO-${i}`,
              {
                orderId: `SO-${i}`,
                amount: o.counted,
                currency: 'EUR',
                counted: o.counted,
                creditCurrency: 'EUR',
                requestedShipDate: addDays(TODAY, o.shipIn),
                stage: 'order',
                channel: 'web',
                reservedOn: addDays(TODAY, -o.reservedAgo),
                expiresOn: addDays(TODAY, 7 - o.reservedAgo),
              },
            ]),
          ),
        },
        fxRates: [],
      }),
    ),
  { nil: undefined },
);

const orderOf = (amount: number): CheckOrder => ({
  customerId: 'C1',
  orderId: 'NEW-1',
  amount,
  currency: 'EUR',
  requestedShipDate: TODAY,
  stage: 'order',
  channel: 'web',
});

describe('the credit check, as properties', () => {
  it('the same order, file, policy and day give the same decision', () => {
    fc.assert(
      fc.property(fileArb, fc.integer({ min: 1, max: 10_000_000 }), (file, amount) => {
        const a = decideCredit(orderOf(amount), file, policy, TODAY);
        const b = decideCredit(orderOf(amount), structuredClone(file), policy, TODAY);
        expect(b).toEqual(a);
      }),
      { numRuns: 500 },
    );
  });

  it('raising the order amount never turns a hold (or anything but approve) into approve', () => {
    fc.assert(
      fc.property(
        fileArb,
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        (file, amount, more) => {
          const small = decideCredit(orderOf(amount), file, policy, TODAY);
          const large = decideCredit(orderOf(amount + more), file, policy, TODAY);
          if (small.outcome !== 'approve') expect(large.outcome).not.toBe('approve');
          if (small.outcome === 'hold') expect(['hold', 'block']).toContain(large.outcome);
          // Only the order changes the exposure: the headroom falls by exactly the increase.
          if (small.headroomAfter !== null) expect(large.headroomAfter).toBe(small.headroomAfter - more);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
