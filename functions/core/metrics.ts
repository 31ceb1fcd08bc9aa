/**
 * Every metric the product emits (Powertools EMF, one namespace), with its unit and dimensions:
 * the one list the handlers emit from, the CloudWatch dashboard and alarms are built from, the
 * local ops page reads back, and the README documents. A name not listed here is not emitted.
 *
 * Every metric carries Powertools' `service` dimension (the function's service name); the extra
 * dimensions listed are added on top of it.
 */
export const METRICS_NAMESPACE = 'CreditSentinel';

export type MetricUnitName = 'Count' | 'Milliseconds' | 'Seconds';

export interface MetricSpec {
  readonly name: string;
  readonly unit: MetricUnitName;
  /** The Powertools service that emits it (the `service` dimension). */
  readonly service:
    | 'ingest'
    | 'evaluate'
    | 'slack'
    | 'transfers'
    | 'reviews'
    | 'collections'
    | 'credit-checks';
  /** Dimensions beyond `service`, with the values they take. */
  readonly dimensions?: Readonly<Record<string, readonly string[]>>;
  /** What it counts or measures, for the README and the dashboard. */
  readonly description: string;
}

export const METRICS = [
  // ingestion
  { name: 'RowsIngested', unit: 'Count', service: 'ingest', description: 'rows accepted and stored' },
  {
    name: 'RowsRejected',
    unit: 'Count',
    service: 'ingest',
    description: 'rows refused (in the rejects report)',
  },
  { name: 'FilesProcessed', unit: 'Count', service: 'ingest', description: 'uploads read and stored' },
  { name: 'FilesUnreadable', unit: 'Count', service: 'ingest', description: 'uploads rejected whole' },
  {
    name: 'IngestLatency',
    unit: 'Milliseconds',
    service: 'ingest',
    description: 'one upload, read to stored',
  },
  // evaluation and alerts
  { name: 'CustomersEvaluated', unit: 'Count', service: 'evaluate', description: 'customers assessed' },
  {
    name: 'AlertsRaised',
    unit: 'Count',
    service: 'evaluate',
    dimensions: { severity: ['info', 'warning', 'high', 'critical'] },
    description: 'alerts opened or escalated, by severity',
  },
  { name: 'AlertsResolved', unit: 'Count', service: 'evaluate', description: 'alerts that cleared' },
  { name: 'OpenAlerts', unit: 'Count', service: 'evaluate', description: 'active alerts after a run' },
  { name: 'EvaluationLatency', unit: 'Milliseconds', service: 'evaluate', description: 'one evaluation run' },
  { name: 'EvaluationsFailed', unit: 'Count', service: 'evaluate', description: 'runs that failed' },
  { name: 'MessagesUnreadable', unit: 'Count', service: 'evaluate', description: 'messages refused' },
  {
    name: 'EvaluationBatchesFailed',
    unit: 'Count',
    service: 'evaluate',
    description: 'daily-run batches that failed after their retries',
  },
  {
    name: 'CustomersNotEvaluated',
    unit: 'Count',
    service: 'evaluate',
    description: 'customers a daily run left (their batch failed)',
  },
  {
    name: 'HistoryItemsPacked',
    unit: 'Count',
    service: 'evaluate',
    description: 'settled invoices, payments and allocations packed',
  },
  {
    name: 'HistoryItemsDeleted',
    unit: 'Count',
    service: 'evaluate',
    description: 'full items deleted once packed',
  },
  { name: 'DigestsSent', unit: 'Count', service: 'evaluate', description: 'daily digests published' },
  { name: 'DigestsFailed', unit: 'Count', service: 'evaluate', description: 'digests that failed' },
  { name: 'SlackPosted', unit: 'Count', service: 'slack', description: 'Slack messages posted' },
  { name: 'SlackFailed', unit: 'Count', service: 'slack', description: 'Slack posts that failed' },
  { name: 'SlackNotConfigured', unit: 'Count', service: 'slack', description: 'no webhook URL set' },
  // transfers and approvals
  {
    name: 'TransfersRequested',
    unit: 'Count',
    service: 'transfers',
    description: 'transfer requests accepted',
  },
  {
    name: 'TransfersDecided',
    unit: 'Count',
    service: 'transfers',
    dimensions: { outcome: ['approved', 'rejected', 'recalled', 'expired'] },
    description: 'transfers that reached an end, by outcome',
  },
  {
    name: 'TransfersFailed',
    unit: 'Count',
    service: 'transfers',
    description: 'transfers whose workflow failed after its retries (to retry or recall)',
  },
  {
    name: 'DecisionLatency',
    unit: 'Seconds',
    service: 'transfers',
    description: 'an approver asked to the approver answering',
  },
  {
    name: 'ApprovalsPending',
    unit: 'Count',
    service: 'transfers',
    description: 'approvals waiting for an answer',
  },
  {
    name: 'OldestApprovalAge',
    unit: 'Seconds',
    service: 'transfers',
    description: 'how long the oldest pending approval has waited',
  },
  // credit checks
  {
    name: 'ChecksChained',
    unit: 'Count',
    service: 'credit-checks',
    description: "credit checks' logged decisions put on the audit trail",
  },
  {
    name: 'CheckLogLagSeconds',
    unit: 'Seconds',
    service: 'credit-checks',
    description: 'how long the oldest logged decision has waited for the audit trail (0 when none waits)',
  },
  {
    name: 'HeldOrdersReleased',
    unit: 'Count',
    service: 'credit-checks',
    description: 'held orders the 15-minute re-check released (their cause cleared)',
  },
  {
    name: 'HeldOrdersExpired',
    unit: 'Count',
    service: 'credit-checks',
    description: 'held orders that left the queue unreleased after holdDays',
  },
  // periodic reviews
  { name: 'ReviewsRun', unit: 'Count', service: 'reviews', description: 'customers reviewed' },
  { name: 'ReviewsFailed', unit: 'Count', service: 'reviews', description: 'customers whose review failed' },
  {
    name: 'ReviewDuration',
    unit: 'Seconds',
    service: 'reviews',
    description: 'one review run, start to report',
  },
  {
    name: 'LimitChanges',
    unit: 'Count',
    service: 'reviews',
    dimensions: { change: ['cut', 'raise', 'approval'] },
    description: 'limits cut, raised with a record, or sent for approval',
  },
  // collections
  {
    name: 'RemindersSent',
    unit: 'Count',
    service: 'collections',
    // The shipped plan's levels (policies/default.json) and every channel: a policy naming other
    // levels emits them too, off the dashboard's lines.
    dimensions: {
      level: ['friendly', 'firm', 'final', 'hold', 'legal'],
      channel: ['email', 'phone', 'visit', 'slack'],
    },
    description: 'collection steps taken (reminders emailed, calls, visits, holds), by level and channel',
  },
  {
    name: 'RemindersFailed',
    unit: 'Count',
    service: 'collections',
    description: 'collection steps not delivered (released: the retry or the next run takes them)',
  },
  // The day's figures, from each batch of the daily run that finished (functions/collections/metrics.ts):
  // promises counted on the day their rating became final; disputes open on the day.
  {
    name: 'PromisesKept',
    unit: 'Count',
    service: 'collections',
    description: 'promises to pay kept that day (paid in full)',
  },
  {
    name: 'PromisesPartial',
    unit: 'Count',
    service: 'collections',
    description: 'promises to pay whose grace ended that day with part paid',
  },
  {
    name: 'PromisesBroken',
    unit: 'Count',
    service: 'collections',
    description: 'promises to pay whose grace ended that day with nothing paid',
  },
  {
    name: 'DisputesOpen',
    unit: 'Count',
    service: 'collections',
    description: 'disputes open on the day (a batch counts its customers)',
  },
  {
    name: 'DisputeAnswersOverdue',
    unit: 'Count',
    service: 'collections',
    description: 'open disputes past their answer date',
  },
  {
    name: 'OldestDisputeDays',
    unit: 'Count',
    service: 'collections',
    description: "days the oldest open dispute has been open (0 when none is); a batch's own oldest",
  },
] as const satisfies readonly MetricSpec[];

export type MetricName = (typeof METRICS)[number]['name'];

export const METRIC_NAMES: ReadonlySet<string> = new Set(METRICS.map((m) => m.name));

export function metricSpec(name: MetricName): MetricSpec {
  return METRICS.find((m) => m.name === name) as MetricSpec;
}
