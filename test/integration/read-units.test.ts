import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { seeded } from './ingest-books.ts';
import { evaluateQuietly, ingestText, meter } from './read-meter.ts';

/**
 * What a daily evaluation costs in DynamoDB read units per customer (issue 16: target at most 25
 * with a year of history), counted from the store's own ReturnConsumedCapacity on every read of
 * the run (dynalite computes it as DynamoDB does: a Query's items summed, rounded up to 4 KB, half
 * for an eventually consistent read). The book: a year of weekly, twice-weekly and every-working-day
 * invoices, each paid on its own payment a few days either side of its due date, the last weeks open.
 */
const TODAY: IsoDate = '2026-11-30';
const START = addDays(TODAY, -365);
/** Invoices a year, by customer kind: weekly, twice a week, every working day. */
const CADENCE = { weekly: 52, twiceWeekly: 104, daily: 260 } as const;
type Cadence = keyof typeof CADENCE;
const PER_CADENCE = 6;

function book(): Record<string, string> {
  const random = seeded(16);
  const customers = ['customer_id,name,country,industry,currency,payment_terms_days,credit_limit'];
  const invoices = ['invoice_id,customer_id,issue_date,due_date,amount,currency'];
  const payments = ['payment_id,customer_id,received_date,amount,currency,invoice_id'];
  for (const cadence of Object.keys(CADENCE) as Cadence[])
    for (let c = 0; c < PER_CADENCE; c++) {
      const id = `${cadence}-${c}`;
      customers.push(`${id},Customer ${id},DE,wholesale,EUR,30,${(50_000 + c * 10_000).toFixed(2)}`);
      const n = CADENCE[cadence];
      for (let i = 0; i < n; i++) {
        const issued = addDays(START, Math.floor((i * 365) / n));
        const due = addDays(issued, 30);
        const amount = `${100 + Math.floor(random() * 4900)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`;
        invoices.push(`${id}-I${i},${id},${issued},${due},${amount},EUR`);
        const paid = addDays(due, Math.floor(random() * 25) - 8);
        if (paid < TODAY) payments.push(`${id}-P${i},${id},${paid},${amount},EUR,${id}-I${i}`);
      }
    }
  return {
    'customers/c.csv': customers.join('\n'),
    'invoices/i.csv': invoices.join('\n'),
    'payments/p.csv': payments.join('\n'),
  };
}

describe('read units of a daily evaluation with a year of history', () => {
  let env: LocalEnv;
  const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
  const run = (asOf: IsoDate, customerIds?: string[]) =>
    evaluateQuietly(env, policy, asOf, customerIds ? { customerIds } : {});

  beforeAll(async () => {
    env = await openLocal({ inMemory: true });
    for (const [name, text] of Object.entries(book()))
      await ingestText(env, name, text, new Date(`${TODAY}T04:00:00Z`));
    // The runs of the days before stored each assessment and its alerts, packed the settled
    // history (README "Settled history, packed") and then deleted the packed rows' full copies,
    // 250 a customer a run: today's run reads them as an ordinary day does (a packing's own reads
    // come every hundred settled rows a customer).
    for (const d of [3, 2, 1]) await run(addDays(TODAY, -d));
  }, 120_000);
  afterAll(async () => env?.close());

  it('is at most 25 a customer, whether it invoices weekly, twice a week or every working day', async () => {
    const m = meter(env.store.client);
    // The customer's own read (its partition: open and settled items, master data, assessment,
    // active alerts), by how often it invoices.
    const partition: Record<Cadence, number[]> = { weekly: [], twiceWeekly: [], daily: [] };
    for (const cadence of Object.keys(CADENCE) as Cadence[])
      for (let c = 0; c < PER_CADENCE; c++) {
        m.units = 0;
        m.on = true;
        await env.store.loadCustomerPartition(`${cadence}-${c}`);
        m.on = false;
        partition[cadence].push(m.units);
      }
    // The whole daily run: the customer list, every partition, the book's summaries, the alerts.
    m.units = 0;
    m.on = true;
    const whole = await run(TODAY);
    m.on = false;
    const customers = PER_CADENCE * 3;
    expect(whole.customers).toBe(customers);
    const max = (k: Cadence) => Math.max(...partition[k]);
    console.log(
      `read units: a customer's partition ${(Object.keys(CADENCE) as Cadence[]).map((k) => `${CADENCE[k]} invoices a year ${max(k)}`).join(', ')}; the daily run ${m.units} for ${customers} customers (${(m.units / customers).toFixed(2)} each)`,
    );
    expect(max('weekly')).toBeLessThan(max('twiceWeekly'));
    expect(max('twiceWeekly')).toBeLessThan(max('daily'));
    expect(max('daily')).toBeLessThanOrEqual(25);
    expect(m.units / customers).toBeLessThanOrEqual(25);
  });
});
