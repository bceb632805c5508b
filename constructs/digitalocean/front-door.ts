/**
 * The front door: the custom domain with App Platform's managed certificate, the DNS record it needs, and the
 * app-level alerts. In a DigitalOcean DNS zone (`dnsZone`) App Platform creates and keeps the record itself;
 * otherwise the record is an output to create at the DNS provider.
 */
import type * as digitalocean from '@pulumi/digitalocean';
import * as pulumi from '@pulumi/pulumi';
import { type DnsRecord, absoluteName } from '../common';

export function domainNames(domain: string, zone?: string): digitalocean.types.input.AppSpecDomainName[] {
  return [{ name: domain, type: 'PRIMARY', ...(zone ? { zone } : {}) }];
}

export function appAlerts(emails: readonly string[]): digitalocean.types.input.AppSpecAlert[] {
  // Without addresses App Platform mails the team's own.
  const to = emails.length ? { destinations: { emails: [...emails] } } : {};
  return [
    { rule: 'DEPLOYMENT_FAILED', ...to },
    { rule: 'DOMAIN_FAILED', ...to },
  ];
}

/** The app's own host (`scim-bridge-x7k2p.ondigitalocean.app`) from its default ingress URL. */
export function defaultHost(defaultIngress: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.output(defaultIngress).apply((url) => url.replace(/^https?:\/\//, '').replace(/\/+$/, ''));
}

/** The records to create by hand: none in a DigitalOcean zone, else the CNAME to the app's own host. */
export function recordsToCreate(domain: string, zone: string | undefined, host: pulumi.Output<string>): pulumi.Output<DnsRecord[]> {
  return zone ? pulumi.output([]) : host.apply((value) => [{ name: domain, type: 'CNAME' as const, value, purpose: 'traffic' }]);
}

/** A record as zone files and DigitalOcean's DNS API want it: both names absolute, with the trailing dot. */
export function zoneFileLine(record: DnsRecord): string {
  return `${absoluteName(record.name)} ${record.type} ${record.type === 'CNAME' ? absoluteName(record.value) : record.value}`;
}
