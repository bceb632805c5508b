/**
 * The image the app runs: a given reference (a pipeline built it once), or bridge/ built at `pulumi up` and pushed
 * to the account's DigitalOcean Container Registry (an existing one, or one created here), run by digest.
 */
import * as digitalocean from '@pulumi/digitalocean';
import type * as dockerBuild from '@pulumi/docker-build';
import * as pulumi from '@pulumi/pulumi';
import { buildBridgeImage, componentType, formerTypes } from '../pulumi';
import type { RegistryTier } from './args';
import { type AppImageSource, DOCR_HOST, dockerLogin } from './image-reference';

export const DOCR_REPOSITORY = 'scim-bridge';
const DEFAULT_PUSH_CREDENTIALS_SECONDS = 30 * 24 * 3600;

export interface BridgeImageArgs {
  /** A parsed given image; nothing is built. */
  readonly given?: AppImageSource;
  readonly registryName?: string;
  readonly registryTier: RegistryTier;
  readonly pushCredentialsSeconds?: number;
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
    const push = new digitalocean.ContainerRegistryDockerCredentials(
      `${name}-push`,
      { registryName, write: true, expirySeconds: args.pushCredentialsSeconds ?? DEFAULT_PUSH_CREDENTIALS_SECONDS },
      parent,
    );
    const login = pulumi.secret(push.dockerCredentials.apply((json) => dockerLogin(json, DOCR_HOST)));
    this.image = buildBridgeImage(
      `${name}-image`,
      {
        buildContext: args.buildContext,
        dockerfile: args.dockerfile,
        tag: pulumi.interpolate`${DOCR_HOST}/${registryName}/${DOCR_REPOSITORY}:latest`,
        registry: { address: DOCR_HOST, username: login.apply((l) => l.username), password: login.apply((l) => l.password) },
      },
      parent,
    );
    // By digest, so every new build is a new deployment; DOCR images name no registry (App Platform knows the account's).
    this.source = this.image.digest.apply((digest): AppImageSource => ({ registryType: 'DOCR', repository: DOCR_REPOSITORY, digest }));
    this.registerOutputs({ source: this.source, imageRef: this.image.ref });
  }
}
