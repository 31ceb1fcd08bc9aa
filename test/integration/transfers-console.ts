import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { type Policy, policyInForce } from '../../functions/credit/policy.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { type ApprovalPolicy, parseApprovalPolicy } from '../../functions/transfers/approval-policy.ts';
import { type ConsoleOptions, type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import type { LocalEnv } from '../../infra/local/runtime/index.ts';
import {
  consoleTransfers,
  type LocalTransfers,
  listMail,
  localTransfers,
} from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT, DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/** The browser tests' shared setup: transfers and the console on a local store, as `sentinel start` wires them. */

export const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Polls `probe` every 50 ms until it gives a value, failing with `what` after `ms`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** The shipped approval policy, changed by `edit` (a copy of the document) and validated. */
export function approvalPolicyWith(edit: (doc: Record<string, unknown>) => void): ApprovalPolicy {
  const doc = structuredClone(DEFAULT_APPROVAL_POLICY_DOCUMENT) as Record<string, unknown>;
  edit(doc);
  const r = parseApprovalPolicy(doc);
  if (!r.ok) throw new Error(`the approval policy: ${JSON.stringify(r.issues)}`);
  return r.policy;
}

/**
 * The transfer workflow (the shipped approval and credit policies, the real notifier: approval
 * emails as .eml files in `dir`'s outbox) and the console serving its pages, on a free port.
 */
export async function startTransfersConsole(
  env: LocalEnv,
  dir: string,
  opts: {
    /** @default the shipped credit policy */
    readonly creditPolicy?: Policy;
    /** @default the shipped approval policy */
    readonly approvalPolicy?: ApprovalPolicy;
    /**
     * Policy changes as `npm start` wires them: the credit policy in force read from the store at
     * every step, pending policies kept there, `POST /api/policy`. @default off
     */
    readonly policyChanges?: boolean;
    /** More of the console, built once the transfers exist (e.g. the reviews asking them). */
    readonly more?: (transfers: LocalTransfers) => Partial<ConsoleOptions>;
  } = {},
): Promise<{ transfers: LocalTransfers; web: RunningConsole }> {
  const approvalPolicy = opts.approvalPolicy ?? approvalPolicyWith(() => {});
  const policy = opts.creditPolicy ?? policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
  const creditPolicy = opts.policyChanges
    ? async () => policyInForce(await env.store.getPolicy(), DEFAULT_POLICY_DOCUMENT)
    : async () => policy;
  const today = () => new Date().toISOString().slice(0, 10);
  let consoleUrl: string | undefined;
  const transfers = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy,
    approvalPolicy: async () => approvalPolicy,
    dataDir: dir,
    clock: { now: () => new Date() },
    today,
    baseUrl: () => {
      if (!consoleUrl) throw new Error('the console is not listening yet');
      return consoleUrl;
    },
    policies: opts.policyChanges ? env.store : undefined,
  });
  const web = await startConsole({
    queries: new ReceivablesQueries(env.store),
    today,
    port: 0,
    credit: { store: env.store, policy: creditPolicy },
    transfers: consoleTransfers(transfers, dir),
    ...opts.more?.(transfers),
  });
  consoleUrl = web.url;
  return { transfers, web };
}

const CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's Chromium, headless, driven by playwright-core (Playwright's own browser download cannot
 * be fetched here; `.ci/run` installs the package).
 */
/**
 * Ends what a test left running on the approval chain: each pending transfer recalled by its
 * requester, each execution waited for, then the engine idle.
 */
export async function endTransfers(transfers: LocalTransfers | undefined): Promise<void> {
  if (!transfers) return;
  for (const t of await transfers.app.list()) {
    if (t.status === 'pending') await transfers.app.recall(t.transferId, t.request.requester);
    if (t.executionId) await transfers.workflow.execution(t.executionId)?.done.catch(() => undefined);
  }
  await transfers.idle();
}

/** A transfer's level-`level` approval emails, once they are in `dir`'s outbox. */
export function levelMailOf(dir: string, transferId: string, level: number) {
  return until(`the level-${level} emails of ${transferId}`, async () => {
    const mail = (await listMail(dir)).filter(
      (m) => m.file.includes(`-approve-${transferId}-`) && m.subject.includes(`level ${level} of`),
    );
    return mail.length > 0 ? mail : undefined;
  });
}

/** Posts an approval email's link as the approver's browser does. */
export function decideByMail(
  transfers: Pick<LocalTransfers, 'http'>,
  mail: { text: string; to: string },
  decision: 'approve' | 'reject',
  comment = '',
) {
  const link = /https?:\/\/\S+\/approvals\/[\w.-]+/.exec(mail.text)?.[0] as string;
  return transfers.http({
    method: 'POST',
    path: new URL(link).pathname,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      decision,
      email: /<([^>]+)>/.exec(mail.to)?.[1] ?? mail.to,
      comment,
    }).toString(),
  });
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: this test drives Debian's Chromium. Install it with 'apt-get install -y chromium' (.ci/run does).`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
