import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context, S3Event, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ObjectRef, ObjectStore } from '../adapters/s3.ts';
import { TABLE_SCHEMA } from '../adapters/table-schema.ts';
import type { IngestDeps } from './pipeline.ts';
import type { IngestRun } from './ports.ts';
import { ingestUpload, type PolicySink, type ProfileCatalog } from './uploads.ts';

export interface IngestHandlerDeps {
  readonly ingest: IngestDeps;
  readonly objects: ObjectStore;
  readonly profiles: ProfileCatalog;
  /** Where a valid `policy/*.json` upload is put in force. */
  readonly policies?: PolicySink | undefined;
  readonly dynamo: DynamoDBClient;
  readonly tableName: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

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
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'id', expiresAfterSeconds: 30 * 24 * 3600 });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: deps.tableName,
    awsSdkV3Client: deps.dynamo,
    keyAttr: TABLE_SCHEMA.partitionKey,
    sortKeyAttr: TABLE_SCHEMA.sortKey,
    staticPkValue: 'IDEMPOTENCY',
    expiryAttr: TABLE_SCHEMA.ttlAttribute,
  });

  const ingestOnce = makeIdempotent(
    async (job: { id: string; ref: ObjectRef }): Promise<Pick<IngestRun, 'runId' | 'status'> | null> => {
      const started = Date.now();
      const run = await ingestUpload(deps.ingest, deps.objects, job.ref, deps.profiles, deps.policies);
      if (!run) return null;
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
      metrics.addMetric(
        run.status === 'processed' ? 'FilesProcessed' : 'FilesUnreadable',
        MetricUnit.Count,
        1,
      );
      metrics.addMetric('IngestLatency', MetricUnit.Milliseconds, Date.now() - started);
      return { runId: run.runId, status: run.status };
    },
    { persistenceStore, config },
  );

  const recordHandler = async (record: SQSRecord): Promise<void> => {
    for (const ref of objectsInMessage(record)) {
      await ingestOnce({ id: `${ref.bucket}/${ref.key}#${ref.versionId ?? ''}`, ref });
    }
  };

  const base = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    config.registerLambdaContext(context);
    return processPartialResponse(event, recordHandler, processor, { context });
  };

  return middy(base).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
