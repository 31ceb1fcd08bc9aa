import { mapLimit } from '../core/concurrency.ts';
import { crashPoint } from '../core/crash.ts';
import type { IsoDate } from '../core/dates.ts';
import type { Alert, Notification } from './alerts.ts';
import type { AlertNotifier, NotificationClaim, NotificationLedger } from './ports.ts';

/**
 * Exactly once where people notice. Before an alert's opening (or a rise of its severity) is
 * sent, the sender claims it with a conditional write of a notification record keyed by what
 * people are told: `<alertId>#opened` or `<alertId>#escalated#<severity>`. The alert id is
 * deterministic (`<customer>/<rule>/<as of>`, see `reconcile`), so every evaluation that finds the
 * same opening at the same time claims the same record and only one wins; the others store the
 * alert as the winner told it.
 *
 * - claimed, then sent, then marked sent: a sent notification is never claimed again;
 * - a send that fails releases its claim (the record stays, as if claimed long ago), so the retry
 *   (SQS redelivery, the next run) or the next run's sweep sends it;
 * - a claimant that dies between its claim and its send leaves a claim that is not marked sent:
 *   after `CLAIM_TIMEOUT_MS` any evaluation takes it over and sends what was claimed.
 *
 * Not covered (no store can make a send and a write one step): a claimant that dies after the
 * send and before marking it sent is taken for one that died before sending, and its
 * notification is sent a second time after the timeout.
 */
export const CLAIM_TIMEOUT_MS = 10 * 60_000;

export function notificationKey(n: Notification): string {
  return n.reason === 'opened'
    ? `${n.alert.alertId}#opened`
    : `${n.alert.alertId}#escalated#${n.alert.notifiedSeverity}`;
}

export interface NotifyOnceDeps {
  readonly ledger: NotificationLedger;
  readonly notifier: AlertNotifier;
  /** Who claims: unique per evaluation. */
  readonly claimant: string;
  /** ISO instant. */
  readonly now: string;
  readonly concurrency?: number | undefined;
  readonly claimTimeoutMs?: number | undefined;
}

export interface NotifyOnceResult {
  /** The notifications this evaluation sent. */
  readonly sent: number;
  /**
   * Alerts to store in place of the evaluation's own: the same opening as another evaluation
   * claimed it (its id and opening instant), or a reopening the same day under the next free id.
   */
  readonly replaced: ReadonlyMap<Alert, Alert>;
}

const staleBefore = (deps: NotifyOnceDeps) =>
  new Date(Date.parse(deps.now) - (deps.claimTimeoutMs ?? CLAIM_TIMEOUT_MS)).toISOString();

/**
 * The record that holds a claim, unless it is this very claim: a claim whose response was lost
 * and was retried finds its own write.
 */
function mine(held: NotificationClaim | undefined, claim: NotificationClaim): NotificationClaim | undefined {
  return held &&
    held.state === 'claimed' &&
    held.claimant === claim.claimant &&
    held.claimedAt === claim.claimedAt
    ? undefined
    : held;
}

/** The n-th alert opened for a customer and rule as of one day: `<id>`, `<id>.2`, `<id>.3`... */
function nextEpisode(a: Alert, base: string, n: number): Alert {
  return { ...a, alertId: `${base}.${n}` };
}

/** The evaluation's alert, told as the claim's holder told it (same opening, same words' numbers). */
function asClaimed(mine: Alert, held: Alert): Alert {
  return { ...mine, alertId: held.alertId, openedAt: held.openedAt, history: held.history };
}

/**
 * Sends each notification once: claims it, sends it alone (so a notifier failing half-way leaves
 * no doubt which were sent), marks it sent. Throws the first send failure after the others were
 * tried and released; what was sent stays marked.
 */
export async function notifyOnce(
  deps: NotifyOnceDeps,
  notifications: readonly Notification[],
  asOf: IsoDate,
): Promise<NotifyOnceResult> {
  const replaced = new Map<Alert, Alert>();
  let sent = 0;
  const failures: unknown[] = [];
  const stale = staleBefore(deps);
  await mapLimit(notifications, deps.concurrency ?? 8, async (n) => {
    let alert = n.alert;
    for (let episode = 2; ; episode++) {
      const note: Notification = { ...n, alert };
      const claim: NotificationClaim = {
        key: notificationKey(note),
        claimant: deps.claimant,
        claimedAt: deps.now,
        state: 'claimed',
        asOf,
        notification: note,
      };
      const held = mine(await deps.ledger.claimNotification(claim, stale), claim);
      if (held) {
        const theirs = held.notification.alert;
        // An opening already told that was resolved since: this is a new episode the same day.
        if (
          n.reason === 'opened' &&
          (await deps.ledger.alertResolved(theirs.customerId, theirs.rule, theirs.openedAt))
        ) {
          alert = nextEpisode(n.alert, n.alert.alertId, episode);
          continue;
        }
        if (n.reason === 'opened') alert = asClaimed(alert, theirs);
        if (alert !== n.alert) replaced.set(n.alert, alert);
        return;
      }
      if (alert !== n.alert) replaced.set(n.alert, alert);
      crashPoint('alerts.claimed');
      try {
        await deps.notifier.notify([note], asOf);
      } catch (e) {
        failures.push(e);
        await deps.ledger.releaseNotification(claim.key, deps.claimant).catch(() => undefined);
        return;
      }
      sent++;
      await deps.ledger.markNotificationSent(claim.key, deps.claimant, deps.now);
      return;
    }
  });
  if (failures.length > 0) throw failures[0];
  return { sent, replaced };
}

/**
 * Sends what claimants that died left claimed (claimed over `CLAIM_TIMEOUT_MS` ago, never marked
 * sent): each is taken over by a conditional claim, so two sweeps never both send it. Returns how
 * many were sent.
 */
export async function sendAbandoned(deps: NotifyOnceDeps): Promise<number> {
  const stale = staleBefore(deps);
  const left = await deps.ledger.staleNotifications(stale);
  let sent = 0;
  const failures: unknown[] = [];
  await mapLimit(left, deps.concurrency ?? 8, async (c) => {
    const take: NotificationClaim = { ...c, claimant: deps.claimant, claimedAt: deps.now, state: 'claimed' };
    if (mine(await deps.ledger.claimNotification(take, stale), take)) return;
    try {
      await deps.notifier.notify([c.notification], c.asOf);
    } catch (e) {
      failures.push(e);
      await deps.ledger.releaseNotification(c.key, deps.claimant).catch(() => undefined);
      return;
    }
    sent++;
    await deps.ledger.markNotificationSent(c.key, deps.claimant, deps.now);
  });
  if (failures.length > 0) throw failures[0];
  return sent;
}
