import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoExecutionJournal } from '../../functions/adapters/dynamodb-executions.ts';
import { DynamoReviewStore } from '../../functions/adapters/dynamodb-reviews.ts';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import type { ReviewRun } from '../../functions/reviews/ports.ts';
import type { Approval, Transfer } from '../../functions/transfers/ports.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT } from '../../policies/index.ts';
import { Died, freePort, RestartingStack, sleep } from './restart-stack.ts';
import { CASES, REVIEW_AS_OF, recommendedFor, reviewTestPolicy, seedReviewBook } from './review-book.ts';

/**
 * Workflows survive restarts locally: `sentinel start` killed with SIGKILL at named points of a
 * periodic review and of a three-level approval chain (SENTINEL_CRASH_AT), started again on the
 * same data dir, and the chain finished with the links emailed before the kill, ends in the same
 * state as a run nobody killed: the transfer's status, approvals, audit records and emails, the
 * review's counts, reviews, limits and report.
 */

const POLICY = reviewTestPolicy('restarts-test');
const REQUESTER = 'rita';
/** Who approves each level of the chain (the first of them still pending at the level). */
const APPROVERS = ['carla', 'chen', 'farid', 'fiona', 'victor'];

function approvalPolicyFile(reminders?: { everySeconds: number; max: number }): string {
  const doc = structuredClone(DEFAULT_APPROVAL_POLICY_DOCUMENT) as {
    people: Record<string, unknown>;
    reminders: Record<string, unknown>;
  };
  doc.people[REQUESTER] = { name: 'Rita Requester', email: 'rita@example.com' };
  if (reminders) doc.reminders = { ...doc.reminders, ...reminders };
  return JSON.stringify(doc);
}

let root: string;
let template: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sentinel-restarts-'));
  template = join(root, 'template');
  const env = await openLocal({ dataDir: join(template, 'data') });
  try {
    await seedReviewBook(env.store, recommendedFor(POLICY));
    const { id, ...document } = POLICY;
    await env.store.putPolicy({ id, document, setAt: new Date().toISOString(), setBy: 'restarts.test' });
  } finally {
    await env.close();
  }
  await writeFile(join(root, 'approvals.json'), approvalPolicyFile());
  await writeFile(join(root, 'approvals-remind.json'), approvalPolicyFile({ everySeconds: 3, max: 1 }));
}, 60_000);

/** Every stack made, killed at the end: a test that timed out leaves none of its processes running. */
const stacks: RestartingStack[] = [];

afterAll(async () => {
  await Promise.all(stacks.map((s) => s.close().catch(() => undefined)));
  if (root) await rm(root, { recursive: true, force: true });
});

/** A stack on a fresh copy of the seeded data dir. */
async function stackFor(name: string, crashes: (string | undefined)[], policyFile = 'approvals.json') {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await cp(join(template, 'data'), join(dir, 'data'), { recursive: true });
  const stack = new RestartingStack(dir, await freePort(), crashes, {
    SENTINEL_APPROVAL_POLICY: join(root, policyFile),
  });
  stacks.push(stack);
  return stack;
}

/** Runs the review as of REVIEW_AS_OF to its end, across deaths. */
async function reviewThrough(stack: RestartingStack): Promise<string> {
  let runId: string | undefined;
  for (;;) {
    if (!runId) {
      try {
        const res = await stack.fetch('/api/reviews/runs', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ asOf: REVIEW_AS_OF }),
        });
        const json = (await res.json()) as { run?: ReviewRun; error?: string };
        if (!json.run) throw new Error(`the review run was refused: ${json.error}`);
        return json.run.runId;
      } catch (e) {
        if (!(e instanceof Died)) throw e;
      }
      // Killed under the request: the run the store recorded is carried on by the next start.
      runId = (await stack.get<{ runs: ReviewRun[] }>('/api/reviews')).runs[0]?.runId;
      continue;
    }
    const shown = await stack.get<{ run?: ReviewRun }>(`/api/reviews/${runId}`);
    if (shown.run?.status === 'done') return runId;
    await sleep(150);
  }
}

const REASON = 'restart test: return of a duplicate payment';

/** Requests a 3-level transfer and approves every level from the emailed links, across deaths. */
async function chainThrough(stack: RestartingStack): Promise<string> {
  let id: string | undefined;
  while (!id) {
    try {
      const res = await stack.fetch('/api/transfers', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          customerId: 'CKEEP',
          type: 'refund',
          amount: '150000.00',
          currency: 'EUR',
          beneficiaryName: 'CKEEP Ltd',
          beneficiaryAccount: 'DE89370400440532013000',
          reason: REASON,
          requester: REQUESTER,
        }),
      });
      const json = (await res.json()) as { transfer?: Transfer };
      if (!json.transfer) throw new Error(`the request was refused: ${JSON.stringify(json)}`);
      id = json.transfer.transferId;
    } catch (e) {
      if (!(e instanceof Died)) throw e;
      // Killed under the request: it may have been stored (and is then carried on).
      const list = await stack.get<{ transfers: Transfer[] }>('/api/transfers');
      id = list.transfers.find((t) => t.request.reason === REASON)?.transferId;
    }
  }
  for (;;) {
    const s = await stack.get<{ transfer: Transfer; approvals: Approval[] }>(`/api/transfers/${id}`);
    if (s.transfer.status !== 'pending') return id;
    const level = s.transfer.level;
    const pending = s.approvals.filter((a) => a.level === level && a.status === 'pending');
    const who = APPROVERS.find((p) => pending.some((a) => a.approver === p));
    const mail = who
      ? (await stack.mail(id)).find(
          (m) => m.file.endsWith(`-approve-${id}-${who}.eml`) && m.subject.includes(`level ${level} of`),
        )
      : undefined;
    const link = mail && /https?:\/\/\S+\/approvals\/[\w.-]+/.exec(mail.text)?.[0];
    if (!link) {
      await sleep(150);
      continue;
    }
    try {
      const res = await stack.fetch(link, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          decision: 'approve',
          email: `${who}@example.com`,
          comment: '',
        }).toString(),
      });
      expect([200, 409], await res.text()).toContain(res.status);
    } catch (e) {
      if (!(e instanceof Died)) throw e;
    }
  }
}

/** What a scenario ends with, named without its random ids, read from the store once stopped. */
async function finalState(stack: RestartingStack, chainId: string, runId: string) {
  const env = await openLocal({ dataDir: stack.dataDir });
  try {
    const transfers = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
    const reviews = new DynamoReviewStore({ client: env.store.client, tableName: env.store.tableName });
    const run = (await reviews.getRun(runId)) as ReviewRun;
    const reviewTransfer = run.approvals?.mode === 'each' ? run.approvals.byCustomer.CAPPROVE : undefined;
    const names = new Map<string, string>([
      [chainId, 'CHAIN'],
      [runId, 'RUN'],
      ...(reviewTransfer ? [[reviewTransfer, 'REVIEW-TR'] as [string, string]] : []),
    ]);
    const anon = (s: string) => [...names].reduce((acc, [id, n]) => acc.split(id).join(n), s);
    const trail = await transfers.auditTrail();
    const transferState = async (id: string) => {
      const t = (await transfers.getTransfer(id)) as Transfer;
      const approvals = (await transfers.approvalsOf(id))
        .map((a) => [a.level, a.approver, a.status, a.voidReason ?? '', a.reminders].join(' '))
        .sort();
      const kinds = trail.filter((r) => r.subject === id).map((r) => r.kind);
      const mail = (await stack.mail(id)).map((m) => `${m.file.split('-').slice(2, 3)} ${m.to} ${m.subject}`);
      return {
        status: t.status,
        level: t.level,
        closedBy: t.closedBy,
        outcome: t.outcome,
        approvals,
        audit: { count: kinds.length, kinds: [...kinds].sort() },
        mail: mail.map(anon).sort(),
      };
    };
    const stored = await reviews.reviewsOf(runId);
    const limits: Record<string, number | undefined> = {};
    for (const id of Object.keys(CASES))
      limits[id] = (await env.store.loadCustomerPartition(id)).books.customer?.creditLimit;
    const runKinds = trail.filter((r) => r.subject === runId).map((r) => r.kind);
    const { readFile } = await import('node:fs/promises');
    return {
      chain: await transferState(chainId),
      reviewTransfer: reviewTransfer ? await transferState(reviewTransfer) : undefined,
      run: { status: run.status, selected: run.selected, counts: run.counts, approvals: run.approvals?.mode },
      reviews: stored
        .map((r) => [r.customerId, r.status, r.outcome, r.limitAfter, r.askedLimit, r.applied].join(' '))
        .sort(),
      limits,
      report: anon(await readFile(run.report?.csv as string, 'utf8')),
      // A batch's audit record is written before the batch is marked done: a batch cut off between
      // the two is audited again when it is carried on (at least once). The run's record is once.
      runAudit: {
        kinds: [...new Set(runKinds)].sort(),
        runRecords: runKinds.filter((k) => k === 'review.run').length,
      },
      batchRecords: runKinds.filter((k) => k === 'review.batch').length,
    };
  } finally {
    await env.close();
  }
}

/**
 * Until every execution the journal holds waits for approvers (the review's transfer at its first
 * level): nothing carried on at the start is still running.
 */
async function settled(stack: RestartingStack): Promise<void> {
  const env = await openLocal({ dataDir: stack.dataDir });
  try {
    const journal = new DynamoExecutionJournal(env.store.client, env.store.tableName, 'transfer-approval');
    const transfers = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
    const waiting = async (name: string) => {
      const t = await transfers.getTransfer(name);
      const here = (await transfers.approvalsOf(name)).filter((a) => a.level === t?.level);
      return t?.status === 'pending' && here.some((a) => a.status === 'pending');
    };
    for (;;) {
      const names = (await journal.running()).map((e) => e.name);
      if ((await Promise.all(names.map(waiting))).every(Boolean)) return;
      if (stack.down) await stack.up();
      await sleep(150);
    }
  } finally {
    await env.close();
  }
}

/** Until the review run's transfer has its first level asked and audited (read beside the server). */
async function asked(stack: RestartingStack, runId: string): Promise<void> {
  for (;;) {
    const run = (await stack.get<{ run?: ReviewRun }>(`/api/reviews/${runId}`)).run;
    const id = run?.approvals?.mode === 'each' ? run.approvals.byCustomer.CAPPROVE : undefined;
    // Read beside the server; a server killed under the read is started again below.
    if (id && !stack.down) {
      const env = await openLocal({ dataDir: stack.dataDir });
      try {
        const trail = await new DynamoTransferStore({
          client: env.store.client,
          tableName: env.store.tableName,
        }).auditTrail();
        if (trail.some((r) => r.subject === id && r.kind === 'approval.requested')) return;
      } catch {
        // the server died under the read
      } finally {
        await env.close().catch(() => undefined);
      }
    }
    if (stack.down) await stack.up();
    await sleep(150);
  }
}

/** Review then chain on one stack, to their ends, then stopped and read. */
async function scenario(stack: RestartingStack) {
  try {
    const runId = await reviewThrough(stack);
    // The review's own transfer has asked its first level (audited) before the chain starts: the
    // kills of the chain's lives then fall between steps of the chain, not in the middle of that one.
    await asked(stack, runId);
    const chainId = await chainThrough(stack);
    // Once more from a stop, as a person would find it the next morning: whatever a last kill cut
    // off (after the response that ended the chain) is carried on before the state is read.
    await stack.stop();
    stack.disarm();
    await stack.up();
    await settled(stack);
    await stack.stop();
    return { runId, chainId, state: await finalState(stack, chainId, runId) };
  } catch (e) {
    await stack.kill();
    throw new Error(`${(e as Error).message}\n--- lives ---\n${stack.logs.join('\n---\n')}`);
  }
}

/** Points a round may kill at: the review's first life, then the chain's. */
const REVIEW_POINTS = [
  'reviews.after-select',
  'reviews.after-claim@1',
  'reviews.after-claim@3',
  'reviews.after-audit',
  'reviews.after-batch',
  'reviews.before-done',
];
const TRANSFER_POINTS = [
  'transfers.after-transfer.requested@2',
  'transfers.after-gate.evaluated@2',
  'transfers.after-approval.requested@2',
  'transfers.after-approval.requested@3',
  'transfers.after-approval.decided@1',
  'transfers.after-approval.decided@2',
  'transfers.after-decision@1',
  'transfers.after-decision@2',
  'transfers.after-decision@3',
  // An approval email written, the outbox not yet told (its claim is the dead process's).
  'transfers.after-notify@2',
  'transfers.after-notify@3',
  'transfers.after-transfer.executed',
];
/**
 * A round every run has: killed after the chain's first email (carla's, level 1: the review's
 * transfer sent two before it) was written and before the outbox marked it sent, then in the
 * next life after the second email of the level asked again. The claims are the dead process's:
 * the level is asked again at once (not after the claim goes stale), each link written once.
 * Then killed once the transfer was executed and before its requester was told: told once, by
 * the next start's execute step run again.
 */
const FIXED_ROUND = [
  'transfers.after-notify@3',
  'transfers.after-notify@2',
  'transfers.after-transfer.executed',
];
/** The leaves where two states differ (RESTART_REPORT=1 prints them for every round). */
function diff(a: unknown, b: unknown, at = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object')
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) =>
      diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`),
    );
  return [`${at}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`];
}

/** Random rounds a run has beside the fixed one (RESTART_ROUNDS, default 2). */
const RANDOM_ROUNDS = Number(process.env.RESTART_ROUNDS) || 2;

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;

describe.concurrent('workflows carried on after `sentinel start` is killed', () => {
  let baseline: Awaited<ReturnType<typeof finalState>>;

  it(
    'killed at random points of a review and an approval chain, ends as a run nobody killed',
    async () => {
      // A fixed round, then two of three random points; RESTART_ROUNDS=n for more random ones, or
      // RESTART_CRASHES to name them ("point,point;point": the lives of each round, rounds split by ";").
      const named = process.env.RESTART_CRASHES?.split(';').map((r) =>
        r.split(',').map((p) => p.trim() || undefined),
      );
      const rounds = named ?? [
        FIXED_ROUND,
        ...Array.from({ length: RANDOM_ROUNDS }, () => [
          pick(REVIEW_POINTS),
          pick(TRANSFER_POINTS),
          pick(TRANSFER_POINTS),
        ]),
      ];
      const clean = await stackFor('clean', []);
      const crashed = await Promise.all(rounds.map((r, i) => stackFor(`round-${i}`, r)));
      const [base, ...results] = await Promise.all([scenario(clean), ...crashed.map(scenario)]);
      baseline = base.state;
      expect(clean.kills).toEqual([]);
      expect(baseline.chain.status).toBe('approved');
      // requested, gated, three levels asked and decided, executed.
      expect(baseline.chain.audit.count).toBe(9);
      expect(baseline.run.counts?.reviewed).toBe(4);
      const whats = results.map((r, i) => {
        const stack = crashed[i] as RestartingStack;
        const tried = (rounds[i] ?? []).map((p) => p ?? 'none');
        const what = `round ${i}: armed ${tried.join(', ')}; killed at ${stack.kills.join(', ')}; ${stack.starts} starts`;
        console.log(`${what}; differences: ${JSON.stringify(diff(baseline, r.state))}`);
        return what;
      });
      for (const [i, r] of results.entries()) {
        const stack = crashed[i] as RestartingStack;
        const what = whats[i];
        // Every round is killed at least once (the review's points all come before its end).
        if (!named) expect(stack.kills.length, what).toBeGreaterThan(0);
        // Every record of the run once too: a step killed after its record and before saying so
        // gets its first try's record back (appendAudit's `once`).
        expect(r.state, what).toEqual(baseline);
      }
      // Each round is a `sentinel start` of its own beside the others: a minute of headroom a round
      // (about 12 s each on an idle machine; 9 rounds took up to 2 minutes at a load average of 16).
    },
    120_000 + 60_000 * (RANDOM_ROUNDS + 1),
  );

  it('a reminder due while stopped is sent once on the next start; the links already sent are not sent again', async () => {
    const stack = await stackFor('remind', [], 'approvals-remind.json');
    try {
      const res = await stack.fetch('/api/transfers', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          customerId: 'CKEEP',
          type: 'refund',
          amount: '500.00',
          currency: 'EUR',
          beneficiaryName: 'CKEEP Ltd',
          beneficiaryAccount: 'DE89370400440532013000',
          reason: 'restart test: reminder',
          requester: REQUESTER,
        }),
      });
      const id = ((await res.json()) as { transfer: Transfer }).transfer.transferId;
      const asked = async () => {
        const s = await stack.get<{ approvals: Approval[] }>(`/api/transfers/${id}`);
        return (await stack.mail(id)).filter((m) => m.file.includes('-approve-')).length >= 2 &&
          s.approvals.length >= 2
          ? s.approvals
          : undefined;
      };
      let approvals = await asked();
      while (!approvals) {
        await sleep(100);
        approvals = await asked();
      }
      await stack.kill();
      // Down past the first reminder's time (every 3 s; the last reminder escalates).
      const first = Math.min(...approvals.map((a) => Date.parse(a.notifiedAt)));
      while (Date.now() < first + 3_500) await sleep(100);
      await stack.up();
      // Expired once every reminder went unanswered, and the requester told.
      const told = async () =>
        (await stack.mail(id)).some((m) => m.file.includes('-outcome-'))
          ? (await stack.get<{ transfer: Transfer }>(`/api/transfers/${id}`)).transfer
          : undefined;
      let final = await told();
      while (!final) {
        await sleep(200);
        final = await told();
      }
      expect(final.status).toBe('expired');
      const mail = (await stack.mail(id)).map((m) => m.file.split('-').slice(2, 3)[0] as string);
      const count = (k: string) => mail.filter((x) => x === k).length;
      // Level 1's two approvers: asked once before the kill, reminded once after it, then expired.
      expect([count('approve'), count('remind'), count('escalate'), count('outcome')]).toEqual([2, 2, 1, 1]);
      const after = await stack.get<{ approvals: Approval[] }>(`/api/transfers/${id}`);
      expect(after.approvals.map((a) => [a.status, a.reminders])).toEqual([
        ['void', 1],
        ['void', 1],
      ]);
      await stack.stop();
    } finally {
      await stack.kill();
    }
  }, 90_000);
});
