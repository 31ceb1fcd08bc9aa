import { sameData } from '../core/canonical.ts';
import { mapLimit } from '../core/concurrency.ts';
import { addDays, type IsoDate } from '../core/dates.ts';
import type { Clock } from '../ingest/ports.ts';
import {
  type Alert,
  type AlertDigest,
  digestOf,
  explainFindings,
  type Notification,
  reconcile,
} from './alerts.ts';
import {
  type Assessment,
  assess,
  type CreditFile,
  explainAssessment,
  type PriorAssessment,
} from './assess.ts';
import { type Policy, RULES, type RuleName, SEVERITIES, type Severity } from './policy.ts';
import type {
  AlertNotifier,
  CreditStore,
  CustomerPartition,
  EvaluationWrite,
  StoredAssessment,
} from './ports.ts';
import { concentrationCandidate, evaluateRules } from './rules.ts';

export interface EvaluateDeps {
  readonly store: CreditStore;
  readonly notifier: AlertNotifier;
  readonly policy: Policy;
  readonly clock: Clock;
  /** Customers loaded in parallel. @default 8 */
  readonly concurrency?: number;
}

export interface EvaluationRun {
  readonly asOf: IsoDate;
  readonly policyId: string;
  readonly customers: number;
  readonly ratings: Record<string, number>;
  readonly ratingChanges: number;
  readonly opened: number;
  readonly escalated: number;
  /** The alerts opened or escalated (`opened + escalated`), by the severity people were told of. */
  readonly raisedBySeverity: Readonly<Record<Severity, number>>;
  readonly resolved: number;
  readonly active: number;
  readonly notifications: number;
}

const GROUP = 500;
const NOT_CONCENTRATION = new Set<RuleName>(RULES.filter((r) => r !== 'concentration'));
const CONCENTRATION = new Set<RuleName>(['concentration']);

/** The credit file of a stored partition (invoices and payments are already in the credit currency). */
export function creditFileOf(customerId: string, p: CustomerPartition): CreditFile {
  const b = p.books;
  const currency =
    b.customer?.currency ??
    p.summary?.currency ??
    b.invoices[0]?.currency ??
    b.payments[0]?.currency ??
    'XXX';
  return {
    customerId,
    customer: b.customer,
    currency,
    invoices: b.invoices,
    payments: b.payments,
    financials: p.financials,
    guarantees: p.guarantees,
    insurance: p.insurance,
    scores: p.scores,
    transfers: p.transfers,
    recent: p.assessment?.recent ?? [],
  };
}

/** The file as the evaluation of `asOf` sees it: only assessments made as of earlier days count. */
export function asOfFile(file: CreditFile, asOf: IsoDate): CreditFile {
  return { ...file, recent: (file.recent ?? []).filter((p) => p.asOf < asOf) };
}

const RECENT_DAYS = 90;

/**
 * The assessment with its rating history as it is stored: the rating changes of the last 90 days
 * (each entry holds from its date until the next one), and the entry in effect when they began.
 * A day whose rating is the same as the last entry's adds nothing, so a steady customer's stored
 * assessment does not change from one day to the next and is not written again.
 */
export function withRecent<A extends Assessment>(a: A, file: CreditFile): A {
  const since = addDays(a.asOf, -RECENT_DAYS);
  const before = (file.recent ?? []).filter((p) => p.asOf < a.asOf);
  const firstInWindow = before.findIndex((p) => p.asOf >= since);
  const kept = firstInWindow < 0 ? before.slice(-1) : before.slice(Math.max(0, firstInWindow - 1));
  const last = kept[kept.length - 1];
  const recent: PriorAssessment[] =
    last && last.rating === a.rating
      ? kept
      : [...kept, { asOf: a.asOf, rating: a.rating, score: a.score, policyId: a.policyId }];
  return { ...a, recent };
}

/** The assessment as stored: with its words, without the working figures. */
function stored(a: Assessment & { figures?: unknown }): StoredAssessment {
  const { figures: _f, ...rest } = a;
  return explainAssessment(rest);
}

/**
 * Whether a stored assessment holds the same numbers as a new one, apart from the date. The words
 * are made from the numbers, so they are not compared; the stored attributes may come back from
 * DynamoDB in another order, so the comparison is structural.
 */
function sameAssessment(before: StoredAssessment, a: Assessment): boolean {
  const { asOf: _b, factors: bf, limit: bl, ...bRest } = before;
  const { asOf: _a, factors: af, limit: al, figures: _f, ...aRest } = a as Assessment & { figures?: unknown };
  return (
    sameData(bRest, aRest) &&
    sameData({ ...bl, basis: undefined, reason: undefined }, al) &&
    bf.length === af.length &&
    bf.every((f, i) => sameData({ ...f, reason: undefined }, af[i]))
  );
}

/** Whether an assessment says something the stored one did not (so the history keeps it). */
function newsworthy(a: StoredAssessment, before: StoredAssessment | undefined): boolean {
  return (
    before === undefined ||
    before.score !== a.score ||
    before.rating !== a.rating ||
    before.policyId !== a.policyId ||
    before.limit.recommended !== a.limit.recommended ||
    before.limit.current !== a.limit.current
  );
}

/**
 * Evaluates customers as of a date: scores, rates and limits each, runs the early-warning rules,
 * brings its alerts up to date and notifies. Without `customerIds`, every customer (the daily run);
 * with them, those customers (after an ingest), the book's concentration taken from the others'
 * stored summaries.
 *
 * Reproducible: the same data, policy and `asOf` give the same assessments and alerts; only
 * assessments made as of earlier dates are the downgrade rule's reference.
 */
export async function evaluate(
  deps: EvaluateDeps,
  req: { asOf: IsoDate; customerIds?: readonly string[] | undefined },
): Promise<EvaluationRun> {
  const { store, policy } = deps;
  const now = deps.clock.now().toISOString();
  const ids = req.customerIds ? [...new Set(req.customerIds)].sort() : await store.listCustomerIds();
  const open = new Map<string, { currency: string; open: number }>();
  const concentrationAlerts = new Map<string, Alert>();
  const ratings: Record<string, number> = {};
  let ratingChanges = 0;
  let opened = 0;
  let escalated = 0;
  const raisedBySeverity = Object.fromEntries(SEVERITIES.map((v) => [v, 0])) as Record<Severity, number>;
  let resolved = 0;
  let notifications = 0;
  /** Notifications of the group being evaluated: sent before its changes are stored (see below). */
  let pending: Notification[] = [];
  const count = (changed: readonly Alert[], notes: readonly Notification[]) => {
    for (const n of notes) {
      if (n.reason === 'opened') opened++;
      else escalated++;
      raisedBySeverity[n.alert.severity]++;
    }
    for (const a of changed) if (a.status === 'resolved') resolved++;
    pending.push(...notes);
  };

  // People are told before the change is stored: if storing fails, the retry finds the same change
  // and tells them again (at least once); the other order would lose the notification for good.
  const notifyThenSave = async (writes: EvaluationWrite[]) => {
    if (pending.length > 0) await deps.notifier.notify(pending, req.asOf);
    notifications += pending.length;
    pending = [];
    await store.saveEvaluation(writes);
  };

  for (let g = 0; g < ids.length; g += GROUP) {
    const writes: EvaluationWrite[] = [];
    await mapLimit(ids.slice(g, g + GROUP), deps.concurrency ?? 8, async (id) => {
      const part = await store.loadCustomerPartition(id);
      const file = asOfFile(creditFileOf(id, part), req.asOf);
      const a = withRecent(assess(file, req.asOf, policy), file);
      const candidates = evaluateRules(file, a, policy);
      const r = reconcile(
        part.alerts,
        explainFindings(candidates, part.alerts),
        req.asOf,
        now,
        NOT_CONCENTRATION,
      );
      count(r.changed, r.notify);
      ratings[a.rating] = (ratings[a.rating] ?? 0) + 1;
      if (part.assessment && part.assessment.rating !== a.rating) ratingChanges++;
      // What changed apart from the date: a steady customer is not written again every day (nor
      // are its words made again).
      const changed = !part.assessment || !sameAssessment(part.assessment, a);
      const s = changed ? stored(a) : part.assessment;
      writes.push({
        customerId: id,
        assessment: changed ? s : undefined,
        history: changed && newsworthy(s, part.assessment),
        alerts: r.changed,
      });
      open.set(id, { currency: file.currency, open: a.figures.receivables.summary.openAmount });
      const c = part.alerts.find((x) => x.rule === 'concentration');
      if (c) concentrationAlerts.set(id, c);
    });
    await notifyThenSave(writes);
  }

  // The book's concentration, once every evaluated customer's open amount as of the date is known.
  if (policy.rules.concentration.enabled) {
    const book = new Map<string, { open: number; customers: number }>();
    const add = (currency: string, amount: number) => {
      const b = book.get(currency) ?? { open: 0, customers: 0 };
      if (amount > 0) book.set(currency, { open: b.open + amount, customers: b.customers + 1 });
    };
    for (const v of open.values()) add(v.currency, v.open);
    if (req.customerIds) {
      // The customers not evaluated now count with their stored summaries.
      const others = await store.listSummaries();
      for (const s of others) if (!open.has(s.customerId)) add(s.currency, s.openAmount);
    }
    const writes: EvaluationWrite[] = [];
    for (const [id, v] of open) {
      const b = book.get(v.currency);
      const c = b && concentrationCandidate(id, v.currency, v.open, b, req.asOf, policy);
      const active = concentrationAlerts.get(id);
      const was = active ? [active] : [];
      const r = reconcile(was, explainFindings(c ? [c] : [], was), req.asOf, now, CONCENTRATION);
      if (r.changed.length > 0) writes.push({ customerId: id, alerts: r.changed });
      count(r.changed, r.notify);
    }
    await notifyThenSave(writes);
  }

  const active = await store.countAlerts('active');
  return {
    asOf: req.asOf,
    policyId: policy.id,
    customers: ids.length,
    ratings,
    ratingChanges,
    opened,
    escalated,
    raisedBySeverity,
    resolved,
    active,
    notifications,
  };
}

/**
 * The daily digest of the active alerts as of `asOf`, sent through the notifier (each channel
 * decides whether it wants it). Nothing when no alert is active. Returns what was sent.
 */
export async function sendDigest(
  deps: { readonly store: Pick<CreditStore, 'listAlerts'>; readonly notifier: AlertNotifier },
  asOf: IsoDate,
): Promise<AlertDigest | undefined> {
  const d = digestOf(await deps.store.listAlerts('active'), asOf);
  if (d) await deps.notifier.digest(d);
  return d;
}
