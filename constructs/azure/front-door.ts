/**
 * The custom domain on Container Apps: its phases, its DNS records, and the managed certificate.
 *
 * A managed certificate can be created only once its host name is on an app in the environment
 * (RequireCustomHostnameInEnvironment), and an app can bind only a certificate that exists. So either the platform
 * binds it (`auto`: bindingType "Auto", API 2024-10-02-preview and later, one `pulumi up`, with open failure reports),
 * or the deploy runs twice: `hostname` puts the name on the app unbound, `bind` issues the certificate and binds it
 * with SNI. `records` only creates or shows the records (DNS hosted elsewhere: adding a host name checks them).
 */
import * as pulumi from '@pulumi/pulumi';
import * as app from '@pulumi/azure-native/app';
import * as dns from '@pulumi/azure-native/dns';
import type * as azureInputs from '@pulumi/azure-native/types/input';
import type { DnsRecord } from '../common';
import { componentType, formerTypes } from '../pulumi';

export const CUSTOM_DOMAIN_PHASES = ['records', 'hostname', 'bind', 'auto'] as const;
export type CustomDomainPhase = (typeof CUSTOM_DOMAIN_PHASES)[number];

/** With an Azure DNS zone the records exist within the same run, so the host name can go on the app at once. */
export function defaultPhase(hasZone: boolean): CustomDomainPhase {
  return hasZone ? 'hostname' : 'records';
}

/** True when the phase ends with a certificate serving the domain, so identity providers can be given it. */
export function servesCustomDomain(phase: CustomDomainPhase): boolean {
  return phase === 'bind' || phase === 'auto';
}

/** The step after an unfinished phase, for nextSteps. */
export function nextPhaseHint(phase: CustomDomainPhase, domain: string, stack: string): string | undefined {
  const run = (next: CustomDomainPhase) => `pulumi config set customDomainPhase ${next} -s ${stack} && pulumi up -s ${stack}`;
  if (phase === 'records') return `When the records for ${domain} resolve, put the host name on the app: ${run('hostname')}`;
  if (phase === 'hostname') return `${domain} is on the app without a certificate; issue and bind the managed certificate: ${run('bind')}`;
  return undefined;
}

/** The CNAME that sends traffic to the app and the `asuid` TXT that proves the environment owns the domain. */
export function domainRecords(domain: string, appFqdn: pulumi.Input<string>, verificationId: pulumi.Input<string>): pulumi.Output<DnsRecord[]> {
  return pulumi.all([appFqdn, verificationId]).apply(([fqdn, id]): DnsRecord[] => [
    { name: domain, type: 'CNAME', value: fqdn, purpose: 'traffic' },
    { name: `asuid.${domain}`, type: 'TXT', value: id, purpose: 'domain ownership' },
  ]);
}

export interface BridgeFrontDoorArgs {
  readonly domain: string;
  readonly phase: CustomDomainPhase;
  readonly appFqdn: pulumi.Input<string>;
  readonly verificationId: pulumi.Input<string>;
  /** The Azure DNS zone and the record name in it, when the records are created here. */
  readonly zone?: { name: string; resourceGroupName: string; recordName: string };
  readonly environment: { resourceGroupName: pulumi.Input<string>; location: pulumi.Input<string>; name: pulumi.Input<string> };
  /** The environment the certificate belongs to, and is deleted with. */
  readonly environmentResource?: pulumi.Resource;
  readonly tags: Record<string, string>;
}

/** The records (in a zone, when given), the app's `customDomains` for the phase, and the certificate. */
export class BridgeFrontDoor extends pulumi.ComponentResource {
  public readonly dnsRecords: pulumi.Output<DnsRecord[]>;
  /** The Azure DNS record sets, when a zone was given. */
  public readonly recordSets: dns.RecordSet[] = [];
  /** The managed certificate (`bind`: issued before the app binds it; `auto`: see certifyAfter). */
  public certificate?: app.ManagedCertificate;
  /** What the container app's ingress carries for this phase. */
  public readonly customDomains?: azureInputs.app.CustomDomainArgs[];
  constructor(
    private readonly name: string,
    private readonly args: BridgeFrontDoorArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    // Named CustomDomain until 2026-12: the alias moves existing certificates and records in place (no replacement).
    super(componentType('azure', 'FrontDoor'), name, {}, formerTypes(opts, 'scim-bridge:azure:CustomDomain'));
    this.dnsRecords = domainRecords(args.domain, args.appFqdn, args.verificationId);
    if (args.zone) {
      const zone = { resourceGroupName: args.zone.resourceGroupName, zoneName: args.zone.name, ttl: 300 };
      const rel = args.zone.recordName;
      this.recordSets.push(
        new dns.RecordSet(
          `${name}-cname`,
          { ...zone, relativeRecordSetName: rel, recordType: 'CNAME', cnameRecord: { cname: args.appFqdn } },
          { parent: this },
        ),
        new dns.RecordSet(
          `${name}-asuid`,
          { ...zone, relativeRecordSetName: `asuid.${rel}`, recordType: 'TXT', txtRecords: [{ value: [args.verificationId] }] },
          { parent: this },
        ),
      );
    }
    if (args.phase === 'bind') {
      // The host name is already on the app from the `hostname` run, so the certificate can be issued first.
      this.certificate = this.issue(name, this.recordSets);
      this.customDomains = [{ name: args.domain, bindingType: 'SniEnabled', certificateId: this.certificate.id }];
    } else if (args.phase !== 'records') {
      this.customDomains = [{ name: args.domain, bindingType: args.phase === 'auto' ? 'Auto' : 'Disabled' }];
    }
    this.registerOutputs({ dnsRecords: this.dnsRecords });
  }

  /** `auto`: the platform binds the certificate to the app's host name once issued, so it comes after the app. */
  certifyAfter(containerApp: pulumi.Resource): void {
    if (this.args.phase === 'auto') this.certificate = this.issue(this.name, [...this.recordSets, containerApp]);
  }

  private issue(name: string, dependsOn: pulumi.Resource[]): app.ManagedCertificate {
    const env = this.args.environment;
    return new app.ManagedCertificate(
      `${name}-cert`,
      {
        resourceGroupName: env.resourceGroupName,
        location: env.location,
        environmentName: env.name,
        properties: { subjectName: this.args.domain, domainControlValidation: 'CNAME' },
        tags: this.args.tags,
      },
      // Deleted with its environment, never on its own before the app: with `auto` it waits for the app, so a destroy
      // would delete it first, while the app still binds it, and Azure refuses (CertificateInUse). A certificate is a
      // child of its environment (managedEnvironments/managedCertificates) and goes with it.
      { parent: this, dependsOn, deletedWith: this.args.environmentResource },
    );
  }
}
