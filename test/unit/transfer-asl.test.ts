import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { substitute, TRANSFER_ASL } from '../../infra/local/runtime/workflow.ts';

/**
 * The transfer approval's failure path, read from the definition: every Task state retries the
 * transient Lambda errors and catches everything else (States.ALL, last, keeping its input), and
 * every such catch leads, through RecordFailure, to a Fail state, even when RecordFailure fails.
 */

type Json = Record<string, unknown>;
type Catcher = { ErrorEquals: string[]; ResultPath?: string | null; Next: string };

const def = JSON.parse(
  substitute(readFileSync(TRANSFER_ASL, 'utf8'), {
    TransferStepsFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:transfer-steps',
  }),
) as Json;
const states = def.States as Record<string, Json>;
const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
const TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
];

/** The states reachable from `name` by Next, Default, Choices and Catch (no state visited twice). */
function reachable(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  const s = states[name] as Json;
  const next = [
    s.Next,
    s.Default,
    ...((s.Choices ?? []) as Json[]).map((c) => c.Next),
    ...((s.Catch ?? []) as Catcher[]).map((c) => c.Next),
  ].filter((n): n is string => typeof n === 'string');
  for (const n of next) reachable(n, seen);
  return seen;
}

describe('transfer-approval.asl.json: Retry and Catch on every task', () => {
  it('has the tasks it is about', () => {
    expect(tasks.map(([n]) => n).sort()).toEqual(
      ['AwaitDecision', 'Close', 'Execute', 'RecordFailure', 'RiskGate'].sort(),
    );
  });

  it.each(tasks)('%s retries the transient Lambda errors', (_name, s) => {
    const retry = (s.Retry ?? []) as { ErrorEquals: string[] }[];
    expect(retry.flatMap((r) => r.ErrorEquals)).toEqual(expect.arrayContaining(TRANSIENT));
  });

  it.each(tasks)('%s catches every other error last (States.ALL), keeping its input', (_name, s) => {
    const catches = (s.Catch ?? []) as Catcher[];
    const last = catches.at(-1);
    expect(last?.ErrorEquals).toEqual(['States.ALL']);
    expect(catches.filter((c) => c.ErrorEquals.includes('States.ALL'))).toHaveLength(1);
    // The caught error goes beside the input, never over it (the transfer id must survive).
    expect(typeof last?.ResultPath).toBe('string');
    expect(last?.ResultPath).not.toBe('$');
  });

  it("every catch-all but RecordFailure's reaches RecordFailure, naming the state that failed", () => {
    for (const [name, s] of tasks) {
      if (name === 'RecordFailure') continue;
      const to = ((s.Catch ?? []) as Catcher[]).at(-1)?.Next as string;
      const named = states[to] as Json;
      expect(named.Type, name).toBe('Pass');
      expect((named.Parameters as Json).state, name).toBe(name);
      expect(named.Next, name).toBe('RecordFailure');
    }
  });

  it('RecordFailure ends in a Fail state whether it succeeds or fails', () => {
    const rf = states.RecordFailure as Json;
    expect(rf.Next).toBe('Failed');
    expect(((rf.Catch ?? []) as Catcher[]).at(-1)?.Next).toBe('Failed');
    expect(states.Failed).toMatchObject({ Type: 'Fail', Error: 'TransferFailed' });
    expect((rf.Parameters as { Payload: Json }).Payload).toMatchObject({
      step: 'fail',
      'transferId.$': '$.transferId',
      'state.$': '$.state',
      'failure.$': '$.failure',
    });
    // Nothing after the failure path but the Fail state: a failed transfer is never carried on.
    expect([...reachable('RecordFailure')].sort()).toEqual(['Failed', 'RecordFailure']);
  });

  it('the first level comes from the gate (a retried transfer skips the levels already approved)', () => {
    const gate = states.RiskGate as Json;
    expect((gate.ResultSelector as Json)['start.$']).toBe('$.Payload.start');
    expect(((states.FirstLevel as Json).Parameters as Json)['index.$']).toBe('$.plan.start');
  });
});
