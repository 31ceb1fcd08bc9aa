import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type SentinelApp } from '../../infra/build-app.ts';
import { SNS_EMAIL_LOSSES } from '../../infra/constructs/approvals.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT } from '../../policies/index.ts';
import { asArray, type Json, type Statement, templateReader } from './template.ts';

// Approval emails through SES (-c approvalEmailFrom) or, without it, SNS email with a warning
// saying what that loses: the real app in both modes, synthesized (cdk-nag runs in the synth).

const FROM = 'credit@harbourfoods.co.uk';
const WARNING_ID = '@credit-sentinel/approval-email-sns';

/** The shipped policy with its people at real-looking addresses (a company's own). */
function realPolicy(): { people: Record<string, { email: string }> } {
  const doc = structuredClone(DEFAULT_APPROVAL_POLICY_DOCUMENT) as {
    people: Record<string, { email: string }>;
  };
  for (const p of Object.values(doc.people)) p.email = p.email.replace('@example.com', '@harbourfoods.co.uk');
  return doc;
}
const policy = realPolicy();
const build = (context: Record<string, unknown>): SentinelApp =>
  buildApp({
    context: { approvalPolicy: JSON.stringify(policy), 'aws:cdk:bundling-stacks': [], ...context },
  });

let ses: SentinelApp;
let sesTemplate: Template;
let sns: SentinelApp;
let snsTemplate: Template;
beforeAll(() => {
  ses = build({ approvalEmailFrom: FROM, sesConfigurationSet: 'approvals' });
  ses.app.synth();
  sesTemplate = Template.fromStack(ses.stack);
  sns = build({});
  sns.app.synth();
  snsTemplate = Template.fromStack(sns.stack);
}, 240_000);

const readers = (b: () => SentinelApp, t: () => Template) =>
  templateReader(
    () => b().stack,
    () => t(),
  );
const sesReader = readers(
  () => ses,
  () => sesTemplate,
);
const snsReader = readers(
  () => sns,
  () => snsTemplate,
);

/** Every statement of every role in the template that allows an `ses:` action. */
const sesStatements = (t: Template): Statement[] =>
  Object.values(t.findResources('AWS::IAM::Policy'))
    .flatMap(
      (r) => ((r as { Properties: Json }).Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    )
    .filter((s) => asArray(s.Action).some((a) => a.toLowerCase().startsWith('ses:')));

/** A Region- and account-specific SES ARN as CloudFormation builds it. */
const sesArn = (resource: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':ses:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:${resource}`,
    ],
  ],
});

const emailSubscriptions = (t: Template) =>
  Object.values(t.findResources('AWS::SNS::Subscription'))
    .map((r) => (r as { Properties: Json }).Properties)
    .filter((p) => p.Protocol === 'email');

const warnings = (b: SentinelApp) =>
  Annotations.fromStack(b.stack)
    .findWarning('*', Match.stringLikeRegexp('Approval emails go through SNS'))
    .map((w) => String(w.entry.data));

describe('-c approvalEmailFrom: approval emails through SES', () => {
  it('lets the steps function send from that address only: its identity or its domain, and the configuration set', () => {
    const { stepsFunction } = ses.stack.approvals;
    const steps = sesReader
      .statementsOfRole(sesReader.roleOf(stepsFunction))
      .filter((s) => asArray(s.Action).some((a) => a.startsWith('ses:')));
    // The resources in any order: minimizePolicies (a recommended flag) sorts them.
    expect(steps).toEqual([
      {
        Effect: 'Allow',
        Action: 'ses:SendEmail',
        Resource: expect.arrayContaining([
          sesArn(`identity/${FROM}`),
          sesArn('identity/harbourfoods.co.uk'),
          sesArn('configuration-set/approvals'),
        ]),
        Condition: { StringEquals: { 'ses:FromAddress': FROM } },
      },
    ]);
    expect(asArray(steps[0]?.Resource)).toHaveLength(3);
    // No other role in the stack may send email but the collections function, from the same
    // address under the same statement (test/infra/evaluation.test.ts).
    expect(sesStatements(sesTemplate)).toEqual([...steps, ...steps]);
  });

  it('tells the steps function the sender and the configuration set, and no topic', () => {
    const vars = (fn: IConstruct) => (sesReader.propsOf(fn).Environment as { Variables: Json }).Variables;
    const steps = vars(ses.stack.approvals.stepsFunction);
    expect(steps.APPROVAL_EMAIL_FROM).toBe(FROM);
    expect(steps.SES_CONFIGURATION_SET).toBe('approvals');
    expect(steps).not.toHaveProperty('APPROVALS_TOPIC_ARN');
    for (const fn of [ses.stack.approvals.apiFunction, ses.stack.approvals.webFunction])
      expect(vars(fn)).not.toHaveProperty('APPROVAL_EMAIL_FROM');
  });

  it('makes no approvals topic and no per-person email subscription (nothing to confirm, no unsubscribe link)', () => {
    expect(ses.stack.approvals.approvalsTopic).toBeUndefined();
    const people = new Set(Object.values(policy.people).map((p) => p.email));
    expect(emailSubscriptions(sesTemplate).filter((s) => people.has(s.Endpoint as string))).toEqual([]);
    // The same policy through SNS subscribes each of them.
    expect(
      emailSubscriptions(snsTemplate)
        .map((s) => s.Endpoint)
        .sort(),
    ).toEqual([...people].sort());
    // The steps function publishes to "customers changed" alone.
    const publishes = sesReader
      .statementsOfRole(sesReader.roleOf(ses.stack.approvals.stepsFunction))
      .filter((s) => asArray(s.Action).includes('sns:Publish'))
      .map((s) => s.Resource);
    expect(publishes).toEqual([{ Ref: sesReader.logicalId(ses.stack.ingestion.changesTopic) }]);
  });

  it('does not warn about SNS email', () => {
    expect(warnings(ses)).toEqual([]);
  });

  it('leaves out the configuration set when none is named', () => {
    const plain = build({ approvalEmailFrom: FROM });
    const t = Template.fromStack(plain.stack);
    // The approvals' steps function and the collections function.
    expect(sesStatements(t).map((s) => s.Resource)).toEqual([
      [sesArn(`identity/${FROM}`), sesArn('identity/harbourfoods.co.uk')],
      [sesArn(`identity/${FROM}`), sesArn('identity/harbourfoods.co.uk')],
    ]);
    const vars = (
      t.toJSON().Resources[
        plain.stack.getLogicalId(plain.stack.approvals.stepsFunction.node.defaultChild as never)
      ] as {
        Properties: { Environment: { Variables: Json } };
      }
    ).Properties.Environment.Variables;
    expect(vars).not.toHaveProperty('SES_CONFIGURATION_SET');
  });

  it('refuses a configuration set without a sender, a bad set name and a bad address at synth', () => {
    expect(() => build({ sesConfigurationSet: 'approvals' })).toThrow(
      /sesConfigurationSet applies to SES only: pass -c approvalEmailFrom=/,
    );
    expect(() => build({ approvalEmailFrom: FROM, sesConfigurationSet: 'no spaces' })).toThrow(
      /must be an SES configuration set name[\s\S]*at sesConfigurationSet/,
    );
    expect(() => build({ approvalEmailFrom: 'credit at harbourfoods' })).toThrow(/approvalEmailFrom/);
  });
});

describe('without it: SNS email, and a warning saying what that loses', () => {
  it('warns once, with its id, naming each loss and what to pass', () => {
    const w = warnings(sns);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain(SNS_EMAIL_LOSSES);
    expect(w[0]).toContain(`[ack: ${WARNING_ID}]`);
    for (const loss of [
      /text only, without the HTML email and its evidence tables/,
      /"AWS Notifications"/,
      /unsubscribe link that a mail scanner following links can open, which silently unsubscribes the approver/,
      /each approver must first confirm a subscription/,
      /-c approvalEmailFrom=/,
    ])
      expect(w[0]).toMatch(loss);
  });

  it('publishes to the approvals topic from the steps function, which may not use SES', () => {
    const { stepsFunction, approvalsTopic } = sns.stack.approvals;
    const vars = (snsReader.propsOf(stepsFunction).Environment as { Variables: Json }).Variables;
    expect(vars.APPROVALS_TOPIC_ARN).toEqual({ Ref: snsReader.logicalId(approvalsTopic as IConstruct) });
    expect(vars).not.toHaveProperty('APPROVAL_EMAIL_FROM');
    expect(sesStatements(snsTemplate)).toEqual([]);
  });
});
