import { type IsoDate, isIsoDateAt } from '../core/dates.ts';

/**
 * Hands out one string per distinct text read in place from a larger string (a CSV chunk). A file
 * names the same customers, dates and currencies on row after row: reading them through here
 * costs a hash of their characters instead of a new string each time, and the string that comes
 * back is always the same object, so the maps keyed by it compare by pointer.
 *
 * The table starts small and doubles (a small one stays in the CPU cache); past `capacity`
 * distinct values new ones are still returned, sliced, but not kept.
 */
export class Interner {
  private slots: (string | undefined)[] = [];
  private hashes = new Int32Array(0);
  private mask = 0;
  private count = 0;

  constructor(private readonly capacity = 1 << 16) {
    this.resize(1 << 10);
  }

  private resize(size: number): void {
    const old = this.slots;
    const oldHashes = this.hashes;
    this.slots = new Array<string | undefined>(size).fill(undefined);
    this.hashes = new Int32Array(size);
    this.mask = size - 1;
    for (let k = 0; k < old.length; k++) {
      const s = old[k];
      if (s === undefined) continue;
      const h = oldHashes[k] as number;
      let i = h & this.mask;
      while (this.slots[i] !== undefined) i = (i + 1) & this.mask;
      this.slots[i] = s;
      this.hashes[i] = h;
    }
  }

  /**
   * The kept string equal to `text.slice(from, to)`, or a new one. A text not seen yet is first
   * put to `admit`: when it says no, the result is undefined and nothing is kept.
   */
  at(
    text: string,
    from: number,
    to: number,
    admit?: (text: string, from: number, to: number) => boolean,
  ): string | undefined {
    let h = 0x811c9dc5;
    for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h ^= h >>> 15;
    const n = to - from;
    let i = h & this.mask;
    for (;;) {
      const s = this.slots[i];
      if (s === undefined) break;
      if (this.hashes[i] === h && s.length === n && same(s, text, from)) return s;
      i = (i + 1) & this.mask;
    }
    if (admit !== undefined && !admit(text, from, to)) return undefined;
    const s = text.slice(from, to);
    if (this.count >= this.capacity) return s;
    // A long slice is a view that pins the whole chunk: keep a copy of its characters instead.
    const kept = n >= 13 ? Buffer.from(s, 'utf16le').toString('utf16le') : s;
    this.slots[i] = kept;
    this.hashes[i] = h;
    this.count++;
    if (this.count * 2 > this.slots.length) this.resize(this.slots.length * 2);
    return kept;
  }
}

/**
 * Dates written YYYY-MM-DD, read in place: the digits give the day's slot, so a date seen before
 * costs ten character reads and comes back as the same string; a new one is checked once.
 */
export class IsoDates {
  // Years 1900-2199 (what `isIsoDateAt` accepts), 12 months of 31 slots.
  private readonly slots: (IsoDate | undefined)[] = new Array(300 * 372).fill(undefined);

  at(text: string, from: number, to: number): IsoDate | undefined {
    if (to - from !== 10 || text.charCodeAt(from + 4) !== 45 || text.charCodeAt(from + 7) !== 45)
      return undefined;
    const d0 = digitAt(text, from);
    const d1 = digitAt(text, from + 1);
    const d2 = digitAt(text, from + 2);
    const d3 = digitAt(text, from + 3);
    const d5 = digitAt(text, from + 5);
    const d6 = digitAt(text, from + 6);
    const d8 = digitAt(text, from + 8);
    const d9 = digitAt(text, from + 9);
    if ((d0 | d1 | d2 | d3 | d5 | d6 | d8 | d9) < 0) return undefined;
    const v = ((((((d0 * 10 + d1) * 10 + d2) * 10 + d3) * 10 + d5) * 10 + d6) * 10 + d8) * 10 + d9;
    // v = YYYYMMDD
    const y = Math.floor(v / 10000);
    const m = Math.floor(v / 100) % 100;
    const d = v % 100;
    if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > 31) return undefined;
    const slot = (y - 1900) * 372 + (m - 1) * 31 + (d - 1);
    const hit = this.slots[slot];
    if (hit !== undefined) return hit;
    if (!isIsoDateAt(text, from, to)) return undefined;
    const s = text.slice(from, to);
    this.slots[slot] = s;
    return s;
  }
}

/** The digit at `i`, or -1. */
function digitAt(text: string, i: number): number {
  const c = text.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

function same(s: string, text: string, from: number): boolean {
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) !== text.charCodeAt(from + k)) return false;
  return true;
}
