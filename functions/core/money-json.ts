import { minorDigits } from './currencies.ts';
import { formatMinor } from './money.ts';

/**
 * The API's one form of an amount: `formatMinor`'s plain decimal string in major units, with a
 * `currency` field next to it ("1200000.00" beside "currency": "EUR"), never minor-unit integers
 * and never grouped text (README "Money in the API"). Stored records keep minor units; this turns
 * any of them (a customer, a statement, an assessment, alerts, reviews, transfers) into that form
 * on the way out.
 */

/**
 * Fields that hold minor units wherever they appear in a record the API sends. Every other number
 * is a count, days, a score, a share or a ratio and passes as it is. A new amount field must be
 * named here: test/unit/money-json.test.ts fails on any integer it does not know.
 */
export const MONEY_FIELDS: ReadonlySet<string> = new Set([
  // master data, statements, invoices, payments, allocations
  'creditLimit',
  'amount',
  'open',
  'unapplied',
  'unappliedCash',
  'openAmount',
  'overdueAmount',
  'disputedAmount',
  // a dispute on part of an invoice: the part (an invoice status), the invoice's open amount it splits
  'disputedPart',
  'invoiceOpen',
  // collections: what a step demanded, what a promise was paid
  'demand',
  'paid',
  // financial statements
  'revenue',
  'currentAssets',
  'currentLiabilities',
  'inventory',
  'totalAssets',
  'totalLiabilities',
  'retainedEarnings',
  'ebit',
  'equity',
  // assessments and limit recommendations
  'exposure',
  'current',
  'recommended',
  'salesInWindow',
  'monthlySales',
  'bySales',
  'guaranteed',
  'insured',
  'counted',
  'cap',
  'insurable',
  'overdueBeyondExtension',
  'total',
  'rounded',
  'ratingCap',
  'to',
  'from',
  // alert facts
  'allOpenReceivables',
  'medianOfHistory',
  // reviews
  'limit',
  'currentLimit',
  'recommendedLimit',
  'limitAfter',
  'askedLimit',
  'secured',
  'approvedTransfers',
  'headroom',
  'headroomAfter',
  'increase',
  'decrease',
  // credit applications (functions/applications/application.ts)
  'requestedLimit',
  'initialLimit',
  'approvedLimit',
  // held orders (functions/checks/held.ts): the order in the credit currency
  'thisOrder',
]);

/** Objects whose every numeric field is an amount (aging buckets, a dunning's totals). */
const ALL_MONEY: ReadonlySet<string> = new Set(['aging', 'totals']);
/** A credit check's exposure breakdown (functions/checks/decide.ts) is an object of amounts too. */
const MONEY_OBJECTS: ReadonlySet<string> = new Set([...ALL_MONEY, 'exposure']);

const isCurrency = (v: unknown): v is string => typeof v === 'string' && minorDigits(v) !== undefined;

function convert(value: unknown, currency: string | undefined, allMoney: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => convert(v, currency, false));
  if (value === null || typeof value !== 'object') return value;
  const own = (value as { currency?: unknown }).currency;
  const ccy = isCurrency(own) ? own : currency;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (
      typeof v === 'number' &&
      Number.isSafeInteger(v) &&
      ccy !== undefined &&
      (allMoney || MONEY_FIELDS.has(k))
    )
      out[k] = formatMinor(v, ccy);
    else out[k] = convert(v, ccy, MONEY_OBJECTS.has(k));
  }
  return out;
}

/**
 * `value` with every amount (an integer under a money field, in the currency of the nearest
 * object that names one, or `currency`) as `formatMinor`'s plain decimal string. Pure: returns a
 * copy. An amount with no currency around it is left as it is (the test over the API says so).
 */
export function moneyAsDecimals<T>(value: T, currency?: string): unknown {
  return convert(value, currency, false);
}
