import { createHash } from 'node:crypto';
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
  readonly hash: string;
}

export type AuditEvent = Pick<AuditRecord, 'at' | 'kind' | 'subject' | 'actor' | 'data'>;

export const GENESIS = '0'.repeat(64);

/** The hash of a record: SHA-256 over the canonical JSON of every field but `hash`. */
export function auditHash(r: Omit<AuditRecord, 'hash'>): string {
  const { seq, at, kind, subject, actor, data, prevHash } = r;
  return createHash('sha256')
    .update(canonicalJson({ seq, at, kind, subject, actor, data, prevHash }))
    .digest('hex');
}

/** The record that follows `prev` (undefined: the first of the trail). */
export function nextRecord(prev: AuditRecord | undefined, e: AuditEvent): AuditRecord {
  const body = {
    seq: (prev?.seq ?? 0) + 1,
    at: e.at,
    kind: e.kind,
    subject: e.subject,
    actor: e.actor,
    // Stored as it hashes: a value JSON cannot carry (undefined, a Date) would verify differently later.
    data: JSON.parse(JSON.stringify(e.data ?? null)) as unknown,
    prevHash: prev?.hash ?? GENESIS,
  };
  return { ...body, hash: auditHash(body) };
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
