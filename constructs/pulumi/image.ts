/**
 * The bridge image as the Pulumi clouds get it: either an image reference given by the user (a pipeline builds once
 * and passes `image`: nothing is built, no Docker needed), or bridge/Dockerfile built at `pulumi up` with the
 * repository root as context, for linux/amd64, pushed to the cloud's own registry. (The CDK app builds the same
 * Dockerfile as an asset.)
 *
 * `buildOnPreview: false`: docker-build builds on previews by default, which needs a BuildKit daemon, so a
 * `pulumi preview` on a machine without Docker (a pipeline's plan step, a laptop) would fail. With it off, a preview
 * only hashes the build context; the build happens at `pulumi up` (pulumi-docker-build provider/internal/image.go,
 * Create: `if req.DryRun && !input.shouldBuildOnPreview()` returns before `cli.Build`).
 */
import * as path from 'node:path';
import * as dockerBuild from '@pulumi/docker-build';
import * as pulumi from '@pulumi/pulumi';
import { BRIDGE_IMAGE } from '../../contract';

/** The repository root: the build context bridge/Dockerfile copies from. */
export const REPO_ROOT = path.resolve(__dirname, '../..');

/** Images run on every cloud's amd64 hosts (Cloud Run, App Platform and Container Apps require linux/amd64). */
export const BRIDGE_IMAGE_PLATFORMS = ['linux/amd64'] as const;

export interface BridgeImageArgs {
  /** Build context. @default the repository root */
  readonly buildContext?: string;
  /** Dockerfile, relative to `buildContext`. @default BRIDGE_IMAGE.dockerfile */
  readonly dockerfile?: string;
  /** Where to push, e.g. `<registry>/scim-bridge:latest`. */
  readonly tag: pulumi.Input<string>;
  /** Credentials for the registry; keep the password a Pulumi secret. */
  readonly registry: dockerBuild.types.input.RegistryArgs;
}

/** Builds bridge/Dockerfile and pushes it (at `pulumi up` only; a preview builds nothing). */
export function buildBridgeImage(name: string, args: BridgeImageArgs, opts: pulumi.CustomResourceOptions): dockerBuild.Image {
  const context = args.buildContext ?? REPO_ROOT;
  return new dockerBuild.Image(
    name,
    {
      context: { location: context },
      dockerfile: { location: path.resolve(context, args.dockerfile ?? BRIDGE_IMAGE.dockerfile) },
      platforms: [...BRIDGE_IMAGE_PLATFORMS],
      push: true,
      // A preview must not need a Docker daemon (see the file comment).
      buildOnPreview: false,
      tags: [args.tag],
      registries: [args.registry],
    },
    opts,
  );
}

export interface BridgeImageRef {
  /** What the service runs: the given reference, or the built `tag@sha256:digest` (a new build rolls a new revision). */
  readonly ref: pulumi.Output<string>;
  /** The build, when no image was given. */
  readonly image?: dockerBuild.Image;
}

/**
 * The image a cloud runs: `given` as is when set (nothing built, no Docker, no registry credentials asked for), else
 * built and pushed. `build` is called only when an image must be built, so a cloud asks for registry credentials
 * only then.
 */
export function bridgeImageRef(
  name: string,
  given: pulumi.Input<string> | undefined,
  build: () => BridgeImageArgs,
  opts: pulumi.CustomResourceOptions,
): BridgeImageRef {
  if (given !== undefined) return { ref: pulumi.output(given) };
  const image = buildBridgeImage(name, build(), opts);
  return { ref: image.ref, image };
}
