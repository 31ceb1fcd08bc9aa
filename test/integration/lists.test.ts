import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoReviewStore } from '../../functions/adapters/dynamodb-reviews.ts';
import type { IsoDate } from '../../functions/core/dates.ts';
import type { Page } from '../../functions/core/paging.ts';
import type { Alert, AlertDigest, AlertStatus } from '../../functions/credit/alerts.ts';
import { evaluate, sendDigest } from '../../functions/credit/evaluate.ts';
import { type Policy, SEVERITY_RANK, type Severity } from '../../functions/credit/policy.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import type { IngestRun } from '../../functions/ingest/ports.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { ReviewApp } from '../../functions/reviews/app.ts';
import { type DueCustomer, failedReview, type ReviewState } from '../../functions/reviews/review.ts';
import { loadPolicy } from '../../infra/local/cli/credit.ts';
import { type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { opsSummary } from '../../infra/local/runtime/ops.ts';
import { sentinel } from './cli-run.ts';
import { memoryUpload } from './helpers.ts';
import { decode, rows, text } from './pages.ts';
import { launchChromium, startTransfersConsole } from './transfers-console.ts';

/**
 * No list is cut short (issue 13, item 7): more alerts than the old cap of 1,000, written through
 * the project's store (BatchWriteItem), are all listed, counted, paged, found by `alerts ack`, in
 * the digest, in the review's selection, in the evaluation's count and on the Ops page; and the
 * console says which part of how many a page shows.
 *
 * The book: customers C0000..C2498 with one active daysPastDue alert each, severity by i mod 4
 * (critical, high, warning, info), acknowledged when i mod 5 = 1, else snoozed when i mod 7 = 2,
 * else open; and ZZZ-LAST, whose critical alert sorts after every other critical one. So 2,500
 * active alerts: 626 critical, 625 high, 625 warning, 624 info. ZZZ-LAST's is the 626th, most
 * severe first: on the fourth page of 200 (601-800). Then R0000..R1049 with one resolved alert
 * each, resolved a minute apart: 1,050 resolved, R1049 the newest.
 */

const AS_OF: IsoDate = '2026-03-31';
const N = 2499;
const LAST = 'ZZZ-LAST';
const RESOLVED = 1050;
const SEVERITY_OF: readonly Severity[] = ['critical', 'high', 'warning', 'info'];
const EXPECTED = { critical: 626, high: 625, warning: 625, info: 624 };
const TOTAL = 2500;

const ids = Array.from({ length: N }, (_, i) => `C${String(i).padStart(4, '0')}`);
const statusOf = (i: number): AlertStatus =>
  i % 5 === 1 ? 'acknowledged' : i % 7 === 2 ? 'snoozed' : 'open';

function alert(
  customerId: string,
  severity: Severity,
  status: AlertStatus,
  extra: Partial<Alert> = {},
): Alert {
  const at = '2026-02-01T00:00:00.000Z';
  return {
    alertId: `${customerId}/daysPastDue/${at}`,
    customerId,
    rule: 'daysPastDue',
    status,
    severity,
    action: 'collect',
    summary: `an invoice of ${customerId} is past due`,
    evidence: { maxDaysPastDue: 40 },
    policyId: 'lists-test',
    openedAt: at,
    openedAsOf: '2026-02-01',
    seenAsOf: AS_OF,
    notifiedSeverity: severity,
    ...(status === 'snoozed' ? { snoozedUntil: '2026-12-31' } : {}),
    history: [{ at, event: 'opened', severity }],
    ...extra,
  };
}

const active: Alert[] = [
  ...ids.map((id, i) => alert(id, SEVERITY_OF[i % 4] as Severity, statusOf(i))),
  alert(LAST, 'critical', 'open'),
];

let dir: string;
let env: LocalEnv;
let con: RunningConsole;
let policy: Policy;

async function load(kind: Kind, csv: string): Promise<void> {
  const r = await ingest(
    {
      store: env.store,
      notifier: { customersChanged: async () => {} },
      clock: { now: () => new Date(`${AS_OF}T06:00:00Z`) },
      timeZone: 'UTC',
    },
    memoryUpload(kind, csv),
  );
  if (r.rejected > 0 || r.status !== 'processed') throw new Error(`${kind}: ${JSON.stringify(r)}`);
}

async function get(path: string): Promise<{ status: number; body: string; json?: unknown }> {
  const res = await fetch(`${con.url}${path}`);
  const body = await res.text();
  return { status: res.status, body, ...(path.startsWith('/api/') ? { json: JSON.parse(body) } : {}) };
}

/** The href of the page's link to the previous or next page, decoded. */
function relHref(page: string, rel: 'prev' | 'next'): string | undefined {
  const m = new RegExp(`<a rel="${rel}" href="([^"]*)"`).exec(page);
  return m ? decode(m[1] as string) : undefined;
}

/** The text of the page's "showing" line. */
const shownLine = (page: string) => text(/<p class="shown">([\s\S]*?)<\/p>/.exec(page)?.[1] ?? '');

/** The customer ids of the first table of a page (its second column holds the id, then the name). */
const customersOn = (page: string) =>
  rows(/<table>[\s\S]*?<\/table>/.exec(page)?.[0] ?? '')
    .slice(1)
    .map((r) => (r[1] as string).split(' ')[0] as string);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-lists-'));
  // Published like `sentinel start`, so the CLI in this test talks to this very store.
  env = await openLocal({ dataDir: dir, inMemory: true }, true);
  const everyone = [...ids, LAST];
  await load(
    'invoices',
    [
      'invoice_id,customer_id,issue_date,due_date,amount,currency',
      ...everyone.map((id) => `I-${id},${id},2026-01-01,2026-01-31,100.00,EUR`),
    ].join('\n'),
  );
  await env.store.saveEvaluation(active.map((a) => ({ customerId: a.customerId, alerts: [a] })));
  await env.store.saveEvaluation(
    Array.from({ length: RESOLVED }, (_, i) => {
      const id = `R${String(i).padStart(4, '0')}`;
      const at = new Date(Date.UTC(2026, 2, 1) + i * 60_000).toISOString();
      return {
        customerId: id,
        alerts: [{ ...alert(id, 'warning', 'resolved'), rule: 'overdueAmount' as const, resolvedAt: at }],
      };
    }),
  );
  policy = await loadPolicy(env.store);
  con = await startConsole({
    queries: new ReceivablesQueries(env.store),
    today: () => AS_OF,
    port: 0,
    credit: { store: env.store, policy: () => loadPolicy(env.store) },
    ops: () => opsSummary({ dataDir: dir, timeZone: 'UTC', alerts: env.store }),
  });
}, 120_000);

afterAll(async () => {
  await con?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('every active alert, however many', () => {
  it('listAlerts gives all 2,500 (more than the old cap of 1,000), most severe first; the count agrees', async () => {
    const all = await env.store.listAlerts('active');
    expect(all).toHaveLength(TOTAL);
    expect(await env.store.countAlerts('active')).toBe(TOTAL);
    expect(await env.store.activeAlertCounts()).toEqual(EXPECTED);
    expect(new Set(all.map((a) => a.customerId)).size).toBe(TOTAL);
    const ranks = all.map((a) => SEVERITY_RANK[a.severity]);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    expect(all.findIndex((a) => a.customerId === LAST)).toBe(EXPECTED.critical - 1);
    // By status: open, acknowledged (i mod 5 = 1), snoozed (i mod 7 = 2 and not acknowledged).
    const ack = ids.filter((_, i) => statusOf(i) === 'acknowledged').length;
    const snoozed = ids.filter((_, i) => statusOf(i) === 'snoozed').length;
    expect(await env.store.countAlerts('active', { status: 'acknowledged' })).toBe(ack);
    expect((await env.store.listAlerts('active', { status: 'snoozed' })).length).toBe(snoozed);
    expect(await env.store.countAlerts('active', { status: 'open' })).toBe(TOTAL - ack - snoozed);
  });

  it('the resolved ones too, newest first', async () => {
    const resolved = await env.store.listAlerts('resolved');
    expect(resolved).toHaveLength(RESOLVED);
    expect(resolved[0]?.customerId).toBe('R1049');
    expect(resolved.at(-1)?.customerId).toBe('R0000');
    expect(await env.store.countAlerts('resolved')).toBe(RESOLVED);
  });

  it('pages of 200 from the store cover the list once each, forward and back', async () => {
    const all = (await env.store.listAlerts('active')).map((a) => a.customerId);
    const pages: Page<Alert>[] = [];
    let after: string | undefined;
    do {
      const p = await env.store.alertsPage('active', {}, { size: 200, after });
      pages.push(p);
      after = p.next;
    } while (after);
    expect(pages.map((p) => p.from)).toEqual(Array.from({ length: 13 }, (_, i) => 1 + i * 200));
    expect(pages.every((p) => p.total === TOTAL)).toBe(true);
    expect(pages.flatMap((p) => p.items.map((a) => a.customerId))).toEqual(all);
    // Back from the last page, through each page's `prev`, to the first (which has none).
    const back: number[] = [];
    let p = pages.at(-1) as Page<Alert>;
    while (p.prev) {
      p = await env.store.alertsPage('active', {}, { size: 200, after: p.prev.after });
      back.push(p.from);
      expect(p.items.map((a) => a.customerId)).toEqual(all.slice(p.from - 1, p.from + 199));
    }
    expect(back).toEqual(Array.from({ length: 12 }, (_, i) => 2201 - i * 200));
  });

  it('a severity and a status narrow the pages; the counts are of the narrowed list', async () => {
    const open = (i: number) => statusOf(i) === 'open';
    const expected = [...ids.filter((_, i) => i % 4 === 0 && open(i)), LAST];
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const p = await env.store.alertsPage(
        'active',
        { severity: 'critical', status: 'open' },
        { size: 100, after },
      );
      expect(p.total).toBe(expected.length);
      expect(p.items.every((a) => a.severity === 'critical' && a.status === 'open')).toBe(true);
      seen.push(...p.items.map((a) => a.customerId));
      after = p.next;
    } while (after);
    expect(seen).toEqual(expected);
  });
});

describe('the readers that need every alert see every one', () => {
  it('the digest counts all 2,500 and lists the 50 most severe (the rest counted, not dropped)', async () => {
    const sent: AlertDigest[] = [];
    const d = await sendDigest(
      { store: env.store, notifier: { notify: async () => {}, digest: async (x) => void sent.push(x) } },
      AS_OF,
    );
    expect(sent).toEqual([d]);
    expect(d?.active).toBe(TOTAL);
    expect(d?.bySeverity).toEqual(EXPECTED);
    expect(d?.alerts).toHaveLength(50);
    expect(d?.more).toBe(TOTAL - 50);
    expect(d?.alerts.every((a) => a.severity === 'critical')).toBe(true);
  });

  it("the review's selection gets every active alert: each customer with a severe one raised since its last review is due at once", async () => {
    // Every customer reviewed before its alert opened, its next scheduled review far off.
    const reviews = new DynamoReviewStore({ client: env.store.client, tableName: env.store.tableName });
    const states: ReviewState[] = [...ids, LAST].map((customerId) => ({
      customerId,
      reviewId: `seed/${customerId}`,
      reviewedOn: '2026-01-15',
      reviewedAt: '2026-01-15T00:00:00.000Z',
      nextReviewOn: '2027-12-31',
      rating: 'B',
      score: 70,
      riskClass: 'low',
      currency: 'EUR',
    }));
    await reviews.completeBatch({ reviews: [], states, limitChanges: [] });
    let manifest: DueCustomer[] = [];
    const unused = () => {
      throw new Error('not used by select');
    };
    const app = new ReviewApp({
      store: reviews,
      manifests: {
        put: async (_runId, items) => {
          manifest = [...items];
          return { Bucket: 'memory', Key: 'manifest' };
        },
        get: async () => manifest,
      },
      reports: { put: unused },
      notifier: { limitCut: unused, summary: unused },
      approvals: { requestChange: unused, requestBatch: unused },
      policy: async () => policy,
      clock: { now: () => new Date(`${AS_OF}T07:00:00Z`) },
      timeZone: 'UTC',
    });
    const min = SEVERITY_RANK[policy.review.atOnce.minSeverity];
    const severe = active.filter((a) => SEVERITY_RANK[a.severity] >= min).map((a) => a.customerId);
    expect(severe.length).toBeGreaterThan(1000);
    const r = await app.run({
      step: 'select',
      runId: 'lists-select',
      input: { asOf: AS_OF, trigger: 'manual' },
    });
    expect(r).toMatchObject({ selected: severe.length });
    expect(manifest.map((m) => m.customerId)).toEqual([...severe].sort());
    expect(manifest.find((m) => m.customerId === LAST)?.reason).toMatch(
      /^at once: critical alert daysPastDue/,
    );
  });

  it("the evaluation's count of active alerts is of all of them", async () => {
    // Evaluating no customer changes no alert: the run's `active` is the store's count.
    const run = await evaluate(
      {
        store: env.store,
        notifier: { notify: async () => {}, digest: async () => {} },
        policy,
        clock: { now: () => new Date(`${AS_OF}T07:00:00Z`) },
        timeZone: 'UTC',
      },
      { asOf: AS_OF, customerIds: [] },
    );
    expect(run.active).toBe(TOTAL);
  });
});

describe('the console says which part of how many it shows', () => {
  it('/alerts: "showing 1-100 of 2,500, most severe first", the counts by severity, and a next page', async () => {
    const r = await get('/alerts');
    expect(r.status).toBe(200);
    expect(shownLine(r.body)).toBe('Alerts: showing 1-100 of 2,500, most severe first.');
    expect(text(/<p class="muted" id="alert-counts">([\s\S]*?)<\/p>/.exec(r.body)?.[1] ?? '')).toMatch(
      /^2,500 active alerts \(626 critical, 625 high, 625 warning, 624 info\)\./,
    );
    expect(customersOn(r.body)).toHaveLength(100);
    expect(relHref(r.body, 'prev')).toBeUndefined();
    expect(relHref(r.body, 'next')).toMatch(/^\/alerts\?after=/);
    // The latest resolved, under them: 50 of 1,050, and the way to all of them.
    expect(r.body).toContain('<h2>Recently resolved (1,050)</h2>');
    expect(text(r.body)).toContain(
      'The 50 most recently resolved of 1,050, newest first; every resolved alert, page by page',
    );
  });

  it("ZZZ-LAST's critical alert is on the seventh page (601-700), and the ops count is the list's", async () => {
    let path: string | undefined = '/alerts';
    const seen: string[] = [];
    let found: { page: number; shown: string } | undefined;
    for (let n = 1; path && n <= 40; n++) {
      const r = await get(path);
      const on = customersOn(r.body);
      seen.push(...on);
      if (on.includes(LAST)) found ??= { page: n, shown: shownLine(r.body) };
      path = relHref(r.body, 'next');
    }
    expect(found).toEqual({ page: 7, shown: 'Alerts: showing 601-700 of 2,500, most severe first.' });
    expect(seen).toEqual((await env.store.listAlerts('active')).map((a) => a.customerId));
    const ops = (await get('/api/ops')).json as { alerts: { open: number } };
    expect(ops.alerts.open).toBe(seen.length);
    const api = (await get('/api/alerts')).json as { paging: { active: { total: number } } };
    expect(api.paging.active.total).toBe(seen.length);
  });

  it('the page links keep the filters, and a previous page leads back', async () => {
    const first = await get('/alerts?severity=critical&status=open');
    expect(shownLine(first.body)).toMatch(
      /^Alerts: showing 1-100 of [\d,]+ critical open alerts, most severe first\.$/,
    );
    const next = relHref(first.body, 'next') as string;
    expect(next).toMatch(/^\/alerts\?status=open&severity=critical&after=/);
    const second = await get(next);
    expect(shownLine(second.body)).toMatch(/^Alerts: showing 101-/);
    const prev = relHref(second.body, 'prev') as string;
    expect(prev).toBe('/alerts?status=open&severity=critical');
    expect(customersOn((await get(prev)).body)).toEqual(customersOn(first.body));
  });

  it('/alerts?status=resolved pages the resolved alerts, newest first', async () => {
    const r = await get('/alerts?status=resolved');
    expect(shownLine(r.body)).toBe('Resolved alerts: showing 1-200 of 1,050, newest first.');
    expect(customersOn(r.body)[0]).toBe('R1049');
    const api = (await get('/api/alerts?status=resolved')).json as {
      resolved: Alert[];
      paging: { resolved: { from: number; to: number; total: number; next: string } };
    };
    expect(api.resolved).toHaveLength(200);
    expect(api.paging.resolved).toMatchObject({ from: 1, to: 200, total: 1050 });
    const more = (await get(api.paging.resolved.next)).json as { paging: { resolved: { from: number } } };
    expect(more.paging.resolved.from).toBe(201);
  });

  it('/customers: the receivables table a page of 200 at a time, the totals of all 2,500', async () => {
    const first = await get(`/customers?asOf=${AS_OF}`);
    expect(shownLine(first.body)).toBe('Customers: showing 1-200 of 2,500, largest overdue first.');
    expect(text(first.body)).toContain('2,500 customers; the totals are of all of them.');
    expect(text(/<tfoot>([\s\S]*?)<\/tfoot>/.exec(first.body)?.[1] ?? '')).toMatch(
      /^Total EUR 2,500 customers EUR 250,000\.00 EUR/,
    );
    const last = await get(`/customers?asOf=${AS_OF}&page=13`);
    expect(shownLine(last.body)).toBe('Customers: showing 2,401-2,500 of 2,500, largest overdue first.');
    expect(relHref(last.body, 'prev')).toBe(`/customers?asOf=${AS_OF}&page=12`);
    expect(relHref(last.body, 'next')).toBeUndefined();
    const api = (await get(`/api/customers?asOf=${AS_OF}`)).json as { customers: unknown[] };
    expect(api.customers).toHaveLength(2500);
  });

  it('a page link that is not one the console made is a 400, and so is an unknown filter', async () => {
    expect((await get('/alerts?after=not-a-cursor')).status).toBe(400);
    expect((await get('/alerts?severity=urgent')).status).toBe(400);
    expect((await get('/alerts?status=closed')).status).toBe(400);
  });

  it('in Chromium: the page says which part it shows, and Next goes on to 101-200', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${con.url}/alerts`);
      expect((await page.locator('p.shown').textContent())?.trim()).toBe(
        'Alerts: showing 1-100 of 2,500, most severe first.',
      );
      await page.getByRole('link', { name: 'Next →' }).first().click();
      await page.waitForURL(/after=/);
      expect((await page.locator('p.shown').textContent())?.trim()).toBe(
        'Alerts: showing 101-200 of 2,500, most severe first.',
      );
      expect(await page.locator('nav.pager a[rel="prev"]').count()).toBe(2); // above and under the table
    } finally {
      await browser.close();
    }
  });
});

describe('the CLI prints every alert, or says N of M', () => {
  it('sentinel alerts --limit 50 says "showing 1-50 of 2,500"; --json has all 2,500', async () => {
    const [limited, json] = await Promise.all([
      sentinel(['alerts', '--limit', '50', '--data-dir', dir], dir),
      sentinel(['alerts', '--json', '--data-dir', dir], dir),
    ]);
    expect(limited.code, limited.stderr).toBe(0);
    const lines = limited.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2 + 50 + 2);
    expect(lines.at(-1)).toBe(
      'showing 1-50 of 2,500 active alerts, most severe first (without --limit every one is printed); answer one with: sentinel alerts ack|snooze|resolve <customer>/<rule>',
    );
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as Alert[]).map((a) => a.customerId)).toEqual(
      (await env.store.listAlerts('active')).map((a) => a.customerId),
    );
    const both = await sentinel(['alerts', '--json', '--limit', '5', '--data-dir', dir], dir);
    expect(both.code).toBe(2);
  });

  it('sentinel alerts ack ZZZ-LAST/daysPastDue finds the alert of the customer that sorts last', async () => {
    const r = await sentinel(
      ['alerts', 'ack', `${LAST}/daysPastDue`, '--by', 'lists-test', '--data-dir', dir],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${LAST}/daysPastDue: open -> acknowledged`);
    expect(await env.store.activeAlert(LAST, 'daysPastDue')).toMatchObject({ status: 'acknowledged' });
    const missing = await sentinel(['alerts', 'ack', 'NOBODY/daysPastDue', '--data-dir', dir], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no active alert NOBODY/daysPastDue');
  });
});

describe('other lists', () => {
  it('ingest runs: every one, counted, paged newest first, and the CLI prints all or says N of M', async () => {
    for (let i = 0; i < 120; i++) {
      const at = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString();
      const run: IngestRun = {
        runId: `lists-run-${String(i).padStart(3, '0')}`,
        file: `invoices/${i}.csv`,
        objectRef: `test://invoices/${i}.csv`,
        kinds: ['invoices'],
        profile: 'canonical-invoices',
        status: 'processed',
        rowsRead: 1,
        accepted: { invoices: 1 },
        acceptedTotal: 1,
        rejected: 0,
        warnings: [],
        customersChanged: 0,
        asOf: at.slice(0, 10),
        startedAt: at,
        finishedAt: at,
      };
      await env.store.putRun(run, []);
    }
    const q = new ReceivablesQueries(env.store);
    const all = await q.runs();
    expect(all.length).toBe(121); // and the invoices upload of the book
    const first = await q.runsPage({ size: 50 });
    expect([first.from, first.items.length, first.total]).toEqual([1, 50, 121]);
    const page = await get('/runs');
    expect(shownLine(page.body)).toBe('Runs: showing 1-50 of 121, newest first.');
    const last = await get('/runs?limit=100');
    expect(shownLine((await get(relHref(last.body, 'next') as string)).body)).toBe(
      'Runs: showing 101-121 of 121, newest first.',
    );
    const [cli, cliLimited] = await Promise.all([
      sentinel(['runs', '--data-dir', dir], dir),
      sentinel(['runs', '--limit', '10', '--data-dir', dir], dir),
    ]);
    expect(cli.stdout.trimEnd().split('\n').at(-1)).toBe('121 ingest runs, newest first');
    expect(cli.stdout.split('\n').filter((l) => l.includes('lists-run-'))).toHaveLength(120);
    expect(cliLimited.stdout.trimEnd().split('\n').at(-1)).toBe(
      'showing 1-10 of 121 ingest runs, newest first (without --limit every one is printed)',
    );
  });

  it('transfers: the page and the API page them newest first and say of how many; the form says its suggestions are the first 1,000 of 2,500 customers', async () => {
    const { transfers, web } = await startTransfersConsole(env, dir);
    try {
      const empty = await (await fetch(`${web.url}/transfers`)).text();
      // The customer suggestions (the page's other selects, the request's type and the list's filters, aside).
      const suggestions = /<datalist id="known-customers">([\s\S]*?)<\/datalist>/.exec(empty)?.[1] ?? '';
      expect((suggestions.match(/<option value="/g) ?? []).length).toBe(1000);
      expect(text(empty)).toContain(
        'Suggestions: the first 1,000 of 2,500 customers on file, by id; any id on file can be typed.',
      );
      expect(text(empty)).toContain('Requested transfers (0) No transfer has been requested yet.');
      // 130 requests, as the store keeps them (no workflow started), a minute apart.
      const made = Array.from({ length: 130 }, (_, i) => `TR-LIST-${String(i).padStart(3, '0')}`);
      for (const [i, transferId] of made.entries()) {
        const requestedAt = new Date(Date.UTC(2026, 2, 1) + i * 60_000).toISOString();
        await transfers.store.createTransfer({
          transferId,
          request: {
            customerId: ids[i] as string,
            type: 'refund',
            amount: 10000,
            currency: 'EUR',
            beneficiaryName: 'Somebody',
            beneficiaryAccount: 'DE89370400440532013000',
            reason: 'lists test',
            requester: 'lists-test',
          },
          requestedAt,
          requestedOn: requestedAt.slice(0, 10),
          status: 'pending',
        });
      }
      const page = await (await fetch(`${web.url}/transfers`)).text();
      expect(shownLine(page)).toBe('Transfers: showing 1-100 of 130, newest first.');
      expect(text(page)).toContain('Requested transfers (130)');
      const second = await (await fetch(`${web.url}${relHref(page, 'next')}`)).text();
      expect(shownLine(second)).toBe('Transfers: showing 101-130 of 130, newest first.');
      const api = (await (await fetch(`${web.url}/api/transfers?limit=50`)).json()) as {
        transfers: { transferId: string }[];
        total: number;
        from: number;
        next: string;
      };
      expect([api.transfers.length, api.total, api.from, api.transfers[0]?.transferId]).toEqual([
        50,
        130,
        1,
        'TR-LIST-129',
      ]);
      const more = (await (
        await fetch(`${web.url}/api/transfers?limit=50&after=${encodeURIComponent(api.next)}`)
      ).json()) as { transfers: { transferId: string }[]; from: number; prev: string | null };
      expect([more.from, more.transfers[0]?.transferId, more.prev]).toEqual([51, 'TR-LIST-079', null]);
      expect((await fetch(`${web.url}/api/transfers?limit=5000`)).status).toBe(400);
    } finally {
      await web.close();
      await transfers.idle();
    }
  });

  it("a run's reviews, in 16 shards, page by customer id: merged in order, none twice, none missed", async () => {
    const reviews = new DynamoReviewStore({ client: env.store.client, tableName: env.store.tableName });
    const customers = Array.from({ length: 450 }, (_, i) => `RV${String(i).padStart(3, '0')}`);
    await reviews.completeBatch({
      reviews: customers.map((customerId, i) => ({
        ...failedReview(
          {
            runId: 'lists-run',
            customerId,
            due: 'first review',
            asOf: AS_OF,
            now: `${AS_OF}T08:00:00Z`,
            policyId: 'p',
          },
          new Error('seeded'),
        ),
        attention: i % 3 === 0,
      })),
      states: [],
      limitChanges: [],
    });
    const seen: string[] = [];
    const froms: number[] = [];
    let after: string | undefined;
    do {
      const p = await reviews.reviewsPage('lists-run', { size: 200, after });
      expect(p.total).toBe(450);
      froms.push(p.from);
      seen.push(...p.items.map((r) => r.customerId));
      after = p.next;
    } while (after);
    expect(froms).toEqual([1, 201, 401]);
    expect(seen).toEqual(customers);
    const attention = await reviews.reviewsPage('lists-run', { size: 200 }, { attention: true });
    expect(attention.total).toBe(150);
    expect(attention.items.every((r) => r.attention)).toBe(true);
    expect((await reviews.reviewsOf('lists-run')).map((r) => r.customerId)).toEqual(customers);
  });
});

describe('a table made by an earlier release', () => {
  it('has its active alerts re-keyed by severity once, so they page most severe first', async () => {
    const old = await openLocal({ inMemory: true });
    try {
      const { client, tableName } = old.store;
      // As the earlier release stored them: the index key without the severity; no marker yet.
      for (const a of [alert('A-INFO', 'info', 'open'), alert('B-CRIT', 'critical', 'open')])
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall(
              {
                ...a,
                pk: `CUST#${a.customerId}`,
                sk: `ALERT#${a.rule}`,
                type: 'alert',
                gsi1pk: 'ALERTS#active',
                gsi1sk: `${a.customerId}#${a.rule}`,
              },
              { removeUndefinedValues: true },
            ),
          }),
        );
      await client.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: { pk: { S: 'SCHEMA' }, sk: { S: 'ACTIVE-ALERT-KEYS#severity' } },
        }),
      );
      expect((await old.store.listAlerts('active')).map((a) => a.customerId)).toEqual(['A-INFO', 'B-CRIT']);
      expect(await old.store.upgradeAlertKeys()).toBe(2);
      expect((await old.store.listAlerts('active')).map((a) => a.customerId)).toEqual(['B-CRIT', 'A-INFO']);
      expect(await old.store.activeAlertCounts()).toEqual({ critical: 1, high: 0, warning: 0, info: 1 });
      expect(await old.store.upgradeAlertKeys()).toBe(0);
    } finally {
      await old.close();
    }
  });
});
