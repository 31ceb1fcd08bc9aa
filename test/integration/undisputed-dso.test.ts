import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { openDispute, resolveDispute } from '../../functions/collections/app.ts';
import { type CustomerFile, ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { customerPage } from '../../infra/local/console/customers.ts';
import { openLocal } from '../../infra/local/runtime/index.ts';
import { sentinel } from './cli-run.ts';
import { collectionsDataDir, COLLECTIONS_AS_OF as DAY } from './collections-book.ts';

/**
 * Undisputed DSO through the store (issue 17 item 5; README "What the figures mean"), on the
 * collections book as of 2026-03-31. OLD owes O1 (800.00 GBP, issued 2025-12-01) and O2 (400.00,
 * issued 2026-02-01). DSO over 90 days counts the sales issued after 2025-12-31: O2's 400.00 alone.
 *
 *   DSO            = 1,200.00 open / 400.00 sales x 90 = 270.0
 *   O1 disputed    = (1,200.00 - 800.00) / 400.00 x 90 = 90.0 (the sales stay 400.00)
 *
 * The dispute is opened on 2026-03-31 and resolved on 2026-04-10: the day before, and from the
 * day it is resolved, undisputed DSO is DSO.
 */
let dir: string;
let dataDir: string;
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

beforeAll(async () => {
  ({ dir, dataDir } = await collectionsDataDir('sentinel-undisputed-dso-'));
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => sentinel([...args, '--data-dir', dataDir], dir);
const page = (file: CustomerFile | undefined) => {
  if (!file) throw new Error('no customer OLD on file');
  return text(customerPage(file, 'OLD', DAY).toString());
};

describe('undisputed DSO', () => {
  it('leaves a disputed invoice out of the open receivables while its dispute is open, on the page', async () => {
    const env = await openLocal({ dataDir });
    try {
      const q = new ReceivablesQueries(env.store);
      const before = await q.customer('OLD', DAY);
      expect([before?.line.dso, before?.undisputedDso]).toEqual([270, 270]);
      expect(page(before)).not.toContain('Undisputed DSO');

      const audit = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
      await openDispute(
        { store: env.store, audit },
        {
          customerId: 'OLD',
          invoiceId: 'O1',
          reason: 'goods returned on 2026-01-05',
          owner: 'sales-tom',
          answerBy: '2026-04-15',
          openedBy: 'anna',
        },
        { today: DAY, now: `${DAY}T09:00:00.000Z` },
      );
      const open = await q.customer('OLD', DAY);
      expect(open?.line.dso).toBe(270);
      expect(open?.undisputedDso).toBe(90);
      // The record marks the invoice disputed, as the ERP's flag would: the summary says so too.
      expect(open?.statement.summary.disputedAmount).toBe(80_000);
      expect(open?.statement.invoices.find((i) => i.invoiceId === 'O1')?.disputed).toBe(true);
      expect(page(open)).toContain('DSO (90 days) 270 Undisputed DSO 90 (the 800.00 GBP disputed left out)');
      expect(page(open)).toContain('Disputed 800.00 GBP');
      // The day before it was opened nothing was disputed.
      expect((await q.customer('OLD', '2026-03-30'))?.undisputedDso).toBe(270);

      await resolveDispute(
        { store: env.store, audit },
        { customerId: 'OLD', invoiceId: 'O1', outcome: 'customer-pays', resolvedBy: 'tom' },
        { today: '2026-04-10', now: '2026-04-10T09:00:00.000Z' },
      );
      const resolved = await q.customer('OLD', '2026-04-10');
      expect(resolved?.undisputedDso).toBe(resolved?.line.dso);
      expect((await q.customer('OLD', DAY))?.undisputedDso).toBe(90);
    } finally {
      await env.close();
    }
  }, 60_000);

  it('sentinel customer ID says it beside DSO, and --json always carries both', async () => {
    const json = await cli('customer', 'OLD', '--as-of', DAY, '--json');
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({
      customerId: 'OLD',
      currency: 'GBP',
      openAmount: '1200.00',
      disputedAmount: '800.00',
      dso: 270,
      undisputedDso: 90,
    });
    expect(
      JSON.parse(json.stdout).openItems.map((i: { invoiceId: string; disputed: boolean }) => [
        i.invoiceId,
        i.disputed,
      ]),
    ).toEqual([
      ['O1', true],
      ['O2', false],
    ]);
    const plain = await cli('customer', 'OLD', '--as-of', DAY);
    expect(plain.stdout).toContain('DSO (90 days) 270.0, undisputed 90.0 (the 800.00 GBP disputed left out)');
    // Nothing under dispute: DSO alone in the text, both (equal) in the JSON.
    const late = await cli('customer', 'LATE', '--as-of', DAY, '--json');
    expect(JSON.parse(late.stdout)).toMatchObject({ disputedAmount: '0.00', dso: 90, undisputedDso: 90 });
    expect((await cli('customer', 'LATE', '--as-of', DAY)).stdout).toMatch(/^DSO \(90 days\) 90\.0$/m);
  }, 60_000);
});
