// Every Lambda handler export, invoked as Lambda would with tracing on: the logger carries the
// Lambda context (and the correlation id where the event has one), the handler's own X-Ray
// subsegment reaches the daemon, and the AWS SDK calls are traced. The daemon is a UDP socket here;
// the SDK calls go to dynalite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
let handlers: Awaited<ReturnType<typeof loadHandlers>>;

const TRACE_ID = '1-67000000-0123456789abcdef01234567';

beforeAll(async () => {
  local = await openLocal({ inMemory: true });
  daemon = await fakeXrayDaemon();
  Object.assign(process.env, handlerEnv(local.endpoint), {
    // What Lambda sets: the tracer turns itself on, and the X-Ray SDK traces under Lambda's segment.
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    LAMBDA_TASK_ROOT: '/var/task',
    AWS_XRAY_DAEMON_ADDRESS: daemon.address,
    _X_AMZN_TRACE_ID: `Root=${TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1`,
  });
  handlers = await loadHandlers();
});

afterAll(async () => {
  await daemon?.close();
  await local?.close();
});

/** Subsegments reach the daemon when they close, a moment after the invocation: wait for them. */
async function segmentsWhere(
  pred: (s: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100; i++) {
    const found = daemon.segments.filter(pred);
    if (found.length > 0) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  return [];
}

describe('Lambda handlers in Lambda: Powertools logger context and Tracer', () => {
  it.each(INVOCATIONS.map((inv, i) => ({ ...inv, i })))('$entry', async (inv) => {
    const name = inv.entry.split('#')[1] as string;
    const fnName = `fn-${inv.i}-${name}`;
    const requestId = `req-${inv.i}-${name}`;
    process.env._HANDLER = `index.${name}-${inv.i}`;
    const handler = handlers.get(inv.entry);
    if (!handler) throw new Error(`no handler ${inv.entry}`);

    const logs = await invoke(handler, inv.event, fakeContext(fnName, requestId));

    // injectLambdaContext: every line of this invocation carries the context.
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) {
      for (const key of CONTEXT_KEYS) expect(line, `${key} in ${JSON.stringify(line)}`).toHaveProperty(key);
      expect(line.function_name).toBe(fnName);
      expect(line.function_request_id).toBe(requestId);
      expect(line.xray_trace_id).toBe(TRACE_ID);
      if (inv.correlationId) expect(line.correlation_id).toBe(inv.correlationId);
      else expect(line).not.toHaveProperty('correlation_id');
    }

    // captureLambdaHandler: the handler's subsegment, with Powertools' annotations.
    const [own] = await segmentsWhere((s) => s.name === `## index.${name}-${inv.i}`);
    expect(own, 'the handler subsegment').toBeDefined();
    expect(own?.trace_id).toBe(TRACE_ID);
    const annotations = own?.annotations as Record<string, unknown>;
    expect(annotations).toMatchObject({ Service: 'handlers-test' });
    expect(annotations).toHaveProperty('ColdStart');
    if (inv.correlationId) expect(annotations.CorrelationId).toBe(inv.correlationId);
    // Responses stay out of the trace (customer data; X-Ray's 64 KB segment).
    expect(JSON.stringify(own?.metadata ?? {})).not.toContain('response');

    // captureAWSv3Client: the SDK call is a subsegment of the handler's.
    if (inv.awsCall) {
      const calls = await segmentsWhere(
        (s) => s.name === inv.awsCall && s.namespace === 'aws' && s.parent_id === own?.id,
      );
      expect(calls.length, `${inv.awsCall} subsegments`).toBeGreaterThan(0);
    }
  });
});
