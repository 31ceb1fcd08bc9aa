import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sentinel } from './cli-run.ts';
import { COLLECTIONS_AS_OF, collectionsDataDir } from './collections-book.ts';

/**
 * `sentinel collections` and `sentinel collections backtest` as a user runs them (README
 * "Collections"), on a small book written to a data dir: one customer a few days late, one long
 * overdue, one with only a disputed invoice overdue, one paid up.
 */
let dir: string;
let dataDir: string;
const AS_OF = COLLECTIONS_AS_OF;

beforeAll(async () => {
  ({ dir, dataDir } = await collectionsDataDir('sentinel-cli-collections-'));
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sentinel collections', () => {
  it('lists the overdue customers, highest score first, with what is done today or why not', async () => {
    const r = await sentinel(['collections', '--as-of', AS_OF, '--data-dir', dataDir], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(
      `collections as of ${AS_OF} under policy ${lines[0]?.match(/policy (\S+):/)?.[1]}: 5 customers; 3 to act on today, 1 overdue and not acted on (the reason is given), 1 with nothing overdue (not listed; --all lists them)`,
    );
    const why = lines.indexOf('why:');
    const rows = lines.slice(5, why).filter((l) => l.trim() !== '');
    // The book has no FX rate: every demand counts at the score's cap (40 points), and the days,
    // of 180 (30 points), and not rated (15 points) tell them apart; no customer has settled an
    // invoice, so each one's expected wait is at the cap (15). The weights add up to 115.
    expect(rows.map((l) => l.split(/\s{2,}/).slice(0, 8))).toEqual([
      // 90 days past due, never told: the final notice before any hand-over to legal, by phone
      // (no billing address on file). (40 + 15 + 15 + 15) × 100/115.
      ['OLD', 'Old Debt Ltd', '73.9', 'legal', 'final (phone)', '1,200.00 GBP', '90', 'legal on 2026-04-07'],
      [
        'CN',
        '深圳恒达物流有限公司',
        '63.9',
        'firm',
        'firm (phone)',
        '26,700.00 CNY',
        '21',
        'final on 2026-04-09',
      ],
      [
        'LATE',
        'Late Payer GmbH',
        '62.2',
        'friendly',
        'friendly (email)',
        '1,200.00 EUR',
        '9',
        'firm on 2026-04-07',
      ],
      // Nothing demanded (only a disputed item overdue): no points.
      ['DISP', 'Disputing SA', '0.0', '-', '-', '0.00 EUR', '0', '-'],
    ]);
    // Each reason under the table, one line a customer, in the table's order; then each score.
    const score = lines.findIndex((l) => l.startsWith('score ('));
    expect(lines.slice(why + 1, score).filter((l) => l !== '')).toEqual([
      '  OLD: the oldest undisputed overdue item (O1) is 90 days past due, past "legal" at 60, but the hand-over waits for the final notice: "final" goes out first; 1,200.00 GBP demanded',
      '  CN: the oldest undisputed overdue item (C1) is 21 days past due: "firm" comes at 15; 26,700.00 CNY demanded',
      '  LATE: the oldest undisputed overdue item (L1) is 9 days past due: "friendly" comes at 3; 1,200.00 EUR demanded',
      '  DISP: only disputed items are overdue: nothing is chased while they are disputed',
    ]);
    expect(lines[score]).toBe(
      'score (amount overdue 40 (cap 500,000.00 USD), days past due 30 (cap 180 days), rating 15 (A 0, B 0.25, C 0.5, D 0.75, E 1, unrated 1), broken promises 15 (cap 2 in 90 days), expected wait 15 (cap 30 days)):',
    );
    expect(lines.slice(score + 1).filter((l) => l !== '')).toEqual([
      '  OLD: 73.9 = 34.8 amount overdue (1,200.00 GBP, counted at the 500,000.00 USD cap) + 13.0 days past due (90 days of a 180-day cap) + 13.0 rating (not rated by 2026-03-31) + 0.0 broken promises (none broken in 90 days) + 13.0 expected wait (O1 (800.00 GBP) and 1 other are already further past due than any invoice the customer has settled: at the cap); no GBP/USD rate on file by 2026-03-31: the amount counts at the cap',
      '  CN: 63.9 = 34.8 amount overdue (26,700.00 CNY, counted at the 500,000.00 USD cap) + 3.0 days past due (21 days of a 180-day cap) + 13.0 rating (not rated by 2026-03-31) + 0.0 broken promises (none broken in 90 days) + 13.0 expected wait (C1 (26,700.00 CNY) is already further past due than any invoice the customer has settled: at the cap); no CNY/USD rate on file by 2026-03-31: the amount counts at the cap',
      '  LATE: 62.2 = 34.8 amount overdue (1,200.00 EUR, counted at the 500,000.00 USD cap) + 1.3 days past due (9 days of a 180-day cap) + 13.0 rating (not rated by 2026-03-31) + 0.0 broken promises (none broken in 90 days) + 13.0 expected wait (L1 (1,200.00 EUR) is already further past due than any invoice the customer has settled: at the cap); no EUR/USD rate on file by 2026-03-31: the amount counts at the cap',
      '  DISP: 0.0 = 0.0 amount overdue (0.00 EUR of a 500,000.00 USD cap) + 0.0 days past due (0 days of a 180-day cap) + 0.0 rating (not rated by 2026-03-31) + 0.0 broken promises (none broken in 90 days) + 0.0 expected wait (no demanded invoice to predict); nothing is demanded: no points',
    ]);
    // No line of the table is wider than a wide terminal.
    expect(Math.max(...rows.map((l) => l.length))).toBeLessThanOrEqual(120);
    // Aligned as a terminal shows it: a Chinese character takes two columns.
    const width = (t: string) => [...t].reduce((n, ch) => n + (/[\u4e00-\u9fff]/.test(ch) ? 2 : 1), 0);
    const levelAt = (l: string) => width(l.slice(0, l.search(/ (legal|firm|friendly|-) /) + 1));
    expect(new Set(rows.map(levelAt)).size).toBe(1);
  });

  it('--all lists every customer; --json gives every figure, amounts as decimals', async () => {
    const all = await sentinel(['collections', '--as-of', AS_OF, '--all', '--data-dir', dataDir], dir);
    expect(all.stdout).toContain('PAID');
    expect(all.stdout).toContain('nothing is overdue');
    const json = await sentinel(['collections', '--as-of', AS_OF, '--json', '--data-dir', dataDir], dir);
    const body = JSON.parse(json.stdout) as {
      customers: {
        customerId: string;
        totals: { demand: string };
        send?: { name: string };
        overdue: unknown[];
        score: number;
        scoreFactors: { factor: string; points: number; currency?: string; cap?: string; noRate?: boolean }[];
        scoreNotes: string[];
      }[];
    };
    expect(body.customers.map((c) => [c.customerId, c.score])).toEqual([
      ['OLD', 73.9],
      ['CN', 63.9],
      ['LATE', 62.2],
      ['DISP', 0],
      ['PAID', 0],
    ]);
    // The breakdown, its cap as a decimal in the score's currency; the missing rate said.
    expect(body.customers[0]?.scoreFactors.map((f) => [f.factor, f.points])).toEqual([
      ['amountOverdue', 34.8],
      ['daysPastDue', 13],
      ['rating', 13],
      ['brokenPromises', 0],
      ['expectedWait', 13],
    ]);
    expect(body.customers[0]?.scoreFactors[0]).toMatchObject({
      currency: 'USD',
      cap: '500000.00',
      noRate: true,
    });
    expect(body.customers[0]?.scoreNotes).toEqual([
      'no GBP/USD rate on file by 2026-03-31: the amount counts at the cap',
    ]);
    expect(body.customers[0]).toMatchObject({ totals: { demand: '1200.00' }, send: { name: 'final' } });
    expect(body.customers[0]?.overdue).toHaveLength(2);
    expect(body.customers[0]?.totals).toEqual({
      overdue: '1200.00',
      disputed: '0.00',
      notDue: '0.00',
      unappliedCash: '0.00',
      demand: '1200.00',
    });
  });

  it('backtest: the plan replayed day by day, messages per level', async () => {
    const r = await sentinel(
      ['collections', 'backtest', '--from', '2026-01-01', '--to', AS_OF, '--data-dir', dataDir],
      dir,
    );
    expect(r.code).toBe(0);
    const row = (level: string) =>
      r.stdout
        .split('\n')
        .find((l) => l.startsWith(`${level} `))
        ?.split(/\s{2,}/);
    // OLD: friendly on 01-03 (800.00), firm 01-15, final 01-30, hold 02-14, legal 03-01; LATE: friendly 03-25.
    expect(row('friendly')).toEqual(['friendly', '3', '3', '26,700.00 CNY, 1,200.00 EUR, 800.00 GBP', '0']);
    expect(row('legal')?.slice(0, 3)).toEqual(['legal', '1', '1']);
  });

  it('refuses what it cannot do, in one line', async () => {
    const r = await sentinel(['collections', 'nope', '--data-dir', dataDir], dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'sentinel: collections has no subcommand "nope"; see `sentinel help collections`',
    );
    const b = await sentinel(['collections', 'backtest', '--from', '2026-02-01', '--data-dir', dataDir], dir);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('collections backtest needs --from YYYY-MM-DD and --to YYYY-MM-DD');
  });
});
