/**
 * Cloud SQL for PostgreSQL with no public address, reached over Private Service Connect with verified TLS.
 *
 * - No public IPv4 (`ipv4Enabled: false`); a Private Service Connect endpoint (an internal address in the bridge's subnet
 *   and a forwarding rule to the instance's service attachment) is the only way in. Private services access (VPC
 *   peering) was not chosen: its connection cannot be deleted for days after the instance is (Cloud SQL keeps producer
 *   resources to allow a restore), and the peering it leaves blocks the network's deletion
 *   (hashicorp/terraform-provider-google#16275, #19908, GoogleCloudPlatform/magic-modules#18476), so a destroy fails.
 * - The server certificate comes from the Google-managed shared CA (`GOOGLE_MANAGED_CAS_CA`), whose certificates carry
 *   the instance's DNS name; the per-instance CA's certificates carry only `project:instance` as CN, so `verify-full`
 *   against any host name fails with it (cloud-sql-go-connector internal/cloudsql/tls_verify.go). A private Cloud DNS
 *   zone gives that DNS name the endpoint's address, and the bridge connects to it with `sslmode=verify-full` and the
 *   CAs the instance lists. `ENCRYPTED_ONLY` refuses plain connections.
 * - The app's role is not made here: users made through the Cloud SQL API are members of `cloudsqlsuperuser`. The only
 *   API user is the administrator the one-off bootstrap job signs in as (bootstrap.ts); `scim-bridge db bootstrap` makes
 *   the app's own role from SQL.
 *
 * Protection: with `deletionProtection` (the default) the instance is protected in Pulumi, by the provider and by the
 * Cloud SQL API, keeps its backups after deletion, and the database and administrator refuse deletion (`PREVENT`).
 * Without it nothing blocks a destroy: the database and user are `ABANDON` (PostgreSQL will not drop a role that owns
 * objects or holds grants, nor the API a database others can reach) and deleted with the instance (`deletedWith`).
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import * as compute from '@pulumi/gcp/compute';
import * as dns from '@pulumi/gcp/dns';
import * as sql from '@pulumi/gcp/sql';
import { DATABASE_NAMES, absoluteName } from '../common';
import { caBundle, postgresUrl, pscDnsName } from './platform';
import { childOptions } from '../pulumi';
import type { GcpScope } from './args';
import { BridgeSecret } from './secrets';

/** The administrator the bootstrap job signs in as (a `cloudsqlsuperuser` member, as every API-made user is). */
export const DATABASE_ADMIN_USER = 'scim_bridge_admin';

export interface BridgeDatabaseArgs extends GcpScope {
  readonly network: compute.Network;
  readonly subnetwork: compute.Subnetwork;
  readonly version: string;
  readonly tier: string;
  readonly storageGiB: number;
  readonly backupRetentionDays: number;
  readonly highAvailability: boolean;
  readonly deletionProtection: boolean;
}

export class BridgeDatabase extends pulumi.ComponentResource {
  public readonly instance: sql.DatabaseInstance;
  public readonly database: sql.Database;
  public readonly adminUser: sql.User;
  /** The administrator's `postgres://` URL with its password (read by the bootstrap job only). */
  public readonly adminUrl: BridgeSecret;
  /** The app role's password (the bootstrap sets it; the service signs in with it). */
  public readonly appPassword: BridgeSecret;
  public readonly endpoint: compute.ForwardingRule;
  public readonly dnsRecord: dns.RecordSet;
  /** The DNS name the bridge connects to (no trailing dot); the server certificate names it. */
  public readonly host: pulumi.Output<string>;
  /** The PEM CAs that sign the server certificate. */
  public readonly caBundle: pulumi.Output<string>;
  /** The app's URL without its password (the password comes from `appPassword`, as PGPASSWORD). */
  public readonly appUrl: pulumi.Output<string>;

  constructor(name: string, args: BridgeDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:gcp:Database', name, {}, opts);
    const { project, region, deletionProtection: keep } = args;
    const child = childOptions(this, opts);

    this.instance = new sql.DatabaseInstance(
      name,
      {
        project,
        region,
        name: args.resourceName,
        databaseVersion: `POSTGRES_${args.version}`,
        // The provider's own guard, beside the API's (settings.deletionProtectionEnabled) and Pulumi's (protect).
        deletionProtection: keep,
        settings: {
          // Enterprise Plus (which new PostgreSQL 16+ instances may default to) has no small tiers.
          edition: 'ENTERPRISE',
          tier: args.tier,
          availabilityType: args.highAvailability ? 'REGIONAL' : 'ZONAL',
          diskType: 'PD_SSD',
          diskSize: args.storageGiB,
          diskAutoresize: true,
          deletionProtectionEnabled: keep,
          // What a restore needs outlives the instance while the data is protected.
          retainBackupsOnDelete: keep,
          backupConfiguration: {
            enabled: true,
            pointInTimeRecoveryEnabled: true,
            transactionLogRetentionDays: Math.min(args.backupRetentionDays, 7),
            startTime: '03:00',
            backupRetentionSettings: { retainedBackups: args.backupRetentionDays, retentionUnit: 'COUNT' },
          },
          ipConfiguration: {
            ipv4Enabled: false,
            pscConfigs: [{ pscEnabled: true, allowedConsumerProjects: [project] }],
            sslMode: 'ENCRYPTED_ONLY',
            serverCaMode: 'GOOGLE_MANAGED_CAS_CA',
          },
          maintenanceWindow: { day: 7, hour: 3, updateTrack: 'stable' },
          insightsConfig: { queryInsightsEnabled: true },
          userLabels: args.labels,
        },
      },
      { ...child, protect: keep },
    );
    // Deleted with the instance; when the data is not protected nothing of the database layer blocks a destroy.
    const withInstance: pulumi.CustomResourceOptions = { ...child, deletedWith: this.instance };
    const deletionPolicy = keep ? 'PREVENT' : 'ABANDON';
    this.database = new sql.Database(
      name,
      { project, instance: this.instance.name, name: DATABASE_NAMES.database, deletionPolicy },
      { ...withInstance, protect: keep },
    );

    const adminPassword = new random.RandomPassword(`${name}-admin`, { length: 40, special: false }, child);
    this.adminUser = new sql.User(
      `${name}-admin`,
      { project, instance: this.instance.name, name: DATABASE_ADMIN_USER, password: adminPassword.result, deletionPolicy },
      withInstance,
    );
    const appPassword = new random.RandomPassword(`${name}-app`, { length: 40, special: false }, child);

    // The Private Service Connect endpoint in the bridge's subnet, and the instance's DNS name resolving to it.
    const address = new compute.Address(
      `${name}-psc`,
      { project, region, name: pulumi.interpolate`${args.resourceName}-db`, addressType: 'INTERNAL', subnetwork: args.subnetwork.id, labels: args.labels },
      child,
    );
    this.endpoint = new compute.ForwardingRule(
      `${name}-psc`,
      {
        project,
        region,
        name: pulumi.interpolate`${args.resourceName}-db`,
        loadBalancingScheme: '',
        network: args.network.id,
        ipAddress: address.id,
        target: this.instance.pscServiceAttachmentLink,
        labels: args.labels,
      },
      child,
    );
    this.host = pulumi.all([this.instance.dnsNames, this.instance.dnsName]).apply(([names, legacy]) => pscDnsName(names, legacy));
    const zone = new dns.ManagedZone(
      `${name}-dns`,
      {
        project,
        name: pulumi.interpolate`${args.resourceName}-db`,
        dnsName: this.host.apply(absoluteName),
        visibility: 'private',
        privateVisibilityConfig: { networks: [{ networkUrl: args.network.id }] },
        description: 'SCIM bridge: the Cloud SQL instance name its server certificate carries',
        labels: args.labels,
      },
      child,
    );
    this.dnsRecord = new dns.RecordSet(
      `${name}-dns`,
      { project, managedZone: zone.name, name: zone.dnsName, type: 'A', ttl: 300, rrdatas: [address.address] },
      child,
    );
    // Every CA the instance trusts now and next, read on each run: a rotation prepared by Google (or by
    // `gcloud sql ssl server-ca-certs add`) reaches the bridge at the next `pulumi up`, without a refresh.
    this.caBundle = sql.getCaCertsOutput({ project, instance: this.instance.name }, { parent: this }).certs.apply(caBundle);

    this.appUrl = this.host.apply((host) => postgresUrl(DATABASE_NAMES.user, host, DATABASE_NAMES.database));
    this.adminUrl = new BridgeSecret(
      `${name}-admin-url`,
      {
        project,
        secretId: pulumi.interpolate`${args.resourceName}-db-admin-url`,
        data: pulumi
          .all([this.host, adminPassword.result])
          .apply(([host, password]) => postgresUrl(DATABASE_ADMIN_USER, host, DATABASE_NAMES.database, password)),
        labels: args.labels,
      },
      child,
    );
    this.appPassword = new BridgeSecret(
      `${name}-app-password`,
      { project, secretId: pulumi.interpolate`${args.resourceName}-db-password`, data: appPassword.result, labels: args.labels },
      child,
    );
    this.registerOutputs({ host: this.host, connectionName: this.instance.connectionName });
  }
}
