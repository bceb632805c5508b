/**
 * ScimBridgeGcp's args: the shared vocabulary (ScimBridgeBaseArgs) plus what only Google Cloud has, resolved and
 * checked once. Every problem names the arg; a value not known yet (a Pulumi output) is passed through unchecked.
 */
import type * as pulumi from '@pulumi/pulumi';
import { isUnresolved } from '../pulumi';
import {
  ArgError,
  type WebhookSecretsArg,
  checkWebhookSecrets,
  type PlatformRules,
  type ResolvedBridgeArgs,
  type ScimBridgeBaseArgs,
  connectionBudget,
  resolveBridgeArgs,
} from '../common';
import {
  CLOUD_RUN,
  CLOUD_SQL_RESERVED_CONNECTIONS,
  FRONT_DOORS,
  type FrontDoor,
  SSL_POLICY_PROFILES,
  type SslPolicyProfile,
  cloudSqlMaxConnections,
  subnetInstanceCapacity,
} from './platform';

export interface ScimBridgeGcpArgs extends ScimBridgeBaseArgs, WebhookSecretsArg<pulumi.Input<string>> {
  /** Google Cloud project id. */
  readonly project: string;
  /** Region of the service, database, network and registry, e.g. europe-west1. */
  readonly region: string;
  /** How the domain reaches the service (see FRONT_DOORS). @default 'loadBalancer' */
  readonly frontDoor?: FrontDoor;
  /**
   * The Cloud DNS managed zone (its resource name, not its DNS name) holding `domain`; the record is created there.
   * @default none: the records to create elsewhere are in `dnsRecords` and `nextSteps`
   */
  readonly dnsZone?: { readonly name: string /** @default project */; readonly project?: string };
  /** The scimsession document (kept a Pulumi secret). Give this or `scimSessionSecretId`, not both. */
  readonly scimSession?: pulumi.Input<string>;
  /** An existing Secret Manager secret holding the scimsession (`NAME` or `projects/P/secrets/NAME`); the latest version is read. */
  readonly scimSessionSecretId?: string;
  /** The Google Workspace service-account key (JSON), kept a secret; required with `googleWorkspace`. @default none */
  readonly googleCredentials?: pulumi.Input<string>;
  /** An image to run, built elsewhere (a pipeline builds once and passes it): nothing is built. @default bridge/Dockerfile built at `pulumi up` */
  readonly image?: pulumi.Input<string>;
  /** The VPC the service and its bootstrap job send database traffic through (Direct VPC egress). */
  readonly network?: {
    /** Primary range of the subnet, private, /26 or larger (Cloud Run takes about two addresses per instance). @default '10.8.0.0/24' */
    readonly ipCidrRange?: string;
  };
  /** TLS profile of the load balancer (TLS 1.2 minimum either way). @default 'MODERN' */
  readonly sslPolicyProfile?: SslPolicyProfile;
  /** Answer plain HTTP on port 80 with a redirect to HTTPS (load balancer front door). @default true */
  readonly httpRedirect?: boolean;
  /** Enable the project APIs the component calls (left enabled on destroy). @default true */
  readonly enableApis?: boolean;
}

export interface ResolvedGcpArgs extends ResolvedBridgeArgs {
  readonly project: string;
  readonly region: string;
  readonly frontDoor: FrontDoor;
  readonly dnsZone?: { readonly name: string; readonly project: string };
  readonly databaseTier: string;
  readonly storageGiB: number;
  readonly ipCidrRange: string;
  readonly sslPolicyProfile: SslPolicyProfile;
  readonly httpRedirect: boolean;
  readonly enableApis: boolean;
}

const COMPONENT = 'ScimBridgeGcp';

export const GCP_RULES: PlatformRules = {
  component: COMPONENT,
  isUnresolved,
  maxReplicasCeiling: CLOUD_RUN.maxInstances,
  // Request concurrency above 1 needs a whole vCPU on Cloud Run, and the bridge serves many requests at once.
  minCpu: CLOUD_RUN.minCpuForConcurrency,
};

export const GCP_DEFAULTS = {
  frontDoor: 'loadBalancer' as FrontDoor,
  databaseTier: 'db-custom-1-3840',
  storageGiB: 10,
  ipCidrRange: '10.8.0.0/24',
  sslPolicyProfile: 'MODERN' as SslPolicyProfile,
} as const;

/** Cloud Run's vCPU sizes at one vCPU and above, and the memory each allows (cloud.google.com/run/docs/configuring/services/memory-limits). */
const CPU_SIZES = [1, 2, 4, 6, 8];
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const REGION = /^[a-z]+-[a-z]+\d+$/;
const TIER = /^db-[a-z0-9-]+$/;
const SECRET_ID = /^(projects\/[a-z0-9-]+\/secrets\/)?[A-Za-z0-9_-]{1,255}$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function fail(arg: string, problem: string): never {
  throw new ArgError(COMPONENT, arg, problem);
}

/** RFC 1918 ranges: a subnet for Direct VPC egress is private (PRIVATE_RANGES_ONLY routes these through the VPC). */
function isPrivateCidr(cidr: string): boolean {
  const m = CIDR.exec(cidr);
  if (!m) return false;
  const [a, b, c, d, prefix] = m.slice(1).map(Number);
  if ([a, b, c, d].some((o) => o > 255) || prefix > 32) return false;
  return a === 10 ? prefix >= 8 : a === 172 && b >= 16 && b <= 31 ? prefix >= 12 : a === 192 && b === 168 ? prefix >= 16 : false;
}

export function resolveGcpArgs(args: ScimBridgeGcpArgs): ResolvedGcpArgs {
  const base = resolveBridgeArgs(args, GCP_RULES);
  if (!PROJECT_ID.test(args.project ?? '')) fail('project', `must be a Google Cloud project id such as my-project-123 (got ${JSON.stringify(args.project)})`);
  if (!REGION.test(args.region ?? '')) fail('region', `must be a region such as europe-west1 (got ${JSON.stringify(args.region)})`);
  const frontDoor = args.frontDoor ?? GCP_DEFAULTS.frontDoor;
  if (!FRONT_DOORS.includes(frontDoor)) fail('frontDoor', `must be one of ${FRONT_DOORS.join(', ')} (got ${JSON.stringify(frontDoor)})`);

  if ((args.scimSession === undefined) === (args.scimSessionSecretId === undefined)) {
    fail('scimSession', 'or scimSessionSecretId: give exactly one (the scimsession as a Pulumi secret, or an existing Secret Manager secret holding it)');
  }
  if (args.scimSessionSecretId !== undefined && !SECRET_ID.test(args.scimSessionSecretId)) {
    fail('scimSessionSecretId', `must be a secret name or projects/PROJECT/secrets/NAME (got "${args.scimSessionSecretId}")`);
  }
  checkWebhookSecrets(COMPONENT, base.webhooks, args.webhookSecrets !== undefined);
  if (base.googleWorkspace && args.googleCredentials === undefined)
    fail('googleCredentials', 'is required with googleWorkspace: the service-account key the Directory API connector signs in with');
  if (!base.googleWorkspace && args.googleCredentials !== undefined)
    fail('googleCredentials', 'is set but googleWorkspace is not: set googleWorkspace (adminEmail, groups) too, or leave the key out');

  const known = <T>(v: T) => !isUnresolved(v);
  if (known(base.cpu) && !CPU_SIZES.includes(base.cpu))
    fail('cpu', `must be one of ${CPU_SIZES.join(', ')} vCPU on Cloud Run with request concurrency (got ${base.cpu})`);
  if (known(base.cpu) && known(base.memoryMiB) && base.memoryMiB > base.cpu * 4096) {
    fail('memoryMiB', `can be at most ${base.cpu * 4096} with ${base.cpu} vCPU on Cloud Run (got ${base.memoryMiB}); raise cpu`);
  }

  const databaseTier = base.database.size ?? GCP_DEFAULTS.databaseTier;
  if (known(databaseTier) && !TIER.test(databaseTier)) fail('database.size', `must be a Cloud SQL tier such as db-custom-1-3840 (got "${databaseTier}")`);
  const ipCidrRange = args.network?.ipCidrRange ?? GCP_DEFAULTS.ipCidrRange;
  if (!isPrivateCidr(ipCidrRange)) fail('network.ipCidrRange', `must be a private IPv4 range such as 10.8.0.0/24 (got "${ipCidrRange}")`);
  if (Number(ipCidrRange.split('/')[1]) > CLOUD_RUN.largestSubnetPrefix) {
    fail('network.ipCidrRange', `must be /${CLOUD_RUN.largestSubnetPrefix} or larger for Direct VPC egress (got "${ipCidrRange}")`);
  }
  const sslPolicyProfile = args.sslPolicyProfile ?? GCP_DEFAULTS.sslPolicyProfile;
  if (!SSL_POLICY_PROFILES.includes(sslPolicyProfile))
    fail('sslPolicyProfile', `must be one of ${SSL_POLICY_PROFILES.join(', ')} (got ${JSON.stringify(sslPolicyProfile)})`);
  if (args.dnsZone && !/^[a-z][a-z0-9-]{0,62}$/.test(args.dnsZone.name))
    fail('dnsZone.name', `must be a Cloud DNS managed zone name such as example-com, not its DNS name (got "${args.dnsZone.name}")`);

  const resolved: ResolvedGcpArgs = {
    ...base,
    project: args.project,
    region: args.region,
    frontDoor,
    dnsZone: args.dnsZone && { name: args.dnsZone.name, project: args.dnsZone.project ?? args.project },
    databaseTier,
    storageGiB: base.database.storageGiB ?? GCP_DEFAULTS.storageGiB,
    ipCidrRange,
    sslPolicyProfile,
    httpRedirect: args.httpRedirect ?? true,
    enableApis: args.enableApis ?? true,
  };
  const prefix = Number(ipCidrRange.split('/')[1]);
  if (known(base.maxReplicas) && base.maxReplicas > subnetInstanceCapacity(prefix)) {
    fail(
      'maxReplicas',
      `${base.maxReplicas} instances need about ${2 * base.maxReplicas} addresses of the Direct VPC egress subnet, and ${ipCidrRange} holds ${subnetInstanceCapacity(prefix)} instances: lower maxReplicas or give network.ipCidrRange a larger range (a /${Math.max(8, 31 - Math.ceil(Math.log2(2 * base.maxReplicas + 5)) + 1)} holds them)`,
    );
  }
  const problem = connectionProblem(resolved);
  if (problem) fail('maxReplicas', problem);
  return resolved;
}

/**
 * Why the worst-case connection count (a rolling deploy at maxReplicas) does not fit the tier's limit, or undefined. A
 * refusal, as on DigitalOcean and Azure: a deploy past it fails with "too many clients" at the worst moment.
 */
export function connectionProblem(args: Pick<ResolvedGcpArgs, 'maxReplicas' | 'databaseTier'>): string | undefined {
  if (isUnresolved(args.maxReplicas) || isUnresolved(args.databaseTier)) return undefined;
  const limit = cloudSqlMaxConnections(args.databaseTier);
  if (limit === undefined) return undefined;
  const budget = connectionBudget(args.maxReplicas, limit, CLOUD_SQL_RESERVED_CONNECTIONS);
  if (budget.fits) return undefined;
  return `${args.maxReplicas} can open ${budget.peak} database connections during a deploy, more than the ${budget.available} that ${args.databaseTier} allows (max_connections ${limit}); choose a larger database.size or a lower maxReplicas`;
}

/** Where every child puts its resources: the project and region, the prefix of Google-side names, the labels. */
export interface GcpScope {
  readonly project: string;
  readonly region: string;
  /** Prefix of Google-side resource names, unique in the project (e.g. scim-bridge-q7w2e9). */
  readonly resourceName: pulumi.Input<string>;
  readonly labels: Record<string, string>;
}
