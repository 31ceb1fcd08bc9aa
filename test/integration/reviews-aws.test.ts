import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  S3ManifestStore,
  S3ReportStore,
  SnsReviewNotifier,
  s3ReviewStores,
} from '../../functions/adapters/reviews-aws.ts';
import type { ReviewRun } from '../../functions/reviews/ports.ts';
import type { DueCustomer, Review } from '../../functions/reviews/review.ts';
import { reviewSummary } from '../../functions/reviews/summary.ts';
import { type Moto, startMoto } from '../moto.ts';
import { type Delivered, type TopicWithQueue, topicWithQueue } from './aws-moto.ts';

/**
 * The periodic review's AWS adapters, driven through the real AWS SDK v3 clients against moto's
 * S3 and SNS (one server for the file): the objects are read back from the bucket, the notices
 * from an SQS queue subscribed to the topic, as moto delivered them.
 */

const BUCKET = 'reports-bucket';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.close();
});

const attr = (StringValue: string) => ({ DataType: 'String', StringValue });

// ---- reviews and runs, built by hand ----

const items: DueCustomer[] = [
  { customerId: 'C1001', reason: 'first review' },
  { customerId: 'C1002', reason: 'scheduled: due on 2025-06-30 (high risk, every 1 months)' },
  { customerId: 'C1003', reason: 'at once: high alert overdue raised after the last review (2025-05-31)' },
];

const cut: Review = {
  reviewId: 'run-1/C1001',
  runId: 'run-1',
  customerId: 'C1001',
  name: 'Müller GmbH',
  asOf: '2025-06-30',
  reviewedAt: '2025-06-30T02:00:00.000Z',
  policyId: 'policy-v3',
  due: 'first review',
  status: 'done',
  currency: 'EUR',
  previous: { reviewedOn: '2025-03-31', rating: 'B', score: 71, limit: 2_500_000 },
  score: 48,
  rating: 'D',
  riskClass: 'high',
  currentLimit: 2_500_000,
  recommendedLimit: 1_600_000,
  outcome: 'cut',
  decision: 'limit cut from 25000.00 EUR to 16000.00 EUR: rating fell from B to D',
  limitAfter: 1_600_000,
  nextReviewOn: '2025-07-30',
  attention: true,
  applied: false,
};

const run: ReviewRun = {
  runId: 'run-1',
  asOf: '2025-06-30',
  policyId: 'policy-v3',
  trigger: 'schedule',
  startedAt: '2025-06-30T02:00:00.000Z',
  status: 'done',
  selected: 3,
  manifest: { Bucket: BUCKET, Key: 'manifests/run-1.json' },
  finishedAt: '2025-06-30T02:05:00.000Z',
  counts: {
    reviewed: 2,
    failed: 1,
    outcomes: { cut: 1, raise: 1, approval: 0, keep: 0 },
    ratingUp: 1,
    ratingDown: 1,
    attention: 2,
  },
  report: { csv: `s3://${BUCKET}/reports/run-1.csv`, html: `s3://${BUCKET}/reports/run-1.html` },
};

describe('the S3 manifest and report stores on S3', () => {
  let s3: S3Client;

  const keys = async () =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key).sort();
  const object = async (Key: string) => {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    return { body: await out.Body?.transformToString('utf-8'), contentType: out.ContentType };
  };

  beforeAll(async () => {
    s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({
        Bucket: BUCKET,
        CreateBucketConfiguration: { LocationConstraint: moto.clientConfig.region as 'eu-west-1' },
      }),
    );
  });
  afterAll(() => s3?.destroy());
  beforeEach(async () => {
    const all = await keys();
    if (all.length > 0)
      await s3.send(
        new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: all.map((Key) => ({ Key })) } }),
      );
  });

  it('manifests.put writes manifests/<run>.json as JSON and get reads the same items back', async () => {
    const { manifests } = s3ReviewStores(s3, BUCKET);
    const ref = await manifests.put('run-1', items);

    expect(ref).toEqual({ Bucket: BUCKET, Key: 'manifests/run-1.json' });
    expect(await keys()).toEqual(['manifests/run-1.json']);
    const stored = await object('manifests/run-1.json');
    expect(stored.contentType).toBe('application/json');
    expect(JSON.parse(stored.body ?? 'null')).toEqual(items);
    expect(await manifests.get(ref)).toEqual(items);
  });

  it('an empty manifest round-trips as an empty array', async () => {
    const { manifests } = s3ReviewStores(s3, BUCKET);
    const ref = await manifests.put('run-0', []);
    expect((await object('manifests/run-0.json')).body).toBe('[]');
    expect(await manifests.get(ref)).toEqual([]);
  });

  it('reports.put writes the CSV and the HTML report and returns their s3:// addresses', async () => {
    const { reports } = s3ReviewStores(s3, BUCKET);
    const csv = 'customerId,name,outcome\nC1001,Müller GmbH,cut\n';
    const html = '<!doctype html><title>Review run-1</title><p>Müller GmbH: cut</p>';
    const where = await reports.put('run-1', { csv, html });

    expect(where).toEqual({
      csv: `s3://${BUCKET}/reports/run-1.csv`,
      html: `s3://${BUCKET}/reports/run-1.html`,
    });
    expect(await object('reports/run-1.csv')).toEqual({ body: csv, contentType: 'text/csv; charset=utf-8' });
    expect(await object('reports/run-1.html')).toEqual({
      body: html,
      contentType: 'text/html; charset=utf-8',
    });
    expect(await keys()).toEqual(['reports/run-1.csv', 'reports/run-1.html']);
  });

  it('the two stores share one bucket, each under its own prefix', async () => {
    await new S3ManifestStore(s3, BUCKET).put('run-2', items);
    await new S3ReportStore(s3, BUCKET).put('run-2', { csv: 'a\n', html: '<p>a</p>' });
    expect(await keys()).toEqual(['manifests/run-2.json', 'reports/run-2.csv', 'reports/run-2.html']);
  });

  it('a get of a missing manifest rejects with NoSuchKey', async () => {
    const { manifests } = s3ReviewStores(s3, BUCKET);
    const error = await manifests
      .get({ Bucket: BUCKET, Key: 'manifests/run-404.json' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoSuchKey);
    expect(error).toBeInstanceOf(S3ServiceException);
    expect(error).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  });
});

describe('SnsReviewNotifier on SNS', () => {
  let topic: TopicWithQueue;
  let TOPIC_ARN: string;
  let published: Delivered[];
  const publishedNow = async () => {
    published = await topic.drain();
    return published;
  };

  beforeAll(async () => {
    topic = await topicWithQueue(moto, 'CreditSentinel-ReviewsTopic');
    TOPIC_ARN = topic.topicArn;
  });
  afterAll(() => topic?.destroy());
  const sns = () => topic.sns;

  it('limitCut publishes once: a warning for the customer, the new limit in its currency, ASCII subject', async () => {
    await new SnsReviewNotifier(sns(), TOPIC_ARN).limitCut(cut);
    await publishedNow();

    expect(published).toHaveLength(1);
    const [p] = published;
    expect(p?.topicArn).toBe(TOPIC_ARN);
    expect(p?.attributes).toEqual({
      event: attr('review.limitCut'),
      severity: attr('warning'),
      customerId: attr('C1001'),
    });
    // The "ü" loses its accent in the subject; the message keeps what the review says.
    expect(p?.subject).toBe('Credit limit of Muller GmbH cut to 16,000.00 EUR');
    expect(p?.message).toContain('C1001');
    expect(p?.message).toContain(cut.decision);
    expect(p?.message).toContain('run-1/C1001');
    expect(p?.message).toBe(
      `C1001: ${cut.decision}\nReview run-1/C1001, as of 2025-06-30, policy policy-v3.`,
    );
  });

  it('limitCut formats the limit in the currency of the review, and names the customer by id without a name', async () => {
    await new SnsReviewNotifier(sns(), TOPIC_ARN).limitCut({
      ...cut,
      name: undefined,
      currency: 'JPY',
      limitAfter: 1_500_000,
    });
    await publishedNow();
    expect(published[0]?.subject).toBe('Credit limit of C1001 cut to 1,500,000 JPY');
  });

  it('limitCut keeps the subject to 100 ASCII characters for a long name', async () => {
    const name = `Établissements ${'Über'.repeat(30)} Société Anonyme`;
    await new SnsReviewNotifier(sns(), TOPIC_ARN).limitCut({ ...cut, name });
    await publishedNow();
    const subject = published[0]?.subject ?? '';
    expect(subject).toMatch(/^[\x20-\x7e]{1,100}$/);
    expect(subject.startsWith('Credit limit of Etablissements Uber')).toBe(true);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('summary publishes event=review.summary, no severity, with the subject and text of reviewSummary', async () => {
    await new SnsReviewNotifier(sns(), TOPIC_ARN).summary(run);
    await publishedNow();

    expect(published).toHaveLength(1);
    const [p] = published;
    const s = reviewSummary(run);
    expect(p?.topicArn).toBe(TOPIC_ARN);
    expect(p?.attributes).toEqual({ event: attr('review.summary') });
    expect(p?.attributes.severity).toBeUndefined();
    expect(p?.subject).toBe(s.subject);
    expect(p?.subject).toBe('Credit review 2025-06-30: 2 reviewed, 1 failed, 2 need attention');
    expect(p?.message).toBe(s.text);
    expect(p?.message).toContain(`Report: s3://${BUCKET}/reports/run-1.html`);
  });

  it('summary of a run without counts still publishes', async () => {
    const running: ReviewRun = { ...run, status: 'running', counts: undefined, report: undefined };
    await new SnsReviewNotifier(sns(), TOPIC_ARN).summary(running);
    await publishedNow();
    expect(published).toHaveLength(1);
    expect(published[0]?.subject).toBe('Credit review 2025-06-30: 0 reviewed, 0 failed, 0 need attention');
    expect(published[0]?.message).toBe('Credit review run-1 as of 2025-06-30: running');
  });
});
