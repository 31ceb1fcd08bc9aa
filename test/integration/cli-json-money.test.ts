import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minorDigits } from '../../functions/core/currencies.ts';
import { MONEY_FIELDS } from '../../functions/core/money-json.ts';
import { sentinel } from './cli-run.ts';

/**
 * Every `--json` of the CLI writes amounts as the API does (README "Money in the API", issue 15
 * item 7): plain decimal strings in major units beside their currency, never minor units. A book
 * in EUR (2 decimals) and JPY (none), the figures worked out by hand:
 *
 * - ACME, limit 50,000.00 EUR: A1 12,345.67 paid with 13,000.00 (654.33 unapplied cash), A2
 *   1,000.00 open, due 2025-03-31.
 * - YEN, limit 3,000,000 JPY: Y1 250,000 JPY open, due 2025-03-03.
 */

let dir: string;
const data = () => join(dir, 'data');
const AS_OF = '2025-03-15';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-json-money-'));
  for (const kind of ['customers', 'invoices', 'payments']) await mkdir(join(dir, kind));
  await writeFile(
    join(dir, 'customers', 'c.csv'),
    [
      'customer_id,name,currency,credit_limit,payment_terms_days',
      'ACME,Acme GmbH,EUR,50000.00,30',
      'YEN,Yen KK,JPY,3000000,30',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'invoices', 'i.csv'),
    [
      'invoice_id,customer_id,issue_date,due_date,amount,currency',
      'A1,ACME,2025-01-10,2025-02-09,12345.67,EUR',
      'A2,ACME,2025-03-01,2025-03-31,1000.00,EUR',
      'Y1,YEN,2025-02-01,2025-03-03,250000,JPY',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'payments', 'p.csv'),
    'payment_id,customer_id,received_date,amount,currency,invoice_id\nP1,ACME,2025-02-20,13000.00,EUR,A1\n',
  );
  const r = await sentinel(
    ['ingest', 'customers/c.csv', 'invoices/i.csv', 'payments/p.csv', '--data-dir', data()],
    dir,
  );
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function json(...args: string[]): Promise<unknown> {
  const r = await sentinel([...args, '--json', '--data-dir', data()], dir);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout);
}

/**
 * Every integer under an amount's name with a currency in scope (its object's or an enclosing
 * one's), by path: what a minor-unit amount looks like. The API's own rule (moneyAsDecimals).
 */
function minorUnits(value: unknown, path = '$', currency?: string): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => minorUnits(v, `${path}[${i}]`, currency));
  if (value === null || typeof value !== 'object') return [];
  const own = (value as { currency?: unknown }).currency;
  const ccy = typeof own === 'string' && minorDigits(own) !== undefined ? own : currency;
  return Object.entries(value).flatMap(([k, v]) =>
    typeof v === 'number' &&
    Number.isInteger(v) &&
    ccy !== undefined &&
    (MONEY_FIELDS.has(k) || k === 'aging')
      ? [`${path}.${k} = ${v}`]
      : k === 'aging' && v && typeof v === 'object' && ccy !== undefined
        ? Object.entries(v)
            .filter(([, x]) => typeof x === 'number')
            .map(([b, x]) => `${path}.aging.${b} = ${x}`)
        : minorUnits(v, `${path}.${k}`, ccy),
  );
}

describe('sentinel --json: amounts as decimal strings, as the API writes them', () => {
  it('customer ID --json and customer ID --explain --json', async () => {
    const acme = (await json('customer', 'ACME', '--as-of', AS_OF)) as Record<string, unknown>;
    expect(acme).toMatchObject({
      customerId: 'ACME',
      currency: 'EUR',
      openAmount: '1000.00',
      overdueAmount: '0.00',
      unappliedCash: '654.33',
      creditLimit: '50000.00',
    });
    expect(minorUnits(acme)).toEqual([]);

    const explained = (await json('customer', 'ACME', '--explain', '--as-of', AS_OF)) as {
      assessment: { currency: string; limit: { currency: string; current: unknown; recommended: unknown } };
    };
    expect(explained.assessment.currency).toBe('EUR');
    expect(explained.assessment.limit).toMatchObject({ currency: 'EUR', current: '50000.00' });
    expect(explained.assessment.limit.recommended).toMatch(/^\d+\.\d\d$/);
    expect(minorUnits(explained)).toEqual([]);

    const yen = (await json('customer', 'YEN', '--explain', '--as-of', AS_OF)) as typeof explained;
    // JPY has no minor unit: 3,000,000 JPY is "3000000", not 300000000 nor "3000000.00".
    expect(yen.assessment.limit).toMatchObject({ currency: 'JPY', current: '3000000' });
    expect(minorUnits(yen)).toEqual([]);
    const y = (await json('customer', 'YEN', '--as-of', AS_OF)) as Record<string, unknown>;
    expect(y).toMatchObject({ openAmount: '250000', overdueAmount: '250000', creditLimit: '3000000' });
  }, 120_000);

  it('evaluate --json (live and what-if), alerts --json and review run --dry-run --json', async () => {
    const live = await json('evaluate');
    expect(minorUnits(live)).toEqual([]);
    const alerts = (await json('alerts')) as {
      customerId: string;
      rule: string;
      currency: string;
      facts: Record<string, unknown>;
    }[];
    expect(alerts.length).toBeGreaterThan(0);
    // Today both books are long overdue: A2's 1,000.00 EUR and Y1's 250,000 JPY.
    const overdue = (id: string) =>
      alerts.find((a) => a.customerId === id && a.rule === 'daysPastDue')?.facts;
    expect(overdue('ACME')?.overdueAmount).toBe('1000.00');
    expect(overdue('YEN')?.overdueAmount).toBe('250000');
    expect(minorUnits(alerts)).toEqual([]);

    const whatIf = (await json('evaluate', '--as-of', AS_OF)) as {
      whatIf: boolean;
      results: { customerId: string; limit: { currency: string; current: unknown } }[];
    };
    expect(whatIf.whatIf).toBe(true);
    expect(whatIf.results.find((r) => r.customerId === 'ACME')?.limit).toMatchObject({
      currency: 'EUR',
      current: '50000.00',
    });
    expect(whatIf.results.find((r) => r.customerId === 'YEN')?.limit).toMatchObject({
      currency: 'JPY',
      current: '3000000',
    });
    expect(minorUnits(whatIf)).toEqual([]);

    const preview = (await json('review', 'run', '--dry-run', '--as-of', AS_OF)) as {
      reviews: {
        customerId: string;
        currency: string;
        currentLimit: unknown;
        figures: Record<string, unknown>;
      }[];
    };
    const acme = preview.reviews.find((r) => r.customerId === 'ACME');
    expect(acme).toMatchObject({ currency: 'EUR', currentLimit: '50000.00' });
    // The exposure: 1,000.00 open less 654.33 unapplied cash.
    expect(acme?.figures.openAmount).toBe('1000.00');
    expect(minorUnits(preview)).toEqual([]);
  }, 180_000);
});
