// AWS wiring only: the credit checks' chainer, invoked every minute by EventBridge Scheduler with
// a reserved concurrency of 1. It appends the decisions the checks logged in their customers'
// partitions to the audit trail in batches (functions/checks/log.ts), and says how far behind it is.
// Every 15 minutes the same function, given `{type: 'checks.recheck'}`, checks the hold queue again
// (functions/checks/holds.ts): held orders whose cause cleared are released, old ones expired.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { DynamoCheckLog } from '../adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../adapters/dynamodb-checks.ts';
import { DynamoTransferStore } from '../adapters/dynamodb-transfers.ts';
import { lambdaHandler, traced } from '../adapters/lambda.ts';
import { dateInZone } from '../core/dates.ts';
import { METRICS_NAMESPACE } from '../core/metrics.ts';
import { policyInForce } from '../credit/policy.ts';
import { auditFromEnv, env } from '../transfers/wiring.ts';
import { type RecheckReport, recheckHeld } from './holds.ts';
import { type ChainReport, chainCheckLog } from './log.ts';

const logger = new Logger();
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'credit-checks' });
const client = traced(new DynamoDBClient({}));
const tableName = env('TABLE_NAME');
const log = new DynamoCheckLog(client, tableName);
const audit = new DynamoTransferStore({ tableName, client, ...auditFromEnv() });
/** Stops taking new batches this long before the function's timeout; the next minute goes on. */
const RESERVE_MS = 15_000;

const checks = { store: new DynamoCheckStore(client, tableName), log };
const credit = new DynamoStore({ tableName, client });

/** The hold queue checked again as of today (the 15-minute schedule). */
async function recheck(): Promise<RecheckReport> {
  const policy = policyInForce(await credit.getPolicy(), DEFAULT_POLICY_DOCUMENT);
  const today = dateInZone(new Date(), process.env.SENTINEL_TIME_ZONE ?? 'UTC');
  const r = await recheckHeld(checks, policy, { today, now: new Date().toISOString() });
  metrics.addMetric('HeldOrdersReleased', MetricUnit.Count, r.released.length);
  metrics.addMetric('HeldOrdersExpired', MetricUnit.Count, r.expired.length);
  logger.info('held orders re-checked', {
    rechecked: r.rechecked,
    released: r.released.length,
    held: r.held.length,
    expired: r.expired.length,
    failed: r.failed.length,
  });
  // Its decisions wait in the customers' partitions: the next minute's chain appends them.
  return r;
}

export const handler = lambdaHandler(
  async (
    event: { readonly type?: string } | undefined,
    context: { getRemainingTimeInMillis(): number },
  ): Promise<ChainReport | RecheckReport> => {
    if (event?.type === 'checks.recheck') return recheck();
    let report: ChainReport = { batches: 0, chained: 0, recovered: 0, lagSeconds: 0 };
    // Batches of 100 until nothing waits or the time is nearly up.
    while (context.getRemainingTimeInMillis() > RESERVE_MS) {
      const r = await chainCheckLog({ log, audit }, { now: () => new Date(), maxBatches: 10 });
      report = {
        batches: report.batches + r.batches,
        chained: report.chained + r.chained,
        recovered: report.recovered + r.recovered,
        lagSeconds: r.lagSeconds,
      };
      if (r.batches < 10) break;
    }
    metrics.addMetric('ChecksChained', MetricUnit.Count, report.chained);
    metrics.addMetric('CheckLogLagSeconds', MetricUnit.Seconds, report.lagSeconds);
    if (report.recovered > 0) logger.warn('finished batches a stopped chainer had claimed', { ...report });
    else logger.info('credit checks chained', { ...report });
    return report;
  },
  { logger, metrics },
);
