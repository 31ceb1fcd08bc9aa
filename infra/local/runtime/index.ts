import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../../../functions/adapters/dynamodb.ts';
import {
  type FaultCounts,
  type FaultSpec,
  injectFaults,
  parseFaultSpec,
} from '../../../functions/adapters/faults.ts';
import { withoutSdkLogging } from '../../../functions/adapters/sdk.ts';

export const LOCAL_TABLE = 'credit-sentinel';
export const LOCAL_REGION = 'local';

export interface LocalOptions {
  /** Where the embedded store, outbox and state live. @default ./.sentinel */
  readonly dataDir?: string;
  /** Keep the store in memory (a throwaway run). */
  readonly inMemory?: boolean;
  /**
   * Faults to inject between this process and its store (tests, and anyone checking that a run
   * retries to the same end as a clean one). @default `SENTINEL_FAULTS` when set, else none
   */
  readonly faults?: FaultSpec;
  /**
   * A DynamoDB endpoint to use instead of starting dynalite: moto, DynamoDB Local, or a proxy in
   * front of either. @default `SENTINEL_DYNAMODB_ENDPOINT` when set
   */
  readonly endpoint?: string;
}

export interface Dynalite {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts dynalite (DynamoDB's API over HTTP, LevelDB on disk or in memory) on a loopback port (a
 * free one by default) in a worker thread of this process (infra/local/runtime/dynalite-worker.mjs):
 * the store on one core, the handlers and the SDK on another, as on AWS they run on different
 * machines. Measured on the credit-check bench (2 cores): 185 checks/s in one thread, 333 with the
 * store in its own. The thread ends when the store is closed.
 */
export async function startDynalite(path?: string, port = 0): Promise<Dynalite> {
  if (path) await mkdir(path, { recursive: true });
  const worker = new Worker(new URL('./dynalite-worker.mjs', import.meta.url), {
    workerData: { path, port },
    // The worker is plain JavaScript: no TypeScript loader, no inspector flags of the parent.
    execArgv: [],
    name: 'dynalite',
  });
  const started = await new Promise<{ port?: number; error?: string; code?: string }>((ok, fail) => {
    worker.once('message', ok);
    worker.once('error', fail);
    worker.once('exit', (code) =>
      fail(new Error(`the embedded store's thread exited (${code}) before it listened`)),
    );
  });
  if (started.port === undefined) {
    await worker.terminate();
    throw Object.assign(new Error(`dynalite could not listen on 127.0.0.1:${port}: ${started.error}`), {
      code: started.code,
    });
  }
  worker.removeAllListeners('exit');
  worker.removeAllListeners('error');
  // A store that dies under the process fails it, as it did when it ran on the main thread.
  worker.once('error', (e) => {
    throw new Error(`the embedded store (dynalite, on its own thread) failed: ${e.message}`, { cause: e });
  });
  let exited = false;
  worker.once('exit', () => {
    exited = true;
  });
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${started.port}`,
    close: () => {
      closing ??= new Promise<void>((ok) => {
        if (exited) return ok();
        worker.once('exit', () => ok());
        worker.postMessage('close');
        // A thread that does not close its LevelDB within 10 s is stopped.
        setTimeout(() => void worker.terminate(), 10_000).unref();
      });
      return closing;
    },
  };
}

/** The faults this process was asked for: the option, else `SENTINEL_FAULTS`, else none. */
export function faultsFor(opts: Pick<LocalOptions, 'faults'> = {}): FaultSpec | undefined {
  if (opts.faults) return opts.faults;
  const text = process.env.SENTINEL_FAULTS?.trim();
  return text ? parseFaultSpec(text) : undefined;
}

/** What the fault seam injected in this process, per client (read by tests and the CLI's --debug). */
export const injectedFaults: FaultCounts[] = [];

/**
 * Retries throttling, server errors and timeouts up to `maxAttempts` with exponential backoff and
 * full jitter (25 ms doubling, capped at 5 s), and nothing else. Unlike the SDK's standard
 * strategy it keeps no shared retry quota: with 10% of calls failing, a long ingest would empty
 * the quota and then fail on the next single error.
 */
export function patientRetries(maxAttempts = 10, baseMs = 25) {
  type Token = { attempts: number; delay: number };
  return {
    mode: 'standard',
    async acquireInitialRetryToken(): Promise<{ getRetryCount(): number; getRetryDelay(): number }> {
      return tokenOf({ attempts: 0, delay: 0 });
    },
    async refreshRetryTokenForRetry(
      token: { getRetryCount(): number },
      info: { errorType: string },
    ): Promise<{ getRetryCount(): number; getRetryDelay(): number }> {
      const attempts = token.getRetryCount() + 1;
      if (attempts >= maxAttempts || info.errorType === 'CLIENT_ERROR') throw new Error('no more retries');
      return tokenOf({ attempts, delay: Math.random() * Math.min(5000, baseMs * 2 ** attempts) });
    },
    recordSuccess(): void {},
  };
  function tokenOf(t: Token) {
    return { getRetryCount: () => t.attempts, getRetryDelay: () => t.delay };
  }
}

/**
 * This process as the owner of an ingest run or upload claim (`<host>:<pid>`), and whether the
 * process of another owner on this host is still alive: a run killed with `kill -9` is taken over
 * at once instead of after its lease.
 */
export function localRunOwner(): { id: string; alive(owner: string): boolean | undefined } {
  const host = hostname();
  return {
    id: `${host}:${process.pid}`,
    alive(owner) {
      const at = owner.lastIndexOf(':');
      const pid = Number(owner.slice(at + 1));
      if (owner.slice(0, at) !== host || !Number.isInteger(pid) || pid <= 0) return undefined;
      if (pid === process.pid) return true;
      try {
        process.kill(pid, 0);
        return true;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    },
  };
}

export function localClient(endpoint: string, faults?: FaultSpec, region = LOCAL_REGION): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    retryStrategy: patientRetries(),
  });
  withoutSdkLogging(client);
  if (faults && faults.rate > 0) injectedFaults.push(injectFaults(client, faults));
  return client;
}

export interface LocalEnv {
  readonly dataDir: string;
  readonly endpoint: string;
  readonly store: DynamoStore;
  /** True when another process (`npm start`) owns the store and this one talks to it. */
  readonly shared: boolean;
  close(): Promise<void>;
}

interface ServerInfo {
  pid: number;
  endpoint: string;
}

const serverFile = (dataDir: string) => join(dataDir, 'server.json');

/**
 * The `npm start` serving this data dir, if one is alive. A dead process, or an endpoint that
 * refuses the connection (a pid reused after `kill -9`), is no server. An endpoint that is slow
 * to answer (a loaded machine) is asked again for up to `SERVER_ANSWER_MS`: opening the LevelDB
 * beside a live server would only fail on its lock.
 */
async function liveServer(dataDir: string): Promise<ServerInfo | undefined> {
  let info: ServerInfo;
  try {
    info = JSON.parse(await readFile(serverFile(dataDir), 'utf8')) as ServerInfo;
    process.kill(info.pid, 0); // throws when the process is gone
  } catch {
    return undefined;
  }
  const until = Date.now() + SERVER_ANSWER_MS;
  for (;;) {
    const answer = await fetch(info.endpoint, { method: 'POST', signal: AbortSignal.timeout(2000) }).then(
      () => 'answered' as const,
      (e: unknown) => (isTimeout(e) ? ('slow' as const) : ('refused' as const)),
    );
    if (answer === 'answered') return info;
    if (answer === 'refused') return undefined;
    if (Date.now() >= until)
      throw new Error(
        `sentinel start (pid ${info.pid}) serves ${dataDir}, but its store at ${info.endpoint} did not answer within ${SERVER_ANSWER_MS / 1000} s; try again, or stop it`,
      );
  }
}

const SERVER_ANSWER_MS = 30_000;

function isTimeout(e: unknown): boolean {
  return e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
}

/**
 * Opens the local store. When `npm start` already serves this data dir, its dynalite is used
 * (LevelDB allows one process per directory); otherwise an embedded one is started.
 */
export async function openLocal(opts: LocalOptions = {}, publish = false): Promise<LocalEnv> {
  const dataDir = resolve(opts.dataDir ?? '.sentinel');
  await mkdir(dataDir, { recursive: true });
  const faults = faultsFor(opts);
  const external = opts.endpoint ?? process.env.SENTINEL_DYNAMODB_ENDPOINT?.trim();
  if (external) {
    // moto and DynamoDB Local keep one store per Region and know only AWS's Region names.
    const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const store = new DynamoStore({ tableName: LOCAL_TABLE, client: localClient(external, faults, region) });
    await store.ensureTable();
    if (publish)
      await writeFile(serverFile(dataDir), JSON.stringify({ pid: process.pid, endpoint: external }));
    return {
      dataDir,
      endpoint: external,
      store,
      shared: false,
      close: async () => {
        store.client.destroy();
        if (publish) await rm(serverFile(dataDir), { force: true });
      },
    };
  }
  const running = opts.inMemory ? undefined : await liveServer(dataDir);
  if (running) {
    const store = new DynamoStore({ tableName: LOCAL_TABLE, client: localClient(running.endpoint, faults) });
    return {
      dataDir,
      endpoint: running.endpoint,
      store,
      shared: true,
      close: async () => store.client.destroy(),
    };
  }
  const db = await startDynalite(opts.inMemory ? undefined : join(dataDir, 'dynamodb'));
  const store = new DynamoStore({ tableName: LOCAL_TABLE, client: localClient(db.endpoint, faults) });
  await store.ensureTable();
  if (publish)
    await writeFile(serverFile(dataDir), JSON.stringify({ pid: process.pid, endpoint: db.endpoint }));
  return {
    dataDir,
    endpoint: db.endpoint,
    store,
    shared: false,
    close: async () => {
      store.client.destroy();
      await db.close();
      if (publish) await rm(serverFile(dataDir), { force: true });
    },
  };
}
