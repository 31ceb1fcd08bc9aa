import { createHash } from 'node:crypto';
import {
  type InvoiceOfOrder,
  landOrders,
  type OrderBookDeps,
  releaseInvoicedOrders,
  type UploadedOrder,
} from '../checks/release.ts';
import { sameData } from '../core/canonical.ts';
import { mapLimit } from '../core/concurrency.ts';
import { crashPoint, SimulatedCrash } from '../core/crash.ts';
import { minorDigits } from '../core/currencies.ts';
import { dateInZone, type IsoDate } from '../core/dates.ts';
import { formatMoney } from '../core/money.ts';
import { allocatePayments, receivablesAsOf } from '../core/receivables.ts';
import {
  type Customer,
  type FxRate,
  type Invoice,
  isOnFile,
  type Original,
  type Payment,
} from '../core/records.ts';
import { UnreadableFileError } from './errors.ts';
import { FingerprintSet } from './fingerprints.ts';
import { Converter } from './fx.ts';
import { type InvoiceRow, type Kind, type OrderRow, type PaymentRow, type RowOf, SPECS } from './kinds.ts';
import type {
  ChangeNotifier,
  Clock,
  CustomerBooksRecord,
  DerivedChanges,
  IngestRun,
  IngestStore,
  OpenRun,
  Provenance,
  RejectRecord,
  RejectsSink,
  StoredApplication,
  StoredRecord,
} from './ports.ts';
import { type Binding, type BoundOutput, bindProfile, type Profile, styleOf } from './profile.ts';
import { type FileFormat, openTable, type TableRow } from './read.ts';
import { REJECTS_HEADER, rejectLine, WARNINGS_HEADER } from './rejects.ts';
import { RowChecker, type RowVisitor } from './rows.ts';
import { UnknownCustomers, unknownCustomerWarnings } from './unknown-customers.ts';

export interface IngestDeps {
  readonly store: IngestStore;
  readonly notifier: ChangeNotifier;
  readonly clock: Clock;
  /** The finance team's time zone: "today" for the summaries written after a file. */
  readonly timeZone: string;
  /** How many days back an FX rate may be used (weekends, holidays). @default 7 */
  readonly maxRateAgeDays?: number;
  /** Parallel customer recomputations. @default 8 */
  readonly concurrency?: number;
  /** Rows of customers new to the table held in memory for their first summary. @default 100,000 */
  readonly freshRowsMax?: number;
  /**
   * Who runs this ingest, and whether another run's owner is still alive. Locally a run killed
   * with `kill -9` is then known dead at once (its process is gone) instead of after its marks
   * fall silent. @default none: a run is dead only once silent for RUN_SILENCE_MS
   */
  readonly owner?: RunOwner | undefined;
  /** How often a run shows a sign of life on its mark. @default 15 s */
  readonly beatMs?: number;
  /** A run whose mark has shown no sign of life for this long is dead. @default 90 s */
  readonly silenceMs?: number;
  /**
   * The credit checks' order book (functions/checks/release.ts): where an `orders` upload lands
   * its orders as reservations, and where invoices naming an order release its reservation. Without
   * it an `orders` file is refused whole and invoices' order references release nothing (a warning).
   */
  readonly orders?: OrderBookDeps | undefined;
}

export interface RunOwner {
  /** This process (`<host>:<pid>`). */
  readonly id: string;
  /** Whether the process named by an owner id is alive: undefined when this process cannot tell. */
  alive(owner: string): boolean | undefined;
}

export interface IngestRequest {
  readonly source: AsyncIterable<Uint8Array>;
  /** Name shown to people and used to detect the format (`invoices/2025-03.csv`). */
  readonly fileName: string;
  /** Stable identity of this upload (s3://bucket/key#version, or a path and mtime). */
  readonly objectRef: string;
  readonly profile: Profile;
  readonly rejects: RejectsSink;
  /**
   * The warnings report next to the upload: every row loaded for a customer not on file. Written
   * whole for every upload given one (header only when clean), so a stale one never survives.
   */
  readonly warningsReport?: RejectsSink | undefined;
  readonly sizeBytes?: number | undefined;
  /** Deterministic run id (AWS: derived from the object version, so a redelivery rewrites the same run). */
  readonly runId?: string | undefined;
  readonly onProgress?: ((p: { bytes: number; rows: number }) => void) | undefined;
  /** Called once the rows are written, before the touched customers are recomputed. */
  readonly onRecompute?: ((customers: number) => void) | undefined;
}

const MAX_STORED_REJECTS = 1000;
const MAX_WARNINGS = 100;
const IDS_PER_MESSAGE = 1000;
const RECOMPUTE_GROUP = 500;
/**
 * How many rows of customers new to the table a run keeps in memory, so their first summary is
 * computed without reading back what it has just written; past it, they are read back like the rest.
 */
const FRESH_ROWS_MAX = 100_000;
/** A run whose mark showed no sign of life for this long died (it beats every BEAT_MS). */
const RUN_SILENCE_MS = 90_000;
const BEAT_MS = 15_000;
/** How often a run whose rows are stored looks again whether another run still writes rows. */
const WRITERS_POLL_MS = [25, 50, 100, 200, 400, 1000];

export function runIdFor(objectRef: string, startedAt: Date, deterministic: boolean): string {
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').slice(0, 15);
  const hash = createHash('sha256')
    .update(deterministic ? objectRef : `${objectRef}\u0000${startedAt.toISOString()}\u0000${Math.random()}`)
    .digest('hex')
    .slice(0, 10);
  return deterministic ? `obj-${hash}` : `${stamp}Z-${hash}`;
}

/**
 * Keeps up to two write batches in flight while the next one is parsed, so the store's request
 * pool never runs dry at the tail of a batch. Safe to overlap: a key is written once per run (a
 * repeated key is rejected, and confirming one drains the writer first).
 */
class Writer {
  private inflight: Promise<void>[] = [];
  private buffer: StoredRecord[] = [];
  constructor(private readonly store: IngestStore) {}
  add(r: StoredRecord): void {
    this.buffer.push(r);
  }
  async flush(): Promise<void> {
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length === 0) return;
    while (this.inflight.length >= 2) await this.inflight.shift();
    const write = this.store.write(batch).then(() => {
      for (let i = 0; i < batch.length; i++) crashPoint('ingest.after-rows');
    });
    // Its failure surfaces where it is awaited; until then it must not count as unhandled.
    write.catch(() => {});
    this.inflight.push(write);
  }
  async drain(): Promise<void> {
    await this.flush();
    while (this.inflight.length > 0) await this.inflight.shift();
  }
}

/** Stored items come back from DynamoDB with their attributes in another order: compare structurally. */
function sameJson(a: unknown, b: unknown): boolean {
  return b !== undefined && sameData(a, b);
}

type Convertible = (Invoice | Payment) & { from?: Provenance };

/**
 * Brings a customer's stored invoices and payments into its credit currency when they are not in
 * it (rows loaded before the master data named the currency, or a currency that changed), from
 * their original amounts, and stores them converted. What cannot be converted stays as it is and
 * is named, never silently left out of the figures.
 */
async function intoCreditCurrency(
  store: IngestStore,
  converter: Converter,
  target: string,
  rows: readonly Convertible[],
  warnings: string[],
): Promise<Map<string, Convertible>> {
  const strays = rows.filter((r) => r.currency !== target);
  const converted = new Map<string, Convertible>();
  if (strays.length === 0) return converted;
  await converter.ensure(strays.map((r) => [r.original?.currency ?? r.currency, target] as [string, string]));
  const rewrite: StoredRecord[] = [];
  for (const r of strays) {
    const isInvoice = 'invoiceId' in r;
    const id = isInvoice ? `invoice ${r.invoiceId}` : `payment ${(r as Payment).paymentId}`;
    const src = r.original ?? { amount: r.amount, currency: r.currency };
    const date = isInvoice ? r.issueDate : (r as Payment).receivedDate;
    let next: Convertible;
    if (src.currency === target) next = { ...r, amount: src.amount, currency: target, original: undefined };
    else {
      const c = converter.convert(src.amount, src.currency, target, date);
      if ('reason' in c) {
        warnings.push(`${id} stays in ${r.currency}, outside the figures in ${target}: it ${c.reason}`);
        continue;
      }
      next = { ...r, amount: c.amount, currency: target, original: c.original };
    }
    const { from, ...row } = next;
    const prov = from ?? { runId: 'recompute', line: 0 };
    rewrite.push(
      isInvoice
        ? { kind: 'invoices', row: row as Invoice, from: prov }
        : { kind: 'payments', row: row as Payment, from: prov },
    );
    converted.set(isInvoice ? `I${r.invoiceId}` : `P${(r as Payment).paymentId}`, next);
  }
  await store.write(rewrite);
  return converted;
}

/**
 * Recomputes a customer's receivables from its stored books, as of `asOf`, and stores the
 * summary plus the payment allocations that changed. Idempotent: running it twice writes the
 * same summary and no allocation the second time.
 */
export async function recomputeCustomer(
  store: IngestStore,
  customerId: string,
  asOf: IsoDate,
  converter: Converter,
  /** The customer's books when the caller holds them whole (a customer new to the table). */
  held?: CustomerBooksRecord,
): Promise<{
  notes: { paymentId: string; invoiceId: string; code: string; line?: number; runId?: string }[];
  warnings: string[];
  /** What to store; the caller batches it with other customers' (`store.saveDerived`). */
  derived: DerivedChanges;
}> {
  const books = held ?? (await store.loadBooks(customerId));
  const currency = books.customer?.currency;
  const warnings: string[] = [];
  let invoices = books.invoices;
  let payments = books.payments;
  if (currency && minorDigits(currency) !== undefined) {
    const done = await intoCreditCurrency(store, converter, currency, [...invoices, ...payments], warnings);
    if (done.size > 0) {
      invoices = invoices.map((i) => (done.get(`I${i.invoiceId}`) as Invoice | undefined) ?? i);
      payments = payments.map((p) => (done.get(`P${p.paymentId}`) as Payment | undefined) ?? p);
    }
  }
  // The stored allocation is the full-history one (books as they stand), the summary is as of today.
  const full = allocatePayments(invoices, payments);
  const today = receivablesAsOf({ customerId, currency, invoices, payments }, asOf);
  const notesByPayment = new Map<string, StoredApplication['notes']>();
  for (const n of full.notes) {
    const list = notesByPayment.get(n.paymentId) ?? [];
    list.push(n);
    notesByPayment.set(n.paymentId, list);
  }
  const changed: StoredApplication[] = [];
  for (const app of full.applications) {
    const stored: StoredApplication = { ...app, notes: notesByPayment.get(app.paymentId) ?? [] };
    if (!sameJson(stored, books.applications.get(app.paymentId))) changed.push(stored);
  }
  const derived: DerivedChanges = {
    customerId,
    summary: sameJson(today.summary, books.summary) ? undefined : today.summary,
    applications: changed,
  };
  const fromOf = new Map(books.payments.map((p) => [p.paymentId, p.from]));
  return {
    notes: full.notes.map((n) => ({
      ...n,
      line: fromOf.get(n.paymentId)?.line,
      runId: fromOf.get(n.paymentId)?.runId,
    })),
    warnings,
    derived,
  };
}

/**
 * Ingests one upload: streams and validates every row, writes the good ones by business key,
 * reports every bad one with its line, recomputes each touched customer, records the run, and
 * announces which customers changed. A file that cannot be read is reported whole.
 */
export async function ingest(deps: IngestDeps, req: IngestRequest): Promise<IngestRun> {
  const life: Life = {};
  try {
    return await ingestRun(deps, req, life);
  } catch (e) {
    await life.heart?.stop();
    // A run that fails takes its mark with it (its rows stay, and count as books on file); a
    // simulated crash leaves everything as a killed process would.
    if (life.mark && !(e instanceof SimulatedCrash))
      await deps.store.closeRun(life.mark).catch(() => undefined);
    throw e;
  }
}

/** What a run leaves to clean up if it fails. */
interface Life {
  mark?: OpenRun;
  heart?: Heartbeat;
}

async function ingestRun(deps: IngestDeps, req: IngestRequest, life: Life): Promise<IngestRun> {
  const startedAt = deps.clock.now();
  const runId = req.runId ?? runIdFor(req.objectRef, startedAt, false);
  const asOf = dateInZone(startedAt, deps.timeZone);
  const kinds = [...new Set(req.profile.outputs.map((o) => o.kind))];
  const rejects: RejectRecord[] = [];
  let rejectedCount = 0;
  const warnings: string[] = [];
  const accepted: Partial<Record<Kind, number>> = {};
  const touched = new Set<string>();
  let rowsRead = 0;
  let format: FileFormat | undefined;
  let encoding: string | undefined;
  let status: IngestRun['status'] = 'processed';
  let reason: string | undefined;

  req.rejects.write(REJECTS_HEADER);
  req.warningsReport?.write(WARNINGS_HEADER);
  const unknown = new UnknownCustomers();
  const rejectUnknown = req.profile.unknownCustomers === 'reject';
  const reject = (r: RejectRecord) => {
    rejectedCount++;
    if (rejects.length < MAX_STORED_REJECTS) rejects.push(r);
    req.rejects.write(rejectLine(r));
  };
  const warn = (w: string) => {
    if (warnings.length < MAX_WARNINGS) warnings.push(w);
    else if (warnings.length === MAX_WARNINGS) warnings.push('... more warnings in the run record were cut');
  };

  // The run's mark goes in before any row does, and moves the ingest epoch on. While no other
  // live run is open, a customer with no stored summary and no stored invoice or payment has
  // exactly the rows this run gives it: held in memory for its first summary, not read back. A run
  // that starts later moves the epoch, which the recompute sees (see `settle`).
  const silenceMs = deps.silenceMs ?? RUN_SILENCE_MS;
  let mark: OpenRun = {
    runId,
    objectRef: req.objectRef,
    file: req.fileName,
    startedAt: startedAt.toISOString(),
    phase: 'rows',
    beatAt: startedAt.toISOString(),
    owner: deps.owner?.id,
  };
  life.mark = mark; // from here on a failure takes the mark away, even one in openRun itself
  const myEpoch = await deps.store.openRun(mark);
  const heart = new Heartbeat(deps.store, () => mark, deps.clock, deps.beatMs ?? BEAT_MS);
  life.heart = heart;
  const dead: OpenRun[] = [];
  /** Other runs' marks, live ones only; a dead one is noted (warned about once, cleared at the end). */
  const othersLive = async () => {
    const now = deps.clock.now().getTime();
    const live: OpenRun[] = [];
    for (const m of await deps.store.openRuns()) {
      if (m.runId === runId) continue;
      if (!isDead(m, now, silenceMs, deps.owner)) live.push(m);
      else if (!dead.some((d) => d.runId === m.runId)) {
        dead.push(m);
        warn(
          `an earlier ingest of ${m.file} (run ${m.runId}, started ${m.startedAt}) never finished: its rows may be partly stored; upload that file again`,
        );
      }
    }
    return live;
  };
  /** Customers new to the table, with the rows this run gave them; undefined once not trusted. */
  let fresh: Map<string, { invoices: Convertible[]; payments: Convertible[] }> | undefined =
    (await othersLive()).length === 0 ? new Map() : undefined;
  let freshRows = 0;

  const writer = new Writer(deps.store);
  const converter = new Converter(deps.store, deps.maxRateAgeDays ?? 7);
  const customers = new Map<string, Customer | null>();
  // Sized from the first batch's bytes per row: a table too small grows in steps that every
  // lookup then pays for; one too large is memory a 1 GB file cannot spare.
  let estimatedRows: number | undefined;
  const seen = new Map<Kind, FingerprintSet>();
  const seenOf = (k: Kind) => {
    let s = seen.get(k);
    if (!s) {
      s = new FingerprintSet(estimatedRows);
      seen.set(k, s);
    }
    return s;
  };
  const style = styleOf(req.profile);
  /** The file's orders, by order id (the first line of each), landed once the rows are read. */
  const orderLines = new Map<string, { order: UploadedOrder; out: BoundOutput }>();
  /** Invoices stored by this run that name their order (`order_id`). */
  const invoicesOfOrders: InvoiceOfOrder[] = [];
  /**
   * An order row: kept for landing after the rows. The same order id again is the same order
   * counted once when every field is the same, else a reject (the first one is kept).
   */
  const noteOrder = (out: BoundOutput, row: OrderRow, src: TableRow) => {
    const first = orderLines.get(row.orderId);
    if (!first) {
      orderLines.set(row.orderId, { order: { ...row, line: src.line }, out });
      return;
    }
    const { line: firstLine, ...kept } = first.order;
    if (sameJson(row, kept)) {
      warn(`line ${src.line}: order ${row.orderId} repeats line ${firstLine}; counted once`);
      return;
    }
    const what =
      kept.customerId !== row.customerId
        ? `customer (${kept.customerId})`
        : kept.amount !== row.amount || kept.currency !== row.currency
          ? `amount (${formatMoney(kept.amount, kept.currency)})`
          : kept.status !== row.status
            ? `status (${kept.status})`
            : 'fields';
    out.load(cellsOfRow(src));
    reject({
      line: src.line,
      column: out.sourceOf('order_id'),
      value: row.orderId,
      reason: `duplicate: line ${firstLine} has the same order_id with another ${what}; the first one was kept`,
    });
  };

  /**
   * Builds the stored record of a valid row and queues it for writing; returns the record when its
   * key was (very probably) seen before in this file, for `confirmDuplicate` to decide.
   */
  const place = (
    out: BoundOutput,
    row: RowOf[Kind],
    src: TableRow,
    customer: Customer | null | undefined,
  ): StoredRecord | undefined => {
    const line = src.line;
    if (out.kind === 'orders') {
      noteOrder(out, row as OrderRow, src);
      return undefined;
    }
    if (rejectUnknown && isReceivable(out.kind) && !isOnFile(customer)) {
      const id = (row as InvoiceRow | PaymentRow).customerId;
      unknown.note(id, line);
      reject({ line, column: out.sourceOf('customer_id'), value: id, reason: unknownReason(id) });
      return undefined;
    }
    const record = toRecord(out.kind, row, { runId, line }, customer, customers, converter);
    if ('reason' in record) {
      out.load(cellsOfRow(src));
      reject({
        line,
        column: out.sourceOf(record.column),
        value: out.get(record.column),
        reason: `${record.column} ${record.reason}`,
      });
      return undefined;
    }
    const [a, b] = SPECS[out.kind].key(row as never);
    if (seenOf(out.kind).add(a, b)) return record;
    accept(out, record);
    return undefined;
  };
  const accept = (out: BoundOutput, record: StoredRecord) => {
    const kind = out.kind;
    writer.add(record);
    accepted[kind] = (accepted[kind] ?? 0) + 1;
    if (kind === 'fx') return;
    const customerId = (record.row as { customerId: string }).customerId;
    touched.add(customerId);
    if (kind === 'invoices') {
      const inv = record.row as Invoice & { orderId?: string };
      if (inv.orderId !== undefined)
        invoicesOfOrders.push({
          customerId,
          invoiceId: inv.invoiceId,
          orderId: inv.orderId,
          line: record.from.line,
          amount: inv.amount,
          currency: inv.currency,
        });
    }
    if (isReceivable(kind) && !isOnFile(customers.get(customerId))) warnUnknown(out, record);
    const held = fresh?.get(customerId);
    if (held === undefined || (kind !== 'invoices' && kind !== 'payments')) return;
    if (++freshRows > (deps.freshRowsMax ?? FRESH_ROWS_MAX)) {
      fresh = undefined; // too many to hold: read them back like the others
      return;
    }
    const row = { ...(record.row as Invoice | Payment), from: record.from };
    if (kind === 'invoices') held.invoices.push(row);
    else held.payments.push(row);
  };
  /** A fingerprint hit is confirmed against what this run wrote, so a collision never rejects a row. */
  const confirmDuplicate = async (out: BoundOutput, record: StoredRecord, src: TableRow) => {
    await writer.drain();
    const prior = await deps.store.provenanceOf(record);
    const line = src.line;
    // A key this run stored at an earlier line is a duplicate; at this line or later, it was an
    // earlier attempt of this same run (same deterministic id) that stored this very row.
    if (prior && prior.runId === runId && prior.line < line) {
      out.load(cellsOfRow(src));
      const spec = SPECS[out.kind];
      const keyCol = spec.required[0] as string;
      reject({
        line,
        column: out.sourceOf(keyCol),
        value: out.get(keyCol),
        reason: `duplicate: line ${prior.line} has the same ${out.kind === 'fx' ? 'date, base and quote' : keyCol}; the first one was kept`,
      });
      return;
    }
    accept(out, record);
  };
  /** A row loaded for a customer not on file: counted, and listed in the warnings report. */
  const warnUnknown = (out: BoundOutput, record: StoredRecord) => {
    const r = record.row as Invoice | Payment;
    unknown.note(r.customerId, record.from.line);
    const what = 'invoiceId' in r ? `invoice ${r.invoiceId}` : `payment ${r.paymentId}`;
    req.warningsReport?.write(
      rejectLine({
        line: record.from.line,
        column: out.sourceOf('customer_id'),
        value: r.customerId,
        reason: `customer ${r.customerId} is not on file (no customer master data); ${what} was loaded`,
      }),
    );
  };
  const isJsonl = (f?: FileFormat) => f === 'jsonl';
  let checker: RowChecker | undefined;
  const cellsOfRow = (src: TableRow) => (checker as RowChecker).cells(src);
  // Rows whose customer (or exchange rate) is not loaded yet wait, in file order, for one fetch
  // after the batch; every other row is placed at once. Probable duplicates wait for confirmation.
  let deferred: { out: BoundOutput; row: RowOf[Kind]; src: TableRow }[] = [];
  const dups: { out: BoundOutput; record: StoredRecord; src: TableRow }[] = [];
  const visitor: RowVisitor = {
    valid(out, row, src) {
      const customer = customerOf(out.kind, row, customers);
      if (deferred.length > 0 || needsLookup(out.kind, row, customer, converter)) {
        deferred.push({ out, row, src });
        return;
      }
      const record = place(out, row, src, customer);
      if (record) dups.push({ out, record, src });
    },
    invalid(out, issues, src) {
      for (const i of issues)
        reject({
          line: src.line,
          column: out.sourceOf(i.column),
          value: i.value,
          reason: `${i.column} ${i.reason}`,
        });
    },
  };
  const confirmDuplicates = async () => {
    for (const d of dups.splice(0)) await confirmDuplicate(d.out, d.record, d.src);
  };

  try {
    const { detected, events } = await openTable(req.source, {
      fileName: req.fileName,
      format: req.profile.format,
      encoding: req.profile.encoding,
      delimiter: req.profile.delimiter,
      sheet: req.profile.sheet,
      sizeBytes: req.sizeBytes,
      onBytes: req.onProgress ? (bytes) => req.onProgress?.({ bytes, rows: rowsRead }) : undefined,
    });
    format = detected.format;
    encoding = detected.encoding;
    if (req.profile.outputs.length === 0)
      throw new UnreadableFileError(
        `profile ${req.profile.name} reads the canonical columns of any kind: upload the file under profile/${req.profile.name}/<kind>/ (or give --kind)`,
      );
    let binding: Binding | undefined;
    for await (const ev of events) {
      if (ev.type === 'columns') {
        binding = bindProfile(inReadOrder(req.profile), ev.columns, false, isJsonl(format));
        if (!deps.orders && binding.outputs.some((o) => o.kind === 'orders'))
          throw new UnreadableFileError(
            "this ingest is not wired to the credit checks' order book, so orders cannot be reserved",
          );
        checker = new RowChecker(binding, style, ev.delimiter ?? ',');
        continue;
      }
      if (ev.type === 'problem') {
        rowsRead++;
        reject({ line: ev.line, column: ev.column ?? '', value: ev.value ?? '', reason: ev.reason });
        continue;
      }
      if (!binding || !checker) throw new UnreadableFileError('the file has no header line');
      if (estimatedRows === undefined && req.sizeBytes && ev.rows.length > 0) {
        let chars = 0;
        for (const r of ev.rows)
          if (r.cells === undefined) chars += r.end - r.start + 1;
          else for (const c of r.cells) chars += c.length + 1;
        estimatedRows = Math.ceil((req.sizeBytes / (chars / ev.rows.length)) * 1.1);
      }
      deferred = [];
      for (const src of ev.rows) {
        rowsRead++;
        checker.check(src, visitor);
        if (dups.length > 0) await confirmDuplicates();
      }
      if (deferred.length > 0) {
        await lookup(deps.store, deferred, customers, converter, fresh);
        for (const d of deferred) {
          const record = place(d.out, d.row, d.src, customerOf(d.out.kind, d.row, customers));
          if (record) await confirmDuplicate(d.out, record, d.src);
        }
      }
      await writer.flush();
    }
    await writer.drain();
    if (binding && binding.ignoredColumns.length > 0)
      warn(
        `ignored column${binding.ignoredColumns.length > 1 ? 's' : ''}: ${binding.ignoredColumns.join(', ')}`,
      );
    if (rowsRead === 0) warn('the file has a header but no data rows');
  } catch (e) {
    if (!(e instanceof UnreadableFileError)) throw e;
    await writer.drain();
    status = 'unreadable';
    reason = e.message;
    reject({ line: 0, column: '', value: '', reason: `the whole file was rejected: ${e.message}` });
  }

  const customerIds = [...touched].sort();
  mark = { ...mark, phase: 'recompute' };
  await heart.beat();
  crashPoint('ingest.before-recompute');
  req.onRecompute?.(customerIds.length);
  /**
   * Recomputes every touched customer until one pass ran while no other run wrote rows: the
   * same epoch before and after, and no other live run in its `rows` phase at either end (a run
   * writes rows only after its mark is in and the epoch moved). A pass that overlapped one may
   * have read a customer before that run's rows and stored a stale summary; the next pass, once
   * the writers are done, stores the right one after it. Runs in their recompute phase do not
   * wait for each other, so two runs never wait for each other.
   */
  let recomputeWarnings: string[] = [];
  for (let waits = 0; ; ) {
    const before = await deps.store.ingestEpoch();
    if ((await othersLive()).some(writesRows)) {
      fresh = undefined;
      await sleep(WRITERS_POLL_MS[Math.min(waits++, WRITERS_POLL_MS.length - 1)] as number);
      continue;
    }
    // A run that started after this one may have written rows for the customers held as new.
    if (before !== myEpoch) fresh = undefined;
    recomputeWarnings = await recomputeAll(deps, customerIds, asOf, converter, runId, customers, fresh);
    if (!(await othersLive()).some(writesRows) && (await deps.store.ingestEpoch()) === before) break;
    fresh = undefined;
  }
  for (const w of recomputeWarnings) warn(w);
  // Orders land after the rows (a check's reservation and an upload's merge over the item's
  // version); invoices release the orders they name once they count in the summaries.
  if (orderLines.size > 0 && deps.orders) {
    const outOf = new Map([...orderLines.values()].map((x) => [x.order.line, x.out]));
    const r = await landOrders(
      deps.orders,
      [...orderLines.values()].map((x) => x.order),
      { asOf, now: deps.clock.now().toISOString(), runId, file: req.fileName },
    );
    for (const x of r.rejects) {
      const out = outOf.get(x.line);
      reject({ ...x, column: out ? out.sourceOf(x.column) : x.column, reason: x.reason });
    }
    accepted.orders = orderLines.size - r.rejects.length;
    const c = r.counts;
    warn(
      `orders: ${c.reserved} reserved, ${c.updated} updated, ${c.merged} merged with a check's reservation, ${c.unchanged} unchanged, ${c.closed} released (cancelled, closed or invoiced), ${c['not-reserved']} not open and not reserved${c.stale ? `, ${c.stale} open but lately invoiced, cancelled or closed (stale: not reserved again)` : ''}`,
    );
    for (const w of r.warnings) warn(w);
  }
  if (invoicesOfOrders.length > 0) {
    if (deps.orders) {
      const { released, reduced } = await releaseInvoicedOrders(deps.orders, invoicesOfOrders, {
        now: deps.clock.now().toISOString(),
        runId,
        file: req.fileName,
        asOf,
      });
      if (released > 0)
        warn(
          `${released} order reservation${released > 1 ? 's' : ''} released by ${released > 1 ? 'their invoices' : 'its invoice'} (order_id)`,
        );
      if (reduced > 0)
        warn(
          `${reduced} order reservation${reduced > 1 ? 's' : ''} reduced by an invoice for part of the order (order_id): the rest stays reserved`,
        );
    } else
      warn(
        `${invoicesOfOrders.length} invoices name an order (order_id), but this ingest is not wired to the credit checks' order book: no reservation was released`,
      );
  }
  for (let i = 0; i < customerIds.length; i += IDS_PER_MESSAGE) {
    await deps.notifier.customersChanged({
      type: 'customers.changed',
      runId,
      asOf,
      customerIds: customerIds.slice(i, i + IDS_PER_MESSAGE),
    });
  }
  const rejectsFile = await req.rejects.close();
  const warningsFile = await req.warningsReport?.close();
  const unknownCustomers = unknown.summary(
    rejectUnknown ? 'rejected' : 'loaded',
    rejectUnknown ? rejectsFile : warningsFile,
  );
  // First in the list, and outside its cap: a handful of lines however many customers or rows.
  if (unknownCustomers) warnings.unshift(...unknownCustomerWarnings(unknownCustomers));
  const run: IngestRun = {
    runId,
    file: req.fileName,
    objectRef: req.objectRef,
    kinds,
    profile: req.profile.name,
    status,
    reason,
    format,
    encoding,
    rowsRead,
    accepted,
    acceptedTotal: Object.values(accepted).reduce((a, b) => a + b, 0),
    rejected: rejectedCount,
    warnings,
    rejectsFile,
    warningsFile,
    unknownCustomers,
    customersChanged: customerIds.length,
    asOf,
    startedAt: startedAt.toISOString(),
    finishedAt: deps.clock.now().toISOString(),
  };
  crashPoint('ingest.before-run-record');
  await deps.store.putRun(run, rejects);
  await heart.stop();
  await deps.store.closeRun(mark, dead);
  return run;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const writesRows = (m: OpenRun) => (m.phase ?? 'rows') === 'rows';

/** A mark silent for longer than `silenceMs`, or whose process this one knows is gone. */
function isDead(m: OpenRun, now: number, silenceMs: number, owner: RunOwner | undefined): boolean {
  if (m.owner && owner?.alive(m.owner) === false) return true;
  return now - Date.parse(m.beatAt ?? m.startedAt) > silenceMs;
}

/**
 * Shows a run's sign of life on its mark every `everyMs` while it runs. One write at a time, and
 * none after `stop`, so a late beat never brings back the mark of a run that has finished.
 */
class Heartbeat {
  private last: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private stopped = false;
  constructor(
    private readonly store: IngestStore,
    private readonly mark: () => OpenRun,
    private readonly clock: Clock,
    everyMs: number,
  ) {
    this.timer = setInterval(() => void this.beat().catch(() => undefined), everyMs);
    this.timer.unref();
  }
  beat(): Promise<void> {
    if (this.stopped) return this.last;
    const next = this.last
      .catch(() => undefined)
      .then(() =>
        this.stopped
          ? undefined
          : this.store.beatRun({ ...this.mark(), beatAt: this.clock.now().toISOString() }),
      );
    this.last = next;
    return next;
  }
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.last.catch(() => undefined);
  }
}

/**
 * One recompute pass over the touched customers: in groups, the group's Queries in parallel,
 * then its derived items 25 to a request. Returns the pass's warnings.
 */
async function recomputeAll(
  deps: IngestDeps,
  customerIds: readonly string[],
  asOf: IsoDate,
  converter: Converter,
  runId: string,
  customers: Map<string, Customer | null>,
  fresh: Map<string, { invoices: Convertible[]; payments: Convertible[] }> | undefined,
): Promise<string[]> {
  const warnings: string[] = [];
  for (let g = 0; g < customerIds.length; g += RECOMPUTE_GROUP) {
    const group = customerIds.slice(g, g + RECOMPUTE_GROUP);
    const derived: DerivedChanges[] = [];
    await mapLimit(group, deps.concurrency ?? 8, async (id) => {
      const rows = fresh?.get(id);
      const held: CustomerBooksRecord | undefined = rows && {
        customer: customers.get(id) ?? undefined,
        invoices: rows.invoices as (Invoice & { from?: Provenance })[],
        payments: rows.payments as (Payment & { from?: Provenance })[],
        applications: new Map(),
      };
      const {
        notes,
        warnings: converted,
        derived: d,
      } = await recomputeCustomer(deps.store, id, asOf, converter, held);
      derived.push(d);
      for (const w of converted) warnings.push(`customer ${id}: ${w}`);
      for (const n of notes) {
        if (n.runId !== runId || n.code !== 'UNKNOWN_INVOICE') continue;
        warnings.push(
          `line ${n.line}: payment ${n.paymentId} of customer ${id} names invoice ${n.invoiceId}, which is not on file; its amount is kept as unapplied cash`,
        );
      }
    });
    await deps.store.saveDerived(derived);
  }
  return warnings;
}

const isReceivable = (kind: Kind): kind is 'invoices' | 'payments' =>
  kind === 'invoices' || kind === 'payments';

function unknownReason(customerId: string): string {
  return `customer_id is not on file (no customer master data for ${customerId}); the profile rejects such rows ("unknownCustomers": "reject"): upload the customer first, or correct the id`;
}

/**
 * A row's outputs with customers first: a file that yields a customer and its invoice from one
 * row has the customer on file by the time the invoice is placed.
 */
function inReadOrder(p: Profile): Profile {
  const first = p.outputs.filter((o) => o.kind === 'customers');
  return first.length === 0
    ? p
    : { ...p, outputs: [...first, ...p.outputs.filter((o) => o.kind !== 'customers')] };
}

/** The cached master data of an invoice's or payment's customer (undefined: not looked up yet). */
function customerOf(
  kind: Kind,
  row: RowOf[Kind],
  customers: Map<string, Customer | null>,
): Customer | null | undefined {
  return kind === 'invoices' || kind === 'payments' ? customers.get((row as InvoiceRow).customerId) : null;
}

/** Whether a row needs its customer's master data, or an exchange rate, that is not loaded yet. */
function needsLookup(
  kind: Kind,
  row: RowOf[Kind],
  c: Customer | null | undefined,
  converter: Converter,
): boolean {
  if (kind !== 'invoices' && kind !== 'payments') return false;
  if (c === undefined) return true;
  const ccy = (row as InvoiceRow | PaymentRow).currency;
  return c !== null && c.currency !== undefined && c.currency !== ccy && !converter.has(ccy, c.currency);
}

/**
 * Loads the customers and exchange rates deferred rows wait for (BatchGets, one Query a pair),
 * and notes in `fresh` the customers that have no books on file yet.
 */
async function lookup(
  store: IngestStore,
  rows: readonly { row: unknown }[],
  customers: Map<string, Customer | null>,
  converter: Converter,
  fresh: Map<string, { invoices: Convertible[]; payments: Convertible[] }> | undefined,
): Promise<void> {
  const wanted = new Set<string>();
  for (const { row } of rows) {
    const id = (row as { customerId?: string }).customerId;
    if (id !== undefined && !customers.has(id)) wanted.add(id);
  }
  if (wanted.size > 0) {
    const ids = [...wanted];
    const [found, withBooks] = await Promise.all([
      store.getCustomers(ids),
      fresh ? store.customersWithBooks(ids) : undefined,
    ]);
    for (const id of ids) {
      customers.set(id, found.get(id) ?? null);
      if (fresh && !withBooks?.has(id)) fresh.set(id, { invoices: [], payments: [] });
    }
  }
  const pairs = new Map<string, [string, string]>();
  for (const { row } of rows) {
    const r = row as { customerId?: string; currency?: string };
    const target = r.customerId === undefined ? undefined : customers.get(r.customerId)?.currency;
    if (target && r.currency && r.currency !== target)
      pairs.set(`${r.currency}/${target}`, [r.currency, target]);
  }
  if (pairs.size > 0) await converter.ensure(pairs.values());
}

type Rejected = { column: string; reason: string };

function toRecord(
  kind: Kind,
  row: unknown,
  from: { runId: string; line: number },
  customer: Customer | null | undefined,
  customers: Map<string, Customer | null>,
  converter: Converter,
): StoredRecord | Rejected {
  switch (kind) {
    case 'invoices':
    case 'payments': {
      const r = row as InvoiceRow | PaymentRow;
      const target = customer?.currency;
      let amount = r.amount;
      let currency = r.currency;
      let original: Original | undefined;
      if (target && target !== r.currency && minorDigits(target) !== undefined) {
        const date = kind === 'invoices' ? (r as InvoiceRow).issueDate : (r as PaymentRow).receivedDate;
        const c = converter.convert(r.amount, r.currency, target, date);
        if ('reason' in c) return { column: 'currency', reason: c.reason };
        amount = c.amount;
        currency = target;
        original = c.original;
      }
      if (kind === 'invoices') {
        const inv: Invoice = original
          ? { ...(r as InvoiceRow), amount, currency, original }
          : (r as InvoiceRow);
        return { kind, row: inv, from };
      }
      const pay: Payment = original
        ? { ...(r as PaymentRow), amount, currency, original }
        : (r as PaymentRow);
      return { kind, row: pay, from };
    }
    case 'customers':
      // A customer file updates the cache too, so later rows of a multi-output file see it.
      customers.set((row as Customer).customerId, row as Customer);
      return { kind, row: row as Customer, from };
    case 'financials':
      return { kind, row: row as StoredRecord['row'] & { periodEnd: string }, from } as StoredRecord;
    case 'fx':
      return { kind, row: row as FxRate, from };
    case 'guarantees':
    case 'insurance':
    case 'scores':
      return { kind, row, from } as StoredRecord;
    case 'orders':
      // Orders are not stored rows: they land in the customer's ORDERS item (noteOrder).
      throw new Error('an order row has no stored record');
  }
}
