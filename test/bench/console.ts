/**
 * The console at 100,000 customers (~1M invoices) on dynalite on disk, as `npm start` keeps it:
 * p50/p95 time and HTML size of the customers page (first page, a search, a filter, a sort, page
 * 100), of a customer's page, and of every other page: alerts, approvals, transfers, runs, reviews,
 * ops, a large customer and the approval page (their data: console-pages.ts). The book is generated once into a cached data dir under /tmp
 * (`SENTINEL_CONSOLE_BENCH_DIR`, default /tmp/sentinel-console-bench-100k); a later run reuses it.
 *
 *   npx tsx test/bench/run.ts --only=console       (part of the benchmark table)
 *   npx tsx test/bench/console.ts                  (alone)
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { startConsole } from '../../infra/local/console/index.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { idOf, writeConsoleBook } from './console-book.ts';
import { pageCases, pagesRuntime, seedConsolePages } from './console-pages.ts';

export const CONSOLE_CUSTOMERS = Number(process.env.SENTINEL_CONSOLE_BENCH_CUSTOMERS ?? 100_000);
export const CONSOLE_ASOF = '2026-11-30';
const SAMPLES = 40;

export interface ConsoleFigure {
  readonly name: string;
  readonly path: string;
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** The first request of the page (its filter and order computed; later ones reuse them). */
  readonly firstMs: number;
  readonly htmlKB: number;
  readonly status: number;
}

export interface ConsoleBench {
  readonly customers: number;
  readonly invoices: number;
  readonly generateSeconds?: number | undefined;
  /** The read model's first build (summaries, profiles, assessments read from the store). */
  readonly firstBuildMs: number;
  readonly figures: readonly ConsoleFigure[];
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};

export async function benchConsole(log: (m: string) => void): Promise<ConsoleBench> {
  const dir =
    process.env.SENTINEL_CONSOLE_BENCH_DIR ?? `/tmp/sentinel-console-bench-${CONSOLE_CUSTOMERS / 1000}k`;
  const done = join(dir, 'console-book.done');
  const env = await openLocal({ dataDir: dir });
  let generateSeconds: number | undefined;
  let invoices: number;
  try {
    if (!existsSync(done)) {
      log(`generating ${CONSOLE_CUSTOMERS.toLocaleString('en-US')} customers into ${dir} (once; minutes)...`);
      const t0 = performance.now();
      const stats = { invoices: 0 };
      await writeConsoleBook(
        env.store,
        {
          customers: CONSOLE_CUSTOMERS,
          asOf: CONSOLE_ASOF,
          invoicesPer: 10,
          stats,
          onProgress: (n) => {
            if (n % 10_000 === 0) log(`  ${n.toLocaleString('en-US')} customers stored`);
          },
        },
        false,
      );
      generateSeconds = (performance.now() - t0) / 1000;
      await writeFile(
        done,
        JSON.stringify({
          at: new Date().toISOString(),
          customers: CONSOLE_CUSTOMERS,
          invoices: stats.invoices,
        }),
      );
    }
    // The other pages' data (alerts, transfers waiting for approval, runs, a review run, a large
    // customer), written once on top of the book: console-pages.ts.
    const pages = await pagesRuntime(env, dir, CONSOLE_ASOF);
    await seedConsolePages(env, pages, dir, CONSOLE_CUSTOMERS, CONSOLE_ASOF, log);
    const queries = new ReceivablesQueries(env.store);
    let url = '';
    const con = await startConsole({
      queries,
      today: () => CONSOLE_ASOF,
      port: 0,
      ...pages.options(queries, () => url),
    });
    url = con.url;
    try {
      const t0 = performance.now();
      const first = await fetch(`${con.url}/api/customers?asOf=${CONSOLE_ASOF}&size=50`);
      const firstBody = (await first.json()) as { paging: { customersOnFile: number } };
      const firstBuildMs = performance.now() - t0;
      log(
        `read model built in ${(firstBuildMs / 1000).toFixed(1)} s (${firstBody.paging.customersOnFile} customers)`,
      );
      invoices = (JSON.parse(await readFile(done, 'utf8')) as { invoices: number }).invoices;
      const cases: [string, string][] = [
        ['customers: first page', `/customers?asOf=${CONSOLE_ASOF}`],
        ['customers: a search', `/customers?asOf=${CONSOLE_ASOF}&q=company%204242`],
        ['customers: a filter', `/customers?asOf=${CONSOLE_ASOF}&rating=C&overdue=1&currency=EUR`],
        ['customers: a sort', `/customers?asOf=${CONSOLE_ASOF}&sort=limitUse&dir=desc`],
        ['customers: page 100', `/customers?asOf=${CONSOLE_ASOF}&page=100`],
        ['customers: CSV of a filter', `/customers.csv?asOf=${CONSOLE_ASOF}&rating=E&overlimit=1`],
        ['a customer', `/customers/${idOf(4242 % CONSOLE_CUSTOMERS)}?asOf=${CONSOLE_ASOF}`],
        ...(await pageCases(dir, CONSOLE_ASOF, queries)),
      ];
      const figures: ConsoleFigure[] = [];
      for (const [name, path] of cases) {
        const times: number[] = [];
        let bytes = 0;
        let status = 0;
        let firstMs = 0;
        for (let i = 0; i < SAMPLES + 3; i++) {
          const s = performance.now();
          const res = await fetch(`${con.url}${path}`);
          const body = Buffer.from(await res.arrayBuffer());
          const ms = performance.now() - s;
          if (i === 0) firstMs = ms;
          if (i >= 3) times.push(ms); // the first three compute the filter and the order, and warm the JIT
          bytes = body.length;
          status = res.status;
        }
        const f = {
          name,
          path,
          p50Ms: pct(times, 50),
          p95Ms: pct(times, 95),
          firstMs,
          htmlKB: bytes / 1024,
          status,
        };
        figures.push(f);
        log(
          `  ${name}: first ${f.firstMs.toFixed(0)} ms, then p50 ${f.p50Ms.toFixed(0)} ms, p95 ${f.p95Ms.toFixed(0)} ms, ${f.htmlKB.toFixed(0)} KB (${status})`,
        );
      }
      return {
        customers: firstBody.paging.customersOnFile,
        invoices,
        generateSeconds,
        firstBuildMs,
        figures,
      };
    } finally {
      await con.close();
      await pages.close();
    }
  } finally {
    await env.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchConsole((m) => process.stdout.write(`${m}\n`))
    .then((r) => {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      // The seeded transfers' workflows wait for their approvers: nothing else would end the process.
      process.exit(0);
    })
    .catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    });
}
