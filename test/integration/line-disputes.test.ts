import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisputeRefusedError, openDispute } from '../../functions/collections/app.ts';
import { portalHttp } from '../../functions/collections/portal.ts';
import { collectionsWorklist } from '../../functions/collections/worklist.ts';
import { addDays, dateInZone } from '../../functions/core/dates.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { portalUrl } from '../../functions/transfers/links.ts';
import { loadPolicy } from '../../infra/local/cli/credit.ts';
import { startConsole } from '../../infra/local/console/index.ts';
import { localAuditTrail, localCollectionsRun } from '../../infra/local/runtime/collections.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { localLinkKeys, mailDir } from '../../infra/local/runtime/transfers.ts';
import { sentinel } from './cli-run.ts';
import { collectionsDataDir, COLLECTIONS_AS_OF as DAY } from './collections-book.ts';
import { ingestText } from './read-meter.ts';
import { launchChromium } from './transfers-console.ts';

/**
 * A dispute on a line of an invoice (issue 17 item 5; README "Collections") on dynalite, through
 * every door: openDispute, the run's reminder and hand-over, the customer portal, the credit file's
 * form and the command line. The collections book as of 2026-03-31: LATE owes L1 (1,200.00 EUR, 9
 * days late), OLD O1 (800.00 GBP, 90 days) and O2 (400.00, 28), CN C1 (26,700.00 CNY, 21 days).
 *
 *   LATE contests 340.00 of L1 ("2 pallets damaged"): 860.00 demanded, 340.00 under review
 *   OLD contests 300.00 of O1 ("pallet 7"):           1,200.00 - 300.00 = 900.00 demanded
 *   CN contests 1,000.00 of C1 on the portal:          25,700.00 demanded
 *   LATE pays 1,000.00 of L1 on 2026-04-05:           200.00 open, all of it disputed, 0 demanded
 */
let dir: string;
let dataDir: string;

beforeAll(async () => {
  ({ dir, dataDir } = await collectionsDataDir('line-disputes-'));
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const at = { today: DAY, now: `${DAY}T09:00:00.000Z` };
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
const form = (url: string, fields: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });

describe('a dispute on a line of an invoice', () => {
  it('leaves the part out of the demand and chases the rest: worklist, reminder, hand-over, portal, credit file', async () => {
    const env = await openLocal({ dataDir });
    const audit = localAuditTrail(env.store, dataDir);
    const deps = { store: env.store, audit };
    const keys = await localLinkKeys(dataDir);
    let clock = new Date(`${DAY}T09:00:00Z`);
    const web = await startConsole({
      queries: new ReceivablesQueries(env.store),
      today: () => DAY,
      port: 0,
      credit: { store: env.store, policy: () => loadPolicy(env.store), collections: deps },
      portal: portalHttp({
        store: env.store,
        audit,
        policy: () => loadPolicy(env.store),
        keys: async () => keys,
        clock: { now: () => clock },
        today: () => clock.toISOString().slice(0, 10),
      }),
    });
    try {
      const policy = await loadPolicy(env.store);
      const req = {
        customerId: 'LATE',
        invoiceId: 'L1',
        reason: 'goods damaged in transit',
        owner: 'sales-tom',
        answerBy: '2026-04-15',
        openedBy: 'anna',
      };
      // Refused, each field named, nothing written.
      const refused = await openDispute(
        deps,
        { ...req, amount: '1,200.01', line: 'x'.repeat(201) },
        at,
      ).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(DisputeRefusedError);
      expect((refused as DisputeRefusedError).message).toBe(
        'amount: is more than the 1,200.00 EUR open on L1 on 2026-03-31; line: is longer than 200 characters',
      );
      await expect(openDispute(deps, { ...req, amount: '340.001' }, at)).rejects.toThrow(
        /^amount: .*\(EUR\)$/,
      );
      expect((await env.store.loadCustomerPartition('LATE')).disputes).toEqual([]);

      const { dispute } = await openDispute(
        deps,
        { ...req, amount: '340.00', line: '2 pallets damaged' },
        at,
      );
      expect(dispute).toMatchObject({ amount: 34_000, currency: 'EUR', line: '2 pallets damaged' });
      await openDispute(
        deps,
        {
          ...req,
          customerId: 'OLD',
          invoiceId: 'O1',
          reason: 'short delivery',
          amount: '300',
          line: 'pallet 7',
        },
        at,
      );
      const opened = (await audit.auditTrail()).filter((r) => r.kind === 'dispute.opened');
      expect(opened.map((r) => r.data)).toEqual([
        expect.objectContaining({
          invoiceId: 'L1',
          amount: 34_000,
          currency: 'EUR',
          line: '2 pallets damaged',
        }),
        expect.objectContaining({ invoiceId: 'O1', amount: 30_000, currency: 'GBP', line: 'pallet 7' }),
      ]);

      // The worklist: the rest of each invoice demanded, the part set apart.
      const list = await collectionsWorklist(env.store, policy, DAY);
      const late = list.find((e) => e.customerId === 'LATE');
      expect(late?.totals).toEqual({
        overdue: 86_000,
        disputed: 34_000,
        notDue: 0,
        unappliedCash: 0,
        demand: 86_000,
      });
      expect(late?.send?.name).toBe('friendly');
      expect(list.find((e) => e.customerId === 'OLD')?.totals).toMatchObject({
        demand: 90_000,
        disputed: 30_000,
      });

      // The run's reminder, as a mail client reads it: 860.00 demanded, the 340.00 shown with its line.
      const run = await localCollectionsRun(
        { store: env.store, dataDir, now: () => clock, portalBaseUrl: web.url },
        policy,
        { asOf: DAY, claimant: 'run-1' },
      );
      expect(run.steps.map((s) => [s.customerId, s.level, s.demand]).sort()).toEqual([
        ['CN', 'firm', 2_670_000],
        ['LATE', 'friendly', 86_000],
        ['OLD', 'final', 90_000],
      ]);
      const [file] = (await readdir(mailDir(dataDir))).filter((f) => f.endsWith('.eml'));
      const mail = await simpleParser(await readFile(join(mailDir(dataDir), file as string)));
      expect(mail.subject).toContain('860.00 EUR overdue');
      const body = mail.text ?? '';
      expect(body).toContain('Amount due now: 860.00 EUR');
      expect(body).toContain(
        '- L1: issued 2026-02-20, due 2026-03-22, 9 days overdue; amount 1,200.00 EUR, open 860.00 EUR\n' +
          '  340.00 EUR of it is disputed and left out of the amount due (see below)',
      );
      expect(body).toContain(
        '- L1: issued 2026-02-20, due 2026-03-22, 9 days overdue; amount 1,200.00 EUR, open 340.00 EUR\n' +
          '  Disputed: 2 pallets damaged (340.00 EUR of the 1,200.00 EUR open)',
      );
      expect(body).toContain('Total disputed, not included: 340.00 EUR');
      expect(text(mail.html || '')).toContain(
        'Disputed: 2 pallets damaged (340.00 EUR of the 1,200.00 EUR open)',
      );
      // The statement reconciles: L1's two rows add up to what is open, the overdue ones to the demand.
      const csv = (mail.attachments[0]?.content.toString('utf8') ?? '').replace(/^\uFEFF/, '').split('\r\n');
      expect(csv).toContain('LATE,L1,overdue,2026-02-20,2026-03-22,9,EUR,1200.00,860.00');
      expect(csv).toContain('LATE,L1,disputed,2026-02-20,2026-03-22,9,EUR,1200.00,340.00');
      expect(csv).toContain('LATE,,Amount demanded,,,,EUR,,860.00');

      // The hand-over to legal a week later carries the part disputed, the rest demanded.
      await localCollectionsRun(
        { store: env.store, dataDir, now: () => new Date('2026-04-07T07:00:00Z') },
        policy,
        { asOf: '2026-04-07', claimant: 'run-2', customerIds: ['OLD'] },
      );
      const handover = (await env.store.loadCustomerPartition('OLD')).handovers?.at(-1);
      expect(handover).toMatchObject({
        demand: 90_000,
        overdue: [
          { invoiceId: 'O1', open: 50_000 },
          { invoiceId: 'O2', open: 40_000 },
        ],
        disputed: [{ invoiceId: 'O1', open: 30_000, invoiceOpen: 80_000, line: 'pallet 7' }],
      });

      // The portal: the reminder's link shows the rest due and the part under review; L1 has its dispute.
      const link = /(http:\/\/127\.0\.0\.1:\d+\/portal\/[\w-]+\.[\w-]+)/.exec(body)?.[1] as string;
      const page = text(await (await fetch(link)).text());
      expect(page).toContain('Amount due now: 860.00 EUR');
      expect(page).toContain('L1 2026-02-20 2026-03-22 9 1,200.00 EUR 860.00 EUR');
      expect(page).toContain('340.00 EUR of invoice L1 is under review; we will answer by 2026-04-15.');
      expect(page).toContain('No open invoice is left to dispute.');
      // Read on a phone and a desktop, the reminder and the page: nothing scrolls sideways, the
      // notes are on screen (screenshots in /tmp/line-dispute-*.png).
      const browser = await launchChromium();
      try {
        for (const width of [1280, 390])
          for (const [name, open] of [
            ['portal', (tab: Page) => tab.goto(link)],
            // A tab of its own: the portal's CSP would hold the reminder's inline styles back.
            ['reminder', (tab: Page) => tab.setContent(mail.html || '')],
          ] as const) {
            const tab = await browser.newPage({ viewport: { width, height: 900 } });
            await open(tab);
            const [scroll, client] = (await tab.evaluate(
              '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
            )) as [number, number];
            expect(scroll, `${name} at ${width} px`).toBeLessThanOrEqual(client);
            await expect(
              tab.getByText('Disputed: 2 pallets damaged (340.00 EUR of the 1,200.00 EUR open)').isVisible(),
            ).resolves.toBe(true);
            await tab.screenshot({ path: `/tmp/line-dispute-${name}-${width}.png`, fullPage: true });
            await tab.close();
          }
      } finally {
        await browser.close();
      }
      // CN disputes a part of C1 there, in Chinese: refused first, each field named, then opened.
      const cn = portalUrl(web.url, keys, 'CN', { on: DAY, level: 'firm' }, 30);
      const fields = { invoice: 'C1', reason: 'amount', comment: '运费重复收取', name: '王会计' };
      const bad = await form(`${cn}/dispute`, { ...fields, amount: '30,000.00', line: 'x'.repeat(201) });
      expect(bad.status).toBe(400);
      const badPage = text(await bad.text());
      expect(badPage).toContain('金额: is more than the 26,700.00 CNY open on C1 on 2026-03-31');
      expect(badPage).toContain('哪一行: is longer than 200 characters');
      expect((await env.store.loadCustomerPartition('CN')).disputes).toEqual([]);
      const good = await form(`${cn}/dispute`, { ...fields, amount: '1,000.00', line: '运费' });
      expect(good.status).toBe(303);
      expect((await env.store.loadCustomerPartition('CN')).disputes).toEqual([
        expect.objectContaining({
          amount: 100_000,
          currency: 'CNY',
          line: '运费',
          openedBy: '王会计 (CN, portal)',
        }),
      ]);
      const cnPage = text(await (await fetch(cn)).text());
      expect(cnPage).toContain('应付金额： 25,700.00 CNY');
      expect(cnPage).toContain('发票 C1 中的 1,000.00 CNY 正在核查中，我们将在 2026-04-10 前答复。');
      expect(cnPage).toContain('争议内容：运费（未付 26,700.00 CNY 中的 1,000.00 CNY）');

      // The credit file's form: OLD's O2, a part too big refused, then opened with its line.
      const post = (fields: Record<string, string>) =>
        form(`${web.url}/collections/dispute`, {
          customer: 'OLD',
          invoice: 'O2',
          reason: 'lid missing',
          owner: 'sales-tom',
          answerBy: '2026-04-15',
          by: 'anna',
          back: '/customers/OLD',
          ...fields,
        });
      const tooBig = await post({ amount: '400.01' });
      expect(tooBig.status).toBe(400);
      expect(text(await tooBig.text())).toContain(
        'Amount is more than the 400.00 GBP open on O2 on 2026-03-31',
      );
      expect((await post({ amount: '150.00', line: 'lid of crate 2' })).status).toBe(303);
      const credit = text(await (await fetch(`${web.url}/customers/OLD?asOf=${DAY}`)).text());
      expect(credit).toContain('Disputes (2 open)');
      expect(credit).toContain('O1 300.00 GBP of it (line: pallet 7) short delivery');
      expect(credit).toContain('O2 150.00 GBP of it (line: lid of crate 2) lid missing');
      expect(credit).toContain('disputed 300.00 GBP of it: pallet 7');
      // 1,200.00 open, 450.00 disputed: (1,200.00 - 450.00) / 400.00 x 90 = 168.75.
      expect(credit).toContain('Disputed 450.00 GBP');
      expect(credit).toContain('Undisputed DSO 168.8 (the 450.00 GBP disputed left out)');
      // Both invoices have their dispute: none is left to open one on.
      expect(credit).not.toContain('Open a dispute');

      // LATE pays 1,000.00 of L1 on 2026-04-05: 200.00 open, all of it disputed, nothing demanded.
      clock = new Date('2026-04-06T09:00:00Z');
      await ingestText(
        env,
        'payments/later.csv',
        'payment_id,customer_id,received_date,amount,currency,invoice_id\nPL1,LATE,2026-04-05,1000.00,EUR,L1',
        clock,
      );
      const paid = (await collectionsWorklist(env.store, policy, '2026-04-06')).find(
        (e) => e.customerId === 'LATE',
      );
      expect(paid?.totals).toEqual({ overdue: 0, disputed: 20_000, notDue: 0, unappliedCash: 0, demand: 0 });
      expect(paid?.why).toBe('only disputed items are overdue: nothing is chased while they are disputed');
      const after = await new ReceivablesQueries(env.store).customer('LATE', '2026-04-06');
      expect(after?.statement.summary.disputedAmount).toBe(20_000);
      expect(after?.undisputedDso).toBe(0);
      expect(text(await (await fetch(link)).text())).toContain('Nothing is overdue today. Thank you.');
    } finally {
      await web.close();
      await env.close();
    }
  }, 120_000);

  // On what the test above left in the data dir, as of today (the CLI's day).
  it('from the command line: opened with --amount and --line, listed, counted, refused with the flag named', async () => {
    const cli = (...args: string[]) => sentinel([...args, '--data-dir', dataDir], dir);
    const today = dateInZone(new Date(), 'UTC');
    const answerBy = addDays(today, 20);
    const disputes = await cli('collections', 'disputes', 'LATE');
    expect(disputes.stdout).toMatch(
      /L1\s+DSP-\S+\s+2026-03-31\s+sales-tom\s+2026-04-15\s+\d+\s+open, answer late\s+340\.00 EUR\s+goods damaged in transit \(line: 2 pallets damaged\)/,
    );
    const handover = await cli('collections', 'handover', 'OLD');
    expect(handover.stdout).toContain(
      'disputed, not demanded: O1 300.00 GBP of 800.00 GBP open (line: pallet 7)',
    );

    // O2's dispute resolved, another opened on a part of it.
    expect(
      (await cli('collections', 'resolve', 'OLD', 'O2', '--outcome', 'credit-note', '--by', 'tom')).code,
    ).toBe(0);
    const args = [
      'collections',
      'dispute',
      'OLD',
      'O2',
      '--reason',
      'short delivery',
      '--owner',
      'sales-tom',
    ];
    const more = ['--answer-by', answerBy, '--by', 'anna'];
    const refused = await cli(...args, '--amount', '400.01', '--line', 'x'.repeat(201), ...more);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `sentinel: dispute not opened: --amount is more than the 400.00 GBP open on O2 on ${today}; --line is longer than 200 characters`,
    );
    const opened = await cli(...args, '--amount', '100.00', '--line', 'lid missing', ...more);
    expect(opened.stderr).toBe('');
    expect(opened.stdout).toMatch(
      new RegExp(
        `^opened: DSP-\\S+ on O2 of OLD \\("short delivery"\\), 100\\.00 GBP of it \\(line: lid missing\\), owner sales-tom, answer by ${answerBy}; that part left out of every demand until resolved\n$`,
      ),
    );
    // Today OLD owes 500.00 of O1 and 300.00 of O2; 400.00 is disputed. Amounts as decimals, the
    // invoices' open amounts beside their parts.
    const list = JSON.parse((await cli('collections', '--json')).stdout) as {
      customers: {
        customerId: string;
        totals: Record<string, string>;
        overdue: { invoiceId: string; open: string; invoiceOpen?: string }[];
        disputed: { invoiceId: string; open: string; line?: string }[];
      }[];
    };
    const old = list.customers.find((c) => c.customerId === 'OLD');
    expect(old?.totals).toMatchObject({ overdue: '800.00', disputed: '400.00', demand: '800.00' });
    expect(old?.overdue.map((i) => [i.invoiceId, i.open, i.invoiceOpen])).toEqual([
      ['O1', '500.00', '800.00'],
      ['O2', '300.00', '400.00'],
    ]);
    expect(old?.disputed.map((i) => [i.invoiceId, i.open, i.line])).toEqual([
      ['O1', '300.00', 'pallet 7'],
      ['O2', '100.00', 'lid missing'],
    ]);
    // The dispute resolved keeps its part and line under the one now open on O2.
    const old2 = (await cli('collections', 'disputes', 'OLD')).stdout;
    expect(old2).toMatch(/O2\s+DSP-\S+.*open\s+100\.00 GBP\s+short delivery \(line: lid missing\)/);
    expect(old2).toMatch(
      /O2\s+DSP-\S+.*credit-note \(\S+\)\s+150\.00 GBP\s+lid missing \(line: lid of crate 2\)/,
    );
    const customer = JSON.parse((await cli('customer', 'OLD', '--json')).stdout);
    expect(customer.disputedAmount).toBe('400.00');
    expect(customer.openItems[0]).toMatchObject({
      invoiceId: 'O1',
      disputed: true,
      disputedAmount: '300.00',
      disputeLine: 'pallet 7',
    });
    expect((await cli('customer', 'OLD')).stdout).toMatch(
      /O1\s+2025-12-01\s+2025-12-31\s+800\.00\s+800\.00\s+\d+\s+\w+\s+300\.00/,
    );
    const help = await sentinel(['help', 'collections', 'dispute'], dir);
    expect(help.stdout).toContain('--amount A');
    expect(help.stdout).toContain('--line TEXT');
    expect((await cli('audit', 'verify')).code).toBe(0);
  }, 120_000);
});
