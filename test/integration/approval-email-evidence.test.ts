import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyInForce, type RuleName } from '../../functions/credit/policy.ts';
import { parseEml } from '../../functions/transfers/messages.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, localTransfers, mailDir } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { writeHarbourFoods } from './approval-book.ts';
import { approvalPolicyWith, launchChromium, until } from './transfers-console.ts';

/**
 * What an approver needs to decide, in the approval email and the Slack message, before the link
 * and the buttons (issue 15, item 6): the customer's name and id, the amount, the exposure, the
 * credit limit and the headroom before and after, the unapplied cash a refund needs, the open
 * alerts by severity with the top ones, and the earlier levels' decisions with their comments.
 * On the local stack: dynalite, the real workflow and notifier (the `.eml` files of the outbox,
 * read back as a mail client parses them), Slack's webhook answered by a local server that keeps
 * what was posted, and the HTML email rendered in Chromium at 360 px.
 *
 * The book, worked out by hand: C7 Harbour Foods Ltd, credit limit 100,000.00 EUR; I0 of
 * 2,000.00 paid with 3,000.00 (1,000.00 unapplied cash); I1 of 10,000.00 open, not due. Exposure
 * 10,000.00 - 1,000.00 = 9,000.00; headroom 100,000.00 - 9,000.00 = 91,000.00; after a refund of
 * 500.00, 90,500.00. Two open alerts: one high, one warning.
 */

const TODAY = new Date().toISOString().slice(0, 10);
const PHONE = { width: 360, height: 740 };
const COMMENT = 'credit note CN-7 checked with the customer';

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let slack: Server;
let browser: Browser;
const posted: { text: string; blocks: Block[] }[] = [];

type Block = {
  type: string;
  text?: { type: string; text: string };
  fields?: { type: string; text: string }[];
  elements?: unknown[];
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'approval-email-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  await writeHarbourFoods(env.store, TODAY);
  const at = `${TODAY}T06:00:00.000Z`;
  const alert = (rule: RuleName, severity: 'warning' | 'high', summary: string) => ({
    alertId: `C7/${rule}/${TODAY}`,
    customerId: 'C7',
    rule,
    status: 'open' as const,
    severity,
    action: 'collect' as const,
    summary,
    evidence: {},
    policyId: 'approval-email-test',
    openedAt: at,
    openedAsOf: TODAY,
    seenAsOf: TODAY,
    notifiedSeverity: severity,
    history: [{ at, event: 'opened' as const, severity }],
  });
  await env.store.saveEvaluation([
    {
      customerId: 'C7',
      alerts: [
        alert('daysPastDue', 'warning', 'invoice I0 was paid 5 days late'),
        alert('disputedShare', 'high', '12% of the open amount is disputed'),
      ],
    },
  ]);

  // Slack's incoming webhook: keeps each message posted and answers "ok" as Slack does.
  slack = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      posted.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((ok) => slack.listen(0, '127.0.0.1', ok));
  const hook = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T0/B0/x`;

  const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
  const approvalPolicy = approvalPolicyWith(() => {});
  transfers = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy: async () => policy,
    approvalPolicy: async () => approvalPolicy,
    dataDir: dir,
    clock: { now: () => new Date() },
    today: () => new Date().toISOString().slice(0, 10),
    baseUrl: () => 'https://approvals.example.com',
    slackWebhookUrl: hook,
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const t of (await transfers?.app.list()) ?? []) {
    if (t.status === 'pending') await transfers.app.recall(t.transferId, t.request.requester);
    if (t.executionId) await transfers.workflow.execution(t.executionId)?.done;
  }
  await transfers?.idle();
  await new Promise((ok) => slack?.close(ok));
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The `.eml` of the approve email to `person` at `level`, parsed as a mail client reads it. */
async function emailTo(transferId: string, person: string, level: number) {
  return until(`the level-${level} email to ${person}`, async () => {
    let files: string[] = [];
    try {
      files = await readdir(mailDir(dir));
    } catch {
      return undefined;
    }
    for (const f of files.filter((x) => x.endsWith(`-approve-${transferId}-${person}.eml`))) {
      const raw = await readFile(join(mailDir(dir), f), 'utf8');
      const m = parseEml(raw);
      if (m.headers.subject?.includes(`level ${level} of`)) return { raw, ...m };
    }
    return undefined;
  });
}

/** The Slack message mentioning `slackId` for `level`. */
const slackTo = (slackId: string, level: number) =>
  until(`the level-${level} Slack message to ${slackId}`, async () =>
    posted.find(
      (p) => p.text.includes(`level ${level} of`) && JSON.stringify(p.blocks).includes(`<@${slackId}>`),
    ),
  );

/** The visible text of an HTML email, as a reader sees it (tags gone, entities read, spaces folded). */
const visible = (html: string) =>
  html
    .replace(/<head>[\s\S]*?<\/head>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&ldquo;/g, '“')
    .replace(/&rdquo;/g, '”')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** Every one of `lines` in `text`, each before `mark`. */
function allBefore(text: string, lines: readonly string[], mark: string): void {
  const end = text.indexOf(mark);
  expect(end, `"${mark}" in the message`).toBeGreaterThan(0);
  for (const l of lines) {
    const at = text.indexOf(l);
    expect(at, `"${l}" in the message`).toBeGreaterThanOrEqual(0);
    expect(at, `"${l}" before "${mark}"`).toBeLessThan(end);
  }
}

describe('the approval email and Slack message carry what an approver needs to decide', () => {
  let transferId = '';

  it('level 1: the customer, amount, exposure, limit, headroom before and after, unapplied cash and open alerts, before the link', async () => {
    const made = await transfers.app.request({
      customerId: 'C7',
      type: 'refund',
      amount: '500.00',
      currency: 'EUR',
      beneficiaryName: 'Harbour Foods Ltd',
      beneficiaryAccount: 'GB33BUKB20201555555555',
      reason: 'credit note CN-7 refunded',
      requester: 'rita',
    });
    if (!made.ok) throw new Error(JSON.stringify(made.issues));
    transferId = made.transfer.transferId;

    const mail = await emailTo(transferId, 'carla', 1);
    expect(mail.headers['content-type']).toMatch(/^multipart\/alternative;/);
    expect(mail.headers.to).toBe('Carla Credit <carla@example.com>');
    const figures = [
      'Customer: Harbour Foods Ltd (C7)',
      'Amount: 500.00 EUR',
      `Exposure: 9,000.00 EUR (as of ${TODAY})`,
      'Credit limit: 100,000.00 EUR',
      'Headroom: 91,000.00 EUR',
      'Headroom after this transfer: 90,500.00 EUR (91,000.00 EUR less the 500.00 EUR asked for)',
      'Unapplied cash: 1,000.00 EUR',
      `What it needs: refund 500.00 EUR is within the customer's unapplied cash of 1,000.00 EUR as of ${TODAY}`,
      'Open alerts: 2 open: 1 high, 1 warning',
    ];
    // The text part: every figure on its own line, the most severe alert first, all before the link.
    allBefore(
      mail.text,
      [
        ...figures.map((f) => `  ${f}\n`),
        '    - [high] disputedShare: 12% of the open amount is disputed\n    - [warning] daysPastDue: invoice I0 was paid 5 days late\n',
        '  Decisions so far: none yet\n',
      ],
      'Review and decide: https://approvals.example.com/approvals/',
    );
    // The HTML part says the same before its button.
    const html = visible(mail.html);
    allBefore(
      html,
      [
        ...figures,
        'high disputedShare: 12% of the open amount is disputed warning daysPastDue: invoice I0 was paid 5 days late',
        'Decisions so far: none yet',
      ],
      'Review and decide',
    );

    // Slack: the same figures as fields, the alerts and the decisions so far, before the buttons.
    const msg = await slackTo('U0CARLA01', 1);
    const blocks = msg.blocks;
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const b of blocks) {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      if (b.fields) {
        expect(b.fields.length).toBeLessThanOrEqual(10);
        for (const f of b.fields) expect(f.text.length).toBeLessThanOrEqual(2000);
      }
    }
    const actions = blocks.findIndex((b) => b.type === 'actions');
    expect(actions).toBe(blocks.length - 1);
    const fields = blocks.find((b) => b.fields)?.fields?.map((f) => f.text);
    expect(fields).toEqual([
      '*Customer*\nHarbour Foods Ltd (C7)',
      '*Exposure*\n9,000.00 EUR',
      '*Credit limit*\n100,000.00 EUR',
      '*Headroom*\n91,000.00 EUR',
      '*Headroom after this transfer*\n90,500.00 EUR (91,000.00 EUR less the 500.00 EUR asked for)',
      `*Unapplied cash*\n1,000.00 EUR\nrefund 500.00 EUR is within the customer's unapplied cash of 1,000.00 EUR as of ${TODAY}`,
      '*Overdue*\n0.00 EUR, oldest 0 days',
      expect.stringMatching(/^\*Gate flags\*\n:warning: open alerts/),
      expect.stringMatching(/^\*Rating\*\n[A-E], score \d+, (low|medium|high) risk$/),
      '*Open alerts*\n2 open: 1 high, 1 warning',
    ]);
    const sections = blocks.filter((b) => b.type === 'section' && b.text).map((b) => b.text?.text);
    expect(sections).toContain(
      '*Open alerts, most severe first:*\n• *high* disputedShare: 12% of the open amount is disputed\n• *warning* daysPastDue: invoice I0 was paid 5 days late',
    );
    expect(sections).toContain('*Decisions so far:* none yet');
    expect(sections[0]).toContain('for customer *Harbour Foods Ltd* (C7)');
  }, 90_000);

  it("level 2: level 1's decision, who and when, with its comment, in the email and on Slack", async () => {
    expect(transferId).not.toBe('');
    const carla = await emailTo(transferId, 'carla', 1);
    const token = /\/approvals\/([\w.-]+)/.exec(carla.text)?.[1] as string;
    const decided = await transfers.app.decide(
      token,
      'approved',
      { email: 'carla@example.com' },
      'email',
      COMMENT,
    );
    expect(decided.ok).toBe(true);

    const mail = await emailTo(transferId, 'fiona', 2);
    const line = new RegExp(
      `\\n  Decisions so far:\\n    - level 1: Carla Credit approved at ${TODAY} \\d\\d:\\d\\d UTC by email: "${COMMENT}"\\n`,
    );
    expect(mail.text).toMatch(line);
    expect(mail.text.search(line)).toBeLessThan(mail.text.indexOf('Review and decide: '));
    const html = visible(mail.html);
    expect(html).toMatch(
      new RegExp(
        `Decisions so far: level 1: Carla Credit approved at ${TODAY} \\d\\d:\\d\\d UTC by email: “${COMMENT}”`,
      ),
    );
    expect(html.indexOf('Decisions so far: level 1')).toBeLessThan(html.indexOf('Review and decide'));
    // The figures are the level's own too.
    expect(mail.text).toContain('  Headroom after this transfer: 90,500.00 EUR');

    const msg = await slackTo('U0FIONA01', 2);
    const decisions = msg.blocks.findIndex((b) => b.text?.text.startsWith('*Decisions so far:*'));
    expect(msg.blocks[decisions]?.text?.text).toMatch(
      new RegExp(
        `^\\*Decisions so far:\\*\\n• level 1: Carla Credit approved at ${TODAY} \\d\\d:\\d\\d UTC by email: “${COMMENT}”$`,
      ),
    );
    expect(decisions).toBeLessThan(msg.blocks.findIndex((b) => b.type === 'actions'));
  }, 90_000);

  it('the HTML email fits a 360 px phone in Chromium: no horizontal scrolling', async () => {
    const mail = await emailTo(transferId, 'fiona', 2);
    const page = await browser.newPage({ viewport: PHONE });
    // The email as a mail client shows it: no script runs in it.
    await page.setContent(mail.html, { waitUntil: 'load' });
    const w = (await page.evaluate(
      '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, text: document.body.innerText })',
    )) as { scrollWidth: number; innerWidth: number; text: string };
    expect(w.innerWidth).toBe(360);
    expect(w.scrollWidth, `the email is ${w.scrollWidth} px wide`).toBeLessThanOrEqual(360);
    expect(w.text).toContain('Headroom after this transfer: 90,500.00 EUR');
    await page.screenshot({ path: '/tmp/approver15-email-360.png', fullPage: true });
    await page.screenshot({ path: '/tmp/approver15-email-360-top.png' });
    await page.close();
  }, 60_000);
});
