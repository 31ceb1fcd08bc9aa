import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  ArnFormat,
  type CfnElement,
  CfnOutput,
  Duration,
  SecretValue,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { type FunctionUrl, FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { SubscriptionFilter, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RECIPIENT_ATTRIBUTE } from '../../functions/adapters/sns-approvals.ts';
import { SLACK_WEBHOOK_PLACEHOLDER } from '../../functions/alerts/slack.ts';
import { isExampleAddress } from '../../functions/core/addresses.ts';
import { type ApprovalPolicy, parseApprovalPolicy } from '../../functions/transfers/approval-policy.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT } from '../../policies/index.ts';
import { reservePublicConcurrency, SentinelFunction, vendedLogGroupName } from './function-defaults.ts';
import { MAX_RECEIVE_COUNT } from './ingestion.ts';

export const TRANSFER_ASL_FILE = fileURLToPath(
  new URL('../../statemachines/transfer-approval.asl.json', import.meta.url),
);

export interface ApprovalsProps {
  readonly table: Table;
  /** The Slack incoming-webhook secret of the alerting construct (approval messages go to the same channel). */
  readonly slackWebhookSecret: Secret;
  /**
   * The ingestion's "customers changed" topic: an approved or paid transfer changes the customer's
   * exposure, so the steps and API functions publish there and the evaluation runs again.
   */
  readonly changesTopic: Topic;
  /** IANA time zone of "today". @default 'UTC' */
  readonly timeZone?: string;
  /**
   * The approval policy document (validated at synth: an invalid one fails the synth, field named).
   * @default the shipped example, policies/approvals.json
   */
  readonly approvalPolicy?: unknown;
  /**
   * Reserved concurrency of the approval pages function, whose URL anyone can call: a flood of
   * requests gets 429 (Rate Exceeded) past this many at once instead of taking the account's
   * concurrency from every other function. Reserving takes it from the account's unreserved pool,
   * which Lambda keeps at 100 or more: an account whose quota is under 100 + N cannot reserve N (a
   * new account's quota is 10), so none is reserved unless asked.
   * @default - none
   */
  readonly webReservedConcurrency?: number;
  /**
   * Deploy an approval policy whose people have example addresses (the shipped one): nobody is
   * subscribed at those, so nobody is emailed. Without it such a policy is refused at synth.
   * @default false
   */
  readonly demo?: boolean;
  /**
   * Approval emails through SES: from this address (a verified SES identity, or an address of a
   * verified domain), text and HTML, through the configuration set if one is named. The steps
   * function may send only from that address (`ses:SendEmail` on its identity and its domain's);
   * no approvals topic and no per-person subscription is made.
   * @default - SNS email, with a synth warning saying what it loses (SNS_EMAIL_LOSSES)
   */
  readonly approvalEmail?: ApprovalEmailSettings;
}

export interface ApprovalEmailSettings {
  /** The From address (`-c approvalEmailFrom`). */
  readonly from: string;
  /** An SES configuration set (`-c sesConfigurationSet`). @default none */
  readonly configurationSet?: string;
}

/** What approval emails lose through SNS instead of SES: the synth warning and the README say it. */
export const SNS_EMAIL_LOSSES =
  'Approval emails go through SNS (no -c approvalEmailFrom): they are text only, without the HTML email and its evidence tables; ' +
  'they come from "AWS Notifications" <no-reply@sns.amazonaws.com>, not from your address; each carries an unsubscribe link that a mail ' +
  'scanner following links can open, which silently unsubscribes the approver, who gets no further link; and each approver must first ' +
  'confirm a subscription email. Deploy with -c approvalEmailFrom=<an address of a verified SES identity> to send them through SES ' +
  '(README "Approval emails").';

// Shared with the SES adapter, which never mails such an address either.
export { isExampleAddress };

/**
 * The table actions of the approval pages function, and nothing else (no Scan, BatchWriteItem or
 * DeleteItem, no index): the page reads the transfer, its approvals and the customer's partition
 * (GetItem, Query); a decision writes the level (a conditional PutItem), marks the approval and
 * voids the level's others (conditional UpdateItem), closes a rejected transfer (UpdateItem) and
 * appends the audit record (Query, GetItem, PutItem, UpdateItem of the head). Traced from
 * functions/transfers/http.ts (the `pages` face) through app.ts `approvalPage`, `decide`,
 * `settleLevel`, `levelDecided` and `wake` to adapters/dynamodb-transfers.ts and
 * `loadCustomerPartition` in adapters/dynamodb.ts: a new store call on those paths belongs here.
 */
export const WEB_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;

/** Lambda environment variables hold at most 4 KB in all. */
const POLICY_ENV_MAX = 3000;
const DLQ_RETENTION = Duration.days(14);

/**
 * Multi-level transfer approvals: the state machine from statemachines/transfer-approval.asl.json
 * (the same file the local engine runs) with its one steps function; the approval pages and
 * Slack's interactivity endpoint behind a function URL without AWS auth (the signed link is the
 * credential, the Slack request is signature-checked); the transfers API behind a function URL
 * with IAM auth; approval emails through SES from a verified identity, or else through an SNS topic
 * with a subscription per person filtered on the recipient; the
 * link-signing key and the Slack signing secret in Secrets Manager.
 */
export class Approvals extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly stepsFunction: NodejsFunction;
  public readonly webFunction: NodejsFunction;
  public readonly apiFunction: NodejsFunction;
  public readonly slackDecisionFunction: NodejsFunction;
  public readonly webUrl: FunctionUrl;
  public readonly apiUrl: FunctionUrl;
  /** SNS email's topic, filtered per person; none when approval emails go through SES. */
  public readonly approvalsTopic: Topic | undefined;
  public readonly linkKey: Secret;
  public readonly slackSigningSecret: Secret;
  public readonly slackDecisionQueue: Queue;
  public readonly slackDecisionDeadLetterQueue: Queue;
  public readonly policy: ApprovalPolicy;

  constructor(scope: Construct, id: string, props: ApprovalsProps) {
    super(scope, id);
    const doc = props.approvalPolicy ?? DEFAULT_APPROVAL_POLICY_DOCUMENT;
    const parsed = parseApprovalPolicy(doc);
    if (!parsed.ok)
      throw new Error(
        `approvalPolicy is invalid: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      );
    this.policy = parsed.policy;
    // An approver who cannot get the email never approves: every transfer would expire after its
    // reminders. The shipped policy's people are examples; a real deploy names real ones.
    const examples = Object.entries(this.policy.people).filter(
      ([, p]) => p.email && isExampleAddress(p.email),
    );
    if (examples.length > 0 && !props.demo)
      throw new Error(
        `approvalPolicy: ${examples.length} of its people have example addresses (${examples
          .slice(0, 3)
          .map(([id, p]) => `${id} <${p.email}>`)
          .join(
            ', ',
          )}${examples.length > 3 ? ', ...' : ''}), which nobody can confirm: every transfer would expire unanswered. ` +
          'Pass your own approval policy, its people with their real addresses (-c approvalPolicy=approvals.json, ' +
          'see policies/approvals.json for the form), or -c demo=true to deploy the example chain without emailing anyone.',
      );
    if (examples.length > 0)
      Annotations.of(this).addWarningV2(
        '@credit-sentinel/example-approvers',
        `The approval policy is the example one: its ${examples.length} people's example addresses are not subscribed, so nobody is emailed and every transfer expires unanswered. Deploy with -c approvalPolicy=approvals.json (your approvers and their real addresses) before using transfers.`,
      );
    const policyJson = props.approvalPolicy === undefined ? undefined : JSON.stringify(doc);
    if (policyJson && policyJson.length > POLICY_ENV_MAX)
      throw new Error(
        `approvalPolicy is ${policyJson.length} characters; at most ${POLICY_ENV_MAX} fit the functions' environment`,
      );

    const ses = props.approvalEmail;
    this.approvalsTopic = ses ? undefined : this.snsApprovalEmail();
    const emailEnvironment: Record<string, string> = ses
      ? approvalEmailEnvironment(ses)
      : this.approvalsTopic
        ? { APPROVALS_TOPIC_ARN: this.approvalsTopic.topicArn }
        : {};

    this.linkKey = new Secret(this, 'LinkKey', {
      description:
        'HMAC key of the approval links: {"id","secret"}, or a list of them, current first, to rotate',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ id: 'k1' }),
        generateStringKey: 'secret',
        passwordLength: 64,
        excludePunctuation: true,
      },
    });
    this.slackSigningSecret = new Secret(this, 'SlackSigningSecret', {
      description: "The Slack app's signing secret (Approve/Reject buttons); set it with put-secret-value",
      secretStringValue: SecretValue.unsafePlainText(SLACK_WEBHOOK_PLACEHOLDER),
    });

    const base = {
      TABLE_NAME: props.table.tableName,
      SENTINEL_TIME_ZONE: props.timeZone ?? 'UTC',
      LINK_KEY_SECRET_ARN: this.linkKey.secretArn,
      ...(policyJson ? { APPROVAL_POLICY_JSON: policyJson } : {}),
    };

    this.slackDecisionDeadLetterQueue = new Queue(this, 'SlackDecisionDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
    });
    this.slackDecisionQueue = new Queue(this, 'SlackDecisionQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(180),
      deadLetterQueue: { queue: this.slackDecisionDeadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    const web = new SentinelFunction(this, 'WebFunction', {
      entry: 'functions/transfers/handler.ts',
      handler: 'web',
      serviceName: 'approval-pages',
      description:
        'Approval pages (GET shows the evidence, POST decides) and the Slack interactivity endpoint',
      timeout: Duration.seconds(10),
      environment: {
        ...base,
        SLACK_SIGNING_SECRET_ARN: this.slackSigningSecret.secretArn,
        SLACK_DECISION_QUEUE_URL: this.slackDecisionQueue.queueUrl,
      },
    });
    this.webFunction = web.fn;
    reservePublicConcurrency(this.webFunction, props.webReservedConcurrency);
    this.webUrl = this.webFunction.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });

    const steps = new SentinelFunction(this, 'StepsFunction', {
      entry: 'functions/transfers/handler.ts',
      handler: 'steps',
      serviceName: 'transfer-steps',
      description:
        'The transfer workflow steps: risk gate, await a level (store the token, notify, remind), execute, close',
      timeout: Duration.seconds(60),
      environment: {
        ...base,
        ...emailEnvironment,
        APPROVALS_BASE_URL: this.webUrl.url,
        SLACK_WEBHOOK_SECRET_ARN: props.slackWebhookSecret.secretArn,
        CHANGES_TOPIC_ARN: props.changesTopic.topicArn,
      },
    });
    this.stepsFunction = steps.fn;

    const logGroup = new LogGroup(this, 'StateMachineLogs', {
      logGroupName: vendedLogGroupName(this, 'transfer-approval'),
      retention: RetentionDays.ONE_MONTH,
    });
    this.stateMachine = new StateMachine(this, 'TransferApproval', {
      comment: 'Multi-level transfer approval (statemachines/transfer-approval.asl.json)',
      // Inline (no asset bucket): the template carries the very file the local engine runs.
      definitionBody: DefinitionBody.fromString(readFileSync(TRANSFER_ASL_FILE, 'utf8')),
      definitionSubstitutions: { TransferStepsFunction: this.stepsFunction.functionArn },
      tracingEnabled: true,
      // Execution data holds the task tokens: the logs keep the events and never the data.
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
      // No `timeout` here: CDK cannot add one to a definition given as a string. The ASL file's own
      // top-level TimeoutSeconds (30 days) is what ends an execution nobody finishes.
    });
    this.stepsFunction.grantInvoke(this.stateMachine);

    const api = new SentinelFunction(this, 'ApiFunction', {
      entry: 'functions/transfers/handler.ts',
      handler: 'api',
      serviceName: 'transfers-api',
      description:
        'POST /transfers, GET /transfers[/ID], POST /transfers/ID/recall|retry|paid, GET /approvals, POST /applications, GET /applications[/ID] (IAM auth)',
      timeout: Duration.seconds(15),
      environment: {
        ...base,
        STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
        CHANGES_TOPIC_ARN: props.changesTopic.topicArn,
      },
    });
    this.apiFunction = api.fn;
    this.apiUrl = this.apiFunction.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
    this.stateMachine.grantStartExecution(this.apiFunction);

    const decisions = new SentinelFunction(this, 'SlackDecisionFunction', {
      entry: 'functions/transfers/handler.ts',
      handler: 'slackDecisions',
      serviceName: 'slack-decisions',
      description: 'Decides the Slack button presses the approval pages function verified and queued',
      timeout: Duration.seconds(30),
      environment: base,
    });
    this.slackDecisionFunction = decisions.fn;
    this.slackDecisionFunction.addEventSource(
      new SqsEventSource(this.slackDecisionQueue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: 2,
      }),
    );

    // Grants, each on the resource it needs.
    props.slackWebhookSecret.grantRead(this.stepsFunction);
    if (ses) this.stepsFunction.addToRolePolicy(sesSendStatement(this, ses));
    this.approvalsTopic?.grants.publish(this.stepsFunction);
    props.changesTopic.grants.publish(this.stepsFunction);
    props.changesTopic.grants.publish(this.apiFunction);
    const taskAnswers = new PolicyStatement({
      actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
      resources: ['*'],
    });
    for (const s of [steps, api, decisions]) {
      props.table.grants.readWriteData(s.fn);
      this.linkKey.grantRead(s.fn);
      s.fn.addToRolePolicy(taskAnswers);
    }
    // The public function gets what its paths call (WEB_TABLE_ACTIONS), on the table alone: none
    // of them reads the index. Secrets: GetSecretValue only (Powertools' getSecret), on the link
    // key (to verify links) and the Slack signing secret; the audit key and anchors come from
    // AuditTrail.grantAppend in the stack. The table uses the AWS managed key: no KMS grant.
    this.webFunction.addToRolePolicy(
      new PolicyStatement({ actions: [...WEB_TABLE_ACTIONS], resources: [props.table.tableArn] }),
    );
    this.webFunction.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.linkKey.secretArn, this.slackSigningSecret.secretArn],
      }),
    );
    this.webFunction.addToRolePolicy(taskAnswers);
    // SendMessage alone (the queue URL is in the environment; CDK's grantSendMessages adds
    // GetQueueAttributes and GetQueueUrl); the queue is SQS-managed encryption: no KMS grant.
    this.webFunction.addToRolePolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.slackDecisionQueue.queueArn] }),
    );
    this.acknowledge([steps, web, api, decisions], [steps, api, decisions], props.table);

    new CfnOutput(this, 'ApprovalPagesUrl', { value: this.webUrl.url });
    new CfnOutput(this, 'TransfersApiUrl', { value: this.apiUrl.url });
    new CfnOutput(this, 'TransferStateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'SlackSigningSecretArn', { value: this.slackSigningSecret.secretArn });
  }

  /**
   * SNS email, the fallback: one topic with a subscription per person, filtered on the recipient
   * (a link reaches only its approver); a demo deploy subscribes no example address (nobody could
   * confirm it). The synth warns what this loses against SES.
   */
  private snsApprovalEmail(): Topic {
    Annotations.of(this).addWarningV2('@credit-sentinel/approval-email-sns', SNS_EMAIL_LOSSES);
    const topic = new Topic(this, 'ApprovalsTopic', {
      displayName: 'Credit Sentinel approvals',
      masterKey: Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    for (const [personId, who] of Object.entries(this.policy.people))
      if (who.email && !isExampleAddress(who.email))
        topic.addSubscription(
          new EmailSubscription(who.email, {
            filterPolicy: {
              [RECIPIENT_ATTRIBUTE]: SubscriptionFilter.stringFilter({ allowlist: [personId] }),
            },
          }),
        );
    return topic;
  }

  /** `fns`: every transfer function; `indexReaders`: those CDK's readWriteData gave the table's indexes. */
  private acknowledge(
    fns: readonly SentinelFunction[],
    indexReaders: readonly SentinelFunction[],
    table: Table,
  ): void {
    const stack = Stack.of(this);
    const tableId = stack.getLogicalId(table.node.defaultChild as CfnElement);
    for (const f of fns)
      Validations.of(f.role.node.findChild('DefaultPolicy')).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'states:SendTaskSuccess and SendTaskFailure cannot be scoped to the state machine or an execution: IAM ' +
          'offers no such resource for them and a callback token belongs to no activity (the token is the ' +
          'authorisation). X-Ray writes need "*" too. Every data grant names its table, topic, queue or secret.',
      });
    for (const f of indexReaders)
      Validations.of(f.role.node.findChild('DefaultPolicy')).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
        reason:
          "CDK's readWriteData grants the table with its indexes (<arn>/index/*), of this table only: the transfers " +
          "API's lists read gsi1 (the transfers, and the credit applications' APPLICATIONS partition); the steps and " +
          'decisions functions keep that grant until they are narrowed too.',
      });
    const stepsId = stack.getLogicalId(this.stepsFunction.node.defaultChild as CfnElement);
    const smPolicy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (smPolicy)
      Validations.of(smPolicy).acknowledge(
        {
          id: `AwsSolutions-IAM5[Resource::<${stepsId}.Arn>:*]`,
          reason:
            "CDK's grantInvoke names the steps function and its versions (<arn>:*): this one function only.",
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'The state machine writes its logs and X-Ray traces; CloudWatch Logs delivery and X-Ray APIs support ' +
            'no resource-level permissions.',
        },
      );
    Validations.of(this.slackSigningSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Slack issues the signing secret; rotate it in the Slack app and store it with put-secret-value.',
    });
    Validations.of(this.linkKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotated by storing a list [new, old] with put-secret-value: links signed with the old key keep working ' +
        'until they expire, then the old key is dropped (README). A rotation Lambda would break live links.',
    });
  }
}

/** The environment that makes the steps function send approval emails through SES (functions/transfers/wiring.ts). */
function approvalEmailEnvironment(e: ApprovalEmailSettings): Record<string, string> {
  return {
    APPROVAL_EMAIL_FROM: e.from,
    ...(e.configurationSet ? { SES_CONFIGURATION_SET: e.configurationSet } : {}),
  };
}

/**
 * `ses:SendEmail` from the one From address: on its identity, whichever of the address or its
 * domain was verified (SES authorizes against the one it sends under), and the configuration set
 * when one is named (SESv2 checks it as a resource too); the condition keeps even the domain's
 * identity to that one address.
 */
export function sesSendStatement(scope: Construct, e: ApprovalEmailSettings): PolicyStatement {
  const stack = Stack.of(scope);
  const arn = (resource: string, resourceName: string) =>
    stack.formatArn({ service: 'ses', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  const domain = e.from.slice(e.from.lastIndexOf('@') + 1);
  return new PolicyStatement({
    actions: ['ses:SendEmail'],
    resources: [
      arn('identity', e.from),
      arn('identity', domain),
      ...(e.configurationSet ? [arn('configuration-set', e.configurationSet)] : []),
    ],
    conditions: { StringEquals: { 'ses:FromAddress': e.from } },
  });
}

/** Where the ASL lives, for tests that compare the deployed definition with the file. */
export const ASL_DIR = join(fileURLToPath(new URL('../../', import.meta.url)), 'statemachines');
