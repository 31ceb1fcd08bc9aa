import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type FunctionUrl, FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { SentinelFunction } from './function-defaults.ts';

export interface CreditChecksProps {
  readonly table: Table;
  /** IANA time zone of "today". @default 'UTC' */
  readonly timeZone?: string;
}

/**
 * Credit checks of orders (README "Credit checks"): `POST /credit-checks` behind a function URL
 * with IAM auth (an order system signs with SigV4 and is granted `lambda:InvokeFunctionUrl` on
 * it), the same handler the local console mounts under /api. It reads a few items of the
 * customer's partition by key, queries three small prefixes and the FX rates, and writes the
 * customer's `ORDERS` item on its version and the audit trail: the table's item actions only.
 */
export class CreditChecks extends Construct {
  public readonly fn: NodejsFunction;
  public readonly url: FunctionUrl;

  constructor(scope: Construct, id: string, props: CreditChecksProps) {
    super(scope, id);
    const f = new SentinelFunction(this, 'ChecksFunction', {
      entry: 'functions/checks/handler.ts',
      serviceName: 'credit-checks',
      description: 'Credit checks of orders: approve, approve-prepay, hold or block, with a reservation',
      timeout: Duration.seconds(10),
      environment: {
        TABLE_NAME: props.table.tableName,
        SENTINEL_TIME_ZONE: props.timeZone ?? 'UTC',
      },
    });
    this.fn = f.fn;
    this.url = this.fn.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
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
  }
}
