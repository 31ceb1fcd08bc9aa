import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Contact,
  type DunningItem,
  dunningAsOf,
  ladderOf,
  minDemandOf,
} from '../../functions/collections/dunning.ts';
import { type PromiseToPay, ratePromise } from '../../functions/collections/promises.ts';
import { addDays, daysBetween, type IsoDate } from '../../functions/core/dates.ts';
import {
  type CustomerBooks,
  type DisputedPart,
  disputedOpen,
  type Statement,
  statementAsOf,
  withDisputes,
} from '../../functions/core/receivables.ts';
import type { CollectionsPolicy, RiskClass } from '../../functions/credit/policy.ts';
import { creditFileArb, type GeneratedFile, POLICY } from './books.ts';

/**
 * Dunning (README "Collections") held over generated credit files (test/property/books.ts) under
 * the default plan: what a credit controller would check of any reminder, whatever the book.
 */
const RUNS = 300;
const plan = POLICY.collections as CollectionsPolicy;
const riskArb = fc.constantFrom<RiskClass | undefined>(undefined, 'low', 'medium', 'high');

/**
 * Disputes open on the day on some of the invoices (README "Collections"): on the whole invoice or
 * on a part of it (a line), from a cent to half as much again as the invoice, so a payment since
 * has often left less open than the part; besides the ERP's flags the generator sets.
 */
const disputesArb = fc.array(
  fc.record({
    pick: fc.nat(),
    /** Thousandths of the invoice's amount; undefined (one in four): the whole invoice. */
    part: fc.option(fc.integer({ min: 1, max: 1500 }), { nil: undefined, freq: 4 }),
    line: fc.option(fc.constantFrom('2 pallets damaged', 'freight charged twice', '运费重复收取'), {
      nil: undefined,
    }),
  }),
  { maxLength: 4 },
);
type DisputeSpec = typeof disputesArb extends fc.Arbitrary<infer S> ? S : never;

/** The disputes on the statement's invoices, one an invoice (the first picking it), in the order given. */
function disputesOn(s: Statement, specs: DisputeSpec): [string, DisputedPart][] {
  const out = new Map<string, DisputedPart>();
  for (const d of specs) {
    const i = s.invoices[d.pick % Math.max(1, s.invoices.length)];
    if (!i || out.has(i.invoiceId)) continue;
    out.set(i.invoiceId, {
      // At least one minor unit.
      ...(d.part !== undefined ? { amount: Math.max(1, Math.floor((i.amount * d.part) / 1000)) } : {}),
      ...(d.line !== undefined ? { line: d.line } : {}),
    });
  }
  return [...out];
}

/** The books as they stood on the file's date: nothing issued or received after it. */
function booksOf(g: GeneratedFile): CustomerBooks {
  return {
    customerId: g.file.customerId,
    currency: g.file.currency,
    invoices: g.file.invoices.filter((i) => i.issueDate <= g.asOf),
    payments: g.file.payments.filter((p) => p.receivedDate <= g.asOf),
  };
}

describe('dunning over generated books', () => {
  it('accounts for every open item, split between at most two lists, and demands only undisputed overdue less unapplied cash', () => {
    let split = 0;
    fc.assert(
      fc.property(creditFileArb, riskArb, disputesArb, (g, riskClass, specs) => {
        const books = statementAsOf(booksOf(g), g.asOf);
        const s = withDisputes(books, new Map(disputesOn(books, specs)));
        const d = dunningAsOf('C1', s, plan, { riskClass });
        // Every open item's open amount is in the lists once: whole in one, or split between the
        // disputed part and the rest (overdue or not due), the two adding up to it.
        const lists: [string, readonly DunningItem[]][] = [
          ['overdue', d.overdue],
          ['disputed', d.disputed],
          ['notDue', d.notDue],
          ['otherCurrency', d.otherCurrency],
        ];
        const listed = new Map<string, { lists: string[]; open: number }>();
        for (const [name, items] of lists)
          for (const i of items) {
            const x = listed.get(i.invoiceId) ?? { lists: [], open: 0 };
            listed.set(i.invoiceId, { lists: [...x.lists, name], open: x.open + i.open });
          }
        const open = s.invoices.filter((i) => i.settledDate === undefined && i.open > 0);
        expect([...listed.keys()].sort()).toEqual(open.map((i) => i.invoiceId).sort());
        for (const i of open) {
          const x = listed.get(i.invoiceId);
          expect(x?.open).toBe(i.open);
          expect(x?.lists.length).toBeLessThanOrEqual(2);
          const part = disputedOpen(i);
          if (x?.lists.length === 2) {
            split++;
            expect(x.lists[0] === 'disputed' ? x.lists[1] : x.lists[0]).not.toBe('disputed');
            expect(x.lists).toContain('disputed');
            expect(part).toBeGreaterThan(0);
            expect(part).toBeLessThan(i.open);
          }
          // The part disputed is what the dispute names, at most what is open now.
          if (i.currency === d.currency)
            expect(d.disputed.find((y) => y.invoiceId === i.invoiceId)?.open ?? 0).toBe(part);
        }
        expect(d.totals.overdue + d.totals.disputed + d.totals.notDue).toBe(s.summary.openAmount);
        // What the dunning sets apart is what the statement counts as disputed (undisputed DSO's).
        expect(d.totals.disputed).toBe(s.summary.disputedAmount);
        expect(d.overdue.every((i) => !i.disputed && i.daysPastDue > 0 && i.currency === d.currency)).toBe(
          true,
        );
        expect(d.totals.demand).toBe(Math.max(0, d.totals.overdue - d.totals.unappliedCash));
        // Oldest first, and the level is the oldest's.
        expect(d.overdue.map((i) => i.dueDate)).toEqual(d.overdue.map((i) => i.dueDate).sort());
        expect(d.oldestDaysPastDue).toBe(d.overdue[0]?.daysPastDue ?? 0);
        const { levels } = ladderOf(plan, riskClass);
        expect(d.reached?.name).toBe(levels.filter((l) => l.afterDays <= d.oldestDaysPastDue).at(-1)?.name);
        if (d.send) {
          // The level reached, or the final notice a hand-over to legal waits for.
          const finalNotice = levels.filter((l) => l.action === 'remind').at(-1);
          expect(d.send === d.reached || (d.reached?.action === 'legal' && d.send === finalNotice)).toBe(
            true,
          );
          expect(d.totals.demand).toBeGreaterThanOrEqual(Math.max(1, minDemandOf(plan, d.currency)));
        }
      }),
      { numRuns: RUNS },
    );
    // The property was exercised: invoices were split in two.
    expect(split).toBeGreaterThan(20);
  });

  it('decides the same on the same data, whatever order the contacts come in', () => {
    const contactsArb = fc.array(
      fc.record({
        level: fc.constantFrom('friendly', 'firm', 'final', 'hold', 'legal'),
        back: fc.integer({ min: 0, max: 120 }),
      }),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(creditFileArb, riskArb, contactsArb, disputesArb, (g, riskClass, cs, specs) => {
        const contacts: Contact[] = cs.map((c) => ({ level: c.level, on: addDays(g.asOf, -c.back) }));
        const books = statementAsOf(booksOf(g), g.asOf);
        const disputes = disputesOn(books, specs);
        const s = withDisputes(books, new Map(disputes));
        const a = dunningAsOf('C1', s, plan, { riskClass, contacts });
        // The same disputes in another order, on a copy of the books.
        const b = dunningAsOf(
          'C1',
          withDisputes(structuredClone(books), new Map([...disputes].reverse())),
          plan,
          {
            riskClass,
            contacts: [...contacts].reverse(),
          },
        );
        expect(b).toEqual(a);
      }),
      { numRuns: RUNS },
    );
  });

  it('replayed day by day with nothing paid: levels only rise, each once, never two messages within the gap', () => {
    let escalations = 0;
    fc.assert(
      fc.property(creditFileArb, riskArb, (g, riskClass) => {
        const books = booksOf(g);
        const { levels } = ladderOf(plan, riskClass);
        const contacts: Contact[] = [];
        let reached = -1;
        for (let k = 0; k <= 120; k++) {
          const day: IsoDate = addDays(g.asOf, k);
          const d = dunningAsOf('C1', statementAsOf(books, day), plan, { riskClass, contacts });
          const at = levels.findIndex((l) => l.name === d.reached?.name);
          expect(at).toBeGreaterThanOrEqual(reached);
          reached = at;
          if (!d.send) continue;
          const last = contacts.at(-1);
          if (last) {
            expect(daysBetween(last.on, day)).toBeGreaterThanOrEqual(plan.minGapDays);
            // Higher each time, but for the final notice a hand-over to legal waits for (a customer
            // first seen past the hold is put on hold, then told, then handed over).
            const waitedFor = d.reached?.action === 'legal' && d.send.action === 'remind';
            if (!waitedFor)
              expect(levels.findIndex((l) => l.name === d.send?.name)).toBeGreaterThan(
                levels.findIndex((l) => l.name === last.level),
              );
            escalations++;
          }
          // Never handed over without the final notice sent before.
          if (d.send.action === 'legal')
            expect(
              contacts.some((c) => c.level === levels.findLast((l) => l.action === 'remind')?.name),
            ).toBe(true);
          contacts.push({ level: d.send.name, on: day });
        }
      }),
      { numRuns: 100 },
    );
    // The property was exercised: many customers were chased more than once.
    expect(escalations).toBeGreaterThan(50);
  });

  it('a promise pending on the day holds every message; rating it twice, or in another order, decides the same', () => {
    fc.assert(
      fc.property(
        creditFileArb,
        riskArb,
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 5_000_000 }),
        (g, riskClass, madeBefore, ahead, amount) => {
          const b = booksOf(g);
          const s = statementAsOf(b, g.asOf);
          const madeOn = addDays(g.asOf, -madeBefore);
          const promise: PromiseToPay = {
            promiseId: 'PTP-x',
            customerId: 'C1',
            amount,
            currency: g.file.currency,
            promisedDate: addDays(madeOn, ahead),
            madeOn,
            recordedBy: 'p',
            via: 'call',
            recordedAt: `${madeOn}T09:00:00.000Z`,
          };
          const rated = ratePromise(promise, b.payments, g.asOf, plan.promises);
          const other: PromiseToPay = {
            ...promise,
            promiseId: 'PTP-y',
            amount: amount * 2,
            promisedDate: addDays(madeOn, 1),
          };
          const both = [rated, ratePromise(other, b.payments, g.asOf, plan.promises)];
          const d = dunningAsOf('C1', s, plan, { riskClass, promises: both });
          expect(dunningAsOf('C1', s, plan, { riskClass, promises: [...both].reverse() })).toEqual(d);
          expect(ratePromise(promise, [...b.payments].reverse(), g.asOf, plan.promises)).toEqual(rated);
          if (rated.state === 'pending') expect(d.send).toBeUndefined();
          // Kept means paid in full by the grace's end; broken means nothing came.
          if (rated.state === 'kept') expect(rated.paid).toBeGreaterThanOrEqual(amount);
          if (rated.state === 'broken') expect(rated.paid).toBe(0);
          if (rated.state === 'partial')
            expect(rated.paid > 0 && rated.paid < amount && g.asOf > rated.graceEnds).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
