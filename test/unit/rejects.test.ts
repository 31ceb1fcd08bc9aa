import { describe, expect, it } from 'vitest';
import {
  csvCell,
  isReport,
  REJECTS_HEADER,
  rejectLine,
  rejectsNameFor,
  warningsNameFor,
} from '../../functions/ingest/rejects.ts';

describe('csvCell', () => {
  it.each([
    ['=1+2', "'=1+2"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1:A9)', "'@SUM(A1:A9)"],
    ['\t=1', "'\t=1"],
    // CR makes the cell need quotes as well
    ['\r=1', `"'\r=1"`],
    // formula start and a comma: prefixed, then quoted
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
  ])('escapes formula start %j as %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('escapes negative numbers given as numbers too', () => {
    expect(csvCell(-5)).toBe("'-5");
    expect(csvCell(5)).toBe('5');
    expect(csvCell(0)).toBe('0');
  });

  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['two\r\nlines', '"two\r\nlines"'],
    ['a=b', 'a=b'],
    [' =1', ' =1'],
    ["'=1", "'=1"],
  ])('quotes %j as %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });
});

describe('rejectLine', () => {
  it('writes one CRLF-terminated line with every text cell escaped', () => {
    expect(REJECTS_HEADER).toBe('line,column,value,reason\r\n');
    expect(rejectLine({ line: 7, column: 'amount', value: '=1+2', reason: 'is not a number' })).toBe(
      "7,amount,'=1+2,is not a number\r\n",
    );
    expect(
      rejectLine({ line: 12, column: 'name', value: 'Acme, "Inc"', reason: 'is longer than 3, say' }),
    ).toBe('12,name,"Acme, ""Inc""","is longer than 3, say"\r\n');
  });
});

describe('rejectsNameFor / warningsNameFor / isReport', () => {
  it.each([
    ['invoices/2025-03.csv', 'invoices/2025-03.rejects.csv'],
    ['invoices/2025-03', 'invoices/2025-03.rejects.csv'],
    ['a.b/c', 'a.b/c.rejects.csv'],
    ['a.b/c.xlsx', 'a.b/c.rejects.csv'],
    ['profile/ibm/file.tar.gz', 'profile/ibm/file.tar.rejects.csv'],
    ['payments.jsonl', 'payments.rejects.csv'],
    ['noext', 'noext.rejects.csv'],
    ['dir/.hidden', 'dir/.hidden.rejects.csv'],
  ])('%s -> %s', (name, rejects) => {
    expect(rejectsNameFor(name)).toBe(rejects);
    expect(isReport(rejects)).toBe(true);
  });

  it('recognises only the reports written next to uploads', () => {
    expect(isReport('invoices/2025-03.csv')).toBe(false);
    expect(isReport('invoices/rejects.csv.bak')).toBe(false);
    expect(isReport('invoices/warnings.csv')).toBe(false);
    expect(isReport('invoices/x.rejects.csv')).toBe(true);
    expect(isReport('invoices/x.warnings.csv')).toBe(true);
  });

  it('names the warnings report like the rejects report', () => {
    expect(warningsNameFor('invoices/2025-03.csv')).toBe('invoices/2025-03.warnings.csv');
    expect(warningsNameFor('profile/eu-semicolon/payments/märz')).toBe(
      'profile/eu-semicolon/payments/märz.warnings.csv',
    );
  });
});
