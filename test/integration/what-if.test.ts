import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateInZone } from '../../functions/core/dates.ts';
import type { Alert } from '../../functions/credit/alerts.ts';
import type { EvaluationRun, WhatIfRun } from '../../functions/credit/evaluate.ts';
import { demoFiles } from '../../infra/local/runtime/demo.ts';
import { InboxObjectStore, OutboxNotifier } from '../../infra/local/runtime/files.ts';
import { InboxWatcher, localIngestHandler } from '../../infra/local/runtime/inbox.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { sentinel } from './cli-run.ts';
import { tableDump } from './helpers.ts';

/**
 * The README's own example, as issue 13 measured it: the demo book (data current to today) and the
 * IBM sample (2012-2013) in one store, evaluated live today, then `sentinel evaluate --as-of
 * 2013-06-30`. That date is a what-if: it prints what it would find and changes nothing of today.
 * The CLI runs as a user runs it, against this process's store (published as `npm start` does).
 */
const IBM = resolve(
  import.meta.dirname,
  '../fixtures/datasets/ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv',
);
const PAST = '2013-06-30';

let dir: string;
let dataDir: string;
let env: LocalEnv;
const today = dateInZone(new Date(), 'UTC');
const cli = (...args: string[]) => sentinel([...args, '--data-dir', dataDir], dir);
const outbox = () => readFile(join(dataDir, 'outbox', 'alerts.jsonl'), 'utf8').catch(() => '');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-whatif-'));
  dataDir = join(dir, 'data');
  env = await openLocal({ dataDir }, true);
  const inboxRoot = join(dir, 'inbox');
  await InboxWatcher.prepare(inboxRoot);
  for (const [key, text] of Object.entries(demoFiles(today))) await writeFile(join(inboxRoot, key), text);
  await copyFile(IBM, join(inboxRoot, 'profile', 'ibm-accounts-receivable', 'ar.csv'));
  const inbox = new InboxObjectStore(inboxRoot);
  const failures: string[] = [];
  const watcher = new InboxWatcher(
    inbox,
    localIngestHandler(env, inbox, new OutboxNotifier(dataDir), 'UTC'),
    (file, e) => void failures.push(`${file}: ${(e as Error).message}`),
  );
  await watcher.scan(false);
  expect(failures).toEqual([]);
  expect((await env.store.listCustomerIds()).length).toBe(116);
}, 60_000);
afterAll(async () => {
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('sentinel evaluate --as-of a past date, beside live alerts', () => {
  let live: EvaluationRun;
  let active: Alert[];
  let before: string[];
  let told: string;

  it('as of today it is the live run: alerts are stored and told', async () => {
    const r = await cli('evaluate', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as EvaluationRun & { whatIf: boolean };
    expect(out).toMatchObject({ whatIf: false, asOf: today, customers: 116, skipped: 0 });
    expect(out.opened).toBeGreaterThan(0);
    live = out;
    active = await env.store.listAlerts('active');
    expect(active.length).toBe(out.active);
    expect(active.find((a) => a.customerId === 'C1004' && a.rule === 'daysPastDue')?.severity).toBe(
      'critical',
    );
    told = await outbox();
    expect(told.trim().split('\n')).toHaveLength(out.notifications);
    before = await tableDump(env.store);
  });

  it('as of 2013-06-30 it prints what would fire, and stores and tells nothing', async () => {
    const text = await cli('evaluate', '--as-of', PAST);
    expect(text.code, text.stderr).toBe(0);
    const json = await cli('evaluate', '--as-of', PAST, '--json');
    expect(json.code, json.stderr).toBe(0);
    const run = JSON.parse(json.stdout) as WhatIfRun;
    expect(run).toMatchObject({ whatIf: true, asOf: PAST, customers: 116 });

    // Every alert, assessment, history item and record is as it was; nobody was told anything.
    expect(await tableDump(env.store)).toEqual(before);
    expect(await outbox()).toBe(told);

    // What it found: the IBM book had disputes and late payers then; the demo book did not exist yet.
    const findings = run.results.flatMap((c) => c.findings);
    expect(findings.length).toBe(run.alerts);
    const ibm = findings.filter((f) => !/^C10\d\d$/.test(f.customerId));
    expect(ibm.map((f) => f.rule)).toEqual(expect.arrayContaining(['disputedShare', 'paymentFrequency']));
    expect(findings.filter((f) => f.customerId === 'C1004')).toEqual([]);
    expect(findings.every((f) => f.asOf === PAST && f.summary.length > 0)).toBe(true);
    // The counts are of everything it found.
    const bySeverity = { info: 0, warning: 0, high: 0, critical: 0 };
    for (const f of findings) bySeverity[f.severity]++;
    expect(run.bySeverity).toEqual(bySeverity);
    expect(Object.values(run.byRule).reduce((a, b) => a + b, 0)).toBe(run.alerts);
    expect(Object.values(run.ratings).reduce((a, b) => a + b, 0)).toBe(116);
    const c1004 = run.results.find((c) => c.customerId === 'C1004');
    expect(c1004?.limit.reason.length).toBeGreaterThan(0);

    // The words: said to be a what-if, every alert it would have active listed, and the counts.
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(
      `what-if as of ${PAST}: nothing was stored (only an evaluation as of today, ${today}, moves the alerts)`,
    );
    const ratings = Object.entries(run.ratings)
      .sort()
      .map(([r, n]) => `${r} ${n}`);
    expect(lines[1]).toBe(`116 customers under policy ${run.policyId}: ratings ${ratings.join(', ')}`);
    for (const f of findings)
      expect(
        lines.some((l) =>
          new RegExp(`^${f.severity} +${f.customerId} +${f.rule} +.* ${literal(f.summary)} *$`).test(l),
        ),
        `${f.customerId} ${f.rule}`,
      ).toBe(true);
    expect(lines.at(-2)).toBe(
      `${run.alerts} alerts would be active as of ${PAST}: critical ${bySeverity.critical}, high ${bySeverity.high}, ` +
        `warning ${bySeverity.warning}, info ${bySeverity.info}; by rule: ` +
        Object.entries(run.byRule)
          .filter(([, n]) => n > 0)
          .map(([r, n]) => `${r} ${n}`)
          .join(', '),
    );
  }, 60_000);

  it('customer --explain --as-of computes without storing either', async () => {
    const r = await cli('customer', 'C1004', '--explain', '--as-of', PAST);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`C1004`);
    expect(await tableDump(env.store)).toEqual(before);
  });

  it('the next live run for today finds the alerts as they were: no rating downgrade, nothing opened or resolved', async () => {
    const r = await cli('evaluate', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      whatIf: false,
      asOf: today,
      customers: 116,
      ratingChanges: 0,
      opened: 0,
      escalated: 0,
      resolved: 0,
      active: live.active,
    });
    const after = await env.store.listAlerts('active');
    expect(after.filter((a) => a.rule === 'ratingDowngrade')).toEqual(
      active.filter((a) => a.rule === 'ratingDowngrade'),
    );
    // Running today's evaluation again stores exactly the same state.
    expect(await tableDump(env.store)).toEqual(before);
    expect(await outbox()).toBe(told);
  });
});

/** A summary as a literal in a regular expression. */
function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
