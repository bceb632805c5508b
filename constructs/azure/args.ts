/**
 * What ScimBridgeAzure takes (the shared args plus what only Azure has) and the Azure rules they are checked against,
 * once, before anything is created. Every problem is an ArgError naming the arg; the stack reports it under the
 * config key of the same name.
 */
import type * as pulumi from '@pulumi/pulumi';
import type * as managedidentity from '@pulumi/azure-native/managedidentity';
import { BRIDGE_SIZING } from '../../contract';
import {
  ArgError,
  type WebhookSecretsArg,
  checkWebhookSecrets,
  type BridgeDatabaseArgs,
  type ResolvedBridgeArgs,
  type ScimBridgeBaseArgs,
  connectionBudget,
  nameInZone,
  resolveBridgeArgs,
  inZone,
} from '../common';
import { CUSTOM_DOMAIN_PHASES, type CustomDomainPhase, defaultPhase } from './front-door';

export const COMPONENT = 'ScimBridgeAzure';

export interface AzureDatabaseArgs extends BridgeDatabaseArgs {
  /** Also keep backups in the paired region (chosen when the server is created). @default false */
  readonly geoRedundantBackup?: boolean;
}

export interface AzureNetworkArgs {
  /** Address space of the virtual network. @default '10.60.0.0/16' */
  readonly addressSpace?: string;
  /** Subnet of the Container Apps environment (delegated, at least /27). @default '10.60.0.0/23' */
  readonly appsSubnet?: string;
  /** Subnet of the PostgreSQL server (delegated). @default '10.60.2.0/27' */
  readonly databaseSubnet?: string;
}

export interface ScimBridgeAzureArgs extends ScimBridgeBaseArgs, WebhookSecretsArg<pulumi.Input<string>> {
  /** The scimsession document; kept a Pulumi secret through to its Key Vault secret. */
  readonly scimSession: pulumi.Input<string>;
  /** The Google service-account key (JSON) when `googleWorkspace` is set; kept secret, mounted as a file. @default none */
  readonly googleCredentials?: pulumi.Input<string>;
  /** Azure region of a new resource group. @default the region of `resourceGroupName` */
  readonly location?: string;
  /** An existing resource group to deploy into. @default a new one in `location` */
  readonly resourceGroupName?: string;
  /** An image to run instead of building bridge/Dockerfile (public, or in the registry made here). @default built at `pulumi up` */
  readonly image?: pulumi.Input<string>;
  /** Name of the container app, part of its default host name. @default 'scim-bridge' */
  readonly appName?: string;
  /** The Azure DNS zone holding `domain`; its CNAME and `asuid` TXT are then created. @default none: add the `dnsRecords` yourself */
  readonly dnsZone?: string;
  /** Resource group of `dnsZone`. */
  readonly dnsZoneResourceGroup?: string;
  /** Where the custom domain stands (see front-door.ts). @default 'hostname' with `dnsZone`, 'records' without */
  readonly customDomainPhase?: CustomDomainPhase;
  readonly database?: AzureDatabaseArgs;
  /**
   * A `CanNotDelete` management lock on the PostgreSQL server while `deletionProtection` is on: refuses deletion from
   * the portal, the CLI or a resource-group delete too. Needs Owner or User Access Administrator (locks/write).
   * @default false
   */
  readonly managementLock?: boolean;
  /**
   * Whether the identity running `pulumi up` is a user or a service principal (for its Key Vault role).
   * @default read from its token: a pipeline's service principal or managed identity, or a signed-in user
   */
  readonly deployerPrincipalType?: 'User' | 'ServicePrincipal';
  /** Seconds to wait after new role assignments before the app and job use them (RBAC propagation). @default 120 */
  readonly rolePropagationSeconds?: number;
  /** Days the Log Analytics workspace keeps logs. @default 30 */
  readonly logRetentionDays?: number;
  readonly network?: AzureNetworkArgs;
}

/** Where a child puts its resources, and what is the same for all of them in a stack. */
export interface AzureContext {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  readonly tags: Record<string, string>;
  /** The stack's random suffix for globally unique names. */
  readonly suffix: pulumi.Input<string>;
  readonly tenantId: pulumi.Input<string>;
  readonly subscriptionId: pulumi.Input<string>;
}

/** What a container app or job runs on: the environment, its identity, and the image with the registry it is pulled from. */
export interface ContainerPlacement {
  readonly environmentId: pulumi.Input<string>;
  readonly identity: managedidentity.UserAssignedIdentity;
  readonly registryServer: pulumi.Input<string>;
  readonly imageRef: pulumi.Input<string>;
}

/** Built-in Azure role definition ids (the same in every tenant). */
export const AZURE_ROLES = {
  /** Read secret contents. */
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  /** Read, write and delete secrets (the data-plane delete azure-native's keyvault.Secret performs). */
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
} as const;

/** Flexible Server storage sizes (GiB) and the tiers of its compute families. */
const STORAGE_GIB = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767];
const TIERS = { B: 'Burstable', D: 'GeneralPurpose', E: 'MemoryOptimized' } as const;
/** Memory (GiB) of the burstable sizes; D sizes have 4 GiB per vCore, E sizes 8. */
const BURSTABLE_GIB: Record<string, number> = { B1ms: 2, B2s: 4, B2ms: 8, B4ms: 16, B8ms: 32, B12ms: 48, B16ms: 64, B20ms: 80 };
/**
 * Default max_connections by memory, and the 15 the service reserves for replication and monitoring
 * (learn.microsoft.com/azure/postgresql/flexible-server/concepts-limits).
 */
const MAX_CONNECTIONS: Record<number, number> = { 2: 50, 4: 429, 8: 859, 16: 1718, 32: 3437 };
export const RESERVED_CONNECTIONS = 15;

export interface AzureDatabasePlan {
  readonly sku: { name: string; tier: (typeof TIERS)[keyof typeof TIERS] };
  readonly storageGiB: number;
  readonly geoRedundantBackup: boolean;
  /** The server's max_connections, when the size is one the table knows. */
  readonly maxConnections?: number;
}

export interface ResolvedAzureArgs extends ResolvedBridgeArgs {
  readonly phase: CustomDomainPhase;
  /** The record name of `domain` in `dnsZone`, when there is one. */
  readonly recordName?: string;
  readonly db: AzureDatabasePlan;
  /** Connections per replica that fit the server (BRIDGE_SIZING.databasePoolSize or fewer). */
  readonly poolSize: number;
  readonly lock: boolean;
  readonly rolePropagationSeconds: number;
  readonly logRetentionDays: number;
  readonly appName: string;
  readonly network: Required<AzureNetworkArgs>;
}

/** Container Apps' rules for the shared args (learn.microsoft.com/azure/container-apps/scale-app, /containers). */
const RULES = { component: COMPONENT, maxReplicasCeiling: 1000, minCpu: 0.25 } as const;

export function resolveAzureArgs(args: ScimBridgeAzureArgs, isUnresolved: (v: unknown) => boolean): ResolvedAzureArgs {
  const base = resolveBridgeArgs(args, { ...RULES, isUnresolved });
  const fail = (arg: string, problem: string): never => {
    throw new ArgError(COMPONENT, arg, problem);
  };
  const known = (v: unknown) => !isUnresolved(v);
  if (!args.location && !args.resourceGroupName) fail('location', 'is required when resourceGroupName is not set: the Azure region, e.g. westeurope');

  // Consumption profile: 0.25 to 4 vCPU in steps of 0.25, with 2 GiB per vCPU.
  if (known(base.cpu) && (base.cpu > 4 || !Number.isInteger(base.cpu * 4)))
    fail('cpu', `must be 0.25 to 4 in steps of 0.25 on Container Apps' consumption profile, got ${base.cpu}`);
  if (known(base.cpu) && known(base.memoryMiB) && base.memoryMiB !== base.cpu * 2048) {
    fail('memoryMiB', `must be ${base.cpu * 2048} (2 GiB per vCPU) for cpu ${base.cpu} on Container Apps' consumption profile, got ${base.memoryMiB}`);
  }

  const sizeName = base.database.size ?? 'Standard_B1ms';
  const size = /^Standard_([BDE])(\d+)[a-z]*s(_v\d+)?$/.exec(sizeName);
  if (!size) fail('database.size', `must be a Flexible Server compute size such as Standard_B1ms or Standard_D2ds_v5, got "${sizeName}"`);
  const [family, vcores] = [size![1] as keyof typeof TIERS, Number(size![2])];
  const memory = family === 'B' ? BURSTABLE_GIB[sizeName.slice('Standard_'.length)] : vcores * (family === 'D' ? 4 : 8);
  const maxConnections = memory === undefined ? undefined : (MAX_CONNECTIONS[memory] ?? (memory >= 48 ? 5000 : undefined));
  if (known(base.database.highAvailability) && base.database.highAvailability && family === 'B') {
    fail('database.highAvailability', `needs a General Purpose or Memory Optimized size (Standard_D… or Standard_E…); ${sizeName} is Burstable`);
  }
  const storageGiB = base.database.storageGiB ?? 32;
  if (known(storageGiB) && !STORAGE_GIB.includes(storageGiB)) fail('database.storageGiB', `must be one of ${STORAGE_GIB.join(', ')}, got ${storageGiB}`);
  if (known(base.database.backupRetentionDays) && base.database.backupRetentionDays < 7) {
    fail('database.backupRetentionDays', `must be 7 to 35 on Flexible Server, got ${base.database.backupRetentionDays}`);
  }

  // Every replica of a rolling deploy's old and new set at once, plus the bootstrap job, must fit the server.
  let poolSize: number = BRIDGE_SIZING.databasePoolSize;
  if (maxConnections !== undefined && known(base.maxReplicas)) {
    const available = maxConnections - RESERVED_CONNECTIONS;
    poolSize = Math.min(poolSize, Math.floor((available - 1) / (2 * base.maxReplicas)));
    if (poolSize < 1 || !connectionBudget(base.maxReplicas, maxConnections, RESERVED_CONNECTIONS, poolSize).fits) {
      fail(
        'maxReplicas',
        `${base.maxReplicas} replicas need more connections than ${sizeName} allows (${available}); choose a larger database.size or fewer replicas`,
      );
    }
  }

  const zone = args.dnsZone?.toLowerCase().replace(/\.$/, '');
  if (zone && !args.dnsZoneResourceGroup) fail('dnsZoneResourceGroup', `is required with dnsZone: the resource group of zone ${zone}`);
  if (args.dnsZoneResourceGroup && !zone) fail('dnsZone', 'is required when dnsZoneResourceGroup is set');
  let recordName: string | undefined;
  if (zone && known(base.domain)) {
    if (!inZone(base.domain, zone)) fail('domain', `must be inside dnsZone ${zone}, got ${base.domain}`);
    recordName = nameInZone(base.domain, zone);
    if (recordName === '@') fail('domain', `is the apex of dnsZone ${zone}; use a subdomain such as scim.${zone} (a CNAME cannot live at an apex)`);
  }
  const phase = args.customDomainPhase ?? defaultPhase(zone !== undefined);
  if (!CUSTOM_DOMAIN_PHASES.includes(phase)) fail('customDomainPhase', `must be one of ${CUSTOM_DOMAIN_PHASES.join(', ')}, got "${phase}"`);

  if (args.deployerPrincipalType !== undefined && args.deployerPrincipalType !== 'User' && args.deployerPrincipalType !== 'ServicePrincipal') {
    fail('deployerPrincipalType', `must be User or ServicePrincipal, got "${args.deployerPrincipalType}"`);
  }
  checkWebhookSecrets(COMPONENT, base.webhooks, args.webhookSecrets !== undefined);
  if (base.googleWorkspace && args.googleCredentials === undefined)
    fail('googleCredentials', 'is required with googleWorkspace: the service-account key, set as a secret');
  if (!base.googleWorkspace && args.googleCredentials !== undefined)
    fail('googleWorkspace', 'is required with googleCredentials: the admin e-mail and the groups to sync');

  const appName = args.appName ?? 'scim-bridge';
  // Container app and job names: 2–32 lower-case letters, digits and hyphens; the job adds "-bootstrap".
  if (!/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/.test(appName))
    fail('appName', `must be 2 to 22 lower-case letters, digits or hyphens, starting with a letter, got "${appName}"`);

  const whole = (arg: string, value: number, min: number, max: number): number => {
    if (known(value) && (!Number.isInteger(value) || value < min || value > max)) fail(arg, `must be a whole number from ${min} to ${max}, got ${value}`);
    return value;
  };
  return {
    ...base,
    phase,
    recordName,
    db: { sku: { name: sizeName, tier: TIERS[family] }, storageGiB, geoRedundantBackup: args.database?.geoRedundantBackup ?? false, maxConnections },
    poolSize,
    // The one switch: without deletion protection nothing, the lock included, stands in the way of a destroy.
    lock: (args.managementLock ?? false) && base.deletionProtection,
    rolePropagationSeconds: whole('rolePropagationSeconds', args.rolePropagationSeconds ?? 120, 0, 1800),
    logRetentionDays: whole('logRetentionDays', args.logRetentionDays ?? 30, 30, 730),
    appName,
    network: { addressSpace: '10.60.0.0/16', appsSubnet: '10.60.0.0/23', databaseSubnet: '10.60.2.0/27', ...args.network },
  };
}
