import * as z from 'zod';
import { DATE_FORMATS } from '../core/dates.ts';
import { ConfigError, UnreadableFileError } from './errors.ts';
import { type Getter, isKind, KINDS, type Kind, type RowStyle, SPECS } from './kinds.ts';
import { clip } from './limits.ts';

const source = z.union([
  z.string().min(1).describe('a column of the file'),
  z.object({ value: z.string() }).strict().describe('a constant'),
  z.object({ template: z.string().regex(/\{[^}]+\}/, 'needs at least one {column}') }).strict(),
  z
    .object({
      column: z.string().min(1),
      /** The ERP's codes and what each means in the canonical column (matched trimmed, any case). */
      values: z
        .record(z.string(), z.string())
        .refine((v) => Object.keys(v).length > 0, 'needs at least one code'),
    })
    .strict()
    .describe('a column whose ERP codes are translated (a code not listed is read as it is)'),
]);

const output = z
  .object({
    kind: z.enum(KINDS),
    /** Only rows where this source column is not blank yield this kind. */
    when: z.string().min(1).optional(),
    columns: z.record(z.string(), source),
  })
  .strict();

/** A mapping profile: how to read one ERP's export unchanged. */
export const profileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and dashes'),
    description: z.string().optional(),
    format: z.enum(['csv', 'jsonl', 'xlsx']).optional(),
    /** `windows-1252`: Western European Excel "CSV" exports; a file that is valid UTF-8 is read as UTF-8. */
    encoding: z.enum(['auto', 'utf-8', 'gb18030', 'utf-16le', 'windows-1252']).default('auto'),
    delimiter: z.string().length(1).optional(),
    sheet: z.string().optional(),
    dateFormat: z.enum(DATE_FORMATS).default('YYYY-MM-DD'),
    decimal: z.enum(['.', ',']).default('.'),
    thousands: z.enum(['', ',', '.', ' ', "'", '\u00a0']).default(''),
    /** Source columns the profile knowingly leaves unused (no "ignored columns" warning). */
    ignore: z.array(z.string()).default([]),
    /**
     * Invoices and payments of a customer with no master data on file: loaded and listed in the
     * run's warnings (`warn`), or rejected row by row (`reject`).
     */
    unknownCustomers: z.enum(['warn', 'reject']).default('warn'),
    /**
     * What the file yields and from which columns. Omitted: the file has the canonical
     * columns of the kind its upload names (`profile/<name>/<kind>/...`, or `--kind`), read in this
     * profile's format; see `profileForKind`.
     */
    outputs: z.array(output).min(1).default([]),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const i of crossFieldIssues(p)) ctx.addIssue({ code: 'custom', ...i });
  });

type Issue = { path: (string | number)[]; message: string };

/**
 * Rules across fields (separators, column mappings per kind). Written against the raw input so
 * they are reported together with the field errors, not only once those are fixed.
 */
function crossFieldIssues(raw: unknown): Issue[] {
  const issues: Issue[] = [];
  if (typeof raw !== 'object' || raw === null) return issues;
  const p = raw as { decimal?: unknown; thousands?: unknown; outputs?: unknown };
  if ((p.decimal ?? '.') === (p.thousands ?? ''))
    issues.push({ path: ['thousands'], message: 'must differ from the decimal separator' });
  if (!Array.isArray(p.outputs)) return issues;
  p.outputs.forEach((o: unknown, i) => {
    const out = o as { kind?: unknown; columns?: unknown };
    if (typeof out?.kind !== 'string' || !isKind(out.kind)) return;
    if (typeof out.columns !== 'object' || out.columns === null) return;
    const spec = SPECS[out.kind];
    const known = new Set([...spec.required, ...spec.optional]);
    for (const c of Object.keys(out.columns))
      if (!known.has(c))
        issues.push({
          path: ['outputs', i, 'columns', c],
          message: `is not a ${out.kind} column (${[...known].join(', ')})`,
        });
    for (const c of spec.required)
      if (!(c in out.columns))
        issues.push({ path: ['outputs', i, 'columns', c], message: `is required for ${out.kind}` });
  });
  return issues;
}

export type Profile = z.output<typeof profileSchema>;

/** Validates a profile, naming the path of every bad field. */
export function parseProfile(input: unknown, origin = 'profile'): Profile {
  const r = profileSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  // zod skips the cross-field rules while fields are invalid; report them in the same pass.
  for (const i of crossFieldIssues(input)) {
    const line = `${i.path.join('.')}: ${i.message}`;
    if (!lines.includes(line)) lines.push(line);
  }
  throw new ConfigError(`${origin} is invalid:\n  ${lines.join('\n  ')}`);
}

/** The implicit profile of a canonical file of one kind: columns by their canonical names. */
export function canonicalProfile(kind: Kind): Profile {
  const spec = SPECS[kind];
  const columns: Record<string, string> = {};
  for (const c of [...spec.required, ...spec.optional]) columns[c] = c;
  return parseProfile({
    name: `canonical-${kind}`,
    thousands: ',',
    outputs: [{ kind, columns }],
  });
}

/** Whether a profile reads the canonical columns of any kind (it names no outputs of its own). */
export function isAnyKind(p: Profile): boolean {
  return p.outputs.length === 0;
}

/**
 * The profile an upload of `kind` is read with: a profile with outputs of its own as it is; a
 * profile for any kind with the canonical columns of `kind`. Undefined when the kind is needed
 * and not given.
 */
export function profileForKind(p: Profile, kind: Kind | undefined): Profile | undefined {
  if (!isAnyKind(p)) return p;
  if (kind === undefined) return undefined;
  return { ...p, outputs: canonicalProfile(kind).outputs };
}

export function styleOf(p: Profile): RowStyle {
  return { dateFormat: p.dateFormat, decimal: p.decimal, thousands: p.thousands };
}

/** One output of a profile bound to a file's header: a getter over the current row. */
export interface BoundOutput {
  readonly kind: Kind;
  /** Source column (as the file names it) for each canonical column, for rejects reports. */
  readonly sourceOf: (canonical: string) => string;
  /**
   * Points the getter at a row (and the numbers its cells hold, when the reader has them);
   * returns false when the row does not yield this kind.
   */
  readonly load: (cells: string[], numbers?: readonly (number | undefined)[]) => boolean;
  readonly get: Getter;
  /**
   * The source field of every canonical column of the kind (-1: not in the file), when each is a
   * plain column and every row yields this output; undefined when a template, a constant or a
   * `when` column makes the rows need `load` and `get`.
   */
  readonly direct: Readonly<Record<string, number>> | undefined;
}

export interface Binding {
  readonly outputs: BoundOutput[];
  readonly ignoredColumns: string[];
}

const norm = (s: string) => s.trim().toLowerCase();

/**
 * Binds a profile to a header. Missing source columns make the file unreadable as a whole (every
 * row would fail); unmapped columns are reported once as ignored.
 */
export function bindProfile(
  profile: Profile,
  header: readonly string[],
  strictCase = false,
  /** JSON Lines: a key absent so far is blank in this row, not a file-level error. */
  lenient = false,
): Binding {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    const k = strictCase ? h.trim() : norm(h);
    if (!index.has(k)) index.set(k, i);
  });
  const find = (name: string) => index.get(strictCase ? name.trim() : norm(name));
  const used = new Set<number>();
  const missing: string[] = [];
  let cells: string[] = [];
  let numbers: readonly (number | undefined)[] | undefined;
  const outputs = profile.outputs.map((o): BoundOutput => {
    const spec = SPECS[o.kind];
    const required = new Set(spec.required);
    const accessors: Record<string, () => string> = {};
    /** Source field of each canonical column mapped from a plain column (the only ones a number can fill). */
    const fieldOf: Record<string, number> = {};
    const sourceNames: Record<string, string> = {};
    let direct: Record<string, number> | undefined = {};
    for (const c of [...spec.required, ...spec.optional]) direct[c] = -1;
    for (const [canonical, src] of Object.entries(o.columns)) {
      if (typeof src === 'string') {
        const i = find(src);
        sourceNames[canonical] = i === undefined ? src : (header[i] as string).trim();
        if (i === undefined) {
          if (required.has(canonical)) missing.push(src);
          continue;
        }
        used.add(i);
        accessors[canonical] = () => cells[i] ?? '';
        fieldOf[canonical] = i;
        if (direct) direct[canonical] = i;
      } else if ('column' in src) {
        const i = find(src.column);
        sourceNames[canonical] = i === undefined ? src.column : (header[i] as string).trim();
        if (i === undefined) {
          if (required.has(canonical)) missing.push(src.column);
          continue;
        }
        used.add(i);
        direct = undefined;
        const codes = new Map(Object.entries(src.values).map(([k, v]) => [k.trim().toLowerCase(), v]));
        accessors[canonical] = () => {
          const raw = cells[i] ?? '';
          return codes.get(raw.trim().toLowerCase()) ?? raw;
        };
      } else if ('value' in src) {
        direct = undefined;
        const v = src.value;
        sourceNames[canonical] = `${canonical} (profile constant)`;
        accessors[canonical] = () => v;
      } else {
        const parts: (string | number)[] = [];
        for (const piece of src.template.split(/(\{[^}]+\})/)) {
          if (piece === '') continue;
          if (piece.startsWith('{') && piece.endsWith('}')) {
            const i = find(piece.slice(1, -1));
            if (i === undefined) missing.push(piece.slice(1, -1));
            else {
              used.add(i);
              parts.push(i);
            }
          } else parts.push(piece);
        }
        sourceNames[canonical] = src.template;
        direct = undefined;
        accessors[canonical] = () =>
          parts.map((p) => (typeof p === 'number' ? (cells[p] ?? '').trim() : p)).join('');
      }
    }
    let whenIndex: number | undefined;
    if (o.when !== undefined) {
      whenIndex = find(o.when) ?? -1;
      if (whenIndex < 0) missing.push(o.when);
      else used.add(whenIndex);
    }
    const w = whenIndex;
    return {
      kind: o.kind,
      direct: w === undefined ? direct : undefined,
      sourceOf: (c) => sourceNames[c] ?? c,
      load(row, nums) {
        cells = row;
        numbers = nums;
        return w === undefined || (w >= 0 && (row[w] ?? '').trim() !== '');
      },
      get: Object.assign(
        (c: string) => {
          const a = accessors[c];
          return a === undefined ? '' : a();
        },
        {
          number: (c: string) => {
            const i = fieldOf[c];
            return i === undefined || numbers === undefined ? undefined : numbers[i];
          },
        },
      ),
    };
  });
  if (missing.length > 0 && !lenient) {
    const uniq = [...new Set(missing)];
    throw new UnreadableFileError(
      `the file lacks required column${uniq.length > 1 ? 's' : ''} ${uniq.join(', ')} (its columns: ${clip(header.join(', '), 500)})`,
    );
  }
  const ignore = new Set(profile.ignore.map(norm));
  const ignoredColumns = header.filter((h, i) => !used.has(i) && h.trim() !== '' && !ignore.has(norm(h)));
  return { outputs, ignoredColumns };
}
