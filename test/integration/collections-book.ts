import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { ingestText } from './read-meter.ts';

/**
 * A small book for the collections pages and commands (README "Collections"), as of 2026-03-31:
 * one customer a few days late, one long overdue and never told (and no billing address on file),
 * one with only a disputed invoice overdue, one paid up, one Chinese customer three weeks late.
 */
export const COLLECTIONS_AS_OF = '2026-03-31';

export async function seedCollectionsBook(env: LocalEnv): Promise<void> {
  const now = new Date('2026-03-31T06:00:00Z');
  await ingestText(
    env,
    'customers/c.csv',
    [
      'customer_id,name,country,industry,currency,payment_terms_days,credit_limit,billing_email,billing_contact,language',
      'LATE,Late Payer GmbH,DE,retail,EUR,30,50000.00,ap@late-payer.example.com,Anna Weber,en',
      'OLD,Old Debt Ltd,GB,retail,GBP,30,50000.00,,,',
      'DISP,Disputing SA,FR,retail,EUR,30,50000.00,compta@disputing.example.com,,en',
      'PAID,Prompt Payer BV,NL,retail,EUR,30,50000.00,ap@prompt.example.com,,en',
      'CN,深圳恒达物流有限公司,CN,logistics,CNY,30,500000.00,finance@hengda.example.com,王会计,zh',
    ].join('\n'),
    now,
  );
  await ingestText(
    env,
    'invoices/i.csv',
    [
      'invoice_id,customer_id,issue_date,due_date,amount,currency,disputed',
      'L1,LATE,2026-02-20,2026-03-22,1200.00,EUR,false',
      'O1,OLD,2025-12-01,2025-12-31,800.00,GBP,false',
      'O2,OLD,2026-02-01,2026-03-03,400.00,GBP,false',
      'D1,DISP,2026-01-01,2026-01-31,900.00,EUR,true',
      'P1,PAID,2026-02-01,2026-03-03,500.00,EUR,false',
      'C1,CN,2026-02-01,2026-03-10,26700.00,CNY,false',
    ].join('\n'),
    now,
  );
  await ingestText(
    env,
    'payments/p.csv',
    [
      'payment_id,customer_id,received_date,amount,currency,invoice_id',
      'PP1,PAID,2026-03-02,500.00,EUR,P1',
    ].join('\n'),
    now,
  );
}

/**
 * A data dir on disk holding the book (for the CLI, which opens its own store): `<dir>/data`, in a
 * new temporary `dir` the caller removes.
 */
export async function collectionsDataDir(prefix: string): Promise<{ dir: string; dataDir: string }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const dataDir = join(dir, 'data');
  const env = await openLocal({ dataDir });
  try {
    await seedCollectionsBook(env);
  } finally {
    await env.close();
  }
  return { dir, dataDir };
}
