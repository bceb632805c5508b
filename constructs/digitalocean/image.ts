/**
 * The image the app runs: a given reference (a pipeline built it once), or bridge/ built at `pulumi up` and pushed
 * to the account's DigitalOcean Container Registry (an existing one, or one created here), run by digest.
 *
 * Push credentials: the deployer's own DigitalOcean API token (the one the provider already uses), which the registry
 * takes as user name and password. Until 2026-12 a `ContainerRegistryDockerCredentials` resource made them: they
 * expired after 30 days and the provider renews them only on a refresh (terraform-provider-digitalocean's
 * `digitalocean_container_registry_docker_credentials` checks the expiry in its Read), so a plain `pulumi up` that
 * rebuilt the image a month later was refused with 401. A token read on every run has nothing to expire in the state,
 * the same way GCP pushes with the deployer's OAuth token and Azure with its Entra token.
 */
import * as digitalocean from '@pulumi/digitalocean';
import type * as dockerBuild from '@pulumi/docker-build';
import * as pulumi from '@pulumi/pulumi';
import { buildBridgeImage, componentType, formerTypes } from '../pulumi';
import type { RegistryTier } from './args';
import { type AppImageSource, DOCR_HOST } from './image-reference';

export const DOCR_REPOSITORY = 'scim-bridge';

/**
 * The deployer's API token as the provider reads it: `digitalocean:token`, else DIGITALOCEAN_TOKEN, else
 * DIGITALOCEAN_ACCESS_TOKEN (the provider's own order). Undefined when none is set.
 */
export function deployerToken(
  config: pulumi.Config = new pulumi.Config('digitalocean'),
  env: NodeJS.ProcessEnv = process.env,
): pulumi.Input<string> | undefined {
  // Read as the secret it is (`pulumi config set --secret digitalocean:token`).
  return config.getSecret('token') ?? (env.DIGITALOCEAN_TOKEN || env.DIGITALOCEAN_ACCESS_TOKEN || undefined);
}

export interface BridgeImageArgs {
  /** A parsed given image; nothing is built. */
  readonly given?: AppImageSource;
  readonly registryName?: string;
  readonly registryTier: RegistryTier;
  /** The deployer's API token (deployerToken()); needed only to build. */
  readonly pushToken?: pulumi.Input<string>;
  readonly buildContext?: string;
  readonly dockerfile?: string;
}

export class BridgeImage extends pulumi.ComponentResource {
  /** The image fields of the app spec (without credentials). */
  public readonly source: pulumi.Output<AppImageSource>;
  /** Created only when building and no registryName was given. */
  public readonly registry?: digitalocean.ContainerRegistry;
  /** Present when bridge/ is built here. */
  public readonly image?: dockerBuild.Image;

  constructor(name: string, args: BridgeImageArgs, opts: pulumi.ComponentResourceOptions & { parent: pulumi.Resource }) {
    // Named BridgeImage until 2026-12: the alias keeps the registry in place.
    super(componentType('digitalocean', 'Image'), name, {}, formerTypes(opts, 'scim-bridge:digitalocean:BridgeImage'));
    // Until 2026-12 these were children of ScimBridgeDigitalOcean itself: the aliases keep them (no replacement).
    const parent = { parent: this, aliases: [{ parent: opts.parent }] };
    if (args.given) {
      this.source = pulumi.output(args.given);
      this.registerOutputs({ source: this.source });
      return;
    }
    if (!args.registryName) {
      this.registry = new digitalocean.ContainerRegistry(`${name}-registry`, { subscriptionTierSlug: args.registryTier }, parent);
    }
    const registryName = this.registry ? this.registry.name : pulumi.output(args.registryName!);
    if (!args.pushToken) {
      throw new Error(
        `${name}: building the image needs the deployer's DigitalOcean API token to push (digitalocean:token, or DIGITALOCEAN_TOKEN), or give image`,
      );
    }
    // Secret in state too: the token is the user name as well as the password.
    const token = pulumi.secret(args.pushToken);
    this.image = buildBridgeImage(
      `${name}-image`,
      {
        buildContext: args.buildContext,
        dockerfile: args.dockerfile,
        tag: pulumi.interpolate`${DOCR_HOST}/${registryName}/${DOCR_REPOSITORY}:latest`,
        registry: { address: DOCR_HOST, username: token, password: token },
      },
      parent,
    );
    // By digest, so every new build is a new deployment; DOCR images name no registry (App Platform knows the account's).
    this.source = this.image.digest.apply((digest): AppImageSource => ({ registryType: 'DOCR', repository: DOCR_REPOSITORY, digest }));
    this.registerOutputs({ source: this.source, imageRef: this.image.ref });
  }
}
