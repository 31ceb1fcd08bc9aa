import { minorDigits } from './currencies.ts';

/** An amount of money: an integer count of minor units (cents) with its ISO 4217 currency. */
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

export interface NumberStyle {
  /** Decimal separator, '.' or ','. */
  readonly decimal: string;
  /** Thousands separator accepted between groups of three digits ('' for none). */
  readonly thousands: string;
}

export const CANONICAL_NUMBER_STYLE: NumberStyle = { decimal: '.', thousands: ',' };

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const ZERO = 48;
const NINE = 57;

/**
 * The common case of `parseMinorUnits` without allocating: plain digits with an optional `decimal`
 * and at most `digits` decimals. NaN for anything else (signs, separators, errors): the caller then
 * asks `parseMinorUnits`, which handles every form and says what is wrong.
 */
export function plainMinorUnits(s: string, digits: number, decimal: number): number {
  return plainMinorUnitsAt(s, 0, s.length, digits, decimal);
}

/** `plainMinorUnits` of `text.slice(from, to)`, read in place (the CSV hot path's form). */
export function plainMinorUnitsAt(
  text: string,
  from: number,
  to: number,
  digits: number,
  decimal: number,
): number {
  const n = to - from;
  if (n <= 0 || n > 17) return Number.NaN;
  let units = 0;
  let i = from;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === decimal) break;
    if (c < ZERO || c > NINE) return Number.NaN;
    units = units * 10 + (c - ZERO);
  }
  if (i === from) return Number.NaN;
  let frac = 0;
  let fd = 0;
  if (i < to) {
    if (to - i - 1 === 0 || to - i - 1 > digits) return Number.NaN;
    for (let j = i + 1; j < to; j++) {
      const c = text.charCodeAt(j);
      if (c < ZERO || c > NINE) return Number.NaN;
      frac = frac * 10 + (c - ZERO);
      fd++;
    }
  }
  for (; fd < digits; fd++) frac *= 10;
  const value = units * 10 ** digits + frac;
  return Number.isSafeInteger(value) ? value : Number.NaN;
}

/**
 * Parses a decimal text into integer minor units without ever going through a float.
 * Accepts an optional sign, thousands separators only between correct groups of three digits,
 * and at most `digits` decimals (extra trailing zeros are fine: "12.300" is 1230 cents;
 * "12.345" in a 2-digit currency is refused rather than rounded).
 */
export function parseMinorUnits(text: string, digits: number, style: NumberStyle): Parsed<number> {
  const s = text.trim();
  const n = s.length;
  if (n === 0) return { ok: false, reason: 'is empty' };
  let i = 0;
  let negative = false;
  const first = s.charCodeAt(0);
  if (first === 45 /* - */ || first === 43 /* + */) {
    negative = first === 45;
    i = 1;
  }
  let units = 0;
  let intDigits = 0;
  let groupLen = -1; // digits since the last thousands separator; -1 before any separator
  let frac = 0;
  let fracDigits = 0;
  let inFraction = false;
  const dec = style.decimal.charCodeAt(0);
  const thou = style.thousands === '' ? -1 : style.thousands.charCodeAt(0);
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= ZERO && c <= NINE) {
      if (inFraction) {
        if (fracDigits < digits) frac = frac * 10 + (c - ZERO);
        else if (c !== ZERO) return { ok: false, reason: `has more than ${digits} decimals` };
        fracDigits++;
      } else {
        units = units * 10 + (c - ZERO);
        intDigits++;
        if (groupLen >= 0) groupLen++;
      }
    } else if (c === dec && !inFraction) {
      if (groupLen >= 0 && groupLen !== 3) return { ok: false, reason: 'has misplaced thousands separators' };
      inFraction = true;
    } else if (c === thou && !inFraction) {
      if (intDigits === 0 || (groupLen >= 0 && groupLen !== 3) || (groupLen < 0 && intDigits > 3)) {
        return { ok: false, reason: 'has misplaced thousands separators' };
      }
      groupLen = 0;
    } else {
      return { ok: false, reason: 'is not a number' };
    }
  }
  if (intDigits === 0 && fracDigits === 0) return { ok: false, reason: 'is not a number' };
  if (!inFraction && groupLen >= 0 && groupLen !== 3) {
    return { ok: false, reason: 'has misplaced thousands separators' };
  }
  for (let d = Math.min(fracDigits, digits); d < digits; d++) frac *= 10;
  const value = units * 10 ** digits + frac;
  if (!Number.isSafeInteger(value)) return { ok: false, reason: 'is too large' };
  return { ok: true, value: negative && value !== 0 ? -value : value };
}

/** Beyond this many minor units a number must be exact: the tolerance below would reach a quarter unit. */
const TOLERATED_UP_TO = 2 ** 47;

/**
 * A number a spreadsheet holds (an Excel numeric cell, a JSON number) in minor units. Such a number
 * is a binary double: `=E2*1.1` showing 110.00 is stored as 110.00000000000001. With s = x * 10^d
 * (d the currency's decimals) and n the whole number nearest to s, x is read as n minor units when
 *
 *     |s - n| <= max(1e-6, |n| * 2^-49)   and   |n| <= 2^47
 *
 * that is, within a millionth of a minor unit, or, for large amounts, within about 8 units in the
 * last place of a double (formula rounding grows with the amount). Both bounds stay far below half
 * a minor unit, so a real extra decimal (110.005) is never rounded away: anything outside them is
 * read as its shortest decimal text, under the rules of `parseMinorUnits` ("has more than 2
 * decimals"). Only for numbers: decimal text is never rounded.
 */
export function minorUnitsOfNumber(x: number, digits: number): Parsed<number> {
  if (!Number.isFinite(x)) return { ok: false, reason: 'is not a number' };
  const scaled = x * 10 ** digits;
  const n = Math.round(scaled);
  if (Math.abs(n) <= TOLERATED_UP_TO && Math.abs(scaled - n) <= Math.max(1e-6, Math.abs(n) * 2 ** -49))
    return { ok: true, value: n === 0 ? 0 : n }; // never -0
  return parseMinorUnits(String(x), digits, { decimal: '.', thousands: '' });
}

/** Formats minor units as a plain decimal string in major units: 123450 USD -> "1234.50". */
export function formatMinor(amount: number, currency: string): string {
  const digits = minorDigits(currency) ?? 2;
  const negative = amount < 0;
  const abs = Math.abs(amount);
  if (digits === 0) return `${negative ? '-' : ''}${abs}`;
  const scale = 10 ** digits;
  const major = Math.floor(abs / scale);
  const minor = String(abs % scale).padStart(digits, '0');
  return `${negative ? '-' : ''}${major}.${minor}`;
}

/** Groups the integer digits of a plain decimal string by thousands: "-1234567.50" -> "-1,234,567.50". */
export function groupDigits(decimal: string): string {
  const negative = decimal.startsWith('-');
  const s = negative ? decimal.slice(1) : decimal;
  const dot = s.indexOf('.');
  const int = dot < 0 ? s : s.slice(0, dot);
  const frac = dot < 0 ? '' : s.slice(dot);
  return `${negative ? '-' : ''}${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac}`;
}

/**
 * The one way a person reads an amount, in a sentence or a table, on every surface (console,
 * CLI, emails, Slack, reports): grouped digits, the currency's own decimals, then its ISO code.
 * 35376034 GBP -> "353,760.34 GBP"; -5000 JPY -> "-5,000 JPY". APIs carry `formatMinor`'s plain
 * decimal string instead (see README "Money").
 */
export function formatMoney(amount: number, currency: string): string {
  return `${groupDigits(formatMinor(amount, currency))} ${currency}`;
}

/**
 * `formatMoney` of an amount already held as `formatMinor`'s plain decimal string (a stored record's
 * or an API's figure): "1234567.50", "EUR" -> "1,234,567.50 EUR". Text that is not a plain decimal
 * ("none on file") is returned as it is.
 */
export function formatDecimalMoney(decimal: string, currency: string): string {
  return /^-?\d+(\.\d+)?$/.test(decimal) ? `${groupDigits(decimal)} ${currency}` : decimal;
}

/** An exchange rate held exactly: value = units / 10^scale (quote currency per one base unit). */
export interface Rate {
  readonly units: bigint;
  readonly scale: number;
}

/** Parses a positive decimal rate such as "1.08453" exactly. */
export function parseRate(text: string): Parsed<Rate> {
  const s = text.trim();
  if (!/^\d+(\.\d+)?$/.test(s)) return { ok: false, reason: 'is not a positive decimal number' };
  const dot = s.indexOf('.');
  const scale = dot < 0 ? 0 : s.length - dot - 1;
  if (scale > 12) return { ok: false, reason: 'has more than 12 decimals' };
  const units = BigInt(s.replace('.', ''));
  if (units === 0n) return { ok: false, reason: 'must be greater than zero' };
  return { ok: true, value: { units, scale } };
}

export function formatRate(rate: Rate): string {
  const s = rate.units.toString().padStart(rate.scale + 1, '0');
  return rate.scale === 0 ? s : `${s.slice(0, s.length - rate.scale)}.${s.slice(s.length - rate.scale)}`;
}

/** Divides with rounding half away from zero (the commercial rounding finance teams expect). */
function divRound(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (n * 2n + d) / (2n * d);
  return negative ? -q : q;
}

/**
 * An exact conversion factor (quote per base) as a fraction: one stored rate (`units / 10^scale`),
 * its inverse, or the product of two (a cross rate through a third currency).
 */
export interface Ratio {
  readonly num: bigint;
  readonly den: bigint;
}

/** A rate as a ratio, the other way round when `inverse`. */
export function ratioOf(rate: Rate, inverse = false): Ratio {
  const scale = 10n ** BigInt(rate.scale);
  return inverse ? { num: scale, den: rate.units } : { num: rate.units, den: scale };
}

/** Two conversions one after the other (a → b, then b → c), exactly. */
export function chainRatios(a: Ratio, b: Ratio): Ratio {
  return { num: a.num * b.num, den: a.den * b.den };
}

/** A ratio in decimals for people to read (rounded half away from zero; never used to convert). */
export function formatRatio(r: Ratio, decimals = 6): string {
  return formatRate({ units: divRound(r.num * 10n ** BigInt(decimals), r.den), scale: decimals });
}

/**
 * Converts minor units with an exact ratio (quote per base), rounding half away from zero once,
 * at the end: a cross rate's two legs are never rounded in between.
 */
export function convertMinorRatio(
  amount: number,
  fromCurrency: string,
  toCurrency: string,
  ratio: Ratio,
): number {
  const fromDigits = BigInt(minorDigits(fromCurrency) ?? 2);
  const toDigits = BigInt(minorDigits(toCurrency) ?? 2);
  return Number(divRound(BigInt(amount) * ratio.num * 10n ** toDigits, ratio.den * 10n ** fromDigits));
}

/**
 * Converts minor units of one currency into another with an exact decimal rate
 * (quote per base). `inverse` uses the rate the other way round (base per quote).
 * Rounds half away from zero once, at the end.
 */
export function convertMinor(
  amount: number,
  fromCurrency: string,
  toCurrency: string,
  rate: Rate,
  inverse = false,
): number {
  const fromDigits = BigInt(minorDigits(fromCurrency) ?? 2);
  const toDigits = BigInt(minorDigits(toCurrency) ?? 2);
  const a = BigInt(amount);
  const scale = 10n ** BigInt(rate.scale);
  // amount/10^from * rate * 10^to  (or / rate when inverse)
  let numerator: bigint;
  let denominator: bigint;
  if (!inverse) {
    numerator = a * rate.units * 10n ** toDigits;
    denominator = scale * 10n ** fromDigits;
  } else {
    numerator = a * scale * 10n ** toDigits;
    denominator = rate.units * 10n ** fromDigits;
  }
  return Number(divRound(numerator, denominator));
}
