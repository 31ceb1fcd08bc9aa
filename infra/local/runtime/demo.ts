import { addDays, type IsoDate } from '../../../functions/core/dates.ts';

/**
 * A deterministic demo book for a newcomer's first `npm start`: customers in four currencies with
 * credit limits and industries, a year of invoices and payments (good, slow and bad payers, one
 * whose payments drift later, one that stopped paying, a dispute, an overpayment, a large
 * prepayment, a payment naming an unknown invoice), FX rates, guarantees (one expiring within 30
 * days), credit insurance, financial statements (healthy, distressed and stale ones), agency scores,
 * and a few bad rows so the rejects report has something to say. The first evaluation finds alerts
 * of most rules on it.
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

type Behaviour =
  | 'good'
  | 'slow'
  | 'bad'
  /** paid on time until about five months ago, weeks late since */
  | 'drifting'
  /** paid on time, and nothing at all in the last 75 days */
  | 'stopped';

/** name, country, industry (as the policy classes it, or not), credit currency, behaviour, credit limit */
const CAST: readonly (readonly [string, string, string, string, Behaviour, number | undefined])[] = [
  ['Nordlicht Logistik GmbH', 'DE', 'transport', 'EUR', 'good', 150_000],
  ['Helios Components SA', 'FR', 'manufacturing', 'EUR', 'slow', 120_000],
  ['Baltic Timber AS', 'EE', 'wholesale', 'EUR', 'good', 100_000],
  ['Atlas Retail Ltd', 'GB', 'retail', 'GBP', 'bad', 60_000],
  ['Thames Valley Foods plc', 'GB', 'food', 'GBP', 'slow', 90_000],
  ['Great Lakes Supply Inc', 'US', 'wholesale', 'USD', 'good', 70_000],
  ['Pinecrest Construction LLC', 'US', 'construction', 'USD', 'stopped', 100_000],
  ['Sunbelt Medical Devices Inc', 'US', 'healthcare', 'USD', 'good', 100_000],
  ['Cascade Outdoor Co', 'US', 'retail', 'USD', 'bad', 80_000],
  ['上海华宇电子有限公司', 'CN', 'technology', 'CNY', 'good', 1_500_000],
  ['深圳恒达物流有限公司', 'CN', 'transport', 'CNY', 'slow', 1_200_000],
  ['Iberia Textiles SL', 'ES', 'manufacturing', 'EUR', 'good', undefined],
  ['Alpine Precision AG', 'CH', 'manufacturing', 'EUR', 'drifting', 150_000],
  ['Marina Hospitality Srl', 'IT', 'hospitality', 'EUR', 'bad', 80_000],
  ['Redwood Software Corp', 'US', 'technology', 'USD', 'good', 200_000],
  ['Northern Energy Services Ltd', 'GB', 'utilities', 'GBP', 'good', 100_000],
];

export interface DemoFiles {
  readonly [relativePath: string]: string;
}

/** Days late of one invoice for a behaviour (negative: paid early). */
function daysLate(b: Behaviour, due: IsoDate, today: IsoDate, r: () => number): number {
  switch (b) {
    case 'good':
    case 'stopped':
      return Math.floor(r() * 6) - 3;
    case 'slow':
      return 3 + Math.floor(r() * 20);
    case 'bad':
      return 30 + Math.floor(r() * 120);
    case 'drifting':
      return due >= addDays(today, -150) ? 25 + Math.floor(r() * 20) : Math.floor(r() * 6) - 3;
  }
}

/** The cast member filed without a billing address (Pinecrest Construction, C1007). */
const noBillingAddress = (i: number) => i === 6;

/** 31 December `yearsBack` years before today's year. */
const yearEnd = (today: IsoDate, yearsBack: number) => `${Number(today.slice(0, 4)) - yearsBack}-12-31`;

export function demoFiles(today: IsoDate, seed = 20261123): DemoFiles {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const start = addDays(today, -390);

  const customers = [
    'customer_id,name,country,industry,currency,payment_terms_days,credit_limit,registration_no,billing_email,billing_contact,language',
  ];
  const book: { id: string; ccy: string; terms: number; behaviour: Behaviour }[] = [];
  CAST.forEach(([name, country, industry, ccy, behaviour, limit], i) => {
    const id = `C${String(1001 + i)}`;
    const terms = pick([30, 30, 45, 60]);
    // Where reminders go: an example domain (RFC 2606, nobody receives there); one customer has
    // no billing address on file, so its emailed levels become calls (README "Collections").
    const slug =
      name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '') || id.toLowerCase();
    const billing = noBillingAddress(i)
      ? ',,'
      : `ap@${slug}.example.com,Accounts payable,${ccy === 'CNY' ? 'zh' : 'en'}`;
    customers.push(
      `${id},"${name}",${country},${industry},${ccy},${terms},${limit === undefined ? '' : limit.toFixed(2)},REG-${100000 + i * 7919},${billing}`,
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
      // Lately some customers are billed in USD, converted to their credit currency at ingest.
      const ccy = c.ccy !== 'USD' && due > today && r() < 0.25 ? 'USD' : c.ccy;
      const amount = ((ccy === 'CNY' ? 20000 : 2000) + r() * (ccy === 'CNY' ? 300000 : 40000)).toFixed(2);
      const disputed = r() < 0.03;
      invoices.push(`${id},${c.id},${d},${due},${amount},${ccy},${disputed ? 'yes' : 'no'}`);
      // A dispute holds the payment a month, until it is settled.
      const paidOn = addDays(due, daysLate(c.behaviour, due, today, r) + (disputed ? 30 : 0));
      if (paidOn > today || (c.behaviour === 'bad' && r() < 0.25)) continue;
      if (c.behaviour === 'stopped' && paidOn > addDays(today, -75)) continue;
      // Some remittances of punctual payers name no invoice: allocated oldest due first, which is this one.
      const reference = r() < 0.85 || c.behaviour !== 'good' ? id : '';
      payments.push(`P-${pay++},${c.id},${paidOn},${amount},${ccy},${reference}`);
    }
  }
  // A large dispute, raised last week on an invoice issued three weeks ago.
  invoices.push(`INV-${inv++},C1005,${addDays(today, -24)},${addDays(today, 6)},38500.00,GBP,yes`);
  // An overpayment and a payment naming an invoice that is not on file: both kept as unapplied cash.
  payments.push(`P-${pay++},C1001,${addDays(today, -10)},1500.00,EUR,`);
  payments.push(`P-${pay++},C1006,${addDays(today, -5)},2750.00,USD,INV-99999`);
  // A prepayment far above anything this customer paid before.
  payments.push(`P-${pay++},C1003,${addDays(today, -2)},185000.00,EUR,`);
  // Rows a finance file really contains, each rejected with its reason.
  invoices.push(`INV-BAD1,C1002,2025-02-30,2025-03-30,100.00,EUR,no`);
  invoices.push(`INV-BAD2,C1003,${addDays(today, -30)},${today},-250.00,EUR,no`);
  invoices.push(`INV-BAD3,C1004,${addDays(today, -30)},${today},990.00,XYZ,no`);
  invoices.push(`INV-50000,C1001,${addDays(today, -20)},${today},100.00,EUR,no`);

  // Bank guarantees: one expires within 30 days (the cover-expiring rule), one runs another year.
  const guarantees = [
    'guarantee_id,customer_id,issuer,amount,currency,valid_from,expiry_date',
    `G-ATL-01,C1004,"Barclays Bank PLC",50000.00,GBP,${addDays(today, -345)},${addDays(today, 18)}`,
    `G-RSC-01,C1015,"JPMorgan Chase Bank N.A.",60000.00,USD,${addDays(today, -120)},${addDays(today, 400)}`,
    `G-HEL-01,C1002,"BNP Paribas",40000.00,EUR,${addDays(today, -200)},${addDays(today, 165)}`,
  ];
  // Credit insurance (the insured share written both ways the upload takes).
  const insurance = [
    'policy_id,customer_id,insurer,insured_share,cap,currency,valid_from,expiry_date',
    `CI-77120,C1009,"Allianz Trade",90%,100000.00,USD,${addDays(today, -160)},${addDays(today, 205)}`,
    `CI-80455,C1014,"Atradius",0.85,60000.00,EUR,${addDays(today, -300)},${addDays(today, 65)}`,
  ];
  // Financial statements, in each customer's credit currency: healthy, middling, distressed, stale.
  const fin = [
    'customer_id,period_end,currency,revenue,current_assets,current_liabilities,inventory,total_assets,total_liabilities,retained_earnings,ebit,equity',
    `C1008,${yearEnd(today, 2)},USD,44100000.00,12600000.00,5900000.00,3800000.00,28200000.00,10900000.00,10400000.00,4600000.00,17300000.00`,
    `C1008,${yearEnd(today, 1)},USD,48000000.00,14000000.00,6000000.00,4000000.00,30000000.00,11000000.00,12000000.00,5200000.00,19000000.00`,
    `C1002,${yearEnd(today, 1)},EUR,22000000.00,7500000.00,5000000.00,2500000.00,16000000.00,9000000.00,3000000.00,1100000.00,7000000.00`,
    `C1015,${yearEnd(today, 1)},USD,35000000.00,16000000.00,7000000.00,500000.00,26000000.00,9500000.00,11000000.00,6100000.00,16500000.00`,
    `C1014,${yearEnd(today, 1)},EUR,4200000.00,600000.00,1500000.00,80000.00,5000000.00,5400000.00,-1300000.00,-350000.00,-400000.00`,
    `C1012,${yearEnd(today, 3)},EUR,9800000.00,3900000.00,2600000.00,1400000.00,7400000.00,3700000.00,2100000.00,640000.00,3700000.00`,
  ];
  // Agency scores, each on the agency's own scale (0 = worst).
  const scores = [
    'customer_id,agency,score_date,score,scale_max',
    `C1008,Dun & Bradstreet,${addDays(today, -40)},88,100`,
    `C1006,Dun & Bradstreet,${addDays(today, -75)},79,100`,
    `C1002,Creditsafe,${addDays(today, -30)},61,100`,
    `C1013,Creditsafe,${addDays(today, -200)},74,100`,
    `C1013,Creditsafe,${addDays(today, -15)},58,100`,
    `C1014,Creditsafe,${addDays(today, -20)},22,100`,
    `C1010,中诚信征信,${addDays(today, -60)},820,1000`,
    `C1011,中诚信征信,${addDays(today, -60)},540,1000`,
  ];

  const csv = (lines: string[]) => `${lines.join('\n')}\n`;
  return {
    'customers/demo-customers.csv': csv(customers),
    'fx/demo-fx.csv': csv(fx),
    'financials/demo-financials.csv': csv(fin),
    'guarantees/demo-guarantees.csv': csv(guarantees),
    'insurance/demo-insurance.csv': csv(insurance),
    'scores/demo-scores.csv': csv(scores),
    'invoices/demo-invoices.csv': csv(invoices),
    'payments/demo-payments.csv': csv(payments),
  };
}
