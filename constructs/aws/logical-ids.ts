/**
 * Logical ids that outlive a restructure. CloudFormation knows a resource by its logical id: a changed id is a new
 * resource and the deletion of the old one, never an update (docs.aws.amazon.com/cdk/v2/guide/identifiers.html,
 * "Logical ID stability"; aws/aws-cdk#12564). A named resource (a Route 53 record) then fails with "already exists",
 * and a kept one (the scimsession secret) is swapped for a new, empty one. So what held state or a name in the earlier
 * layout (one flat construct) keeps the logical id it had there: `test/aws/logical-ids.json` holds both lists.
 */
import { App, type CfnElement, CfnResource, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * The logical id CDK gives a resource at `path` below `root` (e.g. `['SessionSecret', 'Resource']`), computed on a
 * throwaway stack with the same construct path, so it follows whatever id the user gave `root`.
 */
export function logicalIdAt(root: Construct, path: readonly string[]): string {
  const stack = Stack.of(root);
  const below = root.node.path.slice(stack.node.path.length).split('/').filter(Boolean);
  // Never synthesized: under the CDK CLI an App would write itself into cdk.out on exit unless told not to.
  const probeStack = new Stack(new App({ autoSynth: false }), 'Probe');
  let scope: Construct = probeStack;
  const ids = [...below, ...path];
  for (const id of ids.slice(0, -1)) scope = new Construct(scope, id);
  const probe = new CfnResource(scope, ids[ids.length - 1], { type: 'Probe::Probe' });
  return probeStack.getLogicalId(probe);
}

/** Gives `resource` (an L2 construct or a CfnElement) the logical id it had at `earlierPath` below `root`. */
export function keepLogicalId(resource: Construct, root: Construct, earlierPath: readonly string[]): void {
  const element = (resource.node.defaultChild ?? resource) as CfnElement;
  element.overrideLogicalId(logicalIdAt(root, earlierPath));
}

/** Keeps the logical id of every resource under `subtree`, as if `subtree` had stood at `earlierPath` below `root`. */
export function keepLogicalIds(subtree: Construct, root: Construct, earlierPath: readonly string[]): void {
  const base = subtree.node.path.split('/').length;
  for (const child of subtree.node.findAll()) {
    if (!CfnResource.isCfnResource(child)) continue;
    keepLogicalId(child, root, [...earlierPath, ...child.node.path.split('/').slice(base)]);
  }
}
