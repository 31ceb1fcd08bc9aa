import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCheckLog } from '../../functions/adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../../functions/adapters/dynamodb-checks.ts';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { checkCredit } from '../../functions/checks/app.ts';
import type { CreditDecision } from '../../functions/checks/decide.ts';
import type { IsoDate } from '../../functions/core/dates.ts';
import { formatMoney } from '../../functions/core/money.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { cashForecast, forecastRates, predictBook } from '../../functions/predict/book.ts';
import { localCollectionsRun } from '../../infra/local/runtime/collections.ts';
import { demoFiles } from '../../infra/local/runtime/demo.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { evaluateQuietly, ingestText } from './read-meter.ts';

/**
 * The credit check over the demo book (README "Credit checks"): every file of the demo loaded,
 * evaluated and the collections run taken as of the day, then one plausible order per customer
 * (10% of its limit in its credit currency, 1,000.00 without a limit) checked. Each decision is
 * one a credit controller would agree with: the customers that pay well approve, the high-risk
 * ones are asked to prepay, the long overdue are held; the distribution is in the README.
 */
const TODAY: IsoDate = '2026-06-30';
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
let dir: string;
let env: LocalEnv;
const decisions: CreditDecision[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'credit-checks-demo-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  const files = demoFiles(TODAY);
  const order = [
    'customers',
    'fx',
    'financials',
    'guarantees',
    'insurance',
    'scores',
    'invoices',
    'payments',
  ];
  for (const kind of order)
    for (const [name, text] of Object.entries(files))
      if (name.startsWith(`${kind}/`)) await ingestText(env, name, text, new Date(`${TODAY}T04:00:00Z`));
  await evaluateQuietly(env, policy, TODAY);
  const audit = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
  await localCollectionsRun(
    { store: env.store, dataDir: dir, now: () => new Date(`${TODAY}T06:00:00Z`), audit },
    policy,
    {
      asOf: TODAY,
      claimant: 'test',
    },
  );
  const deps = {
    store: new DynamoCheckStore(env.store.client, env.store.tableName),
    log: new DynamoCheckLog(env.store.client, env.store.tableName),
  };
  const ids = await env.store.listCustomerIds();
  const profiles = await env.store.getCustomers(ids);
  for (const id of ids) {
    const c = profiles.get(id);
    const currency = c?.currency ?? 'EUR';
    const amount = c?.creditLimit ? Math.floor(c.creditLimit / 10) : 100_000;
    const r = await checkCredit(
      deps,
      policy,
      {
        customerId: id,
        orderId: `DEMO-${id}`,
        amount,
        currency,
        requestedShipDate: TODAY,
        stage: 'order',
        channel: 'web',
      },
      { today: TODAY, now: `${TODAY}T09:00:00Z` },
    );
    decisions.push(r.decision);
  }
}, 120_000);
afterAll(async () => {
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the demo book', () => {
  it('gets decisions a credit controller agrees with', () => {
    const lines = decisions.map(
      (d) =>
        `${d.customerId} ${d.rating ?? '-'}/${d.riskClass ?? '-'} ${d.outcome} ${d.reasons.map((r) => r.code).join(',')} exposure ${formatMoney(d.exposure.total, d.currency)} limit ${d.limit === null ? 'none' : formatMoney(d.limit, d.currency)}`,
    );
    console.log(lines.join('\n'));
    const counts: Record<string, number> = {};
    for (const d of decisions) counts[d.outcome] = (counts[d.outcome] ?? 0) + 1;
    console.log(JSON.stringify(counts));
    // 16 customers: 8 approve (A-C, within their limits; C1003's credit balance of unapplied cash
    // covers its order), 1 prepay (C1011, rated D, nothing overdue beyond 60 days), 7 held (four
    // long overdue with high alerts, C1002 over its limit with an overdue alert, C1013 with an
    // overdue alert, C1012 with no limit on file).
    expect(counts).toEqual({ approve: 8, 'approve-prepay': 1, hold: 7 });
    const byId = new Map(decisions.map((d) => [d.customerId, d]));
    expect(byId.get('C1011')?.reasons.map((r) => r.code)).toEqual(['PREPAY_RISK_CLASS']);
    expect(byId.get('C1012')?.reasons.map((r) => r.code)).toEqual(['NO_CREDIT_LIMIT']);
    expect(byId.get('C1004')?.reasons[0]?.code).toBe('OVERDUE_DAYS');
    for (const d of decisions) {
      // Never approve a high-risk customer on credit, nor one with items long overdue.
      if (d.riskClass === 'high') expect(d.outcome).not.toBe('approve');
      if (d.outcome === 'approve') {
        expect(d.headroomAfter).toBeGreaterThanOrEqual(0);
        expect(d.reasons.map((r) => r.code)).toEqual(['WITHIN_LIMIT']);
      }
    }
  });

  it('weighs an order in another currency through USD when the pair is not on file: every demo rate is quoted against USD', async () => {
    const deps = {
      store: new DynamoCheckStore(env.store.client, env.store.tableName),
      log: new DynamoCheckLog(env.store.client, env.store.tableName),
    };
    // 深圳恒达物流 (C1011) keeps its credit in CNY; the order is 10,000.00 EUR. No EUR/CNY rate is
    // on file either way: USD/EUR (used inversely) then USD/CNY, each the latest by the day.
    const r = await checkCredit(
      deps,
      policy,
      {
        customerId: 'C1011',
        orderId: 'DEMO-EUR-1',
        amount: 1_000_000,
        currency: 'EUR',
        requestedShipDate: TODAY,
        stage: 'order',
        channel: 'web',
      },
      { today: TODAY, now: `${TODAY}T10:00:00Z` },
    );
    const d = r.decision;
    expect(d.reasons.map((x) => x.code)).not.toContain('NO_FX_RATE');
    const rate = d.order.rate;
    expect(rate?.pair).toBe('EUR/CNY');
    expect(rate?.via?.map((l) => l.pair)).toEqual(['USD/EUR', 'USD/CNY']);
    for (const leg of rate?.via ?? []) expect(leg.date <= TODAY).toBe(true);
    // Worked from the two stored rates in floating point: the exact product is within half a fen.
    const [eur, cny] = (rate?.via ?? []).map((l) => Number(l.rate)) as [number, number];
    expect(Math.abs(d.exposure.thisOrder - (1_000_000 * cny) / eur)).toBeLessThanOrEqual(0.5);
    expect(d.currency).toBe('CNY');
  });

  it("converts every currency of the book into EUR for the cash-in forecast, CNY, GBP and USD through USD's rates", async () => {
    const book = await predictBook(env.store, TODAY);
    const f = cashForecast(book, 'EUR', await forecastRates(env.store, book, 'EUR'));
    expect(f.unconverted).toEqual([]);
    const by = new Map(f.currencies.map((c) => [c.currency, c]));
    expect(by.get('USD')?.rate).toMatchObject({ pair: 'USD/EUR' });
    expect(by.get('USD')?.rate?.via).toBeUndefined();
    for (const c of ['CNY', 'GBP']) {
      expect(by.get(c)?.converted).toBe(true);
      expect(by.get(c)?.rate?.via?.map((l) => l.pair)).toEqual([`USD/${c}`, 'USD/EUR']);
    }
  });
});
