import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { type Harness, harness, rejectRows } from './helpers.ts';

const INV = 'invoice_id,customer_id,issue_date,due_date,amount,currency,disputed';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(async () => h.close());

describe('a file that cannot be read is reported whole', () => {
  it('empty file', async () => {
    const { run, rejects } = await h.load('empty.csv', '', { kind: 'invoices' });
    expect(run.status).toBe('unreadable');
    expect(run.reason).toBe('the file is empty');
    expect(run.acceptedTotal).toBe(0);
    expect(rejectRows(rejects)).toEqual([['0', '', '', 'the whole file was rejected: the file is empty']]);
  });

  it('binary garbage', async () => {
    const garbage = new Uint8Array(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 256;
    const { run } = await h.load('garbage.csv', garbage, { kind: 'invoices' });
    expect(run.status).toBe('unreadable');
    expect(run.reason).toMatch(/binary/);
  });

  it('a PDF or legacy .xls named .csv says what it is', async () => {
    const pdf = Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n', 'latin1');
    const { run } = await h.load('statement.csv', pdf, { kind: 'invoices' });
    expect(run.status).toBe('unreadable');
    expect(run.reason).toBe('the file is a PDF document, not CSV, JSON Lines or .xlsx');
  });

  it('missing required column names the column', async () => {
    const { run, rejects } = await h.load(
      'nocurrency.csv',
      'invoice_id,customer_id,issue_date,due_date,amount\nI1,C1,2025-01-01,2025-01-31,10.00\n',
      {
        kind: 'invoices',
      },
    );
    expect(run.status).toBe('unreadable');
    expect(run.reason).toMatch(/lacks required column currency/);
    expect(rejects).toMatch(/lacks required column currency/);
  });
});

describe('rows', () => {
  it('header only: processed, nothing written, said so', async () => {
    const { run } = await h.load('header-only.csv', `${INV}\n`, { kind: 'invoices' });
    expect(run.status).toBe('processed');
    expect(run.rowsRead).toBe(0);
    expect(run.warnings).toContain('the file has a header but no data rows');
  });

  it('extra columns are ignored and said once', async () => {
    await h.load('cx.csv', 'customer_id,name\nCX,Extra Columns Ltd\n', { kind: 'customers' });
    const text = `${INV},region,sales_rep\nX1,CX,2025-01-01,2025-01-31,10.00,USD,no,EMEA,Ann\nX2,CX,2025-01-02,2025-02-01,20.00,USD,no,EMEA,Bob\n`;
    const { run } = await h.load('extra.csv', text, { kind: 'invoices' });
    expect(run.accepted.invoices).toBe(2);
    expect(run.warnings).toEqual(['ignored columns: region, sales_rep']);
  });

  it('UTF-8 BOM and CRLF line endings', async () => {
    const text = `\uFEFF${INV}\r\nB1,CB,2025-01-01,2025-01-31,10.00,USD,no\r\nB2,CB,2025-01-01,2025-01-31,0,USD,no\r\n`;
    const { run, rejects } = await h.load('bom.csv', text, { kind: 'invoices' });
    expect(run.encoding).toBe('utf-8');
    expect(run.accepted.invoices).toBe(1);
    expect(rejectRows(rejects)).toEqual([['3', 'amount', '0', 'amount must be greater than zero']]);
  });

  it('GB18030 (Chinese Excel export) is detected and decoded', async () => {
    // "中文公司" in GB18030: D6D0 CEC4 B9AB CBBE
    const name = Buffer.from([0xd6, 0xd0, 0xce, 0xc4, 0xb9, 0xab, 0xcb, 0xbe]);
    const bytes = Buffer.concat([
      Buffer.from('customer_id,name,currency\r\nCN1,'),
      name,
      Buffer.from(',CNY\r\n'),
    ]);
    const { run } = await h.load('gb.csv', bytes, { kind: 'customers' });
    expect(run.encoding).toBe('gb18030');
    expect(run.accepted.customers).toBe(1);
    const file = await new ReceivablesQueries(h.env.store).customer('CN1', '2025-06-30');
    expect(file?.customer?.name).toBe('中文公司');
  });

  it('quoted commas and newlines keep values whole and line numbers right', async () => {
    const text = [
      'customer_id,name,country',
      'Q1,"Smith, Jones & Co",GB',
      'Q2,"Two',
      'line name",DE',
      'Q3,,FR',
      '',
    ].join('\n');
    const { run, rejects } = await h.load('quoted.csv', text, { kind: 'customers' });
    expect(run.accepted.customers).toBe(2);
    // Q3 starts on physical line 5 because Q2's name spans lines 3-4.
    expect(rejectRows(rejects)).toEqual([['5', 'name', '', 'name is required']]);
    const q = new ReceivablesQueries(h.env.store);
    expect((await q.customer('Q1', '2025-06-30'))?.customer?.name).toBe('Smith, Jones & Co');
    expect((await q.customer('Q2', '2025-06-30'))?.customer?.name).toBe('Two\nline name');
  });

  it('thousands separators: well-grouped accepted, misplaced refused', async () => {
    const text = `${INV}\nT1,CT,2025-01-01,2025-01-31,"1,234.50",USD,no\nT2,CT,2025-01-01,2025-01-31,"1,23.4",USD,no\n`;
    const { run, rejects } = await h.load('thousands.csv', text, { kind: 'invoices' });
    expect(run.accepted.invoices).toBe(1);
    expect(rejectRows(rejects)).toEqual([
      ['3', 'amount', '1,23.4', 'amount has misplaced thousands separators (USD)'],
    ]);
    const file = await new ReceivablesQueries(h.env.store).customer('CT', '2025-01-15');
    expect(file?.line.openAmount).toBe('1234.50');
  });

  it('impossible dates, zero and negative amounts, unknown currency: each rejected with its reason', async () => {
    const text = [
      INV,
      'D1,CD,2025-02-30,2025-03-30,10.00,USD,no',
      'D2,CD,2025-01-01,2025-01-31,0.00,USD,no',
      'D3,CD,2025-01-01,2025-01-31,-5.00,USD,no',
      'D4,CD,2025-01-01,2025-01-31,5.00,XYZ,no',
      'D5,CD,2025-03-01,2025-02-01,5.00,USD,no',
      'D6,CD,2025-01-01,2025-01-31,5.001,USD,maybe',
      'D7,CD,2025-01-01,2025-01-31,5.00,USD,no',
    ].join('\n');
    const { run, rejects } = await h.load('dates.csv', text, { kind: 'invoices' });
    expect(run.accepted.invoices).toBe(1);
    expect(rejectRows(rejects)).toEqual([
      ['2', 'issue_date', '2025-02-30', 'issue_date is not a real date (2025-02 has no day 30)'],
      ['3', 'amount', '0.00', 'amount must be greater than zero'],
      ['4', 'amount', "'-5.00", 'amount must be greater than zero'],
      ['5', 'currency', 'XYZ', 'currency is not an ISO 4217 currency code'],
      ['6', 'due_date', '2025-02-01', 'due_date is before issue_date 2025-03-01'],
      ['7', 'amount', '5.001', 'amount has more than 2 decimals (USD)'],
      ['7', 'disputed', 'maybe', 'disputed is not yes/no, true/false or 1/0'],
    ]);
    expect(run.rejected).toBe(7);
  });

  it('the same id twice in one file: the second is rejected, the first kept', async () => {
    const text = `${INV}\nS1,CS,2025-01-01,2025-01-31,10.00,USD,no\nS2,CS,2025-01-01,2025-01-31,20.00,USD,no\nS1,CS,2025-01-05,2025-02-04,99.00,USD,no\n`;
    const { run, rejects } = await h.load('dupes.csv', text, { kind: 'invoices' });
    expect(run.accepted.invoices).toBe(2);
    expect(rejectRows(rejects)).toEqual([
      ['4', 'invoice_id', 'S1', 'duplicate: line 2 has the same invoice_id; the first one was kept'],
    ]);
    const file = await new ReceivablesQueries(h.env.store).customer('CS', '2025-01-20');
    expect(file?.line.openAmount).toBe('30.00');
  });

  it('a payment for an unknown invoice is kept as unapplied cash and reported', async () => {
    await h.load('cu.csv', 'customer_id,name\nCU,Unknown Invoice Ltd\n', { kind: 'customers' });
    await h.load('u-inv.csv', `${INV}\nU1,CU,2025-01-01,2025-01-31,100.00,USD,no\n`, { kind: 'invoices' });
    const pays =
      'payment_id,customer_id,received_date,amount,currency,invoice_id\nUP1,CU,2025-02-10,40.00,USD,U1\nUP2,CU,2025-02-11,25.00,USD,NOPE-7\n';
    const { run } = await h.load('u-pay.csv', pays, { kind: 'payments' });
    expect(run.accepted.payments).toBe(2);
    expect(run.warnings).toEqual([
      'line 3: payment UP2 of customer CU names invoice NOPE-7, which is not on file; its amount is kept as unapplied cash',
    ]);
    const file = await new ReceivablesQueries(h.env.store).customer('CU', '2025-03-01');
    expect(file?.line.openAmount).toBe('60.00');
    expect(file?.line.unappliedCash).toBe('25.00');
  });

  it('formula-looking values are neutralised in the rejects report', async () => {
    const text = `${INV}\nF1,CF,2025-01-01,2025-01-31,=SUM(A1:A9),USD,no\nF2,CF,2025-01-01,2025-01-31,10.00,@USD,no\n`;
    const { rejects } = await h.load('formula.csv', text, { kind: 'invoices' });
    expect(rejects).not.toMatch(/(^|,)[=@]/m);
    expect(rejectRows(rejects).map((r) => r[2])).toEqual(["'=SUM(A1:A9)", "'@USD"]);
  });

  it('an unterminated quote loses only its own line', async () => {
    const text = `customer_id,name\nZ1,Fine\nZ2,"broken\nZ3,Also fine\n`;
    const { run, rejects } = await h.load('unterminated.csv', text, { kind: 'customers' });
    expect(run.status).toBe('processed');
    expect(run.accepted.customers).toBe(2);
    const rows = rejectRows(rejects);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.[0]).toBe('3');
    expect(rows[0]?.[3]).toMatch(/unterminated quoted field/);
  });

  it('a file uploaded twice changes nothing the second time', async () => {
    const text = `${INV}\nR1,CR,2025-01-01,2025-01-31,10.00,USD,no\nR2,CR,2025-02-01,2025-03-03,20.00,USD,yes\n`;
    await h.load('twice.csv', text, { kind: 'invoices' });
    const before = await h.snapshot();
    const { run } = await h.load('twice.csv', text, { kind: 'invoices' });
    expect(run.accepted.invoices).toBe(2);
    expect(await h.snapshot()).toEqual(before);
  });
});

describe('formats', () => {
  it('JSON Lines: each line validated, bad lines reported with their number', async () => {
    const text = [
      JSON.stringify({
        invoice_id: 'J1',
        customer_id: 'CJ',
        issue_date: '2025-01-01',
        due_date: '2025-01-31',
        amount: 12.5,
        currency: 'EUR',
      }),
      '{not json',
      JSON.stringify({
        invoice_id: 'J2',
        customer_id: 'CJ',
        issue_date: '2025-01-02',
        due_date: '2025-02-01',
        amount: '7.25',
        currency: 'EUR',
        disputed: true,
      }),
      JSON.stringify({
        invoice_id: 'J3',
        customer_id: 'CJ',
        issue_date: '2025-01-02',
        amount: '7.25',
        currency: 'EUR',
      }),
    ].join('\n');
    const { run, rejects } = await h.load('lines.jsonl', text, { kind: 'invoices' });
    expect(run.format).toBe('jsonl');
    expect(run.accepted.invoices).toBe(2);
    const rows = rejectRows(rejects);
    expect(rows.map((r) => [r[0], r[1], r[3]?.slice(0, 22)])).toEqual([
      ['2', '', 'not valid JSON: Expect'],
      ['4', 'due_date', 'due_date is required'],
    ]);
    const file = await new ReceivablesQueries(h.env.store).customer('CJ', '2025-01-10');
    expect(file?.line.openAmount).toBe('19.75');
    expect(file?.line.currency).toBe('EUR');
  });

  it('Excel .xlsx: dates, numbers and text cells', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Invoices');
    ws.addRow(['invoice_id', 'customer_id', 'issue_date', 'due_date', 'amount', 'currency']);
    ws.addRow([
      'X-1',
      'CXL',
      new Date(Date.UTC(2025, 0, 15)),
      new Date(Date.UTC(2025, 1, 14)),
      1500.25,
      'GBP',
    ]);
    ws.addRow(['X-2', 'CXL', new Date(Date.UTC(2025, 0, 20)), new Date(Date.UTC(2025, 1, 19)), -3, 'GBP']);
    const bytes = new Uint8Array(await wb.xlsx.writeBuffer());
    const { run, rejects } = await h.load('book.xlsx', bytes, { kind: 'invoices' });
    expect(run.format).toBe('xlsx');
    expect(run.accepted.invoices).toBe(1);
    expect(rejectRows(rejects)).toEqual([['3', 'amount', "'-3", 'amount must be greater than zero']]);
    const file = await new ReceivablesQueries(h.env.store).customer('CXL', '2025-03-01');
    expect(file?.line.overdueAmount).toBe('1500.25');
    expect(file?.statement.invoices[0]?.daysPastDue).toBe(15); // 2025-02-14 -> 2025-03-01
  });
});

describe('FX conversion into the customer credit currency', () => {
  it('converts with the rate of the invoice date, and rejects when no rate exists', async () => {
    await h.load(
      'fx-cust.csv',
      'customer_id,name,currency,credit_limit\nFXC,Euro Buyer GmbH,EUR,"50,000.00"\n',
      {
        kind: 'customers',
      },
    );
    await h.load(
      'rates.csv',
      'date,base,quote,rate\n2025-03-03,USD,EUR,0.9250\n2025-03-07,USD,EUR,0.9300\n',
      {
        kind: 'fx',
      },
    );
    const text = [
      INV,
      'FX1,FXC,2025-03-05,2025-04-04,1000.00,USD,no', // rate of 03-03 (latest on or before): 925.00 EUR
      'FX2,FXC,2025-03-08,2025-04-07,333.33,USD,no', // 333.33 * 0.93 = 309.9969 -> 310.00 EUR
      'FX3,FXC,2025-03-06,2025-04-05,50.00,GBP,no', // no GBP/EUR rate at all
      'FX4,FXC,2025-03-20,2025-04-19,10.00,USD,no', // 13 days after the last rate: too old
      'FX5,FXC,2025-03-06,2025-04-05,200.00,EUR,no',
    ].join('\n');
    const { run, rejects } = await h.load('fx-inv.csv', text, { kind: 'invoices' });
    expect(run.accepted.invoices).toBe(3);
    const rows = rejectRows(rejects);
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ['4', 'currency'],
      ['5', 'currency'],
    ]);
    expect(rows[0]?.[3]).toMatch(/has no GBP->EUR exchange rate on 2025-03-06/);
    expect(rows[1]?.[3]).toMatch(/has no USD->EUR exchange rate on 2025-03-20 or up to 7 days before/);
    const file = await new ReceivablesQueries(h.env.store).customer('FXC', '2025-03-31');
    expect(file?.line.currency).toBe('EUR');
    expect(file?.line.openAmount).toBe('1435.00'); // 925.00 + 310.00 + 200.00
    expect(file?.line.creditLimit).toBe('50000.00');
    const fx2 = file?.statement.invoices.find((i) => i.invoiceId === 'FX2');
    expect(fx2?.amount).toBe(31000);
  });

  it('uses the inverse rate when only the other direction is quoted', async () => {
    await h.load('inv-cust.csv', 'customer_id,name,currency\nUSDC,Dollar Buyer Inc,USD\n', {
      kind: 'customers',
    });
    // Only USD/EUR 0.9250 on 2025-03-03: 100.00 EUR = 100 / 0.925 = 108.108... -> 108.11 USD
    const { run } = await h.load('inv-inv.csv', `${INV}\nINVX,USDC,2025-03-04,2025-04-03,100.00,EUR,no\n`, {
      kind: 'invoices',
    });
    expect(run.accepted.invoices).toBe(1);
    const file = await new ReceivablesQueries(h.env.store).customer('USDC', '2025-03-31');
    expect(file?.line.openAmount).toBe('108.11');
  });
});

describe('invoices loaded before the master data that names the credit currency', () => {
  it('are converted from their original amounts once the currency is known, or named when they cannot be', async () => {
    await h.load(
      'early-inv.csv',
      `${INV}\nE1,EARLY,2025-04-01,2025-05-01,100.00,USD,no\nE2,EARLY,2025-04-02,2025-05-02,80.00,CHF,no\n`,
      {
        kind: 'invoices',
      },
    );
    await h.load('early-fx.csv', 'date,base,quote,rate\n2025-04-01,USD,GBP,0.80000\n', { kind: 'fx' });
    const { run } = await h.load(
      'early-cust.csv',
      'customer_id,name,currency\nEARLY,Late Master Data Ltd,GBP\n',
      {
        kind: 'customers',
      },
    );
    expect(run.warnings).toEqual([
      "customer EARLY: invoice E2 stays in CHF, outside the figures in GBP: it has no CHF->GBP exchange rate on 2025-04-02 or up to 7 days before; upload fx rates first (the customer's credit currency is GBP)",
    ]);
    const file = await new ReceivablesQueries(h.env.store).customer('EARLY', '2025-04-15');
    expect(file?.line.currency).toBe('GBP');
    expect(file?.line.openAmount).toBe('80.00'); // E1: 100.00 USD * 0.8
    expect(file?.statement.summary.otherCurrencies).toEqual([
      { currency: 'CHF', openAmount: 8000, unappliedCash: 0 },
    ]);
    // Switching the credit currency back converts from the original, not from the converted amount.
    await h.load('early-cust2.csv', 'customer_id,name,currency\nEARLY,Late Master Data Ltd,USD\n', {
      kind: 'customers',
    });
    const back = await new ReceivablesQueries(h.env.store).customer('EARLY', '2025-04-15');
    expect(back?.line.openAmount).toBe('100.00');
  });
});

describe('customers changed', () => {
  it('announces exactly the customers a file touched', async () => {
    h.messages.length = 0;
    const { run } = await h.load(
      'announce.csv',
      `${INV}\nA1,CA1,2025-01-01,2025-01-31,1.00,USD,no\nA2,CA2,2025-01-01,2025-01-31,1.00,USD,no\nA3,CA1,2025-01-01,2025-01-31,1.00,USD,no\n`,
      {
        kind: 'invoices',
      },
    );
    expect(h.messages).toEqual([
      { type: 'customers.changed', runId: run.runId, asOf: '2025-06-30', customerIds: ['CA1', 'CA2'] },
    ]);
  });
});
