import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { formatMoney } from '../../functions/core/money.ts';
import type { ReviewRun } from '../../functions/reviews/ports.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { BIN, sentinel } from './cli-run.ts';
import { CASES, REVIEW_AS_OF, recommendedFor, reviewTestPolicy, seedReviewBook } from './review-book.ts';

/**
 * `sentinel review run|runs|show` beside a running `sentinel start`: the run goes to the running
 * product's workflow engine (through its console API), the reading to the shared store. The four
 * customers of reviews.test.ts are written through the store the CLI shares with the server, with
 * the policy that lands each on one outcome set in force.
 */

const AS_OF = REVIEW_AS_OF;
const POLICY = reviewTestPolicy('review-cli-test');

/** The customers, their books and summaries, and the test policy, written to the (shared) store. */
async function seed(env: LocalEnv, recommended: number): Promise<void> {
  await seedReviewBook(env.store, recommended);
  // As `sentinel policy set` does: the server reads the policy in force at every step.
  const { id, ...document } = POLICY;
  await env.store.putPolicy({ id, document, setAt: new Date().toISOString(), setBy: 'cli-reviews.test' });
}

let dir: string;
let dataDir: string;
let server: ChildProcess | undefined;
let banner = '';
let url: string;
let recommended: number;
/** The credit release the approval customer's review asked for. */
let transferId: string | undefined;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Whether the transfer's first level has been asked (its gate ran and the workflow waits). */
async function parked(id: string): Promise<boolean> {
  const s = (await (await fetch(`${url}/api/transfers/${id}`)).json()) as { approvals: unknown[] };
  return s.approvals.length > 0;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-cli-reviews-'));
  dataDir = join(dir, 'data');
  server = spawn(
    process.execPath,
    [BIN, 'start', '--data-dir', dataDir, '--inbox', join(dir, 'inbox'), '--port', '0', '--no-demo'],
    { cwd: dir, env: { ...process.env, SENTINEL_TIME_ZONE: 'UTC' } },
  );
  server.stderr?.on('data', (d) => {
    banner += d;
  });
  await new Promise<void>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`start did not come up: ${banner}`)), 30_000);
    server?.stdout?.on('data', (d) => {
      banner += d;
      if (banner.includes('Ctrl-C stops it.')) {
        clearTimeout(t);
        ok();
      }
    });
    server?.once('exit', (code) => fail(new Error(`start exited with ${code}: ${banner}`)));
  });
  url = /console\s+(http:\/\/\S+)/.exec(banner)?.[1] as string;
  // The CLI's way in: the store the running server shares (its dynalite), not a second one.
  const env = await openLocal({ dataDir });
  try {
    expect(env.shared).toBe(true);
    recommended = recommendedFor(POLICY);
    await seed(env, recommended);
  } finally {
    await env.close();
  }
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((ok) => server?.once('exit', ok));
    server.kill('SIGINT');
    const stopped = await Promise.race([exited, sleep(15_000).then(() => 'still running')]);
    if (stopped === 'still running') server.kill('SIGKILL');
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sentinel review beside a running `sentinel start`', () => {
  let run: ReviewRun;

  it('review run --dry-run: what a run would change, with nothing changed', async () => {
    const r = await sentinel(['review', 'run', '--dry-run', '--as-of', AS_OF, '--data-dir', dataDir], dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`dry run of a review as of ${AS_OF} (policy ${POLICY.id}): nothing was changed`);
    expect(lines[1]?.trim()).toBe(
      '4 customers due: 1 would be cut at once, 1 raised at once, 1 sent for approval, 1 kept',
    );
    expect(lines[2]?.trim()).toBe('approvals: one approval request per customer');
    // The changes, each with the limit now and after, the exposure, the overdue amount and why.
    const cut = lines.find((l) => l.startsWith('CCUT '));
    expect(cut).toMatch(/^CCUT +B +cut at once +[\d.,]+ EUR +[\d.,]+ EUR +[\d.,]+ EUR +0\.00 EUR +cut from /);
    expect(lines.some((l) => l.startsWith('CKEEP '))).toBe(false);
    expect(r.stdout).toContain(`1 limits kept. Run it with \`sentinel review run --as-of ${AS_OF}\``);
    const json = await sentinel(
      ['review', 'run', '--dry-run', '--as-of', AS_OF, '--json', '--data-dir', dataDir],
      dir,
    );
    const preview = JSON.parse(json.stdout) as {
      dryRun: boolean;
      selected: number;
      reviews: { outcome: string }[];
    };
    expect([preview.dryRun, preview.selected]).toEqual([true, 4]);
    expect(preview.reviews.map((x) => x.outcome).sort()).toEqual(['approval', 'cut', 'keep', 'raise']);
    // Nothing was stored: no run, and the next command still finds all four due.
    const runs = await sentinel(['review', 'runs', '--data-dir', dataDir], dir);
    expect(runs.stdout).toContain('no review has run yet');
  });

  it('review run --as-of --json: runs in the product and prints the run with its counts', async () => {
    const r = await sentinel(['review', 'run', '--as-of', AS_OF, '--json', '--data-dir', dataDir], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { run: ReviewRun; resumed: boolean };
    expect(out.resumed).toBe(false);
    run = out.run;
    expect(run.runId).toMatch(/^review-2026-06-30-[0-9a-f]{8}$/);
    expect(run).toMatchObject({
      asOf: AS_OF,
      policyId: POLICY.id,
      trigger: 'manual',
      status: 'done',
      selected: 4,
    });
    expect(run.counts).toMatchObject({
      reviewed: 4,
      failed: 0,
      outcomes: { cut: 1, raise: 1, approval: 1, keep: 1 },
    });
    expect(run.report?.csv).toBe(join(dataDir, 'outbox', 'reviews', `${run.runId}.csv`));
    // The running console shows the same run, and the credit release the approval asked for.
    const shown = (await (await fetch(`${url}/api/reviews`)).json()) as { runs: ReviewRun[] };
    expect(shown.runs.map((x) => x.runId)).toEqual([run.runId]);
    const found = (await (await fetch(`${url}/api/reviews/${run.runId}`)).json()) as {
      reviews: { customerId: string; transferId?: string }[];
    };
    transferId = found.reviews.find((x) => x.customerId === 'CAPPROVE')?.transferId;
    expect(transferId).toMatch(/^TR-[0-9A-Z]+$/);
  });

  it('review runs and review show RUN: the run, and every customer with its outcome', async () => {
    const [runs, runsJson, show] = await Promise.all([
      sentinel(['review', 'runs', '--data-dir', dataDir], dir),
      sentinel(['review', 'runs', '--json', '--data-dir', dataDir], dir),
      sentinel(['review', 'show', run.runId, '--data-dir', dataDir], dir),
    ]);
    expect(runs.code, runs.stderr).toBe(0);
    const lines = runs.stdout.trimEnd().split('\n');
    expect(lines[0]?.split(/\s+/)).toEqual([
      'run',
      'as',
      'of',
      'status',
      'due',
      'reviewed',
      'failed',
      'cut',
      'raised',
      'approval',
    ]);
    expect(lines).toHaveLength(5);
    expect(lines[2]?.trim().split(/\s+/)).toEqual([run.runId, AS_OF, 'done', '4', '4', '0', '1', '1', '1']);
    expect(lines[4]).toBe('1 review run, newest first');

    expect(runsJson.code, runsJson.stderr).toBe(0);
    expect((JSON.parse(runsJson.stdout) as { runs: ReviewRun[] }).runs.map((x) => x.runId)).toEqual([
      run.runId,
    ]);

    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(
      `review ${run.runId} as of ${AS_OF} (manual, policy ${POLICY.id}): done\n  4 customers due: 4 reviewed, 0 failed`,
    );
    expect(show.stdout).toContain('limits: 1 cut, 1 raised, 1 sent for approval, 1 kept');
    const money = (v: number) => formatMoney(v, 'EUR');
    const rows = new Map(
      show.stdout
        .split('\n')
        .filter((l) => /^C[A-Z]+ /.test(l))
        .map((l) => [l.split(/\s+/)[0] as string, l]),
    );
    expect([...rows.keys()]).toEqual(['CAPPROVE', 'CCUT', 'CKEEP', 'CRAISE']);
    for (const [id, c] of Object.entries(CASES)) {
      const cells =
        rows
          .get(id)
          ?.trimEnd()
          .split(/\s{2,}/) ?? [];
      expect(cells[0], id).toBe(id);
      expect(cells[1], id).toBe(c.outcome);
      expect(cells[3], id).toBe(money(c.limit(recommended)));
      // An approval leaves the limit as it was until the credit release is approved.
      expect(cells[4], id).toBe(money(c.outcome === 'approval' ? c.limit(recommended) : recommended));
      expect(cells.at(-1), id).toBe('first review');
    }
  });

  it('review show NOPE: exit 1, saying there is no such run', async () => {
    const r = await sentinel(['review', 'show', 'NOPE', '--data-dir', dataDir], dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('sentinel: there is no review run NOPE (see `sentinel review runs`)');
    expect(r.stdout).toBe('');
  });

  it('review run the same day again selects nobody', async () => {
    const r = await sentinel(['review', 'run', '--as-of', AS_OF, '--data-dir', dataDir], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^review review-2026-06-30-[0-9a-f]{8} as of 2026-06-30 \(manual, policy /);
    expect(r.stdout).toContain('  0 customers due: 0 reviewed, 0 failed');
    expect(r.stdout).not.toContain(run.runId);
  });

  it('stops on Ctrl-C while the credit release waits for its approvers; the transfer stays pending', async () => {
    const id = transferId as string;
    for (let i = 0; i < 100 && !(await parked(id)); i++) await sleep(100);
    expect(await parked(id)).toBe(true);
    const proc = server as ChildProcess;
    const exited = new Promise<number | null>((ok) => proc.once('exit', (code) => ok(code)));
    proc.kill('SIGINT');
    const code = await Promise.race([exited, sleep(15_000).then(() => 'still running' as const)]);
    expect(code).toBe(0);
    const env = await openLocal({ dataDir });
    try {
      const t = await new DynamoTransferStore({
        client: env.store.client,
        tableName: env.store.tableName,
      }).getTransfer(id);
      expect(t?.status).toBe('pending');
    } finally {
      await env.close();
    }
  });
});

describe('sentinel review without a running product, or without a subcommand', () => {
  it('review run on a data dir nothing runs on: exit 1, saying to start it', async () => {
    const idle = join(dir, 'idle');
    const r = await sentinel(['review', 'run', '--as-of', AS_OF, '--data-dir', idle], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('sentinel: credit-sentinel is not running on this data dir');
    expect(r.stderr).toContain('start it with `npm start`');
    expect(r.stdout).toBe('');
  });

  it('review with no subcommand, or a bad date: exit 2, one line and where the help is', async () => {
    const [none, badDate] = await Promise.all([
      sentinel(['review', '--data-dir', dataDir], dir),
      sentinel(['review', 'run', '--as-of', '2026-02-30', '--data-dir', dataDir], dir),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'sentinel: review needs one of: run, show RUN, runs; see `sentinel help review`\n',
    );
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--as-of 2026-02-30');
    expect(badDate.stderr).toMatch(/; see `sentinel help review run`\n$/);
    expect(badDate.stderr.trim().split('\n')).toHaveLength(1);
  });
});
