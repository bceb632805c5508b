/**
 * The vocabulary every cloud shares. Each platform's props (CDK) or args (Pulumi) extend `ScimBridgeBaseArgs`,
 * the way `aws-ecs-patterns` platform props extend their base props: the same thing has the same name, the same
 * unit and the same default on all four clouds. What only one platform has (a VPC, a resource group, a front door,
 * the secret and image types of its SDK) is declared by that platform.
 *
 * Values are plain so CDK and Pulumi can both pass them; a CDK token or a Pulumi output may stand in for a number
 * or a string, and validation skips what is not known yet (see resolve.ts).
 */
import { BRIDGE_SIZING } from '../../contract';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** `email`: userName is the person's email address (the product's rule). `any`: any non-empty string. */
export type UsernameFormat = 'email' | 'any';
export const USERNAME_FORMATS: readonly UsernameFormat[] = ['email', 'any'];
/** What the bridge does with a SCIM extension that is not declared (SCIM_UNDECLARED_EXTENSIONS). */
export type UndeclaredExtensions = 'refuse' | 'keep';
export const UNDECLARED_EXTENSIONS: readonly UndeclaredExtensions[] = ['refuse', 'keep'];

/** PostgreSQL major versions the bridge is tested against and every cloud's managed service offers. */
export const POSTGRES_VERSIONS = ['15', '16', '17'] as const;
export type PostgresVersion = (typeof POSTGRES_VERSIONS)[number];

export interface BridgeDatabaseArgs {
  /**
   * PostgreSQL major version.
   * @default '17'
   */
  readonly version?: PostgresVersion;

  /**
   * The platform's size name for the database (RDS instance class `t4g.micro`, Cloud SQL tier `db-custom-1-3840`,
   * DigitalOcean slug `db-s-1vcpu-2gb`, Azure SKU `Standard_B1ms`).
   * @default - the platform's smallest size with an SLA (see the platform's docs/<cloud>.md)
   */
  readonly size?: string;

  /**
   * Initial storage in GiB.
   * @default - the platform's smallest supported size
   */
  readonly storageGiB?: number;

  /**
   * Days of automated backups (point-in-time recovery where the platform offers it), 1 to 35.
   * @default 7
   */
  readonly backupRetentionDays?: number;

  /**
   * A standby in a second zone that takes over on failure (about doubles the database's cost).
   * @default false
   */
  readonly highAvailability?: boolean;
}

/** Pulls people and groups from Google Workspace's Directory API (the credentials are a platform secret). */
export interface GoogleWorkspaceArgs {
  /** The Workspace administrator the service account acts for (domain-wide delegation). */
  readonly adminEmail: string;
  /** Group e-mail addresses whose members are provisioned (nested groups are flattened). */
  readonly groups: readonly string[];
  /**
   * Seconds between syncs.
   * @default 600
   */
  readonly syncIntervalSeconds?: number;
  /**
   * The Directory API root.
   * @default 'https://admin.googleapis.com'
   */
  readonly directoryUrl?: string;
}

/** One endpoint the change feed delivers signed webhooks to (declared in the stack: GitOps). */
export interface WebhookEndpointArgs {
  /** Its name, the key of its signing secret in `webhookSecrets` (letters, digits, `-` and `_`). */
  readonly name: string;
  /** An https:// URL. */
  readonly url: string;
  /** Event types or patterns it receives, e.g. `user.*`. @default every event */
  readonly events?: readonly string[];
}

/** The deprovisioning guard: a burst of deprovisioning is held for an operator. Unset fields keep the bridge's defaults. */
export interface DeprovisionGuardArgs {
  /** People deprovisioned within the window that start a hold (0: off). @default 50 (the bridge's) */
  readonly count?: number;
  /** Percent of active users deprovisioned within the window that start a hold (0: off). @default 10 */
  readonly percent?: number;
  /** The window, in seconds. @default 900 */
  readonly windowSeconds?: number;
  /** Seconds a deprovisioning change waits before delivery, so a burst is held whole (0: none). @default 60 */
  readonly settleSeconds?: number;
}

/**
 * The endpoints' signing secrets, as JSON `{"<endpoint name>":"whsec_…"}`. A secret: each platform declares it with its
 * own secret type (a Pulumi secret, a CDK secret) under this one key, and keeps it in its secret store like the
 * scimsession, never as a plain value.
 */
export interface WebhookSecretsArg<Secret> {
  readonly webhookSecrets?: Secret;
}

/**
 * What the last deploy of this stack chose, read back from its own outputs (the Pulumi stacks read it through a
 * reference to themselves): a second run keeps what the first one chose, unless the user asks for a change the provider
 * allows. Output names: PREVIOUS_DEPLOYMENT_OUTPUTS.
 */
export interface PreviousDeployment {
  /** The PostgreSQL major version the database runs. */
  readonly databaseVersion?: string;
  /** The platform's size name the database runs on (where the kit picks one when `database.size` is unset). */
  readonly databaseSize?: string;
}

/** The stack outputs a PreviousDeployment is read from, the same on every Pulumi cloud. */
export const PREVIOUS_DEPLOYMENT_OUTPUTS = { databaseVersion: 'databaseVersion', databaseSize: 'databaseSize' } as const;

export interface ScimBridgeBaseArgs {
  /** Public host name identity providers call, e.g. `scim.example.com` (no scheme, no trailing dot). */
  readonly domain: string;

  /**
   * Fewest replicas; two keep a deploy or a zone outage from interrupting provisioning.
   * @default BRIDGE_SIZING.minReplicas (2)
   */
  readonly minReplicas?: number;

  /**
   * Most replicas autoscaling may run; equal to `minReplicas` for a fixed count.
   * @default max(BRIDGE_SIZING.maxReplicas, minReplicas)
   */
  readonly maxReplicas?: number;

  /**
   * vCPU per replica (the platform rounds to a size it offers, or refuses one it does not).
   * @default BRIDGE_SIZING.cpu (0.5), or the platform's minimum when that is higher
   */
  readonly cpu?: number;

  /**
   * Memory per replica in MiB.
   * @default BRIDGE_SIZING.memoryMiB (1024)
   */
  readonly memoryMiB?: number;

  /**
   * Average CPU utilisation (percent) above which the platform adds a replica, where it scales on CPU.
   * @default BRIDGE_SIZING.targetCpuPercent (60)
   */
  readonly targetCpuPercent?: number;

  /**
   * Concurrent requests per replica above which the platform adds a replica, where it scales on requests.
   * @default BRIDGE_SIZING.targetConcurrentRequests (50)
   */
  readonly targetConcurrentRequests?: number;

  /**
   * Email domains that may be provisioned (SCIM_ALLOWED_DOMAINS).
   * @default [] (any domain)
   */
  readonly allowedDomains?: readonly string[];

  /**
   * The bridge's log level (LOG_LEVEL).
   * @default 'info'
   */
  readonly logLevel?: LogLevel;

  /**
   * What a `userName` must look like (SCIM_USERNAME_FORMAT).
   * @default 'email'
   */
  readonly usernameFormat?: UsernameFormat;

  /**
   * Custom attributes: SCIM schema extensions as RFC 7643 §7 schema definitions (SCIM_SCHEMA_EXTENSIONS). The bridge
   * checks them whole when it starts; here only their shape is checked.
   * @default none
   */
  readonly schemaExtensions?: readonly Readonly<Record<string, unknown>>[];

  /**
   * What the bridge does with an extension that is not declared (SCIM_UNDECLARED_EXTENSIONS).
   * @default 'refuse' (400 naming the URN)
   */
  readonly undeclaredExtensions?: UndeclaredExtensions;

  /**
   * Days provisioning events are kept (SCIM_EVENT_RETENTION_DAYS); 0 keeps them forever.
   * @default 90
   */
  readonly eventRetentionDays?: number;

  /** The managed PostgreSQL the replicas share. */
  readonly database?: BridgeDatabaseArgs;

  /**
   * Protect the data: the database (and what its recovery needs) refuses deletion and survives a replacement.
   * Turn it off, and deploy once, before a `destroy` that should remove everything.
   * @default true
   */
  readonly deletionProtection?: boolean;

  /** The change feed's webhook endpoints (SCIM_WEBHOOKS); their signing secrets are `webhookSecrets`. @default none */
  readonly webhooks?: readonly WebhookEndpointArgs[];

  /** The deprovisioning guard (SCIM_DEPROVISION_*). @default the bridge's defaults */
  readonly deprovisionGuard?: DeprovisionGuardArgs;

  /** Pull people and groups from Google Workspace as well as (or instead of) receiving SCIM. @default none */
  readonly googleWorkspace?: GoogleWorkspaceArgs;

  /**
   * Docker build context of the bridge image, when the platform builds it.
   * @default the repository root
   */
  readonly buildContext?: string;

  /**
   * Dockerfile, relative to `buildContext`.
   * @default BRIDGE_IMAGE.dockerfile ('bridge/Dockerfile')
   */
  readonly dockerfile?: string;

  /**
   * What the last deploy of this stack chose (a Pulumi stack reads its own outputs). With it an unset
   * `database.version` keeps the running version instead of following the kit's default, and a version below the
   * running one is refused: no managed PostgreSQL downgrades in place.
   * @default none (a first deploy)
   */
  readonly previousDeployment?: PreviousDeployment;

  /**
   * Tags (labels) added to every resource that takes them, besides `app: scim-bridge`.
   * @default {}
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Defaults applied once, by resolveBridgeArgs. */
export const BASE_DEFAULTS = {
  minReplicas: BRIDGE_SIZING.minReplicas,
  maxReplicas: BRIDGE_SIZING.maxReplicas,
  cpu: BRIDGE_SIZING.cpu,
  memoryMiB: BRIDGE_SIZING.memoryMiB,
  targetCpuPercent: BRIDGE_SIZING.targetCpuPercent,
  targetConcurrentRequests: BRIDGE_SIZING.targetConcurrentRequests,
  logLevel: 'info' as LogLevel,
  usernameFormat: 'email' as UsernameFormat,
  eventRetentionDays: 90,
  deletionProtection: true,
  database: { version: '17' as PostgresVersion, backupRetentionDays: 7, highAvailability: false },
  googleSyncIntervalSeconds: 600,
  googleDirectoryUrl: 'https://admin.googleapis.com',
  /** Every resource carries it, so a bill or an inventory can be filtered by it. */
  appTag: { app: 'scim-bridge' },
} as const;
