import { type Page, rangeText } from '../../../functions/core/paging.ts';
import { type Html, html } from './layout.ts';
import { HttpProblem } from './shared.ts';

/**
 * The console's lists a page at a time: each says which part of how many it shows ("showing
 * 201-400 of 8,362") and links to the previous and next pages with the filters kept. A list the
 * store keeps in order is paged by the store (`?after=` carries its cursor); a list the console
 * computes in memory, such as the receivables table, by page number (`?page=`).
 */

/** The store cursor of the page asked for (`?after=`), or undefined for the first page. */
export function afterParam(params: URLSearchParams): string | undefined {
  const v = params.get('after');
  return v === null || v === '' ? undefined : v;
}

/** `?page=N` of a list computed in memory (1 when absent). */
export function pageParam(params: URLSearchParams): number {
  const raw = params.get('page');
  if (raw === null || raw.trim() === '') return 1;
  if (!/^\d{1,9}$/.test(raw.trim()) || Number(raw) < 1)
    throw new HttpProblem(400, `page "${raw}" must be a whole number of at least 1.`);
  return Number(raw);
}

/** One of `allowed` from `?<name>=` (undefined when absent or empty). */
export function choiceParam<T extends string>(
  params: URLSearchParams,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new HttpProblem(400, `${name} "${v}" must be one of ${allowed.join(', ')}.`);
  return v as T;
}

/** A path with its query: the parameters that are set, in the order given. */
export function hrefWith(path: string, params: Readonly<Record<string, string | undefined>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s === '' ? path : `${path}?${s}`;
}

/** "Alerts: showing 1-200 of 8,362, most severe first." (`of`: "... of 12 critical alerts, ..."). */
export function shownHtml(p: Page<unknown>, what: string, order: string, of?: string): Html {
  return html`<p class="shown">${what}: showing ${rangeText({ ...p, shown: p.items.length })}${of ? ` ${of}` : ''}, ${order}.</p>`;
}

/**
 * Links to the previous and next pages (nothing when the list fits on one). `href` makes a page's
 * link from its cursor (undefined: the first page).
 */
export function pagerHtml(p: Page<unknown>, href: (after: string | undefined) => string): Html | '' {
  if (!p.prev && !p.next) return '';
  const prev = p.prev ? html`<a rel="prev" href="${href(p.prev.after)}">← Previous</a>` : '';
  const next = p.next ? html`<a rel="next" href="${href(p.next)}">Next →</a>` : '';
  return html`<nav class="pager" aria-label="pages">${prev}${prev && next ? ' · ' : ''}${next} <span class="muted">(${rangeText({ ...p, shown: p.items.length })})</span></nav>`;
}

/** The page's position for the JSON answers: where it starts and ends, the total, and the links. */
export function pagingJson(p: Page<unknown>, href: (after: string | undefined) => string) {
  return {
    from: p.from,
    to: p.from + p.items.length - 1,
    total: p.total,
    ...(p.next ? { next: href(p.next) } : {}),
    ...(p.prev ? { prev: href(p.prev.after) } : {}),
  };
}
