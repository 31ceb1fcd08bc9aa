import { readFileSync } from 'node:fs';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { REVIEW_ASL_FILE } from '../../infra/constructs/reviews.ts';
import {
  batchesOf,
  distributedToInline,
  LOCAL_ITEM_READER,
  substitute,
  withLocalTimeouts,
} from '../../infra/local/runtime/workflow.ts';

/**
 * The periodic review's ASL run by the local engine (aws-local-stepfunctions, as `npm start` runs
 * it) with stand-in steps: the deploy-time concurrency reaches the Map through SelectDue's
 * States.StringToJson and MaxConcurrencyPath, and a batch that fails after its retries keeps its
 * error and cause.
 */

type Json = Record<string, unknown>;
const CUSTOMERS = Array.from({ length: 700 }, (_, i) => ({ customerId: `C${i}`, reason: 'never' }));

function machine(concurrency: string, review: (payload: Json) => Promise<unknown>) {
  const def = withLocalTimeouts(
    distributedToInline(
      JSON.parse(
        substitute(readFileSync(REVIEW_ASL_FILE, 'utf8'), {
          ReviewStepsFunction: 'steps',
          ReviewBatchFunction: 'batch',
          ReviewConcurrency: concurrency,
        }),
      ) as Json,
    ),
  );
  const lambda = async (p: Json) => {
    const payload = p.Payload as Json;
    if (payload.step === 'select')
      return {
        Payload: { runId: 'run-1', asOf: '2026-06-30', selected: 700, manifest: { Bucket: 'b', Key: 'k' } },
      };
    if (payload.step === 'review') return { Payload: await review(payload) };
    return { Payload: { run: { counts: { reviewed: 700 }, report: {} }, durationSeconds: 1 } };
  };
  const sm = new StateMachine(def as never);
  return sm.run(
    {},
    {
      overrides: {
        taskResourceLocalHandlers: {
          SelectDue: lambda,
          ReviewBatch: lambda,
          Report: lambda,
          ReviewCustomers: async (p: Json) =>
            batchesOf(CUSTOMERS, Number(p.MaxItemsPerBatch), p.BatchInput) as unknown as Json,
        } as never,
        retryIntervalOverrides: { ReviewBatch: 0 },
      },
      context: { Execution: { Name: 'run-1' } } as never,
    },
  );
}

/** Reviews that count how many batches are in flight; each waits for the next turn of the event loop. */
function counting() {
  let inFlight = 0;
  let most = 0;
  let batches = 0;
  const review = async () => {
    inFlight++;
    batches++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    inFlight--;
    return { reviewed: 100, failed: 0, alreadyDone: 0 };
  };
  return { review, most: () => most, batches: () => batches };
}

describe('periodic-review.asl.json on the local engine', () => {
  it('runs as many batches at once as the ReviewConcurrency substituted at deploy', async () => {
    expect(LOCAL_ITEM_READER).toBe('arn:aws:states:::s3:getObject');
    for (const [concurrency, expected] of [
      ['2', 2],
      ['5', 5],
    ] as const) {
      const c = counting();
      const out = (await machine(concurrency, c.review).result) as Json;
      expect(c.batches(), concurrency).toBe(7);
      expect(c.most(), concurrency).toBe(expected);
      expect((out.run as Json).maxConcurrency).toBe(Number(concurrency));
    }
  });

  it('retries a failing batch, then fails its child with the last error and cause', async () => {
    let calls = 0;
    const err = Object.assign(new Error('the table is throttled'), { name: 'ThrottlingError' });
    const run = machine('5', async (payload) => {
      const first = ((payload.Items as Json[])[0] as Json).customerId;
      if (first === 'C300') {
        calls++;
        throw err;
      }
      return { reviewed: 100, failed: 0, alreadyDone: 0 };
    });
    // Locally the inline Map tolerates no failure: the run fails with the batch's own error and
    // cause, which BatchFailed (ErrorPath, CausePath) passes on from the Catch.
    const failure = await run.result.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ExecutionError);
    const cause = (failure as ExecutionError).cause as { name?: string; message?: string } | undefined;
    expect(cause?.name).toBe('ThrottlingError');
    expect(String(cause?.message)).toContain('the table is throttled');
    // The first try and the retries of States.TaskFailed (3).
    expect(calls).toBe(4);
  });
});
