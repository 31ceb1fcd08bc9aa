import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../functions/credit/policy.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { InboxObjectStore } from '../../infra/local/runtime/files.ts';
import { localContext, localIngestHandler, s3SqsEvent } from '../../infra/local/runtime/inbox.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { localMetrics } from '../../infra/local/runtime/metrics.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/** A credit policy uploaded under `policy/` (the bucket on AWS, the inbox locally), through the real handler. */
let env: LocalEnv;
let root: string;
let handler: ReturnType<typeof localIngestHandler>;
let version = 0;

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
  handler = localIngestHandler(
    env,
    new InboxObjectStore(root),
    { customersChanged: async () => {} },
    'UTC',
    metrics,
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

  it('a valid policy is put in force and named in the run', async () => {
    expect(await env.store.getPolicy()).toBeUndefined();
    const { report, run } = await upload('policy/credit-policy.json', JSON.stringify(stricter));
    const expected = parsePolicy(stricter);
    if (!expected.ok) throw new Error('the test policy is invalid');
    const stored = await env.store.getPolicy();
    expect(stored?.id).toBe(expected.policy.id);
    expect(stored?.id).toMatch(/^team-2026\.12\+[0-9a-f]{8}$/);
    expect(stored?.setBy).toMatch(/^s3:\/\/[^/]+\/policy\/credit-policy\.json\?versionId=v\d+$/);
    expect(run?.status).toBe('processed');
    expect(run?.warnings).toEqual([`policy ${expected.policy.id} is in force`]);
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
  });

  it('a file that is not JSON is refused whole; the policy in force stays', async () => {
    const before = await env.store.getPolicy();
    const { report, run } = await upload('policy/notes.json', '{ "version": "x", oops');
    expect(run?.status).toBe('unreadable');
    expect(report.split('\r\n')[1]).toMatch(/^0,,,the policy file .*JSON/);
    expect(await env.store.getPolicy()).toEqual(before);
  });
});
