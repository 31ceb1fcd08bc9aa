import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
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
import { bodyOf, CLIENT_CONFIG, close, listen, type Published, parsePublish } from './aws-fakes.ts';

/**
 * The periodic review's AWS adapters, driven through the real AWS SDK v3 clients against local
 * HTTP endpoints (there is no AWS account): an S3 endpoint answering path-style PutObject and
 * GetObject, and an SNS endpoint speaking the Query protocol. What is real: the SDK's own
 * serialisation and signing of every request, its parsing of the answers and of S3's error shape
 * into the modeled exception class. What is fake: only the two servers.
 */

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:CreditSentinel-ReviewsTopic5E6F7A8B-K3j4H5g6';
const BUCKET = 'reports-bucket';

// ---- a local S3 endpoint: path-style PutObject and GetObject on an in-memory bucket ----

interface S3Object {
  body: string;
  contentType: string | undefined;
}
interface S3Request {
  method: string | undefined;
  path: string;
  authorization: string | undefined;
}

/** What S3 answers a GetObject of a key that does not exist (REST-XML error, 404). */
const noSuchKey = (key: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${key}</Key><RequestId>4442587FB7D0A2F9</RequestId><HostId>aG9zdA==</HostId></Error>`;

// ---- a local SNS endpoint: the SDK's real Query-protocol Publish requests, parsed back ----

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

describe('the S3 manifest and report stores over path-style S3', () => {
  let server: Server;
  let s3: S3Client;
  let objects: Map<string, S3Object>;
  let requests: S3Request[];

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = decodeURIComponent(url.pathname);
      requests.push({ method: req.method, path, authorization: req.headers.authorization });
      const body = await bodyOf(req);
      const headers = { 'x-amz-request-id': randomUUID(), 'x-amz-id-2': 'aG9zdA==' };
      if (req.method === 'PUT') {
        objects.set(path, { body, contentType: req.headers['content-type'] });
        res.writeHead(200, { ...headers, etag: `"${randomUUID().replaceAll('-', '')}"` });
        res.end();
        return;
      }
      if (req.method === 'GET') {
        const o = objects.get(path);
        if (!o) {
          res.writeHead(404, { ...headers, 'content-type': 'application/xml' });
          res.end(noSuchKey(path.split('/').slice(2).join('/')));
          return;
        }
        res.writeHead(200, {
          ...headers,
          'content-type': o.contentType ?? 'binary/octet-stream',
          'content-length': Buffer.byteLength(o.body),
          etag: '"0123456789abcdef0123456789abcdef"',
        });
        res.end(o.body);
        return;
      }
      res.writeHead(405);
      res.end();
    });
    s3 = new S3Client({ ...CLIENT_CONFIG, endpoint: await listen(server), forcePathStyle: true });
  });
  afterAll(async () => {
    s3.destroy();
    await close(server);
  });
  beforeEach(() => {
    objects = new Map();
    requests = [];
  });

  it('manifests.put writes manifests/<run>.json as JSON and get reads the same items back', async () => {
    const { manifests } = s3ReviewStores(s3, BUCKET);
    const ref = await manifests.put('run-1', items);

    expect(ref).toEqual({ Bucket: BUCKET, Key: 'manifests/run-1.json' });
    expect([...objects.keys()]).toEqual([`/${BUCKET}/manifests/run-1.json`]);
    const stored = objects.get(`/${BUCKET}/manifests/run-1.json`);
    expect(stored?.contentType).toBe('application/json');
    expect(JSON.parse(stored?.body ?? 'null')).toEqual(items);
    // Signed by the SDK for S3.
    expect(requests[0]?.method).toBe('PUT');
    expect(requests[0]?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/eu-west-1\/s3\/aws4_request/,
    );

    expect(await manifests.get(ref)).toEqual(items);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `PUT /${BUCKET}/manifests/run-1.json`,
      `GET /${BUCKET}/manifests/run-1.json`,
    ]);
  });

  it('an empty manifest round-trips as an empty array', async () => {
    const { manifests } = s3ReviewStores(s3, BUCKET);
    const ref = await manifests.put('run-0', []);
    expect(objects.get(`/${BUCKET}/manifests/run-0.json`)?.body).toBe('[]');
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
    expect(objects.get(`/${BUCKET}/reports/run-1.csv`)).toEqual({
      body: csv,
      contentType: 'text/csv; charset=utf-8',
    });
    expect(objects.get(`/${BUCKET}/reports/run-1.html`)).toEqual({
      body: html,
      contentType: 'text/html; charset=utf-8',
    });
    expect(objects.size).toBe(2);
  });

  it('the two stores share one bucket, each under its own prefix', async () => {
    await new S3ManifestStore(s3, BUCKET).put('run-2', items);
    await new S3ReportStore(s3, BUCKET).put('run-2', { csv: 'a\n', html: '<p>a</p>' });
    expect([...objects.keys()].sort()).toEqual([
      `/${BUCKET}/manifests/run-2.json`,
      `/${BUCKET}/reports/run-2.csv`,
      `/${BUCKET}/reports/run-2.html`,
    ]);
  });

  it('a get of a missing manifest rejects with NoSuchKey', async () => {
    const { manifests } = s3ReviewStores(s3, BUCKET);
    const error = await manifests
      .get({ Bucket: BUCKET, Key: 'manifests/run-404.json' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoSuchKey);
    expect(error).toBeInstanceOf(S3ServiceException);
    expect(error).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    // maxAttempts 1: one request, no retry.
    expect(requests).toHaveLength(1);
  });
});

describe('SnsReviewNotifier over the SNS Query protocol', () => {
  let server: Server;
  let sns: SNSClient;
  let published: Published[];

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const form = new URLSearchParams(await bodyOf(req));
      published.push(parsePublish(form, req.headers));
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
    sns = new SNSClient({ ...CLIENT_CONFIG, endpoint: await listen(server) });
  });
  afterAll(async () => {
    sns.destroy();
    await close(server);
  });
  beforeEach(() => {
    published = [];
  });

  it('limitCut publishes once: a warning for the customer, the new limit in its currency, ASCII subject', async () => {
    await new SnsReviewNotifier(sns, TOPIC_ARN).limitCut(cut);

    expect(published).toHaveLength(1);
    const [p] = published;
    expect(p?.action).toBe('Publish');
    expect(p?.topicArn).toBe(TOPIC_ARN);
    expect(p?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/eu-west-1\/sns\/aws4_request/,
    );
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
    await new SnsReviewNotifier(sns, TOPIC_ARN).limitCut({
      ...cut,
      name: undefined,
      currency: 'JPY',
      limitAfter: 1_500_000,
    });
    expect(published[0]?.subject).toBe('Credit limit of C1001 cut to 1,500,000 JPY');
  });

  it('limitCut keeps the subject to 100 ASCII characters for a long name', async () => {
    const name = `Établissements ${'Über'.repeat(30)} Société Anonyme`;
    await new SnsReviewNotifier(sns, TOPIC_ARN).limitCut({ ...cut, name });
    const subject = published[0]?.subject ?? '';
    expect(subject).toMatch(/^[\x20-\x7e]{1,100}$/);
    expect(subject.startsWith('Credit limit of Etablissements Uber')).toBe(true);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('summary publishes event=review.summary, no severity, with the subject and text of reviewSummary', async () => {
    await new SnsReviewNotifier(sns, TOPIC_ARN).summary(run);

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
    await new SnsReviewNotifier(sns, TOPIC_ARN).summary(running);
    expect(published[0]?.subject).toBe('Credit review 2025-06-30: 0 reviewed, 0 failed, 0 need attention');
    expect(published[0]?.message).toBe('Credit review run-1 as of 2025-06-30: running');
  });
});
