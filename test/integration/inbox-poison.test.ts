import { chmod, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { InboxObjectStore } from '../../infra/local/runtime/files.ts';
import { InboxWatcher, localIngestHandler } from '../../infra/local/runtime/inbox.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { localMetrics } from '../../infra/local/runtime/metrics.ts';

// Nothing in the inbox stops the watcher, and a file that keeps failing is moved aside with its
// reason after a bounded number of tries (backoff shortened here: 10, 20 and 40 ms).
const BACKOFF = [10, 20, 40];
const CUSTOMERS = 'customer_id,name,currency,credit_limit\nK1,Kay,EUR,1000\n';

let env: LocalEnv;
let root: string;
let inbox: InboxObjectStore;
const errors: string[] = [];
let handler: (e: SQSEvent, c: Context) => Promise<unknown>;

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  root = await mkdtemp(join(tmpdir(), 'sentinel-inbox-poison-'));
  await InboxWatcher.prepare(root);
  inbox = new InboxObjectStore(root);
  handler = localIngestHandler(
    env,
    inbox,
    { customersChanged: async () => undefined },
    'UTC',
    localMetrics(join(root, '.metrics'), 'ingest'),
  );
});
afterAll(async () => {
  await env.close();
  await rm(root, { recursive: true, force: true });
});

const watcher = (h = handler) =>
  new InboxWatcher(inbox, h, (f, e) => errors.push(`${f}: ${(e as Error).message}`), BACKOFF);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the inbox survives what people drop in it', () => {
  it('a folder named like our own report beside the file: the file is ingested, nothing throws', async () => {
    await mkdir(join(root, 'customers', 'x.rejects.csv.part'), { recursive: true });
    await mkdir(join(root, 'customers', 'y.csv'), { recursive: true }); // a folder named like an upload
    await writeFile(join(root, 'customers', 'x.csv'), CUSTOMERS);
    const w = watcher();
    await w.scan(false);
    expect(w.failing()).toEqual([]);
    const names = await readdir(join(root, 'customers'));
    expect(names).toContain('x.rejects.csv');
    const q = new ReceivablesQueries(env.store);
    expect((await q.customer('K1', '2025-06-30'))?.customer?.name).toBe('Kay');
  });

  it('odd names (spaces, plus, percent, unicode, newline) are read like any other', async () => {
    const names = ['a b+c%20.csv', 'größe €.csv', 'line\nbreak.csv'];
    for (const [i, n] of names.entries())
      await writeFile(
        join(root, 'customers', n),
        `customer_id,name,currency,credit_limit\nO${i},Odd,EUR,1\n`,
      );
    const w = watcher();
    await w.scan(false);
    expect(w.failing()).toEqual([]);
    const q = new ReceivablesQueries(env.store);
    for (const i of [0, 1, 2]) expect((await q.customer(`O${i}`, '2025-06-30'))?.customer?.name).toBe('Odd');
  });

  it('a file that vanishes while it is read, and an unreadable one, stop nothing', async () => {
    const gone = join(root, 'customers', 'gone.csv');
    await writeFile(gone, CUSTOMERS);
    const vanishing = async (e: SQSEvent, c: Context) => {
      await unlink(gone).catch(() => undefined);
      return handler(e, c);
    };
    const locked = join(root, 'customers', 'locked.csv');
    await writeFile(locked, CUSTOMERS);
    await chmod(locked, 0);
    const w = watcher(vanishing);
    await w.scan(false);
    await w.scan(false);
    // Whatever happened to them, the watcher is still scanning.
    await writeFile(
      join(root, 'customers', 'after.csv'),
      'customer_id,name,currency,credit_limit\nA9,After,EUR,1\n',
    );
    await w.scan(false);
    const q = new ReceivablesQueries(env.store);
    expect((await q.customer('A9', '2025-06-30'))?.customer?.name).toBe('After');
    await chmod(locked, 0o644);
    await rm(locked);
  });

  it('a file that keeps failing is retried with backoff, then moved to failed/ with its reason', async () => {
    await writeFile(join(root, 'invoices', 'poison.csv'), 'whatever\n');
    let calls = 0;
    const failing = async (e: SQSEvent) => {
      if (!e.Records[0]?.body.includes('poison')) return { batchItemFailures: [] };
      calls++;
      throw new Error('All records failed processing');
    };
    const w = watcher(failing);
    for (
      let i = 0;
      i < 40 && !(await readdir(join(root, 'invoices'))).every((n) => n !== 'poison.csv');
      i++
    ) {
      await w.scan(false);
      await sleep(15);
    }
    expect(calls).toBe(BACKOFF.length + 1);
    expect(await readdir(join(root, 'invoices'))).not.toContain('poison.csv');
    expect(await readFile(join(root, 'failed', 'invoices', 'poison.csv'), 'utf8')).toBe('whatever\n');
    const reason = await readFile(join(root, 'failed', 'invoices', 'poison.csv.reason.txt'), 'utf8');
    expect(reason).toMatch(
      /^invoices\/poison\.csv failed 4 times; the last time at .*\nAll records failed processing\n/,
    );
    expect(w.failing()).toEqual([
      {
        file: 'invoices/poison.csv',
        at: expect.any(String),
        reason: 'All records failed processing (failed 4 times; moved to failed/invoices/poison.csv)',
      },
    ]);
    // A moved file is not read again from failed/.
    await w.scan(false);
    expect(calls).toBe(BACKOFF.length + 1);
    expect(errors.some((e) => e.includes('(try 1; the next in 0.01 s)'))).toBe(true);
  });
});
