import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Converter } from '../../functions/ingest/fx.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import { ingest, recomputeCustomer } from '../../functions/ingest/pipeline.ts';
import type { IngestRun, IngestStore } from '../../functions/ingest/ports.ts';
import { canonicalProfile } from '../../functions/ingest/profile.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';

/**
 * Customers new to the table get their first summary from the rows the run holds, not from a read
 * back of what it just wrote. These tests hold that to the read-back answer, and show when the run
 * must not trust it (another run open or dead, too many rows to hold) and reads back instead.
 */
let env: LocalEnv;
beforeAll(async () => {
  env = await openLocal({ inMemory: true });
});
afterAll(async () => {
  await env.close();
});

const NOW = '2025-06-30T10:00:00Z';
const AS_OF = '2025-06-30';

/** The table's store, noting which customers' books were read back; `failWrites` makes writes die. */
function watched(opts: { failWritesAfter?: number; failDerived?: boolean } = {}) {
  const readBack: string[] = [];
  let writes = 0;
  const base = env.store;
  const store: IngestStore = {
    getCustomers: (ids) => base.getCustomers(ids),
    customersWithBooks: (ids) => base.customersWithBooks(ids),
    openRun: (m) => base.openRun(m),
    openRuns: () => base.openRuns(),
    beatRun: (m) => base.beatRun(m),
    ingestEpoch: () => base.ingestEpoch(),
    closeRun: (m, d) => base.closeRun(m, d),
    getFxRates: (b, q) => base.getFxRates(b, q),
    write: async (records) => {
      if (opts.failWritesAfter !== undefined && ++writes > opts.failWritesAfter)
        throw new Error('DynamoDB is unreachable (injected)');
      return base.write(records);
    },
    provenanceOf: (r) => base.provenanceOf(r),
    loadBooks: (id) => {
      readBack.push(id);
      return base.loadBooks(id);
    },
    saveDerived: async (c) => {
      if (opts.failDerived) throw new Error('DynamoDB is unreachable (injected)');
      return base.saveDerived(c);
    },
    putRun: (r, rej) => base.putRun(r, rej),
  };
  return { store, readBack };
}

async function load(
  store: IngestStore,
  name: string,
  kind: Kind,
  text: string,
  opts: { freshRowsMax?: number; objectRef?: string; now?: string } = {},
): Promise<IngestRun> {
  return ingest(
    {
      store,
      notifier: { customersChanged: async () => {} },
      clock: { now: () => new Date(opts.now ?? NOW) },
      timeZone: 'UTC',
      freshRowsMax: opts.freshRowsMax,
    },
    {
      source: Readable.from([Buffer.from(text)]),
      fileName: name,
      objectRef: opts.objectRef ?? `test://${name}`,
      profile: canonicalProfile(kind),
      rejects: { write: () => {}, close: async () => 'memory://' },
    },
  );
}

/** Recomputes each customer from what the table holds: nothing may differ from what the run stored. */
async function expectSameAsReadBack(ids: string[]): Promise<void> {
  const converter = new Converter(env.store, 7);
  for (const id of ids) {
    const { derived } = await recomputeCustomer(env.store, id, AS_OF, converter);
    expect(derived.summary, `summary of ${id}`).toBeUndefined();
    expect(derived.applications, `applications of ${id}`).toEqual([]);
  }
  // And the summaries are real figures, not empty ones.
  const books = await env.store.loadBooks(ids[0] as string);
  expect(books.summary?.openInvoices ?? 0).toBeGreaterThan(0);
}

const INVOICES = 'invoice_id,customer_id,issue_date,due_date,amount,currency\n';
const PAYMENTS = 'payment_id,customer_id,received_date,amount,currency,invoice_id\n';

describe('first summaries of customers new to the table', () => {
  it('are computed from the rows the run holds, and equal the read-back ones', async () => {
    const { store, readBack } = watched();
    const run = await load(
      store,
      'invoices/new.csv',
      'invoices',
      `${INVOICES}N1-1,NEW-1,2025-04-01,2025-05-01,100.00,EUR\nN1-2,NEW-1,2025-05-01,2025-05-31,250.50,EUR\n` +
        'N2-1,NEW-2,2025-06-01,2025-07-01,75.00,USD\n',
    );
    expect(run.acceptedTotal).toBe(3);
    expect(readBack).toEqual([]);
    await expectSameAsReadBack(['NEW-1', 'NEW-2']);
    expect(await env.store.openRuns()).toEqual([]);
  });

  it('payments: an existing customer is read back, a new one is not, and both match the read-back', async () => {
    const { store, readBack } = watched();
    await load(
      store,
      'payments/p.csv',
      'payments',
      `${PAYMENTS}P1,NEW-1,2025-05-10,150.00,EUR,\nP2,NEW-3,2025-06-02,10.00,EUR,X-1\n`,
    );
    expect(readBack).toEqual(['NEW-1']);
    // NEW-3's first summary holds its payment as unapplied cash, as a read-back would.
    await expectSameAsReadBack(['NEW-1', 'NEW-3']);
    const fresh = await load(
      store,
      'invoices/n3.csv',
      'invoices',
      `${INVOICES}X-1,NEW-3,2025-06-01,2025-06-30,40.00,EUR\nX-2,NEW-4,2025-06-01,2025-06-30,5.00,EUR\n`,
    );
    expect(fresh.acceptedTotal).toBe(2);
    // NEW-3 has a summary (from its payment), so it is read back; NEW-4 is new.
    expect(readBack).toEqual(['NEW-1', 'NEW-3']);
    await expectSameAsReadBack(['NEW-1', 'NEW-3', 'NEW-4']);
  });

  it('past the in-memory limit the customers are read back, with the same result', async () => {
    const { store, readBack } = watched();
    const rows = Array.from(
      { length: 6 },
      (_, i) => `B-${i},BIG-${i % 2},2025-06-0${i + 1},2025-07-01,1.00,EUR`,
    );
    await load(store, 'invoices/big.csv', 'invoices', `${INVOICES}${rows.join('\n')}\n`, { freshRowsMax: 3 });
    expect(readBack.sort()).toEqual(['BIG-0', 'BIG-1']);
    await expectSameAsReadBack(['BIG-0', 'BIG-1']);
  });
});

describe('run marks', () => {
  it('while another run writes rows every customer is read back, after it is done; a dead one is named and cleared', async () => {
    const other = {
      runId: 'other-run',
      objectRef: 'test://other.csv',
      file: 'invoices/other.csv',
      startedAt: NOW,
      beatAt: NOW,
    };
    await env.store.openRun(other);
    const { store, readBack } = watched();
    let recomputing = false;
    // The other run finishes its rows a little after this one reached its recompute.
    const closing = (async () => {
      while ((await env.store.openRuns()).every((m) => m.phase !== 'recompute'))
        await new Promise((r) => setTimeout(r, 20));
      recomputing = readBack.length > 0;
      await env.store.closeRun(other);
    })();
    const run = await load(
      store,
      'invoices/c1.csv',
      'invoices',
      `${INVOICES}C-1,OPEN-1,2025-06-01,2025-07-01,9.00,EUR\n`,
    );
    await closing;
    expect(recomputing).toBe(false); // it waited for the writer before reading anything back
    expect(readBack).toEqual(['OPEN-1']);
    expect(run.warnings.join('\n')).not.toContain('never finished');
    await expectSameAsReadBack(['OPEN-1']);

    // A mark silent for over 90 s is a dead run: the next run says so, and clears it.
    await env.store.openRun({ ...other, runId: 'dead-run' });
    const later = await load(
      store,
      'invoices/c2.csv',
      'invoices',
      `${INVOICES}C-2,OPEN-2,2025-06-01,2025-07-01,9.00,EUR\n`,
      { now: '2025-06-30T10:01:31Z' },
    );
    expect(later.warnings).toContain(
      `an earlier ingest of invoices/other.csv (run dead-run, started ${NOW}) never finished: its rows may be partly stored; upload that file again`,
    );
    expect(readBack).toEqual(['OPEN-1']); // the dead run wrote nothing for OPEN-2: held, not read back
    await expectSameAsReadBack(['OPEN-2']);
    expect(await env.store.openRuns()).toEqual([]);
  });

  it('a run that fails takes its mark away; its rows count as books, so the runs after it read them back', async () => {
    const dying = watched({ failDerived: true });
    const rows = Array.from({ length: 30 }, (_, i) => `D-${i},DEAD-1,2025-06-01,2025-07-01,1.00,EUR`);
    await expect(
      load(dying.store, 'invoices/dies.csv', 'invoices', `${INVOICES}${rows.join('\n')}\n`),
    ).rejects.toThrow('unreachable');
    expect(await env.store.openRuns()).toEqual([]);
    expect((await env.store.customersWithBooks(['DEAD-1', 'DEAD-2'])).has('DEAD-1')).toBe(true);

    const { store, readBack } = watched();
    await load(
      store,
      'invoices/after.csv',
      'invoices',
      `${INVOICES}X-1,DEAD-1,2025-06-01,2025-07-01,9.00,EUR\nX-2,DEAD-2,2025-06-01,2025-07-01,9.00,EUR\n`,
    );
    // DEAD-1 holds the failed run's rows: read back (its summary counts them); DEAD-2 is new.
    expect(readBack).toEqual(['DEAD-1']);
    await expectSameAsReadBack(['DEAD-1', 'DEAD-2']);
    expect((await env.store.loadBooks('DEAD-1')).summary?.openInvoices).toBeGreaterThan(1);
  });
});
