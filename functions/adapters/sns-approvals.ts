import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { postToSlack } from '../alerts/slack.ts';
import { approvalEmail, approvalSlackMessage } from '../transfers/messages.ts';
import type { ApprovalNotice, ApprovalNotifier } from '../transfers/ports.ts';

/** The message attribute each person's email subscription filters on: a link reaches only its approver. */
export const RECIPIENT_ATTRIBUTE = 'recipient';

/**
 * An email subject as SNS takes it (ASCII, at most 100 characters, no line breaks): accents
 * dropped (Müller -> Muller), any other character a "?", and a longer one cut at a word with "...".
 */
export function snsSubject(subject: string): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\x20-\x7e]/gu, '?');
  if (ascii.length <= 100) return ascii;
  const cut = ascii.slice(0, 97);
  const word = cut.lastIndexOf(' ');
  return `${(word > 60 ? cut.slice(0, word) : cut).replace(/[\s,;:]+$/, '')}...`;
}

/**
 * Approval notices on AWS: each email is published on the approvals topic with the recipient's
 * person id as an attribute, and only that person's email subscription (filtered on it) receives
 * it: SNS email carries the text body (SES, with the HTML body too, is the upgrade documented in
 * the README). Approve/remind notices also go to Slack when a webhook is configured.
 */
export class SnsApprovalNotifier implements ApprovalNotifier {
  constructor(
    private readonly topicArn: string,
    private readonly slackWebhookUrl: () => Promise<string | undefined>,
    private readonly log: (message: string) => void,
    private readonly sns: SNSClient = new SNSClient({}),
  ) {}

  async send(notices: readonly ApprovalNotice[]): Promise<void> {
    for (const n of notices) {
      const m = approvalEmail(n);
      await this.sns.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: snsSubject(m.subject),
          Message: m.text,
          MessageAttributes: {
            [RECIPIENT_ATTRIBUTE]: { DataType: 'String', StringValue: n.to.id },
            kind: { DataType: 'String', StringValue: n.kind },
          },
        }),
      );
      if (n.kind === 'approve' || n.kind === 'remind') {
        const url = await this.slackWebhookUrl();
        if (url)
          await postToSlack(url, approvalSlackMessage(n) as never).catch((e: unknown) =>
            // Email carries the same link: a Slack outage is logged, never fatal.
            this.log(
              `slack: approval message for ${n.transfer.transferId} not sent: ${(e as Error).message}`,
            ),
          );
      }
    }
  }
}
