/**
 * PostgreSQL Flexible Server, VNet-integrated (no public endpoint), TLS required, backups on, and its two logins:
 * the server administrator (a member of azure_pg_admin, not a superuser), used only by the bootstrap job, and the
 * app's own role `scim_bridge`, which `scim-bridge db bootstrap` creates with the app's password.
 *
 * With deletionProtection (the default) the server and the database are `protect`ed, so a destroy or a replacement
 * is refused, and optionally a CanNotDelete lock refuses deletion outside Pulumi too. A deleted server takes its
 * backups with it, so nothing short of these guards recovery.
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import * as authorization from '@pulumi/azure-native/authorization';
import * as dbforpostgresql from '@pulumi/azure-native/dbforpostgresql';
import { DATABASE_NAMES, PUBLIC_CA_ROOTS, postgresUrl } from '../common';
import type { AzureContext, ResolvedAzureArgs } from './args';
import type { BridgeNetwork } from './network';
import { POSTGRES_PORT } from './network';

/** The server administrator's login (Azure refuses azure_superuser, admin, root, postgres and pg_* names). */
export const ADMIN_LOGIN = 'scim_admin';

export interface BridgeDatabaseArgs extends AzureContext {
  readonly network: BridgeNetwork;
  readonly resolved: ResolvedAzureArgs;
}

const password = (name: string, parent: pulumi.Resource) =>
  new random.RandomPassword(name, { length: 40, special: false, minLower: 1, minUpper: 1, minNumeric: 1 }, { parent });

export class BridgeDatabase extends pulumi.ComponentResource {
  public readonly server: dbforpostgresql.Server;
  public readonly database: dbforpostgresql.Database;
  /** Waited for by everything that connects: TLS stays required. */
  public readonly requireTls: dbforpostgresql.Configuration;
  /** The CanNotDelete lock, when managementLock and deletionProtection are on. */
  public readonly lock?: authorization.ManagementLockByScope;
  /** The app's password (for its Key Vault secret; the bootstrap job sets it on the role). */
  public readonly appPassword: pulumi.Output<string>;
  /** The administrator's URL with its password (for the bootstrap job's Key Vault secret only). */
  public readonly adminUrl: pulumi.Output<string>;
  /** The app's URL, without a password (PGPASSWORD fills it in): verify-full against public roots. */
  public readonly appUrl: pulumi.Output<string>;

  constructor(name: string, args: BridgeDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:azure:Database', name, {}, opts);
    const { resourceGroupName, location, tags, resolved } = args;
    const protect = resolved.deletionProtection;
    const adminPassword = password(`${name}-admin-password`, this).result;
    this.appPassword = pulumi.secret(password(`${name}-app-password`, this).result);
    this.server = new dbforpostgresql.Server(
      `${name}-pg`,
      {
        resourceGroupName,
        location,
        tags,
        serverName: pulumi.interpolate`scim-bridge-${args.suffix}`,
        version: resolved.database.version,
        sku: resolved.db.sku,
        storage: { storageSizeGB: resolved.db.storageGiB, autoGrow: 'Enabled' },
        backup: { backupRetentionDays: resolved.database.backupRetentionDays, geoRedundantBackup: resolved.db.geoRedundantBackup ? 'Enabled' : 'Disabled' },
        highAvailability: { mode: resolved.database.highAvailability ? 'ZoneRedundant' : 'Disabled' },
        // VNet integration: the server lives in its delegated subnet and has no public endpoint at all.
        network: { delegatedSubnetResourceId: args.network.databaseSubnet.id, privateDnsZoneArmResourceId: args.network.databaseDnsZone.id },
        authConfig: { passwordAuth: 'Enabled', activeDirectoryAuth: 'Disabled' },
        administratorLogin: ADMIN_LOGIN,
        administratorLoginPassword: pulumi.secret(adminPassword),
      },
      { parent: this, protect, dependsOn: [args.network.databaseDnsLink] },
    );
    this.database = new dbforpostgresql.Database(
      `${name}-db`,
      { resourceGroupName, serverName: this.server.name, databaseName: DATABASE_NAMES.database, charset: 'UTF8', collation: 'en_US.utf8' },
      { parent: this, protect },
    );
    // On by default; pinned so a portal change shows up as drift.
    this.requireTls = new dbforpostgresql.Configuration(
      `${name}-require-tls`,
      { resourceGroupName, serverName: this.server.name, configurationName: 'require_secure_transport', value: 'on', source: 'user-override' },
      { parent: this, dependsOn: [this.database] },
    );
    if (resolved.lock) {
      this.lock = new authorization.ManagementLockByScope(
        `${name}-lock`,
        {
          scope: this.server.id,
          level: 'CanNotDelete',
          lockName: 'scim-bridge-database',
          notes: 'SCIM bridge data: set deletionProtection false and pulumi up before a destroy',
        },
        { parent: this },
      );
    }
    // Flexible Server certificates name the server's FQDN and chain to public roots (DigiCert Global Root G2,
    // Microsoft RSA Root CA 2017): verify-full with libpq's sslrootcert=system
    // (learn.microsoft.com/azure/postgresql/flexible-server/security-tls).
    const url = (user: string, pw?: pulumi.Input<string>) =>
      pulumi
        .all([this.server.fullyQualifiedDomainName, pw])
        .apply(([host, secret]) =>
          postgresUrl({ host: host!, port: POSTGRES_PORT, database: DATABASE_NAMES.database, user, password: secret, sslrootcert: PUBLIC_CA_ROOTS }),
        );
    this.appUrl = url(DATABASE_NAMES.user);
    this.adminUrl = pulumi.secret(url(ADMIN_LOGIN, adminPassword));
    this.registerOutputs({ host: this.server.fullyQualifiedDomainName });
  }
}
