import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { BatchResult, ReportResult, ReviewStep, SelectResult } from './app.ts';

/**
 * The review metrics of functions/core/metrics.ts, counted once per run at its report (a retried
 * batch would count twice): ReviewsRun, ReviewsFailed, ReviewDuration, and LimitChanges by `change`
 * on their own records so the dimension stays on that metric alone.
 */
export function recordReviewStep(
  metrics: Metrics,
  step: ReviewStep['step'],
  out: SelectResult | BatchResult | ReportResult,
): void {
  if (step !== 'report') return;
  const { run, durationSeconds } = out as ReportResult;
  const c = run.counts;
  if (!c) return;
  metrics.addMetric('ReviewsRun', MetricUnit.Count, c.reviewed);
  metrics.addMetric('ReviewsFailed', MetricUnit.Count, c.failed);
  metrics.addMetric('ReviewDuration', MetricUnit.Seconds, durationSeconds);
  for (const change of ['cut', 'raise', 'approval'] as const)
    metrics
      .singleMetric()
      .addDimension('change', change)
      .addMetric('LimitChanges', MetricUnit.Count, c.outcomes[change]);
}
