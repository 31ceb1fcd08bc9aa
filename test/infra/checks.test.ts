import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type SentinelApp } from '../../infra/build-app.ts';
import { asArray, templateReader } from './template.ts';

/**
 * Credit checks on AWS (README "Credit checks"): a function URL with IAM auth running the checks
 * handler, item actions on the table only, the audit trail's key and anchors. cdk-nag and
 * cfn-lint run over the whole stack in their own tests.
 */
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

describe('credit checks', () => {
  it('is a function URL with IAM auth, running the checks handler', () => {
    const { fn } = built.stack.checks;
    const urls = Object.values(template.findResources('AWS::Lambda::Url')).map(
      (r) => (r as { Properties: Record<string, unknown> }).Properties,
    );
    const mine = urls.filter((u) => JSON.stringify(u.TargetFunctionArn).includes(logicalId(fn)));
    expect(mine.map((u) => u.AuthType)).toEqual(['AWS_IAM']);
    const env = (propsOf(fn).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.TABLE_NAME).toEqual({ Ref: logicalId(built.stack.dataStore.table) });
    // It logs its decisions in the customers' partitions: the trail's key is the chainer's alone.
    expect(env.AUDIT_KEY_SECRET_ARN).toBeUndefined();
  });

  it('may use the table items (no index, no scan, no delete) and its logs: nothing else', () => {
    const statements = statementsOfRole(roleOf(built.stack.checks.fn));
    const table = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(table).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'dynamodb:BatchGetItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        Resource: { 'Fn::GetAtt': [logicalId(built.stack.dataStore.table), 'Arn'] },
      },
    ]);
    const other = statements
      .flatMap((s) => asArray(s.Action))
      .filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('xray:'));
    expect([...new Set(other)].sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  it("chains the logged decisions every minute, one run at a time, with the trail's key and anchors", () => {
    const { chainFunction } = built.stack.checks;
    expect(propsOf(chainFunction).ReservedConcurrentExecutions).toBe(1);
    const env = (propsOf(chainFunction).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.AUDIT_KEY_SECRET_ARN).toEqual({ Ref: logicalId(built.stack.audit.keySecret) });
    expect(env.AUDIT_ANCHOR_BUCKET).toBeDefined();
    const schedule = propsOf(built.stack.checks.chainSchedule);
    expect(schedule.ScheduleExpression).toBe('rate(1 minute)');
    expect(JSON.stringify((schedule.Target as { Arn: unknown }).Arn)).toContain(logicalId(chainFunction));
    const statements = statementsOfRole(roleOf(chainFunction));
    const table = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(table).toHaveLength(1);
    expect(asArray(table[0]?.Action).sort()).toEqual([
      // BatchGetItem: the hold queue's re-check reads each order's fixed items (below).
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(JSON.stringify(table[0]?.Resource)).toContain('/index/gsi1');
  });

  it('checks the hold queue again every 15 minutes: the chain function with {type: checks.recheck}', () => {
    const { chainFunction } = built.stack.checks;
    const schedule = propsOf(built.stack.checks.recheckSchedule);
    expect(schedule.ScheduleExpression).toBe('rate(15 minutes)');
    const target = schedule.Target as { Arn: unknown; Input: string; RetryPolicy: Record<string, unknown> };
    expect(JSON.stringify(target.Arn)).toContain(logicalId(chainFunction));
    expect(JSON.parse(target.Input)).toEqual({ type: 'checks.recheck' });
    expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 });
    const env = (propsOf(chainFunction).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.SENTINEL_TIME_ZONE).toBeDefined();
    // The same table grant as the chain: the queue by the index, the checks' items; no scan, no delete.
    const actions = statementsOfRole(roleOf(chainFunction)).flatMap((s) => asArray(s.Action));
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
  });

  it('tells ops when decisions wait more than 15 minutes for the trail', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((r) => (r as { Properties: Record<string, unknown> }).Properties)
      .filter((p) => p.MetricName === 'CheckLogLagSeconds');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: logicalId(built.stack.observability.opsTopic) }],
      OKActions: [{ Ref: logicalId(built.stack.observability.opsTopic) }],
    });
  });

  it('with -c checksProvisionedConcurrency=N keeps N instances warm behind the URL, and refuses nonsense', () => {
    const warm = buildApp({
      context: { demo: 'true', 'aws:cdk:bundling-stacks': [], checksProvisionedConcurrency: '4' },
    });
    const t = Template.fromStack(warm.stack);
    t.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 4 },
    });
    const fnId = warm.stack.getLogicalId(warm.stack.checks.fn.node.defaultChild as CfnElement);
    const urls = Object.values(t.findResources('AWS::Lambda::Url'))
      .map((r) => (r as { Properties: Record<string, unknown> }).Properties)
      .filter((u) => JSON.stringify(u.TargetFunctionArn).includes(fnId));
    // The URL invokes the alias (its qualifier), whose instances are kept initialised.
    expect(urls.map((u) => [u.AuthType, u.Qualifier])).toEqual([['AWS_IAM', 'live']]);
    expect(propsOf(built.stack.checks.fn).MemorySize).toBe(1024);
    expect(built.stack.checks.alias).toBeUndefined();
    expect(() =>
      buildApp({
        context: { demo: 'true', 'aws:cdk:bundling-stacks': [], checksProvisionedConcurrency: '0' },
      }),
    ).toThrow(/checksProvisionedConcurrency/);
  });
});
