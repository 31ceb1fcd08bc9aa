import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './canonical.ts';

/**
 * A tamper-evident trail (DOMAIN "Traceability"): every record holds the SHA-256 of the one
 * before, and its own hash covers everything it says, so changing, removing or reordering any
 * record breaks every hash after it. The first record points at GENESIS.
 */
export interface AuditRecord {
  /** 1, 2, 3, ... with no gap. */
  readonly seq: number;
  /** ISO instant. */
  readonly at: string;
  /** What happened: `transfer.requested`, `gate.evaluated`, `approval.decided`, ... */
  readonly kind: string;
  /** What it happened to (a transfer id). */
  readonly subject: string;
  /** Who did it: a person's id, or `system`. */
  readonly actor: string;
  /** The facts, including the evidence a person saw when deciding. */
  readonly data: unknown;
  readonly prevHash: string;
  /** The id of the key whose HMAC `hash` is; absent on records written before keyed hashing (plain SHA-256). */
  readonly keyId?: string;
  readonly hash: string;
}

/** An HMAC key kept apart from the store (a key file locally, Secrets Manager on AWS). */
export interface AuditKey {
  readonly id: string;
  readonly secret: Uint8Array;
}

export type AuditEvent = Pick<AuditRecord, 'at' | 'kind' | 'subject' | 'actor' | 'data'>;

export const GENESIS = '0'.repeat(64);

/**
 * The hash of a record over the canonical JSON of every field but `hash`: HMAC-SHA256 under `key`
 * for a keyed record (its `keyId` is covered too), plain SHA-256 for a record written before keyed
 * hashing. Without the key nobody can make a keyed record, or recompute one after an edit.
 */
export function auditHash(r: Omit<AuditRecord, 'hash'>, key?: AuditKey): string {
  const { seq, at, kind, subject, actor, data, prevHash, keyId } = r;
  if (keyId === undefined)
    return createHash('sha256')
      .update(canonicalJson({ seq, at, kind, subject, actor, data, prevHash }))
      .digest('hex');
  if (!key || key.id !== keyId) throw new Error(`audit key ${keyId} is not at hand`);
  return createHmac('sha256', key.secret)
    .update(canonicalJson({ seq, at, kind, subject, actor, data, prevHash, keyId }))
    .digest('hex');
}

/** The record that follows `prev` (undefined: the first of the trail). */
export function nextRecord(prev: AuditRecord | undefined, e: AuditEvent, key?: AuditKey): AuditRecord {
  const body = {
    seq: (prev?.seq ?? 0) + 1,
    at: e.at,
    kind: e.kind,
    subject: e.subject,
    actor: e.actor,
    // Stored as it hashes: a value JSON cannot carry (undefined, a Date) would verify differently later.
    data: JSON.parse(JSON.stringify(e.data ?? null)) as unknown,
    prevHash: prev?.hash ?? GENESIS,
    ...(key ? { keyId: key.id } : {}),
  };
  return { ...body, hash: auditHash(body, key) };
}

export type Verification =
  | { readonly ok: true; readonly records: number; readonly head: string }
  | { readonly ok: false; readonly seq: number; readonly reason: string };

/**
 * Checks a trail read in sequence order: numbering, links and hashes. Names the first record
 * that does not hold and why. The chain alone cannot see its last records cut off: given the head
 * the store keeps apart (the last record's seq and hash), it checks the trail ends there, or one
 * record after it (a writer stopped between writing a record and moving the head).
 */
export function verifyTrail(
  records: readonly AuditRecord[],
  head?: { readonly seq: number; readonly hash: string },
): Verification {
  let prevHash = GENESIS;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as AuditRecord;
    const expected = i + 1;
    if (r.seq !== expected)
      return {
        ok: false,
        seq: expected,
        reason: `record ${expected} is missing (found ${r.seq} in its place)`,
      };
    if (r.prevHash !== prevHash)
      return {
        ok: false,
        seq: r.seq,
        reason: `record ${r.seq} does not follow record ${r.seq - 1} (its previous hash differs)`,
      };
    if (r.keyId !== undefined)
      return {
        ok: false,
        seq: r.seq,
        reason: `record ${r.seq} is keyed: verify the trail with its key (verifyAudit)`,
      };
    if (auditHash(r) !== r.hash)
      return {
        ok: false,
        seq: r.seq,
        reason: `record ${r.seq} was changed after it was written (its hash differs)`,
      };
    prevHash = r.hash;
  }
  // The head is moved after its record is written: a writer that stopped between the two leaves
  // it one record behind, which the chain itself still vouches for. Anything else is a break.
  const lagging =
    head !== undefined &&
    head.seq < records.length &&
    head.seq >= records.length - 1 &&
    records[head.seq - 1]?.hash === head.hash;
  if (head && !lagging && (head.seq !== records.length || head.hash !== prevHash))
    return head.seq > records.length
      ? {
          ok: false,
          seq: records.length + 1,
          reason: `records ${records.length + 1} to ${head.seq} are missing: the trail ends before its recorded head`,
        }
      : { ok: false, seq: head.seq, reason: `record ${head.seq} is not the recorded head` };
  return { ok: true, records: records.length, head: prevHash };
}

/** A copy of the head kept where the store's writers cannot rewrite it, signed with the audit key. */
export interface AuditAnchor {
  /** ISO instant it was taken. */
  readonly at: string;
  readonly seq: number;
  readonly hash: string;
  readonly keyId: string;
  /** HMAC-SHA256 of `anchorText` under the key `keyId`. */
  readonly mac: string;
}

const anchorText = (a: Omit<AuditAnchor, 'mac'>) => `audit-anchor|${a.at}|${a.seq}|${a.hash}|${a.keyId}`;

/** Signs the head `{seq, hash}` as an anchor taken at `at`. */
export function makeAnchor(at: string, head: { seq: number; hash: string }, key: AuditKey): AuditAnchor {
  const body = { at, seq: head.seq, hash: head.hash, keyId: key.id };
  return { ...body, mac: createHmac('sha256', key.secret).update(anchorText(body)).digest('hex') };
}

/** One anchor a line: `at seq hash keyId mac`, tab-separated (the local anchor file). */
export const formatAnchor = (a: AuditAnchor): string => [a.at, a.seq, a.hash, a.keyId, a.mac].join('\t');

/** The anchors of an anchor file, and the lines that are not anchors (named by line number). */
export function parseAnchors(text: string): { anchors: AuditAnchor[]; bad: number[] } {
  const anchors: AuditAnchor[] = [];
  const bad: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const [at, seq, hash, keyId, mac, ...more] = line.split('\t');
    const n = Number(seq);
    if (!at || !hash || !keyId || !mac || more.length || !Number.isInteger(n) || n < 1) bad.push(i + 1);
    else anchors.push({ at, seq: n, hash, keyId, mac });
  });
  return { anchors, bad };
}

const sameHex = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

export interface AuditCheck {
  /** Every finding, one sentence each; none: the trail holds. */
  readonly findings: readonly string[];
  readonly records: number;
  /** Records written before keyed hashing (a prefix of the trail, chained into the first keyed one). */
  readonly unkeyed: number;
  readonly keyIds: readonly string[];
  readonly head?: { readonly seq: number; readonly hash: string };
  /** The latest anchor checked, if any. */
  readonly anchor?: AuditAnchor;
  readonly anchors: number;
}

/**
 * Proves a trail read in sequence order against the key(s), the head and the anchors kept apart:
 * - every keyed record's HMAC under its key (a record forged, edited or re-chained without the key
 *   fails); records without a key id only as a prefix written before keyed hashing (an unkeyed
 *   record after a keyed one is a forgery);
 * - the head is mandatory: a trail with records and no head fails; the trail ends at the head or
 *   one record after it (a writer stopped between the record and the head);
 * - every anchor's own HMAC, and that the trail still holds the anchored record with that hash (a
 *   trail cut back below an anchor, or rewritten before it, fails).
 */
export function verifyAudit(input: {
  readonly records: readonly AuditRecord[];
  readonly head: { readonly seq: number; readonly hash: string } | undefined;
  readonly keys: readonly AuditKey[];
  readonly anchors?: readonly AuditAnchor[];
}): AuditCheck {
  const { records, head, keys } = input;
  const anchors = input.anchors ?? [];
  const keyOf = new Map(keys.map((k) => [k.id, k]));
  const findings: string[] = [];
  const keyIds = new Set<string>();
  let unkeyed = 0;
  let keyedSeen = false;
  let prevHash = GENESIS;
  for (let i = 0; i < records.length && findings.length === 0; i++) {
    const r = records[i] as AuditRecord;
    const expected = i + 1;
    if (r.seq !== expected) {
      findings.push(`Record ${expected} is missing (record ${r.seq} is in its place).`);
      break;
    }
    if (r.prevHash !== prevHash) {
      findings.push(`Record ${r.seq} does not follow record ${r.seq - 1} (its previous hash differs).`);
      break;
    }
    if (r.keyId === undefined) {
      if (keyedSeen) {
        findings.push(
          `Record ${r.seq} is not keyed although records before it are: it was not written by the product.`,
        );
        break;
      }
      unkeyed++;
      if (auditHash(r) !== r.hash)
        findings.push(`Record ${r.seq} was changed after it was written (its hash differs).`);
    } else {
      keyedSeen = true;
      const key = keyOf.get(r.keyId);
      if (!key) findings.push(`Record ${r.seq} is keyed with ${r.keyId}, a key not at hand.`);
      else if (!sameHex(auditHash(r, key), String(r.hash)))
        findings.push(
          `Record ${r.seq} does not carry the HMAC of key ${r.keyId}: it was changed or forged after it was written.`,
        );
      keyIds.add(r.keyId);
    }
    prevHash = r.hash;
  }
  const n = records.length;
  if (!head) {
    if (n > 0) findings.push(`The trail has ${n} records but no head: the head was deleted.`);
  } else if (head.seq > n)
    findings.push(`Records ${n + 1} to ${head.seq} are missing: the trail ends before its recorded head.`);
  else if (!(head.seq === n || head.seq === n - 1) || records[head.seq - 1]?.hash !== head.hash)
    findings.push(
      head.seq < n - 1 || records[head.seq - 1]?.hash !== head.hash
        ? `The recorded head (record ${head.seq}) is not the end of the trail of ${n} records.`
        : `The recorded head (record ${head.seq}) does not match that record's hash.`,
    );
  let latest: AuditAnchor | undefined;
  for (const a of anchors) {
    const key = keyOf.get(a.keyId);
    const { mac, ...body } = a;
    if (!key) {
      findings.push(`The anchor of ${a.at} is signed with ${a.keyId}, a key not at hand.`);
      continue;
    }
    if (!sameHex(createHmac('sha256', key.secret).update(anchorText(body)).digest('hex'), mac)) {
      findings.push(
        `The anchor of ${a.at} is not signed by key ${a.keyId}: it was not written by the product.`,
      );
      continue;
    }
    if (a.seq > n)
      findings.push(
        `The anchor of ${a.at} records ${a.seq} records but the trail has ${n}: records ${n + 1} to ${a.seq} were removed.`,
      );
    else if (records[a.seq - 1]?.hash !== a.hash)
      findings.push(`Record ${a.seq} differs from its anchor of ${a.at}: the trail was rewritten up to it.`);
    if (!latest || a.seq > latest.seq || (a.seq === latest.seq && a.at > latest.at)) latest = a;
  }
  return {
    findings,
    records: n,
    unkeyed,
    keyIds: [...keyIds],
    ...(head ? { head: { seq: head.seq, hash: head.hash } } : {}),
    ...(latest ? { anchor: latest } : {}),
    anchors: anchors.length,
  };
}
