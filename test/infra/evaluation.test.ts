import { readFileSync } from 'node:fs';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type SentinelApp } from '../../infra/build-app.ts';
import { DAILY_EVALUATION_ASL_FILE, REMINDERS_DRY_RUN } from '../../infra/constructs/evaluation.ts';
import { asArray, type Json, templateReader } from './template.ts';

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

describe('daily evaluation state machine', () => {
  it('deploys the ASL file itself, with its three functions and the concurrency substituted, traced', () => {
    const { stateMachine, stepsFunction, batchFunction, collectionsFunction } = built.stack.evaluation;
    const p = propsOf(stateMachine);
    expect(p.DefinitionString).toBe(readFileSync(DAILY_EVALUATION_ASL_FILE, 'utf8'));
    expect(p.DefinitionSubstitutions).toEqual({
      EvaluationStepsFunction: getAtt(logicalId(stepsFunction)),
      EvaluationBatchFunction: getAtt(logicalId(batchFunction)),
      CollectionsBatchFunction: getAtt(logicalId(collectionsFunction)),
      EvaluationConcurrency: '5',
    });
    expect(p.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(p.TracingConfiguration).toEqual({ Enabled: true });
    const dest = (p.LoggingConfiguration as Json).Destinations as Json[];
    const groupId = JSON.stringify(dest).match(/"Fn::GetAtt":\["([^"]+)","Arn"\]/)?.[1] as string;
    const group = template.toJSON().Resources[groupId] as { Properties: Json };
    expect(group.Properties.LogGroupName).toBe('/aws/vendedlogs/states/CreditSentinel-daily-evaluation');
  });

  it('takes -c evaluationConcurrency for the batches at once, and refuses what is not 1-1,000', () => {
    const other = buildApp({
      context: { demo: 'true', 'aws:cdk:bundling-stacks': [], evaluationConcurrency: '40' },
    });
    const t = Template.fromStack(other.stack).toJSON().Resources as Record<string, { Properties: Json }>;
    const id = other.stack.getLogicalId(other.stack.evaluation.stateMachine.node.defaultChild as never);
    expect((t[id]?.Properties.DefinitionSubstitutions as Json | undefined)?.EvaluationConcurrency).toBe('40');
    for (const bad of ['0', '2.5', 'many', '5000'])
      expect(() => buildApp({ context: { demo: 'true', evaluationConcurrency: bad } }), bad).toThrow(
        /evaluationConcurrency/,
      );
  });

  it('gives the batch function a timeout that leaves its retries room in the Express child', () => {
    const { batchFunction, stepsFunction } = built.stack.evaluation;
    expect(propsOf(batchFunction).Timeout).toBe(60);
    expect(propsOf(stepsFunction).Timeout).toBe(900);
  });

  it('is started daily at 05:00 in the team time zone by EventBridge Scheduler, with the digest', () => {
    const { dailySchedule, stateMachine, schedulerRole } = built.stack.evaluation;
    const p = propsOf(dailySchedule);
    expect(p).toMatchObject({
      ScheduleExpression: 'cron(0 5 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Amsterdam',
      Target: {
        Arn: { Ref: logicalId(stateMachine) },
        RoleArn: getAtt(logicalId(schedulerRole)),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 6 * 3600 },
      },
    });
    expect(JSON.parse((p.Target as Json).Input as string)).toEqual({
      scheduledTime: '<aws.scheduler.scheduled-time>',
      digest: true,
    });
    const actions = statementsOfRole(logicalId(schedulerRole)).flatMap((s) => asArray(s.Action));
    expect(actions).toEqual(['states:StartExecution']);
  });

  it('lets the state machine start its own children, read the manifests and invoke its three functions only', () => {
    const { stateMachine, stepsFunction, batchFunction, collectionsFunction, runsBucket } =
      built.stack.evaluation;
    const statements = statementsOfRole(logicalId(stateMachine.role));
    const starts = statements.filter((s) => asArray(s.Action).includes('states:StartExecution'));
    expect(starts.map((s) => s.Resource)).toEqual([{ Ref: logicalId(stateMachine) }]);
    const reads = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:GetObject')));
    expect(JSON.stringify(reads.map((s) => s.Resource))).toContain(logicalId(runsBucket));
    expect(JSON.stringify(reads.map((s) => s.Resource))).toContain('/runs/*');
    const invoked = JSON.stringify(
      statements.filter((s) => asArray(s.Action).includes('lambda:InvokeFunction')).map((s) => s.Resource),
    );
    expect(invoked).toContain(logicalId(stepsFunction));
    expect(invoked).toContain(logicalId(batchFunction));
    expect(invoked).toContain(logicalId(collectionsFunction));
    expect(statements.flatMap((s) => asArray(s.Action)).some((a) => a.startsWith('dynamodb:'))).toBe(false);
  });

  it('gives both functions the table, the alerts topic and the runs under runs/ of their bucket', () => {
    const { stepsFunction, batchFunction, runsBucket } = built.stack.evaluation;
    for (const fn of [stepsFunction, batchFunction]) {
      const env = (propsOf(fn).Environment as { Variables: Json }).Variables;
      expect(env).toMatchObject({
        RUNS_BUCKET: { Ref: logicalId(runsBucket) },
        ALERTS_TOPIC_ARN: { Ref: logicalId(built.stack.alerting.alertsTopic) },
        SENTINEL_TIME_ZONE: 'Europe/Amsterdam',
      });
      const statements = statementsOfRole(roleOf(fn));
      expect(statements.some((s) => asArray(s.Action).includes('sns:Publish'))).toBe(true);
      expect(statements.some((s) => asArray(s.Action).includes('dynamodb:ConditionCheckItem'))).toBe(true);
    }
    const p = propsOf(runsBucket);
    expect(p.LifecycleConfiguration).toEqual({
      Rules: [{ Id: 'expire-runs', Prefix: 'runs/', ExpirationInDays: 30, Status: 'Enabled' }],
    });
    expect(p.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'evaluation-runs-bucket/' });
  });

  it('alarms the ops topic when a daily run fails or times out (a batch left customers unevaluated)', () => {
    const { stateMachine } = built.stack.evaluation;
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (r) => (r as { Properties: Json }).Properties,
    );
    const mine = alarms.filter((a) => String(JSON.stringify(a.Dimensions)).includes(logicalId(stateMachine)));
    expect(mine.map((a) => a.MetricName).sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const a of mine) expect(JSON.stringify(a.AlarmActions)).toContain('OpsTopic');
  });
});

describe("the day's collections (CollectCustomers)", () => {
  const FROM = 'credit@harbourfoods.co.uk';
  let ses: SentinelApp;
  let sesTemplate: Template;
  beforeAll(() => {
    ses = buildApp({
      context: {
        demo: 'true',
        'aws:cdk:bundling-stacks': [],
        approvalEmailFrom: FROM,
        sesConfigurationSet: 'approvals',
      },
    });
    sesTemplate = Template.fromStack(ses.stack);
  }, 120_000);
  const sesReader = () =>
    templateReader(
      () => ses.stack,
      () => sesTemplate,
    );
  const vars = (r: ReturnType<typeof sesReader>, fn: Parameters<typeof r.propsOf>[0]) =>
    (r.propsOf(fn).Environment as { Variables: Json }).Variables;

  it('a function of its own, service collections, with the table, the sender and the Slack secret', () => {
    const r = sesReader();
    const { collectionsFunction } = ses.stack.evaluation;
    const p = r.propsOf(collectionsFunction);
    expect(p.Timeout).toBe(60);
    expect(p.Runtime).toMatch(/^nodejs2[2-9]/);
    expect(vars(r, collectionsFunction)).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'collections',
      TABLE_NAME: { Ref: r.logicalId(ses.stack.dataStore.table) },
      REMINDER_EMAIL_FROM: FROM,
      SES_CONFIGURATION_SET: 'approvals',
      SLACK_WEBHOOK_SECRET_ARN: { Ref: r.logicalId(ses.stack.alerting.slackWebhookSecret) },
    });
    // Nothing of the run's files or the alerts: it reads books and writes its claims, and puts
    // the audit trail's anchors of its holds and hand-overs (under anchors/ of that bucket only).
    expect(vars(r, collectionsFunction)).not.toHaveProperty('RUNS_BUCKET');
    const statements = r.statementsOfRole(r.roleOf(collectionsFunction));
    const actions = statements.flatMap((s) => asArray(s.Action));
    expect(actions).toContain('dynamodb:ConditionCheckItem');
    expect(actions.some((a) => a.startsWith('sns:'))).toBe(false);
    const s3 = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3.map((s) => s.Action)).toEqual(['s3:PutObject']);
    expect(JSON.stringify(s3[0]?.Resource)).toContain(r.logicalId(ses.stack.audit.anchorBucket));
    expect(JSON.stringify(s3[0]?.Resource)).toContain('/anchors/*');
  });

  it('may send email only from the configured address, on its SES identity, and read only its three secrets', () => {
    const r = sesReader();
    const statements = r.statementsOfRole(r.roleOf(ses.stack.evaluation.collectionsFunction));
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
    const sending = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('ses:')));
    expect(sending).toEqual([
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
    expect(asArray(sending[0]?.Resource)).toHaveLength(3);
    const secrets = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('secretsmanager:')));
    // The Slack webhook, the link key it signs each reminder's portal link with, the audit key.
    expect(secrets.flatMap((s) => asArray(s.Resource as object))).toEqual([
      { Ref: r.logicalId(ses.stack.alerting.slackWebhookSecret) },
      { Ref: r.logicalId(ses.stack.approvals.linkKey) },
      { Ref: r.logicalId(ses.stack.audit.keySecret) },
    ]);
  });

  it('without an SES identity: no sender, no SES permission, and a warning that the collections run dry', () => {
    const { collectionsFunction } = built.stack.evaluation;
    expect(propsOf(collectionsFunction).Environment).not.toHaveProperty('Variables.REMINDER_EMAIL_FROM');
    const actions = statementsOfRole(roleOf(collectionsFunction)).flatMap((s) => asArray(s.Action));
    expect(actions.some((a) => a.startsWith('ses:'))).toBe(false);
    const warnings = Annotations.fromStack(built.stack)
      .findWarning('*', Match.stringLikeRegexp("The day's collections run dry"))
      .map((w) => String(w.entry.data));
    expect(warnings).toEqual([expect.stringContaining(REMINDERS_DRY_RUN)]);
  });

  it('is the CollectBatch of the deployed definition, invoking the substituted function', () => {
    const def = JSON.parse(readFileSync(DAILY_EVALUATION_ASL_FILE, 'utf8')) as {
      States: Record<string, { ItemProcessor?: { States: Record<string, { Parameters: Json }> } }>;
    };
    const collect = def.States.CollectCustomers?.ItemProcessor?.States.CollectBatch;
    expect(collect?.Parameters.FunctionName).toBe(`\${CollectionsBatchFunction}`);
    const subs = propsOf(built.stack.evaluation.stateMachine).DefinitionSubstitutions as Json;
    expect(subs.CollectionsBatchFunction).toEqual(
      getAtt(logicalId(built.stack.evaluation.collectionsFunction)),
    );
  });
});
