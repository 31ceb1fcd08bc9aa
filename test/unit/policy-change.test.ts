import { describe, expect, it } from 'vitest';
import { parsePolicy, policyDiff, policyHash } from '../../functions/credit/policy.ts';
import {
  type ApprovalPolicy,
  parseApprovalPolicy,
  policyChangeChain,
  policyChangeLevels,
} from '../../functions/transfers/approval-policy.ts';
import { policyChangeGate } from '../../functions/transfers/gate.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT, DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/** A credit policy change's own levels (the approval policy's `policyChange`), its diff and its gate. */

type Doc = Record<string, unknown> & {
  policyChange?: { levels: { name: string; approvers: string[]; required?: number }[] };
};
const doc = (edit: (d: Doc) => void = () => {}): Doc => {
  const d = structuredClone(DEFAULT_APPROVAL_POLICY_DOCUMENT) as Doc;
  edit(d);
  return d;
};
const parsed = (d: Doc): ApprovalPolicy => {
  const r = parseApprovalPolicy(d);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.policy;
};
const TODAY = '2026-12-07';
const ids = (c: ReturnType<typeof policyChangeChain>) =>
  c.ok ? c.levels.map((l) => [l.name, l.approvers.map((a) => a.id)]) : c.problem;

describe('policy change levels', () => {
  it('the shipped approval policy: head of credit, then the CFO, whatever any amount', () => {
    const chain = policyChangeChain('rita', TODAY, parsed(doc()));
    expect(ids(chain)).toEqual([
      ['Head of credit', ['fiona', 'farid']],
      ['CFO', ['victor']],
    ]);
    expect(chain.why).toEqual([
      "a credit policy change climbs the 2 levels of the approval policy's policyChange",
    ]);
  });

  it('the requester is left out; a level left with nobody refuses the chain', () => {
    expect(ids(policyChangeChain('Farid@example.com', TODAY, parsed(doc())))).toEqual([
      ['Head of credit', ['fiona']],
      ['CFO', ['victor']],
    ]);
    expect(policyChangeChain('victor', TODAY, parsed(doc()))).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^level 2 \(CFO\) needs 1 approver but has 0 /),
    });
  });

  it('without a policyChange entry: the top two levels of the ladder, and says so', () => {
    const p = parsed(
      doc((d) => {
        delete d.policyChange;
      }),
    );
    expect(policyChangeLevels(p).levels.map((l) => l.name)).toEqual(['Finance manager', 'CFO']);
    const chain = policyChangeChain('rita', TODAY, p);
    expect(ids(chain)).toEqual([
      ['Finance manager', ['fiona', 'farid']],
      ['CFO', ['victor', 'fiona']],
    ]);
    expect(chain.why[0]).toBe(
      "the approval policy names no policyChange levels: a credit policy change climbs the ladder's top 2 levels (Finance manager, CFO)",
    );
  });

  it('is validated like the ladder, every bad field named', () => {
    const r = parseApprovalPolicy(
      doc((d) => {
        d.policyChange = {
          levels: [
            { name: 'Head of credit', approvers: ['fiona', 'nobody'] },
            { name: 'CFO', approvers: ['victor'], required: 2 },
          ],
        };
      }),
    );
    expect(r.ok ? [] : r.issues).toEqual([
      { path: 'policyChange.levels.0.approvers.1', message: '"nobody" is not in people' },
      { path: 'policyChange.levels.1.required', message: 'exceeds the 1 approvers of the level' },
    ]);
    const empty = parseApprovalPolicy(
      doc((d) => {
        d.policyChange = { levels: [] };
      }),
    );
    expect(empty.ok ? [] : empty.issues.map((i) => i.path)).toEqual(['policyChange.levels']);
  });
});

describe('policy diff and gate', () => {
  const shipped = parsePolicy(DEFAULT_POLICY_DOCUMENT);
  if (!shipped.ok) throw new Error('the shipped policy is invalid');
  const next = structuredClone(DEFAULT_POLICY_DOCUMENT) as {
    version: string;
    limit: { keepWithin: number; caps: Record<string, Record<string, string>> };
    description?: string;
  };
  next.version = 'team-2027.01';
  next.limit.keepWithin = 0.2;
  delete next.description;
  const { id: _id, ...doc2 } = (parsePolicy(next) as { ok: true; policy: { id: string } }).policy;

  it('names each changed field with the value in force and the new one', () => {
    const { id: _i, ...inForce } = shipped.policy;
    const diff = policyDiff(shipped.policy, doc2 as never);
    expect(diff).toContainEqual({
      path: 'limit.keepWithin',
      from: String(inForce.limit.keepWithin),
      to: '0.2',
    });
    expect(diff).toContainEqual({
      path: 'version',
      from: JSON.stringify(inForce.version),
      to: '"team-2027.01"',
    });
    if (inForce.description !== undefined)
      expect(diff).toContainEqual({
        path: 'description',
        from: JSON.stringify(inForce.description),
        to: undefined,
      });
    expect(diff.some((d) => d.path === 'id')).toBe(false);
    expect(policyDiff(shipped.policy, shipped.policy)).toEqual([]);
  });

  it('the gate shows the policy, its hash and the diff; it raises no flag', () => {
    const hash = policyHash(doc2 as never);
    const g = policyChangeGate(
      {
        id: 'team-2027.01+abcdef12',
        hash,
        replaces: shipped.policy.id,
        source: 'sentinel policy set',
        diff: [{ path: 'limit.keepWithin', from: '0.1', to: '0.2' }],
      },
      TODAY,
    );
    expect(g.flags).toEqual([]);
    expect(g.checks[0]).toMatchObject({
      check: 'policyChange',
      summary: `credit policy team-2027.01+abcdef12 to replace ${shipped.policy.id} (in force): 1 field changes`,
      figures: { sha256: hash },
    });
    expect(g.checks[1]?.figures).toEqual({ 'limit.keepWithin': '0.1 -> 0.2' });
  });
});
