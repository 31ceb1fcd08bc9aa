import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { AuditAnchor } from '../core/audit.ts';
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
  /**
   * Writes a signed anchor of the audit trail's current head where the store's writers cannot
   * rewrite it (undefined: the trail is empty). Run on `{ "type": "ops.audit-anchor" }`.
   */
  readonly auditAnchor?: () => Promise<AuditAnchor | undefined>;
}

/** The event of the hourly schedule that anchors the audit head. */
export const AUDIT_ANCHOR_EVENT = 'ops.audit-anchor';

/**
 * The ops gauges Lambda, run on a schedule: reads the pending approvals and emits ApprovalsPending
 * and OldestApprovalAge (the approval SLA alarm watches the second). Whatever event triggers it is
 * ignored (but the hourly `ops.audit-anchor`, which anchors the audit head): a gauge measures now. A store failure fails the invocation (the function's Errors alarm).
 */
export function createGaugesHandler(deps: GaugesHandlerDeps) {
  const { logger, metrics } = deps;
  // Unit from the catalogue, so the EMF and the dashboard cannot disagree.
  const emit = (name: MetricName, value: number) =>
    metrics.addMetric(name, MetricUnit[metricSpec(name).unit], value);

  const base = async (
    event: unknown,
    _context: Context,
  ): Promise<ApprovalGauges | { anchored: AuditAnchor | null }> => {
    if ((event as { type?: unknown } | null)?.type === AUDIT_ANCHOR_EVENT) {
      if (!deps.auditAnchor) throw new Error('no audit anchor bucket is configured (AUDIT_ANCHOR_BUCKET)');
      const anchored = (await deps.auditAnchor()) ?? null;
      logger.info('audit head anchored', { anchored });
      return { anchored };
    }
    const gauges = gaugesOf(await deps.store.listPendingApprovals(), deps.clock.now());
    emit('ApprovalsPending', gauges.approvalsPending);
    emit('OldestApprovalAge', gauges.oldestApprovalAgeSeconds);
    logger.info('approval gauges', { ...gauges });
    return gauges;
  };

  return middy(base).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
