import { createHmac, timingSafeEqual } from 'node:crypto';
import { addDays, type IsoDate } from '../core/dates.ts';

/**
 * Approval links: `<payload>.<signature>`, both base64url. The payload names the approval id, the
 * approver and an expiry; the signature is HMAC-SHA256 over the payload text with a key kept in
 * Secrets Manager (locally, in the data dir). The task token of the workflow is never in a link:
 * it stays in the table under the approval id.
 */
export interface LinkClaims {
  /** The transfer the approval belongs to (its partition in the store). */
  readonly transferId: string;
  /** The random id the workflow's task token is stored under. */
  readonly approvalId: string;
  /** The approver the link was sent to. */
  readonly approver: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
}

/** A signing key with its id, so keys can rotate: links signed with the previous key keep working. */
export interface LinkKey {
  readonly id: string;
  /** At least 32 bytes. */
  readonly secret: Uint8Array;
}

export type LinkCheck =
  | { readonly ok: true; readonly claims: LinkClaims }
  | { readonly ok: false; readonly reason: 'malformed' | 'bad-signature' | 'expired' };

const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');

function mac(secret: Uint8Array, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

/**
 * What a key signs for: approval links with the key itself (as since the first link), customer
 * portal links with a key derived from it for that purpose alone, so a token made for one can
 * never pass as the other however its payload is shaped (README "Collections").
 */
type Purpose = 'approval' | 'portal';

const derived = new WeakMap<Uint8Array, Uint8Array>();
function secretFor(key: LinkKey, purpose: Purpose): Uint8Array {
  if (purpose === 'approval') return key.secret;
  let s = derived.get(key.secret);
  if (!s) {
    s = createHmac('sha256', key.secret).update('credit-sentinel/portal-link/v1').digest();
    derived.set(key.secret, s);
  }
  return s;
}

function seal(body: Record<string, string | number>, keys: readonly LinkKey[], purpose: Purpose): string {
  const key = keys[0];
  if (!key) throw new Error('no link signing key');
  if (key.secret.length < 32) throw new Error('a link signing key needs at least 32 bytes');
  const payload = b64(JSON.stringify({ ...body, k: key.id }));
  return `${payload}.${b64(mac(secretFor(key, purpose), payload))}`;
}

type Opened =
  | { readonly ok: true; readonly body: Record<string, unknown>; readonly exp: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'bad-signature' | 'expired' };

/**
 * A token's payload once it is well formed, signed by one of `keys` for `purpose` (in constant
 * time) and not expired at `now`; or which of the three failed, never which part of a signature.
 */
function unseal(token: string, keys: readonly LinkKey[], now: Date, purpose: Purpose): Opened {
  const parts = token.split('.');
  if (parts.length !== 2 || !/^[\w-]+$/.test(parts[0] as string) || !/^[\w-]+$/.test(parts[1] as string))
    return { ok: false, reason: 'malformed' };
  const [payload, signature] = parts as [string, string];
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, reason: 'malformed' };
  const b = body as Record<string, unknown>;
  if (typeof b.k !== 'string' || typeof b.e !== 'number' || !Number.isSafeInteger(b.e))
    return { ok: false, reason: 'malformed' };
  const key = keys.find((k) => k.id === b.k);
  const given = Buffer.from(signature, 'base64url');
  const expected = key ? mac(secretFor(key, purpose), payload) : undefined;
  // Only the one spelling of the signature: a base64url text whose last character differs in its
  // unused bits decodes to the same bytes, and an edited token is refused, however it was edited.
  const canonical = b64(given) === signature;
  if (!expected || !canonical || given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad-signature' };
  if (now.getTime() >= b.e * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, body: b, exp: b.e };
}

/** Signs claims with the current key: the first of `keys`. */
export function signLink(claims: LinkClaims, keys: readonly LinkKey[]): string {
  return seal(
    { t: claims.transferId, a: claims.approvalId, p: claims.approver, e: claims.exp },
    keys,
    'approval',
  );
}

/**
 * Checks a link token: well formed, signed by one of `keys` (in constant time), not expired at
 * `now`. Says which of the three failed; never which part of a signature was wrong.
 */
export function verifyLink(token: string, keys: readonly LinkKey[], now: Date): LinkCheck {
  const o = unseal(token, keys, now, 'approval');
  if (!o.ok) return o;
  const { t, a, p } = o.body;
  if (typeof t !== 'string' || typeof a !== 'string' || typeof p !== 'string')
    return { ok: false, reason: 'malformed' };
  return { ok: true, claims: { transferId: t, approvalId: a, approver: p, exp: o.exp } };
}

/**
 * A customer portal link (README "Collections"): the reminder it came in, for one customer, until
 * `exp`. The reminder is `<day>#<level>`, the step the collections run took: one link per reminder.
 */
export interface PortalClaims {
  readonly customerId: string;
  readonly reminder: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
}

export type PortalCheck =
  | { readonly ok: true; readonly claims: PortalClaims }
  | { readonly ok: false; readonly reason: 'malformed' | 'bad-signature' | 'expired' };

/** Signs a portal link with the current key, for the portal only (an approval link check refuses it). */
export function signPortalLink(claims: PortalClaims, keys: readonly LinkKey[]): string {
  return seal({ c: claims.customerId, r: claims.reminder, e: claims.exp }, keys, 'portal');
}

/** Checks a portal link as `verifyLink` checks an approval link. */
export function verifyPortalLink(token: string, keys: readonly LinkKey[], now: Date): PortalCheck {
  const o = unseal(token, keys, now, 'portal');
  if (!o.ok) return o;
  const { c, r } = o.body;
  if (typeof c !== 'string' || typeof r !== 'string' || c === '' || r === '')
    return { ok: false, reason: 'malformed' };
  return { ok: true, claims: { customerId: c, reminder: r, exp: o.exp } };
}

/** The link a reminder carries: `<baseUrl>/portal/<token>`, working until the end of `on + linkDays` (UTC). */
export function portalUrl(
  baseUrl: string,
  keys: readonly LinkKey[],
  customerId: string,
  reminder: { readonly on: IsoDate; readonly level: string },
  linkDays: number,
): string {
  const exp = Date.parse(`${addDays(reminder.on, linkDays + 1)}T00:00:00Z`) / 1000;
  const token = signPortalLink({ customerId, reminder: `${reminder.on}#${reminder.level}`, exp }, keys);
  return `${baseUrl.replace(/\/+$/, '')}/portal/${token}`;
}
