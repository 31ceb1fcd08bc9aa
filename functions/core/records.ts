import type { IsoDate } from './dates.ts';

/** An amount as it was billed or paid, before conversion to the customer's credit currency. */
export interface Original {
  readonly amount: number;
  readonly currency: string;
  /** The rate applied, quote per base, as exact decimal text; `inverse` when base/quote were swapped. */
  readonly rate: string;
  readonly rateDate: IsoDate;
}

export interface Customer {
  readonly customerId: string;
  readonly name: string;
  readonly country?: string | undefined;
  readonly industry?: string | undefined;
  /** Credit currency: every receivable of the customer is kept in it. */
  readonly currency?: string | undefined;
  readonly paymentTermsDays?: number | undefined;
  /** Minor units of `currency`. */
  readonly creditLimit?: number | undefined;
  readonly registrationNo?: string | undefined;
}

export interface Invoice {
  readonly customerId: string;
  readonly invoiceId: string;
  readonly issueDate: IsoDate;
  readonly dueDate: IsoDate;
  /** Minor units of `currency` (the customer's credit currency when it has one). */
  readonly amount: number;
  readonly currency: string;
  readonly disputed: boolean;
  readonly original?: Original | undefined;
}

export interface Payment {
  readonly customerId: string;
  readonly paymentId: string;
  readonly receivedDate: IsoDate;
  readonly amount: number;
  readonly currency: string;
  /** Invoices the remittance names; empty means "allocate oldest due first". */
  readonly invoiceIds: readonly string[];
  readonly original?: Original | undefined;
}

export interface FinancialStatement {
  readonly customerId: string;
  readonly periodEnd: IsoDate;
  readonly currency: string;
  readonly revenue?: number | undefined;
  readonly currentAssets?: number | undefined;
  readonly currentLiabilities?: number | undefined;
  readonly inventory?: number | undefined;
  readonly totalAssets?: number | undefined;
  readonly totalLiabilities?: number | undefined;
  readonly retainedEarnings?: number | undefined;
  readonly ebit?: number | undefined;
  readonly equity?: number | undefined;
}

export interface FxRate {
  readonly date: IsoDate;
  readonly base: string;
  readonly quote: string;
  /** Exact decimal text: quote units per one base unit. */
  readonly rate: string;
}
