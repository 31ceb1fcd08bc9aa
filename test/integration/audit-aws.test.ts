import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorKey, s3AuditAnchors, secretsManagerAuditKey } from '../../functions/adapters/audit-aws.ts';
import { DynamoStore } from '../../functions/adapters/dynamodb.ts';
import { DynamoTransferStore } from '../../functions/adapters/dynamodb-transfers.ts';
import { verifyAudit } from '../../functions/core/audit.ts';
import { type Dynalite, localClient, startDynalite } from '../../infra/local/runtime/index.ts';
import { type Moto, startMoto } from '../moto.ts';

// The AWS adapters of the audit key and anchors against moto (Secrets Manager, S3 with Object
// Lock) and the transfer store on dynalite: what the Lambdas run, through the real SDK clients.
const BUCKET = 'audit-anchors-test';
const TABLE = 'audit-aws-test';

let moto: Moto;
let s3: S3Client;
let sm: SecretsManagerClient;
let db: Dynalite;
let ddb: DynamoDBClient;
let secretArn: string;
let getSecretCalls = 0;

beforeAll(async () => {
  moto = await startMoto({ region: 'us-east-1' });
  s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
  sm = new SecretsManagerClient(moto.clientConfig);
  sm.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'GetSecretValueCommand') getSecretCalls++;
      return next(args);
    },
    { step: 'initialize' },
  );
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: BUCKET,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
      },
    }),
  );
  const created = await sm.send(
    new CreateSecretCommand({
      Name: 'audit-key',
      SecretString: JSON.stringify({ id: 'k1', secret: 'a'.repeat(20) + 'B7'.repeat(22) }),
    }),
  );
  secretArn = created.ARN as string;
  db = await startDynalite();
  ddb = localClient(db.endpoint);
  await new DynamoStore({ client: ddb, tableName: TABLE }).ensureTable();
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  sm?.destroy();
  ddb?.destroy();
  await db?.close();
  await moto?.close();
});

describe('audit key in Secrets Manager', () => {
  it('reads the key once per process, however many appends ask for it', async () => {
    const before = getSecretCalls;
    const key = secretsManagerAuditKey(sm, secretArn);
    const [a, b] = await Promise.all([key(), key()]);
    const c = await key();
    expect(getSecretCalls - before).toBe(1);
    expect(a.id).toBe('k1');
    expect(Buffer.from(a.secret).toString('utf8')).toHaveLength(64);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it('tries again after a failed read, and names a secret that is not a key', async () => {
    const missing = secretsManagerAuditKey(sm, 'no-such-secret');
    await expect(missing()).rejects.toThrow();
    await expect(missing()).rejects.toThrow();
    const bad = await sm.send(new CreateSecretCommand({ Name: 'not-a-key', SecretString: 'hello' }));
    await expect(secretsManagerAuditKey(sm, bad.ARN as string)()).rejects.toThrow(/not JSON/);
  });
});

describe('anchors in the Object Lock bucket', () => {
  it('anchors every record the transfer store appends; the anchors verify the trail; a locked anchor cannot be deleted', async () => {
    const key = secretsManagerAuditKey(sm, secretArn);
    const anchors = s3AuditAnchors({ client: s3, bucket: BUCKET, key });
    const store = new DynamoTransferStore({
      client: ddb,
      tableName: TABLE,
      auditKey: key,
      auditAnchor: (rec) => anchors.anchor(rec),
    });
    for (let i = 1; i <= 3; i++)
      await store.appendAudit({
        at: `2026-12-06T10:00:0${i}.000Z`,
        kind: 'transfer.requested',
        subject: `T${i}`,
        actor: 'ana.silva',
        data: { amount: i * 100 },
      });
    const listed = await anchors.list();
    expect(listed.map((a) => a.seq)).toEqual([1, 2, 3]);
    const trail = await store.auditTrail();
    const check = verifyAudit({
      records: trail,
      head: await store.auditHead(),
      keys: [await key()],
      anchors: listed,
    });
    expect(check.findings).toEqual([]);
    expect(check.anchor?.seq).toBe(3);

    // Cut the trail back below the last anchor: the anchor names it.
    const cut = verifyAudit({
      records: trail.slice(0, 2),
      head: { seq: 2, hash: trail[1]?.hash as string },
      keys: [await key()],
      anchors: listed,
    });
    expect(cut.findings.join(' ')).toMatch(/records 3 to 3 were removed/);

    // Compliance mode: the anchor's version cannot be deleted, not even by its writer's account.
    const last = listed[2];
    if (!last) throw new Error('no anchor');
    const versions = await s3.send(
      new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: anchorKey(last) }),
    );
    const versionId = versions.Versions?.[0]?.VersionId;
    expect(versionId).toBeTruthy();
    await expect(
      s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: anchorKey(last), VersionId: versionId })),
    ).rejects.toThrow(/Access ?Denied/);
    expect((await anchors.list()).map((a) => a.seq)).toEqual([1, 2, 3]);
  });
});
