import { addDays, type IsoDate } from '../../functions/core/dates.ts';

/**
 * A deterministic demo book for a newcomer's first `npm start`: customers in four currencies,
 * a year of invoices and payments (good, slow and bad payers, a dispute, an overpayment, a payment
 * naming an unknown invoice), FX rates, and a few bad rows so the rejects report has something to say.
 */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  ['Nordlicht Logistik GmbH', 'DE', 'logistics', 'EUR'],
  ['Helios Components SA', 'FR', 'manufacturing', 'EUR'],
  ['Baltic Timber AS', 'EE', 'wholesale', 'EUR'],
  ['Atlas Retail Ltd', 'GB', 'retail', 'GBP'],
  ['Thames Valley Foods plc', 'GB', 'food', 'GBP'],
  ['Great Lakes Supply Inc', 'US', 'wholesale', 'USD'],
  ['Pinecrest Construction LLC', 'US', 'construction', 'USD'],
  ['Sunbelt Medical Devices Inc', 'US', 'healthcare', 'USD'],
  ['Cascade Outdoor Co', 'US', 'retail', 'USD'],
  ['上海华宇电子有限公司', 'CN', 'electronics', 'CNY'],
  ['深圳恒达物流有限公司', 'CN', 'logistics', 'CNY'],
  ['Iberia Textiles SL', 'ES', 'textiles', 'EUR'],
  ['Alpine Precision AG', 'CH', 'manufacturing', 'EUR'],
  ['Marina Hospitality Srl', 'IT', 'hospitality', 'EUR'],
  ['Redwood Software Corp', 'US', 'software', 'USD'],
  ['Northern Energy Services Ltd', 'GB', 'energy', 'GBP'],
] as const;

type Behaviour = 'good' | 'slow' | 'bad';

export interface DemoFiles {
  readonly [relativePath: string]: string;
}

export function demoFiles(today: IsoDate, seed = 20261123): DemoFiles {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const start = addDays(today, -390);

  const customers = [
    'customer_id,name,country,industry,currency,payment_terms_days,credit_limit,registration_no',
  ];
  const book: { id: string; ccy: string; terms: number; behaviour: Behaviour }[] = [];
  NAMES.forEach(([name, country, industry, ccy], i) => {
    const id = `C${String(1001 + i)}`;
    const terms = pick([30, 30, 45, 60]);
    const behaviour: Behaviour = i % 5 === 3 ? 'bad' : i % 3 === 1 ? 'slow' : 'good';
    const limit = (pick([50, 80, 120, 200, 300]) * 1000).toFixed(2);
    customers.push(
      `${id},"${name}",${country},${industry},${ccy},${terms},${limit},REG-${100000 + i * 7919}`,
    );
    book.push({ id, ccy, terms, behaviour });
  });

  // Daily rates, a gentle random walk: quote per one USD.
  const fx = ['date,base,quote,rate'];
  const level: Record<string, number> = { EUR: 0.92, GBP: 0.79, CNY: 7.18 };
  for (let d = start; d <= today; d = addDays(d, 1)) {
    for (const q of ['EUR', 'GBP', 'CNY']) {
      level[q] = (level[q] as number) * (1 + (r() - 0.5) * 0.006);
      fx.push(`${d},USD,${q},${(level[q] as number).toFixed(q === 'CNY' ? 4 : 5)}`);
    }
  }

  const invoices = ['invoice_id,customer_id,issue_date,due_date,amount,currency,disputed'];
  const payments = ['payment_id,customer_id,received_date,amount,currency,invoice_id'];
  let inv = 50000;
  let pay = 90000;
  for (const c of book) {
    for (let d = addDays(start, Math.floor(r() * 20)); d <= today; d = addDays(d, 7 + Math.floor(r() * 21))) {
      const id = `INV-${inv++}`;
      const due = addDays(d, c.terms);
      // A few customers are sometimes billed in USD and converted to their credit currency.
      const ccy = c.ccy !== 'USD' && r() < 0.1 ? 'USD' : c.ccy;
      const amount = ((ccy === 'CNY' ? 20000 : 2000) + r() * (ccy === 'CNY' ? 300000 : 40000)).toFixed(2);
      const disputed = r() < 0.03;
      invoices.push(`${id},${c.id},${d},${due},${amount},${ccy},${disputed ? 'yes' : 'no'}`);
      const late =
        c.behaviour === 'good'
          ? Math.floor(r() * 6) - 3
          : c.behaviour === 'slow'
            ? 5 + Math.floor(r() * 35)
            : 30 + Math.floor(r() * 120);
      const paidOn = addDays(due, late);
      if (disputed || paidOn > today || (c.behaviour === 'bad' && r() < 0.25)) continue;
      if (ccy !== c.ccy) continue; // cross-currency invoices stay open for the demo
      const reference = r() < 0.85 ? id : ''; // some remittances name no invoice: allocated oldest due first
      payments.push(`P-${pay++},${c.id},${paidOn},${amount},${ccy},${reference}`);
    }
  }
  // An overpayment and a payment naming an invoice that is not on file: both kept as unapplied cash.
  payments.push(`P-${pay++},C1001,${addDays(today, -10)},1500.00,EUR,`);
  payments.push(`P-${pay++},C1006,${addDays(today, -5)},2750.00,USD,INV-99999`);
  // Rows a finance file really contains, each rejected with its reason.
  invoices.push(`INV-BAD1,C1002,2025-02-30,2025-03-30,100.00,EUR,no`);
  invoices.push(`INV-BAD2,C1003,${addDays(today, -30)},${today},-250.00,EUR,no`);
  invoices.push(`INV-BAD3,C1004,${addDays(today, -30)},${today},990.00,XYZ,no`);
  invoices.push(`INV-50000,C1001,${addDays(today, -20)},${today},100.00,EUR,no`);

  return {
    'customers/demo-customers.csv': `${customers.join('\n')}\n`,
    'fx/demo-fx.csv': `${fx.join('\n')}\n`,
    'invoices/demo-invoices.csv': `${invoices.join('\n')}\n`,
    'payments/demo-payments.csv': `${payments.join('\n')}\n`,
  };
}
