import { describe, expect, it } from 'vitest';
import { keyEvidence, TOP_ALERTS } from '../../functions/transfers/evidence.ts';
import type { GateReport } from '../../functions/transfers/gate.ts';
import { approvalEmail, approvalSlackMessage } from '../../functions/transfers/messages.ts';
import type { ApprovalNotice, Transfer } from '../../functions/transfers/ports.ts';

/** What an approver needs to decide (evidence.ts): the headroom after each kind of request, the alerts. */

const exposure = {
  currency: 'EUR',
  openAmount: '18000.00',
  overdueAmount: '3000.00',
  exposure: '18000.00',
  creditLimit: '50000.00',
  headroom: '32000.00',
  unappliedCash: '750.00',
  aging: { notDue: '15000.00', d61_90: '3000.00' },
  maxDaysPastDue: 75,
};
const alert = (severity: string, rule: string) => ({ severity, rule, summary: `${rule} is ${severity}` });
const gate: GateReport = {
  asOf: '2025-06-30',
  flags: [],
  checks: [
    {
      check: 'unappliedCash',
      flag: 'aboveUnappliedCash',
      summary: "refund 1,250.00 EUR is above the customer's unapplied cash of 750.00 EUR as of 2025-06-30",
      figures: {},
    },
  ],
  ratingReasons: [],
  exposure,
  activeAlerts: [
    alert('info', 'staleFinancials'),
    alert('warning', 'daysPastDue'),
    alert('critical', 'overdueAmount'),
    alert('high', 'limitUse'),
    alert('warning', 'paymentFrequency'),
    alert('warning', 'daysLateDrift'),
    alert('high', 'concentration'),
  ],
};
const transfer: Transfer = {
  transferId: 'TR-1',
  request: {
    customerId: 'C1',
    type: 'refund',
    amount: 125_000,
    currency: 'EUR',
    beneficiaryName: 'Acme',
    beneficiaryAccount: 'DE89370400440532013000',
    reason: 'double payment',
    requester: 'rita',
  },
  requestedAt: '2025-06-30T08:00:00.000Z',
  requestedOn: '2025-06-30',
  status: 'pending',
  gate,
  level: 1,
};
const context = {
  customer: { id: 'C1', name: 'Acme GmbH' },
  requester: 'Rita',
  decisions: [
    {
      level: 1,
      by: 'Carla Credit',
      onBehalfOf: 'Erik Away',
      decision: 'approved' as const,
      at: '2025-06-30T09:30:00.000Z',
      comment: 'checked <b>',
      via: 'slack' as const,
    },
  ],
};

describe('keyEvidence', () => {
  it('a refund: the headroom less the amount, the unapplied cash and what the refund needs', () => {
    const k = keyEvidence(transfer, context);
    expect(k.customer).toEqual({ id: 'C1', name: 'Acme GmbH' });
    expect(k.amount).toBe('1,250.00 EUR');
    expect(k.figures).toEqual({
      asOf: '2025-06-30',
      exposure: '18,000.00 EUR',
      creditLimit: '50,000.00 EUR',
      headroom: '32,000.00 EUR',
      headroomAfter: '30,750.00 EUR (32,000.00 EUR less the 1,250.00 EUR asked for)',
      unappliedCash: '750.00 EUR',
      cashNeeded: "refund 1,250.00 EUR is above the customer's unapplied cash of 750.00 EUR as of 2025-06-30",
    });
  });

  it('the alerts counted by severity, most severe first, the top ones named', () => {
    const a = keyEvidence(transfer).alerts;
    expect(a?.count).toBe(7);
    expect(a?.bySeverity).toEqual([
      { severity: 'critical', count: 1 },
      { severity: 'high', count: 2 },
      { severity: 'warning', count: 3 },
      { severity: 'info', count: 1 },
    ]);
    expect(a?.top.map((x) => x.rule)).toEqual([
      'overdueAmount',
      'limitUse',
      'concentration',
      'daysPastDue',
      'paymentFrequency',
    ]);
    expect(a?.top).toHaveLength(TOP_ALERTS);
    expect(a?.more).toBe(2);
  });

  it('a bank account change leaves the headroom; a limit change moves the limit; another currency is said', () => {
    const bank = keyEvidence({
      ...transfer,
      request: { ...transfer.request, type: 'bank_account_change', amount: 0 },
    });
    expect(bank.amount).toBe('none (a bank account change moves no money)');
    expect(bank.figures?.headroomAfter).toBe(
      '32,000.00 EUR (unchanged: a bank account change moves no money)',
    );
    expect(bank.figures?.cashNeeded).toBeUndefined();
    const raise = keyEvidence({
      ...transfer,
      request: { ...transfer.request, type: 'credit_release', amount: 0 },
      limitChange: { from: 5_000_000, to: 8_000_000 },
    } as Transfer);
    expect(raise.amount).toBe('none: a credit limit change from 50,000.00 EUR to 80,000.00 EUR');
    expect(raise.figures?.headroomAfter).toBe(
      '62,000.00 EUR (the new limit 80,000.00 EUR less the exposure)',
    );
    const usd = keyEvidence({ ...transfer, request: { ...transfer.request, currency: 'USD' } });
    expect(usd.figures?.headroomAfter).toBe(
      'not worked out: the transfer is in USD, the credit limit in EUR',
    );
    const before = keyEvidence({ ...transfer, gate: undefined });
    expect([before.figures, before.alerts, before.noFigures]).toEqual([
      undefined,
      undefined,
      'the risk gate has not run yet',
    ]);
  });
});

describe('the email and Slack message carry it before the link', () => {
  const approve: ApprovalNotice & { kind: 'approve' } = {
    kind: 'approve',
    transfer,
    to: { id: 'fiona', name: 'Fiona', email: 'fiona@example.com', slackId: 'U024BE7LH' },
    level: { level: 2, of: 2, name: 'Finance manager', required: 1 },
    url: 'https://approvals.example.com/approvals/TOKEN',
    token: 'TOKEN',
    reminder: 0,
    expiresAt: '2025-07-01T08:00:00.000Z',
    context,
  };

  it('email: text and HTML, the decision with its comment escaped', () => {
    const m = approvalEmail(approve);
    const link = m.text.indexOf('Review and decide: ');
    for (const line of [
      '  Customer: Acme GmbH (C1)\n',
      '  Open alerts: 7 open: 1 critical, 2 high, 3 warning, 1 info\n',
      '    ... and 2 more, every one in the evidence below\n',
      '    - level 1: Carla Credit (for Erik Away) approved at 2025-06-30 09:30 UTC by slack: "checked <b>"\n',
    ]) {
      expect(m.text).toContain(line);
      expect(m.text.indexOf(line)).toBeLessThan(link);
    }
    expect(m.html).toContain('<em>&ldquo;checked &lt;b&gt;&rdquo;</em>');
    expect(m.html.indexOf('What you decide on')).toBeLessThan(m.html.indexOf('>Review and decide</a>'));
  });

  it('an escalation names them for the approvers, who decide; an outcome carries none', () => {
    const esc = approvalEmail({
      kind: 'escalate',
      transfer,
      to: approve.to,
      level: approve.level,
      waitingOn: ['Gus'],
      context,
    });
    expect(esc.text).toContain('WHAT THE APPROVERS DECIDE ON\n  Customer: Acme GmbH (C1)\n');
    expect(esc.text).not.toContain('WHAT YOU DECIDE ON');
    const out = approvalEmail({
      kind: 'outcome',
      transfer: { ...transfer, status: 'approved' },
      to: approve.to,
    });
    expect(out.text).not.toMatch(/DECIDE ON/);
  });

  it('Slack: within Block Kit limits, the decision and alerts before the buttons', () => {
    const msg = approvalSlackMessage(approve);
    const blocks = msg.blocks as { type: string; text?: { text: string }; fields?: { text: string }[] }[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(blocks.find((b) => b.fields)?.fields?.length).toBeLessThanOrEqual(10);
    const texts = blocks.map((b) => b.text?.text ?? '');
    const decisions = texts.findIndex((t) => t.startsWith('*Decisions so far:*'));
    expect(texts[decisions]).toBe(
      '*Decisions so far:*\n• level 1: Carla Credit (for Erik Away) approved at 2025-06-30 09:30 UTC by slack: “checked &lt;b&gt;”',
    );
    const alerts = texts.findIndex((t) => t.startsWith('*Open alerts, most severe first:*'));
    expect(texts[alerts]).toContain('…and 2 more: *Review evidence* shows every one.');
    const actions = blocks.findIndex((b) => b.type === 'actions');
    expect(Math.max(decisions, alerts)).toBeLessThan(actions);
  });
});
