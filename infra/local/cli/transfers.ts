import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoTransferStore } from '../../../functions/adapters/dynamodb-transfers.ts';
import { verifyAudit } from '../../../functions/core/audit.ts';
import { formatDecimalMoney, formatMinor, formatMoney } from '../../../functions/core/money.ts';
import { grouped } from '../../../functions/core/paging.ts';
import { asOfFile, creditFileOf } from '../../../functions/credit/evaluate.ts';
import { type ApprovalPolicy, parseApprovalPolicy } from '../../../functions/transfers/approval-policy.ts';
import { type ExposureStanding, exposureStanding } from '../../../functions/transfers/exposure.ts';
import type { Approval, Transfer } from '../../../functions/transfers/ports.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT } from '../../../policies/index.ts';
import { localAudit } from '../runtime/audit-key.ts';
import { listMail } from '../runtime/transfers.ts';
import { CliFailure, jsonText, splitSub, table, today, UsageError, withStore } from './common.ts';
import { loadPolicy } from './credit.ts';

/** Where a transfer stands in the exposure, its figures (minor units) as decimal strings. */
function exposureJson(s: ExposureStanding) {
  const f = s.figure;
  return f
    ? {
        ...s,
        figure: {
          currency: f.currency,
          exposure: formatMinor(f.exposure, f.currency),
          without: formatMinor(f.without, f.currency),
        },
      }
    : s;
}

/**
 * `transfer request|show|recall|retry|paid`, `approvals` and `audit verify`. A request, a recall, a
 * retry and a payment go to the running product (`npm start`): its workflow engine runs the approvals. Reading (show, approvals,
 * audit) goes straight to the store.
 */

const consoleFile = (dataDir: string) => join(dataDir, 'console.json');

/** Written by `start` so the CLI in another terminal finds the console (and its transfers API). */
export async function publishConsole(dataDir: string, url: string): Promise<() => Promise<void>> {
  await writeFile(consoleFile(dataDir), JSON.stringify({ pid: process.pid, url }));
  return () => rm(consoleFile(dataDir), { force: true });
}

export async function consoleUrl(dataDir: string): Promise<string> {
  try {
    const { pid, url } = JSON.parse(await readFile(consoleFile(dataDir), 'utf8')) as {
      pid: number;
      url: string;
    };
    process.kill(pid, 0);
    return url;
  } catch {
    throw new CliFailure(
      'credit-sentinel is not running on this data dir: start it with `npm start` (transfers and reviews run in its workflow engine)',
    );
  }
}

export { CliFailure };

/** The approval policy: SENTINEL_APPROVAL_POLICY (a JSON file) or the shipped example; an invalid file is refused. */
export async function loadApprovalPolicy(): Promise<ApprovalPolicy> {
  const file = process.env.SENTINEL_APPROVAL_POLICY?.trim();
  let doc: unknown = DEFAULT_APPROVAL_POLICY_DOCUMENT;
  if (file) {
    try {
      doc = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new CliFailure(`SENTINEL_APPROVAL_POLICY=${file}: ${(e as Error).message}`);
    }
  }
  const r = parseApprovalPolicy(doc);
  if (!r.ok)
    throw new CliFailure(
      `the approval policy${file ? ` ${file}` : ''} is invalid:\n${r.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    );
  return r.policy;
}

const amount = (t: Transfer) => formatMoney(t.request.amount, t.request.currency);
/** A transfer as the transfers API answers it: its amount a plain decimal string (README "Money in the API"). */
type ApiTransfer = Omit<Transfer, 'request'> & {
  readonly request: Omit<Transfer['request'], 'amount'> & { readonly amount: string };
};
const apiAmount = (t: ApiTransfer) => formatDecimalMoney(t.request.amount, t.request.currency);

function describeTransfer(t: Transfer, approvals: readonly Approval[], standing: ExposureStanding): string {
  const lines = [
    `${t.transferId}  ${t.status}${t.status === 'pending' && t.level ? ` (level ${t.level} of ${t.levels?.length ?? '?'})` : ''}`,
    `  ${t.request.type.replace(/_/g, ' ')} ${amount(t)} for ${t.request.customerId} to ${t.request.beneficiaryName} (${t.request.beneficiaryAccount})`,
    `  requested by ${t.request.requester} at ${t.requestedAt}: ${t.request.reason}`,
  ];
  if (t.gate) {
    lines.push(`  gate flags: ${t.gate.flags.join(', ') || 'none'}`);
    for (const c of t.gate.checks) lines.push(`    ${c.flag ? '!' : ' '} ${c.check}: ${c.summary}`);
  }
  if (t.chainWhy) lines.push(`  levels: ${t.chainWhy.join('; ')}`);
  for (const a of [...approvals].sort((x, y) => x.level - y.level || x.approver.localeCompare(y.approver)))
    lines.push(
      `  level ${a.level} ${a.approver}${a.onBehalfOf ? ` (for ${a.onBehalfOf})` : ''}: ${a.status}${a.decidedAt ? ` at ${a.decidedAt}` : ''}${a.comment ? ` "${a.comment}"` : ''}${a.voidReason ? ` (${a.voidReason})` : ''}`,
    );
  if (t.outcome) lines.push(`  outcome: ${t.outcome}${t.closedAt ? ` at ${t.closedAt}` : ''}`);
  if (t.status === 'failed' && t.failure)
    lines.push(
      `  failed: ${t.failure.error} in ${t.failure.state} at ${t.failure.at}: ${t.failure.cause || '(no cause given)'}`,
      `  retry it with \`sentinel transfer retry ${t.transferId} --by WHO\`, or its requester recalls it`,
    );
  if (t.status === 'approved' && t.request.amount > 0 && !t.limitChange)
    lines.push(
      t.paidOn
        ? `  paid on ${t.paidOn} (marked by ${t.paidBy ?? '?'})`
        : `  not yet paid (\`transfer paid ${t.transferId} --by WHO\` once the money left)`,
    );
  const f = standing.figure;
  lines.push(`  exposure: ${standing.words}`);
  if (f)
    lines.push(
      `    ${t.request.customerId}'s exposure today: ${formatMoney(f.exposure, f.currency)}${standing.counts ? `; without this transfer: ${formatMoney(f.without, f.currency)}` : ', without this transfer'}`,
    );
  return lines.join('\n');
}

/** Calls the running product's console API (JSON in and out). */
export async function consoleApi(dataDir: string, method: string, path: string, body?: unknown) {
  const base = await consoleUrl(dataDir);
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The approval links of a transfer's first level, read from the outbox as the emails carry them. */
async function firstLinks(
  dataDir: string,
  transferId: string,
  waitMs = 10_000,
): Promise<{ to: string; url: string }[]> {
  const until = Date.now() + waitMs;
  for (;;) {
    const mail = await listMail(dataDir, undefined, (file) => file.includes(`-approve-${transferId}-`));
    if (mail.length > 0 || Date.now() > until)
      return mail
        .map((m) => ({ to: m.to, url: /https?:\/\/\S+\/approvals\/[\w.-]+/.exec(m.text)?.[0] ?? '' }))
        .filter((l) => l.url !== '');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A transfer id as `transfer request` prints it: TR- and 26 Crockford base-32 characters. */
const TRANSFER_ID = /^TR-[0-9A-HJKMNP-TV-Z]{26}$/;

function transferIdArg(sub: string, id: string | undefined): string {
  if (!id) throw new UsageError(`transfer ${sub} needs a transfer ID`);
  if (!TRANSFER_ID.test(id))
    throw new UsageError(
      `"${id}" is not a transfer id: it is TR- and 26 letters and digits, as \`transfer request\` prints it`,
    );
  return id;
}

export async function cmdTransfer(args: string[]): Promise<number> {
  const [sub, rest] = splitSub(args);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      customer: { type: 'string' },
      type: { type: 'string' },
      amount: { type: 'string' },
      currency: { type: 'string' },
      'beneficiary-name': { type: 'string' },
      'beneficiary-account': { type: 'string' },
      reason: { type: 'string' },
      requester: { type: 'string' },
      by: { type: 'string' },
      on: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  const dataDir = resolve(values['data-dir'] ?? '.sentinel');
  if (sub === 'request') {
    const body = {
      customerId: values.customer,
      type: values.type,
      amount: values.amount,
      currency: values.currency,
      beneficiaryName: values['beneficiary-name'],
      beneficiaryAccount: values['beneficiary-account'],
      reason: values.reason,
      requester: values.requester,
    };
    const r = await consoleApi(dataDir, 'POST', '/transfers', body);
    if (r.status === 400) {
      const issues = (r.json.issues ?? []) as { field: string; message: string }[];
      console.error(`the request is invalid:\n${issues.map((i) => `  ${i.field}: ${i.message}`).join('\n')}`);
      return 1;
    }
    if (r.status !== 201)
      throw new CliFailure(`the transfers API answered ${r.status}: ${JSON.stringify(r.json)}`);
    const t = r.json.transfer as ApiTransfer;
    const links = await firstLinks(dataDir, t.transferId);
    if (values.json)
      console.log(JSON.stringify({ transferId: t.transferId, status: t.status, links }, null, 2));
    else {
      console.log(
        `${t.transferId} requested: ${apiAmount(t)} ${t.request.type.replace(/_/g, ' ')} for ${t.request.customerId}`,
      );
      if (links.length === 0) console.log('no approval link yet (see `sentinel transfer show`)');
      else {
        console.log('approval links (level 1):');
        for (const l of links) console.log(`  ${l.to}\n    ${l.url}`);
      }
    }
    return 0;
  }
  if (sub === 'recall') {
    const id = transferIdArg('recall', positionals[0]);
    if (!values.by) throw new UsageError('transfer recall needs --by REQUESTER');
    const r = await consoleApi(dataDir, 'POST', `/transfers/${encodeURIComponent(id)}/recall`, {
      by: values.by,
    });
    if (r.status !== 200) throw new CliFailure(String(r.json.error ?? JSON.stringify(r.json)));
    console.log(`${id} recalled: every outstanding approval link is void`);
    return 0;
  }
  if (sub === 'retry') {
    const id = transferIdArg('retry', positionals[0]);
    if (!values.by) throw new UsageError('transfer retry needs --by WHO');
    const r = await consoleApi(dataDir, 'POST', `/transfers/${encodeURIComponent(id)}/retry`, {
      by: values.by,
    });
    if (r.status !== 200) throw new CliFailure(String(r.json.error ?? JSON.stringify(r.json)));
    const t = (r.json as { transfer: ApiTransfer }).transfer;
    console.log(`${id} retried: ${t.status} again, a new execution carries it on from where it failed`);
    return 0;
  }
  if (sub === 'paid') {
    const id = transferIdArg('paid', positionals[0]);
    if (!values.by) throw new UsageError('transfer paid needs --by WHO');
    const r = await consoleApi(dataDir, 'POST', `/transfers/${encodeURIComponent(id)}/paid`, {
      by: values.by,
      on: values.on,
    });
    if (r.status !== 200) throw new CliFailure(String(r.json.error ?? JSON.stringify(r.json)));
    const t = (r.json as { transfer: ApiTransfer }).transfer;
    console.log(`${id} marked paid on ${t.paidOn}: ${apiAmount(t)} for ${t.request.customerId}`);
    return 0;
  }
  if (sub === 'show') {
    const id = transferIdArg('show', positionals[0]);
    return withStore(values['data-dir'], async (env) => {
      const store = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
      const t = await store.getTransfer(id);
      if (!t) throw new CliFailure(`there is no transfer ${id} (the console's Transfers page lists them)`);
      const [approvals, part, policy] = await Promise.all([
        store.approvalsOf(id),
        env.store.loadCustomerPartition(t.request.customerId),
        loadPolicy(env.store),
      ]);
      const asOf = today();
      const file = asOfFile(creditFileOf(t.request.customerId, part), asOf);
      const standing = exposureStanding(t, asOf, { file, policy });
      console.log(
        values.json
          ? jsonText({ transfer: t, approvals, exposure: exposureJson(standing) }, t.request.currency)
          : describeTransfer(t, approvals, standing),
      );
      return 0;
    });
  }
  throw new UsageError(
    sub === undefined
      ? 'transfer needs one of: request, show, recall, retry, paid'
      : `unknown transfer command "${sub}": use request, show, recall, retry or paid`,
  );
}

export async function cmdApprovals(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } },
  });
  return withStore(values['data-dir'], async (env) => {
    const store = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
    const pending = await store.listPendingApprovals();
    if (values.json) console.log(jsonText({ approvals: pending }));
    else if (pending.length === 0) console.log('no approval is waiting');
    else
      console.log(
        table(
          ['transfer', 'level', 'approver', 'asked at', 'reminders', 'link expires'],
          pending.map((a) => [
            a.transferId,
            String(a.level),
            a.approver,
            a.notifiedAt,
            String(a.reminders),
            a.expiresAt,
          ]),
          new Set([1, 4]),
        ),
      );
    return 0;
  });
}

export async function cmdAudit(args: string[]): Promise<number> {
  const [sub, rest] = splitSub(args);
  if (sub !== 'verify' && sub !== 'head')
    throw new UsageError(
      sub === undefined
        ? 'audit needs one of: verify, head'
        : `unknown audit command "${sub}": use verify or head`,
    );
  const { values } = parseArgs({
    args: rest,
    options: { json: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } },
  });
  return withStore(values['data-dir'], async (env) => {
    const audit = localAudit(env.dataDir);
    const store = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
    if (sub === 'head') {
      const head = await store.auditHead();
      if (values.json) console.log(JSON.stringify({ head: head ?? null }, null, 2));
      else if (!head) console.log('the audit trail has no head (no record yet, or the head was deleted)');
      else console.log(`audit head: record ${head.seq}, hash ${head.hash}`);
      return head ? 0 : 1;
    }
    const [trail, head, key, read] = await Promise.all([
      store.auditTrail(),
      store.auditHead(),
      audit.auditKey(),
      audit.anchors(),
    ]);
    const v = verifyAudit({ records: trail, head, keys: [key], anchors: read.anchors });
    const findings = [
      ...v.findings,
      ...read.bad.map(
        (n) => `Line ${n} of ${audit.anchorFile} is not an anchor: the anchor file was edited.`,
      ),
    ];
    if (values.json)
      console.log(
        JSON.stringify({ ...v, findings, keyFile: audit.keyFile, anchorFile: audit.anchorFile }, null, 2),
      );
    else {
      const against = [
        `key ${key.id} (${audit.keyFile})`,
        v.head ? `head seq ${grouped(v.head.seq)}` : 'no head',
        v.anchor
          ? `anchor of ${v.anchor.at} (seq ${grouped(v.anchor.seq)}, ${v.anchors} anchors) in ${audit.anchorFile}`
          : `no anchor in ${audit.anchorFile}`,
      ];
      console.log(`checked ${grouped(v.records)} records with ${against.join(', ')}`);
      if (v.unkeyed > 0)
        console.log(`${grouped(v.unkeyed)} records before keyed hashing, chained but not keyed`);
      if (findings.length === 0) console.log('audit trail intact');
      else for (const f of findings) console.log(`BROKEN: ${f}`);
    }
    return findings.length === 0 ? 0 : 1;
  });
}
