import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { CheckFile, OrderBook } from '../checks/decide.ts';
import { type HeldOrder, heldQueueKey } from '../checks/held.ts';
import type { CheckStore } from '../checks/ports.ts';
import type { CreditHold, Handover } from '../collections/ports.ts';
import { PIVOTS } from '../core/fx.ts';
import type { ReceivableSummary } from '../core/receivables.ts';
import type { Customer, FxRate, TransferCommitment } from '../core/records.ts';
import type { Severity } from '../credit/policy.ts';
import { MARSHALL } from './dynamodb.ts';
import { TABLE_SCHEMA } from './table-schema.ts';

/** The customer's order reservations (README "Credit checks"): `ORDERS` in its partition. */
export const ORDERS = 'ORDERS';
/** A held order's item in its customer's partition (functions/checks/held.ts). */
export const HELD = 'HELD#';
/** The hold queue in the table's index: held orders only (sparse). */
export const HELD_QUEUE = 'HELDORDERS';
const META = ['pk', 'sk', 'type', 'run', 'line', 'gsi1pk', 'gsi1sk'] as const;
const custPk = (id: string) => `CUST#${id}`;
const conditionFailed = (e: unknown) =>
  e instanceof ConditionalCheckFailedException ||
  (e instanceof Error && e.name === 'ConditionalCheckFailedException');

/**
 * Optimistic concurrency: a put only over the version read (0: only when there is no item yet);
 * whoever wrote in between wins, and the loser reads again.
 */
function overVersion(expectedVersion: number) {
  return expectedVersion === 0
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : {
        ConditionExpression: '#v = :v',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':v': { N: String(expectedVersion) } },
      };
}

/** The `ORDERS` item as the order book (the orders it remembers closed, when it has any). */
function orderBookOf(item: Record<string, unknown>): OrderBook {
  return {
    version: item.version as number,
    reservations: (item.reservations ?? {}) as OrderBook['reservations'],
    ...(item.closed ? { closed: item.closed as NonNullable<OrderBook['closed']> } : {}),
  };
}

function strip<T>(item: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!(META as readonly string[]).includes(k)) out[k] = v;
  return out as T;
}

/**
 * What a credit check reads and writes in the single table (functions/adapters/dynamodb.ts's
 * design): six fixed items of the customer's partition by key (`PROFILE`, `SUMMARY`,
 * `ASSESSMENT`, `HOLD`, `ORDERS`, `APPLICATION`) in one BatchGetItem, and three small prefixes (`XFER#`,
 * `ALERT#`, `HANDOVER#`) by Query; never its invoices, payments or history.
 */
export class DynamoCheckStore implements CheckStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async loadCheckFile(
    customerId: string,
    fx?: { readonly from: string; readonly to: string; readonly asOf: string },
    opts: { readonly orderId?: string | undefined } = {},
  ): Promise<CheckFile> {
    const pk = custPk(customerId);
    const keys = ['PROFILE', 'SUMMARY', 'ASSESSMENT', 'HOLD', ORDERS, 'APPLICATION'];
    // The order's own HELD# item, in the same BatchGetItem: no extra round trip.
    if (opts.orderId !== undefined) keys.push(`${HELD}${opts.orderId}`);
    const [items, transfers, alerts, handovers, fxRates] = await Promise.all([
      this.getFixed(pk, keys),
      this.prefix(pk, 'XFER#'),
      this.prefix(pk, 'ALERT#'),
      this.prefix(pk, 'HANDOVER#'),
      fx ? this.rates(fx.from, fx.to, fx.asOf) : Promise.resolve([]),
    ]);
    const profile = items.get('PROFILE');
    const summary = items.get('SUMMARY');
    const assessment = items.get('ASSESSMENT');
    const hold = items.get('HOLD');
    const orders = items.get(ORDERS);
    const application = items.get('APPLICATION');
    const held = opts.orderId !== undefined ? items.get(`${HELD}${opts.orderId}`) : undefined;
    return {
      held: held ? strip<HeldOrder>(held) : undefined,
      customer: profile ? strip<Customer>(profile) : undefined,
      summary: summary ? strip<ReceivableSummary>(summary) : undefined,
      assessment: assessment
        ? {
            asOf: assessment.asOf as string,
            rating: assessment.rating as NonNullable<CheckFile['assessment']>['rating'],
            riskClass: assessment.riskClass as NonNullable<CheckFile['assessment']>['riskClass'],
            score: assessment.score as number,
            policyId: assessment.policyId as string,
          }
        : undefined,
      hold: hold ? strip<CreditHold>(hold) : undefined,
      handovers: handovers.map((h) => {
        const x = strip<Handover>(h);
        return { on: x.on, state: x.state, level: x.level };
      }),
      transfers: transfers.map((t) => strip<TransferCommitment>(t)),
      alerts: alerts.map((a) => ({ rule: a.rule as string, severity: a.severity as Severity })),
      orders: orders ? orderBookOf(orders) : { version: 0, reservations: {} },
      fxRates,
      application: application
        ? {
            applicationId: application.applicationId as string,
            state: application.state as string,
            filedOn: application.filedOn as string,
            requestedLimit: application.requestedLimit as number,
            currency: application.currency as string,
          }
        : undefined,
    };
  }

  /** The `ORDERS` item alone, strongly read (functions/checks/release.ts: an upload's retry, an invoice's release). */
  async loadOrders(customerId: string): Promise<OrderBook> {
    const res = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: custPk(customerId) }, sk: { S: ORDERS } },
        ConsistentRead: true,
      }),
    );
    return res.Item ? orderBookOf(unmarshall(res.Item)) : { version: 0, reservations: {} };
  }

  async writeOrders(
    customerId: string,
    next: OrderBook,
    expectedVersion: number,
  ): Promise<'written' | 'conflict'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            { pk: custPk(customerId), sk: ORDERS, type: 'orders', customerId, ...next },
            MARSHALL,
          ),
          ...overVersion(expectedVersion),
        }),
      );
      return 'written';
    } catch (e) {
      if (conditionFailed(e)) return 'conflict';
      throw e;
    }
  }

  /** A held order's item, strongly read. */
  async getHeld(customerId: string, orderId: string): Promise<HeldOrder | undefined> {
    const res = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: custPk(customerId) }, sk: { S: `${HELD}${orderId}` } },
        ConsistentRead: true,
      }),
    );
    return res.Item ? strip<HeldOrder>(unmarshall(res.Item)) : undefined;
  }

  /**
   * Writes a held order only over `expectedVersion` (0: none yet); listed in the hold queue (the
   * index) while its state is `held`, out of it otherwise.
   */
  async writeHeld(next: HeldOrder, expectedVersion: number): Promise<'written' | 'conflict'> {
    const queued = next.state === 'held' ? { gsi1pk: HELD_QUEUE, gsi1sk: heldQueueKey(next) } : {};
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            {
              pk: custPk(next.customerId),
              sk: `${HELD}${next.orderId}`,
              type: 'held-order',
              ...next,
              ...queued,
            },
            MARSHALL,
          ),
          ...overVersion(expectedVersion),
        }),
      );
      return 'written';
    } catch (e) {
      if (conditionFailed(e)) return 'conflict';
      throw e;
    }
  }

  /** The hold queue, oldest first: every order held now (the index), or those of the given customers. */
  async heldOrders(customerIds?: readonly string[]): Promise<HeldOrder[]> {
    if (customerIds) {
      const all = await Promise.all(customerIds.map((c) => this.prefix(custPk(c), HELD)));
      return all
        .flat()
        .map((h) => strip<HeldOrder>(h))
        .filter((h) => h.state === 'held')
        .sort((a, b) => heldQueueKey(a).localeCompare(heldQueueKey(b)));
    }
    const keys = await this.queryAll({
      IndexName: TABLE_SCHEMA.gsi.name,
      KeyConditionExpression: 'gsi1pk = :q',
      ExpressionAttributeValues: { ':q': { S: HELD_QUEUE } },
    });
    // The index may lag the table: each item read again by key, kept when still held.
    const found = await Promise.all(
      keys.map((k) => this.getHeld(k.customerId as string, k.orderId as string)),
    );
    return found.filter((h): h is HeldOrder => h?.state === 'held');
  }

  /** Every held order of a customer, whatever its state (the console, the CLI). */
  async heldOf(customerId: string): Promise<HeldOrder[]> {
    return (await this.prefix(custPk(customerId), HELD)).map((h) => strip<HeldOrder>(h));
  }

  /** The fixed items by sort key, read consistently (a check right after another sees its reservation). */
  private async getFixed(pk: string, sks: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    let request: Record<string, { Keys: Record<string, AttributeValue>[]; ConsistentRead: boolean }> = {
      [this.tableName]: { Keys: sks.map((sk) => ({ pk: { S: pk }, sk: { S: sk } })), ConsistentRead: true },
    };
    for (let attempt = 0; attempt < 8; attempt++) {
      const res = await this.client.send(new BatchGetItemCommand({ RequestItems: request }));
      for (const it of res.Responses?.[this.tableName] ?? []) {
        const item = unmarshall(it);
        out.set(item.sk as string, item);
      }
      const left = res.UnprocessedKeys?.[this.tableName]?.Keys;
      if (!left || left.length === 0) return out;
      request = { [this.tableName]: { Keys: left, ConsistentRead: true } };
      await new Promise((r) => setTimeout(r, 10 * 2 ** attempt));
    }
    throw new Error('the credit file could not be read (unprocessed keys after 8 attempts)');
  }

  private async prefix(pk: string, prefix: string): Promise<Record<string, unknown>[]> {
    return this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': { S: pk }, ':p': { S: prefix } },
      ConsistentRead: true,
    });
  }

  /**
   * The latest `a/b` and `b/a` on or before the day; with neither on file, those of the legs of a
   * cross rate through each pivot (functions/core/fx.ts, `PIVOTS`): one more round trip, only then.
   */
  private async rates(a: string, b: string, asOf: string): Promise<FxRate[]> {
    const stored = await this.eachWay(a, b, asOf);
    if (stored.length > 0) return stored;
    const legs = await Promise.all(
      PIVOTS.filter((p) => p !== a && p !== b).flatMap((p) => [
        this.eachWay(a, p, asOf),
        this.eachWay(p, b, asOf),
      ]),
    );
    return legs.flat();
  }

  /** The latest rate of each direction dated on or before the day: one item each, not the pair's history. */
  private async eachWay(a: string, b: string, asOf: string): Promise<FxRate[]> {
    const found = await Promise.all(
      [`FX#${a}#${b}`, `FX#${b}#${a}`].map(async (pk) => {
        const res = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND sk <= :d',
            ExpressionAttributeValues: { ':pk': { S: pk }, ':d': { S: asOf } },
            ScanIndexForward: false,
            Limit: 1,
          }),
        );
        return (res.Items ?? []).map((it) => strip<FxRate>(unmarshall(it)));
      }),
    );
    return found.flat();
  }

  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await this.client.send(
        new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start }),
      );
      for (const it of res.Items ?? []) out.push(unmarshall(it));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
