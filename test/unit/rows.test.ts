import { describe, expect, it, vi } from 'vitest';
import { currencyAt } from '../../functions/core/currencies.ts';
import { isIsoDateAt } from '../../functions/core/dates.ts';
import { plainMinorUnits, plainMinorUnitsAt } from '../../functions/core/money.ts';
import { CsvTokenizer, fieldStarts } from '../../functions/ingest/csv.ts';
import { Interner, IsoDates } from '../../functions/ingest/intern.ts';
import {
  CANONICAL_STYLE,
  type FieldIssue,
  type Kind,
  type RowOf,
  SPECS,
} from '../../functions/ingest/kinds.ts';
import { bindProfile, canonicalProfile } from '../../functions/ingest/profile.ts';
import type { LineRow, TableRow } from '../../functions/ingest/read.ts';
import { RowChecker } from '../../functions/ingest/rows.ts';

type Outcome = { valid: RowOf[Kind] } | { issues: readonly FieldIssue[] };

/** Checks `line` both ways: in place (a line row) and split into cells (the full path). */
function bothWays(checker: RowChecker, line: string): { inPlace: Outcome[]; split: Outcome[] } {
  const run = (src: TableRow) => {
    const out: Outcome[] = [];
    checker.check(src, {
      valid: (_o, row) => out.push({ valid: row }),
      invalid: (_o, issues) => out.push({ issues: [...issues] }),
    });
    return out;
  };
  const text = `junk before\n${line}\nafter`;
  const start = text.indexOf('\n') + 1;
  const asLine: LineRow = { line: 2, cells: undefined, text, start, end: start + line.length };
  return { inPlace: run(asLine), split: run({ line: 2, cells: line.split(',') }) };
}

/** A seeded generator, so a failure names a case that can be run again. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

const VARIANTS = {
  id: [
    'INV-1',
    'A',
    ' INV-2',
    'INV-3 ',
    '',
    'x'.repeat(128),
    'x'.repeat(129),
    'Ünï-4',
    'inv\u00a0',
    '发票-5',
  ],
  customer: ['C-1', 'C-2', ' C-1', 'C-1 ', '', 'c-1', '客户-1', 'C'.repeat(20)],
  date: [
    '2025-03-01',
    '2024-02-29',
    '2025-02-29',
    '2025-02-30',
    '2025-13-01',
    '2025-3-1',
    '01/03/2025',
    ' 2025-03-01',
    '1899-12-31',
    '2200-01-01',
    '2025-04-31',
    '',
  ],
  amount: [
    '100',
    '100.5',
    '100.50',
    '100.505',
    '0',
    '0.00',
    '-5',
    '1e3',
    ' 7',
    '.5',
    '5.',
    '12345678901234567',
    '99999999999999999',
    '1,00',
    '',
  ],
  currency: ['EUR', 'USD', 'JPY', 'KWD', 'eur', 'XXX', 'EU', 'EURO', ' EUR', ''],
  disputed: ['', 'yes', 'no', 'true', 'false', 'Y', 'YES', 'maybe', '1', '0', 'x', ' yes', '是'],
  refs: ['', 'INV-1', 'INV-1;INV-2', 'INV-1; INV-1', ' ; ', `${'r'.repeat(129)}`, 'a;b;c'],
};

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

describe('RowChecker: the in-place path gives what the full path gives', () => {
  for (const kind of ['invoices', 'payments'] as const) {
    it(`${kind}: 5,000 generated lines, valid and not, read both ways`, () => {
      const profile = canonicalProfile(kind);
      const header = [...SPECS[kind].required, ...SPECS[kind].optional];
      const fast = vi.spyOn(SPECS[kind], 'fast');
      const checker = new RowChecker(bindProfile(profile, header), CANONICAL_STYLE, ',');
      const r = rng(kind === 'invoices' ? 7 : 11);
      let valid = 0;
      let invalid = 0;
      for (let n = 0; n < 5000; n++) {
        // Mostly plain rows, with one field (sometimes more) swapped for a variant.
        const fields =
          kind === 'invoices'
            ? [
                `INV-${n}`,
                `C-${n % 7}`,
                '2025-01-15',
                '2025-02-14',
                '1234.56',
                'EUR',
                n % 2 ? 'yes' : '',
                n % 4 ? `SO-${n}` : '',
                n % 5 ? '' : pick(r, ['paper', 'Electronic', 'by post', '']),
              ]
            : [`PAY-${n}`, `C-${n % 7}`, '2025-01-15', '1234.56', 'EUR', n % 3 ? `INV-${n}` : ''];
        const swaps = r() < 0.3 ? 0 : 1 + Math.floor(r() * 2);
        for (let k = 0; k < swaps; k++) {
          const c = Math.floor(r() * fields.length);
          const col = header[c] as string;
          const pool = col.endsWith('_date')
            ? VARIANTS.date
            : col === 'amount'
              ? VARIANTS.amount
              : col === 'currency'
                ? VARIANTS.currency
                : col === 'disputed'
                  ? VARIANTS.disputed
                  : col === 'customer_id'
                    ? VARIANTS.customer
                    : kind === 'payments' && col === 'invoice_id'
                      ? VARIANTS.refs
                      : VARIANTS.id;
          fields[c] = pick(r, pool);
        }
        if (r() < 0.05) fields.pop(); // a short line
        const line = fields.join(',');
        const { inPlace, split } = bothWays(checker, line);
        expect(inPlace, line).toEqual(split);
        if ('valid' in (split[0] as Outcome)) valid++;
        else invalid++;
      }
      // Both kinds of outcome were exercised, and the in-place reading really answered for rows.
      expect(valid).toBeGreaterThan(1000);
      expect(invalid).toBeGreaterThan(1000);
      const answered = fast.mock.results.filter((x) => x.type === 'return' && x.value !== undefined).length;
      expect(answered).toBeGreaterThan(1000);
      fast.mockRestore();
    });
  }

  it('reads columns in the file order, with extra columns, by the header', () => {
    const header = ['note', 'currency', 'amount', 'customer_id', 'due_date', 'issue_date', 'invoice_id'];
    const checker = new RowChecker(bindProfile(canonicalProfile('invoices'), header), CANONICAL_STYLE, ',');
    const { inPlace, split } = bothWays(checker, 'hello,USD,10.5,C-9,2025-02-01,2025-01-01,INV-77');
    expect(inPlace).toEqual(split);
    expect(inPlace).toEqual([
      {
        valid: {
          invoiceId: 'INV-77',
          customerId: 'C-9',
          issueDate: '2025-01-01',
          dueDate: '2025-02-01',
          amount: 1050,
          currency: 'USD',
          disputed: false,
        },
      },
    ]);
  });

  it('a profile with other dates or decimals never takes the in-place path, and still validates', () => {
    const profile = {
      ...canonicalProfile('invoices'),
      dateFormat: 'D/M/YYYY' as const,
      decimal: ',' as const,
    };
    const header = [...SPECS.invoices.required];
    const fast = vi.spyOn(SPECS.invoices, 'fast');
    const checker = new RowChecker(
      bindProfile(profile, header),
      { ...CANONICAL_STYLE, ...profile, thousands: '.' },
      ';',
    );
    const text = 'I-1;C-1;15/01/2025;14/02/2025;1.234,56;EUR';
    const out: unknown[] = [];
    checker.check(
      { line: 2, cells: undefined, text, start: 0, end: text.length },
      {
        valid: (_o, row) => out.push(row),
        invalid: (_o, issues) => out.push(issues),
      },
    );
    expect(fast).not.toHaveBeenCalled();
    expect(out).toEqual([
      {
        invoiceId: 'I-1',
        customerId: 'C-1',
        issueDate: '2025-01-15',
        dueDate: '2025-02-14',
        amount: 123456,
        currency: 'EUR',
        disputed: false,
      },
    ]);
    fast.mockRestore();
  });
});

describe('in-place readers', () => {
  it('Interner returns one string object per distinct text, also after growing and past capacity', () => {
    const i = new Interner(3000);
    const text = Array.from({ length: 5000 }, (_, k) => `CUST-${k}`).join(',');
    const firsts: string[] = [];
    let p = 0;
    for (let k = 0; k < 5000; k++) {
      const e = text.indexOf(',', p) < 0 ? text.length : text.indexOf(',', p);
      firsts.push(i.at(text, p, e) as string);
      p = e + 1;
    }
    expect(firsts.every((s, k) => s === `CUST-${k}`)).toBe(true);
    // The first 3,000 are kept (the same object comes back); the rest are correct but new.
    const again = `${text},`;
    expect(i.at(again, 0, 6)).toBe(firsts[0]);
    const k2999 = again.indexOf('CUST-2999,');
    expect(i.at(again, k2999, k2999 + 9)).toBe(firsts[2999]);
    const k4000 = again.indexOf('CUST-4000,');
    expect(i.at(again, k4000, k4000 + 9)).toBe('CUST-4000');
    // A long value is kept as its own copy, equal to the slice.
    const long = `x,${'L'.repeat(40)},y`;
    expect(i.at(long, 2, 42)).toBe('L'.repeat(40));
    // admit says no: nothing kept, undefined returned.
    expect(i.at('zzz', 0, 3, () => false)).toBeUndefined();
  });

  it('IsoDates accepts real dates only and hands back the same string each time', () => {
    const d = new IsoDates();
    const t = 'x2024-02-29y2025-02-29y2025-13-01y2025-1-01ya025-01-01y2025/01/01y2199-12-31y1900-01-01';
    const a = d.at(t, 1, 11);
    expect(a).toBe('2024-02-29');
    expect(d.at(`${t}`, 1, 11)).toBe(a);
    expect(d.at(t, 12, 22)).toBeUndefined(); // 2025-02-29
    expect(d.at(t, 23, 33)).toBeUndefined(); // month 13
    expect(d.at(t, 34, 43)).toBeUndefined(); // 9 characters
    expect(d.at(t, 44, 54)).toBeUndefined(); // a letter
    expect(d.at(t, 55, 65)).toBeUndefined(); // slashes
    expect(d.at(t, 66, 76)).toBe('2199-12-31');
    expect(d.at(t, 77, 87)).toBe('1900-01-01');
    expect(isIsoDateAt(t, 12, 22)).toBe(false);
  });

  it('currencyAt and plainMinorUnitsAt read in place what their string forms read', () => {
    const t = '|EUR|eur|XXX|JPY|EU|';
    expect(currencyAt(t, 1, 4)).toBe('EUR');
    expect(currencyAt(t, 5, 8)).toBeUndefined();
    expect(currencyAt(t, 9, 12)).toBeUndefined();
    expect(currencyAt(t, 13, 16)).toBe('JPY');
    expect(currencyAt(t, 17, 19)).toBeUndefined();
    for (const s of ['1', '1.5', '1.55', '1.555', '.5', '5.', '', '-1', '12345678901234567', '1 0']) {
      const t2 = `##${s}##`;
      expect(plainMinorUnitsAt(t2, 2, 2 + s.length, 2, 46), s).toEqual(plainMinorUnits(s, 2, 46));
    }
  });

  it('fieldStarts finds the fields a line needs and says when it is short', () => {
    const t = 'a,bb,,ccc\nnext';
    const at = new Int32Array(5);
    expect(fieldStarts(t, 0, 9, ',', at, 4)).toBe(true);
    const field = (k: number) => t.slice(at[k], (at[k + 1] as number) - 1);
    expect([0, 1, 2, 3].map(field)).toEqual(['a', 'bb', '', 'ccc']);
    expect(fieldStarts(t, 0, 9, ',', at, 2)).toBe(true);
    expect([0, 1].map(field)).toEqual(['a', 'bb']);
    expect(fieldStarts(t, 0, 9, ',', new Int32Array(6), 5)).toBe(false);
  });

  it('the tokenizer hands plain lines over unsplit, CR excluded, with their line numbers', () => {
    const seen: { kind: string; line: number; value: string }[] = [];
    const tok = new CsvTokenizer(',');
    const sink = {
      row: (cells: string[], line: number) => seen.push({ kind: 'row', line, value: cells.join('|') }),
      plain: (text: string, s: number, e: number, line: number) =>
        seen.push({ kind: 'plain', line, value: text.slice(s, e) }),
      problem: () => {},
    };
    tok.push('a,b\r\n"x\ny",z\r\nc,d', sink);
    tok.end(sink);
    expect(seen).toEqual([
      { kind: 'plain', line: 1, value: 'a,b' },
      { kind: 'row', line: 2, value: 'x\ny|z' },
      { kind: 'plain', line: 4, value: 'c,d' },
    ]);
  });
});
