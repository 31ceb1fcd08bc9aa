// AWS wiring only: builds the adapters from the environment and hands them to the transfer app.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { lambdaHandler, traced } from '../adapters/lambda.ts';
import { METRICS_NAMESPACE } from '../core/metrics.ts';
import { decideSlack, type FunctionUrlEvent, requestId, toRequest, toResult, transferHttp } from './http.ts';
import type { SlackInteraction } from './slack-verify.ts';
import { applicationsFromEnv, env, secretText, transferAppFromEnv } from './wiring.ts';
import type { StepPayload } from './workflow.ts';

const logger = new Logger();
/**
 * The four transfer functions have their own service names (logs, traces); their metrics all
 * carry `service=transfers`, the service the metric catalogue (functions/core/metrics.ts) names.
 */
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'transfers' });

const dynamo = traced(new DynamoDBClient({}));
const app = transferAppFromEnv({ client: dynamo, logger, metrics });
/** Traced, the logger given the Lambda context, the buffered metrics published at the end, failed or not. */
const wrap = { logger, metrics };

/** The state machine's Task states. A WorkflowError's name is the error the state machine catches. */
export const steps = lambdaHandler(
  async (event: StepPayload): Promise<unknown> => {
    logger.info('step', { step: event.step, transferId: event.transferId });
    return app.steps(event);
  },
  { ...wrap, correlation: (event) => event.transferId },
);

const sqs = traced(new SQSClient({}));
const pages = transferHttp(app, {
  faces: ['pages'],
  slackSigningSecret: () => secretText('SLACK_SIGNING_SECRET_ARN'),
  clock: { now: () => new Date() },
  // Slack wants its answer within 3 seconds: the verified press is queued and `slackDecisions` decides it.
  deferSlack: async (action) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: env('SLACK_DECISION_QUEUE_URL'),
        MessageBody: JSON.stringify(action),
      }),
    );
  },
});

/** The approval pages and Slack's interactivity endpoint (function URL, no AWS auth: the signed link is the credential). */
export const web = lambdaHandler(async (event: FunctionUrlEvent) => toResult(await pages(toRequest(event))), {
  ...wrap,
  correlation: requestId,
});

const apiHttp = transferHttp(app, {
  faces: ['api'],
  clock: { now: () => new Date() },
  // Credit applications: filed here as on the console (the initial limit goes to the state machine).
  applications: applicationsFromEnv({ client: dynamo, app }),
});

/**
 * POST /transfers, GET /transfers[/ID], POST /transfers/ID/recall|retry|paid, GET /approvals,
 * POST /applications, GET /applications[/ID] (function URL, IAM auth).
 */
export const api = lambdaHandler(
  async (event: FunctionUrlEvent) => toResult(await apiHttp(toRequest(event))),
  {
    ...wrap,
    correlation: requestId,
  },
);

/** Decides the Slack presses the web function queued (verified there); a failed one is retried, then dead-lettered. */
export const slackDecisions = lambdaHandler(
  async (event: { Records: { messageId: string; body: string }[] }) => {
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const r of event.Records) {
      try {
        const action = JSON.parse(r.body) as SlackInteraction;
        const out = await decideSlack(app, action);
        logger.info('slack decision', { ok: out.ok, refusal: out.ok ? undefined : out.refusal });
      } catch (e) {
        logger.error('slack decision failed', e as Error);
        batchItemFailures.push({ itemIdentifier: r.messageId });
      }
    }
    return { batchItemFailures };
  },
  wrap,
);
