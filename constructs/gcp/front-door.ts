/**
 * The public front door and the domain's DNS record: a global external Application Load Balancer (serverless NEG →
 * backend service → URL map → HTTPS proxy with a Google-managed certificate and a TLS 1.2+ policy, a static address,
 * port 80 redirecting to HTTPS), or a Cloud Run domain mapping. The record goes into the Cloud DNS zone when one is
 * named; otherwise `records` are what to create elsewhere.
 */
import * as pulumi from '@pulumi/pulumi';
import * as cloudrun from '@pulumi/gcp/cloudrun';
import * as compute from '@pulumi/gcp/compute';
import * as dns from '@pulumi/gcp/dns';
import { type DnsRecord, absoluteName } from '../common';
import { childOptions } from '../pulumi';
import type { GcpScope } from './args';
import { type FrontDoor, type SslPolicyProfile, checkDomainInZone, trafficRecords } from './platform';

export interface BridgeFrontDoorArgs extends GcpScope {
  readonly domain: string;
  readonly frontDoor: FrontDoor;
  readonly serviceName: pulumi.Input<string>;
  readonly dnsZone?: { readonly name: string; readonly project: string };
  readonly sslPolicyProfile: SslPolicyProfile;
  readonly httpRedirect: boolean;
}

export class BridgeFrontDoor extends pulumi.ComponentResource {
  /** Load balancer: its static address, managed certificate and TLS policy. */
  public readonly address?: compute.GlobalAddress;
  public readonly certificate?: compute.ManagedSslCertificate;
  public readonly sslPolicy?: compute.SSLPolicy;
  /** Domain mapping. */
  public readonly domainMapping?: cloudrun.DomainMapping;
  /** The domain's record in the Cloud DNS zone, when one was named. */
  public readonly dnsRecordSet?: dns.RecordSet;
  /** What points the domain at the front door. */
  public readonly records: pulumi.Output<DnsRecord[]>;

  constructor(name: string, args: BridgeFrontDoorArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:gcp:FrontDoor', name, {}, opts);
    const { project, region, domain } = args;
    const child = childOptions(this, opts);
    if (args.frontDoor === 'loadBalancer') {
      const neg = new compute.RegionNetworkEndpointGroup(
        name,
        { project, region, networkEndpointType: 'SERVERLESS', cloudRun: { service: args.serviceName } },
        child,
      );
      const backend = new compute.BackendService(
        name,
        // Request logs at the edge; the bridge logs its own (never a token).
        { project, loadBalancingScheme: 'EXTERNAL_MANAGED', protocol: 'HTTPS', backends: [{ group: neg.id }], logConfig: { enable: true, sampleRate: 1 } },
        child,
      );
      const urlMap = new compute.URLMap(`${name}-https`, { project, defaultService: backend.id }, child);
      this.certificate = new compute.ManagedSslCertificate(name, { project, type: 'MANAGED', managed: { domains: [domain] } }, child);
      this.sslPolicy = new compute.SSLPolicy(name, { project, profile: args.sslPolicyProfile, minTlsVersion: 'TLS_1_2' }, child);
      const httpsProxy = new compute.TargetHttpsProxy(
        `${name}-https`,
        { project, urlMap: urlMap.id, sslCertificates: [this.certificate.id], sslPolicy: this.sslPolicy.id },
        child,
      );
      this.address = new compute.GlobalAddress(name, { project, ipVersion: 'IPV4', addressType: 'EXTERNAL', labels: args.labels }, child);
      const rule = (ruleName: string, target: pulumi.Input<string>, port: string) =>
        new compute.GlobalForwardingRule(
          ruleName,
          {
            project,
            target,
            ipAddress: this.address!.address,
            ipProtocol: 'TCP',
            portRange: port,
            loadBalancingScheme: 'EXTERNAL_MANAGED',
            labels: args.labels,
          },
          child,
        );
      rule(`${name}-https`, httpsProxy.id, '443');
      if (args.httpRedirect) {
        const redirect = new compute.URLMap(
          `${name}-http-redirect`,
          { project, defaultUrlRedirect: { httpsRedirect: true, redirectResponseCode: 'MOVED_PERMANENTLY_DEFAULT', stripQuery: false } },
          child,
        );
        rule(`${name}-http`, new compute.TargetHttpProxy(`${name}-http`, { project, urlMap: redirect.id }, child).id, '80');
      }
      this.records = this.address.address.apply((ip) => trafficRecords(domain, 'loadBalancer', ip));
    } else {
      this.domainMapping = new cloudrun.DomainMapping(
        name,
        { project, location: region, name: domain, metadata: { namespace: project, labels: args.labels }, spec: { routeName: args.serviceName } },
        child,
      );
      this.records = this.domainMapping.statuses.apply((statuses) =>
        trafficRecords(
          domain,
          'domainMapping',
          undefined,
          (statuses ?? []).flatMap((s) => s.resourceRecords ?? []),
        ),
      );
    }

    const zone = args.dnsZone;
    if (zone) {
      const checked = dns.getManagedZoneOutput({ name: zone.name, project: zone.project }, child).apply((z) => {
        checkDomainInZone(domain, z.dnsName, args.frontDoor);
        return z.name;
      });
      const record = this.records.apply((records) => records[0]);
      this.dnsRecordSet = new dns.RecordSet(
        name,
        {
          project: zone.project,
          managedZone: checked,
          name: absoluteName(domain),
          type: record.type,
          ttl: 300,
          // Cloud DNS wants a CNAME target fully qualified.
          rrdatas: this.records.apply((records) =>
            records.filter((r) => r.type === records[0].type).map((r) => (r.type === 'CNAME' ? absoluteName(r.value) : r.value)),
          ),
        },
        child,
      );
    }
    this.registerOutputs({ records: this.records });
  }
}
