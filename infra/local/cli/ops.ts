import { parseArgs } from 'node:util';
import { DynamoTransferStore } from '../../../functions/adapters/dynamodb-transfers.ts';
import { ReceivablesQueries } from '../../../functions/receivables/queries.ts';
import {
  durationMs,
  durationSeconds,
  nonZero,
  type OpsSummary,
  opsSummary,
  type Percentiles,
} from '../runtime/ops.ts';
import { table, timeZone, UsageError, withStore } from './common.ts';

// ---- metrics ----

const count = (n: number) => n.toLocaleString('en-US');
const ratio = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

const spread = (p: Percentiles, fmt: (v: number | null) => string) =>
  p.count === 0 ? 'none yet' : `p50 ${fmt(p.p50)}, p95 ${fmt(p.p95)} (${count(p.count)})`;

const byKey = (r: Readonly<Record<string, number>>) =>
  Object.entries(r)
    .map(([k, v]) => `${k} ${count(v)}`)
    .join(', ');

const days = (n: number) => `${count(n)} day${n === 1 ? '' : 's'}`;

/** The steps taken, then the promises and disputes as the daily run counted them (each once it did). */
function collectionsLines(c: OpsSummary['collections']): string[] {
  const { promises, disputes } = c;
  if (c.sent + c.failed === 0 && !promises && !disputes) return ['  none yet'];
  return [
    c.sent + c.failed === 0
      ? '  steps taken      none yet'
      : `  steps taken      ${count(c.sent)}: ${nonZero(c.byLevel)}; by ${nonZero(c.byChannel)}; ${count(c.failed)} not delivered`,
    ...(promises
      ? [
          `  promises         kept ${count(promises.kept)}, partial ${count(promises.partial)}, broken ${count(promises.broken)} (over ${days(promises.days)} counted)`,
        ]
      : []),
    ...(disputes
      ? [
          `  disputes open    ${count(disputes.open)} as of ${disputes.asOf}${disputes.open > 0 ? `, the oldest ${days(disputes.oldestDays)}` : ''}; ${count(disputes.overdue)} answer${disputes.overdue === 1 ? '' : 's'} overdue`,
        ]
      : []),
  ];
}

function human(s: OpsSummary): string {
  const { ingest, alerts, transfers, reviews, collections, deadLetter } = s;
  const lines = [
    `Metrics from ${s.metricsFile}${s.since ? ` since ${s.since}` : ' (nothing recorded yet)'}`,
    'recorded by `sentinel start` (the inbox, the evaluations, the transfers); `sentinel ingest` and `evaluate` record none',
    '',
    'Ingestion',
    `  files            ${count(ingest.filesProcessed)} processed, ${count(ingest.filesUnreadable)} unreadable`,
    `  rows             ${count(ingest.rowsIngested)} ingested, ${count(ingest.rowsRejected)} rejected (reject ratio ${ratio(ingest.rejectRatio)})`,
    `  ingest latency   ${spread(ingest.latencyMs, durationMs)}`,
    `  dead letters     ${deadLetter.unreadableRuns === null ? '-' : count(deadLetter.unreadableRuns)} unreadable of the latest ${count(deadLetter.runsChecked)} runs; inbox files failing: ${deadLetter.inboxFailing === null ? 'known to the running server only (see /ops)' : count(deadLetter.inboxFailing.length)}`,
    '',
    'Alerts',
    `  evaluations      ${count(alerts.evaluations)} (${count(alerts.evaluationsFailed)} failed), ${spread(alerts.evaluationLatencyMs, durationMs)}`,
    `  raised           ${count(alerts.raised)}: ${byKey(alerts.raisedBySeverity)}`,
    `  resolved         ${count(alerts.resolved)}`,
    `  open now         ${alerts.open === null ? '-' : count(alerts.open)}`,
    '',
    'Transfers',
    `  requested        ${count(transfers.requested)}`,
    `  decided          ${byKey(transfers.decidedByOutcome)}`,
    `  failed           ${count(transfers.failed)}${transfers.failed > 0 ? ' (sentinel transfer retry ID, or recall)' : ''}`,
    `  decision latency ${spread(transfers.decisionLatencySeconds, durationSeconds)}`,
    `  approvals        ${transfers.approvalsPending === null ? '-' : count(transfers.approvalsPending)} pending${transfers.oldestPendingSeconds === null ? '' : `, oldest waiting ${durationSeconds(transfers.oldestPendingSeconds)}`}`,
    '',
    'Reviews',
    reviews.run + reviews.failed === 0 && reviews.durationSeconds.count === 0
      ? '  none yet'
      : `  run ${count(reviews.run)}, failed ${count(reviews.failed)}, duration ${spread(reviews.durationSeconds, durationSeconds)}`,
    '',
    'Collections',
    ...collectionsLines(collections),
    '',
    `Last ${s.days.length} days (${s.timeZone})`,
    table(
      ['day', 'rows ingested', 'rejected', 'reject ratio', 'alerts raised'],
      s.days.map((d) => [
        d.day,
        count(d.rowsIngested),
        count(d.rowsRejected),
        ratio(d.rejectRatio),
        count(d.alertsRaised),
      ]),
      new Set([1, 2, 3, 4]),
    ),
  ];
  return lines.join('\n');
}

/**
 * `sentinel metrics`: what the local handlers recorded (`<data dir>/metrics.jsonl`) with the live
 * figures of the store: the same summary as the console's /ops page.
 */
export async function cmdMetrics(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } },
  });
  if (positionals.length > 0)
    throw new UsageError(`metrics takes no arguments (got ${positionals.join(' ')})`);
  return withStore(values['data-dir'], async (env) => {
    const summary = await opsSummary({
      dataDir: env.dataDir,
      timeZone: timeZone(),
      alerts: env.store,
      approvals: new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName }),
      runs: new ReceivablesQueries(env.store),
    });
    console.log(values.json ? JSON.stringify(summary, null, 2) : human(summary));
    return 0;
  });
}
