import { createRequire } from 'node:module';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';

/**
 * dynalite 4 closes its Query and Scan iterators through `iterator.return()`, which abstract-level
 * 3 iterators lack; the local runtime gives them one (infra/local/runtime/index.ts). Without it every
 * Query left a native LevelDB iterator open: a 100k-customer review grew the process past 9 GB.
 */
const require = createRequire(import.meta.url);
const { AbstractValueIterator } = require('abstract-level/abstract-iterator.js') as {
  AbstractValueIterator: { prototype: { close(): Promise<void> } };
};

let env: LocalEnv;
let closes = 0;
const original = AbstractValueIterator.prototype.close;
beforeAll(async () => {
  AbstractValueIterator.prototype.close = function (this: unknown) {
    closes++;
    return original.call(this);
  };
  env = await openLocal({ inMemory: true });
  for (let i = 0; i < 5; i++)
    await env.store.client.send(
      new PutItemCommand({
        TableName: env.store.tableName,
        Item: { pk: { S: 'CUST#C1' }, sk: { S: `INV#${i}` }, v: { N: String(i) } },
      }),
    );
});
afterAll(async () => {
  AbstractValueIterator.prototype.close = original;
  await env.close();
});

describe('the embedded DynamoDB', () => {
  it('closes the iterator of every Query it answers, read to the end or cut by a Limit', async () => {
    const query = (limit?: number) =>
      env.store.client.send(
        new QueryCommand({
          TableName: env.store.tableName,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': { S: 'CUST#C1' } },
          ...(limit ? { Limit: limit } : {}),
        }),
      );
    const before = closes;
    for (let i = 0; i < 20; i++) expect((await query()).Items).toHaveLength(5);
    for (let i = 0; i < 20; i++) expect((await query(2)).Items).toHaveLength(2);
    // Closing is asynchronous (stream teardown): let it settle.
    await new Promise((ok) => setTimeout(ok, 50));
    expect(closes - before).toBeGreaterThanOrEqual(40);
  });
});
