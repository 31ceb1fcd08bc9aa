import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateEmailIdentityCommand, SESv2Client, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SesOutreachSender } from '../../functions/adapters/ses-reminders.ts';
import type { Outreach } from '../../functions/collections/ports.ts';
import { parseEml } from '../../functions/core/eml.ts';
import { type Moto, startMoto } from '../moto.ts';

/**
 * The collections' sender on AWS (functions/adapters/ses-reminders.ts) through the real SESv2
 * client against moto: a reminder goes as its raw MIME message, which moto (as SES) accepts from a
 * verified identity only and keeps as sent; an example address is never sent; the other steps go
 * to a Slack webhook (a local server here) or, without one, stay on the worklist.
 */

const FROM = 'credit@harbourfoods.co.uk';
const DATE = new Date('2026-03-31T06:00:00Z');

let moto: Moto;
let ses: SESv2Client;
/** Every SendEmail input as the SDK was given it (moto keeps neither the tags nor the envelope). */
const seen: SendEmailCommandInput[] = [];
let slack: Server;
let slackUrl: string;
const posted: unknown[] = [];

beforeAll(async () => {
  moto = await startMoto();
  ses = new SESv2Client(moto.clientConfig);
  ses.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendEmailCommand') seen.push(args.input as SendEmailCommandInput);
      return next(args);
    },
    { step: 'initialize' },
  );
  await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'harbourfoods.co.uk' }));
  slack = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      posted.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ok) => slack.listen(0, '127.0.0.1', ok));
  slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hook`;
}, 60_000);

afterAll(async () => {
  ses?.destroy();
  await new Promise((ok) => (slack ? slack.close(ok) : ok(undefined)));
  await moto?.close();
});

const sender = (opts: { from?: string; slack?: boolean } = {}) =>
  new SesOutreachSender({
    from: opts.from ?? FROM,
    fromName: 'Harbour Foods Ltd',
    slackWebhookUrl: async () => (opts.slack ? slackUrl : undefined),
    client: ses,
    now: () => DATE,
  });

const reminder = (to: string): Outreach => ({
  key: 'LATE.friendly.2026-03-31',
  customerId: 'LATE',
  customerName: 'Late Payer GmbH',
  level: 'friendly',
  action: 'remind',
  on: '2026-03-31',
  channel: 'email',
  email: {
    to,
    toName: 'Anna Weber',
    message: {
      subject: 'Reminder: EUR 1,200.00 overdue',
      text: 'Dear Anna Weber,\nInvoice L1 is 9 days past due.',
      html: '<p>Dear Anna Weber,</p><p>Invoice L1 is 9 days past due.</p>',
      attachment: {
        filename: 'statement-LATE.csv',
        contentType: 'text/csv; charset=utf-8',
        content: 'invoice,due,amount\nL1,2026-03-22,1200.00\n',
      },
    },
  },
});

/** The raw messages moto accepted (its `ses` backend keeps the sesv2 ones too). */
async function rawMessages(): Promise<{ id: string; source: string; raw_data: string }[]> {
  const data = (await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json()) as {
    ses?: { RawMessage?: { id: string; source: string; raw_data: string }[] };
  };
  return data.ses?.RawMessage ?? [];
}

describe('SesOutreachSender', () => {
  it('sends an email reminder as its raw message, tagged, and answers with SES message id', async () => {
    const said = await sender().send(reminder('anna.weber@late-payer.de'));
    const kept = await rawMessages();
    expect(kept).toHaveLength(1);
    expect(said).toEqual({ messageId: kept[0]?.id });

    const input = seen.at(-1) as SendEmailCommandInput;
    expect(input.FromEmailAddress).toBe(FROM);
    expect(input.Destination).toEqual({ ToAddresses: ['anna.weber@late-payer.de'] });
    expect(input.EmailTags).toEqual([
      { Name: 'customer', Value: 'LATE' },
      { Name: 'level', Value: 'friendly' },
    ]);
    expect(input.Content?.Simple).toBeUndefined();

    // What moto took is the message itself: headers, both bodies and the statement attached.
    const eml = kept[0]?.raw_data as string;
    expect(eml).toMatch(/^Message-ID: <LATE\.friendly\.2026-03-31@harbourfoods\.co\.uk>\r$/m);
    expect(eml).toMatch(/^Date: Tue, 31 Mar 2026 06:00:00 \+0000\r$/m);
    const m = parseEml(eml);
    expect(m.headers.from).toBe(`Harbour Foods Ltd <${FROM}>`);
    expect(m.headers.to).toBe('Anna Weber <anna.weber@late-payer.de>');
    expect(m.headers.subject).toBe('Reminder: EUR 1,200.00 overdue');
    expect(m.text).toContain('Invoice L1 is 9 days past due.');
    expect(m.html).toContain('<p>Invoice L1 is 9 days past due.</p>');
    expect(m.attachments.map((a) => [a.filename, a.content.toString('utf8')])).toEqual([
      ['statement-LATE.csv', 'invoice,due,amount\nL1,2026-03-22,1200.00\n'],
    ]);
  });

  it('does not email an example address, and says so', async () => {
    const before = seen.length;
    expect(await sender().send(reminder('ap@late-payer.example.com'))).toEqual({
      note: 'ap@late-payer.example.com is an example address nobody receives at: not emailed',
    });
    expect(seen.length).toBe(before);
    expect(await rawMessages()).toHaveLength(1);
  });

  it('throws when SES refuses (a sender not verified): the run releases the step', async () => {
    await expect(
      sender({ from: 'credit@unverified.co.uk' }).send(reminder('anna.weber@late-payer.de')),
    ).rejects.toThrow(/authority to send/);
    expect(await rawMessages()).toHaveLength(1);
  });

  it('posts any other step to Slack when a webhook is set; without one it stays on the worklist', async () => {
    const call: Outreach = {
      key: 'OLD.final.2026-03-31',
      customerId: 'OLD',
      customerName: 'Old Debt Ltd',
      level: 'final',
      action: 'remind',
      on: '2026-03-31',
      channel: 'phone',
      instruction:
        'Call Old Debt Ltd (OLD) about GBP 1,200.00 demanded ("final" reminder): 2 overdue items <x>.',
    };
    expect(await sender().send(call)).toEqual({ note: 'no Slack webhook configured: on the worklist only' });
    expect(posted).toEqual([]);
    expect(await sender({ slack: true }).send(call)).toEqual({ note: 'posted to Slack' });
    expect(posted).toHaveLength(1);
    // mrkdwn's control characters escaped: data never becomes a link or a mention.
    expect((posted[0] as { text: string }).text).toBe(
      'Call Old Debt Ltd (OLD) about GBP 1,200.00 demanded ("final" reminder): 2 overdue items &lt;x&gt;.',
    );
  });
});
