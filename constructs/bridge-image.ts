/**
 * The bridge image as the Pulumi clouds build it at `pulumi up`: bridge/Dockerfile with the repository root as
 * context, for linux/amd64, pushed to the cloud's own registry. (The CDK app builds the same Dockerfile as an asset.)
 */
import * as path from 'node:path';
import * as dockerBuild from '@pulumi/docker-build';
import * as pulumi from '@pulumi/pulumi';
import { BRIDGE_IMAGE } from '../contract';

/** The repository root: the build context bridge/Dockerfile copies from. */
export const REPO_ROOT = path.resolve(__dirname, '..');

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

export function buildBridgeImage(name: string, args: BridgeImageArgs, opts: pulumi.CustomResourceOptions): dockerBuild.Image {
  const context = args.buildContext ?? REPO_ROOT;
  return new dockerBuild.Image(
    name,
    {
      context: { location: context },
      dockerfile: { location: path.resolve(context, args.dockerfile ?? BRIDGE_IMAGE.dockerfile) },
      platforms: ['linux/amd64'],
      push: true,
      tags: [args.tag],
      registries: [args.registry],
    },
    opts,
  );
}
