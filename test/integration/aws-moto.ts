import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { Moto } from '../moto.ts';

/**
 * SNS on moto, read back the way the stack reads it: a topic with an SQS queue subscribed (no raw
 * delivery, as every subscription of the alerting construct), drained after each publish. What a
 * test sees is what moto's SNS accepted, filtered and delivered, not what the SDK was asked.
 */

/** One message as delivered to the queue: the SNS envelope, and the SQS record a Lambda gets. */
export interface Delivered {
  topicArn: string;
  subject: string | undefined;
  message: string;
  /** The envelope's `MessageAttributes` ({Type, Value}) in the Publish form ({DataType, StringValue}). */
  attributes: Record<string, { DataType: string; StringValue: string }>;
  envelope: Record<string, unknown>;
  /** The record an SQS event source mapping hands a function for this message. */
  record: SQSRecord;
}

export interface TopicWithQueue {
  topicArn: string;
  queueArn: string;
  sns: SNSClient;
  sqs: SQSClient;
  /** Every message delivered since the last drain, in order, deleted from the queue. */
  drain(): Promise<Delivered[]>;
  destroy(): void;
}

let n = 0;

export async function topicWithQueue(
  moto: Moto,
  name: string,
  opts: { filterPolicy?: Record<string, unknown> } = {},
): Promise<TopicWithQueue> {
  const sns = new SNSClient(moto.clientConfig);
  const sqs = new SQSClient(moto.clientConfig);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-q${++n}` }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const queueArn = attrs.Attributes?.QueueArn as string;
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: queueArn,
      Attributes: opts.filterPolicy ? { FilterPolicy: JSON.stringify(opts.filterPolicy) } : undefined,
    }),
  );
  const drain = async (): Promise<Delivered[]> => {
    const out: Delivered[] = [];
    for (;;) {
      const got = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 300,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const messages = got.Messages ?? [];
      if (messages.length === 0) return out;
      for (const m of messages) {
        const envelope = JSON.parse(m.Body ?? '{}') as Record<string, unknown>;
        const attributes = Object.fromEntries(
          Object.entries(
            (envelope.MessageAttributes ?? {}) as Record<string, { Type: string; Value: unknown }>,
          ).map(([k, a]) => [k, { DataType: a.Type, StringValue: String(a.Value) }]),
        );
        out.push({
          topicArn: envelope.TopicArn as string,
          subject: envelope.Subject as string | undefined,
          message: envelope.Message as string,
          attributes,
          envelope,
          record: {
            messageId: m.MessageId as string,
            receiptHandle: m.ReceiptHandle as string,
            body: m.Body as string,
            attributes: m.Attributes as unknown as SQSRecord['attributes'],
            messageAttributes: {},
            md5OfBody: m.MD5OfBody as string,
            eventSource: 'aws:sqs',
            eventSourceARN: queueArn,
            awsRegion: moto.clientConfig.region,
          },
        });
      }
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  };
  return {
    topicArn: TopicArn as string,
    queueArn,
    sns,
    sqs,
    drain,
    destroy: () => {
      sns.destroy();
      sqs.destroy();
    },
  };
}
