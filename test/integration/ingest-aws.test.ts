import {
  CreateBucketCommand,
  GetObjectCommand,
  NoSuchKey,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../functions/adapters/s3.ts';
import { SnsChangeNotifier } from '../../functions/adapters/sns.ts';
import { snsMessageOf } from '../../functions/adapters/sns-envelope.ts';
import type { CustomersChanged } from '../../functions/ingest/ports.ts';
import { type Moto, startMoto } from '../moto.ts';
import { topicWithQueue } from './aws-moto.ts';

/**
 * The ingestion's AWS adapters against moto (one server for the file), through the real SDK
 * clients: uploads read from a versioned bucket, rejects reports written back to it, and the
 * "customers changed" message published on the topic and read back from a subscribed queue the
 * way the evaluate function reads it.
 */

const BUCKET = 'upload-bucket';

let moto: Moto;
let s3: S3Client;
beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
  await s3.send(
    new CreateBucketCommand({
      Bucket: BUCKET,
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
    }),
  );
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }),
  );
});
afterAll(async () => {
  s3?.destroy();
  await moto?.close();
});

const text = async (body: AsyncIterable<Uint8Array>) => {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
};

describe('S3ObjectStore on a versioned bucket', () => {
  it('opens the version the event named, not the latest, with its size', async () => {
    const first = 'invoice_id,customer_id\nI1,C1\n';
    const v1 = await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'invoices/2025-06.csv', Body: first }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'invoices/2025-06.csv', Body: 'replaced\n' }));
    expect(v1.VersionId).toBeTruthy();
    const store = new S3ObjectStore(s3);
    const opened = await store.open({ bucket: BUCKET, key: 'invoices/2025-06.csv', versionId: v1.VersionId });
    expect(opened.size).toBe(Buffer.byteLength(first));
    expect(await text(opened.body)).toBe(first);
    // No version (an empty one too): the latest.
    const latest = await store.open({ bucket: BUCKET, key: 'invoices/2025-06.csv', versionId: '' });
    expect(await text(latest.body)).toBe('replaced\n');
  });

  it('a missing object rejects with NoSuchKey', async () => {
    await expect(
      new S3ObjectStore(s3).open({ bucket: BUCKET, key: 'invoices/none.csv' }),
    ).rejects.toBeInstanceOf(NoSuchKey);
  });

  it('a rejects report is put once complete, as CSV, at the key asked, and its s3:// address returned', async () => {
    const sink = new S3ObjectStore(s3).reportSink(
      { bucket: BUCKET, key: 'invoices/2025-06.csv' },
      'rejects/r1.csv',
    );
    sink.write('line,reason\n');
    const rows = Array.from({ length: 2_000 }, (_, i) => `${i + 2},"amount is not a number: ""x${i}"""\n`);
    for (const r of rows) sink.write(r);
    expect(await sink.close()).toBe(`s3://${BUCKET}/rejects/r1.csv`);
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'rejects/r1.csv' }));
    expect(out.ContentType).toBe('text/csv; charset=utf-8');
    expect(await out.Body?.transformToString('utf-8')).toBe(`line,reason\n${rows.join('')}`);
  });
});

describe('SnsChangeNotifier on SNS', () => {
  it('publishes the message with its type and run as attributes; the subscribed queue reads it back', async () => {
    const topic = await topicWithQueue(moto, 'CreditSentinel-IngestionChangesTopic');
    try {
      const message: CustomersChanged = {
        type: 'customers.changed',
        runId: 'run-7',
        asOf: '2025-06-30',
        customerIds: ['C1', 'Großhandel Süd'],
      };
      await new SnsChangeNotifier(topic.topicArn, topic.sns).customersChanged(message);
      const [delivered, ...more] = await topic.drain();
      expect(more).toEqual([]);
      expect(delivered?.attributes).toEqual({
        type: { DataType: 'String', StringValue: 'customers.changed' },
        runId: { DataType: 'String', StringValue: 'run-7' },
      });
      // What the evaluate function does with the SQS record: the envelope moto built parses.
      const { envelope, message: read } = snsMessageOf(delivered?.record ?? { body: '' });
      expect(envelope.TopicArn).toBe(topic.topicArn);
      expect(read).toEqual(message);
    } finally {
      topic.destroy();
    }
  });

  it('a subscription filtered on the type gets customers.changed and nothing else', async () => {
    const topic = await topicWithQueue(moto, 'CreditSentinel-IngestionChangesTopic', {
      filterPolicy: { type: ['customers.changed'] },
    });
    try {
      await new SnsChangeNotifier(topic.topicArn, topic.sns).customersChanged({
        type: 'customers.changed',
        runId: 'run-8',
        asOf: '2025-06-30',
        customerIds: ['C1'],
      });
      await new SnsChangeNotifier(topic.topicArn, topic.sns).customersChanged({
        type: 'runs.finished',
        runId: 'run-8',
      } as unknown as CustomersChanged);
      expect((await topic.drain()).map((d) => d.attributes.type?.StringValue)).toEqual(['customers.changed']);
    } finally {
      topic.destroy();
    }
  });
});
