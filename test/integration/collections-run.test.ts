import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { recordPromise, releaseHold, withdrawHandover } from '../../functions/collections/app.ts';
import type { CreditHold, Handover, OutreachSender } from '../../functions/collections/ports.ts';
import { type CollectionsRunReport, collectionsRun } from '../../functions/collections/run.ts';
import { collectionsWorklist } from '../../functions/collections/worklist.ts';
import { armCrash, disarmCrashes, SimulatedCrash } from '../../functions/core/crash.ts';
import type { Policy } from '../../functions/credit/policy.ts';
import { loadPolicy } from '../../infra/local/cli/credit.ts';
import {
  collectionsTasksDir,
  localCollectionsRun,
  OutboxOutreachSender,
} from '../../infra/local/runtime/collections.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { mailDir } from '../../infra/local/runtime/transfers.ts';
import { COLLECTIONS_AS_OF as DAY, seedCollectionsBook } from './collections-book.ts';
import { evaluateQuietly, ingestText } from './read-meter.ts';

/**
 * The collections run (README "Collections") on dynalite and the local outbox, on the small book of
 * collections-book.ts as of 2026-03-31: LATE gets the friendly email, CN (firm, by phone) a call
 * task, OLD (past legal, never told) the final notice, as a call because no billing address is on
 * file. Each step once per customer, level and day: run twice, at once, crashed and retried.
 */
let dir: string;
let env: LocalEnv;
let policy: Policy;
let clock: Date;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'collections-run-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  await seedCollectionsBook(env);
  policy = await loadPolicy(env.store);
  clock = new Date(`${DAY}T07:00:00Z`);
}, 60_000);
afterEach(async () => {
  disarmCrashes();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The audit trail the runs put their holds and hand-overs on. */
const auditStore = () =>
  new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });

/** A run; `concurrency: 1` where a crash must stop it as a kill would (nothing else in flight). */
const run = (claimant: string, opts: { dryRun?: boolean; asOf?: string; concurrency?: number } = {}) =>
  localCollectionsRun({ store: env.store, dataDir: dir, now: () => clock, audit: auditStore() }, policy, {
    asOf: opts.asOf ?? DAY,
    claimant,
    dryRun: opts.dryRun,
    concurrency: opts.concurrency,
  });

const files = async (d: string) =>
  (await readdir(d).catch(() => [] as string[])).filter((f) => !f.startsWith('.'));
const outbox = async () => ({
  mail: await files(mailDir(dir)),
  tasks: await files(collectionsTasksDir(dir)),
});
const steps = (r: CollectionsRunReport) =>
  r.steps.map((s) => `${s.customerId} ${s.level} ${s.channel} ${s.outcome}`).sort();

const TODAY = ['CN firm phone sent', 'LATE friendly email sent', 'OLD final phone sent'];

describe('the collections run', () => {
  it("takes the day's steps once: a reminder email with its statement, calls as tasks, the fallback said", async () => {
    const r = await run('run-1');
    expect(steps(r)).toEqual(TODAY);
    expect(r.byLevel).toEqual({ friendly: { email: 1 }, firm: { phone: 1 }, final: { phone: 1 } });
    expect(r.steps.find((s) => s.customerId === 'OLD')?.note).toBe(
      'no billing email on file: a call instead of the email; on the task list (no Slack webhook configured)',
    );
    const { mail, tasks } = await outbox();
    expect(mail).toHaveLength(1);
    expect(tasks).toHaveLength(2);

    // The email as a mail client reads it.
    const m = await simpleParser(await readFile(join(mailDir(dir), mail[0] as string)));
    expect(m.to && 'text' in m.to ? m.to.text : '').toContain('ap@late-payer.example.com');
    expect(m.subject).toContain('1,200.00 EUR');
    expect(m.text).toContain('L1');
    expect(m.html).toContain('L1');
    expect(m.attachments.map((a) => a.filename)).toEqual([`statement-LATE-${DAY}.csv`]);
    const csv = m.attachments[0]?.content.toString('utf8') ?? '';
    expect(csv).toContain('L1');
    expect(csv).toContain('1200.00');

    // The tasks say whom to call about what.
    const task = JSON.parse(
      await readFile(
        join(collectionsTasksDir(dir), tasks.find((t) => t.includes('-OLD-')) as string),
        'utf8',
      ),
    );
    expect(task).toMatchObject({
      customerId: 'OLD',
      level: 'final',
      channel: 'phone',
      action: 'remind',
      on: DAY,
    });
    expect(task.instruction).toBe(
      'Call Old Debt Ltd (OLD) about 1,200.00 GBP demanded ("final" reminder): 2 overdue items, the oldest (O1) 90 days past due.',
    );

    // The steps are on the customers' files: the worklist now counts them.
    const list = await collectionsWorklist(env.store, policy, DAY);
    expect(list.find((e) => e.customerId === 'LATE')?.why).toBe(
      `"friendly" went out on ${DAY}; the next level follows at its day`,
    );
    expect(list.filter((e) => e.send)).toEqual([]);
    const part = await env.store.loadCustomerPartition('OLD');
    expect(part.contacts?.map((c) => [c.level, c.on, c.channel, c.state])).toEqual([
      ['final', DAY, 'phone', 'sent'],
    ]);

    // Run again: nothing new.
    const again = await run('run-2');
    expect(again.steps).toEqual([]);
    expect(await outbox()).toEqual({ mail, tasks });
  });

  it('a dry run says what would be done and claims and sends nothing', async () => {
    const r = await run('dry', { dryRun: true });
    expect(steps(r)).toEqual(TODAY.map((s) => s.replace(/sent$/, 'would-send')));
    expect(await outbox()).toEqual({ mail: [], tasks: [] });
    expect((await env.store.loadCustomerPartition('LATE')).contacts).toEqual([]);
    expect(steps(await run('real'))).toEqual(TODAY);
  });

  it('two runs at once take each step once between them', async () => {
    const [a, b, c] = await Promise.all([run('run-a'), run('run-b'), run('run-c')]);
    const sent = [a, b, c].flatMap((r) => r.steps.filter((s) => s.outcome === 'sent'));
    expect(sent.map((s) => `${s.customerId} ${s.level} ${s.channel} sent`).sort()).toEqual(TODAY);
    const { mail, tasks } = await outbox();
    expect(mail.length + tasks.length).toBe(3);
  });

  it('a run that died after sending, before marking, is finished by its retry without a second message', async () => {
    // CN is sent and marked; LATE is sent, and the run dies before marking it.
    armCrash('collections:sent', 2);
    await expect(run('run-x', { concurrency: 1 })).rejects.toBeInstanceOf(SimulatedCrash);
    const retry = await run('run-x');
    expect(steps(retry)).toEqual(['LATE friendly email sent', 'OLD final phone sent']);
    const { mail, tasks } = await outbox();
    expect(mail.length + tasks.length).toBe(3);
    for (const id of ['CN', 'LATE', 'OLD'])
      expect((await env.store.loadCustomerPartition(id)).contacts?.map((c) => c.state)).toEqual(['sent']);
  });

  it("a dead run's claim is left alone while it may be alive, then taken over, and sent once", async () => {
    armCrash('collections:claimed', 1);
    await expect(run('dead', { concurrency: 1 })).rejects.toBeInstanceOf(SimulatedCrash);
    const [claimed] = (
      await Promise.all(['CN', 'LATE', 'OLD'].map((id) => env.store.loadCustomerPartition(id)))
    ).flatMap((p) => p.contacts ?? []);
    expect(claimed?.state).toBe('claimed');
    const early = await run('other');
    const held = early.steps.filter((s) => s.outcome === 'held');
    expect(held.map((s) => s.note)).toEqual([`being sent by run dead since ${clock.toISOString()}`]);
    clock = new Date(clock.getTime() + 11 * 60_000);
    const late = await run('later');
    expect(late.steps.map((s) => `${s.customerId} ${s.level} ${s.outcome}`)).toEqual([
      `${claimed?.customerId} ${claimed?.level} sent`,
    ]);
    const { mail, tasks } = await outbox();
    expect(mail.length + tasks.length).toBe(3);
  });

  it('a step claimed on an earlier day and never sent is finished the next day, and the day decides the rest', async () => {
    armCrash('collections:claimed', 1);
    await expect(run('dead', { concurrency: 1 })).rejects.toBeInstanceOf(SimulatedCrash);
    const stuck = (
      await Promise.all(['CN', 'LATE', 'OLD'].map((id) => env.store.loadCustomerPartition(id)))
    ).flatMap((p) => p.contacts ?? [])[0];
    clock = new Date('2026-04-01T07:00:00Z');
    const next = await run('next-day', { asOf: '2026-04-01' });
    const mine = next.steps.filter((s) => s.customerId === stuck?.customerId);
    expect(mine.map((s) => [s.level, s.on, s.outcome])).toEqual([[stuck?.level, DAY, 'sent']]);
    const { mail, tasks } = await outbox();
    expect(mail.length + tasks.length).toBe(3);
  });

  it('a send that fails is given back and sent by the next run; the others go out', async () => {
    const failing: OutreachSender = {
      send: async (o) => {
        if (o.customerId === 'LATE') throw new Error('SES throttled');
        return new OutboxOutreachSender(dir, () => clock).send(o);
      },
    };
    const r = await collectionsRun(
      { store: env.store, sender: failing, claimant: 'flaky', now: () => clock.toISOString() },
      policy,
      { asOf: DAY },
    );
    expect(r.failed).toBe(1);
    expect(r.steps.find((s) => s.customerId === 'LATE')).toMatchObject({
      outcome: 'failed',
      note: 'SES throttled',
    });
    const retry = await run('next');
    expect(steps(retry)).toEqual(['LATE friendly email sent']);
  });

  it('a run as of an earlier day than a step on file takes nothing for that customer', async () => {
    expect(steps(await run('today'))).toEqual(TODAY);
    const late = await run('yesterday', { asOf: '2026-03-30' });
    expect(late.steps.filter((s) => s.outcome !== 'held')).toEqual([]);
    expect(late.steps.find((s) => s.customerId === 'OLD')?.note).toBe(
      `a later step is on file ("final" on ${DAY}): a run as of an earlier day takes none`,
    );
    const { mail, tasks } = await outbox();
    expect(mail.length + tasks.length).toBe(3);
  });

  it('the hold level puts the customer on credit hold, once; a person lifts it, on the audit trail', async () => {
    // LATE (due 2026-03-22): the final notice at 34 days, the hold at 46.
    const on = async (asOf: string) => {
      clock = new Date(`${asOf}T07:00:00Z`);
      return run(`run-${asOf}`, { asOf });
    };
    expect((await on('2026-04-25')).steps.find((s) => s.customerId === 'LATE')?.level).toBe('final');
    const holdDay = await on('2026-05-07');
    expect(holdDay.steps.find((s) => s.customerId === 'LATE')).toMatchObject({
      level: 'hold',
      action: 'hold',
      channel: 'slack',
      outcome: 'sent',
    });
    const part = await env.store.loadCustomerPartition('LATE');
    expect(part.creditHold).toMatchObject({
      state: 'on',
      since: '2026-05-07',
      by: 'collections',
      reason: '"hold" reached: 1,200.00 EUR demanded, the oldest item 46 days past due',
    });
    const entry = (await collectionsWorklist(env.store, policy, '2026-05-08')).find(
      (e) => e.customerId === 'LATE',
    );
    expect(entry?.hold?.since).toBe('2026-05-07');
    // The run again: on once, and on the audit trail once, as the run's.
    expect(await env.store.placeCreditHold({ ...(part.creditHold as CreditHold) })).toBe('on-already');
    await on('2026-05-07');
    const placed = (await auditStore().auditTrail()).filter(
      (r) => r.kind === 'hold.placed' && r.subject === 'LATE',
    );
    expect(placed.map((r) => [r.subject, r.actor, (r.data as { on: string }).on])).toEqual([
      ['LATE', 'collections', '2026-05-07'],
    ]);

    const audit = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
    const at = { today: '2026-05-09', now: '2026-05-09T10:00:00.000Z' };
    const lifted = await releaseHold(
      { store: env.store, audit },
      { customerId: 'LATE', releasedBy: 'fiona', reason: 'paid half, a plan for the rest' },
      at,
    );
    expect(lifted).toMatchObject({ state: 'off', releasedOn: '2026-05-09', releasedBy: 'fiona' });
    expect(
      (await collectionsWorklist(env.store, policy, '2026-05-09')).find((e) => e.customerId === 'LATE')?.hold,
    ).toBeUndefined();
    // Still on as of a day before it was lifted.
    expect(
      (await collectionsWorklist(env.store, policy, '2026-05-08')).find((e) => e.customerId === 'LATE')?.hold,
    ).toBeDefined();
    await expect(
      releaseHold(
        { store: env.store, audit },
        { customerId: 'LATE', releasedBy: 'fiona', reason: 'again' },
        at,
      ),
    ).rejects.toThrow('customer: LATE is not on credit hold');
    const trail = (await audit.auditTrail()).filter((r) => r.kind === 'hold.released');
    expect(trail.map((r) => [r.subject, r.actor])).toEqual([['LATE', 'fiona']]);

    // At 60 days the legal level hands the file over, with every step before it; once.
    const legal = await on('2026-05-21');
    expect(legal.steps.find((s) => s.customerId === 'LATE')).toMatchObject({
      level: 'legal',
      outcome: 'sent',
    });
    const [handover, ...more] = (await env.store.loadCustomerPartition('LATE')).handovers ?? [];
    expect(more).toEqual([]);
    expect(handover).toMatchObject({
      customerId: 'LATE',
      name: 'Late Payer GmbH',
      on: '2026-05-21',
      level: 'legal',
      currency: 'EUR',
      demand: 120_000,
      overdue: [{ invoiceId: 'L1', dueDate: '2026-03-22', daysPastDue: 60, open: 120_000 }],
      state: 'open',
    });
    expect(handover?.contacts.map((c) => [c.on, c.level, c.channel])).toEqual([
      ['2026-04-25', 'final', 'email'],
      ['2026-05-07', 'hold', 'slack'],
    ]);
    expect(await env.store.recordHandover(handover as Handover)).toBe('exists');
    await on('2026-05-21');
    expect(
      (await auditStore().auditTrail())
        .filter((r) => r.kind === 'handover.recorded' && r.subject === 'LATE')
        .map((r) => [r.subject, r.actor, (r.data as { demand: number }).demand]),
    ).toEqual([['LATE', 'collections', 120_000]]);
    const withdrawn = await withdrawHandover(
      { store: env.store, audit },
      { customerId: 'LATE', withdrawnBy: 'fiona', reason: 'settled with the agency' },
      { today: '2026-05-22', now: '2026-05-22T10:00:00.000Z' },
    );
    expect(withdrawn).toMatchObject({ state: 'withdrawn', withdrawnOn: '2026-05-22', withdrawnBy: 'fiona' });
    await expect(
      withdrawHandover(
        { store: env.store, audit },
        { customerId: 'LATE', withdrawnBy: 'fiona', reason: 'again' },
        { today: '2026-05-22', now: 'x' },
      ),
    ).rejects.toThrow('customer: LATE has no open hand-over to legal');
    expect((await audit.auditTrail()).filter((r) => r.kind === 'handover.withdrawn')).toHaveLength(1);
  });

  it('a promise broken raises the brokenPromise alert at the evaluation after its grace; the chase resumes', async () => {
    const audit = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
    await recordPromise(
      { store: env.store, audit },
      policy,
      { customerId: 'LATE', amount: '1,200.00', promisedDate: '2026-04-07', recordedBy: 'anna' },
      { today: DAY, now: `${DAY}T09:00:00.000Z` },
    );
    // Pending through 2026-04-10 (the date and 3 days): no alert, no reminder.
    await evaluateQuietly(env, policy, '2026-04-10', { customerIds: ['LATE'] });
    expect((await env.store.loadCustomerPartition('LATE')).alerts.map((a) => a.rule)).not.toContain(
      'brokenPromise',
    );
    clock = new Date('2026-04-10T07:00:00Z');
    expect((await run('r0410', { asOf: '2026-04-10' })).steps.some((x) => x.customerId === 'LATE')).toBe(
      false,
    );
    // Nothing paid: broken on 2026-04-11.
    await evaluateQuietly(env, policy, '2026-04-11', { customerIds: ['LATE'] });
    const alert = (await env.store.loadCustomerPartition('LATE')).alerts.find(
      (a) => a.rule === 'brokenPromise',
    );
    expect(alert).toMatchObject({ severity: 'warning', action: 'collect', status: 'open' });
    // The chase resumes at the level reached: LATE, rated high risk by the evaluation, is 20 days
    // late on the sooner ladder (final at 15).
    clock = new Date('2026-04-11T07:00:00Z');
    expect(
      (await run('r0411', { asOf: '2026-04-11' })).steps.find((x) => x.customerId === 'LATE')?.level,
    ).toBe('final');
    expect((await env.store.getAssessmentHeads(['LATE'])).get('LATE')?.riskClass).toBe('high');
  });

  it('two people lifting one hold at once: one lifts it, the other is told it is not on; audited once', async () => {
    await env.store.placeCreditHold({
      customerId: 'OLD',
      state: 'on',
      since: DAY,
      by: 'collections',
      reason: 'x',
    });
    const audit = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
    const at = { today: DAY, now: `${DAY}T10:00:00.000Z` };
    const results = await Promise.allSettled(
      ['fiona', 'farid', 'carla'].map((who) =>
        releaseHold({ store: env.store, audit }, { customerId: 'OLD', releasedBy: who, reason: 'paid' }, at),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await audit.auditTrail()).filter((r) => r.kind === 'hold.released')).toHaveLength(1);
    expect((await env.store.loadCustomerPartition('OLD')).creditHold?.state).toBe('off');
  });

  it('a customer who paid is not chased: the run decides from the books of the day', async () => {
    await ingestText(
      env,
      'payments/late.csv',
      [
        'payment_id,customer_id,received_date,amount,currency,invoice_id',
        'PL1,LATE,2026-03-30,1200.00,EUR,L1',
      ].join('\n'),
      clock,
    );
    expect(steps(await run('after-payment'))).toEqual(['CN firm phone sent', 'OLD final phone sent']);
  });
});
