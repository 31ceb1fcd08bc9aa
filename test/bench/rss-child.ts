/**
 * Child process of the ingest benchmark: parse+validate one file with the null store and print one
 * JSON line with the rows and the peak resident set size (`process.resourceUsage().maxRSS`, KB),
 * plus where the memory was when the runtime, then the pipeline's modules, had loaded.
 *
 *   node --import tsx test/bench/rss-child.ts <file.csv> [--no-size]
 *
 * `--no-size` leaves `sizeBytes` out of the request (as a caller that does not know the size).
 */
import { readFileSync } from 'node:fs';
import type { ParseResult } from './null-store.ts';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: rss-child.ts <file.csv> [--no-size]\n');
  process.exit(2);
}
/**
 * This process's own peak RSS (Linux /proc VmHWM, KB). getrusage's maxRSS can be higher: Linux
 * carries it over fork + exec, so it is at least the parent's RSS when it spawned us.
 */
function vmHwmKB(): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
const kb = () => ({
  maxRssKB: process.resourceUsage().maxRSS,
  rssKB: Math.round(process.memoryUsage().rss / 1024),
});
const atStart = kb(); // node + the tsx loader
const { parseValidate } = await import('./null-store.ts');
const afterImport = kb(); // + the pipeline's modules (zod, exceljs, ...)
const r: ParseResult = await parseValidate(file, { withSize: !process.argv.includes('--no-size') });
const mem = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({
    rowsRead: r.run.rowsRead,
    accepted: r.run.acceptedTotal,
    rejected: r.run.rejected,
    written: r.written,
    status: r.run.status,
    seconds: r.seconds,
    cpuSeconds: r.cpuSeconds,
    maxRssKB: process.resourceUsage().maxRSS,
    vmHwmKB: vmHwmKB(),
    atStart,
    afterImport,
    end: {
      rssKB: Math.round(mem.rss / 1024),
      heapUsedMB: mem.heapUsed / 2 ** 20,
      heapTotalMB: mem.heapTotal / 2 ** 20,
      arrayBuffersMB: mem.arrayBuffers / 2 ** 20,
    },
  })}\n`,
);
