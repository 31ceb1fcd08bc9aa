import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { NotFoundException, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SfnWorkflow } from '../../functions/adapters/sfn.ts';
import {
  RECIPIENT_ATTRIBUTE,
  SnsApprovalNotifier,
  snsSubject,
} from '../../functions/adapters/sns-approvals.ts';
import { approvalEmail, approvalSlackMessage } from '../../functions/transfers/messages.ts';
import type { ApprovalNotice, Recipient, Transfer } from '../../functions/transfers/ports.ts';
import { TaskTokenError } from '../../functions/transfers/workflow.ts';
import { bodyOf, CLIENT_CONFIG, close, listen, type Published, parsePublish } from './aws-fakes.ts';

/**
 * The two AWS adapters of the transfer workflow, driven through the real AWS SDK v3 clients
 * against local HTTP endpoints (there is no AWS account): an SNS endpoint speaking the Query
 * protocol, a Step Functions endpoint speaking AWS JSON 1.0, and a Slack incoming webhook. What is
 * real: the SDK's own serialisation and signing of every request, its parsing of the answers and
 * of the service's error shapes into the modeled exception classes, and the adapters' handling of
 * those. What is fake: only the three servers, which answer what the real services answer.
 */

const TOPIC_ARN =
  'arn:aws:sns:eu-west-1:123456789012:CreditSentinel-TransfersApprovalsTopic1A2B3C4D-Z9y8X7w6';
const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:TransferApproval-Q1w2E3r4T5y6';

// ---- a local SNS endpoint: the SDK's real Query-protocol Publish requests, parsed back ----

/** What SNS answers a Publish on a topic that does not exist (Query protocol error, 404). */
const TOPIC_NOT_FOUND =
  '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error><RequestId>x</RequestId></ErrorResponse>';

// ---- a local Slack incoming webhook ----

interface SlackPost {
  contentType: string | undefined;
  body: string;
}

// ---- a local Step Functions endpoint: AWS JSON 1.0, the operation in `x-amz-target` ----

interface SfnRequest {
  target: string | undefined;
  contentType: string | undefined;
  authorization: string | undefined;
  body: Record<string, unknown>;
}
type SfnAnswer = { status: number; body: Record<string, unknown> };

/** Step Functions names its modeled errors in this namespace (the SDK keeps what follows `#`). */
const sfnError = (status: number, type: string, message: string): SfnAnswer => ({
  status,
  body: { __type: `com.amazonaws.swf.service.v2.model#${type}`, message },
});

// ---- notices, built by hand ----

/** A signed link token, as the approval links carry it (also the Slack button value). */
const TOKEN =
  'eyJhIjoiMDFKWjNRN1Q0SEs1TU45UDJSOFZXWDZZQ0EiLCJwIjoiZmlvbmEiLCJlIjoxNzUxMzYwNDAwfQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';
const URL_ = `https://approvals.example.com/approvals/${TOKEN}`;
/** A Step Functions task token: what no notice may ever carry, and no error message may repeat. */
const TASK_TOKEN =
  'AQCEAAAAKgAAAAMAAAAAAAAAAdKv9Xo3lY0b2mYtPq8Rj1QzW5n6f7hG8sJ2kL4cN0vB3xZ1aS5dF9gH7jK2lP0oI8uY6tR4eW3qA1zX5cV7bN9mM2==';

const transfer: Transfer = {
  transferId: 'TR-01JZ3Q7T4HK5MN9P2R8VWX6YCA',
  request: {
    customerId: 'C1001',
    type: 'refund',
    amount: 1_250_000,
    currency: 'EUR',
    beneficiaryName: 'Müller GmbH',
    beneficiaryAccount: 'DE89370400440532013000',
    reason: 'Credit note CN-77 paid twice',
    requester: 'rita',
  },
  requestedAt: '2025-06-30T08:15:00.000Z',
  requestedOn: '2025-06-30',
  status: 'pending',
  executionId: `arn:aws:states:eu-west-1:123456789012:execution:TransferApproval:TR-01JZ3Q7T4HK5MN9P2R8VWX6YCA`,
  levels: [
    {
      level: 1,
      name: 'Credit controller',
      required: 1,
      approvers: [
        { id: 'carl', name: 'Carl Control', email: 'carl@example.com' },
        { id: 'fiona', name: 'Fiona Finance', email: 'fiona@example.com' },
      ],
    },
    {
      level: 2,
      name: 'Finance manager',
      required: 1,
      approvers: [{ id: 'gus', name: 'Gus Gold', email: 'gus@example.com' }],
    },
  ],
  chainWhy: ['12500.00 EUR needs 2 levels'],
  level: 1,
};

const fiona: Recipient = {
  id: 'fiona',
  name: 'Fiona Finance',
  email: 'fiona@example.com',
  slackId: 'U024BE7LH',
};
const gus: Recipient = { id: 'gus', name: 'Gus Gold', email: 'gus@example.com' };
const rita: Recipient = { id: 'rita', name: 'Rita Request', email: 'rita@example.com' };
const level = { level: 1, of: 2, name: 'Credit controller', required: 1 };

const approve: ApprovalNotice & { kind: 'approve' } = {
  kind: 'approve',
  transfer,
  to: fiona,
  level,
  url: URL_,
  token: TOKEN,
  reminder: 0,
  expiresAt: '2025-07-01T08:15:00.000Z',
};
const remind: ApprovalNotice & { kind: 'remind' } = {
  ...approve,
  kind: 'remind',
  to: { id: 'carl', name: 'Carl Control', email: 'carl@example.com' },
  reminder: 1,
};
const escalate: ApprovalNotice & { kind: 'escalate' } = {
  kind: 'escalate',
  transfer,
  to: gus,
  level,
  waitingOn: ['Carl Control', 'Fiona Finance'],
};
/** Its subject is well over 100 characters: SNS refuses longer ones. */
const outcome: ApprovalNotice & { kind: 'outcome' } = {
  kind: 'outcome',
  transfer: {
    ...transfer,
    status: 'rejected',
    closedAt: '2025-06-30T10:00:00.000Z',
    closedBy: 'carl',
    outcome: 'rejected at level 1 (Credit controller): the credit note was already settled by bank transfer',
  },
  to: rita,
};
const ALL: readonly ApprovalNotice[] = [approve, remind, escalate, outcome];

describe('SnsApprovalNotifier over the SNS Query protocol and a Slack webhook', () => {
  let snsServer: Server;
  let sns: SNSClient;
  let published: Published[];
  let snsFails = false;

  let slackServer: Server;
  let slackUrl: string;
  let slackPosts: SlackPost[];
  let slackStatus = 200;

  beforeAll(async () => {
    snsServer = createServer(async (req, res) => {
      const form = new URLSearchParams(await bodyOf(req));
      published.push(parsePublish(form, req.headers));
      if (snsFails) {
        res.writeHead(404, { 'content-type': 'text/xml' });
        res.end(TOPIC_NOT_FOUND);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
    sns = new SNSClient({ ...CLIENT_CONFIG, endpoint: await listen(snsServer) });

    slackServer = createServer(async (req, res) => {
      slackPosts.push({ contentType: req.headers['content-type'], body: await bodyOf(req) });
      res.writeHead(slackStatus, { 'content-type': 'text/plain' });
      res.end(slackStatus === 200 ? 'ok' : 'internal_error');
    });
    // The secret part of a webhook URL: it must never reach a log line.
    slackUrl = `${await listen(slackServer)}/services/T0001/B0002/SeCrEtToKeN`;
  });
  afterAll(async () => {
    sns.destroy();
    await close(snsServer);
    await close(slackServer);
  });
  beforeEach(() => {
    published = [];
    slackPosts = [];
    snsFails = false;
    slackStatus = 200;
  });

  const notifier = (webhook: string | undefined, log: (m: string) => void = () => {}) =>
    new SnsApprovalNotifier(TOPIC_ARN, async () => webhook, log, sns);

  it('publishes each notice on the topic, filterable by recipient and kind, under an ASCII subject of at most 100 characters', async () => {
    await notifier(undefined).send(ALL);

    expect(published).toHaveLength(4);
    for (const p of published) {
      expect(p.action).toBe('Publish');
      expect(p.topicArn).toBe(TOPIC_ARN);
      // Signed by the SDK for SNS.
      expect(p.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/eu-west-1\/sns\/aws4_request/,
      );
      expect(p.subject).toMatch(/^[\x20-\x7e]{1,100}$/);
    }
    expect(published.map((p) => p.attributes)).toEqual(
      ALL.map((n) => ({
        [RECIPIENT_ATTRIBUTE]: { DataType: 'String', StringValue: n.to.id },
        kind: { DataType: 'String', StringValue: n.kind },
      })),
    );
    expect(published.map((p) => p.attributes.recipient?.StringValue)).toEqual([
      'fiona',
      'carl',
      'gus',
      'rita',
    ]);

    const [a, r, e, o] = published;
    // The beneficiary's "ü" loses its accent in the subject; the message body keeps it.
    expect(a?.subject).toBe('Approve: refund 12,500.00 EUR to Muller GmbH (C1001), level 1 of 2');
    expect(r?.subject).toBe('Reminder 1: approve refund 12,500.00 EUR to Muller GmbH (C1001), level 1 of 2');
    // Over 100 characters: cut at a word, with "...".
    expect(e?.subject).toBe(
      'Overdue approval: refund 12,500.00 EUR to Muller GmbH (C1001), level 1 of 2 waiting on Carl...',
    );
    const full = approvalEmail(outcome).subject;
    expect(full.length).toBeGreaterThan(100);
    expect(o?.subject?.length).toBeLessThanOrEqual(100);
    expect(o?.subject?.endsWith('...')).toBe(true);
    expect(full.replace('ü', 'u').startsWith((o?.subject ?? '-').slice(0, -3))).toBe(true);
    expect(o?.subject).toMatch(
      /^Transfer TR-01JZ3Q7T4HK5MN9P2R8VWX6YCA rejected by carl: refund 12,500\.00 EUR/,
    );

    // The message is the text email, unchanged (UTF-8 travels fine in the body).
    for (const [p, n] of published.map((p, i) => [p, ALL[i] as ApprovalNotice] as const))
      expect(p.message).toBe(approvalEmail(n).text);
    expect(a?.message).toContain('Müller GmbH');

    // Approve and remind carry the link, once; the signed token only ever inside it.
    for (const p of [a, r]) {
      const message = p?.message ?? '';
      expect(message).toContain(`Review and decide: ${URL_}`);
      expect(message.split(URL_)).toHaveLength(2);
      expect(message.split(TOKEN)).toHaveLength(2);
    }
    // Escalations and outcomes carry no link at all.
    for (const p of [e, o]) {
      expect(p?.message).not.toContain(TOKEN);
      expect(p?.message).not.toContain('/approvals/');
    }
    // No notice carries a task token or the word for one.
    for (const p of published) {
      expect(p.message).not.toContain(TASK_TOKEN);
      expect(p.message).not.toMatch(/task ?token/i);
    }
  });

  it('posts approve and remind notices to Slack with Approve/Reject buttons carrying the link token; escalate and outcome stay off Slack', async () => {
    await notifier(slackUrl).send(ALL);

    expect(published).toHaveLength(4);
    expect(slackPosts).toHaveLength(2);
    const [first, second] = slackPosts.map((p) => {
      expect(p.contentType).toBe('application/json');
      return JSON.parse(p.body) as { text: string; blocks: { type: string; elements?: unknown[] }[] };
    });
    expect(first).toEqual(approvalSlackMessage(approve));
    expect(second).toEqual(approvalSlackMessage(remind));
    expect(second?.text).toMatch(/^Reminder 1: approval requested/);

    for (const message of [first, second]) {
      const actions = message?.blocks.find((b) => b.type === 'actions');
      const buttons = (actions?.elements ?? []) as { action_id: string; value?: string; url?: string }[];
      expect(buttons.filter((b) => b.value !== undefined).map((b) => [b.action_id, b.value])).toEqual([
        ['transfer.approve', TOKEN],
        ['transfer.reject', TOKEN],
      ]);
      expect(buttons.find((b) => b.action_id === 'transfer.evidence')?.url).toBe(URL_);
      expect(JSON.stringify(message)).not.toContain(TASK_TOKEN);
    }
  });

  it('with no webhook configured, publishes every notice and posts nothing to Slack', async () => {
    const log = vi.fn();
    await notifier(undefined, log).send([approve, remind]);
    expect(published.map((p) => p.attributes.kind?.StringValue)).toEqual(['approve', 'remind']);
    expect(slackPosts).toEqual([]);
    expect(log).not.toHaveBeenCalled();
  });

  it('a Slack webhook answering 500 is logged with the transfer id, never thrown; every notice is still published', async () => {
    slackStatus = 500;
    const log = vi.fn<(m: string) => void>();
    await expect(notifier(slackUrl, log).send(ALL)).resolves.toBeUndefined();

    expect(published.map((p) => p.attributes.kind?.StringValue)).toEqual([
      'approve',
      'remind',
      'escalate',
      'outcome',
    ]);
    // postToSlack retries a 5xx twice (its default) for each of the two Slack notices.
    expect(slackPosts).toHaveLength(6);
    expect(log).toHaveBeenCalledTimes(2);
    for (const [line] of log.mock.calls) {
      expect(line).toContain(transfer.transferId);
      expect(line).toContain('Slack answered 500');
      expect(line).not.toContain('SeCrEtToKeN');
      expect(line).not.toContain(TOKEN);
    }
  });

  it('a Slack webhook nobody listens on is logged, never thrown', async () => {
    const gone = createServer();
    const goneUrl = `${await listen(gone)}/services/T0001/B0002/SeCrEtToKeN`;
    await close(gone);
    const log = vi.fn<(m: string) => void>();
    await expect(notifier(goneUrl, log).send([approve, escalate])).resolves.toBeUndefined();

    expect(published.map((p) => p.attributes.kind?.StringValue)).toEqual(['approve', 'escalate']);
    expect(log).toHaveBeenCalledTimes(1);
    const line = log.mock.calls[0]?.[0] ?? '';
    expect(line).toContain(transfer.transferId);
    expect(line).toMatch(/could not reach Slack \(ECONNREFUSED\)/);
    expect(line).not.toContain('SeCrEtToKeN');
  });

  it('an SNS error rejects the send, and nothing after it is published or posted', async () => {
    snsFails = true;
    const error = await notifier(slackUrl)
      .send([approve, remind])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundException);
    expect((error as NotFoundException).message).toBe('Topic does not exist');
    expect((error as NotFoundException).$metadata.httpStatusCode).toBe(404);
    // The approve notice's publish failed: no Slack post for it, and the remind was never tried.
    expect(published).toHaveLength(1);
    expect(slackPosts).toEqual([]);
  });
});

describe('snsSubject', () => {
  it('drops accents, marks any other character once per character, and never breaks a line', () => {
    expect(snsSubject('Zoë Ørsted 🚀\nnext')).toBe('Zoe ?rsted ??next');
    expect(snsSubject('x'.repeat(100))).toBe('x'.repeat(100));
    // No word boundary late enough: cut inside the word.
    expect(snsSubject('y'.repeat(120))).toBe(`${'y'.repeat(97)}...`);
  });
});

describe('SfnWorkflow over the Step Functions JSON protocol', () => {
  let server: Server;
  let sfn: SFNClient;
  let requests: SfnRequest[];
  let answer: (r: SfnRequest) => SfnAnswer;

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const r: SfnRequest = {
        target: req.headers['x-amz-target'] as string | undefined,
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        body: JSON.parse(await bodyOf(req)) as Record<string, unknown>,
      };
      requests.push(r);
      const a = answer(r);
      res.writeHead(a.status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': randomUUID(),
      });
      res.end(JSON.stringify(a.body));
    });
    sfn = new SFNClient({ ...CLIENT_CONFIG, endpoint: await listen(server) });
  });
  afterAll(async () => {
    sfn.destroy();
    await close(server);
  });
  beforeEach(() => {
    requests = [];
    answer = () => ({ status: 200, body: {} });
  });

  const executionArn = (name: string) =>
    `arn:aws:states:eu-west-1:123456789012:execution:TransferApproval-Q1w2E3r4T5y6:${name}`;

  it('start names the execution after the transfer and returns the execution ARN Step Functions answered', async () => {
    answer = (r) => ({
      status: 200,
      body: { executionArn: executionArn(String(r.body.name)), startDate: 1751271300.123 },
    });
    const started = await new SfnWorkflow(STATE_MACHINE_ARN, sfn).start('TR-1', { transferId: 'TR-1' });

    expect(started).toEqual({ executionId: executionArn('TR-1') });
    expect(requests).toHaveLength(1);
    const [r] = requests;
    expect(r?.target).toBe('AWSStepFunctions.StartExecution');
    expect(r?.contentType).toBe('application/x-amz-json-1.0');
    expect(r?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/eu-west-1\/states\/aws4_request/,
    );
    expect(r?.body).toEqual({
      stateMachineArn: STATE_MACHINE_ARN,
      name: 'TR-1',
      input: '{"transferId":"TR-1"}',
    });
  });

  it('a second start of the same transfer fails saying its workflow already exists', async () => {
    answer = () =>
      sfnError(400, 'ExecutionAlreadyExists', `Execution Already Exists: '${executionArn('TR-1')}'`);
    const error = await new SfnWorkflow(STATE_MACHINE_ARN, sfn)
      .start('TR-1', { transferId: 'TR-1' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(SFNServiceException);
    expect((error as Error).message).toBe('the workflow of TR-1 already exists');
    expect(requests).toHaveLength(1);
  });

  it('start without a state machine ARN rejects before any request', async () => {
    await expect(new SfnWorkflow(undefined, sfn).start('TR-1', { transferId: 'TR-1' })).rejects.toThrow(
      /no state machine to start/,
    );
    expect(requests).toEqual([]);
  });

  it('sendTaskSuccess sends the task token and the output as JSON', async () => {
    const workflow = new SfnWorkflow(undefined, sfn);
    await workflow.sendTaskSuccess(TASK_TOKEN, { approvalId: 'A' });
    await workflow.sendTaskSuccess(TASK_TOKEN, undefined);
    expect(requests.map((r) => r.target)).toEqual([
      'AWSStepFunctions.SendTaskSuccess',
      'AWSStepFunctions.SendTaskSuccess',
    ]);
    expect(requests[0]?.body).toEqual({ taskToken: TASK_TOKEN, output: '{"approvalId":"A"}' });
    // No output is an empty object: Step Functions requires valid JSON.
    expect(requests[1]?.body).toEqual({ taskToken: TASK_TOKEN, output: '{}' });
  });

  it('sendTaskFailure sends the task token, the error name and the cause', async () => {
    await new SfnWorkflow(undefined, sfn).sendTaskFailure(TASK_TOKEN, 'Rejected', 'cause');
    expect(requests).toHaveLength(1);
    expect(requests[0]?.target).toBe('AWSStepFunctions.SendTaskFailure');
    expect(requests[0]?.body).toEqual({ taskToken: TASK_TOKEN, error: 'Rejected', cause: 'cause' });
  });

  describe.each(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist'])('%s from Step Functions', (type) => {
    // The service's message repeats the token here: the adapter's error must not.
    beforeEach(() => {
      answer = () => sfnError(400, type, `${type}: '${TASK_TOKEN}'`);
    });

    it.each([
      ['sendTaskSuccess', (w: SfnWorkflow) => w.sendTaskSuccess(TASK_TOKEN, { approvalId: 'A' })],
      ['sendTaskFailure', (w: SfnWorkflow) => w.sendTaskFailure(TASK_TOKEN, 'Rejected', 'cause')],
    ] as const)('becomes a TaskTokenError from %s, without the token', async (_, call) => {
      const error = await call(new SfnWorkflow(undefined, sfn)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskTokenError);
      expect((error as Error).message).toBe(`no task is waiting on this token (${type})`);
      expect((error as Error).message).not.toContain(TASK_TOKEN);
      expect(JSON.stringify(error)).not.toContain(TASK_TOKEN);
      expect(requests).toHaveLength(1);
    });
  });

  it.each([
    { status: 400, type: 'ThrottlingException', message: 'Rate exceeded', fault: 'client' },
    { status: 500, type: 'ServiceUnavailable', message: 'Service is unavailable', fault: 'server' },
  ])(
    '$type ($status) is rethrown as the SDK raised it, not as a TaskTokenError',
    async ({ status, type, message, fault }) => {
      answer = () => ({ status, body: { __type: type, message } });
      const workflow = new SfnWorkflow(STATE_MACHINE_ARN, sfn);
      for (const call of [
        () => workflow.sendTaskSuccess(TASK_TOKEN, {}),
        () => workflow.sendTaskFailure(TASK_TOKEN, 'Rejected', 'cause'),
        () => workflow.start('TR-2', { transferId: 'TR-2' }),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).not.toBeInstanceOf(TaskTokenError);
        expect(error).toBeInstanceOf(SFNServiceException);
        expect(error).toMatchObject({
          name: type,
          message,
          $fault: fault,
          $metadata: { httpStatusCode: status },
        });
      }
      // maxAttempts 1: one request per call, no retry.
      expect(requests).toHaveLength(3);
    },
  );
});
