import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type LinkKey,
  portalUrl,
  signLink,
  signPortalLink,
  verifyLink,
  verifyPortalLink,
} from '../../functions/transfers/links.ts';

const K1: LinkKey = { id: 'k1', secret: randomBytes(32) };
const K2: LinkKey = { id: 'k2', secret: randomBytes(32) };
const NOW = new Date('2026-11-23T10:00:00Z');
const EXP = NOW.getTime() / 1000 + 3600;
const claims = { transferId: 'TR-01', approvalId: 'ap_3f9a1c2e', approver: 'fiona', exp: EXP };

describe('approval links', () => {
  it('round-trips the claims and carries no more than them', () => {
    const token = signLink(claims, [K1]);
    expect(verifyLink(token, [K1], NOW)).toEqual({ ok: true, claims });
    const payload = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString());
    expect(payload).toEqual({ t: 'TR-01', a: 'ap_3f9a1c2e', p: 'fiona', e: EXP, k: 'k1' });
    // URL-safe as it is.
    expect(encodeURIComponent(token)).toBe(token);
  });

  it('is HMAC-SHA256 over the payload text', () => {
    const token = signLink(claims, [K1]);
    const [payload, sig] = token.split('.') as [string, string];
    expect(sig).toBe(createHmac('sha256', K1.secret).update(payload).digest('base64url'));
  });

  it('refuses a tampered payload, a tampered signature, another key and garbage', () => {
    const token = signLink(claims, [K1]);
    const [payload, sig] = token.split('.') as [string, string];
    const forged = Buffer.from(
      JSON.stringify({ t: 'TR-01', a: 'ap_3f9a1c2e', p: 'mallory', e: EXP, k: 'k1' }),
    ).toString('base64url');
    expect(verifyLink(`${forged}.${sig}`, [K1], NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    const flipped = `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(verifyLink(`${payload}.${flipped}`, [K1], NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyLink(token, [K2], NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyLink(`${payload}.${sig.slice(0, 10)}`, [K1], NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    for (const bad of ['', 'abc', 'a.b.c', `${payload}.`, `not base64!.${sig}`, `${b64('[]')}.${sig}`])
      expect(verifyLink(bad, [K1], NOW), bad).toMatchObject({ ok: false });
    expect(verifyLink(`${b64('{"a":1}')}.${sig}`, [K1], NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses every other spelling of the same signature and payload (the unused bits of the last character)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let tried = 0;
    for (let i = 0; i < 20; i++) {
      const token = signLink({ ...claims, approvalId: `ap_${i}` }, [K1]);
      const [payload, sig] = token.split('.') as [string, string];
      for (const [part, edit] of [
        [sig, (x: string) => `${payload}.${x}`],
        [payload, (x: string) => `${x}.${sig}`],
      ] as const) {
        const same = [...alphabet]
          .map((c) => `${part.slice(0, -1)}${c}`)
          .filter((x) => x !== part && Buffer.from(x, 'base64url').equals(Buffer.from(part, 'base64url')));
        for (const x of same) {
          tried++;
          expect(verifyLink(edit(x), [K1], NOW), x).toMatchObject({ ok: false });
        }
      }
      expect(verifyLink(token, [K1], NOW).ok).toBe(true);
    }
    // A 32-byte HMAC in 43 characters leaves 2 unused bits: 3 other spellings of each signature.
    expect(tried).toBeGreaterThanOrEqual(60);
  });

  it('expires at exp, not a second later', () => {
    const token = signLink(claims, [K1]);
    expect(verifyLink(token, [K1], new Date(EXP * 1000 - 1))).toMatchObject({ ok: true });
    expect(verifyLink(token, [K1], new Date(EXP * 1000))).toEqual({ ok: false, reason: 'expired' });
  });

  it('keeps links signed with the previous key working after a rotation', () => {
    const old = signLink(claims, [K1]);
    const rotated = [K2, K1];
    expect(verifyLink(old, rotated, NOW)).toMatchObject({ ok: true });
    expect(verifyLink(signLink(claims, rotated), [K2], NOW)).toMatchObject({ ok: true });
    // Once the old key is dropped, its links die.
    expect(verifyLink(old, [K2], NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses to sign with a short key', () => {
    expect(() => signLink(claims, [{ id: 'short', secret: randomBytes(16) }])).toThrow(/32 bytes/);
    expect(() => signLink(claims, [])).toThrow(/no link signing key/);
  });
});

function b64(s: string): string {
  return Buffer.from(s).toString('base64url');
}

describe('customer portal links', () => {
  const portal = { customerId: 'C1002', reminder: '2026-11-23#friendly', exp: EXP };

  it('round-trip their claims, and neither kind passes for the other under the same key', () => {
    const token = signPortalLink(portal, [K1]);
    expect(verifyPortalLink(token, [K1], NOW)).toEqual({ ok: true, claims: portal });
    // The same key signs both, for its own purpose: a portal token is no approval link ...
    expect(verifyLink(token, [K1], NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    // ... and an approval link opens no portal page, whatever its payload would read as.
    expect(verifyPortalLink(signLink(claims, [K1]), [K1], NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    // Its signature is not the plain key's HMAC of the payload (the approval links' rule).
    const [payload, sig] = token.split('.') as [string, string];
    expect(sig).not.toBe(createHmac('sha256', K1.secret).update(payload).digest('base64url'));
  });

  it('refuse another customer in a payload signed for one, an old key dropped, and expiry', () => {
    const token = signPortalLink(portal, [K1]);
    const [payload, sig] = token.split('.') as [string, string];
    const other = Buffer.from(
      Buffer.from(payload, 'base64url').toString().replace('C1002', 'C1003'),
    ).toString('base64url');
    expect(verifyPortalLink(`${other}.${sig}`, [K1], NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    // Rotation: signed with k1, checked with [k2, k1] passes; with k2 alone it does not.
    expect(verifyPortalLink(token, [K2, K1], NOW).ok).toBe(true);
    expect(verifyPortalLink(token, [K2], NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyPortalLink(token, [K1], new Date(EXP * 1000))).toEqual({ ok: false, reason: 'expired' });
  });

  it("a reminder's link works to the end of its day plus the plan's days (UTC), and names the reminder", () => {
    const url = portalUrl(
      'https://portal.example.com/',
      [K1],
      'C1002',
      { on: '2026-11-23', level: 'firm' },
      30,
    );
    expect(url.startsWith('https://portal.example.com/portal/')).toBe(true);
    const token = url.slice(url.lastIndexOf('/') + 1);
    const lastSecond = new Date('2026-12-23T23:59:59Z');
    expect(verifyPortalLink(token, [K1], lastSecond)).toEqual({
      ok: true,
      claims: {
        customerId: 'C1002',
        reminder: '2026-11-23#firm',
        exp: Date.parse('2026-12-24T00:00:00Z') / 1000,
      },
    });
    expect(verifyPortalLink(token, [K1], new Date('2026-12-24T00:00:00Z'))).toEqual({
      ok: false,
      reason: 'expired',
    });
    // The same reminder signs to the same link: a retried run sends the same email.
    expect(
      portalUrl('https://portal.example.com', [K1], 'C1002', { on: '2026-11-23', level: 'firm' }, 30),
    ).toBe(url);
  });
});
