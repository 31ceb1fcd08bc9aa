import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type MessageAttributeValue, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { formatMoney } from '../core/money.ts';
import type { ManifestRef, ManifestStore, ReportStore, ReviewNotifier, ReviewRun } from '../reviews/ports.ts';
import type { DueCustomer, Review } from '../reviews/review.ts';
import { reviewSummary } from '../reviews/summary.ts';
import { snsSubject } from './sns-approvals.ts';

/**
 * The periodic review's AWS side: the manifest the Distributed Map reads and the run's reports in
 * the reports bucket, limit cuts and run summaries on the reviews topic.
 *
 *   manifests/<run>.json     the customers selected (a JSON array: the Map's ItemReader input)
 *   reports/<run>.csv|.html  the run's report
 */
export class S3ManifestStore implements ManifestStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(runId: string, items: readonly DueCustomer[]): Promise<ManifestRef> {
    const Key = `manifests/${runId}.json`;
    await putObject(this.s3, this.bucket, Key, JSON.stringify(items), 'application/json');
    return { Bucket: this.bucket, Key };
  }

  async get(ref: ManifestRef): Promise<DueCustomer[]> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: ref.Bucket, Key: ref.Key }));
    if (!out.Body) throw new Error(`s3://${ref.Bucket}/${ref.Key} has no body`);
    return JSON.parse(await out.Body.transformToString('utf-8')) as DueCustomer[];
  }
}

export class S3ReportStore implements ReportStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(runId: string, report: { csv: string; html: string }): Promise<{ csv: string; html: string }> {
    const csv = `reports/${runId}.csv`;
    const html = `reports/${runId}.html`;
    await putObject(this.s3, this.bucket, csv, report.csv, 'text/csv; charset=utf-8');
    await putObject(this.s3, this.bucket, html, report.html, 'text/html; charset=utf-8');
    return { csv: `s3://${this.bucket}/${csv}`, html: `s3://${this.bucket}/${html}` };
  }
}

async function putObject(s3: S3Client, Bucket: string, Key: string, Body: string, ContentType: string) {
  await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType }));
}

/** The manifest store and the report store of one bucket. */
export function s3ReviewStores(
  s3: S3Client,
  bucket: string,
): { manifests: ManifestStore; reports: ReportStore } {
  return { manifests: new S3ManifestStore(s3, bucket), reports: new S3ReportStore(s3, bucket) };
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** Limit cuts (`event` = `review.limitCut`, with severity and customer) and run summaries (`review.summary`). */
export class SnsReviewNotifier implements ReviewNotifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async limitCut(r: Review): Promise<void> {
    const ccy = r.currency ?? '';
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: snsSubject(
          `Credit limit of ${r.name ?? r.customerId} cut to ${formatMoney(r.limitAfter ?? 0, ccy)}`,
        ),
        Message: `${r.customerId}: ${r.decision ?? ''}\nReview ${r.reviewId}, as of ${r.asOf}, policy ${r.policyId}.`,
        MessageAttributes: {
          event: text('review.limitCut'),
          severity: text('warning'),
          customerId: text(r.customerId),
        },
      }),
    );
  }

  async summary(run: ReviewRun): Promise<void> {
    const s = reviewSummary(run);
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: snsSubject(s.subject),
        Message: s.text,
        MessageAttributes: { event: text('review.summary') },
      }),
    );
  }
}
