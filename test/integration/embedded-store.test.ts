// The embedded store (infra/local/runtime/index.ts, `startDynalite`): dynalite in a worker thread of
// the process, and the SDK clients without the SDK's unused log filtering (functions/adapters/sdk.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../functions/adapters/dynamodb.ts';
import { traced } from '../../functions/adapters/lambda.ts';
import { localClient, openLocal, startDynalite } from '../../infra/local/runtime/index.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('the embedded store', () => {
  it('runs in its own thread, keeps what was written across a close and a reopen of the same folder in one process', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sentinel-store-'));
    dirs.push(dir);
    const first = await openLocal({ dataDir: dir });
    await first.store.client.send(
      new PutItemCommand({
        TableName: first.store.tableName,
        Item: { pk: { S: 'CUST#A' }, sk: { S: 'PROFILE' }, name: { S: 'Acme' } },
      }),
    );
    await first.close();
    // The LevelDB lock was released with the thread: the same folder opens again here.
    const again = await openLocal({ dataDir: dir });
    try {
      const got = await again.store.client.send(
        new GetItemCommand({
          TableName: again.store.tableName,
          Key: { pk: { S: 'CUST#A' }, sk: { S: 'PROFILE' } },
        }),
      );
      expect(got.Item?.name).toEqual({ S: 'Acme' });
    } finally {
      await again.close();
    }
    // dynalite was never loaded on this thread: it ran in the store's own.
    expect(Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/dynalite/'))).toEqual(
      [],
    );
  });

  it('closes once however often it is asked, and a second store on a taken port is refused with the port named', async () => {
    const db = await startDynalite();
    const port = Number(new URL(db.endpoint).port);
    await expect(startDynalite(undefined, port)).rejects.toThrow(`127.0.0.1:${port}`);
    await Promise.all([db.close(), db.close()]);
    await db.close();
    // Closed: nothing answers on its port any more.
    await expect(fetch(db.endpoint, { method: 'POST' })).rejects.toThrow();
  });

  it('closes while requests are being answered: each answered or refused, the store stopping cleanly', async () => {
    // Cutting busy connections at close left requests half-answered on a closed LevelDB, which
    // threw in the store's thread ("Database is closed") and so in this process.
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    try {
      for (let round = 0; round < 12; round++) {
        const db = await startDynalite();
        // No retries: a request refused once the store is closing is refused, not tried for seconds.
        const client = new DynamoDBClient({
          endpoint: db.endpoint,
          region: 'local',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: 1,
        });
        await new DynamoStore({ client, tableName: 'closing' }).ensureTable();
        const calls = Array.from({ length: 100 }, (_, i) =>
          client
            .send(new GetItemCommand({ TableName: 'closing', Key: { pk: { S: `P${i}` }, sk: { S: 'x' } } }))
            .then(
              () => 'answered',
              () => 'refused',
            ),
        );
        await new Promise((ok) => setTimeout(ok, round % 4));
        await db.close();
        const outcomes = await Promise.all(calls);
        expect(outcomes.every((o) => o === 'answered' || o === 'refused')).toBe(true);
        client.destroy();
      }
      await new Promise((ok) => setTimeout(ok, 50));
      expect(errors).toEqual([]);
    } finally {
      process.off('uncaughtException', onError);
    }
  });

  it("the SDK's log filtering is off on the local and the Lambda clients, and calls still answer", async () => {
    const db = await startDynalite();
    try {
      const client = localClient(db.endpoint);
      expect(client.middlewareStack.identify().join('\n')).not.toContain('loggerMiddleware');
      const lambdaClient = traced(new DynamoDBClient({ region: 'eu-west-1' }));
      expect(lambdaClient.middlewareStack.identify().join('\n')).not.toContain('loggerMiddleware');
      // A plain client has it: the check above is not vacuous.
      expect(new DynamoDBClient({ region: 'eu-west-1' }).middlewareStack.identify().join('\n')).toContain(
        'loggerMiddleware',
      );
      await expect(
        client.send(new GetItemCommand({ TableName: 'missing', Key: { pk: { S: 'x' }, sk: { S: 'y' } } })),
      ).rejects.toThrow(/not found/i);
      client.destroy();
    } finally {
      await db.close();
    }
  });
});
