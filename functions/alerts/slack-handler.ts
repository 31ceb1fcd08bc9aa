// AWS wiring only: the webhook URL from Secrets Manager (Powertools parameters, cached), Powertools logger, metrics and tracer.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { traced, traceHandler } from '../adapters/lambda.ts';
import { createSlackHandler } from './slack-app.ts';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

const secretId = env('SLACK_WEBHOOK_SECRET_ARN');
/** A new webhook stored with put-secret-value is picked up within this many seconds. */
const SECRET_MAX_AGE_SECONDS = 300;

/** Powertools' cached secrets, read through a traced client. */
const secrets = new SecretsProvider({ awsSdkV3Client: traced(new SecretsManagerClient({})) });
const logger = new Logger();

/** A batch of alerts from the queue: no one id to correlate (each post logs its alert). */
export const handler = traceHandler(
  createSlackHandler({
    webhookUrl: async () => {
      const value = await secrets.get(secretId, { maxAge: SECRET_MAX_AGE_SECONDS });
      return typeof value === 'string' ? value : undefined;
    },
    logger,
    metrics: new Metrics(),
    consoleUrl: process.env.SENTINEL_CONSOLE_URL || undefined,
  }),
  logger,
);
