/**
 * The store: a Managed PostgreSQL cluster in the app's VPC, the bridge's own database and login role, the
 * trusted sources that admit only the app, and a CPU alert. Protected by default: a destroy or a change that would
 * replace the cluster is refused while `deletionProtection` is on; with it off, the database and role go with the
 * cluster (`deletedWith`), since DigitalOcean cannot drop a role that still owns the bridge's tables.
 */
import * as digitalocean from '@pulumi/digitalocean';
import * as pulumi from '@pulumi/pulumi';
import { DATABASE_NAMES, DATABASE_SSLMODE } from '../common';
import { componentType, formerTypes } from '../pulumi';
import { tagList } from './platform';

/** The app spec's database component; its bind variables are `${db.PASSWORD}`, `${db.CA_CERT}` and so on. */
export const DATABASE_COMPONENT = 'db';

export const bindVariable = (name: 'PASSWORD' | 'CA_CERT' | 'USERNAME' | 'HOSTNAME' | 'PORT' | 'DATABASE') => `\${${DATABASE_COMPONENT}.${name}}`;

export interface BridgeDatabaseArgs {
  readonly region: string;
  readonly version: string;
  readonly size: string;
  readonly nodeCount: number;
  readonly storageGiB?: number;
  readonly vpcId?: pulumi.Input<string>;
  readonly projectId?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly protect: boolean;
  readonly alertEmails: readonly string[];
  readonly cpuAlertPercent: number;
}

/** `postgresql://user[:password]@host:port/database?sslmode=verify-full`, each part encoded. */
export function postgresUrl(parts: { user: string; password?: string; host: string; port: number; database: string }): string {
  const auth = encodeURIComponent(parts.user) + (parts.password === undefined ? '' : `:${encodeURIComponent(parts.password)}`);
  return `postgresql://${auth}@${parts.host}:${parts.port}/${encodeURIComponent(parts.database)}?sslmode=${DATABASE_SSLMODE}`;
}

export class BridgeDatabase extends pulumi.ComponentResource {
  public readonly cluster: digitalocean.DatabaseCluster;
  public readonly database: digitalocean.DatabaseDb;
  public readonly user: digitalocean.DatabaseUser;
  public readonly cpuAlert?: digitalocean.MonitorAlert;
  public firewall?: digitalocean.DatabaseFirewall;
  /** The VPC the cluster is in: the app joins it. */
  public readonly vpcId: pulumi.Output<string>;
  /**
   * The bridge role's URL over the private host, without its password (App Platform supplies `${db.PASSWORD}` as
   * PGPASSWORD at deploy time, so it never passes through Pulumi). Not secret.
   */
  public readonly appUrl: pulumi.Output<string>;
  /** The cluster administrator's (doadmin) URL for the app's database, for the bootstrap job only. Secret. */
  public readonly adminUrl: pulumi.Output<string>;

  private readonly name: string;
  private readonly formerParent: pulumi.Resource;

  constructor(name: string, args: BridgeDatabaseArgs, opts: pulumi.ComponentResourceOptions & { parent: pulumi.Resource }) {
    // Named BridgeDatabase until 2026-12: the alias keeps the cluster in place.
    super(componentType('digitalocean', 'Database'), name, {}, formerTypes(opts, 'scim-bridge:digitalocean:BridgeDatabase'));
    this.name = name;
    this.formerParent = opts.parent;
    // Until 2026-12 these were children of ScimBridgeDigitalOcean itself: the aliases keep them (no replacement).
    const moved = { parent: this, aliases: [{ parent: opts.parent }] };

    this.cluster = new digitalocean.DatabaseCluster(
      `${name}-pg`,
      {
        engine: 'pg',
        version: args.version,
        region: args.region,
        size: args.size,
        nodeCount: args.nodeCount,
        storageSizeMib: args.storageGiB === undefined ? undefined : String(args.storageGiB * 1024),
        privateNetworkUuid: args.vpcId,
        projectId: args.projectId,
        tags: tagList(args.tags),
      },
      { ...moved, protect: args.protect },
    );
    const withCluster = { ...moved, protect: args.protect, deletedWith: this.cluster };
    this.database = new digitalocean.DatabaseDb(`${name}-db`, { clusterId: this.cluster.id, name: DATABASE_NAMES.database }, withCluster);
    // Its own role, not the cluster's doadmin. DigitalOcean makes API users with minimal rights (on PostgreSQL 15 not
    // even CREATE on schema public): the PRE_DEPLOY job grants what the bridge needs.
    this.user = new digitalocean.DatabaseUser(`${name}-db-user`, { clusterId: this.cluster.id, name: DATABASE_NAMES.user }, withCluster);

    this.vpcId = this.cluster.privateNetworkUuid;
    this.appUrl = pulumi
      .all([this.cluster.privateHost, this.cluster.port, this.user.name, this.database.name])
      .apply(([host, port, user, database]) => postgresUrl({ user, host, port, database }));
    this.adminUrl = pulumi.secret(
      pulumi
        .all([this.cluster.privateHost, this.cluster.port, this.cluster.user, this.cluster.password, this.database.name])
        .apply(([host, port, user, password, database]) => postgresUrl({ user, password, host, port, database })),
    );

    if (args.alertEmails.length) {
      this.cpuAlert = new digitalocean.MonitorAlert(
        `${name}-pg-cpu`,
        {
          type: 'v1/dbaas/alerts/cpu_alerts',
          compare: 'GreaterThan',
          value: args.cpuAlertPercent,
          window: '10m',
          entities: [this.cluster.id],
          alerts: { emails: [...args.alertEmails] },
          description: `SCIM bridge database CPU above ${args.cpuAlertPercent}%`,
          enabled: true,
        },
        moved,
      );
    }
    this.registerOutputs({ cluster: this.cluster.name, vpcId: this.vpcId, appUrl: this.appUrl });
  }

  /** Trusted sources: the app and nothing else (it replaces any rule added by hand). */
  admit(appId: pulumi.Input<string>): digitalocean.DatabaseFirewall {
    this.firewall = new digitalocean.DatabaseFirewall(
      `${this.name}-pg-firewall`,
      { clusterId: this.cluster.id, rules: [{ type: 'app', value: appId }] },
      { parent: this, aliases: [{ parent: this.formerParent }], deletedWith: this.cluster },
    );
    return this.firewall;
  }
}
