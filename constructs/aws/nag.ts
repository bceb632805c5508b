import { type Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Runs cdk-nag's AwsSolutions rules on every stack of `scope` at synthesis (cdk-nag 3.x validation plugin).
 * A finding that is not acknowledged fails `cdk synth` and the tests; the construct acknowledges, with a
 * written reason, only the findings it accepts on purpose.
 */
export function addAwsSolutionsChecks(scope: Stage): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope, { verbose: true }));
}
