import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  type CfnElement,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Role } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import { ContextAttribute, Schedule, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type ApprovalEmailSettings, sesSendStatement } from './approvals.ts';
import { fanOutStateMachine } from './fan-out.ts';
import { SentinelFunction } from './function-defaults.ts';
import { dailyAt, schedulerRole } from './scheduler-role.ts';

export const DAILY_EVALUATION_ASL_FILE = fileURLToPath(
  new URL('../../statemachines/daily-evaluation.asl.json', import.meta.url),
);

/** Batches evaluated at once by default: half of a new account's Lambda concurrency quota (10). */
export const DEFAULT_EVALUATION_CONCURRENCY = 5;
/** At most this many at once: the default Lambda concurrency quota of an established account. */
export const MAX_EVALUATION_CONCURRENCY = 1000;
/**
 * The batch function's timeout. A batch of 500 customers takes about a second on AWS at the
 * README's 400-800 customers/s (8 partitions in flight); three attempts of 60 s and their waits
 * (~3.3 minutes) stay inside the Express child's 5 minutes.
 */
export const EVALUATION_BATCH_TIMEOUT = Duration.seconds(60);

export interface EvaluationProps {
  /** The single table: books, assessments, alerts, notification claims and the policy in force. */
  readonly table: Table;
  /** Where notifications and the daily digest are published (the alerting construct's topic). */
  readonly alertsTopic: ITopic;
  /** Where the runs bucket's server access logs go (the ingestion's access-log bucket). */
  readonly accessLogsBucket: IBucket;
  /** IANA time zone of "today" and of the schedule. @default 'UTC' */
  readonly timeZone?: string;
  /** Hour of the daily evaluation, in `timeZone`. @default 5 */
  readonly dailyHour?: number;
  /**
   * Batches (Lambda invocations of the batch function) run at once by the Distributed Map. A new
   * account's Lambda concurrency quota is 10, shared by every function: the default leaves the
   * rest of the stack room. Raise it once the quota is raised (README, Deploy).
   * @default DEFAULT_EVALUATION_CONCURRENCY (5)
   */
  readonly evaluationConcurrency?: number;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Reminders to customers through SES from this identity: the approvals' (`-c approvalEmailFrom`,
   * `-c sesConfigurationSet`). The collections function may send from that address only.
   * @default - none: the day's collections are a dry run (decided and logged, nothing claimed or
   * sent), with a synth warning
   */
  readonly reminderEmail?: ApprovalEmailSettings;
  /**
   * The Slack webhook (the alerting construct's secret) calls, visits, holds and hand-overs are
   * posted to. @default - none: they stay on the worklist
   */
  readonly slackWebhookSecret?: ISecret;
}

/** What a deploy without an SES identity does with the day's collections: the synth warning says it. */
export const REMINDERS_DRY_RUN =
  "The day's collections run dry (no -c approvalEmailFrom): each daily run decides every customer's reminders, calls and holds and logs how many by level, " +
  'but claims and sends nothing, so none counts as a contact. Deploy with -c approvalEmailFrom=<an address of a verified SES identity> to send them ' +
  '(README "Collections").';

/**
 * The daily evaluation, fanned out: the state machine from statemachines/daily-evaluation.asl.json
 * (the file the local engine runs), its steps function (list, report: the Standard parent) and
 * batch function (a Distributed Map child each, Express), the runs bucket (manifests, batch
 * results, reports; expired after 30 days), started daily by EventBridge Scheduler. After the
 * report the same manifest is collected in batches by the collections function (reminders through
 * SES, the rest to Slack). A run that left customers unevaluated, or whose collections failed,
 * fails (the observability construct alarms on failed executions).
 */
export class Evaluation extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly stepsFunction: NodejsFunction;
  public readonly batchFunction: NodejsFunction;
  /** The day's collections, one batch of the manifest per invocation (the CollectBatch step). */
  public readonly collectionsFunction: NodejsFunction;
  public readonly runsBucket: Bucket;
  public readonly dailySchedule: Schedule;
  public readonly schedulerRole: Role;
  public readonly evaluationConcurrency: number;

  constructor(scope: Construct, id: string, props: EvaluationProps) {
    super(scope, id);
    const timeZone = props.timeZone ?? 'UTC';
    const dailyHour = props.dailyHour ?? 5;
    const concurrency = props.evaluationConcurrency ?? DEFAULT_EVALUATION_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_EVALUATION_CONCURRENCY)
      throw new Error(
        `evaluationConcurrency must be a whole number from 1 to ${MAX_EVALUATION_CONCURRENCY}, not ${concurrency}`,
      );
    this.evaluationConcurrency = concurrency;

    this.runsBucket = new Bucket(this, 'RunsBucket', {
      encryption: BucketEncryption.KMS_MANAGED,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'evaluation-runs-bucket/',
      lifecycleRules: [{ id: 'expire-runs', prefix: 'runs/', expiration: Duration.days(30) }],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    const environment = {
      TABLE_NAME: props.table.tableName,
      ALERTS_TOPIC_ARN: props.alertsTopic.topicArn,
      RUNS_BUCKET: this.runsBucket.bucketName,
      SENTINEL_TIME_ZONE: timeZone,
    };
    const steps = new SentinelFunction(this, 'StepsFunction', {
      entry: 'functions/credit/daily-run-handler.ts',
      serviceName: 'evaluate',
      description:
        'Daily evaluation: list every customer to the manifest; report (book concentration, digest)',
      // The report reads every batch result and the whole manifest (1M customers: ~60 MB).
      timeout: Duration.minutes(15),
      memorySize: 2048,
      environment,
    });
    const batch = new SentinelFunction(this, 'BatchFunction', {
      entry: 'functions/credit/daily-run-handler.ts',
      serviceName: 'evaluate',
      description: 'Daily evaluation: evaluate one batch of customers (a Distributed Map child)',
      timeout: EVALUATION_BATCH_TIMEOUT,
      memorySize: 1024,
      environment,
    });
    this.stepsFunction = steps.fn;
    this.batchFunction = batch.fn;
    for (const fn of [this.stepsFunction, this.batchFunction]) {
      props.table.grants.readWriteData(fn);
      props.alertsTopic.grantPublish(fn);
      this.runsBucket.grantReadWrite(fn, 'runs/*');
    }

    // The collections need the table (books, claims of each step) and the senders, nothing of the run's files.
    const email = props.reminderEmail;
    if (!email) Annotations.of(this).addWarningV2('@credit-sentinel/reminders-dry-run', REMINDERS_DRY_RUN);
    const collections = new SentinelFunction(this, 'CollectionsFunction', {
      entry: 'functions/collections/handler.ts',
      serviceName: 'collections',
      description:
        "Daily collections: one batch of customers' reminders, calls and holds (a Distributed Map child)",
      // Up to 200 sends a batch, 8 at once: well inside the minute, which leaves the retries room.
      timeout: EVALUATION_BATCH_TIMEOUT,
      memorySize: 512,
      environment: {
        TABLE_NAME: props.table.tableName,
        ...(email
          ? {
              REMINDER_EMAIL_FROM: email.from,
              ...(email.configurationSet ? { SES_CONFIGURATION_SET: email.configurationSet } : {}),
            }
          : {}),
        ...(props.slackWebhookSecret ? { SLACK_WEBHOOK_SECRET_ARN: props.slackWebhookSecret.secretArn } : {}),
      },
    });
    this.collectionsFunction = collections.fn;
    props.table.grants.readWriteData(this.collectionsFunction);
    // SESv2 SendEmail (Raw content included) is authorized as ses:SendEmail: on the identity, from its address only.
    if (email) this.collectionsFunction.addToRolePolicy(sesSendStatement(this, email));
    props.slackWebhookSecret?.grantRead(this.collectionsFunction);

    // The ASL file's top-level TimeoutSeconds (6 hours) ends a run that never finishes.
    this.stateMachine = fanOutStateMachine(this, {
      id: 'DailyEvaluation',
      comment: 'Daily evaluation, fanned out (statemachines/daily-evaluation.asl.json)',
      definition: readFileSync(DAILY_EVALUATION_ASL_FILE, 'utf8'),
      substitutions: {
        EvaluationStepsFunction: this.stepsFunction.functionArn,
        EvaluationBatchFunction: this.batchFunction.functionArn,
        CollectionsBatchFunction: this.collectionsFunction.functionArn,
        // Text in the file (States.StringToJson makes it the Map's MaxConcurrencyPath number).
        EvaluationConcurrency: String(concurrency),
      },
      logName: 'daily-evaluation',
      functions: [this.stepsFunction, this.batchFunction, this.collectionsFunction],
      manifests: { bucket: this.runsBucket, keys: 'runs/*' },
    });

    this.schedulerRole = schedulerRole(
      this,
      'SchedulerRole',
      'Lets EventBridge Scheduler start the daily evaluation',
    );
    this.dailySchedule = new Schedule(this, 'DailySchedule', {
      description: `Evaluates every customer daily at ${dailyHour}:00 ${timeZone} (fanned out)`,
      schedule: dailyAt(dailyHour, timeZone),
      target: new StepFunctionsStartExecution(this.stateMachine, {
        input: ScheduleTargetInput.fromObject({
          scheduledTime: ContextAttribute.scheduledTime,
          digest: true,
        }),
        role: this.schedulerRole,
        retryAttempts: 3,
        maxEventAge: Duration.hours(6),
      }),
    });

    this.acknowledge([steps, batch], collections, props.table);
    new CfnOutput(this, 'EvaluationStateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'EvaluationRunsBucketName', { value: this.runsBucket.bucketName });
  }

  private acknowledge(
    functions: readonly SentinelFunction[],
    collections: SentinelFunction,
    table: Table,
  ): void {
    const stack = Stack.of(this);
    const tableId = stack.getLogicalId(table.node.defaultChild as CfnElement);
    const bucketId = stack.getLogicalId(this.runsBucket.node.defaultChild as CfnElement);
    for (const f of functions)
      Validations.of(f.role.node.findChild('DefaultPolicy')).acknowledge(
        {
          id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
          reason:
            'The evaluation lists customers, summaries and alerts through the gsi1 index of the same table only.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/runs/*]`,
          reason: 'The steps write and read the run files under runs/ of this one bucket (keys are per run).',
        },
        ...['GetObject*', 'GetBucket*', 'List*', 'DeleteObject*', 'Abort*'].map((a) => ({
          id: `AwsSolutions-IAM5[Action::s3:${a}]`,
          reason: `CDK's grantReadWrite on the runs bucket (s3:${a}): runs/ of that one bucket only.`,
        })),
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'X-Ray writes support no resource-level permissions.',
        },
      );
    Validations.of(collections.role.node.findChild('DefaultPolicy')).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
        reason:
          "CDK's grantReadWriteData names the table's indexes too; the collections read and claim by the customer's key.",
      },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray writes support no resource-level permissions.' },
    );
    const smPolicy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (smPolicy)
      Validations.of(smPolicy).acknowledge(
        ...[this.stepsFunction, this.batchFunction, this.collectionsFunction].map((fn) => ({
          id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
          reason: "CDK's grantInvoke names the function and its versions (<arn>:*): this one function only.",
        })),
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'The state machine writes its logs and X-Ray traces; those APIs support no resource-level permissions.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/runs/*]`,
          reason:
            "The Distributed Map's ItemReader reads the run's manifest, under runs/ of the runs bucket.",
        },
        ...['GetObject*', 'GetBucket*', 'List*'].map((a) => ({
          id: `AwsSolutions-IAM5[Action::s3:${a}]`,
          reason: `CDK's grantRead for the ItemReader (s3:${a}): runs/ of the runs bucket only.`,
        })),
      );
    const smId = stack.getLogicalId(this.stateMachine.node.defaultChild as CfnElement);
    Validations.of(this.node.findChild('DistributedMapPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${smId}.Name>/*]`,
      reason: "The Distributed Map's child executions of this one state machine (named by the Map Run).",
    });
  }
}
