import { describe, expect, it } from 'vitest';
import type { Getter, RowStyle } from '../../functions/ingest/kinds.ts';
import { CANONICAL_STYLE, isKind, KINDS, rowSchema, SPECS } from '../../functions/ingest/kinds.ts';

const getter =
  (row: Record<string, string>): Getter =>
  (column) =>
    row[column] ?? '';

const rate = { date: '2025-03-01', base: 'usd', quote: 'eur', rate: ' 0.92 ' };

const EU_STYLE: RowStyle = { dateFormat: 'D.M.YYYY', decimal: ',', thousands: '.' };

const invoice = {
  invoice_id: 'INV-1',
  customer_id: 'C1',
  issue_date: '2025-03-01',
  due_date: '2025-03-31',
  amount: '1,234.50',
  currency: 'usd',
  disputed: '',
};

function invoiceIssues(change: Record<string, string>) {
  const r = SPECS.invoices.validate(getter({ ...invoice, ...change }), CANONICAL_STYLE);
  return r.ok ? [] : r.issues;
}

describe('kinds', () => {
  it('knows its kinds', () => {
    expect(KINDS).toEqual([
      'customers',
      'invoices',
      'payments',
      'financials',
      'fx',
      'guarantees',
      'insurance',
      'scores',
      'orders',
    ]);
    expect(isKind('invoices')).toBe(true);
    expect(isKind('orders')).toBe(true);
    expect(isKind('quotes')).toBe(false);
    expect(Object.keys(SPECS).sort()).toEqual([...KINDS].sort());
  });
});

describe('invoices', () => {
  it('turns a valid row into a typed row with minor units', () => {
    expect(SPECS.invoices.validate(getter(invoice), CANONICAL_STYLE)).toEqual({
      ok: true,
      row: {
        invoiceId: 'INV-1',
        customerId: 'C1',
        issueDate: '2025-03-01',
        dueDate: '2025-03-31',
        amount: 123450,
        currency: 'USD',
        disputed: false,
      },
    });
  });

  it('reads the file style: European numbers and D.M.YYYY dates', () => {
    const r = SPECS.invoices.validate(
      getter({ ...invoice, issue_date: '1.3.2025', due_date: '31.3.2025', amount: '1.234,50' }),
      EU_STYLE,
    );
    expect(r).toMatchObject({
      ok: true,
      row: { issueDate: '2025-03-01', dueDate: '2025-03-31', amount: 123450 },
    });
  });

  it('uses the currency digits for the amount', () => {
    const jpy = SPECS.invoices.validate(
      getter({ ...invoice, amount: '1,234', currency: 'JPY' }),
      CANONICAL_STYLE,
    );
    expect(jpy).toMatchObject({ ok: true, row: { amount: 1234, currency: 'JPY' } });
    const kwd = SPECS.invoices.validate(
      getter({ ...invoice, amount: '1.5', currency: 'KWD' }),
      CANONICAL_STYLE,
    );
    expect(kwd).toMatchObject({ ok: true, row: { amount: 1500, currency: 'KWD' } });
  });

  it.each([
    ['yes', true],
    ['Y', true],
    ['TRUE', true],
    ['1', true],
    ['x', true],
    ['是', true],
    ['Ja', true],
    ['oui', true],
    ['nein', false],
    ['Non', false],
    ['no', false],
    ['0', false],
    ['', false],
    ['否', false],
    [' No ', false],
  ])('disputed %j -> %s', (value, disputed) => {
    const r = SPECS.invoices.validate(getter({ ...invoice, disputed: value }), CANONICAL_STYLE);
    expect(r).toMatchObject({ ok: true, row: { disputed } });
  });

  it('a missing or blank id is required', () => {
    expect(invoiceIssues({ invoice_id: '' })).toEqual([
      { column: 'invoice_id', value: '', reason: 'is required' },
    ]);
    expect(invoiceIssues({ customer_id: '   ' })).toEqual([
      { column: 'customer_id', value: '   ', reason: 'is required' },
    ]);
    expect(invoiceIssues({ invoice_id: 'x'.repeat(129) })).toEqual([
      { column: 'invoice_id', value: 'x'.repeat(129), reason: 'is longer than 128 characters' },
    ]);
  });

  it('an impossible or missing date is refused with its reason', () => {
    expect(invoiceIssues({ issue_date: '2025-02-30' })).toEqual([
      { column: 'issue_date', value: '2025-02-30', reason: 'is not a real date (2025-02 has no day 30)' },
    ]);
    expect(invoiceIssues({ due_date: '31/03/2025' })).toEqual([
      { column: 'due_date', value: '31/03/2025', reason: 'is not a date in YYYY-MM-DD form' },
    ]);
    expect(invoiceIssues({ due_date: '' })).toEqual([
      { column: 'due_date', value: '', reason: 'is required' },
    ]);
  });

  it('a due date before the issue date is refused', () => {
    expect(invoiceIssues({ issue_date: '2025-03-10', due_date: '2025-03-01' })).toEqual([
      { column: 'due_date', value: '2025-03-01', reason: 'is before issue_date 2025-03-10' },
    ]);
    expect(invoiceIssues({ issue_date: '2025-03-10', due_date: '2025-03-10' })).toEqual([]);
  });

  it('zero and negative amounts are refused', () => {
    expect(invoiceIssues({ amount: '0' })).toEqual([
      { column: 'amount', value: '0', reason: 'must be greater than zero' },
    ]);
    expect(invoiceIssues({ amount: '0.00' })).toEqual([
      { column: 'amount', value: '0.00', reason: 'must be greater than zero' },
    ]);
    expect(invoiceIssues({ amount: '-5' })).toEqual([
      { column: 'amount', value: '-5', reason: 'must be greater than zero' },
    ]);
    expect(invoiceIssues({ amount: '' })).toEqual([{ column: 'amount', value: '', reason: 'is required' }]);
  });

  it('too many decimals and non-numbers are refused, naming the currency', () => {
    expect(invoiceIssues({ amount: '12.345' })).toEqual([
      { column: 'amount', value: '12.345', reason: 'has more than 2 decimals (USD)' },
    ]);
    expect(invoiceIssues({ amount: '12.5', currency: 'JPY' })).toEqual([
      { column: 'amount', value: '12.5', reason: 'has more than 0 decimals (JPY)' },
    ]);
    expect(invoiceIssues({ amount: 'ten' })).toEqual([
      { column: 'amount', value: 'ten', reason: 'is not a number (USD)' },
    ]);
    expect(invoiceIssues({ amount: '12,3,4' })).toEqual([
      { column: 'amount', value: '12,3,4', reason: 'has misplaced thousands separators (USD)' },
    ]);
  });

  it('a decimal comma in a dot-decimal file names the profile setting that reads it', () => {
    const hint = (v: string, dots = '') =>
      `"${v}" has a decimal comma: set "decimal": ","${dots} in a mapping profile, or load the file with the shipped profile eu-semicolon`;
    for (const v of ['1234,56', '12,34', '0,5', '-3,25'])
      expect(invoiceIssues({ amount: v })).toEqual([{ column: 'amount', value: v, reason: hint(v) }]);
    expect(invoiceIssues({ amount: ' 1.234,56 ' })).toEqual([
      { column: 'amount', value: ' 1.234,56 ', reason: hint('1.234,56', ' (with "thousands": ".")') },
    ]);
    // Thousands separators in groups of three stay thousands, as before: 1,234 is 1234.00.
    expect(SPECS.invoices.validate(getter({ ...invoice, amount: '1,234' }), CANONICAL_STYLE)).toMatchObject({
      ok: true,
      row: { amount: 123400 },
    });
    expect(invoiceIssues({ amount: '1,234.56' })).toEqual([]);
    // A profile without a thousands separator (the IBM sample's) gets the same advice.
    const plain: RowStyle = { dateFormat: 'YYYY-MM-DD', decimal: '.', thousands: '' };
    const r = SPECS.invoices.validate(getter({ ...invoice, amount: '1234,56' }), plain);
    expect(r).toEqual({
      ok: false,
      issues: [{ column: 'amount', value: '1234,56', reason: hint('1234,56') }],
    });
    // Read with a decimal comma, the same text is an amount.
    expect(
      SPECS.invoices.validate(
        getter({ ...invoice, issue_date: '1.3.2025', due_date: '31.3.2025', amount: '1234,56' }),
        EU_STYLE,
      ),
    ).toMatchObject({
      ok: true,
      row: { amount: 123456 },
    });
  });

  it('an unknown currency is refused', () => {
    expect(invoiceIssues({ currency: 'XYZ' })).toEqual([
      { column: 'currency', value: 'XYZ', reason: 'is not an ISO 4217 currency code' },
    ]);
    expect(invoiceIssues({ currency: '' })).toEqual([
      { column: 'currency', value: '', reason: 'is required' },
    ]);
  });

  it('a bad disputed value is refused', () => {
    expect(invoiceIssues({ disputed: 'maybe' })).toEqual([
      { column: 'disputed', value: 'maybe', reason: 'is not yes/no, true/false or 1/0' },
    ]);
  });

  it('reports every bad field of a row, not just the first', () => {
    const columns = invoiceIssues({
      invoice_id: '',
      issue_date: 'x',
      amount: '-1',
      currency: 'usd',
      disputed: '?',
    }).map((i) => i.column);
    expect(columns.sort()).toEqual(['amount', 'disputed', 'invoice_id', 'issue_date']);
  });

  it('keys a row by customer and invoice id', () => {
    const r = SPECS.invoices.validate(getter(invoice), CANONICAL_STYLE);
    if (!r.ok) throw new Error('valid row refused');
    expect(SPECS.invoices.key(r.row)).toEqual(['C1', 'INV-1']);
  });
});

describe('numbers from spreadsheets (a cell holding a number, not text)', () => {
  /** A getter whose amount cell holds the number `x`, as an Excel numeric cell or a JSON number does. */
  const numeric = (x: number, change: Record<string, string> = {}): Getter =>
    Object.assign(getter({ ...invoice, amount: String(x), ...change }), {
      number: (c: string) => (c === 'amount' ? x : undefined),
    });
  const amountOf = (g: Getter) => SPECS.invoices.validate(g, CANONICAL_STYLE);

  it('reads a formula result within floating-point error of a whole cent as that amount', () => {
    expect(100 * 1.1).toBe(110.00000000000001);
    expect(amountOf(numeric(100 * 1.1))).toMatchObject({ ok: true, row: { amount: 11000 } });
    expect(amountOf(numeric(0.1 + 0.2))).toMatchObject({ ok: true, row: { amount: 30 } });
    expect(amountOf(numeric(1500.25))).toMatchObject({ ok: true, row: { amount: 150025 } });
    expect(amountOf(numeric(1e9 * 1.1 + 0.07))).toMatchObject({ ok: true, row: { amount: 110000000007 } });
    expect(amountOf(numeric(1000 * 1.1, { currency: 'JPY' }))).toMatchObject({
      ok: true,
      row: { amount: 1100 },
    });
  });

  it('still refuses a real third decimal, and never rounds decimal text', () => {
    expect(amountOf(numeric(110.005))).toEqual({
      ok: false,
      issues: [{ column: 'amount', value: '110.005', reason: 'has more than 2 decimals (USD)' }],
    });
    expect(amountOf(numeric(110.0000001))).toMatchObject({ ok: false });
    expect(amountOf(getter({ ...invoice, amount: '110.00000000000001' }))).toEqual({
      ok: false,
      issues: [{ column: 'amount', value: '110.00000000000001', reason: 'has more than 2 decimals (USD)' }],
    });
  });

  it('reads an insured share computed by a formula', () => {
    const cover = {
      policy_id: 'P1',
      customer_id: 'C1',
      insurer: 'Atradius',
      insured_share: String(0.3 * 3),
      cap: '1000.00',
      currency: 'EUR',
      expiry_date: '2026-01-01',
    };
    const g = Object.assign(getter(cover), {
      number: (c: string) => (c === 'insured_share' ? 0.3 * 3 : undefined),
    });
    expect(SPECS.insurance.validate(g, CANONICAL_STYLE)).toMatchObject({
      ok: true,
      row: { insuredShareBp: 9000 },
    });
  });
});

describe('payments', () => {
  const payment = {
    payment_id: 'PAY-1',
    customer_id: 'C1',
    received_date: '2025-03-15',
    amount: '500',
    currency: 'EUR',
  };

  it('turns a valid row into a typed row; no reference means no invoice ids', () => {
    expect(SPECS.payments.validate(getter(payment), CANONICAL_STYLE)).toEqual({
      ok: true,
      row: {
        paymentId: 'PAY-1',
        customerId: 'C1',
        receivedDate: '2025-03-15',
        amount: 50000,
        currency: 'EUR',
        invoiceIds: [],
      },
    });
  });

  it("splits invoice_id on ';', trims, drops blanks and duplicates", () => {
    const r = SPECS.payments.validate(
      getter({ ...payment, invoice_id: 'INV-1; INV-2 ;INV-1;; INV-3' }),
      CANONICAL_STYLE,
    );
    expect(r).toMatchObject({ ok: true, row: { invoiceIds: ['INV-1', 'INV-2', 'INV-3'] } });
    const blank = SPECS.payments.validate(getter({ ...payment, invoice_id: '  ' }), CANONICAL_STYLE);
    expect(blank).toMatchObject({ ok: true, row: { invoiceIds: [] } });
  });

  it('refuses an over-long invoice reference, a zero amount and a bad date', () => {
    const r = SPECS.payments.validate(
      getter({
        ...payment,
        invoice_id: `INV-1;${'x'.repeat(129)}`,
        amount: '0',
        received_date: '2025-02-29',
      }),
      CANONICAL_STYLE,
    );
    expect(r).toEqual({
      ok: false,
      issues: [
        {
          column: 'received_date',
          value: '2025-02-29',
          reason: 'is not a real date (2025-02 has no day 29)',
        },
        { column: 'amount', value: '0', reason: 'must be greater than zero' },
        { column: 'invoice_id', value: `INV-1;${'x'.repeat(129)}`, reason: 'has an id that is too long' },
      ],
    });
  });
});

describe('customers', () => {
  it('turns a valid row into a customer with its credit limit in minor units', () => {
    const r = SPECS.customers.validate(
      getter({
        customer_id: 'C1',
        name: ' Acme GmbH ',
        country: 'DE',
        industry: 'Machinery',
        currency: 'eur',
        payment_terms_days: '30',
        credit_limit: '50,000',
        registration_no: 'HRB 123',
      }),
      CANONICAL_STYLE,
    );
    expect(r).toEqual({
      ok: true,
      row: {
        customerId: 'C1',
        name: 'Acme GmbH',
        country: 'DE',
        industry: 'Machinery',
        currency: 'EUR',
        paymentTermsDays: 30,
        creditLimit: 5000000,
        registrationNo: 'HRB 123',
      },
    });
  });

  it('leaves optional fields undefined when blank', () => {
    expect(SPECS.customers.validate(getter({ customer_id: 'C1', name: 'Acme' }), CANONICAL_STYLE)).toEqual({
      ok: true,
      row: {
        customerId: 'C1',
        name: 'Acme',
        country: undefined,
        industry: undefined,
        currency: undefined,
        paymentTermsDays: undefined,
        creditLimit: undefined,
        registrationNo: undefined,
      },
    });
  });

  it('keeps where reminders go: one billing address, whom to greet, the language', () => {
    const r = SPECS.customers.validate(
      getter({
        customer_id: 'C1',
        name: 'Acme',
        billing_email: ' ap@acme.example.com ',
        billing_contact: 'Anna Weber',
        language: 'zh_CN',
      }),
      CANONICAL_STYLE,
    );
    expect(r).toMatchObject({
      ok: true,
      row: { billingEmail: 'ap@acme.example.com', billingContact: 'Anna Weber', language: 'zh' },
    });
  });

  it('refuses a billing address that is not one address, and a language reminders are not written in', () => {
    for (const bad of [
      'acme.example.com',
      'a@b',
      'Anna <ap@acme.example.com>',
      'a@x.com; b@x.com',
      'a b@x.com',
    ])
      expect(
        SPECS.customers.validate(
          getter({ customer_id: 'C1', name: 'Acme', billing_email: bad }),
          CANONICAL_STYLE,
        ),
      ).toEqual({
        ok: false,
        issues: [
          { column: 'billing_email', value: bad, reason: 'is not one email address (name@example.com)' },
        ],
      });
    expect(
      SPECS.customers.validate(getter({ customer_id: 'C1', name: 'Acme', language: 'fr' }), CANONICAL_STYLE),
    ).toEqual({
      ok: false,
      issues: [
        { column: 'language', value: 'fr', reason: 'is not a language reminders are written in: en or zh' },
      ],
    });
  });

  it('refuses a credit limit without a currency', () => {
    const r = SPECS.customers.validate(
      getter({ customer_id: 'C1', name: 'Acme', credit_limit: '1000' }),
      CANONICAL_STYLE,
    );
    expect(r).toEqual({
      ok: false,
      issues: [
        { column: 'credit_limit', value: '1000', reason: 'needs a currency: fill the currency column' },
      ],
    });
  });

  it('refuses a negative limit, bad payment terms, a missing name', () => {
    const r = SPECS.customers.validate(
      getter({
        customer_id: 'C1',
        name: '',
        currency: 'USD',
        credit_limit: '-1',
        payment_terms_days: '30.5',
      }),
      CANONICAL_STYLE,
    );
    expect(r).toEqual({
      ok: false,
      issues: [
        { column: 'name', value: '', reason: 'is required' },
        { column: 'credit_limit', value: '-1', reason: 'must not be negative' },
        { column: 'payment_terms_days', value: '30.5', reason: 'is not a whole number from 0 to 3650' },
      ],
    });
    const terms = SPECS.customers.validate(
      getter({ customer_id: 'C1', name: 'A', payment_terms_days: '3651' }),
      CANONICAL_STYLE,
    );
    expect(terms).toMatchObject({ ok: false, issues: [{ column: 'payment_terms_days' }] });
  });
});

describe('financials', () => {
  it('reads every figure in minor units, negatives allowed, blanks undefined', () => {
    const r = SPECS.financials.validate(
      getter({
        customer_id: 'C1',
        period_end: '31.12.2024',
        currency: 'EUR',
        revenue: '1.000.000,00',
        retained_earnings: '-250.000,5',
        ebit: '0',
      }),
      EU_STYLE,
    );
    expect(r).toEqual({
      ok: true,
      row: {
        customerId: 'C1',
        periodEnd: '2024-12-31',
        currency: 'EUR',
        revenue: 100000000,
        currentAssets: undefined,
        currentLiabilities: undefined,
        inventory: undefined,
        totalAssets: undefined,
        totalLiabilities: undefined,
        retainedEarnings: -25000050,
        ebit: 0,
        equity: undefined,
      },
    });
  });

  it('refuses a bad figure naming its column', () => {
    const r = SPECS.financials.validate(
      getter({ customer_id: 'C1', period_end: '2024-12-31', currency: 'USD', total_assets: '1.234' }),
      CANONICAL_STYLE,
    );
    expect(r).toEqual({
      ok: false,
      issues: [{ column: 'total_assets', value: '1.234', reason: 'has more than 2 decimals (USD)' }],
    });
  });
});

describe('fx', () => {
  it('keeps a valid rate as exact decimal text', () => {
    expect(SPECS.fx.validate(getter(rate), CANONICAL_STYLE)).toEqual({
      ok: true,
      row: { date: '2025-03-01', base: 'USD', quote: 'EUR', rate: '0.92' },
    });
  });

  it("reads a decimal comma when the file's style uses one", () => {
    const r = SPECS.fx.validate(getter({ ...rate, date: '1.3.2025', rate: '0,92' }), EU_STYLE);
    expect(r).toEqual({ ok: true, row: { date: '2025-03-01', base: 'USD', quote: 'EUR', rate: '0.92' } });
  });

  it('refuses the same base and quote', () => {
    expect(SPECS.fx.validate(getter({ ...rate, quote: 'USD' }), CANONICAL_STYLE)).toEqual({
      ok: false,
      issues: [{ column: 'quote', value: 'USD', reason: 'is the same currency as base' }],
    });
  });

  it.each([
    ['0', 'must be greater than zero'],
    ['-1', 'is not a positive decimal number'],
    ['abc', 'is not a positive decimal number'],
    ['', 'is not a positive decimal number'],
    ['1.1234567890123', 'has more than 12 decimals'],
    [
      '1,0845',
      '"1,0845" has a decimal comma: set "decimal": "," in a mapping profile, or load the file with the shipped profile eu-semicolon',
    ],
  ])('refuses rate %j: %s', (value, reason) => {
    expect(SPECS.fx.validate(getter({ ...rate, rate: value }), CANONICAL_STYLE)).toEqual({
      ok: false,
      issues: [{ column: 'rate', value, reason }],
    });
  });

  it('refuses unknown currencies and a bad date', () => {
    const r = SPECS.fx.validate(
      getter({ date: '2025-13-01', base: 'ABC', quote: 'EUR', rate: '1' }),
      CANONICAL_STYLE,
    );
    expect(r).toEqual({
      ok: false,
      issues: [
        { column: 'date', value: '2025-13-01', reason: 'has no month 13' },
        { column: 'base', value: 'ABC', reason: 'is not an ISO 4217 currency code' },
      ],
    });
  });
});

describe('rowSchema (zod)', () => {
  it('gives the same typed row as validate for valid input, for every kind', () => {
    const valid: Record<(typeof KINDS)[number], Record<string, string>> = {
      invoices: invoice,
      payments: {
        payment_id: 'P1',
        customer_id: 'C1',
        received_date: '2025-03-15',
        amount: '10',
        currency: 'USD',
        invoice_id: 'A;B',
      },
      customers: { customer_id: 'C1', name: 'Acme', currency: 'USD', credit_limit: '1000' },
      financials: { customer_id: 'C1', period_end: '2024-12-31', currency: 'USD', revenue: '10' },
      fx: rate,
      guarantees: {
        guarantee_id: 'G1',
        customer_id: 'C1',
        issuer: 'Bank of Somewhere',
        amount: '50000',
        currency: 'EUR',
        expiry_date: '2026-06-30',
      },
      insurance: {
        policy_id: 'I1',
        customer_id: 'C1',
        insurer: 'Allianz Trade',
        insured_share: '90%',
        cap: '100000',
        currency: 'EUR',
        expiry_date: '2026-12-31',
      },
      scores: { customer_id: 'C1', agency: 'D&B', score_date: '2025-01-31', score: '72', scale_max: '100' },
      orders: {
        order_id: 'SO-1',
        customer_id: 'C1',
        amount: '1,200.00',
        currency: 'EUR',
        requested_ship_date: '2025-04-01',
        status: 'open',
      },
    };
    for (const kind of KINDS) {
      const expected = SPECS[kind].validate(getter(valid[kind]), CANONICAL_STYLE);
      expect(expected.ok, kind).toBe(true);
      const parsed = rowSchema(kind).safeParse(valid[kind]);
      expect(parsed.success, kind).toBe(true);
      expect(parsed.data, kind).toEqual(expected.ok ? expected.row : undefined);
    }
  });

  it('uses the style it is given', () => {
    const parsed = rowSchema('invoices', EU_STYLE).safeParse({
      ...invoice,
      issue_date: '1.3.2025',
      due_date: '31.3.2025',
      amount: '1.234,50',
    });
    expect(parsed.data).toMatchObject({ issueDate: '2025-03-01', amount: 123450 });
  });

  it('reports invalid fields as issues with the column as path', () => {
    const parsed = rowSchema('invoices').safeParse({
      ...invoice,
      invoice_id: '',
      amount: '12.345',
      currency: 'USD',
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => ({ path: i.path, message: i.message }))).toEqual([
      { path: ['invoice_id'], message: 'is required' },
      { path: ['amount'], message: 'has more than 2 decimals (USD)' },
    ]);
  });

  it('reports a missing or non-text required column with its path', () => {
    const { amount: _omitted, ...withoutAmount } = invoice;
    const parsed = rowSchema('invoices').safeParse(withoutAmount);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path)).toEqual([['amount']]);
    const numeric = rowSchema('invoices').safeParse({ ...invoice, amount: 12 });
    expect(numeric.error?.issues.map((i) => i.path)).toEqual([['amount']]);
  });

  it('treats an absent optional column as blank', () => {
    const { disputed: _omitted, ...withoutDisputed } = invoice;
    expect(rowSchema('invoices').safeParse(withoutDisputed).data).toMatchObject({ disputed: false });
  });
});

describe('credit file kinds', () => {
  const v = <K extends (typeof KINDS)[number]>(kind: K, row: Record<string, string>) =>
    SPECS[kind].validate((c) => row[c] ?? '', CANONICAL_STYLE);

  it('guarantees: amount in minor units, expiry after valid_from', () => {
    const row = {
      guarantee_id: 'G1',
      customer_id: 'C1',
      issuer: 'Bank',
      amount: '50000.50',
      currency: 'EUR',
      expiry_date: '2026-06-30',
    };
    expect(v('guarantees', row)).toEqual({
      ok: true,
      row: {
        guaranteeId: 'G1',
        customerId: 'C1',
        issuer: 'Bank',
        amount: 5_000_050,
        currency: 'EUR',
        expiry: '2026-06-30',
        validFrom: undefined,
      },
    });
    expect(v('guarantees', { ...row, valid_from: '2026-07-01' })).toEqual({
      ok: false,
      issues: [{ column: 'expiry_date', value: '2026-06-30', reason: 'is before valid_from 2026-07-01' }],
    });
  });

  it('insurance: the insured share as 90% or 0.9, in basis points; anything else refused with the forms', () => {
    const row = {
      policy_id: 'P1',
      customer_id: 'C1',
      insurer: 'Insurer',
      insured_share: '90%',
      cap: '100000',
      currency: 'USD',
      expiry_date: '2026-12-31',
    };
    const share = (s: string) => {
      const r = v('insurance', { ...row, insured_share: s });
      return r.ok ? r.row.insuredShareBp : r.issues[0]?.reason;
    };
    expect(share('90%')).toBe(9000);
    expect(share('0.9')).toBe(9000);
    expect(share('87.5%')).toBe(8750);
    expect(share('1')).toBe(10_000);
    const refused = 'is not a share above 0 and at most 100%: write it as 90% or 0.9';
    expect(share('90')).toBe(refused);
    expect(share('0')).toBe(refused);
    expect(share('120%')).toBe(refused);
    expect(share('')).toBe('is required');
  });

  it('scores: a number within its scale', () => {
    const row = {
      customer_id: 'C1',
      agency: 'D&B',
      score_date: '2025-01-31',
      score: '72.5',
      scale_max: '100',
    };
    expect(v('scores', row)).toEqual({
      ok: true,
      row: { customerId: 'C1', agency: 'D&B', date: '2025-01-31', score: 72.5, scaleMax: 100 },
    });
    const over = v('scores', { ...row, score: '120' });
    expect(over.ok ? undefined : over.issues).toEqual([
      { column: 'score', value: '120', reason: 'is above scale_max 100' },
    ]);
    const bad = v('scores', { ...row, score: 'AAA', scale_max: '0' });
    expect(bad.ok ? undefined : bad.issues.map((i) => i.column)).toEqual(['scale_max', 'score']);
  });
});

describe('orders (issue 18 item 2)', () => {
  const order = {
    order_id: 'SO-4711',
    customer_id: 'C1001',
    amount: '12,000.00',
    currency: 'eur',
    requested_ship_date: '2026-12-20',
    status: 'Open',
    order_date: '2026-12-01',
    channel: 'EDI',
  };
  const v = (change: Record<string, string>) =>
    SPECS.orders.validate(getter({ ...order, ...change }), CANONICAL_STYLE);
  const issues = (change: Record<string, string>) => {
    const r = v(change);
    return r.ok ? [] : r.issues;
  };

  it('turns a valid row into a typed order in minor units', () => {
    expect(v({})).toEqual({
      ok: true,
      row: {
        orderId: 'SO-4711',
        customerId: 'C1001',
        amount: 1_200_000,
        currency: 'EUR',
        requestedShipDate: '2026-12-20',
        status: 'open',
        orderDate: '2026-12-01',
        channel: 'edi',
      },
    });
    // Without the optional columns: no order date, channel erp.
    const r = v({ order_date: '', channel: '' });
    expect(r.ok && r.row).toEqual({
      orderId: 'SO-4711',
      customerId: 'C1001',
      amount: 1_200_000,
      currency: 'EUR',
      requestedShipDate: '2026-12-20',
      status: 'open',
      channel: 'erp',
    });
  });

  it('reads the statuses, canceled as cancelled', () => {
    for (const [raw, status] of [
      ['open', 'open'],
      ['CANCELLED', 'cancelled'],
      ['canceled', 'cancelled'],
      ['closed', 'closed'],
      [' invoiced ', 'invoiced'],
    ])
      expect(v({ status: raw as string })).toMatchObject({ ok: true, row: { status } });
  });

  it('names each bad field', () => {
    expect(issues({ amount: '-5.00' })).toEqual([
      { column: 'amount', value: '-5.00', reason: 'must not be negative' },
    ]);
    expect(issues({ amount: '100.5', currency: 'JPY' })).toEqual([
      { column: 'amount', value: '100.5', reason: 'has more than 0 decimals (JPY)' },
    ]);
    expect(issues({ amount: '0' })).toEqual([
      { column: 'amount', value: '0', reason: 'must be greater than zero for an open order' },
    ]);
    expect(issues({ amount: '0', status: 'closed' })).toEqual([]);
    expect(issues({ status: 'shipped' })).toEqual([
      {
        column: 'status',
        value: 'shipped',
        reason: 'is not an order status: open, cancelled, closed, invoiced',
      },
    ]);
    expect(issues({ status: '' })).toEqual([{ column: 'status', value: '', reason: 'is required' }]);
    expect(issues({ currency: 'EURO' })).toEqual([
      { column: 'currency', value: 'EURO', reason: 'is not an ISO 4217 currency code' },
    ]);
    expect(issues({ requested_ship_date: '2026-11-30' })).toEqual([
      { column: 'requested_ship_date', value: '2026-11-30', reason: 'is before order_date 2026-12-01' },
    ]);
    expect(issues({ order_id: 'SO 4711' })).toEqual([
      {
        column: 'order_id',
        value: 'SO 4711',
        reason: 'is not an order id: 1-64 letters, digits or . _ : / # - (no spaces)',
      },
    ]);
    expect(issues({ channel: 'by phone' }).map((i) => i.column)).toEqual(['channel']);
  });

  it('an invoice may say how it was sent (lowercase); blank is none; a sentence is refused', () => {
    const r = SPECS.invoices.validate(getter({ ...invoice, channel: ' Paper ' }), CANONICAL_STYLE);
    expect(r.ok && r.row.channel).toBe('paper');
    const blank = SPECS.invoices.validate(getter({ ...invoice, channel: '' }), CANONICAL_STYLE);
    expect(blank.ok && 'channel' in blank.row).toBe(false);
    expect(invoiceIssues({ channel: 'by post' })).toEqual([
      {
        column: 'channel',
        value: 'by post',
        reason: 'is not a short name such as paper, electronic or edi (letters, digits, . _ -)',
      },
    ]);
  });

  it('an invoice may name its order; a file without the column reads as before', () => {
    const r = SPECS.invoices.validate(getter({ ...invoice, order_id: 'SO-4711' }), CANONICAL_STYLE);
    expect(r.ok && r.row.orderId).toBe('SO-4711');
    const old = SPECS.invoices.validate(getter(invoice), CANONICAL_STYLE);
    expect(old.ok && 'orderId' in old.row).toBe(false);
    expect(invoiceIssues({ order_id: 'SO 1' })).toEqual([
      {
        column: 'order_id',
        value: 'SO 1',
        reason: 'is not an order id: 1-64 letters, digits or . _ : / # - (no spaces)',
      },
    ]);
  });
});
