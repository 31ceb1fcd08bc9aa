import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideSlack } from '../../functions/transfers/http.ts';
import type { RunningConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, listMail } from '../../infra/local/runtime/transfers.ts';
import { writeHarbourFoods } from './approval-book.ts';
import { launchChromium, startTransfersConsole, until } from './transfers-console.ts';

/**
 * The approval page as an approver reads it on a phone and on a desk, in headless Chromium against
 * the local stack: the evidence first (the customer's name, exposure, limit, unapplied cash, open
 * alerts, the gate's checks, the decisions so far with their comments), the form after it and only
 * while a decision is open, every amount written as "1,000.00 EUR", no horizontal scrolling at
 * 360 px; a rejection without a reason refused on the page and from Slack, nothing recorded.
 * Screenshots go to /tmp/approve15-*.png for a person to look at.
 */

const TODAY = new Date().toISOString().slice(0, 10);
const REQUESTER = 'rita';
const PHONE = { width: 360, height: 740 };
const DESK = { width: 1280, height: 800 };

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let web: RunningConsole;
let browser: Browser;
let transferId = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'approval-page-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  await writeHarbourFoods(env.store, TODAY);
  // An open alert on the customer, as an evaluation stores it: the gate shows it to the approvers.
  const at = `${TODAY}T06:00:00.000Z`;
  await env.store.saveEvaluation([
    {
      customerId: 'C7',
      alerts: [
        {
          alertId: `C7/daysPastDue/${TODAY}`,
          customerId: 'C7',
          rule: 'daysPastDue',
          status: 'open',
          severity: 'warning',
          action: 'collect',
          summary: 'invoice I0 was paid 5 days late',
          evidence: { maxDaysPastDue: 5 },
          policyId: 'approval-page-test',
          openedAt: at,
          openedAsOf: TODAY,
          seenAsOf: TODAY,
          notifiedSeverity: 'warning',
          history: [{ at, event: 'opened', severity: 'warning' }],
        },
      ],
    },
  ]);
  ({ transfers, web } = await startTransfersConsole(env, dir));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const t of (await transfers?.app.list()) ?? []) {
    if (t.status === 'pending') await transfers.app.recall(t.transferId, t.request.requester);
    if (t.executionId) await transfers.workflow.execution(t.executionId)?.done;
  }
  await transfers?.idle();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The approval link of the level-`level` email to `person` (from the outbox's parsed .eml). */
async function linkFor(person: string, level: number): Promise<string> {
  const mail = await until(`the level-${level} email to ${person}`, async () =>
    (await listMail(dir)).find(
      (m) =>
        m.file.includes(`-approve-${transferId}-${person}.eml`) && m.subject.includes(`level ${level} of`),
    ),
  );
  const url = /https?:\/\/\S+\/approvals\/[\w.-]+/.exec(mail.text)?.[0];
  if (!url) throw new Error(`no link in ${mail.file}`);
  return url;
}

/** What a layout check measures: the page's width against the viewport's, and the order. */
async function layout(page: Page): Promise<{
  scrollWidth: number;
  innerWidth: number;
  hasForm: boolean;
  formAfterEvidence: boolean;
  text: string;
}> {
  // A script as text: the project's TypeScript has no DOM types.
  return page.evaluate(`(() => {
    const evidence = document.querySelector('section.evidence');
    const form = document.querySelector('form');
    return {
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      hasForm: form !== null,
      formAfterEvidence:
        evidence !== null && form !== null &&
        (evidence.compareDocumentPosition(form) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0,
      text: document.body.innerText.replace(/\\s+/g, ' '),
    };
  })()`);
}

/**
 * An amount of a thousand or more written without grouping ("1000.00", "-1000.00"): never on the
 * page. Not inside a word: the credit policy's id ("default-2026.12+3760bcf1") is no amount.
 */
const UNGROUPED = /(?:^|[\s(:])-?\d{4,}\.\d{2}(?![\w+])/;

const approvalsOf = async () => (await transfers.app.show(transferId))?.approvals ?? [];

describe('the approval page', () => {
  it('shows the evidence before the form at 360 and 1280 px, amounts formatted; a reject without a reason is refused on the page and from Slack', async () => {
    const made = await transfers.app.request({
      customerId: 'C7',
      type: 'refund',
      amount: '500.00',
      currency: 'EUR',
      beneficiaryName: 'Harbour Foods Ltd',
      beneficiaryAccount: 'GB33BUKB20201555555555',
      reason: 'credit note CN-7 refunded',
      requester: REQUESTER,
    });
    if (!made.ok) throw new Error(JSON.stringify(made.issues));
    transferId = made.transfer.transferId;
    const carla = await linkFor('carla', 1);

    for (const [name, size] of [
      ['360', PHONE],
      ['1280', DESK],
    ] as const) {
      const page = await browser.newPage({ viewport: size });
      const res = await page.goto(carla);
      expect(res?.status()).toBe(200);
      const l = await layout(page);
      expect(l.scrollWidth, `${name} px: the document is ${l.scrollWidth} px wide`).toBeLessThanOrEqual(
        l.innerWidth,
      );
      expect(l.hasForm).toBe(true);
      expect(l.formAfterEvidence).toBe(true);
      for (const words of [
        'Read the evidence, then decide below.',
        'Customer C7',
        'Name Harbour Foods Ltd',
        'Exposure 9,000.00 EUR',
        'Credit limit 100,000.00 EUR',
        'Headroom 91,000.00 EUR',
        'Unapplied cash 1,000.00 EUR',
        'Amount 500.00 EUR',
        'Requested by Rita Receivables',
        'Open alerts (1)',
        'daysPastDue warning invoice I0 was paid 5 days late',
        "refund 500.00 EUR is within the customer's unapplied cash of 1,000.00 EUR",
        'within the headroom of 91,000.00 EUR',
        'Decisions so far None yet',
        'Comment: required to reject',
      ])
        expect(l.text).toContain(words);
      expect(l.text).not.toMatch(UNGROUPED);
      await page.screenshot({ path: `/tmp/approve15-${name}-level1.png`, fullPage: true });
      await page.close();
    }

    // A rejection with no reason: 400, the problem at the form, the address kept, nothing recorded.
    const page = await browser.newPage({ viewport: PHONE });
    await page.goto(carla);
    await page.locator('#email').fill('carla@example.com');
    await page.locator('#comment').fill('   ');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url() === carla && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Reject' }).click(),
    ]);
    expect(refused.status()).toBe(400);
    await page.locator('p.problem').waitFor();
    expect(await page.locator('form p.problem').textContent()).toBe(
      'A rejection needs a reason: write it in the comment box, then press Reject again. Nothing was recorded.',
    );
    expect(await page.locator('#email').inputValue()).toBe('carla@example.com');
    const again = await layout(page);
    expect(again.scrollWidth).toBeLessThanOrEqual(again.innerWidth);
    expect(again.formAfterEvidence).toBe(true);
    await page.screenshot({ path: '/tmp/approve15-360-reject-needs-reason.png', fullPage: true });
    expect((await approvalsOf()).map((a) => a.status)).toEqual(['pending', 'pending']);

    // From Slack: a button carries no reason, so the presser is told to reject on the page.
    const token = new URL(carla).pathname.split('/').pop() as string;
    const told: { text: string; keep: boolean | undefined }[] = [];
    const slack = await decideSlack(
      transfers.app,
      {
        userId: 'U0CARLA01',
        actionId: 'transfer.reject',
        value: token,
        responseUrl: 'https://hooks.slack.com/actions/T0/1/x',
      },
      async (_url, text, keep) => {
        told.push({ text, keep });
      },
    );
    expect(slack).toMatchObject({ ok: false, refusal: 'reason-required', status: 400 });
    expect(told).toEqual([
      {
        text: `A rejection needs a reason, and a button cannot carry one: reject on the approval page, ${carla}, with your reason. Nothing was recorded.`,
        keep: true,
      },
    ]);
    expect((await approvalsOf()).map((a) => a.status)).toEqual(['pending', 'pending']);
    const show = await transfers.app.show(transferId);
    expect(show?.transfer.status).toBe('pending');

    // Carla approves with a comment; her link then shows the decision and no form.
    await page.goto(carla);
    await page.locator('#email').fill('carla@example.com');
    await page.locator('#comment').fill('credit note checked with the customer');
    const [approved] = await Promise.all([
      page.waitForResponse((r) => r.url() === carla && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Approve' }).click(),
    ]);
    expect(approved.status()).toBe(200);
    await page.goto(carla);
    const decided = await layout(page);
    expect(decided.hasForm).toBe(false);
    expect(decided.text).not.toContain('decide below');
    expect(decided.text).toMatch(
      /Already decided: approved by Carla Credit .* \(“credit note checked with the customer”\)/,
    );
    await page.close();
  }, 60_000);

  it("shows the earlier level's decision and comment to the next level; a reject with a reason ends the transfer; a void link shows no form", async () => {
    expect(transferId).not.toBe('');
    const fiona = await linkFor('fiona', 2);
    const farid = await linkFor('farid', 2);
    const page = await browser.newPage({ viewport: PHONE });
    await page.goto(fiona);
    const l = await layout(page);
    expect(l.scrollWidth).toBeLessThanOrEqual(l.innerWidth);
    expect(l.formAfterEvidence).toBe(true);
    expect(l.text).toMatch(
      /Decisions so far (?:Level Who Decision When Comment )?1 Carla Credit approved \d{4}-\d\d-\d\d \d\d:\d\d UTC by email credit note checked with the customer/,
    );
    await page.screenshot({ path: '/tmp/approve15-360-level2.png', fullPage: true });

    // A POST without a reason is refused (400) whatever the channel; with one it ends the transfer.
    const post = (comment: string) =>
      fetch(fiona, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ decision: 'reject', email: 'fiona@example.com', comment }).toString(),
      });
    const bare = await post('');
    expect(bare.status).toBe(400);
    expect(await bare.text()).toContain('A rejection needs a reason');
    expect((await approvalsOf()).filter((a) => a.level === 2).map((a) => a.status)).toEqual([
      'pending',
      'pending',
    ]);
    const withReason = await post('beneficiary account not verified');
    expect(withReason.status).toBe(200);
    const ended = await until('the transfer rejected', async () => {
      const s = await transfers.app.show(transferId);
      return s?.transfer.status === 'rejected' ? s : undefined;
    });
    expect(ended.transfer.outcome).toBe(
      'rejected at level 2 by Fiona Finance: beneficiary account not verified',
    );

    // Farid's link is void now: the evidence, why, and no form.
    await page.goto(farid);
    const gone = await layout(page);
    expect(gone.hasForm).toBe(false);
    expect(gone.text).not.toContain('decide below');
    expect(gone.text).toContain('This approval is no longer open');
    expect(gone.text).toContain('Fiona Finance rejected');
    expect(gone.text).toContain('beneficiary account not verified');
    expect(gone.scrollWidth).toBeLessThanOrEqual(gone.innerWidth);
    await page.screenshot({ path: '/tmp/approve15-360-void.png', fullPage: true });
    await page.setViewportSize(DESK);
    await page.screenshot({ path: '/tmp/approve15-1280-void.png', fullPage: true });
    await page.close();
  }, 60_000);
});
