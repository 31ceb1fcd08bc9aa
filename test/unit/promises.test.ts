import { describe, expect, it } from 'vitest';
import { dunningAsOf } from '../../functions/collections/dunning.ts';
import {
  checkPromise,
  DEFAULT_PROMISE_RULES,
  type PromiseToPay,
  ratePromise,
} from '../../functions/collections/promises.ts';
import type { IsoDate } from '../../functions/core/dates.ts';
import { statementAsOf } from '../../functions/core/receivables.ts';
import type { Payment } from '../../functions/core/records.ts';
import { type CollectionsPolicy, parsePolicy } from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * Promises to pay, worked out by hand (README "Collections"): the default plan's tolerance of 3
 * days and reach of 60. A customer owes 1,500.00 EUR overdue (A, due 2026-03-01, 1,000.00; B, due
 * 2026-03-20, 500.00) and promises on 2026-03-31 to pay 1,000.00 by 2026-04-10.
 */
const parsed = parsePolicy(DEFAULT_POLICY_DOCUMENT);
if (!parsed.ok) throw new Error('the default policy is invalid');
const plan = parsed.policy.collections as CollectionsPolicy;
const rules = plan.promises;

const pay = (paymentId: string, receivedDate: IsoDate, cents: number, currency = 'EUR'): Payment => ({
  customerId: 'C1',
  paymentId,
  receivedDate,
  amount: cents,
  currency,
  invoiceIds: [],
});
const PROMISE: PromiseToPay = {
  promiseId: 'PTP-2026-03-31-x',
  customerId: 'C1',
  amount: 100_000,
  currency: 'EUR',
  promisedDate: '2026-04-10',
  madeOn: '2026-03-31',
  recordedBy: 'anna',
  via: 'call',
  recordedAt: '2026-03-31T09:00:00.000Z',
};
const ctx = { today: '2026-03-31', currency: 'EUR', open: 150_000, rules, now: '2026-03-31T09:00:00.000Z' };

describe('recording a promise', () => {
  it('takes an amount up to what is open and a date within reach; the same promise has the same id', () => {
    const req = { customerId: 'C1', amount: '1,000.00', promisedDate: '2026-04-10', recordedBy: ' anna ' };
    const a = checkPromise(req, ctx);
    const b = checkPromise({ ...req, note: 'said the CFO signs on Friday' }, ctx);
    expect(a).toMatchObject({
      ok: true,
      promise: { amount: 100_000, currency: 'EUR', madeOn: '2026-03-31', recordedBy: 'anna', via: 'call' },
    });
    expect(a.ok && b.ok && a.promise.promiseId === b.promise.promiseId).toBe(true);
    expect(a.ok && a.promise.promiseId).toMatch(/^PTP-2026-03-31-[0-9a-f]{10}$/);
    expect(checkPromise({ ...req, promisedDate: '2026-03-31', amount: '1500' }, ctx).ok).toBe(true);
  });

  it('refuses each bad field by name: a date past or too far, an amount over what is open, nobody', () => {
    expect(
      checkPromise(
        { customerId: 'C1', amount: '1500.01', promisedDate: '2026-03-30', recordedBy: '', via: 'fax' },
        ctx,
      ),
    ).toEqual({
      ok: false,
      issues: [
        { field: 'amount', message: 'is more than the 1,500.00 EUR open and undisputed' },
        { field: 'promisedDate', message: 'is in the past (today is 2026-03-31)' },
        { field: 'recordedBy', message: 'is required: who took the promise' },
        { field: 'via', message: 'must be one of call, email, visit, console, portal' },
      ],
    });
    const far = checkPromise(
      { customerId: 'C1', amount: '0', promisedDate: '2026-05-31', recordedBy: 'a' },
      ctx,
    );
    expect(far).toEqual({
      ok: false,
      issues: [
        { field: 'amount', message: 'must be more than zero' },
        { field: 'promisedDate', message: 'is more than 60 days ahead: the plan takes no promise that far' },
      ],
    });
    const nothing = checkPromise(
      { customerId: 'C1', amount: '10.005', promisedDate: '31/04/2026', recordedBy: 'a' },
      { ...ctx, open: 0 },
    );
    expect(nothing.ok ? [] : nothing.issues.map((i) => i.field)).toEqual(['amount', 'promisedDate']);
    expect(
      checkPromise(
        { customerId: 'C1', amount: '5', promisedDate: '2026-04-01', recordedBy: 'a' },
        { ...ctx, open: 0 },
      ),
    ).toEqual({ ok: false, issues: [{ field: 'amount', message: 'nothing undisputed is open to promise' }] });
  });
});

describe('rating a promise', () => {
  const state = (payments: Payment[], asOf: IsoDate) => ratePromise(PROMISE, payments, asOf, rules);

  it('pending until the date plus the tolerance, kept as soon as paid in full', () => {
    expect(state([], '2026-04-05')).toMatchObject({ state: 'pending', paid: 0, graceEnds: '2026-04-13' });
    expect(state([pay('P1', '2026-04-02', 40_000)], '2026-04-05')).toMatchObject({
      state: 'pending',
      paid: 40_000,
      why: '1,000.00 EUR promised by 2026-04-10 (made 2026-03-31): 400.00 EUR received so far; it counts until 2026-04-13',
    });
    expect(
      state([pay('P1', '2026-04-02', 40_000), pay('P2', '2026-04-04', 60_000)], '2026-04-05').state,
    ).toBe('kept');
    // Three days late still keeps it.
    expect(state([pay('P1', '2026-04-13', 100_000)], '2026-04-20').state).toBe('kept');
  });

  it('partial or broken once the grace ends; payments before it was made, after the grace or in another currency do not count', () => {
    expect(state([pay('P1', '2026-04-12', 30_000)], '2026-04-14')).toMatchObject({
      state: 'partial',
      paid: 30_000,
      why: '1,000.00 EUR promised by 2026-04-10 (made 2026-03-31): only 300.00 EUR received by 2026-04-13',
    });
    const others = [
      pay('P0', '2026-03-30', 100_000),
      pay('P9', '2026-04-14', 100_000),
      pay('PU', '2026-04-05', 200_000, 'USD'),
    ];
    expect(state(others, '2026-04-20')).toMatchObject({ state: 'broken', paid: 0 });
  });
});

describe('a promise in the chase', () => {
  const book = (payments: Payment[] = []) => ({
    customerId: 'C1',
    currency: 'EUR',
    invoices: [
      {
        customerId: 'C1',
        invoiceId: 'A',
        issueDate: '2026-01-30',
        dueDate: '2026-03-01',
        amount: 100_000,
        currency: 'EUR',
        disputed: false,
      },
      {
        customerId: 'C1',
        invoiceId: 'B',
        issueDate: '2026-02-18',
        dueDate: '2026-03-20',
        amount: 50_000,
        currency: 'EUR',
        disputed: false,
      },
    ],
    payments,
  });
  const dun = (asOf: IsoDate, payments: Payment[] = []) =>
    dunningAsOf('C1', statementAsOf(book(payments), asOf), plan, {
      promises: [ratePromise(PROMISE, payments, asOf, DEFAULT_PROMISE_RULES)],
    });

  it('a pending promise holds the chase until its grace ends; then the level reached goes out', () => {
    const held = dun('2026-04-05');
    expect(held.send).toBeUndefined();
    expect(held.promise?.state).toBe('pending');
    expect(held.why).toBe(
      'a promise to pay holds the chase (1,000.00 EUR promised by 2026-04-10 (made 2026-03-31): it counts until 2026-04-13)',
    );
    expect(held.next).toEqual({ level: 'final', on: '2026-04-14' });
    // Broken: A is 44 days past due on 2026-04-14, the final notice goes out.
    const after = dun('2026-04-14');
    expect(after.promise).toBeUndefined();
    expect(after.send?.name).toBe('final');
  });

  it('a kept promise holds the rest until the day it named, not beyond', () => {
    const paid = [pay('P1', '2026-04-03', 100_000)];
    const kept = dun('2026-04-06', paid);
    expect(kept.promise?.state).toBe('kept');
    expect(kept.send).toBeUndefined();
    // B is 17 days late by then: the firm call waits for the day the promise named.
    expect(kept.next).toEqual({ level: 'firm', on: '2026-04-11' });
    // After the date, B (500.00, 22 days late) is chased at its own level.
    const later = dun('2026-04-11', paid);
    expect(later.overdue.map((i) => i.invoiceId)).toEqual(['B']);
    expect(later.send?.name).toBe('firm');
  });
});
