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
  /** Where payment reminders go (README "Collections"): one address. */
  readonly billingEmail?: string | undefined;
  /** Whom the reminders greet. */
  readonly billingContact?: string | undefined;
  /** The reminders' language. @default 'en' */
  readonly language?: 'en' | 'zh' | undefined;
}

/**
 * Whether a customer's master data is on file: a customers row was stored for it. A master data
 * item holding only the limit a review set (no name) does not count: nobody ever uploaded that
 * customer. The ingestion warns about rows of customers not on file; a review decides no limit
 * for them.
 */
export function isOnFile(c: Customer | null | undefined): boolean {
  return c !== null && c !== undefined && typeof c.name === 'string' && c.name !== '';
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
  /** How it was sent (paper, electronic, ...), when the books say: the payment-date model reads it. */
  readonly channel?: string | undefined;
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

/** A bank guarantee (银行保函) securing the customer's debts. */
export interface Guarantee {
  readonly customerId: string;
  readonly guaranteeId: string;
  readonly issuer: string;
  /** Minor units of `currency`. */
  readonly amount: number;
  readonly currency: string;
  readonly validFrom?: IsoDate | undefined;
  readonly expiry: IsoDate;
}

/** Credit insurance on the customer's receivables. */
export interface InsuranceCover {
  readonly customerId: string;
  readonly policyId: string;
  readonly insurer: string;
  /** The insured share of a loss, in basis points (9000 = 90%). */
  readonly insuredShareBp: number;
  /** The insurer's most per loss, minor units of `currency`. */
  readonly cap: number;
  readonly currency: string;
  readonly validFrom?: IsoDate | undefined;
  readonly expiry: IsoDate;
}

/** A score from a credit agency (征信/第三方评级), on the agency's own scale. */
export interface ExternalScore {
  readonly customerId: string;
  readonly agency: string;
  readonly date: IsoDate;
  readonly score: number;
  /** The best score on the agency's scale (the worst is 0). */
  readonly scaleMax: number;
}

/**
 * An approved transfer to or for a customer, as its credit file counts it (DOMAIN "Limit use":
 * exposure = open receivables + approved but unpaid transfers). Written when the last approval
 * lands, marked paid when finance says the money left.
 */
export interface TransferCommitment {
  readonly customerId: string;
  readonly transferId: string;
  /** refund, overpayment_return, rebate or credit_release (a bank account change moves no money). */
  readonly transferType: string;
  /** Minor units of `currency`. */
  readonly amount: number;
  readonly currency: string;
  /** The finance team's day the last level approved it. */
  readonly approvedOn: IsoDate;
  /** The day the money left, once finance marks it paid. */
  readonly paidOn?: IsoDate | undefined;
}
