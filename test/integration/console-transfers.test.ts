import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupDigits } from '../../functions/core/money.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import type { Approval, Transfer } from '../../functions/transfers/ports.ts';
import type { RunningConsole } from '../../infra/local/console/index.ts';
import { demoFiles } from '../../infra/local/runtime/demo.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, listMail } from '../../infra/local/runtime/transfers.ts';
import { text } from './pages.ts';
import {
  approvalPolicyWith,
  launchChromium,
  sleep,
  startTransfersConsole,
  until,
} from './transfers-console.ts';

/**
 * The console's transfer request form and a transfer's page: filled in and sent from a real
 * headless Chromium (Debian's, driven by playwright-core, as in approval-browser.test.ts), the
 * form's problems shown next to their fields with nothing stored, cross-site posts refused, and the
 * JSON API and the approval handler's routes unchanged next to the console's own.
 */

const REQUESTER = 'rita';
const WAIT_MS = 20_000;
const GOOD_IBAN = 'DE89 3704 0044 0532 0130 00';
const BAD_IBAN = 'DE00 3704 0044 0532 0130 00';

/** The page's `getComputedStyle`, typed here without the DOM library. */
interface BrowserGlobals {
  getComputedStyle(e: unknown): { backgroundColor: string; marginTop: string };
}

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let web: RunningConsole;
let browser: Browser | undefined;
/** Every transfer a test created: recalled and its execution finished in afterAll. */
const created = new Set<string>();

/** A valid request as the form sends it. */
const formBody = (over: Record<string, string> = {}) =>
  new URLSearchParams({
    customerId: 'C1001',
    type: 'refund',
    amount: '120.00',
    currency: 'EUR',
    beneficiaryName: 'Nordlicht Logistik GmbH',
    beneficiaryAccount: GOOD_IBAN,
    reason: 'credit note CN-7 refunded',
    requester: REQUESTER,
    ...over,
  }).toString();

const postForm = (headers: Record<string, string>, body = formBody(), to = web) =>
  fetch(`${to.url}/transfers/new`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });

/** The text of the form's problem summary on a page ('' when there is none). */
const problems = (page: string) =>
  text(/<div class="problem" id="request-problems"[\s\S]*?<\/div>/.exec(page)?.[0] ?? '');

const stored = async () => (await transfers.app.list()).length;

/** The text shown next to a field of the form ('' when none). */
const fieldError = (page: string, field: string) =>
  text(new RegExp(`<span class="err" id="${field}-error">[\\s\\S]*?</span>`).exec(page)?.[0] ?? '');

/** A customer's unapplied cash as of today, as the receivables API gives it. */
async function unappliedCash(customerId: string): Promise<string> {
  const res = await fetch(`${web.url}/api/customers/${customerId}`);
  return ((await res.json()) as { line: { unappliedCash: string } }).line.unappliedCash;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-transfers-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  // The demo book `sentinel start` loads into an empty store: its customers, invoices and payments.
  const today = () => new Date().toISOString().slice(0, 10);
  for (const [key, csv] of Object.entries(demoFiles(today()))) {
    const kind = key.split('/')[0] as Kind;
    if (kind !== 'customers' && kind !== 'invoices' && kind !== 'payments') continue;
    await ingest(
      {
        store: env.store,
        notifier: { customersChanged: async () => {} },
        clock: { now: () => new Date() },
        timeZone: 'UTC',
      },
      {
        source: (async function* () {
          yield new TextEncoder().encode(csv);
        })(),
        fileName: key,
        objectRef: `test://${key}`,
        profile: canonicalProfile(kind),
        rejects: { write: () => undefined, close: async () => `${key}.rejects.csv` },
      },
    );
  }
  ({ transfers, web } = await startTransfersConsole(env, dir));
});

afterAll(async () => {
  await browser?.close();
  // End every workflow a test started: wait for its gate, recall it if still pending, let it finish.
  for (const id of created) {
    const shown = await until(`transfer ${id} at a level or closed`, async () => {
      const s = await transfers.app.show(id);
      return s && (s.transfer.status !== 'pending' || s.approvals.length > 0) ? s : undefined;
    }).catch(() => undefined);
    if (shown?.transfer.status === 'pending')
      await transfers.app.recall(id, shown.transfer.request.requester).catch(() => undefined);
    const executionId = (await transfers.app.show(id).catch(() => undefined))?.transfer.executionId;
    if (executionId) await transfers.workflow.execution(executionId)?.done;
  }
  await transfers?.idle();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('requesting a transfer in a real browser', () => {
  it('fills the form, lands on the transfer page with the evidence, and a bad form keeps its values', async () => {
    browser = await launchChromium();
    const page: Page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const blocked: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) blocked.push(m.text());
    });
    const bodyText = async () => ((await page.locator('body').textContent()) ?? '').replace(/\s+/g, ' ');

    // 1. The Transfers page: the form above the (empty) list, the customers on file suggested.
    const first = await page.goto(`${web.url}/transfers`);
    expect(first?.status()).toBe(200);
    expect(await page.locator('form.request').getAttribute('action')).toBe('/transfers/new');
    expect(await page.locator('form.request').getAttribute('method')).toBe('post');
    const known = await page
      .locator('#known-customers option')
      .evaluateAll((os) => os.map((o) => [o.getAttribute('value'), o.textContent]));
    expect(known).toHaveLength(16);
    expect(known).toContainEqual(['C1001', 'Nordlicht Logistik GmbH']);
    expect(await page.locator('#type option').allTextContents()).toEqual([
      'Refund',
      'Overpayment return',
      'Rebate',
      'Credit release',
      'Bank account change',
    ]);
    expect(await page.locator('#currency').inputValue()).toBe('EUR');
    expect(await bodyText()).toContain('No transfer has been requested yet.');

    // 2. Filled in and sent: 303 to the new transfer's page.
    await page.locator('#customerId').fill('C1001');
    await page.locator('#type').selectOption('refund');
    await page.locator('#amount').fill('2500.00');
    await page.locator('#beneficiaryName').fill('Nordlicht Logistik GmbH');
    await page.locator('#beneficiaryAccount').fill(GOOD_IBAN);
    await page.locator('#reason').fill('overpayment of invoice INV-50000 returned');
    await page.locator('#requester').fill(REQUESTER);
    const [sent] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${web.url}/transfers/new` && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Request the transfer' }).click(),
    ]);
    expect(sent.status()).toBe(303);
    // What makes it same-origin: the browser's Sec-Fetch-Site (its Origin is "null" under the
    // console's no-referrer policy).
    expect((await sent.request().allHeaders())['sec-fetch-site']).toBe('same-origin');
    await page.waitForURL(/\/transfers\/TR-[0-9A-Z]{26}$/);
    const id = page.url().slice(`${web.url}/transfers/`.length);
    created.add(id);
    const stored1 = await transfers.app.show(id);
    expect(stored1?.transfer.request).toMatchObject({
      customerId: 'C1001',
      type: 'refund',
      amount: 2500_00,
      currency: 'EUR',
      beneficiaryAccount: 'DE89370400440532013000',
      requester: REQUESTER,
    });

    // 3. The transfer page, once the gate has run: the request, the gate's evidence, level 1's approvals.
    const level1 = page.locator('#level-1 tr.approval');
    await until('the gate and level 1 on the transfer page', async () => {
      if ((await level1.count()) > 0) return true;
      await sleep(100);
      await page.reload();
      return undefined;
    });
    const shown = await bodyText();
    expect(await page.locator('h1').textContent()).toBe(`Transfer ${id}`);
    expect(shown).toContain('2,500.00 EUR');
    expect(shown).toContain('overpayment of invoice INV-50000 returned');
    expect(shown).toContain('DE89370400440532013000');
    expect(shown).not.toContain('has not run yet');
    // The customer, linked from the details and from the exposure it stands in.
    expect(await page.locator('a[href^="/customers/C1001?asOf="]').count()).toBe(2);
    expect(await page.locator('#exposure').textContent()).toContain(
      'Pending: it does not count in the exposure until the last level approves it.',
    );
    const evidence = page.locator('section.evidence');
    expect(await evidence.count()).toBe(1);
    const ev = ((await evidence.textContent()) ?? '').replace(/\s+/g, ' ');
    expect(ev).toContain('Risk gate as of');
    expect(ev).toContain('never approved for this customer');
    expect(ev).not.toContain('Not run yet');
    // Level 1: Carla and Chen, one of them needed, both still to decide.
    expect(await page.locator('#level-1 th').first().textContent()).toContain('Credit controller');
    const rows = await level1.evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())),
    );
    expect(rows.map((r) => r[1]?.replace(/\s+/g, ' ')).sort()).toEqual([
      'Carla Credit (carla)',
      'Chen Wei (chen)',
    ]);
    for (const r of rows) expect(r[2]).toBe('pending');
    // The console's stylesheet styles the evidence (its hash is in the CSP): a passed check is green.
    const style = (sel: string, prop: 'backgroundColor' | 'marginTop') =>
      evidence
        .locator(sel)
        .first()
        .evaluate((e, p) => (globalThis as unknown as BrowserGlobals).getComputedStyle(e)[p], prop);
    expect(await style('strong.badge.ok', 'backgroundColor')).toBe('rgb(230, 244, 234)');
    expect(await style('p.title', 'marginTop')).not.toBe('0px');

    // 4. Back to the list: one transfer, linked to its page and its JSON.
    await page.goto(`${web.url}/transfers`);
    const listRows = page.locator('#transfers tbody tr');
    expect(await listRows.count()).toBe(1);
    expect((await page.locator('p.shown').textContent())?.trim()).toBe(
      'Transfers: showing 1 of 1, newest first.',
    );
    expect(await listRows.first().locator(`a[href="/transfers/${id}"]`).count()).toBe(1);
    expect(await listRows.first().locator(`a[href="/api/transfers/${id}"]`).count()).toBe(1);

    // 5. A bad IBAN and no reason: 400, both problems next to their fields, the values kept, nothing stored.
    await page.locator('#customerId').fill('C1001');
    await page.locator('#type').selectOption('rebate');
    await page.locator('#amount').fill('99.50');
    await page.locator('#beneficiaryName').fill('Somebody <Else>');
    await page.locator('#beneficiaryAccount').fill(BAD_IBAN);
    await page.locator('#reason').fill('');
    await page.locator('#requester').fill(REQUESTER);
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${web.url}/transfers/new` && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Request the transfer' }).click(),
    ]);
    expect(refused.status()).toBe(400);
    await page.waitForLoadState('load');
    expect(await page.locator('#beneficiaryAccount-error').textContent()).toContain(
      'fails the IBAN check digits',
    );
    expect(await page.locator('#reason-error').textContent()).toContain('must say why');
    expect(await page.locator('#beneficiaryAccount').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#reason').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#amount').getAttribute('aria-invalid')).toBeNull();
    const summary = ((await page.locator('#request-problems').textContent()) ?? '').replace(/\s+/g, ' ');
    expect(summary).toContain('nothing was stored');
    expect(summary).toContain('Beneficiary account fails the IBAN check digits');
    expect(summary).toContain('Reason must say why');
    expect(await page.locator('#customerId').inputValue()).toBe('C1001');
    expect(await page.locator('#type').inputValue()).toBe('rebate');
    expect(await page.locator('#amount').inputValue()).toBe('99.50');
    expect(await page.locator('#beneficiaryName').inputValue()).toBe('Somebody <Else>');
    expect(await page.locator('#beneficiaryAccount').inputValue()).toBe(BAD_IBAN);
    expect(await page.locator('#requester').inputValue()).toBe(REQUESTER);
    expect(await page.locator('#transfers tbody tr').count()).toBe(1);
    expect(await stored()).toBe(1);
    expect(blocked).toEqual([]);
  }, 60_000);
});

describe('the form over plain HTTP', () => {
  it('refuses a post from another origin: 403, nothing stored', async () => {
    const before = await stored();
    const res = await postForm({ origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('text/html');
    const body = text(await res.text());
    expect(body).toContain('This request was sent from http://evil.example');
    expect(body).toContain('Nothing was changed.');
    // The same host on another port is another origin too.
    const port = Number(new URL(web.url).port);
    const other = await postForm({ origin: `http://127.0.0.1:${port === 65535 ? port - 1 : port + 1}` });
    expect(other.status).toBe(403);
    const opaque = await postForm({ origin: 'null' });
    expect(opaque.status).toBe(403);
    expect(await stored()).toBe(before);
  });

  it('refuses a post the browser marks cross-site: 403, nothing stored', async () => {
    const before = await stored();
    const res = await postForm({ 'sec-fetch-site': 'cross-site' });
    expect(res.status).toBe(403);
    expect(text(await res.text())).toContain('Sec-Fetch-Site: cross-site');
    const sameSite = await postForm({ 'sec-fetch-site': 'same-site', origin: web.url });
    expect(sameSite.status).toBe(403);
    // A sandboxed frame elsewhere: an opaque origin, and the browser says cross-site.
    const sandboxed = await postForm({ 'sec-fetch-site': 'cross-site', origin: 'null' });
    expect(sandboxed.status).toBe(403);
    // Same origin by Sec-Fetch-Site but another Origin: refused all the same.
    const mixed = await postForm({ 'sec-fetch-site': 'same-origin', origin: 'http://evil.example' });
    expect(mixed.status).toBe(403);
    expect(await stored()).toBe(before);
  });

  it('accepts a same-origin post (and one with neither header): 303 to the transfer page', async () => {
    const before = await stored();
    const res = await postForm({ origin: web.url, 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(303);
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(/^\/transfers\/TR-[0-9A-Z]{26}$/);
    const id = location.slice('/transfers/'.length);
    created.add(id);
    expect((await transfers.app.show(id))?.transfer.request).toMatchObject({
      amount: 120_00,
      requester: REQUESTER,
    });

    const detail = await fetch(`${web.url}${location}`);
    expect(detail.status).toBe(200);
    expect(detail.headers.get('content-type')).toContain('text/html');
    expect(detail.headers.get('content-security-policy')).toContain("form-action 'self'");
    const page = await detail.text();
    expect(page).toContain(`<h1>Transfer ${id}</h1>`);
    expect(page).toContain('<section class="evidence">');
    expect(text(page)).toContain('120.00 EUR');

    const curl = await postForm({}, formBody({ customerId: 'C1003', amount: '75.00' }));
    expect(curl.status).toBe(303);
    const curlId = (curl.headers.get('location') ?? '').slice('/transfers/'.length);
    created.add(curlId);
    expect((await transfers.app.show(curlId))?.transfer.request.customerId).toBe('C1003');
    expect(await stored()).toBe(before + 2);
  });

  it('answers a bad form with 400 and the problems, and only takes a form encoding', async () => {
    const before = await stored();
    const res = await postForm({}, formBody({ amount: '', currency: 'XXZ' }));
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(problems(page)).toBe(
      'The transfer was not requested: nothing was stored. Correct this and send it again: Currency is not an ISO 4217 currency code',
    );
    // A missing reason does not hide the amount's problem: both are listed at once.
    const both = await postForm({}, formBody({ amount: '12.345', reason: '' }));
    expect(both.status).toBe(400);
    const listed = problems(await both.text());
    expect(listed).toContain('Correct these 2');
    expect(listed).toContain('Reason must say why');
    expect(listed).toMatch(/Amount [^:]*\(EUR\)/);
    const json = await fetch(`${web.url}/transfers/new`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    expect(await stored()).toBe(before);
  });

  it('a customer not on file: 400, the problem next to its field, the values kept, nothing stored', async () => {
    const before = await stored();
    const res = await postForm({}, formBody({ customerId: 'NOPE42', reason: '' }));
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(problems(page)).toBe(
      'The transfer was not requested: nothing was stored. Correct these 2 and send it again: Customer id there is no customer NOPE42 on file Reason must say why (at least 3 characters)',
    );
    expect(fieldError(page, 'customerId')).toBe('there is no customer NOPE42 on file');
    expect(page).toMatch(
      /<input type="text" id="customerId" name="customerId" value="NOPE42"[^>]* aria-invalid="true"/,
    );
    expect(page).toMatch(/<input type="text" id="amount" name="amount" value="120.00"/);
    expect(page).toContain('value="Nordlicht Logistik GmbH"');
    expect(await stored()).toBe(before);
    expect(await transfers.store.transfersOf('NOPE42')).toEqual([]);
  });

  it("a refund above the customer's unapplied cash is sent on, flagged for the approvers in words and figures", async () => {
    // A customer no other test asks money for (a pending refund would be added to this one).
    const cash = await unappliedCash('C1012');
    const res = await postForm(
      {},
      formBody({ customerId: 'C1012', amount: '1250.00', reason: 'double payment of INV-1001' }),
    );
    expect(res.status).toBe(303);
    const id = (res.headers.get('location') ?? '').slice('/transfers/'.length);
    created.add(id);
    const gate = await until('the gate', async () => (await transfers.app.show(id))?.transfer.gate);
    const today = new Date().toISOString().slice(0, 10);
    expect(gate.flags).toContain('aboveUnappliedCash');
    const words = `refund 1,250.00 EUR is above the customer's unapplied cash of ${groupDigits(cash)} EUR as of ${today}`;
    expect(gate.checks.find((c) => c.check === 'unappliedCash')?.summary).toBe(words);
    expect(text(await (await fetch(`${web.url}/transfers/${id}`)).text())).toContain(words);
  });

  it('answers 404 for an unknown transfer, as a page', async () => {
    const res = await fetch(`${web.url}/transfers/TR-NOPE`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(text(await res.text())).toContain('There is no transfer "TR-NOPE".');
  });

  it('keeps the JSON API and the handler routes: POST and GET /api/transfers, POST /transfers/ID/recall', async () => {
    const res = await fetch(`${web.url}/api/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        customerId: 'C1003',
        type: 'rebate',
        amount: '310.00',
        currency: 'EUR',
        beneficiaryName: 'Baltic Timber AS',
        beneficiaryAccount: GOOD_IBAN,
        reason: 'volume rebate 2026',
        requester: REQUESTER,
      }),
    });
    const createdBody = await res.text();
    expect(res.status, createdBody).toBe(201);
    expect(res.headers.get('content-type')).toContain('application/json');
    const id = (JSON.parse(createdBody) as { transfer: Transfer }).transfer.transferId;
    created.add(id);

    const got = await fetch(`${web.url}/api/transfers/${id}`);
    expect(got.status).toBe(200);
    const found = (await got.json()) as { transfer: Transfer; approvals: Approval[] };
    expect(found.transfer.transferId).toBe(id);
    // Money in the API: a plain decimal beside its currency (README "Money in the API").
    expect([found.transfer.request.amount, found.transfer.request.currency]).toEqual(['310.00', 'EUR']);
    expect(Array.isArray(found.approvals)).toBe(true);

    const missing = await fetch(`${web.url}/api/transfers/TR-NOPE`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/json');

    // The recall route still reaches the transfers handler (JSON, no origin check of the console's).
    await until('the gate of the API transfer', async () => {
      const s = await transfers.app.show(id);
      return s && (s.approvals.length > 0 || s.transfer.status !== 'pending') ? true : undefined;
    });
    const recall = await fetch(`${web.url}/transfers/${id}/recall`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ by: REQUESTER }),
    });
    expect(recall.status).toBe(200);
    expect(((await recall.json()) as { transfer: Transfer }).transfer.status).toBe('recalled');
    const page = await fetch(`${web.url}/transfers/${id}`);
    expect(page.status).toBe(200);
    expect(text(await page.text())).toContain(`Closed by ${REQUESTER}`);
  });

  it('marks an approved transfer paid from its page, once', async () => {
    const res = await fetch(`${web.url}/api/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        customerId: 'C1002',
        type: 'rebate',
        amount: '250.00',
        currency: 'EUR',
        beneficiaryName: 'Rebate Partner BV',
        beneficiaryAccount: GOOD_IBAN,
        reason: 'volume rebate Q3',
        requester: REQUESTER,
      }),
    });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { transfer: Transfer }).transfer.transferId;
    created.add(id);
    // Every level approved from its emailed link, by the first approver asked.
    for (let level = 1; ; level++) {
      const mail = await until(`the level ${level} email of ${id}`, async () =>
        (await listMail(dir, 500)).find(
          (m) => m.file.includes(`-approve-${id}-`) && m.subject.includes(`level ${level} of`),
        ),
      );
      const url = /https?:\/\/\S+\/approvals\/[\w.-]+/.exec(mail.text)?.[0] as string;
      const email = /[\w.+-]+@[\w.-]+/.exec(mail.to)?.[0] as string;
      const decided = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ decision: 'approve', email, comment: '' }).toString(),
      });
      expect(decided.status).toBe(200);
      if (mail.subject.includes(`level ${level} of ${level}`)) break;
    }
    const approved = await until('the approval', async () => {
      const t = (await transfers.app.show(id))?.transfer;
      return t?.status === 'approved' ? t : undefined;
    });
    const page = text(await (await fetch(`${web.url}/transfers/${id}`)).text());
    expect(page).toContain(
      `Approved on ${approved.approvedOn}: it counts in C1002's exposure until it is paid.`,
    );
    expect(page).toContain(
      `Approved on ${approved.approvedOn}, not paid yet. Mark it paid once the money has left`,
    );

    // The customer's page counts it in the exposure, linked to the transfer.
    const customer = await (await fetch(`${web.url}/customers/C1002`)).text();
    expect(customer).toContain(`href="/transfers/${id}"`);
    expect(text(customer)).toContain('Approved transfers counted 250.00 EUR rebate');

    const markPaid = (fields: Record<string, string>) =>
      fetch(`${web.url}/transfers/${id}/mark-paid`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    const nobody = await markPaid({ by: ' ', on: '' });
    expect(nobody.status).toBe(400);
    expect(text(await nobody.text())).toContain('Say who marks it paid');
    const tomorrow = await markPaid({ by: 'paula', on: '2999-01-01' });
    expect(tomorrow.status).toBe(400);
    expect((await transfers.app.show(id))?.transfer.paidOn).toBeUndefined();

    const ok = await markPaid({ by: 'paula', on: '' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`/transfers/${id}`);
    const after = text(await (await fetch(`${web.url}/transfers/${id}`)).text());
    expect(after).toContain(`Paid on ${approved.approvedOn} (marked by paula`);
    expect(after).toContain(`Paid on ${approved.approvedOn}: it no longer counts in C1002's exposure`);
    // Paid: a rebate no longer counts (the company's cost, not the customer's debt).
    const paid = await (await fetch(`${web.url}/customers/C1002`)).text();
    const assessment = paid.slice(
      paid.indexOf('<h2>Credit assessment'),
      paid.indexOf('<h2>Limit recommendation'),
    );
    expect(assessment).toContain('<h2>Credit assessment');
    expect(assessment).not.toContain(`href="/transfers/${id}"`);
    // The customer's own list of transfers still shows it, paid.
    const listed = paid.slice(paid.indexOf('<table id="transfers-of-customer"'));
    expect(text(listed.slice(0, listed.indexOf('</table>')))).toContain(`${id} Rebate`);
    const again = await markPaid({ by: 'PAULA@example.com', on: '' });
    expect(again.status).toBe(409);
    expect(text(await again.text())).toContain('Already marked paid');
  });

  it('refuses a cross-site post to the JSON API too (a text/plain form can carry JSON): 403, nothing stored', async () => {
    const before = await stored();
    const json = JSON.stringify({
      customerId: 'C1003',
      type: 'rebate',
      amount: '999.00',
      currency: 'EUR',
      beneficiaryName: 'Mallory Ltd',
      beneficiaryAccount: GOOD_IBAN,
      reason: 'sent from a hostile page',
      requester: 'mallory',
    });
    for (const path of ['/transfers', '/api/transfers']) {
      const res = await fetch(`${web.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'text/plain',
          origin: 'http://evil.example',
          'sec-fetch-site': 'cross-site',
        },
        body: json,
      });
      expect(res.status, path).toBe(403);
    }
    expect(await stored()).toBe(before);
  });

  it('answers for loopback names only (DNS rebinding): 421 for another Host', async () => {
    const { port } = new URL(web.url);
    const get = (host: string) =>
      new Promise<number>((ok, fail) => {
        const req = request({ host: '127.0.0.1', port, path: '/transfers', headers: { host } }, (res) => {
          res.resume();
          ok(res.statusCode ?? 0);
        });
        req.on('error', fail);
        req.end();
      });
    expect(await get(`evil.example:${port}`)).toBe(421);
    expect(await get(`localhost:${port}`)).toBe(200);
    expect(await get(`127.0.0.1:${port}`)).toBe(200);
  });
});

describe("where the approval policy refuses returns above the customer's unapplied cash", () => {
  let strictDir: string;
  let strict: { transfers: LocalTransfers; web: RunningConsole } | undefined;
  beforeAll(async () => {
    strictDir = await mkdtemp(join(tmpdir(), 'console-transfers-strict-'));
    strict = await startTransfersConsole(env, strictDir, {
      approvalPolicy: approvalPolicyWith((d) => {
        (d.gate as Record<string, unknown>).refuseAboveUnappliedCash = true;
      }),
    });
  });
  afterAll(async () => {
    await strict?.transfers.idle();
    await strict?.web.close();
    if (strictDir) await rm(strictDir, { recursive: true, force: true });
  });

  it('the form answers 400 with the problem next to the amount, the values kept; within the cash it goes on', async () => {
    const s = strict as NonNullable<typeof strict>;
    const before = await stored();
    const cash = await unappliedCash('C1014');
    const today = new Date().toISOString().slice(0, 10);
    const res = await postForm(
      {},
      formBody({ customerId: 'C1014', amount: '1250.00', reason: 'double payment of INV-1001' }),
      s.web,
    );
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(fieldError(page, 'amount')).toBe(
      `is above the customer's unapplied cash of ${groupDigits(cash)} EUR as of ${today}; the approval policy refuses such a request (gate.refuseAboveUnappliedCash)`,
    );
    expect(page).toMatch(
      /<input type="text" id="amount" name="amount" value="1250.00"[^>]* aria-invalid="true"/,
    );
    expect(page).toContain('double payment of INV-1001');
    expect(await stored()).toBe(before);

    // Baltic Timber holds unapplied cash (a prepayment far above its open items): a refund within it is requested.
    expect(Number(await unappliedCash('C1003'))).toBeGreaterThan(100);
    const ok = await postForm(
      {},
      formBody({ customerId: 'C1003', amount: '100.00', beneficiaryName: 'Baltic Timber AS' }),
      s.web,
    );
    expect(ok.status).toBe(303);
    const id = (ok.headers.get('location') ?? '').slice('/transfers/'.length);
    const shown = await until('the gate of the refund within the cash', async () => {
      const t = await s.transfers.app.show(id);
      return t && t.approvals.length > 0 ? t.transfer : undefined;
    });
    expect(shown.gate?.flags).not.toContain('aboveUnappliedCash');
    await s.transfers.app.recall(id, REQUESTER);
    await s.transfers.workflow.execution(shown.executionId as string)?.done;
  });
});
