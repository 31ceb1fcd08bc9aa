/**
 * Credit check benchmark (issue 18 item 7; `npm run bench -- --only=checks`): a book of customers
 * seeded into the local store (dynalite on disk, on its own thread of this process, as `npm start` runs it: each
 * customer's profile with its limit, its receivables summary and three invoices, so the table is a
 * real one's size), then checks through the real path (`checkCredit`: the fixed reads by key, the
 * decision, the conditional write of the reservation, the decision's log in the customer's
 * partition), then the chainer putting them all on the audit trail. Measured: the
 * latency of checks one after another (p50, p99) and checks per second at a given concurrency.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import { MARSHALL, shardOf } from '../../functions/adapters/dynamodb.ts';
import { DynamoCheckLog } from '../../functions/adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../../functions/adapters/dynamodb-checks.ts';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { checkCredit } from '../../functions/checks/app.ts';
import { chainCheckLog } from '../../functions/checks/log.ts';
import { addDays } from '../../functions/core/dates.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { prng } from './generate.ts';
import { percentile } from './transfers.ts';

export const CHECK_AS_OF = '2026-06-30';

export interface ChecksBench {
  readonly customers: number;
  readonly items: number;
  readonly seedSeconds: number;
  readonly sequential: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly concurrent: number;
  readonly concurrency: number;
  readonly checksPerSec: number;
  readonly outcomes: Record<string, number>;
  readonly auditRecords: number;
  /** Decisions the chainer put on the trail after the checks, and how many a second. */
  readonly chained: number;
  readonly chainPerSec: number;
}

function customerItems(c: number, rnd: () => number): Record<string, unknown>[] {
  const customerId = `C${String(c).padStart(7, '0')}`;
  const pk = `CUST#${customerId}`;
  const from = { run: 'bench', line: c + 2 };
  const limit = 10_000_00 + Math.floor(rnd() * 200_000_00);
  const items: Record<string, unknown>[] = [
    {
      pk,
      sk: 'PROFILE',
      type: 'customer',
      customerId,
      name: `Customer ${c}`,
      currency: 'EUR',
      creditLimit: limit,
      ...from,
    },
  ];
  let open = 0;
  for (let k = 0; k < 3; k++) {
    const issueDate = addDays(CHECK_AS_OF, -Math.floor(rnd() * 60) - 1);
    const amount = 1000_00 + Math.floor(rnd() * 20_000_00);
    open += amount;
    items.push({
      pk,
      sk: `INV#I${c}-${k}`,
      type: 'invoice',
      customerId,
      invoiceId: `I${c}-${k}`,
      issueDate,
      dueDate: addDays(issueDate, 30),
      amount,
      currency: 'EUR',
      disputed: false,
      ...from,
    });
  }
  items.push({
    pk,
    sk: 'SUMMARY',
    type: 'summary',
    gsi1pk: `SUMMARY#${shardOf(customerId)}`,
    gsi1sk: customerId,
    customerId,
    currency: 'EUR',
    asOf: CHECK_AS_OF,
    openAmount: open,
    overdueAmount: 0,
    disputedAmount: 0,
    aging: {},
    openInvoices: 3,
    maxDaysPastDue: 0,
    settledInvoices: 0,
    avgDaysLate: null,
    unappliedCash: 0,
    dso: null,
    otherCurrencies: [],
  });
  return items;
}

export async function benchChecks(
  customers: number,
  opts: { sequential?: number; concurrent?: number; concurrency?: number; log?: (m: string) => void } = {},
): Promise<ChecksBench> {
  const log = opts.log ?? (() => {});
  const sequential = opts.sequential ?? 2_000;
  const concurrent = opts.concurrent ?? 5_000;
  const concurrency = opts.concurrency ?? 32;
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-checks-'));
  const env = await openLocal({ dataDir: dir });
  try {
    const rnd = prng(20260630);
    const t0 = performance.now();
    let items = 0;
    const CHUNK = 2_000;
    for (let c = 0; c < customers; c += CHUNK) {
      const batch: Record<string, unknown>[] = [];
      for (let k = c; k < Math.min(customers, c + CHUNK); k++) batch.push(...customerItems(k, rnd));
      items += batch.length;
      await env.store.batchWrite(batch.map((Item) => ({ PutRequest: { Item: marshall(Item, MARSHALL) } })));
    }
    const seedSeconds = (performance.now() - t0) / 1000;
    log(`  seeded ${items.toLocaleString('en-US')} items in ${seedSeconds.toFixed(0)} s; checking...`);
    const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
    const audit = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
    const checkLog = new DynamoCheckLog(env.store.client, env.store.tableName);
    const deps = { store: new DynamoCheckStore(env.store.client, env.store.tableName), log: checkLog };
    const at = { today: CHECK_AS_OF, now: `${CHECK_AS_OF}T09:00:00.000Z` };
    const outcomes: Record<string, number> = {};
    let n = 0;
    const check = async () => {
      const k = n++;
      const c = Math.floor(rnd() * customers);
      const r = await checkCredit(
        deps,
        policy,
        {
          customerId: `C${String(c).padStart(7, '0')}`,
          orderId: `SO-${k}`,
          amount: 100_00 + Math.floor(rnd() * 5_000_00),
          currency: 'EUR',
          requestedShipDate: CHECK_AS_OF,
          stage: 'order',
          channel: 'bench',
        },
        at,
      );
      outcomes[r.decision.outcome] = (outcomes[r.decision.outcome] ?? 0) + 1;
    };
    const latencies: number[] = [];
    for (let i = 0; i < sequential; i++) {
      const s = performance.now();
      await check();
      latencies.push(performance.now() - s);
    }
    log(`  ${sequential} checks one after another; then ${concurrent} at ${concurrency} at once...`);
    const t1 = performance.now();
    let left = concurrent;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left > 0) {
          left--;
          await check();
        }
      }),
    );
    const seconds = (performance.now() - t1) / 1000;
    // Then the chainer puts every logged decision on the trail, as the scheduled one would.
    log(
      `  chaining the ${(sequential + concurrent).toLocaleString('en-US')} logged decisions to the audit trail...`,
    );
    const t2 = performance.now();
    const chain = await chainCheckLog({ log: deps.log, audit }, { now: () => new Date() });
    const chainSeconds = (performance.now() - t2) / 1000;
    return {
      customers,
      items,
      seedSeconds,
      sequential,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      concurrent,
      concurrency,
      checksPerSec: concurrent / seconds,
      outcomes,
      auditRecords: (await audit.auditHead())?.seq ?? 0,
      chained: chain.chained,
      chainPerSec: chain.chained / chainSeconds,
    };
  } finally {
    await env.close();
    await rm(dir, { recursive: true, force: true });
  }
}
