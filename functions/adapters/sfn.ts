import {
  ExecutionAlreadyExists,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { ExecutionExistsError, TaskTokenError, type WorkflowPort } from '../transfers/workflow.ts';

/**
 * The transfer workflow on AWS Step Functions. The execution is named after the transfer, so it
 * never runs twice: a second start while it runs returns the same execution (same name and input,
 * STANDARD workflows are idempotent for 90 days), and once it is closed the start fails with
 * ExecutionAlreadyExists. A
 * token nobody waits on any more (answered, timed out, never issued) is a TaskTokenError, as on
 * the local engine.
 */
export class SfnWorkflow implements WorkflowPort {
  constructor(
    /** Undefined in a function that only answers task tokens. */
    private readonly stateMachineArn: string | undefined,
    private readonly sfn: SFNClient = new SFNClient({}),
  ) {}

  async start(name: string, input: { readonly transferId: string }): Promise<{ executionId: string }> {
    if (!this.stateMachineArn)
      throw new Error('this function has no state machine to start (STATE_MACHINE_ARN)');
    try {
      const out = await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return { executionId: out.executionArn as string };
    } catch (e) {
      if (e instanceof ExecutionAlreadyExists)
        throw new ExecutionExistsError(`the workflow of ${name} already exists`, { cause: e });
      throw e;
    }
  }

  async sendTaskSuccess(token: string, output: unknown): Promise<void> {
    await this.answer(() =>
      this.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output ?? {}) })),
    );
  }

  async sendTaskFailure(token: string, error: string, cause: string): Promise<void> {
    await this.answer(() => this.sfn.send(new SendTaskFailureCommand({ taskToken: token, error, cause })));
  }

  private async answer(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (e) {
      if (e instanceof TaskTimedOut || e instanceof InvalidToken || e instanceof TaskDoesNotExist)
        // The message names the token's state only; the token itself is never logged.
        throw new TaskTokenError(`no task is waiting on this token (${(e as Error).name})`);
      throw e;
    }
  }
}
