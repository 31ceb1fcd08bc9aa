import * as z from 'zod';
import { currencyAt, isCurrency, minorDigits } from '../core/currencies.ts';
import { type DateFormat, type IsoDate, isoDateOrNull, parseDate } from '../core/dates.ts';
import {
  minorUnitsOfNumber,
  type NumberStyle,
  type Parsed,
  parseMinorUnits,
  parseRate,
  plainMinorUnits,
  plainMinorUnitsAt,
} from '../core/money.ts';
import type {
  Customer,
  ExternalScore,
  FinancialStatement,
  FxRate,
  Guarantee,
  InsuranceCover,
} from '../core/records.ts';
import type { Interner, IsoDates } from './intern.ts';

export const KINDS = [
  'customers',
  'invoices',
  'payments',
  'financials',
  'fx',
  'guarantees',
  'insurance',
  'scores',
  'orders',
] as const;
export type Kind = (typeof KINDS)[number];

export function isKind(s: string): s is Kind {
  return (KINDS as readonly string[]).includes(s);
}

/** How a file writes its dates and numbers (the canonical format, or a mapping profile's). */
export interface RowStyle extends NumberStyle {
  readonly dateFormat: DateFormat;
}

export const CANONICAL_STYLE: RowStyle = { dateFormat: 'YYYY-MM-DD', decimal: '.', thousands: ',' };

/** One problem with one field of a row, reported against the canonical column. */
export interface FieldIssue {
  readonly column: string;
  readonly value: string;
  readonly reason: string;
}

export type RowResult<T> = { ok: true; row: T } | { ok: false; issues: FieldIssue[] };

/**
 * Reads a canonical column of the current row ('' when absent). `number`, when the reader has it,
 * gives the number a cell holds (an Excel numeric cell, a JSON number), undefined for text.
 */
export type Getter = ((column: string) => string) & {
  readonly number?: ((column: string) => number | undefined) | undefined;
};

// ---- row shapes (what a valid row becomes, before conversion to the customer's currency) ----

export interface InvoiceRow {
  readonly invoiceId: string;
  readonly customerId: string;
  readonly issueDate: IsoDate;
  readonly dueDate: IsoDate;
  /** Minor units of `currency`, as billed. */
  readonly amount: number;
  readonly currency: string;
  readonly disputed: boolean;
  /**
   * The sales order the invoice bills (optional column `order_id`): when it holds a reservation
   * in the customer's `ORDERS` item, the invoice releases it (functions/checks/release.ts).
   */
  readonly orderId?: string | undefined;
  /**
   * How the invoice was sent (optional column `channel`, lowercase: paper, electronic, edi, ...):
   * known on its issue date, read by the payment-date model (functions/predict/model.ts).
   */
  readonly channel?: string | undefined;
}

/** What an open sales order's status says of its reservation (functions/checks/release.ts). */
export const ORDER_STATUSES = ['open', 'cancelled', 'closed', 'invoiced'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** One of the ERP's sales orders (`orders` kind): open ones are reserved against the limit. */
export interface OrderRow {
  readonly orderId: string;
  readonly customerId: string;
  /** Minor units of `currency`, as ordered. */
  readonly amount: number;
  readonly currency: string;
  readonly requestedShipDate: IsoDate;
  readonly status: OrderStatus;
  readonly orderDate?: IsoDate | undefined;
  /** Lowercase; `erp` when the file has none. */
  readonly channel: string;
}

export interface PaymentRow {
  readonly paymentId: string;
  readonly customerId: string;
  readonly receivedDate: IsoDate;
  readonly amount: number;
  readonly currency: string;
  readonly invoiceIds: string[];
}

export type CustomerRow = Customer;
export type FinancialsRow = FinancialStatement;
export type FxRow = FxRate;

export interface RowOf {
  customers: CustomerRow;
  invoices: InvoiceRow;
  payments: PaymentRow;
  financials: FinancialsRow;
  fx: FxRow;
  guarantees: Guarantee;
  insurance: InsuranceCover;
  scores: ExternalScore;
  orders: OrderRow;
}

export interface KindSpec<K extends Kind> {
  readonly kind: K;
  readonly required: readonly string[];
  readonly optional: readonly string[];
  /** The two parts of the key that identifies a row; the same key twice in a file is a duplicate. */
  key(row: RowOf[K]): readonly [string, string];
  validate(get: Getter, style: RowStyle): RowResult<RowOf[K]>;
  /**
   * The CSV hot path of `validate` for canonical dates and numbers: reads a line's fields in place
   * and returns the row when every field is in its plain form, exactly as `validate` would return
   * it; undefined otherwise, and then `validate` runs and says what is wrong.
   */
  fast?(line: InPlace, cx: InPlaceContext): RowOf[K] | undefined;
}

/**
 * A CSV line read in place: field `k` is `text[at[k], at[k + 1] - 1)`; `col[c]` is the field of
 * the kind's c-th canonical column, in the order of `columnsOf(spec)` (-1: not in the file).
 */
export interface InPlace {
  text: string;
  readonly at: Int32Array;
  readonly col: Int32Array;
}

/** Where the hot path keeps the strings a file repeats (customer ids, dates). */
export interface InPlaceContext {
  readonly ids: Interner;
  readonly dates: IsoDates;
}

/** A kind's canonical columns: required, then optional (the order `InPlace.col` follows). */
export function columnsOf(spec: KindSpec<Kind>): string[] {
  return [...spec.required, ...spec.optional];
}

// ---- field readers: each returns the value or records an issue ----

class Issues {
  list: FieldIssue[] | undefined;
  add(column: string, value: string, reason: string): void {
    if (this.list === undefined) this.list = [];
    this.list.push({ column, value, reason });
  }
}

/**
 * One collector reused by every row: validation is synchronous, and a row loop at a million rows
 * a second cannot afford an object per row that almost always stays empty.
 */
const shared = new Issues();
function start(): Issues {
  shared.list = undefined;
  return shared;
}

const MAX_ID = 128;

function id(get: Getter, column: string, issues: Issues): string {
  const raw = get(column);
  const v = raw.trim();
  if (v === '') issues.add(column, raw, 'is required');
  else if (v.length > MAX_ID) issues.add(column, raw, `is longer than ${MAX_ID} characters`);
  return v;
}

function text(
  get: Getter,
  column: string,
  issues: Issues,
  max: number,
  required = false,
): string | undefined {
  const raw = get(column);
  const v = raw.trim();
  if (v === '') {
    if (required) issues.add(column, raw, 'is required');
    return undefined;
  }
  if (v.length > max) issues.add(column, raw, `is longer than ${max} characters`);
  return v;
}

function date(get: Getter, column: string, issues: Issues, style: RowStyle, required = true): IsoDate {
  const raw = get(column);
  if (raw === '' && !required) return '';
  if (style.dateFormat === 'YYYY-MM-DD') {
    const fast = isoDateOrNull(raw);
    if (fast !== null) return fast;
  }
  const r = parseDate(raw, style.dateFormat);
  if (!r.ok) {
    issues.add(column, raw, r.reason === 'is empty' ? 'is required' : r.reason);
    return '';
  }
  return r.value;
}

function currency(get: Getter, column: string, issues: Issues, required = true): string {
  const raw = get(column);
  if (isCurrency(raw)) return raw;
  const v = raw.trim().toUpperCase();
  if (v === '') {
    if (required) issues.add(column, raw, 'is required');
  } else if (!isCurrency(v)) issues.add(column, raw, `is not an ISO 4217 currency code`);
  return v;
}

type Sign = 'positive' | 'nonNegative' | 'any';

function amount(
  get: Getter,
  column: string,
  issues: Issues,
  style: RowStyle,
  ccy: string,
  sign: Sign,
  required = true,
): number | undefined {
  const raw = get(column);
  if (raw.trim() === '') {
    if (required) issues.add(column, raw, 'is required');
    return undefined;
  }
  const digits = minorDigits(ccy) ?? 2;
  const x = get.number?.(column);
  const fast = x === undefined ? plainMinorUnits(raw, digits, style.decimal.charCodeAt(0)) : Number.NaN;
  if (!Number.isNaN(fast)) {
    // not NaN: plain digits, a valid amount
    if (sign === 'positive' && fast <= 0) issues.add(column, raw, 'must be greater than zero');
    return fast;
  }
  const r: Parsed<number> =
    x === undefined ? parseMinorUnits(raw, digits, style) : minorUnitsOfNumber(x, digits);
  if (!r.ok) {
    const comma = style.decimal === '.' && x === undefined ? decimalCommaHint(raw) : undefined;
    issues.add(
      column,
      raw,
      comma ?? (ccy && minorDigits(ccy) !== undefined ? `${r.reason} (${ccy})` : r.reason),
    );
    return undefined;
  }
  if (sign === 'positive' && r.value <= 0) issues.add(column, raw, 'must be greater than zero');
  else if (sign === 'nonNegative' && r.value < 0) issues.add(column, raw, 'must not be negative');
  return r.value;
}

/** `1234,56`, `0,5`, `1.234,56`, `1 234,56`: a decimal comma (a valid `1,234` never gets here). */
const DECIMAL_COMMA = /^[+-]?(\d{1,3}([. \u00a0]\d{3})+|\d+),\d+$/;

/**
 * What to do about a number written with a decimal comma in a file read with a decimal point: the
 * profile setting that reads it, and the shipped profile for such exports.
 */
export function decimalCommaHint(raw: string): string | undefined {
  const v = raw.trim();
  if (!DECIMAL_COMMA.test(v)) return undefined;
  const dots = v.includes('.') ? ' (with "thousands": ".")' : '';
  return `"${v}" has a decimal comma: set "decimal": ","${dots} in a mapping profile, or load the file with the shipped profile eu-semicolon`;
}

const TRUE = new Set(['true', 'yes', 'y', '1', 'x', '是', 'ja', 'oui']);
const FALSE = new Set(['false', 'no', 'n', '0', '', '否', 'nein', 'non']);

/** One address (`name@domain.tld`), as the reminders go to it: no display name, no list. */
const EMAIL =
  /^[^\s@<>,;:"()[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

function email(get: Getter, column: string, issues: Issues): string | undefined {
  const raw = get(column);
  const v = raw.trim();
  if (v === '') return undefined;
  if (v.length > 254 || !EMAIL.test(v))
    issues.add(column, raw, 'is not one email address (name@example.com)');
  return v;
}

/** The languages reminders are written in (functions/collections/reminder.ts). */
const LANGUAGES: Record<string, 'en' | 'zh'> = {
  en: 'en',
  english: 'en',
  zh: 'zh',
  'zh-cn': 'zh',
  'zh-hans': 'zh',
  chinese: 'zh',
  中文: 'zh',
};

function language(get: Getter, column: string, issues: Issues): 'en' | 'zh' | undefined {
  const raw = get(column);
  const v = raw.trim().toLowerCase().replace(/_/g, '-');
  if (v === '') return undefined;
  const l = LANGUAGES[v];
  if (!l) issues.add(column, raw, 'is not a language reminders are written in: en or zh');
  return l;
}

function bool(get: Getter, column: string, issues: Issues): boolean {
  const raw = get(column);
  if (FALSE.has(raw)) return false;
  if (TRUE.has(raw)) return true;
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (!FALSE.has(v)) issues.add(column, raw, 'is not yes/no, true/false or 1/0');
  return false;
}

function integer(get: Getter, column: string, issues: Issues, min: number, max: number): number | undefined {
  const raw = get(column);
  const v = raw.trim();
  if (v === '') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    issues.add(column, raw, `is not a whole number from ${min} to ${max}`);
    return undefined;
  }
  return Number(v);
}

function done<T>(issues: Issues, row: T): RowResult<T> {
  return issues.list ? { ok: false, issues: issues.list } : { ok: true, row };
}

// ---- the same checks, in place (CSV hot path); undefined means "let the full check say why" ----

/** Whether `text[a, b)` is a non-empty id of at most MAX_ID characters with nothing to trim. */
function plainIdAt(text: string, a: number, b: number): boolean {
  if (b <= a || b - a > MAX_ID) return false;
  const first = text.charCodeAt(a);
  const last = text.charCodeAt(b - 1);
  // Anything at either end that `trim` might remove (or that is not ASCII) takes the full path.
  return first > 32 && first < 127 && last > 32 && last < 127;
}

function fieldStart(l: InPlace, c: number): number {
  const k = l.col[c] as number;
  return k < 0 ? -1 : (l.at[k] as number);
}

function fieldEnd(l: InPlace, c: number): number {
  const k = l.col[c] as number;
  return k < 0 ? -1 : (l.at[k + 1] as number) - 1;
}

function idAt(l: InPlace, c: number): string | undefined {
  const a = fieldStart(l, c);
  const b = fieldEnd(l, c);
  return a >= 0 && plainIdAt(l.text, a, b) ? l.text.slice(a, b) : undefined;
}

function internedIdAt(l: InPlace, c: number, cx: InPlaceContext): string | undefined {
  const a = fieldStart(l, c);
  return a < 0 ? undefined : cx.ids.at(l.text, a, fieldEnd(l, c), plainIdAt);
}

function dateAt(l: InPlace, c: number, cx: InPlaceContext): IsoDate | undefined {
  const a = fieldStart(l, c);
  return a < 0 ? undefined : cx.dates.at(l.text, a, fieldEnd(l, c));
}

function currencyIn(l: InPlace, c: number): string | undefined {
  const a = fieldStart(l, c);
  return a < 0 ? undefined : currencyAt(l.text, a, fieldEnd(l, c));
}

/** A plain positive amount (digits, a dot, at most the currency's decimals). */
function positiveAmountAt(l: InPlace, c: number, ccy: string): number | undefined {
  const a = fieldStart(l, c);
  if (a < 0) return undefined;
  const v = plainMinorUnitsAt(l.text, a, fieldEnd(l, c), minorDigits(ccy) ?? 2, 46);
  return v > 0 ? v : undefined; // NaN > 0 is false
}

function boolAt(l: InPlace, c: number): boolean | undefined {
  const a = fieldStart(l, c);
  const b = fieldEnd(l, c);
  if (a < 0 || a === b) return false;
  const t = l.text;
  // The two answers most files write, without a string: "yes" and "no".
  if (b - a === 3 && t.charCodeAt(a) === 121 && t.charCodeAt(a + 1) === 101 && t.charCodeAt(a + 2) === 115)
    return true;
  if (b - a === 2 && t.charCodeAt(a) === 110 && t.charCodeAt(a + 1) === 111) return false;
  const v = t.slice(a, b);
  return FALSE.has(v) ? false : TRUE.has(v) ? true : undefined;
}

/** A payment's invoice references: `;`-separated, trimmed, blank and repeated ones dropped. */
function invoiceRefs(refs: string): string[] {
  return refs === '' ? [] : [...new Set(refs.split(';').map((s) => s.trim()))].filter((s) => s.length > 0);
}

/**
 * An order id as the credit checks key their reservations (functions/checks/app.ts): 1-64
 * letters, digits or . _ : / # -, no spaces.
 */
const ORDER_ID = /^[\p{L}\p{N}][\p{L}\p{N}._:/#-]{0,63}$/u;
const ORDER_ID_REASON = 'is not an order id: 1-64 letters, digits or . _ : / # - (no spaces)';

/** An optional order reference (an invoice's `order_id`): undefined when blank. */
function orderRef(get: Getter, column: string, issues: Issues): string | undefined {
  const raw = get(column);
  const v = raw.trim();
  if (v === '') return undefined;
  if (!ORDER_ID.test(v)) issues.add(column, raw, ORDER_ID_REASON);
  return v;
}

/** An invoice's billing channel: lowercase, a short name; blank is none. */
function invoiceChannel(get: Getter, column: string, issues: Issues): string | undefined {
  const raw = get(column);
  const v = raw.trim().toLowerCase();
  if (v === '') return undefined;
  if (!CHANNEL.test(v))
    issues.add(column, raw, 'is not a short name such as paper, electronic or edi (letters, digits, . _ -)');
  return v;
}

const STATUS_WORDS: Record<string, OrderStatus> = {
  open: 'open',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  closed: 'closed',
  invoiced: 'invoiced',
};

const CHANNEL = /^[a-z][a-z0-9._-]{0,31}$/;

// ---- the kinds ----

export const invoices: KindSpec<'invoices'> = {
  kind: 'invoices',
  required: ['invoice_id', 'customer_id', 'issue_date', 'due_date', 'amount', 'currency'],
  optional: ['disputed', 'order_id', 'channel'],
  key: (r) => [r.customerId, r.invoiceId],
  validate(get, style) {
    const issues = start();
    const invoiceId = id(get, 'invoice_id', issues);
    const customerId = id(get, 'customer_id', issues);
    const issueDate = date(get, 'issue_date', issues, style);
    const dueDate = date(get, 'due_date', issues, style);
    const ccy = currency(get, 'currency', issues);
    const amt = amount(get, 'amount', issues, style, ccy, 'positive');
    const disputed = bool(get, 'disputed', issues);
    const orderId = orderRef(get, 'order_id', issues);
    const channel = invoiceChannel(get, 'channel', issues);
    if (issueDate && dueDate && dueDate < issueDate)
      issues.add('due_date', get('due_date'), `is before issue_date ${issueDate}`);
    const row: InvoiceRow = {
      invoiceId,
      customerId,
      issueDate,
      dueDate,
      amount: amt ?? 0,
      currency: ccy,
      disputed,
    };
    // Only when given: a file without the columns loads exactly as before.
    return done(issues, {
      ...row,
      ...(orderId === undefined ? {} : { orderId }),
      ...(channel === undefined ? {} : { channel }),
    });
  },
  // Columns by position: invoice_id, customer_id, issue_date, due_date, amount, currency, disputed,
  // order_id, channel (a line with a channel is read by `validate`).
  fast(l, cx) {
    const invoiceId = idAt(l, 0);
    const customerId = internedIdAt(l, 1, cx);
    const issueDate = dateAt(l, 2, cx);
    const dueDate = dateAt(l, 3, cx);
    const ccy = currencyIn(l, 5);
    if (!invoiceId || !customerId || !issueDate || !dueDate || !ccy || dueDate < issueDate) return undefined;
    const amt = positiveAmountAt(l, 4, ccy);
    const disputed = boolAt(l, 6);
    if (amt === undefined || disputed === undefined) return undefined;
    const row: InvoiceRow = {
      invoiceId,
      customerId,
      issueDate,
      dueDate,
      amount: amt,
      currency: ccy,
      disputed,
    };
    const c = fieldStart(l, 8);
    if (c >= 0 && c !== fieldEnd(l, 8)) return undefined;
    const a = fieldStart(l, 7);
    if (a < 0 || a === fieldEnd(l, 7)) return row;
    const orderId = idAt(l, 7);
    return orderId !== undefined && ORDER_ID.test(orderId) ? { ...row, orderId } : undefined;
  },
};

export const payments: KindSpec<'payments'> = {
  kind: 'payments',
  required: ['payment_id', 'customer_id', 'received_date', 'amount', 'currency'],
  optional: ['invoice_id'],
  key: (r) => [r.customerId, r.paymentId],
  validate(get, style) {
    const issues = start();
    const paymentId = id(get, 'payment_id', issues);
    const customerId = id(get, 'customer_id', issues);
    const receivedDate = date(get, 'received_date', issues, style);
    const ccy = currency(get, 'currency', issues);
    const amt = amount(get, 'amount', issues, style, ccy, 'positive');
    const refs = get('invoice_id');
    const invoiceIds = invoiceRefs(refs);
    for (const ref of invoiceIds)
      if (ref.length > MAX_ID) issues.add('invoice_id', refs, 'has an id that is too long');
    return done(issues, { paymentId, customerId, receivedDate, amount: amt ?? 0, currency: ccy, invoiceIds });
  },
  // Columns by position: payment_id, customer_id, received_date, amount, currency, invoice_id.
  fast(l, cx) {
    const paymentId = idAt(l, 0);
    const customerId = internedIdAt(l, 1, cx);
    const receivedDate = dateAt(l, 2, cx);
    const ccy = currencyIn(l, 4);
    if (!paymentId || !customerId || !receivedDate || !ccy) return undefined;
    const amt = positiveAmountAt(l, 3, ccy);
    if (amt === undefined) return undefined;
    const a = fieldStart(l, 5);
    const invoiceIds = a < 0 ? [] : invoiceRefs(l.text.slice(a, fieldEnd(l, 5)));
    for (const ref of invoiceIds) if (ref.length > MAX_ID) return undefined;
    return { paymentId, customerId, receivedDate, amount: amt, currency: ccy, invoiceIds };
  },
};

export const customers: KindSpec<'customers'> = {
  kind: 'customers',
  required: ['customer_id', 'name'],
  optional: [
    'country',
    'industry',
    'currency',
    'payment_terms_days',
    'credit_limit',
    'registration_no',
    'billing_email',
    'billing_contact',
    'language',
  ],
  key: (r) => [r.customerId, ''],
  validate(get, style) {
    const issues = start();
    const customerId = id(get, 'customer_id', issues);
    const name = text(get, 'name', issues, 256, true) ?? '';
    const ccy = currency(get, 'currency', issues, false);
    const limitText = get('credit_limit');
    let creditLimit: number | undefined;
    if (limitText.trim() !== '' && ccy === '')
      issues.add('credit_limit', limitText, 'needs a currency: fill the currency column');
    else creditLimit = amount(get, 'credit_limit', issues, style, ccy, 'nonNegative', false);
    return done(issues, {
      customerId,
      name,
      country: text(get, 'country', issues, 64),
      industry: text(get, 'industry', issues, 128),
      currency: ccy || undefined,
      paymentTermsDays: integer(get, 'payment_terms_days', issues, 0, 3650),
      creditLimit,
      registrationNo: text(get, 'registration_no', issues, 64),
      billingEmail: email(get, 'billing_email', issues),
      billingContact: text(get, 'billing_contact', issues, 128),
      language: language(get, 'language', issues),
    });
  },
};

const FIGURES = [
  ['revenue', 'revenue'],
  ['current_assets', 'currentAssets'],
  ['current_liabilities', 'currentLiabilities'],
  ['inventory', 'inventory'],
  ['total_assets', 'totalAssets'],
  ['total_liabilities', 'totalLiabilities'],
  ['retained_earnings', 'retainedEarnings'],
  ['ebit', 'ebit'],
  ['equity', 'equity'],
] as const;

export const financials: KindSpec<'financials'> = {
  kind: 'financials',
  required: ['customer_id', 'period_end', 'currency'],
  optional: FIGURES.map(([c]) => c),
  key: (r) => [r.customerId, r.periodEnd],
  validate(get, style) {
    const issues = start();
    const customerId = id(get, 'customer_id', issues);
    const periodEnd = date(get, 'period_end', issues, style);
    const ccy = currency(get, 'currency', issues);
    const row: Record<string, unknown> = { customerId, periodEnd, currency: ccy };
    for (const [column, field] of FIGURES) row[field] = amount(get, column, issues, style, ccy, 'any', false);
    return done(issues, row as unknown as FinancialsRow);
  },
};

export const fx: KindSpec<'fx'> = {
  kind: 'fx',
  required: ['date', 'base', 'quote', 'rate'],
  optional: [],
  key: (r) => [r.date, `${r.base}/${r.quote}`],
  validate(get, style) {
    const issues = start();
    const d = date(get, 'date', issues, style);
    const base = currency(get, 'base', issues);
    const quote = currency(get, 'quote', issues);
    if (base && base === quote) issues.add('quote', get('quote'), 'is the same currency as base');
    const raw = get('rate');
    // Rates use the file's decimal separator; they are kept as exact decimal text.
    const normal = style.decimal === ',' ? raw.trim().replace(',', '.') : raw.trim();
    const r = parseRate(normal);
    if (!r.ok) issues.add('rate', raw, (style.decimal === '.' && decimalCommaHint(raw)) || r.reason);
    return done(issues, { date: d, base, quote, rate: normal });
  },
};

/** A share written `90%` or `0.9`, in basis points (9000); anything else is refused with the forms it takes. */
function share(get: Getter, column: string, issues: Issues): number {
  const raw = get(column);
  const v = raw.trim();
  const percent = v.endsWith('%');
  const x = get.number?.(column);
  const r =
    x !== undefined
      ? minorUnitsOfNumber(x, 4)
      : parseMinorUnits(percent ? v.slice(0, -1).trim() : v, percent ? 2 : 4, {
          decimal: '.',
          thousands: '',
        });
  if (v === '') issues.add(column, raw, 'is required');
  else if (!r.ok || r.value <= 0 || r.value > 10_000)
    issues.add(column, raw, 'is not a share above 0 and at most 100%: write it as 90% or 0.9');
  else return r.value;
  return 0;
}

function positiveNumber(get: Getter, column: string, issues: Issues): number {
  const raw = get(column);
  const v = raw.trim();
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) {
    issues.add(column, raw, v === '' ? 'is required' : 'is not a number greater than zero');
    return 0;
  }
  return Number(v);
}

export const guarantees: KindSpec<'guarantees'> = {
  kind: 'guarantees',
  required: ['guarantee_id', 'customer_id', 'issuer', 'amount', 'currency', 'expiry_date'],
  optional: ['valid_from'],
  key: (r) => [r.customerId, r.guaranteeId],
  validate(get, style) {
    const issues = start();
    const guaranteeId = id(get, 'guarantee_id', issues);
    const customerId = id(get, 'customer_id', issues);
    const issuer = text(get, 'issuer', issues, 256, true) ?? '';
    const ccy = currency(get, 'currency', issues);
    const amt = amount(get, 'amount', issues, style, ccy, 'positive');
    const expiry = date(get, 'expiry_date', issues, style);
    const validFrom = date(get, 'valid_from', issues, style, false) || undefined;
    if (validFrom && expiry && expiry < validFrom)
      issues.add('expiry_date', get('expiry_date'), `is before valid_from ${validFrom}`);
    return done(issues, {
      guaranteeId,
      customerId,
      issuer,
      amount: amt ?? 0,
      currency: ccy,
      expiry,
      validFrom,
    });
  },
};

export const insurance: KindSpec<'insurance'> = {
  kind: 'insurance',
  required: ['policy_id', 'customer_id', 'insurer', 'insured_share', 'cap', 'currency', 'expiry_date'],
  optional: ['valid_from'],
  key: (r) => [r.customerId, r.policyId],
  validate(get, style) {
    const issues = start();
    const policyId = id(get, 'policy_id', issues);
    const customerId = id(get, 'customer_id', issues);
    const insurer = text(get, 'insurer', issues, 256, true) ?? '';
    const insuredShareBp = share(get, 'insured_share', issues);
    const ccy = currency(get, 'currency', issues);
    const cap = amount(get, 'cap', issues, style, ccy, 'positive');
    const expiry = date(get, 'expiry_date', issues, style);
    const validFrom = date(get, 'valid_from', issues, style, false) || undefined;
    if (validFrom && expiry && expiry < validFrom)
      issues.add('expiry_date', get('expiry_date'), `is before valid_from ${validFrom}`);
    return done(issues, {
      policyId,
      customerId,
      insurer,
      insuredShareBp,
      cap: cap ?? 0,
      currency: ccy,
      expiry,
      validFrom,
    });
  },
};

export const scores: KindSpec<'scores'> = {
  kind: 'scores',
  required: ['customer_id', 'agency', 'score_date', 'score', 'scale_max'],
  optional: [],
  key: (r) => [r.customerId, `${r.agency}\u0000${r.date}`],
  validate(get, style) {
    const issues = start();
    const customerId = id(get, 'customer_id', issues);
    const agency = id(get, 'agency', issues);
    const d = date(get, 'score_date', issues, style);
    const scaleMax = positiveNumber(get, 'scale_max', issues);
    const rawScore = get('score');
    const score = Number(rawScore.trim());
    if (!/^\d+(\.\d+)?$/.test(rawScore.trim()))
      issues.add('score', rawScore, rawScore.trim() === '' ? 'is required' : 'is not a number');
    else if (scaleMax > 0 && score > scaleMax)
      issues.add('score', rawScore, `is above scale_max ${scaleMax}`);
    return done(issues, { customerId, agency, date: d, score, scaleMax });
  },
};

/**
 * The ERP's sales orders (README "Credit checks", issue 18 item 2): an open one is reserved in the
 * customer's `ORDERS` item; cancelled, closed or invoiced releases its reservation. The amount is
 * the order's open value (0 allowed only for an order no longer open).
 */
export const orders: KindSpec<'orders'> = {
  kind: 'orders',
  required: ['order_id', 'customer_id', 'amount', 'currency', 'requested_ship_date', 'status'],
  optional: ['order_date', 'channel'],
  key: (r) => [r.customerId, r.orderId],
  validate(get, style) {
    const issues = start();
    const orderId = id(get, 'order_id', issues);
    if (orderId !== '' && orderId.length <= MAX_ID && !ORDER_ID.test(orderId))
      issues.add('order_id', get('order_id'), ORDER_ID_REASON);
    const customerId = id(get, 'customer_id', issues);
    const rawStatus = get('status');
    const status = STATUS_WORDS[rawStatus.trim().toLowerCase()];
    if (rawStatus.trim() === '') issues.add('status', rawStatus, 'is required');
    else if (!status) issues.add('status', rawStatus, `is not an order status: ${ORDER_STATUSES.join(', ')}`);
    const ccy = currency(get, 'currency', issues);
    const amt = amount(get, 'amount', issues, style, ccy, 'nonNegative');
    if (amt === 0 && (status ?? 'open') === 'open')
      issues.add('amount', get('amount'), 'must be greater than zero for an open order');
    const requestedShipDate = date(get, 'requested_ship_date', issues, style);
    const orderDate = date(get, 'order_date', issues, style, false) || undefined;
    if (orderDate && requestedShipDate && requestedShipDate < orderDate)
      issues.add('requested_ship_date', get('requested_ship_date'), `is before order_date ${orderDate}`);
    const rawChannel = get('channel');
    const channel = rawChannel.trim().toLowerCase() || 'erp';
    if (!CHANNEL.test(channel))
      issues.add(
        'channel',
        rawChannel,
        'is not a short name such as web, edi or erp (letters, digits, . _ -)',
      );
    return done(issues, {
      orderId,
      customerId,
      amount: amt ?? 0,
      currency: ccy,
      requestedShipDate,
      status: status ?? 'open',
      ...(orderDate ? { orderDate } : {}),
      channel,
    });
  },
};

export const SPECS: { [K in Kind]: KindSpec<K> } = {
  customers,
  invoices,
  payments,
  financials,
  fx,
  guarantees,
  insurance,
  scores,
  orders,
};

/**
 * The zod schema of a row of each kind: a record of canonical column -> text, refined by the same
 * validators the streaming path uses. JSON edges (JSON Lines files, APIs) parse with it; the
 * CSV hot loop calls `validate` directly to avoid a schema walk per row (zod costs ~2 us a row).
 */
export function rowSchema<K extends Kind>(kind: K, style: RowStyle = CANONICAL_STYLE) {
  const spec = SPECS[kind] as KindSpec<K>;
  const shape: Record<string, z.ZodType<string>> = {};
  for (const c of spec.required) shape[c] = z.string();
  for (const c of spec.optional) shape[c] = z.string().optional().default('') as unknown as z.ZodType<string>;
  return z.object(shape).transform((raw, ctx): RowOf[K] => {
    const r = spec.validate((c) => raw[c] ?? '', style);
    if (r.ok) return r.row;
    for (const i of r.issues)
      ctx.addIssue({ code: 'custom', path: [i.column], message: i.reason, input: i.value });
    return z.NEVER;
  });
}
