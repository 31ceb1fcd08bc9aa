import { addDays, type IsoDate } from '../core/dates.ts';
import { type CustomerBooks, statementAsOf } from '../core/receivables.ts';
import type { CollectionsPolicy, RiskClass } from '../credit/policy.ts';
import { type Contact, dunningAsOf } from './dunning.ts';

/**
 * The collection plan replayed over history (README "Collections", "Backtest"): every day from
 * `from` to `to`, each customer's dunning as of that day, with the messages the replay itself sent
 * before as its contacts. Writes nothing. Per level: how many messages, to how many customers, how
 * much they demanded, and how many were followed within `paidWithinDays` by the payment of every
 * item they demanded anyway (the reminders a softer plan could have spared).
 */
export interface CollectionsBacktest {
  readonly from: IsoDate;
  readonly to: IsoDate;
  readonly customers: number;
  readonly levels: readonly LevelOutcome[];
}

export interface LevelOutcome {
  readonly level: string;
  readonly messages: number;
  readonly customers: number;
  /** Sum of what the messages demanded, by currency (minor units). */
  readonly demanded: Readonly<Record<string, number>>;
  /** Messages after which every item they demanded was settled within the window anyway. */
  readonly paidWithinWindow: number;
}

export function backtestCollections(
  books: readonly CustomerBooks[],
  plan: CollectionsPolicy,
  opts: {
    readonly from: IsoDate;
    readonly to: IsoDate;
    readonly paidWithinDays?: number;
    readonly riskClassOf?: (customerId: string) => RiskClass | undefined;
  },
): CollectionsBacktest {
  const window = opts.paidWithinDays ?? 7;
  const names = [...new Set([plan.levels, ...Object.values(plan.byRiskClass)].flat().map((l) => l.name))];
  const out = new Map(
    names.map((n) => [
      n,
      { messages: 0, customers: new Set<string>(), demanded: {} as Record<string, number>, paid: 0 },
    ]),
  );
  for (const b of books) {
    // When each invoice was settled, as far as the books know (it may be after `to`).
    const final = statementAsOf(b, '9999-12-31');
    const settled = new Map(final.invoices.map((s) => [s.invoiceId, s.settledDate]));
    const contacts: Contact[] = [];
    for (let day = opts.from; day <= opts.to; day = addDays(day, 1)) {
      if (b.invoices.every((i) => i.issueDate > day)) continue;
      const d = dunningAsOf(b.customerId, statementAsOf(b, day), plan, {
        riskClass: opts.riskClassOf?.(b.customerId),
        contacts,
      });
      if (!d.send) continue;
      contacts.push({ level: d.send.name, on: day });
      const o = out.get(d.send.name);
      if (!o) continue;
      o.messages++;
      o.customers.add(b.customerId);
      o.demanded[d.currency] = (o.demanded[d.currency] ?? 0) + d.totals.demand;
      const by = addDays(day, window);
      if (d.overdue.every((i) => (settled.get(i.invoiceId) ?? '9999-12-31') <= by)) o.paid++;
    }
  }
  return {
    from: opts.from,
    to: opts.to,
    customers: books.length,
    levels: names.map((level) => {
      const o = out.get(level) as NonNullable<ReturnType<typeof out.get>>;
      return {
        level,
        messages: o.messages,
        customers: o.customers.size,
        demanded: o.demanded,
        paidWithinWindow: o.paid,
      };
    }),
  };
}
