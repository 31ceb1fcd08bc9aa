import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ClaimResult, UploadClaim, UploadClaims } from '../ingest/ports.ts';
import { MARSHALL } from './dynamodb.ts';

/**
 * The claim an ingest holds on one uploaded object version while it runs (in the single table,
 * `IDEMPOTENCY / ingest#<object>`), and its result once done, so a redelivered message finds the
 * result instead of ingesting again. Every write is conditional on the claimant's own token, so a
 * retried write whose first response was lost recognises its own claim.
 */
export class DynamoUploadClaims implements UploadClaims {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  private key(id: string) {
    return { pk: { S: 'IDEMPOTENCY' }, sk: { S: `ingest#${id}` } };
  }

  async get(id: string): Promise<UploadClaim | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.key(id), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { pk: _p, sk: _s, type: _t, ...claim } = unmarshall(out.Item);
    return claim as UploadClaim;
  }

  async claim(
    id: string,
    mine: { token: string; process?: string | undefined; now: Date; leaseMs: number },
    takeOverFrom?: string,
  ): Promise<ClaimResult> {
    const now = mine.now.getTime();
    const item = {
      pk: 'IDEMPOTENCY',
      sk: `ingest#${id}`,
      type: 'upload-claim',
      status: 'running',
      token: mine.token,
      process: mine.process,
      startedAt: mine.now.toISOString(),
      beatAt: mine.now.toISOString(),
      leaseUntil: now + mine.leaseMs,
    };
    try {
      const out = await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(item, MARSHALL),
          ConditionExpression:
            'attribute_not_exists(pk) OR #k = :me OR #s = :failed OR (#s = :running AND (#l < :now OR #k = :from))',
          ExpressionAttributeNames: { '#k': 'token', '#s': 'status', '#l': 'leaseUntil' },
          ExpressionAttributeValues: marshall({
            ':me': mine.token,
            ':failed': 'failed',
            ':running': 'running',
            ':now': now,
            ':from': takeOverFrom ?? mine.token,
          }),
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = out.Attributes ? (unmarshall(out.Attributes) as UploadClaim) : undefined;
      return { kind: 'claimed', before: old && old.token !== mine.token ? old : undefined };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
    const held = await this.get(id);
    if (!held) return this.claim(id, mine, takeOverFrom); // gone meanwhile: try again
    if (held.status === 'done') return { kind: 'done', claim: held };
    return { kind: 'busy', claim: held };
  }

  async renew(id: string, token: string, now: Date, leaseMs: number): Promise<boolean> {
    return this.update(id, token, 'SET #b = :b, #l = :l', {
      ':b': now.toISOString(),
      ':l': now.getTime() + leaseMs,
    });
  }

  async complete(id: string, token: string, now: Date, result: unknown): Promise<void> {
    await this.update(id, token, 'SET #s = :done, #r = :r, #f = :f REMOVE #l', {
      ':done': 'done',
      ':r': result ?? null,
      ':f': now.toISOString(),
    });
  }

  async fail(id: string, token: string, now: Date, reason: string): Promise<void> {
    await this.update(id, token, 'SET #s = :failed, #e = :e, #f = :f REMOVE #l', {
      ':failed': 'failed',
      ':e': reason,
      ':f': now.toISOString(),
    });
  }

  /** An update of the claim while this token holds it; false when another took it over. */
  private async update(
    id: string,
    token: string,
    expression: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#k': 'token' };
    for (const [n, a] of [
      ['#s', 'status'],
      ['#l', 'leaseUntil'],
      ['#b', 'beatAt'],
      ['#r', 'result'],
      ['#f', 'finishedAt'],
      ['#e', 'reason'],
    ] as const)
      if (expression.includes(n)) names[n] = a;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(id),
          UpdateExpression: expression,
          ConditionExpression: '#k = :me',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall({ ...values, ':me': token }, MARSHALL),
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }
}
