import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../functions/core/metrics.ts';

/** Repository root: entries are resolved against it so synth does not depend on the working directory. */
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The metrics namespace of every function, from the catalogue; re-exported for code that imports it from here. */
export { METRICS_NAMESPACE };

/**
 * ESM bundles have no `require`; CommonJS dependencies bundled into them call it for Node built-ins.
 * Aliased import so it cannot clash with a `createRequire` import inside the bundle.
 */
const requireShim =
  "import { createRequire as sentinelCreateRequire } from 'node:module';" +
  'const require = sentinelCreateRequire(import.meta.url);';

/**
 * How every function is bundled (esbuild, as NodejsFunction runs it). Measured, with the same
 * options, by `npm run bench -- --only=bundles` and test/infra/bundles.test.ts.
 */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  // Stack traces need the names and lines, not the sources: the maps stay a fraction of the zip.
  sourcesContent: false,
  // ESM builds first: esbuild can then drop what a package exports but a handler never uses.
  mainFields: ['module', 'main'],
  banner: requireShim,
  // The runtime's AWS SDK v3 (CDK's default for Node 18 and later), said here so the bench uses it too.
  externalModules: ['@aws-sdk/*'],
} satisfies BundlingOptions;

export interface SentinelFunctionProps {
  /** Handler file, relative to the repository root, e.g. `functions/ingest/handler.ts`. */
  readonly entry: string;
  /** Powertools service name (`POWERTOOLS_SERVICE_NAME`), used in logs, traces and metric dimensions. */
  readonly serviceName: string;
  /**
   * Exported handler name.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * Function description.
   * @default - no description
   */
  readonly description?: string;
  /**
   * Function timeout.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Extra environment variables, merged over the Powertools defaults.
   * @default - only the shared defaults
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Retention of the function's log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * What happens to the log group when the function is removed from the stack.
   * @default RemovalPolicy.DESTROY (logs are operational telemetry with a one-month life anyway)
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Where asynchronous invocations (schedules) land after Lambda's retries fail; the message body is
   * the event itself, so it can be redriven.
   * @default - no dead-letter queue for asynchronous invocations
   */
  readonly deadLetterQueue?: IQueue;
}

/**
 * The one way to build a Lambda function here: Node 22 on ARM, active tracing, an explicit log group
 * with bounded retention, ESM bundling with the local esbuild, and a dedicated role that may only
 * write to that log group (no AWSLambdaBasicExecutionRole, whose `logs:CreateLogGroup` on `*` is
 * not needed once the group exists). Grant everything else explicitly on `fn`.
 */
export class SentinelFunction extends Construct {
  public readonly fn: NodejsFunction;
  public readonly logGroup: LogGroup;
  public readonly role: IRole;

  constructor(scope: Construct, id: string, props: SentinelFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.serviceName}`,
    });
    this.logGroup.grants.write(role);
    this.role = role;

    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(projectRoot, props.entry),
      handler: props.handler ?? 'handler',
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      logGroup: this.logGroup,
      role,
      deadLetterQueue: props.deadLetterQueue,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: BUNDLING,
    });

    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node 22 is pinned on purpose: the local runtime, middy 7 and Powertools 2.35 are tested on Node 22, ' +
        'and nodejs22.x is a supported Lambda runtime. Move to nodejs24.x together with the local toolchain.',
    });
    // Active tracing makes CDK add xray:PutTraceSegments/PutTelemetryRecords to the role's default policy.
    const defaultPolicy = role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      Validations.of(defaultPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions, so they need ' +
          'Resource "*"; every data-plane grant on this role names its table, bucket, queue or topic.',
      });
    }
  }
}

/**
 * A state machine's log group name: under `/aws/vendedlogs/states/`, as Step Functions asks, so
 * its log delivery is authorised without growing the account's CloudWatch Logs resource policy
 * (whose 5,120-character limit fails the deploy in a busy account). The stack's name keeps two
 * stacks in one account apart.
 */
export function vendedLogGroupName(scope: Construct, machine: string): string {
  return `/aws/vendedlogs/states/${Stack.of(scope).stackName}-${machine}`;
}

/**
 * Reserved concurrency for a public function (a function URL anyone can call: the approval pages,
 * the customer portal), the stack's `webReservedConcurrency`: past N at once a flood gets 429
 * instead of the account's concurrency. Set on the resource: SentinelFunction has no such prop.
 */
export function reservePublicConcurrency(fn: NodejsFunction, reserved: number | undefined): void {
  if (reserved === undefined) return;
  if (!Number.isInteger(reserved) || reserved < 1)
    throw new Error(`webReservedConcurrency must be a whole number of at least 1, not ${reserved}`);
  (fn.node.defaultChild as CfnFunction).reservedConcurrentExecutions = reserved;
}
