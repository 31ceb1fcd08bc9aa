import { describe, expect, it } from 'vitest';
import type { Review } from '../../functions/reviews/review.ts';
import { parseApprovalPolicy } from '../../functions/transfers/approval-policy.ts';
import { BATCH_ROWS_SHOWN, batchChain, batchGate, batchOf } from '../../functions/transfers/batch.ts';
import { approvalSlackMessage, evidenceText } from '../../functions/transfers/messages.ts';
import type { Transfer } from '../../functions/transfers/ports.ts';
import { DEFAULT_APPROVAL_POLICY_DOCUMENT } from '../../policies/index.ts';

/** A review run's batch of limit changes (functions/transfers/batch.ts), on reviews written by hand. */

const approvals = (() => {
  const r = parseApprovalPolicy(DEFAULT_APPROVAL_POLICY_DOCUMENT);
  if (!r.ok) throw new Error('the shipped approval policy is invalid');
  return r.policy;
})();

function asking(customerId: string, extra: Partial<Review> = {}): Review {
  return {
    reviewId: `run-9/${customerId}`,
    runId: 'run-9',
    customerId,
    name: `${customerId} Ltd`,
    asOf: '2026-06-30',
    reviewedAt: '2026-06-30T06:00:00.000Z',
    policyId: 'p',
    due: 'first review',
    status: 'done',
    currency: 'EUR',
    rating: 'B',
    riskClass: 'low',
    outcome: 'approval',
    request: 'first',
    askedLimit: 5_000_000,
    recommendedLimit: 5_000_000,
    decision: 'no limit on file: a first limit of 50,000.00 EUR needs approval',
    figures: {
      exposure: 1_000_000,
      openAmount: 1_000_000,
      overdueAmount: 0,
      maxDaysPastDue: 0,
      limitUse: undefined,
      dso: 30,
      salesInWindow: 24_000_000,
      salesMonths: 12,
      monthlySales: 2_000_000,
      secured: 0,
    },
    ...extra,
  };
}

const run = { runId: 'run-9', asOf: '2026-06-30' };

describe('batchOf', () => {
  it('keeps the changes asked for, in customer order, with totals per currency', () => {
    const b = batchOf(run, [
      asking('C3', { currentLimit: 8_000_000, askedLimit: 6_000_000, request: 'decrease' }),
      asking('C1'),
      asking('C2', { currency: 'USD', currentLimit: 1_000_000, askedLimit: 1_200_000, request: 'increase' }),
      asking('C4', { outcome: 'keep' }), // not asked: not in the batch
    ]);
    expect(b.items.map((i) => [i.customerId, i.request, i.from, i.to])).toEqual([
      ['C1', 'first', undefined, 5_000_000],
      ['C2', 'increase', 1_000_000, 1_200_000],
      ['C3', 'decrease', 8_000_000, 6_000_000],
    ]);
    // EUR: C1 +50,000.00 and C3 -20,000.00; USD: C2 +2,000.00. The larger group first.
    expect(b.limitBatch.byCurrency).toEqual([
      { currency: 'EUR', count: 2, increase: 5_000_000, decrease: 2_000_000 },
      { currency: 'USD', count: 1, increase: 200_000, decrease: 0 },
    ]);
    expect(b.request).toMatchObject({ type: 'limit_batch', currency: 'EUR', amount: 7_000_000 });
    expect(b.request.reason).toBe(
      'Periodic review 2026-06-30: 3 limit changes need approval (1 first limit, 1 increase, 1 decrease); one request for the whole batch',
    );
  });
});

describe('batchChain', () => {
  it("climbs the levels of the batch's largest part at its riskiest class", () => {
    // EUR total 150,000.00: above every band (3 levels) before risk; one USD change of 2,000.00: 1 level.
    const b = batchOf(run, [
      asking('C1', { askedLimit: 10_000_000 }),
      asking('C2', { askedLimit: 5_000_000 }),
      asking('C3', { currency: 'USD', askedLimit: 200_000 }),
    ]);
    const chain = batchChain(
      { request: b.request, limitBatch: b.limitBatch },
      b.items,
      '2026-06-30',
      approvals,
    );
    expect(chain.ok).toBe(true);
    if (!chain.ok) return;
    expect(chain.levels).toHaveLength(3);
    expect(chain.why[0]).toBe("the batch's EUR changes (2)");
    // A high-risk customer in the small group raises its levels by the policy's risk table.
    const risky = batchOf(run, [asking('C1'), asking('C2', { riskClass: 'high' })]);
    const lowOnly = batchOf(run, [asking('C1'), asking('C2')]);
    const levels = (x: typeof risky) => {
      const c = batchChain(
        { request: x.request, limitBatch: x.limitBatch },
        x.items,
        '2026-06-30',
        approvals,
      );
      return c.ok ? c.levels.length : -1;
    };
    expect(levels(risky)).toBeGreaterThan(levels(lowOnly));
  });
});

describe('batchGate', () => {
  it(`shows the first ${BATCH_ROWS_SHOWN} rows and says how many more there are`, () => {
    const many = Array.from({ length: BATCH_ROWS_SHOWN + 5 }, (_, i) =>
      asking(`C${String(i).padStart(4, '0')}`),
    );
    const b = batchOf(run, many);
    const g = batchGate(b.limitBatch, b.items, '2026-06-30');
    expect(g.flags).toEqual([]);
    expect(g.batch?.count).toBe(BATCH_ROWS_SHOWN + 5);
    expect(g.batch?.rows).toHaveLength(BATCH_ROWS_SHOWN);
    expect(g.batch?.more).toBe(5);
    expect(g.batch?.rows[0]).toEqual({
      customer: 'C0000 C0000 Ltd',
      rating: 'B',
      change: 'first',
      from: 'none',
      to: '50,000.00 EUR',
      exposure: '10,000.00 EUR',
      overdue: '0.00 EUR',
      why: 'no limit on file: a first limit of 50,000.00 EUR needs approval',
    });
    expect(g.checks[0]?.summary).toBe(
      `${BATCH_ROWS_SHOWN + 5} limit changes from review run-9 as of 2026-06-30, asked for together`,
    );
  });
});

describe('the batch in words: the email and Slack', () => {
  const many = Array.from({ length: BATCH_ROWS_SHOWN + 5 }, (_, i) =>
    asking(`C${String(i).padStart(4, '0')}`),
  );
  const b = batchOf(run, many);
  const transfer: Transfer = {
    transferId: 'TR-BATCH',
    request: b.request,
    requestedAt: '2026-06-30T06:00:00.000Z',
    requestedOn: '2026-06-30',
    status: 'pending',
    limitBatch: b.limitBatch,
    gate: batchGate(b.limitBatch, b.items, '2026-06-30'),
  };

  it('the text evidence lists every row shown and says how many more and where', () => {
    const text = evidenceText(transfer);
    expect(text).toContain(`LIMIT CHANGES ASKED FOR (${BATCH_ROWS_SHOWN + 5})`);
    expect(text).toContain(
      '  - C0000 C0000 Ltd, rating B: first none -> 50,000.00 EUR (exposure 10,000.00 EUR, overdue 0.00 EUR): no limit on file',
    );
    expect(text.split('\n').filter((l) => l.startsWith('  - C'))).toHaveLength(BATCH_ROWS_SHOWN);
    expect(text).toContain(
      "  ... and 5 more, every one in the review run's report (CSV) and on the review's page",
    );
  });

  it('Slack shows the first ten and points to the evidence page for the rest', () => {
    const m = approvalSlackMessage({
      kind: 'approve',
      transfer,
      to: { id: 'carla', name: 'Carla' },
      level: { level: 1, of: 3, name: 'Credit controller', required: 1 },
      url: 'http://approvals.test/approvals/x',
      token: 'x',
      reminder: 0,
      expiresAt: '2026-07-03T06:00:00.000Z',
    });
    const section = JSON.stringify(m.blocks);
    expect(section).toContain(`*${BATCH_ROWS_SHOWN + 5} limit changes asked for:*`);
    expect(section).toContain(`…and ${BATCH_ROWS_SHOWN - 5} more: *Review evidence* shows every one.`);
    expect(m.text).toContain(
      `Approval requested: ${BATCH_ROWS_SHOWN + 5} credit limit changes of review run-9`,
    );
  });
});
