/**
 * The Lambda bundles' sizes (`npm run bench -- --only=bundles`, test/infra/bundles.test.ts): every
 * handler entry the constructs name, bundled by esbuild with the options NodejsFunction gets
 * (infra/constructs/function-defaults.ts `BUNDLING`), without writing anything. A `cdk synth`
 * writes the same files to cdk.out (asset.<hash>/index.mjs and index.mjs.map).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { BUNDLING } from '../../infra/constructs/function-defaults.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface BundleSize {
  /** The handler file, e.g. `functions/ingest/handler.ts`. */
  readonly entry: string;
  /** index.mjs, minified. */
  readonly bytes: number;
  /** index.mjs.map. */
  readonly mapBytes: number;
  /** Both deflated, about what the zip Lambda gets holds. */
  readonly zipBytes: number;
  /** What each package (or `src` for this repository) adds to index.mjs. */
  readonly packages: Readonly<Record<string, number>>;
  /** The zod files in the bundle (paths under node_modules/zod/). */
  readonly zodFiles: readonly string[];
  /** Whether the source map carries the sources (it should not). */
  readonly mapHasSources: boolean;
}

/** Every `entry: 'functions/...'` in infra/constructs: the handler files of the deployed functions. */
export function lambdaEntries(): string[] {
  const dir = join(ROOT, 'infra/constructs');
  const entries = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts')))
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/entry:\s*'(functions\/[^']+\.ts)'/g))
      entries.add(m[1] as string);
  return [...entries].sort();
}

export async function measureBundle(entry: string): Promise<BundleSize> {
  const r = await build({
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: BUNDLING.format,
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    mainFields: BUNDLING.mainFields,
    banner: { js: BUNDLING.banner },
    external: BUNDLING.externalModules,
    outfile: join(ROOT, 'cdk.out/bench-bundle/index.mjs'),
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const js = r.outputFiles.find((f) => f.path.endsWith('.mjs'));
  const map = r.outputFiles.find((f) => f.path.endsWith('.mjs.map'));
  if (!js || !map) throw new Error(`${entry}: esbuild wrote no bundle or no map`);
  const out = Object.values(r.metafile.outputs).find((o) => o.entryPoint);
  const packages: Record<string, number> = {};
  const zodFiles: string[] = [];
  for (const [path, input] of Object.entries(out?.inputs ?? {})) {
    const m = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/);
    const pkg = m ? (m[1] as string) : 'src';
    packages[pkg] = (packages[pkg] ?? 0) + input.bytesInOutput;
    if (pkg === 'zod' && input.bytesInOutput > 0) zodFiles.push(m?.[2] as string);
  }
  return {
    entry,
    bytes: js.contents.byteLength,
    mapBytes: map.contents.byteLength,
    zipBytes: deflateRawSync(js.contents).byteLength + deflateRawSync(map.contents).byteLength,
    packages,
    zodFiles,
    mapHasSources: 'sourcesContent' in (JSON.parse(map.text) as object),
  };
}

export async function measureBundles(): Promise<BundleSize[]> {
  const out: BundleSize[] = [];
  for (const entry of lambdaEntries()) out.push(await measureBundle(entry));
  return out;
}

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

/** The table `npm run bench -- --only=bundles` prints. */
export function bundleTable(sizes: readonly BundleSize[]): string[] {
  const rows = sizes.map((s) => {
    const zod = s.packages.zod ?? 0;
    return [
      s.entry,
      kib(s.bytes),
      `${kib(zod)} (${Math.round((100 * zod) / s.bytes)}%)`,
      kib(s.mapBytes),
      kib(s.zipBytes),
    ];
  });
  const head = ['bundle', 'index.mjs', 'of which zod', 'map', 'zip (deflated)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(head), ...rows.map(line)];
}
