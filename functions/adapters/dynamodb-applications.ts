import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ApplicationStore } from '../applications/app.ts';
import type { CreditApplication } from '../applications/application.ts';
import type { Customer } from '../core/records.ts';
import { MARSHALL, strip } from './dynamodb.ts';
import { TABLE_SCHEMA } from './table-schema.ts';

/**
 * Credit applications in the single table (README "Credit applications"):
 *
 *   pk                 sk                     item
 *   CUST#<customer>    APPLICATION            the customer's latest application (gsi1: APPLICATIONS /
 *                                             <filed at>#<customer>); every write is conditional on
 *                                             its `version`, and a new one only over one no longer pending
 *   CUST#<customer>    APPLICATION#<n, 6 digits>  an earlier application, kept when a new one replaced it
 *
 * A credit check reads `APPLICATION` by key with the other fixed items (dynamodb-checks.ts).
 */
export const APPLICATION = 'APPLICATION';
const GSI = TABLE_SCHEMA.gsi;
const LIST_KEY = 'APPLICATIONS';
const META = ['pk', 'sk', 'type', GSI.partitionKey, GSI.sortKey] as const;
const custPk = (id: string) => `CUST#${id}`;
const archiveSk = (n: number) => `${APPLICATION}#${String(n).padStart(6, '0')}`;
const conditionFailed = (e: unknown) =>
  e instanceof ConditionalCheckFailedException ||
  (e instanceof Error && e.name === 'ConditionalCheckFailedException');

/** `APP-<customer>-<n>` read back: the customer and the number. */
export function applicationKey(id: string): { customerId: string; n: number } | undefined {
  const m = /^APP-(.+)-(\d+)$/.exec(id);
  return m ? { customerId: m[1] as string, n: Number(m[2]) } : undefined;
}

export class DynamoApplicationStore implements ApplicationStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async current(customerId: string): Promise<CreditApplication | undefined> {
    return this.get(custPk(customerId), APPLICATION);
  }

  async byId(applicationId: string): Promise<CreditApplication | undefined> {
    const k = applicationKey(applicationId);
    if (!k) return undefined;
    const latest = await this.current(k.customerId);
    if (latest?.applicationId === applicationId) return latest;
    return this.get(custPk(k.customerId), archiveSk(k.n));
  }

  async profile(customerId: string): Promise<Customer | undefined> {
    return this.get(custPk(customerId), 'PROFILE');
  }

  /**
   * Writes a new application over the one read (`replaced`, undefined: none): only when nothing was
   * written since and the one replaced is no longer pending, so two filings at once store one. The
   * one replaced is kept under its number first.
   */
  async fileNew(
    a: CreditApplication,
    replaced: CreditApplication | undefined,
  ): Promise<'written' | 'conflict'> {
    if (replaced) await this.put(this.itemOf(replaced, archiveSk(numberOf(replaced))));
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(this.itemOf(a, APPLICATION), MARSHALL),
          ConditionExpression: replaced ? '#v = :v AND #s <> :pending' : 'attribute_not_exists(pk)',
          ...(replaced
            ? {
                ExpressionAttributeNames: { '#v': 'version', '#s': 'state' },
                ExpressionAttributeValues: {
                  ':v': { N: String(replaced.version) },
                  ':pending': { S: 'pending' },
                },
              }
            : {}),
        }),
      );
      return 'written';
    } catch (e) {
      if (conditionFailed(e)) return 'conflict';
      throw e;
    }
  }

  /** Writes the application over the version read; `conflict` when someone wrote since. */
  async update(next: CreditApplication, expectedVersion: number): Promise<'written' | 'conflict'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(this.itemOf(next, APPLICATION), MARSHALL),
          ConditionExpression: '#v = :v AND #id = :id',
          ExpressionAttributeNames: { '#v': 'version', '#id': 'applicationId' },
          ExpressionAttributeValues: {
            ':v': { N: String(expectedVersion) },
            ':id': { S: next.applicationId },
          },
        }),
      );
      return 'written';
    } catch (e) {
      if (conditionFailed(e)) return 'conflict';
      throw e;
    }
  }

  /** Every customer's latest application, newest first. */
  async list(): Promise<CreditApplication[]> {
    const out: CreditApplication[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: GSI.name,
          KeyConditionExpression: '#p = :p',
          ExpressionAttributeNames: { '#p': GSI.partitionKey },
          ExpressionAttributeValues: { ':p': { S: LIST_KEY } },
          ScanIndexForward: false,
          ExclusiveStartKey: start,
        }),
      );
      for (const it of res.Items ?? []) out.push(strip<CreditApplication>(unmarshall(it), META));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /**
   * The customer's master data from the application, where it has none: each field only if absent
   * (an uploaded customers row is never overwritten), so the approved limit lands on a customer on
   * file. The limit itself is the approval chain's write (DynamoReviewStore.setCreditLimit).
   */
  async openAccount(a: CreditApplication): Promise<void> {
    const fields: Record<string, unknown> = {
      customerId: a.customerId,
      type: 'customer',
      name: a.name,
      country: a.country,
      currency: a.currency,
      registrationNo: a.registrationNo,
      industry: a.industry,
      paymentTermsDays: a.paymentTermsDays,
      openedBy: a.applicationId,
    };
    const set = Object.entries(fields).filter(([, v]) => v !== undefined);
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: custPk(a.customerId), sk: 'PROFILE' }),
        UpdateExpression: `SET ${set.map((_, i) => `#f${i} = if_not_exists(#f${i}, :v${i})`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(set.map(([k], i) => [`#f${i}`, k])),
        ExpressionAttributeValues: marshall(
          Object.fromEntries(set.map(([, v], i) => [`:v${i}`, v])),
          MARSHALL,
        ),
      }),
    );
  }

  private itemOf(a: CreditApplication, sk: string): Record<string, unknown> {
    return {
      ...a,
      pk: custPk(a.customerId),
      sk,
      type: 'application',
      ...(sk === APPLICATION
        ? { [GSI.partitionKey]: LIST_KEY, [GSI.sortKey]: `${a.filedAt}#${a.customerId}` }
        : {}),
    };
  }

  private async get<T>(pk: string, sk: string): Promise<T | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: marshall({ pk, sk }), ConsistentRead: true }),
    );
    return out.Item ? strip<T>(unmarshall(out.Item), META) : undefined;
  }

  private async put(item: Record<string, unknown>): Promise<void> {
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: marshall(item, MARSHALL) }));
  }
}

const numberOf = (a: CreditApplication) => applicationKey(a.applicationId)?.n ?? 0;
