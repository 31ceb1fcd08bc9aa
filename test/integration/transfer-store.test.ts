import { DeleteItemCommand, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../functions/adapters/dynamodb.ts';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { type AuditEvent, type AuditRecord, verifyTrail } from '../../functions/core/audit.ts';
import type { Approval, Transfer } from '../../functions/transfers/ports.ts';
import type { TransferRequest } from '../../functions/transfers/request.ts';
import { type Dynalite, localClient, startDynalite } from '../../infra/local/runtime/index.ts';

const TABLE = 'transfer-store-test';

let db: Dynalite;
let client: DynamoDBClient;
let store: DynamoTransferStore;

beforeAll(async () => {
  db = await startDynalite();
  client = localClient(db.endpoint);
  await new DynamoStore({ client, tableName: TABLE }).ensureTable();
  store = new DynamoTransferStore({ client, tableName: TABLE });
});

afterAll(async () => {
  client?.destroy();
  await db?.close();
});

const request = (customerId: string, over: Partial<TransferRequest> = {}): TransferRequest => ({
  customerId,
  type: 'refund',
  amount: 1250000,
  currency: 'EUR',
  beneficiaryName: 'Müller Maschinenbau GmbH',
  beneficiaryAccount: 'DE89370400440532013000',
  reason: 'Invoice INV-2025-0142 was paid twice',
  requester: 'ana.silva',
  ...over,
});

const transfer = (
  transferId: string,
  customerId: string,
  requestedAt: string,
  over: Partial<Transfer> = {},
): Transfer => ({
  transferId,
  request: request(customerId),
  requestedAt,
  requestedOn: requestedAt.slice(0, 10),
  status: 'pending',
  ...over,
});

/** A transfer the gate has looked at: nested report, planned chain and the level it waits on. */
const gated = (transferId: string, customerId: string, requestedAt: string): Transfer =>
  transfer(transferId, customerId, requestedAt, {
    executionId: `arn:aws:states:local:000000000000:execution:transfers:${transferId}`,
    gate: {
      asOf: requestedAt.slice(0, 10),
      flags: ['abnormalAmount'],
      checks: [
        {
          check: 'amountHistory',
          flag: 'abnormalAmount',
          summary: '12,500.00 EUR is 4.2 times the largest refund of the last 12 months',
          figures: { largest: '2,950.00', ratio: 4.2 },
        },
        { check: 'duplicate', summary: 'No similar request in the last 30 days', figures: {} },
      ],
      riskClass: 'medium',
      rating: 'C',
      score: 61,
      ratingReasons: [{ reason: 'Payment behaviour', points: 8, maxPoints: 20 }],
      activeAlerts: [],
    },
    levels: [
      {
        level: 1,
        name: 'Credit controller',
        required: 1,
        approvers: [{ id: 'cc1', name: 'Chris Carter', email: 'cc1@example.com' }],
      },
      {
        level: 2,
        name: 'Finance manager',
        required: 1,
        approvers: [
          { id: 'fm1', name: 'Fiona Meyer', email: 'fm1@example.com', slackId: 'U01', onBehalfOf: 'fm2' },
        ],
      },
    ],
    chainWhy: ['refund above 10,000.00 EUR: 2 levels', 'flag abnormalAmount: +0'],
    level: 1,
  });

const approval = (
  transferId: string,
  approvalId: string,
  level: number,
  notifiedAt: string,
  over: Partial<Approval> = {},
): Approval => ({
  approvalId,
  transferId,
  level,
  approver: `person-${approvalId.toLowerCase()}`,
  status: 'pending',
  notifiedAt,
  expiresAt: '2025-03-12T09:00:00.000Z',
  reminders: 0,
  ...over,
});

/** 26 base32 characters, as approval ids are. */
const aid = (tag: string, i = 0) => `${tag}${String(i).padStart(4, '0')}`.toUpperCase().padEnd(26, 'A');

describe('DynamoTransferStore: transfers', () => {
  it('stores a transfer with everything it holds and reads it back; a second create of the id throws', async () => {
    const t = gated('TR-CREATE1', 'C100', '2025-03-10T08:00:00.000Z');
    await store.createTransfer(t);
    expect(await store.getTransfer('TR-CREATE1')).toEqual(t);
    expect(await store.getTransfer('TR-NOSUCH')).toBeUndefined();

    const other = transfer('TR-CREATE1', 'C999', '2025-03-11T08:00:00.000Z', { status: 'approved' });
    await expect(store.createTransfer(other)).rejects.toThrow(/TR-CREATE1/);
    expect(await store.getTransfer('TR-CREATE1')).toEqual(t);
    // The failed create left no index entry for the other customer either.
    expect(await store.transfersOf('C999')).toEqual([]);
    expect((await store.transfersOf('C100')).map((x) => x.transferId)).toEqual(['TR-CREATE1']);
  });

  it('a create sent again after its response was lost (the SDK retry meets its own write) succeeds once', async () => {
    const t = gated('TR-LOST1', 'C102', '2025-03-10T08:30:00.000Z');
    await store.createTransfer(t);
    await store.createTransfer(t);
    expect(await store.getTransfer('TR-LOST1')).toEqual(t);
    expect((await store.transfersOf('C102')).map((x) => x.transferId)).toEqual(['TR-LOST1']);
    // The same id asked at another instant is another request: refused.
    await expect(store.createTransfer({ ...t, requestedAt: '2025-03-10T08:30:01.000Z' })).rejects.toThrow(
      /TR-LOST1 already exists/,
    );
  });

  it('updates while the expectation holds: SET for values, REMOVE for keys given as undefined', async () => {
    const t = gated('TR-UPD1', 'C101', '2025-03-10T09:00:00.000Z');
    await store.createTransfer(t);
    expect(await store.updateTransfer('TR-UPD1', { level: 2 }, { status: 'pending', level: 1 })).toBe(true);
    expect(await store.getTransfer('TR-UPD1')).toEqual({ ...t, level: 2 });

    const closed = await store.updateTransfer(
      'TR-UPD1',
      {
        status: 'approved',
        closedAt: '2025-03-10T11:00:00.000Z',
        closedBy: 'fm1',
        outcome: 'approved at every level',
        level: undefined,
      },
      { status: 'pending', level: 2 },
    );
    expect(closed).toBe(true);
    const after = await store.getTransfer('TR-UPD1');
    expect(after).toEqual({
      ...t,
      status: 'approved',
      closedAt: '2025-03-10T11:00:00.000Z',
      closedBy: 'fm1',
      outcome: 'approved at every level',
      level: undefined,
    });
    expect(after && 'level' in after).toBe(false);
  });

  it('loses the race and writes nothing when the status or the level is not the expected one', async () => {
    const t = gated('TR-RACE1', 'C102', '2025-03-10T10:00:00.000Z');
    await store.createTransfer(t);

    // Someone recalled it first.
    expect(
      await store.updateTransfer(
        'TR-RACE1',
        { status: 'recalled', closedBy: 'ana.silva' },
        { status: 'pending' },
      ),
    ).toBe(true);
    const recalled = await store.getTransfer('TR-RACE1');

    // The approval that arrives late expected it pending: false, nothing changed.
    expect(
      await store.updateTransfer(
        'TR-RACE1',
        { status: 'approved', closedBy: 'fm1', outcome: 'approved' },
        { status: 'pending', level: 1 },
      ),
    ).toBe(false);
    expect(await store.getTransfer('TR-RACE1')).toEqual(recalled);

    // Status matches but the level moved on: false, nothing changed.
    const t2 = gated('TR-RACE2', 'C102', '2025-03-10T10:05:00.000Z');
    await store.createTransfer(t2);
    expect(await store.updateTransfer('TR-RACE2', { level: 2 }, { status: 'pending', level: 1 })).toBe(true);
    expect(
      await store.updateTransfer('TR-RACE2', { level: 3, outcome: 'x' }, { status: 'pending', level: 1 }),
    ).toBe(false);
    expect(await store.getTransfer('TR-RACE2')).toEqual({ ...t2, level: 2 });

    // An unknown transfer is never created by an update.
    expect(await store.updateTransfer('TR-NOSUCH2', { level: 2 }, { status: 'pending' })).toBe(false);
    expect(await store.getTransfer('TR-NOSUCH2')).toBeUndefined();

    // Two concurrent updates from the same state: exactly one wins.
    const t3 = gated('TR-RACE3', 'C102', '2025-03-10T10:06:00.000Z');
    await store.createTransfer(t3);
    const [a, b] = await Promise.all([
      store.updateTransfer(
        'TR-RACE3',
        { status: 'rejected', closedBy: 'cc1' },
        { status: 'pending', level: 1 },
      ),
      store.updateTransfer('TR-RACE3', { status: 'recalled', closedBy: 'ana.silva' }, { status: 'pending' }),
    ]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    const won = await store.getTransfer('TR-RACE3');
    expect(won?.status).toBe(a ? 'rejected' : 'recalled');
    expect(won?.closedBy).toBe(a ? 'cc1' : 'ana.silva');
  });

  it('lists every transfer newest first, or a page of them with how many there are', async () => {
    // In 2030: newer than every other transfer of this file; created out of order.
    const times = ['2030-01-02T00:00:00.000Z', '2030-01-04T00:00:00.000Z', '2030-01-01T00:00:00.000Z'];
    for (const [i, at] of times.entries()) await store.createTransfer(transfer(`TR-LIST${i}`, 'C103', at));
    const top = await store.transfersPage({ size: 2 });
    expect(top.items.map((t) => t.transferId)).toEqual(['TR-LIST1', 'TR-LIST0']);
    expect(top.items[0]).toEqual(transfer('TR-LIST1', 'C103', '2030-01-04T00:00:00.000Z'));
    expect(top.from).toBe(1);
    const second = await store.transfersPage({ size: 2, after: top.next });
    expect(second.items[0]?.transferId).toBe('TR-LIST2');
    expect(second.from).toBe(3);

    const all = await store.listTransfers();
    expect(top.total).toBe(all.length);
    expect(all.slice(0, 3).map((t) => t.transferId)).toEqual(['TR-LIST1', 'TR-LIST0', 'TR-LIST2']);
    const stamps = all.map((t) => `${t.requestedAt}#${t.transferId}`);
    expect(stamps).toEqual([...stamps].sort().reverse());
    expect(all.map((t) => t.transferId)).toContain('TR-CREATE1');
  });

  it("reads a customer's transfers only, newest first, right after they were made", async () => {
    const made = [
      transfer('TR-CUSA2', 'CUST-A', '2025-02-02T10:00:00.000Z'),
      transfer('TR-CUSB1', 'CUST-B', '2025-02-03T10:00:00.000Z'),
      transfer('TR-CUSA1', 'CUST-A', '2025-02-01T10:00:00.000Z', { status: 'rejected' }),
      transfer('TR-CUSA3', 'CUST-A', '2025-02-05T10:00:00.000Z'),
    ];
    for (const t of made) await store.createTransfer(t);
    const ofA = await store.transfersOf('CUST-A');
    expect(ofA.map((t) => t.transferId)).toEqual(['TR-CUSA3', 'TR-CUSA2', 'TR-CUSA1']);
    expect(ofA[2]).toEqual(made[2]);
    expect((await store.transfersOf('CUST-B')).map((t) => t.transferId)).toEqual(['TR-CUSB1']);
    expect(await store.transfersOf('CUST-NONE')).toEqual([]);

    // A status change shows in the customer's list at once.
    expect(await store.updateTransfer('TR-CUSA3', { status: 'recalled' }, { status: 'pending' })).toBe(true);
    expect((await store.transfersOf('CUST-A'))[0]?.status).toBe('recalled');
  });

  it("reads more than one BatchGetItem's worth of a customer's transfers", async () => {
    const many = Array.from({ length: 130 }, (_, i) =>
      transfer(
        `TR-MANY${String(i).padStart(3, '0')}`,
        'CUST-MANY',
        `2024-06-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000Z`,
      ),
    );
    await Promise.all(many.map((t) => store.createTransfer(t)));
    const got = await store.transfersOf('CUST-MANY');
    expect(got).toEqual([...many].reverse());
  });
});

describe('DynamoTransferStore: approvals', () => {
  it('stores approvals pending with their token, and never returns the token with them', async () => {
    const tid = 'TR-APPR1';
    await store.createTransfer(gated(tid, 'C200', '2025-03-01T08:00:00.000Z'));
    // 30 approvals: more than one BatchWriteItem of 25.
    const approvals = Array.from({ length: 30 }, (_, i) =>
      approval(tid, aid('ap', i), 1, `2025-03-01T08:01:${String(i).padStart(2, '0')}.000Z`, {
        onBehalfOf: i === 0 ? 'away-person' : undefined,
      }),
    );
    await store.putApprovals(approvals, 'token-level-1');

    const first = approvals[0] as Approval;
    const got = await store.getApproval(tid, first.approvalId);
    expect(got).toEqual(first);
    expect(got).not.toHaveProperty('taskToken');
    expect(got).not.toHaveProperty('gsi1pk');
    expect(await store.getApproval(tid, aid('nosuch'))).toBeUndefined();

    const all = await store.approvalsOf(tid);
    expect(all).toHaveLength(30);
    expect(all).toEqual(expect.arrayContaining(approvals));
    for (const a of all) expect(Object.keys(a)).not.toContain('taskToken');

    expect(await store.taskToken(tid, first.approvalId)).toBe('token-level-1');
    expect(await store.taskToken(tid, aid('nosuch'))).toBeUndefined();
    expect(await store.approvalsOf('TR-NOAPPROVALS')).toEqual([]);
  });

  it("renews the token, reminders and expiry of a level's pending approvals only", async () => {
    const tid = 'TR-RENEW1';
    await store.createTransfer(gated(tid, 'C201', '2025-03-02T08:00:00.000Z'));
    const level1 = [0, 1, 2].map((i) => approval(tid, aid('rn', i), 1, '2025-03-02T08:01:00.000Z'));
    const level2 = approval(tid, aid('rn', 9), 2, '2025-03-02T08:02:00.000Z');
    await store.putApprovals(level1, 'old-1');
    await store.putApprovals([level2], 'old-2');
    const decided = await store.decide(tid, aid('rn', 0), {
      status: 'approved',
      decidedAt: '2025-03-02T09:00:00.000Z',
      via: 'email',
    });
    expect(decided.ok).toBe(true);

    await store.renewApprovals(tid, 1, 'new-1', { reminders: 1, expiresAt: '2025-03-13T09:00:00.000Z' });

    for (const i of [1, 2]) {
      expect(await store.taskToken(tid, aid('rn', i))).toBe('new-1');
      expect(await store.getApproval(tid, aid('rn', i))).toEqual({
        ...level1[i],
        reminders: 1,
        expiresAt: '2025-03-13T09:00:00.000Z',
      });
    }
    // Decided meanwhile: untouched.
    expect(await store.taskToken(tid, aid('rn', 0))).toBe('old-1');
    const d = await store.getApproval(tid, aid('rn', 0));
    expect(d?.status).toBe('approved');
    expect(d?.reminders).toBe(0);
    expect(d?.expiresAt).toBe('2025-03-12T09:00:00.000Z');
    // Another level: untouched.
    expect(await store.taskToken(tid, aid('rn', 9))).toBe('old-2');
    expect(await store.getApproval(tid, aid('rn', 9))).toEqual(level2);
  });

  it('records the first decision only and tells the second what won', async () => {
    const tid = 'TR-DECIDE1';
    await store.createTransfer(gated(tid, 'C202', '2025-03-03T08:00:00.000Z'));
    const a = approval(tid, aid('dc', 1), 1, '2025-03-03T08:01:00.000Z');
    await store.putApprovals([a], 'tok-dc');
    expect((await store.listPendingApprovals()).map((x) => x.approvalId)).toContain(a.approvalId);

    const first = await store.decide(tid, a.approvalId, {
      status: 'approved',
      decidedAt: '2025-03-03T09:00:00.000Z',
      comment: 'Checked against the bank statement',
      via: 'slack',
    });
    const approved: Approval = {
      ...a,
      status: 'approved',
      decidedAt: '2025-03-03T09:00:00.000Z',
      comment: 'Checked against the bank statement',
      via: 'slack',
    };
    expect(first).toEqual({ ok: true, approval: approved });
    expect(first.ok && first.approval).not.toHaveProperty('taskToken');

    const second = await store.decide(tid, a.approvalId, {
      status: 'rejected',
      decidedAt: '2025-03-03T09:05:00.000Z',
      via: 'email',
    });
    expect(second).toEqual({ ok: false, current: approved });
    expect(await store.getApproval(tid, a.approvalId)).toEqual(approved);
    // Decided: off the pending index; the token is still kept for it.
    expect((await store.listPendingApprovals()).map((x) => x.approvalId)).not.toContain(a.approvalId);
    expect(await store.taskToken(tid, a.approvalId)).toBe('tok-dc');

    // An approval that does not exist: not ok, nothing to show, and nothing created.
    const none = await store.decide(tid, aid('nosuch'), {
      status: 'approved',
      decidedAt: '2025-03-03T09:10:00.000Z',
      via: 'email',
    });
    expect(none).toEqual({ ok: false, current: undefined });
    expect(await store.getApproval(tid, aid('nosuch'))).toBeUndefined();
  });

  it('lets exactly one of two concurrent decisions win', async () => {
    const tid = 'TR-DECIDE2';
    await store.createTransfer(gated(tid, 'C203', '2025-03-04T08:00:00.000Z'));
    const approvals = Array.from({ length: 10 }, (_, i) =>
      approval(tid, aid('cc', i), 1, '2025-03-04T08:01:00.000Z'),
    );
    await store.putApprovals(approvals, 'tok-cc');
    for (const a of approvals) {
      const results = await Promise.all([
        store.decide(tid, a.approvalId, {
          status: 'approved',
          decidedAt: '2025-03-04T09:00:00.000Z',
          via: 'email',
        }),
        store.decide(tid, a.approvalId, {
          status: 'rejected',
          decidedAt: '2025-03-04T09:00:01.000Z',
          via: 'slack',
        }),
      ]);
      const won = results.filter((r) => r.ok);
      const lost = results.filter((r) => !r.ok);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const winner = won[0]?.ok ? won[0].approval : undefined;
      const loser = lost[0] && !lost[0].ok ? lost[0].current : undefined;
      expect(winner?.status).toMatch(/^(approved|rejected)$/);
      expect(loser?.status).toBe(winner?.status);
      expect(loser).toEqual(winner);
      const stored = await store.getApproval(tid, a.approvalId);
      expect(stored).toEqual(winner);
      expect(stored?.via).toBe(winner?.status === 'approved' ? 'email' : 'slack');
    }
  });

  it('voids every pending approval of a transfer and takes them off the pending list', async () => {
    const tid = 'TR-VOID1';
    await store.createTransfer(gated(tid, 'C204', '2025-03-05T08:00:00.000Z'));
    const approvals = [1, 2, 3, 4].map((i) =>
      approval(tid, aid('vd', i), i <= 2 ? 1 : 2, `2025-03-05T08:0${i}:00.000Z`),
    );
    await store.putApprovals(approvals, 'tok-vd');
    const rejected = await store.decide(tid, aid('vd', 1), {
      status: 'rejected',
      decidedAt: '2025-03-05T09:00:00.000Z',
      comment: 'Beneficiary not on file',
      via: 'email',
    });
    expect(rejected.ok).toBe(true);
    const pendingBefore = (await store.listPendingApprovals()).filter((a) => a.transferId === tid);
    expect(pendingBefore.map((a) => a.approvalId)).toEqual([aid('vd', 2), aid('vd', 3), aid('vd', 4)]);

    expect(await store.voidPending(tid, 'another approver rejected')).toBe(3);

    const all = await store.approvalsOf(tid);
    const byId = new Map(all.map((a) => [a.approvalId, a]));
    expect(byId.get(aid('vd', 1))?.status).toBe('rejected');
    expect(byId.get(aid('vd', 1))?.voidReason).toBeUndefined();
    for (const i of [2, 3, 4])
      expect(byId.get(aid('vd', i))).toEqual({
        ...approvals[i - 1],
        status: 'void',
        voidReason: 'another approver rejected',
      });
    expect((await store.listPendingApprovals()).filter((a) => a.transferId === tid)).toEqual([]);

    // Nothing left to void; a voided link cannot be decided any more.
    expect(await store.voidPending(tid, 'again')).toBe(0);
    const late = await store.decide(tid, aid('vd', 3), {
      status: 'approved',
      decidedAt: '2025-03-05T10:00:00.000Z',
      via: 'email',
    });
    expect(late.ok).toBe(false);
    expect(!late.ok && late.current?.status).toBe('void');
  });

  it('lists pending approvals across transfers, oldest first, without tokens', async () => {
    const t1 = 'TR-PEND1';
    const t2 = 'TR-PEND2';
    await store.createTransfer(gated(t1, 'C205', '2025-03-06T08:00:00.000Z'));
    await store.createTransfer(gated(t2, 'C206', '2025-03-06T08:30:00.000Z'));
    const p1 = approval(t1, aid('pn', 1), 1, '2025-01-06T12:00:00.000Z');
    const p2 = approval(t2, aid('pn', 2), 1, '2025-01-06T08:00:00.000Z');
    const p3 = approval(t1, aid('pn', 3), 2, '2025-01-06T10:00:00.000Z');
    await store.putApprovals([p1, p3], 'tok-p1');
    await store.putApprovals([p2], 'tok-p2');

    const pending = await store.listPendingApprovals();
    const stamps = pending.map((a) => `${a.notifiedAt}#${a.approvalId}`);
    expect(stamps).toEqual([...stamps].sort());
    for (const a of pending) {
      expect(a.status).toBe('pending');
      expect(Object.keys(a)).not.toContain('taskToken');
    }
    const mine = pending.filter((a) => a.transferId === t1 || a.transferId === t2);
    expect(mine).toEqual([p2, p3, p1]);
    // Every approval the store holds as pending is listed, and only those.
    const heldPending = (
      await Promise.all(
        ['TR-APPR1', 'TR-RENEW1', 'TR-DECIDE1', 'TR-DECIDE2', 'TR-VOID1', t1, t2].map((t) =>
          store.approvalsOf(t),
        ),
      )
    )
      .flat()
      .filter((a) => a.status === 'pending');
    expect(pending).toHaveLength(heldPending.length);
    expect(pending).toEqual(expect.arrayContaining(heldPending));
  });
});

describe('DynamoTransferStore: audit trail', () => {
  const event = (i: number): AuditEvent => ({
    at: `2025-03-07T10:00:${String(i).padStart(2, '0')}.000Z`,
    kind: i % 3 === 0 ? 'approval.decided' : 'transfer.requested',
    subject: `TR-AUDIT${i}`,
    actor: i % 2 ? 'system' : `person-${i}`,
    data: {
      i,
      amount: 1250000 + i,
      evidence: { flags: ['abnormalAmount'], score: 61.5, empty: [], none: null, dropped: undefined },
      note: i === 1 ? '' : `event ${i}`,
    },
  });
  let written: AuditRecord[] = [];
  const amountOf = (r: AuditRecord | undefined) => (r?.data as { amount?: number } | undefined)?.amount;

  it('starts empty', async () => {
    expect(await store.auditTrail()).toEqual([]);
    expect(await store.auditHead()).toBeUndefined();
  });

  it('numbers 30 concurrent appends 1..30 with no gap, in one verifiable chain', async () => {
    written = await Promise.all(Array.from({ length: 30 }, (_, i) => store.appendAudit(event(i + 1))));
    expect(written.map((r) => r.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );

    const trail = await store.auditTrail();
    expect(trail.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // Each record reads back exactly as it was returned, with nothing else on it.
    expect(trail).toEqual([...written].sort((a, b) => a.seq - b.seq));
    for (const r of trail)
      expect(Object.keys(r).sort()).toEqual([
        'actor',
        'at',
        'data',
        'hash',
        'kind',
        'prevHash',
        'seq',
        'subject',
      ]);
    // Every event made it in once.
    expect(trail.map((r) => r.subject).sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => `TR-AUDIT${i + 1}`).sort(),
    );

    const head = await store.auditHead();
    expect(head).toEqual({ seq: 30, hash: trail[29]?.hash });
    expect(verifyTrail(trail, head)).toEqual({ ok: true, records: 30, head: trail[29]?.hash });
  });

  it('shows a record changed in the table behind its back', async () => {
    const seq7 = { pk: { S: 'AUDIT' }, sk: { S: 'SEQ#000000000007' } };
    const original = (await store.auditTrail())[6];
    expect(original?.seq).toBe(7);
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: seq7,
        UpdateExpression: 'SET #d.#a = :a',
        ExpressionAttributeNames: { '#d': 'data', '#a': 'amount' },
        ExpressionAttributeValues: { ':a': { N: '99' } },
      }),
    );
    const tampered = await store.auditTrail();
    expect(amountOf(tampered[6])).toBe(99);
    const v = verifyTrail(tampered, await store.auditHead());
    expect(v.ok).toBe(false);
    expect(!v.ok && v.seq).toBe(7);
    expect(!v.ok && v.reason).toMatch(/changed after it was written/);

    // Put it back as it was: the trail verifies again.
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: seq7,
        UpdateExpression: 'SET #d.#a = :a',
        ExpressionAttributeNames: { '#d': 'data', '#a': 'amount' },
        ExpressionAttributeValues: { ':a': { N: String(amountOf(original)) } },
      }),
    );
    expect(verifyTrail(await store.auditTrail(), await store.auditHead()).ok).toBe(true);
  });

  it('shows the last record deleted, by the head kept apart', async () => {
    await client.send(
      new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: 'AUDIT' }, sk: { S: 'SEQ#000000000030' } } }),
    );
    const trail = await store.auditTrail();
    expect(trail).toHaveLength(29);
    // The chain alone cannot see it...
    expect(verifyTrail(trail).ok).toBe(true);
    // ...the head can.
    const head = await store.auditHead();
    expect(head?.seq).toBe(30);
    const v = verifyTrail(trail, head);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.seq).toBe(30);
    expect(!v.ok && v.reason).toMatch(/missing/);
  });
});

describe('DynamoTransferStore: an append made once by its step', () => {
  let once: DynamoTransferStore;
  const ev = (subject: string, at: string): AuditEvent => ({
    at,
    kind: 'review.run',
    subject,
    actor: 'periodic-review',
    data: { counts: { reviewed: 4 } },
  });
  beforeAll(async () => {
    await new DynamoStore({ client, tableName: `${TABLE}-once` }).ensureTable();
    once = new DynamoTransferStore({ client, tableName: `${TABLE}-once` });
  });

  it('a retried step gets the record its first try appended, also when the try stopped before its mark', async () => {
    const first = await once.appendAudit(ev('run-1', '2026-11-23T05:00:00.000Z'), {
      once: 'review.run#run-1',
    });
    await once.appendAudit(ev('other', '2026-11-23T05:00:01.000Z'));
    // The retry, a second later: the same record back, nothing appended.
    const again = await once.appendAudit(ev('run-1', '2026-11-23T05:00:02.000Z'), {
      once: 'review.run#run-1',
    });
    expect(again).toEqual(first);
    expect((await once.auditTrail()).map((r) => r.subject)).toEqual(['run-1', 'other']);

    // A try that stopped between its record and its mark (the mark holds only the seq it noted it
    // would take from): the record is found on the trail from there.
    const second = await once.appendAudit(ev('run-2', '2026-11-23T05:01:00.000Z'), {
      once: 'review.run#run-2',
    });
    await client.send(
      new UpdateItemCommand({
        TableName: `${TABLE}-once`,
        Key: { pk: { S: 'AUDIT' }, sk: { S: 'ONCE#review.run#run-2' } },
        UpdateExpression: 'REMOVE seq',
      }),
    );
    await once.appendAudit(ev('other', '2026-11-23T05:01:01.000Z'));
    expect(
      await once.appendAudit(ev('run-2', '2026-11-23T05:01:02.000Z'), { once: 'review.run#run-2' }),
    ).toEqual(second);
    // Two tries at once of a new step, and plain appends: each step's record once, one chain.
    await Promise.all([
      once.appendAudit(ev('run-3', '2026-11-23T05:02:00.000Z'), { once: 'review.run#run-3' }),
      once.appendAudit(ev('plain', '2026-11-23T05:02:00.000Z')),
    ]);
    await once.appendAudit(ev('run-3', '2026-11-23T05:02:05.000Z'), { once: 'review.run#run-3' });
    const trail = await once.auditTrail();
    expect(trail.map((r) => r.subject)).toEqual([
      'run-1',
      'other',
      'run-2',
      'other',
      expect.any(String),
      expect.any(String),
    ]);
    expect(trail.filter((r) => r.subject === 'run-3')).toHaveLength(1);
    // The `once` key stays beside the hashed fields: the records verify as ever.
    expect(verifyTrail(trail, await once.auditHead()).ok).toBe(true);
    expect(Object.keys(trail[0] ?? {})).not.toContain('once');
  });
});

describe('DynamoTransferStore: an append made once reads only what it needs', () => {
  it('a first append reads its mark and the last record, never the trail; a retry after a stop reads from the seq it noted', async () => {
    const table = `${TABLE}-once-cost`;
    await new DynamoStore({ client, tableName: table }).ensureTable();
    const store = new DynamoTransferStore({ client, tableName: table });
    const ev = (subject: string): AuditEvent => ({
      at: '2026-11-23T05:00:00.000Z',
      kind: 'review.run',
      subject,
      actor: 'periodic-review',
      data: {},
    });
    for (let i = 0; i < 60; i++) await store.appendAudit(ev(`plain-${i}`));
    // Every Query the store sends, with how many items it read (ScannedCount counts the filtered too).
    const queries: { filtered: boolean; scanned: number }[] = [];
    const watch =
      (next: (a: never) => Promise<{ output: { ScannedCount?: number } }>, ctx: { commandName?: string }) =>
      async (args: { input: { FilterExpression?: string; TableName?: string } }) => {
        const out = await next(args as never);
        if (ctx.commandName === 'QueryCommand' && args.input.TableName === table)
          queries.push({
            filtered: Boolean(args.input.FilterExpression),
            scanned: out.output.ScannedCount ?? 0,
          });
        return out;
      };
    client.middlewareStack.add(watch as never, { step: 'initialize', name: 'onceCost' });
    try {
      await store.appendAudit(ev('run-a'), { once: 'review.run#run-a' });
      expect(queries.filter((q) => q.filtered)).toEqual([]);
      expect(Math.max(...queries.map((q) => q.scanned))).toBe(1); // the last record, for the chain
      // Stopped before its mark said which record it made, then 5 more records: the retry reads
      // from the seq it noted (6 records), not the trail's 61.
      await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: 'AUDIT' }, sk: { S: 'ONCE#review.run#run-a' } },
          UpdateExpression: 'REMOVE seq',
        }),
      );
      for (let i = 0; i < 5; i++) await store.appendAudit(ev(`later-${i}`));
      queries.length = 0;
      const again = await store.appendAudit(ev('run-a'), { once: 'review.run#run-a' });
      expect(again.subject).toBe('run-a');
      expect(again.seq).toBe(61);
      expect(queries.filter((q) => q.filtered).map((q) => q.scanned)).toEqual([6]);
      expect((await store.auditTrail()).filter((r) => r.subject === 'run-a')).toHaveLength(1);
    } finally {
      client.middlewareStack.remove('onceCost');
    }
  });
});

describe('DynamoTransferStore: one outcome per level', () => {
  let round = 0;

  it('random interleavings of decisions: exactly one outcome per level, the first that completes or ends it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }).chain((required) =>
          fc.record({
            required: fc.constant(required),
            // Each approver's decision and how long it waits before deciding (ms).
            calls: fc.array(fc.record({ reject: fc.boolean(), delay: fc.integer({ min: 0, max: 8 }) }), {
              minLength: required,
              maxLength: 5,
            }),
          }),
        ),
        async ({ required, calls }) => {
          const transferId = `TR-LEVEL${++round}`;
          const results = await Promise.all(
            calls.map(async (c, i) => {
              await new Promise((ok) => setTimeout(ok, c.delay));
              const r = await store.decideLevel(
                transferId,
                1,
                required,
                { approvalId: aid('L', i), approver: `p${i}` },
                { status: c.reject ? 'rejected' : 'approved', decidedAt: new Date().toISOString() },
              );
              return { i, ...c, r };
            }),
          );
          const final = await store.levelState(transferId, 1);
          const winners = results.filter((x) => x.r.ok && x.r.state.outcome);
          const counted = results.filter((x) => x.r.ok && !x.r.state.outcome);
          const approvals = calls.filter((c) => !c.reject).length;
          const anyReject = calls.some((c) => c.reject);
          // An outcome exactly when one was reachable: a rejection, or enough approvals.
          expect(final?.outcome !== undefined).toBe(anyReject || approvals >= required);
          expect(winners.length).toBe(final?.outcome ? 1 : 0);
          const winner = winners[0];
          if (winner) {
            // The winner's write is the outcome stored, and nobody was counted after it.
            expect(final?.outcome).toBe(winner.reject ? 'rejected' : 'approved');
            expect(final?.decidedApproval).toBe(aid('L', winner.i));
            expect(final?.approvedBy.length).toBe(winner.r.state.approvedBy.length);
            if (final?.outcome === 'approved') expect(final.approvedBy.length).toBe(required);
            else expect(final?.approvedBy.length).toBeLessThan(required);
          }
          // Every approval counted is in the stored list, once; every loser was told the outcome.
          for (const x of [...counted, ...winners.filter((w) => !w.reject)])
            expect(final?.approvedBy.filter((a) => a.approvalId === aid('L', x.i))).toHaveLength(1);
          for (const x of results.filter((y) => !y.r.ok)) expect(x.r.state.outcome).toBe(final?.outcome);
          // A second try of any call changes nothing.
          const again = await store.decideLevel(
            transferId,
            1,
            required,
            { approvalId: aid('L', 0), approver: 'p0' },
            { status: 'rejected', decidedAt: new Date().toISOString() },
          );
          if (final?.outcome || !calls[0]?.reject) expect(again.ok).toBe(false);
          expect((await store.levelState(transferId, 1))?.outcome).toBe(
            final?.outcome ?? (again.ok ? 'rejected' : undefined),
          );
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);

  it('claims a notice once; a released claim is claimed again; a stale claim is taken over', async () => {
    const k = { transferId: 'TR-OUTBOX', level: 2, kind: 'approve' as const, round: 0, to: 'fiona' };
    const at = '2026-11-24T09:00:00.000Z';
    const stale = '2026-11-24T08:58:00.000Z';
    const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimNotice(k, at, stale)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    await store.releaseNotice(k);
    expect(await store.claimNotice(k, at, stale)).toBe(true);
    // Claimed at 09:00, never sent: another sender takes it over once the claim is older than its limit.
    expect(await store.claimNotice(k, '2026-11-24T09:01:00.000Z', '2026-11-24T08:59:00.000Z')).toBe(false);
    expect(await store.claimNotice(k, '2026-11-24T09:03:00.000Z', '2026-11-24T09:01:00.000Z')).toBe(true);
    await store.noticeSent(k, '2026-11-24T09:03:01.000Z');
    // Sent: never again, however old, and a release does not undo it.
    await store.releaseNotice(k);
    expect(await store.claimNotice(k, '2026-11-25T09:00:00.000Z', '2026-11-25T08:58:00.000Z')).toBe(false);
    expect(await store.noticesOf('TR-OUTBOX', 2)).toEqual([
      expect.objectContaining({ level: 2, kind: 'approve', round: 0, to: 'fiona', state: 'sent' }),
    ]);
    expect(await store.noticesOf('TR-OUTBOX', 1)).toEqual([]);
  });

  it("a claim is its claimant's again (the put went through, its response was lost), nobody else's until stale", async () => {
    const k = { transferId: 'TR-OUTBOX-LOST', level: 1, kind: 'approve' as const, round: 0, to: 'carla' };
    const at = '2026-11-24T09:00:00.000Z';
    const stale = '2026-11-24T08:58:00.000Z';
    expect(await store.claimNotice(k, at, stale, 'step-a')).toBe(true);
    // The SDK sends the same put again after a lost response: still step-a's to send.
    expect(await store.claimNotice(k, at, stale, 'step-a')).toBe(true);
    expect(await store.claimNotice(k, at, stale, 'step-b')).toBe(false);
    expect(await store.claimNotice(k, at, stale)).toBe(false);
    await store.noticeSent(k, '2026-11-24T09:00:01.000Z');
    // Sent: not even its claimant sends it again.
    expect(await store.claimNotice(k, at, stale, 'step-a')).toBe(false);
  });
});
