import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { armCrash, disarmCrashes } from '../../functions/core/crash.ts';
import { applyCommand, type Notification } from '../../functions/credit/alerts.ts';
import { evaluate } from '../../functions/credit/evaluate.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { AlertNotifier } from '../../functions/credit/ports.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { type Harness, harness } from './helpers.ts';

/**
 * Exactly once where people notice: however many evaluations of the same customers run at once
 * (a daily run beside an after-ingest batch, two `sentinel evaluate`), and however a notifier
 * fails half-way, each alert is notified once when it opens and once per severity it rises to,
 * and stored once, under the id people were told.
 */
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
const ROUNDS = 20;
const PER_ROUND = 3;
/** Due 2025-04-01: 35 days past due as of 2025-05-06 (warning), 65 as of 2025-06-05 (high). */
const OPEN_DAY = '2025-05-06';
const RISE_DAY = '2025-06-05';

const customersOf = (round: number) => Array.from({ length: PER_ROUND }, (_, i) => `R${round}-C${i}`);

function recorder() {
  const sent: Notification[] = [];
  const notifier: AlertNotifier = {
    notify: async (n) => {
      // Let the other evaluations in: a real publish takes a network round trip.
      await new Promise((ok) => setTimeout(ok, 1));
      sent.push(...n);
    },
    digest: async () => undefined,
  };
  return { sent, notifier };
}

const deps = (h: Harness, notifier: AlertNotifier, now: string) => ({
  store: h.env.store,
  notifier,
  policy,
  clock: { now: () => new Date(now) },
  timeZone: 'UTC',
});

/** What people were told, one key per telling: customer, rule, why and how severe. */
const keyOf = (n: Notification) =>
  `${n.alert.customerId}/${n.alert.rule}/${n.reason}/${n.alert.notifiedSeverity}`;

function duplicates(sent: readonly Notification[]): string[] {
  const seen = new Map<string, number>();
  for (const n of sent) seen.set(keyOf(n), (seen.get(keyOf(n)) ?? 0) + 1);
  return [...seen].filter(([, c]) => c > 1).map(([k, c]) => `${k} x${c}`);
}

describe('an alert is notified once however many evaluations run at once', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
    const lines = ['invoice_id,customer_id,issue_date,due_date,amount,currency'];
    for (let r = 0; r < ROUNDS + 3; r++)
      for (const [i, c] of customersOf(r).entries())
        lines.push(`${c}-I1,${c},2025-03-01,2025-04-01,${1000 + 250 * i}.00,EUR`);
    await h.load('invoices.csv', `${lines.join('\n')}\n`, { now: '2025-05-06T05:00:00Z' });
  }, 60_000);
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => disarmCrashes());

  it(`${ROUNDS} rounds of 2-4 evaluations at once: opened once, escalated once, stored once`, async () => {
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const ids = customersOf(round);
      const runs = 2 + (round % 3);
      const all: Notification[] = [];
      for (const [day, hour] of [
        [OPEN_DAY, '06'],
        [RISE_DAY, '07'],
      ] as const) {
        const rs = Array.from({ length: runs }, recorder);
        await Promise.all(
          rs.map((r, k) =>
            evaluate(deps(h, r.notifier, `${day}T${hour}:00:0${k}.${round}Z`), {
              asOf: day,
              customerIds: ids,
            }),
          ),
        );
        all.push(...rs.flatMap((r) => r.sent));
      }
      const dups = duplicates(all);
      const opened = all.filter((n) => n.reason === 'opened');
      const stored = (await h.env.store.listAlerts('active')).filter((a) => ids.includes(a.customerId));
      const wrongIds = stored.filter(
        (a) => !opened.some((n) => n.alert.alertId === a.alertId && n.alert.rule === a.rule),
      );
      if (dups.length > 0 || wrongIds.length > 0)
        failures.push(
          `round ${round} (${runs} at once): ${dups.length} told twice, ${wrongIds.length} stored under another id`,
        );
      // Something to be told happened in every round: the invoices opened, then rose.
      expect(opened.length).toBeGreaterThanOrEqual(ids.length);
      expect(all.some((n) => n.reason === 'escalated')).toBe(true);
      expect(stored.length).toBe(new Set(opened.map((n) => `${n.alert.customerId}/${n.alert.rule}`)).size);
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('a notifier failing half-way, then the retry: each alert told exactly once', async () => {
    const ids = customersOf(ROUNDS);
    const sent: Notification[] = [];
    let left = 1; // the first told, then the topic fails (three alerts open here)
    const failing: AlertNotifier = {
      notify: async (ns) => {
        for (const n of ns) {
          if (left-- <= 0) throw new Error('the topic is unreachable (injected)');
          sent.push(n);
        }
      },
      digest: async () => undefined,
    };
    await expect(
      evaluate(deps(h, failing, `${OPEN_DAY}T08:00:00Z`), { asOf: OPEN_DAY, customerIds: ids }),
    ).rejects.toThrow('unreachable');
    expect(sent.length).toBeGreaterThan(0);
    const r = recorder();
    await evaluate(deps(h, r.notifier, `${OPEN_DAY}T08:01:00Z`), { asOf: OPEN_DAY, customerIds: ids });
    const all = [...sent, ...r.sent];
    expect(duplicates(all)).toEqual([]);
    expect(new Set(all.map((n) => n.alert.customerId))).toEqual(new Set(ids));
    const stored = (await h.env.store.listAlerts('active')).filter((a) => ids.includes(a.customerId));
    expect(stored.map((a) => a.alertId).sort()).toEqual(all.map((n) => n.alert.alertId).sort());
  }, 30_000);

  it('an evaluation that dies between a claim and its send: the claim is taken over after the timeout, told once', async () => {
    const ids = customersOf(ROUNDS + 1);
    const at = (minutes: number) =>
      new Date(Date.parse(`${OPEN_DAY}T09:00:00Z`) + minutes * 60_000).toISOString();
    const r = recorder();
    // One notification at a time, so the crash stops the run as kill -9 would (nothing in flight).
    armCrash('alerts.claimed', 2);
    await expect(
      evaluate({ ...deps(h, r.notifier, at(0)), concurrency: 1 }, { asOf: OPEN_DAY, customerIds: ids }),
    ).rejects.toThrow('simulated crash at alerts.claimed');
    expect(r.sent).toHaveLength(1);
    // The retry a minute later: the dead run's claim is not yet taken for dead; the rest are told.
    const retry = await evaluate(deps(h, r.notifier, at(1)), { asOf: OPEN_DAY, customerIds: ids });
    const stored = (await h.env.store.listAlerts('active')).filter((a) => ids.includes(a.customerId));
    expect(r.sent.length).toBe(stored.length - 1);
    expect(retry.notifications).toBe(stored.length - 2);
    // After the claim timeout (10 minutes), the next evaluation sends what the dead run claimed.
    const later = await evaluate(deps(h, r.notifier, at(11)), { asOf: OPEN_DAY, customerIds: ids });
    expect(later.notifications).toBe(1);
    await evaluate(deps(h, r.notifier, at(22)), { asOf: OPEN_DAY, customerIds: ids });
    expect(duplicates(r.sent)).toEqual([]);
    expect(r.sent.map((n) => n.alert.alertId).sort()).toEqual(stored.map((a) => a.alertId).sort());
  }, 30_000);

  it('an alert resolved by hand and opened again the same day is a new alert, told again', async () => {
    const ids = customersOf(ROUNDS + 2).slice(0, 1);
    const r = recorder();
    await evaluate(deps(h, r.notifier, `${OPEN_DAY}T10:00:00Z`), { asOf: OPEN_DAY, customerIds: ids });
    const first = (await h.env.store.listAlerts('active')).find((a) => a.customerId === ids[0]);
    if (!first) throw new Error('no alert opened');
    expect(first.alertId).toBe(`${ids[0]}/${first.rule}/${OPEN_DAY}`);
    const resolved = applyCommand(first, { kind: 'resolve', by: 'ana' }, `${OPEN_DAY}T10:05:00Z`, OPEN_DAY);
    if ('refused' in resolved) throw new Error(resolved.refused);
    await h.env.store.saveEvaluation([{ customerId: first.customerId, alerts: [resolved] }]);
    // Two evaluations at once find the condition still there: one new alert, told once.
    const again = [recorder(), recorder()];
    await Promise.all(
      again.map((x, k) =>
        evaluate(deps(h, x.notifier, `${OPEN_DAY}T10:1${k}:00Z`), { asOf: OPEN_DAY, customerIds: ids }),
      ),
    );
    const told = again.flatMap((x) => x.sent).filter((n) => n.alert.rule === first.rule);
    expect(told.map((n) => n.alert.alertId)).toEqual([`${first.alertId}.2`]);
    const now = (await h.env.store.listAlerts('active')).find(
      (a) => a.customerId === ids[0] && a.rule === first.rule,
    );
    expect(now?.alertId).toBe(`${first.alertId}.2`);
  }, 30_000);
});
