import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * moto's server (`python3 -m moto.server`, moto 5.2: DynamoDB, S3, SNS, SQS, Secrets Manager, Step
 * Functions and more, written by others) for the AWS adapter tests: one server per test file, on
 * a free port, started in beforeAll and stopped in afterAll. The adapters talk to it through the
 * real AWS SDK v3 clients with `clientConfig`.
 *
 *   let moto: Moto;
 *   beforeAll(async () => { moto = await startMoto(); });
 *   afterAll(() => moto?.close());
 *   new SNSClient(moto.clientConfig)
 */
export interface Moto {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Region, endpoint, dummy credentials and one attempt per call (a retry would hide a bad answer). */
  readonly clientConfig: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    maxAttempts: number;
  };
  /** moto's account id: the one in every ARN it hands out. */
  readonly accountId: string;
  /** Forgets every resource of every service (moto's reset API). */
  reset(): Promise<void>;
  /** Stops the server and waits for it to exit. */
  close(): Promise<void>;
}

export interface MotoOptions {
  /**
   * Runs Step Functions executions for real (moto's ASL interpreter, ported from LocalStack), with
   * service integrations such as `sqs:sendMessage.waitForTaskToken` against moto's own services.
   * Without it, moto only records executions (SendTask* then accept any token). @default false
   */
  readonly executeStateMachines?: boolean;
  /** @default 'eu-west-1' */
  readonly region?: string;
}

export const MOTO_INSTALL = "pip install 'moto[server]==5.2.1'";

/**
 * `python3 -m moto.server`, and gone within a second of the process that started it: a test
 * worker killed mid-file (no afterAll, no exit handler) must not leave a server behind.
 */
const SERVE = `
import os, sys, threading, time
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
`;

const freePort = () =>
  new Promise<number>((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/** Waits for the server to answer, or for the process to end (then says why). */
async function waitUp(child: ChildProcess, endpoint: string, stderr: () => string): Promise<boolean> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`moto did not answer on ${endpoint} within 45 s: ${stderr().slice(-500)}`);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((ok) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(hard);
      ok();
    });
    child.kill('SIGTERM');
  });
}

export async function startMoto(opts: MotoOptions = {}): Promise<Moto> {
  const region = opts.region ?? 'eu-west-1';
  // A free port can be taken between the probe and moto's bind: try another one then.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    let err = '';
    const child = spawn('python3', ['-c', SERVE, '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', process.env.MOTO_DEBUG ? 'inherit' : 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    child.stderr?.on('data', (b: Buffer) => {
      err = (err + b.toString('utf8')).slice(-4_000);
    });
    const spawnError = new Promise<Error>((ok) => child.once('error', ok));
    const up = await Promise.race([waitUp(child, endpoint, () => err), spawnError]);
    if (up instanceof Error) throw new Error(`python3 could not be started (${up.message}); ${MOTO_INSTALL}`);
    if (!up) {
      if (/No module named moto/.test(err)) throw new Error(`moto is not installed: ${MOTO_INSTALL}`);
      if (attempt < 3 && /address already in use/i.test(err)) continue;
      throw new Error(`moto exited before answering: ${err.slice(-500)}`);
    }
    // A runner that exits without afterAll: stop the server at once (SERVE covers a killed one).
    const onExit = () => child.kill('SIGKILL');
    process.once('exit', onExit);
    const moto: Moto = {
      endpoint,
      accountId: '123456789012',
      clientConfig: {
        region,
        endpoint,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      },
      reset: async () => {
        const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
        if (!res.ok) throw new Error(`moto reset: HTTP ${res.status}`);
      },
      close: async () => {
        process.off('exit', onExit);
        await stop(child);
      },
    };
    if (opts.executeStateMachines) {
      const res = await fetch(`${endpoint}/moto-api/config`, {
        method: 'POST',
        body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
      });
      if (!res.ok) {
        await moto.close();
        throw new Error(`moto config: HTTP ${res.status}`);
      }
    }
    return moto;
  }
}
