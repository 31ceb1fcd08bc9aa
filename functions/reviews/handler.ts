// AWS wiring only: the periodic review's steps function, called by statemachines/periodic-review.asl.json.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { DynamoReviewStore } from '../adapters/dynamodb-reviews.ts';
import { lambdaHandler, traced } from '../adapters/lambda.ts';
import { SnsReviewNotifier, s3ReviewStores } from '../adapters/reviews-aws.ts';
import { SnsChangeNotifier } from '../adapters/sns.ts';
import { METRICS_NAMESPACE } from '../core/metrics.ts';
import { policyInForce } from '../credit/policy.ts';
import { limitApprovals } from '../transfers/app.ts';
import { auditFromEnv, env, transferAppFromEnv } from '../transfers/wiring.ts';
import { ReviewApp, type ReviewStep } from './app.ts';
import { recordReviewStep } from './metrics.ts';

const logger = new Logger();
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'reviews' });
const client = traced(new DynamoDBClient({}));
const tableName = env('TABLE_NAME');
const creditStore = new DynamoStore({ tableName, client });
const { manifests, reports } = s3ReviewStores(traced(new S3Client({})), env('REPORTS_BUCKET'));
// Large increases become credit releases on the transfer approval chain (STATE_MACHINE_ARN).
const transferMetrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'transfers' });
const transfers = transferAppFromEnv({ client, logger, metrics: transferMetrics });
const sns = traced(new SNSClient({}));

const app = new ReviewApp({
  store: new DynamoReviewStore({ tableName, client, ...auditFromEnv() }),
  manifests,
  reports,
  notifier: new SnsReviewNotifier(sns, env('REVIEWS_TOPIC_ARN')),
  approvals: limitApprovals(transfers),
  policy: async () => policyInForce(await creditStore.getPolicy(), DEFAULT_POLICY_DOCUMENT),
  clock: { now: () => new Date() },
  timeZone: process.env.SENTINEL_TIME_ZONE ?? 'UTC',
  changes: new SnsChangeNotifier(env('CHANGES_TOPIC_ARN'), sns),
});

const runIdOf = (event: ReviewStep) => (event.step === 'review' ? event.BatchInput.runId : event.runId);

/**
 * The state machine's Task states: select, review (one Distributed Map batch), report. Traced, the
 * run id as the correlation id; both metric sets (reviews, and transfers for the credit releases a
 * batch asks for) are published at the end, failed or not.
 */
export const handler = lambdaHandler(
  async (event: ReviewStep): Promise<unknown> => {
    logger.info('review step', {
      step: event.step,
      runId: runIdOf(event),
      ...(event.step === 'review' ? { items: event.Items.length } : {}),
    });
    const out = await app.run(event);
    recordReviewStep(metrics, event.step, out);
    return out;
  },
  { logger, metrics: [metrics, transferMetrics], correlation: runIdOf },
);
