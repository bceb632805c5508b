/**
 * Protected groups' names guarded against look-alikes: a name whose confusable skeleton (scim/names.ts) is a
 * protected group's stands for that group, so "Owners\u200B", "\u039Fwners" (Greek) or "Group\u00A0Managers" cannot be
 * created or taken by a rename, as "owners" could not. The skeletons are computed once.
 */
import { confusableSkeleton } from '../scim/names';
import { PROTECTED_GROUPS } from '../store/seed';

let skeletons: Map<string, string> | undefined;

/** The id of the protected group `name` could pass for, if any. */
export function protectedLookalike(name: string): string | undefined {
  skeletons ??= new Map(PROTECTED_GROUPS.map((group) => [confusableSkeleton(group.displayName), group.id]));
  return skeletons.get(confusableSkeleton(name));
}
