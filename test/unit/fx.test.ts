import { describe, expect, it } from 'vitest';
import {
  convertAsOf,
  type RatesOf,
  rateAsOf,
  ratePairs,
  rateSearchWords,
  rateWords,
} from '../../functions/core/fx.ts';
import type { FxRate } from '../../functions/core/records.ts';

/**
 * Rates for a reporting currency (functions/core/fx.ts): the stored pair, its inverse, or a cross
 * rate through a pivot (USD, then EUR), each leg the latest on or before the day; worked by hand.
 */
const fx = (date: string, base: string, quote: string, rate: string): FxRate => ({ date, base, quote, rate });
const ratesOf =
  (list: readonly FxRate[]): RatesOf =>
  (base, quote) =>
    list.filter((r) => r.base === base && r.quote === quote);
const AS_OF = '2026-03-31';
const BOOK = ratesOf([
  fx('2026-03-28', 'EUR', 'USD', '1.0850'),
  fx('2026-04-02', 'EUR', 'USD', '1.2000'), // after the day: never used
  fx('2026-03-30', 'USD', 'CNY', '7.1000'),
  fx('2026-03-30', 'USD', 'GBP', '0.8'),
]);

describe('rates as of a day', () => {
  it('uses the stored pair, else its inverse, each the latest on or before the day', () => {
    expect(convertAsOf(100_000, 'EUR', 'USD', AS_OF, BOOK)).toEqual({
      amount: 108_500,
      rate: { pair: 'EUR/USD', rate: '1.0850', date: '2026-03-28' },
    });
    // 1,085.00 USD / 1.0850 = 1,000.00 EUR.
    expect(convertAsOf(108_500, 'USD', 'EUR', AS_OF, BOOK)?.amount).toBe(100_000);
    expect(convertAsOf(100_000, 'EUR', 'EUR', AS_OF, BOOK)).toEqual({ amount: 100_000 });
  });

  it('goes through USD when the pair is not on file either way: the legs multiplied exactly, rounded once', () => {
    // 1,000.00 EUR × 1.0850 × 7.1000 = 7,703.50 CNY.
    const eurCny = convertAsOf(100_000, 'EUR', 'CNY', AS_OF, BOOK);
    expect(eurCny?.amount).toBe(770_350);
    expect(eurCny?.rate).toEqual({
      pair: 'EUR/CNY',
      rate: '7.703500',
      date: '2026-03-28',
      via: [
        { pair: 'EUR/USD', rate: '1.0850', date: '2026-03-28' },
        { pair: 'USD/CNY', rate: '7.1000', date: '2026-03-30' },
      ],
    });
    expect(rateWords(eurCny?.rate as NonNullable<typeof eurCny>['rate'] & object)).toBe(
      'EUR/CNY 7.703500 (EUR/USD 1.0850 of 2026-03-28 × USD/CNY 7.1000 of 2026-03-30)',
    );
    // Both legs inverse: back to 1,000.00 EUR exactly.
    expect(convertAsOf(770_350, 'CNY', 'EUR', AS_OF, BOOK)?.amount).toBe(100_000);
    // One leg each way: 1 GBP = 1/0.8 USD = 1.25 USD = 1.25 × 7.1 CNY = 8.875 CNY; 0.01 GBP is
    // 0.08875 CNY, rounded once to 0.09 (through USD cents first it would be 0.01 × 1.25 = 0.0125 →
    // 0.01 USD → 0.071 → 0.07 CNY).
    expect(convertAsOf(1, 'GBP', 'CNY', AS_OF, BOOK)?.amount).toBe(9);
    expect(rateAsOf(BOOK, 'GBP', 'CNY', AS_OF)?.used.rate).toBe('8.875000');
  });

  it('prefers the pair on file to any cross rate, USD to EUR as the pivot, and never a leg dated after the day', () => {
    const rates = ratesOf([
      fx('2026-03-01', 'GBP', 'CNY', '9.0'),
      fx('2026-03-30', 'GBP', 'USD', '1.3'),
      fx('2026-03-30', 'USD', 'CNY', '7.0'),
      fx('2026-03-30', 'GBP', 'EUR', '1.2'),
      fx('2026-03-30', 'EUR', 'JPY', '160'),
      fx('2026-03-30', 'USD', 'JPY', '150'),
      fx('2026-04-01', 'CHF', 'USD', '1.1'),
      fx('2026-03-30', 'CHF', 'EUR', '1.05'),
      fx('2026-03-30', 'EUR', 'SEK', '11'),
    ]);
    // The stored pair, older than both legs of a cross.
    expect(rateAsOf(rates, 'GBP', 'CNY', AS_OF)?.used).toEqual({
      pair: 'GBP/CNY',
      rate: '9.0',
      date: '2026-03-01',
    });
    // Through USD (1.3 × 150 = 195) though EUR would do too (1.2 × 160 = 192).
    expect(rateAsOf(rates, 'GBP', 'JPY', AS_OF)?.used.rate).toBe('195.000000');
    // CHF/USD is dated after the day: CHF reaches SEK through EUR (1.05 × 11), not USD.
    expect(rateAsOf(rates, 'CHF', 'SEK', AS_OF)?.used).toMatchObject({ pair: 'CHF/SEK', rate: '11.550000' });
    expect(rateAsOf(rates, 'CHF', 'USD', AS_OF)).toBeUndefined();
    expect(rateAsOf(rates, 'CHF', 'USD', '2026-04-01')?.used.pair).toBe('CHF/USD');
    // Nothing on file: nothing guessed.
    expect(rateAsOf(rates, 'NOK', 'CNY', AS_OF)).toBeUndefined();
    expect(convertAsOf(100, 'NOK', 'CNY', AS_OF, rates)).toBeUndefined();
  });

  it('goes through CNY for a table quoted against it, as a company keeping its books in China has', () => {
    const cnyTable = ratesOf([fx('2026-03-31', 'EUR', 'CNY', '7.7'), fx('2026-03-31', 'USD', 'CNY', '7.1')]);
    // 1,000.00 EUR × 7.7 / 7.1 = 1,084.5070... USD: 1,084.51.
    const r = convertAsOf(100_000, 'EUR', 'USD', AS_OF, cnyTable);
    expect(r?.amount).toBe(108_451);
    expect(r?.rate?.via?.map((l) => l.pair)).toEqual(['EUR/CNY', 'USD/CNY']);
    expect(r?.rate?.rate).toBe('1.084507');
  });

  it('reads the pairs a cross rate needs, once each, and says where it looked', () => {
    expect(ratePairs(['CNY', 'EUR', 'CNY', 'USD'], 'EUR').map(([b, q]) => `${b}/${q}`)).toEqual([
      'CNY/EUR',
      'EUR/CNY',
      'CNY/USD',
      'USD/CNY',
      'USD/EUR',
      'EUR/USD',
    ]);
    expect(rateSearchWords('GBP', 'CNY')).toBe('either way, or through USD or EUR');
    expect(rateSearchWords('GBP', 'JPY')).toBe('either way, or through USD, EUR or CNY');
    expect(rateSearchWords('GBP', 'EUR')).toBe('either way, or through USD or CNY');
    expect(rateSearchWords('USD', 'EUR')).toBe('either way, or through CNY');
    expect(rateSearchWords('USD', 'CNY')).toBe('either way, or through EUR');
  });
});
