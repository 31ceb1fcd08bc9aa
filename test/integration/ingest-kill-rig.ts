import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { type CliRun, sentinel } from './cli-run.ts';
import { books, largeBooks } from './ingest-books.ts';

/**
 * What the two `kill -9` ingest tests share (ingest-kill.test.ts through the CLI,
 * ingest-kill-inbox.test.ts through `npm start`'s inbox): a generated book written to files, the
 * books of one clean ingest of it to compare with, and a way to run the CLI and read a data dir.
 */
export const ROWS = { customers: 60, invoices: 600, payments: 2400 };

export interface KillRig {
  /** The test's own temporary directory (the CLI runs in it). */
  dir: string;
  files: { invoices: string; payments: string };
  /** The books of one clean ingest of `files`. */
  cleanBooks: string[];
}

/** Registers the rig's beforeAll (the files and the clean ingest) and afterAll; read it inside tests. */
export function killRig(): KillRig {
  const rig = {} as KillRig;
  beforeAll(async () => {
    rig.dir = await mkdtemp(join(tmpdir(), 'sentinel-kill-'));
    rig.files = await largeBooks(join(rig.dir, 'books'), 9, ROWS);
    const clean = await runCli(rig.dir, [
      'ingest',
      rig.files.invoices,
      rig.files.payments,
      '--data-dir',
      join(rig.dir, 'clean'),
    ]);
    expect(clean.code, clean.stderr).toBe(0);
    rig.cleanBooks = await booksOf(join(rig.dir, 'clean'));
    expect(rig.cleanBooks.length).toBeGreaterThan(ROWS.invoices + ROWS.payments);
  }, 120_000);
  afterAll(async () => {
    if (rig.dir) await rm(rig.dir, { recursive: true, force: true });
  });
  return rig;
}

/** Runs `sentinel` in `cwd` to its end (or kills it with SIGKILL after `killAfterMs`). */
export function runCli(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
  killAfterMs?: number,
): Promise<CliRun> {
  return sentinel(args, cwd, { env, killAfterMs });
}

/** The books of a data dir once nothing runs on it; no run is left marked open. */
export async function booksOf(dataDir: string): Promise<string[]> {
  const env = await openLocal({ dataDir });
  try {
    expect(await env.store.openRuns(), 'no run mark is left').toEqual([]);
    return await books(env.store);
  } finally {
    await env.close();
  }
}
