import { Readable } from 'node:stream';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IsoDate } from '../../functions/core/dates.ts';
import { evaluate } from '../../functions/credit/evaluate.ts';
import type { Policy } from '../../functions/credit/policy.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import type { LocalEnv } from '../../infra/local/runtime/index.ts';

/**
 * Adds ReturnConsumedCapacity to every read of `client` while `on`, and sums what the store says
 * it consumed (dynalite computes it as DynamoDB does: a Query's items summed, rounded up to 4 KB,
 * half for an eventually consistent read). One meter a client.
 */
export function meter(client: DynamoDBClient) {
  const m = { on: false, units: 0, reads: 0 };
  client.middlewareStack.add(
    (next, ctx) => async (args) => {
      const read = m.on && /^(Query|GetItem|Scan|BatchGetItem)Command$/.test(ctx.commandName ?? '');
      if (read) (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      if (read) {
        const cc = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
        for (const c of (Array.isArray(cc) ? cc : [cc]) as ({ CapacityUnits?: number } | undefined)[])
          m.units += c?.CapacityUnits ?? 0;
        m.reads++;
      }
      return out;
    },
    { step: 'initialize', name: 'readUnits' },
  );
  return m;
}

/** Ingests a CSV text of the kind its name starts with (`invoices/...`), at `now`. */
export function ingestText(env: LocalEnv, name: string, text: string, now: Date) {
  return ingest(
    {
      store: env.store,
      notifier: { customersChanged: async () => {} },
      clock: { now: () => now },
      timeZone: 'UTC',
    },
    {
      source: Readable.from([Buffer.from(text)]),
      fileName: name,
      objectRef: `test://${name}`,
      profile: canonicalProfile(name.split('/')[0] as Kind),
      rejects: { write: () => undefined, close: async () => `${name}.rejects.csv` },
    },
  );
}

/** The daily evaluation of `env` as of a day (at 05:00 UTC), telling nobody. */
export function evaluateQuietly(
  env: LocalEnv,
  policy: Policy,
  asOf: IsoDate,
  opts: { readonly customerIds?: string[]; readonly packHistory?: false } = {},
) {
  return evaluate(
    {
      store: env.store,
      notifier: { notify: async () => {}, digest: async () => {} },
      policy,
      clock: { now: () => new Date(`${asOf}T05:00:00Z`) },
      timeZone: 'UTC',
      ...(opts.packHistory === false ? { packHistory: false as const } : {}),
    },
    { asOf, ...(opts.customerIds ? { customerIds: opts.customerIds } : {}) },
  );
}
