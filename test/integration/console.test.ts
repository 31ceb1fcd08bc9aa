import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import type { IngestRun } from '../../functions/ingest/ports.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { rowStarting, rows, text } from './pages.ts';

// ---- fixtures: three customers, books as of 2025-03-31 worked out by hand below ----

const ASOF = '2025-03-31';
const HOSTILE = 'Acme <script>alert("x")</script> & Co';
const ODD_ID = 'B&B/02 ü'; // needs percent-encoding in a path and a query

const CUSTOMERS_CSV = [
  'customer_id,name,country,industry,currency,payment_terms_days,credit_limit,registration_no',
  `C-001,"${HOSTILE.replace(/"/g, '""')}",NL,Manufacturing,EUR,30,"50,000.00",NL-123`,
  `${ODD_ID},Beta Traders,DE,Retail,EUR,30,10000.00,`,
  'C-003,Gamma Ltd,GB,Services,USD,45,20000,',
].join('\n');

const INVOICES_CSV = [
  'invoice_id,customer_id,issue_date,due_date,amount,currency,disputed',
  'INV-1,C-001,2024-09-01,2024-10-01,1000.00,EUR,', //    181 days past due -> 180+
  'INV-2,C-001,2025-01-10,2025-02-09,2500.00,EUR,', //    50 dpd -> 31-60, 500 paid -> 2000 open
  'INV-3,C-001,2025-03-01,2025-03-31,750.00,EUR,', //     due on asOf -> not due
  'INV-BAD,C-001,2025-02-30,2025-03-30,100.00,EUR,', //   line 5: no such date -> rejected
  'INV-4,C-001,2025-01-05,2025-02-04,300.00,EUR,', //     paid 2025-02-14 -> settled, 10 days late
  'INV-5,C-001,2025-03-15,2025-03-20,120.50,EUR,yes', //  11 dpd -> 1-30, disputed
  'INV-6,C-001,2025-04-05,2025-05-05,999.00,EUR,', //     issued after asOf -> not in the books yet
  `B-1,${ODD_ID},2024-12-01,2024-12-31,4000.00,EUR,`, //  90 dpd -> 61-90, 1000 paid FIFO -> 3000 open
  `B-2,${ODD_ID},2025-02-01,2025-03-03,600.00,EUR,`, //   28 dpd -> 1-30
  'G-1,C-003,2025-03-10,2025-04-24,5000.00,USD,', //      not due
].join('\n');

const PAYMENTS_CSV = [
  'payment_id,customer_id,received_date,amount,currency,invoice_id',
  'P-1,C-001,2025-02-14,300.00,EUR,INV-4',
  'P-2,C-001,2025-03-10,500.00,EUR,INV-2',
  'P-3,C-001,2025-03-20,200.00,EUR,INV-999', // unknown invoice -> unapplied cash
  `PB-1,${ODD_ID},2025-03-25,1000.00,EUR,`, // no invoice named -> oldest due first (B-1)
].join('\n');

/*
 * Expected as of 2025-03-31 (EUR):
 *   C-001  open 1000 + 2000 + 750 + 120.50 = 3870.50, overdue 1000 + 2000 + 120.50 = 3120.50
 *          notDue 750, 1-30 120.50, 31-60 2000, 61-90 0, 91-180 0, 180+ 1000; 4 open, max 181 dpd,
 *          INV-4 settled 2025-02-14: 10 days late, 40 days to settle -> avg days late 10; unapplied 200
 *   B&B    open 3000 + 600 = 3600 all overdue; 1-30 600, 61-90 3000; 2 open, max 90 dpd; no settled
 *   C-003  open 5000 USD, nothing overdue, max 0 dpd
 *   Order (largest overdue first): B&B, C-001, C-003.
 */

// ---- helpers ----

/** The part of a page under an <h2> that starts with `heading`, up to the next <h2>. */
function section(page: string, heading: string): string {
  const start = page.indexOf(`<h2>${heading}`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const end = page.indexOf('<h2>', start + 4);
  return page.slice(start, end < 0 ? undefined : end);
}

let env: LocalEnv;
let con: RunningConsole;
const runs: Record<string, IngestRun> = {};

async function load(kind: Kind, fileName: string, csv: string, at: string): Promise<IngestRun> {
  const report: string[] = [];
  return ingest(
    {
      store: env.store,
      notifier: { customersChanged: async () => {} },
      clock: { now: () => new Date(at) },
      timeZone: 'UTC',
    },
    {
      source: (async function* () {
        yield new TextEncoder().encode(csv);
      })(),
      fileName,
      objectRef: `test://${fileName}`,
      profile: canonicalProfile(kind),
      rejects: {
        write: (s) => void report.push(s),
        close: async () => `reports/${fileName.replace(/\.csv$/, '')}.rejects.csv`,
      },
    },
  );
}

async function get(path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${con.url}${path}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  runs.customers = await load('customers', 'customers/master.csv', CUSTOMERS_CSV, '2025-03-31T08:00:00Z');
  runs.invoices = await load('invoices', 'invoices/2025-03.csv', INVOICES_CSV, '2025-03-31T08:05:00Z');
  runs.payments = await load('payments', 'payments/2025-03.csv', PAYMENTS_CSV, '2025-03-31T08:10:00Z');
  con = await startConsole({ queries: new ReceivablesQueries(env.store), today: () => ASOF, port: 0 });
});

afterAll(async () => {
  await con?.close();
  await env?.close();
});

describe('the console over a real in-memory store', () => {
  it('ingested the fixtures as expected (sanity check of the setup)', () => {
    expect(runs.customers).toMatchObject({ status: 'processed', rowsRead: 3, acceptedTotal: 3, rejected: 0 });
    expect(runs.invoices).toMatchObject({ status: 'processed', rowsRead: 10, acceptedTotal: 9, rejected: 1 });
    expect(runs.payments).toMatchObject({ status: 'processed', rowsRead: 4, acceptedTotal: 4, rejected: 0 });
  });

  it('serves the health check', async () => {
    const r = await get('/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toBe('ok');
  });

  it('shows the receivables table with the aging as of an explicit date', async () => {
    const r = await get(`/customers?asOf=${ASOF}`);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/html/);
    expect(r.body).toContain(`Receivables as of ${ASOF}`);

    // customer, name, currency, open, overdue, not due, 1-30, 31-60, 61-90, 91-180, 180+,
    // open invoices, max dpd, avg days late, unapplied, credit limit
    expect(rowStarting(r.body, 'C-001')).toEqual([
      'C-001',
      HOSTILE,
      'EUR',
      '3,870.50 EUR',
      '3,120.50 EUR',
      '750.00 EUR',
      '120.50 EUR',
      '2,000.00 EUR',
      '0.00 EUR',
      '0.00 EUR',
      '1,000.00 EUR',
      '4',
      '181',
      '10',
      '200.00 EUR',
      '50,000.00 EUR',
      // limit use (open less unapplied over the limit), score, rating, risk class (none assessed)
      '7.3%',
      '—',
      '—',
      '—',
    ]);
    expect(rowStarting(r.body, ODD_ID)).toEqual([
      ODD_ID,
      'Beta Traders',
      'EUR',
      '3,600.00 EUR',
      '3,600.00 EUR',
      '0.00 EUR',
      '600.00 EUR',
      '0.00 EUR',
      '3,000.00 EUR',
      '0.00 EUR',
      '0.00 EUR',
      '2',
      '90',
      '—',
      '0.00 EUR',
      '10,000.00 EUR',
      '36.0%',
      '—',
      '—',
      '—',
    ]);
    expect(rowStarting(r.body, 'C-003')?.slice(0, 6)).toEqual([
      'C-003',
      'Gamma Ltd',
      'USD',
      '5,000.00 USD',
      '0.00 USD',
      '5,000.00 USD',
    ]);

    // largest overdue first
    const order = rows(r.body)
      .map((row) => row[0])
      .filter((c) => c === 'C-001' || c === ODD_ID || c === 'C-003');
    expect(order).toEqual([ODD_ID, 'C-001', 'C-003']);

    // totals per currency
    expect(rowStarting(r.body, 'Total EUR')).toEqual([
      'Total EUR',
      '2 customers',
      'EUR',
      '7,470.50 EUR',
      '6,720.50 EUR',
      '750.00 EUR',
      '720.50 EUR',
      '2,000.00 EUR',
      '3,000.00 EUR',
      '0.00 EUR',
      '1,000.00 EUR',
      '6',
      '181',
      '',
      '200.00 EUR',
      '60,000.00 EUR',
      '',
    ]);
    expect(rowStarting(r.body, 'Total USD')?.slice(0, 5)).toEqual([
      'Total USD',
      '1 customer',
      'USD',
      '5,000.00 USD',
      '0.00 USD',
    ]);

    // the customer link keeps the date and encodes the id
    expect(r.body).toContain(
      `href="/customers/${encodeURIComponent(ODD_ID).replace(/&/g, '&amp;')}?asOf=${ASOF}"`,
    );
  });

  it('escapes values that come from uploaded files', async () => {
    const r = await get(`/customers?asOf=${ASOF}`);
    expect(r.body).not.toContain('<script');
    expect(r.body).toContain('Acme &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
    expect(r.body).toContain('B&amp;B/02 ü');
    const d = await get(`/customers/C-001?asOf=${ASOF}`);
    expect(d.body).not.toContain('<script');
    expect(d.body).toContain('&lt;script&gt;');
  });

  it('uses today() when no date is given and moves with the date', async () => {
    const today = await get('/');
    expect(today.status).toBe(200);
    expect(rowStarting(today.body, 'C-001')?.[4]).toBe('3,120.50 EUR');

    // On 2025-02-20: INV-1 (142 dpd), INV-2 (11 dpd, nothing paid yet), INV-4 settled; INV-3/5/6 not issued.
    const earlier = await get('/customers?asOf=2025-02-20');
    expect(rowStarting(earlier.body, 'C-001')?.slice(3, 14)).toEqual([
      '3,500.00 EUR',
      '3,500.00 EUR',
      '0.00 EUR',
      '2,500.00 EUR',
      '0.00 EUR',
      '0.00 EUR',
      '1,000.00 EUR',
      '0.00 EUR',
      '2',
      '142',
      '10',
    ]);
  });

  it('refuses an invalid date with a 400 page', async () => {
    for (const bad of ['2025-02-30', '31.03.2025', 'yesterday']) {
      const r = await get(`/customers?asOf=${encodeURIComponent(bad)}`);
      expect(r.status).toBe(400);
      expect(r.type).toMatch(/^text\/html/);
      expect(text(r.body)).toContain(`asOf "${bad}" is not a valid date`);
      expect(text(r.body)).toContain('YYYY-MM-DD');
    }
    const hostile = await get(`/customers?asOf=${encodeURIComponent('<script>x</script>')}`);
    expect(hostile.status).toBe(400);
    expect(hostile.body).not.toContain('<script');
    const detail = await get('/customers/C-001?asOf=2025-13-01');
    expect(detail.status).toBe(400);
    const api = await get('/api/customers?asOf=2025-02-30');
    expect(api.status).toBe(400);
    expect(JSON.parse(api.body).error).toContain('is not a real date');
  });

  it('shows a customer file: master data, summary, aging, open items, settled invoices, payments and notes', async () => {
    const r = await get(`/customers/C-001?asOf=${ASOF}`);
    expect(r.status).toBe(200);
    const master = text(section(r.body, 'Master data'));
    expect(master).toContain(`Name ${HOSTILE}`);
    expect(master).toContain('Payment terms 30 days');
    expect(master).toContain('Credit limit 50,000.00 EUR');
    const summary = text(section(r.body, 'Summary'));
    expect(summary).toContain('Open 3,870.50 EUR');
    expect(summary).toContain('Overdue 3,120.50 EUR');
    expect(summary).toContain('Disputed 120.50 EUR');
    expect(summary).toContain('Unapplied cash 200.00 EUR');

    const aging = rows(section(r.body, 'Aging'));
    expect(aging[1]).toEqual([
      '750.00 EUR',
      '120.50 EUR',
      '2,000.00 EUR',
      '0.00 EUR',
      '0.00 EUR',
      '1,000.00 EUR',
      '3,870.50 EUR',
    ]);

    // invoice, issued, due, amount, open, days past due, bucket, disputed (oldest due first)
    const open = rows(section(r.body, 'Open items')).slice(1);
    expect(open).toEqual([
      ['INV-1', '2024-09-01', '2024-10-01', '1,000.00 EUR', '1,000.00 EUR', '181', '180+', ''],
      ['INV-2', '2025-01-10', '2025-02-09', '2,500.00 EUR', '2,000.00 EUR', '50', '31–60', ''],
      ['INV-5', '2025-03-15', '2025-03-20', '120.50 EUR', '120.50 EUR', '11', '1–30', 'disputed'],
      ['INV-3', '2025-03-01', '2025-03-31', '750.00 EUR', '750.00 EUR', '0', 'Not due', ''],
    ]);
    expect(r.body).not.toContain('INV-6'); // issued after the date
    expect(r.body).not.toContain('INV-BAD');

    const settled = rows(section(r.body, 'Settled invoices')).slice(1);
    expect(settled).toEqual([
      ['INV-4', '2025-01-05', '2025-02-04', '300.00 EUR', '2025-02-14', '10', '40', ''],
    ]);

    // payment, received, amount, applied to, unapplied (newest first), then the unapplied total
    const payments = rows(section(r.body, 'Payments'));
    expect(payments.slice(1)).toEqual([
      ['P-3', '2025-03-20', '200.00 EUR', 'nothing', '200.00 EUR'],
      ['P-2', '2025-03-10', '500.00 EUR', 'INV-2: 500.00 EUR', '0.00 EUR'],
      ['P-1', '2025-02-14', '300.00 EUR', 'INV-4: 300.00 EUR', '0.00 EUR'],
      ['Unapplied cash', '200.00 EUR'],
    ]);

    const notes = rows(section(r.body, 'Allocation notes'));
    expect(notes[1]?.slice(0, 3)).toEqual(['P-3', 'INV-999', 'UNKNOWN_INVOICE']);
  });

  it('finds a customer whose id needs percent-encoding', async () => {
    const r = await get(`/customers/${encodeURIComponent(ODD_ID)}?asOf=${ASOF}`);
    expect(r.status).toBe(200);
    expect(text(section(r.body, 'Summary'))).toContain('Overdue 3,600.00 EUR');
    const open = rows(section(r.body, 'Open items')).slice(1);
    expect(open.map((o) => [o[0], o[4], o[5]])).toEqual([
      ['B-1', '3,000.00 EUR', '90'],
      ['B-2', '600.00 EUR', '28'],
    ]);
    expect(rows(section(r.body, 'Payments'))[1]).toEqual([
      'PB-1',
      '2025-03-25',
      '1,000.00 EUR',
      'B-1: 1,000.00 EUR',
      '0.00 EUR',
    ]);
  });

  it('answers 404 for an unknown customer, run or path', async () => {
    const c = await get(`/customers/${encodeURIComponent('<nobody>')}`);
    expect(c.status).toBe(404);
    expect(c.type).toMatch(/^text\/html/);
    expect(c.body).toContain('There is no customer &quot;&lt;nobody&gt;&quot; on file.');
    expect((await get('/runs/no-such-run')).status).toBe(404);
    expect((await get('/nowhere')).status).toBe(404);
    const api = await get('/api/customers/nobody');
    expect(api.status).toBe(404);
    expect(api.type).toMatch(/^application\/json/);
    expect(JSON.parse(api.body)).toEqual({ error: 'There is no customer "nobody" on file.' });
    expect((await get('/customers/%E0%A4%A')).status).toBe(400);
  });

  it('lists the ingest runs newest first', async () => {
    const r = await get('/runs');
    expect(r.status).toBe(200);
    const body = rows(r.body).slice(1);
    // started, file, profile, kinds, status, rows read, accepted, rejected, warnings, link
    expect(body).toEqual([
      [
        '2025-03-31 08:10:00 UTC',
        'payments/2025-03.csv',
        'canonical-payments',
        'payments',
        'processed',
        '4',
        '4',
        '0',
        '1',
        'details',
      ],
      [
        '2025-03-31 08:05:00 UTC',
        'invoices/2025-03.csv',
        'canonical-invoices',
        'invoices',
        'processed',
        '10',
        '9',
        '1',
        '0',
        'details',
      ],
      [
        '2025-03-31 08:00:00 UTC',
        'customers/master.csv',
        'canonical-customers',
        'customers',
        'processed',
        '3',
        '3',
        '0',
        '0',
        'details',
      ],
    ]);
    expect(r.body).toContain(`href="/runs/${encodeURIComponent(runs.invoices?.runId as string)}"`);
  });

  it('shows a run with its warnings and its rejects', async () => {
    const inv = await get(`/runs/${encodeURIComponent(runs.invoices?.runId as string)}`);
    expect(inv.status).toBe(200);
    const rejects = rows(section(inv.body, 'Rejected rows'));
    expect(rejects).toEqual([
      ['Line', 'Column', 'Value', 'Reason'],
      ['5', 'issue_date', '2025-02-30', 'issue_date is not a real date (2025-02 has no day 30)'],
    ]);
    expect(text(inv.body)).toContain('Rejects report reports/invoices/2025-03.rejects.csv');
    expect(inv.body).not.toContain('the full list is in');

    const pay = await get(`/runs/${encodeURIComponent(runs.payments?.runId as string)}`);
    expect(text(section(pay.body, 'Warnings'))).toContain(
      'line 4: payment P-3 of customer C-001 names invoice INV-999, which is not on file',
    );
  });

  it('serves JSON twins that match the pages', async () => {
    const list = await get(`/api/customers?asOf=${ASOF}`);
    expect(list.status).toBe(200);
    expect(list.type).toMatch(/^application\/json/);
    const data = JSON.parse(list.body);
    expect(data.asOf).toBe(ASOF);
    expect(data.customers.map((c: { customerId: string }) => c.customerId)).toEqual([
      ODD_ID,
      'C-001',
      'C-003',
    ]);
    expect(data.customers[1]).toEqual({
      customerId: 'C-001',
      name: HOSTILE,
      currency: 'EUR',
      openAmount: '3870.50',
      overdueAmount: '3120.50',
      aging: {
        notDue: '750.00',
        d1_30: '120.50',
        d31_60: '2000.00',
        d61_90: '0.00',
        d91_180: '0.00',
        over180: '1000.00',
      },
      openInvoices: 4,
      maxDaysPastDue: 181,
      settledInvoices: 1,
      avgDaysLate: 10,
      unappliedCash: '200.00',
      creditLimit: '50000.00',
      dso: expect.any(Number),
      exposure: '3670.50',
      limitUse: 7.3,
    });
    expect(
      data.totals.map((t: { currency: string; overdueAmount: string }) => [t.currency, t.overdueAmount]),
    ).toEqual([
      ['EUR', '6720.50'],
      ['USD', '0.00'],
    ]);

    const one = JSON.parse((await get(`/api/customers/${encodeURIComponent(ODD_ID)}?asOf=${ASOF}`)).body);
    expect(one.asOf).toBe(ASOF);
    expect(one.customer.name).toBe('Beta Traders');
    expect(one.statement.summary).toMatchObject({
      openAmount: '3600.00',
      overdueAmount: '3600.00',
      unappliedCash: '0.00',
    });
    expect(one.line.overdueAmount).toBe('3600.00');

    const c1 = JSON.parse((await get(`/api/customers/C-001?asOf=${ASOF}`)).body);
    expect(c1.statement.summary.unappliedCash).toBe('200.00');
    expect(c1.statement.notes).toEqual([{ paymentId: 'P-3', invoiceId: 'INV-999', code: 'UNKNOWN_INVOICE' }]);

    const runList = JSON.parse((await get('/api/runs')).body);
    expect(runList.runs.map((r: IngestRun) => r.runId)).toEqual([
      runs.payments?.runId,
      runs.invoices?.runId,
      runs.customers?.runId,
    ]);

    const run = JSON.parse(
      (await get(`/api/runs/${encodeURIComponent(runs.invoices?.runId as string)}`)).body,
    );
    expect(run.run).toMatchObject({ runId: runs.invoices?.runId, rejected: 1, acceptedTotal: 9 });
    expect(run.rejects).toEqual([
      {
        line: 5,
        column: 'issue_date',
        value: '2025-02-30',
        reason: 'issue_date is not a real date (2025-02 has no day 30)',
      },
    ]);
  });

  it('sends a strict content security policy and refuses writes', async () => {
    const res = await fetch(`${con.url}/customers?asOf=${ASOF}`);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    await res.text();
    const post = await fetch(`${con.url}/customers`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.text();
  });
});

describe('the console when the queries misbehave or a run was cut', () => {
  let stub: RunningConsole;
  const cutRun: IngestRun = {
    runId: 'run-big',
    file: 'invoices/huge.csv',
    objectRef: 'test://huge',
    kinds: ['invoices'],
    profile: 'canonical-invoices',
    status: 'processed',
    rowsRead: 5000,
    accepted: { invoices: 3000 },
    acceptedTotal: 3000,
    rejected: 2000,
    warnings: [],
    rejectsFile: 's3://bucket/invoices/huge.rejects.csv',
    customersChanged: 10,
    asOf: ASOF,
    startedAt: '2025-03-31T10:00:00.000Z',
    finishedAt: '2025-03-31T10:01:00.000Z',
  };

  beforeAll(async () => {
    const queries = {
      customers: async () => {
        throw new Error('table is gone: secret-internal-detail');
      },
      customer: async () => undefined,
      runs: async () => [cutRun],
      run: async (id: string) =>
        id === 'run-big'
          ? {
              run: cutRun,
              rejects: [{ line: 2, column: 'amount', value: 'abc', reason: 'amount is not a number' }],
            }
          : undefined,
    } as unknown as ReceivablesQueries;
    stub = await startConsole({ queries, today: () => ASOF, port: 0 });
  });

  afterAll(async () => {
    await stub?.close();
  });

  it('answers 500 without the error details and logs them', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const res = await fetch(`${stub.url}/customers`);
      const body = await res.text();
      expect(res.status).toBe(500);
      expect(body).not.toContain('secret-internal-detail');
      expect(body).not.toMatch(/at .*\.ts:\d+/);
      expect(body).toContain('Something went wrong');
      expect(log).toHaveBeenCalledTimes(1);
      expect(String(log.mock.calls[0]?.[1])).toContain('secret-internal-detail');
      const api = await fetch(`${stub.url}/api/customers`);
      expect(api.status).toBe(500);
      expect(await api.json()).toEqual({
        error: 'The console could not build this page. The error was logged on the server.',
      });
    } finally {
      log.mockRestore();
    }
  });

  it('says where the full list of rejects is when the run holds only the first ones', async () => {
    const res = await fetch(`${stub.url}/runs/run-big`);
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(text(body)).toContain(
      'Showing 1 of 2,000 rejected rows; the full list is in s3://bucket/invoices/huge.rejects.csv',
    );
    expect(rows(section(body, 'Rejected rows'))[1]).toEqual(['2', 'amount', 'abc', 'amount is not a number']);
  });
});
