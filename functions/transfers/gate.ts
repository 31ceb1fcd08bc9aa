import type { CreditHold } from '../collections/ports.ts';
import { addDays, daysBetween, type IsoDate } from '../core/dates.ts';
import { formatMinor, formatMoney } from '../core/money.ts';
import { AGING_BUCKETS } from '../core/receivables.ts';
import type { Alert } from '../credit/alerts.ts';
import {
  type Assessment,
  explainFactor,
  type Figures,
  handsBackCash,
  pointsShare,
} from '../credit/assess.ts';
import { type Rating, type RiskClass, SEVERITY_RANK } from '../credit/policy.ts';
import { robustScorer } from '../credit/rules.ts';
import { predictCustomer } from '../predict/book.ts';
import { invoiceRecordsOf } from '../predict/model.ts';
import type { ApprovalPolicy, GateFlag } from './approval-policy.ts';
import type { Transfer } from './ports.ts';
import type { TransferRequest } from './request.ts';

/**
 * The risk gate (DOMAIN "Multi-level approval"): before any approver sees a request, it is checked
 * against what is known of the customer. Each check says what it found in words and figures;
 * those that find a risk raise a flag, and flags add approval levels. Approvers see every check,
 * passed or not, beside the customer's exposure, aging and rating with its reasons.
 */

export type GateCheckName =
  | 'riskClass'
  | 'openAlerts'
  | 'creditHold'
  | 'overdueBalance'
  | 'amountHistory'
  | 'beneficiary'
  | 'duplicate'
  | 'limitHeadroom'
  | 'unappliedCash'
  /** Evidence, never a flag: the customer's cash expected in the next 30 days (the payment-date model). */
  | 'expectedCash'
  /** A review run's batch of limit changes: what it holds, and how risky its customers are. */
  | 'batch'
  | 'batchRisk'
  /** A credit policy change: the policy, its hash, and what it changes field by field. */
  | 'policyChange'
  | 'policyDiff';

export interface GateCheck {
  readonly check: GateCheckName;
  /** The flag it raised, if it found a risk. */
  readonly flag?: GateFlag | undefined;
  /** One line an approver reads. */
  readonly summary: string;
  readonly figures: Readonly<Record<string, string | number>>;
}

/** The customer as the approvers see it, as of the request's day. */
export interface GateExposure {
  readonly currency: string;
  readonly openAmount: string;
  readonly overdueAmount: string;
  /** Earlier approved transfers the exposure counts (absent when none). */
  readonly approvedTransfers?: string | undefined;
  readonly exposure: string;
  readonly creditLimit?: string | undefined;
  readonly headroom?: string | undefined;
  /**
   * Payments received and not applied to an invoice: what a refund or an overpayment return hands
   * back (absent in reports made before it was kept).
   */
  readonly unappliedCash?: string | undefined;
  /** Open amount per aging bucket, formatted. */
  readonly aging: Readonly<Record<string, string>>;
  readonly maxDaysPastDue: number;
}

export interface GateReport {
  readonly asOf: IsoDate;
  readonly flags: GateFlag[];
  readonly checks: GateCheck[];
  readonly riskClass?: RiskClass | undefined;
  readonly rating?: Rating | undefined;
  readonly score?: number | undefined;
  readonly policyId?: string | undefined;
  /** The scorecard's factors with their points and reasons, weakest first. */
  readonly ratingReasons: readonly {
    readonly reason: string;
    readonly points: number;
    readonly maxPoints: number;
  }[];
  readonly exposure?: GateExposure | undefined;
  readonly activeAlerts: readonly {
    readonly rule: string;
    readonly severity: string;
    readonly summary: string;
  }[];
  /** A batch of limit changes: its table as the approvers read it (functions/transfers/batch.ts). */
  readonly batch?: BatchTable | undefined;
}

/** The first rows of a batch's table, formatted; `more` says how many rows are not shown here. */
export interface BatchTable {
  readonly count: number;
  readonly rows: readonly {
    readonly customer: string;
    readonly rating: string;
    readonly change: string;
    readonly from: string;
    readonly to: string;
    readonly exposure: string;
    readonly overdue: string;
    readonly why: string;
  }[];
  readonly more: number;
}

/** Changed fields a policy change's report carries (emails, pages); every one is in the pending policy. */
export const POLICY_DIFF_SHOWN = 200;

/**
 * The gate of a credit policy change: no customer, no money, no flag. What the approvers read is
 * the change itself: the new policy's id and hash, the policy in force it replaces, and every
 * field it changes with the value in force and the new one (`policy.changes.<path>`).
 */
export function policyChangeGate(
  p: {
    readonly id: string;
    readonly hash: string;
    readonly replaces: string;
    readonly source: string;
    readonly diff: readonly {
      readonly path: string;
      readonly from?: string | undefined;
      readonly to?: string | undefined;
    }[];
  },
  asOf: IsoDate,
): GateReport {
  const shown = p.diff.slice(0, POLICY_DIFF_SHOWN);
  const more = p.diff.length - shown.length;
  return {
    asOf,
    flags: [],
    checks: [
      {
        check: 'policyChange',
        summary: `credit policy ${p.id} to replace ${p.replaces} (in force): ${p.diff.length} field${p.diff.length === 1 ? '' : 's'} change${p.diff.length === 1 ? 's' : ''}`,
        figures: { policy: p.id, sha256: p.hash, replaces: p.replaces, from: p.source },
      },
      {
        check: 'policyDiff',
        summary:
          p.diff.length === 0
            ? 'no field changes'
            : `old -> new, field by field${more > 0 ? ` (the first ${POLICY_DIFF_SHOWN}; ${more} more in the pending policy)` : ''}`,
        figures: Object.fromEntries(
          shown.map((d) => [d.path, `${d.from ?? '(none)'} -> ${d.to ?? '(none)'}`]),
        ),
      },
    ],
    ratingReasons: [],
    activeAlerts: [],
  };
}

export interface GateInputs {
  readonly transferId: string;
  readonly request: TransferRequest;
  readonly asOf: IsoDate;
  /** The customer assessed as of `asOf` (undefined: nothing on file). */
  readonly assessment?: (Assessment & { readonly figures: Figures }) | undefined;
  readonly alerts: readonly Alert[];
  /** The customer's transfers (this one may be among them: it is skipped). */
  readonly history: readonly Transfer[];
  readonly settings: ApprovalPolicy['gate'];
  /** A limit increase (a review's credit release): no account receives money, so no beneficiary check. */
  readonly limitIncrease?: boolean | undefined;
  /** The customer's credit hold, if one is on as of `asOf` (the collection plan's hold level). */
  readonly creditHold?: Pick<CreditHold, 'since' | 'by' | 'reason'> | undefined;
}

const moves = (r: Pick<TransferRequest, 'type'>) => r.type !== 'bank_account_change';

/** Runs every check; pure, so the same inputs give the same report (and the audit can replay it). */
export function riskGate(x: GateInputs): GateReport {
  const req = x.request;
  const ccy = req.currency;
  const a = x.assessment;
  const f = a?.figures;
  const checks: GateCheck[] = [];
  // The customer's other transfers requested by the gate's day: a replay never sees later ones.
  const others = x.history.filter(
    (t) =>
      t.transferId !== x.transferId && t.request.customerId === req.customerId && t.requestedOn <= x.asOf,
  );

  // Risk class: it raises levels through the policy's riskClass table, not through a flag.
  checks.push(
    a
      ? {
          check: 'riskClass',
          summary: `rating ${a.rating} (score ${a.score}), ${a.riskClass} risk, as of ${a.asOf}`,
          figures: { rating: a.rating, score: a.score, riskClass: a.riskClass, policy: a.policyId },
        }
      : {
          check: 'riskClass',
          summary: 'not rated: no receivables or master data on file; treated as high risk',
          figures: {},
        },
  );

  const floor = SEVERITY_RANK[x.settings.alertSeverity];
  const active = x.alerts.filter((al) => al.status !== 'resolved');
  const serious = active.filter((al) => SEVERITY_RANK[al.severity] >= floor);
  checks.push({
    check: 'openAlerts',
    flag: serious.length > 0 ? 'openAlerts' : undefined,
    summary:
      active.length === 0
        ? 'no active alerts'
        : `${active.length} active alert${active.length === 1 ? '' : 's'}, ${serious.length} at ${x.settings.alertSeverity} or above`,
    figures: {
      active: active.length,
      atOrAbove: serious.length,
      ...(serious.length > 0 ? { rules: serious.map((al) => `${al.rule} (${al.severity})`).join(', ') } : {}),
    },
  });

  // On credit hold: the collection plan stopped credit to this customer; money out needs more eyes.
  // Shown only when on (a line saying "not on hold" on every request would be noise).
  if (x.creditHold)
    checks.push({
      check: 'creditHold',
      flag: 'creditHold',
      summary: `on credit hold since ${x.creditHold.since} (${x.creditHold.by}): ${x.creditHold.reason}`,
      figures: { since: x.creditHold.since, by: x.creditHold.by },
    });

  if (f) {
    const s = f.receivables.summary;
    checks.push({
      check: 'overdueBalance',
      flag: s.overdueAmount > 0 ? 'overdueBalance' : undefined,
      summary:
        s.overdueAmount > 0
          ? `${formatMoney(s.overdueAmount, f.currency)} overdue, the oldest ${f.maxDaysPastDue} day${f.maxDaysPastDue === 1 ? '' : 's'} past due`
          : 'nothing overdue',
      figures: {
        overdueAmount: formatMinor(s.overdueAmount, f.currency),
        currency: f.currency,
        maxDaysPastDue: f.maxDaysPastDue,
      },
    });
  } else checks.push({ check: 'overdueBalance', summary: 'no receivables on file', figures: {} });

  // What the customer is expected to pay in the next 30 days: evidence beside the overdue balance.
  if (f) checks.push(expectedCashCheck(req.customerId, f, x.asOf));

  // The amount against the customer's own approved transfers in the same currency.
  if (moves(req)) {
    const past = others
      .filter((t) => t.status === 'approved' && moves(t.request) && t.request.currency === ccy)
      .map((t) => t.request.amount);
    if (past.length < x.settings.minHistory)
      checks.push({
        check: 'amountHistory',
        summary: `${past.length} earlier approved transfer${past.length === 1 ? '' : 's'} in ${ccy}: fewer than the ${x.settings.minHistory} needed to judge the amount`,
        figures: { earlierTransfers: past.length },
      });
    else {
      const score = robustScorer(past);
      const z = score(req.amount);
      // Judged on the figure shown (two decimals), so an approver never reads "3.50, beyond 3.5".
      const shown = Number.isFinite(z) ? Number(z.toFixed(2)) : z;
      const abnormal = Math.abs(shown) > x.settings.abnormalZ;
      checks.push({
        check: 'amountHistory',
        flag: abnormal ? 'abnormalAmount' : undefined,
        summary: `${formatMoney(req.amount, ccy)} against a usual ${formatMoney(Math.round(score.median), ccy)}: robust z ${Number.isFinite(z) ? z.toFixed(2) : 'unbounded (every earlier transfer was the same amount)'}${abnormal ? `, beyond ${x.settings.abnormalZ}` : ''}`,
        figures: {
          amount: formatMinor(req.amount, ccy),
          median: formatMinor(Math.round(score.median), ccy),
          robustZ: Number.isFinite(z) ? shown : 'unbounded',
          earlierTransfers: past.length,
        },
      });
    }
  }

  const account = req.beneficiaryAccount;
  if (!x.limitIncrease) beneficiaryCheck(x, others, checks);

  const dupFrom = addDays(x.asOf, -x.settings.duplicateDays);
  const dups = others.filter(
    (t) =>
      (t.status === 'pending' || t.status === 'approved') &&
      t.request.type === req.type &&
      t.request.amount === req.amount &&
      t.request.currency === ccy &&
      t.request.beneficiaryAccount === account &&
      t.requestedOn > dupFrom,
  );
  checks.push({
    check: 'duplicate',
    flag: dups.length > 0 ? 'duplicate' : undefined,
    summary:
      dups.length > 0
        ? `same customer, amount and account as ${dups.map((t) => `${t.transferId} (${t.status}, ${t.requestedOn})`).join(', ')}`
        : `no request with the same amount and account in the last ${x.settings.duplicateDays} days`,
    figures: dups.length > 0 ? { duplicates: dups.map((t) => t.transferId).join(', ') } : {},
  });

  let exposure: GateExposure | undefined;
  if (f) {
    const s = f.receivables.summary;
    const fc = f.currency;
    const headroom = f.creditLimit === undefined ? undefined : f.creditLimit - f.exposure;
    exposure = {
      currency: fc,
      openAmount: formatMinor(s.openAmount, fc),
      overdueAmount: formatMinor(s.overdueAmount, fc),
      approvedTransfers: f.approvedTransfers > 0 ? formatMinor(f.approvedTransfers, fc) : undefined,
      exposure: formatMinor(f.exposure, fc),
      creditLimit: f.creditLimit === undefined ? undefined : formatMinor(f.creditLimit, fc),
      headroom: headroom === undefined ? undefined : formatMinor(headroom, fc),
      unappliedCash: formatMinor(s.unappliedCash, fc),
      aging: Object.fromEntries(AGING_BUCKETS.map((b) => [b, formatMinor(s.aging[b], fc)])),
      maxDaysPastDue: f.maxDaysPastDue,
    };
  }
  if (moves(req)) {
    const fc = f?.currency;
    const limit = f?.creditLimit;
    if (!f || limit === undefined)
      checks.push({
        check: 'limitHeadroom',
        flag: 'overLimit',
        summary: 'no credit limit on file: no headroom to pay out against',
        figures: {},
      });
    // Unknown headroom counts as none, as without a limit: the approver sees why.
    else if (fc !== ccy)
      checks.push({
        check: 'limitHeadroom',
        flag: 'overLimit',
        summary: `the credit limit is in ${fc}, the transfer in ${ccy}: the headroom cannot be checked`,
        figures: { creditLimit: formatMinor(limit, fc as string), currency: fc as string },
      });
    else {
      const headroom = limit - f.exposure;
      const over = req.amount > headroom;
      checks.push({
        check: 'limitHeadroom',
        flag: over ? 'overLimit' : undefined,
        summary: over
          ? `${formatMoney(req.amount, ccy)} exceeds the headroom of ${formatMoney(headroom, ccy)} (limit ${formatMoney(limit, ccy)}, exposure ${formatMoney(f.exposure, ccy)})`
          : `within the headroom of ${formatMoney(headroom, ccy)}`,
        figures: {
          amount: formatMinor(req.amount, ccy),
          creditLimit: formatMinor(limit, ccy),
          exposure: formatMinor(f.exposure, ccy),
          headroom: formatMinor(headroom, ccy),
        },
      });
    }
  }

  const cash = unappliedCashCheck({
    request: req,
    asOf: x.asOf,
    onFile: f && { currency: f.currency, unappliedCash: f.receivables.summary.unappliedCash },
    others,
  });
  if (cash) checks.push(cash.check);

  const flags = [...new Set(checks.flatMap((c) => (c.flag ? [c.flag] : [])))];
  return {
    asOf: x.asOf,
    flags,
    checks,
    riskClass: a?.riskClass,
    rating: a?.rating,
    score: a?.score,
    policyId: a?.policyId,
    ratingReasons: a
      ? [...a.factors]
          .sort((p, q) => pointsShare(p) - pointsShare(q))
          .map((fr) => ({ reason: explainFactor(fr).reason, points: fr.points, maxPoints: fr.maxPoints }))
      : [],
    exposure,
    activeAlerts: active.map((al) => ({ rule: al.rule, severity: al.severity, summary: al.summary })),
  };
}

/** The beneficiary account: first approved when, and has the customer's account changed lately? */
function beneficiaryCheck(x: GateInputs, others: readonly Transfer[], checks: GateCheck[]): void {
  const account = x.request.beneficiaryAccount;
  const approvedWith = others
    .filter((t) => t.status === 'approved' && t.request.beneficiaryAccount === account)
    .map((t) => (t.closedAt ?? t.requestedAt).slice(0, 10))
    .sort();
  const firstApproved = approvedWith[0];
  const coolingFrom = addDays(x.asOf, -x.settings.coolingOffDays);
  const changedLately = others
    .filter(
      (t) =>
        t.status === 'approved' &&
        t.request.type === 'bank_account_change' &&
        (t.closedAt ?? t.requestedAt).slice(0, 10) > coolingFrom,
    )
    .map((t) => t.request.beneficiaryAccount);
  const isNew = firstApproved === undefined || firstApproved > coolingFrom;
  const recentChange = changedLately.length > 0;
  checks.push({
    check: 'beneficiary',
    flag: isNew || recentChange ? 'newBeneficiary' : undefined,
    summary:
      firstApproved === undefined
        ? `account ${account} was never approved for this customer`
        : isNew
          ? `account ${account} was first approved ${daysBetween(firstApproved, x.asOf)} days ago, within the ${x.settings.coolingOffDays}-day cooling-off`
          : recentChange
            ? `the customer's bank account changed within the last ${x.settings.coolingOffDays} days`
            : `account ${account} approved since ${firstApproved}`,
    figures: {
      account,
      ...(firstApproved ? { firstApproved } : {}),
      coolingOffDays: x.settings.coolingOffDays,
      ...(recentChange ? { changedTo: changedLately.join(', ') } : {}),
    },
  });
}

/** The unapplied cash the customer's receivables hold as of the gate's day, in its credit currency. */
export interface CashOnFile {
  readonly currency: string;
  readonly unappliedCash: number;
}

export interface CashCheckInputs {
  readonly request: Pick<TransferRequest, 'type' | 'amount' | 'currency'>;
  readonly asOf: IsoDate;
  /** Undefined: nothing on file, so no unapplied cash either. */
  readonly onFile: CashOnFile | undefined;
  /** The customer's other transfers requested by `asOf`. */
  readonly others: readonly Transfer[];
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  refund: 'refund',
  overpayment_return: 'overpayment return',
};

/**
 * A refund or an overpayment return hands back the customer's own credit balance (DOMAIN: an
 * overpayment is kept as unapplied cash), so it should not exceed the unapplied cash the
 * receivables hold as of the day. The receivables are built from the payments received and never
 * see a return leave, so returns already approved are taken off what is left, and returns still
 * pending are added to the amount: two requests for the same balance are not both within it. A
 * request in another currency than the credit currency cannot be compared, and is flagged as such
 * (a check that cannot be made never passes). `problem` is what the amount field is told when the
 * approval policy refuses such a request; undefined within the cash.
 */
export function unappliedCashCheck(
  x: CashCheckInputs,
): { readonly check: GateCheck; readonly problem?: string | undefined } | undefined {
  const { request: req, asOf, onFile } = x;
  if (!handsBackCash(req.type)) return undefined;
  const ccy = req.currency;
  const what = `${TYPE_WORDS[req.type]} ${formatMoney(req.amount, ccy)}`;
  if (onFile && onFile.currency !== ccy) {
    const held = formatMoney(onFile.unappliedCash, onFile.currency);
    return {
      check: {
        check: 'unappliedCash',
        flag: 'aboveUnappliedCash',
        summary: `${what} cannot be compared with the customer's unapplied cash of ${held} as of ${asOf}: it is kept in ${onFile.currency}`,
        figures: {
          amount: formatMinor(req.amount, ccy),
          unappliedCash: `${formatMinor(onFile.unappliedCash, onFile.currency)} ${onFile.currency}`,
        },
      },
      problem: `is in ${ccy} and cannot be compared with the customer's unapplied cash of ${held} as of ${asOf}: ask for it in ${onFile.currency}`,
    };
  }
  const sum = (ts: readonly Transfer[]) => ts.reduce((n, t) => n + t.request.amount, 0);
  const returns = x.others.filter((t) => handsBackCash(t.request.type) && t.request.currency === ccy);
  const approved = returns.filter((t) => t.status === 'approved' && (t.approvedOn ?? t.requestedOn) <= asOf);
  const pending = returns.filter((t) => t.status === 'pending');
  const held = onFile?.unappliedCash ?? 0;
  const left = Math.max(0, held - sum(approved));
  const asked = sum(pending);
  const above = req.amount + asked > left;
  const m = (v: number) => formatMinor(v, ccy);
  /** An amount in a sentence; `m` is the figures' plain decimal. */
  const say = (v: number) => formatMoney(v, ccy);
  const ids = (ts: readonly Transfer[]) => ts.map((t) => t.transferId).join(', ');
  const subject = asked > 0 ? `${what} and the pending ${ids(pending)} (${say(asked)}) are` : `${what} is`;
  const cash = `the customer's unapplied cash of ${say(left)} as of ${asOf}`;
  const basis = [
    ...(onFile ? [] : ['no receivables on file']),
    ...(approved.length > 0
      ? [
          `${say(held)} received and not applied, ${say(sum(approved))} of it already handed back by ${ids(approved)}`,
        ]
      : []),
  ];
  const why = basis.length > 0 ? ` (${basis.join('; ')})` : '';
  return {
    check: {
      check: 'unappliedCash',
      flag: above ? 'aboveUnappliedCash' : undefined,
      summary: `${subject} ${above ? 'above' : 'within'} ${cash}${why}`,
      figures: {
        amount: m(req.amount),
        currency: ccy,
        unappliedCash: m(held),
        ...(approved.length > 0 ? { handedBack: m(sum(approved)) } : {}),
        left: m(left),
        ...(asked > 0 ? { pending: m(asked) } : {}),
      },
    },
    problem: above
      ? `${asked > 0 ? `with the pending ${ids(pending)} (${say(asked)}) ` : ''}is above ${cash}${why}`
      : undefined,
  };
}

/** The days ahead the gate's expected cash looks (README "Predicted payment dates"). */
export const GATE_CASH_DAYS = 30;

/**
 * The customer's open invoices in its credit currency expected (by the payment-date model, from
 * the customer's own settled invoices as known on the day: no segment, the gate reads one
 * customer) within `GATE_CASH_DAYS` days of the gate's day. Evidence only: no flag.
 */
export function expectedCashCheck(customerId: string, f: Figures, asOf: IsoDate): GateCheck {
  const fc = f.currency;
  const rec = f.receivables;
  const open = rec.summary.openAmount;
  if (open <= 0)
    return {
      check: 'expectedCash',
      summary: `nothing open in ${fc}: no cash expected`,
      figures: {
        expectedCash: formatMinor(0, fc),
        openAmount: formatMinor(0, fc),
        currency: fc,
        by: addDays(asOf, GATE_CASH_DAYS),
      },
    };
  const records = invoiceRecordsOf(rec, customerId);
  const p = predictCustomer({ customerId, currency: fc, invoices: records }, asOf);
  const inCcy = p.invoices.filter((i) => i.currency === fc);
  const soon = inCcy.filter((i) => daysBetween(asOf, i.expected) <= GATE_CASH_DAYS);
  const within = soon.length;
  const expected = soon.reduce((t, i) => t + i.open, 0);
  const total = inCcy.reduce((t, i) => t + i.open, 0);
  const basis =
    inCcy.length > 0 && inCcy.every((i) => i.basis === 'terms')
      ? 'no settled invoice of the customer to go by: each open invoice expected on its due date (tomorrow once due)'
      : "from the customer's own settled invoices";
  return {
    check: 'expectedCash',
    summary: `${formatMoney(expected, fc)} of the ${formatMoney(total, fc)} open expected by ${addDays(asOf, GATE_CASH_DAYS)} (${within} of ${inCcy.length} open invoice${inCcy.length === 1 ? '' : 's'}), ${basis}`,
    figures: {
      expectedCash: formatMinor(expected, fc),
      openAmount: formatMinor(total, fc),
      currency: fc,
      by: addDays(asOf, GATE_CASH_DAYS),
      invoicesExpected: within,
      openInvoices: inCcy.length,
    },
  };
}
