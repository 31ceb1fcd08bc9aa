import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dunningAsOf } from '../../functions/collections/dunning.ts';
import { type ReminderLanguage, reminderEmail } from '../../functions/collections/reminder.ts';
import { type CustomerBooks, statementAsOf } from '../../functions/core/receivables.ts';
import type { Invoice } from '../../functions/core/records.ts';
import { type CollectionsPolicy, parsePolicy } from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * The reminder's HTML part as a customer sees it, in a real headless Chromium (Debian's, driven by
 * playwright-core, as test/integration/approval-browser.test.ts does): at a desktop's 1280 px and a
 * phone's 390 px nothing scrolls sideways, and the amount demanded is on screen. The book is the
 * hard case for a phone: long invoice ids, seven-figure amounts, a long name and remittance line.
 */

const CHROMIUM = '/usr/bin/chromium';
const parsed = parsePolicy(DEFAULT_POLICY_DOCUMENT);
if (!parsed.ok) throw new Error('the default policy is invalid');
const plan = parsed.policy.collections as CollectionsPolicy;

const inv = (
  invoiceId: string,
  dueDate: string,
  amount: number,
  disputed = false,
  currency = 'EUR',
): Invoice => ({
  customerId: 'C-2026-000417',
  invoiceId,
  issueDate: '2026-01-02',
  dueDate,
  amount,
  currency,
  disputed,
});
const books: CustomerBooks = {
  customerId: 'C-2026-000417',
  currency: 'EUR',
  invoices: [
    inv('INV-2026-DE-0000012345-A', '2026-03-01', 123_456_789),
    inv('INV-2026-DE-0000012346', '2026-03-10', 9_876_543),
    inv('INV-2026-DE-0000012347', '2026-02-01', 55_000_000, true),
    inv('INV-2026-DE-0000012348', '2026-04-30', 1_250_000),
    inv('INV-2026-US-0000000099', '2026-03-01', 4_500_000, false, 'USD'),
  ],
  payments: [
    {
      customerId: 'C-2026-000417',
      paymentId: 'P1',
      receivedDate: '2026-03-20',
      amount: 1_000_000,
      currency: 'EUR',
      invoiceIds: ['UNKNOWN-1'],
    },
  ],
};
const dunning = dunningAsOf('C-2026-000417', statementAsOf(books, '2026-03-31'), plan);

const html = (language: ReminderLanguage) =>
  reminderEmail({
    dunning,
    customer: {
      customerId: 'C-2026-000417',
      name:
        language === 'zh'
          ? '上海浦东新区国际贸易与供应链管理有限责任公司'
          : 'Internationale Handels- und Logistikgesellschaft Süddeutschland mbH & Co. KG',
      contactName: language === 'zh' ? '张伟' : 'Maria Schmidt-Oberhausen',
      language,
    },
    creditor: {
      name: 'Northwind Supplies Ltd',
      remittance: [
        'Bank: Example Bank AG, Frankfurt am Main',
        'IBAN: DE89370400440532013000DE89370400440532013000',
        'Reference: C-2026-000417',
      ],
    },
    portalUrl: 'https://portal.example.com/statements/C-2026-000417?token=0123456789abcdef0123456789abcdef',
  }).html;

let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install it with 'apt-get install -y chromium' (.ci/run does).`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
});

describe('the reminder email in a browser', () => {
  // 1,234,567.89 overdue + 98,765.43 overdue - 10,000.00 unapplied
  it('the worked example demands 1,323,333.32 EUR', () => {
    expect(dunning.totals.demand).toBe(132_333_332);
    expect(dunning.send?.template).toBe('final');
  });

  for (const language of ['en', 'zh'] as const)
    for (const width of [1280, 390])
      it(`${language} at ${width} px: no sideways scrolling, the demand on screen`, async () => {
        const page = await (browser as Browser).newPage({ viewport: { width, height: 900 } });
        try {
          await page.setContent(html(language), { waitUntil: 'load' });
          const [scrollWidth, innerWidth] = (await page.evaluate(
            '[document.scrollingElement.scrollWidth, window.innerWidth]',
          )) as [number, number];
          expect(innerWidth).toBe(width);
          expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
          const demand = page.getByText(
            language === 'zh' ? '应付金额：1,323,333.32 EUR' : 'Amount due now: 1,323,333.32 EUR',
          );
          await expect(demand.isVisible()).resolves.toBe(true);
          const box = await demand.boundingBox();
          // Inside the first screen, fully.
          expect(box).not.toBeNull();
          expect((box?.x ?? -1) >= 0 && (box?.x ?? 0) + (box?.width ?? 0) <= width).toBe(true);
          expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(900);
          // Every table cell inside the window too (a table can overflow its own box without
          // the page scrolling when something clips it).
          const widest = (await page.evaluate(
            "Math.max(...[...document.querySelectorAll('td,th,table')].map((e) => e.getBoundingClientRect().right))",
          )) as number;
          expect(widest).toBeLessThanOrEqual(width);
        } finally {
          await page.close();
        }
      });
});
