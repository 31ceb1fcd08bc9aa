import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy, policyHash, policyInForce } from '../../functions/credit/policy.ts';
import type { StoredRecord } from '../../functions/ingest/ports.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import type { ApprovalNotice, ApprovalNotifier, Transfer } from '../../functions/transfers/ports.ts';
import { LocalEvaluator } from '../../infra/local/runtime/evaluator.ts';
import { InboxObjectStore } from '../../infra/local/runtime/files.ts';
import { localContext, localIngestHandler, s3SqsEvent } from '../../infra/local/runtime/inbox.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { localMetrics } from '../../infra/local/runtime/metrics.ts';
import { type LocalTransfers, localTransfers } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { approvalPolicyWith } from './transfers-console.ts';

/**
 * A credit policy change is itself approved (issue 16): an upload under policy/ (through the real
 * ingest handler) or a policy set by a person is stored as pending and put to the approval chain
 * (the transfer-approval ASL on the local workflow engine, dynalite); only the last level's
 * approval puts it in force, and the evaluator then uses it. The shipped approval policy's
 * `policyChange` levels: Head of credit (fiona, farid), then CFO (victor).
 */

const TODAY = '2026-12-07';

class Capture implements ApprovalNotifier {
  readonly notices: ApprovalNotice[] = [];
  async send(ns: readonly ApprovalNotice[]): Promise<void> {
    this.notices.push(...ns);
  }
}

let env: LocalEnv;
let root: string;
let dataDir: string;
let t: LocalTransfers;
let capture: Capture;
let upload: (
  key: string,
  text: string,
) => Promise<{ report: string; run: Awaited<ReturnType<ReceivablesQueries['runs']>>[number] | undefined }>;
let version = 0;

/** The shipped policy with the first days-past-due level at `from` days, under `version`. */
function policyDoc(v: string, from: number): Record<string, unknown> {
  const d = structuredClone(DEFAULT_POLICY_DOCUMENT) as {
    version: string;
    rules: { daysPastDue: { levels: { from: number }[] } };
  };
  d.version = v;
  (d.rules.daysPastDue.levels[0] as { from: number }).from = from;
  return d as unknown as Record<string, unknown>;
}
const idOf = (doc: unknown) => {
  const r = parsePolicy(doc);
  if (!r.ok) throw new Error(`test policy invalid: ${JSON.stringify(r.issues)}`);
  return r.policy.id;
};
const SHIPPED_FIRST_FROM = (
  DEFAULT_POLICY_DOCUMENT as { rules: { daysPastDue: { levels: { from: number }[] } } }
).rules.daysPastDue.levels[0]?.from;

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  root = await mkdtemp(join(tmpdir(), 'policy-approval-'));
  dataDir = join(root, 'data');
  await mkdir(dataDir, { recursive: true });
  const from = { runId: 'seed', line: 2 };
  await env.store.write([
    {
      kind: 'customers',
      row: { customerId: 'C1', name: 'Acme GmbH', currency: 'EUR', creditLimit: 100_000_00 },
      from,
    },
    {
      kind: 'invoices',
      row: {
        customerId: 'C1',
        invoiceId: 'I1',
        issueDate: '2026-08-01',
        dueDate: '2026-08-31',
        amount: 12_000_00,
        currency: 'EUR',
        disputed: false,
      },
      from,
    },
  ] as StoredRecord[]);
  capture = new Capture();
  t = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    // As `npm start` wires it: the policy in force is read from the store at every step.
    creditPolicy: async () => policyInForce(await env.store.getPolicy(), DEFAULT_POLICY_DOCUMENT),
    approvalPolicy: async () => approvalPolicyWith(() => {}),
    dataDir,
    clock: { now: () => new Date() },
    today: () => TODAY,
    baseUrl: () => 'http://approvals.test',
    notifier: capture,
    policies: env.store,
  });
  const handler = localIngestHandler(
    env,
    new InboxObjectStore(join(root, 'inbox')),
    { customersChanged: async () => {} },
    'UTC',
    localMetrics(join(root, '.metrics'), 'ingest'),
    { propose: (p) => t.app.requestPolicyChange(p) },
  );
  upload = async (key, text) => {
    const path = join(root, 'inbox', key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    version++;
    const res = (await handler(s3SqsEvent(key, Buffer.byteLength(text), `v${version}`), localContext())) as {
      batchItemFailures: unknown[];
    };
    expect(res.batchItemFailures).toEqual([]);
    const report = await readFile(path.replace(/\.json$/, '.rejects.csv'), 'utf8');
    const [run] = await new ReceivablesQueries(env.store).runs(1);
    return { report, run };
  };
});

afterAll(async () => {
  await t?.idle();
  await env?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const show = async (id: string) => (await t.app.show(id))?.transfer as Transfer;
/** Waits for the level's approve notice to `who` (the workflow asks it asynchronously). */
async function linkFor(transferId: string, level: number, who: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const n = capture.notices.find(
      (x) =>
        x.kind === 'approve' &&
        x.transfer.transferId === transferId &&
        x.level.level === level &&
        x.to.id === who,
    );
    if (n && n.kind === 'approve') return n;
    if (Date.now() > deadline) throw new Error(`no level ${level} link to ${who} for ${transferId}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}
const decide = (url: string, decision: 'approve' | 'reject', email: string, comment = '') =>
  t.http({
    method: 'POST',
    path: new URL(url).pathname,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ decision, email, comment }).toString(),
  });
const done = async (transferId: string) => {
  const found = await show(transferId);
  await t.workflow.execution(found.executionId as string)?.done;
  return show(transferId);
};
const trail = async (subject: string) => (await t.store.auditTrail()).filter((r) => r.subject === subject);

describe('a policy uploaded under policy/', () => {
  const stricter = policyDoc('team-2026.12', 15);
  let transferId: string;

  it('is stored as pending with its hash and diff, asks the chain, and changes nothing in force', async () => {
    expect(await env.store.getPolicy()).toBeUndefined();
    const { report, run } = await upload('policy/credit-policy.json', JSON.stringify(stricter));
    expect(report).toBe('line,column,value,reason\r\n');
    expect(run?.status).toBe('processed');
    const id = idOf(stricter);
    expect(run?.warnings[0]).toMatch(
      new RegExp(
        `^policy ${id.replace(/[.+]/g, '\\$&')} is pending approval \\(TR-[0-9A-Z]{26}\\); the policy in force is unchanged`,
      ),
    );
    transferId = /\((TR-[0-9A-Z]{26})\)/.exec(run?.warnings[0] ?? '')?.[1] as string;
    // Nothing in force but the shipped default.
    expect(await env.store.getPolicy()).toBeUndefined();
    const pending = await env.store.getPendingPolicy(transferId);
    const { id: _i, ...doc } = (parsePolicy(stricter) as { ok: true; policy: { id: string } }).policy;
    expect(pending?.id).toBe(id);
    expect(pending?.hash).toBe(policyHash(doc as never));
    expect(pending?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(pending?.requester).toBe('policy-upload');
    expect(pending?.source).toMatch(/^s3:\/\/[^/]+\/policy\/credit-policy\.json\?versionId=v\d+$/);
    expect(pending?.diff).toEqual([
      { path: 'rules.daysPastDue.levels.0.from', from: String(SHIPPED_FIRST_FROM), to: '15' },
      {
        path: 'version',
        from: JSON.stringify((DEFAULT_POLICY_DOCUMENT as { version: string }).version),
        to: '"team-2026.12"',
      },
    ]);
    // The request: no customer, no money, its own two levels; the diff is the approvers' evidence.
    const first = await linkFor(transferId, 1, 'fiona');
    const tr = await show(transferId);
    expect(tr.request.type).toBe('policy_change');
    expect(tr.request.amount).toBe(0);
    expect(tr.status).toBe('pending');
    expect(tr.policyChange).toMatchObject({
      policyId: id,
      replaces: policyInForce(undefined, DEFAULT_POLICY_DOCUMENT).id,
      changes: 2,
    });
    expect(tr.levels?.map((l) => [l.name, l.approvers.map((a) => a.id)])).toEqual([
      ['Head of credit', ['fiona', 'farid']],
      ['CFO', ['victor']],
    ]);
    const diff = tr.gate?.checks.find((c) => c.check === 'policyDiff');
    expect(diff?.figures['rules.daysPastDue.levels.0.from']).toBe(`${SHIPPED_FIRST_FROM} -> 15`);
    expect(tr.gate?.flags).toEqual([]);
    // The approval page shows the diff, and no customer section.
    const page = await t.http({ method: 'GET', path: new URL(first.url).pathname, headers: {}, body: '' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('rules.daysPastDue.levels.0.from');
    expect(page.body).toContain(pending?.hash);
    // On the trail: the pending policy with its hash.
    const proposed = (await trail(transferId)).find((r) => r.kind === 'policy.proposed');
    expect(proposed?.actor).toBe('policy-upload');
    expect(proposed?.data).toMatchObject({ policyId: id, hash: pending?.hash, supersedes: [] });
  });

  it('is put in force only once the last level approves; the evaluator then uses it', async () => {
    const l1 = await linkFor(transferId, 1, 'fiona');
    expect((await decide(l1.url, 'approve', 'fiona@example.com', 'checked the diff')).status).toBe(200);
    const l2 = await linkFor(transferId, 2, 'victor');
    // One level approved: still the shipped default in force.
    expect(await env.store.getPolicy()).toBeUndefined();
    expect((await decide(l2.url, 'approve', 'victor@example.com', 'ok')).status).toBe(200);
    const tr = await done(transferId);
    expect(tr.status).toBe('approved');
    const stored = await env.store.getPolicy();
    expect(stored?.id).toBe(idOf(stricter));
    expect(stored?.approvedIn).toBe(transferId);
    expect(stored?.setAt).toBe(tr.closedAt);
    const inForce = (await trail(transferId)).find((r) => r.kind === 'policy.in-force');
    expect(inForce?.data).toMatchObject({
      policyId: idOf(stricter),
      hash: (await env.store.getPendingPolicy(transferId))?.hash,
      replaced: policyInForce(undefined, DEFAULT_POLICY_DOCUMENT).id,
      approvedBy: [
        expect.objectContaining({ level: 1, approver: 'fiona' }),
        expect.objectContaining({ level: 2, approver: 'victor' }),
      ],
    });
    // The evaluator reads the policy in force: its assessment names the approved policy.
    const evaluator = new LocalEvaluator({
      store: env.store,
      dataDir,
      timeZone: 'UTC',
      now: () => new Date(`${TODAY}T12:00:00Z`),
      log: () => {},
    });
    evaluator.enqueue(TODAY, ['C1'], 'ingest');
    await evaluator.idle();
    await evaluator.stop();
    expect((await env.store.loadCustomerPartition('C1')).assessment?.policyId).toBe(idOf(stricter));
  });

  it('an invalid policy is refused as before: never pending, nothing asked', async () => {
    const before = (await t.app.list()).length;
    const bad = policyDoc('typo', 10) as { rules: { limitUse: { levels: { severity: string }[] } } };
    (bad.rules.limitUse.levels[0] as { severity: string }).severity = 'hot';
    const { report, run } = await upload('policy/typo.json', JSON.stringify(bad));
    expect(run?.status).toBe('unreadable');
    expect(run?.reason).toBe('the policy is not valid; the policy in force is unchanged');
    expect(report).toContain('rules.limitUse.levels.0.severity');
    expect((await t.app.list()).length).toBe(before);
  });

  it('the policy already in force asks nothing', async () => {
    const before = (await t.app.list()).length;
    const { run } = await upload('policy/again.json', JSON.stringify(stricter));
    expect(run?.status).toBe('processed');
    expect(run?.warnings).toEqual([
      `policy ${idOf(stricter)} is already in force: there is nothing to approve; nothing was asked`,
    ]);
    expect((await t.app.list()).length).toBe(before);
  });
});

describe('a policy set by a person', () => {
  it('a rejection keeps the old policy in force and the pending one marked rejected', async () => {
    const inForce = (await env.store.getPolicy())?.id;
    const doc = policyDoc('team-2026.13', 20);
    const r = await t.app.requestPolicyChange({
      document: doc,
      requester: 'rita',
      source: 'sentinel policy set',
    });
    if (!r.ok) throw new Error(r.problem);
    const l1 = await linkFor(r.transferId, 1, 'farid');
    expect((await decide(l1.url, 'reject', 'farid@example.com', 'not this quarter')).status).toBe(200);
    const tr = await done(r.transferId);
    expect(tr.status).toBe('rejected');
    expect((await env.store.getPolicy())?.id).toBe(inForce);
    expect((await trail(r.transferId)).some((x) => x.kind === 'policy.in-force')).toBe(false);
    expect((await trail(r.transferId)).some((x) => x.kind === 'policy.proposed')).toBe(true);
  });

  it("the requester is never asked nor can decide with another approver's link", async () => {
    const doc = policyDoc('team-2026.14', 25);
    const r = await t.app.requestPolicyChange({
      document: doc,
      requester: 'Fiona@Example.com',
      source: 'sentinel policy set',
    });
    if (!r.ok) throw new Error(r.problem);
    const l1 = await linkFor(r.transferId, 1, 'farid');
    const tr = await show(r.transferId);
    expect(tr.request.requester).toBe('fiona');
    expect(tr.levels?.[0]?.approvers.map((a) => a.id)).toEqual(['farid']);
    expect(
      capture.notices.some(
        (n) => n.transfer.transferId === r.transferId && n.to.id === 'fiona' && n.kind === 'approve',
      ),
    ).toBe(false);
    const res = await decide(l1.url, 'approve', 'fiona@example.com', 'mine');
    expect(res.status).toBe(403);
    expect((await show(r.transferId)).status).toBe('pending');
    await t.app.recall(r.transferId, 'fiona');
    expect((await done(r.transferId)).status).toBe('recalled');
  });

  it('an unknown person is refused, nothing stored', async () => {
    const before = (await t.app.list()).length;
    const r = await t.app.requestPolicyChange({
      document: policyDoc('team-2026.15', 26),
      requester: 'nobody',
      source: 'sentinel policy set',
    });
    expect(r).toEqual({
      ok: false,
      field: 'by',
      problem: expect.stringContaining('"nobody" is not a person'),
    });
    expect((await t.app.list()).length).toBe(before);
  });

  it('a newer policy change supersedes the one pending: recalled, said in both records', async () => {
    const inForce = (await env.store.getPolicy())?.id;
    const a = await t.app.requestPolicyChange({
      document: policyDoc('team-2026.16', 27),
      requester: 'rita',
      source: 'sentinel policy set',
    });
    if (!a.ok) throw new Error(a.problem);
    await linkFor(a.transferId, 1, 'fiona');
    const b = await t.app.requestPolicyChange({
      document: policyDoc('team-2026.17', 28),
      requester: 'carla',
      source: 'sentinel policy set',
    });
    if (!b.ok) throw new Error(b.problem);
    expect(b.superseded).toEqual([a.transferId]);
    const old = await done(a.transferId);
    expect(old.status).toBe('recalled');
    expect(old.outcome).toContain(`superseded by the newer policy change ${b.transferId}`);
    const recalled = (await trail(a.transferId)).find((x) => x.kind === 'transfer.recalled');
    expect(recalled?.data).toMatchObject({ supersededBy: b.transferId });
    const proposed = (await trail(b.transferId)).find((x) => x.kind === 'policy.proposed');
    expect(proposed?.data).toMatchObject({ supersedes: [a.transferId] });
    expect((await show(b.transferId)).status).toBe('pending');
    expect((await env.store.getPolicy())?.id).toBe(inForce);
    // Decided: the newer one goes in force; its diff was against the policy in force.
    const l1 = await linkFor(b.transferId, 1, 'fiona');
    await decide(l1.url, 'approve', 'fiona@example.com', 'ok');
    const l2 = await linkFor(b.transferId, 2, 'victor');
    await decide(l2.url, 'approve', 'victor@example.com', 'ok');
    expect((await done(b.transferId)).status).toBe('approved');
    expect((await env.store.getPolicy())?.id).toBe(idOf(policyDoc('team-2026.17', 28)));
    expect((await env.store.getPendingPolicy(b.transferId))?.diff).toContainEqual({
      path: 'rules.daysPastDue.levels.0.from',
      from: '15',
      to: '28',
    });
  });
});
