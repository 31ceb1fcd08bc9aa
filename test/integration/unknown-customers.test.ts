import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile, profileForKind } from '../../functions/ingest/profile.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import { sentinel } from './cli-run.ts';
import { type Harness, harness, rejectRows } from './helpers.ts';
import { rows, text } from './pages.ts';

const INV = 'invoice_id,customer_id,issue_date,due_date,amount,currency';
const PAY = 'payment_id,customer_id,received_date,amount,currency,invoice_id';

let h: Harness;
beforeAll(async () => {
  h = await harness();
  // ACME and BOLT are on file; everything else an upload names is not.
  await h.load('customers.csv', 'customer_id,name,currency\nACME,Acme SA,EUR\nBOLT,Bolt GmbH,EUR\n', {
    kind: 'customers',
  });
});
afterAll(async () => h.close());

const invoices = (rows: [string, string][]) =>
  [INV, ...rows.map(([id, customer]) => `${id},${customer},2025-03-01,2025-03-31,100.00,EUR`)].join('\n');

describe('invoices and payments of a customer not on file', () => {
  it('are loaded, counted, and listed per customer with their lines', async () => {
    const { run, rejects, warnings } = await h.load(
      'typo.csv',
      invoices([
        ['T1', 'ACME'],
        ['T2', 'NOPE42'], // line 3
        ['T3', 'BOLT'],
        ['T4', 'NOPE42'], // line 5
        ['T5', 'NOPE42'], // line 6
        ['T6', 'ACMEE'], // line 7
      ]),
      { kind: 'invoices' },
    );
    expect(run.accepted).toEqual({ invoices: 6 });
    expect(run.rejected).toBe(0);
    expect(rejectRows(rejects)).toEqual([]);
    const report = join(h.dir, 'typo.warnings.csv');
    expect(run.warningsFile).toBe(report);
    expect(run.unknownCustomers).toEqual({
      action: 'loaded',
      customers: 2,
      rows: 4,
      listed: [
        { customerId: 'NOPE42', rows: 3, lines: '3, 5-6' },
        { customerId: 'ACMEE', rows: 1, lines: '7' },
      ],
      report,
    });
    expect(run.warnings).toEqual([
      `2 customers not on file (no customer master data): 4 rows loaded for them; correct the ids or upload their customer master data. Every row is listed in ${report}`,
      'customer NOPE42 not on file: 3 rows, lines 3, 5-6',
      'customer ACMEE not on file: 1 row, line 7',
    ]);
    expect(rejectRows(warnings)).toEqual([
      [
        '3',
        'customer_id',
        'NOPE42',
        'customer NOPE42 is not on file (no customer master data); invoice T2 was loaded',
      ],
      [
        '5',
        'customer_id',
        'NOPE42',
        'customer NOPE42 is not on file (no customer master data); invoice T4 was loaded',
      ],
      [
        '6',
        'customer_id',
        'NOPE42',
        'customer NOPE42 is not on file (no customer master data); invoice T5 was loaded',
      ],
      [
        '7',
        'customer_id',
        'ACMEE',
        'customer ACMEE is not on file (no customer master data); invoice T6 was loaded',
      ],
    ]);
    // Loaded: the phantom's books exist, so the controller sees what the typo did.
    const file = await new ReceivablesQueries(h.env.store).customer('NOPE42', '2025-03-15');
    expect(file?.line.openAmount).toBe('300.00');
    // The stored run record keeps it (what the console and `sentinel runs` read).
    const stored = await new ReceivablesQueries(h.env.store).run(run.runId);
    expect(stored?.run.unknownCustomers).toEqual(run.unknownCustomers);
  });

  it('count a payment the same way, and a clean file says nothing and leaves an empty report', async () => {
    const pays = `${PAY}\nP1,ACME,2025-03-10,50.00,EUR,T1\nP2,NOPE77,2025-03-11,20.00,EUR,\n`;
    const { run, warnings } = await h.load('pay.csv', pays, { kind: 'payments' });
    expect(run.unknownCustomers).toMatchObject({
      customers: 1,
      rows: 1,
      listed: [{ customerId: 'NOPE77', lines: '3' }],
    });
    expect(rejectRows(warnings).map((r) => r[3])).toEqual([
      'customer NOPE77 is not on file (no customer master data); payment P2 was loaded',
    ]);

    const clean = await h.load('pay.csv', `${PAY}\nP3,BOLT,2025-03-12,10.00,EUR,\n`, { kind: 'payments' });
    expect(clean.run.unknownCustomers).toBeUndefined();
    expect(clean.run.warnings).toEqual([]);
    expect(clean.warnings).toBe('line,column,value,warning\r\n'); // the stale report did not survive
  });

  it('a customer uploaded since counts as on file; one arriving later in the same row does too', async () => {
    // The invoices came first (warned); the customers file arrives; the next upload is clean.
    const early = await h.load('early.csv', invoices([['E1', 'LATER']]), { kind: 'invoices' });
    expect(early.run.unknownCustomers?.customers).toBe(1);
    await h.load('later-customers.csv', 'customer_id,name\nLATER,Later Ltd\n', { kind: 'customers' });
    const again = await h.load('early2.csv', invoices([['E2', 'LATER']]), { kind: 'invoices' });
    expect(again.run.unknownCustomers).toBeUndefined();

    // An ERP export with the customer's name on every invoice row yields both: the customer is read
    // first, whatever order the profile lists its outputs in.
    const both = parseProfile({
      name: 'erp-with-names',
      outputs: [
        {
          kind: 'invoices',
          columns: {
            invoice_id: 'Doc',
            customer_id: 'Cust',
            issue_date: 'Date',
            due_date: 'Due',
            amount: 'Total',
            currency: { value: 'EUR' },
          },
        },
        { kind: 'customers', columns: { customer_id: 'Cust', name: 'Name' } },
      ],
    });
    const erp = await h.load(
      'erp.csv',
      'Doc,Cust,Name,Date,Due,Total\nD1,NEWCO,New Co,2025-03-01,2025-03-31,10.00\nD2,NEWCO,New Co,2025-03-02,2025-04-01,20.00\n',
      { profile: both },
    );
    expect(erp.run.accepted).toEqual({ customers: 1, invoices: 2 });
    expect(erp.run.rejected).toBe(1); // the second row's customer is a duplicate key in the file
    expect(erp.run.unknownCustomers).toBeUndefined();
  });

  it('10,000 rows of one mistyped id stay readable: grouped, counted, the rest said and where', async () => {
    const rows: [string, string][] = [];
    for (let i = 0; i < 10_000; i++) rows.push([`BIG-${i}`, 'NOPE42']); // lines 2-10001
    for (let i = 0; i < 24; i++) rows.push([`ODD-${i}`, `X${i}`]); // 24 more customers, lines 10002-10025
    for (let i = 0; i < 30; i++) rows.push([`SPREAD-${i}`, i % 2 === 0 ? 'SPREAD' : 'BOLT']); // every other line
    const { run, warnings } = await h.load('big.csv', invoices(rows), { kind: 'invoices' });
    expect(run.accepted.invoices).toBe(10_054);
    const report = join(h.dir, 'big.warnings.csv');
    expect(run.unknownCustomers).toMatchObject({ action: 'loaded', customers: 26, rows: 10_039, report });
    expect(run.warnings[0]).toBe(
      `26 customers not on file (no customer master data): 10,039 rows loaded for them; correct the ids or upload their customer master data. Every row is listed in ${report}`,
    );
    expect(run.warnings[1]).toBe('customer NOPE42 not on file: 10,000 rows, lines 2-10001');
    expect(run.warnings).toHaveLength(1 + 20 + 1);
    expect(run.warnings[20]).toBe('customer X18 not on file: 1 row, line 10020');
    expect(run.warnings[21]).toBe(`and 6 more customers not on file (20 rows), listed in ${report}`);
    // Every row, in the report: 10,039 lines plus the header.
    expect(rejectRows(warnings)).toHaveLength(10_039);
    const spread = rejectRows(warnings).filter((r) => r[2] === 'SPREAD');
    expect(spread.map((r) => r[0])).toEqual(Array.from({ length: 15 }, (_, i) => String(10_026 + 2 * i)));
  });

  it('a customer with scattered lines shows its first ten ranges and how many more', async () => {
    const rows: [string, string][] = [];
    for (let i = 0; i < 30; i++) rows.push([`S-${i}`, i % 2 === 0 ? 'SCATTER' : 'ACME']);
    const { run } = await h.load('scatter.csv', invoices(rows), { kind: 'invoices' });
    expect(run.unknownCustomers?.listed).toEqual([
      { customerId: 'SCATTER', rows: 15, lines: '2, 4, 6, 8, 10, 12, 14, 16, 18, 20 and 5 more' },
    ]);
  });
});

describe('a profile that says "unknownCustomers": "reject"', () => {
  const strict = parseProfile({ name: 'strict', unknownCustomers: 'reject', thousands: ',' });

  it('rejects exactly those rows, each with its line and reason, and loads the rest', async () => {
    const { run, rejects, warnings } = await h.load(
      'strict.csv',
      invoices([
        ['R1', 'ACME'],
        ['R2', 'NOPE42'], // line 3
        ['R3', 'BOLT'],
        ['R4', 'NOPE42'], // line 5
      ]),
      { profile: profileForKind(strict, 'invoices') },
    );
    expect(run.accepted).toEqual({ invoices: 2 });
    expect(run.rejected).toBe(2);
    const reason =
      'customer_id is not on file (no customer master data for NOPE42); the profile rejects such rows ("unknownCustomers": "reject"): upload the customer first, or correct the id';
    expect(rejectRows(rejects)).toEqual([
      ['3', 'customer_id', 'NOPE42', reason],
      ['5', 'customer_id', 'NOPE42', reason],
    ]);
    expect(rejectRows(warnings)).toEqual([]);
    const report = join(h.dir, 'strict.rejects.csv');
    expect(run.unknownCustomers).toEqual({
      action: 'rejected',
      customers: 1,
      rows: 2,
      listed: [{ customerId: 'NOPE42', rows: 2, lines: '3, 5' }],
      report,
    });
    expect(run.warnings).toEqual([
      `1 customer not on file (no customer master data): 2 rows rejected, as the profile says "unknownCustomers": "reject". Every row is listed in ${report}`,
      'customer NOPE42 not on file: 2 rows, lines 3, 5',
    ]);
    const queries = new ReceivablesQueries(h.env.store);
    expect(
      (await queries.customer('ACME', '2025-03-15'))?.statement.invoices.map((i) => i.invoiceId),
    ).toContain('R1');
    expect(
      (await queries.customer('NOPE42', '2025-03-15'))?.statement.invoices.map((i) => i.invoiceId),
    ).not.toContain('R2');
  });

  it('rejects payments of an unknown customer too', async () => {
    const { run, rejects } = await h.load(
      'strict-pay.csv',
      `${PAY}\nSP1,GHOST,2025-03-10,50.00,EUR,\nSP2,BOLT,2025-03-10,50.00,EUR,\n`,
      { profile: profileForKind(strict, 'payments') },
    );
    expect(run.accepted).toEqual({ payments: 1 });
    expect(rejectRows(rejects).map((r) => [r[0], r[1], r[2]])).toEqual([['2', 'customer_id', 'GHOST']]);
  });
});

describe('where a person reads it', () => {
  let con: RunningConsole;
  let runId = '';
  beforeAll(async () => {
    const { run } = await h.load(
      'invoices-march.csv',
      invoices([
        ['W1', 'ACME'],
        ['W2', 'NOPE42'],
      ]),
      { kind: 'invoices' },
    );
    runId = run.runId;
    con = await startConsole({
      queries: new ReceivablesQueries(h.env.store),
      today: () => '2025-03-31',
      port: 0,
    });
  });
  afterAll(async () => con?.close());

  it("the console's run page counts the customers not on file and lists them in the warnings", async () => {
    const res = await fetch(`${con.url}/runs/${encodeURIComponent(runId)}`);
    expect(res.status).toBe(200);
    const page = text(await res.text());
    expect(page).toContain('Customers not on file 1 (1 row loaded; see the warnings)');
    expect(page).toContain(`Warnings report ${join(h.dir, 'invoices-march.warnings.csv')}`);
    expect(page).toContain('Warnings (2)');
    expect(page).toContain('customer NOPE42 not on file: 1 row, line 3');
    // The runs list counts them among the warnings (started, file, profile, kinds, status, rows read,
    // accepted, rejected, warnings).
    const list = await (await fetch(`${con.url}/runs`)).text();
    expect(
      rows(list)
        .find((r) => r[1] === 'invoices-march.csv')
        ?.slice(5, 9),
    ).toEqual(['2', '2', '0', '2']);
    const api = (await (await fetch(`${con.url}/api/runs/${encodeURIComponent(runId)}`)).json()) as {
      run: { unknownCustomers: unknown };
    };
    expect(api.run.unknownCustomers).toMatchObject({
      customers: 1,
      rows: 1,
      listed: [{ customerId: 'NOPE42' }],
    });
  });

  it('sentinel ingest says it, and --json carries it', async () => {
    await writeFile(join(h.dir, 'cli.csv'), invoices([['K1', 'NOPE42']]));
    const data = join(h.dir, 'cli-data');
    const human = await sentinel(['ingest', 'cli.csv', '--kind', 'invoices', '--data-dir', data], h.dir);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(
      'cli.csv: 1 accepted (invoices 1), 0 rejected; 1 customers updated; 1 customer not on file (1 row loaded)',
    );
    expect(human.stdout).toContain('  warnings report: cli.warnings.csv');
    expect(human.stdout).toContain('  note: customer NOPE42 not on file: 1 row, line 2');
    const json = await sentinel(
      ['ingest', 'cli.csv', '--kind', 'invoices', '--json', '--data-dir', data],
      h.dir,
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      warningsFile: 'cli.warnings.csv',
      unknownCustomers: {
        action: 'loaded',
        customers: 1,
        rows: 1,
        listed: [{ customerId: 'NOPE42', rows: 1, lines: '2' }],
      },
      warnings: expect.arrayContaining(['customer NOPE42 not on file: 1 row, line 2']),
    });
  });
});
