import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import {
  distributedToInline,
  LOCAL_ITEM_READER,
  substitute,
  taskStates,
} from '../../infra/local/runtime/workflow.ts';

/**
 * The daily evaluation's state machine: valid, every Task retried and caught, fanned out in
 * batches, then the day's collections over the same manifest.
 */

type Json = Record<string, unknown>;

const FILE = resolve(import.meta.dirname, '../../statemachines/daily-evaluation.asl.json');
const SUBS = {
  EvaluationStepsFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:evaluation-steps',
  EvaluationBatchFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:evaluation-batch',
  CollectionsBatchFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:collections-batch',
  EvaluationConcurrency: '5',
};
const definition = (): Json => JSON.parse(substitute(readFileSync(FILE, 'utf8'), SUBS)) as Json;
const statesOf = (def: Json) => def.States as Record<string, Json>;

function valid(def: unknown): void {
  const r = aslValidator(def);
  expect(r.errorsText('\n')).toBe('');
  expect(r.isValid).toBe(true);
}

/** Every Task state with its definition (and the Map it runs in), Map item processors included. */
function tasks(def: Json, map?: Json): [string, Json, Json | undefined][] {
  const out: [string, Json, Json | undefined][] = [];
  for (const [name, s] of Object.entries(statesOf(def))) {
    if (s.Type === 'Task') out.push([name, s, map]);
    if (s.ItemProcessor) out.push(...tasks(s.ItemProcessor as Json, s));
  }
  return out;
}

describe('daily-evaluation.asl.json', () => {
  it('is valid ASL (asl-validator) with its substitutions, and as the local engine runs it', () => {
    valid(definition());
    valid(distributedToInline(definition()));
  });

  it('has no placeholders but the three functions and the concurrency', () => {
    const text = readFileSync(FILE, 'utf8');
    expect(new Set(text.match(/\$\{\w+\}/g))).toEqual(new Set(Object.keys(SUBS).map((k) => `\${${k}}`)));
  });

  it('ends a run that never finishes after 6 hours', () => {
    expect(definition().TimeoutSeconds).toBe(6 * 3600);
  });

  it('retries every Task with backoff (throttles included) and catches what is left, itself or by its Map', () => {
    const all = tasks(definition());
    expect(all.map(([n]) => n).sort()).toEqual([
      'CollectBatch',
      'EvaluateBatch',
      'ListCustomers',
      'RecordFailedBatch',
      'Report',
    ]);
    for (const [name, t, map] of all) {
      const retry = t.Retry as Json[];
      const errors = retry.filter((r) => r.MaxAttempts !== 0).flatMap((r) => r.ErrorEquals as string[]);
      expect(errors, name).toEqual(
        expect.arrayContaining([
          'States.TaskFailed',
          'Lambda.TooManyRequestsException',
          'Lambda.ServiceException',
        ]),
      );
      for (const r of retry.filter((r) => r.MaxAttempts !== 0)) {
        expect(r.BackoffRate, name).toBeGreaterThan(1);
        expect(r.JitterStrategy, name).toBe('FULL');
      }
      expect(
        ((t.Catch ?? map?.Catch ?? []) as Json[]).flatMap((c) => c.ErrorEquals as string[]),
        name,
      ).toContain('States.ALL');
    }
  });

  it('lists, evaluates the manifest in batches (Distributed Map, Express children), then reports once', () => {
    const s = statesOf(definition());
    expect(s.ListCustomers?.Next).toBe('EvaluateCustomers');
    const map = s.EvaluateCustomers as Json;
    expect((map.ItemProcessor as Json).ProcessorConfig).toEqual({
      Mode: 'DISTRIBUTED',
      ExecutionType: 'EXPRESS',
    });
    expect(map.ItemReader).toMatchObject({
      Resource: 'arn:aws:states:::s3:getObject',
      Parameters: { 'Bucket.$': '$.run.manifest.Bucket', 'Key.$': '$.run.manifest.Key' },
    });
    expect(map.ItemBatcher).toEqual({
      MaxItemsPerBatch: 500,
      BatchInput: { 'runId.$': '$.run.runId', 'asOf.$': '$.run.asOf' },
    });
    expect(map.MaxConcurrencyPath).toBe('$.run.maxConcurrency');
    expect(map.ToleratedFailurePercentage).toBe(0);
    // Whatever stops the Map, the report runs and names every customer not evaluated.
    expect(map.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.mapError', Next: 'Report' }]);
    expect(map.Next).toBe('Report');
    // A batch failed for good is recorded, and the run then fails (alarmed), never silently.
    const inner = statesOf(map.ItemProcessor as Json);
    expect(((inner.EvaluateBatch as Json).Catch as Json[])[0]?.Next).toBe('RecordFailedBatch');
    expect(s.Report?.Next).toBe('CollectCustomers');
    expect(((s['AnyFailed?'] as Json).Choices as Json[]).map((c) => c.Next)).toEqual([
      'BatchesFailed',
      'BatchesFailed',
      'CollectionsFailed',
    ]);
    expect(s.BatchesFailed).toMatchObject({ Type: 'Fail', Error: 'EvaluationBatchesFailed' });
  });

  it('calls the batch function from the children only, the steps function from the parent', () => {
    const def = definition();
    const fn = (t: Json) => ((t.Parameters as Json).FunctionName as string).split(':').pop();
    expect(Object.fromEntries(tasks(def).map(([n, t]) => [n, fn(t)]))).toEqual({
      ListCustomers: 'evaluation-steps',
      EvaluateBatch: 'evaluation-batch',
      RecordFailedBatch: 'evaluation-batch',
      Report: 'evaluation-steps',
      CollectBatch: 'collections-batch',
    });
    expect(taskStates(distributedToInline(def)).map((t) => t.name)).toContain('EvaluateCustomers');
  });

  it('collects the same manifest after the report, in batches of 200, and fails the run when a batch fails for good', () => {
    const s = statesOf(definition());
    const map = s.CollectCustomers as Json;
    const evaluate = s.EvaluateCustomers as Json;
    expect(map.Type).toBe('Map');
    expect(map.ItemReader).toEqual(evaluate.ItemReader);
    expect((map.ItemProcessor as Json).ProcessorConfig).toEqual({
      Mode: 'DISTRIBUTED',
      ExecutionType: 'EXPRESS',
    });
    expect(map.ItemBatcher).toEqual({
      MaxItemsPerBatch: 200,
      BatchInput: { 'runId.$': '$.run.runId', 'asOf.$': '$.run.asOf' },
    });
    expect(map.MaxConcurrencyPath).toBe('$.run.maxConcurrency');
    expect(map.ResultPath).toBeNull();
    // A batch that fails after its retries: the error kept, and the run goes on to its verdict.
    expect(map.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.collectError', Next: 'AnyFailed?' },
    ]);
    expect(map.Next).toBe('AnyFailed?');
    const batch = statesOf(map.ItemProcessor as Json).CollectBatch as Json;
    expect(batch.Parameters).toEqual({
      FunctionName: SUBS.CollectionsBatchFunction,
      Payload: { step: 'collect', 'BatchInput.$': '$.BatchInput', 'Items.$': '$.Items' },
    });
    // The evaluation batch's retries, but for its FutureEvaluationError, which collections never throw.
    const evaluateBatch = statesOf(evaluate.ItemProcessor as Json).EvaluateBatch as Json;
    expect(batch.Retry).toEqual((evaluateBatch.Retry as Json[]).filter((r) => r.MaxAttempts !== 0));
    // Each child answers {}: the Map's results stay small whatever the book's size.
    expect(batch.OutputPath).toBeNull();
    expect(batch.End).toBe(true);
    expect(((s['AnyFailed?'] as Json).Choices as Json[])[2]).toEqual({
      Variable: '$.collectError',
      IsPresent: true,
      Next: 'CollectionsFailed',
    });
    expect(s.CollectionsFailed).toMatchObject({ Type: 'Fail', Error: 'CollectionsBatchesFailed' });
    expect(String(s.CollectionsFailed?.Cause)).toMatch(/decided again by the next run/);
  });

  it('becomes, locally, two readers and two inline Maps over the same manifest (distributedToInline)', () => {
    const before = definition();
    const after = distributedToInline(before);
    const s = statesOf(after);
    valid(after);
    expect(Object.keys(s)).toEqual([
      'ListCustomers',
      'NotListed',
      'EvaluateCustomers',
      'EvaluateCustomers (inline)',
      'Report',
      'NotReported',
      'CollectCustomers',
      'CollectCustomers (inline)',
      'AnyFailed?',
      'BatchesFailed',
      'CollectionsFailed',
      'Done',
    ]);
    const reader = (n: string) => s[n] as Json;
    for (const [name, size] of [
      ['EvaluateCustomers', 500],
      ['CollectCustomers', 200],
    ] as const) {
      expect(reader(name)).toMatchObject({
        Type: 'Task',
        Resource: LOCAL_ITEM_READER,
        Parameters: {
          'Bucket.$': '$.run.manifest.Bucket',
          'Key.$': '$.run.manifest.Key',
          MaxItemsPerBatch: size,
        },
        Next: `${name} (inline)`,
      });
      const inline = s[`${name} (inline)`] as Json;
      expect(inline.ItemsPath).toBe(reader(name).ResultPath);
      expect((inline.ItemProcessor as Json).ProcessorConfig).toEqual({ Mode: 'INLINE' });
      expect(inline.Catch).toEqual((statesOf(before)[name] as Json).Catch);
    }
    // Each reader keeps its batches under a path of its own: the second never reads the first's.
    expect(reader('CollectCustomers').ResultPath).not.toBe(reader('EvaluateCustomers').ResultPath);
    expect(
      taskStates(after)
        .filter((t) => t.resource === LOCAL_ITEM_READER)
        .map((t) => t.name),
    ).toEqual(['EvaluateCustomers', 'CollectCustomers']);
  });
});
