import type { UnknownCustomersSummary } from './ports.ts';

/** Customers named one by one in a run's warnings; the others are counted in one line. */
const LISTED = 20;
/** Line ranges shown per customer; the rest of its lines are counted. */
const RANGES = 10;

interface Tally {
  rows: number;
  /** The last line noted (a line yielding an invoice and a payment counts once). */
  last: number;
  /** The first line ranges, flat: from, to, from, to, ... */
  ranges: number[];
}

/**
 * The rows of customers with no master data on file, per customer, in bounded memory: a count and
 * the first line ranges of each. Every row is in a report (the warnings report when the rows are
 * loaded, the rejects report when the profile rejects them), so nothing a person reads is cut
 * without saying how much and where the rest is.
 */
export class UnknownCustomers {
  private readonly byId = new Map<string, Tally>();
  private rows = 0;

  /** Notes a row of `customerId` on `line`; lines come in file order. */
  note(customerId: string, line: number): void {
    let t = this.byId.get(customerId);
    if (t === undefined) {
      t = { rows: 0, last: -1, ranges: [] };
      this.byId.set(customerId, t);
    }
    if (line === t.last) return;
    t.rows++;
    this.rows++;
    const n = t.ranges.length;
    if (n > 0 && t.ranges[n - 1] === t.last && line === t.last + 1) t.ranges[n - 1] = line;
    else if (n < RANGES * 2) t.ranges.push(line, line);
    t.last = line;
  }

  /** What the run record keeps; undefined when every customer was on file. */
  summary(
    action: UnknownCustomersSummary['action'],
    report: string | undefined,
  ): UnknownCustomersSummary | undefined {
    if (this.byId.size === 0) return undefined;
    const listed: UnknownCustomersSummary['listed'][number][] = [];
    for (const [customerId, t] of this.byId) {
      if (listed.length >= LISTED) break;
      listed.push({ customerId, rows: t.rows, lines: linesText(t) });
    }
    return { action, customers: this.byId.size, rows: this.rows, listed, report };
  }
}

/** `2-10001`, or `2, 5, 9-12 and 40 more` when the ranges kept do not cover every line. */
function linesText(t: Tally): string {
  const parts: string[] = [];
  let shown = 0;
  for (let i = 0; i < t.ranges.length; i += 2) {
    const from = t.ranges[i] as number;
    const to = t.ranges[i + 1] as number;
    parts.push(from === to ? String(from) : `${from}-${to}`);
    shown += to - from + 1;
  }
  const more = t.rows - shown;
  return more > 0 ? `${parts.join(', ')} and ${count(more)} more` : parts.join(', ');
}

const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

/** The run's warnings about customers not on file: a summary, one line per listed customer, the rest counted. */
export function unknownCustomerWarnings(s: UnknownCustomersSummary): string[] {
  const where = s.report ?? (s.action === 'loaded' ? 'the warnings report' : 'the rejects report');
  const fate =
    s.action === 'loaded'
      ? `${plural(s.rows, 'row')} loaded for them; correct the ids or upload their customer master data`
      : `${plural(s.rows, 'row')} rejected, as the profile says "unknownCustomers": "reject"`;
  const out = [
    `${plural(s.customers, 'customer')} not on file (no customer master data): ${fate}. Every row is listed in ${where}`,
  ];
  for (const c of s.listed)
    out.push(
      `customer ${c.customerId} not on file: ${plural(c.rows, 'row')}, ${c.rows === 1 ? 'line' : 'lines'} ${c.lines}`,
    );
  const more = s.customers - s.listed.length;
  if (more > 0) {
    const rows = s.rows - s.listed.reduce((a, c) => a + c.rows, 0);
    out.push(`and ${plural(more, 'more customer')} not on file (${plural(rows, 'row')}), listed in ${where}`);
  }
  return out;
}
