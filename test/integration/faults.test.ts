import { GetItemCommand, PutItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultSpecError, injectFaults, parseFaultSpec } from '../../functions/adapters/faults.ts';
import { armCrash, crashPoint, disarmCrashes, SimulatedCrash } from '../../functions/core/crash.ts';
import { LOCAL_TABLE, type LocalEnv, localClient, openLocal } from '../../infra/local/runtime/index.ts';

// The fault seam against a real store (dynalite): faults are injected inside the SDK's retry
// loop, so the SDK's own retries and the store's resend of unprocessed items carry every write
// through, while a lost response shows the caller what idempotency has to survive.

let env: LocalEnv;
beforeAll(async () => {
  env = await openLocal({ inMemory: true });
});
afterAll(async () => env.close());

const put = (pk: string, sk: string): WriteRequest => ({
  PutRequest: { Item: { pk: { S: pk }, sk: { S: sk }, n: { N: sk.slice(1) } } },
});

describe('parseFaultSpec', () => {
  it('reads the SENTINEL_FAULTS form', () => {
    expect(parseFaultSpec('rate=0.1,kinds=throttle+lost,seed=7,ops=BatchWriteItem+PutItem')).toEqual({
      rate: 0.1,
      kinds: ['throttle', 'lost'],
      seed: 7,
      operations: ['BatchWriteItem', 'PutItem'],
    });
    expect(parseFaultSpec('rate=0')).toEqual({
      rate: 0,
      kinds: undefined,
      seed: undefined,
      operations: undefined,
    });
  });

  it.each([
    ['', /needs rate/],
    ['rate=2', /needs rate=<0\.\.1>, got "2"/],
    ['rate=0.1,kinds=fire', /fault kind "fire" is not one of throttle/],
    ['rate=0.1,speed=3', /unknown key "speed"/],
    ['rate=0.1,seed=x', /seed must be an integer/],
    ['rate', /"rate" is not key=value/],
  ])('names what is wrong in %j', (text, message) => {
    expect(() => parseFaultSpec(text)).toThrow(FaultSpecError);
    expect(() => parseFaultSpec(text)).toThrow(message);
  });
});

describe('injectFaults on a real store', () => {
  it('throttles, fails and times out calls that the SDK retries to completion', async () => {
    const client = localClient(env.endpoint);
    const counts = injectFaults(client, { rate: 0.3, kinds: ['throttle', 'server', 'timeout'], seed: 11 });
    for (let i = 0; i < 60; i++)
      await client.send(
        new PutItemCommand({
          TableName: LOCAL_TABLE,
          Item: { pk: { S: 'FAULTS#retried' }, sk: { S: `#${i}` } },
        }),
      );
    const injected = counts.injected.throttle + counts.injected.server + counts.injected.timeout;
    expect(injected).toBeGreaterThan(5);
    expect(counts.injected.throttle).toBeGreaterThan(0);
    expect(counts.injected.server).toBeGreaterThan(0);
    expect(counts.injected.timeout).toBeGreaterThan(0);
    const plain = localClient(env.endpoint);
    for (let i = 0; i < 60; i++) {
      const got = await plain.send(
        new GetItemCommand({
          TableName: LOCAL_TABLE,
          Key: { pk: { S: 'FAULTS#retried' }, sk: { S: `#${i}` } },
        }),
      );
      expect(got.Item?.sk?.S).toBe(`#${i}`);
    }
    client.destroy();
    plain.destroy();
  });

  it('a lost response means the write happened although the caller saw a timeout', async () => {
    const client = localClient(env.endpoint);
    injectFaults(client, { rate: 1, kinds: ['lost'], seed: 3 });
    const claim = new PutItemCommand({
      TableName: LOCAL_TABLE,
      Item: { pk: { S: 'FAULTS#lost' }, sk: { S: 'claim' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    // Every attempt's response is lost: the first attempt wrote the item, the SDK's retries then
    // meet their own write, which is exactly the situation a conditional claim must recognise.
    const err = await client.send(claim).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.name).toMatch(/TimeoutError|ConditionalCheckFailedException/);
    const plain = localClient(env.endpoint);
    const got = await plain.send(
      new GetItemCommand({ TableName: LOCAL_TABLE, Key: { pk: { S: 'FAULTS#lost' }, sk: { S: 'claim' } } }),
    );
    expect(got.Item?.sk?.S).toBe('claim');
    client.destroy();
    plain.destroy();
  });

  it('partial batches come back as unprocessed items and the store resends them', async () => {
    const faulty = await openLocal({
      endpoint: env.endpoint,
      faults: { rate: 0.5, kinds: ['partial'], seed: 5 },
    });
    const requests = Array.from({ length: 200 }, (_, i) => put('FAULTS#partial', `#${i}`));
    await faulty.store.batchWrite(requests);
    const plain = localClient(env.endpoint);
    for (const i of [0, 13, 24, 25, 99, 150, 199]) {
      const got = await plain.send(
        new GetItemCommand({
          TableName: LOCAL_TABLE,
          Key: { pk: { S: 'FAULTS#partial' }, sk: { S: `#${i}` } },
        }),
      );
      expect(got.Item?.n?.N).toBe(String(i));
    }
    await faulty.close();
    plain.destroy();
  });

  it('one seed gives the same faults on the same calls', async () => {
    const run = async () => {
      const client = localClient(env.endpoint);
      const counts = injectFaults(client, { rate: 0.4, kinds: ['throttle', 'server'], seed: 42 });
      for (let i = 0; i < 20; i++)
        await client.send(
          new PutItemCommand({
            TableName: LOCAL_TABLE,
            Item: { pk: { S: 'FAULTS#seed' }, sk: { S: `#${i}` } },
          }),
        );
      client.destroy();
      return counts.injected;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a.throttle + a.server).toBeGreaterThan(0);
  });

  it('operations outside the spec are left alone', async () => {
    const client = localClient(env.endpoint);
    const counts = injectFaults(client, { rate: 1, kinds: ['server'], operations: ['BatchWriteItem'] });
    await client.send(
      new PutItemCommand({ TableName: LOCAL_TABLE, Item: { pk: { S: 'FAULTS#ops' }, sk: { S: 'one' } } }),
    );
    expect(counts.calls).toBe(1);
    expect(counts.injected.server).toBe(0);
    client.destroy();
  });

  it('SENTINEL_FAULTS reaches openLocal', async () => {
    const before = process.env.SENTINEL_FAULTS;
    process.env.SENTINEL_FAULTS = 'rate=0.5,kinds=throttle,seed=9';
    try {
      const { injectedFaults } = await import('../../infra/local/runtime/index.ts');
      const n = injectedFaults.length;
      const faulty = await openLocal({ endpoint: env.endpoint });
      expect(injectedFaults.length).toBe(n + 1);
      await faulty.store.batchWrite(Array.from({ length: 30 }, (_, i) => put('FAULTS#env', `#${i}`)));
      expect(injectedFaults[n]?.injected.throttle).toBeGreaterThan(0);
      await faulty.close();
    } finally {
      if (before === undefined) delete process.env.SENTINEL_FAULTS;
      else process.env.SENTINEL_FAULTS = before;
    }
  });
});

describe('crash points', () => {
  it('do nothing unless armed, then throw on the n-th arrival, once', () => {
    crashPoint('test.somewhere');
    armCrash('test.somewhere', 3);
    crashPoint('test.somewhere');
    crashPoint('test.somewhere');
    expect(() => crashPoint('test.somewhere')).toThrow(SimulatedCrash);
    expect(() => crashPoint('test.somewhere')).not.toThrow();
    armCrash('test.other');
    disarmCrashes();
    expect(() => crashPoint('test.other')).not.toThrow();
  });
});
