import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// The audit key and anchors live outside the data dir (by default under ~/.config): tests keep
// theirs in a temp dir of this run, inherited by the CLI processes they spawn.
const auditDir = mkdtempSync(join(tmpdir(), 'sentinel-audit-'));
process.env.SENTINEL_AUDIT_KEY_FILE ??= join(auditDir, 'audit.key');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
