import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { IngestRun } from '../../functions/ingest/ports.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { parseApprovalPolicy } from '../../functions/transfers/approval-policy.ts';
import type { Transfer } from '../../functions/transfers/ports.ts';
import { type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import { LocalEvaluator } from '../../infra/local/runtime/evaluator.ts';
import { InboxObjectStore, OutboxNotifier } from '../../infra/local/runtime/files.ts';
import { InboxWatcher, localIngestHandler } from '../../infra/local/runtime/inbox.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type OpsSummary, opsSummary } from '../../infra/local/runtime/ops.ts';
import {
  consoleTransfers,
  type LocalTransfers,
  listMail,
  localTransfers,
} from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT, DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { launchChromium, until } from './transfers-console.ts';

/**
 * The ops page as `sentinel start` wires it: a real export dropped into the inbox is ingested by
 * the Lambda handler (its metrics written to the data dir as EMF), the customers it changed are
 * evaluated, a transfer is requested and rejected from its emailed link; then /ops, in headless
 * Chromium, shows what the ingest reported, with charts that are images with a name.
 */

const IBM = resolve(
  import.meta.dirname,
  '../fixtures/datasets/ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv',
);
const WAIT_MS = 20_000;

let dir: string;
let env: LocalEnv;
let watcher: InboxWatcher;
let evaluator: LocalEvaluator;
let transfers: LocalTransfers;
let web: RunningConsole;
let browser: Browser | undefined;
let ibmRun: IngestRun;
/** Refused rows of both uploads: the PDF counts as one (its whole file, line 0). */
let rejected: number;
let transferId: string | undefined;

const api = async (): Promise<OpsSummary> => (await (await fetch(`${web.url}/api/ops`)).json()) as OpsSummary;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-ops-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  const today = () => new Date().toISOString().slice(0, 10);
  const creditPolicy = async () => policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
  // The IBM book is long settled: a team whose today is mid-2013 has alerts on it.
  evaluator = new LocalEvaluator({
    store: env.store,
    dataDir: dir,
    timeZone: 'UTC',
    now: () => new Date('2013-06-30T06:00:00Z'),
    log: () => {},
  });
  const changes = new OutboxNotifier(dir, [evaluator.listener]);

  // The inbox, as `start` has it: an ERP export through its profile, and a PDF someone dropped.
  const inboxRoot = join(dir, 'inbox');
  await InboxWatcher.prepare(inboxRoot);
  await copyFile(IBM, join(inboxRoot, 'profile', 'ibm-accounts-receivable', 'ar.csv'));
  await writeFile(join(inboxRoot, 'invoices', 'scan.pdf'), '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n');
  const inbox = new InboxObjectStore(inboxRoot);
  const failures: string[] = [];
  watcher = new InboxWatcher(inbox, localIngestHandler(env, inbox, changes, 'UTC'), (f, e) =>
    failures.push(`${f}: ${(e as Error).message}`),
  );
  await evaluator.start();
  await watcher.scan(false);
  expect(failures).toEqual([]);
  // The customers the upload changed are evaluated as of that today, and raise alerts.
  await evaluator.idle();
  expect((await env.store.listAlerts('active')).length).toBeGreaterThan(0);
  const queries = new ReceivablesQueries(env.store);
  const runs = await queries.runs(10);
  ibmRun = runs.find((r) => r.file.endsWith('ar.csv')) as IngestRun;
  expect(ibmRun).toMatchObject({ status: 'processed' });
  const pdf = runs.find((r) => r.file.endsWith('scan.pdf'));
  expect(pdf).toMatchObject({ status: 'unreadable', acceptedTotal: 0 });
  rejected = ibmRun.rejected + (pdf?.rejected ?? 0);

  // The transfer below is for an IBM customer: the export carries no customer master data, and a
  // transfer is only for a customer on file, so its master data is put on file here.
  await env.store.write([
    {
      kind: 'customers',
      row: { customerId: '0379-NEVHP', name: 'NEVHP', currency: 'USD' },
      from: { runId: 'seed', line: 2 },
    },
  ]);
  const approval = parseApprovalPolicy(DEFAULT_APPROVAL_POLICY_DOCUMENT);
  if (!approval.ok) throw new Error('the default approval policy is invalid');
  let consoleUrl: string | undefined;
  transfers = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy,
    approvalPolicy: async () => approval.policy,
    dataDir: dir,
    clock: { now: () => new Date() },
    today,
    baseUrl: () => consoleUrl ?? 'http://127.0.0.1',
  });
  web = await startConsole({
    queries,
    today,
    port: 0,
    credit: { store: env.store, policy: creditPolicy },
    transfers: consoleTransfers(transfers, dir),
    ops: () =>
      opsSummary({
        dataDir: dir,
        timeZone: 'UTC',
        alerts: env.store,
        approvals: transfers.store,
        runs: queries,
        inboxFailing: () => watcher.failing(),
      }),
  });
  consoleUrl = web.url;
});

afterAll(async () => {
  await browser?.close();
  if (transfers && transferId) {
    await transfers.app.recall(transferId, 'rita').catch(() => undefined);
    const t = (await transfers.app.show(transferId).catch(() => undefined))?.transfer;
    if (t?.executionId) await transfers.workflow.execution(t.executionId)?.done;
  }
  await transfers?.idle();
  await evaluator?.stop();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the ops page', () => {
  it('counts a transfer asked for, an approver waiting, then the rejection and how long it took', async () => {
    const res = await fetch(`${web.url}/api/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        customerId: '0379-NEVHP',
        type: 'refund',
        amount: '2500.00',
        currency: 'USD',
        beneficiaryName: 'Unknown Ltd',
        beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
        reason: 'credit note refund',
        requester: 'rita',
      }),
    });
    const body = await res.text();
    expect(res.status, body).toBe(201);
    const id = (JSON.parse(body) as { transfer: Transfer }).transfer.transferId;
    transferId = id;
    const mail = await until('the level-1 approval email', async () =>
      (await listMail(dir)).find((m) => m.file.includes(`-approve-${id}-`)),
    );
    const waiting = await api();
    expect(waiting.transfers.requested).toBe(1);
    expect(waiting.transfers.approvalsPending).toBe((await transfers.store.listPendingApprovals()).length);
    expect(waiting.transfers.approvalsPending).toBeGreaterThan(0);
    expect(waiting.transfers.oldestPendingSeconds).toBeGreaterThanOrEqual(0);

    const link = mail.text.match(/https?:\/\/\S+\/approvals\/\S+/)?.[0] as string;
    const email = /<([^>]+)>/.exec(mail.to)?.[1] ?? mail.to;
    const decided = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ decision: 'reject', email, comment: 'not this one' }).toString(),
    });
    expect(decided.status, await decided.text()).toBe(200);
    const t = await until('the rejected transfer closed', async () => {
      const s = await transfers.app.show(id);
      return s?.transfer.status === 'rejected' ? s.transfer : undefined;
    });
    await transfers.workflow.execution(t.executionId as string)?.done;

    const after = await api();
    expect(after.transfers.decidedByOutcome).toEqual({ approved: 0, rejected: 1, recalled: 0, expired: 0 });
    expect(after.transfers.decisionLatencySeconds.count).toBe(1);
    expect(after.transfers.decisionLatencySeconds.p50).toBeGreaterThanOrEqual(0);
    expect(after.transfers.approvalsPending).toBe(0);
    expect(after.transfers.oldestPendingSeconds).toBeNull();
  });

  it('shows the rows the ingest reported, the charts as named images, and the same numbers in tables', async () => {
    const summary = await api();
    expect(summary.ingest).toMatchObject({
      rowsIngested: ibmRun.acceptedTotal,
      rowsRejected: rejected,
      filesProcessed: 1,
      filesUnreadable: 1,
    });
    expect(summary.ingest.latencyMs.count).toBe(2);
    expect(summary.deadLetter).toMatchObject({ inboxFailing: [], unreadableRuns: 1 });
    expect(summary.alerts.evaluations).toBeGreaterThanOrEqual(1);
    expect(summary.alerts.open).toBe((await env.store.listAlerts('active')).length);

    browser = await launchChromium();
    const page: Page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const errors: string[] = [];
    page.on('console', (m) => {
      // (The browser's own /favicon.ico request is a 404: not the page's doing.)
      if (m.type() === 'error' && !m.text().includes('404')) errors.push(m.text());
    });
    const res = await page.goto(`${web.url}/customers`);
    expect(res?.status()).toBe(200);
    await page.getByRole('link', { name: 'Ops' }).click();
    await page.waitForURL(`${web.url}/ops`);
    expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe('Ops');

    const shown = ibmRun.acceptedTotal.toLocaleString('en-US');
    expect(ibmRun.acceptedTotal).toBeGreaterThan(1000);
    expect((await page.locator('#rows-ingested').textContent())?.trim()).toBe(shown);
    expect((await page.locator('#unreadable-runs').textContent())?.trim()).toMatch(/^1 /);
    expect(await page.locator('#unreadable a').textContent()).toBe('invoices/scan.pdf');

    // The rows chart: an SVG image named by its title, with today's bar in the table under it.
    const today = new Date().toISOString().slice(0, 10);
    const rowsChart = page.getByRole('img', { name: /^Rows ingested and rejected per day/ });
    expect(await rowsChart.count()).toBe(1);
    expect(await rowsChart.evaluate((e) => e.tagName.toLowerCase())).toBe('svg');
    expect(await page.locator('#rows-chart title').first().textContent()).toContain(today);
    expect(await page.locator('#rows-chart desc').textContent()).toContain(`${shown} rows ingested`);
    const todayRow = page.locator('#rows-per-day tbody tr').filter({ hasText: today });
    expect(await todayRow.locator('td').allTextContents()).toEqual([
      today,
      shown,
      rejected.toLocaleString('en-US'),
      `${((rejected / (ibmRun.acceptedTotal + rejected)) * 100).toFixed(1)}%`,
      String(summary.days.at(-1)?.alertsRaised.toLocaleString('en-US')),
    ]);
    expect(
      await page
        .locator('#rows-chart rect title')
        .filter({ hasText: `${today}: ${shown} rows ingested` })
        .count(),
    ).toBe(1);

    // The severity chart and its table say the same.
    expect(await page.getByRole('img', { name: 'Alerts raised by severity' }).count()).toBe(1);
    const severityRows = page.locator('#alerts-by-severity tbody tr');
    const severities: string[][] = [];
    for (let i = 0; i < (await severityRows.count()); i++)
      severities.push(await severityRows.nth(i).locator('td').allTextContents());
    expect(severities).toEqual(
      Object.entries(summary.alerts.raisedBySeverity).map(([k, v]) => [k, v.toLocaleString('en-US')]),
    );
    expect(summary.alerts.raised).toBeGreaterThan(0);
    expect(await page.locator('#severity-chart desc').textContent()).toContain(
      `${summary.alerts.raised.toLocaleString('en-US')} alerts raised`,
    );
    expect(await page.locator('#reviews-none').textContent()).toContain('No periodic review has run yet');
    expect(errors).toEqual([]); // nothing the CSP refused (an inline style would be)
  });

  it('/ops is read only, and says so when the console has no ops figures', async () => {
    expect((await fetch(`${web.url}/ops`, { method: 'POST' })).status).toBe(405);
    const bare = await startConsole({
      queries: new ReceivablesQueries(env.store),
      today: () => '2025-01-01',
      port: 0,
    });
    try {
      expect((await fetch(`${bare.url}/ops`)).status).toBe(404);
      expect(await (await fetch(`${bare.url}/api/ops`)).json()).toEqual({
        error: 'The ops figures are not available in this console.',
      });
    } finally {
      await bare.close();
    }
  });
});
