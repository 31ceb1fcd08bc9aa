import { readFileSync } from 'node:fs';
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { z } from 'zod';
import { SLACK_MODES } from '../functions/alerts/slack.ts';
import { SEVERITIES } from '../functions/credit/policy.ts';
import type { AlertEmail } from './constructs/alerting.ts';
import { MAX_EVALUATION_CONCURRENCY } from './constructs/evaluation.ts';
import { MAX_REVIEW_CONCURRENCY } from './constructs/reviews.ts';
import { CreditSentinelStack } from './stack.ts';

const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** `cdk synth -c retainData=false` passes the string 'false'; cdk.json passes a boolean. */
const contextBoolean = z.union([
  z.boolean(),
  z.enum(['true', 'false']).transform((value) => value === 'true'),
]);

/** `-c alertEmails='[...]'` passes JSON text; cdk.json passes the array itself. */
const jsonText = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};

const alertEmails = z.preprocess(
  jsonText,
  z
    .array(
      z
        .strictObject({
          address: z.email(),
          /** Every alert of this severity and above, as it opens or escalates. */
          minSeverity: z.enum(SEVERITIES).optional(),
          /** The daily digest of the active alerts instead. */
          digest: z.literal(true).optional(),
        })
        .refine(
          (e) => (e.minSeverity === undefined) !== (e.digest === undefined),
          'needs either "minSeverity" (each alert from that severity up) or "digest": true (the daily digest)',
        )
        // Exactly one of the two, as the refinement checked.
        .transform((e) => e as AlertEmail),
      {
        error: (issue) =>
          issue.input === undefined
            ? undefined
            : 'must be a JSON array such as [{"address":"credit@example.com","minSeverity":"high"},{"address":"cfo@example.com","digest":true}]',
      },
    )
    .refine(
      (list) => new Set(list.map((e) => e.address.toLowerCase())).size === list.length,
      'lists an address more than once',
    ),
);

/** Deployment settings read from CDK context (cdk.json `context` or `-c key=value`). */
export const sentinelConfig = z.object({
  timeZone: z
    .string()
    .refine(isTimeZone, { message: 'must be an IANA time zone, e.g. Europe/Amsterdam' })
    .default('UTC'),
  /** Who the ops topic emails: every CloudWatch alarm, when it fires and when it clears. */
  alarmEmail: z.email().optional(),
  /** Who is told of every limit a periodic review cuts and of each review run's summary. */
  reviewEmail: z.email().optional(),
  retainData: contextBoolean.default(true),
  /**
   * The shipped example approvers, deployed with none of their example addresses subscribed (a
   * warning says so). @default true when no approvalPolicy is given (so a plain `cdk synth` works
   * offline), false when one is: a given policy with example addresses is refused.
   */
  demo: contextBoolean.optional(),
  /**
   * Approval emails through SES from this address (an SES identity verified in the stack's Region,
   * or an address of a verified domain); without it they go through SNS email and the synth warns.
   */
  approvalEmailFrom: z.email().optional(),
  /** The SES configuration set approval emails are sent through (only with approvalEmailFrom). */
  sesConfigurationSet: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, {
      message: 'must be an SES configuration set name: 1-64 letters, digits, _ or -',
    })
    .optional(),
  /**
   * Review batches run at once by the Distributed Map. Default 5: a new account's Lambda
   * concurrency quota is 10 for every function together. Raise it with the quota (README).
   */
  reviewConcurrency: z.coerce.number().int().min(1).max(MAX_REVIEW_CONCURRENCY).optional(),
  /** Daily evaluation batches run at once by its Distributed Map. Default 5, as for the review. */
  evaluationConcurrency: z.coerce.number().int().min(1).max(MAX_EVALUATION_CONCURRENCY).optional(),
  /**
   * Reserved concurrency of the public approval pages function. Default none: Lambda keeps 100 of
   * the account's concurrency unreserved, so reserving N needs a quota of at least 100 + N.
   */
  webReservedConcurrency: z.coerce.number().int().min(1).optional(),
  /** Provisioned concurrency of the credit checks function (its `live` alias). Default none. */
  checksProvisionedConcurrency: z.coerce.number().int().min(1).optional(),
  /** The approval pages behind CloudFront and AWS WAF (README "Deploy to AWS"). */
  approvalPagesCdn: contextBoolean.default(false),
  /** An existing CloudFront WebACL (created in us-east-1) for approvalPagesCdn in another Region. */
  approvalPagesWebAclArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]+\/[\w-]+$/,
      'must be the ARN of a CloudFront WebACL: arn:aws:wafv2:us-east-1:ACCOUNT:global/webacl/NAME/ID',
    )
    .optional(),
  /** Email subscriptions to the alerts topic: who gets which severities (filtered on `severityRank`), or the daily digest. */
  alertEmails: alertEmails.optional(),
  /** What the Slack channel gets: each alert as it opens or escalates, the daily digest, or both. */
  slackAlerts: z.enum(SLACK_MODES).default('each'),
  /**
   * The approval policy: a path to a JSON file (`-c approvalPolicy=approvals.json`) or the document
   * itself; validated by the Approvals construct. Default: policies/approvals.json.
   */
  approvalPolicy: z
    .unknown()
    .optional()
    .transform((v, ctx) => {
      if (typeof v !== 'string') return v;
      const text = v.trim().startsWith('{') ? v : readFileOrIssue(v, ctx);
      try {
        return text === undefined ? undefined : (JSON.parse(text) as unknown);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: `is not JSON: ${(e as Error).message}` });
        return undefined;
      }
    }),
});

function readFileOrIssue(path: string, ctx: z.RefinementCtx): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${(e as Error).message}` });
    return undefined;
  }
}
export type SentinelConfig = z.infer<typeof sentinelConfig>;

export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

/** Reads and validates the sentinel settings from an app's context. */
export const readConfig = (app: App): SentinelConfig => {
  const raw = Object.fromEntries(
    Object.keys(sentinelConfig.shape).map((key) => [key, app.node.tryGetContext(key) ?? undefined]),
  );
  const parsed = sentinelConfig.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidConfigError(`Invalid CDK context:\n${z.prettifyError(parsed.error)}`);
  }
  if (parsed.data.sesConfigurationSet && !parsed.data.approvalEmailFrom)
    throw new InvalidConfigError(
      'Invalid CDK context: sesConfigurationSet applies to SES only: pass -c approvalEmailFrom=<address of a verified SES identity> too',
    );
  return parsed.data;
};

export const STACK_ID = 'CreditSentinel';

/**
 * The CDK feature flags of cdk.json (every flag a new project gets from `cdk init`, as aws-cdk-lib
 * lists them in recommended-feature-flags.json). The CLI passes them from cdk.json; `buildApp`
 * applies them too, so the tests synthesize what a deploy does.
 */
export const FEATURE_FLAGS: Readonly<Record<string, unknown>> = Object.fromEntries(
  Object.entries(
    (
      JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
        context: Record<string, unknown>;
      }
    ).context,
  ).filter(([key]) => key.startsWith('@aws-cdk')),
);

export interface SentinelApp {
  readonly app: App;
  readonly stack: CreditSentinelStack;
  readonly config: SentinelConfig;
}

/**
 * Builds the whole CDK app: config from context, the stack, and cdk-nag AwsSolutions checks
 * (v3 validation plugin: a finding fails synthesis unless acknowledged on its construct).
 * Used by `infra/app.ts` and by the infrastructure tests, so both synthesize the same thing.
 */
export const buildApp = (props: AppProps = {}): SentinelApp => {
  // Flags first: a context given here (or by the CLI's -c) wins.
  const app = new App({ ...props, context: { ...FEATURE_FLAGS, ...props.context } });
  const config = readConfig(app);
  const stack = new CreditSentinelStack(app, STACK_ID, {
    description: 'Credit Sentinel: serverless credit-risk monitoring',
    timeZone: config.timeZone,
    retainData: config.retainData,
    alertEmails: config.alertEmails ?? [],
    slackAlerts: config.slackAlerts,
    approvalPolicy: config.approvalPolicy,
    demo: config.demo ?? config.approvalPolicy === undefined,
    ...(config.approvalEmailFrom
      ? {
          approvalEmail: {
            from: config.approvalEmailFrom,
            ...(config.sesConfigurationSet ? { configurationSet: config.sesConfigurationSet } : {}),
          },
        }
      : {}),
    opsEmails: config.alarmEmail ? [config.alarmEmail] : [],
    reviewEmails: config.reviewEmail ? [config.reviewEmail] : [],
    ...(config.reviewConcurrency === undefined ? {} : { reviewConcurrency: config.reviewConcurrency }),
    ...(config.evaluationConcurrency === undefined
      ? {}
      : { evaluationConcurrency: config.evaluationConcurrency }),
    ...(config.webReservedConcurrency === undefined
      ? {}
      : { webReservedConcurrency: config.webReservedConcurrency }),
    ...(config.checksProvisionedConcurrency === undefined
      ? {}
      : { checksProvisionedConcurrency: config.checksProvisionedConcurrency }),
    approvalPagesCdn: config.approvalPagesCdn,
    ...(config.approvalPagesWebAclArn ? { approvalPagesWebAclArn: config.approvalPagesWebAclArn } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config };
};
