import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../functions/ingest/limits.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { type Harness, harness, rejectRows } from './helpers.ts';

// Each poison case of issue 14 on the real pipeline and dynalite: the good rows land, the bad row
// is reported with its line and a short reason, and the run record is stored.
const HEAD = 'customer_id,name,currency,credit_limit';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(async () => h.close());

async function storedRun(runId: string) {
  const out = await h.env.store.client.send(
    new QueryCommand({
      TableName: h.env.store.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `RUN#${runId}` } },
    }),
  );
  return (out.Items ?? []).map((i) => unmarshall(i));
}

describe('an oversized value is a rejected row, not a failed run', () => {
  it('a 450 KB customer name: the row is rejected with an excerpt, the others stored', async () => {
    const name = 'N'.repeat(450_000);
    const { run, rejects } = await h.load(
      'customers.csv',
      `${HEAD}\nP1,Good,EUR,1000\nP2,${name},EUR,10\nP3,Fine,EUR,5\n`,
      {
        kind: 'customers',
      },
    );
    expect(run.status).toBe('processed');
    expect(run.acceptedTotal).toBe(2);
    expect(run.rejected).toBe(1);
    const rows = rejectRows(rejects);
    expect(rows).toHaveLength(1);
    const [line, column, value, reason] = rows[0] as string[];
    expect([line, column]).toEqual(['3', 'name']);
    expect(value).toBe(`${'N'.repeat(80)}… (450,000 characters; the limit is 32,768)`);
    expect(reason).toBe('the cell is 450,000 characters long; the limit is 32,768: the row was skipped');
    expect(rejects.length).toBeLessThan(1000);
    const items = await storedRun(run.runId);
    expect(items.find((i) => i.sk === 'RUN')?.rejected).toBe(1);
    const q = new ReceivablesQueries(h.env.store);
    expect((await q.customer('P1', '2025-06-30'))?.customer?.name).toBe('Good');
    expect((await q.customer('P3', '2025-06-30'))?.customer?.name).toBe('Fine');
  });

  it('a cell at the limit is read (here in a column the profile ignores)', async () => {
    const notes = 'L'.repeat(LIMITS.cellChars);
    const { run } = await h.load('limit.csv', `${HEAD},notes\nQ1,Q,EUR,1,${notes}\n`, { kind: 'customers' });
    expect(run.acceptedTotal).toBe(1);
    expect(run.rejected).toBe(0);
  });

  it('a 50 MB quoted cell: over the line bound, skipped to its end; reading goes on', async () => {
    const big = 'z'.repeat(50 * 1024 * 1024);
    const { run, rejects } = await h.load(
      'bigcell.csv',
      `${HEAD}\nR1,Good,EUR,1\nR2,"${big}",EUR,1\nR3,Fine,EUR,1\n`,
      {
        kind: 'customers',
      },
    );
    expect(run.acceptedTotal).toBe(2);
    expect(rejectRows(rejects)).toEqual([
      [
        '3',
        '',
        '',
        'the line is longer than the limit of 1,048,576 characters: it was skipped up to its end',
      ],
    ]);
    expect((await storedRun(run.runId)).some((i) => i.sk === 'RUN')).toBe(true);
  });

  it('a 50 MB file without a newline: the header is refused, the file rejected whole', async () => {
    const { run } = await h.load('nonewline.csv', 'c'.repeat(50 * 1024 * 1024), { kind: 'customers' });
    expect(run.status).toBe('unreadable');
    expect(run.reason).toMatch(
      /^the header line is at least [\d,]+ characters long, over the limit of 64 KB/,
    );
    expect((await storedRun(run.runId)).some((i) => i.sk === 'RUN')).toBe(true);
  });

  it('a 50 MB data line without a newline after a good row', async () => {
    const { run, rejects } = await h.load(
      'tail.csv',
      `${HEAD}\nS1,Good,EUR,1\nS2,${'y'.repeat(50 * 1024 * 1024)}`,
      {
        kind: 'customers',
      },
    );
    expect(run.acceptedTotal).toBe(1);
    expect(rejectRows(rejects)[0]?.[0]).toBe('3');
  });

  it('a header of 600 columns is refused whole, and the reason does not repeat the header', async () => {
    const header = Array.from({ length: 600 }, (_, i) => `col${i}`).join(',');
    const { run } = await h.load('wide.csv', `${header}\n1\n`, { kind: 'customers' });
    expect(run.status).toBe('unreadable');
    expect(run.reason).toBe('the header has 600 columns, over the limit of 500');
  });

  it('JSON Lines: an oversized string is a rejected row naming its field', async () => {
    const lines = [
      JSON.stringify({ customer_id: 'J1', name: 'Good', currency: 'EUR', credit_limit: 1 }),
      JSON.stringify({ customer_id: 'J2', name: 'q'.repeat(100_000), currency: 'EUR', credit_limit: 1 }),
      JSON.stringify({ customer_id: 'J3', name: 'Fine', currency: 'EUR', credit_limit: 1 }),
    ];
    const { run, rejects } = await h.load('c.jsonl', `${lines.join('\n')}\n`, { kind: 'customers' });
    expect(run.acceptedTotal).toBe(2);
    const [line, column, , reason] = rejectRows(rejects)[0] as string[];
    expect([line, column, reason]).toEqual([
      '2',
      'name',
      'the cell is 100,000 characters long; the limit is 32,768: the row was skipped',
    ]);
  });

  it('xlsx: an oversized cell is a rejected row', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('customers');
    ws.addRow(['customer_id', 'name', 'currency', 'credit_limit']);
    ws.addRow(['X1', 'Good', 'EUR', 1]);
    ws.addRow(['X2', 'w'.repeat(40_000), 'EUR', 1]);
    const bytes = Buffer.from(await wb.xlsx.writeBuffer());
    const { run, rejects } = await h.load('c.xlsx', bytes, { kind: 'customers' });
    expect(run.acceptedTotal).toBe(1);
    expect(rejectRows(rejects)[0]?.slice(0, 2)).toEqual(['3', 'name']);
  });

  it('xlsx: a workbook whose shared strings unpack past the bound is refused before it is read', async () => {
    const { zipOf } = await import('./zip-fixture.ts');
    const bytes = await zipOf({ 'xl/sharedStrings.xml': LIMITS.sharedStringsBytes + 1 });
    const { run } = await h.load('bomb.xlsx', bytes, { kind: 'customers' });
    expect(run.status).toBe('unreadable');
    expect(run.reason).toMatch(/^the workbook's shared strings unpack to 100 MB, over the limit of 100 MB/);
  });

  it('the stored run record fits the item size however many long warnings a file gives', async () => {
    const { fitRun, RUN_RECORD_BYTES } = await import('../../functions/ingest/limits.ts');
    const warnings = Array.from({ length: 100 }, (_, i) => `${i}: ${'w'.repeat(10_000)}`);
    const fitted = fitRun({ reason: 'r'.repeat(500_000), warnings, unknownCustomers: undefined });
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(RUN_RECORD_BYTES);
    expect(fitted.warnings.at(-1)).toMatch(/^the run record was cut to fit the store's item size/);
  });
});
