/**
 * The Azure stack (`pulumi up -s azure`): reads the stack configuration, checks it, and deploys ScimBridgeAzure.
 * Keys are documented in docs/azure.md and shown in Pulumi.azure.yaml.
 */
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { BRIDGE_SIZING, nextSteps } from '../../contract';
import {
  CUSTOM_DOMAIN_PHASES,
  CustomDomainPhase,
  ScimBridgeAzure,
  ScimBridgeAzureArgs,
  defaultPhase,
  nextPhaseHint,
  relativeRecordName,
} from '../../constructs/azure';
import {
  ConfigError,
  boolean,
  config,
  givenImage,
  hostname,
  integer,
  oneOf,
  optionalString,
  replicaBounds,
  scimSession,
} from './config';

/** Container Apps' own ceiling for maxReplicas. */
const MAX_REPLICAS_CEILING = 1000;
const POSTGRES_VERSIONS = ['13', '14', '15', '16', '17'] as const;
const POSTGRES_STORAGE_GB = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767];
const POSTGRES_TIERS: Record<string, 'Burstable' | 'GeneralPurpose' | 'MemoryOptimized'> = {
  B: 'Burstable',
  D: 'GeneralPurpose',
  E: 'MemoryOptimized',
};

/** Reads and checks the stack configuration; every error names its key. */
export function readAzureConfig(cfg: pulumi.Config = config()): ScimBridgeAzureArgs {
  const resourceGroupName = optionalString(cfg, 'resourceGroupName');
  const location = optionalString(cfg, 'location');
  if (!location && !resourceGroupName) {
    throw new ConfigError('location', 'is required when resourceGroupName is not set: the Azure region, e.g. westeurope');
  }
  const session = scimSession(cfg);
  if (!session) {
    throw new ConfigError(
      'scimSession',
      'is required: npx scim-bridge session create --out scimsession, then pulumi config set --secret scimSession "$(cat scimsession)"',
    );
  }
  const replicas = replicaBounds(cfg, MAX_REPLICAS_CEILING);

  const postgresSku = optionalString(cfg, 'postgresSku') ?? 'Standard_B1ms';
  const skuFamily = /^Standard_([BDE])\d+[a-z]*s(_v\d+)?$/.exec(postgresSku)?.[1];
  if (!skuFamily) {
    throw new ConfigError('postgresSku', `must be a Flexible Server compute size such as Standard_B1ms or Standard_D2ds_v5 (got "${postgresSku}")`);
  }
  const storage = integer(cfg, 'postgresStorageGb', 32, 32, 32767);
  if (!POSTGRES_STORAGE_GB.includes(storage)) {
    throw new ConfigError('postgresStorageGb', `must be one of ${POSTGRES_STORAGE_GB.join(', ')} (got ${storage})`);
  }

  const domain = hostname(cfg, 'domain', false);
  const zoneName = optionalString(cfg, 'dnsZoneName');
  const zoneGroup = optionalString(cfg, 'dnsZoneResourceGroup');
  if (zoneName && !domain) throw new ConfigError('domain', `is required when dnsZoneName is set (a host inside ${zoneName})`);
  if (zoneName && !zoneGroup) throw new ConfigError('dnsZoneResourceGroup', `is required with dnsZoneName: the resource group of zone ${zoneName}`);
  if (zoneGroup && !zoneName) throw new ConfigError('dnsZoneName', 'is required when dnsZoneResourceGroup is set');
  if (domain && zoneName) {
    try {
      relativeRecordName(domain, zoneName);
    } catch (err) {
      throw new ConfigError('domain', `must be a subdomain inside dnsZoneName: ${(err as Error).message}`);
    }
  }
  const phaseSet = optionalString(cfg, 'customDomainPhase');
  if (phaseSet && !domain) throw new ConfigError('customDomainPhase', 'needs domain to be set');
  const phase: CustomDomainPhase | undefined = domain
    ? oneOf(cfg, 'customDomainPhase', CUSTOM_DOMAIN_PHASES, defaultPhase(zoneName !== undefined))
    : undefined;

  return {
    scimSession: session,
    location,
    resourceGroupName,
    image: givenImage(cfg),
    // The Pulumi program runs from the repository root (Pulumi.yaml); resolve from this file to be sure.
    buildContext: path.resolve(__dirname, '../..'),
    dockerfile: 'bridge/Dockerfile',
    minReplicas: replicas.min,
    maxReplicas: replicas.max,
    concurrentRequests: integer(cfg, 'concurrency', BRIDGE_SIZING.targetConcurrentRequests, 1, 10000),
    postgres: {
      skuName: postgresSku,
      skuTier: POSTGRES_TIERS[skuFamily],
      storageSizeGB: storage,
      version: oneOf(cfg, 'postgresVersion', POSTGRES_VERSIONS, '16'),
      backupRetentionDays: integer(cfg, 'postgresBackupRetentionDays', 7, 7, 35),
      geoRedundantBackup: boolean(cfg, 'postgresGeoRedundantBackup', false),
    },
    customDomain: domain
      ? { hostname: domain, zone: zoneName && zoneGroup ? { name: zoneName, resourceGroupName: zoneGroup } : undefined, phase }
      : undefined,
    logRetentionDays: integer(cfg, 'logRetentionDays', 30, 30, 730),
  };
}

export function deploy(): Record<string, unknown> {
  const args = readAzureConfig();
  const stack = pulumi.getStack();
  const bridge = new ScimBridgeAzure('scim-bridge', args);
  const domain = args.customDomain;

  const loadSession = pulumi.interpolate`Load it into Key Vault ${bridge.vault.name}: pulumi config set --secret scimSession "$(cat scimsession)" -s ${stack} && pulumi up -s ${stack} (replicas pick up a new version within about 30 minutes; az containerapp revision restart makes it immediate)`;
  const hint = domain && bridge.customDomainPhase ? nextPhaseHint(bridge.customDomainPhase, domain.hostname, stack) : undefined;
  const steps = pulumi.all([bridge.bridgeUrl, loadSession]).apply(([url, load]) => [nextSteps(url, load), ...(hint ? [hint] : [])].join('\n'));

  return {
    bridgeUrl: bridge.bridgeUrl,
    nextSteps: steps,
    appUrl: pulumi.interpolate`https://${bridge.appFqdn}`,
    resourceGroupName: bridge.resourceGroupName,
    containerAppName: bridge.containerApp.name,
    keyVaultName: bridge.vault.name,
    registryLoginServer: bridge.registry.loginServer,
    imageRef: bridge.imageRef,
    postgresHost: bridge.postgresServer.fullyQualifiedDomainName,
    identityClientId: bridge.identity.clientId,
    ...(domain
      ? {
          customDomainPhase: bridge.customDomainPhase,
          // Without a zone these are the records to add at your DNS provider; with one they were created in it.
          dnsRecords: bridge.dnsRecords,
        }
      : {}),
  };
}
