import { describe, expect, it } from 'vitest';
import { ConfigError, UnreadableFileError } from '../../functions/ingest/errors.ts';
import { SPECS } from '../../functions/ingest/kinds.ts';
import {
  bindProfile,
  canonicalProfile,
  isAnyKind,
  parseProfile,
  profileForKind,
  styleOf,
} from '../../functions/ingest/profile.ts';
import { ProfileCatalog, profileForKey } from '../../functions/ingest/uploads.ts';

const invoiceColumns = {
  invoice_id: 'Invoice No',
  customer_id: 'Customer',
  issue_date: 'Date',
  due_date: 'Due',
  amount: 'Total',
  currency: { value: 'EUR' },
};

const minimal = { name: 'erp-x', outputs: [{ kind: 'invoices', columns: invoiceColumns }] };

/** The message of the ConfigError parseProfile throws (fails the test if it does not throw one). */
function configError(input: unknown): string {
  try {
    parseProfile(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('parseProfile accepted an invalid profile');
}

describe('parseProfile', () => {
  it('accepts a minimal profile and fills the defaults', () => {
    expect(parseProfile(minimal)).toEqual({
      name: 'erp-x',
      encoding: 'auto',
      dateFormat: 'YYYY-MM-DD',
      decimal: '.',
      thousands: '',
      ignore: [],
      unknownCustomers: 'warn',
      outputs: [{ kind: 'invoices', columns: invoiceColumns }],
    });
  });

  it('takes "unknownCustomers": "reject", and refuses any other value with its path', () => {
    expect(parseProfile({ ...minimal, unknownCustomers: 'reject' }).unknownCustomers).toBe('reject');
    expect(configError({ ...minimal, unknownCustomers: 'drop' })).toMatch(/\n {2}unknownCustomers: /);
  });

  it('names the origin and the path of an unknown kind', () => {
    let message = '';
    try {
      parseProfile({ name: 'erp-x', outputs: [{ kind: 'quotes', columns: {} }] }, 'profile erp-x');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^profile erp-x is invalid:\n {2}outputs\.0\.kind: /);
  });

  it('names an unknown canonical column', () => {
    const message = configError({
      name: 'erp-x',
      outputs: [{ kind: 'invoices', columns: { ...invoiceColumns, amout: 'Total' } }],
    });
    expect(message).toContain('outputs.0.columns.amout: is not a invoices column');
  });

  it('names a missing required column mapping', () => {
    const { due_date: _omitted, ...columns } = invoiceColumns;
    const message = configError({ name: 'erp-x', outputs: [{ kind: 'invoices', columns }] });
    expect(message).toContain('outputs.0.columns.due_date: is required for invoices');
  });

  it('names the output index of the bad output', () => {
    const message = configError({
      name: 'erp-x',
      outputs: [
        { kind: 'invoices', columns: invoiceColumns },
        { kind: 'fx', columns: { date: 'D', base: 'B', quote: 'Q' } },
      ],
    });
    expect(message).toContain('outputs.1.columns.rate: is required for fx');
    expect(message).not.toContain('outputs.0');
  });

  it('refuses a decimal separator equal to the thousands separator', () => {
    const message = configError({ ...minimal, decimal: ',', thousands: ',' });
    expect(message).toContain('thousands: must differ from the decimal separator');
    expect(parseProfile({ ...minimal, decimal: ',', thousands: '.' })).toMatchObject({
      decimal: ',',
      thousands: '.',
    });
  });

  it('refuses a date format it does not know', () => {
    expect(configError({ ...minimal, dateFormat: 'DD-MM-YYYY' })).toMatch(/\n {2}dateFormat: /);
    expect(parseProfile({ ...minimal, dateFormat: 'D.M.YYYY' }).dateFormat).toBe('D.M.YYYY');
  });

  it('refuses other malformed fields naming each path', () => {
    expect(configError({ ...minimal, name: 'ERP X' })).toMatch(
      /\n {2}name: lowercase letters, digits and dashes/,
    );
    expect(configError({ ...minimal, delimiter: ';;' })).toMatch(/\n {2}delimiter: /);
    expect(configError({ ...minimal, outputs: [] })).toMatch(/\n {2}outputs: /);
    expect(configError({ ...minimal, surprise: true })).toMatch(/surprise/);
    expect(
      configError({
        name: 'erp-x',
        outputs: [
          { kind: 'invoices', columns: { ...invoiceColumns, payment_ref: { template: 'no braces' } } },
        ],
      }),
    ).toMatch(/outputs\.0\.columns\.payment_ref\.template: needs at least one \{column\}/);
    expect(configError('not an object')).toMatch(/\(root\)/);
  });

  it('names every bad field at once, not only the first kind of problem', () => {
    // A bad dateFormat and an unknown canonical column: both must be named in one pass.
    const message = configError({
      name: 'erp-x',
      dateFormat: 'DD-MM-YYYY',
      outputs: [{ kind: 'invoices', columns: { ...invoiceColumns, amout: 'Total' } }],
    });
    expect(message).toMatch(/\n {2}dateFormat: /);
    expect(message).toContain('outputs.0.columns.amout: is not a invoices column');
  });

  it('canonicalProfile maps every canonical column to itself', () => {
    const p = canonicalProfile('payments');
    expect(p.name).toBe('canonical-payments');
    expect(p.thousands).toBe(',');
    expect(p.outputs).toEqual([
      {
        kind: 'payments',
        columns: {
          payment_id: 'payment_id',
          customer_id: 'customer_id',
          received_date: 'received_date',
          amount: 'amount',
          currency: 'currency',
          invoice_id: 'invoice_id',
        },
      },
    ]);
  });
});

describe('profiles for any kind (no outputs of their own)', () => {
  const strict = parseProfile({
    name: 'strict',
    delimiter: ';',
    decimal: ',',
    thousands: '.',
    unknownCustomers: 'reject',
  });

  it("read the canonical columns of the kind the upload names, in the profile's own format", () => {
    expect(isAnyKind(strict)).toBe(true);
    expect(profileForKind(strict, undefined)).toBeUndefined();
    const payments = profileForKind(strict, 'payments');
    expect(payments?.outputs).toEqual(canonicalProfile('payments').outputs);
    expect(payments).toMatchObject({
      name: 'strict',
      delimiter: ';',
      decimal: ',',
      thousands: '.',
      unknownCustomers: 'reject',
    });
    const ibm = new ProfileCatalog().get('ibm-accounts-receivable');
    if (!ibm) throw new Error('shipped profile expected');
    expect(profileForKind(ibm, 'customers')).toBe(ibm); // a profile with outputs keeps them
  });

  it('the shipped eu-semicolon profile reads semicolon CSV with decimal commas and D.M.YYYY dates', () => {
    const catalog = new ProfileCatalog();
    expect(catalog.names()).toEqual(['erp-open-orders', 'eu-semicolon', 'ibm-accounts-receivable']);
    expect(catalog.get('eu-semicolon')).toMatchObject({
      format: 'csv',
      encoding: 'windows-1252',
      delimiter: ';',
      dateFormat: 'D.M.YYYY',
      decimal: ',',
      thousands: '.',
      unknownCustomers: 'warn',
      outputs: [],
    });
  });

  it('take their kind from the folder under profile/<name>/', () => {
    const catalog = new ProfileCatalog();
    for (const kind of ['invoices', 'payments', 'customers'] as const) {
      const r = profileForKey(`profile/eu-semicolon/${kind}/2025-03.csv`, catalog);
      expect('profile' in r && r.profile.outputs).toEqual(canonicalProfile(kind).outputs);
    }
    expect(profileForKey('profile/eu-semicolon/2025-03.csv', catalog)).toEqual({
      error: expect.stringMatching(
        /^profile eu-semicolon reads the canonical columns of any kind: put the file under profile\/eu-semicolon\/<kind>\/ \(customers\/, invoices\/, /,
      ),
    });
    expect(profileForKey('profile/eu-semicolon/quotes/x.csv', catalog)).toHaveProperty('error');
    const ibm = profileForKey('profile/ibm-accounts-receivable/sub/ar.csv', catalog);
    expect('profile' in ibm && ibm.profile.name).toBe('ibm-accounts-receivable');
  });
});

describe('bindProfile', () => {
  const ibm = new ProfileCatalog().get('ibm-accounts-receivable');
  if (!ibm) throw new Error('shipped profile missing');
  const header = [
    'countryCode',
    'customerID',
    'PaperlessDate',
    'invoiceNumber',
    'InvoiceDate',
    'DueDate',
    'InvoiceAmount',
    'Disputed',
    'SettledDate',
    'PaperlessBill',
    'DaysToSettle',
    'DaysLate',
  ];
  const row = [
    '406',
    '8976-AMJEO',
    '3/3/2012',
    '0007900770',
    '1/26/2013',
    '2/25/2013',
    '61.74',
    'Yes',
    '3/3/2013',
    'Electronic',
    '36',
    '6',
  ];

  it('the shipped IBM profile parses and is listed by the catalog', () => {
    const catalog = new ProfileCatalog();
    expect(catalog.names()).toContain('ibm-accounts-receivable');
    expect(ibm).toMatchObject({
      name: 'ibm-accounts-receivable',
      format: 'csv',
      encoding: 'auto',
      dateFormat: 'M/D/YYYY',
      decimal: '.',
      thousands: '',
    });
    expect(ibm.outputs.map((o) => o.kind)).toEqual(['invoices', 'payments']);
    expect(catalog.get('nope')).toBeUndefined();
  });

  it('reads an IBM row as an invoice and its settlement payment', () => {
    const b = bindProfile(ibm, header);
    expect(b.ignoredColumns).toEqual([]);
    const [invoices, payments] = b.outputs;
    if (!invoices || !payments) throw new Error('two outputs expected');
    expect(invoices.load(row)).toBe(true);
    expect(SPECS.invoices.validate(invoices.get, styleOf(ibm))).toEqual({
      ok: true,
      row: {
        invoiceId: '0007900770',
        customerId: '8976-AMJEO',
        issueDate: '2013-01-26',
        dueDate: '2013-02-25',
        amount: 6174,
        currency: 'USD',
        disputed: true,
        channel: 'electronic',
      },
    });
    expect(payments.load(row)).toBe(true);
    expect(SPECS.payments.validate(payments.get, styleOf(ibm))).toEqual({
      ok: true,
      row: {
        paymentId: '0007900770-settlement',
        customerId: '8976-AMJEO',
        receivedDate: '2013-03-03',
        amount: 6174,
        currency: 'USD',
        invoiceIds: ['0007900770'],
      },
    });
  });

  it('matches header names case-insensitively and ignoring surrounding spaces', () => {
    const shouted = header.map((h) => ` ${h.toUpperCase()} `);
    const b = bindProfile(ibm, shouted);
    const inv = b.outputs[0];
    if (!inv) throw new Error('output expected');
    inv.load(row);
    expect(inv.get('invoice_id')).toBe('0007900770');
    expect(inv.get('amount')).toBe('61.74');
    expect(inv.sourceOf('amount')).toBe('INVOICEAMOUNT');
    expect(b.ignoredColumns).toEqual([]);
  });

  it('with strictCase a differently cased header is missing', () => {
    const lower = header.map((h) => h.toLowerCase());
    expect(() => bindProfile(ibm, lower, true)).toThrow(UnreadableFileError);
    expect(() => bindProfile(ibm, header, true)).not.toThrow();
  });

  it('gives constants and templates, and names their source for rejects reports', () => {
    const pay = bindProfile(ibm, header).outputs[1];
    if (!pay) throw new Error('output expected');
    pay.load(['', 'C', '', '  42  ', '', '', '1', '', '1/1/2013', '', '', '']);
    expect(pay.get('currency')).toBe('USD');
    expect(pay.sourceOf('currency')).toBe('currency (profile constant)');
    // template cells are trimmed
    expect(pay.get('payment_id')).toBe('42-settlement');
    expect(pay.sourceOf('payment_id')).toBe('{invoiceNumber}-settlement');
    expect(pay.sourceOf('received_date')).toBe('SettledDate');
    // an unmapped canonical column reads blank
    expect(pay.get('no_such_column')).toBe('');
  });

  it('yields a `when` output only for rows where that column is not blank', () => {
    const [invoices, payments] = bindProfile(ibm, header).outputs;
    if (!invoices || !payments) throw new Error('two outputs expected');
    const unsettled = [...row];
    unsettled[8] = '   ';
    expect(payments.load(unsettled)).toBe(false);
    expect(invoices.load(unsettled)).toBe(true);
    expect(payments.load(row.slice(0, 8))).toBe(false); // short row: SettledDate absent
    expect(payments.load(row)).toBe(true);
  });

  it('throws UnreadableFileError naming a missing required source column', () => {
    const noDue = header.filter((h) => h !== 'DueDate');
    expect(() => bindProfile(ibm, noDue)).toThrow(UnreadableFileError);
    expect(() => bindProfile(ibm, noDue)).toThrow(
      `the file lacks required column DueDate (its columns: ${noDue.join(', ')})`,
    );
    // InvoiceAmount is needed by both outputs: named once
    const noDueNoAmount = noDue.filter((h) => h !== 'InvoiceAmount');
    expect(() => bindProfile(ibm, noDueNoAmount)).toThrow('lacks required columns DueDate, InvoiceAmount (');
  });

  it('throws naming a missing `when` column and a missing template column', () => {
    expect(() =>
      bindProfile(
        ibm,
        header.filter((h) => h !== 'SettledDate'),
      ),
    ).toThrow('lacks required column SettledDate (');
    const p = parseProfile({
      name: 'tpl',
      outputs: [
        {
          kind: 'invoices',
          columns: { ...invoiceColumns, invoice_id: { template: '{Series}-{Number}' } },
        },
      ],
    });
    expect(() => bindProfile(p, ['Series', 'Customer', 'Date', 'Due', 'Total'])).toThrow(
      'lacks required column Number (',
    );
    const b = bindProfile(p, ['Series', 'Number', 'Customer', 'Date', 'Due', 'Total']);
    b.outputs[0]?.load(['INV', '007', 'C', '2025-03-01', '2025-03-31', '5']);
    expect(b.outputs[0]?.get('invoice_id')).toBe('INV-007');
  });

  it('a missing optional source column is not an error and reads blank', () => {
    const b = bindProfile(
      ibm,
      header.filter((h) => h !== 'Disputed'),
    );
    const inv = b.outputs[0];
    if (!inv) throw new Error('output expected');
    inv.load(['391', 'C', '', 'I', '1/2/2013', '2/1/2013', '1']);
    expect(inv.get('disputed')).toBe('');
    expect(inv.sourceOf('disputed')).toBe('Disputed');
  });

  it('lists unused columns as ignored, except blank ones and the ones the profile ignores', () => {
    const b = bindProfile(ibm, [...header, 'Region', '', '  ', 'COUNTRYCODE2']);
    expect(b.ignoredColumns).toEqual(['Region', 'COUNTRYCODE2']);
    // the ignore list matches case-insensitively
    const shouted = bindProfile(
      ibm,
      header.map((h) => h.toUpperCase()),
    );
    expect(shouted.ignoredColumns).toEqual([]);
    // without an ignore list, the unused IBM columns are all reported
    const noIgnore = parseProfile({ ...ibm, ignore: [] });
    expect(bindProfile(noIgnore, header).ignoredColumns).toEqual([
      'countryCode',
      'PaperlessDate',
      'DaysToSettle',
      'DaysLate',
    ]);
  });

  it('lenient mode binds without the missing columns, which read blank', () => {
    const partial = ['invoiceNumber', 'customerID'];
    const b = bindProfile(ibm, partial, false, true);
    const [invoices, payments] = b.outputs;
    if (!invoices || !payments) throw new Error('two outputs expected');
    invoices.load(['I-1', 'C-1']);
    expect(invoices.get('invoice_id')).toBe('I-1');
    expect(invoices.get('amount')).toBe('');
    expect(SPECS.invoices.validate(invoices.get, styleOf(ibm))).toMatchObject({
      ok: false,
      issues: [
        { column: 'issue_date', reason: 'is required' },
        { column: 'due_date', reason: 'is required' },
        { column: 'amount', reason: 'is required' },
      ],
    });
    // the `when` column is absent: the payments output yields nothing
    expect(payments.load(['I-1', 'C-1'])).toBe(false);
  });

  it('hands amounts the numbers of plain columns only (a constant or a template is text)', () => {
    const p = parseProfile({
      name: 'erp-x',
      outputs: [
        { kind: 'invoices', columns: { ...invoiceColumns, invoice_id: { template: '{Invoice No}-x' } } },
      ],
    });
    const inv = bindProfile(p, ['Invoice No', 'Customer', 'Date', 'Due', 'Total']).outputs[0];
    if (!inv) throw new Error('output expected');
    inv.load(
      ['7', 'C', '2025-01-01', '2025-01-31', '110.00000000000001'],
      [7, undefined, undefined, undefined, 110.00000000000001],
    );
    expect(inv.get.number?.('amount')).toBe(110.00000000000001);
    expect(inv.get.number?.('invoice_id')).toBeUndefined();
    expect(inv.get.number?.('currency')).toBeUndefined();
    expect(inv.get('amount')).toBe('110.00000000000001');
    inv.load(['7', 'C', '2025-01-01', '2025-01-31', '110.00']);
    expect(inv.get.number?.('amount')).toBeUndefined();
  });

  it('binds a canonical profile to a canonical header', () => {
    const b = bindProfile(canonicalProfile('fx'), ['date', 'base', 'quote', 'rate']);
    const fx = b.outputs[0];
    if (!fx) throw new Error('output expected');
    fx.load(['2025-03-01', 'USD', 'EUR', '0.92']);
    expect(SPECS.fx.validate(fx.get, styleOf(canonicalProfile('fx')))).toEqual({
      ok: true,
      row: { date: '2025-03-01', base: 'USD', quote: 'EUR', rate: '0.92' },
    });
  });
});
