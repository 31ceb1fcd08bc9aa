import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import {
  type DisputeDeps,
  DisputeRefusedError,
  disputesOf,
  openDispute,
  resolveDispute,
} from '../../functions/collections/app.ts';
import { collectionsWorklist } from '../../functions/collections/worklist.ts';
import { addDays, dateInZone } from '../../functions/core/dates.ts';
import type { Policy } from '../../functions/credit/policy.ts';
import { loadPolicy } from '../../infra/local/cli/credit.ts';
import { localCollectionsRun } from '../../infra/local/runtime/collections.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { sentinel } from './cli-run.ts';
import { collectionsDataDir, COLLECTIONS_AS_OF as DAY, seedCollectionsBook } from './collections-book.ts';

/**
 * Disputes on dynalite (README "Collections"), on the collections book as of 2026-03-31: OLD owes
 * O1 (800.00 GBP, 90 days late) and O2 (400.00, 28); PAID's P1 is settled. A dispute leaves its
 * invoice out of the demand from the day it is opened until it is resolved; one invoice, one open
 * dispute, however many open it at once.
 */
let dir: string;
let env: LocalEnv;
let policy: Policy;
let deps: DisputeDeps;
let audit: DynamoTransferStore;
const at = { today: DAY, now: `${DAY}T09:00:00.000Z` };
const req = {
  customerId: 'OLD',
  invoiceId: 'O1',
  reason: 'goods returned on 2026-01-05',
  owner: 'sales-tom',
  answerBy: '2026-04-15',
  openedBy: 'anna',
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'disputes-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  await seedCollectionsBook(env);
  policy = await loadPolicy(env.store);
  audit = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
  deps = { store: env.store, audit };
}, 60_000);
afterEach(async () => {
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const demandOf = async (id: string, asOf = DAY) =>
  (await collectionsWorklist(env.store, policy, asOf)).find((e) => e.customerId === id);

describe('disputes', () => {
  it('a dispute leaves its invoice out of the demand until it is resolved, and both are on the audit trail', async () => {
    expect((await demandOf('OLD'))?.totals.demand).toBe(120_000);
    const { dispute, opened } = await openDispute(deps, req, at);
    expect(opened).toBe(true);
    expect(dispute).toMatchObject({
      invoiceId: 'O1',
      owner: 'sales-tom',
      answerBy: '2026-04-15',
      openedOn: DAY,
    });
    const held = await demandOf('OLD');
    // O1 set apart: O2 alone, 28 days late, is demanded, at its own level.
    expect(held?.disputed.map((i) => i.invoiceId)).toEqual(['O1']);
    expect(held?.totals.demand).toBe(40_000);
    expect(held?.send?.name).toBe('firm');
    // The day before it was opened, it was not disputed.
    expect((await demandOf('OLD', '2026-03-30'))?.disputed).toEqual([]);
    // The run's reminder leaves it out too.
    const run = await localCollectionsRun(
      { store: env.store, dataDir: dir, now: () => new Date(at.now) },
      policy,
      {
        asOf: DAY,
        claimant: 'r',
      },
    );
    expect(run.steps.find((s) => s.customerId === 'OLD')).toMatchObject({ level: 'firm', demand: 40_000 });

    const resolved = await resolveDispute(
      deps,
      { customerId: 'OLD', invoiceId: 'O1', outcome: 'customer-pays', resolvedBy: 'tom' },
      { today: '2026-04-10', now: '2026-04-10T09:00:00.000Z' },
    );
    expect(resolved).toMatchObject({ outcome: 'customer-pays', resolvedOn: '2026-04-10', resolvedBy: 'tom' });
    expect((await demandOf('OLD', '2026-04-10'))?.totals.demand).toBe(120_000);
    const list = await disputesOf(env.store, 'OLD', '2026-04-10');
    expect(list.map((d) => [d.invoiceId, d.open, d.days, d.late])).toEqual([['O1', false, 10, false]]);
    const trail = (await audit.auditTrail()).filter((r) => r.kind.startsWith('dispute.'));
    expect(trail.map((r) => [r.kind, r.subject, r.actor])).toEqual([
      ['dispute.opened', 'OLD', 'anna'],
      ['dispute.resolved', 'OLD', 'tom'],
    ]);
    // Resolved once: again is refused. A new dispute on it may be opened later, keeping the first.
    await expect(
      resolveDispute(
        deps,
        { customerId: 'OLD', invoiceId: 'O1', outcome: 'written-off', resolvedBy: 'tom' },
        at,
      ),
    ).rejects.toThrow(/O1 has no open dispute \(DSP-2026-03-31-\w+ was resolved on 2026-04-10 by tom\)/);
    await openDispute(
      deps,
      { ...req, reason: 'price differs from the order' },
      { today: '2026-04-12', now: 'x' },
    );
    expect((await disputesOf(env.store, 'OLD', '2026-04-12')).map((d) => [d.reason, d.open])).toEqual([
      ['price differs from the order', true],
      ['goods returned on 2026-01-05', false],
    ]);
  });

  it('two people opening a dispute on one invoice at once make one; the same request again is that one', async () => {
    const results = await Promise.allSettled([
      openDispute(deps, req, at),
      openDispute(deps, { ...req, reason: 'wrong quantity', openedBy: 'li' }, at),
      openDispute(deps, { ...req, reason: 'never delivered', openedBy: 'max' }, at),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected'))
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DisputeRefusedError);
    const open = (await disputesOf(env.store, 'OLD', DAY)).filter((d) => d.open);
    expect(open).toHaveLength(1);
    const trail = (await audit.auditTrail()).filter((r) => r.kind === 'dispute.opened');
    expect(trail).toHaveLength(1);
  });

  it('refuses a paid invoice, one not on file, a date past, and names each field; nothing is written', async () => {
    await expect(openDispute(deps, { ...req, customerId: 'PAID', invoiceId: 'P1' }, at)).rejects.toThrow(
      'invoice: P1 is paid (settled on 2026-03-02): there is nothing to dispute',
    );
    await expect(
      openDispute(deps, { ...req, invoiceId: 'NOPE', reason: ' ', answerBy: '2026-03-01', owner: '' }, at),
    ).rejects.toThrow(
      'invoice: NOPE is not an invoice of OLD on file; reason: is required: what the customer contests; owner: is required: who answers it; answerBy: is in the past (today is 2026-03-31)',
    );
    await expect(
      resolveDispute(deps, { customerId: 'OLD', invoiceId: 'O1', outcome: 'forgotten', resolvedBy: '' }, at),
    ).rejects.toThrow(
      'outcome: must be one of credit-note, customer-pays, written-off; resolvedBy: is required',
    );
    expect((await env.store.loadCustomerPartition('OLD')).disputes).toEqual([]);
  });

  it('from the command line: open, list, resolve, in words', async () => {
    const { dir: cliDir, dataDir } = await collectionsDataDir('disputes-cli-');
    const cli = (...args: string[]) =>
      sentinel([...args, '--data-dir', dataDir], cliDir, { env: { SENTINEL_TIME_ZONE: 'UTC' } });
    const answerBy = addDays(dateInZone(new Date(), 'UTC'), 20);
    try {
      const opened = await cli(
        'collections',
        'dispute',
        'OLD',
        'O2',
        '--reason',
        'price differs',
        '--owner',
        'sales-tom',
        '--answer-by',
        answerBy,
        '--by',
        'anna',
      );
      expect(opened.stderr).toBe('');
      expect(opened.stdout).toMatch(
        new RegExp(
          `^opened: DSP-\\S+ on O2 of OLD \\("price differs"\\), owner sales-tom, answer by ${answerBy}; left out of every demand until resolved\n$`,
        ),
      );
      const list = await cli('collections', 'disputes', 'OLD');
      expect(list.stdout).toContain('price differs');
      expect(list.stdout).toMatch(
        new RegExp(`O2\\s+DSP-\\S+\\s+\\d{4}-\\d{2}-\\d{2}\\s+sales-tom\\s+${answerBy}\\s+0\\s+open`),
      );
      const paid = await cli(
        'collections',
        'dispute',
        'PAID',
        'P1',
        '--reason',
        'x',
        '--owner',
        'o',
        '--answer-by',
        answerBy,
        '--by',
        'a',
      );
      expect(paid.code).toBe(1);
      expect(paid.stderr.trim()).toBe(
        'sentinel: dispute not opened: invoice P1 is paid (settled on 2026-03-02): there is nothing to dispute',
      );
      const resolved = await cli(
        'collections',
        'resolve',
        'OLD',
        'O2',
        '--outcome',
        'credit-note',
        '--by',
        'tom',
      );
      expect(resolved.stdout).toMatch(
        /^resolved: DSP-\S+ on O2 of OLD: credit-note, by tom on \d{4}-\d{2}-\d{2}\n$/,
      );
      // The plan run up to LATE's hand-over to legal (final 04-25, hold 05-07, legal 05-21), then read
      // and withdrawn from the command line.
      const local = await openLocal({ dataDir });
      try {
        const p = await loadPolicy(local.store);
        for (const day of ['2026-04-25', '2026-05-07', '2026-05-21'])
          await localCollectionsRun(
            { store: local.store, dataDir, now: () => new Date(`${day}T07:00:00Z`) },
            p,
            {
              asOf: day,
              claimant: `run-${day}`,
            },
          );
      } finally {
        await local.close();
      }
      const handover = await cli('collections', 'handover', 'LATE');
      expect(handover.stdout.split('\n')[0]).toBe(
        'Late Payer GmbH (LATE) handed over to legal on 2026-05-21 ("legal"): 1,200.00 EUR demanded',
      );
      expect(handover.stdout).toContain('steps before it: 2026-04-25 final (email), 2026-05-07 hold (slack)');
      expect((await cli('collections', 'handover', 'LATE', '--as-of', '2026-05-20')).stdout.trim()).toBe(
        'LATE was not handed over to legal by 2026-05-20',
      );
      const withdrawn = await cli('collections', 'withdraw', 'LATE', '--by', 'fiona', '--reason', 'settled');
      expect(withdrawn.stdout).toMatch(
        /^withdrawn: LATE's hand-over of 2026-05-21, by fiona on \d{4}-\d{2}-\d{2}: settled\n$/,
      );
      expect(
        (await cli('collections', 'withdraw', 'LATE', '--by', 'fiona', '--reason', 'x')).stderr.trim(),
      ).toBe('sentinel: hand-over not withdrawn: customer LATE has no open hand-over to legal');
      // A run as of a day not yet come is refused, unless dry.
      const future = await cli('collections', 'run', '--as-of', '2099-01-01');
      expect(future.code).toBe(2);
      expect(future.stderr).toContain('a day not yet come');
      expect((await cli('collections', 'run', '--as-of', '2099-01-01', '--dry-run')).code).toBe(0);
      expect((await cli('audit', 'verify')).code).toBe(0);
    } finally {
      await rm(cliDir, { recursive: true, force: true });
    }
  });
});
