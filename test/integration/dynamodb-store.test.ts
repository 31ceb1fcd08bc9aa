import { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../functions/adapters/dynamodb.ts';
import { type Notification, reconcile } from '../../functions/credit/alerts.ts';
import { createEvaluateHandler } from '../../functions/credit/app.ts';
import type { EvaluationRun } from '../../functions/credit/evaluate.ts';
import type { NotificationClaim } from '../../functions/credit/ports.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import type { StoredApplication, StoredRecord } from '../../functions/ingest/ports.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import { localContext } from '../../infra/local/runtime/inbox.ts';
import { LOCAL_REGION, type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { startMoto } from '../moto.ts';

/**
 * The DynamoDB adapter on two engines nobody here wrote: dynalite (what `npm start` runs) and moto
 * (`python3 -m moto.server`), the same suite on each through the real SDK client, and what both
 * stored compared at the end.
 */

process.env.POWERTOOLS_METRICS_DISABLED = 'true';

interface Engine {
  env: LocalEnv;
  /** The Region the table lives in (moto keeps one store per Region). */
  region: string;
  close(): Promise<void>;
}

const ENGINES: [name: string, open: () => Promise<Engine>][] = [
  [
    'dynalite',
    async () => {
      const env = await openLocal({ inMemory: true });
      return { env, region: LOCAL_REGION, close: () => env.close() };
    },
  ],
  [
    'moto',
    async () => {
      const moto = await startMoto({ region: 'us-east-1' });
      // openLocal's Region for an external endpoint: AWS_REGION, else us-east-1.
      const env = await openLocal({ endpoint: moto.endpoint });
      return {
        env,
        region: await env.store.client.config.region(),
        close: async () => {
          await env.close();
          await moto.close();
        },
      };
    },
  ],
];

/** One server per engine for the whole file, opened by the first suite that asks. */
const opened = new Map<string, Promise<Engine>>();
const engineOf = (name: string, open: () => Promise<Engine>) => {
  let e = opened.get(name);
  if (!e) {
    e = open();
    opened.set(name, e);
  }
  return e;
};
afterAll(async () => {
  for (const e of opened.values()) await (await e).close();
});

/** What each engine ended with, compared once both have run. */
const outcomes = new Map<string, unknown>();

const invoice = (i: number): StoredRecord => ({
  kind: 'invoices',
  row: {
    customerId: `T${i % 7}`,
    invoiceId: `THR-${i}`,
    issueDate: '2025-01-01',
    dueDate: '2025-01-31',
    amount: 100 + i,
    currency: 'EUR',
    disputed: false,
  },
  from: { runId: 'throttle-test', line: i + 2 },
});

// LATE-1 owes an invoice due 2025-05-01 (60 days past due on 2025-06-30: high); ONTIME-2's is not due.
const BOOK =
  'invoice_id,customer_id,issue_date,due_date,amount,currency\n' +
  'L1,LATE-1,2025-04-01,2025-05-01,1000.00,EUR\n' +
  'L2,LATE-1,2025-06-01,2025-07-01,250.50,EUR\n' +
  'O1,ONTIME-2,2025-06-01,2025-07-15,500.00,EUR\n';
const clock = { now: () => new Date('2025-06-30T04:15:00Z') };
const quietLogger = () => new Logger({ serviceName: 'test', logLevel: 'SILENT' });

describe.each(ENGINES)('DynamoStore on %s', (name, open) => {
  let engine: Engine;
  let env: LocalEnv;
  const client = () =>
    new DynamoDBClient({
      endpoint: env.endpoint,
      region: engine.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });

  beforeAll(async () => {
    engine = await engineOf(name, open);
    env = engine.env;
  });

  it('retries the items DynamoDB leaves unprocessed until every one is written', async () => {
    // A client whose first three BatchWriteItem calls lose half their items on the way to the table
    // and report them as UnprocessedItems, as DynamoDB does when a partition is throttled.
    const c = client();
    let throttled = 0;
    let calls = 0;
    c.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { RequestItems?: Record<string, WriteRequest[]> };
        const table = Object.keys(input.RequestItems ?? {})[0];
        if (!table) return next(args);
        calls++;
        const all = input.RequestItems?.[table] ?? [];
        if (throttled >= 3 || all.length < 2) return next(args);
        throttled++;
        const kept = all.slice(0, Math.ceil(all.length / 2));
        const dropped = all.slice(kept.length);
        const result = await next({ ...args, input: { ...input, RequestItems: { [table]: kept } } });
        (result.output as { UnprocessedItems?: Record<string, WriteRequest[]> }).UnprocessedItems = {
          [table]: dropped,
        };
        return result;
      },
      { step: 'initialize', name: 'throttleHalf' },
    );
    const store = new DynamoStore({ tableName: env.store.tableName, client: c, writeConcurrency: 2 });
    const records = Array.from({ length: 60 }, (_, i) => invoice(i));
    await store.write(records);
    expect(throttled).toBe(3);
    expect(calls).toBeGreaterThan(3); // 3 requests of 25/25/10 plus the retries of what was dropped
    for (const r of records) expect(await store.provenanceOf(r)).toEqual(r.from);
    c.destroy();
  });

  it('gives up loudly, never silently, when items stay unprocessed', async () => {
    const c = client();
    c.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { RequestItems?: Record<string, WriteRequest[]> };
        const table = Object.keys(input.RequestItems ?? {})[0];
        if (!table) return next(args);
        // Every item stays unprocessed: a table that is throttled for good.
        return {
          response: {} as never,
          output: { UnprocessedItems: input.RequestItems, $metadata: {} } as never,
        };
      },
      { step: 'initialize', name: 'throttleAll' },
    );
    const store = new DynamoStore({ tableName: env.store.tableName, client: c, backoffBaseMs: 1 });
    await expect(store.write([invoice(1000)])).rejects.toThrow(/unprocessed after 10 retries/);
    c.destroy();
  });

  it('ingests a book and reads back each customer, its summary and the run', async () => {
    const run = await ingest(
      {
        store: env.store,
        notifier: { customersChanged: async () => {} },
        clock,
        timeZone: 'Europe/Amsterdam',
      },
      {
        source: Readable.from([Buffer.from(BOOK)]),
        fileName: 'invoices/2025-06.csv',
        objectRef: 'test://invoices/2025-06.csv',
        profile: canonicalProfile('invoices'),
        rejects: { write: () => {}, close: async () => 'memory://' },
      },
    );
    expect(run).toMatchObject({ status: 'processed' });
    const late = await env.store.loadCustomerPartition('LATE-1');
    expect(late.books.invoices.map((i) => [i.invoiceId, i.amount, i.currency]).sort()).toEqual([
      ['L1', 100_000, 'EUR'],
      ['L2', 25_050, 'EUR'],
    ]);
    const summaries = (await env.store.listSummaries()).filter((s) => !s.customerId.startsWith('T'));
    expect(summaries.sort((a, b) => a.customerId.localeCompare(b.customerId))).toEqual([
      { customerId: 'LATE-1', currency: 'EUR', openAmount: 125_050 },
      { customerId: 'ONTIME-2', currency: 'EUR', openAmount: 50_000 },
    ]);
    const stored = await env.store.getRun(run.runId);
    expect(stored?.run).toMatchObject({ runId: run.runId, status: 'processed' });
    outcomes.set(`${name}:partition`, {
      invoices: late.books.invoices
        .map(({ from: _, ...i }) => i)
        .sort((a, b) => a.invoiceId.localeCompare(b.invoiceId)),
      summary: late.summary,
      summaries,
    });
  });

  it('evaluates the customers as of a day and lists the alerts it stored', async () => {
    const handler = createEvaluateHandler({
      store: env.store,
      notifier: { notify: async () => {}, digest: async () => {} },
      clock: { now: () => new Date('2025-06-30T03:00:02Z') },
      timeZone: 'Europe/Amsterdam',
      logger: quietLogger(),
      metrics: new Metrics({
        namespace: 'CreditSentinelTest',
        serviceName: 'evaluate',
        logger: quietLogger(),
      }),
    });
    const run = (await handler(
      { type: 'evaluate.daily', scheduledTime: '2025-06-30T03:00:00Z' },
      localContext(),
    )) as EvaluationRun;
    expect(run).toMatchObject({ asOf: '2025-06-30' });
    const active = await env.store.listAlerts('active');
    expect(active.find((a) => a.customerId === 'LATE-1' && a.rule === 'daysPastDue')).toMatchObject({
      severity: 'high',
      openedAsOf: '2025-06-30',
      evidence: { maxDaysPastDue: 60 },
    });
    expect(active.filter((a) => a.customerId === 'ONTIME-2' && a.rule === 'daysPastDue')).toEqual([]);
    const counts = await env.store.activeAlertCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(active.length);
    outcomes.set(`${name}:alerts`, {
      counts,
      alerts: active
        .map((a) => ({ customerId: a.customerId, rule: a.rule, severity: a.severity, evidence: a.evidence }))
        .sort((a, b) => `${a.customerId}${a.rule}`.localeCompare(`${b.customerId}${b.rule}`)),
    });
  });

  it('packs settled history and reads it back unchanged; a row written again meanwhile stays in full', async () => {
    const store = env.store;
    const rows: StoredRecord[] = Array.from({ length: 30 }, (_, i) => ({
      kind: 'invoices',
      row: {
        customerId: 'PACK-1',
        invoiceId: `PK-${i}`,
        issueDate: '2025-01-01',
        dueDate: '2025-01-31',
        amount: 1_000 + i,
        currency: 'EUR',
        disputed: i % 5 === 0,
        ...(i % 3 === 0
          ? { original: { amount: 900 + i, currency: 'USD', rate: '1.1', rateDate: '2025-01-01' } }
          : {}),
      },
      from: { runId: 'pack-test', line: i + 2 },
    }));
    await store.write(rows);
    // Two payments' allocations (their delete is conditional on the stamp: checked on both engines).
    const application = (paymentId: string, unapplied: number): StoredApplication => ({
      paymentId,
      receivedDate: '2025-02-01',
      currency: 'EUR',
      allocations: [{ paymentId, invoiceId: 'PK-1', amount: 500, date: '2025-02-01' }],
      unapplied,
      notes: [],
    });
    await store.saveDerived([
      { customerId: 'PACK-1', applications: [application('PP-0', 0), application('PP-1', 5)] },
    ]);
    const was = await store.loadCustomerPartition('PACK-1');
    const wasApplications = (await store.loadBooks('PACK-1')).applications;
    expect(wasApplications.size).toBe(2);
    const pick = {
      invoiceIds: new Set(was.books.invoices.map((i) => i.invoiceId)),
      paymentIds: new Set(['PP-0', 'PP-1']),
    };
    const t = new Date('2025-07-01T00:00:00Z');
    expect(await store.packHistory('PACK-1', pick, { now: t, minRows: 1, settleMs: 0 })).toEqual({
      packed: 30,
      deleted: 0,
      raced: false,
      allocations: { packed: 2, deleted: 0 },
    });
    // Derived again, differently, before its full item goes: it stays, and wins over its copy.
    await store.saveDerived([{ customerId: 'PACK-1', applications: [application('PP-1', 6)] }]);
    // Written again by a later upload before the full rows go: it stays, and wins over its copy.
    const again = {
      ...rows[4],
      row: { ...(rows[4] as StoredRecord).row, amount: 7 },
      from: { runId: 'later', line: 9 },
    };
    await store.write([again as StoredRecord]);
    const out = await store.packHistory('PACK-1', pick, {
      now: new Date(t.getTime() + 1),
      minRows: 31,
      settleMs: 0,
    });
    expect(out).toEqual({ packed: 0, deleted: 29, raced: false, allocations: { packed: 0, deleted: 1 } });
    expect((await store.loadBooks('PACK-1')).applications).toEqual(
      new Map([
        ['PP-0', application('PP-0', 0)],
        ['PP-1', application('PP-1', 6)],
      ]),
    );
    const got = await store.loadCustomerPartition('PACK-1');
    const { packed, ...rest } = got;
    expect(packed?.invoiceIds.size).toBe(29);
    expect(rest.books.invoices.find((i) => i.invoiceId === 'PK-4')).toMatchObject({
      amount: 7,
      from: { runId: 'later' },
    });
    const { packed: _p, ...expected } = was;
    expect(rest).toEqual({
      ...expected,
      books: {
        ...expected.books,
        invoices: expected.books.invoices.map((i) =>
          i.invoiceId === 'PK-4' ? { ...i, amount: 7, from: { runId: 'later', line: 9 } } : i,
        ),
      },
    });
  });

  it('claims a notification once: a second claimant gets the first claim back until it is stale', async () => {
    const [n] = reconcile(
      [],
      [
        {
          customerId: 'CLAIM-1',
          rule: 'daysPastDue',
          severity: 'high',
          action: 'collect',
          asOf: '2025-06-30',
          policyId: 'p',
          evidence: { maxDaysPastDue: 61 },
          summary: 'an invoice is 61 days past due',
        },
      ],
      '2025-06-30',
      '2025-06-30T05:00:00.000Z',
    ).notify as [Notification];
    const claim = (claimant: string, claimedAt: string): NotificationClaim => ({
      key: `${n.alert.alertId}#opened`,
      claimant,
      claimedAt,
      state: 'claimed',
      asOf: '2025-06-30',
      notification: n,
    });
    expect(
      await env.store.claimNotification(claim('a', '2025-06-30T05:00:00.000Z'), '2025-06-30T04:59:00.000Z'),
    ).toBe(undefined);
    const held = await env.store.claimNotification(
      claim('b', '2025-06-30T05:00:30.000Z'),
      '2025-06-30T04:59:30.000Z',
    );
    expect(held).toMatchObject({ claimant: 'a', state: 'claimed' });
    // a's claim is older than the stale mark: b takes it over.
    expect(
      await env.store.claimNotification(claim('b', '2025-06-30T05:02:00.000Z'), '2025-06-30T05:01:00.000Z'),
    ).toBe(undefined);
    // Once sent, nobody claims it again, however old.
    await env.store.markNotificationSent(claim('b', '').key, 'b', '2025-06-30T05:02:01.000Z');
    expect(
      await env.store.claimNotification(claim('c', '2025-07-30T00:00:00.000Z'), '2025-07-29T00:00:00.000Z'),
    ).toMatchObject({ claimant: 'b', state: 'sent' });
  });
});

/**
 * Where the two engines differ, and which one real DynamoDB agrees with (its documentation):
 * - ReturnConsumedCapacity: a read costs 1 unit per 4 KB of the items read (summed over a Query,
 *   rounded up; half for an eventually consistent read) and a write 1 unit per KB. dynalite sizes
 *   them so; moto 5.2.1 answers 1 whatever was read or written. Count capacity on dynalite.
 * - Table names of fewer than 3 characters: DynamoDB refuses them, as dynalite does; moto takes them.
 */
const DOCUMENTED = { query: 1.5, consistentQuery: 3, put: 5, shortNameRefused: true };
const ENGINE_SAYS: Record<string, typeof DOCUMENTED> = {
  dynalite: DOCUMENTED,
  moto: { query: 1, consistentQuery: 1, put: 1, shortNameRefused: false },
};

describe.each(ENGINES)("%s against DynamoDB's documented behaviour", (name, open) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await engineOf(name, open);
  });

  it('sizes consumed capacity, and checks table names, as recorded above', async () => {
    const c = new DynamoDBClient({
      endpoint: engine.env.endpoint,
      region: engine.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const TableName = engine.env.store.tableName;
    // Ten items of about 1 KB in one partition (10.1 KB together), then one of about 5 KB.
    for (let i = 0; i < 10; i++)
      await c.send(
        new PutItemCommand({
          TableName,
          Item: { pk: { S: 'CAPACITY' }, sk: { S: `s${i}` }, v: { S: 'x'.repeat(1000) } },
        }),
      );
    const query = (ConsistentRead: boolean) =>
      c.send(
        new QueryCommand({
          TableName,
          ConsistentRead,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': { S: 'CAPACITY' } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
    const put = await c.send(
      new PutItemCommand({
        TableName,
        Item: { pk: { S: 'CAPACITY-BIG' }, sk: { S: 's' }, v: { S: 'x'.repeat(5000) } },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    const refused = await c
      .send(
        new CreateTableCommand({
          TableName: 'ab',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      )
      .then(
        () => false,
        (e: Error) => e.name === 'ValidationException',
      );
    expect({
      query: (await query(false)).ConsumedCapacity?.CapacityUnits,
      consistentQuery: (await query(true)).ConsumedCapacity?.CapacityUnits,
      put: put.ConsumedCapacity?.CapacityUnits,
      shortNameRefused: refused,
    }).toEqual(ENGINE_SAYS[name]);
    c.destroy();
  });
});

describe('dynalite and moto', () => {
  it('stored the same books, summaries and alerts', () => {
    for (const what of ['partition', 'alerts']) {
      expect(outcomes.get(`dynalite:${what}`), what).toBeDefined();
      expect(outcomes.get(`moto:${what}`), what).toEqual(outcomes.get(`dynalite:${what}`));
    }
  });
});
