/**
 * Operating settings read from the environment: event retention, metrics access, the concurrency bound.
 * Kept apart from config.ts so the core configuration stays about serving SCIM.
 */
import { BRIDGE_ENV } from '../../../contract';
import { ConfigError } from '../config';

export const OPS_ENV = {
  eventRetentionDays: BRIDGE_ENV.eventRetentionDays,
  changeRetentionDays: BRIDGE_ENV.changeRetentionDays,
  metricsRequireToken: BRIDGE_ENV.metricsRequireToken,
  maxConcurrentRequests: BRIDGE_ENV.maxConcurrentRequests,
  sessionWaitSeconds: BRIDGE_ENV.sessionWaitSeconds,
} as const;

export const OPS_DEFAULTS = {
  eventRetentionDays: 90,
  /** A month: an application offline longer resyncs from a snapshot (the pull API answers 410 past the oldest change). */
  changeRetentionDays: 30,
  metricsRequireToken: false,
  maxConcurrentRequests: 256,
  /** Half an hour: longer than a first deploy takes to put a scimsession into a new secret. */
  sessionWaitSeconds: 1800,
  /** Requests without a valid token (public pages, refusals) answered at once, in a pool of their own. */
  maxUnauthenticatedRequests: 64,
  /** Failed authentications one client may make per minute before it gets 429. */
  authFailuresPerMinute: 20,
} as const;

export interface OpsSettings {
  readonly eventRetentionDays: number;
  readonly changeRetentionDays: number;
  readonly metricsRequireToken: boolean;
  readonly maxConcurrentRequests: number;
  readonly sessionWaitSeconds: number;
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new ConfigError(`${name} must be a whole number of at least ${min} (got "${raw}")`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${env[name]}")`);
}

export function readOpsSettings(env: NodeJS.ProcessEnv): OpsSettings {
  return {
    eventRetentionDays: wholeNumber(env, OPS_ENV.eventRetentionDays, OPS_DEFAULTS.eventRetentionDays, 0),
    changeRetentionDays: wholeNumber(env, OPS_ENV.changeRetentionDays, OPS_DEFAULTS.changeRetentionDays, 0),
    metricsRequireToken: flag(env, OPS_ENV.metricsRequireToken, OPS_DEFAULTS.metricsRequireToken),
    maxConcurrentRequests: wholeNumber(env, OPS_ENV.maxConcurrentRequests, OPS_DEFAULTS.maxConcurrentRequests, 1),
    sessionWaitSeconds: wholeNumber(env, OPS_ENV.sessionWaitSeconds, OPS_DEFAULTS.sessionWaitSeconds, 0),
  };
}
