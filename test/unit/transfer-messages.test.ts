import { describe, expect, it } from 'vitest';
import { assess, type CreditFile } from '../../functions/credit/assess.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { expectedCashCheck, type GateReport } from '../../functions/transfers/gate.ts';
import {
  approvalEmail,
  approvalSlackMessage,
  decodeQuotedPrintable,
  encodeQuotedPrintable,
  evidenceHtml,
  evidenceText,
  parseEml,
  slackDecisionUpdate,
  toEml,
} from '../../functions/transfers/messages.ts';
import type { ApprovalNotice, Recipient, Transfer } from '../../functions/transfers/ports.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { inv, pay } from './credit-fixtures.ts';

const EVIL = '<script>alert(1)</script> & "Co"';
const TOKEN =
  'eyJhIjoiMDFKWjNRN1Q0SEs1TU45UDJSOFZXWDZZQ0EiLCJwIjoiZmlvbmEiLCJlIjoxNzUxMzYwNDAwfQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';
const URL_ = `https://approvals.example.com/approvals/${TOKEN}`;

const gate: GateReport = {
  asOf: '2025-06-30',
  flags: ['openAlerts', 'overdueBalance', 'newBeneficiary'],
  checks: [
    {
      check: 'riskClass',
      summary: 'rating C (score 54), medium risk, as of 2025-06-30',
      figures: { rating: 'C', score: 54, riskClass: 'medium', policy: 'credit-2025.1' },
    },
    {
      check: 'openAlerts',
      flag: 'openAlerts',
      summary: '1 active alert, 1 at warning or above',
      figures: { active: 1, atOrAbove: 1, rules: 'daysPastDue (high)' },
    },
    {
      check: 'overdueBalance',
      flag: 'overdueBalance',
      summary: '3,000.00 EUR overdue, the oldest 75 days past due',
      figures: { overdueAmount: '3,000.00 EUR', maxDaysPastDue: 75 },
    },
    {
      check: 'amountHistory',
      summary: '2 earlier approved transfers in EUR: fewer than the 5 needed to judge the amount',
      figures: { earlierTransfers: 2 },
    },
    {
      check: 'beneficiary',
      flag: 'newBeneficiary',
      summary: 'account DE89370400440532013000 was never approved for this customer <b>',
      figures: { account: 'DE89370400440532013000', coolingOffDays: 30 },
    },
    {
      check: 'duplicate',
      summary: 'no request with the same amount and account in the last 30 days',
      figures: {},
    },
    {
      check: 'limitHeadroom',
      summary: 'within the headroom of 32,000.00 EUR',
      figures: { amount: '12500.00', creditLimit: '50000.00', exposure: '18000.00', headroom: '32000.00' },
    },
  ],
  riskClass: 'medium',
  rating: 'C',
  score: 54,
  policyId: 'credit-2025.1',
  ratingReasons: [
    { reason: 'oldest invoice 75 days past due', points: 2, maxPoints: 20 },
    { reason: 'quick ratio 0.8 < 1 & falling', points: 6, maxPoints: 15 },
    { reason: 'equity ratio 35%', points: 12, maxPoints: 15 },
  ],
  exposure: {
    currency: 'EUR',
    openAmount: '18000.00',
    overdueAmount: '3000.00',
    exposure: '18000.00',
    creditLimit: '50000.00',
    headroom: '32000.00',
    aging: {
      notDue: '15000.00',
      d1_30: '0.00',
      d31_60: '0.00',
      d61_90: '3000.00',
      d91_180: '0.00',
      over180: '0.00',
    },
    maxDaysPastDue: 75,
  },
  activeAlerts: [{ rule: 'daysPastDue', severity: 'high', summary: 'an invoice is 75 days past due <now>' }],
};

const transfer: Transfer = {
  transferId: 'TR-01JZ3Q7T4HK5MN9P2R8VWX6YCA',
  request: {
    customerId: 'C1001',
    type: 'refund',
    amount: 1_250_000,
    currency: 'EUR',
    beneficiaryName: EVIL,
    beneficiaryAccount: 'DE89370400440532013000',
    reason: 'Credit note CN-77 paid twice\r\nReview and decide: https://evil.example',
    requester: 'rita',
  },
  requestedAt: '2025-06-30T08:15:00.000Z',
  requestedOn: '2025-06-30',
  status: 'pending',
  gate,
  levels: [
    {
      level: 1,
      name: 'Credit controller',
      required: 1,
      approvers: [
        { id: 'carl', name: 'Carl Control', email: 'carl@example.com' },
        { id: 'dana', name: 'Dana <Deputy>', email: 'dana@example.com', onBehalfOf: 'erik' },
      ],
    },
    {
      level: 2,
      name: 'Finance manager',
      required: 2,
      approvers: [
        { id: 'fiona', name: 'Fiona Finance', email: 'fiona@example.com' },
        { id: 'gus', name: 'Gus Gold', email: 'gus@example.com' },
      ],
    },
  ],
  chainWhy: ['12,500.00 EUR needs 1 level', 'the flag openAlerts adds 1'],
  level: 1,
};

const fiona: Recipient = {
  id: 'fiona',
  name: 'Fiona Finance',
  email: 'fiona@example.com',
  slackId: 'U024BE7LH',
};
const level = { level: 1, of: 2, name: 'Credit controller', required: 1 };

const approve: ApprovalNotice & { kind: 'approve' } = {
  kind: 'approve',
  transfer,
  to: fiona,
  level,
  url: URL_,
  token: TOKEN,
  reminder: 0,
  expiresAt: '2025-07-01T08:15:00.000Z',
};
const remind: ApprovalNotice & { kind: 'remind' } = {
  ...approve,
  kind: 'remind',
  reminder: 1,
  onBehalfOf: 'Erik Away',
};

const count = (hay: string, needle: string) => hay.split(needle).length - 1;

/** Every text node and attribute value of an HTML document, as the browser would read it. */
const entities = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

describe('evidence', () => {
  it('text has the request, every check, the exposure, the rating, the alerts and the chain', () => {
    const text = evidenceText(transfer);
    expect(text).toContain('Amount: 12,500.00 EUR');
    expect(text).toContain('Customer: C1001');
    expect(text).toContain('Type: refund');
    expect(text).toContain(`Beneficiary: ${EVIL}`);
    expect(text).toContain('Beneficiary account: DE89370400440532013000');
    expect(text).toContain('Requested by: rita');
    expect(text).toContain('Requested at: 2025-06-30 08:15 UTC');
    for (const c of gate.checks) expect(text).toContain(c.summary);
    expect(text).toContain('[FLAGGED: overdue balance] Overdue balance: 3,000.00 EUR overdue');
    expect(text).toContain('[passed] Duplicate: no request');
    expect(text).toContain('Flags: open alerts, overdue balance, new beneficiary');
    expect(text).toContain('61-90 days: 3,000.00 EUR');
    // The gate's figures read as money, as on the approval page.
    expect(text).toContain(
      'Amount: 12,500.00 EUR; Credit limit: 50,000.00 EUR; Exposure: 18,000.00 EUR; Headroom: 32,000.00 EUR',
    );
    expect(text).toContain('rating C, score 54, medium risk, policy credit-2025.1');
    expect(text).toContain('2/20  oldest invoice 75 days past due');
    expect(text).toContain('[high] daysPastDue: an invoice is 75 days past due <now>');
    expect(text).toContain(
      'Level 1 (Credit controller): 1 of 2 required: Carl Control, Dana <Deputy> (for erik)',
    );
    expect(text).toContain('Level 2 (Finance manager): 2 of 2 required: Fiona Finance, Gus Gold');
  });

  it("shows the customer's expected cash in the next 30 days as one more check, never flagged (issue 19)", () => {
    // H1 was paid 20 days late; N1 (1,000.00, due 2025-07-05) is expected 2025-07-25, N2 (2,000.00,
    // due 2025-07-15) 2025-08-04: after the 30 days.
    const file: CreditFile = {
      customerId: 'C1',
      currency: 'EUR',
      invoices: [
        inv('H1', '2025-03-31', '2025-04-30', 50_000),
        inv('N1', '2025-06-05', '2025-07-05', 100_000),
        inv('N2', '2025-06-15', '2025-07-15', 200_000),
      ],
      payments: [pay('P1', '2025-05-20', 50_000, ['H1'])],
      financials: [],
      guarantees: [],
      insurance: [],
      scores: [],
    };
    const a = assess(file, '2025-06-30', policyInForce(undefined, DEFAULT_POLICY_DOCUMENT));
    const cash = expectedCashCheck('C1', a.figures, '2025-06-30');
    const t = { ...transfer, gate: { ...gate, checks: [...gate.checks, cash] } };
    expect(evidenceText(t)).toContain(
      "[passed] Expected cash: 1,000.00 EUR of the 3,000.00 EUR open expected by 2025-07-30 (1 of 2 open invoices), from the customer's own settled invoices",
    );
    expect(evidenceText(t)).toContain(
      'Expected cash: 1,000.00 EUR; Open amount: 3,000.00 EUR; By: 2025-07-30; Invoices expected: 1; Open invoices: 2',
    );
    const html = evidenceHtml(t);
    expect(html).toContain('<td class="text">Expected cash</td>');
    expect(html).toContain('Expected cash: 1,000.00 EUR<br>Open amount: 3,000.00 EUR<br>By: 2025-07-30');
  });

  it('text keeps every data value on its own line: a reason cannot forge a line of the message', () => {
    const text = evidenceText(transfer);
    expect(text).not.toMatch(/^Review and decide/m);
    expect(text).toContain('Reason: Credit note CN-77 paid twice Review and decide: https://evil.example');
  });

  it('HTML is a fragment rooted at section.evidence with every value escaped', () => {
    const html = evidenceHtml(transfer);
    expect(html.startsWith('<section class="evidence">')).toBe(true);
    expect(html.trimEnd().endsWith('</section>')).toBe(true);
    expect(html).not.toMatch(/<(html|body|head|script|style|img|link|iframe)\b/i);
    expect(html).not.toContain('style=');
    expect(html).not.toContain(EVIL);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;');
    expect(html).toContain('never approved for this customer &lt;b&gt;');
    expect(html).toContain('75 days past due &lt;now&gt;');
    expect(html).toContain('Dana &lt;Deputy&gt;');
    expect(html).toContain('quick ratio 0.8 &lt; 1 &amp; falling');
    // Only the renderer's own tags remain.
    const tags = new Set([...html.matchAll(/<\/?([a-z0-9]+)/gi)].map((m) => (m[1] as string).toLowerCase()));
    expect([...tags].sort()).toEqual(
      ['br', 'dd', 'dl', 'dt', 'p', 'section', 'strong', 'table', 'tbody', 'td', 'th', 'thead', 'tr'].sort(),
    );
    // Decoding the entities gives every value back.
    for (const c of gate.checks) expect(entities(html)).toContain(c.summary);
    expect(entities(html)).toContain(EVIL);
    expect(html).toContain('12,500.00 EUR');
  });

  it('HTML marks flagged checks apart from passed ones', () => {
    const html = evidenceHtml(transfer);
    expect(count(html, 'flagged: ')).toBe(3);
    expect(count(html, '>passed<')).toBe(4);
    expect(html).toContain('<strong class="badge bad">flagged: overdue balance</strong>');
  });

  it('a transfer before the gate and without a chain still renders', () => {
    const bare: Transfer = { ...transfer, gate: undefined, levels: undefined, chainWhy: undefined };
    expect(evidenceText(bare)).toContain('not run yet');
    expect(evidenceText(bare)).not.toContain('APPROVAL CHAIN');
    expect(evidenceHtml(bare)).toContain('Not run yet.');
  });

  it('a bank account change shows no amount', () => {
    const change: Transfer = {
      ...transfer,
      request: { ...transfer.request, type: 'bank_account_change', amount: 0 },
    };
    expect(evidenceText(change)).toContain('Amount: none (a bank account change moves no money)');
    expect(approvalEmail({ ...approve, transfer: change }).subject).toBe(
      `Approve: bank account change to ${EVIL} (C1001), level 1 of 2`,
    );
  });
});

describe('approval emails', () => {
  const mail = approvalEmail(approve);

  it('subjects per kind', () => {
    expect(mail.subject).toBe(`Approve: refund 12,500.00 EUR to ${EVIL} (C1001), level 1 of 2`);
    const acme: Transfer = { ...transfer, request: { ...transfer.request, beneficiaryName: 'ACME GmbH' } };
    expect(approvalEmail({ ...approve, transfer: acme }).subject).toBe(
      'Approve: refund 12,500.00 EUR to ACME GmbH (C1001), level 1 of 2',
    );
    expect(approvalEmail({ ...remind, transfer: acme }).subject).toBe(
      'Reminder 1: approve refund 12,500.00 EUR to ACME GmbH (C1001), level 1 of 2',
    );
    expect(
      approvalEmail({
        kind: 'escalate',
        transfer: acme,
        to: fiona,
        level: { level: 2, of: 3, name: 'Finance manager', required: 1 },
        waitingOn: ['Fiona Finance'],
      }).subject,
    ).toBe(
      'Overdue approval: refund 12,500.00 EUR to ACME GmbH (C1001), level 2 of 3 waiting on Fiona Finance',
    );
    for (const status of ['approved', 'rejected', 'recalled', 'expired', 'refused'] as const)
      expect(approvalEmail({ kind: 'outcome', transfer: { ...acme, status }, to: fiona }).subject).toBe(
        `Transfer TR-01JZ3Q7T4HK5MN9P2R8VWX6YCA ${status}: refund 12,500.00 EUR to ACME GmbH (C1001)`,
      );
    const rejected: Transfer = {
      ...acme,
      status: 'rejected',
      closedBy: 'fiona',
      closedAt: '2025-06-30T10:00:00.000Z',
      outcome: 'rejected at level 1: beneficiary not verified',
    };
    const out = approvalEmail({
      kind: 'outcome',
      transfer: rejected,
      to: { id: 'rita', name: 'Rita Request' },
    });
    expect(out.subject).toBe(
      'Transfer TR-01JZ3Q7T4HK5MN9P2R8VWX6YCA rejected by fiona: refund 12,500.00 EUR to ACME GmbH (C1001) - rejected at level 1: beneficiary not verified',
    );
    expect(out.text).toContain('was rejected by fiona at 2025-06-30 10:00 UTC');
    expect(out.text).toContain('Outcome: rejected at level 1: beneficiary not verified');
    expect(out.html).toContain('Outcome: rejected at level 1: beneficiary not verified');
  });

  it('subjects are one line of at most 200 characters', () => {
    const long: Transfer = {
      ...transfer,
      request: { ...transfer.request, beneficiaryName: `Evil\r\nBcc: victim@example.com ${'x'.repeat(300)}` },
    };
    for (const n of [
      { ...approve, transfer: long },
      { ...remind, transfer: long },
      { kind: 'outcome' as const, transfer: long, to: fiona },
    ]) {
      const s = approvalEmail(n).subject;
      expect(s).not.toMatch(/[\r\n]/);
      expect(Array.from(s).length).toBeLessThanOrEqual(200);
      expect(s).toContain('Evil Bcc: victim@example.com');
    }
  });

  it('approve and remind bodies say who, for whom, until when, and carry the link once', () => {
    const r = approvalEmail(remind);
    for (const m of [mail, r]) {
      expect(m.text).toContain('Hello Fiona Finance,');
      expect(m.text).toContain(`Review and decide: ${URL_}`);
      expect(m.text).toContain('Opening the link only shows the request; the decision is made on the page.');
      expect(m.text).toContain('The link works until 2025-07-01 08:15 UTC');
      expect(m.text).toContain('12,500.00 EUR');
      expect(count(m.text, URL_)).toBe(1);
      expect(count(m.html, URL_)).toBe(1);
      expect(m.html).toContain(`<a href="${URL_}"`);
      expect(m.html).toContain('>Review and decide</a>');
      expect(m.html).toContain('Opening the link only shows the request; the decision is made on the page.');
      // The token only inside the link.
      expect(count(m.text, TOKEN)).toBe(1);
      expect(count(m.html, TOKEN)).toBe(1);
      expect(count(m.subject, TOKEN)).toBe(0);
    }
    expect(mail.text).not.toContain('on behalf of');
    expect(r.text).toContain('Reminder 1: this request is still waiting for your decision.');
    expect(r.text).toContain('You decide on behalf of Erik Away, who is away.');
    expect(r.html).toContain('You decide on behalf of Erik Away, who is away.');
  });

  it('HTML email is a full document with inline styles, no script, every value escaped', () => {
    expect(mail.html.startsWith('<!doctype html>\n<html')).toBe(true);
    expect(mail.html).toContain('<body style=');
    expect(mail.html.trimEnd().endsWith('</html>')).toBe(true);
    expect(mail.html).not.toMatch(/<(script|style|link|img|iframe)\b/i);
    expect(mail.html).not.toContain(EVIL);
    expect(mail.html).not.toContain('<b>');
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;');
    expect(mail.html).toContain('<section class="evidence" style=');
    expect(mail.html).toContain('<title>Approve: refund 12,500.00 EUR to &lt;script&gt;');
  });

  it('escalation and outcome carry no link and no token', () => {
    const esc = approvalEmail({
      kind: 'escalate',
      transfer,
      to: fiona,
      level: { level: 2, of: 2, name: 'Finance manager', required: 2 },
      waitingOn: ['Gus Gold'],
    });
    expect(esc.text).toContain('still unanswered after every reminder, waiting on Gus Gold');
    const out = approvalEmail({ kind: 'outcome', transfer: { ...transfer, status: 'approved' }, to: fiona });
    expect(out.text).toContain('was approved');
    for (const m of [esc, out]) {
      expect(m.text).not.toContain('https://approvals.example.com');
      expect(m.html).not.toContain('<a ');
      expect(m.text + m.html).not.toContain(TOKEN);
      expect(m.html).not.toContain(EVIL);
    }
  });

  it('refuses a link that is not http(s)', () => {
    expect(() => approvalEmail({ ...approve, url: 'javascript:alert(1)' })).toThrow(/http/);
  });
});

describe('toEml and parseEml', () => {
  const base = {
    from: 'credit-sentinel <approvals@example.com>',
    to: 'Fiona Finance <fiona@example.com>',
    date: new Date('2025-06-30T08:15:03.000Z'),
    messageId: 'tr-01jz3q7t4hk5mn9p2r8vwx6yca.1@example.com',
  };

  const physicalLines = (eml: string) => eml.split('\r\n');
  const mail = approvalEmail(approve);

  it('round-trips an approval email (ASCII subject), CRLF only, QP lines within 76', () => {
    const eml = toEml({ ...base, ...mail });
    expect(eml.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = physicalLines(eml);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(78);
    const p = parseEml(eml);
    expect(p.headers.subject).toBe(mail.subject);
    expect(p.headers.from).toBe(base.from);
    expect(p.headers.to).toBe(base.to);
    expect(p.headers.date).toBe('Mon, 30 Jun 2025 08:15:03 +0000');
    expect(p.headers['message-id']).toBe(`<${base.messageId}>`);
    expect(p.headers['mime-version']).toBe('1.0');
    expect(p.headers['content-type']).toMatch(/^multipart\/alternative; boundary="=_cs_[0-9a-f]{32}"$/);
    expect(p.text).toBe(mail.text);
    expect(p.html).toBe(mail.html);
    // The link survives encoding: a reader clicking it gets the exact URL.
    expect(count(p.html, URL_)).toBe(1);
  });

  it('writes the headers in order, then text/plain before text/html', () => {
    const eml = toEml({ ...base, subject: 'Hi', text: 'a', html: '<p>a</p>' });
    const names = eml
      .split('\r\n\r\n')[0]
      ?.split('\r\n')
      .filter((l) => !/^[ \t]/.test(l))
      .map((l) => l.slice(0, l.indexOf(':')));
    expect(names).toEqual(['From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type']);
    expect(eml.indexOf('Content-Type: text/plain; charset=utf-8')).toBeGreaterThan(0);
    expect(eml.indexOf('Content-Type: text/plain; charset=utf-8')).toBeLessThan(
      eml.indexOf('Content-Type: text/html; charset=utf-8'),
    );
    expect(count(eml, 'Content-Transfer-Encoding: quoted-printable')).toBe(2);
    expect(eml.endsWith('--\r\n')).toBe(true);
  });

  it('is deterministic: the boundary comes from the message id', () => {
    const m = { ...base, subject: 'Hi', text: 'a', html: '<p>a</p>' };
    expect(toEml(m)).toBe(toEml(m));
    const other = toEml({ ...m, messageId: 'other@example.com' });
    const b = (s: string) => /boundary="([^"]+)"/.exec(s)?.[1];
    expect(b(other)).not.toBe(b(toEml(m)));
  });

  it('round-trips a non-ASCII subject and bodies, B-encoding the subject', () => {
    const subject = 'Müller & Søn — 12 500 €';
    const text =
      'Müller & Søn — 12 500 €\nzweite Zeile = gleich\n\tTab am Anfang und Leerzeichen am Ende   \n';
    const html = '<p>Müller &amp; Søn — 12 500 €</p>';
    const eml = toEml({ ...base, to: 'Jörg Müller <joerg@example.com>', subject, text, html });
    expect(eml).toMatch(/^Subject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=/m);
    expect(eml).toMatch(/^To: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= <joerg@example.com>/m);
    // Nothing but printable ASCII, tabs and CRLF on the wire.
    expect(eml).toMatch(/^[ -~\t\r\n]*$/);
    expect(eml).toContain('M=C3=BCller');
    expect(eml).toContain('Zeile =3D gleich');
    expect(eml).toContain('Ende  =20');
    for (const l of physicalLines(eml)) expect(l.length).toBeLessThanOrEqual(78);
    const p = parseEml(eml);
    expect(p.headers.subject).toBe(subject);
    expect(p.headers.to).toBe('Jörg Müller <joerg@example.com>');
    expect(p.text).toBe(text);
    expect(p.html).toBe(html);
  });

  it('a long non-ASCII subject spans several encoded-words without splitting a character', () => {
    const subject = `Überweisung ${'€ Müller '.repeat(20)}`.trim();
    const eml = toEml({ ...base, subject, text: '', html: '' });
    const head = eml.split('\r\n\r\n')[0] as string;
    expect(count(head, '=?UTF-8?B?')).toBeGreaterThan(3);
    for (const l of head.split('\r\n')) expect(l.length).toBeLessThanOrEqual(78);
    expect(parseEml(eml).headers.subject).toBe(subject);
  });

  it('folds a long ASCII subject and unfolds it exactly', () => {
    const subject = `Approve: refund 12,500.00 EUR to ${'ACME GmbH '.repeat(18)}(C1001), level 1 of 2`;
    const eml = toEml({ ...base, subject, text: 'x', html: 'y' });
    const head = eml.split('\r\n\r\n')[0] as string;
    for (const l of head.split('\r\n')) expect(l.length).toBeLessThanOrEqual(78);
    expect(head).toMatch(/\r\n /);
    expect(parseEml(eml).headers.subject).toBe(subject);
  });

  it('header values cannot inject a header', () => {
    const eml = toEml({ ...base, subject: 'Hi\r\nBcc: victim@example.com', text: 'a', html: 'b' });
    expect(eml).not.toMatch(/^Bcc:/m);
    expect(parseEml(eml).headers.subject).toBe('Hi Bcc: victim@example.com');
    expect(parseEml(eml).headers.bcc).toBeUndefined();
  });

  it('an ASCII subject that looks like an encoded-word is encoded, so it reads back as typed', () => {
    const subject = 'Pay =?UTF-8?B?SGk=?= now';
    const eml = toEml({ ...base, subject, text: 'a', html: 'b' });
    expect(parseEml(eml).headers.subject).toBe(subject);
  });

  it('rejects an invalid date', () => {
    expect(() => toEml({ ...base, date: new Date('nope'), subject: 'a', text: 'a', html: 'b' })).toThrow();
  });
});

describe('quoted-printable', () => {
  it('soft-breaks long lines at 76 characters, never inside an escape', () => {
    for (const text of [
      'a'.repeat(200),
      'é'.repeat(100),
      `${'x'.repeat(73)}€${'y'.repeat(90)}`,
      '= '.repeat(80),
    ]) {
      const qp = encodeQuotedPrintable(text);
      for (const l of qp.split('\r\n')) {
        expect(l.length).toBeLessThanOrEqual(76);
        expect(l.replace(/=$/, '')).toMatch(/^(?:[^=]|=[0-9A-F]{2})*$/);
        expect(l).not.toMatch(/[ \t]$/);
      }
      expect(decodeQuotedPrintable(qp)).toBe(text);
    }
  });

  it('encodes =, non-ASCII as UTF-8 bytes, trailing whitespace and a leading dot', () => {
    expect(encodeQuotedPrintable('a=b')).toBe('a=3Db');
    expect(encodeQuotedPrintable('€')).toBe('=E2=82=AC');
    expect(encodeQuotedPrintable('end \nnext\t')).toBe('end=20\r\nnext=09');
    expect(encodeQuotedPrintable('.\n.x')).toBe('=2E\r\n=2Ex');
    expect(encodeQuotedPrintable('a\r\nb\rc')).toBe('a\r\nb\r\nc');
  });

  it('decodes lower-case escapes, drops transport whitespace and keeps a stray =', () => {
    expect(decodeQuotedPrintable('=c3=bc')).toBe('ü');
    expect(decodeQuotedPrintable('abc   \r\ndef')).toBe('abc\ndef');
    expect(decodeQuotedPrintable('soft=\r\nbreak')).toBe('softbreak');
    expect(decodeQuotedPrintable('a=zz')).toBe('a=zz');
  });
});

describe('Slack approval message', () => {
  const msg = approvalSlackMessage(approve);
  type Block = { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: Btn[] };
  type Btn = {
    type: string;
    action_id?: string;
    style?: string;
    value?: string;
    url?: string;
    text: { text: string };
    confirm?: {
      title: { text: string };
      text: { text: string };
      confirm: { text: string };
      deny: { text: string };
    };
  };
  const blocks = msg.blocks as Block[];
  const actions = blocks.find((b) => b.type === 'actions') as Block;
  const buttons = actions.elements as Btn[];

  it('ends with Approve and Reject carrying the token, and a link to the evidence', () => {
    expect(buttons).toHaveLength(3);
    const [ok, no, review] = buttons as [Btn, Btn, Btn];
    expect(ok).toMatchObject({
      type: 'button',
      action_id: 'transfer.approve',
      style: 'primary',
      value: TOKEN,
    });
    expect(ok.text.text).toBe('Approve');
    expect(no).toMatchObject({ type: 'button', action_id: 'transfer.reject', style: 'danger', value: TOKEN });
    expect(no.text.text).toBe('Reject');
    expect(review.url).toBe(URL_);
    expect(review.value).toBeUndefined();
    expect(review.text.text).toBe('Review evidence');
    expect(blocks.at(-1)).toBe(actions);
  });

  it('asks for confirmation before a rejection (and only then)', () => {
    const [ok, no] = buttons as [Btn, Btn];
    expect(ok.confirm).toBeUndefined();
    const c = no.confirm;
    expect(c).toBeDefined();
    expect(c?.title.text.length).toBeLessThanOrEqual(100);
    expect(c?.text.text.length).toBeLessThanOrEqual(300);
    expect(c?.confirm.text).toBe('Reject');
    expect(c?.deny.text).toBe('Cancel');
    expect(c?.text.text).toContain('&lt;script&gt;');
  });

  it('respects Block Kit limits', () => {
    expect(blocks.length).toBeLessThanOrEqual(50);
    const header = blocks[0] as Block;
    expect(header.type).toBe('header');
    expect(header.text?.text).toBe('12,500.00 EUR refund · C1001 · level 1 of 2');
    for (const b of blocks) {
      if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      if (b.fields) {
        expect(b.fields.length).toBeLessThanOrEqual(10);
        for (const f of b.fields) expect(f.text.length).toBeLessThanOrEqual(2000);
      }
    }
    const huge: Transfer = {
      ...transfer,
      request: { ...transfer.request, customerId: 'C'.repeat(200), reason: 'r'.repeat(5000) },
    };
    const big = approvalSlackMessage({ ...approve, transfer: huge }).blocks as Block[];
    expect(Array.from((big[0] as Block).text?.text ?? '').length).toBeLessThanOrEqual(150);
    for (const b of big)
      if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
  });

  it('mentions the approver by Slack id, and names the request with data escaped', () => {
    const section = (blocks[1] as Block).text?.text ?? '';
    expect(section).toContain('<@U024BE7LH>, your approval is requested');
    expect(section).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; "Co"');
    expect(section).toContain('12,500.00 EUR');
    const all = JSON.stringify(msg);
    expect(all).not.toContain('<script>');
    expect(all).not.toContain(EVIL);
    // The only raw `<` in mrkdwn is the trusted mention.
    const mrkdwn = blocks
      .flatMap((b) => [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)])
      .join('\n');
    expect(mrkdwn.replace('<@U024BE7LH>', '')).not.toMatch(/[<>]/);
    const noSlack = approvalSlackMessage({ ...approve, to: { id: 'fiona', name: 'Fiona <!channel>' } });
    const s2 = ((noSlack.blocks as Block[])[1] as Block).text?.text ?? '';
    expect(s2).toContain('*Fiona &lt;!channel&gt;*, your approval is requested');
    expect(s2).not.toContain('<@');
  });

  it('shows the gate flags and key exposure figures, and the expiry', () => {
    const fields = blocks.flatMap((b) => b.fields ?? []).map((f) => f.text);
    expect(fields).toContain(
      '*Gate flags*\n:warning: open alerts\n:warning: overdue balance\n:warning: new beneficiary',
    );
    expect(fields).toContain('*Exposure*\n18,000.00 EUR');
    expect(fields).toContain('*Headroom*\n32,000.00 EUR');
    expect(fields).toContain('*Overdue*\n3,000.00 EUR, oldest 75 days');
    expect(fields).toContain('*Rating*\nC, score 54, medium risk');
    const context = blocks.find((b) => b.type === 'context') as Block;
    expect(JSON.stringify(context)).toContain('Expires 2025-07-01 08:15 UTC');
  });

  it('a reminder says so', () => {
    const r = approvalSlackMessage(remind);
    expect(r.text).toMatch(/^Reminder 1: approval requested/);
    expect(((r.blocks as Block[])[1] as Block).text?.text).toContain('*Reminder 1:*');
    expect(((r.blocks as Block[])[1] as Block).text?.text).toContain('on behalf of *Erik Away*');
  });

  it('the fallback text has the request and escapes data', () => {
    expect(msg.text).toContain('12,500.00 EUR');
    expect(msg.text).not.toContain('<script>');
  });

  it('the decision update replaces the original message', () => {
    expect(slackDecisionUpdate('Approved by Fiona')).toEqual({
      replace_original: true,
      text: 'Approved by Fiona',
    });
  });
});

describe('the Slack message of a credit application and of an order release', () => {
  const blocksText = (m: { blocks: unknown[] }) => JSON.stringify(m.blocks);
  it('shows what the approver decides on, as the email does', () => {
    const application: Transfer = {
      ...transfer,
      request: { ...transfer.request, type: 'credit_application', amount: 24_000_000 },
      limitChange: { from: undefined, to: 24_000_000, reviewId: 'APP-NOVA-1' },
      application: {
        applicationId: 'APP-NOVA-1',
        requestedLimit: 30_000_000,
        score: 67,
        rating: 'B',
        riskClass: 'low',
        missing: ['no payment history (a new account)'],
        flags: ['1 closed legal dispute on record'],
        basis: ['capped at 10% of revenue 2,400,000.00 EUR (2025-12-31) = 240,000.00 EUR'],
      },
    };
    const m = blocksText(approvalSlackMessage({ ...approve, transfer: application }));
    for (const words of [
      '*Application:* APP-NOVA-1',
      '*Limit asked:* 300,000.00 EUR',
      '*Scorecard:* 67 of 100: rating B (low risk)',
      '*Missing:* no payment history (a new account)',
      '*For the approvers:* 1 closed legal dispute on record',
    ])
      expect(m).toContain(words);
    // Any other transfer's message has no such section.
    expect(blocksText(approvalSlackMessage(approve))).not.toContain('*Scorecard:*');
  });
});
