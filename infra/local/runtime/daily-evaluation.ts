import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { IsoDate } from '../../../functions/core/dates.ts';
import {
  DailyRunApp,
  type DailyRunDeps,
  type DailyRunFiles,
  type DailyRunReport,
  type DailyRunStep,
  type FailedBatch,
  type RunObjectRef,
  reportOutput,
} from '../../../functions/credit/daily-run.ts';
import type { BatchEvaluation } from '../../../functions/credit/evaluate.ts';
import {
  batchesOf,
  distributedToInline,
  LOCAL_ITEM_READER,
  substitute,
  taskStates,
  withLocalTimeouts,
} from './workflow.ts';

/** The one definition of the daily evaluation, as CDK deploys it. */
export const DAILY_EVALUATION_ASL = resolve(
  import.meta.dirname,
  '../../../statemachines/daily-evaluation.asl.json',
);

type Json = Record<string, unknown>;

/**
 * A run's files under `<dataDir>/evaluations/<run>/`: `manifest.json`, `batches/<first id>.json`,
 * `failed/<first id>.json`, `report.json` (an S3 prefix per run on AWS). The "bucket" is `local`.
 */
export class FileDailyRunFiles implements DailyRunFiles {
  readonly root: string;
  constructor(dataDir: string) {
    this.root = resolve(dataDir, 'evaluations');
  }
  pathOf(key: string): string {
    const p = resolve(this.root, key);
    if (!p.startsWith(this.root + sep)) throw new Error(`run file ${key} leaves ${this.root}`);
    return p;
  }
  private async put(key: string, value: unknown): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(`${path}.part`, JSON.stringify(value));
    await rename(`${path}.part`, path);
  }
  private async all<T>(dir: string): Promise<T[]> {
    const names = await readdir(this.pathOf(dir)).catch(() => [] as string[]);
    return Promise.all(
      names
        .filter((n) => n.endsWith('.json'))
        .sort()
        .map(async (n) => JSON.parse(await readFile(this.pathOf(`${dir}/${n}`), 'utf8')) as T),
    );
  }
  /** A file name for a customer id (ids may hold any character). */
  private static nameOf(id: string): string {
    return `${Buffer.from(id).toString('base64url')}.json`;
  }
  async putManifest(runId: string, customerIds: readonly string[]): Promise<RunObjectRef> {
    const Key = `${runId}/manifest.json`;
    await this.put(Key, customerIds);
    return { Bucket: 'local', Key };
  }
  async getManifest(ref: RunObjectRef): Promise<string[]> {
    return JSON.parse(await readFile(this.pathOf(ref.Key), 'utf8')) as string[];
  }
  async putBatch(runId: string, batch: BatchEvaluation): Promise<void> {
    await this.put(`${runId}/batches/${FileDailyRunFiles.nameOf(batch.customerIds[0] ?? '')}`, batch);
  }
  listBatches(runId: string): Promise<BatchEvaluation[]> {
    return this.all(`${runId}/batches`);
  }
  async putFailure(runId: string, failure: FailedBatch): Promise<void> {
    await this.put(`${runId}/failed/${FileDailyRunFiles.nameOf(failure.customerIds[0] ?? '')}`, failure);
  }
  listFailures(runId: string): Promise<FailedBatch[]> {
    return this.all(`${runId}/failed`);
  }
  async putReport(runId: string, report: DailyRunReport): Promise<void> {
    await this.put(`${runId}/report.json`, report);
  }
  /** Removes a run's files (a run that evaluated everyone: its report was logged and counted). */
  async remove(runId: string): Promise<void> {
    await rm(this.pathOf(runId), { recursive: true, force: true });
  }
}

/** A run that did not evaluate every customer: the report names them. */
export class EvaluationBatchesFailedError extends Error {
  constructor(readonly report: DailyRunReport) {
    const n = report.notEvaluated.length;
    const first = report.failedBatches[0];
    super(
      `${n} customer${n === 1 ? '' : 's'} of ${report.listed} not evaluated in ${report.failedBatches.length} failed batch${report.failedBatches.length === 1 ? '' : 'es'}` +
        (first
          ? ` (first: ${first.customerIds.slice(0, 5).join(', ')}: ${first.error}: ${first.cause})`
          : ''),
    );
    this.name = 'EvaluationBatchesFailedError';
  }
}

export interface LocalDailyEvaluationOptions {
  /** Another definition text (tests). @default statemachines/daily-evaluation.asl.json */
  readonly definition?: string;
  /** Milliseconds a Retry waits, by state name, instead of the definition's backoff (tests). */
  readonly retryIntervals?: Readonly<Record<string, number>>;
  /**
   * Batches evaluated at once. Every batch shares one process and its embedded DynamoDB, which
   * answers one request at a time. @default 2
   */
  readonly batchConcurrency?: number;
  /** Customers per batch instead of the definition's MaxItemsPerBatch (tests). */
  readonly batchSize?: number;
  /** Keep each run's files (tests). @default only those of a run that failed */
  readonly keepFiles?: boolean;
  /** Called before each batch step, with its attempt (tests inject failures here). */
  readonly onBatch?: (items: readonly string[], attempt: number) => void | Promise<void>;
  /** Called after each batch step did its work, before it answers (a lost answer, in tests). */
  readonly afterBatch?: (items: readonly string[], attempt: number) => void | Promise<void>;
  /**
   * The day's collections for one batch (the definition's CollectBatch, `step: 'collect'`): what the
   * collections function does on AWS. A throw is a failed batch (retried, then the run fails as
   * CollectionsBatchesFailed). @default none: the step answers `{ skipped: true }`
   */
  readonly collect?: (step: CollectStep) => Promise<unknown>;
}

/** What the definition's CollectBatch hands the collections function. */
export interface CollectStep {
  readonly BatchInput: { readonly runId: string; readonly asOf: IsoDate };
  readonly Items: readonly string[];
}

/** A run that evaluated and reported every customer, but whose collections failed in some batch. */
export class CollectionsBatchesFailedError extends Error {
  readonly error = 'CollectionsBatchesFailed';
  constructor(
    readonly report: DailyRunReport,
    cause: string,
  ) {
    super(`the day's collections failed in a batch, after the evaluation reported: ${cause}`);
    this.name = 'CollectionsBatchesFailedError';
  }
}

/**
 * The daily evaluation on aws-local-stepfunctions: the same ASL file, both Distributed Maps made
 * inline (`distributedToInline`; the deploy-time concurrency replaced by `batchConcurrency`),
 * every `lambda:invoke` mapped to the same steps (`DailyRunApp.run`) but the collect step, which
 * goes to the `collect` option, and the manifest read from where `list` wrote it.
 */
export class LocalDailyEvaluation {
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, (params: Json) => Promise<unknown>> = {};
  readonly app: DailyRunApp;
  readonly files: FileDailyRunFiles;
  private readonly attempts = new Map<string, number>();
  /** The last error of a collect step, by run: the Fail state's cause does not carry it. */
  private readonly collectErrors = new Map<string, string>();

  constructor(
    deps: Omit<DailyRunDeps, 'files'> & { readonly dataDir: string },
    private readonly options: LocalDailyEvaluationOptions = {},
  ) {
    this.files = new FileDailyRunFiles(deps.dataDir);
    this.app = new DailyRunApp({ ...deps, files: this.files });
    const cap = options.batchConcurrency ?? 2;
    const text = substitute(options.definition ?? readFileSync(DAILY_EVALUATION_ASL, 'utf8'), {
      EvaluationStepsFunction: 'credit-sentinel-evaluation-steps',
      EvaluationBatchFunction: 'credit-sentinel-evaluation-batch',
      CollectionsBatchFunction: 'credit-sentinel-collections-batch',
      EvaluationConcurrency: String(cap),
    });
    const def = withLocalTimeouts(
      distributedToInline(localMap(JSON.parse(text), options.batchSize), { maxConcurrency: cap }),
    );
    for (const t of taskStates(def)) {
      if (t.resource === 'arn:aws:states:::lambda:invoke')
        this.handlers[t.name] = async (p) => {
          if ((p.Payload as { step?: unknown }).step === 'collect') return { Payload: await this.collect(p) };
          const step = p.Payload as DailyRunStep;
          if (step.step !== 'batch' || (!options.onBatch && !options.afterBatch))
            return { Payload: reportOut(step, await this.app.run(step)) };
          const key = `${step.BatchInput.runId}|${step.Items[0]}`;
          const attempt = (this.attempts.get(key) ?? 0) + 1;
          this.attempts.set(key, attempt);
          await options.onBatch?.(step.Items, attempt);
          const out = await this.app.run(step);
          await options.afterBatch?.(step.Items, attempt);
          return { Payload: out };
        };
      else if (t.resource === LOCAL_ITEM_READER)
        this.handlers[t.name] = async (p) => {
          const items = await this.files.getManifest({ Bucket: String(p.Bucket), Key: String(p.Key) });
          return p.MaxItemsPerBatch === undefined
            ? items
            : batchesOf(items, Number(p.MaxItemsPerBatch), p.BatchInput);
        };
      else throw new Error(`Task state ${t.name} (${t.resource}) has no local handler`);
    }
    this.machine = new StateMachine(def as unknown as ConstructorParameters<typeof StateMachine>[0]);
  }

  private async collect(p: Json): Promise<unknown> {
    const { BatchInput, Items } = p.Payload as CollectStep;
    if (!this.options.collect) return { skipped: true };
    try {
      return await this.options.collect({ BatchInput, Items });
    } catch (e) {
      this.collectErrors.set(BatchInput.runId, (e as Error).message);
      throw e;
    }
  }

  /**
   * One daily run as of `asOf` (default: the day of `scheduledTime`, or today), to its report.
   * Resolves with the report when every customer was evaluated (and collected); rejects with
   * EvaluationBatchesFailedError (holding the report) when some were not, with
   * CollectionsBatchesFailedError (holding it too) when a collect batch failed for good, or with the
   * step's error when the run stopped before its report.
   */
  async run(
    input: { asOf?: IsoDate; scheduledTime?: string; digest?: boolean } = {},
  ): Promise<DailyRunReport> {
    const runId = `evaluation-${input.asOf ?? 'today'}-${randomBytes(4).toString('hex')}`;
    const execution = this.machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: this.handlers as never,
        ...(this.options.retryIntervals
          ? { retryIntervalOverrides: { ...this.options.retryIntervals } }
          : {}),
      },
      context: { Execution: { Id: `local:daily-evaluation:${runId}`, Name: runId } } as never,
    });
    let failure: unknown;
    try {
      await execution.result;
    } catch (e) {
      failure = e instanceof ExecutionError ? ((e.cause as Error | undefined) ?? e) : e;
    }
    const report = await readFile(this.files.pathOf(`${runId}/report.json`), 'utf8').then(
      (t) => JSON.parse(t) as DailyRunReport,
      () => undefined,
    );
    const collectError = this.collectErrors.get(runId);
    this.collectErrors.delete(runId);
    if (report && report.notEvaluated.length > 0) throw new EvaluationBatchesFailedError(report);
    if (report && (failure as Error | undefined)?.name === 'CollectionsBatchesFailed')
      throw new CollectionsBatchesFailedError(report, collectError ?? (failure as Error).message);
    if (failure !== undefined || !report)
      throw failure ?? new Error(`daily run ${runId} ended without a report`);
    if (!this.options.keepFiles) await this.files.remove(runId);
    return report;
  }
}

/** What a step answers to the engine: the report cut as on AWS (reportOutput), the rest as it is. */
function reportOut(step: DailyRunStep, out: unknown): unknown {
  return step.step === 'report' ? reportOutput(out as DailyRunReport) : out;
}

/**
 * The Map as the local engine takes it: its deploy-time MaxConcurrencyPath dropped (the local
 * cap is set by distributedToInline), and its batch size replaced when a test asks for another.
 */
function localMap(def: Json, batchSize: number | undefined): Json {
  const states = def.States as Record<string, Json>;
  return {
    ...def,
    States: Object.fromEntries(
      Object.entries(states).map(([name, s]) => {
        if (s.Type !== 'Map') return [name, s];
        const { MaxConcurrencyPath: _p, ...rest } = s;
        const batcher = rest.ItemBatcher as Json | undefined;
        return [
          name,
          batchSize !== undefined && batcher
            ? { ...rest, ItemBatcher: { ...batcher, MaxItemsPerBatch: batchSize } }
            : rest,
        ];
      }),
    ),
  };
}
