/**
 * ScimBridgeGcp: the SCIM bridge on Google Cloud Run, built from the shared layer. Its children, one concern each:
 * the project's APIs, the image and its registry, the network (network.ts), the database (database.ts), the one-off
 * role bootstrap (bootstrap.ts), the service (service.ts) and the front door with DNS (front-door.ts).
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import * as artifactregistry from '@pulumi/gcp/artifactregistry';
import * as organizations from '@pulumi/gcp/organizations';
import * as projects from '@pulumi/gcp/projects';
import { type DnsRecord, bridgeEnvironment, nextSteps, scimBaseUrl } from '../common';
import { bridgeImageRef } from '../pulumi';
import { type ResolvedGcpArgs, type ScimBridgeGcpArgs, resolveGcpArgs } from './args';
import { BridgeBootstrap } from './bootstrap';
import { BridgeDatabase } from './database';
import { BridgeFrontDoor } from './front-door';
import { BridgeNetwork } from './network';
import { CLEANUP_POLICIES, type FrontDoor, ingressFor, requiredApis, trustProxyFor } from './platform';
import { BridgeService } from './service';

export class ScimBridgeGcp extends pulumi.ComponentResource {
  /** The SCIM base URL for the identity provider (no trailing slash). */
  public readonly scimBaseUrl: pulumi.Output<string>;
  /** The records that point the domain at the front door (created in `dnsZone` when given). */
  public readonly dnsRecords: pulumi.Output<DnsRecord[]>;
  /** What to do after the deploy, in order. */
  public readonly nextSteps: pulumi.Output<string>;
  public readonly frontDoorKind: FrontDoor;
  public readonly network: BridgeNetwork;
  public readonly database: BridgeDatabase;
  public readonly bootstrap: BridgeBootstrap;
  public readonly service: BridgeService;
  public readonly frontDoor: BridgeFrontDoor;
  public readonly repository: artifactregistry.Repository;
  /** The image the service and the bootstrap job run. */
  public readonly imageRef: pulumi.Output<string>;
  public readonly resolved: ResolvedGcpArgs;

  constructor(name: string, args: ScimBridgeGcpArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:gcp:ScimBridgeGcp', name, {}, opts);
    const r = (this.resolved = resolveGcpArgs(args));
    const { project, region } = r;
    this.frontDoorKind = r.frontDoor;
    const labels = { ...r.tags };

    // Project APIs first: every resource below calls one of them. Left on at destroy: other workloads may use them.
    const apis = r.enableApis
      ? requiredApis().map(
          (api) => new projects.Service(`${name}-api-${api.split('.')[0]}`, { project, service: api, disableOnDestroy: false }, { parent: this }),
        )
      : [];
    const child: pulumi.ComponentResourceOptions = { parent: this, dependsOn: apis };
    // Names that must be unique in the project and cannot be reused soon after deletion (Cloud SQL: about a week).
    const suffix = new random.RandomString(`${name}-suffix`, { length: 6, special: false, upper: false }, { parent: this }).result;
    const base = pulumi.interpolate`scim-bridge-${suffix}`;
    const scope = { project, region, resourceName: base, labels };

    this.repository = new artifactregistry.Repository(
      `${name}-images`,
      {
        project,
        location: region,
        repositoryId: base,
        format: 'DOCKER',
        description: 'SCIM bridge images',
        cleanupPolicies: CLEANUP_POLICIES,
        cleanupPolicyDryRun: false,
        labels,
      },
      child,
    );
    const image = bridgeImageRef(
      `${name}-image`,
      args.image,
      () => ({
        buildContext: r.buildContext,
        dockerfile: r.dockerfile,
        tag: pulumi.interpolate`${this.repository.registryUri}/scim-bridge:latest`,
        // The deployer's own OAuth token (the credentials Pulumi already uses); short-lived, kept secret, not written to ~/.docker.
        registry: {
          address: `${region}-docker.pkg.dev`,
          username: 'oauth2accesstoken',
          password: pulumi.secret(organizations.getClientConfigOutput({ parent: this }).accessToken),
        },
      }),
      { parent: this },
    );
    this.imageRef = image.ref;

    this.network = new BridgeNetwork(`${name}-network`, { ...scope, ipCidrRange: r.ipCidrRange }, child);
    this.database = new BridgeDatabase(
      `${name}-db`,
      {
        ...scope,
        network: this.network.network,
        subnetwork: this.network.subnetwork,
        version: r.database.version,
        tier: r.databaseTier,
        storageGiB: r.storageGiB,
        backupRetentionDays: r.database.backupRetentionDays,
        highAvailability: r.database.highAvailability,
        deletionProtection: r.deletionProtection,
      },
      child,
    );
    this.bootstrap = new BridgeBootstrap(
      `${name}-bootstrap`,
      {
        ...scope,
        accountId: pulumi.interpolate`${base}-boot`,
        image: this.imageRef,
        database: this.database,
        network: this.network.network,
        subnetwork: this.network.subnetwork,
        logLevel: r.logLevel,
      },
      child,
    );
    this.service = new BridgeService(
      `${name}-service`,
      {
        ...scope,
        accountId: base,
        image: this.imageRef,
        ingress: ingressFor(r.frontDoor),
        environment: bridgeEnvironment(r, { trustProxy: trustProxyFor(r.frontDoor), platformSetsPort: true }),
        scimSession: args.scimSession,
        scimSessionSecretId: args.scimSessionSecretId,
        googleCredentials: args.googleCredentials,
        webhookSecrets: args.webhookSecrets,
        database: this.database,
        network: this.network,
        minReplicas: r.minReplicas,
        maxReplicas: r.maxReplicas,
        concurrency: r.targetConcurrentRequests,
        cpu: r.cpu,
        memoryMiB: r.memoryMiB,
        dependsOn: [this.bootstrap.job, ...apis],
      },
      child,
    );
    this.frontDoor = new BridgeFrontDoor(
      `${name}-front`,
      {
        ...scope,
        domain: r.domain,
        frontDoor: r.frontDoor,
        serviceName: this.service.service.name,
        dnsZone: r.dnsZone,
        sslPolicyProfile: r.sslPolicyProfile,
        httpRedirect: r.httpRedirect,
      },
      child,
    );

    this.scimBaseUrl = pulumi.output(scimBaseUrl(r.domain));
    this.dnsRecords = this.frontDoor.records;
    this.nextSteps = this.dnsRecords.apply((records) =>
      nextSteps({
        baseUrl: scimBaseUrl(r.domain),
        loadSession: args.scimSessionSecretId
          ? `Load it into Secret Manager: gcloud secrets versions add ${args.scimSessionSecretId} --project ${project} --data-file=scimsession (the bridge reads the latest version within seconds; no restart)`
          : `Load it: pulumi config set --secret scimSession "$(cat scimsession)" && pulumi up (a new Secret Manager version; the bridge reads it within seconds, no restart)`,
        dnsToCreate: r.dnsZone ? [] : records,
        afterDeploy:
          r.frontDoor === 'loadBalancer'
            ? 'Wait for the Google-managed certificate: it becomes ACTIVE once the record resolves to the load balancer (often 15 to 60 minutes); HTTPS fails until then (gcloud compute ssl-certificates list).'
            : 'The domain mapping needs the domain verified for the deploying account (gcloud domains verify); its certificate follows once the record resolves.',
      }),
    );
    this.registerOutputs({
      scimBaseUrl: this.scimBaseUrl,
      dnsRecords: this.dnsRecords,
      nextSteps: this.nextSteps,
      serviceUri: this.service.service.uri,
      databaseHost: this.database.host,
      imageRef: this.imageRef,
    });
  }
}
