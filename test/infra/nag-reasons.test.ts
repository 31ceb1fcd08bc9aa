// A cdk-nag acknowledgement on an IAM policy is a claim about that policy: every permission its
// reason names must be one the policy grants (a reason that cites a permission the role does not
// have hides what the wildcard is really for).
import type { CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Policy } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type SentinelApp } from '../../infra/build-app.ts';
import { acknowledgements } from './nag.ts';
import { asArray } from './template.ts';

let built: SentinelApp;
let template: Template;

beforeAll(() => {
  // No bundling: the policies and acknowledgements do not depend on the code.
  built = buildApp({ context: { demo: 'true', 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(built.stack);
});

/** The actions a reason names: `service:Action`, `service:A/B` (two actions), or X-Ray and task callbacks by name. */
function actionsNamed(reason: string): string[] {
  const out: string[] = [];
  // A condition key (`kms:ResourceAliases = alias/aws/sns`) is followed by its value, not a permission.
  for (const m of reason.matchAll(/\b([a-z0-9-]+):([A-Z][A-Za-z*]*)((?:\/[A-Z][A-Za-z]*)*)(?![\w*/]| =)/g)) {
    const [, service, first, more] = m as unknown as [string, string, string, string];
    out.push(`${service}:${first}`);
    // `SendTaskSuccess/Failure`: the alternatives replace the last word of the first.
    const stem = first.replace(/[A-Z][a-z*]*$/, '');
    for (const alt of more.split('/').filter(Boolean)) out.push(`${service}:${stem}${alt}`);
  }
  if (/X-Ray/i.test(reason)) out.push('xray:PutTraceSegments');
  if (/SendTask/.test(reason)) out.push('states:SendTaskSuccess', 'states:SendTaskFailure');
  return [...new Set(out)];
}

const glob = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
const granted = (actions: readonly string[], named: string) =>
  actions.some((a) => glob(a).test(named) || glob(named).test(a));

function policyActions(stack: Stack, policy: IConstruct): string[] {
  const id = stack.getLogicalId(policy.node.defaultChild as CfnResource);
  const doc = (
    template.toJSON().Resources[id] as {
      Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } };
    }
  ).Properties.PolicyDocument;
  return doc.Statement.flatMap((s) => asArray(s.Action));
}

describe('cdk-nag acknowledgements on IAM policies', () => {
  it('reads the actions a reason names', () => {
    expect(actionsNamed('X-Ray writes and states:SendTaskSuccess/Failure (the transfer app)')).toEqual([
      'states:SendTaskSuccess',
      'states:SendTaskFailure',
      'xray:PutTraceSegments',
    ]);
    expect(actionsNamed("CDK's grantReadWrite: s3:GetObject* of that one bucket")).toEqual(['s3:GetObject*']);
  });

  it('name only permissions the policy grants', () => {
    const policies = new Map(
      built.app.node
        .findAll()
        .filter((c) => c instanceof Policy)
        .map((c) => [c.node.path, c]),
    );
    const checked: string[] = [];
    for (const ack of acknowledgements(built.app)) {
      const policy = policies.get(ack.path);
      if (!policy || !ack.id.startsWith('AwsSolutions-IAM5')) continue;
      const actions = policyActions(built.stack, policy);
      for (const named of actionsNamed(ack.reason)) {
        checked.push(`${ack.path} ${named}`);
        expect(granted(actions, named), `${ack.path} (${ack.id}) cites ${named}: "${ack.reason}"`).toBe(true);
      }
    }
    // The check saw the X-Ray and task-token reasons of the function roles.
    expect(checked.filter((c) => c.endsWith('xray:PutTraceSegments')).length).toBeGreaterThanOrEqual(9);
    expect(checked.some((c) => c.endsWith('states:SendTaskSuccess'))).toBe(true);
  });
});
