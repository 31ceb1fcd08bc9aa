import { readFileSync } from 'node:fs';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type SentinelApp } from '../../infra/build-app.ts';
import {
  Approvals,
  isExampleAddress,
  TRANSFER_ASL_FILE,
  WEB_TABLE_ACTIONS,
} from '../../infra/constructs/approvals.ts';
import { CreditSentinelStack } from '../../infra/stack.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT } from '../../policies/index.ts';
import { asArray, type Json, templateReader } from './template.ts';

// The real app, bundling skipped (test/infra/stack.test.ts bundles every function).
let built: SentinelApp;
let template: Template;
beforeAll(() => {
  built = buildApp({ context: { demo: 'true', 'aws:cdk:bundling-stacks': [] } });
  built.app.synth();
  template = Template.fromStack(built.stack);
});

const { logicalId, propsOf, statementsOfRole, roleOf } = templateReader(
  () => built.stack,
  () => template,
);

describe('transfer approval state machine', () => {
  it('deploys the ASL file itself, with the steps function substituted', () => {
    const { stateMachine, stepsFunction } = built.stack.approvals;
    const p = propsOf(stateMachine);
    expect(p.DefinitionString).toBe(readFileSync(TRANSFER_ASL_FILE, 'utf8'));
    expect(p.DefinitionSubstitutions).toEqual({
      TransferStepsFunction: { 'Fn::GetAtt': [logicalId(stepsFunction), 'Arn'] },
    });
    expect(p.TracingConfiguration).toEqual({ Enabled: true });
    // Task tokens are execution data: the logs keep the events only.
    expect(p.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
  });

  it("ends an execution nobody finishes after 30 days, longer than the shipped policy's longest wait, and logs under /aws/vendedlogs/", () => {
    const { stateMachine } = built.stack.approvals;
    const def = JSON.parse(propsOf(stateMachine).DefinitionString as string) as { TimeoutSeconds?: number };
    // In the definition itself: CDK's `timeout` is lost on a definition given as a string.
    expect(def.TimeoutSeconds).toBe(30 * 86_400);
    const doc = DEFAULT_APPROVAL_POLICY_DOCUMENT as {
      levels: unknown[];
      reminders: { everySeconds: number; max: number };
    };
    const longest = doc.levels.length * (doc.reminders.max + 1) * doc.reminders.everySeconds;
    expect(longest).toBeLessThan(def.TimeoutSeconds as number);
    const dest = (propsOf(stateMachine).LoggingConfiguration as Json).Destinations as Json[];
    const groupId = JSON.stringify(dest).match(/"Fn::GetAtt":\["([^"]+)","Arn"\]/)?.[1] as string;
    const group = template.toJSON().Resources[groupId] as { Type: string; Properties: Json };
    expect(group.Type).toBe('AWS::Logs::LogGroup');
    expect(group.Properties.LogGroupName).toBe('/aws/vendedlogs/states/CreditSentinel-transfer-approval');
  });

  it('lets the state machine invoke the steps function and nothing else', () => {
    const { stateMachine, stepsFunction } = built.stack.approvals;
    const roleId = logicalId(stateMachine.role);
    const invoke = statementsOfRole(roleId).filter((s) =>
      asArray(s.Action).includes('lambda:InvokeFunction'),
    );
    expect(invoke).toHaveLength(1);
    const resources = JSON.stringify(invoke[0]?.Resource);
    expect(resources).toContain(logicalId(stepsFunction));
    expect(resources).not.toContain('"*"');
  });
});

describe('function URLs and grants', () => {
  it('serves the approval pages without AWS auth and the transfers API with IAM auth', () => {
    const urls = Object.values(template.findResources('AWS::Lambda::Url')).map(
      (r) => (r as { Properties: Json }).Properties,
    );
    const { webFunction, apiFunction } = built.stack.approvals;
    const auth = (fn: IConstruct) =>
      urls.find((u) => JSON.stringify(u.TargetFunctionArn).includes(logicalId(fn)))?.AuthType;
    expect(auth(webFunction)).toBe('NONE');
    expect(auth(apiFunction)).toBe('AWS_IAM');
    // The third: the customer portal, also without AWS auth (its signed link is the credential).
    expect(auth(built.stack.portal.fn)).toBe('NONE');
    // The fourth: credit checks, with IAM auth as the transfers API.
    expect(auth(built.stack.checks.fn)).toBe('AWS_IAM');
    expect(urls).toHaveLength(4);
  });

  it('starts executions only from the API function, on this state machine', () => {
    const { stateMachine, apiFunction, webFunction, stepsFunction } = built.stack.approvals;
    const starts = (fn: IConstruct) =>
      statementsOfRole(roleOf(fn)).filter((s) => asArray(s.Action).includes('states:StartExecution'));
    expect(starts(apiFunction).map((s) => s.Resource)).toEqual([{ Ref: logicalId(stateMachine) }]);
    expect(starts(webFunction)).toEqual([]);
    expect(starts(stepsFunction)).toEqual([]);
  });

  it('lets only the web function read the Slack signing secret and send to the decision queue', () => {
    const { slackSigningSecret, slackDecisionQueue, webFunction, stepsFunction, apiFunction } =
      built.stack.approvals;
    const reads = (fn: IConstruct, what: IConstruct) =>
      statementsOfRole(roleOf(fn)).some((s) => JSON.stringify(s.Resource).includes(logicalId(what)));
    expect(reads(webFunction, slackSigningSecret)).toBe(true);
    expect(reads(stepsFunction, slackSigningSecret)).toBe(false);
    expect(reads(apiFunction, slackSigningSecret)).toBe(false);
    expect(reads(webFunction, slackDecisionQueue)).toBe(true);
    expect(reads(apiFunction, slackDecisionQueue)).toBe(false);
  });

  it('publishes "customers changed" (an approved or paid transfer changes the exposure) from the steps and API functions only', () => {
    const { stepsFunction, apiFunction, webFunction, slackDecisionFunction } = built.stack.approvals;
    const topic = built.stack.ingestion.changesTopic;
    const publishes = (fn: IConstruct) =>
      statementsOfRole(roleOf(fn))
        .filter((s) => asArray(s.Action).includes('sns:Publish'))
        // minimizePolicies (a recommended flag) may merge it with another topic's publish.
        .some((s) =>
          asArray(s.Resource).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: logicalId(topic) })),
        );
    expect(publishes(stepsFunction)).toBe(true);
    expect(publishes(apiFunction)).toBe(true);
    expect(publishes(webFunction)).toBe(false);
    expect(publishes(slackDecisionFunction)).toBe(false);
    const env = (fn: IConstruct) =>
      (propsOf(fn).Environment as { Variables: Json }).Variables.CHANGES_TOPIC_ARN;
    expect(env(stepsFunction)).toEqual({ Ref: logicalId(topic) });
    expect(env(apiFunction)).toEqual({ Ref: logicalId(topic) });
  });

  it('lets the transfers API file and list credit applications: items by key and gsi1 (APPLICATIONS) of this table, and the audit trail', () => {
    const { apiFunction } = built.stack.approvals;
    const tableId = logicalId(built.stack.dataStore.table);
    const statements = statementsOfRole(roleOf(apiFunction));
    const on = (resource: unknown) =>
      statements
        .filter((s) => asArray(s.Resource).some((r) => JSON.stringify(r) === JSON.stringify(resource)))
        .flatMap((s) => asArray(s.Action));
    const table = { 'Fn::GetAtt': [tableId, 'Arn'] };
    const index = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/*']] };
    // fileNew and update are conditional PutItems; current, byId and profile GetItems; list a Query of gsi1.
    expect(on(table)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem']));
    expect(on(index)).toContain('dynamodb:Query');
    // No other table: only this one and its indexes.
    const tables = statements
      .filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')))
      .flatMap((s) => asArray(s.Resource))
      .map((r) => JSON.stringify(r));
    for (const r of tables) expect(r).toContain(tableId);
    // The application's filing is on the audit trail: the stack's AuditTrail.grantAppend.
    expect(JSON.stringify(statements)).toContain(logicalId(built.stack.audit.keySecret));
  });

  it('keeps the link key a generated secret, readable by the transfer functions', () => {
    const { linkKey } = built.stack.approvals;
    expect(propsOf(linkKey).GenerateSecretString).toMatchObject({
      GenerateStringKey: 'secret',
      PasswordLength: 64,
      SecretStringTemplate: '{"id":"k1"}',
    });
    expect(propsOf(linkKey)).not.toHaveProperty('SecretString');
  });
});

describe('the public approval pages function', () => {
  const webStatements = () => statementsOfRole(roleOf(built.stack.approvals.webFunction));
  const onTable = () => {
    const tableArn = { 'Fn::GetAtt': [logicalId(built.stack.dataStore.table), 'Arn'] };
    return webStatements().filter((s) => JSON.stringify(s.Resource).includes(JSON.stringify(tableArn)));
  };

  it('may call on the table exactly the actions its paths use, on the table alone', () => {
    const table = onTable();
    expect(table).toHaveLength(1);
    expect(asArray(table[0]?.Action).sort()).toEqual(
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'].sort(),
    );
    expect([...WEB_TABLE_ACTIONS].sort()).toEqual(asArray(table[0]?.Action).sort());
    // No index: none of the web paths queries gsi1.
    expect(table[0]?.Resource).toEqual({ 'Fn::GetAtt': [logicalId(built.stack.dataStore.table), 'Arn'] });
    const all = webStatements().flatMap((s) => asArray(s.Action));
    for (const never of [
      'dynamodb:Scan',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchGetItem',
      'dynamodb:*',
    ])
      expect(all).not.toContain(never);
    expect(all.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([...WEB_TABLE_ACTIONS].sort());
    expect(JSON.stringify(webStatements())).not.toContain('/index/');
  });

  it('reads only the link key, the Slack signing secret and the audit key, and only their values', () => {
    const { linkKey, slackSigningSecret, webFunction } = built.stack.approvals;
    const secretStatements = statementsOfRole(roleOf(webFunction)).filter((s) =>
      asArray(s.Action).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(
      secretStatements.flatMap((s) => asArray(s.Action)).every((a) => a === 'secretsmanager:GetSecretValue'),
    ).toBe(true);
    const secrets = secretStatements.flatMap((s) => asArray(s.Resource as unknown));
    expect(secrets).toHaveLength(3);
    expect(secrets).toEqual(
      expect.arrayContaining([
        { Ref: logicalId(linkKey) },
        { Ref: logicalId(slackSigningSecret) },
        { Ref: logicalId(built.stack.audit.keySecret) },
      ]),
    );
    // The Slack webhook secret is the steps function's alone.
    expect(JSON.stringify(secretStatements)).not.toContain(
      logicalId(built.stack.alerting.slackWebhookSecret),
    );
  });

  it('answers task tokens and sends to the Slack decision queue, and may do nothing else beyond its logs, traces and the audit anchors', () => {
    const actions = webStatements()
      .flatMap((s) => asArray(s.Action))
      .filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('secretsmanager:'))
      .sort();
    expect([...new Set(actions)]).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:PutObject',
        'sqs:SendMessage',
        'states:SendTaskFailure',
        'states:SendTaskSuccess',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });

  it("reserves none in the deployed stack unless -c webReservedConcurrency (a new account's quota of 10 cannot)", () => {
    const { webFunction, apiFunction } = built.stack.approvals;
    expect(propsOf(webFunction)).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(propsOf(apiFunction)).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('the construct reserves none by default, its prop when given, and refuses one below 1', () => {
    // The construct alone in a bare stack, beside the three resources it is given.
    const synth = (webReservedConcurrency?: number) => {
      const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Reserved');
      return new Approvals(stack, 'Approvals', {
        table: new Table(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } }),
        slackWebhookSecret: new Secret(stack, 'Webhook'),
        changesTopic: new Topic(stack, 'Changes'),
        ...(webReservedConcurrency === undefined ? {} : { webReservedConcurrency }),
        demo: true,
      });
    };
    const reservedOf = (a: Approvals) =>
      (
        Template.fromStack(Stack.of(a)).toJSON().Resources[
          Stack.of(a).getLogicalId(a.webFunction.node.defaultChild as CfnResource)
        ] as { Properties: Json }
      ).Properties.ReservedConcurrentExecutions;
    expect(reservedOf(synth())).toBeUndefined();
    expect(reservedOf(synth(50))).toBe(50);
    expect(() => synth(0)).toThrow(/webReservedConcurrency must be a whole number of at least 1, not 0/);
  });
});

/** The shipped policy with its people at real-looking addresses (a company's own). */
function realPolicy(): { people: Record<string, { email: string }> } {
  const doc = structuredClone(DEFAULT_APPROVAL_POLICY_DOCUMENT) as {
    people: Record<string, { email: string }>;
  };
  for (const p of Object.values(doc.people)) p.email = p.email.replace('@example.com', '@harbourfoods.co.uk');
  return doc;
}

const approvalSubscriptions = (b: SentinelApp) => {
  const t = Template.fromStack(b.stack);
  const topic = b.stack.getLogicalId(
    (b.stack.approvals.approvalsTopic as Topic).node.defaultChild as CfnResource,
  );
  return Object.values(t.findResources('AWS::SNS::Subscription'))
    .map((r) => (r as { Properties: Json }).Properties)
    .filter((p) => JSON.stringify(p.TopicArn) === JSON.stringify({ Ref: topic }));
};

describe('approval emails', () => {
  it('subscribes each person of the policy to the approvals topic, filtered on their own id', () => {
    const doc = realPolicy();
    const b = buildApp({ context: { approvalPolicy: JSON.stringify(doc), 'aws:cdk:bundling-stacks': [] } });
    expect(
      approvalSubscriptions(b)
        .map((s) => [s.Endpoint, s.FilterPolicy])
        .sort(),
    ).toEqual(
      Object.entries(doc.people)
        .map(([id, p]) => [p.email, { recipient: [id] }])
        .sort(),
    );
  });

  it('refuses at synth a given policy whose people have example addresses, saying what to pass', () => {
    expect(() => buildApp({ context: { demo: 'false', 'aws:cdk:bundling-stacks': [] } })).toThrow(
      /approvalPolicy: 7 of its people have example addresses \(carla <carla@example\.com>, .*\), which nobody can confirm: every transfer would expire unanswered\. Pass your own approval policy, .*-c approvalPolicy=approvals\.json.*, or -c demo=true/,
    );
    // The same from a file copied without changing the addresses.
    expect(() =>
      buildApp({ context: { approvalPolicy: 'policies/approvals.json', 'aws:cdk:bundling-stacks': [] } }),
    ).toThrow(/example addresses/);
  });

  it('-c demo=true deploys the example chain and subscribes none of its example addresses', () => {
    expect(approvalSubscriptions(built)).toEqual([]);
    expect(built.stack.approvals.policy.people.carla?.email).toBe('carla@example.com');
  });

  it('a plain synth (no policy given) is a demo: it works offline and warns that nobody is emailed', () => {
    const plain = buildApp({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(approvalSubscriptions(plain)).toEqual([]);
    const warnings = Annotations.fromStack(plain.stack).findWarning(
      '*',
      Match.stringLikeRegexp('example one'),
    );
    expect(warnings.map((w) => String(w.entry.data))).toEqual([
      expect.stringMatching(
        /^The approval policy is the example one: its 7 people's example addresses are not subscribed, so nobody is emailed and every transfer expires unanswered\. Deploy with -c approvalPolicy=approvals\.json/,
      ),
    ]);
  });

  it('knows an example address when it sees one', () => {
    for (const a of ['a@example.com', 'b@mail.example.org', 'c@corp.test', 'd@x.invalid', 'e@host.example'])
      expect(isExampleAddress(a), a).toBe(true);
    for (const a of ['a@harbourfoods.co.uk', 'b@example-bank.com', 'c@examples.com', 'd@test.com'])
      expect(isExampleAddress(a), a).toBe(false);
  });

  it('refuses an invalid approval policy at synth, naming the field', () => {
    const doc = structuredClone(DEFAULT_APPROVAL_POLICY_DOCUMENT) as { levels: { approvers: string[] }[] };
    (doc.levels[0] as { approvers: string[] }).approvers = ['nobody'];
    expect(
      () =>
        new CreditSentinelStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bad', {
          approvalPolicy: doc,
          demo: true,
        }),
    ).toThrow(/approvalPolicy is invalid: levels\.0\.approvers\.0: "nobody" is not in people/);
  });
});

describe('-c approvalPolicy', () => {
  it('reads a policy file or JSON text, and refuses an unreadable one naming it', () => {
    const fromFile = buildApp({
      context: { demo: 'true', approvalPolicy: 'policies/approvals.json', 'aws:cdk:bundling-stacks': [] },
    });
    expect(fromFile.stack.approvals.policy.version).toBe('approvals-2026.11');
    const doc = structuredClone(DEFAULT_APPROVAL_POLICY_DOCUMENT) as { version: string };
    doc.version = 'from-text';
    const fromText = buildApp({
      context: { demo: 'true', approvalPolicy: JSON.stringify(doc), 'aws:cdk:bundling-stacks': [] },
    });
    expect(fromText.stack.approvals.policy.version).toBe('from-text');
    expect(() =>
      buildApp({
        context: { demo: 'true', approvalPolicy: 'no/such/file.json', 'aws:cdk:bundling-stacks': [] },
      }),
    ).toThrow(/cannot read no\/such\/file\.json[\s\S]*approvalPolicy/);
  });
});
