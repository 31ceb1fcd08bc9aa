// Each Lambda bundle as NodejsFunction builds it (test/bench/bundles.ts, the BUNDLING options of
// function-defaults.ts): zod comes in at its used size, without its ~50 locales and its JSON-schema
// importer (`import { z } from 'zod'` bundles all of it: 443 KiB of every bundle), the source
// maps carry no sources, and every handler brings its tracer.
import { beforeAll, describe, expect, it } from 'vitest';
import { type BundleSize, lambdaEntries, measureBundles } from '../bench/bundles.ts';

let sizes: BundleSize[];

beforeAll(async () => {
  sizes = await measureBundles();
});

const KiB = 1024;

describe('Lambda bundles', () => {
  it('covers every handler entry the constructs name', () => {
    expect(lambdaEntries()).toEqual([
      'functions/alerts/slack-handler.ts',
      'functions/checks/chain-handler.ts',
      'functions/checks/handler.ts',
      'functions/collections/handler.ts',
      'functions/collections/portal-handler.ts',
      'functions/credit/daily-run-handler.ts',
      'functions/credit/handler.ts',
      'functions/ingest/handler.ts',
      'functions/ops/handler.ts',
      'functions/reviews/handler.ts',
      'functions/transfers/handler.ts',
    ]);
    expect(sizes.map((s) => s.entry)).toEqual(lambdaEntries());
  });

  it('bundle only the zod they use: no other locale than English, no JSON-schema import', () => {
    for (const s of sizes) {
      const zod = s.packages.zod ?? 0;
      expect(zod, `${s.entry}: zod ${Math.round(zod / KiB)} KiB`).toBeLessThanOrEqual(110 * KiB);
      expect(
        // index.js is the namespace's stub (17 bytes where a handler imports code dynamically), not a locale.
        s.zodFiles.filter(
          (f) => f.startsWith('v4/locales/') && f !== 'v4/locales/en.js' && f !== 'v4/locales/index.js',
        ),
        s.entry,
      ).toEqual([]);
      expect(
        s.zodFiles.filter((f) => /from-json-schema/.test(f)),
        s.entry,
      ).toEqual([]);
    }
    // Those that validate anything still do (all but the ops gauges).
    expect(sizes.filter((s) => (s.packages.zod ?? 0) > 0).map((s) => s.entry)).toEqual(
      lambdaEntries().filter((e) => e !== 'functions/ops/handler.ts'),
    );
  });

  it('have source maps without the sources, and the tracer in every handler', () => {
    for (const s of sizes) {
      expect(s.mapHasSources, s.entry).toBe(false);
      expect(s.packages['@aws-lambda-powertools/tracer'] ?? 0, s.entry).toBeGreaterThan(0);
    }
  });
});
