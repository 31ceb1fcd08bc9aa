import { DynamoCheckLog } from '../../../functions/adapters/dynamodb-check-log.ts';
import { type ChainAudit, type ChainReport, chainCheckLog } from '../../../functions/checks/log.ts';

/**
 * The checks' chainer on this machine (functions/checks/log.ts): what the scheduled Lambda does on
 * AWS every minute, every `everyMs` here, one run at a time. `stop` waits for the run in flight
 * and chains what is left, so a stopped console leaves no decision waiting.
 */
export function startCheckChainer(
  store: { readonly client: ConstructorParameters<typeof DynamoCheckLog>[0]; readonly tableName: string },
  audit: ChainAudit,
  opts: { readonly everyMs?: number; readonly onError?: (e: Error) => void } = {},
): { run(): Promise<ChainReport>; stop(): Promise<void> } {
  const log = new DynamoCheckLog(store.client, store.tableName);
  let running: Promise<ChainReport> | undefined;
  const run = (): Promise<ChainReport> => {
    running ??= chainCheckLog({ log, audit }, { now: () => new Date() }).finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    run().catch((e: unknown) => opts.onError?.(e as Error));
  }, opts.everyMs ?? 2_000);
  timer.unref();
  return {
    run,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
      await run().catch((e: unknown) => opts.onError?.(e as Error));
    },
  };
}
