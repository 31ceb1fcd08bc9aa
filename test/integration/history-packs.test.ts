import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strip } from '../../functions/adapters/dynamodb.ts';
import { allocationStamp, encodePack } from '../../functions/adapters/history-packs.ts';
import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import { whatIf } from '../../functions/credit/evaluate.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import type { CustomerPartition } from '../../functions/credit/ports.ts';
import type { Kind } from '../../functions/ingest/kinds.ts';
import type { StoredApplication } from '../../functions/ingest/ports.ts';
import { ProfileCatalog } from '../../functions/ingest/uploads.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { type Harness, harness } from './helpers.ts';
import { seeded } from './ingest-books.ts';
import { evaluateQuietly, ingestText, meter } from './read-meter.ts';

/**
 * Settled history, packed (issue 16, item 5; README "Settled history, packed"): a customer's old
 * settled invoices and payments moved into a few compressed items of its partition. Every test here
 * holds one claim: what a reader gets back is the very partition it got before, so every figure,
 * alert and statement is the same on any as-of date; and the daily read costs a fraction.
 */
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);
const IBM = resolve(
  import.meta.dirname,
  '../fixtures/datasets/ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv',
);

/** A partition as a reader sees it, without the note of which rows came from packs. */
const seen = ({ packed: _p, ...rest }: CustomerPartition) => rest;

async function partitions(env: LocalEnv, applications = false): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const id of (await env.store.listCustomerIds()).sort())
    out.set(id, seen(await env.store.loadCustomerPartition(id, { applications })));
  return out;
}

/** How many items of each kind the customer's partition stores (INV, PAY, PACK, ...). */
async function itemKinds(client: DynamoDBClient, table: string, id: string): Promise<Record<string, number>> {
  const kinds: Record<string, number> = {};
  let start: Record<string, never> | undefined;
  do {
    const out = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `CUST#${id}` } },
        ExclusiveStartKey: start,
      }),
    );
    for (const it of out.Items ?? []) {
      const k = (it.sk?.S ?? '').split('#')[0] as string;
      kinds[k] = (kinds[k] ?? 0) + 1;
    }
    start = out.LastEvaluatedKey as typeof start;
  } while (start);
  return kinds;
}

/** Every invoice and payment of the customer picked: packing takes exactly what it is given. */
function everything(part: CustomerPartition) {
  return {
    invoiceIds: new Set(part.books.invoices.map((i) => i.invoiceId)),
    paymentIds: new Set(part.books.payments.map((p) => p.paymentId)),
  };
}

describe('the IBM sample, packed whole', () => {
  let h: Harness;
  let before: Map<string, unknown>;
  let beforeWithAllocations: Map<string, unknown>;
  const dates: IsoDate[] = ['2012-06-30', '2013-06-30', '2013-12-31'];
  const whatIfs = new Map<IsoDate, unknown>();

  beforeAll(async () => {
    h = await harness();
    const profile = new ProfileCatalog().get('ibm-accounts-receivable');
    const { run } = await h.load('ibm.csv', await readFile(IBM), { profile, now: '2014-01-31T12:00:00Z' });
    expect(run.accepted).toEqual({ invoices: 2466, payments: 2466 });
    before = await partitions(h.env);
    beforeWithAllocations = await partitions(h.env, true);
    for (const asOf of dates) whatIfs.set(asOf, await whatIf({ store: h.env.store, policy }, { asOf }));
  }, 120_000);
  afterAll(async () => h?.close());

  it('reads back every partition as it was, packs and full rows side by side, then packs alone', async () => {
    const store = h.env.store;
    const ids = [...before.keys()];
    expect(ids).toHaveLength(100);
    const now = new Date('2014-02-01T00:00:00Z');
    let packed = 0;
    let allocations = 0;
    for (const id of ids) {
      const out = await store.packHistory(id, everything(await store.loadCustomerPartition(id)), {
        now,
        minRows: 1,
        settleMs: 3_600_000,
      });
      expect(out.raced).toBe(false);
      expect(out.deleted).toBe(0);
      packed += out.packed;
      allocations += out.allocations.packed;
    }
    expect(packed).toBe(2466 * 2);
    expect(allocations).toBe(2466);
    // Packed, and every full row still there beside its copy (deleted only an hour later).
    expect(await partitions(h.env)).toEqual(before);
    const one = await store.loadCustomerPartition(ids[0] as string);
    expect(one.packed?.copies).toBe(one.books.invoices.length + one.books.payments.length);

    // An hour later the next packing deletes the full rows; nothing new to pack.
    const later = new Date(now.getTime() + 3_600_001);
    let deleted = 0;
    for (const id of ids) {
      const out = await store.packHistory(id, everything(await store.loadCustomerPartition(id)), {
        now: later,
        minRows: 1,
        settleMs: 3_600_000,
      });
      expect(out.packed).toBe(0);
      deleted += out.deleted + out.allocations.deleted;
    }
    expect(deleted).toBe(2466 * 3);
    const kinds = await itemKinds(store.client, store.tableName, ids[0] as string);
    expect(kinds.INV).toBeUndefined();
    expect(kinds.PAY).toBeUndefined();
    expect(kinds.ALLOC).toBeUndefined();
    expect(kinds.PACK).toBe(1);
    expect(kinds.PACKS).toBe(1);
    expect(kinds.ALLOC$PACK).toBe(1);
    expect(kinds.ALLOC$PACKS).toBe(1);
    expect(await partitions(h.env)).toEqual(before);
    expect(await partitions(h.env, true)).toEqual(beforeWithAllocations);
  });

  it('gives the same what-if (every rating, limit and alert) on three dates, and the same statement', async () => {
    for (const asOf of dates)
      expect(await whatIf({ store: h.env.store, policy }, { asOf })).toEqual(whatIfs.get(asOf));
  });

  it('loses nothing when the same rows are uploaded again: the full rows win, and are packed again', async () => {
    const store = h.env.store;
    const id = [...before.keys()][3] as string;
    const part = await store.loadCustomerPartition(id);
    const inv = part.books.invoices[0];
    if (!inv) throw new Error('no invoice');
    // The ERP sends one old invoice again, corrected: 1.00 more.
    const amount = inv.amount + 100;
    const csv = `invoice_id,customer_id,issue_date,due_date,amount,currency\n${inv.invoiceId},${id},${inv.issueDate},${inv.dueDate},${(amount / 100).toFixed(2)},${inv.currency}\n`;
    const { run } = await h.load('again.csv', csv, { kind: 'invoices', now: '2014-02-02T10:00:00Z' });
    expect(run.accepted).toEqual({ invoices: 1 });
    const after = await store.loadCustomerPartition(id);
    expect(after.books.invoices.find((i) => i.invoiceId === inv.invoiceId)?.amount).toBe(amount);
    expect(after.books.invoices).toHaveLength(part.books.invoices.length);
    expect(after.packed?.invoiceIds.has(inv.invoiceId)).toBe(false);
    // Packed again: the later pack's copy wins over the first pack's, then the full row goes.
    const t = new Date('2014-02-03T00:00:00Z');
    expect((await store.packHistory(id, everything(after), { now: t, minRows: 1, settleMs: 0 })).packed).toBe(
      1,
    );
    const again = await store.loadCustomerPartition(id);
    expect(seen(again)).toEqual(seen(after));
    expect(again.packed?.copies).toBe(1);
    const t2 = new Date(t.getTime() + 1);
    expect(
      (await store.packHistory(id, everything(again), { now: t2, minRows: 1, settleMs: 0 })).deleted,
    ).toBe(1);
    const last = await store.loadCustomerPartition(id);
    expect(seen(last)).toEqual(seen(after));
    expect(last.packed?.invoiceIds.has(inv.invoiceId)).toBe(true);
    expect(last.packed?.copies).toBe(0);
    expect((await itemKinds(store.client, store.tableName, id)).PACK).toBe(2);
  });
});

describe('two packings at once, a crash between the steps', () => {
  let env: LocalEnv;
  const ID = 'race-1';

  beforeAll(async () => {
    env = await openLocal({ inMemory: true });
    const random = seeded(7);
    const invoices = ['invoice_id,customer_id,issue_date,due_date,amount,currency'];
    const payments = ['payment_id,customer_id,received_date,amount,currency,invoice_id'];
    for (let i = 0; i < 400; i++) {
      const issued = addDays('2023-01-02', i * 2);
      const amount = `${100 + Math.floor(random() * 900)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`;
      invoices.push(`I${i},${ID},${issued},${addDays(issued, 30)},${amount},EUR`);
      payments.push(`P${i},${ID},${addDays(issued, 25 + Math.floor(random() * 20))},${amount},EUR,I${i}`);
    }
    await load(env, 'invoices', invoices.join('\n'), '2025-06-30');
    await load(env, 'payments', payments.join('\n'), '2025-06-30');
  }, 60_000);
  afterAll(async () => env?.close());

  it('of two packings at once, one counts and the other takes its packs back; the partition is unchanged', async () => {
    const store = env.store;
    const was = seen(await store.loadCustomerPartition(ID));
    const wasBooks = await store.loadBooks(ID);
    const pick = everything(await store.loadCustomerPartition(ID));
    const now = new Date('2025-07-01T00:00:00Z');
    const outs = await Promise.all(
      [1, 2, 3].map(() => store.packHistory(ID, pick, { now, minRows: 1, settleMs: 3_600_000 })),
    );
    // Each either won, lost the race, or came after the winner and found every row packed.
    expect(outs.filter((o) => o.packed > 0)).toHaveLength(1);
    expect(outs.filter((o) => o.packed > 0)[0]?.packed).toBe(800);
    // The allocations likewise: of the three, one packing's pack counts.
    expect(outs.filter((o) => o.allocations.packed > 0).map((o) => o.allocations.packed)).toEqual([400]);
    expect(await store.loadBooks(ID)).toEqual(wasBooks);
    expect(seen(await store.loadCustomerPartition(ID))).toEqual(was);
    // The losers' packs are gone (taken back); one manifest, one pack.
    const kinds = await itemKinds(store.client, store.tableName, ID);
    expect([kinds.PACK, kinds.PACKS, kinds.ALLOC$PACK, kinds.ALLOC$PACKS]).toEqual([1, 1, 1, 1]);
  });

  it('a pack written by a packing that died before its manifest is never read, and the next packing deletes it; full rows go 250 a packing', async () => {
    const store = env.store;
    const was = seen(await store.loadCustomerPartition(ID));
    // A pack of version 1 (the manifest is at 1 already: listed ones are 1#<token>), with every
    // invoice's amount wrong: were it read, every figure would change.
    const wrong = was.books.invoices.map((i) => ({
      ...i,
      sk: `INV#${i.invoiceId}`,
      type: 'invoice',
      amount: 1,
      run: i.from?.runId,
      line: i.from?.line,
      from: undefined,
    }));
    await store.client.send(
      new PutItemCommand({
        TableName: store.tableName,
        Item: marshall(
          {
            pk: `CUST#${ID}`,
            sk: 'PACK#00000001#deadbeef#0000',
            type: 'pack',
            rows: wrong.length,
            data: encodePack(wrong),
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
    expect(seen(await store.loadCustomerPartition(ID))).toEqual(was);
    // The 800 full rows and 400 allocations go 250 a packing at most (a first packing of years of
    // history is thinned over a few daily runs, each batch inside its time limit), shared in
    // proportion so both are gone by the same packing.
    const wasBooks = await store.loadBooks(ID);
    const deletes: [number, number][] = [];
    for (let k = 0; k < 5; k++) {
      const out = await store.packHistory(ID, everything(await store.loadCustomerPartition(ID)), {
        now: new Date('2025-07-02T00:00:00Z'),
        minRows: 1,
        settleMs: 3_600_000,
      });
      expect(out.packed).toBe(0);
      deletes.push([out.deleted, out.allocations.deleted]);
      expect(seen(await store.loadCustomerPartition(ID))).toEqual(was);
    }
    expect(deletes).toEqual([
      [167, 83],
      [167, 83],
      [166, 84],
      [167, 83],
      [133, 67],
    ]);
    expect(await store.loadBooks(ID)).toEqual(wasBooks);
    const kinds = await itemKinds(store.client, store.tableName, ID);
    expect([kinds.INV, kinds.PAY, kinds.ALLOC]).toEqual([undefined, undefined, undefined]);
    const got = await store.client.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': { S: `CUST#${ID}` }, ':p': { S: 'PACK#' } },
      }),
    );
    expect((got.Items ?? []).map((i) => unmarshall(i).sk)).not.toContain('PACK#00000001#deadbeef#0000');
    expect(seen(await store.loadCustomerPartition(ID))).toEqual(was);
  });
});

const load = (env: LocalEnv, kind: Kind, csv: string, day: IsoDate) =>
  ingestText(env, `${kind}/${day}.csv`, csv, new Date(`${day}T04:00:00Z`));

describe('a row that does not name its upload', () => {
  it('is never packed (its full item could not be deleted safely once packed): it stays as it is', async () => {
    const env = await openLocal({ inMemory: true });
    try {
      const store = env.store;
      await store.client.send(
        new PutItemCommand({
          TableName: store.tableName,
          Item: marshall({
            pk: 'CUST#SEED-1',
            sk: 'INV#S1',
            type: 'invoice',
            customerId: 'SEED-1',
            invoiceId: 'S1',
            issueDate: '2023-01-02',
            dueDate: '2023-02-01',
            amount: 12_345,
            currency: 'EUR',
            disputed: false,
          }),
        }),
      );
      const was = await store.loadCustomerPartition('SEED-1');
      const out = await store.packHistory('SEED-1', everything(was), {
        now: new Date(),
        minRows: 1,
        settleMs: 0,
      });
      expect(out).toEqual({ packed: 0, deleted: 0, raced: false, allocations: { packed: 0, deleted: 0 } });
      expect(await itemKinds(store.client, store.tableName, 'SEED-1')).toEqual({ INV: 1 });
      expect(await store.loadCustomerPartition('SEED-1')).toEqual(was);
    } finally {
      await env.close();
    }
  });
});

describe('allocations, packed with their payments', () => {
  /** A customer of `n` invoices of 2023-2024, each paid by one payment. */
  async function book(env: LocalEnv, id: string, n: number): Promise<void> {
    const random = seeded(11);
    const invoices = ['invoice_id,customer_id,issue_date,due_date,amount,currency'];
    const payments = ['payment_id,customer_id,received_date,amount,currency,invoice_id'];
    for (let i = 0; i < n; i++) {
      const issued = addDays('2023-01-02', i * 7);
      const amount = `${100 + Math.floor(random() * 900)}.00`;
      invoices.push(`I${i},${id},${issued},${addDays(issued, 30)},${amount},EUR`);
      payments.push(`P${i},${id},${addDays(issued, 20 + Math.floor(random() * 30))},${amount},EUR,I${i}`);
    }
    await load(env, 'invoices', invoices.join('\n'), '2025-06-30');
    await load(env, 'payments', payments.join('\n'), '2025-06-30');
  }
  const HOUR = 3_600_000;

  it('go into their own packs, their full items an hour later; one derived again meanwhile stays in full, wins, and is packed again', async () => {
    const env = await openLocal({ inMemory: true });
    try {
      const store = env.store;
      const ID = 'alloc-1';
      await book(env, ID, 60);
      const was = await store.loadBooks(ID);
      expect(was.applications.size).toBe(60);
      const pick = everything(await store.loadCustomerPartition(ID));
      const t = new Date('2025-07-01T00:00:00Z');
      const opts = (at: number) => ({ now: new Date(t.getTime() + at), minRows: 1, settleMs: HOUR });
      expect(await store.packHistory(ID, pick, opts(0))).toEqual({
        packed: 120,
        deleted: 0,
        raced: false,
        allocations: { packed: 60, deleted: 0 },
      });
      expect(await store.loadBooks(ID)).toEqual(was);

      // A correction the ingest derives for one packed payment: written in full, it wins.
      const p7 = was.applications.get('P7') as StoredApplication;
      const changed: StoredApplication = { ...p7, unapplied: p7.unapplied + 100 };
      await store.saveDerived([{ customerId: ID, applications: [changed] }]);
      const expected = { ...was, applications: new Map([...was.applications, ['P7', changed]]) };
      expect(await store.loadBooks(ID)).toEqual(expected);

      // An hour later: the full items go but that one, which is packed anew.
      expect(await store.packHistory(ID, pick, opts(HOUR + 1))).toEqual({
        packed: 0,
        deleted: 120,
        raced: false,
        allocations: { packed: 1, deleted: 59 },
      });
      expect(await itemKinds(store.client, store.tableName, ID)).toMatchObject({
        ALLOC: 1,
        ALLOC$PACK: 2,
        ALLOC$PACKS: 1,
      });
      expect(await store.loadBooks(ID)).toEqual(expected);
      // The evaluation's read (no allocations) skips them and their packs.
      expect(seen(await store.loadCustomerPartition(ID)).books.applications.size).toBe(0);

      // And an hour after that its full item goes too.
      const third = await store.packHistory(ID, pick, opts(2 * HOUR + 2));
      expect(third.allocations).toEqual({ packed: 0, deleted: 1 });
      const kinds = await itemKinds(store.client, store.tableName, ID);
      expect(kinds.ALLOC).toBeUndefined();
      expect(await store.loadBooks(ID)).toEqual(expected);
    } finally {
      await env.close();
    }
  });

  it('one stored without its stamp (an earlier release) is never packed, and the next upload stores it again, stamped', async () => {
    const env = await openLocal({ inMemory: true });
    try {
      const store = env.store;
      const ID = 'alloc-2';
      await book(env, ID, 5);
      const key = { pk: { S: `CUST#${ID}` }, sk: { S: 'ALLOC#P1' } };
      const stored = await store.client.send(new GetItemCommand({ TableName: store.tableName, Key: key }));
      const { h, ...unstamped } = unmarshall(stored.Item ?? {});
      expect(h).toBe(allocationStamp(strip(unstamped, ['pk', 'sk', 'type'])));
      await store.client.send(new PutItemCommand({ TableName: store.tableName, Item: marshall(unstamped) }));

      expect([...(await store.loadBooks(ID)).applications.keys()].sort()).toEqual(['P0', 'P2', 'P3', 'P4']);
      const out = await store.packHistory(ID, everything(await store.loadCustomerPartition(ID)), {
        now: new Date('2025-07-01T00:00:00Z'),
        minRows: 1,
        settleMs: 0,
      });
      expect(out.allocations).toEqual({ packed: 4, deleted: 0 });

      // The next upload of the customer (a payment) recomputes it: P1 is stored again, stamped.
      await load(
        env,
        'payments',
        'payment_id,customer_id,received_date,amount,currency,invoice_id\nP9,alloc-2,2025-07-02,1.00,EUR,',
        '2025-07-02',
      );
      const again = await store.client.send(new GetItemCommand({ TableName: store.tableName, Key: key }));
      expect(unmarshall(again.Item ?? {}).h).toBe(h);
      expect([...(await store.loadBooks(ID)).applications.keys()].sort()).toEqual([
        'P0',
        'P1',
        'P2',
        'P3',
        'P4',
        'P9',
      ]);
    } finally {
      await env.close();
    }
  });
});

describe('three years of a generated book, evaluated daily with and without packing', () => {
  const TODAY: IsoDate = '2026-11-30';
  const START = addDays(TODAY, -3 * 365);
  let packing: LocalEnv;
  let full: LocalEnv;
  const ids: string[] = [];

  /** Every working day, twice a week, weekly; paid around the due date, some late, some in part, some unnamed. */
  function book(): Record<Kind, string> {
    const random = seeded(31);
    const customers = ['customer_id,name,country,industry,currency,payment_terms_days,credit_limit'];
    const invoices = ['invoice_id,customer_id,issue_date,due_date,amount,currency,disputed'];
    const payments = ['payment_id,customer_id,received_date,amount,currency,invoice_id'];
    for (const [cadence, n] of [
      ['daily', 260 * 3],
      ['twice', 104 * 3],
      ['weekly', 52 * 3],
    ] as const)
      for (let c = 0; c < 3; c++) {
        const id = `${cadence}-${c}`;
        ids.push(id);
        customers.push(`${id},Customer ${id},DE,wholesale,EUR,30,${(80_000 + c * 20_000).toFixed(2)}`);
        for (let i = 0; i < n; i++) {
          const issued = addDays(START, Math.floor((i * 3 * 365) / n));
          const due = addDays(issued, 30);
          const cents = 10_000 + Math.floor(random() * 490_000);
          const money = (v: number) => (v / 100).toFixed(2);
          invoices.push(`${id}-I${i},${id},${issued},${due},${money(cents)},EUR,${random() < 0.02}`);
          // Later payers in the last year (the rules have something to find); one in ten paid in
          // two parts, one in twenty without naming the invoice (applied oldest first).
          const late = issued > addDays(TODAY, -365) && c === 2 ? 40 : 0;
          const paid = addDays(due, Math.floor(random() * 30) - 10 + late);
          if (paid >= TODAY) continue;
          const named = random() < 0.05 ? '' : `${id}-I${i}`;
          if (random() < 0.1) {
            const part = Math.floor(cents / 3);
            payments.push(`${id}-P${i}a,${id},${paid},${money(part)},EUR,${named}`);
            const rest = addDays(paid, 12);
            if (rest < TODAY) payments.push(`${id}-P${i}b,${id},${rest},${money(cents - part)},EUR,${named}`);
          } else payments.push(`${id}-P${i},${id},${paid},${money(cents)},EUR,${named}`);
        }
      }
    return {
      customers: customers.join('\n'),
      invoices: invoices.join('\n'),
      payments: payments.join('\n'),
    } as Record<Kind, string>;
  }

  /** The two tables' partitions, their ingest runs' ids (random) set aside: the same uploads, the same order. */
  const book$ = async (env: LocalEnv) =>
    JSON.parse(
      JSON.stringify(Object.fromEntries(await partitions(env))).replace(/"runId":"[^"]*"/g, '"runId":"-"'),
    );
  const run = (env: LocalEnv, asOf: IsoDate, packHistory: boolean) =>
    evaluateQuietly(env, policy, asOf, packHistory ? {} : { packHistory: false });

  beforeAll(async () => {
    packing = await openLocal({ inMemory: true });
    full = await openLocal({ inMemory: true });
    const files = book();
    for (const env of [packing, full])
      for (const kind of ['customers', 'invoices', 'payments'] as Kind[])
        await load(env, kind, files[kind], addDays(TODAY, -40));
  }, 180_000);
  afterAll(async () => {
    await packing?.close();
    await full?.close();
  });

  it('stores the same assessments and alerts every day, and gives the same what-if on past dates', async () => {
    // Forty days of daily runs: the first packs, the next deletes the full rows, later ones pack
    // what settled since.
    let packedOnce = false;
    const totals = { packed: 0, deleted: 0 };
    for (let d = 39; d >= 0; d -= 3) {
      const asOf = addDays(TODAY, -d);
      const [{ history, ...a }, { history: none, ...b }] = [
        await run(packing, asOf, true),
        await run(full, asOf, false),
      ];
      expect(a).toEqual(b);
      expect(none).toEqual({ packed: 0, deleted: 0 });
      totals.packed += history.packed;
      totals.deleted += history.deleted;
      expect(await book$(packing)).toEqual(await book$(full));
      const daily = await packing.store.loadCustomerPartition('daily-0');
      packedOnce ||= (daily.packed?.invoiceIds.size ?? 0) > 0;
    }
    expect(packedOnce).toBe(true);
    const kinds = await itemKinds(packing.store.client, packing.store.tableName, 'daily-0');
    const all = await itemKinds(full.store.client, full.store.tableName, 'daily-0');
    console.log(`daily-0 items packed: ${JSON.stringify(kinds)}; kept in full: ${JSON.stringify(all)}`);
    expect(kinds.PACK).toBeGreaterThan(0);
    expect(kinds.INV ?? 0).toBeLessThan((all.INV ?? 0) / 2);
    // The runs' counts are what the tables hold: every item packed is in a manifest, and the items
    // the packing table stores in full fewer than the other are those the runs said they deleted.
    let inPacks = 0;
    let fewer = 0;
    for (const id of ids) {
      for (const sk of ['PACKS', 'ALLOC$PACKS']) {
        const got = await packing.store.client.send(
          new GetItemCommand({
            TableName: packing.store.tableName,
            Key: { pk: { S: `CUST#${id}` }, sk: { S: sk } },
          }),
        );
        for (const p of (got.Item ? unmarshall(got.Item).packs : []) as { rows: number }[]) inPacks += p.rows;
      }
      const [k, f] = [
        await itemKinds(packing.store.client, packing.store.tableName, id),
        await itemKinds(full.store.client, full.store.tableName, id),
      ];
      for (const kind of ['INV', 'PAY', 'ALLOC']) fewer += (f[kind] ?? 0) - (k[kind] ?? 0);
    }
    console.log(`packed over the forty days: ${JSON.stringify(totals)}`);
    expect(totals.packed).toBe(inPacks);
    expect(totals.deleted).toBe(fewer);
    expect(totals.deleted).toBeGreaterThan(0);
    for (const asOf of [addDays(START, 200), addDays(START, 500), addDays(TODAY, -400), addDays(TODAY, -100)])
      expect(await whatIf({ store: packing.store, policy }, { asOf })).toEqual(
        await whatIf({ store: full.store, policy }, { asOf }),
      );
  }, 300_000);

  it('reads a customer of three years, every working day, for a fraction of the read units', async () => {
    const meters = new Map([packing, full].map((env) => [env, meter(env.store.client)]));
    const units = async (env: LocalEnv, id: string) => {
      const m = meters.get(env) as ReturnType<typeof meter>;
      m.units = 0;
      m.on = true;
      await env.store.loadCustomerPartition(id);
      m.on = false;
      return m.units;
    };
    const rows: string[] = [];
    for (const id of ['daily-0', 'twice-0', 'weekly-0']) {
      const [p, f] = [await units(packing, id), await units(full, id)];
      rows.push(`${id} ${p} (kept in full: ${f})`);
      expect(p).toBeLessThan(f);
    }
    console.log(`read units of a partition with three years of history, packed: ${rows.join('; ')}`);
    expect(await units(packing, 'daily-0')).toBeLessThanOrEqual(25);
  });
});
