/**
 * One convention for Pulumi type names on every cloud: `scim-bridge:<cloud>:<Role>`, the role named as the file that
 * holds it (Database in database.ts, FrontDoor in front-door.ts, Secrets in secrets.ts). Changing a type name changes
 * the URN of the component and of every child under it, so a renamed type keeps its former name as an alias and the
 * engine moves existing stacks in place (no replacement of a database, certificate or secret).
 */
import type * as pulumi from '@pulumi/pulumi';

export type PulumiCloud = 'gcp' | 'digitalocean' | 'azure';

export function componentType(cloud: PulumiCloud, role: string): string {
  return `scim-bridge:${cloud}:${role}`;
}

/** Options for a component whose type was `former` in an earlier release of the kit. */
export function formerTypes(opts: pulumi.ComponentResourceOptions | undefined, ...former: string[]): pulumi.ComponentResourceOptions {
  return { ...opts, aliases: [...(opts?.aliases ?? []), ...former.map((type) => ({ type }))] };
}
