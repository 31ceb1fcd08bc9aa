// AWS wiring only: builds the adapters from the environment and hands them to the handler.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import type { SQSEvent } from 'aws-lambda';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { DynamoCheckLog } from '../adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../adapters/dynamodb-checks.ts';
import { traced, traceHandler } from '../adapters/lambda.ts';
import { S3ObjectStore } from '../adapters/s3.ts';
import { SnsChangeNotifier } from '../adapters/sns.ts';
import type { OrderBookDeps } from '../checks/release.ts';
import type { PolicyChanges } from '../credit/ports.ts';
import { createIngestHandler, objectsInMessage } from './app.ts';
import { ProfileCatalog } from './uploads.ts';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

const tableName = env('TABLE_NAME');
const dynamo = traced(new DynamoDBClient({}));
const store = new DynamoStore({ tableName, client: dynamo });
const logger = new Logger();

/** The upload's S3 key: one upload per invocation (the queue's batch size is 1). */
const uploadKey = (event: SQSEvent): string | undefined => {
  const first = event.Records?.[0];
  return first ? objectsInMessage(first)[0]?.key : undefined;
};

const metrics = new Metrics();

/**
 * A policy uploaded under policy/ goes to the approval chain (README "The policy"): the transfer
 * app asks it (STATE_MACHINE_ARN names the transfer-approval state machine). Built on the first
 * policy upload only.
 */
const policies: PolicyChanges = {
  propose: async (p) => {
    if (!process.env.STATE_MACHINE_ARN)
      return {
        ok: false,
        field: 'policy',
        problem:
          'this ingest function is not wired to the approval chain (STATE_MACHINE_ARN is not set), so no policy change can be asked',
      };
    const { transferAppFromEnv } = await import('../transfers/wiring.ts');
    return transferAppFromEnv({ client: dynamo, logger, metrics }).requestPolicyChange(p);
  },
};

/**
 * The credit checks' order book (functions/checks/release.ts): an `orders` upload reserves its
 * open orders in the customers' `ORDERS` items, an invoice naming its order releases it; merges
 * and releases logged in the customers' partitions, chained to the audit trail by the checks'
 * chainer.
 */
const orders: OrderBookDeps = {
  store: new DynamoCheckStore(dynamo, tableName),
  log: new DynamoCheckLog(dynamo, tableName),
};

export const handler = traceHandler(
  createIngestHandler({
    ingest: {
      store,
      notifier: new SnsChangeNotifier(env('CHANGES_TOPIC_ARN'), traced(new SNSClient({}))),
      clock: { now: () => new Date() },
      timeZone: process.env.SENTINEL_TIME_ZONE ?? 'UTC',
      orders,
    },
    objects: new S3ObjectStore(traced(new S3Client({}))),
    profiles: new ProfileCatalog(),
    policies,
    dynamo,
    tableName: process.env.IDEMPOTENCY_TABLE_NAME ?? tableName,
    logger,
    metrics,
  }),
  logger,
  uploadKey,
);
