import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { SlackMode } from '../functions/alerts/slack.ts';
import { type AlertEmail, Alerting } from './constructs/alerting.ts';
import { Approvals } from './constructs/approvals.ts';
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
  /**
   * Email addresses subscribed to the alerts topic, each from a minimum severity up.
   * @default - none (Slack and other subscribers only)
   */
  readonly alertEmails?: readonly AlertEmail[];
  /** What the Slack channel gets. @default 'each' */
  readonly slackAlerts?: SlackMode;
  /** The approval policy document (validated at synth). @default policies/approvals.json */
  readonly approvalPolicy?: unknown;
}

/** Composes one construct per capability; resources and grants live in the constructs. */
export class CreditSentinelStack extends Stack {
  public readonly dataStore: DataStore;
  public readonly ingestion: Ingestion;
  public readonly alerting: Alerting;
  public readonly approvals: Approvals;

  constructor(scope: Construct, id: string, props: CreditSentinelStackProps = {}) {
    super(scope, id, props);
    const removalPolicy = (props.retainData ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.dataStore = new DataStore(this, 'DataStore', { removalPolicy });
    this.ingestion = new Ingestion(this, 'Ingestion', {
      table: this.dataStore.table,
      timeZone: props.timeZone ?? 'UTC',
      removalPolicy,
    });
    this.alerting = new Alerting(this, 'Alerting', {
      table: this.dataStore.table,
      changesTopic: this.ingestion.changesTopic,
      timeZone: props.timeZone ?? 'UTC',
      alertEmails: props.alertEmails ?? [],
      slackAlerts: props.slackAlerts ?? 'each',
    });

    this.approvals = new Approvals(this, 'Approvals', {
      table: this.dataStore.table,
      slackWebhookSecret: this.alerting.slackWebhookSecret,
      changesTopic: this.ingestion.changesTopic,
      timeZone: props.timeZone ?? 'UTC',
      approvalPolicy: props.approvalPolicy,
    });

    new CfnOutput(this, 'UploadBucketName', { value: this.ingestion.bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.dataStore.table.tableName });
    new CfnOutput(this, 'ChangesTopicArn', { value: this.ingestion.changesTopic.topicArn });
    new CfnOutput(this, 'AlertsTopicArn', { value: this.alerting.alertsTopic.topicArn });
    new CfnOutput(this, 'SlackWebhookSecretArn', { value: this.alerting.slackWebhookSecret.secretArn });
  }
}
