import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { DefinitionBody, LogLevel, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { vendedLogGroupName } from './function-defaults.ts';

export interface FanOutStateMachineProps {
  /** The state machine's construct id (its logical id follows it). */
  readonly id: string;
  readonly comment: string;
  /** The ASL file's text, deployed as it is: the very file the local engine runs. */
  readonly definition: string;
  /** `${Name}` placeholders of the file and their values. */
  readonly substitutions: Record<string, string>;
  /** Its log group's name, under /aws/vendedlogs/states/ (vendedLogGroupName). */
  readonly logName: string;
  /** The functions its Task states invoke. */
  readonly functions: readonly NodejsFunction[];
  /** Where the Distributed Map's ItemReader reads the manifest: the bucket and the key pattern. */
  readonly manifests: { readonly bucket: IBucket; readonly keys: string };
}

/**
 * A state machine that fans out over a manifest with a Distributed Map (the periodic review, the
 * daily evaluation): the ASL file itself with its substitutions, traced, logging events without
 * execution data (customer ids and figures stay in the table and the bucket); allowed to invoke its
 * functions, read its manifests and start, describe and stop its own child executions. No
 * `timeout`: CDK cannot add one to a definition given as a string, so the file's own top-level
 * TimeoutSeconds ends a run that never finishes.
 */
export function fanOutStateMachine(scope: Construct, props: FanOutStateMachineProps): StateMachine {
  const logGroup = new LogGroup(scope, 'StateMachineLogs', {
    logGroupName: vendedLogGroupName(scope, props.logName),
    retention: RetentionDays.ONE_MONTH,
  });
  const machine = new StateMachine(scope, props.id, {
    comment: props.comment,
    // Inline (no asset bucket): the template carries the very file the local engine runs.
    definitionBody: DefinitionBody.fromString(props.definition),
    definitionSubstitutions: props.substitutions,
    tracingEnabled: true,
    logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
  });
  for (const fn of props.functions) fn.grantInvoke(machine);
  props.manifests.bucket.grantRead(machine, props.manifests.keys);
  // The Distributed Map starts its child executions on this same state machine. A separate policy
  // (not the role's default one) so naming the machine's own ARN makes no dependency cycle.
  new Policy(scope, 'DistributedMapPolicy', {
    roles: [machine.role],
    statements: [
      new PolicyStatement({ actions: ['states:StartExecution'], resources: [machine.stateMachineArn] }),
      new PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [
          Stack.of(scope).formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${machine.stateMachineName}/*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    ],
  });
  return machine;
}
