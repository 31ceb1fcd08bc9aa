import { describe, expect, it } from 'vitest';
import {
  BadCursorError,
  decodeCursor,
  encodeCursor,
  rangeText,
  slicePage,
} from '../../functions/core/paging.ts';

describe('where a page sits in its list', () => {
  it('says which part of how many: "201-400 of 8,362", "1 of 1", "none of 0"', () => {
    expect(rangeText({ from: 1, shown: 200, total: 8362 })).toBe('1-200 of 8,362');
    expect(rangeText({ from: 201, shown: 200, total: 8362 })).toBe('201-400 of 8,362');
    expect(rangeText({ from: 8201, shown: 162, total: 8362 })).toBe('8,201-8,362 of 8,362');
    expect(rangeText({ from: 1, shown: 1, total: 1 })).toBe('1 of 1');
    expect(rangeText({ from: 1, shown: 0, total: 0 })).toBe('none of 0');
  });

  it('a cursor carries the key before the page and its position, and comes back the same', () => {
    const c = { key: '0#C1004#daysPastDue', position: 601 };
    const s = encodeCursor(c);
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/); // safe in a URL as it is
    expect(decodeCursor(s)).toEqual(c);
    const odd = { key: '1#Ümit & Söhne/“x”#limitUse', position: 1 };
    expect(decodeCursor(encodeCursor(odd))).toEqual(odd);
  });

  it('refuses a cursor it did not make', () => {
    const bad = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const s of [
      'not a cursor',
      bad({ k: '', n: 1 }),
      bad({ k: 'x', n: 0 }),
      bad({ k: 'x', n: 1.5 }),
      bad({ k: 7, n: 1 }),
      bad({ n: 1 }),
      bad(null),
      bad({ k: 'x'.repeat(2049), n: 1 }),
    ])
      expect(() => decodeCursor(s), s).toThrow(BadCursorError);
  });

  it('pages a list held in memory by number, the last page short, a page past the end the last one', () => {
    const all = Array.from({ length: 450 }, (_, i) => i + 1);
    const first = slicePage(all, 1, 200);
    expect([first.from, first.items.length, first.total, first.next, first.prev]).toEqual([
      1,
      200,
      450,
      '2',
      undefined,
    ]);
    const second = slicePage(all, 2, 200);
    expect([second.from, second.items[0], second.next, second.prev]).toEqual([
      201,
      201,
      '3',
      { after: undefined },
    ]);
    const last = slicePage(all, 3, 200);
    expect([last.from, last.items.length, last.next, last.prev]).toEqual([
      401,
      50,
      undefined,
      { after: '2' },
    ]);
    expect(slicePage(all, 99, 200).from).toBe(401);
    const none = slicePage([], 1, 200);
    expect([none.from, none.items.length, none.total, none.next, none.prev]).toEqual([
      1,
      0,
      0,
      undefined,
      undefined,
    ]);
  });
});
