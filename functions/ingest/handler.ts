// AWS wiring only: builds the adapters from the environment and hands them to the handler.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { S3ObjectStore } from '../adapters/s3.ts';
import { SnsChangeNotifier } from '../adapters/sns.ts';
import { createIngestHandler } from './app.ts';
import { ProfileCatalog } from './uploads.ts';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

const tableName = env('TABLE_NAME');
const dynamo = new DynamoDBClient({});
const store = new DynamoStore({ tableName, client: dynamo });

export const handler = createIngestHandler({
  ingest: {
    store,
    notifier: new SnsChangeNotifier(env('CHANGES_TOPIC_ARN')),
    clock: { now: () => new Date() },
    timeZone: process.env.SENTINEL_TIME_ZONE ?? 'UTC',
  },
  objects: new S3ObjectStore(),
  profiles: new ProfileCatalog(),
  policies: store,
  dynamo,
  tableName: process.env.IDEMPOTENCY_TABLE_NAME ?? tableName,
  logger: new Logger(),
  metrics: new Metrics(),
});
