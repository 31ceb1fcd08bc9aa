import { afterAll, describe, expect, it } from 'vitest';
import type { FaultKind } from '../../functions/adapters/faults.ts';
import { differences, type Outcome, scenario } from './faults-scenario.ts';

/**
 * The fault suite (faults-scenario.ts): the demo book ingested, evaluated, reviewed and a refund
 * approved, with a share of the store's calls failing; the end must be a clean run's.
 */
describe('the pipeline with 10% of store calls failing ends like a clean run', () => {
  let clean: Outcome;
  const seen: string[] = [];
  afterAll(() => {
    if (seen.length > 0) console.log(seen.join('\n'));
  });

  it('a clean run: the baseline', async () => {
    clean = await scenario(undefined);
    expect(clean.retries).toEqual([]);
    expect(clean.told.length).toBeGreaterThan(10);
    expect(clean.transfer).toBe('approved');
    // Run again, it is the same: what is compared below is what was decided, not when or by whom.
    const again = await scenario(undefined);
    expect(differences(again.items, clean.items)).toEqual([]);
  }, 60_000);

  const kinds: FaultKind[] = ['throttle', 'server', 'timeout'];
  for (const seed of [1, 2])
    it(`throttling, 500s and timeouts, seed ${seed}`, async () => {
      const f = await scenario({ rate: 0.1, kinds, seed });
      seen.push(
        `seed ${seed}: ${f.faults} faults injected, step retries: ${f.retries.length ? f.retries.join('; ') : 'none'}`,
      );
      expect(f.faults).toBeGreaterThan(50);
      expect(f.told).toEqual(clean.told);
      expect(f.reviewCounts).toEqual(clean.reviewCounts);
      expect(f.reviewAsked).toEqual(clean.reviewAsked);
      expect(f.reviewReport).toBe(clean.reviewReport);
      expect(f.transfer).toBe(clean.transfer);
      expect(differences(f.items, clean.items)).toEqual([]);
    }, 60_000);
});
