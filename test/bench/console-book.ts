/**
 * A generated book for the customers list, written straight into a store as the ingest and the
 * evaluation leave it: each customer's PROFILE, invoices, SUMMARY (computed by the same
 * `statementAsOf`) and an ASSESSMENT headline; FX rates for some currencies and none for one.
 * The integration test writes a few hundred customers; the console benchmark 100,000 (~1M invoices).
 */
import type { DynamoStore } from '../../functions/adapters/dynamodb.ts';
import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import { type ReceivableSummary, statementAsOf } from '../../functions/core/receivables.ts';
import type { Customer, Invoice } from '../../functions/core/records.ts';
import type { StoredAssessment } from '../../functions/credit/ports.ts';
import type { StoredRecord } from '../../functions/ingest/ports.ts';
import { prng } from './generate.ts';

export interface BookCustomer {
  readonly customer: Customer;
  readonly summary: ReceivableSummary;
  readonly assessment?: { score: number; rating: string; riskClass: string; asOf: IsoDate } | undefined;
}

export interface BookOptions {
  readonly customers: number;
  /** Mean invoices per customer (0 to 2x this, uniformly). @default 10 */
  readonly invoicesPer?: number;
  readonly asOf: IsoDate;
  readonly seed?: number;
  /** Called after each chunk of customers is stored. */
  readonly onProgress?: (customers: number) => void;
  /** Counts what was written. */
  readonly stats?: { invoices: number };
}

/** Names a spreadsheet would run as formulas (the CSV test), every 37th customer. */
export const HOSTILE_NAMES = [
  '=HYPERLINK("http://x.example","click")',
  '+SUM(1,2)',
  '-2+3',
  '@cmd',
  '\tTabbed',
];

const CURRENCIES = ['EUR', 'EUR', 'EUR', 'EUR', 'EUR', 'EUR', 'USD', 'USD', 'USD', 'GBP', 'JPY'] as const;

export const idOf = (i: number) => `CL${String(i).padStart(6, '0')}`;

/** Writes the book; returns every customer as stored (for independent checks), unless `keep` is false. */
export async function writeConsoleBook(
  store: DynamoStore,
  opts: BookOptions,
  keep = true,
): Promise<BookCustomer[]> {
  const rnd = prng(opts.seed ?? 15_2026);
  const per = opts.invoicesPer ?? 10;
  const from = { runId: 'console-book', line: 0 };
  const kept: BookCustomer[] = [];
  // Rates on file: USD->EUR (direct) and EUR->GBP (GBP converts with its inverse); no JPY rate.
  await store.write([
    { kind: 'fx', row: { base: 'USD', quote: 'EUR', date: addDays(opts.asOf, -3), rate: '0.9200' }, from },
    { kind: 'fx', row: { base: 'USD', quote: 'EUR', date: addDays(opts.asOf, 30), rate: '5.0000' }, from },
    { kind: 'fx', row: { base: 'EUR', quote: 'GBP', date: addDays(opts.asOf, -10), rate: '0.8500' }, from },
  ]);
  const CHUNK = 500;
  for (let start = 0; start < opts.customers; start += CHUNK) {
    const records: StoredRecord[] = [];
    const derived: { customerId: string; summary: ReceivableSummary; applications: [] }[] = [];
    const evaluations: { customerId: string; assessment: StoredAssessment; alerts: [] }[] = [];
    for (let i = start; i < Math.min(opts.customers, start + CHUNK); i++) {
      const customerId = idOf(i);
      const currency = CURRENCIES[Math.floor(rnd() * CURRENCIES.length)] as string;
      const scale = currency === 'JPY' ? 1 : 100;
      const limitDraw = rnd();
      const creditLimit =
        i % 13 === 0
          ? undefined
          : i % 53 === 0
            ? 0
            : Math.round((5_000 + limitDraw * 200_000) / 1000) * 1000 * scale;
      const name =
        i % 37 === 0
          ? (HOSTILE_NAMES[(i / 37) % HOSTILE_NAMES.length] as string)
          : `Company ${i} ${['Ltd', 'GmbH', 'SA', 'Inc'][i % 4]}`;
      const customer: Customer = { customerId, name, currency, creditLimit, paymentTermsDays: 30 };
      records.push({ kind: 'customers', row: customer, from });
      const n = i % 11 === 0 ? 0 : Math.floor(rnd() * (2 * per + 1));
      const invoices: Invoice[] = [];
      for (let k = 0; k < n; k++) {
        const issue = addDays(opts.asOf, -Math.floor(rnd() * 240));
        const inv: Invoice = {
          customerId,
          invoiceId: `${customerId}-I${k}`,
          issueDate: issue,
          dueDate: addDays(issue, 30),
          amount: Math.round((50 + rnd() * 20_000) * scale),
          currency,
          disputed: rnd() < 0.03,
        };
        invoices.push(inv);
        if (opts.stats) opts.stats.invoices++;
        records.push({ kind: 'invoices', row: inv, from });
      }
      const summary = statementAsOf({ customerId, currency, invoices, payments: [] }, opts.asOf).summary;
      derived.push({ customerId, summary, applications: [] });
      let assessment: BookCustomer['assessment'];
      if (i % 10 !== 7) {
        const score = Math.floor(rnd() * 101);
        const rating = score >= 80 ? 'A' : score >= 60 ? 'B' : score >= 40 ? 'C' : score >= 20 ? 'D' : 'E';
        const riskClass = score >= 60 ? 'low' : score >= 30 ? 'medium' : 'high';
        assessment = { score, rating, riskClass, asOf: opts.asOf };
        evaluations.push({
          customerId,
          assessment: {
            customerId,
            asOf: opts.asOf,
            policyId: 'bench',
            currency,
            score,
            rating,
            riskClass,
            factors: [],
            limit: { currency, basis: [], reason: 'generated', change: 'none' },
          } as unknown as StoredAssessment,
          alerts: [],
        });
      }
      if (keep) kept.push({ customer, summary, assessment });
    }
    await store.write(records);
    await store.saveDerived(derived);
    await store.saveEvaluation(evaluations);
    opts.onProgress?.(Math.min(opts.customers, start + CHUNK));
  }
  return kept;
}
