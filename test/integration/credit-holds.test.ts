import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCheckLog } from '../../functions/adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../../functions/adapters/dynamodb-checks.ts';
import { cancelCheck, checkCredit } from '../../functions/checks/app.ts';
import type { CheckOrder } from '../../functions/checks/decide.ts';
import type { HeldOrder } from '../../functions/checks/held.ts';
import { type OrderReleaseDeps, recheckHeld, requestOrderRelease } from '../../functions/checks/holds.ts';
import { chainCheckLog, checksOnTrail } from '../../functions/checks/log.ts';
import type { CheckDeps } from '../../functions/checks/ports.ts';
import { addDays, dateInZone } from '../../functions/core/dates.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import type { Transfer } from '../../functions/transfers/ports.ts';
import { publishConsole } from '../../infra/local/cli/transfers.ts';
import { type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, localTransfers } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { sentinel } from './cli-run.ts';
import { ingestText } from './read-meter.ts';
import {
  approvalPolicyWith,
  decideByMail,
  endTransfers,
  launchChromium,
  levelMailOf,
  until,
} from './transfers-console.ts';

/**
 * Held orders (README "Held orders", issue 18 item 5) on dynalite with the real check, the real
 * approval chain (the ASL on the local engine, approval emails as .eml files) and the shipped
 * policies. Every customer is in EUR with invoices issued 10 days ago and due in 20 (nothing
 * overdue, no alert), so the only hold is the limit:
 *
 *   PAY    limit 50,000.00, owes 30,000.00 + 15,000.00 = 45,000.00. SO-P1 of 8,000.00:
 *          45,000.00 + 8,000.00 = 53,000.00 > 50,000.00, over by 3,000.00: hold OVER_LIMIT.
 *          PAY then pays the 15,000.00 invoice: open items 30,000.00, exposure with SO-P1
 *          38,000.00, 12,000.00 of headroom: the re-check approves, reserves and releases it.
 *   RAISE  limit 20,000.00, owes 15,000.00. SO-R1 of 6,000.00: 21,000.00, over by 1,000.00: hold.
 *          Its limit raised to 30,000.00 (a customers upload): 9,000.00 of headroom: released.
 *   OLD, CANC, TWIN, REL, CON: limit 10,000.00, owe 9,000.00; an order of 2,000.00 makes
 *          11,000.00, over by 1,000.00: hold.
 */
const TODAY = dateInZone(new Date(), 'UTC');
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
const clock = { now: () => new Date() };
let dir: string;
let env: LocalEnv;
let deps: CheckDeps;
let store: DynamoCheckStore;
let transfers: LocalTransfers;
let releases: OrderReleaseDeps;

const SMALL = ['OLD', 'CANC', 'TWIN', 'REL', 'CON', 'CLI', 'FIFO'];

const order = (customerId: string, orderId: string, amount: number): CheckOrder => ({
  customerId,
  orderId,
  amount,
  currency: 'EUR',
  requestedShipDate: addDays(TODAY, 3),
  stage: 'order',
  channel: 'web',
});
const at = (today = TODAY) => ({ today, now: new Date().toISOString() });
const check = (o: CheckOrder, today = TODAY) => checkCredit(deps, policy, o, at(today));
const held = (c: string, o: string) => store.getHeld(c, o) as Promise<HeldOrder>;

/** The checks' log chained to the trail, and its events of a kind for an order. */
async function logged(kind: string, orderId: string) {
  await chainCheckLog(
    { log: new DynamoCheckLog(env.store.client, env.store.tableName), audit: transfers.store },
    { now: () => new Date() },
  );
  return checksOnTrail(await transfers.store.auditTrail()).filter(
    (e) => e.kind === kind && (e.data as { orderId?: string }).orderId === orderId,
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'credit-holds-'));
  env = await openLocal({ dataDir: join(dir, 'data'), inMemory: true });
  const now = new Date();
  await ingestText(
    env,
    'customers/c.csv',
    [
      'customer_id,name,country,industry,currency,payment_terms_days,credit_limit',
      'PAY,Pay GmbH,DE,retail,EUR,30,50000.00',
      'RAISE,Raise SA,FR,retail,EUR,30,20000.00',
      ...SMALL.map((c) => `${c},${c} BV,NL,retail,EUR,30,10000.00`),
    ].join('\n'),
    now,
  );
  const inv = (id: string, c: string, amount: string) =>
    `${id},${c},${addDays(TODAY, -10)},${addDays(TODAY, 20)},${amount},EUR`;
  await ingestText(
    env,
    'invoices/i.csv',
    [
      'invoice_id,customer_id,issue_date,due_date,amount,currency',
      inv('PAY-1', 'PAY', '30000.00'),
      inv('PAY-2', 'PAY', '15000.00'),
      inv('RAISE-1', 'RAISE', '15000.00'),
      ...SMALL.map((c) => inv(`${c}-1`, c, '9000.00')),
    ].join('\n'),
    now,
  );
  store = new DynamoCheckStore(env.store.client, env.store.tableName);
  deps = { store, log: new DynamoCheckLog(env.store.client, env.store.tableName) };
  const approvalPolicy = approvalPolicyWith(() => {});
  transfers = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy: async () => policy,
    approvalPolicy: async () => approvalPolicy,
    dataDir: dir,
    clock,
    today: () => TODAY,
    baseUrl: () => 'http://approvals.test',
  });
  releases = {
    ...deps,
    policy: async () => policy,
    approvalPolicy: async () => approvalPolicy,
    approvals: transfers.app,
    today: () => TODAY,
    clock,
  };
}, 60_000);

afterAll(async () => {
  await endTransfers(transfers);
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a held order', () => {
  it('is recorded once across repeated checks, with the reasons of its last check, in the queue', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await check(order('PAY', 'SO-P1', 800_000));
      expect(r.decision.outcome).toBe('hold');
      expect(r.decision.reasons.map((x) => x.code)).toEqual(['OVER_LIMIT']);
      // 45,000.00 + 8,000.00 = 53,000.00 against 50,000.00: over by 3,000.00.
      expect(r.decision.exposure.total).toBe(5_300_000);
      expect(r.decision.headroomAfter).toBe(-300_000);
    }
    const h = await held('PAY', 'SO-P1');
    expect(h).toMatchObject({
      customerId: 'PAY',
      orderId: 'SO-P1',
      state: 'held',
      version: 3,
      heldOn: TODAY,
      lastCheckedOn: TODAY,
      order: { amount: 800_000, currency: 'EUR', channel: 'web' },
      evidence: { currency: 'EUR', exposure: 5_300_000, limit: 5_000_000, headroomAfter: -300_000 },
    });
    expect(h.reasons.map((x) => x.code)).toEqual(['OVER_LIMIT']);
    const queue = (await store.heldOrders()).filter((x) => x.customerId === 'PAY');
    expect(queue.map((x) => x.orderId)).toEqual(['SO-P1']);
    // A block or a customer not on file is not queued.
    await check(order('NOBODY', 'SO-N1', 100));
    expect(await store.getHeld('NOBODY', 'SO-N1')).toBeUndefined();
  });

  it('releases itself after a payment: re-checked, approved, reserved, logged with what cleared', async () => {
    await ingestText(
      env,
      'payments/p.csv',
      `payment_id,customer_id,received_date,amount,currency,invoice_id\nPAY-P1,PAY,${TODAY},15000.00,EUR,PAY-2\n`,
      new Date(),
    );
    // Open items 30,000.00 + SO-P1 8,000.00 = 38,000.00 against 50,000.00: 12,000.00 left.
    const r = await recheckHeld(deps, policy, { ...at(), customers: ['PAY'] });
    expect(r).toMatchObject({
      rechecked: 1,
      released: [{ customerId: 'PAY', orderId: 'SO-P1', cleared: ['OVER_LIMIT'] }],
      held: [],
      expired: [],
    });
    const h = await held('PAY', 'SO-P1');
    expect(h).toMatchObject({ state: 'released', cleared: ['OVER_LIMIT'], closedBy: 'system' });
    const file = await store.loadCheckFile('PAY');
    expect(file.orders.reservations['SO-P1']).toMatchObject({ amount: 800_000, reservedOn: TODAY });
    expect((await store.heldOrders()).some((x) => x.orderId === 'SO-P1')).toBe(false);
    const [ev] = await logged('credit-check.released', 'SO-P1');
    expect(ev).toMatchObject({
      actor: 'system',
      data: {
        cleared: ['OVER_LIMIT'],
        exposure: 3_800_000,
        headroomAfter: 1_200_000,
        reservation: 'reserved',
      },
    });
    expect((ev?.data as { had: string[] } | undefined)?.had[0]).toContain(
      'OVER_LIMIT: The exposure with this order, 53,000.00 EUR, is over the limit of 50,000.00 EUR by 3,000.00 EUR.',
    );
  });

  it('releases itself after a limit raise', async () => {
    const first = await check(order('RAISE', 'SO-R1', 600_000));
    expect(first.decision.headroomAfter).toBe(-100_000);
    await ingestText(
      env,
      'customers/raise.csv',
      'customer_id,name,country,industry,currency,payment_terms_days,credit_limit\nRAISE,Raise SA,FR,retail,EUR,30,30000.00\n',
      new Date(),
    );
    const r = await recheckHeld(deps, policy, at());
    expect(r.released).toContainEqual({ customerId: 'RAISE', orderId: 'SO-R1', cleared: ['OVER_LIMIT'] });
    expect(await held('RAISE', 'SO-R1')).toMatchObject({ state: 'released' });
  });

  it("gives the headroom a raise frees to the customer's oldest held order first", async () => {
    // FIFO: limit 10,000.00, owes 9,000.00. SO-F1 of 2,000.00 (11,000.00) is held first, SO-F2 of
    // 1,500.00 (10,500.00) second. The limit raised to 12,000.00 leaves 3,000.00 of headroom: the
    // older SO-F1 is re-checked first and approved (11,000.00); SO-F2 would then make 12,500.00,
    // over by 500.00: still held. Taken newest first, SO-F2 would have been released instead.
    await check(order('FIFO', 'SO-F1', 200_000));
    await check(order('FIFO', 'SO-F2', 150_000));
    expect((await held('FIFO', 'SO-F2')).state).toBe('held');
    await ingestText(
      env,
      'customers/fifo.csv',
      'customer_id,name,country,industry,currency,payment_terms_days,credit_limit\nFIFO,FIFO BV,NL,retail,EUR,30,12000.00\n',
      new Date(),
    );
    const r = await recheckHeld(deps, policy, { ...at(), customers: ['FIFO'] });
    expect(r.released).toEqual([{ customerId: 'FIFO', orderId: 'SO-F1', cleared: ['OVER_LIMIT'] }]);
    expect(r.held).toEqual([{ customerId: 'FIFO', orderId: 'SO-F2', reasons: ['OVER_LIMIT'] }]);
    expect((await held('FIFO', 'SO-F2')).evidence.headroomAfter).toBe(-50_000);
    // Out of the queue, for the tests after this one.
    await cancelCheck(deps, { customerId: 'FIFO', orderId: 'SO-F2', by: 'rita' }, at());
    expect((await held('FIFO', 'SO-F2')).state).toBe('cancelled');
  });

  it('expires after holdDays (30 by default) without a check', async () => {
    await check(order('OLD', 'SO-O1', 200_000));
    const still = await recheckHeld(deps, policy, { ...at(addDays(TODAY, 30)), customers: ['OLD'] });
    expect(still.held.map((x) => x.orderId)).toEqual(['SO-O1']);
    const r = await recheckHeld(deps, policy, { ...at(addDays(TODAY, 31)), customers: ['OLD'] });
    expect(r.expired).toEqual([{ customerId: 'OLD', orderId: 'SO-O1', heldOn: TODAY }]);
    expect(await held('OLD', 'SO-O1')).toMatchObject({ state: 'expired', closedBy: 'system' });
    expect(await logged('credit-check.expired', 'SO-O1')).toHaveLength(1);
  });

  it('cancelled leaves the queue', async () => {
    await check(order('CANC', 'SO-C1', 200_000));
    expect(
      await cancelCheck(deps, { customerId: 'CANC', orderId: 'SO-C1', by: 'rita' }, at()),
    ).toBeUndefined();
    expect(await held('CANC', 'SO-C1')).toMatchObject({ state: 'cancelled', closedBy: 'rita' });
    expect((await store.heldOrders()).some((x) => x.orderId === 'SO-C1')).toBe(false);
    expect(await logged('credit-check.hold-cancelled', 'SO-C1')).toHaveLength(1);
  });

  it('two re-checks at once release it once: one reservation, one release logged', async () => {
    await check(order('TWIN', 'SO-T1', 200_000));
    await ingestText(
      env,
      'customers/twin.csv',
      'customer_id,name,country,industry,currency,payment_terms_days,credit_limit\nTWIN,TWIN BV,NL,retail,EUR,30,20000.00\n',
      new Date(),
    );
    const [a, b] = await Promise.all([
      recheckHeld(deps, policy, { ...at(), customers: ['TWIN'] }),
      recheckHeld(deps, policy, { ...at(), customers: ['TWIN'] }),
    ]);
    expect(a.released.length + b.released.length).toBe(1);
    const file = await store.loadCheckFile('TWIN');
    expect(Object.keys(file.orders.reservations)).toEqual(['SO-T1']);
    expect(await logged('credit-check.released', 'SO-T1')).toHaveLength(1);
  });
});

/** The approval emails of a level of a transfer. */
const levelMail = (transferId: string, level: number) => levelMailOf(dir, transferId, level);
const decide = (mail: { text: string; to: string }, decision: 'approve' | 'reject', comment = '') =>
  decideByMail(transfers, mail, decision, comment);
const transferOf = async (id: string) => (await transfers.app.show(id))?.transfer as Transfer;

describe('an order release on the approval chain', () => {
  const until2 = addDays(TODAY, 2);

  it('refuses a bad request, naming each field, and asks nothing', async () => {
    await check(order('REL', 'SO-X1', 200_000));
    const r = await requestOrderRelease(releases, {
      customerId: 'REL',
      orderId: 'SO-X1',
      reason: 'x',
      until: addDays(TODAY, 31),
      requester: 'nobody',
    });
    expect(r).toMatchObject({ ok: false, status: 400 });
    if (r.ok) return;
    expect(r.issues.map((i) => i.field)).toEqual(['reason', 'until', 'requester']);
    expect(r.issues[1]?.message).toContain('more than 30 days ahead');
    const none = await requestOrderRelease(releases, {
      customerId: 'REL',
      orderId: 'SO-NONE',
      reason: 'key account',
      until: until2,
      requester: 'rita',
    });
    expect(none).toMatchObject({ ok: false, status: 404 });
  });

  it('approved at every level: excepted until its end, a check approves with RELEASED_BY_APPROVAL, after it holds', async () => {
    const r = await requestOrderRelease(releases, {
      customerId: 'REL',
      orderId: 'SO-X1',
      reason: 'key account, the CFO vouches for the payment next week',
      until: until2,
      requester: 'rita',
    });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    const id = r.transferId;
    const t = await transferOf(id);
    // Its amount is the order's (2,000.00 EUR: the first band); the evidence beside it.
    expect(t.request).toMatchObject({
      type: 'order_release',
      amount: 200_000,
      currency: 'EUR',
      requester: 'rita',
    });
    expect(t.request.reason).toContain('OVER_LIMIT');
    expect(t.request.reason).toContain('exposure with the order 11,000.00 EUR, limit 10,000.00 EUR');
    expect(t.orderRelease).toMatchObject({
      orderId: 'SO-X1',
      until: until2,
      exposure: 1_100_000,
      limit: 1_000_000,
    });
    // Asked again with the same fields: the same request.
    const again = await requestOrderRelease(releases, {
      customerId: 'REL',
      orderId: 'SO-X1',
      reason: 'key account, the CFO vouches for the payment next week',
      until: until2,
      requester: 'rita',
    });
    expect(again).toMatchObject({ ok: true, transferId: id });
    const levels = (await until('the chain', async () => (await transferOf(id)).levels))?.length;
    // The shipped approval policy: 2,000.00 EUR is in the first band (1 level); REL rated C
    // (medium risk) +1; the order is over the headroom of 1,000.00 +1 (no beneficiary check: no
    // account receives money): 3 levels.
    expect((await transferOf(id)).chainWhy).toEqual([
      'amount up to 10,000.00 EUR: 1 level',
      'customer risk class medium: +1',
      'gate flag overLimit: +1',
    ]);
    for (let level = 1; level <= levels; level++) {
      const mail = await levelMail(id, level);
      // The approvers read the hold's evidence in the email.
      expect(mail[0]?.text).toContain('Held for: OVER_LIMIT: The exposure with this order, 11,000.00 EUR');
      expect(mail[0]?.text).toContain(`Ships until: ${until2}`);
      const res = await decide(mail[0] as (typeof mail)[number], 'approve');
      expect(res.status, res.body).toBe(200);
    }
    const h = await until('SO-X1 excepted', async () => {
      const x = await held('REL', 'SO-X1');
      return x.state === 'excepted' ? x : undefined;
    });
    expect(h.exception).toEqual({ transferId: id, until: until2, approvedOn: TODAY });
    expect(h.releases?.at(-1)).toMatchObject({ transferId: id, status: 'approved' });
    const ok = await check(order('REL', 'SO-X1', 200_000));
    expect(ok.decision.outcome).toBe('approve');
    expect(ok.decision.reasons.map((x) => x.code)).toEqual(['RELEASED_BY_APPROVAL', 'OVER_LIMIT']);
    expect(ok.decision.reasons[0]?.text).toContain(`Released by approval ${id}`);
    expect(ok.decision.reasons[0]?.text).toContain(`until ${until2}`);
    expect(ok.reservation).toBe('reserved');
    // After the end date the exception no longer applies: held again.
    const after = await check(order('REL', 'SO-X1', 200_000), addDays(until2, 1));
    expect(after.decision.outcome).toBe('hold');
    expect((await held('REL', 'SO-X1')).state).toBe('held');
    const [ev] = await logged('credit-check.excepted', 'SO-X1');
    expect(ev).toMatchObject({
      actor: 'approval chain',
      data: { transferId: id, until: until2, applies: true },
    });
    const trail = (await transfers.store.auditTrail()).filter((x) => x.subject === id).map((x) => x.kind);
    expect(trail).toContain('transfer.requested');
    expect(trail).toContain('transfer.executed');
  }, 60_000);

  it('rejected: the order stays held, the release noted', async () => {
    await check(order('CON', 'SO-Y1', 200_000));
    const r = await requestOrderRelease(releases, {
      customerId: 'CON',
      orderId: 'SO-Y1',
      reason: 'promised by sales',
      until: until2,
      requester: 'rita',
    });
    if (!r.ok) throw new Error(JSON.stringify(r));
    const [mail] = await levelMail(r.transferId, 1);
    const res = await decide(mail as NonNullable<typeof mail>, 'reject', 'no exception for this customer');
    expect(res.status, res.body).toBe(200);
    const h = await until('the release rejected', async () => {
      const x = await held('CON', 'SO-Y1');
      return x.releases?.at(-1)?.status === 'rejected' ? x : undefined;
    });
    expect(h.state).toBe('held');
    expect(await logged('credit-check.release-refused', 'SO-Y1')).toHaveLength(1);
  }, 60_000);
});

describe('the console and the CLI', () => {
  let web: RunningConsole;
  beforeAll(async () => {
    web = await startConsole({
      queries: new ReceivablesQueries(env.store),
      today: () => TODAY,
      port: 0,
      credit: { store: env.store, policy: async () => policy, checks: deps, checkReleases: releases },
    });
  });
  afterAll(async () => web?.close());

  it('GET /api/credit-checks/holds lists the queue; POST /api/credit-checks/recheck re-checks it', async () => {
    await check(order('CLI', 'SO-Q1', 200_000));
    const res = await fetch(`${web.url}/api/credit-checks/holds`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { holds: { orderId: string; order: { amount: string } }[] };
    const q1 = body.holds.find((h) => h.orderId === 'SO-Q1');
    expect(q1?.order.amount).toBe('2000.00');
    const re = await fetch(`${web.url}/api/credit-checks/recheck`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customers: ['CLI'] }),
    });
    expect(re.status).toBe(200);
    expect(await re.json()).toMatchObject({
      rechecked: 1,
      held: [{ orderId: 'SO-Q1', reasons: ['OVER_LIMIT'] }],
    });
  });

  it('in Chromium at desktop and 360 px: the page fits, the CSP holds, its forms work', async () => {
    const browser = await launchChromium();
    const shots = join(tmpdir(), 'credit-holds-shots');
    await mkdir(shots, { recursive: true });
    try {
      for (const [name, viewport] of [
        ['desktop', { width: 1280, height: 900 }],
        ['phone', { width: 360, height: 740 }],
      ] as const) {
        const page = await browser.newPage({ viewport, isMobile: name === 'phone' });
        const violations: string[] = [];
        page.on('console', (m) => {
          if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
        });
        const res = await page.goto(`${web.url}/credit-checks`);
        expect(res?.status()).toBe(200);
        expect(await page.textContent('#holds')).toContain('SO-Q1');
        const [scroll, client] = (await page.evaluate(
          '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
        )) as [number, number];
        expect(scroll, `${name}: ${scroll} px wide at ${client}`).toBeLessThanOrEqual(client);
        await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
        await page.fill('#check-customerId', 'CLI');
        await page.fill('#check-orderId', `SO-WEB-${name}`);
        await page.fill('#check-amount', '5,000.00');
        await page.fill('#check-currency', 'EUR');
        await Promise.all([
          page.waitForURL(/\/credit-checks\/check$/),
          page.click('#check button[type=submit]'),
        ]);
        expect(await page.textContent('#check-result')).toContain('HOLD');
        await Promise.all([page.waitForURL(/\/credit-checks\/recheck$/), page.click('#holds form button')]);
        expect(await page.textContent('#recheck-result')).toContain('Re-checked');
        expect(violations).toEqual([]);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('sentinel credit-check holds and recheck', async () => {
    const dataDir = join(dir, 'cli-data');
    const e = await openLocal({ dataDir });
    try {
      await ingestText(
        e,
        'customers/c.csv',
        'customer_id,name,country,industry,currency,payment_terms_days,credit_limit\nCLI,Cli BV,NL,retail,EUR,30,1000.00\n',
        new Date(),
      );
    } finally {
      await e.close();
    }
    const cli = (...args: string[]) => sentinel([...args, '--data-dir', dataDir], dir);
    const c = await cli(
      'credit-check',
      'CLI',
      '--order',
      'SO-K1',
      '--amount',
      '1,500.00',
      '--currency',
      'EUR',
    );
    expect(c.stdout).toContain('HOLD: order SO-K1 of CLI');
    const q = await cli('credit-check', 'holds');
    expect(q.code).toBe(0);
    expect(q.stdout).toContain('1 held order, oldest first:');
    expect(q.stdout).toContain(`CLI SO-K1 1,500.00 EUR held since ${TODAY}`);
    const j = JSON.parse((await cli('credit-check', 'holds', '--json')).stdout) as { orderId: string }[];
    expect(j.map((x) => x.orderId)).toEqual(['SO-K1']);
    const r = await cli('credit-check', 'recheck', 'CLI');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('re-checked 1 held order: 0 released, 1 still held, 0 expired');
    expect(r.stdout).toContain('  held      CLI SO-K1: OVER_LIMIT');
  }, 60_000);

  it('sentinel credit-check release asks the order release of the running product, or says in one line why not', async () => {
    // CLI owes 9,000.00 of 10,000.00: SO-RL1 of 2,000.00 makes 11,000.00, held OVER_LIMIT.
    await check(order('CLI', 'SO-RL1', 200_000));
    const until2 = addDays(TODAY, 2);
    const stopped = join(dir, 'release-stopped');
    const running = join(dir, 'release-running');
    await mkdir(stopped, { recursive: true });
    await mkdir(running, { recursive: true });
    const unpublish = await publishConsole(running, web.url);
    const release = (dataDir: string, ...args: string[]) =>
      sentinel(['credit-check', 'release', 'CLI', ...args, '--data-dir', dataDir], dir);
    const oneLine = (s: string) => expect(s.trimEnd().split('\n')).toHaveLength(1);
    try {
      const good = ['--order', 'SO-RL1', '--reason', 'key account, pays next week', '--until', until2];
      const [down, missing, bad, none] = await Promise.all([
        release(stopped, ...good, '--by', 'rita'),
        release(running, '--order', 'SO-RL1'),
        release(
          running,
          '--order',
          'SO-RL1',
          '--reason',
          'x',
          '--until',
          addDays(TODAY, 31),
          '--by',
          'nobody',
        ),
        release(running, '--order', 'SO-NONE', '--reason', 'key account', '--until', until2, '--by', 'rita'),
      ]);
      expect(down.code).toBe(1);
      oneLine(down.stderr);
      expect(down.stderr).toContain('sentinel: credit-sentinel is not running on this data dir');
      expect(missing).toMatchObject({
        code: 1,
        stderr:
          'sentinel: release not asked, nothing stored: --reason is required; --until is required; --by is required\n',
      });
      expect(bad.code).toBe(1);
      oneLine(bad.stderr);
      expect(bad.stderr).toMatch(
        /^sentinel: release not asked, nothing stored: --reason must say why \(at least 3 characters\); --until \S+ is more than 30 days ahead: at most \S+ \(creditCheck.releaseMaxDays\); --by "nobody" is not a person of the approval policy/,
      );
      expect(none).toMatchObject({
        code: 1,
        stderr: 'sentinel: release not asked: CLI has no held order SO-NONE\n',
      });
      // Nothing asked by any of them.
      expect((await held('CLI', 'SO-RL1')).releases ?? []).toEqual([]);

      const ok = await release(running, ...good, '--by', 'rita');
      expect(ok.code, ok.stderr).toBe(0);
      const id = /order release (TR-\S+) asked/.exec(ok.stdout)?.[1] as string;
      expect(ok.stdout).toContain(
        `order release ${id} asked: SO-RL1 of CLI, 2,000.00 EUR held since ${TODAY} (OVER_LIMIT), to ship until ${until2}, asked by rita`,
      );
      expect(ok.stdout).toContain(`the approval chain decides it: \`sentinel transfer show ${id}\``);
      expect((await held('CLI', 'SO-RL1')).releases?.at(-1)).toMatchObject({
        transferId: id,
        status: 'pending',
        until: until2,
        requestedBy: 'rita',
      });
      expect((await transferOf(id)).request).toMatchObject({ type: 'order_release', amount: 200_000 });
      // Again with the same fields: the same request; with another reason, refused while it is pending.
      const again = await release(running, ...good, '--by', 'rita', '--json');
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({
        transferId: id,
        held: { orderId: 'SO-RL1', order: { amount: '2000.00', currency: 'EUR' } },
      });
      const other = await release(
        running,
        ...good.slice(0, 2),
        '--reason',
        'another reason',
        '--until',
        until2,
        '--by',
        'rita',
      );
      expect(other.code).toBe(1);
      oneLine(other.stderr);
      expect(other.stderr).toBe(
        `sentinel: release not asked: an order release of SO-RL1 is pending already (${id}, asked by rita)\n`,
      );
      const help = await sentinel(['help', 'credit-check', 'release'], dir);
      expect(help.stdout).toContain(
        'Usage: sentinel credit-check release CUSTOMER --order ID --reason TEXT --until YYYY-MM-DD --by PERSON [--json]',
      );
    } finally {
      await unpublish();
    }
  }, 60_000);
});
