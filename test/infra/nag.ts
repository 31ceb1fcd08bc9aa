import { Validations } from 'aws-cdk-lib';
import type { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** What cdk-nag finds in a construct tree, one entry per violating resource. */
export type Finding = { rule: string; path: string };

export const findingsOf = (pack: AwsSolutionsChecks, scope: IConstruct): Finding[] =>
  pack
    .validateScope(scope)
    .violations.flatMap((v) =>
      v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '' })),
    );

/** All `Validations.of(x).acknowledge()` records in the tree. */
export const acknowledgements = (scope: IConstruct): { path: string; id: string; reason: string }[] =>
  scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
