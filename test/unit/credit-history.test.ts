import { describe, expect, it } from 'vitest';
import { limitHistory, monthEnds } from '../../functions/credit/history.ts';
import type { LimitChange } from '../../functions/reviews/ports.ts';
import type { Review } from '../../functions/reviews/review.ts';

const change = (
  on: string,
  from: number | undefined,
  to: number,
  by: string,
  reviewId: string,
  reason: string,
): LimitChange => ({
  customerId: 'C1',
  currency: 'EUR',
  from,
  to,
  on,
  at: `${on}T06:00:00.000Z`,
  by,
  reviewId,
  reason,
});

describe('monthEnds', () => {
  it('takes the date itself when it is a month-end, else the month-end before it', () => {
    expect(monthEnds('2026-03-31', 3)).toEqual(['2026-01-31', '2026-02-28', '2026-03-31']);
    expect(monthEnds('2026-03-30', 3)).toEqual(['2025-12-31', '2026-01-31', '2026-02-28']);
    expect(monthEnds('2024-03-15', 2)).toEqual(['2024-01-31', '2024-02-29']);
    expect(monthEnds('2026-01-05', 2)).toEqual(['2025-11-30', '2025-12-31']);
  });
});

describe('limitHistory', () => {
  const base = { customerId: 'C1', reviews: [], approved: [] };

  it('a limit only ever uploaded: one change, dated by its upload', () => {
    expect(
      limitHistory({
        ...base,
        current: { amount: 5_000_000, currency: 'EUR' },
        profile: { runId: 'R1' },
        uploadedOn: '2025-03-15',
        records: [],
      }),
    ).toEqual([
      {
        on: '2025-03-15',
        currency: 'EUR',
        from: undefined,
        to: 5_000_000,
        source: 'upload',
        reason: 'the credit limit of the customers file uploaded',
        runId: 'R1',
      },
    ]);
  });

  it('records oldest first, the approval named by its transfer, the limit uploaded before them first', () => {
    const steps = limitHistory({
      ...base,
      current: { amount: 4_000_000, currency: 'EUR' },
      profile: { runId: 'R1', limitSetBy: 'approval chain RV2/C1' },
      uploadedOn: '2025-03-15',
      records: [
        change(
          '2026-02-01',
          3_000_000,
          4_000_000,
          'approval chain',
          'RV2/C1',
          'credit release TR-01ABC approved at every level',
        ),
        change('2025-10-31', 5_000_000, 3_000_000, 'periodic-review', 'RV1/C1', 'cut'),
      ],
    });
    expect(steps.map((s) => [s.on, s.from, s.to, s.source, s.transferId, s.runId])).toEqual([
      ['2025-03-15', undefined, 5_000_000, 'upload', undefined, 'R1'],
      ['2025-10-31', 5_000_000, 3_000_000, 'review', undefined, undefined],
      ['2026-02-01', 3_000_000, 4_000_000, 'approval', 'TR-01ABC', undefined],
    ]);
  });

  it('an upload after the first change does not date the limit before it', () => {
    const steps = limitHistory({
      ...base,
      current: { amount: 4_000_000, currency: 'EUR' },
      profile: { runId: 'R9', limitSetBy: 'approval chain RV2/C1' },
      uploadedOn: '2026-01-10',
      records: [change('2025-10-31', 5_000_000, 3_000_000, 'periodic-review', 'RV1/C1', 'cut')],
    });
    expect(steps[0]).toMatchObject({ on: undefined, to: 5_000_000, source: 'upload', runId: undefined });
  });

  it('a limit uploaded again that differs from the last one set is a change on the day of the upload', () => {
    const steps = limitHistory({
      ...base,
      current: { amount: 3_500_000, currency: 'EUR' },
      profile: { runId: 'R3' },
      uploadedOn: '2026-04-01',
      records: [change('2025-10-31', 5_000_000, 3_000_000, 'periodic-review', 'RV1/C1', 'cut')],
    });
    expect(steps.at(-1)).toMatchObject({
      on: '2026-04-01',
      from: 3_000_000,
      to: 3_500_000,
      source: 'upload',
    });
    // The same limit uploaded again changes nothing.
    expect(
      limitHistory({
        ...base,
        current: { amount: 3_000_000, currency: 'EUR' },
        profile: { runId: 'R3' },
        uploadedOn: '2026-04-01',
        records: [change('2025-10-31', 5_000_000, 3_000_000, 'periodic-review', 'RV1/C1', 'cut')],
      }),
    ).toHaveLength(1);
  });

  it('reviews and approved transfers with no record are listed once, records first', () => {
    const review = {
      reviewId: 'RV0/C1',
      runId: 'RV0',
      customerId: 'C1',
      asOf: '2025-06-30',
      status: 'done',
      applied: true,
      outcome: 'raise',
      currency: 'EUR',
      currentLimit: 1_000_000,
      limitAfter: 1_200_000,
      decision: 'raised within the band',
    } as Review;
    const steps = limitHistory({
      customerId: 'C1',
      records: [change('2025-10-31', 1_200_000, 900_000, 'periodic-review', 'RV1/C1', 'cut')],
      reviews: [review, { ...review, reviewId: 'RV1/C1', asOf: '2025-10-31' }],
      approved: [
        {
          transferId: 'TR-9',
          approvedOn: '2025-12-01',
          currency: 'EUR',
          from: 900_000,
          to: 1_100_000,
          reviewId: 'RV2/C1',
        },
        {
          transferId: 'TR-8',
          approvedOn: '2025-10-31',
          currency: 'EUR',
          from: 1_200_000,
          to: 900_000,
          reviewId: 'RV1/C1',
        },
      ],
    });
    expect(steps.map((s) => [s.on, s.to, s.source, s.reviewId])).toEqual([
      ['2025-06-30', 1_200_000, 'review', 'RV0/C1'],
      ['2025-10-31', 900_000, 'review', 'RV1/C1'],
      ['2025-12-01', 1_100_000, 'approval', 'RV2/C1'],
    ]);
  });
});
