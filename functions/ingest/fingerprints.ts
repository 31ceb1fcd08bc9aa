/**
 * A set of row keys in 2-byte slots, so a 15M-row file fits in 64 MB where a Set<string> would
 * need ~1 GB. Each key is hashed twice: one hash picks the slot, 16 bits of the other are stored.
 * A hit therefore means "probably seen" (about one false hit per 2^16 probes: a few hundred in a
 * 15M-row file); the caller confirms every hit exactly against what it wrote, so a collision costs
 * one lookup and never rejects a row.
 */
export class FingerprintSet {
  private readonly tables: { slots: Uint16Array; mask: number; count: number }[] = [];

  constructor(expectedKeys = 1 << 16) {
    this.grow(expectedKeys);
  }

  private grow(expected: number): void {
    let size = 1 << 16;
    while (size * 0.7 < expected && size < 1 << 30) size *= 2;
    this.tables.push({ slots: new Uint16Array(size), mask: size - 1, count: 0 });
  }

  /** Adds a key of two parts; returns true when it was (very probably) already present. */
  add(a: string, b = ''): boolean {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < a.length; i++) {
      const c = a.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    // A separator, so ("ab", "c") and ("a", "bc") differ.
    h1 = Math.imul(h1 ^ 0x1f, 0x01000193);
    h2 = Math.imul(h2 ^ 0x1f, 0x5bd1e995);
    for (let i = 0; i < b.length; i++) {
      const c = b.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    h1 ^= h1 >>> 16;
    h1 = Math.imul(h1, 0x85ebca6b);
    h1 ^= h1 >>> 13;
    h2 = Math.imul(h2 ^ (h2 >>> 16), 0xc2b2ae35);
    h2 ^= h2 >>> 16;
    const fp = (h2 & 0xffff) === 0 ? 1 : h2 & 0xffff;
    for (const t of this.tables) {
      let i = (h1 >>> 0) & t.mask;
      for (;;) {
        const s = t.slots[i] as number;
        if (s === 0) break;
        if (s === fp) return true;
        i = (i + 1) & t.mask;
      }
    }
    let t = this.tables[this.tables.length - 1] as { slots: Uint16Array; mask: number; count: number };
    if (t.count + 1 > t.slots.length * 0.7) {
      this.grow(t.slots.length * 2 * 0.7);
      t = this.tables[this.tables.length - 1] as typeof t;
    }
    let i = (h1 >>> 0) & t.mask;
    while (t.slots[i] !== 0) i = (i + 1) & t.mask;
    t.slots[i] = fp;
    t.count++;
    return false;
  }
}
