/**
 * ISO 4217 active currency codes and their minor-unit exponent (digits after the decimal point).
 * Source: ISO 4217 list one (SIX), funds and precious metals excluded except where ERPs use them.
 * Codes not listed here are rejected as "unknown currency" rather than guessed.
 */
const DIGITS_0 = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const DIGITS_3 = 'BHD IQD JOD KWD LYD OMR TND';
const DIGITS_4 = 'CLF UYW';
const DIGITS_2 =
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD ' +
  'CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP ' +
  'GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD ' +
  'MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR ' +
  'PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP ' +
  'TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL';

const table = new Map<string, number>();
for (const [codes, digits] of [
  [DIGITS_0, 0],
  [DIGITS_2, 2],
  [DIGITS_3, 3],
  [DIGITS_4, 4],
] as const) {
  for (const code of codes.split(' ')) table.set(code, digits);
}

/** Minor-unit digits of an ISO 4217 code, or undefined when the code is not an active currency. */
export function minorDigits(currency: string): number | undefined {
  return table.get(currency);
}

export function isCurrency(code: string): boolean {
  return table.has(code);
}

/** Every code by its three letters' index, so a code can be read in place without a string. */
const byIndex: (string | undefined)[] = new Array(26 * 26 * 26).fill(undefined);
for (const code of table.keys())
  byIndex[(code.charCodeAt(0) - 65) * 676 + (code.charCodeAt(1) - 65) * 26 + (code.charCodeAt(2) - 65)] =
    code;

/** The currency code written exactly at `text[from, to)` (three capitals), or undefined. */
export function currencyAt(text: string, from: number, to: number): string | undefined {
  if (to - from !== 3) return undefined;
  const a = text.charCodeAt(from) - 65;
  const b = text.charCodeAt(from + 1) - 65;
  const c = text.charCodeAt(from + 2) - 65;
  if (a < 0 || a > 25 || b < 0 || b > 25 || c < 0 || c > 25) return undefined;
  return byIndex[a * 676 + b * 26 + c];
}
