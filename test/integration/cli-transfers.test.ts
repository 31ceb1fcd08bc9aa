import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { armCrash, disarmCrashes } from '../../functions/core/crash.ts';
import { publishConsole } from '../../infra/local/cli/transfers.ts';
import type { RunningConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import type { LocalTransfers } from '../../infra/local/runtime/transfers.ts';
import { sentinel } from './cli-run.ts';
import { approvalPolicyWith, startTransfersConsole, until } from './transfers-console.ts';

/**
 * `sentinel transfer request` as a user runs it (a child process), against the console and
 * transfers of a running product: here started in this process on an in-memory store, and
 * published in the data dir as `sentinel start` publishes it. The approval policy refuses returns
 * above the customer's unapplied cash.
 */

const TODAY = new Date().toISOString().slice(0, 10);

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let web: RunningConsole;
let unpublish: (() => Promise<void>) | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-transfers-'));
  env = await openLocal({ inMemory: true });
  const from = { runId: 'seed', line: 2 };
  await env.store.write([
    { kind: 'customers', row: { customerId: 'C7', name: 'Delta Oy', currency: 'EUR' }, from },
  ]);
  ({ transfers, web } = await startTransfersConsole(env, dir, {
    approvalPolicy: approvalPolicyWith((d) => {
      (d.gate as Record<string, unknown>).refuseAboveUnappliedCash = true;
    }),
  }));
  unpublish = await publishConsole(dir, web.url);
});

afterAll(async () => {
  await unpublish?.();
  await transfers?.idle();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const request = (over: Record<string, string>) => {
  const args: Record<string, string> = {
    customer: 'C7',
    type: 'refund',
    amount: '1250.00',
    currency: 'EUR',
    'beneficiary-name': 'Delta Oy',
    'beneficiary-account': 'DE89 3704 0044 0532 0130 00',
    reason: 'double payment of INV-1001',
    requester: 'rita',
    ...over,
  };
  return sentinel(
    ['transfer', 'request', ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, v]), '--data-dir', dir],
    dir,
  );
};

describe('sentinel transfer request', () => {
  it('exits 1 naming the customer field for a customer not on file, and every other bad field', async () => {
    const r = await request({ customer: 'NOPE42', reason: '' });
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toBe(
      'the request is invalid:\n  customerId: there is no customer NOPE42 on file\n  reason: must say why (at least 3 characters)\n',
    );
    expect(await transfers.app.list()).toEqual([]);
  });

  it("exits 1 naming the amount for a refund above the customer's unapplied cash, as the policy says", async () => {
    const r = await request({});
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toBe(
      `the request is invalid:\n  amount: is above the customer's unapplied cash of 0.00 EUR as of ${TODAY}; the approval policy refuses such a request (gate.refuseAboveUnappliedCash)\n`,
    );
    expect(await transfers.app.list()).toEqual([]);
  });

  it('requests a rebate for the same customer: exit 0, the id and the first level links', async () => {
    const r = await request({ type: 'rebate' });
    expect(r.code, r.stderr).toBe(0);
    const id = /^(TR-[0-9A-Z]{26}) requested: 1,250\.00 EUR rebate for C7$/m.exec(r.stdout)?.[1];
    expect(id, r.stdout).toBeDefined();
    expect(r.stdout).toContain('approval links (level 1):');
    const t = await until('the gate', async () => {
      const s = await transfers.app.show(id as string);
      return s && s.approvals.length > 0 ? s.transfer : undefined;
    });
    await transfers.app.recall(t.transferId, 'rita');
    await transfers.workflow.execution(t.executionId as string)?.done;
  });
});

describe('sentinel transfer retry', () => {
  it('retries a failed transfer (exit 0), then refuses with one sentence (exit 1)', async () => {
    armCrash('transfers.step-gate');
    const r = await transfers.app.request({
      customerId: 'C7',
      type: 'rebate',
      amount: '40.00',
      currency: 'EUR',
      beneficiaryName: 'Delta Oy',
      beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
      reason: 'volume rebate',
      requester: 'rita',
    });
    disarmCrashes();
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const id = r.transfer.transferId;
    await until('failed', async () =>
      (await transfers.app.show(id))?.transfer.status === 'failed' ? true : undefined,
    );
    const ok = await sentinel(['transfer', 'retry', id, '--by', 'paula', '--data-dir', dir], dir);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(
      `${id} retried: pending again, a new execution carries it on from where it failed\n`,
    );
    const again = await sentinel(['transfer', 'retry', id, '--by', 'paula', '--data-dir', dir], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('The transfer is pending: only a failed transfer can be retried.');
    await until('level 1 asked', async () => {
      const s = await transfers.app.show(id);
      return s && s.approvals.length > 0 ? true : undefined;
    });
    await transfers.app.recall(id, 'rita');
  });
});
