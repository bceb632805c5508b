/**
 * Google Cloud's rules the component encodes, as plain functions (no SDK), each with the document it comes from:
 * the two front doors and what each means for ingress, X-Forwarded-For and DNS; Cloud Run's limits; Cloud SQL's
 * connection limits, DNS names and CA bundle; the APIs the component calls.
 */
import { createHash } from 'node:crypto';
import { type DnsRecord, type TrustProxy, absoluteName, inZone, postgresUrl as sharedPostgresUrl, relativeName } from '../common';

/**
 * - `loadBalancer`: a global external Application Load Balancer (serverless NEG, Google-managed certificate, static
 *   address). Works in every Cloud Run region; the service accepts only traffic that comes through it.
 * - `domainMapping`: a Cloud Run domain mapping (no load balancer to pay for), only in the regions that offer it and
 *   only for a domain the deploying identity has verified.
 */
export const FRONT_DOORS = ['loadBalancer', 'domainMapping'] as const;
export type FrontDoor = (typeof FRONT_DOORS)[number];

/** Cloud Run v2 ingress values. */
export const INGRESS = {
  all: 'INGRESS_TRAFFIC_ALL',
  internalLoadBalancer: 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER',
} as const;

/** The ingress that lets traffic in through the chosen front door and nothing else. */
export function ingressFor(frontDoor: FrontDoor): string {
  // A domain mapping is served by Cloud Run's own front end, which counts as external traffic.
  return frontDoor === 'loadBalancer' ? INGRESS.internalLoadBalancer : INGRESS.all;
}

/**
 * How many entries at the right of X-Forwarded-For Google's front end wrote, i.e. SCIM_TRUST_PROXY:
 * - the global external Application Load Balancer appends two, `<client IP>,<forwarding rule IP>`: "Only the
 *   <immediate client IP> and <global forwarding rule external IP> entries are provided by the load balancer. All
 *   other entries in the list are passed along without verification" (cloud.google.com/load-balancing/docs/https,
 *   X-Forwarded-For header). The client is the second address from the right.
 * - a Cloud Run domain mapping (or the run.app URL) is served by Cloud Run's front end, which appends the peer address
 *   it saw to whatever the client sent: the client is the rightmost address.
 * Anything further left is what the client wrote and is never trusted.
 */
export function trustProxyFor(frontDoor: FrontDoor): TrustProxy {
  return frontDoor === 'loadBalancer' ? 2 : 1;
}

/** Where a domain mapping sends a subdomain (Cloud Run's documented CNAME target). */
export const DOMAIN_MAPPING_CNAME_TARGET = 'ghs.googlehosted.com';

/** The records that point the domain at the front door, in the shape every cloud outputs. */
export function trafficRecords(
  domain: string,
  frontDoor: FrontDoor,
  address: string | undefined,
  mappingRecords: readonly { type?: string; rrdata?: string }[] = [],
): DnsRecord[] {
  if (frontDoor === 'loadBalancer') return [{ name: domain, type: 'A', value: address ?? '', purpose: 'traffic to the load balancer' }];
  // Cloud Run says which records it expects: a CNAME for a subdomain, A and AAAA records at a zone apex.
  const wanted = mappingRecords.filter((r) => r.rrdata);
  if (wanted.length === 0) return [{ name: domain, type: 'CNAME', value: DOMAIN_MAPPING_CNAME_TARGET, purpose: 'traffic to the Cloud Run domain mapping' }];
  return wanted.map((r) => ({
    name: domain,
    type: (r.type ?? 'CNAME') as DnsRecord['type'],
    value: relativeName(r.rrdata!),
    purpose: 'traffic to the Cloud Run domain mapping',
  }));
}

/**
 * Checks that `domain` can have its record in the Cloud DNS zone whose DNS name is `zoneDnsName`. A CNAME cannot sit at
 * a zone apex (RFC 1034 3.6.2), so a domain mapping needs a subdomain there.
 */
export function checkDomainInZone(domain: string, zoneDnsName: string, frontDoor: FrontDoor): void {
  const zone = absoluteName(zoneDnsName.toLowerCase());
  if (!inZone(domain, zone)) throw new Error(`ScimBridgeGcp: domain ${domain} is not inside the Cloud DNS zone ${zone}`);
  if (frontDoor === 'domainMapping' && absoluteName(domain) === zone) {
    throw new Error(
      `ScimBridgeGcp: domain ${domain} is the apex of zone ${zone}: a domain mapping needs a CNAME, which cannot sit at an apex; use frontDoor loadBalancer or a subdomain`,
    );
  }
}

/** Cloud Run's limits (cloud.google.com/run/docs/about-concurrency, /configuring/max-instances). */
export const CLOUD_RUN = {
  /** Concurrency above 1 needs at least one whole vCPU. */
  minCpuForConcurrency: 1,
  maxConcurrency: 1000,
  maxInstances: 1000,
  /** Direct VPC egress wants a subnet of at least /26 and takes about two addresses per instance. */
  largestSubnetPrefix: 26,
  /**
   * "You might experience connection establishment delays of a minute or more on instance startup when using Direct
   * VPC egress. We recommend configuring a HTTP startup probe [...] with appropriate period and threshold
   * configurations to act as a retry" (cloud.google.com/run/docs/configuring/vpc-direct-vpc, Limitations). The bridge's
   * own grace (a cold pull, the first migration) plus that minute and more: Cloud Run's ceiling for a service's startup
   * probe, failureThreshold × periodSeconds of 240 s (cloud.google.com/run/docs/configuring/healthchecks).
   */
  startupGraceSeconds: 240,
  startupProbeCeilingSeconds: 240,
} as const;

/** Addresses Google keeps in every subnet's primary range (network, gateway, second-to-last and broadcast). */
const SUBNET_RESERVED_ADDRESSES = 4;

/**
 * Cloud Run instances a Direct VPC egress subnet holds: about two addresses per instance
 * (cloud.google.com/run/docs/configuring/vpc-direct-vpc, IP address allocation), after Google's four reserved addresses
 * and the one the database's Private Service Connect endpoint takes in the same subnet. A /26 holds 29.
 */
export function subnetInstanceCapacity(prefix: number): number {
  return Math.floor((2 ** (32 - prefix) - SUBNET_RESERVED_ADDRESSES - 1) / 2);
}

/** Load balancer TLS profiles allowed here: both refuse TLS below 1.2. */
export const SSL_POLICY_PROFILES = ['MODERN', 'RESTRICTED'] as const;
export type SslPolicyProfile = (typeof SSL_POLICY_PROFILES)[number];

/**
 * Cloud SQL for PostgreSQL's default `max_connections` for a tier (cloud.google.com/sql/docs/postgres/quotas, "Cloud SQL
 * for PostgreSQL connection limits", by memory), or undefined for a tier whose memory this cannot tell.
 */
export function cloudSqlMaxConnections(tier: string): number | undefined {
  if (tier === 'db-f1-micro') return 25;
  if (tier === 'db-g1-small') return 50;
  const custom = /^db-custom-(\d+)-(\d+)$/.exec(tier);
  if (!custom) return undefined;
  const gib = Number(custom[2]) / 1024;
  if (gib < 3.75) return 50;
  const steps: [number, number][] = [
    [6, 100],
    [7.5, 200],
    [15, 400],
    [30, 500],
    [60, 600],
    [120, 800],
  ];
  for (const [below, connections] of steps) if (gib < below) return connections;
  return 1000;
}

/** Connections PostgreSQL keeps for superusers (superuser_reserved_connections) and Cloud SQL for itself. */
export const CLOUD_SQL_RESERVED_CONNECTIONS = 3;

/**
 * The instance's Private Service Connect DNS name (no trailing dot), as the Cloud SQL connectors pick it: the `dnsNames`
 * entry of type PRIVATE_SERVICE_CONNECT for the instance, else the older `dnsName` field
 * (GoogleCloudPlatform/cloud-sql-go-connector internal/cloudsql/refresh.go).
 */
export function pscDnsName(
  dnsNames: readonly { connectionType?: string; dnsScope?: string; name?: string }[] | undefined,
  dnsName: string | undefined,
): string {
  const psc = (dnsNames ?? []).find((d) => d.name && d.connectionType === 'PRIVATE_SERVICE_CONNECT' && d.dnsScope === 'INSTANCE');
  const name = psc?.name ?? dnsName;
  if (!name) throw new Error('ScimBridgeGcp: the Cloud SQL instance reports no DNS name for Private Service Connect');
  return relativeName(name.toLowerCase());
}

/**
 * The PEM bundle a client verifies the instance's server certificate with: every CA `sql.getCaCerts` lists, the current
 * one and the upcoming ones (the instance's `serverCaCerts` attribute holds the current one only, so after a rotation a
 * bundle built from it fails verify-full until someone refreshes the state).
 */
export function caBundle(caCerts: readonly { cert?: string }[] | undefined): string {
  const pems = (caCerts ?? []).map((c) => c.cert?.trim()).filter((c): c is string => Boolean(c));
  if (pems.length === 0) throw new Error('ScimBridgeGcp: the Cloud SQL instance lists no server CA certificate');
  return `${[...new Set(pems)].join('\n')}\n`;
}

/** A `postgres://` URL with verified TLS (the shared form; the CAs come as SCIM_DATABASE_CA_CERT). */
export function postgresUrl(user: string, host: string, database: string, password?: string): string {
  return sharedPostgresUrl({ user, host, database, password });
}

/**
 * A Cloud Run job's `runExecutionToken`: a new value starts an execution on create or update and the job is ready only
 * when it succeeds; job name plus token must stay under 63 characters (the provider's documentation). It changes
 * exactly when what the bootstrap acts on changes.
 */
export function executionToken(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 12);
}

/**
 * The APIs the component calls. `cloudresourcemanager` is needed by the provider itself (it reads the project),
 * `compute` for the network, the Private Service Connect endpoint and the load balancer, `dns` for the database's
 * private zone (and the domain's record). `serviceusage` must already be on to enable any of them (it is in new
 * projects).
 */
export function requiredApis(): string[] {
  return ['cloudresourcemanager', 'iam', 'compute', 'dns', 'run', 'sqladmin', 'secretmanager', 'artifactregistry'].map((a) => `${a}.googleapis.com`);
}

/**
 * Artifact Registry cleanup: a DELETE policy for versions older than 30 days, and a KEEP policy for the 10 newest
 * (KEEP wins where both match: cloud.google.com/artifact-registry/docs/repositories/cleanup-policy), so the image the
 * service runs and a few to roll back to stay, and the rest is deleted. A KEEP policy alone deletes nothing.
 */
export const CLEANUP_POLICIES = [
  { id: 'delete-older-than-30-days', action: 'DELETE', condition: { tagState: 'ANY', olderThan: `${30 * 24 * 3600}s` } },
  { id: 'keep-10-newest', action: 'KEEP', mostRecentVersions: { keepCount: 10 } },
];
