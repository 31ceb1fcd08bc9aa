import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoReviewStore } from '../../functions/adapters/dynamodb-reviews.ts';
import { formatMinor } from '../../functions/core/money.ts';
import type { ReviewRun } from '../../functions/reviews/ports.ts';
import type { Review } from '../../functions/reviews/review.ts';
import {
  dateOption,
  limitOption,
  pageOrAll,
  plural,
  shownText,
  table,
  UsageError,
  withStore,
} from './cli-common.ts';
import { CliFailure, consoleApi } from './cli-transfers.ts';

/**
 * `review run|show|runs`. A run goes to the running product (`npm start`): the review workflow,
 * and the approval chain a large increase goes to, run in its engine. Reading goes to the store.
 */

const storeOf = (env: { store: { client: DynamoReviewStore['client']; tableName: string } }) =>
  new DynamoReviewStore({ client: env.store.client, tableName: env.store.tableName });

export function describeRun(run: ReviewRun): string {
  const c = run.counts;
  return [
    `review ${run.runId} as of ${run.asOf} (${run.trigger}, policy ${run.policyId}): ${run.status}`,
    `  ${run.selected} customers due${c ? `: ${c.reviewed} reviewed, ${c.failed} failed` : ''}`,
    ...(c
      ? [
          `  limits: ${c.outcomes.cut} cut, ${c.outcomes.raise} raised, ${c.outcomes.approval} sent for approval, ${c.outcomes.keep} kept`,
          `  ratings: ${c.ratingUp} up, ${c.ratingDown} down; ${c.attention} need attention`,
        ]
      : []),
    ...(run.report ? [`  report: ${run.report.html}`, `          ${run.report.csv}`] : []),
  ].join('\n');
}

const money = (v: number | undefined, ccy: string | undefined) =>
  v === undefined || !ccy ? '—' : `${formatMinor(v, ccy)} ${ccy}`;

function reviewRows(reviews: readonly Review[]): string[][] {
  return reviews.map((r) => [
    r.customerId,
    r.status === 'failed' ? 'failed' : (r.outcome ?? ''),
    r.previous?.rating && r.rating && r.previous.rating !== r.rating
      ? `${r.previous.rating}->${r.rating}`
      : (r.rating ?? '—'),
    money(r.currentLimit, r.currency),
    money(r.limitAfter, r.currency),
    r.nextReviewOn ?? '—',
    r.attention ? 'yes' : '',
    r.status === 'failed' ? (r.error ?? '') : r.due,
  ]);
}

export async function cmdReview(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      'as-of': { type: 'string' },
      resume: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  const dataDir = resolve(values['data-dir'] ?? '.sentinel');
  const limit = limitOption(values.limit, values.json);
  switch (sub) {
    case 'run': {
      const asOf = values['as-of'] === undefined ? undefined : dateOption('as-of', values['as-of']);
      const { status, json } = await consoleApi(dataDir, 'POST', '/api/reviews/runs', {
        ...(asOf ? { asOf } : {}),
        ...(values.resume ? { runId: values.resume } : {}),
      });
      if (status >= 400) throw new CliFailure(String(json.error ?? `the review failed (HTTP ${status})`));
      const run = json.run as ReviewRun;
      console.log(
        values.json ? JSON.stringify(json, null, 2) : `${json.resumed ? 'resumed ' : ''}${describeRun(run)}`,
      );
      return 0;
    }
    case 'show': {
      const id = positionals[0];
      if (!id) throw new UsageError('review show needs a run id (see `sentinel review runs`)');
      return withStore(values['data-dir'], async (env) => {
        const store = storeOf(env);
        const run = await store.getRun(id);
        if (!run) throw new CliFailure(`there is no review run ${id}`);
        const page = await pageOrAll(
          limit,
          (size) => store.reviewsPage(id, { size }),
          () => store.reviewsOf(id),
        );
        const reviews = page.items;
        if (values.json) console.log(JSON.stringify({ run, reviews }, null, 2));
        else
          console.log(
            `${describeRun(run)}\n\n${table(
              [
                'customer',
                'outcome',
                'rating',
                'limit before',
                'limit after',
                'next review',
                'attention',
                'why due / error',
              ],
              reviewRows(reviews),
              new Set([3, 4]),
            )}\n\n${shownText(page, plural('customer'), 'by customer id')}`,
          );
        return 0;
      });
    }
    case 'runs':
      return withStore(values['data-dir'], async (env) => {
        const store = storeOf(env);
        const page = await pageOrAll(
          limit,
          (size) => store.runsPage({ size }),
          () => store.listRuns(),
        );
        const runs = page.items;
        if (values.json) console.log(JSON.stringify({ runs }, null, 2));
        else if (runs.length === 0) console.log('no review has run yet (`sentinel review run`)');
        else {
          console.log(
            table(
              ['run', 'as of', 'status', 'due', 'reviewed', 'failed', 'cut', 'raised', 'approval'],
              runs.map((r) => [
                r.runId,
                r.asOf,
                r.status,
                String(r.selected),
                String(r.counts?.reviewed ?? '—'),
                String(r.counts?.failed ?? '—'),
                String(r.counts?.outcomes.cut ?? '—'),
                String(r.counts?.outcomes.raise ?? '—'),
                String(r.counts?.outcomes.approval ?? '—'),
              ]),
              new Set([3, 4, 5, 6, 7, 8]),
            ),
          );
          console.log(`\n${shownText(page, plural('review run'), 'newest first')}`);
        }
        return 0;
      });
    default:
      throw new UsageError(
        'review needs one of: run [--as-of D] [--resume RUN] [--json], show RUN [--limit N] [--json], runs [--limit N] [--json]',
      );
  }
}
