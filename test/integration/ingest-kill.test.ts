import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocal } from '../../infra/local/runtime.ts';
import { BIN } from './cli-run.ts';
import { books, differences, largeBooks, seeded } from './ingest-books.ts';

/**
 * `kill -9` at random moments of an upload through the CLI (the inbox: ingest-kill-inbox.test.ts), then
 * started again: every customer's figures and every item equal a clean single ingest's.
 */
const ROWS = { customers: 60, invoices: 600, payments: 2400 };
let dir: string;
let files: { invoices: string; payments: string };
let cleanBooks: string[];

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}, killAfterMs?: number): Promise<Child> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, SENTINEL_TIME_ZONE: 'UTC', ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    p.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      ok({ code, signal, stdout, stderr });
    });
  });
}

async function booksOf(dataDir: string): Promise<string[]> {
  const env = await openLocal({ dataDir });
  try {
    expect(await env.store.openRuns(), 'no run mark is left').toEqual([]);
    return await books(env.store);
  } finally {
    await env.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-kill-'));
  files = await largeBooks(join(dir, 'books'), 9, ROWS);
  const clean = await run(['ingest', files.invoices, files.payments, '--data-dir', join(dir, 'clean')]);
  expect(clean.code, clean.stderr).toBe(0);
  cleanBooks = await booksOf(join(dir, 'clean'));
  expect(cleanBooks.length).toBeGreaterThan(ROWS.invoices + ROWS.payments);
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sentinel ingest killed with SIGKILL, run again', () => {
  const random = seeded(Number(process.env.KILL_SEED ?? 3));
  const at = 1 + Math.floor(random() * (ROWS.invoices + ROWS.payments));
  it.each([
    [`ingest.after-rows@${at}`, undefined],
    [undefined, 1500 + Math.floor(random() * 3000)],
  ] as [string | undefined, number | undefined][])(
    'at %s (or after %s ms) ends like one clean run',
    async (point, ms) => {
      const dataDir = join(dir, `cli-${point ?? ms}`);
      const args = ['ingest', files.invoices, files.payments, '--data-dir', dataDir];
      const killed = await run(args, point ? { SENTINEL_CRASH_AT: point } : {}, ms);
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      const again = await run(args);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(again.stdout).toContain('2,400 accepted');
      expect(differences(cleanBooks, await booksOf(dataDir))).toEqual([]);
    },
  );
});
