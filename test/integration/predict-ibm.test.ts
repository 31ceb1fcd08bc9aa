import { beforeAll, describe, expect, it } from 'vitest';
import { backtestWorklistPriority } from '../../functions/collections/priority-backtest.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import {
  backtestPredictions,
  monthEnds,
  PROTOCOL_FROM,
  PROTOCOL_TO,
} from '../../functions/predict/backtest.ts';
import type { InvoiceRecord } from '../../functions/predict/model.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { ibmInvoiceRecords } from '../bench/predict.ts';

/**
 * Predicted payment dates over the IBM accounts-receivable sample (issue 19 item 4): the sample
 * loaded through the real ingest and the shipped profile (test/bench/predict.ts), each settlement
 * date the one the product's allocation gives it, then the leak-free month-end protocol.
 */
let records: InvoiceRecord[];

beforeAll(async () => {
  records = await ibmInvoiceRecords();
}, 120_000);

const round2 = (x: number) => Math.round(x * 100) / 100;

describe('predicted payment dates on the IBM sample', () => {
  it('loads every invoice with its settlement and billing channel through the product ingest', () => {
    expect(records).toHaveLength(2466);
    // PaperlessBill, read by the shipped profile as the invoice's channel.
    const channels: Record<string, number> = {};
    for (const r of records) channels[String(r.channel)] = (channels[String(r.channel)] ?? 0) + 1;
    expect(channels).toEqual({ paper: 1263, electronic: 1203 });
    expect(records.every((r) => r.settledDate !== undefined && r.settledDate >= r.issueDate)).toBe(true);
    expect(records.reduce((s, r) => s + r.amount, 0)).toBe(14_770_318);
  });

  it('on a cut of 3 month ends: the baselines are computed and the model beats the due date', () => {
    const r = backtestPredictions(records, { dates: ['2012-06-30', '2012-12-31', '2013-06-30'] });
    expect(r.predictions).toBe(281);
    expect(round2(r.baselines.due.mae)).toBe(8.91);
    expect(round2(r.baselines.median.mae)).toBe(6.52);
    expect(round2(r.baselines.conditional.mae)).toBe(6.39);
    expect(r.model.mae).toBeLessThan(r.baselines.due.mae);
    expect(r.model.mae).toBeLessThan(r.baselines.conditional.mae);
    expect(round2(r.model.mae)).toBe(6);
    expect(r.model.coverage).toBeGreaterThan(0.7);
    expect(r.weekly.weeks).toBe(39);
  });

  it("over the issue's 21 month ends: its three baselines to two decimals, and the model's figures", () => {
    const r = backtestPredictions(records);
    expect(r.dates).toHaveLength(21);
    expect(r.predictions).toBe(1981);
    expect(round2(r.baselines.due.mae)).toBe(8.47);
    expect(round2(r.baselines.median.mae)).toBe(6.09);
    expect(round2(r.baselines.conditional.mae)).toBe(5.99);
    // The figures the README records ("Predicted payment dates"); the issue's 5.2-day target is not met.
    expect(round2(r.model.mae)).toBe(5.66);
    expect(round2(100 * r.model.coverage)).toBe(80.36);
    expect(r.weekly.model).toBeLessThan(r.weekly.dueDates);
    expect([round2(r.weekly.model / 100), round2(r.weekly.dueDates / 100)]).toEqual([146.92, 169.53]);
  });

  it("the worklist's priority: the expected wait puts more of the money still unpaid 14 days later in the list's first quarter", () => {
    const plan = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT).collections;
    expect(plan?.score.expectedWait).toEqual({ weight: 15, capDays: 30 });
    const score = plan?.score as NonNullable<typeof plan>['score'];
    const dates = monthEnds(PROTOCOL_FROM, PROTOCOL_TO);
    const r14 = backtestWorklistPriority(records, score, dates, { horizonDays: 14 });
    expect(r14.dates).toBe(16);
    // The figures the README records ("The worklist's score").
    expect([r14.withWait, r14.withoutWait, r14.best].map((x) => round2(100 * x))).toEqual([41.43, 7.61, 100]);
    expect(r14.withWait).toBeGreaterThan(r14.withoutWait);
    const r7 = backtestWorklistPriority(records, score, dates, { horizonDays: 7 });
    expect([r7.withWait, r7.withoutWait].map((x) => round2(100 * x))).toEqual([40.07, 29.97]);
    // With the factor's weight at 0 in the policy itself, both orders are the same.
    const off = backtestWorklistPriority(records, { ...score, expectedWait: undefined }, dates, {
      horizonDays: 14,
    });
    expect(off.withWait).toBe(off.withoutWait);
    expect(off.withoutWait).toBe(r14.withoutWait);
  });
});
