import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMinor } from '../../functions/core/money.ts';
import type { CustomersChanged } from '../../functions/ingest/ports.ts';
import type { ReviewRun } from '../../functions/reviews/ports.ts';
import type { Review, ReviewState } from '../../functions/reviews/review.ts';
import { limitApprovals } from '../../functions/transfers/app.ts';
import type { RunningConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalReviewsRuntime, localReviewsRuntime } from '../../infra/local/runtime/reviews.ts';
import { type LocalTransfers, listMail } from '../../infra/local/runtime/transfers.ts';
import { text } from './pages.ts';
import {
  CASES,
  type CaseId,
  REVIEW_AS_OF,
  recommendedFor,
  reviewTestPolicy,
  seedReviewBook,
} from './review-book.ts';
import { launchChromium, startTransfersConsole, until } from './transfers-console.ts';

/**
 * The console's review pages, as `sentinel start` wires them: the periodic review on the local
 * workflow engine, a large increase sent to the real transfer workflow (its level-1 approval
 * emailed to the outbox), and the console serving the runs, a run's customers, its report and the
 * customer's review section. Run from a real headless Chromium, and over plain HTTP.
 */

const WAIT_MS = 20_000;
const AS_OF = REVIEW_AS_OF;
const POLICY = reviewTestPolicy('review-console-test');

// ---- The console: transfers and reviews wired as `cmdStart` wires them. ---------------------

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let reviews: LocalReviewsRuntime;
let web: RunningConsole;
let browser: Browser | undefined;
let recommended: number;
/** The run the browser started, and the transfer its approval customer's review asked for. */
let runId: string;
/** The "customers changed" messages the reviews sent. */
const changed: CustomersChanged[] = [];
let transferId: string;

const runsStored = async () => (await reviews.store.listRuns(50)).length;

const postRunForm = (headers: Record<string, string>, body: string) =>
  fetch(`${web.url}/reviews/run`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });

const postRunApi = (body: unknown) =>
  fetch(`${web.url}/api/reviews/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-reviews-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  recommended = recommendedFor(POLICY);
  await seedReviewBook(env.store, recommended);

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
        changes: { customersChanged: async (m) => void changed.push(m) },
      });
      return { reviews: reviews.console };
    },
  }));
});

afterAll(async () => {
  await browser?.close();
  // End the credit release's workflow: recalled by its requester once its gate has run.
  if (transferId && transfers) {
    const shown = await until(`transfer ${transferId} at a level or closed`, async () => {
      const s = await transfers.app.show(transferId);
      return s && (s.transfer.status !== 'pending' || s.approvals.length > 0) ? s : undefined;
    }).catch(() => undefined);
    if (shown?.transfer.status === 'pending')
      await transfers.app.recall(transferId, shown.transfer.request.requester).catch(() => undefined);
    const executionId = (await transfers.app.show(transferId).catch(() => undefined))?.transfer.executionId;
    if (executionId) await transfers.workflow.execution(executionId)?.done;
  }
  await transfers?.idle();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('running a review from the console in a real browser', () => {
  it('runs one as of a date, lists every customer with its outcome, and links the approval to its transfer', async () => {
    browser = await launchChromium();
    const page: Page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const problems: string[] = [];
    page.on('console', (m) => {
      // The browser's own /favicon.ico request is a 404 the page did not ask for.
      if (m.location().url === `${web.url}/favicon.ico`) return;
      if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text()))
        problems.push(`${m.type()}: ${m.text()} at ${m.location().url}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    const bodyText = async () => ((await page.locator('body').textContent()) ?? '').replace(/\s+/g, ' ');
    /** The page's first description list (its details): term to description, whitespace collapsed. */
    const terms = async () =>
      new Map(
        await page
          .locator('dl')
          .first()
          .locator('dt')
          .evaluateAll((dts) =>
            dts.map((dt) => [
              (dt.textContent ?? '').replace(/\s+/g, ' ').trim(),
              (dt.nextElementSibling?.textContent ?? '').replace(/\s+/g, ' ').trim(),
            ]),
          ),
      );

    // 1. The Reviews page: no run yet, the form to preview one.
    const first = await page.goto(`${web.url}/reviews`);
    expect(first?.status()).toBe(200);
    expect(await page.locator('h1').textContent()).toBe('Periodic reviews');
    expect(await bodyText()).toContain('No review has run yet.');
    const form = page.locator('form[action="/reviews/preview"]');
    expect(await form.getAttribute('method')).toBe('get');
    expect(await page.locator('#asOf').getAttribute('type')).toBe('date');

    // 2. As of the seed's date, preview first: what would change, and nothing changed yet.
    await page.locator('#asOf').fill(AS_OF);
    await page.getByRole('button', { name: 'Preview a review' }).click();
    await page.waitForURL(`${web.url}/reviews/preview?asOf=${AS_OF}`);
    expect(await page.locator('h1').textContent()).toBe(`Preview: a review as of ${AS_OF}`);
    expect(await bodyText()).toContain('Nothing has changed yet.');
    const preview = await terms();
    expect(preview.get('Customers due')).toBe('4');
    expect(preview.get('Limits')).toBe('1 cut at once, 1 raised at once, 1 sent for approval, 1 kept');
    expect(preview.get('Approvals')).toBe('one approval request per customer');
    const proposed = await page
      .locator('table tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) =>
          [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').replace(/\s+/g, ' ').trim()),
        ),
      );
    // Three changes, then the one kept; each with the limit now and after, exposure, overdue and why.
    expect(proposed.map((r) => [(r[0] ?? '').split(' ')[0], r[2]])).toEqual([
      ['CAPPROVE', 'asked for approval'],
      ['CCUT', 'cut at once'],
      ['CRAISE', 'raised at once'],
      ['CKEEP', 'kept'],
    ]);
    for (const r of proposed) expect(r[5]).toMatch(/^[\d.]+ EUR$/);
    expect(proposed[1]?.[7]).toMatch(/^cut from .* EUR at once: still above the exposure of /);
    expect(await runsStored()).toBe(0);

    // 3. Run this review: 303 to the run's page.
    const [sent] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${web.url}/reviews/run` && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Run this review' }).click(),
    ]);
    expect(sent.status()).toBe(303);
    expect(sent.request().postData()).toBe(`asOf=${AS_OF}&confirmed=yes`);
    await page.waitForURL(/\/reviews\/review-2026-06-30-[0-9a-f]{8}$/);
    runId = decodeURIComponent(page.url().slice(`${web.url}/reviews/`.length));
    expect(await page.locator('h1').textContent()).toBe(`Review as of ${AS_OF}`);
    const summary = await terms();
    expect(summary.get('Run')).toBe(runId);
    expect(summary.get('Policy')).toBe(POLICY.id);
    expect(summary.get('Customers due')).toBe('4');
    expect(summary.get('Reviewed / failed')).toBe('4 / 0');
    expect(summary.get('Limits')).toBe('1 cut, 1 raised, 1 sent for approval, 1 kept');
    expect(summary.get('Report')).toBe('HTML · CSV');
    expect(await page.locator(`a[href="/reviews/${runId}/report.csv"]`).count()).toBe(1);
    expect(await page.locator(`a[href="/reviews/${runId}/report.html"]`).count()).toBe(1);

    // 3. The customers, each with its outcome; the approval links to its credit release.
    const rows = await page
      .locator('table tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) =>
          [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').replace(/\s+/g, ' ').trim()),
        ),
      );
    expect(rows).toHaveLength(4);
    const outcomes = new Map(rows.map((r) => [(r[0] ?? '').split(' ')[0] as string, r[7] ?? '']));
    expect([...outcomes.keys()].sort()).toEqual(['CAPPROVE', 'CCUT', 'CKEEP', 'CRAISE']);
    for (const [id, c] of Object.entries(CASES)) {
      if (c.outcome === 'approval') expect(outcomes.get(id)).toMatch(/^approval asked \(TR-[0-9A-Z]+\)$/);
      else expect(outcomes.get(id)).toBe(c.words);
    }
    for (const r of rows) expect(r[1]).toBe('first review');
    // The name is shown beside the id.
    expect(rows.find((r) => r[0]?.startsWith('CCUT'))?.[0]).toBe('CCUT CCUT Ltd');
    const links = page.locator('table tbody a[href^="/transfers/TR-"]');
    expect(await links.count()).toBe(1);
    const href = (await links.getAttribute('href')) as string;
    transferId = href.slice('/transfers/'.length);
    expect(outcomes.get('CAPPROVE')).toBe(`approval asked (${transferId})`);

    // 4. Follow it: the transfer page shows the limit change the review asks for.
    await links.click();
    await page.waitForURL(`${web.url}/transfers/${transferId}`);
    expect(await page.locator('h1').textContent()).toBe(`Transfer ${transferId}`);
    const transfer = await terms();
    const group = (minor: number) => formatMinor(minor, 'EUR').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    const from = Math.round(recommended / 2);
    expect(transfer.get('Credit limit')).toBe(
      `from ${group(from)} EUR to ${group(recommended)} EUR once approved (no money moves)`,
    );
    expect(transfer.get('Asked by review')).toBe(`${runId}/CAPPROVE`);
    expect(transfer.get('Requester')).toBe('periodic-review');
    expect(await page.locator(`a[href="/reviews/${runId}"]`).count()).toBe(1);

    // 5. The level-1 approval was emailed (the outbox has the mail, linked to this transfer).
    const mail = await until(`the level-1 email of ${transferId}`, async () =>
      (await listMail(dir, 500)).find(
        (m) => m.file.includes(`-approve-${transferId}-`) && m.subject.includes('level 1 of'),
      ),
    );
    expect(mail.text).toMatch(/https?:\/\/\S+\/approvals\/[\w.-]+/);
    expect(mail.text).toContain('CAPPROVE');
    const stored = await transfers.app.show(transferId);
    expect(stored?.transfer.request).toMatchObject({
      customerId: 'CAPPROVE',
      type: 'credit_release',
      amount: recommended - from,
      requester: 'periodic-review',
    });
    expect(stored?.transfer.limitChange).toEqual({ from, to: recommended, reviewId: `${runId}/CAPPROVE` });

    // 6. Back to the list: the run, linked to its page.
    await page.goto(`${web.url}/reviews`);
    expect(await bodyText()).not.toContain('No review has run yet.');
    expect(await page.locator(`table a[href="/reviews/${runId}"]`).textContent()).toBe(AS_OF);

    expect(problems).toEqual([]);
  }, 60_000);
});

describe('the review pages over plain HTTP', () => {
  it('has the customers whose limit the run changed evaluated again (as `sentinel start` wires it)', () => {
    expect(
      changed
        .filter((m) => m.runId === runId)
        .flatMap((m) => m.customerIds)
        .sort(),
    ).toEqual(['CCUT', 'CRAISE']);
  });

  it('serves the report as a CSV download', async () => {
    const res = await fetch(`${web.url}/reviews/${runId}/report.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${runId}.csv"`);
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]?.startsWith('customer_id,name,status,')).toBe(true);
    const approvalLine = lines.find((l) => l.startsWith('CAPPROVE,'));
    expect(approvalLine).toContain(`,approval,RAISE_FOR_APPROVAL,no,${transferId},`);
    expect(lines.filter((l) => l.includes(',cut,'))).toHaveLength(1);
  });

  it('serves the HTML report with its own policy, which allows no script', async () => {
    const res = await fetch(`${web.url}/reviews/${runId}/report.html`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src/);
    expect(csp).toContain("frame-ancestors 'none'");
    const page = await res.text();
    expect(page).not.toMatch(/<script/i);
    expect(text(page)).toContain('Limit changes (3)');
    // An unknown file, or a run without a report: 404.
    expect((await fetch(`${web.url}/reviews/${runId}/report.pdf`)).status).toBe(404);
    expect((await fetch(`${web.url}/reviews/NOPE/report.csv`)).status).toBe(404);
  });

  it('answers the runs and a run as JSON', async () => {
    const list = await fetch(`${web.url}/api/reviews`);
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toContain('application/json');
    const { runs } = (await list.json()) as { runs: ReviewRun[] };
    expect(runs.map((r) => r.runId)).toEqual([runId]);
    expect(runs[0]).toMatchObject({ asOf: AS_OF, trigger: 'manual', status: 'done', selected: 4 });

    const one = await fetch(`${web.url}/api/reviews/${runId}`);
    expect(one.status).toBe(200);
    const found = (await one.json()) as { run: ReviewRun; reviews: Review[] };
    expect(found.run.counts).toMatchObject({
      reviewed: 4,
      failed: 0,
      outcomes: { cut: 1, raise: 1, approval: 1, keep: 1 },
    });
    expect(found.reviews).toHaveLength(4);
    for (const r of found.reviews) {
      expect(r.outcome).toBe(CASES[r.customerId as CaseId].outcome);
      expect(r.recommendedLimit).toBe(recommended);
    }
    expect(found.reviews.find((r) => r.customerId === 'CAPPROVE')?.transferId).toBe(transferId);

    const missing = await fetch(`${web.url}/api/reviews/NOPE`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/json');
    const missingPage = await fetch(`${web.url}/reviews/NOPE`);
    expect(missingPage.status).toBe(404);
    expect(text(await missingPage.text())).toContain('There is no review run "NOPE".');
  });

  it("shows the periodic review on a customer's page, with the next review date", async () => {
    const api = (await (await fetch(`${web.url}/api/customers/CCUT`)).json()) as {
      review: { state: Omit<ReviewState, 'limit'> & { limit: string }; recent: Review[] };
    };
    const state = api.review.state;
    expect(state.reviewedOn).toBe(AS_OF);
    expect(state.nextReviewOn > AS_OF).toBe(true);
    // The API's amounts are plain decimals beside their currency (README "Money in the API").
    expect(state.limit).toBe(formatMinor(recommended, 'EUR'));
    expect(api.review.recent.map((r) => r.runId)).toEqual([runId]);

    const res = await fetch(`${web.url}/customers/CCUT`);
    expect(res.status).toBe(200);
    const page = await res.text();
    const section = /<section><h2>Periodic review<\/h2>[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
    expect(section).not.toBe('');
    const shown = text(section);
    expect(shown).toContain(`Next review ${state.nextReviewOn} (${state.riskClass} risk)`);
    expect(shown).toContain(`Last review ${AS_OF}: rating ${state.rating} (${state.score})`);
    expect(shown).toContain('limit cut');
    expect(section).toContain(`href="/reviews/${runId}"`);
  });

  it('refuses a run the browser marks cross-site: 403, no new run', async () => {
    const before = await runsStored();
    const res = await postRunForm({ 'sec-fetch-site': 'cross-site' }, `asOf=${AS_OF}`);
    expect(res.status).toBe(403);
    expect(text(await res.text())).toContain('Sec-Fetch-Site: cross-site');
    const api = await fetch(`${web.url}/api/reviews/runs`, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain',
        origin: 'http://evil.example',
        'sec-fetch-site': 'cross-site',
      },
      body: JSON.stringify({ asOf: AS_OF }),
    });
    expect(api.status).toBe(403);
    expect(await runsStored()).toBe(before);
  });

  it('answers a date that does not exist with 400 naming it, and runs nothing', async () => {
    const before = await runsStored();
    const res = await postRunForm({}, 'asOf=2026-02-30');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('text/html');
    const page = text(await res.text());
    expect(page).toContain('"2026-02-30" is not a date (YYYY-MM-DD). No review was run.');
    // The page again, with its form and the runs.
    expect(page).toContain('Preview a review');
    const api = await postRunApi({ asOf: '2026-02-30' });
    expect(api.status).toBe(400);
    expect(((await api.json()) as { error: string }).error).toContain('"2026-02-30" is not a date');
    const form = await fetch(`${web.url}/reviews/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ asOf: AS_OF }),
    });
    expect(form.status).toBe(415);
    expect(await runsStored()).toBe(before);
  });

  it('a run form that was not confirmed on its preview runs nothing: 303 to the preview', async () => {
    const before = await runsStored();
    const res = await postRunForm({}, `asOf=${AS_OF}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/reviews/preview?asOf=${AS_OF}`);
    expect(await runsStored()).toBe(before);
  });

  it('previews as JSON and as a page, stores nothing; a bad date is a 400', async () => {
    const before = await runsStored();
    const res = await fetch(`${web.url}/api/reviews/preview?asOf=${AS_OF}`);
    expect(res.status).toBe(200);
    const p = (await res.json()) as { selected: number; approvals: string; reviews: unknown[] };
    // The run above reviewed everyone today: nobody is due again.
    expect([p.selected, p.approvals, p.reviews.length]).toEqual([0, 'none', 0]);
    const page = await fetch(`${web.url}/reviews/preview?asOf=${AS_OF}`);
    expect(text(await page.text())).toContain('Limits it would change or ask to change (0)');
    const bad = await fetch(`${web.url}/reviews/preview?asOf=2026-02-31`);
    expect(bad.status).toBe(400);
    expect(text(await bad.text())).toContain(
      '"2026-02-31" is not a date (YYYY-MM-DD). Nothing was previewed.',
    );
    expect(await runsStored()).toBe(before);
  });

  it('runs one from the JSON API; the same day again selects nobody, and a finished run resumes as itself', async () => {
    const res = await postRunApi({ asOf: AS_OF });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const out = (await res.json()) as { run: ReviewRun; resumed: boolean };
    expect(Object.keys(out).sort()).toEqual(['resumed', 'run']);
    expect(out.resumed).toBe(false);
    expect(out.run.runId).not.toBe(runId);
    expect(out.run).toMatchObject({ asOf: AS_OF, trigger: 'manual', status: 'done', selected: 0 });
    expect(out.run.counts).toMatchObject({ reviewed: 0, failed: 0 });
    expect(await runsStored()).toBe(2);

    const again = await postRunApi({ asOf: AS_OF, runId });
    expect(again.status).toBe(200);
    const resumed = (await again.json()) as { run: ReviewRun; resumed: boolean };
    expect(resumed.resumed).toBe(true);
    expect(resumed.run).toMatchObject({ runId, selected: 4, status: 'done' });
    expect(resumed.run.counts?.reviewed).toBe(4);
    expect(await runsStored()).toBe(2);
    // Nothing was asked twice: still the one credit release.
    const releases = (await transfers.app.list()).filter((t) => t.request.type === 'credit_release');
    expect(releases.map((t) => t.transferId)).toEqual([transferId]);
  });
});
