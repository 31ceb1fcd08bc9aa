// AWS wiring only: credit checks behind a Lambda function URL with IAM auth (the order systems
// that call it sign with SigV4), the same handler the local console mounts under /api.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { DynamoCheckLog } from '../adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../adapters/dynamodb-checks.ts';
import { lambdaHandler, traced } from '../adapters/lambda.ts';
import { dateInZone } from '../core/dates.ts';
import { METRICS_NAMESPACE } from '../core/metrics.ts';
import { policyInForce } from '../credit/policy.ts';
import { type FunctionUrlEvent, requestId, toRequest, toResult } from '../transfers/http.ts';
import { env } from '../transfers/wiring.ts';
import { creditChecksHttp } from './http.ts';

const logger = new Logger();
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'credit-checks' });
const client = traced(new DynamoDBClient({}));
const tableName = env('TABLE_NAME');
const timeZone = process.env.SENTINEL_TIME_ZONE ?? 'UTC';
const policies = new DynamoStore({ tableName, client });

const checks = creditChecksHttp(
  {
    store: new DynamoCheckStore(client, tableName),
    // Each decision in its customer's partition; the chainer (chain-handler.ts) puts them on the trail.
    log: new DynamoCheckLog(client, tableName),
  },
  {
    policy: async () => policyInForce(await policies.getPolicy(), DEFAULT_POLICY_DOCUMENT),
    today: () => dateInZone(new Date(), timeZone),
    now: () => new Date(),
    channel: 'api',
  },
);

/** POST /credit-checks and /credit-checks/cancel (function URL, IAM auth). */
export const handler = lambdaHandler(
  async (event: FunctionUrlEvent) => toResult(await checks(toRequest(event))),
  { logger, metrics, correlation: requestId },
);
