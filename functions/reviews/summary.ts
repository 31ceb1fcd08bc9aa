import type { ReviewRun } from './ports.ts';

/** The summary people are sent: subject and text (SNS on AWS, the outbox here). */
export function reviewSummary(run: ReviewRun): { subject: string; text: string } {
  const c = run.counts;
  const text = c
    ? [
        `Credit review as of ${run.asOf} (run ${run.runId}, policy ${run.policyId}).`,
        `${run.selected} customers due: ${c.reviewed} reviewed, ${c.failed} failed.`,
        `Limits: ${c.outcomes.cut} cut, ${c.outcomes.raise} raised, ${c.outcomes.approval} sent for approval, ${c.outcomes.keep} kept.`,
        `Ratings: ${c.ratingUp} up, ${c.ratingDown} down. ${c.attention} need attention.`,
        run.report ? `Report: ${run.report.html}` : '',
      ]
        .filter(Boolean)
        .join('\n')
    : `Credit review ${run.runId} as of ${run.asOf}: ${run.status}`;
  return {
    subject: `Credit review ${run.asOf}: ${c?.reviewed ?? 0} reviewed, ${c?.failed ?? 0} failed, ${c?.attention ?? 0} need attention`,
    text,
  };
}
