// AWS wiring only: builds the adapters from the environment and hands them to the handler.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { SnsAlertNotifier } from '../adapters/sns-alerts.ts';
import { createEvaluateHandler } from './app.ts';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

export const handler = createEvaluateHandler({
  store: new DynamoStore({ tableName: env('TABLE_NAME'), client: new DynamoDBClient({}) }),
  notifier: new SnsAlertNotifier(env('ALERTS_TOPIC_ARN')),
  clock: { now: () => new Date() },
  timeZone: process.env.SENTINEL_TIME_ZONE ?? 'UTC',
  logger: new Logger(),
  metrics: new Metrics(),
});
