// AWS wiring only: builds the transfer store from the environment and hands it to the gauges handler.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { s3AuditAnchors, secretsManagerAuditKey } from '../adapters/audit-aws.ts';
import { DynamoTransferStore } from '../adapters/dynamodb-transfers.ts';
import { traced, traceHandler } from '../adapters/lambda.ts';
import { METRICS_NAMESPACE } from '../core/metrics.ts';
import { createGaugesHandler } from './app.ts';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

const store = new DynamoTransferStore({
  tableName: env('TABLE_NAME'),
  client: traced(new DynamoDBClient({})),
});
// The hourly anchor of the audit head (AUDIT_KEY_SECRET_ARN, AUDIT_ANCHOR_BUCKET): this function
// reads the head and signs it; it never appends to the trail.
const keySecret = process.env.AUDIT_KEY_SECRET_ARN;
const anchorBucket = process.env.AUDIT_ANCHOR_BUCKET;
const anchors =
  keySecret && anchorBucket
    ? s3AuditAnchors({
        client: traced(new S3Client({})),
        bucket: anchorBucket,
        key: secretsManagerAuditKey(traced(new SecretsManagerClient({})), keySecret),
      })
    : undefined;

const logger = new Logger();

/** Scheduled every 5 minutes: no id to correlate. */
export const handler = traceHandler(
  createGaugesHandler({
    store,
    clock: { now: () => new Date() },
    logger,
    // The gauges belong to the transfers service in the catalogue, whatever this function is called.
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'transfers' }),
    ...(anchors
      ? {
          auditAnchor: async () => {
            const head = await store.auditHead();
            return head ? anchors.anchor(head) : undefined;
          },
        }
      : {}),
  }),
  logger,
);
