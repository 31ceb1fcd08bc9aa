import type { IsoDate } from './dates.ts';
import { convertMinor, parseRate, type Rate } from './money.ts';
import type { FxRate } from './records.ts';

/**
 * Amounts of a book in one reporting currency (README "The console's customers list", and the
 * collections worklist's score): each converted with the latest rate on file dated on or before
 * the day, the stored pair or else its inverse. A currency with no such rate is not converted,
 * and the caller says so: a rate is never guessed (DOMAIN "Money").
 */

/** The stored rates of one pair, oldest first or in any order. */
export type RatesOf = (base: string, quote: string) => readonly FxRate[];

/** The rate a conversion used, as a person reads it ("EUR/USD 1.0850 of 2025-03-28"). */
export interface RateUsed {
  readonly pair: string;
  readonly rate: string;
  readonly date: IsoDate;
}

/** The latest rate dated on or before `asOf` among `rates` (any order). */
function latestRate(rates: readonly FxRate[], asOf: IsoDate): FxRate | undefined {
  let best: FxRate | undefined;
  for (const r of rates) if (r.date <= asOf && (!best || r.date > best.date)) best = r;
  return best;
}

/**
 * The rate that converts `from` into `to` as of `asOf`: the latest `from/to` on or before the day,
 * else the latest `to/from` (used inversely). Undefined when neither is on file (or its text is
 * not a rate).
 */
export function rateAsOf(
  rates: RatesOf,
  from: string,
  to: string,
  asOf: IsoDate,
): { readonly rate: Rate; readonly inverse: boolean; readonly used: RateUsed } | undefined {
  const direct = latestRate(rates(from, to), asOf);
  const found = direct ?? latestRate(rates(to, from), asOf);
  const parsed = found ? parseRate(found.rate) : undefined;
  if (!found || !parsed?.ok) return undefined;
  return {
    rate: parsed.value,
    inverse: found !== direct,
    used: { pair: `${found.base}/${found.quote}`, rate: found.rate, date: found.date },
  };
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
  return r && { amount: convertMinor(amount, from, to, r.rate, r.inverse), rate: r.used };
}

/**
 * The stored rates of each of `currencies` against `report`, both directions, read once each
 * (`get` may keep them longer: the customers list's read model does).
 */
export async function readRates(
  currencies: Iterable<string>,
  report: string,
  get: (base: string, quote: string) => Promise<readonly FxRate[]>,
): Promise<RatesOf> {
  const got = new Map<string, readonly FxRate[]>();
  const pairs = [...new Set(currencies)]
    .filter((c) => c !== report)
    .flatMap((c): [string, string][] => [
      [c, report],
      [report, c],
    ]);
  await Promise.all(pairs.map(async ([base, quote]) => got.set(`${base}/${quote}`, await get(base, quote))));
  return (base, quote) => got.get(`${base}/${quote}`) ?? [];
}
