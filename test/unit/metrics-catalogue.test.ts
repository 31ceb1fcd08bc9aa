import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, METRICS, type MetricSpec } from '../../functions/core/metrics.ts';

/**
 * Every metric the code emits is in the catalogue (functions/core/metrics.ts), with the catalogue's
 * unit, and only with the dimensions the catalogue gives it: the dashboard, the alarms, the README
 * and the local ops page are built from the catalogue, so a name or unit that drifts would be a
 * metric nobody looks at. Read from the source, so a call on any path counts, taken or not.
 */
const ROOT = resolve(import.meta.dirname, '../..');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

interface Emission {
  readonly file: string;
  readonly name: string;
  readonly unit: string;
}

async function emissions(): Promise<{
  metrics: Emission[];
  dimensions: { name: string; dimension: string }[];
}> {
  const metrics: Emission[] = [];
  const dimensions: { name: string; dimension: string }[] = [];
  for (const file of [...(await sources('functions')), ...(await sources('infra'))]) {
    const text = await readFile(join(ROOT, file), 'utf8');
    // addMetric(<name expression>, MetricUnit.<Unit>, ...): every quoted PascalCase name in the expression
    // (a conditional picks one of two).
    for (const m of text.matchAll(/\.addMetric\(\s*([\s\S]*?),\s*MetricUnit\.(\w+)/g))
      for (const n of (m[1] as string).matchAll(/'([A-Z][A-Za-z]+)'/g))
        metrics.push({ file: relative(ROOT, join(ROOT, file)), name: n[1] as string, unit: m[2] as string });
    // Every dimension of the chain (`.addDimension('level', l).addDimension('channel', c).addMetric(...)`).
    for (const m of text.matchAll(/\.addDimension\(\s*'(\w+)',[^;]*?\.addMetric\(\s*'(\w+)'/g))
      for (const d of m[0].matchAll(/\.addDimension\(\s*'(\w+)'/g))
        dimensions.push({ dimension: d[1] as string, name: m[2] as string });
  }
  return { metrics, dimensions };
}

const spec = (name: string) => (METRICS as readonly MetricSpec[]).find((m) => m.name === name);

describe('the metric catalogue', () => {
  it('every metric emitted is in it, with its unit', async () => {
    const { metrics } = await emissions();
    // The ones this check exists for are found at all (the pattern still matches the code).
    for (const n of [
      'RowsIngested',
      'AlertsRaised',
      'OpenAlerts',
      'TransfersDecided',
      'DecisionLatency',
      'RemindersSent',
      'RemindersFailed',
      'PromisesBroken',
      'OldestDisputeDays',
    ])
      expect(metrics.map((e) => e.name)).toContain(n);
    const unknown = metrics.filter((e) => !METRIC_NAMES.has(e.name));
    expect(unknown).toEqual([]);
    const wrongUnit = metrics.filter((e) => spec(e.name)?.unit !== e.unit);
    expect(wrongUnit).toEqual([]);
  });

  it('a dimension added to a single metric is one the catalogue gives that metric', async () => {
    const { dimensions } = await emissions();
    expect(dimensions.map((d) => `${d.name}/${d.dimension}`)).toEqual(
      expect.arrayContaining([
        'AlertsRaised/severity',
        'TransfersDecided/outcome',
        'RemindersSent/level',
        'RemindersSent/channel',
      ]),
    );
    for (const d of dimensions) expect(Object.keys(spec(d.name)?.dimensions ?? {})).toContain(d.dimension);
  });

  it('names are unique and every dimension lists its values', () => {
    expect(METRIC_NAMES.size).toBe(METRICS.length);
    for (const m of METRICS as readonly MetricSpec[])
      for (const values of Object.values(m.dimensions ?? {})) expect(values.length).toBeGreaterThan(0);
  });
});
