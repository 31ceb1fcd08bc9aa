import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProfileCatalog } from '../../functions/ingest/uploads.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { type Harness, harness } from './helpers.ts';

/** Real data nobody on the project wrote (test/fixtures/datasets, with its README). */
const FILE = resolve(
  import.meta.dirname,
  '../fixtures/datasets/ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv',
);

interface Row {
  customer: string;
  invoice: string;
  issued: string;
  due: string;
  settled: string;
  cents: number;
  daysLate: number;
  daysToSettle: number;
}

/** An independent reading of the file (no quotes in it), US dates to ISO, amounts to cents. */
function readSample(text: string): Row[] {
  const iso = (us: string) => {
    const [m, d, y] = us.split('/');
    return `${y}-${m?.padStart(2, '0')}-${d?.padStart(2, '0')}`;
  };
  const [header, ...lines] = text.trim().split(/\r?\n/);
  const col = (name: string) => (header as string).split(',').indexOf(name);
  return lines.map((l) => {
    const c = l.split(',');
    const [units, frac = ''] = (c[col('InvoiceAmount')] as string).split('.');
    return {
      customer: c[col('customerID')] as string,
      invoice: c[col('invoiceNumber')] as string,
      issued: iso(c[col('InvoiceDate')] as string),
      due: iso(c[col('DueDate')] as string),
      settled: iso(c[col('SettledDate')] as string),
      cents: Number(units) * 100 + Number(frac.padEnd(2, '0')),
      daysLate: Number(c[col('DaysLate')]),
      daysToSettle: Number(c[col('DaysToSettle')]),
    };
  });
}

const dayMs = 86_400_000;
const days = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / dayMs;
const cents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;

let h: Harness;
let rows: Row[];
let queries: ReceivablesQueries;

beforeAll(async () => {
  h = await harness();
  const bytes = await readFile(FILE);
  rows = readSample(bytes.toString('utf8'));
  const profile = new ProfileCatalog().get('ibm-accounts-receivable');
  const { run, rejects } = await h.load('ibm.csv', bytes, { profile, now: '2014-01-31T12:00:00Z' });
  expect(run.status).toBe('processed');
  expect(run.rejected).toBe(0);
  expect(rejects.trim()).toBe('line,column,value,reason');
  expect(run.accepted).toEqual({ invoices: 2466, payments: 2466 });
  // The sample has no customer master data: every row is loaded, and the run says so once per
  // customer (the invoice and its settlement come from one line, which counts once).
  expect(run.unknownCustomers).toMatchObject({ action: 'loaded', customers: 100, rows: 2466 });
  expect(run.unknownCustomers?.listed).toHaveLength(20);
  queries = new ReceivablesQueries(h.env.store);
});
afterAll(async () => h.close());

describe('IBM accounts-receivable sample through its profile', () => {
  it('reads 2,466 invoices of 100 customers worth 147,703.18', () => {
    expect(rows).toHaveLength(2466);
    expect(new Set(rows.map((r) => r.customer)).size).toBe(100);
    expect(rows.reduce((a, r) => a + r.cents, 0)).toBe(14_770_318);
  });

  it("matches the file's own DaysLate and DaysToSettle on every invoice", async () => {
    const byCustomer = Map.groupBy(rows, (r) => r.customer);
    let checked = 0;
    for (const [customer, own] of byCustomer) {
      const file = await queries.customer(customer, '2014-12-31');
      const mine = new Map(file?.statement.invoices.map((i) => [i.invoiceId, i]));
      for (const r of own) {
        const s = mine.get(r.invoice);
        expect(s?.settledDate, `${r.invoice} settled`).toBe(r.settled);
        expect(s?.daysLate, `${r.invoice} days late`).toBe(r.daysLate);
        expect(s?.daysToSettle, `${r.invoice} days to settle`).toBe(r.daysToSettle);
        checked++;
      }
    }
    expect(checked).toBe(2466);
  });

  for (const asOf of ['2012-06-30', '2013-06-30', '2013-12-31']) {
    it(`receivables as of ${asOf} equal a recomputation from the file alone`, async () => {
      const expected = new Map<
        string,
        { open: number; overdue: number; buckets: number[]; late: number[]; maxDpd: number; n: number }
      >();
      for (const r of rows) {
        if (r.issued > asOf) continue;
        const e = expected.get(r.customer) ?? {
          open: 0,
          overdue: 0,
          buckets: [0, 0, 0, 0, 0, 0],
          late: [],
          maxDpd: 0,
          n: 0,
        };
        expected.set(r.customer, e);
        if (r.settled <= asOf) {
          e.late.push(Math.max(0, days(r.due, r.settled)));
          continue;
        }
        const dpd = days(r.due, asOf);
        const b = dpd <= 0 ? 0 : dpd <= 30 ? 1 : dpd <= 60 ? 2 : dpd <= 90 ? 3 : dpd <= 180 ? 4 : 5;
        e.open += r.cents;
        e.n++;
        (e.buckets[b] as number) += r.cents;
        if (dpd > 0) e.overdue += r.cents;
        e.maxDpd = Math.max(e.maxDpd, dpd);
      }
      const { lines } = await queries.customers(asOf);
      const got = new Map(lines.map((l) => [l.customerId, l]));
      let compared = 0;
      for (const [customer, e] of expected) {
        const l = got.get(customer);
        expect(l, customer).toBeDefined();
        expect(l?.openAmount, `${customer} open`).toBe(cents(e.open));
        expect(l?.overdueAmount, `${customer} overdue`).toBe(cents(e.overdue));
        expect(
          [
            l?.aging.notDue,
            l?.aging.d1_30,
            l?.aging.d31_60,
            l?.aging.d61_90,
            l?.aging.d91_180,
            l?.aging.over180,
          ],
          `${customer} aging`,
        ).toEqual(e.buckets.map(cents));
        expect(l?.openInvoices).toBe(e.n);
        expect(l?.maxDaysPastDue).toBe(e.maxDpd);
        expect(l?.settledInvoices).toBe(e.late.length);
        const mean =
          e.late.length === 0
            ? null
            : Math.round((e.late.reduce((a, b) => a + b, 0) / e.late.length) * 100) / 100;
        expect(l?.avgDaysLate, `${customer} avg days late`).toBe(mean);
        compared++;
      }
      expect(compared).toBeGreaterThan(50);
    });
  }

  it('the same as-of date gives the same figures twice', async () => {
    expect(await queries.customers('2013-03-15')).toEqual(await queries.customers('2013-03-15'));
  });
});
