/**
 * ScimBridgeAzure: the SCIM bridge on Azure Container Apps, built from the shared layer.
 *
 * Children, one concern each: Network (VNet, delegated subnets, the database's private DNS zone), Secrets (Key Vault and
 * who reads which secret), Registry (ACR and the image), Database (Flexible Server, its logins and URLs), Environment
 * (Container Apps environment and logs), Bootstrap (`scim-bridge db bootstrap` as a job, run before the app), Service
 * (the container app) and FrontDoor (front-door.ts: records, host name, managed certificate).
 *
 * Order on a first deploy: role assignments, a pause while they propagate, the bootstrap job and its run, then the app.
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import * as authorization from '@pulumi/azure-native/authorization';
import * as managedidentity from '@pulumi/azure-native/managedidentity';
import * as resources from '@pulumi/azure-native/resources';
import type * as keyvault from '@pulumi/azure-native/keyvault';
import { type DnsRecord, nextSteps, scimBaseUrl } from '../common';
import { isUnresolved } from '../pulumi';
import { Pause } from './actions';
import { type ResolvedAzureArgs, type ScimBridgeAzureArgs, resolveAzureArgs } from './args';
import { BridgeBootstrap } from './bootstrap';
import { BridgeDatabase } from './database';
import { BridgeFrontDoor, nextPhaseHint, servesCustomDomain } from './front-door';
import { BridgeEnvironment } from './environment';
import { BridgeNetwork } from './network';
import { BridgeRegistry } from './registry';
import { BridgeService } from './service';
import { BridgeSecrets, principalTypeOfToken } from './secrets';

/** Resource Manager endpoints of the clouds azure-native knows (its `environment` setting). */
const ARM_ENDPOINTS: Record<string, string> = {
  public: 'https://management.azure.com',
  usgovernment: 'https://management.usgovcloudapi.net',
  china: 'https://management.chinacloudapi.cn',
};

export class ScimBridgeAzure extends pulumi.ComponentResource {
  /** The SCIM base URL for the identity provider: the custom domain once its certificate serves it, the app's host before. */
  public readonly scimBaseUrl: pulumi.Output<string>;
  /** The CNAME and `asuid` TXT for `domain` (created in `dnsZone` when given). */
  public readonly dnsRecords: pulumi.Output<DnsRecord[]>;
  public readonly nextSteps: pulumi.Output<string>;
  /** The app's default host name (always HTTPS). */
  public readonly appFqdn: pulumi.Output<string>;
  public readonly resourceGroupName: pulumi.Output<string>;
  public readonly resolved: ResolvedAzureArgs;
  public readonly network: BridgeNetwork;
  public readonly vault: BridgeSecrets;
  public readonly sessionSecret: keyvault.Secret;
  public readonly databasePasswordSecret: keyvault.Secret;
  public readonly adminUrlSecret: keyvault.Secret;
  public readonly googleSecret?: keyvault.Secret;
  /** The change feed's signing secrets, when webhooks are declared. */
  public readonly webhookSecret?: keyvault.Secret;
  public readonly registry: BridgeRegistry;
  public readonly database: BridgeDatabase;
  public readonly environment: BridgeEnvironment;
  /** The app's identity: reads its own secrets and pulls the image. */
  public readonly identity: managedidentity.UserAssignedIdentity;
  /** The bootstrap job's identity: the only reader of the administrator's URL. */
  public readonly bootstrapIdentity: managedidentity.UserAssignedIdentity;
  /** Waits once for the role assignments to propagate. */
  public readonly rolesReady: Pause;
  public readonly bootstrap: BridgeBootstrap;
  public readonly service: BridgeService;
  public readonly customDomain: BridgeFrontDoor;

  constructor(name: string, args: ScimBridgeAzureArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:azure:ScimBridgeAzure', name, {}, opts);
    const r = (this.resolved = resolveAzureArgs(args, isUnresolved));
    const parent = { parent: this };
    const client = authorization.getClientConfigOutput(parent);
    const armEndpoint = ARM_ENDPOINTS[new pulumi.Config('azure-native').get('environment') ?? 'public'] ?? ARM_ENDPOINTS.public;
    const deployerToken = pulumi.secret(authorization.getClientTokenOutput({ endpoint: armEndpoint }, parent).token);

    let location: pulumi.Output<string>;
    if (args.resourceGroupName) {
      this.resourceGroupName = pulumi.output(args.resourceGroupName);
      location = args.location
        ? pulumi.output(args.location)
        : resources.getResourceGroupOutput({ resourceGroupName: args.resourceGroupName }, parent).location;
    } else {
      this.resourceGroupName = new resources.ResourceGroup(`${name}-rg`, { location: args.location, tags: r.tags }, parent).name;
      location = pulumi.output(args.location!);
    }
    const resourceGroupName = this.resourceGroupName;
    const tags = r.tags;
    // Key Vault, registry and server names are global: one short random suffix keeps them unique and valid.
    const suffix = new random.RandomString(`${name}-suffix`, { length: 6, special: false, upper: false }, parent).result;
    const common = { resourceGroupName, location, tags, suffix, tenantId: client.tenantId, subscriptionId: client.subscriptionId };

    this.network = new BridgeNetwork(name, { ...common, ranges: r.network }, parent);
    this.database = new BridgeDatabase(name, { ...common, network: this.network, resolved: r }, parent);
    this.registry = new BridgeRegistry(name, { ...common, deployerToken, image: args.image, buildContext: r.buildContext, dockerfile: r.dockerfile }, parent);
    this.vault = new BridgeSecrets(
      name,
      {
        ...common,
        deployerObjectId: client.objectId,
        deployerPrincipalType: args.deployerPrincipalType ?? pulumi.unsecret(deployerToken.apply(principalTypeOfToken)),
        protect: r.deletionProtection,
      },
      parent,
    );
    this.sessionSecret = this.vault.secret('scimsession', 'scimsession', args.scimSession, 'application/json');
    this.databasePasswordSecret = this.vault.secret('pg-password', 'postgres-password', this.database.appPassword, 'text/plain');
    this.adminUrlSecret = this.vault.secret('pg-admin-url', 'postgres-admin-url', this.database.adminUrl, 'text/plain');
    if (args.googleCredentials !== undefined) {
      this.googleSecret = this.vault.secret('google', 'google-credentials', args.googleCredentials, 'application/json', true);
    }

    if (args.webhookSecrets !== undefined) {
      this.webhookSecret = this.vault.secret('webhooks', 'webhook-secrets', args.webhookSecrets, 'application/json', true);
    }

    // Two identities, each granted only what it reads: the app never holds the administrator's URL.
    this.identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, { resourceGroupName, location, tags }, parent);
    this.bootstrapIdentity = new managedidentity.UserAssignedIdentity(`${name}-bootstrap-identity`, { resourceGroupName, location, tags }, parent);
    const app = this.identity.principalId;
    const job = this.bootstrapIdentity.principalId;
    const roles = [
      this.vault.allowRead('app-reads-scimsession', this.sessionSecret, app, 'SCIM bridge reads its scimsession'),
      this.vault.allowRead('app-reads-pg-password', this.databasePasswordSecret, app, 'SCIM bridge reads its database password'),
      this.registry.allowPull('app-pull', app),
      this.vault.allowRead('bootstrap-reads-pg-admin-url', this.adminUrlSecret, job, 'SCIM bridge bootstrap connects as the server administrator'),
      this.vault.allowRead('bootstrap-reads-pg-password', this.databasePasswordSecret, job, "SCIM bridge bootstrap sets the app role's password"),
      this.registry.allowPull('bootstrap-pull', job),
      ...(this.googleSecret ? [this.vault.allowRead('app-reads-google', this.googleSecret, app, 'SCIM bridge reads its Google service-account key')] : []),
      ...(this.webhookSecret
        ? [this.vault.allowRead('app-reads-webhook-secrets', this.webhookSecret, app, 'SCIM bridge reads its webhook signing secrets')]
        : []),
    ];
    this.rolesReady = new Pause(`${name}-rbac-propagation`, { seconds: r.rolePropagationSeconds, triggers: roles.map((role) => role.id) }, parent);

    this.environment = new BridgeEnvironment(name, { ...common, subnetId: this.network.appsSubnet.id, logRetentionDays: r.logRetentionDays }, parent);
    const environment = this.environment.environment;
    const runOn = (identity: managedidentity.UserAssignedIdentity) => ({
      ...common,
      environmentId: environment.id,
      identity,
      registryServer: this.registry.registry.loginServer,
      imageRef: this.registry.imageRef,
    });
    this.bootstrap = new BridgeBootstrap(
      name,
      {
        ...runOn(this.bootstrapIdentity),
        jobName: `${r.appName}-bootstrap`,
        adminUrl: this.adminUrlSecret,
        appPassword: this.databasePasswordSecret,
        appUrl: this.database.appUrl,
        after: [this.database.database, this.database.requireTls, this.rolesReady],
        armEndpoint,
        token: deployerToken,
      },
      parent,
    );

    this.appFqdn = pulumi.interpolate`${r.appName}.${environment.defaultDomain}`;
    const zone = args.dnsZone && r.recordName ? { name: args.dnsZone, resourceGroupName: args.dnsZoneResourceGroup!, recordName: r.recordName } : undefined;
    this.customDomain = new BridgeFrontDoor(
      name,
      {
        domain: r.domain,
        phase: r.phase,
        appFqdn: this.appFqdn,
        verificationId: environment.customDomainConfiguration.apply((c) => c?.customDomainVerificationId ?? ''),
        zone,
        environment: { resourceGroupName, location, name: environment.name },
        environmentResource: environment,
        tags,
      },
      parent,
    );
    this.dnsRecords = this.customDomain.dnsRecords;

    this.service = new BridgeService(
      name,
      {
        ...runOn(this.identity),
        resolved: r,
        session: this.sessionSecret,
        databasePassword: this.databasePasswordSecret,
        google: this.googleSecret,
        webhookSecrets: this.webhookSecret,
        databaseUrl: this.database.appUrl,
        customDomains: this.customDomain.customDomains,
        // Adding a host name checks the asuid TXT and the CNAME, so the records come first.
        after: [
          this.bootstrap.run,
          this.rolesReady,
          ...this.customDomain.recordSets,
          ...(this.customDomain.certificate ? [this.customDomain.certificate] : []),
        ],
      },
      parent,
    );
    this.customDomain.certifyAfter(this.service.containerApp);

    this.scimBaseUrl = servesCustomDomain(r.phase) ? pulumi.output(scimBaseUrl(r.domain)) : this.appFqdn.apply(scimBaseUrl);
    const stack = pulumi.getStack();
    this.nextSteps = pulumi.all([this.scimBaseUrl, this.vault.vault.name, this.dnsRecords]).apply(([baseUrl, vaultName, records]) =>
      nextSteps({
        baseUrl,
        loadSession: `Put it in Key Vault ${vaultName}: pulumi config set --secret scimSession "$(cat scimsession)" -s ${stack} && pulumi up -s ${stack} (replicas read a new version within about 30 minutes; az containerapp revision restart makes it immediate)`,
        dnsToCreate: zone ? [] : records,
        afterDeploy: nextPhaseHint(r.phase, r.domain, stack),
      }),
    );
    this.registerOutputs({ scimBaseUrl: this.scimBaseUrl, dnsRecords: this.dnsRecords, nextSteps: this.nextSteps });
  }
}
