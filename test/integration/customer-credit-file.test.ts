import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoReviewStore } from '../../functions/adapters/dynamodb-reviews.ts';
import type { Alert } from '../../functions/credit/alerts.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import type { LimitChange } from '../../functions/reviews/ports.ts';
import type { Transfer } from '../../functions/transfers/ports.ts';
import type { RunningConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import type { LocalTransfers } from '../../infra/local/runtime/transfers.ts';
import { memoryUpload } from './helpers.ts';
import { rows, text } from './pages.ts';
import { launchChromium, startTransfersConsole } from './transfers-console.ts';

/**
 * The customer page as a credit file, on the real local stack (dynalite, the transfer workflow):
 * a customer with fifteen months of invoices and payments, a guarantee that expired and one that
 * expires soon, credit insurance, an agency score, a limit cut by a review and raised by an
 * approved change, transfers asked for it, and an active alert answered from its page. Every
 * figure asserted below is worked out by hand from the rows here.
 */

const ASOF = '2026-06-15';
const ID = 'C-FILE';
const PAGE = `/customers/${ID}?asOf=${ASOF}`;

const CUSTOMERS = [
  'customer_id,name,country,industry,currency,payment_terms_days,credit_limit',
  `${ID},Filed Fasteners GmbH,DE,manufacturing,EUR,30,50000.00`,
].join('\n');

const INVOICES = [
  'invoice_id,customer_id,issue_date,due_date,amount,currency',
  `A1,${ID},2025-04-01,2025-05-01,1000.00,EUR`, // paid 04-28
  `A2,${ID},2025-07-01,2025-07-31,2000.00,EUR`, // paid 09-15
  `A3,${ID},2025-09-01,2025-10-01,3000.00,EUR`, // 1,000.00 paid 2026-01-20, the rest never
  `A4,${ID},2025-11-20,2025-12-20,4000.00,EUR`, // paid 2026-02-10
  `A5,${ID},2025-12-15,2026-01-14,5000.00,EUR`, // never paid
  `A6,${ID},2026-03-10,2026-04-09,6000.00,EUR`, // never paid
  `A7,${ID},2026-05-05,2026-06-04,1500.00,EUR`, // never paid
].join('\n');

const PAYMENTS = [
  'payment_id,customer_id,received_date,amount,currency,invoice_id',
  `P1,${ID},2025-04-28,1000.00,EUR,A1`,
  `P2,${ID},2025-09-15,2000.00,EUR,A2`,
  `P3,${ID},2026-01-20,1000.00,EUR,A3`,
  `P4,${ID},2026-02-10,4000.00,EUR,A4`,
].join('\n');

const GUARANTEES = [
  'guarantee_id,customer_id,issuer,amount,currency,valid_from,expiry_date',
  `G-OLD,${ID},Hausbank AG,8000.00,EUR,2025-01-01,2026-05-01`, // expired 45 days before 06-15
  `G-NEW,${ID},Landesbank Nord,10000.00,EUR,2026-05-01,2026-07-15`, // expires in 30 days
].join('\n');

const INSURANCE = [
  'policy_id,customer_id,insurer,insured_share,cap,currency,valid_from,expiry_date',
  `INS-7,${ID},Allianz Trade,90%,20000.00,EUR,2026-01-01,2026-12-31`, // expires in 199 days
].join('\n');

const SCORES = ['customer_id,agency,score_date,score,scale_max', `${ID},Creditreform,2026-04-01,72,100`].join(
  '\n',
);

/*
 * Aging as of 2025-12-31: A1, A2 settled; A3 3,000.00 open, due 10-01: 91 days past due -> 91-180;
 * A4 4,000.00, due 12-20: 11 days -> 1-30; A5 5,000.00, due 2026-01-14: not due. Total 12,000.00.
 * Aging as of 2026-03-31: A3 2,000.00 open (1,000.00 paid 01-20), 181 days past due -> 180+; A4
 * settled 02-10; A5 5,000.00, due 01-14: 76 days -> 61-90; A6 6,000.00, due 04-09: not due.
 * Total 13,000.00.
 */
const AGING_DEC = [
  '2025-12-31',
  '5,000.00 EUR',
  '4,000.00 EUR',
  '0.00 EUR',
  '0.00 EUR',
  '3,000.00 EUR',
  '0.00 EUR',
  '12,000.00 EUR',
];
const AGING_MAR = [
  '2026-03-31',
  '6,000.00 EUR',
  '0.00 EUR',
  '0.00 EUR',
  '5,000.00 EUR',
  '0.00 EUR',
  '2,000.00 EUR',
  '13,000.00 EUR',
];

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let web: RunningConsole;
let browser: Browser | undefined;
const asked: Transfer[] = [];

async function load(kind: Kind, csv: string, on: string): Promise<void> {
  const r = await ingest(
    {
      store: env.store,
      notifier: { customersChanged: async () => {} },
      clock: { now: () => new Date(`${on}T08:00:00Z`) },
      timeZone: 'UTC',
    },
    memoryUpload(kind, csv),
  );
  if (r.rejected > 0 || r.status !== 'processed') throw new Error(`${kind}: ${JSON.stringify(r)}`);
}

const get = async (path: string) => {
  const res = await fetch(`${web.url}${path}`);
  return { status: res.status, body: await res.text() };
};

/** The part of a page from the element with this id (or the heading) to the next <h2>. */
function part(page: string, marker: string): string {
  const start = page.indexOf(marker);
  if (start < 0) throw new Error(`no ${marker} on the page`);
  const end = page.indexOf('<h2', start + marker.length);
  return page.slice(start, end < 0 ? undefined : end);
}

/** The rows of the table with this id, header row first. */
const table = (page: string, id: string) => {
  const start = page.indexOf(`<table id="${id}"`);
  if (start < 0) throw new Error(`no table #${id}`);
  return rows(page.slice(start, page.indexOf('</table>', start)));
};

const alert: Alert = {
  alertId: `${ID}/daysPastDue/${ASOF}`,
  customerId: ID,
  rule: 'daysPastDue',
  status: 'open',
  severity: 'critical',
  action: 'review',
  summary: 'A3 is 257 days past due',
  evidence: { maxDaysPastDue: 257 },
  policyId: 'test-policy',
  openedAt: `${ASOF}T05:00:00.000Z`,
  openedAsOf: ASOF,
  seenAsOf: ASOF,
  notifiedSeverity: 'critical',
  history: [{ at: `${ASOF}T05:00:00.000Z`, event: 'opened', severity: 'critical' }],
};

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  dir = await mkdtemp(join(tmpdir(), 'credit-file-'));
  // The master data (limit 50,000.00) uploaded on 2025-03-15, the rest since.
  await load('customers', CUSTOMERS, '2025-03-15');
  for (const [kind, csv] of [
    ['invoices', INVOICES],
    ['payments', PAYMENTS],
    ['guarantees', GUARANTEES],
    ['insurance', INSURANCE],
    ['scores', SCORES],
  ] as const)
    await load(kind, csv, ASOF);

  // A review cut the limit to 30,000.00 on 2025-10-31 (as the review app carries a cut out: the
  // master data's limit, and the change's record kept by the batch); an approved credit release
  // raised it to 40,000.00 on 2026-02-01 (as the transfer app's `setLimits` writes it).
  const reviews = new DynamoReviewStore({ client: env.store.client, tableName: env.store.tableName });
  const cut: LimitChange = {
    customerId: ID,
    currency: 'EUR',
    from: 5_000_000,
    to: 3_000_000,
    on: '2025-10-31',
    at: '2025-10-31T06:00:00.000Z',
    by: 'periodic-review',
    reviewId: 'RV-2025-10-31/C-FILE',
    reason: 'cut to the recommendation: 95 days past due',
  };
  await reviews.updateProfileLimit(cut);
  await reviews.completeBatch({ reviews: [], states: [], limitChanges: [cut] });
  await reviews.setCreditLimit({
    customerId: ID,
    currency: 'EUR',
    from: 3_000_000,
    to: 4_000_000,
    on: '2026-02-01',
    at: '2026-02-01T10:00:00.000Z',
    by: 'approval chain',
    reviewId: 'RV-2026-01-31/C-FILE',
    reason: 'credit limit increase TR-01KFILE0000000000000000000 approved at every level',
  });
  await env.store.saveEvaluation([{ customerId: ID, alerts: [alert] }]);

  ({ transfers, web } = await startTransfersConsole(env, dir));
  for (const [type, amount] of [
    ['refund', '500.00'],
    ['rebate', '250.00'],
  ] as const) {
    const r = await transfers.app.request({
      customerId: ID,
      type,
      amount,
      currency: 'EUR',
      beneficiaryName: 'Filed Fasteners GmbH',
      beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
      reason: `${type} of ${amount}`,
      requester: 'rita',
    });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    asked.push(r.transfer);
    await new Promise((ok) => setTimeout(ok, 5)); // distinct request instants: newest first is defined
  }
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await transfers?.idle();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('the customer page as a credit file', () => {
  it('shows the aging at each of the last 12 month-ends, two of them as worked out by hand', async () => {
    const r = await get(PAGE);
    expect(r.status).toBe(200);
    const aging = table(r.body, 'aging-history');
    expect(aging[0]).toEqual([
      'Month-end',
      'Not due',
      '1–30',
      '31–60',
      '61–90',
      '91–180',
      '180+',
      'Total open',
    ]);
    expect(aging.slice(1).map((x) => x[0])).toEqual([
      '2025-06-30',
      '2025-07-31',
      '2025-08-31',
      '2025-09-30',
      '2025-10-31',
      '2025-11-30',
      '2025-12-31',
      '2026-01-31',
      '2026-02-28',
      '2026-03-31',
      '2026-04-30',
      '2026-05-31',
    ]);
    expect(aging.find((x) => x[0] === '2025-12-31')).toEqual(AGING_DEC);
    expect(aging.find((x) => x[0] === '2026-03-31')).toEqual(AGING_MAR);
    // The chart: an image with its title, scaled by the stylesheet, no inline style.
    const chart = part(r.body, '<svg id="aging-chart"');
    expect(chart).toContain('class="chart" role="img"');
    expect(text(chart)).toContain('Aging at each month-end, 2025-06-30 to 2026-05-31, in EUR');
    expect(r.body).not.toMatch(/ style=/);
  });

  it('shows months before the first invoice as no data, not as zero', async () => {
    const r = await get(`/customers/${ID}?asOf=2025-06-15`);
    const aging = table(r.body, 'aging-history');
    // 2024-06-30 .. 2025-03-31 come before A1 (issued 2025-04-01): no data; 2025-04-30 A1 was paid.
    expect(aging[1]).toEqual(['2024-06-30', 'no data: before the first invoice']);
    expect(aging.find((x) => x[0] === '2025-03-31')).toEqual([
      '2025-03-31',
      'no data: before the first invoice',
    ]);
    expect(aging.find((x) => x[0] === '2025-04-30')?.at(-1)).toBe('0.00 EUR');
    expect(table(r.body, 'score-history').find((x) => x[0] === '2025-03-31')).toEqual([
      '2025-03-31',
      'no data: before the first invoice',
    ]);
  });

  it('shows the score and rating at each month-end: the assessment the page gives as of that day', async () => {
    const history = table((await get(PAGE)).body, 'score-history');
    expect(history[0]).toEqual(['Month-end', 'Score', 'Rating', 'Risk class']);
    expect(history).toHaveLength(13);
    /*
     * As of 2025-06-30 (the shipped policy): A1 is the only invoice, paid 04-28 before its due date,
     * nothing open. Mean and weighted days late 0 -> 10 + 10; share paid late 0 -> 8; max days
     * past due 0 -> 12; overdue share 0 -> 8; exposure to sales 0 months -> 8; no financial
     * statement: current, quick, debt ratio and Altman Z'' neutral 2 + 2 + 2 + 4; 2 months of
     * history -> 0; the agency score is dated 2026-04-01, after the date: neutral 2; nothing owed,
     * so cover is not computable: neutral 2; manufacturing is medium risk -> 2. 72 of 100: B, low.
     */
    expect(history[1]).toEqual(['2025-06-30', '72', 'B', 'low']);
    const march = history.find((x) => x[0] === '2026-03-31') as string[];
    // The same customer's page as of 2026-03-31 assesses it live: the history's row is that assessment.
    const then = (await get(`/customers/${ID}?asOf=2026-03-31`)).body;
    const head = text(part(then, '<h2>Credit assessment as of 2026-03-31'));
    expect(head).toContain(`Score ${march[1]}/100 Rating ${march[2]} Risk class ${march[3]}`);
    expect(Number(march[1])).toBeGreaterThanOrEqual(0);
    expect(['A', 'B', 'C', 'D', 'E']).toContain(march[2]);
    expect(text(part(then, '<svg id="score-chart"'))).toContain(`${march[2]}`);
  });

  it('lists every change of the credit limit with its date and reason', async () => {
    const r = await get(PAGE);
    const limits = table(r.body, 'limit-history');
    expect(limits[0]).toEqual(['On', 'From', 'To', 'By', 'Reason', 'Record']);
    expect(limits.slice(1).map((x) => x.slice(0, 5))).toEqual([
      [
        '2026-02-01',
        '30,000.00 EUR',
        '40,000.00 EUR',
        'approved change',
        'credit limit increase TR-01KFILE0000000000000000000 approved at every level',
      ],
      [
        '2025-10-31',
        '50,000.00 EUR',
        '30,000.00 EUR',
        'periodic review',
        'cut to the recommendation: 95 days past due',
      ],
      [
        '2025-03-15',
        'none',
        '50,000.00 EUR',
        'master data upload',
        'the credit limit of the customers file uploaded',
      ],
    ]);
    expect(limits[1]?.[5]).toContain('transfer TR-01KFILE0000000000000000000');
    expect(text(part(r.body, '<h2>Credit limit history'))).toContain(
      "Built from the limit records kept on the customer's file",
    );
    expect(r.body).toContain('<svg id="limit-chart"');
  });

  it('shows the guarantees, the insurance and the agency score with their expiry as of the date', async () => {
    const r = await get(PAGE);
    const g = table(r.body, 'guarantees');
    expect(g.slice(1).map((x) => x.slice(0, 6))).toEqual([
      ['G-NEW', 'Landesbank Nord', '10,000.00 EUR', '2026-05-01', '2026-07-15', 'expires in 30 days'],
      ['G-OLD', 'Hausbank AG', '8,000.00 EUR', '2025-01-01', '2026-05-01', 'expired 45 days ago'],
    ]);
    expect(g[1]?.[6]).toBe('10,000.00 EUR (counted in full)');
    const ins = table(r.body, 'insurance');
    expect(ins[1]?.slice(0, 7)).toEqual([
      'INS-7',
      'Allianz Trade',
      '90.0%',
      '20,000.00 EUR',
      '2026-01-01',
      '2026-12-31',
      'expires in 199 days',
    ]);
    const sc = table(r.body, 'agency-scores');
    expect(sc[1]).toEqual(['Creditreform', '2026-04-01', '72 of 100', '72', "75 days old · the scorecard's"]);
  });

  it("lists the customer's transfers, newest first, with links", async () => {
    const r = await get(PAGE);
    const list = table(r.body, 'transfers-of-customer');
    expect(list[0]).toEqual([
      'Requested',
      'Transfer',
      'Type',
      'Amount',
      'Status',
      'Approved',
      'Paid',
      'Outcome',
    ]);
    const [refund, rebate] = asked as [Transfer, Transfer];
    expect(list.slice(1).map((x) => x.slice(0, 4))).toEqual([
      [rebate.requestedOn, rebate.transferId, 'Rebate', '250.00 EUR'],
      [refund.requestedOn, refund.transferId, 'Refund', '500.00 EUR'],
    ]);
    for (const t of asked)
      expect(r.body).toContain(`<a href="/transfers/${t.transferId}">${t.transferId}</a>`);
  });

  it('acknowledges an alert from the customer page and lands back on it', async () => {
    const page = (await get(PAGE)).body;
    const alerts = part(page, '<div class="wrap" id="active-alerts">');
    expect(alerts).toContain(`name="back" value="/customers/${ID}?asOf=${ASOF}"`);
    const res = await fetch(`${web.url}/alerts/answer`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([
        ['id', alert.alertId],
        ['back', `/customers/${ID}?asOf=${ASOF}`],
        ['actor', 'olga'],
        ['note', 'called the buyer'],
        ['action', 'ack'],
      ]).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/customers/${ID}?asOf=${ASOF}&did=ack&n=1`);
    const back = (await get(res.headers.get('location') as string)).body;
    expect(text(part(back, '<p class="done"'))).toContain('1 alert acknowledged.');
    const active = rows(part(back, '<div class="wrap" id="active-alerts">')).slice(1);
    expect(active[0]?.slice(0, 3)).toEqual([
      'critical',
      'daysPastDue',
      'acknowledged by olga (called the buyer)',
    ]);
  });

  it('goes back only to a customer page or the alerts, never elsewhere', async () => {
    // An alert no longer active is refused: the page links back to where the form came from.
    const backOf = async (back: string) => {
      const res = await fetch(`${web.url}/alerts/answer`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams([
          ['id', `${ID}/limitUse`],
          ['back', back],
          ['action', 'ack'],
        ]).toString(),
      });
      expect(res.status).toBe(409);
      return /<a href="([^"]*)">Back to the alerts<\/a>/.exec(await res.text())?.[1];
    };
    expect(await backOf(`/customers/${ID}?asOf=${ASOF}`)).toBe(`/customers/${ID}?asOf=${ASOF}`);
    expect(await backOf(`/customers/${ID}?asOf=not-a-date`)).toBe(`/customers/${ID}`);
    expect(await backOf('/customers/C%2F%2Fevil?asOf=2026-01-31')).toBe(
      '/customers/C%2F%2Fevil?asOf=2026-01-31',
    );
    expect(await backOf('/customers/a/b')).toBe('/alerts');
    expect(await backOf('//evil.example/customers/x')).toBe('/alerts');
    expect(await backOf('https://evil.example/')).toBe('/alerts');
  });

  it('fits a 360 px wide screen with the charts visible, and a 1280 px one', async () => {
    browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${web.url}${PAGE}`);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    for (const id of ['aging-chart', 'score-chart', 'limit-chart']) {
      const chart = page.locator(`svg#${id}`);
      await chart.scrollIntoViewIfNeeded();
      expect(await chart.isVisible()).toBe(true);
      const box = await chart.boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(200);
      expect(box?.width ?? 999).toBeLessThanOrEqual(360);
      await chart.screenshot({ path: `/tmp/creditfile-${id}-360.png` });
    }
    await page.screenshot({ path: '/tmp/creditfile-360.png', fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${web.url}${PAGE}`);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    for (const id of ['aging-chart', 'score-chart', 'limit-chart']) {
      expect(await page.locator(`svg#${id}`).isVisible()).toBe(true);
      await page.locator(`svg#${id}`).screenshot({ path: `/tmp/creditfile-${id}-1280.png` });
    }
    await page.screenshot({ path: '/tmp/creditfile-1280.png', fullPage: true });
    await ctx.close();
  }, 120_000);
});
