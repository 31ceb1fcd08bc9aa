import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { canonicalJson } from '../core/canonical.ts';

/**
 * Settled history packed (README "Settled history, packed"): a customer's old, settled invoices and
 * payments are moved out of their one-item-per-row form into a few compressed items of the same
 * partition, so the daily evaluation reads a year of settled history as a few kilobytes instead of
 * a kilobyte a row. A pack holds the rows' items exactly as they were stored (every attribute but
 * the partition key), so the loader turns them back into the very same items: every figure, alert
 * and statement is the same for any as-of date, by construction.
 *
 *   pk                 sk                                item
 *   CUST#<customer>    PACK#<version>#<token>#<n>        up to a few thousand rows, gzip of their JSON
 *   CUST#<customer>    PACKS                             which packs count, in order: { version, packs }
 *   CUST#<customer>    ALLOC$PACK#<version>#<token>#<n>  the packed payments' allocations, the same way
 *   CUST#<customer>    ALLOC$PACKS                       which of those count
 *
 * Two families, each with its own packs and manifest. `PACK#` and `PACKS` sort between `INV#` and
 * `PAY#`, inside the invoice-and-payment key range; `ALLOC$...` right after the `ALLOC#` items, so a
 * reader that skips the allocations (the daily evaluation) skips their packs with one key range.
 * A row stored in full wins over a packed copy (the full item is always the later write: packing
 * deletes a full item only while it is the very write that was packed, by its stamp); a later pack
 * wins over an earlier.
 */
export interface PackFamily {
  /** Sort-key prefixes of the items the family packs. */
  readonly members: readonly string[];
  /** Sort-key prefix of its packs, and its manifest's sort key. */
  readonly packPrefix: string;
  readonly manifestSk: string;
  /**
   * The attributes that tell one write of an item from another (run and line of an invoice or
   * payment; the content hash of an allocation): a full item is deleted only on condition it still
   * carries them. An item without them is never packed.
   */
  readonly stampOf: (item: Record<string, unknown>) => Record<string, string | number> | undefined;
}

export const ROWS: PackFamily = {
  members: ['INV#', 'PAY#'],
  packPrefix: 'PACK#',
  manifestSk: 'PACKS',
  stampOf: (it) =>
    typeof it.run === 'string' && typeof it.line === 'number' ? { run: it.run, line: it.line } : undefined,
};

/** Attribute of an allocation item: a hash of its content, written with it (see `allocationStamp`). */
export const ALLOCATION_STAMP = 'h';

export const ALLOCATIONS: PackFamily = {
  members: ['ALLOC#'],
  packPrefix: 'ALLOC$PACK#',
  manifestSk: 'ALLOC$PACKS',
  stampOf: (it) => {
    const h = it[ALLOCATION_STAMP];
    return typeof h === 'string' ? { [ALLOCATION_STAMP]: h } : undefined;
  },
};

/** The same write of an item: a full item and a packed copy with the same stamp. */
export function sameStamp(
  family: PackFamily,
  full: Record<string, unknown>,
  copy: Record<string, unknown>,
): boolean {
  const a = family.stampOf(full);
  const b = family.stampOf(copy);
  return a !== undefined && b !== undefined && Object.keys(a).every((k) => a[k] === b[k]);
}

/** An allocation's stamp: its content's hash, so the same allocation written twice has one stamp. */
export function allocationStamp(content: unknown): string {
  return createHash('sha256').update(canonicalJson(content)).digest('base64url').slice(0, 22);
}
/** A pack's compressed size at most: well inside DynamoDB's 400 KB item, its keys and counts beside it. */
export const PACK_MAX_BYTES = 300_000;
/** Rows encoded together before a pack is split for size. */
const PACK_ROWS = 5_000;

/** A stored item as read (unmarshalled), without its partition key. */
export type PackedItem = Record<string, unknown> & { readonly sk: string };

interface PackDocument {
  readonly v: 1;
  readonly items: PackedItem[];
}

export function encodePack(items: readonly PackedItem[]): Uint8Array {
  const doc: PackDocument = { v: 1, items: [...items] };
  return gzipSync(Buffer.from(JSON.stringify(doc), 'utf8'), { level: 9 });
}

export class PackFormatError extends Error {
  constructor(sk: string, why: string) {
    super(`history pack ${sk} cannot be read: ${why}`);
    this.name = 'PackFormatError';
  }
}

export function decodePack(sk: string, data: Uint8Array): PackedItem[] {
  let doc: unknown;
  try {
    doc = JSON.parse(gunzipSync(data).toString('utf8'));
  } catch (e) {
    throw new PackFormatError(sk, (e as Error).message);
  }
  const d = doc as Partial<PackDocument> | null;
  if (d?.v !== 1 || !Array.isArray(d.items)) throw new PackFormatError(sk, 'not a version 1 pack');
  return d.items;
}

/**
 * Whether an item comes back from a pack unchanged. Stored invoices and payments are strings,
 * integers, booleans, lists and maps, which JSON keeps; anything else (a set, a number beyond
 * 2^53) stays stored in full rather than be changed.
 */
export function packable(item: PackedItem): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(JSON.stringify(item)), item);
  } catch {
    return false; // a BigInt, a cycle
  }
}

/**
 * The items in packs of at most `maxBytes` each (halved until they fit); an item that does not fit
 * alone is left out, to stay stored in full.
 */
export function packsOf(
  items: readonly PackedItem[],
  maxBytes = PACK_MAX_BYTES,
): { packs: { data: Uint8Array; items: PackedItem[] }[]; leftOut: PackedItem[] } {
  const packs: { data: Uint8Array; items: PackedItem[] }[] = [];
  const leftOut: PackedItem[] = [];
  const packSlice = (slice: PackedItem[]) => {
    const data = encodePack(slice);
    if (data.byteLength <= maxBytes) packs.push({ data, items: slice });
    else if (slice.length === 1) leftOut.push(...slice);
    else {
      const half = slice.length >> 1;
      packSlice(slice.slice(0, half));
      packSlice(slice.slice(half));
    }
  };
  for (let i = 0; i < items.length; i += PACK_ROWS) packSlice(items.slice(i, i + PACK_ROWS));
  return { packs, leftOut };
}

/** DynamoDB's order of sort keys: their UTF-8 bytes (JavaScript's `<` compares UTF-16 units). */
export function bySortKey(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** `PACK#<version>#...`: the pack's version (0 for a key of another form). */
export function packVersion(family: PackFamily, sk: string): number {
  const v = Number.parseInt(sk.slice(family.packPrefix.length).split('#')[0] ?? '', 10);
  return Number.isFinite(v) ? v : 0;
}

export const packKey = (family: PackFamily, version: number, token: string, n: number) =>
  `${family.packPrefix}${String(version).padStart(8, '0')}#${token}#${String(n).padStart(4, '0')}`;
