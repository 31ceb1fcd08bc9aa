import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CfnElement, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Alias } from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import { ContextAttribute, Schedule, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { SubscriptionFilter, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { fanOutStateMachine } from './fan-out.ts';
import { SentinelFunction } from './function-defaults.ts';
import { dailyAt, schedulerRole } from './scheduler-role.ts';

export const REVIEW_ASL_FILE = fileURLToPath(
  new URL('../../statemachines/periodic-review.asl.json', import.meta.url),
);

export interface ReviewsProps {
  readonly table: Table;
  /** Where the reports bucket's server access logs go (the ingestion's access-log bucket). */
  readonly accessLogsBucket: IBucket;
  /**
   * The transfer approval state machine: an increase above the policy's threshold is asked as a
   * credit release on it (the steps function may start executions there, nothing else).
   */
  readonly transferStateMachine: StateMachine;
  /**
   * The ingestion's "customers changed" topic: a batch that changed limits publishes there, so the
   * evaluation recomputes those customers' limit use and alerts at once.
   */
  readonly changesTopic: Topic;
  /** IANA time zone of "today" and of the schedule. @default 'UTC' */
  readonly timeZone?: string;
  /** The hour of the daily review run, after the daily evaluation. @default 6 */
  readonly dailyHour?: number;
  /** People told of every limit cut and every run's summary. @default none */
  readonly reviewEmails?: readonly string[];
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Review batches (Lambda invocations of the batch function) run at once by the Distributed Map
   * (`-c reviewConcurrency`). A new account's Lambda concurrency quota is 10, shared by every
   * function: the default leaves the rest of the stack room. Raise it once the quota is raised.
   * @default DEFAULT_REVIEW_CONCURRENCY (5)
   */
  readonly reviewConcurrency?: number;
}

/** Batches reviewed at once by default: half of a new account's Lambda concurrency quota (10). */
export const DEFAULT_REVIEW_CONCURRENCY = 5;
/** At most this many at once: the default Lambda concurrency quota of an established account. */
export const MAX_REVIEW_CONCURRENCY = 1000;
/**
 * The batch function's timeout: a batch of 100 customers takes seconds (README, Benchmarks), and
 * a timed-out batch must have room for its retry inside the Express child's 5 minutes.
 */
export const REVIEW_BATCH_TIMEOUT = Duration.seconds(120);

/**
 * Periodic credit reviews: the state machine from statemachines/periodic-review.asl.json (the file
 * the local engine runs) with its steps function, started daily by EventBridge Scheduler and on
 * demand (`aws stepfunctions start-execution`); the manifests and reports in their own bucket; limit
 * cuts and run summaries on a reviews topic.
 */
export class Reviews extends Construct {
  public readonly stateMachine: StateMachine;
  /** Select and report, in the Standard parent execution. */
  public readonly stepsFunction: NodejsFunction;
  /** Review one batch, in an Express child execution (at most 5 minutes): its own, shorter timeout. */
  public readonly batchFunction: NodejsFunction;
  public readonly reviewConcurrency: number;
  public readonly reportsBucket: Bucket;
  public readonly reviewsTopic: Topic;
  public readonly dailySchedule: Schedule;

  constructor(scope: Construct, id: string, props: ReviewsProps) {
    super(scope, id);
    const timeZone = props.timeZone ?? 'UTC';
    const dailyHour = props.dailyHour ?? 6;
    const daily = dailyAt(dailyHour, timeZone);
    const concurrency = props.reviewConcurrency ?? DEFAULT_REVIEW_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_REVIEW_CONCURRENCY)
      throw new Error(
        `reviewConcurrency must be a whole number from 1 to ${MAX_REVIEW_CONCURRENCY}, not ${concurrency}`,
      );
    this.reviewConcurrency = concurrency;

    this.reportsBucket = new Bucket(this, 'ReportsBucket', {
      encryption: BucketEncryption.KMS_MANAGED,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'reports-bucket/',
      lifecycleRules: [{ id: 'expire-manifests', prefix: 'manifests/', expiration: Duration.days(90) }],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.reviewsTopic = new Topic(this, 'ReviewsTopic', {
      displayName: 'Credit Sentinel reviews',
      masterKey: Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    for (const address of props.reviewEmails ?? [])
      this.reviewsTopic.addSubscription(
        new EmailSubscription(address, {
          filterPolicy: {
            event: SubscriptionFilter.stringFilter({ allowlist: ['review.limitCut', 'review.summary'] }),
          },
        }),
      );

    const environment = {
      TABLE_NAME: props.table.tableName,
      REPORTS_BUCKET: this.reportsBucket.bucketName,
      REVIEWS_TOPIC_ARN: this.reviewsTopic.topicArn,
      STATE_MACHINE_ARN: props.transferStateMachine.stateMachineArn,
      CHANGES_TOPIC_ARN: props.changesTopic.topicArn,
      SENTINEL_TIME_ZONE: timeZone,
    };
    const steps = new SentinelFunction(this, 'StepsFunction', {
      entry: 'functions/reviews/handler.ts',
      serviceName: 'reviews',
      description: 'Periodic review steps: select the customers due, report the run (and ask approvals)',
      timeout: Duration.minutes(5),
      memorySize: 1024,
      environment,
    });
    this.stepsFunction = steps.fn;
    props.table.grants.readWriteData(this.stepsFunction);
    this.reportsBucket.grantReadWrite(this.stepsFunction);
    this.reviewsTopic.grants.publish(this.stepsFunction);
    props.transferStateMachine.grantStartExecution(this.stepsFunction);
    props.changesTopic.grants.publish(this.stepsFunction);

    // The same handler, for the Map's batches only: the review step reads the table, stores and
    // audits each review, tells of cuts and changed limits. It never reads the manifest (the Map
    // passes the batch) nor asks approvals (the report does), so no bucket or state machine grant.
    const batch = new SentinelFunction(this, 'BatchFunction', {
      entry: 'functions/reviews/handler.ts',
      serviceName: 'reviews',
      description: 'Periodic review: review one batch of the manifest (a Distributed Map child)',
      timeout: REVIEW_BATCH_TIMEOUT,
      memorySize: 1024,
      environment,
    });
    this.batchFunction = batch.fn;
    props.table.grants.readWriteData(this.batchFunction);
    this.reviewsTopic.grants.publish(this.batchFunction);
    props.changesTopic.grants.publish(this.batchFunction);

    // The ASL file's top-level TimeoutSeconds (24 hours) ends a run that never finishes.
    this.stateMachine = fanOutStateMachine(this, {
      id: 'PeriodicReview',
      comment: 'Periodic credit review (statemachines/periodic-review.asl.json)',
      definition: readFileSync(REVIEW_ASL_FILE, 'utf8'),
      substitutions: {
        ReviewStepsFunction: this.stepsFunction.functionArn,
        ReviewBatchFunction: this.batchFunction.functionArn,
        // Text in the file (States.StringToJson makes it the Map's MaxConcurrencyPath number).
        ReviewConcurrency: String(concurrency),
      },
      logName: 'periodic-review',
      functions: [this.stepsFunction, this.batchFunction],
      manifests: { bucket: this.reportsBucket, keys: 'manifests/*' },
    });

    const role = schedulerRole(this, 'SchedulerRole', 'Lets EventBridge Scheduler start the periodic review');
    this.dailySchedule = new Schedule(this, 'DailyReview', {
      description: `Reviews the customers due, daily at ${dailyHour}:00 ${timeZone}`,
      schedule: daily,
      target: new StepFunctionsStartExecution(this.stateMachine, {
        input: ScheduleTargetInput.fromObject({
          trigger: 'schedule',
          scheduledTime: ContextAttribute.scheduledTime,
        }),
        role,
        retryAttempts: 3,
        maxEventAge: Duration.hours(6),
      }),
    });

    this.acknowledge(steps, batch, props.table);
    new CfnOutput(this, 'ReviewStateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ReportsBucketName', { value: this.reportsBucket.bucketName });
    new CfnOutput(this, 'ReviewsTopicArn', { value: this.reviewsTopic.topicArn });
  }

  private acknowledge(steps: SentinelFunction, batch: SentinelFunction, table: Table): void {
    const stack = Stack.of(this);
    const tableId = stack.getLogicalId(table.node.defaultChild as CfnElement);
    const bucketId = stack.getLogicalId(this.reportsBucket.node.defaultChild as CfnElement);
    Validations.of(steps.role.node.findChild('DefaultPolicy')).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
        reason:
          'The review lists customers, review states and alerts through the gsi1 index of the same table only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
        reason: 'The steps write the manifests and reports of this one bucket (keys are per run).',
      },
      {
        id: 'AwsSolutions-IAM5[Action::s3:GetObject*]',
        reason: "CDK's grantReadWrite on the reports bucket: object reads of that one bucket.",
      },
      {
        id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]',
        reason: "CDK's grantReadWrite on the reports bucket: metadata of that one bucket only.",
      },
      {
        id: 'AwsSolutions-IAM5[Action::s3:List*]',
        reason: "CDK's grantReadWrite on the reports bucket: listing that one bucket only.",
      },
      {
        id: 'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
        reason: "CDK's grantReadWrite on the reports bucket: a report written again replaces its object.",
      },
      {
        id: 'AwsSolutions-IAM5[Action::s3:Abort*]',
        reason: "CDK's grantReadWrite on the reports bucket: aborting uploads to that one bucket only.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          "X-Ray's trace writes support no resource-level permissions; every other grant names its table, bucket, topic, secret or state machine.",
      },
    );
    Validations.of(batch.role.node.findChild('DefaultPolicy')).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
        reason:
          "A batch reads the customers' alerts and review states through the gsi1 index of the same table only.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions.',
      },
    );
    const smPolicy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (smPolicy)
      Validations.of(smPolicy).acknowledge(
        {
          id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.stepsFunction.node.defaultChild as CfnElement)}.Arn>:*]`,
          reason:
            "CDK's grantInvoke names the steps function and its versions (<arn>:*): this one function only.",
        },
        {
          id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.batchFunction.node.defaultChild as CfnElement)}.Arn>:*]`,
          reason:
            "CDK's grantInvoke names the batch function and its versions (<arn>:*): this one function only.",
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'The state machine writes its logs and X-Ray traces; those APIs support no resource-level permissions.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/manifests/*]`,
          reason:
            "The Distributed Map's ItemReader reads the run's manifest, under manifests/ of the reports bucket.",
        },
        {
          id: 'AwsSolutions-IAM5[Action::s3:GetObject*]',
          reason:
            "CDK's grantRead for the ItemReader: object reads under manifests/ of the reports bucket only.",
        },
        {
          id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]',
          reason: "CDK's grantRead for the ItemReader: bucket metadata of the reports bucket only.",
        },
        {
          id: 'AwsSolutions-IAM5[Action::s3:List*]',
          reason: "CDK's grantRead for the ItemReader: listing the reports bucket only, no other bucket.",
        },
      );
    const smId = stack.getLogicalId(this.stateMachine.node.defaultChild as CfnElement);
    Validations.of(this.node.findChild('DistributedMapPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${smId}.Name>/*]`,
      reason: "The Distributed Map's child executions of this one state machine (named by the Map Run).",
    });
  }
}
