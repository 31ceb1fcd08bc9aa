import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Name of the single global secondary index (`gsi1pk` / `gsi1sk`). */
export const GSI1_NAME = 'gsi1';

/**
 * Attribute DynamoDB TTL deletes on. Only Powertools idempotency records set it, and deletion is
 * best effort: code that cares about expiry checks it itself (dynalite has no TTL at all).
 */
export const TTL_ATTRIBUTE = 'expiration';

export interface DataStoreProps {
  /**
   * What happens to the table when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The single-table store: `pk`/`sk` plus one overloaded index `gsi1`. An `AWS::DynamoDB::Table`
 * (not TableV2's global table) so the cdk-nag DynamoDB rules, which only inspect that type, apply.
 */
export class DataStore extends Construct {
  public readonly table: Table;

  constructor(scope: Construct, id: string, props: DataStoreProps = {}) {
    super(scope, id);

    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: GSI1_NAME,
      partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
  }
}
