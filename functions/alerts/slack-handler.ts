// AWS wiring only: the webhook URL from Secrets Manager (Powertools parameters, cached), Powertools logger and metrics.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { createSlackHandler } from './slack-app.ts';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

const secretId = env('SLACK_WEBHOOK_SECRET_ARN');
/** A new webhook stored with put-secret-value is picked up within this many seconds. */
const SECRET_MAX_AGE_SECONDS = 300;

export const handler = createSlackHandler({
  webhookUrl: async () => {
    const value = await getSecret(secretId, { maxAge: SECRET_MAX_AGE_SECONDS });
    return typeof value === 'string' ? value : undefined;
  },
  logger: new Logger(),
  metrics: new Metrics(),
  consoleUrl: process.env.SENTINEL_CONSOLE_URL || undefined,
});
