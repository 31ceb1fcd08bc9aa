import { grouped, type Page, rangeText } from '../../../functions/core/paging.ts';
import { csvCell } from '../../../functions/receivables/list.ts';
import { type Html, html } from './layout.ts';
import { HttpProblem, type Reply } from './shared.ts';

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

// ---------------------------------------------------------------------------------------------
// Search, filters, sort and CSV: the pieces every list's form and table share (the customers list
// first; alerts, transfers, ingest runs and reviews read their URLs the same way).

/**
 * A list read whole into memory (to search or to sort by a column the store does not keep in
 * order) holds at most this many items: past it the page asks for a narrower filter first, which
 * the store applies, rather than read tens of thousands of items for every page. Measured on
 * dynalite (two loaded cores): sorting 5,000 alerts' slim references and reading the page's 200 in
 * full takes about 0.5 s, 20,000 about 1.3 s (a search, which reads their customers' names too, 1.9 s).
 */
export const IN_MEMORY_MAX = 5_000;

/** The search text `?<name>=` (trimmed; undefined when empty), at most 100 characters. */
export function searchParam(params: URLSearchParams, name = 'q'): string | undefined {
  const q = params.get(name)?.trim() ?? '';
  if (q.length > 100) throw new HttpProblem(400, `${name} (the search) is longer than 100 characters.`);
  return q === '' ? undefined : q;
}

/** A yes/no filter `?<name>=1`: true when set to anything but "" or "0". */
export function flagParam(params: URLSearchParams, name: string): boolean {
  const v = params.get(name);
  return v !== null && v !== '' && v !== '0';
}

/** A date `?<name>=YYYY-MM-DD` (undefined when absent or empty). */
export function dateParam(params: URLSearchParams, name: string): string | undefined {
  const v = params.get(name)?.trim() ?? '';
  if (v === '') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)))
    throw new HttpProblem(400, `${name} "${v}" is not a date (YYYY-MM-DD).`);
  return v;
}

/** A currency code `?<name>=EUR` (upper-cased; undefined when empty). */
export function currencyParam(params: URLSearchParams, name = 'currency'): string | undefined {
  const v = params.get(name)?.trim().toUpperCase() ?? '';
  if (v === '') return undefined;
  if (!/^[A-Z]{3}$/.test(v))
    throw new HttpProblem(
      400,
      `${name} "${params.get(name)}" is not a currency code (three letters, e.g. EUR).`,
    );
  return v;
}

/** Whether `text` holds `needle` in any case (the lists' searches). */
export const holds = (text: string | undefined, needle: string) =>
  text?.toLowerCase().includes(needle.toLowerCase()) === true;

/** A sort asked for in the URL: the column and its direction. */
export interface SortAsked<K extends string> {
  readonly sort: K | undefined;
  readonly dir: 'asc' | 'desc' | undefined;
}

export function sortParams<K extends string>(params: URLSearchParams, keys: readonly K[]): SortAsked<K> {
  return {
    sort: choiceParam(params, 'sort', keys),
    dir: choiceParam(params, 'dir', ['asc', 'desc'] as const),
  };
}

/**
 * A column's head that sorts by it: a link to the list sorted by the column (the other way round
 * when it already is), the page dropped. Numbers and dates sort largest or newest first on the
 * first click, words A to Z.
 */
export function sortHead<K extends string>(
  key: K,
  label: string,
  asked: SortAsked<K>,
  href: (o: Record<string, string | undefined>) => string,
  opts: { readonly cls?: string; readonly descFirst?: boolean } = {},
): Html {
  const active = asked.sort === key;
  const dir = active ? (asked.dir === 'desc' ? 'asc' : 'desc') : opts.descFirst ? 'desc' : 'asc';
  const mark = active ? (asked.dir === 'desc' ? ' ↓' : ' ↑') : '';
  return html`<th class="${opts.cls ?? ''}"${active ? html` aria-sort="${asked.dir === 'desc' ? 'descending' : 'ascending'}"` : ''}><a href="${href({ sort: key, dir, page: undefined, after: undefined })}">${label}</a>${mark}</th>`;
}

/** An `<option>` of a filter's select. */
export const option = (value: string, label: string, selected: boolean) =>
  html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;

/** A filter's `<select>` with its label: "any" first, then the choices. */
export function selectHtml(
  name: string,
  label: string,
  choices: readonly (string | readonly [string, string])[],
  value: string | undefined,
  id = name,
): Html {
  const pairs = choices.map((c) => (typeof c === 'string' ? ([c, c] as const) : c));
  return html`<label for="${id}">${label}</label> <select id="${id}" name="${name}">${option('', 'any', !value)}${pairs.map(([v, l]) => option(v, l, value === v))}</select>`;
}

/** The sort's two selects (column and direction), for a list's filter form. */
export function sortSelects<K extends string>(
  labels: Readonly<Record<K, string>>,
  asked: SortAsked<K>,
  defaultLabel: string,
  id = 'sort',
): Html {
  const keys = Object.keys(labels) as K[];
  return html`<label for="${id}">Sort by</label> <select id="${id}" name="sort">${option('', defaultLabel, !asked.sort)}${keys.map((k) => option(k, labels[k], asked.sort === k))}</select>
<select name="dir" aria-label="direction">${option('asc', 'ascending', asked.dir !== 'desc')}${option('desc', 'descending', asked.dir === 'desc')}</select>`;
}

/** The paging of a list: a store cursor (`?after=`) or, for a list sorted in memory, a page number. */
export const pageLink =
  (href: (o: Record<string, string | undefined>) => string, inMemory: boolean) =>
  (token: string | undefined) =>
    inMemory ? href({ page: token, after: undefined }) : href({ after: token, page: undefined });

/** "These 24,000 alerts are more than ... : narrow them" (a list too long to search or sort in memory). */
export function tooManyHtml(count: number, what: string, narrow: string): Html {
  return html`<p class="note" id="too-many">${grouped(count)} ${what} match these filters: more than the ${grouped(IN_MEMORY_MAX)} this page searches or sorts at once. Narrow them by ${narrow} first (the store applies those), or clear the search and the sort to page through them in the list's own order.</p>`;
}

/** A CSV download: a header and rows, every cell formula-safe (`csvCell`), CRLF lines. */
export function csvReply(
  filename: string,
  header: readonly string[],
  rows: readonly (readonly (string | number | null | undefined)[])[],
): Reply {
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) lines.push(r.map(csvCell).join(','));
  return {
    status: 200,
    type: 'text',
    body: `${lines.join('\r\n')}\r\n`,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
    },
  };
}
