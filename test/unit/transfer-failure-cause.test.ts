import { describe, expect, it } from 'vitest';
import { executionName, failureCause, transferOfExecution } from '../../functions/transfers/app.ts';

/** What a failed transfer keeps of the error RecordFailure caught, and its executions' names. */

describe('failureCause', () => {
  it("keeps a Lambda error's message, not its stack", () => {
    const cause = JSON.stringify({
      errorType: 'Error',
      errorMessage: 'the evaluator queue is unreachable',
      trace: ['Error: the evaluator queue is unreachable', '    at execute (/var/task/index.mjs:1:2)'],
    });
    expect(failureCause(cause)).toBe('the evaluator queue is unreachable');
  });

  it('cuts out task tokens and other long opaque strings (credentials), local or AWS', () => {
    const awsToken = 'AQCEAAAAKgAAAAMAAAAAAAAAAb'.repeat(8);
    const text = failureCause(
      `no task waits on local-123e4567-e89b-12d3-a456-426614174000 nor ${awsToken}: answered`,
    );
    expect(text).toBe('no task waits on [token] nor [token]: answered');
  });

  it('is one line of at most 500 characters', () => {
    const long = failureCause(`first line\n${'x '.repeat(600)}`);
    expect(long.length).toBe(500);
    expect(long).not.toContain('\n');
    expect(long.endsWith('...')).toBe(true);
  });

  it('says nothing of a missing cause, and writes an object as JSON', () => {
    expect(failureCause(undefined)).toBe('');
    expect(failureCause({ code: 42 })).toBe('{"code":42}');
  });
});

describe('execution names', () => {
  it('are the id, then <id>-r<n> per retry, and lead back to the transfer', () => {
    expect(executionName('TR-ABC', undefined)).toBe('TR-ABC');
    expect(executionName('TR-ABC', 0)).toBe('TR-ABC');
    expect(executionName('TR-ABC', 2)).toBe('TR-ABC-r2');
    expect(transferOfExecution('TR-ABC-r2')).toBe('TR-ABC');
    expect(transferOfExecution('TR-ABC')).toBe('TR-ABC');
  });
});
