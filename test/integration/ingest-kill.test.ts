import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { differences, seeded } from './ingest-books.ts';
import { booksOf, killRig, ROWS, runCli } from './ingest-kill-rig.ts';

/**
 * `kill -9` at random moments of an upload through the CLI (the inbox: ingest-kill-inbox.test.ts), then
 * started again: every customer's figures and every item equal a clean single ingest's.
 */
const rig = killRig();

describe('sentinel ingest killed with SIGKILL, run again', () => {
  const random = seeded(Number(process.env.KILL_SEED ?? 3));
  const at = 1 + Math.floor(random() * (ROWS.invoices + ROWS.payments));
  it.each([
    [`ingest.after-rows@${at}`, undefined],
    [undefined, 1500 + Math.floor(random() * 3000)],
  ] as [string | undefined, number | undefined][])(
    'at %s (or after %s ms) ends like one clean run',
    async (point, ms) => {
      const dataDir = join(rig.dir, `cli-${point ?? ms}`);
      const args = ['ingest', rig.files.invoices, rig.files.payments, '--data-dir', dataDir];
      const killed = await runCli(rig.dir, args, point ? { SENTINEL_CRASH_AT: point } : {}, ms);
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      const again = await runCli(rig.dir, args);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(again.stdout).toContain('2,400 accepted');
      expect(differences(rig.cleanBooks, await booksOf(dataDir))).toEqual([]);
    },
  );
});
