import { addDays, type IsoDate } from '../core/dates.ts';
import { convertMinor, parseRate } from '../core/money.ts';
import type { FxRate, Original } from '../core/records.ts';
import type { IngestStore } from './ports.ts';

/** Converts rows into the customer's credit currency with the rate of their date (DOMAIN "Money"). */
export class Converter {
  private readonly rates = new Map<string, FxRate[]>();
  constructor(
    private readonly store: IngestStore,
    private readonly maxAgeDays: number,
  ) {}

  /** Loads the rates of the pairs a batch needs, both directions, once per file. */
  async ensure(pairs: Iterable<[string, string]>): Promise<void> {
    const wanted: string[] = [];
    for (const [a, b] of pairs)
      for (const k of [`${a}/${b}`, `${b}/${a}`]) if (!this.rates.has(k)) wanted.push(k);
    await Promise.all(
      [...new Set(wanted)].map(async (k) => {
        const [base, quote] = k.split('/') as [string, string];
        this.rates.set(k, await this.store.getFxRates(base, quote));
      }),
    );
  }

  /** Whether the rates of this pair (both directions) are loaded. */
  has(from: string, to: string): boolean {
    return this.rates.has(`${from}/${to}`) && this.rates.has(`${to}/${from}`);
  }

  private static latest(rates: readonly FxRate[], date: IsoDate, oldest: IsoDate): FxRate | undefined {
    let lo = 0;
    let hi = rates.length - 1;
    let found: FxRate | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rates[mid] as FxRate;
      if (r.date <= date) {
        found = r;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found && found.date >= oldest ? found : undefined;
  }

  /** The converted amount and its original, or why it cannot be converted. Call `ensure` first. */
  convert(
    amount: number,
    from: string,
    to: string,
    date: IsoDate,
  ): { amount: number; original: Original } | { reason: string } {
    const oldest = addDays(date, -this.maxAgeDays);
    const direct = Converter.latest(this.rates.get(`${from}/${to}`) ?? [], date, oldest);
    const inverse = direct
      ? undefined
      : Converter.latest(this.rates.get(`${to}/${from}`) ?? [], date, oldest);
    const rate = direct ?? inverse;
    if (!rate) {
      return {
        reason: `has no ${from}->${to} exchange rate on ${date} or up to ${this.maxAgeDays} days before; upload fx rates first (the customer's credit currency is ${to})`,
      };
    }
    const parsed = parseRate(rate.rate);
    if (!parsed.ok)
      return { reason: `has an invalid stored ${rate.base}/${rate.quote} rate of ${rate.date}` };
    return {
      amount: convertMinor(amount, from, to, parsed.value, rate === inverse),
      original: {
        amount,
        currency: from,
        rate: `${rate.base}/${rate.quote} ${rate.rate}`,
        rateDate: rate.date,
      },
    };
  }
}
