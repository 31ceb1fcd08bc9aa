import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ResourceNotFoundException,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mapLimit } from '../core/concurrency.ts';
import type { ReceivableSummary } from '../core/receivables.ts';
import type {
  Customer,
  ExternalScore,
  FinancialStatement,
  FxRate,
  Guarantee,
  InsuranceCover,
  Invoice,
  Payment,
  TransferCommitment,
} from '../core/records.ts';
import type { Alert } from '../credit/alerts.ts';
import type { CustomerPartition, EvaluationWrite, StoredAssessment, StoredPolicy } from '../credit/ports.ts';
import type {
  CustomerBooksRecord,
  DerivedChanges,
  IngestRun,
  IngestStore,
  OpenRun,
  Provenance,
  RejectRecord,
  StoredApplication,
  StoredRecord,
} from '../ingest/ports.ts';
import type { ReviewState } from '../reviews/review.ts';
import { TABLE_SCHEMA } from './table-schema.ts';

/**
 * Single-table design (README "Data model"). Keys come from business ids, so writing a row again
 * replaces it and never duplicates it.
 *
 *   pk                 sk                 item
 *   CUST#<customer>    PROFILE            customer master data
 *   CUST#<customer>    INV#<invoice>      invoice (in the customer's credit currency, original kept)
 *   CUST#<customer>    PAY#<payment>      payment as received, with the invoices it names
 *   CUST#<customer>    ALLOC#<payment>    how that payment was applied; unapplied cash
 *   CUST#<customer>    FIN#<period end>   financial statement
 *   CUST#<customer>    SUMMARY            receivables summary (gsi1: SUMMARY#<shard> / customer)
 *   FX#<base>#<quote>  <date>             exchange rate
 *   RUN#<run>          RUN                ingest run (gsi1: RUNS / <started at>#<run>)
 *   RUN#<run>          REJ#<seq>          first rejects of the run (the full list is the CSV report)
 *   INGEST#OPEN        <run>              a run that started and has not finished (see ingest())
 *   CUST#<customer>    GUAR#<id> INS#<id> SCORE#<agency>#<date>   guarantees, insurance, external scores
 *   CUST#<customer>    ASSESSMENT         latest assessment (score, rating, factors, limit, policy)
 *   CUST#<customer>    ALERT#<rule>       the active alert of a rule (gsi1: ALERTS#active)
 *   CUST#<customer>    XFER#<transfer>    an approved transfer as the exposure counts it (paid day once paid)
 *   HIST#<customer>    ASSESS#<as of>     an assessment that changed something, kept for the history
 *   HIST#<customer>    ALERT#<opened>#<rule>  a resolved alert (gsi1: ALERTS#resolved)
 *   POLICY             CURRENT | ID#<id>  the credit policy in force, and every policy ever set
 */
export const SUMMARY_SHARDS = 16;

const BATCH_WRITE = 25;
const BATCH_GET = 100;
const OPEN_RUNS = 'INGEST#OPEN';

export function shardOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) | 0;
  return (h >>> 0) % SUMMARY_SHARDS;
}

const custPk = (id: string) => `CUST#${id}`;
const XFER = 'XFER#';
/** A customer's history (dated assessments, resolved alerts), apart so its partition stays lean. */
const histPk = (id: string) => `HIST#${id}`;

/** The sort key and item type of each kind kept in a customer's partition. */
const IN_CUSTOMER: {
  [K in Exclude<StoredRecord['kind'], 'fx'>]: [
    type: string,
    sk: (row: Extract<StoredRecord, { kind: K }>['row']) => string,
  ];
} = {
  customers: ['customer', () => 'PROFILE'],
  invoices: ['invoice', (r) => `INV#${r.invoiceId}`],
  payments: ['payment', (r) => `PAY#${r.paymentId}`],
  financials: ['financials', (r) => `FIN#${r.periodEnd}`],
  guarantees: ['guarantee', (r) => `GUAR#${r.guaranteeId}`],
  insurance: ['insurance', (r) => `INS#${r.policyId}`],
  scores: ['score', (r) => `SCORE#${r.agency}#${r.date}`],
};

function itemOf(r: StoredRecord): Record<string, unknown> {
  const prov = { run: r.from.runId, line: r.from.line };
  if (r.kind === 'fx')
    return { pk: `FX#${r.row.base}#${r.row.quote}`, sk: r.row.date, type: 'fx', ...r.row, ...prov };
  const [type, sk] = IN_CUSTOMER[r.kind] as [string, (row: unknown) => string];
  return { pk: custPk(r.row.customerId), sk: sk(r.row), type, ...r.row, ...prov };
}

function keyOf(r: StoredRecord): Record<string, AttributeValue> {
  const it = itemOf(r);
  return { pk: { S: it.pk as string }, sk: { S: it.sk as string } };
}

export const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

/** An item without the attributes in `drop` (keys and bookkeeping). */
export function strip<T>(item: Record<string, unknown>, drop: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!drop.includes(k)) out[k] = v;
  return out as T;
}
const META = ['pk', 'sk', 'type', 'run', 'line', 'gsi1pk', 'gsi1sk'] as const;

export interface DynamoStoreOptions {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
  readonly clientConfig?: DynamoDBClientConfig;
  /** Parallel BatchWriteItem requests per write call. @default 8 */
  readonly writeConcurrency?: number;
  /** Called with the consumed write capacity of every batch (benchmarks). */
  readonly onWriteCapacity?: (units: number) => void;
  /** First retry delay for unprocessed items; doubles per attempt, full jitter, capped at 5 s. @default 25 */
  readonly backoffBaseMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Receivables persistence on DynamoDB (AWS) or dynalite (local), through the real AWS SDK. */
export class DynamoStore implements IngestStore {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  private readonly writeConcurrency: number;
  private readonly onWriteCapacity: ((units: number) => void) | undefined;
  private readonly backoffBaseMs: number;

  constructor(opts: DynamoStoreOptions) {
    this.client = opts.client ?? new DynamoDBClient(opts.clientConfig ?? {});
    this.tableName = opts.tableName;
    this.writeConcurrency = opts.writeConcurrency ?? 8;
    this.onWriteCapacity = opts.onWriteCapacity;
    this.backoffBaseMs = opts.backoffBaseMs ?? 25;
  }

  /** Creates the table with the deployed key schema when it does not exist (local runs). */
  async ensureTable(): Promise<void> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
      return;
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
    const { partitionKey: pk, sortKey: sk, gsi } = TABLE_SCHEMA;
    await this.client.send(
      new CreateTableCommand({
        TableName: this.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [pk, sk, gsi.partitionKey, gsi.sortKey].map((n) => ({
          AttributeName: n,
          AttributeType: 'S',
        })),
        KeySchema: [
          { AttributeName: pk, KeyType: 'HASH' },
          { AttributeName: sk, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: gsi.name,
            KeySchema: [
              { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
              { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    for (let i = 0; i < 100; i++) {
      const d = await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
      if (d.Table?.TableStatus === 'ACTIVE') return;
      await sleep(50);
    }
    throw new Error(`table ${this.tableName} did not become active`);
  }

  /** BatchWriteItem in chunks of 25, several in flight, retrying unprocessed items with backoff. */
  async batchWrite(requests: WriteRequest[]): Promise<void> {
    const chunks: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_WRITE) chunks.push(requests.slice(i, i + BATCH_WRITE));
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        let pending = chunks[next++] as WriteRequest[];
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 0) {
            if (attempt > 10)
              throw new Error(`DynamoDB left ${pending.length} items unprocessed after 10 retries`);
            await sleep(Math.random() * Math.min(5000, this.backoffBaseMs * 2 ** attempt)); // full jitter
          }
          const out = await this.client.send(
            new BatchWriteItemCommand({
              RequestItems: { [this.tableName]: pending },
              ReturnConsumedCapacity: this.onWriteCapacity ? 'TOTAL' : undefined,
            }),
          );
          if (this.onWriteCapacity)
            for (const c of out.ConsumedCapacity ?? []) this.onWriteCapacity(c.CapacityUnits ?? 0);
          pending = out.UnprocessedItems?.[this.tableName] ?? [];
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.writeConcurrency, chunks.length) }, worker));
  }

  async write(records: readonly StoredRecord[]): Promise<void> {
    await this.batchWrite(records.map((r) => ({ PutRequest: { Item: marshall(itemOf(r), MARSHALL) } })));
  }

  async provenanceOf(record: StoredRecord): Promise<Provenance | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: keyOf(record),
        ConsistentRead: true,
        ProjectionExpression: '#r, #l',
        ExpressionAttributeNames: { '#r': 'run', '#l': 'line' },
      }),
    );
    if (!out.Item) return undefined;
    const it = unmarshall(out.Item);
    return { runId: it.run as string, line: it.line as number };
  }

  async getCustomers(ids: readonly string[]): Promise<Map<string, Customer>> {
    const found = new Map<string, Customer>();
    await this.batchGet(ids, 'PROFILE', undefined, (it) => {
      const c = strip<Customer>(it, META);
      found.set(c.customerId, c);
    });
    return found;
  }

  async customersWithBooks(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    await this.batchGet(ids, 'SUMMARY', 'pk', (it) => found.add((it.pk as string).slice('CUST#'.length)));
    return found;
  }

  /** One item of each customer, 100 keys to a request, several in flight, unprocessed keys retried with backoff. */
  private async batchGet(
    ids: readonly string[],
    sk: string,
    projection: string | undefined,
    each: (item: Record<string, unknown>) => void,
  ): Promise<void> {
    await this.batchGetKeys(
      ids.map((id) => ({ pk: { S: custPk(id) }, sk: { S: sk } })),
      { projection },
      each,
    );
  }

  /**
   * BatchGetItem of any keys of the table, 100 to a request and several in flight, unprocessed
   * keys retried with backoff; `each` gets every item found (in no particular order).
   */
  async batchGetKeys(
    keys: readonly Record<string, AttributeValue>[],
    opts: { readonly projection?: string | undefined; readonly consistent?: boolean },
    each: (item: Record<string, unknown>) => void,
  ): Promise<void> {
    const chunks: Record<string, AttributeValue>[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET) chunks.push(keys.slice(i, i + BATCH_GET));
    await mapLimit(chunks, this.writeConcurrency, async (chunk) => {
      let pending = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.random() * Math.min(5000, this.backoffBaseMs * 2 ** attempt));
        const out = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: pending,
                ProjectionExpression: opts.projection,
                ConsistentRead: opts.consistent,
              },
            },
          }),
        );
        for (const raw of out.Responses?.[this.tableName] ?? []) each(unmarshall(raw));
        pending =
          (out.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, AttributeValue>[] | undefined) ?? [];
      }
    });
  }

  async openRun(mark: OpenRun): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({ pk: OPEN_RUNS, sk: mark.runId, type: 'open-run', ...mark }, MARSHALL),
      }),
    );
  }

  async openRuns(): Promise<OpenRun[]> {
    const marks: OpenRun[] = [];
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: OPEN_RUNS } },
      ConsistentRead: true,
    }))
      marks.push(strip<OpenRun>(it, META));
    return marks;
  }

  async closeRun(mark: OpenRun): Promise<void> {
    const done = (await this.openRuns()).filter(
      (m) => m.runId === mark.runId || m.objectRef === mark.objectRef,
    );
    await this.batchWrite(
      done.map((m) => ({ DeleteRequest: { Key: { pk: { S: OPEN_RUNS }, sk: { S: m.runId } } } })),
    );
  }

  /** Every item of a Query on the table, page after page, unmarshalled. */
  async *query(input: Omit<QueryCommandInput, 'TableName'>): AsyncGenerator<Record<string, unknown>> {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start }),
      );
      for (const it of out.Items ?? []) yield unmarshall(it);
      start = out.LastEvaluatedKey;
    } while (start);
  }

  async getFxRates(base: string, quote: string): Promise<FxRate[]> {
    const rates: FxRate[] = [];
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `FX#${base}#${quote}` } },
    }))
      rates.push(strip<FxRate>(it, META));
    return rates;
  }

  /** Everything stored on one customer: one Query over its partition. */
  async loadCustomerPartition(customerId: string): Promise<CustomerPartition> {
    let customer: Customer | undefined;
    let summary: ReceivableSummary | undefined;
    const invoices: (Invoice & { from?: Provenance })[] = [];
    const payments: (Payment & { from?: Provenance })[] = [];
    const applications = new Map<string, StoredApplication>();
    const financials: FinancialStatement[] = [];
    const guarantees: Guarantee[] = [];
    const insurance: InsuranceCover[] = [];
    const scores: ExternalScore[] = [];
    const transfers: TransferCommitment[] = [];
    const alerts: Alert[] = [];
    let assessment: StoredAssessment | undefined;
    let review: ReviewState | undefined;
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: custPk(customerId) } },
    })) {
      const sk = it.sk as string;
      if (sk.startsWith('INV#'))
        invoices.push({
          ...strip<Invoice>(it, META),
          from: { runId: it.run as string, line: it.line as number },
        });
      else if (sk.startsWith('PAY#'))
        payments.push({
          ...strip<Payment>(it, META),
          from: { runId: it.run as string, line: it.line as number },
        });
      else if (sk.startsWith('ALLOC#')) {
        const a = strip<StoredApplication>(it, META);
        applications.set(a.paymentId, a);
      } else if (sk.startsWith('FIN#')) financials.push(strip<FinancialStatement>(it, META));
      else if (sk.startsWith('GUAR#')) guarantees.push(strip<Guarantee>(it, META));
      else if (sk.startsWith('INS#')) insurance.push(strip<InsuranceCover>(it, META));
      else if (sk.startsWith('SCORE#')) scores.push(strip<ExternalScore>(it, META));
      else if (sk.startsWith('ALERT#')) alerts.push(strip<Alert>(it, META));
      else if (sk.startsWith(XFER)) transfers.push(strip<TransferCommitment>(it, META));
      else if (sk === 'ASSESSMENT') assessment = strip<StoredAssessment>(it, META);
      else if (sk === 'REVIEW') review = strip<ReviewState>(it, META);
      else if (sk === 'PROFILE') customer = strip<Customer>(it, META);
      else if (sk === 'SUMMARY') summary = strip<ReceivableSummary>(it, META);
    }
    return {
      books: { customer, invoices, payments, applications },
      summary,
      financials,
      guarantees,
      insurance,
      scores,
      transfers,
      alerts,
      assessment,
      review,
    };
  }

  /**
   * Records an approved transfer in the customer's partition, where the evaluation reads it; written
   * again (same key) when it is paid. Idempotent, so a retried workflow step does no harm.
   */
  async putTransferCommitment(c: TransferCommitment): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(
          { ...c, pk: custPk(c.customerId), sk: `${XFER}${c.transferId}`, type: 'transfer' },
          MARSHALL,
        ),
      }),
    );
  }

  async loadBooks(customerId: string): Promise<CustomerBooksRecord> {
    const { books, summary } = await this.loadCustomerPartition(customerId);
    return { ...books, summary };
  }

  async saveDerived(changes: readonly DerivedChanges[]): Promise<void> {
    const items: Record<string, unknown>[] = [];
    for (const c of changes) {
      const pk = custPk(c.customerId);
      if (c.summary)
        items.push({
          pk,
          sk: 'SUMMARY',
          type: 'summary',
          gsi1pk: `SUMMARY#${shardOf(c.customerId)}`,
          gsi1sk: c.customerId,
          ...c.summary,
        });
      for (const a of c.applications)
        items.push({ pk, sk: `ALLOC#${a.paymentId}`, type: 'allocation', ...a });
    }
    await this.batchWrite(items.map((Item) => ({ PutRequest: { Item: marshall(Item, MARSHALL) } })));
  }

  /** Every customer with receivables data, by id. */
  async listCustomerIds(): Promise<string[]> {
    const items = await this.summaryIndex('gsi1sk');
    return items.map((it) => it.gsi1sk as string).sort();
  }

  async listSummaries(): Promise<{ customerId: string; currency: string; openAmount: number }[]> {
    const items = await this.summaryIndex('#c, #y, #o', {
      '#c': 'customerId',
      '#y': 'currency',
      '#o': 'openAmount',
    });
    return items
      .map((it) => ({
        customerId: it.customerId as string,
        currency: it.currency as string,
        openAmount: it.openAmount as number,
      }))
      .sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
  }

  /** The summaries' index entries, every shard read in parallel, with the attributes projected. */
  private async summaryIndex(
    projection: string,
    names?: Record<string, string>,
  ): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    await Promise.all(
      Array.from({ length: SUMMARY_SHARDS }, async (_, shard) => {
        for await (const it of this.query({
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': { S: `SUMMARY#${shard}` } },
          ProjectionExpression: projection,
          ...(names ? { ExpressionAttributeNames: names } : {}),
        }))
          out.push(it);
      }),
    );
    return out;
  }

  async putRun(run: IngestRun, rejects: readonly RejectRecord[]): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(
          {
            pk: `RUN#${run.runId}`,
            sk: 'RUN',
            type: 'run',
            gsi1pk: 'RUNS',
            gsi1sk: `${run.startedAt}#${run.runId}`,
            ...run,
          },
          MARSHALL,
        ),
      }),
    );
    await this.batchWrite(
      rejects.map((r, i) => ({
        PutRequest: {
          Item: marshall({ pk: `RUN#${run.runId}`, sk: `REJ#${String(i).padStart(6, '0')}`, ...r }, MARSHALL),
        },
      })),
    );
  }

  // ---- credit assessments and alerts ----

  /**
   * Stores what an evaluation decided: each customer's latest assessment (and, when it changed,
   * a dated copy for the history), and alerts that changed. An active alert lives at
   * `ALERT#<rule>` (one per customer and rule, listed on gsi1 `ALERTS#active`); a resolved one moves
   * to the customer's history partition `HIST#<customer>` (gsi1 `ALERTS#resolved`, newest first).
   */
  async saveEvaluation(results: readonly EvaluationWrite[]): Promise<void> {
    const requests: WriteRequest[] = [];
    const put = (item: Record<string, unknown>) =>
      requests.push({ PutRequest: { Item: marshall(item, MARSHALL) } });
    for (const r of results) {
      const pk = custPk(r.customerId);
      if (r.assessment) {
        put({ pk, sk: 'ASSESSMENT', type: 'assessment', ...r.assessment });
        if (r.history)
          put({
            pk: histPk(r.customerId),
            sk: `ASSESS#${r.assessment.asOf}`,
            type: 'assessment',
            ...r.assessment,
          });
      }
      for (const a of r.alerts) {
        if (a.status === 'resolved') {
          requests.push({ DeleteRequest: { Key: { pk: { S: pk }, sk: { S: `ALERT#${a.rule}` } } } });
          put({
            pk: histPk(r.customerId),
            sk: `ALERT#${a.openedAt}#${a.rule}`,
            type: 'alert',
            gsi1pk: 'ALERTS#resolved',
            gsi1sk: `${a.resolvedAt ?? a.openedAt}#${a.customerId}#${a.rule}`,
            ...a,
          });
        } else
          put({
            pk,
            sk: `ALERT#${a.rule}`,
            type: 'alert',
            gsi1pk: 'ALERTS#active',
            gsi1sk: `${a.customerId}#${a.rule}`,
            ...a,
          });
      }
    }
    // A delete and a put of different keys can share a batch; one key appears once per customer.
    await this.batchWrite(requests);
  }

  /** The policy in force, as its owners last set it (undefined: the shipped default). */
  async getPolicy(): Promise<StoredPolicy | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: 'POLICY' }, sk: { S: 'CURRENT' } },
        ConsistentRead: true,
      }),
    );
    return out.Item ? strip<StoredPolicy>(unmarshall(out.Item), META) : undefined;
  }

  /** Puts a validated policy in force, and keeps it under its id for the decisions made with it. */
  async putPolicy(p: StoredPolicy): Promise<void> {
    await this.batchWrite(
      [
        { pk: 'POLICY', sk: 'CURRENT', type: 'policy', ...p },
        { pk: 'POLICY', sk: `ID#${p.id}`, type: 'policy', ...p },
      ].map((Item) => ({ PutRequest: { Item: marshall(Item, MARSHALL) } })),
    );
  }

  /** Active alerts (open, acknowledged, snoozed), or the latest resolved ones. */
  async listAlerts(which: 'active' | 'resolved', limit = 1000): Promise<Alert[]> {
    const out: Alert[] = [];
    for await (const it of this.query({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': { S: `ALERTS#${which}` } },
      ScanIndexForward: which === 'active',
    })) {
      out.push(strip<Alert>(it, META));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The dated assessments of a customer, oldest first. */
  async assessmentHistory(customerId: string): Promise<StoredAssessment[]> {
    const out: StoredAssessment[] = [];
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':pk': { S: histPk(customerId) }, ':s': { S: 'ASSESS#' } },
    }))
      out.push(strip<StoredAssessment>(it, META));
    return out;
  }

  async listRuns(limit = 50): Promise<IngestRun[]> {
    const runs: IngestRun[] = [];
    for await (const it of this.query({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': { S: 'RUNS' } },
      ScanIndexForward: false,
      Limit: limit,
    })) {
      runs.push(strip<IngestRun>(it, META));
      if (runs.length >= limit) break;
    }
    return runs;
  }

  async getRun(runId: string): Promise<{ run: IngestRun; rejects: RejectRecord[] } | undefined> {
    let run: IngestRun | undefined;
    const rejects: RejectRecord[] = [];
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `RUN#${runId}` } },
    })) {
      if (it.sk === 'RUN') run = strip<IngestRun>(it, META);
      else
        rejects.push({
          line: it.line as number,
          column: it.column as string,
          value: it.value as string,
          reason: it.reason as string,
        });
    }
    return run ? { run, rejects } : undefined;
  }
}
