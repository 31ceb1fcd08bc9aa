import { describe, expect, it } from 'vitest';
import { FingerprintSet } from '../../functions/ingest/fingerprints.ts';

/** Keys shaped like the duplicate-row keys ingest builds: customer NUL invoice. */
const key = (i: number) => `CUST-${i % 997}\u0000INV-${String(i).padStart(8, '0')}`;
const N = 200_000;

describe('FingerprintSet', () => {
  it('rarely reports a false hit for 200k distinct keys, then reports a hit for each of them again', () => {
    // expected 10: the first table (65536 slots) fills at 70% and the set has to grow twice.
    // 16 stored bits: each probed slot matches a new key with p = 2^-16; ~6 slots are probed per
    // add across the three tables, so ~200k * 6 / 65536 = 18 false hits are expected. The pipeline
    // confirms every hit against the store, so a false hit costs a lookup, never a row.
    const set = new FingerprintSet(10);
    let falseHits = 0;
    for (let i = 0; i < N; i++) if (set.add(key(i))) falseHits++;
    expect(falseHits).toBeLessThanOrEqual(40);
    let misses = 0;
    for (let i = 0; i < N; i++) if (!set.add(key(i))) misses++;
    expect(misses).toBe(0);
    // re-adding did not disturb it: a new key is still new, and then present
    expect(set.add('CUST-X\u0000INV-NEW')).toBe(false);
    expect(set.add('CUST-X\u0000INV-NEW')).toBe(true);
  });

  it('re-adding in reverse order after growth still hits', () => {
    const set = new FingerprintSet(10);
    for (let i = 0; i < 100_000; i++) set.add(`k${i}`);
    let misses = 0;
    for (let i = 100_000 - 1; i >= 0; i--) if (!set.add(`k${i}`)) misses++;
    expect(misses).toBe(0);
  });

  it('tells apart keys that differ only in order, case or length', () => {
    const set = new FingerprintSet();
    expect(set.add('ab')).toBe(false);
    expect(set.add('ba')).toBe(false);
    expect(set.add('AB')).toBe(false);
    expect(set.add('a')).toBe(false);
    expect(set.add('ab\u0000')).toBe(false);
    expect(set.add('')).toBe(false);
    expect(set.add('')).toBe(true);
    expect(set.add('ab')).toBe(true);
    expect(set.add('ba')).toBe(true);
  });

  it('works with a large expected size up front', () => {
    const set = new FingerprintSet(N);
    let falseHits = 0;
    for (let i = 0; i < 50_000; i++) if (set.add(key(i))) falseHits++;
    expect(falseHits).toBe(0);
    expect(set.add(key(12_345))).toBe(true);
  });

  it('keeps the two parts of a key apart', () => {
    const set = new FingerprintSet(10);
    expect(set.add('ab', 'c')).toBe(false);
    expect(set.add('a', 'bc')).toBe(false);
    expect(set.add('abc')).toBe(false);
    expect(set.add('ab', 'c')).toBe(true);
  });
});
