import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import {
  ExecutionExistsError,
  type StepPayload,
  TaskTokenError,
  type WorkflowPort,
} from '../../../functions/transfers/workflow.ts';

/** The one definition of the transfer workflow, as CDK deploys it. */
export const TRANSFER_ASL = resolve(import.meta.dirname, '../../../statemachines/transfer-approval.asl.json');

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
/** The longest timer Node can hold (setTimeout's 32-bit milliseconds), in whole seconds: about 24.8 days. */
export const LONGEST_LOCAL_TIMEOUT_S = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The definition with every `TimeoutSeconds` the local engine cannot time (more than
 * LONGEST_LOCAL_TIMEOUT_S; it would overflow setTimeout and fire at once) set to that longest:
 * the approvals' 30 days end after 24.8 days of one process's life locally. A restart begins the
 * count again, as the executions it carries on are new ones.
 */
export function withLocalTimeouts<T>(def: T): T {
  if (Array.isArray(def)) return def.map(withLocalTimeouts) as T;
  if (def === null || typeof def !== 'object') return def;
  return Object.fromEntries(
    Object.entries(def).map(([k, v]) => [
      k,
      k === 'TimeoutSeconds' && typeof v === 'number'
        ? Math.min(v, LONGEST_LOCAL_TIMEOUT_S)
        : withLocalTimeouts(v),
    ]),
  ) as T;
}

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

/** Where the local runtime reads a Distributed Map's items from: the Task the transform puts before it. */
export const LOCAL_ITEM_READER = 'arn:aws:states:::s3:getObject';

/**
 * aws-local-stepfunctions has no Distributed Map (ItemReader, ItemBatcher, ResultWriter, tolerated
 * failures). This turns each one into what the engine runs: a Task under the Map's own name that
 * reads the same item source (its `ItemReader` parameters, resolved by the engine as on AWS) and
 * cuts it into the same batches (`{BatchInput, Items}`), then an inline Map over that list with the
 * same item processor, concurrency, Next and Catch. The Task's resource stays `s3:getObject`: the
 * caller maps it to a local reader of the same manifest. Tolerated failures have no inline
 * equivalent: locally a batch that fails after its retries fails the Map.
 */
export function distributedToInline(def: Json, opts: { maxConcurrency?: number } = {}): Json {
  const states: Record<string, Json> = {};
  for (const [name, s] of Object.entries((def.States ?? {}) as Record<string, Json>)) {
    const processor = s.ItemProcessor as Json | undefined;
    const mode = (processor?.ProcessorConfig as Json | undefined)?.Mode;
    if (s.Type !== 'Map' || mode !== 'DISTRIBUTED') {
      states[name] = s;
      continue;
    }
    const reader = s.ItemReader as Json | undefined;
    if (!reader) throw new Error(`Map ${name} is DISTRIBUTED without an ItemReader: nothing to read locally`);
    const batcher = s.ItemBatcher as Json | undefined;
    const itemsPath = `$.localItems${Object.keys(states).length}`;
    const inline = `${name} (inline)`;
    states[name] = {
      Type: 'Task',
      Comment: `Local stand-in for ${name}'s ItemReader${batcher ? ' and ItemBatcher' : ''}.`,
      Resource: LOCAL_ITEM_READER,
      Parameters: {
        ...((reader.Parameters ?? {}) as Json),
        ...(batcher
          ? { MaxItemsPerBatch: batcher.MaxItemsPerBatch ?? 100, BatchInput: batcher.BatchInput ?? {} }
          : {}),
      },
      ResultPath: itemsPath,
      Next: inline,
    };
    const {
      ItemReader: _r,
      ItemBatcher: _b,
      ResultWriter: _w,
      ToleratedFailurePercentage: _p,
      ToleratedFailureCount: _c,
      Label: _l,
      ...rest
    } = s;
    const cap = opts.maxConcurrency;
    const declared =
      typeof rest.MaxConcurrency === 'number' && rest.MaxConcurrency > 0 ? rest.MaxConcurrency : undefined;
    states[inline] = {
      ...rest,
      ...(cap !== undefined ? { MaxConcurrency: Math.min(cap, declared ?? cap) } : {}),
      ItemsPath: itemsPath,
      ItemProcessor: { ...processor, ProcessorConfig: { Mode: 'INLINE' } },
    };
  }
  return { ...def, States: states };
}

/** Batches as a Distributed Map's ItemBatcher makes them: `{BatchInput, Items}` of at most `max` items. */
export function batchesOf(items: readonly unknown[], max: number, batchInput: unknown): Json[] {
  const out: Json[] = [];
  for (let i = 0; i < items.length; i += max)
    out.push({ BatchInput: batchInput, Items: items.slice(i, i + max) });
  return out;
}

export type Steps = (payload: StepPayload) => Promise<unknown>;

/** Where the local engine notes the executions that have not finished (the store: they outlive the process). */
export interface ExecutionJournal {
  started(name: string, startedAt: string): Promise<void>;
  finished(name: string): Promise<void>;
}

/** The name of the local-only Choice state `resumable` puts at the top of a definition. */
export const RESUME_STATE = 'Resume (local)';

/**
 * The same definition entered at any of its top-level states: a Choice state on `$.resumeAt`
 * (the state's name) put before the definition's own StartAt, which stays its default. Only the
 * local runtime builds it, to carry on an execution a stopped process left half-way (AWS keeps
 * executions across restarts; the deployed file is unchanged). The input must be what that state
 * would have received: it is passed on as it is, `resumeAt` included (every state picks its
 * fields with Parameters, so the extra field goes no further than the state entered).
 */
export function resumable(def: Json): Json {
  const states = (def.States ?? {}) as Record<string, Json>;
  return {
    ...def,
    StartAt: RESUME_STATE,
    States: {
      [RESUME_STATE]: {
        Type: 'Choice',
        Comment: 'Local only: enters the workflow at the state a restarted process carries it on from.',
        Choices: Object.keys(states).map((name) => ({
          Variable: '$.resumeAt',
          StringEquals: name,
          Next: name,
        })),
        Default: def.StartAt,
      },
      ...states,
    },
  };
}

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
  private readonly definition: Json;
  /** The same definition with a way in at every state (`resumable`), built at the first resume. */
  private resumeMachine: StateMachine | undefined;
  /**
   * A resumed wait that must only take its new token (the approvers were already asked before the
   * restart): the next wait of the transfer calls this instead of the steps handler, once.
   */
  private readonly rewaits = new Map<string, (token: string) => Promise<void>>();
  /** Executions stopped with the process: left in the journal, to be carried on at the next start. */
  private readonly aborted = new Set<string>();
  private readonly waiting = new Map<string, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  /** The token each transfer waits on: one at a time (levels run in turn). */
  private readonly current = new Map<string, string>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly handlers: Record<string, (params: Json) => Promise<unknown>> = {};

  constructor(
    private readonly steps: Steps,
    definitionText = readFileSync(TRANSFER_ASL, 'utf8'),
    private readonly journal?: ExecutionJournal,
  ) {
    const def = withLocalTimeouts(
      JSON.parse(substitute(definitionText, { TransferStepsFunction: 'credit-sentinel-transfer-steps' })),
    );
    this.definition = def;
    for (const t of taskStates(def)) {
      if (t.resource === 'arn:aws:states:::lambda:invoke')
        this.handlers[t.name] = (p) =>
          this.track(async () => ({ Payload: await this.steps(p.Payload as StepPayload) }));
      else if (t.resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken')
        this.handlers[t.name] = (p) => this.park(p.Payload as Json);
      else throw new Error(`Task state ${t.name} (${t.resource}) has no local handler`);
    }
    this.machine = new StateMachine(def);
  }

  /** Steps running now: `stop()` waits for them, so nothing writes to a store being closed. */
  private readonly inflight = new Set<Promise<unknown>>();
  /** Each execution's handle, to abort the ones still running at `stop()`. */
  private readonly runs = new Map<string, { abort(): void }>();
  private stopped = false;

  private track<T>(work: () => Promise<T>): Promise<T> {
    const p = work();
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Stops the engine with the process: executions still running are aborted (they stay in the
   * journal, and the next start carries them on: `resume`), and the steps running now are waited
   * for. Nothing starts after it.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const [id, run] of this.runs)
      if (this.executions.get(id)?.status === 'RUNNING') {
        this.aborted.add(id);
        run.abort();
      }
    for (const w of this.waiting.values()) w.fail(new Error('the local workflow engine stopped'));
    this.waiting.clear();
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    await Promise.allSettled([...this.executions.values()].map((e) => e.done));
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
    // Failed by stop() after the engine aborted the execution: nobody awaits it any more.
    parked.catch(() => undefined);
    const rewait = this.rewaits.get(transferId);
    this.rewaits.delete(transferId);
    try {
      await this.track(() =>
        rewait ? rewait(token) : this.steps({ ...payload, taskToken: token } as StepPayload),
      );
    } catch (e) {
      this.waiting.delete(token);
      throw e;
    }
    return parked;
  }

  async start(name: string, input: { readonly transferId: string }): Promise<{ executionId: string }> {
    const executionId = `local:transfer-approval:${name}`;
    if (this.stopped) throw new Error('the local workflow engine has stopped');
    if (this.executions.has(executionId) || this.starting.has(executionId))
      throw new ExecutionExistsError(`execution ${name} already exists`);
    // The name is taken at once: a second start made while the journal is written is refused too.
    this.starting.add(executionId);
    try {
      await this.journal?.started(name, new Date().toISOString());
      return this.launch(this.machine, name, input, input);
    } finally {
      this.starting.delete(executionId);
    }
  }

  /** Names being started (their journal entry is being written). */
  private readonly starting = new Set<string>();

  /**
   * Carries on an execution a stopped process left half-way, under the same name: the same
   * definition entered at `at` with that state's input (see `resumable`). With `rewait`, the
   * first wait of the transfer takes its new token through it instead of asking the approvers
   * again. Refused if the execution runs in this process.
   */
  async resume(
    name: string,
    input: { readonly transferId: string },
    entry: { readonly at: string; readonly input: Json },
    rewait?: (token: string) => Promise<void>,
  ): Promise<{ executionId: string }> {
    const executionId = `local:transfer-approval:${name}`;
    if (this.stopped) throw new Error('the local workflow engine has stopped');
    if (this.isLive(name) || this.starting.has(executionId)) throw new Error(`execution ${name} is running`);
    if (!(entry.at in ((this.definition.States ?? {}) as Json)))
      throw new Error(`the workflow has no state ${entry.at} to resume at`);
    this.resumeMachine ??= new StateMachine(resumable(this.definition) as never);
    const machine = this.resumeMachine;
    this.starting.add(executionId);
    try {
      await this.journal?.started(name, new Date().toISOString());
      if (rewait) this.rewaits.set(input.transferId, rewait);
      this.executions.delete(executionId);
      return this.launch(machine, name, input, { ...entry.input, resumeAt: entry.at });
    } finally {
      this.starting.delete(executionId);
    }
  }

  /** Whether the execution of this name runs in this process now. */
  isLive(name: string): boolean {
    return this.executions.get(`local:transfer-approval:${name}`)?.status === 'RUNNING';
  }

  private launch(
    machine: StateMachine,
    name: string,
    input: { readonly transferId: string },
    runInput: unknown,
  ): { executionId: string } {
    const executionId = `local:transfer-approval:${name}`;
    const run = machine.run(runInput as never, {
      overrides: { taskResourceLocalHandlers: this.handlers as never },
      // `$$.Task.Token` must resolve for the engine; park() hands the steps a fresh one instead.
      context: { Execution: { Id: executionId, Name: name }, Task: { Token: 'replaced-per-wait' } } as never,
    });
    const finished = async () => {
      const token = this.current.get(input.transferId);
      if (token) this.waiting.delete(token);
      this.current.delete(input.transferId);
      this.rewaits.delete(input.transferId);
      // An execution stopped with the process stays in the journal: the next start carries it on.
      if (!this.aborted.has(executionId))
        await this.journal
          ?.finished(name)
          .catch((e: unknown) =>
            console.error(`workflow: ${name} ended, and its journal entry stays: ${(e as Error).message}`),
          );
    };
    const record: ExecutionRecord = {
      executionId,
      input,
      status: 'RUNNING',
      done: run.result.then(
        async (output) => {
          await finished();
          record.status = 'SUCCEEDED';
          record.output = output;
        },
        async (e: unknown) => {
          await finished();
          record.status = 'FAILED';
          const cause = e instanceof ExecutionError ? (e.cause as Error | undefined) : (e as Error);
          record.error = { error: cause?.name ?? 'Error', cause: cause?.message ?? String(e) };
        },
      ),
    };
    this.executions.set(executionId, record);
    this.runs.set(executionId, run);
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
