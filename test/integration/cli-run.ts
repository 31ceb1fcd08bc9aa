import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The CLI as a user runs it: `node bin/sentinel.mjs ...`, in UTC. */
export const BIN = resolve(import.meta.dirname, '../../bin/sentinel.mjs');

export function sentinel(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, SENTINEL_TIME_ZONE: 'UTC' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('close', (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
}
