// The Lambda entry points as the functions run them (functions/*/handler.ts, every export a
// construct names), shared by lambda-handlers.test.ts (tracing on, as in Lambda) and
// lambda-handlers-local.test.ts (tracing off, as everywhere else). The environment must be set
// before `loadHandlers()`: the modules build their clients, logger and tracer when imported.
import { createSocket, type Socket } from 'node:dgram';
import type { Context } from 'aws-lambda';
import { LOCAL_TABLE } from '../../infra/local/runtime/index.ts';

export interface Invocation {
  /** The module's path and export, e.g. `functions/transfers/handler.ts#web`. */
  readonly entry: string;
  readonly event: unknown;
  /** The correlation id its log lines must carry, if it has one. */
  readonly correlationId?: string;
  /** The AWS service whose traced call (an X-Ray subsegment) the invocation makes, if any. */
  readonly awsCall?: string;
}

const sqsRecord = (messageId: string, body: string) => ({
  messageId,
  receiptHandle: messageId,
  body,
  attributes: {},
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q',
  awsRegion: 'us-east-1',
});

const urlEvent = (method: string, path: string, requestId: string) => ({
  version: '2.0',
  rawPath: path,
  rawQueryString: '',
  headers: { host: 'example.lambda-url.us-east-1.on.aws' },
  isBase64Encoded: false,
  requestContext: { requestId, http: { method, path } },
});

/** One invocation of every handler export; each event is one the handler answers without real AWS. */
export const INVOCATIONS: readonly Invocation[] = [
  {
    entry: 'functions/ingest/handler.ts#handler',
    event: {
      Records: [
        sqsRecord(
          'm-ingest',
          JSON.stringify({
            Records: [
              {
                eventName: 'ObjectCreated:Put',
                s3: {
                  bucket: { name: 'uploads' },
                  object: { key: 'invoices/June+2025.csv', sequencer: '01' },
                },
              },
            ],
          }),
        ),
      ],
    },
    correlationId: 'invoices/June 2025.csv',
    awsCall: 'DynamoDB',
  },
  {
    entry: 'functions/credit/handler.ts#handler',
    event: { Records: [sqsRecord('m-credit', 'not a notification')] },
  },
  {
    entry: 'functions/credit/daily-run-handler.ts#handler',
    event: { step: 'batch', BatchInput: { runId: 'daily-7', asOf: '2026-11-30' }, Items: [] },
    correlationId: 'daily-7',
    awsCall: 'DynamoDB',
  },
  {
    entry: 'functions/collections/handler.ts#handler',
    event: { step: 'collect', BatchInput: { runId: 'daily-8', asOf: '2026-11-30' }, Items: [] },
    correlationId: 'daily-8',
    awsCall: 'DynamoDB',
  },
  { entry: 'functions/alerts/slack-handler.ts#handler', event: { Records: [] } },
  { entry: 'functions/ops/handler.ts#handler', event: {}, awsCall: 'DynamoDB' },
  {
    entry: 'functions/reviews/handler.ts#handler',
    event: { step: 'report', runId: 'run-42' },
    correlationId: 'run-42',
  },
  {
    entry: 'functions/transfers/handler.ts#steps',
    event: { step: 'gate', transferId: 'TR-7' },
    correlationId: 'TR-7',
    awsCall: 'DynamoDB',
  },
  {
    entry: 'functions/transfers/handler.ts#web',
    event: urlEvent('GET', '/no-such-page', 'req-web-1'),
    correlationId: 'req-web-1',
  },
  {
    entry: 'functions/transfers/handler.ts#api',
    event: urlEvent('GET', '/transfers/TR-404', 'req-api-1'),
    correlationId: 'req-api-1',
    awsCall: 'DynamoDB',
  },
  { entry: 'functions/transfers/handler.ts#slackDecisions', event: { Records: [] } },
];

/** The variables the handler modules read, every AWS endpoint local: dynalite, or a closed port. */
export function handlerEnv(dynamoEndpoint: string): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_MAX_ATTEMPTS: '1',
    // Nothing may reach real AWS: every service but DynamoDB gets a port nobody listens on.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    TABLE_NAME: LOCAL_TABLE,
    ALERTS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:alerts',
    CHANGES_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:changes',
    REVIEWS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:reviews',
    APPROVALS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:approvals',
    REPORTS_BUCKET: 'reports',
    RUNS_BUCKET: 'runs',
    SLACK_WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack',
    LINK_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:links',
    SLACK_DECISION_QUEUE_URL: 'http://127.0.0.1:9/123456789012/decisions',
    POWERTOOLS_SERVICE_NAME: 'handlers-test',
    POWERTOOLS_METRICS_NAMESPACE: 'CreditSentinelTest',
    // Every invocation logs its event through injectLambdaContext: a line with the context keys
    // even from a handler that logs nothing else.
    POWERTOOLS_LOGGER_LOG_EVENT: 'true',
  };
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export async function loadHandlers(): Promise<Map<string, Handler>> {
  const out = new Map<string, Handler>();
  for (const { entry } of INVOCATIONS) {
    const [path, name] = entry.split('#') as [string, string];
    const mod = (await import(`../../${path}`)) as Record<string, Handler>;
    const fn = mod[name];
    if (typeof fn !== 'function') throw new Error(`${entry} exports no handler`);
    out.set(entry, fn);
  }
  return out;
}

export const fakeContext = (name: string, requestId: string): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: name,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
  memoryLimitInMB: '256',
  awsRequestId: requestId,
  logGroupName: `/aws/lambda/${name}`,
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/** Runs one invocation, returning the JSON log lines it wrote to stdout (failures are the handler's business). */
export async function invoke(
  fn: Handler,
  event: unknown,
  context: Context,
): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    await fn(event, context).catch(() => undefined);
  } finally {
    process.stdout.write = write;
  }
  return lines
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => !('_aws' in l)); // the metrics' EMF lines are not the logger's
}

/** A stand-in X-Ray daemon: the UDP datagrams the X-Ray SDK sends, each a header line and a segment. */
export async function fakeXrayDaemon(): Promise<{
  address: string;
  segments: Record<string, unknown>[];
  datagrams: () => number;
  close(): Promise<void>;
}> {
  const socket: Socket = createSocket('udp4');
  const segments: Record<string, unknown>[] = [];
  let count = 0;
  socket.on('message', (msg) => {
    count++;
    const body = msg.toString('utf8').split('\n').slice(1).join('\n');
    if (body) segments.push(JSON.parse(body) as Record<string, unknown>);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    segments,
    datagrams: () => count,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The Powertools logger's Lambda context keys (injectLambdaContext). */
export const CONTEXT_KEYS = [
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
];
