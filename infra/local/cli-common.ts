import { dateInZone, parseDate } from '../../functions/core/dates.ts';
import { type LocalEnv, openLocal } from './runtime.ts';

/** Bad usage: exit code 2 and the usage text. */
export class UsageError extends Error {}

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

export function table(headers: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  return [fmt(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
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
