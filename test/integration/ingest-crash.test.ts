import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoUploadClaims } from '../../functions/adapters/dynamodb-uploads.ts';
import { injectFaults } from '../../functions/adapters/faults.ts';
import { armCrash, disarmCrashes, SimulatedCrash } from '../../functions/core/crash.ts';
import { createIngestHandler } from '../../functions/ingest/app.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import { ProfileCatalog } from '../../functions/ingest/uploads.ts';
import { InboxObjectStore } from '../../infra/local/runtime/files.ts';
import { localContext, s3SqsEvent } from '../../infra/local/runtime/inbox.ts';
import { LOCAL_REGION, type LocalEnv, localRunOwner, openLocal } from '../../infra/local/runtime/index.ts';
import { localMetrics } from '../../infra/local/runtime/metrics.ts';
import { books, deps, differences, largeBooks, NOW, seeded } from './ingest-books.ts';

/**
 * A run that dies at any point (after some rows, before the recompute, before its run record) and
 * is started again ends like one clean run: every customer's figures and every item the same, no
 * mark of the dead run left, no good row refused as a duplicate of itself.
 */
let clean: LocalEnv;
let dir: string;
let files: { invoices: string; payments: string };
const ROWS = { customers: 60, invoices: 600, payments: 2400 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-crash-'));
  files = await largeBooks(dir, 5, ROWS);
  clean = await openLocal({ inMemory: true });
  for (const f of [files.invoices, files.payments]) await loadFile(clean, f);
});
afterAll(async () => {
  await clean.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => disarmCrashes());

/** The owner of a run killed with kill -9: a process this host no longer has. */
const killed = { id: `${hostname()}:999999999`, alive: localRunOwner().alive };

async function loadFile(env: LocalEnv, path: string, owner: typeof killed = localRunOwner()) {
  const { readFile } = await import('node:fs/promises');
  const kind = path.includes('invoices') ? 'invoices' : 'payments';
  let rejected = 0;
  // A deterministic run id, as the inbox and the Lambda give one object version: the run again
  // after a crash is the same run, and must not take its own earlier rows for duplicates.
  const run = await ingest(deps(env.store, { owner }), {
    source: Readable.from([await readFile(path)]),
    fileName: `${kind}/${kind}.csv`,
    objectRef: `file://${path}`,
    runId: `obj-${kind}`,
    profile: canonicalProfile(kind),
    rejects: {
      write: (line: string) => {
        if (!line.startsWith('line,')) rejected++;
      },
      close: async () => 'memory://',
    },
  });
  return { run, rejected };
}

describe('a run killed at a crash point, started again', () => {
  const random = seeded(42);
  const total = ROWS.invoices + ROWS.payments;
  const points: [string, number][] = [
    ['ingest.after-rows', 1 + Math.floor(random() * total)],
    ['ingest.after-rows', total],
    ['ingest.before-recompute', 1],
    ['ingest.before-recompute', 2],
    ['ingest.before-run-record', 2],
  ];
  it.each(points)('%s@%i ends like a clean run', async (point, nth) => {
    const env = await openLocal({ inMemory: true });
    try {
      armCrash(point, nth);
      let crashed = false;
      try {
        for (const f of [files.invoices, files.payments]) await loadFile(env, f, killed);
      } catch (e) {
        expect(e).toBeInstanceOf(SimulatedCrash);
        crashed = true;
      }
      expect(crashed).toBe(true);
      disarmCrashes();
      // Started again: the same files, as the inbox and a user would.
      for (const f of [files.invoices, files.payments]) {
        const { run, rejected } = await loadFile(env, f);
        expect(run.rejected, `${f}: ${run.warnings.join('; ')}`).toBe(0);
        expect(rejected).toBe(0);
      }
      expect(differences(await books(clean.store), await books(env.store))).toEqual([]);
      expect(await env.store.openRuns()).toEqual([]);
    } finally {
      await env.close();
    }
  });
});

describe('the ingest handler after a crash', () => {
  it('is busy while the claim holds, takes the file up again after the lease, and keeps the cause', async () => {
    const env = await openLocal({ inMemory: true });
    const root = await mkdtemp(join(tmpdir(), 'sentinel-claims-'));
    try {
      const { cp } = await import('node:fs/promises');
      const t0 = Date.now();
      await cp(dir, root, { recursive: true });
      const handler = createIngestHandler({
        // The books' day, with time running (the claim's lease is real time).
        ingest: deps(env.store, { clock: { now: () => new Date(Date.parse(NOW) + (Date.now() - t0)) } }),
        objects: new InboxObjectStore(root),
        profiles: new ProfileCatalog(),
        dynamo: env.store.client,
        tableName: env.store.tableName,
        logger: new (await import('@aws-lambda-powertools/logger')).Logger({ logLevel: 'SILENT' }),
        metrics: localMetrics(join(root, '.metrics'), 'ingest'),
        leaseMs: 1500,
      });
      const deliver = (key: string) =>
        handler(s3SqsEvent(key, 1, 'v1'), localContext()) as Promise<{
          batchItemFailures: unknown[];
          reasons?: string[];
        }>;
      expect((await deliver('invoices/inv.csv')).batchItemFailures).toEqual([]);
      armCrash('ingest.after-rows', 1000);
      const first = await deliver('payments/pay.csv');
      expect(first.reasons?.[0]).toContain('simulated crash at ingest.after-rows');
      // The dead run's claim still holds (its process, this one, is alive): the cause is said.
      const busy = await deliver('payments/pay.csv');
      expect(busy.reasons?.[0]).toMatch(
        /payments\/pay\.csv: another ingest of payments\/pay\.csv has been running since .* it is taken over if it shows none for 2 s/,
      );
      // What was stored meanwhile stays visible (the rows are there; nothing was removed).
      expect((await env.store.customersWithBooks(['C1'])).has('C1')).toBe(true);
      await new Promise((r) => setTimeout(r, 1600));
      expect((await deliver('payments/pay.csv')).batchItemFailures).toEqual([]);
      // Redelivered once done: the stored result, no second ingest.
      expect((await deliver('payments/pay.csv')).batchItemFailures).toEqual([]);
      expect(differences(await books(clean.store), await books(env.store))).toEqual([]);
      expect(await env.store.openRuns()).toEqual([]);
    } finally {
      await env.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a claim whose response was lost is recognised by its own retry, not locked out', async () => {
    const env = await openLocal({ inMemory: true });
    try {
      const lossy = new DynamoDBClient({
        endpoint: env.endpoint,
        region: LOCAL_REGION,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      // Every PutItem reaches the store and then loses its response once; the SDK retries it.
      const counts = injectFaults(lossy, { rate: 1, kinds: ['lost'], operations: ['PutItem'] });
      const claims = new DynamoUploadClaims(lossy, env.store.tableName);
      const mine = { token: 'me', now: new Date(NOW), leaseMs: 90_000 };
      expect(await claims.claim('bucket/key#v1', mine)).toEqual({ kind: 'claimed' });
      expect(counts.injected.lost).toBe(1);
      expect((await claims.claim('bucket/key#v1', { ...mine, token: 'other' })).kind).toBe('busy');
      await claims.complete('bucket/key#v1', 'me', new Date(NOW), { runId: 'r', status: 'processed' });
      const again = await claims.claim('bucket/key#v1', { ...mine, token: 'other' });
      expect(again.kind === 'done' && again.claim.result).toEqual({ runId: 'r', status: 'processed' });
      lossy.destroy();
    } finally {
      await env.close();
    }
  });
});
