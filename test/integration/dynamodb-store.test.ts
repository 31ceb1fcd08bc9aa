import { DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../functions/adapters/dynamodb.ts';
import type { StoredRecord } from '../../functions/ingest/ports.ts';
import { LOCAL_REGION, type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';

let env: LocalEnv;
beforeAll(async () => {
  env = await openLocal({ inMemory: true });
});
afterAll(async () => env.close());

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

describe('DynamoStore.batchWrite under throttling', () => {
  it('retries the items DynamoDB leaves unprocessed until every one is written', async () => {
    // A client whose first three BatchWriteItem calls lose half their items on the way to the table
    // and report them as UnprocessedItems, as DynamoDB does when a partition is throttled.
    const client = new DynamoDBClient({
      endpoint: env.endpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    let throttled = 0;
    let calls = 0;
    client.middlewareStack.add(
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
    const store = new DynamoStore({ tableName: env.store.tableName, client, writeConcurrency: 2 });
    const records = Array.from({ length: 60 }, (_, i) => invoice(i));
    await store.write(records);
    expect(throttled).toBe(3);
    expect(calls).toBeGreaterThan(3); // 3 requests of 25/25/10 plus the retries of what was dropped
    for (const r of records) expect(await store.provenanceOf(r)).toEqual(r.from);
    client.destroy();
  });

  it('gives up loudly, never silently, when items stay unprocessed', async () => {
    const client = new DynamoDBClient({
      endpoint: env.endpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    client.middlewareStack.add(
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
    const store = new DynamoStore({ tableName: env.store.tableName, client, backoffBaseMs: 1 });
    await expect(store.write([invoice(1000)])).rejects.toThrow(/unprocessed after 10 retries/);
    client.destroy();
  });
});
