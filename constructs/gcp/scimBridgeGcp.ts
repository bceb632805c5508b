/**
 * ScimBridgeGcp: the SCIM bridge on Google Cloud Run (v2).
 *
 * Cloud Run service with its own service account, probes from the contract and min/max instances; the scimsession in
 * Secret Manager mounted as a file that follows the latest version; Cloud SQL for PostgreSQL reached through Cloud
 * Run's Cloud SQL connection (Unix socket, IAM-authorised, no authorised networks), its password generated and kept
 * in Secret Manager; the custom domain served by a global external Application Load Balancer with a Google-managed
 * certificate (or a Cloud Run domain mapping), its record in Cloud DNS; the image in Artifact Registry.
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import * as dockerBuild from '@pulumi/docker-build';
import * as artifactregistry from '@pulumi/gcp/artifactregistry';
import * as cloudrun from '@pulumi/gcp/cloudrun';
import * as cloudrunv2 from '@pulumi/gcp/cloudrunv2';
import * as compute from '@pulumi/gcp/compute';
import * as dns from '@pulumi/gcp/dns';
import * as organizations from '@pulumi/gcp/organizations';
import * as projects from '@pulumi/gcp/projects';
import * as secretmanager from '@pulumi/gcp/secretmanager';
import * as serviceaccount from '@pulumi/gcp/serviceaccount';
import * as sql from '@pulumi/gcp/sql';
import type * as gcpInputs from '@pulumi/gcp/types/input';
import {
  BRIDGE_DEFAULTS,
  BRIDGE_ENV,
  BRIDGE_IMAGE,
  BRIDGE_PATHS,
  BRIDGE_PORT,
  BRIDGE_PROBES,
  BRIDGE_SIZING,
  scimBaseUrl,
} from '../../contract';
import { buildBridgeImage } from '../bridge-image';
import { DOMAIN_MAPPING_CNAME_TARGET, DnsRecord, FRONT_DOORS, FrontDoor, absoluteName, checkDomainInZone, ingressFor } from './frontDoor';

/** IAM roles the bridge's service account is given, and where. */
export const GCP_ROLES = {
  /** Read one secret's versions; granted on each secret, never on the project. */
  secretAccessor: 'roles/secretmanager.secretAccessor',
  /** Connect through the Cloud SQL connection. Cloud SQL grants this role at project level only (no instance-level IAM). */
  sqlClient: 'roles/cloudsql.client',
  /** Call the service; given to allUsers because the bridge checks its own bearer tokens. */
  runInvoker: 'roles/run.invoker',
} as const;

/** Where Cloud Run mounts the Cloud SQL connection's Unix sockets. */
export const CLOUD_SQL_SOCKET_DIR = '/cloudsql';
/** Cloud Run allows request concurrency above 1 only with at least one vCPU. */
const MIN_CPU_FOR_CONCURRENCY = 1;
/** Cloud Run's ceiling for request concurrency per instance. */
export const MAX_CONCURRENCY = 1000;
/** Startup probe period: short, so an instance takes traffic as soon as /health answers. */
const STARTUP_PERIOD_SECONDS = 5;
/** PostgreSQL versions Cloud SQL offers that the bridge is tested against. */
export const POSTGRES_VERSIONS = ['14', '15', '16', '17'] as const;
export const SSL_POLICY_PROFILES = ['MODERN', 'RESTRICTED'] as const;

/** APIs a fresh project needs for this component. */
const BASE_APIS = ['run', 'sqladmin', 'secretmanager', 'artifactregistry', 'iam'] as const;

export interface ScimBridgeGcpDatabaseArgs {
  /** Cloud SQL machine tier (Enterprise edition). A shared-core tier (db-g1-small) is cheaper but has no SLA. @default 'db-custom-1-3840' */
  tier?: string;
  /** PostgreSQL major version. @default '16' */
  version?: (typeof POSTGRES_VERSIONS)[number];
  /** A standby in a second zone (REGIONAL availability); doubles the instance cost. @default false */
  highAvailability?: boolean;
  /** Daily backups kept (point-in-time recovery covers the last 7 days). @default 7 */
  retainedBackups?: number;
  /** Initial SSD size in GB; grows automatically. @default 10 */
  diskSizeGb?: number;
  /** Refuse to delete the instance (both Pulumi's guard and the Cloud SQL API's). @default true */
  deletionProtection?: boolean;
}

export interface ScimBridgeGcpArgs {
  /** Google Cloud project id. */
  project: string;
  /** Region of the service, database and registry, e.g. europe-west1. */
  region: string;
  /** Host name identity providers call, e.g. scim.example.com. */
  domain: string;
  /** How the domain reaches the service; see FRONT_DOORS. @default 'loadBalancer' */
  frontDoor?: FrontDoor;
  /**
   * The Cloud DNS managed zone (its resource name, not its DNS name) that holds `domain`; the record is created there.
   * @default none: the records to add elsewhere are in `dnsRecords`
   */
  dnsZone?: { name: string; /** @default project */ project?: string };
  /** The scimsession document as a Pulumi secret. Give this or `scimSessionSecretId`, not both. */
  scimSession?: pulumi.Input<string>;
  /**
   * An existing Secret Manager secret holding the scimsession (`name` or `projects/P/secrets/NAME`); the bridge reads
   * its latest version. @default none: a secret is created from `scimSession`
   */
  scimSessionSecretId?: string;
  /** Image to run (pipelines that build separately). @default bridge/Dockerfile built at `pulumi up`, pushed to the repository created here */
  image?: pulumi.Input<string>;
  /** Docker build context; used when `image` is not given. @default the repository root */
  buildContext?: string;
  /** Dockerfile, relative to `buildContext`. @default BRIDGE_IMAGE.dockerfile (bridge/Dockerfile) */
  dockerfile?: string;
  /** Instances kept warm. @default BRIDGE_SIZING.minReplicas */
  minReplicas?: number;
  /** Upper bound for autoscaling. @default BRIDGE_SIZING.maxReplicas */
  maxReplicas?: number;
  /** Requests one instance serves at once before Cloud Run adds another (1 to 1000). @default BRIDGE_SIZING.targetConcurrentRequests */
  concurrency?: number;
  /** vCPU per instance; at least 1 because concurrency above 1 requires it. @default 1 */
  cpu?: number;
  /** Memory per instance in MiB. @default BRIDGE_SIZING.memoryMiB */
  memoryMiB?: number;
  /** Email domains that may be provisioned (SCIM_ALLOWED_DOMAINS). @default [] (any) */
  allowedDomains?: string[];
  /** Cloud SQL sizing, backups and protection. */
  database?: ScimBridgeGcpDatabaseArgs;
  /** Refuse to delete the Cloud Run service. It holds no state, so a destroy may remove it. @default false */
  serviceDeletionProtection?: boolean;
  /** TLS profile of the load balancer (TLS 1.2 minimum either way). @default 'MODERN' */
  sslPolicyProfile?: (typeof SSL_POLICY_PROFILES)[number];
  /** Answer plain HTTP on port 80 with a redirect to HTTPS (load balancer front door). @default true */
  httpRedirect?: boolean;
  /** Enable the project's APIs this component uses (never disabled on destroy). @default true */
  enableApis?: boolean;
  /** Labels added to every resource that takes them. @default {} */
  labels?: Record<string, string>;
}

export class ScimBridgeGcp extends pulumi.ComponentResource {
  /** SCIM base URL for the identity provider, without a trailing slash. */
  public readonly bridgeUrl: pulumi.Output<string>;
  public readonly frontDoor: FrontDoor;
  public readonly service: cloudrunv2.Service;
  public readonly serviceAccount: serviceaccount.Account;
  /** The secret the bridge reads the scimsession from (created here, or the given one). */
  public readonly sessionSecretId: pulumi.Output<string>;
  /** The secret created from `scimSession` (absent when an existing secret was given). */
  public readonly sessionSecret?: secretmanager.Secret;
  public readonly sessionSecretVersion?: secretmanager.SecretVersion;
  public readonly databasePasswordSecret: secretmanager.Secret;
  public readonly sqlInstance: sql.DatabaseInstance;
  public readonly database: sql.Database;
  public readonly databaseUser: sql.User;
  public readonly repository: artifactregistry.Repository;
  /** The image build, when no image was given. */
  public readonly image?: dockerBuild.Image;
  /** The image reference the service runs. */
  public readonly imageRef: pulumi.Output<string>;
  /** Load balancer front door: its static address and managed certificate. */
  public readonly ipAddress?: compute.GlobalAddress;
  public readonly certificate?: compute.ManagedSslCertificate;
  public readonly sslPolicy?: compute.SSLPolicy;
  /** Domain mapping front door. */
  public readonly domainMapping?: cloudrun.DomainMapping;
  /** The records that point the domain at the front door (created in `dnsZone` when given). */
  public readonly dnsRecords: pulumi.Output<DnsRecord[]>;
  public readonly dnsRecordSet?: dns.RecordSet;

  constructor(name: string, args: ScimBridgeGcpArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:gcp:ScimBridgeGcp', name, {}, opts);

    const { project, region, domain } = args;
    const frontDoor = args.frontDoor ?? 'loadBalancer';
    const minReplicas = args.minReplicas ?? BRIDGE_SIZING.minReplicas;
    const maxReplicas = args.maxReplicas ?? Math.max(BRIDGE_SIZING.maxReplicas, minReplicas);
    const concurrency = args.concurrency ?? BRIDGE_SIZING.targetConcurrentRequests;
    const cpu = args.cpu ?? Math.max(MIN_CPU_FOR_CONCURRENCY, BRIDGE_SIZING.cpu);
    const memoryMiB = args.memoryMiB ?? BRIDGE_SIZING.memoryMiB;
    const db = args.database ?? {};
    const databaseProtected = db.deletionProtection ?? true;
    const keepData = databaseProtected ? 'PREVENT' : 'DELETE';
    const labels = { app: 'scim-bridge', ...args.labels };
    validate(args, { frontDoor, minReplicas, maxReplicas, concurrency, cpu });
    this.frontDoor = frontDoor;

    // Project APIs first: every resource below calls one of them.
    const apiNames = [...BASE_APIS, ...(frontDoor === 'loadBalancer' ? ['compute'] : []), ...(args.dnsZone ? ['dns'] : [])];
    const apis =
      args.enableApis ?? true
        ? apiNames.map(
            (api) =>
              new projects.Service(`${name}-api-${api}`, { project, service: `${api}.googleapis.com`, disableOnDestroy: false }, { parent: this }),
          )
        : [];
    const child: pulumi.CustomResourceOptions = { parent: this, dependsOn: apis };

    // Names that must be unique in the project and cannot be reused soon after deletion (Cloud SQL: about a week).
    const suffix = new random.RandomString(`${name}-suffix`, { length: 6, special: false, upper: false }, { parent: this }).result;

    this.serviceAccount = new serviceaccount.Account(
      `${name}-sa`,
      {
        project,
        accountId: pulumi.interpolate`scim-bridge-${suffix}`,
        displayName: 'SCIM bridge (Cloud Run)',
        description: 'Runs the SCIM bridge: reads its two secrets and connects to its Cloud SQL instance, nothing else.',
      },
      child,
    );
    const member = pulumi.interpolate`serviceAccount:${this.serviceAccount.email}`;

    // The scimsession: a secret created from the Pulumi secret, or an existing one. Readable by the service account only.
    if (args.scimSession !== undefined) {
      this.sessionSecret = new secretmanager.Secret(
        `${name}-scimsession`,
        { project, secretId: pulumi.interpolate`scim-bridge-${suffix}-scimsession`, replication: { auto: {} }, labels },
        child,
      );
      this.sessionSecretVersion = new secretmanager.SecretVersion(
        `${name}-scimsession`,
        // Kept a secret in state; Secret Manager encrypts it at rest.
        { secret: this.sessionSecret.id, secretData: pulumi.secret(args.scimSession) },
        { parent: this },
      );
      this.sessionSecretId = this.sessionSecret.secretId;
    } else {
      this.sessionSecretId = pulumi.output(args.scimSessionSecretId!);
    }
    const sessionAccess = new secretmanager.SecretIamMember(
      `${name}-scimsession-access`,
      { project, secretId: this.sessionSecretId, role: GCP_ROLES.secretAccessor, member },
      child,
    );

    // Artifact Registry: where the built image goes (and where a pipeline may push its own).
    this.repository = new artifactregistry.Repository(
      `${name}-images`,
      {
        project,
        location: region,
        repositoryId: pulumi.interpolate`scim-bridge-${suffix}`,
        format: 'DOCKER',
        description: 'SCIM bridge images',
        // Every build pushes :latest; keep the ten newest versions so a rollback has something to roll back to.
        cleanupPolicies: [{ id: 'keep-recent', action: 'KEEP', mostRecentVersions: { keepCount: 10 } }],
        labels,
      },
      child,
    );
    if (args.image !== undefined) {
      this.imageRef = pulumi.output(args.image);
    } else {
      const registryHost = `${region}-docker.pkg.dev`;
      // The deployer's own OAuth token (gcloud/ADC credentials Pulumi already uses); no key file, nothing stored.
      const token = organizations.getClientConfigOutput({ parent: this }).accessToken;
      this.image = buildBridgeImage(
        `${name}-image`,
        {
          buildContext: args.buildContext,
          dockerfile: args.dockerfile,
          tag: pulumi.interpolate`${this.repository.registryUri}/scim-bridge:latest`,
          registry: { address: registryHost, username: 'oauth2accesstoken', password: pulumi.secret(token) },
        },
        { parent: this },
      );
      // tag@digest, so a new build rolls out a new revision.
      this.imageRef = this.image.ref;
    }

    // Cloud SQL for PostgreSQL. Cloud Run's Cloud SQL connection needs the instance's public IP, but with no authorised
    // networks and connectors required, only IAM-authorised connectors (the Auth Proxy behind /cloudsql) reach it.
    this.sqlInstance = new sql.DatabaseInstance(
      `${name}-pg`,
      {
        project,
        region,
        name: pulumi.interpolate`scim-bridge-${suffix}`,
        databaseVersion: `POSTGRES_${db.version ?? '16'}`,
        deletionProtection: databaseProtected,
        settings: {
          // Enterprise Plus (which new PostgreSQL 16+ instances may default to) has no small tiers.
          edition: 'ENTERPRISE',
          tier: db.tier ?? 'db-custom-1-3840',
          availabilityType: db.highAvailability ? 'REGIONAL' : 'ZONAL',
          diskType: 'PD_SSD',
          diskSize: db.diskSizeGb ?? 10,
          diskAutoresize: true,
          deletionProtectionEnabled: databaseProtected,
          retainBackupsOnDelete: true,
          backupConfiguration: {
            enabled: true,
            pointInTimeRecoveryEnabled: true,
            transactionLogRetentionDays: 7,
            startTime: '03:00',
            backupRetentionSettings: { retainedBackups: db.retainedBackups ?? 7, retentionUnit: 'COUNT' },
          },
          ipConfiguration: {
            ipv4Enabled: true,
            authorizedNetworks: [],
            sslMode: 'ENCRYPTED_ONLY',
            // Per-instance CA: what Cloud Run's built-in connection expects.
            serverCaMode: 'GOOGLE_MANAGED_INTERNAL_CA',
          },
          connectorEnforcement: 'REQUIRED',
          maintenanceWindow: { day: 7, hour: 3, updateTrack: 'stable' },
          insightsConfig: { queryInsightsEnabled: true },
          userLabels: labels,
        },
      },
      child,
    );
    this.database = new sql.Database(
      `${name}-db`,
      // Destroying the instance is refused, but a database is dropped before its instance: guard it too.
      { project, instance: this.sqlInstance.name, name: BRIDGE_DEFAULTS.databaseName, deletionPolicy: keepData },
      { parent: this },
    );
    const password = new random.RandomPassword(`${name}-db-password`, { length: 40, special: false }, { parent: this });
    this.databaseUser = new sql.User(
      `${name}-db-user`,
      { project, instance: this.sqlInstance.name, name: BRIDGE_DEFAULTS.databaseUser, password: password.result, deletionPolicy: keepData },
      { parent: this },
    );
    this.databasePasswordSecret = new secretmanager.Secret(
      `${name}-db-password`,
      { project, secretId: pulumi.interpolate`scim-bridge-${suffix}-db-password`, replication: { auto: {} }, labels },
      child,
    );
    const passwordVersion = new secretmanager.SecretVersion(
      `${name}-db-password`,
      { secret: this.databasePasswordSecret.id, secretData: password.result },
      { parent: this },
    );
    const passwordAccess = new secretmanager.SecretIamMember(
      `${name}-db-password-access`,
      { project, secretId: this.databasePasswordSecret.secretId, role: GCP_ROLES.secretAccessor, member },
      child,
    );
    const sqlClient = new projects.IAMMember(`${name}-sql-client`, { project, role: GCP_ROLES.sqlClient, member }, child);

    // node-postgres treats a host starting with '/' as a Unix socket directory; over the socket no TLS is needed
    // (the connection's proxy carries it over TLS to the instance).
    const socketDir = pulumi.interpolate`${CLOUD_SQL_SOCKET_DIR}/${this.sqlInstance.connectionName}`;
    const databaseUrl = pulumi.interpolate`postgres://${BRIDGE_DEFAULTS.databaseUser}@/${BRIDGE_DEFAULTS.databaseName}?host=${socketDir}`;

    const sessionVolume = 'scimsession';
    const sqlVolume = 'cloudsql';
    const probeGet = (probePath: string) => ({ path: probePath, port: BRIDGE_PORT });
    const envs: gcpInputs.cloudrunv2.ServiceTemplateContainerEnv[] = [
      // PORT is set by Cloud Run from the container port (a reserved name).
      { name: BRIDGE_ENV.sessionFile, value: `${BRIDGE_IMAGE.sessionMountDir}/${BRIDGE_IMAGE.sessionFileName}` },
      { name: BRIDGE_ENV.databaseUrl, value: databaseUrl },
      // Pinned to the version Pulumi wrote, so a new password rolls out a new revision.
      { name: BRIDGE_ENV.pgPassword, valueSource: { secretKeyRef: { secret: this.databasePasswordSecret.secretId, version: passwordVersion.version } } },
      ...(args.allowedDomains?.length ? [{ name: BRIDGE_ENV.allowedDomains, value: args.allowedDomains.join(',') }] : []),
    ];

    this.service = new cloudrunv2.Service(
      `${name}-run`,
      {
        project,
        location: region,
        name: pulumi.interpolate`scim-bridge-${suffix}`,
        description: 'SCIM 2.0 bridge',
        ingress: ingressFor(frontDoor),
        deletionProtection: args.serviceDeletionProtection ?? false,
        labels,
        template: {
          serviceAccount: this.serviceAccount.email,
          maxInstanceRequestConcurrency: concurrency,
          scaling: { minInstanceCount: minReplicas, maxInstanceCount: maxReplicas },
          executionEnvironment: 'EXECUTION_ENVIRONMENT_GEN2',
          labels,
          containers: [
            {
              name: 'bridge',
              image: this.imageRef,
              ports: { containerPort: BRIDGE_PORT },
              resources: { limits: { cpu: String(cpu), memory: `${memoryMiB}Mi` }, cpuIdle: true, startupCpuBoost: true },
              envs,
              volumeMounts: [
                { name: sessionVolume, mountPath: BRIDGE_IMAGE.sessionMountDir },
                { name: sqlVolume, mountPath: CLOUD_SQL_SOCKET_DIR },
              ],
              startupProbe: {
                httpGet: probeGet(BRIDGE_PATHS.readiness),
                periodSeconds: STARTUP_PERIOD_SECONDS,
                // Cloud Run wants the timeout below the period.
                timeoutSeconds: Math.min(BRIDGE_PROBES.timeoutSeconds, STARTUP_PERIOD_SECONDS - 1),
                failureThreshold: Math.ceil(BRIDGE_PROBES.startupGraceSeconds / STARTUP_PERIOD_SECONDS),
              },
              // Shallow on purpose: a database outage must not turn into instance churn.
              livenessProbe: {
                httpGet: probeGet(BRIDGE_PATHS.liveness),
                periodSeconds: BRIDGE_PROBES.intervalSeconds,
                timeoutSeconds: BRIDGE_PROBES.timeoutSeconds,
                failureThreshold: BRIDGE_PROBES.unhealthyThreshold,
              },
            },
          ],
          volumes: [
            // 'latest': every read fetches the newest version, so a rotated session arrives without a restart.
            { name: sessionVolume, secret: { secret: this.sessionSecretId, items: [{ path: BRIDGE_IMAGE.sessionFileName, version: 'latest' }] } },
            { name: sqlVolume, cloudSqlInstance: { instances: [this.sqlInstance.connectionName] } },
          ],
        },
      },
      {
        parent: this,
        // The first revision checks that its service account can read both secrets: grant before it exists.
        dependsOn: [
          ...apis,
          sessionAccess,
          passwordAccess,
          passwordVersion,
          sqlClient,
          this.database,
          this.databaseUser,
          ...(this.sessionSecretVersion ? [this.sessionSecretVersion] : []),
        ],
      },
    );
    // The bridge authenticates every SCIM call with its bearer token; Cloud Run's IAM check would only get in the way.
    new cloudrunv2.ServiceIamMember(
      `${name}-public`,
      { project, location: region, name: this.service.name, role: GCP_ROLES.runInvoker, member: 'allUsers' },
      { parent: this },
    );

    // Front door and DNS.
    const zone = args.dnsZone;
    const zoneProject = zone?.project ?? project;
    let records: pulumi.Output<DnsRecord[]>;
    if (frontDoor === 'loadBalancer') {
      const lb = this.loadBalancer(name, args, child);
      this.ipAddress = lb.address;
      this.certificate = lb.certificate;
      this.sslPolicy = lb.sslPolicy;
      records = lb.address.address.apply((ip) => [{ name: domain, type: 'A' as const, value: ip }]);
    } else {
      this.domainMapping = new cloudrun.DomainMapping(
        `${name}-domain`,
        { project, location: region, name: domain, metadata: { namespace: project, labels }, spec: { routeName: this.service.name } },
        child,
      );
      // Cloud Run says which records it expects for the domain: a CNAME for a subdomain, A and AAAA at an apex.
      records = this.domainMapping.statuses.apply((statuses) => {
        const wanted = (statuses ?? []).flatMap((s) => s.resourceRecords ?? []);
        if (wanted.length === 0) return [{ name: domain, type: 'CNAME' as const, value: DOMAIN_MAPPING_CNAME_TARGET }];
        return wanted.map((r) => ({ name: domain, type: (r.type ?? 'CNAME') as DnsRecord['type'], value: r.rrdata }));
      });
    }
    if (zone) {
      const managedZone = dns.getManagedZoneOutput({ name: zone.name, project: zoneProject }, { parent: this });
      const checkedZone = managedZone.apply((z) => {
        checkDomainInZone(domain, z.dnsName, frontDoor);
        return z.name;
      });
      this.dnsRecordSet = new dns.RecordSet(
        `${name}-dns`,
        frontDoor === 'loadBalancer'
          ? { project: zoneProject, managedZone: checkedZone, name: absoluteName(domain), type: 'A', ttl: 300, rrdatas: [this.ipAddress!.address] }
          : { project: zoneProject, managedZone: checkedZone, name: absoluteName(domain), type: 'CNAME', ttl: 300, rrdatas: [DOMAIN_MAPPING_CNAME_TARGET] },
        child,
      );
      // What was created, in the same shape as the records the operator would otherwise add.
      records =
        frontDoor === 'loadBalancer'
          ? records
          : pulumi.output([{ name: domain, type: 'CNAME' as const, value: DOMAIN_MAPPING_CNAME_TARGET }]);
    }
    this.dnsRecords = records;
    this.bridgeUrl = pulumi.output(scimBaseUrl(domain));

    this.registerOutputs({
      bridgeUrl: this.bridgeUrl,
      serviceUri: this.service.uri,
      serviceAccountEmail: this.serviceAccount.email,
      sessionSecretId: this.sessionSecretId,
      sqlConnectionName: this.sqlInstance.connectionName,
      repository: this.repository.registryUri,
      imageRef: this.imageRef,
      dnsRecords: this.dnsRecords,
    });
  }

  /** Global external Application Load Balancer: serverless NEG, managed certificate, modern TLS, HTTP redirect. */
  private loadBalancer(name: string, args: ScimBridgeGcpArgs, child: pulumi.CustomResourceOptions) {
    const { project, region, domain } = args;
    const neg = new compute.RegionNetworkEndpointGroup(
      `${name}-neg`,
      { project, region, networkEndpointType: 'SERVERLESS', cloudRun: { service: this.service.name } },
      child,
    );
    const backend = new compute.BackendService(
      `${name}-backend`,
      {
        project,
        loadBalancingScheme: 'EXTERNAL_MANAGED',
        protocol: 'HTTPS',
        backends: [{ group: neg.id }],
        // Request logs at the edge; the bridge logs its own (never a token).
        logConfig: { enable: true, sampleRate: 1 },
      },
      child,
    );
    const urlMap = new compute.URLMap(`${name}-https`, { project, defaultService: backend.id }, child);
    const certificate = new compute.ManagedSslCertificate(
      `${name}-cert`,
      { project, type: 'MANAGED', managed: { domains: [domain] } },
      child,
    );
    const sslPolicy = new compute.SSLPolicy(
      `${name}-tls`,
      { project, profile: args.sslPolicyProfile ?? 'MODERN', minTlsVersion: 'TLS_1_2' },
      child,
    );
    const httpsProxy = new compute.TargetHttpsProxy(
      `${name}-https`,
      { project, urlMap: urlMap.id, sslCertificates: [certificate.id], sslPolicy: sslPolicy.id },
      child,
    );
    const address = new compute.GlobalAddress(`${name}-ip`, { project, ipVersion: 'IPV4', addressType: 'EXTERNAL', labels: { app: 'scim-bridge', ...args.labels } }, child);
    new compute.GlobalForwardingRule(
      `${name}-https`,
      { project, target: httpsProxy.id, ipAddress: address.address, ipProtocol: 'TCP', portRange: '443', loadBalancingScheme: 'EXTERNAL_MANAGED' },
      child,
    );
    if (args.httpRedirect ?? true) {
      const redirect = new compute.URLMap(
        `${name}-http-redirect`,
        { project, defaultUrlRedirect: { httpsRedirect: true, redirectResponseCode: 'MOVED_PERMANENTLY_DEFAULT', stripQuery: false } },
        child,
      );
      const httpProxy = new compute.TargetHttpProxy(`${name}-http`, { project, urlMap: redirect.id }, child);
      new compute.GlobalForwardingRule(
        `${name}-http`,
        { project, target: httpProxy.id, ipAddress: address.address, ipProtocol: 'TCP', portRange: '80', loadBalancingScheme: 'EXTERNAL_MANAGED' },
        child,
      );
    }
    return { address, certificate, sslPolicy };
  }
}

function validate(
  args: ScimBridgeGcpArgs,
  v: { frontDoor: FrontDoor; minReplicas: number; maxReplicas: number; concurrency: number; cpu: number },
): void {
  if ((args.scimSession === undefined) === (args.scimSessionSecretId === undefined)) {
    throw new Error('ScimBridgeGcp: give exactly one of scimSession (a Pulumi secret) and scimSessionSecretId (an existing secret)');
  }
  if (!FRONT_DOORS.includes(v.frontDoor)) throw new Error(`ScimBridgeGcp: frontDoor must be one of ${FRONT_DOORS.join(', ')}`);
  if (!Number.isInteger(v.minReplicas) || v.minReplicas < 0) throw new Error('ScimBridgeGcp: minReplicas must be a whole number, 0 or more');
  if (!Number.isInteger(v.maxReplicas) || v.maxReplicas < Math.max(1, v.minReplicas)) {
    throw new Error(`ScimBridgeGcp: maxReplicas must be at least minReplicas (${v.minReplicas}) and at least 1`);
  }
  if (!Number.isInteger(v.concurrency) || v.concurrency < 1 || v.concurrency > MAX_CONCURRENCY) {
    throw new Error(`ScimBridgeGcp: concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}`);
  }
  if (v.concurrency > 1 && v.cpu < MIN_CPU_FOR_CONCURRENCY) {
    throw new Error(`ScimBridgeGcp: cpu must be at least ${MIN_CPU_FOR_CONCURRENCY} when concurrency is above 1 (a Cloud Run rule)`);
  }
}
