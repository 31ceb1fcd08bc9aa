// The same handler exports outside Lambda (tests, `npm start`, any script): the tracer switches
// itself off, nothing reaches an X-Ray daemon and nothing about segments is logged; the logger
// still has its context. And the local runtime never loads the tracer at all.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import {
  CONTEXT_KEYS,
  fakeContext,
  fakeXrayDaemon,
  handlerEnv,
  INVOCATIONS,
  invoke,
  loadHandlers,
} from './lambda-handlers.ts';

let local: LocalEnv;
let daemon: Awaited<ReturnType<typeof fakeXrayDaemon>>;

beforeAll(async () => {
  local = await openLocal({ inMemory: true });
  daemon = await fakeXrayDaemon();
  for (const key of ['AWS_EXECUTION_ENV', 'LAMBDA_TASK_ROOT', '_X_AMZN_TRACE_ID', 'POWERTOOLS_TRACE_ENABLED'])
    delete process.env[key];
  // A daemon address is set, as it could be on a developer's machine: still nothing may be sent.
  Object.assign(process.env, handlerEnv(local.endpoint), { AWS_XRAY_DAEMON_ADDRESS: daemon.address });
});

afterAll(async () => {
  await daemon?.close();
  await local?.close();
});

describe('Lambda handlers outside Lambda', () => {
  it('run untraced: no segment sent or logged, the logger context intact', async () => {
    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    const handlers = await loadHandlers();
    const { tracer } = await import('../../functions/adapters/lambda.ts');
    expect(tracer.isTracingEnabled()).toBe(false);

    for (const [i, inv] of INVOCATIONS.entries()) {
      const handler = handlers.get(inv.entry);
      if (!handler) throw new Error(`no handler ${inv.entry}`);
      const logs = await invoke(handler, inv.event, fakeContext(`fn-${i}`, `req-${i}`));
      expect(logs.length).toBeGreaterThan(0);
      for (const line of logs) {
        for (const key of CONTEXT_KEYS) expect(line).toHaveProperty(key);
        expect(JSON.stringify(line)).not.toMatch(/segment/i);
      }
    }
    // Give a stray datagram the time to arrive before saying none did.
    await new Promise((r) => setTimeout(r, 200));
    expect(daemon.datagrams()).toBe(0);
    const printed = [...warn.mock.calls, ...error.mock.calls].map((c) => c.map(String).join(' '));
    expect(printed.filter((m) => /segment|x-?ray/i.test(m))).toEqual([]);
  });

  it('the local runtime and CLI never import the tracer or the X-Ray SDK', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const r = await build({
      entryPoints: [`${root}infra/local/cli/index.ts`],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      packages: 'external',
      logLevel: 'silent',
    });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.length).toBeGreaterThan(50);
    expect(inputs.filter((p) => p.includes('functions/adapters/lambda.ts'))).toEqual([]);
    const packages = Object.values(r.metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
    expect(packages.filter((p) => /tracer|aws-xray-sdk/.test(p))).toEqual([]);
  });
});
