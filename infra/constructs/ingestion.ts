import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { KINDS } from '../../functions/ingest/kinds.ts';
import { SentinelFunction } from './function-defaults.ts';

/**
 * Key prefixes that trigger ingestion, one S3 notification each: one per upload kind, a profile
 * upload `profile/<profile-name>/<file>.csv`, and a credit policy `policy/<file>.json`.
 */
export const UPLOAD_PREFIXES: readonly string[] = [...KINDS.map((k) => `${k}/`), 'profile/', 'policy/'];

/** Key suffix of the rejects report written next to an upload (see `rejectsNameFor` in functions/ingest). */
export const REJECTS_SUFFIX = '.rejects.csv';

/** Key suffix of the warnings report written next to an invoices or payments upload (`warningsNameFor`). */
export const WARNINGS_SUFFIX = '.warnings.csv';

/** The reports the ingest function writes next to uploads: the only keys it may put. */
const REPORT_SUFFIXES = [REJECTS_SUFFIX, WARNINGS_SUFFIX] as const;

/** The ingest function may run for the Lambda maximum: one upload can hold a million rows. */
const INGEST_TIMEOUT = Duration.minutes(15);

/** AWS guidance for SQS event sources: visibility timeout at least 6x the function timeout. */
const VISIBILITY_TIMEOUT_FACTOR = 6;

/** A message is retried this many times before it lands on the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 3;

export interface IngestionProps {
  /** The single table; also holds the claims on uploads (functions/adapters/dynamodb-uploads.ts). */
  readonly table: Table;
  /**
   * IANA time zone the sentinel computes business dates in (`SENTINEL_TIME_ZONE`).
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * What happens to the upload and access-log buckets when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The upload path: private bucket → ObjectCreated notifications per prefix → SQS (with a DLQ) →
 * ingest function, which writes the table, puts a rejects report (and, for invoices and payments,
 * a warnings report) next to the upload and announces changed customers on `changesTopic`.
 */
export class Ingestion extends Construct {
  public readonly bucket: Bucket;
  public readonly accessLogsBucket: Bucket;
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly changesTopic: Topic;
  public readonly ingestFunction: NodejsFunction;

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.accessLogsBucket = new Bucket(this, 'AccessLogsBucket', {
      // Server access log delivery supports SSE-S3 only. cdk-nag's S1 accepts a bucket that is itself
      // a server access log target, so this one needs no acknowledgement.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy,
    });
    this.bucket = new Bucket(this, 'UploadBucket', {
      encryption: BucketEncryption.KMS_MANAGED,
      bucketKeyEnabled: true,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'upload-bucket/',
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy,
    });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'UploadQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(INGEST_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    for (const prefix of UPLOAD_PREFIXES) {
      this.bucket.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(this.queue), { prefix });
    }

    this.changesTopic = new Topic(this, 'CustomersChanged', {
      displayName: 'Credit Sentinel: customers changed',
      // The AWS managed key serves same-account publishers; AWS service publishers would need a CMK.
      masterKey: Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });

    const ingest = new SentinelFunction(this, 'IngestFunction', {
      entry: 'functions/ingest/handler.ts',
      serviceName: 'ingest',
      description: 'Parses an uploaded file, stores its rows and reports rejects and changed customers',
      timeout: INGEST_TIMEOUT,
      memorySize: 1024,
      environment: {
        TABLE_NAME: props.table.tableName,
        IDEMPOTENCY_TABLE_NAME: props.table.tableName,
        CHANGES_TOPIC_ARN: this.changesTopic.topicArn,
        SENTINEL_TIME_ZONE: props.timeZone ?? 'UTC',
      },
    });
    this.ingestFunction = ingest.fn;

    // One upload per invocation: an upload may need the whole 15-minute budget (a 1 GB file), so
    // five in one invocation could time out together and all go back to the queue; Lambda scales
    // out on the queue instead.
    this.ingestFunction.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 1, reportBatchItemFailures: true }),
    );
    props.table.grants.readWriteData(this.ingestFunction);
    this.bucket.grants.actionsOnObjectKeys(this.ingestFunction, '*', 's3:GetObject', 's3:GetObjectVersion');
    // Rejects and warnings reports go next to the upload they describe (functions/ingest/rejects.ts
    // names them); the function cannot overwrite an upload.
    for (const suffix of REPORT_SUFFIXES)
      this.bucket.grants.actionsOnObjectKeys(this.ingestFunction, `*${suffix}`, 's3:PutObject');
    this.changesTopic.grants.publish(this.ingestFunction);

    this.acknowledgeGrantWildcards(ingest, props.table);
    this.acknowledgeNotificationsHandler();
  }

  /** The object and index ARNs of the grants above end in `/*`; nothing broader is granted. */
  private acknowledgeGrantWildcards(ingest: SentinelFunction, table: Table): void {
    const defaultPolicy = ingest.role.node.findChild('DefaultPolicy');
    const stack = Stack.of(this);
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as CfnElement);
    Validations.of(defaultPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      reason:
        'The ingest function reads whichever object an uploader created, so object keys are not known in advance; ' +
        'the grant is only GetObject and GetObjectVersion in this one bucket.',
    });
    for (const suffix of REPORT_SUFFIXES)
      Validations.of(defaultPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*${suffix}]`,
        reason:
          'A report is written next to its upload, whose key the uploader chose; PutObject is limited to ' +
          `keys ending in ${suffix} in this one bucket.`,
      });
    const tableId = stack.getLogicalId(table.node.defaultChild as CfnElement);
    Validations.of(defaultPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
      reason:
        'Queries go through the gsi1 index of the same table; CDK grants the index ARNs of that one table only.',
    });
  }

  /** CDK's singleton handler that applies the bucket notification configuration at deploy time. */
  private acknowledgeNotificationsHandler(): void {
    const handler = Stack.of(this).node.tryFindChild(
      'BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
    );
    const role = handler?.node.tryFindChild('Role');
    if (!role) return;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'CDK-managed deploy-time handler for the bucket notification configuration; the managed policy only lets it ' +
        'write its own logs, and its s3:PutBucketNotification grant is scoped to the upload bucket.',
    });
  }
}
