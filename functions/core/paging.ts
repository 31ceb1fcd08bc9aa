/**
 * Lists read a page at a time. A page knows where it sits in the whole list and how long the whole
 * list is, so whoever shows it can say "201-400 of 8,362" instead of cutting the list silently
 * (shared/DOMAIN.md: counts a person reads are of everything).
 */

/** Which page to read: `size` items after the cursor `after` (the first page without one). */
export interface PageRequest {
  readonly size: number;
  /** An opaque cursor from a page's `next` or `prev` (never made by hand). */
  readonly after?: string | undefined;
}

export interface Page<T> {
  readonly items: T[];
  /** Position of the first item in the whole list, from 1. */
  readonly from: number;
  /** How many items the whole list holds, counted now. */
  readonly total: number;
  /** The cursor of the next page, when there is one. */
  readonly next?: string | undefined;
  /** The previous page, when there is one: `after` is undefined for the first page. */
  readonly prev?: { readonly after?: string | undefined } | undefined;
}

/** A cursor that is not one this product made (a hand-edited or truncated link). */
export class BadCursorError extends Error {
  override readonly name = 'BadCursorError';
  constructor(cursor: string) {
    super(
      `"${cursor.length > 40 ? `${cursor.slice(0, 40)}...` : cursor}" is not a page link this product made; start again from the first page`,
    );
  }
}

/** What a cursor holds: the sort key of the last item before the page, and the page's first position. */
export interface CursorState {
  readonly key: string;
  readonly position: number;
}

const MAX_KEY = 2048;

export function encodeCursor(c: CursorState): string {
  return Buffer.from(JSON.stringify({ k: c.key, n: c.position }), 'utf8').toString('base64url');
}

/** The state of a cursor made by `encodeCursor`; `BadCursorError` for anything else. */
export function decodeCursor(cursor: string): CursorState {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadCursorError(cursor);
  }
  const { k, n } = (v ?? {}) as { k?: unknown; n?: unknown };
  if (typeof k !== 'string' || k === '' || k.length > MAX_KEY) throw new BadCursorError(cursor);
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new BadCursorError(cursor);
  return { key: k, position: n };
}

/** 8362 -> "8,362" (display). */
export const grouped = (n: number) => n.toLocaleString('en-US');

/** "1-200 of 8,362", "1 of 1", "none of 0": where a page sits in its list. */
export function rangeText(p: Pick<Page<unknown>, 'from' | 'total'> & { readonly shown: number }): string {
  if (p.shown === 0) return `none of ${grouped(p.total)}`;
  const to = p.from + p.shown - 1;
  return `${p.shown === 1 ? grouped(p.from) : `${grouped(p.from)}-${grouped(to)}`} of ${grouped(p.total)}`;
}

/** A page of a list held in memory (computed lists, such as the receivables table): `page` from 1. */
export function slicePage<T>(all: readonly T[], page: number, size: number): Page<T> {
  const last = Math.max(1, Math.ceil(all.length / size));
  const p = Math.min(Math.max(1, page), last);
  const from = (p - 1) * size + 1;
  return {
    items: all.slice(from - 1, from - 1 + size),
    from,
    total: all.length,
    next: p < last ? String(p + 1) : undefined,
    prev: p > 1 ? { after: p > 2 ? String(p - 1) : undefined } : undefined,
  };
}
