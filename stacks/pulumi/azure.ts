/**
 * The Azure stack (`pulumi up -s azure`): the shared args under their shared names, Azure's own keys, and
 * ScimBridgeAzure. Keys are described in docs/azure.md and shown in Pulumi.azure.yaml; a bad value fails with the key.
 */
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { type CustomDomainPhase, ScimBridgeAzure, type ScimBridgeAzureArgs } from '../../constructs/azure';
import { OUTPUT_NAMES } from '../../constructs/common';
import { deploymentOutputs, previousRun } from './previous';
import {
  ConfigError,
  asConfigError,
  booleanKey,
  config,
  givenImage,
  numberKey,
  objectKey,
  optionalString,
  readBaseArgs,
  scimSession,
  googleCredentials,
  webhookSecrets,
} from './config';

export function readAzureConfig(cfg: pulumi.Config = config()): ScimBridgeAzureArgs {
  const base = readBaseArgs(cfg);
  const session = scimSession(cfg);
  if (!session)
    throw new ConfigError(
      'scimSession',
      'is required: npx scim-bridge session create --out scimsession, then pulumi config set --secret scimSession "$(cat scimsession)"',
    );
  const geo = objectKey(cfg, 'database')?.geoRedundantBackup;
  if (geo !== undefined && geo !== true && geo !== false && geo !== 'true' && geo !== 'false')
    throw new ConfigError('database.geoRedundantBackup', `must be true or false (got ${JSON.stringify(geo)})`);
  return {
    ...base,
    database: base.database || geo !== undefined ? { ...base.database, geoRedundantBackup: geo === undefined ? undefined : String(geo) === 'true' } : undefined,
    scimSession: session,
    googleCredentials: googleCredentials(cfg),
    webhookSecrets: webhookSecrets(cfg),
    location: optionalString(cfg, 'location'),
    resourceGroupName: optionalString(cfg, 'resourceGroupName'),
    image: givenImage(cfg),
    // The program runs from the repository root (Pulumi.yaml); resolve from this file to be sure.
    buildContext: path.resolve(__dirname, '../..'),
    appName: optionalString(cfg, 'appName'),
    dnsZone: optionalString(cfg, 'dnsZone'),
    dnsZoneResourceGroup: optionalString(cfg, 'dnsZoneResourceGroup'),
    customDomainPhase: optionalString(cfg, 'customDomainPhase') as CustomDomainPhase | undefined,
    managementLock: booleanKey(cfg, 'managementLock'),
    deployerPrincipalType: optionalString(cfg, 'deployerPrincipalType') as ScimBridgeAzureArgs['deployerPrincipalType'],
    rolePropagationSeconds: numberKey(cfg, 'rolePropagationSeconds'),
    logRetentionDays: numberKey(cfg, 'logRetentionDays'),
  };
}

export async function deploy(): Promise<Record<string, unknown>> {
  let bridge: ScimBridgeAzure;
  try {
    const read = readAzureConfig();
    const previous = await previousRun();
    bridge = new ScimBridgeAzure('scim-bridge', { ...read, previousDeployment: previous.deployment });
  } catch (error) {
    throw asConfigError(error);
  }
  return {
    [OUTPUT_NAMES.scimBaseUrl]: bridge.scimBaseUrl,
    [OUTPUT_NAMES.dnsRecords]: bridge.dnsRecords,
    [OUTPUT_NAMES.nextSteps]: bridge.nextSteps,
    customDomainPhase: bridge.resolved.phase,
    appUrl: pulumi.interpolate`https://${bridge.appFqdn}`,
    resourceGroupName: bridge.resourceGroupName,
    containerAppName: bridge.service.containerApp.name,
    bootstrapJobName: bridge.bootstrap.job.name,
    keyVaultName: bridge.vault.vault.name,
    registryLoginServer: bridge.registry.registry.loginServer,
    imageRef: bridge.registry.imageRef,
    postgresHost: bridge.database.server.fullyQualifiedDomainName,
    ...deploymentOutputs({ databaseVersion: bridge.resolved.database.version, databaseSize: bridge.resolved.db.sku.name }),
  };
}
