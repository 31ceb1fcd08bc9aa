import type { DynamoStore } from '../../../functions/adapters/dynamodb.ts';
import type { OrderReleaseDeps } from '../../../functions/checks/holds.ts';
import type { CheckDeps } from '../../../functions/checks/ports.ts';
import type { DisputeDeps, PromiseDeps } from '../../../functions/collections/app.ts';
import type { CollectorBook, HoldBook } from '../../../functions/collections/ports.ts';
import type { Page, PageRequest } from '../../../functions/core/paging.ts';
import type { Policy } from '../../../functions/credit/policy.ts';
import type { BookPredictionsCache } from '../../../functions/predict/book.ts';
import type { ReceivablesQueries } from '../../../functions/receivables/queries.ts';
import type { RequestOutcome, TransferApp } from '../../../functions/transfers/app.ts';
import type { HttpRequest, HttpResponse } from '../../../functions/transfers/http.ts';
import type { Approval, Transfer, TransferFilter } from '../../../functions/transfers/ports.ts';
import type { OpsSummary } from '../runtime/ops.ts';
import type { OutboxMail } from '../runtime/transfers.ts';
import type { ConsoleApplications } from './applications.ts';
import type { ConsoleReviews } from './reviews.ts';

/** What the console is given: the stores and applications it shows and acts through. */
export interface ConsoleOptions {
  readonly queries: ReceivablesQueries;
  /** The credit side: alerts and live assessments. Without it /alerts says it is not available. */
  readonly credit?: ConsoleCredit;
  /** The finance team's "today" as an ISO date: the default `asOf`. */
  readonly today: () => string;
  /** Transfer approvals: the approval pages, Slack's endpoint and the transfers API, and the outbox. */
  readonly transfers?: ConsoleTransfers;
  /** Periodic reviews: the runs, a run's customers and report, the form that runs one. */
  readonly reviews?: ConsoleReviews;
  /** Credit applications: the list, an application, the form and API that file one. @default none: 404 */
  readonly applications?: ConsoleApplications | undefined;
  /**
   * The customer portal the reminders link to (`/portal/<token>`): the same handler the portal
   * Lambda runs. @default none: /portal/ is not found
   */
  readonly portal?: ((req: HttpRequest) => Promise<HttpResponse>) | undefined;
  /** The ops figures (metrics and live counts) of `/ops`. Without it /ops says it is not available. */
  readonly ops?: () => Promise<OpsSummary>;
  /**
   * Who the console's actions are recorded as when the form's "actor" field is left as it is (alerts
   * acknowledged, snoozed, resolved). @default env SENTINEL_OPERATOR, else USER, else "console"
   */
  readonly operator?: string;
  /**
   * Predicted payment dates and the cash-in forecast (functions/predict/book.ts). @default made over
   * `credit.store` when there is one; without either, /forecast says it is not available
   */
  readonly predictions?: BookPredictionsCache | undefined;
  /** @default 8787; 0 picks a free port */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
}

export interface ConsoleCredit {
  /**
   * The console never stores an assessment; it writes an alert only as `sentinel alerts
   * ack|snooze|resolve` does (`activeAlert`, `applyCommand`, `saveEvaluation`).
   */
  readonly store: Pick<
    DynamoStore,
    | 'alertsPage'
    | 'activeAlertCounts'
    | 'listAlerts'
    | 'countAlerts'
    | 'alertRefs'
    | 'alertsByKey'
    | 'loadCustomerPartition'
    | 'getCustomers'
    | 'listCustomerIds'
    | 'activeAlert'
    | 'saveEvaluation'
    | 'getFxRates'
  >;
  /** The policy in force, read on every request (so `sentinel policy set` shows at once). */
  readonly policy: () => Promise<Policy>;
  /**
   * Where the console's collections actions are recorded and put on the audit trail: promises to
   * pay (the Collections page's form), disputes opened and resolved, credit holds lifted,
   * collectors assigned and calls logged (the credit file's forms). @default none: no forms; the
   * `sentinel collections` commands do them
   */
  readonly collections?: CollectionsActions | undefined;
  /**
   * Credit checks of orders (`POST /api/credit-checks`, `POST /api/credit-checks/cancel`): the same
   * code as `sentinel credit-check`. @default none: the API answers 404
   */
  readonly checks?: CheckDeps | undefined;
  /**
   * The order release of a held order (the Credit checks page's form, `POST
   * /api/credit-checks/release`): the approval chain. @default none: no release form, 404
   */
  readonly checkReleases?: OrderReleaseDeps | undefined;
}

export interface ConsoleTransfers {
  /** The same handler the approval and transfers Lambdas run. */
  readonly http: (req: HttpRequest) => Promise<HttpResponse>;
  /** A page of the transfers (those `filter` selects), newest first, with how many there are. */
  readonly page: (req: PageRequest, filter?: TransferFilter) => Promise<Page<Transfer>>;
  /** Every transfer `filter` selects, newest first (a search, another sort, the CSV). */
  readonly list: (filter?: TransferFilter) => Promise<Transfer[]>;
  /** A page of the outbox's emails, newest first (`page` from 1). */
  readonly mail: (page: number, size: number) => Promise<Page<OutboxMail>>;
  /** Validates, records and starts a transfer request (the console's form). */
  readonly request: (input: unknown) => Promise<RequestOutcome>;
  /** Every transfer asked for a customer (the customer page's list), in any order. */
  readonly ofCustomer?: ((customerId: string) => Promise<Transfer[]>) | undefined;
  /** A transfer and its approvals (the console's transfer page). */
  readonly show: (transferId: string) => Promise<{ transfer: Transfer; approvals: Approval[] } | undefined>;
  /** Finance marks an approved transfer paid (the transfer page's form). */
  readonly markPaid: TransferApp['markPaid'];
  /** The requester takes a pending transfer back (the transfer page's Recall button; the API's recall). */
  readonly recall: TransferApp['recall'];
  /** A failed transfer run again (the transfer page's Retry button; the API's retry). */
  readonly retry: TransferApp['retry'];
  /** Every approval waiting for a decision, oldest first (the Approvals page). */
  readonly pendingApprovals: TransferApp['pendingApprovals'];
  /** The signed link an approval's email carries. */
  readonly approvalUrl: TransferApp['approvalUrl'];
  /** Puts a new credit policy to the approval chain (`POST /api/policy`, `sentinel policy set`). */
  readonly proposePolicy?: TransferApp['requestPolicyChange'] | undefined;
}

export interface RunningConsole {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Rows of a customer page's tables (the JSON has them all): at 5,000 invoices and 1,500 payments
 * the whole tables made a 735 KB page; these keep the page under 250 KB.
 */
export const SETTLED_SHOWN = 100;
export const OPEN_SHOWN = 200;
export const PAYMENTS_SHOWN = 100;
export const NOTES_SHOWN = 100;
export const DEFAULT_RUNS = 50;
export const MAX_RUNS = 1000;

/** What the console's collections forms need: the store's books and the audit trail. */
export type CollectionsActions = PromiseDeps & DisputeDeps & { readonly store: HoldBook & CollectorBook };
