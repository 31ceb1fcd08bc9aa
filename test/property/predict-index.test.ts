import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import {
  DEFAULT_PARAMS,
  type InvoiceRecord,
  isOpenOn,
  knownAsOf,
  predictSettlement,
  segmentAsOf,
} from '../../functions/predict/model.ts';

/**
 * The payment-date model reads the segment through an index (sorted once per date and billing
 * channel: functions/predict/model.ts) instead of one invoice at a time. Over generated books, in
 * the shipped parameters and others: every prediction is the one the one-by-one reading gives (a
 * segment dated another day is read one by one), date, interval, counts and reason.
 */
const AS_OF: IsoDate = '2026-06-30';
const invoiceArb = fc.record({
  issuedBack: fc.integer({ min: 0, max: 400 }),
  terms: fc.constantFrom(0, 14, 30, 60),
  /** Days from due to settlement; null: still open. */
  settle: fc.option(fc.integer({ min: -20, max: 120 }), { nil: null }),
  channel: fc.constantFrom(undefined, 'paper', 'electronic', 'edi'),
});
const bookArb = fc.array(fc.array(invoiceArb, { maxLength: 12 }), { minLength: 1, maxLength: 12 });
const paramsArb = fc.record({
  minHistory: fc.constantFrom(1, 2, 3),
  segmentWeight: fc.constantFrom(0, 0.5, 2, 5),
  low: fc.constantFrom(0.1, 0.2),
  high: fc.constantFrom(0.8, 0.9),
});

type Spec = typeof invoiceArb extends fc.Arbitrary<infer T> ? T : never;

function recordsOf(book: readonly (readonly Spec[])[]): InvoiceRecord[] {
  const out: InvoiceRecord[] = [];
  for (const [c, invoices] of book.entries())
    for (const [i, x] of invoices.entries()) {
      const issueDate = addDays(AS_OF, -x.issuedBack);
      const dueDate = addDays(issueDate, x.terms);
      const settled = x.settle === null ? undefined : addDays(dueDate, x.settle);
      out.push({
        customerId: `C${c}`,
        invoiceId: `C${c}-I${i}`,
        issueDate,
        dueDate,
        amount: 100 + i,
        currency: 'EUR',
        settledDate: settled !== undefined && settled < issueDate ? issueDate : settled,
        channel: x.channel,
      });
    }
  return out;
}

describe('the segment read through its index', () => {
  it('predicts exactly what reading it one invoice at a time predicts', () => {
    fc.assert(
      fc.property(bookArb, paramsArb, fc.integer({ min: 0, max: 60 }), (book, p, back) => {
        const asOf = addDays(AS_OF, -back);
        const all = recordsOf(book);
        const segment = segmentAsOf(all, asOf);
        const oneByOne = { ...segment, asOf: '1970-01-01' };
        const params = { ...DEFAULT_PARAMS, ...p };
        for (const c of new Set(all.map((r) => r.customerId))) {
          const history = knownAsOf(
            all.filter((r) => r.customerId === c),
            asOf,
          );
          for (const inv of history)
            if (isOpenOn(inv, asOf))
              expect(predictSettlement(inv, asOf, history, segment, params)).toEqual(
                predictSettlement(inv, asOf, history, oneByOne, params),
              );
        }
      }),
      { numRuns: 300 },
    );
  });
});
