import { addDays, daysBetween, type IsoDate } from '../core/dates.ts';
import { type Alert, explainFindings, reconcile } from './alerts.ts';
import { assess, type CreditFile, type PriorAssessment } from './assess.ts';
import { withRecent } from './evaluate.ts';
import { type Policy, RULES, type RuleName } from './policy.ts';
import { type AlertCandidate, concentrationCandidate, evaluateRules } from './rules.ts';

export interface RuleBacktest {
  readonly rule: RuleName;
  /** Alerts the rule would have opened over the period. */
  readonly raised: number;
  readonly customers: number;
  /** Of the customers that reached 60 days past due, those the rule warned before that day. */
  readonly warnedAhead: number;
  /** Days between the rule's first alert and the customer's first 60-day overdue, per warned customer. */
  readonly leadDays: number[];
  readonly medianLeadDays: number | null;
}

export interface Backtest {
  readonly from: IsoDate;
  readonly to: IsoDate;
  readonly policyId: string;
  readonly days: number;
  readonly customers: number;
  /** Customers whose oldest open item first reached 60 days past due inside the period. */
  readonly reached60: { customerId: string; date: IsoDate }[];
  readonly rules: RuleBacktest[];
}

/**
 * Replays the evaluation day by day over history, as if the policy had been in force: each day's
 * assessments and alerts follow from the data known that day and the alerts of the day before. It
 * writes nothing. Per rule: how many alerts it would have raised, and how many days ahead of each
 * customer's first 60-day overdue it warned. `onDay` hears of each day replayed (a progress line).
 */
export function backtest(
  files: readonly CreditFile[],
  policy: Policy,
  from: IsoDate,
  to: IsoDate,
  onDay?: (done: number, total: number) => void,
): Backtest {
  if (to < from) throw new RangeError(`--to ${to} is before --from ${from}`);
  const active = new Map<string, Alert[]>();
  const recent = new Map<string, PriorAssessment[]>();
  const raised = new Map<RuleName, { count: number; customers: Set<string> }>(
    RULES.map((r) => [r, { count: 0, customers: new Set() }]),
  );
  /** The first day each rule opened an alert on each customer. */
  const firstAlert = new Map<string, Map<RuleName, IsoDate>>();
  const reached60 = new Map<string, IsoDate>();
  const already60 = new Set<string>();
  let days = 0;
  const total = to < from ? 0 : daysBetween(from, to) + 1;
  for (let day = from; day <= to; day = addDays(day, 1)) {
    days++;
    onDay?.(days, total);
    const now = `${day}T00:00:00.000Z`;
    const open: { id: string; currency: string; open: number }[] = [];
    const book = new Map<string, { open: number; customers: number }>();
    for (const file of files) {
      const f = { ...file, recent: recent.get(file.customerId) ?? [] };
      const a = withRecent(assess(f, day, policy), f);
      const candidates = evaluateRules(f, a, policy);
      const s = a.figures.receivables.summary;
      if (s.maxDaysPastDue >= 60) {
        if (day === from) already60.add(file.customerId);
        else if (!already60.has(file.customerId) && !reached60.has(file.customerId))
          reached60.set(file.customerId, day);
      }
      open.push({ id: file.customerId, currency: file.currency, open: s.openAmount });
      if (s.openAmount > 0) {
        const b = book.get(file.currency) ?? { open: 0, customers: 0 };
        book.set(file.currency, { open: b.open + s.openAmount, customers: b.customers + 1 });
      }
      active.set(
        file.customerId,
        step(active.get(file.customerId) ?? [], candidates, day, now, file.customerId, 'rules'),
      );
      recent.set(file.customerId, [...(a.recent ?? [])]);
    }
    for (const o of open) {
      const b = book.get(o.currency);
      const c = b && concentrationCandidate(o.id, o.currency, o.open, b, day, policy);
      active.set(o.id, step(active.get(o.id) ?? [], c ? [c] : [], day, now, o.id, 'concentration'));
    }
  }

  function step(
    current: Alert[],
    candidates: readonly AlertCandidate[],
    day: IsoDate,
    now: string,
    customerId: string,
    which: 'rules' | 'concentration',
  ): Alert[] {
    const evaluated = new Set<RuleName>(
      which === 'concentration' ? ['concentration'] : RULES.filter((r) => r !== 'concentration'),
    );
    const r = reconcile(current, explainFindings(candidates, current), day, now, evaluated);
    for (const n of r.notify) {
      if (n.reason !== 'opened') continue;
      const t = raised.get(n.alert.rule);
      if (t) {
        t.count++;
        t.customers.add(customerId);
      }
      let first = firstAlert.get(customerId);
      if (!first) {
        first = new Map();
        firstAlert.set(customerId, first);
      }
      if (!first.has(n.alert.rule)) first.set(n.alert.rule, day);
    }
    const byRule = new Map(current.map((a) => [a.rule, a]));
    for (const a of r.changed) byRule.set(a.rule, a);
    return [...byRule.values()].filter((a) => a.status !== 'resolved');
  }

  const rules: RuleBacktest[] = RULES.map((rule) => {
    const t = raised.get(rule) as { count: number; customers: Set<string> };
    const leadDays: number[] = [];
    for (const [customerId, date] of reached60) {
      const first = firstAlert.get(customerId)?.get(rule);
      if (first !== undefined && first < date) leadDays.push(daysBetween(first, date));
    }
    leadDays.sort((a, b) => a - b);
    const m = Math.floor(leadDays.length / 2);
    return {
      rule,
      raised: t.count,
      customers: t.customers.size,
      warnedAhead: leadDays.length,
      leadDays,
      medianLeadDays:
        leadDays.length === 0
          ? null
          : leadDays.length % 2
            ? (leadDays[m] as number)
            : ((leadDays[m - 1] as number) + (leadDays[m] as number)) / 2,
    };
  });
  return {
    from,
    to,
    policyId: policy.id,
    days,
    customers: files.length,
    reached60: [...reached60]
      .map(([customerId, date]) => ({ customerId, date }))
      .sort((a, b) => (a.date < b.date ? -1 : 1)),
    rules,
  };
}
