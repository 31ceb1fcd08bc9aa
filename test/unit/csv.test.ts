import { describe, expect, it } from 'vitest';
import type { CsvProblem, CsvRow } from '../../functions/ingest/csv.ts';
import { CsvTokenizer, sniffDelimiter } from '../../functions/ingest/csv.ts';

interface Result {
  rows: CsvRow[];
  problems: CsvProblem[];
}

/** Feeds the chunks in order, then ends the input. */
function tokenize(chunks: readonly string[], delimiter = ',', maxRecordChars?: number): Result {
  const t =
    maxRecordChars === undefined ? new CsvTokenizer(delimiter) : new CsvTokenizer(delimiter, maxRecordChars);
  const rows: CsvRow[] = [];
  const problems: CsvProblem[] = [];
  const sink = {
    row: (cells: string[], line: number) => rows.push({ line, cells }),
    problem: (p: CsvProblem) => problems.push(p),
  };
  for (const c of chunks) t.push(c, sink);
  t.end(sink);
  return { rows, problems };
}

const whole = (input: string, delimiter = ',', max?: number) => tokenize([input], delimiter, max);

/** Asserts every split of `input` into two chunks, and into single characters, gives `expected`. */
function expectSameAtEverySplit(input: string, expected: Result, delimiter = ',', max?: number): void {
  for (let i = 0; i <= input.length; i++) {
    const got = tokenize([input.slice(0, i), input.slice(i)], delimiter, max);
    expect(got, `split at ${i}: ${JSON.stringify(input.slice(0, i))} | ...`).toEqual(expected);
  }
  expect(tokenize(input.split(''), delimiter, max), 'one character at a time').toEqual(expected);
}

describe('CsvTokenizer', () => {
  it('reads simple records with their line numbers', () => {
    expect(whole('a,b,c\n1,2,3\n')).toEqual({
      rows: [
        { line: 1, cells: ['a', 'b', 'c'] },
        { line: 2, cells: ['1', '2', '3'] },
      ],
      problems: [],
    });
  });

  it('reads the last record with or without a trailing newline', () => {
    const expected = {
      rows: [
        { line: 1, cells: ['a', 'b'] },
        { line: 2, cells: ['1', '2'] },
      ],
      problems: [],
    };
    expect(whole('a,b\n1,2\n')).toEqual(expected);
    expect(whole('a,b\n1,2')).toEqual(expected);
    expect(whole('a,b\r\n1,2')).toEqual(expected);
    expect(whole('a,b\r\n1,2\r\n')).toEqual(expected);
  });

  it('strips CRLF and handles CRLF and LF mixed in one file', () => {
    expect(whole('a,b\r\n1,2\n3,4\r\n5,6').rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['1', '2'] },
      { line: 3, cells: ['3', '4'] },
      { line: 4, cells: ['5', '6'] },
    ]);
    // a quoted last field before CRLF, and a CR at the very end of the input
    expect(whole('"a","b"\r\n"1",2\r').rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['1', '2'] },
    ]);
  });

  it('keeps delimiters inside quotes', () => {
    expect(whole('id,name,amount\n1,"Acme, Inc","1,234.50"\n').rows).toEqual([
      { line: 1, cells: ['id', 'name', 'amount'] },
      { line: 2, cells: ['1', 'Acme, Inc', '1,234.50'] },
    ]);
  });

  it('unescapes doubled quotes', () => {
    expect(whole('1,"He said ""hi"""\n"a""b",c\n"""",""\n').rows).toEqual([
      { line: 1, cells: ['1', 'He said "hi"'] },
      { line: 2, cells: ['a"b', 'c'] },
      { line: 3, cells: ['"', ''] },
    ]);
  });

  it('keeps newlines inside quotes and counts them in the following line numbers', () => {
    const input = 'id,note\n1,"line one\nline two\nline three"\n2,x\r\n3,"a\r\nb"\r\n4,y\n';
    expect(whole(input)).toEqual({
      rows: [
        { line: 1, cells: ['id', 'note'] },
        { line: 2, cells: ['1', 'line one\nline two\nline three'] },
        { line: 5, cells: ['2', 'x'] },
        { line: 6, cells: ['3', 'a\r\nb'] },
        { line: 8, cells: ['4', 'y'] },
      ],
      problems: [],
    });
  });

  it('reads empty fields, quoted or not, and a trailing delimiter', () => {
    expect(whole('a,,c\n,,\n,"",\na,b,\n').rows).toEqual([
      { line: 1, cells: ['a', '', 'c'] },
      { line: 2, cells: ['', '', ''] },
      { line: 3, cells: ['', '', ''] },
      { line: 4, cells: ['a', 'b', ''] },
    ]);
  });

  it('skips blank lines (no row at all, not one empty cell) but still counts them', () => {
    expect(whole('a,b\n\n1,2\r\n\r\n\n3,4\n\n\n')).toEqual({
      rows: [
        { line: 1, cells: ['a', 'b'] },
        { line: 3, cells: ['1', '2'] },
        { line: 6, cells: ['3', '4'] },
      ],
      problems: [],
    });
    expect(whole('\n\n')).toEqual({ rows: [], problems: [] });
    expect(whole('')).toEqual({ rows: [], problems: [] });
  });

  it('keeps text after a closing quote (lenient) and quotes inside an unquoted field', () => {
    expect(whole('"ab"cd,e\nx"y,z\n').rows).toEqual([
      { line: 1, cells: ['abcd', 'e'] },
      { line: 2, cells: ['x"y', 'z'] },
    ]);
  });

  it('uses the delimiter it is given', () => {
    expect(whole('a\tb\n"x\ty"\tz\n', '\t').rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x\ty', 'z'] },
    ]);
    expect(whole('id;amount\n1;"1,5"\n2;1,25\n', ';').rows).toEqual([
      { line: 1, cells: ['id', 'amount'] },
      { line: 2, cells: ['1', '1,5'] },
      { line: 3, cells: ['2', '1,25'] },
    ]);
  });

  it('reports an unterminated quote at the end of input with its line and still reads the lines after it', () => {
    const r = whole('a,b\n1,"open\n2,x\n3,y');
    expect(r.rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 3, cells: ['2', 'x'] },
      { line: 4, cells: ['3', 'y'] },
    ]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]?.line).toBe(2);
    expect(r.problems[0]?.reason).toMatch(/^unterminated quoted field; the line was skipped: "1,\\"open"$/);
  });

  it('gives identical rows, problems and line numbers at every chunk split', () => {
    const input =
      'id,name,note,amount\r\n' +
      '1,"Acme, Inc","two\r\nlines",12.50\r\n' +
      '\r\n' +
      '2,"He said ""hi""",,"1,234"\n' +
      '3,plain,"",0\n' +
      '\n' +
      '4,"x""","a\nb\nc",5\r\n' +
      '5,"tail"\r\n' +
      '6,"open,7\n' +
      '8,after';
    const expected: Result = {
      rows: [
        { line: 1, cells: ['id', 'name', 'note', 'amount'] },
        { line: 2, cells: ['1', 'Acme, Inc', 'two\r\nlines', '12.50'] },
        { line: 5, cells: ['2', 'He said "hi"', '', '1,234'] },
        { line: 6, cells: ['3', 'plain', '', '0'] },
        { line: 8, cells: ['4', 'x"', 'a\nb\nc', '5'] },
        { line: 11, cells: ['5', 'tail'] },
        { line: 13, cells: ['8', 'after'] },
      ],
      problems: [{ line: 12, reason: 'unterminated quoted field; the line was skipped: "6,\\"open,7"' }],
    };
    expect(whole(input)).toEqual(expected);
    expectSameAtEverySplit(input, expected);
  });

  it('gives identical results at every split into three chunks', () => {
    const input = 'a,"b""c"\r\n"d\r\ne",f\r\n\r\ng';
    const expected = whole(input);
    expect(expected.rows).toEqual([
      { line: 1, cells: ['a', 'b"c'] },
      { line: 2, cells: ['d\r\ne', 'f'] },
      { line: 5, cells: ['g'] },
    ]);
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) {
        const got = tokenize([input.slice(0, i), input.slice(i, j), input.slice(j)]);
        expect(got, `splits at ${i}, ${j}`).toEqual(expected);
      }
    }
  });

  describe('an unterminated quote mid-file longer than maxRecordChars', () => {
    const lines = [
      'id,name,amount',
      '1,"Acme,100', // the quote never closes
      '2,Beta,200',
      '3,Gamma,300',
      '4,Delta,400',
      '5,Epsilon,500',
      '6,Zeta,600',
    ];
    const expectedRows = [
      { line: 1, cells: ['id', 'name', 'amount'] },
      { line: 3, cells: ['2', 'Beta', '200'] },
      { line: 4, cells: ['3', 'Gamma', '300'] },
      { line: 5, cells: ['4', 'Delta', '400'] },
      { line: 6, cells: ['5', 'Epsilon', '500'] },
      { line: 7, cells: ['6', 'Zeta', '600'] },
    ];
    const problem = { line: 2, reason: 'unterminated quoted field; the line was skipped: "1,\\"Acme,100"' };

    it('is reported on its line and parsing resumes on the next line, at every split', () => {
      const input = `${lines.join('\n')}\n`;
      // the rest of the file after the quote is far more than 50 characters
      expect(input.length - input.indexOf('"')).toBeGreaterThan(50);
      const expected = { rows: expectedRows, problems: [problem] };
      expect(whole(input, ',', 50)).toEqual(expected);
      expectSameAtEverySplit(input, expected, ',', 50);
    });

    it('is reported even when a later line has a properly quoted field', () => {
      // Same file plus one ordinary quoted record at the end.
      const input = `${lines.join('\n')}\n7,"Quoted, Inc",700\n`;
      const expected = {
        rows: [...expectedRows, { line: 8, cells: ['7', 'Quoted, Inc', '700'] }],
        problems: [problem],
      };
      // Fed one character at a time the tokenizer gets this right ...
      expect(tokenize(input.split(''), ',', 50)).toEqual(expected);
      // ... but fed whole it must give the same: no record may run past maxRecordChars.
      expect(whole(input, ',', 50)).toEqual(expected);
    });
  });
});

describe('sniffDelimiter', () => {
  it.each([
    ['id,name,amount', ','],
    ['id;name;amount', ';'],
    ['id\tname\tamount', '\t'],
    ['id|name|amount', '|'],
    ['id;name,with comma;amount', ';'],
    ['id\tname;x\tamount', '\t'],
    ['single', ','],
    ['', ','],
    // a tie goes to the first of comma, semicolon, tab, pipe
    ['a,b;c', ','],
    ['a|b;c', ';'],
  ])('%j -> %j', (header, delimiter) => {
    expect(sniffDelimiter(header)).toBe(delimiter);
  });
});
