import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSlackInteraction, verifySlackRequest } from '../../functions/transfers/slack-verify.ts';

// Slack's documented example (https://api.slack.com/authentication/verifying-requests-from-slack).
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TS = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIG = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const AT = (offsetSeconds: number) => new Date((Number(TS) + offsetSeconds) * 1000);

const example = {
  signingSecret: SECRET,
  timestamp: TS,
  signature: SIG,
  rawBody: BODY,
  now: AT(0),
};

describe('verifySlackRequest', () => {
  it("accepts Slack's documented example", () => {
    expect(verifySlackRequest(example)).toEqual({ ok: true });
  });

  it('refuses a tampered body', () => {
    expect(verifySlackRequest({ ...example, rawBody: BODY.replace('roadrunner', 'coyote') })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifySlackRequest({ ...example, rawBody: `${BODY}&x=1` })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses a wrong secret, and an empty one', () => {
    expect(verifySlackRequest({ ...example, signingSecret: `${SECRET}x` })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    const empty = `v0=${createHmac('sha256', '').update(`v0:${TS}:${BODY}`).digest('hex')}`;
    expect(verifySlackRequest({ ...example, signingSecret: '', signature: empty })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses the signature of another timestamp (the timestamp is signed)', () => {
    expect(verifySlackRequest({ ...example, timestamp: String(Number(TS) + 1), now: AT(1) })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses missing headers', () => {
    expect(verifySlackRequest({ ...example, timestamp: undefined })).toEqual({
      ok: false,
      reason: 'missing-headers',
    });
    expect(verifySlackRequest({ ...example, signature: undefined })).toEqual({
      ok: false,
      reason: 'missing-headers',
    });
    expect(verifySlackRequest({ ...example, timestamp: '', signature: '' })).toEqual({
      ok: false,
      reason: 'missing-headers',
    });
  });

  it('refuses a timestamp more than 300 s away either way, accepts one within', () => {
    expect(verifySlackRequest({ ...example, now: AT(301) })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
    expect(verifySlackRequest({ ...example, now: AT(-301) })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
    expect(verifySlackRequest({ ...example, now: AT(299) })).toEqual({ ok: true });
    expect(verifySlackRequest({ ...example, now: AT(-299) })).toEqual({ ok: true });
    expect(verifySlackRequest({ ...example, now: AT(300) })).toEqual({ ok: true });
  });

  it('honours another tolerance', () => {
    expect(verifySlackRequest({ ...example, now: AT(61), toleranceSeconds: 60 })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
    expect(verifySlackRequest({ ...example, now: AT(59), toleranceSeconds: 60 })).toEqual({ ok: true });
  });

  it('a stale timestamp fails even with a valid signature for it (a replay)', () => {
    const old = String(Number(TS) - 3600);
    const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${old}:${BODY}`).digest('hex')}`;
    expect(verifySlackRequest({ ...example, timestamp: old, signature: sig })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
  });

  it('refuses a timestamp that is not an integer', () => {
    for (const timestamp of ['1531420618.5', '-1531420618', ' 1531420618', '1e9', 'abc', '0x5B4773CA'])
      expect(verifySlackRequest({ ...example, timestamp })).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  it('a signature of another length or form is bad-signature, without throwing', () => {
    for (const signature of [
      'v0=abc',
      `${SIG}00`,
      SIG.slice(0, -1),
      SIG.replace('v0=', 'v1='),
      SIG.toUpperCase(),
      `v0=${'é'.repeat(64)}`,
      'x',
    ])
      expect(() => verifySlackRequest({ ...example, signature })).not.toThrow();
    for (const signature of ['v0=abc', `${SIG}00`, SIG.replace('v0=', 'v1='), `v0=${'é'.repeat(64)}`])
      expect(verifySlackRequest({ ...example, signature })).toEqual({ ok: false, reason: 'bad-signature' });
  });
});

describe('parseSlackInteraction', () => {
  const payload = (p: unknown) => `payload=${encodeURIComponent(JSON.stringify(p))}`;
  const good = {
    type: 'block_actions',
    user: { id: 'U024BE7LH', username: 'fiona' },
    response_url: 'https://hooks.slack.com/actions/T1DC2JH3J/1234567890/abcdef',
    actions: [
      { action_id: 'transfer.approve', block_id: 'transfer.decision', value: 'tok.sig', type: 'button' },
    ],
  };

  it('reads a well-formed Approve and Reject', () => {
    expect(parseSlackInteraction(payload(good))).toEqual({
      userId: 'U024BE7LH',
      actionId: 'transfer.approve',
      value: 'tok.sig',
      responseUrl: 'https://hooks.slack.com/actions/T1DC2JH3J/1234567890/abcdef',
    });
    const reject = { ...good, actions: [{ ...good.actions[0], action_id: 'transfer.reject' }] };
    expect(parseSlackInteraction(payload(reject))?.actionId).toBe('transfer.reject');
  });

  it('reads the form with + for spaces and other fields around the payload', () => {
    const body = `foo=bar&${payload({ ...good, user: { id: 'U1ABC', name: 'a b' } }).replace(/%20/g, '+')}&x=y`;
    expect(parseSlackInteraction(body)?.userId).toBe('U1ABC');
  });

  it('leaves out a response_url that is not an https Slack hook', () => {
    for (const response_url of [
      'http://hooks.slack.com/actions/x',
      'https://evil.example/actions/x',
      'https://hooks.slack.com.evil.example/x',
      'https://user:pw@hooks.slack.com/x',
      'not a url',
      42,
    ]) {
      const r = parseSlackInteraction(payload({ ...good, response_url }));
      expect(r).toBeDefined();
      expect(r?.responseUrl).toBeUndefined();
    }
    const { response_url: _, ...without } = good;
    expect(parseSlackInteraction(payload(without))).toEqual({
      userId: 'U024BE7LH',
      actionId: 'transfer.approve',
      value: 'tok.sig',
    });
  });

  it('refuses malformed bodies and foreign actions', () => {
    const cases: string[] = [
      '',
      'payload=',
      'payload=%7Bnot%20json',
      'token=abc&user_id=U1',
      payload(null),
      payload([good]),
      payload('block_actions'),
      payload({ ...good, type: 'view_submission' }),
      payload({ ...good, type: undefined }),
      payload({ ...good, user: undefined }),
      payload({ ...good, user: { id: 42 } }),
      payload({ ...good, user: { id: '' } }),
      payload({ ...good, actions: [] }),
      payload({ ...good, actions: 'transfer.approve' }),
      payload({ ...good, actions: [null] }),
      payload({ ...good, actions: [{ action_id: 'transfer.delete', value: 'tok.sig' }] }),
      payload({ ...good, actions: [{ action_id: 'transfer.evidence', value: 'tok.sig' }] }),
      payload({ ...good, actions: [{ action_id: 'transfer.approve' }] }),
      payload({ ...good, actions: [{ action_id: 'transfer.approve', value: '' }] }),
      payload({ ...good, actions: [{ action_id: 'transfer.approve', value: 7 }] }),
    ];
    for (const body of cases) expect(parseSlackInteraction(body), body).toBeUndefined();
  });
});
