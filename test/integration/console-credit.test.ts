import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alert, applyCommand, type Notification } from '../../functions/credit/alerts.ts';
import { type EvaluationRun, evaluate } from '../../functions/credit/evaluate.ts';
import type { Policy } from '../../functions/credit/policy.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { loadPolicy } from '../../infra/local/cli/credit.ts';
import { type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { memoryUpload } from './helpers.ts';
import { rows, text } from './pages.ts';

/**
 * The console's credit side over HTTP, against dynalite: a small book is ingested, evaluated with
 * the shipped policy, and the alerts and the live assessment are read back from the pages and the
 * JSON. Every expected figure is worked out by hand below.
 */

const ASOF = '2025-06-30';
const HOSTILE = 'Evil <script>alert(1)</script> & Sons';
const HOSTILE_ESCAPED = 'Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons';

const CUSTOMERS = [
  'customer_id,name,country,industry,currency,payment_terms_days,credit_limit',
  `C-EVIL,"${HOSTILE}",GB,construction,EUR,30,10000.00`,
  'C-OK,Calm Co,US,healthcare,USD,30,50000.00',
].join('\n');

const INVOICES = [
  'invoice_id,customer_id,issue_date,due_date,amount,currency',
  'E-1,C-EVIL,2025-02-25,2025-03-27,6000.00,EUR', // 95 days past due on 06-30
  'E-2,C-EVIL,2025-06-10,2025-07-10,3000.00,EUR', // not due
  'K-1,C-OK,2025-04-01,2025-05-01,5000.00,USD', //   paid 04-29
  'K-2,C-OK,2025-05-01,2025-05-31,5000.00,USD', //   paid 06-02, 2 days late
  'K-3,C-OK,2025-06-15,2025-07-15,4000.00,USD', //   not due
].join('\n');

const PAYMENTS = [
  'payment_id,customer_id,received_date,amount,currency,invoice_id',
  'PK-1,C-OK,2025-04-29,5000.00,USD,K-1',
  'PK-2,C-OK,2025-06-02,5000.00,USD,K-2',
].join('\n');

const GUARANTEES = [
  'guarantee_id,customer_id,issuer,amount,currency,valid_from,expiry_date',
  'G-1,C-EVIL,Bank <b>of</b> Trust,2000.00,EUR,2025-01-01,2025-07-15', // expires in 15 days
].join('\n');

/*
 * C-EVIL as of 2025-06-30 (EUR): open 9,000.00 (E-1 6,000.00 95 days past due, E-2 3,000.00 not
 * due), no payments; limit 10,000.00; guarantee 2,000.00 valid until 07-15.
 *   rules: daysPastDue 95 >= 90 -> critical; overdueAmount 6,000 / 10,000 = 60% >= 50% -> critical;
 *          limitUse 9,000 / 10,000 = 90% >= 80% (not > 100%) -> warning; the guarantee expires
 *          in 15 days -> coverExpiring warning. C-OK is the only USD customer: no concentration.
 *   factors (points of max): meanDaysLate, weightedDaysLate, sharePaidLate not computable (nothing
 *          settled) 5/10, 5/10, 4/8; maxDaysPastDue 95 0/12; overdueShare 66.7% 0/8; exposure to
 *          sales: 9,000.00 invoiced over the 5 months begun since 02-25 is 1,800.00 a month, 9,000.00
 *          owed = 5 months 0/8; current, quick, debt ratio and Altman Z'' not computable 2/5, 2/4,
 *          2/5, 4/10; history 4 months 0/6; external score none 2/5; cover 2,000 / 9,000 = 22% 1/5;
 *          construction is high risk 0/4. Total 27 of 100 -> score 27, rating E (below 35), high risk.
 *   limit: rating E allows no unsecured credit, + 2,000.00 of guarantees = 2,000.00, below the
 *          10,000.00 on file; a review would not cut it on its own: 2,000.00 is below the exposure.
 */
const EVIL_FACTORS = [
  ['meanDaysLate', 5, 10, 'MEAN_DAYS_LATE_NOT_COMPUTABLE'],
  ['weightedDaysLate', 5, 10, 'WEIGHTED_DAYS_LATE_NOT_COMPUTABLE'],
  ['sharePaidLate', 4, 8, 'SHARE_PAID_LATE_NOT_COMPUTABLE'],
  ['maxDaysPastDue', 0, 12, 'MAX_DAYS_PAST_DUE_OTHER'],
  ['overdueShare', 0, 8, 'OVERDUE_SHARE_OTHER'],
  ['exposureToSales', 0, 8, 'EXPOSURE_TO_SALES_OTHER'],
  ['currentRatio', 2, 5, 'CURRENT_RATIO_NOT_COMPUTABLE'],
  ['quickRatio', 2, 4, 'QUICK_RATIO_NOT_COMPUTABLE'],
  ['debtRatio', 2, 5, 'DEBT_RATIO_NOT_COMPUTABLE'],
  ['altmanZ2', 4, 10, 'ALTMAN_Z2_NOT_COMPUTABLE'],
  ['historyMonths', 0, 6, 'HISTORY_MONTHS_OTHER'],
  ['externalScore', 2, 5, 'EXTERNAL_SCORE_NOT_COMPUTABLE'],
  ['cover', 1, 5, 'COVER_GE_0_1'],
  ['industryRisk', 0, 4, 'INDUSTRY_RISK_HIGH'],
] as const;

// ---- helpers (page reading shared with console.test.ts in pages.ts) ----

/** The part of a page from the <h2> or <h1> that starts with `heading` up to the next one of `until`. */
function section(page: string, heading: string, until = '<h2>'): string {
  const start = page.search(new RegExp(`<h[12]>${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  if (start < 0) throw new Error(`no section ${heading}`);
  const end = page.indexOf(until, start + 4);
  return page.slice(start, end < 0 ? undefined : end);
}

/** The <dt>/<dd> pairs of a fragment, as text. */
function pairs(fragment: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of fragment.matchAll(/<dt>([\s\S]*?)<\/dt><dd>([\s\S]*?)<\/dd>/g))
    out[text(m[1] as string)] = text(m[2] as string);
  return out;
}

let env: LocalEnv;
let con: RunningConsole;
let bare: RunningConsole;
let policy: Policy;
let run: EvaluationRun;
const notified: Notification[] = [];

async function load(kind: Kind, csv: string): Promise<void> {
  const r = await ingest(
    {
      store: env.store,
      notifier: { customersChanged: async () => {} },
      clock: { now: () => new Date(`${ASOF}T08:00:00Z`) },
      timeZone: 'UTC',
    },
    memoryUpload(kind, csv),
  );
  if (r.rejected > 0 || r.status !== 'processed') throw new Error(`${kind}: ${JSON.stringify(r)}`);
}

async function get(path: string, on = con): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${on.url}${path}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  await load('customers', CUSTOMERS);
  await load('guarantees', GUARANTEES);
  await load('invoices', INVOICES);
  await load('payments', PAYMENTS);
  policy = await loadPolicy(env.store);
  run = await evaluate(
    {
      store: env.store,
      notifier: { notify: async (n) => void notified.push(...n), digest: async () => {} },
      policy,
      clock: { now: () => new Date(`${ASOF}T09:00:00Z`) },
      timeZone: 'UTC',
    },
    { asOf: ASOF },
  );
  // A controller answers two alerts, as `sentinel alerts ack|resolve` does.
  const active = await env.store.listAlerts('active');
  const answer = (rule: string, cmd: Parameters<typeof applyCommand>[1]) => {
    const a = active.find((x) => x.rule === rule) as Alert;
    const next = applyCommand(a, cmd, `${ASOF}T10:00:00.000Z`, ASOF);
    if ('refused' in next) throw new Error(next.refused);
    return next;
  };
  await env.store.saveEvaluation([
    {
      customerId: 'C-EVIL',
      alerts: [
        answer('coverExpiring', { kind: 'ack', by: 'ana', note: 'renewal <requested>' }),
        answer('limitUse', { kind: 'resolve', by: 'ben', note: 'limit raised by phone' }),
      ],
    },
  ]);
  const queries = new ReceivablesQueries(env.store);
  con = await startConsole({
    queries,
    today: () => ASOF,
    port: 0,
    credit: { store: env.store, policy: () => loadPolicy(env.store) },
  });
  bare = await startConsole({ queries, today: () => ASOF, port: 0 });
});

afterAll(async () => {
  await con?.close();
  await bare?.close();
  await env?.close();
});

describe('the console shows alerts and the credit assessment', () => {
  it('the evaluation opened the four alerts worked out by hand (sanity check of the setup)', () => {
    expect(run).toMatchObject({ customers: 2, opened: 4, escalated: 0, resolved: 0, active: 4 });
    expect(notified.map((n) => `${n.alert.customerId}/${n.alert.rule}:${n.alert.severity}`).sort()).toEqual([
      'C-EVIL/coverExpiring:warning',
      'C-EVIL/daysPastDue:critical',
      'C-EVIL/limitUse:warning',
      'C-EVIL/overdueAmount:critical',
    ]);
  });

  it('/alerts lists the active alerts most severe first, and the resolved ones', async () => {
    const r = await get('/alerts');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/html/);
    expect(r.body).toContain('<a href="/alerts" aria-current="page">Alerts</a>');
    expect(r.body).toContain('3 active alerts (2 critical, 0 high, 1 warning, 0 info)');

    const active = rows(section(r.body, 'Alerts', '<h2>')).slice(1);
    // severity, customer (id and name), rule, status, opened, action, summary, evidence, answer
    expect(active.map((row) => row.slice(0, 6))).toEqual([
      ['critical', `C-EVIL ${HOSTILE}`, 'daysPastDue', 'open', ASOF, 'cut limit'],
      ['critical', `C-EVIL ${HOSTILE}`, 'overdueAmount', 'open', ASOF, 'cut limit'],
      [
        'warning',
        `C-EVIL ${HOSTILE}`,
        'coverExpiring',
        'acknowledged by ana (renewal <requested>)',
        ASOF,
        'review',
      ],
    ]);
    const dpd = active[0] as string[];
    expect(dpd[6]).toBe('an invoice is 95 days past due');
    expect(dpd[7]).toBe('max days past due: 95 overdue amount: 6,000.00 EUR open invoices: 2');
    expect(dpd[8]).toBe('sentinel alerts ack C-EVIL/daysPastDue');
    expect(active[1]?.[6]).toBe('6,000.00 EUR overdue, 60.0% of the credit limit');
    expect(active[2]?.[6]).toBe('guarantee G-1 (Bank <b>of</b> Trust) expires on 2025-07-15, in 15 days');

    const resolved = rows(section(r.body, 'Recently resolved')).slice(1);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]?.slice(0, 4)).toEqual(['warning', `C-EVIL ${HOSTILE}`, 'limitUse', ASOF]);
    expect(resolved[0]?.[5]).toBe('resolved by ben (limit raised by phone)');
    expect(resolved[0]?.[6]).toBe('exposure 9,000.00 EUR is 90.0% of the 10,000.00 EUR limit');

    // The customer link keeps the date the alert was last seen.
    expect(r.body).toContain(`href="/customers/C-EVIL?asOf=${ASOF}"`);
    // Its forms post to the console (answering alerts, console-actions.test.ts) or read the list
    // again with its filters (a GET to /alerts, console-lists.test.ts); no script at all.
    expect(r.body).not.toMatch(/<script/);
    expect([...r.body.matchAll(/<form [^>]*action="([^"]*)"/g)].map((m) => m[1])).toEqual([
      '/alerts',
      ...Array(4).fill('/alerts/answer'),
    ]);
  });

  it('escapes customer names and alert texts that come from uploaded files', async () => {
    const r = await get('/alerts');
    expect(r.body).not.toContain('<script');
    expect(r.body).not.toContain('<b>of</b>');
    expect(r.body).not.toContain('<requested>');
    expect(r.body).toContain(HOSTILE_ESCAPED);
    expect(r.body).toContain('Bank &lt;b&gt;of&lt;/b&gt; Trust');
    expect(r.body).toContain('renewal &lt;requested&gt;');
  });

  it('/api/alerts gives the same as JSON', async () => {
    const r = await get('/api/alerts');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    const body = JSON.parse(r.body) as { active: Alert[]; resolved: Alert[] };
    expect(body.active.map((a) => [a.rule, a.severity, a.status, a.action])).toEqual([
      ['daysPastDue', 'critical', 'open', 'cut_limit'],
      ['overdueAmount', 'critical', 'open', 'cut_limit'],
      ['coverExpiring', 'warning', 'acknowledged', 'review'],
    ]);
    expect(body.active[0]).toMatchObject({
      alertId: `C-EVIL/daysPastDue/${ASOF}`,
      customerId: 'C-EVIL',
      openedAsOf: ASOF,
      policyId: policy.id,
      evidence: { maxDaysPastDue: 95, overdueAmount: '6,000.00 EUR', openInvoices: 2 },
    });
    expect(body.resolved.map((a) => [a.customerId, a.rule, a.status, a.resolvedAt])).toEqual([
      ['C-EVIL', 'limitUse', 'resolved', `${ASOF}T10:00:00.000Z`],
    ]);
  });

  it('the customer page shows the assessment as of its date, the limit and the active alerts', async () => {
    const r = await get(`/customers/C-EVIL?asOf=${ASOF}`);
    expect(r.status).toBe(200);
    expect(r.body).not.toContain('<script');
    expect(r.body).toContain(HOSTILE_ESCAPED);

    const credit = section(r.body, `Credit assessment as of ${ASOF}`, '<h2>Score factors');
    expect(pairs(credit)).toMatchObject({
      Score: '27/100',
      Rating: 'E',
      'Risk class': 'high',
      Policy: policy.id,
      'Current limit': '10,000.00 EUR',
      Recommended: '2,000.00 EUR',
      Change: 'CUT',
      'A review today':
        'approval: cut from 10,000.00 EUR to 2,000.00 EUR needs approval: it is below the exposure of 9,000.00 EUR, and a review never cuts a limit below what the customer owes on its own',
    });
    expect(pairs(credit).Reason).toMatch(
      /^the formula gives 2,000\.00 EUR, below the current 10,000\.00 EUR: rating E, /,
    );
    expect(pairs(credit).Basis).toContain(
      '+ 2,000.00 EUR guarantee G-1 (Bank <b>of</b> Trust), in force until 2025-07-15',
    );

    const factors = rows(section(r.body, 'Score factors')).slice(1);
    const words = (k: string) => k.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
    expect(factors.slice(0, -1).map((f) => f.slice(0, 4))).toEqual(
      EVIL_FACTORS.map(([f, p, m, c]) => [words(f), String(p), String(m), c]),
    );
    expect(factors.at(-1)?.slice(0, 3)).toEqual(['Total', '27', '100']);
    expect(factors[3]?.[4]).toBe('days past due of the oldest open item 95 days: outside every better band');
    expect(factors[13]?.[4]).toBe('industry "construction" is high risk');

    const alerts = rows(section(r.body, 'Active alerts')).slice(1);
    expect(alerts.map((row) => [row[0], row[1], row[2]])).toEqual([
      ['critical', 'daysPastDue', 'open'],
      ['critical', 'overdueAmount', 'open'],
      ['warning', 'coverExpiring', 'acknowledged by ana (renewal <requested>)'],
    ]);
    expect(r.body).toContain('sentinel alerts ack C-EVIL/coverExpiring');
  });

  it('the assessment follows the page date, and the console stores nothing', async () => {
    const before = await env.store.loadCustomerPartition('C-EVIL');
    // As of 05-31: E-2 not issued yet, E-1 65 days past due; 6,000.00 owed against 6,000.00 invoiced
    // over the 4 months begun since 02-25 (1,500.00 a month): 4 months of sales.
    const r = await get('/api/customers/C-EVIL?asOf=2025-05-31');
    expect(r.status).toBe(200);
    const { assessment } = JSON.parse(r.body);
    expect(assessment.asOf).toBe('2025-05-31');
    const code = (f: string) =>
      assessment.factors.find((x: { factor: string }) => x.factor === f) as { code: string; points: number };
    expect(code('maxDaysPastDue')).toMatchObject({ code: 'MAX_DAYS_PAST_DUE_LE_90', points: 1 });
    expect(code('exposureToSales')).toMatchObject({ code: 'EXPOSURE_TO_SALES_LE_4', points: 3 });
    // 27 + 3 (exposure to sales 0 -> 3) + 1 (days past due 0 -> 1) + 2 (cover 2,000 / 6,000 = 33%: 1 -> 3) = 33
    expect(assessment.score).toBe(33);
    expect(assessment.rating).toBe('E');

    const after = await env.store.loadCustomerPartition('C-EVIL');
    expect(after.assessment).toEqual(before.assessment);
    expect(after.assessment?.asOf).toBe(ASOF);
    expect(after.alerts).toEqual(before.alerts);
  });

  it('/api/customers/:id carries the assessment and the active alerts under `assessment`', async () => {
    const r = await get(`/api/customers/C-EVIL?asOf=${ASOF}`);
    const body = JSON.parse(r.body);
    expect(body.line.name).toBe(HOSTILE);
    expect(body.assessment).toMatchObject({
      customerId: 'C-EVIL',
      asOf: ASOF,
      policyId: policy.id,
      currency: 'EUR',
      score: 27,
      rating: 'E',
      riskClass: 'high',
      limit: { currency: 'EUR', current: '10000.00', recommended: '2000.00', change: 'CUT' },
      decision: { outcome: 'approval', request: 'decrease', rule: 'CUT_BELOW_EXPOSURE', to: '2000.00' },
    });
    expect(body.assessment.figures).toBeUndefined();
    expect(body.assessment.factors.map((f: { code: string }) => f.code)).toEqual(
      EVIL_FACTORS.map((f) => f[3]),
    );
    expect(body.assessment.activeAlerts.map((a: Alert) => `${a.rule}:${a.status}`).sort()).toEqual([
      'coverExpiring:acknowledged',
      'daysPastDue:open',
      'overdueAmount:open',
    ]);

    const ok = JSON.parse((await get(`/api/customers/C-OK?asOf=${ASOF}`)).body);
    expect(ok.assessment.activeAlerts).toEqual([]);
    expect(ok.assessment.limit.currency).toBe('USD');
    expect(ok.assessment.factors.find((f: { factor: string }) => f.factor === 'meanDaysLate')).toMatchObject({
      code: 'MEAN_DAYS_LATE_LE_5',
      points: 8,
    });
  });

  it('without the credit store, /alerts is a 404 and the customer has no assessment', async () => {
    expect((await get('/alerts', bare)).status).toBe(404);
    expect((await get('/api/alerts', bare)).status).toBe(404);
    const c = JSON.parse((await get(`/api/customers/C-EVIL?asOf=${ASOF}`, bare)).body);
    expect(c.assessment).toBeUndefined();
    const page = await get(`/customers/C-EVIL?asOf=${ASOF}`, bare);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('Credit assessment');
  });
});
