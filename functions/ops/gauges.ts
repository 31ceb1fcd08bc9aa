import type { Approval } from '../transfers/ports.ts';

/** What the ops gauges report every few minutes (METRICS: ApprovalsPending, OldestApprovalAge). */
export interface ApprovalGauges {
  /** Approvals waiting for an answer. */
  readonly approvalsPending: number;
  /** Whole seconds the longest-waiting approval has waited since its approver was notified; 0 when none waits. */
  readonly oldestApprovalAgeSeconds: number;
}

/**
 * The approval gauges at `now`: how many approvals are pending and how long the oldest has waited,
 * from `notifiedAt` (a reminder does not restart the clock: the SLA runs from the first notice).
 * Only approvals still `pending` count; a `notifiedAt` in the future (clock skew) counts as 0 s and
 * an unreadable one is left out of the age, never turned into NaN.
 */
export function gaugesOf(pending: readonly Approval[], now: Date): ApprovalGauges {
  let count = 0;
  let oldest = Number.POSITIVE_INFINITY;
  for (const a of pending) {
    if (a.status !== 'pending') continue;
    count++;
    const at = Date.parse(a.notifiedAt);
    if (!Number.isNaN(at) && at < oldest) oldest = at;
  }
  const age = Number.isFinite(oldest) ? Math.max(0, Math.floor((now.getTime() - oldest) / 1000)) : 0;
  return { approvalsPending: count, oldestApprovalAgeSeconds: age };
}
