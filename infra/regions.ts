import { Aws, CfnRule, Fn, type Stack, Token } from 'aws-cdk-lib';

/**
 * Regions where AWS::Lambda::Url does not exist (cfn-lint 1.51's resource specs, E3006 with every
 * Region): the approval pages and the transfers API are function URLs, so the stack cannot work
 * there. Re-check with `cfn-lint --regions ALL_REGIONS` when cfn-lint is updated.
 */
export const REGIONS_WITHOUT_FUNCTION_URLS = [
  'ap-east-2',
  'ap-south-2',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-west-1',
  'cn-northwest-1',
  'eu-central-2',
  'eu-south-2',
  'il-central-1',
  'me-central-1',
  'mx-central-1',
  'us-gov-east-1',
  'us-gov-west-1',
] as const;

const WHY = (region: string) =>
  `Lambda function URLs (the approval pages and the transfers API) do not exist in ${region}. Deploy to a Region that has them; these do not: ${REGIONS_WITHOUT_FUNCTION_URLS.join(', ')}.`;

/**
 * Refuses a Region without function URLs: at synth when the stack names its Region, and in every
 * case by a template rule CloudFormation checks before it creates anything (the stack is
 * Region-agnostic by default, so the Region is known only at deploy).
 */
export function requireFunctionUrlRegion(stack: Stack): void {
  const region = stack.region;
  if (!Token.isUnresolved(region) && (REGIONS_WITHOUT_FUNCTION_URLS as readonly string[]).includes(region))
    throw new Error(WHY(region));
  new CfnRule(stack, 'FunctionUrlRegion', {
    assertions: [
      {
        assert: Fn.conditionNot(Fn.conditionContains([...REGIONS_WITHOUT_FUNCTION_URLS], Aws.REGION)),
        assertDescription: WHY('this Region'),
      },
    ],
  });
}
