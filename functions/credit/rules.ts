import { addDays, addMonths, dayNumber, daysBetween, type IsoDate, lastDateMemo } from '../core/dates.ts';
import { formatMoney } from '../core/money.ts';
import { type Receivables, receivablesAsOf } from '../core/receivables.ts';
import type { Invoice, Payment } from '../core/records.ts';
import { invoiceRecordsOf, predictSettlement } from '../predict/model.ts';
import {
  type Assessment,
  type CreditFile,
  type Figures,
  notchesDown,
  type PriorAssessment,
  promisesNotKept,
} from './assess.ts';
import {
  type Action,
  type Policy,
  predictedLateMinAmount,
  predictedLateOf,
  type Rating,
  type RuleName,
  type Severity,
} from './policy.ts';
import { atThreshold } from './thresholds.ts';

/**
 * What a rule found, as numbers, dates and ids: one per customer and rule at most (the alert
 * lifecycle keeps one open). The words a person reads are made by `explainCandidate`, where the
 * alert is stored or shown, not for every customer of every evaluation.
 */
export type AlertCandidate = {
  readonly [R in RuleName]: {
    readonly customerId: string;
    readonly rule: R;
    readonly severity: Severity;
    readonly action: Action;
    readonly asOf: IsoDate;
    readonly policyId: string;
    /** The currency of the amounts in `facts` (the credit currency), in minor units. */
    readonly currency: string;
    readonly facts: RuleFacts[R];
  };
}[RuleName];

/** The figures behind each rule's finding. Amounts are minor units of the candidate's currency; shares are fractions. */
export interface RuleFacts {
  readonly daysPastDue: { maxDaysPastDue: number; overdueAmount: number; openInvoices: number };
  readonly overdueAmount: { overdueAmount: number; creditLimit: number; share: number };
  readonly limitUse: { exposure: number; creditLimit: number; limitUse: number };
  readonly abnormalPayment: {
    paymentId: string;
    receivedDate: IsoDate;
    amount: number;
    medianOfHistory: number;
    /** null when every earlier payment was the same amount (the score is infinite). */
    robustZ: number | null;
    paymentsInHistory: number;
  };
  readonly paymentFrequency: {
    lastPayment: IsoDate;
    daysSinceLastPayment: number;
    usualIntervalDays: number;
    exposure: number;
  };
  readonly daysLateDrift: {
    recentMeanDaysLate: number;
    baselineMeanDaysLate: number;
    recentSettled: number;
    baselineSettled: number;
  };
  readonly ratingDowngrade: {
    from: PriorAssessment;
    to: PriorAssessment;
    notches: number;
    rating: Rating;
    score: number;
    windowDays: number;
    /** Whether the fall's lowest rating is today's. */
    fallIsToday: boolean;
  };
  readonly coverExpiring: {
    /** Soonest first. */
    expiring: { what: string; expiry: IsoDate; amount: number; currency: string }[];
    /** Days from the date to the first expiry. */
    daysLeft: number;
  };
  readonly staleFinancials: { latestPeriodEnd: IsoDate; months: number; exposure: number };
  readonly disputedShare: {
    disputedAmount: number;
    disputedShare: number;
    shareBefore: number;
    since: IsoDate;
  };
  readonly concentration: {
    openAmount: number;
    allOpenReceivables: number;
    share: number;
    customersInCurrency: number;
  };
  readonly brokenPromise: {
    broken: number;
    partial: number;
    windowDays: number;
    /** The promise whose grace ended last. */
    latest: {
      promiseId: string;
      promisedDate: IsoDate;
      amount: number;
      paid: number;
      state: 'broken' | 'partial';
    };
  };
  readonly predictedLate: {
    /** The rule's threshold: expected more than this many days after due. */
    days: number;
    /** Open invoices not yet overdue expected more than `days` late, and their open amount. */
    invoices: number;
    amount: number;
    /** The worst of them: expected the most days after its due date (then the largest, then by id). */
    worst: {
      invoiceId: string;
      dueDate: IsoDate;
      open: number;
      expected: IsoDate;
      p10: IsoDate;
      p90: IsoDate;
      /** expected - due, days. */
      daysLate: number;
      settledCount: number;
      reason: string;
    };
  };
}

/** A finding with its words: what an alert stores and a notification shows. */
export interface ExplainedCandidate {
  readonly customerId: string;
  readonly rule: RuleName;
  readonly severity: Severity;
  readonly action: Action;
  readonly asOf: IsoDate;
  readonly policyId: string;
  /** The figures behind it, ready to show (amounts formatted in the credit currency). */
  readonly evidence: Readonly<Record<string, string | number>>;
  /** One line a person reads first. */
  readonly summary: string;
  /** The numbers the words were made from (absent on alerts stored before findings kept them). */
  readonly facts?: AlertCandidate['facts'] | undefined;
  readonly currency?: string | undefined;
}

/** What rules about the whole book need: open receivables by currency, and how many customers hold them. */
export interface Portfolio {
  readonly openByCurrency: ReadonlyMap<string, { open: number; customers: number }>;
}

type Level = { from: number; strict?: boolean | undefined; severity: Severity; action: Action };

/** The highest level the measure reaches, if any. */
export function levelFor(levels: readonly Level[], measure: number): Level | undefined {
  const v = atThreshold(measure);
  let hit: Level | undefined;
  for (const l of levels) if (l.strict ? v > l.from : v >= l.from) hit = l;
  return hit;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** Median of a non-empty list (a customer's few values are sorted by insertion: no typed array to make). */
export function median(xs: readonly number[]): number {
  let s: ArrayLike<number>;
  if (xs.length > 32) s = Float64Array.from(xs).sort();
  else {
    const a = xs.slice();
    for (let i = 1; i < a.length; i++) {
      const v = a[i] as number;
      let j = i - 1;
      while (j >= 0 && (a[j] as number) > v) {
        a[j + 1] = a[j] as number;
        j--;
      }
      a[j + 1] = v;
    }
    s = a;
  }
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Robust z-score of `x` against `history` (Iglewicz and Hoaglin): 0.6745 (x - median) / MAD.
 * When more than half the history is one value (MAD = 0) the mean absolute deviation stands in,
 * scaled by 1.2533 (the usual fallback); when every value is the same, any other value is
 * reported as `Infinity` in size, signed, and the caller says so in words.
 */
export function robustZ(x: number, history: readonly number[]): { z: number; median: number; mad: number } {
  const score = robustScorer(history);
  return { z: score(x), median: score.median, mad: score.mad };
}

/** robustZ with the history's median and deviations worked out once, for scoring many amounts. */
export function robustScorer(
  history: readonly number[],
): ((x: number) => number) & { readonly median: number; readonly mad: number } {
  const med = median(history);
  const mad = median(history.map((h) => Math.abs(h - med)));
  let meanAd = 0;
  if (mad === 0) meanAd = history.reduce((a, h) => a + Math.abs(h - med), 0) / history.length;
  const score = (x: number) =>
    mad > 0
      ? (0.6745 * (x - med)) / mad
      : meanAd > 0
        ? (x - med) / (1.2533 * meanAd)
        : x === med
          ? 0
          : x > med
            ? Number.POSITIVE_INFINITY
            : Number.NEGATIVE_INFINITY;
  return Object.assign(score, { median: med, mad });
}

type Words = { summary: string; evidence: Record<string, string | number> };
/** A rule's words: a function of its facts and currency only, so the same facts always read the same. */
type Explain<R extends RuleName> = (f: RuleFacts[R], ccy: string) => Words;

/** Each rule's words, from its facts. */
const WORDS: { readonly [R in RuleName]: Explain<R> } = {
  daysPastDue: (f, ccy) => ({
    summary: `an invoice is ${f.maxDaysPastDue} days past due`,
    evidence: {
      maxDaysPastDue: f.maxDaysPastDue,
      overdueAmount: formatMoney(f.overdueAmount, ccy),
      openInvoices: f.openInvoices,
    },
  }),
  overdueAmount: (f, ccy) => ({
    summary: `${formatMoney(f.overdueAmount, ccy)} overdue, ${pct(f.share)} of the credit limit`,
    evidence: {
      overdueAmount: formatMoney(f.overdueAmount, ccy),
      creditLimit: formatMoney(f.creditLimit, ccy),
      share: pct(f.share),
    },
  }),
  limitUse: (f, ccy) => ({
    summary:
      f.creditLimit === 0
        ? `${formatMoney(f.exposure, ccy)} owed against a zero credit limit`
        : `exposure ${formatMoney(f.exposure, ccy)} is ${pct(f.limitUse)} of the ${formatMoney(f.creditLimit, ccy)} limit`,
    evidence: {
      exposure: formatMoney(f.exposure, ccy),
      creditLimit: formatMoney(f.creditLimit, ccy),
      limitUse: pct(f.limitUse),
    },
  }),
  abnormalPayment: (f, ccy) => ({
    summary: `payment ${f.paymentId} of ${formatMoney(f.amount, ccy)} is far from this customer's usual ${formatMoney(f.medianOfHistory, ccy)}`,
    evidence: {
      paymentId: f.paymentId,
      receivedDate: f.receivedDate,
      amount: formatMoney(f.amount, ccy),
      medianOfHistory: formatMoney(f.medianOfHistory, ccy),
      robustZ:
        f.robustZ === null ? 'every earlier payment was the same amount' : Number(f.robustZ.toFixed(2)),
      paymentsInHistory: f.paymentsInHistory,
    },
  }),
  paymentFrequency: (f, ccy) => ({
    summary: `no payment for ${f.daysSinceLastPayment} days; this customer usually pays every ${f.usualIntervalDays} days`,
    evidence: {
      lastPayment: f.lastPayment,
      daysSinceLastPayment: f.daysSinceLastPayment,
      usualIntervalDays: f.usualIntervalDays,
      exposure: formatMoney(f.exposure, ccy),
    },
  }),
  daysLateDrift: (f) => {
    const drift = f.recentMeanDaysLate - f.baselineMeanDaysLate;
    return {
      summary: `pays ${drift.toFixed(1)} days later than its own baseline (${f.recentMeanDaysLate.toFixed(1)} vs ${f.baselineMeanDaysLate.toFixed(1)} days late)`,
      evidence: {
        recentMeanDaysLate: Number(f.recentMeanDaysLate.toFixed(1)),
        baselineMeanDaysLate: Number(f.baselineMeanDaysLate.toFixed(1)),
        driftDays: Number(drift.toFixed(1)),
        recentSettled: f.recentSettled,
        baselineSettled: f.baselineSettled,
      },
    };
  },
  ratingDowngrade: (f) => ({
    summary: `rating fell from ${f.from.rating} (${f.from.asOf}) to ${f.to.rating} (${f.to.asOf})${f.fallIsToday ? '' : `; ${f.rating} now`}`,
    evidence: {
      fromRating: f.from.rating,
      fromAsOf: f.from.asOf,
      fromScore: f.from.score,
      toRating: f.to.rating,
      toAsOf: f.to.asOf,
      notches: f.notches,
      rating: f.rating,
      score: f.score,
      windowDays: f.windowDays,
    },
  }),
  coverExpiring: (f) => {
    const first = f.expiring[0] as RuleFacts['coverExpiring']['expiring'][number];
    return {
      summary: `${first.what} expires on ${first.expiry}, in ${f.daysLeft} days`,
      evidence: {
        expiring: f.expiring
          .map((e) => `${e.what}: ${formatMoney(e.amount, e.currency)} until ${e.expiry}`)
          .join('; '),
        daysLeft: f.daysLeft,
      },
    };
  },
  staleFinancials: (f, ccy) => ({
    summary: `the latest financial statement is for ${f.latestPeriodEnd}, more than ${f.months} months ago`,
    evidence: { latestPeriodEnd: f.latestPeriodEnd, exposure: formatMoney(f.exposure, ccy) },
  }),
  disputedShare: (f, ccy) => ({
    summary: `${pct(f.disputedShare)} of the open amount is disputed, up from ${pct(f.shareBefore)} on ${f.since}`,
    evidence: {
      disputedAmount: formatMoney(f.disputedAmount, ccy),
      disputedShare: pct(f.disputedShare),
      shareBefore: pct(f.shareBefore),
      since: f.since,
    },
  }),
  brokenPromise: (f, ccy) => ({
    summary: `${f.broken + f.partial} promise${f.broken + f.partial === 1 ? '' : 's'} to pay not kept in the last ${f.windowDays} days (${f.broken} broken, ${f.partial} kept in part); the latest: ${formatMoney(f.latest.amount, ccy)} promised by ${f.latest.promisedDate}, ${formatMoney(f.latest.paid, ccy)} paid`,
    evidence: {
      broken: f.broken,
      partial: f.partial,
      latest: `${f.latest.promiseId}: ${formatMoney(f.latest.amount, ccy)} by ${f.latest.promisedDate}, ${formatMoney(f.latest.paid, ccy)} paid (${f.latest.state})`,
    },
  }),
  predictedLate: (f, ccy) => ({
    summary: `${f.invoices === 1 ? '1 invoice not yet overdue is' : `${f.invoices} invoices not yet overdue are`} expected more than ${f.days} days late (${formatMoney(f.amount, ccy)}); the worst: ${f.worst.invoiceId} due ${f.worst.dueDate}, expected ${f.worst.expected} (${f.worst.daysLate} days late)`,
    evidence: {
      invoices: f.invoices,
      amount: formatMoney(f.amount, ccy),
      invoice: f.worst.invoiceId,
      open: formatMoney(f.worst.open, ccy),
      dueDate: f.worst.dueDate,
      expected: f.worst.expected,
      p10ToP90: `${f.worst.p10} to ${f.worst.p90}`,
      daysLate: f.worst.daysLate,
      reason: f.worst.reason,
    },
  }),
  concentration: (f, ccy) => ({
    summary: `holds ${pct(f.share)} of all open receivables in ${ccy}`,
    evidence: {
      openAmount: formatMoney(f.openAmount, ccy),
      allOpenReceivables: formatMoney(f.allOpenReceivables, ccy),
      share: pct(f.share),
      customersInCurrency: f.customersInCurrency,
    },
  }),
};

/** A finding in words: its summary and its evidence, amounts formatted in its currency. */
export function explainCandidate(c: AlertCandidate): ExplainedCandidate {
  return saidAs(c, (WORDS[c.rule] as Explain<RuleName>)(c.facts, c.currency));
}

/** A finding with words already made from the same facts (an active alert's, say). */
export function saidAs(
  c: AlertCandidate,
  words: Pick<ExplainedCandidate, 'summary' | 'evidence'>,
): ExplainedCandidate {
  return {
    customerId: c.customerId,
    rule: c.rule,
    severity: c.severity,
    action: c.action,
    asOf: c.asOf,
    policyId: c.policyId,
    evidence: words.evidence,
    summary: words.summary,
    facts: c.facts,
    currency: c.currency,
  };
}

interface Found {
  readonly out: AlertCandidate[];
  readonly customerId: string;
  readonly asOf: IsoDate;
  readonly policyId: string;
  readonly currency: string;
}

function candidate<R extends RuleName>(
  at: Found,
  rule: R,
  severity: Severity,
  action: Action,
  facts: RuleFacts[R],
): void {
  at.out.push({
    customerId: at.customerId,
    rule,
    severity,
    action,
    asOf: at.asOf,
    policyId: at.policyId,
    currency: at.currency,
    facts,
  } as AlertCandidate);
}

/** The payments in `currency`: the same array when all are (the usual case). */
function inCurrency(payments: readonly Payment[], currency: string): readonly Payment[] {
  for (let k = 0; k < payments.length; k++)
    if ((payments[k] as Payment).currency !== currency)
      return payments.filter((p) => p.currency === currency);
  return payments;
}

/** The dates the rules measure from (the same for every customer of a run). */
const days = lastDateMemo((asOf: IsoDate, policy: Policy) => {
  const recentFrom = addDays(asOf, -policy.rules.daysLateDrift.recentDays);
  return {
    asOfDay: dayNumber(asOf),
    abnormalFrom: addDays(asOf, -policy.rules.abnormalPayment.lookbackDays),
    recentFrom,
    baseFrom: addMonths(recentFrom, -policy.rules.daysLateDrift.baselineMonths),
  };
});

/** Runs every enabled early-warning rule of the policy on one assessed customer. */
export function evaluateRules(
  file: CreditFile,
  a: Assessment & { figures: Figures },
  policy: Policy,
  portfolio?: Portfolio,
): AlertCandidate[] {
  const x = a.figures;
  const r = policy.rules;
  const ccy = x.currency;
  const s = x.receivables.summary;
  const out: AlertCandidate[] = [];
  // What every finding of this customer shares (`candidate` is called directly: a bound or local
  // function would be made again for every customer, and the bundler's keepNames wraps the latter).
  const at: Found = { out, customerId: file.customerId, asOf: a.asOf, policyId: policy.id, currency: ccy };

  if (r.daysPastDue.enabled) {
    const l = levelFor(r.daysPastDue.levels, x.maxDaysPastDue);
    if (l)
      candidate(at, 'daysPastDue', l.severity, l.action, {
        maxDaysPastDue: x.maxDaysPastDue,
        overdueAmount: s.overdueAmount,
        openInvoices: s.openInvoices,
      });
  }

  // Measured against the credit limit: without one, the days-past-due rule speaks for the overdue items.
  if (r.overdueAmount.enabled && s.overdueAmount > 0 && x.creditLimit !== undefined && x.creditLimit > 0) {
    const share = s.overdueAmount / x.creditLimit;
    const l = levelFor(r.overdueAmount.levels, share);
    if (l)
      candidate(at, 'overdueAmount', l.severity, l.action, {
        overdueAmount: s.overdueAmount,
        creditLimit: x.creditLimit,
        share,
      });
  }

  if (r.limitUse.enabled && x.limitUse !== undefined) {
    const l = levelFor(r.limitUse.levels, x.limitUse);
    if (l)
      candidate(at, 'limitUse', l.severity, l.action, {
        exposure: x.exposure,
        creditLimit: x.creditLimit as number,
        limitUse: x.limitUse,
      });
  }

  // The customer's payments in its credit currency received by the date, oldest first.
  const payments = inCurrency(x.receivables.payments, ccy);

  if (r.abnormalPayment.enabled && payments.length > r.abnormalPayment.minHistory) {
    const from = days(a.asOf, policy).abnormalFrom;
    // Sorted by date: the history is a prefix, the recent ones the rest.
    let cut = 0;
    while (cut < payments.length && (payments[cut] as Payment).receivedDate <= from) cut++;
    if (cut >= r.abnormalPayment.minHistory && cut < payments.length) {
      const history = new Array<number>(cut);
      for (let k = 0; k < cut; k++) history[k] = (payments[k] as Payment).amount;
      const score = robustScorer(history);
      let worst: { p: Payment; z: number } | undefined;
      for (let k = cut; k < payments.length; k++) {
        const p = payments[k] as Payment;
        const z = score(p.amount);
        if (Math.abs(z) > r.abnormalPayment.zScore && (!worst || Math.abs(z) > Math.abs(worst.z)))
          worst = { p, z };
      }
      if (worst)
        candidate(at, 'abnormalPayment', r.abnormalPayment.severity, r.abnormalPayment.action, {
          paymentId: worst.p.paymentId,
          receivedDate: worst.p.receivedDate,
          amount: worst.p.amount,
          medianOfHistory: Math.round(score.median),
          robustZ: Number.isFinite(worst.z) ? worst.z : null,
          paymentsInHistory: history.length,
        });
    }
  }

  const lastPayment = payments[payments.length - 1];
  if (
    r.paymentFrequency.enabled &&
    x.exposure > 0 &&
    payments.length >= r.paymentFrequency.minPayments &&
    lastPayment !== undefined &&
    days(a.asOf, policy).asOfDay - dayNumber(lastPayment.receivedDate) >= r.paymentFrequency.minGapDays
  ) {
    // The intervals between the distinct days payments came in.
    const gaps: number[] = [];
    let previous = dayNumber((payments[0] as Payment).receivedDate);
    for (let k = 1; k < payments.length; k++) {
      const day = dayNumber((payments[k] as Payment).receivedDate);
      if (day !== previous) gaps.push(day - previous);
      previous = day;
    }
    if (gaps.length + 1 >= r.paymentFrequency.minPayments) {
      const usual = median(gaps);
      const since = days(a.asOf, policy).asOfDay - previous;
      if (since > r.paymentFrequency.factor * usual)
        candidate(at, 'paymentFrequency', r.paymentFrequency.severity, r.paymentFrequency.action, {
          lastPayment: lastPayment.receivedDate,
          daysSinceLastPayment: since,
          usualIntervalDays: usual,
          exposure: x.exposure,
        });
    }
  }

  if (r.daysLateDrift.enabled) {
    const d = r.daysLateDrift;
    const { recentFrom, baseFrom } = days(a.asOf, policy);
    let recentSum = 0;
    let recentSettled = 0;
    let baseSum = 0;
    let baselineSettled = 0;
    const { settledDate, daysLate } = x.receivables;
    for (let i = 0; i < settledDate.length; i++) {
      const on = settledDate[i];
      if (on === undefined) continue;
      if (on > recentFrom) {
        recentSum += daysLate[i] as number;
        recentSettled++;
      } else if (on > baseFrom) {
        baseSum += daysLate[i] as number;
        baselineSettled++;
      }
    }
    if (recentSettled >= d.minSettled && baselineSettled >= d.minSettled) {
      const recentMeanDaysLate = recentSum / recentSettled;
      const baselineMeanDaysLate = baseSum / baselineSettled;
      const l = levelFor(d.levels, recentMeanDaysLate - baselineMeanDaysLate);
      if (l)
        candidate(at, 'daysLateDrift', l.severity, l.action, {
          recentMeanDaysLate,
          baselineMeanDaysLate,
          recentSettled,
          baselineSettled,
        });
    }
  }

  if (r.ratingDowngrade.enabled && file.recent && file.recent.length > 0) {
    // The largest fall within the window, today included: a rating that wavers below its best
    // keeps one alert open instead of opening one on every dip; it clears once the fall is older.
    const since = addDays(a.asOf, -r.ratingDowngrade.windowDays);
    // `recent` holds rating changes: each entry is in effect until the next. The window starts
    // with the entry in effect on its first day, then the changes inside it, then today.
    const earlier = file.recent.filter((p) => p.asOf < a.asOf);
    const inEffect = earlier.filter((p) => p.asOf < since).at(-1);
    const seen: PriorAssessment[] = [
      ...(inEffect ? [inEffect] : []),
      ...earlier.filter((p) => p.asOf >= since),
      { asOf: a.asOf, rating: a.rating, score: a.score, policyId: a.policyId },
    ].sort((p, q) => (p.asOf < q.asOf ? -1 : p.asOf > q.asOf ? 1 : 0));
    let best = seen[0] as PriorAssessment;
    let fall: { from: PriorAssessment; to: PriorAssessment; notches: number } | undefined;
    for (const p of seen) {
      const n = notchesDown(best.rating, p.rating);
      if (n > (fall?.notches ?? 0)) fall = { from: best, to: p, notches: n };
      if (n < 0) best = p;
    }
    const l = fall && levelFor(r.ratingDowngrade.levels, fall.notches);
    if (fall && l)
      candidate(at, 'ratingDowngrade', l.severity, l.action, {
        from: fall.from,
        to: fall.to,
        notches: fall.notches,
        rating: a.rating,
        score: a.score,
        windowDays: r.ratingDowngrade.windowDays,
        fallIsToday: fall.to.asOf === a.asOf,
      });
  }

  if (r.coverExpiring.enabled && (file.guarantees.length > 0 || file.insurance.length > 0)) {
    const until = addDays(a.asOf, r.coverExpiring.days);
    const expiring = [
      ...file.guarantees
        .filter((g) => (g.validFrom ?? '') <= a.asOf && g.expiry >= a.asOf && g.expiry <= until)
        .map((g) => ({
          what: `guarantee ${g.guaranteeId} (${g.issuer})`,
          expiry: g.expiry,
          amount: g.amount,
          currency: g.currency,
        })),
      ...file.insurance
        .filter((c) => (c.validFrom ?? '') <= a.asOf && c.expiry >= a.asOf && c.expiry <= until)
        .map((c) => ({
          what: `insurance ${c.policyId} (${c.insurer})`,
          expiry: c.expiry,
          amount: c.cap,
          currency: c.currency,
        })),
    ].sort((p, q) =>
      p.expiry < q.expiry ? -1 : p.expiry > q.expiry ? 1 : p.what < q.what ? -1 : p.what > q.what ? 1 : 0,
    );
    const first = expiring[0];
    if (first)
      candidate(at, 'coverExpiring', r.coverExpiring.severity, r.coverExpiring.action, {
        expiring,
        daysLeft: daysBetween(a.asOf, first.expiry),
      });
  }

  if (r.staleFinancials.enabled && x.exposure > 0 && x.latestStatement) {
    const limit = addMonths(a.asOf, -r.staleFinancials.months);
    if (x.latestStatement.periodEnd < limit)
      candidate(at, 'staleFinancials', r.staleFinancials.severity, r.staleFinancials.action, {
        latestPeriodEnd: x.latestStatement.periodEnd,
        months: r.staleFinancials.months,
        exposure: x.exposure,
      });
  }

  if (r.disputedShare.enabled && atThreshold(x.disputedShare) >= r.disputedShare.minShare) {
    const then = addDays(a.asOf, -r.disputedShare.windowDays);
    const before = receivablesAsOf(
      { customerId: file.customerId, currency: ccy, invoices: file.invoices, payments: file.payments },
      then,
    ).summary;
    const shareThen = before.openAmount > 0 ? before.disputedAmount / before.openAmount : 0;
    if (atThreshold(x.disputedShare - shareThen) >= r.disputedShare.minRise)
      candidate(at, 'disputedShare', r.disputedShare.severity, r.disputedShare.action, {
        disputedAmount: s.disputedAmount,
        disputedShare: x.disputedShare,
        shareBefore: shareThen,
        since: then,
      });
  }

  if (r.brokenPromise.enabled && (file.promises?.length ?? 0) > 0) {
    // Rated as of the day from the payments received by it; only those whose grace ended in the
    // window (the scorecard's brokenPromises factor counts the same over the behaviour window).
    const failed = promisesNotKept(file, a.asOf, addDays(a.asOf, -r.brokenPromise.windowDays), policy);
    const latest = failed.at(-1);
    const l = latest && levelFor(r.brokenPromise.levels, failed.length);
    if (latest && l)
      candidate(at, 'brokenPromise', l.severity, l.action, {
        broken: failed.filter((p) => p.state === 'broken').length,
        partial: failed.filter((p) => p.state === 'partial').length,
        windowDays: r.brokenPromise.windowDays,
        latest: {
          promiseId: latest.promiseId,
          promisedDate: latest.promisedDate,
          amount: latest.amount,
          paid: latest.paid,
          state: latest.state as 'broken' | 'partial',
        },
      });
  }

  const late = predictedLateOf(policy);
  if (late.enabled) {
    const facts = predictedLateFacts(
      x.receivables,
      ccy,
      a.asOf,
      late.days,
      predictedLateMinAmount(late, ccy),
    );
    if (facts) candidate(at, 'predictedLate', late.severity, late.action, facts);
  }

  if (r.concentration.enabled && portfolio) {
    const book = portfolio.openByCurrency.get(ccy);
    const c = book && concentrationCandidate(file.customerId, ccy, s.openAmount, book, a.asOf, policy);
    if (c) out.push(c);
  }
  return out;
}

/** The concentration rule: the customer's share of all open receivables in its currency. */
export function concentrationCandidate(
  customerId: string,
  currency: string,
  open: number,
  book: { open: number; customers: number },
  asOf: IsoDate,
  policy: Policy,
): AlertCandidate | undefined {
  const r = policy.rules.concentration;
  if (!r.enabled || book.customers < 2 || book.open <= 0 || open <= 0) return undefined;
  const share = open / book.open;
  const l = levelFor(r.levels, share);
  if (!l) return undefined;
  return {
    customerId,
    rule: 'concentration',
    severity: l.severity,
    action: l.action,
    asOf,
    policyId: policy.id,
    currency,
    facts: { openAmount: open, allOpenReceivables: book.open, share, customersInCurrency: book.customers },
  };
}

/**
 * The predicted-late rule's finding: the customer's open invoices in `currency` not yet overdue
 * (due on or after `asOf`), of at least `minAmount` open, whose expected settlement date is more
 * than `days` after their due date. The expectation is the model's (functions/predict/model.ts)
 * from the customer's own settled invoices as known on the date, never the segment: the daily
 * evaluation works customer by customer. Undefined when none qualifies.
 */
export function predictedLateFacts(
  rec: Pick<Receivables, 'invoices' | 'open' | 'settledDate' | 'daysLate'>,
  currency: string,
  asOf: IsoDate,
  days: number,
  minAmount = 0,
): RuleFacts['predictedLate'] | undefined {
  // No prediction goes further past due than the latest settlement on file: most customers stop here.
  let lateMost = 0;
  let candidates = 0;
  for (let i = 0; i < rec.invoices.length; i++) {
    const d = rec.daysLate[i] as number;
    if (d > lateMost) lateMost = d;
    const inv = rec.invoices[i] as Invoice;
    if (rec.settledDate[i] === undefined && (rec.open[i] as number) > 0 && inv.dueDate >= asOf) candidates++;
  }
  if (lateMost <= days || candidates === 0) return undefined;
  const history = invoiceRecordsOf(rec);
  let invoices = 0;
  let amount = 0;
  let worst: RuleFacts['predictedLate']['worst'] | undefined;
  for (const inv of history) {
    if (inv.settledDate !== undefined || inv.currency !== currency || inv.dueDate < asOf) continue;
    if (inv.amount <= 0 || inv.amount < minAmount) continue;
    const p = predictSettlement(inv, asOf, history);
    const daysLate = daysBetween(inv.dueDate, p.expected);
    if (daysLate <= days) continue;
    invoices++;
    amount += inv.amount;
    if (
      !worst ||
      daysLate > worst.daysLate ||
      (daysLate === worst.daysLate &&
        (inv.amount > worst.open || (inv.amount === worst.open && inv.invoiceId < worst.invoiceId)))
    )
      worst = {
        invoiceId: inv.invoiceId,
        dueDate: inv.dueDate,
        open: inv.amount,
        expected: p.expected,
        p10: p.p10,
        p90: p.p90,
        daysLate,
        settledCount: p.settledCount,
        reason: p.reason,
      };
  }
  return worst && { days, invoices, amount, worst };
}
