import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import type { Notification } from '../../functions/credit/alerts.ts';
import { evaluate } from '../../functions/credit/evaluate.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { AlertNotifier } from '../../functions/credit/ports.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import {
  EvaluationBatchesFailedError,
  LocalDailyEvaluation,
} from '../../infra/local/runtime/daily-evaluation.ts';
import { demoFiles } from '../../infra/local/runtime/demo.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { generateBook } from '../bench/evaluate.ts';

/**
 * The daily evaluation fanned out (statemachines/daily-evaluation.asl.json on the local engine,
 * its Map inline) stores the same assessments and alerts and tells the same notifications as the
 * single pass (`evaluate`) over the same book, whatever the batch size; a batch that fails once
 * is retried and tells nobody twice; a batch that always fails is named in the report and the
 * run fails, never silently.
 */

const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
const TODAY: IsoDate = '2026-11-30';
const GEN_TODAY: IsoDate = '2025-06-30';

type Files = Readonly<Record<string, string>>;

/** A generated book as upload files: customers, invoices and payments (test/bench/evaluate.ts). */
function generatedFiles(customers: number): Files {
  const c = ['customer_id,name,currency,credit_limit'];
  const inv = ['invoice_id,customer_id,issue_date,due_date,amount,currency,disputed'];
  const pay = ['payment_id,customer_id,received_date,amount,currency,invoice_id'];
  // The first customer holds a large share of the book: the book-level concentration rule fires.
  for (const [n, f] of generateBook(customers, 8, 777).entries()) {
    const money = (minor: number) => ((n === 0 ? minor * 40 : minor) / 100).toFixed(2);
    c.push(`${f.customerId},${f.customerId} Ltd,EUR,${money(f.customer?.creditLimit ?? 0)}`);
    for (const i of f.invoices)
      inv.push(
        `${i.invoiceId},${i.customerId},${i.issueDate},${i.dueDate},${money(i.amount)},EUR,${i.disputed ? 'yes' : 'no'}`,
      );
    for (const p of f.payments)
      if (p.receivedDate <= GEN_TODAY)
        pay.push(
          `${p.paymentId},${p.customerId},${p.receivedDate},${money(p.amount)},EUR,${p.invoiceIds?.[0] ?? ''}`,
        );
  }
  const csv = (lines: string[]) => `${lines.join('\n')}\n`;
  return {
    'customers/gen.csv': csv(c),
    'invoices/gen.csv': csv(inv),
    'payments/gen.csv': csv(pay),
  };
}

interface Book {
  env: LocalEnv;
  dir: string;
  told: Notification[];
  notifier: AlertNotifier;
}

const opened: Book[] = [];
afterAll(async () => {
  for (const b of opened) {
    await b.env.close();
    await rm(b.dir, { recursive: true, force: true });
  }
});

async function bookOf(files: Files, now: string): Promise<Book> {
  const dir = await mkdtemp(join(tmpdir(), 'daily-fanout-'));
  const env = await openLocal({ inMemory: true, dataDir: dir });
  for (const [key, text] of Object.entries(files))
    await ingest(
      {
        store: env.store,
        notifier: { customersChanged: async () => {} },
        clock: { now: () => new Date(now) },
        timeZone: 'UTC',
      },
      {
        source: (async function* () {
          yield new TextEncoder().encode(text);
        })(),
        fileName: key,
        objectRef: `test://${key}`,
        runId: `book-${key}`,
        profile: canonicalProfile(key.split('/')[0] as Kind),
        rejects: { write: () => undefined, close: async () => `${key}.rejects.csv` },
      },
    );
  const told: Notification[] = [];
  const b: Book = {
    env,
    dir,
    told,
    notifier: { notify: async (n) => void told.push(...n), digest: async () => undefined },
  };
  opened.push(b);
  return b;
}

/** Every item of the table, claims without who claimed them (a random id per evaluation). */
async function dump(b: Book): Promise<string[]> {
  const out: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await b.env.store.client.send(
      new ScanCommand({ TableName: b.env.store.tableName, ExclusiveStartKey: start }),
    );
    for (const i of page.Items ?? []) {
      const { claimant: _c, ...rest } = unmarshall(i);
      // Bookkeeping, not outcome: the evaluation epoch counts stores (one per group or batch), the
      // schema mark holds the instant it was written.
      if (rest.pk === 'EVAL#EPOCH' || rest.pk === 'SCHEMA') continue;
      out.push(JSON.stringify(rest, Object.keys(rest).sort()));
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out.sort();
}

const toldKeys = (b: Book) => b.told.map((n) => JSON.stringify({ reason: n.reason, alert: n.alert })).sort();

const clockAt = (day: IsoDate) => ({ now: () => new Date(`${day}T06:00:00Z`) });

async function singlePass(b: Book, days: readonly IsoDate[]) {
  const runs = [];
  for (const day of days)
    runs.push(
      await evaluate(
        { store: b.env.store, notifier: b.notifier, policy, clock: clockAt(day), timeZone: 'UTC' },
        { asOf: day },
      ),
    );
  return runs;
}

function fanOut(b: Book, day: IsoDate, options: ConstructorParameters<typeof LocalDailyEvaluation>[1] = {}) {
  return new LocalDailyEvaluation(
    {
      store: b.env.store,
      notifier: b.notifier,
      policy: async () => policy,
      clock: clockAt(day),
      timeZone: 'UTC',
      dataDir: b.dir,
    },
    { retryIntervals: { EvaluateBatch: 0, RecordFailedBatch: 0, Report: 0 }, ...options },
  );
}

async function fanOutDays(b: Book, days: readonly IsoDate[], batchSize?: number) {
  const runs = [];
  for (const day of days)
    runs.push((await fanOut(b, day, { batchSize }).run({ scheduledTime: `${day}T05:00:00Z` })).run);
  return runs;
}

describe.each([
  {
    name: 'the demo book',
    files: () => demoFiles(TODAY),
    days: [addDays(TODAY, -45), TODAY],
    sizes: [1, 4, undefined],
  },
  {
    name: 'a generated book of 60 customers',
    files: () => generatedFiles(60),
    // The last run is as of an earlier day: every customer is skipped (never rewound), and the
    // book's concentration then counts them with their stored summaries, both ways.
    days: [addDays(GEN_TODAY, -60), GEN_TODAY, addDays(GEN_TODAY, -60)],
    sizes: [1, 7, undefined],
  },
])('$name: fanned out as in one pass', ({ files, days, sizes }) => {
  const last = days[days.length - 1] as IsoDate;
  let reference: { dump: string[]; told: string[]; runs: Awaited<ReturnType<typeof singlePass>> };

  it('the single pass (the reference) finds alerts to compare', async () => {
    const b = await bookOf(files(), `${days[0]}T00:00:00Z`);
    const runs = await singlePass(b, days);
    reference = { dump: await dump(b), told: toldKeys(b), runs };
    // Something to compare: alerts opened, and the book-level rule among them.
    expect(reference.told.length).toBeGreaterThan(0);
    expect(reference.told.some((k) => k.includes('"rule":"concentration"'))).toBe(true);
    expect(runs.map((r) => r.customers + r.skipped)).toEqual(runs.map(() => runs[0]?.customers));
  }, 120_000);

  it.each(sizes)(
    "batches of %s (undefined: the definition's 500): the same stored state, notifications and counts",
    async (size) => {
      const b = await bookOf(files(), `${days[0]}T00:00:00Z`);
      const runs = await fanOutDays(b, days, size);
      expect(await dump(b)).toEqual(reference.dump);
      expect(toldKeys(b)).toEqual(reference.told);
      expect(runs).toEqual(reference.runs);
      expect(runs[runs.length - 1]?.asOf).toBe(last);
      // Nothing of a run that evaluated everyone is left in the data dir.
      expect(await readdir(join(b.dir, 'evaluations'))).toEqual([]);
    },
    180_000,
  );

  it('a batch that fails once, after storing its work, is retried: the same state, each alert told once', async () => {
    const b = await bookOf(files(), `${days[0]}T00:00:00Z`);
    for (const day of days) {
      const failedOnce = new Set<string>();
      const engine = fanOut(b, day, {
        batchSize: 3,
        afterBatch: (items, attempt) => {
          if (attempt === 1 && !failedOnce.has(items[0] as string)) {
            failedOnce.add(items[0] as string);
            throw new Error('lost the answer of a batch that did its work');
          }
        },
      });
      await engine.run({ scheduledTime: `${day}T05:00:00Z` });
      expect(failedOnce.size).toBeGreaterThan(0);
    }
    expect(await dump(b)).toEqual(reference.dump);
    expect(toldKeys(b)).toEqual(reference.told);
    // Each alert told once per reason and severity.
    expect(new Set(toldKeys(b)).size).toBe(toldKeys(b).length);
  }, 180_000);
});

describe('a batch that always fails', () => {
  it('is retried, recorded with its customers, reported, and the run fails', async () => {
    const b = await bookOf(demoFiles(TODAY), `${TODAY}T00:00:00Z`);
    const attempts: number[] = [];
    const engine = fanOut(b, TODAY, {
      batchSize: 4,
      keepFiles: true,
      onBatch: (items, attempt) => {
        if (items.includes('C1005')) {
          attempts.push(attempt);
          throw new Error('this batch cannot be evaluated');
        }
      },
    });
    const failure = await engine.run({ scheduledTime: `${TODAY}T05:00:00Z` }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(EvaluationBatchesFailedError);
    const report = (failure as EvaluationBatchesFailedError).report;
    // The definition's retries of a failed task (States.TaskFailed: 2), then the Catch.
    expect(attempts).toEqual([1, 2, 3]);
    expect(report.notEvaluated).toEqual(['C1005', 'C1006', 'C1007', 'C1008']);
    expect(report.failedBatches).toEqual([
      expect.objectContaining({
        customerIds: ['C1005', 'C1006', 'C1007', 'C1008'],
        cause: expect.stringContaining('this batch cannot be evaluated'),
      }),
    ]);
    expect(report.run.customers).toBe(report.listed - 4);
    // The other batches' customers were evaluated and stored.
    const stored = await b.env.store.loadCustomerPartition('C1001');
    expect(stored.assessment?.asOf).toBe(TODAY);
    const missed = await b.env.store.loadCustomerPartition('C1005');
    expect(missed.assessment).toBeUndefined();
  }, 120_000);
});
