import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoExecutionJournal } from '../../functions/adapters/dynamodb-executions.ts';
import { armCrash, disarmCrashes, SimulatedCrash } from '../../functions/core/crash.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { ChangeNotifier, StoredRecord } from '../../functions/ingest/ports.ts';
import type { ApprovalPolicy } from '../../functions/transfers/approval-policy.ts';
import type { ApprovalNotice, ApprovalNotifier, Transfer } from '../../functions/transfers/ports.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { readLocalMetrics } from '../../infra/local/runtime/metrics.ts';
import { type LocalTransfers, listMail, localTransfers } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { approvalPolicyWith, until } from './transfers-console.ts';

/**
 * A step of the transfer approval that fails after its retries, end to end on the local stack
 * (the real app and steps, the ASL on aws-local-stepfunctions, dynalite): the gate, a level's
 * step, the execute step and the close step each throw once (through the app's ports, or the
 * `transfers.step-<step>` fault seam), the transfer is `failed` with its record on the audit
 * trail, the TransfersFailed metric and the ops email; its links are refused with a page that
 * says why; a retry completes it with every approver asked once; a recall ends it.
 */

const TODAY = '2026-11-24';

/** A frozen clock: link expiry is checked against it, so links stay valid however long a test runs. */
class Clock {
  t = Date.parse(`${TODAY}T09:00:00Z`);
  now = () => new Date(this.t);
}

class Capture implements ApprovalNotifier {
  readonly notices: ApprovalNotice[] = [];
  /** Throws at the next notice of this kind (once). */
  breakNext: ApprovalNotice['kind'] | undefined;
  async send(ns: readonly ApprovalNotice[]): Promise<void> {
    for (const n of ns) {
      if (this.breakNext === n.kind) {
        this.breakNext = undefined;
        throw new Error('mail relay refused the message');
      }
      this.notices.push(n);
    }
  }
  approve(transferId: string, level: number, to: string) {
    return this.notices.find(
      (n): n is ApprovalNotice & { kind: 'approve' } =>
        n.kind === 'approve' &&
        n.transfer.transferId === transferId &&
        n.level.level === level &&
        n.to.id === to,
    );
  }
  /** How many approval requests (approve and remind) each person got for a transfer. */
  asked(transferId: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const n of this.notices)
      if (n.kind === 'approve' && n.transfer.transferId === transferId)
        out[n.to.id] = (out[n.to.id] ?? 0) + 1;
    return out;
  }
}

/** Fails the next `customersChanged` (the execute step's last write) while `broken`. */
class Changes implements ChangeNotifier {
  broken = false;
  calls = 0;
  async customersChanged(): Promise<void> {
    this.calls++;
    if (this.broken) {
      this.broken = false;
      throw new Error('the evaluator queue is unreachable');
    }
  }
}

let env: LocalEnv;
let dir: string;
beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  dir = await mkdtemp(join(tmpdir(), 'transfer-failures-'));
  const from = { runId: 'seed', line: 2 };
  await env.store.write([
    { kind: 'customers', row: { customerId: 'C9', name: 'Newcomer Ltd', currency: 'EUR' }, from },
  ] as StoredRecord[]);
});
afterAll(async () => {
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => disarmCrashes());

interface Rig {
  t: LocalTransfers;
  capture: Capture;
  changes: Changes;
  clock: Clock;
  policy: { current: ApprovalPolicy };
  request(): Promise<Transfer>;
  approve(n: ApprovalNotice & { kind: 'approve' }): Promise<void>;
  done(transferId: string): Promise<void>;
  transfer(transferId: string): Promise<Transfer>;
}

async function rig(policy: ApprovalPolicy = approvalPolicyWith(() => {})): Promise<Rig> {
  const capture = new Capture();
  const changes = new Changes();
  const clock = new Clock();
  const holder = { current: policy };
  const t = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy: async () => policyInForce(undefined, DEFAULT_POLICY_DOCUMENT),
    approvalPolicy: async () => holder.current,
    dataDir: dir,
    clock,
    today: () => TODAY,
    baseUrl: () => 'http://approvals.test',
    notifier: capture,
    changes,
    outcomeClaimWaitMs: 300,
  });
  const transfer = async (id: string) => (await t.app.show(id))?.transfer as Transfer;
  return {
    t,
    capture,
    changes,
    clock,
    policy: holder,
    transfer,
    async request() {
      const r = await t.app.request({
        customerId: 'C9',
        type: 'refund',
        amount: '2500.00',
        currency: 'EUR',
        beneficiaryName: 'Unknown Ltd',
        beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
        reason: 'credit note refund',
        requester: 'rita',
      });
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      return r.transfer;
    },
    async approve(n) {
      const out = await t.app.decide(n.token, 'approved', { email: n.to.email }, 'email');
      if (!out.ok) throw new Error(out.message);
    },
    async done(id) {
      await t.workflow.execution((await transfer(id)).executionId as string)?.done;
    },
  };
}

const failedOf = (r: Rig, id: string) =>
  until(`${id} failed`, async () => {
    const t = await r.transfer(id);
    return t.status === 'failed' ? t : undefined;
  });

/** Walks every level from its first approver's link, as they are asked. */
async function approveAll(r: Rig, id: string, from = 1): Promise<void> {
  const first: Record<number, string> = { 1: 'carla', 2: 'fiona', 3: 'victor' };
  for (let level = from; level <= 3; level++) {
    const n = await until(`level ${level} asked`, async () =>
      r.capture.approve(id, level, first[level] as string),
    );
    await r.approve(n);
  }
}

const trailOf = async (r: Rig, id: string) => (await r.t.store.auditTrail()).filter((x) => x.subject === id);
const failedCount = async () =>
  (await readLocalMetrics(dir)).filter((d) => d.name === 'TransfersFailed').length;

describe('a step that fails after its retries', () => {
  it('the gate: failed with its record, metric and ops email; retried, each approver asked once', async () => {
    const r = await rig();
    const before = await failedCount();
    armCrash('transfers.step-gate');
    const tr = await r.request();
    await r.done(tr.transferId);
    const failed = await r.transfer(tr.transferId);
    expect(failed.status).toBe('failed');
    expect(failed.failure).toMatchObject({
      error: 'SimulatedCrash',
      cause: 'simulated crash at transfers.step-gate',
      state: 'RiskGate',
      from: 'pending',
    });
    expect(r.t.workflow.execution(failed.executionId as string)?.error?.error).toBe('TransferFailed');
    const record = (await trailOf(r, tr.transferId)).find((x) => x.kind === 'transfer.failed');
    expect(record?.data).toMatchObject({ state: 'RiskGate', error: 'SimulatedCrash', status: 'failed' });
    expect(await failedCount()).toBe(before + 1);
    const ops = await listMail(dir, undefined, (f) => f.includes(`ops-failed-${tr.transferId}`));
    expect(ops).toHaveLength(1);
    expect(ops[0]?.subject).toContain(`Transfer ${tr.transferId} failed in RiskGate`);
    expect(ops[0]?.text).toContain(`sentinel transfer retry ${tr.transferId}`);

    const retried = await r.t.app.retry(tr.transferId, 'paula');
    expect(retried.ok).toBe(true);
    if (retried.ok)
      expect(retried.transfer).toMatchObject({ status: 'pending', retries: 1, retriedBy: 'paula' });
    await approveAll(r, tr.transferId);
    await r.done(tr.transferId);
    expect((await r.transfer(tr.transferId)).status).toBe('approved');
    expect(r.capture.asked(tr.transferId)).toEqual({ carla: 1, chen: 1, fiona: 1, farid: 1, victor: 1 });
    const kinds = (await trailOf(r, tr.transferId)).map((x) => x.kind);
    expect(kinds).toEqual([
      'transfer.requested',
      'transfer.failed',
      'transfer.retried',
      'gate.evaluated',
      'approval.requested',
      'approval.decided',
      'approval.requested',
      'approval.decided',
      'approval.requested',
      'approval.decided',
      'transfer.executed',
    ]);
  });

  it("a level's step (a reminder): its links are refused with a page saying why; a retry opens them again", async () => {
    // Reminders after 1 s: the first reminder's step is the one that throws.
    const r = await rig(
      approvalPolicyWith((doc) => ((doc.reminders as { everySeconds: number }).everySeconds = 1)),
    );
    armCrash('transfers.step-await', 2);
    const tr = await r.request();
    const carla = await until('level 1 asked', async () => r.capture.approve(tr.transferId, 1, 'carla'));
    const failed = await failedOf(r, tr.transferId);
    expect(failed.failure).toMatchObject({ state: 'AwaitDecision', error: 'SimulatedCrash' });
    const approvals = (await r.t.app.show(tr.transferId))?.approvals ?? [];
    expect(approvals.map((a) => a.status)).toEqual(['void', 'void']);

    // The emailed link: its page and a decision say the transfer failed, and nothing is recorded.
    const path = new URL(carla.url).pathname;
    const page = await r.t.http({ method: 'GET', path, headers: {}, body: '' });
    expect(page.body).toContain(
      'no longer open (the transfer failed in AwaitDecision; it can be retried or recalled); the transfer is failed',
    );
    expect(page.body).not.toContain('name="decision"');
    const post = await r.t.http({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ decision: 'approve', email: 'carla@example.com', comment: '' }).toString(),
    });
    expect(post.status).toBe(410);
    expect(post.body).toContain('the transfer failed in AwaitDecision');
    expect(post.body).toContain('Nothing was recorded');

    // Fixed (reminders daily again), then retried: the same link decides, nobody is asked twice.
    r.policy.current = approvalPolicyWith(() => {});
    const retried = await r.t.app.retry(tr.transferId, 'rita');
    expect(retried.ok).toBe(true);
    await until('level 1 waiting again', async () =>
      (await r.t.app.show(tr.transferId))?.approvals.every((a) => a.status === 'pending') ? true : undefined,
    );
    await r.approve(carla);
    await approveAll(r, tr.transferId, 2);
    await r.done(tr.transferId);
    expect((await r.transfer(tr.transferId)).status).toBe('approved');
    expect(r.capture.asked(tr.transferId)).toEqual({ carla: 1, chen: 1, fiona: 1, farid: 1, victor: 1 });
  });

  it('the execute step: an approved transfer fails, cannot be recalled, and a retry records it without asking anyone', async () => {
    const r = await rig();
    const tr = await r.request();
    r.changes.broken = true;
    await approveAll(r, tr.transferId);
    await r.done(tr.transferId);
    const failed = await r.transfer(tr.transferId);
    expect(failed.status).toBe('failed');
    expect(failed.failure).toMatchObject({
      state: 'Execute',
      error: 'Error',
      cause: 'the evaluator queue is unreachable',
      from: 'approved',
    });
    const recall = await r.t.app.recall(tr.transferId, 'rita');
    expect(recall).toMatchObject({ ok: false, status: 409 });
    if (!recall.ok) expect(recall.message.split('. ')).toHaveLength(1);

    const asked = r.capture.asked(tr.transferId);
    const toldBefore = r.capture.notices.filter(
      (n) => n.kind === 'outcome' && n.transfer.status === 'approved',
    );
    const retried = await r.t.app.retry(tr.transferId, 'paula');
    expect(retried.ok).toBe(true);
    await r.done(tr.transferId);
    const done = await r.transfer(tr.transferId);
    expect(done.status).toBe('approved');
    expect(r.capture.asked(tr.transferId)).toEqual(asked);
    expect(asked).toEqual({ carla: 1, chen: 1, fiona: 1, farid: 1, victor: 1 });
    // The requester is told of the approval by the retry (the failed try stopped before telling).
    expect(
      r.capture.notices.filter(
        (n) =>
          n.kind === 'outcome' && n.transfer.transferId === tr.transferId && n.transfer.status === 'approved',
      ).length,
    ).toBe(toldBefore.filter((n) => n.transfer.transferId === tr.transferId).length + 1);
    expect(r.changes.calls).toBe(2);
    const kinds = (await trailOf(r, tr.transferId)).map((x) => x.kind);
    expect(kinds.filter((k) => k === 'transfer.executed')).toHaveLength(1);
    expect(kinds.slice(-3)).toEqual(['transfer.failed', 'transfer.retried', 'transfer.executed']);
  });

  it('the close step: a rejected transfer keeps its status, the failure recorded beside it; no retry', async () => {
    const r = await rig();
    const tr = await r.request();
    const carla = await until('level 1 asked', async () => r.capture.approve(tr.transferId, 1, 'carla'));
    r.capture.breakNext = 'outcome';
    const out = await r.t.app.decide(carla.token, 'rejected', { email: 'carla@example.com' }, 'email', 'no');
    expect(out.ok).toBe(true);
    await r.done(tr.transferId);
    const t = await r.transfer(tr.transferId);
    expect(t.status).toBe('rejected');
    expect(t.failure).toMatchObject({ state: 'Close', cause: 'mail relay refused the message' });
    expect((await trailOf(r, tr.transferId)).some((x) => x.kind === 'transfer.failed')).toBe(true);
    expect(r.t.workflow.execution(t.executionId as string)?.error?.error).toBe('TransferFailed');
    expect(await r.t.app.retry(tr.transferId, 'paula')).toEqual({
      ok: false,
      status: 409,
      message: 'The transfer is rejected: only a failed transfer can be retried.',
    });
  });
});

describe('a failed transfer', () => {
  it('is recalled by its requester: recalled, and nothing is resumed or retried after', async () => {
    const r = await rig();
    armCrash('transfers.step-gate');
    const tr = await r.request();
    await failedOf(r, tr.transferId);
    expect(await r.t.app.recall(tr.transferId, 'carla')).toMatchObject({ ok: false, status: 403 });
    const recalled = await r.t.app.recall(tr.transferId, 'rita');
    expect(recalled.ok).toBe(true);
    expect((await r.transfer(tr.transferId)).status).toBe('recalled');
    expect((await trailOf(r, tr.transferId)).map((x) => x.kind).slice(-1)).toEqual(['transfer.recalled']);
    const again = await r.t.app.retry(tr.transferId, 'rita');
    expect(again).toMatchObject({ ok: false, status: 409 });
    expect(await r.t.app.recall(tr.transferId, 'rita')).toMatchObject({ ok: false, status: 409 });
  });

  it('retried twice at once: one execution', async () => {
    const r = await rig();
    armCrash('transfers.step-gate');
    const tr = await r.request();
    await failedOf(r, tr.transferId);
    const both = await Promise.all([
      r.t.app.retry(tr.transferId, 'paula'),
      r.t.app.retry(tr.transferId, 'rita'),
    ]);
    expect(both.filter((x) => x.ok)).toHaveLength(1);
    const refused = both.find((x) => !x.ok);
    expect(refused).toMatchObject({ ok: false, status: 409 });
    const t = await r.transfer(tr.transferId);
    expect(t.retries).toBe(1);
    expect(t.executionId).toBe(`local:transfer-approval:${tr.transferId}-r1`);
    await until('level 1 asked', async () => r.capture.approve(tr.transferId, 1, 'carla'));
    expect((await trailOf(r, tr.transferId)).filter((x) => x.kind === 'transfer.retried')).toHaveLength(1);
    await r.t.app.recall(tr.transferId, 'rita');
    await r.done(tr.transferId);
  });

  it('retried and stopped before its execution started: refused while that retry may still be starting, taken up a minute later; one execution, one record, each approver asked once', async () => {
    const r = await rig();
    armCrash('transfers.step-gate');
    const tr = await r.request();
    await failedOf(r, tr.transferId);
    await r.done(tr.transferId);
    armCrash('transfers.retry-before-start');
    await expect(r.t.app.retry(tr.transferId, 'paula')).rejects.toThrow(SimulatedCrash);
    const stuck = await r.transfer(tr.transferId);
    expect(stuck).toMatchObject({ status: 'pending', retries: 1, retriedBy: 'paula' });
    expect(stuck.executionId).toBe(`local:transfer-approval:${tr.transferId}`);
    // Within the minute a retry may still be starting its execution: not taken up.
    expect(await r.t.app.retry(tr.transferId, 'rita')).toEqual({
      ok: false,
      status: 409,
      message: 'The transfer is pending: only a failed transfer can be retried.',
    });
    r.clock.t += 61_000;
    const again = await r.t.app.retry(tr.transferId, 'rita');
    expect(again.ok).toBe(true);
    const t = await r.transfer(tr.transferId);
    expect(t).toMatchObject({ status: 'pending', retries: 1, retriedBy: 'paula' });
    expect(t.executionId).toBe(`local:transfer-approval:${tr.transferId}-r1`);
    // Its execution recorded: not taken up again, however late.
    r.clock.t += 61_000;
    expect(await r.t.app.retry(tr.transferId, 'rita')).toMatchObject({ ok: false, status: 409 });
    await approveAll(r, tr.transferId);
    await r.done(tr.transferId);
    expect((await r.transfer(tr.transferId)).status).toBe('approved');
    expect(r.capture.asked(tr.transferId)).toEqual({ carla: 1, chen: 1, fiona: 1, farid: 1, victor: 1 });
    const retried = (await trailOf(r, tr.transferId)).filter((x) => x.kind === 'transfer.retried');
    expect(retried.map((x) => x.actor)).toEqual(['paula']);
  });

  it('is not resumed by the next process: it waits for a retry or a recall', async () => {
    const r = await rig();
    armCrash('transfers.step-gate');
    const tr = await r.request();
    await failedOf(r, tr.transferId);
    await r.done(tr.transferId);
    await r.t.workflow.stop();
    // As a process killed after the fail step's write leaves it: its execution still journaled.
    const journal = new DynamoExecutionJournal(env.store.client, env.store.tableName, 'transfer-approval');
    await journal.started(tr.transferId, new Date().toISOString());
    const next = await rig();
    const carried = await next.t.resume();
    expect(carried.map((c) => c.transferId)).not.toContain(tr.transferId);
    expect((await next.transfer(tr.transferId)).status).toBe('failed');
    expect((await journal.running()).map((e) => e.name)).not.toContain(tr.transferId);
    await next.t.workflow.stop();
  });

  it("its requester's outcome, claimed by an attempt that died mid-send, is taken over once the claim has been waited on: told once", async () => {
    const r = await rig();
    const tr = await r.request();
    await until('level 1 asked', async () => r.capture.approve(tr.transferId, 1, 'carla'));
    // As a Lambda killed after claiming the outcome and before sending it leaves the outbox.
    const k = { transferId: tr.transferId, level: 0, kind: 'outcome', round: 0, to: 'rita' } as const;
    const at = r.clock.now().toISOString();
    expect(await r.t.store.claimNotice(k, at, '2000-01-01T00:00:00.000Z', 'a-dead-attempt')).toBe(true);
    const recalled = await r.t.app.recall(tr.transferId, 'rita');
    expect(recalled.ok).toBe(true);
    await r.done(tr.transferId);
    const told = r.capture.notices.filter(
      (n) => n.kind === 'outcome' && n.transfer.transferId === tr.transferId,
    );
    expect(told.map((n) => [n.to.id, n.transfer.status])).toEqual([['rita', 'recalled']]);
    const outbox = (await r.t.store.noticesOf(tr.transferId, 0)).map((n) => [n.kind, n.round, n.to, n.state]);
    expect(outbox).toEqual([['outcome', 0, 'rita', 'sent']]);
  });

  it('retry and recall are refused with one sentence otherwise', async () => {
    const r = await rig();
    const tr = await r.request();
    await until('level 1 asked', async () => r.capture.approve(tr.transferId, 1, 'carla'));
    expect(await r.t.app.retry(tr.transferId, 'paula')).toEqual({
      ok: false,
      status: 409,
      message: 'The transfer is pending: only a failed transfer can be retried.',
    });
    expect(await r.t.app.retry('TR-NOPE', 'paula')).toMatchObject({ ok: false, status: 404 });
    expect(await r.t.app.retry(tr.transferId, 'nobody-at-all')).toMatchObject({ ok: false, status: 400 });
    await r.t.app.recall(tr.transferId, 'rita');
    await r.done(tr.transferId);
  });
});
