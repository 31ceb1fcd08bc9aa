import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../functions/core/audit.ts';
import { addDays } from '../../functions/core/dates.ts';
import { assess } from '../../functions/credit/assess.ts';
import { asOfFile, creditFileOf } from '../../functions/credit/evaluate.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { ChangeNotifier, CustomersChanged, StoredRecord } from '../../functions/ingest/ports.ts';
import type { ApprovalPolicy } from '../../functions/transfers/approval-policy.ts';
import type { ApprovalNotice, ApprovalNotifier, Transfer } from '../../functions/transfers/ports.ts';
import { localAudit } from '../../infra/local/runtime/audit-key.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, listMail, localTransfers } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { approvalPolicyWith as policyWith, until } from './transfers-console.ts';

/**
 * Transfer approvals end to end on the local stack: the real app and steps, the ASL on
 * aws-local-stepfunctions, dynalite, the approval pages over the same HTTP handler the Lambda
 * serves, and Slack's interactivity endpoint. Every attack shows its page and no state change.
 */

const TODAY = '2026-11-24';
const SLACK_SECRET = 'slack-signing-secret-for-tests-0123456789';

class Clock {
  t = Date.parse(`${TODAY}T09:00:00Z`);
  now = () => new Date(this.t);
}

/** Keeps every notice and lets a test wait for the one it expects. */
class Capture implements ApprovalNotifier {
  readonly notices: ApprovalNotice[] = [];
  private waiters: { pred: (n: ApprovalNotice) => boolean; ok: (n: ApprovalNotice) => void }[] = [];
  async send(ns: readonly ApprovalNotice[]): Promise<void> {
    for (const n of ns) {
      this.notices.push(n);
      const due = this.waiters.filter((w) => w.pred(n));
      this.waiters = this.waiters.filter((w) => !due.includes(w));
      for (const w of due) w.ok(n);
    }
  }
  next(pred: (n: ApprovalNotice) => boolean): Promise<ApprovalNotice> {
    const seen = this.notices.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((ok) => this.waiters.push({ pred, ok }));
  }
}

let env: LocalEnv;
let dir: string;
beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  dir = await mkdtemp(join(tmpdir(), 'transfers-'));
  const from = { runId: 'seed', line: 2 };
  const rows: StoredRecord[] = [
    {
      kind: 'customers',
      row: {
        customerId: 'C1',
        name: 'Acme GmbH',
        currency: 'EUR',
        creditLimit: 100_000_00,
        industry: 'retail',
      },
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
    // A customer with master data only: no credit limit, no receivables.
    { kind: 'customers', row: { customerId: 'C9', name: 'Newcomer Ltd', currency: 'EUR' }, from },
  ] as StoredRecord[];
  await env.store.write(rows);
});
afterAll(async () => {
  await env.close();
  await rm(dir, { recursive: true, force: true });
});

interface Rig {
  t: LocalTransfers;
  capture: Capture;
  clock: Clock;
  post(path: string, body: string, headers?: Record<string, string>): ReturnType<LocalTransfers['http']>;
  get(path: string): ReturnType<LocalTransfers['http']>;
  request(over?: Record<string, unknown>): Promise<Transfer>;
  link(transferId: string, level: number, approver: string): Promise<ApprovalNotice & { kind: 'approve' }>;
  decide(
    url: string,
    decision: 'approve' | 'reject',
    email: string,
    comment?: string,
  ): ReturnType<LocalTransfers['http']>;
  wait(transferId: string): Promise<void>;
}

async function rig(
  policy: ApprovalPolicy = policyWith(() => {}),
  notifier?: ApprovalNotifier,
  changes?: ChangeNotifier,
): Promise<Rig> {
  const capture = new Capture();
  const clock = new Clock();
  const t = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy: async () => policyInForce(undefined, DEFAULT_POLICY_DOCUMENT),
    approvalPolicy: async () => policy,
    dataDir: dir,
    clock,
    today: () => TODAY,
    baseUrl: () => 'http://approvals.test',
    slackSigningSecret: SLACK_SECRET,
    notifier: notifier ?? capture,
    changes,
  });
  const call = (method: string, path: string, body = '', headers: Record<string, string> = {}) =>
    t.http({ method, path, headers, body });
  const r: Rig = {
    t,
    capture,
    clock,
    post: (path, body, headers) => call('POST', path, body, headers),
    get: (path) => call('GET', path),
    async request(over = {}) {
      const res = await call(
        'POST',
        '/transfers',
        JSON.stringify({
          customerId: 'C9',
          type: 'refund',
          amount: '2500.00',
          currency: 'EUR',
          beneficiaryName: 'Unknown Ltd',
          beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
          reason: 'credit note refund',
          requester: 'rita',
          ...over,
        }),
      );
      expect(res.status, res.body).toBe(201);
      return (JSON.parse(res.body) as { transfer: Transfer }).transfer;
    },
    link: (transferId, level, approver) =>
      capture.next(
        (n) =>
          n.kind === 'approve' &&
          n.transfer.transferId === transferId &&
          n.level.level === level &&
          n.to.id === approver,
      ) as Promise<ApprovalNotice & { kind: 'approve' }>,
    decide: (url, decision, email, comment = '') =>
      call('POST', new URL(url).pathname, new URLSearchParams({ decision, email, comment }).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
      }),
    async wait(transferId) {
      const found = (await t.app.show(transferId))?.transfer;
      await t.workflow.execution(found?.executionId as string)?.done;
    },
  };
  return r;
}

const status = async (r: Rig, id: string) => (await r.t.app.show(id))?.transfer.status;
const trailLength = async (r: Rig) => (await r.t.store.auditTrail()).length;
/** Waits until the transfer's trail holds a record of `kind` (a step appends it after its notices). */
async function settled(r: Rig, transferId: string, kind: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const trail = await r.t.store.auditTrail();
    if (trail.some((rec) => rec.kind === kind && rec.subject === transferId)) return;
    await new Promise((ok) => setTimeout(ok, 25));
  }
  throw new Error(`no ${kind} record of ${transferId} after 10 s`);
}

describe('requests', () => {
  it('answers 400 naming every bad field, and stores nothing', async () => {
    const r = await rig();
    const before = (await r.t.app.list()).length;
    const res = await r.post(
      '/transfers',
      JSON.stringify({ customerId: 'C1', type: 'gift', amount: '-5', currency: 'EURO', requester: 'rita' }),
    );
    expect(res.status).toBe(400);
    const fields = (JSON.parse(res.body) as { issues: { field: string }[] }).issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['type', 'currency', 'beneficiaryName', 'reason']));
    expect((await r.t.app.list()).length).toBe(before);
    expect((await r.post('/transfers', '{not json')).status).toBe(400);
  });
});

describe('the customer and its unapplied cash, checked when requested', () => {
  /** Gamma SA: D1 of 3000.00 paid with 5000.00 naming it (2000.00 unapplied cash), D2 of 10000.00 open. */
  const GAMMA = 'C3';
  beforeAll(async () => {
    const from = { runId: 'seed-c3', line: 2 };
    const invoice = (
      customerId: string,
      invoiceId: string,
      issueDate: string,
      amount: number,
    ): StoredRecord => ({
      kind: 'invoices',
      row: {
        customerId,
        invoiceId,
        issueDate,
        dueDate: addDays(issueDate, 30),
        amount,
        currency: 'EUR',
        disputed: false,
      },
      from,
    });
    await env.store.write([
      {
        kind: 'customers',
        row: { customerId: GAMMA, name: 'Gamma SA', currency: 'EUR', creditLimit: 100_000_00 },
        from,
      },
      invoice(GAMMA, 'D1', '2026-09-01', 3000_00),
      invoice(GAMMA, 'D2', '2026-11-01', 10_000_00),
      {
        kind: 'payments',
        row: {
          customerId: GAMMA,
          paymentId: 'PD1',
          receivedDate: '2026-09-20',
          amount: 5000_00,
          currency: 'EUR',
          invoiceIds: ['D1'],
        },
        from,
      },
      // An invoice loaded for a customer without master data (a mistyped id in an export).
      invoice('C8', 'X1', '2026-11-01', 100_00),
    ]);
  });

  const body = (over: Record<string, unknown>) =>
    JSON.stringify({
      customerId: GAMMA,
      type: 'refund',
      amount: '2000.00',
      currency: 'EUR',
      beneficiaryName: 'Gamma SA',
      beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
      reason: 'overpayment of D1 returned',
      requester: 'rita',
      ...over,
    });

  /** POSTs a request that must be refused: its issues, with nothing stored, audited, sent or started. */
  async function refused(r: Rig, over: Record<string, unknown>) {
    const [list, trail, sent] = [
      (await r.t.app.list()).length,
      await trailLength(r),
      r.capture.notices.length,
    ];
    const res = await r.post('/transfers', body(over));
    expect(res.status, res.body).toBe(400);
    await r.t.idle();
    expect((await r.t.app.list()).length).toBe(list);
    expect(await trailLength(r)).toBe(trail);
    expect(r.capture.notices.length).toBe(sent);
    return (JSON.parse(res.body) as { issues: { field: string; message: string }[] }).issues;
  }

  /** Waits until level 1 of a transfer has been asked and the asking audited. */
  const asked = (r: Rig, transferId: string) =>
    until(`level 1 of ${transferId} asked`, async () =>
      (await r.t.store.auditTrail()).some((a) => a.kind === 'approval.requested' && a.subject === transferId)
        ? true
        : undefined,
    );

  /** Recalls a pending transfer once its gate ran, and waits for its workflow to end. */
  async function recall(r: Rig, transferId: string) {
    await asked(r, transferId);
    expect((await r.t.app.recall(transferId, 'rita')).ok).toBe(true);
    await r.wait(transferId);
  }

  it('refuses a customer not on file, naming customerId beside every other bad field', async () => {
    const r = await rig();
    expect(await refused(r, { customerId: 'NOPE42' })).toEqual([
      { field: 'customerId', message: 'there is no customer NOPE42 on file' },
    ]);
    // One answer names every bad field, the customer among them.
    expect(await refused(r, { customerId: ' NOPE42 ', amount: '1.234', reason: '' })).toEqual([
      { field: 'customerId', message: 'there is no customer NOPE42 on file' },
      { field: 'amount', message: 'has more than 2 decimals (EUR)' },
      { field: 'reason', message: 'must say why (at least 3 characters)' },
    ]);
    // Invoices alone do not make a customer: the master data does.
    expect(await refused(r, { customerId: 'C8', type: 'rebate' })).toEqual([
      { field: 'customerId', message: 'there is no customer C8 on file' },
    ]);
    expect(await r.t.store.transfersOf('NOPE42')).toEqual([]);
  });

  it('flags a refund above the unapplied cash for the approvers, in words and figures, a level more', async () => {
    const r = await rig();
    const within = await r.request(JSON.parse(body({})));
    await r.link(within.transferId, 1, 'carla');
    const first = (await r.t.app.show(within.transferId))?.transfer;
    expect(first?.gate?.checks.find((c) => c.check === 'unappliedCash')).toEqual({
      check: 'unappliedCash',
      summary: "refund 2,000.00 EUR is within the customer's unapplied cash of 2,000.00 EUR as of 2026-11-24",
      figures: { amount: '2000.00', currency: 'EUR', unappliedCash: '2000.00', left: '2000.00' },
    });
    expect(first?.gate?.flags).not.toContain('aboveUnappliedCash');

    // The same balance asked for again while the first is pending: above it, together.
    const again = await r.request(JSON.parse(body({ type: 'overpayment_return', amount: '500.00' })));
    const link = await r.link(again.transferId, 1, 'carla');
    const second = (await r.t.app.show(again.transferId))?.transfer;
    const check = second?.gate?.checks.find((c) => c.check === 'unappliedCash');
    expect(check?.flag).toBe('aboveUnappliedCash');
    expect(check?.summary).toBe(
      `overpayment return 500.00 EUR and the pending ${within.transferId} (2,000.00 EUR) are above the customer's unapplied cash of 2,000.00 EUR as of 2026-11-24`,
    );
    expect(second?.chainWhy).toContain('gate flag aboveUnappliedCash: +1');
    expect(second?.levels?.length).toBe((first?.levels?.length ?? 0) + 1);
    // The approvers read it on the page their link opens.
    const page = await r.get(new URL(link.url).pathname);
    expect(page.body).toContain(
      'are above the customer&#39;s unapplied cash of 2,000.00 EUR as of 2026-11-24',
    );
    await recall(r, within.transferId);
    await recall(r, again.transferId);

    // In another currency it cannot be compared, and says so instead of passing.
    const usd = await r.request(JSON.parse(body({ amount: '10.00', currency: 'USD' })));
    await recall(r, usd.transferId);
    const shown = (await r.t.app.show(usd.transferId))?.transfer.gate?.checks.find(
      (c) => c.check === 'unappliedCash',
    );
    expect(shown).toMatchObject({
      flag: 'aboveUnappliedCash',
      summary:
        "refund 10.00 USD cannot be compared with the customer's unapplied cash of 2,000.00 EUR as of 2026-11-24: it is kept in EUR",
    });
  });

  it('where the approval policy refuses it, refuses a return above the cash naming the amount', async () => {
    const r = await rig(
      policyWith((d) => {
        (d.gate as Record<string, unknown>).refuseAboveUnappliedCash = true;
      }),
    );
    const because = '; the approval policy refuses such a request (gate.refuseAboveUnappliedCash)';
    expect(await refused(r, { amount: '2000.01' })).toEqual([
      {
        field: 'amount',
        message: `is above the customer's unapplied cash of 2,000.00 EUR as of 2026-11-24${because}`,
      },
    ]);
    expect(await refused(r, { amount: '10.00', currency: 'USD', reason: '' })).toEqual([
      {
        field: 'amount',
        message: `is in USD and cannot be compared with the customer's unapplied cash of 2,000.00 EUR as of 2026-11-24: ask for it in EUR${because}`,
      },
      { field: 'reason', message: 'must say why (at least 3 characters)' },
    ]);
    // Within the cash it goes to the approvers; a second return of the same balance is refused
    // while the first is pending; a rebate is no return and is not checked.
    const ok = await r.request(JSON.parse(body({})));
    await asked(r, ok.transferId);
    expect(await refused(r, { type: 'overpayment_return', amount: '0.01' })).toEqual([
      {
        field: 'amount',
        message: `with the pending ${ok.transferId} (2,000.00 EUR) is above the customer's unapplied cash of 2,000.00 EUR as of 2026-11-24${because}`,
      },
    ]);
    const rebate = await r.request(JSON.parse(body({ type: 'rebate', amount: '9000.00' })));
    await recall(r, ok.transferId);
    await recall(r, rebate.transferId);
  });
});

describe('the approval path', () => {
  it('walks every level from the emailed links, each level asked only after the one before approves', async () => {
    const r = await rig();
    const tr = await r.request();
    // C9, on file with no receivables and no limit: new beneficiary, no limit and a refund above
    // its unapplied cash of 0.00 (+1 each) over the first band's 1 level: capped at 3.
    const l1 = await r.link(tr.transferId, 1, 'carla');
    await r.link(tr.transferId, 1, 'chen'); // notices go out one at a time
    const shown = await r.t.app.show(tr.transferId);
    expect(shown?.transfer.levels?.map((l) => l.name)).toEqual([
      'Credit controller',
      'Finance manager',
      'CFO',
    ]);
    expect(shown?.transfer.gate?.flags).toEqual(expect.arrayContaining(['newBeneficiary', 'overLimit']));
    expect(r.capture.notices.filter((n) => n.kind === 'approve').map((n) => n.to.id)).toEqual([
      'carla',
      'chen',
    ]);

    // The page shows the evidence and records nothing.
    const page = await r.get(new URL(l1.url).pathname);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Unknown Ltd');
    expect(page.body).toContain('2,500.00 EUR');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).not.toContain('local-'); // no task token on the page

    const ok1 = await r.decide(l1.url, 'approve', 'CARLA@example.com ', 'known customer');
    expect(ok1.status, ok1.body).toBe(200);
    // Said only once level 2's request is on the outbox as sent: the notice is there already.
    expect(ok1.body).toContain('Level 1 is complete; level 2 has been asked.');
    expect(
      r.capture.notices.some(
        (n) => n.kind === 'approve' && n.transfer.transferId === tr.transferId && n.level.level === 2,
      ),
    ).toBe(true);
    const l2 = await r.link(tr.transferId, 2, 'fiona');
    expect((await r.decide(l2.url, 'approve', 'fiona@example.com')).status).toBe(200);
    // Fiona approved level 2: level 3 asks Victor only.
    const l3 = await r.link(tr.transferId, 3, 'victor');
    expect(
      r.capture.notices
        .filter((n) => n.kind === 'approve' && n.transfer.transferId === tr.transferId && n.level.level === 3)
        .map((n) => n.to.id),
    ).toEqual(['victor']);
    const last = await r.decide(l3.url, 'approve', 'victor@example.com');
    expect(last.body).toContain('last level');
    await r.wait(tr.transferId);
    const done = await r.t.app.show(tr.transferId);
    expect(done?.transfer.status).toBe('approved');
    expect(done?.approvals.filter((a) => a.status === 'approved').map((a) => a.approver)).toEqual(
      expect.arrayContaining(['carla', 'fiona', 'victor']),
    );
    // chen's level-1 link died when carla completed the level.
    expect(done?.approvals.find((a) => a.approver === 'chen')?.status).toBe('void');
    expect(
      r.capture.notices.some((n) => n.kind === 'outcome' && n.transfer.transferId === tr.transferId),
    ).toBe(true);

    const trail = await r.t.store.auditTrail();
    const audit = localAudit(env.dataDir);
    expect(
      verifyAudit({
        records: trail,
        head: await r.t.store.auditHead(),
        keys: [await audit.auditKey()],
        anchors: (await audit.anchors()).anchors,
      }).findings,
    ).toEqual([]);
    const kinds = trail.filter((x) => x.subject === tr.transferId).map((x) => x.kind);
    expect(kinds).toEqual([
      'transfer.requested',
      'gate.evaluated',
      'approval.requested',
      'approval.decided',
      'approval.requested',
      'approval.decided',
      'approval.requested',
      'approval.decided',
      'transfer.executed',
    ]);
    const decided = trail.find((x) => x.kind === 'approval.decided' && x.subject === tr.transferId);
    expect(JSON.stringify(decided?.data)).toContain('newBeneficiary'); // the evidence the approver saw
  });

  it('stops at a rejection on level 2: no level 3, the other links dead', async () => {
    const r = await rig();
    const tr = await r.request({ amount: '2600.00' });
    const l1 = await r.link(tr.transferId, 1, 'chen');
    await r.decide(l1.url, 'approve', 'chen@example.com');
    const l2 = await r.link(tr.transferId, 2, 'farid');
    const l2f = await r.link(tr.transferId, 2, 'fiona');
    const no = await r.decide(l2.url, 'reject', 'farid@example.com', 'beneficiary unknown to us');
    expect(no.status).toBe(200);
    await r.wait(tr.transferId);
    const t = (await r.t.app.show(tr.transferId))?.transfer;
    expect(t?.status).toBe('rejected');
    expect(t?.outcome).toContain('beneficiary unknown to us');
    expect(
      r.capture.notices.some(
        (n) => n.kind === 'approve' && n.transfer.transferId === tr.transferId && n.level.level === 3,
      ),
    ).toBe(false);
    const late = await r.decide(l2f.url, 'approve', 'fiona@example.com');
    expect(late.status).toBe(410);
    expect(late.body).toContain('no longer open');
  });

  it('k of n: a level that needs two approvals waits for the second', async () => {
    const r = await rig(
      policyWith((d) => {
        const first = (d.levels as { required: number }[])[0] as { required: number };
        first.required = 2;
      }),
    );
    const tr = await r.request({ amount: '2700.00' });
    const a = await r.link(tr.transferId, 1, 'carla');
    const b = await r.link(tr.transferId, 1, 'chen');
    const first = await r.decide(a.url, 'approve', 'carla@example.com');
    expect(first.body).toContain('needs 1 more approval');
    expect((await r.t.app.show(tr.transferId))?.transfer.level).toBe(1);
    const second = await r.decide(b.url, 'approve', 'chen@example.com');
    expect(second.body).toContain('Level 1 is complete');
    await r.link(tr.transferId, 2, 'fiona');
    await r.t.app.recall(tr.transferId, 'rita');
    await r.wait(tr.transferId);
  });

  it('reminds, escalates at the last reminder, then expires', async () => {
    const r = await rig(
      policyWith((d) => {
        d.reminders = { everySeconds: 1, max: 1, escalateTo: ['victor'] };
      }),
    );
    const tr = await r.request({ amount: '2800.00' });
    await r.link(tr.transferId, 1, 'carla');
    await r.wait(tr.transferId);
    const mine = r.capture.notices.filter((n) => n.transfer.transferId === tr.transferId);
    expect(mine.filter((n) => n.kind === 'remind').map((n) => n.to.id)).toEqual(['carla', 'chen']);
    expect(mine.filter((n) => n.kind === 'escalate').map((n) => n.to.id)).toEqual(['victor']);
    const t = (await r.t.app.show(tr.transferId))?.transfer;
    expect(t?.status).toBe('expired');
    expect((await r.t.app.show(tr.transferId))?.approvals.every((a) => a.status === 'void')).toBe(true);
    expect(mine.at(-1)?.kind).toBe('outcome');
  });

  it('recall: only the requester, every outstanding link dies at once', async () => {
    const r = await rig();
    const tr = await r.request({ amount: '2900.00' });
    const l1 = await r.link(tr.transferId, 1, 'carla');
    expect(await r.t.app.recall(tr.transferId, 'carla')).toMatchObject({ ok: false, status: 403 });
    const res = await r.post(`/transfers/${tr.transferId}/recall`, JSON.stringify({ by: 'rita' }));
    expect(res.status).toBe(200);
    await r.wait(tr.transferId);
    expect(await status(r, tr.transferId)).toBe('recalled');
    const trail = await trailLength(r);
    const after = await r.decide(l1.url, 'approve', 'carla@example.com');
    expect(after.status).toBe(410);
    expect(after.body).toContain('Nothing was recorded');
    expect(await trailLength(r)).toBe(trail);
    expect((await r.t.app.show(tr.transferId))?.approvals.map((a) => a.status)).toEqual(['void', 'void']);
  });
});

describe('a recall racing the workflow', () => {
  it('made while the first level is being asked (no approval to wake yet) ends the workflow instead of a wait for nobody', async () => {
    const r = await rig();
    const store = r.t.store as { putApprovals: (...a: never[]) => Promise<unknown> };
    const put = store.putApprovals.bind(store);
    let raced = false;
    // The recall lands after the step read the transfer as pending and before its approvals exist.
    store.putApprovals = (async (approvals: { transferId: string }[], token: string) => {
      if (!raced) {
        raced = true;
        expect((await r.t.app.recall(approvals[0]?.transferId as string, 'rita')).ok).toBe(true);
      }
      return put(...([approvals, token] as never[]));
    }) as never;
    const tr = await r.request({ amount: '2950.00' });
    await r.wait(tr.transferId);
    expect(raced).toBe(true);
    expect(await status(r, tr.transferId)).toBe('recalled');
    expect((await r.t.app.show(tr.transferId))?.approvals.map((a) => a.status)).toEqual(['void', 'void']);
    // Nobody was asked to approve a recalled transfer.
    expect(
      r.capture.notices.filter((n) => n.kind === 'approve' && n.transfer.transferId === tr.transferId),
    ).toEqual([]);
  });
});

describe('people are identities', () => {
  it('the requester is resolved by id, email or Slack id in any case, and never asked to approve', async () => {
    const r = await rig();
    for (const [i, spelling] of [
      'carla@example.com',
      'Carla',
      ' CARLA@EXAMPLE.COM ',
      'u0carla01',
    ].entries()) {
      const tr = await r.request({ amount: `${3100 + i}.00`, requester: spelling });
      expect(tr.request.requester, spelling).toBe('carla');
      await r.link(tr.transferId, 1, 'chen');
      const asked = r.capture.notices
        .filter((n) => n.kind === 'approve' && n.transfer.transferId === tr.transferId)
        .map((n) => n.to.id);
      expect(asked, spelling).toEqual(['chen']);
      // Nor may she recall it under another name than hers, or anyone else recall it.
      expect(await r.t.app.recall(tr.transferId, 'chen')).toMatchObject({ ok: false, status: 403 });
      expect((await r.t.app.recall(tr.transferId, 'Carla@Example.com')).ok).toBe(true);
      await r.wait(tr.transferId);
    }
  });

  it('refuses an unknown requester with a clear sentence, storing nothing', async () => {
    const r = await rig();
    const before = (await r.t.app.list()).length;
    const res = await r.post(
      '/transfers',
      JSON.stringify({
        customerId: 'C9',
        type: 'refund',
        amount: '3200.00',
        currency: 'EUR',
        beneficiaryName: 'Unknown Ltd',
        beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
        reason: 'credit note refund',
        requester: 'carl',
      }),
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      issues: [
        {
          field: 'requester',
          message:
            '"carl" is not a person of the approval policy: give your id, email or Slack id as the policy lists it',
        },
      ],
    });
    expect((await r.t.app.list()).length).toBe(before);
  });

  it('a requester stored under another spelling (an older record) still never approves', async () => {
    const r = await rig();
    const tr = await r.request({ amount: '3300.00' });
    const l1 = await r.link(tr.transferId, 1, 'carla');
    // As an older version stored it: the requester's free text, not their id.
    const { UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
    await env.store.client.send(
      new UpdateItemCommand({
        TableName: env.store.tableName,
        Key: { pk: { S: `TRANSFER#${tr.transferId}` }, sk: { S: 'TRANSFER' } },
        UpdateExpression: 'SET #r.#q = :q',
        ExpressionAttributeNames: { '#r': 'request', '#q': 'requester' },
        ExpressionAttributeValues: { ':q': { S: 'Carla@Example.com' } },
      }),
    );
    const res = await r.decide(l1.url, 'approve', 'carla@example.com');
    expect(res.status).toBe(403);
    expect(res.body).toContain('The requester of a transfer never approves it');
    await r.t.app.recall(tr.transferId, 'carla');
    await r.wait(tr.transferId);
  });
});

describe('approval notices, once each', () => {
  it('a notifier failing on the 2nd publish: the step is retried and sends only the notice not sent', async () => {
    let publishes = 0;
    const capture = new Capture();
    const flaky: ApprovalNotifier = {
      async send(ns) {
        for (const n of ns) {
          publishes++;
          if (publishes === 2) throw new Error('SNS: Rate exceeded');
          await capture.send([n]);
        }
      },
    };
    const r = await rig(undefined, flaky);
    const tr = await r.request({ amount: '3400.00' });
    const chen = (await capture.next(
      (n) => n.kind === 'approve' && n.transfer.transferId === tr.transferId && n.to.id === 'chen',
    )) as ApprovalNotice & { kind: 'approve' };
    const level1 = capture.notices.filter((n) => n.transfer.transferId === tr.transferId);
    expect(level1.map((n) => `${n.kind}:${n.to.id}`)).toEqual(['approve:carla', 'approve:chen']);
    expect(publishes).toBe(3); // carla, chen failing, chen again: carla was not sent twice
    const outbox = await until('both notices marked sent', async () => {
      const all = await r.t.store.noticesOf(tr.transferId, 1);
      return all.every((n) => n.state === 'sent') ? all : undefined;
    });
    expect(outbox.map((n) => `${n.kind}:${n.round}:${n.to}`).sort()).toEqual([
      'approve:0:carla',
      'approve:0:chen',
    ]);
    // The link of the retried step works: it waits under the new token.
    const ok = await r.decide(chen.url, 'approve', 'chen@example.com');
    expect(ok.status, ok.body).toBe(200);
    await capture.next(
      (n) => n.kind === 'approve' && n.transfer.transferId === tr.transferId && n.level.level === 2,
    );
    await r.t.app.recall(tr.transferId, 'rita');
    await r.wait(tr.transferId);
  }, 30_000);
});

describe('the page says what is true about the next level', () => {
  it('with no workflow waiting (after a restart), the next level "will be asked when the workflow resumes"', async () => {
    const r = await rig();
    const tr = await r.request({ amount: '3500.00' });
    const l1 = await r.link(tr.transferId, 1, 'chen');
    // A second process on the same store and data dir: its engine has nothing waiting.
    const restarted = await rig();
    const res = await restarted.decide(l1.url, 'approve', 'chen@example.com');
    expect(res.status, res.body).toBe(200);
    expect(res.body).toContain('Level 1 is complete; level 2 will be asked when the workflow resumes.');
    expect(res.body).not.toContain('has been asked');
    expect(
      r.capture.notices.some(
        (n) => n.kind === 'approve' && n.transfer.transferId === tr.transferId && n.level.level === 2,
      ),
    ).toBe(false);
    await restarted.t.workflow.stop();
    await r.t.app.recall(tr.transferId, 'rita');
    await r.wait(tr.transferId);
  });
});

describe('attacks: each shows a clear page and changes nothing', () => {
  let r: Rig;
  let tr: Transfer;
  let l1: ApprovalNotice & { kind: 'approve' };
  let path: string;
  const unchanged = async () => {
    const s = await r.t.app.show(tr.transferId);
    expect(s?.approvals.filter((a) => a.level === 1).map((a) => a.status)).toEqual(['pending', 'pending']);
    expect(s?.transfer.status).toBe('pending');
  };
  beforeAll(async () => {
    r = await rig();
    tr = await r.request({ amount: '3100.00', requester: 'farid' });
    l1 = await r.link(tr.transferId, 1, 'carla');
    path = new URL(l1.url).pathname;
    // The level's record is appended just after its links go out: the attacks start once it is.
    await settled(r, tr.transferId, 'approval.requested');
  });
  afterAll(async () => {
    await r.t.app.recall(tr.transferId, 'farid');
    await r.wait(tr.transferId);
  });

  it('a tampered signature', async () => {
    const token = path.split('/')[2] as string;
    const [payload, sig] = token.split('.') as [string, string];
    const forged = `${payload}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    const res = await r.decide(`http://x/approvals/${forged}`, 'approve', 'carla@example.com');
    expect(res.status).toBe(400);
    expect(res.body).toContain('not valid');
    await unchanged();
  });

  it('an expired link', async () => {
    const saved = r.clock.t;
    r.clock.t = Date.parse(l1.expiresAt) + 1000;
    try {
      const res = await r.decide(l1.url, 'approve', 'carla@example.com');
      expect(res.status).toBe(410);
      expect(res.body).toContain('expired');
    } finally {
      r.clock.t = saved;
    }
    await unchanged();
  });

  it('a link forwarded to someone else, and the requester using it', async () => {
    const res = await r.decide(l1.url, 'approve', 'chen@example.com');
    expect(res.status).toBe(403);
    expect(res.body).toContain('sent to Carla Credit');
    // farid requested it: he got no link, and Carla's does not work for him.
    expect(
      r.capture.notices.some(
        (n) => n.transfer.transferId === tr.transferId && n.to.id === 'farid' && n.kind === 'approve',
      ),
    ).toBe(false);
    expect((await r.decide(l1.url, 'approve', 'farid@example.com')).status).toBe(403);
    await unchanged();
  });

  it('GET by a link scanner, many times', async () => {
    const trail = await trailLength(r);
    for (let i = 0; i < 3; i++) expect((await r.get(path)).status).toBe(200);
    expect((await r.t.http({ method: 'HEAD', path, headers: {}, body: '' })).status).toBe(200);
    expect(await trailLength(r)).toBe(trail);
    await unchanged();
  });

  it('a forged Slack signature and a replayed Slack timestamp', async () => {
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: 'U0CARLA01' },
      actions: [{ action_id: 'transfer.approve', value: l1.token }],
    });
    const body = new URLSearchParams({ payload }).toString();
    const ts = String(Math.floor(r.clock.t / 1000));
    const sign = (secret: string, when: string) =>
      `v0=${createHmac('sha256', secret).update(`v0:${when}:${body}`).digest('hex')}`;
    const forged = await r.post('/slack/interactions', body, {
      'x-slack-request-timestamp': ts,
      'x-slack-signature': sign('not-the-secret', ts),
    });
    expect(forged.status).toBe(401);
    const old = String(Math.floor(r.clock.t / 1000) - 301);
    const replayed = await r.post('/slack/interactions', body, {
      'x-slack-request-timestamp': old,
      'x-slack-signature': sign(SLACK_SECRET, old),
    });
    expect(replayed.status).toBe(401);
    await r.t.idle();
    await unchanged();
  });

  it('a double click: two POSTs at once, one decision', async () => {
    const l1b = await r.link(tr.transferId, 1, 'chen');
    const [x, y] = await Promise.all([
      r.decide(l1b.url, 'approve', 'chen@example.com'),
      r.decide(l1b.url, 'approve', 'chen@example.com'),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
    expect((x.status === 409 ? x : y).body).toContain('Already decided: approved by Chen Wei at');
    // The replay of the same decision later: the same page, nothing new on the trail.
    const trail = await trailLength(r);
    const again = await r.decide(l1b.url, 'reject', 'chen@example.com');
    expect(again.status).toBe(409);
    expect(await trailLength(r)).toBe(trail);
  });
});

describe('Slack', () => {
  it('a signed button press from the approver decides; from anyone else it does not', async () => {
    const r = await rig();
    const tr = await r.request({ amount: '3200.00' });
    const l1 = await r.link(tr.transferId, 1, 'carla');
    const press = async (userId: string) => {
      const payload = JSON.stringify({
        type: 'block_actions',
        user: { id: userId },
        actions: [{ action_id: 'transfer.approve', value: l1.token }],
      });
      const body = new URLSearchParams({ payload }).toString();
      const ts = String(Math.floor(r.clock.t / 1000));
      const res = await r.post('/slack/interactions', body, {
        'x-slack-request-timestamp': ts,
        'x-slack-signature': `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`,
      });
      expect(res.status).toBe(200);
      await r.t.idle();
    };
    await press('U0CHENW01');
    expect((await r.t.app.show(tr.transferId))?.approvals.find((a) => a.approver === 'carla')?.status).toBe(
      'pending',
    );
    await press('U0CARLA01');
    const carla = (await r.t.app.show(tr.transferId))?.approvals.find((a) => a.approver === 'carla');
    expect(carla).toMatchObject({ status: 'approved', via: 'slack' });
    await r.link(tr.transferId, 2, 'fiona');
    await r.t.app.recall(tr.transferId, 'rita');
    await r.wait(tr.transferId);
  });
});

describe('the outbox', () => {
  it('writes each approval email as an .eml file with the link, and a known customer gets its evidence', async () => {
    const out = await mkdtemp(join(tmpdir(), 'outbox-'));
    try {
      const capture = new Capture();
      const { OutboxApprovalNotifier } = await import('../../infra/local/runtime/transfers.ts');
      const clock = new Clock();
      const outbox = new OutboxApprovalNotifier(out, clock);
      const both: ApprovalNotifier = {
        send: async (ns) => {
          await outbox.send(ns);
          await capture.send(ns);
        },
      };
      const r = await rig(
        policyWith(() => {}),
        both,
      );
      const res = await r.post(
        '/transfers',
        JSON.stringify({
          customerId: 'C1',
          type: 'rebate',
          amount: '1500.00',
          currency: 'EUR',
          beneficiaryName: 'Acme GmbH',
          beneficiaryAccount: 'DE89370400440532013000',
          reason: 'volume rebate 2026',
          requester: 'rita',
        }),
      );
      const tr = (JSON.parse(res.body) as { transfer: Transfer }).transfer;
      const n = (await capture.next(
        (x) => x.kind === 'approve' && x.transfer.transferId === tr.transferId,
      )) as ApprovalNotice & { kind: 'approve' };
      // One notice at a time: both level-1 approvers' emails are there once the second is.
      await capture.next(
        (x) => x.kind === 'approve' && x.transfer.transferId === tr.transferId && x.to.id !== n.to.id,
      );
      const mail = await listMail(out);
      const mine = mail.filter((m) => m.subject.includes('C1'));
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine.some((m) => m.text.includes(n.url) || mine.some((k) => k.html.includes(n.url)))).toBe(true);
      const t = (await r.t.app.show(tr.transferId))?.transfer;
      expect(t?.gate?.exposure?.openAmount).toBe('12000.00');
      expect(t?.gate?.checks.find((c) => c.check === 'overdueBalance')?.flag).toBe('overdueBalance');
      await r.t.app.recall(tr.transferId, 'rita');
      await r.wait(tr.transferId);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe("an approved transfer and the customer's exposure", () => {
  const CUSTOMER = 'C2';
  const credit = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
  const exposure = async (asOf = TODAY) => {
    const part = await env.store.loadCustomerPartition(CUSTOMER);
    return assess(asOfFile(creditFileOf(CUSTOMER, part), asOf), asOf, credit).figures;
  };
  const changed: CustomersChanged[] = [];
  let r: Rig;

  /** Approves every level from the emailed links, one approver per level. */
  async function approveAll(transferId: string): Promise<void> {
    for (let level = 1; ; level++) {
      const n = await r.capture.next(
        (x) => x.kind === 'approve' && x.transfer.transferId === transferId && x.level.level === level,
      );
      const res = await r.decide(
        (n as ApprovalNotice & { kind: 'approve' }).url,
        'approve',
        n.to.email ?? '',
      );
      expect(res.status, res.body).toBe(200);
      if (level === (n as ApprovalNotice & { kind: 'approve' }).level.of) break;
    }
    await r.wait(transferId);
    expect(await status(r, transferId)).toBe('approved');
  }

  beforeAll(async () => {
    const from = { runId: 'seed-c2', line: 2 };
    await env.store.write([
      {
        kind: 'customers',
        row: { customerId: CUSTOMER, name: 'Beta BV', currency: 'EUR', creditLimit: 100_000_00 },
        from,
      },
      {
        kind: 'invoices',
        row: {
          customerId: CUSTOMER,
          invoiceId: 'B1',
          issueDate: '2026-11-01',
          dueDate: '2026-12-01',
          amount: 12_000_00,
          currency: 'EUR',
          disputed: false,
        },
        from,
      },
    ] as StoredRecord[]);
    r = await rig(
      policyWith(() => {}),
      undefined,
      {
        customersChanged: async (m) => {
          changed.push(m);
        },
      },
    );
  });

  it("counts from the approval: on the credit file, in the evaluation, in the next request's evidence", async () => {
    expect((await exposure()).exposure).toBe(12_000_00);
    const tr = await r.request({ customerId: CUSTOMER, type: 'rebate', amount: '3000.00' });
    await approveAll(tr.transferId);

    const approved = (await r.t.app.show(tr.transferId))?.transfer;
    expect(approved?.approvedOn).toBe(TODAY);
    expect((await env.store.loadCustomerPartition(CUSTOMER)).transfers).toEqual([
      {
        customerId: CUSTOMER,
        transferId: tr.transferId,
        transferType: 'rebate',
        amount: 3000_00,
        currency: 'EUR',
        approvedOn: TODAY,
      },
    ]);
    const x = await exposure();
    expect(x.approvedTransfers).toBe(3000_00);
    expect(x.exposure).toBe(15_000_00);
    expect((await exposure('2026-11-23')).exposure).toBe(12_000_00); // the day before it was approved
    // The evaluation is told, as after an ingest.
    expect(changed).toContainEqual({
      type: 'customers.changed',
      runId: tr.transferId,
      asOf: TODAY,
      customerIds: [CUSTOMER],
    });

    // The next request's approvers see it in the exposure and in the headroom.
    const next = await r.request({
      customerId: CUSTOMER,
      type: 'rebate',
      amount: '10.00',
      requester: 'Rita@Example.com',
    });
    await r.capture.next((n) => n.kind === 'approve' && n.transfer.transferId === next.transferId);
    const gate = (await r.t.app.show(next.transferId))?.transfer.gate;
    expect(gate?.exposure).toMatchObject({ approvedTransfers: '3000.00', exposure: '15000.00' });
    expect(gate?.checks.find((c) => c.check === 'limitHeadroom')?.figures).toMatchObject({
      headroom: '85000.00',
    });
    // Still pending: it cannot be paid.
    const early = await r.post(`/transfers/${next.transferId}/paid`, JSON.stringify({ by: 'paula' }));
    expect(early.status).toBe(409);
    expect(early.body).toContain('only an approved transfer can be paid');
    expect((await r.t.app.recall(next.transferId, 'rita')).ok).toBe(true);
    await r.wait(next.transferId);
  });

  it('marked paid once, on a day between approval and today; a rebate then stops counting', async () => {
    const tr = (await r.t.app.list()).find(
      (t) => t.request.customerId === CUSTOMER && t.status === 'approved' && t.request.type === 'rebate',
    ) as Transfer;
    const paid = (body: unknown) => r.post(`/transfers/${tr.transferId}/paid`, JSON.stringify(body));
    const before = await trailLength(r);
    expect((await paid({ by: 'paula', on: '2026-11-25' })).status).toBe(400); // tomorrow
    expect((await paid({ by: 'paula', on: '2026-11-23' })).status).toBe(400); // before the approval
    expect((await paid({ by: 'paula', on: '24/11/2026' })).status).toBe(400);
    expect((await paid({ on: TODAY })).status).toBe(400); // who
    expect((await r.post('/transfers/TR-NOPE/paid', JSON.stringify({ by: 'paula' }))).status).toBe(404);
    expect(await trailLength(r)).toBe(before);
    expect((await r.t.app.show(tr.transferId))?.transfer.paidOn).toBeUndefined();

    // Who marks it paid is a person of the policy, and never its requester (rita) under any spelling.
    for (const by of ['rita', 'RITA@example.com', 'u0ritar01']) {
      const own = await paid({ by, on: TODAY });
      expect(own.status, by).toBe(403);
      expect(own.body).toContain('The requester of a transfer cannot mark it paid');
    }
    const stranger = await paid({ by: 'peter', on: TODAY });
    expect(stranger.status).toBe(400);
    expect(stranger.body).toContain('\\"peter\\" is not a person of the approval policy');
    expect(await trailLength(r)).toBe(before);

    const ok = await paid({ by: 'paula', on: TODAY });
    expect(ok.status, ok.body).toBe(200);
    expect((JSON.parse(ok.body) as { transfer: Transfer }).transfer).toMatchObject({
      paidOn: TODAY,
      paidBy: 'paula',
    });
    const again = await paid({ by: ' Paula@Example.COM' });
    expect(again.status).toBe(409);
    expect(again.body).toContain(`Already marked paid on ${TODAY} by paula`);

    const part = await env.store.loadCustomerPartition(CUSTOMER);
    expect(part.transfers.find((c) => c.transferId === tr.transferId)?.paidOn).toBe(TODAY);
    expect((await exposure()).exposure).toBe(12_000_00);
    const trail = await r.t.store.auditTrail();
    expect(trail.filter((x) => x.subject === tr.transferId).map((x) => x.kind)).toContain('transfer.paid');
    expect(trail.find((x) => x.kind === 'transfer.paid' && x.subject === tr.transferId)?.actor).toBe('paula');
    const audit = localAudit(env.dataDir);
    expect(
      verifyAudit({
        records: trail,
        head: await r.t.store.auditHead(),
        keys: [await audit.auditKey()],
        anchors: (await audit.anchors()).anchors,
      }).findings,
    ).toEqual([]);
  });

  it('a bank account change moves no money: nothing on the credit file, nothing to pay', async () => {
    const tr = await r.request({
      customerId: CUSTOMER,
      type: 'bank_account_change',
      amount: undefined,
      beneficiaryName: 'Beta BV',
      reason: 'new house bank',
    });
    await approveAll(tr.transferId);
    const part = await env.store.loadCustomerPartition(CUSTOMER);
    expect(part.transfers.map((c) => c.transferId)).not.toContain(tr.transferId);
    const res = await r.post(`/transfers/${tr.transferId}/paid`, JSON.stringify({ by: 'paula' }));
    expect(res.status).toBe(409);
    expect(res.body).toContain('moves no money');
  });

  it("a review's limit increase: no beneficiary check, approved at every level it raises the limit and moves no money", async () => {
    const review = {
      reviewId: 'review-2026-11-24-test/C2',
      runId: 'review-2026-11-24-test',
      customerId: CUSTOMER,
      name: 'Beta BV',
      asOf: TODAY,
      reviewedAt: `${TODAY}T06:00:00.000Z`,
      policyId: credit.id,
      due: 'first review',
      status: 'done' as const,
      currency: 'EUR',
      currentLimit: 100_000_00,
      recommendedLimit: 160_000_00,
      outcome: 'approval' as const,
      decision: 'raise from 100000.00 EUR to 160000.00 EUR needs approval',
    };
    const { transferId } = await r.t.app.requestLimitChange(review);
    // Asked again (a retried review batch): the same transfer, not a second one.
    expect((await r.t.app.requestLimitChange(review)).transferId).toBe(transferId);
    const asked = (await r.t.app.show(transferId))?.transfer;
    expect(asked?.request).toMatchObject({
      type: 'credit_release',
      amount: 60_000_00,
      requester: 'periodic-review',
    });
    expect(asked?.limitChange).toEqual({ from: 100_000_00, to: 160_000_00, reviewId: review.reviewId });
    await r.capture.next((n) => n.kind === 'approve' && n.transfer.transferId === transferId);
    const gate = (await r.t.app.show(transferId))?.transfer.gate;
    expect(gate?.checks.map((c) => c.check)).not.toContain('beneficiary');
    expect(gate?.flags).not.toContain('newBeneficiary');

    const before = (await exposure()).exposure;
    await approveAll(transferId);
    const part = await env.store.loadCustomerPartition(CUSTOMER);
    expect(part.books.customer?.creditLimit).toBe(160_000_00);
    // No money moves: nothing on the credit file's transfers, the exposure unchanged, nothing to pay.
    expect(part.transfers.map((t) => t.transferId)).not.toContain(transferId);
    expect((await exposure()).exposure).toBe(before);
    expect(await r.t.app.markPaid(transferId, 'paula')).toMatchObject({ ok: false, status: 409 });
    const trail = await r.t.store.auditTrail();
    expect(trail.filter((t) => t.subject === transferId).map((t) => t.kind)).toEqual(
      expect.arrayContaining(['transfer.requested', 'transfer.executed']),
    );
    // Put the limit back for the other tests of this customer.
    await env.store.write([
      {
        kind: 'customers',
        row: { customerId: CUSTOMER, name: 'Beta BV', currency: 'EUR', creditLimit: 100_000_00 },
        from: { runId: 'seed-c2', line: 2 },
      },
    ] as StoredRecord[]);
  });
});
