import { minorDigits } from '../core/currencies.ts';
import { CANONICAL_NUMBER_STYLE, formatDecimalMoney, formatMoney, parseMinorUnits } from '../core/money.ts';
import { handsBackCash } from '../credit/assess.ts';
import { SEVERITY_RANK, type Severity } from '../credit/policy.ts';
import type { ApproverContext, DecisionSeen, Transfer } from './ports.ts';

/**
 * What an approver needs to decide, in one shape for every surface that asks them (the approval
 * email, text and HTML, and the Slack message; the approval page shows the same figures): the
 * customer by name and id, the amount, the exposure, credit limit and the headroom before and
 * after the transfer, the unapplied cash (what a refund hands back), the open alerts counted by
 * severity with the most severe ones, and the decisions earlier levels took, with their comments.
 *
 * Built from the transfer's stored gate report (its figures as of the gate's day) and the
 * approver context read by `TransferApp.approverContext`; every amount written by `formatMoney`.
 * Pure: no I/O.
 */
export interface KeyEvidence {
  /** Undefined for a review's batch of limit changes, which names no one customer. */
  readonly customer?: { readonly id: string; readonly name?: string | undefined } | undefined;
  /** The amount asked for ("500.00 EUR"), or what a request that pays nothing changes. */
  readonly amount: string;
  /** Undefined before the gate ran or with no receivables on file (`noFigures` says which). */
  readonly figures?:
    | {
        readonly asOf: string;
        readonly exposure: string;
        readonly creditLimit: string;
        readonly headroom: string;
        /** The headroom once the transfer is approved, with how it was worked out. */
        readonly headroomAfter: string;
        readonly unappliedCash: string;
        /** A refund or overpayment return: the gate's finding against the unapplied cash. */
        readonly cashNeeded?: string | undefined;
      }
    | undefined;
  readonly noFigures?: string | undefined;
  /** Undefined before the gate ran. */
  readonly alerts?:
    | {
        readonly count: number;
        /** Most severe first, only severities with an alert. */
        readonly bySeverity: readonly { readonly severity: string; readonly count: number }[];
        /** The most severe ones (at most `TOP_ALERTS`), then how many more there are. */
        readonly top: readonly {
          readonly severity: string;
          readonly rule: string;
          readonly summary: string;
        }[];
        readonly more: number;
      }
    | undefined;
  /** Undefined when the notice was made without reading them (then nothing is said about them). */
  readonly decisions?: readonly DecisionSeen[] | undefined;
}

/**
 * An amount the gate stored as `formatMinor`'s plain decimal ("353760.34", or "353760.34 GBP"
 * with its currency) written by `formatMoney` ("353,760.34 GBP"); anything else as it is.
 */
export function storedMoney(value: string | number, currency: string): string {
  const m = /^(-?\d+(?:\.\d+)?)(?: ([A-Z]{3}))?$/.exec(String(value).trim());
  if (!m) return String(value);
  const ccy = m[2] ?? currency;
  const minor = parseMinorUnits(m[1] as string, minorDigits(ccy) ?? 2, CANONICAL_NUMBER_STYLE);
  return minor.ok ? formatMoney(minor.value, ccy) : String(value);
}

/** The gate's figures that are amounts (the rest are counts, days, names, ratings). */
export const MONEY_FIGURES: ReadonlySet<string> = new Set([
  'amount',
  'median',
  'overdueAmount',
  'creditLimit',
  'exposure',
  'headroom',
  'unappliedCash',
  'handedBack',
  'left',
  'pending',
  'expectedCash',
  'openAmount',
]);

/** The open alerts a message names one by one; the page and the full evidence list every one. */
export const TOP_ALERTS = 5;

/** Minor units of a stored plain decimal ("9000.00"), undefined when it is not one. */
function minorOf(decimal: string | undefined, currency: string): number | undefined {
  if (decimal === undefined || !/^-?\d+(\.\d+)?$/.test(decimal)) return undefined;
  const p = parseMinorUnits(decimal, minorDigits(currency) ?? 2, CANONICAL_NUMBER_STYLE);
  return p.ok ? p.value : undefined;
}

const rank = (severity: string) => SEVERITY_RANK[severity as Severity] ?? -1;

/** The amount a request asks for, in words when it pays nothing. */
function amountWords(t: Transfer): string {
  const r = t.request;
  const m = (v: number) => formatMoney(v, r.currency);
  if (t.policyChange)
    return `none: a credit policy change to ${t.policyChange.policyId} (${t.policyChange.changes} field${t.policyChange.changes === 1 ? '' : 's'})`;
  if (t.limitBatch) return `none: ${t.limitBatch.count} credit limit changes of review ${t.limitBatch.runId}`;
  if (t.limitChange)
    return `none: a credit limit change from ${t.limitChange.from === undefined ? 'none' : m(t.limitChange.from)} to ${m(t.limitChange.to)}`;
  if (r.type === 'bank_account_change') return 'none (a bank account change moves no money)';
  return m(r.amount);
}

/**
 * The headroom once the transfer is approved (DOMAIN: exposure counts approved unpaid transfers):
 * a payment out lowers it by its amount, a credit limit change moves the limit, a bank account
 * change leaves it as it is.
 */
function headroomAfter(t: Transfer, x: NonNullable<NonNullable<Transfer['gate']>['exposure']>): string {
  const r = t.request;
  const ccy = x.currency;
  const headroom = minorOf(x.headroom, ccy);
  const exposure = minorOf(x.exposure, ccy);
  if (t.limitChange) {
    if (r.currency !== ccy || exposure === undefined)
      return `not worked out: the new limit is in ${r.currency}, the exposure in ${ccy}`;
    return `${formatMoney(t.limitChange.to - exposure, ccy)} (the new limit ${formatMoney(t.limitChange.to, ccy)} less the exposure)`;
  }
  if (headroom === undefined) return 'none (no credit limit)';
  if (r.type === 'bank_account_change')
    return `${formatMoney(headroom, ccy)} (unchanged: a bank account change moves no money)`;
  if (r.currency !== ccy)
    return `not worked out: the transfer is in ${r.currency}, the credit limit in ${ccy}`;
  return `${formatMoney(headroom - r.amount, ccy)} (${formatMoney(headroom, ccy)} less the ${formatMoney(r.amount, ccy)} asked for)`;
}

export function keyEvidence(t: Transfer, context?: ApproverContext): KeyEvidence {
  const g = t.gate;
  const x = g?.exposure;
  const m = (v: string) => formatDecimalMoney(v, x?.currency ?? t.request.currency);
  const cash = g?.checks.find((c) => c.check === 'unappliedCash');
  const figures: KeyEvidence['figures'] =
    g && x
      ? {
          asOf: g.asOf,
          exposure: m(x.exposure),
          creditLimit: x.creditLimit === undefined ? 'none on file' : m(x.creditLimit),
          headroom: x.headroom === undefined ? 'none (no credit limit)' : m(x.headroom),
          headroomAfter: headroomAfter(t, x),
          unappliedCash:
            x.unappliedCash === undefined ? 'not kept by the gate for this request' : m(x.unappliedCash),
          cashNeeded: handsBackCash(t.request.type) ? cash?.summary : undefined,
        }
      : undefined;
  let alerts: KeyEvidence['alerts'];
  if (g) {
    const sorted = [...g.activeAlerts].sort((a, b) => rank(b.severity) - rank(a.severity));
    const counts = new Map<string, number>();
    for (const a of sorted) counts.set(a.severity, (counts.get(a.severity) ?? 0) + 1);
    alerts = {
      count: sorted.length,
      bySeverity: [...counts].map(([severity, count]) => ({ severity, count })),
      top: sorted.slice(0, TOP_ALERTS),
      more: Math.max(0, sorted.length - TOP_ALERTS),
    };
  }
  return {
    customer:
      t.limitBatch || t.policyChange ? undefined : { id: t.request.customerId, name: context?.customer.name },
    amount: amountWords(t),
    figures,
    noFigures: figures
      ? undefined
      : t.limitBatch
        ? 'the figures of every customer are in the table of limit changes'
        : t.policyChange
          ? 'a credit policy change: what it changes, field by field, is in the checks'
          : g
            ? 'no receivables on file'
            : 'the risk gate has not run yet',
    alerts,
    decisions: context?.decisions,
  };
}

/** `Carla Credit (for Erik Away) approved at 2025-07-01 09:00 UTC by email: "comment"` parts. */
export function decisionWords(d: DecisionSeen, when: (iso: string) => string): string {
  return `level ${d.level}: ${d.by}${d.onBehalfOf ? ` (for ${d.onBehalfOf})` : ''} ${d.decision} at ${when(d.at)}${d.via ? ` by ${d.via}` : ''}`;
}

/** `2 open: 1 high, 1 warning` */
export function alertCounts(a: NonNullable<KeyEvidence['alerts']>): string {
  return a.count === 0
    ? 'none'
    : `${a.count} open: ${a.bySeverity.map((s) => `${s.count} ${s.severity}`).join(', ')}`;
}
