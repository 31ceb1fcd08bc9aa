import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../../functions/core/metrics.ts';

/** Where the local runtime keeps the metrics its handlers emit: one EMF record per line. */
export const metricsFile = (dataDir: string) => join(dataDir, 'metrics.jsonl');

export interface LocalMetricsOptions {
  /**
   * Write every metric at once instead of at `publishStoredMetrics()`: for code that lives in the
   * long-running server (the transfer app), where no invocation ends to flush at. Dimensions added
   * with `addDimension` on such an instance would apply to one metric only; use `singleMetric()`.
   * @default false
   */
  readonly eager?: boolean;
}

/**
 * Appends one line with a single write on an append-mode file (so two processes never interleave
 * within a line). When the file does not end with a newline (a writer died mid-line), the record
 * starts on a new line: the torn one stays alone and is skipped by the reader, this one is kept.
 */
function appendLine(file: string, line: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'a+');
  try {
    const { size } = fstatSync(fd);
    const last = Buffer.alloc(1);
    const torn = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
    writeSync(fd, `${torn ? '\n' : ''}${line}\n`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Powertools Metrics whose EMF records go to `<dataDir>/metrics.jsonl` instead of stdout.
 *
 * Powertools 2.x always prints EMF to its own stdout `Console`; its `logger` option only takes
 * its warnings. So this subclass serializes with Powertools' own `serializeMetrics()` (the same
 * record CloudWatch would parse) and appends it as one line. Local capture is always on, whatever
 * `POWERTOOLS_METRICS_DISABLED` says. `singleMetric()` returns another file-backed instance, so a
 * metric with its own dimension lands in the file too. A line is written with one `write` on an
 * append-mode file, so the server and a CLI command can append to the same file.
 */
class FileMetrics extends Metrics {
  constructor(
    private readonly file: string,
    private readonly service: string,
    private readonly eager: boolean,
    single: boolean,
  ) {
    super({
      namespace: METRICS_NAMESPACE,
      serviceName: service,
      singleMetric: single,
      // Powertools' warnings (e.g. "no application metrics to publish") are noise on a laptop.
      logger: {
        debug: () => {},
        info: () => {},
        warn: () => {},
        error: (...a: unknown[]) => console.error(...a),
      },
    });
  }

  override addMetric(...args: Parameters<Metrics['addMetric']>): this {
    super.addMetric(...args);
    if (this.eager) this.publishStoredMetrics();
    return this;
  }

  override publishStoredMetrics(): this {
    try {
      if (this.hasStoredMetrics()) appendLine(this.file, JSON.stringify(this.serializeMetrics()));
    } catch (e) {
      // A metric must never fail the work it measures.
      console.error(`metrics: could not write ${this.file}: ${(e as Error).message}`);
    } finally {
      this.clearMetrics();
      this.clearDimensions();
      this.clearMetadata();
    }
    return this;
  }

  override singleMetric(): Metrics {
    return new FileMetrics(this.file, this.service, false, true);
  }
}

/** A Powertools `Metrics` for a local handler: namespace METRICS_NAMESPACE, written to `<dataDir>/metrics.jsonl`. */
export function localMetrics(dataDir: string, serviceName: string, opts: LocalMetricsOptions = {}): Metrics {
  return new FileMetrics(metricsFile(dataDir), serviceName, opts.eager ?? false, false);
}

/** One value of one metric, as CloudWatch would store it. */
export interface Datapoint {
  /** Epoch milliseconds (the EMF record's `_aws.Timestamp`). */
  readonly timestamp: number;
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  /** Every dimension of the record, `service` included. */
  readonly dimensions: Readonly<Record<string, string>>;
  /**
   * The record's other text fields (Powertools' `addMetadata`: log fields on AWS, not dimensions),
   * when it has any: the collections run's `runId` and `asOf`, so a day's figures count once.
   */
  readonly metadata?: Readonly<Record<string, string>>;
}

interface EmfRecord {
  readonly _aws?: {
    readonly Timestamp?: unknown;
    readonly CloudWatchMetrics?: readonly {
      readonly Dimensions?: readonly (readonly string[])[];
      readonly Metrics?: readonly { readonly Name?: unknown; readonly Unit?: unknown }[];
    }[];
  };
  readonly [key: string]: unknown;
}

/**
 * The datapoints of EMF records, one JSON object per line. A line that does not parse (the last
 * one while a writer is still at it, or a torn write after a crash) is skipped, as is a record
 * without a numeric timestamp; a metric with several values (Powertools' multi-value metrics)
 * gives one datapoint each.
 */
export function parseEmfLines(text: string, since?: number): Datapoint[] {
  const out: Datapoint[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let rec: EmfRecord;
    try {
      rec = JSON.parse(line) as EmfRecord;
    } catch {
      continue;
    }
    const timestamp = rec?._aws?.Timestamp;
    if (typeof timestamp !== 'number' || (since !== undefined && timestamp < since)) continue;
    const directives = rec._aws?.CloudWatchMetrics ?? [];
    const dimensionKeys = new Set(directives.flatMap((d) => (d.Dimensions ?? []).flat()));
    const metadata: Record<string, string> = {};
    for (const [key, v] of Object.entries(rec))
      if (typeof v === 'string' && !dimensionKeys.has(key)) metadata[key] = v;
    const extra = Object.keys(metadata).length > 0 ? { metadata } : {};
    for (const directive of directives) {
      const dimensions: Record<string, string> = {};
      for (const set of directive.Dimensions ?? [])
        for (const key of set) if (typeof rec[key] === 'string') dimensions[key] = rec[key] as string;
      for (const m of directive.Metrics ?? []) {
        if (typeof m.Name !== 'string') continue;
        const raw = rec[m.Name];
        const values = Array.isArray(raw) ? raw : [raw];
        for (const value of values)
          if (typeof value === 'number' && Number.isFinite(value))
            out.push({
              timestamp,
              name: m.Name,
              unit: String(m.Unit ?? 'None'),
              value,
              dimensions,
              ...extra,
            });
      }
    }
  }
  return out;
}

/**
 * The datapoints the local handlers recorded in `<dataDir>/metrics.jsonl` (none when the file does
 * not exist yet), optionally only those at or after `since` (epoch ms or a Date), oldest first as
 * written.
 */
export async function readLocalMetrics(
  dataDir: string,
  opts: { readonly since?: number | Date } = {},
): Promise<Datapoint[]> {
  let text: string;
  try {
    text = await readFile(metricsFile(dataDir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const since = opts.since instanceof Date ? opts.since.getTime() : opts.since;
  return parseEmfLines(text, since);
}
