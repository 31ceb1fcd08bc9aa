import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type MetricName, metricSpec } from '../core/metrics.ts';
import type { Clock } from '../ingest/ports.ts';
import type { TransferStore } from '../transfers/ports.ts';
import { type ApprovalGauges, gaugesOf } from './gauges.ts';

export interface GaugesHandlerDeps {
  readonly store: Pick<TransferStore, 'listPendingApprovals'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Must carry the `transfers` service: the catalogue lists both gauges under it. */
  readonly metrics: Metrics;
}

/**
 * The ops gauges Lambda, run on a schedule: reads the pending approvals and emits ApprovalsPending
 * and OldestApprovalAge (the approval SLA alarm watches the second). Whatever event triggers it is
 * ignored: a gauge measures now. A store failure fails the invocation (the function's Errors alarm).
 */
export function createGaugesHandler(deps: GaugesHandlerDeps) {
  const { logger, metrics } = deps;
  // Unit from the catalogue, so the EMF and the dashboard cannot disagree.
  const emit = (name: MetricName, value: number) =>
    metrics.addMetric(name, MetricUnit[metricSpec(name).unit], value);

  const base = async (_event: unknown, _context: Context): Promise<ApprovalGauges> => {
    const gauges = gaugesOf(await deps.store.listPendingApprovals(), deps.clock.now());
    emit('ApprovalsPending', gauges.approvalsPending);
    emit('OldestApprovalAge', gauges.oldestApprovalAgeSeconds);
    logger.info('approval gauges', { ...gauges });
    return gauges;
  };

  return middy(base).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
