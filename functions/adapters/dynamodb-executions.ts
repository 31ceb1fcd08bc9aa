import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * The local workflow engine's journal of executions that have not finished, in the same single
 * table (Step Functions keeps this on AWS; aws-local-stepfunctions keeps it only in memory):
 *
 *   pk                      sk           item
 *   LOCALEXEC#<workflow>    <name>       `{name, startedAt}` while the execution runs
 *
 * An item is put before an execution starts and deleted once it ends (succeeded or failed); a
 * process that stops (or is killed) leaves it, so the next `npm start` finds every execution it
 * must carry on. Written only by the local runtime.
 */
export interface RunningExecution {
  readonly name: string;
  readonly startedAt: string;
}

const pkOf = (workflow: string) => `LOCALEXEC#${workflow}`;

export class DynamoExecutionJournal {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly workflow: string,
  ) {}

  /** Notes an execution as running (idempotent: a resumed execution keeps its first start). */
  async started(name: string, startedAt: string): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ pk: pkOf(this.workflow), sk: name, type: 'local-execution', name, startedAt }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
    }
  }

  /** Forgets an execution that ended. */
  async finished(name: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: pkOf(this.workflow) }, sk: { S: name } },
      }),
    );
  }

  /** Every execution noted as running, by name. */
  async running(): Promise<RunningExecution[]> {
    const out: RunningExecution[] = [];
    let start: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pkOf(this.workflow) } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const v = unmarshall(item) as RunningExecution;
        out.push({ name: v.name, startedAt: v.startedAt });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
