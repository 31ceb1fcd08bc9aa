import {
  type BatchResultErrorEntry,
  type MessageAttributeValue,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  SNSClient,
} from '@aws-sdk/client-sns';
import {
  alertEmailText,
  alertMessage,
  alertSubject,
  digestEmailText,
  digestMessage,
  digestSubject,
  SEVERITY_RANK_ATTRIBUTE,
  severityRank,
} from '../alerts/format.ts';
import type { IsoDate } from '../core/dates.ts';
import type { AlertDigest, Notification } from '../credit/alerts.ts';
import type { AlertNotifier } from '../credit/ports.ts';

/** SNS PublishBatch: at most 10 entries... */
export const PUBLISH_BATCH_MAX = 10;
/** ...and at most 256 KiB of messages and attributes in one request. */
export const PUBLISH_BATCH_BYTES = 256 * 1024;

export interface SnsAlertNotifierOptions {
  /** Tries per batch; entries SNS failed on its side (not the sender's fault) are tried again. @default 3 */
  readonly attempts?: number;
  /** First backoff between tries, doubled each time and jittered. @default 200 */
  readonly backoffMs?: number;
}

export class AlertPublishError extends Error {
  override readonly name = 'AlertPublishError';
  constructor(readonly failed: readonly BatchResultErrorEntry[]) {
    super(
      `SNS refused ${failed.length} alert notification${failed.length === 1 ? '' : 's'}: ` +
        failed
          .slice(0, 3)
          .map((f) => `${f.Code}${f.SenderFault ? ' (sender fault)' : ''}: ${f.Message ?? ''}`)
          .join('; '),
    );
  }
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** One PublishBatch entry: subject, per-protocol message, and the attributes subscriptions filter on. */
export function publishEntry(n: Notification, asOf: IsoDate, id: string): PublishBatchRequestEntry {
  const message = alertMessage(n, asOf);
  return {
    Id: id,
    Subject: alertSubject(n),
    // Queues and other subscribers get the JSON message; email subscribers a readable text.
    MessageStructure: 'json',
    Message: JSON.stringify({ default: JSON.stringify(message), email: alertEmailText(n, asOf) }),
    MessageAttributes: {
      event: text(message.type),
      severity: text(n.alert.severity),
      [SEVERITY_RANK_ATTRIBUTE]: { DataType: 'Number', StringValue: String(severityRank(n.alert.severity)) },
      rule: text(n.alert.rule),
      customerId: text(n.alert.customerId),
    },
  };
}

/**
 * The daily digest's entry: `event` = `alert.digest` and no severity, so the per-alert email
 * subscriptions (filtered on the alert events and `severityRank`) never get it; digest
 * subscriptions filter on the event.
 */
export function digestEntry(d: AlertDigest, id: string): PublishBatchRequestEntry {
  const message = digestMessage(d);
  return {
    Id: id,
    Subject: digestSubject(d),
    MessageStructure: 'json',
    Message: JSON.stringify({ default: JSON.stringify(message), email: digestEmailText(d) }),
    MessageAttributes: { event: text(message.type) },
  };
}

/** Bytes SNS counts against the batch limit: message, subject, attribute names, types and values. */
export function entryBytes(e: PublishBatchRequestEntry): number {
  let bytes = Buffer.byteLength(e.Message ?? '') + Buffer.byteLength(e.Subject ?? '');
  for (const [name, v] of Object.entries(e.MessageAttributes ?? {}))
    bytes +=
      Buffer.byteLength(name) + Buffer.byteLength(v.DataType ?? '') + Buffer.byteLength(v.StringValue ?? '');
  return bytes;
}

/** Groups entries, in order, into PublishBatch requests within the count and size limits. */
export function batchesOf(entries: readonly PublishBatchRequestEntry[]): PublishBatchRequestEntry[][] {
  const out: PublishBatchRequestEntry[][] = [];
  let batch: PublishBatchRequestEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = entryBytes(e);
    if (batch.length > 0 && (batch.length === PUBLISH_BATCH_MAX || bytes + size > PUBLISH_BATCH_BYTES)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(e);
    bytes += size;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/**
 * Publishes alert notifications on the alerts topic, up to 10 per PublishBatch request. Each
 * carries the attributes `event`, `severity`, `rule`, `customerId` (String) and `severityRank`
 * (Number: info 0, warning 1, high 2, critical 3), so a subscription can filter, e.g. email only
 * from `high` up; the daily digest goes out as one message with `event` = `alert.digest`. Throws
 * when an entry still fails after the retries.
 */
export class SnsAlertNotifier implements AlertNotifier {
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(
    private readonly topicArn: string,
    private readonly sns: SNSClient = new SNSClient({}),
    opts: SnsAlertNotifierOptions = {},
  ) {
    this.attempts = Math.max(1, opts.attempts ?? 3);
    this.backoffMs = opts.backoffMs ?? 200;
  }

  async notify(notifications: readonly Notification[], asOf: IsoDate): Promise<void> {
    const entries = notifications.map((n, i) => publishEntry(n, asOf, `n${i}`));
    for (const batch of batchesOf(entries)) await this.publish(batch);
  }

  async digest(d: AlertDigest): Promise<void> {
    await this.publish([digestEntry(d, 'digest')]);
  }

  private async publish(batch: PublishBatchRequestEntry[]): Promise<void> {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      const out = await this.sns.send(
        new PublishBatchCommand({ TopicArn: this.topicArn, PublishBatchRequestEntries: pending }),
      );
      const failed = out.Failed ?? [];
      if (failed.length === 0) return;
      // A sender fault (bad attribute, too large) fails the same way every time.
      if (attempt >= this.attempts || failed.some((f) => f.SenderFault)) throw new AlertPublishError(failed);
      const retry = new Set(failed.map((f) => f.Id));
      pending = pending.filter((e) => retry.has(e.Id));
      await sleep(this.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
    }
  }
}
