/**
 * Streaming CSV tokenizer with exact physical line numbers.
 *
 * Written here rather than taken from a library because finance files need three things the fast
 * parsers (uDSV, papaparse) do not give together: the line a record starts on (quoted newlines make
 * it differ from the record index), CRLF and LF mixed in one file, and recovery from an unterminated
 * quote without swallowing the rest of a 1 GB file into one field.
 */

import { LIMITS, lineTooLong } from './limits.ts';

export interface CsvRow {
  /** 1-based physical line the record starts on. */
  readonly line: number;
  readonly cells: string[];
}

export interface CsvProblem {
  readonly line: number;
  readonly reason: string;
  /** Set when the line was over the line bound (`LIMITS.lineChars`). */
  readonly tooLong?: boolean | undefined;
}

export interface CsvSink {
  row(cells: string[], line: number): void;
  /**
   * A record without quotes, `text[start, end)` (line ending excluded), not split: a sink that can
   * read fields in place takes it this way. Without this method such records come split to `row`.
   */
  plain?(text: string, start: number, end: number, line: number): void;
  problem(p: CsvProblem): void;
}

const QUOTE = 34;
const LF = 10;
const CR = 13;

export class CsvTokenizer {
  private buf = '';
  private line = 1;
  /** Inside a line over the bound: its characters are dropped until the next newline. */
  private skipping = false;
  private readonly delim: string;
  private readonly delimCode: number;

  constructor(
    delimiter: string,
    /**
     * A line longer than this is rejected and skipped; a quoted record longer than this is taken
     * to be an unterminated quote.
     */
    private readonly maxRecordChars: number = LIMITS.lineChars,
  ) {
    this.delim = delimiter;
    this.delimCode = delimiter.charCodeAt(0);
  }

  /** Characters held waiting for the end of a record. */
  get pending(): number {
    return this.buf.length;
  }

  push(chunk: string, sink: CsvSink): void {
    if (this.skipping) {
      const nl = chunk.indexOf('\n');
      if (nl < 0) return;
      this.skipping = false;
      this.line++;
      chunk = chunk.slice(nl + 1);
      if (chunk.length === 0) return;
    }
    const text = this.buf.length > 0 ? this.buf + chunk : chunk;
    const consumed = this.scan(text, sink, false);
    this.buf = consumed < text.length ? text.slice(consumed) : '';
  }

  end(sink: CsvSink): void {
    const text = this.buf;
    this.buf = '';
    if (text.length > 0) this.scan(text, sink, true);
  }

  /** Scans whole records; returns how many characters were consumed. */
  private scan(text: string, sink: CsvSink, final: boolean): number {
    let pos = 0;
    const n = text.length;
    // The next quote at or after `pos`, searched again only once passed, so a file without quotes
    // costs one scan per chunk, not one per line. The first search waits for the first newline
    // search: V8 flattens `buf + chunk` in place there, while an earlier whole-string indexOf left
    // it unflattened and made every later search copy the chunk (5x slower on a 256 KB chunk).
    let q = -2;
    while (pos < n) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) {
        if (!final) {
          if (n - pos <= this.maxRecordChars) return pos;
          // A line this long without its end yet: never held whole (a 50 MB file without newline).
          sink.problem({ line: this.line, reason: lineTooLong(), tooLong: true });
          this.skipping = true;
          return n;
        }
        nl = n;
      }
      if (nl - pos > this.maxRecordChars) {
        sink.problem({ line: this.line, reason: lineTooLong(nl - pos), tooLong: true });
        this.line++;
        pos = nl + 1;
        continue;
      }
      if (q === -2 || (q >= 0 && q < pos)) q = text.indexOf('"', pos);
      if (q < 0 || q > nl) {
        // Fast path: no quote on this line.
        const end = nl > pos && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
        if (end > pos) {
          if (sink.plain) sink.plain(text, pos, end, this.line);
          else sink.row(text.slice(pos, end).split(this.delim), this.line);
        }
        this.line++;
        pos = nl + 1;
        continue;
      }
      const r = this.quoted(text, pos, final);
      if (r === null) {
        // Record not complete in this chunk; keep it unless it is implausibly long.
        if (n - pos <= this.maxRecordChars) return pos;
        this.unterminated(text, pos, nl, sink);
        pos = nl + 1;
        continue;
      }
      // An implausibly long record is a stray quote, whatever the chunking: refuse its first line.
      if (r === 'unterminated' || r.next - pos > this.maxRecordChars) {
        this.unterminated(text, pos, nl, sink);
        pos = nl + 1;
        continue;
      }
      sink.row(r.cells, this.line);
      this.line += r.newlines + 1;
      pos = r.next;
    }
    return n;
  }

  private unterminated(text: string, pos: number, nl: number, sink: CsvSink): void {
    sink.problem({
      line: this.line,
      reason: `unterminated quoted field; the line was skipped: ${JSON.stringify(text.slice(pos, Math.min(nl, pos + 80)))}`,
    });
    this.line++;
  }

  /** Parses one record that contains quotes, starting at `pos`. */
  private quoted(
    text: string,
    pos: number,
    final: boolean,
  ): { cells: string[]; next: number; newlines: number } | null | 'unterminated' {
    const n = text.length;
    const cells: string[] = [];
    let i = pos;
    let newlines = 0;
    for (;;) {
      // At the start of a field.
      if (i < n && text.charCodeAt(i) === QUOTE) {
        let value = '';
        let from = i + 1;
        for (;;) {
          const close = text.indexOf('"', from);
          if (close < 0) return final ? 'unterminated' : null;
          value += text.slice(from, close);
          if (close + 1 < n && text.charCodeAt(close + 1) === QUOTE) {
            value += '"';
            from = close + 2;
            continue;
          }
          if (close + 1 >= n && !final) return null; // cannot tell "" from " yet
          i = close + 1;
          break;
        }
        for (let k = value.indexOf('\n'); k >= 0; k = value.indexOf('\n', k + 1)) newlines++;
        // Lenient: text after the closing quote up to the delimiter is kept.
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === this.delimCode || c === LF || (c === CR && text.charCodeAt(j + 1) === LF)) break;
          if (c === CR && j + 1 >= n && !final) return null;
          j++;
        }
        if (j > i) value += text.slice(i, j);
        i = j;
        cells.push(value);
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === this.delimCode || c === LF) break;
          j++;
        }
        let end = j;
        if (j < n && text.charCodeAt(j) === LF && end > i && text.charCodeAt(end - 1) === CR) end--;
        if (j >= n && end > i && text.charCodeAt(end - 1) === CR) end--;
        cells.push(text.slice(i, end));
        i = j;
      }
      if (i >= n) {
        if (!final) return null;
        return { cells, next: n, newlines };
      }
      const c = text.charCodeAt(i);
      if (c === this.delimCode) {
        i++;
        continue;
      }
      if (c === CR) i++;
      // LF
      return { cells, next: i + 1, newlines };
    }
  }
}

/** Picks the delimiter of a header line: the most frequent of tab, semicolon, pipe and comma. */
export function sniffDelimiter(headerLine: string): string {
  let best = ',';
  let bestCount = 0;
  for (const d of [',', ';', '\t', '|']) {
    const count = headerLine.split(d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

/**
 * Finds where the first `need` fields of an unquoted record `text[start, end)` begin, for reading
 * them in place: `at[k]` is field k's first character and `at[k + 1] - 1` one past its last.
 * Returns false when the record has fewer fields.
 */
export function fieldStarts(
  text: string,
  start: number,
  end: number,
  delimiter: string,
  at: Int32Array,
  need: number,
): boolean {
  at[0] = start;
  let p = start;
  for (let k = 1; k <= need; k++) {
    const d = text.indexOf(delimiter, p);
    if (d < 0 || d >= end) {
      at[k] = end + 1;
      return k === need;
    }
    at[k] = d + 1;
    p = d + 1;
  }
  return true;
}
