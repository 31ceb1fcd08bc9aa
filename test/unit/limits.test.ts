import { describe, expect, it } from 'vitest';
import { type CsvProblem, CsvTokenizer } from '../../functions/ingest/csv.ts';
import {
  clip,
  excerpt,
  fitRun,
  LIMITS,
  RUN_RECORD_BYTES,
  storedReject,
} from '../../functions/ingest/limits.ts';

function tokenize(chunks: string[]) {
  const rows: [number, string[]][] = [];
  const problems: CsvProblem[] = [];
  const t = new CsvTokenizer(',', 100);
  const sink = {
    row: (c: string[], l: number) => void rows.push([l, c]),
    problem: (p: CsvProblem) => void problems.push(p),
  };
  for (const c of chunks) t.push(c, sink);
  t.end(sink);
  return { rows, problems, t };
}

describe('a line over the bound is skipped to its end, whatever the chunks', () => {
  it('in one chunk, and spread over many without a newline for a while', () => {
    const long = 'x'.repeat(500);
    const whole = `a,b\n${long}\nc,d\n`;
    for (const size of [1, 7, 64, 101, whole.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < whole.length; i += size) chunks.push(whole.slice(i, i + size));
      const { rows, problems } = tokenize(chunks);
      expect(rows).toEqual([
        [1, ['a', 'b']],
        [3, ['c', 'd']],
      ]);
      expect(problems.map((p) => [p.line, p.tooLong])).toEqual([[2, true]]);
    }
  });

  it('never holds more than the bound while skipping', () => {
    const t = new CsvTokenizer(',', 100);
    const sink = { row: () => undefined, problem: () => undefined };
    for (let i = 0; i < 1000; i++) {
      t.push('y'.repeat(50), sink);
      expect(t.pending).toBeLessThanOrEqual(150);
    }
  });
});

describe('texts kept of a refused value', () => {
  it('an excerpt: 80 characters and the size', () => {
    expect(excerpt('a'.repeat(450_000))).toBe(`${'a'.repeat(80)}… (450,000 characters; the limit is 32,768)`);
    expect(LIMITS.cellChars).toBe(32_768);
  });
  it('clip leaves short texts alone and says how much it cut', () => {
    expect(clip('short', 10)).toBe('short');
    expect(clip('0123456789abc', 10)).toBe('0123456789… (3 more characters cut)');
  });
  it('a stored reject is clipped, the report keeps its own', () => {
    const r = storedReject({ line: 3, column: 'name', value: 'v'.repeat(5000), reason: 'r' });
    expect(r.value.length).toBeLessThan(1100);
    expect(r.reason).toBe('r');
  });
  it('a run record within the size is stored as it is; one over it is cut with a note', () => {
    const small = { reason: 'x', warnings: ['w'], unknownCustomers: undefined };
    expect(fitRun(small)).toBe(small);
    const big = fitRun({
      reason: undefined,
      warnings: Array.from({ length: 100 }, () => 'w'.repeat(1500)),
      unknownCustomers: { listed: Array.from({ length: 50 }, () => ({ customerId: 'c'.repeat(20_000) })) },
    });
    expect(Buffer.byteLength(JSON.stringify(big))).toBeLessThanOrEqual(RUN_RECORD_BYTES);
    expect(big.unknownCustomers?.listed).toEqual([]);
    expect(big.warnings.at(-1)).toMatch(/the list of customers not on file was left out/);
  });
});

describe('a workbook is checked before it is unpacked', () => {
  it('a zip directory that understates a part is caught while inflating', async () => {
    const { zipOf } = await import('../integration/zip-fixture.ts');
    const { checkWorkbook } = await import('../../functions/ingest/xlsx-bounds.ts');
    const zip = await zipOf({ 'xl/worksheets/sheet1.xml': 10 * 1024 * 1024 });
    await expect(checkWorkbook(zip)).resolves.toBeUndefined();
    zip.writeUInt32LE(1000, 22); // the local header's size
    const eocd = zip.length - 22;
    zip.writeUInt32LE(1000, zip.readUInt32LE(eocd + 16) + 24); // the directory's
    await expect(checkWorkbook(zip)).rejects.toThrow(
      'the workbook cannot be read: its part xl/worksheets/sheet1.xml unpacks to more than the 1,000 bytes its zip directory says',
    );
  });
});
