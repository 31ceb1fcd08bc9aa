import { createHmac, timingSafeEqual } from 'node:crypto';

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

function mac(key: LinkKey, payload: string): Buffer {
  return createHmac('sha256', key.secret).update(payload).digest();
}

/** Signs claims with the current key: the first of `keys`. */
export function signLink(claims: LinkClaims, keys: readonly LinkKey[]): string {
  const key = keys[0];
  if (!key) throw new Error('no link signing key');
  if (key.secret.length < 32) throw new Error('a link signing key needs at least 32 bytes');
  const payload = b64(
    JSON.stringify({
      t: claims.transferId,
      a: claims.approvalId,
      p: claims.approver,
      e: claims.exp,
      k: key.id,
    }),
  );
  return `${payload}.${b64(mac(key, payload))}`;
}

/**
 * Checks a link token: well formed, signed by one of `keys` (in constant time), not expired at
 * `now`. Says which of the three failed; never which part of a signature was wrong.
 */
export function verifyLink(token: string, keys: readonly LinkKey[], now: Date): LinkCheck {
  const parts = token.split('.');
  if (parts.length !== 2 || !/^[\w-]+$/.test(parts[0] as string) || !/^[\w-]+$/.test(parts[1] as string))
    return { ok: false, reason: 'malformed' };
  const [payload, signature] = parts as [string, string];
  let body: { t?: unknown; a?: unknown; p?: unknown; e?: unknown; k?: unknown };
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (
    typeof body !== 'object' ||
    body === null ||
    typeof body.t !== 'string' ||
    typeof body.a !== 'string' ||
    typeof body.p !== 'string' ||
    typeof body.k !== 'string' ||
    typeof body.e !== 'number' ||
    !Number.isSafeInteger(body.e)
  )
    return { ok: false, reason: 'malformed' };
  const key = keys.find((k) => k.id === body.k);
  const given = Buffer.from(signature, 'base64url');
  const expected = key ? mac(key, payload) : undefined;
  // Only the one spelling of the signature: a base64url text whose last character differs in its
  // unused bits decodes to the same bytes, and an edited token is refused, however it was edited.
  const canonical = b64(given) === signature;
  if (!expected || !canonical || given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad-signature' };
  if (now.getTime() >= body.e * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { transferId: body.t, approvalId: body.a, approver: body.p, exp: body.e } };
}
