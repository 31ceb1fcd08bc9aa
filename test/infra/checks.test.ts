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
    expect(env.AUDIT_KEY_SECRET_ARN).toEqual({ Ref: logicalId(built.stack.audit.keySecret) });
  });

  it('may use the table items (no index, no scan, no delete), the audit key and anchors, its logs: nothing else', () => {
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
    const secrets = statements
      .filter((s) => asArray(s.Action).includes('secretsmanager:GetSecretValue'))
      .flatMap((s) => asArray(s.Resource));
    expect(secrets).toEqual([{ Ref: logicalId(built.stack.audit.keySecret) }]);
    const other = statements
      .flatMap((s) => asArray(s.Action))
      .filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('xray:'));
    expect([...new Set(other)].sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:PutObject',
      'secretsmanager:GetSecretValue',
    ]);
  });
});
