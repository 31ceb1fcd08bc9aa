import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { StoredRecord } from '../../functions/ingest/ports.ts';
import type { ApprovalNotice, ApprovalNotifier, Transfer } from '../../functions/transfers/ports.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, localTransfers } from '../../infra/local/runtime/transfers.ts';
import {
  LONGEST_LOCAL_TIMEOUT_S,
  RESUME_STATE,
  resumable,
  substitute,
  TRANSFER_ASL,
  withLocalTimeouts,
} from '../../infra/local/runtime/workflow.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { approvalPolicyWith, until } from './transfers-console.ts';

/**
 * The resume of a transfer workflow in one process: an engine stopped (its executions aborted,
 * as a killed process leaves them) and a new one on the same store carrying them on from what
 * the store says. The killed-process version is restarts.test.ts.
 */

class Capture implements ApprovalNotifier {
  readonly notices: ApprovalNotice[] = [];
  async send(ns: readonly ApprovalNotice[]): Promise<void> {
    this.notices.push(...ns);
  }
  approve(transferId: string, level: number) {
    return this.notices.filter(
      (n): n is ApprovalNotice & { kind: 'approve' } =>
        n.kind === 'approve' && n.transfer.transferId === transferId && n.level.level === level,
    );
  }
}

const POLICY = approvalPolicyWith((doc) => {
  (doc.people as Record<string, unknown>).rita = { name: 'Rita Requester', email: 'rita@example.com' };
});

let env: LocalEnv;
let dir: string;
beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  dir = await mkdtemp(join(tmpdir(), 'resume-'));
  const from = { runId: 'seed', line: 2 };
  await env.store.write([
    {
      kind: 'customers',
      row: { customerId: 'C1', name: 'Acme GmbH', currency: 'EUR', creditLimit: 100_000_00 },
      from,
    },
  ] as StoredRecord[]);
});
afterAll(async () => {
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

/** One "process": the transfers of `npm start` on the shared store. */
async function life(capture: Capture): Promise<LocalTransfers> {
  return localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy: async () => policyInForce(undefined, DEFAULT_POLICY_DOCUMENT),
    approvalPolicy: async () => POLICY,
    dataDir: dir,
    clock: { now: () => new Date() },
    today: () => new Date().toISOString().slice(0, 10),
    baseUrl: () => 'http://approvals.test',
    notifier: capture,
  });
}

async function requestChain(t: LocalTransfers): Promise<Transfer> {
  const r = await t.app.request({
    customerId: 'C1',
    type: 'refund',
    amount: '150000.00',
    currency: 'EUR',
    beneficiaryName: 'Acme GmbH',
    beneficiaryAccount: 'DE89370400440532013000',
    reason: 'resume test',
    requester: 'rita',
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.transfer;
}

async function approve(t: LocalTransfers, n: ApprovalNotice & { kind: 'approve' }): Promise<string> {
  const out = await t.app.decide(n.token, 'approved', { email: n.to.email }, 'email');
  if (!out.ok) throw new Error(out.message);
  return out.message;
}

const statusOf = async (t: LocalTransfers, id: string) => (await t.app.show(id))?.transfer.status;

describe('resumable definition', () => {
  it('is the same ASL with a Choice on $.resumeAt in front, valid (asl-validator)', () => {
    const def = JSON.parse(
      substitute(readFileSync(TRANSFER_ASL, 'utf8'), { TransferStepsFunction: 'steps' }),
    ) as Record<string, unknown>;
    const r = resumable(def);
    const v = aslValidator(r);
    expect(v.errorsText('\n')).toBe('');
    expect(v.isValid).toBe(true);
    const states = r.States as Record<string, Record<string, unknown>>;
    expect(r.StartAt).toBe(RESUME_STATE);
    expect(states[RESUME_STATE]?.Default).toBe(def.StartAt);
    // Every state of the definition, as it is, and a way in to each.
    for (const [name, s] of Object.entries(def.States as Record<string, unknown>))
      expect(states[name]).toBe(s);
    expect((states[RESUME_STATE]?.Choices as { Next: string }[] | undefined)?.map((c) => c.Next)).toEqual(
      Object.keys(def.States as object),
    );
  });
});

describe('timeouts the local engine can hold', () => {
  it("caps the definition's 30 days at setTimeout's longest (24.8 days) instead of firing at once", () => {
    const def = JSON.parse(readFileSync(TRANSFER_ASL, 'utf8')) as { TimeoutSeconds: number };
    expect(def.TimeoutSeconds).toBe(30 * 86_400);
    const local = withLocalTimeouts(def);
    expect(local.TimeoutSeconds).toBe(LONGEST_LOCAL_TIMEOUT_S);
    expect(LONGEST_LOCAL_TIMEOUT_S * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
    // Shorter ones are left as they are, wherever they are.
    const nested = withLocalTimeouts({ States: { A: { TimeoutSeconds: 15 } }, TimeoutSeconds: 86_400 });
    expect(nested).toEqual({ States: { A: { TimeoutSeconds: 15 } }, TimeoutSeconds: 86_400 });
  });
});

describe('a transfer workflow carried on by the next process', () => {
  it('waiting at level 2: the links sent before carry it on, nobody is asked again', async () => {
    const first = new Capture();
    const a = await life(first);
    const t = await requestChain(a);
    const l1 = await until('level 1 asked', async () => first.approve(t.transferId, 1)[0]);
    await approve(a, l1);
    const l2 = await until('level 2 asked', async () => first.approve(t.transferId, 2).at(-1));
    await until('level 2 waiting', async () =>
      (await a.store.approvalsOf(t.transferId)).some((x) => x.level === 2) ? true : undefined,
    );
    await a.workflow.stop();

    const second = new Capture();
    const b = await life(second);
    const carried = await b.resume();
    expect(carried).toEqual([
      { transferId: t.transferId, at: 'AwaitDecision', why: 'level 2: waiting again' },
    ]);
    // The level-2 link emailed by the first process decides in the second.
    expect(await approve(b, l2)).toContain('Level 2 is complete');
    const l3 = await until('level 3 asked', async () => second.approve(t.transferId, 3)[0]);
    expect(
      second.notices.filter((n) => ('level' in n && n.level.level === 2) || n.kind === 'remind'),
    ).toEqual([]);
    await approve(b, l3);
    expect(
      await until('approved', async () =>
        (await statusOf(b, t.transferId)) === 'approved' ? true : undefined,
      ),
    ).toBe(true);
    const kinds = (await b.store.auditTrail()).filter((r) => r.subject === t.transferId).map((r) => r.kind);
    expect(kinds.filter((k) => k === 'approval.requested')).toHaveLength(3);
    await b.workflow.execution(`local:transfer-approval:${t.transferId}`)?.done;
    expect(b.workflow.execution(`local:transfer-approval:${t.transferId}`)?.status).toBe('SUCCEEDED');
    await b.workflow.stop();
    // Nothing left to carry on: the finished execution left the journal.
    expect(await (await life(new Capture())).resume()).toEqual([]);
  });

  it('a decision stored and its wait never resumed: the next level is asked at the next start', async () => {
    const first = new Capture();
    const a = await life(first);
    const t = await requestChain(a);
    const l1 = await until('level 1 asked', async () => first.approve(t.transferId, 1)[0]);
    await until('level 1 waiting', async () =>
      (await a.store.approvalsOf(t.transferId)).length > 0 ? true : undefined,
    );
    await a.workflow.stop();
    // As a process killed right after the decision's write leaves it.
    const stored = await a.store.decide(
      t.transferId,
      (await a.store.approvalsOf(t.transferId)).find((x) => x.approver === l1.to.id)?.approvalId as string,
      {
        status: 'approved',
        decidedAt: new Date().toISOString(),
        via: 'email',
      },
    );
    expect(stored.ok).toBe(true);

    const second = new Capture();
    const b = await life(second);
    expect((await b.resume()).map((c) => c.at)).toEqual(['LevelApproved']);
    await until('level 2 asked', async () => second.approve(t.transferId, 2)[0]);
    // The level's other link was voided; level 1 was asked by nobody again.
    const level1 = (await b.store.approvalsOf(t.transferId)).filter((x) => x.level === 1);
    expect(level1.map((x) => x.status).sort()).toEqual(['approved', 'void']);
    expect(second.approve(t.transferId, 1)).toEqual([]);
    // The decision's record, which the killed process never wrote, is on the trail once, saying so.
    const decided = (await b.store.auditTrail()).filter(
      (r) => r.subject === t.transferId && r.kind === 'approval.decided',
    );
    expect(
      decided.map((r) => [r.actor, (r.data as { decision: string; recovered?: string }).decision]),
    ).toEqual([[l1.to.id, 'approved']]);
    expect((decided[0]?.data as { recovered?: string } | undefined)?.recovered).toMatch(
      /stopped before its record/,
    );
    await b.workflow.stop();
  });

  it("a decision that claimed its level and stopped before marking its approval: the next start marks it and records it, nobody's link is voided for it", async () => {
    const first = new Capture();
    const a = await life(first);
    const t = await requestChain(a);
    const l1 = await until('level 1 asked', async () => first.approve(t.transferId, 1)[0]);
    await until('level 1 waiting', async () =>
      (await a.store.approvalsOf(t.transferId)).length > 0 ? true : undefined,
    );
    await a.workflow.stop();
    // As a process killed between the level's claim and the approval's mark leaves it.
    const mine = (await a.store.approvalsOf(t.transferId)).find((x) => x.approver === l1.to.id);
    const claimed = await a.store.decideLevel(
      t.transferId,
      1,
      1,
      { approvalId: mine?.approvalId as string, approver: l1.to.id },
      { status: 'approved', decidedAt: new Date().toISOString(), claimant: 'killed-request' },
    );
    expect(claimed.ok && claimed.state.outcome).toBe('approved');
    expect((await a.store.getApproval(t.transferId, mine?.approvalId as string))?.status).toBe('pending');

    const second = new Capture();
    const b = await life(second);
    await b.resume();
    await until('level 2 asked', async () => second.approve(t.transferId, 2)[0]);
    const level1 = (await b.store.approvalsOf(t.transferId)).filter((x) => x.level === 1);
    expect(level1.find((x) => x.approver === l1.to.id)?.status).toBe('approved');
    expect(level1.filter((x) => x.approver !== l1.to.id).map((x) => x.status)).toEqual(['void']);
    const decided = (await b.store.auditTrail()).filter(
      (r) => r.subject === t.transferId && r.kind === 'approval.decided',
    );
    expect(decided.map((r) => r.actor)).toEqual([l1.to.id]);
    expect((decided[0]?.data as { recovered?: string } | undefined)?.recovered).toMatch(
      /stopped before its record/,
    );
    await b.workflow.stop();
  });

  /** A copy of `t` as a process killed inside the gate leaves it: gated and stored, nothing on the trail. */
  async function gatedUnrecorded(t: LocalTransfers, from: Transfer): Promise<Transfer> {
    const copy: Transfer = {
      transferId: `${from.transferId}-K${Math.random().toString(36).slice(2, 8)}`,
      request: { ...from.request, reason: `${from.request.reason} (killed)` },
      requestedAt: from.requestedAt,
      requestedOn: from.requestedOn,
      status: 'pending',
    };
    await t.store.createTransfer(copy);
    const gated = (await t.store.getTransfer(from.transferId)) as Transfer;
    await t.store.updateTransfer(
      copy.transferId,
      { gate: gated.gate, levels: gated.levels, chainWhy: gated.chainWhy },
      { status: 'pending' },
    );
    return copy;
  }

  it("killed between the gate's write and its record: the request and the gate are recorded once at the next start", async () => {
    const first = new Capture();
    const a = await life(first);
    const t = await requestChain(a);
    await until('level 1 asked', async () => first.approve(t.transferId, 1)[0]);
    await a.workflow.stop();
    const killed = await gatedUnrecorded(a, t);

    const second = new Capture();
    const b = await life(second);
    expect((await b.resume()).find((c) => c.transferId === killed.transferId)?.at).toBe('LevelDue');
    await until('level 1 asked', async () => second.approve(killed.transferId, 1)[0]);
    const kinds = async () =>
      (await b.store.auditTrail()).filter((r) => r.subject === killed.transferId).map((r) => r.kind);
    await until('level 1 recorded', async () =>
      (await kinds()).includes('approval.requested') ? true : undefined,
    );
    expect(await kinds()).toEqual(['transfer.requested', 'gate.evaluated', 'approval.requested']);
    await b.workflow.stop();
    // A third start finds nothing missing: no record twice.
    const c = await life(new Capture());
    await c.resume();
    expect(await kinds()).toEqual(['transfer.requested', 'gate.evaluated', 'approval.requested']);
    await c.workflow.stop();
  });

  it("killed after a level's approvals were stored and before its links went out: they go out at the next start, once", async () => {
    const first = new Capture();
    const a = await life(first);
    const t = await requestChain(a);
    const asked = await until('level 1 asked', async () => first.approve(t.transferId, 1)[0]);
    await a.workflow.stop();
    const killed = await gatedUnrecorded(a, t);
    const now = new Date();
    await a.store.putApprovals(
      (await a.store.approvalsOf(t.transferId))
        .filter((x) => x.level === 1)
        .map((x, i) => ({
          ...x,
          approvalId: `KILLED${i}${Math.random().toString(36).slice(2, 10)}`.toUpperCase(),
          transferId: killed.transferId,
          status: 'pending' as const,
          notifiedAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
          reminders: 0,
        })),
      'token-of-the-killed-process',
    );

    const second = new Capture();
    const b = await life(second);
    const carried = (await b.resume()).find((c) => c.transferId === killed.transferId);
    expect(carried?.why).toBe('level 1: not every approver was asked: asking them');
    const links = await until('level 1 links', async () => {
      const sent = second.approve(killed.transferId, 1);
      return sent.length === first.approve(t.transferId, 1).length ? sent : undefined;
    });
    expect(links.map((n) => n.to.id).sort()).toEqual(
      first
        .approve(t.transferId, 1)
        .map((n) => n.to.id)
        .sort(),
    );
    expect(asked.to.id).toBeTruthy();
    const kinds = async () =>
      (await b.store.auditTrail()).filter((r) => r.subject === killed.transferId).map((r) => r.kind);
    await until('level 1 recorded', async () =>
      (await kinds()).includes('approval.requested') ? true : undefined,
    );
    // One record of the asking, the step's own (it names who was notified), not a recovered one.
    const records = (await b.store.auditTrail()).filter(
      (r) => r.subject === killed.transferId && r.kind === 'approval.requested',
    );
    expect(records).toHaveLength(1);
    expect(records[0]?.data).not.toHaveProperty('recovered');
    await b.workflow.stop();
  });
});
