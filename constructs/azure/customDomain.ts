/**
 * The custom-domain phases for Container Apps and the pure rules behind them.
 *
 * A managed certificate can only be created once its host name is on an app in the environment
 * (RequireCustomHostnameInEnvironment), and the app can only bind a certificate that exists. So either the
 * platform binds the certificate itself (`auto`, bindingType "Auto", one `pulumi up`, a preview feature with open
 * failure reports), or the deploy runs twice: `hostname` puts the name on the app unbound, then `bind` creates the
 * certificate and binds it with SNI. `records` only creates or prints the DNS records (for DNS hosted elsewhere,
 * whose records must exist before the host name can be added).
 */

export const CUSTOM_DOMAIN_PHASES = ['records', 'hostname', 'bind', 'auto'] as const;
export type CustomDomainPhase = (typeof CUSTOM_DOMAIN_PHASES)[number];

/** The phase to start in: with an Azure DNS zone the records are created in the same run, so go straight to `hostname`. */
export function defaultPhase(hasZone: boolean): CustomDomainPhase {
  return hasZone ? 'hostname' : 'records';
}

/** True when the host name is on the app (bound or not). */
export function hostnameOnApp(phase: CustomDomainPhase): boolean {
  return phase !== 'records';
}

/** True when the phase ends with a certificate serving the host name, so identity providers can use it. */
export function servesCustomDomain(phase: CustomDomainPhase): boolean {
  return phase === 'bind' || phase === 'auto';
}

/**
 * The record name of `hostname` relative to `zoneName` (scim.example.com in example.com → "scim").
 * Throws for a host outside the zone or at its apex (a CNAME cannot live at a zone apex).
 */
export function relativeRecordName(hostname: string, zoneName: string): string {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const zone = zoneName.toLowerCase().replace(/\.$/, '');
  if (host === zone) {
    throw new Error(`${host} is the apex of zone ${zone}; use a subdomain such as scim.${zone} (a CNAME cannot live at an apex)`);
  }
  if (!host.endsWith(`.${zone}`)) throw new Error(`${host} is not inside DNS zone ${zone}`);
  return host.slice(0, -(zone.length + 1));
}

/** The phase that follows, and the command that moves there, for the operator's next steps. */
export function nextPhaseHint(phase: CustomDomainPhase, hostname: string, stack: string): string | undefined {
  switch (phase) {
    case 'records':
      return (
        `Custom domain ${hostname}: add the CNAME and TXT records from the dnsRecords output at your DNS provider, then run ` +
        `pulumi config set customDomainPhase hostname -s ${stack} && pulumi up -s ${stack}`
      );
    case 'hostname':
      return (
        `Custom domain ${hostname} is on the app without a certificate. Bind a managed certificate: ` +
        `pulumi config set customDomainPhase bind -s ${stack} && pulumi up -s ${stack}`
      );
    default:
      return undefined;
  }
}
