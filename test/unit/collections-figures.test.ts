import { describe, expect, it } from 'vitest';
import type { Dispute } from '../../functions/collections/disputes.ts';
import {
  addFigures,
  type CollectionsFigures,
  disputeFiguresOn,
  figuresOf,
  NO_FIGURES,
  promiseOutcomesOn,
} from '../../functions/collections/figures.ts';
import type { CollectionsStore } from '../../functions/collections/ports.ts';
import type { PromiseToPay } from '../../functions/collections/promises.ts';
import { collectionsRun } from '../../functions/collections/run.ts';
import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import type { Payment } from '../../functions/core/records.ts';
import { type CollectionsPolicy, type Policy, parsePolicy } from '../../functions/credit/policy.ts';
import type { CustomerPartition } from '../../functions/credit/ports.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * The collections figures of a day (README "Ops: metrics, dashboard and alarms"), worked out by
 * hand over the days 2026-04-01 to 04-09 with the default plan (a promise's grace: 3 days).
 *
 * Promises (minor units):
 * - A1: A promises 1,000.00 EUR on 04-01 by 04-05 (grace to 04-08); pays 600.00 on 04-03 and
 *   400.00 on 04-06: pending to 04-05, kept on 04-06.
 * - B1: B promises 800.00 EUR on 04-01 by 04-04 (grace to 04-07); pays 300.00 on 04-02: pending to
 *   04-07, partial on 04-08.
 * - C1: C promises 200.00 GBP on 04-02 by 04-02 (grace to 04-05); pays nothing in GBP by then (its
 *   999.00 EUR on 04-03 is another currency): broken on 04-06.
 * - C2: C promises 50.00 GBP on 04-06 by 04-06 and pays it that day: kept the day it was made.
 *
 * So: 04-06 kept 2 (A1, C2) and broken 1 (C1); 04-08 partial 1 (B1); every other day nothing.
 */
const parsed = parsePolicy(DEFAULT_POLICY_DOCUMENT);
if (!parsed.ok) throw new Error('the default policy is invalid');
const policy: Policy = parsed.policy;
const plan = policy.collections as CollectionsPolicy;
const rules = plan.promises;

const DAYS: IsoDate[] = Array.from({ length: 9 }, (_, i) => addDays('2026-04-01', i));

const pay = (
  customerId: string,
  paymentId: string,
  receivedDate: IsoDate,
  amount: number,
  currency = 'EUR',
) => ({ customerId, paymentId, receivedDate, amount, currency, invoiceIds: [] }) satisfies Payment;
const promise = (
  customerId: string,
  promiseId: string,
  amount: number,
  currency: string,
  madeOn: IsoDate,
  promisedDate: IsoDate,
): PromiseToPay => ({
  promiseId,
  customerId,
  amount,
  currency,
  promisedDate,
  madeOn,
  recordedBy: 'anna',
  via: 'call',
  recordedAt: `${madeOn}T09:00:00.000Z`,
});

const A = {
  promises: [promise('A', 'A1', 100_000, 'EUR', '2026-04-01', '2026-04-05')],
  payments: [pay('A', 'PA1', '2026-04-03', 60_000), pay('A', 'PA2', '2026-04-06', 40_000)],
};
const B = {
  promises: [promise('B', 'B1', 80_000, 'EUR', '2026-04-01', '2026-04-04')],
  payments: [pay('B', 'PB1', '2026-04-02', 30_000)],
};
const C = {
  promises: [
    promise('C', 'C1', 20_000, 'GBP', '2026-04-02', '2026-04-02'),
    promise('C', 'C2', 5_000, 'GBP', '2026-04-06', '2026-04-06'),
  ],
  payments: [pay('C', 'PC1', '2026-04-03', 99_900, 'EUR'), pay('C', 'PC2', '2026-04-06', 5_000, 'GBP')],
};

/**
 * Disputes of A: D1 on I1, opened 04-01, answer by 04-04, resolved 04-07; D2 on I2, opened 04-03,
 * answer by 04-10; D3, I1 disputed again on 04-08, answer by 04-08. Of B: D4, opened 03-01, answer
 * by 03-15, still open.
 */
const dispute = (
  customerId: string,
  disputeId: string,
  invoiceId: string,
  openedOn: IsoDate,
  answerBy: IsoDate,
  resolvedOn?: IsoDate,
): Dispute => ({
  disputeId,
  customerId,
  invoiceId,
  reason: 'damaged',
  owner: 'sales-anna',
  answerBy,
  openedOn,
  openedBy: 'anna',
  openedAt: `${openedOn}T09:00:00.000Z`,
  ...(resolvedOn ? { resolvedOn, resolvedBy: 'tom', outcome: 'credit-note' as const } : {}),
});
const DISPUTES_A = [
  dispute('A', 'D1', 'I1', '2026-04-01', '2026-04-04', '2026-04-07'),
  dispute('A', 'D2', 'I2', '2026-04-03', '2026-04-10'),
  dispute('A', 'D3', 'I1', '2026-04-08', '2026-04-08'),
];
const DISPUTES_B = [dispute('B', 'D4', 'I9', '2026-03-01', '2026-03-15')];

const outcomes = (c: { promises: PromiseToPay[]; payments: Payment[] }, day: IsoDate) =>
  promiseOutcomesOn(c.promises, c.payments, day, rules);

describe('promises rated final on a day', () => {
  it('counts each promise once, on the first day its rating is final, worked day by day', () => {
    const byDay = DAYS.map((day) => {
      const total = [A, B, C].map((c) => outcomes(c, day));
      return [
        day,
        total.reduce((n, o) => n + o.kept, 0),
        total.reduce((n, o) => n + o.partial, 0),
        total.reduce((n, o) => n + o.broken, 0),
      ];
    });
    expect(byDay).toEqual([
      ['2026-04-01', 0, 0, 0],
      ['2026-04-02', 0, 0, 0],
      ['2026-04-03', 0, 0, 0],
      ['2026-04-04', 0, 0, 0],
      ['2026-04-05', 0, 0, 0],
      ['2026-04-06', 2, 0, 1], // A1 and C2 kept, C1 broken
      ['2026-04-07', 0, 0, 0], // A1 is still kept, C1 still broken: not counted again
      ['2026-04-08', 0, 1, 0], // B1's grace ended on 04-07 with 300.00 of 800.00
      ['2026-04-09', 0, 0, 0],
    ]);
    expect(outcomes(C, '2026-04-06')).toEqual({ kept: 1, partial: 0, broken: 1 });
  });

  it('a re-run of a day counts the same, whatever order the books come in', () => {
    const first = outcomes(A, '2026-04-06');
    expect(outcomes(A, '2026-04-06')).toEqual(first);
    expect(promiseOutcomesOn(A.promises, [...A.payments].reverse(), '2026-04-06', rules)).toEqual(first);
    expect(first).toEqual({ kept: 1, partial: 0, broken: 0 });
  });

  it('a payment booked after the day it came makes the promise kept on a day already counted: no day counts it', () => {
    // The run of 04-06 finds only the first 600.00; the 400.00 of 04-06 is uploaded on 04-07.
    const before = { promises: A.promises, payments: A.payments.slice(0, 1) };
    expect(outcomes(before, '2026-04-06')).toEqual({ kept: 0, partial: 0, broken: 0 });
    expect(outcomes(A, '2026-04-07')).toEqual({ kept: 0, partial: 0, broken: 0 });
  });
});

describe('disputes open on a day', () => {
  it('counts those open, those past their answer date and the oldest, worked day by day', () => {
    const on = (day: IsoDate) => {
      const f = disputeFiguresOn(DISPUTES_A, day);
      return [day, f.open, f.overdue, f.oldestDays];
    };
    expect(
      ['2026-03-31', '2026-04-01', '2026-04-03', '2026-04-05', '2026-04-07', '2026-04-08', '2026-04-09'].map(
        on,
      ),
    ).toEqual([
      ['2026-03-31', 0, 0, 0], // none opened yet
      ['2026-04-01', 1, 0, 0], // D1 opened today: 0 days
      ['2026-04-03', 2, 0, 2], // D1 2 days, D2 opened
      ['2026-04-05', 2, 1, 4], // D1 past its answer date (04-04)
      ['2026-04-07', 1, 0, 4], // D1 resolved on 04-07: D2, 4 days, left
      ['2026-04-08', 2, 0, 5], // I1 disputed again (D3), answer due today: not late yet
      ['2026-04-09', 2, 1, 6], // D3 late
    ]);
  });
});

describe("a customer's figures, and batches added up", () => {
  const part = (
    c: { promises: PromiseToPay[]; payments: Payment[] },
    disputes: Dispute[] = [],
  ): Pick<CustomerPartition, 'books' | 'promises' | 'disputes'> => ({
    books: { invoices: [], payments: c.payments, applications: new Map() },
    promises: c.promises,
    disputes,
  });

  it('adds the counts and keeps the oldest dispute', () => {
    const a = figuresOf(part(A, DISPUTES_A), rules, '2026-04-09');
    const b = figuresOf(part(B, DISPUTES_B), rules, '2026-04-09');
    expect(a.disputes).toEqual({ open: 2, overdue: 1, oldestDays: 6 });
    expect(b.disputes).toEqual({ open: 1, overdue: 1, oldestDays: 39 }); // 03-01 to 04-09
    expect(addFigures(a, b)).toEqual({
      promises: { kept: 0, partial: 0, broken: 0 },
      disputes: { open: 3, overdue: 2, oldestDays: 39 },
    });
    expect(addFigures(NO_FIGURES, a)).toEqual(a);
    // In any order, in any grouping: how the dashboard adds the batches up gives the run's figures.
    expect(addFigures(b, a)).toEqual(addFigures(a, b));
  });
});

describe('the run reports the figures of the customers it looked at', () => {
  // Nothing is overdue (no invoices): the run takes no step, so the store is read and never written.
  const partitions: Record<string, Pick<CustomerPartition, 'books' | 'promises' | 'disputes'>> = {
    A: {
      books: { invoices: [], payments: A.payments, applications: new Map() },
      promises: A.promises,
      disputes: DISPUTES_A,
    },
    B: {
      books: { invoices: [], payments: B.payments, applications: new Map() },
      promises: B.promises,
      disputes: DISPUTES_B,
    },
    C: { books: { invoices: [], payments: C.payments, applications: new Map() }, promises: C.promises },
  };
  const store = {
    listCustomerIds: async () => Object.keys(partitions),
    loadCustomerPartition: async (id: string) =>
      ({
        financials: [],
        guarantees: [],
        insurance: [],
        scores: [],
        transfers: [],
        alerts: [],
        ...partitions[id],
      }) as CustomerPartition,
  } as unknown as CollectionsStore;
  const deps = {
    store,
    sender: { send: () => Promise.reject(new Error('nothing is sent')) },
    claimant: 'run-1',
    now: () => '2026-04-06T05:00:00.000Z',
  };
  const run = (asOf: IsoDate, customerIds?: string[], p: Policy = policy) =>
    collectionsRun(deps, p, { asOf, customerIds });

  it('sums its customers; a re-run of the day gives the same; two batches add up to the whole', async () => {
    const day = await run('2026-04-06');
    const expected: CollectionsFigures = {
      promises: { kept: 2, partial: 0, broken: 1 },
      disputes: { open: 3, overdue: 2, oldestDays: 36 }, // A: D1 (5 days, late), D2 (3); B: D4 (36, late)
    };
    expect(day.steps).toEqual([]);
    expect(day.figures).toEqual(expected);
    expect((await run('2026-04-06')).figures).toEqual(expected);
    const [one, two] = await Promise.all([run('2026-04-06', ['A']), run('2026-04-06', ['B', 'C'])]);
    expect(addFigures(one?.figures ?? NO_FIGURES, two?.figures ?? NO_FIGURES)).toEqual(expected);
    expect((await run('2026-04-08')).figures?.promises).toEqual({ kept: 0, partial: 1, broken: 0 });
  });

  it('has none without a collection plan (it reads no customer)', async () => {
    const r = await run('2026-04-06', undefined, { ...policy, collections: undefined });
    expect(r.figures).toBeUndefined();
  });
});
