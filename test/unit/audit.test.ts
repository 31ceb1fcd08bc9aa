import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditKey,
  type AuditRecord,
  auditHash,
  formatAnchor,
  GENESIS,
  makeAnchor,
  nextRecord,
  parseAnchors,
  verifyAudit,
  verifyTrail,
} from '../../functions/core/audit.ts';

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

describe('keyed audit trail (verifyAudit)', () => {
  const key: AuditKey = { id: 'k1', secret: Buffer.from('a'.repeat(64), 'hex') };
  const other: AuditKey = { id: 'k1', secret: Buffer.from('b'.repeat(64), 'hex') };
  const ev = (i: number) => ({
    at: `2026-12-06T10:00:${String(i % 60).padStart(2, '0')}.000Z`,
    kind: 'approval.decided',
    subject: `T-${i}`,
    actor: `approver-${i}`,
    data: { amount: 1_000 * i },
  });
  function keyed(n: number, k: AuditKey = key, from: AuditRecord[] = []): AuditRecord[] {
    const out = [...from];
    for (let i = 0; i < n; i++) out.push(nextRecord(out.at(-1), ev(out.length + 1), k));
    return out;
  }
  const headOf = (t: readonly AuditRecord[]) => ({ seq: t.length, hash: t.at(-1)?.hash as string });
  const anchorOf = (t: readonly AuditRecord[]) => makeAnchor('2026-12-06T11:00:00.000Z', headOf(t), key);

  it('chains with HMAC-SHA256 under the key, and names what it checked', () => {
    const t = keyed(12);
    const body = `{"actor":"approver-1","at":"2026-12-06T10:00:01.000Z","data":{"amount":1000},"keyId":"k1","kind":"approval.decided","prevHash":"${GENESIS}","seq":1,"subject":"T-1"}`;
    expect(t[0]?.hash).toBe(createHmac('sha256', key.secret).update(body).digest('hex'));
    const v = verifyAudit({ records: t, head: headOf(t), keys: [key], anchors: [anchorOf(t)] });
    expect(v).toMatchObject({ findings: [], records: 12, unkeyed: 0, keyIds: ['k1'], anchors: 1 });
    expect(v.anchor?.seq).toBe(12);
  });

  it('names records written before keyed hashing, chained into the first keyed one', () => {
    const t = keyed(3, key, trail(4));
    const v = verifyAudit({ records: t, head: headOf(t), keys: [key] });
    expect(v).toMatchObject({ findings: [], records: 7, unkeyed: 4 });
    // Editing an old unkeyed record and recomputing its plain hash breaks the keyed record after it.
    const edited = t.map((r) => (r.seq === 4 ? { ...r, actor: 'mallory' } : r));
    const rehashed = edited.map((r) => (r.seq === 4 ? { ...r, hash: auditHash(r) } : r));
    expect(verifyAudit({ records: rehashed, head: headOf(t), keys: [key] }).findings).toEqual([
      'Record 5 does not follow record 4 (its previous hash differs).',
    ]);
  });

  it('(a) sees the last 5 records deleted and the head set back, against the anchor', () => {
    const t = keyed(20);
    const cut = t.slice(0, 15);
    expect(
      verifyAudit({ records: cut, head: headOf(cut), keys: [key], anchors: [anchorOf(t)] }).findings,
    ).toEqual([
      'The anchor of 2026-12-06T11:00:00.000Z records 20 records but the trail has 15: records 16 to 20 were removed.',
    ]);
  });

  it('(b) sees one correctly chained forged record appended', () => {
    const t = keyed(10);
    const plain = [...t, nextRecord(t.at(-1), ev(11))];
    expect(verifyAudit({ records: plain, head: headOf(plain), keys: [key] }).findings).toEqual([
      'Record 11 is not keyed although records before it are: it was not written by the product.',
    ]);
    const wrongKey = [...t, nextRecord(t.at(-1), ev(11), other)];
    expect(verifyAudit({ records: wrongKey, head: headOf(wrongKey), keys: [key] }).findings).toEqual([
      'Record 11 does not carry the HMAC of key k1: it was changed or forged after it was written.',
    ]);
  });

  it('(c) sees record 7 edited and every later hash and the head recomputed', () => {
    const t = keyed(12);
    const forged: AuditRecord[] = t.slice(0, 6);
    forged.push(nextRecord(forged.at(-1), { ...ev(7), actor: 'mallory' }, other));
    for (let i = 8; i <= 12; i++) forged.push(nextRecord(forged.at(-1), ev(i), other));
    expect(verifyAudit({ records: forged, head: headOf(forged), keys: [key] }).findings).toEqual([
      'Record 7 does not carry the HMAC of key k1: it was changed or forged after it was written.',
    ]);
    // Recomputed as plain hashes instead: unkeyed after keyed; and the anchor differs.
    const plain: AuditRecord[] = t.slice(0, 6);
    for (let i = 7; i <= 12; i++)
      plain.push(nextRecord(plain.at(-1), i === 7 ? { ...ev(7), actor: 'm' } : ev(i)));
    const v = verifyAudit({ records: plain, head: headOf(plain), keys: [key], anchors: [anchorOf(t)] });
    expect(v.findings).toEqual([
      'Record 7 is not keyed although records before it are: it was not written by the product.',
      'Record 12 differs from its anchor of 2026-12-06T11:00:00.000Z: the trail was rewritten up to it.',
    ]);
  });

  it('(d) sees the head deleted', () => {
    const t = keyed(5);
    expect(verifyAudit({ records: t, head: undefined, keys: [key] }).findings).toEqual([
      'The trail has 5 records but no head: the head was deleted.',
    ]);
    expect(verifyAudit({ records: [], head: undefined, keys: [key] }).findings).toEqual([]);
  });

  it('refuses an anchor not signed with the key, and reads the anchor file form', () => {
    const t = keyed(3);
    const good = anchorOf(t);
    const forged = { ...good, seq: 2, hash: t[1]?.hash as string };
    expect(verifyAudit({ records: t, head: headOf(t), keys: [key], anchors: [forged] }).findings).toEqual([
      'The anchor of 2026-12-06T11:00:00.000Z is not signed by key k1: it was not written by the product.',
    ]);
    const text = `${formatAnchor(good)}\nnot an anchor\n\n${formatAnchor(good)}\n`;
    expect(parseAnchors(text)).toEqual({ anchors: [good, good], bad: [2] });
  });

  it('detects any single edit, deletion or insertion (property)', () => {
    const t = keyed(15);
    const head = headOf(t);
    const anchors = [anchorOf(t)];
    const fields = ['at', 'kind', 'subject', 'actor', 'data', 'prevHash', 'hash', 'keyId', 'seq'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom('edit', 'delete', 'insert', 'rechain'),
        fc.integer({ min: 0, max: 14 }),
        fc.constantFrom(...fields),
        fc.string({ minLength: 1, maxLength: 8 }),
        (op, i, field, junk) => {
          let records: AuditRecord[] = [...t];
          let h: { seq: number; hash: string } = head;
          if (op === 'edit')
            records[i] = {
              ...(t[i] as AuditRecord),
              [field]: field === 'seq' ? 99 : `${String(t[i]?.[field])}${junk}`,
            };
          else if (op === 'delete') {
            records.splice(i, 1);
            records = records.map((r, j) => (j >= i ? { ...r, seq: r.seq - 1 } : r));
            if (i === 14) h = headOf(records); // the head set back too
          } else if (op === 'insert') {
            records.splice(i, 0, nextRecord(records[i - 1], { ...ev(i), actor: junk }, other));
          } else {
            // Edit record i and re-chain everything after it with a key that is not the product's.
            records = t.slice(0, i);
            for (let j = i; j < 15; j++)
              records.push(
                nextRecord(records.at(-1), j === i ? { ...ev(j + 1), actor: junk } : ev(j + 1), other),
              );
            h = headOf(records);
          }
          return verifyAudit({ records, head: h, keys: [key], anchors }).findings.length > 0;
        },
      ),
      { numRuns: 500, seed: 14 },
    );
  });
});
