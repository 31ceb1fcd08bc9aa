import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sentinel } from './cli-run.ts';

// Whatever a user gives `sentinel ingest`, the answer is a sentence, never a stack trace.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-cli-errors-'));
  await mkdir(join(dir, 'customers'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

describe('the CLI refuses clearly', () => {
  it('a 450 KB name: the row is rejected, the run finishes', async () => {
    await writeFile(
      join(dir, 'customers', 'big.csv'),
      `customer_id,name,currency,credit_limit\nB1,Good,EUR,1\nB2,${'n'.repeat(450_000)},EUR,1\n`,
    );
    const r = await sentinel(['ingest', 'customers/big.csv', '--data-dir', 'data'], dir);
    noStack(r.stderr);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 accepted \(customers 1\), 1 rejected/);
  }, 60_000);

  it('a file without a newline: one sentence, exit 1', async () => {
    await writeFile(join(dir, 'customers', 'flat.csv'), 'x'.repeat(5 * 1024 * 1024));
    const r = await sentinel(['ingest', 'customers/flat.csv', '--data-dir', 'data'], dir);
    noStack(r.stderr);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /NOT READ: the header line is at least [\d,]+ characters long, over the limit of 64 KB/,
    );
  }, 60_000);

  it('a data dir that is a file: one line naming it, exit 1, no stack', async () => {
    await writeFile(join(dir, 'not-a-dir'), 'x');
    await writeFile(join(dir, 'customers', 'ok.csv'), 'customer_id,name,currency,credit_limit\nC1,C,EUR,1\n');
    const r = await sentinel(['ingest', 'customers/ok.csv', '--data-dir', 'not-a-dir'], dir);
    expect(r.code).toBe(1);
    noStack(r.stderr);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // The store cannot be opened: said as such, with the path that is in the way.
    expect(r.stderr).toMatch(/^sentinel: cannot open the store: .*not-a-dir/);
  }, 60_000);
});
