import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { InboxObjectStore } from '../../infra/local/runtime/files.ts';
import { localContext, localIngestHandler, s3SqsEvent } from '../../infra/local/runtime/inbox.ts';
import { localMetrics } from '../../infra/local/runtime/metrics.ts';
import { type Harness, harness, rejectRows } from './helpers.ts';

let h: Harness;
let queries: ReceivablesQueries;
beforeAll(async () => {
  h = await harness();
  queries = new ReceivablesQueries(h.env.store);
  await h.load('xl-customers.csv', 'customer_id,name,currency\nXL,Excel Formulas Ltd,EUR\n', {
    kind: 'customers',
  });
});
afterAll(async () => h.close());

/** The amounts (minor units) of a customer's invoices, by invoice id. */
async function amounts(customerId: string, asOf = '2025-04-30'): Promise<Record<string, number>> {
  const file = await queries.customer(customerId, asOf);
  return Object.fromEntries((file?.statement.invoices ?? []).map((i) => [i.invoiceId, i.amount]));
}

describe('numbers Excel computed', () => {
  it('a formula result within floating-point error of a cent is that amount; a real third decimal is refused', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Invoices');
    ws.addRow(['invoice_id', 'customer_id', 'issue_date', 'due_date', 'net', 'amount', 'currency']);
    const day = (d: number) => new Date(Date.UTC(2025, 2, d));
    // Excel stores the result of each formula next to it; these are the doubles it stores.
    const rows: [string, number, ExcelJS.CellValue][] = [
      ['F-1', 100, { formula: 'E2*1.1', result: 100 * 1.1 }], // shows 110.00, stored 110.00000000000001
      ['F-2', 0.1, { formula: 'E3+0.2', result: 0.1 + 0.2 }], // shows 0.30, stored 0.30000000000000004
      ['F-3', 999.99, { formula: 'E4*3', result: 999.99 * 3 }], // 2999.9700000000003
      ['F-4', 1000, 110.005], // typed with a third decimal
      ['F-5', 100, { formula: 'E6/3', result: 100 / 3 }], // 33.333...: not a whole cent
      ['F-6', 100, '110.00000000000001'], // text, not a number: never rounded
    ];
    rows.forEach(
      ([id, net, amount], i) => void ws.addRow([id, 'XL', day(1 + i), day(31), net, amount, 'EUR']),
    );
    const bytes = new Uint8Array(await wb.xlsx.writeBuffer());
    const { run, rejects } = await h.load('formulas.xlsx', bytes, { kind: 'invoices' });
    expect(run.format).toBe('xlsx');
    expect(run.accepted).toEqual({ invoices: 3 });
    expect(rejectRows(rejects)).toEqual([
      ['5', 'amount', '110.005', 'amount has more than 2 decimals (EUR)'],
      ['6', 'amount', '33.333333333333336', 'amount has more than 2 decimals (EUR)'],
      ['7', 'amount', '110.00000000000001', 'amount has more than 2 decimals (EUR)'],
    ]);
    expect(await amounts('XL')).toEqual({ 'F-1': 11000, 'F-2': 30, 'F-3': 299997 });
  });

  it('JSON Lines numbers get the same tolerance; the same digits as a string do not', async () => {
    const line = (id: string, amount: unknown) =>
      JSON.stringify({
        invoice_id: id,
        customer_id: 'XL',
        issue_date: '2025-03-10',
        due_date: '2025-04-09',
        amount,
        currency: 'EUR',
      });
    const text = [
      line('J-1', 100 * 1.1),
      line('J-2', '110.00000000000001'),
      line('J-3', 0.1 + 0.2),
      line('J-4', 12.345),
    ].join('\n');
    expect(text).toContain('"amount":110.00000000000001');
    const { run, rejects } = await h.load('numbers.jsonl', text, { kind: 'invoices' });
    expect(run.accepted).toEqual({ invoices: 2 });
    expect(rejectRows(rejects).map((r) => [r[0], r[2], r[3]])).toEqual([
      ['2', '110.00000000000001', 'amount has more than 2 decimals (EUR)'],
      ['4', '12.345', 'amount has more than 2 decimals (EUR)'],
    ]);
    expect(await amounts('XL')).toMatchObject({ 'J-1': 11000, 'J-3': 30 });
  });
});

describe('European semicolon exports through the shipped profile eu-semicolon', () => {
  let root: string;
  let handler: ReturnType<typeof localIngestHandler>;

  /** Drops a file into the inbox and hands it to the ingest handler, as the inbox watcher does. */
  async function drop(key: string, bytes: Uint8Array): Promise<void> {
    await mkdir(dirname(join(root, key)), { recursive: true });
    await writeFile(join(root, key), bytes);
    const res = await handler(s3SqsEvent(key, bytes.length, `v-${key}`), localContext());
    expect(res).toEqual({ batchItemFailures: [] });
  }
  const runOf = async (file: string) => (await queries.runs(100)).find((r) => r.file === file);
  const report = (key: string) => readFile(join(root, key), 'utf8');
  const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sentinel-eu-'));
    handler = localIngestHandler(
      h.env,
      new InboxObjectStore(root),
      { customersChanged: async () => undefined },
      'UTC',
      localMetrics(join(root, '.metrics'), 'ingest'),
    );
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('loads customers (Windows-1252), invoices (UTF-8 with BOM) and payments with the right minor units', async () => {
    // A German Excel "CSV (Trennzeichen-getrennt)" export: Windows-1252, CRLF, 50.000,00.
    const customers = crlf([
      'customer_id;name;country;currency;payment_terms_days;credit_limit',
      'DE-100;Müller Maschinenbau GmbH;DE;EUR;30;50.000,00',
      "FR-200;Société Générale d'Équipement;FR;EUR;45;12.500",
    ]);
    await drop(
      'profile/eu-semicolon/customers/stammdaten.csv',
      new Uint8Array(Buffer.from(customers, 'latin1')),
    );
    const cust = await runOf('profile/eu-semicolon/customers/stammdaten.csv');
    expect(cust).toMatchObject({
      profile: 'eu-semicolon',
      kinds: ['customers'],
      encoding: 'windows-1252',
      rejected: 0,
    });
    expect(cust?.accepted).toEqual({ customers: 2 });

    const invoices = crlf([
      'invoice_id;customer_id;issue_date;due_date;amount;currency;disputed',
      'R-1;DE-100;1.3.2025;31.3.2025;1.234,56;EUR;',
      'R-2;DE-100;15.3.2025;14.4.2025;99,9;EUR;',
      'R-3;FR-200;3.3.2025;2.4.2025;12.000;EUR;',
      'R-4;FR-200;1.3.2025;31.3.2025;"1.234.567,89";EUR;ja',
      'R-5;FR-200;31.2.2025;31.3.2025;10,00;EUR;',
      'R-6;FR-200;1.3.2025;31.3.2025;1.234,567;EUR;',
    ]);
    await drop(
      'profile/eu-semicolon/invoices/märz.csv',
      new Uint8Array(Buffer.from(`\uFEFF${invoices}`, 'utf8')),
    );
    const inv = await runOf('profile/eu-semicolon/invoices/märz.csv');
    expect(inv).toMatchObject({ encoding: 'utf-8', accepted: { invoices: 4 }, rejected: 2 });
    expect(inv?.unknownCustomers).toBeUndefined();
    expect(rejectRows(await report('profile/eu-semicolon/invoices/märz.rejects.csv'))).toEqual([
      ['6', 'issue_date', '31.2.2025', 'issue_date is not a real date (2025-02 has no day 31)'],
      ['7', 'amount', '1.234,567', 'amount has more than 2 decimals (EUR)'],
    ]);
    expect(await report('profile/eu-semicolon/invoices/märz.warnings.csv')).toBe(
      'line,column,value,warning\r\n',
    );

    const payments = crlf([
      'payment_id;customer_id;received_date;amount;currency;invoice_id',
      'Z-1;DE-100;20.3.2025;1.000,00;EUR;R-1',
      'Z-2;FR-200;1.4.2025;500,5;EUR;',
    ]);
    await drop('profile/eu-semicolon/payments/zahlungen.csv', new Uint8Array(Buffer.from(payments, 'utf8')));
    expect(await runOf('profile/eu-semicolon/payments/zahlungen.csv')).toMatchObject({
      accepted: { payments: 2 },
      rejected: 0,
    });

    expect(await amounts('DE-100')).toEqual({ 'R-1': 123456, 'R-2': 9990 });
    expect(await amounts('FR-200')).toEqual({ 'R-3': 1200000, 'R-4': 123456789 });
    const de = await queries.customer('DE-100', '2025-03-31');
    expect(de?.customer?.name).toBe('Müller Maschinenbau GmbH');
    expect(de?.line.creditLimit).toBe('50000.00');
    expect(de?.line.openAmount).toBe('334.46'); // 1,234.56 - 1,000.00 + 99.90
    const fr = await queries.customer('FR-200', '2025-03-31');
    expect(fr?.customer?.name).toBe("Société Générale d'Équipement");
    expect(fr?.statement.invoices.find((i) => i.invoiceId === 'R-4')?.disputed).toBe(true);
  });

  it('a file under profile/eu-semicolon/ without a kind folder is refused whole, saying where it goes', async () => {
    await drop('profile/eu-semicolon/export.csv', new Uint8Array(Buffer.from('a;b\r\n1;2\r\n')));
    const run = await runOf('profile/eu-semicolon/export.csv');
    expect(run?.status).toBe('unreadable');
    expect(run?.reason).toMatch(
      /^profile eu-semicolon reads the canonical columns of any kind: put the file under profile\/eu-semicolon\/<kind>\//,
    );
  });

  it('the same export dropped in invoices/ is refused row by row, each amount saying which setting reads it', async () => {
    const invoices = crlf([
      'invoice_id;customer_id;issue_date;due_date;amount;currency',
      'D-1;DE-100;2025-03-01;2025-03-31;1.234,56;EUR',
      'D-2;DE-100;2025-03-01;2025-03-31;1234,56;EUR',
      'D-3;DE-100;2025-03-01;2025-03-31;1,234;EUR', // a valid group of three: thousands, 1,234.00
    ]);
    await drop('invoices/eu-export.csv', new Uint8Array(Buffer.from(invoices, 'utf8')));
    const rejects = rejectRows(await report('invoices/eu-export.rejects.csv'));
    expect(rejects).toEqual([
      [
        '2',
        'amount',
        '1.234,56',
        'amount "1.234,56" has a decimal comma: set "decimal": "," (with "thousands": ".") in a mapping profile, or load the file with the shipped profile eu-semicolon',
      ],
      [
        '3',
        'amount',
        '1234,56',
        'amount "1234,56" has a decimal comma: set "decimal": "," in a mapping profile, or load the file with the shipped profile eu-semicolon',
      ],
    ]);
    expect(await amounts('DE-100')).toMatchObject({ 'D-3': 123400 });
  });
});
