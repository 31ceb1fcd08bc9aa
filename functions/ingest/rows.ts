import { fieldStarts } from './csv.ts';
import { Interner, IsoDates } from './intern.ts';
import {
  columnsOf,
  type FieldIssue,
  type InPlace,
  type InPlaceContext,
  type Kind,
  type RowOf,
  type RowStyle,
  SPECS,
} from './kinds.ts';
import type { Binding, BoundOutput } from './profile.ts';
import { cellsOf, type TableRow } from './read.ts';

/** What a checked row yields, output by output: a valid row, or the problems with its fields. */
export interface RowVisitor {
  valid(out: BoundOutput, row: RowOf[Kind], src: TableRow): void;
  invalid(out: BoundOutput, issues: readonly FieldIssue[], src: TableRow): void;
}

/**
 * Turns a file's rows into valid typed rows or field problems: the "parse+validate" of ingestion.
 *
 * A CSV line without quotes, under one output of plain columns with canonical dates and numbers,
 * is read in place (`KindSpec.fast`): no cell strings, the repeated customer ids and dates shared.
 * Anything else, or any line the in-place reading does not find plain, is split and checked by
 * `KindSpec.validate`, which gives the same row or says what is wrong.
 */
export class RowChecker {
  private readonly fast:
    | { out: BoundOutput; line: InPlace; need: number; read: NonNullable<(typeof SPECS)[Kind]['fast']> }
    | undefined;
  private readonly cx: InPlaceContext = { ids: new Interner(1 << 18), dates: new IsoDates() };

  constructor(
    private readonly binding: Binding,
    private readonly style: RowStyle,
    /** The CSV delimiter line rows are split on. */
    readonly delimiter: string,
  ) {
    const out = binding.outputs.length === 1 ? binding.outputs[0] : undefined;
    const read = out && (SPECS[out.kind].fast as NonNullable<(typeof SPECS)[Kind]['fast']> | undefined);
    if (!out?.direct || !read || style.dateFormat !== 'YYYY-MM-DD' || style.decimal !== '.') return;
    const direct = out.direct;
    const col = Int32Array.from(columnsOf(SPECS[out.kind]), (c) => direct[c] ?? -1);
    const need = Math.max(...col) + 1;
    this.fast = { out, line: { text: '', at: new Int32Array(need + 1), col }, need, read };
  }

  /** The cells of a row (a line row split on the delimiter). */
  cells(src: TableRow): string[] {
    return cellsOf(src, this.delimiter);
  }

  check(src: TableRow, visit: RowVisitor): void {
    const fast = this.fast;
    if (src.cells === undefined && fast !== undefined) {
      const l = fast.line;
      l.text = src.text;
      if (fieldStarts(src.text, src.start, src.end, this.delimiter, l.at, fast.need)) {
        const row = fast.read(l, this.cx);
        if (row !== undefined) {
          visit.valid(fast.out, row, src);
          return;
        }
      }
    }
    const cells = this.cells(src);
    const numbers = src.cells === undefined ? undefined : src.numbers;
    for (const out of this.binding.outputs) {
      if (!out.load(cells, numbers)) continue;
      const r = SPECS[out.kind].validate(out.get, this.style);
      if (r.ok) visit.valid(out, r.row, src);
      else visit.invalid(out, r.issues, src);
    }
  }
}
