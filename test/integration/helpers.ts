import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import type { CustomersChanged, IngestRun } from '../../functions/ingest/ports.ts';
import { canonicalProfile, type Profile } from '../../functions/ingest/profile.ts';
import { rejectsNameFor, warningsNameFor } from '../../functions/ingest/rejects.ts';
import { yieldsReceivables } from '../../functions/ingest/uploads.ts';
import { FileReportSink } from '../../infra/local/runtime/files.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';

/** The ingest input of a small CSV held in memory, as `<kind>/book.csv` in the canonical profile. */
export function memoryUpload(kind: Kind, csv: string) {
  return {
    source: (async function* () {
      yield new TextEncoder().encode(csv);
    })(),
    fileName: `${kind}/book.csv`,
    objectRef: `test://${kind}/book.csv`,
    profile: canonicalProfile(kind),
    rejects: { write: () => undefined, close: async () => `${kind}/book.rejects.csv` },
  };
}

export interface Harness {
  env: LocalEnv;
  dir: string;
  messages: CustomersChanged[];
  /**
   * Ingests bytes or text as a file; returns the run, the rejects report text, and the warnings
   * report text (written for invoices and payments, '' for other kinds).
   */
  load(
    name: string,
    content: string | Uint8Array,
    opts: { kind?: Kind; profile?: Profile; now?: string },
  ): Promise<{ run: IngestRun; rejects: string; warnings: string }>;
  /** Every item in the table except run records, rejects, run marks and upload claims, sorted. */
  snapshot(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const env = await openLocal({ inMemory: true });
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-it-'));
  const messages: CustomersChanged[] = [];
  return {
    env,
    dir,
    messages,
    async load(name, content, opts) {
      const path = join(dir, name);
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      await writeFile(path, bytes);
      const profile = opts.profile ?? canonicalProfile(opts.kind ?? 'invoices');
      const reportPath = rejectsNameFor(path);
      const warningsPath = yieldsReceivables(profile) ? warningsNameFor(path) : undefined;
      const run = await ingest(
        {
          store: env.store,
          notifier: { customersChanged: async (m) => void messages.push(m) },
          clock: { now: () => new Date(opts.now ?? '2025-06-30T10:00:00Z') },
          timeZone: 'UTC',
        },
        {
          // Small chunks so records straddle chunk boundaries.
          source: Readable.from(chunks(bytes, 7)),
          sizeBytes: bytes.length,
          fileName: name,
          objectRef: `test://${name}`,
          profile,
          rejects: new FileReportSink(reportPath),
          warningsReport: warningsPath ? new FileReportSink(warningsPath) : undefined,
        },
      );
      const warnings = warningsPath ? await readFile(warningsPath, 'utf8') : '';
      return { run, rejects: await readFile(reportPath, 'utf8'), warnings };
    },
    async snapshot() {
      const out = await env.store.client.send(new ScanCommand({ TableName: env.store.tableName }));
      return (out.Items ?? [])
        .map((i) => unmarshall(i))
        .filter((i) => !String(i.pk).startsWith('RUN#') && i.pk !== 'IDEMPOTENCY' && i.pk !== 'INGEST#OPEN')
        .map(({ run: _r, line: _l, ...rest }) => rest)
        .sort((a, b) => (`${a.pk}|${a.sk}` < `${b.pk}|${b.sk}` ? -1 : 1));
    },
    async close() {
      await env.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Every item of the table as DynamoDB returns it (attribute types and all), every page, ordered by
 * key: two dumps are equal only when nothing in the table changed, byte for byte.
 */
export async function tableDump(store: LocalEnv['store']): Promise<string[]> {
  const items: [key: string, item: string][] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await store.client.send(
      new ScanCommand({ TableName: store.tableName, ExclusiveStartKey: start }),
    );
    for (const i of page.Items ?? []) items.push([`${i.pk?.S}\u0000${i.sk?.S}`, JSON.stringify(i)]);
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, i]) => i);
}

function* chunks(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  // A few tiny chunks first (to cross multi-byte characters and CRLF pairs), then larger ones.
  let i = 0;
  for (let n = 0; n < 8 && i < bytes.length; n++, i += size) yield bytes.subarray(i, i + size);
  for (; i < bytes.length; i += 4096) yield bytes.subarray(i, i + 4096);
}

/** Parses a rejects report (our own simple CSV) into rows. */
export function rejectRows(csv: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i];
    if (quoted) {
      if (c === '"' && csv[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  return rows.slice(1);
}
