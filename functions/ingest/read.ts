import { Readable } from 'node:stream';
import type ExcelJS from 'exceljs';
import { CsvTokenizer, sniffDelimiter } from './csv.ts';
import { UnreadableFileError } from './errors.ts';
import { cellTooLong, excerpt, grouped, LIMITS, lineTooLong, oversizedCell, sizeText } from './limits.ts';
import { checkWorkbook } from './xlsx-bounds.ts';

export type FileFormat = 'csv' | 'jsonl' | 'xlsx';
export type Encoding = 'auto' | 'utf-8' | 'gb18030' | 'utf-16le' | 'windows-1252';

/** A row as cells, or (a CSV line without quotes) as its place in the decoded text, not yet split. */
export type TableRow = CellsRow | LineRow;

export interface CellsRow {
  /** 1-based physical line (or sheet row) the record starts on. */
  readonly line: number;
  readonly cells: string[];
  /**
   * The cells that hold a number rather than text (Excel numeric cells, JSON numbers), by column:
   * amounts read them with a float tolerance that decimal text never gets (`minorUnitsOfNumber`).
   */
  readonly numbers?: (number | undefined)[] | undefined;
}

export interface LineRow {
  readonly line: number;
  readonly cells: undefined;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** The cells of a row, splitting a line row on the file's delimiter. */
export function cellsOf(row: TableRow, delimiter: string): string[] {
  return row.cells ?? row.text.slice(row.start, row.end).split(delimiter);
}

/** What a reader produces: the columns (again whenever they grow), batches of rows, and bad lines. */
export type TableEvent =
  | { type: 'columns'; columns: string[]; delimiter?: string | undefined }
  | { type: 'rows'; rows: TableRow[] }
  | { type: 'problem'; line: number; reason: string; column?: string; value?: string };

type Problem = { line: number; reason: string; column?: string; value?: string };

export interface ReadOptions {
  readonly fileName: string;
  readonly format?: FileFormat | undefined;
  readonly encoding?: Encoding | undefined;
  readonly delimiter?: string | undefined;
  readonly sheet?: string | undefined;
  /** Called with the bytes read so far (progress bars). */
  readonly onBytes?: ((bytes: number) => void) | undefined;
  /** The file's size when known: a file over the bound is refused before a row is read. */
  readonly sizeBytes?: number | undefined;
}

export interface Detected {
  format: FileFormat;
  encoding: Exclude<Encoding, 'auto'> | 'binary';
}

const SNIFF_BYTES = 64 * 1024;

const MAGIC: [number[], string][] = [
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'a JPEG image'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image'],
  [[0x1f, 0x8b], 'a gzip archive (unpack it first)'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'a legacy Excel .xls/OLE file (save it as .xlsx or CSV)'],
];

function startsWith(bytes: Uint8Array, sig: number[]): boolean {
  return sig.every((b, i) => bytes[i] === b);
}

/** Decides format and text encoding from the first bytes, or says why the file cannot be read. */
export function detect(head: Uint8Array, fileName: string, declared?: ReadOptions): Detected {
  if (head.length === 0) throw new UnreadableFileError('the file is empty');
  const lower = fileName.toLowerCase();
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) {
    if (lower.endsWith('.xlsx') || declared?.format === 'xlsx' || !declared?.format)
      return { format: 'xlsx', encoding: 'binary' };
  }
  for (const [sig, what] of MAGIC) {
    if (startsWith(head, sig))
      throw new UnreadableFileError(`the file is ${what}, not CSV, JSON Lines or .xlsx`);
  }
  if (lower.endsWith('.xlsx') || declared?.format === 'xlsx')
    throw new UnreadableFileError('the file is named .xlsx but is not an Excel workbook');
  const format: FileFormat =
    declared?.format ?? (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') ? 'jsonl' : 'csv');
  const enc = declared?.encoding ?? 'auto';
  if (head[0] === 0xff && head[1] === 0xfe) return { format, encoding: 'utf-16le' };
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { format, encoding: 'utf-8' };
  if (enc === 'utf-16le') return { format, encoding: enc };
  // Text files have no NUL bytes and almost no control characters; binary garbage has many.
  let control = 0;
  const n = Math.min(head.length, SNIFF_BYTES);
  for (let i = 0; i < n; i++) {
    const b = head[i] as number;
    if (b === 0) throw new UnreadableFileError('the file is binary (it contains NUL bytes), not text');
    if (b < 9 || (b > 13 && b < 32) || b === 127) control++;
  }
  if (control > n / 100) throw new UnreadableFileError('the file is binary (control characters), not text');
  const utf8 = () => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, n), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  // Western European text is almost never valid UTF-8 by accident, so a profile's windows-1252
  // still reads the UTF-8 exports (without BOM) newer tools write.
  if (enc === 'windows-1252') return { format, encoding: utf8() ? 'utf-8' : enc };
  if (enc !== 'auto') return { format, encoding: enc };
  if (utf8()) return { format, encoding: 'utf-8' };
  try {
    // Chinese Excel exports are GB18030 (a superset of GBK/GB2312).
    new TextDecoder('gb18030', { fatal: true }).decode(head.subarray(0, n), { stream: true });
    return { format, encoding: 'gb18030' };
  } catch {
    throw new UnreadableFileError('the file is neither UTF-8 nor GB18030 text');
  }
}

async function* bytesOf(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) if (chunk.length > 0) yield chunk;
}

/** Reads enough of the stream to detect the format, then yields the whole stream again. */
async function peek(
  source: AsyncIterable<Uint8Array>,
): Promise<{ head: Uint8Array; all: AsyncGenerator<Uint8Array> }> {
  const it = bytesOf(source);
  const first: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < SNIFF_BYTES) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    first.push(r.value);
    size += r.value.length;
  }
  const head = Buffer.concat(first);
  async function* all(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    if (!done) yield* it;
  }
  return { head, all: all() };
}

async function* decodeText(
  bytes: AsyncIterable<Uint8Array>,
  encoding: string,
  onBytes?: (n: number) => void,
): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding); // strips a BOM; invalid bytes become U+FFFD
  let total = 0;
  for await (const chunk of bytes) {
    total += chunk.length;
    if (total > LIMITS.textFileBytes) throw fileTooLarge('text');
    onBytes?.(total);
    const text = decoder.decode(chunk, { stream: true });
    if (text.length > 0) yield text;
  }
  const tail = decoder.decode();
  if (tail.length > 0) yield tail;
}

function fileTooLarge(what: 'text' | 'xlsx'): UnreadableFileError {
  return what === 'text'
    ? new UnreadableFileError(
        `the file is larger than ${sizeText(LIMITS.textFileBytes)}, the limit for a CSV or JSON Lines file: split it`,
      )
    : new UnreadableFileError(
        `the workbook is larger than ${sizeText(LIMITS.xlsxBytes)}, the limit for an .xlsx upload: save it as CSV`,
      );
}

/** Refuses a header over the bounds (the file as a whole: its rows cannot be told apart). */
function checkHeader(cells: readonly string[], chars: number, whole = true): void {
  if (chars > LIMITS.headerChars)
    throw new UnreadableFileError(
      `the header line is ${whole ? '' : 'at least '}${grouped(chars)} characters long, over the limit of ${sizeText(LIMITS.headerChars)}: is the first line really the column names?`,
    );
  if (cells.length > LIMITS.columns)
    throw new UnreadableFileError(
      `the header has ${grouped(cells.length)} columns, over the limit of ${grouped(LIMITS.columns)}`,
    );
}

/** The problem of a row with a cell over the bound, or undefined: the excerpt, never the value. */
function cellProblem(
  cells: readonly string[],
  columns: readonly string[] | undefined,
  line: number,
): Problem | undefined {
  const i = oversizedCell(cells);
  if (i === undefined) return undefined;
  const v = cells[i] as string;
  return {
    line,
    column: columns?.[i] ?? `column ${i + 1}`,
    value: excerpt(v),
    reason: cellTooLong(v.length),
  };
}

const BAD_TEXT = '\uFFFD';

function badIn(text: string, start: number, end: number): boolean {
  const k = text.indexOf(BAD_TEXT, start);
  return k >= 0 && k < end;
}

async function* readCsv(
  text: AsyncIterable<string>,
  encoding: string,
  delimiter?: string,
): AsyncGenerator<TableEvent> {
  let tokenizer: CsvTokenizer | undefined;
  let delim = ',';
  let header: string[] | undefined;
  let rows: TableRow[] = [];
  const problems: Problem[] = [];
  const sink = {
    row(cells: string[], line: number) {
      if (cells.length === 1 && (cells[0] as string).trim() === '') return; // blank line
      if (!header) {
        let chars = cells.length - 1;
        for (const c of cells) chars += c.length;
        checkHeader(cells, chars);
        header = cells;
        return;
      }
      const tooLong = cellProblem(cells, header, line);
      if (tooLong) {
        problems.push(tooLong);
        return;
      }
      if (chunkHasBadText && cells.some((c) => c.includes(BAD_TEXT))) {
        problems.push({ line, reason: `the line has bytes that are not valid ${encoding}` });
        return;
      }
      rows.push({ line, cells });
    },
    plain(text: string, start: number, end: number, line: number) {
      // Blank, a header, or undecodable bytes: the rare cases go the split way.
      // A line that may hold an oversized cell goes that way too, to be checked cell by cell.
      if (
        !header ||
        end - start > LIMITS.cellChars ||
        text.charCodeAt(start) <= 32 ||
        (chunkHasBadText && badIn(text, start, end))
      ) {
        this.row(text.slice(start, end).split(delim), line);
        return;
      }
      rows.push({ line, cells: undefined, text, start, end });
    },
    problem(p: { line: number; reason: string; tooLong?: boolean | undefined }) {
      if (p.tooLong && !header) checkHeader([], LIMITS.lineChars, false);
      problems.push({ line: p.line, reason: p.reason });
    },
  };
  let announced = false;
  let chunkHasBadText = false;
  const flush = function* (): Generator<TableEvent> {
    if (header && !announced) {
      announced = true;
      yield { type: 'columns', columns: header, delimiter: delim };
    }
    for (const p of problems.splice(0)) yield { type: 'problem', ...p };
    if (rows.length > 0) {
      yield { type: 'rows', rows };
      rows = [];
    }
  };
  for await (const chunk of text) {
    if (!tokenizer) {
      const firstLine = chunk.slice(0, Math.max(0, chunk.indexOf('\n')) || chunk.length);
      delim = delimiter ?? sniffDelimiter(firstLine);
      tokenizer = new CsvTokenizer(delim);
    }
    // A record may start in an earlier chunk: keep the flag once set.
    chunkHasBadText ||= chunk.includes(BAD_TEXT);
    tokenizer.push(chunk, sink);
    if (!header && tokenizer.pending > LIMITS.headerChars) checkHeader([], tokenizer.pending, false);
    yield* flush();
  }
  tokenizer?.end(sink);
  yield* flush();
  if (!header) throw new UnreadableFileError('the file has no header line (it is empty or blank)');
}

async function* readJsonl(text: AsyncIterable<string>): AsyncGenerator<TableEvent> {
  const columns: string[] = [];
  const index = new Map<string, number>();
  let pending = '';
  let line = 0;
  let rows: TableRow[] = [];
  let sawAny = false;
  const problems: Problem[] = [];
  let grew = false;
  /** Inside a line over the bound: dropped until the next newline. */
  let skipping = false;
  let nameChars = 0;
  const take = (raw: string) => {
    line++;
    if (raw.length > LIMITS.lineChars) {
      sawAny = true;
      problems.push({ line, reason: lineTooLong(raw.length) });
      return;
    }
    const s = raw.trim();
    if (s === '') return;
    sawAny = true;
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch (e) {
      problems.push({ line, reason: `not valid JSON: ${(e as Error).message}` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ line, reason: 'each line must be one JSON object' });
      return;
    }
    const cells: string[] = new Array(columns.length).fill('');
    let numbers: (number | undefined)[] | undefined;
    for (const [k, v] of Object.entries(value)) {
      let i = index.get(k);
      if (i === undefined) {
        i = columns.length;
        columns.push(k);
        index.set(k, i);
        grew = true;
        nameChars += k.length + 1;
        // The field names of all lines are the file's header: bounded like one.
        checkHeader(columns, nameChars);
      }
      if (v === null || v === undefined) cells[i] = '';
      else if (typeof v === 'string') {
        if (v.length > LIMITS.cellChars) {
          problems.push({ line, column: k, value: excerpt(v), reason: cellTooLong(v.length) });
          return;
        }
        cells[i] = v;
      } else if (typeof v === 'number') {
        cells[i] = String(v);
        numbers ??= [];
        numbers[i] = v;
      } else if (typeof v === 'boolean') cells[i] = String(v);
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) cells[i] = v.join(';');
      else {
        problems.push({ line, reason: `field "${k}" must be a string, number or boolean` });
        return;
      }
    }
    rows.push({ line, cells, numbers });
  };
  const flush = function* (): Generator<TableEvent> {
    if (grew) {
      grew = false;
      yield { type: 'columns', columns: [...columns] };
    }
    for (const p of problems.splice(0)) yield { type: 'problem', ...p };
    if (rows.length > 0) {
      yield { type: 'rows', rows };
      rows = [];
    }
  };
  for await (let chunk of text) {
    if (skipping) {
      const nl = chunk.indexOf('\n');
      if (nl < 0) continue;
      skipping = false;
      chunk = chunk.slice(nl + 1);
    }
    const data = pending + chunk;
    let start = 0;
    for (let nl = data.indexOf('\n'); nl >= 0; nl = data.indexOf('\n', start)) {
      take(data.slice(start, nl));
      start = nl + 1;
    }
    pending = data.slice(start);
    if (pending.length > LIMITS.lineChars) {
      // Never held whole: the rest of the line is dropped as it comes.
      line++;
      sawAny = true;
      problems.push({ line, reason: lineTooLong() });
      pending = '';
      skipping = true;
    }
    yield* flush();
  }
  if (pending.length > 0) take(pending);
  yield* flush();
  if (!sawAny) throw new UnreadableFileError('the file is empty');
}

/** The number a cell holds, typed or computed by a formula (undefined for text, dates, blanks). */
function cellNumber(v: ExcelJS.CellValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && !(v instanceof Date) && 'result' in v)
    return typeof v.result === 'number' ? v.result : undefined;
  return undefined;
}

function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((t) => t.text).join('');
    if ('result' in v) return v.result === undefined ? '' : cellText(v.result as ExcelJS.CellValue);
    if ('text' in v) return String(v.text);
    if ('error' in v) return String(v.error);
    return '';
  }
  return String(v);
}

/** The whole workbook, refused past the upload bound: its zip directory is at its end. */
async function workbookBytes(
  bytes: AsyncIterable<Uint8Array>,
  onBytes?: (n: number) => void,
): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of bytes) {
    total += chunk.length;
    if (total > LIMITS.xlsxBytes) throw fileTooLarge('xlsx');
    onBytes?.(total);
    parts.push(chunk);
  }
  return Buffer.concat(parts, total);
}

async function* readXlsx(
  bytes: AsyncIterable<Uint8Array>,
  sheet?: string,
  onBytes?: (n: number) => void,
): AsyncGenerator<TableEvent> {
  const zip = await workbookBytes(bytes, onBytes);
  await checkWorkbook(zip);
  // Loaded only for workbooks: exceljs costs ~30 MB and 0.4 s of start-up a CSV never needs.
  const { default: Excel } = await import('exceljs');
  const reader = new Excel.stream.xlsx.WorkbookReader(Readable.from([zip]), {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'cache', // needed to recognise date cells
  });
  let found = false;
  try {
    for await (const ws of reader) {
      const worksheet = ws as unknown as ExcelJS.Worksheet & AsyncIterable<ExcelJS.Row>;
      if (found || (sheet !== undefined && worksheet.name !== sheet)) {
        for await (const _ of worksheet) {
          // drain other sheets
        }
        continue;
      }
      found = true;
      let header: string[] | undefined;
      let rows: TableRow[] = [];
      for await (const row of worksheet) {
        const values = row.values as ExcelJS.CellValue[];
        const cells: string[] = [];
        let numbers: (number | undefined)[] | undefined;
        for (let i = 1; i < values.length; i++) {
          cells.push(cellText(values[i]));
          const n = cellNumber(values[i]);
          if (n !== undefined) {
            numbers ??= [];
            numbers[i - 1] = n;
          }
        }
        if (cells.every((c) => c.trim() === '')) continue;
        if (!header) {
          let chars = cells.length - 1;
          for (const c of cells) chars += c.length;
          checkHeader(cells, chars);
          header = cells;
          yield { type: 'columns', columns: header };
          continue;
        }
        const tooLong = cellProblem(cells, header, row.number);
        if (tooLong) {
          yield { type: 'problem', ...tooLong };
          continue;
        }
        rows.push({ line: row.number, cells, numbers });
        if (rows.length >= 1000) {
          yield { type: 'rows', rows };
          rows = [];
        }
      }
      if (rows.length > 0) yield { type: 'rows', rows };
      if (!header) throw new UnreadableFileError('the worksheet is empty');
    }
  } catch (e) {
    if (e instanceof UnreadableFileError) throw e;
    throw new UnreadableFileError(`the workbook cannot be read: ${(e as Error).message}`);
  }
  if (!found)
    throw new UnreadableFileError(
      sheet ? `the workbook has no sheet named "${sheet}"` : 'the workbook has no sheet',
    );
}

/**
 * Streams a finance file as columns and rows, whatever its format and encoding. Memory stays
 * bounded by one chunk plus one record, so a 1 GB export never sits in memory.
 */
export async function openTable(
  source: AsyncIterable<Uint8Array>,
  opts: ReadOptions,
): Promise<{ detected: Detected; events: AsyncGenerator<TableEvent> }> {
  const { head, all } = await peek(source);
  const detected = detect(head, opts.fileName, opts);
  const size = opts.sizeBytes;
  if (detected.format === 'xlsx') {
    if (size !== undefined && size > LIMITS.xlsxBytes) throw fileTooLarge('xlsx');
    return { detected, events: readXlsx(all, opts.sheet, opts.onBytes) };
  }
  if (size !== undefined && size > LIMITS.textFileBytes) throw fileTooLarge('text');
  const text = decodeText(all, detected.encoding, opts.onBytes);
  const events =
    detected.format === 'jsonl' ? readJsonl(text) : readCsv(text, detected.encoding, opts.delimiter);
  return { detected, events };
}
