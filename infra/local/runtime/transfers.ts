import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoStore } from '../../../functions/adapters/dynamodb.ts';
import { DynamoApplicationStore } from '../../../functions/adapters/dynamodb-applications.ts';
import { DynamoCheckLog } from '../../../functions/adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../../../functions/adapters/dynamodb-checks.ts';
import { DynamoExecutionJournal } from '../../../functions/adapters/dynamodb-executions.ts';
import { DynamoReviewStore } from '../../../functions/adapters/dynamodb-reviews.ts';
import { DynamoTransferStore } from '../../../functions/adapters/dynamodb-transfers.ts';
import { postToSlack } from '../../../functions/alerts/slack.ts';
import { applicationOutcomes } from '../../../functions/applications/app.ts';
import { orderReleaseOutcomes } from '../../../functions/checks/holds.ts';
import { mapLimit } from '../../../functions/core/concurrency.ts';
import { crashPoint } from '../../../functions/core/crash.ts';
import type { IsoDate } from '../../../functions/core/dates.ts';
import { type Page, slicePage } from '../../../functions/core/paging.ts';
import type { Policy } from '../../../functions/credit/policy.ts';
import type { ChangeNotifier, Clock } from '../../../functions/ingest/ports.ts';
import {
  executionName,
  TransferApp,
  type TransferDeps,
  transferOfExecution,
} from '../../../functions/transfers/app.ts';
import { escapeHtml } from '../../../functions/transfers/approval-page.ts';
import type { ApprovalPolicy } from '../../../functions/transfers/approval-policy.ts';
import {
  decideSlack,
  type HttpRequest,
  type HttpResponse,
  transferHttp,
} from '../../../functions/transfers/http.ts';
import type { LinkKey } from '../../../functions/transfers/links.ts';
import {
  approvalEmail,
  approvalSlackMessage,
  parseEml,
  toEml,
} from '../../../functions/transfers/messages.ts';
import type {
  ApprovalNotice,
  ApprovalNotifier,
  Transfer,
  TransferFailure,
} from '../../../functions/transfers/ports.ts';
import type { WorkflowPort } from '../../../functions/transfers/workflow.ts';
import type { ConsoleTransfers } from '../console/index.ts';
import { localAudit } from './audit-key.ts';
import { localMetrics } from './metrics.ts';
import { transferCrashPoints, transferEntry } from './resume.ts';
import { LocalWorkflow } from './workflow.ts';

/** Where approval emails land: one `.eml` file each, newest last by name. */
export const mailDir = (dataDir: string) => join(dataDir, 'outbox', 'mail');

export const LOCAL_MAIL_FROM = 'credit-sentinel <approvals@credit-sentinel.localhost>';

let sequence = 0;

/**
 * Approval emails as `.eml` files in the outbox (what SES would send: text and HTML), and the
 * Block Kit message with Approve/Reject buttons on Slack when a webhook is set. A notice to
 * someone without an email address is written nowhere but Slack.
 */
export class OutboxApprovalNotifier implements ApprovalNotifier {
  constructor(
    private readonly dataDir: string,
    private readonly clock: Clock,
    private readonly slackWebhookUrl?: string | undefined,
  ) {}

  async send(notices: readonly ApprovalNotice[]): Promise<void> {
    const dir = mailDir(this.dataDir);
    await mkdir(dir, { recursive: true });
    for (const n of notices) {
      const now = this.clock.now();
      if (n.to.email) {
        const m = approvalEmail(n);
        const stamp = now.toISOString().replace(/[-:.]/g, '');
        const seq = String(++sequence).padStart(6, '0');
        const messageId = `${stamp}.${seq}.${n.transfer.transferId}@credit-sentinel.localhost`;
        const eml = toEml({
          from: LOCAL_MAIL_FROM,
          to: `${n.to.name} <${n.to.email}>`,
          ...m,
          date: now,
          messageId,
        });
        const name = `${stamp}-${seq}-${n.kind}-${n.transfer.transferId}-${n.to.id}.eml`;
        await writeMailOnce(this.dataDir, noticeKey(n), name, eml);
      }
      if (this.slackWebhookUrl && (n.kind === 'approve' || n.kind === 'remind'))
        await postToSlack(this.slackWebhookUrl, approvalSlackMessage(n) as never).catch((e: unknown) =>
          console.error(
            `slack: approval message for ${n.transfer.transferId} not sent: ${(e as Error).message}`,
          ),
        );
    }
  }
}

/**
 * The outbox key of a notice (transfer, level, kind, round, person): what the store's outbox
 * claims before sending (`TransferApp.sendOnce`, `tellRequester`).
 */
function noticeKey(n: ApprovalNotice): string {
  const [level, round] =
    n.kind === 'outcome'
      ? [0, n.transfer.retries ?? 0]
      : [n.level.level, n.kind === 'escalate' ? 'last' : n.reminder];
  return [n.transfer.transferId, level, n.kind, round, n.to.id]
    .map((x) => encodeURIComponent(String(x)))
    .join('.');
}

/**
 * Writes a notice's email once however often it is sent: a process killed after the email was
 * written and before the store's outbox said so (its claim is given back at the next start) sends
 * the notice again, and this finds the email written. On AWS the same window is SES's
 * at-least-once send.
 */
async function writeMailOnce(dataDir: string, key: string, name: string, eml: string): Promise<void> {
  await onceInOutbox(dataDir, key, mailDir(dataDir), name, eml);
}

/**
 * Writes `content` as `<dir>/<name>` once for `key`, however often it is asked: the file is
 * written aside, the key marked with its name (a rename, whole or not at all), then moved into
 * `dir`; a kill anywhere in between is finished by the next call, which finds the key marked and
 * writes nothing new. Says whether this call marked the key (false: an earlier one had).
 */
export async function onceInOutbox(
  dataDir: string,
  key: string,
  dir: string,
  name: string,
  content: string,
): Promise<boolean> {
  const written = join(dataDir, 'outbox', 'written');
  await mkdir(written, { recursive: true });
  await mkdir(dir, { recursive: true });
  const marker = join(written, key);
  const aside = `${marker}.part`;
  let named: string | undefined;
  try {
    named = (await readFile(marker, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const fresh = !named;
  if (!named) {
    await writeFile(aside, content);
    await writeFile(`${marker}.tmp`, name);
    await rename(`${marker}.tmp`, marker);
    named = name;
  }
  await rename(aside, join(dir, named)).catch((e: unknown) => {
    // Moved already (by the call that wrote it).
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  });
  return fresh;
}

/** Who the local ops alerts are addressed to (on AWS: the ops topic's subscribers, through the TransfersFailed alarm). */
export const LOCAL_OPS_TO = 'Ops <ops@credit-sentinel.localhost>';

/**
 * The local stand-in for the ops alarm a failed transfer raises on AWS: an email to ops in the
 * outbox (the console's mail page lists it), saying what failed, where, and how to go on.
 */
export async function writeOpsAlert(
  dataDir: string,
  clock: Clock,
  t: Transfer,
  f: TransferFailure,
): Promise<void> {
  const dir = mailDir(dataDir);
  await mkdir(dir, { recursive: true });
  const now = clock.now();
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  const seq = String(++sequence).padStart(6, '0');
  const lines = [
    `Transfer ${t.transferId} failed in ${f.state} at ${f.at}: ${f.error}.`,
    `Cause: ${f.cause || '(none given)'}`,
    `It was ${f.from}; its open approval links are void.`,
    `Retry it (sentinel transfer retry ${t.transferId} --by YOU, or the Retry button on its page) once the cause is fixed, or have its requester recall it.`,
  ];
  await writeFile(
    join(dir, `${stamp}-${seq}-ops-failed-${t.transferId}.eml`),
    toEml({
      from: LOCAL_MAIL_FROM,
      to: LOCAL_OPS_TO,
      subject: `[ops] Transfer ${t.transferId} failed in ${f.state}: ${f.error}`,
      text: lines.join('\n\n'),
      html: lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n'),
      date: now,
      messageId: `${stamp}.${seq}.ops.${t.transferId}@credit-sentinel.localhost`,
    }),
  );
}

/** One email of the outbox, as the console and the CLI list it. */
export interface OutboxMail {
  readonly file: string;
  readonly to: string;
  readonly subject: string;
  readonly date: string;
  readonly text: string;
  readonly html: string;
}

/** The outbox's email files, newest first (their names start with the time they were written). */
async function mailFiles(dataDir: string): Promise<string[]> {
  try {
    return (await readdir(mailDir(dataDir)))
      .filter((f) => f.endsWith('.eml'))
      .sort()
      .reverse();
  } catch {
    return [];
  }
}

async function readMail(dataDir: string, file: string): Promise<OutboxMail> {
  const m = parseEml(await readFile(join(mailDir(dataDir), file), 'utf8'));
  return {
    file,
    to: m.headers.to ?? '',
    subject: m.headers.subject ?? '',
    date: m.headers.date ?? '',
    text: m.text,
    html: m.html,
  };
}

/**
 * The outbox's emails, newest first: every one, or the newest `limit`; with `only`, just those
 * whose file name it accepts (a transfer's approval emails), chosen before any file is read.
 */
export async function listMail(
  dataDir: string,
  limit?: number,
  only: (file: string) => boolean = () => true,
): Promise<OutboxMail[]> {
  const files = (await mailFiles(dataDir)).filter(only);
  // A few files open at a time: an outbox of thousands would run out of file handles at once.
  return mapLimit(files.slice(0, limit), 16, (f) => readMail(dataDir, f));
}

/** A page of the outbox's emails, newest first (`page` from 1), with how many there are. */
export async function mailPage(dataDir: string, page: number, size: number): Promise<Page<OutboxMail>> {
  const p = slicePage(await mailFiles(dataDir), page, size);
  return { ...p, items: await mapLimit(p.items, 16, (f) => readMail(dataDir, f)) };
}

/** The link signing key of a data dir, made once (32 random bytes) and kept readable by its owner only. */
export async function localLinkKeys(dataDir: string): Promise<LinkKey[]> {
  const file = join(dataDir, 'link-keys.json');
  try {
    const keys = JSON.parse(await readFile(file, 'utf8')) as { id: string; secret: string }[];
    return keys.map((k) => ({ id: k.id, secret: Buffer.from(k.secret, 'base64') }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = { id: `k${Date.now().toString(36)}`, secret: randomBytes(32).toString('base64') };
  await writeFile(file, JSON.stringify([key]), { mode: 0o600 });
  return [{ id: key.id, secret: Buffer.from(key.secret, 'base64') }];
}

export interface LocalTransfersOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly creditStore: Pick<DynamoStore, 'loadCustomerPartition'>;
  /** Where a credit policy waits for approval and is put in force (README "The policy"). @default none */
  readonly policies?: TransferDeps['policies'];
  readonly creditPolicy: () => Promise<Policy>;
  readonly approvalPolicy: () => Promise<ApprovalPolicy>;
  readonly dataDir: string;
  readonly clock: Clock;
  readonly today: () => IsoDate;
  readonly baseUrl: () => string;
  readonly slackWebhookUrl?: string | undefined;
  readonly slackSigningSecret?: string | undefined;
  /** Another notifier (tests); @default the outbox and Slack. */
  readonly notifier?: ApprovalNotifier;
  /** Another workflow definition text (tests); @default statemachines/transfer-approval.asl.json. */
  readonly definition?: string;
  /** Told when an approved or paid transfer changes a customer's exposure (the local evaluator listens). */
  readonly changes?: ChangeNotifier | undefined;
  /**
   * The transfer app's metrics. @default `<dataDir>/metrics.jsonl`, each written as it comes (the
   * app lives in the server: no invocation ends to publish at)
   */
  readonly metrics?: Metrics;
  /** How long an outcome notice waits on another attempt's claim (tests). @default the app's */
  readonly outcomeClaimWaitMs?: number;
}

export interface LocalTransfers {
  readonly app: TransferApp;
  readonly workflow: LocalWorkflow;
  readonly store: DynamoTransferStore;
  readonly http: (req: HttpRequest) => Promise<HttpResponse>;
  /** Resolves once the work started after responses (Slack decisions) has finished. */
  idle(): Promise<void>;
  /**
   * Carries on every transfer workflow a stopped process left unfinished (the store's journal of
   * running executions, and every pending transfer): see `transferEntry`. Call it once the links'
   * base URL answers (a resumed level may ask its approvers).
   */
  resume(): Promise<{ readonly transferId: string; readonly at: string; readonly why: string }[]>;
}

/** Transfers on the local machine: the same app and ASL as on AWS, on dynalite and aws-local-stepfunctions. */
export async function localTransfers(o: LocalTransfersOptions): Promise<LocalTransfers> {
  const audit = localAudit(o.dataDir);
  const auditOpts = { auditKey: audit.auditKey, auditAnchor: audit.anchor };
  const store = new DynamoTransferStore({ client: o.client, tableName: o.tableName, ...auditOpts });
  const keys = await localLinkKeys(o.dataDir);
  let engine: LocalWorkflow | undefined;
  // An answer to a wait whose step is still running (a recall a moment after the request) is held
  // until the step has returned: the local engine listens to the wait only from then on.
  const stepping = new Map<string, Promise<unknown>>();
  const inStep = new AsyncLocalStorage<string>();
  const settled = async (token: string) => {
    if (inStep.getStore() === token) return; // the step answering its own wait (a level already complete)
    await stepping.get(token)?.catch(() => undefined);
    await new Promise((ok) => setImmediate(ok));
  };
  const workflow: WorkflowPort = {
    start: (name, input) => (engine as LocalWorkflow).start(name, input),
    sendTaskSuccess: async (token, output) => {
      await settled(token);
      return (engine as LocalWorkflow).sendTaskSuccess(token, output);
    },
    sendTaskFailure: async (token, error, cause) => {
      await settled(token);
      return (engine as LocalWorkflow).sendTaskFailure(token, error, cause);
    },
  };
  // Named places a run may die (SENTINEL_CRASH_AT; free unless armed): infra/local/runtime/resume.ts.
  const crashable = transferCrashPoints(
    store,
    o.notifier ?? new OutboxApprovalNotifier(o.dataDir, o.clock, o.slackWebhookUrl),
    workflow,
  );
  const app = new TransferApp({
    store: crashable.store,
    workflow: crashable.workflow,
    credit: o.creditStore,
    creditPolicy: o.creditPolicy,
    approvalPolicy: o.approvalPolicy,
    notifier: crashable.notifier,
    keys: async () => keys,
    clock: o.clock,
    today: o.today,
    baseUrl: o.baseUrl,
    changes: o.changes,
    metrics: o.metrics ?? localMetrics(o.dataDir, 'transfers', { eager: true }),
    limits: new DynamoReviewStore({ client: o.client, tableName: o.tableName, ...auditOpts }),
    applications: applicationOutcomes({
      store: new DynamoApplicationStore(o.client, o.tableName),
      audit: store,
      clock: o.clock,
    }),
    // An order release excepts the held order until its end, or leaves it held.
    orderReleases: orderReleaseOutcomes({
      store: new DynamoCheckStore(o.client, o.tableName),
      log: new DynamoCheckLog(o.client, o.tableName),
      clock: o.clock,
    }),
    policies: o.policies,
    outcomeClaimWaitMs: o.outcomeClaimWaitMs,
    opsAlert: (t, f) =>
      writeOpsAlert(o.dataDir, o.clock, t, f).catch((e: unknown) =>
        console.error(`transfers: ops alert for ${t.transferId} not written: ${(e as Error).message}`),
      ),
  });
  const journal = new DynamoExecutionJournal(o.client, o.tableName, 'transfer-approval');
  const live = new LocalWorkflow(
    async (p) => {
      // A named place each step may die or throw (SENTINEL_CRASH_AT, armCrash): `transfers.step-<step>`.
      crashPoint(`transfers.step-${p.step}`);
      if (p.step !== 'await') return app.steps(p);
      const step = inStep.run(p.taskToken, () => app.steps(p));
      stepping.set(p.taskToken, step);
      const done = () => stepping.delete(p.taskToken);
      step.then(done, done);
      return step;
    },
    o.definition,
    journal,
  );
  engine = live;
  const resume = async () => {
    const journaled = (await journal.running()).map((e) => e.name);
    const ids = new Set(journaled.map(transferOfExecution));
    for (const t of await store.listTransfers()) if (t.status === 'pending') ids.add(t.transferId);
    const policy = await o.approvalPolicy();
    const out: { transferId: string; at: string; why: string }[] = [];
    for (const id of [...ids].sort()) {
      const t = await store.getTransfer(id);
      // Its executions' names: the first is the id, a retry's `<id>-r<n>` (executionName).
      const stale = journaled.filter((n) => transferOfExecution(n) === id);
      // A failed transfer is not carried on: it waits for a retry or a recall.
      if (!t || t.status === 'failed') {
        for (const n of stale) await journal.finished(n);
        continue;
      }
      const name = executionName(id, t.retries);
      if (live.isLive(name)) continue;
      for (const n of stale) if (n !== name) await journal.finished(n);
      // A notice claimed and never marked sent was claimed by the process that stopped (one
      // process sends for a data dir): given back, so the level asked again sends it now instead
      // of waiting for the claim to go stale (the email, if written, is not written twice).
      for (const level of [0, ...(t.levels ?? []).map((l) => l.level)])
        for (const n of await store.noticesOf(id, level))
          if (n.state === 'claimed') await store.releaseNotice(n);
      // A decision stopped between its level's claim and its approval's mark: marked first, so
      // where the transfer stood is read from the decisions as the level counted them.
      await app.finishDecisions(id);
      const entry = await transferEntry(t, { store, workflow: live, policy, now: o.clock.now() });
      // A step or decision stopped between its write and its record: the record now (the gate and
      // the level asked again write their own when they run).
      if (entry.at !== 'RiskGate') await app.completeTrail(id, { asking: entry.asking });
      const { executionId } = await live.resume(name, { transferId: id }, entry, entry.rewait);
      if (t.executionId !== executionId)
        await store.updateTransfer(id, { executionId }, { status: t.status });
      out.push({ transferId: id, at: entry.at, why: entry.why });
    }
    return out;
  };
  const running = new Set<Promise<void>>();
  const http = transferHttp(app, {
    faces: ['pages', 'api'],
    slackSigningSecret: async () => o.slackSigningSecret,
    clock: o.clock,
    deferSlack: async (action) => {
      const p: Promise<void> = decideSlack(app, action)
        .then(() => undefined)
        .catch((e: unknown) => console.error(`transfers: Slack decision failed: ${(e as Error).message}`))
        .finally(() => running.delete(p));
      running.add(p);
    },
  });
  return {
    app,
    workflow: engine,
    store,
    http,
    idle: async () => {
      while (running.size > 0) await Promise.all(running);
    },
    resume,
  };
}

/** What the console shows and accepts of the transfers: the same handler and app `start` runs. */
export function consoleTransfers(t: LocalTransfers, dataDir: string): ConsoleTransfers {
  return {
    http: t.http,
    page: (req, filter) => t.app.page(req, filter),
    list: (filter) => t.app.list(filter),
    mail: (page, size) => mailPage(dataDir, page, size),
    request: (input) => t.app.request(input),
    show: (transferId) => t.app.show(transferId),
    ofCustomer: (customerId) => t.store.transfersOf(customerId),
    markPaid: (transferId, by, on) => t.app.markPaid(transferId, by, on),
    recall: (transferId, by) => t.app.recall(transferId, by),
    retry: (transferId, by) => t.app.retry(transferId, by),
    pendingApprovals: () => t.app.pendingApprovals(),
    approvalUrl: (a) => t.app.approvalUrl(a),
    proposePolicy: (p) => t.app.requestPolicyChange(p),
  };
}
