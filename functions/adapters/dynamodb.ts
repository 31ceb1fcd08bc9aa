import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Dispute } from '../collections/disputes.ts';
import type { Assignment, CallLog, ContactRecord, CreditHold, Handover } from '../collections/ports.ts';
import type { PromiseToPay } from '../collections/promises.ts';
import { mapLimit } from '../core/concurrency.ts';
import type { IsoDate } from '../core/dates.ts';
import { BadCursorError, decodeCursor, encodeCursor, type Page, type PageRequest } from '../core/paging.ts';
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
import type { Severity } from '../credit/policy.ts';
import type {
  AlertFilter,
  AlertList,
  CustomerPartition,
  EvaluationWrite,
  HistoryPick,
  NotificationClaim,
  NotificationLedger,
  PackedHistory,
  PackOptions,
  PackOutcome,
  PendingPolicy,
  StoredAssessment,
  StoredPolicy,
} from '../credit/ports.ts';
import { fitRun, storedReject } from '../ingest/limits.ts';
import type {
  CustomerBooksRecord,
  DerivedChanges,
  IngestRun,
  IngestStore,
  OpenRun,
  Provenance,
  RejectRecord,
  RunFilter,
  StoredApplication,
  StoredRecord,
} from '../ingest/ports.ts';
import type { LimitChange } from '../reviews/ports.ts';
import type { ReviewState } from '../reviews/review.ts';
import {
  ALLOCATION_STAMP,
  ALLOCATIONS,
  allocationStamp,
  bySortKey,
  decodePack,
  type PackedItem,
  type PackFamily,
  PackFormatError,
  packable,
  packKey,
  packsOf,
  packVersion,
  ROWS,
  sameStamp,
} from './history-packs.ts';
import { TABLE_SCHEMA } from './table-schema.ts';

/**
 * Full rows one packing deletes at most: a book packed for the first time (years of history) is
 * thinned over a few daily runs, each batch of the run staying well inside its time limit.
 */
const MAX_PACK_DELETES = 250;

/** A customer's `PACKS` item: its packs of settled history, oldest first (history-packs.ts). */
interface PackManifest {
  readonly version: number;
  readonly packs: readonly { readonly sk: string; readonly at: string; readonly rows: number }[];
}
const manifestOf = (it: Record<string, unknown>): PackManifest => ({
  version: it.version as number,
  packs: it.packs as PackManifest['packs'],
});
/** One family's items of a partition as read (history-packs.ts), beside its packs and their manifest. */
class StoredHistory {
  readonly rows = new Map<string, Record<string, unknown>>();
  readonly packData = new Map<string, Uint8Array>();
  manifest: PackManifest | undefined;
  constructor(readonly family: PackFamily) {}
  /** Keeps the item when it is one of the family's, a pack or the manifest; false for any other. */
  take(sk: string, it: Record<string, unknown>): boolean {
    const f = this.family;
    if (f.members.some((m) => sk.startsWith(m))) this.rows.set(sk, it);
    else if (sk.startsWith(f.packPrefix)) this.packData.set(sk, it.data as Uint8Array);
    else if (sk === f.manifestSk) this.manifest = manifestOf(it);
    else return false;
    return true;
  }
}

/**
 * Single-table design (README "Data model"). Keys come from business ids, so writing a row again
 * replaces it and never duplicates it.
 *
 *   pk                 sk                 item
 *   CUST#<customer>    PROFILE            customer master data
 *   CUST#<customer>    INV#<invoice>      invoice (in the customer's credit currency, original kept)
 *   CUST#<customer>    PAY#<payment>      payment as received, with the invoices it names
 *   CUST#<customer>    ALLOC#<payment>    how that payment was applied; unapplied cash
 *   CUST#<customer>    PACK#<v>#<t>#<n>   settled invoices and payments, packed (history-packs.ts)
 *   CUST#<customer>    PACKS              which packs count, in order
 *   CUST#<customer>    FIN#<period end>   financial statement
 *   CUST#<customer>    SUMMARY            receivables summary (gsi1: SUMMARY#<shard> / customer)
 *   FX#<base>#<quote>  <date>             exchange rate
 *   RUN#<run>          RUN                ingest run (gsi1: RUNS / <started at>#<run>)
 *   RUN#<run>          REJ#<seq>          first rejects of the run (the full list is the CSV report)
 *   INGEST#OPEN        <run>              a run that started and has not finished (see ingest())
 *   INGEST#OPEN        #EPOCH             the ingest epoch: bumped (ADD) by every run's start
 *   EVAL#EPOCH         #EPOCH             the evaluation epoch: bumped (ADD) after every saveEvaluation
 *                                         that stored an assessment (read models rebuild when it moves)
 *   CUST#<customer>    GUAR#<id> INS#<id> SCORE#<agency>#<date>   guarantees, insurance, external scores
 *   CUST#<customer>    ASSESSMENT         latest assessment (score, rating, factors, limit, policy)
 *   CUST#<customer>    ALERT#<rule>       the active alert of a rule (gsi1: ALERTS#active /
 *                                         <severity rank 0-3>#<customer>#<rule>, most severe first)
 *   CUST#<customer>    XFER#<transfer>    an approved transfer as the exposure counts it (paid day once paid)
 *   CUST#<customer>    ORDERS             the orders approved credit checks reserved: by order id, amount,
 *                                         ship date, channel, expiry; a version every write is conditional
 *                                         on (dynamodb-checks.ts; a check reads PROFILE, SUMMARY,
 *                                         ASSESSMENT, HOLD and ORDERS by key, XFER#, ALERT# and HANDOVER#
 *                                         by prefix, never the history)
 *   CUST#<customer>    HOLD               the collections credit hold (on or off, the latest)
 *   CUST#<customer>    HANDOVER#<day>     a hand-over to legal (open or withdrawn)
 *   HIST#<customer>    ASSESS#<as of>     an assessment that changed something, kept for the history
 *   HIST#<customer>    ALERT#<opened>#<rule>  a resolved alert (gsi1: ALERTS#resolved)
 *   POLICY             CURRENT | ID#<id>  the credit policy in force, and every policy ever set
 *   SCHEMA             <change>           a key change applied to this table (see upgradeAlertKeys)
 *   NOTIFY#<alert>#<what>  NOTIFY         a notification claimed before it is sent, then marked sent
 *                                         (gsi1 while not sent: NOTIFY#claimed / <claimed at>#<key>)
 */
export const SUMMARY_SHARDS = 16;

/** The active alerts' index key starts with this rank, so they list most severe first. */
const ALERT_RANK: Readonly<Record<Severity, string>> = { critical: '0', high: '1', warning: '2', info: '3' };
const activeAlertKey = (a: Pick<Alert, 'severity' | 'customerId' | 'rule'>) =>
  `${ALERT_RANK[a.severity]}#${a.customerId}#${a.rule}`;
/** Set once the active alerts' keys carry their severity (see `upgradeAlertKeys`). */
const ALERT_KEYS_MARKER = 'ACTIVE-ALERT-KEYS#severity';

/** What `alertRefs` reads of each alert: enough to search, sort and fetch it. */
const ALERT_REF_FIELDS = [
  'pk',
  'sk',
  'gsi1sk',
  'customerId',
  'rule',
  'severity',
  'status',
  'openedAt',
  'resolvedAt',
  'currency',
  'facts',
] as const;
export type AlertRef = Pick<
  Alert,
  'customerId' | 'rule' | 'severity' | 'status' | 'openedAt' | 'resolvedAt' | 'currency' | 'facts'
> & {
  readonly pk: string;
  readonly sk: string;
};

const BATCH_WRITE = 25;
const BATCH_GET = 100;
const OPEN_RUNS = 'INGEST#OPEN';
/** The ingest epoch's item in the open runs' partition ('#' sorts before every run id). */
const EPOCH = '#EPOCH';
/** The evaluation epoch's partition (see `changeMark`). */
const EVAL_EPOCH = 'EVAL#EPOCH';

export function shardOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) | 0;
  return (h >>> 0) % SUMMARY_SHARDS;
}

const custPk = (id: string) => `CUST#${id}`;
const notifyKey = (key: string) => ({ pk: { S: `NOTIFY#${key}` }, sk: { S: 'NOTIFY' } });
/** A collection step's record: `DUN#<day>#<level>` in the customer's partition (sorts after the allocations' packs). */
const DUN = 'DUN#';
/**
 * A promise to pay: `PTP#<id>` in the customer's partition (the id starts `PTP-<day>-`). By its id
 * alone, so a promise made through a portal link has one key whichever day it is made.
 */
const PTP = 'PTP#';
/** The customer's credit hold: `HOLD` in its partition. */
const HOLD = 'HOLD';
/** A hand-over to legal: `HANDOVER#<day>` in the customer's partition. */
const HANDOVER = 'HANDOVER#';
/** Who works the customer's collections: `ASSIGN`; a call or visit logged: `LOG#<instant>`. */
const ASSIGN = 'ASSIGN';
const CALL = 'LOG#';
/** An invoice's disputes: `DSP#<invoice>` in the customer's partition, the latest with the earlier ones. */
const DSP = 'DSP#';
const disputeKey = (customerId: string, invoiceId: string) => ({
  pk: { S: custPk(customerId) },
  sk: { S: `${DSP}${invoiceId}` },
});
/**
 * An invoice's dispute record: the latest dispute at the top, the earlier ones under `earlier`.
 * The latest's `line` (the invoice line it contests) is kept as `disputeLine`: `line` at the top of
 * an item is the upload's line number, which every read strips (META).
 */
function disputeItem(d: Dispute, earlier: readonly Dispute[]): Record<string, unknown> {
  const { line, ...rest } = d;
  return { ...rest, ...(line !== undefined ? { disputeLine: line } : {}), earlier };
}
/** The disputes an invoice's record holds: the earlier ones, then the latest. */
function disputesOf(it: Record<string, unknown>): Dispute[] {
  const { earlier, disputeLine, ...latest } = strip<Dispute & { earlier?: Dispute[]; disputeLine?: string }>(
    it,
    META,
  );
  return [...(earlier ?? []), disputeLine !== undefined ? { ...latest, line: disputeLine } : latest];
}
const contactKey = (customerId: string, on: IsoDate, level: string) => ({
  pk: { S: custPk(customerId) },
  sk: { S: `${DUN}${on}#${level}` },
});
const CLAIMED = 'NOTIFY#claimed';
/** A released claim is dated here: older than any claim timeout, so the next claim takes it. */
const RELEASED_AT = '1970-01-01T00:00:00.000Z';
const conditionFailed = (e: unknown) =>
  e instanceof ConditionalCheckFailedException ||
  (e instanceof Error && e.name === 'ConditionalCheckFailedException');
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

/**
 * A list the store keeps in key order: the items of one partition (or of several shards, merged)
 * in sort-key order, each sort key unique within the list. Read whole, counted, or a page at a time.
 */
export interface ListSpec {
  /** The index queried; the table when undefined. */
  readonly index?: string | undefined;
  readonly partitionKey: string;
  /** The partition's value, or the shards' values (read in parallel and merged by sort key). */
  readonly partitions: readonly string[];
  readonly sortKey: string;
  /** Only the items whose sort key starts with this. */
  readonly prefix?: string | undefined;
  /** Greatest sort key first (newest first, for keys that start with a time). */
  readonly descending?: boolean | undefined;
  /** A FilterExpression, with its own names (`#f...`) and values (`:f...`). */
  readonly filter?:
    | {
        readonly expression: string;
        readonly names?: Record<string, string>;
        readonly values?: Record<string, AttributeValue>;
      }
    | undefined;
  readonly projection?: { readonly expression: string; readonly names: Record<string, string> } | undefined;
  /** Strongly consistent reads (the table only). */
  readonly consistent?: boolean | undefined;
}

/** The smallest string greater than every string that starts with `prefix` and is longer (its last character + 1). */
function successor(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** Items in the order DynamoDB keeps string sort keys: by their UTF-8 bytes. */
function sortByKey(
  items: Record<string, unknown>[],
  key: string,
  descending: boolean,
): Record<string, unknown>[] {
  const bytes = new Map(items.map((it) => [it, Buffer.from(it[key] as string, 'utf8')]));
  const sign = descending ? -1 : 1;
  return items.sort((a, b) => sign * Buffer.compare(bytes.get(a) as Buffer, bytes.get(b) as Buffer));
}

/** Receivables persistence on DynamoDB (AWS) or dynalite (local), through the real AWS SDK. */
export class DynamoStore implements IngestStore, NotificationLedger {
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

  /**
   * Creates the table with the deployed key schema when it does not exist, and brings the keys of
   * a table made by an earlier release up to date (local runs; see `upgradeAlertKeys`).
   */
  async ensureTable(): Promise<void> {
    await this.createTable();
    await this.upgradeAlertKeys();
  }

  private async createTable(): Promise<void> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
      return;
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
    const { partitionKey: pk, sortKey: sk, gsi } = TABLE_SCHEMA;
    await this.client
      .send(
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
      )
      .catch((e: unknown) => {
        // Made by another process meanwhile, or by this very call whose response was lost (the
        // SDK's retry then finds the table): either way it is there; wait for it below.
        if (!(e instanceof ResourceInUseException)) throw e;
      });
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
    await this.batchGet(
      ids,
      'SUMMARY',
      'pk',
      (it) => found.add((it.pk as string).slice('CUST#'.length)),
      true,
    );
    // Without a summary, a customer may still hold rows a run that died left: one keys-only Query
    // over its invoices and payments (INV# and PAY# sort next to each other) tells.
    await mapLimit(
      ids.filter((id) => !found.has(id)),
      this.writeConcurrency,
      async (id) => {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
            ExpressionAttributeValues: {
              ':pk': { S: custPk(id) },
              ':a': { S: 'INV#' },
              ':b': { S: 'PAY#\uffff' },
            },
            ProjectionExpression: 'pk',
            Limit: 1,
            ConsistentRead: true,
          }),
        );
        if ((out.Items?.length ?? 0) > 0) found.add(id);
      },
    );
    return found;
  }

  /** One item of each customer, 100 keys to a request, several in flight, unprocessed keys retried with backoff. */
  private async batchGet(
    ids: readonly string[],
    sk: string,
    projection: string | undefined,
    each: (item: Record<string, unknown>) => void,
    consistent?: boolean,
  ): Promise<void> {
    await this.batchGetKeys(
      ids.map((id) => ({ pk: { S: custPk(id) }, sk: { S: sk } })),
      { projection, consistent },
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

  async openRun(mark: OpenRun): Promise<number> {
    await this.beatRun(mark);
    // After the mark: a run that reads the epoch and then the marks never misses one that writes.
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: OPEN_RUNS }, sk: { S: EPOCH } },
        UpdateExpression: 'ADD #e :one SET #t = :t',
        ExpressionAttributeNames: { '#e': 'epoch', '#t': 'type' },
        ExpressionAttributeValues: { ':one': { N: '1' }, ':t': { S: 'ingest-epoch' } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes?.epoch?.N ?? 0);
  }

  async beatRun(mark: OpenRun): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({ pk: OPEN_RUNS, sk: mark.runId, type: 'open-run', ...mark }, MARSHALL),
      }),
    );
  }

  async ingestEpoch(): Promise<number> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: OPEN_RUNS }, sk: { S: EPOCH } },
        ConsistentRead: true,
      }),
    );
    return Number(out.Item?.epoch?.N ?? 0);
  }

  async openRuns(): Promise<OpenRun[]> {
    const marks: OpenRun[] = [];
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: OPEN_RUNS } },
      ConsistentRead: true,
    }))
      if (it.sk !== EPOCH) marks.push(strip<OpenRun>(it, META));
    return marks;
  }

  async closeRun(mark: OpenRun, dead: readonly OpenRun[] = []): Promise<void> {
    const gone = new Set(dead.map((m) => m.runId));
    const done = (await this.openRuns()).filter(
      (m) => m.runId === mark.runId || m.objectRef === mark.objectRef || gone.has(m.runId),
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

  // ---- lists: every item, a count, or a page ----

  /**
   * The Query of a list in one of its partitions: after `after` (exclusive), in the list's order or
   * reversed; for a count, without the projection.
   */
  private listQuery(
    spec: ListSpec,
    partition: string,
    opts: { readonly after?: string | undefined; readonly reverse?: boolean; readonly count?: boolean } = {},
  ): Omit<QueryCommandInput, 'TableName'> {
    const { after } = opts;
    const ascending = spec.descending ? Boolean(opts.reverse) : !opts.reverse;
    const projection = opts.count ? undefined : spec.projection;
    // DynamoDB refuses names and values an expression does not use: only those used are given.
    const names: Record<string, string> = {
      '#lp': spec.partitionKey,
      ...spec.filter?.names,
      ...projection?.names,
    };
    const values: Record<string, AttributeValue> = { ':lp': { S: partition }, ...spec.filter?.values };
    let range = '';
    const pre = spec.prefix;
    if (after === undefined && pre !== undefined) {
      range = ' AND begins_with(#ls, :lpre)';
      values[':lpre'] = { S: pre };
    } else if (after !== undefined && pre === undefined) {
      range = ascending ? ' AND #ls > :lafter' : ' AND #ls < :lafter';
      values[':lafter'] = { S: after };
    } else if (after !== undefined && pre !== undefined) {
      // One condition on the sort key only: the prefix's range from the cursor, both ends included
      // (`take` drops the cursor's own item and anything past the prefix).
      range = ' AND #ls BETWEEN :llo AND :lhi';
      values[':llo'] = { S: ascending ? after : pre };
      values[':lhi'] = { S: ascending ? successor(pre) : after };
    }
    if (range) names['#ls'] = spec.sortKey;
    return {
      IndexName: spec.index,
      KeyConditionExpression: `#lp = :lp${range}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: ascending,
      ...(spec.filter ? { FilterExpression: spec.filter.expression } : {}),
      ...(projection ? { ProjectionExpression: projection.expression } : {}),
      ...(spec.consistent ? { ConsistentRead: true } : {}),
    };
  }

  /** Up to `n` items of a list after `after`, every partition read and merged in the list's order. */
  private async take(
    spec: ListSpec,
    n: number,
    after?: string,
    reverse = false,
  ): Promise<Record<string, unknown>[]> {
    if (after !== undefined && spec.prefix !== undefined && !after.startsWith(spec.prefix))
      throw new BadCursorError(after);
    const keep = (it: Record<string, unknown>) => {
      const k = it[spec.sortKey] as string;
      return k !== after && (spec.prefix === undefined || k.startsWith(spec.prefix));
    };
    if (spec.partitions.length === 1) {
      const out: Record<string, unknown>[] = [];
      const p = spec.partitions[0] as string;
      for await (const it of this.query({ ...this.listQuery(spec, p, { after, reverse }), Limit: n + 1 })) {
        if (!keep(it)) continue;
        out.push(it);
        if (out.length >= n) break;
      }
      return out;
    }
    // Sharded: a merge of the shards in the list's order, each read a small page at a time and
    // only as far as the merge needs (reading n from every shard read 16 times the page: 1,616
    // items for a page of 100, half a second on dynalite).
    const descending = Boolean(spec.descending) !== reverse;
    const sign = descending ? -1 : 1;
    const per = Math.max(2, Math.ceil((2 * n) / spec.partitions.length) + 1);
    const streams = spec.partitions.map((p) =>
      this.query({ ...this.listQuery(spec, p, { after, reverse }), Limit: per })[Symbol.asyncIterator](),
    );
    const pull = async (s: AsyncIterator<Record<string, unknown>>) => {
      for (;;) {
        const r = await s.next();
        if (r.done) return undefined;
        if (keep(r.value))
          return { item: r.value, key: Buffer.from(r.value[spec.sortKey] as string, 'utf8') };
      }
    };
    const heads = await Promise.all(streams.map(pull));
    const out: Record<string, unknown>[] = [];
    try {
      while (out.length < n) {
        let best = -1;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i];
          const b = best < 0 ? undefined : heads[best];
          if (h && (!b || sign * Buffer.compare(h.key, b.key) < 0)) best = i;
        }
        if (best < 0) break;
        out.push((heads[best] as { item: Record<string, unknown> }).item);
        heads[best] = await pull(streams[best] as AsyncIterator<Record<string, unknown>>);
      }
    } finally {
      await Promise.all(streams.map((s) => s.return?.(undefined)));
    }
    return out;
  }

  /** The first `n` items of a list, in its order (n >= 0). */
  firstOf(spec: ListSpec, n: number): Promise<Record<string, unknown>[]> {
    return n <= 0 ? Promise.resolve([]) : this.take(spec, n);
  }

  /** Every item of a list, page after page of the store, in the list's order. */
  async allOf(spec: ListSpec): Promise<Record<string, unknown>[]> {
    const parts = await Promise.all(
      spec.partitions.map(async (p) => {
        const out: Record<string, unknown>[] = [];
        for await (const it of this.query(this.listQuery(spec, p))) out.push(it);
        return out;
      }),
    );
    return parts.length === 1
      ? (parts[0] as Record<string, unknown>[])
      : sortByKey(parts.flat(), spec.sortKey, Boolean(spec.descending));
  }

  /** How many items a list holds: `Select: COUNT` queries, paged too, that return no item. */
  async countOf(spec: ListSpec): Promise<number> {
    const counts = await Promise.all(
      spec.partitions.map(async (p) => {
        const input = this.listQuery(spec, p, { count: true });
        let n = 0;
        let start: Record<string, AttributeValue> | undefined;
        do {
          const out = await this.client.send(
            new QueryCommand({
              ...input,
              TableName: this.tableName,
              Select: 'COUNT',
              ExclusiveStartKey: start,
            }),
          );
          n += out.Count ?? 0;
          start = out.LastEvaluatedKey;
        } while (start);
        return n;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * One page of a list and where it sits: `size` items after the cursor, read with the store's own
   * key conditions (never the items before it), the whole list counted (`total`, or `countOf`).
   * The cursor carries the sort key of the item before the page and the page's position; the
   * previous page is found by reading back from the page's first item, so near the start the
   * position is exact even when items came or went meanwhile.
   */
  async pageOf(
    spec: ListSpec,
    req: PageRequest,
    total?: Promise<number>,
  ): Promise<Page<Record<string, unknown>>> {
    const cur = req.after === undefined ? undefined : decodeCursor(req.after);
    const [count, read] = await Promise.all([
      total ?? this.countOf(spec),
      this.take(spec, req.size + 1, cur?.key),
    ]);
    const items = read.slice(0, req.size);
    const keyOf = (it: Record<string, unknown> | undefined) => it?.[spec.sortKey] as string;
    let from = cur?.position ?? 1;
    let prev: Page<unknown>['prev'];
    if (cur) {
      const before = await this.take(spec, req.size + 1, keyOf(items[0]) ?? cur.key, true);
      if (before.length > req.size) {
        from = Math.max(from, before.length + 1);
        prev = { after: encodeCursor({ key: keyOf(before[req.size]), position: from - req.size }) };
      } else {
        from = before.length + 1;
        prev = before.length > 0 ? {} : undefined;
      }
    }
    const next =
      read.length > req.size
        ? encodeCursor({ key: keyOf(items[items.length - 1]), position: from + items.length })
        : undefined;
    return { items, from, total: count, next, prev };
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

  /**
   * Everything stored on one customer: one Query over its partition, its packs of settled history
   * opened (a row stored in full wins over a packed copy). The payments' stored allocations are
   * read only with `applications` (the ingest's recomputation compares against them; nothing else
   * reads them): without, the Query skips their key range, a third of a long history's size.
   */
  async loadCustomerPartition(
    customerId: string,
    opts: { readonly applications?: boolean } = {},
  ): Promise<CustomerPartition> {
    let customer: Customer | undefined;
    let summary: ReceivableSummary | undefined;
    const history = new StoredHistory(ROWS);
    const allocations = new StoredHistory(ALLOCATIONS);
    const financials: FinancialStatement[] = [];
    const guarantees: Guarantee[] = [];
    const insurance: InsuranceCover[] = [];
    const scores: ExternalScore[] = [];
    const transfers: TransferCommitment[] = [];
    const alerts: Alert[] = [];
    let assessment: StoredAssessment | undefined;
    let review: ReviewState | undefined;
    let profileSource: CustomerPartition['profileSource'];
    const limitChanges: LimitChange[] = [];
    const contacts: ContactRecord[] = [];
    const promises: PromiseToPay[] = [];
    const disputes: Dispute[] = [];
    let creditHold: CreditHold | undefined;
    const handovers: Handover[] = [];
    let assignment: Assignment | undefined;
    const calls: CallLog[] = [];
    const pk = custPk(customerId);
    // ALERT# sorts before ALLOC#, everything else after the allocations and their packs (`ALLOC$...`;
    // '$' follows '#' and '%' follows '$').
    const ranges = opts.applications
      ? ['pk = :pk']
      : ['pk = :pk AND sk < :alloc', 'pk = :pk AND sk >= :after'];
    for (const range of ranges) {
      const values: Record<string, AttributeValue> = { ':pk': { S: pk } };
      if (range.includes(':alloc')) values[':alloc'] = { S: 'ALLOC#' };
      if (range.includes(':after')) values[':after'] = { S: 'ALLOC%' };
      for await (const it of this.query({
        KeyConditionExpression: range,
        ExpressionAttributeValues: values,
      })) {
        const sk = it.sk as string;
        if (history.take(sk, it) || allocations.take(sk, it)) continue;
        if (sk.startsWith('FIN#')) financials.push(strip<FinancialStatement>(it, META));
        else if (sk.startsWith('GUAR#')) guarantees.push(strip<Guarantee>(it, META));
        else if (sk.startsWith('INS#')) insurance.push(strip<InsuranceCover>(it, META));
        else if (sk.startsWith('SCORE#')) scores.push(strip<ExternalScore>(it, META));
        else if (sk.startsWith('ALERT#')) alerts.push(strip<Alert>(it, META));
        else if (sk.startsWith(XFER)) transfers.push(strip<TransferCommitment>(it, META));
        else if (sk === 'ASSESSMENT') assessment = strip<StoredAssessment>(it, META);
        else if (sk === 'REVIEW') review = strip<ReviewState>(it, META);
        else if (sk === 'PROFILE') {
          customer = strip<Customer>(it, META);
          const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
          profileSource = {
            runId: text(it.run),
            limitSetBy: text(it.limitSetBy),
            limitSetOn: text(it.limitSetOn),
          };
        } else if (sk === 'SUMMARY') summary = strip<ReceivableSummary>(it, META);
        else if (sk.startsWith('LIMIT#')) limitChanges.push(strip<LimitChange>(it, META));
        else if (sk.startsWith(DUN)) contacts.push(strip<ContactRecord>(it, META));
        else if (sk.startsWith(PTP)) promises.push(strip<PromiseToPay>(it, META));
        else if (sk.startsWith(DSP)) disputes.push(...disputesOf(it));
        else if (sk === HOLD) creditHold = strip<CreditHold>(it, META);
        else if (sk.startsWith(HANDOVER)) handovers.push(strip<Handover>(it, META));
        else if (sk === ASSIGN) assignment = strip<Assignment>(it, META);
        else if (sk.startsWith(CALL)) calls.push(strip<CallLog>(it, META));
      }
    }
    const rows = await this.withPacks(pk, history);
    const packed: PackedHistory | undefined = history.manifest
      ? {
          invoiceIds: new Set(rows.fromPacks.filter((sk) => sk.startsWith('INV#')).map((sk) => sk.slice(4))),
          paymentIds: new Set(rows.fromPacks.filter((sk) => sk.startsWith('PAY#')).map((sk) => sk.slice(4))),
          copies: rows.copies,
        }
      : undefined;
    const invoices: (Invoice & { from?: Provenance })[] = [];
    const payments: (Payment & { from?: Provenance })[] = [];
    for (const [sk, it] of rows.items) {
      const from = { runId: it.run as string, line: it.line as number };
      if (sk.startsWith('INV#')) invoices.push({ ...strip<Invoice>(it, META), from });
      else payments.push({ ...strip<Payment>(it, META), from });
    }
    // An allocation without its stamp (written by a release before it) is left out, so the ingest's
    // next recomputation writes it again, stamped, and it can be packed.
    const applications = new Map<string, StoredApplication>();
    for (const it of (await this.withPacks(pk, allocations)).items.values())
      if (ALLOCATIONS.stampOf(it)) {
        const a = strip<StoredApplication>(it, [...META, ALLOCATION_STAMP]);
        applications.set(a.paymentId, a);
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
      limitChanges,
      packed,
      profileSource,
      contacts,
      promises,
      disputes,
      creditHold,
      handovers,
      assignment,
      calls,
    };
  }

  /**
   * A family's items as a reader sees them, in sort-key order: every item stored in full, and each
   * packed copy no full item replaces (`fromPacks`); `copies`, the full items beside a packed copy
   * of the same write.
   */
  private async withPacks(
    pk: string,
    history: StoredHistory,
  ): Promise<{ items: ReadonlyMap<string, Record<string, unknown>>; fromPacks: string[]; copies: number }> {
    const { rows, manifest, family } = history;
    if (!manifest) return { items: rows, fromPacks: [], copies: 0 };
    const items = new Map(rows);
    const fromPacks: string[] = [];
    let copies = 0;
    for (const [sk, { item }] of await this.openPacks(pk, manifest, history.packData)) {
      const full = rows.get(sk);
      if (!full) {
        items.set(sk, item);
        fromPacks.push(sk);
      } else if (sameStamp(family, full, item)) copies++;
    }
    return { items: new Map([...items].sort(([a], [b]) => bySortKey(a, b))), fromPacks, copies };
  }

  /**
   * The rows of the manifest's packs, by sort key: a later pack's copy of a row wins. A pack listed
   * and not in `read` (written while the Query ran) is read on its own.
   */
  private async openPacks(
    pk: string,
    manifest: PackManifest,
    read: ReadonlyMap<string, Uint8Array>,
  ): Promise<Map<string, { readonly item: PackedItem; readonly at: string }>> {
    const out = new Map<string, { readonly item: PackedItem; readonly at: string }>();
    for (const p of [...manifest.packs].reverse()) {
      let data = read.get(p.sk);
      if (!data) {
        const got = await this.client.send(
          new GetItemCommand({
            TableName: this.tableName,
            Key: { pk: { S: pk }, sk: { S: p.sk } },
            ConsistentRead: true,
          }),
        );
        data = got.Item?.data?.B;
        if (!data) throw new PackFormatError(p.sk, 'listed in PACKS and not stored');
      }
      for (const it of decodePack(p.sk, data))
        if (!out.has(it.sk)) out.set(it.sk, { item: { ...it, pk }, at: p.at });
    }
    return out;
  }

  /**
   * Packs a customer's settled history (README "Settled history, packed"): its invoices and
   * payments, then the allocations of its packed payments, each family in this order, so that a
   * crash anywhere, or a row uploaded again meanwhile, loses nothing:
   * 1. The full items that an earlier packing packed at least `settleMs` ago are deleted, each only
   *    while it is still the write that was packed (its stamp: run and line, or an allocation's
   *    hash). The wait means no read, even an eventually consistent one, can see an item gone and
   *    not yet the manifest listing its pack.
   * 2. The picked items still stored in full (not rows of a run still open, which may yet ask for
   *    them) are written into new packs, when there are at least `minRows` (the allocations go with
   *    their payments whenever rows are packed).
   * 3. The manifest is put, on condition it is the one read: of two packings at once one wins, the
   *    other takes its packs back. Packs no manifest lists are deleted by the next packing.
   */
  async packHistory(customerId: string, pick: HistoryPick, opts: PackOptions): Promise<PackOutcome> {
    const pk = custPk(customerId);
    const rows = new StoredHistory(ROWS);
    const allocations = new StoredHistory(ALLOCATIONS);
    for (const [from, to] of [
      ['ALLOC#', 'ALLOC%'],
      ['INV#', 'PAY$'],
    ] as const)
      for await (const it of this.query({
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':a': { S: from }, ':b': { S: to } },
        ConsistentRead: true,
      }))
        rows.take(it.sk as string, it) || allocations.take(it.sk as string, it);
    const open = new Set((await this.openRuns()).map((r) => r.runId));
    const [rc, ac] = [await this.copiesOf(pk, rows, opts), await this.copiesOf(pk, allocations, opts)];
    // The deletes one packing may make, shared in proportion, so both families' full copies are gone
    // by the same packing (the evaluation asks for a packing while the rows' copies last).
    const max = opts.maxDeletes ?? MAX_PACK_DELETES;
    const total = rc.due.length + ac.due.length;
    const rowDeletes = total <= max ? rc.due.length : Math.round((max * rc.due.length) / total);
    const r = await this.packFamily(
      pk,
      rows,
      rc,
      rc.due.slice(0, rowDeletes),
      opts.minRows,
      opts,
      (sk, it) => {
        if (open.has(it.run as string)) return false;
        const id = sk.slice(4);
        return sk.startsWith('INV#') ? pick.invoiceIds.has(id) : pick.paymentIds.has(id);
      },
    );
    const a = await this.packFamily(
      pk,
      allocations,
      ac,
      ac.due.slice(0, Math.max(0, max - rowDeletes)),
      r.packed > 0 ? 1 : opts.minRows,
      opts,
      (sk) => pick.paymentIds.has(sk.slice('ALLOC#'.length)),
    );
    return {
      packed: r.packed,
      deleted: r.deleted,
      raced: r.raced || a.raced,
      allocations: { packed: a.packed, deleted: a.deleted },
    };
  }

  /** A family's full items stored beside a packed copy of the same write, and those packed long enough ago. */
  private async copiesOf(
    pk: string,
    history: StoredHistory,
    opts: PackOptions,
  ): Promise<{ copies: [string, Record<string, unknown>][]; due: [string, Record<string, unknown>][] }> {
    const { rows, manifest, family } = history;
    const packed = manifest ? await this.openPacks(pk, manifest, history.packData) : new Map();
    const settledBefore = new Date(opts.now.getTime() - opts.settleMs).toISOString();
    const copies = [...rows].filter(([sk, it]) => {
      const p = packed.get(sk);
      return p !== undefined && sameStamp(family, it, p.item);
    });
    return { copies, due: copies.filter(([sk]) => (packed.get(sk)?.at ?? '') < settledBefore) };
  }

  /** One family's packing (see `packHistory`): `due`, the full copies to delete now. */
  private async packFamily(
    pk: string,
    history: StoredHistory,
    { copies }: { copies: readonly [string, Record<string, unknown>][] },
    due: readonly [string, Record<string, unknown>][],
    minRows: number,
    opts: PackOptions,
    wanted: (sk: string, item: Record<string, unknown>) => boolean,
  ): Promise<{ packed: number; deleted: number; raced: boolean }> {
    const { rows, packData, family } = history;
    let manifest = history.manifest;
    // 1. Full items with their packed copy, packed long enough ago.
    let deleted = 0;
    await mapLimit(due, this.writeConcurrency, async ([sk, it]) => {
      const stamp = Object.entries(family.stampOf(it) ?? {});
      try {
        await this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: { pk: { S: pk }, sk: { S: sk } },
            ConditionExpression: stamp.map((_, i) => `#s${i} = :s${i}`).join(' AND '),
            ExpressionAttributeNames: Object.fromEntries(stamp.map(([k], i) => [`#s${i}`, k])),
            ExpressionAttributeValues: marshall(Object.fromEntries(stamp.map(([, v], i) => [`:s${i}`, v]))),
          }),
        );
        deleted++;
      } catch (e) {
        // Written again since (an upload, a recomputation): the full item is the later one and stays.
        if (!conditionFailed(e)) throw e;
      }
    });
    // 2. The picked items still stored in full only. One without its stamp could not be deleted
    //    safely once packed: it stays.
    const copied = new Set(copies.map(([sk]) => sk));
    const picked: PackedItem[] = [];
    for (const [sk, it] of rows) {
      if (copied.has(sk) || !family.stampOf(it) || !wanted(sk, it)) continue;
      const { pk: _pk, ...item } = it;
      if (packable(item as PackedItem)) picked.push(item as PackedItem);
    }
    const version = (manifest?.version ?? 0) + 1;
    let raced = false;
    let packedRows = 0;
    if (picked.length > 0 && picked.length >= minRows) {
      const { packs } = packsOf(picked);
      const token = globalThis.crypto.randomUUID().slice(0, 8);
      const at = opts.now.toISOString();
      const written = packs.map((p, n) => ({
        sk: packKey(family, version, token, n),
        at,
        rows: p.items.length,
        data: p.data,
      }));
      await this.batchWrite(
        written.map((w) => ({
          PutRequest: {
            Item: marshall({ pk, sk: w.sk, type: 'pack', rows: w.rows, data: w.data }, MARSHALL),
          },
        })),
      );
      const next: PackManifest = {
        version,
        packs: [...(manifest?.packs ?? []), ...written.map(({ sk, at, rows }) => ({ sk, at, rows }))],
      };
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: marshall({ pk, sk: family.manifestSk, type: 'packs', ...next }, MARSHALL),
            ConditionExpression: manifest ? '#v = :v' : 'attribute_not_exists(pk)',
            ...(manifest
              ? {
                  ExpressionAttributeNames: { '#v': 'version' },
                  ExpressionAttributeValues: { ':v': { N: String(manifest.version) } },
                }
              : {}),
          }),
        );
        manifest = next;
        packedRows = written.reduce((n, w) => n + w.rows, 0);
      } catch (e) {
        if (!conditionFailed(e)) throw e;
        raced = true;
        await this.batchWrite(
          written.map((w) => ({ DeleteRequest: { Key: { pk: { S: pk }, sk: { S: w.sk } } } })),
        );
      }
    }
    // 3. Packs no manifest lists, of a version up to the current one: left by a crash or a race lost
    //    (a packing still in flight writes a later version, which stays).
    if (!raced && manifest) {
      const listed = new Set(manifest.packs.map((p) => p.sk));
      const current = manifest.version;
      const orphans = [...packData.keys()].filter(
        (sk) => !listed.has(sk) && packVersion(family, sk) <= current,
      );
      await this.batchWrite(
        orphans.map((sk) => ({ DeleteRequest: { Key: { pk: { S: pk }, sk: { S: sk } } } })),
      );
    }
    return { packed: packedRows, deleted, raced };
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
    const { books, summary } = await this.loadCustomerPartition(customerId, { applications: true });
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
        items.push({
          pk,
          sk: `ALLOC#${a.paymentId}`,
          type: 'allocation',
          ...a,
          [ALLOCATION_STAMP]: allocationStamp(a),
        });
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
          ...(projection ? { ProjectionExpression: projection } : {}),
          ...(names ? { ExpressionAttributeNames: names } : {}),
        }))
          out.push(it);
      }),
    );
    return out;
  }

  async putRun(whole: IngestRun, rejects: readonly RejectRecord[]): Promise<void> {
    // Never over the item size, whatever a file held: what is cut is said in the record.
    const run = fitRun(whole);
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
          Item: marshall(
            { pk: `RUN#${run.runId}`, sk: `REJ#${String(i).padStart(6, '0')}`, ...storedReject(r) },
            MARSHALL,
          ),
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
            gsi1sk: activeAlertKey(a),
            ...a,
          });
      }
    }
    // A delete and a put of different keys can share a batch; one key appears once per customer.
    await this.batchWrite(requests);
    // After the writes: whoever reads the new epoch then reads the assessments it counts.
    if (results.some((r) => r.assessment !== undefined)) await this.bumpEvaluationEpoch();
  }

  private async bumpEvaluationEpoch(): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: EVAL_EPOCH }, sk: { S: EPOCH } },
        UpdateExpression: 'ADD #e :one SET #t = :t',
        ExpressionAttributeNames: { '#e': 'epoch', '#t': 'type' },
        ExpressionAttributeValues: { ':one': { N: '1' }, ':t': { S: 'evaluation-epoch' } },
      }),
    );
  }

  /** How many evaluations stored assessments so far (0 on a new table): moves whenever one does. */
  async evaluationEpoch(): Promise<number> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: EVAL_EPOCH }, sk: { S: EPOCH } },
        ConsistentRead: true,
      }),
    );
    return Number(out.Item?.epoch?.N ?? 0);
  }

  /**
   * A cheap mark of "the customers' stored items may have changed": the ingest epoch, the runs
   * still open and the evaluation epoch, read in two requests. A read model built after reading an
   * equal mark is still current (a run open while it was built changes the mark when it closes).
   */
  async changeMark(): Promise<string> {
    const [open, evaluations] = await Promise.all([
      (async () => {
        let epoch = 0;
        const runs: string[] = [];
        for await (const it of this.query({
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: OPEN_RUNS } },
          ProjectionExpression: '#k, #e',
          ExpressionAttributeNames: { '#k': 'sk', '#e': 'epoch' },
          ConsistentRead: true,
        }))
          if (it.sk === EPOCH) epoch = Number(it.epoch ?? 0);
          else runs.push(it.sk as string);
        return `${epoch}/${runs.sort().join(',')}`;
      })(),
      this.evaluationEpoch(),
    ]);
    return `ingest ${open}; evaluation ${evaluations}`;
  }

  /** Every stored receivables summary, whole, from the summaries' index (every shard in parallel). */
  async listSummaryItems(): Promise<ReceivableSummary[]> {
    const items = await this.summaryIndex('');
    return items.map((it) => strip<ReceivableSummary>(it, META));
  }

  /** The headline of each customer's latest stored assessment (score, rating, risk class, date). */
  async getAssessmentHeads(
    ids: readonly string[],
  ): Promise<
    Map<string, Pick<StoredAssessment, 'customerId' | 'asOf' | 'score' | 'rating' | 'riskClass' | 'policyId'>>
  > {
    const found = new Map<
      string,
      Pick<StoredAssessment, 'customerId' | 'asOf' | 'score' | 'rating' | 'riskClass' | 'policyId'>
    >();
    await this.batchGet(ids, 'ASSESSMENT', 'customerId, asOf, score, rating, riskClass, policyId', (it) => {
      const a = it as Pick<
        StoredAssessment,
        'customerId' | 'asOf' | 'score' | 'rating' | 'riskClass' | 'policyId'
      >;
      found.set(a.customerId, a);
    });
    return found;
  }

  // ---- the collection plan's steps, claimed before they are sent (functions/collections/run.ts) ----

  async claimContact(c: ContactRecord, staleBefore: string): Promise<ContactRecord | undefined> {
    const Key = contactKey(c.customerId, c.on, c.level);
    for (;;) {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: marshall({ pk: Key.pk.S, sk: Key.sk.S, type: 'contact', ...c }, MARSHALL),
            ConditionExpression:
              'attribute_not_exists(pk) OR (#s = :claimed AND (claimant = :me OR claimedAt < :stale))',
            ExpressionAttributeNames: { '#s': 'state' },
            ExpressionAttributeValues: {
              ':claimed': { S: 'claimed' },
              ':me': { S: c.claimant },
              ':stale': { S: staleBefore },
            },
          }),
        );
        return undefined;
      } catch (e) {
        if (!conditionFailed(e)) throw e;
      }
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key, ConsistentRead: true }),
      );
      if (out.Item) return strip<ContactRecord>(unmarshall(out.Item), META);
      // Gone between the two calls (a customer's records erased): claim again.
    }
  }

  async recordPromise(p: PromiseToPay): Promise<'recorded' | 'exists'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            { pk: custPk(p.customerId), sk: `${PTP}${p.promiseId}`, type: 'promise', ...p },
            MARSHALL,
          ),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'recorded';
    } catch (e) {
      if (conditionFailed(e)) return 'exists';
      throw e;
    }
  }

  async assignCollector(a: Assignment): Promise<Assignment | undefined> {
    const out = await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({ pk: custPk(a.customerId), sk: ASSIGN, type: 'assignment', ...a }, MARSHALL),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes ? strip<Assignment>(unmarshall(out.Attributes), META) : undefined;
  }

  async logCall(c: CallLog): Promise<void> {
    await this.client
      .send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            { pk: custPk(c.customerId), sk: `${CALL}${c.at}#${c.by}`, type: 'call', ...c },
            MARSHALL,
          ),
          // Keyed by its instant and who logged it: a write retried by the SDK lands once.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .catch((e: unknown) => {
        if (!conditionFailed(e)) throw e;
      });
  }

  async recordHandover(h: Handover): Promise<'recorded' | 'exists'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            { pk: custPk(h.customerId), sk: `${HANDOVER}${h.on}`, type: 'handover', ...h },
            MARSHALL,
          ),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'recorded';
    } catch (e) {
      if (conditionFailed(e)) return 'exists';
      throw e;
    }
  }

  async withdrawHandover(
    customerId: string,
    w: { readonly withdrawnOn: IsoDate; readonly withdrawnBy: string; readonly withdrawReason: string },
  ): Promise<Handover | undefined> {
    // The customer's hand-overs alone (a few items), not its whole partition.
    let latest: Handover | undefined;
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :h)',
      ExpressionAttributeValues: { ':pk': { S: custPk(customerId) }, ':h': { S: HANDOVER } },
    })) {
      const h = strip<Handover>(it, META);
      if (h.state === 'open') latest = h;
    }
    if (!latest) return undefined;
    return this.moveState<Handover>(
      { pk: { S: custPk(customerId) }, sk: { S: `${HANDOVER}${latest.on}` } },
      { from: 'open', to: 'withdrawn' },
      w,
    );
  }

  /**
   * Moves a record's `state` from one value to another, setting `fields` with it, in one
   * conditional update: the record as it now stands, or undefined when it was not in `from` (moved
   * already by someone else, or never there).
   */
  private async moveState<T>(
    Key: Record<string, AttributeValue>,
    state: { readonly from: string; readonly to: string },
    fields: Readonly<Record<string, string>>,
  ): Promise<T | undefined> {
    const names = Object.keys(fields);
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key,
          // Fields by position (`#f0`, `:f0`): no field name can collide with the state's own.
          UpdateExpression: `SET #s = :to${names.map((_, i) => `, #f${i} = :f${i}`).join('')}`,
          ConditionExpression: '#s = :from',
          ExpressionAttributeNames: {
            '#s': 'state',
            ...Object.fromEntries(names.map((k, i) => [`#f${i}`, k])),
          },
          ExpressionAttributeValues: {
            ':to': { S: state.to },
            ':from': { S: state.from },
            ...Object.fromEntries(names.map((k, i) => [`:f${i}`, { S: fields[k] as string }])),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? strip<T>(unmarshall(out.Attributes), META) : undefined;
    } catch (e) {
      if (conditionFailed(e)) return undefined;
      throw e;
    }
  }

  async placeCreditHold(h: CreditHold): Promise<'placed' | 'on-already'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ pk: custPk(h.customerId), sk: HOLD, type: 'hold', ...h }, MARSHALL),
          // On once: a retried run, or two runs at once, find it on.
          ConditionExpression: 'attribute_not_exists(pk) OR #s = :off',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':off': { S: 'off' } },
        }),
      );
      return 'placed';
    } catch (e) {
      if (conditionFailed(e)) return 'on-already';
      throw e;
    }
  }

  async releaseCreditHold(
    customerId: string,
    release: { readonly releasedOn: IsoDate; readonly releasedBy: string; readonly releaseReason: string },
  ): Promise<CreditHold | undefined> {
    // Undefined when none is on: lifted already, or never put on.
    return this.moveState<CreditHold>(
      { pk: { S: custPk(customerId) }, sk: { S: HOLD } },
      { from: 'on', to: 'off' },
      release,
    );
  }

  async openDispute(d: Dispute): Promise<{ outcome: 'opened' | 'exists'; current: Dispute }> {
    const Key = disputeKey(d.customerId, d.invoiceId);
    for (;;) {
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key, ConsistentRead: true }),
      );
      const now = out.Item ? disputesOf(unmarshall(out.Item)) : [];
      const latest = now.at(-1);
      if (latest && latest.resolvedOn === undefined) return { outcome: 'exists', current: latest };
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: marshall({ pk: Key.pk.S, sk: Key.sk.S, type: 'dispute', ...disputeItem(d, now) }, MARSHALL),
            // Whoever opens first wins; the other finds it open and opens nothing.
            ConditionExpression: latest
              ? 'disputeId = :was AND attribute_exists(resolvedOn)'
              : 'attribute_not_exists(pk)',
            ...(latest ? { ExpressionAttributeValues: { ':was': { S: latest.disputeId } } } : {}),
          }),
        );
        return { outcome: 'opened', current: d };
      } catch (e) {
        if (!conditionFailed(e)) throw e;
      }
    }
  }

  async resolveDispute(
    customerId: string,
    invoiceId: string,
    resolution: Required<Pick<Dispute, 'resolvedOn' | 'resolvedBy' | 'outcome'>> & Pick<Dispute, 'note'>,
  ): Promise<{ outcome: 'resolved' | 'not-open'; current?: Dispute | undefined }> {
    const Key = disputeKey(customerId, invoiceId);
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key, ConsistentRead: true }),
    );
    const latest = out.Item ? disputesOf(unmarshall(out.Item)).at(-1) : undefined;
    if (!latest || latest.resolvedOn !== undefined) return { outcome: 'not-open', current: latest };
    const set = Object.entries(resolution).filter(([, v]) => v !== undefined);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: `SET ${set.map(([k]) => `#${k} = :${k}`).join(', ')}`,
          ConditionExpression: 'disputeId = :id AND attribute_not_exists(resolvedOn)',
          ExpressionAttributeNames: Object.fromEntries(set.map(([k]) => [`#${k}`, k])),
          ExpressionAttributeValues: {
            ':id': { S: latest.disputeId },
            ...Object.fromEntries(set.map(([k, v]) => [`:${k}`, { S: String(v) }])),
          },
        }),
      );
      return { outcome: 'resolved', current: { ...latest, ...resolution } };
    } catch (e) {
      if (!conditionFailed(e)) throw e;
      return { outcome: 'not-open', current: latest }; // resolved meanwhile by someone else
    }
  }

  async markContactSent(
    customerId: string,
    on: IsoDate,
    level: string,
    sent: Pick<ContactRecord, 'sentAt' | 'to' | 'messageId' | 'note'>,
  ): Promise<void> {
    // Undefined back when another run that took it over marked it first: it was sent either way.
    await this.moveState(
      contactKey(customerId, on, level),
      { from: 'claimed', to: 'sent' },
      Object.fromEntries(Object.entries(sent).filter((kv): kv is [string, string] => kv[1] !== undefined)),
    );
  }

  async releaseContact(customerId: string, on: IsoDate, level: string, claimant: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: contactKey(customerId, on, level),
          UpdateExpression: 'SET claimedAt = :released',
          ConditionExpression: 'claimant = :me AND #s = :claimed',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: {
            ':released': { S: RELEASED_AT },
            ':me': { S: claimant },
            ':claimed': { S: 'claimed' },
          },
        }),
      );
    } catch (e) {
      if (!conditionFailed(e)) throw e;
    }
  }

  // ---- notifications claimed before they are sent (functions/credit/notify.ts) ----

  async claimNotification(
    claim: NotificationClaim,
    staleBefore: string,
  ): Promise<NotificationClaim | undefined> {
    const item = {
      pk: `NOTIFY#${claim.key}`,
      sk: 'NOTIFY',
      type: 'notification',
      gsi1pk: CLAIMED,
      gsi1sk: `${claim.claimedAt}#${claim.key}`,
      ...claim,
    };
    for (;;) {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: marshall(item, MARSHALL),
            ConditionExpression: 'attribute_not_exists(pk) OR (#s = :claimed AND claimedAt < :stale)',
            ExpressionAttributeNames: { '#s': 'state' },
            ExpressionAttributeValues: { ':claimed': { S: 'claimed' }, ':stale': { S: staleBefore } },
          }),
        );
        return undefined;
      } catch (e) {
        if (!conditionFailed(e)) throw e;
      }
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: notifyKey(claim.key), ConsistentRead: true }),
      );
      if (out.Item) return strip<NotificationClaim>(unmarshall(out.Item), META);
      // Gone between the two calls (records are never deleted, but a table may be emptied): claim again.
    }
  }

  async markNotificationSent(key: string, _claimant: string, at: string): Promise<void> {
    // Whoever holds it now, it was sent: nobody is to send it again.
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: notifyKey(key),
        UpdateExpression: 'SET #s = :sent, sentAt = :at REMOVE gsi1pk, gsi1sk',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':sent': { S: 'sent' }, ':at': { S: at } },
      }),
    );
  }

  async releaseNotification(key: string, claimant: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: notifyKey(key),
          UpdateExpression: 'SET claimedAt = :released, gsi1sk = :gsk',
          ConditionExpression: 'claimant = :me AND #s = :claimed',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: {
            ':released': { S: RELEASED_AT },
            ':gsk': { S: `${RELEASED_AT}#${key}` },
            ':me': { S: claimant },
            ':claimed': { S: 'claimed' },
          },
        }),
      );
    } catch (e) {
      if (!conditionFailed(e)) throw e; // taken over or sent meanwhile: nothing to give up
    }
  }

  async staleNotifications(staleBefore: string): Promise<NotificationClaim[]> {
    const out: NotificationClaim[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE_SCHEMA.gsi.name,
          KeyConditionExpression: 'gsi1pk = :p AND gsi1sk < :s',
          ExpressionAttributeValues: { ':p': { S: CLAIMED }, ':s': { S: staleBefore } },
          ExclusiveStartKey: start,
        }),
      );
      for (const it of page.Items ?? []) out.push(strip<NotificationClaim>(unmarshall(it), META));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async alertResolved(customerId: string, rule: string, openedAt: string): Promise<boolean> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: histPk(customerId) }, sk: { S: `ALERT#${openedAt}#${rule}` } },
        ConsistentRead: true,
        ProjectionExpression: 'pk',
      }),
    );
    return out.Item !== undefined;
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

  /** Keeps a policy waiting for approval under its request's id (written once; the same again is no change). */
  async putPendingPolicy(p: PendingPolicy): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(
          { pk: 'POLICY', sk: `PENDING#${p.transferId}`, type: 'pendingPolicy', ...p },
          MARSHALL,
        ),
      }),
    );
  }

  /** The policy a policy-change request asks to put in force. */
  async getPendingPolicy(transferId: string): Promise<PendingPolicy | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: 'POLICY' }, sk: { S: `PENDING#${transferId}` } },
        ConsistentRead: true,
      }),
    );
    return out.Item ? strip<PendingPolicy>(unmarshall(out.Item), META) : undefined;
  }

  /**
   * The active alerts (open, acknowledged, snoozed) most severe first, then by customer and rule;
   * or the resolved ones, newest first. A filter narrows either (a severity of the active ones is
   * a range of their keys; everything else, rule and customer too, a FilterExpression).
   */
  private alertList(which: AlertList, f: AlertFilter = {}): ListSpec {
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    if (f.status !== undefined) {
      filters.push('#fst = :fst');
      names['#fst'] = 'status';
      values[':fst'] = { S: f.status };
    }
    if (f.rule !== undefined) {
      filters.push('#frule = :frule');
      names['#frule'] = 'rule';
      values[':frule'] = { S: f.rule };
    }
    if (f.customerId !== undefined) {
      filters.push('#fcust = :fcust');
      names['#fcust'] = 'customerId';
      values[':fcust'] = { S: f.customerId };
    }
    if (f.severity !== undefined && which === 'resolved') {
      filters.push('#fsev = :fsev');
      names['#fsev'] = 'severity';
      values[':fsev'] = { S: f.severity };
    }
    return {
      index: 'gsi1',
      partitionKey: 'gsi1pk',
      partitions: [`ALERTS#${which}`],
      sortKey: 'gsi1sk',
      prefix: which === 'active' && f.severity !== undefined ? `${ALERT_RANK[f.severity]}#` : undefined,
      descending: which === 'resolved',
      filter: filters.length > 0 ? { expression: filters.join(' AND '), names, values } : undefined,
    };
  }

  /** Every active alert (most severe first), or every resolved one (newest first): nothing left out. */
  async listAlerts(which: AlertList, filter?: AlertFilter): Promise<Alert[]> {
    return (await this.allOf(this.alertList(which, filter))).map((it) => strip<Alert>(it, META));
  }

  /** How many alerts `listAlerts` would give, counted by the store (no alert is read). */
  countAlerts(which: AlertList, filter?: AlertFilter): Promise<number> {
    return this.countOf(this.alertList(which, filter));
  }

  /** The active alerts by severity (one count per severity's key range, in parallel). */
  async activeAlertCounts(filter: Omit<AlertFilter, 'severity'> = {}): Promise<Record<Severity, number>> {
    const severities = Object.keys(ALERT_RANK) as Severity[];
    const counts = await Promise.all(
      severities.map((severity) => this.countAlerts('active', { ...filter, severity })),
    );
    return Object.fromEntries(severities.map((s, i) => [s, counts[i] as number])) as Record<Severity, number>;
  }

  /**
   * Every alert `listAlerts` would give, in its order, with only what a search or a sort of them
   * needs (customer, rule, severity, dates, currency, facts) and their table keys: a list the
   * console sorts in memory reads this, then the alerts of one page in full (`alertsByKey`).
   */
  async alertRefs(which: AlertList, filter?: AlertFilter): Promise<AlertRef[]> {
    const names = Object.fromEntries(ALERT_REF_FIELDS.map((a, i) => [`#r${i}`, a]));
    const spec: ListSpec = {
      ...this.alertList(which, filter),
      projection: { expression: Object.keys(names).join(', '), names },
    };
    return (await this.allOf(spec)) as unknown as AlertRef[];
  }

  /** The alerts of `refs` in full, in the order given (one BatchGetItem per 100). */
  async alertsByKey(refs: readonly AlertRef[]): Promise<Alert[]> {
    const found = new Map<string, Alert>();
    await this.batchGetKeys(
      refs.map((r) => ({ pk: { S: r.pk }, sk: { S: r.sk } })),
      { consistent: false },
      (it) => found.set(`${it.pk as string}|${it.sk as string}`, strip<Alert>(it, META)),
    );
    return refs.flatMap((r) => {
      const a = found.get(`${r.pk}|${r.sk}`);
      return a ? [a] : [];
    });
  }

  /** A page of `listAlerts`, with the whole list counted (or `total`, when the caller counted it). */
  async alertsPage(
    which: AlertList,
    filter: AlertFilter,
    req: PageRequest,
    total?: Promise<number>,
  ): Promise<Page<Alert>> {
    const p = await this.pageOf(this.alertList(which, filter), req, total);
    return { ...p, items: p.items.map((it) => strip<Alert>(it, META)) };
  }

  /** The active alert of a customer and rule, read by its key (consistently): `alerts ack` answers it. */
  async activeAlert(customerId: string, rule: string): Promise<Alert | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: custPk(customerId) }, sk: { S: `ALERT#${rule}` } },
        ConsistentRead: true,
      }),
    );
    return out.Item ? strip<Alert>(unmarshall(out.Item), META) : undefined;
  }

  /**
   * Active alerts stored before their index key began with their severity (`<customer>#<rule>`)
   * get today's key, once per table (a marker records it), so the console pages most severe first.
   * Each is rewritten only if its key is still the old one: an evaluation that wrote it meanwhile wins.
   */
  async upgradeAlertKeys(): Promise<number> {
    const marker = { pk: { S: 'SCHEMA' }, sk: { S: ALERT_KEYS_MARKER } };
    const done = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: marker, ConsistentRead: true }),
    );
    if (done.Item) return 0;
    const stale: Record<string, unknown>[] = [];
    for await (const it of this.query({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': { S: 'ALERTS#active' } },
      ProjectionExpression: 'pk, sk, gsi1sk, #c, #r, #s',
      ExpressionAttributeNames: { '#c': 'customerId', '#r': 'rule', '#s': 'severity' },
    }))
      if (it.gsi1sk !== activeAlertKey(it as unknown as Alert)) stale.push(it);
    await mapLimit(stale, this.writeConcurrency, async (it) => {
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { pk: { S: it.pk as string }, sk: { S: it.sk as string } },
            UpdateExpression: 'SET gsi1sk = :new',
            ConditionExpression: 'gsi1sk = :old',
            ExpressionAttributeValues: {
              ':new': { S: activeAlertKey(it as unknown as Alert) },
              ':old': { S: it.gsi1sk as string },
            },
          }),
        );
      } catch (e) {
        if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
      }
    });
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...marker, at: { S: new Date().toISOString() } },
      }),
    );
    return stale.length;
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

  private static readonly RUNS: ListSpec = {
    index: 'gsi1',
    partitionKey: 'gsi1pk',
    partitions: ['RUNS'],
    sortKey: 'gsi1sk',
    descending: true,
  };

  /** The runs' list narrowed by a kind and by whether rows were rejected (a FilterExpression: still paged and counted by the store). */
  private static runList(f: RunFilter = {}): ListSpec {
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    if (f.kind !== undefined) {
      filters.push('contains(#fkinds, :fkind)');
      names['#fkinds'] = 'kinds';
      values[':fkind'] = { S: f.kind };
    }
    if (f.rejects !== undefined) {
      filters.push(f.rejects ? '#frej > :fzero' : '#frej = :fzero');
      names['#frej'] = 'rejected';
      values[':fzero'] = { N: '0' };
    }
    return filters.length === 0
      ? DynamoStore.RUNS
      : { ...DynamoStore.RUNS, filter: { expression: filters.join(' AND '), names, values } };
  }

  /** The ingest runs, newest first: every one, or the newest `limit` when the caller says how many. */
  async listRuns(limit?: number, filter?: RunFilter): Promise<IngestRun[]> {
    const spec = DynamoStore.runList(filter);
    const items = limit === undefined ? await this.allOf(spec) : await this.firstOf(spec, limit);
    return items.map((it) => strip<IngestRun>(it, META));
  }

  /** A page of the ingest runs (those `filter` selects), newest first, with how many there are. */
  async runsPage(req: PageRequest, filter?: RunFilter): Promise<Page<IngestRun>> {
    const p = await this.pageOf(DynamoStore.runList(filter), req);
    return { ...p, items: p.items.map((it) => strip<IngestRun>(it, META)) };
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
