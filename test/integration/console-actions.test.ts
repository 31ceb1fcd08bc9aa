import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../functions/core/dates.ts';
import { formatMoney } from '../../functions/core/money.ts';
import type { Alert } from '../../functions/credit/alerts.ts';
import type { RuleName, Severity } from '../../functions/credit/policy.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import type { Transfer } from '../../functions/transfers/ports.ts';
import { cmdAlerts } from '../../infra/local/cli/credit.ts';
import type { RunningConsole } from '../../infra/local/console/index.ts';
import { demoFiles } from '../../infra/local/runtime/demo.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, listMail } from '../../infra/local/runtime/transfers.ts';
import { rows, text } from './pages.ts';
import { launchChromium, startTransfersConsole, until } from './transfers-console.ts';

/**
 * Working from the console, against the real local stack (dynalite, the local workflow engine,
 * the approval emails in the outbox): alerts answered one at a time and in bulk through the same
 * `applyCommand` the CLI uses (each compared with `sentinel alerts ...` run on a twin alert), the
 * cross-site guard, the Approvals page and its links, the customer picker, the Recall button, and
 * one walk in headless Chromium.
 */

const TODAY = new Date().toISOString().slice(0, 10);
const OPERATOR = 'olga';
const REQUESTER = 'rita';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let web: RunningConsole;
let browser: Browser | undefined;
const created: string[] = [];

/** An open alert as the evaluation stores it; twins differ only in the customer. */
function alertOf(customerId: string, rule: RuleName, severity: Severity = 'critical'): Alert {
  const openedAt = `${TODAY}T05:00:00.000Z`;
  return {
    alertId: `${customerId}/${rule}/${TODAY}`,
    customerId,
    rule,
    status: 'open',
    severity,
    action: 'review',
    summary: `${rule} seen for the test`,
    evidence: { seen: 1 },
    policyId: 'test-policy',
    openedAt,
    openedAsOf: TODAY,
    seenAsOf: TODAY,
    notifiedSeverity: severity,
    history: [{ at: openedAt, event: 'opened', severity }],
  };
}

const active = (customerId: string, rule: RuleName) => env.store.activeAlert(customerId, rule);

/** An alert as a person answered it, without what differs between twins (who it is about, when). */
function answered(a: Alert | undefined) {
  if (!a) throw new Error('no alert');
  const { alertId: _i, customerId: _c, openedAt: _o, resolvedAt, history, ...rest } = a;
  return {
    ...rest,
    resolved: resolvedAt !== undefined,
    history: history.map(({ at: _a, ...e }) => e),
  };
}

/** `sentinel alerts <args>` in this process, on this test's store (as `npm start`'s shared one is reached). */
async function cli(...args: string[]): Promise<number> {
  const saved = { endpoint: process.env.SENTINEL_DYNAMODB_ENDPOINT, zone: process.env.SENTINEL_TIME_ZONE };
  process.env.SENTINEL_DYNAMODB_ENDPOINT = env.endpoint;
  process.env.SENTINEL_TIME_ZONE = 'UTC';
  try {
    return await cmdAlerts([...args, '--data-dir', dir]);
  } finally {
    for (const [k, v] of [
      ['SENTINEL_DYNAMODB_ENDPOINT', saved.endpoint],
      ['SENTINEL_TIME_ZONE', saved.zone],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

const post = (path: string, body: URLSearchParams | string, headers: Record<string, string> = {}) =>
  fetch(`${web.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...FORM, ...headers },
    body: body.toString(),
  });

const answer = (fields: [string, string][], headers: Record<string, string> = {}) =>
  post('/alerts/answer', new URLSearchParams(fields), headers);

async function resolvedAlert(customerId: string, rule: RuleName): Promise<Alert | undefined> {
  return (await env.store.listAlerts('resolved')).find((a) => a.customerId === customerId && a.rule === rule);
}

/** A POST through node:http, so the Host header can be any name. */
function rawPost(path: string, host: string, body: string): Promise<number> {
  const u = new URL(web.url);
  return new Promise((ok, fail) => {
    const req = request(
      { host: u.hostname, port: u.port, path, method: 'POST', headers: { ...FORM, host } },
      (res) => {
        res.resume();
        res.on('end', () => ok(res.statusCode ?? 0));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

async function requestTransfer(amount: string, customerId = 'C1001'): Promise<Transfer> {
  const r = await transfers.app.request({
    customerId,
    type: 'refund',
    amount,
    currency: 'EUR',
    beneficiaryName: 'Nordlicht Logistik GmbH',
    beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
    reason: `refund of ${amount}`,
    requester: REQUESTER,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  created.push(r.transfer.transferId);
  return r.transfer;
}

/** Waits until a transfer's first level has its approvals (the gate ran, the emails were sent). */
const atLevel = (id: string) =>
  until(`transfer ${id} waiting at a level`, async () => {
    const s = await transfers.app.show(id);
    return s?.approvals.some((a) => a.status === 'pending') ? s : undefined;
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-actions-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  for (const [key, csv] of Object.entries(demoFiles(TODAY))) {
    const kind = key.split('/')[0] as Kind;
    if (kind !== 'customers' && kind !== 'invoices' && kind !== 'payments') continue;
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
        objectRef: `test://${key}`,
        profile: canonicalProfile(kind),
        rejects: { write: () => undefined, close: async () => `${key}.rejects.csv` },
      },
    );
  }
  // Twins (T1 answered in the console, T2 with the CLI), five for bulk, three for the browser.
  const alerts = [
    ...['T1', 'T2'].flatMap((c) =>
      (['daysPastDue', 'overdueAmount', 'limitUse'] as const).map((r) => alertOf(c, r)),
    ),
    ...['B1', 'B2', 'B3', 'B4', 'B5'].map((c) => alertOf(c, 'daysPastDue', 'high')),
    ...['W1', 'W2', 'W3'].map((c) => alertOf(c, 'coverExpiring', 'warning')),
    alertOf('X1', 'daysPastDue', 'info'),
  ];
  await env.store.saveEvaluation(alerts.map((a) => ({ customerId: a.customerId, alerts: [a] })));
  ({ transfers, web } = await startTransfersConsole(env, dir, { more: () => ({ operator: OPERATOR }) }));
});

afterAll(async () => {
  await browser?.close();
  for (const id of created) {
    const s = await transfers.app.show(id).catch(() => undefined);
    if (s?.transfer.status === 'pending') await transfers.app.recall(id, REQUESTER).catch(() => undefined);
    const executionId = (await transfers.app.show(id).catch(() => undefined))?.transfer.executionId;
    if (executionId) await transfers.workflow.execution(executionId)?.done;
  }
  await transfers?.idle();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('answering alerts from the console', () => {
  it('the Alerts page has a form on each row and one for the ticked alerts, the operator filled in', async () => {
    const page = await (await fetch(`${web.url}/alerts`)).text();
    expect(page).toContain('<form id="bulk" class="answer bulk" method="post" action="/alerts/answer">');
    expect((page.match(/<details class="answer">/g) ?? []).length).toBe(15);
    expect((page.match(/type="checkbox" name="id"/g) ?? []).length).toBe(15);
    expect(page).toContain('value="T1/daysPastDue/');
    expect((page.match(new RegExp(`name="actor" value="${OPERATOR}"`, 'g')) ?? []).length).toBe(16);
    expect(page).toContain(`<a href="/approvals">Approvals</a>`);
  });

  it('acknowledge with a note: as the CLI would, and back to the list with its filters (303)', async () => {
    const back = '/alerts?status=open&severity=critical';
    const r = await answer([
      ['id', `T1/daysPastDue/${TODAY}`],
      ['action', 'ack'],
      ['actor', 'ana'],
      ['note', 'customer called, paying Friday'],
      ['back', back],
    ]);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/alerts?status=open&severity=critical&did=ack&n=1');
    expect(
      await cli('ack', 'T2/daysPastDue', '--by', 'ana', '--note', 'customer called, paying Friday'),
    ).toBe(0);
    const mine = answered(await active('T1', 'daysPastDue'));
    expect(mine.status).toBe('acknowledged');
    expect(mine.history.at(-1)).toEqual({
      event: 'acknowledged',
      by: 'ana',
      note: 'customer called, paying Friday',
    });
    expect(mine).toEqual(answered(await active('T2', 'daysPastDue')));
    const shown = await (await fetch(`${web.url}${r.headers.get('location')}`)).text();
    expect(text(shown)).toContain('1 alert acknowledged.');
  });

  it('snooze until a date: as the CLI would; an empty actor is the configured operator', async () => {
    const until = addDays(TODAY, 14);
    const r = await answer([
      ['id', `T1/overdueAmount/${TODAY}`],
      ['action', 'snooze'],
      ['actor', ''],
      ['until', until],
    ]);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/alerts?did=snooze&n=1');
    expect(await cli('snooze', 'T2/overdueAmount', '--by', OPERATOR, '--until', until)).toBe(0);
    const mine = answered(await active('T1', 'overdueAmount'));
    expect(mine).toMatchObject({ status: 'snoozed', snoozedUntil: until });
    expect(mine.history.at(-1)).toEqual({ event: 'snoozed', by: OPERATOR, note: `until ${until}` });
    expect(mine).toEqual(answered(await active('T2', 'overdueAmount')));
  });

  it('resolve with a note: as the CLI would (the alert leaves the active list)', async () => {
    const r = await answer([
      ['id', `T1/limitUse/${TODAY}`],
      ['action', 'resolve'],
      ['actor', 'ben'],
      ['note', 'limit raised by phone'],
    ]);
    expect(r.status).toBe(303);
    expect(await cli('resolve', 'T2/limitUse', '--by', 'ben', '--note', 'limit raised by phone')).toBe(0);
    expect(await active('T1', 'limitUse')).toBeUndefined();
    const mine = answered(await resolvedAlert('T1', 'limitUse'));
    expect(mine).toMatchObject({ status: 'resolved', resolved: true });
    expect(mine.history.at(-1)).toEqual({ event: 'resolved', by: 'ben', note: 'limit raised by phone' });
    expect(mine).toEqual(answered(await resolvedAlert('T2', 'limitUse')));
  });

  it('what the CLI refuses is refused the same way, and a snooze without a date changes nothing', async () => {
    const before = await active('T1', 'daysPastDue');
    const again = await answer([
      ['id', `T1/daysPastDue/${TODAY}`],
      ['action', 'ack'],
    ]);
    expect(again.status).toBe(409);
    expect(text(await again.text())).toContain(`alert T1/daysPastDue/${TODAY} is already acknowledged`);
    const noDate = await answer([
      ['id', `B1/daysPastDue/${TODAY}`],
      ['action', 'snooze'],
    ]);
    expect(noDate.status).toBe(400);
    expect(text(await noDate.text())).toContain(
      'Snoozing needs a date to snooze until. Nothing was changed.',
    );
    const past = await answer([
      ['id', `B1/daysPastDue/${TODAY}`],
      ['action', 'snooze'],
      ['until', TODAY],
    ]);
    expect(past.status).toBe(409);
    expect(text(await past.text())).toContain(`snooze until ${TODAY}: that is not after today (${TODAY})`);
    const none = await answer([['action', 'ack']]);
    expect(none.status).toBe(400);
    expect(text(await none.text())).toContain('Tick at least one alert.');
    expect(await active('T1', 'daysPastDue')).toEqual(before);
    expect((await active('B1', 'daysPastDue'))?.status).toBe('open');
  });

  it('bulk acts on exactly the ticked alerts', async () => {
    const all = ['B1', 'B2', 'B3', 'B4', 'B5'];
    const before = new Map(
      await Promise.all(all.map(async (c) => [c, await active(c, 'daysPastDue')] as const)),
    );
    const ticked = ['B1', 'B3', 'B4'];
    const r = await answer([
      ...ticked.map((c) => ['id', `${c}/daysPastDue/${TODAY}`] as [string, string]),
      ['action', 'ack'],
      ['actor', 'carl'],
      ['note', 'weekly call list'],
      ['back', '/alerts?severity=high'],
    ]);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/alerts?severity=high&did=ack&n=3');
    for (const c of all) {
      const now = await active(c, 'daysPastDue');
      if (ticked.includes(c)) {
        expect(now?.status).toBe('acknowledged');
        expect(now?.history.at(-1)).toMatchObject({
          event: 'acknowledged',
          by: 'carl',
          note: 'weekly call list',
        });
      } else expect(now).toEqual(before.get(c));
    }
  });

  it('a cross-site post or a foreign Host is refused and changes nothing', async () => {
    const body: [string, string][] = [
      ['id', `X1/daysPastDue/${TODAY}`],
      ['action', 'resolve'],
    ];
    const before = await active('X1', 'daysPastDue');
    const cross = await answer(body, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(cross.status).toBe(403);
    expect(text(await cross.text())).toContain('Nothing was changed.');
    const origin = await answer(body, { origin: 'https://evil.example' });
    expect(origin.status).toBe(403);
    expect(await rawPost('/alerts/answer', 'evil.example', new URLSearchParams(body).toString())).toBe(421);
    expect(await active('X1', 'daysPastDue')).toEqual(before);
  });
});

describe('approvals and transfers', () => {
  it('the Approvals page lists every waiting approval oldest first, and each link opens its approval page', async () => {
    const first = await requestTransfer('120.00');
    await atLevel(first.transferId);
    const second = await requestTransfer('75.50', 'C1002');
    await atLevel(second.transferId);
    const pending = await transfers.app.pendingApprovals();
    const json = (await (await fetch(`${web.url}/api/approvals`)).json()) as {
      approvals: {
        approvalId: string;
        transferId: string;
        notifiedAt: string;
        amount: string;
        link: string;
        customerId: string;
        approverName: string;
      }[];
    };
    expect(new Set(json.approvals.map((a) => a.approvalId))).toEqual(
      new Set(pending.map((a) => a.approvalId)),
    );
    expect(json.approvals.length).toBeGreaterThanOrEqual(4); // two approvers at level 1, two transfers
    const times = json.approvals.map((a) => a.notifiedAt);
    expect(times).toEqual([...times].sort());
    expect(json.approvals[0]?.transferId).toBe(first.transferId);
    expect(json.approvals.at(-1)?.transferId).toBe(second.transferId);
    expect(json.approvals.find((a) => a.transferId === first.transferId)).toMatchObject({
      amount: '120.00',
      customerId: 'C1001',
    });

    const html = await (await fetch(`${web.url}/approvals`)).text();
    expect(html).toContain('<a href="/approvals" aria-current="page">Approvals</a>');
    const table = rows(html).slice(1);
    expect(table.map((r) => r[1]?.split(' ')[0])).toEqual(json.approvals.map((a) => a.transferId));
    expect(table[0]?.[3]).toBe(formatMoney(12000, 'EUR'));
    expect(table[0]?.[2]).toMatch(/^C1001 \S/); // the id and the customer's name
    expect(table[0]?.[4]).toBe(
      `1 of ${first.levels?.length ?? (await transfers.app.show(first.transferId))?.transfer.levels?.length} Credit controller`,
    );

    // The same link the approver's email carries, and it opens the approval page.
    for (const a of json.approvals.filter((x) => x.transferId === first.transferId)) {
      const person = pending.find((p) => p.approvalId === a.approvalId)?.approver as string;
      const mail = await until(`the email to ${person}`, async () =>
        (await listMail(dir)).find((m) => m.file.includes(`-approve-${first.transferId}-${person}.eml`)),
      );
      expect(mail.text).toContain(a.link);
      expect(html).toContain(`href="${a.link}"`);
      const opened = await fetch(a.link);
      expect(opened.status).toBe(200);
      expect(await opened.text()).toContain(first.transferId);
    }
  });

  it('Recall works for the requester only; anyone else gets a clear refusal and nothing changes', async () => {
    const t = await requestTransfer('33.00');
    await atLevel(t.transferId);
    const page = await (await fetch(`${web.url}/transfers/${t.transferId}`)).text();
    expect(page).toContain(`action="/transfers/${t.transferId}/recall-form"`);
    const path = `/transfers/${t.transferId}/recall-form`;
    const other = await post(path, new URLSearchParams({ by: 'chen' }));
    expect(other.status).toBe(403);
    expect(text(await other.text())).toContain(
      `Only the requester can recall a transfer, and chen did not request ${t.transferId}. Nothing was changed.`,
    );
    const cross = await post(path, new URLSearchParams({ by: REQUESTER }), {
      'sec-fetch-site': 'cross-site',
    });
    expect(cross.status).toBe(403);
    expect((await transfers.app.show(t.transferId))?.transfer.status).toBe('pending');
    const mine = await post(path, new URLSearchParams({ by: REQUESTER }));
    expect(mine.status).toBe(303);
    expect(mine.headers.get('location')).toBe(`/transfers/${t.transferId}`);
    const after = await transfers.app.show(t.transferId);
    expect(after?.transfer).toMatchObject({ status: 'recalled', closedBy: REQUESTER });
    expect(after?.approvals.every((a) => a.status !== 'pending')).toBe(true);
    const again = await post(path, new URLSearchParams({ by: REQUESTER }));
    expect(again.status).toBe(409);
    expect(text(await again.text())).toContain('The transfer is recalled: there is nothing to recall.');
  });

  it('the customer picker finds customers by id or name server-side and fills the id in', async () => {
    const byName = await (
      await fetch(`${web.url}/transfers?find=nordlicht&search=1&amount=9.00#request`)
    ).text();
    const picks = [...byName.matchAll(/name="pick" value="([^"]+)"/g)].map((m) => m[1]);
    expect(picks).toEqual(['C1001']);
    expect(byName).toContain('id="amount" name="amount" value="9.00"');
    const byId = await (await fetch(`${web.url}/transfers?find=c100&search=1`)).text();
    expect([...byId.matchAll(/name="pick" value="([^"]+)"/g)].map((m) => m[1])).toEqual(
      Array.from({ length: 9 }, (_, i) => `C100${i + 1}`),
    );
    const none = await (await fetch(`${web.url}/transfers?find=zzzz-nobody`)).text();
    expect(text(none)).toContain('No customer on file has "zzzz-nobody" in its id or name.');
    const picked = await (await fetch(`${web.url}/transfers?find=nordlicht&pick=C1001&amount=9.00`)).text();
    expect(picked).toContain('id="customerId" name="customerId" value="C1001"');
    expect(text(picked)).toContain('Picked C1001 (Nordlicht Logistik GmbH)');
    expect(picked).toContain('id="amount" name="amount" value="9.00"');
  });
});

describe('in a real browser', () => {
  it('acknowledges an alert by clicking its row form, and snoozes two ticked ones at once', async () => {
    browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${web.url}/alerts?severity=warning`);
    await page.screenshot({ path: '/tmp/actions15-alerts-1280.png', fullPage: true });
    const row = page.locator('#active-alerts tbody tr').filter({ hasText: 'W1' });
    await row.locator('summary').click();
    await row.locator('input[name=note]').fill('renewal asked for');
    await Promise.all([page.waitForURL(/did=ack/), row.getByRole('button', { name: 'Acknowledge' }).click()]);
    expect(page.url()).toBe(`${web.url}/alerts?severity=warning&did=ack&n=1`);
    expect(await page.locator('p.done').textContent()).toBe('1 alert acknowledged.');
    expect((await active('W1', 'coverExpiring'))?.history.at(-1)).toMatchObject({
      event: 'acknowledged',
      by: OPERATOR,
      note: 'renewal asked for',
    });

    const until = addDays(TODAY, 7);
    await page.getByLabel('select W2/coverExpiring').check();
    await page.getByLabel('select W3/coverExpiring').check();
    const bulk = page.locator('form#bulk');
    await bulk.locator('input[name=until]').fill(until);
    await Promise.all([page.waitForURL(/did=snooze/), bulk.getByRole('button', { name: 'Snooze' }).click()]);
    expect(await page.locator('p.done').textContent()).toBe('2 alerts snoozed.');
    for (const c of ['W2', 'W3'])
      expect(await active(c, 'coverExpiring')).toMatchObject({ status: 'snoozed', snoozedUntil: until });
    expect((await active('W1', 'coverExpiring'))?.status).toBe('acknowledged');
    await page.screenshot({ path: '/tmp/actions15-alerts-after-1280.png', fullPage: true });

    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${web.url}/alerts`);
    await page.screenshot({ path: '/tmp/actions15-alerts-360.png', fullPage: true });
    await page.goto(`${web.url}/approvals`);
    await page.screenshot({ path: '/tmp/actions15-approvals-360.png', fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: '/tmp/actions15-approvals-1280.png', fullPage: true });
    await page.goto(`${web.url}/transfers?find=c10&search=1#request`);
    await page.screenshot({ path: '/tmp/actions15-picker-1280.png' });
    await ctx.close();
  });
});
