import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';

/**
 * The JSON an SNS topic delivers to an SQS subscription without raw message delivery: the message
 * is the `Message` string, its attributes beside it. Every queue subscribed to a topic here uses
 * this form (the alerting construct never turns raw delivery on).
 */
export const snsEnvelopeSchema = z.looseObject({
  Type: z.literal('Notification'),
  MessageId: z.string(),
  TopicArn: z.string(),
  Message: z.string(),
  Subject: z.string().nullish(),
  Timestamp: z.string().optional(),
  MessageAttributes: z.record(z.string(), z.object({ Type: z.string(), Value: z.string() })).optional(),
});
export type SnsEnvelope = z.infer<typeof snsEnvelopeSchema>;

export class UnreadableMessageError extends Error {
  override readonly name = 'UnreadableMessageError';
}

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UnreadableMessageError(`${what} is not JSON`);
  }
}

/** The body of an SQS record as JSON. */
export function recordBody(record: Pick<SQSRecord, 'body'>): unknown {
  return json(record.body, 'the SQS message body');
}

/** Whether a parsed SQS body is an SNS notification envelope. */
export function isSnsEnvelope(body: unknown): boolean {
  return (body as { Type?: unknown } | null)?.Type === 'Notification';
}

/** The envelope and its message (parsed JSON) of an SQS record delivered by an SNS subscription. */
export function snsMessageOf(record: Pick<SQSRecord, 'body'>): { envelope: SnsEnvelope; message: unknown } {
  const parsed = snsEnvelopeSchema.safeParse(recordBody(record));
  if (!parsed.success)
    throw new UnreadableMessageError(
      `the SQS message is not an SNS notification: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}`,
    );
  return { envelope: parsed.data, message: json(parsed.data.Message, 'the SNS message') };
}
