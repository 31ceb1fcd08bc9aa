import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import type {
  Customer,
  FinancialStatement,
  Guarantee,
  InsuranceCover,
  Invoice,
  Original,
  Payment,
  TransferCommitment,
} from '../../functions/core/records.ts';
import { type Alert, reconcile } from '../../functions/credit/alerts.ts';
import {
  assess,
  type CreditFile,
  type ExternalScore,
  type PriorAssessment,
} from '../../functions/credit/assess.ts';
import { decisionFor } from '../../functions/credit/decide.ts';
import { type Policy, policyInForce, type RuleName, type Severity } from '../../functions/credit/policy.ts';
import { evaluateRules, explainCandidate } from '../../functions/credit/rules.ts';
import { reviewCustomer } from '../../functions/reviews/review.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * Builders of the decision scenario book (decision-scenarios.test.ts): credit files as the
 * pipeline holds them after an upload, as of one date, and a runner that puts each file through
 * the real evaluation (assess, the early-warning rules, the alert lifecycle) and the real review.
 */

export const AS_OF: IsoDate = '2026-06-30';
/** The daily evaluation runs at 05:00 and the review at 06:00 (README "Periodic reviews"). */
export const EVALUATED_AT = '2026-06-30T05:00:00.000Z';
export const REVIEWED_AT = '2026-06-30T06:00:00.000Z';

export const policy: Policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);

/** Major units of a currency with two decimals (EUR, USD) as minor units: eur(30_000) is 30,000.00. */
export const eur = (major: number): number => Math.round(major * 100);

// ---- master data ----

export function customer(customerId: string, extra: Partial<Customer> = {}): Customer {
  return {
    customerId,
    name: `Customer ${customerId}`,
    industry: 'wholesale',
    currency: 'EUR',
    paymentTermsDays: 30,
    ...extra,
  };
}

// ---- invoices and payments ----

/** One month after another, 'YYYY-MM', from `from` to `to` inclusive. */
function months(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.split('-').map(Number) as [number, number];
  for (;;) {
    const month = `${y}-${String(m).padStart(2, '0')}`;
    if (month > to) return out;
    out.push(month);
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
}

export interface MonthlySales {
  /** First and last month invoiced, 'YYYY-MM' (inclusive). */
  readonly from: string;
  readonly to: string;
  /** Each invoice, in minor units of `currency`. */
  readonly amount: number;
  /** Day of the month invoices are issued on (default the 15th). */
  readonly day?: number;
  /** Payment terms in days (default 30): due = issue + terms. */
  readonly terms?: number;
  /**
   * Days after its due date each invoice is paid in full by a payment naming it (default 0, on
   * the due date; negative: before it). 'unpaid' leaves it open. A payment after the as-of date
   * is not on file (nobody has received it yet).
   */
  readonly late?: number | ((month: string) => number | 'unpaid');
  readonly currency?: string;
  /** The amount as billed and paid before conversion into the credit currency (FX customers). */
  readonly original?: (date: IsoDate) => Original;
}

/** A regular book: one invoice a month, each paid in full by a payment that names it. */
export function monthly(customerId: string, s: MonthlySales): { invoices: Invoice[]; payments: Payment[] } {
  const invoices: Invoice[] = [];
  const payments: Payment[] = [];
  const currency = s.currency ?? 'EUR';
  for (const month of months(s.from, s.to)) {
    const issueDate = `${month}-${String(s.day ?? 15).padStart(2, '0')}`;
    const dueDate = addDays(issueDate, s.terms ?? 30);
    const invoiceId = `${customerId}-${month}`;
    invoices.push({
      customerId,
      invoiceId,
      issueDate,
      dueDate,
      amount: s.amount,
      currency,
      disputed: false,
      ...(s.original ? { original: s.original(issueDate) } : {}),
    });
    const late = typeof s.late === 'function' ? s.late(month) : (s.late ?? 0);
    if (late === 'unpaid') continue;
    const receivedDate = addDays(dueDate, late);
    if (receivedDate > AS_OF) continue;
    payments.push({
      customerId,
      paymentId: `P-${invoiceId}`,
      receivedDate,
      amount: s.amount,
      currency,
      invoiceIds: [invoiceId],
      ...(s.original ? { original: s.original(receivedDate) } : {}),
    });
  }
  return { invoices, payments };
}

export function invoice(
  customerId: string,
  invoiceId: string,
  issueDate: IsoDate,
  dueDate: IsoDate,
  amount: number,
  extra: Partial<Invoice> = {},
): Invoice {
  return { customerId, invoiceId, issueDate, dueDate, amount, currency: 'EUR', disputed: false, ...extra };
}

export function payment(
  customerId: string,
  paymentId: string,
  receivedDate: IsoDate,
  amount: number,
  invoiceIds: string[] = [],
): Payment {
  return { customerId, paymentId, receivedDate, amount, currency: 'EUR', invoiceIds };
}

// ---- statements, cover, scores, transfers ----

/**
 * A sound balance sheet (EUR, scale-free ratios): current ratio 400/150 = 2.67 (5 points), quick
 * ratio (400 - 100)/150 = 2.00 (4), debt ratio 300/1,000 = 0.30 (5), Altman Z'' = 6.56 x 0.25 +
 * 3.26 x 0.30 + 6.72 x 0.10 + 1.05 x 700/300 = 1.64 + 0.978 + 0.672 + 2.45 = 5.74 (10): 24 points
 * where a customer without statements gets the neutral 2 + 2 + 2 + 4 = 10.
 */
export function soundStatement(
  customerId: string,
  revenue: number,
  periodEnd: IsoDate = '2025-12-31',
): FinancialStatement {
  return {
    customerId,
    periodEnd,
    currency: 'EUR',
    revenue,
    currentAssets: eur(400_000),
    currentLiabilities: eur(150_000),
    inventory: eur(100_000),
    totalAssets: eur(1_000_000),
    totalLiabilities: eur(300_000),
    retainedEarnings: eur(300_000),
    ebit: eur(100_000),
    equity: eur(700_000),
  };
}

export function guarantee(
  customerId: string,
  amount: number,
  validFrom: IsoDate,
  expiry: IsoDate,
  extra: Partial<Guarantee> = {},
): Guarantee {
  return {
    customerId,
    guaranteeId: `G-${customerId}`,
    issuer: 'Bank A',
    amount,
    currency: 'EUR',
    validFrom,
    expiry,
    ...extra,
  };
}

export function insurance(
  customerId: string,
  insuredShareBp: number,
  cap: number,
  validFrom: IsoDate,
  expiry: IsoDate,
): InsuranceCover {
  return {
    customerId,
    policyId: `I-${customerId}`,
    insurer: 'Insurer A',
    insuredShareBp,
    cap,
    currency: 'EUR',
    validFrom,
    expiry,
  };
}

export function agencyScore(customerId: string, score: number, date: IsoDate, scaleMax = 100): ExternalScore {
  return { customerId, agency: 'Agency A', date, score, scaleMax };
}

export function transfer(
  customerId: string,
  transferId: string,
  transferType: string,
  amount: number,
  approvedOn: IsoDate,
  extra: Partial<TransferCommitment> = {},
): TransferCommitment {
  return { customerId, transferId, transferType, amount, currency: 'EUR', approvedOn, ...extra };
}

/** An alert already in the store before today's evaluation (opened earlier, maybe resolved since). */
export function storedAlert(
  customerId: string,
  rule: RuleName,
  severity: Severity,
  openedAt: string,
  extra: Partial<Alert> = {},
): Alert {
  return {
    alertId: `${customerId}/${rule}/${openedAt}`,
    customerId,
    rule,
    status: 'open',
    severity,
    action: 'hold_deliveries',
    summary: 'stored alert',
    evidence: {},
    policyId: policy.id,
    openedAt,
    openedAsOf: openedAt.slice(0, 10),
    seenAsOf: openedAt.slice(0, 10),
    notifiedSeverity: severity,
    history: [{ at: openedAt, event: 'opened', severity }],
    ...extra,
  };
}

// ---- the credit file ----

export interface FileParts {
  readonly customer?: Customer | undefined;
  readonly currency?: string;
  readonly books?: readonly { invoices: readonly Invoice[]; payments: readonly Payment[] }[];
  readonly invoices?: readonly Invoice[];
  readonly payments?: readonly Payment[];
  readonly financials?: readonly FinancialStatement[];
  readonly guarantees?: readonly Guarantee[];
  readonly insurance?: readonly InsuranceCover[];
  readonly scores?: readonly ExternalScore[];
  readonly transfers?: readonly TransferCommitment[];
  readonly recent?: readonly PriorAssessment[];
}

export function creditFile(customerId: string, p: FileParts): CreditFile {
  const books = p.books ?? [];
  return {
    customerId,
    customer: p.customer,
    currency: p.currency ?? p.customer?.currency ?? 'EUR',
    invoices: [...books.flatMap((b) => b.invoices), ...(p.invoices ?? [])],
    payments: [...books.flatMap((b) => b.payments), ...(p.payments ?? [])],
    financials: p.financials ?? [],
    guarantees: p.guarantees ?? [],
    insurance: p.insurance ?? [],
    scores: p.scores ?? [],
    transfers: p.transfers ?? [],
    recent: p.recent,
  };
}

// ---- the run ----

/**
 * What the product does with one credit file on the as-of date: the 05:00 evaluation (assess,
 * the early-warning rules, the alert lifecycle on the stored alerts), then the 06:00 review, which
 * sees the alerts as the evaluation left them.
 */
export function runScenario(file: CreditFile, stored: readonly Alert[] = []) {
  const a = assess(file, AS_OF, policy);
  const findings = evaluateRules(file, a, policy);
  const { changed } = reconcile(stored, findings.map(explainCandidate), AS_OF, EVALUATED_AT);
  const byId = new Map(stored.map((al) => [al.alertId, al]));
  for (const al of changed) byId.set(al.alertId, al);
  const alerts = [...byId.values()];
  const decision = decisionFor(file, a, alerts, policy);
  const review = reviewCustomer({
    runId: 'scenario-run',
    customerId: file.customerId,
    due: 'first review',
    asOf: AS_OF,
    now: REVIEWED_AT,
    file,
    alerts,
    policy,
  });
  return { assessment: a, findings, alerts, decision, review };
}
