// AWS wiring only: builds the adapters from the environment and hands them to the transfer app.
import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT, DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { DynamoTransferStore } from '../adapters/dynamodb-transfers.ts';
import { SfnWorkflow } from '../adapters/sfn.ts';
import { SnsChangeNotifier } from '../adapters/sns.ts';
import { SnsApprovalNotifier } from '../adapters/sns-approvals.ts';
import { SLACK_WEBHOOK_PLACEHOLDER } from '../alerts/slack.ts';
import { dateInZone } from '../core/dates.ts';
import { policyInForce } from '../credit/policy.ts';
import { TransferApp } from './app.ts';
import { parseApprovalPolicy } from './approval-policy.ts';
import { decideSlack, type HttpRequest, type HttpResponse, transferHttp } from './http.ts';
import type { LinkKey } from './links.ts';
import type { SlackInteraction } from './slack-verify.ts';
import type { StepPayload } from './workflow.ts';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}
const optional = (name: string) => process.env[name] || undefined;

const logger = new Logger();
const client = new DynamoDBClient({});
const tableName = env('TABLE_NAME');
const creditStore = new DynamoStore({ tableName, client });
const timeZone = process.env.SENTINEL_TIME_ZONE ?? 'UTC';
/** Secrets are read through Powertools' cache: a rotated key or a new webhook is picked up within this. */
const SECRET_MAX_AGE_SECONDS = 300;

const approvalPolicy = (() => {
  const text = optional('APPROVAL_POLICY_JSON');
  const r = parseApprovalPolicy(text ? JSON.parse(text) : DEFAULT_APPROVAL_POLICY_DOCUMENT);
  if (!r.ok)
    throw new Error(
      `the approval policy is invalid: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    );
  return r.policy;
})();

/** The link keys: one `{id, secret}` or a list (current first, so a rotation keeps old links working). */
async function linkKeys(): Promise<LinkKey[]> {
  const raw = await getSecret(env('LINK_KEY_SECRET_ARN'), {
    maxAge: SECRET_MAX_AGE_SECONDS,
    transform: 'json',
  });
  const list = (Array.isArray(raw) ? raw : [raw]) as { id: string; secret: string }[];
  return list.map((k) => ({ id: k.id, secret: Buffer.from(k.secret, 'utf8') }));
}

async function secretText(arnVar: string): Promise<string | undefined> {
  const arn = optional(arnVar);
  if (!arn) return undefined;
  const v = await getSecret(arn, { maxAge: SECRET_MAX_AGE_SECONDS });
  return typeof v === 'string' && v !== '' && v !== SLACK_WEBHOOK_PLACEHOLDER ? v : undefined;
}

const changesTopic = optional('CHANGES_TOPIC_ARN');
const app = new TransferApp({
  store: new DynamoTransferStore({ tableName, client }),
  // Only the API function starts executions (it alone has STATE_MACHINE_ARN); all answer task tokens.
  workflow: new SfnWorkflow(optional('STATE_MACHINE_ARN')),
  credit: creditStore,
  creditPolicy: async () => policyInForce(await creditStore.getPolicy(), DEFAULT_POLICY_DOCUMENT),
  approvalPolicy: async () => approvalPolicy,
  notifier: new SnsApprovalNotifier(
    optional('APPROVALS_TOPIC_ARN') ?? '',
    () => secretText('SLACK_WEBHOOK_SECRET_ARN'),
    (m) => logger.warn(m),
  ),
  keys: linkKeys,
  clock: { now: () => new Date() },
  today: () => dateInZone(new Date(), timeZone),
  baseUrl: () => optional('APPROVALS_BASE_URL') ?? '',
  changes: changesTopic ? new SnsChangeNotifier(changesTopic) : undefined,
});

/** The state machine's Task states. A WorkflowError's name is the error the state machine catches. */
export const steps = async (event: StepPayload): Promise<unknown> => {
  logger.info('step', { step: event.step, transferId: event.transferId });
  return app.steps(event);
};

interface FunctionUrlEvent {
  readonly rawPath: string;
  readonly headers?: Record<string, string | undefined>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: { readonly http: { readonly method: string } };
}

const toRequest = (e: FunctionUrlEvent): HttpRequest => ({
  method: e.requestContext.http.method,
  path: e.rawPath,
  headers: e.headers ?? {},
  body: e.body ? (e.isBase64Encoded ? Buffer.from(e.body, 'base64').toString('utf8') : e.body) : '',
});
const toResult = (r: HttpResponse) => ({ statusCode: r.status, headers: r.headers, body: r.body });

const sqs = new SQSClient({});
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
export const web = async (event: FunctionUrlEvent) => toResult(await pages(toRequest(event)));

const apiHttp = transferHttp(app, {
  faces: ['api'],
  clock: { now: () => new Date() },
});

/** POST /transfers, GET /transfers[/ID], POST /transfers/ID/recall, GET /approvals (function URL, IAM auth). */
export const api = async (event: FunctionUrlEvent) => toResult(await apiHttp(toRequest(event)));

/** Decides the Slack presses the web function queued (verified there); a failed one is retried, then dead-lettered. */
export const slackDecisions = async (event: { Records: { messageId: string; body: string }[] }) => {
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
};
