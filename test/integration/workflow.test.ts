import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { type StepPayload, TaskTokenError } from '../../functions/transfers/workflow.ts';
import { LocalWorkflow, substitute, TRANSFER_ASL, taskStates } from '../../infra/local/runtime/workflow.ts';

/**
 * The transfer approval ASL on the local engine (aws-local-stepfunctions), through the workflow
 * port: every path of the definition. The steps here only record what the workflow asks for and
 * answer as the real steps will; the decisions come in through sendTaskSuccess/sendTaskFailure.
 */

const DIR = resolve(import.meta.dirname, '../../statemachines');

describe('state machine definitions', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.asl.json'));
  it.each(files)('%s is valid ASL (asl-validator), with its substitutions as CDK makes them', (file) => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const def = JSON.parse(
      substitute(text, {
        TransferStepsFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:transfer-steps',
        ReviewStepsFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:review-steps',
        ReviewBatchFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:review-batch',
        ReviewConcurrency: '5',
        EvaluationStepsFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:evaluation-steps',
        EvaluationBatchFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:evaluation-batch',
        CollectionsBatchFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:collections-batch',
        EvaluationConcurrency: '5',
      }),
    );
    const r = aslValidator(def);
    expect(r.errorsText('\n')).toBe('');
    expect(r.isValid).toBe(true);
    // Every wait for a person has an explicit timeout.
    const waits = taskStates(def).filter((t) => t.resource.endsWith('.waitForTaskToken'));
    if (waits.length > 0) expect(JSON.stringify(def)).toContain('"TimeoutSecondsPath"');
    // Every Task state calls a steps function (no SDK integration the local engine would send to AWS).
    for (const t of taskStates(def)) expect(t.resource).toMatch(/^arn:aws:states:::lambda:invoke/);
  });

  it('the transfer approval waits for people, each wait with its timeout', () => {
    const def = JSON.parse(readFileSync(TRANSFER_ASL, 'utf8'));
    expect(taskStates(def).filter((t) => t.resource.endsWith('.waitForTaskToken')).length).toBeGreaterThan(0);
    expect(JSON.stringify(def)).toContain('"TimeoutSecondsPath"');
  });

  it('refuses a definition with a Task state it has no local handler for (nothing calls AWS)', () => {
    const def = JSON.parse(readFileSync(TRANSFER_ASL, 'utf8'));
    def.States.RiskGate.Resource = 'arn:aws:states:::sns:publish';
    expect(() => new LocalWorkflow(async () => ({}), JSON.stringify(def))).toThrow(
      /Task state RiskGate \(arn:aws:states:::sns:publish\) has no local handler/,
    );
  });
});

interface Wait {
  readonly level: number;
  readonly reminders: number;
  readonly token: string;
}

/** Steps that answer as the real ones will, recording every call; waits are announced in order. */
function desk(plan: {
  levels: number;
  reminderSeconds?: number;
  maxReminders?: number;
  refuse?: string;
  /** A step that throws (a handler error), and whether the fail step throws too. */
  throwIn?: StepPayload['step'];
  failThrows?: boolean;
  /** The gate's first level (a retried transfer's levels already approved). */
  start?: number;
}) {
  const calls: StepPayload[] = [];
  const waits: Wait[] = [];
  let announce: (() => void) | undefined;
  const steps = async (p: StepPayload): Promise<unknown> => {
    calls.push(p);
    if (plan.throwIn === p.step) throw new Error(`${p.step} broke: ddb down`);
    switch (p.step) {
      case 'gate':
        if (plan.refuse) {
          const e = new Error(plan.refuse);
          e.name = 'TransferRefused';
          throw e;
        }
        return {
          levels: Array.from({ length: plan.levels }, (_, i) => ({ level: i + 1 })),
          reminderSeconds: plan.reminderSeconds ?? 60,
          maxReminders: plan.maxReminders ?? 2,
          start: plan.start ?? 0,
        };
      case 'await':
        waits.push({
          level: (p.level as { level: number }).level,
          reminders: p.reminders,
          token: p.taskToken,
        });
        announce?.();
        return {};
      case 'execute':
        return { status: 'approved' };
      case 'close':
        return { status: p.error };
      case 'fail':
        if (plan.failThrows) throw new Error('the fail step broke too');
        return { status: 'failed' };
    }
  };
  /** The n-th wait (1-based), once the workflow has reached it. */
  const wait = async (n: number): Promise<Wait> => {
    for (let i = 0; i < 500 && waits.length < n; i++)
      await new Promise<void>((ok) => {
        announce = ok;
        setTimeout(ok, 20);
      });
    const w = waits[n - 1];
    if (!w) throw new Error(`the workflow never reached wait ${n}`);
    return w;
  };
  return { steps, calls, waits, wait };
}

async function started(d: ReturnType<typeof desk>, transferId = 'T-1') {
  const wf = new LocalWorkflow(d.steps);
  const { executionId } = await wf.start(transferId, { transferId });
  const record = wf.execution(executionId);
  if (!record) throw new Error('no execution');
  return { wf, record };
}

describe('transfer approval workflow on the local engine', () => {
  it('approve all: each level waits for the one before, then the transfer is executed', async () => {
    const d = desk({ levels: 3 });
    const { wf, record } = await started(d);
    for (let n = 1; n <= 3; n++) {
      const w = await d.wait(n);
      expect(w).toMatchObject({ level: n, reminders: 0 });
      // The level after has not been asked yet.
      expect(d.waits).toHaveLength(n);
      await wf.sendTaskSuccess(w.token, { approvedBy: [`approver-${n}`] });
    }
    await record.done;
    expect(record.status).toBe('SUCCEEDED');
    expect(record.output).toMatchObject({ transferId: 'T-1', outcome: { status: 'approved' } });
    expect(d.calls.map((c) => c.step)).toEqual(['gate', 'await', 'await', 'await', 'execute']);
    // Tokens are fresh per wait, and an answered one is dead.
    expect(new Set(d.waits.map((w) => w.token)).size).toBe(3);
    await expect(wf.sendTaskSuccess(d.waits[0]?.token as string, {})).rejects.toBeInstanceOf(TaskTokenError);
  });

  it('a rejection at level 2 ends it: level 3 is never asked, the close step is told why', async () => {
    const d = desk({ levels: 3 });
    const { wf, record } = await started(d);
    await wf.sendTaskSuccess((await d.wait(1)).token, {});
    await wf.sendTaskFailure((await d.wait(2)).token, 'TransferRejected', 'fiona: beneficiary unknown');
    await record.done;
    expect(record.status).toBe('SUCCEEDED');
    expect(record.output).toMatchObject({ outcome: { status: 'TransferRejected' } });
    expect(d.calls.map((c) => c.step)).toEqual(['gate', 'await', 'await', 'close']);
    expect(d.calls.at(-1)).toEqual({
      step: 'close',
      transferId: 'T-1',
      error: 'TransferRejected',
      cause: 'fiona: beneficiary unknown',
    });
  });

  it('nobody answers: reminded (the last reminder escalates), then expired; the old token is dead', async () => {
    const d = desk({ levels: 2, reminderSeconds: 1, maxReminders: 1 });
    const { wf, record } = await started(d);
    const first = await d.wait(1);
    const reminder = await d.wait(2);
    expect([first, reminder].map((w) => [w.level, w.reminders])).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(d.calls[2]).toMatchObject({ step: 'await', reminders: 1, maxReminders: 1 });
    // The first link's token timed out: answering it does nothing.
    await expect(wf.sendTaskSuccess(first.token, {})).rejects.toBeInstanceOf(TaskTokenError);
    await record.done;
    expect(record.output).toMatchObject({ outcome: { status: 'ApprovalExpired' } });
    expect(d.calls.at(-1)).toMatchObject({ step: 'close', error: 'ApprovalExpired' });
  });

  it('an answer after a reminder carries on to the next level', async () => {
    const d = desk({ levels: 2, reminderSeconds: 1, maxReminders: 2 });
    const { wf, record } = await started(d);
    await d.wait(1);
    const reminded = await d.wait(2);
    await wf.sendTaskSuccess(reminded.token, {});
    await wf.sendTaskSuccess((await d.wait(3)).token, {});
    await record.done;
    expect(d.waits.map((w) => [w.level, w.reminders])).toEqual([
      [1, 0],
      [1, 1],
      [2, 0],
    ]);
    expect(record.output).toMatchObject({ outcome: { status: 'approved' } });
  });

  it('a recall while a level waits closes it at once', async () => {
    const d = desk({ levels: 3 });
    const { wf, record } = await started(d);
    const w = await d.wait(1);
    await wf.sendTaskFailure(w.token, 'TransferRecalled', 'recalled by rita');
    await record.done;
    expect(record.output).toMatchObject({ outcome: { status: 'TransferRecalled' } });
    expect(d.calls.map((c) => c.step)).toEqual(['gate', 'await', 'close']);
    await expect(wf.sendTaskSuccess(w.token, {})).rejects.toBeInstanceOf(TaskTokenError);
  });

  it('a request the gate refuses never reaches an approver', async () => {
    const d = desk({ levels: 1, refuse: 'no chain: someone would have to approve twice' });
    const { record } = await started(d);
    await record.done;
    expect(d.calls.map((c) => c.step)).toEqual(['gate', 'close']);
    expect(d.calls.at(-1)).toMatchObject({
      error: 'TransferRefused',
      cause: 'no chain: someone would have to approve twice',
    });
  });

  it.each([
    ['gate', 'RiskGate', ['gate', 'fail']],
    ['await', 'AwaitDecision', ['gate', 'await', 'fail']],
    ['execute', 'Execute', ['gate', 'execute', 'fail']],
  ] as const)(
    'a %s step that throws goes to the fail step (state %s), then the execution fails',
    async (step, state, steps) => {
      const d = desk({ levels: step === 'execute' ? 0 : 1, throwIn: step });
      const { record } = await started(d);
      await record.done;
      expect(d.calls.map((c) => c.step)).toEqual(steps);
      expect(d.calls.at(-1)).toMatchObject({
        step: 'fail',
        transferId: 'T-1',
        state,
        failure: { Error: 'Error', Cause: `${step} broke: ddb down` },
      });
      expect(record.status).toBe('FAILED');
      expect(record.error?.error).toBe('TransferFailed');
    },
  );

  it('a close step that throws goes to the fail step too', async () => {
    const d = desk({ levels: 1, throwIn: 'close' });
    const { wf, record } = await started(d);
    await wf.sendTaskFailure((await d.wait(1)).token, 'TransferRecalled', 'recalled by rita');
    await record.done;
    expect(d.calls.map((c) => c.step)).toEqual(['gate', 'await', 'close', 'fail']);
    expect(d.calls.at(-1)).toMatchObject({ state: 'Close' });
    expect(record.error?.error).toBe('TransferFailed');
  });

  it('the execution still ends Failed when the fail step itself throws', async () => {
    const d = desk({ levels: 1, throwIn: 'gate', failThrows: true });
    const { record } = await started(d);
    await record.done;
    expect(d.calls.map((c) => c.step)).toEqual(['gate', 'fail']);
    expect(record.status).toBe('FAILED');
    expect(record.error?.error).toBe('TransferFailed');
  });

  it('starts at the level the gate says (levels already approved are not waited on again)', async () => {
    const d = desk({ levels: 3, start: 2 });
    const { wf, record } = await started(d);
    const w = await d.wait(1);
    expect(w.level).toBe(3);
    await wf.sendTaskSuccess(w.token, {});
    await record.done;
    expect(d.calls.map((c) => c.step)).toEqual(['gate', 'await', 'execute']);
    const all = desk({ levels: 2, start: 2 });
    const done = await started(all);
    await done.record.done;
    expect(all.calls.map((c) => c.step)).toEqual(['gate', 'execute']);
  });

  it('an execution name is used once', async () => {
    const d = desk({ levels: 1 });
    const wf = new LocalWorkflow(d.steps);
    await wf.start('T-9', { transferId: 'T-9' });
    await expect(wf.start('T-9', { transferId: 'T-9' })).rejects.toThrow(/already exists/);
    await wf.sendTaskFailure((await d.wait(1)).token, 'TransferRecalled', 'done');
  });
});
