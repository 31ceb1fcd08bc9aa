import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transfer } from '../../functions/transfers/ports.ts';
import type { RunningConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, listMail, type OutboxMail } from '../../infra/local/runtime/transfers.ts';
import { launchChromium, sleep, startTransfersConsole, until } from './transfers-console.ts';

/**
 * Transfer approval as an approver lives it, in a real headless Chromium: the emailed link (from
 * the outbox the local stack writes), the evidence on the page, the Approve button, and the next
 * level's email appearing in the outbox. Debian's Chromium, driven by playwright-core: Playwright's
 * own browser download cannot be fetched here, and `.ci/run` installs the package.
 */

const REQUESTER = 'rita';
const WAIT_MS = 20_000;

/** The approval link in an email's text part (parsed from the .eml: quoted-printable decoded). */
function approvalLink(mail: OutboxMail): string {
  const url = mail.text.match(/https?:\/\/\S+\/approvals\/\S+/)?.[0];
  if (!url) throw new Error(`no approval link in the email ${mail.file}:\n${mail.text}`);
  return url;
}

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let web: RunningConsole;
let browser: Browser | undefined;
let transferId: string | undefined;
let recalled = false;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'approval-browser-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  // A customer with master data only: no receivables, no credit limit.
  await env.store.write([
    {
      kind: 'customers',
      row: { customerId: 'C9', name: 'Newcomer Ltd', currency: 'EUR' },
      from: { runId: 'seed', line: 2 },
    },
  ]);
  ({ transfers, web } = await startTransfersConsole(env, dir));
});

afterAll(async () => {
  await browser?.close();
  if (transfers && transferId && !recalled) {
    // The test stopped half way: end the workflow so no wait outlives the file.
    await transfers.app.recall(transferId, REQUESTER).catch(() => undefined);
    const t = (await transfers.app.show(transferId).catch(() => undefined))?.transfer;
    if (t?.executionId) await transfers.workflow.execution(t.executionId)?.done;
  }
  await transfers?.idle();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('approving a transfer in a real browser', () => {
  it('opens the emailed link, shows the evidence, approves, and the next level is emailed', async () => {
    browser = await launchChromium();
    const page: Page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const outbox = `${web.url}/outbox`;
    const bodyText = async () => ((await page.locator('body').textContent()) ?? '').replace(/\s+/g, ' ');

    // 1. The request, through the console's transfers API: a customer with no limit and no
    // unapplied cash to refund, and a new beneficiary, so it needs all three levels.
    const res = await fetch(`${web.url}/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        customerId: 'C9',
        type: 'refund',
        amount: '2500.00',
        currency: 'EUR',
        beneficiaryName: 'Unknown Ltd',
        beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
        reason: 'credit note refund',
        requester: REQUESTER,
      }),
    });
    const created = await res.text();
    expect(res.status, created).toBe(201);
    const transfer = (JSON.parse(created) as { transfer: Transfer }).transfer;
    const id = transfer.transferId;
    transferId = id;

    // 2. Carla's level-1 email lands in the outbox; the link comes from its parsed text part.
    const mailFor = (person: string, level: number) =>
      until(`the level-${level} approval email to ${person}`, async () =>
        (await listMail(dir)).find(
          (m) => m.file.includes(`-approve-${id}-${person}.eml`) && m.subject.includes(`level ${level} of 3`),
        ),
      );
    const carlaMail = await mailFor('carla', 1);
    expect(carlaMail.to).toContain('carla@example.com');
    const carlaLink = approvalLink(carlaMail);
    expect(carlaLink.startsWith(`${web.url}/approvals/`)).toBe(true);

    // 3. The Outbox page lists it; the approver clicks the link in it.
    await page.goto(outbox);
    const carlaArticle = page
      .locator('article.mail')
      .filter({ hasText: 'carla@example.com' })
      .filter({ hasText: 'level 1 of 3' });
    expect(await carlaArticle.count()).toBe(1);
    expect(await carlaArticle.locator('h2').textContent()).toContain('Unknown Ltd');
    const [shown] = await Promise.all([
      page.waitForResponse((r) => r.url() === carlaLink && r.request().method() === 'GET'),
      carlaArticle.locator(`a[href="${carlaLink}"]`).click(),
    ]);
    await page.waitForLoadState('load');
    expect(page.url()).toBe(carlaLink);
    expect(shown.status()).toBe(200);

    // 4. The evidence: amount, beneficiary, the gate's checks in words.
    const evidence = await bodyText();
    expect(evidence).toContain(`Transfer ${id}: level 1`);
    expect(evidence).toContain('2,500.00 EUR');
    expect(evidence).toContain('Unknown Ltd');
    expect(evidence).toContain('never approved for this customer');
    expect(evidence).toContain(
      `refund 2,500.00 EUR is above the customer's unapplied cash of 0.00 EUR as of`,
    );
    expect(evidence).toContain('Carla Credit');

    // 5. Carla confirms with her address and approves.
    await page.locator('#email').fill('carla@example.com');
    await page.locator('#comment').fill('checked the credit note with the customer');
    const [decided] = await Promise.all([
      page.waitForResponse((r) => r.url() === carlaLink && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Approve' }).click(),
    ]);
    expect(decided.status()).toBe(200);
    await page.locator('p.done').waitFor();
    expect(await page.locator('p.done').textContent()).toContain('Level 1 is complete');

    // 6. The outbox, reloaded, shows Fiona Finance's level-2 email.
    await page.goto(outbox);
    const fionaArticle = page
      .locator('article.mail')
      .filter({ hasText: 'fiona@example.com' })
      .filter({ hasText: 'level 2 of 3' });
    await until('the level-2 email to Fiona Finance on the Outbox page', async () => {
      if ((await fionaArticle.count()) > 0) return true;
      await sleep(100);
      await page.reload();
      return undefined;
    });
    expect(await fionaArticle.count()).toBe(1);
    const fiona = await fionaArticle.textContent();
    expect(fiona).toContain('Fiona Finance');
    expect(fiona).toContain(`${web.url}/approvals/`);
    expect(fiona).not.toContain(carlaLink);

    // 7. Carla's link again: decided, no form; and the page's security headers.
    const again = await page.goto(carlaLink);
    expect(again?.status()).toBe(200);
    const after = await bodyText();
    expect(after).toMatch(/Already decided: approved by Carla Credit|no longer open/);
    expect(await page.locator('form').count()).toBe(0);
    expect(await page.locator('#email').count()).toBe(0);
    const headers = (await again?.allHeaders()) ?? {};
    expect(headers['referrer-policy']).toBe('no-referrer');
    const csp = headers['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');

    // 8. Clean up through the app: the requester recalls, the execution finishes.
    expect(await transfers.app.recall(id, REQUESTER)).toMatchObject({ ok: true });
    recalled = true;
    const executionId = (await transfers.app.show(id))?.transfer.executionId;
    expect(executionId).toBeTruthy();
    await transfers.workflow.execution(executionId as string)?.done;
    expect((await transfers.app.show(id))?.transfer.status).toBe('recalled');
  }, 60_000);
});
