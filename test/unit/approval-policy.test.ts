import { describe, expect, it } from 'vitest';
import {
  type ApprovalPolicy,
  approvalChain,
  levelsNeeded,
  parseApprovalPolicy,
} from '../../functions/transfers/approval-policy.ts';
import type { TransferRequest } from '../../functions/transfers/request.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT } from '../../policies/index.ts';

function shipped(): ApprovalPolicy {
  const r = parseApprovalPolicy(DEFAULT_APPROVAL_POLICY_DOCUMENT);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.policy;
}
const policy = shipped();

/** The policy document's shape, as far as these tests edit it. */
type Doc = {
  levels: { approvers: string[]; required: number }[];
  bands: Record<string, { upTo?: string; levels: number }[]>;
  people: Record<string, { away?: unknown[] }>;
};

const req = (over: Partial<TransferRequest> = {}): TransferRequest => ({
  customerId: 'ACME',
  type: 'refund',
  amount: 500_000,
  currency: 'EUR',
  beneficiaryName: 'Acme Ltd',
  beneficiaryAccount: 'DE89370400440532013000',
  reason: 'credit note refunded',
  requester: 'rita',
  ...over,
});
const low = { riskClass: 'low' as const, flags: [], today: '2026-11-23' };
const ids = (c: ReturnType<typeof approvalChain>) =>
  c.ok ? c.levels.map((l) => l.approvers.map((a) => a.id)) : c.problem;

describe('approval policy', () => {
  it('the shipped example is valid', () => {
    expect(policy.levels.map((l) => l.name)).toEqual(['Credit controller', 'Finance manager', 'CFO']);
  });

  it('picks the levels by amount band, the band bound included', () => {
    // 10,000.00 EUR is the first band's bound: still 1 level; a cent more is 2.
    expect(levelsNeeded(req({ amount: 1_000_000 }), low, policy)).toEqual({
      levels: 1,
      why: ['amount up to 10,000.00 EUR: 1 level'],
    });
    expect(levelsNeeded(req({ amount: 1_000_001 }), low, policy)).toMatchObject({ levels: 2 });
    expect(levelsNeeded(req({ amount: 10_000_001 }), low, policy)).toEqual({
      levels: 3,
      why: ['amount above every band: 3 levels'],
    });
    expect(levelsNeeded(req({ currency: 'CHF' }), low, policy)).toEqual({
      problem: 'the approval policy has no amount bands in CHF',
    });
    expect(levelsNeeded(req({ type: 'bank_account_change', amount: 0 }), low, policy)).toEqual({
      levels: 2,
      why: ['a bank account change needs 2 levels'],
    });
  });

  it('raises the levels for risk and gate flags, capped at the ladder', () => {
    expect(levelsNeeded(req(), { riskClass: 'medium', flags: ['newBeneficiary'] }, policy)).toEqual({
      levels: 3,
      why: [
        'amount up to 10,000.00 EUR: 1 level',
        'customer risk class medium: +1',
        'gate flag newBeneficiary: +1',
      ],
    });
    // openAlerts adds nothing in the shipped policy: it is evidence only.
    expect(levelsNeeded(req(), { riskClass: 'low', flags: ['openAlerts'] }, policy)).toMatchObject({
      levels: 1,
    });
    expect(levelsNeeded(req(), { riskClass: 'high', flags: ['duplicate', 'overLimit'] }, policy)).toEqual({
      levels: 3,
      why: [
        'amount up to 10,000.00 EUR: 1 level',
        'customer risk class high: +2',
        'gate flag duplicate: +1',
        'gate flag overLimit: +1',
        'capped at the 3 levels of the ladder',
      ],
    });
    expect(levelsNeeded(req(), { riskClass: undefined, flags: [] }, policy)).toMatchObject({
      levels: 3,
      why: ['amount up to 10,000.00 EUR: 1 level', 'customer not rated yet, treated as high risk: +2'],
    });
  });

  it('leaves the requester out of every level', () => {
    const c = approvalChain(req({ requester: 'carla', amount: 50_000_000 }), low, policy);
    expect(ids(c)).toEqual([['chen'], ['fiona', 'farid'], ['victor', 'fiona']]);
  });

  it('one person approves at most one level: a chain only people at two levels could finish is refused', () => {
    // Fiona is at levels 2 and 3; with Farid requesting and Victor away without a delegate...
    const p = structuredClone(policy);
    (p.people.victor as { away: unknown[] }).away = [
      { from: '2026-11-20', to: '2026-11-30', delegate: 'farid' },
    ];
    const c = approvalChain(req({ requester: 'farid', amount: 50_000_000 }), low, p);
    // ... Victor's delegate is the requester (left out), so Fiona alone could do levels 2 and 3.
    expect(c).toMatchObject({
      ok: false,
      problem: 'the levels cannot be completed by different people: someone would have to approve twice',
    });
    // With Farid not requesting, Fiona takes level 3 and Farid level 2: fine.
    expect(approvalChain(req({ amount: 50_000_000 }), low, policy)).toMatchObject({ ok: true });
  });

  it('a delegate approves for someone away, on the days of the absence', () => {
    const p = structuredClone(policy);
    (p.people.carla as { away: unknown[] }).away = [
      { from: '2026-11-20', to: '2026-11-30', delegate: 'farid' },
    ];
    const c = approvalChain(req(), low, p);
    expect(c.ok && c.levels[0]?.approvers).toEqual([
      {
        id: 'farid',
        name: 'Farid Haddad',
        email: 'farid@example.com',
        slackId: undefined,
        onBehalfOf: 'carla',
      },
      {
        id: 'chen',
        name: 'Chen Wei',
        email: 'chen@example.com',
        slackId: 'U0CHENW01',
        onBehalfOf: undefined,
      },
    ]);
    expect(ids(approvalChain(req(), { ...low, today: '2026-12-01' }, p))).toEqual([['carla', 'chen']]);
  });

  it('k of n: a level that needs two approvals cannot be done by one person, nor with too few left', () => {
    const p = structuredClone(policy);
    (p.levels[0] as { required: number }).required = 2;
    expect(approvalChain(req(), low, p)).toMatchObject({ ok: true });
    expect(approvalChain(req({ requester: 'chen' }), low, p)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^level 1 \(Credit controller\) needs 2 approvers but has 1 /),
    });
  });

  it('refuses a bad policy naming the field', () => {
    const edit = (change: (d: Doc) => void): unknown => {
      const d = structuredClone(DEFAULT_APPROVAL_POLICY_DOCUMENT) as Doc;
      change(d);
      return d;
    };
    const at = <T>(v: T | undefined): T => {
      if (v === undefined) throw new Error('fixture: missing');
      return v;
    };
    const r = parseApprovalPolicy(
      edit((d) => {
        at(d.levels[1]).approvers.push('nobody');
        at(d.bands.EUR)[1] = { upTo: '5000.00', levels: 2 };
        d.bands.XXY = [{ levels: 1 }];
        at(d.people.chen).away = [{ from: '2026-12-01', to: '2026-11-01', delegate: 'chen' }];
      }),
    );
    expect(r.ok ? [] : r.issues.map((i) => i.path).sort()).toEqual(['bands.XXY', 'people.chen.away']);
    // Cross-field checks run once each field is valid.
    const r2 = parseApprovalPolicy(
      edit((d) => {
        at(d.levels[1]).approvers.push('nobody');
        at(d.levels[2]).required = 3;
        at(d.bands.EUR)[1] = { upTo: '5000.00', levels: 2 };
        at(d.people.chen).away = [{ from: '2026-11-01', to: '2026-11-02', delegate: 'chen' }];
      }),
    );
    expect(r2.ok ? [] : r2.issues).toEqual([
      { path: 'levels.1.approvers.2', message: '"nobody" is not in people' },
      { path: 'levels.2.required', message: 'exceeds the 2 approvers of the level' },
      { path: 'people.chen.away.0.delegate', message: 'cannot be the person away' },
      { path: 'bands.EUR.1.upTo', message: 'must be above the band before' },
    ]);
  });

  it('gate.refuseAboveUnappliedCash: off unless the policy says so, and only true or false', () => {
    const shipped = parseApprovalPolicy(DEFAULT_APPROVAL_POLICY_DOCUMENT);
    expect(shipped.ok && shipped.policy.gate.refuseAboveUnappliedCash).toBe(false);
    const withGate = (gate: unknown) => ({ ...(DEFAULT_APPROVAL_POLICY_DOCUMENT as object), gate });
    const absent = parseApprovalPolicy(withGate({}));
    expect(absent.ok && absent.policy.gate.refuseAboveUnappliedCash).toBe(false);
    const on = parseApprovalPolicy(withGate({ refuseAboveUnappliedCash: true }));
    expect(on.ok && on.policy.gate.refuseAboveUnappliedCash).toBe(true);
    const bad = parseApprovalPolicy(withGate({ refuseAboveUnappliedCash: 'yes' }));
    expect(bad.ok ? [] : bad.issues.map((i) => i.path)).toEqual(['gate.refuseAboveUnappliedCash']);
    // A raise for the new flag is validated like the others.
    const raise = structuredClone(DEFAULT_APPROVAL_POLICY_DOCUMENT) as {
      raise: { flags: Record<string, unknown> };
    };
    raise.raise.flags.aboveUnappliedCash = -1;
    const r = parseApprovalPolicy(raise);
    expect(r.ok ? [] : r.issues.map((i) => i.path)).toEqual(['raise.flags.aboveUnappliedCash']);
  });
});
