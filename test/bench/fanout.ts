/**
 * Daily evaluation fan-out benchmark: a book of customers seeded into the local store (dynalite on
 * disk, in this process, as `npm start` runs it; the review benchmark's items), then one daily run
 * through the real local stack: statemachines/daily-evaluation.asl.json on aws-local-stepfunctions
 * with its Distributed Map made inline (batches of 500, 2 at a time), DailyRunApp's list, batch
 * and report steps, the run files under the data dir. Measured: wall time, customers per second,
 * and the peak RSS and heap of the process during the run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import { MARSHALL } from '../../functions/adapters/dynamodb.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { LocalDailyEvaluation } from '../../infra/local/runtime/daily-evaluation.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { prng } from './generate.ts';
import { customerItems, REVIEW_AS_OF } from './reviews.ts';

export interface FanOutBench {
  readonly customers: number;
  readonly items: number;
  readonly seedSeconds: number;
  readonly seconds: number;
  readonly evaluated: number;
  readonly notifications: number;
  readonly batches: number;
  readonly peakRssMB: number;
  readonly peakHeapMB: number;
  readonly rssBeforeMB: number;
}

export async function benchFanOut(
  customers: number,
  invoicesEach = 3,
  seed = 20250630,
  log: (m: string) => void = () => {},
): Promise<FanOutBench> {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-fanout-'));
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
    log(`  seeded ${items.toLocaleString('en-US')} items in ${seedSeconds.toFixed(0)} s; evaluating...`);
    const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
    let notifications = 0;
    let batches = 0;
    const engine = new LocalDailyEvaluation(
      {
        store: env.store,
        // Publishing is the alerts' subject elsewhere: here it is counted.
        notifier: {
          notify: async (n) => {
            notifications += n.length;
          },
          digest: async () => undefined,
        },
        policy: async () => policy,
        clock: { now: () => new Date(`${REVIEW_AS_OF}T05:00:00Z`) },
        timeZone: 'UTC',
        dataDir: dir,
      },
      { onBatch: () => void batches++ },
    );
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
    const report = await engine.run({ scheduledTime: `${REVIEW_AS_OF}T05:00:00Z` });
    const seconds = (performance.now() - t1) / 1000;
    clearInterval(sampler);
    if (report.run.customers !== customers)
      throw new Error(`the run evaluated ${report.run.customers} of ${customers} customers`);
    return {
      customers,
      items,
      seedSeconds,
      seconds,
      evaluated: report.run.customers,
      notifications,
      batches,
      peakRssMB: peakRss / 2 ** 20,
      peakHeapMB: peakHeap / 2 ** 20,
      rssBeforeMB: rssBefore / 2 ** 20,
    };
  } finally {
    await env.close();
    await rm(dir, { recursive: true, force: true });
  }
}
