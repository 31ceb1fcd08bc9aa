import { sameData } from '../core/canonical.ts';
import type { IsoDate } from '../core/dates.ts';
import { type Action, RULES, type RuleName, SEVERITY_RANK, type Severity } from './policy.ts';
import { type AlertCandidate, type ExplainedCandidate, explainCandidate, saidAs } from './rules.ts';

/**
 * The alert lifecycle: open -> acknowledged / snoozed -> resolved. One alert per customer and
 * rule is active at a time; it resolves by itself when its condition clears; people are notified
 * when it opens and again only when its severity rises above what they were last told.
 */
export type AlertStatus = 'open' | 'acknowledged' | 'snoozed' | 'resolved';
export const ACTIVE: readonly AlertStatus[] = ['open', 'acknowledged', 'snoozed'];

export interface AlertEvent {
  /** ISO instant. */
  readonly at: string;
  readonly event:
    | 'opened'
    | 'escalated'
    | 'eased'
    | 'acknowledged'
    | 'snoozed'
    | 'snooze ended'
    | 'resolved'
    | 'reopened';
  readonly by?: string | undefined;
  readonly severity?: Severity | undefined;
  readonly note?: string | undefined;
}

export interface Alert {
  /**
   * `<customer>/<rule>/<opened as of>` (`.2`, `.3`... for a reopening the same day): unique;
   * `<customer>/<rule>` names the active one. Alerts opened before this form carry the instant
   * they were opened at in place of the day.
   */
  readonly alertId: string;
  readonly customerId: string;
  readonly rule: RuleName;
  readonly status: AlertStatus;
  readonly severity: Severity;
  readonly action: Action;
  readonly summary: string;
  readonly evidence: Readonly<Record<string, string | number>>;
  /** The numbers `summary` and `evidence` were made from, in minor units of `currency` (absent on older alerts). */
  readonly facts?: AlertCandidate['facts'] | undefined;
  readonly currency?: string | undefined;
  readonly policyId: string;
  readonly openedAt: string;
  readonly openedAsOf: IsoDate;
  /** The as-of date of the evaluation that last saw the condition. */
  readonly seenAsOf: IsoDate;
  /** The highest severity people have been notified of. */
  readonly notifiedSeverity: Severity;
  readonly snoozedUntil?: IsoDate | undefined;
  readonly resolvedAt?: string | undefined;
  readonly history: readonly AlertEvent[];
}

/**
 * The customer and rule an alert id names: `<customer>/<rule>` (the active alert of that rule) or
 * an `alertId`, `<customer>/<rule>/<opened as of>` (that alert only). Read from the end, so a customer
 * id may hold a slash. Undefined when no known rule is named.
 */
export function alertRef(
  id: string,
): { readonly customerId: string; readonly rule: RuleName; readonly alertId?: string } | undefined {
  const parts = id.split('/');
  const isRule = (s: string | undefined): s is RuleName => (RULES as readonly string[]).includes(s ?? '');
  const last = parts[parts.length - 1];
  if (parts.length >= 2 && isRule(last)) return { customerId: parts.slice(0, -1).join('/'), rule: last };
  const rule = parts[parts.length - 2];
  if (parts.length >= 3 && isRule(rule))
    return { customerId: parts.slice(0, -2).join('/'), rule, alertId: id };
  return undefined;
}

export interface Notification {
  readonly alert: Alert;
  readonly reason: 'opened' | 'escalated';
}

export interface Reconciled {
  /** Alerts that changed (new, updated, resolved): what to store. */
  readonly changed: Alert[];
  readonly notify: Notification[];
}

const MAX_HISTORY = 50;

function withEvent(a: Alert, e: AlertEvent, patch: Partial<Alert>): Alert {
  const history = [...a.history, e];
  return { ...a, ...patch, history: history.length > MAX_HISTORY ? history.slice(-MAX_HISTORY) : history };
}

/**
 * Brings one customer's active alerts in line with what the rules found as of `asOf`. `now` is the
 * instant recorded on the events. Pure: the same inputs give the same result.
 */
export function reconcile(
  active: readonly Alert[],
  candidates: readonly ExplainedCandidate[],
  asOf: IsoDate,
  now: string,
  /** The rules that were evaluated: alerts of other rules are left as they are. @default all */
  evaluated?: ReadonlySet<RuleName>,
): Reconciled {
  const changed: Alert[] = [];
  const notify: Notification[] = [];
  const byRule = new Map(
    active
      .filter((a) => ACTIVE.includes(a.status) && (evaluated === undefined || evaluated.has(a.rule)))
      .map((a) => [a.rule, a]),
  );
  for (const c of mostSeverePerRule(candidates, evaluated).values()) {
    const e = byRule.get(c.rule);
    byRule.delete(c.rule);
    if (!e) {
      const alert: Alert = {
        // Deterministic: every evaluation that finds this opening as of the same day names it alike,
        // so they claim one notification (notify.ts); a reopening the same day gets `.2`, `.3`...
        alertId: `${c.customerId}/${c.rule}/${asOf}`,
        customerId: c.customerId,
        rule: c.rule,
        status: 'open',
        severity: c.severity,
        action: c.action,
        summary: c.summary,
        evidence: c.evidence,
        facts: c.facts,
        currency: c.currency,
        policyId: c.policyId,
        openedAt: now,
        openedAsOf: asOf,
        seenAsOf: asOf,
        notifiedSeverity: c.severity,
        history: [{ at: now, event: 'opened', severity: c.severity }],
      };
      changed.push(alert);
      notify.push({ alert, reason: 'opened' });
      continue;
    }
    let next: Alert = {
      ...e,
      severity: c.severity,
      action: c.action,
      summary: c.summary,
      evidence: c.evidence,
      facts: c.facts ?? e.facts,
      currency: c.currency ?? e.currency,
      policyId: c.policyId,
      seenAsOf: asOf,
    };
    if (next.status === 'snoozed' && next.snoozedUntil !== undefined && next.snoozedUntil <= asOf)
      next = withEvent(next, { at: now, event: 'snooze ended' }, { status: 'open', snoozedUntil: undefined });
    const rose = SEVERITY_RANK[c.severity] > SEVERITY_RANK[e.notifiedSeverity];
    if (rose) {
      // Worse than anyone was told: tell them, and an acknowledged or snoozed alert is open again.
      next = withEvent(
        next,
        { at: now, event: 'escalated', severity: c.severity },
        { status: 'open', snoozedUntil: undefined, notifiedSeverity: c.severity },
      );
      notify.push({ alert: next, reason: 'escalated' });
    } else if (SEVERITY_RANK[c.severity] < SEVERITY_RANK[e.severity])
      next = withEvent(next, { at: now, event: 'eased', severity: c.severity }, {});
    if (!sameAlert(e, next)) changed.push(next);
  }
  // What no rule found any more has cleared.
  for (const e of byRule.values())
    changed.push(
      withEvent(
        e,
        { at: now, event: 'resolved', note: `condition cleared as of ${asOf}` },
        { status: 'resolved', resolvedAt: now },
      ),
    );
  return { changed, notify };
}

/**
 * One finding per rule, the most severe, and only for the rules evaluated (@default all): at most
 * one alert per customer and rule is active.
 */
export function mostSeverePerRule<C extends { readonly rule: RuleName; readonly severity: Severity }>(
  candidates: readonly C[],
  evaluated?: ReadonlySet<RuleName>,
): Map<RuleName, C> {
  const best = new Map<RuleName, C>();
  for (const c of candidates) {
    if (evaluated !== undefined && !evaluated.has(c.rule)) continue;
    const b = best.get(c.rule);
    if (!b || SEVERITY_RANK[c.severity] > SEVERITY_RANK[b.severity]) best.set(c.rule, c);
  }
  return best;
}

function sameAlert(a: Alert, b: Alert): boolean {
  return (
    a.status === b.status &&
    a.severity === b.severity &&
    a.action === b.action &&
    a.summary === b.summary &&
    a.policyId === b.policyId &&
    a.seenAsOf === b.seenAsOf &&
    a.notifiedSeverity === b.notifiedSeverity &&
    a.snoozedUntil === b.snoozedUntil &&
    a.history.length === b.history.length &&
    a.currency === b.currency &&
    sameData(a.facts, b.facts) &&
    sameData(a.evidence, b.evidence)
  );
}

/**
 * The findings in words, for reconciling with the customer's active alerts: a finding whose
 * active alert was made from the same numbers keeps that alert's words, so a daily run words only
 * what is new or changed (every rule's words are a function of its facts and currency alone).
 */
export function explainFindings(
  candidates: readonly AlertCandidate[],
  active: readonly Alert[],
): ExplainedCandidate[] {
  return candidates.map((c) => {
    const e = active.find((a) => a.rule === c.rule && ACTIVE.includes(a.status));
    const same = e?.facts !== undefined && e.currency === c.currency && sameData(e.facts, c.facts);
    return same ? saidAs(c, e) : explainCandidate(c);
  });
}

export type AlertCommand =
  | { readonly kind: 'ack'; readonly by: string; readonly note?: string | undefined }
  | {
      readonly kind: 'snooze';
      readonly by: string;
      readonly until: IsoDate;
      readonly note?: string | undefined;
    }
  | { readonly kind: 'resolve'; readonly by: string; readonly note?: string | undefined };

/** A person's answer to an alert; refuses what makes no sense (acting on a resolved alert). */
export function applyCommand(
  a: Alert,
  cmd: AlertCommand,
  now: string,
  today: IsoDate,
): Alert | { refused: string } {
  if (a.status === 'resolved') return { refused: `alert ${a.alertId} is already resolved` };
  switch (cmd.kind) {
    case 'ack':
      if (a.status === 'acknowledged') return { refused: `alert ${a.alertId} is already acknowledged` };
      return withEvent(
        a,
        { at: now, event: 'acknowledged', by: cmd.by, note: cmd.note },
        { status: 'acknowledged', snoozedUntil: undefined },
      );
    case 'snooze':
      if (cmd.until <= today)
        return { refused: `snooze until ${cmd.until}: that is not after today (${today})` };
      return withEvent(
        a,
        { at: now, event: 'snoozed', by: cmd.by, note: cmd.note ?? `until ${cmd.until}` },
        { status: 'snoozed', snoozedUntil: cmd.until },
      );
    case 'resolve':
      return withEvent(
        a,
        { at: now, event: 'resolved', by: cmd.by, note: cmd.note },
        { status: 'resolved', resolvedAt: now, snoozedUntil: undefined },
      );
  }
}

/** One alert as the daily digest lists it. */
export interface DigestLine {
  readonly alertId: string;
  readonly customerId: string;
  readonly rule: RuleName;
  readonly severity: Severity;
  readonly status: AlertStatus;
  readonly action: Action;
  readonly summary: string;
  readonly openedAsOf: IsoDate;
}

/** The daily digest: how many alerts are active, by severity, and the most severe of them. */
export interface AlertDigest {
  readonly asOf: IsoDate;
  readonly active: number;
  readonly bySeverity: Readonly<Record<Severity, number>>;
  /** Most severe first, then by customer and rule; at most `DIGEST_LINES`. */
  readonly alerts: readonly DigestLine[];
  /** Active alerts not listed (the console has them all). */
  readonly more: number;
}

/** Lines in one digest: an email and a Slack message stay readable (and well inside SNS's 256 KiB). */
export const DIGEST_LINES = 50;

/** The daily digest of the active alerts; undefined when none is active. */
export function digestOf(
  alerts: readonly Alert[],
  asOf: IsoDate,
  lines = DIGEST_LINES,
): AlertDigest | undefined {
  const active = alerts.filter((a) => ACTIVE.includes(a.status));
  if (active.length === 0) return undefined;
  const sorted = [...active].sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0) ||
      (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0),
  );
  const bySeverity: Record<Severity, number> = { critical: 0, high: 0, warning: 0, info: 0 };
  for (const a of active) bySeverity[a.severity]++;
  return {
    asOf,
    active: active.length,
    bySeverity,
    alerts: sorted.slice(0, lines).map((a) => ({
      alertId: a.alertId,
      customerId: a.customerId,
      rule: a.rule,
      severity: a.severity,
      status: a.status,
      action: a.action,
      summary: a.summary,
      openedAsOf: a.openedAsOf,
    })),
    more: Math.max(0, active.length - lines),
  };
}
