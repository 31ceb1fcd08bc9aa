import { describe, expect, it } from 'vitest';
import { isCurrency, minorDigits } from '../../functions/core/currencies.ts';
import type { NumberStyle, Rate } from '../../functions/core/money.ts';
import {
  CANONICAL_NUMBER_STYLE,
  convertMinor,
  formatMinor,
  formatMoney,
  formatRate,
  minorUnitsOfNumber,
  parseMinorUnits,
  parseRate,
} from '../../functions/core/money.ts';

const US = CANONICAL_NUMBER_STYLE; // decimal '.', thousands ','
const EU: NumberStyle = { decimal: ',', thousands: '.' };
const PLAIN: NumberStyle = { decimal: '.', thousands: '' };
const SPACED: NumberStyle = { decimal: ',', thousands: ' ' };

const accepted = (value: number) => ({ ok: true, value });
const refused = (reason: string) => ({ ok: false, reason });

function rate(text: string): Rate {
  const r = parseRate(text);
  if (!r.ok) throw new Error(`test rate ${text} ${r.reason}`);
  return r.value;
}

describe('minorDigits / isCurrency', () => {
  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['CNY', 2],
    ['GBP', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['KWD', 3],
    ['BHD', 3],
    ['CLF', 4],
  ])('%s has %i minor digits and is a currency', (code, digits) => {
    expect(minorDigits(code)).toBe(digits);
    expect(isCurrency(code)).toBe(true);
  });

  it.each(['XXX', 'ABC', 'BTC', 'usd', 'US', '', ' USD'])('"%s" is not a known currency', (code) => {
    expect(minorDigits(code)).toBeUndefined();
    expect(isCurrency(code)).toBe(false);
  });
});

describe('parseMinorUnits', () => {
  it('reads integers as whole major units', () => {
    expect(parseMinorUnits('0', 2, US)).toEqual(accepted(0));
    expect(parseMinorUnits('12', 2, US)).toEqual(accepted(1200));
    expect(parseMinorUnits('1234567', 2, US)).toEqual(accepted(123456700));
  });

  it('reads decimals and pads missing decimals', () => {
    expect(parseMinorUnits('12.34', 2, US)).toEqual(accepted(1234));
    expect(parseMinorUnits('12.3', 2, US)).toEqual(accepted(1230));
    expect(parseMinorUnits('0.05', 2, US)).toEqual(accepted(5));
    expect(parseMinorUnits('  12.34  ', 2, US)).toEqual(accepted(1234));
  });

  it('accepts extra trailing zeros but refuses extra significant decimals', () => {
    expect(parseMinorUnits('12.300', 2, US)).toEqual(accepted(1230));
    expect(parseMinorUnits('12.3400000', 2, US)).toEqual(accepted(1234));
    expect(parseMinorUnits('12.345', 2, US)).toEqual(refused('has more than 2 decimals'));
    expect(parseMinorUnits('12.3401', 2, US)).toEqual(refused('has more than 2 decimals'));
  });

  it('never goes through a float', () => {
    // 0.29 * 100 = 28.999999999999996 and 1.15 * 100 = 114.99999999999999 in floating point
    expect(parseMinorUnits('0.29', 2, US)).toEqual(accepted(29));
    expect(parseMinorUnits('1.15', 2, US)).toEqual(accepted(115));
    expect(parseMinorUnits('4.35', 2, US)).toEqual(accepted(435));
    expect(parseMinorUnits('1.005', 3, US)).toEqual(accepted(1005));
  });

  it('round-trips every cent amount from 0.00 to 99.99 through formatMinor', () => {
    for (let cents = 0; cents < 10_000; cents++) {
      const r = parseMinorUnits(formatMinor(cents, 'USD'), 2, US);
      if (!r.ok || r.value !== cents) throw new Error(`${cents} -> ${JSON.stringify(r)}`);
    }
  });

  it('uses the currency digits: JPY 0, KWD 3, CLF 4', () => {
    expect(parseMinorUnits('1234', 0, US)).toEqual(accepted(1234));
    expect(parseMinorUnits('1,234', 0, US)).toEqual(accepted(1234));
    expect(parseMinorUnits('1234.00', 0, US)).toEqual(accepted(1234));
    expect(parseMinorUnits('1234.5', 0, US)).toEqual(refused('has more than 0 decimals'));
    expect(parseMinorUnits('1.234', 3, US)).toEqual(accepted(1234));
    expect(parseMinorUnits('1.2', 3, US)).toEqual(accepted(1200));
    expect(parseMinorUnits('0.005', 3, US)).toEqual(accepted(5));
    expect(parseMinorUnits('1.2340', 3, US)).toEqual(accepted(1234));
    expect(parseMinorUnits('1.2345', 3, US)).toEqual(refused('has more than 3 decimals'));
    expect(parseMinorUnits('1.2345', 4, US)).toEqual(accepted(12345));
  });

  it('reads a sign', () => {
    expect(parseMinorUnits('-12.34', 2, US)).toEqual(accepted(-1234));
    expect(parseMinorUnits('+12.34', 2, US)).toEqual(accepted(1234));
    expect(parseMinorUnits('-1,234.50', 2, US)).toEqual(accepted(-123450));
    expect(parseMinorUnits('-0.01', 2, US)).toEqual(accepted(-1));
    expect(parseMinorUnits('--1', 2, US)).toEqual(refused('is not a number'));
    expect(parseMinorUnits('+-1', 2, US)).toEqual(refused('is not a number'));
    expect(parseMinorUnits('12-', 2, US)).toEqual(refused('is not a number'));
    expect(parseMinorUnits('-', 2, US)).toEqual(refused('is not a number'));
    expect(parseMinorUnits('- 1', 2, US)).toEqual(refused('is not a number'));
  });

  it('accepts thousands separators between correct groups of three only', () => {
    expect(parseMinorUnits('1,234.50', 2, US)).toEqual(accepted(123450));
    expect(parseMinorUnits('1,234,567.89', 2, US)).toEqual(accepted(123456789));
    expect(parseMinorUnits('12,345', 2, US)).toEqual(accepted(1234500));
    expect(parseMinorUnits('123,456', 2, US)).toEqual(accepted(12345600));
    const misplaced = refused('has misplaced thousands separators');
    expect(parseMinorUnits('1,23.4', 2, US)).toEqual(misplaced);
    expect(parseMinorUnits('12,34', 2, US)).toEqual(misplaced);
    expect(parseMinorUnits(',123', 2, US)).toEqual(misplaced);
    expect(parseMinorUnits('1234,567', 2, US)).toEqual(misplaced);
    expect(parseMinorUnits('1,2345', 2, US)).toEqual(misplaced);
    expect(parseMinorUnits('1,,234', 2, US)).toEqual(misplaced);
    expect(parseMinorUnits('1,234,56', 2, US)).toEqual(misplaced);
    expect(parseMinorUnits('1,234,', 2, US)).toEqual(misplaced);
    // A separator after the decimal point is not a number at all.
    expect(parseMinorUnits('1.20,5', 2, US)).toEqual(refused('is not a number'));
  });

  it('reads European style {decimal: ",", thousands: "."}', () => {
    expect(parseMinorUnits('1.234,50', 2, EU)).toEqual(accepted(123450));
    expect(parseMinorUnits('1.234.567,89', 2, EU)).toEqual(accepted(123456789));
    expect(parseMinorUnits('1234,5', 2, EU)).toEqual(accepted(123450));
    expect(parseMinorUnits('-0,29', 2, EU)).toEqual(accepted(-29));
    // "12.34" in a European file is a misplaced thousands separator, not 12.34 and not 1234.
    expect(parseMinorUnits('12.34', 2, EU)).toEqual(refused('has misplaced thousands separators'));
    // "1,234.50" in a European file: ",234" is three decimals, refused rather than misread.
    expect(parseMinorUnits('1,234.50', 2, EU)).toEqual(refused('has more than 2 decimals'));
  });

  it('reads a space as thousands separator when the style says so', () => {
    expect(parseMinorUnits('1 234 567,89', 2, SPACED)).toEqual(accepted(123456789));
    expect(parseMinorUnits('12 34,00', 2, SPACED)).toEqual(refused('has misplaced thousands separators'));
  });

  it('refuses any thousands separator when the style has none', () => {
    expect(parseMinorUnits('1234.50', 2, PLAIN)).toEqual(accepted(123450));
    expect(parseMinorUnits('1,234.50', 2, PLAIN)).toEqual(refused('is not a number'));
  });

  it('refuses empty text and non-numbers', () => {
    expect(parseMinorUnits('', 2, US)).toEqual(refused('is empty'));
    expect(parseMinorUnits('   ', 2, US)).toEqual(refused('is empty'));
    for (const text of [
      'abc',
      '12a',
      'USD 12',
      '$12',
      '12 USD',
      '1e5',
      '0x10',
      'NaN',
      'Infinity',
      '12 34',
      '.',
    ]) {
      expect(parseMinorUnits(text, 2, US), text).toEqual(refused('is not a number'));
    }
  });

  it('refuses amounts beyond the safe integer range instead of losing precision', () => {
    // Number.MAX_SAFE_INTEGER = 9007199254740991
    expect(parseMinorUnits('90071992547409.91', 2, US)).toEqual(accepted(9007199254740991));
    expect(parseMinorUnits('90071992547409.92', 2, US)).toEqual(refused('is too large'));
    expect(parseMinorUnits('9007199254740991', 0, US)).toEqual(accepted(9007199254740991));
    expect(parseMinorUnits('9007199254740992', 0, US)).toEqual(refused('is too large'));
    expect(parseMinorUnits('1'.repeat(400), 2, US)).toEqual(refused('is too large'));
  });
});

describe('minorUnitsOfNumber (spreadsheet numbers)', () => {
  it.each([
    [100 * 1.1, 2, 11000], // =E2*1.1 showing 110.00, stored 110.00000000000001
    [0.1 + 0.2, 2, 30],
    [0.1 + 0.2 - 0.3, 2, 0], // 5.55e-17: a difference that should be zero, and no -0
    [-(0.1 + 0.2), 2, -30],
    [1234567890.12, 2, 123456789012], // typed: the product with 100 is a few units in the last place off
    [1e9 * 1.1, 2, 110000000000],
    [0.1 * 3, 3, 300],
    [1100.0000000000002, 0, 1100],
    [2 ** 47 / 100, 2, 2 ** 47],
  ])('%d with %d decimals -> %d minor units', (x, digits, value) => {
    expect(minorUnitsOfNumber(x, digits)).toEqual(accepted(value));
  });

  it.each([
    [110.005, 2, 'has more than 2 decimals'],
    [12.345, 2, 'has more than 2 decimals'],
    [110.0000001, 2, 'has more than 2 decimals'], // a ten-millionth: not floating-point error
    [12.5, 0, 'has more than 0 decimals'],
    [Number.NaN, 2, 'is not a number'],
    [Number.POSITIVE_INFINITY, 2, 'is not a number'],
  ])('%d with %d decimals is refused: %s', (x, digits, reason) => {
    expect(minorUnitsOfNumber(x, digits)).toEqual(refused(reason));
  });

  it('is exact beyond 2^47 minor units, where a tolerance would reach a quarter unit', () => {
    const x = (2 ** 48 + 0.3) / 100; // 2,814,749,767,106.563: off by 0.3 of a unit at that size
    expect(minorUnitsOfNumber(x, 2)).toMatchObject({ ok: false });
  });
});

describe('formatMinor', () => {
  it.each([
    [123450, 'USD', '1234.50'],
    [-123450, 'USD', '-1234.50'],
    [5, 'USD', '0.05'],
    [-5, 'USD', '-0.05'],
    [0, 'USD', '0.00'],
    [100, 'EUR', '1.00'],
    [1234, 'JPY', '1234'],
    [-1234, 'JPY', '-1234'],
    [0, 'JPY', '0'],
    [1234567, 'KWD', '1234.567'],
    [-1, 'KWD', '-0.001'],
    [50, 'KWD', '0.050'],
    [12345, 'CLF', '1.2345'],
    [9007199254740991, 'USD', '90071992547409.91'],
    // unknown codes are formatted with 2 digits
    [123, 'XXX', '1.23'],
  ])('%i %s -> %s', (amount, currency, text) => {
    expect(formatMinor(amount, currency)).toBe(text);
  });
});

describe('formatMoney: how a person reads an amount', () => {
  it("groups thousands, keeps the currency's decimals and names the currency", () => {
    expect(formatMoney(35376034, 'GBP')).toBe('353,760.34 GBP');
    expect(formatMoney(150000000, 'CNY')).toBe('1,500,000.00 CNY');
    expect(formatMoney(-5000, 'JPY')).toBe('-5,000 JPY');
    expect(formatMoney(5, 'EUR')).toBe('0.05 EUR');
    expect(formatMoney(-99, 'USD')).toBe('-0.99 USD');
    expect(formatMoney(1234567891, 'KWD')).toBe('1,234,567.891 KWD');
    expect(formatMoney(0, 'EUR')).toBe('0.00 EUR');
  });
});

describe('parseRate / formatRate', () => {
  it('holds rates exactly as units / 10^scale', () => {
    expect(parseRate('1.08453')).toEqual({ ok: true, value: { units: 108453n, scale: 5 } });
    expect(parseRate('149.5')).toEqual({ ok: true, value: { units: 1495n, scale: 1 } });
    expect(parseRate('2')).toEqual({ ok: true, value: { units: 2n, scale: 0 } });
    expect(parseRate(' 0.92 ')).toEqual({ ok: true, value: { units: 92n, scale: 2 } });
    expect(parseRate('1.123456789012')).toEqual({ ok: true, value: { units: 1123456789012n, scale: 12 } });
  });

  it('refuses zero, negative, malformed and over-precise rates', () => {
    const notPositive = { ok: false, reason: 'is not a positive decimal number' };
    expect(parseRate('0')).toEqual({ ok: false, reason: 'must be greater than zero' });
    expect(parseRate('0.000')).toEqual({ ok: false, reason: 'must be greater than zero' });
    for (const t of ['-1.2', '1,08', '', '1e3', '.5', '5.', 'abc', '1.2.3', '+1']) {
      expect(parseRate(t), t).toEqual(notPositive);
    }
    expect(parseRate('1.1234567890123')).toEqual({ ok: false, reason: 'has more than 12 decimals' });
  });

  it('formats rates back to decimal text', () => {
    expect(formatRate({ units: 108453n, scale: 5 })).toBe('1.08453');
    expect(formatRate({ units: 5n, scale: 3 })).toBe('0.005');
    expect(formatRate({ units: 2n, scale: 0 })).toBe('2');
    expect(formatRate({ units: 1495n, scale: 1 })).toBe('149.5');
    expect(formatRate(rate('0.00012345'))).toBe('0.00012345');
    expect(formatRate(rate('7.50'))).toBe('7.50');
    expect(formatRate(rate('007.5'))).toBe('7.5');
  });
});

describe('convertMinor', () => {
  it('converts with the rate as quote per base', () => {
    // 100.00 USD * 0.92 = 92.00 EUR
    expect(convertMinor(10000, 'USD', 'EUR', rate('0.92'))).toBe(9200);
    // 123.45 EUR * 1.08453 = 133.8852285 USD -> 13388.52285 cents -> 13389
    expect(convertMinor(12345, 'EUR', 'USD', rate('1.08453'))).toBe(13389);
  });

  it('converts the other way round with inverse', () => {
    // rate 0.92 EUR per USD; 92.00 EUR / 0.92 = 100.00 USD
    expect(convertMinor(9200, 'EUR', 'USD', rate('0.92'), true)).toBe(10000);
    // rate 1.08453 USD per EUR; 100.00 USD / 1.08453 = 92.2058403... EUR -> 9220.584 cents -> 9221
    expect(convertMinor(10000, 'USD', 'EUR', rate('1.08453'), true)).toBe(9221);
  });

  it('rounds half away from zero, once', () => {
    // 0.01 USD * 0.5 = 0.5 cent -> 1 ; -0.5 -> -1
    expect(convertMinor(1, 'USD', 'EUR', rate('0.5'))).toBe(1);
    expect(convertMinor(-1, 'USD', 'EUR', rate('0.5'))).toBe(-1);
    // 5 cents * 0.5 = 2.5 -> 3 (banker's rounding would give 2)
    expect(convertMinor(5, 'USD', 'EUR', rate('0.5'))).toBe(3);
    expect(convertMinor(-5, 'USD', 'EUR', rate('0.5'))).toBe(-3);
    // 3 * 0.5 = 1.5 -> 2
    expect(convertMinor(3, 'USD', 'EUR', rate('0.5'))).toBe(2);
    // 0.49 -> 0 ; 0.51 -> 1
    expect(convertMinor(1, 'USD', 'EUR', rate('0.49'))).toBe(0);
    expect(convertMinor(1, 'USD', 'EUR', rate('0.51'))).toBe(1);
    // 1.00 USD * 1.005 = 100.5 cents -> 101 (a float computes 100 * 1.005 = 100.49999999999999)
    expect(convertMinor(100, 'USD', 'EUR', rate('1.005'))).toBe(101);
    // inverse: 3 cents / 2 = 1.5 -> 2 ; -3 / 2 = -1.5 -> -2 ; 5 / 4 = 1.25 -> 1
    expect(convertMinor(3, 'USD', 'EUR', rate('2'), true)).toBe(2);
    expect(convertMinor(-3, 'USD', 'EUR', rate('2'), true)).toBe(-2);
    expect(convertMinor(5, 'USD', 'EUR', rate('4'), true)).toBe(1);
  });

  it('handles the digit change between JPY (0) and USD (2)', () => {
    // 100.00 USD * 149.5 JPY/USD = 14950 JPY
    expect(convertMinor(10000, 'USD', 'JPY', rate('149.5'))).toBe(14950);
    // 1.23 USD * 149.5 = 183.885 JPY -> 184
    expect(convertMinor(123, 'USD', 'JPY', rate('149.5'))).toBe(184);
    // 0.01 USD * 150 = 1.5 JPY -> 2 ; -1.5 -> -2
    expect(convertMinor(1, 'USD', 'JPY', rate('150'))).toBe(2);
    expect(convertMinor(-1, 'USD', 'JPY', rate('150'))).toBe(-2);
    // 14950 JPY * 0.0067 USD/JPY = 100.165 USD -> 10016.5 cents -> 10017
    expect(convertMinor(14950, 'JPY', 'USD', rate('0.0067'))).toBe(10017);
    // inverse of 149.5 JPY per USD: 14950 JPY / 149.5 = 100.00 USD
    expect(convertMinor(14950, 'JPY', 'USD', rate('149.5'), true)).toBe(10000);
    // 100 JPY / 149.5 = 0.66889... USD -> 66.889 cents -> 67
    expect(convertMinor(100, 'JPY', 'USD', rate('149.5'), true)).toBe(67);
  });

  it('handles 3-digit currencies (KWD)', () => {
    // 1.000 KWD * 3.25 = 3.25 USD
    expect(convertMinor(1000, 'KWD', 'USD', rate('3.25'))).toBe(325);
    // 0.001 KWD * 3.25 = 0.00325 USD -> 0.325 cents -> 0 ; 0.002 KWD -> 0.65 cents -> 1
    expect(convertMinor(1, 'KWD', 'USD', rate('3.25'))).toBe(0);
    expect(convertMinor(2, 'KWD', 'USD', rate('3.25'))).toBe(1);
    // 3.25 USD / 3.25 (USD per KWD) = 1.000 KWD
    expect(convertMinor(325, 'USD', 'KWD', rate('3.25'), true)).toBe(1000);
  });
});
