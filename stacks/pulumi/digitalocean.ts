/**
 * The DigitalOcean stack (`pulumi up -s digitalocean`): the shared args under their shared names, DigitalOcean's own
 * keys, and ScimBridgeDigitalOcean. Keys are documented in docs/digitalocean.md and shown in Pulumi.digitalocean.yaml.
 */
import * as pulumi from '@pulumi/pulumi';
import { OUTPUT_NAMES, type TrustProxy } from '../../constructs/common';
import {
  type RegistryTier,
  REGISTRY_TIERS,
  ScimBridgeDigitalOcean,
  type ScimBridgeDigitalOceanArgs,
  resolveDigitalOceanArgs,
} from '../../constructs/digitalocean';
import { deploymentOutputs, previousRun } from './previous';
import {
  ConfigError,
  asConfigError,
  config,
  integer,
  list,
  oneOf,
  googleCredentials,
  optionalString,
  readBaseArgs,
  requireString,
  scimSession,
  secretValue,
  webhookSecrets,
} from './config';

/** The stack output that carries App Platform's encrypted secrets from one run to the next. */
export const SEALED_SECRETS_OUTPUT = 'sealedSecrets';

function trustProxy(cfg: pulumi.Config): TrustProxy | undefined {
  const raw = optionalString(cfg, 'trustProxy');
  if (raw === undefined) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const cidrs = list(cfg, 'trustProxy')!;
  if (!cidrs.every((c) => /^[0-9a-f:.]+\/\d{1,3}$/i.test(c)))
    throw new ConfigError('trustProxy', `must be a number of proxy hops or CIDRs such as 10.0.0.0/8 (got "${raw}")`);
  return cidrs;
}

/** Keys this stack read before it was built on the shared layer, and what replaced them. */
export const RETIRED_KEYS: Readonly<Record<string, string>> = {
  applySecretChanges: 'nothing: a changed scimSession or imageCredentials is always sent',
  alertEmail: 'alertEmails',
  databaseSize: 'database.size (pulumi config set --path database.size db-s-1vcpu-2gb)',
  databaseNodes: 'database.highAvailability (true adds a standby node)',
  postgresVersion: 'database.version (pulumi config set --path database.version 17)',
};

/** Reads the stack configuration (shared keys and DigitalOcean's); every mistake names its key. */
export function readDigitalOceanConfig(cfg: pulumi.Config = config()): Omit<ScimBridgeDigitalOceanArgs, 'previousSecrets'> {
  for (const [key, now] of Object.entries(RETIRED_KEYS)) {
    if (cfg.get(key) !== undefined) throw new ConfigError(key, `is no longer read; use ${now}, then pulumi config rm ${key}`);
  }
  const session = scimSession(cfg);
  if (!session) {
    throw new ConfigError(
      'scimSession',
      'is required: npx scim-bridge session create --out scimsession, then pulumi config set --secret scimSession "$(cat scimsession)"',
    );
  }
  return {
    ...readBaseArgs(cfg),
    scimSession: session,
    region: requireString(cfg, 'region', 'the datacenter for the database, e.g. fra1, nyc3, ams3, sfo3, sgp1, lon1, tor1, blr1, syd1'),
    dnsZone: optionalString(cfg, 'dnsZone'),
    alertEmails: list(cfg, 'alertEmails'),
    cpuAlertPercent: optionalString(cfg, 'cpuAlertPercent') === undefined ? undefined : integer(cfg, 'cpuAlertPercent', 80, 10, 100),
    instanceSize: optionalString(cfg, 'instanceSize'),
    image: optionalString(cfg, 'image'),
    imageCredentials: secretValue(cfg, 'imageCredentials', 'pulumi config set --secret imageCredentials "user:token"'),
    registryName: optionalString(cfg, 'registryName'),
    registryTier: optionalString(cfg, 'registryTier') === undefined ? undefined : oneOf<RegistryTier>(cfg, 'registryTier', REGISTRY_TIERS),
    googleCredentials: googleCredentials(cfg),
    webhookSecrets: webhookSecrets(cfg),
    appName: optionalString(cfg, 'appName'),
    projectId: optionalString(cfg, 'projectId'),
    vpcId: optionalString(cfg, 'vpcId'),
    trustProxy: trustProxy(cfg),
  };
}

export async function deploy(): Promise<Record<string, unknown>> {
  let bridge: ScimBridgeDigitalOcean;
  try {
    const read = readDigitalOceanConfig();
    resolveDigitalOceanArgs(read); // every mistake fails here, before anything is registered
    // This stack's own outputs from its last update: the database size and version it chose, and App Platform's
    // encrypted form of each secret it was sent.
    const previous = await previousRun();
    const args = { ...read, previousDeployment: previous.deployment };
    resolveDigitalOceanArgs(args);
    bridge = new ScimBridgeDigitalOcean('scim-bridge', { ...args, previousSecrets: previous.reference.getOutput(SEALED_SECRETS_OUTPUT) });
  } catch (err) {
    throw asConfigError(err);
  }
  return {
    [OUTPUT_NAMES.scimBaseUrl]: bridge.scimBaseUrl,
    [OUTPUT_NAMES.dnsRecords]: bridge.dnsRecords,
    [OUTPUT_NAMES.nextSteps]: bridge.nextSteps,
    appId: bridge.app.id,
    appUrl: pulumi.interpolate`https://${bridge.defaultHost}`,
    defaultHost: bridge.defaultHost,
    databaseCluster: bridge.database.cluster.name,
    instanceSize: bridge.settings.instanceSize,
    ...deploymentOutputs({ databaseVersion: bridge.settings.database.version, databaseSize: bridge.settings.databaseSize }),
    ...(bridge.image.registry ? { registryName: bridge.image.registry.name } : {}),
    ...(bridge.image.image ? { imageRef: bridge.image.image.ref } : {}),
    [SEALED_SECRETS_OUTPUT]: bridge.sealedSecrets,
  };
}
