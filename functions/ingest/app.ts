import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context, S3Event, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DynamoUploadClaims } from '../adapters/dynamodb-uploads.ts';
import type { ObjectRef, ObjectStore } from '../adapters/s3.ts';
import { SimulatedCrash } from '../core/crash.ts';
import type { IngestDeps } from './pipeline.ts';
import type { IngestRun, UploadClaims } from './ports.ts';
import { ingestUpload, type PolicySink, type ProfileCatalog } from './uploads.ts';

export interface IngestHandlerDeps {
  readonly ingest: IngestDeps;
  readonly objects: ObjectStore;
  readonly profiles: ProfileCatalog;
  /** Where a valid `policy/*.json` upload is put to the approval chain (pending until approved). */
  readonly policies?: PolicySink | undefined;
  readonly dynamo: DynamoDBClient;
  readonly tableName: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Where the claims on uploads live. @default the table, `IDEMPOTENCY / ingest#<object>` */
  readonly claims?: UploadClaims;
  /**
   * How long a running ingest's claim holds without a sign of life (it shows one every sixth of
   * it); then another delivery of the same upload takes it over. @default 90 s
   */
  readonly leaseMs?: number;
}

/** The same upload is being ingested by another live invocation; the message is retried later. */
export class UploadBusyError extends Error {
  override readonly name = 'UploadBusyError';
}

/** The result stored with a done claim: what a redelivered message answers with. */
type Ingested = Pick<IngestRun, 'runId' | 'status'> | null;

/** S3 event notifications URL-encode keys, with '+' for spaces. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** The S3 objects an SQS message announces (none for the s3:TestEvent S3 sends on setup). */
export function objectsInMessage(record: SQSRecord): ObjectRef[] {
  const body = JSON.parse(record.body) as Partial<S3Event> & { Event?: string };
  if (body.Event === 's3:TestEvent' || !Array.isArray(body.Records)) return [];
  return body.Records.filter((r) => r.eventName?.startsWith('ObjectCreated')).map((r) => ({
    bucket: r.s3.bucket.name,
    key: decodeS3Key(r.s3.object.key),
    versionId: r.s3.object.versionId ?? r.s3.object.sequencer,
  }));
}

/**
 * The ingest Lambda: SQS messages carrying S3 events, one ingest per object version (a
 * redelivered message finds the stored result instead of ingesting again), partial batch failures
 * so one bad message never replays the good ones. The same handler serves the local inbox.
 */
export function createIngestHandler(deps: IngestHandlerDeps) {
  const { logger, metrics } = deps;
  const processor = new BatchProcessor(EventType.SQS);
  const claims = deps.claims ?? new DynamoUploadClaims(deps.dynamo, deps.tableName);
  const leaseMs = deps.leaseMs ?? 90_000;
  const clock = deps.ingest.clock;
  const owner = deps.ingest.owner;

  /**
   * One ingest per object version: the first delivery claims it, shows a sign of life while it
   * runs, and stores its result; a redelivery finds the result, or the claim busy (retried later),
   * or the claim of an ingest that died (silent past its lease, or, locally, its process gone)
   * and takes it over. A failed ingest gives its claim up with the reason.
   */
  const ingestOnce = async (job: { id: string; ref: ObjectRef }): Promise<Ingested> => {
    const token = randomUUID();
    const mine = () => ({ token, process: owner?.id, now: clock.now(), leaseMs });
    let claimed = await claims.claim(job.id, mine()).catch(async (e: unknown) => {
      // The claim may have been written with its response lost: give it up so a retry need not wait.
      await claims.fail(job.id, token, clock.now(), messageOf(e)).catch(() => undefined);
      throw e;
    });
    if (claimed.kind === 'busy' && claimed.claim.process && owner?.alive(claimed.claim.process) === false)
      claimed = await claims.claim(job.id, mine(), claimed.claim.token);
    if (claimed.kind === 'done') return (claimed.claim.result ?? null) as Ingested;
    if (claimed.kind === 'busy')
      throw new UploadBusyError(
        `another ingest of ${job.ref.key} has been running since ${claimed.claim.startedAt} (last sign of life ${claimed.claim.beatAt}); it is taken over if it shows none for ${Math.round(leaseMs / 1000)} s`,
      );
    if (claimed.before?.status === 'running')
      logger.warn('taking over an ingest that stopped', {
        file: job.ref.key,
        startedAt: claimed.before.startedAt,
        lastSignOfLife: claimed.before.beatAt,
      });
    const beat = setInterval(
      () => void claims.renew(job.id, token, clock.now(), leaseMs).catch(() => undefined),
      Math.max(100, Math.floor(leaseMs / 6)),
    );
    beat.unref();
    try {
      const started = Date.now();
      const run = await ingestUpload(deps.ingest, deps.objects, job.ref, deps.profiles, deps.policies);
      clearInterval(beat);
      const result: Ingested = run ? { runId: run.runId, status: run.status } : null;
      if (run) record(run, Date.now() - started);
      await claims.complete(job.id, token, clock.now(), result);
      return result;
    } catch (e) {
      clearInterval(beat);
      // A simulated crash leaves the claim as a killed process would: running, until its lease ends.
      if (!(e instanceof SimulatedCrash))
        await claims.fail(job.id, token, clock.now(), messageOf(e)).catch(() => undefined);
      throw e;
    }
  };

  const record = (run: IngestRun, ms: number) => {
    logger.info('ingested', {
      runId: run.runId,
      file: run.file,
      status: run.status,
      reason: run.reason,
      accepted: run.acceptedTotal,
      rejected: run.rejected,
      customersChanged: run.customersChanged,
    });
    metrics.addMetric('RowsIngested', MetricUnit.Count, run.acceptedTotal);
    metrics.addMetric('RowsRejected', MetricUnit.Count, run.rejected);
    metrics.addMetric(run.status === 'processed' ? 'FilesProcessed' : 'FilesUnreadable', MetricUnit.Count, 1);
    metrics.addMetric('IngestLatency', MetricUnit.Milliseconds, ms);
  };

  /** Why each failed message of the current batch failed (the local inbox shows it). */
  let reasons: string[] = [];
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    for (const ref of objectsInMessage(record)) {
      try {
        await ingestOnce({ id: `${ref.bucket}/${ref.key}#${ref.versionId ?? ''}`, ref });
      } catch (e) {
        reasons.push(`${ref.key}: ${messageOf(e)}`);
        logger.error('ingest failed; the message will be retried', { file: ref.key, reason: messageOf(e) });
        throw e;
      }
    }
  };

  const base = async (
    event: SQSEvent,
    context: Context,
  ): Promise<SQSBatchResponse & { readonly reasons?: readonly string[] }> => {
    reasons = [];
    // Every message failing is answered like some failing (each retried, the reasons kept), not
    // thrown as one "All records failed processing" that drops them.
    const res = await processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
    return res.batchItemFailures.length > 0 ? { ...res, reasons } : res;
  };

  return middy(base).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
