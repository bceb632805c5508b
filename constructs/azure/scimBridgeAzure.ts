/**
 * ScimBridgeAzure: the SCIM bridge on Azure Container Apps.
 *
 * Container app (external HTTPS ingress, probes from the contract, HTTP concurrency autoscaling) in a VNet-integrated
 * workload-profiles environment; scimsession and database password in a Key Vault (RBAC) read through a user-assigned
 * identity; image in an Azure Container Registry pulled with that identity; PostgreSQL Flexible Server reachable only
 * from the environment's subnet; optional custom domain in Azure DNS with a managed certificate.
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import * as dockerBuild from '@pulumi/docker-build';
import * as app from '@pulumi/azure-native/app';
import * as authorization from '@pulumi/azure-native/authorization';
import * as containerregistry from '@pulumi/azure-native/containerregistry';
import * as dbforpostgresql from '@pulumi/azure-native/dbforpostgresql';
import * as dns from '@pulumi/azure-native/dns';
import * as keyvault from '@pulumi/azure-native/keyvault';
import * as managedidentity from '@pulumi/azure-native/managedidentity';
import * as network from '@pulumi/azure-native/network';
import * as operationalinsights from '@pulumi/azure-native/operationalinsights';
import * as privatedns from '@pulumi/azure-native/privatedns';
import * as resources from '@pulumi/azure-native/resources';
import type * as azureInputs from '@pulumi/azure-native/types/input';
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
import { ACR_TOKEN_USERNAME, exchangeAcrRefreshToken } from './acrLogin';
import { CustomDomainPhase, defaultPhase, hostnameOnApp, relativeRecordName, servesCustomDomain } from './customDomain';

/** Built-in Azure role definition ids (the same in every tenant). */
export const AZURE_ROLES = {
  /** Key Vault Secrets User: read secret contents, nothing else. */
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  /** AcrPull: pull images from a registry. */
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
} as const;

/** Workload profile the app runs on: serverless, billed per use like the legacy consumption-only plan. */
export const CONSUMPTION_PROFILE = 'Consumption';
/** Names of the container app's secrets (Key Vault references) and of the volume the scimsession is mounted from. */
export const APP_SECRET_NAMES = { session: 'scimsession', databasePassword: 'postgres-password' } as const;
const SESSION_VOLUME = 'scimsession';
const POSTGRES_PORT = 5432;
/** Startup probe period: short, so a replica takes traffic as soon as /health answers. */
const STARTUP_PERIOD_SECONDS = 5;

export interface ScimBridgeAzureCustomDomainArgs {
  /** Host name identity providers call, e.g. scim.example.com (a subdomain: a CNAME cannot live at a zone apex). */
  hostname: string;
  /**
   * The Azure DNS zone holding the host name; the CNAME and `asuid` TXT records are created there.
   * @default none: add the records from `dnsRecords` at your DNS provider yourself
   */
  zone?: { name: string; resourceGroupName: string };
  /**
   * Where the domain stands; see customDomain.ts. `hostname` then `bind` is the reliable two-step path; `auto`
   * binds in one run through the preview "Auto" binding type.
   * @default 'hostname' with a zone, 'records' without one
   */
  phase?: CustomDomainPhase;
}

export interface ScimBridgeAzurePostgresArgs {
  /** Compute size. @default 'Standard_B1ms' */
  skuName?: string;
  /** Compute tier matching skuName. @default 'Burstable' */
  skuTier?: 'Burstable' | 'GeneralPurpose' | 'MemoryOptimized';
  /** Storage in GiB (grows automatically). @default 32 */
  storageSizeGB?: number;
  /** PostgreSQL major version. @default '16' */
  version?: string;
  /** Days of point-in-time backups, 7 to 35. @default 7 */
  backupRetentionDays?: number;
  /** Also keep backups in the paired region. @default false */
  geoRedundantBackup?: boolean;
}

export interface ScimBridgeAzureNetworkArgs {
  /** Address space of the virtual network created for the bridge. @default '10.60.0.0/16' */
  addressSpace?: string;
  /** Subnet of the Container Apps environment (delegated to Microsoft.App/environments, at least /27). @default '10.60.0.0/23' */
  appsSubnet?: string;
  /** Subnet of the PostgreSQL server (delegated to Microsoft.DBforPostgreSQL/flexibleServers). @default '10.60.2.0/27' */
  databaseSubnet?: string;
}

export interface ScimBridgeAzureArgs {
  /** The scimsession document. Pass a Pulumi secret; it is kept secret through to the Key Vault secret. */
  scimSession: pulumi.Input<string>;
  /**
   * Azure region, e.g. westeurope.
   * @default the location of `resourceGroupName` (required when no resource group is given)
   */
  location?: string;
  /** An existing resource group to deploy into. @default a new resource group */
  resourceGroupName?: string;
  /**
   * Image to run (for pipelines that build separately); it must be public or in the registry created here.
   * @default bridge/Dockerfile built at `pulumi up` and pushed to the registry created here
   */
  image?: pulumi.Input<string>;
  /** Docker build context; used when `image` is not given. @default the repository root */
  buildContext?: string;
  /** Dockerfile, relative to `buildContext`. @default BRIDGE_IMAGE.dockerfile (bridge/Dockerfile) */
  dockerfile?: string;
  /** Name of the container app; part of its default host name. @default 'scim-bridge' */
  appName?: string;
  /** Replicas kept running. @default BRIDGE_SIZING.minReplicas */
  minReplicas?: number;
  /** Upper bound for autoscaling. @default BRIDGE_SIZING.maxReplicas */
  maxReplicas?: number;
  /** Concurrent requests per replica above which the HTTP rule adds a replica. @default BRIDGE_SIZING.targetConcurrentRequests */
  concurrentRequests?: number;
  /** vCPU per replica (a Container Apps size, paired with memoryGiB). @default BRIDGE_SIZING.cpu */
  cpu?: number;
  /** Memory per replica in GiB (2 GiB per vCPU on the consumption profile). @default BRIDGE_SIZING.memoryMiB / 1024 */
  memoryGiB?: number;
  /** PostgreSQL Flexible Server sizing and backups. @default Standard_B1ms, 32 GiB, 7 days of backups */
  postgres?: ScimBridgeAzurePostgresArgs;
  /** Address ranges of the virtual network. @default 10.60.0.0/16 split into the two subnets */
  network?: ScimBridgeAzureNetworkArgs;
  /** Custom domain with a managed certificate. @default none: the app's default HTTPS host name */
  customDomain?: ScimBridgeAzureCustomDomainArgs;
  /** Days the Log Analytics workspace keeps logs. @default 30 */
  logRetentionDays?: number;
  /** Tags added to every resource that takes them. @default {} */
  tags?: Record<string, string>;
}

/** A DNS record the operator adds (or that is created in the given zone). */
export interface DnsRecord {
  type: 'CNAME' | 'TXT';
  name: string;
  value: string;
}

export class ScimBridgeAzure extends pulumi.ComponentResource {
  /** SCIM base URL for the identity provider, without a trailing slash. */
  public readonly bridgeUrl: pulumi.Output<string>;
  /** The app's default host name (always served over HTTPS). */
  public readonly appFqdn: pulumi.Output<string>;
  public readonly resourceGroupName: pulumi.Output<string>;
  public readonly environment: app.ManagedEnvironment;
  public readonly containerApp: app.ContainerApp;
  public readonly identity: managedidentity.UserAssignedIdentity;
  public readonly vault: keyvault.Vault;
  public readonly sessionSecret: keyvault.Secret;
  public readonly databasePasswordSecret: keyvault.Secret;
  public readonly registry: containerregistry.Registry;
  /** The image build, when no image was given. */
  public readonly image?: dockerBuild.Image;
  /** The image reference the app runs. */
  public readonly imageRef: pulumi.Output<string>;
  public readonly postgresServer: dbforpostgresql.Server;
  public readonly database: dbforpostgresql.Database;
  /** The managed certificate (phases `bind` and `auto`). */
  public readonly certificate?: app.ManagedCertificate;
  /** The phase the custom domain is in, when one is configured. */
  public readonly customDomainPhase?: CustomDomainPhase;
  /** CNAME and `asuid` TXT records for the custom domain. */
  public readonly dnsRecords?: pulumi.Output<DnsRecord[]>;

  constructor(name: string, args: ScimBridgeAzureArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:azure:ScimBridgeAzure', name, {}, opts);
    const minReplicas = args.minReplicas ?? BRIDGE_SIZING.minReplicas;
    const maxReplicas = args.maxReplicas ?? Math.max(BRIDGE_SIZING.maxReplicas, minReplicas);
    const concurrentRequests = args.concurrentRequests ?? BRIDGE_SIZING.targetConcurrentRequests;
    const cpu = args.cpu ?? BRIDGE_SIZING.cpu;
    const memoryGiB = args.memoryGiB ?? BRIDGE_SIZING.memoryMiB / 1024;
    const appName = args.appName ?? 'scim-bridge';
    const logRetentionDays = args.logRetentionDays ?? 30;
    const pg = {
      skuName: args.postgres?.skuName ?? 'Standard_B1ms',
      skuTier: args.postgres?.skuTier ?? 'Burstable',
      storageSizeGB: args.postgres?.storageSizeGB ?? 32,
      version: args.postgres?.version ?? '16',
      backupRetentionDays: args.postgres?.backupRetentionDays ?? 7,
      geoRedundantBackup: args.postgres?.geoRedundantBackup ?? false,
    };
    const net = {
      addressSpace: args.network?.addressSpace ?? '10.60.0.0/16',
      appsSubnet: args.network?.appsSubnet ?? '10.60.0.0/23',
      databaseSubnet: args.network?.databaseSubnet ?? '10.60.2.0/27',
    };
    const tags = { app: 'scim-bridge', ...args.tags };
    const fail = (arg: string, problem: string): never => {
      throw new Error(`ScimBridgeAzure ${name}: ${arg} ${problem}`);
    };
    if (!Number.isInteger(minReplicas) || minReplicas < 0) fail('minReplicas', `must be a whole number ≥ 0 (got ${minReplicas})`);
    if (!Number.isInteger(maxReplicas) || maxReplicas < Math.max(1, minReplicas)) {
      fail('maxReplicas', `must be a whole number ≥ 1 and ≥ minReplicas (${minReplicas}), got ${maxReplicas}`);
    }
    if (!Number.isInteger(concurrentRequests) || concurrentRequests < 1) fail('concurrentRequests', `must be a whole number ≥ 1 (got ${concurrentRequests})`);
    if (!Number.isInteger(pg.backupRetentionDays) || pg.backupRetentionDays < 7 || pg.backupRetentionDays > 35) {
      fail('postgres.backupRetentionDays', `must be from 7 to 35 (got ${pg.backupRetentionDays})`);
    }
    if (!args.resourceGroupName && !args.location) fail('location', 'is required when no resourceGroupName is given');
    const domain = args.customDomain;
    const phase = domain ? (domain.phase ?? defaultPhase(domain.zone !== undefined)) : undefined;
    const recordName = domain?.zone ? relativeRecordName(domain.hostname, domain.zone.name) : undefined;
    this.customDomainPhase = phase;

    const parent = { parent: this };
    const client = authorization.getClientConfigOutput(parent);

    let resourceGroupName: pulumi.Output<string>;
    let location: pulumi.Output<string>;
    if (args.resourceGroupName) {
      resourceGroupName = pulumi.output(args.resourceGroupName);
      location = args.location
        ? pulumi.output(args.location)
        : resources.getResourceGroupOutput({ resourceGroupName: args.resourceGroupName }, parent).location;
    } else {
      const group = new resources.ResourceGroup(`${name}-rg`, { location: args.location, tags }, parent);
      resourceGroupName = group.name;
      location = pulumi.output(args.location!);
    }
    this.resourceGroupName = resourceGroupName;
    const common = { resourceGroupName, location, tags };

    // Key Vault, registry and server names are global; one short random suffix keeps them unique and valid.
    const suffix = new random.RandomString(`${name}-suffix`, { length: 6, special: false, upper: false }, parent).result;

    // Logs.
    const workspace = new operationalinsights.Workspace(
      `${name}-logs`,
      { ...common, sku: { name: 'PerGB2018' }, retentionInDays: logRetentionDays },
      parent,
    );
    const workspaceKey = operationalinsights
      .getSharedKeysOutput({ resourceGroupName, workspaceName: workspace.name }, parent)
      .apply((keys) => keys.primarySharedKey ?? '');

    // Network: the environment and the database share a VNet; the database subnet admits only the apps subnet.
    const vnet = new network.VirtualNetwork(`${name}-vnet`, { ...common, addressSpace: { addressPrefixes: [net.addressSpace] } }, parent);
    const databaseNsg = new network.NetworkSecurityGroup(
      `${name}-db-nsg`,
      {
        ...common,
        securityRules: [
          {
            name: 'allow-postgres-from-apps',
            priority: 100,
            direction: 'Inbound',
            access: 'Allow',
            protocol: 'Tcp',
            sourceAddressPrefix: net.appsSubnet,
            sourcePortRange: '*',
            destinationAddressPrefix: net.databaseSubnet,
            destinationPortRange: String(POSTGRES_PORT),
          },
          {
            // Primary and standby talk to each other when high availability is turned on.
            name: 'allow-within-database-subnet',
            priority: 110,
            direction: 'Inbound',
            access: 'Allow',
            protocol: '*',
            sourceAddressPrefix: net.databaseSubnet,
            sourcePortRange: '*',
            destinationAddressPrefix: net.databaseSubnet,
            destinationPortRange: '*',
          },
          {
            // The default rules admit the whole VNet (and peered ones); nothing else in it may reach the database.
            name: 'deny-other-vnet-inbound',
            priority: 4000,
            direction: 'Inbound',
            access: 'Deny',
            protocol: '*',
            sourceAddressPrefix: 'VirtualNetwork',
            sourcePortRange: '*',
            destinationAddressPrefix: '*',
            destinationPortRange: '*',
          },
        ],
      },
      parent,
    );
    const appsSubnet = new network.Subnet(
      `${name}-apps-subnet`,
      {
        resourceGroupName,
        virtualNetworkName: vnet.name,
        addressPrefix: net.appsSubnet,
        delegations: [{ name: 'container-apps', serviceName: 'Microsoft.App/environments' }],
      },
      parent,
    );
    const databaseSubnet = new network.Subnet(
      `${name}-db-subnet`,
      {
        resourceGroupName,
        virtualNetworkName: vnet.name,
        addressPrefix: net.databaseSubnet,
        delegations: [{ name: 'postgres-flexible', serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers' }],
        networkSecurityGroup: { id: databaseNsg.id },
      },
      // Two subnet writes on one VNet at once fail with AnotherOperationInProgress.
      { parent: this, dependsOn: [appsSubnet] },
    );
    const databaseDnsZone = new privatedns.PrivateZone(
      `${name}-pg-dns`,
      { resourceGroupName, location: 'global', privateZoneName: pulumi.interpolate`scim-bridge-${suffix}.private.postgres.database.azure.com`, tags },
      parent,
    );
    const databaseDnsLink = new privatedns.VirtualNetworkLink(
      `${name}-pg-dns-link`,
      { resourceGroupName, location: 'global', privateZoneName: databaseDnsZone.name, virtualNetwork: { id: vnet.id }, registrationEnabled: false, tags },
      parent,
    );

    // Container Apps environment: workload-profiles type, the only one that takes a delegated subnet of a VNet we own.
    this.environment = new app.ManagedEnvironment(
      `${name}-env`,
      {
        ...common,
        appLogsConfiguration: {
          destination: 'log-analytics',
          logAnalyticsConfiguration: { customerId: workspace.customerId, sharedKey: pulumi.secret(workspaceKey) },
        },
        vnetConfiguration: { infrastructureSubnetId: appsSubnet.id, internal: false },
        workloadProfiles: [{ name: CONSUMPTION_PROFILE, workloadProfileType: CONSUMPTION_PROFILE }],
      },
      parent,
    );

    // Identity, Key Vault and the two secrets the app reads through it.
    this.identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, common, parent);
    const role = (id: string) =>
      pulumi.interpolate`/subscriptions/${client.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${id}`;
    this.vault = new keyvault.Vault(
      `${name}-kv`,
      {
        ...common,
        vaultName: pulumi.interpolate`scim-kv-${suffix}`,
        properties: {
          tenantId: client.tenantId,
          sku: { family: 'A', name: 'standard' },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: 90,
          enablePurgeProtection: true,
        },
      },
      parent,
    );
    this.sessionSecret = new keyvault.Secret(
      `${name}-scimsession`,
      {
        resourceGroupName,
        vaultName: this.vault.name,
        secretName: 'scimsession',
        properties: { value: pulumi.secret(args.scimSession), contentType: 'application/json' },
        tags,
      },
      parent,
    );
    const databasePassword = new random.RandomPassword(
      `${name}-pg-password`,
      { length: 40, special: false, minLower: 1, minUpper: 1, minNumeric: 1 },
      parent,
    );
    this.databasePasswordSecret = new keyvault.Secret(
      `${name}-pg-password`,
      {
        resourceGroupName,
        vaultName: this.vault.name,
        secretName: 'postgres-password',
        properties: { value: pulumi.secret(databasePassword.result), contentType: 'text/plain' },
        tags,
      },
      parent,
    );
    const secretsReader = new authorization.RoleAssignment(
      `${name}-kv-secrets-user`,
      {
        scope: this.vault.id,
        roleDefinitionId: role(AZURE_ROLES.keyVaultSecretsUser),
        principalId: this.identity.principalId,
        // Set for a brand-new identity so ARM does not look it up before Entra ID has replicated it.
        principalType: 'ServicePrincipal',
        description: 'SCIM bridge reads its scimsession and database password',
      },
      parent,
    );

    // Registry (admin user off) and the identity's pull right on it.
    this.registry = new containerregistry.Registry(
      `${name}-acr`,
      { ...common, registryName: pulumi.interpolate`scimbridge${suffix}`, sku: { name: 'Basic' }, adminUserEnabled: false },
      parent,
    );
    const registryPull = new authorization.RoleAssignment(
      `${name}-acr-pull`,
      {
        scope: this.registry.id,
        roleDefinitionId: role(AZURE_ROLES.acrPull),
        principalId: this.identity.principalId,
        principalType: 'ServicePrincipal',
        description: 'SCIM bridge pulls its image',
      },
      parent,
    );
    if (args.image !== undefined) {
      this.imageRef = pulumi.output(args.image);
    } else {
      const entraToken = pulumi.secret(authorization.getClientTokenOutput({}, parent).token);
      const registryToken = pulumi.secret(
        pulumi
          .all([this.registry.loginServer, client.tenantId, entraToken])
          .apply(([server, tenant, token]) => exchangeAcrRefreshToken(server, tenant, token)),
      );
      this.image = buildBridgeImage(
        `${name}-image`,
        {
          buildContext: args.buildContext,
          dockerfile: args.dockerfile,
          tag: pulumi.interpolate`${this.registry.loginServer}/scim-bridge:latest`,
          registry: { address: this.registry.loginServer, username: ACR_TOKEN_USERNAME, password: registryToken },
        },
        parent,
      );
      // tag@digest, so a new build rolls out a new revision.
      this.imageRef = this.image.ref;
    }

    // PostgreSQL: VNet-integrated (no public endpoint), TLS required, backups on.
    this.postgresServer = new dbforpostgresql.Server(
      `${name}-pg`,
      {
        ...common,
        serverName: pulumi.interpolate`scim-bridge-${suffix}`,
        version: pg.version,
        sku: { name: pg.skuName, tier: pg.skuTier },
        storage: { storageSizeGB: pg.storageSizeGB, autoGrow: 'Enabled' },
        backup: { backupRetentionDays: pg.backupRetentionDays, geoRedundantBackup: pg.geoRedundantBackup ? 'Enabled' : 'Disabled' },
        highAvailability: { mode: 'Disabled' },
        network: {
          delegatedSubnetResourceId: databaseSubnet.id,
          privateDnsZoneArmResourceId: databaseDnsZone.id,
          publicNetworkAccess: 'Disabled',
        },
        authConfig: { passwordAuth: 'Enabled', activeDirectoryAuth: 'Disabled' },
        administratorLogin: BRIDGE_DEFAULTS.databaseUser,
        administratorLoginPassword: pulumi.secret(databasePassword.result),
      },
      { parent: this, dependsOn: [databaseDnsLink] },
    );
    this.database = new dbforpostgresql.Database(
      `${name}-db`,
      { resourceGroupName, serverName: this.postgresServer.name, databaseName: BRIDGE_DEFAULTS.databaseName, charset: 'UTF8', collation: 'en_US.utf8' },
      parent,
    );
    // On by default; pinned so a portal change shows up as drift.
    const requireTls = new dbforpostgresql.Configuration(
      `${name}-pg-require-tls`,
      { resourceGroupName, serverName: this.postgresServer.name, configurationName: 'require_secure_transport', value: 'on', source: 'user-override' },
      { parent: this, dependsOn: [this.database] },
    );

    // Custom domain: records, then (by phase) the host name and the certificate.
    this.appFqdn = pulumi.interpolate`${appName}.${this.environment.defaultDomain}`;
    const verificationId = this.environment.customDomainConfiguration.apply((c) => c?.customDomainVerificationId ?? '');
    const records: dns.RecordSet[] = [];
    if (domain) {
      this.dnsRecords = pulumi.all([this.appFqdn, verificationId]).apply(([fqdn, id]): DnsRecord[] => [
        { type: 'CNAME', name: domain.hostname, value: fqdn },
        { type: 'TXT', name: `asuid.${domain.hostname}`, value: id },
      ]);
      if (domain.zone && recordName) {
        const zone = { resourceGroupName: domain.zone.resourceGroupName, zoneName: domain.zone.name, ttl: 300 };
        records.push(
          new dns.RecordSet(`${name}-cname`, { ...zone, relativeRecordSetName: recordName, recordType: 'CNAME', cnameRecord: { cname: this.appFqdn } }, parent),
          new dns.RecordSet(
            `${name}-asuid`,
            { ...zone, relativeRecordSetName: `asuid.${recordName}`, recordType: 'TXT', txtRecords: [{ value: [verificationId] }] },
            parent,
          ),
        );
      }
    }
    const certificateArgs = (): app.ManagedCertificateArgs => ({
      ...common,
      environmentName: this.environment.name,
      properties: { subjectName: domain!.hostname, domainControlValidation: 'CNAME' },
    });
    let customDomains: azureInputs.app.CustomDomainArgs[] | undefined;
    const appDependsOn: pulumi.Resource[] = [secretsReader, registryPull, this.database, requireTls];
    if (domain && phase && hostnameOnApp(phase)) {
      // Adding a host name checks the asuid TXT record (and the CNAME), so they come first.
      appDependsOn.push(...records);
      if (phase === 'bind') {
        // The host name is already on the app from the `hostname` run, so the certificate can be issued first.
        this.certificate = new app.ManagedCertificate(`${name}-cert`, certificateArgs(), { parent: this, dependsOn: records });
        appDependsOn.push(this.certificate);
        customDomains = [{ name: domain.hostname, bindingType: 'SniEnabled', certificateId: this.certificate.id }];
      } else {
        customDomains = [{ name: domain.hostname, bindingType: phase === 'auto' ? 'Auto' : 'Disabled' }];
      }
    }

    this.containerApp = new app.ContainerApp(
      `${name}-app`,
      {
        ...common,
        containerAppName: appName,
        environmentId: this.environment.id,
        workloadProfileName: CONSUMPTION_PROFILE,
        identity: { type: 'UserAssigned', userAssignedIdentities: [this.identity.id] },
        configuration: {
          activeRevisionsMode: 'Single',
          ingress: {
            external: true,
            targetPort: BRIDGE_PORT,
            allowInsecure: false,
            transport: 'auto',
            traffic: [{ latestRevision: true, weight: 100 }],
            customDomains,
          },
          registries: [{ server: this.registry.loginServer, identity: this.identity.id }],
          // Key Vault references without a version: the platform follows the latest version.
          secrets: [
            { name: APP_SECRET_NAMES.session, keyVaultUrl: this.sessionSecret.properties.secretUri, identity: this.identity.id },
            { name: APP_SECRET_NAMES.databasePassword, keyVaultUrl: this.databasePasswordSecret.properties.secretUri, identity: this.identity.id },
          ],
        },
        template: {
          containers: [
            {
              name: 'bridge',
              image: this.imageRef,
              resources: { cpu, memory: `${memoryGiB}Gi` },
              env: [
                { name: BRIDGE_ENV.port, value: String(BRIDGE_PORT) },
                { name: BRIDGE_ENV.sessionFile, value: `${BRIDGE_IMAGE.sessionMountDir}/${BRIDGE_IMAGE.sessionFileName}` },
                {
                  name: BRIDGE_ENV.databaseUrl,
                  value: pulumi.interpolate`postgres://${BRIDGE_DEFAULTS.databaseUser}@${this.postgresServer.fullyQualifiedDomainName}:${POSTGRES_PORT}/${BRIDGE_DEFAULTS.databaseName}?sslmode=require`,
                },
                { name: BRIDGE_ENV.pgPassword, secretRef: APP_SECRET_NAMES.databasePassword },
              ],
              volumeMounts: [{ volumeName: SESSION_VOLUME, mountPath: BRIDGE_IMAGE.sessionMountDir }],
              probes: [
                {
                  // Shallow: a database outage must not turn into replica churn.
                  type: 'Liveness',
                  httpGet: { path: BRIDGE_PATHS.liveness, port: BRIDGE_PORT, scheme: 'HTTP' },
                  periodSeconds: BRIDGE_PROBES.intervalSeconds,
                  timeoutSeconds: BRIDGE_PROBES.timeoutSeconds,
                  failureThreshold: BRIDGE_PROBES.unhealthyThreshold,
                },
                {
                  type: 'Readiness',
                  httpGet: { path: BRIDGE_PATHS.readiness, port: BRIDGE_PORT, scheme: 'HTTP' },
                  periodSeconds: BRIDGE_PROBES.intervalSeconds,
                  timeoutSeconds: BRIDGE_PROBES.timeoutSeconds,
                  failureThreshold: BRIDGE_PROBES.unhealthyThreshold,
                  successThreshold: BRIDGE_PROBES.healthyThreshold,
                },
                {
                  type: 'Startup',
                  httpGet: { path: BRIDGE_PATHS.readiness, port: BRIDGE_PORT, scheme: 'HTTP' },
                  initialDelaySeconds: 1,
                  periodSeconds: STARTUP_PERIOD_SECONDS,
                  timeoutSeconds: Math.min(BRIDGE_PROBES.timeoutSeconds, STARTUP_PERIOD_SECONDS),
                  failureThreshold: Math.ceil(BRIDGE_PROBES.startupGraceSeconds / STARTUP_PERIOD_SECONDS),
                },
              ],
            },
          ],
          // The scimsession as a file that follows the Key Vault secret; the bridge watches it (token rotation).
          volumes: [
            {
              name: SESSION_VOLUME,
              storageType: 'Secret',
              secrets: [{ secretRef: APP_SECRET_NAMES.session, path: BRIDGE_IMAGE.sessionFileName }],
            },
          ],
          scale: {
            minReplicas,
            maxReplicas,
            rules: [{ name: 'http-concurrency', http: { metadata: { concurrentRequests: String(concurrentRequests) } } }],
          },
          terminationGracePeriodSeconds: BRIDGE_SIZING.shutdownGraceSeconds,
        },
      },
      // Role assignments first: without them the first revision cannot read Key Vault or pull the image.
      { parent: this, dependsOn: appDependsOn },
    );
    if (domain && phase === 'auto') {
      // The platform binds this certificate to the app's "Auto" host name once it is issued.
      this.certificate = new app.ManagedCertificate(`${name}-cert`, certificateArgs(), { parent: this, dependsOn: [...records, this.containerApp] });
    }

    this.bridgeUrl =
      domain && phase && servesCustomDomain(phase) ? pulumi.output(scimBaseUrl(domain.hostname)) : this.appFqdn.apply(scimBaseUrl);
    this.registerOutputs({
      bridgeUrl: this.bridgeUrl,
      appFqdn: this.appFqdn,
      resourceGroupName: this.resourceGroupName,
      imageRef: this.imageRef,
      dnsRecords: this.dnsRecords,
    });
  }
}
