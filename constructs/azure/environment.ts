/**
 * The Container Apps environment: workload-profiles type (the one that takes a delegated subnet of a VNet we own),
 * its serverless Consumption profile, and the Log Analytics workspace its logs go to.
 *
 * Logs reach the workspace through a diagnostic setting (`azure-monitor` destination), not through the workspace's
 * shared key (`log-analytics`): reading the key is `getSharedKeys`, a POST action
 * (Microsoft.OperationalInsights/workspaces/sharedKeys/action) that Reader does not have, so a pull request's
 * `pulumi preview` with the documented read-only role failed with AuthorizationFailed on every run. No key is kept in
 * the state either. learn.microsoft.com/azure/container-apps/log-options.
 */
import * as pulumi from '@pulumi/pulumi';
import * as app from '@pulumi/azure-native/app';
import * as monitor from '@pulumi/azure-native/monitor';
import * as operationalinsights from '@pulumi/azure-native/operationalinsights';
import type { AzureContext, ContainerPlacement } from './args';

/** The environment's log categories (Microsoft.App/managedEnvironments diagnostic settings). */
export const ENVIRONMENT_LOG_CATEGORIES = ['ContainerAppConsoleLogs', 'ContainerAppSystemLogs'] as const;

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
  /** Sends the apps' console and system logs to the workspace. */
  public readonly logs: monitor.DiagnosticSetting;

  constructor(name: string, args: BridgeEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:azure:Environment', name, {}, opts);
    const { resourceGroupName, location, tags } = args;
    this.workspace = new operationalinsights.Workspace(
      `${name}-logs`,
      { resourceGroupName, location, tags, sku: { name: 'PerGB2018' }, retentionInDays: args.logRetentionDays },
      { parent: this },
    );
    this.environment = new app.ManagedEnvironment(
      `${name}-env`,
      {
        resourceGroupName,
        location,
        tags,
        appLogsConfiguration: { destination: 'azure-monitor' },
        vnetConfiguration: { infrastructureSubnetId: args.subnetId, internal: false },
        workloadProfiles: [{ name: CONSUMPTION_PROFILE, workloadProfileType: CONSUMPTION_PROFILE }],
      },
      { parent: this },
    );
    this.logs = new monitor.DiagnosticSetting(
      `${name}-logs`,
      {
        resourceUri: this.environment.id,
        name: 'scim-bridge-logs',
        workspaceId: this.workspace.id,
        logs: ENVIRONMENT_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
      },
      { parent: this },
    );
    this.registerOutputs({ defaultDomain: this.environment.defaultDomain });
  }
}
