import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../infra/local/cli/help.ts';
import { main } from '../../infra/local/cli/index.ts';
import { BIN, sentinel } from './cli-run.ts';

// The CLI as people know CLIs: help for every command, one line per usage error, one line per
// failure a user can cause, progress only on a terminal, and a `start` terminal that says what the
// inbox did. Every case spawns the real `bin/sentinel.mjs`.
let dir: string;
const data = () => join(dir, 'data');
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);
const oneLine = (s: string) => expect(s.trimEnd().split('\n')).toHaveLength(1);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-cli-help-'));
  await mkdir(join(dir, 'customers'));
  await mkdir(join(dir, 'invoices'));
  await writeFile(
    join(dir, 'customers', 'c.csv'),
    'customer_id,name,currency,credit_limit\nC1,Acme GmbH,EUR,1000\nC2,Bolt Oy,EUR,500\n',
  );
  await writeFile(
    join(dir, 'invoices', 'i.csv'),
    'invoice_id,customer_id,issue_date,due_date,amount,currency\nI1,C1,2026-01-05,2026-02-04,900.00,EUR\nI2,C2,2026-02-01,2026-03-03,250.00,EUR\n',
  );
  const r = await sentinel(['ingest', 'customers/c.csv', 'invoices/i.csv', '--data-dir', data()], dir);
  expect(r.code, r.stderr).toBe(0);
}, 60_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** Runs the CLI's `main` in this process (the same code `bin/sentinel.mjs` runs), capturing what it prints. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('help', () => {
  it('the real CLI: sentinel help lists every command in one line each; help transfer paid; ingest --help; a group; --help runs nothing', async () => {
    const [all, paid, ingest] = await Promise.all([
      sentinel(['help'], dir),
      sentinel(['help', 'transfer', 'paid'], dir),
      sentinel(['ingest', '--help'], dir),
    ]);
    const group = await inProcess(['transfer', '--help']);
    const customer = await inProcess(['customer', 'NOBODY', '--help', '--data-dir', data()]);
    expect(all.code).toBe(0);
    expect(all.stderr).toBe('');
    for (const c of COMMANDS.filter((x) => x.name !== 'help'))
      expect(all.stdout).toMatch(
        new RegExp(`\\n  ${c.name} +${c.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`),
      );
    expect(all.stdout).toContain(
      'sentinel help <command> (or <command> --help) shows its options and an example.',
    );
    expect(paid.code).toBe(0);
    expect(paid.stdout).toContain('Usage: sentinel transfer paid ID --by WHO [--on YYYY-MM-DD]');
    expect(paid.stdout).toContain('--on YYYY-MM-DD  the day it was paid (default: today)');
    expect(ingest.code).toBe(0);
    expect(ingest.stdout).toMatch(/^Usage: sentinel ingest FILE\.\.\./);
    expect(ingest.stdout).toContain('--reports DIR');
    expect(group.code).toBe(0);
    for (const sub of ['request', 'show', 'recall', 'paid'])
      expect(group.stdout).toContain(`transfer ${sub} `);
    expect(customer.code).toBe(0);
    expect(customer.stdout).toMatch(/^Usage: sentinel customer ID/);
    expect(customer.stderr).toBe('');
  }, 60_000);

  it('`help CMD` and `CMD --help` show the same page for every command and subcommand: usage, options, an example', async () => {
    for (const c of COMMANDS) {
      const words = c.name.split(' ');
      const viaHelp = await inProcess(['help', ...words]);
      const viaFlag = await inProcess([...words, '--help']);
      expect(viaHelp.code, c.name).toBe(0);
      expect(viaFlag.code, `${c.name} --help: ${viaFlag.stderr}`).toBe(0);
      expect(viaFlag.stdout, c.name).toBe(viaHelp.stdout);
      const out = viaHelp.stdout;
      expect(out, c.name).toMatch(new RegExp(`^Usage: sentinel ${c.name}`));
      for (const [flag] of c.options) expect(out, c.name).toContain(`\n  ${flag} `);
      expect(out, c.name).toContain('-h, --help');
      expect(out, c.name).toContain(`Example (on the demo book):\n  ${c.example}\n`);
      if (c.store !== false) expect(out, c.name).toContain('--data-dir DIR');
    }
  });
});

describe('a usage error is one line and where the help is, exit 2', () => {
  const cases: [string[], string][] = [
    [['bogus'], 'sentinel: unknown command "bogus"; see `sentinel help`'],
    [['help', 'bogus'], 'sentinel: unknown command "bogus"; see `sentinel help`'],
    [
      ['help', 'transfer', 'wire'],
      'sentinel: "transfer wire" is not a command; see `sentinel help transfer`',
    ],
    [['customers', '--frobnicate'], 'sentinel: unknown option --frobnicate; see `sentinel help customers`'],
    [['customers', '--as-of'], 'sentinel: --as-of needs a value; see `sentinel help customers`'],
    [['customers', '--json=yes'], 'sentinel: --json takes no value; see `sentinel help customers`'],
    [['customer'], 'sentinel: customer takes exactly one customer ID; see `sentinel help customer`'],
    [
      ['transfer'],
      'sentinel: transfer needs one of: request, show, recall, retry, paid; see `sentinel help transfer`',
    ],
    [
      ['transfer', 'paid', 'TR-0000000000000000000000000A'],
      'sentinel: transfer paid needs --by WHO; see `sentinel help transfer paid`',
    ],
    [
      ['transfer', 'show', '42'],
      'sentinel: "42" is not a transfer id: it is TR- and 26 letters and digits, as `transfer request` prints it; see `sentinel help transfer show`',
    ],
    [
      ['backtest', '--from', '2026-01-01'],
      'sentinel: backtest needs --from YYYY-MM-DD and --to YYYY-MM-DD; see `sentinel help backtest`',
    ],
    [['profiles', 'extra'], 'sentinel: unexpected argument "extra"; see `sentinel help profiles`'],
    [
      ['review', 'rerun'],
      'sentinel: unknown review command "rerun": use run, show or runs; see `sentinel help review`',
    ],
  ];

  it('the real CLI: an unknown command, a wrong id form', async () => {
    const picked = [cases[0], cases[9]] as [string[], string][];
    const results = await Promise.all(picked.map(([args]) => sentinel([...args, '--data-dir', data()], dir)));
    results.forEach((r, i) => {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`${picked[i]?.[1]}\n`);
    });
  }, 60_000);

  it.each(cases)('%j', async (args, line) => {
    const r = await inProcess([...args, '--data-dir', data()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${line}\n`);
  });

  it('an alert id of the wrong form names the form', async () => {
    const r = await inProcess(['alerts', 'ack', 'C1', '--data-dir', data()]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(
      /^sentinel: alerts ack C1: an alert id is <customer>\/<rule>, .*; see `sentinel help alerts ack`\n$/,
    );
  });

  it('no command at all: the overview on stderr, exit 2', async () => {
    const r = await inProcess([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: sentinel <command> [options]');
  });
});

describe('a failure a user can cause is one clear line, exit 1', () => {
  it('an unknown customer, with --explain too', async () => {
    const plain = await sentinel(['customer', 'NOBODY', '--data-dir', data()], dir);
    const explain = await inProcess(['customer', 'NOBODY', '--explain', '--data-dir', data()]);
    for (const r of [plain, explain]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('sentinel: there is no customer NOBODY on file (see `sentinel customers`)\n');
    }
  }, 60_000);

  it('an unknown transfer, an unknown alert', async () => {
    const transfer = await sentinel(
      ['transfer', 'show', 'TR-0000000000000000000000000A', '--data-dir', data()],
      dir,
    );
    const alert = await inProcess(['alerts', 'resolve', 'C1/daysPastDue', '--data-dir', data()]);
    expect(transfer.code).toBe(1);
    expect(transfer.stderr).toBe(
      "sentinel: there is no transfer TR-0000000000000000000000000A (the console's Transfers page lists them)\n",
    );
    expect(alert.code).toBe(1);
    expect(alert.stderr).toBe('sentinel: there is no active alert C1/daysPastDue (see `sentinel alerts`)\n');
  }, 60_000);

  it('a missing file: the policy, the profile, the upload', async () => {
    const [policy, profile] = await Promise.all([
      sentinel(['policy', 'check', 'nope.json'], dir),
      inProcess([
        'ingest',
        join(dir, 'invoices/i.csv'),
        '--profile',
        join(dir, 'nope.json'),
        '--data-dir',
        data(),
      ]),
    ]);
    const upload = await inProcess(['ingest', join(dir, 'invoices/nope.csv'), '--data-dir', data()]);
    expect(policy.code).toBe(1);
    expect(policy.stderr).toBe('sentinel: cannot read the policy nope.json: no such file\n');
    expect(profile.code).toBe(1);
    expect(profile.stderr).toBe(
      `sentinel: cannot read the profile ${join(dir, 'nope.json')}: no such file\n`,
    );
    expect(upload.code).toBe(1);
    expect(upload.stderr).toBe(`cannot read ${join(dir, 'invoices/nope.csv')}: no such file\n`);
  }, 60_000);

  it('a busy port names the port and --port, and nothing is left running', async () => {
    const holder: Server = createServer();
    await new Promise<void>((ok) => holder.listen(0, '127.0.0.1', ok));
    const port = (holder.address() as { port: number }).port;
    try {
      const r = await sentinel(
        [
          'start',
          '--port',
          String(port),
          '--no-demo',
          '--inbox',
          join(dir, 'busy-inbox'),
          '--data-dir',
          join(dir, 'busy'),
        ],
        dir,
      );
      expect(r.code).toBe(1);
      noStack(r.stderr);
      expect(r.stderr).toBe(
        `sentinel: port ${port} is busy: another program (or another \`sentinel start\`) listens on it; pick another with --port N (--port 0 takes any free port)\n`,
      );
    } finally {
      await new Promise((ok) => holder.close(ok));
    }
  }, 60_000);

  it('a reader that goes away (| head) ends quietly', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((ok) => {
      const p = spawn(process.execPath, [BIN, 'help'], { cwd: dir });
      let stderr = '';
      p.stderr.on('data', (d) => {
        stderr += d;
      });
      p.stdout.destroy();
      p.on('close', (code) => ok({ code, stderr }));
    });
    noStack(r.stderr);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('progress', () => {
  it('nothing extra on stderr when it is not a terminal', async () => {
    const r = await sentinel(
      ['backtest', '--from', '2026-01-01', '--to', '2026-03-31', '--data-dir', data()],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^backtest of policy \S+, 2026-01-01 to 2026-03-31 \(90 days, 2 customers\)/);
  }, 60_000);

  it('one updating line on a terminal, wiped before the result', async () => {
    // `script` gives the CLI a terminal; the line shows at once with SENTINEL_PROGRESS_AFTER_MS=0.
    const cmd = `${process.execPath} ${BIN} backtest --from 2026-01-01 --to 2026-03-31 --data-dir ${data()}`;
    const out = await new Promise<string>((ok) => {
      const p = spawn('script', ['-qec', cmd, '/dev/null'], {
        cwd: dir,
        env: { ...process.env, SENTINEL_PROGRESS_AFTER_MS: '0', SENTINEL_TIME_ZONE: 'UTC' },
      });
      let text = '';
      p.stdout.on('data', (d) => {
        text += d;
      });
      p.on('close', () => ok(text));
    });
    // ESC shown as <ESC>: the line ends with "clear to the end of the line" (ESC [K).
    const shown = out.replaceAll(String.fromCharCode(27), '<ESC>');
    expect(shown).toMatch(
      /\rbacktest: (loading customers \d of 2|day \d+ of 90, 2 customers) \(\d+ s\)<ESC>\[K/,
    );
    // The line is wiped (\r, clear to the end) and the result starts on a clean line.
    expect(shown).toMatch(/\r<ESC>\[Kbacktest of policy /);
  }, 60_000);
});

describe('the start terminal says what the inbox did', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  it('each file picked up and finished with its counts and rejects report; a file in the inbox root warned of once', async () => {
    const inbox = join(dir, 'inbox');
    server = spawn(
      process.execPath,
      [BIN, 'start', '--data-dir', join(dir, 'served'), '--inbox', inbox, '--port', '0', '--no-demo'],
      { cwd: dir, env: { ...process.env, SENTINEL_TIME_ZONE: 'UTC' } },
    );
    let out = '';
    let err = '';
    server.stdout?.on('data', (d) => {
      out += d;
    });
    server.stderr?.on('data', (d) => {
      err += d;
    });
    const until = async (what: () => boolean, label: string) => {
      const end = Date.now() + 40_000;
      while (!what()) {
        if (Date.now() > end) throw new Error(`no ${label}:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until(() => out.includes('Ctrl-C stops it.'), 'banner');
    await writeFile(join(inbox, 'stray.csv'), 'customer_id,name,currency\nS1,Stray,EUR\n');
    await writeFile(
      join(inbox, 'customers', 'new.csv'),
      'customer_id,name,currency,credit_limit\nN1,New AB,SEK,1000\nN2,Bad AB,SEK,abc\n',
    );
    await until(
      () => /inbox: customers\/new\.csv done/.test(out) && err.includes('stray.csv'),
      'inbox lines',
    );
    expect(out).toContain('inbox: customers/new.csv picked up\n');
    expect(out).toContain(
      `inbox: customers/new.csv done: 1 accepted, 1 rejected; rejects in ${join(inbox, 'customers', 'new.rejects.csv')}\n`,
    );
    expect(err).toContain(
      `inbox: ${join(inbox, 'stray.csv')} is not read: a file goes under ${inbox}/<kind>/ (customers, invoices, payments,`,
    );
    // Told once, though the inbox is scanned every second.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(err.split('stray.csv is not read').length - 1).toBe(1);
    expect(out.split('customers/new.csv picked up').length - 1).toBe(1);
  }, 60_000);
});
