// AWS wiring only: builds the transfer store from the environment and hands it to the gauges handler.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoTransferStore } from '../adapters/dynamodb-transfers.ts';
import { METRICS_NAMESPACE } from '../core/metrics.ts';
import { createGaugesHandler } from './app.ts';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

export const handler = createGaugesHandler({
  store: new DynamoTransferStore({ tableName: env('TABLE_NAME'), client: new DynamoDBClient({}) }),
  clock: { now: () => new Date() },
  logger: new Logger(),
  // The gauges belong to the transfers service in the catalogue, whatever this function is called.
  metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'transfers' }),
});
