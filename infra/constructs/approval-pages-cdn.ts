import { Aws, CfnOutput, CfnRule, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HttpVersion,
  OriginRequestPolicy,
  PriceClass,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { FunctionUrlOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { IFunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** Requests one address may make in 5 minutes before WAF blocks it (a person clicks a few links). */
export const DEFAULT_PAGES_RATE_LIMIT = 300;

export interface ApprovalPagesCdnProps {
  /** The approval pages' function URL (auth NONE: the signed link is the credential). */
  readonly webUrl: IFunctionUrl;
  /**
   * An existing WAFv2 WebACL for CloudFront (scope CLOUDFRONT, so created in us-east-1). Given,
   * it is attached and none is created; without it the stack creates one, which CloudFront only
   * accepts from us-east-1 (a template rule refuses other Regions before anything is created).
   * @default - a WebACL created here (the stack must be in us-east-1)
   */
  readonly webAclArn?: string;
  /** @default DEFAULT_PAGES_RATE_LIMIT */
  readonly rateLimit?: number;
}

const US_EAST_1 = 'us-east-1';

/**
 * The approval pages behind CloudFront and AWS WAF (opt-in: `-c approvalPagesCdn=true`): a
 * distribution over the function URL (no caching, every viewer header but Host passed on, every
 * method) and a WebACL with a per-address rate limit and the AWS managed common rule set. The
 * links in the emails then name the distribution.
 *
 * The function URL stays public (auth NONE): CloudFront's origin access control for function URLs
 * signs requests, and Lambda then needs the viewer to send the SHA-256 of every POST body
 * (x-amz-content-sha256), which a browser's form post and Slack's interactivity requests do not.
 * So the URL remains reachable directly, around WAF; only the links point at CloudFront.
 */
export class ApprovalPagesCdn extends Construct {
  public readonly distribution: Distribution;
  /** The WebACL created here, if none was given. */
  public readonly webAcl?: CfnWebACL;
  /** `https://<distribution domain>/`, the base of the approval links. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: ApprovalPagesCdnProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const rateLimit = props.rateLimit ?? DEFAULT_PAGES_RATE_LIMIT;
    if (!Number.isInteger(rateLimit) || rateLimit < 10)
      throw new Error(
        `the approval pages' rate limit must be a whole number of at least 10, not ${rateLimit}`,
      );

    let webAclArn = props.webAclArn;
    if (webAclArn === undefined) {
      if (!Token.isUnresolved(stack.region) && stack.region !== US_EAST_1)
        throw new Error(
          `approvalPagesCdn: a CloudFront WebACL can only be created in ${US_EAST_1}, and this stack is in ${stack.region}. ` +
            `Create one in ${US_EAST_1} (scope CLOUDFRONT) and pass its ARN: -c approvalPagesWebAclArn=arn:aws:wafv2:us-east-1:...`,
        );
      // The stack names no Region by default: CloudFormation checks it before creating anything.
      new CfnRule(this, 'WebAclRegion', {
        assertions: [
          {
            assert: Fn.conditionEquals(Aws.REGION, US_EAST_1),
            assertDescription: `approvalPagesCdn creates a CloudFront WebACL, which exists only in ${US_EAST_1}. Deploy there, or pass an existing one: -c approvalPagesWebAclArn=arn:aws:wafv2:us-east-1:...`,
          },
        ],
      });
      const visibility = (metricName: string) => ({
        cloudWatchMetricsEnabled: true,
        sampledRequestsEnabled: true,
        metricName,
      });
      const webAcl = new CfnWebACL(this, 'WebAcl', {
        scope: 'CLOUDFRONT',
        defaultAction: { allow: {} },
        description: 'Credit Sentinel approval pages: rate limit per address, AWS managed common rules',
        visibilityConfig: visibility('ApprovalPages'),
        rules: [
          {
            name: 'RateLimitPerAddress',
            priority: 0,
            action: { block: {} },
            statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP' } },
            visibilityConfig: visibility('ApprovalPagesRateLimit'),
          },
          {
            name: 'AWSManagedRulesCommonRuleSet',
            priority: 1,
            overrideAction: { none: {} },
            statement: {
              managedRuleGroupStatement: {
                vendorName: 'AWS',
                name: 'AWSManagedRulesCommonRuleSet',
                // Slack's interactivity posts carry the whole message (often over the rule's 8 KB):
                // counted, not blocked. Every other rule of the set blocks.
                ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
              },
            },
            visibilityConfig: visibility('ApprovalPagesCommonRules'),
          },
        ],
      });
      this.webAcl = webAcl;
      webAclArn = webAcl.attrArn;
    }

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Credit Sentinel approval pages',
      defaultBehavior: {
        origin: new FunctionUrlOrigin(props.webUrl),
        allowedMethods: AllowedMethods.ALLOW_ALL,
        // Every page is per link and per moment: nothing is cached.
        cachePolicy: CachePolicy.CACHING_DISABLED,
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      webAclId: webAclArn,
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;

    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'Approvers may travel: no country is refused. The links are signed and expire; WAF limits each address.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'CloudFront standard logs need a bucket with ACLs; every request reaches the function, whose logs record it, and WAF keeps sampled requests.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate allows no minimum TLS setting; give the distribution your own domain and certificate to set TLSv1.2_2021.',
      },
    );
    new CfnOutput(this, 'ApprovalPagesCdnUrl', {
      value: this.url,
      description: 'The approval pages through CloudFront and WAF (the links in the emails)',
    });
  }
}
