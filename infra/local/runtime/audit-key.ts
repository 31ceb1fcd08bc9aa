import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import {
  type AuditAnchor,
  type AuditKey,
  type AuditRecord,
  formatAnchor,
  makeAnchor,
  parseAnchors,
} from '../../../functions/core/audit.ts';

/**
 * The audit key and anchors of the local runtime, kept outside the data dir so that whoever can
 * rewrite the store (dynalite's files) does not hold them:
 * - the key: SENTINEL_AUDIT_KEY_FILE, or `$XDG_CONFIG_HOME/credit-sentinel/audit.key`
 *   (`~/.config/...`), created 0600 on first use as `<key id>:<64 hex>`;
 * - the anchors: SENTINEL_AUDIT_ANCHOR_FILE, or `anchors/<data dir name>-<12 hex of its path>.log`
 *   beside the key, appended (never rewritten) after every record the trail gains, one line each.
 */
export interface LocalAudit {
  readonly keyFile: string;
  readonly anchorFile: string;
  auditKey(): Promise<AuditKey>;
  /** Appends a signed anchor of `rec` (the trail's new last record). */
  anchor(rec: Pick<AuditRecord, 'seq' | 'hash'>): Promise<AuditAnchor>;
  anchors(): Promise<{ anchors: AuditAnchor[]; bad: number[] }>;
}

export const FIRST_KEY_ID = 'k1';

export function auditKeyFile(): string {
  const set = process.env.SENTINEL_AUDIT_KEY_FILE?.trim();
  if (set) return resolve(set);
  const config = process.env.XDG_CONFIG_HOME?.trim() || join(homedir(), '.config');
  return join(config, 'credit-sentinel', 'audit.key');
}

export function auditAnchorFile(dataDir: string): string {
  const set = process.env.SENTINEL_AUDIT_ANCHOR_FILE?.trim();
  if (set) return resolve(set);
  const dir = resolve(dataDir);
  const tag = createHash('sha256').update(dir).digest('hex').slice(0, 12);
  return join(dirname(auditKeyFile()), 'anchors', `${basename(dir)}-${tag}.log`);
}

/** Reads the key file, creating it (0600, exclusively: two processes starting at once agree) when absent. */
async function readOrCreateKey(file: string): Promise<AuditKey> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, `${FIRST_KEY_ID}:${randomBytes(32).toString('hex')}\n`, {
      flag: 'wx',
      mode: 0o600,
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const text = (await readFile(file, 'utf8')).trim();
  const m = /^([A-Za-z0-9._-]+):([0-9a-f]{64})$/.exec(text);
  if (!m) throw new Error(`${file} is not an audit key (expected <key id>:<64 hex digits>)`);
  return { id: m[1] as string, secret: Buffer.from(m[2] as string, 'hex') };
}

export function localAudit(dataDir: string, now: () => Date = () => new Date()): LocalAudit {
  const keyFile = auditKeyFile();
  const anchorFile = auditAnchorFile(dataDir);
  let key: Promise<AuditKey> | undefined;
  const auditKey = () => {
    key ??= readOrCreateKey(keyFile);
    key.catch(() => {
      key = undefined;
    });
    return key;
  };
  return {
    keyFile,
    anchorFile,
    auditKey,
    async anchor(rec) {
      const a = makeAnchor(now().toISOString(), rec, await auditKey());
      await mkdir(dirname(anchorFile), { recursive: true, mode: 0o700 });
      await appendFile(anchorFile, `${formatAnchor(a)}\n`, { mode: 0o600 });
      return a;
    },
    async anchors() {
      try {
        return parseAnchors(await readFile(anchorFile, 'utf8'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { anchors: [], bad: [] };
        throw e;
      }
    },
  };
}
