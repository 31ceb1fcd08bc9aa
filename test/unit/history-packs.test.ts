import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALLOCATIONS,
  allocationStamp,
  bySortKey,
  decodePack,
  encodePack,
  type PackedItem,
  PackFormatError,
  packable,
  packKey,
  packsOf,
  packVersion,
  ROWS,
  sameStamp,
} from '../../functions/adapters/history-packs.ts';

const invoice = (i: number): PackedItem => ({
  sk: `INV#I-${String(i).padStart(6, '0')}`,
  type: 'invoice',
  customerId: 'C1',
  invoiceId: `I-${String(i).padStart(6, '0')}`,
  issueDate: '2024-01-02',
  dueDate: '2024-02-01',
  amount: 10_000 + i,
  currency: 'EUR',
  disputed: i % 7 === 0,
  run: '20240102T040000Z-0a1b2c3d4e',
  line: i + 2,
});

describe('history packs (the codec)', () => {
  it('gives back every item exactly, whatever JSON-safe attributes it has', () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.integer(), {
        maxKeys: 3,
        noNullPrototype: true,
      }),
    );
    const item = fc
      .tuple(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value),
      )
      .map(([id, rest]) => ({ ...rest, sk: `INV#${id}` }) as PackedItem);
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), (items) => {
        expect(items.every(packable)).toBe(true);
        expect(decodePack('PACK#x', encodePack(items))).toEqual(items);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps a settled row in about 20 bytes', () => {
    const items = Array.from({ length: 2_000 }, (_, i) => invoice(i));
    const bytes = encodePack(items).byteLength;
    expect(bytes / items.length).toBeLessThan(25);
    expect(JSON.stringify(items).length / items.length).toBeGreaterThan(200);
  });

  it('splits packs to fit, and leaves out a row too big alone, to stay stored in full', () => {
    const items = Array.from({ length: 3_000 }, (_, i) => invoice(i));
    const { packs, leftOut } = packsOf(items, 8_000);
    expect(packs.length).toBeGreaterThan(1);
    for (const p of packs) expect(p.data.byteLength).toBeLessThanOrEqual(8_000);
    expect(packs.flatMap((p) => p.items)).toEqual(items);
    expect(leftOut).toEqual([]);
    // Random text does not compress: one row of 20 KB cannot fit 8 KB.
    let seed = 12345;
    const noise = Array.from({ length: 20_000 }, () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return String.fromCharCode(33 + (seed % 94));
    }).join('');
    const big = { ...invoice(9), note: noise };
    const out = packsOf([invoice(1), big, invoice(2)], 8_000);
    expect(out.leftOut).toEqual([big]);
    expect(out.packs.flatMap((p) => p.items)).toEqual([invoice(1), invoice(2)]);
  });

  it('refuses what JSON would change (a set, a number past 2^53) and a pack it cannot read', () => {
    expect(packable(invoice(1))).toBe(true);
    expect(packable({ ...invoice(1), tags: new Set(['a']) })).toBe(false);
    expect(packable({ ...invoice(1), amount: 2 ** 60 + 1 } as PackedItem)).toBe(true); // a float already
    expect(packable({ ...invoice(1), big: 10n } as unknown as PackedItem)).toBe(false);
    expect(() => decodePack('PACK#1', new Uint8Array([1, 2, 3]))).toThrow(PackFormatError);
    expect(() => decodePack('PACK#1', encodePack([]).slice(0, 10))).toThrow(/PACK#1 cannot be read/);
  });

  it('names packs by family and version, sorted as DynamoDB sorts its keys', () => {
    const a = packKey(ROWS, 2, 'abcd1234', 0);
    expect(a).toBe('PACK#00000002#abcd1234#0000');
    expect(packVersion(ROWS, a)).toBe(2);
    expect(packVersion(ROWS, 'PACK#junk')).toBe(0);
    const b = packKey(ALLOCATIONS, 7, 'abcd1234', 1);
    expect(b).toBe('ALLOC$PACK#00000007#abcd1234#0001');
    expect(packVersion(ALLOCATIONS, b)).toBe(7);
    // The allocations' packs and manifest sort after every allocation and before anything else.
    expect(
      ['ALLOC#\u{1F600}', b, ALLOCATIONS.manifestSk, 'ALLOC#~', 'ALLOC%', 'ALERT#x'].sort(bySortKey),
    ).toEqual(['ALERT#x', 'ALLOC#~', 'ALLOC#\u{1F600}', b, ALLOCATIONS.manifestSk, 'ALLOC%']);
    expect([packKey(ROWS, 10, 't', 0), packKey(ROWS, 9, 't', 1)].sort(bySortKey)).toEqual([
      packKey(ROWS, 9, 't', 1),
      packKey(ROWS, 10, 't', 0),
    ]);
    // UTF-8 order: U+FF5E sorts before U+1F600 (JavaScript's < says the opposite).
    expect(['INV#😀', 'INV#～'].sort(bySortKey)).toEqual(['INV#～', 'INV#😀']);
  });

  it('tells one write of an item from another by its stamp: run and line, or an allocation hash', () => {
    const row = invoice(3);
    expect(sameStamp(ROWS, row, { ...row })).toBe(true);
    expect(sameStamp(ROWS, row, { ...row, line: 99 })).toBe(false);
    expect(sameStamp(ROWS, row, { ...row, run: 'later' })).toBe(false);
    const { run: _r, ...unsourced } = row;
    expect(sameStamp(ROWS, unsourced as PackedItem, unsourced as PackedItem)).toBe(false);

    const app = {
      paymentId: 'P1',
      receivedDate: '2024-03-01',
      currency: 'EUR',
      allocations: [{ invoiceId: 'I-1', amount: 500 }],
      unapplied: 0,
      notes: [],
    };
    const h = allocationStamp(app);
    // The same content in another attribute order has the same stamp; any change gives another.
    const { paymentId, ...rest } = app;
    expect(allocationStamp({ ...rest, paymentId })).toBe(h);
    expect(allocationStamp({ ...app, unapplied: 1 })).not.toBe(h);
    expect(allocationStamp({ ...app, allocations: [{ invoiceId: 'I-1', amount: 499 }] })).not.toBe(h);
    const item = { sk: 'ALLOC#P1', ...app, h };
    expect(sameStamp(ALLOCATIONS, item, { ...item })).toBe(true);
    expect(sameStamp(ALLOCATIONS, item, { ...item, h: allocationStamp({ ...app, unapplied: 1 }) })).toBe(
      false,
    );
    expect(sameStamp(ALLOCATIONS, { ...app, sk: 'ALLOC#P1' }, { ...app, sk: 'ALLOC#P1' })).toBe(false);
  });
});
