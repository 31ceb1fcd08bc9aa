import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DataStore } from './constructs/data-store.ts';
import { Ingestion } from './constructs/ingestion.ts';

export interface CreditSentinelStackProps extends StackProps {
  /**
   * IANA time zone business dates are computed in.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * Keep the table and the upload bucket (and its access logs) when they leave the stack.
   * @default true
   */
  readonly retainData?: boolean;
}

/** Composes one construct per capability; resources and grants live in the constructs. */
export class CreditSentinelStack extends Stack {
  public readonly dataStore: DataStore;
  public readonly ingestion: Ingestion;

  constructor(scope: Construct, id: string, props: CreditSentinelStackProps = {}) {
    super(scope, id, props);
    const removalPolicy = (props.retainData ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.dataStore = new DataStore(this, 'DataStore', { removalPolicy });
    this.ingestion = new Ingestion(this, 'Ingestion', {
      table: this.dataStore.table,
      timeZone: props.timeZone ?? 'UTC',
      removalPolicy,
    });

    new CfnOutput(this, 'UploadBucketName', { value: this.ingestion.bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.dataStore.table.tableName });
    new CfnOutput(this, 'ChangesTopicArn', { value: this.ingestion.changesTopic.topicArn });
  }
}
