/**
 * Periodic review benchmark: a book of customers seeded into the local store (dynalite, in this
 * process, as `npm start` runs it), then one review run through the real local stack (the ASL on
 * aws-local-stepfunctions with its Distributed Map made inline, ReviewApp, the outbox report).
 * Every customer is due (never reviewed). The store is on disk, as `npm start` keeps it. Measured:
 * customers reviewed per second and the peak RSS and heap of the process during the run (the
 * embedded dynalite's working set included).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import { MARSHALL, shardOf } from '../../functions/adapters/dynamodb.ts';
import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { Review } from '../../functions/reviews/review.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { localReviewsRuntime } from '../../infra/local/runtime/reviews.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { prng } from './generate.ts';

export const REVIEW_AS_OF: IsoDate = '2025-06-30';

export interface ReviewBench {
  readonly customers: number;
  readonly items: number;
  readonly seedSeconds: number;
  readonly seconds: number;
  readonly reviewed: number;
  readonly failed: number;
  readonly outcomes: Record<string, number>;
  readonly approvalsAsked: number;
  readonly peakRssMB: number;
  readonly peakHeapMB: number;
  readonly rssBeforeMB: number;
}

/** Items of one customer: profile, `invoicesEach` invoices over the last year (most paid), the summary. */
export function customerItems(c: number, invoicesEach: number, rnd: () => number): Record<string, unknown>[] {
  const customerId = `C${String(c).padStart(7, '0')}`;
  const pk = `CUST#${customerId}`;
  const from = { run: 'bench', line: c + 2 };
  const items: Record<string, unknown>[] = [
    {
      pk,
      sk: 'PROFILE',
      type: 'customer',
      customerId,
      name: `Customer ${c}`,
      currency: 'EUR',
      creditLimit: 10_000_00 + Math.floor(rnd() * 200_000_00),
      ...from,
    },
  ];
  for (let k = 0; k < invoicesEach; k++) {
    const issueDate = addDays(REVIEW_AS_OF, -Math.floor(rnd() * 360) - 1);
    const dueDate = addDays(issueDate, 30);
    const amount = 1000_00 + Math.floor(rnd() * 50_000_00);
    const invoiceId = `I${c}-${k}`;
    items.push({
      pk,
      sk: `INV#${invoiceId}`,
      type: 'invoice',
      customerId,
      invoiceId,
      issueDate,
      dueDate,
      amount,
      currency: 'EUR',
      disputed: false,
      ...from,
    });
    if (rnd() < 0.7 && dueDate < REVIEW_AS_OF)
      items.push({
        pk,
        sk: `PAY#P${c}-${k}`,
        type: 'payment',
        customerId,
        paymentId: `P${c}-${k}`,
        receivedDate: addDays(dueDate, Math.floor(rnd() * 20) - 5),
        amount,
        currency: 'EUR',
        invoiceIds: [invoiceId],
        ...from,
      });
  }
  // The summary lists the customer (listCustomerIds reads the sharded index); its figures are not read.
  items.push({
    pk,
    sk: 'SUMMARY',
    type: 'summary',
    gsi1pk: `SUMMARY#${shardOf(customerId)}`,
    gsi1sk: customerId,
    customerId,
    currency: 'EUR',
    asOf: REVIEW_AS_OF,
    openAmount: 0,
  });
  return items;
}

export async function benchReviews(
  customers: number,
  invoicesEach = 3,
  seed = 20250630,
  log: (m: string) => void = () => {},
): Promise<ReviewBench> {
  // On disk, as `npm start` keeps its data (LevelDB under the data dir), so the process's memory
  // is the review's and dynalite's working set, not the whole book held in the heap.
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-reviews-'));
  const env = await openLocal({ dataDir: dir });
  try {
    const rnd = prng(seed);
    const t0 = performance.now();
    let items = 0;
    const CHUNK = 2_000;
    for (let c = 0; c < customers; c += CHUNK) {
      const batch: Record<string, unknown>[] = [];
      for (let k = c; k < Math.min(customers, c + CHUNK); k++)
        batch.push(...customerItems(k, invoicesEach, rnd));
      items += batch.length;
      await env.store.batchWrite(batch.map((Item) => ({ PutRequest: { Item: marshall(Item, MARSHALL) } })));
    }
    const seedSeconds = (performance.now() - t0) / 1000;
    log(`  seeded ${items.toLocaleString('en-US')} items in ${seedSeconds.toFixed(0)} s; reviewing...`);

    const asked: Review[] = [];
    const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
    const reviews = localReviewsRuntime({
      client: env.store.client,
      tableName: env.store.tableName,
      dataDir: dir,
      policy: async () => policy,
      // Asking the approval chain is the transfers benchmark's subject: here it is counted.
      approvals: {
        requestChange: async (r) => {
          asked.push(r);
          return { transferId: `TR-BENCH-${r.customerId}` };
        },
        requestBatch: async (run, rs) => {
          asked.push(...rs);
          return { transferId: `TR-BENCH-${run.runId}` };
        },
      },
      timeZone: 'UTC',
    });
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 50);
    const t1 = performance.now();
    const out = await reviews.run({ asOf: REVIEW_AS_OF, trigger: 'manual' });
    const seconds = (performance.now() - t1) / 1000;
    clearInterval(sampler);
    const c = out.run.counts;
    if (!c || c.reviewed + c.failed !== customers)
      throw new Error(`the review covered ${c ? c.reviewed + c.failed : 0} of ${customers} customers`);
    return {
      customers,
      items,
      seedSeconds,
      seconds,
      reviewed: c.reviewed,
      failed: c.failed,
      outcomes: { ...c.outcomes },
      approvalsAsked: asked.length,
      peakRssMB: peakRss / 2 ** 20,
      peakHeapMB: peakHeap / 2 ** 20,
      rssBeforeMB: rssBefore / 2 ** 20,
    };
  } finally {
    await env.close();
    await rm(dir, { recursive: true, force: true });
  }
}
