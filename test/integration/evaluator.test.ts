import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SlackMode } from '../../functions/alerts/slack.ts';
import { dateInZone } from '../../functions/core/dates.ts';
import type { EvaluationRun } from '../../functions/credit/evaluate.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest } from '../../functions/ingest/pipeline.ts';
import { demoFiles } from '../../infra/local/runtime/demo.ts';
import { LocalEvaluator, nextDailyRun, type Trigger } from '../../infra/local/runtime/evaluator.ts';
import { InboxObjectStore, OutboxNotifier } from '../../infra/local/runtime/files.ts';
import { InboxWatcher, localIngestHandler } from '../../infra/local/runtime/inbox.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { readLocalMetrics } from '../../infra/local/runtime/metrics.ts';
import { opsSummary } from '../../infra/local/runtime/ops.ts';
import { COLLECTIONS_AS_OF, seedCollectionsBook } from './collections-book.ts';
import { memoryUpload } from './helpers.ts';

/** The local evaluation runner on dynalite: triggered by ingests, serial, scheduled at 05:00. */

let dir: string;
let env: LocalEnv;
const evaluators: LocalEvaluator[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-eval-'));
});
afterEach(async () => {
  for (const e of evaluators.splice(0)) await e.stop();
  await env?.close();
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

interface Recorded {
  evaluator: LocalEvaluator;
  runs: { run: EvaluationRun; triggers: readonly Trigger[] }[];
  logs: string[];
  errors: string[];
}

function evaluator(
  dataDir: string,
  opts: {
    now?: () => Date;
    timeZone?: string;
    store?: LocalEnv['store'];
    slack?: { webhookUrl: string; mode?: SlackMode };
    consoleUrl?: string;
    /** The day's collections after each run of every customer (tests of alerts leave them out). */
    collections?: boolean;
  } = {},
): Recorded {
  const runs: Recorded['runs'] = [];
  const logs: string[] = [];
  const errors: string[] = [];
  const e = new LocalEvaluator({
    store: opts.store ?? env.store,
    dataDir,
    timeZone: opts.timeZone ?? 'UTC',
    now: opts.now,
    log: (l) => void logs.push(l),
    logError: (l, err) => void errors.push(`${l}: ${(err as Error).message}`),
    onRun: (run, triggers) => void runs.push({ run, triggers }),
    slack: opts.slack && {
      webhookUrl: opts.slack.webhookUrl,
      mode: opts.slack.mode,
      post: { retries: 1, baseDelayMs: 10 },
    },
    consoleUrl: () => opts.consoleUrl,
    collections: opts.collections ?? false,
  });
  evaluators.push(e);
  return { evaluator: e, runs, logs, errors };
}

async function load(notifier: OutboxNotifier, kind: Kind, csv: string, at: string) {
  return ingest(
    { store: env.store, notifier, clock: { now: () => new Date(at) }, timeZone: 'UTC' },
    memoryUpload(kind, csv),
  );
}

/** A stand-in Slack webhook: records every post; `status` says what it answers. */
async function startHook(status: () => number) {
  const posts: {
    path: string;
    body: { text: string; blocks: { type: string; elements?: { url?: string }[] }[] };
  }[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      posts.push({ path: req.url ?? '', body: JSON.parse(body) });
      const answer = status();
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer === 200 ? 'ok' : 'invalid_token');
    });
  });
  await new Promise<void>((ok) => hook.listen(0, '127.0.0.1', ok));
  return { posts, hook, base: `http://127.0.0.1:${(hook.address() as AddressInfo).port}` };
}

const lines = async (path: string) =>
  (await readFile(path, 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string; asOf: string; alert: { customerId: string; rule: string } });

const CUSTOMERS = [
  'customer_id,name,industry,currency,credit_limit',
  'ACME,Acme Ltd,retail,EUR,5000.00',
  'BOLT,Bolt AG,utilities,EUR,',
].join('\n');
const INVOICES = [
  'invoice_id,customer_id,issue_date,due_date,amount,currency',
  'A-1,ACME,2025-02-01,2025-03-03,4500.00,EUR', // 119 days past due on 06-30: critical
  'A-2,ACME,2025-06-01,2025-07-01,1000.00,EUR', // exposure 5,500 > the 5,000 limit: high
  'B-1,BOLT,2025-06-20,2025-07-20,800.00,EUR',
].join('\n');

describe('LocalEvaluator', () => {
  it("takes the day's collections after a run of every customer, once, and says what it did", async () => {
    const dataDir = join(dir, 'collections');
    env = await openLocal({ dataDir, inMemory: true });
    await seedCollectionsBook(env);
    // DISP's invoice, disputed in the ERP already, gets a dispute on file too (its chase is unchanged):
    // opened on 03-20, answer due 03-27, so as of 03-31 open 11 days and its answer late.
    await env.store.openDispute({
      disputeId: 'DSP-2026-03-20-x',
      customerId: 'DISP',
      invoiceId: 'D1',
      reason: 'wrong quantity',
      owner: 'sales-anna',
      answerBy: '2026-03-27',
      openedOn: '2026-03-20',
      openedBy: 'anna',
      openedAt: '2026-03-20T09:00:00.000Z',
    });
    const now = new Date(`${COLLECTIONS_AS_OF}T06:00:00Z`);
    const r = evaluator(dataDir, { now: () => now, collections: true });
    await r.evaluator.start();
    // Rated by the run first: CN and LATE are high risk, chased on the sooner ladder (CN, 21 days
    // late, gets the final notice by email; LATE, 9 days, the firm call); OLD, past legal with no
    // billing address, gets the final notice as a call.
    const line = `collections: as of ${COLLECTIONS_AS_OF}, 3 steps taken (1 final by email, 1 final by phone, 1 firm by phone); 1 reminder email in ${join(dataDir, 'outbox', 'mail')}, tasks in ${join(dataDir, 'outbox', 'collections')}`;
    expect(r.logs.filter((l) => l.startsWith('collections:'))).toEqual([line]);
    expect(r.errors).toEqual([]);
    // The next run of the same day (a daily run after the start's) finds every step taken.
    await r.evaluator.enqueue(COLLECTIONS_AS_OF, undefined, 'daily');
    expect(r.logs.filter((l) => l.startsWith('collections:'))).toEqual([line]);
    const steps = async (d: string) =>
      (await readdir(join(dataDir, 'outbox', d))).map((f) => f.replace(/^\d{8}T\d{9}Z-\d{6}-/, '')).sort();
    expect(await steps('mail')).toEqual(['reminder-CN-final.eml']);
    expect(await steps('collections')).toEqual(['remind-LATE-firm.json', 'remind-OLD-final.json']);
    expect((await env.store.getAssessmentHeads(['CN', 'LATE'])).get('CN')?.riskClass).toBe('high');
    // Counted as the collections function counts on AWS.
    const metrics = (await readFile(join(dataDir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((m) => m.service === 'collections' && typeof m.RemindersSent === 'number');
    expect(metrics.map((m) => [m.level, m.channel, m.RemindersSent]).sort()).toEqual([
      ['final', 'email', 1],
      ['final', 'phone', 1],
      ['firm', 'phone', 1],
    ]);
    // Both runs of the day recorded its figures; the ops summary counts the day once.
    const figures = (await readLocalMetrics(dataDir)).filter((p) => p.name === 'DisputesOpen');
    expect(figures.map((p) => [p.value, p.metadata?.asOf])).toEqual([
      [1, COLLECTIONS_AS_OF],
      [1, COLLECTIONS_AS_OF],
    ]);
    expect(new Set(figures.map((p) => p.metadata?.runId)).size).toBe(2);
    const ops = await opsSummary({ dataDir, timeZone: 'UTC', now: () => now });
    expect(ops.collections.promises).toEqual({ kept: 0, partial: 0, broken: 0, days: 1 });
    expect(ops.collections.disputes).toEqual({
      asOf: COLLECTIONS_AS_OF,
      open: 1,
      overdue: 1,
      oldestDays: 11,
    });
  });

  it('evaluates the customers of each ingest (the OutboxNotifier path); an identical ingest adds no alert', async () => {
    const dataDir = join(dir, 'ingest');
    env = await openLocal({ dataDir, inMemory: true });
    const r = evaluator(dataDir, { now: () => new Date('2025-06-30T04:00:00Z') });
    const notifier = new OutboxNotifier(dataDir, [r.evaluator.listener]);
    await r.evaluator.start();
    expect(r.runs.map((x) => [x.triggers, x.run.asOf, x.run.customers])).toEqual([
      [['start'], '2025-06-30', 0],
    ]);

    await load(notifier, 'customers', CUSTOMERS, '2025-06-30T08:00:00Z');
    await load(notifier, 'invoices', INVOICES, '2025-06-30T08:05:00Z');
    await r.evaluator.idle();
    const first = await lines(r.evaluator.alertsFile);
    expect(first.map((l) => `${l.type} ${l.asOf} ${l.alert.customerId}/${l.alert.rule}`).sort()).toEqual(
      [
        'alert.opened 2025-06-30 ACME/daysPastDue',
        'alert.opened 2025-06-30 ACME/limitUse',
        'alert.opened 2025-06-30 ACME/overdueAmount',
        'alert.opened 2025-06-30 ACME/concentration',
      ].sort(),
    );
    expect((await env.store.listAlerts('active')).map((a) => `${a.rule}:${a.severity}`).sort()).toEqual([
      'concentration:warning',
      'daysPastDue:critical',
      'limitUse:high',
      'overdueAmount:critical',
    ]);

    // The same file again: the customers are evaluated again and nobody is told twice.
    await load(notifier, 'invoices', INVOICES, '2025-06-30T08:10:00Z');
    await r.evaluator.idle();
    expect(await lines(r.evaluator.alertsFile)).toEqual(first);
    const changed = await lines(join(dataDir, 'outbox', 'customers-changed.jsonl'));
    expect(changed).toHaveLength(3);
    const ingestRuns = r.runs.filter((x) => x.triggers.includes('ingest'));
    expect(ingestRuns.map((x) => [x.run.asOf, x.run.customers, x.run.opened])).toEqual([
      ['2025-06-30', 2, 0],
      ['2025-06-30', 2, 4],
      ['2025-06-30', 2, 0],
    ]);
    // Tidy output: one line for the start, one for the ingest that opened alerts.
    expect(r.logs).toHaveLength(2);
    expect(r.logs[1]).toMatch(/^alerts: evaluated 2 customers as of 2025-06-30 \(ingest\): 4 opened, /);
    expect(r.errors).toEqual([]);
  });

  it('posts each notification to a Slack webhook too; a failing webhook is logged, the outbox has them all', async () => {
    let answer = 200;
    const { posts, hook, base } = await startHook(() => answer);
    const webhookUrl = `${base}/services/T000/B000/secret-token`;
    try {
      const dataDir = join(dir, 'slack');
      env = await openLocal({ dataDir, inMemory: true });
      const r = evaluator(dataDir, {
        now: () => new Date('2025-06-30T04:00:00Z'),
        slack: { webhookUrl },
        consoleUrl: 'http://127.0.0.1:8787',
      });
      const notifier = new OutboxNotifier(dataDir, [r.evaluator.listener]);
      await r.evaluator.start();
      await load(notifier, 'customers', CUSTOMERS, '2025-06-30T08:00:00Z');
      await load(notifier, 'invoices', INVOICES, '2025-06-30T08:05:00Z');
      await r.evaluator.idle();
      expect(posts).toHaveLength(4);
      expect(posts.every((p) => p.path === '/services/T000/B000/secret-token')).toBe(true);
      const dpd = posts.find((p) => p.body.text.includes('daysPastDue'));
      expect(dpd?.body.text).toContain('[critical] ACME daysPastDue: an invoice is 119 days past due');
      const button = dpd?.body.blocks.find((b) => b.type === 'actions')?.elements?.[0]?.url;
      expect(button).toBe('http://127.0.0.1:8787/customers/ACME?asOf=2025-06-30');
      expect(r.errors).toEqual([]);

      // The webhook is revoked: Slack refuses, the rest of the batch is not tried, the run goes on.
      answer = 403;
      posts.length = 0;
      await load(
        notifier,
        'invoices',
        'invoice_id,customer_id,issue_date,due_date,amount,currency\nB-0,BOLT,2025-01-02,2025-02-01,900.00,EUR',
        '2025-06-30T08:10:00Z',
      );
      await r.evaluator.idle();
      // Refused at once (a 403 is not retried): one attempt per notification batch, each logged.
      // A run notifies per batch, before storing it: the customers, then the book's concentration.
      expect(posts.length).toBeGreaterThan(0);
      expect(r.errors).toHaveLength(posts.length);
      expect(r.errors[0]).toMatch(
        /^alerts: Slack notification failed: \d of \d notifications? not sent \(they are in the outbox\): Slack refused the message with 403: invalid_token$/,
      );
      expect(r.errors[0]).not.toContain('secret-token');
      const sent = await lines(r.evaluator.alertsFile);
      expect(sent.filter((l) => l.alert.customerId === 'BOLT').map((l) => l.alert.rule)).toContain(
        'daysPastDue',
      );
      expect(r.runs.at(-1)?.run.opened).toBeGreaterThan(0);
    } finally {
      await new Promise((ok) => hook.close(ok));
    }
  });

  it('after the daily run, the digest of the active alerts goes to the outbox, and to Slack when it asked for digests only', async () => {
    const { posts, hook, base } = await startHook(() => 200);
    try {
      const dataDir = join(dir, 'digest');
      env = await openLocal({ dataDir, inMemory: true });
      let now = new Date('2025-06-30T04:00:00Z');
      const r = evaluator(dataDir, {
        now: () => now,
        slack: {
          webhookUrl: `${base}/hook`,
          mode: 'digest',
        },
        consoleUrl: 'http://127.0.0.1:8787',
      });
      const notifier = new OutboxNotifier(dataDir, [r.evaluator.listener]);
      await r.evaluator.start();
      await load(notifier, 'customers', CUSTOMERS, '2025-06-30T08:00:00Z');
      await load(notifier, 'invoices', INVOICES, '2025-06-30T08:05:00Z');
      await r.evaluator.idle();
      expect(posts).toEqual([]); // digests only: no message per alert
      const before = (await lines(r.evaluator.alertsFile)).length;
      expect(before).toBe(4);

      // The next morning's daily run.
      now = new Date('2025-07-01T05:00:00Z');
      await r.evaluator.enqueue('2025-07-01', undefined, 'daily');
      const all = await readFile(r.evaluator.alertsFile, 'utf8');
      const last = JSON.parse(all.trim().split('\n').at(-1) ?? '{}');
      expect(last).toMatchObject({
        type: 'alert.digest',
        digest: {
          asOf: '2025-07-01',
          active: 4,
          bySeverity: { critical: 2, high: 1, warning: 1, info: 0 },
          more: 0,
        },
      });
      expect(last.digest.alerts.map((a: { rule: string }) => a.rule)).toEqual([
        'daysPastDue',
        'overdueAmount',
        'limitUse',
        'concentration',
      ]);
      expect(posts).toHaveLength(1);
      expect(posts[0]?.body.text).toBe('credit-sentinel 2025-07-01: 4 active alerts (2 critical, 1 high)');
      expect(posts[0]?.body.blocks.find((b) => b.type === 'actions')?.elements?.[0]?.url).toBe(
        'http://127.0.0.1:8787/alerts',
      );
      expect(r.logs.at(-1)).toBe('alerts: daily digest as of 2025-07-01: 4 active');
      expect(r.errors).toEqual([]);
    } finally {
      await new Promise((ok) => hook.close(ok));
    }
  });

  it('evaluates a change as of today whatever day its message names; never rewinds, never runs ahead', async () => {
    const dataDir = join(dir, 'today');
    env = await openLocal({ dataDir, inMemory: true });
    const r = evaluator(dataDir, { now: () => new Date('2025-06-30T04:00:00Z') });
    const notifier = new OutboxNotifier(dataDir, [r.evaluator.listener]);
    await r.evaluator.start();
    await load(notifier, 'customers', CUSTOMERS, '2025-06-30T08:00:00Z');
    await load(notifier, 'invoices', INVOICES, '2025-06-30T08:05:00Z');
    await r.evaluator.idle();
    const before = await env.store.listAlerts('active');
    expect(before.map((a) => a.seenAsOf)).toEqual(before.map(() => '2025-06-30'));

    // A change announced as of a day long past (a review as of 2013, say) is evaluated as of today.
    r.evaluator.listener({
      type: 'customers.changed',
      runId: 'r',
      asOf: '2013-06-30',
      customerIds: ['ACME'],
    });
    await r.evaluator.idle();
    expect(r.runs.at(-1)?.run).toMatchObject({ asOf: '2025-06-30', customers: 1, opened: 0, resolved: 0 });
    expect(await env.store.listAlerts('active')).toEqual(before);

    // A daily run that waited its turn past the day it was for leaves alone the customers already
    // evaluated as of a later day; a run as of a day not yet come is refused and changes nothing.
    const late = await r.evaluator.enqueue('2025-06-29', undefined, 'daily');
    expect(late).toMatchObject({ asOf: '2025-06-29', customers: 0, skipped: 2, opened: 0, resolved: 0 });
    expect(r.logs.at(-2)).toMatch(/; 2 skipped \(already evaluated as of a later day\)$/);
    expect(await r.evaluator.enqueue('2025-07-01', undefined, 'daily')).toBeUndefined();
    expect(r.errors).toEqual([
      'alerts: evaluating every customer as of 2025-07-01 (daily) failed: an evaluation as of 2025-07-01 cannot move the alerts: it is after today (2025-06-30 in UTC); a date in the future is a what-if',
    ]);
    expect(await env.store.listAlerts('active')).toEqual(before);
    expect(await env.store.listAlerts('resolved')).toEqual([]);
  });

  it('runs one evaluation at a time; one not started yet absorbs requests for its date', async () => {
    env = await openLocal({ inMemory: true });
    await load(new OutboxNotifier(join(dir, 'serial')), 'customers', CUSTOMERS, '2025-06-30T08:00:00Z');
    await load(new OutboxNotifier(join(dir, 'serial')), 'invoices', INVOICES, '2025-06-30T08:00:00Z');
    // Each evaluation of every customer starts by listing them and ends by counting the active
    // alerts: overlapping runs would interleave these calls.
    const calls: string[] = [];
    const real = env.store;
    const store = Object.assign(Object.create(real) as typeof real, {
      listCustomerIds: async () => {
        calls.push('begin');
        await new Promise((w) => setTimeout(w, 20));
        return real.listCustomerIds();
      },
      countAlerts: async (which: 'active' | 'resolved') => {
        calls.push('end');
        return real.countAlerts(which);
      },
      listAlerts: async (which: 'active' | 'resolved') => {
        calls.push('end');
        return real.listAlerts(which);
      },
    });
    const r = evaluator(join(dir, 'serial'), { store, now: () => new Date('2025-06-30T04:00:00Z') });
    const a = r.evaluator.enqueue('2025-06-28', undefined, 'daily');
    const b = r.evaluator.enqueue('2025-06-29', undefined, 'daily');
    const c = r.evaluator.enqueue('2025-06-30', ['ACME'], 'ingest');
    const d = r.evaluator.enqueue('2025-06-30', undefined, 'daily'); // absorbed by c, widened to all
    const e = r.evaluator.enqueue('2025-06-30', ['BOLT'], 'ingest'); // absorbed too
    expect(d).toBe(c);
    expect(e).toBe(c);
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    expect([ra?.asOf, rb?.asOf, rc?.asOf]).toEqual(['2025-06-28', '2025-06-29', '2025-06-30']);
    expect(rc?.customers).toBe(2);
    expect(r.runs.map((x) => x.triggers)).toEqual([['daily'], ['daily'], ['ingest', 'daily']]);
    // A daily run lists the active alerts once more, for its digest.
    expect(calls).toEqual(['begin', 'end', 'end', 'begin', 'end', 'end', 'begin', 'end', 'end']);
  });

  it('logs a failed run and carries on', async () => {
    env = await openLocal({ inMemory: true });
    const real = env.store;
    let fail = true;
    const store = Object.assign(Object.create(real) as typeof real, {
      listCustomerIds: async () => {
        if (fail) throw new Error('the store is on fire');
        return real.listCustomerIds();
      },
      loadCustomerPartition: async (id: string) => {
        if (fail) throw new Error(`cannot read ${id}`);
        return real.loadCustomerPartition(id);
      },
    });
    const r = evaluator(join(dir, 'errors'), { store, now: () => new Date('2025-06-30T04:00:00Z') });
    expect(await r.evaluator.start()).toBeUndefined();
    // The listener never throws into the ingest, whatever happens after it.
    expect(() =>
      r.evaluator.listener({ type: 'customers.changed', runId: 'r', asOf: '2025-06-30', customerIds: ['X'] }),
    ).not.toThrow();
    await r.evaluator.idle();
    expect(r.errors).toEqual([
      'alerts: evaluating every customer as of 2025-06-30 (start) failed: the store is on fire',
      'alerts: evaluating 1 changed customer as of 2025-06-30 (ingest) failed: cannot read X',
    ]);
    fail = false;
    expect((await r.evaluator.enqueue('2025-06-30', undefined, 'daily'))?.customers).toBe(0);
    expect(r.runs.map((x) => x.triggers)).toEqual([['daily']]);
  });

  it('schedules the daily run at 05:00 in the team zone, and stop() clears it', async () => {
    env = await openLocal({ inMemory: true });
    // 2025-06-30 22:30 UTC is 07-01 06:30 in Shanghai: today there is 07-01, the next 05:00 is 07-02.
    const now = () => new Date('2025-06-30T22:30:00Z');
    const r = evaluator(join(dir, 'daily'), { now, timeZone: 'Asia/Shanghai' });
    const first = await r.evaluator.start();
    expect(first?.asOf).toBe('2025-07-01');
    expect(r.evaluator.nextDailyRun?.toISOString()).toBe('2025-07-01T21:00:00.000Z');
    await r.evaluator.stop();
    expect(r.evaluator.nextDailyRun).toBeUndefined();
    expect(await r.evaluator.enqueue('2025-07-01', undefined, 'daily')).toBeUndefined();
    // Messages after stop() are ignored.
    r.evaluator.listener({ type: 'customers.changed', runId: 'r', asOf: '2025-07-01', customerIds: ['X'] });
    await r.evaluator.idle();
    expect(r.runs).toHaveLength(1);
  });
});

describe('nextDailyRun', () => {
  const next = (after: string, zone: string) => nextDailyRun(new Date(after), zone).toISOString();

  it('is the next 05:00 on the wall clock of the zone, strictly after the instant', () => {
    // Shanghai is UTC+8 all year: 05:00 there is 21:00 UTC the day before.
    expect(next('2025-06-30T20:59:59Z', 'Asia/Shanghai')).toBe('2025-06-30T21:00:00.000Z');
    expect(next('2025-06-30T21:00:00Z', 'Asia/Shanghai')).toBe('2025-07-01T21:00:00.000Z');
    expect(next('2025-06-30T12:00:00Z', 'Asia/Shanghai')).toBe('2025-06-30T21:00:00.000Z');
    // Kolkata is UTC+5:30.
    expect(next('2025-06-30T20:00:00Z', 'Asia/Kolkata')).toBe('2025-06-30T23:30:00.000Z');
    expect(next('2025-06-30T04:59:00Z', 'UTC')).toBe('2025-06-30T05:00:00.000Z');
    expect(next('2025-06-30T05:00:00Z', 'UTC')).toBe('2025-07-01T05:00:00.000Z');
  });

  it('follows daylight saving time', () => {
    // New York springs forward on 2025-03-09 at 02:00: 05:00 that day is EDT (UTC-4), the day before EST.
    expect(next('2025-03-08T06:00:00Z', 'America/New_York')).toBe('2025-03-08T10:00:00.000Z');
    expect(next('2025-03-08T12:00:00Z', 'America/New_York')).toBe('2025-03-09T09:00:00.000Z');
    expect(next('2025-03-09T06:00:00Z', 'America/New_York')).toBe('2025-03-09T09:00:00.000Z');
    // Berlin falls back on 2025-10-26 at 03:00 CEST: 05:00 that day is CET (UTC+1).
    expect(next('2025-10-25T12:00:00Z', 'Europe/Berlin')).toBe('2025-10-26T04:00:00.000Z');
    expect(next('2025-10-25T02:59:00Z', 'Europe/Berlin')).toBe('2025-10-25T03:00:00.000Z');
    // The next run is always 05:00 local, whatever the zone's offset.
    for (const zone of ['Asia/Shanghai', 'America/Los_Angeles', 'Europe/London', 'Australia/Sydney'])
      for (const at of ['2025-01-15T13:17:00Z', '2025-04-06T15:00:00Z', '2025-11-02T09:00:00Z']) {
        const n = nextDailyRun(new Date(at), zone);
        const wall = new Intl.DateTimeFormat('en-GB', {
          timeZone: zone,
          hour: '2-digit',
          minute: '2-digit',
          hourCycle: 'h23',
        }).format(n);
        expect(wall, `${zone} ${at}`).toBe('05:00');
        expect(n.getTime() - new Date(at).getTime(), `${zone} ${at}`).toBeGreaterThan(0);
        expect(n.getTime() - new Date(at).getTime(), `${zone} ${at}`).toBeLessThanOrEqual(25 * 3600_000);
      }
  });
});

describe('the demo book, loaded as `npm start` loads it', () => {
  it('opens alerts of eleven rules, each notified once, and no transient ones', async () => {
    const dataDir = join(dir, 'demo');
    const inboxRoot = join(dir, 'demo-inbox');
    env = await openLocal({ dataDir, inMemory: true });
    const r = evaluator(dataDir);
    const today = dateInZone(new Date(), 'UTC');
    await InboxWatcher.prepare(inboxRoot);
    for (const [key, text] of Object.entries(demoFiles(today))) await writeFile(join(inboxRoot, key), text);
    const inbox = new InboxObjectStore(inboxRoot);
    const failures: string[] = [];
    const watcher = new InboxWatcher(
      inbox,
      localIngestHandler(env, inbox, new OutboxNotifier(dataDir, [r.evaluator.listener]), 'UTC'),
      (file, e) => void failures.push(`${file}: ${(e as Error).message}`),
    );
    await watcher.scan(false);
    expect(failures).toEqual([]);
    expect(r.runs).toEqual([]); // messages before start() are left to its run of every customer
    const run = await r.evaluator.start();
    expect(run).toMatchObject({ asOf: today, customers: 16, resolved: 0 });

    const active = await env.store.listAlerts('active');
    const rules = (rule: string) =>
      active
        .filter((a) => a.rule === rule)
        .map((a) => `${a.customerId}:${a.severity}`)
        .sort();
    expect(rules('daysPastDue')).toEqual([
      'C1004:critical',
      'C1007:high',
      'C1009:critical',
      'C1013:warning',
      'C1014:critical',
    ]);
    expect(rules('coverExpiring')).toEqual(['C1004:warning']); // the Barclays guarantee, 18 days left
    expect(rules('paymentFrequency')).toContain('C1007:warning'); // stopped paying 75 days ago
    expect(rules('daysLateDrift')).toEqual(['C1013:high']); // paying weeks later than it used to
    expect(rules('disputedShare')).toEqual(['C1005:warning']);
    expect(rules('abnormalPayment')).toEqual(['C1003:warning']); // the 185,000.00 prepayment
    expect(rules('staleFinancials')).toEqual(['C1012:info']);
    expect(rules('limitUse').length).toBeGreaterThan(0);
    expect(rules('overdueAmount').length).toBeGreaterThan(0);
    expect(rules('concentration').length).toBeGreaterThan(0);
    // Invoices not yet due expected more than 15 days late, from each customer's own history: the
    // three bad payers and the slowest of the slow ones (issue 19 item 3).
    expect(rules('predictedLate')).toEqual([
      'C1002:warning',
      'C1004:warning',
      'C1009:warning',
      'C1014:warning',
    ]);
    expect(new Set(active.map((a) => a.rule)).size).toBe(11);
    expect(await env.store.listAlerts('resolved')).toEqual([]);
    const sent = await lines(r.evaluator.alertsFile);
    expect(sent).toHaveLength(active.length);

    // The assessments use the statements, scores, cover and industries of the demo.
    const rated = async (id: string) => (await env.store.loadCustomerPartition(id)).assessment;
    const sunbelt = await rated('C1008');
    expect(sunbelt?.rating).toBe('A');
    const code = (a: typeof sunbelt, f: string) => a?.factors.find((x) => x.factor === f)?.code;
    expect(code(sunbelt, 'altmanZ2')).toBe('ALTMAN_Z2_GE_2_6');
    expect(code(sunbelt, 'externalScore')).toBe('EXTERNAL_SCORE_GE_80');
    expect(code(sunbelt, 'industryRisk')).toBe('INDUSTRY_RISK_LOW');
    const marina = await rated('C1014');
    expect(marina?.rating).toBe('E');
    expect(code(marina, 'altmanZ2')).toBe('ALTMAN_Z2_OTHER'); // distress
    expect(code(marina, 'currentRatio')).toBe('CURRENT_RATIO_OTHER');
    expect(code(await rated('C1005'), 'industryRisk')).toBe('INDUSTRY_RISK_UNKNOWN'); // "food" is not classed
    expect((await rated('C1012'))?.limit.change).toBe('NEW'); // no limit on file
    // Cascade Outdoor: 90% insured, but most of what it owes is more than 60 days past due, which the
    // insurer does not pay: the basis says so.
    const cascade = (await rated('C1009'))?.limit.basis.join('; ');
    expect(cascade).toContain('insurance CI-77120 (Allianz Trade): 90% of the insurable receivables');
    expect(cascade).toContain('more than 60 days past due, which no insurer pays');
  });
});
