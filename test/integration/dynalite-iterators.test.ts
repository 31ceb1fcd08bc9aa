import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../functions/adapters/dynamodb.ts';
import { localClient } from '../../infra/local/runtime/index.ts';

/**
 * dynalite 4 closes its Query and Scan iterators through `iterator.return()`, which abstract-level
 * 3 iterators lack; the store's worker gives them one (infra/local/runtime/dynalite-worker.mjs).
 * Without it every Query left a native LevelDB iterator open: a 100k-customer review grew the
 * process past 9 GB. The worker here is the store's own, with the closes counted
 * (test/fixtures/workers/counting-dynalite.mjs).
 */
let worker: Worker;
let store: DynamoStore;
beforeAll(async () => {
  worker = new Worker(new URL('../fixtures/workers/counting-dynalite.mjs', import.meta.url), {
    workerData: { port: 0 },
    execArgv: [],
  });
  const [started] = (await once(worker, 'message')) as [{ port: number }];
  store = new DynamoStore({
    tableName: 'iterators',
    client: localClient(`http://127.0.0.1:${started.port}`),
  });
  await store.ensureTable();
  for (let i = 0; i < 5; i++)
    await store.client.send(
      new PutItemCommand({
        TableName: store.tableName,
        Item: { pk: { S: 'CUST#C1' }, sk: { S: `INV#${i}` }, v: { N: String(i) } },
      }),
    );
});
afterAll(async () => {
  store?.client.destroy();
  await worker?.terminate();
});

const closes = async (): Promise<number> => {
  worker.postMessage('count');
  const [m] = (await once(worker, 'message')) as [{ closes: number }];
  return m.closes;
};

describe('the embedded DynamoDB', () => {
  it('closes the iterator of every Query it answers, read to the end or cut by a Limit', async () => {
    const query = (limit?: number) =>
      store.client.send(
        new QueryCommand({
          TableName: store.tableName,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': { S: 'CUST#C1' } },
          ...(limit ? { Limit: limit } : {}),
        }),
      );
    const before = await closes();
    for (let i = 0; i < 20; i++) expect((await query()).Items).toHaveLength(5);
    for (let i = 0; i < 20; i++) expect((await query(2)).Items).toHaveLength(2);
    // Closing is asynchronous (stream teardown): let it settle.
    await new Promise((ok) => setTimeout(ok, 50));
    expect((await closes()) - before).toBeGreaterThanOrEqual(40);
  });
});
