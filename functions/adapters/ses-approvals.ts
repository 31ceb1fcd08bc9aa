import { type MessageTag, SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { postToSlack } from '../alerts/slack.ts';
import { isExampleAddress } from '../core/addresses.ts';
import { approvalEmail, approvalSlackMessage } from '../transfers/messages.ts';
import type { ApprovalNotice, ApprovalNotifier } from '../transfers/ports.ts';

/** The display name approval emails come from (ASCII: SES takes a non-ASCII one only MIME-encoded). */
export const APPROVAL_SENDER_NAME = 'Credit Sentinel';

export interface SesApprovalSettings {
  /** The From address: a verified SES identity, or an address of a verified domain. */
  readonly from: string;
  /** A configuration set (event publishing, a dedicated IP pool, suppression). @default none */
  readonly configurationSet?: string | undefined;
  readonly slackWebhookUrl: () => Promise<string | undefined>;
  readonly log: (message: string) => void;
  readonly client?: SESv2Client;
}

/** A tag value as SES takes it: ASCII letters, digits, `_` and `-`, at most 256 characters. */
export const tagValue = (v: string): string => v.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);

/** The tags of a notice's email: which transfer, which level, which kind (SES event publishing carries them). */
export function noticeTags(n: ApprovalNotice): MessageTag[] {
  const tags: MessageTag[] = [
    { Name: 'transfer', Value: tagValue(n.transfer.transferId) },
    { Name: 'kind', Value: n.kind },
  ];
  if (n.kind !== 'outcome') tags.push({ Name: 'level', Value: String(n.level.level) });
  return tags;
}

/**
 * Approval notices on AWS through SES: each email as the app builds it (`approvalEmail`: subject,
 * text and HTML with the evidence tables), from the configured identity to the person's own
 * address, with the transfer, kind and level as message tags. No unsubscribe link and no
 * subscription to confirm, unlike SNS email. Throttling and transient errors are retried by the
 * SDK; any error left is thrown, so the notice fails and the workflow's NoticeNotSent Retry sends
 * it again (the outbox in the transfer store keeps it from going twice). A person without an
 * address, or with an example one (RFC 2606: nobody receives there; a bounce would count against
 * the sender), gets no email. Approve/remind notices also go to Slack when a webhook is configured.
 */
export class SesApprovalNotifier implements ApprovalNotifier {
  private readonly ses: SESv2Client;

  constructor(private readonly settings: SesApprovalSettings) {
    this.ses = settings.client ?? new SESv2Client({});
  }

  async send(notices: readonly ApprovalNotice[]): Promise<void> {
    for (const n of notices) {
      const to = n.to.email;
      if (to && isExampleAddress(to))
        this.settings.log(
          `ses: ${n.kind} notice of ${n.transfer.transferId} to ${n.to.id} not emailed: ${to} is an example address nobody receives at`,
        );
      else if (to) {
        const m = approvalEmail(n);
        const utf8 = (Data: string) => ({ Data, Charset: 'UTF-8' });
        await this.ses.send(
          new SendEmailCommand({
            FromEmailAddress: `${APPROVAL_SENDER_NAME} <${this.settings.from}>`,
            Destination: { ToAddresses: [to] },
            Content: {
              Simple: { Subject: utf8(m.subject), Body: { Text: utf8(m.text), Html: utf8(m.html) } },
            },
            EmailTags: noticeTags(n),
            ...(this.settings.configurationSet
              ? { ConfigurationSetName: this.settings.configurationSet }
              : {}),
          }),
        );
      }
      if (n.kind === 'approve' || n.kind === 'remind') {
        const url = await this.settings.slackWebhookUrl();
        if (url)
          await postToSlack(url, approvalSlackMessage(n) as never).catch((e: unknown) =>
            // Email carries the same link: a Slack outage is logged, never fatal.
            this.settings.log(
              `slack: approval message for ${n.transfer.transferId} not sent: ${(e as Error).message}`,
            ),
          );
      }
    }
  }
}
