/**
 * Transfer approval benchmark: transfers walked through three levels on the local stack (dynalite,
 * the ASL on aws-local-stepfunctions, the real app and HTTP handler, .eml files written to an
 * outbox). Measured per decision: from the start of its POST to the moment the next level's
 * approval notice has been written.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyInForce } from '../../functions/credit/policy.ts';
import { parseApprovalPolicy } from '../../functions/transfers/approval-policy.ts';
import type { ApprovalNotice, ApprovalNotifier, Transfer } from '../../functions/transfers/ports.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { localTransfers, OutboxApprovalNotifier } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT, DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

export interface TransfersBench {
  readonly transfers: number;
  readonly decisions: number;
  /** Decision POST to the next level's notice written, ms, in the order measured. */
  readonly latenciesMs: number[];
  readonly seconds: number;
}

type LinkNotice = ApprovalNotice & { kind: 'approve' };

export async function benchTransfers(count = 100): Promise<TransfersBench> {
  const env = await openLocal({ inMemory: true });
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-transfers-'));
  try {
    const policy = parseApprovalPolicy(DEFAULT_APPROVAL_POLICY_DOCUMENT);
    if (!policy.ok) throw new Error('the shipped approval policy is invalid');
    const seen = new Map<string, { at: number; n: LinkNotice }>();
    const waiters = new Map<string, (v: { at: number; n: LinkNotice }) => void>();
    const outbox = new OutboxApprovalNotifier(dir, { now: () => new Date() });
    const notifier: ApprovalNotifier = {
      async send(ns) {
        await outbox.send(ns); // the .eml files are written before the notice counts as sent
        const at = performance.now();
        for (const n of ns) {
          if (n.kind !== 'approve') continue;
          const key = `${n.transfer.transferId}/${n.level.level}`;
          if (seen.has(key)) continue;
          seen.set(key, { at, n: n as LinkNotice });
          waiters.get(key)?.({ at, n: n as LinkNotice });
        }
      },
    };
    const next = (transferId: string, level: number) =>
      new Promise<{ at: number; n: LinkNotice }>((ok) => {
        const key = `${transferId}/${level}`;
        const s = seen.get(key);
        if (s) ok(s);
        else waiters.set(key, ok);
      });
    const t = await localTransfers({
      client: env.store.client,
      tableName: env.store.tableName,
      creditStore: env.store,
      creditPolicy: async () => policyInForce(undefined, DEFAULT_POLICY_DOCUMENT),
      approvalPolicy: async () => policy.policy,
      dataDir: dir,
      clock: { now: () => new Date() },
      today: () => '2026-11-24',
      baseUrl: () => 'http://127.0.0.1:8787',
      notifier,
    });
    const latencies: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const res = await t.http({
        method: 'POST',
        path: '/transfers',
        headers: {},
        body: JSON.stringify({
          customerId: `BENCH${i % 10}`,
          type: 'refund',
          amount: `${1000 + i}.00`,
          currency: 'EUR',
          beneficiaryName: 'Bench Ltd',
          beneficiaryAccount: 'DE89370400440532013000',
          reason: 'benchmark refund',
          requester: 'rita',
        }),
      });
      const tr = (JSON.parse(res.body) as { transfer: Transfer }).transfer;
      for (let level = 1; level <= 3; level++) {
        const { n } = await next(tr.transferId, level);
        const started = performance.now();
        const email = n.to.email as string;
        const r = await t.http({
          method: 'POST',
          path: new URL(n.url).pathname,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ decision: 'approve', email, comment: 'bench' }).toString(),
        });
        if (r.status !== 200)
          throw new Error(`decision on ${tr.transferId} level ${level} answered ${r.status}`);
        if (level < 3) latencies.push((await next(tr.transferId, level + 1)).at - started);
      }
      await t.workflow.execution(tr.executionId as string)?.done;
      const done = await t.app.show(tr.transferId);
      if (done?.transfer.status !== 'approved')
        throw new Error(`${tr.transferId} ended ${done?.transfer.status}, not approved`);
    }
    return {
      transfers: count,
      decisions: count * 3,
      latenciesMs: latencies,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await env.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}
