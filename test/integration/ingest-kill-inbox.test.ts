import { spawn } from 'node:child_process';
import { cp, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { BIN } from './cli-run.ts';
import { books, differences } from './ingest-books.ts';
import { killRig, ROWS, runCli } from './ingest-kill-rig.ts';

/**
 * `kill -9` of `npm start` while its inbox ingests (the CLI: ingest-kill.test.ts), then
 * started again: every customer's figures and every item equal a clean single ingest's.
 */
const rig = killRig();
/** A started server still running when the test ends (a timeout skips the test's own finally). */
let server: ReturnType<typeof spawn> | undefined;
afterEach(() => {
  server?.kill('SIGKILL');
  server = undefined;
});

describe('npm start killed while its inbox ingests, started again', () => {
  it('takes the file up again at once and ends like one clean run', async () => {
    const { dir, files } = rig;
    const dataDir = join(dir, 'inbox-data');
    const inbox = join(dir, 'inbox');
    const start = ['start', '--data-dir', dataDir, '--inbox', inbox, '--port', '0', '--no-demo'];
    await mkdir(join(inbox, 'invoices'), { recursive: true });
    await mkdir(join(inbox, 'payments'), { recursive: true });
    await cp(files.invoices, join(inbox, 'invoices', 'inv.csv'));
    await cp(files.payments, join(inbox, 'payments', 'pay.csv'));
    const first = await runCli(dir, start, {
      SENTINEL_CRASH_AT: `ingest.after-rows@${ROWS.invoices + 1000}`,
    });
    expect(first.signal, first.stderr).toBe('SIGKILL');
    // Started again: the dead run's claim is taken over at once (its process is gone).
    const second = spawn(process.execPath, [BIN, ...start], {
      cwd: dir,
      env: { ...process.env, SENTINEL_TIME_ZONE: 'UTC' },
      stdio: 'ignore',
    });
    server = second;
    const done = new Promise((ok) => second.on('close', ok));
    try {
      let ready = false;
      // Waits up to 2 minutes: a loaded CI machine can take that long to start and ingest.
      for (let i = 0; i < 240 && !ready; i++) {
        await new Promise((r) => setTimeout(r, 500));
        // Only once the new server serves the store (opening it before would take its LevelDB).
        const info = await readFile(join(dataDir, 'server.json'), 'utf8').catch(() => '{}');
        if ((JSON.parse(info) as { pid?: number }).pid !== second.pid) continue;
        const env = await openLocal({ dataDir });
        try {
          expect(env.shared).toBe(true);
          const runs = await env.store.listRuns();
          ready =
            runs.some((r) => r.file === 'payments/pay.csv' && r.status === 'processed') &&
            runs.some((r) => r.file === 'invoices/inv.csv' && r.status === 'processed');
          if (ready) expect(differences(rig.cleanBooks, await books(env.store))).toEqual([]);
          if (ready) expect(await env.store.openRuns()).toEqual([]);
        } finally {
          await env.close();
        }
      }
      expect(ready).toBe(true);
    } finally {
      second.kill('SIGTERM');
      await done;
    }
  }, 200_000);
});
