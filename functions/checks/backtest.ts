import { addDays, type IsoDate } from '../core/dates.ts';
import { statementAsOf } from '../core/receivables.ts';
import { type Alert, explainFindings, reconcile } from '../credit/alerts.ts';
import { assess, type CreditFile, type PriorAssessment } from '../credit/assess.ts';
import { withRecent } from '../credit/evaluate.ts';
import { type Policy, RULES, type RuleName } from '../credit/policy.ts';
import { type AlertCandidate, concentrationCandidate, evaluateRules } from '../credit/rules.ts';
import {
  type CheckFile,
  type CheckOrder,
  type CreditDecision,
  decideCredit,
  OUTCOMES,
  type Outcome,
  type Reservation,
} from './decide.ts';

/**
 * The credit check replayed over history (README "Credit checks", "Backtest"; issue 18 item 8):
 * every invoice of the books is taken as an order placed on its issue date for its amount, and the
 * orders are checked in date order (then by customer and invoice id) with `decideCredit` against
 * what was known that day: the evaluation of the day before (the receivables summary, aged to the
 * day as a check ages it; the assessment; the alerts, replayed day by day as the daily run opens
 * and resolves them) and the orders approved earlier the same day (reserved until invoiced: the
 * invoice is issued the same day, so from the next day an order counts once, as its invoice).
 *
 * The limit of a customer on a day: the one on file when it has one; else (the IBM sample has
 * none) the limit the evaluation of the day before recommended, as if each recommendation had been
 * approved the moment it was made (README "Decision quality": what a first review asks for). No
 * sales yet, no recommendation: the order is held with `NO_CREDIT_LIMIT`.
 *
 * History is not rewritten: a held order's invoice still went out in the books. Collections'
 * credit holds and hand-overs, transfers and rates are not replayed (the books carry none of them);
 * each order is in its customer's credit currency. Writes nothing.
 */
export interface CheckBacktest {
  readonly from: IsoDate;
  readonly to: IsoDate;
  readonly policyId: string;
  readonly customers: number;
  readonly orders: number;
  /** Orders per outcome. */
  readonly outcomes: Readonly<Record<Outcome, number>>;
  /** Held and blocked orders by their deciding reason (the first), and what their invoices did next. */
  readonly heldBy: Readonly<Record<string, Judged>>;
  /** All the orders: how much, and how much of it was then paid late or never, by currency (minor units). */
  readonly ordered: Readonly<Record<string, number>>;
  readonly orderedPaidLate: Readonly<Record<string, number>>;
  /** Orders held or blocked, and what their invoices did next. */
  readonly held: Judged & {
    readonly customers: number;
    /** Of those customers, those with at least one held invoice paid late or never. */
    readonly customersPaidLate: number;
  };
  /** Orders approved on credit (`approve`), and what their invoices did next. */
  readonly approved: Judged & {
    /** The money of approved orders whose invoice was then paid late or never, by currency (minor units). */
    readonly shippedOverdue: Readonly<Record<string, number>>;
  };
  /** Orders sent to prepayment (`approve-prepay`), and what their invoices did next. */
  readonly prepay: Judged & { readonly customers: number };
}

/** What the invoices of a set of orders did next, as the books show: paid late (or never), paid on time. */
export interface Judged {
  readonly orders: number;
  /** Settled after their due date (held rightly, for a held order). */
  readonly paidLate: number;
  /** Not settled by the end of the books, and past due then. */
  readonly unpaid: number;
  /** Settled by their due date (held needlessly, for a held order). */
  readonly paidOnTime: number;
  /** Not settled, not yet due at the end of the books: not judged. */
  readonly notDue: number;
}

/** One order checked, for a reader (or a test) to follow. */
export interface ReplayedOrder {
  readonly decision: CreditDecision;
  readonly issueDate: IsoDate;
  readonly dueDate: IsoDate;
  readonly settledDate: IsoDate | undefined;
  readonly fate: 'late' | 'unpaid' | 'on time' | 'not due';
}

const HELD: readonly Outcome[] = ['hold', 'block'];

export function backtestChecks(
  files: readonly CreditFile[],
  policy: Policy,
  opts: {
    /** The first and last order day; default the first and last invoice date of the books. */
    readonly from?: IsoDate | undefined;
    readonly to?: IsoDate | undefined;
    /** Hears of each order checked. */
    readonly onOrder?: (o: ReplayedOrder) => void;
  } = {},
): CheckBacktest {
  const orders = files
    .flatMap((f) => f.invoices.map((i) => ({ file: f, invoice: i })))
    .sort(
      (a, b) =>
        cmp(a.invoice.issueDate, b.invoice.issueDate) ||
        cmp(a.file.customerId, b.file.customerId) ||
        cmp(a.invoice.invoiceId, b.invoice.invoiceId),
    );
  const from = opts.from ?? orders[0]?.invoice.issueDate ?? '0000-01-01';
  const to = opts.to ?? orders[orders.length - 1]?.invoice.issueDate ?? from;
  const inPeriod = orders.filter((o) => o.invoice.issueDate >= from && o.invoice.issueDate <= to);

  // What each invoice did next, as far as the books know.
  let lastDay: IsoDate = to;
  for (const f of files) {
    for (const i of f.invoices) if (i.issueDate > lastDay) lastDay = i.issueDate;
    for (const p of f.payments) if (p.receivedDate > lastDay) lastDay = p.receivedDate;
  }
  const fateOf = new Map<string, { settled?: IsoDate | undefined; fate: ReplayedOrder['fate'] }>();
  for (const f of files)
    for (const s of statementAsOf({ ...f, currency: f.currency }, lastDay).invoices)
      fateOf.set(`${f.customerId}\u0000${s.invoiceId}`, {
        settled: s.settledDate,
        fate:
          s.settledDate !== undefined
            ? (s.daysLate ?? 0) > 0
              ? 'late'
              : 'on time'
            : s.dueDate < lastDay
              ? 'unpaid'
              : 'not due',
      });

  // The daily run, replayed: each day's assessment and active alerts per customer.
  const active = new Map<string, Alert[]>();
  const recent = new Map<string, PriorAssessment[]>();
  const known = new Map<string, Pick<CheckFile, 'summary' | 'assessment' | 'alerts'> & { limit?: number }>();
  const runDay = (day: IsoDate) => {
    const open: { id: string; currency: string; open: number }[] = [];
    const book = new Map<string, { open: number; customers: number }>();
    for (const file of files) {
      if (!file.invoices.some((i) => i.issueDate <= day) && !file.payments.some((p) => p.receivedDate <= day))
        continue; // nothing known of it yet: no assessment
      const limitOnFile = file.customer?.creditLimit ?? known.get(file.customerId)?.limit;
      const f: CreditFile = {
        ...file,
        customer: file.customer && { ...file.customer, creditLimit: limitOnFile },
        recent: recent.get(file.customerId) ?? [],
      };
      const a = withRecent(assess(f, day, policy), f);
      recent.set(file.customerId, [...(a.recent ?? [])]);
      const s = a.figures.receivables.summary;
      open.push({ id: file.customerId, currency: file.currency, open: s.openAmount });
      if (s.openAmount > 0) {
        const b = book.get(file.currency) ?? { open: 0, customers: 0 };
        book.set(file.currency, { open: b.open + s.openAmount, customers: b.customers + 1 });
      }
      active.set(
        file.customerId,
        step(active.get(file.customerId) ?? [], evaluateRules(f, a, policy), day, 'rules'),
      );
      const limit = file.customer?.creditLimit ?? a.limit.recommended;
      known.set(file.customerId, {
        summary: s,
        assessment: {
          asOf: day,
          rating: a.rating,
          riskClass: a.riskClass,
          score: a.score,
          policyId: policy.id,
        },
        alerts: [],
        ...(limit !== undefined ? { limit } : {}),
      });
    }
    for (const o of open) {
      const b = book.get(o.currency);
      const c = b && concentrationCandidate(o.id, o.currency, o.open, b, day, policy);
      active.set(o.id, step(active.get(o.id) ?? [], c ? [c] : [], day, 'concentration'));
    }
  };
  function step(
    current: Alert[],
    candidates: readonly AlertCandidate[],
    day: IsoDate,
    which: string,
  ): Alert[] {
    const evaluated = new Set<RuleName>(
      which === 'concentration' ? ['concentration'] : RULES.filter((r) => r !== 'concentration'),
    );
    const r = reconcile(
      current,
      explainFindings(candidates, current),
      day,
      `${day}T00:00:00.000Z`,
      evaluated,
    );
    const byRule = new Map(current.map((a) => [a.rule, a]));
    for (const a of r.changed) byRule.set(a.rule, a);
    return [...byRule.values()].filter((a) => a.status !== 'resolved');
  }

  const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const heldBy: Record<string, Counts> = {};
  const ordered: Record<string, number> = {};
  const orderedPaidLate: Record<string, number> = {};
  const held = judged();
  const approved = judged();
  const heldCustomers = new Set<string>();
  const heldLate = new Set<string>();
  const prepayCustomers = new Set<string>();
  const prepay = judged();
  const shippedOverdue: Record<string, number> = {};

  let ran: IsoDate | undefined;
  let reservedOn: IsoDate | undefined;
  const reserved = new Map<string, Record<string, Reservation>>();
  for (const { file, invoice } of inPeriod) {
    const day = invoice.issueDate;
    const eve = addDays(day, -1);
    if (ran === undefined) ran = addDays(eve, -1);
    while (ran < eve) {
      ran = addDays(ran, 1);
      runDay(ran);
    }
    if (reservedOn !== day) {
      reserved.clear(); // yesterday's approvals are today's open items
      reservedOn = day;
    }
    const k = known.get(file.customerId);
    const reservations = reserved.get(file.customerId) ?? {};
    const customer = file.customer ?? { customerId: file.customerId, name: '' };
    const checkFile: CheckFile = {
      customer: { ...customer, creditLimit: customer.creditLimit ?? k?.limit },
      summary: k?.summary,
      assessment: k?.assessment,
      hold: undefined,
      handovers: [],
      transfers: [],
      alerts: (active.get(file.customerId) ?? []).map((a) => ({ rule: a.rule, severity: a.severity })),
      orders: { version: 0, reservations },
      fxRates: [],
    };
    const order: CheckOrder = {
      customerId: file.customerId,
      orderId: invoice.invoiceId,
      amount: invoice.amount,
      currency: invoice.currency,
      requestedShipDate: day,
      stage: 'order',
      channel: 'backtest',
    };
    const d = decideCredit(order, checkFile, policy, day);
    if (d.outcome === 'approve')
      reserved.set(file.customerId, {
        ...reservations,
        [order.orderId]: {
          orderId: order.orderId,
          amount: order.amount,
          currency: order.currency,
          counted: d.exposure.thisOrder,
          creditCurrency: d.currency,
          requestedShipDate: day,
          stage: 'order',
          channel: 'backtest',
          reservedOn: day,
          expiresOn: addDays(day, 1),
        },
      });
    const next = fateOf.get(`${file.customerId}\u0000${invoice.invoiceId}`) ?? { fate: 'not due' as const };
    const bad = next.fate === 'late' || next.fate === 'unpaid';
    outcomes[d.outcome]++;
    add(ordered, invoice.currency, invoice.amount);
    if (bad) add(orderedPaidLate, invoice.currency, invoice.amount);
    if (HELD.includes(d.outcome)) {
      const code = d.reasons[0]?.code ?? '-';
      heldBy[code] ??= judged();
      count(heldBy[code], next.fate);
      count(held, next.fate);
      heldCustomers.add(file.customerId);
      if (bad) heldLate.add(file.customerId);
    } else if (d.outcome === 'approve-prepay') {
      count(prepay, next.fate);
      prepayCustomers.add(file.customerId);
    } else {
      count(approved, next.fate);
      if (bad) add(shippedOverdue, invoice.currency, invoice.amount);
    }
    opts.onOrder?.({
      decision: d,
      issueDate: day,
      dueDate: invoice.dueDate,
      settledDate: next.settled,
      fate: next.fate,
    });
  }
  return {
    from,
    to,
    policyId: policy.id,
    customers: files.length,
    orders: inPeriod.length,
    outcomes,
    heldBy,
    ordered,
    orderedPaidLate,
    held: { ...held, customers: heldCustomers.size, customersPaidLate: heldLate.size },
    approved: { ...approved, shippedOverdue },
    prepay: { ...prepay, customers: prepayCustomers.size },
  };
}

type Counts = { -readonly [K in keyof Judged]: number };
const judged = (): Counts => ({ orders: 0, paidLate: 0, unpaid: 0, paidOnTime: 0, notDue: 0 });
function count(j: Counts, fate: ReplayedOrder['fate']): void {
  j.orders++;
  if (fate === 'late') j.paidLate++;
  else if (fate === 'unpaid') j.unpaid++;
  else if (fate === 'on time') j.paidOnTime++;
  else j.notDue++;
}
const add = (m: Record<string, number>, k: string, n: number): void => {
  m[k] = (m[k] ?? 0) + n;
};
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
