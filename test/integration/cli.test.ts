import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeVersionProblem } from '../../bin/node-version.mjs';
import { BIN, sentinel } from './cli-run.ts';

let dir: string;
const dataDir = () => join(dir, 'data');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-cli-'));
  await mkdir(join(dir, 'invoices'));
  await mkdir(join(dir, 'payments'));
  await writeFile(
    join(dir, 'invoices', 'march.csv'),
    [
      'invoice_id,customer_id,issue_date,due_date,amount,currency',
      'M1,ACME,2025-01-10,2025-02-09,"1,000.00",EUR',
      'M2,ACME,2025-02-01,2025-03-03,250.50,EUR',
      'M3,BOLT,2025-03-01,2025-03-31,99.99,EUR',
      'M4,BOLT,2025-02-30,2025-03-31,5.00,EUR',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'payments', 'march.csv'),
    'payment_id,customer_id,received_date,amount,currency,invoice_id\nP1,ACME,2025-02-20,1000.00,EUR,M1\n',
  );
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('sentinel CLI', () => {
  it('ingest --json: one object per file, exit 0 even with rejected rows', async () => {
    const r = await sentinel(
      ['ingest', 'invoices/march.csv', 'payments/march.csv', '--json', '--data-dir', dataDir()],
      dir,
    );
    expect(r.code).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ file: 'invoices/march.csv', kind: 'invoices', accepted: 3, rejected: 1 });
    expect(out[0].rejectsFile).toBe('invoices/march.rejects.csv');
    expect(out[1]).toMatchObject({ file: 'payments/march.csv', kind: 'payments', accepted: 1, rejected: 0 });
    expect(await readFile(join(dir, 'invoices', 'march.rejects.csv'), 'utf8')).toContain(
      '5,issue_date,2025-02-30,issue_date is not a real date (2025-02 has no day 30)',
    );
  });

  it('customers --as-of --json: the documented shape, books as they stood that day', async () => {
    const r = await sentinel(['customers', '--as-of', '2025-03-15', '--json', '--data-dir', dataDir()], dir);
    expect(r.code).toBe(0);
    // As of 03-15: M1 paid 02-20; M2 (due 03-03) 12 days past due; M3 issued 03-01, not due.
    expect(JSON.parse(r.stdout)).toEqual([
      {
        customerId: 'ACME',
        currency: 'EUR',
        openAmount: '250.50',
        overdueAmount: '250.50',
        aging: {
          notDue: '0.00',
          d1_30: '250.50',
          d31_60: '0.00',
          d61_90: '0.00',
          d91_180: '0.00',
          over180: '0.00',
        },
        openInvoices: 1,
        maxDaysPastDue: 12,
        settledInvoices: 1,
        avgDaysLate: 11, // paid 02-20, due 02-09
      },
      {
        customerId: 'BOLT',
        currency: 'EUR',
        openAmount: '99.99',
        overdueAmount: '0.00',
        aging: {
          notDue: '99.99',
          d1_30: '0.00',
          d31_60: '0.00',
          d61_90: '0.00',
          d91_180: '0.00',
          over180: '0.00',
        },
        openInvoices: 1,
        maxDaysPastDue: 0,
        settledInvoices: 0,
        avgDaysLate: null,
      },
    ]);
    // Before the payment arrived, M1 was open and 6 days late; M2 not issued... as of 02-15 it was.
    const early = await sentinel(
      ['customers', '--as-of', '2025-02-15', '--json', '--data-dir', dataDir()],
      dir,
    );
    expect(JSON.parse(early.stdout)[0]).toMatchObject({
      customerId: 'ACME',
      openAmount: '1250.50',
      overdueAmount: '1000.00',
    });
  });

  it('customer ID and runs', async () => {
    const c = await sentinel(
      ['customer', 'ACME', '--as-of', '2025-03-15', '--json', '--data-dir', dataDir()],
      dir,
    );
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout).openItems).toEqual([
      {
        invoiceId: 'M2',
        issueDate: '2025-02-01',
        dueDate: '2025-03-03',
        amount: '250.50',
        currency: 'EUR',
        openAmount: '250.50',
        daysPastDue: 12,
        bucket: 'd1_30',
        disputed: false,
      },
    ]);
    const text = await sentinel(['customer', 'ACME', '--as-of', '2025-03-15', '--data-dir', dataDir()], dir);
    expect(text.stdout).toContain('open 250.50 EUR, overdue 250.50 EUR');
    const runs = await sentinel(['runs', '--json', '--data-dir', dataDir()], dir);
    expect(JSON.parse(runs.stdout).map((r: { file: string }) => r.file)).toEqual([
      'payments/march.csv',
      'invoices/march.csv',
    ]);
    const missing = await sentinel(['customer', 'NOBODY', '--data-dir', dataDir()], dir);
    expect(missing.code).toBe(1);
  });

  it('exit 1 when a file cannot be read, 2 on bad usage', async () => {
    await writeFile(join(dir, 'invoices', 'blob.csv'), Buffer.from([0, 1, 2, 3, 255, 0, 7, 9]));
    const bin = await sentinel(['ingest', 'invoices/blob.csv', '--json', '--data-dir', dataDir()], dir);
    expect(bin.code).toBe(1);
    expect(JSON.parse(bin.stdout)).toMatchObject({ status: 'unreadable', accepted: 0, rejected: 1 });
    const gone = await sentinel(['ingest', 'invoices/nope.csv', '--data-dir', dataDir()], dir);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('cannot read invoices/nope.csv: no such file\n');
    for (const args of [
      ['ingest', 'invoices/march.csv', '--kind', 'quotes'],
      ['ingest', 'march.csv'],
      ['customers', '--as-of', '2025-13-01'],
      ['ingest', 'invoices/march.csv', '--profile', 'no-such-profile'],
      ['bogus'],
      ['customers', '--frobnicate'],
    ]) {
      const r = await sentinel([...args, '--data-dir', dataDir()], dir);
      expect(r.code, args.join(' ')).toBe(2);
      // One line: what was wrong and where the help is.
      expect(r.stderr, args.join(' ')).toMatch(/^sentinel: [^\n]+; see `sentinel help( \w+)?`\n$/);
    }
  });

  it('an invalid profile file is refused with the path of the bad field', async () => {
    await writeFile(
      join(dir, 'bad-profile.json'),
      JSON.stringify({
        name: 'mine',
        decimal: ',',
        thousands: ',',
        outputs: [{ kind: 'invoices', columns: { invoice_id: 'No' } }],
      }),
    );
    const r = await sentinel(
      ['ingest', 'invoices/march.csv', '--profile', 'bad-profile.json', '--data-dir', dataDir()],
      dir,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('thousands: must differ from the decimal separator');
    expect(r.stderr).toContain('outputs.0.columns.customer_id: is required for invoices');
  });

  it('works beside a running `sentinel start` on the same data dir, and the inbox ingests dropped files', async () => {
    const shared = join(dir, 'shared');
    const inbox = join(dir, 'inbox');
    const server: ChildProcess = spawn(
      process.execPath,
      [BIN, 'start', '--data-dir', shared, '--inbox', inbox, '--port', '0', '--no-demo'],
      { cwd: dir, env: { ...process.env, SENTINEL_TIME_ZONE: 'UTC' } },
    );
    try {
      let banner = '';
      await new Promise<void>((ok, fail) => {
        const t = setTimeout(() => fail(new Error(`start did not come up: ${banner}`)), 30_000);
        server.stdout?.on('data', (d) => {
          banner += d;
          if (banner.includes('Ctrl-C stops it.')) {
            clearTimeout(t);
            ok();
          }
        });
      });
      const url = /console\s+(http:\/\/\S+)/.exec(banner)?.[1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // The banner says where alerts go, and which kinds the inbox takes.
      expect(banner).toContain(
        `  alerts    ${join(shared, 'outbox', 'alerts.jsonl')}  (at start, after every upload, daily at 05:00 UTC)`,
      );
      expect(banner).toContain('guarantees, insurance, scores, orders, profile/<name>');
      const alertsPage = await fetch(`${url}/alerts`);
      expect(alertsPage.status).toBe(200);
      expect(await alertsPage.text()).toContain('<h1>Alerts</h1>');
      // The CLI talks to the running store (LevelDB allows one process per directory).
      const r = await sentinel(['ingest', 'invoices/march.csv', '--json', '--data-dir', shared], dir);
      expect(r.code).toBe(0);
      const page = await (await fetch(`${url}/api/customers?asOf=2025-03-15`)).json();
      expect(JSON.stringify(page)).toContain('ACME');
      // A file dropped into the inbox is ingested by the watcher through the Lambda handler.
      await writeFile(
        join(inbox, 'payments', 'late.csv'),
        'payment_id,customer_id,received_date,amount,currency,invoice_id\nPX,BOLT,2025-04-02,99.99,EUR,M3\n',
      );
      // ... and the customers it changed are evaluated: an invoice long past due opens an alert.
      await writeFile(
        join(inbox, 'invoices', 'old.csv'),
        'invoice_id,customer_id,issue_date,due_date,amount,currency\nO1,OLDCO,2025-01-01,2025-01-31,500.00,EUR\n',
      );
      const report = join(inbox, 'payments', 'late.rejects.csv');
      for (let i = 0; i < 100 && !existsSync(report); i++) await new Promise((w) => setTimeout(w, 100));
      expect(await readFile(report, 'utf8')).toBe('line,column,value,reason\r\n');
      const c = await sentinel(
        ['customer', 'BOLT', '--as-of', '2025-04-30', '--json', '--data-dir', shared],
        dir,
      );
      expect(JSON.parse(c.stdout)).toMatchObject({ openAmount: '0.00', settledInvoices: 1, avgDaysLate: 2 });
      // The server logs an ingest-triggered evaluation once it has stored what it decided (the
      // concentration pass comes after the per-customer one, so the outbox alone is no signal).
      const evaluated = /alerts: evaluated \d+ customers? as of \S+ \([a-z+]*ingest[a-z+]*\): .* active/;
      for (let i = 0; i < 150 && !evaluated.test(banner); i++) await new Promise((w) => setTimeout(w, 100));
      expect(banner).toMatch(evaluated);
      const alertsFile = join(shared, 'outbox', 'alerts.jsonl');
      const notified = () => readFile(alertsFile, 'utf8').catch(() => '');
      const alerts = (await (await fetch(`${url}/api/alerts`)).json()) as {
        active: { customerId: string; rule: string; severity: string }[];
      };
      // OLDCO's 500.00 beside ACME's 250.50 is two thirds of the open EUR receivables: concentrated too.
      expect(alerts.active.map((a) => `${a.customerId}/${a.rule}:${a.severity}`)).toEqual([
        'OLDCO/daysPastDue:critical',
        'OLDCO/concentration:warning',
      ]);
      const outbox = await notified();
      expect(
        outbox
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).type),
      ).toEqual(['alert.opened', 'alert.opened']);
    } finally {
      const exited = new Promise((ok) => server.once('exit', ok));
      server.kill('SIGINT');
      await exited;
    }
  });

  it('refuses an old Node with a clear message instead of a stack trace', () => {
    expect(nodeVersionProblem('20.20.2')).toMatch(
      /^credit-sentinel needs Node.js 22.12 or newer .* this is v20.20.2\./,
    );
    expect(nodeVersionProblem('22.11.0')).toBeDefined();
    expect(nodeVersionProblem('22.12.0')).toBeUndefined();
    expect(nodeVersionProblem('24.1.0')).toBeUndefined();
  });
});
