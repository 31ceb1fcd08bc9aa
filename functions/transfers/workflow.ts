/**
 * The approval workflow as the transfer code sees it: Step Functions on AWS (client-sfn), the
 * same ASL on aws-local-stepfunctions locally. Token calls mirror SendTaskSuccess/SendTaskFailure.
 */
export interface WorkflowPort {
  /** Starts an execution for a transfer; the name makes a second start of the same transfer fail. */
  start(name: string, input: { readonly transferId: string }): Promise<{ readonly executionId: string }>;
  /** Resumes the task waiting on `token` with `output`. Throws `TaskTokenError` if nothing waits on it. */
  sendTaskSuccess(token: string, output: unknown): Promise<void>;
  /** Fails the task waiting on `token` with the error name the state machine catches. */
  sendTaskFailure(token: string, error: string, cause: string): Promise<void>;
}

/** What the state machine's Task states send to the steps handler. */
export type StepPayload =
  | { readonly step: 'gate'; readonly transferId: string }
  | {
      readonly step: 'await';
      readonly transferId: string;
      readonly level: unknown;
      readonly reminders: number;
      readonly maxReminders: number;
      readonly timeoutSeconds: number;
      readonly taskToken: string;
    }
  | { readonly step: 'execute'; readonly transferId: string }
  | { readonly step: 'close'; readonly transferId: string; readonly error: string; readonly cause: string }
  | {
      readonly step: 'fail';
      readonly transferId: string;
      /** The state that failed (RiskGate, AwaitDecision, Execute, Close). */
      readonly state: string;
      /** What the Catch caught: `{Error, Cause}` (Cause may be a Lambda error's JSON). */
      readonly failure: unknown;
    };

/** An execution of that name was started before (it runs, or it has ended): a start is never made twice. */
export class ExecutionExistsError extends Error {
  override readonly name = 'ExecutionExistsError';
}

/** No task waits on the token any more (it timed out, was answered, or never existed). */
export class TaskTokenError extends Error {
  override readonly name = 'TaskTokenError';
}

/** The error names the state machine catches (statemachines/transfer-approval.asl.json). */
export const WORKFLOW_ERRORS = {
  refused: 'TransferRefused',
  rejected: 'TransferRejected',
  recalled: 'TransferRecalled',
  expired: 'ApprovalExpired',
  /** A notice could not be sent: the state machine runs the step again (it sends only the rest). */
  noticeNotSent: 'NoticeNotSent',
  /** The Fail state a failed transfer's execution ends in. */
  failed: 'TransferFailed',
} as const;
