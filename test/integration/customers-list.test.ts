import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CustomersReadModel,
  READ_MODEL_MAX_AGE_MS,
  ReceivablesQueries,
} from '../../functions/receivables/queries.ts';
import { customersPage } from '../../infra/local/console/customers.ts';
import { startConsole } from '../../infra/local/console/index.ts';
import type { RunningConsole } from '../../infra/local/console/options.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type BookCustomer, HOSTILE_NAMES, writeConsoleBook } from '../bench/console-book.ts';
import { decode, rows, text } from './pages.ts';
import { launchChromium, until } from './transfers-console.ts';

/**
 * The customers list over a generated book of 300 customers (EUR, USD, GBP and JPY; a limit of 0
 * on some, none on others; no invoices on every 11th; no assessment on every 10th; names a
 * spreadsheet would run as formulas on every 37th). Every filter and sort is checked against a
 * computation of its own over the same generated data, not through the list's code.
 */

const ASOF = '2026-11-30';
const N = 300;
let env: LocalEnv;
let con: RunningConsole;
let dir: string;
let book: BookCustomer[];
let queries: ReceivablesQueries;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lists15-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  book = await writeConsoleBook(env.store, { customers: N, asOf: ASOF, invoicesPer: 4 });
  queries = new ReceivablesQueries(env.store);
  con = await startConsole({ queries, today: () => ASOF, port: 0 });
}, 120_000);

afterAll(async () => {
  await con?.close();
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

const get = async (path: string) => {
  const res = await fetch(`${con.url}${path}`);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
};
interface ApiLine {
  customerId: string;
  currency: string;
  openAmount: string;
  overdueAmount: string;
  creditLimit?: string;
  exposure: string;
  limitUse?: number | null;
  score?: number;
  rating?: string;
  riskClass?: string;
}
interface Api {
  customers: ApiLine[];
  paging: {
    page: number;
    pages: number;
    total: number;
    from: number;
    to: number;
    next?: string;
    prev?: string;
  };
  book: {
    reportingCurrency: string;
    currencies: {
      currency: string;
      rate?: { pair: string; rate: string; date: string };
      converted?: { openAmount: string };
    }[];
    total: { openAmount: string; currency: string };
    unconverted: string[];
  };
}
const api = async (query: string) => {
  const r = await get(`/api/customers?asOf=${ASOF}${query ? `&${query}` : ''}`);
  expect(r.status).toBe(200);
  return JSON.parse(r.body) as Api;
};
const ids = (a: Api) => a.customers.map((c) => c.customerId);

// ---- the independent computation: plain filters and comparisons over the generated book ----

const digits = (ccy: string) => (ccy === 'JPY' ? 0 : 2);
const major = (minor: number, ccy: string) => minor / 10 ** digits(ccy);
const exposureOf = (b: BookCustomer) => Math.max(0, b.summary.openAmount - b.summary.unappliedCash);
const limitUseOf = (b: BookCustomer) => {
  const l = b.customer.creditLimit;
  if (l === undefined) return undefined;
  return l > 0 ? (exposureOf(b) / l) * 100 : exposureOf(b) > 0 ? null : 0;
};
const byId = (a: BookCustomer, b: BookCustomer) => a.customer.customerId.localeCompare(b.customer.customerId);
const largestOverdueFirst = (a: BookCustomer, b: BookCustomer) =>
  major(b.summary.overdueAmount, b.summary.currency) - major(a.summary.overdueAmount, a.summary.currency) ||
  major(b.summary.openAmount, b.summary.currency) - major(a.summary.openAmount, a.summary.currency) ||
  byId(a, b);
/** Sorted by a value, missing values last, ties by id. */
function sortedBy<T extends string | number>(
  list: BookCustomer[],
  value: (b: BookCustomer) => T | undefined,
  dir: 'asc' | 'desc',
): string[] {
  const s = dir === 'asc' ? 1 : -1;
  return [...list]
    .sort((a, b) => {
      const x = value(a);
      const y = value(b);
      if (x === undefined || y === undefined) return x === y ? byId(a, b) : x === undefined ? 1 : -1;
      return x < y ? -s : x > y ? s : byId(a, b);
    })
    .map((b) => b.customer.customerId);
}
const expectIds = (list: BookCustomer[]) =>
  [...list].sort(largestOverdueFirst).map((b) => b.customer.customerId);

describe('the customers list, filters and sorts against an independent computation', () => {
  it('without a filter: every customer, largest overdue first', async () => {
    const all = await api('');
    expect(all.customers).toHaveLength(N);
    expect(ids(all)).toEqual(expectIds(book));
    expect(all.paging).toMatchObject({ page: 1, pages: 1, total: N, from: 1, to: N });
  });

  it('each filter selects exactly the customers it names', async () => {
    const cases: [string, (b: BookCustomer) => boolean][] = [
      ['q=company%2012', (b) => b.customer.name.toLowerCase().includes('company 12')],
      ['q=cl00002', (b) => b.customer.customerId.toLowerCase().includes('cl00002')],
      ['rating=B', (b) => b.assessment?.rating === 'B'],
      ['risk=high', (b) => b.assessment?.riskClass === 'high'],
      ['currency=USD', (b) => b.customer.currency === 'USD'],
      ['overdue=1', (b) => b.summary.overdueAmount > 0],
      ['overlimit=1', (b) => b.customer.creditLimit !== undefined && exposureOf(b) > b.customer.creditLimit],
      ['nonzero=1', (b) => b.summary.openAmount !== 0 || b.summary.unappliedCash !== 0],
      [
        'currency=EUR&overdue=1&risk=medium',
        (b) =>
          b.customer.currency === 'EUR' &&
          b.summary.overdueAmount > 0 &&
          b.assessment?.riskClass === 'medium',
      ],
    ];
    for (const [query, keep] of cases) {
      const expected = expectIds(book.filter(keep));
      expect(expected.length, query).toBeGreaterThan(0);
      expect(expected.length, query).toBeLessThan(N);
      expect(ids(await api(query)), query).toEqual(expected);
    }
  });

  it('each sort orders by its column, ascending and descending, missing values last', async () => {
    const cases: [string, (b: BookCustomer) => string | number | undefined][] = [
      ['id', (b) => b.customer.customerId],
      ['name', (b) => b.customer.name.toLowerCase()],
      ['open', (b) => major(b.summary.openAmount, b.summary.currency)],
      ['d31_60', (b) => major(b.summary.aging.d31_60, b.summary.currency)],
      ['maxDaysPastDue', (b) => b.summary.maxDaysPastDue],
      [
        'limit',
        (b) =>
          b.customer.creditLimit === undefined
            ? undefined
            : major(b.customer.creditLimit, b.summary.currency),
      ],
      [
        'limitUse',
        (b) => {
          const u = limitUseOf(b);
          return u === null ? Number.POSITIVE_INFINITY : u;
        },
      ],
      ['score', (b) => b.assessment?.score],
      ['rating', (b) => b.assessment?.rating],
    ];
    for (const [key, value] of cases)
      for (const dir of ['asc', 'desc'] as const)
        expect(ids(await api(`sort=${key}&dir=${dir}`)), `${key} ${dir}`).toEqual(sortedBy(book, value, dir));
  });

  it('the limit-use column is exposure over the limit; the JSON keeps amounts as decimal strings with their currency', async () => {
    const all = await api('sort=id');
    for (const b of book) {
      const line = all.customers.find((c) => c.customerId === b.customer.customerId) as ApiLine;
      const u = limitUseOf(b);
      expect(line.limitUse).toBe(u === undefined || u === null ? u : Math.round(u * 10) / 10);
      expect(line.currency).toBe(b.customer.currency);
      expect(line.openAmount).toMatch(b.customer.currency === 'JPY' ? /^\d+$/ : /^\d+\.\d{2}$/);
      expect(line.score).toBe(b.assessment?.score);
      expect(line.rating).toBe(b.assessment?.rating);
    }
  });

  it('book totals in one currency: the rate on file dated on or before the date, the inverse when only that is stored, JPY apart', async () => {
    const a = await api('report=EUR');
    expect(a.book.reportingCurrency).toBe('EUR');
    const usd = a.book.currencies.find((c) => c.currency === 'USD');
    expect(usd?.rate).toEqual({ pair: 'USD/EUR', rate: '0.9200', date: '2026-11-27' }); // not the later 5.0000
    const gbp = a.book.currencies.find((c) => c.currency === 'GBP');
    expect(gbp?.rate).toEqual({ pair: 'EUR/GBP', rate: '0.8500', date: '2026-11-20' });
    expect(a.book.unconverted).toEqual(['JPY']);
    const sum = (ccy: string) =>
      book.filter((b) => b.customer.currency === ccy).reduce((n, b) => n + b.summary.openAmount, 0);
    const usdEur = Math.round((sum('USD') * 92) / 100);
    const gbpEur = Math.round(sum('GBP') / 0.85);
    expect(usd?.converted?.openAmount).toBe((usdEur / 100).toFixed(2));
    expect(Number(gbp?.converted?.openAmount)).toBeCloseTo(gbpEur / 100, 2);
    expect(Number(a.book.total.openAmount)).toBeCloseTo((sum('EUR') + usdEur + gbpEur) / 100, 2);
    const page = await get(`/customers?asOf=${ASOF}&report=EUR`);
    expect(text(page.body)).toContain(
      'No JPY/EUR rate (either way) on file dated 2026-11-30 or before: JPY is listed above',
    );
    expect(text(page.body)).toContain('USD/EUR 0.9200 of 2026-11-27');
  });
});

describe('the URL carries the list', () => {
  const hrefs = (body: string) => [...body.matchAll(/href="([^"]+)"/g)].map((m) => decode(m[1] as string));

  it('the form shows the query it came from, and every sort, page and CSV link keeps it', async () => {
    const q = `asOf=${ASOF}&q=company&rating=C&currency=EUR&overdue=1&nonzero=1&sort=score&dir=desc&size=50&report=USD`;
    const r = await get(`/customers?${q}`);
    expect(r.status).toBe(200);
    const b = r.body;
    expect(b).toContain('<input type="search" id="q" name="q" value="company"');
    expect(b).toContain('<option value="C" selected>C</option>');
    expect(b).toContain('<option value="EUR" selected>EUR</option>');
    expect(b).toMatch(/name="overdue" value="1" checked/);
    expect(b).toMatch(/name="nonzero" value="1" checked/);
    expect(b).not.toMatch(/name="overlimit" value="1" checked/);
    expect(b).toContain('<option value="score" selected>Score</option>');
    expect(b).toContain('<option value="desc" selected>descending</option>');
    expect(b).toContain('<option value="50" selected>50</option>');
    expect(b).toContain('<h2>Book totals in USD</h2>');
    const csv = hrefs(b).find((h) => h.startsWith('/customers.csv')) as string;
    expect(new URLSearchParams(csv.split('?')[1])).toEqual(new URLSearchParams(q));
    const sortLink = hrefs(b).find((h) => h.includes('sort=name')) as string;
    const p = new URLSearchParams(sortLink.split('?')[1]);
    for (const k of ['q', 'rating', 'currency', 'overdue', 'nonzero', 'size', 'report', 'asOf'])
      expect(p.get(k), k).toBe(new URLSearchParams(q).get(k));
    // The API at the same parameters gives the same rows as the page.
    const a = (await get(`/api/customers?${q}`)).body;
    const pageIds = rows(b)
      .map((row) => row[0] as string)
      .filter((c) => /^CL\d{6}$/.test(c));
    expect(ids(JSON.parse(a) as Api)).toEqual(pageIds);
  });

  it('a filter value the list does not know is a 400 naming it', async () => {
    for (const [q, says] of [
      ['rating=Z', 'rating "Z" must be one of A, B, C, D, E'],
      ['sort=colour', 'sort "colour"'],
      ['size=7', 'size "7" must be one of 50, 100, 200'],
      ['currency=euro', 'currency "euro" is not a currency code'],
    ] as const) {
      const r = await get(`/customers?${q}`);
      expect(r.status, q).toBe(400);
      expect(text(r.body)).toContain(says);
    }
  });
});

describe('pages cover the list once each', () => {
  it('following Next through pages of 50 gives every matching customer exactly once, in order', async () => {
    const expected = expectIds(book.filter((b) => b.summary.openAmount !== 0));
    let path: string | undefined = `/customers?asOf=${ASOF}&nonzero=1&size=50`;
    const seen: string[] = [];
    let pages = 0;
    while (path && pages < 50) {
      const r = await get(path);
      pages++;
      seen.push(
        ...rows(r.body)
          .map((row) => row[0] as string)
          .filter((c) => /^CL\d{6}$/.test(c)),
      );
      const next = /<a rel="next" href="([^"]+)"/.exec(r.body)?.[1];
      path = next ? decode(next) : undefined;
    }
    expect(pages).toBe(Math.ceil(expected.length / 50));
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
    // The API's pages too, by its own links.
    const viaApi: string[] = [];
    let next: string | undefined = `/api/customers?asOf=${ASOF}&nonzero=1&size=100`;
    while (next) {
      const a = JSON.parse((await get(next)).body) as Api;
      viaApi.push(...ids(a));
      next = a.paging.next;
    }
    expect(viaApi).toEqual(expected);
  });
});

describe('CSV export', () => {
  it('is every matching customer in the page order, formula-safe, with plain decimals and a currency column', async () => {
    const r = await get(`/customers.csv?asOf=${ASOF}&sort=id&currency=EUR`);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/csv/);
    const lines = r.body.trimEnd().split('\r\n');
    const header = (lines[0] as string).split(',');
    expect(header.slice(0, 5)).toEqual(['customer_id', 'name', 'currency', 'open', 'overdue']);
    const eur = book.filter((b) => b.customer.currency === 'EUR');
    expect(lines.length - 1).toBe(eur.length); // every page, not the first 200
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(eur.map((b) => b.customer.customerId).sort());
    const cells = (l: string) => l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)?.map((c) => c.replace(/,$/, '')) ?? [];
    for (const l of lines.slice(1)) {
      const c = cells(l);
      expect(c[2]).toBe('EUR');
      expect(c[3]).toMatch(/^\d+\.\d{2}$/);
      expect(c[1]).not.toMatch(/^"?[=+\-@\t\r]/);
    }
    // Every hostile name is there, neutralised by a leading apostrophe (and quoted where it has a comma or a quote).
    const hostile = book.filter(
      (b) => HOSTILE_NAMES.includes(b.customer.name) && b.customer.currency === 'EUR',
    );
    expect(hostile.length).toBeGreaterThan(0);
    for (const b of hostile) {
      const line = lines.find((l) => l.startsWith(`${b.customer.customerId},`)) as string;
      const name = b.customer.name;
      const safe = `'${name}`;
      expect(line).toContain(/[",]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe);
    }
  });
});

describe('the read model', () => {
  it('is read from the store once, and again only after an evaluation stores an assessment or an ingest starts', async () => {
    await api('');
    const before = (queries as unknown as { readModel: { builds: number } }).readModel.builds;
    await api('rating=A');
    await get(`/customers?asOf=${ASOF}&sort=name`);
    expect((queries as unknown as { readModel: { builds: number } }).readModel.builds).toBe(before);
    const mark = await env.store.changeMark();
    // An evaluation that stores only an alert moves nothing; one that stores an assessment does.
    await env.store.saveEvaluation([{ customerId: 'CL000001', alerts: [] }]);
    expect(await env.store.changeMark()).toBe(mark);
    const b = book[1] as BookCustomer;
    await env.store.saveEvaluation([
      {
        customerId: 'CL000001',
        assessment: {
          customerId: 'CL000001',
          asOf: ASOF,
          policyId: 'p',
          currency: b.customer.currency,
          score: 3,
          rating: 'E',
          riskClass: 'high',
          factors: [],
          limit: { basis: [], reason: 'x' },
        } as never,
        alerts: [],
      },
    ]);
    const moved = await env.store.changeMark();
    expect(moved).not.toBe(mark);
    const after = await api('q=CL000001');
    expect(after.customers[0]?.score).toBe(3);
    expect((queries as unknown as { readModel: { builds: number } }).readModel.builds).toBe(before + 1);
    // An ingest's start moves it too (the epoch), and its end (the open run goes away).
    await env.store.openRun({
      runId: 'r-test',
      objectRef: 'x',
      startedAt: new Date().toISOString(),
    } as never);
    const during = await env.store.changeMark();
    expect(during).not.toBe(moved);
    await env.store.closeRun({ runId: 'r-test', objectRef: 'x' } as never);
    expect(await env.store.changeMark()).not.toBe(during);
  });

  it('a model older than READ_MODEL_MAX_AGE_MS (30 minutes) is read again behind the old one, which answers meanwhile', async () => {
    let now = 1_000_000;
    const model = new CustomersReadModel(
      env.store,
      (id, asOf) => queries.customer(id, asOf),
      () => now,
    );
    const first = await model.rowsAsOf(ASOF, 0);
    expect(model.builds).toBe(1);
    now += READ_MODEL_MAX_AGE_MS - 1;
    expect(await model.rowsAsOf(ASOF, 0)).toBe(first);
    now += 1;
    // Old: the same rows answer at once, and a fresh read starts behind them.
    expect(await model.rowsAsOf(ASOF, 0)).toBe(first);
    expect(model.builds).toBe(2);
    const fresh = await until('the fresh model', async () => {
      const r = await model.rowsAsOf(ASOF, 0);
      return r !== first ? r : undefined;
    });
    expect(model.builds).toBe(2);
    expect(fresh.rows).toHaveLength(N);
  });

  it('after a slow read, a change is read behind the list, which answers at once and says so', async () => {
    // Every read counts as slow here (slowReadMs 0): the 100,000-customer case, whose read takes a minute.
    const slow = new ReceivablesQueries(env.store, { slowReadMs: 0 });
    const model = (slow as unknown as { readModel: CustomersReadModel }).readModel;
    const id = 'CL000002';
    const first = await slow.customers(ASOF, { q: id });
    expect(first.basis.refreshing).toBeUndefined();
    const before = first.rows[0]?.score;
    const b = book[2] as BookCustomer;
    await env.store.saveEvaluation([
      {
        customerId: id,
        assessment: {
          customerId: id,
          asOf: ASOF,
          policyId: 'p',
          currency: b.customer.currency,
          score: 7,
          rating: 'E',
          riskClass: 'high',
          factors: [],
          limit: { basis: [], reason: 'x' },
        } as never,
        alerts: [],
      },
    ]);
    // Answered from the model there is, without waiting, and saying the store is being read again.
    const during = await slow.customers(ASOF, { q: id });
    expect(during.rows[0]?.score).toBe(before);
    expect(during.basis.refreshing?.since).toMatch(/^\d{4}-\d\d-\d\dT/);
    const page = text(customersPage(during, { q: id }, false).toString());
    expect(page).toMatch(
      /The store changed at .* UTC \(an upload or an evaluation\) and is being read again/,
    );
    await model.settled();
    const after = await slow.customers(ASOF, { q: id });
    expect(after.rows[0]?.score).toBe(7);
    expect(after.basis.refreshing).toBeUndefined();
    expect(text(customersPage(after, { q: id }, false).toString())).not.toMatch(/being read again/);
  });

  it("a date other than the summaries' is recomputed live from the invoices, and the page says so", async () => {
    const earlier = '2026-10-15';
    const r = await get(`/customers?asOf=${earlier}&size=50`);
    expect(r.status).toBe(200);
    expect(text(r.body)).toMatch(
      /[\d,]+ customers' stored summaries are dated 2026-11-30, not 2026-10-15: their figures were recomputed live/,
    );
    const a = (await get(`/api/customers?asOf=${earlier}&q=CL000003`)).body;
    const one = (JSON.parse(a) as Api).customers[0] as ApiLine;
    const file = await queries.customer('CL000003', earlier);
    expect(one.openAmount).toBe(file?.line.openAmount);
  });
});

describe('in Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('at 360x740 the page does not scroll sideways (the table scrolls in its own box); screenshots at 1280 and 360', async () => {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${con.url}/customers?asOf=${ASOF}&size=50&report=EUR`);
    await page.screenshot({ path: '/tmp/lists15-1280.png', fullPage: false });
    // The form works as a person uses it: choose a filter, press Show, the URL carries it.
    await page.selectOption('#currency', 'USD');
    await page.check('input[name="overdue"]');
    await Promise.all([page.waitForURL(/currency=USD/), page.click('button[type="submit"]')]);
    expect(new URL(page.url()).searchParams.get('overdue')).toBe('1');
    const shownIds = await page.$$eval('tbody tr td:first-child a', (as) => as.map((a) => a.textContent));
    expect(shownIds.length).toBeGreaterThan(0);
    const usdOverdue = book.filter((b) => b.customer.currency === 'USD' && b.summary.overdueAmount > 0);
    expect(shownIds).toEqual(expectIds(usdOverdue).slice(0, 50));

    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${con.url}/customers?asOf=${ASOF}&size=50&report=EUR`);
    // A string: this project's TypeScript has no DOM types; it runs in the page.
    const widths = (await page.evaluate(`(() => {
      const wrap = document.querySelector('.wrap');
      return { scroll: document.documentElement.scrollWidth, inner: window.innerWidth, table: wrap.scrollWidth, box: wrap.clientWidth };
    })()`)) as { scroll: number; inner: number; table: number; box: number };
    await page.screenshot({ path: '/tmp/lists15-360.png', fullPage: false });
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
    expect(widths.table).toBeGreaterThan(widths.box); // the wide table scrolls inside its box
  }, 60_000);
});
