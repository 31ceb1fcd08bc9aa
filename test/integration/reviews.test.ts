import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoReviewStore } from '../../functions/adapters/dynamodb-reviews.ts';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { verifyTrail } from '../../functions/core/audit.ts';
import type { Alert } from '../../functions/credit/alerts.ts';
import type { CustomersChanged } from '../../functions/ingest/ports.ts';
import { withTransfer } from '../../functions/reviews/app.ts';
import type { LimitApprovals, ReviewStore } from '../../functions/reviews/ports.ts';
import { type Review, reviewHash } from '../../functions/reviews/review.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import {
  FileManifestStore,
  LocalReviews,
  OutboxReportStore,
  OutboxReviewNotifier,
} from '../../infra/local/runtime/reviews.ts';
import {
  CASES,
  MONTHLY,
  REVIEW_AS_OF,
  recommendedFor,
  reviewTestPolicy,
  seedReviewBook,
} from './review-book.ts';

/**
 * The periodic review end to end on the local stack: the ASL on aws-local-stepfunctions with its
 * Distributed Map made inline, the steps of ReviewApp, dynalite. The policy leaves out the
 * limit-use factor so a customer's recommended limit does not depend on the limit it has, and each
 * customer's limit can be set to land on one outcome.
 */

const AS_OF = REVIEW_AS_OF;
const POLICY = reviewTestPolicy();

class Clock {
  t = Date.parse(`${AS_OF}T06:00:00Z`);
  now = () => new Date(this.t);
}

let env: LocalEnv;
let dir: string;
/** Every "customers changed" message the reviews sent. */
const changed: CustomersChanged[] = [];
let recommended: number;

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  dir = await mkdtemp(join(tmpdir(), 'reviews-'));
  recommended = recommendedFor(POLICY);
  await seedReviewBook(env.store, recommended);
});
afterAll(async () => {
  await env.close();
  await rm(dir, { recursive: true, force: true });
});

/** Approvals asked, one per review or one per batch (the real chain is covered by the transfers tests). */
class Approvals implements LimitApprovals {
  readonly asked: Review[] = [];
  readonly batches: { runId: string; reviews: readonly Review[] }[] = [];
  async requestChange(r: Review) {
    if (!this.asked.some((a) => a.reviewId === r.reviewId)) this.asked.push(r);
    return { transferId: `TR-${r.customerId}` };
  }
  async requestBatch(run: { runId: string }, reviews: readonly Review[]) {
    if (!this.batches.some((b) => b.runId === run.runId)) this.batches.push({ runId: run.runId, reviews });
    return { transferId: `TR-BATCH-${run.runId}` };
  }
}

function rig(opts: { store?: ReviewStore; clock?: Clock } = {}) {
  const store =
    opts.store ?? new DynamoReviewStore({ client: env.store.client, tableName: env.store.tableName });
  const clock = opts.clock ?? new Clock();
  const approvals = new Approvals();
  const reviews = new LocalReviews(
    {
      store,
      manifests: new FileManifestStore(dir),
      reports: new OutboxReportStore(dir),
      notifier: new OutboxReviewNotifier(dir),
      approvals,
      policy: async () => POLICY,
      clock,
      timeZone: 'UTC',
      retryBaseMs: 1,
      changes: { customersChanged: async (m) => void changed.push(m) },
    },
    { retryIntervals: { SelectDue: 0, ReviewBatch: 0, Report: 0 } },
  );
  return { reviews, store, clock, approvals };
}

const reviewStore = () => new DynamoReviewStore({ client: env.store.client, tableName: env.store.tableName });

describe('a review run', () => {
  let first: Awaited<ReturnType<LocalReviews['run']>>;
  let approvals: Approvals;

  beforeAll(async () => {
    const r = rig();
    approvals = r.approvals;
    first = await r.reviews.run({ asOf: AS_OF, runId: 'run-1' });
  });

  it('reviews every customer never reviewed and lands each on its outcome', async () => {
    expect(first.run.selected).toBe(4);
    expect(first.run.counts).toMatchObject({
      reviewed: 4,
      failed: 0,
      outcomes: { cut: 1, raise: 1, approval: 1, keep: 1 },
    });
    const reviews = await reviewStore().reviewsOf('run-1');
    for (const r of reviews) {
      expect(r.outcome).toBe(CASES[r.customerId as keyof typeof CASES].outcome);
      expect(r.due).toBe('first review');
      expect(r.policyId).toBe(POLICY.id);
      expect(r.recommendedLimit).toBe(recommended);
      expect(r.applied).toBe(true);
      // The run's list leaves out the factors; each review keeps them.
      expect(r.factors).toBeUndefined();
      expect(r.figures?.salesInWindow).toBe(12 * MONTHLY);
      expect(r.figures?.salesMonths).toBe(12);
      const whole = await reviewStore().getReview('run-1', r.customerId);
      expect(whole?.factors?.length).toBeGreaterThan(5);
    }
  });

  it('has the customers whose limit changed evaluated again at once', () => {
    expect(changed.filter((m) => m.runId === 'run-1')).toEqual([
      { type: 'customers.changed', runId: 'run-1', asOf: AS_OF, customerIds: ['CCUT', 'CRAISE'] },
    ]);
  });

  it('writes cut and raised limits on the customer file, and leaves the others', async () => {
    const limit = async (id: string) =>
      (await env.store.loadCustomerPartition(id)).books.customer?.creditLimit;
    expect(await limit('CCUT')).toBe(recommended);
    expect(await limit('CRAISE')).toBe(recommended);
    expect(await limit('CAPPROVE')).toBe(Math.round(recommended / 2));
    expect(await limit('CKEEP')).toBe(recommended);
  });

  it('asks for approval of the large increase only, once the run is reviewed, and the run names the request', async () => {
    expect(approvals.asked.map((r) => r.customerId)).toEqual(['CAPPROVE']);
    expect(approvals.batches).toEqual([]);
    expect(first.run.approvals).toEqual({ mode: 'each', count: 1, byCustomer: { CAPPROVE: 'TR-CAPPROVE' } });
    const stored = await reviewStore().getReview('run-1', 'CAPPROVE');
    expect(withTransfer(stored as Review, first.run.approvals).transferId).toBe('TR-CAPPROVE');
    expect((await reviewStore().getRun('run-1'))?.approvals).toEqual(first.run.approvals);
  });

  it('sets each next review date from the risk class', async () => {
    const states = await reviewStore().reviewStates();
    expect(states.map((s) => s.customerId)).toEqual(['CAPPROVE', 'CCUT', 'CKEEP', 'CRAISE']);
    for (const s of states) {
      const months = POLICY.review.cadenceMonths[s.riskClass];
      expect(s.reviewedOn).toBe(AS_OF);
      expect(s.nextReviewOn).toBe(
        `${2026 + Math.floor((5 + months) / 12)}-${String(((5 + months) % 12) + 1).padStart(2, '0')}-30`,
      );
    }
  });

  it('writes the CSV and HTML report and announces the cut and the summary', async () => {
    const csv = await readFile(first.run.report?.csv as string, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]?.startsWith('customer_id,name,status,due,')).toBe(true);
    expect(lines.filter((l) => l.includes(',cut,'))).toHaveLength(1);
    const html = await readFile(first.run.report?.html as string, 'utf8');
    expect(html).toContain('Limit changes (3)');
    const outbox = (await readFile(join(dir, 'outbox', 'reviews.jsonl'), 'utf8')).trim().split('\n');
    expect(outbox.map((l) => JSON.parse(l).type)).toEqual(['review.limitCut', 'review.summary']);
  });

  it('puts every review on the audit trail, which verifies', async () => {
    const trail = await new DynamoTransferStore({
      client: env.store.client,
      tableName: env.store.tableName,
    }).auditTrail();
    expect(verifyTrail(trail).ok).toBe(true);
    const batch = trail.filter((r) => r.kind === 'review.batch' && r.subject === 'run-1');
    const audited = batch.flatMap((r) =>
      (r.data as { reviews: { customerId: string }[] }).reviews.map((x) => x.customerId),
    );
    expect(audited.sort()).toEqual(['CAPPROVE', 'CCUT', 'CKEEP', 'CRAISE']);
    expect(trail.filter((r) => r.kind === 'review.run' && r.subject === 'run-1')).toHaveLength(1);
    // Each stored review still hashes to what the trail holds of it: a later edit would show.
    for (const rec of batch)
      for (const x of (rec.data as { reviews: { customerId: string; hash: string }[] }).reviews) {
        const stored = (await reviewStore().getReview('run-1', x.customerId)) as Review;
        expect(reviewHash(stored), x.customerId).toBe(x.hash);
        expect(reviewHash({ ...stored, limitAfter: (stored.limitAfter ?? 0) + 1 })).not.toBe(x.hash);
      }
  });

  it('selects nobody again the same day, and only the high-risk ones a month later', async () => {
    const again = await rig().reviews.run({ asOf: AS_OF, runId: 'run-2' });
    expect(again.run.selected).toBe(0);
    const states = await reviewStore().reviewStates();
    const monthly = states.filter((s) => s.riskClass === 'high').map((s) => s.customerId);
    const later = await rig().reviews.run({ asOf: '2026-07-30', runId: 'run-3' });
    expect(later.run.selected).toBe(monthly.length);
  });

  it('selects a customer at once after a severe alert raised since its review', async () => {
    const clock = new Clock();
    clock.t += 3_600_000;
    const alert: Alert = {
      alertId: `CKEEP/daysPastDue/${clock.now().toISOString()}`,
      customerId: 'CKEEP',
      rule: 'daysPastDue',
      status: 'open',
      severity: 'critical',
      action: 'cut_limit',
      summary: 'an invoice is 95 days past due',
      evidence: {},
      policyId: POLICY.id,
      openedAt: clock.now().toISOString(),
      openedAsOf: AS_OF,
      seenAsOf: AS_OF,
      notifiedSeverity: 'critical',
      history: [{ at: clock.now().toISOString(), event: 'opened', severity: 'critical' }],
    };
    await env.store.saveEvaluation([{ customerId: 'CKEEP', alerts: [alert] }]);
    const r = rig({ clock });
    const run = await r.reviews.run({ asOf: AS_OF, runId: 'run-4' });
    expect(run.run.selected).toBe(1);
    const review = await reviewStore().getReview('run-4', 'CKEEP');
    expect(review?.due).toMatch(/^at once: critical alert daysPastDue raised after the last review/);
    await env.store.saveEvaluation([
      {
        customerId: 'CKEEP',
        alerts: [{ ...alert, status: 'resolved', resolvedAt: clock.now().toISOString() }],
      },
    ]);
  });
});

describe('failures', () => {
  it('reports a customer whose review fails, and reviews the others', async () => {
    const base = reviewStore();
    const store: ReviewStore = Object.assign(Object.create(base) as ReviewStore, {
      loadCustomerPartition: async (id: string) => {
        if (id === 'CRAISE') throw new Error('partition unreadable');
        return base.loadCustomerPartition(id);
      },
    });
    const run = await rig({ store }).reviews.run({ asOf: '2027-08-01', runId: 'run-fail' });
    expect(run.run.counts?.failed).toBe(1);
    expect(run.run.counts?.reviewed).toBe(3);
    const failed = await base.getReview('run-fail', 'CRAISE');
    expect(failed).toMatchObject({ status: 'failed', error: 'Error: partition unreadable', attention: true });
    const csv = await readFile(run.run.report?.csv as string, 'utf8');
    // The name comes from the file that could not be read: the row has the id, the reason and the error.
    expect(csv).toMatch(
      /\r\nCRAISE,,failed,"scheduled: due on [^"]+",.*,yes,,,Error: partition unreadable\r\n/,
    );
  });

  it('tries a customer again when a read fails once (per-customer retry)', async () => {
    const base = reviewStore();
    let failures = 0;
    const store: ReviewStore = Object.assign(Object.create(base) as ReviewStore, {
      loadCustomerPartition: async (id: string) => {
        if (id === 'CCUT' && failures++ === 0) throw new Error('ProvisionedThroughputExceededException');
        return base.loadCustomerPartition(id);
      },
    });
    const run = await rig({ store }).reviews.run({ asOf: '2028-03-01', runId: 'run-retry' });
    expect(failures).toBe(2);
    expect(run.run.counts).toMatchObject({ reviewed: 4, failed: 0 });
  });

  it('resumes a run that crashed half-way without reviewing anyone twice', async () => {
    const base = reviewStore();
    let crash = true;
    // The process dies after every review of the batch is stored and carried out, before the batch
    // is on the audit trail and marked done: the worst moment to resume from.
    const store: ReviewStore = Object.assign(Object.create(base) as ReviewStore, {
      appendAudit: async (e: Parameters<ReviewStore['appendAudit']>[0]) => {
        if (crash && e.kind === 'review.batch') throw new Error('the process died');
        return base.appendAudit(e);
      },
    });
    const clock = new Clock();
    clock.t = Date.parse('2028-09-01T06:00:00Z');
    const r = rig({ store, clock });
    await expect(r.reviews.run({ asOf: '2028-09-01', runId: 'run-crash' })).rejects.toThrow(
      'the process died',
    );
    const before = await base.reviewsOf('run-crash');
    expect(before.map((x) => x.customerId).sort()).toEqual(['CAPPROVE', 'CCUT', 'CKEEP', 'CRAISE']);
    expect(before.every((x) => x.applied === false)).toBe(true);
    expect((await base.getRun('run-crash'))?.status).toBe('running');

    crash = false;
    clock.t += 3_600_000;
    const resumed = await r.reviews.run({ asOf: '2028-09-01', runId: 'run-crash' });
    expect(resumed.resumed).toBe(true);
    expect(resumed.run.counts).toMatchObject({ reviewed: 4, failed: 0 });
    const after = await base.reviewsOf('run-crash');
    // Reviews stored before the crash keep their time: they were carried on, not made again.
    for (const x of before)
      expect(after.find((y) => y.customerId === x.customerId)?.reviewedAt).toBe(x.reviewedAt);
    const trail = await new DynamoTransferStore({
      client: env.store.client,
      tableName: env.store.tableName,
    }).auditTrail();
    const audited = trail
      .filter((t) => t.kind === 'review.batch' && t.subject === 'run-crash')
      .flatMap((t) => (t.data as { reviews: { customerId: string }[] }).reviews.map((x) => x.customerId));
    expect(audited.sort()).toEqual(['CAPPROVE', 'CCUT', 'CKEEP', 'CRAISE']);
    // Each on the trail once: the crashed attempt appended nothing.
    expect(new Set(audited).size).toBe(audited.length);
  });
});

describe('a batch that fails for good (what the Distributed Map tolerates on AWS)', () => {
  it('reports its customers as failed, saying which were reviewed but not audited', async () => {
    const base = reviewStore();
    const store: ReviewStore = Object.assign(Object.create(base) as ReviewStore, {
      claimReview: async (r: Review) => {
        if (r.customerId === 'CKEEP') throw new Error('ProvisionedThroughputExceededException');
        return base.claimReview(r);
      },
    });
    const clock = new Clock();
    clock.t = Date.parse('2030-01-01T06:00:00Z');
    const r = rig({ store, clock });
    // Locally the inline Map fails with its batch; on AWS the Map tolerates it and the report runs.
    await expect(r.reviews.run({ asOf: '2030-01-01', runId: 'run-tolerated' })).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
    const report = await r.reviews.app.report('run-tolerated');
    expect(report.run.counts).toMatchObject({ reviewed: 0, failed: 4 });
    const keep = await base.getReview('run-tolerated', 'CKEEP');
    expect(keep).toMatchObject({
      status: 'failed',
      applied: true,
      error: 'Error: not reviewed: its batch failed after its retries',
    });
    const cut = await base.getReview('run-tolerated', 'CCUT');
    expect(cut?.error).toMatch(
      /before the review was audited; its outcome \(\w+\) may be partly carried out/,
    );
    const trail = await new DynamoTransferStore({
      client: env.store.client,
      tableName: env.store.tableName,
    }).auditTrail();
    const run = trail.find((t) => t.kind === 'review.run' && t.subject === 'run-tolerated');
    expect(run).toBeDefined();
    expect((run?.data as { notReviewed: string[] } | undefined)?.notReviewed.sort()).toEqual([
      'CAPPROVE',
      'CCUT',
      'CKEEP',
      'CRAISE',
    ]);
  });
});
