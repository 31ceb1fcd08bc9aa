import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { escapeMrkdwn, postToSlack } from '../alerts/slack.ts';
import type { Outreach, OutreachSender } from '../collections/ports.ts';
import { isExampleAddress } from '../core/addresses.ts';
import { toEml } from '../core/eml.ts';
import { tagValue } from './ses-approvals.ts';

export interface SesOutreachSettings {
  /** The From address: a verified SES identity, or an address of a verified domain. */
  readonly from: string;
  /** The display name reminders come from (the creditor's). @default none: the bare address */
  readonly fromName?: string | undefined;
  /** A configuration set (event publishing, suppression). @default none */
  readonly configurationSet?: string | undefined;
  readonly slackWebhookUrl: () => Promise<string | undefined>;
  readonly client?: SESv2Client;
  /** The message's Date. @default the time of sending */
  readonly now?: () => Date;
}

/** A message id's left part: the step's key with what RFC 5322's dot-atom does not take made `_`. */
const idLeft = (key: string) => key.replace(/[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]/g, '_');

/**
 * Collection steps on AWS (README "Collections"). An email reminder goes through SES as the
 * reminder's own MIME message (`toEml`: text, HTML and the statement attached, the same bytes the
 * local outbox writes), from the configured identity to the billing address, Message-ID
 * `<key>@<from domain>` (the step's key: one per customer, level and day), with the customer and
 * level as message tags. An example address (RFC 2606: nobody receives there; a bounce would count
 * against the sender) is not emailed, and says so. Every other step (a call, a visit, a hold, the
 * hand-over to legal) is a line for a person: posted to Slack when a webhook is configured, else it
 * stays on the worklist. Any error is thrown: the run releases the step and a retry takes it.
 */
export class SesOutreachSender implements OutreachSender {
  private readonly ses: SESv2Client;

  constructor(private readonly settings: SesOutreachSettings) {
    this.ses = settings.client ?? new SESv2Client({});
  }

  async send(o: Outreach): Promise<{ messageId?: string | undefined; note?: string | undefined }> {
    if (o.channel === 'email' && o.email) {
      const { to, toName, message: m } = o.email;
      if (isExampleAddress(to))
        return { note: `${to} is an example address nobody receives at: not emailed` };
      const { from, fromName, configurationSet } = this.settings;
      const eml = toEml({
        from: fromName ? `${fromName} <${from}>` : from,
        to: `${toName} <${to}>`,
        subject: m.subject,
        text: m.text,
        html: m.html,
        date: this.settings.now?.() ?? new Date(),
        messageId: `${idLeft(o.key)}@${from.slice(from.lastIndexOf('@') + 1)}`,
        attachments: [m.attachment],
      });
      const out = await this.ses.send(
        new SendEmailCommand({
          // The bare address: the IAM condition ses:FromAddress is checked against it.
          FromEmailAddress: from,
          Destination: { ToAddresses: [to] },
          Content: { Raw: { Data: Buffer.from(eml, 'utf8') } },
          EmailTags: [
            { Name: 'customer', Value: tagValue(o.customerId) },
            { Name: 'level', Value: tagValue(o.level) },
          ],
          ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
        }),
      );
      return { messageId: out.MessageId };
    }
    const url = await this.settings.slackWebhookUrl();
    if (!url) return { note: 'no Slack webhook configured: on the worklist only' };
    // Slack is the delivery here: a failed post throws, so the step is released and taken again.
    const text = escapeMrkdwn(o.instruction ?? `${o.level} for ${o.customerName} (${o.customerId})`);
    await postToSlack(url, { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
    return { note: 'posted to Slack' };
  }
}
