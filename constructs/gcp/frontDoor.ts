/**
 * The two ways a custom domain reaches the Cloud Run service, and the rules that differ between them:
 * which ingress the service accepts, and which DNS record points the domain at the front door.
 */

/**
 * - `loadBalancer`: global external Application Load Balancer (serverless NEG, Google-managed certificate, static
 *   address). Works in every Cloud Run region; the service only accepts traffic that comes through it.
 * - `domainMapping`: Cloud Run domain mapping (no load balancer to pay for), only in the regions that offer it and
 *   only for a domain the deploying identity has verified in Search Console.
 */
export const FRONT_DOORS = ['loadBalancer', 'domainMapping'] as const;
export type FrontDoor = (typeof FRONT_DOORS)[number];

/** Cloud Run v2 ingress values. */
export const INGRESS = {
  all: 'INGRESS_TRAFFIC_ALL',
  internalLoadBalancer: 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER',
} as const;

/** Where a domain mapping sends a subdomain (the documented CNAME target, trailing dot included). */
export const DOMAIN_MAPPING_CNAME_TARGET = 'ghs.googlehosted.com.';

/** A DNS record for the domain: created in the Cloud DNS zone when one is given, otherwise for the operator to add. */
export interface DnsRecord {
  /** Fully qualified name, no trailing dot. */
  name: string;
  type: 'A' | 'AAAA' | 'CNAME';
  /** Record data as Cloud DNS expects it (a CNAME target ends with a dot). */
  value: string;
}

/** The ingress that lets traffic in through the chosen front door and nothing else. */
export function ingressFor(frontDoor: FrontDoor): string {
  // A domain mapping is served by Cloud Run's own front end, which counts as external traffic.
  return frontDoor === 'loadBalancer' ? INGRESS.internalLoadBalancer : INGRESS.all;
}

/** A Cloud DNS name: lower case with a trailing dot. */
export function absoluteName(name: string): string {
  return `${name.toLowerCase().replace(/\.+$/, '')}.`;
}

/**
 * Checks that `domain` can be given a record in the zone whose DNS name is `zoneDnsName` (e.g. "example.com.").
 * A CNAME cannot sit at a zone apex, so the domain mapping needs a subdomain there.
 */
export function checkDomainInZone(domain: string, zoneDnsName: string, frontDoor: FrontDoor): void {
  const fqdn = absoluteName(domain);
  const zone = absoluteName(zoneDnsName);
  if (fqdn !== zone && !fqdn.endsWith(`.${zone}`)) {
    throw new Error(`domain ${domain} is not inside the Cloud DNS zone ${zone}`);
  }
  if (frontDoor === 'domainMapping' && fqdn === zone) {
    throw new Error(`domain ${domain} is the apex of zone ${zone}: a domain mapping needs a CNAME, which cannot sit at an apex; use frontDoor loadBalancer or a subdomain`);
  }
}
