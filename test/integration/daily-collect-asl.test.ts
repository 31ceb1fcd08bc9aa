import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outreach } from '../../functions/collections/ports.ts';
import { collectionsRun } from '../../functions/collections/run.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import {
  CollectionsBatchesFailedError,
  type CollectStep,
  LocalDailyEvaluation,
  type LocalDailyEvaluationOptions,
} from '../../infra/local/runtime/daily-evaluation.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { COLLECTIONS_AS_OF, seedCollectionsBook } from './collections-book.ts';

/**
 * The day's collections as the daily evaluation's definition runs them (CollectCustomers, its
 * Distributed Map made inline), on dynalite: every customer of the manifest reaches the collect step
 * once, after its evaluation, and the real collections run takes each step once, however often the
 * day is run; a collect batch that always fails fails the run as CollectionsBatchesFailed, after the
 * evaluation stored its report.
 */

const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
const DAY = COLLECTIONS_AS_OF;
const at = `${DAY}T06:00:00Z`;

let env: LocalEnv;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daily-collect-'));
  env = await openLocal({ inMemory: true, dataDir: dir });
  await seedCollectionsBook(env);
}, 60_000);
afterAll(async () => {
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const engine = (options: LocalDailyEvaluationOptions) =>
  new LocalDailyEvaluation(
    {
      store: env.store,
      notifier: { notify: async () => {}, digest: async () => undefined },
      policy: async () => policy,
      clock: { now: () => new Date(at) },
      timeZone: 'UTC',
      dataDir: dir,
    },
    {
      batchSize: 2,
      retryIntervals: { EvaluateBatch: 0, RecordFailedBatch: 0, Report: 0, CollectBatch: 0 },
      ...options,
    },
  );

const sent: Outreach[] = [];
/** What the collections function does with a batch, its sender a recorder. */
const collectForReal = (step: CollectStep) =>
  collectionsRun(
    {
      store: env.store,
      sender: {
        send: async (o) => {
          sent.push(o);
          return { messageId: `m-${o.key}` };
        },
      },
      claimant: step.BatchInput.runId,
      now: () => at,
    },
    policy,
    { asOf: step.BatchInput.asOf, customerIds: step.Items },
  );

describe('the daily run collects after it evaluates (CollectCustomers)', () => {
  it('hands every listed customer to collect once, evaluated already, and each step is taken once', async () => {
    const batches: CollectStep[] = [];
    const evaluatedWhenCollected: (string | undefined)[] = [];
    const report = await engine({
      collect: async (step) => {
        batches.push(step);
        for (const id of step.Items)
          evaluatedWhenCollected.push((await env.store.loadCustomerPartition(id)).assessment?.asOf);
        return collectForReal(step);
      },
    }).run({ scheduledTime: `${DAY}T05:00:00Z` });

    expect(report.notEvaluated).toEqual([]);
    const collected = batches.flatMap((b) => b.Items);
    expect(collected.sort()).toEqual(['CN', 'DISP', 'LATE', 'OLD', 'PAID']);
    expect(new Set(collected).size).toBe(report.listed);
    expect(batches.map((b) => b.Items.length).sort()).toEqual([1, 2, 2]);
    for (const b of batches) expect(b.BatchInput).toEqual({ runId: report.runId, asOf: DAY });
    expect(evaluatedWhenCollected).toEqual(collected.map(() => DAY));

    // The real run took the plan's steps: an email where there is an address, a call where not.
    const taken = sent.map((o) => `${o.customerId} ${o.level} ${o.channel}`).sort();
    expect(taken).toContain('OLD final phone');
    expect(sent.find((o) => o.customerId === 'CN')?.email?.to).toBe('finance@hengda.example.com');
    // Nobody is chased for what is paid or disputed.
    expect(sent.filter((o) => o.customerId === 'PAID' || o.customerId === 'DISP')).toEqual([]);
    const old = await env.store.loadCustomerPartition('OLD');
    expect(old.contacts?.map((c) => [c.level, c.state, c.claimant])).toEqual([
      ['final', 'sent', report.runId],
    ]);

    // The day run again (a new execution): every step was sent already, so nothing goes twice.
    const before = sent.length;
    await engine({ collect: collectForReal }).run({ scheduledTime: `${DAY}T05:00:00Z` });
    expect(sent.length).toBe(before);
  }, 120_000);

  it('without a collect, the step answers skipped and the run is as before', async () => {
    const report = await engine({}).run({ scheduledTime: `${DAY}T05:00:00Z` });
    expect(report.notEvaluated).toEqual([]);
  }, 120_000);

  it('a collect batch that always fails is retried, then fails the run as CollectionsBatchesFailed; the report stands', async () => {
    const attempts = new Map<string, number>();
    const failure = await engine({
      keepFiles: true,
      collect: async (step) => {
        const key = step.Items[0] as string;
        attempts.set(key, (attempts.get(key) ?? 0) + 1);
        throw new Error('SES is down');
      },
    })
      .run({ scheduledTime: `${DAY}T05:00:00Z` })
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(CollectionsBatchesFailedError);
    const e = failure as CollectionsBatchesFailedError;
    expect(e.error).toBe('CollectionsBatchesFailed');
    expect(e.message).toContain('SES is down');
    // The definition's retries of a failed task (States.TaskFailed: 2) on the batch that failed first.
    expect([...attempts.values()]).toContain(3);
    // The evaluation before it is whole: every customer evaluated, reported and stored.
    expect(e.report.listed).toBe(5);
    expect(e.report.notEvaluated).toEqual([]);
    expect(e.report.asOf).toBe(DAY);
    for (const id of ['CN', 'DISP', 'LATE', 'OLD', 'PAID'])
      expect((await env.store.loadCustomerPartition(id)).assessment?.asOf, id).toBe(DAY);
  }, 120_000);
});
