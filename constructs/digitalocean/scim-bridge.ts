/**
 * ScimBridgeDigitalOcean: the SCIM bridge on DigitalOcean App Platform. One app (the bridge service and a
 * PRE_DEPLOY job that bootstraps the database role) inside the VPC of a Managed PostgreSQL cluster that admits only
 * the app; the scimsession as an encrypted app secret; a custom domain with App Platform's certificate.
 */
import * as digitalocean from '@pulumi/digitalocean';
import * as pulumi from '@pulumi/pulumi';
import { type DnsRecord, OUTPUT_NAMES, nextSteps, scimBaseUrl } from '../common';
import { type ResolvedDigitalOceanArgs, type ScimBridgeDigitalOceanArgs, resolveDigitalOceanArgs } from './args';
import { BridgeDatabase, DATABASE_COMPONENT } from './database';
import { appAlerts, defaultHost, domainNames, recordsToCreate, zoneFileLine } from './front-door';
import { BridgeImage, deployerToken } from './image';
import { type AppSpecLike, type SealedSecrets, sealedSecrets } from './secrets';
import { AppComponents, SERVICE_NAME } from './service';

export class ScimBridgeDigitalOcean extends pulumi.ComponentResource {
  /** The args with every default applied. */
  public readonly settings: ResolvedDigitalOceanArgs;
  public readonly app: digitalocean.App;
  public readonly database: BridgeDatabase;
  public readonly image: BridgeImage;
  /** SCIM base URL for the identity provider: `https://<domain>/scim/v2`. */
  public readonly scimBaseUrl: pulumi.Output<string>;
  /** The app's own host on ondigitalocean.app. */
  public readonly defaultHost: pulumi.Output<string>;
  /** Records to create at the DNS provider (empty with `dnsZone`). */
  public readonly dnsRecords: pulumi.Output<DnsRecord[]>;
  /** What to do after the deploy, in order. */
  public readonly nextSteps: pulumi.Output<string>;
  /** What App Platform holds for each secret: pass it back as `previousSecrets` on the next run (secret). */
  public readonly sealedSecrets: pulumi.Output<SealedSecrets>;

  constructor(name: string, args: ScimBridgeDigitalOceanArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:digitalocean:ScimBridgeDigitalOcean', name, {}, opts);
    const a = resolveDigitalOceanArgs(args);
    this.settings = a;

    this.database = new BridgeDatabase(
      name,
      {
        region: a.region,
        version: a.database.version,
        size: a.databaseSize,
        nodeCount: a.databaseNodes,
        storageGiB: a.database.storageGiB,
        vpcId: args.vpcId,
        projectId: args.projectId,
        tags: a.tags,
        protect: a.deletionProtection,
        alertEmails: a.alertEmails,
        cpuAlertPercent: a.cpuAlertPercent,
      },
      { parent: this },
    );
    this.image = new BridgeImage(
      name,
      {
        given: a.givenImage,
        registryName: args.registryName,
        registryTier: a.registryTier,
        pushToken: a.givenImage ? undefined : deployerToken(),
        buildContext: a.buildContext,
        dockerfile: a.dockerfile,
      },
      { parent: this },
    );

    // A new project replaces the app (project_id forces a new resource); another app cannot read these encrypted forms.
    const sealScope = `${args.projectId ?? ''}/${a.appName}`;
    const components = new AppComponents({
      args: a,
      image: this.image.source,
      imageCredentials: args.imageCredentials,
      scimSession: args.scimSession,
      googleCredentials: args.googleCredentials,
      webhookSecrets: args.webhookSecrets,
      appUrl: this.database.appUrl,
      adminUrl: this.database.adminUrl,
      previousSecrets: args.previousSecrets,
      sealScope,
    });
    const service = components.service();
    const job = components.bootstrapJob();

    this.app = new digitalocean.App(
      `${name}-app`,
      {
        projectId: args.projectId,
        spec: {
          name: a.appName,
          region: a.appRegion,
          // The app's outbound traffic goes through the database's VPC, to its private host.
          vpcs: [{ id: this.database.vpcId }],
          domainNames: domainNames(a.domain, a.dnsZone),
          alerts: appAlerts(a.alertEmails),
          databases: [
            {
              name: DATABASE_COMPONENT,
              engine: 'PG',
              production: true,
              clusterName: this.database.cluster.name,
              dbName: this.database.database.name,
              dbUser: this.database.user.name,
            },
          ],
          ingress: { rules: [{ component: { name: SERVICE_NAME }, match: { path: { prefix: '/' } } }] },
          services: [service],
          jobs: [job],
        },
      },
      { parent: this },
    );
    this.database.admit(this.app.id);

    this.sealedSecrets = sealedSecrets(this.app.spec as unknown as pulumi.Output<AppSpecLike>, components.secrets, sealScope);
    this.scimBaseUrl = pulumi.output(scimBaseUrl(a.domain));
    this.defaultHost = defaultHost(this.app.defaultIngress);
    this.dnsRecords = recordsToCreate(a.domain, a.dnsZone, this.defaultHost);
    this.nextSteps = pulumi.all([this.scimBaseUrl, this.dnsRecords]).apply(([baseUrl, records]) =>
      nextSteps({
        baseUrl,
        loadSession: `Load it into the app's encrypted secret: pulumi config set --secret scimSession "$(cat scimsession)", then pulumi up (a changed scimsession is always sent)`,
        dnsToCreate: records,
        afterDeploy: records.length
          ? `App Platform issues the certificate once the name resolves (zone-file form: ${records.map(zoneFileLine).join('; ')})`
          : `App Platform creates the record for ${a.domain} in the DigitalOcean zone ${a.dnsZone} and issues the certificate.`,
      }),
    );

    this.registerOutputs({
      [OUTPUT_NAMES.scimBaseUrl]: this.scimBaseUrl,
      [OUTPUT_NAMES.dnsRecords]: this.dnsRecords,
      [OUTPUT_NAMES.nextSteps]: this.nextSteps,
      appId: this.app.id,
      defaultHost: this.defaultHost,
      sealedSecrets: this.sealedSecrets,
    });
  }
}
