import { addDays, type IsoDate } from '../../functions/core/dates.ts';
import type { StoredRecord } from '../../functions/ingest/ports.ts';
import type { LocalEnv } from '../../infra/local/runtime/index.ts';

/**
 * The customer the approval tests ask about: C7, Harbour Foods Ltd, EUR, a limit of 100,000.00.
 * I0 of 2,000.00 paid with 3,000.00 (1,000.00 unapplied cash), I1 of 10,000.00 open and not due:
 * exposure 9,000.00, as of `today`.
 */
export async function writeHarbourFoods(store: LocalEnv['store'], today: IsoDate): Promise<void> {
  const from = { runId: 'seed', line: 2 };
  const invoice = (invoiceId: string, issued: number, amount: number) => ({
    kind: 'invoices' as const,
    row: {
      customerId: 'C7',
      invoiceId,
      issueDate: addDays(today, issued),
      dueDate: addDays(today, issued + 30),
      amount,
      currency: 'EUR',
      disputed: false,
    },
    from,
  });
  await store.write([
    {
      kind: 'customers',
      row: { customerId: 'C7', name: 'Harbour Foods Ltd', currency: 'EUR', creditLimit: 100_000_00 },
      from,
    },
    invoice('I0', -60, 2000_00),
    {
      kind: 'payments',
      row: {
        customerId: 'C7',
        paymentId: 'P0',
        receivedDate: addDays(today, -35),
        amount: 3000_00,
        currency: 'EUR',
        invoiceIds: ['I0'],
      },
      from,
    },
    invoice('I1', -10, 10_000_00),
  ] as StoredRecord[]);
}
