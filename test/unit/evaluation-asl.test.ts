import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { distributedToInline, substitute, taskStates } from '../../infra/local/runtime/workflow.ts';

/** The daily evaluation's state machine: valid, every Task retried and caught, fanned out in batches. */

type Json = Record<string, unknown>;

const FILE = resolve(import.meta.dirname, '../../statemachines/daily-evaluation.asl.json');
const SUBS = {
  EvaluationStepsFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:evaluation-steps',
  EvaluationBatchFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:evaluation-batch',
  EvaluationConcurrency: '5',
};
const definition = (): Json => JSON.parse(substitute(readFileSync(FILE, 'utf8'), SUBS)) as Json;
const statesOf = (def: Json) => def.States as Record<string, Json>;

function valid(def: unknown): void {
  const r = aslValidator(def);
  expect(r.errorsText('\n')).toBe('');
  expect(r.isValid).toBe(true);
}

/** Every Task state with its definition, Map item processors included. */
function tasks(def: Json): [string, Json][] {
  const out: [string, Json][] = [];
  for (const [name, s] of Object.entries(statesOf(def))) {
    if (s.Type === 'Task') out.push([name, s]);
    if (s.ItemProcessor) out.push(...tasks(s.ItemProcessor as Json));
  }
  return out;
}

describe('daily-evaluation.asl.json', () => {
  it('is valid ASL (asl-validator) with its substitutions, and as the local engine runs it', () => {
    valid(definition());
    valid(distributedToInline(definition()));
  });

  it('has no placeholders but the two functions and the concurrency', () => {
    const text = readFileSync(FILE, 'utf8');
    expect(new Set(text.match(/\$\{\w+\}/g))).toEqual(new Set(Object.keys(SUBS).map((k) => `\${${k}}`)));
  });

  it('ends a run that never finishes after 6 hours', () => {
    expect(definition().TimeoutSeconds).toBe(6 * 3600);
  });

  it('retries every Task with backoff (throttles included) and catches what is left', () => {
    const all = tasks(definition());
    expect(all.map(([n]) => n).sort()).toEqual([
      'EvaluateBatch',
      'ListCustomers',
      'RecordFailedBatch',
      'Report',
    ]);
    for (const [name, t] of all) {
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
        (t.Catch as Json[]).flatMap((c) => c.ErrorEquals as string[]),
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
    expect(s.Report?.Next).toBe('AnyFailed?');
    expect(((s['AnyFailed?'] as Json).Choices as Json[]).map((c) => c.Next)).toEqual([
      'BatchesFailed',
      'BatchesFailed',
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
    });
    expect(taskStates(distributedToInline(def)).map((t) => t.name)).toContain('EvaluateCustomers');
  });
});
