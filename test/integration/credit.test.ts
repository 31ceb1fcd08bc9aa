import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlertDigest, applyCommand, type Notification } from '../../functions/credit/alerts.ts';
import { backtest } from '../../functions/credit/backtest.ts';
import { creditFileOf, evaluate, sendDigest } from '../../functions/credit/evaluate.ts';
import { parsePolicy, policyInForce, SEVERITY_RANK } from '../../functions/credit/policy.ts';
import type { AlertNotifier } from '../../functions/credit/ports.ts';
import { ProfileCatalog } from '../../functions/ingest/uploads.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { type Harness, harness } from './helpers.ts';

/** The whole credit path on dynalite: ingest, evaluate, alerts stored and answered, replayed. */
const IBM = resolve(
  import.meta.dirname,
  '../fixtures/datasets/ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv',
);
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);

function recorder() {
  const sent: Notification[] = [];
  const digests: AlertDigest[] = [];
  const notifier: AlertNotifier = {
    notify: async (n) => void sent.push(...n),
    digest: async (d) => void digests.push(d),
  };
  return { sent, digests, notifier };
}

/**
 * A live evaluation needs a today: the clock's day (in UTC) is the as-of date a team would have
 * run it on, as a real team's "today" is; an as-of date other than today is a what-if.
 */
const deps = (h: Harness, notifier: AlertNotifier, now: string) => ({
  store: h.env.store,
  notifier,
  policy,
  clock: { now: () => new Date(now) },
  timeZone: 'UTC',
});

describe('the IBM sample, evaluated', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
    const profile = new ProfileCatalog().get('ibm-accounts-receivable');
    if (!profile) throw new Error('the IBM profile is not shipped');
    await h.load('ibm.csv', await readFile(IBM), { profile });
  }, 60_000);
  afterAll(async () => {
    await h.close();
  });

  it('the same as-of date gives the same assessments and alerts twice', async () => {
    const r1 = recorder();
    const first = await evaluate(deps(h, r1.notifier, '2013-06-30T06:00:00Z'), { asOf: '2013-06-30' });
    expect(first.customers).toBe(100);
    expect(first.opened).toBeGreaterThan(0);
    expect(r1.sent).toHaveLength(first.opened);
    const alerts1 = await h.env.store.listAlerts('active');
    const assessments1 = await Promise.all(
      ['0379-NEVHP', '0688-XNJRO'].map((id) => h.env.store.loadCustomerPartition(id)),
    );

    const r2 = recorder();
    const second = await evaluate(deps(h, r2.notifier, '2013-06-30T07:00:00Z'), { asOf: '2013-06-30' });
    const news = { opened: 0, raisedBySeverity: undefined, notifications: 0 };
    expect({ ...second, ...news }).toEqual({ ...first, ...news });
    expect(second.opened).toBe(0);
    expect(r2.sent).toEqual([]); // nothing new: nobody is told twice
    expect(await h.env.store.listAlerts('active')).toEqual(alerts1);
    const assessments2 = await Promise.all(
      ['0379-NEVHP', '0688-XNJRO'].map((id) => h.env.store.loadCustomerPartition(id)),
    );
    expect(assessments2.map((p) => p.assessment)).toEqual(assessments1.map((p) => p.assessment));
    expect(r1.digests).toEqual([]); // an evaluation never sends the digest: the daily run does, after it

    // The daily digest: every active alert counted, the most severe listed first.
    const d = await sendDigest({ store: h.env.store, notifier: r2.notifier }, '2013-06-30');
    expect(r2.digests).toEqual([d]);
    expect(d?.active).toBe(alerts1.length);
    const counts = { critical: 0, high: 0, warning: 0, info: 0 };
    for (const x of alerts1) counts[x.severity]++;
    expect(d?.bySeverity).toEqual(counts);
    expect(d?.alerts).toHaveLength(Math.min(50, alerts1.length));
    expect(d?.more).toBe(Math.max(0, alerts1.length - 50));
    const ranks = d?.alerts.map((x) => SEVERITY_RANK[x.severity]) ?? [];
    expect(ranks).toEqual([...ranks].sort((p, q) => q - p));
    // Every assessment says which policy made it, and every factor has its points and reason code.
    const a = assessments1[0]?.assessment;
    expect(a?.policyId).toBe(policy.id);
    expect(a?.factors.length).toBe(14);
    for (const f of a?.factors ?? []) expect(f.code).toMatch(/^[A-Z0-9_]+$/);
  });

  it('a month later some alerts resolve by themselves and others open; answers stick', async () => {
    const r = recorder();
    const run = await evaluate(deps(h, r.notifier, '2013-07-31T06:00:00Z'), { asOf: '2013-07-31' });
    expect(run.resolved).toBeGreaterThan(0);
    expect(run.opened).toBeGreaterThan(0);
    const resolved = await h.env.store.listAlerts('resolved');
    expect(resolved.length).toBe(run.resolved);
    expect(
      resolved.every(
        (a) => a.status === 'resolved' && a.history.at(-1)?.note === 'condition cleared as of 2013-07-31',
      ),
    ).toBe(true);

    // Someone acknowledges an alert: the next evaluation keeps it acknowledged and does not notify.
    const active = await h.env.store.listAlerts('active');
    const target = active[0];
    if (!target) throw new Error('no active alert');
    const acked = applyCommand(
      target,
      { kind: 'ack', by: 'controller@example.com' },
      '2013-07-31T07:00:00Z',
      '2013-07-31',
    );
    if ('refused' in acked) throw new Error(acked.refused);
    await h.env.store.saveEvaluation([{ customerId: target.customerId, alerts: [acked] }]);
    const again = recorder();
    await evaluate(deps(h, again.notifier, '2013-07-31T08:00:00Z'), { asOf: '2013-07-31' });
    const after = (await h.env.store.listAlerts('active')).find((a) => a.alertId === target.alertId);
    expect(after?.status).toBe('acknowledged');
    expect(again.sent).toEqual([]);
  });

  it('evaluating only the changed customers leaves the others as they are', async () => {
    const before = await h.env.store.listAlerts('active');
    const r = recorder();
    const run = await evaluate(deps(h, r.notifier, '2013-07-31T09:00:00Z'), {
      asOf: '2013-07-31',
      customerIds: ['0379-NEVHP'],
    });
    expect(run.customers).toBe(1);
    expect(await h.env.store.listAlerts('active')).toEqual(before);
  });

  it('the backtest replays 2012-2013 day by day, deterministically', async () => {
    const ids = await h.env.store.listCustomerIds();
    const files = await Promise.all(
      ids.map(async (id) => ({
        ...creditFileOf(id, await h.env.store.loadCustomerPartition(id)),
        recent: [],
      })),
    );
    const bt = backtest(files, policy, '2012-01-01', '2013-12-31');
    expect(bt.days).toBe(731);
    expect(bt.customers).toBe(100);
    expect(bt.rules.map((r) => r.rule)).toEqual([
      'daysPastDue',
      'overdueAmount',
      'limitUse',
      'abnormalPayment',
      'paymentFrequency',
      'daysLateDrift',
      'ratingDowngrade',
      'coverExpiring',
      'staleFinancials',
      'disputedShare',
      'concentration',
      'brokenPromise',
      'predictedLate',
    ]);
    // Invoices not yet due expected more than 15 days late (issue 19 item 3): 12 of the 100 customers.
    expect(bt.rules.find((r) => r.rule === 'predictedLate')).toMatchObject({ raised: 42, customers: 12 });
    const dpd = bt.rules.find((r) => r.rule === 'daysPastDue');
    expect(dpd?.raised).toBeGreaterThan(0);
    // No limits, statements or cover in the sample: those rules have nothing to say.
    // No promises to pay in a replay of history either.
    for (const rule of ['overdueAmount', 'limitUse', 'coverExpiring', 'staleFinancials', 'brokenPromise'])
      expect(bt.rules.find((r) => r.rule === rule)?.raised, rule).toBe(0);
    expect(backtest(files, policy, '2012-01-01', '2013-12-31')).toEqual(bt);
  }, 60_000);

  it('a stricter policy, tried in the backtest before it is switched on, warns more', async () => {
    const ids = await h.env.store.listCustomerIds();
    const files = await Promise.all(
      ids.map(async (id) => ({
        ...creditFileOf(id, await h.env.store.loadCustomerPartition(id)),
        recent: [],
      })),
    );
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as {
      rules: { daysPastDue: { levels: { from: number }[] } };
    };
    (doc.rules.daysPastDue.levels[0] as { from: number }).from = 10;
    const stricter = parsePolicy(doc);
    if (!stricter.ok) throw new Error(JSON.stringify(stricter.issues));
    expect(stricter.policy.id).not.toBe(policy.id);
    const base = backtest(files, policy, '2013-01-01', '2013-06-30').rules.find(
      (r) => r.rule === 'daysPastDue',
    );
    const strict = backtest(files, stricter.policy, '2013-01-01', '2013-06-30').rules.find(
      (r) => r.rule === 'daysPastDue',
    );
    expect(strict?.raised ?? 0).toBeGreaterThan(base?.raised ?? 0);
  }, 60_000);
});

describe('notifications are never lost', () => {
  it('a failed save after notifying is retried: told once, never zero times nor twice', async () => {
    const h = await harness();
    try {
      await h.load(
        'late.csv',
        'invoice_id,customer_id,issue_date,due_date,amount,currency\nL-1,LATE,2025-01-01,2025-01-31,500.00,EUR\n',
        {},
      );
      const r = recorder();
      let failOnce = true;
      const store = new Proxy(h.env.store, {
        get(target, prop, receiver) {
          if (prop === 'saveEvaluation')
            return async (...args: Parameters<typeof target.saveEvaluation>) => {
              if (failOnce) {
                failOnce = false;
                throw new Error('DynamoDB is unreachable (injected)');
              }
              return target.saveEvaluation(...args);
            };
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const d = { ...deps(h, r.notifier, '2025-06-30T06:00:00Z'), store };
      await expect(evaluate(d, { asOf: '2025-06-30' })).rejects.toThrow('unreachable');
      expect(r.sent.map((n) => n.alert.rule)).toContain('daysPastDue');
      const told = r.sent.length;
      // The retry (SQS redelivery, the next daily run) finds the same change, already told
      // (each notification was claimed, then marked sent): it stores it without telling again.
      await evaluate(d, { asOf: '2025-06-30' });
      expect(r.sent.length).toBe(told);
      const stored = await h.env.store.listAlerts('active');
      expect(stored.map((a) => a.alertId).sort()).toEqual(r.sent.map((n) => n.alert.alertId).sort());
      // Once stored, nobody is told again.
      await evaluate(d, { asOf: '2025-06-30' });
      expect(r.sent.length).toBe(told);
    } finally {
      await h.close();
    }
  });
});

describe('stored assessments', () => {
  /** One customer owing one invoice not due for months, evaluated as of 2025-06-10. */
  async function steadyCustomer(h: Harness) {
    await h.load(
      'steady.csv',
      'invoice_id,customer_id,issue_date,due_date,amount,currency\nS-1,STEADY,2025-06-01,2025-08-31,500.00,EUR\n',
      {},
    );
    const r = recorder();
    await evaluate(deps(h, r.notifier, '2025-06-10T06:00:00Z'), { asOf: '2025-06-10' });
    return r;
  }

  it('a steady customer is not written again day after day; a change is', async () => {
    const h = await harness();
    try {
      const r = await steadyCustomer(h);
      await evaluate(deps(h, r.notifier, '2025-06-11T06:00:00Z'), { asOf: '2025-06-11' });
      const stored = (await h.env.store.loadCustomerPartition('STEADY')).assessment;
      expect(stored?.asOf).toBe('2025-06-10'); // nothing but the date changed on the 11th
      expect(stored?.recent).toEqual([
        { asOf: '2025-06-10', rating: stored?.rating, score: stored?.score, policyId: policy.id },
      ]);
      // Months later the invoice is overdue: the assessment changes and is stored.
      await evaluate(deps(h, r.notifier, '2025-11-30T06:00:00Z'), { asOf: '2025-11-30' });
      const later = (await h.env.store.loadCustomerPartition('STEADY')).assessment;
      expect(later?.asOf).toBe('2025-11-30');
      expect(later?.score).toBeLessThan(stored?.score ?? 0);
    } finally {
      await h.close();
    }
  });

  it('is stored with its words, and attributes read back in another order are still the same', async () => {
    const h = await harness();
    try {
      const r = await steadyCustomer(h);
      const first = (await h.env.store.loadCustomerPartition('STEADY')).assessment;
      expect(first?.factors.every((f) => f.reason.length > 0 && f.detail.length > 0)).toBe(true);
      expect(first?.factors.find((f) => f.factor === 'maxDaysPastDue')?.reason).toBe(
        'days past due of the oldest open item 0 days: at most 0 days',
      );
      expect(first?.limit.reason).toMatch(/^no limit on file; the formula gives /);
      expect(first?.limit.formula.rating).toBe(first?.rating);
      // DynamoDB does not keep a map's attributes in the order they were written: read them back
      // reversed at every level, as it may.
      const reversed = (v: unknown): unknown =>
        Array.isArray(v)
          ? v.map(reversed)
          : v !== null && typeof v === 'object'
            ? Object.fromEntries(
                Object.entries(v)
                  .reverse()
                  .map(([k, x]) => [k, reversed(x)]),
              )
            : v;
      const store = h.env.store;
      const shuffled = Object.create(store) as typeof store;
      shuffled.loadCustomerPartition = async (id: string) => {
        const part = await store.loadCustomerPartition(id);
        return { ...part, assessment: reversed(part.assessment) as typeof part.assessment };
      };
      expect(Object.keys(reversed(first) as object)).not.toEqual(Object.keys(first ?? {}));
      await evaluate(
        { ...deps(h, r.notifier, '2025-06-11T06:00:00Z'), store: shuffled },
        { asOf: '2025-06-11' },
      );
      expect((await store.loadCustomerPartition('STEADY')).assessment?.asOf).toBe('2025-06-10');
    } finally {
      await h.close();
    }
  });
});
