/**
 * Facts about DigitalOcean the component checks its arguments against: App Platform instance sizes and regions,
 * Managed PostgreSQL connection limits. Each check returns a problem sentence (or undefined) so the caller can name
 * its own key: the component names the argument, the stack names the configuration key.
 */

/** Shared-CPU App Platform sizes: fixed instance count only. */
export const SHARED_INSTANCE_SIZES = [
  'apps-s-1vcpu-0.5gb',
  'apps-s-1vcpu-1gb-fixed',
  'apps-s-1vcpu-1gb',
  'apps-s-1vcpu-2gb',
  'apps-s-2vcpu-4gb',
] as const;

/** Dedicated-CPU App Platform sizes: the only ones App Platform autoscales. */
export const DEDICATED_INSTANCE_SIZES = [
  'apps-d-1vcpu-0.5gb',
  'apps-d-1vcpu-1gb',
  'apps-d-1vcpu-2gb',
  'apps-d-1vcpu-4gb',
  'apps-d-2vcpu-4gb',
  'apps-d-2vcpu-8gb',
  'apps-d-4vcpu-8gb',
  'apps-d-4vcpu-16gb',
  'apps-d-8vcpu-32gb',
] as const;

/** The smallest dedicated size with the contract's 1 GiB of memory. */
export const DEFAULT_INSTANCE_SIZE = 'apps-d-1vcpu-1gb';

/** App Platform's own ceiling on instances per component. */
export const MAX_INSTANCES = 250;

export function isDedicatedSize(size: string): boolean {
  return (DEDICATED_INSTANCE_SIZES as readonly string[]).includes(size);
}

/** Why this size cannot run minReplicas..maxReplicas, or undefined when it can. */
export function instanceSizeProblem(size: string, min: number, max: number): string | undefined {
  const known = [...SHARED_INSTANCE_SIZES, ...DEDICATED_INSTANCE_SIZES] as readonly string[];
  if (!known.includes(size)) {
    return `must be an App Platform instance size: ${DEDICATED_INSTANCE_SIZES.join(', ')} (dedicated CPU, autoscaling) or ${SHARED_INSTANCE_SIZES.join(', ')} (shared CPU, fixed count) (got "${size}")`;
  }
  if (min < max && !isDedicatedSize(size)) {
    return (
      `is a shared-CPU size, and App Platform autoscales only dedicated-CPU sizes: choose one of ${DEDICATED_INSTANCE_SIZES.join(', ')} ` +
      `to scale between minReplicas (${min}) and maxReplicas (${max}), or set maxReplicas equal to minReplicas for a fixed count (got "${size}")`
    );
  }
  return undefined;
}

/** App Platform regions; a database runs in one of the region's datacenters (fra → fra1). */
export const APP_PLATFORM_REGIONS = ['ams', 'blr', 'fra', 'lon', 'nyc', 'sfo', 'sgp', 'syd', 'tor'] as const;

/** The App Platform region of a datacenter slug (fra1 → fra), or undefined when App Platform does not run there. */
export function appRegionOf(datacenter: string): string | undefined {
  const match = /^([a-z]{3})\d$/.exec(datacenter);
  if (!match || !(APP_PLATFORM_REGIONS as readonly string[]).includes(match[1])) return undefined;
  return match[1];
}

/**
 * Connections a Managed PostgreSQL node accepts for clients: 25 per GiB of memory, less 3 kept for maintenance
 * (db-s-1vcpu-1gb → 22). Undefined when the slug does not say its memory.
 */
export function databaseConnectionLimit(sizeSlug: string): number | undefined {
  const gib = /-(\d+)gb$/.exec(sizeSlug)?.[1];
  return gib === undefined ? undefined : 25 * Number(gib) - 3;
}

/** Why this database size cannot serve maxReplicas pools of poolSize connections, or undefined when it can. */
export function databaseSizeProblem(sizeSlug: string, maxReplicas: number, poolSize: number): string | undefined {
  if (!/^[a-z0-9_]+(-[a-z0-9.]+)+$/.test(sizeSlug)) {
    return `must be a Managed Database size slug such as db-s-1vcpu-2gb (got "${sizeSlug}")`;
  }
  const limit = databaseConnectionLimit(sizeSlug);
  const needed = maxReplicas * poolSize;
  if (limit !== undefined && needed > limit) {
    return (
      `${sizeSlug} accepts about ${limit} client connections, but maxReplicas (${maxReplicas}) × ${poolSize} per replica needs ${needed}: ` +
      `choose a size with more memory (db-s-1vcpu-2gb accepts 47) or lower maxReplicas`
    );
  }
  return undefined;
}

/** PostgreSQL major versions Managed Databases offer. */
export const POSTGRES_VERSIONS = ['14', '15', '16', '17', '18'] as const;
export const DEFAULT_POSTGRES_VERSION = '17';

const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[a-z]{2,}$/i;

/** Why these alert addresses are unusable, or undefined. */
export function emailProblem(emails: readonly string[]): string | undefined {
  if (emails.length === 0) return 'must name at least one email address';
  const bad = emails.filter((e) => !EMAIL.test(e));
  return bad.length ? `must be email addresses, comma-separated (not ${bad.map((b) => `"${b}"`).join(', ')})` : undefined;
}

/** Why this host cannot be in that DigitalOcean DNS zone, or undefined. */
export function zoneProblem(domain: string, zone: string): string | undefined {
  return domain === zone || domain.endsWith(`.${zone}`) ? undefined : `must contain domain ${domain} (got "${zone}")`;
}
