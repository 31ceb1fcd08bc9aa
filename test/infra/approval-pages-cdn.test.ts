import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type SentinelApp } from '../../infra/build-app.ts';
import { DEFAULT_PAGES_RATE_LIMIT } from '../../infra/constructs/approval-pages-cdn.ts';
import { CreditSentinelStack } from '../../infra/stack.ts';
import { acknowledgements, findingsOf } from './nag.ts';
import { type Json, templateReader } from './template.ts';

/** The approval pages behind CloudFront and WAF: opt-in (-c approvalPagesCdn=true). */

const WEB_ACL_ARN =
  'arn:aws:wafv2:us-east-1:123456789012:global/webacl/pages/0123abcd-4567-89ef-0123-456789abcdef';

const synth = (context: Json = {}) => {
  const built = buildApp({ context: { demo: 'true', 'aws:cdk:bundling-stacks': [], ...context } });
  built.app.synth(); // cdk-nag runs here: an unacknowledged finding throws
  return { built, template: Template.fromStack(built.stack) };
};

let plain: { built: SentinelApp; template: Template };
let cdn: { built: SentinelApp; template: Template };
beforeAll(() => {
  plain = synth();
  cdn = synth({ approvalPagesCdn: 'true' });
});

const baseUrlOf = (s: { built: SentinelApp; template: Template }) => {
  const { propsOf } = templateReader(
    () => s.built.stack,
    () => s.template,
  );
  return (propsOf(s.built.stack.approvals.stepsFunction).Environment as { Variables: Json }).Variables
    .APPROVALS_BASE_URL;
};

describe('approval pages CDN', () => {
  it('is off by default: no distribution, no WebACL, the links name the function URL', () => {
    plain.template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    plain.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    expect(plain.built.stack.approvalPagesCdn).toBeUndefined();
    expect(JSON.stringify(baseUrlOf(plain))).toContain('FunctionUrl');
  });

  it('puts a distribution over the function URL: nothing cached, every method, Host not passed on', () => {
    const { template, built } = cdn;
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    const { logicalId } = templateReader(
      () => built.stack,
      () => template,
    );
    const dist = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0] as {
      Properties: { DistributionConfig: Json };
    };
    const config = dist.Properties.DistributionConfig;
    const origin = (config.Origins as Json[])[0] as Json;
    // The function URL's host, taken from the URL (https://<id>.lambda-url.<region>.on.aws/).
    expect(JSON.stringify(origin.DomainName)).toContain(
      JSON.stringify({ 'Fn::GetAtt': [logicalId(built.stack.approvals.webUrl), 'FunctionUrl'] }),
    );
    expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only' });
    const behavior = config.DefaultCacheBehavior as Json;
    // AWS managed policies: CachingDisabled, AllViewerExceptHostHeader.
    expect(behavior.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad');
    expect(behavior.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac');
    expect(behavior.AllowedMethods).toEqual(expect.arrayContaining(['GET', 'POST']));
    expect(behavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    // The function URL stays without AWS auth (OAC would need a body hash browsers do not send).
    expect(template.toJSON().Resources[logicalId(built.stack.approvals.webUrl)].Properties.AuthType).toBe(
      'NONE',
    );
  });

  it('guards it with a WAF WebACL: a rate limit per address and the AWS managed common rules', () => {
    const { template, built } = cdn;
    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    const [aclId, acl] = Object.entries(template.findResources('AWS::WAFv2::WebACL'))[0] as [
      string,
      { Properties: Json },
    ];
    expect(acl.Properties.Scope).toBe('CLOUDFRONT');
    expect(acl.Properties.DefaultAction).toEqual({ Allow: {} });
    const rules = acl.Properties.Rules as Json[];
    expect(rules[0]).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: DEFAULT_PAGES_RATE_LIMIT, AggregateKeyType: 'IP' } },
    });
    expect(rules[1]).toMatchObject({
      OverrideAction: { None: {} },
      Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } },
    });
    const dist = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0] as {
      Properties: { DistributionConfig: Json };
    };
    expect(dist.Properties.DistributionConfig.WebACLId).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    // Only us-east-1 has CloudFront WebACLs: CloudFormation refuses other Regions before creating anything.
    const rule = Object.entries(template.toJSON().Rules as Record<string, Json>).find(([id]) =>
      id.startsWith('ApprovalPagesCdnWebAclRegion'),
    )?.[1] as { Assertions: Json[] };
    expect(rule.Assertions[0]).toMatchObject({
      Assert: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
    });
    expect(String(rule.Assertions[0]?.AssertDescription)).toContain('approvalPagesWebAclArn');
    expect(built.stack.approvalPagesCdn?.webAcl).toBeDefined();
  });

  it('makes the links name the distribution', () => {
    const { template, built } = cdn;
    const { logicalId } = templateReader(
      () => built.stack,
      () => template,
    );
    const distributionId = logicalId(built.stack.approvalPagesCdn?.distribution as never);
    expect(baseUrlOf(cdn)).toEqual({
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }, '/']],
    });
    expect(Object.keys(template.findOutputs('*')).some((k) => k.includes('ApprovalPagesCdnUrl'))).toBe(true);
  });

  it('acknowledges only cdk-nag findings the distribution really has', () => {
    const raw = new AwsSolutionsChecks();
    // Private hook of cdk-nag 3.0.x: report findings as if nothing were acknowledged.
    Object.defineProperty(raw, 'isAcknowledged', { value: () => false });
    const findings = findingsOf(raw, cdn.built.app);
    const path = cdn.built.stack.approvalPagesCdn?.node.path as string;
    const ours = acknowledgements(cdn.built.app).filter(
      (a) => a.path.startsWith(`${path}/`) && a.id.startsWith('AwsSolutions-'),
    );
    expect(ours.map((a) => a.id).sort()).toEqual([
      'AwsSolutions-CFR1',
      'AwsSolutions-CFR3',
      'AwsSolutions-CFR4',
    ]);
    for (const ack of ours)
      expect(
        findings.filter((f) => f.rule === ack.id && `${f.path}/`.startsWith(`${ack.path}/`)),
        ack.id,
      ).not.toEqual([]);
    // WAF is attached, so CFR2 is no finding at all.
    expect(findings.filter((f) => f.rule === 'AwsSolutions-CFR2')).toEqual([]);
  });

  it('attaches a given WebACL instead of creating one (a stack outside us-east-1)', () => {
    const { template } = synth({ approvalPagesCdn: 'true', approvalPagesWebAclArn: WEB_ACL_ARN });
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    const dist = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0] as {
      Properties: { DistributionConfig: Json };
    };
    expect(dist.Properties.DistributionConfig.WebACLId).toBe(WEB_ACL_ARN);
    expect(
      Object.keys(template.toJSON().Rules).some((id) => id.startsWith('ApprovalPagesCdnWebAclRegion')),
    ).toBe(false);
  });

  it('refuses at synth a stack in another Region without a WebACL, and a WebACL without the CDN', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(
      () =>
        new CreditSentinelStack(app, 'EuStack', {
          env: { region: 'eu-west-1' },
          demo: true,
          approvalPagesCdn: true,
        }),
    ).toThrow(/only be created in us-east-1.*-c approvalPagesWebAclArn=/);
    expect(() => buildApp({ context: { demo: 'true', approvalPagesWebAclArn: WEB_ACL_ARN } })).toThrow(
      /approvalPagesWebAclArn is for approvalPagesCdn=true/,
    );
    expect(() =>
      buildApp({
        context: {
          demo: 'true',
          approvalPagesCdn: 'true',
          approvalPagesWebAclArn: 'arn:aws:wafv2:eu-west-1:1:x',
        },
      }),
    ).toThrow(/approvalPagesWebAclArn/);
  });
});
