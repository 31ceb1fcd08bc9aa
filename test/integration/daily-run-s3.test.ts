import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3DailyRunFiles } from '../../functions/adapters/s3-evaluations.ts';
import type { BatchEvaluation } from '../../functions/credit/evaluate.ts';

// The daily evaluation's run files on S3 (functions/adapters/s3-evaluations.ts) against moto,
// through the real SDK client: the manifest the Distributed Map's ItemReader reads, batch results
// listed past one page, a retried batch replacing its own result.
const MOTO = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const BUCKET = 'evaluation-runs-test';

let moto: ChildProcess;
let s3: S3Client;

const freePort = () =>
  new Promise<number>((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });

beforeAll(async () => {
  const port = await freePort();
  moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(`${endpoint}/moto-api/`);
      break;
    } catch (e) {
      if (i > 150) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  s3 = new S3Client({ ...MOTO, endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 60_000);

afterAll(() => {
  moto?.kill();
});

const batchOf = (ids: string[], evaluated = ids.length): BatchEvaluation => ({
  asOf: '2026-12-07',
  customerIds: ids,
  evaluated,
  skipped: ids.length - evaluated,
  ratings: { B: evaluated },
  ratingChanges: 0,
  opened: 1,
  escalated: 0,
  raisedBySeverity: { info: 0, warning: 1, high: 0, critical: 0 },
  resolved: 0,
  notifications: 1,
  history: { packed: 0, deleted: 0 },
  open: ids.map((id) => [id, 'EUR', 100] as const),
  concentrationAlerts: [],
});

describe('S3DailyRunFiles on moto', () => {
  it('writes the manifest as the JSON array of ids the ItemReader reads, and reads it back', async () => {
    const files = new S3DailyRunFiles(s3, BUCKET);
    const ids = ['C1', 'C2', 'Ç3/ü'];
    const ref = await files.putManifest('run-1', ids);
    expect(ref).toEqual({ Bucket: BUCKET, Key: 'runs/run-1/manifest.json' });
    const raw = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: ref.Key }));
    expect(JSON.parse(await (raw.Body?.transformToString('utf-8') ?? ''))).toEqual(ids);
    expect(await files.getManifest(ref)).toEqual(ids);
  });

  it('lists every batch result past one page, a retried batch replacing its own', async () => {
    const files = new S3DailyRunFiles(s3, BUCKET);
    const n = 1_003; // ListObjectsV2 answers 1,000 keys a page
    for (let i = 0; i < n; i++)
      await files.putBatch('run-2', batchOf([`C${String(i).padStart(5, '0')}`, `X${i}`]));
    // The retry of batch 7, which this time skipped one customer.
    await files.putBatch('run-2', batchOf(['C00007', 'X7'], 1));
    const listed = await files.listBatches('run-2');
    expect(listed).toHaveLength(n);
    expect(listed.find((b) => b.customerIds[0] === 'C00007')?.skipped).toBe(1);
    expect(new Set(listed.map((b) => b.customerIds[0])).size).toBe(n);
    // Another run's files are not this run's.
    expect(await files.listBatches('run-1')).toEqual([]);
  }, 120_000);

  it('keeps failed batches with their customers, per run', async () => {
    const files = new S3DailyRunFiles(s3, BUCKET);
    await files.putFailure('run-3', {
      customerIds: ['C9', 'C10'],
      error: 'States.TaskFailed',
      cause: 'boom',
    });
    expect(await files.listFailures('run-3')).toEqual([
      { customerIds: ['C9', 'C10'], error: 'States.TaskFailed', cause: 'boom' },
    ]);
    expect(await files.listFailures('run-2')).toEqual([]);
  });
});
