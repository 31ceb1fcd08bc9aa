import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { ChangeNotifier, CustomersChanged } from '../ingest/ports.ts';

/** Publishes "customers changed" to an SNS topic; subscribers filter on the `type` attribute. */
export class SnsChangeNotifier implements ChangeNotifier {
  constructor(
    private readonly topicArn: string,
    private readonly sns: SNSClient = new SNSClient({}),
  ) {}

  async customersChanged(message: CustomersChanged): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Message: JSON.stringify(message),
        MessageAttributes: {
          type: { DataType: 'String', StringValue: message.type },
          runId: { DataType: 'String', StringValue: message.runId },
        },
      }),
    );
  }
}
