import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../../functions/core/money.ts';
import type { CustomersChanged, StoredRecord } from '../../functions/ingest/ports.ts';
import type { ReviewRun } from '../../functions/reviews/ports.ts';
import { limitApprovals } from '../../functions/transfers/app.ts';
import type { Transfer } from '../../functions/transfers/ports.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalReviewsRuntime, localReviewsRuntime } from '../../infra/local/runtime/reviews.ts';
import { type LocalTransfers, listMail, localTransfers } from '../../infra/local/runtime/transfers.ts';
import { books, listCustomers, REVIEW_AS_OF, recommendedFor, reviewTestPolicy } from './review-book.ts';
import { approvalPolicyWith, until } from './transfers-console.ts';

/**
 * A review run that would ask for more approvals than the policy's `review.approvals.batchAbove`
 * (10) asks once, for the whole batch: twelve customers with no limit on file get their first
 * limits through one request on the real approval chain (the ASL on the local engine, the emails
 * as .eml files parsed as a mail client parses them). Approving it sets every limit of its table.
 */

const POLICY = reviewTestPolicy('review-batch-test');
const IDS = Array.from({ length: 12 }, (_, i) => `NEW${String(i + 1).padStart(2, '0')}`);
const clock = { now: () => new Date(`${REVIEW_AS_OF}T06:00:00Z`) };

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let reviews: LocalReviewsRuntime;
let run: ReviewRun;
let batch: Transfer;
let recommended: number;
const changed: CustomersChanged[] = [];

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  dir = await mkdtemp(join(tmpdir(), 'review-batch-'));
  recommended = recommendedFor(POLICY);
  const from = { runId: 'seed', line: 2 };
  const rows: StoredRecord[] = [];
  for (const id of IDS) {
    // Master data with no credit limit: each needs a first limit, which people decide.
    rows.push({ kind: 'customers', row: { customerId: id, name: `${id} Ltd`, currency: 'EUR' }, from });
    const b = books(id);
    for (const row of b.invoices) rows.push({ kind: 'invoices', row, from });
    for (const row of b.payments) rows.push({ kind: 'payments', row, from });
  }
  await env.store.write(rows);
  await listCustomers(env.store, IDS);
  const changes = { customersChanged: async (m: CustomersChanged) => void changed.push(m) };
  transfers = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy: async () => POLICY,
    approvalPolicy: async () => approvalPolicyWith(() => {}),
    dataDir: dir,
    clock,
    today: () => REVIEW_AS_OF,
    baseUrl: () => 'http://approvals.test',
    changes,
  });
  reviews = localReviewsRuntime({
    client: env.store.client,
    tableName: env.store.tableName,
    dataDir: dir,
    policy: async () => POLICY,
    approvals: limitApprovals(transfers.app),
    timeZone: 'UTC',
    clock,
    changes,
  });
  run = (await reviews.run({ asOf: REVIEW_AS_OF, trigger: 'manual' })).run;
});

afterAll(async () => {
  for (const t of await transfers.app.list()) {
    if (t.status === 'pending') await transfers.app.recall(t.transferId, t.request.requester);
    // Its execution's end (the journal's delete) too, before the store closes.
    if (t.executionId) await transfers.workflow.execution(t.executionId)?.done.catch(() => undefined);
  }
  await transfers.idle();
  await env.close();
  await rm(dir, { recursive: true, force: true });
});

/** The approval emails of a level of the batch, parsed. */
async function levelMail(level: number) {
  return until(`the level-${level} emails of the batch`, async () => {
    const mail = (await listMail(dir)).filter(
      (m) => m.file.includes(`-approve-${batch.transferId}-`) && m.subject.includes(`level ${level} of`),
    );
    return mail.length > 0 ? mail : undefined;
  });
}

describe('a review run with more first limits than the policy asks for one by one', () => {
  it('asks once, for the whole batch', async () => {
    expect(run.counts?.outcomes).toEqual({ cut: 0, raise: 0, approval: 12, keep: 0 });
    expect(run.approvals?.mode).toBe('batch');
    const all = await transfers.app.list();
    expect(all).toHaveLength(1);
    batch = all[0] as Transfer;
    expect(run.approvals).toEqual({ mode: 'batch', count: 12, transferId: batch.transferId });
    expect(batch.request).toMatchObject({
      type: 'limit_batch',
      requester: 'periodic-review',
      currency: 'EUR',
    });
    expect(batch.limitBatch).toEqual({
      runId: run.runId,
      asOf: REVIEW_AS_OF,
      count: 12,
      byCurrency: [{ currency: 'EUR', count: 12, increase: 12 * recommended, decrease: 0 }],
    });
    const items = await transfers.store.batchItems(batch.transferId);
    expect(items.map((i) => [i.customerId, i.request, i.from, i.to])).toEqual(
      IDS.map((id) => [id, 'first', undefined, recommended]),
    );
  });

  it('shows the approvers the whole table in the email, as a mail client reads it', async () => {
    const [mail] = await levelMail(1);
    expect(mail?.subject).toMatch(
      new RegExp(`^Approve: 12 credit limit changes of review ${run.runId}, level 1 of \\d+$`),
    );
    const parsed = mail as NonNullable<typeof mail>;
    expect(parsed.text).toContain('LIMIT CHANGES ASKED FOR (12)');
    for (const id of IDS) expect(parsed.text).toContain(`  - ${id} ${id} Ltd, rating `);
    expect(parsed.text).toContain(`first none -> ${formatMoney(recommended, 'EUR')}`);
    expect(parsed.html).toContain('Limit changes asked for');
    // The gate reads no customer file for a batch: no beneficiary check, no exposure block.
    const gate = (await transfers.app.show(batch.transferId))?.transfer.gate;
    expect(gate?.checks.map((c) => c.check)).toEqual(['batch', 'batchRisk']);
    expect(gate?.batch?.rows).toHaveLength(12);
    expect(gate?.batch?.more).toBe(0);
  });

  it('once every level approves, every limit of the table is set, and nothing is paid', async () => {
    const levels = (await transfers.app.show(batch.transferId))?.transfer.levels?.length ?? 0;
    expect(levels).toBeGreaterThanOrEqual(1);
    for (let level = 1; level <= levels; level++) {
      const [mail] = await levelMail(level);
      const link = /https?:\/\/\S+\/approvals\/[\w.-]+/.exec(mail?.text ?? '')?.[0] as string;
      const res = await transfers.http({
        method: 'POST',
        path: new URL(link).pathname,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        // The To header names the approver: `Chen Wei <chen@...>`; the page asks for the address.
        body: new URLSearchParams({
          decision: 'approve',
          email: /<([^>]+)>/.exec(mail?.to ?? '')?.[1] ?? mail?.to ?? '',
          comment: '',
        }).toString(),
      });
      expect(res.status, res.body).toBe(200);
    }
    const done = await until('the batch approved', async () => {
      const t = (await transfers.app.show(batch.transferId))?.transfer;
      return t?.status === 'approved' ? t : undefined;
    });
    expect(done.approvedOn).toBe(REVIEW_AS_OF);
    for (const id of IDS)
      expect((await env.store.loadCustomerPartition(id)).books.customer?.creditLimit).toBe(recommended);
    expect(changed.find((m) => m.runId === batch.transferId)?.customerIds.sort()).toEqual(IDS);
    expect(await transfers.app.markPaid(batch.transferId, 'paula')).toMatchObject({
      ok: false,
      status: 409,
      message: 'A credit limit change moves no money: there is nothing to pay.',
    });
  });

  it('a second review the same day selects nobody', async () => {
    const again = (await reviews.run({ asOf: REVIEW_AS_OF, trigger: 'manual' })).run;
    expect(again.selected).toBe(0);
    expect(await transfers.app.list()).toHaveLength(1);
  });
});
