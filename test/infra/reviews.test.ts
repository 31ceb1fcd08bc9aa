import { readFileSync } from 'node:fs';
import type { CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type SentinelApp } from '../../infra/build-app.ts';
import { REVIEW_ASL_FILE } from '../../infra/constructs/reviews.ts';
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
const actionsOf = (roleId: string) => statementsOfRole(roleId).flatMap((s) => asArray(s.Action));

describe('periodic review state machine', () => {
  it('deploys the ASL file itself, with the steps function substituted', () => {
    const { stateMachine, stepsFunction } = built.stack.reviews;
    const p = propsOf(stateMachine);
    expect(p.DefinitionString).toBe(readFileSync(REVIEW_ASL_FILE, 'utf8'));
    expect(p.DefinitionSubstitutions).toEqual({
      ReviewStepsFunction: { 'Fn::GetAtt': [logicalId(stepsFunction), 'Arn'] },
      ReviewBatchFunction: { 'Fn::GetAtt': [logicalId(built.stack.reviews.batchFunction), 'Arn'] },
      ReviewConcurrency: '5',
    });
    expect(p.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(p.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('ends a run that never finishes after 24 hours, and logs under /aws/vendedlogs/', () => {
    const { stateMachine } = built.stack.reviews;
    const def = JSON.parse(propsOf(stateMachine).DefinitionString as string) as { TimeoutSeconds?: number };
    // In the definition itself: CDK's `timeout` is lost on a definition given as a string.
    expect(def.TimeoutSeconds).toBe(86_400);
    const dest = (propsOf(stateMachine).LoggingConfiguration as Json).Destinations as Json[];
    const groupId = JSON.stringify(dest).match(/"Fn::GetAtt":\["([^"]+)","Arn"\]/)?.[1] as string;
    const group = template.toJSON().Resources[groupId] as { Type: string; Properties: Json };
    expect(group.Type).toBe('AWS::Logs::LogGroup');
    expect(group.Properties.LogGroupName).toBe('/aws/vendedlogs/states/CreditSentinel-periodic-review');
  });

  it('fans out with a Distributed Map over the manifest: batches, tolerated failures, retries', () => {
    const def = JSON.parse(readFileSync(REVIEW_ASL_FILE, 'utf8'));
    const map = def.States.ReviewCustomers;
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' });
    expect(map.ItemReader).toMatchObject({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { 'Bucket.$': '$.run.manifest.Bucket', 'Key.$': '$.run.manifest.Key' },
    });
    expect(map.ItemBatcher.MaxItemsPerBatch).toBe(100);
    expect(map.ToleratedFailurePercentage).toBe(5);
    expect(map.ItemProcessor.States.ReviewBatch.Retry.flatMap((r: Json) => r.ErrorEquals)).toEqual(
      expect.arrayContaining(['States.TaskFailed', 'Lambda.TooManyRequestsException']),
    );
    // Too many failed batches still reach the report (which names every customer not reviewed), then fail.
    expect(map.Catch).toEqual([
      { ErrorEquals: ['States.ExceedToleratedFailureThreshold'], ResultPath: '$.mapError', Next: 'Report' },
    ]);
    expect(def.States['TooManyFailed?'].Choices[0].Next).toBe('TooManyFailed');
  });

  it('lets the state machine start its own child executions, read the manifests and invoke the steps only', () => {
    const { stateMachine, stepsFunction, reportsBucket } = built.stack.reviews;
    const statements = statementsOfRole(logicalId(stateMachine.role));
    const starts = statements.filter((s) => asArray(s.Action).includes('states:StartExecution'));
    expect(starts.map((s) => s.Resource)).toEqual([{ Ref: logicalId(stateMachine) }]);
    const reads = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:GetObject')));
    expect(JSON.stringify(reads.map((s) => s.Resource))).toContain(logicalId(reportsBucket));
    expect(JSON.stringify(reads.map((s) => s.Resource))).toContain('/manifests/*');
    const invoke = statements.filter((s) => asArray(s.Action).includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invoke.map((s) => s.Resource))).toContain(logicalId(stepsFunction));
    expect(actionsOf(logicalId(stateMachine.role)).some((a) => a.startsWith('dynamodb:'))).toBe(false);
  });
});

describe('schedule, storage and notifications', () => {
  it('starts the review daily at 06:00 in the team time zone, after the 05:00 evaluation', () => {
    const { dailySchedule, stateMachine } = built.stack.reviews;
    const p = propsOf(dailySchedule);
    expect(p.ScheduleExpression).toBe('cron(0 6 * * ? *)');
    expect(p.ScheduleExpressionTimezone).toBe('Europe/Amsterdam');
    const target = p.Target as Json;
    expect(target.Arn).toEqual({ Ref: logicalId(stateMachine) });
    expect(JSON.parse(target.Input as string)).toEqual({
      trigger: 'schedule',
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
  });

  it('keeps manifests and reports in a private, encrypted bucket that logs access', () => {
    const p = propsOf(built.stack.reviews.reportsBucket);
    expect(p.BucketEncryption).toMatchObject({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }],
    });
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'reports-bucket/' });
  });

  it('gives the steps function its table, bucket, topic and the transfer machine to ask approvals on', () => {
    const { stepsFunction, reportsBucket, reviewsTopic } = built.stack.reviews;
    const env = (propsOf(stepsFunction).Environment as { Variables: Json }).Variables;
    expect(env).toMatchObject({
      REPORTS_BUCKET: { Ref: logicalId(reportsBucket) },
      REVIEWS_TOPIC_ARN: { Ref: logicalId(reviewsTopic) },
      STATE_MACHINE_ARN: { Ref: logicalId(built.stack.approvals.stateMachine) },
      CHANGES_TOPIC_ARN: { Ref: logicalId(built.stack.ingestion.changesTopic) },
      SENTINEL_TIME_ZONE: 'Europe/Amsterdam',
    });
    const statements = statementsOfRole(roleOf(stepsFunction));
    const starts = statements.filter((s) => asArray(s.Action).includes('states:StartExecution'));
    expect(starts.map((s) => s.Resource)).toEqual([{ Ref: logicalId(built.stack.approvals.stateMachine) }]);
    expect(
      statements.some(
        (s) =>
          asArray(s.Action).includes('sns:Publish') &&
          JSON.stringify(s.Resource).includes(logicalId(reviewsTopic)),
      ),
    ).toBe(true);
  });

  it('is watched by the dashboard and alarms', () => {
    const body = JSON.stringify(propsOf(built.stack.observability.dashboard).DashboardBody);
    expect(body).toContain(logicalId(built.stack.reviews.stepsFunction));
    expect(body).toContain(logicalId(built.stack.reviews.stateMachine));
  });
});

describe('who is told', () => {
  it('subscribes -c alarmEmail to the ops topic and -c reviewEmail to the reviews topic', () => {
    const other = buildApp({
      context: {
        demo: 'true',
        'aws:cdk:bundling-stacks': [],
        alarmEmail: 'ops@example.com',
        reviewEmail: 'credit-desk@example.com',
      },
    });
    other.app.synth();
    const t = Template.fromStack(other.stack);
    const subs = Object.values(t.findResources('AWS::SNS::Subscription')).map(
      (r) => (r as { Properties: Json }).Properties,
    );
    const id = (c: IConstruct) => other.stack.getLogicalId(c.node.defaultChild as CfnResource);
    const to = (endpoint: string) => subs.filter((s) => s.Protocol === 'email' && s.Endpoint === endpoint);
    expect(to('ops@example.com').map((s) => s.TopicArn)).toEqual([
      { Ref: id(other.stack.observability.opsTopic) },
    ]);
    const review = to('credit-desk@example.com');
    expect(review.map((s) => s.TopicArn)).toEqual([{ Ref: id(other.stack.reviews.reviewsTopic) }]);
    expect(review[0]?.FilterPolicy).toEqual({ event: ['review.limitCut', 'review.summary'] });
  });
});

describe('concurrency and timeouts that fit a new account and the Express limit', () => {
  type State = Json & { Retry?: Json[]; Catch?: Json[] };
  const def = () => JSON.parse(readFileSync(REVIEW_ASL_FILE, 'utf8')) as { States: Record<string, State> };
  /** A definition substitution's placeholder in the file, `${name}`. */
  const ph = (name: string) => `\${${name}}`;
  const batchState = () =>
    ((def().States.ReviewCustomers as State).ItemProcessor as { States: Record<string, State> }).States;
  const synthWith = (context: Json) => {
    const other = buildApp({ context: { demo: 'true', 'aws:cdk:bundling-stacks': [], ...context } });
    other.app.synth();
    const t = Template.fromStack(other.stack);
    const props = (c: IConstruct) =>
      (
        t.toJSON().Resources[other.stack.getLogicalId(c.node.defaultChild as CfnResource)] as {
          Properties: Json;
        }
      ).Properties;
    return { other, props };
  };

  it('runs 5 batches at once by default (a new account has 10 concurrent Lambdas), -c reviewConcurrency more', () => {
    const { stateMachine } = built.stack.reviews;
    expect((propsOf(stateMachine).DefinitionSubstitutions as Json).ReviewConcurrency).toBe('5');
    const map = def().States.ReviewCustomers as Json;
    expect(map).not.toHaveProperty('MaxConcurrency');
    expect(map.MaxConcurrencyPath).toBe('$.run.maxConcurrency');
    // The substitution is text; SelectDue turns it into the number the Map reads.
    expect(((def().States.SelectDue as State).ResultSelector as Json)['maxConcurrency.$']).toBe(
      `States.StringToJson('${ph('ReviewConcurrency')}')`,
    );
    const { other, props } = synthWith({ reviewConcurrency: '40' });
    expect((props(other.stack.reviews.stateMachine).DefinitionSubstitutions as Json).ReviewConcurrency).toBe(
      '40',
    );
    for (const bad of ['0', '2.5', 'many', '5000'])
      expect(() => buildApp({ context: { demo: 'true', reviewConcurrency: bad } }), bad).toThrow(
        /reviewConcurrency/,
      );
  });

  it('reserves no concurrency for the approval pages unless asked (Lambda keeps 100 unreserved)', () => {
    expect(propsOf(built.stack.approvals.webFunction)).not.toHaveProperty('ReservedConcurrentExecutions');
    const { other, props } = synthWith({ webReservedConcurrency: '10' });
    expect(props(other.stack.approvals.webFunction).ReservedConcurrentExecutions).toBe(10);
    expect(() => buildApp({ context: { demo: 'true', webReservedConcurrency: '0' } })).toThrow(
      /webReservedConcurrency/,
    );
  });

  it('reviews each batch with its own function, whose timeout leaves room for a retry within 5 minutes', () => {
    const { stateMachine, stepsFunction, batchFunction } = built.stack.reviews;
    expect((propsOf(stateMachine).DefinitionSubstitutions as Json).ReviewBatchFunction).toEqual({
      'Fn::GetAtt': [logicalId(batchFunction), 'Arn'],
    });
    const batch = batchState().ReviewBatch as State;
    expect((batch.Parameters as Json).FunctionName).toBe(ph('ReviewBatchFunction'));
    expect(def().States.SelectDue?.Parameters).toMatchObject({ FunctionName: ph('ReviewStepsFunction') });
    expect(def().States.Report?.Parameters).toMatchObject({ FunctionName: ph('ReviewStepsFunction') });
    const timeout = propsOf(batchFunction).Timeout as number;
    expect(timeout).toBe(120);
    expect(propsOf(stepsFunction).Timeout).toBe(300);
    // The task gives up a little after the function would, and one retry of a timed-out batch
    // (with its wait) still ends inside the Express child's 300 seconds.
    expect(batch.TimeoutSeconds as number).toBeGreaterThan(timeout);
    const onTimeout = (batch.Retry ?? []).find((r) =>
      (r.ErrorEquals as string[]).includes('Sandbox.Timedout'),
    );
    expect(onTimeout?.MaxAttempts).toBe(1);
    expect(2 * (batch.TimeoutSeconds as number) + (onTimeout?.IntervalSeconds as number)).toBeLessThan(300);
    // Only what a batch calls: no reports bucket, no transfer machine (the report asks approvals).
    const actions = actionsOf(roleOf(batchFunction));
    expect(actions.filter((a) => a.startsWith('states:'))).toEqual([]);
    const batchStatements = statementsOfRole(roleOf(batchFunction));
    expect(JSON.stringify(batchStatements)).not.toContain(logicalId(built.stack.reviews.reportsBucket));
    // Its S3 writes are the audit trail's anchors (AuditTrail.grantAppend), as the steps function's.
    expect(JSON.stringify(batchStatements.filter((s) => JSON.stringify(s.Action).includes('s3:')))).toContain(
      logicalId(built.stack.audit.anchorBucket),
    );
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'sns:Publish']));
    const statements = statementsOfRole(logicalId(stateMachine.role));
    const invoke = statements.filter((s) => asArray(s.Action).includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invoke.map((s) => s.Resource))).toContain(logicalId(batchFunction));
  });

  it('retries every Task on Lambda and task errors; a batch that still fails is caught, its error kept', () => {
    const tasks: [string, State][] = [
      ...Object.entries(def().States).filter(([, s]) => s.Type === 'Task'),
      ...Object.entries(batchState()).filter(([, s]) => s.Type === 'Task'),
    ];
    expect(tasks.map(([n]) => n).sort()).toEqual(['Report', 'ReviewBatch', 'SelectDue']);
    for (const [name, s] of tasks) {
      const retried = (s.Retry ?? []).flatMap((r) =>
        r.MaxAttempts === 0 ? [] : (r.ErrorEquals as string[]),
      );
      expect(retried, name).toEqual(
        expect.arrayContaining([
          'Lambda.ServiceException',
          'Lambda.TooManyRequestsException',
          'Lambda.ClientExecutionTimeoutException',
          'States.TaskFailed',
        ]),
      );
    }
    // A bad input is not retried.
    expect(def().States.SelectDue?.Retry?.[0]).toEqual({ ErrorEquals: ['ReviewInputError'], MaxAttempts: 0 });
    const batch = batchState().ReviewBatch as State;
    expect(batch.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'BatchFailed' },
    ]);
    expect(batchState().BatchFailed).toMatchObject({
      Type: 'Fail',
      ErrorPath: '$.error.Error',
      CausePath: '$.error.Cause',
    });
    // The parent's tasks stay uncaught: a failed run stops there and a redrive runs that step again.
    expect(def().States.SelectDue).not.toHaveProperty('Catch');
    expect(def().States.Report).not.toHaveProperty('Catch');
  });
});
