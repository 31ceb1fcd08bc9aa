// AWS wiring only: the customer portal behind a Lambda function URL (no AWS auth: the signed link
// in the reminder is the credential), the same handler the local console serves.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { DynamoTransferStore } from '../adapters/dynamodb-transfers.ts';
import { lambdaHandler, traced } from '../adapters/lambda.ts';
import { dateInZone } from '../core/dates.ts';
import { METRICS_NAMESPACE } from '../core/metrics.ts';
import { policyInForce } from '../credit/policy.ts';
import { type FunctionUrlEvent, requestId, toRequest, toResult } from '../transfers/http.ts';
import { auditFromEnv, env, linkKeys } from '../transfers/wiring.ts';
import { portalHttp } from './portal.ts';

const logger = new Logger();
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'collections' });
const client = traced(new DynamoDBClient({}));
const tableName = env('TABLE_NAME');
const timeZone = process.env.SENTINEL_TIME_ZONE ?? 'UTC';
const store = new DynamoStore({ tableName, client });

const portal = portalHttp({
  store,
  // Promises and disputes made here go on the one audit trail (its key and anchors).
  audit: new DynamoTransferStore({ tableName, client, ...auditFromEnv() }),
  policy: async () => policyInForce(await store.getPolicy(), DEFAULT_POLICY_DOCUMENT),
  keys: linkKeys,
  clock: { now: () => new Date() },
  today: () => dateInZone(new Date(), timeZone),
});

/** GET /portal/<token> shows the statement; POST /portal/<token>/promise|dispute records, then redirects. */
export const handler = lambdaHandler(
  async (event: FunctionUrlEvent) => toResult(await portal(toRequest(event))),
  { logger, metrics, correlation: requestId },
);
