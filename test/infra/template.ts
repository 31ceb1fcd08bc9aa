import type { CfnResource, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';

/** Readers of a synthesized template the infrastructure tests share. */
export type Json = Record<string, unknown>;
export type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

export const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

export function templateReader(stack: () => Stack, template: () => Template) {
  const logicalId = (c: IConstruct) => stack().getLogicalId(c.node.defaultChild as CfnResource);
  const propsOf = (c: IConstruct): Json =>
    (template().toJSON().Resources[logicalId(c)] as { Properties: Json }).Properties;
  /** Every statement of the IAM policies attached to the role. */
  const statementsOfRole = (roleId: string): Statement[] =>
    Object.values(template().findResources('AWS::IAM::Policy'))
      .map((r) => (r as { Properties: Json }).Properties)
      .filter((p) => JSON.stringify(p.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
  /** The logical id of a function's role. */
  const roleOf = (fn: IConstruct) => (propsOf(fn).Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  return { logicalId, propsOf, statementsOfRole, roleOf };
}
