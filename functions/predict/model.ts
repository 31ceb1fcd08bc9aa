import { addDays, daysBetween, type IsoDate } from '../core/dates.ts';
import type { Receivables } from '../core/receivables.ts';
import type { Invoice } from '../core/records.ts';

/**
 * When will an open invoice be paid? (issue 19 items 1, 5.) A model a credit controller can read:
 * take the customer's own settled invoices, as known on the date (`knownAsOf`), that stayed open
 * longer than this one already has ("comparable"); add the segment's (every customer's) comparable
 * invoices, counted together as `segmentWeight` more invoices of the customer's; the weighted
 * median of their days relative to due is the expected date, their weighted 10% and 90% quantiles
 * the 80% interval (P10-P90). Each settlement can be weighted by how recent it is (an exponential
 * half-life; the IBM protocol chose none, see DEFAULT_PARAMS). A customer with no comparable
 * invoice gets the segment's alone; with no segment either, the due date (or tomorrow, once due).
 * Nothing is ever expected before the next day.
 *
 * Days are counted relative to the due date (settled - due), so history on 30-day terms still
 * speaks for an invoice on 60-day terms, and "stayed open longer than this one" reads: settled
 * more than `asOf - due` days after its own due date. When the books say how each invoice was sent
 * (`channel`), an invoice sent the other way is moved by the segment's measured difference between
 * the two ways (`segmentAsOf`), before the comparison.
 */

/**
 * One invoice as the books show it (its `amount` what is still open, for an open one); its
 * `channel`, how it was sent, is known on the issue date, and invoices sent the same way are
 * compared first; `settledDate` when it has been settled in full.
 */
export interface InvoiceRecord
  extends Pick<
    Invoice,
    'customerId' | 'invoiceId' | 'issueDate' | 'dueDate' | 'amount' | 'currency' | 'channel'
  > {
  readonly settledDate?: IsoDate | undefined;
}

/**
 * A customer's receivables as of a date (functions/core/receivables.ts) as the model's records:
 * each invoice's open amount, and its settlement date when it was settled by then.
 */
export function invoiceRecordsOf(
  rec: Pick<Receivables, 'invoices' | 'open' | 'settledDate'>,
  customerId?: string,
): InvoiceRecord[] {
  return rec.invoices.map((inv, i) => ({
    customerId: customerId ?? inv.customerId,
    invoiceId: inv.invoiceId,
    issueDate: inv.issueDate,
    dueDate: inv.dueDate,
    amount: rec.open[i] as number,
    currency: inv.currency,
    settledDate: rec.settledDate[i],
    ...(inv.channel === undefined ? {} : { channel: inv.channel }),
  }));
}

/**
 * The invoices as known on `asOf`: those issued by then, each with its settlement date only if it
 * was settled by then. The one place the future is cut off: every prediction reads its history
 * through this.
 */
export function knownAsOf(invoices: readonly InvoiceRecord[], asOf: IsoDate): InvoiceRecord[] {
  const out: InvoiceRecord[] = [];
  for (const inv of invoices) {
    if (inv.issueDate > asOf) continue;
    if (inv.settledDate === undefined || inv.settledDate <= asOf) out.push(inv);
    else out.push({ ...inv, settledDate: undefined });
  }
  return out;
}

/** Open on `asOf`: issued by then and not settled by then (settled after it, or not at all). */
export function isOpenOn(inv: InvoiceRecord, asOf: IsoDate): boolean {
  return inv.issueDate <= asOf && (inv.settledDate === undefined || inv.settledDate > asOf);
}

export interface ModelParams {
  /** Days after which a settlement counts half as much as one settled on the date (Infinity: all alike). */
  readonly halfLifeDays: number;
  /** Fewer of the customer's comparable settled invoices than this and the segment's are used. */
  readonly minHistory: number;
  /** The interval's weighted quantiles: 0.1 and 0.9 for P10-P90. */
  readonly low: number;
  readonly high: number;
  /**
   * The interval is read from the customer's comparable invoices together with the segment's,
   * these counting as this many invoices in all: a customer's dozen invoices alone show far less
   * of the spread than its next ones will have.
   */
  readonly segmentWeight: number;
}

/**
 * Chosen on the first 7 month ends of the IBM protocol only (2012-03-31 .. 2012-09-30; the bench
 * reports those and the 14 after them apart), by mean absolute error, then coverage nearest 80%:
 * no recency weighting (every half-life tried, 15 to 365 days, did worse there); the segment only
 * when the customer has no comparable settled invoice; the segment's comparable invoices counted
 * as 2 more of the customer's (0 to 20 tried: 2 gave the lowest error, 5.77 days, and 80.3% of
 * actual dates inside P10-P90; without them the interval covered 58%).
 */
export const DEFAULT_PARAMS: ModelParams = {
  halfLifeDays: Number.POSITIVE_INFINITY,
  minHistory: 1,
  low: 0.1,
  high: 0.9,
  segmentWeight: 2,
};

export type Basis = 'customer' | 'segment' | 'terms';

/** A prediction of the model, for one open invoice. */
export interface Prediction {
  readonly invoiceId: string;
  readonly expected: IsoDate;
  readonly p10: IsoDate;
  readonly p90: IsoDate;
  readonly basis: Basis;
  /** Settled invoices the estimate rests on (0 for terms). */
  readonly settledCount: number;
  readonly reason: string;
}

/**
 * Everyone's invoices as known on a date, and what the segment says about billing channels: how
 * many days later (or sooner, negative) than its customer's usual an invoice sent that way was
 * settled, on average over every settled invoice known. Made once per date.
 */
export interface Segment {
  readonly asOf: IsoDate;
  readonly invoices: readonly InvoiceRecord[];
  readonly channelShift: Readonly<Record<string, number>>;
}

export function segmentAsOf(invoices: readonly InvoiceRecord[], asOf: IsoDate): Segment {
  const known = knownAsOf(invoices, asOf);
  const offsets = new Map<string, number[]>();
  for (const inv of known)
    if (inv.settledDate !== undefined) {
      const list = offsets.get(inv.customerId) ?? [];
      list.push(daysBetween(inv.dueDate, inv.settledDate));
      offsets.set(inv.customerId, list);
    }
  const usual = new Map<string, number>();
  for (const [c, list] of offsets) usual.set(c, plainMedian(list));
  const sum: Record<string, number> = {};
  const count: Record<string, number> = {};
  for (const inv of known)
    if (inv.settledDate !== undefined && inv.channel !== undefined) {
      const d = daysBetween(inv.dueDate, inv.settledDate) - (usual.get(inv.customerId) ?? 0);
      sum[inv.channel] = (sum[inv.channel] ?? 0) + d;
      count[inv.channel] = (count[inv.channel] ?? 0) + 1;
    }
  const channelShift: Record<string, number> = {};
  for (const ch of Object.keys(sum)) channelShift[ch] = (sum[ch] as number) / (count[ch] as number);
  return { asOf, invoices: known, channelShift };
}

function plainMedian(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

interface Observation {
  /** settled - due, days, moved to this invoice's channel */
  readonly offset: number;
  readonly weight: number;
  readonly late: boolean;
}

function observations(
  invoice: Pick<InvoiceRecord, 'channel'>,
  history: readonly InvoiceRecord[],
  asOf: IsoDate,
  pastDue: number,
  halfLifeDays: number,
  shift: Readonly<Record<string, number>>,
): Observation[] {
  const out: Observation[] = [];
  const to = invoice.channel === undefined ? 0 : (shift[invoice.channel] ?? 0);
  for (const h of history) {
    const settled = h.settledDate;
    // Only what was known on the date, whatever the caller passed.
    if (settled === undefined || settled > asOf || h.issueDate > asOf) continue;
    const raw = daysBetween(h.dueDate, settled);
    const from = h.channel === undefined || invoice.channel === undefined ? to : (shift[h.channel] ?? 0);
    const offset = raw + to - from;
    if (offset <= pastDue) continue; // paid before reaching the age this invoice already has
    const weight = Number.isFinite(halfLifeDays) ? 0.5 ** (daysBetween(settled, asOf) / halfLifeDays) : 1;
    out.push({ offset, weight, late: raw > 0 });
  }
  return out;
}

/** The smallest offset whose cumulative weight reaches `q` of the total. */
export function weightedQuantile(obs: readonly { offset: number; weight: number }[], q: number): number {
  const sorted = [...obs].sort((a, b) => a.offset - b.offset);
  const total = sorted.reduce((s, o) => s + o.weight, 0);
  let cum = 0;
  for (const o of sorted) {
    cum += o.weight;
    if (cum >= q * total - 1e-9) return o.offset;
  }
  return sorted[sorted.length - 1]?.offset ?? 0;
}

/** The customer's observations, then the segment's scaled to weigh `total` customer invoices in all. */
function withSegment(own: readonly Observation[], seg: readonly Observation[], total: number): Observation[] {
  const segWeight = seg.reduce((s, o) => s + o.weight, 0);
  if (segWeight === 0) return [...own];
  const ownWeight = own.reduce((s, o) => s + o.weight, 0) / own.length;
  const k = (total * ownWeight) / segWeight;
  return [...own, ...seg.map((o) => ({ ...o, weight: o.weight * k }))];
}

/** The settled invoices a prediction rests on: how many, how many late, and their quantiles. */
interface Pool {
  /** The customer's (or, on the segment's basis, the segment's) comparable settled invoices. */
  readonly count: number;
  readonly late: number;
  /** The segment's comparable invoices pooled in beside the customer's (0: none). */
  readonly segmentCount: number;
  quantile(q: number): number;
}

/**
 * The segment's settled invoices as seen from one billing channel (each moved as `observations`
 * moves it), sorted by their offset from due, with how many from each position on were late: the
 * comparable ones for an invoice `pastDue` days past due are the suffix after `pastDue`. Built once
 * per segment and channel, so a book's predictions read the segment in O(log n) each instead of
 * all of it (measured: 1,000 customers of 20 invoices took 44 s that way).
 */
interface SegmentIndex {
  readonly offsets: Float64Array;
  readonly lateFrom: Int32Array;
}

const SEGMENT_INDEXES = new WeakMap<Segment, Map<string, SegmentIndex>>();

function segmentIndex(segment: Segment, channel: string | undefined): SegmentIndex {
  let byChannel = SEGMENT_INDEXES.get(segment);
  if (!byChannel) {
    byChannel = new Map();
    SEGMENT_INDEXES.set(segment, byChannel);
  }
  const key = channel === undefined ? '' : `=${channel}`;
  const kept = byChannel.get(key);
  if (kept) return kept;
  const shift = segment.channelShift;
  const to = channel === undefined ? 0 : (shift[channel] ?? 0);
  const rows: { offset: number; late: boolean }[] = [];
  for (const h of segment.invoices) {
    const settled = h.settledDate;
    if (settled === undefined || settled > segment.asOf || h.issueDate > segment.asOf) continue;
    const raw = daysBetween(h.dueDate, settled);
    const from = h.channel === undefined || channel === undefined ? to : (shift[h.channel] ?? 0);
    rows.push({ offset: raw + to - from, late: raw > 0 });
  }
  rows.sort((a, b) => a.offset - b.offset);
  const offsets = Float64Array.from(rows, (r) => r.offset);
  const lateFrom = new Int32Array(rows.length + 1);
  for (let i = rows.length - 1; i >= 0; i--)
    lateFrom[i] = (lateFrom[i + 1] as number) + ((rows[i] as { late: boolean }).late ? 1 : 0);
  const ix = { offsets, lateFrom };
  byChannel.set(key, ix);
  return ix;
}

/** The first position from `lo` whose offset is above `v` (sorted ascending). */
function firstAbove(a: Float64Array, v: number, lo = 0): number {
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if ((a[m] as number) <= v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/**
 * `weightedQuantile` over `own` together with the segment's offsets from position `from` on, each
 * weighing `k`: the smallest offset whose weight at or below it reaches `q` of the total, found by
 * binary search over the segment's part and a pass over the customer's.
 */
function quantileOf(
  own: readonly Observation[],
  ix: SegmentIndex,
  from: number,
  k: number,
  q: number,
): number {
  const seg = ix.offsets;
  const sorted = [...own].sort((a, b) => a.offset - b.offset);
  const total = sorted.reduce((t, o) => t + o.weight, 0) + k * (seg.length - from);
  const target = q * total - 1e-9;
  const weightUpTo = (v: number) => {
    let w = 0;
    for (const o of sorted) {
      if (o.offset > v) break;
      w += o.weight;
    }
    return w + k * (firstAbove(seg, v, from) - from);
  };
  let best = Number.POSITIVE_INFINITY;
  for (const o of sorted)
    if (weightUpTo(o.offset) >= target) {
      best = o.offset;
      break;
    }
  let lo = from;
  let hi = seg.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (weightUpTo(seg[m] as number) >= target) hi = m;
    else lo = m + 1;
  }
  if (lo < seg.length) best = Math.min(best, seg[lo] as number);
  if (best === Number.POSITIVE_INFINITY)
    best = Math.max(sorted[sorted.length - 1]?.offset ?? Number.NEGATIVE_INFINITY, seg[seg.length - 1] ?? 0);
  return best;
}

function lateCount(n: number): string {
  return n === 0 ? 'none of them late' : n === 1 ? '1 of them late' : `${n} of them late`;
}

/**
 * The expected settlement date of `invoice`, open on `asOf`, from `history` (the customer's
 * invoices; only what was known on the date is read) and the segment (`segmentAsOf`).
 */
export function predictSettlement(
  invoice: Pick<InvoiceRecord, 'invoiceId' | 'issueDate' | 'dueDate' | 'channel'>,
  asOf: IsoDate,
  history: readonly InvoiceRecord[],
  segment?: Segment,
  params: ModelParams = DEFAULT_PARAMS,
): Prediction {
  const tomorrow = addDays(asOf, 1);
  const pastDue = daysBetween(invoice.dueDate, asOf);
  const atLeast = (d: IsoDate) => (d < tomorrow ? tomorrow : d);
  const shift = segment?.channelShift ?? {};
  const open = pastDue > 0 ? `${pastDue} days past due` : pastDue === 0 ? 'due today' : 'not yet due';
  const comparable = pastDue >= 0 ? ' paid after this many days past due' : '';

  const own = observations(invoice, history, asOf, pastDue, params.halfLifeDays, shift);
  const basis: Basis = own.length < params.minHistory ? 'segment' : 'customer';
  // The segment's comparable invoices: by its index (sorted once per date and channel) when every
  // settlement weighs the same, else one by one (a half-life weighs each by its age).
  const indexed = segment !== undefined && segment.asOf === asOf && !Number.isFinite(params.halfLifeDays);
  let pool: Pool;
  if (indexed) {
    const ix = segmentIndex(segment, invoice.channel);
    const from = firstAbove(ix.offsets, pastDue);
    const segN = ix.offsets.length - from;
    const late = ix.lateFrom[from] as number;
    if (basis === 'segment')
      pool = { count: segN, late, segmentCount: 0, quantile: (q) => quantileOf([], ix, from, 1, q) };
    else {
      const pooling = params.segmentWeight > 0 && segN > 0;
      const k = pooling
        ? (params.segmentWeight * own.reduce((t, o) => t + o.weight, 0)) / own.length / segN
        : 0;
      pool = {
        count: own.length,
        late: own.filter((o) => o.late).length,
        segmentCount: pooling ? segN : 0,
        quantile: (q) => (pooling ? quantileOf(own, ix, from, k, q) : weightedQuantile(own, q)),
      };
    }
  } else {
    const obs =
      basis === 'segment'
        ? observations(invoice, segment?.invoices ?? [], asOf, pastDue, params.halfLifeDays, shift)
        : own;
    // The customer's comparable invoices, with the segment's counted as `segmentWeight` more.
    const pooled =
      basis === 'customer' && params.segmentWeight > 0
        ? withSegment(
            obs,
            observations(invoice, segment?.invoices ?? [], asOf, pastDue, params.halfLifeDays, shift),
            params.segmentWeight,
          )
        : obs;
    pool = {
      count: obs.length,
      late: obs.filter((o) => o.late).length,
      segmentCount: pooled.length - obs.length,
      quantile: (q) => weightedQuantile(pooled, q),
    };
  }
  if (pool.count === 0) {
    const expected = atLeast(invoice.dueDate);
    return {
      invoiceId: invoice.invoiceId,
      expected,
      p10: expected,
      p90: expected,
      basis: 'terms',
      settledCount: 0,
      reason: `${expected === invoice.dueDate ? 'the due date' : 'tomorrow, the due date having passed'}: no settled invoice of the customer or the segment to go by (${open})`,
    };
  }
  const segmentCount = pool.segmentCount;
  const median = pool.quantile(0.5);
  const at = (offset: number) => atLeast(addDays(invoice.dueDate, Math.round(offset)));
  const expected = at(median);
  const p10 = at(Math.min(median, pool.quantile(params.low)));
  const p90 = at(Math.max(median, pool.quantile(params.high)));
  const whose = basis === 'customer' ? '' : "the segment's ";
  const channel =
    invoice.channel !== undefined && (shift[invoice.channel] ?? 0) !== 0
      ? `, moved to ${invoice.channel} billing (${signed(shift[invoice.channel] ?? 0)} days against the customer's usual, segment-wide)`
      : '';
  const pooling =
    segmentCount > 0 ? `, with the segment's ${segmentCount} counted as ${params.segmentWeight} more` : '';
  const weighting = Number.isFinite(params.halfLifeDays)
    ? `, settlements weighted by a ${params.halfLifeDays}-day half-life`
    : '';
  return {
    invoiceId: invoice.invoiceId,
    expected,
    p10,
    p90,
    basis,
    settledCount: pool.count,
    reason:
      `median of ${whose}${pool.count} settled invoice${pool.count === 1 ? '' : 's'}${comparable}, ${lateCount(pool.late)}${pooling}: ${days(median)}${channel}${weighting}` +
      (basis === 'segment' ? ` (the customer has ${own.length}; ${open})` : ` (${open})`),
  };
}

function signed(n: number): string {
  const r = Math.round(n * 10) / 10;
  return r > 0 ? `+${r}` : String(r);
}

function days(offset0: number): string {
  const offset = Math.round(offset0);
  if (offset === 0) return 'paid on the due date';
  const n = Math.abs(offset);
  return `paid ${n} day${n === 1 ? '' : 's'} ${offset > 0 ? 'after' : 'before'} the due date`;
}
