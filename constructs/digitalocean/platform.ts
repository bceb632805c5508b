/**
 * Facts about DigitalOcean the component builds from and checks against: App Platform instance sizes and
 * regions, Managed PostgreSQL sizes and their connection limits. Prices are list prices (USD a month, checked
 * December 2026 against digitalocean.com/pricing); they feed the cost lines in docs/digitalocean.md, not a bill.
 */
import { connectionBudget } from '../common';

export interface InstanceSize {
  readonly slug: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  /** Dedicated CPU: the only sizes App Platform autoscales (the API's `scalable`). */
  readonly dedicated: boolean;
  /** The API's `single_instance_only`: the size cannot run more than one instance. */
  readonly singleInstance: boolean;
  readonly usdPerMonth: number;
}

const shared = (slug: string, vcpus: number, memoryMiB: number, usdPerMonth: number, singleInstance = false): InstanceSize => ({
  slug,
  vcpus,
  memoryMiB,
  dedicated: false,
  singleInstance,
  usdPerMonth,
});
const dedicated = (slug: string, vcpus: number, memoryMiB: number, usdPerMonth: number): InstanceSize => ({
  slug,
  vcpus,
  memoryMiB,
  dedicated: true,
  singleInstance: false,
  usdPerMonth,
});

/** App Platform container sizes, smallest first within each kind. */
export const INSTANCE_SIZES: readonly InstanceSize[] = [
  // The two smallest shared sizes run one instance only (treated so until `doctl apps tier instance-size get` says otherwise).
  shared('apps-s-1vcpu-0.5gb', 1, 512, 5, true),
  shared('apps-s-1vcpu-1gb-fixed', 1, 1024, 10, true),
  shared('apps-s-1vcpu-1gb', 1, 1024, 12),
  shared('apps-s-1vcpu-2gb', 1, 2048, 25),
  shared('apps-s-2vcpu-4gb', 2, 4096, 50),
  dedicated('apps-d-1vcpu-0.5gb', 1, 512, 29),
  dedicated('apps-d-1vcpu-1gb', 1, 1024, 34),
  dedicated('apps-d-1vcpu-2gb', 1, 2048, 39),
  dedicated('apps-d-1vcpu-4gb', 1, 4096, 49),
  dedicated('apps-d-2vcpu-4gb', 2, 4096, 78),
  dedicated('apps-d-2vcpu-8gb', 2, 8192, 98),
  dedicated('apps-d-4vcpu-8gb', 4, 8192, 156),
  dedicated('apps-d-4vcpu-16gb', 4, 16384, 196),
  dedicated('apps-d-8vcpu-32gb', 8, 32768, 392),
];

/** The smallest size the PRE_DEPLOY bootstrap job needs (billed by the second while it runs). */
export const JOB_INSTANCE_SIZE = 'apps-s-1vcpu-0.5gb';

/** App Platform's ceiling on instances per component. */
export const MAX_INSTANCES = 250;

export function instanceSize(slug: string): InstanceSize | undefined {
  return INSTANCE_SIZES.find((s) => s.slug === slug);
}

/**
 * The smallest size with at least `cpu` vCPUs and `memoryMiB`: shared for a fixed count, dedicated when the service
 * autoscales (App Platform autoscales dedicated sizes only), and one that may run `minReplicas` instances.
 */
export function pickInstanceSize(cpu: number, memoryMiB: number, autoscale: boolean, minReplicas: number): InstanceSize | undefined {
  return INSTANCE_SIZES.find((s) => s.dedicated === autoscale && s.vcpus >= cpu && s.memoryMiB >= memoryMiB && !(s.singleInstance && minReplicas > 1));
}

/** Why `slug` cannot run minReplicas..maxReplicas instances, or undefined when it can. */
export function instanceSizeProblem(slug: string, min: number, max: number): string | undefined {
  const size = instanceSize(slug);
  if (!size) {
    return `must be an App Platform instance size: ${INSTANCE_SIZES.map((s) => s.slug).join(', ')} (got "${slug}")`;
  }
  if (min < max && !size.dedicated) {
    const dedicatedSizes = INSTANCE_SIZES.filter((s) => s.dedicated).map((s) => s.slug);
    return (
      `is a shared-CPU size, and App Platform autoscales only dedicated-CPU sizes: to scale between minReplicas (${min}) and ` +
      `maxReplicas (${max}) choose one of ${dedicatedSizes.join(', ')} (or leave instanceSize unset), or set maxReplicas equal to minReplicas for a fixed count (got "${slug}")`
    );
  }
  if (size.singleInstance && max > 1) {
    return `runs one instance only on App Platform, and maxReplicas is ${max}: choose apps-s-1vcpu-1gb or larger, or set minReplicas and maxReplicas to 1 (got "${slug}")`;
  }
  return undefined;
}

/** App Platform regions; a database and a VPC live in one of the region's datacenters (fra → fra1). */
export const APP_PLATFORM_REGIONS = ['ams', 'atl', 'blr', 'fra', 'lon', 'nyc', 'sfo', 'sgp', 'syd', 'tor'] as const;

/** The App Platform region of a datacenter slug (fra1 → fra), or undefined when App Platform does not run there. */
export function appRegionOf(datacenter: string): string | undefined {
  const match = /^([a-z]{3})\d$/.exec(datacenter);
  return match && (APP_PLATFORM_REGIONS as readonly string[]).includes(match[1]) ? match[1] : undefined;
}

export interface DatabaseSize {
  readonly slug: string;
  readonly memoryGiB: number;
  readonly usdPerMonth: number;
}

/** Managed PostgreSQL node sizes (basic, shared CPU), smallest first; larger slugs are accepted as given. */
export const DATABASE_SIZES: readonly DatabaseSize[] = [
  { slug: 'db-s-1vcpu-1gb', memoryGiB: 1, usdPerMonth: 15 },
  { slug: 'db-s-1vcpu-2gb', memoryGiB: 2, usdPerMonth: 30 },
  { slug: 'db-s-2vcpu-4gb', memoryGiB: 4, usdPerMonth: 60 },
  { slug: 'db-s-4vcpu-8gb', memoryGiB: 8, usdPerMonth: 120 },
  { slug: 'db-s-6vcpu-16gb', memoryGiB: 16, usdPerMonth: 240 },
  { slug: 'db-s-8vcpu-32gb', memoryGiB: 32, usdPerMonth: 480 },
];

/**
 * Managed PostgreSQL allows 25 connections per GiB of memory and keeps 3 of them for its own maintenance
 * (db-s-1vcpu-1gb: 22 for clients; docs.digitalocean.com/products/databases/postgresql/how-to/manage-connection-pools).
 */
export const CONNECTIONS_PER_GIB = 25;
export const RESERVED_CONNECTIONS = 3;

/** The memory a size slug names (db-s-2vcpu-4gb → 4), or undefined. */
export function databaseMemoryGiB(slug: string): number | undefined {
  const gib = /-(\d+)gb$/.exec(slug)?.[1];
  return gib === undefined ? undefined : Number(gib);
}

function budget(slug: string, maxReplicas: number) {
  const gib = databaseMemoryGiB(slug);
  return gib === undefined ? undefined : connectionBudget(maxReplicas, CONNECTIONS_PER_GIB * gib, RESERVED_CONNECTIONS);
}

/**
 * Standby nodes "are available in all but the smallest cluster size"
 * (docs.digitalocean.com/products/databases/: high availability).
 */
export const SMALLEST_DATABASE_SIZE = DATABASE_SIZES[0].slug;

/**
 * The smallest size whose connections hold maxReplicas pools twice over (a rolling deploy) plus the bootstrap, and
 * that takes a standby node when one is wanted.
 */
export function pickDatabaseSize(maxReplicas: number, standby = false): DatabaseSize | undefined {
  return DATABASE_SIZES.find((s) => budget(s.slug, maxReplicas)!.fits && !(standby && s.slug === SMALLEST_DATABASE_SIZE));
}

/** Why `slug` cannot serve maxReplicas replicas, or undefined when it can. */
export function databaseSizeProblem(slug: string, maxReplicas: number): string | undefined {
  if (!/^db-[a-z0-9]+-\d+vcpu-\d+gb$/.test(slug)) return `must be a Managed Database size slug such as db-s-1vcpu-2gb (got "${slug}")`;
  const b = budget(slug, maxReplicas)!;
  if (b.fits) return undefined;
  const enough = pickDatabaseSize(maxReplicas);
  return (
    `${slug} has ${b.available} client connections, but maxReplicas (${maxReplicas}) needs ${b.peak} at a rolling deploy ` +
    `(old and new replicas' pools and the bootstrap job): choose ${enough ? enough.slug : 'a larger size'} or lower maxReplicas`
  );
}

/** True when size `a` has less memory (then fewer vCPUs) than `b`: a resize from `b` to `a` DigitalOcean refuses. */
export function isSmallerDatabaseSize(a: string, b: string): boolean {
  const rank = (slug: string) => [databaseMemoryGiB(slug) ?? 0, Number(/-(\d+)vcpu-/.exec(slug)?.[1] ?? 0)];
  const [ma, ca] = rank(a);
  const [mb, cb] = rank(b);
  return ma < mb || (ma === mb && ca < cb);
}

/** DigitalOcean keeps 7 days of backups with point-in-time recovery, for every cluster; it cannot be changed. */
export const BACKUP_RETENTION_DAYS = 7;

/** DigitalOcean tags: letters, digits, colons, dashes and underscores, up to 255 characters. */
export function tagList(tags: Readonly<Record<string, string>>): string[] {
  return Object.entries(tags).map(([k, v]) => (v ? `${k}:${v}` : k));
}
