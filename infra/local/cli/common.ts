import { parseArgs } from 'node:util';
import stringWidth from 'string-width';
import { dateInZone, parseDate } from '../../../functions/core/dates.ts';
import { moneyAsDecimals } from '../../../functions/core/money-json.ts';
import { grouped, type Page, rangeText } from '../../../functions/core/paging.ts';
import { type LocalEnv, openLocal } from '../runtime/index.ts';

/** Bad usage: exit code 2, one line, and the help topic that shows the right usage. */
export class UsageError extends Error {}

/** A failure the user must act on (a missing file, an unknown customer): exit 1 with the message. */
export class CliFailure extends Error {}

/**
 * What every `--json` prints: amounts as the API writes them (README "Money in the API"), plain
 * decimal strings in major units beside their currency ("1200000.00"), never minor units;
 * `currency` for amounts with none around them.
 */
export function jsonText(value: unknown, currency?: string): string {
  return JSON.stringify(moneyAsDecimals(value, currency), null, 2);
}

export const timeZone = () => process.env.SENTINEL_TIME_ZONE ?? 'UTC';
export const today = () => dateInZone(new Date(), timeZone());

/** A date option (YYYY-MM-DD), today in the team's time zone when absent. */
export function dateOption(name: string, v: string | undefined, fallback = today()): string {
  if (v === undefined) return fallback;
  const d = parseDate(v);
  if (!d.ok) throw new UsageError(`--${name} ${v} ${d.reason}; use YYYY-MM-DD`);
  return d.value;
}

export function asOfOption(v: string | undefined): string {
  return dateOption('as-of', v);
}

/**
 * Columns padded to the widths a terminal shows (a Chinese name takes two columns a character,
 * `string-width`), so a table with 深圳恒达物流 in it stays aligned.
 */
export function table(headers: string[], rows: string[][], rightAligned: Set<number>): string {
  // A loop, not Math.max(...rows): spreading 100,000 rows as arguments overflows the stack.
  const widths = headers.map((h) => stringWidth(h));
  for (const r of rows)
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i] ?? 0, stringWidth(r[i] ?? ''));
  const pad = (c: string, i: number) => ' '.repeat(Math.max(0, (widths[i] ?? 0) - stringWidth(c)));
  // No padding after the last column: a line ends where its text does.
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (rightAligned.has(i) ? pad(c, i) + c : c + pad(c, i)))
      .join('  ')
      .trimEnd();
  return [fmt(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

/** `--limit N`: a whole number of at least 1, or undefined; refused beside `--json`, which prints everything. */
export function limitOption(v: string | undefined, json = false): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--limit ${v}: a whole number of at least 1`);
  if (json) throw new UsageError('--json prints every item; --limit shortens the table only');
  return Number(v);
}

/** What a command prints: the first `limit` items with the whole list counted, or every item. */
export async function pageOrAll<T>(
  limit: number | undefined,
  page: (size: number) => Promise<Page<T>>,
  all: () => Promise<T[]>,
): Promise<Pick<Page<T>, 'items' | 'from' | 'total'>> {
  if (limit !== undefined) return page(limit);
  const items = await all();
  return { items, from: 1, total: items.length };
}

/** "1 ingest run" / "3 ingest runs": a count and its noun. */
export const plural =
  (one: string, many = `${one}s`) =>
  (n: number) =>
    n === 1 ? one : many;

/** "3 ingest runs, newest first", or "showing 1-50 of 812 ingest runs, newest first (...)". */
export function shownText(
  p: Pick<Page<unknown>, 'items' | 'from' | 'total'>,
  noun: (n: number) => string,
  order: string,
): string {
  return p.items.length < p.total
    ? `showing ${rangeText({ ...p, shown: p.items.length })} ${noun(p.total)}, ${order} (without --limit every one is printed)`
    : `${grouped(p.total)} ${noun(p.total)}, ${order}`;
}

export async function withStore<T>(
  dataDir: string | undefined,
  fn: (env: LocalEnv) => Promise<T>,
): Promise<T> {
  const env = await openLocal({ dataDir });
  try {
    return await fn(env);
  } finally {
    await env.close();
  }
}

/** A file system error in words a user reads ("no such file"), never an errno alone. */
export function fileProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    default:
      return e instanceof SyntaxError ? `not valid JSON (${e.message})` : (e as Error).message;
  }
}

/** A command's subcommand and the rest: `policy --json` has none (an option is never a subcommand). */
export function splitSub(args: readonly string[]): [string | undefined, string[]] {
  const [first, ...rest] = args;
  return first === undefined || first.startsWith('-') ? [undefined, [...args]] : [first, rest];
}

/**
 * The options of a replay over history (`backtest`, `collections backtest`): `--from D --to D`
 * (both required, in order), `--policy FILE`, `--json`, `--data-dir`.
 */
export function replayOptions(
  args: string[],
  command: string,
): { from: string; to: string; policy?: string | undefined; json: boolean; dataDir?: string | undefined } {
  const { values } = parseArgs({
    args,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      policy: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (!values.from || !values.to)
    throw new UsageError(`${command} needs --from YYYY-MM-DD and --to YYYY-MM-DD`);
  const from = dateOption('from', values.from);
  const to = dateOption('to', values.to);
  if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`);
  return { from, to, policy: values.policy, json: values.json ?? false, dataDir: values['data-dir'] };
}
