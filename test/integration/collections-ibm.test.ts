import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtestCollections } from '../../functions/collections/backtest.ts';
import { dunningAsOf } from '../../functions/collections/dunning.ts';
import { type CustomerBooks, statementAsOf } from '../../functions/core/receivables.ts';
import { type CollectionsPolicy, policyInForce } from '../../functions/credit/policy.ts';
import { ProfileCatalog } from '../../functions/ingest/uploads.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { type Harness, harness } from './helpers.ts';

/**
 * The default collection plan replayed over real data nobody here wrote (issue 17 item 9; README
 * "Collections"): the IBM accounts-receivable sample, 100 customers, 2,466 invoices of 2012-2013
 * with their settlement dates and dispute flags, every day of the two years.
 */
const FILE = resolve(
  import.meta.dirname,
  '../fixtures/datasets/ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv',
);
const plan = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT).collections as CollectionsPolicy;

let h: Harness;
let books: CustomerBooks[];

beforeAll(async () => {
  h = await harness();
  const profile = new ProfileCatalog().get('ibm-accounts-receivable');
  await h.load('ibm.csv', await readFile(FILE), { profile, now: '2014-01-31T12:00:00Z' });
  books = [];
  for (const id of (await h.env.store.listCustomerIds()).sort()) {
    const { books: b } = await h.env.store.loadCustomerPartition(id);
    books.push({ customerId: id, currency: 'USD', invoices: b.invoices, payments: b.payments });
  }
}, 120_000);
afterAll(async () => h?.close());

describe('the default collection plan over the IBM sample', () => {
  it('replays 2012-2013: reminders per level, and how many were paid within a week anyway', () => {
    const r = backtestCollections(books, plan, { from: '2012-01-01', to: '2013-12-31' });
    const rows = r.levels.map(
      (l) =>
        `${l.level}: ${l.messages} to ${l.customers} customers, ${((l.demanded.USD ?? 0) / 100).toFixed(2)} USD demanded, ${l.paidWithinWindow} paid within a week`,
    );
    console.log(`collections backtest, IBM 2012-2013:\n${rows.join('\n')}`);
    const by = Object.fromEntries(r.levels.map((l) => [l.level, l]));
    expect(r.customers).toBe(100);
    // Every episode starts with an invoice at least 3 days late: no more friendly reminders than those.
    const lateBy3 = books
      .flatMap((b) => statementAsOf(b, '2014-01-31').invoices)
      .filter((i) => (i.daysLate ?? 0) >= 3);
    expect(by.friendly?.messages).toBeGreaterThan(0);
    expect(by.friendly?.messages).toBeLessThanOrEqual(lateBy3.length);
    for (const l of r.levels) {
      expect(l.customers).toBeLessThanOrEqual(l.messages);
      expect(l.paidWithinWindow).toBeLessThanOrEqual(l.messages);
    }
    // The figures the README records ("Collections"), so a change to the plan's logic shows here.
    expect(
      r.levels.map((l) => [l.level, l.messages, l.customers, l.demanded.USD ?? 0, l.paidWithinWindow]),
    ).toEqual([
      ['friendly', 227, 47, 1_657_822, 140],
      ['firm', 33, 17, 276_776, 25],
      ['final', 1, 1, 8_631, 1],
      ['hold', 0, 0, 0, 0],
      ['legal', 0, 0, 0, 0],
    ]);
  });

  it('on one day, a worklist a credit controller can read: who is chased, at what level, and why not the others', () => {
    const asOf = '2013-06-30';
    const ds = books.map((b) => dunningAsOf(b.customerId, statementAsOf(b, asOf), plan));
    const counts: Record<string, number> = {};
    for (const d of ds) {
      const k = d.send ? `send ${d.send.name}` : d.reached ? `at ${d.reached.name}, not sent` : 'nothing due';
      counts[k] = (counts[k] ?? 0) + 1;
    }
    console.log(`IBM as of ${asOf}: ${JSON.stringify(counts)}`);
    // Every customer is decided, each with its reason; none is demanded a disputed item.
    expect(ds).toHaveLength(100);
    for (const d of ds) {
      expect(d.why.length).toBeGreaterThan(0);
      expect(d.overdue.every((i) => !i.disputed)).toBe(true);
    }
  });
});
