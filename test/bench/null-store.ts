/**
 * The real ingest pipeline over an in-process store that discards what it is given: what is left
 * to measure is parse + validate + dedupe + record building (and the per-customer recompute over
 * empty books at the end).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Customer } from '../../functions/core/records.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import type {
  ChangeNotifier,
  CustomerBooksRecord,
  IngestRun,
  IngestStore,
  RejectsSink,
} from '../../functions/ingest/ports.ts';
import { bindProfile, canonicalProfile, styleOf } from '../../functions/ingest/profile.ts';
import { openTable } from '../../functions/ingest/read.ts';
import { RowChecker, type RowVisitor } from '../../functions/ingest/rows.ts';

export const PARSE_LABEL = 'ingest() with a null store';
export const CHECK_LABEL = 'parse+validate (reader + RowChecker)';

export class NullStore implements IngestStore {
  written = 0;
  async getCustomers(): Promise<Map<string, Customer>> {
    return new Map<string, Customer>();
  }
  async customersWithBooks(): Promise<Set<string>> {
    return new Set();
  }
  async openRun(): Promise<number> {
    return 1;
  }
  async beatRun(): Promise<void> {}
  async ingestEpoch(): Promise<number> {
    return 1;
  }
  async openRuns(): Promise<[]> {
    return [];
  }
  async closeRun(): Promise<void> {}
  async getFxRates(): Promise<[]> {
    return [];
  }
  async write(records: readonly unknown[]): Promise<void> {
    this.written += records.length;
  }
  async provenanceOf(): Promise<undefined> {
    return undefined;
  }
  async loadBooks(): Promise<CustomerBooksRecord> {
    return { invoices: [], payments: [], applications: new Map() };
  }
  async saveDerived(): Promise<void> {}
  async putRun(): Promise<void> {}
}

export class CountingRejects implements RejectsSink {
  bytes = 0;
  write(csvText: string): void {
    this.bytes += Buffer.byteLength(csvText);
  }
  async close(): Promise<string> {
    return 'memory://rejects';
  }
}

export const noopNotifier: ChangeNotifier = { customersChanged: async () => {} };

export interface ParseResult {
  readonly run: IngestRun;
  readonly seconds: number;
  /** User + system CPU seconds of the whole process during the run (GC threads included). */
  readonly cpuSeconds: number;
  readonly written: number;
  readonly rejectBytes: number;
}

/**
 * Runs `ingest()` on a canonical invoice file with the null store, as the CLI and the Lambda call it
 * (256 KB reads, `sizeBytes` given, which sizes the duplicate-key set).
 */
export async function parseValidate(file: string, opts: { withSize?: boolean } = {}): Promise<ParseResult> {
  const { size } = await stat(file);
  const store = new NullStore();
  const rejects = new CountingRejects();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const run = await ingest(
    { store, notifier: noopNotifier, clock: { now: () => new Date() }, timeZone: 'UTC' },
    {
      source: createReadStream(file, { highWaterMark: 256 * 1024 }),
      sizeBytes: opts.withSize === false ? undefined : size,
      fileName: 'invoices/bench.csv',
      objectRef: `file://${resolve(file)}`,
      profile: canonicalProfile('invoices'),
      rejects,
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    run,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    written: store.written,
    rejectBytes: rejects.bytes,
  };
}

/** Throws unless the run read, accepted and wrote exactly `rows` rows and rejected none. */
export function assertClean(r: ParseResult, rows: number, what: string): void {
  const { run } = r;
  if (
    run.status !== 'processed' ||
    run.rowsRead !== rows ||
    run.acceptedTotal !== rows ||
    run.rejected !== 0 ||
    r.written !== rows
  )
    throw new Error(
      `${what}: expected ${rows} rows accepted and 0 rejected, got status=${run.status} rowsRead=${run.rowsRead} ` +
        `accepted=${run.acceptedTotal} rejected=${run.rejected} written=${r.written} ` +
        `reason=${run.reason ?? '-'} warnings=${JSON.stringify(run.warnings.slice(0, 3))}`,
    );
}

export interface CheckResult {
  readonly rows: number;
  readonly valid: number;
  readonly invalid: number;
  /** Sum of the valid rows' amounts in minor units: proof every row was read, compared with DuckDB's. */
  readonly amountSum: bigint;
  readonly seconds: number;
}

/**
 * Parse+validate alone, as `ingest()` does it: the streaming reader (decode, CSV tokenizer) and the
 * `RowChecker` turning each line into a typed, validated invoice row or field problems. Nothing
 * after that (duplicate keys, customers, records, writes) is counted here; `parseValidate` has it.
 */
export async function checkRows(file: string): Promise<CheckResult> {
  const profile = canonicalProfile('invoices');
  const t0 = performance.now();
  const { events } = await openTable(createReadStream(file, { highWaterMark: 256 * 1024 }), {
    fileName: 'invoices/bench.csv',
  });
  let checker: RowChecker | undefined;
  let rows = 0;
  let valid = 0;
  let invalid = 0;
  let cents = 0;
  const visitor: RowVisitor = {
    valid(_out, row) {
      valid++;
      cents += (row as { amount: number }).amount;
    },
    invalid() {
      invalid++;
    },
  };
  for await (const ev of events) {
    if (ev.type === 'columns') {
      checker = new RowChecker(bindProfile(profile, ev.columns), styleOf(profile), ev.delimiter ?? ',');
    } else if (ev.type === 'rows' && checker) {
      rows += ev.rows.length;
      for (const r of ev.rows) checker.check(r, visitor);
    } else if (ev.type === 'problem') invalid++;
  }
  const seconds = (performance.now() - t0) / 1000;
  // 1M amounts under 1e5 with cents stay far below 2^53: the float sum of integers is exact.
  return { rows, valid, invalid, amountSum: BigInt(cents), seconds };
}
