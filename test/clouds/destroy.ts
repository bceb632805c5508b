/**
 * What `pulumi destroy` does with a recorded run, as the engine orders it: a resource is deleted after everything that
 * waits for it (dependsOn and input dependencies) and after its children; one `deletedWith` a resource that is also
 * deleted is skipped (its owner takes it along); one with `retainOnDelete` is left in the cloud. Protected resources
 * stop a destroy: call it on a run with deletionProtection off.
 */
import type { Recorded, Run } from '../support/pulumi-harness';

export interface DestroyPlan {
  /** Cloud resources the engine deletes itself, in order. */
  readonly deleted: Recorded[];
  /** Deleted by the deletion of the resource they are `deletedWith`. */
  readonly takenAlong: Recorded[];
  /** Left in the cloud (`retainOnDelete`). */
  readonly retained: Recorded[];
  /** Protected: the destroy stops at them. */
  readonly refused: Recorded[];
}

export function destroyPlan(run: Run): DestroyPlan {
  const custom = run.resources.filter((r) => r.custom && r.type !== 'pulumi:pulumi:StackReference' && !r.type.startsWith('pulumi:providers:'));
  // Who must go before `r`: the resources that wait for it, and (for a component chain) its descendants.
  const before = new Map<Recorded, Set<Recorded>>(custom.map((r) => [r, new Set()]));
  for (const r of custom)
    for (const dep of r.dependsOn) {
      const target = run.byUrn(dep);
      if (!target) continue;
      // A dependency on a component means one on every custom resource under it.
      const targets = target.custom ? [target] : custom.filter((c) => descends(run, c, target));
      for (const t of targets) if (t !== r) before.get(t)?.add(r);
    }
  const order: Recorded[] = [];
  const done = new Set<Recorded>();
  const visit = (r: Recorded, path: Set<Recorded>) => {
    if (done.has(r) || path.has(r)) return;
    path.add(r);
    for (const first of before.get(r) ?? []) visit(first, path);
    path.delete(r);
    done.add(r);
    order.push(r);
  };
  for (const r of custom) visit(r, new Set());
  const deleted: Recorded[] = [];
  const takenAlong: Recorded[] = [];
  const retained: Recorded[] = [];
  const refused: Recorded[] = [];
  for (const r of order) {
    if (r.options.protect) refused.push(r);
    else if (r.options.retainOnDelete) retained.push(r);
    else if (r.options.deletedWith && run.byUrn(r.options.deletedWith)) takenAlong.push(r);
    else deleted.push(r);
  }
  return { deleted, takenAlong, retained, refused };
}

function descends(run: Run, r: Recorded, ancestor: Recorded): boolean {
  for (let p = run.byUrn(r.options.parent); p; p = run.byUrn(p.options.parent)) if (p === ancestor) return true;
  return false;
}
