/**
 * Predicted payment dates (`npm run bench -- --only=predict`; issue 19 item 4): the leak-free
 * month-end protocol over IBM's accounts-receivable sample, loaded into a fresh in-memory store
 * through the real ingest and the shipped profile, each invoice's settlement date the one the
 * product's own allocation gives it (`statementAsOf`). Prints the three baselines, the model's
 * mean absolute error and interval coverage, and the 13-week cash-in forecast's error against
 * "sum of due dates": on the 7 month ends the model's parameters were chosen on, the 14 after them
 * and all 21.
 *
 * The sample's billing channel (PaperlessBill: Paper or Electronic, how each invoice was sent) is
 * read by the shipped profile as the invoice's `channel`; the bench reports the model with it (the
 * product's records) and without it (the channel taken off), to show what it is worth.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  backtestWorklistPriority,
  type PriorityBacktest,
} from '../../functions/collections/priority-backtest.ts';
import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import { statementAsOf } from '../../functions/core/receivables.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { ProfileCatalog } from '../../functions/ingest/uploads.ts';
import {
  backtestPredictions,
  monthEnds,
  PROTOCOL_FROM,
  PROTOCOL_TO,
  type PredictionBacktest,
} from '../../functions/predict/backtest.ts';
import { type CustomerRecords, cashForecast, predictRecords } from '../../functions/predict/book.ts';
import { DEFAULT_PARAMS, type InvoiceRecord } from '../../functions/predict/model.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { prng } from './generate.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const IBM_CSV = join(
  ROOT,
  'test/fixtures/datasets/ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv',
);
/** After the sample's last settlement: every invoice's settlement date as the books finally show it. */
const END_OF_BOOKS: IsoDate = '2014-12-31';

/**
 * The IBM sample as plain invoice records (amounts in cents), through the product's ingest and the
 * shipped `ibm-accounts-receivable` profile, each with the billing channel the profile reads;
 * `channel: false` takes it off.
 */
export async function ibmInvoiceRecords(opts: { channel?: boolean } = {}): Promise<InvoiceRecord[]> {
  const text = await readFile(IBM_CSV, 'utf8');
  const profile = new ProfileCatalog().get('ibm-accounts-receivable');
  if (!profile) throw new Error('the shipped profile ibm-accounts-receivable is missing');
  const env = await openLocal({ inMemory: true });
  const clock = { now: () => new Date('2014-01-31T12:00:00Z') };
  try {
    const run = await ingest(
      { store: env.store, notifier: { customersChanged: async () => {} }, clock, timeZone: 'UTC' },
      {
        source: Readable.from([Buffer.from(text, 'utf8')]),
        fileName: 'ibm.csv',
        objectRef: 'bench://ibm.csv',
        profile,
        rejects: { write: () => undefined, close: async () => 'ibm.csv.rejects.csv' },
      },
    );
    if (run.status !== 'processed') throw new Error(`the IBM sample did not load: ${JSON.stringify(run)}`);
    const out: InvoiceRecord[] = [];
    for (const customerId of (await env.store.listCustomerIds()).sort()) {
      const { books } = await env.store.loadCustomerPartition(customerId);
      const st = statementAsOf(
        { customerId, invoices: books.invoices, payments: books.payments },
        END_OF_BOOKS,
      );
      const channels = new Map(books.invoices.map((i) => [i.invoiceId, i.channel]));
      for (const s of st.invoices)
        out.push({
          customerId,
          invoiceId: s.invoiceId,
          issueDate: s.issueDate,
          dueDate: s.dueDate,
          amount: s.amount,
          currency: s.currency,
          settledDate: s.open === 0 ? s.settledDate : undefined,
          channel: opts.channel === false ? undefined : channels.get(s.invoiceId),
        });
    }
    return out;
  } finally {
    await env.close();
  }
}

export interface PredictBench {
  readonly label: string;
  readonly dates: string;
  readonly result: Omit<PredictionBacktest, 'rows'>;
}

const usd = (cents: number) => (cents / 100).toFixed(2);

/** The figures as a plain-text table, one row per (records, dates) run. */
export function predictTable(runs: readonly PredictBench[]): string[] {
  const head = [
    'records',
    'dates',
    'n',
    'due',
    'median',
    'cond.',
    'model',
    'P10-P90',
    'weekly model',
    'weekly due',
    'weekly actual',
  ];
  const rows = runs.map((r) => [
    r.label,
    r.dates,
    String(r.result.predictions),
    r.result.baselines.due.mae.toFixed(2),
    r.result.baselines.median.mae.toFixed(2),
    r.result.baselines.conditional.mae.toFixed(2),
    r.result.model.mae.toFixed(2),
    `${(100 * r.result.model.coverage).toFixed(1)}%`,
    usd(r.result.weekly.model),
    usd(r.result.weekly.dueDates),
    usd(r.result.weekly.meanActual),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

export async function benchPredict(log: (m: string) => void = console.log): Promise<PredictBench[]> {
  const all = monthEnds(PROTOCOL_FROM, PROTOCOL_TO);
  const cuts: [string, IsoDate[]][] = [
    ['first 7 (tuning)', all.slice(0, 7)],
    ['last 14 (held out)', all.slice(7)],
    [`all ${all.length}`, all],
  ];
  const runs: PredictBench[] = [];
  for (const channel of [true, false]) {
    const records = await ibmInvoiceRecords({ channel });
    const label = channel ? 'product records' : 'without billing channel';
    for (const [dates, list] of cuts) {
      const { rows: _, ...result } = backtestPredictions(records, { dates: list });
      runs.push({ label, dates, result });
    }
  }
  const p = DEFAULT_PARAMS;
  log(
    `\nPredicted payment dates, IBM sample, month ends ${PROTOCOL_FROM} .. ${PROTOCOL_TO} (${all.length}): mean absolute error in days; weekly: mean absolute error per week over the next 13 weeks, USD`,
  );
  for (const line of predictTable(runs)) log(line);
  log(
    `model: conditional median of the customer's comparable settled invoices with the segment's counted as ${p.segmentWeight} more; half-life ${Number.isFinite(p.halfLifeDays) ? `${p.halfLifeDays} days` : 'none'}; segment below ${p.minHistory} comparable; interval quantiles ${p.low}/${p.high}`,
  );
  return runs;
}

/**
 * The worklist's priority with and without the expected wait (functions/collections/priority-backtest.ts)
 * on the IBM sample, at every month end of the protocol, under the shipped policy's score: the
 * share of the overdue money still unpaid 7 and 14 days later that the first quarter of the list
 * holds.
 */
export async function benchPriority(log: (m: string) => void = console.log): Promise<PriorityBacktest[]> {
  const records = await ibmInvoiceRecords();
  const plan = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT).collections;
  if (!plan) throw new Error('the shipped policy has no collections plan');
  const dates = monthEnds(PROTOCOL_FROM, PROTOCOL_TO);
  const out = [7, 14].map((horizonDays) =>
    backtestWorklistPriority(records, plan.score, dates, { horizonDays }),
  );
  const wait = plan.score.expectedWait;
  log(
    `\nThe worklist's priority, IBM sample, the same ${dates.length} month ends: the share of the overdue money still unpaid N days later held by the first quarter of the list (the shipped score; expected wait weight ${wait?.weight ?? 0}, cap ${wait?.capDays ?? '-'} days)`,
  );
  for (const r of out)
    log(
      `  ${r.horizonDays} days: with the expected wait ${pct(r.withWait)}, without it ${pct(r.withoutWait)}, best possible ${pct(r.best)} (${r.dates} month ends with money unpaid then, ${r.customersPerDate.toFixed(1)} customers overdue on each)`,
    );
  return out;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export interface PredictScaleBench {
  readonly customers: number;
  readonly invoices: number;
  readonly predictions: number;
  /** The book's predictions (the segment once, then every open invoice) and the forecast. */
  readonly seconds: number;
}

/**
 * Predictions on a large book (issue 19; README "Predicted payment dates"): `customers` customers
 * of 20 invoices each over a year (each customer paying its own number of days late, give or
 * take 5; half paper, half electronic), predicted as of one day with the segment, then the 13-week
 * forecast; in memory, so what is timed is the model, not the store's read.
 */
export function benchPredictScale(customers: number): PredictScaleBench {
  const rnd = prng(20261208);
  const asOf: IsoDate = '2026-06-30';
  const book: CustomerRecords[] = [];
  let invoices = 0;
  for (let c = 0; c < customers; c++) {
    const late = Math.floor(rnd() * 30);
    const list: InvoiceRecord[] = [];
    for (let k = 0; k < 20; k++) {
      const issueDate = addDays(asOf, -Math.floor(rnd() * 360));
      const dueDate = addDays(issueDate, 30);
      const settled = addDays(dueDate, late + Math.floor(rnd() * 11) - 5);
      list.push({
        customerId: `C${c}`,
        invoiceId: `I${c}-${k}`,
        issueDate,
        dueDate,
        amount: 100_00 + Math.floor(rnd() * 10_000_00),
        currency: 'EUR',
        settledDate: settled <= asOf ? settled : undefined,
        channel: rnd() < 0.5 ? 'paper' : 'electronic',
      });
    }
    invoices += list.length;
    book.push({ customerId: `C${c}`, currency: 'EUR', invoices: list });
  }
  const t = performance.now();
  const predictions = predictRecords(book, asOf);
  cashForecast(predictions, 'EUR', () => []);
  return {
    customers,
    invoices,
    predictions: predictions.customers.reduce((n, c) => n + c.invoices.length, 0),
    seconds: (performance.now() - t) / 1000,
  };
}

/** Run on its own: `npx tsx test/bench/predict.ts` (or `npm run bench -- --only=predict`). */
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await benchPredict();
  await benchPriority();
  const scale = benchPredictScale(Number(process.env.BENCH_PREDICT_CUSTOMERS ?? 100_000));
  console.log(JSON.stringify(scale));
  process.exit(0);
}
