import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build-app.ts';
import { REGIONS_WITHOUT_FUNCTION_URLS } from '../../infra/regions.ts';

/**
 * cfn-lint (1.51, AWS's CloudFormation linter: resource specs and schemas of every Region) over
 * the template `cdk synth` deploys: the real app with cdk.json's context (its feature flags change
 * the template), bundling skipped (the code assets do not change what is linted).
 *
 * The whole template in us-east-1 and eu-west-1, and E3006 (a resource type missing in a
 * Region) in every Region: the only errors allowed are E3006 for the two function URLs in the
 * Regions that lack them (the stack refuses those by a template rule and at synth:
 * infra/regions.ts, whose list must equal cfn-lint's). Warnings are fixed in infra/ or listed in
 * ALLOWED with the reason; an entry nothing matches any more is an error too.
 */

interface Finding {
  Rule: { Id: string };
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Location: { Path: (string | number)[] };
}

interface Allowed {
  rule: string;
  /** Logical ids of the resources the warning is about (the template's `Resources/<id>`). */
  resource: RegExp;
  why: string;
}

/** Warnings kept on purpose. */
const ALLOWED: readonly Allowed[] = [
  {
    rule: 'W3005',
    resource:
      /Function[0-9A-F]{8}$|^BucketNotificationsHandler[0-9a-fA-F]+$|^\w+TransferApproval[0-9A-F]{8}$|^\w+PeriodicReview[0-9A-F]{8}$|^\w+DailyEvaluation[0-9A-F]{8}$/,
    why:
      'aws-cdk-lib gives every Lambda function and state machine a DependsOn on its role (beside the ' +
      "role's default policy, which is what the DependsOn is for) although the Role GetAtt already " +
      'orders them: a redundant edge, harmless, in code CDK generates',
  },
  {
    rule: 'W3005',
    resource: /^IngestionUploadBucketNotifications[0-9A-F]{8}$/,
    why:
      "aws-cdk-lib's bucket notifications DependsOn the queue (beside the queue policy, which S3 " +
      'needs in place to validate the destination) although the QueueArn GetAtt already orders them: ' +
      'redundant, harmless, generated',
  },
];

const resourceOf = (f: Finding) => (f.Location.Path[0] === 'Resources' ? String(f.Location.Path[1]) : '');
const describeFinding = (f: Finding) => `${f.Rule.Id} ${resourceOf(f)}: ${f.Message}`;

let dir: string;
let findings: Finding[];

async function cfnLint(args: string[]): Promise<Finding[]> {
  // cfn-lint exits 2 (errors), 4 (warnings), 8 (informational) or a sum of them: read its JSON either way.
  const out = await promisify(execFile)('cfn-lint', ['--format', 'json', ...args], {
    maxBuffer: 64 * 1024 * 1024,
  }).catch((e: { stdout?: string; stderr?: string; code?: unknown }) => {
    if (typeof e.code === 'number' && e.code > 0 && e.code < 16 && e.stdout) return e;
    throw new Error(`cfn-lint did not run (pip install cfn-lint==1.51.0): ${e.stderr ?? e}`);
  });
  return JSON.parse(out.stdout as string) as Finding[];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-cfn-lint-'));
  const cdkJson = JSON.parse(readFileSync(join(import.meta.dirname, '../../cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const built = buildApp({
    outdir: dir,
    context: { ...cdkJson.context, demo: 'true', 'aws:cdk:bundling-stacks': [] },
  });
  built.app.synth();
  const template = join(dir, built.stack.templateFile);
  // E3006 (a resource type missing in a Region) needs every Region but only the types: that run
  // lints a copy holding them alone (its other findings, about the properties left out, are
  // dropped), which costs a third of linting the whole template in every Region.
  const types = join(dir, 'resource-types.json');
  const { Resources } = JSON.parse(readFileSync(template, 'utf8')) as {
    Resources: Record<string, { Type: string }>;
  };
  writeFileSync(
    types,
    JSON.stringify({
      Resources: Object.fromEntries(Object.entries(Resources).map(([id, r]) => [id, { Type: r.Type }])),
    }),
  );
  const [main, everywhere] = await Promise.all([
    cfnLint(['--regions', 'us-east-1', 'eu-west-1', '--', template]),
    cfnLint(['--regions', 'ALL_REGIONS', '--', types]),
  ]);
  findings = [...main, ...everywhere.filter((f) => f.Rule.Id === 'E3006')];
}, 240_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cfn-lint over the synthesized template', () => {
  it('has no error but function URLs in exactly the Regions the stack refuses', () => {
    const errors = findings.filter((f) => f.Level === 'Error');
    const urlGaps = errors.filter(
      (f) => f.Rule.Id === 'E3006' && /^Resource type 'AWS::Lambda::Url' does not exist in '/.test(f.Message),
    );
    expect(errors.filter((f) => !urlGaps.includes(f)).map(describeFinding)).toEqual([]);
    const regionsOf = (resource: RegExp) =>
      urlGaps
        .filter((f) => resource.test(resourceOf(f)))
        .map((f) => /in '([a-z0-9-]+)'/.exec(f.Message)?.[1])
        .sort();
    const refused = [...REGIONS_WITHOUT_FUNCTION_URLS].sort();
    expect(regionsOf(/^ApprovalsWebFunctionFunctionUrl/)).toEqual(refused);
    expect(regionsOf(/^ApprovalsApiFunctionFunctionUrl/)).toEqual(refused);
    expect(regionsOf(/^CustomerPortalPortalFunctionFunctionUrl/)).toEqual(refused);
    expect(regionsOf(/^CreditChecksChecksFunctionFunctionUrl/)).toEqual(refused);
    expect(urlGaps).toHaveLength(4 * refused.length);
  });

  it('has no warning or informational finding beyond the allow-list, and every allow-list entry still applies', () => {
    const rest = findings.filter((f) => f.Level !== 'Error');
    const unexplained = rest.filter(
      (f) => !ALLOWED.some((a) => a.rule === f.Rule.Id && a.resource.test(resourceOf(f))),
    );
    expect(unexplained.map(describeFinding)).toEqual([]);
    const stale = ALLOWED.filter(
      (a) => !rest.some((f) => a.rule === f.Rule.Id && a.resource.test(resourceOf(f))),
    );
    expect(stale.map((a) => `${a.rule} ${a.resource}: ${a.why}`)).toEqual([]);
  });
});
