// AWS wiring of the transfer app, shared by the transfer functions and the review steps (which ask
// the approval chain for large limit increases): the adapters built from the environment.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT, DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { s3AuditAnchors, secretsManagerAuditKey } from '../adapters/audit-aws.ts';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { DynamoApplicationStore } from '../adapters/dynamodb-applications.ts';
import { DynamoCheckLog } from '../adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../adapters/dynamodb-checks.ts';
import { DynamoReviewStore } from '../adapters/dynamodb-reviews.ts';
import { DynamoTransferStore } from '../adapters/dynamodb-transfers.ts';
import { traced } from '../adapters/lambda.ts';
import { SesApprovalNotifier } from '../adapters/ses-approvals.ts';
import { SfnWorkflow } from '../adapters/sfn.ts';
import { SnsChangeNotifier } from '../adapters/sns.ts';
import { SnsApprovalNotifier } from '../adapters/sns-approvals.ts';
import { SLACK_WEBHOOK_PLACEHOLDER } from '../alerts/slack.ts';
import { applicationOutcomes } from '../applications/app.ts';
import { type ApplicationsApi, applicationsApi } from '../applications/http.ts';
import { orderReleaseOutcomes } from '../checks/holds.ts';
import type { AuditKey, AuditRecord } from '../core/audit.ts';
import { dateInZone } from '../core/dates.ts';
import { policyInForce } from '../credit/policy.ts';
import { TransferApp } from './app.ts';
import { parseApprovalPolicy } from './approval-policy.ts';
import type { LinkKey } from './links.ts';
import type { ApprovalNotifier } from './ports.ts';

export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}
export const optional = (name: string) => process.env[name] || undefined;

/** Secrets are read through Powertools' cache: a rotated key or a new webhook is picked up within this. */
const SECRET_MAX_AGE_SECONDS = 300;

/** Powertools' cached secrets, read through a traced client (X-Ray, when the function traces). */
const secrets = new SecretsProvider({ awsSdkV3Client: traced(new SecretsManagerClient({})) });
/** One traced SNS client for the approval notices and the customers-changed notices. */
let sns: SNSClient | undefined;
const snsClient = () => (sns ??= traced(new SNSClient({})));

/** The approval policy: APPROVAL_POLICY_JSON (set at synth from the stack prop) or the shipped example. */
function approvalPolicyFromEnv() {
  const text = optional('APPROVAL_POLICY_JSON');
  const r = parseApprovalPolicy(text ? JSON.parse(text) : DEFAULT_APPROVAL_POLICY_DOCUMENT);
  if (!r.ok)
    throw new Error(
      `the approval policy is invalid: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    );
  return r.policy;
}

/** The link keys: one `{id, secret}` or a list (current first, so a rotation keeps old links working). */
export async function linkKeys(): Promise<LinkKey[]> {
  const raw = await secrets.get(env('LINK_KEY_SECRET_ARN'), {
    maxAge: SECRET_MAX_AGE_SECONDS,
    transform: 'json',
  });
  const list = (Array.isArray(raw) ? raw : [raw]) as { id: string; secret: string }[];
  return list.map((k) => ({ id: k.id, secret: Buffer.from(k.secret, 'utf8') }));
}

/** A secret's text, or undefined while it holds the placeholder (or the variable is unset). */
export async function secretText(arnVar: string): Promise<string | undefined> {
  const arn = optional(arnVar);
  if (!arn) return undefined;
  const v = await secrets.get(arn, { maxAge: SECRET_MAX_AGE_SECONDS });
  return typeof v === 'string' && v !== '' && v !== SLACK_WEBHOOK_PLACEHOLDER ? v : undefined;
}

/** The audit key and anchor writer of this process, built once (the key is read once per cold start). */
let audit:
  | { auditKey?: () => Promise<AuditKey>; auditAnchor?: (rec: AuditRecord) => Promise<unknown> }
  | undefined;

/**
 * The audit settings of the stores: with AUDIT_KEY_SECRET_ARN, records are chained with HMAC under
 * the key in that secret; with AUDIT_ANCHOR_BUCKET too, a signed anchor of the new head is put in
 * that Object Lock bucket after every record. Neither set: a plain hash, as before keyed hashing.
 */
export function auditFromEnv(): {
  auditKey?: () => Promise<AuditKey>;
  auditAnchor?: (rec: AuditRecord) => Promise<unknown>;
} {
  audit ??= auditSettings();
  return audit;
}

function auditSettings(): NonNullable<typeof audit> {
  const secretArn = optional('AUDIT_KEY_SECRET_ARN');
  const bucket = optional('AUDIT_ANCHOR_BUCKET');
  if (!secretArn) return {};
  const auditKey = secretsManagerAuditKey(traced(new SecretsManagerClient({})), secretArn);
  if (!bucket) return { auditKey };
  const anchors = s3AuditAnchors({ client: traced(new S3Client({})), bucket, key: auditKey });
  return { auditKey, auditAnchor: (rec) => anchors.anchor(rec) };
}

/**
 * Where approval emails go: SES from APPROVAL_EMAIL_FROM (with SES_CONFIGURATION_SET if set) when
 * the stack was deployed with `-c approvalEmailFrom`, else the SNS topic APPROVALS_TOPIC_ARN.
 */
export function approvalNotifierFromEnv(log: (message: string) => void): ApprovalNotifier {
  const slackWebhookUrl = () => secretText('SLACK_WEBHOOK_SECRET_ARN');
  const from = optional('APPROVAL_EMAIL_FROM');
  if (from)
    return new SesApprovalNotifier({
      from,
      configurationSet: optional('SES_CONFIGURATION_SET'),
      slackWebhookUrl,
      log,
      client: traced(new SESv2Client({})),
    });
  return new SnsApprovalNotifier(optional('APPROVALS_TOPIC_ARN') ?? '', slackWebhookUrl, log, snsClient());
}

/**
 * The transfer app as the Lambdas run it: TABLE_NAME, SENTINEL_TIME_ZONE, STATE_MACHINE_ARN (only
 * functions that start executions), APPROVAL_EMAIL_FROM and SES_CONFIGURATION_SET or
 * APPROVALS_TOPIC_ARN, APPROVALS_BASE_URL, LINK_KEY_SECRET_ARN,
 * SLACK_WEBHOOK_SECRET_ARN, CHANGES_TOPIC_ARN, APPROVAL_POLICY_JSON, AUDIT_KEY_SECRET_ARN,
 * AUDIT_ANCHOR_BUCKET.
 */
export function transferAppFromEnv(deps: {
  client: DynamoDBClient;
  logger: Logger;
  metrics: Metrics;
}): TransferApp {
  const tableName = env('TABLE_NAME');
  const creditStore = new DynamoStore({ tableName, client: deps.client });
  const timeZone = process.env.SENTINEL_TIME_ZONE ?? 'UTC';
  const approvalPolicy = approvalPolicyFromEnv();
  const changesTopic = optional('CHANGES_TOPIC_ARN');
  const store = new DynamoTransferStore({ tableName, client: deps.client, ...auditFromEnv() });
  return new TransferApp({
    store,
    // Only functions given STATE_MACHINE_ARN start executions; all answer task tokens.
    workflow: new SfnWorkflow(optional('STATE_MACHINE_ARN'), traced(new SFNClient({}))),
    credit: creditStore,
    creditPolicy: async () => policyInForce(await creditStore.getPolicy(), DEFAULT_POLICY_DOCUMENT),
    approvalPolicy: async () => approvalPolicy,
    notifier: approvalNotifierFromEnv((m) => deps.logger.warn(m)),
    keys: linkKeys,
    clock: { now: () => new Date() },
    today: () => dateInZone(new Date(), timeZone),
    baseUrl: () => optional('APPROVALS_BASE_URL') ?? '',
    changes: changesTopic ? new SnsChangeNotifier(changesTopic, snsClient()) : undefined,
    metrics: deps.metrics,
    limits: new DynamoReviewStore({ tableName, client: deps.client, ...auditFromEnv() }),
    // A credit application's request opens the account and decides the application.
    applications: applicationOutcomes({
      store: new DynamoApplicationStore(deps.client, tableName),
      audit: store,
      clock: { now: () => new Date() },
    }),
    // An order release excepts the held order until its end, or leaves it held.
    orderReleases: orderReleaseOutcomes({
      store: new DynamoCheckStore(deps.client, tableName),
      log: new DynamoCheckLog(deps.client, tableName),
      clock: { now: () => new Date() },
    }),
    // A credit policy waits for its approval there; the execute step puts it in force.
    policies: creditStore,
  });
}

/**
 * Credit applications as the transfers API files and reads them (README "Credit applications"),
 * the same code as the console's: the applications store, the transfers store's audit trail, the
 * credit policy in force, the approval policy (the filer must be one of its people), and `app`,
 * whose state machine asks for the initial limit. TABLE_NAME, SENTINEL_TIME_ZONE,
 * APPROVAL_POLICY_JSON, AUDIT_KEY_SECRET_ARN, AUDIT_ANCHOR_BUCKET.
 */
export function applicationsFromEnv(deps: { client: DynamoDBClient; app: TransferApp }): ApplicationsApi {
  const tableName = env('TABLE_NAME');
  const creditStore = new DynamoStore({ tableName, client: deps.client });
  const timeZone = process.env.SENTINEL_TIME_ZONE ?? 'UTC';
  const approvalPolicy = approvalPolicyFromEnv();
  return applicationsApi({
    store: new DynamoApplicationStore(deps.client, tableName),
    audit: new DynamoTransferStore({ tableName, client: deps.client, ...auditFromEnv() }),
    policy: async () => policyInForce(await creditStore.getPolicy(), DEFAULT_POLICY_DOCUMENT),
    approvalPolicy: async () => approvalPolicy,
    approvals: deps.app,
    clock: { now: () => new Date() },
    today: () => dateInZone(new Date(), timeZone),
  });
}
