import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../functions/core/dates.ts';
import type { Notification } from '../../functions/credit/alerts.ts';
import { evaluate, whatIf } from '../../functions/credit/evaluate.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { harness, tableDump } from '../integration/helpers.ts';

/**
 * "A what-if as of a past date never changes today's state" (shared/DOMAIN.md, Decision rules),
 * over generated small books on dynalite: a few customers with random limits, invoices and
 * payments (on time, late, partial, unreferenced, or none). Today is 2025-06-30 in UTC.
 */
const TODAY = '2025-06-30';
const FIRST = '2024-01-01';
const SPAN = 546; // days from FIRST to TODAY
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);

const invoiceArb = fc.record({
  issuedDay: fc.integer({ min: 0, max: SPAN }),
  terms: fc.constantFrom(15, 30, 45, 60, 90),
  cents: fc.integer({ min: 1_000, max: 5_000_000 }),
  disputed: fc.boolean(),
  /** Days after the due date it was paid (negative: early); null: not paid. */
  paidLate: fc.option(fc.integer({ min: -20, max: 150 }), { nil: null }),
  share: fc.constantFrom(1, 1, 1, 0.5),
  referenced: fc.boolean(),
});
const customerArb = fc.record({
  currency: fc.constantFrom('EUR', 'USD'),
  limitCents: fc.option(fc.integer({ min: 0, max: 20_000_000 }), { nil: null }),
  invoices: fc.array(invoiceArb, { minLength: 0, maxLength: 8 }),
});
const bookArb = fc.array(customerArb, { minLength: 1, maxLength: 4 });

type Book = typeof bookArb extends fc.Arbitrary<infer B> ? B : never;

const money = (cents: number) => (cents / 100).toFixed(2);

/** The book as the three canonical CSV uploads; a payment after today has not happened yet. */
function csvOf(book: Book): { customers: string; invoices: string; payments: string } {
  const customers = ['customer_id,name,currency,credit_limit'];
  const invoices = ['invoice_id,customer_id,issue_date,due_date,amount,currency,disputed'];
  const payments = ['payment_id,customer_id,received_date,amount,currency,invoice_id'];
  book.forEach((c, i) => {
    const id = `P${i + 1}`;
    customers.push(
      `${id},Customer ${i + 1},${c.currency},${c.limitCents === null ? '' : money(c.limitCents)}`,
    );
    c.invoices.forEach((v, j) => {
      const issued = addDays(FIRST, v.issuedDay);
      const due = addDays(issued, v.terms);
      invoices.push(
        `${id}-I${j},${id},${issued},${due},${money(v.cents)},${c.currency},${v.disputed ? 'yes' : 'no'}`,
      );
      if (v.paidLate === null) return;
      const paid = addDays(due, v.paidLate);
      if (paid > TODAY) return;
      const amount = money(Math.round(v.cents * v.share));
      payments.push(`${id}-P${j},${id},${paid},${amount},${c.currency},${v.referenced ? `${id}-I${j}` : ''}`);
    });
  });
  return { customers: customers.join('\n'), invoices: invoices.join('\n'), payments: payments.join('\n') };
}

const liveDeps = (store: Parameters<typeof evaluate>[0]['store'], told: Notification[], at: string) => ({
  store,
  notifier: { notify: async (n: readonly Notification[]) => void told.push(...n), digest: async () => {} },
  policy,
  clock: { now: () => new Date(at) },
  timeZone: 'UTC',
});

describe('a what-if as of a past date, over generated books', () => {
  it('changes nothing of today, a late daily run rewinds nobody, and a live evaluation run twice stores the same state', async () => {
    /** Runs whose book had alerts today: the comparisons below are not all of empty lists. */
    let withAlerts = 0;
    await fc.assert(
      fc.asyncProperty(bookArb, fc.integer({ min: 0, max: SPAN - 1 }), async (book, pastDay) => {
        const h = await harness();
        try {
          const csv = csvOf(book);
          await h.load('customers.csv', csv.customers, { kind: 'customers' });
          await h.load('invoices.csv', csv.invoices, { kind: 'invoices' });
          await h.load('payments.csv', csv.payments, { kind: 'payments' });
          const store = h.env.store;
          const told: Notification[] = [];
          const first = await evaluate(liveDeps(store, told, `${TODAY}T06:00:00Z`), { asOf: TODAY });
          const today = await tableDump(store);
          const toldToday = told.length;

          // The what-if as of a past day: today's store is untouched, nobody is told.
          const past = addDays(FIRST, pastDay);
          const w = await whatIf({ store, policy }, { asOf: past });
          expect(w).toMatchObject({ whatIf: true, asOf: past, customers: book.length });
          expect(await tableDump(store)).toEqual(today);

          // A daily run for that past day, retried late, rewinds nobody.
          const late = await evaluate(liveDeps(store, told, `${TODAY}T06:30:00Z`), { asOf: past });
          expect(late).toMatchObject({ customers: 0, skipped: book.length, opened: 0, resolved: 0 });
          expect(await tableDump(store)).toEqual(today);
          expect(told.length).toBe(toldToday);

          // Today's evaluation again: the same stored state, nothing new to tell.
          const second = await evaluate(liveDeps(store, told, `${TODAY}T07:00:00Z`), { asOf: TODAY });
          expect(await tableDump(store)).toEqual(today);
          expect(told.length).toBe(toldToday);
          expect(second).toMatchObject({ opened: 0, escalated: 0, resolved: 0, ratingChanges: 0 });
          expect(second.active).toBe(first.active);
          if (first.active > 0) withAlerts++;

          // The what-if as of today finds what the live run stored: one computation.
          const now = await whatIf({ store, policy }, { asOf: TODAY });
          const found = now.results.flatMap((c) =>
            c.findings.map((f) => `${f.customerId}/${f.rule}/${f.severity}`),
          );
          const active = (await store.listAlerts('active')).map(
            (a) => `${a.customerId}/${a.rule}/${a.severity}`,
          );
          expect(found.sort()).toEqual(active.sort());
          for (const c of now.results)
            expect((await store.loadCustomerPartition(c.customerId)).assessment?.rating).toBe(c.rating);
        } finally {
          await h.close();
        }
      }),
      { numRuns: 25 },
    );
    expect(withAlerts).toBeGreaterThan(5);
  }, 120_000);
});
