/**
 * Options for a component's children. Pulumi does not pass a component's `dependsOn` on to its children (a child only
 * waits for what it names itself), so each child is given the component's own dependencies (e.g. the project APIs,
 * without which a fresh GCP project refuses every call) beside its own.
 */
import type * as pulumi from '@pulumi/pulumi';

export function childOptions(
  parent: pulumi.Resource,
  opts: pulumi.ComponentResourceOptions | undefined,
  ...extra: pulumi.Input<pulumi.Resource>[]
): pulumi.CustomResourceOptions {
  const inherited = opts?.dependsOn === undefined ? [] : Array.isArray(opts.dependsOn) ? opts.dependsOn : [opts.dependsOn as pulumi.Input<pulumi.Resource>];
  return { parent, dependsOn: [...inherited, ...extra] };
}
