import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DynamoReviewStore } from '../../functions/adapters/dynamodb-reviews.ts';
import type { FaultSpec } from '../../functions/adapters/faults.ts';
import type { Notification } from '../../functions/credit/alerts.ts';
import { evaluate } from '../../functions/credit/evaluate.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import type { LimitApprovals } from '../../functions/reviews/ports.ts';
import type { Review } from '../../functions/reviews/review.ts';
import type { ApprovalNotice, ApprovalNotifier } from '../../functions/transfers/ports.ts';
import { demoFiles } from '../../infra/local/runtime/demo.ts';
import { injectedFaults, type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import {
  FileManifestStore,
  LocalReviews,
  OutboxReportStore,
  OutboxReviewNotifier,
} from '../../infra/local/runtime/reviews.ts';
import { localTransfers } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { approvalPolicyWith } from './transfers-console.ts';

/**
 * The whole local pipeline with a share of the store's calls failing (the fault seam of
 * functions/adapters/faults.ts on the DynamoDB client): ingest the demo book, evaluate it, run a
 * periodic review, walk a transfer through its approval levels. Each step is retried as its
 * platform retries it (SQS redelivery, the next run, Step Functions' Retry) and the final state
 * must equal the same run's without faults: every stored item, what people were told, the review
 * report and the transfer's end.
 */
const TODAY = '2026-11-23';
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
const ORDER: Kind[] = [
  'customers',
  'fx',
  'financials',
  'guarantees',
  'insurance',
  'scores',
  'invoices',
  'payments',
];

class Clock {
  t = Date.parse(`${TODAY}T05:00:00Z`);
  now = () => new Date(this.t);
}

/** Runs a step again when it fails, as its platform would; counts the retries. */
async function retried<T>(what: string, log: string[], step: () => Promise<T>, tries = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await step();
    } catch (e) {
      log.push(`${what}: ${(e as Error).name}: ${(e as Error).message}`);
      if (i >= tries) throw e;
    }
  }
}

/** Keeps every approval notice and waits for the one a test expects. */
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

/** The review's approvals, answered at once (the real chain is the transfer's, walked below). */
class Approvals implements LimitApprovals {
  readonly asked: string[] = [];
  async requestChange(r: Review) {
    if (!this.asked.includes(r.customerId)) this.asked.push(r.customerId);
    return { transferId: `TR-${r.customerId}` };
  }
  async requestBatch(run: { runId: string }, reviews: readonly Review[]) {
    for (const r of reviews) if (!this.asked.includes(r.customerId)) this.asked.push(r.customerId);
    return { transferId: `TR-BATCH-${run.runId}` };
  }
}

export interface Outcome {
  readonly items: string[];
  readonly told: string[];
  readonly reviewAsked: string[];
  readonly reviewCounts: unknown;
  readonly reviewReport: string;
  readonly transfer: string | undefined;
  readonly retries: string[];
  readonly faults: number;
}

/**
 * Attributes that name who wrote an item, not what was decided; and the audit chain's hashes,
 * made over the transfer's random id (the chain is verified on its own elsewhere).
 */
const VOLATILE = new Set(['claimant', 'hash', 'prevHash']);

/** Every item of the table, the volatile attributes left out and the transfer's random id named alike. */
async function items(env: LocalEnv, transferIds: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await env.store.client.send(
      new ScanCommand({ TableName: env.store.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const i of page.Items ?? []) {
      const it = unmarshall(i);
      if (it.pk === 'SCHEMA') continue; // the table's own upgrade marks, dated by the wall clock
      for (const k of Object.keys(it)) if (VOLATILE.has(k)) delete it[k];
      // The ingest's change counter (an ADD): a lost response counts one change twice, which costs
      // one more look for changes, never a figure (seeds 37 and 38 of a 45-seed sweep).
      if (it.type === 'ingest-epoch') delete it.epoch;
      // The trail's records are compared as a set: under faults the level-2 decision's record can
      // land after the request of level 3 it led to (reported; the trail is the approvals' area).
      if (it.type === 'audit-once') {
        delete it.seq;
        delete it.from; // the seq its step noted before appending: where the trail stood then
      }
      if (it.type === 'audit' && typeof it.seq === 'number') {
        it.sk = 'SEQ#';
        delete it.seq;
      }
      // An approval's id and task token are random: it is named by its level and approver.
      // A level's record names the approval that decided it by that approval's random id.
      if (it.type === 'level') delete it.decidedApproval;
      if (it.type === 'approval') {
        it.sk = `APPROVAL#${it.level}#${it.approver}`;
        delete it.approvalId;
        delete it.taskToken;
      }
      let text = JSON.stringify(it, Object.keys(it).sort());
      for (const id of transferIds) text = text.replaceAll(id, 'TR-X');
      out.push(text);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  // The same item twice (an audit record appended twice, say) is a difference too.
  const seen = new Map<string, number>();
  return out.sort().map((x) => {
    const n = (seen.get(x) ?? 0) + 1;
    seen.set(x, n);
    return n === 1 ? x : `${x} (copy ${n})`;
  });
}

export async function scenario(faults: FaultSpec | undefined): Promise<Outcome> {
  const dir = await mkdtemp(join(tmpdir(), 'faults-'));
  const before = injectedFaults.length;
  const env = await openLocal({ inMemory: true, dataDir: dir, faults });
  const retries: string[] = [];
  try {
    const clock = new Clock();
    const files = demoFiles(TODAY);
    // 1. Ingest, each file as one upload (the inbox or SQS redelivers a failed one).
    for (const kind of ORDER)
      for (const [key, text] of Object.entries(files).filter(([k]) => k.startsWith(`${kind}/`))) {
        const bytes = Buffer.from(text, 'utf8');
        await retried(`ingest ${key}`, retries, () =>
          ingest(
            {
              store: env.store,
              notifier: { customersChanged: async () => undefined },
              clock,
              timeZone: 'UTC',
            },
            {
              source: Readable.from([bytes]),
              sizeBytes: bytes.length,
              fileName: key,
              objectRef: `test://${key}`,
              runId: `demo-${kind}`,
              profile: canonicalProfile(kind),
              rejects: { write: () => undefined, close: async () => `${key}.rejects.csv` },
            },
          ),
        );
      }
    // 2. Evaluate every customer as of today (the next run retries a failed one).
    clock.t += 60_000;
    const told: Notification[] = [];
    await retried('evaluate', retries, () =>
      evaluate(
        {
          store: env.store,
          notifier: { notify: async (ns) => void told.push(...ns), digest: async () => undefined },
          policy,
          clock,
          timeZone: 'UTC',
          claimant: 'evaluation',
        },
        { asOf: TODAY },
      ),
    );
    // 3. A periodic review of the book (its steps retried by the state machine).
    clock.t += 60_000;
    const approvals = new Approvals();
    const reviewStore = new DynamoReviewStore({ client: env.store.client, tableName: env.store.tableName });
    const reviews = new LocalReviews(
      {
        store: reviewStore,
        manifests: new FileManifestStore(dir),
        reports: new OutboxReportStore(dir),
        notifier: new OutboxReviewNotifier(dir),
        approvals,
        policy: async () => policy,
        clock,
        timeZone: 'UTC',
        retryBaseMs: 1,
        changes: { customersChanged: async () => undefined },
      },
      { retryIntervals: { SelectDue: 0, ReviewBatch: 0, Report: 0 } },
    );
    const review = await retried('review', retries, () => reviews.run({ asOf: TODAY, runId: 'review-1' }));
    const reviewReport = review.run.report?.csv ? await readFile(review.run.report.csv, 'utf8') : '';
    // 4. A refund through its approval levels, from the emailed links.
    clock.t += 60_000;
    const capture = new Capture();
    const t = await localTransfers({
      client: env.store.client,
      tableName: env.store.tableName,
      creditStore: env.store,
      creditPolicy: async () => policy,
      approvalPolicy: async () => approvalPolicyWith(() => {}),
      dataDir: dir,
      clock,
      today: () => TODAY,
      baseUrl: () => 'http://approvals.test',
      notifier: capture,
    });
    const call = (method: string, path: string, body = '', headers: Record<string, string> = {}) =>
      t.http({ method, path, headers, body });
    const res = await call(
      'POST',
      '/transfers',
      JSON.stringify({
        customerId: 'C1001',
        type: 'refund',
        amount: '2500.00',
        currency: 'EUR',
        beneficiaryName: 'Unknown Ltd',
        beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
        reason: 'credit note refund',
        requester: 'rita',
      }),
    );
    let transfer: string | undefined = `request answered ${res.status}`;
    const transferIds: string[] = [];
    if (res.status === 201) {
      const { transferId } = (JSON.parse(res.body) as { transfer: { transferId: string } }).transfer;
      transferIds.push(transferId);
      // The levels are the gate's (a workflow step): approve each as its email comes, to the last.
      for (let level = 1; level <= 5; level++) {
        const at = (x: ApprovalNotice) =>
          x.kind === 'approve' && x.transfer.transferId === transferId && x.level.level === level;
        await capture.next(at);
        // The same approver each run: the first of the level's by id (the level's emails go one
        // by one through the outbox, so the choice is made from the stored approvals, not from
        // whichever emails have gone so far).
        const asked = ((await t.app.show(transferId))?.approvals ?? [])
          .filter((a) => a.level === level)
          .map((a) => a.approver)
          .sort();
        const first = asked[0];
        const n = (await capture.next((x) => at(x) && x.to.id === first)) as ApprovalNotice & {
          kind: 'approve';
        };
        const body = new URLSearchParams({
          decision: 'approve',
          email: `${n.to.id}@example.com`,
          comment: '',
        });
        const page = await call('POST', new URL(n.url).pathname, body.toString(), {
          'content-type': 'application/x-www-form-urlencoded',
        });
        // An approver is told what happened, whatever failed behind the page: a refusal here
        // would leave the transfer waiting, so it ends the scenario with the page's words.
        if (page.status !== 200)
          throw new Error(
            `level ${level}: the approval page answered ${page.status}: ${pageText(page.body)}`,
          );
        if (page.body.includes('last level')) break;
      }
      const found = (await t.app.show(transferId))?.transfer;
      await t.workflow.execution(found?.executionId as string)?.done;
      transfer = (await t.app.show(transferId))?.transfer.status;
    }
    return {
      items: await items(env, transferIds),
      told: told.map((n) => `${n.reason} ${n.alert.alertId} ${n.alert.notifiedSeverity}`).sort(),
      reviewAsked: approvals.asked.sort(),
      reviewCounts: review.run.counts,
      reviewReport,
      transfer,
      retries,
      faults: injectedFaults
        .slice(before)
        .reduce((s, c) => s + Object.values(c.injected).reduce((a, b) => a + b, 0), 0),
    };
  } finally {
    await env.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const pageText = (html: string) =>
  html
    .replace(/<style[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 400);

/** Items in one outcome and not the other, a few of each, for the failure message. */
export function differences(a: readonly string[], b: readonly string[]): string[] {
  const sa = new Set(a);
  const sb = new Set(b);
  return [
    ...a
      .filter((x) => !sb.has(x))
      .slice(0, 3)
      .map((x) => `- ${x.slice(0, 400)}`),
    ...b
      .filter((x) => !sa.has(x))
      .slice(0, 3)
      .map((x) => `+ ${x.slice(0, 400)}`),
  ];
}
