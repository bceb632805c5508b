/**
 * The GCP stack (`pulumi up -s gcp`): reads the stack configuration, checks it, and deploys ScimBridgeGcp.
 * Keys are documented in docs/gcp.md and shown in Pulumi.gcp.yaml.
 */
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { BRIDGE_SIZING, nextSteps } from '../../contract';
import { FRONT_DOORS, MAX_CONCURRENCY, POSTGRES_VERSIONS, SSL_POLICY_PROFILES, ScimBridgeGcp, ScimBridgeGcpArgs } from '../../constructs/gcp';
import { ConfigError, boolean, config, givenImage, hostname, integer, oneOf, optionalString, replicaBounds, scimSession } from './config';

/** Cloud Run's ceiling for max instances per service (the project quota may be lower). */
const MAX_INSTANCES_CEILING = 1000;
const SECRET_ID = /^(projects\/[a-z0-9-]+\/secrets\/)?[A-Za-z0-9_-]{1,255}$/;
const REGION = /^[a-z]+-[a-z]+\d+$/;

/** A missing or bad provider setting (gcp:project, gcp:region): same shape as ConfigError, other namespace. */
export class GcpProviderConfigError extends Error {
  constructor(key: string, problem: string) {
    super(`gcp:${key} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Reads and checks the stack configuration; every error names its key. */
export function readGcpConfig(cfg: pulumi.Config = config(), provider: pulumi.Config = new pulumi.Config('gcp')): ScimBridgeGcpArgs {
  const project = provider.get('project')?.trim();
  if (!project) throw new GcpProviderConfigError('project', 'is required: the Google Cloud project id (pulumi config set gcp:project my-project)');
  const region = provider.get('region')?.trim();
  if (!region) throw new GcpProviderConfigError('region', 'is required: the Cloud Run region (pulumi config set gcp:region europe-west1)');
  if (!REGION.test(region)) throw new GcpProviderConfigError('region', `must be a region such as europe-west1 (got "${region}")`);

  const domain = hostname(cfg, 'domain', true)!;
  const frontDoor = oneOf(cfg, 'frontDoor', FRONT_DOORS, 'loadBalancer');

  const session = scimSession(cfg);
  const sessionSecretId = optionalString(cfg, 'scimSessionSecretId');
  if (session && sessionSecretId) {
    throw new ConfigError('scimSessionSecretId', 'cannot be set together with scimSession: pick the Pulumi secret or the existing Secret Manager secret');
  }
  if (!session && !sessionSecretId) {
    throw new ConfigError(
      'scimSession',
      'is required: npx scim-bridge session create --out scimsession, then pulumi config set --secret scimSession "$(cat scimsession)" (or set scimSessionSecretId to an existing Secret Manager secret)',
    );
  }
  if (sessionSecretId && !SECRET_ID.test(sessionSecretId)) {
    throw new ConfigError('scimSessionSecretId', `must be a secret name or projects/PROJECT/secrets/NAME (got "${sessionSecretId}")`);
  }

  const dnsZone = optionalString(cfg, 'dnsZone');
  const dnsZoneProject = optionalString(cfg, 'dnsZoneProject');
  if (dnsZoneProject && !dnsZone) throw new ConfigError('dnsZoneProject', 'needs dnsZone (the managed zone in that project)');

  const replicas = replicaBounds(cfg, MAX_INSTANCES_CEILING);
  const tier = optionalString(cfg, 'databaseTier') ?? 'db-custom-1-3840';
  if (!/^db-[a-z0-9-]+$/.test(tier)) throw new ConfigError('databaseTier', `must be a Cloud SQL tier such as db-custom-1-3840 or db-g1-small (got "${tier}")`);
  const allowedDomains = optionalString(cfg, 'allowedDomains')
    ?.split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);

  return {
    project,
    region,
    domain,
    frontDoor,
    dnsZone: dnsZone ? { name: dnsZone, project: dnsZoneProject } : undefined,
    scimSession: session,
    scimSessionSecretId: sessionSecretId,
    image: givenImage(cfg),
    // The Pulumi program runs from the repository root (Pulumi.yaml); resolve from this file to be sure.
    buildContext: path.resolve(__dirname, '../..'),
    dockerfile: 'bridge/Dockerfile',
    minReplicas: replicas.min,
    maxReplicas: replicas.max,
    concurrency: integer(cfg, 'concurrency', BRIDGE_SIZING.targetConcurrentRequests, 1, MAX_CONCURRENCY),
    allowedDomains,
    database: {
      tier,
      version: oneOf(cfg, 'databaseVersion', POSTGRES_VERSIONS, '16'),
      highAvailability: boolean(cfg, 'databaseHighAvailability', false),
      retainedBackups: integer(cfg, 'databaseRetainedBackups', 7, 1, 365),
      deletionProtection: boolean(cfg, 'databaseDeletionProtection', true),
    },
    serviceDeletionProtection: boolean(cfg, 'serviceDeletionProtection', false),
    sslPolicyProfile: oneOf(cfg, 'sslPolicyProfile', SSL_POLICY_PROFILES, 'MODERN'),
    httpRedirect: boolean(cfg, 'httpRedirect', true),
    enableApis: boolean(cfg, 'enableApis', true),
  };
}

export function deploy(): Record<string, unknown> {
  const args = readGcpConfig();
  const stack = pulumi.getStack();
  const bridge = new ScimBridgeGcp('scim-bridge', args);

  const loadSession = args.scimSessionSecretId
    ? pulumi.output(
        `Load it into Secret Manager: gcloud secrets versions add ${args.scimSessionSecretId} --project ${args.project} --data-file=scimsession (the bridge reads the latest version within seconds; no restart)`,
      )
    : pulumi.output(
        `Load it: pulumi config set --secret scimSession "$(cat scimsession)" -s ${stack} && pulumi up -s ${stack} (a new Secret Manager version; the bridge reads it within seconds, no restart)`,
      );
  const dnsHint = bridge.dnsRecords.apply((records) => {
    const list = records.map((r) => `${r.name} ${r.type} ${r.value}`).join('; ');
    const where = args.dnsZone ? `Created in Cloud DNS zone ${args.dnsZone.name}: ${list}` : `Add at your DNS provider: ${list}`;
    const tls =
      bridge.frontDoor === 'loadBalancer'
        ? 'The Google-managed certificate becomes ACTIVE once that record resolves to the load balancer (often 15 to 60 minutes); HTTPS fails until then.'
        : 'The domain mapping needs the domain verified for the deploying account (gcloud domains verify); its certificate follows once the record resolves.';
    return `DNS: ${where}. ${tls}`;
  });
  const steps = pulumi.all([bridge.bridgeUrl, loadSession, dnsHint]).apply(([url, load, hint]) => `${nextSteps(url, load)}\n${hint}`);

  return {
    bridgeUrl: bridge.bridgeUrl,
    nextSteps: steps,
    frontDoor: bridge.frontDoor,
    serviceUrl: bridge.service.uri,
    ...(bridge.ipAddress ? { ipAddress: bridge.ipAddress.address } : {}),
    // Without a zone these are the records to add wherever the domain's zone lives.
    ...(args.dnsZone ? { dnsRecordsCreated: bridge.dnsRecords } : { dnsRecordsToAdd: bridge.dnsRecords }),
    sessionSecretId: bridge.sessionSecretId,
    databasePasswordSecretId: bridge.databasePasswordSecret.secretId,
    sqlConnectionName: bridge.sqlInstance.connectionName,
    serviceAccountEmail: bridge.serviceAccount.email,
    artifactRegistry: bridge.repository.registryUri,
    imageRef: bridge.imageRef,
  };
}
