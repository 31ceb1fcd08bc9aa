import { describe, expect, it } from 'vitest';
import { addDays } from '../../functions/core/dates.ts';
import type { Customer, Invoice } from '../../functions/core/records.ts';
import type { Alert, AlertStatus } from '../../functions/credit/alerts.ts';
import { assess, type CreditFile, explainFactor, pointsText } from '../../functions/credit/assess.ts';
import {
  NUMERIC_FACTORS,
  policyInForce,
  type RuleName,
  type Severity,
} from '../../functions/credit/policy.ts';
import {
  type ApprovalPolicy,
  levelsNeeded,
  parseApprovalPolicy,
} from '../../functions/transfers/approval-policy.ts';
import {
  type GateCheck,
  type GateCheckName,
  type GateInputs,
  riskGate,
  unappliedCashCheck,
} from '../../functions/transfers/gate.ts';
import type { Transfer, TransferStatus } from '../../functions/transfers/ports.ts';
import type { TransferRequest } from '../../functions/transfers/request.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT, DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { inv, pay } from './credit-fixtures.ts';

// ---- fixtures (customer C1, EUR, amounts in cents) ----

const creditPolicy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
const AS_OF = '2026-06-30';
const ACC = 'DE89370400440532013000';
const OTHER_ACC = 'GB82WEST12345698765432';
const THIS = 'TR-THIS0000000000000000000000';

/** The shipped defaults, spelled out (checked against the shipped approval policy below). */
const SETTINGS: ApprovalPolicy['gate'] = {
  coolingOffDays: 30,
  duplicateDays: 30,
  abnormalZ: 3.5,
  minHistory: 5,
  alertSeverity: 'warning',
  refuseAboveUnappliedCash: false,
};

function req(over: Partial<TransferRequest> = {}): TransferRequest {
  return {
    customerId: 'C1',
    // A rebate: the unapplied-cash check (refunds and overpayment returns only) has its own tests.
    type: 'rebate',
    amount: 100_000, // 1,000.00 EUR
    currency: 'EUR',
    beneficiaryName: 'Acme Trading',
    beneficiaryAccount: ACC,
    reason: 'credit note refunded',
    requester: 'rita',
    ...over,
  };
}

/** A transfer of C1 requested `daysAgo` days before AS_OF; approved ones closed the same day. */
function transfer(
  transferId: string,
  daysAgo: number,
  status: TransferStatus,
  over: Partial<TransferRequest> = {},
  extra: Partial<Transfer> = {},
): Transfer {
  const on = addDays(AS_OF, -daysAgo);
  return {
    transferId,
    request: req(over),
    requestedAt: `${on}T09:00:00.000Z`,
    requestedOn: on,
    status,
    ...(status === 'pending' ? {} : { closedAt: `${on}T15:00:00.000Z` }),
    ...extra,
  };
}

function alert(rule: RuleName, severity: Severity, status: AlertStatus = 'open'): Alert {
  return {
    alertId: `C1/${rule}/2026-06-01T00:00:00.000Z`,
    customerId: 'C1',
    rule,
    status,
    severity,
    action: 'review',
    summary: `${rule} at ${severity}`,
    evidence: {},
    policyId: creditPolicy.id,
    openedAt: '2026-06-01T00:00:00.000Z',
    openedAsOf: '2026-06-01',
    seenAsOf: AS_OF,
    notifiedSeverity: severity,
    history: [],
  };
}

function customer(over: Partial<Customer> = {}): Customer {
  return {
    customerId: 'C1',
    name: 'Acme Trading',
    industry: 'Wholesale',
    currency: 'EUR',
    creditLimit: 1_000_000, // 10,000.00 EUR
    ...over,
  };
}

function creditFile(invoices: Invoice[], cust: Customer | undefined = customer()): CreditFile {
  return {
    customerId: 'C1',
    customer: cust,
    currency: 'EUR',
    invoices,
    payments: [],
    financials: [],
    guarantees: [],
    insurance: [],
    scores: [],
  };
}

/**
 * An open invoice `dpd` days past due as of AS_OF (negative: not yet due), issued 30 days before
 * its due date but never after AS_OF (an invoice issued later does not exist yet as of AS_OF).
 */
function openInvoice(id: string, dpd: number, amount: number): Invoice {
  const due = addDays(AS_OF, -dpd);
  const issued = addDays(due, -30);
  return inv(id, issued > AS_OF ? addDays(AS_OF, -1) : issued, due, amount);
}

/** One invoice of 4000.00 not due for 31 days: exposure 4000.00 against a 10000.00 limit, headroom 6000.00. */
const cleanAssessment = assess(creditFile([openInvoice('I1', -31, 400_000)]), AS_OF, creditPolicy);

function inputs(over: Partial<GateInputs> = {}): GateInputs {
  return {
    transferId: THIS,
    request: req(),
    asOf: AS_OF,
    assessment: cleanAssessment,
    alerts: [],
    history: [],
    settings: SETTINGS,
    ...over,
  };
}

function check(x: GateInputs, name: GateCheckName): GateCheck | undefined {
  const hits = riskGate(x).checks.filter((c) => c.check === name);
  expect(hits.length).toBeLessThanOrEqual(1);
  return hits[0];
}

function mustCheck(x: GateInputs, name: GateCheckName): GateCheck {
  const c = check(x, name);
  if (!c) throw new Error(`no ${name} check`);
  return c;
}

/** Five approved EUR rebates of 1000.00 .. 1400.00 to the known account, long ago. */
function fiveApproved(amounts = [100_000, 110_000, 120_000, 130_000, 140_000]): Transfer[] {
  return amounts.map((amount, i) => transfer(`TR-H${i}`, 200 + i, 'approved', { amount }));
}

// ---- settings ----

describe('gate settings', () => {
  it('the shipped approval policy carries the defaults these tests use', () => {
    const r = parseApprovalPolicy(DEFAULT_APPROVAL_POLICY_DOCUMENT);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.policy.gate).toEqual(SETTINGS);
  });
});

// ---- creditHold ----

describe('riskGate: creditHold', () => {
  const hold = { since: '2026-06-20', by: 'collections', reason: '"hold" reached: 1,200.00 EUR demanded' };

  it('a customer on credit hold raises the flag, and the shipped policy adds two levels for it', () => {
    const c = mustCheck(inputs({ creditHold: hold }), 'creditHold');
    expect(c).toEqual({
      check: 'creditHold',
      flag: 'creditHold',
      summary: 'on credit hold since 2026-06-20 (collections): "hold" reached: 1,200.00 EUR demanded',
      figures: { since: '2026-06-20', by: 'collections' },
    });
    const r = parseApprovalPolicy(DEFAULT_APPROVAL_POLICY_DOCUMENT);
    if (!r.ok) throw new Error('the shipped approval policy is invalid');
    const req = { type: 'refund' as const, amount: 100_000, currency: 'EUR' };
    const without = levelsNeeded(req, { riskClass: 'low', flags: [] }, r.policy);
    const held = levelsNeeded(
      req,
      { riskClass: 'low', flags: riskGate(inputs({ creditHold: hold })).flags },
      r.policy,
    );
    // 1,000.00 EUR from a low-risk customer: one level; on hold, three (with the reasons said).
    expect(without).toMatchObject({ levels: 1 });
    expect(held).toMatchObject({ levels: 3 });
    expect('why' in held && held.why.join(' ')).toContain('creditHold');
  });

  it('a customer not on hold shows no such check and no flag', () => {
    expect(riskGate(inputs()).checks.some((c) => c.check === 'creditHold')).toBe(false);
    expect(riskGate(inputs()).flags).not.toContain('creditHold');
  });
});

// ---- riskClass ----

describe('riskGate: riskClass', () => {
  it('states the rating, score and risk class of the assessment, without a flag', () => {
    const a = cleanAssessment;
    // The shipped scorecard on a customer with one open, not-yet-due invoice and nothing else:
    // points 5+5+4 (no settled invoices, neutral) + 12+8+8 (0 days past due, 0% overdue, 40% limit
    // use) + 2+2+2+4 (no statement, neutral) + 0 (0 months of history) + 2 (no external score,
    // neutral) + 0 (no cover) + 2 (Wholesale, medium) = 56 of 10+10+8+12+8+8+5+4+5+10+6+5+5+4 = 100:
    // score 56, rating C (50 <= 56 < 65), risk class medium.
    expect(a.factors.reduce((t, f) => t + f.points, 0)).toBe(56);
    expect(a.factors.reduce((t, f) => t + f.maxPoints, 0)).toBe(100);
    expect([a.rating, a.score, a.riskClass]).toEqual(['C', 56, 'medium']);
    const c = mustCheck(inputs(), 'riskClass');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe('rating C (score 56), medium risk, as of 2026-06-30');
    expect(c.figures).toEqual({ rating: 'C', score: 56, riskClass: 'medium', policy: creditPolicy.id });
    expect(creditPolicy.id).toMatch(/^default-.+\+[0-9a-f]{8}$/);
    const report = riskGate(inputs());
    expect(report.rating).toBe('C');
    expect(report.score).toBe(56);
    expect(report.riskClass).toBe('medium');
    expect(report.policyId).toBe(creditPolicy.id);
  });

  it('without an assessment says not rated and treated as high risk, still without a flag', () => {
    const c = mustCheck(inputs({ assessment: undefined }), 'riskClass');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe('not rated: no receivables or master data on file; treated as high risk');
    expect(c.figures).toEqual({});
    const report = riskGate(inputs({ assessment: undefined }));
    expect(report.riskClass).toBeUndefined();
    expect(report.rating).toBeUndefined();
    expect(report.score).toBeUndefined();
    expect(report.policyId).toBeUndefined();
    expect(report.ratingReasons).toEqual([]);
    expect(report.exposure).toBeUndefined();
  });
});

// ---- openAlerts ----

describe('riskGate: openAlerts', () => {
  it('no alerts: no flag', () => {
    const c = mustCheck(inputs(), 'openAlerts');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe('no active alerts');
    expect(c.figures).toEqual({ active: 0, atOrAbove: 0 });
  });

  it('only an info alert: counted as active, but below the warning threshold, so no flag', () => {
    const c = mustCheck(inputs({ alerts: [alert('limitUse', 'info')] }), 'openAlerts');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe('1 active alert, 0 at warning or above');
    expect(c.figures).toEqual({ active: 1, atOrAbove: 0 });
  });

  it('a warning alert (exactly the threshold) flags, naming the rule and severity', () => {
    const c = mustCheck(inputs({ alerts: [alert('daysPastDue', 'warning')] }), 'openAlerts');
    expect(c.flag).toBe('openAlerts');
    expect(c.summary).toBe('1 active alert, 1 at warning or above');
    expect(c.figures).toEqual({ active: 1, atOrAbove: 1, rules: 'daysPastDue (warning)' });
  });

  it('acknowledged and snoozed alerts are active too; only those at or above the threshold are named', () => {
    const c = mustCheck(
      inputs({
        alerts: [
          alert('limitUse', 'info', 'acknowledged'),
          alert('daysPastDue', 'critical', 'snoozed'),
          alert('overdueAmount', 'high'),
        ],
      }),
      'openAlerts',
    );
    expect(c.flag).toBe('openAlerts');
    expect(c.summary).toBe('3 active alerts, 2 at warning or above');
    expect(c.figures).toEqual({
      active: 3,
      atOrAbove: 2,
      rules: 'daysPastDue (critical), overdueAmount (high)',
    });
  });

  it('resolved alerts are ignored, whatever their severity', () => {
    const c = mustCheck(inputs({ alerts: [alert('daysPastDue', 'critical', 'resolved')] }), 'openAlerts');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe('no active alerts');
    expect(c.figures).toEqual({ active: 0, atOrAbove: 0 });
    expect(riskGate(inputs({ alerts: [alert('daysPastDue', 'critical', 'resolved')] })).activeAlerts).toEqual(
      [],
    );
  });

  it("settings.alertSeverity 'high': a warning no longer flags, a high one does", () => {
    const settings = { ...SETTINGS, alertSeverity: 'high' as const };
    const warn = mustCheck(inputs({ settings, alerts: [alert('daysPastDue', 'warning')] }), 'openAlerts');
    expect(warn.flag).toBeUndefined();
    expect(warn.summary).toBe('1 active alert, 0 at high or above');
    expect(warn.figures).toEqual({ active: 1, atOrAbove: 0 });

    const high = mustCheck(inputs({ settings, alerts: [alert('daysPastDue', 'high')] }), 'openAlerts');
    expect(high.flag).toBe('openAlerts');
    expect(high.summary).toBe('1 active alert, 1 at high or above');
    expect(high.figures).toEqual({ active: 1, atOrAbove: 1, rules: 'daysPastDue (high)' });
  });
});

// ---- overdueBalance ----

describe('riskGate: overdueBalance', () => {
  it('an invoice due today (0 days past due) is not overdue: no flag', () => {
    const a = assess(creditFile([openInvoice('I1', 0, 50_000)]), AS_OF, creditPolicy);
    const c = mustCheck(inputs({ assessment: a }), 'overdueBalance');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe('nothing overdue');
    expect(c.figures).toEqual({ overdueAmount: '0.00', currency: 'EUR', maxDaysPastDue: 0 });
  });

  it('an invoice 1 day past due flags with the overdue amount and the days past due', () => {
    const a = assess(
      creditFile([openInvoice('I1', -31, 400_000), openInvoice('I2', 1, 50_012)]),
      AS_OF,
      creditPolicy,
    );
    const c = mustCheck(inputs({ assessment: a }), 'overdueBalance');
    expect(c.flag).toBe('overdueBalance');
    expect(c.summary).toBe('500.12 EUR overdue, the oldest 1 day past due');
    expect(c.figures).toEqual({ overdueAmount: '500.12', currency: 'EUR', maxDaysPastDue: 1 });
  });

  it('no assessment: no flag, no receivables on file', () => {
    const c = mustCheck(inputs({ assessment: undefined }), 'overdueBalance');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe('no receivables on file');
    expect(c.figures).toEqual({});
  });
});

// ---- amountHistory ----

describe('riskGate: amountHistory', () => {
  it('fewer than minHistory approved earlier transfers: not judged, no flag', () => {
    const history = [
      ...fiveApproved().slice(0, 4),
      transfer('TR-PEND', 50, 'pending', { amount: 900_000 }),
      transfer('TR-REJ', 60, 'rejected', { amount: 900_000 }),
      transfer('TR-REC', 61, 'recalled', { amount: 900_000 }),
      transfer('TR-USD', 70, 'approved', { amount: 900_000, currency: 'USD' }),
      transfer('TR-BAC', 80, 'approved', { type: 'bank_account_change', amount: 0 }),
      transfer('TR-C2', 90, 'approved', { customerId: 'C2', amount: 900_000 }),
      transfer(THIS, 0, 'approved', { amount: 900_000 }),
    ];
    const c = mustCheck(inputs({ history, request: req({ amount: 5_000_000 }) }), 'amountHistory');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe(
      '4 earlier approved transfers in EUR: fewer than the 5 needed to judge the amount',
    );
    expect(c.figures).toEqual({ earlierTransfers: 4 });
  });

  it('one earlier transfer is worded in the singular', () => {
    const c = mustCheck(inputs({ history: fiveApproved().slice(0, 1) }), 'amountHistory');
    expect(c.summary).toBe('1 earlier approved transfer in EUR: fewer than the 5 needed to judge the amount');
    expect(c.figures).toEqual({ earlierTransfers: 1 });
  });

  // History 1000.00, 1100.00, 1200.00, 1300.00, 1400.00: median 120000; |x - median| = 20000, 10000,
  // 0, 10000, 20000, whose median (MAD) is 10000. z = 0.6745 (x - 120000) / 10000, so |z| = 3.5 at
  // |x - 120000| = 3.5 * 10000 / 0.6745 = 51890.29...: 171890 is just under, 171891 just over.
  const MEDIAN = 120_000;
  const MAD = 10_000;
  const z = (x: number) => (0.6745 * (x - MEDIAN)) / MAD;

  it('with 5 approved amounts: the robust z by hand, just under abnormalZ -> no flag', () => {
    const x = 171_890;
    expect(z(x)).toBeCloseTo(3.49998, 5);
    expect(z(x)).toBeLessThan(3.5);
    const c = mustCheck(inputs({ history: fiveApproved(), request: req({ amount: x }) }), 'amountHistory');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe('1,718.90 EUR against a usual 1,200.00 EUR: robust z 3.50');
    expect(c.figures).toEqual({ amount: '1718.90', median: '1200.00', robustZ: 3.5, earlierTransfers: 5 });
  });

  it('with 5 approved amounts: judged on the z shown (two decimals)', () => {
    // 171891: z 3.50005 shows as 3.50, which is not beyond 3.5.
    expect(z(171_891)).toBeCloseTo(3.50005, 5);
    const at = mustCheck(
      inputs({ history: fiveApproved(), request: req({ amount: 171_891 }) }),
      'amountHistory',
    );
    expect(at.flag).toBeUndefined();
    expect(at.summary).toBe('1,718.91 EUR against a usual 1,200.00 EUR: robust z 3.50');
    // 171980: z = 0.6745 * 51980 / 10000 = 3.506101 -> 3.51, beyond.
    const x = 171_980;
    expect(z(x)).toBeCloseTo(3.5061, 4);
    const c = mustCheck(inputs({ history: fiveApproved(), request: req({ amount: x }) }), 'amountHistory');
    expect(c.flag).toBe('abnormalAmount');
    expect(c.summary).toBe('1,719.80 EUR against a usual 1,200.00 EUR: robust z 3.51, beyond 3.5');
    expect(c.figures).toEqual({ amount: '1719.80', median: '1200.00', robustZ: 3.51, earlierTransfers: 5 });
  });

  it('far below the usual amount flags too (|z| is compared): 68020 over, 68109 under', () => {
    // 0.6745 * (68020 - 120000) / 10000 = -3.506101 -> -3.51; 68109 -> -3.50005 -> -3.50.
    expect(z(68_020)).toBeCloseTo(-3.5061, 4);
    const over = mustCheck(
      inputs({ history: fiveApproved(), request: req({ amount: 68_020 }) }),
      'amountHistory',
    );
    expect(over.flag).toBe('abnormalAmount');
    expect(over.summary).toBe('680.20 EUR against a usual 1,200.00 EUR: robust z -3.51, beyond 3.5');
    expect(over.figures.robustZ).toBe(-3.51);
    const under = mustCheck(
      inputs({ history: fiveApproved(), request: req({ amount: 68_109 }) }),
      'amountHistory',
    );
    expect(under.flag).toBeUndefined();
    expect(under.figures.robustZ).toBe(-3.5);
  });

  it('a clearly usual amount: z by hand, no flag', () => {
    // 0.6745 * (125000 - 120000) / 10000 = 0.33725 -> "0.34"
    const c = mustCheck(
      inputs({ history: fiveApproved(), request: req({ amount: 125_000 }) }),
      'amountHistory',
    );
    expect(c.flag).toBeUndefined();
    expect(c.figures).toEqual({ amount: '1250.00', median: '1200.00', robustZ: 0.34, earlierTransfers: 5 });
  });

  it('the same inputs judged by a lower abnormalZ flag', () => {
    const settings = { ...SETTINGS, abnormalZ: 0.3 };
    const c = mustCheck(
      inputs({ settings, history: fiveApproved(), request: req({ amount: 125_000 }) }),
      'amountHistory',
    );
    expect(c.flag).toBe('abnormalAmount');
    expect(c.summary).toBe('1,250.00 EUR against a usual 1,200.00 EUR: robust z 0.34, beyond 0.3');
  });

  it('MAD of zero with some spread: the mean absolute deviation stands in (x 1.2533)', () => {
    // 1000.00 x3, 2000.00, 3000.00: median 100000, deviations 0,0,0,100000,200000: MAD 0,
    // mean |dev| = 300000 / 5 = 60000; z = (x - 100000) / (1.2533 * 60000) = (x - 100000) / 75198.
    const history = fiveApproved([100_000, 100_000, 100_000, 200_000, 300_000]);
    const under = mustCheck(inputs({ history, request: req({ amount: 363_192 }) }), 'amountHistory');
    expect(under.flag).toBeUndefined();
    expect(under.figures.robustZ).toBe(Number((263_192 / 75_198).toFixed(2)));
    expect(under.figures.robustZ).toBe(3.5);
    // 363194 gives 3.50003, shown 3.50: not beyond. 364000 gives 264000 / 75198 = 3.5107 -> 3.51.
    expect(
      mustCheck(inputs({ history, request: req({ amount: 363_194 }) }), 'amountHistory').flag,
    ).toBeUndefined();
    const over = mustCheck(inputs({ history, request: req({ amount: 364_000 }) }), 'amountHistory');
    expect(over.flag).toBe('abnormalAmount');
    expect(over.figures.robustZ).toBe(3.51);
    expect(over.figures.median).toBe('1000.00');
  });

  it("every earlier amount the same and a different amount: 'unbounded' and flagged", () => {
    const history = fiveApproved([100_000, 100_000, 100_000, 100_000, 100_000]);
    const c = mustCheck(inputs({ history, request: req({ amount: 100_001 }) }), 'amountHistory');
    expect(c.flag).toBe('abnormalAmount');
    expect(c.summary).toBe(
      '1,000.01 EUR against a usual 1,000.00 EUR: robust z unbounded (every earlier transfer was the same amount), beyond 3.5',
    );
    expect(c.figures).toEqual({
      amount: '1000.01',
      median: '1000.00',
      robustZ: 'unbounded',
      earlierTransfers: 5,
    });
    const below = mustCheck(inputs({ history, request: req({ amount: 99_999 }) }), 'amountHistory');
    expect(below.flag).toBe('abnormalAmount');
    expect(below.figures.robustZ).toBe('unbounded');
  });

  it('every earlier amount the same and the same amount again: z 0, no flag', () => {
    const history = fiveApproved([100_000, 100_000, 100_000, 100_000, 100_000]);
    const c = mustCheck(inputs({ history, request: req({ amount: 100_000 }) }), 'amountHistory');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe('1,000.00 EUR against a usual 1,000.00 EUR: robust z 0.00');
    expect(c.figures.robustZ).toBe(0);
  });

  it('only approved transfers in the request currency count: USD history judges a USD request', () => {
    const usd = [100_000, 110_000, 120_000, 130_000, 140_000].map((amount, i) =>
      transfer(`TR-U${i}`, 100 + i, 'approved', { amount, currency: 'USD' }),
    );
    const eur = mustCheck(inputs({ history: usd, request: req({ amount: 171_891 }) }), 'amountHistory');
    expect(eur.flag).toBeUndefined();
    expect(eur.figures).toEqual({ earlierTransfers: 0 });
    const c = mustCheck(
      inputs({ history: usd, request: req({ amount: 171_980, currency: 'USD' }) }),
      'amountHistory',
    );
    expect(c.flag).toBe('abnormalAmount');
    expect(c.summary).toBe('1,719.80 USD against a usual 1,200.00 USD: robust z 3.51, beyond 3.5');
  });

  it('not present at all for a bank_account_change request', () => {
    const x = inputs({
      history: fiveApproved(),
      request: req({ type: 'bank_account_change', amount: 0 }),
    });
    expect(check(x, 'amountHistory')).toBeUndefined();
    expect(riskGate(x).checks.map((c) => c.check)).toEqual([
      'riskClass',
      'openAlerts',
      'overdueBalance',
      'expectedCash',
      'beneficiary',
      'duplicate',
    ]);
  });
});

// ---- beneficiary ----

describe('riskGate: beneficiary', () => {
  it('an account never approved for the customer flags', () => {
    const c = mustCheck(inputs(), 'beneficiary');
    expect(c.flag).toBe('newBeneficiary');
    expect(c.summary).toBe(`account ${ACC} was never approved for this customer`);
    expect(c.figures).toEqual({ account: ACC, coolingOffDays: 30 });
  });

  it('pending, rejected and recalled transfers to the account do not make it approved', () => {
    const history = [
      transfer('TR-P', 100, 'pending'),
      transfer('TR-R', 101, 'rejected'),
      transfer('TR-X', 102, 'recalled'),
    ];
    const c = mustCheck(inputs({ history }), 'beneficiary');
    expect(c.flag).toBe('newBeneficiary');
    expect(c.summary).toBe(`account ${ACC} was never approved for this customer`);
  });

  it('first approved 10 days ago: still within the 30-day cooling-off, flags', () => {
    const c = mustCheck(inputs({ history: [transfer('TR-A', 10, 'approved')] }), 'beneficiary');
    expect(c.flag).toBe('newBeneficiary');
    expect(c.summary).toBe(`account ${ACC} was first approved 10 days ago, within the 30-day cooling-off`);
    expect(c.figures).toEqual({ account: ACC, firstApproved: '2026-06-20', coolingOffDays: 30 });
  });

  it('first approved 29 days ago: still new', () => {
    const c = mustCheck(inputs({ history: [transfer('TR-A', 29, 'approved')] }), 'beneficiary');
    expect(c.flag).toBe('newBeneficiary');
    expect(c.summary).toBe(`account ${ACC} was first approved 29 days ago, within the 30-day cooling-off`);
  });

  it('first approved exactly 30 days ago (= coolingOffDays): no longer new, no flag', () => {
    // The rule: new while firstApproved > asOf - coolingOffDays; 2026-05-31 is not after 2026-05-31.
    const c = mustCheck(inputs({ history: [transfer('TR-A', 30, 'approved')] }), 'beneficiary');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe(`account ${ACC} approved since 2026-05-31`);
    expect(c.figures).toEqual({ account: ACC, firstApproved: '2026-05-31', coolingOffDays: 30 });
  });

  it('first approved 31 days ago: no flag', () => {
    const c = mustCheck(inputs({ history: [transfer('TR-A', 31, 'approved')] }), 'beneficiary');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe(`account ${ACC} approved since 2026-05-30`);
    expect(c.figures).toEqual({ account: ACC, firstApproved: '2026-05-30', coolingOffDays: 30 });
  });

  it('the first approval counts, not the latest; it is dated by closedAt, else requestedAt', () => {
    const history = [
      transfer('TR-NEW', 3, 'approved'),
      // Requested 40 days ago but approved (closed) only 20 days ago: counts from its approval.
      transfer('TR-LATE', 40, 'approved', {}, { closedAt: `${addDays(AS_OF, -20)}T08:00:00.000Z` }),
    ];
    const c = mustCheck(inputs({ history }), 'beneficiary');
    expect(c.flag).toBe('newBeneficiary');
    expect(c.figures.firstApproved).toBe('2026-06-10');
    expect(c.summary).toBe(`account ${ACC} was first approved 20 days ago, within the 30-day cooling-off`);

    const noClose = transfer('TR-OLD', 45, 'approved', {}, { closedAt: undefined });
    const old = mustCheck(inputs({ history: [...history, noClose] }), 'beneficiary');
    expect(old.flag).toBeUndefined();
    expect(old.figures.firstApproved).toBe('2026-05-16');
  });

  it('a cooling-off of 0 days: an account approved the day before is no longer new', () => {
    const settings = { ...SETTINGS, coolingOffDays: 0 };
    const yesterday = mustCheck(
      inputs({ settings, history: [transfer('TR-A', 1, 'approved')] }),
      'beneficiary',
    );
    expect(yesterday.flag).toBeUndefined();
    // Approved the same day: firstApproved (2026-06-30) > asOf - 0 is false as well.
    const today = mustCheck(inputs({ settings, history: [transfer('TR-A', 0, 'approved')] }), 'beneficiary');
    expect(today.flag).toBeUndefined();
  });

  it('an approved bank_account_change of the customer 5 days ago flags even an old account', () => {
    const history = [
      transfer('TR-OLD', 200, 'approved'),
      transfer('TR-BAC', 5, 'approved', {
        type: 'bank_account_change',
        amount: 0,
        beneficiaryAccount: OTHER_ACC,
      }),
    ];
    const c = mustCheck(inputs({ history }), 'beneficiary');
    expect(c.flag).toBe('newBeneficiary');
    expect(c.summary).toBe("the customer's bank account changed within the last 30 days");
    expect(c.figures).toEqual({
      account: ACC,
      firstApproved: addDays(AS_OF, -200),
      coolingOffDays: 30,
      changedTo: OTHER_ACC,
    });
  });

  it('a bank_account_change exactly 30 days ago, or one still pending or rejected, does not flag', () => {
    const old = transfer('TR-OLD', 200, 'approved');
    const bac = { type: 'bank_account_change' as const, amount: 0, beneficiaryAccount: OTHER_ACC };
    for (const t of [
      transfer('TR-BAC', 30, 'approved', bac),
      transfer('TR-BAC', 5, 'pending', bac),
      transfer('TR-BAC', 5, 'rejected', bac),
    ]) {
      const c = mustCheck(inputs({ history: [old, t] }), 'beneficiary');
      expect(c.flag).toBeUndefined();
      expect(c.summary).toBe(`account ${ACC} approved since ${addDays(AS_OF, -200)}`);
    }
    const recent = mustCheck(
      inputs({ history: [old, transfer('TR-BAC', 29, 'approved', bac)] }),
      'beneficiary',
    );
    expect(recent.flag).toBe('newBeneficiary');
  });

  it("other customers' transfers never count, neither as approvals nor as account changes", () => {
    const history = [
      transfer('TR-C2', 200, 'approved', { customerId: 'C2' }),
      transfer('TR-C2B', 5, 'approved', {
        customerId: 'C2',
        type: 'bank_account_change',
        amount: 0,
        beneficiaryAccount: OTHER_ACC,
      }),
    ];
    const never = mustCheck(inputs({ history }), 'beneficiary');
    expect(never.flag).toBe('newBeneficiary');
    expect(never.summary).toBe(`account ${ACC} was never approved for this customer`);
    expect(never.figures).toEqual({ account: ACC, coolingOffDays: 30 });

    const withOld = mustCheck(
      inputs({ history: [...history, transfer('TR-OLD', 200, 'approved')] }),
      'beneficiary',
    );
    expect(withOld.flag).toBeUndefined();
    expect(withOld.figures).toEqual({
      account: ACC,
      firstApproved: addDays(AS_OF, -200),
      coolingOffDays: 30,
    });
  });

  it('the transfer itself (same transferId in the history) is skipped', () => {
    const itself = transfer(THIS, 200, 'approved');
    const c = mustCheck(inputs({ history: [itself] }), 'beneficiary');
    expect(c.flag).toBe('newBeneficiary');
    expect(c.summary).toBe(`account ${ACC} was never approved for this customer`);
  });

  it('a bank_account_change request to a never-approved account flags as new', () => {
    const c = mustCheck(
      inputs({
        request: req({ type: 'bank_account_change', amount: 0, beneficiaryAccount: OTHER_ACC }),
        history: [transfer('TR-OLD', 200, 'approved')],
      }),
      'beneficiary',
    );
    expect(c.flag).toBe('newBeneficiary');
    expect(c.summary).toBe(`account ${OTHER_ACC} was never approved for this customer`);
  });
});

// ---- duplicate ----

describe('riskGate: duplicate', () => {
  it('nothing alike: no flag', () => {
    const c = mustCheck(inputs(), 'duplicate');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe('no request with the same amount and account in the last 30 days');
    expect(c.figures).toEqual({});
  });

  it('a pending request alike 5 days ago flags, naming it', () => {
    const c = mustCheck(inputs({ history: [transfer('TR-DUP', 5, 'pending')] }), 'duplicate');
    expect(c.flag).toBe('duplicate');
    expect(c.summary).toBe('same customer, amount and account as TR-DUP (pending, 2026-06-25)');
    expect(c.figures).toEqual({ duplicates: 'TR-DUP' });
  });

  it('an approved one alike flags; several are all named', () => {
    const c = mustCheck(
      inputs({ history: [transfer('TR-D1', 2, 'approved'), transfer('TR-D2', 29, 'pending')] }),
      'duplicate',
    );
    expect(c.flag).toBe('duplicate');
    expect(c.summary).toBe(
      'same customer, amount and account as TR-D1 (approved, 2026-06-28), TR-D2 (pending, 2026-06-01)',
    );
    expect(c.figures).toEqual({ duplicates: 'TR-D1, TR-D2' });
  });

  it('rejected, recalled, expired and refused ones do not count', () => {
    for (const status of ['rejected', 'recalled', 'expired', 'refused'] as const) {
      const c = mustCheck(inputs({ history: [transfer('TR-DUP', 5, status)] }), 'duplicate');
      expect(c.flag).toBeUndefined();
      expect(c.figures).toEqual({});
    }
  });

  it('a different amount (by one cent), account, currency, type or customer does not count', () => {
    for (const over of [
      { amount: 100_001 },
      { amount: 99_999 },
      { beneficiaryAccount: OTHER_ACC },
      { currency: 'USD' },
      { type: 'refund' as const },
      { customerId: 'C2' },
    ]) {
      const c = mustCheck(inputs({ history: [transfer('TR-DUP', 5, 'pending', over)] }), 'duplicate');
      expect(c.flag).toBeUndefined();
    }
  });

  it('the window: 29 days ago counts, exactly 30 days ago (= duplicateDays) and older do not', () => {
    expect(mustCheck(inputs({ history: [transfer('TR-DUP', 29, 'pending')] }), 'duplicate').flag).toBe(
      'duplicate',
    );
    // requestedOn must be after asOf - duplicateDays: 2026-05-31 is not after 2026-05-31.
    expect(
      mustCheck(inputs({ history: [transfer('TR-DUP', 30, 'pending')] }), 'duplicate').flag,
    ).toBeUndefined();
    expect(
      mustCheck(inputs({ history: [transfer('TR-DUP', 60, 'approved')] }), 'duplicate').flag,
    ).toBeUndefined();
  });

  it('the transfer itself, pending in the history, is not its own duplicate', () => {
    const c = mustCheck(inputs({ history: [transfer(THIS, 0, 'pending')] }), 'duplicate');
    expect(c.flag).toBeUndefined();
    expect(c.figures).toEqual({});
  });
});

// ---- limitHeadroom ----

describe('riskGate: limitHeadroom', () => {
  // cleanAssessment: limit 1_000_000, exposure 400_000, headroom 1_000_000 - 400_000 = 600_000.
  it('the clean assessment has exposure 4000.00 against a limit of 10000.00', () => {
    expect(cleanAssessment.figures.exposure).toBe(400_000);
    expect(cleanAssessment.figures.creditLimit).toBe(1_000_000);
  });

  it('an amount equal to the headroom: no flag', () => {
    const c = mustCheck(inputs({ request: req({ amount: 600_000 }) }), 'limitHeadroom');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe('within the headroom of 6,000.00 EUR');
    expect(c.figures).toEqual({
      amount: '6000.00',
      creditLimit: '10000.00',
      exposure: '4000.00',
      headroom: '6000.00',
    });
  });

  it('the headroom plus one minor unit: overLimit', () => {
    const c = mustCheck(inputs({ request: req({ amount: 600_001 }) }), 'limitHeadroom');
    expect(c.flag).toBe('overLimit');
    expect(c.summary).toBe(
      '6,000.01 EUR exceeds the headroom of 6,000.00 EUR (limit 10,000.00 EUR, exposure 4,000.00 EUR)',
    );
    expect(c.figures).toEqual({
      amount: '6000.01',
      creditLimit: '10000.00',
      exposure: '4000.00',
      headroom: '6000.00',
    });
  });

  it('exposure above the limit: a negative headroom, any amount flags', () => {
    // 12000.00 open against 10000.00: headroom 1_000_000 - 1_200_000 = -200_000.
    const a = assess(creditFile([openInvoice('I1', -31, 1_200_000)]), AS_OF, creditPolicy);
    const c = mustCheck(inputs({ assessment: a, request: req({ amount: 1 }) }), 'limitHeadroom');
    expect(c.flag).toBe('overLimit');
    expect(c.summary).toBe(
      '0.01 EUR exceeds the headroom of -2,000.00 EUR (limit 10,000.00 EUR, exposure 12,000.00 EUR)',
    );
  });

  it('no assessment: overLimit', () => {
    const c = mustCheck(inputs({ assessment: undefined }), 'limitHeadroom');
    expect(c.flag).toBe('overLimit');
    expect(c.summary).toBe('no credit limit on file: no headroom to pay out against');
    expect(c.figures).toEqual({});
  });

  it('an assessment without a credit limit: overLimit', () => {
    const a = assess(
      creditFile([openInvoice('I1', -31, 400_000)], customer({ creditLimit: undefined })),
      AS_OF,
      creditPolicy,
    );
    expect(a.figures.creditLimit).toBeUndefined();
    const c = mustCheck(inputs({ assessment: a, request: req({ amount: 1 }) }), 'limitHeadroom');
    expect(c.flag).toBe('overLimit');
    expect(c.summary).toBe('no credit limit on file: no headroom to pay out against');
    const report = riskGate(inputs({ assessment: a }));
    expect(report.exposure?.creditLimit).toBeUndefined();
    expect(report.exposure?.headroom).toBeUndefined();
  });

  it('a limit in another currency: the headroom cannot be checked, flagged as without a limit', () => {
    const c = mustCheck(inputs({ request: req({ amount: 1, currency: 'USD' }) }), 'limitHeadroom');
    expect(c.flag).toBe('overLimit');
    expect(c.summary).toBe('the credit limit is in EUR, the transfer in USD: the headroom cannot be checked');
    expect(c.figures).toEqual({ creditLimit: '10000.00', currency: 'EUR' });
  });

  it('absent for a bank_account_change, even without an assessment', () => {
    const x = inputs({ assessment: undefined, request: req({ type: 'bank_account_change', amount: 0 }) });
    expect(check(x, 'limitHeadroom')).toBeUndefined();
    expect(riskGate(x).flags).not.toContain('overLimit');
  });
});

// ---- unappliedCash ----

describe('riskGate: unappliedCash (refunds and overpayment returns)', () => {
  /**
   * Invoice I0 of 3000.00 paid by P1 with 5000.00 naming it: 2000.00 is kept as unapplied cash
   * (DOMAIN: an overpayment is never dropped); I1 of 4000.00 is open and not yet due.
   */
  const cashFile: CreditFile = {
    ...creditFile([inv('I0', '2026-04-01', '2026-05-01', 300_000), openInvoice('I1', -31, 400_000)]),
    payments: [pay('P1', '2026-05-02', 500_000, ['I0'])],
  };
  const withCash = assess(cashFile, AS_OF, creditPolicy);
  const refund = (amount: number, over: Partial<TransferRequest> = {}) =>
    req({ type: 'refund', amount, ...over });
  const cashCheck = (over: Partial<GateInputs>) =>
    mustCheck(inputs({ assessment: withCash, ...over }), 'unappliedCash');

  it('the fixture holds 2,000.00 EUR of unapplied cash, and the clean one none', () => {
    expect(withCash.figures.receivables.summary.unappliedCash).toBe(200_000);
    expect(cleanAssessment.figures.receivables.summary.unappliedCash).toBe(0);
  });

  it('a refund equal to the unapplied cash is within it: no flag, the figures shown', () => {
    const c = cashCheck({ request: refund(200_000) });
    expect(c).toEqual({
      check: 'unappliedCash',
      flag: undefined,
      summary: "refund 2,000.00 EUR is within the customer's unapplied cash of 2,000.00 EUR as of 2026-06-30",
      figures: { amount: '2000.00', currency: 'EUR', unappliedCash: '2000.00', left: '2000.00' },
    });
  });

  it('one cent above: flagged in words and figures, and the flag is in the report', () => {
    const x = inputs({ assessment: withCash, request: refund(200_001) });
    const c = mustCheck(x, 'unappliedCash');
    expect(c.flag).toBe('aboveUnappliedCash');
    expect(c.summary).toBe(
      "refund 2,000.01 EUR is above the customer's unapplied cash of 2,000.00 EUR as of 2026-06-30",
    );
    expect(riskGate(x).flags).toContain('aboveUnappliedCash');
  });

  it('no unapplied cash at all: any overpayment return is above 0.00', () => {
    const c = mustCheck(inputs({ request: req({ type: 'overpayment_return', amount: 1 }) }), 'unappliedCash');
    expect(c.flag).toBe('aboveUnappliedCash');
    expect(c.summary).toBe(
      "overpayment return 0.01 EUR is above the customer's unapplied cash of 0.00 EUR as of 2026-06-30",
    );
  });

  it('returns already approved are taken off what is left (the receivables never see them leave)', () => {
    const handedBack = transfer('TR-R1', 20, 'approved', { type: 'overpayment_return', amount: 150_000 });
    const within = cashCheck({ history: [handedBack], request: refund(50_000) });
    expect(within.flag).toBeUndefined();
    expect(within.figures).toEqual({
      amount: '500.00',
      currency: 'EUR',
      unappliedCash: '2000.00',
      handedBack: '1500.00',
      left: '500.00',
    });
    const above = cashCheck({ history: [handedBack], request: refund(50_001) });
    expect(above.flag).toBe('aboveUnappliedCash');
    expect(above.summary).toBe(
      "refund 500.01 EUR is above the customer's unapplied cash of 500.00 EUR as of 2026-06-30 (2,000.00 EUR received and not applied, 1,500.00 EUR of it already handed back by TR-R1)",
    );
    // Handed back beyond the cash: nothing is left (never a negative balance).
    const over = cashCheck({
      history: [{ ...handedBack, request: { ...handedBack.request, amount: 250_000 } }],
      request: refund(1),
    });
    expect(over.figures.left).toBe('0.00');
    expect(over.flag).toBe('aboveUnappliedCash');
  });

  it('pending returns are added to the amount: two requests for one balance are not both within it', () => {
    const pending = transfer('TR-P1', 2, 'pending', { type: 'refund', amount: 150_000 });
    const c = cashCheck({ history: [pending], request: refund(50_001) });
    expect(c.flag).toBe('aboveUnappliedCash');
    expect(c.summary).toBe(
      "refund 500.01 EUR and the pending TR-P1 (1,500.00 EUR) are above the customer's unapplied cash of 2,000.00 EUR as of 2026-06-30",
    );
    expect(c.figures.pending).toBe('1500.00');
    expect(cashCheck({ history: [pending], request: refund(50_000) }).flag).toBeUndefined();
  });

  it('rebates, credit releases, other currencies, ended requests and other customers do not count', () => {
    const history = [
      transfer('TR-X1', 20, 'approved', { type: 'rebate', amount: 150_000 }),
      transfer('TR-X2', 20, 'approved', { type: 'credit_release', amount: 150_000 }),
      transfer('TR-X3', 20, 'approved', { type: 'refund', amount: 150_000, currency: 'USD' }),
      ...(['rejected', 'recalled', 'expired', 'refused'] as const).map((st, i) =>
        transfer(`TR-E${i}`, 10, st, { type: 'refund', amount: 150_000 }),
      ),
      transfer('TR-C2', 10, 'approved', { type: 'refund', amount: 150_000, customerId: 'C2' }),
      transfer('TR-C3', 10, 'pending', { type: 'refund', amount: 150_000, customerId: 'C2' }),
    ];
    const c = cashCheck({ history, request: refund(200_000) });
    expect(c.flag).toBeUndefined();
    expect(c.figures).toEqual({
      amount: '2000.00',
      currency: 'EUR',
      unappliedCash: '2000.00',
      left: '2000.00',
    });
  });

  it('a return in another currency cannot be compared: flagged as such, never passed', () => {
    const c = cashCheck({ request: refund(1_000, { currency: 'USD' }) });
    expect(c.flag).toBe('aboveUnappliedCash');
    expect(c.summary).toBe(
      "refund 10.00 USD cannot be compared with the customer's unapplied cash of 2,000.00 EUR as of 2026-06-30: it is kept in EUR",
    );
  });

  it('without an assessment: no receivables on file, so no cash to hand back', () => {
    const c = mustCheck(inputs({ assessment: undefined, request: refund(100_000) }), 'unappliedCash');
    expect(c.flag).toBe('aboveUnappliedCash');
    expect(c.summary).toBe(
      "refund 1,000.00 EUR is above the customer's unapplied cash of 0.00 EUR as of 2026-06-30 (no receivables on file)",
    );
  });

  it('absent for a rebate, a credit release, a bank account change and a limit increase', () => {
    for (const type of ['rebate', 'credit_release', 'bank_account_change'] as const)
      expect(
        check(
          inputs({ request: req({ type, amount: type === 'bank_account_change' ? 0 : 100 }) }),
          'unappliedCash',
        ),
      ).toBeUndefined();
    expect(
      check(inputs({ request: req({ type: 'credit_release' }), limitIncrease: true }), 'unappliedCash'),
    ).toBeUndefined();
  });

  it('the problem a refused request names on its amount field', () => {
    const onFile = { currency: 'EUR', unappliedCash: 0 };
    const r = (request: TransferRequest, others: Transfer[] = []) =>
      unappliedCashCheck({ request, asOf: '2026-12-06', onFile, others })?.problem;
    expect(r(refund(125_000))).toBe("is above the customer's unapplied cash of 0.00 EUR as of 2026-12-06");
    expect(r(refund(125_000, { currency: 'USD' }))).toBe(
      "is in USD and cannot be compared with the customer's unapplied cash of 0.00 EUR as of 2026-12-06: ask for it in EUR",
    );
    expect(
      unappliedCashCheck({
        request: refund(100),
        asOf: AS_OF,
        onFile: { currency: 'EUR', unappliedCash: 100 },
        others: [],
      })?.problem,
    ).toBeUndefined();
    expect(r(req({ type: 'rebate' }))).toBeUndefined();
  });

  it('the flag adds a level through the approval policy like the other flags (shipped: +1)', () => {
    const policy = parseApprovalPolicy(DEFAULT_APPROVAL_POLICY_DOCUMENT);
    if (!policy.ok) throw new Error('the shipped approval policy is invalid');
    expect(
      levelsNeeded(refund(100_000), { riskClass: 'low', flags: ['aboveUnappliedCash'] }, policy.policy),
    ).toEqual({
      levels: 2,
      why: ['amount up to 10,000.00 EUR: 1 level', 'gate flag aboveUnappliedCash: +1'],
    });
  });
});

// ---- the report ----

describe('riskGate: the report', () => {
  /** Six open invoices, one per aging bucket. */
  const agedFile = creditFile([
    openInvoice('N', -10, 100_000), // not due
    openInvoice('A', 1, 20_000), // 1-30
    openInvoice('B', 45, 30_000), // 31-60
    openInvoice('C', 75, 40_000), // 61-90
    openInvoice('D', 120, 50_000), // 91-180
    openInvoice('E', 200, 60_001), // over 180
  ]);
  const aged = assess(agedFile, AS_OF, creditPolicy);

  it('every flag at once: unique and in check order', () => {
    const report = riskGate(
      inputs({
        assessment: aged,
        alerts: [alert('daysPastDue', 'high')],
        // Five approved transfers to another account; a pending twin of this refund, and no
        // unapplied cash to hand back.
        history: [
          ...fiveApproved().map((t) => ({ ...t, request: { ...t.request, beneficiaryAccount: OTHER_ACC } })),
          transfer('TR-DUP', 3, 'pending', { type: 'refund', amount: 1_000_000 }),
        ],
        request: req({ type: 'refund', amount: 1_000_000 }),
      }),
    );
    expect(report.checks.map((c) => c.check)).toEqual([
      'riskClass',
      'openAlerts',
      'overdueBalance',
      'expectedCash',
      'amountHistory',
      'beneficiary',
      'duplicate',
      'limitHeadroom',
      'unappliedCash',
    ]);
    expect(report.flags).toEqual([
      'openAlerts',
      'overdueBalance',
      'abnormalAmount',
      'newBeneficiary',
      'duplicate',
      'overLimit',
      'aboveUnappliedCash',
    ]);
    expect(new Set(report.flags).size).toBe(report.flags.length);
    expect(report.flags).toEqual(report.checks.flatMap((c) => (c.flag ? [c.flag] : [])));
    // 0.6745 * (1_000_000 - 120_000) / 10_000 = 59.356
    expect(report.checks[4]?.figures.robustZ).toBe(59.36);
  });

  it('a clean request raises no flag, yet every check is listed', () => {
    const report = riskGate(
      inputs({
        history: fiveApproved(),
        request: req({ amount: 120_000 }),
      }),
    );
    expect(report.flags).toEqual([]);
    expect(report.checks).toHaveLength(8);
    expect(report.checks.every((c) => c.flag === undefined)).toBe(true);
  });

  it('without an assessment only overLimit (and newBeneficiary) flag', () => {
    expect(riskGate(inputs({ assessment: undefined })).flags).toEqual(['newBeneficiary', 'overLimit']);
  });

  it('ratingReasons of the clean assessment: weakest first, ties in the scorecard order', () => {
    // Shares by hand: history 0/6 and cover 0/5 = 0; current ratio 2/5, debt ratio 2/5, Altman 4/10,
    // external score 2/5 = 0.4; mean days late 5/10, weighted 5/10, share paid late 4/8, quick ratio
    // 2/4, industry 2/4 = 0.5; days past due 12/12, overdue share 8/8, exposure to sales 8/8 (4000.00
    // owed against 4000.00 invoiced in the one month since the first invoice: 1 month) = 1.
    const report = riskGate(inputs());
    expect(report.ratingReasons.map((r) => [r.points, r.maxPoints])).toEqual([
      [0, 6],
      [0, 5],
      [2, 5],
      [2, 5],
      [4, 10],
      [2, 5],
      [5, 10],
      [5, 10],
      [4, 8],
      [2, 4],
      [2, 4],
      [12, 12],
      [8, 8],
      [8, 8],
    ]);
    expect(report.ratingReasons[0]?.reason).toBe('months of history 0 months: outside every better band');
    expect(report.ratingReasons[1]?.reason).toBe(
      'guarantee and insurance cover of the exposure 0.0%: outside every better band',
    );
    expect(report.ratingReasons[13]?.reason).toBe(
      'exposure in months of sales 1.0 months: at most 2.0 months',
    );
    // The assessment's own factor order is left as it was (the gate sorts a copy).
    expect(cleanAssessment.factors.map((f) => f.factor)).toEqual([...NUMERIC_FACTORS, 'industryRisk']);
  });

  it('ratingReasons of the aged assessment: every factor, points / maxPoints ascending', () => {
    // 0+0+0+0 (200 days past due, 66.7% overdue, 8 months of sales owed: 3000.01 over the 8 months
    // since the first invoice 230 days ago is 375.00 a month, no cover) + 1 (7 months of history)
    // + 2+2+4+2 + 5+5+4+2+2 = 29: rating E (< 35), high risk.
    expect([aged.rating, aged.score, aged.riskClass]).toEqual(['E', 29, 'high']);
    const report = riskGate(inputs({ assessment: aged }));
    expect(report.ratingReasons).toHaveLength(aged.factors.length);
    const shares = report.ratingReasons.map((r) => r.points / r.maxPoints);
    for (let i = 1; i < shares.length; i++)
      expect(shares[i] as number).toBeGreaterThanOrEqual(shares[i - 1] as number);
    expect(report.ratingReasons.slice(0, 5)).toEqual([
      {
        reason: 'days past due of the oldest open item 200 days: outside every better band',
        points: 0,
        maxPoints: 12,
      },
      {
        reason: 'overdue share of the open amount 66.7%: outside every better band',
        points: 0,
        maxPoints: 8,
      },
      {
        reason: 'exposure in months of sales 8.0 months: outside every better band',
        points: 0,
        maxPoints: 8,
      },
      {
        reason: 'guarantee and insurance cover of the exposure 0.0%: outside every better band',
        points: 0,
        maxPoints: 5,
      },
      { reason: 'months of history 7 months: at least 6 months', points: 1, maxPoints: 6 },
    ]);
    expect(report.ratingReasons.at(-1)).toEqual({
      reason: 'industry "Wholesale" is medium risk',
      points: 2,
      maxPoints: 4,
    });
    expect([...report.ratingReasons].map((r) => r.reason).sort()).toEqual(
      aged.factors.map((f) => explainFactor(f).reason).sort(),
    );
  });

  it('ratingReasons with broken promises: the points taken off come first, nothing taken off comes last', () => {
    // The clean file with one promise of 1000.00 due 40 days before the day, nothing paid: broken, 5 off.
    const promise = (promiseId: string, amount: number) => ({
      promiseId,
      customerId: 'C1',
      amount,
      currency: 'EUR',
      promisedDate: addDays(AS_OF, -40),
      madeOn: addDays(AS_OF, -50),
      recordedBy: 'anna',
      via: 'call' as const,
      recordedAt: `${addDays(AS_OF, -50)}T09:00:00.000Z`,
    });
    const broken = assess(
      { ...creditFile([openInvoice('I1', -31, 400_000)]), promises: [promise('PTP-1', 100_000)] },
      AS_OF,
      creditPolicy,
    );
    expect(broken.score).toBe(cleanAssessment.score - 5);
    const report = riskGate(inputs({ assessment: broken }));
    expect(report.ratingReasons[0]).toEqual({
      reason: 'promises to pay broken or kept only in part 1: at most 1, 5 points taken off',
      points: -5,
      maxPoints: 0,
    });
    expect(report.ratingReasons.slice(1)).toEqual(riskGate(inputs()).ratingReasons);
    expect(pointsText(-5, 0)).toBe('-5');
    expect(pointsText(4, 8)).toBe('4/8');
    // A promise kept (paid on the day) takes nothing off: listed last, as a factor at its best.
    const kept = assess(
      {
        ...creditFile([openInvoice('I1', -31, 400_000)]),
        payments: [pay('P1', addDays(AS_OF, -45), 100_000)],
        promises: [promise('PTP-1', 100_000)],
      },
      AS_OF,
      creditPolicy,
    );
    expect(riskGate(inputs({ assessment: kept })).ratingReasons.at(-1)).toMatchObject({
      points: 0,
      maxPoints: 0,
    });
  });

  it('exposure: amounts and all six aging buckets formatted', () => {
    const report = riskGate(inputs({ assessment: aged }));
    // open = 100000 + 20000 + 30000 + 40000 + 50000 + 60001 = 300001; overdue = 300001 - 100000 = 200001;
    // headroom = 1000000 - 300001 = 699999.
    expect(report.exposure).toEqual({
      currency: 'EUR',
      openAmount: '3000.01',
      overdueAmount: '2000.01',
      exposure: '3000.01',
      creditLimit: '10000.00',
      headroom: '6999.99',
      unappliedCash: '0.00',
      aging: {
        notDue: '1000.00',
        d1_30: '200.00',
        d31_60: '300.00',
        d61_90: '400.00',
        d91_180: '500.00',
        over180: '600.01',
      },
      maxDaysPastDue: 200,
    });
    expect(Object.keys(report.exposure?.aging ?? {})).toEqual([
      'notDue',
      'd1_30',
      'd31_60',
      'd61_90',
      'd91_180',
      'over180',
    ]);
    const overdue = mustCheck(inputs({ assessment: aged }), 'overdueBalance');
    expect(overdue.summary).toBe('2,000.01 EUR overdue, the oldest 200 days past due');
  });

  it('activeAlerts lists the non-resolved alerts in order, with rule, severity and summary', () => {
    const report = riskGate(
      inputs({
        alerts: [
          alert('daysPastDue', 'high'),
          alert('limitUse', 'critical', 'resolved'),
          alert('overdueAmount', 'info', 'acknowledged'),
          alert('limitUse', 'warning', 'snoozed'),
        ],
      }),
    );
    expect(report.activeAlerts).toEqual([
      { rule: 'daysPastDue', severity: 'high', summary: 'daysPastDue at high' },
      { rule: 'overdueAmount', severity: 'info', summary: 'overdueAmount at info' },
      { rule: 'limitUse', severity: 'warning', summary: 'limitUse at warning' },
    ]);
    expect(report.asOf).toBe(AS_OF);
  });

  it('determinism: the same inputs twice give deep-equal reports', () => {
    const x = inputs({
      assessment: aged,
      alerts: [alert('daysPastDue', 'warning'), alert('limitUse', 'info', 'resolved')],
      history: [...fiveApproved(), transfer('TR-DUP', 3, 'pending', { amount: 171_980 })],
      request: req({ amount: 171_980 }),
    });
    const one = riskGate(x);
    const two = riskGate(x);
    expect(two).toEqual(one);
    expect(JSON.stringify(two)).toBe(JSON.stringify(one));
    expect(one.flags).toEqual(['openAlerts', 'overdueBalance', 'abnormalAmount', 'duplicate']);
    // The inputs were not changed by the gate (the factors were sorted on a copy).
    expect(riskGate(x)).toEqual(one);
  });
});

describe('a replay as of an earlier day', () => {
  it('never sees transfers requested after the gate day (beneficiary, duplicate, history)', () => {
    const later = [
      transfer('TR-L1', -5, 'approved', { amount: 171_980 }),
      ...[0, 1, 2, 3, 4].map((i) => transfer(`TR-L${i + 2}`, -10 - i, 'approved')),
    ];
    const x = inputs({ history: later, request: req({ amount: 171_980 }) });
    expect(mustCheck(x, 'beneficiary').flag).toBe('newBeneficiary');
    expect(mustCheck(x, 'duplicate').flag).toBeUndefined();
    expect(mustCheck(x, 'amountHistory').figures).toEqual({ earlierTransfers: 0 });
  });
});

// ---- expected cash (issue 19 item 3): evidence, never a flag ----

describe('riskGate: expectedCash', () => {
  it('no history: each open invoice expected on its due date; one due in 31 days is not within 30', () => {
    const c = mustCheck(inputs(), 'expectedCash');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe(
      '0.00 EUR of the 4,000.00 EUR open expected by 2026-07-30 (0 of 1 open invoice), no settled invoice of the customer to go by: each open invoice expected on its due date (tomorrow once due)',
    );
    expect(c.figures).toEqual({
      expectedCash: '0.00',
      openAmount: '4000.00',
      currency: 'EUR',
      by: '2026-07-30',
      invoicesExpected: 0,
      openInvoices: 1,
    });
  });

  it("from the customer's own history: a customer paying 20 days late moves an invoice out of the 30 days", () => {
    // Settled: H1 due 2026-04-30 paid 2026-05-20 (20 days late). Open: N1 1,000.00 due in 5 days
    // (expected 2026-07-25, within 30), N2 2,000.00 due in 15 days (expected 2026-08-04, beyond).
    const f = creditFile([
      inv('H1', '2026-03-31', '2026-04-30', 50_000),
      openInvoice('N1', -5, 100_000),
      openInvoice('N2', -15, 200_000),
    ]);
    const withPayment = { ...f, payments: [pay('P1', '2026-05-20', 50_000, ['H1'])] };
    const c = mustCheck(inputs({ assessment: assess(withPayment, AS_OF, creditPolicy) }), 'expectedCash');
    expect(c.flag).toBeUndefined();
    expect(c.summary).toBe(
      "1,000.00 EUR of the 3,000.00 EUR open expected by 2026-07-30 (1 of 2 open invoices), from the customer's own settled invoices",
    );
    expect(c.figures).toMatchObject({ expectedCash: '1000.00', openAmount: '3000.00', invoicesExpected: 1 });
  });

  it('not there without an assessment (no receivables on file)', () => {
    expect(check(inputs({ assessment: undefined }), 'expectedCash')).toBeUndefined();
  });
});
