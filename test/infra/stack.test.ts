import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CfnDeletionPolicy, type CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { type CloudAssembly, CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildApp,
  FEATURE_FLAGS,
  InvalidConfigError,
  readConfig,
  type SentinelApp,
} from '../../infra/build-app.ts';
import { REGIONS_WITHOUT_FUNCTION_URLS } from '../../infra/regions.ts';
import { CreditSentinelStack } from '../../infra/stack.ts';
import { acknowledgements, findingsOf } from './nag.ts';

// One synthesis of the real app (with bundling) for the whole file.
let built: SentinelApp;
let assembly: CloudAssembly;
let template: Template;

beforeAll(() => {
  built = buildApp({ context: { demo: 'true', timeZone: 'Europe/Amsterdam' } });
  // Throws if any cdk-nag error is left unacknowledged: the plugin runs inside synthesis.
  assembly = built.app.synth();
  template = Template.fromStack(built.stack);
});

type Json = Record<string, unknown>;
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: Json };

const logicalId = (construct: IConstruct): string =>
  built.stack.getLogicalId(construct.node.defaultChild as CfnResource);
const getAtt = (construct: IConstruct, attribute = 'Arn') => ({
  'Fn::GetAtt': [logicalId(construct), attribute],
});
const ref = (construct: IConstruct) => ({ Ref: logicalId(construct) });
const resourceOf = (construct: IConstruct): Json => template.toJSON().Resources[logicalId(construct)] as Json;
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every statement of every identity policy: AWS::IAM::Policy and inline role policies. */
const identityStatements = (): { source: string; statement: Statement }[] => {
  const out: { source: string; statement: Statement }[] = [];
  for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, Json>)) {
    const properties = (resource.Properties ?? {}) as Json;
    const documents: Json[] = [];
    if (resource.Type === 'AWS::IAM::Policy') documents.push(properties.PolicyDocument as Json);
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of (properties.Policies ?? []) as Json[])
        documents.push(policy.PolicyDocument as Json);
    }
    for (const document of documents) {
      for (const statement of document.Statement as Statement[]) out.push({ source: id, statement });
    }
  }
  return out;
};

/** Deny-without-TLS statement that `enforceSSL` adds to bucket, queue and topic policies. */
const denyInsecureTransport = Match.objectLike({
  Effect: 'Deny',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe('config', () => {
  it('defaults timeZone to UTC, retainData to true, Slack to each alert and no CDN; demo follows the policy (below)', () => {
    expect(readConfig(new App())).toEqual({
      timeZone: 'UTC',
      retainData: true,
      slackAlerts: 'each',
      approvalPagesCdn: false,
    });
  });

  it('accepts -c style string booleans and a valid alarm email', () => {
    const app = new App({ context: { retainData: 'false', alarmEmail: 'ops@example.com' } });
    expect(readConfig(app)).toMatchObject({ retainData: false, alarmEmail: 'ops@example.com' });
  });

  it('rejects an unknown time zone and a malformed email', () => {
    expect(() => readConfig(new App({ context: { timeZone: 'Mars/Olympus' } }))).toThrow(InvalidConfigError);
    expect(() => readConfig(new App({ context: { alarmEmail: 'not-an-email' } }))).toThrow(/alarmEmail/);
  });

  it('passes the configured time zone to the stack', () => {
    expect(built.config.timeZone).toBe('Europe/Amsterdam');
    expect(built.stack).toBeInstanceOf(CreditSentinelStack);
  });

  it('retainData=false makes table and upload bucket deletable', () => {
    // Construct only (no synthesis) and skip bundling: the policy is set on the L1 resources.
    const { stack } = buildApp({
      context: { demo: 'true', retainData: 'false', 'aws:cdk:bundling-stacks': [] },
    });
    const table = stack.dataStore.table.node.defaultChild as CfnResource;
    const bucket = stack.ingestion.bucket.node.defaultChild as CfnResource;
    expect(table.cfnOptions.deletionPolicy).toBe(CfnDeletionPolicy.DELETE);
    expect(bucket.cfnOptions.deletionPolicy).toBe(CfnDeletionPolicy.DELETE);
  });
});

describe('CDK feature flags', () => {
  it('sets in cdk.json every flag aws-cdk-lib recommends for a new project, at its value, and synthesizes with them', () => {
    const cdkJson = JSON.parse(readFileSync(join(import.meta.dirname, '../../cdk.json'), 'utf8')) as {
      context: Json;
    };
    expect(Object.keys(CURRENTLY_RECOMMENDED_FLAGS).length).toBeGreaterThan(80);
    for (const [flag, value] of Object.entries(CURRENTLY_RECOMMENDED_FLAGS)) {
      expect(cdkJson.context[flag], flag).toEqual(value);
      // buildApp applies them, so these tests see the template `cdk deploy` makes.
      expect(built.app.node.tryGetContext(flag), flag).toEqual(value);
    }
    expect(FEATURE_FLAGS).toEqual(
      Object.fromEntries(Object.entries(cdkJson.context).filter(([k]) => k.startsWith('@aws-cdk'))),
    );
  });
});

describe('data store', () => {
  it('is one on-demand table with pk/sk, gsi1 (ALL), PITR, KMS encryption and TTL on expiration', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // SSEEnabled without SSEType means KMS with the AWS managed key (alias/aws/dynamodb).
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      TableName: Match.absent(),
    });
  });

  it('is retained by default', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('ingestion', () => {
  const prefixes = [
    'customers/',
    'invoices/',
    'payments/',
    'financials/',
    'fx/',
    'guarantees/',
    'insurance/',
    'scores/',
    'orders/',
    'profile/',
    'policy/',
  ];

  it('has a private, versioned, encrypted upload bucket that logs access to a separate bucket', () => {
    const { bucket, accessLogsBucket } = built.stack.ingestion;
    expect(resourceOf(bucket)).toMatchObject({ DeletionPolicy: 'Retain' });
    expect(resourceOf(bucket).Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' }, BucketKeyEnabled: true },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: ref(accessLogsBucket) },
      LifecycleConfiguration: {
        Rules: expect.arrayContaining([
          expect.objectContaining({ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90 } }),
        ]),
      },
    });
    expect(resourceOf(bucket).Properties).not.toHaveProperty('BucketName');
  });

  it('denies non-TLS requests on every bucket', () => {
    for (const bucket of [
      built.stack.ingestion.bucket,
      built.stack.ingestion.accessLogsBucket,
      built.stack.reviews.reportsBucket,
      built.stack.evaluation.runsBucket,
      built.stack.audit.anchorBucket,
    ]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: ref(bucket),
        PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
      });
    }
    template.resourceCountIs('AWS::S3::Bucket', 5);
  });

  it('sends ObjectCreated to the upload queue, one notification per prefix', () => {
    const notifications = template.findResources('Custom::S3BucketNotifications');
    const [notification] = Object.values(notifications) as Json[];
    const properties = notification?.Properties as Json;
    expect(properties.BucketName).toEqual(ref(built.stack.ingestion.bucket));
    const configuration = properties.NotificationConfiguration as Json;
    expect(configuration).not.toHaveProperty('LambdaFunctionConfigurations');
    const queueConfigurations = configuration.QueueConfigurations as Json[];
    expect(queueConfigurations).toHaveLength(prefixes.length);
    expect(queueConfigurations).toEqual(
      prefixes.map((prefix) => ({
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } },
        QueueArn: getAtt(built.stack.ingestion.queue),
      })),
    );
  });

  it('redrives to an encrypted DLQ after 3 receives, with visibility 6x the function timeout', () => {
    const { queue, deadLetterQueue } = built.stack.ingestion;
    expect(resourceOf(queue).Properties).toEqual({
      RedrivePolicy: { deadLetterTargetArn: getAtt(deadLetterQueue), maxReceiveCount: 3 },
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * 900,
    });
    expect(resourceOf(deadLetterQueue).Properties).toEqual({
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
    });
    for (const q of [queue, deadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(q)],
        PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
      });
    }
  });

  it('runs the ingest function on nodejs22.x arm64 with tracing, explicit logs and its environment', () => {
    const { ingestFunction, changesTopic } = built.stack.ingestion;
    const table = built.stack.dataStore.table;
    expect(resourceOf(ingestFunction).Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 1024,
      Timeout: 900,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      Environment: {
        Variables: {
          TABLE_NAME: ref(table),
          IDEMPOTENCY_TABLE_NAME: ref(table),
          CHANGES_TOPIC_ARN: ref(changesTopic),
          SENTINEL_TIME_ZONE: 'Europe/Amsterdam',
          POWERTOOLS_SERVICE_NAME: 'ingest',
          POWERTOOLS_METRICS_NAMESPACE: 'CreditSentinel',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
    expect(resourceOf(ingestFunction).Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('bundles the handler as minified ESM with a require shim and a source map', () => {
    const code = (resourceOf(built.stack.ingestion.ingestFunction).Properties as Json).Code as Json;
    const assetDir = join(assembly.directory, `asset.${String(code.S3Key).replace(/\.zip$/, '')}`);
    const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
    expect(bundle.startsWith("import { createRequire as sentinelCreateRequire } from 'node:module';")).toBe(
      true,
    );
    expect(bundle).toContain('const require = sentinelCreateRequire(import.meta.url);');
    expect(bundle).toMatch(/export\s*\{/);
    expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
    // The map names files and lines for stack traces, without a copy of every source.
    const map = JSON.parse(readFileSync(join(assetDir, 'index.mjs.map'), 'utf8')) as {
      sources: string[];
      sourcesContent?: unknown[];
    };
    expect(map.sources.length).toBeGreaterThan(0);
    expect(map.sourcesContent ?? []).toEqual([]);
  });

  it('consumes the queue one upload at a time (each with the whole 15 minutes), reporting partial failures', () => {
    const { queue, ingestFunction } = built.stack.ingestion;
    // The alerting functions have their own queues (test/infra/alerting.test.ts); the ingest function one.
    const ingestMappings = template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { FunctionName: ref(ingestFunction) },
    });
    expect(Object.keys(ingestMappings)).toHaveLength(1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(queue),
      FunctionName: ref(ingestFunction),
      // One upload per invocation, each with the whole 15-minute budget.
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('has an encrypted, TLS-only CustomersChanged topic', () => {
    const { changesTopic } = built.stack.ingestion;
    const properties = resourceOf(changesTopic).Properties as Json;
    expect(JSON.stringify(properties.KmsMasterKeyId)).toContain('alias/aws/sns');
    expect(properties).not.toHaveProperty('TopicName');
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [ref(changesTopic)],
      PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
    });
  });

  it('outputs the bucket name, table name and topic ARN', () => {
    const outputs = template.toJSON().Outputs as Json;
    expect(outputs).toMatchObject({
      UploadBucketName: { Value: ref(built.stack.ingestion.bucket) },
      TableName: { Value: ref(built.stack.dataStore.table) },
      ChangesTopicArn: { Value: ref(built.stack.ingestion.changesTopic) },
    });
  });

  it("sets no physical names but the state machines' log groups, under /aws/vendedlogs/states/<stack>-", () => {
    const named = [
      'TableName',
      'BucketName',
      'QueueName',
      'TopicName',
      'FunctionName',
      'RoleName',
      'LogGroupName',
    ];
    // A name property may reference another resource (an event source's FunctionName: Ref) but never be a literal,
    // except where AWS asks for one: Step Functions' log groups under /aws/vendedlogs/ (the stack's
    // name in it keeps two stacks of one account apart).
    const literals = Object.entries(template.toJSON().Resources as Record<string, Json>).flatMap(
      ([id, resource]) =>
        named
          .filter((key) => typeof ((resource.Properties ?? {}) as Json)[key] === 'string')
          .map((key) => `${id}.${key}=${((resource.Properties ?? {}) as Json)[key]}`),
    );
    expect(
      literals.filter((l) => !l.includes('.LogGroupName=/aws/vendedlogs/states/CreditSentinel-')),
    ).toEqual([]);
    expect(literals).toHaveLength(3);
  });
});

describe('IAM', () => {
  it('grants the ingest function exactly its table, bucket, queue, topic and log group', () => {
    const { ingestFunction, bucket, queue, changesTopic } = built.stack.ingestion;
    const table = built.stack.dataStore.table;
    const roleId = (resourceOf(ingestFunction).Properties as Json).Role as { 'Fn::GetAtt': [string, string] };
    const statements = identityStatements()
      .filter(({ source }) => {
        const roles = ((template.toJSON().Resources[source] as Json).Properties as Json).Roles as unknown[];
        return JSON.stringify(roles) === JSON.stringify([{ Ref: roleId['Fn::GetAtt'][0] }]);
      })
      .map(({ statement }) => statement);
    const find = (action: string) => statements.find((s) => asArray(s.Action).includes(action));

    expect(find('dynamodb:PutItem')?.Resource).toEqual([
      getAtt(table),
      { 'Fn::Join': ['', [getAtt(table), '/index/*']] },
    ]);
    expect(find('dynamodb:Query')).toBe(find('dynamodb:PutItem'));
    expect(find('s3:GetObject')?.Resource).toEqual({ 'Fn::Join': ['', [getAtt(bucket), '/*']] });
    // Only the reports may be written (rejects, warnings), so the function cannot overwrite an
    // upload; and the audit anchors, for the records of a policy change it asks.
    const puts = statements.filter((s) => asArray(s.Action).includes('s3:PutObject'));
    const byText = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
    expect(puts.flatMap((s) => asArray(s.Resource)).sort(byText)).toEqual(
      [
        { 'Fn::Join': ['', [getAtt(bucket), '/*.rejects.csv']] },
        { 'Fn::Join': ['', [getAtt(bucket), '/*.warnings.csv']] },
        { 'Fn::Join': ['', [getAtt(built.stack.audit.anchorBucket), '/anchors/*']] },
      ].sort(byText),
    );
    // One statement or more: minimizePolicies (a recommended flag) merges statements of one action.
    expect(new Set(puts.flatMap((s) => asArray(s.Action)))).toEqual(new Set(['s3:PutObject']));
    // A policy uploaded under policy/ is put to the approval chain: it may start that workflow only.
    const approvals = built.stack.approvals.stateMachine;
    expect(find('states:StartExecution')?.Resource).toEqual(ref(approvals));
    const env = ((resourceOf(ingestFunction).Properties as Json).Environment as Json).Variables as Json;
    expect(env.STATE_MACHINE_ARN).toEqual(ref(approvals));
    expect(find('s3:PutObject')).not.toBe(find('s3:GetObject'));
    expect(find('sqs:DeleteMessage')?.Resource).toEqual(getAtt(queue));
    expect(find('sns:Publish')?.Resource).toEqual(ref(changesTopic));
    expect(find('logs:PutLogEvents')?.Resource).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    // Nothing broader than needed: no service wildcards, no bucket-level or delete rights.
    const actions = statements.flatMap((s) => asArray(s.Action));
    expect(actions.filter((a) => a.endsWith(':*') || a === '*')).toEqual([]);
    expect(actions.filter((a) => /^s3:(Delete|List|PutBucket|PutObjectAcl)/.test(a))).toEqual([]);
    expect(
      actions.filter((a) => a.startsWith('dynamodb:') && /Delete(Table|Backup)|CreateTable/.test(a)),
    ).toEqual([]);
  });

  it('never grants DynamoDB or S3 actions on Resource "*"', () => {
    const offending = identityStatements().filter(
      ({ statement }) =>
        asArray(statement.Action).some((a) => a.startsWith('dynamodb:') || a.startsWith('s3:')) &&
        asArray(statement.Resource).includes('*'),
    );
    expect(offending).toEqual([]);
  });

  it('uses Resource "*" only where the API has no resource-level permissions (X-Ray, log delivery, task tokens)', () => {
    const starActions = identityStatements()
      .filter(({ statement }) => asArray(statement.Resource).includes('*'))
      .flatMap(({ statement }) => asArray(statement.Action));
    expect(starActions.length).toBeGreaterThan(0);
    const allowed = (a: string) =>
      a.startsWith('xray:') ||
      a === 'states:SendTaskSuccess' ||
      a === 'states:SendTaskFailure' ||
      // Step Functions' CloudWatch Logs delivery (vended logs), as CDK grants it.
      (a.startsWith('logs:') && /Deliver|ResourcePolic|DescribeLogGroups/.test(a));
    expect(starActions.filter((a) => !allowed(a))).toEqual([]);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('leaves no unacknowledged error or warning on the real app', () => {
    expect(findingsOf(new AwsSolutionsChecks(), built.app)).toEqual([]);
    // The plugin registered by buildApp ran during synthesis and reported nothing either.
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
    const nag = (report.pluginReports as Json[]).filter((r) => JSON.stringify(r).includes('AwsSolutions'));
    expect(nag.flatMap((r) => (r.violations ?? []) as unknown[])).toEqual([]);
  });

  it('gives every acknowledgement a real reason', () => {
    const acks = acknowledgements(built.app);
    // CDK itself acknowledges some of its built-in template checks; those need a reason too.
    for (const ack of acks) expect(ack.reason.trim(), `${ack.path} ${ack.id}`).not.toBe('');
    const ours = acks.filter((ack) => ack.id.startsWith('AwsSolutions-'));
    expect(ours.length).toBeGreaterThan(0);
    for (const ack of ours) {
      expect(ack.id, ack.path).toMatch(/^AwsSolutions-[A-Z0-9]+(\[.+\])?$/);
      expect(ack.reason.trim().length, `${ack.path} ${ack.id}`).toBeGreaterThanOrEqual(40);
    }
  });

  it('has no stale acknowledgement: each one covers a finding that would otherwise fail', () => {
    const raw = new AwsSolutionsChecks();
    // Private hook of cdk-nag 3.0.x: report findings as if nothing were acknowledged.
    Object.defineProperty(raw, 'isAcknowledged', { value: () => false });
    const findings = findingsOf(raw, built.app);
    expect(findings.length).toBeGreaterThan(0);
    for (const ack of acknowledgements(built.app).filter((a) => a.id.startsWith('AwsSolutions-'))) {
      const covered = findings.filter((f) => f.rule === ack.id && `${f.path}/`.startsWith(`${ack.path}/`));
      expect(covered, `${ack.path} ${ack.id}`).not.toEqual([]);
    }
  });

  describe('sanity: a violating construct in a throwaway stack is reported', () => {
    const throwaway = (acknowledge: boolean) => {
      const app = new App();
      const bucket = new Bucket(new Stack(app, 'Throwaway'), 'Bare');
      if (acknowledge) {
        Validations.of(bucket).acknowledge(
          {
            id: 'AwsSolutions-S1',
            reason: 'Throwaway bucket in a test: checks that acknowledgements suppress.',
          },
          {
            id: 'AwsSolutions-S10',
            reason: 'Throwaway bucket in a test: checks that acknowledgements suppress.',
          },
        );
      }
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      return app;
    };

    it('finds S1 and S10 on a bare bucket', () => {
      const rules = findingsOf(new AwsSolutionsChecks(), throwaway(false)).map((f) => f.rule);
      expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
    });

    it('fails synthesis through the registered plugin', () => {
      let message = '';
      try {
        throwaway(false).synth();
      } catch (error) {
        message = String(error);
      }
      expect(message).toMatch(/ValidationFailed/);
      const reportPath = /(\S+validation-report\.json)/.exec(message)?.[1];
      const text = reportPath ? readFileSync(reportPath, 'utf8') : message;
      expect(text).toContain('AwsSolutions-S10');
    });

    it('is silenced by acknowledgements with the same ids', () => {
      const app = throwaway(true);
      expect(findingsOf(new AwsSolutionsChecks(), app)).toEqual([]);
      expect(() => app.synth()).not.toThrow();
    });
  });
});

describe('Regions', () => {
  it('refuses, before creating anything, a Region without Lambda function URLs (a template rule)', () => {
    const rule = (template.toJSON().Rules as Json).FunctionUrlRegion as {
      Assertions: { Assert: Json; AssertDescription: string }[];
    };
    const [assertion] = rule.Assertions;
    expect(assertion?.Assert).toEqual({
      'Fn::Not': [{ 'Fn::Contains': [[...REGIONS_WITHOUT_FUNCTION_URLS], { Ref: 'AWS::Region' }] }],
    });
    expect(assertion?.AssertDescription).toMatch(/^Lambda function URLs .* do not exist in this Region\./);
    // The list is the Regions cfn-lint's specs lack AWS::Lambda::Url in (E3006), e.g. Zurich.
    expect(REGIONS_WITHOUT_FUNCTION_URLS).toContain('eu-central-2');
    expect(REGIONS_WITHOUT_FUNCTION_URLS).not.toContain('eu-central-1');
  });

  it('refuses such a Region at synth when the stack names its Region, saying which have none', () => {
    expect(
      () => new CreditSentinelStack(new App(), 'Zurich', { env: { region: 'eu-central-2' }, demo: true }),
    ).toThrow(
      /Lambda function URLs \(the approval pages and the transfers API\) do not exist in eu-central-2\. Deploy to a Region that has them; these do not: ap-east-2, .*us-gov-west-1\./,
    );
    // A Region with them synthesizes.
    expect(
      () => new CreditSentinelStack(new App(), 'Frankfurt', { env: { region: 'eu-central-1' }, demo: true }),
    ).not.toThrow();
  });
});

describe('state machine tasks', () => {
  /** The Lambda errors AWS documents as transient, to be retried on every lambda:invoke task. */
  const TRANSIENT = [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.TooManyRequestsException',
  ];
  type State = {
    Type: string;
    Resource?: string;
    Retry?: { ErrorEquals: string[] }[];
    ItemProcessor?: { States: Record<string, State> };
  };
  const tasks = (states: Record<string, State>): [string, State][] =>
    Object.entries(states).flatMap(([name, s]) => [
      ...(s.Type === 'Task' ? [[name, s] as [string, State]] : []),
      ...(s.ItemProcessor ? tasks(s.ItemProcessor.States) : []),
    ]);

  it.each(['transfer-approval', 'periodic-review'])(
    '%s: every Lambda task retries the transient Lambda errors, ClientExecutionTimeoutException too',
    (name) => {
      const machine =
        name === 'transfer-approval' ? built.stack.approvals.stateMachine : built.stack.reviews.stateMachine;
      const def = JSON.parse((resourceOf(machine).Properties as Json).DefinitionString as string) as {
        States: Record<string, State>;
      };
      const found = tasks(def.States).filter(([, s]) =>
        s.Resource?.startsWith('arn:aws:states:::lambda:invoke'),
      );
      expect(found.length).toBeGreaterThan(0);
      for (const [task, s] of found) {
        const retried = new Set((s.Retry ?? []).flatMap((r) => r.ErrorEquals));
        expect(
          TRANSIENT.filter((e) => !retried.has(e)),
          `${name} ${task}`,
        ).toEqual([]);
      }
    },
  );
});
