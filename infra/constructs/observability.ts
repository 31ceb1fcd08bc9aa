import { ArnFormat, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  type AlarmProps,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  type IWidget,
  MathExpression,
  Metric,
  Stats,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, Grant, PolicyStatement, type Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../functions/adapters/table-schema.ts';
import {
  METRICS,
  METRICS_NAMESPACE,
  type MetricName,
  type MetricSpec,
  metricSpec,
} from '../../functions/core/metrics.ts';
import { SentinelFunction } from './function-defaults.ts';
import { schedulerRole } from './scheduler-role.ts';

/** A function to watch: its Errors, Throttles and Duration on the dashboard, an alarm on its Errors. */
export interface WatchedFunction {
  /** Names its widget and alarm (and the alarm's construct id): PascalCase, unique among the functions. */
  readonly label: string;
  readonly fn: IFunction;
}

/** A state machine to watch: failed and timed-out executions, on the dashboard and each alarmed. */
export interface WatchedStateMachine {
  /** PascalCase, unique among the state machines. */
  readonly label: string;
  readonly stateMachine: IStateMachine;
}

/** A queue to watch (depth and age of the oldest message), with the dead-letter queue behind it. */
export interface WatchedQueue {
  /** PascalCase, unique among the queues. */
  readonly label: string;
  readonly queue: IQueue;
  /**
   * Its dead-letter queue: graphed, and alarmed from the first message.
   * @default - none
   */
  readonly deadLetterQueue?: IQueue;
}

export interface ObservabilityProps {
  /** The functions to watch; the gauges function this construct creates is added to them. */
  readonly functions: readonly WatchedFunction[];
  /**
   * The state machines to watch.
   * @default - none
   */
  readonly stateMachines?: readonly WatchedStateMachine[];
  /**
   * The queues to watch, each with its dead-letter queue.
   * @default - none
   */
  readonly queues?: readonly WatchedQueue[];
  /** The single table: the gauges function queries the pending approvals on its gsi1 index (read only). */
  readonly table: ITable;
  /**
   * An approval waiting longer than this raises the approval SLA alarm.
   * @default 48
   */
  readonly approvalSlaHours?: number;
  /**
   * Share of rows refused (RowsRejected / (RowsIngested + RowsRejected), over 15 minutes) above which
   * the rejects alarm fires.
   * @default 0.05
   */
  readonly rejectsRatioThreshold?: number;
  /**
   * Email addresses subscribed to the ops topic (each confirms by email once).
   * @default - none
   */
  readonly opsEmails?: readonly string[];
}

/** How often the gauges function samples the pending approvals. */
const GAUGES_RATE = Duration.minutes(5);
/** Window of the Lambda, state machine and DLQ alarms and of the dashboard graphs. */
const PERIOD = Duration.minutes(5);
/** The gauges arrive every 5 minutes at no fixed second: a 15-minute window always holds some. */
const GAUGE_ALARM_PERIOD = Duration.minutes(15);
const REJECTS_PERIOD = Duration.minutes(15);
const WIDGET_WIDTH = 6;
const WIDGET_HEIGHT = 6;
const WIDGETS_PER_ROW = 24 / WIDGET_WIDTH;
const LABEL = /^[A-Z][A-Za-z0-9]*$/;
/** The label of the gauges function among the watched functions. */
const GAUGES_LABEL = 'OpsGauges';

/**
 * Catalogue metrics read as levels rather than counts of events: graphed (and alarmed) as the
 * maximum, not the sum. The catalogue has no field for this; typed names keep the list honest.
 */
const GAUGES: ReadonlySet<MetricName> = new Set<MetricName>([
  'OpenAlerts',
  'ApprovalsPending',
  'OldestApprovalAge',
  'OldestDisputeDays',
  'CheckLogLagSeconds',
]);

/**
 * The collections run's figures of the day (promises rated final, disputes open): each batch of the
 * daily run emits its own customers' once, so they are graphed per day over two weeks, a day's
 * batches added up (Sum; the oldest dispute: their Maximum). A 5-minute period would cut a large
 * book's run, whose batches take longer, into partial points; a day holds the one run the schedule
 * starts (a run across a period's boundary would show as two points, each part of the day).
 */
const DAILY: ReadonlySet<MetricName> = new Set<MetricName>([
  'PromisesKept',
  'PromisesPartial',
  'PromisesBroken',
  'DisputesOpen',
  'DisputeAnswersOverdue',
  'OldestDisputeDays',
]);
const DAILY_PERIOD = Duration.days(1);
const DAILY_RANGE = '-P14D';

/**
 * Catalogue metrics read together, drawn on one widget at the place of the first (next to the
 * reminders' widgets) instead of one widget each: the right axis for a figure of another scale.
 */
const COMBINED: readonly {
  readonly title: string;
  readonly left: readonly MetricName[];
  readonly right?: readonly MetricName[];
  readonly rightLabel?: string;
}[] = [
  {
    title: 'Promises to pay rated final, per day: kept, partial, broken',
    left: ['PromisesKept', 'PromisesPartial', 'PromisesBroken'],
  },
  {
    title: 'Disputes open and answers overdue, per day; the oldest open (days, right)',
    left: ['DisputesOpen', 'DisputeAnswersOverdue'],
    right: ['OldestDisputeDays'],
    rightLabel: 'days',
  },
];

/** How a catalogue metric is aggregated: counters add up, gauges peak, timings at p95. */
export function statisticOf(spec: MetricSpec): string {
  if (GAUGES.has(spec.name as MetricName)) return Stats.MAXIMUM;
  return spec.unit === 'Count' ? Stats.SUM : Stats.p(95);
}

/** Every combination of the dimensions' values: `[{level: 'a', channel: 'x'}, {level: 'a', channel: 'y'}, ...]`. */
export function dimensionCombinations(
  dims: readonly (readonly [string, readonly string[]])[],
): Record<string, string>[] {
  return dims.reduce<Record<string, string>[]>(
    (acc, [dim, values]) => acc.flatMap((c) => values.map((v) => ({ ...c, [dim]: v }))),
    [{}],
  );
}

/**
 * The catalogue metric `name` with its `service` dimension, plus `extra` dimensions; each extra
 * dimension must be one the catalogue lists for it, with one of its values.
 */
export function catalogueMetric(
  name: MetricName,
  opts: {
    readonly extra?: Readonly<Record<string, string>>;
    readonly period?: Duration;
    readonly statistic?: string;
  } = {},
): Metric {
  const spec = metricSpec(name);
  for (const [dim, value] of Object.entries(opts.extra ?? {}))
    if (!spec.dimensions?.[dim]?.includes(value))
      throw new Error(`${name} has no dimension ${dim}=${value} in functions/core/metrics.ts`);
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: spec.name,
    dimensionsMap: { service: spec.service, ...opts.extra },
    statistic: opts.statistic ?? statisticOf(spec),
    period: opts.period ?? PERIOD,
  });
}

/**
 * Operations: the ops SNS topic (alarm notifications, email subscribers), the gauges function that
 * samples the pending approvals every 5 minutes, one CloudWatch dashboard (every catalogue metric
 * by service; every watched function, state machine, queue and dead-letter queue) and the alarms:
 * any dead-letter message, any function error, any failed or timed-out execution, an approval
 * waiting past its SLA, and too large a share of rejected rows.
 */
export class Observability extends Construct {
  public readonly opsTopic: Topic;
  public readonly opsTopicKey: Key;
  public readonly gaugesFunction: NodejsFunction;
  public readonly gaugesSchedule: Schedule;
  public readonly schedulerRole: Role;
  public readonly dashboard: Dashboard;
  /** Every alarm, keyed by its construct id (e.g. `IngestErrors`, `UploadDeadLetters`, `ApprovalSla`). */
  public readonly alarms: ReadonlyMap<string, Alarm>;
  public readonly approvalSlaAlarm: Alarm;
  /** The credit checks' decisions waiting too long for the audit trail (README "Credit checks"). */
  public readonly checkLogLagAlarm: Alarm;
  public readonly rejectsRatioAlarm: Alarm;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const approvalSlaHours = props.approvalSlaHours ?? 48;
    const rejectsRatioThreshold = props.rejectsRatioThreshold ?? 0.05;
    if (!(approvalSlaHours > 0))
      throw new Error(`approvalSlaHours must be positive, not ${approvalSlaHours}`);
    if (!(rejectsRatioThreshold > 0 && rejectsRatioThreshold < 1))
      throw new Error(`rejectsRatioThreshold must be between 0 and 1, not ${rejectsRatioThreshold}`);
    for (const [what, labels] of [
      ['function', [...props.functions.map((f) => f.label), GAUGES_LABEL]],
      ['state machine', (props.stateMachines ?? []).map((s) => s.label)],
      ['queue', (props.queues ?? []).map((q) => q.label)],
    ] as const) {
      const seen = new Set<string>();
      for (const label of labels) {
        if (!LABEL.test(label)) throw new Error(`${what} label "${label}" must be PascalCase (${LABEL})`);
        if (seen.has(label))
          throw new Error(
            `${what} label "${label}" is used twice` +
              (label === GAUGES_LABEL ? ' (it names the gauges function)' : ''),
          );
        seen.add(label);
      }
    }
    const stack = Stack.of(this);

    // ---- the ops topic ----
    // CloudWatch alarms cannot use the AWS managed alias/aws/sns key (its policy cannot be edited to
    // let CloudWatch in), so this topic has its own key that CloudWatch may use to publish.
    this.opsTopicKey = new Key(this, 'OpsTopicKey', {
      description: 'Encrypts the Credit Sentinel ops topic; CloudWatch alarms may publish through it',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.opsTopicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.opsTopic = new Topic(this, 'OpsTopic', {
      displayName: 'Credit Sentinel ops alarms',
      masterKey: this.opsTopicKey,
      enforceSSL: true,
    });
    // enforceSSL gives the topic a resource policy, which replaces the default one: name the alarms.
    this.opsTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    for (const address of props.opsEmails ?? [])
      this.opsTopic.addSubscription(new EmailSubscription(address));

    // ---- the gauges: pending approvals, every 5 minutes ----
    const gauges = new SentinelFunction(this, 'GaugesFunction', {
      entry: 'functions/ops/handler.ts',
      serviceName: 'ops-gauges',
      description: 'Samples the pending approvals (count, oldest age) into CloudWatch every 5 minutes',
      timeout: Duration.seconds(60),
      environment: { TABLE_NAME: props.table.tableName },
    });
    this.gaugesFunction = gauges.fn;
    // listPendingApprovals is one Query on gsi1: nothing else on the table, and no writes.
    Grant.addToPrincipal({
      grantee: this.gaugesFunction,
      actions: ['dynamodb:Query'],
      resourceArns: [`${props.table.tableArn}/index/${TABLE_SCHEMA.gsi.name}`],
    });

    // As in Alerting: a role only EventBridge Scheduler of this account's default group can assume.
    this.schedulerRole = schedulerRole(
      this,
      'SchedulerRole',
      'Lets EventBridge Scheduler invoke the ops gauges function',
    );
    this.gaugesSchedule = new Schedule(this, 'GaugesSchedule', {
      description: 'Samples the pending approvals every 5 minutes',
      schedule: ScheduleExpression.rate(GAUGES_RATE),
      target: new LambdaInvoke(this.gaugesFunction, {
        input: ScheduleTargetInput.fromObject({ type: 'ops.gauges' }),
        role: this.schedulerRole,
        // A sample later than the next one is worth nothing: no dead-letter queue, short retries.
        retryAttempts: 2,
        maxEventAge: GAUGES_RATE,
      }),
    });

    const functions: readonly WatchedFunction[] = [
      ...props.functions,
      { label: GAUGES_LABEL, fn: this.gaugesFunction },
    ];
    const stateMachines = props.stateMachines ?? [];
    const queues = props.queues ?? [];
    // A dead-letter queue may sit behind more than one queue (or be a function's async DLQ too): one alarm.
    const deadLetterQueues: { label: string; queue: IQueue }[] = [];
    for (const q of queues)
      if (q.deadLetterQueue && !deadLetterQueues.some((d) => d.queue === q.deadLetterQueue))
        deadLetterQueues.push({ label: q.label, queue: q.deadLetterQueue });

    // ---- alarms ----
    const alarms = new Map<string, Alarm>();
    const action = new SnsAction(this.opsTopic);
    const alarm = (alarmId: string, a: AlarmProps) => {
      const created = new Alarm(this, alarmId, { treatMissingData: TreatMissingData.NOT_BREACHING, ...a });
      created.addAlarmAction(action);
      created.addOkAction(action);
      alarms.set(alarmId, created);
      return created;
    };
    const atLeastOne = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    };

    for (const d of deadLetterQueues)
      alarm(`${d.label}DeadLetters`, {
        alarmDescription: `A message landed on the ${d.label} dead-letter queue: inspect it, fix the cause, redrive it (README, Ops).`,
        metric: d.queue.metricApproximateNumberOfMessagesVisible({
          period: PERIOD,
          statistic: Stats.MAXIMUM,
        }),
        ...atLeastOne,
      });
    for (const f of functions)
      alarm(`${f.label}Errors`, {
        alarmDescription: `The ${f.label} function failed at least once in 5 minutes: see its log group.`,
        metric: f.fn.metricErrors({ period: PERIOD, statistic: Stats.SUM }),
        ...atLeastOne,
      });
    for (const s of stateMachines) {
      alarm(`${s.label}ExecutionsFailed`, {
        alarmDescription: `A ${s.label} execution failed in the last 5 minutes.`,
        metric: s.stateMachine.metricFailed({ period: PERIOD, statistic: Stats.SUM }),
        ...atLeastOne,
      });
      alarm(`${s.label}ExecutionsTimedOut`, {
        alarmDescription: `A ${s.label} execution timed out in the last 5 minutes.`,
        metric: s.stateMachine.metricTimedOut({ period: PERIOD, statistic: Stats.SUM }),
        ...atLeastOne,
      });
    }

    alarm('TransfersFailed', {
      alarmDescription:
        'A transfer failed in its approval workflow after the retries (TransfersFailed): its links are void. ' +
        'Read `transfer.failed` on the audit trail or the transfer page, fix the cause, then retry it ' +
        '(POST /transfers/ID/retry) or have its requester recall it.',
      metric: catalogueMetric('TransfersFailed', { statistic: Stats.SUM }),
      ...atLeastOne,
    });

    const oldestApproval = catalogueMetric('OldestApprovalAge', { period: GAUGE_ALARM_PERIOD });
    this.approvalSlaAlarm = alarm('ApprovalSla', {
      alarmDescription:
        `An approval has waited more than ${approvalSlaHours} h for its approver (OldestApprovalAge, ` +
        'sampled every 5 minutes): chase the approver or recall the transfer.',
      metric: oldestApproval,
      threshold: approvalSlaHours * 3600,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    // The credit checks' chainer says how long the oldest logged decision waits, every minute;
    // no figure at all is a chainer that does not run.
    this.checkLogLagAlarm = alarm('CheckLogLag', {
      alarmDescription:
        "A credit check's decision has waited more than 15 minutes to be chained to the audit trail " +
        "(CheckLogLagSeconds, or no figure from the chainer): see the CreditChecks ChainFunction's logs.",
      metric: catalogueMetric('CheckLogLagSeconds', { period: GAUGE_ALARM_PERIOD }),
      threshold: 15 * 60,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
    });

    const rejectsRatio = new MathExpression({
      // FILL: a window with uploads of only good (or only bad) rows still has both terms; a window
      // without uploads is 0/0, no value, and missing data does not breach.
      expression: 'FILL(rejected, 0) / (FILL(ingested, 0) + FILL(rejected, 0))',
      usingMetrics: {
        rejected: catalogueMetric('RowsRejected', { period: REJECTS_PERIOD, statistic: Stats.SUM }),
        ingested: catalogueMetric('RowsIngested', { period: REJECTS_PERIOD, statistic: Stats.SUM }),
      },
      period: REJECTS_PERIOD,
      label: 'share of rows rejected',
    });
    this.rejectsRatioAlarm = alarm('RejectsRatio', {
      alarmDescription:
        `More than ${rejectsRatioThreshold * 100}% of the rows uploaded in 15 minutes were rejected: ` +
        'read the rejects reports next to the uploads.',
      metric: rejectsRatio,
      threshold: rejectsRatioThreshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.alarms = alarms;

    // ---- the dashboard ----
    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(1) });
    const section = (title: string, widgets: readonly IWidget[]) => {
      this.dashboard.addWidgets(new TextWidget({ markdown: `## ${title}`, width: 24, height: 1 }));
      for (let i = 0; i < widgets.length; i += WIDGETS_PER_ROW)
        this.dashboard.addWidgets(...widgets.slice(i, i + WIDGETS_PER_ROW));
    };
    const graph = (title: string, left: IMetric[], right: IMetric[] = [], extra: object = {}) =>
      new GraphWidget({ title, left, right, width: WIDGET_WIDTH, height: WIDGET_HEIGHT, ...extra });

    section('Alarms', [
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...alarms.values()], width: 24, height: 4 }),
    ]);

    // Every catalogue metric, by service; one line per combination of its extra dimensions' values
    // (CloudWatch matches a metric on all of its dimensions: `level` alone would find nothing).
    const specs = METRICS as readonly MetricSpec[];
    const periodOf = (name: MetricName) => (DAILY.has(name) ? DAILY_PERIOD : PERIOD);
    const daily = (names: readonly MetricName[]) =>
      names.some((n) => DAILY.has(n)) ? { start: DAILY_RANGE } : {};
    for (const service of [...new Set(specs.map((m) => m.service))]) {
      const widgets = specs
        .filter((m) => m.service === service)
        .flatMap((spec) => {
          const name = spec.name as MetricName;
          const group = COMBINED.find((g) => [...g.left, ...(g.right ?? [])].includes(name));
          if (group) {
            if (name !== group.left[0]) return [];
            const line = (n: MetricName) =>
              catalogueMetric(n, { period: periodOf(n) }).with({
                label: `${n} (${statisticOf(metricSpec(n))})`,
              });
            const right = group.right ?? [];
            return [
              graph(group.title, group.left.map(line), right.map(line), {
                ...daily([...group.left, ...right]),
                ...(group.rightLabel ? { rightYAxis: { label: group.rightLabel, min: 0 } } : {}),
              }),
            ];
          }
          const dims = Object.entries(spec.dimensions ?? {});
          const lines = dims.length
            ? dimensionCombinations(dims).map((extra) =>
                catalogueMetric(name, { extra }).with({ label: Object.values(extra).join(' ') }),
              )
            : [
                catalogueMetric(name, { period: periodOf(name) }).with({
                  label: `${spec.name} (${statisticOf(spec)})`,
                }),
              ];
          const annotations =
            name === 'OldestApprovalAge'
              ? { leftAnnotations: [{ value: approvalSlaHours * 3600, label: `SLA ${approvalSlaHours} h` }] }
              : {};
          return [
            graph(`${spec.name}: ${spec.description}`, lines, [], { ...annotations, ...daily([name]) }),
          ];
        });
      if (service === 'ingest')
        widgets.push(
          graph('Share of rows rejected', [rejectsRatio], [], {
            leftAnnotations: [{ value: rejectsRatioThreshold, label: 'alarm' }],
          }),
        );
      section(`Service: ${service}`, widgets);
    }

    section(
      'Lambda functions: errors and throttles (sum), duration (p95)',
      functions.map((f) =>
        graph(
          f.label,
          [
            f.fn.metricErrors({ period: PERIOD, statistic: Stats.SUM }),
            f.fn.metricThrottles({ period: PERIOD, statistic: Stats.SUM }),
          ],
          [f.fn.metricDuration({ period: PERIOD, statistic: Stats.p(95) })],
        ),
      ),
    );
    if (stateMachines.length > 0)
      section(
        'State machines: failed and timed-out executions',
        stateMachines.map((s) =>
          graph(s.label, [
            s.stateMachine.metricFailed({ period: PERIOD, statistic: Stats.SUM }),
            s.stateMachine.metricTimedOut({ period: PERIOD, statistic: Stats.SUM }),
          ]),
        ),
      );
    if (queues.length > 0)
      section('Queues: messages waiting, age of the oldest (s), dead letters', [
        ...queues.map((q) =>
          graph(
            q.label,
            [q.queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: Stats.MAXIMUM })],
            [q.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: Stats.MAXIMUM })],
          ),
        ),
        ...(deadLetterQueues.length > 0
          ? [
              graph(
                'Dead-letter queues',
                deadLetterQueues.map((d) =>
                  d.queue
                    .metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: Stats.MAXIMUM })
                    .with({ label: d.label }),
                ),
              ),
            ]
          : []),
      ]);

    this.acknowledge();
  }

  private acknowledge(): void {
    const stack = Stack.of(this);
    const fnId = stack.getLogicalId(this.gaugesFunction.node.defaultChild as CfnElement);
    Validations.of(this.schedulerRole.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason:
        "CDK's grantInvoke names the function and its versions and aliases (<arn>:*); the role may invoke the " +
        'gauges function only, and only EventBridge Scheduler of this account can assume it.',
    });
  }
}
