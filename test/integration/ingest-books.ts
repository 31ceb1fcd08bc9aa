import { Readable } from 'node:stream';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { type IngestDeps, ingest } from '../../functions/ingest/pipeline.ts';
import type { IngestRun, IngestStore } from '../../functions/ingest/ports.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import type { LocalEnv } from '../../infra/local/runtime/index.ts';

/**
 * Small generated books for the ingestion's race, crash and fault tests: seeded, so a failing
 * round can be replayed, and every figure is checked against a clean single ingest of the same files.
 */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const INVOICES = 'invoice_id,customer_id,issue_date,due_date,amount,currency\n';
export const PAYMENTS = 'payment_id,customer_id,received_date,amount,currency,invoice_id\n';

export interface Upload {
  readonly name: string;
  readonly kind: Kind;
  readonly text: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Two invoice files that overlap (the rows they share are identical, so any order gives the same
 * books) and a payments file naming their invoices, a few unknown ones, and customers only it has.
 */
export function overlappingBooks(seed: number, customers = 8, prefix = `R${seed}`): Upload[] {
  const random = seeded(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const invoices: string[] = [];
  for (let c = 0; c < customers; c++) {
    const n = 2 + pick(4);
    for (let i = 0; i < n; i++) {
      const day = 1 + pick(27);
      invoices.push(
        `${prefix}-I${c}-${i},${prefix}-C${c},2025-05-${pad(day)},2025-06-${pad(day)},${100 + pick(900)}.${pad(pick(100))},EUR`,
      );
    }
  }
  const cut = Math.floor(invoices.length / 2);
  const a = invoices.slice(0, cut + 3);
  const b = invoices.slice(cut - 3);
  const payments: string[] = [];
  for (let p = 0; p < customers * 2; p++) {
    const c = pick(customers + 2); // two customers only the payments file has
    const inv = c < customers && random() < 0.8 ? `${prefix}-I${c}-${pick(3)}` : `${prefix}-NOPE-${p}`;
    payments.push(
      `${prefix}-P${p},${prefix}-C${c},2025-06-${pad(1 + pick(28))},${10 + pick(400)}.00,EUR,${inv}`,
    );
  }
  return [
    { name: 'invoices/a.csv', kind: 'invoices', text: `${INVOICES}${a.join('\n')}\n` },
    { name: 'invoices/b.csv', kind: 'invoices', text: `${INVOICES}${b.join('\n')}\n` },
    { name: 'payments/p.csv', kind: 'payments', text: `${PAYMENTS}${payments.join('\n')}\n` },
  ];
}

export const NOW = '2025-06-30T10:00:00Z';

const BOOKS = ['INV#', 'PAY#', 'ALLOC#', 'SUMMARY', 'PROFILE'];

export function deps(store: IngestStore, extra: Partial<IngestDeps> = {}): IngestDeps {
  return {
    store,
    notifier: { customersChanged: async () => {} },
    clock: { now: () => new Date(NOW) },
    timeZone: 'UTC',
    ...extra,
  };
}

export function loadUpload(d: IngestDeps, u: Upload, objectRef = `test://${u.name}`, runId?: string) {
  return ingest(d, {
    source: Readable.from([Buffer.from(u.text)]),
    fileName: u.name,
    objectRef,
    runId,
    profile: canonicalProfile(u.kind),
    rejects: { write: () => {}, close: async () => 'memory://' },
  });
}

/**
 * Every customer's stored figures and every item (invoices, payments, allocations, summaries),
 * without the provenance (which run and line wrote it) and the runs' own bookkeeping.
 */
export async function books(store: LocalEnv['store']): Promise<string[]> {
  const items: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await store.client.send(
      new ScanCommand({ TableName: store.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const raw of page.Items ?? []) {
      const { run: _r, line: _l, ...it } = unmarshall(raw);
      const pk = String(it.pk);
      const sk = String(it.sk);
      // The books and their figures, not the runs' own bookkeeping nor what an evaluation adds.
      if (!pk.startsWith('FX#') && !(pk.startsWith('CUST#') && BOOKS.some((p) => sk.startsWith(p)))) continue;
      items.push(JSON.stringify(sortKeys(it)));
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort();
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** The items of one list missing from the other, both ways (empty when equal). */
export function differences(expected: string[], actual: string[]): string[] {
  const a = new Set(actual);
  const e = new Set(expected);
  return [
    ...expected.filter((x) => !a.has(x)).map((x) => `missing or different: ${x}`),
    ...actual.filter((x) => !e.has(x)).map((x) => `unexpected: ${x}`),
  ];
}

export type { IngestRun };

/**
 * A large-ish book on disk for the crash tests: `invoices/inv.csv` and `payments/pay.csv` under
 * `dir` (folders named by kind, as the CLI and the inbox read them). Payments name invoices of
 * their customer, some none, a few unknown ones.
 */
export async function largeBooks(
  dir: string,
  seed: number,
  opts: { customers?: number; invoices?: number; payments?: number } = {},
): Promise<{ invoices: string; payments: string }> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const random = seeded(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const customers = opts.customers ?? 200;
  const nInvoices = opts.invoices ?? 5000;
  const inv: string[] = [];
  for (let i = 0; i < nInvoices; i++) {
    const day = 1 + pick(27);
    inv.push(
      `I${i},C${i % customers},2025-0${1 + pick(5)}-${pad(day)},2025-06-${pad(day)},${50 + pick(5000)}.${pad(pick(100))},EUR`,
    );
  }
  const pay: string[] = [];
  for (let p = 0; p < (opts.payments ?? 20000); p++) {
    const i = pick(nInvoices);
    const c = i % customers;
    const target = random() < 0.9 ? `I${i}` : random() < 0.5 ? '' : `NOPE${p}`;
    pay.push(`P${p},C${c},2025-06-${pad(1 + pick(28))},${1 + pick(300)}.00,EUR,${target}`);
  }
  await mkdir(join(dir, 'invoices'), { recursive: true });
  await mkdir(join(dir, 'payments'), { recursive: true });
  const invoices = join(dir, 'invoices', 'inv.csv');
  const payments = join(dir, 'payments', 'pay.csv');
  await writeFile(invoices, `${INVOICES}${inv.join('\n')}\n`);
  await writeFile(payments, `${PAYMENTS}${pay.join('\n')}\n`);
  return { invoices, payments };
}
