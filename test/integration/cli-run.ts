import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The CLI as a user runs it: `node bin/sentinel.mjs ...`, in UTC. */
export const BIN = resolve(import.meta.dirname, '../../bin/sentinel.mjs');

/** How a run of the CLI ended: the exit code (-1 when killed), the signal that killed it, its output. */
export interface CliRun {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `sentinel args` in `cwd` to its end. `env` is added to the environment; `killAfterMs`
 * kills it with SIGKILL after that long (a crash at a random moment).
 */
export function sentinel(
  args: string[],
  cwd: string,
  opts: { readonly env?: Record<string, string>; readonly killAfterMs?: number } = {},
): Promise<CliRun> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, SENTINEL_TIME_ZONE: 'UTC', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer =
      opts.killAfterMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), opts.killAfterMs);
    p.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      ok({ code: code ?? -1, signal, stdout, stderr });
    });
  });
}
