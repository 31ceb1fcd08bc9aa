import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { listMail, type OutboxMail } from '../../infra/local/runtime/transfers.ts';
import { BIN } from './cli-run.ts';

/**
 * `sentinel start` as a user runs it, on one data dir and one port, killed and started again: each
 * life may carry a crash point (SENTINEL_CRASH_AT, functions/core/crash.ts) that kills it with
 * SIGKILL; a dead life is replaced by the next on the next call.
 */

export const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** A port free now (the stack keeps it across lives, so the links already emailed stay right). */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

interface Life {
  readonly proc: ChildProcess;
  readonly crashAt: string | undefined;
  readonly exited: Promise<void>;
  out: string;
  dead: boolean;
}

/** A transport failure: the process died under the request. */
export class Died extends Error {}

export class RestartingStack {
  readonly url: string;
  /** Crash points that killed a life, in order. */
  readonly kills: string[] = [];
  /** Every life's output, for a failing assertion's message. */
  readonly logs: string[] = [];
  private life: Life | undefined;
  private lives = 0;

  constructor(
    readonly dir: string,
    readonly port: number,
    /** One crash point (or none) per life, in order; lives after the list have none. */
    private crashes: readonly (string | undefined)[],
    private readonly env: Readonly<Record<string, string>> = {},
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Lives started from now on carry no crash point. */
  disarm(): void {
    this.crashes = [];
  }

  /** How many times `sentinel start` was started. */
  get starts(): number {
    return this.lives;
  }

  private closed = false;

  /** Killed for good: no life starts after this (a test that timed out stops here). */
  async close(): Promise<void> {
    this.closed = true;
    await this.kill();
  }

  /** A live process, starting one (after the previous died) when needed. */
  async up(): Promise<void> {
    for (;;) {
      if (this.closed) throw new Error(`the stack on ${this.dir} is closed`);
      if (this.life && !this.life.dead) return;
      const crashAt = this.crashes[this.lives];
      this.lives++;
      const proc = spawn(
        process.execPath,
        [
          BIN,
          'start',
          '--data-dir',
          this.dataDir,
          '--inbox',
          join(this.dir, 'inbox'),
          '--port',
          String(this.port),
          '--no-demo',
        ],
        {
          cwd: this.dir,
          env: {
            ...process.env,
            SENTINEL_TIME_ZONE: 'UTC',
            ...this.env,
            ...(crashAt ? { SENTINEL_CRASH_AT: crashAt } : { SENTINEL_CRASH_AT: '' }),
          },
        },
      );
      const life: Life = {
        proc,
        crashAt,
        out: '',
        dead: false,
        exited: new Promise<void>((ok) =>
          proc.once('exit', () => {
            life.dead = true;
            const killed = /SENTINEL_CRASH_AT: killing the process at (\S+)/.exec(life.out)?.[1];
            if (killed) this.kills.push(killed);
            this.logs.push(life.out);
            ok();
          }),
        ),
      };
      this.life = life;
      const ready = new Promise<boolean>((ok) => {
        const onData = (d: Buffer) => {
          life.out += d;
          if (life.out.includes('Ctrl-C stops it.')) ok(true);
        };
        proc.stdout?.on('data', onData);
        proc.stderr?.on('data', onData);
        void life.exited.then(() => ok(false));
      });
      const t = setTimeout(() => proc.kill('SIGKILL'), 60_000);
      const ok = await ready;
      clearTimeout(t);
      if (ok) return;
      if (!/SENTINEL_CRASH_AT: killing/.test(life.out))
        throw new Error(`sentinel start died before it was up:\n${life.out}`);
    }
  }

  /** Whether the current life has died (it is not started again by this). */
  get down(): boolean {
    return this.life?.dead ?? true;
  }

  /**
   * A request to the running stack; Died if the process died under it (the caller reads the
   * state again and carries on, as a person would after a restart).
   */
  async fetch(path: string, init?: RequestInit): Promise<Response> {
    await this.up();
    try {
      return await fetch(path.startsWith('http') ? path : `${this.url}${path}`, init);
    } catch (e) {
      // Killed under the request: wait for the exit so the next call starts the next life.
      await Promise.race([this.life?.exited, sleep(10_000)]);
      throw new Died((e as Error).message);
    }
  }

  /** JSON of a GET, retried across deaths. */
  async get<T>(path: string): Promise<T> {
    for (;;)
      try {
        return (await (await this.fetch(path)).json()) as T;
      } catch (e) {
        if (!(e instanceof Died)) throw e;
      }
  }

  /** Stops the running life as Ctrl-C does and waits for it. */
  async stop(): Promise<void> {
    const life = this.life;
    if (!life || life.dead) return;
    life.proc.kill('SIGINT');
    await Promise.race([life.exited, sleep(30_000)]);
    if (!life.dead) {
      life.proc.kill('SIGKILL');
      await life.exited;
    }
  }

  /** Kills the running life as `kill -9` does. */
  async kill(): Promise<void> {
    const life = this.life;
    if (!life || life.dead) return;
    life.proc.kill('SIGKILL');
    await life.exited;
  }

  /** The approval emails of the outbox for one transfer. */
  mail(transferId: string): Promise<OutboxMail[]> {
    return listMail(this.dataDir, undefined, (f) => f.includes(`-${transferId}-`));
  }
}
