import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../functions/credit/policy.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { sentinel } from './cli-run.ts';

/**
 * `sentinel policy show` after an upgrade: a policy set under an earlier version that this one
 * refuses (it scores the retired limitUse factor) is not in force, and the command says so and why.
 */

let dir: string;
let dataDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-policy-'));
  dataDir = join(dir, 'data');
  const env = await openLocal({ dataDir });
  try {
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as {
      version: string;
      scorecard: { factors: Record<string, unknown> };
    };
    doc.version = 'team-2026.10';
    doc.scorecard.factors.limitUse = {
      maxPoints: 8,
      neutralPoints: 4,
      bands: [{ max: 0.5, points: 8 }, { points: 0 }],
    };
    await env.store.putPolicy({
      id: 'team-2026.10+00000000',
      document: doc,
      setAt: '2026-10-01T09:00:00.000Z',
      setBy: 'ana',
    });
  } finally {
    await env.close();
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sentinel policy show', () => {
  it('says a stored policy that no longer validates is not in force, why, and what is', async () => {
    const shipped = parsePolicy(DEFAULT_POLICY_DOCUMENT);
    if (!shipped.ok) throw new Error('the shipped policy is invalid');
    const r = await sentinel(['policy', 'show', '--data-dir', dataDir], dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`policy in force: ${shipped.policy.id} (the shipped default)`);
    expect(lines[1]).toBe(
      'the policy set by ana at 2026-10-01T09:00:00.000Z no longer validates, so it is not in force:',
    );
    expect(lines[2]).toMatch(/^ {2}scorecard\.factors\.limitUse: is no longer a scorecard factor: /);
    expect(lines.at(-1)).toBe(
      'correct it and set it again: sentinel policy check FILE, then sentinel policy set FILE',
    );
  });
});
