import type { IsoDate } from './dates.ts';
import { chainRatios, convertMinorRatio, formatRatio, parseRate, type Ratio, ratioOf } from './money.ts';
import type { FxRate } from './records.ts';

/**
 * Amounts of a book in one reporting currency (README "The console's customers list", and the
 * collections worklist's score): each converted with the latest rate on file dated on or before
 * the day, the stored pair or else its inverse, or else a cross rate through a pivot currency
 * (`rateAsOf`). A currency with no such rate is not converted, and the caller says so: a rate is
 * never guessed (DOMAIN "Money").
 */

/** The stored rates of one pair, oldest first or in any order. */
export type RatesOf = (base: string, quote: string) => readonly FxRate[];

/**
 * The currencies a cross rate may go through, in the order they are tried, when a pair has no rate
 * on file either way: rate tables are usually quoted against one base currency (USD, the ECB's
 * euro, or the renminbi of a company keeping its books in China, whose tables quote every currency
 * against CNY), so EUR and CNY quoted against USD give EUR/CNY. Both legs are stored rates dated on
 * or before the day; the product is exact and the amount is rounded once.
 */
export const PIVOTS: readonly string[] = ['USD', 'EUR', 'CNY'];

/** The rate a conversion used, as a person reads it ("EUR/USD 1.0850 of 2025-03-28"). */
export interface RateUsed {
  /** The stored pair (`base/quote`); for a cross rate, `from/to`. */
  readonly pair: string;
  /** The stored rate as written; for a cross rate, the product to 6 decimals (for reading only). */
  readonly rate: string;
  /** The stored rate's date; for a cross rate, the older leg's. */
  readonly date: IsoDate;
  /** A cross rate: the two stored rates it is made of, `from` to the pivot, then the pivot to `to`. */
  readonly via?: readonly [RateUsed, RateUsed] | undefined;
}

/** Where a rate was looked for, in words: "either way, or through USD, EUR or CNY" (the pivots that apply). */
export function rateSearchWords(from: string, to: string): string {
  const via = PIVOTS.filter((p) => p !== from && p !== to);
  if (via.length === 0) return 'either way';
  return `either way, or through ${via.length === 1 ? via[0] : `${via.slice(0, -1).join(', ')} or ${via.at(-1)}`}`;
}

/** A rate in words: "EUR/USD 1.0850 of 2025-03-28", a cross rate with its two legs. */
export function rateWords(r: RateUsed): string {
  const one = (x: RateUsed) => `${x.pair} ${x.rate} of ${x.date}`;
  return r.via ? `${r.pair} ${r.rate} (${one(r.via[0])} × ${one(r.via[1])})` : one(r);
}

/** The latest rate dated on or before `asOf` among `rates` (any order). */
function latestRate(rates: readonly FxRate[], asOf: IsoDate): FxRate | undefined {
  let best: FxRate | undefined;
  for (const r of rates) if (r.date <= asOf && (!best || r.date > best.date)) best = r;
  return best;
}

/** A conversion: its exact factor (to per from) and the rate or rates it rests on. */
export interface Conversion {
  readonly ratio: Ratio;
  readonly used: RateUsed;
}

/** The latest `from/to` on or before the day, else the latest `to/from` used inversely. */
function storedAsOf(rates: RatesOf, from: string, to: string, asOf: IsoDate): Conversion | undefined {
  const direct = latestRate(rates(from, to), asOf);
  const found = direct ?? latestRate(rates(to, from), asOf);
  const parsed = found ? parseRate(found.rate) : undefined;
  if (!found || !parsed?.ok) return undefined;
  return {
    ratio: ratioOf(parsed.value, found !== direct),
    used: { pair: `${found.base}/${found.quote}`, rate: found.rate, date: found.date },
  };
}

/**
 * How `from` converts into `to` as of `asOf`: the latest `from/to` on or before the day, else the
 * latest `to/from` (used inversely), else a cross rate through the first of `PIVOTS` with a rate
 * each way on file (each leg found the same way). Undefined when none is on file (or its text is
 * not a rate): a rate is never guessed.
 */
export function rateAsOf(rates: RatesOf, from: string, to: string, asOf: IsoDate): Conversion | undefined {
  const stored = storedAsOf(rates, from, to, asOf);
  if (stored) return stored;
  for (const pivot of PIVOTS) {
    if (pivot === from || pivot === to) continue;
    const a = storedAsOf(rates, from, pivot, asOf);
    const b = a && storedAsOf(rates, pivot, to, asOf);
    if (!a || !b) continue;
    const ratio = chainRatios(a.ratio, b.ratio);
    return {
      ratio,
      used: {
        pair: `${from}/${to}`,
        rate: formatRatio(ratio),
        // The older leg's date (ISO dates compare as text).
        date: [a.used.date, b.used.date].sort()[0] as IsoDate,
        via: [a.used, b.used],
      },
    };
  }
  return undefined;
}

/**
 * `amount` (minor units of `from`) in minor units of `to` as of `asOf`, rounded half away from zero
 * once; the reporting currency itself converts as it is, with no rate. Undefined without a rate.
 */
export function convertAsOf(
  amount: number,
  from: string,
  to: string,
  asOf: IsoDate,
  rates: RatesOf,
): { readonly amount: number; readonly rate?: RateUsed | undefined } | undefined {
  if (from === to) return { amount };
  const r = rateAsOf(rates, from, to, asOf);
  return r && { amount: convertMinorRatio(amount, from, to, r.ratio), rate: r.used };
}

/**
 * The pairs to read for converting each of `currencies` into `report`: each way against it, and
 * each way against every pivot the currency or the report is not (for a cross rate).
 */
export function ratePairs(currencies: Iterable<string>, report: string): [string, string][] {
  const out = new Map<string, [string, string]>();
  const both = (a: string, b: string) => {
    out.set(`${a}/${b}`, [a, b]);
    out.set(`${b}/${a}`, [b, a]);
  };
  for (const c of new Set(currencies)) {
    if (c === report) continue;
    both(c, report);
    for (const p of PIVOTS)
      if (p !== c && p !== report) {
        both(c, p);
        both(p, report);
      }
  }
  return [...out.values()];
}

/**
 * The stored rates each of `currencies` needs against `report` (`ratePairs`), read once each
 * (`get` may keep them longer: the customers list's read model does).
 */
export async function readRates(
  currencies: Iterable<string>,
  report: string,
  get: (base: string, quote: string) => Promise<readonly FxRate[]>,
): Promise<RatesOf> {
  const got = new Map<string, readonly FxRate[]>();
  await Promise.all(
    ratePairs(currencies, report).map(async ([base, quote]) =>
      got.set(`${base}/${quote}`, await get(base, quote)),
    ),
  );
  return (base, quote) => got.get(`${base}/${quote}`) ?? [];
}
