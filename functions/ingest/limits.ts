/**
 * The bounds on what an upload may hold, in one place, checked while streaming. Past a cell or
 * line bound the row is rejected (with a short excerpt, never the whole value) and reading goes on
 * at the next line; past a header or file bound the file is rejected whole with the reason. They
 * keep every stored item under DynamoDB's 400 KB and a run's memory under the 1 GB ingest Lambda.
 */
export const LIMITS = {
  /** Characters in one cell: Excel's own cell limit (32,767), rounded to a power of two. */
  cellChars: 32_768,
  /** Characters in one line (or one quoted record spanning lines). */
  lineChars: 1 << 20,
  /** Characters in the header line. */
  headerChars: 64 * 1024,
  /** Columns in the header. */
  columns: 500,
  /** Bytes of a CSV or JSON Lines file. */
  textFileBytes: 2 * 1024 ** 3,
  /** Bytes of an .xlsx upload (it is held in memory to read its zip directory first). */
  xlsxBytes: 100 * 1024 ** 2,
  /** Bytes of a workbook once unpacked, all its parts together. */
  xlsxUnpackedBytes: 384 * 1024 ** 2,
  /** Bytes of the workbook's shared strings once unpacked (exceljs holds them all in memory). */
  sharedStringsBytes: 100 * 1024 ** 2,
  /** Texts in the workbook's shared strings table. */
  sharedStrings: 1_000_000,
} as const;

/** Characters of a refused value kept in a report: enough to find it, never the whole of it. */
export const EXCERPT_CHARS = 80;

/** "450,000": a count as people read it. */
export function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

/** "2 GB", "64 KB", "1 MB": a byte or character bound as people read it. */
export function sizeText(n: number): string {
  if (n >= 1024 ** 3 && n % 1024 ** 3 === 0) return `${n / 1024 ** 3} GB`;
  if (n >= 1024 ** 2 && n % 1024 ** 2 === 0) return `${n / 1024 ** 2} MB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KB`;
  return grouped(n);
}

/** The first characters of an oversized value and its size: `Acme…… (450,000 characters; the limit is 32,768)`. */
export function excerpt(value: string, limit: number = LIMITS.cellChars, head = EXCERPT_CHARS): string {
  return `${value.slice(0, head)}… (${grouped(value.length)} characters; the limit is ${grouped(limit)})`;
}

/** A text cut to `max` characters with a note of how much was cut (reasons, messages). */
export function clip(text: string, max: number): string {
  return text.length <= max
    ? text
    : `${text.slice(0, max)}… (${grouped(text.length - max)} more characters cut)`;
}

/** The first cell of a row over the cell bound, or undefined. */
export function oversizedCell(cells: readonly string[]): number | undefined {
  for (let i = 0; i < cells.length; i++) if ((cells[i] as string).length > LIMITS.cellChars) return i;
  return undefined;
}

/** The reason a row with an oversized cell is rejected. */
export function cellTooLong(chars: number): string {
  return `the cell is ${grouped(chars)} characters long; the limit is ${grouped(LIMITS.cellChars)}: the row was skipped`;
}

/** The reason a line over the line bound is rejected. */
export function lineTooLong(chars?: number): string {
  const size = chars === undefined ? 'longer than' : `${grouped(chars)} characters long, over`;
  return `the line is ${size} the limit of ${grouped(LIMITS.lineChars)} characters: it was skipped up to its end`;
}

/** Bytes a stored run record may take: DynamoDB refuses items over 400 KB, keys and names included. */
export const RUN_RECORD_BYTES = 300 * 1024;
/** Characters of a stored reject's value and reason (the rejects report keeps what the reader gave). */
export const STORED_REJECT_CHARS = { value: 1024, reason: 2048 } as const;

const bytesOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

/**
 * A run record cut to fit the store's item size, with a note of what was cut; the rejects and
 * warnings reports keep everything. Long texts are clipped first, then the last warnings dropped,
 * then the list of customers not on file (its counts stay).
 */
export function fitRun<
  R extends {
    reason?: string | undefined;
    warnings: string[];
    unknownCustomers?: { listed: readonly unknown[] } | undefined;
  },
>(run: R, maxBytes: number = RUN_RECORD_BYTES): R {
  if (bytesOf(run) <= maxBytes) return run;
  const cut: string[] = [];
  const out: R = {
    ...run,
    reason: run.reason === undefined ? undefined : clip(run.reason, 4096),
    warnings: run.warnings.map((w) => clip(w, 2048)),
  };
  if (out.reason !== run.reason) cut.push('the reason was shortened');
  if (out.warnings.some((w, i) => w !== run.warnings[i])) cut.push('long warnings were shortened');
  const note = () =>
    `the run record was cut to fit the store's item size (${cut.join('; ')}); the rejects and warnings reports have everything`;
  const reserve = 1024;
  let dropped = 0;
  while (out.warnings.length > 0 && bytesOf(out) + reserve > maxBytes) {
    out.warnings.pop();
    dropped++;
  }
  if (dropped > 0) cut.push(`${grouped(dropped)} warnings were left out`);
  if (bytesOf(out) + reserve > maxBytes && out.unknownCustomers) {
    out.unknownCustomers = { ...out.unknownCustomers, listed: [] };
    cut.push('the list of customers not on file was left out');
  }
  out.warnings.push(note());
  return out;
}

/** A reject as the store keeps it: value and reason clipped (the rejects report is not). */
export function storedReject<R extends { value: string; reason: string }>(r: R): R {
  return r.value.length <= STORED_REJECT_CHARS.value && r.reason.length <= STORED_REJECT_CHARS.reason
    ? r
    : {
        ...r,
        value: clip(r.value, STORED_REJECT_CHARS.value),
        reason: clip(r.reason, STORED_REJECT_CHARS.reason),
      };
}
