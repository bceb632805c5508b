/**
 * Defaults applied once and every shared arg checked once, for all four clouds. A problem names the arg
 * (`ScimBridgeGcp: maxReplicas must be ...`); a value not known yet (a CDK token such as a CfnParameter, a Pulumi
 * output) is passed through unchecked rather than refused, as CDK's own constructs do.
 */
import {
  type BridgeDatabaseArgs,
  type DeprovisionGuardArgs,
  type GoogleWorkspaceArgs,
  type LogLevel,
  type PostgresVersion,
  type PreviousDeployment,
  type ScimBridgeBaseArgs,
  type UndeclaredExtensions,
  type UsernameFormat,
  type WebhookEndpointArgs,
  BASE_DEFAULTS,
  LOG_LEVELS,
  POSTGRES_VERSIONS,
  UNDECLARED_EXTENSIONS,
  USERNAME_FORMATS,
} from './args';

/** A shared arg with a value no cloud accepts. The message names the component and the arg. */
export class ArgError extends Error {
  constructor(
    readonly component: string,
    readonly arg: string,
    /** What is wrong, without the component and the arg (a stack puts its config key in front instead). */
    readonly problem: string,
  ) {
    super(`${component}: ${arg} ${problem}`);
    this.name = 'ArgError';
  }
}

export interface PlatformRules {
  /** Named in every message, e.g. `ScimBridge` (CDK) or `ScimBridgeAzure`. */
  readonly component: string;
  /** True for a value not known until deploy (CDK: `Token.isUnresolved`; Pulumi: an Output or a Promise). */
  readonly isUnresolved: (value: unknown) => boolean;
  /** The platform's ceiling for maxReplicas (Cloud Run and Container Apps allow more than App Platform). @default 100 */
  readonly maxReplicasCeiling?: number;
  /** The platform's smallest vCPU per replica; the default CPU is raised to it. @default 0.25 */
  readonly minCpu?: number;
  /** The platform needs at least one replica running (no scale to zero). @default false */
  readonly requiresOneReplica?: boolean;
}

export interface ResolvedDatabaseArgs {
  readonly version: PostgresVersion;
  readonly size?: string;
  readonly storageGiB?: number;
  readonly backupRetentionDays: number;
  readonly highAvailability: boolean;
}

export interface ResolvedGoogleWorkspace {
  readonly adminEmail: string;
  readonly groups: readonly string[];
  readonly syncIntervalSeconds: number;
  readonly directoryUrl: string;
}

/** Every shared arg with its default applied: what the platforms build from. */
export interface ResolvedBridgeArgs {
  readonly domain: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly targetCpuPercent: number;
  readonly targetConcurrentRequests: number;
  readonly allowedDomains: readonly string[];
  readonly logLevel: LogLevel;
  readonly usernameFormat: UsernameFormat;
  /** The declared extensions as the JSON the bridge reads, or undefined when none are declared. */
  readonly schemaExtensions?: string;
  readonly undeclaredExtensions?: UndeclaredExtensions;
  readonly eventRetentionDays: number;
  readonly database: ResolvedDatabaseArgs;
  readonly deletionProtection: boolean;
  readonly googleWorkspace?: ResolvedGoogleWorkspace;
  readonly webhooks: readonly WebhookEndpointArgs[];
  readonly deprovisionGuard: DeprovisionGuardArgs;
  readonly buildContext?: string;
  readonly dockerfile?: string;
  /** `app: scim-bridge` plus the given tags. */
  readonly tags: Readonly<Record<string, string>>;
}

/** Each extension is an object with a URN `id` and attributes; the bridge checks the rest when it starts. */
function resolveSchemaExtensions(check: Checker, extensions: ScimBridgeBaseArgs['schemaExtensions']): string | undefined {
  if (extensions === undefined || check.unresolved(extensions)) return undefined;
  if (!Array.isArray(extensions)) check.fail('schemaExtensions', 'must be an array of SCIM schema definitions (RFC 7643 §7)');
  extensions.forEach((extension, i) => {
    const id = extension?.id;
    if (typeof id !== 'string' || !/^urn:/i.test(id))
      check.fail(`schemaExtensions[${i}].id`, `must be the extension's URN, e.g. "urn:ietf:params:scim:schemas:extension:acme:2.0:User"`);
    if (!Array.isArray(extension.attributes) || extension.attributes.length === 0) check.fail(`schemaExtensions[${i}].attributes`, 'must be a non-empty array');
  });
  return extensions.length ? JSON.stringify(extensions) : undefined;
}

/** A DNS host name such as scim.example.com: lower case, labels of 1–63 characters, no scheme or trailing dot. */
export const HOSTNAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
/** An email domain for the allow-list (a host name; a leading @ is tolerated and dropped). */
const EMAIL_DOMAIN = HOSTNAME;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function resolveBridgeArgs(args: ScimBridgeBaseArgs, rules: PlatformRules): ResolvedBridgeArgs {
  const check = new Checker(rules);
  const minCpu = rules.minCpu ?? 0.25;
  const ceiling = rules.maxReplicasCeiling ?? 100;

  const domain = check.string(
    'domain',
    args.domain,
    (v) => HOSTNAME.test(v),
    'must be a host name such as scim.example.com (lower case, no scheme, no trailing dot)',
  );
  const minReplicas = check.integer('minReplicas', args.minReplicas ?? BASE_DEFAULTS.minReplicas, rules.requiresOneReplica ? 1 : 0, ceiling);
  const maxReplicas = check.integer('maxReplicas', args.maxReplicas ?? Math.max(BASE_DEFAULTS.maxReplicas, known(rules, minReplicas) ?? 0), 1, ceiling);
  if (known(rules, minReplicas) !== undefined && known(rules, maxReplicas) !== undefined && maxReplicas < minReplicas) {
    check.fail('maxReplicas', `must be at least minReplicas (${minReplicas}), got ${maxReplicas}`);
  }
  const cpu = check.number('cpu', args.cpu ?? Math.max(BASE_DEFAULTS.cpu, minCpu), minCpu, 64);
  const memoryMiB = check.integer('memoryMiB', args.memoryMiB ?? BASE_DEFAULTS.memoryMiB, 256, 262_144);
  const targetCpuPercent = check.integer('targetCpuPercent', args.targetCpuPercent ?? BASE_DEFAULTS.targetCpuPercent, 10, 95);
  const targetConcurrentRequests = check.integer('targetConcurrentRequests', args.targetConcurrentRequests ?? BASE_DEFAULTS.targetConcurrentRequests, 1, 1000);
  const allowedDomains = (args.allowedDomains ?? []).map((d, i) =>
    check.string(
      `allowedDomains[${i}]`,
      typeof d === 'string' ? d.trim().toLowerCase().replace(/^@/, '') : d,
      (v) => EMAIL_DOMAIN.test(v),
      `must be an email domain such as example.com (got "${d}")`,
    ),
  );
  const logLevel = check.oneOf('logLevel', args.logLevel ?? BASE_DEFAULTS.logLevel, LOG_LEVELS);
  const usernameFormat = check.oneOf('usernameFormat', args.usernameFormat ?? BASE_DEFAULTS.usernameFormat, USERNAME_FORMATS);
  const schemaExtensions = resolveSchemaExtensions(check, args.schemaExtensions);
  const undeclaredExtensions =
    args.undeclaredExtensions === undefined ? undefined : check.oneOf('undeclaredExtensions', args.undeclaredExtensions, UNDECLARED_EXTENSIONS);
  const eventRetentionDays = check.integer('eventRetentionDays', args.eventRetentionDays ?? BASE_DEFAULTS.eventRetentionDays, 0, 36_500);
  const deletionProtection = check.boolean('deletionProtection', args.deletionProtection ?? BASE_DEFAULTS.deletionProtection);
  const tags = resolveTags(check, args.tags);

  return {
    domain,
    minReplicas,
    maxReplicas,
    cpu,
    memoryMiB,
    targetCpuPercent,
    targetConcurrentRequests,
    allowedDomains,
    logLevel,
    usernameFormat,
    schemaExtensions,
    undeclaredExtensions,
    eventRetentionDays,
    database: resolveDatabase(check, args.database ?? {}, args.previousDeployment),
    deletionProtection,
    googleWorkspace: args.googleWorkspace ? resolveGoogle(check, args.googleWorkspace) : undefined,
    webhooks: resolveWebhooks(check, args.webhooks ?? []),
    deprovisionGuard: resolveGuard(check, args.deprovisionGuard ?? {}),
    buildContext: args.buildContext,
    dockerfile: args.dockerfile,
    tags,
  };
}

/**
 * The version to run: the given one, else the one the database already runs (so a new default of the kit never
 * upgrades a database nobody asked to upgrade), else the default. A version below the running one is refused: RDS,
 * Cloud SQL, DigitalOcean and Azure upgrade a major version in place but none downgrades one.
 */
function databaseVersion(check: Checker, given: PostgresVersion | undefined, previous: string | undefined): PostgresVersion {
  const running = previous !== undefined && (POSTGRES_VERSIONS as readonly string[]).includes(previous) ? (previous as PostgresVersion) : undefined;
  const version = check.oneOf('database.version', given ?? running ?? BASE_DEFAULTS.database.version, POSTGRES_VERSIONS);
  if (running !== undefined && !check.unresolved(version) && Number(version) < Number(running)) {
    check.fail(
      'database.version',
      `is ${version}, but the database runs PostgreSQL ${running}: no managed PostgreSQL downgrades a major version in place; keep ${running}, or restore a dump into a new stack`,
    );
  }
  return version;
}

function resolveDatabase(check: Checker, db: BridgeDatabaseArgs, previous: PreviousDeployment | undefined): ResolvedDatabaseArgs {
  return {
    version: databaseVersion(check, db.version, previous?.databaseVersion),
    size: db.size === undefined ? undefined : check.string('database.size', db.size, (v) => v.trim() !== '', 'must not be empty'),
    storageGiB: db.storageGiB === undefined ? undefined : check.integer('database.storageGiB', db.storageGiB, 10, 65_536),
    backupRetentionDays: check.integer('database.backupRetentionDays', db.backupRetentionDays ?? BASE_DEFAULTS.database.backupRetentionDays, 1, 35),
    highAvailability: check.boolean('database.highAvailability', db.highAvailability ?? BASE_DEFAULTS.database.highAvailability),
  };
}

function resolveGoogle(check: Checker, google: GoogleWorkspaceArgs): ResolvedGoogleWorkspace {
  const groups = google.groups ?? [];
  if (!check.unresolved(groups) && groups.length === 0) check.fail('googleWorkspace.groups', 'must name at least one group e-mail address');
  return {
    adminEmail: check.string('googleWorkspace.adminEmail', google.adminEmail, (v) => EMAIL.test(v), 'must be the e-mail address of a Workspace administrator'),
    groups: groups.map((g, i) => check.string(`googleWorkspace.groups[${i}]`, g, (v) => EMAIL.test(v), 'must be a group e-mail address')),
    syncIntervalSeconds: check.integer(
      'googleWorkspace.syncIntervalSeconds',
      google.syncIntervalSeconds ?? BASE_DEFAULTS.googleSyncIntervalSeconds,
      60,
      86_400,
    ),
    directoryUrl: check.string(
      'googleWorkspace.directoryUrl',
      google.directoryUrl ?? BASE_DEFAULTS.googleDirectoryUrl,
      (v) => /^https:\/\/[^\s/]+/.test(v),
      'must be an https:// URL',
    ),
  };
}

const ENDPOINT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function resolveWebhooks(check: Checker, webhooks: readonly WebhookEndpointArgs[]): WebhookEndpointArgs[] {
  const names = new Set<string>();
  return webhooks.map((w, i) => {
    const name = check.string(
      `webhooks[${i}].name`,
      w?.name,
      (v) => ENDPOINT_NAME.test(v),
      'must be 1 to 64 letters, digits, - or _ (the key of its signing secret in webhookSecrets)',
    );
    if (names.has(name)) check.fail(`webhooks[${i}].name`, `repeats "${name}": each endpoint needs a name of its own`);
    names.add(name);
    const url = check.string(`webhooks[${i}].url`, w.url, (v) => /^https:\/\/[^\s/]+/.test(v), 'must be an https:// URL');
    const events = (w.events ?? []).map((e, j) =>
      check.string(`webhooks[${i}].events[${j}]`, e, (v) => /^[a-z*][a-z.*]*$/.test(v), 'must be an event type or pattern such as user.* or group.created'),
    );
    return w.events === undefined ? { name, url } : { name, url, events };
  });
}

/**
 * Declared endpoints and their signing secrets come together: an endpoint without a secret could not sign, a secret
 * without endpoints signs nothing. Each platform calls it with whether its `webhookSecrets` is set.
 */
export function checkWebhookSecrets(component: string, webhooks: readonly WebhookEndpointArgs[], hasSecrets: boolean): void {
  if (webhooks.length > 0 && !hasSecrets)
    throw new ArgError(
      component,
      'webhookSecrets',
      `is required with webhooks: a JSON map of each endpoint's signing secret, {"${webhooks[0].name}":"whsec_..."}, kept a secret`,
    );
  if (webhooks.length === 0 && hasSecrets) throw new ArgError(component, 'webhooks', 'is required with webhookSecrets: the endpoints the secrets sign for');
}

function resolveGuard(check: Checker, guard: DeprovisionGuardArgs): DeprovisionGuardArgs {
  const out: { -readonly [K in keyof DeprovisionGuardArgs]: number } = {};
  if (guard.count !== undefined) out.count = check.integer('deprovisionGuard.count', guard.count, 0, 1_000_000);
  if (guard.percent !== undefined) out.percent = check.number('deprovisionGuard.percent', guard.percent, 0, 100);
  if (guard.windowSeconds !== undefined) out.windowSeconds = check.integer('deprovisionGuard.windowSeconds', guard.windowSeconds, 1, 7 * 86_400);
  if (guard.settleSeconds !== undefined) out.settleSeconds = check.integer('deprovisionGuard.settleSeconds', guard.settleSeconds, 0, 86_400);
  return out;
}

/** Tag keys and values every platform accepts (the strictest of the four: GCP labels), checked here once. */
const TAG_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const TAG_VALUE = /^[a-z0-9_-]{0,63}$/;

function resolveTags(check: Checker, tags: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = { ...BASE_DEFAULTS.appTag };
  for (const [key, value] of Object.entries(tags ?? {})) {
    if (!TAG_KEY.test(key))
      check.fail(`tags.${key}`, 'must be a key of lower-case letters, digits, _ or - starting with a letter (at most 63), so every cloud accepts it');
    out[key] = check.string(`tags.${key}`, value, (v) => TAG_VALUE.test(v), 'must be at most 63 lower-case letters, digits, _ or -, so every cloud accepts it');
  }
  return out;
}

function known<T>(rules: PlatformRules, value: T): T | undefined {
  return rules.isUnresolved(value) ? undefined : value;
}

class Checker {
  constructor(private readonly rules: PlatformRules) {}

  fail(arg: string, problem: string): never {
    throw new ArgError(this.rules.component, arg, problem);
  }

  unresolved(value: unknown): boolean {
    return this.rules.isUnresolved(value);
  }

  string(arg: string, value: string, ok: (v: string) => boolean, problem: string): string {
    if (this.unresolved(value)) return value;
    if (typeof value !== 'string') this.fail(arg, `must be a string, got ${JSON.stringify(value)}`);
    if (!ok(value)) this.fail(arg, problem);
    return value;
  }

  number(arg: string, value: number, min: number, max: number): number {
    if (this.unresolved(value)) return value;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.fail(arg, `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  integer(arg: string, value: number, min: number, max: number): number {
    if (this.unresolved(value)) return value;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(arg, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  boolean(arg: string, value: boolean): boolean {
    if (this.unresolved(value)) return value;
    if (typeof value !== 'boolean') this.fail(arg, `must be true or false, got ${JSON.stringify(value)}`);
    return value;
  }

  oneOf<T extends string>(arg: string, value: T, allowed: readonly T[]): T {
    if (this.unresolved(value)) return value;
    if (!allowed.includes(value)) this.fail(arg, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    return value;
  }
}
