import type { AuditEvent } from '../core/audit.ts';
import type { IsoDate } from '../core/dates.ts';
import type { CheckFile, OrderBook } from './decide.ts';

/** Where a credit check reads the customer's file and keeps its reservations (`ORDERS`). */
export interface CheckStore {
  /**
   * The fixed items a check reads (README "Credit checks"), and when the order is in another
   * currency than the credit currency the latest rate each way dated on or before the day.
   */
  loadCheckFile(
    customerId: string,
    fx?: { readonly from: string; readonly to: string; readonly asOf: IsoDate },
  ): Promise<CheckFile>;
  /** Writes the order book only over `expectedVersion` (0: none yet); `conflict` when someone wrote since. */
  writeOrders(customerId: string, next: OrderBook, expectedVersion: number): Promise<'written' | 'conflict'>;
}

export interface CheckDeps {
  readonly store: CheckStore;
  readonly audit: { appendAudit(e: AuditEvent): Promise<unknown> };
}
