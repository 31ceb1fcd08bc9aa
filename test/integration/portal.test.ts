import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { portalHttp } from '../../functions/collections/portal.ts';
import { addDays } from '../../functions/core/dates.ts';
import type { Policy } from '../../functions/credit/policy.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { type LinkKey, portalUrl, signLink } from '../../functions/transfers/links.ts';
import { loadPolicy } from '../../infra/local/cli/credit.ts';
import { type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import { localCollectionsRun } from '../../infra/local/runtime/collections.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { localLinkKeys, mailDir } from '../../infra/local/runtime/transfers.ts';
import { COLLECTIONS_AS_OF as DAY, seedCollectionsBook } from './collections-book.ts';
import { launchChromium } from './transfers-console.ts';

/**
 * The customer portal (README "Collections") behind the local console, on dynalite and the small
 * book of collections-book.ts as of 2026-03-31: LATE's friendly reminder carries its link; the
 * page shows the statement, takes one promise per link and disputes, refuses a tampered, expired
 * or approval link, and GET changes nothing. In Chromium at a desktop's and a phone's width
 * (screenshots in /tmp/portal-<width>.png).
 */
let dir: string;
let env: LocalEnv;
let web: RunningConsole;
let policy: Policy;
let keys: LinkKey[];
let clock: Date;
let browser: Browser;

const audit = () => new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portal-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  await seedCollectionsBook(env);
  policy = await loadPolicy(env.store);
  keys = await localLinkKeys(dir);
  clock = new Date(`${DAY}T09:00:00Z`);
  web = await startConsole({
    queries: new ReceivablesQueries(env.store),
    today: () => DAY,
    port: 0,
    portal: portalHttp({
      store: env.store,
      audit: audit(),
      policy: async () => policy,
      keys: async () => keys,
      clock: { now: () => clock },
      today: () => clock.toISOString().slice(0, 10),
    }),
  });
}, 60_000);
afterEach(async () => {
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** The link of a customer's reminder of the day, signed as the run signs it. */
const linkOf = (customerId: string, level = 'friendly', on = DAY) =>
  portalUrl(web.url, keys, customerId, { on, level }, policy.collections?.portal.linkDays ?? 30);

const get = (url: string) => fetch(url, { redirect: 'manual' });
const post = (url: string, form: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });

/** What the customer's partition holds of promises and disputes, and the audit trail's length. */
async function written(customerId: string) {
  const part = await env.store.loadCustomerPartition(customerId);
  return {
    promises: part.promises ?? [],
    disputes: part.disputes ?? [],
    audit: (await audit().auditTrail()).length,
  };
}

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

describe('the reminder links to the portal', () => {
  it("the friendly email carries a signed link to LATE's statement, as a mail client reads it", async () => {
    await localCollectionsRun(
      { store: env.store, dataDir: dir, now: () => clock, portalBaseUrl: web.url },
      policy,
      { asOf: DAY, claimant: 'run-1', customerIds: ['LATE'] },
    );
    const [file] = (await readdir(mailDir(dir))).filter((f) => f.endsWith('.eml'));
    const mail = await simpleParser(await readFile(join(mailDir(dir), file as string)));
    const url = /(http:\/\/127\.0\.0\.1:\d+\/portal\/[\w-]+\.[\w-]+)/.exec(mail.text ?? '')?.[1];
    expect(url).toBeDefined();
    expect(mail.html).toContain(`href="${url}"`);
    expect(url).toBe(linkOf('LATE'));
    const res = await get(url as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = text(await res.text());
    expect(page).toContain('Statement for Late Payer GmbH (customer number LATE)');
    expect(page).toContain('Amount due now: 1,200.00 EUR');
    expect(page).toContain('L1 2026-02-20 2026-03-22 9 1,200.00 EUR 1,200.00 EUR');
    expect(page).toContain(`Its link works until ${addDays(DAY, 30)}`);
  });
});

describe('what the customer does there', () => {
  it('GET shows and changes nothing, however often it is opened', async () => {
    const before = await written('LATE');
    for (let i = 0; i < 3; i++) expect((await get(linkOf('LATE'))).status).toBe(200);
    expect(await written('LATE')).toEqual(before);
  });

  it('a promise is recorded once per link, on the audit trail, and then shown instead of the form', async () => {
    const url = linkOf('LATE');
    const res = await post(`${url}/promise`, {
      amount: '1,200.00',
      date: '2026-04-10',
      name: 'Anna Weber',
      note: 'paying Friday',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${new URL(url).pathname}?done=promise`);
    const after = await written('LATE');
    expect(after.promises).toHaveLength(1);
    expect(after.promises[0]).toMatchObject({
      amount: 120000,
      currency: 'EUR',
      promisedDate: '2026-04-10',
      madeOn: DAY,
      via: 'portal',
      recordedBy: 'Anna Weber (LATE, portal)',
      link: `${DAY}#friendly`,
      note: 'paying Friday',
    });
    const trail = (await audit().auditTrail()).filter((r) => r.kind === 'promise.recorded');
    expect(trail.map((r) => [r.subject, r.actor])).toEqual([['LATE', 'Anna Weber (LATE, portal)']]);
    const page = text(await (await get(`${url}?done=promise`)).text());
    expect(page).toContain('Thank you: your promise is noted.');
    expect(page).toContain(
      `On ${DAY} you told us you will pay 1,200.00 EUR by 2026-04-10. We are waiting for it.`,
    );
    expect(page).not.toContain('name="amount"');

    // A second promise through the same link, another day and another amount: refused, the first stands.
    clock = new Date('2026-04-02T09:00:00Z');
    const again = await post(`${url}/promise`, { amount: '600.00', date: '2026-04-20', name: 'Anna Weber' });
    expect(again.status).toBe(409);
    expect(text(await again.text())).toContain('A promise was already made through this link');
    expect((await written('LATE')).promises).toHaveLength(1);
  });

  it('three sends of the promise form at once record one promise', async () => {
    const url = linkOf('LATE');
    const answers = await Promise.all(
      ['2026-04-08', '2026-04-09', '2026-04-10'].map((date) =>
        post(`${url}/promise`, { amount: '1200', date, name: 'Anna Weber' }),
      ),
    );
    expect(answers.filter((r) => r.status === 303).length).toBeGreaterThanOrEqual(1);
    for (const r of answers) expect([303, 409]).toContain(r.status);
    const { promises } = await written('LATE');
    expect(promises).toHaveLength(1);
    // Whoever got the 303 sees the promise that is on file; the others were told it exists.
    expect(answers.filter((r) => r.status === 303)).toHaveLength(1);
    expect((await audit().auditTrail()).filter((r) => r.kind === 'promise.recorded')).toHaveLength(1);
  });

  it('a bad promise is refused with each field named, what was typed kept, nothing written', async () => {
    const before = await written('LATE');
    const res = await post(`${linkOf('LATE')}/promise`, { amount: '5000.00', date: '2026-03-01', name: '' });
    expect(res.status).toBe(400);
    const page = text(await res.text());
    expect(page).toContain('Please check:');
    expect(page).toContain('Amount: is more than the 1,200.00 EUR open and undisputed');
    expect(page).toContain('Paid by: is in the past (today is 2026-03-31)');
    expect(page).toContain('Your name: is required');
    expect(await written('LATE')).toEqual(before);
  });

  it('a dispute takes the invoice out of the demand, owned by the plan, answered within its days', async () => {
    const url = linkOf('LATE');
    const res = await post(`${url}/dispute`, {
      invoice: 'L1',
      reason: 'amount',
      comment: 'Price should be 1,000.00 as agreed',
      name: 'Anna Weber',
    });
    expect(res.status).toBe(303);
    const { disputes } = await written('LATE');
    expect(disputes).toHaveLength(1);
    expect(disputes[0]).toMatchObject({
      invoiceId: 'L1',
      reason: 'Wrong price or amount: Price should be 1,000.00 as agreed',
      owner: 'credit control',
      answerBy: addDays(DAY, 10),
      openedBy: 'Anna Weber (LATE, portal)',
    });
    const page = text(await (await get(`${url}?done=dispute`)).text());
    expect(page).toContain('Thank you: the invoice is under review.');
    expect(page).toContain(`Invoice L1 is under review; we will answer by ${addDays(DAY, 10)}.`);
    expect(page).toContain('Nothing is overdue today. Thank you.');
    expect((await audit().auditTrail()).filter((r) => r.kind === 'dispute.opened')).toHaveLength(1);
  });

  it('a dispute on a paid invoice, or without a comment, is refused and changes nothing', async () => {
    const before = await written('PAID');
    const paid = await post(`${linkOf('PAID')}/dispute`, {
      invoice: 'P1',
      reason: 'paid',
      comment: 'we paid',
      name: 'Jan',
    });
    expect(paid.status).toBe(400);
    expect(text(await paid.text())).toContain(
      'P1 is paid (settled on 2026-03-02): there is nothing to dispute',
    );
    const blank = await post(`${linkOf('LATE')}/dispute`, {
      invoice: 'L1',
      reason: 'nonsense',
      comment: ' ',
      name: 'A',
    });
    expect(blank.status).toBe(400);
    const page = text(await blank.text());
    expect(page).toContain('Reason: choose one');
    expect(page).toContain('What is wrong: is required');
    expect(await written('PAID')).toEqual(before);
    expect((await written('LATE')).disputes).toHaveLength(0);
  });

  it("the page is in the customer's language", async () => {
    const page = text(await (await get(linkOf('CN', 'firm'))).text());
    expect(page).toContain('深圳恒达物流有限公司（客户编号 CN）的对账单');
    expect(page).toContain('告知付款日期');
    expect(page).toContain('对发票提出异议');
  });
});

describe('links that do not open it', () => {
  it('a tampered, an expired, an approval link, and a portal link on the approval pages are refused', async () => {
    const url = linkOf('LATE');
    const token = url.slice(url.lastIndexOf('/') + 1);
    const [payload, sig] = token.split('.') as [string, string];
    // Another customer named in the payload, the signature kept.
    const forged = Buffer.from(
      Buffer.from(payload, 'base64url').toString('utf8').replace('"LATE"', '"OLD"'),
    ).toString('base64url');
    const tampered = await get(`${web.url}/portal/${forged}.${sig}`);
    expect(tampered.status).toBe(404);
    const body = text(await tampered.text());
    expect(body).toContain('This link is not valid.');
    expect(body).not.toContain('Old Debt');

    const approval = signLink(
      { transferId: 'T1', approvalId: 'A1', approver: 'x@example.com', exp: 4_000_000_000 },
      keys,
    );
    expect((await get(`${web.url}/portal/${approval}`)).status).toBe(404);

    clock = new Date(`${addDays(DAY, 31)}T00:00:00Z`);
    const expired = await get(url);
    expect(expired.status).toBe(410);
    expect(text(await expired.text())).toContain('This link has expired.');
    // Nor may the expired link record anything.
    const late = await post(`${url}/promise`, { amount: '1', date: addDays(DAY, 35), name: 'A' });
    expect(late.status).toBe(410);
    expect((await written('LATE')).promises).toHaveLength(0);
  });
});

describe('in Chromium', () => {
  it('reads at 1280 and 390 px without sideways scrolling, and the promise form works', async () => {
    for (const width of [1280, 390]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const res = await page.goto(linkOf('LATE'));
      expect(res?.status()).toBe(200);
      const [scroll, client] = (await page.evaluate(
        '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
      )) as [number, number];
      expect(scroll).toBeLessThanOrEqual(client);
      await page.screenshot({ path: `/tmp/portal-${width}.png`, fullPage: true });
      await page.close();
    }
    const page = await browser.newPage({ viewport: { width: 390, height: 900 } });
    await page.goto(linkOf('LATE'));
    await page.fill('input[name=date]', '2026-04-10');
    await page.fill('#promise input[name=name]', 'Anna Weber');
    await Promise.all([page.waitForURL(/done=promise/), page.click('#promise button')]);
    expect(await page.locator('#note').textContent()).toContain('Thank you: your promise is noted.');
    expect(await page.locator('#promised').textContent()).toContain('1,200.00 EUR by 2026-04-10');
    await page.screenshot({ path: '/tmp/portal-promised-390.png', fullPage: true });
    await page.close();
    expect((await written('LATE')).promises).toHaveLength(1);
  });
});
