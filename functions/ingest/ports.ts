import type { IsoDate } from '../core/dates.ts';
import type { AllocationNote, PaymentApplication, ReceivableSummary } from '../core/receivables.ts';
import type {
  Customer,
  ExternalScore,
  FinancialStatement,
  FxRate,
  Guarantee,
  InsuranceCover,
  Invoice,
  Payment,
} from '../core/records.ts';
import type { Kind } from './kinds.ts';

/** Where a stored row came from: the run and the line of the upload that last wrote it. */
export interface Provenance {
  readonly runId: string;
  readonly line: number;
}

export type StoredRecord =
  | { kind: 'customers'; row: Customer; from: Provenance }
  | { kind: 'invoices'; row: Invoice; from: Provenance }
  | { kind: 'payments'; row: Payment; from: Provenance }
  | { kind: 'financials'; row: FinancialStatement; from: Provenance }
  | { kind: 'fx'; row: FxRate; from: Provenance }
  | { kind: 'guarantees'; row: Guarantee; from: Provenance }
  | { kind: 'insurance'; row: InsuranceCover; from: Provenance }
  | { kind: 'scores'; row: ExternalScore; from: Provenance };

export interface CustomerBooksRecord {
  readonly customer?: Customer | undefined;
  readonly invoices: (Invoice & { from?: Provenance })[];
  readonly payments: (Payment & { from?: Provenance })[];
  /** The allocation last stored per payment, to write only what changed. */
  readonly applications: Map<string, StoredApplication>;
  /** The summary last stored, to write it only when it changed. */
  readonly summary?: ReceivableSummary | undefined;
}

/** What a customer's recomputation stores: its summary (when changed) and changed allocations. */
export interface DerivedChanges {
  readonly customerId: string;
  readonly summary?: ReceivableSummary | undefined;
  readonly applications: readonly StoredApplication[];
}

export interface StoredApplication extends PaymentApplication {
  readonly notes: AllocationNote[];
}

export interface RejectRecord {
  readonly line: number;
  readonly column: string;
  readonly value: string;
  readonly reason: string;
}

export type RunStatus = 'processed' | 'unreadable';

/**
 * Invoices and payments of customers with no master data on file, grouped per customer: counted
 * in full, the first customers listed with their first lines, every row in `report`.
 */
export interface UnknownCustomersSummary {
  /** Loaded (the default) or rejected (the profile's `"unknownCustomers": "reject"`). */
  readonly action: 'loaded' | 'rejected';
  /** How many customers, and how many rows (file lines) of theirs. */
  readonly customers: number;
  readonly rows: number;
  /** The first customers in file order: rows, and lines as ranges (`2-10001`, `5, 9 and 3 more`). */
  readonly listed: readonly { readonly customerId: string; readonly rows: number; readonly lines: string }[];
  /** Where every row is listed: the warnings report (loaded) or the rejects report (rejected). */
  readonly report?: string | undefined;
}

/** Narrows the list of ingest runs: to a kind of data, to runs that rejected rows (or none). */
export interface RunFilter {
  readonly kind?: Kind | undefined;
  readonly rejects?: boolean | undefined;
}

export interface IngestRun {
  readonly runId: string;
  readonly file: string;
  readonly objectRef: string;
  readonly kinds: Kind[];
  readonly profile: string;
  readonly status: RunStatus;
  readonly reason?: string | undefined;
  readonly format?: string | undefined;
  readonly encoding?: string | undefined;
  readonly rowsRead: number;
  readonly accepted: Partial<Record<Kind, number>>;
  readonly acceptedTotal: number;
  readonly rejected: number;
  readonly warnings: string[];
  readonly rejectsFile?: string | undefined;
  /** The warnings report next to the upload (rows loaded that need a look), when one was written. */
  readonly warningsFile?: string | undefined;
  /** Present when some invoices or payments named a customer with no master data on file. */
  readonly unknownCustomers?: UnknownCustomersSummary | undefined;
  readonly customersChanged: number;
  readonly asOf: IsoDate;
  readonly startedAt: string;
  readonly finishedAt: string;
}

/** The persistence the ingestion needs; DynamoDB in AWS and on dynalite locally. */
/** The mark a run leaves while it writes (the store lists the marks of runs not finished). */
export interface OpenRun {
  readonly runId: string;
  readonly objectRef: string;
  readonly file: string;
  readonly startedAt: string;
  /** `rows` while the run writes rows, `recompute` once they are all stored. @default rows */
  readonly phase?: 'rows' | 'recompute' | undefined;
  /** The run's last sign of life (it beats every few seconds); a mark silent for long is dead. */
  readonly beatAt?: string | undefined;
  /** Which process runs it (`<host>:<pid>`), so a local run can tell a killed one at once. */
  readonly owner?: string | undefined;
}

export interface IngestStore {
  getCustomers(ids: readonly string[]): Promise<Map<string, Customer>>;
  /**
   * Which of these customers have receivables on file: a stored summary, or any stored invoice or
   * payment (rows a run that died left without a summary count too), strongly read.
   */
  customersWithBooks(ids: readonly string[]): Promise<Set<string>>;
  /**
   * Marks a run as started, before its first write, then moves the ingest epoch on by one (an
   * atomic counter every run's start bumps); returns the epoch after this run's bump.
   */
  openRun(mark: OpenRun): Promise<number>;
  /** Writes the mark again (its phase and sign of life); brings it back if another run cleared it. */
  beatRun(mark: OpenRun): Promise<void>;
  /** The ingest epoch: how many runs have started, ever (strongly read). */
  ingestEpoch(): Promise<number>;
  /** The marks of runs started and not finished (in progress elsewhere, or died), strongly read. */
  openRuns(): Promise<OpenRun[]>;
  /**
   * Removes the run's mark, those of earlier attempts at the same object (redone in full), and
   * the dead marks listed in `dead`.
   */
  closeRun(mark: OpenRun, dead?: readonly OpenRun[]): Promise<void>;
  /** All rates of a pair, oldest first. */
  getFxRates(base: string, quote: string): Promise<FxRate[]>;
  /** Upserts records by their business keys, retrying throttled items. */
  write(records: readonly StoredRecord[]): Promise<void>;
  /** The run and line that last wrote this record's key, if any. */
  provenanceOf(record: StoredRecord): Promise<Provenance | undefined>;
  loadBooks(customerId: string): Promise<CustomerBooksRecord>;
  /** Stores the summaries and payment applications that changed, for many customers at once. */
  saveDerived(changes: readonly DerivedChanges[]): Promise<void>;
  putRun(run: IngestRun, rejects: readonly RejectRecord[]): Promise<void>;
}

/** "These customers changed": what alerting listens to (SNS in AWS, the local dispatcher offline). */
export interface CustomersChanged {
  readonly type: 'customers.changed';
  readonly runId: string;
  readonly asOf: IsoDate;
  readonly customerIds: string[];
}

export interface ChangeNotifier {
  customersChanged(message: CustomersChanged): Promise<void>;
}

/** Receives the rejects report as CSV text and stores it next to the upload. */
export interface RejectsSink {
  write(csvText: string): void;
  /** Finishes the report; returns where it lives (a path or s3:// URL). */
  close(): Promise<string>;
}

export interface Clock {
  now(): Date;
}

/** The claim an ingest holds on one uploaded object version (see DynamoUploadClaims). */
export interface UploadClaim {
  readonly status: 'running' | 'done' | 'failed';
  /** The claimant's own token: a retried write whose response was lost recognises its claim. */
  readonly token: string;
  /** The process that holds it (`<host>:<pid>`), so a local claimant can tell a killed one. */
  readonly process?: string | undefined;
  readonly startedAt: string;
  readonly beatAt: string;
  /** Epoch ms until which a running claim holds without a new sign of life. */
  readonly leaseUntil?: number | undefined;
  readonly finishedAt?: string | undefined;
  readonly result?: unknown;
  /** Why the last attempt failed. */
  readonly reason?: string | undefined;
}

export type ClaimResult =
  /** This token holds the claim; `before` is the claim it replaced (another's, failed or expired). */
  | { kind: 'claimed'; before?: UploadClaim | undefined }
  | { kind: 'done'; claim: UploadClaim }
  | { kind: 'busy'; claim: UploadClaim };

export interface UploadClaims {
  /**
   * Claims the object for this token: free, failed, expired, already this token's, or held by
   * `takeOverFrom` (a claimant known dead). Otherwise says it is done or busy.
   */
  claim(
    id: string,
    mine: { token: string; process?: string | undefined; now: Date; leaseMs: number },
    takeOverFrom?: string,
  ): Promise<ClaimResult>;
  /** Extends a running claim's lease; false when another took it over. */
  renew(id: string, token: string, now: Date, leaseMs: number): Promise<boolean>;
  complete(id: string, token: string, now: Date, result: unknown): Promise<void>;
  /** Gives the claim up with the reason, so the next delivery takes it at once and says why. */
  fail(id: string, token: string, now: Date, reason: string): Promise<void>;
}
