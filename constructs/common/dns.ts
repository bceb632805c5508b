/** The DNS records a deployment needs, in one shape on every cloud (created in a zone, or shown to add elsewhere). */

export type DnsRecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT';

export interface DnsRecord {
  /** Fully qualified name without the trailing dot, e.g. `scim.example.com` or `asuid.scim.example.com`. */
  readonly name: string;
  readonly type: DnsRecordType;
  /** Address, target host (no trailing dot) or text. */
  readonly value: string;
  /** What the record is for, e.g. `traffic` or `domain ownership`. */
  readonly purpose: string;
}

/** `name.` as zone files and most DNS APIs want it. */
export function absoluteName(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** `name` without a trailing dot. */
export function relativeName(name: string): string {
  return name.replace(/\.$/, '');
}

/** True when `domain` is `zone` itself or lies under it (both with or without a trailing dot). */
export function inZone(domain: string, zone: string): boolean {
  const d = relativeName(domain).toLowerCase();
  const z = relativeName(zone).toLowerCase();
  return d === z || d.endsWith(`.${z}`);
}

/** The record's name relative to its zone (`@` at the apex), as DigitalOcean and Azure DNS take it. */
export function nameInZone(domain: string, zone: string): string {
  const d = relativeName(domain).toLowerCase();
  const z = relativeName(zone).toLowerCase();
  if (!inZone(d, z)) throw new Error(`${d} is not in the zone ${z}`);
  return d === z ? '@' : d.slice(0, -(z.length + 1));
}

/** One line per record, for `nextSteps`. */
export function describeRecords(records: readonly DnsRecord[]): string[] {
  return records.map((r) => `${r.name} ${r.type} ${r.value} (${r.purpose})`);
}
