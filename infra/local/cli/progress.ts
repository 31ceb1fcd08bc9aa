/**
 * A single updating progress line on stderr for runs longer than a moment (backtest, evaluate,
 * review): only when stderr is a terminal, so pipes, files and tests see nothing extra. It shows
 * after `SENTINEL_PROGRESS_AFTER_MS` (default 1,000 ms) and is wiped when the run ends, so the
 * result prints on a clean line.
 */
export interface Progress {
  /** What is done so far ("day 120 of 365"); drawn at most every 100 ms. */
  update(text: string): void;
  /** Wipes the line. */
  done(): void;
}

const quiet: Progress = { update: () => undefined, done: () => undefined };

export function progressLine(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return quiet;
  const after = Number(process.env.SENTINEL_PROGRESS_AFTER_MS ?? 1000);
  const started = Date.now();
  let text = 'starting';
  let drawn = 0;
  let shown = false;
  const draw = (force = false) => {
    const now = Date.now();
    if (now - started < after || (!force && now - drawn < 100)) return;
    drawn = now;
    shown = true;
    const line = `${label}: ${text} (${Math.floor((now - started) / 1000)} s)`;
    stream.write(`\r${line.slice(0, (stream.columns || 100) - 1)}\x1b[K`);
  };
  // Ticks while the run waits on I/O; a synchronous loop draws through update().
  const timer = setInterval(() => draw(true), 500);
  timer.unref();
  return {
    update(t) {
      text = t;
      draw();
    },
    done() {
      clearInterval(timer);
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
