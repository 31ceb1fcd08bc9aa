import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyInForce } from '../../functions/credit/policy.ts';
import { type ApprovalPolicy, parseApprovalPolicy } from '../../functions/transfers/approval-policy.ts';
import type { ApprovalNotice, ApprovalNotifier, Transfer } from '../../functions/transfers/ports.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { localMetrics, readLocalMetrics } from '../../infra/local/runtime/metrics.ts';
import { type LocalTransfers, localTransfers } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT, DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { until } from './transfers-console.ts';

/**
 * The transfer app's metrics, read back as the EMF records it wrote: TransfersRequested for each
 * request taken, TransfersDecided once per end with its `outcome` (approved, rejected, recalled,
 * expired; a refusal by the gate is no decision), and DecisionLatency from an approver's notice to
 * their answer. The real app, ASL and store; a clock the test moves.
 */

const T0 = Date.parse('2026-11-24T09:00:00Z');

/** Keeps every notice (the links a test decides with). */
class Capture implements ApprovalNotifier {
  readonly notices: ApprovalNotice[] = [];
  async send(ns: readonly ApprovalNotice[]): Promise<void> {
    this.notices.push(...ns);
  }
}

function policyWith(patch: (d: Record<string, unknown>) => void): ApprovalPolicy {
  const doc = structuredClone(DEFAULT_APPROVAL_POLICY_DOCUMENT) as Record<string, unknown>;
  patch(doc);
  const r = parseApprovalPolicy(doc);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.policy;
}

/** One level (the credit controllers): every request is decided by one answer. */
const oneLevel = (d: Record<string, unknown>) => {
  d.levels = (d.levels as unknown[]).slice(0, 1);
};

let env: LocalEnv;
let dir: string;
beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  dir = await mkdtemp(join(tmpdir(), 'transfer-metrics-'));
  // The customer the requests name: on file, with nothing else.
  await env.store.write([
    {
      kind: 'customers',
      row: { customerId: 'C9', name: 'Newcomer Ltd', currency: 'EUR' },
      from: { runId: 'seed', line: 2 },
    },
  ]);
});
afterAll(async () => {
  await env.close();
  await rm(dir, { recursive: true, force: true });
});

async function rig(policy: ApprovalPolicy, name: string) {
  const capture = new Capture();
  const clock = { t: T0, now: () => new Date(clock.t) };
  const metricsDir = join(dir, name);
  const t: LocalTransfers = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy: async () => policyInForce(undefined, DEFAULT_POLICY_DOCUMENT),
    approvalPolicy: async () => policy,
    dataDir: dir,
    clock,
    today: () => '2026-11-24',
    baseUrl: () => 'http://approvals.test',
    notifier: capture,
    metrics: localMetrics(metricsDir, 'transfers', { eager: true }),
  });
  const request = async (requester = 'rita'): Promise<Transfer> => {
    const res = await t.http({
      method: 'POST',
      path: '/transfers',
      headers: {},
      body: JSON.stringify({
        customerId: 'C9',
        type: 'refund',
        amount: '2500.00',
        currency: 'EUR',
        beneficiaryName: 'Unknown Ltd',
        beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
        reason: 'credit note refund',
        requester,
      }),
    });
    expect(res.status, res.body).toBe(201);
    return (JSON.parse(res.body) as { transfer: Transfer }).transfer;
  };
  const link = (transferId: string, approver: string) =>
    until(`the link to ${approver}`, async () =>
      capture.notices.find(
        (n): n is ApprovalNotice & { kind: 'approve' } =>
          n.kind === 'approve' && n.transfer.transferId === transferId && n.to.id === approver,
      ),
    );
  const decide = (url: string, decision: 'approve' | 'reject', email: string) =>
    t.http({
      method: 'POST',
      path: new URL(url).pathname,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      // A rejection needs a reason.
      body: new URLSearchParams({
        decision,
        email: email,
        comment: decision === 'reject' ? 'not this one' : '',
      }).toString(),
    });
  const ended = async (transferId: string) => {
    const s = await until(`transfer ${transferId} closed`, async () => {
      const x = await t.app.show(transferId);
      return x && x.transfer.status !== 'pending' ? x : undefined;
    });
    await t.workflow.execution(s.transfer.executionId as string)?.done;
    return (await t.app.show(transferId))?.transfer.status;
  };
  const points = () => readLocalMetrics(metricsDir);
  return { t, clock, request, link, decide, ended, points };
}

const outcomes = (points: Awaited<ReturnType<typeof readLocalMetrics>>) =>
  points.filter((p) => p.name === 'TransfersDecided').map((p) => `${p.dimensions.outcome}:${p.value}`);

describe('transfer metrics', () => {
  it('approved, rejected and recalled: one request and one end each; the wait of each answer', async () => {
    const r = await rig(policyWith(oneLevel), 'decided');

    const a = await r.request();
    const la = await r.link(a.transferId, 'carla');
    r.clock.t += 90_000; // carla answers 90 s after she was asked
    expect((await r.decide(la.url, 'approve', 'carla@example.com')).status).toBe(200);
    expect(await r.ended(a.transferId)).toBe('approved');

    const b = await r.request();
    const lb = await r.link(b.transferId, 'chen');
    r.clock.t += 3_600_000;
    expect((await r.decide(lb.url, 'reject', 'chen@example.com')).status).toBe(200);
    expect(await r.ended(b.transferId)).toBe('rejected');

    const c = await r.request();
    await r.link(c.transferId, 'carla');
    expect(await r.t.app.recall(c.transferId, 'rita')).toMatchObject({ ok: true });
    expect(await r.ended(c.transferId)).toBe('recalled');
    // A second recall changes nothing and counts nothing.
    expect(await r.t.app.recall(c.transferId, 'rita')).toMatchObject({ ok: false, status: 409 });

    const points = await r.points();
    expect(points.filter((p) => p.name === 'TransfersRequested').map((p) => p.value)).toEqual([1, 1, 1]);
    expect(outcomes(points)).toEqual(['approved:1', 'rejected:1', 'recalled:1']);
    expect(points.filter((p) => p.name === 'DecisionLatency').map((p) => [p.unit, p.value])).toEqual([
      ['Seconds', 90],
      ['Seconds', 3600],
    ]);
    for (const p of points) {
      expect(p.dimensions.service).toBe('transfers');
      // The outcome dimension is on TransfersDecided alone.
      expect(p.dimensions.outcome === undefined).toBe(p.name !== 'TransfersDecided');
    }
  });

  it('expired: a level nobody answers ends once, as expired, with no decision latency', async () => {
    const r = await rig(
      policyWith((d) => {
        oneLevel(d);
        d.reminders = { everySeconds: 1, max: 1, escalateTo: ['victor'] };
      }),
      'expired',
    );
    const x = await r.request();
    expect(await r.ended(x.transferId)).toBe('expired');
    const points = await r.points();
    expect(outcomes(points)).toEqual(['expired:1']);
    expect(points.filter((p) => p.name === 'DecisionLatency')).toEqual([]);
  });

  it('refused by the gate (no chain can approve it): requested, but no decision counted', async () => {
    // Carla asks, and level 1 needs two of carla and chen: she may not approve her own request.
    const r = await rig(
      policyWith((d) => {
        oneLevel(d);
        ((d.levels as { required: number }[])[0] as { required: number }).required = 2;
      }),
      'refused',
    );
    const x = await r.request('carla');
    expect(await r.ended(x.transferId)).toBe('refused');
    const points = await r.points();
    expect(points.map((p) => p.name)).toEqual(['TransfersRequested']);
  });
});
