import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type {
  PublishBatchCommandInput,
  PublishBatchCommandOutput,
  PublishBatchRequestEntry,
} from '@aws-sdk/client-sns';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AlertPublishError, SnsAlertNotifier } from '../../functions/adapters/sns-alerts.ts';
import {
  alertMessageSchema,
  digestMessageSchema,
  digestSubject,
  noticeOf,
} from '../../functions/alerts/format.ts';
import { SLACK_WEBHOOK_PLACEHOLDER, slackDigestMessage, slackMessage } from '../../functions/alerts/slack.ts';
import { createSlackHandler } from '../../functions/alerts/slack-app.ts';
import { type AlertDigest, digestOf, type Notification, reconcile } from '../../functions/credit/alerts.ts';
import { createEvaluateHandler, type EvaluateHandlerDeps } from '../../functions/credit/app.ts';
import type { EvaluationRun } from '../../functions/credit/evaluate.ts';
import type { Severity } from '../../functions/credit/policy.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import type { CustomersChanged } from '../../functions/ingest/ports.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import { localContext } from '../../infra/local/runtime/inbox.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { localMetrics, readLocalMetrics } from '../../infra/local/runtime/metrics.ts';
import recorded from '../fixtures/sns-sqs-customers-changed.json' with { type: 'json' };
import { type Moto, startMoto } from '../moto.ts';
import { type Delivered, topicWithQueue } from './aws-moto.ts';
import { tableDump } from './helpers.ts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const TOPIC_NAME = 'CreditSentinel-AlertingAlertsTopic634A5F34-Q1w2E3r4T5y6';
/** What moto names the topic (eu-west-1, its account). */
const TOPIC_ARN = `arn:aws:sns:eu-west-1:123456789012:${TOPIC_NAME}`;

// ---- SNS on moto: what the notifier asked, and what moto delivered to a subscribed queue ----

interface Attribute {
  DataType: string;
  StringValue: string;
}
interface PublishedEntry {
  Id: string;
  Subject?: string;
  Message: string;
  MessageStructure?: string;
  attributes: Record<string, Attribute>;
}
interface PublishRequest {
  action: string;
  topicArn: string | undefined;
  entries: PublishedEntry[];
}
/** Which entries of a request SNS fails, and how (by entry id). */
type FailWith = (
  entry: PublishedEntry,
  request: number,
) => { code: string; senderFault: boolean } | undefined;

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.close();
});

const entryOf = (e: PublishBatchRequestEntry): PublishedEntry => ({
  Id: e.Id as string,
  Subject: e.Subject,
  Message: e.Message as string,
  MessageStructure: e.MessageStructure,
  attributes: Object.fromEntries(
    Object.entries(e.MessageAttributes ?? {}).map(([k, v]) => [
      k,
      { DataType: v.DataType as string, StringValue: v.StringValue as string },
    ]),
  ),
});

/**
 * The alerts topic on moto with a queue subscribed. `requests` are the PublishBatch calls as the
 * notifier made them (a middleware keeps each input); `delivered()` what moto accepted and
 * delivered. Entries `failWith` names are failed as SNS fails them on its side or refuses them:
 * moto cannot be made to, so the middleware keeps those entries from it and adds them to the
 * answer's `Failed`, the rest going to moto as asked.
 */
async function startSns(failWith: FailWith = () => undefined) {
  const topic = await topicWithQueue(moto, TOPIC_NAME);
  if (topic.topicArn !== TOPIC_ARN) throw new Error(`unexpected topic ARN ${topic.topicArn}`);
  const requests: PublishRequest[] = [];
  topic.sns.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as PublishBatchCommandInput;
      const all = input.PublishBatchRequestEntries ?? [];
      const n =
        requests.push({
          action: (context.commandName as string).replace(/Command$/, ''),
          topicArn: input.TopicArn,
          entries: all.map(entryOf),
        }) - 1;
      const failing = all
        .map((e) => ({ e, fail: failWith(entryOf(e), n) }))
        .filter((f) => f.fail !== undefined);
      if (failing.length === 0) return next(args);
      const kept = all.filter((e) => !failing.some((f) => f.e.Id === e.Id));
      const result =
        kept.length > 0
          ? await next({ ...args, input: { ...input, PublishBatchRequestEntries: kept } })
          : { response: {}, output: { Successful: [], Failed: [], $metadata: {} } };
      const output = result.output as PublishBatchCommandOutput;
      output.Failed = [
        ...(output.Failed ?? []),
        ...failing.map((f) => ({
          Id: f.e.Id as string,
          Code: f.fail?.code as string,
          Message: 'injected',
          SenderFault: f.fail?.senderFault as boolean,
        })),
      ];
      return result;
    },
    { step: 'initialize', name: 'failEntries' },
  );
  return {
    requests,
    client: topic.sns,
    delivered: () => topic.drain(),
    close: async () => topic.destroy(),
  };
}

// ---- real alerts, from the alert lifecycle ----

const AS_OF = '2025-06-30';
const NOW = '2025-06-30T05:00:03.000Z';

function opened(customerId: string, severity: Severity, days = 75): Notification {
  const { notify } = reconcile(
    [],
    [
      {
        customerId,
        rule: 'daysPastDue',
        severity,
        action: severity === 'critical' ? 'cut_limit' : 'collect',
        asOf: AS_OF,
        policyId: 'default-2026.11+3f9a1c2e',
        evidence: { maxDaysPastDue: days, overdueAmount: '12450.00', openInvoices: 4 },
        summary: `an invoice is ${days} days past due`,
      },
    ],
    AS_OF,
    NOW,
  );
  return notify[0] as Notification;
}

function escalated(from: Notification, to: Severity): Notification {
  const { notify } = reconcile(
    [from.alert],
    [
      {
        customerId: from.alert.customerId,
        rule: from.alert.rule,
        severity: to,
        action: 'cut_limit',
        asOf: '2025-07-30',
        policyId: from.alert.policyId,
        evidence: { ...from.alert.evidence, maxDaysPastDue: 105 },
        summary: 'an invoice is 105 days past due',
      },
    ],
    '2025-07-30',
    '2025-07-30T05:00:02.000Z',
  );
  const [n] = notify;
  if (n?.reason !== 'escalated') throw new Error('expected an escalation');
  return n;
}

const quietLogger = () => new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const metrics = (service: string) =>
  new Metrics({ namespace: 'CreditSentinelTest', serviceName: service, logger: quietLogger() });

describe('SnsAlertNotifier on SNS', () => {
  it('publishes one batch with subject, per-protocol message and filterable attributes', async () => {
    const sns = await startSns();
    try {
      const high = opened('ACME-1', 'high');
      const info = opened('Großhandel Süd', 'info', 31);
      const critical = escalated(opened('BOLT-7', 'warning', 40), 'critical');
      await new SnsAlertNotifier(TOPIC_ARN, sns.client).notify([high, critical, info], AS_OF);

      expect(sns.requests).toHaveLength(1);
      const [request] = sns.requests;
      expect(request?.action).toBe('PublishBatch');
      expect(request?.topicArn).toBe(TOPIC_ARN);
      expect(request?.entries.map((e) => e.Id)).toEqual(['n0', 'n1', 'n2']);
      const [e0, e1, e2] = request?.entries ?? [];

      expect(e0?.Subject).toBe('[high] ACME-1 daysPastDue: an invoice is 75 days past due');
      expect(e1?.Subject).toBe('[critical] BOLT-7 daysPastDue escalated: an invoice is 105 days past due');
      expect(e2?.Subject).toBe('[info] Großhandel Süd daysPastDue: an invoice is 31 days past due');

      expect(e0?.attributes).toEqual({
        event: { DataType: 'String', StringValue: 'alert.opened' },
        severity: { DataType: 'String', StringValue: 'high' },
        severityRank: { DataType: 'Number', StringValue: '2' },
        rule: { DataType: 'String', StringValue: 'daysPastDue' },
        customerId: { DataType: 'String', StringValue: 'ACME-1' },
      });
      expect(e1?.attributes.event).toEqual({ DataType: 'String', StringValue: 'alert.escalated' });
      expect(e1?.attributes.severityRank).toEqual({ DataType: 'Number', StringValue: '3' });
      expect(e2?.attributes.severityRank).toEqual({ DataType: 'Number', StringValue: '0' });
      expect(e2?.attributes.customerId).toEqual({ DataType: 'String', StringValue: 'Großhandel Süd' });

      // Queues get the JSON message ("default"); email subscribers a readable text.
      for (const [entry, n] of [
        [e0, high],
        [e1, critical],
        [e2, info],
      ] as const) {
        expect(entry?.MessageStructure).toBe('json');
        const perProtocol = JSON.parse(entry?.Message ?? '{}') as { default: string; email: string };
        expect(Object.keys(perProtocol).sort()).toEqual(['default', 'email']);
        expect(JSON.parse(perProtocol.default)).toEqual({
          type: `alert.${n.reason}`,
          asOf: AS_OF,
          alert: n.alert,
        });
        expect(perProtocol.email).toContain(`${n.alert.customerId}: ${n.alert.summary}`);
        expect(perProtocol.email).toContain('Max days past due: ');
      }

      // What moto accepted and delivered to the queue: each entry once, in order, its subject and
      // attributes as sent, and the JSON ("default") form of the message.
      const delivered = await sns.delivered();
      expect(delivered.map((d) => d.topicArn)).toEqual([TOPIC_ARN, TOPIC_ARN, TOPIC_ARN]);
      expect(delivered.map((d) => d.subject)).toEqual([e0?.Subject, e1?.Subject, e2?.Subject]);
      expect(delivered.map((d) => d.attributes)).toEqual([e0?.attributes, e1?.attributes, e2?.attributes]);
      expect(delivered.map((d) => JSON.parse(d.message))).toEqual(
        [high, critical, info].map((n) => ({ type: `alert.${n.reason}`, asOf: AS_OF, alert: n.alert })),
      );
    } finally {
      await sns.close();
    }
  });

  it('sends at most 10 entries per PublishBatch, in order', async () => {
    const sns = await startSns();
    try {
      const many = Array.from({ length: 23 }, (_, i) => opened(`C-${String(i).padStart(2, '0')}`, 'warning'));
      await new SnsAlertNotifier(TOPIC_ARN, sns.client).notify(many, AS_OF);
      expect(sns.requests.map((r) => r.entries.length)).toEqual([10, 10, 3]);
      const customers = sns.requests.flatMap((r) =>
        r.entries.map((e) => e.attributes.customerId?.StringValue),
      );
      expect(customers).toEqual(many.map((n) => n.alert.customerId));
      const delivered = await sns.delivered();
      expect(delivered.map((d) => d.attributes.customerId?.StringValue)).toEqual(customers);
    } finally {
      await sns.close();
    }
  });

  it('publishes again only the entries SNS failed on its side, and gives up on a sender fault', async () => {
    const flaky = await startSns((e, request) =>
      request === 0 && e.Id === 'n1' ? { code: 'InternalError', senderFault: false } : undefined,
    );
    try {
      const list = [opened('A', 'high'), opened('B', 'high'), opened('C', 'high')];
      await new SnsAlertNotifier(TOPIC_ARN, flaky.client, { backoffMs: 1 }).notify(list, AS_OF);
      expect(flaky.requests.map((r) => r.entries.map((e) => e.attributes.customerId?.StringValue))).toEqual([
        ['A', 'B', 'C'],
        ['B'],
      ]);
      // Each alert reached the topic once.
      expect((await flaky.delivered()).map((d) => d.attributes.customerId?.StringValue)).toEqual([
        'A',
        'C',
        'B',
      ]);
    } finally {
      await flaky.close();
    }

    const refused = await startSns((e) =>
      e.Id === 'n0' ? { code: 'InvalidParameter', senderFault: true } : undefined,
    );
    try {
      const error = await new SnsAlertNotifier(TOPIC_ARN, refused.client, { backoffMs: 1 })
        .notify([opened('A', 'high'), opened('B', 'high')], AS_OF)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AlertPublishError);
      expect((error as Error).message).toBe(
        'SNS refused 1 alert notification: InvalidParameter (sender fault): injected',
      );
      expect(refused.requests).toHaveLength(1);
      // The rest of the batch was published: SNS fails entries one by one.
      expect((await refused.delivered()).map((d) => d.attributes.customerId?.StringValue)).toEqual(['B']);
    } finally {
      await refused.close();
    }
  });
});

// ---- the Slack Lambda, fed what SNS delivers from those very requests ----

async function startSlack(status: (n: number) => number) {
  const bodies: string[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    bodies.push(Buffer.concat(chunks).toString('utf8'));
    const s = status(bodies.length - 1);
    res.writeHead(s, { 'content-type': 'text/plain' });
    res.end(s === 200 ? 'ok' : 'internal_error');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/T0001/B0002/SeCrEtToKeN`,
    bodies,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

describe('Slack function fed the alerts topic through its queue', () => {
  /** What moto delivered to the queue: the records the Slack function is given. */
  let published: Delivered[];
  beforeAll(async () => {
    const sns = await startSns();
    await new SnsAlertNotifier(TOPIC_ARN, sns.client).notify(
      [opened('ACME-1', 'high'), escalated(opened('BOLT-7', 'warning', 40), 'critical')],
      AS_OF,
    );
    published = await sns.delivered();
    await sns.close();
  });

  it('posts one Block Kit message per alert, exactly what slackMessage builds', async () => {
    const slack = await startSlack(() => 200);
    try {
      const m = metrics('slack');
      const added = vi.spyOn(m, 'addMetric');
      const handler = createSlackHandler({
        webhookUrl: async () => slack.url,
        logger: quietLogger(),
        metrics: m,
        post: { baseDelayMs: 5 },
      });
      const event: SQSEvent = { Records: published.map((d) => d.record) };
      expect(await handler(event, localContext())).toEqual({ batchItemFailures: [] });
      const expected = published.map((d) => {
        // The queue got the message's "default" (JSON) form.
        const msg = alertMessageSchema.parse(JSON.parse(d.message));
        return slackMessage(noticeOf(msg), msg.asOf);
      });
      expect(slack.bodies.map((b) => JSON.parse(b))).toEqual(expected);
      expect(expected[1]?.text).toBe(
        ':rotating_light: [critical] BOLT-7 daysPastDue escalated: an invoice is 105 days past due',
      );
      expect(added.mock.calls.map((c) => c[0])).toEqual(['SlackPosted', 'SlackPosted']);
    } finally {
      await slack.close();
    }
  });

  it('posts the daily digest the topic carries, exactly what slackDigestMessage builds', async () => {
    const sns = await startSns();
    const slack = await startSlack(() => 200);
    try {
      const alerts = [opened('ACME-1', 'high'), escalated(opened('BOLT-7', 'warning', 40), 'critical')];
      const digest = digestOf(
        alerts.map((n) => n.alert),
        AS_OF,
      ) as AlertDigest;
      await new SnsAlertNotifier(TOPIC_ARN, sns.client).digest(digest);
      const handler = createSlackHandler({
        webhookUrl: async () => slack.url,
        logger: quietLogger(),
        metrics: metrics('slack'),
        consoleUrl: 'https://console.example.com/',
      });
      const event: SQSEvent = { Records: (await sns.delivered()).map((d) => d.record) };
      expect(await handler(event, localContext())).toEqual({ batchItemFailures: [] });
      const posted = slack.bodies.map((b) => JSON.parse(b));
      expect(posted).toEqual([slackDigestMessage(digest, 'https://console.example.com/')]);
      expect(posted[0].text).toBe(`credit-sentinel ${AS_OF}: 2 active alerts (1 critical, 1 high)`);
      expect(JSON.stringify(posted[0].blocks)).toContain('https://console.example.com/alerts');
    } finally {
      await slack.close();
      await sns.close();
    }
  });

  it('fails only the records Slack keeps refusing (partial batch response), and what is not an alert', async () => {
    // The first alert's three attempts fail; the second goes through.
    const slack = await startSlack((n) => (n < 3 ? 500 : 200));
    try {
      const handler = createSlackHandler({
        webhookUrl: async () => slack.url,
        logger: quietLogger(),
        metrics: metrics('slack'),
        post: { baseDelayMs: 5 },
      });
      const [first, second] = published.map((d) => d.record) as [SQSRecord, SQSRecord];
      const junk = { ...second, messageId: 'junk', body: '{"Type":"Notification","MessageId":"x"}' };
      const res = await handler({ Records: [first, second, junk] }, localContext());
      expect(res.batchItemFailures).toEqual([
        { itemIdentifier: first.messageId },
        { itemIdentifier: 'junk' },
      ]);
      expect(slack.bodies).toHaveLength(4);
    } finally {
      await slack.close();
    }
  });

  it('posts nothing, and fails nothing, while the secret holds the placeholder', async () => {
    const slack = await startSlack(() => 200);
    try {
      const m = metrics('slack');
      const added = vi.spyOn(m, 'addMetric');
      const handler = createSlackHandler({
        webhookUrl: async () => SLACK_WEBHOOK_PLACEHOLDER,
        logger: quietLogger(),
        metrics: m,
      });
      const res = await handler({ Records: published.map((d) => d.record) }, localContext());
      expect(res).toEqual({ batchItemFailures: [] });
      expect(slack.bodies).toEqual([]);
      expect(added.mock.calls.map((c) => c[0])).toEqual(['SlackNotConfigured', 'SlackNotConfigured']);
    } finally {
      await slack.close();
    }
  });
});

// ---- the evaluate Lambda against dynalite, fed a customers-changed notification ----

describe('evaluate function', () => {
  let env: LocalEnv;
  let changed: CustomersChanged | undefined;
  const recordedEvent = recorded as unknown as SQSEvent;
  const recordedRecord = recordedEvent.Records[0] as SQSRecord;
  // 06:15 in Amsterdam on the day of the recorded message.
  const clock = { now: () => new Date('2025-06-30T04:15:00Z') };

  beforeAll(async () => {
    env = await openLocal({ inMemory: true });
    // LATE-1 owes an invoice due 2025-05-01 (60 days past due on 2025-06-30: high); ONTIME-2's is not due.
    const csv =
      'invoice_id,customer_id,issue_date,due_date,amount,currency\n' +
      'L1,LATE-1,2025-04-01,2025-05-01,1000.00,EUR\n' +
      'O1,ONTIME-2,2025-06-01,2025-07-15,500.00,EUR\n';
    await ingest(
      {
        store: env.store,
        notifier: {
          customersChanged: async (m) => {
            changed = m;
          },
        },
        clock,
        timeZone: 'Europe/Amsterdam',
      },
      {
        source: Readable.from([Buffer.from(csv)]),
        fileName: 'invoices/2025-06.csv',
        objectRef: 'test://invoices/2025-06.csv',
        profile: canonicalProfile('invoices'),
        rejects: { write: () => {}, close: async () => 'memory://' },
      },
    );
  });
  afterAll(async () => {
    await env?.close();
  });

  /** The real handler on dynalite, publishing through the real SnsAlertNotifier to the local SNS endpoint. */
  async function handlerWith(overrides: Partial<EvaluateHandlerDeps> = {}) {
    const sns = await startSns();
    // The real EMF records, written to a file: AlertsRaised goes out on its own single-metric record.
    const dir = await mkdtemp(join(tmpdir(), 'sentinel-emf-'));
    const m = localMetrics(dir, 'evaluate');
    const added = vi.spyOn(m, 'addMetric');
    const handler = createEvaluateHandler({
      store: env.store,
      notifier: new SnsAlertNotifier(TOPIC_ARN, sns.client),
      clock,
      timeZone: 'Europe/Amsterdam',
      logger: quietLogger(),
      metrics: m,
      ...overrides,
    });
    const metric = (name: string) => added.mock.calls.filter((c) => c[0] === name).map((c) => c[2]);
    /** AlertsRaised by its severity dimension, summed over the records written so far. */
    const raised = async () => {
      const out: Record<string, number> = {};
      for (const p of await readLocalMetrics(dir))
        if (p.name === 'AlertsRaised') {
          expect(Object.keys(p.dimensions).sort()).toEqual(['service', 'severity']);
          const severity = p.dimensions.severity as string;
          out[severity] = (out[severity] ?? 0) + p.value;
        }
      return out;
    };
    return { handler, sns, metric, raised };
  }

  it('the recorded notification carries what the ingestion announces', () => {
    const envelope = JSON.parse(recordedRecord.body) as { Type: string; Message: string };
    expect(envelope.Type).toBe('Notification');
    const message = JSON.parse(envelope.Message) as CustomersChanged;
    expect(Object.keys(message).sort()).toEqual(Object.keys(changed ?? {}).sort());
    expect(message).toMatchObject({ type: changed?.type, asOf: changed?.asOf });
    expect([...message.customerIds].sort()).toEqual([...(changed?.customerIds ?? [])].sort());
  });

  it('evaluates the customers of the notification, stores their alerts and publishes them', async () => {
    const { handler, sns, metric, raised } = await handlerWith();
    try {
      expect(await handler(recordedEvent, localContext())).toEqual({ batchItemFailures: [] });

      const active = await env.store.listAlerts('active');
      const late = active.find((a) => a.customerId === 'LATE-1' && a.rule === 'daysPastDue');
      expect(late).toMatchObject({
        status: 'open',
        severity: 'high',
        openedAsOf: '2025-06-30',
        evidence: { maxDaysPastDue: 60 },
      });
      expect(active.filter((a) => a.customerId === 'ONTIME-2' && a.rule === 'daysPastDue')).toEqual([]);

      // Every alert opened was published once, on the alerts topic, with its attributes.
      const entries = sns.requests.flatMap((r) => r.entries);
      expect(sns.requests.every((r) => r.topicArn === TOPIC_ARN)).toBe(true);
      const publishedIds = entries.map(
        (e) =>
          (
            JSON.parse((JSON.parse(e.Message) as { default: string }).default) as {
              alert: { alertId: string };
            }
          ).alert.alertId,
      );
      expect(publishedIds.sort()).toEqual(active.map((a) => a.alertId).sort());
      const lateEntry = entries.find(
        (e) =>
          e.attributes.customerId?.StringValue === 'LATE-1' &&
          e.attributes.rule?.StringValue === 'daysPastDue',
      );
      expect(lateEntry?.attributes.severityRank).toEqual({ DataType: 'Number', StringValue: '2' });
      expect(lateEntry?.Subject).toBe('[high] LATE-1 daysPastDue: an invoice is 60 days past due');

      expect(metric('CustomersEvaluated')).toEqual([2]);
      expect(metric('OpenAlerts')).toEqual([active.length]);
      const bySeverity: Record<string, number> = { info: 0, warning: 0, high: 0, critical: 0 };
      for (const a of active) bySeverity[a.severity] = (bySeverity[a.severity] ?? 0) + 1;
      expect(await raised()).toEqual(bySeverity); // every active alert was raised now
    } finally {
      await sns.close();
    }
  });

  it('a redelivered notification changes nothing and notifies no one again', async () => {
    const before = await env.store.listAlerts('active');
    const { handler, sns, metric, raised } = await handlerWith();
    try {
      expect(await handler(recordedEvent, localContext())).toEqual({ batchItemFailures: [] });
      expect(sns.requests).toEqual([]);
      expect(await raised()).toEqual({ info: 0, warning: 0, high: 0, critical: 0 });
      expect(metric('OpenAlerts')).toEqual([before.length]);
      expect(await env.store.listAlerts('active')).toEqual(before);
    } finally {
      await sns.close();
    }
  });

  it('merges a batch, fails only the unreadable record, and ignores other message types', async () => {
    const { handler, sns, metric } = await handlerWith();
    try {
      const other = {
        ...recordedRecord,
        messageId: 'other-type',
        body: JSON.stringify({
          ...(JSON.parse(recordedRecord.body) as object),
          Message: JSON.stringify({ type: 'runs.finished', runId: 'r' }),
        }),
      };
      const broken = { ...recordedRecord, messageId: 'broken', body: '{"Type":"Notification","Message":' };
      const badIds = {
        ...recordedRecord,
        messageId: 'bad-ids',
        body: JSON.stringify({
          ...(JSON.parse(recordedRecord.body) as object),
          Message: JSON.stringify({
            type: 'customers.changed',
            runId: 'r',
            asOf: '2025-06-31',
            customerIds: [1],
          }),
        }),
      };
      const res = await handler({ Records: [recordedRecord, other, broken, badIds] }, localContext());
      expect(res).toEqual({
        batchItemFailures: [{ itemIdentifier: 'broken' }, { itemIdentifier: 'bad-ids' }],
      });
      expect(metric('CustomersEvaluated')).toEqual([2]);
      expect(metric('MessagesUnreadable')).toEqual([1, 1]);
      expect(sns.requests).toEqual([]);
    } finally {
      await sns.close();
    }
  });

  it('fails every record the evaluation covered when it fails, so the queue retries them', async () => {
    const failing = Object.create(env.store) as typeof env.store;
    failing.saveEvaluation = async () => {
      throw new Error('ProvisionedThroughputExceededException (injected)');
    };
    const { handler, sns, metric } = await handlerWith({ store: failing });
    try {
      const second = { ...recordedRecord, messageId: 'second' };
      const res = await handler({ Records: [recordedRecord, second] }, localContext());
      expect(res).toEqual({
        batchItemFailures: [{ itemIdentifier: recordedRecord.messageId }, { itemIdentifier: 'second' }],
      });
      expect(metric('EvaluationsFailed')).toEqual([1]);
    } finally {
      await sns.close();
    }
  });

  it('the daily schedule evaluates everyone as of the scheduled day in the time zone, and escalates', async () => {
    // The scheduler fires at the scheduled time.
    const { handler, sns, metric, raised } = await handlerWith({
      clock: { now: () => new Date('2025-07-30T03:00:02Z') },
    });
    try {
      // 05:00 in Amsterdam on 2025-07-30 is 03:00 UTC; LATE-1's invoice is then 90 days past due.
      const run = (await handler(
        { type: 'evaluate.daily', scheduledTime: '2025-07-30T03:00:00Z' },
        localContext(),
      )) as EvaluationRun;
      expect(run).toMatchObject({ asOf: '2025-07-30', customers: 2 });
      expect(run.escalated).toBeGreaterThanOrEqual(1);
      const late = (await env.store.listAlerts('active')).find(
        (a) => a.customerId === 'LATE-1' && a.rule === 'daysPastDue',
      );
      expect(late).toMatchObject({
        severity: 'critical',
        notifiedSeverity: 'critical',
        seenAsOf: '2025-07-30',
      });
      const escalation = sns.requests
        .flatMap((r) => r.entries)
        .find(
          (e) =>
            e.attributes.event?.StringValue === 'alert.escalated' &&
            e.attributes.customerId?.StringValue === 'LATE-1',
        );
      expect(escalation?.attributes.severityRank).toEqual({ DataType: 'Number', StringValue: '3' });
      expect(await raised()).toEqual(run.raisedBySeverity);
      expect(run.raisedBySeverity.critical).toBeGreaterThanOrEqual(1); // LATE-1, escalated to critical
      expect(metric('CustomersEvaluated')).toEqual([2]);
      // Then the daily digest: one message, the digest event alone (no severity to match on).
      const entries = sns.requests.flatMap((r) => r.entries);
      const digests = entries.filter((e) => e.attributes.event?.StringValue === 'alert.digest');
      expect(digests).toHaveLength(1);
      expect(entries.at(-1)).toBe(digests[0]);
      expect(digests[0]?.attributes).toEqual({ event: { DataType: 'String', StringValue: 'alert.digest' } });
      const active = await env.store.listAlerts('active');
      expect(digests[0]?.Subject).toBe(digestSubject(digestOf(active, '2025-07-30') as AlertDigest));
      const perProtocol = JSON.parse(digests[0]?.Message ?? '{}') as { default: string; email: string };
      const message = digestMessageSchema.parse(JSON.parse(perProtocol.default));
      expect(message.digest).toMatchObject({ asOf: '2025-07-30', active: active.length, more: 0 });
      expect(message.digest.alerts[0]).toMatchObject({ customerId: 'LATE-1', severity: 'critical' });
      expect(perProtocol.email).toContain('[critical] LATE-1 daysPastDue: an invoice is 90 days past due');
      expect(metric('DigestsSent')).toEqual([1]);
    } finally {
      await sns.close();
    }
  });

  it('evaluates a notification retried days later as of the day it is processed, not the day it names', async () => {
    // The recorded message says 2025-06-30; it is processed on 2025-08-01 (Amsterdam).
    const { handler, sns } = await handlerWith({ clock: { now: () => new Date('2025-08-01T07:00:00Z') } });
    try {
      expect(await handler(recordedEvent, localContext())).toEqual({ batchItemFailures: [] });
      const late = (await env.store.listAlerts('active')).find(
        (a) => a.customerId === 'LATE-1' && a.rule === 'daysPastDue',
      );
      expect(late).toMatchObject({ seenAsOf: '2025-08-01', evidence: { maxDaysPastDue: 92 } });
    } finally {
      await sns.close();
    }
  });

  it('reads EventBridge scheduled events too, and refuses an event it does not know', async () => {
    const { handler, sns } = await handlerWith({ clock: { now: () => new Date('2025-07-30T22:30:03Z') } });
    try {
      const run = (await handler(
        {
          version: '0',
          id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: '123456789012',
          time: '2025-07-30T22:30:00Z',
          region: 'eu-west-1',
          resources: ['arn:aws:events:eu-west-1:123456789012:rule/daily'],
          detail: {},
        } as never,
        localContext(),
      )) as EvaluationRun;
      // 22:30 UTC is already the next day in Amsterdam. Both customers were evaluated as of
      // 2025-08-01 already (the retried notification above): this run does not rewind them.
      expect(run).toMatchObject({ asOf: '2025-07-31', customers: 0, skipped: 2, opened: 0, resolved: 0 });
      await expect(handler({ hello: 'world' } as never, localContext())).rejects.toThrow(/unknown event/);
    } finally {
      await sns.close();
    }
  });

  it('a day sent by hand other than today, or a scheduled day not yet come, is a what-if: logged, nothing stored or told', async () => {
    // 2025-08-02 in Amsterdam.
    const logger = quietLogger();
    const info = vi.spyOn(logger, 'info');
    const { handler, sns, metric } = await handlerWith({
      clock: { now: () => new Date('2025-08-02T08:00:00Z') },
      logger,
    });
    try {
      const before = await tableDump(env.store);
      // As of 2025-04-15 nothing was due yet: no past-due alert would be active.
      const past = await handler({ type: 'evaluate.daily', asOf: '2025-04-15' }, localContext());
      expect(past).toMatchObject({
        whatIf: true,
        asOf: '2025-04-15',
        customers: 2,
        byRule: { daysPastDue: 0 },
      });
      expect(past).not.toHaveProperty('results');
      // As of 2025-09-30 LATE-1's invoice is 152 days past due: critical, were it today.
      const ahead = await handler(
        { type: 'evaluate.daily', scheduledTime: '2025-09-30T03:00:00Z' },
        localContext(),
      );
      expect(ahead).toMatchObject({ whatIf: true, asOf: '2025-09-30', customers: 2 });
      expect((ahead as { bySeverity: Record<Severity, number> }).bySeverity.critical).toBeGreaterThan(0);
      expect(await tableDump(env.store)).toEqual(before);
      expect(sns.requests).toEqual([]);
      for (const name of ['CustomersEvaluated', 'AlertsResolved', 'OpenAlerts', 'DigestsSent'])
        expect(metric(name), name).toEqual([]);
      const logged = info.mock.calls.filter((c) => c[0] === 'what-if evaluated; nothing was stored');
      expect(logged.map((c) => (c[1] as { asOf: string; why: string }).asOf)).toEqual([
        '2025-04-15',
        '2025-09-30',
      ]);
      expect(logged.map((c) => (c[1] as { why: string }).why)).toEqual([
        'a day other than today, sent by hand',
        'the scheduled day is after today',
      ]);

      // Today sent by hand is the daily run: stored, and the digest follows.
      const todays = (await handler(
        { type: 'evaluate.daily', asOf: '2025-08-02' },
        localContext(),
      )) as EvaluationRun;
      expect(todays).toMatchObject({ asOf: '2025-08-02', customers: 2, skipped: 0 });
      expect(metric('CustomersEvaluated')).toEqual([2]);
      expect(metric('DigestsSent')).toEqual([1]);
    } finally {
      await sns.close();
    }
  });
});
