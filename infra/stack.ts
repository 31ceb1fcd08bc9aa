import { CfnOutput, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Policy } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { SlackMode } from '../functions/alerts/slack.ts';
import { type AlertEmail, Alerting } from './constructs/alerting.ts';
import { ApprovalPagesCdn } from './constructs/approval-pages-cdn.ts';
import { type ApprovalEmailSettings, Approvals } from './constructs/approvals.ts';
import { AuditTrail } from './constructs/audit.ts';
import { CreditChecks } from './constructs/checks.ts';
import { DataStore } from './constructs/data-store.ts';
import { Evaluation } from './constructs/evaluation.ts';
import { Ingestion } from './constructs/ingestion.ts';
import { Observability } from './constructs/observability.ts';
import { CustomerPortal } from './constructs/portal.ts';
import { Reviews } from './constructs/reviews.ts';
import { requireFunctionUrlRegion } from './regions.ts';

export interface CreditSentinelStackProps extends StackProps {
  /**
   * IANA time zone business dates are computed in.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * Keep the table and the upload bucket (and its access logs) when they leave the stack.
   * @default true
   */
  readonly retainData?: boolean;
  /**
   * Email addresses subscribed to the alerts topic, each from a minimum severity up.
   * @default - none (Slack and other subscribers only)
   */
  readonly alertEmails?: readonly AlertEmail[];
  /** What the Slack channel gets. @default 'each' */
  readonly slackAlerts?: SlackMode;
  /** The approval policy document (validated at synth). @default policies/approvals.json */
  readonly approvalPolicy?: unknown;
  /** Deploy the example approval chain (its example addresses emailed nobody). @default false */
  readonly demo?: boolean;
  /**
   * Approval emails, and the collections' reminders to customers, through SES from this identity
   * (`-c approvalEmailFrom`, `-c sesConfigurationSet`).
   * @default - approvals through SNS email, collections a dry run; a synth warning says what each loses
   */
  readonly approvalEmail?: ApprovalEmailSettings;
  /**
   * Email addresses subscribed to the ops topic: CloudWatch alarms (dead letters, function errors,
   * failed executions, the approval SLA, the rejects ratio), each on entering ALARM and on recovering.
   * @default - none (subscribe to the OpsTopicArn output some other way)
   */
  readonly opsEmails?: readonly string[];
  /**
   * Email addresses told of every limit a review cuts and of each review run's summary.
   * @default - none
   */
  readonly reviewEmails?: readonly string[];
  /**
   * Review batches run at once (the Distributed Map's MaxConcurrency).
   * @default 5 (fits a new account's Lambda concurrency quota of 10)
   */
  readonly reviewConcurrency?: number;
  /**
   * Daily evaluation batches run at once (its Distributed Map's MaxConcurrency).
   * @default 5 (fits a new account's Lambda concurrency quota of 10)
   */
  readonly evaluationConcurrency?: number;
  /**
   * Reserved concurrency of each public function: the approval pages and the customer portal (each
   * gets N). Lambda keeps at least 100 of the account's
   * concurrency unreserved, so a reservation of N needs a quota of at least 100 + N (a new
   * account's is 10).
   * @default - none: the function shares the account's unreserved pool
   */
  readonly webReservedConcurrency?: number;
  /**
   * Credit checks kept warm: provisioned concurrency on the checks function's `live` alias, which
   * its URL then invokes (README "Credit checks", "Capacity").
   * @default - none
   */
  readonly checksProvisionedConcurrency?: number;
  /**
   * Put the approval pages behind CloudFront and AWS WAF; the links then name the distribution.
   * @default false
   */
  readonly approvalPagesCdn?: boolean;
  /**
   * An existing CloudFront WebACL (us-east-1) for the pages' distribution. Needed when the stack is
   * not in us-east-1, where the WebACL would otherwise be created.
   * @default - one is created (us-east-1 only)
   */
  readonly approvalPagesWebAclArn?: string;
}

/** Composes one construct per capability; resources and grants live in the constructs. */
export class CreditSentinelStack extends Stack {
  public readonly dataStore: DataStore;
  public readonly ingestion: Ingestion;
  public readonly evaluation: Evaluation;
  public readonly alerting: Alerting;
  public readonly approvals: Approvals;
  public readonly reviews: Reviews;
  public readonly observability: Observability;
  public readonly audit: AuditTrail;
  /** The approval pages behind CloudFront and WAF, with `approvalPagesCdn`. */
  public readonly approvalPagesCdn?: ApprovalPagesCdn;
  /** The customer portal the payment reminders link to. */
  public readonly portal: CustomerPortal;
  /** Credit checks of orders (IAM-authorised function URL). */
  public readonly checks: CreditChecks;

  constructor(scope: Construct, id: string, props: CreditSentinelStackProps = {}) {
    super(scope, id, props);
    // The approval pages and the transfers API are function URLs, which some Regions lack.
    requireFunctionUrlRegion(this);
    const removalPolicy = (props.retainData ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.dataStore = new DataStore(this, 'DataStore', { removalPolicy });
    this.ingestion = new Ingestion(this, 'Ingestion', {
      table: this.dataStore.table,
      timeZone: props.timeZone ?? 'UTC',
      removalPolicy,
    });
    this.alerting = new Alerting(this, 'Alerting', {
      table: this.dataStore.table,
      changesTopic: this.ingestion.changesTopic,
      timeZone: props.timeZone ?? 'UTC',
      alertEmails: props.alertEmails ?? [],
      slackAlerts: props.slackAlerts ?? 'each',
    });
    // The daily run of every customer, fanned out (the alerting function keeps the changed ones).
    this.evaluation = new Evaluation(this, 'Evaluation', {
      table: this.dataStore.table,
      alertsTopic: this.alerting.alertsTopic,
      accessLogsBucket: this.ingestion.accessLogsBucket,
      timeZone: props.timeZone ?? 'UTC',
      removalPolicy,
      // Reminders go from the approvals' SES identity; calls, holds and hand-overs to the alerts' Slack.
      reminderEmail: props.approvalEmail,
      slackWebhookSecret: this.alerting.slackWebhookSecret,
      ...(props.evaluationConcurrency === undefined
        ? {}
        : { evaluationConcurrency: props.evaluationConcurrency }),
    });

    this.approvals = new Approvals(this, 'Approvals', {
      table: this.dataStore.table,
      slackWebhookSecret: this.alerting.slackWebhookSecret,
      changesTopic: this.ingestion.changesTopic,
      timeZone: props.timeZone ?? 'UTC',
      approvalPolicy: props.approvalPolicy,
      demo: props.demo,
      approvalEmail: props.approvalEmail,
      ...(props.webReservedConcurrency === undefined
        ? {}
        : { webReservedConcurrency: props.webReservedConcurrency }),
    });

    // The customer portal: its links are signed with a key derived from the approval links' key.
    this.portal = new CustomerPortal(this, 'CustomerPortal', {
      table: this.dataStore.table,
      linkKey: this.approvals.linkKey,
      timeZone: props.timeZone ?? 'UTC',
      ...(props.webReservedConcurrency === undefined
        ? {}
        : { reservedConcurrency: props.webReservedConcurrency }),
    });
    this.portal.linkFrom(this.evaluation.collectionsFunction, this.approvals.linkKey);
    this.checks = new CreditChecks(this, 'CreditChecks', {
      table: this.dataStore.table,
      timeZone: props.timeZone ?? 'UTC',
      ...(props.checksProvisionedConcurrency === undefined
        ? {}
        : { provisionedConcurrency: props.checksProvisionedConcurrency }),
    });

    if (props.approvalPagesCdn) {
      this.approvalPagesCdn = new ApprovalPagesCdn(this, 'ApprovalPagesCdn', {
        webUrl: this.approvals.webUrl,
        ...(props.approvalPagesWebAclArn ? { webAclArn: props.approvalPagesWebAclArn } : {}),
      });
      // The links in the emails name the distribution (the steps function writes them).
      this.approvals.stepsFunction.addEnvironment('APPROVALS_BASE_URL', this.approvalPagesCdn.url);
    } else if (props.approvalPagesWebAclArn)
      throw new Error('approvalPagesWebAclArn is for approvalPagesCdn=true, which is not set');

    this.reviews = new Reviews(this, 'Reviews', {
      table: this.dataStore.table,
      accessLogsBucket: this.ingestion.accessLogsBucket,
      transferStateMachine: this.approvals.stateMachine,
      changesTopic: this.ingestion.changesTopic,
      timeZone: props.timeZone ?? 'UTC',
      reviewEmails: props.reviewEmails ?? [],
      removalPolicy,
      ...(props.reviewConcurrency === undefined ? {} : { reviewConcurrency: props.reviewConcurrency }),
    });

    // A credit policy uploaded under policy/ is put to the approval chain (README "The policy"):
    // the ingest function starts the transfer-approval workflow and appends the policy's records.
    this.ingestion.ingestFunction.addEnvironment(
      'STATE_MACHINE_ARN',
      this.approvals.stateMachine.stateMachineArn,
    );
    this.approvals.stateMachine.grantStartExecution(this.ingestion.ingestFunction);

    // The audit trail's key and Object Lock anchors: every function that appends to the trail
    // chains with the key and anchors the head after each record; the ops function anchors hourly.
    this.audit = new AuditTrail(this, 'Audit', {
      accessLogsBucket: this.ingestion.accessLogsBucket,
      removalPolicy,
    });
    for (const fn of [
      this.approvals.webFunction,
      this.portal.fn,
      // Every credit check's decision, chained in batches from the customers' partitions.
      this.checks.chainFunction,
      // The collections run's own holds and hand-overs.
      this.evaluation.collectionsFunction,
      this.approvals.stepsFunction,
      this.approvals.apiFunction,
      this.approvals.slackDecisionFunction,
      this.reviews.stepsFunction,
      this.reviews.batchFunction,
      this.ingestion.ingestFunction,
    ])
      this.audit.grantAppend(fn);

    // What the dashboard and alarms watch: one line per function, state machine or queue.
    this.observability = new Observability(this, 'Observability', {
      table: this.dataStore.table,
      opsEmails: props.opsEmails ?? [],
      functions: [
        { label: 'Ingest', fn: this.ingestion.ingestFunction },
        { label: 'Evaluate', fn: this.alerting.evaluateFunction },
        { label: 'Slack', fn: this.alerting.slackFunction },
        { label: 'ApprovalPages', fn: this.approvals.webFunction },
        { label: 'CustomerPortal', fn: this.portal.fn },
        { label: 'CreditChecks', fn: this.checks.fn },
        { label: 'CheckLogChainer', fn: this.checks.chainFunction },
        { label: 'TransferSteps', fn: this.approvals.stepsFunction },
        { label: 'TransfersApi', fn: this.approvals.apiFunction },
        { label: 'SlackDecisions', fn: this.approvals.slackDecisionFunction },
        { label: 'ReviewSteps', fn: this.reviews.stepsFunction },
        { label: 'ReviewBatch', fn: this.reviews.batchFunction },
        { label: 'EvaluationSteps', fn: this.evaluation.stepsFunction },
        { label: 'EvaluationBatch', fn: this.evaluation.batchFunction },
        { label: 'CollectionsBatch', fn: this.evaluation.collectionsFunction },
      ],
      stateMachines: [
        // In the template's order (the evaluation is built before the approvals).
        { label: 'DailyEvaluation', stateMachine: this.evaluation.stateMachine },
        { label: 'TransferApproval', stateMachine: this.approvals.stateMachine },
        { label: 'PeriodicReview', stateMachine: this.reviews.stateMachine },
      ],
      queues: [
        { label: 'Upload', queue: this.ingestion.queue, deadLetterQueue: this.ingestion.deadLetterQueue },
        {
          label: 'Evaluate',
          queue: this.alerting.evaluateQueue,
          deadLetterQueue: this.alerting.evaluateDeadLetterQueue,
        },
        {
          label: 'Slack',
          queue: this.alerting.slackQueue,
          deadLetterQueue: this.alerting.slackDeadLetterQueue,
        },
        {
          label: 'SlackDecision',
          queue: this.approvals.slackDecisionQueue,
          deadLetterQueue: this.approvals.slackDecisionDeadLetterQueue,
        },
      ],
    });

    this.audit.anchorHourly(this.observability.gaugesFunction, this.dataStore.table);

    new CfnOutput(this, 'AuditAnchorBucketName', { value: this.audit.anchorBucket.bucketName });
    new CfnOutput(this, 'AuditKeySecretArn', { value: this.audit.keySecret.secretArn });
    new CfnOutput(this, 'UploadBucketName', { value: this.ingestion.bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.dataStore.table.tableName });
    new CfnOutput(this, 'ChangesTopicArn', { value: this.ingestion.changesTopic.topicArn });
    new CfnOutput(this, 'AlertsTopicArn', { value: this.alerting.alertsTopic.topicArn });
    new CfnOutput(this, 'SlackWebhookSecretArn', { value: this.alerting.slackWebhookSecret.secretArn });
    new CfnOutput(this, 'OpsTopicArn', { value: this.observability.opsTopic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.observability.dashboard.dashboardName });
    this.acknowledgeSnsManagedKeyGrants();
  }

  /**
   * With `@aws-cdk/aws-kms:applyImportedAliasPermissionsToPrincipal` (a recommended flag), a topic's
   * `grants.publish` adds kms:Decrypt and kms:GenerateDataKey* on `key/*` of this account and Region,
   * on condition that the key has the alias `alias/aws/sns`: the AWS managed key of SNS, which the
   * topics use. That one key only, so each publisher's policy acknowledges it here.
   */
  private acknowledgeSnsManagedKeyGrants(): void {
    for (const policy of this.node.findAll().filter((c): c is Policy => c instanceof Policy)) {
      const document = JSON.stringify(this.resolve(policy.document.toJSON()));
      if (!document.includes('"kms:ResourceAliases":"alias/aws/sns"')) continue;
      const reason =
        'CDK grants publishing to a topic encrypted with the AWS managed key as kms:Decrypt and ' +
        'kms:GenerateDataKey* on key/* of this account and Region, conditioned on kms:ResourceAliases = ' +
        'alias/aws/sns: only the SNS managed key matches.';
      Validations.of(policy).acknowledge(
        { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason },
        {
          id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
          reason,
        },
      );
    }
  }
}
