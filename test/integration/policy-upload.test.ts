import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../functions/credit/policy.ts';
import type { PolicyProposal } from '../../functions/credit/ports.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { InboxObjectStore } from '../../infra/local/runtime/files.ts';
import { localContext, localIngestHandler, s3SqsEvent } from '../../infra/local/runtime/inbox.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { localMetrics } from '../../infra/local/runtime/metrics.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * A credit policy uploaded under `policy/` (the bucket on AWS, the inbox locally), through the real
 * handler: validated whole, a valid one handed to the approval chain, an invalid one never.
 */
let env: LocalEnv;
let root: string;
let handler: ReturnType<typeof localIngestHandler>;
let version = 0;
const proposed: PolicyProposal[] = [];
const policyIdOf = (doc: unknown) => {
  const r = parsePolicy(doc);
  if (!r.ok) throw new Error('proposed an invalid policy');
  return r.policy.id;
};

async function upload(key: string, text: string) {
  await mkdir(dirname(join(root, key)), { recursive: true });
  await writeFile(join(root, key), text);
  version++;
  const res = (await handler(s3SqsEvent(key, Buffer.byteLength(text), `v${version}`), localContext())) as {
    batchItemFailures: unknown[];
  };
  expect(res.batchItemFailures).toEqual([]);
  const report = await readFile(join(root, key.replace(/\.json$/, '.rejects.csv')), 'utf8');
  const [run] = await new ReceivablesQueries(env.store).runs(1);
  return { report, run };
}

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  root = await mkdtemp(join(tmpdir(), 'sentinel-policy-'));
  // Its metrics in the temporary folder, not in the default data dir of the working directory.
  const metrics = localMetrics(join(root, '.metrics'), 'ingest');
  // Where a valid policy goes: here a recorder (policy-approval.test.ts runs the approval chain).
  handler = localIngestHandler(
    env,
    new InboxObjectStore(root),
    { customersChanged: async () => {} },
    'UTC',
    metrics,
    {
      propose: async (p) => {
        proposed.push(p);
        return {
          ok: true,
          transferId: `TR-${'0'.repeat(25)}${proposed.length}`,
          policyId: policyIdOf(p.document),
          superseded: [],
        };
      },
    },
  );
});
afterAll(async () => {
  await env.close();
  await rm(root, { recursive: true, force: true });
});

describe('policy/ uploads', () => {
  const stricter = structuredClone(DEFAULT_POLICY_DOCUMENT) as {
    version: string;
    rules: { daysPastDue: { levels: { from: number }[] } };
  };
  stricter.version = 'team-2026.12';
  (stricter.rules.daysPastDue.levels[0] as { from: number }).from = 15;

  it('a valid policy is put to the approval chain, named in the run; nothing changes in force', async () => {
    expect(await env.store.getPolicy()).toBeUndefined();
    const { report, run } = await upload('policy/credit-policy.json', JSON.stringify(stricter));
    const expected = parsePolicy(stricter);
    if (!expected.ok) throw new Error('the test policy is invalid');
    expect(await env.store.getPolicy()).toBeUndefined();
    expect(proposed).toHaveLength(1);
    expect(proposed[0]?.requester).toBe('policy-upload');
    expect(proposed[0]?.source).toMatch(/^s3:\/\/[^/]+\/policy\/credit-policy\.json\?versionId=v\d+$/);
    expect(proposed[0]?.key).toBe(proposed[0]?.source);
    expect(expected.policy.id).toMatch(/^team-2026\.12\+[0-9a-f]{8}$/);
    expect(run?.status).toBe('processed');
    expect(run?.warnings).toEqual([
      `policy ${expected.policy.id} is pending approval (TR-${'0'.repeat(25)}1); the policy in force is unchanged until the last level approves`,
    ]);
    expect(report).toBe('line,column,value,reason\r\n');
  });

  it('an invalid policy is refused with the path of each bad field, and the last good one stays', async () => {
    const before = await env.store.getPolicy();
    const bad = structuredClone(stricter) as unknown as Record<string, unknown> & {
      rules: { limitUse: { levels: { severity: string }[] } };
      scorecard: { factors: { altmanZ2: { bands: { points: number }[] } } };
    };
    (bad.rules.limitUse.levels[0] as { severity: string }).severity = 'hot';
    (bad.scorecard.factors.altmanZ2.bands[0] as { points: number }).points = 50;
    const { report, run } = await upload('policy/typo.json', JSON.stringify(bad));
    expect(run?.status).toBe('unreadable');
    expect(run?.reason).toBe('the policy is not valid; the policy in force is unchanged');
    const lines = report.trim().split('\r\n').slice(1);
    expect(lines).toHaveLength(2);
    expect(lines.some((l) => l.startsWith('0,rules.limitUse.levels.0.severity,,'))).toBe(true);
    expect(
      lines.some((l) =>
        l.startsWith('0,scorecard.factors.altmanZ2.bands.0.points,,must not exceed maxPoints'),
      ),
    ).toBe(true);
    expect(await env.store.getPolicy()).toEqual(before);
    expect(proposed).toHaveLength(1);
  });

  it('a file that is not JSON is refused whole; the policy in force stays', async () => {
    const before = await env.store.getPolicy();
    const { report, run } = await upload('policy/notes.json', '{ "version": "x", oops');
    expect(run?.status).toBe('unreadable');
    expect(report.split('\r\n')[1]).toMatch(/^0,,,the policy file .*JSON/);
    expect(await env.store.getPolicy()).toEqual(before);
  });
});
