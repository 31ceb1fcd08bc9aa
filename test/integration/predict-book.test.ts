import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMinor } from '../../functions/core/money.ts';
import {
  BookPredictionsCache,
  cashForecast,
  forecastCsv,
  forecastRates,
  predictBook,
  predictCustomer,
  recordsAsOf,
} from '../../functions/predict/book.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { loadPolicy } from '../../infra/local/cli/credit.ts';
import { type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { sentinel } from './cli-run.ts';
import { ingestText } from './read-meter.ts';
import { launchChromium } from './transfers-console.ts';

/**
 * Predicted payment dates and the 13-week cash-in forecast (issue 19 items 1-3) over a small book
 * on dynalite, as of 2026-03-31 (week 1: 04-01..04-07, W2 04-08..04-14, W3 04-15..04-21, W4
 * 04-22..04-28, W5 04-29..05-05, W6 05-06..05-12). Days below are settled - due.
 *
 *   LATE  EUR  settled L1, L2, L3 each 10 days late (10, 10, 10); open L4 1,000.00 due 04-09 and
 *              L5 500.00 due 04-24. L4 is paid on 04-19, after the date: not known on 03-31.
 *   NEWC  EUR  settled N1 on its due date (0) and N2 20 days late (20); open N3 300.00 due 04-15.
 *   USDC  USD  no history; open U1 2,000.00 due 03-31 (due today).
 *   GBPC  GBP  no history; open G1 600.00 due 04-19. No GBP rate on file.
 *   Rates: EUR/USD 1.0800 of 03-30 (used inversely); EUR/USD 2.0000 of 04-02 (after the date: unused).
 *
 * The segment: every settled invoice, 0, 10, 10, 10, 20, counted as 2 more of a customer's.
 *   L4, L5: LATE's 10, 10, 10 (weight 1 each) and the segment's 5 at 0.4 each: 0 (0.4), 10 (4.2),
 *           20 (0.4) of 5. Median, P10 and P90 are all 10: L4 on 04-19 (W3), L5 on 05-04 (W5).
 *   N3:     NEWC's 0, 20 (1 each) and the segment's at 0.4: 0 (1.4), 10 (1.2), 20 (1.4) of 4.
 *           Median (2 of 4) 10: 04-25 (W4); P10 (0.4) 0: 04-15 (W3); P90 (3.6) 20: 05-05 (W5).
 *   U1:     no own history; the segment's settled more than 0 days past due: 10, 10, 10, 20.
 *           Median 10: 04-10 (W2); P10 10: 04-10 (W2); P90 20: 04-20 (W3).
 *   G1:     the segment's 0, 10, 10, 10, 20: median 10: 04-29 (W5); P10 0: 04-19 (W3); P90 20:
 *           05-09 (W6).
 * U1 in EUR: 2,000.00 / 1.08 = 1,851.85. In EUR (the currency most customers are in), without GBP:
 *   W2 expected 1,851.85, all at P10 1,851.85, all at P90 0          -> band 0 .. 1,851.85
 *   W3 expected 1,000.00, all at P10 1,300.00, all at P90 2,851.85   -> band 1,000.00 .. 2,851.85
 *   W4 expected   300.00, all at P10 0,        all at P90 0          -> band 0 .. 300.00
 *   W5 expected   500.00, all at P10 500.00,   all at P90 800.00     -> band 500.00 .. 800.00
 *   13 weeks: 3,651.85 expected; GBP 600.00 left out and named.
 * LATE's cash expected: within 7 days 0, within 30 days 1,000.00 (L4, day 19), within 90 1,500.00.
 */
const AS_OF = '2026-03-31';
const CUSTOMERS =
  'customer_id,name,country,industry,currency,payment_terms_days,credit_limit\n' +
  'LATE,Late Payer GmbH,DE,retail,EUR,30,50000.00\n' +
  'NEWC,Newco BV,NL,retail,EUR,30,50000.00\n' +
  'USDC,Usco Inc,US,retail,USD,30,50000.00\n' +
  'GBPC,Gbco Ltd,GB,retail,GBP,30,50000.00\n';
const INVOICES =
  'invoice_id,customer_id,issue_date,due_date,amount,currency\n' +
  'L1,LATE,2025-12-01,2025-12-31,1000.00,EUR\n' +
  'L2,LATE,2026-01-01,2026-01-31,1000.00,EUR\n' +
  'L3,LATE,2026-02-01,2026-03-03,1000.00,EUR\n' +
  'L4,LATE,2026-03-10,2026-04-09,1000.00,EUR\n' +
  'L5,LATE,2026-03-25,2026-04-24,500.00,EUR\n' +
  'N1,NEWC,2026-01-05,2026-02-04,300.00,EUR\n' +
  'N2,NEWC,2026-01-10,2026-02-09,300.00,EUR\n' +
  'N3,NEWC,2026-03-16,2026-04-15,300.00,EUR\n' +
  'U1,USDC,2026-03-01,2026-03-31,2000.00,USD\n' +
  'G1,GBPC,2026-03-20,2026-04-19,600.00,GBP\n';
const PAYMENTS =
  'payment_id,customer_id,received_date,amount,currency,invoice_id\n' +
  'PL1,LATE,2026-01-10,1000.00,EUR,L1\n' +
  'PL2,LATE,2026-02-10,1000.00,EUR,L2\n' +
  'PL3,LATE,2026-03-13,1000.00,EUR,L3\n' +
  'PL4,LATE,2026-04-19,1000.00,EUR,L4\n' +
  'PN1,NEWC,2026-02-04,300.00,EUR,N1\n' +
  'PN2,NEWC,2026-03-01,300.00,EUR,N2\n';
const RATES = 'date,base,quote,rate\n2026-03-30,EUR,USD,1.0800\n2026-04-02,EUR,USD,2.0000\n';

async function load(env: LocalEnv) {
  const now = new Date('2026-04-20T06:00:00Z');
  for (const [name, text] of [
    ['customers/c.csv', CUSTOMERS],
    ['invoices/i.csv', INVOICES],
    ['payments/p.csv', PAYMENTS],
    ['fx/rates.csv', RATES],
  ] as const) {
    const run = await ingestText(env, name, text, now);
    expect(run.status, name).toBe('processed');
  }
}

let dir: string;
let env: LocalEnv;
let web: RunningConsole;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'predict-book-'));
  env = await openLocal({ dataDir: join(dir, 'mem'), inMemory: true });
  await load(env);
  web = await startConsole({
    queries: new ReceivablesQueries(env.store),
    today: () => AS_OF,
    port: 0,
    credit: { store: env.store, policy: () => loadPolicy(env.store) },
  });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const eur = (n: number) => formatMinor(n, 'EUR');

describe('the predictions of the stored book', () => {
  it('a customer that always pays 10 days late: each open invoice expected 10 days after due; the 7/30/90-day sums', async () => {
    const book = await predictBook(env.store, AS_OF);
    const late = book.customers.find((c) => c.customerId === 'LATE');
    expect(late?.invoices.map((i) => [i.invoiceId, i.open, i.expected, i.p10, i.p90, i.basis])).toEqual([
      ['L4', 100_000, '2026-04-19', '2026-04-19', '2026-04-19', 'customer'],
      ['L5', 50_000, '2026-05-04', '2026-05-04', '2026-05-04', 'customer'],
    ]);
    expect(late?.invoices[0]?.reason).toBe(
      "median of 3 settled invoices, 3 of them late, with the segment's 5 counted as 2 more: paid 10 days after the due date (not yet due)",
    );
    expect(late?.expectedCash).toEqual([
      { currency: 'EUR', in7: 0, in30: 100_000, in90: 150_000, openTotal: 150_000 },
    ]);
    const byId = new Map(book.customers.flatMap((c) => c.invoices.map((i) => [i.invoiceId, i])));
    expect([byId.get('N3')?.expected, byId.get('N3')?.p10, byId.get('N3')?.p90]).toEqual([
      '2026-04-25',
      '2026-04-15',
      '2026-05-05',
    ]);
    expect([
      byId.get('U1')?.expected,
      byId.get('U1')?.p10,
      byId.get('U1')?.p90,
      byId.get('U1')?.basis,
    ]).toEqual(['2026-04-10', '2026-04-10', '2026-04-20', 'segment']);
    expect([byId.get('G1')?.expected, byId.get('G1')?.p10, byId.get('G1')?.p90]).toEqual([
      '2026-04-29',
      '2026-04-19',
      '2026-05-09',
    ]);
    expect(book.mainCurrency).toBe('EUR');
    // Without the segment: the customer's own history alone (still 10 days late).
    const { books } = await env.store.loadCustomerPartition('LATE');
    const alone = predictCustomer(recordsAsOf('LATE', books, AS_OF), AS_OF);
    expect(alone.segment).toBe(false);
    expect(alone.invoices.map((i) => i.expected)).toEqual(['2026-04-19', '2026-05-04']);
    // A book too large to read for one page: the customer's own history, until the book's are kept.
    const cache = new BookPredictionsCache(env.store, { segmentReadMax: 3 });
    expect((await cache.customer('LATE', AS_OF))?.segment).toBe(false);
    await cache.asOf(AS_OF);
    expect((await cache.customer('LATE', AS_OF))?.segment).toBe(true);
    // As of 04-20 L4 is paid (04-19): only L5 is open, and L4 is a fourth invoice 10 days late.
    const later = await predictBook(env.store, '2026-04-20');
    expect(later.customers.find((c) => c.customerId === 'LATE')?.invoices.map((i) => i.invoiceId)).toEqual([
      'L5',
    ]);
  });

  it('the 13-week forecast: week sums, the band, USD converted at the rate of the date, GBP left out and named', async () => {
    const book = await predictBook(env.store, AS_OF);
    const f = cashForecast(book, 'EUR', await forecastRates(env.store, book, 'EUR'));
    expect(f.weeks).toHaveLength(13);
    expect([f.weeks[0]?.from, f.weeks[0]?.to, f.weeks[12]?.to]).toEqual([
      '2026-04-01',
      '2026-04-07',
      '2026-06-30',
    ]);
    const c = f.weeks.map((w) => [
      w.converted.expected,
      w.converted.atP10,
      w.converted.atP90,
      w.converted.low,
      w.converted.high,
    ]);
    expect(c.slice(0, 6)).toEqual([
      [0, 0, 0, 0, 0],
      [185_185, 185_185, 0, 0, 185_185],
      [100_000, 130_000, 285_185, 100_000, 285_185],
      [30_000, 0, 0, 0, 30_000],
      [50_000, 50_000, 80_000, 50_000, 80_000],
      [0, 0, 0, 0, 0],
    ]);
    expect(f.total.expected).toBe(365_185);
    expect(f.unconverted).toEqual(['GBP']);
    const usd = f.currencies.find((x) => x.currency === 'USD');
    expect(usd?.rate).toEqual({ pair: 'EUR/USD', rate: '1.0800', date: '2026-03-30' });
    const gbp = f.currencies.find((x) => x.currency === 'GBP');
    expect(gbp).toMatchObject({ converted: false, expected: 60_000, invoices: 1 });
    expect(f.weeks[4]?.byCurrency.find((x) => x.currency === 'GBP')).toMatchObject({ expected: 60_000 });
    expect(f.weeks[5]?.byCurrency.find((x) => x.currency === 'GBP')).toMatchObject({
      expected: 0,
      atP90: 60_000,
    });
    const csv = forecastCsv(f, formatMinor).split('\n');
    expect(csv[0]).toBe('week,from,to,currency,expected,low,high,at_p10,at_p90');
    expect(csv).toContain('3,2026-04-15,2026-04-21,total in EUR,1000.00,1000.00,2851.85,1300.00,2851.85');
    expect(csv).toContain('2,2026-04-08,2026-04-14,USD,2000.00,0.00,2000.00,2000.00,0.00');
    expect(eur(f.total.expected)).toBe('3651.85');
  });
});

describe('the console', () => {
  it('GET /api/forecast and /forecast.csv; the customer API has the predictions, amounts as decimals', async () => {
    const api = (await (await fetch(`${web.url}/api/forecast?asOf=${AS_OF}`)).json()) as {
      reportingCurrency: string;
      total: { expected: string };
      unconverted: string[];
      weeks: { converted: { expected: string; low: string; high: string } }[];
    };
    expect(api.reportingCurrency).toBe('EUR');
    expect(api.total.expected).toBe('3651.85');
    expect(api.unconverted).toEqual(['GBP']);
    expect(api.weeks[2]?.converted).toMatchObject({ expected: '1000.00', low: '1000.00', high: '2851.85' });
    const csv = await fetch(`${web.url}/forecast.csv?asOf=${AS_OF}`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(await csv.text()).toContain('5,2026-04-29,2026-05-05,GBP,600.00,0.00,600.00,0.00,0.00');
    const cust = (await (await fetch(`${web.url}/api/customers/LATE?asOf=${AS_OF}`)).json()) as {
      predictions: {
        invoices: { invoiceId: string; open: string; expected: string }[];
        expectedCash: unknown[];
      };
    };
    expect(cust.predictions.invoices[0]).toMatchObject({
      invoiceId: 'L4',
      open: '1000.00',
      expected: '2026-04-19',
    });
    expect(cust.predictions.expectedCash).toEqual([
      { currency: 'EUR', in7: '0.00', in30: '1000.00', in90: '1500.00', openTotal: '1500.00' },
    ]);
    const bad = await fetch(`${web.url}/api/forecast?report=XYZ`);
    expect(bad.status).toBe(400);
  });

  it('in Chromium at desktop and 360 px: /forecast and the customer page fit, the CSP holds, the figures show', async () => {
    const shots = join(tmpdir(), 'predict-book-shots');
    await mkdir(shots, { recursive: true });
    for (const [name, viewport] of [
      ['desktop', { width: 1280, height: 900 }],
      ['phone', { width: 360, height: 740 }],
    ] as const) {
      const page = await browser.newPage({ viewport, isMobile: name === 'phone' });
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
      });
      const fits = async (what: string) => {
        const [scroll, client] = (await page.evaluate(
          '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
        )) as [number, number];
        expect(scroll, `${name} ${what}: ${scroll} px wide at ${client}`).toBeLessThanOrEqual(client);
      };
      const res = await page.goto(`${web.url}/forecast?asOf=${AS_OF}`);
      expect(res?.status()).toBe(200);
      expect(await page.locator('svg#forecast-chart rect').count()).toBeGreaterThanOrEqual(13);
      const table = await page.textContent('#forecast-table');
      expect(table).toContain('2026-04-15');
      expect(table).toContain('2,851.85');
      expect(table).toContain('3,651.85');
      expect(await page.textContent('main')).toContain('No rate on file by 2026-03-31 for GBP against EUR');
      expect(await page.getAttribute('a[href^="/forecast.csv"]', 'href')).toBe(
        `/forecast.csv?asOf=${AS_OF}&report=EUR`,
      );
      expect(await page.getAttribute('nav a[href="/forecast"]', 'aria-current')).toBe('page');
      await fits('/forecast');
      await page.screenshot({ path: join(shots, `forecast-${name}.png`), fullPage: true });
      // A past day's forecast beside what came in by the console's today (2026-03-31): the two
      // weeks ended (03-16..03-22, 03-23..03-29) compared, the third not; nothing was settled then.
      await page.goto(`${web.url}/forecast?asOf=2026-03-15`);
      expect(await page.textContent('#forecast-table thead')).toContain('Came in');
      expect(await page.textContent('#forecast-actual')).toContain('over the 2 weeks ended');
      const third = await page.locator('#forecast-table tbody tr').nth(2).locator('td').allTextContents();
      expect(third.slice(8, 10)).toEqual(['–', '–']);
      await fits('/forecast, a past day');
      await page.screenshot({ path: join(shots, `forecast-past-${name}.png`), fullPage: true });
      await page.goto(`${web.url}/customers/LATE?asOf=${AS_OF}`);
      const rows = await page.textContent('#expected-payments');
      expect(rows).toContain('2026-04-19');
      expect(rows).toContain('paid 10 days after the due date');
      const sums = await page.textContent('#expected-cash');
      expect(sums).toContain('1,000.00');
      expect(sums).toContain('1,500.00');
      await fits('the customer page');
      await page.screenshot({ path: join(shots, `customer-${name}.png`), fullPage: true });
      expect(violations).toEqual([]);
      await page.close();
    }
  }, 60_000);
});

describe('the CLI', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = join(dir, 'cli-data');
    const e = await openLocal({ dataDir });
    try {
      await load(e);
    } finally {
      await e.close();
    }
  }, 60_000);
  const cli = (...args: string[]) => sentinel([...args, '--data-dir', dataDir], dir);

  it('sentinel customer LATE --json has predictions; the human output a short block', async () => {
    const j = await cli('customer', 'LATE', '--as-of', AS_OF, '--json');
    expect(j.code, j.stderr).toBe(0);
    const body = JSON.parse(j.stdout) as {
      predictions: {
        invoices: { invoiceId: string; expected: string; p10: string; p90: string; open: string }[];
        expectedCash: unknown[];
      };
    };
    expect(body.predictions.invoices.map((i) => [i.invoiceId, i.open, i.expected, i.p10, i.p90])).toEqual([
      ['L4', '1000.00', '2026-04-19', '2026-04-19', '2026-04-19'],
      ['L5', '500.00', '2026-05-04', '2026-05-04', '2026-05-04'],
    ]);
    expect(body.predictions.expectedCash).toEqual([
      { currency: 'EUR', in7: '0.00', in30: '1000.00', in90: '1500.00', openTotal: '1500.00' },
    ]);
    const h = await cli('customer', 'LATE', '--as-of', AS_OF);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toContain('Expected payments as of 2026-03-31 (80% interval P10-P90):');
    expect(h.stdout).toMatch(/EUR: €?0\.00.*within 7 days, .*1,000\.00.* within 30, .*1,500\.00.* within 90/);
    expect(h.stdout).toMatch(
      /L4 +2026-04-09 +1000\.00 +2026-04-19 +2026-04-19 +2026-04-19 +median of 3 settled/,
    );
  }, 60_000);

  it('sentinel forecast: the table, --json, --csv FILE, and a bad --report', async () => {
    const csvFile = join(dir, 'forecast.csv');
    const t = await cli('forecast', '--as-of', AS_OF, '--csv', csvFile);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain('Cash-in forecast as of 2026-03-31, in EUR');
    // A forecast of a past day, beside what came in as the books read today: PL4 settled L4
    // (1,000.00) on 2026-04-19, in week 3; by their due dates L4 is in week 2, N3 (300.00) in
    // week 3, L5 (500.00) in week 4, U1 (1,851.85) in week 1 (due on the day: the day after).
    expect(t.stdout).toMatch(
      /\n +3 +2026-04-15 +2026-04-21 +1000\.00 +1000\.00 +2851\.85 +1300\.00 +2851\.85 +1000\.00 +300\.00\n/,
    );
    expect(t.stdout).toMatch(
      /\n +1 +2026-04-01 +2026-04-07 +0\.00 +0\.00 +0\.00 +0\.00 +0\.00 +0\.00 +1851\.85\n/,
    );
    // Off by 1,851.85 (W2) + 300.00 (W4) + 500.00 (W5) = 2,651.85 over 13 weeks = 203.99 a week;
    // by due dates 1,851.85 + 1,000.00 + 700.00 + 500.00 = 4,051.85: 311.68.
    expect(t.stdout).toContain(
      'over the 13 weeks ended: mean weekly error 203.99 EUR, against 311.68 EUR for every invoice on its due date.',
    );
    expect(t.stdout).toContain(
      'GBP: 600.00 GBP expected, left out of the EUR figures: no GBP/EUR rate on file by 2026-03-31 (either way, or through USD or CNY)',
    );
    expect(t.stdout).toContain('USD: 2,000.00 USD expected, converted at EUR/USD 1.0800 of 2026-03-30');
    expect(await readFile(csvFile, 'utf8')).toContain(
      '3,2026-04-15,2026-04-21,total in EUR,1000.00,1000.00,2851.85,1300.00,2851.85',
    );
    const j = await cli('forecast', '--as-of', AS_OF, '--json');
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({
      reportingCurrency: 'EUR',
      total: { expected: '3651.85' },
      unconverted: ['GBP'],
      unplaced: [],
      actual: {
        endedWeeks: 13,
        meanAbsError: { currency: 'EUR', model: '203.99', dueDates: '311.68' },
      },
    });
    expect(JSON.parse(j.stdout).actual.weeks[2]).toEqual({
      week: 3,
      ended: true,
      byCurrency: [
        { currency: 'EUR', cameIn: '1000.00', byDueDate: '300.00' },
        // G1, due 2026-04-19, unpaid; GBP has no rate: in no EUR figure.
        { currency: 'GBP', cameIn: '0.00', byDueDate: '600.00' },
        { currency: 'USD', cameIn: '0.00', byDueDate: '0.00' },
      ],
      converted: { currency: 'EUR', cameIn: '1000.00', byDueDate: '300.00' },
    });
    const usd = await cli('forecast', '--as-of', AS_OF, '--report', 'usd', '--json');
    expect(JSON.parse(usd.stdout)).toMatchObject({ reportingCurrency: 'USD', unconverted: ['GBP'] });
    const bad = await cli('forecast', '--report', 'XYZ');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--report XYZ is not an ISO 4217 currency code');
  }, 60_000);
});
