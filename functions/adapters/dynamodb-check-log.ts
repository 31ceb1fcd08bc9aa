import { randomBytes } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { CheckLog, CheckLogChain, LoggedCheck } from '../checks/log.ts';
import type { AuditEvent } from '../core/audit.ts';
import { mapLimit } from '../core/concurrency.ts';
import { MARSHALL, SUMMARY_SHARDS, shardOf } from './dynamodb.ts';
import { TABLE_SCHEMA } from './table-schema.ts';

/** A logged check's sort key prefix in its customer's partition. */
export const CHECKLOG = 'CHECKLOG#';
/** The sparse index's partition of the entries waiting to be chained, by shard of the customer. */
const waitingPk = (shard: number) => `CHECKLOG#${shard}`;
const conditionFailed = (e: unknown) =>
  e instanceof ConditionalCheckFailedException ||
  (e instanceof Error && e.name === 'ConditionalCheckFailedException');

/**
 * The credit checks' log in the single table (functions/checks/log.ts): each decision one item
 * `CHECKLOG#<at>#<order>#<nonce>` in its customer's partition, kept after it is chained (the
 * customer's checks, with `chainedSeq`: the audit record that holds it). While it waits it
 * carries the index's keys (`gsi1pk` `CHECKLOG#<shard>`, `gsi1sk` its instant), so the chainer
 * finds what waits without a scan; chaining removes them.
 */
export class DynamoCheckLog implements CheckLog, CheckLogChain {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async logCheck(customerId: string, event: AuditEvent): Promise<void> {
    const nonce = randomBytes(4).toString('hex');
    const order = (event.data as { orderId?: unknown } | null)?.orderId;
    const sk = `${CHECKLOG}${event.at}#${typeof order === 'string' ? order : ''}#${nonce}`;
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(
          {
            pk: `CUST#${customerId}`,
            sk,
            type: 'check-log',
            customerId,
            event: { ...event, data: JSON.parse(JSON.stringify(event.data ?? null)) },
            [TABLE_SCHEMA.gsi.partitionKey]: waitingPk(shardOf(customerId)),
            [TABLE_SCHEMA.gsi.sortKey]: `${event.at}#${customerId}#${nonce}`,
          },
          MARSHALL,
        ),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async pending(limit: number): Promise<LoggedCheck[]> {
    const shards = await Promise.all(
      Array.from({ length: SUMMARY_SHARDS }, async (_, shard) => {
        const res = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: TABLE_SCHEMA.gsi.name,
            KeyConditionExpression: '#p = :p',
            ExpressionAttributeNames: { '#p': TABLE_SCHEMA.gsi.partitionKey },
            ExpressionAttributeValues: { ':p': { S: waitingPk(shard) } },
            ScanIndexForward: true,
            Limit: limit,
          }),
        );
        return (res.Items ?? []).map((it) => {
          const x = unmarshall(it);
          return {
            customerId: x.customerId as string,
            key: x.sk as string,
            event: x.event as AuditEvent,
            batch: x.batch as string | undefined,
            claimedAt: x.claimedAt as string | undefined,
            order: x[TABLE_SCHEMA.gsi.sortKey] as string,
          };
        });
      }),
    );
    return shards
      .flat()
      .sort((a, b) => a.order.localeCompare(b.order))
      .map(({ order: _, ...l }) => l);
  }

  async claim(entries: readonly LoggedCheck[], batch: string, at: string): Promise<LoggedCheck[]> {
    const claimed = await mapLimit(entries, 16, async (l) => {
      try {
        await this.update(
          l,
          'SET #b = :b, claimedAt = :at',
          'attribute_exists(#g) AND attribute_not_exists(#b)',
          {
            ':b': { S: batch },
            ':at': { S: at },
          },
        );
        return l;
      } catch (e) {
        if (conditionFailed(e)) return undefined;
        throw e;
      }
    });
    return claimed
      .filter((l): l is LoggedCheck => l !== undefined)
      .map((l) => ({ ...l, batch, claimedAt: at }));
  }

  async markChained(entries: readonly LoggedCheck[], batch: string, seq: number): Promise<void> {
    await mapLimit(entries, 16, (l) =>
      this.update(l, 'SET chainedSeq = :seq REMOVE #g, #gs, #b, claimedAt', '#b = :b', {
        ':b': { S: batch },
        ':seq': { N: String(seq) },
      }).catch((e: unknown) => {
        // Marked already (a retry of the same batch): nothing to do.
        if (!conditionFailed(e)) throw e;
      }),
    );
  }

  async unclaim(entries: readonly LoggedCheck[], batch: string): Promise<void> {
    await mapLimit(entries, 16, (l) =>
      this.update(l, 'REMOVE #b, claimedAt', '#b = :b', { ':b': { S: batch } }).catch((e: unknown) => {
        if (!conditionFailed(e)) throw e;
      }),
    );
  }

  private async update(
    l: LoggedCheck,
    expression: string,
    condition: string,
    values: Record<string, { S: string } | { N: string }>,
  ): Promise<void> {
    const names: Record<string, string> = { '#b': 'batch' };
    if (expression.includes('#g') || condition.includes('#g')) names['#g'] = TABLE_SCHEMA.gsi.partitionKey;
    if (expression.includes('#gs')) names['#gs'] = TABLE_SCHEMA.gsi.sortKey;
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: `CUST#${l.customerId}` }, sk: { S: l.key } },
        UpdateExpression: expression,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }
}
