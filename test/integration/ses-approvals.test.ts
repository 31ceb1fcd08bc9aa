import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateConfigurationSetCommand,
  CreateEmailIdentityCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SesApprovalNotifier } from '../../functions/adapters/ses-approvals.ts';
import { SnsApprovalNotifier } from '../../functions/adapters/sns-approvals.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { ApprovalNotice, Transfer } from '../../functions/transfers/ports.ts';
import { approvalNotifierFromEnv } from '../../functions/transfers/wiring.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, localTransfers } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { type Moto, startMoto } from '../moto.ts';
import { writeHarbourFoods } from './approval-book.ts';
import { approvalPolicyWith, until } from './transfers-console.ts';

/**
 * Approval emails through SES: the adapter through the real SDK client (SESv2 SendEmail) against
 * moto's server, fed by the real transfer app and workflow on the local stack (dynalite, the ASL
 * on the local engine). Between the client and moto sits a small proxy that keeps each request as
 * the SDK put it on the wire and can answer a SendEmail with SES's throttling error: moto keeps
 * the subject, the From, the To and the HTML body of a message it accepts, but neither the text
 * body (it stores only one) nor the tags and configuration set, which are checked on the wire.
 */

const MOTO = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const FROM = 'credit@harbourfoods.co.uk';
const DOMAIN = 'harbourfoods.co.uk';
const TODAY = new Date().toISOString().slice(0, 10);
const BASE_URL = 'https://approvals.harbourfoods.co.uk';
const SEND_PATH = '/v2/email/outbound-emails';

// ---- the proxy between the SDK and moto ----

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  status?: number;
}

/** Forwards to moto, keeping each request; answers the next `throttle` SendEmails with SES's 429. */
class MotoProxy {
  readonly seen: Seen[] = [];
  throttle = 0;
  private server?: Server;
  endpoint = '';

  constructor(private readonly target: string) {}

  async start(): Promise<void> {
    const target = new URL(this.target);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const seen: Seen = { method: req.method ?? '', path: req.url ?? '', body: body.toString('utf8') };
        this.seen.push(seen);
        if (seen.path === SEND_PATH && this.throttle > 0) {
          this.throttle--;
          seen.status = 429;
          res
            .writeHead(429, {
              'content-type': 'application/json',
              'x-amzn-errortype': 'TooManyRequestsException',
            })
            .end(JSON.stringify({ message: 'Maximum sending rate exceeded.' }));
          return;
        }
        const out = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: target.host },
          },
          (r) => {
            seen.status = r.statusCode;
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        out.on('error', (e) => res.writeHead(502).end(e.message));
        out.end(body);
      });
    });
    await new Promise<void>((ok) => this.server?.listen(0, '127.0.0.1', ok));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The SendEmail requests as the SDK sent them, with moto's (or the proxy's) status. */
  sends(): (SendEmailBody & { status?: number })[] {
    return this.seen
      .filter((s) => s.method === 'POST' && s.path === SEND_PATH)
      .map((s) => ({ ...(JSON.parse(s.body) as SendEmailBody), status: s.status }));
  }

  close(): Promise<void> {
    return new Promise((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }
}

interface SendEmailBody {
  FromEmailAddress: string;
  Destination: { ToAddresses: string[] };
  Content: {
    Simple: {
      Subject: { Data: string; Charset: string };
      Body: { Text: { Data: string; Charset: string }; Html: { Data: string; Charset: string } };
    };
  };
  EmailTags: { Name: string; Value: string }[];
  ConfigurationSetName?: string;
}

/** A message moto accepted (its `ses` backend keeps the sesv2 ones too). */
interface MotoMessage {
  id: string;
  source: string;
  subject: string;
  body: string;
  destinations: { ToAddresses: string[] };
}
async function motoMessages(): Promise<MotoMessage[]> {
  const data = (await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json()) as {
    ses?: { Message?: MotoMessage[] };
  };
  return data.ses?.Message ?? [];
}

// ---- the local stack ----

let moto: Moto;
let proxy: MotoProxy;
let admin: SESv2Client;
let ses: SESv2Client;
let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
const logged: string[] = [];

/** The shipped policy, its people at the company's domain, but for Chen, left at an example address. */
const approvalPolicy = approvalPolicyWith((doc) => {
  for (const [id, p] of Object.entries(doc.people as Record<string, { email: string }>))
    if (id !== 'chen') p.email = p.email.replace('@example.com', `@${DOMAIN}`);
});

beforeAll(async () => {
  moto = await startMoto();
  proxy = new MotoProxy(moto.endpoint);
  await proxy.start();
  admin = new SESv2Client({ ...MOTO, endpoint: moto.endpoint });
  ses = new SESv2Client({ ...MOTO, endpoint: proxy.endpoint });
  await admin.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'approvals' }));

  dir = await mkdtemp(join(tmpdir(), 'ses-approvals-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  await writeHarbourFoods(env.store, TODAY);
  const creditPolicy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
  transfers = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy: async () => creditPolicy,
    approvalPolicy: async () => approvalPolicy,
    dataDir: dir,
    clock: { now: () => new Date() },
    today: () => new Date().toISOString().slice(0, 10),
    baseUrl: () => BASE_URL,
    notifier: new SesApprovalNotifier({
      from: FROM,
      configurationSet: 'approvals',
      slackWebhookUrl: async () => undefined,
      log: (m) => logged.push(m),
      client: ses,
    }),
  });
}, 60_000);

afterAll(async () => {
  for (const t of (await transfers?.app.list()) ?? []) {
    if (t.status === 'pending') await transfers.app.recall(t.transferId, t.request.requester);
    if (t.executionId) await transfers.workflow.execution(t.executionId)?.done;
  }
  await transfers?.idle();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  ses?.destroy();
  admin?.destroy();
  await proxy?.close();
  await moto?.close();
});

afterEach(() => {
  if (proxy) proxy.throttle = 0;
});

/** The messages moto accepted for `to` about `transferId` (the body names it). */
const mailFor = async (to: string, transferId: string) =>
  (await motoMessages()).filter(
    (m) => m.destinations.ToAddresses.includes(to) && m.body.includes(transferId),
  );

/** The one message to `to` about `transferId` whose subject has `subject`, once moto has it. */
const theMail = (to: string, transferId: string, subject: string) =>
  until(`the email to ${to} (${subject})`, async () => {
    const m = (await mailFor(to, transferId)).filter((x) => x.subject.includes(subject));
    if (m.length > 1) throw new Error(`${m.length} emails to ${to} (${subject})`);
    return m[0];
  });

const linkIn = (html: string) => html.match(/<a href="([^"]+)"[^>]*>Review and decide<\/a>/)?.[1] as string;

describe('approval emails through SES, sent by the transfer workflow', () => {
  let transfer: Transfer;

  it('a send SES refuses (the identity not yet verified) fails the notice; the workflow sends it again once it is, once', async () => {
    const made = await transfers.app.request({
      customerId: 'C7',
      type: 'refund',
      amount: '500.00',
      currency: 'EUR',
      beneficiaryName: 'Harbour Foods Ltd',
      beneficiaryAccount: 'GB33BUKB20201555555555',
      reason: 'credit note CN-7 refunded',
      requester: 'rita',
    });
    if (!made.ok) throw new Error(JSON.stringify(made.issues));
    transfer = made.transfer;
    const to = `carla@${DOMAIN}`;

    // The first send: moto, as SES, refuses an unverified sender (MessageRejected).
    const refused = await until('the refused send', async () =>
      proxy.sends().find((s) => s.Destination.ToAddresses.includes(to) && s.status === 400),
    );
    expect(refused.FromEmailAddress).toBe(`Credit Sentinel <${FROM}>`);
    expect(await mailFor(to, transfer.transferId)).toEqual([]);
    // Its claim given back: the notice is not marked sent.
    const carla = (await transfers.store.noticesOf(transfer.transferId, 1)).find((n) => n.to === 'carla');
    expect(carla?.state).not.toBe('sent');

    // The sender is verified; the step's Retry (NoticeNotSent) sends it.
    await admin.send(new CreateEmailIdentityCommand({ EmailIdentity: DOMAIN }));
    const mail = await theMail(to, transfer.transferId, 'level 1 of 2');
    const outbox = await until('both level-1 notices marked sent', async () => {
      const all = await transfers.store.noticesOf(transfer.transferId, 1);
      return all.length === 2 && all.every((n) => n.state === 'sent') ? all : undefined;
    });
    expect(outbox.map((n) => n.to).sort()).toEqual(['carla', 'chen']);

    // What moto kept: From, To, the subject and the HTML body with its button and evidence.
    expect(mail.source).toBe(`Credit Sentinel <${FROM}>`);
    expect(mail.destinations.ToAddresses).toEqual([to]);
    // The new beneficiary adds a level: refund 500.00 EUR, two levels.
    expect(mail.subject).toBe('Approve: refund 500.00 EUR to Harbour Foods Ltd (C7), level 1 of 2');
    expect(mail.body).toContain(`Transfer ${transfer.transferId}`);
    const link = linkIn(mail.body);
    expect(link).toMatch(new RegExp(`^${BASE_URL}/approvals/[A-Za-z0-9._~-]+$`));
    expect(mail.body).toContain('<table');
    expect(mail.body).toContain('Harbour Foods Ltd');
    expect(mail.body).toContain('500.00 EUR');

    // What the SDK sent and moto did not keep: the text body, the tags, the configuration set.
    const sent = proxy
      .sends()
      .filter((s) => s.Destination.ToAddresses.includes(to) && s.status === 200)
      .map(({ status: _, ...s }) => s);
    expect(sent).toHaveLength(1);
    const body = sent[0] as SendEmailBody;
    expect(body.Content.Simple.Subject).toEqual({ Data: mail.subject, Charset: 'UTF-8' });
    expect(body.Content.Simple.Body.Html).toEqual({ Data: mail.body, Charset: 'UTF-8' });
    expect(body.Content.Simple.Body.Text.Charset).toBe('UTF-8');
    expect(body.Content.Simple.Body.Text.Data).toContain(`Review and decide: ${link}`);
    expect(body.Content.Simple.Body.Text.Data).toContain('Hello Carla Credit,');
    expect(body.Content.Simple.Body.Text.Data).not.toMatch(/<(p|table|a)[ >]/);
    expect(body.EmailTags).toEqual([
      { Name: 'transfer', Value: transfer.transferId },
      { Name: 'kind', Value: 'approve' },
      { Name: 'level', Value: '1' },
    ]);
    expect(body.ConfigurationSetName).toBe('approvals');

    // Chen's address is an example one: not emailed, said so, and the notice is not retried for ever.
    expect(proxy.sends().some((s) => s.Destination.ToAddresses.some((a) => a.startsWith('chen@')))).toBe(
      false,
    );
    expect(
      logged.some((l) => l.includes(`to chen not emailed: chen@example.com is an example address`)),
    ).toBe(true);
  }, 90_000);

  it("the emails' links open the approval page; deciding both levels there tells the requester by SES", async () => {
    const decide = async (to: string, level: string) => {
      const mail = await theMail(to, transfer.transferId, level);
      const path = new URL(linkIn(mail.body)).pathname;
      const page = await transfers.http({ method: 'GET', path, headers: {}, body: '' });
      expect(page.status).toBe(200);
      expect(page.body).toContain(transfer.transferId);
      const decided = await transfers.http({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ decision: 'approve', email: to, comment: 'checked' }).toString(),
      });
      expect(decided.status, decided.body).toBe(200);
    };
    await decide(`carla@${DOMAIN}`, 'level 1 of 2');
    await decide(`fiona@${DOMAIN}`, 'level 2 of 2');
    const outcome = await until('the outcome email to Rita', async () =>
      (await mailFor(`rita@${DOMAIN}`, transfer.transferId)).find((m) => !m.subject.startsWith('Approve')),
    );
    expect(outcome.source).toBe(`Credit Sentinel <${FROM}>`);
    expect(outcome.body).not.toContain('Review and decide');
    const sent = proxy.sends().filter((s) => s.Destination.ToAddresses.includes(`rita@${DOMAIN}`));
    expect(sent.map((s) => s.EmailTags)).toEqual([
      [
        { Name: 'transfer', Value: transfer.transferId },
        { Name: 'kind', Value: 'outcome' },
      ],
    ]);
  }, 60_000);
});

describe('SES throttling', () => {
  /** An outcome notice of the first test's transfer to Paula, as the app sends one. */
  const notice = async (): Promise<ApprovalNotice> => {
    const [t] = await transfers.app.list();
    return {
      kind: 'outcome',
      transfer: t as Transfer,
      to: { id: 'paula', name: 'Paula Payables', email: `paula@${DOMAIN}` },
    };
  };
  const notifier = () =>
    new SesApprovalNotifier({
      from: FROM,
      slackWebhookUrl: async () => undefined,
      log: (m) => logged.push(m),
      client: ses,
    });

  it('is retried by the SDK: a throttled send goes out once', async () => {
    const n = await notice();
    const before = proxy.sends().length;
    proxy.throttle = 1;
    await notifier().send([n]);
    const tries = proxy.sends().slice(before);
    expect(tries.map((s) => s.status)).toEqual([429, 200]);
    expect(tries[1]).not.toHaveProperty('ConfigurationSetName');
    expect(await mailFor(`paula@${DOMAIN}`, n.transfer.transferId)).toHaveLength(1);
  }, 30_000);

  it("past the SDK's attempts the send fails with SES's error (the workflow's NoticeNotSent Retry takes over), and nothing is sent", async () => {
    const n = await notice();
    const before = proxy.sends().length;
    const mails = (await mailFor(`paula@${DOMAIN}`, n.transfer.transferId)).length;
    proxy.throttle = 100;
    const err = (await notifier()
      .send([n])
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { $metadata: { attempts: number } };
    expect(err?.name).toBe('TooManyRequestsException');
    const tries = proxy.sends().slice(before);
    expect(tries.length).toBeGreaterThan(1);
    expect(tries.length).toBe(err.$metadata.attempts);
    expect(tries.every((s) => s.status === 429)).toBe(true);
    expect(await mailFor(`paula@${DOMAIN}`, n.transfer.transferId)).toHaveLength(mails);
  }, 60_000);
});

describe('the Lambda wiring', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('sends through SES when APPROVAL_EMAIL_FROM is set, else through the SNS topic', () => {
    process.env.APPROVAL_EMAIL_FROM = FROM;
    expect(approvalNotifierFromEnv(() => {})).toBeInstanceOf(SesApprovalNotifier);
    delete process.env.APPROVAL_EMAIL_FROM;
    process.env.APPROVALS_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:approvals';
    expect(approvalNotifierFromEnv(() => {})).toBeInstanceOf(SnsApprovalNotifier);
  });
});
