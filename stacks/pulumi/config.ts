/**
 * Stack configuration shared by the three Pulumi clouds: typed reads with errors that name the key.
 * Every cloud reads its own keys through these helpers so a bad value fails `pulumi preview` with one clear line.
 */
import * as pulumi from '@pulumi/pulumi';
import { BRIDGE_SIZING } from '../../contract';
import { ArgError, type ScimBridgeBaseArgs, SharedSettings, readSharedSettings } from '../../constructs/common';

export const CONFIG_NAMESPACE = 'scim-bridge';

/**
 * The `scim-bridge:` keys this file reads for every cloud (the cloud switch, readBaseArgs, the scimsession, the image,
 * the Google credentials). Each cloud's stack module lists its own keys beside these; test/project checks that every
 * key an example stack file sets is one of them, so a typo in a stack file fails a test instead of being ignored.
 */
export const SHARED_CONFIG_KEYS = [
  'cloud',
  'domain',
  'minReplicas',
  'maxReplicas',
  'cpu',
  'memoryMiB',
  'targetCpuPercent',
  'targetConcurrentRequests',
  'allowedDomains',
  'logLevel',
  'usernameFormat',
  'schemaExtensions',
  'undeclaredExtensions',
  'eventRetentionDays',
  'deletionProtection',
  'database',
  'googleWorkspace',
  'googleCredentials',
  'tags',
  'scimSession',
  'image',
  'webhooks',
  'webhookSecrets',
  'deprovisionGuard',
] as const;

/** A configuration mistake: the message names the key and says what is expected. */
export class ConfigError extends Error {
  /** `namespace` is the provider's for its own settings (`gcp:project`). */
  constructor(key: string, problem: string, namespace: string = CONFIG_NAMESPACE) {
    super(`${namespace}:${key} ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Cloud = 'gcp' | 'digitalocean' | 'azure';
export const CLOUDS: readonly Cloud[] = ['gcp', 'digitalocean', 'azure'];

export function config(): pulumi.Config {
  return new pulumi.Config(CONFIG_NAMESPACE);
}

export function requireString(cfg: pulumi.Config, key: string, hint: string): string {
  const value = cfg.get(key)?.trim();
  if (!value) throw new ConfigError(key, `is required: ${hint} (pulumi config set ${key} ...)`);
  return value;
}

export function optionalString(cfg: pulumi.Config, key: string): string | undefined {
  const value = cfg.get(key)?.trim();
  return value ? value : undefined;
}

export function oneOf<T extends string>(cfg: pulumi.Config, key: string, allowed: readonly T[], fallback?: T): T {
  const value = optionalString(cfg, key) ?? fallback;
  if (value === undefined) throw new ConfigError(key, `is required: one of ${allowed.join(', ')}`);
  if (!allowed.includes(value as T)) throw new ConfigError(key, `must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

export function integer(cfg: pulumi.Config, key: string, fallback: number, min: number, max: number): number {
  const raw = optionalString(cfg, key);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(key, `must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

export function boolean(cfg: pulumi.Config, key: string, fallback: boolean): boolean {
  const raw = optionalString(cfg, key);
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new ConfigError(key, `must be true or false (got "${raw}")`);
}

const HOSTNAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;

/** A fully qualified host name such as scim.example.com (no scheme, no trailing dot). */
export function hostname(cfg: pulumi.Config, key: string, required: boolean): string | undefined {
  const value = optionalString(cfg, key)?.toLowerCase();
  if (value === undefined) {
    if (required) throw new ConfigError(key, 'is required: the host name identity providers will call, e.g. scim.example.com');
    return undefined;
  }
  if (!HOSTNAME.test(value)) throw new ConfigError(key, `must be a host name such as scim.example.com (got "${value}")`);
  return value;
}

/** Replica bounds, shared keys for every cloud: minReplicas, maxReplicas. */
export function replicaBounds(cfg: pulumi.Config, ceiling: number): { min: number; max: number } {
  const min = integer(cfg, 'minReplicas', BRIDGE_SIZING.minReplicas, 0, ceiling);
  const max = integer(cfg, 'maxReplicas', Math.max(BRIDGE_SIZING.maxReplicas, min), 1, ceiling);
  if (max < min) throw new ConfigError('maxReplicas', `must be at least minReplicas (${min}), got ${max}`);
  return { min, max };
}

/**
 * The scimsession as a Pulumi secret. It must be set with `pulumi config set --secret scimSession < file`;
 * a plain (non-secret) value is refused so it can never land in plain state.
 * Returns undefined when the stack references an existing secret instead (cloud-specific key).
 */
export function scimSession(cfg: pulumi.Config): pulumi.Output<string> | undefined {
  return secretValue(cfg, 'scimSession', 'pulumi config set --secret scimSession "$(cat scimsession)"');
}

/**
 * A value that must have been stored encrypted (`pulumi config set --secret KEY ...`), as a Pulumi secret; a plain
 * value is refused (naming the key and the command) so it never lands in plain state. Undefined when unset.
 */
export function secretValue(cfg: pulumi.Config, key: string, setCommand: string): pulumi.Output<string> | undefined {
  const plain = cfg.get(key);
  if (plain === undefined || plain.trim() === '') return undefined;
  // Config.get also reads secret values; refuse a value that was not stored encrypted.
  if (!isSecretKey(cfg, key)) throw new ConfigError(key, `must be set as a secret: ${setCommand}`);
  return pulumi.secret(plain);
}

/**
 * The Google Workspace service-account key (JSON, or base64 of it) for the Directory API connector, as a secret.
 * Every cloud delivers it to the bridge like the scimsession (SCIM_GOOGLE_CREDENTIALS or a mounted file).
 */
export function googleCredentials(cfg: pulumi.Config): pulumi.Output<string> | undefined {
  return secretValue(cfg, 'googleCredentials', 'pulumi config set --secret googleCredentials "$(cat service-account-key.json)"');
}

/**
 * The change feed's signing secrets, JSON `{"<endpoint name>":"whsec_…"}`, as a secret. Every cloud keeps it in its
 * secret store (Secret Manager, an encrypted app secret, Key Vault) and gives it to the bridge as SCIM_WEBHOOK_SECRETS.
 */
export function webhookSecrets(cfg: pulumi.Config): pulumi.Output<string> | undefined {
  return secretValue(cfg, 'webhookSecrets', `pulumi config set --secret webhookSecrets '{"app":"whsec_..."}'`);
}

function isSecretKey(cfg: pulumi.Config, key: string): boolean {
  // Tests mark keys secret with pulumi.runtime.setAllConfig(values, secretKeys), as the engine does.
  // isConfigSecret is exported at run time but missing from the published type definitions.
  const runtime = pulumi.runtime as unknown as { isConfigSecret(key: string): boolean };
  return runtime.isConfigSecret(`${cfg.name}:${key}`);
}

/** A true/false key left undefined when unset, so the default is applied once, by the component. */
export function booleanKey(cfg: pulumi.Config, key: string): boolean | undefined {
  return optionalString(cfg, key) === undefined ? undefined : boolean(cfg, key, false);
}

/** Image to run: a given reference (pipelines that build separately) or undefined to build from bridge/. */
export function givenImage(cfg: pulumi.Config): string | undefined {
  return optionalString(cfg, 'image');
}

/** A number-valued key, parsed but range-checked by the shared layer (resolveBridgeArgs) so the rule lives once. */
export function numberKey(cfg: pulumi.Config, key: string): number | undefined {
  const raw = optionalString(cfg, key);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new ConfigError(key, `must be a number (got "${raw}")`);
  return value;
}

/** A list given as a JSON array or a comma-separated string. */
export function list(cfg: pulumi.Config, key: string): string[] | undefined {
  const raw = optionalString(cfg, key);
  if (raw === undefined) return undefined;
  if (raw.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ConfigError(key, `must be a JSON array of strings or a comma-separated list (got "${raw}")`);
    }
    if (!Array.isArray(parsed) || parsed.some((v) => typeof v !== 'string')) throw new ConfigError(key, 'must be an array of strings');
    return parsed as string[];
  }
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A structured key (`pulumi config set --path database.version 17`): an object of plain values. */
export function objectKey(cfg: pulumi.Config, key: string): Record<string, unknown> | undefined {
  const raw = optionalString(cfg, key);
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(key, `must be an object (set its fields with pulumi config set --path ${key}.<field> <value>)`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(key, 'must be an object');
  return parsed as Record<string, unknown>;
}

/**
 * The shared args, read from the stack configuration under the same names on every Pulumi cloud, by the reader the CDK
 * app can use for its context too (constructs/common/settings.ts). Every problem names the config key.
 */
export function readBaseArgs(cfg: pulumi.Config): ScimBridgeBaseArgs {
  const source = { get: (key: string) => cfg.get(key) };
  return readSharedSettings(
    new SharedSettings(source, (key, problem) => {
      throw new ConfigError(key, problem);
    }),
  );
}

/** Where a component's arg is set in a stack, when that is not the `scim-bridge:` key of the same name. */
export type ConfigKeyOf = Readonly<Record<string, { readonly key: string; readonly namespace?: string }>>;

/**
 * The one way an ArgError (a component's arg is wrong) becomes a ConfigError (the stack key the user sets is wrong),
 * for every Pulumi cloud: the same name, except where `keys` says the arg is set elsewhere (a flat key, a provider's).
 */
export function asConfigError(error: unknown, keys: ConfigKeyOf = {}): unknown {
  if (!(error instanceof ArgError)) return error;
  const where = keys[error.arg];
  return new ConfigError(where?.key ?? error.arg, error.problem, where?.namespace);
}
