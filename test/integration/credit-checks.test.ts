import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCheckLog } from '../../functions/adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../../functions/adapters/dynamodb-checks.ts';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import {
  CheckRefusedError,
  cancelCheck,
  checkCredit,
  parseCheckRequest,
} from '../../functions/checks/app.ts';
import type { CheckOrder } from '../../functions/checks/decide.ts';
import { chainCheckLog, checksOnTrail } from '../../functions/checks/log.ts';
import type { CheckDeps } from '../../functions/checks/ports.ts';
import { addDays, dateInZone } from '../../functions/core/dates.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { loadPolicy } from '../../infra/local/cli/credit.ts';
import { type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { sentinel } from './cli-run.ts';
import { ingestText } from './read-meter.ts';

/**
 * Credit checks on dynalite (README "Credit checks"): reservations under concurrency, the same
 * order counted once, expiry and cancel, bad input refused with nothing written, a store that
 * cannot be read answering hold, every decision on the audit trail; the console's API and the CLI.
 *
 * The book, as of today: ACME (EUR, limit 50,000.00) owes 30,000.00 not yet due, so 20,000.00 of
 * headroom; BETA and GAMMA the same, each for its own tests; NOLIM has no limit; a EUR/USD rate.
 */
const TODAY = dateInZone(new Date(), 'UTC');
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
let dir: string;
let env: LocalEnv;
let deps: CheckDeps;
let audit: DynamoTransferStore;

async function seed(e: LocalEnv): Promise<void> {
  const now = new Date();
  await ingestText(
    e,
    'customers/c.csv',
    [
      'customer_id,name,country,industry,currency,payment_terms_days,credit_limit',
      'ACME,Acme GmbH,DE,retail,EUR,30,50000.00',
      'BETA,Beta SA,FR,retail,EUR,30,50000.00',
      'GAMMA,Gamma BV,NL,retail,EUR,30,50000.00',
      'NOLIM,No Limit Ltd,GB,retail,EUR,30,',
    ].join('\n'),
    now,
  );
  await ingestText(
    e,
    'invoices/i.csv',
    [
      'invoice_id,customer_id,issue_date,due_date,amount,currency',
      ...['ACME', 'BETA', 'GAMMA'].map(
        (c) => `${c}-1,${c},${addDays(TODAY, -10)},${addDays(TODAY, 20)},30000.00,EUR`,
      ),
    ].join('\n'),
    now,
  );
  await ingestText(e, 'fx/r.csv', `date,base,quote,rate\n${addDays(TODAY, -1)},EUR,USD,1.0800\n`, now);
}

const order = (o: Partial<CheckOrder> & Pick<CheckOrder, 'customerId' | 'orderId'>): CheckOrder => ({
  amount: 300_000,
  currency: 'EUR',
  requestedShipDate: addDays(TODAY, 2),
  stage: 'order',
  channel: 'web',
  ...o,
});
const at = (today = TODAY) => ({ today, now: new Date().toISOString() });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'credit-checks-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  await seed(env);
  audit = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
  deps = {
    store: new DynamoCheckStore(env.store.client, env.store.tableName),
    log: new DynamoCheckLog(env.store.client, env.store.tableName),
  };
}, 60_000);
afterAll(async () => {
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('reservations', () => {
  it('10 channels at once, 3,000.00 each against 20,000.00 of headroom: exactly 6 approve', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        checkCredit(
          deps,
          policy,
          order({ customerId: 'ACME', orderId: `RACE-${i}`, channel: `ch${i}` }),
          at(),
        ),
      ),
    );
    const approved = results.filter((r) => r.decision.outcome === 'approve');
    expect(approved).toHaveLength(6);
    expect(approved.every((r) => r.reservation === 'reserved')).toBe(true);
    const held = results.filter((r) => r.decision.outcome === 'hold');
    expect(held).toHaveLength(4);
    for (const h of held) expect(h.decision.reasons.map((x) => x.code)).toEqual(['OVER_LIMIT']);
    const file = await deps.store.loadCheckFile('ACME');
    expect(Object.keys(file.orders.reservations)).toHaveLength(6);
    expect(file.summary?.openAmount).toBe(3_000_000);
    // The next one sees 48,000.00 counted: 2,000.00 fits, 2,000.01 does not.
    const fits = await checkCredit(
      deps,
      policy,
      order({ customerId: 'ACME', orderId: 'LAST', amount: 200_000 }),
      at(),
    );
    expect(fits.decision.exposure).toEqual({
      openItems: 3_000_000,
      unappliedCash: 0,
      approvedTransfers: 0,
      openOrders: 1_800_000,
      thisOrder: 200_000,
      total: 5_000_000,
    });
    expect(fits.decision.outcome).toBe('approve');
    expect(fits.decision.headroomAfter).toBe(0);
    const over = await checkCredit(
      deps,
      policy,
      order({ customerId: 'ACME', orderId: 'OVER', amount: 1 }),
      at(),
    );
    expect(over.decision.outcome).toBe('hold');
  });

  it('the same order with the same amount counts once; with another amount it is refused and nothing is written', async () => {
    const first = await checkCredit(
      deps,
      policy,
      order({ customerId: 'BETA', orderId: 'SO-1', amount: 500_000 }),
      at(),
    );
    expect(first.reservation).toBe('reserved');
    expect(first.reservedUntil).toBe(addDays(TODAY, 7));
    const again = await checkCredit(
      deps,
      policy,
      order({ customerId: 'BETA', orderId: 'SO-1', amount: 500_000, stage: 'delivery' }),
      at(),
    );
    expect(again.reservation).toBe('kept');
    expect(again.decision.outcome).toBe('approve');
    expect(again.decision.exposure).toEqual(first.decision.exposure);
    const before = await deps.store.loadCheckFile('BETA');
    await expect(
      checkCredit(deps, policy, order({ customerId: 'BETA', orderId: 'SO-1', amount: 600_000 }), at()),
    ).rejects.toBeInstanceOf(CheckRefusedError);
    const after = await deps.store.loadCheckFile('BETA');
    expect(after.orders).toEqual(before.orders);
    expect(Object.keys(after.orders.reservations)).toEqual(['SO-1']);
  });

  it('an expired reservation counts no more, and is dropped when the book is written again', async () => {
    const later = addDays(TODAY, 8);
    const d = await checkCredit(
      deps,
      policy,
      order({ customerId: 'BETA', orderId: 'SO-2', amount: 100_000, requestedShipDate: later }),
      at(later),
    );
    expect(d.decision.exposure.openOrders).toBe(0);
    expect(d.decision.ordersNotCounted).toEqual([
      { orderId: 'SO-1', why: `expired on ${addDays(TODAY, 7)}` },
    ]);
    const file = await deps.store.loadCheckFile('BETA');
    expect(Object.keys(file.orders.reservations)).toEqual(['SO-2']);
  });

  it('cancel releases the reservation; the order checked again is a new check against the headroom of the day', async () => {
    const first = await checkCredit(
      deps,
      policy,
      order({ customerId: 'GAMMA', orderId: 'SO-C', amount: 1_500_000 }),
      at(),
    );
    expect(first.decision.outcome).toBe('approve');
    // Another channel spends the rest meanwhile: 5,000.00 of 5,000.00 left.
    const other = await checkCredit(
      deps,
      policy,
      order({ customerId: 'GAMMA', orderId: 'SO-D', amount: 500_000 }),
      at(),
    );
    expect(other.decision.headroomAfter).toBe(0);
    const released = await cancelCheck(deps, { customerId: 'GAMMA', orderId: 'SO-C', by: 'rita' }, at());
    expect(released?.amount).toBe(1_500_000);
    expect(
      await cancelCheck(deps, { customerId: 'GAMMA', orderId: 'SO-C', by: 'rita' }, at()),
    ).toBeUndefined();
    // Reopened with a larger amount: a new check, 15,000.00 + 5,000.00 + 30,000.00 still fits exactly.
    const reopened = await checkCredit(
      deps,
      policy,
      order({ customerId: 'GAMMA', orderId: 'SO-C', amount: 1_500_001 }),
      at(),
    );
    expect(reopened.decision.outcome).toBe('hold');
    const same = await checkCredit(
      deps,
      policy,
      order({ customerId: 'GAMMA', orderId: 'SO-C', amount: 1_500_000 }),
      at(),
    );
    expect(same.reservation).toBe('reserved');
  });

  it('an unknown customer is held (credit application needed); no limit on file is held; USD is converted', async () => {
    const unknown = await checkCredit(deps, policy, order({ customerId: 'NOBODY', orderId: 'N-1' }), at());
    expect(unknown.decision.outcome).toBe('hold');
    expect(unknown.decision.reasons.map((r) => r.code)).toEqual(['CREDIT_APPLICATION_NEEDED']);
    const nolim = await checkCredit(deps, policy, order({ customerId: 'NOLIM', orderId: 'N-2' }), at());
    expect(nolim.decision.reasons.map((r) => r.code)).toEqual(['NO_CREDIT_LIMIT']);
    // 1,080.00 USD at EUR/USD 1.0800 = 1,000.00 EUR.
    const usd = await checkCredit(
      deps,
      policy,
      order({ customerId: 'ACME', orderId: 'USD-1', amount: 108_000, currency: 'USD' }),
      at(),
    );
    expect(usd.decision.exposure.thisOrder).toBe(100_000);
    expect(usd.decision.order.rate?.pair).toBe('EUR/USD');
  });

  it('a store that cannot be read answers hold (STORE_UNAVAILABLE), never approve, and says so on the audit trail', async () => {
    const broken: CheckDeps = {
      log: deps.log,
      store: {
        loadCheckFile: async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:4567');
        },
        writeOrders: async () => 'written',
      },
    };
    const r = await checkCredit(broken, policy, order({ customerId: 'ACME', orderId: 'DOWN-1' }), at());
    expect(r.decision.outcome).toBe('hold');
    expect(r.decision.reasons.map((x) => x.code)).toEqual(['STORE_UNAVAILABLE']);
    const failing: CheckDeps = {
      log: deps.log,
      store: {
        loadCheckFile: deps.store.loadCheckFile.bind(deps.store),
        writeOrders: async () => Promise.reject(new Error('throttled')),
      },
    };
    const w = await checkCredit(
      failing,
      policy,
      order({ customerId: 'ACME', orderId: 'DOWN-2', amount: 1 }),
      at(),
    );
    expect(w.decision.outcome).toBe('hold');
    await chainCheckLog(
      { log: new DynamoCheckLog(env.store.client, env.store.tableName), audit },
      { now: () => new Date() },
    );
    const trail = checksOnTrail(await audit.auditTrail());
    const decided = trail.filter((x) => x.kind === 'credit-check.decided');
    expect(decided.find((x) => (x.data as { orderId: string }).orderId === 'DOWN-1')?.data).toMatchObject({
      outcome: 'hold',
      reservation: 'none',
    });
    expect(decided.length).toBeGreaterThanOrEqual(20);
    expect(trail.filter((x) => x.kind === 'credit-check.cancelled')).toHaveLength(1);
  });
});

describe('bad input', () => {
  it('names each bad field', () => {
    const r = parseCheckRequest(
      {
        customerId: 'ACME',
        amount: '-5.00',
        currency: 'XXX',
        requestedShipDate: addDays(TODAY, -1),
        stage: 'ship',
      },
      TODAY,
    );
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.issues.map((i) => i.field)).toEqual([
        'orderId',
        'currency',
        'amount',
        'requestedShipDate',
        'stage',
      ]);
    const zero = parseCheckRequest({ customerId: 'A', orderId: 'O', amount: '0.00', currency: 'EUR' }, TODAY);
    expect(zero.ok || zero.issues).toEqual([{ field: 'amount', message: 'must be more than zero' }]);
    const neg = parseCheckRequest({ customerId: 'A', orderId: 'O', amount: '-1.00', currency: 'EUR' }, TODAY);
    expect(neg.ok || neg.issues).toEqual([{ field: 'amount', message: 'must be more than zero' }]);
    const decimals = parseCheckRequest(
      { customerId: 'A', orderId: 'O', amount: '1.005', currency: 'EUR' },
      TODAY,
    );
    expect(decimals.ok || decimals.issues).toEqual([
      { field: 'amount', message: 'has more than 2 decimals (EUR)' },
    ]);
    const grouped = parseCheckRequest(
      { customerId: 'A', orderId: 'O', amount: '12,000.00', currency: 'eur' },
      TODAY,
    );
    expect(grouped.ok && grouped.order).toMatchObject({
      amount: 1_200_000,
      currency: 'EUR',
      requestedShipDate: TODAY,
    });
  });
});

describe('the console API', () => {
  let web: RunningConsole;
  beforeAll(async () => {
    web = await startConsole({
      queries: new ReceivablesQueries(env.store),
      today: () => TODAY,
      port: 0,
      credit: { store: env.store, policy: () => loadPolicy(env.store), checks: deps },
    });
  });
  afterAll(async () => web?.close());
  const post = (path: string, body: unknown) =>
    fetch(`${web.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('POST /api/credit-checks answers the decision in one call, amounts as decimal strings', async () => {
    const res = await post('/api/credit-checks', {
      customerId: 'NOLIM',
      orderId: 'WEB-1',
      amount: '1,000.00',
      currency: 'EUR',
      channel: 'web',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      reservation: 'none',
      decision: {
        outcome: 'hold',
        currency: 'EUR',
        limit: null,
        exposure: { openItems: '0.00', thisOrder: '1000.00', total: '1000.00' },
        order: { amount: '1000.00', currency: 'EUR', channel: 'web', stage: 'order' },
      },
    });
  });

  it('400 naming each bad field, nothing written; a duplicate order id with another amount too', async () => {
    const res = await post('/api/credit-checks', {
      customerId: 'BETA',
      amount: -3,
      currency: 'XYZ',
      requestedShipDate: '2020-01-01',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { issues: { field: string }[] }).issues.map((i) => i.field)).toEqual([
      'orderId',
      'currency',
      'amount',
      'requestedShipDate',
    ]);
    const ok = await post('/api/credit-checks', {
      customerId: 'BETA',
      orderId: 'WEB-2',
      amount: '10.00',
      currency: 'EUR',
    });
    expect(ok.status).toBe(200);
    const before = await deps.store.loadCheckFile('BETA');
    const dup = await post('/api/credit-checks', {
      customerId: 'BETA',
      orderId: 'WEB-2',
      amount: '11.00',
      currency: 'EUR',
    });
    expect(dup.status).toBe(400);
    expect(((await dup.json()) as { issues: { field: string }[] }).issues.map((i) => i.field)).toEqual([
      'amount',
    ]);
    expect((await deps.store.loadCheckFile('BETA')).orders).toEqual(before.orders);
    expect((await post('/api/credit-checks', 'not json')).status).toBe(400);
    const cancel = await post('/api/credit-checks/cancel', {
      customerId: 'BETA',
      orderId: 'WEB-2',
      by: 'rita',
    });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toMatchObject({ released: { orderId: 'WEB-2', amount: '10.00' } });
  });
});

describe('sentinel credit-check', () => {
  let cliDir: string;
  let dataDir: string;
  beforeAll(async () => {
    cliDir = await mkdtemp(join(tmpdir(), 'sentinel-credit-check-'));
    dataDir = join(cliDir, 'data');
    const e = await openLocal({ dataDir });
    try {
      await seed(e);
    } finally {
      await e.close();
    }
  }, 60_000);
  afterAll(async () => {
    if (cliDir) await rm(cliDir, { recursive: true, force: true });
  });
  const cli = (...args: string[]) => sentinel([...args, '--data-dir', dataDir], cliDir);

  it('approves and reserves, prints the exposure; the same order again counts once; cancel releases it', async () => {
    const r = await cli(
      'credit-check',
      'ACME',
      '--order',
      'SO-CLI',
      '--amount',
      '12,000.00',
      '--currency',
      'EUR',
      '--channel',
      'web',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `APPROVE: order SO-CLI of ACME, 12,000.00 EUR (order, web, ships ${TODAY}), as of ${TODAY}; reserved until ${addDays(TODAY, 7)}`,
        '  WITHIN_LIMIT: The exposure with this order, 42,000.00 EUR, is within the limit of 50,000.00 EUR: 8,000.00 EUR of headroom left.',
        '',
        '  open items            30,000.00 EUR',
        '  less unapplied cash   0.00 EUR',
        '  approved transfers    0.00 EUR',
        '  open orders           0.00 EUR',
        '  this order            12,000.00 EUR',
        '  exposure              42,000.00 EUR',
        '  credit limit          50,000.00 EUR',
        '  headroom after        8,000.00 EUR',
        '  rating                not rated',
        '',
      ].join('\n'),
    );
    const again = await cli(
      'credit-check',
      'ACME',
      '--order',
      'SO-CLI',
      '--amount',
      '12000.00',
      '--currency',
      'EUR',
      '--json',
    );
    expect(JSON.parse(again.stdout)).toMatchObject({
      reservation: 'kept',
      decision: {
        outcome: 'approve',
        headroomAfter: '8000.00',
        exposure: { openOrders: '0.00', total: '42000.00' },
      },
    });
    const other = await cli(
      'credit-check',
      'ACME',
      '--order',
      'SO-2',
      '--amount',
      '9,000.00',
      '--currency',
      'EUR',
      '--json',
    );
    expect(JSON.parse(other.stdout)).toMatchObject({
      decision: { outcome: 'hold', headroomAfter: '-1000.00' },
    });
    const cancel = await cli('credit-check', 'cancel', 'ACME', '--order', 'SO-CLI', '--by', 'rita');
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain('released: order SO-CLI of ACME, 12,000.00 EUR');
    // The cancel freed headroom: ACME's held SO-2 is checked again at once and released (README
    // "Held orders"), so checking it once more keeps that reservation.
    expect(cancel.stdout).toContain('re-checked 1 held order: 1 released, 0 still held, 0 expired');
    expect(cancel.stdout).toContain('  released  ACME SO-2: OVER_LIMIT cleared');
    const fits = await cli(
      'credit-check',
      'ACME',
      '--order',
      'SO-2',
      '--amount',
      '9,000.00',
      '--currency',
      'EUR',
      '--json',
    );
    expect(JSON.parse(fits.stdout)).toMatchObject({
      decision: { outcome: 'approve' },
      reservation: 'kept',
    });
  }, 60_000);

  it('refuses bad input with each field named, exit 1, nothing written', async () => {
    const r = await cli(
      'credit-check',
      'ACME',
      '--order',
      'SO-9',
      '--amount=-5',
      '--currency',
      'XXX',
      '--ship',
      '2020-01-01',
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'sentinel: check refused, nothing written: --currency XXX is not an ISO 4217 currency code; --amount must be more than zero; --ship 2020-01-01 is in the past (today is ' +
        `${TODAY})`,
    );
    const dup = await cli(
      'credit-check',
      'ACME',
      '--order',
      'SO-2',
      '--amount',
      '9,000.01',
      '--currency',
      'EUR',
    );
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(
      /^sentinel: check refused, nothing written: --amount order SO-2 was checked on/,
    );
    const usage = await cli('credit-check');
    expect(usage.code).toBe(2);
  }, 60_000);
});
