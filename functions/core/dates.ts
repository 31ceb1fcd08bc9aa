import type { Parsed } from './money.ts';

/** A calendar date as ISO 8601 text, "2025-03-01". Compares correctly as a string. */
export type IsoDate = string;

/** The date layouts a mapping profile may name. Canonical files use YYYY-MM-DD. */
export const DATE_FORMATS = [
  'YYYY-MM-DD',
  'YYYY/M/D',
  'M/D/YYYY',
  'D/M/YYYY',
  'D.M.YYYY',
  'YYYYMMDD',
] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function build(year: number, month: number, day: number): Parsed<IsoDate> {
  if (year < 1900 || year > 2199) return { ok: false, reason: `has an implausible year ${year}` };
  if (month < 1 || month > 12) return { ok: false, reason: `has no month ${month}` };
  if (day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, reason: `is not a real date (${year}-${pad2(month)} has no day ${day})` };
  }
  return { ok: true, value: `${year}-${pad2(month)}-${pad2(day)}` };
}

/** Reads up to `max` digits at `i`; returns [value, nextIndex] or null. */
function digitsAt(s: string, i: number, min: number, max: number): [number, number] | null {
  let v = 0;
  let j = i;
  while (j < s.length && j - i < max) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    j++;
  }
  return j - i >= min ? [v, j] : null;
}

/**
 * The canonical date itself when `text` is a real YYYY-MM-DD date, else null; no allocation, for
 * the row loop. `parseDate` says why a date is refused.
 */
export function isoDateOrNull(s: string): IsoDate | null {
  return isIsoDateAt(s, 0, s.length) ? s : null;
}

/** Whether `text.slice(from, to)` is a real calendar date written YYYY-MM-DD, read in place. */
export function isIsoDateAt(text: string, from: number, to: number): boolean {
  if (to - from !== 10 || text.charCodeAt(from + 4) !== 45 || text.charCodeAt(from + 7) !== 45) return false;
  let y = 0;
  for (let i = from; i < from + 4; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return false;
    y = y * 10 + c;
  }
  const m1 = text.charCodeAt(from + 5) - 48;
  const m2 = text.charCodeAt(from + 6) - 48;
  const d1 = text.charCodeAt(from + 8) - 48;
  const d2 = text.charCodeAt(from + 9) - 48;
  if (m1 < 0 || m1 > 9 || m2 < 0 || m2 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return false;
  const m = m1 * 10 + m2;
  const d = d1 * 10 + d2;
  return y >= 1900 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/**
 * Parses a date in the given layout and refuses impossible dates (2025-02-30) instead of
 * rolling them over as `Date` would.
 */
export function parseDate(text: string, format: DateFormat = 'YYYY-MM-DD'): Parsed<IsoDate> {
  const s = text.trim();
  if (s === '') return { ok: false, reason: 'is empty' };
  const fail: Parsed<IsoDate> = { ok: false, reason: `is not a date in ${format} form` };
  if (format === 'YYYY-MM-DD') {
    // Fast path for the canonical form, the one large files use.
    if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return fail;
    const y = digitsAt(s, 0, 4, 4);
    const m = digitsAt(s, 5, 2, 2);
    const d = digitsAt(s, 8, 2, 2);
    if (!y || !m || !d) return fail;
    const r = build(y[0], m[0], d[0]);
    return r.ok ? { ok: true, value: s } : r;
  }
  if (format === 'YYYYMMDD') {
    if (s.length !== 8) return fail;
    const y = digitsAt(s, 0, 4, 4);
    const m = digitsAt(s, 4, 2, 2);
    const d = digitsAt(s, 6, 2, 2);
    if (!y || !m || !d) return fail;
    return build(y[0], m[0], d[0]);
  }
  const sep = format === 'YYYY/M/D' || format === 'M/D/YYYY' || format === 'D/M/YYYY' ? 47 : 46;
  const parts: number[] = [];
  let i = 0;
  for (let p = 0; p < 3; p++) {
    const yearPos = format === 'YYYY/M/D' ? p === 0 : p === 2;
    const r = digitsAt(s, i, yearPos ? 4 : 1, yearPos ? 4 : 2);
    if (!r) return fail;
    parts.push(r[0]);
    i = r[1];
    if (p < 2) {
      if (s.charCodeAt(i) !== sep) return fail;
      i++;
    }
  }
  if (i !== s.length) return fail;
  const [a = 0, b = 0, c = 0] = parts;
  if (format === 'YYYY/M/D') return build(a, b, c);
  if (format === 'M/D/YYYY') return build(c, a, b);
  return build(c, b, a); // D/M/YYYY and D.M.YYYY
}

/**
 * Days since 1970-01-01 for an ISO date: the receivables and credit code do this for every
 * invoice, and `Date` costs ten times more. Years 1900-2199 read the first day of their month
 * from a table; others use integer arithmetic (H. Hinnant's days_from_civil).
 */
export function dayNumber(date: IsoDate): number {
  const y =
    (date.charCodeAt(0) - 48) * 1000 +
    (date.charCodeAt(1) - 48) * 100 +
    (date.charCodeAt(2) - 48) * 10 +
    (date.charCodeAt(3) - 48);
  const m = (date.charCodeAt(5) - 48) * 10 + (date.charCodeAt(6) - 48);
  const d = (date.charCodeAt(8) - 48) * 10 + (date.charCodeAt(9) - 48);
  const k = (y - MONTHS_FROM) * 12 + m - 1;
  if (k >= 0 && k < MONTH_STARTS.length && m >= 1 && m <= 12) return (MONTH_STARTS[k] as number) + d - 1;
  return daysFromCivil(y, m, d);
}

function daysFromCivil(y0: number, m: number, d: number): number {
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The day number of the first of every month of 1900-2199. */
const MONTHS_FROM = 1900;
const MONTH_STARTS = Int32Array.from({ length: 300 * 12 }, (_, k) =>
  daysFromCivil(MONTHS_FROM + Math.floor(k / 12), (k % 12) + 1, 1),
);

/** Dates of days 1900-01-01 to 2199-12-31, made once each when first asked for. */
const DAY_MIN = -25567; // 1900-01-01
const DAY_MAX = 84005; // 2199-12-31
const dayText: (IsoDate | undefined)[] = [];

export function fromDayNumber(day: number): IsoDate {
  if (day >= DAY_MIN && day <= DAY_MAX) {
    const hit = dayText[day - DAY_MIN];
    if (hit !== undefined) return hit;
    const made = civil(day);
    dayText[day - DAY_MIN] = made;
    return made;
  }
  return civil(day);
}

/** H. Hinnant's civil_from_days. */
function civil(day: number): IsoDate {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}`;
}

/** `later - earlier` in whole days. */
export function daysBetween(earlier: IsoDate, later: IsoDate): number {
  return dayNumber(later) - dayNumber(earlier);
}

export function addDays(date: IsoDate, days: number): IsoDate {
  return fromDayNumber(dayNumber(date) + days);
}

/**
 * `make` remembered for the last date and key it was asked for: an evaluation asks for the same
 * window starts (90 days before the date, 12 months before, ...) for every customer.
 */
export function lastDateMemo<K, V>(make: (date: IsoDate, key: K) => V): (date: IsoDate, key: K) => V {
  let lastDate: IsoDate | undefined;
  let lastKey: K | undefined;
  let last: V | undefined;
  return (date, key) => {
    if (date !== lastDate || key !== lastKey) {
      last = make(date, key);
      lastDate = date;
      lastKey = key;
    }
    return last as V;
  };
}

/** Answers of `addMonths` by month offset, then date: an evaluation asks the same few for every customer. */
const monthsMemo = new Map<number, Map<IsoDate, IsoDate>>();
let monthsMemoSize = 0;

/** The same day `months` calendar months later (or earlier), clamped to the month's last day. */
export function addMonths(date: IsoDate, months: number): IsoDate {
  let byDate = monthsMemo.get(months);
  const hit = byDate?.get(date);
  if (hit !== undefined) return hit;
  const made = monthsLater(date, months);
  if (monthsMemoSize >= 4096) {
    monthsMemo.clear();
    monthsMemoSize = 0;
    byDate = undefined;
  }
  if (!byDate) {
    byDate = new Map();
    monthsMemo.set(months, byDate);
  }
  byDate.set(date, made);
  monthsMemoSize++;
  return made;
}

const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const yearOf = (d: IsoDate) => digit(d, 0) * 1000 + digit(d, 1) * 100 + digit(d, 2) * 10 + digit(d, 3);
const monthOf = (d: IsoDate) => digit(d, 5) * 10 + digit(d, 6);
const dayOf = (d: IsoDate) => digit(d, 8) * 10 + digit(d, 9);

function monthsLater(date: IsoDate, months: number): IsoDate {
  const m = monthOf(date) - 1 + months;
  const year = yearOf(date) + Math.floor(m / 12);
  const month = (((m % 12) + 12) % 12) + 1;
  const day = Math.min(dayOf(date), daysInMonth(year, month));
  return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}`;
}

/** Whole calendar months from `earlier` to `later` (a month counts once its day is reached). */
export function monthsBetween(earlier: IsoDate, later: IsoDate): number {
  const yl = yearOf(later);
  const ml = monthOf(later);
  const n = (yl - yearOf(earlier)) * 12 + (ml - monthOf(earlier));
  // addMonths(earlier, n) falls in later's month, on earlier's day clamped to that month's end.
  return Math.min(dayOf(earlier), daysInMonth(yl, ml)) > dayOf(later) ? n - 1 : n;
}

/** The calendar date of an instant in a time zone (the "today" of a finance team). */
export function dateInZone(instant: Date, timeZone: string): IsoDate {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant);
}

/** The ISO date of a spreadsheet cell holding a date (Excel dates carry no zone: read as UTC). */
export function isoFromUtcDate(d: Date): IsoDate {
  return d.toISOString().slice(0, 10);
}
