/**
 * Deterministic canonical invoice CSV for the ingest benchmark, written streaming.
 *
 * Row i (0-based) depends only on the seed and i's position in the PRNG stream, so a shorter file
 * with the same seed is exactly the first rows of a longer one. Invoice ids are unique across the
 * file, hence (customer_id, invoice_id) is unique too.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

export const INVOICE_HEADER = 'invoice_id,customer_id,issue_date,due_date,amount,currency,disputed';
export const CUSTOMERS = 10_000;

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MS_PER_DAY = 86_400_000;
const FIRST_ISSUE = Date.UTC(2023, 0, 1) / MS_PER_DAY;
const ISSUE_DAYS = 3 * 365;
const TERMS = [15, 30, 30, 45, 60, 90] as const;
const MAX_TERM = 90;

export interface GenerateOptions {
  /** Stop after this many data rows. */
  readonly rows?: number;
  /** Or: stop once the file has at least this many bytes. */
  readonly targetBytes?: number;
  readonly seed?: number;
  /** How many distinct customers the invoices spread over. @default CUSTOMERS */
  readonly customers?: number;
  readonly onProgress?: (rows: number, bytes: number) => void;
}

/** Writes the file; returns its data row count and size in bytes. */
export async function writeInvoiceCsv(
  path: string,
  opts: GenerateOptions,
): Promise<{ rows: number; bytes: number }> {
  const maxRows = opts.rows ?? Number.POSITIVE_INFINITY;
  const maxBytes = opts.targetBytes ?? Number.POSITIVE_INFINITY;
  if (!Number.isFinite(maxRows) && !Number.isFinite(maxBytes)) throw new Error('rows or targetBytes needed');
  const rnd = prng(opts.seed ?? 20250301);
  const customerCount = opts.customers ?? CUSTOMERS;
  const customers = Array.from({ length: customerCount }, (_, i) => `CUST-${String(i + 1).padStart(5, '0')}`);
  const dates = Array.from({ length: ISSUE_DAYS + MAX_TERM + 1 }, (_, d) =>
    new Date((FIRST_ISSUE + d) * MS_PER_DAY).toISOString().slice(0, 10),
  );
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const failed = new Promise<never>((_, fail) => out.once('error', fail));
  failed.catch(() => {});
  let rows = 0;
  let bytes = 0;
  const header = `${INVOICE_HEADER}\n`;
  out.write(header);
  bytes += header.length;
  const BATCH = 8192;
  while (rows < maxRows && bytes < maxBytes) {
    const lines: string[] = [];
    let chunkBytes = 0;
    for (let k = 0; k < BATCH && rows < maxRows && bytes + chunkBytes < maxBytes; k++) {
      const n = rows + 1;
      const customer = customers[Math.floor(rnd() * customerCount)] as string;
      const issue = Math.floor(rnd() * ISSUE_DAYS);
      const term = TERMS[Math.floor(rnd() * TERMS.length)] as number;
      const cents = 1000 + Math.floor(rnd() * 9_999_000); // 10.00 .. 99,999.99
      const currency = rnd() < 0.7 ? 'USD' : 'EUR';
      const d = rnd();
      const disputed = d < 0.03 ? 'yes' : d < 0.8 ? 'no' : '';
      const minor = cents % 100;
      const line = `INV-2025-${String(n).padStart(9, '0')},${customer},${dates[issue]},${dates[issue + term]},${(cents - minor) / 100}.${minor < 10 ? '0' : ''}${minor},${currency},${disputed}\n`;
      lines.push(line);
      chunkBytes += line.length; // ASCII only: characters are bytes
      rows++;
    }
    bytes += chunkBytes;
    if (!out.write(lines.join(''))) await Promise.race([once(out, 'drain'), failed]);
    opts.onProgress?.(rows, bytes);
  }
  await Promise.race([new Promise<void>((ok) => out.end(ok)), failed]);
  return { rows, bytes };
}
