import { addDays, addMonths, dayNumber, daysBetween, type IsoDate } from '../core/dates.ts';
import { formatMinor } from '../core/money.ts';
import { byReceived, receivablesAsOf } from '../core/receivables.ts';
import type { Payment } from '../core/records.ts';
import {
  type Assessment,
  type CreditFile,
  type Figures,
  notchesDown,
  type PriorAssessment,
} from './assess.ts';
import type { Action, Policy, RuleName, Severity } from './policy.ts';
import { atThreshold } from './thresholds.ts';

/** What a rule found: one per customer and rule at most (the alert lifecycle keeps one open). */
export interface AlertCandidate {
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

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = Float64Array.from(xs).sort();
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

function mean(xs: readonly number[]): number {
  return xs.reduce((p, q) => p + q, 0) / xs.length;
}

function candidate(
  out: AlertCandidate[],
  customerId: string,
  asOf: IsoDate,
  policyId: string,
  rule: RuleName,
  severity: Severity,
  action: Action,
  summary: string,
  evidence: Record<string, string | number>,
): void {
  out.push({ customerId, rule, severity, action, asOf, policyId, evidence, summary });
}

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
  // A local function would be wrapped by the bundler's keepNames on every call: the hot path hoists it.
  const raise = candidate.bind(null, out, file.customerId, a.asOf, policy.id);

  if (r.daysPastDue.enabled) {
    const l = levelFor(r.daysPastDue.levels, x.maxDaysPastDue);
    if (l)
      raise('daysPastDue', l.severity, l.action, `an invoice is ${x.maxDaysPastDue} days past due`, {
        maxDaysPastDue: x.maxDaysPastDue,
        overdueAmount: formatMinor(s.overdueAmount, ccy),
        openInvoices: s.openInvoices,
      });
  }

  // Measured against the credit limit: without one, the days-past-due rule speaks for the overdue items.
  if (r.overdueAmount.enabled && s.overdueAmount > 0 && x.creditLimit !== undefined && x.creditLimit > 0) {
    const share = s.overdueAmount / x.creditLimit;
    const l = levelFor(r.overdueAmount.levels, share);
    if (l)
      raise(
        'overdueAmount',
        l.severity,
        l.action,
        `${formatMinor(s.overdueAmount, ccy)} overdue, ${pct(share)} of the credit limit`,
        {
          overdueAmount: formatMinor(s.overdueAmount, ccy),
          creditLimit: formatMinor(x.creditLimit, ccy),
          share: pct(share),
        },
      );
  }

  if (r.limitUse.enabled && x.limitUse !== undefined) {
    const l = levelFor(r.limitUse.levels, x.limitUse);
    if (l)
      raise(
        'limitUse',
        l.severity,
        l.action,
        x.creditLimit === 0
          ? `${formatMinor(x.exposure, ccy)} owed against a zero credit limit`
          : `exposure ${formatMinor(x.exposure, ccy)} is ${pct(x.limitUse)} of the ${formatMinor(x.creditLimit as number, ccy)} limit`,
        {
          exposure: formatMinor(x.exposure, ccy),
          creditLimit: formatMinor(x.creditLimit as number, ccy),
          limitUse: pct(x.limitUse),
        },
      );
  }

  // The customer's payments in its credit currency received by the date, oldest first.
  const payments = file.payments.filter((p) => p.receivedDate <= a.asOf && p.currency === ccy);
  if (payments.length > 1) payments.sort(byReceived);

  if (r.abnormalPayment.enabled && payments.length > r.abnormalPayment.minHistory) {
    const from = addDays(a.asOf, -r.abnormalPayment.lookbackDays);
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
      if (worst) {
        const { p, z } = worst;
        const med = score.median;
        raise(
          'abnormalPayment',
          r.abnormalPayment.severity,
          r.abnormalPayment.action,
          `payment ${p.paymentId} of ${formatMinor(p.amount, ccy)} is far from this customer's usual ${formatMinor(Math.round(med), ccy)}`,
          {
            paymentId: p.paymentId,
            receivedDate: p.receivedDate,
            amount: formatMinor(p.amount, ccy),
            medianOfHistory: formatMinor(Math.round(med), ccy),
            robustZ: Number.isFinite(z) ? Number(z.toFixed(2)) : 'every earlier payment was the same amount',
            paymentsInHistory: history.length,
          },
        );
      }
    }
  }

  if (r.paymentFrequency.enabled && x.exposure > 0 && payments.length >= r.paymentFrequency.minPayments) {
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
      const last = (payments[payments.length - 1] as Payment).receivedDate;
      const since = dayNumber(a.asOf) - previous;
      if (since >= r.paymentFrequency.minGapDays && since > r.paymentFrequency.factor * usual)
        raise(
          'paymentFrequency',
          r.paymentFrequency.severity,
          r.paymentFrequency.action,
          `no payment for ${since} days; this customer usually pays every ${usual} days`,
          {
            lastPayment: last,
            daysSinceLastPayment: since,
            usualIntervalDays: usual,
            exposure: formatMinor(x.exposure, ccy),
          },
        );
    }
  }

  if (r.daysLateDrift.enabled) {
    const d = r.daysLateDrift;
    const recentFrom = addDays(a.asOf, -d.recentDays);
    const baseFrom = addMonths(recentFrom, -d.baselineMonths);
    const recent: number[] = [];
    const base: number[] = [];
    const { settledDate, daysLate } = x.receivables;
    for (let i = 0; i < settledDate.length; i++) {
      const on = settledDate[i];
      if (on === undefined) continue;
      if (on > recentFrom) recent.push(daysLate[i] as number);
      else if (on > baseFrom) base.push(daysLate[i] as number);
    }
    if (recent.length >= d.minSettled && base.length >= d.minSettled) {
      const drift = mean(recent) - mean(base);
      const l = levelFor(d.levels, drift);
      if (l)
        raise(
          'daysLateDrift',
          l.severity,
          l.action,
          `pays ${drift.toFixed(1)} days later than its own baseline (${mean(recent).toFixed(1)} vs ${mean(base).toFixed(1)} days late)`,
          {
            recentMeanDaysLate: Number(mean(recent).toFixed(1)),
            baselineMeanDaysLate: Number(mean(base).toFixed(1)),
            driftDays: Number(drift.toFixed(1)),
            recentSettled: recent.length,
            baselineSettled: base.length,
          },
        );
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
      raise(
        'ratingDowngrade',
        l.severity,
        l.action,
        `rating fell from ${fall.from.rating} (${fall.from.asOf}) to ${fall.to.rating} (${fall.to.asOf})${fall.to.asOf === a.asOf ? '' : `; ${a.rating} now`}`,
        {
          fromRating: fall.from.rating,
          fromAsOf: fall.from.asOf,
          fromScore: fall.from.score,
          toRating: fall.to.rating,
          toAsOf: fall.to.asOf,
          notches: fall.notches,
          rating: a.rating,
          score: a.score,
          windowDays: r.ratingDowngrade.windowDays,
        },
      );
  }

  if (r.coverExpiring.enabled) {
    const until = addDays(a.asOf, r.coverExpiring.days);
    const expiring = [
      ...file.guarantees
        .filter((g) => (g.validFrom ?? '') <= a.asOf && g.expiry >= a.asOf && g.expiry <= until)
        .map((g) => ({
          what: `guarantee ${g.guaranteeId} (${g.issuer})`,
          expiry: g.expiry,
          amount: formatMinor(g.amount, g.currency),
        })),
      ...file.insurance
        .filter((c) => (c.validFrom ?? '') <= a.asOf && c.expiry >= a.asOf && c.expiry <= until)
        .map((c) => ({
          what: `insurance ${c.policyId} (${c.insurer})`,
          expiry: c.expiry,
          amount: formatMinor(c.cap, c.currency),
        })),
    ].sort((p, q) => (p.expiry < q.expiry ? -1 : 1));
    const first = expiring[0];
    if (first)
      raise(
        'coverExpiring',
        r.coverExpiring.severity,
        r.coverExpiring.action,
        `${first.what} expires on ${first.expiry}, in ${daysBetween(a.asOf, first.expiry)} days`,
        {
          expiring: expiring.map((e) => `${e.what}: ${e.amount} until ${e.expiry}`).join('; '),
          daysLeft: daysBetween(a.asOf, first.expiry),
        },
      );
  }

  if (r.staleFinancials.enabled && x.exposure > 0 && x.latestStatement) {
    const limit = addMonths(a.asOf, -r.staleFinancials.months);
    if (x.latestStatement.periodEnd < limit)
      raise(
        'staleFinancials',
        r.staleFinancials.severity,
        r.staleFinancials.action,
        `the latest financial statement is for ${x.latestStatement.periodEnd}, more than ${r.staleFinancials.months} months ago`,
        { latestPeriodEnd: x.latestStatement.periodEnd, exposure: formatMinor(x.exposure, ccy) },
      );
  }

  if (r.disputedShare.enabled && atThreshold(x.disputedShare) >= r.disputedShare.minShare) {
    const then = addDays(a.asOf, -r.disputedShare.windowDays);
    const before = receivablesAsOf(
      { customerId: file.customerId, currency: ccy, invoices: file.invoices, payments: file.payments },
      then,
    ).summary;
    const shareThen = before.openAmount > 0 ? before.disputedAmount / before.openAmount : 0;
    if (atThreshold(x.disputedShare - shareThen) >= r.disputedShare.minRise)
      raise(
        'disputedShare',
        r.disputedShare.severity,
        r.disputedShare.action,
        `${pct(x.disputedShare)} of the open amount is disputed, up from ${pct(shareThen)} on ${then}`,
        {
          disputedAmount: formatMinor(s.disputedAmount, ccy),
          disputedShare: pct(x.disputedShare),
          shareBefore: pct(shareThen),
          since: then,
        },
      );
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
    summary: `holds ${pct(share)} of all open receivables in ${currency}`,
    evidence: {
      openAmount: formatMinor(open, currency),
      allOpenReceivables: formatMinor(book.open, currency),
      share: pct(share),
      customersInCurrency: book.customers,
    },
  };
}
