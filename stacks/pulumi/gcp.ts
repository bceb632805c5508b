/**
 * The GCP stack (`pulumi up -s gcp`): the shared args (readBaseArgs) plus Google Cloud's own keys, then ScimBridgeGcp.
 * Keys are documented in docs/gcp.md and shown in Pulumi.gcp.yaml; every error names its key.
 */
import * as pulumi from '@pulumi/pulumi';
import { OUTPUT_NAMES } from '../../constructs/common';
import { FRONT_DOORS, SSL_POLICY_PROFILES, ScimBridgeGcp, type ScimBridgeGcpArgs } from '../../constructs/gcp';
import { deploymentOutputs, previousRun } from './previous';
import {
  type ConfigKeyOf,
  ConfigError,
  asConfigError,
  boolean,
  config,
  givenImage,
  googleCredentials,
  oneOf,
  optionalString,
  readBaseArgs,
  scimSession,
  webhookSecrets,
} from './config';

/** The `scim-bridge:` keys only this cloud reads (beside SHARED_CONFIG_KEYS). */
export const CONFIG_KEYS = [
  'frontDoor',
  'dnsZone',
  'dnsZoneProject',
  'scimSessionSecretId',
  'networkCidr',
  'sslPolicyProfile',
  'httpRedirect',
  'enableApis',
] as const;

/** Reads the stack configuration into ScimBridgeGcp's args; every error names its key. */
export function readGcpConfig(cfg: pulumi.Config = config(), provider: pulumi.Config = new pulumi.Config('gcp')): ScimBridgeGcpArgs {
  const project = provider.get('project')?.trim();
  if (!project) throw new ConfigError('project', 'is required: the Google Cloud project id (pulumi config set gcp:project my-project)', 'gcp');
  const region = provider.get('region')?.trim();
  if (!region) throw new ConfigError('region', 'is required: the region of the service and database (pulumi config set gcp:region europe-west1)', 'gcp');

  const session = scimSession(cfg);
  const sessionSecretId = optionalString(cfg, 'scimSessionSecretId');
  if (session && sessionSecretId)
    throw new ConfigError('scimSessionSecretId', 'cannot be set together with scimSession: pick the Pulumi secret or the existing Secret Manager secret');
  if (!session && !sessionSecretId) {
    throw new ConfigError(
      'scimSession',
      'is required: npx scim-bridge session create --out scimsession, then pulumi config set --secret scimSession "$(cat scimsession)" (or set scimSessionSecretId to an existing Secret Manager secret)',
    );
  }
  const dnsZone = optionalString(cfg, 'dnsZone');
  const dnsZoneProject = optionalString(cfg, 'dnsZoneProject');
  if (dnsZoneProject && !dnsZone) throw new ConfigError('dnsZoneProject', 'needs dnsZone (the managed zone in that project)');
  const networkCidr = optionalString(cfg, 'networkCidr');

  return {
    ...readBaseArgs(cfg),
    project,
    region,
    frontDoor: oneOf(cfg, 'frontDoor', FRONT_DOORS, 'loadBalancer'),
    dnsZone: dnsZone ? { name: dnsZone, project: dnsZoneProject } : undefined,
    scimSession: session,
    scimSessionSecretId: sessionSecretId,
    googleCredentials: googleCredentials(cfg),
    webhookSecrets: webhookSecrets(cfg),
    image: givenImage(cfg),
    network: networkCidr ? { ipCidrRange: networkCidr } : undefined,
    sslPolicyProfile: oneOf(cfg, 'sslPolicyProfile', SSL_POLICY_PROFILES, 'MODERN'),
    httpRedirect: boolean(cfg, 'httpRedirect', true),
    enableApis: boolean(cfg, 'enableApis', true),
  };
}

/** Args set under another key here: flat stack keys, and the provider's own settings. */
const KEY_FOR_ARG: ConfigKeyOf = {
  'network.ipCidrRange': { key: 'networkCidr' },
  'dnsZone.name': { key: 'dnsZone' },
  project: { key: 'project', namespace: 'gcp' },
  region: { key: 'region', namespace: 'gcp' },
};

export async function deploy(): Promise<Record<string, unknown>> {
  const read = readGcpConfig();
  let bridge: ScimBridgeGcp;
  try {
    const previous = await previousRun();
    bridge = new ScimBridgeGcp('scim-bridge', { ...read, previousDeployment: previous.deployment });
  } catch (error) {
    throw asConfigError(error, KEY_FOR_ARG);
  }
  return {
    [OUTPUT_NAMES.scimBaseUrl]: bridge.scimBaseUrl,
    [OUTPUT_NAMES.dnsRecords]: bridge.dnsRecords,
    [OUTPUT_NAMES.nextSteps]: bridge.nextSteps,
    frontDoor: bridge.frontDoorKind,
    serviceUrl: bridge.service.service.uri,
    ...(bridge.frontDoor.address ? { ipAddress: bridge.frontDoor.address.address } : {}),
    sessionSecretId: bridge.service.sessionSecretId,
    databaseHost: bridge.database.host,
    sqlConnectionName: bridge.database.instance.connectionName,
    bootstrapJob: bridge.bootstrap.job.name,
    // Left by a destroy (Direct VPC egress holds its addresses for a while): delete it afterwards (docs/gcp.md).
    networkName: bridge.network.network.name,
    serviceAccountEmail: bridge.service.serviceAccount.email,
    artifactRegistry: bridge.repository.registryUri,
    imageRef: bridge.imageRef,
    ...deploymentOutputs({ databaseVersion: bridge.resolved.database.version, databaseSize: bridge.resolved.databaseTier }),
  };
}
