import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../functions/core/dates.ts';
import { CANONICAL_NUMBER_STYLE, parseMinorUnits } from '../../functions/core/money.ts';
import type { StoredRecord } from '../../functions/ingest/ports.ts';
import type { Transfer } from '../../functions/transfers/ports.ts';
import type { TRANSFER_TYPES } from '../../functions/transfers/request.ts';

/** The types a person requests (a review's limit changes are covered by the review tests). */
type TransferType = (typeof TRANSFER_TYPES)[number];

import type { RunningConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, listMail } from '../../infra/local/runtime/transfers.ts';
import { text } from './pages.ts';
import { approvalPolicyWith, startTransfersConsole, until } from './transfers-console.ts';

/**
 * The words on a transfer's page (`/transfers/ID`) and the customer's exposure figure
 * (`GET /api/customers/ID`, the customer page's "Exposure" and "Approved transfers counted") agree,
 * for every type of transfer in every state, on the real console, dynalite and the local
 * workflow. Each row has its own customer, so the exposure before the request is the row's own
 * baseline, and what the row expects is written here by hand from DOMAIN's rule (exposure = open
 * receivables - unapplied cash + approved but unpaid transfers; a refund or overpayment return
 * keeps counting once paid, as it hands back cash the receivables still hold).
 */

const TODAY = new Date().toISOString().slice(0, 10);
const AMOUNT = '500.00';

type State = 'pending' | 'approved' | 'approved and paid' | 'rejected';

/** Whether the exposure counts the transfer, and the words its page says it with. */
interface Expected {
  readonly counts: boolean;
  readonly says: string;
}

const NEVER_MOVES: Expected = {
  counts: false,
  says: 'A bank account change moves no money: it never counts in the exposure.',
};
const PENDING: Expected = {
  counts: false,
  says: 'Pending: it does not count in the exposure until the last level approves it.',
};
const REJECTED: Expected = { counts: false, says: 'Rejected: it never counted in the exposure.' };
const RETURN_APPROVED: Expected = {
  counts: true,
  says: "counts in X's exposure from that day, and keeps counting once paid",
};
const RETURN_PAID: Expected = { counts: true, says: "it keeps counting in X's exposure" };
const COST_APPROVED: Expected = { counts: true, says: "it counts in X's exposure until it is paid." };
const COST_PAID: Expected = { counts: false, says: "it no longer counts in X's exposure" };

/** The table, by hand: type by state. */
const TABLE: Record<TransferType, Record<State, Expected>> = {
  refund: {
    pending: PENDING,
    approved: RETURN_APPROVED,
    'approved and paid': RETURN_PAID,
    rejected: REJECTED,
  },
  overpayment_return: {
    pending: PENDING,
    approved: RETURN_APPROVED,
    'approved and paid': RETURN_PAID,
    rejected: REJECTED,
  },
  rebate: { pending: PENDING, approved: COST_APPROVED, 'approved and paid': COST_PAID, rejected: REJECTED },
  credit_release: {
    pending: PENDING,
    approved: COST_APPROVED,
    'approved and paid': COST_PAID,
    rejected: REJECTED,
  },
  bank_account_change: {
    pending: NEVER_MOVES,
    approved: NEVER_MOVES,
    'approved and paid': NEVER_MOVES,
    rejected: NEVER_MOVES,
  },
};

interface Row {
  readonly customerId: string;
  readonly type: TransferType;
  readonly state: State;
  readonly expected: Expected;
  /** The book: the usual one, or a credit balance larger than the open items (the figure stays 0.00). */
  readonly book?: 'creditBalance';
  readonly currency?: string;
}

const ROWS: Row[] = [
  ...Object.entries(TABLE).flatMap(([type, states]) =>
    Object.entries(states).map(([state, expected], i) => ({
      customerId: `X-${type.slice(0, 4).toUpperCase()}-${i}`,
      type: type as TransferType,
      state: state as State,
      expected,
    })),
  ),
  // An approved refund in another currency than the customer's: not counted, and said so.
  {
    customerId: 'X-USD',
    type: 'refund',
    state: 'approved',
    currency: 'USD',
    expected: {
      counts: false,
      says: "but in USD while X-USD's credit currency is EUR: the exposure does not count it",
    },
  },
  // A refund of a credit balance: counted, yet the figure is 0.00 with it and without it.
  {
    customerId: 'X-BAL',
    type: 'refund',
    state: 'approved and paid',
    book: 'creditBalance',
    expected: RETURN_PAID,
  },
];

/**
 * The row's customer: EUR, a limit of 100,000.00. The usual book: I0 of 2,000.00 paid with
 * 3,000.00 naming it (1,000.00 unapplied cash) and I1 of 10,000.00 open, not yet due: exposure
 * 9,000.00. The credit balance: I0 alone, exposure max(0, 0 - 1,000.00) = 0.00.
 */
function book(row: Row): StoredRecord[] {
  const from = { runId: 'seed', line: 2 };
  const c = row.customerId;
  const invoice = (invoiceId: string, issued: number, amount: number): StoredRecord => ({
    kind: 'invoices',
    row: {
      customerId: c,
      invoiceId,
      issueDate: addDays(TODAY, issued),
      dueDate: addDays(TODAY, issued + 30),
      amount,
      currency: 'EUR',
      disputed: false,
    },
    from,
  });
  return [
    {
      kind: 'customers',
      row: { customerId: c, name: `Customer ${c}`, currency: 'EUR', creditLimit: 100_000_00 },
      from,
    },
    invoice('I0', -60, 2000_00),
    {
      kind: 'payments',
      row: {
        customerId: c,
        paymentId: 'P0',
        receivedDate: addDays(TODAY, -35),
        amount: 3000_00,
        currency: 'EUR',
        invoiceIds: ['I0'],
      },
      from,
    },
    ...(row.book === 'creditBalance' ? [] : [invoice('I1', -10, 10_000_00)]),
  ];
}

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let web: RunningConsole;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-exposure-'));
  env = await openLocal({ dataDir: dir, inMemory: true });
  await env.store.write(ROWS.flatMap(book));
  // One level for everything: the chain is not what this test is about.
  const policy = approvalPolicyWith((d) => {
    d.raise = { riskClass: { low: 0, medium: 0, high: 0 }, flags: {} };
    d.bankAccountChangeLevels = 1;
  });
  ({ transfers, web } = await startTransfersConsole(env, dir, { approvalPolicy: policy }));
});

afterAll(async () => {
  for (const t of await transfers.app.list()) {
    if (t.status === 'pending') await transfers.app.recall(t.transferId, t.request.requester);
    if (t.executionId) await transfers.workflow.execution(t.executionId)?.done;
  }
  await transfers?.idle();
  await web?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The exposure figure and the transfers in it, as the customer's API gives them. */
async function exposureOf(customerId: string): Promise<{ exposure: number; counted: string[] }> {
  const res = await fetch(`${web.url}/api/customers/${customerId}?asOf=${TODAY}`);
  expect(res.status).toBe(200);
  const a = ((await res.json()) as { assessment: { exposure: string; transfersCounted: string[] } })
    .assessment;
  // The API gives amounts as plain decimals (README "Money in the API"); compared here in minor units.
  const exposure = parseMinorUnits(a.exposure, 2, CANONICAL_NUMBER_STYLE);
  if (!exposure.ok) throw new Error(`exposure ${a.exposure}: ${exposure.reason}`);
  return { exposure: exposure.value, counted: a.transfersCounted };
}

/** "9,500.00 EUR", as the pages write an amount in minor units of EUR. */
const eur = (minor: number) =>
  `${(minor / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} EUR`;

/** Approves or rejects the transfer's one level from Carla's emailed link. */
async function decide(transferId: string, decision: 'approve' | 'reject'): Promise<void> {
  const mail = await until(`the approval email of ${transferId}`, async () =>
    (await listMail(dir, 1000)).find((m) => m.file.includes(`-approve-${transferId}-carla`)),
  );
  const url = /https?:\/\/\S+\/approvals\/[\w.-]+/.exec(mail.text)?.[0] as string;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    // A rejection needs a reason.
    body: new URLSearchParams({
      decision,
      email: 'carla@example.com',
      comment: decision === 'reject' ? 'not this one' : '',
    }).toString(),
  });
  expect(res.status).toBe(200);
}

/** Brings a new transfer to the row's state through the console and the approval pages. */
async function reach(t: Transfer, state: State): Promise<void> {
  const settled = (want: string) =>
    until(`${t.transferId} ${want}`, async () => {
      const s = await transfers.app.show(t.transferId);
      return s && (want === 'asked' ? s.approvals.length > 0 : s.transfer.status === want) ? true : undefined;
    });
  await settled('asked');
  if (state === 'pending') return;
  await decide(t.transferId, state === 'rejected' ? 'reject' : 'approve');
  await settled(state === 'rejected' ? 'rejected' : 'approved');
  if (state !== 'approved and paid') return;
  const paid = await fetch(`${web.url}/transfers/${t.transferId}/mark-paid`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ by: 'paula', on: '' }).toString(),
  });
  // A bank account change moves no money: there is nothing to pay.
  expect(paid.status).toBe(t.request.type === 'bank_account_change' ? 409 : 303);
}

describe("a transfer's page and its customer's exposure figure say the same", () => {
  it.each(
    ROWS.map(
      (r) =>
        [
          `${r.type}, ${r.state}${r.currency ? ` in ${r.currency}` : ''}${r.book ? ', credit balance' : ''}`,
          r,
        ] as const,
    ),
  )(
    '%s',
    async (_, row) => {
      const before = await exposureOf(row.customerId);
      expect(before).toEqual({ exposure: row.book === 'creditBalance' ? 0 : 9000_00, counted: [] });
      const moves = row.type !== 'bank_account_change';
      const res = await fetch(`${web.url}/api/transfers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          customerId: row.customerId,
          type: row.type,
          ...(moves ? { amount: AMOUNT } : {}),
          currency: row.currency ?? 'EUR',
          beneficiaryName: `Customer ${row.customerId}`,
          beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
          reason: `exposure test: ${row.type}`,
          requester: 'rita',
        }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
      const t = ((await res.json()) as { transfer: Transfer }).transfer;
      await reach(t, row.state);

      // What the figure does.
      const after = await exposureOf(row.customerId);
      const added = row.expected.counts ? 500_00 : 0;
      const expectedExposure = Math.max(0, (row.book === 'creditBalance' ? -1000_00 : 9000_00) + added);
      expect(after.exposure).toBe(expectedExposure);
      expect(after.counted).toEqual(row.expected.counts ? [t.transferId] : []);
      const customerPage = await (await fetch(`${web.url}/customers/${row.customerId}`)).text();
      // Linked from the assessment's counted transfers only when it counts (the customer's own list
      // of transfers, further down, links every one).
      const assessment = customerPage.slice(
        customerPage.indexOf('<h2>Credit assessment'),
        customerPage.indexOf('<h2>Limit recommendation'),
      );
      expect(assessment).toContain('<h2>Credit assessment');
      expect(assessment.includes(`href="/transfers/${t.transferId}"`)).toBe(row.expected.counts);
      expect(customerPage).toContain(`href="/transfers/${t.transferId}"`);
      expect(text(customerPage)).toContain(`Exposure ${eur(after.exposure)}`);

      // What the page says, and the figure it gives.
      const page = await fetch(`${web.url}/transfers/${t.transferId}`);
      expect(page.status).toBe(200);
      // As read: no space where a link or a currency tag ends before punctuation.
      const said = text(/<p id="exposure">[\s\S]*?<\/p>/.exec(await page.text())?.[0] ?? '').replace(
        / (?=[,.;'])/g,
        '',
      );
      expect(said).toContain(row.expected.says.replace(/X-USD|X/g, (m) => (m === 'X' ? row.customerId : m)));
      if (!moves) {
        expect(said).not.toContain('exposure as of');
        return;
      }
      const figure = `${row.customerId}'s exposure as of ${TODAY}: ${eur(after.exposure)}`;
      expect(said).toContain(figure);
      if (!row.expected.counts) expect(said).toContain(`${figure}, without this transfer.`);
      else if (after.exposure === before.exposure)
        expect(said).toContain(`${figure}, the same without this transfer`);
      else expect(said).toContain(`${figure}; without this transfer: ${eur(before.exposure)}.`);
    },
    30_000,
  );
});
