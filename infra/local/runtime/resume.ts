import { crashPoint } from '../../../functions/core/crash.ts';
import type { ApprovalPolicy } from '../../../functions/transfers/approval-policy.ts';
import type {
  ApprovalNotifier,
  Transfer,
  TransferStatus,
  TransferStore,
} from '../../../functions/transfers/ports.ts';
import { WORKFLOW_ERRORS, type WorkflowPort } from '../../../functions/transfers/workflow.ts';

type Json = Record<string, unknown>;

/**
 * Where a stopped transfer workflow is carried on: the state of statemachines/transfer-approval.asl.json
 * it is entered at, with the input that state would have received, and for a level whose
 * approvers were already asked, how its wait takes a new token without asking them again.
 */
export interface TransferEntry {
  readonly at: string;
  readonly input: Json;
  /** Why, in words (the start log and the tests). */
  readonly why: string;
  readonly rewait?: (token: string) => Promise<void>;
  /** The level this entry asks (LevelDue): it writes its own record of the asking. */
  readonly asking?: number;
}

const ERROR_OF_STATUS: Partial<Record<TransferStatus, string>> = {
  rejected: WORKFLOW_ERRORS.rejected,
  recalled: WORKFLOW_ERRORS.recalled,
  expired: WORKFLOW_ERRORS.expired,
  refused: WORKFLOW_ERRORS.refused,
};

/**
 * Reads from the store where the workflow of `t` stood when its process stopped, and where to
 * carry it on (a level's wait is the only state it can be stopped in for long; every step
 * around it is safe to run again):
 *
 * - approved (Execute had begun): Execute again (it records nothing twice);
 * - rejected, recalled, expired or refused (Close had not finished): Close;
 * - no chain yet: from the start (the gate);
 * - the level it is on has no approvals yet, or not every approver's link went out: that level is
 *   opened (its approvers asked; the links already sent are not sent again);
 * - a rejection recorded on the level: Close, as rejected;
 * - the level has its approvals (the decision was stored, the wait not resumed): its other links
 *   are voided and the next level opened (or the transfer executed);
 * - otherwise the level still waits: if a reminder fell due while the process was down
 *   (`notifiedAt + (reminders + 1) x everySeconds`, the time its wait would have timed out), the
 *   wait's timeout is taken as it would have been, so one reminder is sent now (or the level
 *   expires after the last one); else the wait is entered again for the time left, and its new
 *   task token is stored on the level's pending approvals (`renewApprovals`): the links already
 *   sent keep working and nobody is emailed again.
 */
export async function transferEntry(
  t: Transfer,
  deps: {
    readonly store: TransferStore;
    readonly workflow: Pick<WorkflowPort, 'sendTaskSuccess' | 'sendTaskFailure'>;
    readonly policy: ApprovalPolicy;
    readonly now: Date;
  },
): Promise<TransferEntry> {
  const { store, policy } = deps;
  const transferId = t.transferId;
  // A failed transfer's workflow ended (Failed): it is retried or recalled, never resumed.
  if (t.status === 'failed')
    throw new Error(`transfer ${transferId} failed: it is retried or recalled, not resumed`);
  if (t.status === 'approved') return { at: 'Execute', input: { transferId }, why: 'approved: executing' };
  if (t.status !== 'pending')
    return {
      at: 'Close',
      input: {
        transferId,
        error: { Error: ERROR_OF_STATUS[t.status] ?? WORKFLOW_ERRORS.expired, Cause: t.outcome ?? t.status },
      },
      why: `${t.status}: closing`,
    };
  if (!t.levels || t.levels.length === 0)
    return { at: 'RiskGate', input: { transferId }, why: 'not gated yet: from the start' };
  const plan = {
    levels: t.levels.map((l) => ({ level: l.level, name: l.name, required: l.required })),
    reminderSeconds: policy.reminders.everySeconds,
    maxReminders: policy.reminders.max,
  };
  const levelNo = t.level ?? 1;
  const index = Math.max(
    0,
    plan.levels.findIndex((l) => l.level === levelNo),
  );
  const level = plan.levels[index] as (typeof plan.levels)[number];
  const base = { transferId, plan, index, count: plan.levels.length };
  const mine = (await store.approvalsOf(transferId)).filter((a) => a.level === level.level);
  if (mine.length === 0)
    return { at: 'LevelDue', input: base, asking: level.level, why: `level ${level.level}: asking it` };
  if (mine.some((a) => a.status === 'rejected'))
    return {
      at: 'Close',
      input: {
        transferId,
        error: { Error: WORKFLOW_ERRORS.rejected, Cause: `rejected at level ${level.level}` },
      },
      why: `level ${level.level} rejected: closing`,
    };
  if (mine.filter((a) => a.status === 'approved').length >= level.required) {
    await store.voidPending(transferId, `level ${level.level} complete`);
    return { at: 'LevelApproved', input: base, why: `level ${level.level} complete: carrying on` };
  }
  // Asked, but stopped before every approver's link went out: the level is asked again, which
  // sends only the links not sent (the outbox) and writes its record once.
  if (mine.every((a) => a.status === 'pending' || a.status === 'void')) {
    const sent = new Set(
      (await store.noticesOf(transferId, level.level))
        .filter((n) => n.kind === 'approve' && n.round === 0 && n.state === 'sent')
        .map((n) => n.to),
    );
    if (mine.some((a) => a.status === 'pending' && !sent.has(a.approver)))
      return {
        at: 'LevelDue',
        input: base,
        asking: level.level,
        why: `level ${level.level}: not every approver was asked: asking them`,
      };
  }
  const reminders = Math.max(...mine.map((a) => a.reminders));
  const notifiedAt = Math.min(...mine.map((a) => Date.parse(a.notifiedAt)));
  const due = notifiedAt + (reminders + 1) * plan.reminderSeconds * 1000;
  const Payload = {
    step: 'await',
    transferId,
    level,
    timeoutSeconds: plan.reminderSeconds,
    maxReminders: plan.maxReminders,
    reminders,
  };
  if (deps.now.getTime() >= due)
    return {
      at: 'AnswerDue',
      input: {
        ...base,
        Payload,
        timeout: { Error: 'States.Timeout', Cause: 'due while the process was stopped' },
      },
      why: `level ${level.level}: a reminder fell due while stopped`,
    };
  const expiresAt = mine[0]?.expiresAt as string;
  return {
    at: 'AwaitDecision',
    input: {
      ...base,
      Payload: { ...Payload, timeoutSeconds: Math.max(1, Math.ceil((due - deps.now.getTime()) / 1000)) },
    },
    why: `level ${level.level}: waiting again`,
    rewait: async (token) => {
      await store.renewApprovals(transferId, level.level, token, { reminders, expiresAt });
      // A decision that came while the wait had no token (it woke nobody): answered here.
      const [now, all] = await Promise.all([store.getTransfer(transferId), store.approvalsOf(transferId)]);
      const error = now && now.status !== 'pending' ? ERROR_OF_STATUS[now.status] : undefined;
      const here = all.filter((a) => a.level === level.level);
      if (error) await deps.workflow.sendTaskFailure(token, error, `the transfer is ${now?.status}`);
      else if (here.some((a) => a.status === 'rejected'))
        await deps.workflow.sendTaskFailure(
          token,
          WORKFLOW_ERRORS.rejected,
          `rejected at level ${level.level}`,
        );
      else if (here.filter((a) => a.status === 'approved').length >= level.required)
        await deps.workflow.sendTaskSuccess(token, { level: level.level });
    },
  };
}

/**
 * Named places a local run of the transfer workflow may die (SENTINEL_CRASH_AT, functions/core/crash.ts),
 * put around the store, the notifier and the workflow port the transfer app is given:
 *
 * - `transfers.after-audit` after each audit record is appended (`@n`: the n-th), and
 *   `transfers.after-<kind>` after each of that kind (`transfers.after-approval.decided@2`): every
 *   step of the chain ends with one (requested, gate.evaluated, approval.requested,
 *   approval.decided, transfer.executed, transfer.closed...);
 * - `transfers.after-decision`: a decision recorded, the level's wait not yet resumed (or failed);
 * - `transfers.after-notify`: notices sent (approval emails written), their audit record not yet.
 */
export function transferCrashPoints<
  T extends TransferStore,
  N extends ApprovalNotifier,
  W extends WorkflowPort,
>(store: T, notifier: N, workflow: W): { store: T; notifier: N; workflow: W } {
  return {
    store: withCrashPoints(store, {
      appendAudit: (args) => [
        'transfers.after-audit',
        `transfers.after-${(args[0] as { kind: string }).kind}`,
      ],
    }),
    notifier: withCrashPoints(notifier, { send: 'transfers.after-notify' }),
    workflow: withCrashPoints(workflow, {
      sendTaskSuccess: 'before:transfers.after-decision',
      sendTaskFailure: 'before:transfers.after-decision',
    }),
  };
}

/**
 * `target` with crash points around some of its methods: `name` after the call resolves,
 * `before:name` before it is made, or a function naming the points (after) from the arguments.
 */
export function withCrashPoints<S extends object>(
  target: S,
  points: Readonly<Record<string, string | ((args: unknown[]) => string[])>>,
): S {
  return new Proxy(target, {
    get(obj, prop) {
      const v = Reflect.get(obj, prop, obj) as unknown;
      if (typeof v !== 'function') return v;
      const point = typeof prop === 'string' ? points[prop] : undefined;
      if (!point) return v.bind(obj);
      if (typeof point === 'string' && point.startsWith('before:'))
        return (...args: unknown[]) => {
          crashPoint(point.slice('before:'.length));
          return v.apply(obj, args);
        };
      return async (...args: unknown[]) => {
        const out = await v.apply(obj, args);
        for (const p of typeof point === 'string' ? [point] : point(args)) crashPoint(p);
        return out;
      };
    },
  });
}
