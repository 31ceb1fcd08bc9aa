import { randomUUID } from 'node:crypto';
import { access, mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent } from 'aws-lambda';
import { DynamoCheckLog } from '../../../functions/adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../../../functions/adapters/dynamodb-checks.ts';
import type { OrderBookDeps } from '../../../functions/checks/release.ts';
import type { PolicyChanges } from '../../../functions/credit/ports.ts';
import { createIngestHandler } from '../../../functions/ingest/app.ts';
import { KINDS } from '../../../functions/ingest/kinds.ts';
import type { ChangeNotifier } from '../../../functions/ingest/ports.ts';
import { isReport } from '../../../functions/ingest/rejects.ts';
import { ProfileCatalog } from '../../../functions/ingest/uploads.ts';
import type { InboxObjectStore } from './files.ts';
import { type LocalEnv, localRunOwner } from './index.ts';
import { localMetrics } from './metrics.ts';

export const INBOX_BUCKET = 'local-inbox';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/**
 * Kinds in the order a drop of several files must load: master data and rates before receivables,
 * and a customer's cover, statements and scores before its invoices, so the evaluation after each
 * upload already sees them.
 */
const ORDER = [
  'policy',
  'customers',
  'fx',
  'financials',
  'guarantees',
  'insurance',
  'scores',
  // An open order before the invoice that releases it (functions/checks/release.ts).
  'orders',
  'invoices',
  'payments',
  'profile',
];

/** The S3 -> SQS event the upload bucket would send for this object, so the same handler runs. */
/**
 * Where an upload's key sits in the load order (lower first): `profile/<name>/<kind>/` files load
 * in their kind's place, customers before invoices; an unknown folder last.
 */
export function loadRank(key: string): number {
  const [top, , kind] = key.split('/');
  const i = ORDER.indexOf(top === 'profile' && kind && ORDER.includes(kind) ? kind : (top as string));
  return i < 0 ? ORDER.length : i;
}

export function s3SqsEvent(key: string, size: number, versionId: string): SQSEvent {
  const s3Event = {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'local',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: INBOX_BUCKET, arn: `arn:aws:s3:::${INBOX_BUCKET}` },
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'), size, versionId },
        },
      },
    ],
  };
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: randomUUID(),
        body: JSON.stringify(s3Event),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:local:000000000000:ingest',
        awsRegion: 'local',
      },
    ],
  };
}

export function localContext(): Context {
  const deadline = Date.now() + 15 * 60 * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'credit-sentinel-ingest-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:credit-sentinel-ingest-local',
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Without the approval chain (a handler built without `npm start`'s transfers) a policy is asked nowhere. */
const NO_POLICY_CHANGES: PolicyChanges = {
  propose: async () => ({
    ok: false,
    field: 'policy',
    problem:
      'a policy change goes through the approval chain, which this process does not run (npm start does)',
  }),
};

/**
 * The credit checks' order book on this machine (functions/checks/release.ts): where an `orders`
 * upload reserves and an invoice naming its order releases, logged in the customers' partitions
 * (the console's chainer, or `sentinel ingest` before it exits, puts them on the trail).
 */
export function localOrderBook(env: Pick<LocalEnv, 'store'>): OrderBookDeps {
  return {
    store: new DynamoCheckStore(env.store.client, env.store.tableName),
    log: new DynamoCheckLog(env.store.client, env.store.tableName),
  };
}

/**
 * The ingest Lambda's handler, built with local adapters (dynalite, the inbox folder, the outbox).
 * Its metrics go to `<dataDir>/metrics.jsonl` (infra/local/runtime/metrics.ts), where the ops page reads them.
 */
export function localIngestHandler(
  env: LocalEnv,
  inbox: InboxObjectStore,
  notifier: ChangeNotifier,
  timeZone: string,
  metrics: Metrics = localMetrics(env.dataDir, 'ingest'),
  policies: PolicyChanges = NO_POLICY_CHANGES,
) {
  const logger = new Logger({
    serviceName: 'ingest',
    logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN') as 'WARN',
  });
  return createIngestHandler({
    ingest: {
      store: env.store,
      notifier,
      clock: { now: () => new Date() },
      timeZone,
      owner: localRunOwner(),
      orders: localOrderBook(env),
    },
    objects: inbox,
    profiles: new ProfileCatalog(),
    policies,
    dynamo: env.store.client,
    tableName: env.store.tableName,
    logger,
    metrics,
  });
}

/** How long the inbox waits before each retry of a failing file; after the last it is moved aside. */
export const RETRY_BACKOFF_MS: readonly number[] = [2000, 4000, 8000, 16000];

/** The folder of the inbox where files that kept failing are moved, with their reason. */
export const FAILED_DIR = 'failed';

interface Failure {
  readonly at: string;
  readonly reason: string;
  readonly version: string;
  readonly attempts: number;
  /** Not tried again before this time (ms). */
  readonly nextAt: number;
  /** Where the file went once it failed every retry. */
  readonly movedTo?: string | undefined;
}

/**
 * Watches `inbox/<kind>/` and `inbox/profile/<name>/` like the bucket notification does: a file
 * whose size and mtime held still for one poll is handed to the ingest handler as an S3 event.
 * The object "version" is its mtime and size, so an unchanged file is never ingested twice (the
 * upload's claim in the store says so) and an edited one is.
 *
 * A file whose ingest fails is tried again after 2, 4, 8 and 16 s, then moved to
 * `inbox/failed/<key>` with `<key>.reason.txt` beside it, as the queue's DLQ takes the message on
 * AWS. Nothing in the inbox stops the watcher: folders, odd names, unreadable or vanishing files
 * are skipped or failed like any other file.
 */
/** How long the inbox waits before it looks again at a file another live ingest holds. */
const BUSY_WAIT_MS = 5_000;

/** What the inbox tells whoever runs it (the `start` terminal): each file as it goes. */
export interface InboxEvents {
  /** A settled file is handed to the ingest. */
  readonly picked?: (key: string, version: string) => void;
  /** Its ingest finished (the run is in the store); awaited before the next file. */
  readonly finished?: (key: string, version: string) => Promise<void> | void;
  /** A file sits where it is never read (the inbox root): told once per version. */
  readonly stray?: (key: string) => void;
}

export class InboxWatcher {
  private timer: NodeJS.Timeout | undefined;
  private readonly lastSeen = new Map<string, string>();
  private readonly handled = new Set<string>();
  private readonly failures = new Map<string, Failure>();
  /** Files already announced as picked up (a retry is not a new pick) or as strays. */
  private readonly told = new Set<string>();
  private strays: { key: string; version: string }[] = [];
  private busy: Promise<void> = Promise.resolve();

  constructor(
    readonly inbox: InboxObjectStore,
    private readonly handler: (e: SQSEvent, c: Context) => Promise<unknown>,
    private readonly onError: (file: string, e: unknown) => void = () => undefined,
    private readonly backoffMs: readonly number[] = RETRY_BACKOFF_MS,
    private readonly events: InboxEvents = {},
  ) {}
  static async prepare(root: string): Promise<void> {
    for (const k of KINDS) await mkdir(join(root, k), { recursive: true });
    await mkdir(join(root, 'profile', 'ibm-accounts-receivable'), { recursive: true });
    for (const k of ['customers', 'invoices', 'payments'])
      await mkdir(join(root, 'profile', 'eu-semicolon', k), { recursive: true });
    await mkdir(join(root, 'policy'), { recursive: true });
    await writeFile(
      join(root, 'README.txt'),
      [
        'Drop finance files here; credit-sentinel ingests them within a few seconds.',
        '  customers/ invoices/ payments/ financials/ fx/   canonical CSV, JSON Lines or .xlsx',
        '  guarantees/ insurance/ scores/                   the same, for credit cover and agency scores',
        '  profile/<profile name>/                          an ERP export read through a mapping profile',
        '  profile/eu-semicolon/<kind>/                     semicolon CSV with decimal commas and D.M.YYYY dates',
        '  policy/                                          a credit policy (.json) to put to the approval chain',
        'Each file gets <name>.rejects.csv beside it: every refused row with its line and reason;',
        'invoices and payments also get <name>.warnings.csv: rows loaded for customers not on file.',
        'A file whose ingest keeps failing is tried 5 times (over about 30 s), then moved to failed/',
        'with <name>.reason.txt beside it.',
        '',
      ].join('\n'),
    );
  }

  private async files(): Promise<{ key: string; size: number; version: string }[]> {
    const found: { key: string; size: number; version: string }[] = [];
    const strays: { key: string; version: string }[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          if (dir === this.inbox.root && e.name === FAILED_DIR) continue;
          await walk(p);
        } else if (e.isFile() && !isReport(e.name) && !e.name.endsWith('.part') && !e.name.startsWith('.')) {
          const key = this.inbox.keyOf(p);
          if (key === 'README.txt') continue;
          try {
            const s = await stat(p);
            const file = { key, size: s.size, version: `${Math.trunc(s.mtimeMs)}-${s.size}` };
            // A file in the root has no kind: the bucket's notification would not match it either.
            if (key.includes('/')) found.push(file);
            else strays.push(file);
          } catch {
            // gone since it was listed
          }
        }
      }
    };
    await walk(this.inbox.root);
    this.strays = strays;
    return found.sort((a, b) => loadRank(a.key) - loadRank(b.key) || (a.key < b.key ? -1 : 1));
  }

  /** One pass: hands every settled, not yet handled file to the handler, in load order. */
  scan(requireSettled = true): Promise<void> {
    this.busy = this.busy.then(() =>
      this.pass(requireSettled).catch((e: unknown) => this.onError('(inbox)', e)),
    );
    return this.busy;
  }

  private async pass(requireSettled: boolean): Promise<void> {
    const files = await this.files();
    for (const f of this.strays) {
      const id = `stray ${f.key}#${f.version}`;
      if (this.told.has(id)) continue;
      this.told.add(id);
      this.events.stray?.(f.key);
    }
    // A failing file taken out of the inbox (or edited) is no longer waiting.
    for (const [key, f] of this.failures)
      if (!f.movedTo && !files.some((x) => x.key === key && x.version === f.version))
        this.failures.delete(key);
    for (const f of files) {
      const id = `${f.key}#${f.version}`;
      if (this.handled.has(id)) continue;
      if (requireSettled && this.lastSeen.get(f.key) !== f.version) {
        this.lastSeen.set(f.key, f.version);
        continue;
      }
      const before = this.failures.get(f.key);
      if (before?.movedTo && before.version !== f.version) this.failures.delete(f.key);
      else if (before && Date.now() < before.nextAt) continue;
      if (!this.told.has(id)) {
        this.told.add(id);
        this.events.picked?.(f.key, f.version);
      }
      try {
        const res = (await this.handler(s3SqsEvent(f.key, f.size, f.version), localContext())) as {
          batchItemFailures: unknown[];
          reasons?: string[];
        };
        if (res.batchItemFailures.length === 0) {
          this.handled.add(id);
          this.failures.delete(f.key);
          await Promise.resolve(this.events.finished?.(f.key, f.version)).catch(() => undefined);
        } else
          await this.failed(f, new Error(res.reasons?.join('; ') || 'the ingest handler reported a failure'));
      } catch (e) {
        await this.failed(f, e);
      }
    }
  }

  private async failed(f: { key: string; version: string }, e: unknown): Promise<void> {
    const reason = e instanceof Error ? e.message : String(e);
    const before = this.failures.get(f.key);
    const at = new Date().toISOString();
    // Another live ingest of the same file (the CLI beside `npm start`) is not a failure of it:
    // wait for that run without counting a try, so the file is never moved aside for it.
    if (/^another ingest of .* has been running since/m.test(reason.replace(/^[^:]*: /, ''))) {
      const attempts = before && before.version === f.version ? before.attempts : 0;
      this.failures.set(f.key, {
        at,
        reason,
        version: f.version,
        attempts,
        nextAt: Date.now() + BUSY_WAIT_MS,
      });
      return;
    }
    const attempts = before && before.version === f.version ? before.attempts + 1 : 1;
    const wait = this.backoffMs[attempts - 1];
    if (wait !== undefined) {
      this.failures.set(f.key, { at, reason, version: f.version, attempts, nextAt: Date.now() + wait });
      this.onError(f.key, new Error(`${reason} (try ${attempts}; the next in ${wait / 1000} s)`));
      return;
    }
    const movedTo = await this.moveAside(f.key, reason, attempts);
    this.failures.set(f.key, { at, reason, version: f.version, attempts, nextAt: 0, movedTo });
    this.onError(
      f.key,
      new Error(`${reason} (failed ${attempts} times${movedTo ? `; moved to ${movedTo}` : ''})`),
    );
  }

  /** Moves a file that failed every retry to `failed/<key>`, its reason beside it; the new key, if moved. */
  private async moveAside(key: string, reason: string, attempts: number): Promise<string | undefined> {
    const from = join(this.inbox.root, key);
    let to = join(this.inbox.root, FAILED_DIR, key);
    try {
      await mkdir(dirname(to), { recursive: true });
      if (await exists(to)) to = `${to}.${Date.now()}`;
      await rename(from, to);
      await writeFile(
        `${to}.reason.txt`,
        `${key} failed ${attempts} times; the last time at ${new Date().toISOString()}:\n${reason}\nPut it back in the inbox to try again.\n`,
      );
      return this.inbox.keyOf(to);
    } catch {
      return undefined; // it vanished, or the folder is read-only: it stays listed as failing
    }
  }

  /**
   * The inbox's stand-in for the ingest queue's dead-letter queue: files whose last ingest failed
   * (the handler threw or failed the message), retried with backoff and then moved to `failed/`.
   * On AWS such a message goes to the DLQ after 3 receives. A file that cannot be read is not one
   * of them: its run is stored as `unreadable` with the reason, like on AWS.
   */
  failing(): { readonly file: string; readonly at: string; readonly reason: string }[] {
    return [...this.failures].map(([file, f]) => ({
      file,
      at: f.at,
      reason: f.movedTo ? `${f.reason} (failed ${f.attempts} times; moved to ${f.movedTo})` : f.reason,
    }));
  }

  start(intervalMs = 1000): void {
    const tick = () => {
      void this.scan().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    if (t) clearTimeout(t);
    await this.busy;
  }
}
