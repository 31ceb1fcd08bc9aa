import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { isSnsEnvelope, recordBody, snsMessageOf, UnreadableMessageError } from '../adapters/sns-envelope.ts';
import { dateInZone, type IsoDate, isoDateOrNull } from '../core/dates.ts';
import type { Clock } from '../ingest/ports.ts';
import { type EvaluationRun, evaluate, sendDigest, type WhatIfRun, whatIf } from './evaluate.ts';
import { policyInForce, SEVERITIES } from './policy.ts';
import type { AlertNotifier, CreditStore } from './ports.ts';

/** Where the policy set with `sentinel policy set` is kept (the table, through DynamoStore). */
export interface PolicySource {
  getPolicy(): Promise<{ document: unknown } | undefined>;
}

export interface EvaluateHandlerDeps {
  readonly store: CreditStore & PolicySource;
  readonly notifier: AlertNotifier;
  readonly clock: Clock;
  /** IANA zone "today" is taken in (`SENTINEL_TIME_ZONE`). */
  readonly timeZone: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The policy when none is stored. @default the shipped policies/default.json */
  readonly defaultPolicy?: unknown;
}

const isoDate = z.string().refine((s) => isoDateOrNull(s) !== null, 'must be a real YYYY-MM-DD date');
const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 instant');

/**
 * What the daily schedule sends (the EventBridge Scheduler target input). `scheduledTime` is the
 * schedule's own time, so a retried or late invocation still evaluates the day it was meant for;
 * `asOf` lets a person run a given day by hand (`aws lambda invoke`): today is the daily run,
 * any other day a what-if that stores nothing.
 */
export const dailyRunSchema = z.object({
  type: z.literal('evaluate.daily'),
  scheduledTime: instant.optional(),
  asOf: isoDate.optional(),
});
export type DailyRun = z.infer<typeof dailyRunSchema>;

/** The event of an EventBridge rule with a schedule expression, the other way to run daily. */
const scheduledEventSchema = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  time: instant,
});

/** The "customers changed" message of the ingestion (functions/ingest/ports.ts `CustomersChanged`). */
export const customersChangedSchema = z.object({
  type: z.literal('customers.changed'),
  runId: z.string(),
  asOf: isoDate,
  customerIds: z.array(z.string().min(1)),
});

export type EvaluateEvent = SQSEvent | DailyRun | z.infer<typeof scheduledEventSchema>;

/** What a what-if by hand answers: its counts (every customer's detail could exceed a Lambda response). */
export type WhatIfSummary = Omit<WhatIfRun, 'results'>;

const isSqsEvent = (event: unknown): event is SQSEvent =>
  Array.isArray((event as { Records?: unknown } | null)?.Records);

const oneLine = (error: z.ZodError) => z.prettifyError(error).replace(/\s+/g, ' ');

/** What one SQS record asks for: some customers, everyone (a daily run redriven from the DLQ), or nothing. */
type Request = { kind: 'customers'; ids: readonly string[] } | { kind: 'all' } | { kind: 'none' };

function requestOf(record: SQSRecord): Request {
  const body = recordBody(record);
  if (isSnsEnvelope(body)) {
    const { message } = snsMessageOf(record);
    // The subscription filters on type; anything else that gets through is not for this function.
    if ((message as { type?: unknown } | null)?.type !== 'customers.changed') return { kind: 'none' };
    const m = customersChangedSchema.safeParse(message);
    if (!m.success) throw new UnreadableMessageError(`not a customers-changed message: ${oneLine(m.error)}`);
    return { kind: 'customers', ids: m.data.customerIds };
  }
  // The dead-letter queue also holds daily runs that failed (Lambda's async DLQ keeps the event
  // itself), so a redrive of the whole DLQ into the queue retries those as well.
  if (dailyRunSchema.safeParse(body).success) return { kind: 'all' };
  throw new UnreadableMessageError('neither an SNS notification nor a daily run');
}

/**
 * The metrics of one evaluation run (functions/core/metrics.ts): the buffered ones go out with
 * the invocation's other metrics; `AlertsRaised` goes out at once, one EMF record per severity
 * (Powertools' single-metric instance), so its `severity` dimension never lands on the others.
 * Every severity is emitted, zeros too, so a dashboard or alarm sees a value after every run.
 * The local evaluator (infra/local/runtime/evaluator.ts) records its runs with this as well.
 */
export function recordEvaluation(metrics: Metrics, run: EvaluationRun, latencyMs: number): void {
  metrics.addMetric('CustomersEvaluated', MetricUnit.Count, run.customers);
  for (const severity of SEVERITIES)
    metrics
      .singleMetric()
      .addDimension('severity', severity)
      .addMetric('AlertsRaised', MetricUnit.Count, run.raisedBySeverity[severity]);
  metrics.addMetric('AlertsResolved', MetricUnit.Count, run.resolved);
  metrics.addMetric('OpenAlerts', MetricUnit.Count, run.active);
  metrics.addMetric('EvaluationLatency', MetricUnit.Milliseconds, latencyMs);
  metrics.addMetric('HistoryItemsPacked', MetricUnit.Count, run.history.packed);
  metrics.addMetric('HistoryItemsDeleted', MetricUnit.Count, run.history.deleted);
}

/**
 * The evaluate Lambda: scores, rates and limits customers, runs the early-warning rules, stores
 * the alerts and publishes their notifications. Two triggers:
 *
 * - the daily schedule (or an EventBridge scheduled event): every customer, as of the scheduled
 *   day in the sentinel's time zone, then the daily digest of the active alerts (`alert.digest`
 *   on the topic, for the subscriptions that asked for it). A customer the store already holds
 *   as of a later day is left as it is (a run retried late never rewinds it). A day sent by hand
 *   (`asOf`) that is not today, or a scheduled day after today, is a what-if: logged with its
 *   counts and returned, nothing stored, nobody notified, no alert metrics;
 * - SQS records carrying the ingestion's "customers changed" SNS notifications: the customers of
 *   all records of the batch in one evaluation, as of today in the sentinel's time zone, not the
 *   day a message names: a message retried tomorrow must not rewind a customer's latest
 *   assessment to yesterday. Records that cannot be read fail alone; when the evaluation fails,
 *   every record it covered fails (partial batch response) and the queue retries them.
 *
 * The policy is read on every invocation, so a policy set in the table applies from the next run.
 */
export function createEvaluateHandler(deps: EvaluateHandlerDeps) {
  const { logger, metrics } = deps;
  const today = () => dateInZone(deps.clock.now(), deps.timeZone);

  const policy = async () =>
    policyInForce(await deps.store.getPolicy(), deps.defaultPolicy ?? DEFAULT_POLICY_DOCUMENT);

  const run = async (
    trigger: 'schedule' | 'changes',
    req: { asOf: IsoDate; customerIds?: readonly string[] | undefined },
  ): Promise<EvaluationRun> => {
    const started = Date.now();
    const result = await evaluate(
      {
        store: deps.store,
        notifier: deps.notifier,
        policy: await policy(),
        clock: deps.clock,
        timeZone: deps.timeZone,
      },
      req,
    );
    recordEvaluation(metrics, result, Date.now() - started);
    logger.info('evaluated', { trigger, ...result });
    return result;
  };

  /** A what-if: found, logged and answered; no metric, since none of its alerts is real. */
  const whatIfRun = async (asOf: IsoDate, why: string): Promise<WhatIfSummary> => {
    const { results: _r, ...summary } = await whatIf({ store: deps.store, policy: await policy() }, { asOf });
    logger.info('what-if evaluated; nothing was stored', { why, today: today(), ...summary });
    return summary;
  };

  /**
   * The daily run, then the digest of the active alerts. A digest that cannot be published is
   * logged and counted (DigestsFailed) but does not fail the run: a retry would evaluate the whole
   * book again for one message.
   */
  const daily = async (asOf: IsoDate): Promise<EvaluationRun> => {
    const result = await run('schedule', { asOf });
    try {
      const d = await sendDigest(deps, asOf);
      if (d) {
        metrics.addMetric('DigestsSent', MetricUnit.Count, 1);
        logger.info('digest sent', { asOf, active: d.active });
      }
    } catch (error) {
      logger.error('the daily digest could not be published', { asOf, error });
      metrics.addMetric('DigestsFailed', MetricUnit.Count, 1);
    }
    return result;
  };

  /** The schedule's day moves the lifecycle, unless it has not come yet. */
  const scheduledDay = (at: Date): Promise<EvaluationRun | WhatIfSummary> => {
    const day = dateInZone(at, deps.timeZone);
    return day > today() ? whatIfRun(day, 'the scheduled day is after today') : daily(day);
  };

  const onSchedule = async (event: unknown): Promise<EvaluationRun | WhatIfSummary> => {
    const parsed = dailyRunSchema.safeParse(event);
    if (parsed.success) {
      const { asOf, scheduledTime } = parsed.data;
      if (asOf !== undefined)
        return asOf === today() ? daily(asOf) : whatIfRun(asOf, 'a day other than today, sent by hand');
      return scheduledDay(scheduledTime ? new Date(scheduledTime) : deps.clock.now());
    }
    const scheduled = scheduledEventSchema.safeParse(event);
    if (scheduled.success) return scheduledDay(new Date(scheduled.data.time));
    throw new UnreadableMessageError(`unknown event: ${oneLine(parsed.error)}`);
  };

  const onRecords = async (records: readonly SQSRecord[]): Promise<SQSBatchResponse> => {
    const failed: string[] = [];
    const covered: string[] = [];
    const ids = new Set<string>();
    let all = false;
    for (const record of records) {
      let req: Request;
      try {
        req = requestOf(record);
      } catch (error) {
        logger.error('unreadable message', { messageId: record.messageId, error });
        metrics.addMetric('MessagesUnreadable', MetricUnit.Count, 1);
        failed.push(record.messageId);
        continue;
      }
      if (req.kind === 'none') {
        logger.warn('ignored a message that is not a customers-changed notification', {
          messageId: record.messageId,
        });
        continue;
      }
      covered.push(record.messageId);
      if (req.kind === 'all') all = true;
      else for (const id of req.ids) ids.add(id);
    }
    if (all || ids.size > 0) {
      try {
        await run('changes', { asOf: today(), customerIds: all ? undefined : [...ids] });
      } catch (error) {
        logger.error('evaluation failed; its messages go back to the queue', {
          error,
          messages: covered.length,
        });
        metrics.addMetric('EvaluationsFailed', MetricUnit.Count, 1);
        failed.push(...covered);
      }
    }
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };

  const base = async (
    event: EvaluateEvent,
    _context: Context,
  ): Promise<EvaluationRun | WhatIfSummary | SQSBatchResponse> =>
    isSqsEvent(event) ? onRecords(event.Records) : onSchedule(event);

  return middy(base).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
