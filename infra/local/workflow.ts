import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { type StepPayload, TaskTokenError, type WorkflowPort } from '../../functions/transfers/workflow.ts';

/** The one definition of the transfer workflow, as CDK deploys it. */
export const TRANSFER_ASL = resolve(import.meta.dirname, '../../statemachines/transfer-approval.asl.json');

type Json = Record<string, unknown>;

/** Replaces `${Name}` placeholders as CDK's definitionSubstitutions do. */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no substitution for ${whole}`);
    return v;
  });
}

/** Every Task state of a definition, Map item processors included, with its Resource. */
export function taskStates(def: Json): { name: string; resource: string }[] {
  const out: { name: string; resource: string }[] = [];
  for (const [name, s] of Object.entries((def.States ?? {}) as Record<string, Json>)) {
    if (s.Type === 'Task') out.push({ name, resource: String(s.Resource) });
    const inner = (s.ItemProcessor ?? s.Iterator) as Json | undefined;
    if (inner) out.push(...taskStates(inner));
    for (const b of (s.Branches ?? []) as Json[]) out.push(...taskStates(b));
  }
  return out;
}

export type Steps = (payload: StepPayload) => Promise<unknown>;

export interface ExecutionRecord {
  readonly executionId: string;
  readonly input: unknown;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: { readonly error: string; readonly cause: string };
  readonly done: Promise<void>;
}

/**
 * The transfer workflow on aws-local-stepfunctions: the same ASL file, every Task state mapped
 * to the same steps handler (a `lambda:invoke` answers `{Payload}` as on AWS, so ResultSelectors
 * read the same paths). The engine has no `.waitForTaskToken`: the wait is parked here under a
 * fresh token handed to the steps handler exactly where AWS would put `$$.Task.Token`, and resumed
 * by sendTaskSuccess / sendTaskFailure. The engine's TimeoutSeconds still applies. A definition
 * with a Task state no handler covers is refused, so nothing ever calls AWS from here.
 */
export class LocalWorkflow implements WorkflowPort {
  private readonly machine: StateMachine;
  private readonly waiting = new Map<string, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  /** The token each transfer waits on: one at a time (levels run in turn). */
  private readonly current = new Map<string, string>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly handlers: Record<string, (params: Json) => Promise<unknown>> = {};

  constructor(
    private readonly steps: Steps,
    definitionText = readFileSync(TRANSFER_ASL, 'utf8'),
  ) {
    const def = JSON.parse(
      substitute(definitionText, { TransferStepsFunction: 'credit-sentinel-transfer-steps' }),
    );
    for (const t of taskStates(def)) {
      if (t.resource === 'arn:aws:states:::lambda:invoke')
        this.handlers[t.name] = async (p) => ({ Payload: await this.steps(p.Payload as StepPayload) });
      else if (t.resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken')
        this.handlers[t.name] = (p) => this.park(p.Payload as Json);
      else throw new Error(`Task state ${t.name} (${t.resource}) has no local handler`);
    }
    this.machine = new StateMachine(def);
  }

  private async park(payload: Json): Promise<unknown> {
    const token = `local-${randomUUID()}`;
    // A new wait of the same transfer (a reminder after a timeout) makes the old token stale, as
    // on AWS, where a timed-out token answers TaskTimedOut.
    const transferId = String(payload.transferId);
    const stale = this.current.get(transferId);
    if (stale) this.waiting.delete(stale);
    this.current.set(transferId, token);
    const parked = new Promise<unknown>((ok, fail) => this.waiting.set(token, { ok, fail }));
    try {
      await this.steps({ ...payload, taskToken: token } as StepPayload);
    } catch (e) {
      this.waiting.delete(token);
      throw e;
    }
    return parked;
  }

  async start(name: string, input: { readonly transferId: string }): Promise<{ executionId: string }> {
    const executionId = `local:transfer-approval:${name}`;
    if (this.executions.has(executionId)) throw new Error(`execution ${name} already exists`);
    const run = this.machine.run(input, {
      overrides: { taskResourceLocalHandlers: this.handlers as never },
      // `$$.Task.Token` must resolve for the engine; park() hands the steps a fresh one instead.
      context: { Execution: { Id: executionId, Name: name }, Task: { Token: 'replaced-per-wait' } } as never,
    });
    const finished = () => {
      const token = this.current.get(input.transferId);
      if (token) this.waiting.delete(token);
      this.current.delete(input.transferId);
    };
    const record: ExecutionRecord = {
      executionId,
      input,
      status: 'RUNNING',
      done: run.result.finally(finished).then(
        (output) => {
          record.status = 'SUCCEEDED';
          record.output = output;
        },
        (e: unknown) => {
          record.status = 'FAILED';
          const cause = e instanceof ExecutionError ? (e.cause as Error | undefined) : (e as Error);
          record.error = { error: cause?.name ?? 'Error', cause: cause?.message ?? String(e) };
        },
      ),
    };
    this.executions.set(executionId, record);
    return { executionId };
  }

  async sendTaskSuccess(token: string, output: unknown): Promise<void> {
    const w = this.waiting.get(token);
    if (!w) throw new TaskTokenError('no task is waiting on this token (it timed out or was answered)');
    this.waiting.delete(token);
    w.ok(output);
  }

  async sendTaskFailure(token: string, error: string, cause: string): Promise<void> {
    const w = this.waiting.get(token);
    if (!w) throw new TaskTokenError('no task is waiting on this token (it timed out or was answered)');
    this.waiting.delete(token);
    const e = new Error(cause);
    e.name = error;
    w.fail(e);
  }

  /** An execution's record (tests and the console). */
  execution(executionId: string): ExecutionRecord | undefined {
    return this.executions.get(executionId);
  }
}
