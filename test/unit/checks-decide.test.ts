import { describe, expect, it } from 'vitest';
import {
  type CheckFile,
  type CheckOrder,
  decideCredit,
  EMPTY_ORDERS,
  type Reservation,
} from '../../functions/checks/decide.ts';
import { parsePolicy, policyInForce } from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * The credit check's decision (README "Credit checks"), each outcome with figures worked by hand,
 * under the default policy (reserve 7 days, horizon 30, prepay for high risk, hold beyond 60 days
 * past due or on a high daysPastDue/overdueAmount/limitUse/brokenPromise alert).
 */
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
const TODAY = '2026-06-30';

const order = (o: Partial<CheckOrder> = {}): CheckOrder => ({
  customerId: 'C1',
  orderId: 'SO-1',
  amount: 1_200_000, // 12,000.00 EUR
  currency: 'EUR',
  requestedShipDate: '2026-07-03',
  stage: 'order',
  channel: 'web',
  ...o,
});

const reservation = (r: Partial<Reservation> & Pick<Reservation, 'orderId' | 'counted'>): Reservation => ({
  amount: r.counted,
  currency: 'EUR',
  creditCurrency: 'EUR',
  requestedShipDate: '2026-07-05',
  stage: 'order',
  channel: 'edi',
  reservedOn: '2026-06-28',
  expiresOn: '2026-07-05',
  ...r,
});

/**
 * Acme: limit 50,000.00 EUR; 30,000.00 open, 2,000.00 unapplied cash, a 1,000.00 rebate approved
 * and unpaid, one order of 5,000.00 reserved (ships in 5 days); rated B (low risk); oldest item
 * 10 days past due as of 2026-06-25 (so 15 as of the 30th).
 */
const file = (f: Partial<CheckFile> = {}): CheckFile => ({
  customer: { customerId: 'C1', name: 'Acme GmbH', currency: 'EUR', creditLimit: 5_000_000 },
  summary: {
    customerId: 'C1',
    currency: 'EUR',
    asOf: '2026-06-25',
    openAmount: 3_000_000,
    overdueAmount: 400_000,
    disputedAmount: 0,
    aging: { notDue: 2_600_000, d1_30: 400_000, d31_60: 0, d61_90: 0, d91_180: 0, over180: 0 },
    openInvoices: 4,
    maxDaysPastDue: 10,
    settledInvoices: 20,
    avgDaysLate: 3,
    unappliedCash: 200_000,
    dso: 40,
    otherCurrencies: [],
  } as CheckFile['summary'],
  assessment: { asOf: '2026-06-29', rating: 'B', riskClass: 'low', score: 72, policyId: policy.id },
  handovers: [],
  transfers: [
    {
      customerId: 'C1',
      transferId: 'T-1',
      transferType: 'rebate',
      amount: 100_000,
      currency: 'EUR',
      approvedOn: '2026-06-20',
    },
  ],
  alerts: [],
  orders: { version: 3, reservations: { 'SO-0': reservation({ orderId: 'SO-0', counted: 500_000 }) } },
  fxRates: [],
  ...f,
});

describe('decideCredit', () => {
  it('approves within the limit: 30,000 - 2,000 + 1,000 + 5,000 + 12,000 = 46,000 of 50,000', () => {
    const d = decideCredit(order(), file(), policy, TODAY);
    expect(d.outcome).toBe('approve');
    expect(d.exposure).toEqual({
      openItems: 3_000_000,
      unappliedCash: 200_000,
      approvedTransfers: 100_000,
      openOrders: 500_000,
      thisOrder: 1_200_000,
      total: 4_600_000,
    });
    expect(d.limit).toBe(5_000_000);
    expect(d.headroomAfter).toBe(400_000);
    expect(d.rating).toBe('B');
    expect(d.reasons).toEqual([
      {
        code: 'WITHIN_LIMIT',
        text: 'The exposure with this order, 46,000.00 EUR, is within the limit of 50,000.00 EUR: 4,000.00 EUR of headroom left.',
      },
    ]);
  });

  it('holds over the limit: 16,500.00 more makes 50,500.00, 500.00 over', () => {
    const d = decideCredit(order({ amount: 1_650_000 }), file(), policy, TODAY);
    expect(d.outcome).toBe('hold');
    expect(d.headroomAfter).toBe(-50_000);
    expect(d.reasons.map((r) => r.code)).toEqual(['OVER_LIMIT']);
    expect(d.reasons[0]?.text).toBe(
      'The exposure with this order, 50,500.00 EUR, is over the limit of 50,000.00 EUR by 500.00 EUR.',
    );
    // Exactly at the limit is within it: 16,000.00 leaves 0.00.
    expect(decideCredit(order({ amount: 1_600_000 }), file(), policy, TODAY).outcome).toBe('approve');
  });

  it('counts the order once: its own reservation is this order, not an open order too', () => {
    const reserved = file({
      orders: {
        version: 4,
        reservations: {
          'SO-0': reservation({ orderId: 'SO-0', counted: 500_000 }),
          'SO-1': reservation({ orderId: 'SO-1', counted: 1_200_000 }),
        },
      },
    });
    const d = decideCredit(order(), reserved, policy, TODAY);
    expect(d.exposure.openOrders).toBe(500_000);
    expect(d.exposure.total).toBe(4_600_000);
    expect(d.ordersCounted).toEqual(['SO-0']);
  });

  it('leaves out expired reservations and orders shipping after the 30-day horizon', () => {
    const d = decideCredit(
      order(),
      file({
        orders: {
          version: 5,
          reservations: {
            OLD: reservation({
              orderId: 'OLD',
              counted: 900_000,
              reservedOn: '2026-06-20',
              expiresOn: '2026-06-27',
            }),
            LATER: reservation({ orderId: 'LATER', counted: 900_000, requestedShipDate: '2026-08-15' }),
            SOON: reservation({ orderId: 'SOON', counted: 300_000, requestedShipDate: '2026-07-30' }),
          },
        },
      }),
      policy,
      TODAY,
    );
    expect(d.exposure.openOrders).toBe(300_000);
    expect(d.ordersNotCounted).toEqual([
      { orderId: 'LATER', why: 'ships 2026-08-15, after the 30-day horizon' },
      { orderId: 'OLD', why: 'expired on 2026-06-27' },
    ]);
  });

  it('asks for prepayment from a high-risk customer, even over its limit', () => {
    const d = decideCredit(
      order({ amount: 4_000_000 }),
      file({ assessment: { asOf: '2026-06-29', rating: 'D', riskClass: 'high', score: 40, policyId: 'p' } }),
      policy,
      TODAY,
    );
    expect(d.outcome).toBe('approve-prepay');
    expect(d.reasons.map((r) => r.code)).toEqual(['PREPAY_RISK_CLASS', 'OVER_LIMIT']);
  });

  it('asks for prepayment without unsecured credit: a limit of 0, or rating E', () => {
    const zero = file({ customer: { customerId: 'C1', name: 'Acme GmbH', currency: 'EUR', creditLimit: 0 } });
    const d = decideCredit(order(), zero, policy, TODAY);
    expect(d.outcome).toBe('approve-prepay');
    expect(d.reasons.map((r) => r.code)).toEqual(['NO_UNSECURED_CREDIT']);
    const e = decideCredit(
      order(),
      file({ assessment: { asOf: '2026-06-29', rating: 'E', riskClass: 'high', score: 20, policyId: 'p' } }),
      policy,
      TODAY,
    );
    expect(e.reasons.map((r) => r.code)).toEqual(['PREPAY_RISK_CLASS', 'NO_UNSECURED_CREDIT']);
  });

  it('blocks a customer handed over to legal, whatever else', () => {
    const d = decideCredit(
      order({ amount: 100 }),
      file({
        handovers: [{ on: '2026-06-01', state: 'open', level: 'legal' }],
        hold: {
          customerId: 'C1',
          state: 'on',
          since: '2026-05-20',
          by: 'collections',
          reason: 'final notice',
        },
      }),
      policy,
      TODAY,
    );
    expect(d.outcome).toBe('block');
    expect(d.reasons.map((r) => r.code)).toEqual(['HANDED_OVER', 'CREDIT_HOLD']);
    // A withdrawn hand-over blocks nothing.
    const w = decideCredit(
      order({ amount: 100 }),
      file({ handovers: [{ on: '2026-06-01', state: 'withdrawn', level: 'legal' }] }),
      policy,
      TODAY,
    );
    expect(w.outcome).toBe('approve');
  });

  it('holds on a credit hold, and not once it is lifted', () => {
    const on = file({
      hold: { customerId: 'C1', state: 'on', since: '2026-06-10', by: 'collections', reason: 'hold level' },
    });
    const d = decideCredit(order(), on, policy, TODAY);
    expect(d.outcome).toBe('hold');
    expect(d.reasons[0]?.text).toBe(
      'On credit hold since 2026-06-10 (collections: hold level): a person must lift it first.',
    );
    const off = file({
      hold: {
        customerId: 'C1',
        state: 'off',
        since: '2026-06-10',
        by: 'collections',
        reason: 'hold level',
        releasedOn: '2026-06-20',
        releasedBy: 'fiona',
        releaseReason: 'paid',
      },
    });
    expect(decideCredit(order(), off, policy, TODAY).outcome).toBe('approve');
  });

  it('holds when the oldest item is more than 60 days past due as of the day (56 on the summary + 5 days = 61)', () => {
    const s = file().summary as NonNullable<CheckFile['summary']>;
    const d = decideCredit(order(), file({ summary: { ...s, maxDaysPastDue: 56 } }), policy, TODAY);
    expect(d.outcome).toBe('hold');
    expect(d.reasons.map((r) => r.code)).toEqual(['OVERDUE_DAYS']);
    expect(d.reasons[0]?.text).toContain('61 days past due');
    // 55 + 5 = 60: not more than 60.
    expect(
      decideCredit(order(), file({ summary: { ...s, maxDaysPastDue: 55 } }), policy, TODAY).outcome,
    ).toBe('approve');
  });

  it('holds on an active alert of a listed rule at high or worse; a warning or another rule does not', () => {
    const hold = decideCredit(
      order(),
      file({ alerts: [{ rule: 'daysPastDue', severity: 'high' }] }),
      policy,
      TODAY,
    );
    expect(hold.outcome).toBe('hold');
    expect(hold.reasons.map((r) => r.code)).toEqual(['ALERT_daysPastDue']);
    for (const alerts of [
      [{ rule: 'daysPastDue', severity: 'warning' }],
      [{ rule: 'staleFinancials', severity: 'high' }],
    ] as const)
      expect(decideCredit(order(), file({ alerts }), policy, TODAY).outcome).toBe('approve');
  });

  it('holds an unknown customer: credit application needed', () => {
    const d = decideCredit(order({ customerId: 'NEW' }), undefined, policy, TODAY);
    expect(d.outcome).toBe('hold');
    expect(d.reasons).toEqual([
      {
        code: 'CREDIT_APPLICATION_NEEDED',
        text: 'NEW is not on file: credit application needed before selling on credit.',
      },
    ]);
    expect(d.limit).toBeNull();
    expect(decideCredit(order(), file({ customer: undefined }), policy, TODAY).outcome).toBe('hold');
  });

  it('holds when the store cannot be read, never approves', () => {
    const d = decideCredit(order(), file(), policy, TODAY, { storeUnavailable: 'timeout' });
    expect(d.outcome).toBe('hold');
    expect(d.reasons.map((r) => r.code)).toEqual(['STORE_UNAVAILABLE']);
  });

  it('holds a customer with no limit on file', () => {
    const d = decideCredit(
      order(),
      file({ customer: { customerId: 'C1', name: 'Acme GmbH', currency: 'EUR' } }),
      policy,
      TODAY,
    );
    expect(d.outcome).toBe('hold');
    expect(d.reasons.map((r) => r.code)).toEqual(['NO_CREDIT_LIMIT']);
    expect(d.headroomAfter).toBeNull();
  });

  it('converts an order in another currency with the latest rate on file; without one it holds', () => {
    // 10,800.00 USD at EUR/USD 1.0800 = 10,000.00 EUR: 44,000.00 of 50,000.00.
    const rates = [{ date: '2026-06-29', base: 'EUR', quote: 'USD', rate: '1.0800' }];
    const d = decideCredit(
      order({ amount: 1_080_000, currency: 'USD' }),
      file({ fxRates: rates }),
      policy,
      TODAY,
    );
    expect(d.outcome).toBe('approve');
    expect(d.exposure.thisOrder).toBe(1_000_000);
    expect(d.headroomAfter).toBe(600_000);
    expect(d.order.rate).toEqual({ pair: 'EUR/USD', rate: '1.0800', date: '2026-06-29' });
    const none = decideCredit(order({ amount: 1_080_000, currency: 'USD' }), file(), policy, TODAY);
    expect(none.outcome).toBe('hold');
    expect(none.reasons.map((r) => r.code)).toEqual(['NO_FX_RATE']);
  });

  it('unapplied cash covers orders: no false hold for a customer that paid ahead', () => {
    const s = file().summary as NonNullable<CheckFile['summary']>;
    const d = decideCredit(
      order({ amount: 5_000_000 }),
      file({ summary: { ...s, openAmount: 0, unappliedCash: 1_000_000, maxDaysPastDue: 0 }, transfers: [] }),
      policy,
      TODAY,
    );
    // 0 - 10,000 + 0 + 5,000 + 50,000 = 45,000 of 50,000.
    expect(d.exposure.total).toBe(4_500_000);
    expect(d.outcome).toBe('approve');
  });

  it('a policy written before checks gets the defaults; a bad field is named', () => {
    const doc = { ...(DEFAULT_POLICY_DOCUMENT as Record<string, unknown>) };
    delete doc.creditCheck;
    const old = parsePolicy(doc);
    expect(old.ok).toBe(true);
    if (old.ok) expect(decideCredit(order(), file(), old.policy, TODAY).outcome).toBe('approve');
    const bad = parsePolicy({
      ...doc,
      creditCheck: {
        reserveDays: 0,
        horizonDays: 1.5,
        prepayRiskClasses: ['severe'],
        holdAlerts: { rules: ['nope'], minSeverity: 'high' },
      },
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.issues.map((i) => i.path)).toEqual([
        'creditCheck.reserveDays',
        'creditCheck.horizonDays',
        'creditCheck.prepayRiskClasses.0',
        'creditCheck.holdAlerts.rules.0',
      ]);
  });

  it('an empty order book and no summary: only this order counts', () => {
    const d = decideCredit(
      order(),
      file({ summary: undefined, transfers: [], orders: EMPTY_ORDERS }),
      policy,
      TODAY,
    );
    expect(d.exposure.total).toBe(1_200_000);
    expect(d.outcome).toBe('approve');
  });
});
