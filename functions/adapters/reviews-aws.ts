import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type MessageAttributeValue, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { formatMinor } from '../core/money.ts';
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
export class S3ReviewFiles implements ManifestStore, ReportStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(runId: string, items: readonly DueCustomer[]): Promise<ManifestRef>;
  async put(runId: string, report: { csv: string; html: string }): Promise<{ csv: string; html: string }>;
  async put(
    runId: string,
    what: readonly DueCustomer[] | { csv: string; html: string },
  ): Promise<ManifestRef | { csv: string; html: string }> {
    if (Array.isArray(what)) {
      const Key = `manifests/${runId}.json`;
      await this.object(Key, JSON.stringify(what), 'application/json');
      return { Bucket: this.bucket, Key };
    }
    const r = what as { csv: string; html: string };
    const csv = `reports/${runId}.csv`;
    const html = `reports/${runId}.html`;
    await this.object(csv, r.csv, 'text/csv; charset=utf-8');
    await this.object(html, r.html, 'text/html; charset=utf-8');
    return { csv: `s3://${this.bucket}/${csv}`, html: `s3://${this.bucket}/${html}` };
  }

  async get(ref: ManifestRef): Promise<DueCustomer[]> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: ref.Bucket, Key: ref.Key }));
    if (!out.Body) throw new Error(`s3://${ref.Bucket}/${ref.Key} has no body`);
    return JSON.parse(await out.Body.transformToString('utf-8')) as DueCustomer[];
  }

  private async object(Key: string, Body: string, ContentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body, ContentType }));
  }
}

/** The manifest store and the report store of one bucket, as the review app's two ports. */
export function s3ReviewStores(
  s3: S3Client,
  bucket: string,
): { manifests: ManifestStore; reports: ReportStore } {
  const files = new S3ReviewFiles(s3, bucket);
  return {
    manifests: { put: (runId, items) => files.put(runId, items), get: (ref) => files.get(ref) },
    reports: { put: (runId, report) => files.put(runId, report) },
  };
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
          `Credit limit of ${r.name ?? r.customerId} cut to ${formatMinor(r.limitAfter ?? 0, ccy)} ${ccy}`,
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
