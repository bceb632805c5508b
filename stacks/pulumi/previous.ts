/**
 * The stack's own outputs from its last update, read through a reference to itself (a stack may read its own outputs:
 * pulumi/pulumi#3722). A second run keeps what the first one chose: the database version when `database.version` is
 * unset, DigitalOcean's database size when `database.size` is unset, App Platform's encrypted secrets. A new stack
 * has no outputs yet: every value is undefined. Reading them needs the backend only, no cloud role.
 */
import * as pulumi from '@pulumi/pulumi';
import { PREVIOUS_DEPLOYMENT_OUTPUTS, type PreviousDeployment } from '../../constructs/common';

/** The resource name of the self-reference (kept: DigitalOcean stacks have had it since their sealed secrets). */
export const PREVIOUS_RUN_REFERENCE = 'scim-bridge-previous-run';

export interface PreviousRun {
  readonly reference: pulumi.StackReference;
  readonly deployment: PreviousDeployment;
}

export async function previousRun(): Promise<PreviousRun> {
  const reference = new pulumi.StackReference(PREVIOUS_RUN_REFERENCE, { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` });
  const read = async (name: string): Promise<string | undefined> => {
    const details = await reference.getOutputDetails(name);
    const value = details.value ?? details.secretValue;
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return {
    reference,
    deployment: {
      databaseVersion: await read(PREVIOUS_DEPLOYMENT_OUTPUTS.databaseVersion),
      databaseSize: await read(PREVIOUS_DEPLOYMENT_OUTPUTS.databaseSize),
    },
  };
}

/** The outputs the next run reads back. */
export function deploymentOutputs(deployment: {
  databaseVersion: pulumi.Input<string>;
  databaseSize: pulumi.Input<string>;
}): Record<string, pulumi.Input<string>> {
  return { [PREVIOUS_DEPLOYMENT_OUTPUTS.databaseVersion]: deployment.databaseVersion, [PREVIOUS_DEPLOYMENT_OUTPUTS.databaseSize]: deployment.databaseSize };
}
