import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, addMonths } from '../../functions/core/dates.ts';
import { assess, type CreditFile } from '../../functions/credit/assess.ts';
import { decisionFor } from '../../functions/credit/decide.ts';
import { evaluateRules } from '../../functions/credit/rules.ts';
import { type Review, reviewCustomer } from '../../functions/reviews/review.ts';
import { anyLimitArb, creditFileArb, type GeneratedFile, POLICY, withLimit } from './books.ts';

/**
 * The decision rules of shared/DOMAIN.md ("Decision rules") and issue 13 items 1-4, held over
 * generated credit files (test/property/books.ts) under the default policy: one property per
 * invariant, each on the production code as it is (assess, decideLimit through reviewCustomer,
 * evaluateRules). Where an invariant could hold for want of cases, the property counts the cases
 * that exercise it and asks for enough of them.
 */

const RUNS = 500;

function review(g: GeneratedFile, file: CreditFile = g.file): Review {
  return reviewCustomer({
    runId: 'property',
    customerId: file.customerId,
    due: 'property',
    asOf: g.asOf,
    now: `${g.asOf}T06:00:00.000Z`,
    file,
    alerts: g.alerts,
    policy: POLICY,
  });
}

/** The limit in force once a review is carried out, its approval (if any) granted as asked. */
const applied = (r: Review) => (r.outcome === 'approval' ? r.askedLimit : r.limitAfter);

/** A file with its limit scaled by one of a few factors (none stays none): cuts and raises of every size. */
const scaledArb = fc
  .tuple(creditFileArb, fc.constantFrom(0.5, 0.8, 0.88, 1, 1, 1.15, 1.5, 2, 4))
  .map(([g, k]) => {
    const limit = g.file.customer?.creditLimit;
    return limit === undefined || k === 1 ? g : { ...g, file: withLimit(g.file, Math.round(limit * k)) };
  });

/** Whether an alert of high or critical severity is active (open, acknowledged or snoozed). */
const severe = (a: GeneratedFile['alerts'][number]) =>
  a.status !== 'resolved' && (a.severity === 'high' || a.severity === 'critical');
/** A severe alert of a rule other than limit use (which sends a raise to people instead of holding it). */
const severeAlert = (g: GeneratedFile) => g.alerts.some((a) => severe(a) && a.rule !== 'limitUse');
const severeLimitUse = (g: GeneratedFile) => g.alerts.some((a) => severe(a) && a.rule === 'limitUse');

const raises = (r: Review) => r.outcome === 'raise' || (r.outcome === 'approval' && r.request === 'increase');
const cuts = (r: Review) => r.outcome === 'cut' || (r.outcome === 'approval' && r.request === 'decrease');

describe('limit decisions over generated credit files', () => {
  it('the recommended limit and every factor are the same whatever limit is on file, or none (no feedback loop)', () => {
    fc.assert(
      fc.property(creditFileArb, anyLimitArb, anyLimitArb, (g, l1, l2) => {
        const a1 = assess(withLimit(g.file, l1), g.asOf, POLICY);
        const a2 = assess(withLimit(g.file, l2), g.asOf, POLICY);
        expect(a2.limit.recommended).toBe(a1.limit.recommended);
        expect(a2.limit.thinHistory).toBe(a1.limit.thinHistory);
        expect(a2.limit.formula).toEqual(a1.limit.formula);
        expect(a2.factors).toEqual(a1.factors);
        expect([a2.score, a2.rating]).toEqual([a1.score, a1.rating]);
      }),
      { numRuns: RUNS },
    );
  });

  it('applying a review and reviewing again on the same data keeps the limit applied (fixed point)', () => {
    const changed: Record<string, number> = {};
    fc.assert(
      fc.property(scaledArb, (g) => {
        const first = review(g);
        const limit = applied(first);
        const file = limit === first.currentLimit ? g.file : withLimit(g.file, limit);
        const again = review(g, file);
        expect(again.recommendedLimit).toBe(first.recommendedLimit);
        expect({ outcome: again.outcome, limitAfter: again.limitAfter }).toEqual({
          outcome: 'keep',
          limitAfter: limit,
        });
        if (limit !== first.currentLimit) {
          const key = `${first.outcome}${first.request ? `/${first.request}` : ''}`;
          changed[key] = (changed[key] ?? 0) + 1;
        }
      }),
      { numRuns: RUNS },
    );
    // Every kind of change was applied and reviewed again, not only the keeps.
    for (const kind of ['cut', 'approval/first', 'approval/increase', 'approval/decrease'])
      expect(changed[kind], kind).toBeGreaterThan(RUNS / 50);
  });

  it('never raises, nor asks to raise, at rating E, beyond 60 days past due, or while a high or critical alert is active', () => {
    let blockedAbove = 0;
    fc.assert(
      fc.property(scaledArb, (g) => {
        const r = review(g);
        const blocked = r.rating === 'E' || (r.figures?.maxDaysPastDue ?? 0) > 60 || severeAlert(g);
        if (!blocked) return;
        expect(raises(r), r.decision).toBe(false);
        const { currentLimit: current, recommendedLimit: rec } = r;
        if (current !== undefined && rec !== undefined && rec > current) blockedAbove++;
      }),
      { numRuns: RUNS },
    );
    // Customers the formula would have raised were held back, not only customers it would cut.
    expect(blockedAbove).toBeGreaterThan(RUNS / 20);
  });

  it('a severe limit-use alert never lets a raise through on its own: people decide it', () => {
    let sentToPeople = 0;
    // Every generated file with one open high limit-use alert and no other alert.
    const overLimitArb = scaledArb.map((g) => ({
      ...g,
      alerts: [
        {
          alertId: `${g.file.customerId}/limitUse/${g.asOf}T05:00:00.000Z`,
          customerId: g.file.customerId,
          rule: 'limitUse' as const,
          status: 'open' as const,
          severity: 'high' as const,
          action: 'hold_deliveries' as const,
          summary: 'over the limit',
          evidence: {},
          policyId: POLICY.id,
          openedAt: `${g.asOf}T05:00:00.000Z`,
          openedAsOf: g.asOf,
          seenAsOf: g.asOf,
          notifiedSeverity: 'high' as const,
          history: [{ at: `${g.asOf}T05:00:00.000Z`, event: 'opened' as const, severity: 'high' as const }],
        },
      ],
    }));
    fc.assert(
      fc.property(overLimitArb, (g) => {
        if (!severeLimitUse(g)) return;
        const r = review(g);
        expect(r.outcome, r.decision).not.toBe('raise');
        if (r.outcome === 'approval' && r.request === 'increase') sentToPeople++;
      }),
      { numRuns: RUNS },
    );
    expect(sentToPeople).toBeGreaterThan(0);
  });

  it('an automatic cut stays at or above the exposure and takes at most half of the limit', () => {
    let automatic = 0;
    fc.assert(
      fc.property(scaledArb, (g) => {
        const r = review(g);
        if (r.outcome !== 'cut') return;
        automatic++;
        const current = r.currentLimit as number;
        const after = r.limitAfter as number;
        expect(after).toBeLessThan(current);
        expect(after).toBeGreaterThanOrEqual(r.figures?.exposure as number);
        expect(current - after).toBeLessThanOrEqual(current / 2);
        expect(after).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
    expect(automatic).toBeGreaterThan(RUNS / 50);
  });

  it('no cut on a thin history, no recommendation and no change without sales in the window, never a cut to 0.00 without a sales history', () => {
    let thinBelow = 0;
    let noSales = 0;
    fc.assert(
      fc.property(scaledArb, (g) => {
        const r = review(g);
        const issued = g.file.invoices.filter((i) => i.issueDate <= g.asOf).map((i) => i.issueDate);
        const first = issued.reduce<string | undefined>(
          (a, d) => (a === undefined || d < a ? d : a),
          undefined,
        );
        const yearAgo = addMonths(g.asOf, -12);
        if (!issued.some((d) => d > yearAgo)) {
          // Nothing invoiced in the sales window (or ever): no recommendation, the limit stays as it is.
          noSales++;
          expect(r.recommendedLimit).toBeUndefined();
          expect(r.outcome).toBe('keep');
          expect(r.limitAfter).toBe(r.currentLimit);
          expect(r.askedLimit).toBeUndefined();
          return;
        }
        expect(r.recommendedLimit).toBeDefined();
        // Fewer than 3 months from the first invoice is thin; more than 92 days never is.
        if (first !== undefined && first >= addDays(g.asOf, -59)) expect(r.thinHistory).toBe(true);
        if (first !== undefined && first <= addDays(g.asOf, -93)) expect(r.thinHistory).toBe(false);
        if (!r.thinHistory) return;
        expect(cuts(r), r.decision).toBe(false);
        if (r.currentLimit !== undefined && (r.recommendedLimit as number) < r.currentLimit) thinBelow++;
      }),
      { numRuns: RUNS },
    );
    expect(thinBelow).toBeGreaterThan(RUNS / 50);
    expect(noSales).toBeGreaterThan(RUNS / 20);
  });

  it('the same file gives the same assessment, decision and alert candidates, twice and in any order of its lists', () => {
    fc.assert(
      fc.property(creditFileArb, orderArb, (g, keys) => {
        const once = everything(g, g.file);
        expect(everything(g, g.file)).toEqual(once);
        const f = g.file;
        const shuffle = <T>(xs: readonly T[]) => reordered(xs, keys);
        const shuffled: CreditFile = {
          ...f,
          invoices: shuffle(f.invoices),
          payments: shuffle(f.payments),
          financials: shuffle(f.financials),
          guarantees: shuffle(f.guarantees),
          insurance: shuffle(f.insurance),
          scores: shuffle(f.scores),
          transfers: shuffle(f.transfers ?? []),
        };
        expect(orderFree(everything(g, shuffled))).toEqual(orderFree(once));
      }),
      { numRuns: RUNS },
    );
  });
});

/** Sort keys for reordering a list (a file's lists are at most 13 long). */
const orderArb = fc.array(fc.nat(), { minLength: 16, maxLength: 16 });

/** The list in the order of its positions' keys (ties in list order): any permutation, shrinking towards the original. */
function reordered<T>(xs: readonly T[], keys: readonly number[]): T[] {
  const key = (i: number) => keys[i % keys.length] as number;
  return xs
    .map((x, i) => ({ x, i }))
    .sort((a, b) => key(a.i) - key(b.i) || a.i - b.i)
    .map((e) => e.x);
}

/** What the code decides of a file: its assessment (with figures), the review's decision and the alert candidates. */
function everything(g: GeneratedFile, file: CreditFile) {
  const assessment = assess(file, g.asOf, POLICY);
  return {
    assessment,
    decision: decisionFor(file, assessment, g.alerts, POLICY),
    candidates: evaluateRules(file, assessment, POLICY),
  };
}

/**
 * Orders the code keeps from the file, by design, compared here as sets:
 * - the receivables keep the invoices in the order given, with what is open, settled and late of
 *   each at the same position (functions/core/receivables.ts, `Receivables`): compared by invoice id;
 * - the limit's cover lines list the guarantees, then the insurance, each in the file's order
 *   (functions/credit/assess.ts, `coverOf`), and the coverExpiring alert lists what expires soonest
 *   first, cover expiring on the same day in the file's order (functions/credit/rules.ts): compared
 *   by id. The store reads a customer's cover by key (GUAR#<id>, INS#<id>), so in one order.
 * Everything else must not depend on the order of the file's lists.
 */
function orderFree(d: ReturnType<typeof everything>) {
  const x = d.assessment.figures;
  const { invoices, open, settledDate, daysLate, ...receivables } = x.receivables;
  const byInvoice = invoices
    .map((inv, i) => ({ inv, open: open[i], settled: settledDate[i], late: daysLate[i] }))
    .sort((a, b) => (a.inv.invoiceId < b.inv.invoiceId ? -1 : 1));
  const byId = <C extends { kind: string; id: string }>(cs: readonly C[]) =>
    [...cs].sort((a, b) => (`${a.kind} ${a.id}` < `${b.kind} ${b.id}` ? -1 : 1));
  const limit = d.assessment.limit;
  return {
    ...d,
    assessment: {
      ...d.assessment,
      figures: { ...x, cover: byId(x.cover), receivables: { ...receivables, byInvoice } },
      limit: { ...limit, formula: { ...limit.formula, cover: byId(limit.formula.cover) } },
    },
    candidates: d.candidates.map((c) =>
      c.rule === 'coverExpiring'
        ? {
            ...c,
            facts: { ...c.facts, expiring: [...c.facts.expiring].sort((a, b) => (a.what < b.what ? -1 : 1)) },
          }
        : c,
    ),
  };
}
