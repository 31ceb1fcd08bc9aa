import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type SentinelApp } from '../../infra/build-app.ts';
import { WEB_TABLE_ACTIONS } from '../../infra/constructs/approvals.ts';
import { asArray, templateReader } from './template.ts';

/**
 * The customer portal on AWS (README "Collections"): a public function URL whose only credential
 * is the signed link, least privilege on the table and secrets, and the collections function
 * told its address and given the key to sign each reminder's link. cdk-nag runs over the whole
 * stack in nag.test.ts.
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

describe('the customer portal', () => {
  it('is a function URL without AWS auth, running the portal handler', () => {
    const { fn } = built.stack.portal;
    const urls = Object.values(template.findResources('AWS::Lambda::Url')).map(
      (r) => (r as { Properties: Record<string, unknown> }).Properties,
    );
    const mine = urls.filter((u) => JSON.stringify(u.TargetFunctionArn).includes(logicalId(fn)));
    expect(mine.map((u) => u.AuthType)).toEqual(['NONE']);
    const env = (propsOf(fn).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.LINK_KEY_SECRET_ARN).toEqual({ Ref: logicalId(built.stack.approvals.linkKey) });
    expect(env.TABLE_NAME).toEqual({ Ref: logicalId(built.stack.dataStore.table) });
  });

  it('may read and write its table (no index), read the link and audit keys, and put audit anchors and its logs: nothing else', () => {
    const statements = statementsOfRole(roleOf(built.stack.portal.fn));
    const table = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(table).toEqual([
      {
        Effect: 'Allow',
        Action: [...WEB_TABLE_ACTIONS].sort(),
        Resource: { 'Fn::GetAtt': [logicalId(built.stack.dataStore.table), 'Arn'] },
      },
    ]);
    const secrets = statements
      .filter((s) => asArray(s.Action).includes('secretsmanager:GetSecretValue'))
      .flatMap((s) => asArray(s.Resource));
    expect(secrets).toEqual(
      expect.arrayContaining([
        { Ref: logicalId(built.stack.approvals.linkKey) },
        { Ref: logicalId(built.stack.audit.keySecret) },
      ]),
    );
    expect(secrets).toHaveLength(2);
    const other = statements
      .flatMap((s) => asArray(s.Action))
      .filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('xray:'));
    // Its own log group (SentinelFunction's), the audit anchors, the two secrets.
    expect([...new Set(other)].sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:PutObject',
      'secretsmanager:GetSecretValue',
    ]);
  });

  it("gives the collections function the portal's address and the link key", () => {
    const { collectionsFunction } = built.stack.evaluation;
    const env = (propsOf(collectionsFunction).Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(env.PORTAL_BASE_URL).toEqual({
      'Fn::GetAtt': [logicalId(built.stack.portal.url), 'FunctionUrl'],
    });
    expect(env.LINK_KEY_SECRET_ARN).toEqual({ Ref: logicalId(built.stack.approvals.linkKey) });
    const reads = statementsOfRole(roleOf(collectionsFunction)).filter((s) =>
      JSON.stringify(s.Resource).includes(logicalId(built.stack.approvals.linkKey)),
    );
    expect(reads.map((s) => s.Action)).toEqual(['secretsmanager:GetSecretValue']);
  });
});

describe("the stack's webReservedConcurrency", () => {
  it('reserves the same concurrency for the portal as for the approval pages', () => {
    const reserved = buildApp({
      context: { demo: 'true', webReservedConcurrency: '20', 'aws:cdk:bundling-stacks': [] },
    });
    const t = Template.fromStack(reserved.stack);
    const r = templateReader(
      () => reserved.stack,
      () => t,
    );
    expect(r.propsOf(reserved.stack.portal.fn).ReservedConcurrentExecutions).toBe(20);
    expect(r.propsOf(reserved.stack.approvals.webFunction).ReservedConcurrentExecutions).toBe(20);
    // Without it, neither reserves any (a new account's quota could not give it).
    expect(propsOf(built.stack.portal.fn).ReservedConcurrentExecutions).toBeUndefined();
  });
});
