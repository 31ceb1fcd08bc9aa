import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CollectionsRunReport } from './run.ts';

/**
 * The collections metrics of functions/core/metrics.ts, for one run or batch: RemindersSent by
 * level and channel, each pair on its own record (Powertools' single metric) so the dimensions stay
 * on that metric alone, and RemindersFailed. A step a retry finds sent already is held, not sent,
 * so a retried batch counts each step once. A dry run sends nothing and counts no step.
 *
 * Then the day's figures (functions/collections/figures.ts): promises rated final on the day,
 * disputes open on it. They describe the books, not what the run did, so a dry run (on AWS, a
 * deployment without a sender identity) emits them too. Every run of a day would emit them again,
 * so only a batch that finished every step does: a batch whose send failed throws after this and
 * is retried, and its retry (same customers, same day, same figures) emits them once. On AWS the
 * schedule starts one run a day, and the dashboard adds a day's batches up; a second execution
 * started by hand for the same day would count twice there. The run's id and day go with them as
 * metadata (log fields, not dimensions), so the local ops page counts each day's latest run once
 * however often `sentinel start` ran it.
 */
export function recordCollections(metrics: Metrics, report: CollectionsRunReport): void {
  if (!report.dryRun) {
    for (const [level, channels] of Object.entries(report.byLevel))
      for (const [channel, n] of Object.entries(channels))
        metrics
          .singleMetric()
          .addDimension('level', level)
          .addDimension('channel', channel)
          .addMetric('RemindersSent', MetricUnit.Count, n);
    metrics.addMetric('RemindersFailed', MetricUnit.Count, report.failed);
  }
  const f = report.figures;
  if (!f || report.failed > 0) return;
  metrics.addMetadata('runId', report.claimant);
  metrics.addMetadata('asOf', report.asOf);
  metrics.addMetric('PromisesKept', MetricUnit.Count, f.promises.kept);
  metrics.addMetric('PromisesPartial', MetricUnit.Count, f.promises.partial);
  metrics.addMetric('PromisesBroken', MetricUnit.Count, f.promises.broken);
  metrics.addMetric('DisputesOpen', MetricUnit.Count, f.disputes.open);
  metrics.addMetric('DisputeAnswersOverdue', MetricUnit.Count, f.disputes.overdue);
  // A gauge: the dashboard takes the batches' maximum (0 when a batch has none open).
  metrics.addMetric('OldestDisputeDays', MetricUnit.Count, f.disputes.oldestDays);
}
