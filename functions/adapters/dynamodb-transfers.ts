import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { convertToAttr, marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type AuditEvent, type AuditKey, type AuditRecord, nextRecord } from '../core/audit.ts';
import { sameData } from '../core/canonical.ts';
import type { Page, PageRequest } from '../core/paging.ts';
import type { TransferCommitment } from '../core/records.ts';
import type {
  Approval,
  DecideResult,
  Decision,
  DecisionRecord,
  LevelDecideResult,
  LevelState,
  LimitBatchItem,
  OutboxKey,
  Transfer,
  TransferExpectation,
  TransferFilter,
  TransferStore,
} from '../transfers/ports.ts';
import { DynamoStore, type ListSpec, MARSHALL, strip } from './dynamodb.ts';
import { TABLE_SCHEMA } from './table-schema.ts';

/**
 * Transfers, their approvals and the audit trail, in the same single table as `DynamoStore`
 * (README "Data model"; the table is created by `DynamoStore.ensureTable()`).
 *
 *   pk                   sk                             item
 *   TRANSFER#<transfer>  TRANSFER                       the transfer, and its `customerId`
 *                                                       (gsi1: TRANSFERS / <requestedAt>#<transfer>)
 *   CUSTX#<customer>     <requestedAt>#<transfer>       `{transferId}`: a customer's transfers, read
 *                                                       newest first then fetched consistently (not a
 *                                                       GSI: those are eventually consistent on AWS, and
 *                                                       the gate's duplicate check must see a request
 *                                                       made a second ago)
 *   TRANSFER#<transfer>  APPROVAL#<approval>            an approval; `taskToken` holds the token its
 *                                                       level waits on (never returned with it). While
 *                                                       pending, gsi1: APPROVALS#pending /
 *                                                       <notifiedAt>#<approval>; removed when decided/void
 *   TRANSFER#<transfer>  LEVEL#<level, 2 digits>        the level's one outcome and the approvals counted
 *                                                       on it (`decideLevel`: each write conditional on
 *                                                       the count it read and on no outcome yet)
 *   TRANSFER#<transfer>  OUTBOX#<level>#<kind>#<round>#<person>
 *                                                       one notice, claimed before it is sent and marked
 *                                                       sent after: a retried step sends only the rest
 *   AUDIT                SEQ#<seq, 12 digits>           an audit record (hash-chained, see core/audit.ts)
 *   AUDIT                HEAD                           `{seq, hash}` of the last record appended
 *   CUST#<customer>      XFER#<transfer>                an approved transfer on the customer's credit
 *                                                       file (`DynamoStore.putTransferCommitment`)
 *
 * Every state change two people could race on is a conditional write: the first wins, the second
 * is told what won.
 */

const AUDIT_ATTEMPTS = 100;

const GSI = TABLE_SCHEMA.gsi;
const transferPk = (transferId: string) => `TRANSFER#${transferId}`;
const customerPk = (customerId: string) => `CUSTX#${customerId}`;
const approvalSk = (approvalId: string) => `APPROVAL#${approvalId}`;
const batchItemSk = (customerId: string) => `ITEM#${customerId}`;
const levelSk = (level: number) => `LEVEL#${String(level).padStart(2, '0')}`;
const outboxLevel = (level: number) => `OUTBOX#${String(level).padStart(2, '0')}#`;
const outboxSk = (k: OutboxKey) =>
  `${outboxLevel(k.level)}${k.kind}#${String(k.round).padStart(3, '0')}#${k.to}`;
/** Rounds of `decideLevel` before giving up: each lost round means another writer counted or ended the level. */
const LEVEL_ATTEMPTS = 100;
const TRANSFER_SK = 'TRANSFER';
const TRANSFERS = 'TRANSFERS';
const PENDING_APPROVALS = 'APPROVALS#pending';
const AUDIT = 'AUDIT';
const AUDIT_HEAD = 'HEAD';
const auditSk = (seq: number) => `SEQ#${String(seq).padStart(12, '0')}`;
/** Where an append made once (by its step's key) says which record it made. */
const auditOnceSk = (once: string) => `ONCE#${once}`;
/**
 * How many records a retried append reads, from the seq its first try noted, for the record that
 * try made (only a try stopped between its record and its mark gets there: a handful of records).
 */
const AUDIT_ONCE_HORIZON = 1000;

/** Attributes of the items that are keys or bookkeeping, not part of what the port returns. */
const KEYS = ['pk', 'sk', 'type', GSI.partitionKey, GSI.sortKey] as const;
const TRANSFER_META: readonly string[] = [...KEYS, 'customerId'];
const APPROVAL_META: readonly string[] = [...KEYS, 'taskToken'];
const AUDIT_META: readonly string[] = [...KEYS, 'once'];

const key = (pk: string, sk: string): Record<string, AttributeValue> => ({ pk: { S: pk }, sk: { S: sk } });

const isConditionFailure = (e: unknown): boolean =>
  e instanceof ConditionalCheckFailedException ||
  (e instanceof Error && e.name === 'ConditionalCheckFailedException');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Placeholders for an update or condition expression: `#<attr>` for names, named or numbered values. */
class Placeholders {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private n = 0;

  name(attr: string): string {
    const p = /^[A-Za-z0-9_]+$/.test(attr) ? `#${attr}` : `#n${this.n++}`;
    this.names[p] = attr;
    return p;
  }

  value(v: unknown, placeholder = `:v${this.n++}`): string {
    this.values[placeholder] = convertToAttr(v, MARSHALL);
    return placeholder;
  }
}

export interface DynamoTransferStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /**
   * The key audit records are chained with (HMAC-SHA256), kept apart from the store; read once and
   * cached by its source. @default none: records are chained with a plain hash (as before keyed hashing)
   */
  readonly auditKey?: () => Promise<AuditKey>;
  /** Told of every record appended once the head has moved: writes an anchor where the store's writers cannot. */
  readonly auditAnchor?: (rec: AuditRecord) => Promise<unknown>;
}

/** The transfer workflow's persistence on DynamoDB (AWS) or dynalite (local), through the real AWS SDK. */
export class DynamoTransferStore implements TransferStore {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The table's shared plumbing: paginated queries, batch reads and writes with their retries. */
  private readonly store: DynamoStore;
  private readonly auditKey: DynamoTransferStoreOptions['auditKey'];
  private readonly auditAnchor: DynamoTransferStoreOptions['auditAnchor'];

  constructor(opts: DynamoTransferStoreOptions) {
    this.client = opts.client;
    this.tableName = opts.tableName;
    this.auditKey = opts.auditKey;
    this.auditAnchor = opts.auditAnchor;
    this.store = new DynamoStore({ client: opts.client, tableName: opts.tableName });
  }

  // ---- transfers ----

  async createTransfer(t: Transfer): Promise<void> {
    const customerId = t.request.customerId;
    const gsi1sk = `${t.requestedAt}#${t.transferId}`;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            {
              ...t,
              pk: transferPk(t.transferId),
              sk: TRANSFER_SK,
              type: 'transfer',
              [GSI.partitionKey]: TRANSFERS,
              [GSI.sortKey]: gsi1sk,
              customerId,
            },
            MARSHALL,
          ),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      // The SDK's retry of a put whose response was lost (a timeout after DynamoDB applied it)
      // finds the transfer it wrote itself: the same request at the same instant is this one.
      const stored = await this.getTransfer(t.transferId);
      const mine =
        stored !== undefined && stored.requestedAt === t.requestedAt && sameData(stored.request, t.request);
      if (!mine) throw new Error(`transfer ${t.transferId} already exists`);
    }
    // After the transfer: a failed duplicate create never leaves an index entry behind.
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({ pk: customerPk(customerId), sk: gsi1sk, transferId: t.transferId }, MARSHALL),
      }),
    );
  }

  async getTransfer(transferId: string): Promise<Transfer | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key(transferPk(transferId), TRANSFER_SK),
        ConsistentRead: true,
      }),
    );
    return out.Item ? strip<Transfer>(unmarshall(out.Item), TRANSFER_META) : undefined;
  }

  async updateTransfer(
    transferId: string,
    patch: Partial<Omit<Transfer, 'transferId' | 'request' | 'requestedAt'>>,
    expect: TransferExpectation,
  ): Promise<boolean> {
    const p = new Placeholders();
    const set: string[] = [];
    const remove: string[] = [];
    for (const [attr, v] of Object.entries(patch)) {
      if (v === undefined) remove.push(p.name(attr));
      else set.push(`${p.name(attr)} = ${p.value(v)}`);
    }
    let condition = `${p.name('status')} = ${p.value(expect.status, ':expectStatus')}`;
    if (expect.level !== undefined)
      condition += ` AND ${p.name('level')} = ${p.value(expect.level, ':expectLevel')}`;
    if (expect.unpaid) condition += ` AND attribute_not_exists(${p.name('paidOn')})`;
    // An empty patch still answers whether the expectation holds: status is set to what it must be.
    if (set.length === 0 && remove.length === 0) set.push(`${p.name('status')} = :expectStatus`);
    const update = [
      set.length > 0 ? `SET ${set.join(', ')}` : '',
      remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    return this.updateIf(key(transferPk(transferId), TRANSFER_SK), update, condition, p);
  }

  async putCommitment(c: TransferCommitment): Promise<void> {
    await this.store.putTransferCommitment(c);
  }

  private static readonly TRANSFERS: ListSpec = {
    index: GSI.name,
    partitionKey: GSI.partitionKey,
    partitions: [TRANSFERS],
    sortKey: GSI.sortKey,
    descending: true,
  };

  /**
   * The list of transfers narrowed by `filter`, as a FilterExpression on the newest-first index, so
   * the store still pages and counts it (what it skips is read by the store, never sent back).
   */
  private static listOf(f: TransferFilter = {}): ListSpec {
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    const eq = (path: string[], value: string, key: string) => {
      const ref = path.map((p, i) => {
        names[`#f${key}${i}`] = p;
        return `#f${key}${i}`;
      });
      filters.push(`${ref.join('.')} = :f${key}`);
      values[`:f${key}`] = { S: value };
    };
    if (f.status !== undefined) eq(['status'], f.status, 'st');
    if (f.type !== undefined) eq(['request', 'type'], f.type, 'ty');
    if (f.currency !== undefined) eq(['request', 'currency'], f.currency, 'cy');
    if (f.from !== undefined || f.to !== undefined) {
      names['#fon'] = 'requestedOn';
      if (f.from !== undefined) {
        filters.push('#fon >= :ffrom');
        values[':ffrom'] = { S: f.from };
      }
      if (f.to !== undefined) {
        filters.push('#fon <= :fto');
        values[':fto'] = { S: f.to };
      }
    }
    return filters.length === 0
      ? DynamoTransferStore.TRANSFERS
      : { ...DynamoTransferStore.TRANSFERS, filter: { expression: filters.join(' AND '), names, values } };
  }

  async listTransfers(filter?: TransferFilter): Promise<Transfer[]> {
    return (await this.store.allOf(DynamoTransferStore.listOf(filter))).map((it) =>
      strip<Transfer>(it, TRANSFER_META),
    );
  }

  async transfersPage(req: PageRequest, filter?: TransferFilter): Promise<Page<Transfer>> {
    const p = await this.store.pageOf(DynamoTransferStore.listOf(filter), req);
    return { ...p, items: p.items.map((it) => strip<Transfer>(it, TRANSFER_META)) };
  }

  async transfersOf(customerId: string): Promise<Transfer[]> {
    const ids: string[] = [];
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: customerPk(customerId) } },
      ScanIndexForward: false,
      ConsistentRead: true,
    }))
      ids.push(it.transferId as string);
    const found = await this.batchGetTransfers([...new Set(ids)]);
    return ids.flatMap((id) => {
      const t = found.get(id);
      if (!t) return [];
      found.delete(id); // once, should an id be indexed twice
      return [t];
    });
  }

  async putBatchItems(transferId: string, items: readonly LimitBatchItem[]): Promise<void> {
    await this.store.batchWrite(
      items.map((it) => ({
        PutRequest: {
          Item: marshall(
            { ...it, pk: transferPk(transferId), sk: batchItemSk(it.customerId), type: 'limitBatchItem' },
            MARSHALL,
          ),
        },
      })),
    );
  }

  async batchItems(transferId: string): Promise<LimitBatchItem[]> {
    const out: LimitBatchItem[] = [];
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':pk': { S: transferPk(transferId) }, ':s': { S: 'ITEM#' } },
      ConsistentRead: true,
    }))
      out.push(strip<LimitBatchItem>(it, KEYS));
    return out;
  }

  /** Transfers by id, read consistently. */
  private async batchGetTransfers(ids: readonly string[]): Promise<Map<string, Transfer>> {
    const found = new Map<string, Transfer>();
    await this.store.batchGetKeys(
      ids.map((id) => key(transferPk(id), TRANSFER_SK)),
      { consistent: true },
      (item) => {
        const t = strip<Transfer>(item, TRANSFER_META);
        found.set(t.transferId, t);
      },
    );
    return found;
  }

  // ---- approvals ----

  async putApprovals(approvals: readonly Approval[], taskToken: string): Promise<void> {
    await this.store.batchWrite(
      approvals.map((a) => ({
        PutRequest: {
          Item: marshall(
            {
              ...a,
              pk: transferPk(a.transferId),
              sk: approvalSk(a.approvalId),
              type: 'approval',
              status: 'pending',
              taskToken,
              [GSI.partitionKey]: PENDING_APPROVALS,
              [GSI.sortKey]: `${a.notifiedAt}#${a.approvalId}`,
            },
            MARSHALL,
          ),
        },
      })),
    );
  }

  async renewApprovals(
    transferId: string,
    level: number,
    taskToken: string,
    patch: { readonly reminders: number; readonly expiresAt: string },
  ): Promise<void> {
    const waiting = (await this.approvalsOf(transferId)).filter(
      (a) => a.level === level && a.status === 'pending',
    );
    await Promise.all(
      waiting.map((a) =>
        this.updateWhilePending(a.transferId, a.approvalId, {
          taskToken,
          reminders: patch.reminders,
          expiresAt: patch.expiresAt,
        }),
      ),
    );
  }

  /**
   * SETs `values` on an approval only while it is pending; with `leave`, also takes it off the
   * pending index. False when it was not pending (decided meanwhile) or does not exist.
   */
  private async updateWhilePending(
    transferId: string,
    approvalId: string,
    values: Record<string, unknown>,
    leave = false,
  ): Promise<boolean> {
    const p = new Placeholders();
    const set = Object.entries(values)
      .filter(([, v]) => v !== undefined)
      .map(([attr, v]) => `${p.name(attr)} = ${p.value(v)}`);
    const condition = `attribute_exists(pk) AND ${p.name('status')} = ${p.value('pending', ':pending')}`;
    const update = `SET ${set.join(', ')}${leave ? ` REMOVE ${p.name(GSI.partitionKey)}, ${p.name(GSI.sortKey)}` : ''}`;
    return this.updateIf(key(transferPk(transferId), approvalSk(approvalId)), update, condition, p);
  }

  /** One UpdateItem under a condition: false, with nothing written, when the condition does not hold. */
  private async updateIf(
    Key: Record<string, AttributeValue>,
    update: string,
    condition: string,
    p: Placeholders,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: p.names,
          ExpressionAttributeValues: p.values,
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async getApproval(transferId: string, approvalId: string): Promise<Approval | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key(transferPk(transferId), approvalSk(approvalId)),
        ConsistentRead: true,
      }),
    );
    return out.Item ? strip<Approval>(unmarshall(out.Item), APPROVAL_META) : undefined;
  }

  async approvalsOf(transferId: string): Promise<Approval[]> {
    const out: Approval[] = [];
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':pk': { S: transferPk(transferId) }, ':s': { S: 'APPROVAL#' } },
      ConsistentRead: true,
    }))
      out.push(strip<Approval>(it, APPROVAL_META));
    return out;
  }

  async taskToken(transferId: string, approvalId: string): Promise<string | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key(transferPk(transferId), approvalSk(approvalId)),
        ConsistentRead: true,
        ProjectionExpression: '#t',
        ExpressionAttributeNames: { '#t': 'taskToken' },
      }),
    );
    return out.Item ? (unmarshall(out.Item).taskToken as string | undefined) : undefined;
  }

  async decide(transferId: string, approvalId: string, d: DecisionRecord): Promise<DecideResult> {
    const p = new Placeholders();
    const set = [
      `${p.name('status')} = ${p.value(d.status)}`,
      `${p.name('decidedAt')} = ${p.value(d.decidedAt)}`,
    ];
    if (d.via !== undefined) set.push(`${p.name('via')} = ${p.value(d.via)}`);
    if (d.comment !== undefined) set.push(`${p.name('comment')} = ${p.value(d.comment)}`);
    if (d.claimant !== undefined) set.push(`${p.name('claimant')} = ${p.value(d.claimant)}`);
    const condition = `attribute_exists(pk) AND ${p.name('status')} = ${p.value('pending', ':pending')}`;
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(transferPk(transferId), approvalSk(approvalId)),
          UpdateExpression: `SET ${set.join(', ')} REMOVE ${p.name(GSI.partitionKey)}, ${p.name(GSI.sortKey)}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: p.names,
          ExpressionAttributeValues: p.values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { ok: true, approval: strip<Approval>(unmarshall(out.Attributes ?? {}), APPROVAL_META) };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const current = await this.getApproval(transferId, approvalId);
      // This very write, gone through with its response lost and sent again by the SDK.
      if (current && d.claimant !== undefined && current.claimant === d.claimant)
        return { ok: true, approval: current };
      return { ok: false, current };
    }
  }

  async voidPending(
    transferId: string,
    reason: string,
    only: { readonly level?: number; readonly keep?: readonly string[] } = {},
  ): Promise<number> {
    const pending = (await this.approvalsOf(transferId)).filter(
      (a) =>
        a.status === 'pending' &&
        (only.level === undefined || a.level === only.level) &&
        !only.keep?.includes(a.approvalId),
    );
    const voided = await Promise.all(
      pending.map((a) =>
        this.updateWhilePending(transferId, a.approvalId, { status: 'void', voidReason: reason }, true),
      ),
    );
    return voided.filter(Boolean).length;
  }

  // ---- levels ----

  async levelState(transferId: string, level: number): Promise<LevelState | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key(transferPk(transferId), levelSk(level)),
        ConsistentRead: true,
      }),
    );
    return out.Item ? strip<LevelState>(unmarshall(out.Item), [...KEYS, 'n']) : undefined;
  }

  /**
   * Optimistic: read the level, then write it whole on the condition that nobody counted or ended
   * it since (`n`, the count read, unchanged and no outcome; or no item yet). dynalite has no
   * transactions; one item holding the level's outcome makes one conditional write enough.
   */
  async decideLevel(
    transferId: string,
    level: number,
    required: number,
    approval: { readonly approvalId: string; readonly approver: string },
    d: { readonly status: Decision; readonly decidedAt: string; readonly claimant?: string | undefined },
  ): Promise<LevelDecideResult> {
    for (let attempt = 1; attempt <= LEVEL_ATTEMPTS; attempt++) {
      const cur = await this.levelState(transferId, level);
      // This very decision on the record already: a put that went through with its response lost
      // (the SDK sent it again and the condition failed). It is ours, not another's.
      const mine =
        d.claimant !== undefined &&
        (d.status === 'approved'
          ? cur?.approvedBy.some((a) => a.approvalId === approval.approvalId && a.claimant === d.claimant)
          : cur?.outcome === 'rejected' &&
            cur.decidedApproval === approval.approvalId &&
            cur.claimant === d.claimant);
      if (cur && mine) return { ok: true, state: cur };
      if (cur?.outcome || cur?.approvedBy.some((a) => a.approvalId === approval.approvalId))
        return { ok: false, state: cur };
      const counted = cur?.approvedBy ?? [];
      const approvedBy =
        d.status === 'approved'
          ? [
              ...counted,
              {
                approvalId: approval.approvalId,
                approver: approval.approver,
                at: d.decidedAt,
                ...(d.claimant ? { claimant: d.claimant } : {}),
              },
            ]
          : counted;
      const ends = d.status === 'rejected' || approvedBy.length >= required;
      const next: LevelState = {
        level,
        approvedBy,
        ...(ends
          ? {
              outcome: d.status,
              decidedBy: approval.approver,
              decidedApproval: approval.approvalId,
              decidedAt: d.decidedAt,
              ...(d.claimant ? { claimant: d.claimant } : {}),
            }
          : {}),
      };
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: marshall(
              {
                ...next,
                pk: transferPk(transferId),
                sk: levelSk(level),
                type: 'level',
                n: approvedBy.length,
              },
              MARSHALL,
            ),
            ...(cur
              ? {
                  ConditionExpression: 'attribute_not_exists(#outcome) AND #n = :n',
                  ExpressionAttributeNames: { '#outcome': 'outcome', '#n': 'n' },
                  ExpressionAttributeValues: { ':n': { N: String(counted.length) } },
                }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          }),
        );
        return { ok: true, state: next };
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    }
    throw new Error(`level ${level} of ${transferId} not decided after ${LEVEL_ATTEMPTS} attempts`);
  }

  // ---- the outbox ----

  async claimNotice(
    k: OutboxKey,
    claimedAt: string,
    staleBefore: string,
    claimant?: string,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            {
              ...k,
              pk: transferPk(k.transferId),
              sk: outboxSk(k),
              type: 'outbox',
              state: 'claimed',
              at: claimedAt,
              ...(claimant ? { claimant } : {}),
            },
            MARSHALL,
          ),
          // A claim that never got to "sent" (the sender died) may be taken over once stale; the
          // claimant's own claim is its again (the put went through, its response was lost).
          ConditionExpression: claimant
            ? 'attribute_not_exists(pk) OR (#state = :claimed AND (#at < :stale OR #claimant = :me))'
            : 'attribute_not_exists(pk) OR (#state = :claimed AND #at < :stale)',
          ExpressionAttributeNames: {
            '#state': 'state',
            '#at': 'at',
            ...(claimant ? { '#claimant': 'claimant' } : {}),
          },
          ExpressionAttributeValues: {
            ':claimed': { S: 'claimed' },
            ':stale': { S: staleBefore },
            ...(claimant ? { ':me': { S: claimant } } : {}),
          },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async noticeSent(k: OutboxKey, sentAt: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: key(transferPk(k.transferId), outboxSk(k)),
        UpdateExpression: 'SET #state = :sent, #at = :at',
        ExpressionAttributeNames: { '#state': 'state', '#at': 'at' },
        ExpressionAttributeValues: { ':sent': { S: 'sent' }, ':at': { S: sentAt } },
      }),
    );
  }

  async releaseNotice(k: OutboxKey): Promise<void> {
    await this.client
      .send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: key(transferPk(k.transferId), outboxSk(k)),
          // Never a notice already sent.
          ConditionExpression: '#state = :claimed',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':claimed': { S: 'claimed' } },
        }),
      )
      .catch((e: unknown) => {
        if (!isConditionFailure(e)) throw e;
      });
  }

  async noticesOf(
    transferId: string,
    level: number,
  ): Promise<(OutboxKey & { readonly state: 'claimed' | 'sent'; readonly at: string })[]> {
    const out: (OutboxKey & { state: 'claimed' | 'sent'; at: string })[] = [];
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':pk': { S: transferPk(transferId) }, ':s': { S: outboxLevel(level) } },
      ConsistentRead: true,
    }))
      out.push(strip<OutboxKey & { state: 'claimed' | 'sent'; at: string }>(it, KEYS));
    return out;
  }

  async listPendingApprovals(): Promise<Approval[]> {
    const out: Approval[] = [];
    for await (const it of this.query({
      IndexName: GSI.name,
      KeyConditionExpression: '#gpk = :p',
      ExpressionAttributeNames: { '#gpk': GSI.partitionKey },
      ExpressionAttributeValues: { ':p': { S: PENDING_APPROVALS } },
      ScanIndexForward: true,
    }))
      out.push(strip<Approval>(it, APPROVAL_META));
    return out;
  }

  // ---- audit trail ----

  /**
   * Reads the last record, chains the new one to it and puts it only if its seq is still free;
   * a writer that lost the race reads again. The head follows each successful put, never moving
   * back. Should a writer stop between the two writes, the head lags one record behind the trail
   * until the next append moves it on.
   */
  async appendAudit(e: AuditEvent, opts: { readonly once?: string } = {}): Promise<AuditRecord> {
    const { once } = opts;
    let noted = false;
    if (once) {
      const made = await this.auditMadeOnce(once);
      if (made === 'noted') noted = true;
      else if (made) return made;
    }
    const key = this.auditKey ? await this.auditKey() : undefined;
    for (let attempt = 1; attempt <= AUDIT_ATTEMPTS; attempt++) {
      const last = await this.lastAuditRecord();
      // Before a record made once: the seq it can take from, noted on its mark, so a try stopped
      // between the record and the mark is found again by reading from there, not the whole trail.
      if (once && !noted) {
        await this.noteOnce(once, (last?.seq ?? 0) + 1);
        noted = true;
      }
      const rec = nextRecord(last, e, key);
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: marshall(
              { ...rec, pk: AUDIT, sk: auditSk(rec.seq), type: 'audit', ...(once ? { once } : {}) },
              MARSHALL,
            ),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        // The seq taken: by another writer, or by this very put (its response lost, the SDK sent
        // it again): the record there is ours when it carries our hash.
        if (!(await this.auditRecordIs(rec))) {
          await sleep(Math.random() * 5);
          continue;
        }
      }
      if (once) await this.markOnce(once, rec.seq);
      await this.moveHead(rec);
      // After the head: an anchor never runs ahead of the store. A failed anchor fails the append
      // (the record stands; the next append or the hourly anchor covers it).
      await this.auditAnchor?.(rec);
      return rec;
    }
    throw new Error(`audit record not appended after ${AUDIT_ATTEMPTS} attempts (${e.kind} ${e.subject})`);
  }

  /**
   * The record an earlier try of the same step appended (`once`: the step's own key, e.g. a review
   * run's id). A try notes the seq it may take from on the step's mark before it appends, and the
   * seq it took after: no mark means no try (the usual case: one read); a mark with a seq names the
   * record; a mark with only its `from` is a try stopped before saying which record it made, found
   * among the records from that seq on (its `once` attribute, kept beside the hashed fields), or
   * 'noted' when it made none.
   */
  private async auditMadeOnce(once: string): Promise<AuditRecord | 'noted' | undefined> {
    const mark = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key(AUDIT, auditOnceSk(once)),
        ConsistentRead: true,
      }),
    );
    if (!mark.Item) return undefined;
    const seq = mark.Item.seq?.N;
    if (seq !== undefined) {
      const rec = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: key(AUDIT, auditSk(Number(seq))),
          ConsistentRead: true,
        }),
      );
      if (rec.Item) return strip<AuditRecord>(unmarshall(rec.Item), AUDIT_META);
    }
    const from = Number(mark.Item.from?.N ?? 1);
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      FilterExpression: '#once = :once',
      ExpressionAttributeNames: { '#once': 'once' },
      ExpressionAttributeValues: {
        ':pk': { S: AUDIT },
        ':from': { S: auditSk(from) },
        ':to': { S: auditSk(from + AUDIT_ONCE_HORIZON) },
        ':once': { S: once },
      },
      ConsistentRead: true,
    })) {
      const rec = strip<AuditRecord>(it, AUDIT_META);
      await this.markOnce(once, rec.seq);
      return rec;
    }
    return 'noted';
  }

  /** Notes, before a record made once is appended, the seq it can take from (the earliest try's kept). */
  private async noteOnce(once: string, from: number): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: key(AUDIT, auditOnceSk(once)),
        UpdateExpression: 'SET #type = :type, #from = if_not_exists(#from, :from)',
        ExpressionAttributeNames: { '#type': 'type', '#from': 'from' },
        ExpressionAttributeValues: { ':type': { S: 'audit-once' }, ':from': { N: String(from) } },
      }),
    );
  }

  private async auditRecordIs(rec: AuditRecord): Promise<boolean> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key(AUDIT, auditSk(rec.seq)),
        ConsistentRead: true,
        ProjectionExpression: '#hash',
        ExpressionAttributeNames: { '#hash': 'hash' },
      }),
    );
    return out.Item?.hash?.S === rec.hash;
  }

  private async markOnce(once: string, seq: number): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: key(AUDIT, auditOnceSk(once)),
        UpdateExpression: 'SET #type = :type, #seq = :seq',
        ExpressionAttributeNames: { '#type': 'type', '#seq': 'seq' },
        ExpressionAttributeValues: { ':type': { S: 'audit-once' }, ':seq': { N: String(seq) } },
      }),
    );
  }

  private async lastAuditRecord(): Promise<AuditRecord | undefined> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
        ExpressionAttributeValues: { ':pk': { S: AUDIT }, ':s': { S: 'SEQ#' } },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const raw = out.Items?.[0];
    return raw ? strip<AuditRecord>(unmarshall(raw), AUDIT_META) : undefined;
  }

  private async moveHead(rec: AuditRecord): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(AUDIT, AUDIT_HEAD),
          UpdateExpression: 'SET #seq = :seq, #hash = :hash',
          ConditionExpression: 'attribute_not_exists(#seq) OR #seq < :seq',
          ExpressionAttributeNames: { '#seq': 'seq', '#hash': 'hash' },
          ExpressionAttributeValues: { ':seq': { N: String(rec.seq) }, ':hash': { S: rec.hash } },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // a later append moved it already
    }
  }

  async auditTrail(): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    for await (const it of this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':pk': { S: AUDIT }, ':s': { S: 'SEQ#' } },
      ScanIndexForward: true,
      ConsistentRead: true,
    }))
      out.push(strip<AuditRecord>(it, AUDIT_META));
    return out;
  }

  async auditHead(): Promise<{ readonly seq: number; readonly hash: string } | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key(AUDIT, AUDIT_HEAD),
        ConsistentRead: true,
        ProjectionExpression: '#seq, #hash',
        ExpressionAttributeNames: { '#seq': 'seq', '#hash': 'hash' },
      }),
    );
    if (!out.Item) return undefined;
    const it = unmarshall(out.Item);
    if (typeof it.seq !== 'number' || typeof it.hash !== 'string') return undefined;
    return { seq: it.seq, hash: it.hash };
  }

  private query(input: Omit<QueryCommandInput, 'TableName'>): AsyncGenerator<Record<string, unknown>> {
    return this.store.query(input);
  }
}
