import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { loadPolicy } from '../../infra/local/cli/credit.ts';
import { type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { COLLECTIONS_AS_OF, seedCollectionsBook } from './collections-book.ts';
import { ingestText } from './read-meter.ts';
import { launchChromium } from './transfers-console.ts';

const auditStore = () =>
  new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });

/**
 * The console's Collections page (README "Collections") in headless Chromium, at a desktop's and a
 * phone's width, on the small book of collections-book.ts with EUR and CNY rates against the
 * score's USD (none for GBP): what `sentinel collections` prints, each customer linked to its
 * credit file, where the collections forms act. Screenshots in /tmp/collections-<width>.png, to
 * look at.
 */
let dir: string;
let env: LocalEnv;
let web: RunningConsole;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-collections-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  await seedCollectionsBook(env);
  await ingestText(
    env,
    'fx/rates.csv',
    'date,base,quote,rate\n2026-03-30,EUR,USD,1.0800\n2026-03-30,USD,CNY,7.1000\n',
    new Date('2026-03-31T06:00:00Z'),
  );
  web = await startConsole({
    queries: new ReceivablesQueries(env.store),
    today: () => COLLECTIONS_AS_OF,
    port: 0,
    credit: {
      store: env.store,
      policy: () => loadPolicy(env.store),
      collections: { store: env.store, audit: auditStore() },
    },
  });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the Collections page', () => {
  it('lists the overdue customers highest score first, each with what is done today or why not', async () => {
    for (const width of [1280, 390]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const res = await page.goto(`${web.url}/collections`);
      expect(res?.status()).toBe(200);
      expect(await page.title()).toBe('Collections · credit-sentinel');
      // As a person reads the cells (a line break between a customer's id and its name is a space).
      const rows = (await page.evaluate(
        `Array.from(document.querySelectorAll('tbody tr')).map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.innerText.replace(/\\s+/g, ' ').trim()))`,
      )) as string[][];
      // The shipped weights add up to 115, scaled to 100. None of these customers has settled an
      // invoice, so each one's expected wait is at the cap (15). OLD: no GBP rate, so its 1,200.00
      // GBP counts at the cap (40), 90 of 180 days (15), not rated (15): 85 of 115 = 73.9. CN:
      // 26,700.00 CNY / 7.1 = 3,760.56 USD of 500,000.00 (0.3), 21 days (3.5), 15, 15: 33.8 of 115 =
      // 29.4. LATE: 1,200.00 EUR × 1.08 = 1,296.00 USD (0.1), 9 days (1.5), 15, 15: 27.5. DISP:
      // nothing demanded.
      expect(rows.map((r) => r.slice(0, 7))).toEqual([
        ['OLD Old Debt Ltd', '73.9', 'legal', 'final (phone)', '1,200.00 GBP', '90', 'legal on 2026-04-07'],
        [
          'CN 深圳恒达物流有限公司',
          '29.4',
          'firm',
          'firm (phone)',
          '26,700.00 CNY',
          '21',
          'final on 2026-04-09',
        ],
        [
          'LATE Late Payer GmbH',
          '27.5',
          'friendly',
          'friendly (email)',
          '1,200.00 EUR',
          '9',
          'firm on 2026-04-07',
        ],
        ['DISP Disputing SA', '0.0', '—', '—', '0.00 EUR', '0', '—'],
      ]);
      expect(rows[3]?.[7]).toBe('only disputed items are overdue: nothing is chased while they are disputed');
      // How a score adds up: on hover, and opened under it.
      const cn = page.locator('tbody tr').nth(1).locator('details.score');
      expect(await cn.locator('summary').getAttribute('title')).toBe(
        '29.4 = 0.3 amount overdue (26,700.00 CNY = 3,760.56 USD (USD/CNY 7.1000 of 2026-03-30) of a 500,000.00 USD cap) + 3.0 days past due (21 days of a 180-day cap) + 13.0 rating (not rated by 2026-03-31) + 0.0 broken promises (none broken in 90 days) + 13.0 expected wait (C1 (26,700.00 CNY) is already further past due than any invoice the customer has settled: at the cap)',
      );
      await cn.locator('summary').click();
      expect((await cn.locator('li').allInnerTexts()).map((t) => t.replace(/\s+/g, ' '))).toEqual([
        '0.3 amount overdue (0.008 of 40): 26,700.00 CNY = 3,760.56 USD (USD/CNY 7.1000 of 2026-03-30) of a 500,000.00 USD cap',
        '3.0 days past due (0.117 of 30): 21 days of a 180-day cap',
        '13.0 rating (1 of 15): not rated by 2026-03-31',
        '0.0 broken promises (0 of 15): none broken in 90 days',
        '13.0 expected wait (1 of 15): C1 (26,700.00 CNY) is already further past due than any invoice the customer has settled: at the cap',
      ]);
      const old = page.locator('tbody tr').nth(0).locator('details.score');
      await old.locator('summary').click();
      expect(await old.locator('li strong').allInnerTexts()).toEqual([
        'no GBP/USD rate on file by 2026-03-31: the amount counts at the cap',
      ]);
      expect(await page.locator('main > p').nth(1).textContent()).toBe(
        '3 to act on today, 1 overdue and not acted on (each with its reason), 1 with nothing overdue (list them too).',
      );
      // Nothing but the table scrolls sideways on a phone.
      const [scroll, client] = (await page.evaluate(
        '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
      )) as [number, number];
      expect(scroll).toBeLessThanOrEqual(client);
      await page.screenshot({ path: `/tmp/collections-${width}.png`, fullPage: true });
      await page.close();
    }
  });

  it('links each customer to its credit file, lists every customer on asking, and moves with the date', async () => {
    const page = await browser.newPage();
    await page.goto(`${web.url}/collections`);
    await page.getByRole('link', { name: 'list them too' }).click();
    expect(await page.locator('tbody tr').count()).toBe(5);
    expect(await page.locator('tbody tr').last().textContent()).toContain('nothing is overdue');
    await page.getByRole('link', { name: 'LATE' }).click();
    expect(new URL(page.url()).pathname).toBe('/customers/LATE');
    expect(await page.locator('h1').first().textContent()).toContain('Late Payer GmbH');
    // A week later LATE's friendly reminder is due on the firm call's day.
    await page.goto(`${web.url}/collections?asOf=2026-04-07`);
    const late = page.locator('tbody tr', { hasText: 'LATE' });
    expect(await late.locator('td').nth(3).textContent()).toBe('firm (phone)');
    await page.close();
    const bad = await fetch(`${web.url}/collections?asOf=2026-02-30`);
    expect(bad.status).toBe(400);
  });

  it('answers the same in JSON, amounts as decimals', async () => {
    const body = (await (await fetch(`${web.url}/api/collections`)).json()) as {
      asOf: string;
      customers: {
        customerId: string;
        totals: { demand: string };
        send?: { name: string };
        score: number;
        scoreFactors: Record<string, unknown>[];
      }[];
    };
    expect(body.asOf).toBe(COLLECTIONS_AS_OF);
    expect(body.customers.map((c) => [c.customerId, c.totals.demand, c.send?.name, c.score])).toEqual([
      ['OLD', '1200.00', 'final', 73.9],
      ['CN', '26700.00', 'firm', 29.4],
      ['LATE', '1200.00', 'friendly', 27.5],
      ['DISP', '0.00', undefined, 0],
      ['PAID', '0.00', undefined, 0],
    ]);
    // The converted demand and the cap as decimals of the score's currency, with the rate used.
    expect(body.customers[1]?.scoreFactors[0]).toEqual({
      factor: 'amountOverdue',
      currency: 'USD',
      amount: '3760.56',
      cap: '500000.00',
      rate: { pair: 'USD/CNY', rate: '7.1000', date: '2026-03-30' },
      part: 0.008,
      weight: 40,
      points: 0.3,
      why: '26,700.00 CNY = 3,760.56 USD (USD/CNY 7.1000 of 2026-03-30) of a 500,000.00 USD cap',
    });
    // The expected wait: the invoice it rests on, no days (nothing of the customer's to go by).
    expect(body.customers[1]?.scoreFactors[4]).toEqual({
      factor: 'expectedWait',
      capDays: 30,
      invoices: 1,
      invoiceId: 'C1',
      unplaced: 1,
      part: 1,
      weight: 15,
      points: 13,
      why: 'C1 (26,700.00 CNY) is already further past due than any invoice the customer has settled: at the cap',
    });
  });

  it('records a promise to pay from the form: the chase is held, it is on the audit trail; a bad one is refused field by field', async () => {
    for (const width of [1280, 390]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      await page.goto(`${web.url}/collections`);
      // Refused: more than is open, a date before today; nothing recorded.
      await page.getByLabel('Customer').selectOption('LATE');
      await page.getByLabel('Amount').fill('5,000.00');
      await page.getByLabel('Paid by').evaluate((el) => {
        const input = el as unknown as { removeAttribute(n: string): void; value: string };
        input.removeAttribute('min');
        input.value = '2026-03-01';
      });
      await page.getByRole('button', { name: 'Record the promise' }).click();
      expect(await page.locator('h1').textContent()).toBe('Promise not recorded');
      expect(
        (await page.locator('.problem li').allTextContents()).map((t) => t.replace(/\s+/g, ' ')),
      ).toEqual([
        'Amount is more than the 1,200.00 EUR open and undisputed',
        'Paid by is in the past (today is 2026-03-31)',
      ]);
      await page.screenshot({ path: `/tmp/collections-promise-refused-${width}.png`, fullPage: true });
      const [scroll, client] = (await page.evaluate(
        '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
      )) as [number, number];
      expect(scroll).toBeLessThanOrEqual(client);
      await page.close();
    }
    expect((await env.store.loadCustomerPartition('LATE')).promises).toEqual([]);

    const page = await browser.newPage({ viewport: { width: 390, height: 900 } });
    await page.goto(`${web.url}/collections`);
    await page.getByLabel('Customer').selectOption('LATE');
    await page.getByLabel('Amount').fill('1,200.00');
    await page.getByLabel('Paid by').fill('2026-04-10');
    await page.getByLabel('Recorded by').fill('anna');
    await page.getByRole('button', { name: 'Record the promise' }).click();
    expect(new URL(page.url()).pathname).toBe('/collections');
    expect(await page.locator('p.done').textContent()).toMatch(
      /^Promise PTP-2026-03-31-[0-9a-f]{10} recorded for LATE: the chase is held while it is pending\.$/,
    );
    const late = page.locator('tbody tr', { hasText: 'LATE' });
    expect(await late.locator('td').nth(3).textContent()).toBe('—');
    expect(await late.locator('td').last().textContent()).toBe(
      'a promise to pay holds the chase (1,200.00 EUR promised by 2026-04-10 (made 2026-03-31): it counts until 2026-04-13)',
    );
    await page.screenshot({ path: '/tmp/collections-promise-390.png', fullPage: true });
    await page.close();
    // On the customer's credit file, with the plan's other records.
    const file = await browser.newPage({ viewport: { width: 390, height: 900 } });
    await file.goto(`${web.url}/customers/LATE?asOf=${COLLECTIONS_AS_OF}`);
    expect(await file.locator('h2#collections').textContent()).toBe('Collections');
    expect(await file.locator('h3').allTextContents()).toEqual(
      expect.arrayContaining(['Disputes (0 open)', 'Promises to pay (1)', 'Steps of the plan taken (0)']),
    );
    const row = (await file.locator('h3:text("Promises to pay") + div tbody tr td').allTextContents()).map(
      (t) => t.replace(/\s+/g, ' ').trim(),
    );
    expect(row).toEqual(['2026-03-31', '2026-04-10', '1,200.00 EUR', '0.00 EUR', 'pending', 'anna (call)']);
    const [scroll, client] = (await file.evaluate(
      '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
    )) as [number, number];
    expect(scroll).toBeLessThanOrEqual(client);
    await file.close();
    const trail = (await auditStore().auditTrail()).filter((r) => r.kind === 'promise.recorded');
    expect(trail.map((r) => [r.subject, r.actor])).toEqual([['LATE', 'anna']]);
    // A GET changes nothing; a post from another site is refused.
    expect((await fetch(`${web.url}/collections/promise`)).status).toBe(404);
    const foreign = await fetch(`${web.url}/collections/promise`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'customer=CN&amount=1&by=2026-04-01&recordedBy=x',
    });
    expect(foreign.status).toBe(403);
  });

  it('the credit file opens and resolves a dispute and lifts a credit hold, each with a note of what was done', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 900 } });
    await page.goto(`${web.url}/customers/OLD?asOf=${COLLECTIONS_AS_OF}`);
    expect(await page.locator('h3', { hasText: 'Disputes' }).textContent()).toBe('Disputes (0 open)');
    await page.locator('summary', { hasText: 'Open a dispute' }).click();
    expect(await page.locator('#d-invoice option').allTextContents()).toEqual(['O1', 'O2']);
    await page.locator('#d-invoice').selectOption('O2');
    await page.locator('#d-reason').fill('price differs from the order');
    await page.locator('#d-owner').fill('sales-tom');
    await page.locator('#d-answer').fill('2026-04-15');
    await page.getByRole('button', { name: 'Open the dispute' }).click();
    expect(new URL(page.url()).pathname).toBe('/customers/OLD');
    expect(await page.locator('p.done').textContent()).toBe(
      'The dispute was opened: what it contests (the invoice, or the part named) is left out of every demand until it is resolved.',
    );
    expect(await page.locator('h3', { hasText: 'Disputes' }).textContent()).toBe('Disputes (1 open)');
    // O2 is no longer one to dispute; the Collections page demands O1 alone.
    await page.locator('summary', { hasText: 'Open a dispute' }).click();
    expect(await page.locator('#d-invoice option').allTextContents()).toEqual(['O1']);
    const list = (await (await fetch(`${web.url}/api/collections`)).json()) as {
      customers: { customerId: string; totals: { demand: string } }[];
    };
    expect(list.customers.find((c) => c.customerId === 'OLD')?.totals.demand).toBe('800.00');
    await page.getByLabel('Outcome').selectOption('customer-pays');
    await page.getByRole('button', { name: 'Resolve' }).click();
    expect(await page.locator('p.done').textContent()).toContain('The dispute was resolved');
    expect(await page.locator('h3', { hasText: 'Disputes' }).textContent()).toBe('Disputes (0 open)');

    // A hold put on by the plan's hold level is lifted by a person, with a reason.
    await env.store.placeCreditHold({
      customerId: 'OLD',
      state: 'on',
      since: COLLECTIONS_AS_OF,
      by: 'collections',
      reason: '"hold" reached',
    });
    await page.goto(`${web.url}/customers/OLD?asOf=${COLLECTIONS_AS_OF}`);
    expect(await page.locator('#collections + p.problem').textContent()).toContain(
      'On credit hold since 2026-03-31',
    );
    const [scroll, client] = (await page.evaluate(
      '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
    )) as [number, number];
    expect(scroll).toBeLessThanOrEqual(client);
    await page.screenshot({ path: '/tmp/credit-file-collections-390.png', fullPage: true });
    await page.getByLabel('Why').fill('paid half, a plan for the rest');
    await page.getByRole('button', { name: 'Lift the hold' }).click();
    expect(await page.locator('p.done').textContent()).toBe('The credit hold was lifted.');
    expect(await page.locator('#collections + p.problem').count()).toBe(0);
    // A hand-over to legal on file is said at the top of the section.
    await env.store.recordHandover({
      customerId: 'OLD',
      on: COLLECTIONS_AS_OF,
      level: 'legal',
      currency: 'GBP',
      demand: 120_000,
      overdue: [{ invoiceId: 'O1', dueDate: '2025-12-31', daysPastDue: 90, open: 80_000 }],
      disputed: [],
      contacts: [{ level: 'final', on: '2026-03-20', channel: 'phone' }],
      promises: [],
      state: 'open',
    });
    await page.reload();
    expect(
      (await page.locator('#collections ~ p', { hasText: 'Handed over' }).textContent())?.replace(
        /\s+/g,
        ' ',
      ),
    ).toBe(
      'Handed over to legal on 2026-03-31 ("legal"): 1,200.00 GBP demanded, 1 overdue item, 1 step before it (sentinel collections handover OLD).',
    );
    await page.close();

    // Refused, each field named, nothing changed: a dispute on a paid invoice, a hold not on.
    const post = (path: string, body: string) =>
      fetch(`${web.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
      });
    const paid = await post(
      '/collections/dispute',
      'customer=PAID&invoice=P1&reason=x&owner=o&answerBy=2026-04-15&by=a&back=/customers/PAID',
    );
    expect(paid.status).toBe(400);
    expect(await paid.text()).toContain('P1 is paid (settled on 2026-03-02): there is nothing to dispute');
    const none = await post('/collections/release', 'customer=OLD&reason=again&by=a&back=/customers/OLD');
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('OLD is not on credit hold');
    const trail = (await auditStore().auditTrail())
      .map((r) => r.kind)
      .filter((k) => !k.startsWith('promise'));
    expect(trail).toEqual(['dispute.opened', 'dispute.resolved', 'hold.released']);
  });

  it('the credit file assigns and reassigns a collector and logs a call; a bad one is refused and changes nothing', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 900 } });
    await page.goto(`${web.url}/customers/LATE?asOf=${COLLECTIONS_AS_OF}`);
    const collector = page.locator('#collections ~ p', { hasText: /^(Collector:|No collector)/ });
    expect(await collector.textContent()).toBe('No collector assigned.');
    expect(await page.locator('h3', { hasText: 'Calls and visits' }).textContent()).toBe(
      'Calls and visits logged (0)',
    );
    await page.locator('summary', { hasText: 'Assign a collector' }).click();
    await page.locator('#a-collector').fill('chen');
    await page.locator('#a-by').fill('fiona');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    expect(new URL(page.url()).pathname).toBe('/customers/LATE');
    expect(new URL(page.url()).searchParams.get('done')).toBe('collector-assigned');
    expect(await page.locator('p.done').textContent()).toBe(
      'The collector was assigned: the customer is on their list from today, on the audit trail with who had it before.',
    );
    expect((await collector.textContent())?.replace(/\s+/g, ' ')).toBe(
      'Collector: chen since 2026-03-31, assigned by fiona',
    );

    // Reassigned: the form says who has it now.
    await page.locator('summary', { hasText: 'Reassign' }).click();
    expect(await page.locator('#a-collector + .hint').textContent()).toContain('instead of chen');
    await page.locator('#a-collector').fill('li');
    await page.locator('#a-by').fill('fiona');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    expect((await collector.textContent())?.replace(/\s+/g, ' ')).toBe(
      'Collector: li since 2026-03-31, assigned by fiona',
    );
    const list = (await (await fetch(`${web.url}/api/collections`)).json()) as {
      customers: { customerId: string; collector?: string }[];
    };
    expect(list.customers.find((c) => c.customerId === 'LATE')?.collector).toBe('li');

    // A visit logged with what came of it, read back in the section's table.
    await page.locator('summary', { hasText: 'Log a call or visit' }).click();
    await page.locator('#l-channel').selectOption('visit');
    await page.locator('#l-outcome').selectOption('promised');
    await page.locator('#l-note').fill('half on Friday, the rest with the next order');
    await page.locator('#l-by').fill('li');
    await page.getByRole('button', { name: 'Log it' }).click();
    expect(new URL(page.url()).searchParams.get('done')).toBe('call-logged');
    expect(await page.locator('p.done').textContent()).toContain('The call was logged.');
    expect(await page.locator('h3', { hasText: 'Calls and visits' }).textContent()).toBe(
      'Calls and visits logged (1)',
    );
    expect(await page.locator('h3:text("Calls and visits") + div tbody tr td').allTextContents()).toEqual([
      '2026-03-31',
      'li',
      'visit',
      'promised',
      'half on Friday, the rest with the next order',
    ]);
    const [scroll, client] = (await page.evaluate(
      '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
    )) as [number, number];
    expect(scroll).toBeLessThanOrEqual(client);
    await page.screenshot({ path: '/tmp/credit-file-collectors-390.png', fullPage: true });

    // Refused through the page, each field named: a blank collector and a blank "by".
    await page.locator('summary', { hasText: 'Reassign' }).click();
    await page.locator('#a-collector').fill('   ');
    await page.locator('#a-by').fill(' ');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    expect(await page.locator('h1').textContent()).toBe('Collector not assigned');
    expect((await page.locator('.problem li').allTextContents()).map((t) => t.replace(/\s+/g, ' '))).toEqual([
      'Collector must be a person id (letters, digits, . _ @ -)',
      'By is required: who assigns it',
    ]);
    await page.getByRole('link', { name: 'Back to LATE' }).click();
    expect((await collector.textContent())?.replace(/\s+/g, ' ')).toBe(
      'Collector: li since 2026-03-31, assigned by fiona',
    );
    await page.close();

    // Posted by hand: a call with an outcome and a channel not on the list, a customer not on file.
    const post = (path: string, body: string) =>
      fetch(`${web.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
      });
    const bad = await post(
      '/collections/log',
      'customer=LATE&outcome=angry&channel=fax&by=li&back=/customers/LATE',
    );
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(text).toContain('Call not logged');
    expect(text).toContain(
      'must be one of reached, no-answer, left-message, wrong-contact, promised, disputed, refused',
    );
    expect(text).toContain('must be phone or visit');
    const nobody = await post(
      '/collections/assign',
      'customer=NOPE&collector=chen&by=fiona&back=/customers/NOPE',
    );
    expect(nobody.status).toBe(400);
    expect(await nobody.text()).toContain('no customer NOPE on file');
    // A GET changes nothing.
    expect((await fetch(`${web.url}/collections/assign?customer=LATE&collector=x&by=y`)).status).toBe(404);
    expect((await fetch(`${web.url}/collections/log?customer=LATE&outcome=reached&by=y`)).status).toBe(404);

    const late = await env.store.loadCustomerPartition('LATE');
    expect(late.assignment).toMatchObject({ collector: 'li', by: 'fiona', since: COLLECTIONS_AS_OF });
    expect(late.calls?.map((c) => [c.by, c.channel, c.outcome])).toEqual([['li', 'visit', 'promised']]);
    expect((await env.store.loadCustomerPartition('NOPE')).assignment).toBeUndefined();
    // On the audit trail with who had it before; the call is on the customer's file, as the CLI logs it.
    const assigned = (await auditStore().auditTrail()).filter((r) => r.kind === 'collector.assigned');
    expect(assigned.map((r) => [r.subject, r.actor, r.data])).toEqual([
      ['LATE', 'fiona', { collector: 'chen' }],
      ['LATE', 'fiona', { collector: 'li', before: 'chen' }],
    ]);
  });
});
