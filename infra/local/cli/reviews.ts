import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoReviewStore } from '../../../functions/adapters/dynamodb-reviews.ts';
import { formatMoney } from '../../../functions/core/money.ts';
import { grouped } from '../../../functions/core/paging.ts';
import { PREVIEW_APPROVAL_WORDS, previewReview, withTransfer } from '../../../functions/reviews/app.ts';
import type { ReviewRun } from '../../../functions/reviews/ports.ts';
import type { Review } from '../../../functions/reviews/review.ts';
import { openLocal } from '../runtime/index.ts';
import {
  dateOption,
  jsonText,
  limitOption,
  pageOrAll,
  plural,
  shownText,
  splitSub,
  table,
  today,
  UsageError,
  withStore,
} from './common.ts';
import { loadPolicy } from './credit.ts';
import { type Progress, progressLine } from './progress.ts';
import { CliFailure, consoleApi } from './transfers.ts';

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
  v === undefined || !ccy ? '—' : formatMoney(v, ccy);

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

const OUTCOME_WORDS: Record<string, string> = {
  cut: 'cut at once',
  raise: 'raised at once',
  approval: 'for approval',
  keep: 'kept',
};

/**
 * `review run --dry-run`: what a run as of the date would do, and nothing changed: read from the
 * store (with or without `npm start` running), decided by the run's own code (`previewReview`).
 */
async function dryRun(dataDir: string | undefined, asOf: string, json: boolean): Promise<number> {
  return withStore(dataDir, async (env) => {
    const progress = progressLine('review run --dry-run');
    progress.update('re-rating the customers due');
    let p: Awaited<ReturnType<typeof previewReview>>;
    try {
      p = await previewReview(
        {
          store: storeOf(env),
          policy: () => loadPolicy(env.store),
          clock: { now: () => new Date() },
        },
        asOf,
      );
    } finally {
      progress.done();
    }
    if (json) {
      console.log(jsonText({ dryRun: true, ...p }));
      return 0;
    }
    const c = p.counts;
    const changes = p.reviews.filter((r) => r.status === 'failed' || r.outcome !== 'keep');
    console.log(
      [
        `dry run of a review as of ${p.asOf} (policy ${p.policyId}): nothing was changed`,
        `  ${p.selected} customers due: ${c.outcomes.cut} would be cut at once, ${c.outcomes.raise} raised at once, ${c.outcomes.approval} sent for approval, ${c.outcomes.keep} kept${c.failed > 0 ? `, ${c.failed} could not be reviewed` : ''}`,
        `  approvals: ${PREVIEW_APPROVAL_WORDS[p.approvals]}`,
      ].join('\n'),
    );
    if (changes.length > 0)
      console.log(
        `\n${table(
          ['customer', 'rating', 'would be', 'limit now', 'limit after', 'exposure', 'overdue', 'why'],
          changes.map((r) => [
            r.customerId,
            r.rating ?? '—',
            r.status === 'failed' ? 'failed' : (OUTCOME_WORDS[r.outcome ?? ''] ?? ''),
            money(r.currentLimit, r.currency),
            money(r.outcome === 'approval' ? r.askedLimit : r.limitAfter, r.currency),
            money(r.figures?.exposure, r.currency),
            money(r.figures?.overdueAmount, r.currency),
            r.status === 'failed' ? (r.error ?? '') : (r.decision ?? ''),
          ]),
          new Set([3, 4, 5, 6]),
        )}`,
      );
    console.log(
      `\n${c.outcomes.keep} limits kept. Run it with \`sentinel review run${asOfFlag(p.asOf)}\` (needs \`npm start\`).`,
    );
    return 0;
  });
}

/**
 * While `review run` waits for the running product, reads how far the newest running run is
 * (customers reviewed of those due) from the store, for the progress line; a terminal only.
 */
function watchRun(dataDir: string | undefined, progress: Progress): { stop: () => Promise<void> } {
  let stopped = false;
  const done = (async () => {
    const env = await openLocal({ dataDir });
    try {
      const store = storeOf(env);
      while (!stopped) {
        const run = (await store.runsPage({ size: 1 })).items[0];
        if (run?.status === 'running') {
          const reviewed = (await store.reviewsPage(run.runId, { size: 1 })).total;
          progress.update(
            `${run.runId}: ${grouped(reviewed)} of ${grouped(run.selected)} customers reviewed`,
          );
        } else progress.update('starting');
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await env.close();
    }
  })().catch(() => undefined);
  return {
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

const asOfFlag = (asOf: string) => (asOf === today() ? '' : ` --as-of ${asOf}`);

export async function cmdReview(args: string[]): Promise<number> {
  const [sub, rest] = splitSub(args);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      'as-of': { type: 'string' },
      resume: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
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
      if (values['dry-run']) {
        if (values.resume) throw new UsageError('--dry-run previews a new run; it cannot resume one');
        return dryRun(values['data-dir'], asOf ?? today(), values.json);
      }
      const progress = progressLine('review run');
      const watching = process.stderr.isTTY ? watchRun(values['data-dir'], progress) : undefined;
      let answer: Awaited<ReturnType<typeof consoleApi>>;
      try {
        answer = await consoleApi(dataDir, 'POST', '/api/reviews/runs', {
          ...(asOf ? { asOf } : {}),
          ...(values.resume ? { runId: values.resume } : {}),
        });
      } finally {
        await watching?.stop();
        progress.done();
      }
      const { status, json } = answer;
      if (status >= 400) throw new CliFailure(String(json.error ?? `the review failed (HTTP ${status})`));
      const run = json.run as ReviewRun;
      console.log(values.json ? jsonText(json) : `${json.resumed ? 'resumed ' : ''}${describeRun(run)}`);
      return 0;
    }
    case 'show': {
      const id = positionals[0];
      if (!id) throw new UsageError('review show needs a run id (see `sentinel review runs`)');
      return withStore(values['data-dir'], async (env) => {
        const store = storeOf(env);
        const run = await store.getRun(id);
        if (!run) throw new CliFailure(`there is no review run ${id} (see \`sentinel review runs\`)`);
        const page = await pageOrAll(
          limit,
          (size) => store.reviewsPage(id, { size }),
          () => store.reviewsOf(id),
        );
        const reviews = page.items.map((r) => withTransfer(r, run.approvals));
        if (values.json) console.log(jsonText({ run, reviews }));
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
        if (values.json) console.log(jsonText({ runs }));
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
        sub === undefined
          ? 'review needs one of: run, show RUN, runs'
          : `unknown review command "${sub}": use run, show or runs`,
      );
  }
}
