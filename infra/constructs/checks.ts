import { type CfnElement, CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias, type CfnFunction, type FunctionUrl, FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../functions/adapters/table-schema.ts';
import { SentinelFunction } from './function-defaults.ts';
import { schedulerRole } from './scheduler-role.ts';

/** How often the chainer puts the checks' logged decisions on the audit trail. */
export const CHAIN_RATE = Duration.minutes(1);
/** How often the hold queue is checked again (held orders whose cause cleared are released). */
export const RECHECK_RATE = Duration.minutes(15);

export interface CreditChecksProps {
  readonly table: Table;
  /** IANA time zone of "today". @default 'UTC' */
  readonly timeZone?: string;
  /**
   * Instances of the checks function kept initialised (an alias `live` with provisioned
   * concurrency; the function URL on it), so no check waits for a cold start: p99 ≤ 300 ms
   * (README "Credit checks", "Capacity"). @default none: cold starts are possible at low traffic
   */
  readonly provisionedConcurrency?: number;
}

/**
 * Credit checks of orders (README "Credit checks"): `POST /credit-checks` behind a function URL
 * with IAM auth (an order system signs with SigV4 and is granted `lambda:InvokeFunctionUrl` on
 * it), the same handler the local console mounts under /api. It reads a few items of the
 * customer's partition by key, queries three small prefixes and the FX rates, and writes the
 * customer's `ORDERS` item on its version and logs its decision in the customer's partition: the
 * table's item actions only. A chainer puts the logged decisions on the audit trail every minute.
 */
export class CreditChecks extends Construct {
  public readonly fn: NodejsFunction;
  public readonly url: FunctionUrl;
  /** With `provisionedConcurrency`: the alias the URL invokes, its instances kept warm. */
  public readonly alias?: Alias;
  /** Appends the logged decisions to the audit trail (every minute, one at a time). */
  public readonly chainFunction: NodejsFunction;
  public readonly chainSchedule: Schedule;
  /** Runs the chain function with `{type: 'checks.recheck'}`: the hold queue checked again. */
  public readonly recheckSchedule: Schedule;

  constructor(scope: Construct, id: string, props: CreditChecksProps) {
    super(scope, id);
    const f = new SentinelFunction(this, 'ChecksFunction', {
      entry: 'functions/checks/handler.ts',
      serviceName: 'credit-checks',
      description: 'Credit checks of orders: approve, approve-prepay, hold or block, with a reservation',
      timeout: Duration.seconds(10),
      // Lambda's CPU grows with its memory: the SDK's signing and JSON are most of a check's work.
      memorySize: 1024,
      environment: {
        TABLE_NAME: props.table.tableName,
        SENTINEL_TIME_ZONE: props.timeZone ?? 'UTC',
      },
    });
    this.fn = f.fn;
    const warm = props.provisionedConcurrency;
    if (warm !== undefined && (!Number.isInteger(warm) || warm < 1))
      throw new Error(`checksProvisionedConcurrency must be a whole number of at least 1, not ${warm}`);
    this.alias =
      warm === undefined
        ? undefined
        : new Alias(this, 'Live', {
            aliasName: 'live',
            version: this.fn.currentVersion,
            provisionedConcurrentExecutions: warm,
          });
    this.url = (this.alias ?? this.fn).addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:BatchGetItem',
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
        resources: [props.table.tableArn],
      }),
    );
    Validations.of(f.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray writes support no resource-level permissions; every data grant names its table.',
    });
    new CfnOutput(this, 'CreditChecksUrl', { value: this.url.url });

    // The chainer: each check logs its decision in the customer's partition (no wait on the one
    // audit chain); every minute this appends what waits to the trail in batches. One at a time.
    const chain = new SentinelFunction(this, 'ChainFunction', {
      entry: 'functions/checks/chain-handler.ts',
      serviceName: 'credit-checks',
      description: "Appends the credit checks' logged decisions to the audit trail in batches, every minute",
      timeout: Duration.minutes(2),
      environment: { TABLE_NAME: props.table.tableName, SENTINEL_TIME_ZONE: props.timeZone ?? 'UTC' },
    });
    this.chainFunction = chain.fn;
    // One chainer at a time: two would only race for the same claims.
    (this.chainFunction.node.defaultChild as CfnFunction).reservedConcurrentExecutions = 1;
    this.chainFunction.addToRolePolicy(
      new PolicyStatement({
        // The waiting entries by the sparse index; claim and mark them; the audit trail's append.
        // The hold queue's re-check: the queue by the index, each order's check (its fixed items
        // by BatchGetItem, its reservation and hold written on their versions).
        actions: [
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
        resources: [props.table.tableArn, `${props.table.tableArn}/index/${TABLE_SCHEMA.gsi.name}`],
      }),
    );
    Validations.of(chain.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray writes support no resource-level permissions; every data grant names its table.',
    });
    const role = schedulerRole(
      this,
      'ChainSchedulerRole',
      "Lets EventBridge Scheduler run the credit checks' chainer",
    );
    this.chainSchedule = new Schedule(this, 'ChainSchedule', {
      description: "Appends the credit checks' logged decisions to the audit trail every minute",
      schedule: ScheduleExpression.rate(CHAIN_RATE),
      target: new LambdaInvoke(this.chainFunction, {
        input: ScheduleTargetInput.fromObject({ type: 'checks.chain' }),
        role,
        // The next minute's run takes what a failed one left: no dead letters, short retries.
        retryAttempts: 2,
        maxEventAge: CHAIN_RATE,
      }),
    });
    this.recheckSchedule = new Schedule(this, 'RecheckSchedule', {
      description: 'Checks the held orders again every 15 minutes: those whose cause cleared are released',
      schedule: ScheduleExpression.rate(RECHECK_RATE),
      target: new LambdaInvoke(this.chainFunction, {
        input: ScheduleTargetInput.fromObject({ type: 'checks.recheck' }),
        role,
        // One chainer at a time: a re-check throttled behind a chain run is retried, else the next one.
        retryAttempts: 2,
        maxEventAge: RECHECK_RATE,
      }),
    });
    const fnId = Stack.of(this).getLogicalId(this.chainFunction.node.defaultChild as CfnElement);
    Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason:
        "CDK's grantInvoke names the function and its versions and aliases (<arn>:*); the role may invoke the " +
        'chainer only, and only EventBridge Scheduler of this account can assume it.',
    });
  }
}
