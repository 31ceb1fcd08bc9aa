import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../functions/credit/policy.ts';
import { publishConsole } from '../../infra/local/cli/transfers.ts';
import type { RunningConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, listMail } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { sentinel } from './cli-run.ts';
import { startTransfersConsole, until } from './transfers-console.ts';

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
    expect(lines.at(-2)).toBe(
      'correct it and set it again: sentinel policy check FILE, then sentinel policy set FILE --by WHO',
    );
    expect(lines.at(-1)).toBe('no policy change is pending');
  });
});

describe('sentinel policy set', () => {
  let env: LocalEnv;
  let transfers: LocalTransfers;
  let web: RunningConsole;
  let unpublish: (() => Promise<void>) | undefined;
  let setDir: string;

  beforeAll(async () => {
    setDir = await mkdtemp(join(tmpdir(), 'cli-policy-set-'));
    // On the data dir the CLI is given, as `npm start` runs: `policy show` reads the same store.
    env = await openLocal({ dataDir: setDir }, true);
    ({ transfers, web } = await startTransfersConsole(env, setDir, { policyChanges: true }));
    unpublish = await publishConsole(setDir, web.url);
  });
  afterAll(async () => {
    await unpublish?.();
    await transfers?.idle();
    await web?.close();
    await env?.close();
    if (setDir) await rm(setDir, { recursive: true, force: true });
  });

  const file = async (name: string, from: number) => {
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as {
      version: string;
      rules: { daysPastDue: { levels: { from: number }[] } };
    };
    doc.version = name;
    (doc.rules.daysPastDue.levels[0] as { from: number }).from = from;
    const path = join(setDir, `${name}.json`);
    await writeFile(path, JSON.stringify(doc));
    return { path, id: (parsePolicy(doc) as { ok: true; policy: { id: string } }).policy.id };
  };

  it('puts the policy to the approval chain; `policy show` says what is in force and what is pending', async () => {
    const shipped = parsePolicy(DEFAULT_POLICY_DOCUMENT);
    if (!shipped.ok) throw new Error('the shipped policy is invalid');
    const { path, id } = await file('team-2026.12', 12);
    const set = await sentinel(['policy', 'set', path, '--by', 'rita', '--data-dir', setDir], setDir);
    expect(set.code, set.stderr).toBe(0);
    const transferId = /pending approval as (TR-[0-9A-Z]{26})/.exec(set.stdout)?.[1] as string;
    expect(set.stdout).toContain(
      `policy ${id} is pending approval as ${transferId}; the policy in force is unchanged`,
    );
    expect(await env.store.getPolicy()).toBeUndefined();
    // Where it stands: the gate ran and level 1 waits.
    await until('level 1 asked', async () =>
      (await transfers.app.show(transferId))?.transfer.level === 1 ? true : undefined,
    );
    const shown = await sentinel(['policy', 'show', '--data-dir', setDir], setDir);
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`policy in force: ${shipped.policy.id} (the shipped default)`);
    expect(lines[1]).toBe(
      `pending: ${id} (${transferId}, asked by rita at ${(await transfers.app.show(transferId))?.transfer.requestedAt}): waiting for level 1 of 2 (Head of credit); 2 fields change:`,
    );
    expect(lines).toContain('  rules.daysPastDue.levels.0.from: 30 -> 12');
    // The approvers' emails (.eml in the outbox) carry the diff as evidence, and a link each.
    const mail = await listMail(setDir, undefined, (f) => f.includes(`-approve-${transferId}-`));
    expect(mail.map((m) => m.to).sort()).toEqual([
      'Farid Haddad <farid@example.com>',
      'Fiona Finance <fiona@example.com>',
    ]);
    expect(mail[0]?.subject).toContain('credit policy change');
    expect(mail[0]?.text).toContain('rules.daysPastDue.levels.0.from: 30 -> 12');
    expect(mail[0]?.text).toMatch(/\/approvals\/[\w.-]+/);
    // The console's page of the request: a credit policy change, moving no money.
    const page = await fetch(`${web.url}/transfers/${transferId}`);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('Credit policy change');
    expect(body).toContain('A credit policy change moves no money');
  });

  it('refuses an unknown person and asks nothing; an invalid file is refused before anything is sent', async () => {
    const before = (await transfers.app.list()).length;
    const { path } = await file('team-2026.13', 13);
    const r = await sentinel(['policy', 'set', path, '--by', 'nobody', '--data-dir', setDir], setDir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('by: "nobody" is not a person of the approval policy');
    const bad = join(setDir, 'bad.json');
    await writeFile(bad, JSON.stringify({ version: 'x' }));
    const b = await sentinel(['policy', 'set', bad, '--by', 'rita', '--data-dir', setDir], setDir);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toContain('is not valid; the policy in force is unchanged');
    expect((await transfers.app.list()).length).toBe(before);
  });
});
