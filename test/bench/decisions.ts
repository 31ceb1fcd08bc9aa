/**
 * Decision quality (`npm run bench -- --only=decisions`): what a first periodic review decides on
 * the shipped demo book (as of today) and on IBM's accounts-receivable sample (as of 2013-12-31,
 * the sample's last month), each loaded into a fresh in-memory store through the real ingest,
 * evaluated, then reviewed through the real local stack (the ASL on aws-local-stepfunctions).
 * Approval requests are counted, not sent. It prints the outcomes by rating and every change with
 * its reason, as a credit controller would read them: on a healthy book most limits are kept.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { dateInZone, type IsoDate } from '../../functions/core/dates.ts';
import { formatMinor } from '../../functions/core/money.ts';
import { evaluate } from '../../functions/credit/evaluate.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { canonicalProfile, type Profile } from '../../functions/ingest/profile.ts';
import { ProfileCatalog } from '../../functions/ingest/uploads.ts';
import type { Review } from '../../functions/reviews/review.ts';
import { demoFiles } from '../../infra/local/runtime/demo.ts';
import { loadRank } from '../../infra/local/runtime/inbox.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { localReviewsRuntime } from '../../infra/local/runtime/reviews.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const IBM = join(ROOT, 'test/fixtures/datasets/ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv');
const IBM_AS_OF: IsoDate = '2013-12-31';

export interface DecisionBook {
  readonly name: string;
  readonly asOf: IsoDate;
  readonly reviews: readonly Review[];
  readonly approvalsAsked: number;
  /** Of those, requests for a whole batch. */
  readonly batches: number;
}

type Upload = { readonly name: string; readonly text: string; readonly profile: Profile };

/** Loads the uploads, evaluates as of the date, runs a first review; the store is thrown away. */
async function firstReview(name: string, asOf: IsoDate, uploads: readonly Upload[]): Promise<DecisionBook> {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-decisions-'));
  const env = await openLocal({ inMemory: true });
  const clock = { now: () => new Date(`${asOf}T12:00:00Z`) };
  try {
    for (const u of uploads)
      await ingest(
        { store: env.store, notifier: { customersChanged: async () => {} }, clock, timeZone: 'UTC' },
        {
          source: Readable.from([Buffer.from(u.text, 'utf8')]),
          fileName: u.name,
          objectRef: `bench://${u.name}`,
          profile: u.profile,
          rejects: { write: () => undefined, close: async () => `${u.name}.rejects.csv` },
        },
      );
    const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
    await evaluate(
      {
        store: env.store,
        notifier: { notify: async () => {}, digest: async () => {} },
        policy,
        clock,
        timeZone: 'UTC',
      },
      { asOf },
    );
    let approvalsAsked = 0;
    let batches = 0;
    const reviews = localReviewsRuntime({
      client: env.store.client,
      tableName: env.store.tableName,
      dataDir: dir,
      policy: async () => policy,
      approvals: {
        requestChange: async (r) => {
          approvalsAsked++;
          return { transferId: `TR-BENCH-${r.customerId}` };
        },
        requestBatch: async (run) => {
          approvalsAsked++;
          batches++;
          return { transferId: `TR-BENCH-${run.runId}` };
        },
      },
      timeZone: 'UTC',
      clock,
    });
    const out = await reviews.run({ asOf, trigger: 'manual' });
    return { name, asOf, reviews: await reviews.store.reviewsOf(out.run.runId), approvalsAsked, batches };
  } finally {
    await env.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function demoBook(today: IsoDate): Promise<DecisionBook> {
  const uploads = Object.entries(demoFiles(today)).map(([name, text]) => ({
    name,
    text,
    profile: canonicalProfile(name.split('/')[0] as Kind),
  }));
  // Customers and FX first, as the inbox would settle them.
  uploads.sort((a, b) => loadRank(a.name) - loadRank(b.name));
  return firstReview('demo book', today, uploads);
}

/**
 * IBM's sample as shipped (invoices and settlements only), or with the customer master a team
 * would upload first: one row per customer id with its country, in USD (the profile's currency)
 * and on the 30-day terms every invoice of the sample carries, no credit limit.
 */
export async function ibmBook(withMaster: boolean): Promise<DecisionBook> {
  const text = await readFile(IBM, 'utf8');
  const profile = new ProfileCatalog().get('ibm-accounts-receivable');
  if (!profile) throw new Error('the shipped profile ibm-accounts-receivable is missing');
  const uploads: Upload[] = [{ name: 'profile/ibm-accounts-receivable/ibm.csv', text, profile }];
  if (withMaster)
    uploads.unshift({
      name: 'customers/ibm-customers.csv',
      text: ibmMaster(text),
      profile: canonicalProfile('customers'),
    });
  return firstReview(
    withMaster ? 'IBM sample with a customer master' : 'IBM sample as shipped',
    IBM_AS_OF,
    uploads,
  );
}

function ibmMaster(sample: string): string {
  const [header, ...rows] = sample.trim().split(/\r?\n/);
  const cols = (header ?? '').split(',');
  const country = cols.indexOf('countryCode');
  const id = cols.indexOf('customerID');
  const seen = new Map<string, string>();
  for (const row of rows) {
    const c = row.split(',');
    if (!seen.has(c[id] ?? '')) seen.set(c[id] ?? '', c[country] ?? '');
  }
  const lines = ['customer_id,name,country,currency,payment_terms_days'];
  for (const [customer, cc] of seen) lines.push(`${customer},Customer ${customer},${cc},USD,30`);
  return `${lines.join('\n')}\n`;
}

const OUTCOMES = ['keep', 'cut', 'raise', 'approval'] as const;

/** The outcomes by rating, as numbers (the results file keeps them). */
export function outcomeCounts(b: DecisionBook): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const r of b.reviews) {
    const rating = r.rating ?? '-';
    const o = r.outcome ?? r.status;
    out[rating] = { ...out[rating], [o]: (out[rating]?.[o] ?? 0) + 1 };
  }
  return out;
}

/** The outcomes by rating, as a plain-text table. */
export function outcomeTable(b: DecisionBook): string {
  const ratings = ['A', 'B', 'C', 'D', 'E', '-'];
  const count = (rating: string, outcome: string) =>
    b.reviews.filter((r) => (r.rating ?? '-') === rating && (r.outcome ?? 'failed') === outcome).length;
  const rows = ratings
    .map((rt) => [rt, ...OUTCOMES.map((o) => count(rt, o))])
    .filter((row) => row.slice(1).some((n) => Number(n) > 0));
  const total = ['all', ...OUTCOMES.map((o) => b.reviews.filter((r) => r.outcome === o).length)];
  const lines = [['rating', ...OUTCOMES], ...rows, total].map((cells) =>
    cells.map((c, i) => String(c).padStart(i === 0 ? 6 : 9)).join(' '),
  );
  return lines.join('\n');
}

const money = (v: number | undefined, ccy: string | undefined) =>
  v === undefined ? 'none' : `${formatMinor(v, ccy ?? 'XXX')} ${ccy ?? ''}`.trim();

/** One line per customer whose limit the review changes or asks to change. */
export function changeLines(b: DecisionBook): string[] {
  return b.reviews
    .filter((r) => r.outcome !== 'keep')
    .map(
      (r) =>
        `${r.customerId.padEnd(11)} ${String(r.rating ?? '-').padEnd(2)} ${(r.outcome ?? r.status).padEnd(8)} ${money(r.currentLimit, r.currency)} -> ${money(r.outcome === 'approval' ? r.recommendedLimit : r.limitAfter, r.currency)} (exposure ${money(r.figures?.exposure, r.currency)}): ${r.decision ?? r.error ?? ''}`,
    );
}

export async function benchDecisions(log: (m: string) => void = console.log): Promise<DecisionBook[]> {
  const books = [await demoBook(dateInZone(new Date(), 'UTC')), await ibmBook(false), await ibmBook(true)];
  for (const b of books) {
    log(
      `\n${b.name}, first review as of ${b.asOf}: ${b.reviews.length} customers, ${b.approvalsAsked} approval requests${b.batches > 0 ? ' (one batch)' : ''}`,
    );
    log(outcomeTable(b));
    for (const line of changeLines(b)) log(`  ${line}`);
  }
  return books;
}

/** Run on its own: `npx tsx test/bench/decisions.ts` (or `npm run bench -- --only=decisions`). */
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await benchDecisions();
