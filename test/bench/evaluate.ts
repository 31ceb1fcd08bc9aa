/**
 * Evaluation benchmark: a book of 100k customers holding 1M invoices (and their payments, each
 * naming the invoice it pays), assessed and run through every early-warning rule as of one date,
 * beside DuckDB computing the aging buckets over the same rows in SQL. The aging totals of both
 * must agree to the cent before any time is reported.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import type { Aging } from '../../functions/core/receivables.ts';
import type { Invoice, Payment } from '../../functions/core/records.ts';
import { assess, type CreditFile, explainAssessment } from '../../functions/credit/assess.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { evaluateRules, explainCandidate } from '../../functions/credit/rules.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { prng } from './generate.ts';

export const EVAL_AS_OF: IsoDate = '2025-06-30';

/** 100k customers x 10 invoices over 2024-2025; about 70% paid (some partly, some late). */
export function generateBook(customers: number, invoicesEach: number, seed = 20250630): CreditFile[] {
  const rnd = prng(seed);
  const files: CreditFile[] = [];
  const start = '2024-01-01';
  for (let c = 0; c < customers; c++) {
    const customerId = `C${String(c).padStart(6, '0')}`;
    const invoices: Invoice[] = [];
    const payments: Payment[] = [];
    for (let k = 0; k < invoicesEach; k++) {
      const issueDate = addDays(start, Math.floor(rnd() * 540));
      const dueDate = addDays(issueDate, [30, 30, 45, 60][Math.floor(rnd() * 4)] as number);
      const amount = 1000 + Math.floor(rnd() * 9_999_000);
      const invoiceId = `I${c}-${k}`;
      invoices.push({
        customerId,
        invoiceId,
        issueDate,
        dueDate,
        amount,
        currency: 'EUR',
        disputed: rnd() < 0.03,
      });
      const r = rnd();
      if (r < 0.7) {
        const paid = r < 0.6 ? amount : Math.floor(amount / 2);
        payments.push({
          customerId,
          paymentId: `P${c}-${k}`,
          receivedDate: addDays(dueDate, Math.floor(rnd() * 40) - 10),
          amount: paid,
          currency: 'EUR',
          invoiceIds: [invoiceId],
        });
      }
    }
    files.push({
      customerId,
      customer: {
        customerId,
        name: customerId,
        currency: 'EUR',
        creditLimit: 50_000_00 + Math.floor(rnd() * 500_000_00),
      },
      currency: 'EUR',
      invoices,
      payments,
      financials: [],
      guarantees: [],
      insurance: [],
      scores: [],
    });
  }
  return files;
}

export interface EvaluationBench {
  readonly customers: number;
  readonly invoices: number;
  readonly seconds: number;
  readonly alerts: number;
  readonly aging: Aging;
}

/**
 * Assesses every customer and runs every rule: the work of one evaluation, without the store.
 * With `words`, every assessment and finding is also put in words (factor reasons, limit basis,
 * alert summaries and evidence): what a first daily run stores, when nothing was stored before.
 */
export function evaluateBook(
  files: readonly CreditFile[],
  asOf: IsoDate = EVAL_AS_OF,
  words = false,
): EvaluationBench {
  const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
  const aging: Aging = { notDue: 0, d1_30: 0, d31_60: 0, d61_90: 0, d91_180: 0, over180: 0 };
  let alerts = 0;
  let invoices = 0;
  let said = 0;
  const t0 = performance.now();
  for (const f of files) {
    const a = assess(f, asOf, policy);
    const found = evaluateRules(f, a, policy);
    alerts += found.length;
    if (words) {
      said += explainAssessment(a).factors.length;
      for (const c of found) said += explainCandidate(c).summary.length > 0 ? 1 : 0;
    }
    const g = a.figures.receivables.summary.aging;
    aging.notDue += g.notDue;
    aging.d1_30 += g.d1_30;
    aging.d31_60 += g.d31_60;
    aging.d61_90 += g.d61_90;
    aging.d91_180 += g.d91_180;
    aging.over180 += g.over180;
    invoices += f.invoices.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (words && said === 0) throw new Error('nothing was put in words');
  return { customers: files.length, invoices, seconds, alerts, aging };
}

/** The same aging buckets in SQL over the same rows (loaded into DuckDB first, not timed). */
export async function duckdbAging(
  files: readonly CreditFile[],
  asOf: IsoDate = EVAL_AS_OF,
  runs = 5,
): Promise<{ seconds: number; aging: Aging }> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  try {
    await conn.run(
      'CREATE TABLE invoices (customer_id VARCHAR, invoice_id VARCHAR, issue_date DATE, due_date DATE, amount BIGINT)',
    );
    await conn.run(
      'CREATE TABLE payments (customer_id VARCHAR, invoice_id VARCHAR, received_date DATE, amount BIGINT)',
    );
    const inv = await conn.createAppender('invoices');
    const pay = await conn.createAppender('payments');
    for (const f of files) {
      for (const i of f.invoices) {
        inv.appendVarchar(i.customerId);
        inv.appendVarchar(i.invoiceId);
        inv.appendVarchar(i.issueDate);
        inv.appendVarchar(i.dueDate);
        inv.appendBigInt(BigInt(i.amount));
        inv.endRow();
      }
      for (const p of f.payments) {
        pay.appendVarchar(p.customerId);
        pay.appendVarchar(p.invoiceIds[0] as string);
        pay.appendVarchar(p.receivedDate);
        pay.appendBigInt(BigInt(p.amount));
        pay.endRow();
      }
    }
    inv.closeSync();
    pay.closeSync();
    const d = `DATE '${asOf}'`;
    const bucket = (cond: string) => `sum(open) FILTER (WHERE ${cond})::BIGINT`;
    const sql = `
      WITH paid AS (
        SELECT customer_id, invoice_id, sum(amount) AS paid FROM payments
        WHERE received_date <= ${d} GROUP BY customer_id, invoice_id),
      open_items AS (
        SELECT i.customer_id, i.amount - coalesce(p.paid, 0) AS open, ${d} - i.due_date AS dpd
        FROM invoices i LEFT JOIN paid p USING (customer_id, invoice_id)
        WHERE i.issue_date <= ${d} AND i.amount - coalesce(p.paid, 0) > 0),
      per_customer AS (
        SELECT customer_id,
          ${bucket('dpd <= 0')} AS not_due, ${bucket('dpd BETWEEN 1 AND 30')} AS d1_30,
          ${bucket('dpd BETWEEN 31 AND 60')} AS d31_60, ${bucket('dpd BETWEEN 61 AND 90')} AS d61_90,
          ${bucket('dpd BETWEEN 91 AND 180')} AS d91_180, ${bucket('dpd > 180')} AS over180
        FROM open_items GROUP BY customer_id)
      SELECT sum(not_due)::VARCHAR a, sum(d1_30)::VARCHAR b, sum(d31_60)::VARCHAR c, sum(d61_90)::VARCHAR e,
             sum(d91_180)::VARCHAR f, sum(over180)::VARCHAR g, count(*)::BIGINT n FROM per_customer`;
    let best = Number.POSITIVE_INFINITY;
    let row: Record<string, unknown> = {};
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const reader = await conn.runAndReadAll(sql);
      best = Math.min(best, (performance.now() - t0) / 1000);
      row = reader.getRowObjectsJS()[0] as Record<string, unknown>;
    }
    const n = (k: string) => Number(row[k] ?? 0);
    return {
      seconds: best,
      aging: {
        notDue: n('a'),
        d1_30: n('b'),
        d31_60: n('c'),
        d61_90: n('e'),
        d91_180: n('f'),
        over180: n('g'),
      },
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
