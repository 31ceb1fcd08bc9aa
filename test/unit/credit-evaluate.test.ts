import { describe, expect, it } from 'vitest';
import type { Assessment, CreditFile, PriorAssessment } from '../../functions/credit/assess.ts';
import { withRecent } from '../../functions/credit/evaluate.ts';

const p = (asOf: string, rating: PriorAssessment['rating']): PriorAssessment => ({
  asOf,
  rating,
  score: 50,
  policyId: 'p',
});
const file = (recent: PriorAssessment[]) => ({ recent }) as unknown as CreditFile;
const assessed = (asOf: string, rating: PriorAssessment['rating']) =>
  ({ asOf, rating, score: 50, policyId: 'p' }) as unknown as Assessment;

describe('withRecent: the rating history kept with an assessment', () => {
  it('a steady rating adds nothing, so the stored history does not change day to day', () => {
    expect(withRecent(assessed('2026-06-30', 'B'), file([p('2026-06-01', 'B')])).recent).toEqual([
      p('2026-06-01', 'B'),
    ]);
  });

  it('a change is added; changes older than 90 days go, except the one still in effect', () => {
    const r = withRecent(
      assessed('2026-06-30', 'C'),
      file([p('2026-01-01', 'A'), p('2026-02-01', 'B'), p('2026-05-01', 'A')]),
    );
    // 90 days before 06-30 is 04-01: B (02-01) was in effect then and stays; A (01-01) goes.
    expect(r.recent).toEqual([p('2026-02-01', 'B'), p('2026-05-01', 'A'), p('2026-06-30', 'C')]);
  });

  it('entries of the same day or later (a re-run of an earlier date) are not history', () => {
    const r = withRecent(
      assessed('2026-06-30', 'B'),
      file([p('2026-06-01', 'A'), p('2026-06-30', 'C'), p('2026-07-15', 'D')]),
    );
    expect(r.recent).toEqual([p('2026-06-01', 'A'), p('2026-06-30', 'B')]);
  });

  it('the first assessment starts the history', () => {
    expect(withRecent(assessed('2026-06-30', 'A'), file([])).recent).toEqual([p('2026-06-30', 'A')]);
  });
});
