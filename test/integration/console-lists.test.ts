import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../functions/credit/alerts.ts';
import type { RuleName, Severity } from '../../functions/credit/policy.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import type { ReviewRun } from '../../functions/reviews/ports.ts';
import type { Review } from '../../functions/reviews/review.ts';
import { limitApprovals } from '../../functions/transfers/app.ts';
import type { Transfer, TransferStatus } from '../../functions/transfers/ports.ts';
import type { TransferType } from '../../functions/transfers/request.ts';
import type { RunningConsole } from '../../infra/local/console/index.ts';
import {
  EMPTY_REQUEST,
  knownCustomers,
  requestFormHtml,
  SUGGESTIONS_WAIT_MS,
} from '../../infra/local/console/transfers.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalReviewsRuntime, localReviewsRuntime } from '../../infra/local/runtime/reviews.ts';
import type { LocalTransfers } from '../../infra/local/runtime/transfers.ts';
import { memoryUpload } from './helpers.ts';
import { decode, rows } from './pages.ts';
import { reviewTestPolicy } from './review-book.ts';
import { launchChromium, startTransfersConsole } from './transfers-console.ts';

/**
 * The console's lists other than customers (issue 15, items 2 and 7): the alerts and the transfers
 * searched, filtered and sorted on the server, the query kept in the URL (the Next link still
 * filters), a formula-safe CSV of exactly what the page lists, and the APIs' amounts as plain
 * decimals beside their currency. Real dynalite, the real console, one Chromium walk.
 *
 * The book: four customers with names (one a spreadsheet formula); five alerts on them of different
 * rules, severities, dates and amounts, and 250 fillers (F0000..F0249, paymentFrequency, info, no
 * amount) so the alerts run past a page; five transfers of several types and statuses, and 120
 * expired fillers in January, past a page of 100.
 */

const EVIL_NAME = '=HYPERLINK("http://evil.example","click")';
const CUSTOMERS = [
  'customer_id,name,country,industry,currency,payment_terms_days,credit_limit',
  'C-ALPHA,Alpha Metals,DE,manufacturing,EUR,30,10000.00',
  'C-BETA,Beta Foods,FR,retail,EUR,30,5000.00',
  `C-EVIL,"${EVIL_NAME.replace(/"/g, '""')}",GB,construction,USD,30,20000.00`,
  'C-GAMMA,Gamma Tools,NL,manufacturing,EUR,30,8000.00',
].join('\n');

const FILLERS = 250;

function alertOf(
  customerId: string,
  rule: RuleName,
  severity: Severity,
  openedAsOf: string,
  extra: Partial<Alert> = {},
): Alert {
  const at = `${openedAsOf}T05:00:00.000Z`;
  return {
    alertId: `${customerId}/${rule}/${openedAsOf}`,
    customerId,
    rule,
    status: 'open',
    severity,
    action: 'review',
    summary: `${rule} of ${customerId}`,
    evidence: { seen: 1 },
    policyId: 'lists-test',
    openedAt: at,
    openedAsOf,
    seenAsOf: '2026-03-31',
    notifiedSeverity: severity,
    history: [{ at, event: 'opened', severity }],
    ...extra,
  };
}

/** The seeded alerts (fillers aside), with the amount each is about. */
const ALERTS: Alert[] = [
  alertOf('C-ALPHA', 'daysPastDue', 'critical', '2026-02-01', {
    currency: 'EUR',
    facts: { maxDaysPastDue: 95, overdueAmount: 600_000, openInvoices: 2 },
  } as Partial<Alert>),
  alertOf('C-ALPHA', 'limitUse', 'high', '2026-03-01', {
    currency: 'EUR',
    facts: { exposure: 900_000, creditLimit: 1_000_000, limitUse: 0.9 },
  } as Partial<Alert>),
  alertOf('C-BETA', 'daysPastDue', 'warning', '2026-01-15', {
    status: 'acknowledged',
    currency: 'EUR',
    facts: { maxDaysPastDue: 40, overdueAmount: 120_000, openInvoices: 1 },
  } as Partial<Alert>),
  alertOf('C-EVIL', 'overdueAmount', 'high', '2026-03-10', {
    currency: 'USD',
    facts: { overdueAmount: 2_500_000, creditLimit: 2_000_000, share: 1.25 },
  } as Partial<Alert>),
  alertOf('C-GAMMA', 'staleFinancials', 'info', '2026-02-20'),
];

function transferOf(
  transferId: string,
  customerId: string,
  type: TransferType,
  amount: number,
  currency: string,
  status: TransferStatus,
  requestedOn: string,
  beneficiaryName = 'Someone Else Ltd',
): Transfer {
  return {
    transferId,
    request: {
      customerId,
      type,
      amount,
      currency,
      beneficiaryName,
      beneficiaryAccount: 'DE89370400440532013000',
      reason: 'seeded for the lists test',
      requester: 'rita',
    },
    requestedAt: `${requestedOn}T09:00:00.000Z`,
    requestedOn,
    status,
  } as Transfer;
}

const TRANSFERS: Transfer[] = [
  transferOf('TR-001', 'C-ALPHA', 'refund', 150_000, 'EUR', 'approved', '2026-03-01', 'Alpha Metals GmbH'),
  transferOf('TR-002', 'C-BETA', 'rebate', 30_000, 'EUR', 'rejected', '2026-03-05'),
  transferOf('TR-003', 'C-EVIL', 'refund', 2_500_000, 'USD', 'pending', '2026-03-10'),
  transferOf('TR-004', 'C-GAMMA', 'bank_account_change', 0, 'EUR', 'approved', '2026-02-10'),
  transferOf('TR-005', 'C-ALPHA', 'credit_release', 700_000, 'EUR', 'pending', '2026-03-20'),
];
const EXPIRED = 120;

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let web: RunningConsole;
let browser: Browser | undefined;
let reviews: LocalReviewsRuntime;

const RUN_ID = 'review-lists-1';
const REVIEW_POLICY = reviewTestPolicy('console-lists-test');

/** A done review of the run: outcome, limits (minor units of EUR, or USD for C-EVIL), rating and score. */
function reviewOf(customerId: string, name: string, o: Partial<Review>): Review {
  return {
    reviewId: `${RUN_ID}/${customerId}`,
    runId: RUN_ID,
    customerId,
    name,
    asOf: '2026-03-31',
    reviewedAt: '2026-03-31T06:00:00.000Z',
    policyId: 'console-lists-test',
    due: 'cadence',
    status: 'done',
    currency: customerId === 'C-EVIL' ? 'USD' : 'EUR',
    ...o,
  } as Review;
}

const REVIEWS: Review[] = [
  reviewOf('C-ALPHA', 'Alpha Metals', {
    outcome: 'cut',
    rating: 'B',
    score: 55,
    currentLimit: 1_000_000,
    limitAfter: 800_000,
    attention: true,
  }),
  reviewOf('C-BETA', 'Beta Foods', {
    outcome: 'keep',
    rating: 'A',
    score: 80,
    currentLimit: 500_000,
    limitAfter: 500_000,
  }),
  reviewOf('C-EVIL', EVIL_NAME, {
    outcome: 'approval',
    rating: 'C',
    score: 30,
    currentLimit: 2_000_000,
    limitAfter: 2_000_000,
    attention: true,
  }),
  reviewOf('C-GAMMA', 'Gamma Tools', {
    outcome: 'raise',
    rating: 'A',
    score: 85,
    currentLimit: 800_000,
    limitAfter: 1_200_000,
  }),
];

/** Loads a file under its own name (rejected rows allowed): an ingest run to list. */
async function loadAs(kind: Kind, fileName: string, csv: string): Promise<void> {
  await ingest(
    {
      store: env.store,
      notifier: { customersChanged: async () => {} },
      clock: { now: () => new Date() },
      timeZone: 'UTC',
    },
    { ...memoryUpload(kind, csv), fileName, objectRef: `test://${fileName}` },
  );
}

async function load(kind: Kind, csv: string): Promise<void> {
  const r = await ingest(
    {
      store: env.store,
      notifier: { customersChanged: async () => {} },
      clock: { now: () => new Date('2026-03-31T06:00:00Z') },
      timeZone: 'UTC',
    },
    memoryUpload(kind, csv),
  );
  if (r.rejected > 0 || r.status !== 'processed') throw new Error(`${kind}: ${JSON.stringify(r)}`);
}

async function get(path: string): Promise<string> {
  const res = await fetch(`${web.url}${path}`);
  const body = await res.text();
  expect(res.status, `${path}: ${body.slice(0, 300)}`).toBe(200);
  return body;
}

const getJson = async <T>(path: string) => JSON.parse(await get(path)) as T;

/** The rows of the page's table `id` (or the first table), head row dropped. */
function tableRows(page: string, id?: string): string[][] {
  const re = id ? new RegExp(`<table id="${id}">[\\s\\S]*?</table>`) : /<table>[\s\S]*?<\/table>/;
  return rows(re.exec(page)?.[0] ?? '').slice(1);
}

/** The alerts page's rows as `<customer>/<rule>` (the customer cell's first word, the rule cell). */
const alertKeys = (page: string) => tableRows(page).map((r) => `${(r[1] ?? '').split(' ')[0]}/${r[2]}`);

/** The transfers page's rows as transfer ids. */
const transferIds = (page: string) => tableRows(page, 'transfers').map((r) => (r[0] ?? '').split(' ')[0]);

/** The href of the page's Next link, decoded. */
const nextHref = (page: string) => {
  const m = /<a rel="next" href="([^"]*)"/.exec(page);
  return m ? decode(m[1] as string) : undefined;
};

/** A CSV as rows of cells (RFC 4180 quoting). */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r') continue;
    else if (ch === '\n') {
      row.push(cell);
      out.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) out.push([...row, cell]);
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-lists-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  await load('customers', CUSTOMERS);
  const fillers = Array.from({ length: FILLERS }, (_, i) =>
    alertOf(`F${String(i).padStart(4, '0')}`, 'paymentFrequency', 'info', '2026-03-02'),
  );
  const byCustomer = new Map<string, Alert[]>();
  for (const a of [...ALERTS, ...fillers])
    byCustomer.set(a.customerId, [...(byCustomer.get(a.customerId) ?? []), a]);
  await env.store.saveEvaluation([...byCustomer].map(([customerId, alerts]) => ({ customerId, alerts })));
  // Two more ingest runs: March's invoices (one row rejected) and payments, each a file of its own.
  await loadAs(
    'invoices',
    'invoices/march-invoices.csv',
    [
      'invoice_id,customer_id,issue_date,due_date,amount,currency',
      'I-1,C-ALPHA,2026-01-01,2026-01-31,6000.00,EUR',
      'I-2,C-BETA,2026-02-01,2026-03-03,1200.00,EUR',
      'I-3,C-GAMMA,2026-02-10,not-a-date,500.00,EUR',
    ].join('\n'),
  );
  await loadAs(
    'payments',
    'payments/april-payments.csv',
    [
      'payment_id,customer_id,received_date,amount,currency,invoice_id',
      'P-1,C-BETA,2026-03-20,100.00,EUR,I-2',
    ].join('\n'),
  );
  ({ transfers, web } = await startTransfersConsole(env, dir, {
    creditPolicy: REVIEW_POLICY,
    more: (t) => {
      reviews = localReviewsRuntime({
        client: env.store.client,
        tableName: env.store.tableName,
        dataDir: dir,
        policy: async () => REVIEW_POLICY,
        approvals: limitApprovals(t.app),
        timeZone: 'UTC',
      });
      return { reviews: reviews.console };
    },
  }));
  await reviews.store.createRun({
    runId: RUN_ID,
    asOf: '2026-03-31',
    policyId: 'console-lists-test',
    trigger: 'manual',
    startedAt: '2026-03-31T06:00:00.000Z',
    status: 'done',
    selected: REVIEWS.length,
    manifest: { key: 'none', count: REVIEWS.length },
    finishedAt: '2026-03-31T06:01:00.000Z',
  } as unknown as ReviewRun);
  await reviews.store.completeBatch({ reviews: REVIEWS, states: [], limitChanges: [] });
  const expired = Array.from({ length: EXPIRED }, (_, i) =>
    transferOf(
      `TR-X${String(i).padStart(3, '0')}`,
      'C-BETA',
      'refund',
      1_000,
      'EUR',
      'expired',
      `2026-01-${String(1 + (i % 28)).padStart(2, '0')}`,
    ),
  );
  for (const t of [...TRANSFERS, ...expired]) await transfers.store.createTransfer(t);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await env?.close();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('alerts list', () => {
  it('a filter and a search give exactly the expected alerts', async () => {
    expect(alertKeys(await get('/alerts?rule=daysPastDue'))).toEqual([
      'C-ALPHA/daysPastDue',
      'C-BETA/daysPastDue',
    ]);
    // By name (the alerts hold no names): "metals" is Alpha Metals.
    expect(alertKeys(await get('/alerts?q=metals'))).toEqual(['C-ALPHA/daysPastDue', 'C-ALPHA/limitUse']);
    // By id, with a status and a customer filter.
    expect(alertKeys(await get('/alerts?q=beta&status=acknowledged'))).toEqual(['C-BETA/daysPastDue']);
    expect(alertKeys(await get('/alerts?customer=C-ALPHA&severity=high'))).toEqual(['C-ALPHA/limitUse']);
    const none = await get('/alerts?q=nobody');
    expect(decode(none)).toContain('No active alerts whose customer holds "nobody".');
  }, 60_000);

  it('sorts by amount, by date raised and by customer', async () => {
    expect(alertKeys(await get('/alerts?q=C-&sort=amount&dir=desc'))).toEqual([
      'C-EVIL/overdueAmount', // 25,000.00 USD
      'C-ALPHA/limitUse', // 9,000.00 EUR
      'C-ALPHA/daysPastDue', // 6,000.00 EUR
      'C-BETA/daysPastDue', // 1,200.00 EUR
      'C-GAMMA/staleFinancials', // no amount: last
    ]);
    expect(alertKeys(await get('/alerts?q=C-&sort=raised&dir=asc'))).toEqual([
      'C-BETA/daysPastDue',
      'C-ALPHA/daysPastDue',
      'C-GAMMA/staleFinancials',
      'C-ALPHA/limitUse',
      'C-EVIL/overdueAmount',
    ]);
    expect(alertKeys(await get('/alerts?q=C-&sort=customer&dir=desc')).map((k) => k.split('/')[0])).toEqual([
      'C-GAMMA',
      'C-EVIL',
      'C-BETA',
      'C-ALPHA',
      'C-ALPHA',
    ]);
  }, 60_000);

  it('keeps the filter in the Next link, paged by the store and paged in memory', async () => {
    // The store's order: the cursor pages, the rule filter applied by the store.
    const first = await get('/alerts?rule=paymentFrequency');
    expect(first).toContain('showing 1-100 of 250');
    const next = nextHref(first) as string;
    expect(next).toMatch(/^\/alerts\?rule=paymentFrequency&after=/);
    const second = await get(next);
    expect(second).toContain('showing 101-200 of 250');
    const keys = alertKeys(second);
    expect(keys).toHaveLength(100);
    expect(keys.every((k) => k.endsWith('/paymentFrequency'))).toBe(true);
    // Another sort is computed in memory: paged by number, the filter and the sort kept.
    const sorted = await get('/alerts?rule=paymentFrequency&sort=customer&dir=desc');
    expect(alertKeys(sorted)[0]).toBe('F0249/paymentFrequency');
    const pageTwo = nextHref(sorted) as string;
    expect(pageTwo).toBe('/alerts?rule=paymentFrequency&sort=customer&dir=desc&page=2');
    const last = alertKeys(await get(`${pageTwo.replace('page=2', 'page=3')}`));
    expect([last.length, last.at(-1)]).toEqual([50, 'F0000/paymentFrequency']);
  }, 60_000);

  it('the CSV has the rows and columns the page shows, a formula neutralised', async () => {
    const query = 'q=C-&sort=amount&dir=desc';
    const page = await get(`/alerts?${query}`);
    expect(page).toContain(`href="/alerts.csv?q=C-&amp;sort=amount&amp;dir=desc"`);
    const res = await fetch(`${web.url}/alerts.csv?${query}`);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const csv = parseCsv(await res.text());
    const [header, ...body] = csv as [string[], ...string[][]];
    expect(header).toEqual([
      'severity',
      'customer_id',
      'customer_name',
      'rule',
      'status',
      'opened_as_of',
      'seen_as_of',
      'suggested_action',
      'summary',
      'evidence',
    ]);
    expect(body.map((r) => `${r[1]}/${r[3]}`)).toEqual(alertKeys(page));
    expect(body.every((r) => r.length === header.length)).toBe(true);
    const evil = body.find((r) => r[1] === 'C-EVIL') as string[];
    expect(evil[2]).toBe(`'${EVIL_NAME}`);
    expect(body.find((r) => r[1] === 'C-BETA')?.[4]).toBe('acknowledged');
  }, 60_000);

  it('/api/alerts keeps the query and writes the facts amounts as decimal strings', async () => {
    const api = await getJson<{
      active: Alert[];
      paging: { active: { total: number } };
      query: Record<string, string>;
    }>('/api/alerts?q=C-&sort=amount&dir=desc');
    expect(api.query).toEqual({ q: 'C-', sort: 'amount', dir: 'desc' });
    expect(api.paging.active.total).toBe(5);
    const evil = api.active[0] as Alert & { facts: Record<string, unknown> };
    expect([evil.customerId, evil.currency, evil.facts.overdueAmount, evil.facts.creditLimit]).toEqual([
      'C-EVIL',
      'USD',
      '25000.00',
      '20000.00',
    ]);
    // A share stays a number.
    expect(evil.facts.share).toBe(1.25);
  }, 60_000);
});

describe('transfers list', () => {
  it('a filter and a search give exactly the expected transfers', async () => {
    expect(transferIds(await get('/transfers?status=pending'))).toEqual(['TR-005', 'TR-003']);
    // The customer's name (Alpha Metals) and a beneficiary's (Alpha Metals GmbH).
    expect(transferIds(await get('/transfers?q=metals'))).toEqual(['TR-005', 'TR-001']);
    expect(transferIds(await get('/transfers?q=TR-00&type=refund'))).toEqual(['TR-003', 'TR-001']);
    expect(transferIds(await get('/transfers?from=2026-03-01&to=2026-03-10'))).toEqual([
      'TR-003',
      'TR-002',
      'TR-001',
    ]);
    expect(transferIds(await get('/transfers?currency=usd'))).toEqual(['TR-003']);
  }, 60_000);

  it('sorts by amount and by status', async () => {
    expect(transferIds(await get('/transfers?from=2026-02-01&sort=amount&dir=desc'))).toEqual([
      'TR-003',
      'TR-005',
      'TR-001',
      'TR-002',
      'TR-004',
    ]);
    expect(transferIds(await get('/transfers?from=2026-02-01&sort=status&dir=asc'))).toEqual([
      'TR-001', // approved, newest first within a status
      'TR-004',
      'TR-005', // pending
      'TR-003',
      'TR-002', // rejected
    ]);
  }, 60_000);

  it('keeps the filter in the Next link', async () => {
    const first = await get('/transfers?status=expired');
    expect(transferIds(first)).toHaveLength(100);
    const next = nextHref(first) as string;
    expect(next).toMatch(/^\/transfers\?status=expired&after=/);
    const second = transferIds(await get(next));
    expect(second).toHaveLength(EXPIRED - 100);
    expect(second.every((id) => id?.startsWith('TR-X'))).toBe(true);
    const sorted = await get('/transfers?status=expired&sort=requested&dir=asc');
    expect(nextHref(sorted)).toBe('/transfers?status=expired&sort=requested&dir=asc&page=2');
  }, 60_000);

  it('the CSV has the rows the page shows, amounts as decimals, a formula neutralised', async () => {
    const query = 'from=2026-02-01&sort=amount&dir=desc';
    const page = await get(`/transfers?${query}`);
    const csv = parseCsv(await get(`/transfers.csv?${query}`));
    const [header, ...body] = csv as [string[], ...string[][]];
    expect(header).toEqual([
      'transfer_id',
      'requested_at',
      'customer_id',
      'customer_name',
      'type',
      'amount',
      'currency',
      'requester',
      'status',
      'gate_flags',
      'outcome',
    ]);
    expect(body.map((r) => r[0])).toEqual(transferIds(page));
    const evil = body[0] as string[];
    expect([evil[3], evil[5], evil[6]]).toEqual([`'${EVIL_NAME}`, '25000.00', 'USD']);
    // The page writes the same amount with formatMoney.
    expect(tableRows(page, 'transfers')[0]?.[4]).toBe('25,000.00 USD');
  }, 60_000);

  it('/api/transfers filters and writes amounts as decimal strings, as /api/transfers/ID does', async () => {
    const list = await getJson<{ transfers: Transfer[]; total: number }>('/api/transfers?status=pending');
    expect(list.total).toBe(2);
    expect(list.transfers.map((t) => [t.transferId, t.request.amount, t.request.currency])).toEqual([
      ['TR-005', '7000.00', 'EUR'],
      ['TR-003', '25000.00', 'USD'],
    ]);
    const one = await getJson<{ transfer: Transfer }>('/api/transfers/TR-001');
    expect(one.transfer.request.amount).toBe('1500.00');
    const bad = await fetch(`${web.url}/api/transfers?status=lost`);
    expect(bad.status).toBe(400);
  }, 60_000);
});

describe('ingest runs list', () => {
  /** The runs table's rows as file names. */
  const files = (page: string) => tableRows(page).map((r) => r[1] as string);

  it('filters by kind and by rejects, searches by file name, sorts by rows', async () => {
    expect(files(await get('/runs'))).toEqual([
      'payments/april-payments.csv',
      'invoices/march-invoices.csv',
      'customers/book.csv',
    ]);
    expect(files(await get('/runs?kind=invoices'))).toEqual(['invoices/march-invoices.csv']);
    expect(files(await get('/runs?rejects=yes'))).toEqual(['invoices/march-invoices.csv']);
    expect(files(await get('/runs?rejects=no'))).toEqual([
      'payments/april-payments.csv',
      'customers/book.csv',
    ]);
    expect(files(await get('/runs?q=APRIL'))).toEqual(['payments/april-payments.csv']);
    expect(files(await get('/runs?sort=rows&dir=desc'))).toEqual([
      'customers/book.csv', // 4 rows
      'invoices/march-invoices.csv', // 3
      'payments/april-payments.csv', // 1
    ]);
    // The Next link keeps the filter (a page of one).
    const first = await get('/runs?rejects=no&limit=1');
    expect(nextHref(first)).toMatch(/^\/runs\?rejects=no&limit=1&after=/);
    expect(files(await get(nextHref(first) as string))).toEqual(['customers/book.csv']);
  }, 60_000);

  it('the CSV has the rows the page shows', async () => {
    const page = await get('/runs?sort=rejects&dir=desc');
    const [header, ...body] = parseCsv(await get('/runs.csv?sort=rejects&dir=desc')) as [
      string[],
      ...string[][],
    ];
    expect(header.slice(0, 2)).toEqual(['started_at', 'file']);
    expect(body.map((r) => r[1])).toEqual(files(page));
    expect(body[0]?.[7]).toBe('1');
  }, 60_000);
});

describe("a review run's reviews", () => {
  const customers = (page: string) => tableRows(page).map((r) => (r[0] ?? '').split(' ')[0]);
  const run = `/reviews/${RUN_ID}`;

  it('filters by outcome, searches by customer, sorts by limit, keeps the filter', async () => {
    expect(customers(await get(run))).toEqual(['C-ALPHA', 'C-BETA', 'C-EVIL', 'C-GAMMA']);
    expect(customers(await get(`${run}?outcome=cut`))).toEqual(['C-ALPHA']);
    expect(customers(await get(`${run}?attention=1`))).toEqual(['C-ALPHA', 'C-EVIL']);
    expect(customers(await get(`${run}?q=foods`))).toEqual(['C-BETA']);
    expect(customers(await get(`${run}?sort=limitAfter&dir=desc`))).toEqual([
      'C-EVIL',
      'C-GAMMA',
      'C-ALPHA',
      'C-BETA',
    ]);
    const page = await get(`${run}?sort=score&dir=asc`);
    expect(customers(page)).toEqual(['C-EVIL', 'C-ALPHA', 'C-BETA', 'C-GAMMA']);
    // Amounts as a person reads them.
    expect(tableRows(page)[0]?.[6]).toBe('20,000.00 USD');
    expect(page).toContain(`href="/reviews/${RUN_ID}/reviews.csv?sort=score&amp;dir=asc"`);
  }, 60_000);

  it("the CSV of the run's reviews has the rows shown, a formula neutralised", async () => {
    const page = await get(`${run}?sort=score&dir=asc`);
    const [header, ...body] = parseCsv(await get(`${run}/reviews.csv?sort=score&dir=asc`)) as [
      string[],
      ...string[][],
    ];
    expect(header.slice(0, 2)).toEqual(['customer_id', 'name']);
    expect(body.map((r) => r[0])).toEqual(customers(page));
    expect(body[0]?.[1]).toBe(`'${EVIL_NAME}`);
    expect([body[0]?.[7], body[0]?.[9], body[0]?.[10]]).toEqual(['20000.00', '20000.00', 'approval']);
  }, 60_000);
});

describe('in Chromium', () => {
  it('picks a rule with the form on /alerts: the URL carries it and the rows change', async () => {
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${web.url}/alerts`);
    const before = await page.locator('#active-alerts tbody tr').count();
    expect(before).toBe(100); // a page of active alerts
    await page.selectOption('#rule', 'daysPastDue');
    await Promise.all([
      page.waitForURL(/rule=daysPastDue/),
      page.click('#alert-filters button[type=submit]'),
    ]);
    expect(new URL(page.url()).searchParams.get('rule')).toBe('daysPastDue');
    const customers = await page.locator('#active-alerts tbody tr td:nth-child(2) a').allTextContents();
    expect(customers).toEqual(['C-ALPHA', 'C-BETA']);
    expect(await page.locator('#rule').inputValue()).toBe('daysPastDue');
  }, 120_000);
});

describe('the transfer form while the customers list is first read', () => {
  it('comes without suggestions after SUGGESTIONS_WAIT_MS, saying why, instead of waiting the read out', async () => {
    // A read that has not finished (at 100,000 customers the first takes about a minute).
    let reads = 0;
    const opts = {
      credit: { store: env.store },
      queries: {
        customers: () => {
          reads++;
          return new Promise<never>(() => undefined);
        },
      },
      today: () => '2026-11-30',
    } as unknown as Parameters<typeof knownCustomers>[0];
    const started = Date.now();
    const known = await knownCustomers(opts);
    expect(Date.now() - started).toBeGreaterThanOrEqual(SUGGESTIONS_WAIT_MS - 50);
    expect(known).toEqual({ customers: [], suggestionsPending: true });
    expect(reads).toBe(1);
    const form = decode(
      requestFormHtml({ values: EMPTY_REQUEST, issues: [], ...known })
        .toString()
        .replace(/<[^>]+>/g, ' '),
    );
    expect(form).toContain('The customer list is still being read (about a minute at 100,000 customers)');
    // Once read, the suggestions come from it.
    const ready = await knownCustomers({ ...opts, queries: new ReceivablesQueries(env.store) } as never);
    expect(ready.suggestionsPending).toBeUndefined();
    expect(ready.customers.length).toBeGreaterThan(0);
  });
});
