/**
 * What the three Pulumi clouds (gcp, digitalocean, azure) share beside constructs/common (which CDK reads too):
 * isUnresolved for the shared checks, child options, the bridge image build, and the type names of each cloud's
 * components with the aliases that keep stacks made by earlier layouts upgrading in place.
 */
export * from './image';
export * from './options';
export * from './types';
export * from './unresolved';
