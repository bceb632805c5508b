/**
 * Stack configuration shared by the three Pulumi clouds: typed reads with errors that name the key.
 * Every cloud reads its own keys through these helpers so a bad value fails `pulumi preview` with one clear line.
 */
import * as pulumi from '@pulumi/pulumi';
import { BRIDGE_SIZING } from '../../contract';

export const CONFIG_NAMESPACE = 'scim-bridge';

/** A configuration mistake: the message names the key and says what is expected. */
export class ConfigError extends Error {
  constructor(key: string, problem: string) {
    super(`${CONFIG_NAMESPACE}:${key} ${problem}`);
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
  const plain = cfg.get('scimSession');
  if (plain === undefined) return undefined;
  // Config.get also reads secret values; refuse a value that was not stored encrypted.
  if (!isSecretKey(cfg, 'scimSession')) {
    throw new ConfigError('scimSession', 'must be set as a secret: pulumi config set --secret scimSession "$(cat scimsession)"');
  }
  return pulumi.secret(plain);
}

function isSecretKey(cfg: pulumi.Config, key: string): boolean {
  // Tests mark keys secret with pulumi.runtime.setAllConfig(values, secretKeys), as the engine does.
  // isConfigSecret is exported at run time but missing from the published type definitions.
  const runtime = pulumi.runtime as unknown as { isConfigSecret(key: string): boolean };
  return runtime.isConfigSecret(`${cfg.name}:${key}`);
}

/** Image to run: a given reference (pipelines that build separately) or undefined to build from bridge/. */
export function givenImage(cfg: pulumi.Config): string | undefined {
  return optionalString(cfg, 'image');
}
