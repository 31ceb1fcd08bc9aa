import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { dateInZone } from '../../functions/core/dates.ts';
import type { CollectionsPolicy } from '../../functions/credit/policy.ts';
import { loadPolicy } from '../../infra/local/cli/credit.ts';
import { collectionsRecordOf } from '../../infra/local/console/collections.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { sentinel } from './cli-run.ts';
import { collectionsDataDir } from './collections-book.ts';

/**
 * Collectors from the command line (README "Collections"): a customer assigned, then reassigned (on
 * the audit trail with who had it), one collector's list, calls logged with their outcome, all on
 * the customer's credit file; bad input refused in one line.
 */
let dir: string;
let dataDir: string;
const today = dateInZone(new Date(), 'UTC');

beforeAll(async () => {
  ({ dir, dataDir } = await collectionsDataDir('sentinel-collectors-'));
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  sentinel([...args, '--data-dir', dataDir], dir, { env: { SENTINEL_TIME_ZONE: 'UTC' } });

describe('collectors', () => {
  it("assigns and reassigns a customer, lists one collector's customers, and logs calls", async () => {
    expect((await cli('collections', 'assign', 'OLD', '--to', 'chen', '--by', 'fiona')).stdout).toBe(
      `assigned: OLD to chen from ${today}, by fiona\n`,
    );
    expect((await cli('collections', 'assign', 'OLD', '--to', 'li', '--by', 'fiona')).stdout).toBe(
      `assigned: OLD to li from ${today} (was chen), by fiona\n`,
    );
    const mine = await cli('collections', '--collector', 'li');
    const rows = mine.stdout.split('\n').filter((l) => /^[A-Z]+ {2}/.test(l));
    expect(rows.map((l) => l.split(/\s{2,}/)[0])).toEqual(['OLD']);
    expect(rows[0]?.trim().endsWith('li')).toBe(true);
    expect(mine.stdout).toContain('collector');
    expect(JSON.parse((await cli('collections', '--collector', 'chen', '--json')).stdout).customers).toEqual(
      [],
    );

    const promised = await cli(
      'collections',
      'log',
      'OLD',
      '--outcome',
      'promised',
      '--by',
      'li',
      '--note',
      'half on Friday',
    );
    expect(promised.stdout).toBe(
      `logged: phone with OLD on ${today} by li: promised\nrecord the promise: sentinel collections promise OLD --amount A --by D --recorded-by li\n`,
    );
    await cli('collections', 'log', 'OLD', '--outcome', 'no-answer', '--by', 'li', '--channel', 'visit');
    const bad = await cli(
      'collections',
      'log',
      'OLD',
      '--outcome',
      'angry',
      '--by',
      'li',
      '--channel',
      'fax',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      'sentinel: not logged: --outcome must be one of reached, no-answer, left-message, wrong-contact, promised, disputed, refused; --channel must be phone or visit',
    );
    const nobody = await cli('collections', 'assign', 'OLD', '--to', 'two words', '--by', 'fiona');
    expect(nobody.stderr.trim()).toBe(
      'sentinel: not assigned: --to must be a person id (letters, digits, . _ @ -)',
    );

    // On the customer's file, and on the audit trail.
    const env = await openLocal({ dataDir });
    try {
      const part = await env.store.loadCustomerPartition('OLD');
      const policy = await loadPolicy(env.store);
      const record = collectionsRecordOf('OLD', part, policy.collections as CollectionsPolicy, today);
      expect(record.assignment).toMatchObject({ collector: 'li', since: today, by: 'fiona' });
      expect(record.calls.map((c) => [c.channel, c.outcome, c.by, c.note])).toEqual([
        ['visit', 'no-answer', 'li', undefined],
        ['phone', 'promised', 'li', 'half on Friday'],
      ]);
      const trail = await new DynamoTransferStore({
        client: env.store.client,
        tableName: env.store.tableName,
      }).auditTrail();
      expect(trail.filter((r) => r.kind === 'collector.assigned').map((r) => r.data)).toEqual([
        { collector: 'chen' },
        { collector: 'li', before: 'chen' },
      ]);
    } finally {
      await env.close();
    }
    expect((await cli('audit', 'verify')).code).toBe(0);
  });
});
