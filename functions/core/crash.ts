/**
 * Deterministic crash points: named places in a run where a test (or a person reproducing a
 * report) can make the process die as `kill -9` would, to check that the next run ends like one
 * clean run. Off unless asked for, and free when off (one Map lookup).
 *
 * - In a process: `SENTINEL_CRASH_AT=<point>[@<n>]` kills the process with SIGKILL the n-th time
 *   (default the first) it reaches that point. The points: `grep -rn "crashPoint('" functions infra`.
 * - In a test: `armCrash(point, n)` makes the n-th arrival throw a SimulatedCrash instead, so
 *   the test can drop the run's in-memory state and start again on the same store.
 */
export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
  constructor(readonly point: string) {
    super(`simulated crash at ${point}`);
  }
}

interface Armed {
  remaining: number;
  mode: 'kill' | 'throw';
}

const armed = new Map<string, Armed>();

function fromEnv(): void {
  const spec = process.env.SENTINEL_CRASH_AT;
  if (!spec) return;
  for (const one of spec.split(',')) {
    const [point, nth] = one.trim().split('@');
    if (point) armed.set(point, { remaining: Number(nth ?? 1) || 1, mode: 'kill' });
  }
}
fromEnv();

/** Marks a place a run may die; does nothing unless this point was armed. */
export function crashPoint(point: string): void {
  if (armed.size === 0) return;
  const a = armed.get(point);
  if (!a) return;
  a.remaining--;
  if (a.remaining > 0) return;
  armed.delete(point);
  if (a.mode === 'throw') throw new SimulatedCrash(point);
  process.stderr.write(`SENTINEL_CRASH_AT: killing the process at ${point}\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** Arms a point for this process: its n-th arrival throws SimulatedCrash. */
export function armCrash(point: string, nth = 1): void {
  armed.set(point, { remaining: nth, mode: 'throw' });
}

/** Disarms every point (tests call it after each case). */
export function disarmCrashes(): void {
  armed.clear();
}
