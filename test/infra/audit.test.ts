import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ANCHOR_PREFIX } from '../../functions/adapters/audit-aws.ts';
import { AUDIT_ANCHOR_EVENT } from '../../functions/ops/app.ts';
import { buildApp, type SentinelApp } from '../../infra/build-app.ts';
import { findingsOf } from './nag.ts';
import { asArray, type Json, type Statement, templateReader } from './template.ts';

// The real app, bundling skipped (test/infra/stack.test.ts bundles every function).
let built: SentinelApp;
let template: Template;
beforeAll(() => {
  built = buildApp({
    context: { demo: 'true', 'aws:cdk:bundling-stacks': [], timeZone: 'Europe/Amsterdam' },
  });
  built.app.synth();
  template = Template.fromStack(built.stack);
});

const { logicalId, propsOf, statementsOfRole, roleOf } = templateReader(
  () => built.stack,
  () => template,
);
const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
/** Every statement, with the role it is attached to. */
const allStatements = (): { roles: unknown; statement: Statement }[] =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap((r) => {
    const p = (r as { Properties: Json }).Properties;
    return (p.PolicyDocument as { Statement: Statement[] }).Statement.map((statement) => ({
      roles: p.Roles,
      statement,
    }));
  });

const appenders = () => [
  built.stack.approvals.webFunction,
  built.stack.approvals.stepsFunction,
  built.stack.approvals.apiFunction,
  built.stack.approvals.slackDecisionFunction,
  // Promises and disputes made on the customer portal.
  built.stack.portal.fn,
  // Credit checks' decisions, chained from the customers' partitions.
  built.stack.checks.chainFunction,
  // The collections run's holds and hand-overs.
  built.stack.evaluation.collectionsFunction,
  built.stack.reviews.stepsFunction,
  built.stack.reviews.batchFunction,
  built.stack.observability.gaugesFunction,
  // A credit policy uploaded under policy/ is put to the approval chain, recorded on the trail.
  built.stack.ingestion.ingestFunction,
];

describe('audit key and anchors on AWS', () => {
  it('anchors in a versioned, private, encrypted bucket with Object Lock in compliance mode for 400 days', () => {
    const { anchorBucket } = built.stack.audit;
    const resource = template.toJSON().Resources[logicalId(anchorBucket)] as Json;
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(propsOf(anchorBucket)).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: {} }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: logicalId(built.stack.ingestion.accessLogsBucket) },
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(anchorBucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('keeps the HMAC key in a secret CloudFormation generates, retained', () => {
    const { keySecret } = built.stack.audit;
    const resource = template.toJSON().Resources[logicalId(keySecret)] as Json;
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(propsOf(keySecret).GenerateSecretString).toMatchObject({
      SecretStringTemplate: '{"id":"k1"}',
      GenerateStringKey: 'secret',
      PasswordLength: 64,
    });
  });

  it('anchors the head every hour through the ops function', () => {
    const { anchorSchedule } = built.stack.audit;
    if (!anchorSchedule) throw new Error('no anchor schedule');
    const p = propsOf(anchorSchedule);
    expect(p.ScheduleExpression).toBe('rate(1 hour)');
    expect(p.State).toBe('ENABLED');
    const target = p.Target as Json;
    expect(target.Arn).toEqual(getAtt(logicalId(built.stack.observability.gaugesFunction)));
    expect(JSON.parse(target.Input as string)).toEqual({ type: AUDIT_ANCHOR_EVENT });
  });

  it('gives each appender the key secret and its bucket in its environment', () => {
    for (const fn of appenders()) {
      const vars = (propsOf(fn).Environment as { Variables: Json }).Variables;
      expect(vars.AUDIT_KEY_SECRET_ARN).toEqual({ Ref: logicalId(built.stack.audit.keySecret) });
      expect(vars.AUDIT_ANCHOR_BUCKET).toEqual({ Ref: logicalId(built.stack.audit.anchorBucket) });
    }
  });

  it('lets only the appenders read the key, and put (never delete or re-time) anchors under anchors/', () => {
    const keyRef = { Ref: logicalId(built.stack.audit.keySecret) };
    const bucketId = logicalId(built.stack.audit.anchorBucket);
    const appenderRoles = appenders().map((fn) => roleOf(fn));
    const onKey = allStatements().filter(({ statement }) =>
      JSON.stringify(statement.Resource).includes(JSON.stringify(keyRef)),
    );
    expect(onKey.map(({ statement }) => statement.Action).sort()).toEqual(
      appenderRoles.map(() => 'secretsmanager:GetSecretValue'),
    );
    expect(onKey.map(({ roles }) => (roles as [{ Ref: string }])[0].Ref).sort()).toEqual(
      [...appenderRoles].sort(),
    );
    const onBucket = allStatements().filter(({ statement }) =>
      JSON.stringify(statement.Resource).includes(bucketId),
    );
    // The bucket's own policy denies insecure transport; identity policies put anchors only.
    expect(onBucket.length).toBe(appenderRoles.length);
    // A role that puts objects elsewhere too (the ingest's rejects reports) has its PutObject
    // statements merged into one by minimizePolicies: the anchors' resource is one of them.
    const anchors = { 'Fn::Join': ['', [getAtt(bucketId), `/${ANCHOR_PREFIX}*`]] };
    for (const { statement } of onBucket) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.Action).toBe('s3:PutObject');
      const resources = asArray(statement.Resource as Json | Json[]);
      expect(resources).toContainEqual(anchors);
      // Whatever else it names is not in the anchor bucket.
      for (const r of resources.filter((x) => JSON.stringify(x) !== JSON.stringify(anchors)))
        expect(JSON.stringify(r)).not.toContain(bucketId);
    }
    // No statement anywhere (a wildcard resource included) deletes objects, re-times or holds them there.
    const risky = allStatements().filter(
      ({ statement }) =>
        (JSON.stringify(statement.Resource).includes(bucketId) || statement.Resource === '*') &&
        asArray(statement.Action).some((a) =>
          /^s3:(\*|Delete|PutObjectRetention|PutObjectLegalHold|Bypass)/.test(a),
        ),
    );
    expect(risky).toEqual([]);
  });

  it('lets the ops function read the audit head only, not the rest of the table', () => {
    const ops = roleOf(built.stack.observability.gaugesFunction);
    const gets = statementsOfRole(ops).filter((s) => asArray(s.Action).includes('dynamodb:GetItem'));
    expect(gets).toEqual([
      expect.objectContaining({
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['AUDIT'] } },
      }),
    ]);
  });

  it('leaves cdk-nag clean', () => {
    expect(findingsOf(new AwsSolutionsChecks(built.stack), built.stack.audit)).toEqual([]);
    for (const fn of appenders())
      expect(findingsOf(new AwsSolutionsChecks(built.stack), fn.role ?? fn)).toEqual([]);
  });
});
