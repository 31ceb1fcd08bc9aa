import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { StoredRecord } from '../../functions/ingest/ports.ts';
import type { ApprovalNotice, ApprovalNotifier, Transfer } from '../../functions/transfers/ports.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, localTransfers } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { approvalPolicyWith, sleep, until } from './transfers-console.ts';

/**
 * Approve and reject the same level at nearly the same moment, on the local stack (dynalite, the
 * ASL on the local engine, the approval pages' HTTP handler): many rounds at every level of a
 * three-level chain. Exactly one decision wins each level; the loser is told who won; a rejection
 * that wins stops the transfer and no later level is ever asked; an approval that wins asks the
 * next level (or approves the transfer at the last).
 */

const TODAY = '2026-11-24';
const ROUNDS = Number(process.env.SENTINEL_RACE_ROUNDS ?? 12);

class Capture implements ApprovalNotifier {
  readonly notices: ApprovalNotice[] = [];
  async send(ns: readonly ApprovalNotice[]): Promise<void> {
    this.notices.push(...ns);
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
  asked(transferId: string, level: number) {
    return this.notices.filter(
      (n) => n.kind === 'approve' && n.transfer.transferId === transferId && n.level.level === level,
    ).length;
  }
}

let env: LocalEnv;
let dir: string;
let t: LocalTransfers;
const capture = new Capture();

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  dir = await mkdtemp(join(tmpdir(), 'races-'));
  await env.store.write([
    {
      kind: 'customers',
      row: { customerId: 'C9', name: 'Newcomer Ltd', currency: 'EUR' },
      from: { runId: 'seed', line: 2 },
    },
  ] as StoredRecord[]);
  const policy = approvalPolicyWith(() => {});
  t = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy: async () => policyInForce(undefined, DEFAULT_POLICY_DOCUMENT),
    approvalPolicy: async () => policy,
    dataDir: dir,
    clock: { now: () => new Date() },
    today: () => TODAY,
    baseUrl: () => 'http://approvals.test',
    notifier: capture,
  });
  const append = t.store.appendAudit.bind(t.store);
  t.store.appendAudit = async (e) => {
    const r = await append(e);
    if (e.kind === 'approval.requested')
      requested.set(e.subject, [
        ...(requested.get(e.subject) ?? []),
        (e.data as { level: { level: number } }).level.level,
      ]);
    return r;
  };
});
afterAll(async () => {
  await t?.workflow.stop();
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

const EMAIL: Record<string, string> = {
  carla: 'carla@example.com',
  chen: 'chen@example.com',
  fiona: 'fiona@example.com',
  farid: 'farid@example.com',
  victor: 'victor@example.com',
};

async function request(n: number): Promise<Transfer> {
  const r = await t.app.request({
    customerId: 'C9',
    type: 'refund',
    amount: `${2000 + n}.00`,
    currency: 'EUR',
    beneficiaryName: 'Unknown Ltd',
    beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
    reason: 'credit note refund',
    requester: 'rita',
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.transfer;
}

const link = (transferId: string, level: number, who: string) =>
  until(`level ${level} asking ${who}`, async () => capture.approve(transferId, level, who), 15_000);

const decide = (url: string, decision: 'approve' | 'reject', who: string) =>
  t.http({
    method: 'POST',
    path: new URL(url).pathname,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    // A rejection needs a reason.
    body: new URLSearchParams({
      decision,
      email: EMAIL[who] as string,
      comment: decision === 'reject' ? 'not this one' : '',
    }).toString(),
  });

/** The levels whose first ask was audited, per transfer: the step that asks has finished then. */
const requested = new Map<string, number[]>();

/**
 * Waits until the step asking a level has returned, so the race is between the two decisions and
 * not with the tail of that step (the local engine's parked wait is only listened to once it has).
 */
const parked = (transferId: string, level: number) =>
  until(`level ${level} audited`, async () =>
    requested.get(transferId)?.includes(level) ? sleep(20).then(() => true) : undefined,
  );

/** Whether the transfer's execution ends within 15 s (a lost race used to leave it waiting for ever). */
async function ended(transferId: string): Promise<boolean> {
  const executionId = (await t.app.show(transferId))?.transfer.executionId as string;
  const done = t.workflow.execution(executionId)?.done.then(() => true);
  return Promise.race([done ?? Promise.resolve(false), sleep(15_000).then(() => false)]);
}

/** Who decides each level before the race, and the two who race at the level raced. */
const WALK = ['chen', 'farid', 'victor'];
const RACERS: Record<number, [string, string]> = {
  1: ['carla', 'chen'],
  2: ['fiona', 'farid'],
  3: ['victor', 'fiona'],
};

interface Round {
  readonly ok: boolean;
  readonly problems: string[];
}

async function round(level: number, n: number): Promise<Round> {
  const problems: string[] = [];
  const tr = await request(level * 1000 + n);
  const id = tr.transferId;
  for (let l = 1; l < level; l++) {
    const res = await decide(
      (await link(id, l, WALK[l - 1] as string)).url,
      'approve',
      WALK[l - 1] as string,
    );
    if (res.status !== 200) problems.push(`walk level ${l}: ${res.status}`);
  }
  const [a, b] = RACERS[level] as [string, string];
  const [la, lb] = await Promise.all([link(id, level, a), link(id, level, b)]);
  await parked(id, level);
  // Which one approves, and who starts first, by the round.
  const approver = n % 2 === 0 ? a : b;
  const rejecter = approver === a ? b : a;
  const jitter = () => sleep(Math.floor(Math.random() * 15));
  const [yes, no] = await Promise.all([
    jitter().then(() => decide(approver === a ? la.url : lb.url, 'approve', approver)),
    jitter().then(() => decide(rejecter === a ? la.url : lb.url, 'reject', rejecter)),
  ]);
  const winners = [yes, no].filter((r) => r.status === 200).length;
  if (winners !== 1) problems.push(`${winners} decisions accepted (${yes.status}, ${no.status})`);
  const loser = yes.status === 200 ? no : yes;
  if (winners === 1 && !/Already decided|no longer open/.test(loser.body))
    problems.push(`the loser was told: ${loser.body.slice(0, 200)}`);
  const rejected = no.status === 200 && no.body.includes('Rejected');
  // Let the workflow carry on: either the next level is asked, or the transfer ends.
  if (rejected || level === 3) {
    if (!(await ended(id))) problems.push(`the workflow did not end after the decision at level ${level}`);
  } else if (yes.status === 200) {
    await until(
      `level ${level + 1} asked`,
      async () => (capture.asked(id, level + 1) > 0 ? true : undefined),
      10_000,
    ).catch(() => problems.push(`level ${level + 1} never asked after level ${level} was approved`));
  }
  const shown = await t.app.show(id);
  const here = shown?.approvals.filter((x) => x.level === level) ?? [];
  const decided = here.filter((x) => x.status === 'approved' || x.status === 'rejected');
  if (decided.length !== 1) problems.push(`${decided.length} decisions recorded at level ${level}`);
  if (here.some((x) => x.status === 'pending') && shown?.transfer.status !== 'pending')
    problems.push('a pending approval on a closed transfer');
  const status = shown?.transfer.status;
  if (rejected) {
    if (status !== 'rejected') problems.push(`rejecter told "Rejected" but the transfer is ${status}`);
    if (capture.asked(id, level + 1) > 0) problems.push(`level ${level + 1} asked after the rejection`);
  } else if (level === 3) {
    if (status !== 'approved') problems.push(`approved at the last level but the transfer is ${status}`);
  } else if (status !== 'pending' || shown?.transfer.level !== level + 1) {
    problems.push(
      `approved at level ${level} but the transfer is ${status} at level ${shown?.transfer.level}`,
    );
  }
  if (status === 'pending') {
    await parked(id, level + 1);
    await t.app.recall(id, 'rita');
    if (!(await ended(id))) problems.push('the workflow did not end after the recall');
  }
  const after = await t.app.show(id);
  if (after?.approvals.some((x) => x.status === 'pending'))
    problems.push('approvals left pending after the transfer ended');
  return { ok: problems.length === 0, problems };
}

describe('approve and reject the same level at nearly the same moment', () => {
  for (const level of [1, 2, 3])
    it(`level ${level}: ${ROUNDS} rounds, one decision each, consistent with what each person was told`, async () => {
      const failures: string[] = [];
      // A few transfers at a time: the rounds race each other's writes as well.
      for (let start = 0; start < ROUNDS; start += 15) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(15, ROUNDS - start) }, (_, i) => round(level, start + i)),
        );
        batch.forEach((r, i) => {
          if (!r.ok) failures.push(`round ${start + i}: ${r.problems.join('; ')}`);
        });
      }
      console.log(`level ${level}: ${ROUNDS} rounds, ${failures.length} failed`);
      expect(failures).toEqual([]);
    }, 120_000);
});
