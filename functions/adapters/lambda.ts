// The Lambda entry points' middleware: Powertools Tracer (X-Ray), the logger's Lambda context with a
// correlation id, and metrics published at the end of every invocation. Imported by the handler
// modules (functions/*/handler.ts) and their wiring only: the local runtime and the tests build the
// apps without it, so locally no tracer is even loaded.
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import { withoutSdkLogging } from './sdk.ts';

/**
 * The process's one Tracer (service: `POWERTOOLS_SERVICE_NAME`). It disables itself outside Lambda
 * (no `AWS_EXECUTION_ENV`), under SAM local, and with `POWERTOOLS_TRACE_ENABLED=false`: then the
 * middleware below does nothing and {@link traced} returns the client untouched.
 */
export const tracer = new Tracer();

/**
 * An AWS SDK v3 client whose calls become X-Ray subsegments (the client itself when tracing is
 * off), without the SDK's unused log filtering (functions/adapters/sdk.ts).
 */
export const traced = <C extends Parameters<typeof withoutSdkLogging>[0]>(client: C): C =>
  tracer.captureAWSv3Client(withoutSdkLogging(client));

/** The id that ties an invocation's log lines together (the S3 key, the transfer id, the run id...). */
export type CorrelationOf<E> = (event: E) => string | undefined;

/**
 * Sets the logger's `correlation_id` (and the trace's `CorrelationId` annotation) from the event, or
 * removes it when this event has none, so one invocation's id never leaks into the next.
 */
export function correlate<E>(logger: Logger, of: CorrelationOf<E>): MiddlewareObj<E> {
  return {
    before: (request) => {
      let id: string | undefined;
      try {
        id = of(request.event);
      } catch {
        id = undefined;
      }
      if (id) {
        logger.setCorrelationId(id);
        tracer.putAnnotation('CorrelationId', id);
      } else logger.removeKeys(['correlation_id']);
    },
  };
}

/**
 * Publishes what the metrics buffered when the invocation ends, failed or not; an invocation that
 * recorded nothing publishes nothing (Powertools' `logMetrics` would warn on every such one).
 */
function publishMetrics(metrics: readonly Metrics[]): MiddlewareObj {
  const publish = () => {
    for (const m of metrics) if (m.hasStoredMetrics()) m.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
}

/**
 * The handler's own subsegment (`## <handler>`, ColdStart and Service annotations, errors as
 * metadata). Responses are not recorded: pages, reports and task outputs can hold customer data and
 * outgrow X-Ray's 64 KB segment.
 */
const traceInvocation = () => captureLambdaHandler(tracer, { captureResponse: false });

/**
 * A plain async handler as every Lambda here runs: traced, the logger given the Lambda context
 * (and the correlation id, if any), the metrics published at the end.
 */
export function lambdaHandler<E, R>(
  fn: (event: E, context: Context) => Promise<R>,
  opts: { logger: Logger; metrics: Metrics | readonly Metrics[]; correlation?: CorrelationOf<E> },
): MiddyfiedHandler<E, R> {
  const h = middy<E, R>(fn).use(traceInvocation());
  // Before the context is injected, so the event's own log line (POWERTOOLS_LOGGER_LOG_EVENT) has
  // it; a handler without one still clears it (a module's handlers can share one logger).
  return h
    .use(correlate(opts.logger, opts.correlation ?? (() => undefined)))
    .use(injectLambdaContext(opts.logger))
    .use(publishMetrics(Array.isArray(opts.metrics) ? opts.metrics : [opts.metrics as Metrics]));
}

/**
 * Tracing (and a correlation id) around a handler its app already built with middy,
 * `injectLambdaContext` and `logMetrics` (ingest, evaluate, Slack alerts, gauges): the trace opens
 * and the id is set before the app's own middleware runs.
 */
export function traceHandler<E, R>(
  handler: (event: E, context: Context) => Promise<R>,
  logger: Logger,
  correlation?: CorrelationOf<E>,
): MiddyfiedHandler<E, R> {
  const h = middy<E, R>(handler).use(traceInvocation());
  if (correlation) h.use(correlate(logger, correlation));
  return h;
}
