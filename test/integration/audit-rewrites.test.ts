import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { type AuditRecord, nextRecord } from '../../functions/core/audit.ts';
import { localAudit } from '../../infra/local/runtime/audit-key.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { sentinel } from './cli-run.ts';

/**
 * The four rewrites of issue 14 done to a real trail on dynalite by someone who can write the
 * table but holds neither the key nor the anchor file; `sentinel audit verify` must name each.
 */

const opened: { env: LocalEnv; dir: string }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.env.close();
    await rm(o.dir, { recursive: true, force: true });
  }
});

const sk = (seq: number) => ({ pk: { S: 'AUDIT' }, sk: { S: `SEQ#${String(seq).padStart(12, '0')}` } });
const HEAD = { pk: { S: 'AUDIT' }, sk: { S: 'HEAD' } };

async function trailOf(n: number) {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-audit-it-'));
  const env = await openLocal({ dataDir: dir }, true);
  opened.push({ env, dir });
  const audit = localAudit(env.dataDir);
  const store = new DynamoTransferStore({
    client: env.store.client,
    tableName: env.store.tableName,
    auditKey: audit.auditKey,
    auditAnchor: audit.anchor,
  });
  for (let i = 1; i <= n; i++)
    await store.appendAudit({
      at: `2026-12-06T10:00:${String(i).padStart(2, '0')}.000Z`,
      kind: 'approval.decided',
      subject: `T-${i}`,
      actor: `approver-${i}`,
      data: { amount: 1_000 * i },
    });
  const raw = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
  const put = (r: AuditRecord) =>
    env.store.client.send(
      new PutItemCommand({
        TableName: env.store.tableName,
        Item: marshall(
          { ...r, ...{ pk: 'AUDIT', sk: sk(r.seq).sk.S, type: 'audit' } },
          { removeUndefinedValues: true },
        ),
      }),
    );
  const setHead = (r: AuditRecord) =>
    env.store.client.send(
      new UpdateItemCommand({
        TableName: env.store.tableName,
        Key: HEAD,
        UpdateExpression: 'SET #s = :s, #h = :h',
        ExpressionAttributeNames: { '#s': 'seq', '#h': 'hash' },
        ExpressionAttributeValues: { ':s': { N: String(r.seq) }, ':h': { S: r.hash } },
      }),
    );
  const del = (Key: typeof HEAD) =>
    env.store.client.send(new DeleteItemCommand({ TableName: env.store.tableName, Key }));
  const verify = () => sentinel(['audit', 'verify', '--data-dir', dir], dir);
  return { dir, env, audit, store, raw, put, setHead, del, verify };
}

describe('audit verify against rewrites by a writer of the table', () => {
  it('passes an intact trail and names the key, head and anchor it checked against', async () => {
    const t = await trailOf(12);
    const r = await t.verify();
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('checked 12 records with key k1');
    expect(r.stdout).toContain('head seq 12');
    expect(r.stdout).toMatch(/anchor of \S+ \(seq 12, 12 anchors\) in .*anchors/);
    expect(r.stdout).toContain('audit trail intact');
    expect(r.code).toBe(0);
  });

  it('(a) the last 5 records deleted and the head set back', async () => {
    const t = await trailOf(20);
    const trail = await t.raw.auditTrail();
    for (let s = 16; s <= 20; s++) await t.del(sk(s));
    await t.setHead(trail[14] as AuditRecord);
    const r = await t.verify();
    expect(r.stdout).toMatch(
      /BROKEN: The anchor of \S+ records 20 records but the trail has 15: records 16 to 20 were removed\./,
    );
    expect(r.code).toBe(1);
  });

  it('(b) one correctly chained forged record appended', async () => {
    const t = await trailOf(10);
    const trail = await t.raw.auditTrail();
    const forged = nextRecord(trail.at(-1), {
      at: '2026-12-06T11:00:00.000Z',
      kind: 'approval.decided',
      subject: 'T-99',
      actor: 'mallory',
      data: { amount: 99_000_000 },
    });
    await t.put(forged);
    await t.setHead(forged);
    const r = await t.verify();
    expect(r.stdout).toContain(
      'BROKEN: Record 11 is not keyed although records before it are: it was not written by the product.',
    );
    // Claiming the key id does not help: the hash is not its HMAC.
    await t.put({ ...forged, keyId: 'k1' });
    expect((await t.verify()).stdout).toContain('BROKEN: Record 11 does not carry the HMAC of key k1');
    expect(r.code).toBe(1);
  });

  it('(c) record 7 edited and every later hash and the head recomputed', async () => {
    const t = await trailOf(12);
    const trail = await t.raw.auditTrail();
    const rewritten: AuditRecord[] = trail.slice(0, 6);
    for (const r of trail.slice(6)) {
      const { seq: _s, prevHash: _p, hash: _h, keyId: _k, ...e } = r;
      rewritten.push(nextRecord(rewritten.at(-1), r.seq === 7 ? { ...e, actor: 'mallory' } : e));
    }
    for (const r of rewritten.slice(6)) await t.put(r);
    await t.setHead(rewritten.at(-1) as AuditRecord);
    const r = await t.verify();
    expect(r.stdout).toContain('BROKEN: Record 7 is not keyed although records before it are');
    expect(r.stdout).toMatch(
      /BROKEN: Record 12 differs from its anchor of \S+: the trail was rewritten up to it\./,
    );
    expect(r.code).toBe(1);
  });

  it('(d) the head deleted', async () => {
    const t = await trailOf(6);
    await t.del(HEAD);
    const r = await t.verify();
    expect(r.stdout).toContain('no head');
    expect(r.stdout).toContain('BROKEN: The trail has 6 records but no head: the head was deleted.');
    expect(r.code).toBe(1);
    const head = await sentinel(['audit', 'head', '--data-dir', t.dir], t.dir);
    expect(head.code).toBe(1);
  });

  it('keeps the key outside the data dir, 0600', async () => {
    const t = await trailOf(1);
    expect(t.audit.keyFile.startsWith(t.dir)).toBe(false);
    expect(t.audit.anchorFile.startsWith(t.dir)).toBe(false);
    const { stat } = await import('node:fs/promises');
    expect((await stat(t.audit.keyFile)).mode & 0o777).toBe(0o600);
    const head = await sentinel(['audit', 'head', '--data-dir', t.dir], t.dir);
    expect(head.stdout).toMatch(/^audit head: record 1, hash [0-9a-f]{64}$/m);
  });
});
