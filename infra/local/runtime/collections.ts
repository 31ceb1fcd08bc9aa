import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoTransferStore } from '../../../functions/adapters/dynamodb-transfers.ts';
import { postToSlack } from '../../../functions/alerts/slack.ts';
import type { CollectionsStore, Outreach, OutreachSender } from '../../../functions/collections/ports.ts';
import {
  type CollectionsRunDeps,
  type CollectionsRunReport,
  collectionsRun,
} from '../../../functions/collections/run.ts';
import type { IsoDate } from '../../../functions/core/dates.ts';
import { toEml } from '../../../functions/core/eml.ts';
import type { Policy } from '../../../functions/credit/policy.ts';
import { localAudit } from './audit-key.ts';
import { localLinkKeys, mailDir, onceInOutbox } from './transfers.ts';

/** Who reminders come from locally (on AWS: the configured SES identity). */
export const LOCAL_COLLECTIONS_FROM = 'Credit control <collections@credit-sentinel.localhost>';

/** The steps for people (calls, visits, holds, hand-overs): one JSON file each, oldest first by name. */
export const collectionsTasksDir = (dataDir: string) => join(dataDir, 'outbox', 'collections');

let sequence = 0;

/**
 * The collection plan's steps on this machine: a reminder as an `.eml` file in the outbox (text,
 * HTML and the CSV statement, what SES would send), every other step (a call, a visit, a hold, a
 * hand-over) as a file of `outbox/collections/` and, when a webhook is set, a Slack post.
 * Each step is written once however often it is sent (its key marks the outbox): a run retried
 * after a crash between the send and its mark finds it written.
 */
export class OutboxOutreachSender implements OutreachSender {
  constructor(
    private readonly dataDir: string,
    private readonly now: () => Date,
    private readonly slackWebhookUrl?: string | undefined,
  ) {}

  async send(o: Outreach): Promise<{ messageId?: string; note?: string }> {
    const at = this.now();
    const stamp = at.toISOString().replace(/[-:.]/g, '');
    const seq = String(++sequence).padStart(6, '0');
    if (o.email) {
      const messageId = `${o.key}@credit-sentinel.localhost`;
      const { message } = o.email;
      const eml = toEml({
        from: LOCAL_COLLECTIONS_FROM,
        to: `${o.email.toName} <${o.email.to}>`,
        subject: message.subject,
        text: message.text,
        html: message.html,
        date: at,
        messageId,
        attachments: [message.attachment],
      });
      const file = `${stamp}-${seq}-reminder-${encodeURIComponent(o.customerId)}-${o.level}.eml`;
      await onceInOutbox(this.dataDir, `dun.${o.key}`, mailDir(this.dataDir), file, eml);
      return { messageId };
    }
    const line = {
      at: at.toISOString(),
      key: o.key,
      customerId: o.customerId,
      name: o.customerName,
      level: o.level,
      action: o.action,
      channel: o.channel,
      on: o.on,
      instruction: o.instruction,
    };
    const written = await onceInOutbox(
      this.dataDir,
      `dun.${o.key}`,
      collectionsTasksDir(this.dataDir),
      `${stamp}-${seq}-${o.action}-${encodeURIComponent(o.customerId)}-${o.level}.json`,
      `${JSON.stringify(line, null, 2)}\n`,
    );
    if (this.slackWebhookUrl && written)
      // The task list has it: a Slack outage is a note on the record, never a failed step.
      return postToSlack(this.slackWebhookUrl, { text: o.instruction ?? '' } as never).then(
        () => ({}),
        (e: unknown) => ({ note: `Slack post failed: ${(e as Error).message}` }),
      );
    return { note: this.slackWebhookUrl ? undefined : 'on the task list (no Slack webhook configured)' };
  }
}

/** One collections run on this machine: the store's customers, the outbox, the given day. */
export async function localCollectionsRun(
  deps: {
    readonly store: CollectionsStore;
    readonly dataDir: string;
    readonly now: () => Date;
    readonly slackWebhookUrl?: string | undefined;
    /**
     * Where the console serves the customer portal: each reminder links to it, signed with the
     * data dir's link key. @default none: reminders carry no link
     */
    readonly portalBaseUrl?: string | undefined;
    /** The audit trail the run's holds and hand-overs go on (`localAuditTrail`). @default none */
    readonly audit?: CollectionsRunDeps['audit'];
  },
  policy: Policy,
  opts: {
    readonly asOf: IsoDate;
    readonly claimant: string;
    readonly customerIds?: readonly string[];
    readonly dryRun?: boolean;
    readonly onProgress?: (done: number, total: number) => void;
    /** Customers at once. @default 4 */
    readonly concurrency?: number;
  },
): Promise<CollectionsRunReport> {
  const portal = deps.portalBaseUrl
    ? { baseUrl: deps.portalBaseUrl, keys: await localLinkKeys(deps.dataDir) }
    : undefined;
  return collectionsRun(
    {
      portal,
      audit: deps.audit,
      store: deps.store,
      sender: new OutboxOutreachSender(deps.dataDir, deps.now, deps.slackWebhookUrl),
      claimant: opts.claimant,
      now: () => deps.now().toISOString(),
      concurrency: opts.concurrency ?? 4,
    },
    policy,
    opts,
  );
}

/** The audit trail of a data dir as the CLI, the console and the run append to it: the local key and anchors. */
export function localAuditTrail(
  store: { readonly client: DynamoDBClient; readonly tableName: string },
  dataDir: string,
): DynamoTransferStore {
  const audit = localAudit(dataDir);
  return new DynamoTransferStore({
    client: store.client,
    tableName: store.tableName,
    auditKey: audit.auditKey,
    auditAnchor: audit.anchor,
  });
}
