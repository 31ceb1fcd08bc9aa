import { join } from 'node:path';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoStore } from '../../../functions/adapters/dynamodb.ts';
import {
  type PostOptions,
  postToSlack,
  type SlackMode,
  slackDigestMessage,
  slackMessage,
} from '../../../functions/alerts/slack.ts';
import { recordCollections } from '../../../functions/collections/metrics.ts';
import type { ContactLedger, HandoverBook, HoldBook } from '../../../functions/collections/ports.ts';
import type { CollectionsRunDeps, CollectionsRunReport } from '../../../functions/collections/run.ts';
import { dateInZone, type IsoDate } from '../../../functions/core/dates.ts';
import type { AlertDigest, Notification } from '../../../functions/credit/alerts.ts';
import { recordEvaluation } from '../../../functions/credit/app.ts';
import { recordDailyReport } from '../../../functions/credit/daily-run.ts';
import { type EvaluationRun, evaluate } from '../../../functions/credit/evaluate.ts';
import type { AlertNotifier, CreditStore } from '../../../functions/credit/ports.ts';
import type { CustomersChanged } from '../../../functions/ingest/ports.ts';
import { loadPolicy } from '../cli/credit.ts';
import { localCollectionsRun } from './collections.ts';
import {
  CollectionsBatchesFailedError,
  type CollectStep,
  EvaluationBatchesFailedError,
  LocalDailyEvaluation,
} from './daily-evaluation.ts';
import { OutboxAlertNotifier } from './files.ts';
import { localMetrics } from './metrics.ts';

/**
 * The local stand-in for the evaluation Lambda and its schedule: `evaluate()` after every ingest or
 * other change (for the customers it changed, as of today in the team's time zone, whatever day
 * the message names: a message handled after midnight, or a review as of another day, must not
 * move the alerts to that day), once at start and daily at 05:00 in the team's time zone (every
 * customer, as of that day, then the daily digest of the active alerts). Runs never overlap: each
 * waits for the one before it (a promise chain), and one that has not started yet absorbs later
 * requests for the same date. The policy in force is read at every run, so `sentinel policy set`
 * takes effect at the next one. A failed run is logged and never stops the server.
 */
export type Trigger = 'start' | 'daily' | 'ingest';

export interface LocalEvaluatorOptions {
  /** The store `evaluate()` reads and writes, and the policy in force comes from. */
  readonly store: CreditStore & Pick<DynamoStore, 'getPolicy'> & ContactLedger & HoldBook & HandoverBook;
  /** Where `outbox/alerts.jsonl` lives. */
  readonly dataDir: string;
  /** The finance team's zone: "today" and the daily 05:00. */
  readonly timeZone: string;
  /**
   * Where notifications go. @default the outbox (`<dataDir>/outbox/alerts.jsonl`), and Slack
   * when `slack` is given
   */
  readonly notifier?: AlertNotifier;
  /**
   * A Slack incoming webhook (SENTINEL_SLACK_WEBHOOK_URL): notifications are posted there too,
   * each one, the daily digest, or both (SENTINEL_SLACK_ALERTS). @default mode 'each'
   */
  readonly slack?: { readonly webhookUrl: string; readonly mode?: SlackMode; readonly post?: PostOptions };
  /** The console's address, for the "Open the customer" button of a Slack message. */
  readonly consoleUrl?: () => string | undefined;
  /** The audit trail the day's collections put their holds and hand-overs on. @default none */
  readonly audit?: CollectionsRunDeps['audit'];
  /** Where the customer portal the reminders link to is served. @default none: reminders carry no link */
  readonly portalBaseUrl?: () => string | undefined;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** The daily run's wall-clock time in `timeZone`. @default { hour: 5, minute: 0 } */
  readonly daily?: { readonly hour: number; readonly minute: number };
  /** One line per run worth telling (start, daily, or an ingest that changed alerts). @default console.log */
  readonly log?: (line: string) => void;
  /** @default console.error */
  readonly logError?: (line: string, e: unknown) => void;
  /** Called after every run that finished. */
  readonly onRun?: (run: EvaluationRun, triggers: readonly Trigger[]) => void;
  /**
   * Where the evaluate Lambda's metrics go, published after each run.
   * @default `<dataDir>/metrics.jsonl` (infra/local/runtime/metrics.ts)
   */
  readonly metrics?: Metrics;
  /**
   * How the runs of every customer (start, daily) are made: through the daily evaluation's state
   * machine (statemachines/daily-evaluation.asl.json on the local engine, its Map inline: as on
   * AWS), with these options. @default the definition's batches, 2 at a time
   */
  readonly fanOut?: ConstructorParameters<typeof LocalDailyEvaluation>[1];
  /**
   * The day's collections after each run of every customer (the state machine's CollectBatch, as
   * on AWS): reminders to the outbox, tasks, Slack when `slack` is given. @default true
   */
  readonly collections?: boolean;
}

interface Job {
  readonly asOf: IsoDate;
  /** undefined: every customer. */
  customerIds: Set<string> | undefined;
  triggers: Set<Trigger>;
  started: boolean;
  readonly done: Promise<EvaluationRun | undefined>;
}

/** Sends to each notifier in turn; one that fails is logged and does not keep the others from it. */
export class FanOutNotifier implements AlertNotifier {
  constructor(
    private readonly targets: readonly { readonly name: string; readonly notifier: AlertNotifier }[],
    private readonly logError: (line: string, e: unknown) => void = defaultLogError,
  ) {}
  async notify(notifications: readonly Notification[], asOf: IsoDate): Promise<void> {
    for (const t of this.targets) {
      try {
        await t.notifier.notify(notifications, asOf);
      } catch (e) {
        this.logError(`alerts: ${t.name} notification failed`, e);
      }
    }
  }
  async digest(d: AlertDigest): Promise<void> {
    for (const t of this.targets) {
      try {
        await t.notifier.digest(d);
      } catch (e) {
        this.logError(`alerts: ${t.name} digest failed`, e);
      }
    }
  }
}

/**
 * Posts each notification to a Slack incoming webhook, one message each, in order. When a post
 * fails after its retries, the rest of the batch is not tried (Slack is down or the webhook was
 * revoked: the evaluation must not wait on every one of them) and the failure says how many were
 * not sent; the outbox has them all. The webhook URL is a credential and is never logged.
 */
export class SlackAlertNotifier implements AlertNotifier {
  constructor(
    private readonly webhookUrl: string,
    private readonly consoleUrl: () => string | undefined = () => undefined,
    private readonly post: PostOptions = {},
    private readonly mode: SlackMode = 'each',
  ) {}
  async notify(notifications: readonly Notification[], asOf: IsoDate): Promise<void> {
    if (this.mode === 'digest') return;
    for (let i = 0; i < notifications.length; i++) {
      try {
        await postToSlack(
          this.webhookUrl,
          slackMessage(notifications[i] as Notification, asOf, this.consoleUrl()),
          this.post,
        );
      } catch (e) {
        const left = notifications.length - i;
        throw new Error(
          `${left} of ${notifications.length} notification${notifications.length === 1 ? '' : 's'} not sent (they are in the outbox): ${(e as Error).message}`,
        );
      }
    }
  }
  async digest(d: AlertDigest): Promise<void> {
    if (this.mode === 'each') return;
    await postToSlack(this.webhookUrl, slackDigestMessage(d, this.consoleUrl()), this.post);
  }
}

const defaultLogError = (line: string, e: unknown) =>
  console.error(`${line}: ${e instanceof Error ? e.message : String(e)}`);

const MAX_DELAY = 2 ** 31 - 1;

/** Offset of `timeZone` from UTC at an instant, in ms (wall clock minus UTC). */
function zoneOffsetMs(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(instant));
  const v = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const wall = Date.UTC(v('year'), v('month') - 1, v('day'), v('hour'), v('minute'), v('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

/** The instant the wall clock of `timeZone` shows `date` `hour:minute` (in a DST gap: the instant after it). */
export function zonedInstant(date: IsoDate, hour: number, minute: number, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d, hour, minute);
  const o1 = zoneOffsetMs(wall, timeZone);
  const t1 = wall - o1;
  const o2 = zoneOffsetMs(t1, timeZone);
  if (o2 === o1) return new Date(t1);
  const t2 = wall - o2;
  if (zoneOffsetMs(t2, timeZone) === o2) return new Date(t2);
  return new Date(Math.max(t1, t2)); // the wall time does not exist that day (clocks jumped over it)
}

/** The first instant strictly after `after` at which the wall clock of `timeZone` reads `hour:minute`. */
export function nextDailyRun(after: Date, timeZone: string, hour = 5, minute = 0): Date {
  let day = dateInZone(after, timeZone);
  for (let i = 0; i < 3; i++) {
    const at = zonedInstant(day, hour, minute, timeZone);
    if (at.getTime() > after.getTime()) return at;
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    day = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
  }
  throw new Error(`no ${hour}:${minute} in ${timeZone} after ${after.toISOString()}`);
}

export class LocalEvaluator {
  readonly alertsFile: string;
  private readonly notifier: AlertNotifier;
  private readonly now: () => Date;
  private readonly metrics: Metrics;
  private readonly log: (line: string) => void;
  private readonly logError: (line: string, e: unknown) => void;
  private chain: Promise<unknown> = Promise.resolve();
  private pending: Job[] = [];
  private state: 'new' | 'running' | 'stopped' = 'new';
  private timer: NodeJS.Timeout | undefined;
  private nextRun: Date | undefined;

  constructor(private readonly opts: LocalEvaluatorOptions) {
    this.alertsFile = join(opts.dataDir, 'outbox', 'alerts.jsonl');
    this.logError = opts.logError ?? defaultLogError;
    const outbox = new OutboxAlertNotifier(opts.dataDir);
    this.notifier =
      opts.notifier ??
      (opts.slack
        ? new FanOutNotifier(
            [
              { name: 'outbox', notifier: outbox },
              {
                name: 'Slack',
                notifier: new SlackAlertNotifier(
                  opts.slack.webhookUrl,
                  opts.consoleUrl,
                  opts.slack.post,
                  opts.slack.mode,
                ),
              },
            ],
            this.logError,
          )
        : outbox);
    this.now = opts.now ?? (() => new Date());
    this.metrics = opts.metrics ?? localMetrics(opts.dataDir, 'evaluate');
    this.log = opts.log ?? ((line) => console.log(line));
  }

  /**
   * For the OutboxNotifier: evaluates the changed customers as of today (not the message's date).
   * Messages that arrive before `start()` are left to its run of every customer; it never throws
   * into the ingest.
   */
  readonly listener = (m: CustomersChanged): void => {
    if (this.state !== 'running' || m.customerIds.length === 0) return;
    void this.enqueue(this.today(), m.customerIds, 'ingest');
  };

  /** Evaluates every customer as of today, then daily at the set time while running. */
  start(): Promise<EvaluationRun | undefined> {
    if (this.state !== 'new') throw new Error(`the evaluator is ${this.state}`);
    this.state = 'running';
    const first = this.enqueue(this.today(), undefined, 'start');
    this.schedule();
    return first;
  }

  /** The instant of the next daily run (undefined when not running). */
  get nextDailyRun(): Date | undefined {
    return this.nextRun;
  }

  /**
   * Queues a live evaluation: `customerIds` as of `asOf`, or every customer. `asOf` is today, or the
   * day of a daily run that waited its turn; a day after today fails (a what-if is the CLI's
   * `evaluate --as-of`). Resolves with the run (undefined when it failed, or was dropped by `stop()`
   * before it started); never rejects.
   */
  enqueue(asOf: IsoDate, customerIds: readonly string[] | undefined, trigger: Trigger) {
    if (this.state === 'stopped') return Promise.resolve(undefined);
    const waiting = this.pending.find((j) => !j.started && j.asOf === asOf);
    if (waiting) {
      if (customerIds === undefined) waiting.customerIds = undefined;
      else if (waiting.customerIds) for (const id of customerIds) waiting.customerIds.add(id);
      waiting.triggers.add(trigger);
      return waiting.done;
    }
    let job: Job;
    const done = this.chain.then(() => this.run(job));
    job = {
      asOf,
      customerIds: customerIds ? new Set(customerIds) : undefined,
      triggers: new Set([trigger]),
      started: false,
      done,
    };
    this.pending.push(job);
    this.chain = done;
    return done;
  }

  /** Resolves when every queued evaluation has run. */
  async idle(): Promise<void> {
    let seen: Promise<unknown> | undefined;
    while (seen !== this.chain) {
      seen = this.chain;
      await seen;
    }
  }

  /** Stops the daily timer, drops what has not started, and waits for the run in progress. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.nextRun = undefined;
    await this.idle();
  }

  private today(): IsoDate {
    return dateInZone(this.now(), this.opts.timeZone);
  }

  private schedule(from = this.now()): void {
    if (this.state !== 'running') return;
    const { hour, minute } = this.opts.daily ?? { hour: 5, minute: 0 };
    const at = nextDailyRun(from, this.opts.timeZone, hour, minute);
    this.nextRun = at;
    const delay = Math.min(MAX_DELAY, Math.max(0, at.getTime() - this.now().getTime()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.now().getTime() < at.getTime()) {
        this.schedule(); // a delay longer than a timer holds (or a clock set back): wait on
        return;
      }
      void this.enqueue(this.today(), undefined, 'daily');
      this.schedule(at);
    }, delay);
    this.timer.unref();
  }

  private fanOut: LocalDailyEvaluation | undefined;
  private afterRun: (() => void) | undefined;

  /**
   * Every customer, fanned out as on AWS (the daily evaluation's ASL, its Map inline), the daily
   * digest in its report when the daily schedule asked. A run whose batches left customers out
   * is logged with them and counted (EvaluationBatchesFailed), and still answers what it did.
   */
  private async everyone(job: Job): Promise<EvaluationRun> {
    // Built at the first run: validating the definition takes ~0.4 s.
    this.fanOut ??= new LocalDailyEvaluation(
      {
        store: this.opts.store,
        notifier: this.notifier,
        policy: () => loadPolicy(this.opts.store),
        clock: { now: this.now },
        timeZone: this.opts.timeZone,
        dataDir: this.opts.dataDir,
      },
      {
        ...this.opts.fanOut,
        collect:
          this.opts.fanOut?.collect ??
          (this.opts.collections === false ? undefined : (step) => this.collect(step)),
      },
    );
    const input = {
      // The day of the job (a daily run that waited its turn keeps its own day), at noon there.
      scheduledTime: zonedInstant(job.asOf, 12, 0, this.opts.timeZone).toISOString(),
      digest: job.triggers.has('daily'),
    };
    this.collected = [];
    try {
      const report = await this.fanOut.run(input);
      recordDailyReport(this.metrics, report);
      // Told after the run's own line (run() calls it).
      const collected = this.collectedLine(report.asOf);
      this.afterRun = () => {
        if (report.digest === 'sent')
          this.log(`alerts: daily digest as of ${report.asOf}: ${report.digestNote}`);
        if (report.digest === 'failed')
          this.logError(`alerts: the daily digest as of ${report.asOf} failed`, new Error(report.digestNote));
        if (collected) this.log(collected);
      };
      return report.run;
    } catch (e) {
      if (e instanceof CollectionsBatchesFailedError) {
        recordDailyReport(this.metrics, e.report);
        this.logError(
          `collections: the day's collections as of ${e.report.asOf} failed in a batch (its steps are taken by the next run)`,
          e,
        );
        return e.report.run;
      }
      if (!(e instanceof EvaluationBatchesFailedError)) throw e;
      recordDailyReport(this.metrics, e.report);
      this.logError(`alerts: the daily evaluation as of ${job.asOf} left customers out`, e);
      return e.report.run;
    }
  }

  /** The day's collections reports of the run in progress, batch by batch. */
  private collected: CollectionsRunReport[] = [];
  /** The collections function's metrics (its own service, as on AWS). */
  private collectionsMetrics: Metrics | undefined;

  /** One batch's collections, as the collections function does it on AWS (the run id claims). */
  private async collect(step: CollectStep): Promise<unknown> {
    const report = await localCollectionsRun(
      {
        store: this.opts.store,
        dataDir: this.opts.dataDir,
        now: this.now,
        slackWebhookUrl: this.opts.slack?.webhookUrl,
        portalBaseUrl: this.opts.portalBaseUrl?.(),
        audit: this.opts.audit,
      },
      await loadPolicy(this.opts.store),
      { asOf: step.BatchInput.asOf, claimant: step.BatchInput.runId, customerIds: step.Items },
    );
    this.collected.push(report);
    this.collectionsMetrics ??= localMetrics(this.opts.dataDir, 'collections');
    recordCollections(this.collectionsMetrics, report);
    this.collectionsMetrics.publishStoredMetrics();
    // Failed steps were given back: the batch fails, as on AWS, and is retried.
    if (report.failed > 0)
      throw new Error(
        `${report.failed} collection step(s) not delivered: ${report.steps.find((s) => s.outcome === 'failed')?.note}`,
      );
    return { customers: report.customers, failed: report.failed };
  }

  /** What the day's collections did, in one line (none when they did nothing). */
  private collectedLine(asOf: IsoDate): string | undefined {
    const sent = this.collected.flatMap((r) => r.steps.filter((s) => s.outcome === 'sent'));
    if (sent.length === 0) return undefined;
    const by = new Map<string, number>();
    for (const s of sent)
      by.set(`${s.level} by ${s.channel}`, (by.get(`${s.level} by ${s.channel}`) ?? 0) + 1);
    const emails = sent.filter((s) => s.channel === 'email').length;
    return (
      `collections: as of ${asOf}, ${sent.length} step${sent.length === 1 ? '' : 's'} taken (${[...by]
        .sort()
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}); ` +
      `${emails} reminder email${emails === 1 ? '' : 's'} in ${join(this.opts.dataDir, 'outbox', 'mail')}, tasks in ${join(this.opts.dataDir, 'outbox', 'collections')}`
    );
  }

  private async run(job: Job): Promise<EvaluationRun | undefined> {
    job.started = true;
    this.pending = this.pending.filter((j) => j !== job);
    if (this.state === 'stopped') return undefined;
    const n = job.customerIds?.size;
    const what = n === undefined ? 'every customer' : `${n} changed customer${n === 1 ? '' : 's'}`;
    const why = [...job.triggers].join('+');
    const { metrics } = this;
    const started = Date.now();
    try {
      const run =
        job.customerIds === undefined
          ? await this.everyone(job)
          : await evaluate(
              {
                store: this.opts.store,
                notifier: this.notifier,
                policy: await loadPolicy(this.opts.store),
                clock: { now: this.now },
                timeZone: this.opts.timeZone,
              },
              { asOf: job.asOf, customerIds: [...job.customerIds] },
            );
      if (job.customerIds !== undefined) recordEvaluation(metrics, run, Date.now() - started);
      this.opts.onRun?.(run, [...job.triggers]);
      const changed = run.opened + run.escalated + run.resolved > 0;
      if (!job.triggers.has('ingest') || job.triggers.size > 1 || changed)
        this.log(
          `alerts: evaluated ${run.customers} customer${run.customers === 1 ? '' : 's'} as of ${run.asOf} (${why}): ` +
            `${run.opened} opened, ${run.escalated} escalated, ${run.resolved} resolved; ${run.active} active` +
            (run.skipped > 0 ? `; ${run.skipped} skipped (already evaluated as of a later day)` : ''),
        );
      this.afterRun?.();
      return run;
    } catch (e) {
      metrics.addMetric('EvaluationsFailed', MetricUnit.Count, 1);
      this.logError(`alerts: evaluating ${what} as of ${job.asOf} (${why}) failed`, e);
      return undefined;
    } finally {
      this.afterRun = undefined;
      metrics.publishStoredMetrics();
    }
  }
}
