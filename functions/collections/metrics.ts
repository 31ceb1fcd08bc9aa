import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CollectionsRunReport } from './run.ts';

/**
 * The collections metrics of functions/core/metrics.ts, for one run or batch: RemindersSent by
 * level and channel, each pair on its own record (Powertools' single metric) so the dimensions stay
 * on that metric alone, and RemindersFailed. A step a retry finds sent already is held, not sent,
 * so a retried batch counts each step once. A dry run sends nothing and counts nothing.
 */
export function recordCollections(metrics: Metrics, report: CollectionsRunReport): void {
  if (report.dryRun) return;
  for (const [level, channels] of Object.entries(report.byLevel))
    for (const [channel, n] of Object.entries(channels))
      metrics
        .singleMetric()
        .addDimension('level', level)
        .addDimension('channel', channel)
        .addMetric('RemindersSent', MetricUnit.Count, n);
  metrics.addMetric('RemindersFailed', MetricUnit.Count, report.failed);
}
