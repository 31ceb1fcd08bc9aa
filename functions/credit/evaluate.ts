import { sameData } from '../core/canonical.ts';
import { mapLimit } from '../core/concurrency.ts';
import { addDays, dateInZone, type IsoDate } from '../core/dates.ts';
import type { Receivables } from '../core/receivables.ts';
import type { Clock } from '../ingest/ports.ts';
import {
  type Alert,
  type AlertDigest,
  digestOf,
  explainFindings,
  mostSeverePerRule,
  type Notification,
  reconcile,
} from './alerts.ts';
import {
  type Assessment,
  assess,
  type CreditFile,
  type ExplainedLimit,
  explainAssessment,
  explainLimit,
  type PriorAssessment,
} from './assess.ts';
import { notifyOnce, sendAbandoned } from './notify.ts';
import {
  type Policy,
  type Rating,
  type RiskClass,
  RULES,
  type RuleName,
  SEVERITIES,
  type Severity,
} from './policy.ts';
import type {
  AlertNotifier,
  CreditStore,
  CustomerPartition,
  EvaluationWrite,
  HistoryPick,
  StoredAssessment,
} from './ports.ts';
import {
  type AlertCandidate,
  concentrationCandidate,
  type ExplainedCandidate,
  evaluateRules,
  explainCandidate,
} from './rules.ts';

export interface EvaluateDeps {
  readonly store: CreditStore;
  readonly notifier: AlertNotifier;
  readonly policy: Policy;
  readonly clock: Clock;
  /** The team's IANA zone (SENTINEL_TIME_ZONE): "today" is taken there. */
  readonly timeZone: string;
  /** Customers loaded in parallel. @default 8 */
  readonly concurrency?: number;
  /** Who claims this run's notifications (notify.ts). @default a random id */
  readonly claimant?: string;
  /** After how long a claim never marked sent is taken for its claimant's death. @default 10 minutes */
  readonly claimTimeoutMs?: number;
  /**
   * Settled history packed as the run goes (README "Settled history, packed"), where the store can:
   * invoices settled and payments received more than `afterDays` before the run's date, once a
   * customer has `minRows` of them stored in full; the full rows are deleted by the packing after
   * (at least `settleMs` later). `false`: never. @default {@link HISTORY_PACKING}
   */
  readonly packHistory?: false | Partial<HistoryPacking>;
}

export interface HistoryPacking {
  readonly afterDays: number;
  readonly minRows: number;
  readonly settleMs: number;
}

/**
 * Rows settled four months ago and more; a hundred rows a pack at least; an hour before a packed
 * row's full copy goes. Packing is lossless, so the window is not the scorecard's: it only keeps
 * rows an ERP export may still send again (this month's, last quarter's) out of packs, where each
 * new upload of them would stand beside its packed copy until the next packing.
 */
export const HISTORY_PACKING: HistoryPacking = { afterDays: 120, minRows: 100, settleMs: 3_600_000 };

/**
 * What of a customer's history may be packed as of `asOf`: the invoices issued and settled before
 * the cut-off, the payments received before it. Undefined when packing would do nothing: fewer than
 * `minRows` of them are still stored in full, and no full row waits to be deleted beside its copy.
 */
export function historyPick(
  part: CustomerPartition,
  receivables: Receivables,
  asOf: IsoDate,
  cfg: HistoryPacking,
): HistoryPick | undefined {
  const cutoff = addDays(asOf, -cfg.afterDays);
  const invoiceIds = new Set<string>();
  const paymentIds = new Set<string>();
  let unpacked = 0;
  receivables.invoices.forEach((inv, k) => {
    const settled = receivables.settledDate[k];
    if (settled === undefined || settled >= cutoff || inv.issueDate >= cutoff) return;
    invoiceIds.add(inv.invoiceId);
    if (!part.packed?.invoiceIds.has(inv.invoiceId)) unpacked++;
  });
  for (const p of receivables.payments) {
    if (p.receivedDate >= cutoff) continue;
    paymentIds.add(p.paymentId);
    if (!part.packed?.paymentIds.has(p.paymentId)) unpacked++;
  }
  return unpacked >= cfg.minRows || (part.packed?.copies ?? 0) > 0 ? { invoiceIds, paymentIds } : undefined;
}

export interface EvaluationRun {
  readonly asOf: IsoDate;
  readonly policyId: string;
  /** The customers evaluated (not counting `skipped`). */
  readonly customers: number;
  /** Customers left as they were: the store already holds them as of a later day. */
  readonly skipped: number;
  readonly ratings: Record<string, number>;
  readonly ratingChanges: number;
  readonly opened: number;
  readonly escalated: number;
  /** The alerts opened or escalated (`opened + escalated`), by the severity people were told of. */
  readonly raisedBySeverity: Readonly<Record<Severity, number>>;
  readonly resolved: number;
  readonly active: number;
  readonly notifications: number;
  /**
   * Items of settled history packed (invoices, payments and their allocations; README "Settled
   * history, packed"), and items stored in full deleted once packed.
   */
  readonly history: HistoryPackingCounts;
}

/** What the packing of settled history did in a run or a batch. */
export interface HistoryPackingCounts {
  readonly packed: number;
  readonly deleted: number;
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
    promises: p.promises,
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

/** One customer as of a date: the file as that day saw it, its assessment, and what the rules found. */
function assessedAsOf(id: string, part: CustomerPartition, asOf: IsoDate, policy: Policy) {
  const file = asOfFile(creditFileOf(id, part), asOf);
  const assessment = withRecent(assess(file, asOf, policy), file);
  return { file, assessment, candidates: evaluateRules(file, assessment, policy) };
}

type OpenAmounts = ReadonlyMap<string, { readonly currency: string; readonly open: number }>;

/**
 * The concentration finding of each customer in `open` (its open amount as of the date), against
 * the book by currency: the customers in `open`, and the `others` not evaluated now with their
 * stored summaries.
 */
function concentrationFindings(
  open: OpenAmounts,
  others: readonly { customerId: string; currency: string; openAmount: number }[],
  asOf: IsoDate,
  policy: Policy,
): Map<string, AlertCandidate | undefined> {
  const book = new Map<string, { open: number; customers: number }>();
  const add = (currency: string, amount: number) => {
    const b = book.get(currency) ?? { open: 0, customers: 0 };
    if (amount > 0) book.set(currency, { open: b.open + amount, customers: b.customers + 1 });
  };
  for (const v of open.values()) add(v.currency, v.open);
  for (const s of others) if (!open.has(s.customerId)) add(s.currency, s.openAmount);
  const found = new Map<string, AlertCandidate | undefined>();
  for (const [id, v] of open) {
    const b = book.get(v.currency);
    found.set(id, b && concentrationCandidate(id, v.currency, v.open, b, asOf, policy));
  }
  return found;
}

/**
 * Whether the store already holds a later view of the customer than `asOf`: its assessment, or an
 * active alert, dated after it. A run as of an earlier day (a daily run retried late) would rewind
 * the customer, so it leaves that customer as it is.
 */
function seenAfter(part: CustomerPartition, asOf: IsoDate): boolean {
  return (part.assessment?.asOf ?? '') > asOf || part.alerts.some((a) => a.seenAsOf > asOf);
}

/** A live evaluation as of a day after today: refused, since a date in the future is a what-if. */
export class FutureEvaluationError extends Error {
  constructor(asOf: IsoDate, today: IsoDate, timeZone: string) {
    super(
      `an evaluation as of ${asOf} cannot move the alerts: it is after today (${today} in ${timeZone}); a date in the future is a what-if`,
    );
    this.name = 'FutureEvaluationError';
  }
}

/**
 * The live evaluation: scores, rates and limits customers as of `asOf`, runs the early-warning
 * rules, brings their alerts up to date (opened, escalated, resolved), stores the assessments and
 * notifies. Without `customerIds`, every customer (the daily run); with them, those customers
 * (after an ingest), the book's concentration taken from the others' stored summaries.
 *
 * It moves the alert lifecycle, so it runs as of today (in `timeZone`) or as of the daily
 * schedule's own day; any other date is a `whatIf`. A date after today is refused
 * (FutureEvaluationError). It never rewinds a customer: one whose stored assessment or active
 * alert is dated after `asOf` is left as it is and counted in `skipped`.
 *
 * Reproducible: the same data, policy and `asOf` give the same assessments and alerts, and running
 * it twice stores the same state; only assessments made as of earlier dates are the downgrade
 * rule's reference.
 */
export async function evaluate(
  deps: EvaluateDeps,
  req: { asOf: IsoDate; customerIds?: readonly string[] | undefined },
): Promise<EvaluationRun> {
  const pass = new Pass(deps, req.asOf);
  const ids = req.customerIds ? [...new Set(req.customerIds)].sort() : await deps.store.listCustomerIds();
  const found = await pass.customers(ids);
  // The book's concentration, once every evaluated customer's open amount as of the date is known;
  // the customers not evaluated now (not asked for, or skipped) count with their stored summaries.
  await pass.book(found, req.customerIds !== undefined || pass.skipped > 0);
  return pass.finish();
}

/**
 * What one batch of a fanned-out daily run found (evaluateBatch): the counts, and what the
 * book-level step needs of its customers (their open amounts as of the date and their active
 * concentration alerts), so that step can be taken once the whole book is known.
 */
export interface BatchEvaluation {
  readonly asOf: IsoDate;
  /** The customers of the batch (sorted, without repeats). */
  readonly customerIds: readonly string[];
  readonly evaluated: number;
  readonly skipped: number;
  readonly ratings: Record<string, number>;
  readonly ratingChanges: number;
  readonly opened: number;
  readonly escalated: number;
  readonly raisedBySeverity: Readonly<Record<Severity, number>>;
  readonly resolved: number;
  readonly notifications: number;
  /**
   * Items of settled history packed (invoices, payments and their allocations; README "Settled
   * history, packed"), and items stored in full deleted once packed.
   */
  readonly history: HistoryPackingCounts;
  /** Each evaluated customer's open amount as of the date: `[customerId, currency, open]`. */
  readonly open: readonly (readonly [string, string, number])[];
  /** The evaluated customers' active concentration alerts, as they were loaded. */
  readonly concentrationAlerts: readonly Alert[];
}

/**
 * One batch of the daily run fanned out (statemachines/daily-evaluation.asl.json): the customers'
 * part of `evaluate` (assessments, every rule but the book's concentration, alerts stored and told
 * once through the same claims), and nothing that needs the whole book. `finishEvaluation` takes
 * the batches' results and does that part, once. Run again (a retried batch), it stores the same
 * state and tells nobody twice; its counts are then those of what the retry itself changed.
 */
export async function evaluateBatch(
  deps: EvaluateDeps,
  req: { asOf: IsoDate; customerIds: readonly string[] },
): Promise<BatchEvaluation> {
  const pass = new Pass(deps, req.asOf);
  const ids = [...new Set(req.customerIds)].sort();
  const found = await pass.customers(ids);
  return {
    asOf: req.asOf,
    customerIds: ids,
    evaluated: ids.length - pass.skipped,
    skipped: pass.skipped,
    ratings: pass.ratings,
    ratingChanges: pass.ratingChanges,
    opened: pass.opened,
    escalated: pass.escalated,
    raisedBySeverity: pass.raisedBySeverity,
    resolved: pass.resolved,
    notifications: pass.notifications,
    history: { ...pass.history },
    open: [...found.open].map(([id, v]) => [id, v.currency, v.open] as const),
    concentrationAlerts: [...found.concentrationAlerts.values()],
  };
}

/**
 * The book-level end of a fanned-out daily run, once: the book's concentration over the batches'
 * open amounts (the customers skipped, or of batches that failed, count with their stored
 * summaries, as `evaluate` counts the customers it skips), the claims that died untold, and the
 * run's counts. With every batch done, the stored alerts and notifications are those `evaluate`
 * makes over the same book in one pass.
 */
export async function finishEvaluation(
  deps: EvaluateDeps,
  req: { asOf: IsoDate; batches: readonly BatchEvaluation[]; notEvaluated?: readonly string[] },
): Promise<EvaluationRun> {
  const pass = new Pass(deps, req.asOf);
  const found: Found = { open: new Map(), concentrationAlerts: new Map() };
  for (const b of req.batches) {
    for (const [id, currency, open] of b.open) found.open.set(id, { currency, open });
    for (const a of b.concentrationAlerts) found.concentrationAlerts.set(a.customerId, a);
    pass.add(b);
  }
  await pass.book(found, pass.skipped > 0 || (req.notEvaluated?.length ?? 0) > 0);
  return pass.finish();
}

interface Found {
  readonly open: Map<string, { currency: string; open: number }>;
  readonly concentrationAlerts: Map<string, Alert>;
}

/** One evaluation's running counts and its notify-then-store step (the parts of `evaluate`). */
class Pass {
  readonly now: string;
  evaluated = 0;
  skipped = 0;
  readonly ratings: Record<string, number> = {};
  ratingChanges = 0;
  opened = 0;
  escalated = 0;
  readonly raisedBySeverity = Object.fromEntries(SEVERITIES.map((v) => [v, 0])) as Record<Severity, number>;
  resolved = 0;
  notifications = 0;
  /** Items of settled history packed, and full items deleted once packed (README "Settled history, packed"). */
  readonly history = { packed: 0, deleted: 0 };
  private readonly packing: HistoryPacking | undefined;
  /** Notifications of the group being evaluated: sent before its changes are stored (see below). */
  private pending: Notification[] = [];
  private readonly notifyDeps: Parameters<typeof notifyOnce>[0];

  constructor(
    private readonly deps: EvaluateDeps,
    readonly asOf: IsoDate,
  ) {
    const today = dateInZone(deps.clock.now(), deps.timeZone);
    if (asOf > today) throw new FutureEvaluationError(asOf, today, deps.timeZone);
    this.now = deps.clock.now().toISOString();
    this.packing = deps.packHistory === false ? undefined : { ...HISTORY_PACKING, ...deps.packHistory };
    // People are told before the change is stored, each notification claimed first (notify.ts):
    // however many evaluations find the same change, one tells it; if storing fails, the retry finds
    // the same change already told; a send that fails is released and sent by the retry.
    this.notifyDeps = {
      ledger: deps.store,
      notifier: deps.notifier,
      claimant: deps.claimant ?? globalThis.crypto.randomUUID(),
      now: this.now,
      concurrency: deps.concurrency,
      claimTimeoutMs: deps.claimTimeoutMs,
    };
  }

  /** A batch's counts, added to this run's. */
  add(b: BatchEvaluation): void {
    this.evaluated += b.evaluated;
    this.skipped += b.skipped;
    for (const [r, n] of Object.entries(b.ratings)) this.ratings[r] = (this.ratings[r] ?? 0) + n;
    this.ratingChanges += b.ratingChanges;
    this.opened += b.opened;
    this.escalated += b.escalated;
    for (const v of SEVERITIES) this.raisedBySeverity[v] += b.raisedBySeverity[v];
    this.resolved += b.resolved;
    this.notifications += b.notifications;
    // A batch stored by a release before the counts existed (a run across a deploy) counts none.
    this.history.packed += b.history?.packed ?? 0;
    this.history.deleted += b.history?.deleted ?? 0;
  }

  private count(changed: readonly Alert[], notes: readonly Notification[]): void {
    for (const n of notes) {
      if (n.reason === 'opened') this.opened++;
      else this.escalated++;
      this.raisedBySeverity[n.alert.severity]++;
    }
    for (const a of changed) if (a.status === 'resolved') this.resolved++;
    this.pending.push(...notes);
  }

  private async notifyThenSave(writes: EvaluationWrite[]): Promise<void> {
    const told = await notifyOnce(this.notifyDeps, this.pending, this.asOf);
    this.notifications += told.sent;
    this.pending = [];
    await this.deps.store.saveEvaluation(
      told.replaced.size === 0
        ? writes
        : writes.map((w) => ({ ...w, alerts: w.alerts.map((a) => told.replaced.get(a) ?? a) })),
    );
  }

  /** The customers' part: each one assessed, its rules but the concentration run, stored and told. */
  async customers(ids: readonly string[]): Promise<Found> {
    const { store, policy } = this.deps;
    const asOf = this.asOf;
    const found: Found = { open: new Map(), concentrationAlerts: new Map() };
    for (let g = 0; g < ids.length; g += GROUP) {
      const writes: EvaluationWrite[] = [];
      const packs: [string, HistoryPick][] = [];
      await mapLimit(ids.slice(g, g + GROUP), this.deps.concurrency ?? 8, async (id) => {
        const part = await store.loadCustomerPartition(id);
        if (seenAfter(part, asOf)) {
          this.skipped++;
          return;
        }
        this.evaluated++;
        const { file, assessment: a, candidates } = assessedAsOf(id, part, asOf, policy);
        const r = reconcile(
          part.alerts,
          explainFindings(candidates, part.alerts),
          asOf,
          this.now,
          NOT_CONCENTRATION,
        );
        this.count(r.changed, r.notify);
        this.ratings[a.rating] = (this.ratings[a.rating] ?? 0) + 1;
        if (part.assessment && part.assessment.rating !== a.rating) this.ratingChanges++;
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
        found.open.set(id, { currency: file.currency, open: a.figures.receivables.summary.openAmount });
        const c = part.alerts.find((x) => x.rule === 'concentration');
        if (c) found.concentrationAlerts.set(id, c);
        const pick = this.packing && historyPick(part, a.figures.receivables, asOf, this.packing);
        if (pick) packs.push([id, pick]);
      });
      await this.notifyThenSave(writes);
      await this.pack(packs);
    }
    return found;
  }

  /** The customers' settled history packed, once their evaluation is stored (packing changes no figure). */
  private async pack(picks: readonly [string, HistoryPick][]): Promise<void> {
    const { store } = this.deps;
    const cfg = this.packing;
    if (!cfg || !store.packHistory || picks.length === 0) return;
    const now = this.deps.clock.now();
    await mapLimit(picks, this.deps.concurrency ?? 8, async ([id, pick]) => {
      const out = await store.packHistory?.(id, pick, { now, minRows: cfg.minRows, settleMs: cfg.settleMs });
      if (out) {
        this.history.packed += out.packed + out.allocations.packed;
        this.history.deleted += out.deleted + out.allocations.deleted;
      }
    });
  }

  /**
   * The book's part: each evaluated customer's concentration against the book by currency, the
   * others (`withOthers`: not evaluated now) counted with their stored summaries.
   */
  async book(found: Found, withOthers: boolean): Promise<void> {
    const { store, policy } = this.deps;
    if (!policy.rules.concentration.enabled) return;
    const others = withOthers ? await store.listSummaries() : [];
    const writes: EvaluationWrite[] = [];
    for (const [id, c] of concentrationFindings(found.open, others, this.asOf, policy)) {
      const active = found.concentrationAlerts.get(id);
      const was = active ? [active] : [];
      const r = reconcile(was, explainFindings(c ? [c] : [], was), this.asOf, this.now, CONCENTRATION);
      if (r.changed.length > 0) writes.push({ customerId: id, alerts: r.changed });
      this.count(r.changed, r.notify);
    }
    await this.notifyThenSave(writes);
  }

  /** What evaluations that died between a claim and its send left untold, then the run's counts. */
  async finish(): Promise<EvaluationRun> {
    this.notifications += await sendAbandoned(this.notifyDeps);
    const active = await this.deps.store.countAlerts('active');
    return {
      asOf: this.asOf,
      policyId: this.deps.policy.id,
      customers: this.evaluated,
      skipped: this.skipped,
      ratings: this.ratings,
      ratingChanges: this.ratingChanges,
      opened: this.opened,
      escalated: this.escalated,
      raisedBySeverity: this.raisedBySeverity,
      resolved: this.resolved,
      active,
      notifications: this.notifications,
      history: { ...this.history },
    };
  }
}

export interface WhatIfDeps {
  /** Read only: a what-if stores nothing and tells nobody. */
  readonly store: Pick<CreditStore, 'listCustomerIds' | 'loadCustomerPartition'>;
  readonly policy: Policy;
  /** Customers loaded in parallel. @default 8 */
  readonly concurrency?: number;
}

/** One customer in a what-if: its assessment in brief and the alerts it would have. */
export interface WhatIfCustomer {
  readonly customerId: string;
  readonly score: number;
  readonly rating: Rating;
  readonly riskClass: RiskClass;
  /** The limit on file and the recommendation, in minor units of `currency`, with the reason in words. */
  readonly limit: Pick<ExplainedLimit, 'currency' | 'current' | 'recommended' | 'change' | 'reason'>;
  /** The alerts that would be active as of the date: one per rule, the most severe, in words. */
  readonly findings: readonly ExplainedCandidate[];
}

/** What an evaluation as of a date would find, with nothing stored. */
export interface WhatIfRun {
  readonly whatIf: true;
  readonly asOf: IsoDate;
  readonly policyId: string;
  readonly customers: number;
  readonly ratings: Record<string, number>;
  /** The alerts that would be active, in all. */
  readonly alerts: number;
  readonly byRule: Readonly<Record<RuleName, number>>;
  readonly bySeverity: Readonly<Record<Severity, number>>;
  /** Every customer, by id. */
  readonly results: readonly WhatIfCustomer[];
}

/**
 * A what-if: every customer evaluated as of `asOf` exactly as `evaluate` would (the same
 * assessment, rules and book concentration), returned and never stored: no alert opened, resolved
 * or notified, no assessment or history written. Any date other than today is one; history as a
 * whole is the backtest's (backtest.ts).
 */
export async function whatIf(deps: WhatIfDeps, req: { asOf: IsoDate }): Promise<WhatIfRun> {
  const { store, policy } = deps;
  const ids = [...(await store.listCustomerIds())].sort();
  const open = new Map<string, { currency: string; open: number }>();
  const results = await mapLimit(ids, deps.concurrency ?? 8, async (id): Promise<WhatIfCustomer> => {
    const part = await store.loadCustomerPartition(id);
    const { file, assessment: a, candidates } = assessedAsOf(id, part, req.asOf, policy);
    open.set(id, { currency: file.currency, open: a.figures.receivables.summary.openAmount });
    const { currency, current, recommended, change, reason } = explainLimit(a.limit);
    return {
      customerId: id,
      score: a.score,
      rating: a.rating,
      riskClass: a.riskClass,
      limit: { currency, current, recommended, change, reason },
      findings: [...mostSeverePerRule(candidates, NOT_CONCENTRATION).values()].map(explainCandidate),
    };
  });
  const concentration = policy.rules.concentration.enabled
    ? concentrationFindings(open, [], req.asOf, policy)
    : new Map<string, AlertCandidate | undefined>();
  const ratings: Record<string, number> = {};
  const byRule = Object.fromEntries(RULES.map((r) => [r, 0])) as Record<RuleName, number>;
  const bySeverity = Object.fromEntries(SEVERITIES.map((v) => [v, 0])) as Record<Severity, number>;
  let alerts = 0;
  const withBook = results.map((r) => {
    const c = concentration.get(r.customerId);
    const findings = c ? [...r.findings, explainCandidate(c)] : r.findings;
    ratings[r.rating] = (ratings[r.rating] ?? 0) + 1;
    for (const f of findings) {
      byRule[f.rule]++;
      bySeverity[f.severity]++;
      alerts++;
    }
    return { ...r, findings };
  });
  return {
    whatIf: true,
    asOf: req.asOf,
    policyId: policy.id,
    customers: ids.length,
    ratings,
    alerts,
    byRule,
    bySeverity,
    results: withBook,
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
