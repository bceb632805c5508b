/**
 * One reader of the shared settings, for the CDK app (context) and the Pulumi stacks (config): the same keys, parsed the
 * same way, into ScimBridgeBaseArgs. Types are parsed here; ranges and rules are checked once, by resolveBridgeArgs.
 *
 * A source answers a key with what its tool keeps: CDK context a JSON value (cdk.json) or a string (`-c key=value`),
 * Pulumi config a string (a structured value as JSON text). A dotted key (`database.size`) is the flat key itself
 * (`-c database.size=...`) or the field of the object under its first part (`pulumi config set --path`, cdk.json).
 * Every problem goes to `fail` with the key, so each tool names it its own way (`scim-bridge:database.size ...`).
 */
import type { BridgeDatabaseArgs, ScimBridgeBaseArgs } from './args';

export interface SettingsSource {
  /** The value under a key, or undefined when unset. */
  get(key: string): unknown;
}

export type SettingFailure = (key: string, problem: string) => never;

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export class SharedSettings {
  constructor(
    private readonly source: SettingsSource,
    readonly fail: SettingFailure,
  ) {}

  /** The value, with '' and null read as unset. */
  raw(key: string): unknown {
    const flat = this.source.get(key);
    if (flat !== undefined && flat !== null && flat !== '') return typeof flat === 'string' ? flat.trim() || undefined : flat;
    const dot = key.indexOf('.');
    if (dot < 0) return undefined;
    const parent = this.object(key.slice(0, dot));
    const value = parent?.[key.slice(dot + 1)];
    return value === null || value === '' ? undefined : value;
  }

  /** An object of settings (JSON text or a value). */
  object(key: string): Record<string, unknown> | undefined {
    const raw = this.source.get(key);
    if (raw === undefined || raw === null || raw === '') return undefined;
    const value = typeof raw === 'string' ? parseJson(raw) : raw;
    if (!value || typeof value !== 'object' || Array.isArray(value)) this.fail(key, `must be an object (set its fields as ${key}.<field>)`);
    return value as Record<string, unknown>;
  }

  /** A list of objects (a YAML or JSON list). */
  objects(key: string): Record<string, unknown>[] | undefined {
    const raw = this.raw(key);
    if (raw === undefined) return undefined;
    const value = typeof raw === 'string' ? parseJson(raw) : raw;
    if (!Array.isArray(value)) this.fail(key, 'must be a list (a YAML list in the stack file, or a JSON array)');
    if (value.some((v) => !v || typeof v !== 'object' || Array.isArray(v))) this.fail(key, 'must be a list of objects');
    return value as Record<string, unknown>[];
  }

  string(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number') this.fail(key, `must be a string (got ${JSON.stringify(value)})`);
    return String(value);
  }

  /** SCIM schema extensions (RFC 7643 §7 definitions): see schemaDefinitions. */
  schemaDefinitions(key: string): Record<string, unknown>[] | undefined {
    return schemaDefinitions(this.raw(key), (problem) => this.fail(key, problem));
  }

  number(key: string): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    const n = typeof value === 'string' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) this.fail(key, `must be a number (got ${JSON.stringify(value)})`);
    return n;
  }

  boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined || typeof value === 'boolean') return value as boolean | undefined;
    if (value === 'true' || value === 'false') return value === 'true';
    this.fail(key, `must be true or false (got ${JSON.stringify(value)})`);
  }

  /** A list of strings: a JSON array, or a comma-separated string. */
  list(key: string): string[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    let items: unknown = value;
    if (typeof value === 'string') {
      if (!value.startsWith('['))
        return value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      items = parseJson(value);
      if (items === undefined) this.fail(key, `must be a JSON array of strings or a comma-separated list (got "${value}")`);
    }
    if (!Array.isArray(items) || items.some((v) => typeof v !== 'string')) this.fail(key, 'must be an array of strings');
    return items as string[];
  }

  /** An object of strings (tags). */
  map(key: string): Record<string, string> | undefined {
    const value = this.object(key);
    return value && Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
  }
}

/** An object of settings, or undefined when none of its fields is set (so a default applies as a whole). */
function some<T extends Record<string, unknown>>(fields: T): T | undefined {
  return Object.values(fields).some((v) => v !== undefined) ? fields : undefined;
}

/** The shared args under the names every cloud uses. */
export function readSharedSettings(s: SharedSettings): ScimBridgeBaseArgs {
  const adminEmail = s.string('googleWorkspace.adminEmail');
  const google = s.object('googleWorkspace') ?? (adminEmail === undefined ? undefined : {});
  return {
    domain: (s.string('domain') ?? s.fail('domain', 'is required: the host name identity providers will call, e.g. scim.example.com')).toLowerCase(),
    minReplicas: s.number('minReplicas'),
    maxReplicas: s.number('maxReplicas'),
    cpu: s.number('cpu'),
    memoryMiB: s.number('memoryMiB'),
    targetCpuPercent: s.number('targetCpuPercent'),
    targetConcurrentRequests: s.number('targetConcurrentRequests'),
    allowedDomains: s.list('allowedDomains'),
    logLevel: s.string('logLevel') as ScimBridgeBaseArgs['logLevel'],
    usernameFormat: s.string('usernameFormat') as ScimBridgeBaseArgs['usernameFormat'],
    eventRetentionDays: s.number('eventRetentionDays'),
    deletionProtection: s.boolean('deletionProtection'),
    database: some({
      version: s.string('database.version') as BridgeDatabaseArgs['version'],
      size: s.string('database.size'),
      storageGiB: s.number('database.storageGiB'),
      backupRetentionDays: s.number('database.backupRetentionDays'),
      highAvailability: s.boolean('database.highAvailability'),
    }),
    googleWorkspace: google && {
      adminEmail: adminEmail ?? '',
      groups: s.list('googleWorkspace.groups') ?? [],
      syncIntervalSeconds: s.number('googleWorkspace.syncIntervalSeconds'),
      directoryUrl: s.string('googleWorkspace.directoryUrl'),
    },
    tags: s.map('tags'),
    webhooks: s.objects('webhooks')?.map((w, i) => {
      const events = w.events;
      return {
        name: typeof w.name === 'string' ? w.name : s.fail(`webhooks[${i}].name`, 'is required: the endpoint’s name (the key of its signing secret)'),
        url: typeof w.url === 'string' ? w.url : s.fail(`webhooks[${i}].url`, 'is required: an https:// URL'),
        events: Array.isArray(events)
          ? events.map(String)
          : typeof events === 'string'
            ? events
                .split(',')
                .map((e) => e.trim())
                .filter(Boolean)
            : undefined,
      };
    }),
    deprovisionGuard: some({
      count: s.number('deprovisionGuard.count'),
      percent: s.number('deprovisionGuard.percent'),
      windowSeconds: s.number('deprovisionGuard.windowSeconds'),
      settleSeconds: s.number('deprovisionGuard.settleSeconds'),
    }),
    schemaExtensions: s.schemaDefinitions('schemaExtensions'),
    undeclaredExtensions: s.string('undeclaredExtensions') as ScimBridgeBaseArgs['undeclaredExtensions'],
  };
}

/**
 * SCIM schema extensions (RFC 7643 §7 definitions) as a setting gives them: a list (YAML in a stack file, a list in
 * cdk.json), or JSON text of an array or of `{"schemas": [...]}` (`pulumi config set schemaExtensions "$(cat
 * extensions.json)"`, `-c schemaExtensions=...`). The bridge checks them whole when it starts.
 */
export function schemaDefinitions(value: unknown, fail: (problem: string) => never): Record<string, unknown>[] | undefined {
  if (value === undefined) return undefined;
  let parsed = value;
  if (typeof parsed === 'string') {
    try {
      parsed = JSON.parse(parsed);
    } catch {
      fail('must be a list of SCIM schema definitions (YAML in the stack file, or JSON)');
    }
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { schemas?: unknown } | null)?.schemas;
  if (!Array.isArray(list) || list.some((s) => !s || typeof s !== 'object' || Array.isArray(s))) {
    fail('must be a list of SCIM schema definitions (objects with "id" and "attributes")');
  }
  return list as Record<string, unknown>[];
}
