/**
 * The DigitalOcean stack (`pulumi up -s digitalocean`): reads the stack configuration, checks it, and deploys
 * ScimBridgeDigitalOcean. Keys are documented in docs/digitalocean.md and shown in Pulumi.digitalocean.yaml.
 */
import * as pulumi from '@pulumi/pulumi';
import { BRIDGE_SIZING, nextSteps } from '../../contract';
import {
  DEFAULT_DATABASE_SIZE,
  DEFAULT_INSTANCE_SIZE,
  DEFAULT_POSTGRES_VERSION,
  MAX_INSTANCES,
  POSTGRES_VERSIONS,
  RegistryTier,
  ScimBridgeDigitalOcean,
  ScimBridgeDigitalOceanArgs,
  appRegionOf,
  databaseSizeProblem,
  emailProblem,
  instanceSizeProblem,
  parseImageReference,
  zoneProblem,
} from '../../constructs/digitalocean';
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
  requireString,
  scimSession,
} from './config';

const REGISTRY_TIERS: readonly RegistryTier[] = ['starter', 'basic', 'professional'];
const APP_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;

/** Reads and checks the stack configuration; every error names its key. */
export function readDigitalOceanConfig(cfg: pulumi.Config = config()): ScimBridgeDigitalOceanArgs {
  const session = scimSession(cfg);
  if (!session) {
    throw new ConfigError(
      'scimSession',
      'is required: npx scim-bridge session create --out scimsession, then pulumi config set --secret scimSession "$(cat scimsession)"',
    );
  }
  const region = requireString(cfg, 'region', 'the datacenter for the database, e.g. fra1, nyc3, ams3, sfo3, sgp1, lon1, tor1, blr1, syd1');
  if (!appRegionOf(region)) {
    throw new ConfigError('region', `must be a datacenter slug where App Platform runs, e.g. fra1, nyc3, ams3, sfo3, sgp1, lon1, tor1, blr1, syd1 (got "${region}")`);
  }
  const domain = hostname(cfg, 'domain', true)!;
  const dnsZone = optionalString(cfg, 'dnsZone')?.toLowerCase().replace(/\.$/, '');
  if (dnsZone) {
    const problem = zoneProblem(domain, dnsZone);
    if (problem) throw new ConfigError('dnsZone', problem);
  }

  const alertEmails = requireString(cfg, 'alertEmail', 'the address (a member of your DigitalOcean team) that receives deployment, domain and CPU alerts')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const mailProblem = emailProblem(alertEmails);
  if (mailProblem) throw new ConfigError('alertEmail', mailProblem);

  const replicas = replicaBounds(cfg, MAX_INSTANCES);
  if (replicas.min < 1) throw new ConfigError('minReplicas', `must be at least 1 on App Platform (got ${replicas.min})`);
  const instanceSize = optionalString(cfg, 'instanceSize') ?? DEFAULT_INSTANCE_SIZE;
  const sizeProblem = instanceSizeProblem(instanceSize, replicas.min, replicas.max);
  if (sizeProblem) throw new ConfigError('instanceSize', sizeProblem);

  const databaseSize = optionalString(cfg, 'databaseSize') ?? DEFAULT_DATABASE_SIZE;
  const dbProblem = databaseSizeProblem(databaseSize, replicas.max, BRIDGE_SIZING.databasePoolSize);
  if (dbProblem) throw new ConfigError('databaseSize', dbProblem);

  const image = givenImage(cfg);
  if (image !== undefined) {
    try {
      parseImageReference(image);
    } catch (err) {
      throw new ConfigError('image', (err as Error).message);
    }
  }
  const imageCredentials = secretString(cfg, 'imageCredentials', 'pulumi config set --secret imageCredentials "user:token"');
  if (imageCredentials && (image === undefined || parseImageReference(image).registryType === 'DOCR')) {
    throw new ConfigError('imageCredentials', 'applies only to a private Docker Hub or GHCR image set in image');
  }
  const registryName = optionalString(cfg, 'registryName');
  if (registryName && image !== undefined) throw new ConfigError('registryName', 'is for building the image; remove it or remove image');

  const appName = optionalString(cfg, 'appName') ?? 'scim-bridge';
  if (!APP_NAME.test(appName)) throw new ConfigError('appName', `must be 2–32 lower-case letters, digits or dashes, starting with a letter (got "${appName}")`);
  const allowedDomains = optionalString(cfg, 'allowedDomains')
    ?.split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);

  return {
    scimSession: session,
    region,
    domain,
    dnsZone,
    alertEmails,
    instanceSize,
    minReplicas: replicas.min,
    maxReplicas: replicas.max,
    targetCpuPercent: integer(cfg, 'targetCpuPercent', BRIDGE_SIZING.targetCpuPercent, 10, 95),
    cpuAlertPercent: integer(cfg, 'cpuAlertPercent', 80, 10, 100),
    image,
    imageCredentials,
    registryName,
    registryTier: oneOf(cfg, 'registryTier', REGISTRY_TIERS, 'starter'),
    databaseSize,
    databaseNodes: integer(cfg, 'databaseNodes', 1, 1, 3),
    postgresVersion: oneOf(cfg, 'postgresVersion', POSTGRES_VERSIONS, DEFAULT_POSTGRES_VERSION),
    allowedDomains,
    appName,
    projectId: optionalString(cfg, 'projectId'),
    applySecretChanges: boolean(cfg, 'applySecretChanges', false),
  };
}

/** An optional secret value: refused when it was set without --secret, so it never lands in plain state. */
function secretString(cfg: pulumi.Config, key: string, how: string): pulumi.Output<string> | undefined {
  const value = optionalString(cfg, key);
  if (value === undefined) return undefined;
  // isConfigSecret is exported at run time but missing from the published type definitions (as in ./config).
  const runtime = pulumi.runtime as unknown as { isConfigSecret(key: string): boolean };
  if (!runtime.isConfigSecret(`${cfg.name}:${key}`)) throw new ConfigError(key, `must be set as a secret: ${how}`);
  return pulumi.secret(value);
}

export function deploy(): Record<string, unknown> {
  const args = readDigitalOceanConfig();
  const stack = pulumi.getStack();
  const bridge = new ScimBridgeDigitalOcean('scim-bridge', args);

  const loadSession =
    `Load a new scimsession into the app's encrypted secret: pulumi config set --secret scimSession "$(cat scimsession)" -s ${stack}, ` +
    `then pulumi config set applySecretChanges true -s ${stack} && pulumi up -s ${stack} && pulumi config rm applySecretChanges -s ${stack}`;
  const dnsStep: pulumi.Output<string> = bridge.dnsRecord
    ? bridge.dnsRecord.apply((r) => `DNS: add this record at your DNS provider, then App Platform issues the certificate: ${r.name}. ${r.type} ${r.value}`)
    : pulumi.output(`DNS: App Platform creates the record for ${args.domain} in the DigitalOcean zone ${args.dnsZone} and issues the certificate.`);
  const steps = dnsStep.apply((dns) =>
    [
      nextSteps(bridge.bridgeUrl, loadSession),
      dns,
      ...(args.applySecretChanges ? [`applySecretChanges is on: remove it (pulumi config rm applySecretChanges -s ${stack}) so previews stop showing the encrypted values.`] : []),
    ].join('\n'),
  );

  return {
    bridgeUrl: bridge.bridgeUrl,
    nextSteps: steps,
    appId: bridge.app.id,
    appUrl: pulumi.interpolate`https://${bridge.defaultHost}`,
    defaultHost: bridge.defaultHost,
    // Without dnsZone: the record to add at your DNS provider. With it, App Platform manages the record.
    dnsRecord: bridge.dnsRecord,
    databaseCluster: bridge.databaseCluster.name,
    ...(bridge.registry ? { registryName: bridge.registry.name } : {}),
    ...(bridge.image ? { imageRef: bridge.image.ref } : {}),
  };
}
