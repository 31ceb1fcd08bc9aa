import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import {
  batchesOf,
  distributedToInline,
  LOCAL_ITEM_READER,
  substitute,
  taskStates,
} from '../../infra/local/runtime/workflow.ts';

/** The periodic review's state machine, and how the local runtime turns its Distributed Map inline. */

type Json = Record<string, unknown>;

const FILE = resolve(import.meta.dirname, '../../statemachines/periodic-review.asl.json');
const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:review-steps';

/** The definition with its substitutions as CDK makes them. */
function definition(): Json {
  return JSON.parse(
    substitute(readFileSync(FILE, 'utf8'), {
      ReviewStepsFunction: FUNCTION_ARN,
      ReviewBatchFunction: `${FUNCTION_ARN}-batch`,
      ReviewConcurrency: '5',
    }),
  ) as Json;
}

const statesOf = (def: Json) => def.States as Record<string, Json>;

function valid(def: unknown): void {
  const r = aslValidator(def);
  expect(r.errorsText('\n')).toBe('');
  expect(r.isValid).toBe(true);
}

describe('periodic-review.asl.json', () => {
  it('is valid ASL (asl-validator) with its substitutions', () => {
    valid(definition());
  });

  it('has no placeholder but the two functions and the deploy-time concurrency', () => {
    const text = readFileSync(FILE, 'utf8');
    expect(new Set(text.match(/\$\{\w+\}/g))).toEqual(
      new Set([`\${ReviewStepsFunction}`, `\${ReviewBatchFunction}`, `\${ReviewConcurrency}`]),
    );
  });

  it('selects, reviews the manifest in batches with a Distributed Map, then reports', () => {
    const def = definition();
    expect(def.StartAt).toBe('SelectDue');
    const s = statesOf(def);
    expect(s.SelectDue?.Next).toBe('ReviewCustomers');
    const map = s.ReviewCustomers as Json;
    expect(map.Type).toBe('Map');
    expect((map.ItemProcessor as Json).ProcessorConfig).toEqual({
      Mode: 'DISTRIBUTED',
      ExecutionType: 'EXPRESS',
    });
    expect(map.ItemBatcher).toEqual({
      MaxItemsPerBatch: 100,
      BatchInput: { 'runId.$': '$.run.runId', 'asOf.$': '$.run.asOf' },
    });
    expect(map.Next).toBe('Report');
    expect(s.Report?.Next).toBe('TooManyFailed?');
    // Every Task invokes the one steps function.
    const tasks = taskStates(def);
    expect(tasks.map((t) => t.name)).toEqual(['SelectDue', 'ReviewBatch', 'Report']);
    for (const t of tasks) expect(t.resource).toBe('arn:aws:states:::lambda:invoke');
  });
});

describe('distributedToInline', () => {
  const before = definition();
  const after = distributedToInline(before);
  const s = statesOf(after);
  const map = statesOf(before).ReviewCustomers as Json;

  it('puts a Task under the Map name that reads the manifest and batches it as the ItemBatcher does', () => {
    const reader = s.ReviewCustomers as Json;
    expect(reader.Type).toBe('Task');
    expect(reader.Resource).toBe(LOCAL_ITEM_READER);
    expect(reader.Parameters).toEqual({
      'Bucket.$': '$.run.manifest.Bucket',
      'Key.$': '$.run.manifest.Key',
      MaxItemsPerBatch: 100,
      BatchInput: { 'runId.$': '$.run.runId', 'asOf.$': '$.run.asOf' },
    });
    expect(typeof reader.ResultPath).toBe('string');
    expect(reader.Next).toBe('ReviewCustomers (inline)');
  });

  it('follows it with an INLINE Map over what the Task read, keeping the processor, Catch and Next', () => {
    const reader = s.ReviewCustomers as Json;
    const inline = s['ReviewCustomers (inline)'] as Json;
    expect(inline.Type).toBe('Map');
    expect(inline.ItemsPath).toBe(reader.ResultPath);
    for (const gone of [
      'ItemReader',
      'ItemBatcher',
      'ResultWriter',
      'ToleratedFailurePercentage',
      'ToleratedFailureCount',
      'Label',
    ])
      expect(inline, gone).not.toHaveProperty(gone);
    const processor = inline.ItemProcessor as Json;
    const original = map.ItemProcessor as Json;
    expect(processor.ProcessorConfig).toEqual({ Mode: 'INLINE' });
    expect(processor.StartAt).toBe(original.StartAt);
    expect(processor.States).toEqual(original.States);
    expect(inline.Catch).toEqual(map.Catch);
    expect(inline.Next).toBe('Report');
    expect(inline.MaxConcurrencyPath).toBe(map.MaxConcurrencyPath);
    expect(inline.ResultPath).toBeNull();
  });

  it('leaves the other states as they are, and the input untouched', () => {
    for (const name of ['SelectDue', 'Report', 'TooManyFailed?', 'TooManyFailed', 'Done'])
      expect(s[name], name).toEqual(statesOf(before)[name]);
    expect(Object.keys(s)).toEqual([
      'SelectDue',
      'ReviewCustomers',
      'ReviewCustomers (inline)',
      'Report',
      'TooManyFailed?',
      'TooManyFailed',
      'Done',
    ]);
    expect(before).toEqual(definition());
  });

  it('gives valid ASL (asl-validator)', () => {
    valid(after);
    expect(taskStates(after).map((t) => [t.name, t.resource])).toEqual([
      ['SelectDue', 'arn:aws:states:::lambda:invoke'],
      ['ReviewCustomers', LOCAL_ITEM_READER],
      ['ReviewBatch', 'arn:aws:states:::lambda:invoke'],
      ['Report', 'arn:aws:states:::lambda:invoke'],
    ]);
  });

  const processor = (mode?: string): Json => ({
    ...(mode ? { ProcessorConfig: { Mode: mode } } : {}),
    StartAt: 'Work',
    States: { Work: { Type: 'Pass', End: true } },
  });

  it('leaves an inline Map as it is', () => {
    const def: Json = {
      StartAt: 'Each',
      States: { Each: { Type: 'Map', ItemsPath: '$.items', ItemProcessor: processor('INLINE'), End: true } },
    };
    const out = distributedToInline(def);
    expect(out).toEqual(def);
    expect(statesOf(out).Each).toBe(statesOf(def).Each);
    // A Map without a ProcessorConfig runs inline too.
    const plain: Json = {
      StartAt: 'Each',
      States: { Each: { Type: 'Map', ItemProcessor: processor(), End: true } },
    };
    expect(distributedToInline(plain)).toEqual(plain);
  });

  it('refuses a Distributed Map without an ItemReader', () => {
    const def: Json = {
      StartAt: 'Each',
      States: {
        Each: { Type: 'Map', ItemsPath: '$.items', ItemProcessor: processor('DISTRIBUTED'), End: true },
      },
    };
    expect(() => distributedToInline(def)).toThrow(/Map Each is DISTRIBUTED without an ItemReader/);
  });

  it('reads without batching when the Map has no ItemBatcher', () => {
    const def: Json = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemReader: {
            Resource: 'arn:aws:states:::s3:getObject',
            ReaderConfig: { InputType: 'JSON' },
            Parameters: { Bucket: 'b', Key: 'k.json' },
          },
          ItemProcessor: processor('DISTRIBUTED'),
          End: true,
        },
      },
    };
    const out = statesOf(distributedToInline(def));
    expect(out.Each?.Parameters).toEqual({ Bucket: 'b', Key: 'k.json' });
    expect(out['Each (inline)']?.End).toBe(true);
  });
});

describe('batchesOf', () => {
  it('cuts 250 items into batches of 100, 100 and 50, each with the BatchInput', () => {
    const items = Array.from({ length: 250 }, (_, i) => ({ customerId: `C${i}` }));
    const input = { runId: 'run-1', asOf: '2026-06-30' };
    const batches = batchesOf(items, 100, input);
    expect(batches.map((b) => (b.Items as unknown[]).length)).toEqual([100, 100, 50]);
    for (const b of batches) expect(b.BatchInput).toEqual(input);
    const itemsOf = (i: number) => (batches[i] as Json).Items as unknown[];
    expect(itemsOf(0)[0]).toEqual({ customerId: 'C0' });
    expect(itemsOf(1)[0]).toEqual({ customerId: 'C100' });
    expect(itemsOf(2)[49]).toEqual({ customerId: 'C249' });
    expect(batches.flatMap((b) => b.Items as unknown[])).toEqual(items);
  });

  it('gives one batch for exactly max items, and none for no items', () => {
    expect(batchesOf([1, 2, 3], 3, {})).toEqual([{ BatchInput: {}, Items: [1, 2, 3] }]);
    expect(batchesOf([], 100, {})).toEqual([]);
  });
});
