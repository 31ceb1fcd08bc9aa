import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AuditRecord, auditHash, GENESIS, nextRecord, verifyTrail } from '../../functions/core/audit.ts';

function trail(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      nextRecord(out.at(-1), {
        at: `2026-11-23T10:00:0${i}.000Z`,
        kind: i === 0 ? 'transfer.requested' : 'approval.decided',
        subject: 'T-1',
        actor: i === 0 ? 'rita' : `approver-${i}`,
        data: { amount: 1_250_000, currency: 'EUR', note: `step ${i}` },
      }),
    );
  return out;
}

describe('audit trail', () => {
  it('chains each record to the one before with SHA-256 over its canonical JSON', () => {
    const [a, b] = trail(2);
    expect(a?.seq).toBe(1);
    expect(a?.prevHash).toBe(GENESIS);
    expect(b?.prevHash).toBe(a?.hash);
    // Computed here by hand from the documented form: sorted keys, no hash field.
    const body = `{"actor":"rita","at":"2026-11-23T10:00:00.000Z","data":{"amount":1250000,"currency":"EUR","note":"step 0"},"kind":"transfer.requested","prevHash":"${GENESIS}","seq":1,"subject":"T-1"}`;
    expect(a?.hash).toBe(createHash('sha256').update(body).digest('hex'));
    expect(verifyTrail(trail(5))).toEqual({ ok: true, records: 5, head: trail(5)[4]?.hash });
    expect(verifyTrail([])).toEqual({ ok: true, records: 0, head: GENESIS });
  });

  it('stores data as it hashes: what JSON cannot carry is normalised before hashing', () => {
    const r = nextRecord(undefined, {
      at: '2026-11-23T10:00:00.000Z',
      kind: 'k',
      subject: 's',
      actor: 'a',
      data: { when: new Date('2026-11-23T00:00:00Z'), gone: undefined },
    });
    expect(r.data).toEqual({ when: '2026-11-23T00:00:00.000Z' });
    // Read back from a store (JSON round trip), it still verifies.
    expect(verifyTrail([JSON.parse(JSON.stringify(r))])).toMatchObject({ ok: true });
  });

  it('names the first record that was changed', () => {
    const t = trail(5);
    const changed = t.map((r) => (r.seq === 3 ? { ...r, data: { amount: 9_999_999, currency: 'EUR' } } : r));
    expect(verifyTrail(changed)).toEqual({
      ok: false,
      seq: 3,
      reason: 'record 3 was changed after it was written (its hash differs)',
    });
    // Recomputing its hash does not help: the next record no longer follows it.
    const rehashed = changed.map((r) => (r.seq === 3 ? { ...r, hash: auditHash(r) } : r));
    expect(verifyTrail(rehashed)).toMatchObject({ ok: false, seq: 4 });
    expect(verifyTrail(rehashed)).toMatchObject({
      reason: expect.stringContaining('does not follow record 3'),
    });
  });

  it('names a removed or reordered record', () => {
    const t = trail(5);
    expect(verifyTrail([t[0], t[1], t[3], t[4]] as AuditRecord[])).toEqual({
      ok: false,
      seq: 3,
      reason: 'record 3 is missing (found 4 in its place)',
    });
    expect(verifyTrail([t[0], t[2], t[1]] as AuditRecord[])).toMatchObject({ ok: false, seq: 2 });
  });

  it('sees the last records cut off only against the head kept apart', () => {
    const t = trail(5);
    const head = { seq: 5, hash: t[4]?.hash as string };
    expect(verifyTrail(t, head)).toMatchObject({ ok: true, records: 5 });
    expect(verifyTrail(t.slice(0, 3))).toMatchObject({ ok: true, records: 3 });
    expect(verifyTrail(t.slice(0, 3), head)).toEqual({
      ok: false,
      seq: 4,
      reason: 'records 4 to 5 are missing: the trail ends before its recorded head',
    });
    expect(verifyTrail(t, { seq: 5, hash: GENESIS })).toMatchObject({ ok: false, seq: 5 });
  });

  it('accepts a head one record behind (a writer stopped before moving it), and no further', () => {
    const t = trail(5);
    expect(verifyTrail(t, { seq: 4, hash: t[3]?.hash as string })).toMatchObject({ ok: true, records: 5 });
    expect(verifyTrail(t, { seq: 3, hash: t[2]?.hash as string })).toMatchObject({ ok: false, seq: 3 });
    expect(verifyTrail(t, { seq: 4, hash: t[2]?.hash as string })).toMatchObject({ ok: false, seq: 4 });
  });
});
