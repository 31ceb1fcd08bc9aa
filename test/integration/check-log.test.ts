import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoCheckLog } from '../../functions/adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../../functions/adapters/dynamodb-checks.ts';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { checkCredit } from '../../functions/checks/app.ts';
import {
  BATCH_MAX,
  type ChainAudit,
  type CheckLogChain,
  chainCheckLog,
  checksOnTrail,
  STALE_CLAIM_MS,
} from '../../functions/checks/log.ts';
import { verifyTrail } from '../../functions/core/audit.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * The credit checks' log (functions/checks/log.ts) on dynalite: each decision written in its
 * customer's partition, then chained to the audit trail in batches. Whatever runs at once or
 * stops half-way, every decision ends on the trail exactly once and the trail verifies.
 */
let dir: string;
let env: LocalEnv;
let log: DynamoCheckLog;
let audit: DynamoTransferStore;
const T0 = new Date('2026-12-07T10:00:00.000Z');

beforeEach(async () => {
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = await mkdtemp(join(tmpdir(), 'check-log-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  log = new DynamoCheckLog(env.store.client, env.store.tableName);
  audit = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
}, 60_000);
afterAll(async () => {
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `n` decisions of `customers` customers, logged at once, one millisecond apart. */
async function logMany(n: number, customers = 7): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      log.logCheck(`C${i % customers}`, {
        at: new Date(T0.getTime() + i).toISOString(),
        kind: 'credit-check.decided',
        subject: `C${i % customers}`,
        actor: 'web',
        data: { orderId: `SO-${i}`, outcome: i % 3 === 0 ? 'hold' : 'approve' },
      }),
    ),
  );
}

/** Every order id on the trail, as often as it is there; and the trail verified. */
async function onTrail(): Promise<string[]> {
  const trail = await audit.auditTrail();
  expect(verifyTrail(trail, await audit.auditHead())).toMatchObject({ ok: true });
  return checksOnTrail(trail).map((e) => (e.data as { orderId: string }).orderId);
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `SO-${i}`).sort();
const at = (ms: number) => () => new Date(T0.getTime() + ms);

describe("the credit checks' log", () => {
  it('chains 250 decisions in batches of at most 100, oldest first, each once; nothing waits after', async () => {
    await logMany(250);
    expect(await log.pending(1000)).toHaveLength(250);
    const r = await chainCheckLog({ log, audit }, { now: at(60_000) });
    expect(r).toEqual({ batches: 3, chained: 250, recovered: 0, lagSeconds: 0 });
    const trail = await audit.auditTrail();
    expect(trail.map((x) => (x.data as { count: number }).count)).toEqual([BATCH_MAX, BATCH_MAX, 50]);
    const order = await onTrail();
    expect(order).toEqual(Array.from({ length: 250 }, (_, i) => `SO-${i}`));
    expect(await log.pending(1000)).toEqual([]);
    // Chained, the entry stays in its customer's partition with the record that holds it.
    const kept = await env.store.client.send(
      new (await import('@aws-sdk/client-dynamodb')).QueryCommand({
        TableName: env.store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
        ExpressionAttributeValues: { ':pk': { S: 'CUST#C0' }, ':s': { S: 'CHECKLOG#' } },
      }),
    );
    expect(kept.Items).toHaveLength(36);
    expect(kept.Items?.every((it) => it.chainedSeq?.N && !it.gsi1pk)).toBe(true);
  });

  it('two chainers at once put each decision on the trail once', async () => {
    await logMany(230);
    const [a, b] = await Promise.all([
      chainCheckLog({ log, audit }, { now: at(1_000) }),
      chainCheckLog({ log, audit }, { now: at(1_000) }),
    ]);
    expect(a.chained + b.chained).toBe(230);
    expect((await onTrail()).sort()).toEqual(ids(230));
  });

  it('a chainer stopped after claiming, before the trail: the next run after 5 minutes finishes the batch', async () => {
    await logMany(40);
    const failing: ChainAudit = {
      appendAudit: () => Promise.reject(new Error('the process was killed')),
    };
    await expect(chainCheckLog({ log, audit: failing }, { now: at(0) })).rejects.toThrow('killed');
    expect((await log.pending(100)).every((l) => l.batch)).toBe(true);
    // Within 5 minutes the claim is another chainer's, still at work: left alone.
    const early = await chainCheckLog({ log, audit }, { now: at(STALE_CLAIM_MS - 1_000) });
    expect(early).toMatchObject({ chained: 0, recovered: 0 });
    expect(await onTrail()).toEqual([]);
    const late = await chainCheckLog({ log, audit }, { now: at(STALE_CLAIM_MS + 1_000) });
    expect(late).toMatchObject({ chained: 40, recovered: 1 });
    expect((await onTrail()).sort()).toEqual(ids(40));
  });

  it('a chainer stopped after the trail, before marking: the next run finds its record, no second one', async () => {
    await logMany(30);
    let failOnce = true;
    const stopping: CheckLogChain = {
      pending: (n) => log.pending(n),
      claim: (e, b, t) => log.claim(e, b, t),
      unclaim: (e, b) => log.unclaim(e, b),
      markChained: (e, b, seq) => {
        if (failOnce) {
          failOnce = false;
          return Promise.reject(new Error('the process was killed'));
        }
        return log.markChained(e, b, seq);
      },
    };
    await expect(chainCheckLog({ log: stopping, audit }, { now: at(0) })).rejects.toThrow('killed');
    expect((await onTrail()).sort()).toEqual(ids(30));
    const r = await chainCheckLog({ log: stopping, audit }, { now: at(STALE_CLAIM_MS + 1) });
    expect(r).toMatchObject({ chained: 30, recovered: 1 });
    expect((await audit.auditTrail()).length).toBe(1);
    expect((await onTrail()).sort()).toEqual(ids(30));
    expect(await log.pending(100)).toEqual([]);
  });

  it('real checks from 24 channels at once: every decision is logged before it answers, and chained once', async () => {
    const seeded = ['A', 'B', 'C'].map((c) => ({
      PutRequest: {
        Item: {
          pk: { S: `CUST#${c}` },
          sk: { S: 'PROFILE' },
          type: { S: 'customer' },
          customerId: { S: c },
          name: { S: `Customer ${c}` },
          currency: { S: 'EUR' },
          creditLimit: { N: '1000000' },
        },
      },
    }));
    await env.store.batchWrite(seeded);
    const deps = { store: new DynamoCheckStore(env.store.client, env.store.tableName), log };
    const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        checkCredit(
          deps,
          policy,
          {
            customerId: ['A', 'B', 'C'][i % 3] as string,
            orderId: `SO-${i}`,
            amount: 100_000,
            currency: 'EUR',
            requestedShipDate: '2026-12-07',
            stage: 'order',
            channel: `ch${i}`,
          },
          { today: '2026-12-07', now: new Date(T0.getTime() + i).toISOString() },
        ),
      ),
    );
    // 10,000.00 of limit each, 1,000.00 an order: all 8 of each customer fit.
    expect(results.map((r) => r.decision.outcome)).toEqual(Array(24).fill('approve'));
    expect(await log.pending(100)).toHaveLength(24);
    await chainCheckLog({ log, audit }, { now: at(1_000) });
    expect((await onTrail()).sort()).toEqual(ids(24));
    const entries = checksOnTrail(await audit.auditTrail());
    expect(entries.find((e) => (e.data as { orderId: string }).orderId === 'SO-5')).toMatchObject({
      customerId: 'C',
      kind: 'credit-check.decided',
      actor: 'ch5',
      data: { outcome: 'approve', reservation: 'reserved' },
    });
  });
});
