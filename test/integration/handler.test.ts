import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectsInMessage } from '../../functions/ingest/app.ts';
import type { CustomersChanged } from '../../functions/ingest/ports.ts';
import { ReceivablesQueries } from '../../functions/receivables/queries.ts';
import { InboxObjectStore } from '../../infra/local/runtime/files.ts';
import { localContext, localIngestHandler, s3SqsEvent } from '../../infra/local/runtime/inbox.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { localMetrics } from '../../infra/local/runtime/metrics.ts';
import recorded from '../fixtures/s3-sqs-event.json' with { type: 'json' };

let env: LocalEnv;
let root: string;
let handler: ReturnType<typeof localIngestHandler>;
const messages: CustomersChanged[] = [];

async function drop(key: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, key)), { recursive: true });
  await writeFile(join(root, key), text);
}

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  root = await mkdtemp(join(tmpdir(), 'sentinel-inbox-'));
  handler = localIngestHandler(
    env,
    new InboxObjectStore(root),
    { customersChanged: async (m) => void messages.push(m) },
    'UTC',
    localMetrics(join(root, '.metrics'), 'ingest'), // not in the default data dir of the working directory
  );
});
afterAll(async () => {
  await env.close();
  await rm(root, { recursive: true, force: true });
});

describe('ingest handler fed S3 -> SQS events', () => {
  it('reads the object a recorded S3 notification names (URL-encoded key, version id)', async () => {
    const event = recorded as unknown as SQSEvent;
    expect(objectsInMessage(event.Records[0] as SQSEvent['Records'][number])).toEqual([
      {
        bucket: 'credit-sentinel-uploads',
        key: 'invoices/march 2025(final).csv',
        versionId: '096fKKXTRTtl3on89fVO.nfljtsv6qko',
      },
    ]);
    // The same event against the local inbox standing in for that bucket.
    await drop(
      'invoices/march 2025(final).csv',
      'invoice_id,customer_id,issue_date,due_date,amount,currency\nH1,CH,2025-03-01,2025-03-31,120.00,EUR\nH2,CH,2025-03-02,2025-04-01,abc,EUR\n',
    );
    const res = await handler(event, localContext());
    expect(res).toEqual({ batchItemFailures: [] });
    const runs = await new ReceivablesQueries(env.store).runs(10);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      file: 'invoices/march 2025(final).csv',
      objectRef:
        's3://credit-sentinel-uploads/invoices/march 2025(final).csv?versionId=096fKKXTRTtl3on89fVO.nfljtsv6qko',
      status: 'processed',
      acceptedTotal: 1,
      rejected: 1,
    });
    const report = await readFile(join(root, 'invoices/march 2025(final).rejects.csv'), 'utf8');
    expect(report).toBe('line,column,value,reason\r\n3,amount,abc,amount is not a number (EUR)\r\n');
    expect(messages.at(-1)?.customerIds).toEqual(['CH']);
  });

  it('a redelivered message for the same object version is not ingested again', async () => {
    const q = new ReceivablesQueries(env.store);
    const before = (await q.runs(50)).length;
    const event = recorded as unknown as SQSEvent;
    expect(await handler(event, localContext())).toEqual({ batchItemFailures: [] });
    expect((await q.runs(50)).length).toBe(before);
  });

  it('a new version of the same key is ingested', async () => {
    await drop(
      'invoices/v.csv',
      'invoice_id,customer_id,issue_date,due_date,amount,currency\nV1,CV,2025-03-01,2025-03-31,10.00,EUR\n',
    );
    await handler(s3SqsEvent('invoices/v.csv', 70, 'v1'), localContext());
    await drop(
      'invoices/v.csv',
      'invoice_id,customer_id,issue_date,due_date,amount,currency\nV1,CV,2025-03-01,2025-03-31,15.00,EUR\n',
    );
    await handler(s3SqsEvent('invoices/v.csv', 70, 'v2'), localContext());
    const file = await new ReceivablesQueries(env.store).customer('CV', '2025-03-15');
    expect(file?.line.openAmount).toBe('15.00');
  });

  it('one failing message never replays the good ones (partial batch response)', async () => {
    await drop(
      'payments/ok.csv',
      'payment_id,customer_id,received_date,amount,currency,invoice_id\nPH1,CH,2025-03-20,20.00,EUR,H1\n',
    );
    const good = s3SqsEvent('payments/ok.csv', 80, 'g1').Records[0];
    const missing = s3SqsEvent('payments/not-there.csv', 80, 'm1').Records[0];
    const res = await handler({ Records: [good, missing] } as SQSEvent, localContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: missing?.messageId }]);
    const file = await new ReceivablesQueries(env.store).customer('CH', '2025-03-25');
    expect(file?.line.openAmount).toBe('100.00');
  });

  it('an upload under an unknown prefix is recorded as unreadable with the reason', async () => {
    await drop('quotes/x.csv', 'a,b\n1,2\n');
    await handler(s3SqsEvent('quotes/x.csv', 8, 'o1'), localContext());
    const runs = await new ReceivablesQueries(env.store).runs(50);
    const run = runs.find((r) => r.file === 'quotes/x.csv');
    expect(run?.status).toBe('unreadable');
    expect(run?.reason).toMatch(/cannot tell what "quotes\/x.csv" holds/);
    expect(await readFile(join(root, 'quotes/x.rejects.csv'), 'utf8')).toMatch(/the whole file was rejected/);
  });

  it('its own rejects reports and S3 test events are ignored', async () => {
    const q = new ReceivablesQueries(env.store);
    const before = (await q.runs(50)).length;
    await handler(s3SqsEvent('invoices/v.rejects.csv', 10, 'r1'), localContext());
    const test = s3SqsEvent('invoices/v.csv', 1, 't');
    (test.Records[0] as { body: string }).body = JSON.stringify({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Bucket: 'b',
    });
    expect(await handler(test, localContext())).toEqual({ batchItemFailures: [] });
    expect((await q.runs(50)).length).toBe(before);
  });

  it('a profile upload: profile/<name>/ reads the ERP export through that profile', async () => {
    await drop(
      'profile/ibm-accounts-receivable/sample.csv',
      'countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,Disputed,SettledDate,PaperlessBill,DaysToSettle,DaysLate\n391,0379-NEVHP,4/6/2013,0000611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0\n',
    );
    await handler(s3SqsEvent('profile/ibm-accounts-receivable/sample.csv', 200, 'p1'), localContext());
    const file = await new ReceivablesQueries(env.store).customer('0379-NEVHP', '2013-01-31');
    expect(file?.statement.invoices[0]).toMatchObject({
      invoiceId: '0000611365',
      settledDate: '2013-01-15',
      daysLate: 0,
      daysToSettle: 13,
    });
  });
});
