import type { AuditEvent } from '../core/audit.ts';
import type { IsoDate } from '../core/dates.ts';
import { formatMoney } from '../core/money.ts';
import type { Customer } from '../core/records.ts';
import type { Policy } from '../credit/policy.ts';
import type { ApprovalPolicy } from '../transfers/approval-policy.ts';
import { resolvePerson, unknownPerson } from '../transfers/approval-policy.ts';
import type { Transfer } from '../transfers/ports.ts';
import {
  type ApplicationIssue,
  byFieldOrder,
  type CreditApplication,
  parseApplication,
  pendingWords,
  rateApplication,
} from './application.ts';

/** Where applications live (functions/adapters/dynamodb-applications.ts). */
export interface ApplicationStore {
  /** The customer's latest application. */
  current(customerId: string): Promise<CreditApplication | undefined>;
  byId(applicationId: string): Promise<CreditApplication | undefined>;
  /** Every customer's latest application, newest first. */
  list(): Promise<CreditApplication[]>;
  /** The customer's master data (`PROFILE`), if any. */
  profile(customerId: string): Promise<Customer | undefined>;
  fileNew(a: CreditApplication, replaced: CreditApplication | undefined): Promise<'written' | 'conflict'>;
  update(next: CreditApplication, expectedVersion: number): Promise<'written' | 'conflict'>;
  /** Master data from the application, each field only where the customer has none. */
  openAccount(a: CreditApplication): Promise<void>;
}

/** The audit trail (the transfers store's chain). */
export interface ApplicationAudit {
  appendAudit(e: AuditEvent, opts?: { readonly once?: string }): Promise<unknown>;
}

export interface ApplicationDeps {
  readonly store: ApplicationStore;
  readonly audit: ApplicationAudit;
  readonly policy: () => Promise<Policy>;
  readonly approvalPolicy: () => Promise<ApprovalPolicy>;
  /** Asks the approval chain for the application's initial limit (TransferApp.requestCreditApplication). */
  readonly approvals: { requestCreditApplication(a: CreditApplication): Promise<{ transferId: string }> };
  readonly clock: { now(): Date };
  readonly today: () => IsoDate;
}

export type FileOutcome =
  | { readonly ok: true; readonly application: CreditApplication }
  | { readonly ok: false; readonly status: 400 | 409; readonly issues: ApplicationIssue[] };

/**
 * Files a credit application (README "Credit applications"): validated (every bad field named,
 * nothing written), refused for a customer on file with a limit already (a change of limit is a
 * review's) or with an application still pending; rated by the scorecard as of today; stored as
 * the customer's `APPLICATION` with a conditional write (two filings at once store one); then its
 * initial limit is asked of the approval chain. Asking again (a failure between the two) is
 * `ask`, which finds the same request.
 */
export async function fileApplication(deps: ApplicationDeps, input: unknown): Promise<FileOutcome> {
  const parsed = parseApplication(input);
  const raw = (typeof input === 'object' && input !== null ? input : {}) as { filedBy?: unknown };
  const people = await deps.approvalPolicy();
  const filer = typeof raw.filedBy === 'string' ? resolvePerson(people, raw.filedBy) : undefined;
  const issues = parsed.ok ? [] : [...parsed.issues];
  if (filer === undefined && typeof raw.filedBy === 'string' && raw.filedBy.trim() !== '')
    issues.push({ field: 'filedBy', message: unknownPerson(raw.filedBy) });
  if (!parsed.ok || issues.length > 0) return { ok: false, status: 400, issues: byFieldOrder(issues) };
  const f = { ...parsed.filing, filedBy: filer as string };
  const [profile, current] = await Promise.all([
    deps.store.profile(f.customerId),
    deps.store.current(f.customerId),
  ]);
  if (profile?.creditLimit !== undefined && profile.currency !== undefined)
    return conflict(
      'customerId',
      `${f.customerId} is on file with a credit limit of ${formatMoney(profile.creditLimit, profile.currency)}: a change of limit is a review's, not an application's`,
    );
  if (profile?.currency !== undefined && profile.currency !== f.currency)
    return {
      ok: false,
      status: 400,
      issues: [
        {
          field: 'currency',
          message: `${f.customerId} is on file in ${profile.currency}: the application must ask in it`,
        },
      ],
    };
  if (current?.state === 'pending') {
    // A filing that stopped before its approval request was asked: asked now, so it is decided.
    if (!current.transferId) {
      const asked = await ask(deps, current.applicationId);
      return conflict(
        'customerId',
        `${current.applicationId} of ${f.customerId} is ${pendingWords(current)}; its approval request had not been asked (a failure when it was filed) and is asked now: ${asked.transferId}`,
      );
    }
    return conflict('customerId', `${current.applicationId} of ${f.customerId} is ${pendingWords(current)}`);
  }
  const asOf = deps.today();
  const n = (current ? Number(/-(\d+)$/.exec(current.applicationId)?.[1] ?? 0) : 0) + 1;
  const application: CreditApplication = {
    applicationId: `APP-${f.customerId}-${n}`,
    ...f,
    filedAt: deps.clock.now().toISOString(),
    filedOn: asOf,
    state: 'pending',
    version: 1,
    rating: rateApplication(f, asOf, await deps.policy()),
    onFile: profile?.name !== undefined && profile.name !== '',
  };
  if ((await deps.store.fileNew(application, current)) === 'conflict') {
    const now = await deps.store.current(f.customerId);
    return conflict(
      'customerId',
      now?.state === 'pending'
        ? `${now.applicationId} of ${f.customerId} is ${pendingWords(now)}`
        : `another application of ${f.customerId} was written at the same moment: look again`,
    );
  }
  await deps.audit.appendAudit(
    {
      at: application.filedAt,
      kind: 'application.filed',
      subject: application.applicationId,
      actor: application.filedBy,
      data: { application },
    },
    { once: `application.filed#${application.applicationId}` },
  );
  return { ok: true, application: await ask(deps, application.applicationId) };
}

/** Asks the approval chain for a pending application's initial limit (again: the same request) and notes its id. */
export async function ask(deps: ApplicationDeps, applicationId: string): Promise<CreditApplication> {
  const a = await deps.store.byId(applicationId);
  if (!a) throw new Error(`there is no application ${applicationId}`);
  if (a.state !== 'pending' || a.transferId) return a;
  const { transferId } = await deps.approvals.requestCreditApplication(a);
  // Noted unless the decision came first (an approval chain quicker than this write): then it has it.
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = (await deps.store.byId(applicationId)) as CreditApplication;
    if (now.transferId) return now;
    const next = { ...now, transferId, version: now.version + 1 };
    if ((await deps.store.update(next, now.version)) === 'written') return next;
  }
  return (await deps.store.byId(applicationId)) as CreditApplication;
}

function conflict(field: string, message: string): FileOutcome {
  return { ok: false, status: 409, issues: [{ field, message }] };
}

/**
 * What the approval chain does with an application's request (TransferDeps.applications): before
 * the limit is written, the customer's master data from the application where it has none; once
 * the request ends, the application approved (with the limit), rejected or withdrawn. Each is a
 * write conditional on the version read, and a state already reached is left as it is, so a step
 * run again, or two at once, decide it once.
 */
export function applicationOutcomes(deps: Pick<ApplicationDeps, 'store' | 'audit' | 'clock'>) {
  const mustGet = async (id: string) => {
    const a = await deps.store.byId(id);
    if (!a) throw new Error(`there is no credit application ${id}`);
    return a;
  };
  return {
    async openAccount(applicationId: string): Promise<void> {
      await deps.store.openAccount(await mustGet(applicationId));
    },
    async decided(applicationId: string, t: Transfer): Promise<void> {
      const state = t.status === 'approved' ? 'approved' : t.status === 'recalled' ? 'withdrawn' : 'rejected';
      for (let attempt = 0; attempt < 8; attempt++) {
        const a = await mustGet(applicationId);
        if (a.state !== 'pending') break;
        const next: CreditApplication = {
          ...a,
          transferId: a.transferId ?? t.transferId,
          state,
          version: a.version + 1,
          decidedAt: t.closedAt ?? deps.clock.now().toISOString(),
          decidedBy: t.closedBy ?? 'approval chain',
          outcome:
            state === 'approved'
              ? `approved at every level of ${t.transferId}`
              : `${t.status}: ${t.outcome ?? t.transferId}`,
          approvedLimit: state === 'approved' ? t.limitChange?.to : undefined,
        };
        if ((await deps.store.update(next, a.version)) === 'written') break;
      }
      const a = await mustGet(applicationId);
      await deps.audit.appendAudit(
        {
          at: a.decidedAt ?? deps.clock.now().toISOString(),
          kind: 'application.decided',
          subject: applicationId,
          actor: a.decidedBy ?? 'system',
          data: {
            state: a.state,
            transferId: t.transferId,
            outcome: a.outcome,
            limit: a.approvedLimit,
            currency: a.currency,
          },
        },
        { once: `application.decided#${applicationId}` },
      );
    },
  };
}

export type ApplicationOutcomes = ReturnType<typeof applicationOutcomes>;
