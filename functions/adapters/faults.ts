import {
  type DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';

/**
 * A seam for faults between the handlers and the store: a middleware on the DynamoDB client
 * that fails a share of calls the way DynamoDB and the network do, so that tests (and anyone
 * running `npm start` or the CLI with `SENTINEL_FAULTS`) can check that every run is retried to
 * the same end as a clean one. It sits inside the SDK's retry loop, as a real fault would:
 *
 * - `throttle`: ProvisionedThroughputExceededException before the call reaches the store;
 * - `server`: InternalServerError (HTTP 500) before the call reaches the store;
 * - `timeout`: the connection times out before the call reaches the store;
 * - `lost`: the call reaches the store and takes effect, then its response is lost (a timeout):
 *   the caller cannot know the write happened, which is what idempotency has to survive;
 * - `partial`: a BatchWriteItem writes only some of its items and returns the rest as
 *   UnprocessedItems, as DynamoDB does under throttling (not an error: the caller must resend).
 *
 * Draws come from a seeded generator, so one seed gives the same faults on the same calls.
 */
export const FAULT_KINDS = ['throttle', 'server', 'timeout', 'lost', 'partial'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  /** Share of calls that fail, 0..1. */
  readonly rate: number;
  /** Which faults to draw from, evenly. @default every kind */
  readonly kinds?: readonly FaultKind[];
  /** Seed of the generator. @default 1 */
  readonly seed?: number;
  /** Only these operations (e.g. BatchWriteItem, PutItem); @default every operation */
  readonly operations?: readonly string[];
}

export interface FaultCounts {
  calls: number;
  injected: Record<FaultKind, number>;
}

/** mulberry32: small, seeded and good enough to spread faults over calls. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
}

/**
 * Reads `rate=0.1,kinds=throttle+server+lost,seed=7,ops=BatchWriteItem+PutItem` (the form of
 * `SENTINEL_FAULTS`). Every part but rate is optional; a bad part is named.
 */
export function parseFaultSpec(text: string): FaultSpec {
  const parts = new Map<string, string>();
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value] = part.split('=', 2).map((s) => s.trim());
    if (!key || value === undefined || value === '')
      throw new FaultSpecError(`fault spec part "${part}" is not key=value`);
    parts.set(key, value);
  }
  for (const key of parts.keys())
    if (!['rate', 'kinds', 'seed', 'ops'].includes(key))
      throw new FaultSpecError(`fault spec has an unknown key "${key}" (known: rate, kinds, seed, ops)`);
  const rate = Number(parts.get('rate'));
  if (!parts.has('rate') || !Number.isFinite(rate) || rate < 0 || rate > 1)
    throw new FaultSpecError(`fault spec needs rate=<0..1>, got "${parts.get('rate') ?? ''}"`);
  const kinds = parts.get('kinds')?.split('+');
  for (const k of kinds ?? [])
    if (!(FAULT_KINDS as readonly string[]).includes(k))
      throw new FaultSpecError(`fault kind "${k}" is not one of ${FAULT_KINDS.join(', ')}`);
  const seed = parts.has('seed') ? Number(parts.get('seed')) : undefined;
  if (seed !== undefined && !Number.isInteger(seed))
    throw new FaultSpecError('fault spec seed must be an integer');
  return {
    rate,
    kinds: kinds as FaultKind[] | undefined,
    seed,
    operations: parts.get('ops')?.split('+'),
  };
}

const timeoutError = (when: string) =>
  Object.assign(new Error(`injected fault: connection timed out ${when}`), {
    name: 'TimeoutError',
    code: 'ETIMEDOUT',
    $metadata: {},
  });

type BatchInput = { RequestItems?: Record<string, unknown[]> };
type BatchOutput = { UnprocessedItems?: Record<string, unknown[]> };

/** Splits a batch: the first half goes to the store now, the rest comes back unprocessed. */
function withhold(input: BatchInput): { sent: BatchInput; held: Record<string, unknown[]> } | undefined {
  const entries = Object.entries(input.RequestItems ?? {});
  const total = entries.reduce((n, [, v]) => n + v.length, 0);
  if (total < 2) return undefined;
  let keep = Math.ceil(total / 2);
  const sent: Record<string, unknown[]> = {};
  const held: Record<string, unknown[]> = {};
  for (const [table, items] of entries) {
    const k = Math.min(keep, items.length);
    keep -= k;
    if (k > 0) sent[table] = items.slice(0, k);
    if (k < items.length) held[table] = items.slice(k);
  }
  return { sent: { ...input, RequestItems: sent }, held };
}

/**
 * Adds the fault middleware to a client; returns the live counts (calls seen, faults injected).
 * Meant for local runs and tests: the deployed handlers never call it.
 */
export function injectFaults(client: DynamoDBClient, spec: FaultSpec): FaultCounts {
  const random = generator(spec.seed ?? 1);
  const kinds = spec.kinds?.length ? spec.kinds : FAULT_KINDS;
  const counts: FaultCounts = {
    calls: 0,
    injected: { throttle: 0, server: 0, timeout: 0, lost: 0, partial: 0 },
  };
  const applies = (op: string) => !spec.operations || spec.operations.includes(op);
  const draw = (op: string): FaultKind | undefined => {
    if (!applies(op) || random() >= spec.rate) return undefined;
    return kinds[Math.floor(random() * kinds.length)];
  };
  const pending = new WeakMap<object, FaultKind>();

  // Partial batches change the input, so they are decided before the request is serialized.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = String(context.commandName ?? '').replace(/Command$/, '');
      counts.calls++;
      const kind = draw(op);
      if (kind === undefined) return next(args);
      if (kind !== 'partial') {
        pending.set(args.input as object, kind);
        return next(args);
      }
      const split = op === 'BatchWriteItem' ? withhold(args.input as BatchInput) : undefined;
      if (!split) return next(args);
      counts.injected.partial++;
      const result = await next({ ...args, input: split.sent });
      const output = result.output as BatchOutput;
      const unprocessed = { ...(output.UnprocessedItems ?? {}) };
      for (const [table, items] of Object.entries(split.held))
        unprocessed[table] = [...(unprocessed[table] ?? []), ...items];
      return { ...result, output: { ...output, UnprocessedItems: unprocessed } as typeof result.output };
    },
    { step: 'initialize', name: 'sentinelFaultDraw', priority: 'high' },
  );
  // Errors are thrown inside the retry loop, once per call (the SDK's retries then pass).
  client.middlewareStack.add(
    (next) => async (args) => {
      const kind = pending.get(args.input as object);
      if (kind === undefined) return next(args);
      pending.delete(args.input as object);
      counts.injected[kind]++;
      if (kind === 'throttle')
        throw new ProvisionedThroughputExceededException({
          message: 'injected fault: throughput exceeded',
          $metadata: { httpStatusCode: 400 },
        });
      if (kind === 'server')
        throw new InternalServerError({
          message: 'injected fault: internal server error',
          $metadata: { httpStatusCode: 500 },
        });
      if (kind === 'timeout') throw timeoutError('before the request was sent');
      const result = await next(args);
      void result;
      throw timeoutError('after the store applied the request (its response was lost)');
    },
    { step: 'finalizeRequest', name: 'sentinelFaultThrow', priority: 'low' },
  );
  return counts;
}
