import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type FunctionUrl, FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { WEB_TABLE_ACTIONS } from './approvals.ts';
import { reservePublicConcurrency, SentinelFunction } from './function-defaults.ts';

export interface CustomerPortalProps {
  readonly table: Table;
  /** The approval links' key: portal links are signed with a key derived from it for the portal alone. */
  readonly linkKey: Secret;
  /** IANA time zone of "today". @default 'UTC' */
  readonly timeZone?: string;
  /** Reserved concurrency of the public function (see the approval pages' own). @default - none */
  readonly reservedConcurrency?: number;
}

/**
 * The customer portal (README "Collections"): the page a payment reminder links to, where the
 * customer sees its statement, promises a date or disputes an invoice. A function URL without AWS
 * auth (the signed link is the credential, as for the approval pages), the same handler the local
 * console serves. The collections function is given its address to put in each reminder.
 */
export class CustomerPortal extends Construct {
  public readonly fn: NodejsFunction;
  public readonly url: FunctionUrl;

  constructor(scope: Construct, id: string, props: CustomerPortalProps) {
    super(scope, id);
    const f = new SentinelFunction(this, 'PortalFunction', {
      entry: 'functions/collections/portal-handler.ts',
      serviceName: 'customer-portal',
      description: "Customer portal: a reminder's statement, a promise to pay, a dispute (signed links)",
      timeout: Duration.seconds(10),
      environment: {
        TABLE_NAME: props.table.tableName,
        SENTINEL_TIME_ZONE: props.timeZone ?? 'UTC',
        LINK_KEY_SECRET_ARN: props.linkKey.secretArn,
      },
    });
    this.fn = f.fn;
    reservePublicConcurrency(this.fn, props.reservedConcurrency);
    this.url = this.fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    // What its paths call, on the table alone (the customer's partition, the promise, the dispute,
    // the audit trail): the approval pages' actions. GetSecretValue on the link key only; the
    // audit key and anchors come from AuditTrail.grantAppend in the stack.
    this.fn.addToRolePolicy(
      new PolicyStatement({ actions: [...WEB_TABLE_ACTIONS], resources: [props.table.tableArn] }),
    );
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [props.linkKey.secretArn],
      }),
    );
    Validations.of(f.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray writes support no resource-level permissions; every data grant names its table or secret.',
    });
    new CfnOutput(this, 'CustomerPortalUrl', { value: this.url.url });
  }

  /** Gives the collections function the portal's address and the key to sign each reminder's link. */
  linkFrom(collections: NodejsFunction, linkKey: Secret): void {
    collections.addEnvironment('PORTAL_BASE_URL', this.url.url);
    collections.addEnvironment('LINK_KEY_SECRET_ARN', linkKey.secretArn);
    collections.addToRolePolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [linkKey.secretArn] }),
    );
  }
}
