// AWS wiring only: one batch of the day's collections, the CollectBatch step of
// statemachines/daily-evaluation.asl.json (a Distributed Map child after the evaluation's report).
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { DynamoStore } from '../adapters/dynamodb.ts';
import { DynamoTransferStore } from '../adapters/dynamodb-transfers.ts';
import { lambdaHandler, traced } from '../adapters/lambda.ts';
import { SesOutreachSender } from '../adapters/ses-reminders.ts';
import { SLACK_WEBHOOK_PLACEHOLDER } from '../alerts/slack.ts';
import type { IsoDate } from '../core/dates.ts';
import { METRICS_NAMESPACE } from '../core/metrics.ts';
import { policyInForce } from '../credit/policy.ts';
import { auditFromEnv, linkKeys } from '../transfers/wiring.ts';
import { recordCollections } from './metrics.ts';
import type { OutreachSender } from './ports.ts';
import { collectionsRun } from './run.ts';

export interface CollectStep {
  readonly step: 'collect';
  readonly BatchInput: { readonly runId: string; readonly asOf: IsoDate };
  readonly Items: readonly string[];
}

/** Some steps of a batch were not delivered: thrown after the rest, so Step Functions retries the batch. */
export class RemindersNotSentError extends Error {
  constructor(failed: number, first: string) {
    super(`${failed} collection step${failed === 1 ? '' : 's'} not delivered (released, to retry): ${first}`);
    this.name = 'RemindersNotSentError';
  }
}

const tableName = process.env.TABLE_NAME;
if (!tableName) throw new Error('environment variable TABLE_NAME is not set');
/** Without a sender identity nothing is claimed or sent: each run decides and logs only (a dry run). */
const from = process.env.REMINDER_EMAIL_FROM || undefined;
/** The customer portal's address (its function URL): unset, reminders carry no link. */
const portalBaseUrl = process.env.PORTAL_BASE_URL || undefined;

const logger = new Logger();
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'collections' });
const client = traced(new DynamoDBClient({}));
const store = new DynamoStore({ tableName, client });
/** The run's holds and hand-overs go on the audit trail (its key and anchors, AUDIT_KEY_SECRET_ARN). */
const audit = new DynamoTransferStore({ tableName, client, ...auditFromEnv() });
const ses = traced(new SESv2Client({}));
const secrets = new SecretsProvider({ awsSdkV3Client: traced(new SecretsManagerClient({})) });

/** The Slack webhook, through Powertools' cache (a new one is picked up within 5 minutes); none while unset. */
async function slackWebhookUrl(): Promise<string | undefined> {
  const arn = process.env.SLACK_WEBHOOK_SECRET_ARN;
  if (!arn) return undefined;
  const v = await secrets.get(arn, { maxAge: 300 });
  return typeof v === 'string' && v !== '' && v !== SLACK_WEBHOOK_PLACEHOLDER ? v : undefined;
}

/** The batch's customers collected as of the run's day, the run id as the claimant (a retry finishes its claims). */
export const handler = lambdaHandler(
  async ({ BatchInput, Items }: CollectStep) => {
    const policy = policyInForce(await store.getPolicy(), DEFAULT_POLICY_DOCUMENT);
    if (!from) logger.warn('no REMINDER_EMAIL_FROM: a dry run, nothing claimed or sent');
    const sender: OutreachSender = from
      ? new SesOutreachSender({
          from,
          fromName: policy.collections?.creditor.name,
          configurationSet: process.env.SES_CONFIGURATION_SET || undefined,
          slackWebhookUrl,
          client: ses,
        })
      : { send: () => Promise.reject(new Error('no REMINDER_EMAIL_FROM: nothing is sent')) };
    const report = await collectionsRun(
      {
        store,
        sender,
        claimant: BatchInput.runId,
        now: () => new Date().toISOString(),
        // Each reminder links to the customer portal, signed with the approval links' key.
        portal: portalBaseUrl ? { baseUrl: portalBaseUrl, keys: await linkKeys() } : undefined,
        audit,
      },
      policy,
      { asOf: BatchInput.asOf, customerIds: Items, dryRun: !from },
    );
    recordCollections(metrics, report);
    const summary = {
      customers: report.customers,
      sent: report.steps.filter((s) => s.outcome === 'sent').length,
      failed: report.failed,
      byLevel: report.byLevel,
      ...(report.dryRun ? { dryRun: true } : {}),
    };
    const failed = report.steps.filter((s) => s.outcome === 'failed');
    if (failed.length === 0) {
      logger.info('collections batch', summary);
      return summary;
    }
    logger.error('collection steps not delivered', {
      ...summary,
      failedSteps: failed.map((s) => ({
        customerId: s.customerId,
        level: s.level,
        channel: s.channel,
        note: s.note,
      })),
    });
    const first = failed[0];
    throw new RemindersNotSentError(failed.length, `${first?.customerId} ${first?.level}: ${first?.note}`);
  },
  { logger, metrics, correlation: (e) => e.BatchInput?.runId },
);
