import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, type CfnResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SLACK_WEBHOOK_PLACEHOLDER } from '../../functions/alerts/slack.ts';
import { buildApp, InvalidConfigError, readConfig, type SentinelApp } from '../../infra/build-app.ts';
import { acknowledgements, findingsOf } from './nag.ts';

// One synthesis of the real app for the whole file. Bundling is skipped (test/infra/stack.test.ts
// bundles every function); everything else, cdk-nag included, is the real synthesis.
const EMAILS = [
  { address: 'credit-desk@example.com', minSeverity: 'high' },
  { address: 'cfo@example.com', minSeverity: 'critical' },
  { address: 'analyst@example.com', minSeverity: 'info' },
  { address: 'controller@example.com', digest: true },
];
let built: SentinelApp;
let assembly: CloudAssembly;
let template: Template;

beforeAll(() => {
  built = buildApp({
    context: {
      demo: 'true',
      timeZone: 'Europe/Amsterdam',
      // As `-c alertEmails='[...]'` passes it: JSON text.
      alertEmails: JSON.stringify(EMAILS),
      'aws:cdk:bundling-stacks': [],
    },
  });
  assembly = built.app.synth();
  template = Template.fromStack(built.stack);
});

type Json = Record<string, unknown>;
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const logicalId = (construct: IConstruct): string =>
  built.stack.getLogicalId(construct.node.defaultChild as CfnResource);
const ref = (construct: IConstruct) => ({ Ref: logicalId(construct) });
const getAtt = (construct: IConstruct, attribute = 'Arn') => ({
  'Fn::GetAtt': [logicalId(construct), attribute],
});
const resourceOf = (construct: IConstruct): Json => template.toJSON().Resources[logicalId(construct)] as Json;
const propsOf = (construct: IConstruct): Json => resourceOf(construct).Properties as Json;
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const resources = (type: string): [string, Json][] =>
  Object.entries(template.findResources(type)).map(([id, r]) => [id, (r as Json).Properties as Json]);

/** Identity statements per role logical id (AWS::IAM::Policy attached to that role). */
const statementsOfRole = (roleLogicalId: string): Statement[] =>
  resources('AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
    .flatMap(([, p]) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
const roleOf = (fn: IConstruct): string =>
  (propsOf(fn).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

const denyInsecureTransport = Match.objectLike({
  Effect: 'Deny',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe('alertEmails context', () => {
  it('reads JSON text (-c) and arrays (cdk.json); absent means none', () => {
    expect(built.config.alertEmails).toEqual(EMAILS);
    const app = new App({ context: { alertEmails: [{ address: 'a@example.com', minSeverity: 'warning' }] } });
    expect(readConfig(app).alertEmails).toEqual([{ address: 'a@example.com', minSeverity: 'warning' }]);
    expect(readConfig(new App()).alertEmails).toBeUndefined();
  });

  it('refuses bad JSON, addresses, severities and duplicates, naming the field', () => {
    const bad = (alertEmails: unknown) => () => readConfig(new App({ context: { alertEmails } }));
    expect(bad('not json')).toThrow(/JSON array[\s\S]*at alertEmails/);
    expect(bad('[{"address":"nobody","minSeverity":"high"}]')).toThrow(/alertEmails\[0\]\.address/);
    expect(bad('[{"address":"a@example.com","minSeverity":"urgent"}]')).toThrow(/minSeverity/);
    expect(bad('[{"address":"a@example.com"}]')).toThrow(InvalidConfigError);
    expect(bad('[{"address":"a@example.com"}]')).toThrow(/either "minSeverity"[\s\S]*or "digest": true/);
    expect(bad('[{"address":"a@example.com","minSeverity":"high","digest":true}]')).toThrow(/either/);
    expect(bad('[{"address":"a@example.com","digest":false}]')).toThrow(/digest/);
    expect(
      bad(
        '[{"address":"a@example.com","minSeverity":"high"},{"address":"A@example.com","minSeverity":"info"}]',
      ),
    ).toThrow(/more than once/);
  });
});

describe('alerts topic', () => {
  it('is KMS-encrypted with the AWS managed SNS key, TLS only, and has no physical name', () => {
    const { alertsTopic } = built.stack.alerting;
    expect(JSON.stringify(propsOf(alertsTopic).KmsMasterKeyId)).toContain('alias/aws/sns');
    expect(propsOf(alertsTopic)).not.toHaveProperty('TopicName');
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [ref(alertsTopic)],
      PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
    });
  });

  it('subscribes each email to the alert events with a numeric filter on severityRank (info 0 .. critical 3), or to the digest', () => {
    const emails = resources('AWS::SNS::Subscription').filter(([, p]) => p.Protocol === 'email');
    const alertEvents = ['alert.opened', 'alert.escalated'];
    expect(emails.map(([, p]) => p)).toEqual(
      expect.arrayContaining([
        {
          Protocol: 'email',
          Endpoint: 'credit-desk@example.com',
          TopicArn: ref(built.stack.alerting.alertsTopic),
          FilterPolicy: { event: alertEvents, severityRank: [{ numeric: ['>=', 2] }] },
        },
        {
          Protocol: 'email',
          Endpoint: 'cfo@example.com',
          TopicArn: ref(built.stack.alerting.alertsTopic),
          FilterPolicy: { event: alertEvents, severityRank: [{ numeric: ['>=', 3] }] },
        },
        {
          Protocol: 'email',
          Endpoint: 'analyst@example.com',
          TopicArn: ref(built.stack.alerting.alertsTopic),
          FilterPolicy: { event: alertEvents, severityRank: [{ numeric: ['>=', 0] }] },
        },
        {
          Protocol: 'email',
          Endpoint: 'controller@example.com',
          TopicArn: ref(built.stack.alerting.alertsTopic),
          FilterPolicy: { event: ['alert.digest'] },
        },
      ]),
    );
    const toAlerts = emails.filter(
      ([, p]) => JSON.stringify(p.TopicArn) === JSON.stringify(ref(built.stack.alerting.alertsTopic)),
    );
    expect(toAlerts).toHaveLength(4);
    // Filtering on the message attributes (the default scope), where SnsAlertNotifier puts severityRank.
    for (const [, p] of emails) expect(p).not.toHaveProperty('FilterPolicyScope');
  });

  it('has no email subscription to the alerts topic without alertEmails', () => {
    const { stack } = buildApp({ context: { demo: 'true', 'aws:cdk:bundling-stacks': [] } });
    const subs = Object.values(
      Template.fromStack(stack).findResources('AWS::SNS::Subscription', {
        Properties: { Protocol: 'email' },
      }),
    ) as { Properties: { TopicArn: unknown } }[];
    const alertsTopic = stack.getLogicalId(stack.alerting.alertsTopic.node.defaultChild as CfnElement);
    expect(subs.filter((x) => JSON.stringify(x.Properties.TopicArn).includes(alertsTopic))).toEqual([]);
    // A demo deploy subscribes none of the example approvers either: no email subscription at all.
    expect(subs).toEqual([]);
  });
});

describe('Slack delivery', () => {
  it('queues alerts on an encrypted, TLS-only queue with a DLQ after 3 receives', () => {
    const { slackQueue, slackDeadLetterQueue } = built.stack.alerting;
    expect(propsOf(slackQueue)).toEqual({
      RedrivePolicy: { deadLetterTargetArn: getAtt(slackDeadLetterQueue), maxReceiveCount: 3 },
      SqsManagedSseEnabled: true,
      // 6x the function's 3 minutes.
      VisibilityTimeout: 6 * 180,
    });
    expect(propsOf(slackDeadLetterQueue)).toEqual({
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
    });
    for (const q of [slackQueue, slackDeadLetterQueue])
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(q)],
        PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
      });
  });

  it('subscribes the queue to the alerts topic, filtered on the events slackAlerts asks for, with the SNS envelope (no raw delivery)', () => {
    const { slackQueue, alertsTopic } = built.stack.alerting;
    const subs = resources('AWS::SNS::Subscription').filter(
      ([, p]) => JSON.stringify(p.Endpoint) === JSON.stringify(getAtt(slackQueue)),
    );
    expect(subs.map(([, p]) => p)).toEqual([
      {
        Protocol: 'sqs',
        Endpoint: getAtt(slackQueue),
        TopicArn: ref(alertsTopic),
        FilterPolicy: { event: ['alert.opened', 'alert.escalated'] },
      },
    ]);
    for (const [mode, events] of [
      ['digest', ['alert.digest']],
      ['both', ['alert.opened', 'alert.escalated', 'alert.digest']],
    ] as const) {
      const other = buildApp({ context: { demo: 'true', slackAlerts: mode, 'aws:cdk:bundling-stacks': [] } });
      const queue = other.stack.alerting.slackQueue;
      const id = other.stack.getLogicalId(queue.node.defaultChild as CfnResource);
      const sub = Object.values(
        Template.fromStack(other.stack).findResources('AWS::SNS::Subscription', {
          Properties: { Endpoint: { 'Fn::GetAtt': [id, 'Arn'] } },
        }),
      );
      expect(sub.map((r) => (r as Json).Properties)).toMatchObject([{ FilterPolicy: { event: events } }]);
    }
    expect(() => readConfig(new App({ context: { slackAlerts: 'hourly' } }))).toThrow(/slackAlerts/);
    // Only the alerts topic may send to the queue.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(slackQueue)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': ref(alertsTopic) } },
          }),
        ]),
      },
    });
  });

  it('runs the Slack function on nodejs22.x arm64 from the queue, one record failing alone', () => {
    const { slackFunction, slackQueue, slackWebhookSecret } = built.stack.alerting;
    expect(propsOf(slackFunction)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 180,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: {
          SLACK_WEBHOOK_SECRET_ARN: ref(slackWebhookSecret),
          POWERTOOLS_SERVICE_NAME: 'slack',
          POWERTOOLS_METRICS_NAMESPACE: 'CreditSentinel',
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(slackQueue),
      FunctionName: ref(slackFunction),
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('keeps the webhook in a secret created with the placeholder, readable by the Slack function, the transfer steps and the collections only', () => {
    const { slackWebhookSecret, slackFunction } = built.stack.alerting;
    expect(propsOf(slackWebhookSecret)).toMatchObject({ SecretString: SLACK_WEBHOOK_PLACEHOLDER });
    expect(propsOf(slackWebhookSecret)).not.toHaveProperty('Name');
    template.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);

    const readers = resources('AWS::IAM::Policy').filter(([, p]) =>
      (p.PolicyDocument as { Statement: Statement[] }).Statement.some((s) =>
        asArray(s.Action).some((a) => a.startsWith('secretsmanager:')),
      ),
    );
    // The Slack function, the transfer steps (approval messages go to the same channel) and the
    // collections (calls, holds and hand-overs); each reads the webhook secret by its ARN.
    const webhookReaders = readers.filter(([, p]) =>
      (p.PolicyDocument as { Statement: Statement[] }).Statement.some(
        // minimizePolicies (a recommended flag) may merge it with another secret of the same actions.
        (st) =>
          asArray(st.Resource).some((r) => JSON.stringify(r) === JSON.stringify(ref(slackWebhookSecret))),
      ),
    );
    expect(webhookReaders.map(([, p]) => JSON.stringify(p.Roles)).sort()).toEqual(
      [slackFunction, built.stack.approvals.stepsFunction, built.stack.evaluation.collectionsFunction]
        .map((fn) => JSON.stringify([{ Ref: roleOf(fn) }]))
        .sort(),
    );
    const grant = statementsOfRole(roleOf(slackFunction)).find((s) =>
      asArray(s.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(grant?.Resource).toEqual(ref(slackWebhookSecret));
    expect(asArray(grant?.Action ?? []).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
  });
});

describe('evaluation', () => {
  it('is not started by a schedule: the daily run is the Evaluation state machine (fanned out)', () => {
    const { evaluateFunction } = built.stack.alerting;
    const targets = resources('AWS::Scheduler::Schedule').map(([, p]) =>
      JSON.stringify((p.Target as Json).Arn),
    );
    expect(targets).not.toContain(JSON.stringify(getAtt(evaluateFunction)));
    expect(targets).toContain(JSON.stringify(ref(built.stack.evaluation.stateMachine)));
  });

  it('subscribes the evaluate queue to customers-changed, filtered on type = customers.changed', () => {
    const { evaluateQueue, evaluateDeadLetterQueue } = built.stack.alerting;
    const subs = resources('AWS::SNS::Subscription').filter(
      ([, p]) => JSON.stringify(p.Endpoint) === JSON.stringify(getAtt(evaluateQueue)),
    );
    expect(subs.map(([, p]) => p)).toEqual([
      {
        Protocol: 'sqs',
        Endpoint: getAtt(evaluateQueue),
        TopicArn: ref(built.stack.ingestion.changesTopic),
        FilterPolicy: { type: ['customers.changed'] },
      },
    ]);
    expect(propsOf(evaluateQueue)).toEqual({
      RedrivePolicy: { deadLetterTargetArn: getAtt(evaluateDeadLetterQueue), maxReceiveCount: 3 },
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * 900,
    });
    for (const q of [evaluateQueue, evaluateDeadLetterQueue])
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(q)],
        PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
      });
  });

  it('feeds the evaluate function in merged batches with partial failures; failed schedules land on the DLQ', () => {
    const { evaluateFunction, evaluateQueue, evaluateDeadLetterQueue, alertsTopic } = built.stack.alerting;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(evaluateQueue),
      FunctionName: ref(evaluateFunction),
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 30,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(propsOf(evaluateFunction)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 900,
      DeadLetterConfig: { TargetArn: getAtt(evaluateDeadLetterQueue) },
      Environment: {
        Variables: {
          TABLE_NAME: ref(built.stack.dataStore.table),
          ALERTS_TOPIC_ARN: ref(alertsTopic),
          SENTINEL_TIME_ZONE: 'Europe/Amsterdam',
          POWERTOOLS_SERVICE_NAME: 'evaluate',
        },
      },
    });
  });

  it('grants evaluate the table read/write and publishing on the alerts topic only', () => {
    const { evaluateFunction, alertsTopic } = built.stack.alerting;
    const table = built.stack.dataStore.table;
    const statements = statementsOfRole(roleOf(evaluateFunction));
    const find = (action: string) => statements.find((s) => asArray(s.Action).includes(action));
    expect(find('dynamodb:PutItem')?.Resource).toEqual([
      getAtt(table),
      { 'Fn::Join': ['', [getAtt(table), '/index/*']] },
    ]);
    expect(find('dynamodb:Query')).toBe(find('dynamodb:PutItem'));
    expect(
      statements.filter((s) => asArray(s.Action).includes('sns:Publish')).map((s) => s.Resource),
    ).toEqual([ref(alertsTopic)]);
    const actions = statements.flatMap((s) => asArray(s.Action));
    expect(actions.filter((a) => a.startsWith('secretsmanager:') || a.startsWith('s3:'))).toEqual([]);
    expect(actions.filter((a) => a.endsWith(':*') || a === '*')).toEqual([]);
  });

  it('gives the Slack function no table, topic or bucket rights', () => {
    const actions = statementsOfRole(roleOf(built.stack.alerting.slackFunction)).flatMap((s) =>
      asArray(s.Action),
    );
    expect(actions.filter((a) => /^(dynamodb|sns|s3):/.test(a))).toEqual([]);
  });
});

describe('outputs', () => {
  it('adds the alerts topic ARN and the Slack webhook secret ARN', () => {
    expect(template.toJSON().Outputs).toMatchObject({
      AlertsTopicArn: { Value: ref(built.stack.alerting.alertsTopic) },
      SlackWebhookSecretArn: { Value: ref(built.stack.alerting.slackWebhookSecret) },
    });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged, with email subscriptions configured', () => {
    expect(findingsOf(new AwsSolutionsChecks(), built.app)).toEqual([]);
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
    const nag = (report.pluginReports as Json[]).filter((r) => JSON.stringify(r).includes('AwsSolutions'));
    expect(nag.flatMap((r) => (r.violations ?? []) as unknown[])).toEqual([]);
  });

  it('acknowledges, with reasons, exactly the findings of the alerting resources that remain', () => {
    const alerting = built.stack.alerting.node.path;
    const ours = acknowledgements(built.app).filter(
      (a) => a.path.startsWith(`${alerting}/`) && a.id.startsWith('AwsSolutions-'),
    );
    const raw = new AwsSolutionsChecks();
    // Private hook of cdk-nag 3.0.x: report findings as if nothing were acknowledged.
    Object.defineProperty(raw, 'isAcknowledged', { value: () => false });
    const findings = findingsOf(raw, built.app);
    for (const ack of ours) {
      expect(ack.reason.trim().length, `${ack.path} ${ack.id}`).toBeGreaterThanOrEqual(40);
      const covered = findings.filter((f) => f.rule === ack.id && `${f.path}/`.startsWith(`${ack.path}/`));
      expect(covered, `stale: ${ack.path} ${ack.id}`).not.toEqual([]);
    }
    // What is acknowledged here, on which construct (the narrowest one holding the finding).
    expect(
      ours
        .filter((a) => !a.path.endsWith('/Function')) // the Node 22 pin every SentinelFunction carries
        .filter((a) => !(a.id === 'AwsSolutions-IAM5[Resource::*]')) // X-Ray, from SentinelFunction
        .map((a) => `${a.path.slice(alerting.length + 1)} ${a.id.replace(/[A-F0-9]{8}\./, '.')}`)
        .sort(),
    ).toEqual([
      'EvaluateFunction/Role/DefaultPolicy AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'EvaluateFunction/Role/DefaultPolicy AwsSolutions-IAM5[Resource::<DataStoreTable.Arn>/index/*]',
      'EvaluateFunction/Role/DefaultPolicy AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
      'SlackWebhook AwsSolutions-SMG4',
    ]);
  });
});
