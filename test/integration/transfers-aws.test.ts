import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  SFNServiceException,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { NotFoundException } from '@aws-sdk/client-sns';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
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
import { type Moto, startMoto } from '../moto.ts';
import { bodyOf, CLIENT_CONFIG, close, listen } from './aws-fakes.ts';
import { type Delivered, type TopicWithQueue, topicWithQueue } from './aws-moto.ts';

/**
 * The two AWS adapters of the transfer workflow, driven through the real AWS SDK v3 clients
 * against moto (one server for the file): SNS, read back from an SQS queue subscribed to the
 * topic, and Step Functions running a state machine for real (moto's ASL interpreter) whose task
 * hands its token out through SQS, as the approval workflow's tasks hand theirs to a Lambda.
 * Fakes left: the Slack incoming webhook (not AWS), and a Step Functions endpoint for the answers
 * moto cannot be made to give on demand (TaskTimedOut, TaskDoesNotExist, throttling, a 5xx).
 */

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto({ executeStateMachines: true });
});
afterAll(async () => {
  await moto?.close();
});

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

describe('SnsApprovalNotifier on SNS and a Slack webhook', () => {
  let topic: TopicWithQueue;
  let TOPIC_ARN: string;
  let published: Delivered[];
  let topicArn: () => string;

  let slackServer: Server;
  let slackUrl: string;
  let slackPosts: SlackPost[];
  let slackStatus = 200;

  beforeAll(async () => {
    topic = await topicWithQueue(moto, 'CreditSentinel-TransfersApprovalsTopic');
    TOPIC_ARN = topic.topicArn;

    slackServer = createServer(async (req, res) => {
      slackPosts.push({ contentType: req.headers['content-type'], body: await bodyOf(req) });
      res.writeHead(slackStatus, { 'content-type': 'text/plain' });
      res.end(slackStatus === 200 ? 'ok' : 'internal_error');
    });
    // The secret part of a webhook URL: it must never reach a log line.
    slackUrl = `${await listen(slackServer)}/services/T0001/B0002/SeCrEtToKeN`;
  });
  afterAll(async () => {
    topic?.destroy();
    await close(slackServer);
  });
  beforeEach(async () => {
    await topic.drain();
    published = [];
    slackPosts = [];
    topicArn = () => TOPIC_ARN;
    slackStatus = 200;
  });
  /** What the queue subscribed to the topic received since the last look. */
  const delivered = async () => {
    published = [...published, ...(await topic.drain())];
    return published;
  };

  const notifier = (webhook: string | undefined, log: (m: string) => void = () => {}) =>
    new SnsApprovalNotifier(topicArn(), async () => webhook, log, topic.sns);

  it('publishes each notice on the topic, filterable by recipient and kind, under an ASCII subject of at most 100 characters', async () => {
    await notifier(undefined).send(ALL);
    await delivered();

    expect(published).toHaveLength(4);
    for (const p of published) {
      expect(p.topicArn).toBe(TOPIC_ARN);
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
    await delivered();

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
    await delivered();
    expect(published.map((p) => p.attributes.kind?.StringValue)).toEqual(['approve', 'remind']);
    expect(slackPosts).toEqual([]);
    expect(log).not.toHaveBeenCalled();
  });

  it('a Slack webhook answering 500 is logged with the transfer id, never thrown; every notice is still published', async () => {
    slackStatus = 500;
    const log = vi.fn<(m: string) => void>();
    await expect(notifier(slackUrl, log).send(ALL)).resolves.toBeUndefined();
    await delivered();

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
    await delivered();

    expect(published.map((p) => p.attributes.kind?.StringValue)).toEqual(['approve', 'escalate']);
    expect(log).toHaveBeenCalledTimes(1);
    const line = log.mock.calls[0]?.[0] ?? '';
    expect(line).toContain(transfer.transferId);
    expect(line).toMatch(/could not reach Slack \(ECONNREFUSED\)/);
    expect(line).not.toContain('SeCrEtToKeN');
  });

  it('an SNS error rejects the send, and nothing after it is published or posted', async () => {
    // A topic that does not exist (deleted, or another account's): SNS answers NotFound (404).
    topicArn = () => TOPIC_ARN.replace(/:[^:]+$/, ':NoSuchTopic');
    const error = await notifier(slackUrl)
      .send([approve, remind])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundException);
    expect((error as NotFoundException).$metadata.httpStatusCode).toBe(404);
    // The approve notice's publish failed: no Slack post for it, and the remind was never tried.
    expect(await delivered()).toEqual([]);
    expect(slackPosts).toEqual([]);
  });

  it("a person's subscription, filtered on the recipient attribute, gets that person's notices only", async () => {
    const fionas = await topicWithQueue(moto, 'CreditSentinel-TransfersApprovalsTopic', {
      filterPolicy: { [RECIPIENT_ATTRIBUTE]: ['fiona'] },
    });
    try {
      await notifier(undefined).send(ALL);
      const hers = await fionas.drain();
      expect(hers.map((p) => [p.attributes.recipient?.StringValue, p.attributes.kind?.StringValue])).toEqual([
        ['fiona', 'approve'],
      ]);
      expect(hers[0]?.message).toBe(approvalEmail(approve).text);
      // The unfiltered subscription got all four.
      expect(await delivered()).toHaveLength(4);
    } finally {
      fionas.destroy();
    }
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

/** The approval wait of the transfer workflow, reduced to its callback: the token goes out on a queue. */
const waitForApproval = (queueUrl: string, timeoutSeconds = 60) => ({
  StartAt: 'AwaitDecision',
  States: {
    AwaitDecision: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      TimeoutSeconds: timeoutSeconds,
      Parameters: {
        QueueUrl: queueUrl,
        MessageBody: { 'taskToken.$': '$$.Task.Token', 'transferId.$': '$.transferId' },
      },
      End: true,
    },
  },
});

describe('SfnWorkflow on Step Functions, the state machine run by moto', () => {
  // moto 5.2.1 runs one execution per Region: a StartExecution after the first (running or ended)
  // answers a 500 (its ASL interpreter deep-copies the Region's backend, worker threads included).
  // Each execution here gets a Region of its own, its state machine and its token queue.
  const REGIONS = [
    'eu-west-1',
    'eu-west-2',
    'eu-west-3',
    'eu-central-1',
    'us-east-1',
    'us-east-2',
    'us-west-2',
  ];
  let nextRegion = 0;
  const clients: { destroy(): void }[] = [];
  afterAll(() => {
    for (const c of clients) c.destroy();
  });

  interface Machine {
    sfn: SFNClient;
    sqs: SQSClient;
    queueUrl: string;
    stateMachineArn: string;
    workflow: SfnWorkflow;
    /** The Step Functions operations the client sent. */
    calls: string[];
  }
  async function machine(): Promise<Machine> {
    const region = REGIONS[nextRegion++];
    if (!region) throw new Error('no Region left');
    const config = { ...moto.clientConfig, region };
    const calls: string[] = [];
    const sfn = new SFNClient(config);
    sfn.middlewareStack.add(
      (next, context) => (args) => {
        calls.push(context.commandName as string);
        return next(args);
      },
      { step: 'initialize' },
    );
    const sqs = new SQSClient(config);
    clients.push(sfn, sqs);
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'approval-tokens' })))
      .QueueUrl as string;
    const stateMachineArn = (
      await sfn.send(
        new CreateStateMachineCommand({
          name: 'TransferApproval',
          definition: JSON.stringify(waitForApproval(queueUrl)),
          roleArn: `arn:aws:iam::${moto.accountId}:role/TransferApprovalRole`,
        }),
      )
    ).stateMachineArn as string;
    calls.length = 0;
    return { sfn, sqs, queueUrl, stateMachineArn, workflow: new SfnWorkflow(stateMachineArn, sfn), calls };
  }

  /** The token the running task handed out for a transfer. */
  const tokenOf = async (m: Machine, transferId: string): Promise<string> => {
    for (let i = 0; i < 100; i++) {
      const got = await m.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: m.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const msg of got.Messages ?? []) {
        const body = JSON.parse(msg.Body ?? '{}') as { taskToken: string; transferId: string };
        if (body.transferId === transferId) return body.taskToken;
      }
    }
    throw new Error(`no task token for ${transferId}`);
  };
  /** The execution once it has left RUNNING. */
  const ended = async (m: Machine, executionArn: string): Promise<DescribeExecutionCommandOutput> => {
    for (let i = 0; i < 200; i++) {
      const d = await m.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (d.status !== 'RUNNING') return d;
      await new Promise((ok) => setTimeout(ok, 50));
    }
    throw new Error(`${executionArn} still running`);
  };

  it('start names the execution after the transfer, with the transfer as its input, and returns its ARN', async () => {
    const m = await machine();
    const started = await m.workflow.start('TR-1', { transferId: 'TR-1' });
    expect(started.executionId).toBe(`${m.stateMachineArn.replace(':stateMachine:', ':execution:')}:TR-1`);
    const d = await m.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionId }));
    expect(d).toMatchObject({
      name: 'TR-1',
      stateMachineArn: m.stateMachineArn,
      status: 'RUNNING',
      input: '{"transferId":"TR-1"}',
    });

    // While it runs, the same start (same name, same input) is the same execution: no second one.
    expect(await m.workflow.start('TR-1', { transferId: 'TR-1' })).toEqual(started);

    // Once it has ended, starting the transfer again fails saying its workflow exists.
    await m.workflow.sendTaskSuccess(await tokenOf(m, 'TR-1'), { approved: true });
    expect((await ended(m, started.executionId)).status).toBe('SUCCEEDED');
    const error = await m.workflow.start('TR-1', { transferId: 'TR-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(SFNServiceException);
    expect((error as Error).message).toBe('the workflow of TR-1 already exists');
    expect((error as Error).cause).toBeInstanceOf(SFNServiceException);
  });

  it('start without a state machine ARN rejects before any request', async () => {
    const m = await machine();
    await expect(new SfnWorkflow(undefined, m.sfn).start('TR-1', { transferId: 'TR-1' })).rejects.toThrow(
      /no state machine to start/,
    );
    expect(m.calls).toEqual([]);
    // A state machine that does not exist: rethrown as Step Functions said it.
    const error = await new SfnWorkflow(`${m.stateMachineArn}-gone`, m.sfn)
      .start('TR-9', { transferId: 'TR-9' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateMachineDoesNotExist);
    expect(error).not.toBeInstanceOf(TaskTokenError);
  });

  it('sendTaskSuccess hands the waiting task its output as JSON: the execution succeeds with it', async () => {
    const m = await machine();
    const started = await m.workflow.start('TR-2', { transferId: 'TR-2' });
    await m.workflow.sendTaskSuccess(await tokenOf(m, 'TR-2'), { approvalId: 'A' });
    const d = await ended(m, started.executionId);
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.parse(d.output ?? 'null')).toEqual({ approvalId: 'A' });
  });

  it('sendTaskSuccess without an output sends an empty object (Step Functions requires JSON)', async () => {
    const m = await machine();
    const started = await m.workflow.start('TR-3', { transferId: 'TR-3' });
    await m.workflow.sendTaskSuccess(await tokenOf(m, 'TR-3'), undefined);
    const d = await ended(m, started.executionId);
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.parse(d.output ?? 'null')).toEqual({});
  });

  it('sendTaskFailure fails the waiting task with the error name', async () => {
    const m = await machine();
    const started = await m.workflow.start('TR-4', { transferId: 'TR-4' });
    await m.workflow.sendTaskFailure(await tokenOf(m, 'TR-4'), 'Rejected', 'rejected at level 1');
    // The cause is checked on the endpoint below: moto 5.2.1 passes only the error on.
    expect(await ended(m, started.executionId)).toMatchObject({ status: 'FAILED', error: 'Rejected' });
  });

  it('a token already answered, or one never issued, is a TaskTokenError that does not repeat the token', async () => {
    const m = await machine();
    const started = await m.workflow.start('TR-5', { transferId: 'TR-5' });
    const token = await tokenOf(m, 'TR-5');
    await m.workflow.sendTaskSuccess(token, { approvalId: 'A' });
    await ended(m, started.executionId);
    // (A failure sent on the answered token is not here: moto 5.2.1 accepts it without a word,
    // where Step Functions refuses a token whose task has ended.)
    for (const call of [
      () => m.workflow.sendTaskSuccess(token, { approvalId: 'again' }),
      () => m.workflow.sendTaskSuccess(TASK_TOKEN, {}),
      () => m.workflow.sendTaskFailure(TASK_TOKEN, 'Rejected', 'cause'),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskTokenError);
      expect((error as Error).message).toBe('no task is waiting on this token (InvalidToken)');
      expect(JSON.stringify(error)).not.toContain(token);
      expect(JSON.stringify(error)).not.toContain(TASK_TOKEN);
    }
    // The answered execution kept its first answer.
    expect(JSON.parse((await ended(m, started.executionId)).output ?? 'null')).toEqual({ approvalId: 'A' });
  });
});

/**
 * What moto's Step Functions cannot be made to show: a token whose task timed out or whose task
 * is gone (moto says InvalidToken for both once the execution has ended), throttling, a 5xx, and
 * the cause of a task failure (moto drops it). A local endpoint speaking AWS JSON 1.0 answers as
 * Step Functions does.
 */
describe('SfnWorkflow given the errors moto cannot produce', () => {
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

  const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:TransferApproval';

  it('sendTaskFailure sends the task token, the error name and the cause', async () => {
    await new SfnWorkflow(undefined, sfn).sendTaskFailure(TASK_TOKEN, 'Rejected', 'cause');
    expect(requests).toHaveLength(1);
    expect(requests[0]?.target).toBe('AWSStepFunctions.SendTaskFailure');
    expect(requests[0]?.body).toEqual({ taskToken: TASK_TOKEN, error: 'Rejected', cause: 'cause' });
  });

  describe.each(['TaskTimedOut', 'TaskDoesNotExist'])('%s from Step Functions', (type) => {
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
