import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { RejectsSink } from '../ingest/ports.ts';

export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
}

export interface OpenedObject {
  readonly body: AsyncIterable<Uint8Array>;
  readonly size?: number | undefined;
}

/** Where uploads are read from: S3 in AWS, the inbox folder locally. */
export interface ObjectStore {
  open(ref: ObjectRef): Promise<OpenedObject>;
  /** A sink for a report stored at `key` in the same bucket (or folder). */
  reportSink(ref: ObjectRef, key: string): RejectsSink;
}

/**
 * Rejects are spooled to a temporary file and put once complete, so a large report never sits in
 * memory and a half-written report never appears in the bucket.
 */
class S3ReportSink implements RejectsSink {
  private out: WriteStream | undefined;
  private dir: string | undefined;
  private readonly ready: Promise<void>;
  private buffered: string[] = [];

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {
    this.ready = mkdtemp(join(tmpdir(), 'rejects-')).then((d) => {
      this.dir = d;
      this.out = createWriteStream(join(d, 'report.csv'));
      for (const s of this.buffered) this.out.write(s);
      this.buffered = [];
    });
  }

  write(csvText: string): void {
    if (this.out) this.out.write(csvText);
    else this.buffered.push(csvText);
  }

  async close(): Promise<string> {
    await this.ready;
    const out = this.out as WriteStream;
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    const path = join(this.dir as string, 'report.csv');
    const { size } = await stat(path);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.key,
        Body: createReadStream(path),
        ContentLength: size,
        ContentType: 'text/csv; charset=utf-8',
      }),
    );
    await rm(this.dir as string, { recursive: true, force: true });
    return `s3://${this.bucket}/${this.key}`;
  }
}

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly s3: S3Client = new S3Client({})) {}

  async open(ref: ObjectRef): Promise<OpenedObject> {
    const out = await this.s3.send(
      new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId || undefined }),
    );
    if (!out.Body) throw new Error(`s3://${ref.bucket}/${ref.key} has no body`);
    return { body: out.Body as AsyncIterable<Uint8Array>, size: out.ContentLength };
  }

  reportSink(ref: ObjectRef, key: string): RejectsSink {
    return new S3ReportSink(this.s3, ref.bucket, key);
  }
}
