import type { AuditEvent, AuditRecord } from '../core/audit.ts';
import { canonicalJson } from '../core/canonical.ts';

/**
 * The credit checks' log (README "Credit checks", "On the audit trail"; issue 18 item 7). A check
 * must not wait on the one hash chain every other writer appends to: 32 checks at once queued
 * there at 27 a second. So each decision is first written in its customer's partition (one put,
 * no contention between customers: `CHECKLOG#...`, listed in a sparse index while it waits), and a
 * chainer appends what waits to the audit trail in batches, one chained record of up to
 * `BATCH_MAX` decisions in full. Nothing is lost in between: the decision is in the store before
 * the check answers, and the chainer finishes a batch a crash left half done.
 */

/** A decision or cancel waiting in its customer's partition, as the chainer reads it. */
export interface LoggedCheck {
  readonly customerId: string;
  /** Its sort key in the customer's partition (`CHECKLOG#<at>#<order>#<nonce>`). */
  readonly key: string;
  readonly event: AuditEvent;
  /** The batch that claimed it and when, while the batch is being chained. */
  readonly batch?: string | undefined;
  readonly claimedAt?: string | undefined;
}

/** Where a check writes its decision (the hot path: one put in the customer's partition). */
export interface CheckLog {
  logCheck(customerId: string, event: AuditEvent): Promise<void>;
}

/** What the chainer needs of the store. */
export interface CheckLogChain {
  /** The oldest entries waiting (claimed or not), at most `limit` of each shard, oldest first. */
  pending(limit: number): Promise<LoggedCheck[]>;
  /** Claims the entries for a batch (each only if nobody claimed it): those it claimed. */
  claim(entries: readonly LoggedCheck[], batch: string, at: string): Promise<LoggedCheck[]>;
  /** Marks entries chained at `seq` (they leave the index); only those the batch holds. */
  markChained(entries: readonly LoggedCheck[], batch: string, seq: number): Promise<void>;
  /** Gives entries back (a batch's record does not list them): the next batch takes them. */
  unclaim(entries: readonly LoggedCheck[], batch: string): Promise<void>;
}

export interface ChainAudit {
  appendAudit(e: AuditEvent, opts?: { readonly once?: string }): Promise<AuditRecord>;
}

/** The audit record of one batch. */
export const CHECKS_LOGGED = 'credit-checks.logged';
/** Decisions in one chained record, at most; and its canonical JSON at most this many bytes (an item holds 400 KB). */
export const BATCH_MAX = 100;
export const BATCH_BYTES = 200_000;
/** A claim older than this is a chainer that stopped: the next run finishes its batch. */
export const STALE_CLAIM_MS = 5 * 60_000;

/** One entry of a chained record: the decision as the check logged it, and where it was logged. */
export interface ChainedEntry {
  readonly customerId: string;
  readonly key: string;
  readonly at: string;
  readonly kind: string;
  readonly actor: string;
  readonly data: unknown;
}

const entryOf = (l: LoggedCheck): ChainedEntry => ({
  customerId: l.customerId,
  key: l.key,
  at: l.event.at,
  kind: l.event.kind,
  actor: l.event.actor,
  data: l.event.data,
});
const idOf = (customerId: string, key: string) => `${customerId}\u0000${key}`;

export interface ChainReport {
  readonly batches: number;
  readonly chained: number;
  /** Batches a stopped chainer had claimed, finished by this run. */
  readonly recovered: number;
  /** The age in seconds of the oldest entry still waiting after the run (0: none). */
  readonly lagSeconds: number;
}

/**
 * Appends the waiting decisions to the audit trail, oldest first, in batches, until none waits
 * or `maxBatches` were written. A batch is claimed entry by entry (a condition: two chainers never
 * put one decision in two batches), appended once (`once`: the batch id, so a retry finds the
 * record it made), then marked chained; a batch whose chainer stopped is finished after
 * `STALE_CLAIM_MS` (its entries the record lists are marked, the rest given back).
 */
export async function chainCheckLog(
  deps: { readonly log: CheckLogChain; readonly audit: ChainAudit },
  opts: { readonly now: () => Date; readonly maxBatches?: number; readonly batchId?: () => string },
): Promise<ChainReport> {
  let batches = 0;
  let chained = 0;
  let recovered = 0;
  const max = opts.maxBatches ?? 1000;
  const newId =
    opts.batchId ?? (() => `checks-${opts.now().toISOString()}-${crypto.randomUUID().slice(0, 8)}`);
  let oldest: string | undefined;
  while (batches < max) {
    const now = opts.now();
    const waiting = await deps.log.pending(BATCH_MAX);
    oldest = waiting[0]?.event.at;
    const stale = new Map<string, LoggedCheck[]>();
    for (const l of waiting)
      if (l.batch && l.claimedAt && now.getTime() - Date.parse(l.claimedAt) >= STALE_CLAIM_MS)
        stale.set(l.batch, [...(stale.get(l.batch) ?? []), l]);
    for (const [batch, entries] of stale) {
      chained += await finish(deps, batch, entries, now);
      recovered++;
      batches++;
    }
    const fresh: LoggedCheck[] = [];
    let bytes = 0;
    for (const l of waiting) {
      if (l.batch) continue;
      const size = Buffer.byteLength(canonicalJson(entryOf(l)));
      if (fresh.length >= BATCH_MAX || (fresh.length > 0 && bytes + size > BATCH_BYTES)) break;
      fresh.push(l);
      bytes += size;
    }
    if (fresh.length === 0) {
      if (stale.size === 0) break;
      continue;
    }
    const batch = newId();
    const claimed = await deps.log.claim(fresh, batch, now.toISOString());
    if (claimed.length === 0) break; // another chainer took them all
    chained += await finish(deps, batch, claimed, now);
    batches++;
  }
  const left = await deps.log.pending(1);
  oldest = left.map((l) => l.event.at).sort()[0];
  const lagSeconds = oldest ? Math.max(0, Math.round((opts.now().getTime() - Date.parse(oldest)) / 1000)) : 0;
  return { batches, chained, recovered, lagSeconds };
}

async function finish(
  deps: { readonly log: CheckLogChain; readonly audit: ChainAudit },
  batch: string,
  entries: readonly LoggedCheck[],
  now: Date,
): Promise<number> {
  const sorted = [...entries].sort(
    (a, b) =>
      a.event.at.localeCompare(b.event.at) ||
      idOf(a.customerId, a.key).localeCompare(idOf(b.customerId, b.key)),
  );
  const rec = await deps.audit.appendAudit(
    {
      at: now.toISOString(),
      kind: CHECKS_LOGGED,
      subject: 'credit-checks',
      actor: 'system',
      data: { batch, count: sorted.length, entries: sorted.map(entryOf) },
    },
    { once: batch },
  );
  // A retry of a batch finds the record its first try made: what that record lists is chained.
  const listed = new Set(
    ((rec.data as { entries?: ChainedEntry[] } | null)?.entries ?? []).map((e) => idOf(e.customerId, e.key)),
  );
  const mine = sorted.filter((l) => listed.has(idOf(l.customerId, l.key)));
  const rest = sorted.filter((l) => !listed.has(idOf(l.customerId, l.key)));
  await deps.log.markChained(mine, batch, rec.seq);
  if (rest.length > 0) await deps.log.unclaim(rest, batch);
  return mine.length;
}

/** A check's decision or cancel as it stands on the trail: the event, and the record that chained it. */
export interface CheckOnTrail extends ChainedEntry {
  readonly seq: number;
}

/** The credit checks' decisions and cancels a trail holds, in the order they were chained. */
export function checksOnTrail(trail: readonly AuditRecord[]): CheckOnTrail[] {
  const out: CheckOnTrail[] = [];
  for (const r of trail) {
    if (r.kind !== CHECKS_LOGGED) continue;
    for (const e of (r.data as { entries?: ChainedEntry[] } | null)?.entries ?? [])
      out.push({ ...e, seq: r.seq });
  }
  return out;
}
