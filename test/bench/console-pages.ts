/**
 * The console benchmark's other pages (issue 15, item 3): on top of the generated book
 * (console-book.ts), what those pages list, written once into the same data dir:
 *
 * - alerts: an open one on every 20th customer (5,000; severities in turn) and 2,000 resolved;
 * - transfers: 120 refunds requested through the real local transfer workflow, each waiting at its
 *   first level (so the Approvals page lists their approvers), the approval emails in the outbox;
 * - ingest runs: 40 small FX files ingested, every 8th with a rejected row;
 * - a review run of 10,000 customers (what a daily run reviews at 100,000 customers: README
 *   "Periodic review"), its reviews stored as a run's batches store them;
 * - a large customer (`CLBIG`): 5,000 invoices and 1,500 payments.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import { statementAsOf } from '../../functions/core/receivables.ts';
import type { Invoice, Payment } from '../../functions/core/records.ts';
import type { Alert } from '../../functions/credit/alerts.ts';
import { policyInForce, RATINGS, type RuleName, SEVERITIES } from '../../functions/credit/policy.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import type { StoredRecord } from '../../functions/ingest/ports.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import type { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import type { ReviewRun } from '../../functions/reviews/ports.ts';
import type { Review, ReviewState } from '../../functions/reviews/review.ts';
import { limitApprovals } from '../../functions/transfers/app.ts';
import { parseApprovalPolicy } from '../../functions/transfers/approval-policy.ts';
import type { ConsoleOptions } from '../../infra/local/console/options.ts';
import type { LocalEnv } from '../../infra/local/runtime/index.ts';
import { opsSummary } from '../../infra/local/runtime/ops.ts';
import { type LocalReviewsRuntime, localReviewsRuntime } from '../../infra/local/runtime/reviews.ts';
import {
  consoleTransfers,
  type LocalTransfers,
  listMail,
  localTransfers,
} from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT, DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { idOf } from './console-book.ts';

export const BIG_CUSTOMER = 'CLBIG';
export const REVIEW_RUN_ID = 'review-bench-10k';
const ALERT_EVERY = 20;
const RESOLVED = 2_000;
const TRANSFERS = 120;
const RUNS = 40;
const REVIEWED = 10_000;
const BIG_INVOICES = 5_000;
const BIG_PAYMENTS = 1_500;

/** The stores and workflows the console's other pages read, as `sentinel start` wires them. */
export interface PagesRuntime {
  readonly transfers: LocalTransfers;
  readonly reviews: LocalReviewsRuntime;
  /** The console's options beyond the customers' (credit, transfers, reviews, ops). */
  options(queries: ReceivablesQueries, consoleUrl: () => string): Partial<ConsoleOptions>;
  close(): Promise<void>;
}

export async function pagesRuntime(env: LocalEnv, dir: string, asOf: IsoDate): Promise<PagesRuntime> {
  const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
  const approval = parseApprovalPolicy(DEFAULT_APPROVAL_POLICY_DOCUMENT);
  if (!approval.ok) throw new Error('the default approval policy is invalid');
  let url: (() => string) | undefined;
  const transfers = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy: async () => policy,
    approvalPolicy: async () => approval.policy,
    dataDir: dir,
    clock: { now: () => new Date() },
    today: () => asOf,
    baseUrl: () => url?.() ?? 'http://127.0.0.1:8787',
  });
  const reviews = localReviewsRuntime({
    client: env.store.client,
    tableName: env.store.tableName,
    dataDir: dir,
    policy: async () => policy,
    approvals: limitApprovals(transfers.app),
    timeZone: 'UTC',
  });
  return {
    transfers,
    reviews,
    options: (queries, consoleUrl) => {
      url = consoleUrl;
      return {
        credit: { store: env.store, policy: async () => policy },
        transfers: consoleTransfers(transfers, dir),
        reviews: reviews.console,
        ops: () =>
          opsSummary({
            dataDir: dir,
            timeZone: 'UTC',
            alerts: env.store,
            approvals: transfers.store,
            runs: queries,
          }),
      };
    },
    close: async () => {
      await reviews.idle();
      await transfers.idle();
    },
  };
}

/**
 * The k-th generated alert on a customer: an open one (`daysPastDue`, severities in turn, opened
 * over the last 30 days) or a resolved one (`coverExpiring`).
 */
const alertOf = (customerId: string, k: number, asOf: IsoDate, resolved: boolean): Alert => {
  const openedAt = `${addDays(asOf, -(k % 30))}T05:00:00.000Z`;
  const severity = SEVERITIES[k % SEVERITIES.length] as Alert['severity'];
  const rule: RuleName = resolved ? 'coverExpiring' : 'daysPastDue';
  return {
    alertId: `${customerId}/${rule}/${openedAt.slice(0, 10)}`,
    customerId,
    rule,
    status: resolved ? 'resolved' : 'open',
    severity,
    action: 'review',
    summary: `${rule} for ${customerId}: generated for the benchmark`,
    evidence: { daysPastDue: 30 + (k % 90), overdueAmount: `${(k % 50) * 1000}.00 EUR` },
    policyId: 'bench',
    openedAt,
    openedAsOf: openedAt.slice(0, 10),
    seenAsOf: asOf,
    notifiedSeverity: severity,
    ...(resolved ? { resolvedAt: `${asOf}T09:00:00.000Z` } : {}),
    history: [
      { at: openedAt, event: 'opened', severity },
      ...(resolved ? [{ at: `${asOf}T09:00:00.000Z`, event: 'resolved' as const, by: 'bench' }] : []),
    ],
  } as Alert;
};

async function seedAlerts(env: LocalEnv, customers: number, asOf: IsoDate): Promise<void> {
  const writes: { customerId: string; alerts: Alert[] }[] = [];
  for (let k = 0; k * ALERT_EVERY < customers; k++) {
    const id = idOf(k * ALERT_EVERY);
    writes.push({ customerId: id, alerts: [alertOf(id, k, asOf, false)] });
  }
  for (let k = 0; k < RESOLVED && k * ALERT_EVERY + 7 < customers; k++) {
    const id = idOf(k * ALERT_EVERY + 7);
    writes.push({ customerId: id, alerts: [alertOf(id, k, asOf, true)] });
  }
  for (let s = 0; s < writes.length; s += 500) await env.store.saveEvaluation(writes.slice(s, s + 500));
}

async function seedRuns(env: LocalEnv, asOf: IsoDate): Promise<void> {
  for (let r = 0; r < RUNS; r++) {
    const lines = ['date,base,quote,rate'];
    for (let d = 0; d < 20; d++)
      lines.push(`${addDays(asOf, -d - r * 20)},USD,CHF,${(0.9 + d / 1000).toFixed(4)}`);
    if (r % 8 === 0) lines.push(`${asOf},USD,CHF,not-a-rate`);
    const key = `fx/bench-fx-${String(r).padStart(3, '0')}.csv`;
    await ingest(
      {
        store: env.store,
        notifier: { customersChanged: async () => {} },
        clock: { now: () => new Date() },
        timeZone: 'UTC',
      },
      {
        source: (async function* () {
          yield new TextEncoder().encode(lines.join('\n'));
        })(),
        fileName: key,
        objectRef: `bench://${key}`,
        profile: canonicalProfile('fx'),
        rejects: { write: () => undefined, close: async () => `${key}.rejects.csv` },
      },
    );
  }
}

async function seedBigCustomer(env: LocalEnv, asOf: IsoDate): Promise<void> {
  const from = { runId: 'console-pages', line: 0 };
  const invoices: Invoice[] = [];
  const payments: Payment[] = [];
  for (let k = 0; k < BIG_INVOICES; k++) {
    const issueDate = addDays(asOf, -Math.floor((k * 720) / BIG_INVOICES));
    invoices.push({
      customerId: BIG_CUSTOMER,
      invoiceId: `${BIG_CUSTOMER}-I${k}`,
      issueDate,
      dueDate: addDays(issueDate, 30),
      amount: 10_000 + ((k * 7919) % 500_000),
      currency: 'EUR',
      disputed: k % 97 === 0,
    });
  }
  for (let k = 0; k < BIG_PAYMENTS; k++)
    payments.push({
      customerId: BIG_CUSTOMER,
      paymentId: `${BIG_CUSTOMER}-P${k}`,
      receivedDate: addDays(asOf, -Math.floor((k * 700) / BIG_PAYMENTS) - 5),
      amount: 200_000 + ((k * 104_729) % 300_000),
      currency: 'EUR',
      invoiceIds: k % 3 === 0 ? [`${BIG_CUSTOMER}-I${BIG_INVOICES - 1 - k}`] : [],
    });
  const records: StoredRecord[] = [
    {
      kind: 'customers',
      row: {
        customerId: BIG_CUSTOMER,
        name: 'Big Distribution AG',
        currency: 'EUR',
        creditLimit: 900_000_000,
        paymentTermsDays: 30,
      },
      from,
    },
    ...invoices.map((row) => ({ kind: 'invoices' as const, row, from })),
    ...payments.map((row) => ({ kind: 'payments' as const, row, from })),
  ];
  for (let s = 0; s < records.length; s += 1_000) await env.store.write(records.slice(s, s + 1_000));
  const summary = statementAsOf(
    { customerId: BIG_CUSTOMER, currency: 'EUR', invoices, payments },
    asOf,
  ).summary;
  await env.store.saveDerived([{ customerId: BIG_CUSTOMER, summary, applications: [] }]);
}

async function seedTransfers(rt: PagesRuntime, log: (m: string) => void): Promise<void> {
  let asked = 0;
  for (let i = 1; asked < TRANSFERS && i < TRANSFERS * 3; i++) {
    const r = await rt.transfers.app.request({
      customerId: idOf(i * 13 + 1),
      type: 'refund',
      amount: `${1_000 + i * 37}.00`,
      currency: 'EUR',
      beneficiaryName: `Beneficiary ${i} Ltd`,
      beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
      reason: `refund of credit note CN-${i}`,
      requester: 'rita',
    });
    if (r.ok) asked++;
  }
  log(`  ${asked} transfers requested; waiting for their first level...`);
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const waiting = (await rt.transfers.store.listPendingApprovals()).length;
    const list = await rt.transfers.app.list();
    const gated = list.filter((t) => t.status !== 'pending' || t.level !== undefined).length;
    if (gated >= asked || Date.now() > deadline) {
      log(`  ${gated} of ${asked} transfers past the gate, ${waiting} approvals waiting`);
      return;
    }
    await new Promise((ok) => setTimeout(ok, 500));
  }
}

async function seedReviews(rt: PagesRuntime, asOf: IsoDate, policyId: string): Promise<void> {
  const store = rt.reviews.store;
  const startedAt = new Date().toISOString();
  const outcomes = ['keep', 'keep', 'keep', 'keep', 'cut', 'raise', 'approval'] as const;
  const base: ReviewRun = {
    runId: REVIEW_RUN_ID,
    asOf,
    policyId,
    trigger: 'schedule',
    startedAt,
    status: 'running',
    selected: REVIEWED,
    manifest: { Bucket: 'bench', Key: `${REVIEW_RUN_ID}.json` },
  };
  await store.createRun(base);
  const counts = {
    reviewed: 0,
    failed: 0,
    outcomes: { keep: 0, cut: 0, raise: 0, approval: 0 },
    ratingUp: 0,
    ratingDown: 0,
    attention: 0,
  };
  for (let s = 0; s < REVIEWED; s += 100) {
    const reviews: Review[] = [];
    const states: ReviewState[] = [];
    for (let i = s; i < Math.min(REVIEWED, s + 100); i++) {
      const customerId = idOf(i * 10);
      const score = (i * 37) % 101;
      const rating = RATINGS[Math.min(4, Math.floor((100 - score) / 20))] as Review['rating'] & string;
      const outcome = outcomes[i % outcomes.length] as (typeof outcomes)[number];
      const limit = 100_000_00 + (i % 50) * 1_000_00;
      const after = outcome === 'cut' ? limit - 20_000_00 : outcome === 'raise' ? limit + 5_000_00 : limit;
      const attention = i % 9 === 0;
      const reviewedAt = new Date().toISOString();
      const review = {
        reviewId: `${REVIEW_RUN_ID}/${customerId}`,
        runId: REVIEW_RUN_ID,
        customerId,
        name: `Company ${i * 10}`,
        asOf,
        reviewedAt,
        policyId,
        due: i % 3 === 0 ? 'high risk: monthly' : 'medium risk: quarterly',
        status: 'done',
        currency: 'EUR',
        score,
        rating,
        riskClass: score >= 60 ? 'low' : score >= 30 ? 'medium' : 'high',
        currentLimit: limit,
        recommendedLimit: after,
        outcome,
        decision: `${outcome}: generated for the benchmark`,
        limitAfter: outcome === 'approval' ? limit : after,
        ...(outcome === 'approval' ? { askedLimit: limit + 50_000_00, request: 'increase' as const } : {}),
        nextReviewOn: addDays(asOf, 90),
        attention,
        applied: true,
      } as Review;
      reviews.push(review);
      states.push({
        customerId,
        reviewId: review.reviewId,
        reviewedOn: asOf,
        reviewedAt,
        nextReviewOn: addDays(asOf, 90),
        rating: rating as ReviewState['rating'],
        score,
        riskClass: review.riskClass as ReviewState['riskClass'],
        currency: 'EUR',
        limit: review.limitAfter,
      });
      counts.reviewed++;
      counts.outcomes[outcome]++;
      if (attention) counts.attention++;
    }
    await Promise.all(reviews.map((r) => store.claimReview(r)));
    await store.completeBatch({ reviews, states, limitChanges: [] });
  }
  await store.putRun({ ...base, status: 'done', finishedAt: new Date().toISOString(), counts });
}

/**
 * Writes the other pages' data, each part once: a marker file per part in `dir` says it is there
 * (a part changed later gets a new marker name, so only it is written again).
 */
export async function seedConsolePages(
  env: LocalEnv,
  rt: PagesRuntime,
  dir: string,
  customers: number,
  asOf: IsoDate,
  log: (m: string) => void,
): Promise<void> {
  const parts: [string, () => Promise<void>][] = [
    ['alerts-v2', () => seedAlerts(env, customers, asOf)],
    ['runs', () => seedRuns(env, asOf)],
    ['large-customer', () => seedBigCustomer(env, asOf)],
    ['transfers', () => seedTransfers(rt, log)],
    ['review-run', () => seedReviews(rt, asOf, 'bench')],
  ];
  for (const [part, seed] of parts) {
    const done = join(dir, `console-pages-${part}.done`);
    if (existsSync(done)) continue;
    const t0 = performance.now();
    log(`seeding the console's other pages: ${part} (once)...`);
    await seed();
    log(`  ${part} stored in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    await writeFile(done, new Date().toISOString());
  }
}

/** The other pages' cases: [name, path]. The approval page's path comes from an email in the outbox. */
export async function pageCases(
  dir: string,
  asOf: IsoDate,
  queries: ReceivablesQueries,
): Promise<[string, string][]> {
  const mail = (await listMail(dir)).find((m) => m.file.includes('-approve-'));
  const link = mail?.text.match(/https?:\/\/\S+(\/approvals\/\S+)/)?.[1];
  const runs = await queries.runsPage({ size: 100 });
  const rejected = runs.items.find((r) => r.rejected > 0) ?? runs.items[0];
  return [
    ['alerts: first page (active)', '/alerts'],
    ['alerts: a filter (critical, open)', '/alerts?status=open&severity=critical'],
    ['alerts: resolved', '/alerts?status=resolved'],
    ['approvals', '/approvals'],
    ['transfers', '/transfers'],
    ['runs', '/runs'],
    ...(rejected
      ? ([['a run (with rejects)', `/runs/${encodeURIComponent(rejected.runId)}`]] as [string, string][])
      : []),
    ['reviews', '/reviews'],
    ['a review run (10,000 reviewed)', `/reviews/${REVIEW_RUN_ID}`],
    ['a review run, attention only', `/reviews/${REVIEW_RUN_ID}?attention=1`],
    ['ops', '/ops'],
    [
      `a large customer (${BIG_INVOICES.toLocaleString('en-US')} invoices, ${BIG_PAYMENTS.toLocaleString('en-US')} payments)`,
      `/customers/${BIG_CUSTOMER}?asOf=${asOf}`,
    ],
    ...(link ? ([['the approval page', link]] as [string, string][]) : []),
  ];
}
