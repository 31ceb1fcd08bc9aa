import { describe, expect, it } from 'vitest';
import type { DateFormat } from '../../functions/core/dates.ts';
import {
  addDays,
  addMonths,
  DATE_FORMATS,
  dateInZone,
  dayNumber,
  daysBetween,
  fromDayNumber,
  isoFromUtcDate,
  lastDateMemo,
  monthsBetween,
  parseDate,
} from '../../functions/core/dates.ts';

const accepted = (value: string) => ({ ok: true, value });

describe('parseDate in every DATE_FORMAT', () => {
  // Two samples each: 2025-03-01 (day and month both small) and 2024-12-31 (day > 12 tells D from M).
  const samples: Record<DateFormat, [string, string, string[]]> = {
    'YYYY-MM-DD': ['2025-03-01', '2024-12-31', ['2025-3-1', '2025/03/01', '20250301', '25-03-01']],
    'YYYY/M/D': ['2025/3/1', '2024/12/31', ['2025-3-1', '25/3/1', '3/1/2025', '2025/3/1/']],
    'M/D/YYYY': ['3/1/2025', '12/31/2024', ['3/1/25', '2025/3/1', '3.1.2025', '003/1/2025']],
    'D/M/YYYY': ['1/3/2025', '31/12/2024', ['1/3/25', '1.3.2025', '1-3-2025']],
    'D.M.YYYY': ['1.3.2025', '31.12.2024', ['1/3/2025', '1.3.25', '1.3.2025.']],
    YYYYMMDD: ['20250301', '20241231', ['2025031', '2025-03-01', '202503011', '2025031a']],
  };

  it('covers every declared format', () => {
    expect(Object.keys(samples).sort()).toEqual([...DATE_FORMATS].sort());
  });

  for (const format of DATE_FORMATS) {
    const [march1, dec31, wrong] = samples[format];
    it(`${format}: reads ${march1} and ${dec31}`, () => {
      expect(parseDate(march1, format)).toEqual(accepted('2025-03-01'));
      expect(parseDate(dec31, format)).toEqual(accepted('2024-12-31'));
      expect(parseDate(`  ${march1} `, format)).toEqual(accepted('2025-03-01'));
    });
    it(`${format}: refuses other layouts`, () => {
      for (const text of wrong) {
        expect(parseDate(text, format), text).toEqual({
          ok: false,
          reason: `is not a date in ${format} form`,
        });
      }
    });
  }

  it('defaults to YYYY-MM-DD', () => {
    expect(parseDate('2025-03-01')).toEqual(accepted('2025-03-01'));
    expect(parseDate('3/1/2025')).toEqual({ ok: false, reason: 'is not a date in YYYY-MM-DD form' });
  });

  it('accepts zero-padded and unpadded day and month in the slash and dot layouts', () => {
    expect(parseDate('2025/03/01', 'YYYY/M/D')).toEqual(accepted('2025-03-01'));
    expect(parseDate('03/01/2025', 'M/D/YYYY')).toEqual(accepted('2025-03-01'));
    expect(parseDate('01.03.2025', 'D.M.YYYY')).toEqual(accepted('2025-03-01'));
  });

  it('does not confuse M/D with D/M', () => {
    expect(parseDate('31/12/2024', 'M/D/YYYY')).toEqual({ ok: false, reason: 'has no month 31' });
    expect(parseDate('12/31/2024', 'D/M/YYYY')).toEqual({ ok: false, reason: 'has no month 31' });
  });
});

describe('parseDate refuses impossible dates instead of rolling over', () => {
  it.each([
    ['2025-02-30', 'is not a real date (2025-02 has no day 30)'],
    ['2025-04-31', 'is not a real date (2025-04 has no day 31)'],
    ['2023-02-29', 'is not a real date (2023-02 has no day 29)'],
    ['1900-02-29', 'is not a real date (1900-02 has no day 29)'],
    ['2100-02-29', 'is not a real date (2100-02 has no day 29)'],
    ['2025-01-00', 'is not a real date (2025-01 has no day 0)'],
    ['2025-01-32', 'is not a real date (2025-01 has no day 32)'],
    ['2025-13-01', 'has no month 13'],
    ['2025-00-10', 'has no month 0'],
    ['1899-12-31', 'has an implausible year 1899'],
    ['2200-01-01', 'has an implausible year 2200'],
  ])('%s: %s', (text, reason) => {
    expect(parseDate(text, 'YYYY-MM-DD')).toEqual({ ok: false, reason });
  });

  it('knows leap years: 2024 and 2000 are, 2023 and 1900 are not', () => {
    expect(parseDate('2024-02-29')).toEqual(accepted('2024-02-29'));
    expect(parseDate('2000-02-29')).toEqual(accepted('2000-02-29'));
    expect(parseDate('2023-02-29').ok).toBe(false);
    expect(parseDate('1900-02-29').ok).toBe(false);
    expect(parseDate('1900-02-28')).toEqual(accepted('1900-02-28'));
    expect(parseDate('2199-12-31')).toEqual(accepted('2199-12-31'));
  });

  it('checks impossible dates in the other layouts too', () => {
    expect(parseDate('2/29/2023', 'M/D/YYYY')).toEqual({
      ok: false,
      reason: 'is not a real date (2023-02 has no day 29)',
    });
    expect(parseDate('29.2.2024', 'D.M.YYYY')).toEqual(accepted('2024-02-29'));
    expect(parseDate('20250230', 'YYYYMMDD')).toEqual({
      ok: false,
      reason: 'is not a real date (2025-02 has no day 30)',
    });
    expect(parseDate('2025/13/1', 'YYYY/M/D')).toEqual({ ok: false, reason: 'has no month 13' });
  });

  it('refuses garbage', () => {
    expect(parseDate('')).toEqual({ ok: false, reason: 'is empty' });
    expect(parseDate('   ', 'M/D/YYYY')).toEqual({ ok: false, reason: 'is empty' });
    for (const text of ['abc', '2025-03-0a', '2025-03-01T00:00:00Z', '+025-03-01', '2025--3-01', 'March 1']) {
      expect(parseDate(text), text).toEqual({ ok: false, reason: 'is not a date in YYYY-MM-DD form' });
    }
    expect(parseDate('3/1/2025 10:00', 'M/D/YYYY')).toEqual({
      ok: false,
      reason: 'is not a date in M/D/YYYY form',
    });
  });
});

describe('day arithmetic', () => {
  it('dayNumber counts days since 1970-01-01', () => {
    expect(dayNumber('1970-01-01')).toBe(0);
    expect(dayNumber('1970-01-02')).toBe(1);
    expect(dayNumber('1969-12-31')).toBe(-1);
    // 30 years of 365 days + 7 leap days (1972..1996)
    expect(dayNumber('2000-01-01')).toBe(10957);
    // 2025-01-01 = 10957 + 25*365 + 7 leap days (2000..2024) = 20089; + 31 (Jan) + 28 (Feb) = 20148
    expect(dayNumber('2025-03-01')).toBe(20148);
  });

  it('dayNumber agrees with Date inside the month table (1900-2199) and outside it', () => {
    for (const iso of [
      '0001-01-01',
      '1600-02-29',
      '1899-12-31',
      '1900-01-01',
      '1900-03-01',
      '2000-02-29',
      '2100-03-01',
      '2199-12-31',
      '2200-01-01',
      '2400-02-29',
      '9999-12-31',
    ])
      expect([iso, dayNumber(iso)]).toEqual([iso, new Date(`${iso}T00:00:00Z`).getTime() / 86_400_000]);
  });

  it('lastDateMemo makes its answer again only when the date or the key changes', () => {
    const made: string[] = [];
    const f = lastDateMemo((date: string, key: object) => {
      made.push(date);
      return { date, key };
    });
    const k1 = {};
    const k2 = {};
    const a = f('2025-06-30', k1);
    expect(f('2025-06-30', k1)).toBe(a);
    expect(f('2025-07-01', k1).date).toBe('2025-07-01');
    expect(f('2025-07-01', k2).key).toBe(k2);
    expect(f('2025-06-30', k1)).not.toBe(a); // only the last answer is kept
    expect(made).toEqual(['2025-06-30', '2025-07-01', '2025-07-01', '2025-06-30']);
  });

  it('fromDayNumber inverts dayNumber for every day from 1900 to 2199', () => {
    const first = dayNumber('1900-01-01');
    const last = dayNumber('2199-12-31');
    let previous = '';
    for (let d = first; d <= last; d++) {
      const iso = fromDayNumber(d);
      if (dayNumber(iso) !== d || !(iso > previous) || !parseDate(iso).ok) {
        throw new Error(`day ${d} -> ${iso} (previous ${previous})`);
      }
      previous = iso;
    }
    // 300 years with 73 leap days: 74 multiples of 4 from 1904 to 2196, minus 2100
    expect(last - first + 1).toBe(300 * 365 + 73);
    expect(fromDayNumber(0)).toBe('1970-01-01');
    expect(fromDayNumber(-1)).toBe('1969-12-31');
  });

  it.each([
    ['2025-03-01', '2025-03-31', 30],
    ['2025-03-31', '2025-03-01', -30],
    ['2025-03-01', '2025-03-01', 0],
    ['2024-02-28', '2024-03-01', 2],
    ['2025-02-28', '2025-03-01', 1],
    ['2024-12-31', '2025-01-01', 1],
    ['2024-01-01', '2025-01-01', 366],
    ['2025-01-01', '2026-01-01', 365],
    // US daylight saving starts 2025-03-09: whole days regardless
    ['2025-03-08', '2025-03-10', 2],
  ])('daysBetween(%s, %s) = %i', (earlier, later, days) => {
    expect(daysBetween(earlier, later)).toBe(days);
  });

  it.each([
    ['2024-02-28', 1, '2024-02-29'],
    ['2024-02-28', 2, '2024-03-01'],
    ['2025-02-28', 1, '2025-03-01'],
    ['2025-03-01', -1, '2025-02-28'],
    ['2024-12-31', 1, '2025-01-01'],
    ['2025-01-01', -1, '2024-12-31'],
    // Jan 31 + 28 days = Feb 28, + 29 = Mar 1, + 30 = Mar 2
    ['2025-01-31', 30, '2025-03-02'],
    ['2025-06-30', -90, '2025-04-01'],
    ['2025-03-01', 0, '2025-03-01'],
  ])('addDays(%s, %i) = %s', (date, days, expected) => {
    expect(addDays(date, days)).toBe(expected);
    expect(daysBetween(date, expected)).toBe(days);
  });
});

describe('dateInZone', () => {
  it('gives the local calendar date of an instant', () => {
    const lateUtc = new Date('2025-03-01T23:30:00Z');
    expect(dateInZone(lateUtc, 'Asia/Shanghai')).toBe('2025-03-02'); // 07:30 next day (+08:00)
    expect(dateInZone(lateUtc, 'America/New_York')).toBe('2025-03-01'); // 18:30 (-05:00)
    expect(dateInZone(lateUtc, 'UTC')).toBe('2025-03-01');
    const earlyUtc = new Date('2025-03-01T03:00:00Z');
    expect(dateInZone(earlyUtc, 'America/New_York')).toBe('2025-02-28'); // 22:00 the day before
    expect(dateInZone(earlyUtc, 'Asia/Shanghai')).toBe('2025-03-01');
  });

  it('switches exactly at local midnight, including half-hour zones', () => {
    // Asia/Kolkata is +05:30: 18:29:59Z is 23:59:59, 18:30:00Z is midnight
    expect(dateInZone(new Date('2025-03-01T18:29:59Z'), 'Asia/Kolkata')).toBe('2025-03-01');
    expect(dateInZone(new Date('2025-03-01T18:30:00Z'), 'Asia/Kolkata')).toBe('2025-03-02');
    // Shanghai midnight is 16:00Z
    expect(dateInZone(new Date('2025-12-31T15:59:59Z'), 'Asia/Shanghai')).toBe('2025-12-31');
    expect(dateInZone(new Date('2025-12-31T16:00:00Z'), 'Asia/Shanghai')).toBe('2026-01-01');
  });

  it('isoFromUtcDate reads a spreadsheet date as UTC', () => {
    expect(isoFromUtcDate(new Date(Date.UTC(2025, 2, 1)))).toBe('2025-03-01');
    expect(isoFromUtcDate(new Date(Date.UTC(2024, 1, 29, 23, 59)))).toBe('2024-02-29');
  });
});

describe('day numbers by arithmetic', () => {
  it('agree with Date on every day from 1900-01-01 to 2199-12-31, both ways', () => {
    const MS = 86_400_000;
    let checked = 0;
    for (let day = Date.UTC(1900, 0, 1) / MS; day <= Date.UTC(2199, 11, 31) / MS; day++) {
      const iso = new Date(day * MS).toISOString().slice(0, 10);
      if (fromDayNumber(day) !== iso || dayNumber(iso) !== day)
        throw new Error(`${day}: ${fromDayNumber(day)} / ${dayNumber(iso)} vs ${iso}`);
      checked++;
    }
    expect(checked).toBe(109_573);
    // Outside the cached range too.
    expect(fromDayNumber(Date.UTC(1850, 5, 15) / MS)).toBe('1850-06-15');
    expect(dayNumber('2400-02-29')).toBe(Date.UTC(2400, 1, 29) / MS);
  });
});

describe('calendar months', () => {
  it.each([
    ['2025-01-31', 1, '2025-02-28'],
    ['2024-01-31', 1, '2024-02-29'],
    ['2024-02-29', 12, '2025-02-28'],
    ['2024-02-29', 48, '2028-02-29'],
    ['2025-03-31', -1, '2025-02-28'],
    ['2025-06-30', -12, '2024-06-30'],
    ['2025-06-30', -15, '2024-03-30'],
    ['2025-01-15', -13, '2023-12-15'],
    ['2025-12-31', 2, '2026-02-28'],
    ['2000-02-29', -1200, '1900-02-28'],
  ])('addMonths(%s, %i) = %s', (date, months, expected) => {
    expect(addMonths(date, months)).toBe(expected);
  });

  it.each([
    ['2024-01-31', '2024-02-29', 1], // Jan 31 + 1 month is Feb 29 (clamped): reached
    ['2024-01-31', '2024-02-28', 0],
    ['2024-01-15', '2024-02-15', 1],
    ['2024-01-15', '2024-02-14', 0],
    ['2024-03-31', '2024-04-30', 1], // clamped to April's last day: a month has passed
    ['2023-06-30', '2025-06-30', 24],
    ['2025-06-30', '2025-06-30', 0],
  ])('monthsBetween(%s, %s) = %i', (earlier, later, months) => {
    // A month counts once addMonths(earlier, n) is reached.
    expect(monthsBetween(earlier, later)).toBe(months);
    expect(addMonths(earlier, months) <= later).toBe(true);
    expect(addMonths(earlier, months + 1) > later).toBe(true);
  });

  it('agree with a Date-based reference on every day of 1999-2001 and 2023-2025', () => {
    const MS = 86_400_000;
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const reference = (date: string, months: number) => {
      const [y, m, d] = date.split('-').map(Number) as [number, number, number];
      const last = new Date(Date.UTC(y, m - 1 + months + 1, 0)).getUTCDate();
      return iso(Date.UTC(y, m - 1 + months, Math.min(d, last)));
    };
    let checked = 0;
    for (const [from, to] of [
      [Date.UTC(1999, 0, 1), Date.UTC(2001, 11, 31)],
      [Date.UTC(2023, 0, 1), Date.UTC(2025, 11, 31)],
    ] as const)
      for (let ms = from; ms <= to; ms += MS) {
        const date = iso(ms);
        for (const months of [-37, -15, -13, -12, -1, 0, 1, 11, 12, 25]) {
          const later = addMonths(date, months);
          if (later !== reference(date, months)) throw new Error(`addMonths(${date}, ${months}) = ${later}`);
          checked++;
        }
        // monthsBetween counts the months whose day is reached by the later date.
        for (const days of [0, 1, 27, 28, 30, 31, 59, 61, 365, 366, 1000]) {
          const until = iso(ms + days * MS);
          let n = 0;
          while (reference(date, n + 1) <= until) n++;
          if (monthsBetween(date, until) !== n) throw new Error(`monthsBetween(${date}, ${until}) != ${n}`);
          checked++;
        }
      }
    expect(checked).toBe(21 * (365 * 6 + 2)); // 2000 and 2024 are leap years
  });
});
