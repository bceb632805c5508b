/**
 * The stack's Azure Container Registry (admin user off) and the bridge image: built from bridge/Dockerfile and pushed
 * with a token exchanged from the deployer's own Entra token (acr-login.ts), or a given image run as is.
 * Identities pull with AcrPull on this registry only.
 */
import * as pulumi from '@pulumi/pulumi';
import type * as dockerBuild from '@pulumi/docker-build';
import * as authorization from '@pulumi/azure-native/authorization';
import * as containerregistry from '@pulumi/azure-native/containerregistry';
import { buildBridgeImage } from '../pulumi';
import { ACR_TOKEN_USERNAME, exchangeAcrRefreshToken } from './acr-login';
import { AZURE_ROLES, type AzureContext } from './args';

export interface BridgeRegistryArgs extends AzureContext {
  /** The deployer's Entra token for Resource Manager, exchanged for a registry token to push the build. */
  readonly deployerToken: pulumi.Input<string>;
  /** Run this image instead of building one. */
  readonly image?: pulumi.Input<string>;
  readonly buildContext?: string;
  readonly dockerfile?: string;
}

export class BridgeRegistry extends pulumi.ComponentResource {
  public readonly registry: containerregistry.Registry;
  /** The build, when no image was given. */
  public readonly build?: dockerBuild.Image;
  /** What the app and the job run: tag@digest of the build (a new build rolls a new revision), or the given image. */
  public readonly imageRef: pulumi.Output<string>;

  constructor(
    private readonly name: string,
    private readonly args: BridgeRegistryArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super('scim-bridge:azure:Registry', name, {}, opts);
    this.registry = new containerregistry.Registry(
      `${name}-acr`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        tags: args.tags,
        registryName: pulumi.interpolate`scimbridge${args.suffix}`,
        sku: { name: 'Basic' },
        adminUserEnabled: false,
      },
      { parent: this },
    );
    if (args.image !== undefined) {
      this.imageRef = pulumi.output(args.image);
    } else {
      const password = pulumi.secret(
        // A preview builds nothing (buildOnPreview is off), so it needs no push token: a read-only identity previews.
        pulumi
          .all([this.registry.loginServer, args.tenantId, args.deployerToken])
          .apply(([server, tenant, token]) => (pulumi.runtime.isDryRun() ? '' : exchangeAcrRefreshToken(server, tenant, token))),
      );
      this.build = buildBridgeImage(
        `${name}-image`,
        {
          buildContext: args.buildContext,
          dockerfile: args.dockerfile,
          tag: pulumi.interpolate`${this.registry.loginServer}/scim-bridge:latest`,
          registry: { address: this.registry.loginServer, username: ACR_TOKEN_USERNAME, password },
        },
        { parent: this },
      );
      this.imageRef = this.build.ref;
    }
    this.registerOutputs({ loginServer: this.registry.loginServer, imageRef: this.imageRef });
  }

  /** AcrPull on this registry for an identity. */
  allowPull(id: string, principalId: pulumi.Input<string>): authorization.RoleAssignment {
    return new authorization.RoleAssignment(
      `${this.name}-${id}`,
      {
        scope: this.registry.id,
        roleDefinitionId: pulumi.interpolate`/subscriptions/${this.args.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${AZURE_ROLES.acrPull}`,
        principalId,
        principalType: 'ServicePrincipal',
        description: 'SCIM bridge pulls its image',
      },
      { parent: this },
    );
  }
}
