/** The outputs every cloud gives, under the same names: `scimBaseUrl`, `dnsRecords`, `nextSteps`. */
import { BRIDGE_PATHS, SCIM_BASE_PATH, scimBaseUrl } from '../../contract';
import { type DnsRecord, describeRecords } from './dns';

export { scimBaseUrl };

/** Output names, identical on every cloud (CfnOutput ids and Pulumi stack outputs). */
export const OUTPUT_NAMES = {
  scimBaseUrl: 'scimBaseUrl',
  dnsRecords: 'dnsRecords',
  nextSteps: 'nextSteps',
} as const;

export interface NextStepsInput {
  /** The SCIM base URL for the identity provider. */
  readonly baseUrl: string;
  /** How to put a scimsession into this cloud's secret store (a command or a config key). */
  readonly loadSession: string;
  /** Records to create at the DNS provider; empty when the deployment created them. */
  readonly dnsToCreate: readonly DnsRecord[];
  /** A platform step that must come after the first deploy (e.g. Azure's certificate binding). @default none */
  readonly afterDeploy?: string;
}

/** The text every cloud prints after a deploy: what to do next, in order. */
export function nextSteps(input: NextStepsInput): string {
  const origin = input.baseUrl.replace(SCIM_BASE_PATH, '');
  const steps: string[] = [];
  steps.push(`Create a scimsession and bearer token: npx scim-bridge session create --out scimsession`);
  steps.push(input.loadSession);
  if (input.dnsToCreate.length) steps.push(`Create these DNS records at your DNS provider: ${describeRecords(input.dnsToCreate).join('; ')}`);
  if (input.afterDeploy) steps.push(input.afterDeploy);
  steps.push(
    `Check the deployment: npx scim-bridge doctor ${origin} --token-file <file holding the bearer token> (${origin}${BRIDGE_PATHS.readiness} answers 200 when ready)`,
  );
  steps.push(`In your identity provider, set the SCIM base URL above and the bearer token, then test the connection (docs/identity-providers.md).`);
  return [`SCIM base URL for your identity provider: ${input.baseUrl}`, ...steps.map((s, i) => `${i + 1}. ${s}`)].join('\n');
}
