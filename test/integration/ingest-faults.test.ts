import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../functions/adapters/faults.ts';
import { injectedFaults, type LocalEnv, localRunOwner, openLocal } from '../../infra/local/runtime/index.ts';
import { sentinel } from './cli-run.ts';
import { books, deps, differences, largeBooks, loadUpload, type Upload } from './ingest-books.ts';

/**
 * With 10% of store calls failing (throttling, 500s, timeouts, lost responses, half-processed
 * batches) an ingest completes, or is completed by running it again, and stores what a clean one does.
 */
const ROWS = { customers: 40, invoices: 400, payments: 1600 };
let dir: string;
let uploads: Upload[];
let clean: LocalEnv;
let cleanBooks: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-faults-'));
  const files = await largeBooks(dir, 11, ROWS);
  uploads = [
    { name: 'invoices/inv.csv', kind: 'invoices', text: await readFile(files.invoices, 'utf8') },
    { name: 'payments/pay.csv', kind: 'payments', text: await readFile(files.payments, 'utf8') },
  ];
  clean = await openLocal({ inMemory: true });
  for (const u of uploads) await loadUpload(deps(clean.store), u);
  cleanBooks = await books(clean.store);
});
afterAll(async () => {
  await clean.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ingest with 10% of store calls failing', () => {
  it.each([1, 2, 3])('seed %i: completes (run again if need be) and equals a clean run', async (seed) => {
    const env = await openLocal({ inMemory: true, faults: { rate: 0.1, kinds: FAULT_KINDS, seed } });
    const counts = injectedFaults.at(-1);
    try {
      let reruns = 0;
      for (const u of uploads)
        for (let attempt = 0; ; attempt++) {
          try {
            await loadUpload(deps(env.store, { owner: localRunOwner() }), u);
            break;
          } catch (e) {
            // Only a store failure past every retry may stop a run; running it again finishes it.
            expect(attempt, String(e)).toBeLessThan(2);
            reruns++;
          }
        }
      const diff = differences(cleanBooks, await books(env.store));
      const injected = Object.values(counts?.injected ?? {}).reduce((a, b) => a + b, 0);
      console.info(
        `faults seed ${seed}: ${injected} of ${counts?.calls} calls failed ${JSON.stringify(counts?.injected)}, re-runs ${reruns}, differences ${diff.length}`,
      );
      expect(injected).toBeGreaterThan(10);
      expect(diff).toEqual([]);
      expect(await env.store.openRuns()).toEqual([]);
    } finally {
      await env.close();
    }
  });

  it('sentinel ingest retries them to the end and never dies with a stack trace', async () => {
    const files = [join(dir, 'invoices', 'inv.csv'), join(dir, 'payments', 'pay.csv')];
    const dataDir = join(dir, 'cli');
    process.env.SENTINEL_FAULTS = 'rate=0.1,seed=7';
    try {
      const r = await sentinel(['ingest', ...files, '--data-dir', dataDir], dir);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      delete process.env.SENTINEL_FAULTS;
    }
    // A store that cannot be reached at all: one sentence, exit 1.
    process.env.SENTINEL_DYNAMODB_ENDPOINT = 'http://127.0.0.1:9';
    try {
      const r = await sentinel(['ingest', files[0] as string, '--data-dir', join(dir, 'none')], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^sentinel: cannot open the store: /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      delete process.env.SENTINEL_DYNAMODB_ENDPOINT;
    }
  });
});
