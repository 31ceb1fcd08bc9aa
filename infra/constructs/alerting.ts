import { type CfnElement, Duration, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { type ITopic, SubscriptionFilter, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SEVERITY_RANK_ATTRIBUTE } from '../../functions/alerts/format.ts';
import type { SlackMode } from '../../functions/alerts/slack.ts';
import { SLACK_WEBHOOK_PLACEHOLDER } from '../../functions/alerts/slack.ts';
import { SEVERITY_RANK, type Severity } from '../../functions/credit/policy.ts';
import { SentinelFunction } from './function-defaults.ts';
import { MAX_RECEIVE_COUNT } from './ingestion.ts';

/** An email address subscribed to the alerts topic, from a minimum severity up. */
/** An email subscription: each alert from `minSeverity` up, or the daily digest (`digest: true`). */
export type AlertEmail =
  | { readonly address: string; readonly minSeverity: Severity; readonly digest?: undefined }
  | { readonly address: string; readonly digest: true; readonly minSeverity?: undefined };

export interface AlertingProps {
  /** The single table: books, assessments, alerts and the policy in force. */
  readonly table: Table;
  /** The ingestion's "customers changed" topic; its `customers.changed` messages trigger an evaluation. */
  readonly changesTopic: ITopic;
  /**
   * IANA time zone of "today" and of the daily schedule (`SENTINEL_TIME_ZONE`).
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * Email subscriptions to the alerts topic (each confirms by email once).
   * @default - none
   */
  readonly alertEmails?: readonly AlertEmail[];
  /**
   * What the Slack queue takes from the topic: each alert as it opens or escalates, the daily
   * digest, or both.
   * @default 'each'
   */
  readonly slackAlerts?: SlackMode;
}

/** The customers of a burst of uploads (or a daily run redriven from the DLQ): allow the Lambda maximum. */
const EVALUATE_TIMEOUT = Duration.minutes(15);
/** A batch of up to 5 Slack posts, each up to 3 attempts of 5 s plus the waits between them. */
const SLACK_TIMEOUT = Duration.minutes(3);
/** AWS guidance for SQS event sources: visibility timeout at least 6x the function timeout. */
const VISIBILITY_TIMEOUT_FACTOR = 6;
const DLQ_RETENTION = Duration.days(14);
/** The events of one alert's notification on the alerts topic (the digest is `alert.digest`). */
const ALERT_EVENTS = ['alert.opened', 'alert.escalated'];

/**
 * Early-warning alerting: the evaluate function (after every ingest, for the customers it changed;
 * the daily run of every customer is the Evaluation construct's state machine) stores alerts and
 * publishes their notifications on `alertsTopic`, from which email subscribers (filtered by severity) and the
 * Slack function (through a queue) receive them.
 */
export class Alerting extends Construct {
  public readonly alertsTopic: Topic;
  public readonly evaluateQueue: Queue;
  public readonly evaluateDeadLetterQueue: Queue;
  public readonly evaluateFunction: NodejsFunction;
  public readonly slackQueue: Queue;
  public readonly slackDeadLetterQueue: Queue;
  public readonly slackFunction: NodejsFunction;
  public readonly slackWebhookSecret: Secret;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    const timeZone = props.timeZone ?? 'UTC';

    this.alertsTopic = new Topic(this, 'AlertsTopic', {
      displayName: 'Credit Sentinel alerts',
      // The AWS managed key serves same-account publishers (the evaluate function) and SQS/email delivery.
      masterKey: Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    // EmailSubscription names its construct after the address, so adding or removing one address
    // never replaces the subscriptions (and confirmations) of the others.
    // Per-alert subscriptions match the alert events from a severity up; the daily digest carries
    // neither, and digest subscriptions match it alone.
    for (const email of props.alertEmails ?? []) {
      this.alertsTopic.addSubscription(
        new EmailSubscription(email.address, {
          filterPolicy:
            email.digest === true
              ? { event: SubscriptionFilter.stringFilter({ allowlist: ['alert.digest'] }) }
              : {
                  event: SubscriptionFilter.stringFilter({ allowlist: [...ALERT_EVENTS] }),
                  [SEVERITY_RANK_ATTRIBUTE]: SubscriptionFilter.numericFilter({
                    greaterThanOrEqualTo: SEVERITY_RANK[email.minSeverity],
                  }),
                },
        }),
      );
    }

    // ---- evaluate: daily schedule, and "customers changed" through a queue ----
    this.evaluateDeadLetterQueue = this.deadLetterQueue('EvaluateDeadLetterQueue');
    const evaluate = new SentinelFunction(this, 'EvaluateFunction', {
      entry: 'functions/credit/handler.ts',
      serviceName: 'evaluate',
      description:
        'Assesses customers, runs the early-warning rules, stores alerts and publishes notifications',
      timeout: EVALUATE_TIMEOUT,
      memorySize: 1024,
      environment: {
        TABLE_NAME: props.table.tableName,
        ALERTS_TOPIC_ARN: this.alertsTopic.topicArn,
        SENTINEL_TIME_ZONE: timeZone,
      },
      deadLetterQueue: this.evaluateDeadLetterQueue,
    });
    this.evaluateFunction = evaluate.fn;
    props.table.grants.readWriteData(this.evaluateFunction);
    this.alertsTopic.grants.publish(this.evaluateFunction);

    this.evaluateQueue = new Queue(this, 'EvaluateQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(EVALUATE_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.evaluateDeadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    props.changesTopic.addSubscription(
      new SqsSubscription(this.evaluateQueue, {
        filterPolicy: { type: SubscriptionFilter.stringFilter({ allowlist: ['customers.changed'] }) },
      }),
    );
    this.evaluateFunction.addEventSource(
      new SqsEventSource(this.evaluateQueue, {
        // The messages of a burst of uploads are merged into one evaluation.
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(30),
        reportBatchItemFailures: true,
        // Fewer overlapping evaluations of the same customers (the schedule may run beside these).
        maxConcurrency: 2,
      }),
    );

    // The daily run of every customer is the Evaluation construct's state machine (fanned out);
    // this function evaluates the customers an ingest changed (and daily runs redriven from its DLQ).

    // ---- Slack: a queue subscribed to the alerts topic, one post per message ----
    this.slackWebhookSecret = new Secret(this, 'SlackWebhook', {
      description:
        'Slack incoming-webhook URL for Credit Sentinel alerts (set it with aws secretsmanager put-secret-value)',
      // A placeholder, not a secret: the Slack function skips posting until a real URL replaces it.
      // CloudFormation writes it only when the secret is created, so a stored URL survives deploys.
      secretStringValue: SecretValue.unsafePlainText(SLACK_WEBHOOK_PLACEHOLDER),
    });
    this.slackDeadLetterQueue = this.deadLetterQueue('SlackDeadLetterQueue');
    this.slackQueue = new Queue(this, 'SlackQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(SLACK_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.slackDeadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    const slackMode = props.slackAlerts ?? 'each';
    this.alertsTopic.addSubscription(
      new SqsSubscription(this.slackQueue, {
        filterPolicy: {
          event: SubscriptionFilter.stringFilter({
            allowlist: [
              ...(slackMode === 'digest' ? [] : ALERT_EVENTS),
              ...(slackMode === 'each' ? [] : ['alert.digest']),
            ],
          }),
        },
      }),
    );

    const slack = new SentinelFunction(this, 'SlackFunction', {
      entry: 'functions/alerts/slack-handler.ts',
      serviceName: 'slack',
      description: 'Posts alert notifications to Slack through an incoming webhook',
      timeout: SLACK_TIMEOUT,
      environment: { SLACK_WEBHOOK_SECRET_ARN: this.slackWebhookSecret.secretArn },
    });
    this.slackFunction = slack.fn;
    this.slackWebhookSecret.grantRead(this.slackFunction);
    this.slackFunction.addEventSource(
      new SqsEventSource(this.slackQueue, { batchSize: 5, reportBatchItemFailures: true, maxConcurrency: 2 }),
    );

    this.acknowledge(evaluate, props.table);
  }

  private deadLetterQueue(id: string): Queue {
    return new Queue(this, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
    });
  }

  private acknowledge(evaluate: SentinelFunction, table: Table): void {
    const stack = Stack.of(this);
    const tableId = stack.getLogicalId(table.node.defaultChild as CfnElement);
    Validations.of(evaluate.role.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
      reason:
        'The evaluation lists customers and summaries through the gsi1 index of the same table; CDK grants the ' +
        'index ARNs of that one table only.',
    });
    Validations.of(this.slackWebhookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Slack issues incoming-webhook URLs; Secrets Manager cannot rotate one. Rotate by creating a new webhook ' +
        'in Slack and storing it with put-secret-value (README, Deploy), then revoking the old one.',
    });
  }
}
