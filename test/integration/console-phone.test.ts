import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../functions/credit/alerts.ts';
import type { RuleName, Severity } from '../../functions/credit/policy.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import type { ReviewRun } from '../../functions/reviews/ports.ts';
import { limitApprovals } from '../../functions/transfers/app.ts';
import type { Transfer } from '../../functions/transfers/ports.ts';
import type { RunningConsole } from '../../infra/local/console/index.ts';
import { demoFiles } from '../../infra/local/runtime/demo.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { opsSummary } from '../../infra/local/runtime/ops.ts';
import { type LocalReviewsRuntime, localReviewsRuntime } from '../../infra/local/runtime/reviews.ts';
import { type LocalTransfers, listMail } from '../../infra/local/runtime/transfers.ts';
import { REVIEW_AS_OF, recommendedFor, reviewTestPolicy, seedReviewBook } from './review-book.ts';
import { launchChromium, startTransfersConsole, until } from './transfers-console.ts';

/**
 * Every page the console serves, and the approval page an email links to, in a real headless
 * Chromium at a phone's 360×740: the document is never wider than the viewport (a wide table
 * scrolls inside its own box, long ids and links wrap). The same pages at 1280×800 too. The book
 * is the demo's, with the reviews' customers, alerts, a transfer waiting for approval, a finished
 * review, ingest runs (one with rejects) and the long names and ids real data brings.
 * Screenshots at 360 px are left in a temp dir (printed) for a person to look at.
 */

const TODAY = new Date().toISOString().slice(0, 10);
const REQUESTER = 'rita';
const WAIT_MS = 30_000;
const POLICY = reviewTestPolicy('phone-test');
/** A customer whose id and name are as long as real master data gets. */
const LONG_ID = 'DE-HRB-123456-KOELN-NIEDERLASSUNG-0001';
const LONG_NAME =
  'Internationale Speditions- und Logistikgesellschaft Rhein-Main-Donau mbH & Co. KG (Niederlassung Köln-Porz)';

let env: LocalEnv;
let dir: string;
let shots: string;
let transfers: LocalTransfers;
let reviews: LocalReviewsRuntime;
let web: RunningConsole;
let browser: Browser | undefined;
let transfer: Transfer;
let run: ReviewRun;

function alertOf(customerId: string, rule: RuleName, severity: Severity, summary: string): Alert {
  const openedAt = `${TODAY}T05:00:00.000Z`;
  return {
    alertId: `${customerId}/${rule}/${TODAY}`,
    customerId,
    rule,
    status: 'open',
    severity,
    action: 'review',
    summary,
    evidence: {
      daysPastDue: 97,
      overdueAmount: '1,234,567.89 EUR',
      invoice: `${customerId}-INV-2026-000123`,
    },
    policyId: 'phone-policy',
    openedAt,
    openedAsOf: TODAY,
    seenAsOf: TODAY,
    notifiedSeverity: severity,
    history: [{ at: openedAt, event: 'opened', severity }],
  };
}

async function ingestCsv(key: string, csv: string): Promise<void> {
  const kind = key.split('/')[0] as Kind;
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
      objectRef: `file:///srv/sentinel/inbox/${key}`,
      profile: canonicalProfile(kind),
      rejects: { write: () => undefined, close: async () => `rejects/${key}.rejects.csv` },
    },
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-phone-'));
  shots = join(tmpdir(), 'console-phone-shots');
  await mkdir(shots, { recursive: true });
  env = await openLocal({ dataDir: dir, inMemory: true });
  for (const [key, csv] of Object.entries(demoFiles(TODAY))) {
    const kind = key.split('/')[0] as Kind;
    if (kind === 'customers' || kind === 'invoices' || kind === 'payments') await ingestCsv(key, csv);
  }
  // A run with rejected rows, under a long file name as exports are named.
  await ingestCsv(
    'invoices/erp-export-accounts-receivable-open-items-2026-12-01T23-59-59Z-company-code-DE01-part-0001-of-0001.csv',
    [
      'customer_id,invoice_id,issue_date,due_date,amount,currency',
      `${LONG_ID},INV-2026-000123456789,2026-09-01,2026-10-01,1234567.89,EUR`,
      `${LONG_ID},INV-2026-000123456790,2026-13-01,2026-10-01,12.00,EUR`,
      `${LONG_ID},INV-2026-000123456791,2026-09-01,2026-10-01,not-an-amount-at-all-0000000000000000,EUR`,
    ].join('\n'),
  );
  await env.store.write([
    {
      kind: 'customers',
      row: { customerId: LONG_ID, name: LONG_NAME, currency: 'EUR', creditLimit: 50_000_00 },
      from: { runId: 'seed', line: 2 },
    },
  ]);
  await seedReviewBook(env.store, recommendedFor(POLICY));
  const alerts = [
    alertOf(LONG_ID, 'daysPastDue', 'critical', `${LONG_NAME} is 97 days past due on INV-2026-000123456789`),
    alertOf('C1001', 'overdueAmount', 'high', 'overdue 12,345.67 EUR, above the 10,000.00 EUR threshold'),
    alertOf('C1002', 'limitUse', 'warning', 'exposure at 104.2% of the credit limit'),
    alertOf('C1003', 'coverExpiring', 'info', 'credit insurance cover expires in 21 days'),
  ];
  await env.store.saveEvaluation(alerts.map((a) => ({ customerId: a.customerId, alerts: [a] })));
  ({ transfers, web } = await startTransfersConsole(env, dir, {
    creditPolicy: POLICY,
    more: (t) => {
      reviews = localReviewsRuntime({
        client: env.store.client,
        tableName: env.store.tableName,
        dataDir: dir,
        policy: async () => POLICY,
        approvals: limitApprovals(t.app),
        timeZone: 'UTC',
        changes: { customersChanged: async () => {} },
      });
      const queries = new ReceivablesQueries(env.store);
      return {
        reviews: reviews.console,
        operator: 'olga',
        ops: () =>
          opsSummary({
            dataDir: dir,
            timeZone: 'UTC',
            alerts: env.store,
            approvals: t.store,
            runs: queries,
            inboxFailing: () => [
              {
                file: 'inbox/invoices/erp-export-accounts-receivable-open-items-2026-12-01-company-code-DE01.xlsx',
                at: `${TODAY}T06:00:00.000Z`,
                reason: 'The file is not a CSV file: its first bytes are those of a ZIP archive (an .xlsx?).',
              },
            ],
          }),
      };
    },
  }));
  const res = await fetch(`${web.url}/transfers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      customerId: LONG_ID,
      type: 'refund',
      amount: '1234567.89',
      currency: 'EUR',
      beneficiaryName: LONG_NAME,
      beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
      reason:
        'Refund of the credit note CN-2026-000987654321 (duplicate payment of INV-2026-000123456789 received twice via SEPA-CT-REF-20261201-0000000000000042)',
      requester: REQUESTER,
    }),
  });
  const created = await res.text();
  if (res.status !== 201) throw new Error(`the transfer was not requested: ${res.status} ${created}`);
  transfer = (JSON.parse(created) as { transfer: Transfer }).transfer;
  await until(
    `transfer ${transfer.transferId} waiting at a level`,
    async () => {
      const s = await transfers.app.show(transfer.transferId);
      return s?.approvals.some((a) => a.status === 'pending') ? s : undefined;
    },
    WAIT_MS,
  );
  const ran = await fetch(`${web.url}/api/reviews/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ asOf: REVIEW_AS_OF }),
  });
  if (ran.status !== 200) throw new Error(`the review did not run: ${ran.status} ${await ran.text()}`);
  run = ((await ran.json()) as { run: ReviewRun }).run;
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (transfers) {
    for (const t of await transfers.app.list().catch(() => [] as Transfer[])) {
      if (t.status === 'pending')
        await transfers.app.recall(t.transferId, t.request.requester).catch(() => undefined);
      const executionId = (await transfers.app.show(t.transferId).catch(() => undefined))?.transfer
        .executionId;
      if (executionId) await transfers.workflow.execution(executionId)?.done;
    }
  }
  await transfers?.idle();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// ---- What is too wide --------------------------------------------------------------------------

interface Overflow {
  readonly scrollWidth: number;
  readonly viewport: number;
  /** The element reaching furthest right, outside any box that scrolls (or clips) by itself. */
  readonly widest?: string | undefined;
}

/**
 * The document's width against the viewport's, and the element that sticks out furthest, not
 * counting what sits inside a box that scrolls (or clips) by itself, such as a `.wrap` table.
 * A script as text: the project's TypeScript has no DOM types; it runs in the page.
 */
const MEASURE = `(() => {
  const viewport = document.documentElement.clientWidth;
  const boxed = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    return false;
  };
  let widest;
  let right = viewport + 0.5;
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect().right;
    // >= so that of an element and its last child ending together, the innermost is named.
    if (r >= right && !boxed(el)) {
      right = r;
      widest = el;
    }
  }
  const name = (el) =>
    '<' + el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    Array.from(el.classList).map((c) => '.' + c).join('') + '> right edge ' +
    Math.round(el.getBoundingClientRect().right) + ' px: "' +
    (el.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 80) + '"';
  return {
    scrollWidth: document.documentElement.scrollWidth,
    viewport,
    widest: widest ? name(widest) : undefined,
  };
})()`;

const SLICE = 1100;
const wide: string[] = [];
let shotCount = 0;

/** The page at 360 px in slices a person can look at (the first three screens' worth of each). */
async function screenshots(page: Page, name: string): Promise<void> {
  const height = (await page.evaluate('document.documentElement.scrollHeight')) as number;
  const file = `${String(++shotCount).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-')}`;
  for (let y = 0, i = 1; y < Math.min(height, 3 * SLICE); y += SLICE, i++)
    await page.screenshot({
      path: join(shots, `${file}-${i}.png`),
      fullPage: true,
      clip: { x: 0, y, width: 360, height: Math.min(SLICE, height - y) },
    });
}

/** Measures the page as loaded and with every folded `<details>` opened; records what is too wide. */
async function check(page: Page, name: string, shot = false): Promise<void> {
  const vw = page.viewportSize()?.width ?? 0;
  const m = (await page.evaluate(MEASURE)) as Overflow;
  if (m.scrollWidth > vw)
    wide.push(`${name} at ${vw} px: document ${m.scrollWidth} px wide; widest ${m.widest}`);
  if (shot && vw === 360) await screenshots(page, name);
  const folded = await page.locator('details:not([open])').count();
  if (folded > 0) {
    await page.evaluate(`document.querySelectorAll('details').forEach((d) => { d.open = true; })`);
    const o = (await page.evaluate(MEASURE)) as Overflow;
    if (o.scrollWidth > vw)
      wide.push(`${name} (details open) at ${vw} px: document ${o.scrollWidth} px wide; widest ${o.widest}`);
  }
}

/** Every page reached by a plain GET: [name, path, expected status]. */
function pages(): [string, string, number][] {
  const t = encodeURIComponent(transfer.transferId);
  const r = encodeURIComponent(run.runId);
  return [
    ['home', '/', 200],
    ['customers', '/customers', 200],
    ['customers, filtered', `/customers?q=GmbH&overdue=1&sort=overdue&dir=desc`, 200],
    ['customers, none match', '/customers?q=nobody-at-all', 200],
    ['a customer', '/customers/C1001', 200],
    ['a long-named customer', `/customers/${encodeURIComponent(LONG_ID)}`, 200],
    ['a reviewed customer', '/customers/CAPPROVE', 200],
    ['alerts', '/alerts', 200],
    ['alerts, filtered', '/alerts?status=open&severity=critical', 200],
    ['alerts, resolved', '/alerts?status=resolved', 200],
    ['approvals', '/approvals', 200],
    ['transfers', '/transfers', 200],
    ['a transfer', `/transfers/${t}`, 200],
    ['a transfer that does not exist', '/transfers/T-NOPE', 404],
    ['outbox', '/outbox', 200],
    ['runs', '/runs', 200],
    ['reviews', '/reviews', 200],
    ['a review run', `/reviews/${r}`, 200],
    ['a review run, attention', `/reviews/${r}?attention=1`, 200],
    ['a review preview', `/reviews/preview?asOf=${REVIEW_AS_OF}`, 200],
    ['a review preview, bad date', '/reviews/preview?asOf=2026-02-30', 400],
    ['a review report', `/reviews/${r}/report.html`, 200],
    ['ops', '/ops', 200],
    ['collections', '/collections', 200],
    ['collections, every customer', '/collections?all=1', 200],
    ['404', '/no/such/page', 404],
    ['404 customer', '/customers/NOBODY-ON-FILE', 404],
    ['400 bad address', '/customers/%E0%A4%A', 400],
    ['400 bad cursor', '/transfers?after=not-a-cursor', 400],
  ];
}

async function visitAll(page: Page): Promise<string[]> {
  const visited: string[] = [];
  const runs = (await (await fetch(`${web.url}/api/runs`)).json()) as {
    runs: { runId: string; rejected: number }[];
  };
  const rejected = runs.runs.find((x) => x.rejected > 0);
  expect(rejected, 'a run with rejected rows').toBeDefined();
  const list: [string, string, number][] = [
    ...pages(),
    ['a run with rejects', `/runs/${encodeURIComponent(rejected?.runId ?? '')}`, 200],
  ];
  for (const [name, path, status] of list) {
    const res = await page.goto(`${web.url}${path}`);
    expect(res?.status(), `${name}: ${path}`).toBe(status);
    await check(page, name, true);
    visited.push(name);
  }

  // The approval page, from the emailed link.
  const mail = await until(
    'the level-1 approval email',
    async () => (await listMail(dir)).find((m) => m.file.includes(`-approve-${transfer.transferId}-`)),
    WAIT_MS,
  );
  const link = mail.text.match(/https?:\/\/\S+\/approvals\/\S+/)?.[0];
  expect(link, 'the approval link in the email').toBeDefined();
  await page.goto(link as string);
  await check(page, 'the approval page', true);
  // Someone else's address: the page again with its problem on top.
  await page.locator('#email').fill('somebody.else.with.a.rather.long.address@subsidiary.example.com');
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.locator('.problem').first().waitFor();
  await check(page, 'the approval page, refused', true);
  visited.push('the approval page', 'the approval page, refused');

  // The request form sent with mistakes (the browser's own checks off, as an old browser would).
  await page.goto(`${web.url}/transfers`);
  await page.evaluate(`document.querySelector('form.request').noValidate = true`);
  await page.locator('#customerId').fill(LONG_ID);
  await page.locator('#amount').fill('12,34.5x');
  await page.getByRole('button', { name: 'Request the transfer' }).click();
  await page.locator('#request-problems').waitFor();
  await check(page, 'the request form with mistakes', true);
  // The customer picker's matches.
  await page.locator('#find').fill('GmbH');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('#picks, #find-none').first().waitFor({ state: 'attached' });
  await check(page, 'the request form, picking a customer', true);
  visited.push('the request form with mistakes', 'the request form, picking a customer');

  // Recall refused (someone else's id), then an alert resolved from its row.
  await page.goto(`${web.url}/transfers/${encodeURIComponent(transfer.transferId)}`);
  await page.locator('#recall-by').fill('not-the-requester');
  await page.getByRole('button', { name: 'Recall the transfer' }).click();
  await page.getByRole('heading', { name: 'Not recalled' }).waitFor();
  await check(page, 'recall refused', true);
  await page.goto(`${web.url}/alerts`);
  await page.locator('details.answer summary').first().click();
  await page.locator('details.answer[open] button[value="resolve"]').click();
  await page.locator('p.done').waitFor();
  await check(page, 'alerts, one resolved', true);
  visited.push('recall refused', 'alerts, one resolved');
  return visited;
}

describe('the console on a phone', () => {
  it('no page is wider than a 360×740 viewport: wide tables scroll in their own box', async () => {
    const page = await (browser as Browser).newPage({
      viewport: { width: 360, height: 740 },
      isMobile: true,
      hasTouch: true,
    });
    page.setDefaultTimeout(WAIT_MS);
    wide.length = 0;
    const visited = await visitAll(page);
    await page.close();
    expect(visited.length).toBeGreaterThanOrEqual(30);
    process.stdout.write(`console-phone: screenshots at 360 px in ${shots}\n`);
    expect(wide, wide.join('\n')).toEqual([]);
  }, 300_000);

  it('nor at 1280×800', async () => {
    const page = await (browser as Browser).newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(WAIT_MS);
    wide.length = 0;
    for (const [name, path, status] of pages()) {
      const res = await page.goto(`${web.url}${path}`);
      expect(res?.status(), `${name}: ${path}`).toBe(status);
      await check(page, name);
    }
    await page.close();
    expect(wide, wide.join('\n')).toEqual([]);
  }, 300_000);
});
