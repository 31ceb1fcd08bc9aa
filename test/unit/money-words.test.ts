import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertEmailText, alertSubject, digestEmailText } from '../../functions/alerts/format.ts';
import { slackMessage } from '../../functions/alerts/slack.ts';
import { MONEY_FIELDS, moneyAsDecimals } from '../../functions/core/money-json.ts';
import type { AlertDigest } from '../../functions/credit/alerts.ts';
import { type AlertCandidate, explainCandidate } from '../../functions/credit/rules.ts';
import { reviewReport } from '../../functions/reviews/report.ts';
import type { Review } from '../../functions/reviews/review.ts';
import { batchGate } from '../../functions/transfers/batch.ts';
import type { GateReport } from '../../functions/transfers/gate.ts';
import { approvalEmail, approvalSlackMessage, evidenceText } from '../../functions/transfers/messages.ts';
import type { ApprovalNotice, LimitBatchItem, Transfer } from '../../functions/transfers/ports.ts';

/**
 * One way to write money: every amount a person reads (alert emails and Slack, transfer emails
 * and Slack, the review report) is `formatMoney`'s "353,760.34 GBP", never a long ungrouped
 * "353760.34"; every amount an API gives is `formatMinor`'s plain decimal beside a currency.
 */

/** An ungrouped amount of five or more whole digits: what a person should never have to count. */
const UNGROUPED = /\b\d{5,}\.\d{2}\b/;

const noUngrouped = (text: string) => {
  expect(text.match(UNGROUPED)?.[0]).toBeUndefined();
};

const base = {
  customerId: 'C1004',
  severity: 'high',
  action: 'review',
  asOf: '2026-06-30',
  policyId: 'p1',
} as const;
const candidates: AlertCandidate[] = [
  {
    ...base,
    rule: 'limitUse',
    currency: 'GBP',
    facts: { exposure: 35_376_034, creditLimit: 6_000_000, limitUse: 5.896 },
  },
  {
    ...base,
    customerId: 'C1013',
    rule: 'overdueAmount',
    currency: 'CNY',
    facts: { overdueAmount: 150_000_000, creditLimit: 120_000_000, share: 1.25 },
  },
  {
    ...base,
    rule: 'coverExpiring',
    currency: 'GBP',
    facts: {
      expiring: [
        { what: 'guarantee G-1 (Barclays)', expiry: '2026-07-20', amount: 5_000_000, currency: 'GBP' },
      ],
      daysLeft: 20,
    },
  },
];

const alerts = candidates.map((c, i) => {
  const e = explainCandidate(c);
  return { ...e, alertId: `${c.customerId}/${c.rule}/${i}` };
});

describe('alert notifications', () => {
  it('words the summary and the evidence in grouped amounts with their currency', () => {
    const [limitUse, overdue, cover] = alerts;
    expect(limitUse?.summary).toBe('exposure 353,760.34 GBP is 589.6% of the 60,000.00 GBP limit');
    expect(overdue?.summary).toBe('1,500,000.00 CNY overdue, 125.0% of the credit limit');
    expect(overdue?.evidence).toMatchObject({
      overdueAmount: '1,500,000.00 CNY',
      creditLimit: '1,200,000.00 CNY',
    });
    expect(cover?.evidence.expiring).toBe('guarantee G-1 (Barclays): 50,000.00 GBP until 2026-07-20');
  });

  it('email text, subject and Slack blocks carry no ungrouped amount', () => {
    for (const alert of alerts) {
      const n = { alert, reason: 'opened' as const };
      const email = alertEmailText(n, '2026-06-30');
      const slack = JSON.stringify(slackMessage(n, '2026-06-30'));
      noUngrouped(email);
      noUngrouped(alertSubject(n));
      noUngrouped(slack);
    }
    const email = alertEmailText(
      { alert: alerts[1] as (typeof alerts)[number], reason: 'opened' },
      '2026-06-30',
    );
    expect(email).toContain('Overdue amount: 1,500,000.00 CNY');
    expect(email).toContain('Credit limit: 1,200,000.00 CNY');
  });

  it('the digest lists the summaries as they are worded', () => {
    const digest: AlertDigest = {
      asOf: '2026-06-30',
      active: alerts.length,
      bySeverity: { critical: 0, high: alerts.length, warning: 0, info: 0 },
      alerts: alerts.map((a) => ({ ...a, status: 'open' as const, openedAsOf: '2026-06-30' })),
      more: 0,
    };
    const text = digestEmailText(digest);
    expect(text).toContain('1,500,000.00 CNY overdue');
    noUngrouped(text);
  });
});

// ---- transfers ----

const gate: GateReport = {
  asOf: '2026-06-30',
  flags: ['overLimit'],
  checks: [
    {
      check: 'limitHeadroom',
      flag: 'overLimit',
      summary: 'stored as the gate words it',
      figures: { amount: '2,500,000.00 CNY' },
    },
  ],
  rating: 'D',
  score: 31,
  ratingReasons: [],
  activeAlerts: [],
  // As the gate stores it: plain decimals with their currency (formatted when shown).
  exposure: {
    currency: 'CNY',
    openAmount: '1804000.00',
    overdueAmount: '1500000.00',
    exposure: '1804000.00',
    creditLimit: '1200000.00',
    headroom: '-604000.00',
    aging: { notDue: '304000.00', d1_30: '0.00', over180: '1500000.00' },
    maxDaysPastDue: 200,
  },
};

const transfer: Transfer = {
  transferId: 'TR-1',
  request: {
    customerId: 'C1013',
    type: 'refund',
    amount: 250_000_000,
    currency: 'CNY',
    beneficiaryName: 'Shenzhen Trading',
    beneficiaryAccount: 'CN12345678901234',
    reason: 'credit note paid twice',
    requester: 'rita',
  },
  requestedAt: '2026-06-30T08:00:00.000Z',
  requestedOn: '2026-06-30',
  status: 'pending',
  gate,
  levels: [
    {
      level: 1,
      name: 'Finance manager',
      required: 1,
      approvers: [{ id: 'fiona', name: 'Fiona', email: 'fiona@example.com' }],
    },
  ],
  level: 1,
};

const approve: ApprovalNotice & { kind: 'approve' } = {
  kind: 'approve',
  transfer,
  to: { id: 'fiona', name: 'Fiona', email: 'fiona@example.com', slackId: 'U024BE7LH' },
  level: { level: 1, of: 1, name: 'Finance manager', required: 1 },
  url: 'https://approvals.example.com/approvals/TOKEN',
  token: 'TOKEN',
  reminder: 0,
  expiresAt: '2026-07-01T08:00:00.000Z',
};

describe('transfer messages', () => {
  it('the email says the amount and the exposure grouped, with the currency', () => {
    const email = approvalEmail(approve);
    expect(email.subject).toContain('2,500,000.00 CNY');
    expect(email.text).toContain('Amount: 2,500,000.00 CNY');
    expect(email.text).toContain('Exposure: 1,804,000.00 CNY');
    expect(email.text).toContain('Headroom: -604,000.00 CNY');
    expect(email.text).toContain('Over 180 days: 1,500,000.00 CNY');
    noUngrouped(email.subject);
    noUngrouped(email.text);
    noUngrouped(email.html);
    noUngrouped(evidenceText(transfer));
  });

  it('the Slack message does too', () => {
    const slack = JSON.stringify(approvalSlackMessage(approve));
    expect(slack).toContain('2,500,000.00 CNY');
    expect(slack).toContain('1,804,000.00 CNY');
    noUngrouped(slack);
  });

  it("a review's batch of limit changes reads the same, in two currencies", () => {
    const items: LimitBatchItem[] = [
      {
        customerId: 'C1',
        name: 'One',
        currency: 'GBP',
        request: 'increase',
        from: 6_000_000,
        to: 12_500_000,
        exposure: 35_376_034,
        overdue: 1_000_000,
        why: 'rating up',
        rating: 'B',
        riskClass: 'low',
      },
      {
        customerId: 'C2',
        name: 'Two',
        currency: 'JPY',
        request: 'first',
        to: 25_000_000,
        exposure: 1_234_567,
        overdue: 0,
        why: 'first limit',
        rating: 'C',
        riskClass: 'medium',
      },
    ] as LimitBatchItem[];
    const g = batchGate(
      {
        runId: 'run-1',
        asOf: '2026-06-30',
        count: 2,
        byCurrency: [
          { currency: 'GBP', count: 1, increase: 6_500_000, decrease: 0 },
          { currency: 'JPY', count: 1, increase: 25_000_000, decrease: 0 },
        ],
      },
      items,
      '2026-06-30',
    );
    const text = evidenceText({ ...transfer, gate: g });
    expect(text).toContain('60,000.00 GBP -> 125,000.00 GBP (exposure 353,760.34 GBP');
    expect(text).toContain('none -> 25,000,000 JPY (exposure 1,234,567 JPY');
    expect(text).toContain('+65,000.00 GBP');
    noUngrouped(text);
  });
});

// ---- the review report ----

describe('the review report', () => {
  const review: Review = {
    reviewId: 'run-1/C1',
    runId: 'run-1',
    customerId: 'C1',
    name: 'One',
    asOf: '2026-06-30',
    reviewedAt: '2026-06-30T05:00:00.000Z',
    policyId: 'p1',
    due: 'first review',
    status: 'done',
    currency: 'GBP',
    score: 40,
    rating: 'D',
    riskClass: 'high',
    currentLimit: 20_000_000,
    recommendedLimit: 12_000_000,
    limitAfter: 12_000_000,
    outcome: 'cut',
    decision: 'cut',
    figures: {
      exposure: 8_123_456,
      openAmount: 8_123_456,
      overdueAmount: 1_000_000,
      maxDaysPastDue: 12,
      limitUse: 0.41,
      dso: 61.2,
      salesInWindow: 48_000_000,
      salesMonths: 12,
      monthlySales: 4_000_000,
      secured: 0,
    },
    nextReviewOn: '2027-06-30',
    attention: true,
    applied: true,
  };
  const run = {
    runId: 'run-1',
    asOf: '2026-06-30',
    policyId: 'p1',
    startedAt: '',
    selected: 1,
    status: 'done',
  };
  const { csv, html } = reviewReport(run as Parameters<typeof reviewReport>[0], [review]);

  it('the page a person reads groups the amounts', () => {
    expect(html).toContain('200,000.00 GBP');
    expect(html).toContain('81,234.56 GBP');
    noUngrouped(html);
  });

  it('the CSV keeps plain decimals a spreadsheet sums, the currency in its own column', () => {
    const [head, row] = csv.trim().split('\r\n');
    const cols = (head ?? '').split(',');
    const cells = (row ?? '').split(',');
    const at = (c: string) => cells[cols.indexOf(c)];
    expect(at('currency')).toBe('GBP');
    expect(at('exposure')).toBe('81234.56');
    expect(at('limit_before')).toBe('200000.00');
  });
});

// ---- the API ----

describe('amounts in the API', () => {
  /** A /api/customers/ID payload as the console sent it on the demo book (minor units inside). */
  const payload = JSON.parse(
    readFileSync(new URL('../fixtures/api-customer-minor-units.json', import.meta.url), 'utf8'),
  );
  /** Numbers that are not amounts: counts, days, scores, points, shares, ratios. */
  const NOT_MONEY = new Set([
    'paymentTermsDays',
    'openInvoices',
    'settledInvoices',
    'maxDaysPastDue',
    'avgDaysLate',
    'dso',
    'undisputedDso',
    'daysLate',
    'daysPastDue',
    'daysToSettle',
    'score',
    'value',
    'points',
    'maxPoints',
    'salesMonths',
    'windowMonths',
    'minHistoryMonths',
    'termsDays',
    'months',
    'extensionDays',
    'significantDigits',
    'keepWithin',
    'customersInCurrency',
    'daysLeft',
    'daysSinceLastPayment',
    'usualIntervalDays',
    'share',
    'limitUse',
  ]);

  function numbers(v: unknown, key = '', out: string[] = []): string[] {
    if (Array.isArray(v)) for (const x of v) numbers(x, key, out);
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) numbers(x, k, out);
    else if (typeof v === 'number') out.push(key);
    return out;
  }

  it('gives every amount as a plain decimal string in major units, next to its currency', () => {
    const api = moneyAsDecimals(payload) as typeof payload;
    expect(api.customer.creditLimit).toBe('60000.00');
    expect(api.customer.creditLimit).toBe(api.line.creditLimit);
    expect(api.statement.summary.openAmount).toBe(api.line.openAmount);
    expect(api.statement.summary.aging).toEqual(api.line.aging);
    expect(api.assessment.limit.current).toBe('60000.00');
    expect(api.assessment.decision.to).toBe('50000.00');
    expect(api.assessment.exposure).toBe('406930.31');
    expect(api.statement.invoices[0].amount).toMatch(/^\d+\.\d{2}$/);
    // Words stay words: the alert's evidence is text for people.
    expect(api.assessment.activeAlerts[0].evidence.openAmount).toBe('406,930.31 GBP');
  });

  it('leaves no number that is an amount: every number left is a count, days, a score or a share', () => {
    const left = numbers(moneyAsDecimals(payload));
    expect(left.length).toBeGreaterThan(10);
    expect([...new Set(left)].filter((k) => !NOT_MONEY.has(k))).toEqual([]);
    expect([...NOT_MONEY].filter((k) => MONEY_FIELDS.has(k))).toEqual([]);
  });

  it("uses each record's own currency and its digits (JPY has none)", () => {
    const api = moneyAsDecimals({
      currency: 'GBP',
      creditLimit: 6_000_000,
      financials: [{ currency: 'JPY', revenue: 1_234_567_890, equity: -5_000 }],
      invoice: {
        amount: 12_345,
        currency: 'GBP',
        original: { amount: 1_500_000, currency: 'CNY', rate: '0.11' },
      },
      review: {
        currency: 'EUR',
        limitAfter: 12_000_000,
        figures: { exposure: 8_123_456, maxDaysPastDue: 12 },
      },
    });
    expect(api).toEqual({
      currency: 'GBP',
      creditLimit: '60000.00',
      financials: [{ currency: 'JPY', revenue: '1234567890', equity: '-5000' }],
      invoice: {
        amount: '123.45',
        currency: 'GBP',
        original: { amount: '15000.00', currency: 'CNY', rate: '0.11' },
      },
      review: {
        currency: 'EUR',
        limitAfter: '120000.00',
        figures: { exposure: '81234.56', maxDaysPastDue: 12 },
      },
    });
  });
});
