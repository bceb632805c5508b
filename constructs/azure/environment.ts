/**
 * The Container Apps environment: workload-profiles type (the one that takes a delegated subnet of a VNet we own),
 * its serverless Consumption profile, and the Log Analytics workspace its logs go to.
 */
import * as pulumi from '@pulumi/pulumi';
import * as app from '@pulumi/azure-native/app';
import * as operationalinsights from '@pulumi/azure-native/operationalinsights';
import type { AzureContext, ContainerPlacement } from './args';

/** The serverless profile, billed per use like the legacy consumption-only plan. */
export const CONSUMPTION_PROFILE = 'Consumption';

/** What a container app and a job share: where they run, on which profile, as which identity, pulling from where. */
export function runsOn(p: AzureContext & ContainerPlacement) {
  const identity = p.identity.id;
  return {
    placement: {
      resourceGroupName: p.resourceGroupName,
      location: p.location,
      tags: p.tags,
      environmentId: p.environmentId,
      workloadProfileName: CONSUMPTION_PROFILE,
      identity: { type: 'UserAssigned', userAssignedIdentities: [identity] },
    },
    registries: [{ server: p.registryServer, identity }],
  };
}

export interface BridgeEnvironmentArgs extends AzureContext {
  readonly subnetId: pulumi.Input<string>;
  readonly logRetentionDays: number;
}

export class BridgeEnvironment extends pulumi.ComponentResource {
  public readonly workspace: operationalinsights.Workspace;
  public readonly environment: app.ManagedEnvironment;

  constructor(name: string, args: BridgeEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:azure:Environment', name, {}, opts);
    const { resourceGroupName, location, tags } = args;
    this.workspace = new operationalinsights.Workspace(
      `${name}-logs`,
      { resourceGroupName, location, tags, sku: { name: 'PerGB2018' }, retentionInDays: args.logRetentionDays },
      { parent: this },
    );
    const sharedKey = operationalinsights
      .getSharedKeysOutput({ resourceGroupName, workspaceName: this.workspace.name }, { parent: this })
      .apply((keys) => keys.primarySharedKey ?? '');
    this.environment = new app.ManagedEnvironment(
      `${name}-env`,
      {
        resourceGroupName,
        location,
        tags,
        appLogsConfiguration: { destination: 'log-analytics', logAnalyticsConfiguration: { customerId: this.workspace.customerId, sharedKey: pulumi.secret(sharedKey) } },
        vnetConfiguration: { infrastructureSubnetId: args.subnetId, internal: false },
        workloadProfiles: [{ name: CONSUMPTION_PROFILE, workloadProfileType: CONSUMPTION_PROFILE }],
      },
      { parent: this },
    );
    this.registerOutputs({ defaultDomain: this.environment.defaultDomain });
  }
}
