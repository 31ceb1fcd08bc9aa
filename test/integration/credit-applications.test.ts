import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoApplicationStore } from '../../functions/adapters/dynamodb-applications.ts';
import { DynamoCheckStore } from '../../functions/adapters/dynamodb-checks.ts';
import { type ApplicationDeps, fileApplication } from '../../functions/applications/app.ts';
import { type CreditApplication, parseApplication } from '../../functions/applications/application.ts';
import { checkCredit } from '../../functions/checks/app.ts';
import { type CheckOrder, decideCredit } from '../../functions/checks/decide.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { StoredRecord } from '../../functions/ingest/ports.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import type { Transfer } from '../../functions/transfers/ports.ts';
import { localChecks } from '../../infra/local/cli/checks.ts';
import { main } from '../../infra/local/cli/index.ts';
import { type RunningConsole, startConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, localTransfers } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { NOVA as NOVA_FILED } from './applications-fixture.ts';
import {
  approvalPolicyWith,
  decideByMail,
  endTransfers,
  launchChromium,
  levelMailOf,
  until,
} from './transfers-console.ts';

/**
 * Credit applications (客户筛选, README "Credit applications") on dynalite, with the real approval
 * chain (the ASL on the local engine, the approval emails as .eml files whose links are posted as an
 * approver's browser posts them), the shipped credit and approval policies.
 *
 * NOVA (not on file) asks 300,000.00 EUR with a full statement and an agency score. The scorecard
 * by hand (policies/default.json), 100 points available:
 *   payment behaviour, no invoices: mean days late 5/10, weighted days late 5/10, share paid late
 *   4/8, exposure to sales 4/8 (neutral: not computable); days past due 0 -> 12/12, overdue share 0
 *   -> 8/8 (nothing owed); months of history 0 -> 0/6; cover: nothing owed -> neutral 2/5
 *   statement 2025-12-31: current ratio 400,000 / 200,000 = 2.00 -> 5/5; quick ratio
 *   (400,000 - 100,000) / 200,000 = 1.50 -> 4/4; debt ratio 500,000 / 1,000,000 = 0.50 -> 3/5;
 *   Altman Z'' = 6.56 x 0.2 + 3.26 x 0.15 + 6.72 x 0.08 + 1.05 x 1.0 = 3.39 -> 10/10
 *   agency score 72 of 100 -> 3/5; industry wholesale (medium) -> 2/4
 *   = 67 -> rating B (65-79), low risk.
 *   Initial limit: rating B has 2 months of sales (> 0); the request 300,000.00 stands in for the
 *   sales term; 10% of revenue 2,400,000.00 = 240,000.00 caps it; the B cap 2,000,000.00 does not;
 *   240,000.00 at 2 significant digits stays 240,000.00 EUR.
 *
 * THIN (on file from a customers upload, no limit) asks 50,000.00 EUR with nothing else: the four
 * statement factors neutral 2 + 2 + 2 + 4 = 10/24, the agency score neutral 2/5, industry unknown
 * 2/4, the rest as NOVA (5+5+4+12+8+4+0+2 = 40): 54 -> rating C (50-64), medium risk; but with
 * neither statements nor an agency score there is nothing to rate it on: 0.00 EUR, no unsecured
 * credit until one is filed (it ships against prepayment).
 */
const TODAY = '2026-11-24';
const clock = { now: () => new Date(`${TODAY}T09:00:00Z`) };
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let deps: ApplicationDeps;
let store: DynamoApplicationStore;
let checks: DynamoCheckStore;

const NOVA = {
  ...NOVA_FILED,
  country: 'de',
  tradeReferences: [{ name: 'Kraft Logistik AG', years: 4, creditLimit: '50000.00', paysOnTime: true }],
};

const order = (customerId: string, amount: number, orderId = `SO-${customerId}`): CheckOrder => ({
  customerId,
  orderId,
  amount,
  currency: 'EUR',
  requestedShipDate: TODAY,
  stage: 'order',
  channel: 'test',
});

/** A check as the checks app makes one, on the fixed items it reads (README "Credit checks"). */
async function check(customerId: string, amount: number) {
  return decideCredit(order(customerId, amount), await checks.loadCheckFile(customerId), policy, TODAY);
}

/** A check through the checks app (functions/checks/app.ts): decided, logged, reserved on approve. */
async function checkApp(customerId: string, amount: number) {
  return checkCredit(localChecks(env), policy, order(customerId, amount, `APP-${customerId}-${amount}`), {
    today: TODAY,
    now: clock.now().toISOString(),
  });
}

/** The approval emails of a level of a transfer, parsed. */
const levelMail = (transferId: string, level: number) => levelMailOf(dir, transferId, level);
const decide = (mail: { text: string; to: string }, decision: 'approve' | 'reject', comment = '') =>
  decideByMail(transfers, mail, decision, comment);
const transferOf = async (id: string) => (await transfers.app.show(id))?.transfer as Transfer;

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  dir = await mkdtemp(join(tmpdir(), 'applications-'));
  await env.store.write([
    {
      kind: 'customers',
      row: { customerId: 'THIN', name: 'Thin Trading Ltd', country: 'GB', currency: 'EUR' },
      from: { runId: 'seed', line: 2 },
    },
  ] as StoredRecord[]);
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
  store = new DynamoApplicationStore(env.store.client, env.store.tableName);
  checks = new DynamoCheckStore(env.store.client, env.store.tableName);
  deps = {
    store,
    audit: transfers.store,
    policy: async () => policy,
    approvalPolicy: async () => approvalPolicy,
    approvals: transfers.app,
    clock,
    today: () => TODAY,
  };
});

afterAll(async () => {
  await endTransfers(transfers);
  await env.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a credit application', () => {
  it('with bad fields names each one, and writes nothing', async () => {
    const r = await fileApplication(deps, {
      ...NOVA,
      customerId: 'BAD',
      country: 'Germany',
      currency: 'EURO',
      requestedLimit: '-5',
      registrationNo: '',
      financials: [{ periodEnd: '2025-13-01', revenue: 'lots' }],
      score: { agency: 'X', date: '2026-10-01', score: 120, scaleMax: 100 },
      legalDisputes: [{ date: '2024-03-01', description: 'claim', state: 'pending' }],
      filedBy: 'nobody',
      extra: 1,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.status).toBe(400);
    expect(r.issues.map((i) => i.field)).toEqual([
      'country',
      'currency',
      'registrationNo',
      'financials.0.periodEnd',
      'score.score',
      'legalDisputes.0.state',
      'filedBy',
      '(body)',
    ]);
    expect(r.issues.find((i) => i.field === 'filedBy')?.message).toContain(
      'is not a person of the approval policy',
    );
    // Counts and scores may come as JSON numbers or as text, as the amounts do; words are named.
    const asText = parseApplication({
      ...NOVA,
      paymentTermsDays: '30',
      score: { agency: 'X', date: '2026-10-01', score: '72', scaleMax: '100' },
    });
    expect(asText.ok && asText.filing.score).toMatchObject({ score: 72, scaleMax: 100 });
    expect(asText.ok && asText.filing.paymentTermsDays).toBe(30);
    const words = parseApplication({
      ...NOVA,
      score: { agency: 'X', date: '2026-10-01', score: 'seventy', scaleMax: 100 },
    });
    expect(!words.ok && words.issues).toEqual([{ field: 'score.score', message: 'must be a number' }]);
    // With a good currency the amounts are checked too, each named.
    const r2 = await fileApplication(deps, {
      ...NOVA,
      customerId: 'BAD',
      requestedLimit: '-5',
      financials: [{ periodEnd: '2025-12-31', revenue: 'lots', ebit: '-10.5' }],
    });
    expect(r2.ok).toBe(false);
    if (r2.ok) return;
    expect(r2.issues).toEqual([
      { field: 'requestedLimit', message: 'must be greater than zero' },
      { field: 'financials.0.revenue', message: expect.stringContaining('(EUR)') },
    ]);
    expect(await store.current('BAD')).toBeUndefined();
    expect(await transfers.app.list()).toHaveLength(0);
  });

  let nova: CreditApplication;
  it('is rated by the scorecard with what it has, and says what is missing', async () => {
    const r = await fileApplication(deps, NOVA);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    nova = r.application;
    expect(nova).toMatchObject({
      applicationId: 'APP-NOVA-1',
      state: 'pending',
      country: 'DE',
      requestedLimit: 300_000_00,
      filedOn: TODAY,
      onFile: false,
    });
    expect(nova.rating).toMatchObject({ score: 67, rating: 'B', riskClass: 'low', initialLimit: 240_000_00 });
    const points = Object.fromEntries(nova.rating.factors.map((f) => [f.factor, f.points]));
    expect(points).toEqual({
      meanDaysLate: 5,
      weightedDaysLate: 5,
      sharePaidLate: 4,
      maxDaysPastDue: 12,
      overdueShare: 8,
      exposureToSales: 4,
      currentRatio: 5,
      quickRatio: 4,
      debtRatio: 3,
      altmanZ2: 10,
      historyMonths: 0,
      externalScore: 3,
      cover: 2,
      industryRisk: 2,
    });
    expect(nova.rating.basis).toEqual([
      'no sales history yet: the requested 300,000.00 EUR stands in for the sales term',
      'capped at 10% of revenue 2,400,000.00 EUR (2025-12-31) = 240,000.00 EUR',
    ]);
    expect(nova.rating.missing).toEqual([
      expect.stringMatching(
        /^no payment history \(a new account\): the payment-behaviour factors score as unknown, neutral points \(18 of 36\)/,
      ),
    ]);
    expect(nova.rating.flags).toEqual(['1 closed legal dispute on record']);
    // Its initial limit is on the approval chain, filed by rita, the evidence in the reason.
    expect(nova.transferId).toMatch(/^TR-/);
    const t = await transferOf(nova.transferId as string);
    expect(t.request).toMatchObject({
      type: 'credit_application',
      amount: 240_000_00,
      currency: 'EUR',
      requester: 'rita',
    });
    expect(t.request.reason).toContain(
      'scorecard 67 (B, low risk); recommended initial limit 240,000.00 EUR',
    );
    expect(t.limitChange).toEqual({ to: 240_000_00, reviewId: 'APP-NOVA-1' });
    expect(t.application).toMatchObject({
      applicationId: 'APP-NOVA-1',
      requestedLimit: 300_000_00,
      rating: 'B',
    });
  });

  it('a thin one says plainly what it lacks', async () => {
    const r = await fileApplication(deps, {
      customerId: 'THIN',
      name: 'Thin Trading Ltd',
      country: 'GB',
      currency: 'EUR',
      registrationNo: '09876543',
      requestedLimit: '50000',
      filedBy: 'rita@example.com',
    });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.application.onFile).toBe(true);
    expect(r.application.rating).toMatchObject({
      score: 54,
      rating: 'C',
      riskClass: 'medium',
      initialLimit: 0,
    });
    expect(r.application.rating.basis).toEqual([
      'nothing to rate the customer on (no financial statements, no agency score): no unsecured credit until one is filed, 0.00 EUR; it ships against prepayment or a guarantee',
    ]);
    expect(r.application.rating.missing).toEqual([
      "no financial statements: the liquidity factors (current ratio, quick ratio, debt ratio, Altman Z'') score as unknown, neutral points (10 of 24)",
      'no agency score: the external score scores as unknown, neutral points (2 of 5)',
      'no industry: industry risk scores as unknown, 2 of 4 points',
      expect.stringMatching(/^no payment history/),
      'no revenue stated: the limit is not capped by a share of revenue',
    ]);
    expect(r.application.rating.flags).toEqual(['no trade references']);
  });

  it('while pending, a check holds with APPLICATION_PENDING instead of asking for one', async () => {
    const d = await check('NOVA', 10_000_00);
    expect(d.outcome).toBe('hold');
    expect(d.reasons.map((x) => x.code)).toEqual(['APPLICATION_PENDING']);
    expect(d.reasons[0]?.text).toBe(
      'NOVA: credit application pending since 2026-11-24, asked limit 300,000.00 EUR (APP-NOVA-1): no selling on credit until it is decided.',
    );
    // On file without a limit: the same reason in place of NO_CREDIT_LIMIT.
    const thin = await check('THIN', 10_000_00);
    expect(thin.outcome).toBe('hold');
    expect(thin.reasons.map((x) => x.code)).toEqual(['APPLICATION_PENDING']);
    // Through the checks app: a new customer and one on file without a limit are held the same way.
    for (const c of ['NOVA', 'THIN'])
      expect((await checkApp(c, 10_000_00)).decision.reasons.map((x) => x.code)).toEqual([
        'APPLICATION_PENDING',
      ]);
    // Nobody applied: still the application needed.
    expect((await check('NOBODY', 1_00)).reasons.map((x) => x.code)).toEqual(['CREDIT_APPLICATION_NEEDED']);
    expect((await checkApp('NOBODY', 1_00)).decision.reasons.map((x) => x.code)).toEqual([
      'CREDIT_APPLICATION_NEEDED',
    ]);
  });

  it('a second filing while one is pending is refused', async () => {
    const r = await fileApplication(deps, NOVA);
    expect(r).toMatchObject({ ok: false, status: 409 });
    if (r.ok) return;
    expect(r.issues[0]?.message).toBe(
      'APP-NOVA-1 of NOVA is credit application pending since 2026-11-24, asked limit 300,000.00 EUR',
    );
  });

  it('two filings at once store one, with one request', async () => {
    const twin = { ...NOVA, customerId: 'TWIN', name: 'Twin Ltd' };
    const [a, b] = await Promise.all([fileApplication(deps, twin), fileApplication(deps, twin)]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    const refused = (a.ok ? b : a) as Extract<typeof a, { ok: false }>;
    expect(refused.status).toBe(409);
    const ofTwin = (await transfers.app.list()).filter((t) => t.request.customerId === 'TWIN');
    expect(ofTwin).toHaveLength(1);
    expect((await store.list()).filter((x) => x.customerId === 'TWIN')).toHaveLength(1);
  });

  it('approved at every level (two approvers at once at level 1), the account is opened with its limit, once', async () => {
    const id = nova.transferId as string;
    const levels = (await until('the chain of NOVA', async () => (await transferOf(id)).levels))?.length;
    expect(levels).toBeGreaterThanOrEqual(1);
    for (let level = 1; level <= levels; level++) {
      const mail = await levelMail(id, level);
      if (level === 1) {
        // The approvers read the application's evidence in the email.
        expect(mail[0]?.text).toContain('Scorecard: 67 of 100: rating B (low risk)');
        expect(mail[0]?.text).toContain('Missing: no payment history (a new account)');
        expect(mail[0]?.text).toContain('Limit asked: 300,000.00 EUR');
        // Both credit controllers approve at the same moment: one decision counts.
        expect(mail.length).toBeGreaterThanOrEqual(2);
        const res = await Promise.all(mail.slice(0, 2).map((m) => decide(m, 'approve')));
        expect(res.map((r) => r.status)).toContain(200);
      } else {
        const res = await decide(mail[0] as (typeof mail)[number], 'approve');
        expect(res.status, res.body).toBe(200);
      }
      if (level < levels) await levelMail(id, level + 1);
    }
    const done = await until('NOVA approved', async () => {
      const a = await store.current('NOVA');
      return a?.state === 'approved' ? a : undefined;
    });
    expect(done).toMatchObject({ approvedLimit: 240_000_00, transferId: id, decidedBy: 'system' });
    const part = await env.store.loadCustomerPartition('NOVA');
    expect(part.books.customer).toMatchObject({
      customerId: 'NOVA',
      name: 'Nova Handel GmbH',
      country: 'DE',
      currency: 'EUR',
      registrationNo: 'HRB 123456',
      industry: 'wholesale',
      paymentTermsDays: 30,
      creditLimit: 240_000_00,
    });
    // The limit's record as a review's first limit keeps it, naming the application.
    expect(part.limitChanges?.map((l) => [l.reviewId, l.from, l.to, l.by])).toEqual([
      ['APP-NOVA-1', undefined, 240_000_00, 'approval chain'],
    ]);
    // The executed record follows the limit's write and the application's decision.
    const trail = await until('the executed record', async () => {
      const all = (await transfers.store.auditTrail()).filter(
        (r) => r.subject === id || r.subject === 'APP-NOVA-1',
      );
      return all.some((r) => r.kind === 'transfer.executed') ? all : undefined;
    });
    const kinds = trail.map((r) => r.kind);
    expect(kinds.filter((k) => k === 'application.decided')).toHaveLength(1);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'application.filed',
        'transfer.requested',
        'gate.evaluated',
        'approval.decided',
        'transfer.executed',
        'application.decided',
      ]),
    );
    expect(trail.find((r) => r.kind === 'transfer.requested')?.actor).toBe('rita');
    // Approved once: only one of the two level-1 approvals counted.
    const approvals = await transfers.store.approvalsOf(id);
    expect(approvals.filter((a) => a.level === 1 && a.status === 'approved')).toHaveLength(1);
  });

  it('after approval, a check weighs the order against the new limit', async () => {
    const ok = await check('NOVA', 100_000_00);
    expect(ok.outcome).toBe('approve');
    expect(ok.limit).toBe(240_000_00);
    expect(ok.reasons[0]?.text).toBe(
      'The exposure with this order, 100,000.00 EUR, is within the limit of 240,000.00 EUR: 140,000.00 EUR of headroom left.',
    );
    // Through the checks app: approved and reserved against the new limit.
    const r = await checkApp('NOVA', 100_000_00);
    expect(r.decision.outcome).toBe('approve');
    expect(r.reservation).toBe('reserved');
    const over = await check('NOVA', 250_000_00);
    expect(over.outcome).toBe('hold');
    expect(over.reasons.map((x) => x.code)).toEqual(['OVER_LIMIT']);
  });

  it('rejected, the application is rejected and the customer stays without a limit', async () => {
    const thin = (await store.current('THIN')) as CreditApplication;
    const id = thin.transferId as string;
    const [mail] = await levelMail(id, 1);
    const res = await decide(mail as NonNullable<typeof mail>, 'reject', 'no statements, no references');
    expect(res.status, res.body).toBe(200);
    const done = await until('THIN rejected', async () => {
      const a = await store.current('THIN');
      return a?.state === 'rejected' ? a : undefined;
    });
    expect(done.outcome).toContain('no statements, no references');
    expect((await transferOf(id)).status).toBe('rejected');
    const part = await env.store.loadCustomerPartition('THIN');
    expect(part.books.customer?.creditLimit).toBeUndefined();
    expect((await check('THIN', 1_00)).reasons.map((x) => x.code)).toEqual(['NO_CREDIT_LIMIT']);
    // Decided, a new application may be filed: the next number, the old one kept.
    const again = await fileApplication(deps, {
      customerId: 'THIN',
      name: 'Thin Trading Ltd',
      country: 'GB',
      currency: 'EUR',
      registrationNo: '09876543',
      requestedLimit: '20000',
      filedBy: 'rita',
    });
    expect(again).toMatchObject({ ok: true, application: { applicationId: 'APP-THIN-2' } });
    expect((await store.byId('APP-THIN-1'))?.state).toBe('rejected');
  });

  it('a customer on file with a limit is refused: that is a review', async () => {
    const r = await fileApplication(deps, NOVA);
    expect(r).toMatchObject({ ok: false, status: 409 });
    if (r.ok) return;
    expect(r.issues[0]?.message).toContain('on file with a credit limit of 240,000.00 EUR');
  });
});

describe('the console', () => {
  let web: RunningConsole;
  beforeAll(async () => {
    web = await startConsole({
      queries: new ReceivablesQueries(env.store),
      today: () => TODAY,
      port: 0,
      applications: {
        file: (input) => fileApplication(deps, input),
        list: () => store.list(),
        show: (id) => store.byId(id),
      },
    });
  });
  afterAll(async () => web?.close());

  it('lists the applications, and shows one with its scorecard and what is missing', async () => {
    const list = await fetch(`${web.url}/applications`);
    expect(list.status).toBe(200);
    const page = await list.text();
    expect(page).toContain('<a href="/applications/APP-NOVA-1">APP-NOVA-1</a>');
    expect(page).toContain('<form class="request" method="post" action="/applications/new">');
    const one = await (await fetch(`${web.url}/applications/APP-THIN-1`)).text();
    expect(one).toContain('Score 54 of 100: rating C (medium risk)');
    expect(one).toContain('no financial statements: the liquidity factors');
    const api = (await (await fetch(`${web.url}/api/applications/APP-NOVA-1`)).json()) as {
      application: { requestedLimit: string; rating: { initialLimit: string } };
    };
    expect(api.application.requestedLimit).toBe('300000.00');
    expect(api.application.rating.initialLimit).toBe('240000.00');
    expect((await fetch(`${web.url}/applications/APP-NONE-1`)).status).toBe(404);
  });

  it('the form files one (303 to it), or shows every problem with nothing stored', async () => {
    const form = (fields: Record<string, string>) =>
      fetch(`${web.url}/applications/new`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    const bad = await form({
      customerId: 'WEB',
      name: 'Web GmbH',
      country: 'DE',
      currency: 'EUR',
      requestedLimit: 'x',
    });
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(text).toContain('The application was not filed: nothing was stored.');
    expect(text).toContain('registrationNo is required');
    expect(text).toContain('filedBy is required');
    expect(await store.current('WEB')).toBeUndefined();
    const ok = await form({
      customerId: 'WEB',
      name: 'Web GmbH',
      country: 'DE',
      currency: 'EUR',
      registrationNo: 'HRB 1',
      requestedLimit: '20,000.00'.replace(',', ''),
      filedBy: 'rita',
      'fin.periodEnd': '2025-12-31',
      'fin.revenue': '1000000.00',
      tradeReferences: 'Kraft Logistik AG | 3 | 10000.00 | yes',
      legalDisputes: '2025-05-01 | open | unpaid rent claim | 12000.00',
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/applications/APP-WEB-1');
    const a = (await store.current('WEB')) as CreditApplication;
    expect(a.tradeReferences).toEqual([
      { name: 'Kraft Logistik AG', years: 3, creditLimit: 10_000_00, paysOnTime: true },
    ]);
    expect(a.rating.flags).toEqual([
      '1 open legal dispute on record: 2025-05-01 unpaid rent claim (12,000.00 EUR)',
    ]);
  });

  it('in Chromium at 360 px: the pages fit, the CSP holds, and the form files one', async () => {
    const browser = await launchChromium();
    const shots = join(tmpdir(), 'credit-applications-shots');
    await mkdir(shots, { recursive: true });
    try {
      const page = await browser.newPage({ viewport: { width: 360, height: 740 }, isMobile: true });
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
      });
      const width = async () =>
        (await page.evaluate(
          '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
        )) as [number, number];
      for (const [name, path] of [
        ['list', '/applications'],
        ['nova', '/applications/APP-NOVA-1'],
        ['thin', '/applications/APP-THIN-1'],
      ] as const) {
        const res = await page.goto(`${web.url}${path}`);
        expect(res?.status(), path).toBe(200);
        const [scroll, client] = await width();
        expect(scroll, `${path} is ${scroll} px wide at ${client}`).toBeLessThanOrEqual(client);
        await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
      }
      await page.goto(`${web.url}/applications`);
      await page.fill('#customerId', 'CHROME');
      await page.fill('#name', 'Chrome Kft');
      await page.fill('#country', 'HU');
      await page.fill('#currency', 'EUR');
      await page.fill('#registrationNo', 'Cg 01-09-000001');
      await page.fill('#requestedLimit', '15000.00');
      await page.fill('#filedBy', 'rita');
      await page.fill('[name="score.agency"]', 'Opten');
      await page.fill('[name="score.date"]', '2026-09-30');
      await page.fill('[name="score.score"]', '55');
      await page.fill('[name="score.scaleMax"]', '100');
      await Promise.all([
        page.waitForURL(/\/applications\/APP-CHROME-1$/),
        page.click('button[type=submit]'),
      ]);
      expect(await page.textContent('h1')).toBe('Credit application APP-CHROME-1');
      await page.screenshot({ path: join(shots, 'filed.png'), fullPage: true });
      expect(violations).toEqual([]);
      expect((await store.current('CHROME'))?.score).toMatchObject({ agency: 'Opten', score: 55 });
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('the JSON API files one, or answers 400 with the issues', async () => {
    const post = (body: unknown) =>
      fetch(`${web.url}/api/applications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const bad = await post({ ...NOVA, customerId: 'API', currency: 'XXY' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: { field: string }[] }).issues.map((i) => i.field)).toEqual([
      'currency',
    ]);
    const ok = await post({ ...NOVA, customerId: 'API', name: 'Api AG' });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { application: { applicationId: string } }).application.applicationId).toBe(
      'APP-API-1',
    );
  });
});

describe('the CLI', () => {
  /** `main` in this process, capturing what it prints. */
  async function cli(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const error = vi
      .spyOn(console, 'error')
      .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    try {
      return { code: await main(args), stdout: out.join('\n'), stderr: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  it('application list and show read the store; file needs the product running', async () => {
    const data = join(dir, 'cli-data');
    // The applications as filed above, copied into a data dir of its own.
    const disk = await openLocal({ dataDir: data });
    const copy = new DynamoApplicationStore(disk.store.client, disk.store.tableName);
    for (const a of await store.list()) await copy.fileNew(a, undefined);
    await disk.close();
    const list = await cli(['application', 'list', '--data-dir', data]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(
      /APP-NOVA-1\s+NOVA Nova Handel GmbH\s+2026-11-24\s+approved\s+300,000.00 EUR\s+B \(67\)\s+240,000.00 EUR/,
    );
    const show = await cli(['application', 'show', 'APP-THIN-2', '--data-dir', data]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('credit application pending since 2026-11-24, asked limit 20,000.00 EUR');
    expect(show.stdout).toContain(
      '    - no agency score: the external score scores as unknown, neutral points (2 of 5)',
    );
    const json = await cli(['application', 'show', 'APP-NOVA-1', '--json', '--data-dir', data]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      requestedLimit: '300000.00',
      approvedLimit: '240000.00',
    });
    const missing = await cli(['application', 'show', 'APP-NONE-1', '--data-dir', data]);
    expect(missing).toMatchObject({
      code: 1,
      stderr: 'sentinel: there is no credit application "APP-NONE-1"',
    });
    const file = join(dir, 'nova.json');
    await writeFile(file, JSON.stringify(NOVA));
    const filed = await cli(['application', 'file', file, '--data-dir', data]);
    expect(filed.code).toBe(1);
    expect(filed.stderr).toContain('credit-sentinel is not running on this data dir');
    const help = await cli(['help', 'application']);
    expect(help.stdout).toContain('application file');
  }, 60_000);
});

describe('a filing that stopped before its approval request', () => {
  it('is asked when the customer files again, and the filer is told', async () => {
    const stuck = { ...NOVA, customerId: 'STUCK', name: 'Stuck GmbH' };
    const failing = {
      ...deps,
      approvals: {
        requestCreditApplication: () => Promise.reject(new Error('the workflow engine is not running')),
      },
    };
    await expect(fileApplication(failing, stuck)).rejects.toThrow('not running');
    const left = (await store.current('STUCK')) as CreditApplication;
    expect([left.state, left.transferId]).toEqual(['pending', undefined]);
    const again = await fileApplication(deps, stuck);
    expect(again).toMatchObject({ ok: false, status: 409 });
    const asked = (await store.current('STUCK')) as CreditApplication;
    expect(asked.transferId).toMatch(/^TR-/);
    if (!again.ok)
      expect(again.issues[0]?.message).toBe(
        `APP-STUCK-1 of STUCK is credit application pending since ${TODAY}, asked limit 300,000.00 EUR; its approval request had not been asked (a failure when it was filed) and is asked now: ${asked.transferId}`,
      );
    expect((await transfers.app.show(asked.transferId as string))?.transfer.request.type).toBe(
      'credit_application',
    );
  });
});

describe('an application withdrawn', () => {
  it('by recalling its approval request (sentinel transfer recall): the application is withdrawn, the customer gets no limit', async () => {
    const r = await fileApplication(deps, { ...NOVA, customerId: 'WDRW', name: 'Withdrawn AG' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const transferId = r.application.transferId as string;
    expect((await transfers.app.recall(transferId, 'rita')).ok).toBe(true);
    const done = await until('WDRW withdrawn', async () => {
      const a = await store.current('WDRW');
      return a?.state === 'withdrawn' ? a : undefined;
    });
    expect(done).toMatchObject({ applicationId: 'APP-WDRW-1', state: 'withdrawn' });
    expect((await check('WDRW', 1_00)).reasons.map((x) => x.code)).toEqual(['CREDIT_APPLICATION_NEEDED']);
  });
});
