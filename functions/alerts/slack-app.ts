import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { snsMessageOf, UnreadableMessageError } from '../adapters/sns-envelope.ts';
import { alertsTopicMessageSchema, noticeOf } from './format.ts';
import {
  type PostOptions,
  postToSlack,
  SLACK_WEBHOOK_PLACEHOLDER,
  slackDigestMessage,
  slackMessage,
} from './slack.ts';

export interface SlackHandlerDeps {
  /**
   * The incoming-webhook URL, read where it is kept (Secrets Manager on AWS, cached). Empty,
   * undefined or the placeholder the stack creates the secret with: Slack is not set up.
   */
  readonly webhookUrl: () => Promise<string | undefined>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Base URL of the console, for an "Open the customer" button. @default no button */
  readonly consoleUrl?: string | undefined;
  /** Timeouts and retries of each post. @default postToSlack's */
  readonly post?: PostOptions | undefined;
}

/** Whether the secret holds a webhook rather than nothing or the placeholder. */
export function isConfigured(url: string | undefined): url is string {
  return url !== undefined && url.trim() !== '' && url.trim() !== SLACK_WEBHOOK_PLACEHOLDER;
}

/**
 * The Slack Lambda: SQS messages that are SNS notifications from the alerts topic (an alert's
 * notification or the daily digest, as the queue's subscription lets through), one Slack message
 * each. Records are posted one after the other (Slack allows about one message a second per webhook; 429s are waited out) and fail one by one: a failed post goes back to the queue,
 * which retries it and keeps it on its dead-letter queue after 3 receives. A message that is not
 * an alert fails too, so it lands there to be looked at instead of vanishing.
 */
export function createSlackHandler(deps: SlackHandlerDeps) {
  const { logger, metrics } = deps;
  const processor = new BatchProcessor(EventType.SQS);
  let warnedUnset = false;

  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const { message } = snsMessageOf(record);
    const parsed = alertsTopicMessageSchema.safeParse(message);
    if (!parsed.success)
      throw new UnreadableMessageError(
        `the SNS message is neither an alert nor a digest: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}`,
      );
    const m = parsed.data;
    const url = await deps.webhookUrl();
    if (!isConfigured(url)) {
      if (!warnedUnset)
        logger.warn('Slack webhook not set: alerts are not posted to Slack (see README, Deploy)');
      warnedUnset = true;
      metrics.addMetric('SlackNotConfigured', MetricUnit.Count, 1);
      return;
    }
    const what =
      m.type === 'alert.digest'
        ? { event: m.type, asOf: m.digest.asOf, active: m.digest.active }
        : { event: m.type, alertId: m.alert.alertId };
    try {
      const payload =
        m.type === 'alert.digest'
          ? slackDigestMessage(m.digest, deps.consoleUrl)
          : slackMessage(noticeOf(m), m.asOf, deps.consoleUrl);
      const { attempts } = await postToSlack(url.trim(), payload, deps.post);
      logger.info('posted to Slack', { ...what, attempts });
      metrics.addMetric('SlackPosted', MetricUnit.Count, 1);
    } catch (error) {
      // Errors from postToSlack never contain the webhook URL.
      logger.error('Slack post failed', { ...what, messageId: record.messageId, error });
      metrics.addMetric('SlackFailed', MetricUnit.Count, 1);
      throw error;
    }
  };

  const base = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });

  return middy(base).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
