import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mapLimit } from '../core/concurrency.ts';
import type { DailyRunFiles, DailyRunReport, FailedBatch, RunObjectRef } from '../credit/daily-run.ts';
import type { BatchEvaluation } from '../credit/evaluate.ts';

/**
 * The daily evaluation's run files in its bucket (the Distributed Map reads the manifest):
 *
 *   runs/<run>/manifest.json          every customer id (a JSON array: the Map's ItemReader input)
 *   runs/<run>/batches/<first>.json   one batch's result (keyed by its first customer: a retry replaces it)
 *   runs/<run>/failed/<first>.json    a batch that failed after its retries, with its customers
 *   runs/<run>/report.json            the run's report
 */
export class S3DailyRunFiles implements DailyRunFiles {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  private async put(Key: string, value: unknown): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
      }),
    );
  }

  private async get<T>(Bucket: string, Key: string): Promise<T> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket, Key }));
    if (!out.Body) throw new Error(`s3://${Bucket}/${Key} has no body`);
    return JSON.parse(await out.Body.transformToString('utf-8')) as T;
  }

  private async all<T>(prefix: string): Promise<T[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return mapLimit(keys.sort(), 16, (k) => this.get<T>(this.bucket, k));
  }

  private static nameOf(id: string | undefined): string {
    return `${Buffer.from(id ?? '').toString('base64url')}.json`;
  }

  async putManifest(runId: string, customerIds: readonly string[]): Promise<RunObjectRef> {
    const Key = `runs/${runId}/manifest.json`;
    await this.put(Key, customerIds);
    return { Bucket: this.bucket, Key };
  }
  getManifest(ref: RunObjectRef): Promise<string[]> {
    return this.get<string[]>(ref.Bucket, ref.Key);
  }
  putBatch(runId: string, batch: BatchEvaluation): Promise<void> {
    return this.put(`runs/${runId}/batches/${S3DailyRunFiles.nameOf(batch.customerIds[0])}`, batch);
  }
  listBatches(runId: string): Promise<BatchEvaluation[]> {
    return this.all(`runs/${runId}/batches/`);
  }
  putFailure(runId: string, failure: FailedBatch): Promise<void> {
    return this.put(`runs/${runId}/failed/${S3DailyRunFiles.nameOf(failure.customerIds[0])}`, failure);
  }
  listFailures(runId: string): Promise<FailedBatch[]> {
    return this.all(`runs/${runId}/failed/`);
  }
  putReport(runId: string, report: DailyRunReport): Promise<void> {
    return this.put(`runs/${runId}/report.json`, report);
  }
}
