import { describe, expect, it } from 'vitest';
import { backtestCollections } from '../../functions/collections/backtest.ts';
import { type Contact, dunningAsOf } from '../../functions/collections/dunning.ts';
import type { IsoDate } from '../../functions/core/dates.ts';
import { type CustomerBooks, statementAsOf } from '../../functions/core/receivables.ts';
import type { Invoice, Payment } from '../../functions/core/records.ts';
import {
  type CollectionsPolicy,
  type PolicyDocument,
  parsePolicy,
  type RiskClass,
} from '../../functions/credit/policy.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';

/**
 * Dunning worked out by hand (README "Collections"), on the default plan: friendly at 3 days past
 * due, firm at 15, final at 30, hold at 45, legal at 60 (high risk: 1, 7, 15, 30, 45); at least
 * 50.00 EUR demanded; 7 days between two messages.
 */
const defaultPolicy = parsePolicy(DEFAULT_POLICY_DOCUMENT);
if (!defaultPolicy.ok) throw new Error('the default policy is invalid');
const plan = defaultPolicy.policy.collections as CollectionsPolicy;

const inv = (invoiceId: string, dueDate: IsoDate, euros: number, disputed = false): Invoice => ({
  customerId: 'C1',
  invoiceId,
  issueDate: '2026-01-02',
  dueDate,
  amount: Math.round(euros * 100),
  currency: 'EUR',
  disputed,
});
const pay = (paymentId: string, receivedDate: IsoDate, euros: number, invoiceIds: string[]): Payment => ({
  customerId: 'C1',
  paymentId,
  receivedDate,
  amount: Math.round(euros * 100),
  currency: 'EUR',
  invoiceIds,
});
const books = (invoices: Invoice[], payments: Payment[] = []): CustomerBooks => ({
  customerId: 'C1',
  currency: 'EUR',
  invoices,
  payments,
});
const dun = (b: CustomerBooks, asOf: IsoDate, opts: { riskClass?: RiskClass; contacts?: Contact[] } = {}) =>
  dunningAsOf('C1', statementAsOf(b, asOf), plan, opts);

/** A: 30 days past due on 2026-03-31; B: 11; C: not due; D: disputed, 58 days; 150.00 of cash unapplied. */
const BOOK = books(
  [
    inv('A', '2026-03-01', 1000),
    inv('B', '2026-03-20', 500),
    inv('C', '2026-04-15', 200),
    inv('D', '2026-02-01', 300, true),
  ],
  [pay('P1', '2026-03-30', 150, ['X-404'])],
);

describe('dunning a customer, worked out by hand', () => {
  it('one message for every overdue item, at the level of the oldest; disputed items and cash set apart', () => {
    const d = dun(BOOK, '2026-03-31');
    expect(d.overdue.map((i) => [i.invoiceId, i.daysPastDue])).toEqual([
      ['A', 30],
      ['B', 11],
    ]);
    expect(d.disputed.map((i) => i.invoiceId)).toEqual(['D']);
    expect(d.notDue.map((i) => i.invoiceId)).toEqual(['C']);
    // 1,500.00 overdue less 150.00 unapplied: 1,350.00 asked for; the disputed 300.00 is not.
    expect(d.totals).toEqual({
      overdue: 150_000,
      disputed: 30_000,
      notDue: 20_000,
      unappliedCash: 15_000,
      demand: 135_000,
    });
    expect(d.oldestDaysPastDue).toBe(30);
    // Never reminded before: straight to the final notice, the level reached (not friendly first).
    expect(d.send?.name).toBe('final');
    expect(d.why).toBe(
      'the oldest undisputed overdue item (A) is 30 days past due: "final" comes at 30; 1,350.00 EUR demanded',
    );
    // The hold at A's due date + 45 days, unless paid.
    expect(d.next).toEqual({ level: 'hold', on: '2026-04-15' });
  });

  it('after friendly and firm went out, the final notice follows; once sent, it waits for the hold', () => {
    const contacts = [
      { level: 'friendly', on: '2026-03-04' },
      { level: 'firm', on: '2026-03-16' },
    ];
    expect(dun(BOOK, '2026-03-31', { contacts }).send?.name).toBe('final');
    const after = dun(BOOK, '2026-04-03', { contacts: [...contacts, { level: 'final', on: '2026-03-31' }] });
    expect(after.send).toBeUndefined();
    expect(after.reached?.name).toBe('final');
    expect(after.why).toBe('"final" went out on 2026-03-31; the next level follows at its day');
    expect(after.next).toEqual({ level: 'hold', on: '2026-04-15' });
  });

  it('waits the plan gap after the last message, then sends the level reached', () => {
    const contacts = [{ level: 'firm', on: '2026-03-28' }];
    const d = dun(BOOK, '2026-03-31', { contacts });
    expect(d.send).toBeUndefined();
    expect(d.why).toBe(
      'the last message went out on 2026-03-28, 3 days ago; the plan waits 7 days between two',
    );
    expect(d.next).toEqual({ level: 'final', on: '2026-04-04' });
    expect(dun(BOOK, '2026-04-04', { contacts }).send?.name).toBe('final');
  });

  it('sends nothing below the minimum demand, nor when unapplied cash covers the overdue', () => {
    const small = dun(books([inv('A', '2026-03-01', 40)]), '2026-03-31');
    expect(small.reached?.name).toBe('final');
    expect(small.send).toBeUndefined();
    expect(small.why).toBe("the demand of 40.00 EUR is below the plan's minimum of 50.00 EUR");

    const covered = dun(
      books([inv('A', '2026-03-01', 1000)], [pay('P1', '2026-03-02', 1200, ['X-404'])]),
      '2026-03-31',
    );
    expect(covered.totals.demand).toBe(0);
    expect(covered.send).toBeUndefined();
    expect(covered.why).toBe(
      'unapplied cash of 1,200.00 EUR covers the 1,000.00 EUR overdue: apply it before chasing',
    );
  });

  it('chases nobody for disputed items alone, and waits for the first level', () => {
    const disputed = dun(
      books([inv('D', '2026-02-01', 300, true), inv('C', '2026-04-15', 200)]),
      '2026-03-31',
    );
    expect(disputed.send).toBeUndefined();
    expect(disputed.why).toBe('only disputed items are overdue: nothing is chased while they are disputed');
    expect(disputed.next).toEqual({ level: 'friendly', on: '2026-04-18' });

    const early = dun(books([inv('A', '2026-03-29', 1000)]), '2026-03-31');
    expect(early.reached).toBeUndefined();
    expect(early.why).toBe(
      'the oldest overdue item (A) is 2 days past due; the first level ("friendly") comes at 3',
    );
    expect(early.next).toEqual({ level: 'friendly', on: '2026-04-01' });
    expect(dun(books([inv('A', '2026-03-29', 1000)]), '2026-04-01').send?.name).toBe('friendly');
  });

  it('chases a high-risk customer on its own ladder', () => {
    const d = dun(BOOK, '2026-03-31', { riskClass: 'high' });
    expect(d.ladder).toBe('high');
    expect(d.send).toMatchObject({ name: 'hold', action: 'hold', channel: 'slack' });
    expect(dun(BOOK, '2026-03-31', { riskClass: 'medium' }).ladder).toBe('default');
  });

  it('counts a level once per episode: a reminder about a debt since paid does not stop the next', () => {
    const b = books([inv('A', '2026-03-01', 1000)]);
    const contacts = [{ level: 'friendly', on: '2026-01-10' }];
    expect(dun(b, '2026-03-05', { contacts }).send?.name).toBe('friendly');
    expect(
      dun(b, '2026-03-05', { contacts: [{ level: 'friendly', on: '2026-03-04' }] }).send,
    ).toBeUndefined();
  });

  it('hands nobody over to legal without the final notice: that goes first, the hand-over after the gap', () => {
    const old = books([inv('A', '2026-01-15', 1000)]);
    const d = dun(old, '2026-03-31');
    expect(d.reached?.name).toBe('legal');
    expect(d.send?.name).toBe('final');
    expect(d.why).toBe(
      'the oldest undisputed overdue item (A) is 75 days past due, past "legal" at 60, but the hand-over waits for the final notice: "final" goes out first; 1,000.00 EUR demanded',
    );
    expect(d.next).toEqual({ level: 'legal', on: '2026-04-07' });
    const contacts = [{ level: 'final', on: '2026-03-31' }];
    expect(dun(old, '2026-04-06', { contacts }).send).toBeUndefined();
    expect(dun(old, '2026-04-07', { contacts }).send?.name).toBe('legal');
    // Put on hold when first seen (the hold tells the customer nothing): the final notice still comes first.
    const held = [{ level: 'hold', on: '2026-03-01' }];
    expect(dun(old, '2026-03-31', { contacts: held }).send?.name).toBe('final');
    expect(
      dun(old, '2026-03-31', { contacts: [...held, { level: 'final', on: '2026-03-10' }] }).send?.name,
    ).toBe('legal');
  });

  it('stops at once when the customer pays', () => {
    const paid = books([inv('A', '2026-03-01', 1000)], [pay('P1', '2026-03-20', 1000, ['A'])]);
    const d = dun(paid, '2026-03-31', { contacts: [{ level: 'friendly', on: '2026-03-04' }] });
    expect(d.send).toBeUndefined();
    expect(d.overdue).toEqual([]);
    expect(d.why).toBe('nothing is overdue');
  });
});

describe('the backtest of the plan', () => {
  it('replays the days: each level once, in order, and tells which were paid within the week anyway', () => {
    // A is paid 20 days late (after friendly and firm), B never.
    const b = books(
      [inv('A', '2026-03-01', 1000), { ...inv('B', '2026-03-01', 100), customerId: 'C1' }],
      [pay('P1', '2026-03-21', 1000, ['A'])],
    );
    const r = backtestCollections([b], plan, { from: '2026-03-01', to: '2026-05-15' });
    const by = Object.fromEntries(r.levels.map((l) => [l.level, l]));
    expect(by.friendly).toMatchObject({
      messages: 1,
      customers: 1,
      demanded: { EUR: 110_000 },
      paidWithinWindow: 0,
    });
    expect(by.firm).toMatchObject({ messages: 1, demanded: { EUR: 110_000 }, paidWithinWindow: 0 });
    // From 03-21 only B (100.00) is open: final at 30 days, hold at 45, legal at 60.
    expect(by.final).toMatchObject({ messages: 1, demanded: { EUR: 10_000 } });
    expect(by.hold).toMatchObject({ messages: 1 });
    expect(by.legal).toMatchObject({ messages: 1 });

    // Paid the day after the friendly reminder: that reminder counts as paid within the week.
    const quick = books([inv('A', '2026-03-01', 1000)], [pay('P1', '2026-03-05', 1000, ['A'])]);
    const q = backtestCollections([quick], plan, { from: '2026-03-01', to: '2026-04-30' });
    expect(q.levels.find((l) => l.level === 'friendly')).toMatchObject({ messages: 1, paidWithinWindow: 1 });
    expect(q.levels.filter((l) => l.level !== 'friendly').every((l) => l.messages === 0)).toBe(true);
  });
});

describe('the collections section of the policy', () => {
  const withPlan = (collections: unknown): unknown => ({
    ...(DEFAULT_POLICY_DOCUMENT as PolicyDocument),
    collections,
  });
  const issues = (collections: unknown) => {
    const r = parsePolicy(withPlan(collections));
    if (r.ok) throw new Error('expected the policy to be refused');
    return r.issues;
  };
  const level = (name: string, afterDays: number, action = 'remind', channel = 'email', template = name) => ({
    name,
    afterDays,
    channel,
    action,
    template,
  });

  it("names every bad field: first each field's form, then how the levels stand together", () => {
    expect(
      issues({
        levels: [level('friendly', 0), level('Bad Name', 70, 'remind', 'fax')],
        minDemand: { EUR: '1,000' },
        minGapDays: -1,
      }).map((i) => i.path),
    ).toEqual([
      'collections.levels.0.afterDays',
      'collections.levels.1.name',
      'collections.levels.1.channel',
      'collections.levels.1.template',
      'collections.minDemand.EUR',
      'collections.minGapDays',
    ]);
    expect(
      issues({
        levels: [
          level('friendly', 10),
          level('firm', 5),
          level('firm', 20),
          level('hold', 30, 'hold', 'slack'),
          level('late', 35, 'remind', 'email', 'firm'),
          level('hold-again', 40, 'hold', 'slack'),
          level('legal', 50, 'legal', 'slack'),
          level('after', 60, 'remind', 'email', 'final'),
        ],
        minDemand: { EURO: '50.00', JPY: '50.5' },
        minGapDays: 7,
      }),
    ).toEqual([
      {
        path: 'collections.levels.1.afterDays',
        message: 'must be after the level before ("friendly" at 10 days)',
      },
      { path: 'collections.levels.2.name', message: '"firm" names two levels' },
      { path: 'collections.levels.4.action', message: 'a reminder cannot follow the hold level "hold"' },
      { path: 'collections.levels.5.action', message: 'only one level may hold' },
      { path: 'collections.levels.7.action', message: 'a reminder cannot follow the legal level "legal"' },
      { path: 'collections.levels.7', message: 'nothing follows the legal hand-over' },
      { path: 'collections.minDemand.EURO', message: 'EURO is not an ISO 4217 currency code' },
      { path: 'collections.minDemand.JPY', message: expect.stringContaining('(JPY)') },
    ]);
  });

  it('an emailed level names a reminder email that exists; a task or Slack level names any template', () => {
    expect(
      issues({
        levels: [level('friendly', 3), level('polite', 10), level('call', 15, 'remind', 'phone', 'script-a')],
        minGapDays: 7,
      }),
    ).toEqual([
      {
        path: 'collections.levels.1.template',
        message: 'an emailed level names a reminder email: friendly, firm, final',
      },
    ]);
  });

  it('is optional: a policy written before collections stays valid and chases nobody', () => {
    const { collections: _c, ...before } = DEFAULT_POLICY_DOCUMENT as PolicyDocument;
    const r = parsePolicy(before);
    expect(r.ok && r.policy.collections).toBeUndefined();
  });
});
