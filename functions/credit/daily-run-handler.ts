// AWS wiring only: the daily evaluation's steps, called by statemachines/daily-evaluation.asl.json
// (list and report by the steps function, each batch by the batch function: the same code).
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { lambdaHandler, traced } from '../adapters/lambda.ts';
import { S3DailyRunFiles } from '../adapters/s3-evaluations.ts';
import { SnsAlertNotifier } from '../adapters/sns-alerts.ts';
import { METRICS_NAMESPACE } from '../core/metrics.ts';
import {
  DailyRunApp,
  type DailyRunReport,
  type DailyRunStep,
  recordDailyReport,
  reportOutput,
} from './daily-run.ts';
import { policyInForce } from './policy.ts';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

const logger = new Logger();
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'evaluate' });
const store = new DynamoStore({ tableName: env('TABLE_NAME'), client: traced(new DynamoDBClient({})) });
const app = new DailyRunApp({
  store,
  notifier: new SnsAlertNotifier(env('ALERTS_TOPIC_ARN'), traced(new SNSClient({}))),
  files: new S3DailyRunFiles(traced(new S3Client({})), env('RUNS_BUCKET')),
  policy: async () => policyInForce(await store.getPolicy(), DEFAULT_POLICY_DOCUMENT),
  clock: { now: () => new Date() },
  timeZone: process.env.SENTINEL_TIME_ZONE ?? 'UTC',
});

const runIdOf = (event: DailyRunStep) =>
  event.step === 'batch' || event.step === 'batchFailed' ? event.BatchInput.runId : event.runId;

/**
 * The state machine's Task states: list, batch (one Distributed Map batch), batchFailed, report.
 * Traced, the run id as the correlation id, the metrics published at the end, failed or not.
 */
export const handler = lambdaHandler(
  async (event: DailyRunStep): Promise<unknown> => {
    const out = await app.run(event);
    if (event.step === 'batch') logger.info('batch evaluated', { ...out });
    if (event.step === 'batchFailed')
      logger.error('batch failed after its retries', { customers: event.Items.length, error: event.error });
    if (event.step !== 'report') return out;
    const report = out as DailyRunReport;
    recordDailyReport(metrics, report);
    const { failedBatches: _f, notEvaluated: _n, ...summary } = report;
    if (report.notEvaluated.length > 0)
      logger.error('customers not evaluated', {
        ...summary,
        notEvaluated: report.notEvaluated.length,
        failedBatches: reportOutput(report).failedBatches,
      });
    else logger.info('daily evaluation reported', summary);
    return reportOutput(report);
  },
  { logger, metrics, correlation: runIdOf },
);
