import type { IsoDate } from '../core/dates.ts';
import type { CheckFile, OrderBook } from './decide.ts';
import type { HeldOrder } from './held.ts';
import type { CheckLog } from './log.ts';

/** Where a credit check reads the customer's file and keeps its reservations (`ORDERS`). */
export interface CheckStore {
  /**
   * The fixed items a check reads (README "Credit checks"), and when the order is in another
   * currency than the credit currency the latest rate each way dated on or before the day.
   */
  loadCheckFile(
    customerId: string,
    fx?: { readonly from: string; readonly to: string; readonly asOf: IsoDate },
    /** `orderId`: also this order's `HELD#` item, in the same read. */
    opts?: { readonly orderId?: string | undefined },
  ): Promise<CheckFile>;
  /** Writes the order book only over `expectedVersion` (0: none yet); `conflict` when someone wrote since. */
  writeOrders(customerId: string, next: OrderBook, expectedVersion: number): Promise<'written' | 'conflict'>;
  /**
   * Held orders (functions/checks/held.ts). A store without them (a test's) keeps no hold queue.
   */
  getHeld?(customerId: string, orderId: string): Promise<HeldOrder | undefined>;
  writeHeld?(next: HeldOrder, expectedVersion: number): Promise<'written' | 'conflict'>;
  heldOrders?(customerIds?: readonly string[]): Promise<HeldOrder[]>;
  heldOf?(customerId: string): Promise<HeldOrder[]>;
}

export interface CheckDeps {
  readonly store: CheckStore;
  /**
   * Where each decision and cancel is written before the check answers: the customer's partition,
   * chained to the audit trail in batches (functions/checks/log.ts), not the one chain itself.
   */
  readonly log: CheckLog;
}
