// AWS wiring only: builds the adapters from the environment and hands them to the handler.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { traced, traceHandler } from '../adapters/lambda.ts';
import { SnsAlertNotifier } from '../adapters/sns-alerts.ts';
import { createEvaluateHandler } from './app.ts';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

const logger = new Logger();

/** A schedule, a what-if or a queue of changes: no one id to correlate (each run logs its own). */
export const handler = traceHandler(
  createEvaluateHandler({
    store: new DynamoStore({ tableName: env('TABLE_NAME'), client: traced(new DynamoDBClient({})) }),
    notifier: new SnsAlertNotifier(env('ALERTS_TOPIC_ARN'), traced(new SNSClient({}))),
    clock: { now: () => new Date() },
    timeZone: process.env.SENTINEL_TIME_ZONE ?? 'UTC',
    logger,
    metrics: new Metrics(),
  }),
  logger,
);
