import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../functions/core/dates.ts';
import { statementAsOf } from '../../functions/core/receivables.ts';
import { assess } from '../../functions/credit/assess.ts';
import { asOfFile } from '../../functions/credit/evaluate.ts';
import { creditHistory, monthEnds, statementBooks } from '../../functions/credit/history.ts';
import { asOfArb, creditFileArb, POLICY } from './books.ts';

/**
 * The customer page's history is the statement and the assessment as of each month-end, not a
 * second formula: over generated credit files (books.ts), each month-end's aging is the one the
 * statement gives as of that day, and its score and rating the ones `assess` gives; a month-end
 * before the first invoice has no figures at all.
 */

describe('the credit history of a customer', () => {
  it('month-ends: twelve consecutive last days of months, the newest on or before the date', () => {
    fc.assert(
      fc.property(asOfArb, (asOf) => {
        const ends = monthEnds(asOf);
        expect(ends).toHaveLength(12);
        for (const [i, d] of ends.entries()) {
          expect(addDays(d, 1).slice(8)).toBe('01');
          if (i > 0) expect(addDays(ends[i - 1] as string, 1).slice(0, 7)).toBe(d.slice(0, 7));
        }
        const last = ends[11] as string;
        expect(last <= asOf).toBe(true);
        // The month-end after it is after the date: none is left out.
        const nextFirst = addDays(last, 1);
        const nextEnd = addDays(`${addDays(nextFirst, 32).slice(0, 7)}-01`, -1);
        expect(nextEnd > asOf).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("each month-end's aging is the statement's as of that day, its score the assessment's", () => {
    fc.assert(
      fc.property(creditFileArb, ({ file, asOf }) => {
        const ends = monthEnds(asOf);
        const history = creditHistory(file, ends, POLICY);
        expect(history.map((p) => p.asOf)).toEqual(ends);
        for (const p of history) {
          const issued = file.invoices.some((i) => i.issueDate <= p.asOf);
          if (!issued) {
            expect(p.figures).toBeUndefined();
            continue;
          }
          const s = statementAsOf(statementBooks(file), p.asOf).summary;
          const a = assess(asOfFile(file, p.asOf), p.asOf, POLICY);
          expect(p.figures).toEqual({
            currency: s.currency,
            aging: s.aging,
            openAmount: s.openAmount,
            overdueAmount: s.overdueAmount,
            score: a.score,
            rating: a.rating,
            riskClass: a.riskClass,
          });
        }
      }),
      { numRuns: 150 },
    );
  });

  it("without a currency on the master data, the aging is still the statement's", () => {
    fc.assert(
      fc.property(creditFileArb, ({ file, asOf }) => {
        const bare = {
          ...file,
          customer: file.customer ? { ...file.customer, currency: undefined } : undefined,
        };
        for (const p of creditHistory(bare, monthEnds(asOf), POLICY))
          if (p.figures)
            expect(p.figures.aging).toEqual(statementAsOf(statementBooks(bare), p.asOf).summary.aging);
      }),
      { numRuns: 60 },
    );
  });
});
