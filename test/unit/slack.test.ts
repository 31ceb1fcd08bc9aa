import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  escapeMrkdwn,
  type PostOptions,
  postToSlack,
  retryAfterMs,
  SEVERITY_EMOJI,
  type SlackPayload,
  SlackPostError,
  slackDigestMessage,
  slackMessage,
} from '../../functions/alerts/slack.ts';
import { type Alert, digestOf, type Notification, reconcile } from '../../functions/credit/alerts.ts';
import { SEVERITIES, type Severity } from '../../functions/credit/policy.ts';

const AS_OF = '2025-06-30';
const NOW = '2025-06-30T05:00:03.000Z';

/** A real alert, opened by the alert lifecycle from what the days-past-due rule reports. */
function openedAlert(severity: Severity = 'high', customerId = 'ACME-1'): Notification {
  const { notify } = reconcile(
    [],
    [
      {
        customerId,
        rule: 'daysPastDue',
        severity,
        action: 'hold_deliveries',
        asOf: AS_OF,
        policyId: 'default-2026.11+3f9a1c2e',
        evidence: { maxDaysPastDue: 75, overdueAmount: '12450.00', openInvoices: 4 },
        summary: 'an invoice is 75 days past due',
      },
    ],
    AS_OF,
    NOW,
  );
  const [n] = notify;
  if (!n) throw new Error('reconcile opened no alert');
  return n;
}

/** Every value in a JSON-able tree, to prove none is undefined (Slack refuses `null`s and drops undefined). */
function leaves(v: unknown, path = '$'): [string, unknown][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, `${path}[${i}]`));
  if (v !== null && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => leaves(x, `${path}.${k}`));
  return [[path, v]];
}

describe('slackDigestMessage', () => {
  it('counts by severity, lists the alerts one line each, escaped, and links the console', () => {
    const alerts = [openedAlert('critical', 'ACME-1'), openedAlert('warning', '<!channel> & co')].map(
      (n) => n.alert,
    );
    const d = digestOf(alerts, AS_OF);
    if (!d) throw new Error('no digest');
    const p = slackDigestMessage(d, 'http://127.0.0.1:8787/');
    expect(p.text).toBe('credit-sentinel 2025-06-30: 2 active alerts (1 critical, 0 high)');
    expect(p.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Credit alerts digest · 2025-06-30', emoji: true },
    });
    expect(p.blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '*2 active*   :rotating_light: 1 critical   :warning: 1 warning' },
    });
    const listed = p.blocks[2] as { text: { text: string } };
    expect(listed.text.text.split('\n')).toEqual([
      ':rotating_light: [critical] ACME-1 daysPastDue: an invoice is 75 days past due -&gt; hold deliveries (open since 2025-06-30)',
      // A customer id can never mention a channel or open a link.
      ':warning: [warning] &lt;!channel&gt; &amp; co daysPastDue: an invoice is 75 days past due -&gt; hold deliveries (open since 2025-06-30)',
    ]);
    expect(p.blocks.at(-1)).toEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open the alerts' },
          url: 'http://127.0.0.1:8787/alerts',
        },
      ],
    });
    expect(leaves(p).filter(([, v]) => v === undefined || v === null)).toEqual([]);
  });

  it('stays within Block Kit limits for a long digest: sections of at most 3,000 characters, at most 50 blocks', () => {
    const alerts = Array.from(
      { length: 200 },
      (_, i) => openedAlert('high', `CUSTOMER-${'X'.repeat(40)}-${i}`).alert,
    );
    const d = digestOf(alerts, AS_OF);
    if (!d) throw new Error('no digest');
    expect(d.alerts).toHaveLength(50);
    expect(d.more).toBe(150);
    const p = slackDigestMessage(d);
    expect(p.blocks.length).toBeLessThanOrEqual(50);
    const sections = p.blocks.filter((b) => b.type === 'section') as { text: { text: string } }[];
    for (const b of sections) expect(b.text.text.length).toBeLessThanOrEqual(3000);
    // Every listed alert is in exactly one section, in order.
    const lines = sections.slice(1).flatMap((b) => b.text.text.split('\n'));
    expect(lines).toHaveLength(50);
    expect(lines[0]).toContain('CUSTOMER-');
    expect(p.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '... and 150 more in the console' }],
    });
  });
});

describe('slackMessage', () => {
  it('builds header, summary, evidence fields and context for a realistic alert', () => {
    const payload = slackMessage(openedAlert(), AS_OF);
    expect(payload).toEqual({
      text: ':large_orange_circle: [high] ACME-1 daysPastDue: an invoice is 75 days past due',
      blocks: [
        {
          type: 'header',
          text: {
            type: 'plain_text',
            text: ':large_orange_circle: High · ACME-1 · Days past due',
            emoji: true,
          },
        },
        { type: 'section', text: { type: 'mrkdwn', text: 'an invoice is 75 days past due' } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Max days past due*\n75' },
            { type: 'mrkdwn', text: '*Overdue amount*\n12450.00' },
            { type: 'mrkdwn', text: '*Open invoices*\n4' },
          ],
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: 'Suggested action: *hold deliveries* · Policy `default-2026.11+3f9a1c2e` · As of 2025-06-30',
            },
          ],
        },
      ],
    });
  });

  it('has no undefined or null anywhere, and survives JSON unchanged', () => {
    for (const consoleUrl of [undefined, 'https://sentinel.example.com/']) {
      const payload = slackMessage(openedAlert(), AS_OF, consoleUrl);
      expect(leaves(payload).filter(([, v]) => v === undefined || v === null)).toEqual([]);
      expect(JSON.parse(JSON.stringify(payload))).toEqual(payload);
    }
  });

  it('shows one emoji per severity, in the header and the fallback text', () => {
    const emojis = SEVERITIES.map((s) => {
      const p = slackMessage(openedAlert(s), AS_OF);
      const header = p.blocks[0];
      expect(header?.type === 'header' && header.text.text.startsWith(`${SEVERITY_EMOJI[s]} `)).toBe(true);
      expect(p.text.startsWith(`${SEVERITY_EMOJI[s]} [${s}] `)).toBe(true);
      return SEVERITY_EMOJI[s];
    });
    expect(emojis).toEqual([
      ':information_source:',
      ':warning:',
      ':large_orange_circle:',
      ':rotating_light:',
    ]);
  });

  it('says when an alert escalated', () => {
    const n = openedAlert('critical');
    const p = slackMessage({ alert: n.alert, reason: 'escalated' }, AS_OF);
    expect(p.text).toContain('ACME-1 daysPastDue escalated:');
    expect(JSON.stringify(p.blocks[0])).toContain('Critical (escalated)');
    expect(p.blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'Escalated to *critical*: an invoice is 75 days past due' },
    });
  });

  it('escapes data in mrkdwn so it never pings a channel or forms a link', () => {
    const n = openedAlert('warning', 'Smith & Sons <!channel>');
    const p = slackMessage(n, AS_OF);
    expect(p.text).toContain('Smith &amp; Sons &lt;!channel&gt;');
    // mrkdwn is parsed by Slack; plain_text (the header) is shown as written, so it stays readable.
    const mrkdwnTexts = leaves(p)
      .filter(
        ([path]) =>
          path === '$.text' || path.endsWith('.text.text') || /\.(fields|elements)\[\d+\]\.text$/.test(path),
      )
      .filter(([path]) => !path.startsWith('$.blocks[0]'));
    expect(mrkdwnTexts.length).toBeGreaterThan(3);
    for (const [, text] of mrkdwnTexts) expect(String(text)).not.toMatch(/[<>]|&(?!amp;|lt;|gt;)/);
    expect(JSON.stringify(p.blocks[0])).toContain('Smith & Sons <!channel>');
    expect(escapeMrkdwn('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
  });

  it('adds a button to the customer in the console when a console URL is given', () => {
    const p = slackMessage(openedAlert('high', 'ACME 1/EU'), AS_OF, 'https://sentinel.example.com/');
    expect(p.blocks.at(-1)).toEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open the customer' },
          url: 'https://sentinel.example.com/customers/ACME%201%2FEU?asOf=2025-06-30',
        },
      ],
    });
  });

  it('keeps within Block Kit limits: 10 fields, header 150, section 3,000 characters', () => {
    const n = openedAlert();
    const evidence = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`figure${i}`, i]));
    const alert: Alert = { ...n.alert, customerId: 'C'.repeat(300), summary: 'x'.repeat(5000), evidence };
    const p = slackMessage({ alert, reason: 'opened' }, AS_OF);
    const [header, summary, fields] = p.blocks;
    expect(header?.type === 'header' && Array.from(header.text.text).length).toBe(150);
    expect(summary?.type === 'section' && 'text' in summary && summary.text.text.length).toBe(3000);
    expect(fields?.type === 'section' && 'fields' in fields && fields.fields.length).toBe(10);
    expect(p.text.length).toBeLessThanOrEqual(3000);
  });

  it('leaves the fields block out when an alert has no evidence', () => {
    const n = openedAlert();
    const p = slackMessage({ alert: { ...n.alert, evidence: {} }, reason: 'opened' }, AS_OF);
    expect(p.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
  });
});

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('0')).toBe(0);
    expect(retryAfterMs('Mon, 30 Jun 2025 05:00:30 GMT', Date.parse('2025-06-30T05:00:00Z'))).toBe(30_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

// ---- postToSlack against a real HTTP server on the loopback ----

interface Received {
  method: string | undefined;
  url: string | undefined;
  contentType: string | undefined;
  body: string;
}
type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

let server: Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (!s) return;
  s.closeAllConnections();
  await new Promise<void>((ok) => s.close(() => ok()));
});

/** A webhook stand-in: answers the n-th request (0-based) with `answer(n)` and records what it got. */
async function webhook(answer: (n: number) => Answer): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const n = received.length;
    received.push({
      method: req.method,
      url: req.url,
      contentType: req.headers['content-type'],
      body: Buffer.concat(chunks).toString('utf8'),
    });
    const a = answer(n);
    if (a === 'hang') return; // never answers
    res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
    res.end(a.body ?? (a.status === 200 ? 'ok' : 'error'));
  });
  await new Promise<void>((ok) => server?.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as AddressInfo;
  // Shaped like a real webhook: the path is the credential.
  return { url: `http://127.0.0.1:${port}/services/T0001/B0002/SeCrEtToKeN`, received };
}

const payload: SlackPayload = slackMessage(openedAlert(), AS_OF);
const FAST: PostOptions = { baseDelayMs: 10, maxDelayMs: 2000, timeoutMs: 2000 };

async function failure(p: Promise<unknown>): Promise<SlackPostError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(SlackPostError);
  const err = e as SlackPostError;
  // The webhook URL is a credential: no error ever names it.
  expect(err.message).not.toContain('SeCrEtToKeN');
  expect(err.message).not.toContain('/services/');
  return err;
}

describe('postToSlack', () => {
  it('posts the exact JSON payload once when Slack answers 200', async () => {
    const hook = await webhook(() => ({ status: 200 }));
    expect(await postToSlack(hook.url, payload, FAST)).toEqual({ attempts: 1 });
    expect(hook.received).toEqual([
      {
        method: 'POST',
        url: '/services/T0001/B0002/SeCrEtToKeN',
        contentType: 'application/json',
        body: JSON.stringify(payload),
      },
    ]);
    expect(JSON.parse(hook.received[0]?.body ?? '')).toEqual(payload);
  });

  it('waits what Retry-After says on 429, then succeeds', async () => {
    const hook = await webhook((n) =>
      n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' } : { status: 200 },
    );
    const started = performance.now();
    expect(await postToSlack(hook.url, payload, FAST)).toEqual({ attempts: 2 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(hook.received.map((r) => r.body)).toEqual([JSON.stringify(payload), JSON.stringify(payload)]);
  });

  it('retries a 500 with backoff, then succeeds', async () => {
    const hook = await webhook((n) => (n === 0 ? { status: 500 } : { status: 200 }));
    expect(await postToSlack(hook.url, payload, FAST)).toEqual({ attempts: 2 });
    expect(hook.received).toHaveLength(2);
  });

  it('throws after the last attempt when Slack keeps failing, having tried retries + 1 times', async () => {
    const hook = await webhook(() => ({ status: 503, body: 'service unavailable' }));
    const err = await failure(postToSlack(hook.url, payload, { ...FAST, retries: 3 }));
    expect(err.message).toBe('Slack answered 503: service unavailable (gave up after 4 attempts)');
    expect(err.status).toBe(503);
    expect(err.attempts).toBe(4);
    expect(hook.received).toHaveLength(4);
    expect(new Set(hook.received.map((r) => r.body))).toEqual(new Set([JSON.stringify(payload)]));
  });

  it('gives up on a request that gets no answer within the timeout, after each attempt times out', async () => {
    const hook = await webhook(() => 'hang');
    const started = performance.now();
    const err = await failure(postToSlack(hook.url, payload, { ...FAST, timeoutMs: 200, retries: 1 }));
    expect(err.message).toBe('no answer from Slack within 200 ms (gave up after 2 attempts)');
    expect(err.status).toBeUndefined();
    expect(hook.received).toHaveLength(2);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('does not retry what Slack refuses for good (a revoked webhook)', async () => {
    const hook = await webhook(() => ({ status: 404, body: 'no_service' }));
    const err = await failure(postToSlack(hook.url, payload, FAST));
    expect(err.message).toBe('Slack refused the message with 404: no_service');
    expect(err.attempts).toBe(1);
    expect(hook.received).toHaveLength(1);
  });

  it('fails at once when Retry-After asks for longer than it may wait (the queue retries later)', async () => {
    const hook = await webhook(() => ({ status: 429, headers: { 'retry-after': '120' } }));
    const err = await failure(postToSlack(hook.url, payload, FAST));
    expect(err.message).toMatch(/^Slack is rate limiting: retry after 120 s/);
    expect(err.status).toBe(429);
    expect(hook.received).toHaveLength(1);
  });

  it('reports an unreachable Slack and an invalid URL without naming the URL', async () => {
    const hook = await webhook(() => ({ status: 200 }));
    const closed = hook.url;
    const s = server;
    server = undefined;
    await new Promise<void>((ok) => s?.close(() => ok()));
    const err = await failure(postToSlack(closed, payload, { ...FAST, retries: 1 }));
    expect(err.message).toBe('could not reach Slack (ECONNREFUSED) (gave up after 2 attempts)');
    const bad = await failure(postToSlack('hooks.slack.com/services/SeCrEtToKeN', payload, FAST));
    expect(bad.message).toBe('the Slack webhook URL is not a valid URL');
  });
});
