import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AuditEvent } from '../core/audit.ts';
import type { Page, PageRequest } from '../core/paging.ts';
import type { Alert } from '../credit/alerts.ts';
import type { CustomerPartition } from '../credit/ports.ts';
import type { LimitChange, ReviewRun, ReviewStore, RunReviewsFilter } from '../reviews/ports.ts';
import type { Review, ReviewState } from '../reviews/review.ts';
import { DynamoStore, type ListSpec, MARSHALL, SUMMARY_SHARDS, shardOf, strip } from './dynamodb.ts';
import { DynamoTransferStore, type DynamoTransferStoreOptions } from './dynamodb-transfers.ts';
import { TABLE_SCHEMA } from './table-schema.ts';

/**
 * Periodic reviews in the single table (README "Data model"):
 *
 *   pk                     sk                        item
 *   REVIEWRUN#<run>        RUN                       the run (gsi1: REVIEWRUNS / <started at>#<run>)
 *   REVIEWRUN#<run>#<0..15> CUST#<customer>          a customer's review in the run, in one of 16 shards
 *                                                    by customer (so a million-customer run writes to 16
 *                                                    partitions, not one hot one); written first with
 *                                                    a condition, so a retried batch finds it)
 *   HIST#<customer>        REVIEW#<as of>#<run>      the same review, in the customer's history
 *   CUST#<customer>        REVIEW                    where the customer stands after its last review
 *                                                    (gsi1: REVIEWSTATE#<shard> / customer)
 *   CUST#<customer>        LIMIT#<on>#<review>       a limit a review set; PROFILE holds the limit in force
 */
const GSI = TABLE_SCHEMA.gsi;
const runPk = (runId: string) => `REVIEWRUN#${runId}`;
/** The partition of a customer's review in a run: one of SUMMARY_SHARDS, by customer. */
const reviewPk = (runId: string, customerId: string) => `REVIEWRUN#${runId}#${shardOf(customerId)}`;
const reviewKey = (runId: string, customerId: string) => ({
  pk: { S: reviewPk(runId, customerId) },
  sk: { S: `CUST#${customerId}` },
});
/**
 * What the run's lists read of each review: everything but the factors, which only a customer's
 * own review page needs (a million reviews fit the report step's memory this way). The figures
 * and the limit's basis are listed: the report and a batch of approvals show them for every change.
 */
const LISTED: readonly string[] = [
  'reviewId',
  'runId',
  'customerId',
  'name',
  'asOf',
  'reviewedAt',
  'policyId',
  'due',
  'status',
  'error',
  'currency',
  'previous',
  'score',
  'rating',
  'riskClass',
  'currentLimit',
  'recommendedLimit',
  'thinHistory',
  'outcome',
  'rule',
  'request',
  'decision',
  'basis',
  'figures',
  'limitAfter',
  'askedLimit',
  'nextReviewOn',
  'attention',
  'transferId',
  'applied',
];
const RUN_SK = 'RUN';
const RUNS = 'REVIEWRUNS';
const KEYS = ['pk', 'sk', 'type', GSI.partitionKey, GSI.sortKey] as const;

const isConditionFailure = (e: unknown): boolean =>
  e instanceof ConditionalCheckFailedException ||
  (e instanceof Error && e.name === 'ConditionalCheckFailedException');

export class DynamoReviewStore implements ReviewStore {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  private readonly store: DynamoStore;
  private readonly transfers: DynamoTransferStore;

  /** `auditKey` and `auditAnchor`: as for the transfer store, whose audit trail reviews append to. */
  constructor(opts: DynamoTransferStoreOptions) {
    this.client = opts.client;
    this.tableName = opts.tableName;
    this.store = new DynamoStore({ client: opts.client, tableName: opts.tableName });
    this.transfers = new DynamoTransferStore(opts);
  }

  listCustomerIds(): Promise<string[]> {
    return this.store.listCustomerIds();
  }

  listAlerts(which: 'active'): Promise<Alert[]> {
    return this.store.listAlerts(which);
  }

  loadCustomerPartition(customerId: string): Promise<CustomerPartition> {
    return this.store.loadCustomerPartition(customerId);
  }

  appendAudit(e: AuditEvent, opts?: { readonly once?: string }): Promise<unknown> {
    return this.transfers.appendAudit(e, opts);
  }

  async reviewStates(): Promise<ReviewState[]> {
    const out: ReviewState[] = [];
    await Promise.all(
      Array.from({ length: SUMMARY_SHARDS }, async (_, shard) => {
        for await (const it of this.store.query({
          IndexName: GSI.name,
          KeyConditionExpression: '#p = :p',
          ExpressionAttributeNames: { '#p': GSI.partitionKey },
          ExpressionAttributeValues: { ':p': { S: `REVIEWSTATE#${shard}` } },
        }))
          out.push(strip<ReviewState>(it, KEYS));
      }),
    );
    return out.sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
  }

  async getReviewState(customerId: string): Promise<ReviewState | undefined> {
    return this.get<ReviewState>(`CUST#${customerId}`, 'REVIEW');
  }

  async saveReviewState(s: ReviewState): Promise<void> {
    await this.put(this.stateItem(s));
  }

  private stateItem(s: ReviewState): Record<string, unknown> {
    return {
      ...s,
      pk: `CUST#${s.customerId}`,
      sk: 'REVIEW',
      type: 'review-state',
      [GSI.partitionKey]: `REVIEWSTATE#${shardOf(s.customerId)}`,
      [GSI.sortKey]: s.customerId,
    };
  }

  private limitItem(c: LimitChange): Record<string, unknown> {
    return { ...c, pk: `CUST#${c.customerId}`, sk: `LIMIT#${c.on}#${c.reviewId}`, type: 'limit-change' };
  }

  async createRun(run: ReviewRun): Promise<ReviewRun> {
    try {
      await this.put(this.runItem(run), 'attribute_not_exists(pk)');
      return run;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      return (await this.getRun(run.runId)) as ReviewRun;
    }
  }

  async putRun(run: ReviewRun): Promise<void> {
    await this.put(this.runItem(run));
  }

  private runItem(run: ReviewRun) {
    return {
      ...run,
      pk: runPk(run.runId),
      sk: RUN_SK,
      type: 'review-run',
      [GSI.partitionKey]: RUNS,
      [GSI.sortKey]: `${run.startedAt}#${run.runId}`,
    };
  }

  getRun(runId: string): Promise<ReviewRun | undefined> {
    return this.get<ReviewRun>(runPk(runId), RUN_SK);
  }

  private static readonly RUNS: ListSpec = {
    index: GSI.name,
    partitionKey: GSI.partitionKey,
    partitions: [RUNS],
    sortKey: GSI.sortKey,
    descending: true,
  };

  /** The runs, newest first: every one, or the newest `limit` when the caller says how many. */
  async listRuns(limit?: number): Promise<ReviewRun[]> {
    const spec = DynamoReviewStore.RUNS;
    const items = limit === undefined ? await this.store.allOf(spec) : await this.store.firstOf(spec, limit);
    return items.map((it) => strip<ReviewRun>(it, KEYS));
  }

  /** A page of the runs, newest first, with how many there are. */
  async runsPage(req: PageRequest): Promise<Page<ReviewRun>> {
    const p = await this.store.pageOf(DynamoReviewStore.RUNS, req);
    return { ...p, items: p.items.map((it) => strip<ReviewRun>(it, KEYS)) };
  }

  getReview(runId: string, customerId: string): Promise<Review | undefined> {
    return this.get<Review>(reviewPk(runId, customerId), `CUST#${customerId}`);
  }

  async claimReview(r: Review): Promise<Review> {
    try {
      await this.put(
        { ...r, pk: reviewPk(r.runId, r.customerId), sk: `CUST#${r.customerId}`, type: 'review' },
        'attribute_not_exists(pk)',
      );
      return r;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      return (await this.getReview(r.runId, r.customerId)) as Review;
    }
  }

  async reviewsIn(runId: string, customerIds: readonly string[]): Promise<Map<string, Review>> {
    const out = new Map<string, Review>();
    await this.store.batchGetKeys(
      [...new Set(customerIds)].map((id) => reviewKey(runId, id)),
      { consistent: true },
      (it) => {
        const r = strip<Review>(it, KEYS);
        out.set(r.customerId, r);
      },
    );
    return out;
  }

  async completeBatch(done: {
    readonly reviews: readonly Review[];
    readonly states: readonly ReviewState[];
    readonly limitChanges: readonly LimitChange[];
  }): Promise<void> {
    const items: Record<string, unknown>[] = [];
    for (const r of done.reviews) {
      items.push({ ...r, pk: reviewPk(r.runId, r.customerId), sk: `CUST#${r.customerId}`, type: 'review' });
      items.push({ ...r, pk: `HIST#${r.customerId}`, sk: `REVIEW#${r.asOf}#${r.runId}`, type: 'review' });
    }
    for (const s of done.states) items.push(this.stateItem(s));
    for (const c of done.limitChanges) items.push(this.limitItem(c));
    await this.store.batchWrite(items.map((Item) => ({ PutRequest: { Item: marshall(Item, MARSHALL) } })));
  }

  /**
   * A run's reviews (the listed fields), by customer: its 16 shards read in parallel and merged.
   * With `attention`, only those that need a person's attention; with `outcome`, those that ended
   * so (`failed`: the reviews that failed). A FilterExpression: the store still pages and counts.
   */
  private runReviews(runId: string, filter: RunReviewsFilter = {}): ListSpec {
    // The sort key too: the shards are merged by it (it is stripped from what is returned).
    const names = Object.fromEntries([...LISTED, 'sk'].map((a, i) => [`#a${i}`, a]));
    const filters: string[] = [];
    const fnames: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    if (filter.attention) {
      filters.push('#fat = :fat');
      fnames['#fat'] = 'attention';
      values[':fat'] = { BOOL: true };
    }
    if (filter.outcome === 'failed') {
      filters.push('#fst = :fst');
      fnames['#fst'] = 'status';
      values[':fst'] = { S: 'failed' };
    } else if (filter.outcome !== undefined) {
      filters.push('#fout = :fout');
      fnames['#fout'] = 'outcome';
      values[':fout'] = { S: filter.outcome };
    }
    return {
      partitionKey: 'pk',
      partitions: Array.from({ length: SUMMARY_SHARDS }, (_, shard) => `${runPk(runId)}#${shard}`),
      sortKey: 'sk',
      prefix: 'CUST#',
      projection: { expression: Object.keys(names).join(', '), names },
      filter: filters.length > 0 ? { expression: filters.join(' AND '), names: fnames, values } : undefined,
      consistent: true,
    };
  }

  async reviewsOf(runId: string, filter?: RunReviewsFilter): Promise<Review[]> {
    return (await this.store.allOf(this.runReviews(runId, filter))).map((it) => strip<Review>(it, KEYS));
  }

  /**
   * A page of a run's reviews by customer (those `filter` selects), with how many there are
   * (`total` when the caller knows it: counting 10,000 reviews takes half a second).
   */
  async reviewsPage(
    runId: string,
    req: PageRequest,
    filter: RunReviewsFilter = {},
    total?: number,
  ): Promise<Page<Review>> {
    const p = await this.store.pageOf(
      this.runReviews(runId, filter),
      req,
      total === undefined ? undefined : Promise.resolve(total),
    );
    return { ...p, items: p.items.map((it) => strip<Review>(it, KEYS)) };
  }

  /** A customer's reviews, newest first: every one, or the newest `limit`. */
  async customerReviews(customerId: string, limit?: number): Promise<Review[]> {
    const spec: ListSpec = {
      partitionKey: 'pk',
      partitions: [`HIST#${customerId}`],
      sortKey: 'sk',
      prefix: 'REVIEW#',
      descending: true,
    };
    const items = limit === undefined ? await this.store.allOf(spec) : await this.store.firstOf(spec, limit);
    return items.map((it) => strip<Review>(it, KEYS));
  }

  /**
   * The limit goes on the customer's master data (PROFILE), which the credit file reads. A later
   * customer upload from the ERP writes the ERP's limit again: finance carries a reviewed limit
   * into the ERP (README "Periodic reviews").
   */
  async updateProfileLimit(c: LimitChange): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `CUST#${c.customerId}`, sk: 'PROFILE' }),
        UpdateExpression:
          'SET #l = :l, #by = :by, #on = :on, #cid = if_not_exists(#cid, :cid), #t = if_not_exists(#t, :t), #c = if_not_exists(#c, :c)',
        ExpressionAttributeNames: {
          '#l': 'creditLimit',
          '#by': 'limitSetBy',
          '#on': 'limitSetOn',
          '#cid': 'customerId',
          '#t': 'type',
          '#c': 'currency',
        },
        ExpressionAttributeValues: marshall({
          ':l': c.to,
          ':by': `${c.by} ${c.reviewId}`,
          ':on': c.on,
          ':cid': c.customerId,
          ':t': 'customer',
          ':c': c.currency,
        }),
      }),
    );
  }

  /** The limit on the customer's master data and the change kept beside it (an approved credit release). */
  async setCreditLimit(c: LimitChange): Promise<void> {
    await this.updateProfileLimit(c);
    await this.put(this.limitItem(c));
  }

  private async get<T>(pk: string, sk: string): Promise<T | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: marshall({ pk, sk }), ConsistentRead: true }),
    );
    return out.Item ? strip<T>(unmarshall(out.Item), KEYS) : undefined;
  }

  private async put(item: Record<string, unknown>, condition?: string): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(item, MARSHALL),
        ...(condition ? { ConditionExpression: condition } : {}),
      }),
    );
  }
}
