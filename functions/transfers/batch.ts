import type { IsoDate } from '../core/dates.ts';
import { formatMoney } from '../core/money.ts';
import { RISK_CLASSES, type RiskClass } from '../credit/policy.ts';
import type { Review } from '../reviews/review.ts';
import { type ApprovalPolicy, approvalChain, type Chain } from './approval-policy.ts';
import type { GateReport } from './gate.ts';
import type { LimitBatch, LimitBatchItem, Transfer } from './ports.ts';
import type { TransferRequest } from './request.ts';

/**
 * A review run's limit changes asked for together (README "Periodic reviews"): when a run would
 * ask for more approvals than the policy's `review.approvals.batchAbove`, the approvers get one
 * request with the whole table instead of one per customer. No money moves; approving it sets
 * every limit of the table.
 */

/** Rows of the table carried in the gate report (emails, Slack, pages); every row is in the store. */
export const BATCH_ROWS_SHOWN = 200;

/** The batch of a run: its table, the summary the approvers read first, and the request it is filed as. */
export function batchOf(
  run: { readonly runId: string; readonly asOf: IsoDate },
  reviews: readonly Review[],
): { request: TransferRequest; limitBatch: LimitBatch; items: LimitBatchItem[] } {
  const items = reviews
    .flatMap((r): LimitBatchItem[] => {
      const to = r.askedLimit ?? r.recommendedLimit;
      if (r.outcome !== 'approval' || to === undefined || !r.currency) return [];
      const from = r.currentLimit;
      return [
        {
          customerId: r.customerId,
          name: r.name,
          currency: r.currency,
          from,
          to,
          reviewId: r.reviewId,
          request: from === undefined ? 'first' : to < from ? 'decrease' : 'increase',
          rating: r.rating,
          riskClass: r.riskClass,
          exposure: r.figures?.exposure,
          overdue: r.figures?.overdueAmount,
          maxDaysPastDue: r.figures?.maxDaysPastDue,
          why: r.decision ?? '',
        },
      ];
    })
    .sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
  const groups = new Map<string, { currency: string; count: number; increase: number; decrease: number }>();
  for (const it of items) {
    const g = groups.get(it.currency) ?? { currency: it.currency, count: 0, increase: 0, decrease: 0 };
    const change = it.to - (it.from ?? 0);
    groups.set(it.currency, {
      ...g,
      count: g.count + 1,
      increase: g.increase + Math.max(0, change),
      decrease: g.decrease + Math.max(0, -change),
    });
  }
  const byCurrency = [...groups.values()].sort(
    (a, b) => b.count - a.count || (a.currency < b.currency ? -1 : 1),
  );
  const main = byCurrency[0] ?? { currency: 'EUR', increase: 0, decrease: 0 };
  const kinds = (['first', 'increase', 'decrease'] as const)
    .map((k) => [k, items.filter((i) => i.request === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k === 'first' ? 'first limit' : k}${n === 1 ? '' : 's'}`);
  return {
    items,
    limitBatch: { runId: run.runId, asOf: run.asOf, count: items.length, byCurrency },
    request: {
      customerId: run.runId,
      type: 'limit_batch',
      amount: main.increase + main.decrease,
      currency: main.currency,
      beneficiaryName: `${items.length} customers of review ${run.runId}`,
      beneficiaryAccount: 'LIMIT-BATCH',
      reason: `Periodic review ${run.asOf}: ${items.length} limit changes need approval (${kinds.join(', ')}); one request for the whole batch`,
      requester: 'periodic-review',
    },
  };
}

const money = (v: number | undefined, ccy: string) => (v === undefined ? 'none' : formatMoney(v, ccy));

/**
 * The gate of a batch: no beneficiary, no single customer. The approvers read what the batch
 * holds (counts and totals per currency, how many of its customers are overdue or high risk) and
 * its table, customer by customer, with the review's reason for each.
 */
export function batchGate(b: LimitBatch, items: readonly LimitBatchItem[], asOf: IsoDate): GateReport {
  const overdue = items.filter((i) => (i.overdue ?? 0) > 0).length;
  const high = items.filter((i) => i.riskClass === 'high').length;
  return {
    asOf,
    flags: [],
    checks: [
      {
        check: 'batch',
        summary: `${b.count} limit changes from review ${b.runId} as of ${b.asOf}, asked for together`,
        figures: Object.fromEntries(
          b.byCurrency.map((g) => [
            g.currency,
            `${g.count} changes: +${formatMoney(g.increase, g.currency)} / -${formatMoney(g.decrease, g.currency)}`,
          ]),
        ),
      },
      {
        check: 'batchRisk',
        summary: `${high} of the ${b.count} customers are high risk; ${overdue} have something overdue`,
        figures: { highRisk: high, overdue },
      },
    ],
    ratingReasons: [],
    activeAlerts: [],
    batch: {
      count: items.length,
      rows: items.slice(0, BATCH_ROWS_SHOWN).map((i) => ({
        customer: i.name ? `${i.customerId} ${i.name}` : i.customerId,
        rating: i.rating ?? '-',
        change: i.request,
        from: money(i.from, i.currency),
        to: money(i.to, i.currency),
        exposure: money(i.exposure, i.currency),
        overdue: money(i.overdue, i.currency),
        why: i.why,
      })),
      more: Math.max(0, items.length - BATCH_ROWS_SHOWN),
    },
  };
}

/**
 * The chain of a batch: for each currency, the levels its total change would need at the
 * riskiest class among its customers; the batch climbs the highest of them (so it never needs
 * fewer approvals than its largest part alone).
 */
export function batchChain(
  t: Pick<Transfer, 'request' | 'limitBatch'>,
  items: readonly LimitBatchItem[],
  today: IsoDate,
  policy: ApprovalPolicy,
): Chain {
  let best: Chain | undefined;
  for (const g of t.limitBatch?.byCurrency ?? []) {
    const inGroup = items.filter((i) => i.currency === g.currency);
    const riskClass = worst(inGroup.map((i) => i.riskClass));
    const chain = approvalChain(
      { ...t.request, type: 'credit_release', amount: g.increase + g.decrease, currency: g.currency },
      { riskClass, flags: [], today },
      policy,
    );
    if (!chain.ok) return chain;
    if (!best?.ok || chain.levels.length > best.levels.length)
      best = { ...chain, why: [`the batch's ${g.currency} changes (${g.count})`, ...chain.why] };
  }
  return best ?? { ok: false, problem: 'the batch holds no limit change', why: [] };
}

function worst(classes: readonly (RiskClass | undefined)[]): RiskClass | undefined {
  let w = -1;
  for (const c of classes)
    w = Math.max(w, c === undefined ? RISK_CLASSES.length - 1 : RISK_CLASSES.indexOf(c));
  return w < 0 ? undefined : RISK_CLASSES[w];
}
