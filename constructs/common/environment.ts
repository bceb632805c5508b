/**
 * The bridge's plain (non-secret) environment, built once for every cloud from the resolved args. Each platform
 * adds only its own wiring (where the scimsession and the database password come from, the database host) and
 * maps the result to its format (ECS `environment`, Cloud Run `envs`, App Platform `envs`, Container Apps `env`).
 * No secret value ever passes through here.
 */
import { BRIDGE_ENV, BRIDGE_PORT, BRIDGE_SIZING } from '../../contract';
import type { ResolvedBridgeArgs } from './resolve';

/**
 * What stands in front of the bridge on a platform, as `SCIM_TRUST_PROXY` takes it: a number of proxy hops that
 * append to `X-Forwarded-For` (the client is the address that many hops from the right), or CIDRs to trust.
 */
export type TrustProxy = number | readonly string[];

export interface PlatformEnvironment {
  /** The proxies in front of the bridge on this platform (see TrustProxy). Never "trust everything". */
  readonly trustProxy: TrustProxy;
  /** The platform sets PORT itself (Cloud Run, App Platform): leave it out. @default false */
  readonly platformSetsPort?: boolean;
  /** PostgreSQL connections per replica. @default BRIDGE_SIZING.databasePoolSize */
  readonly databasePoolSize?: number;
}

export function trustProxyValue(trust: TrustProxy): string {
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0) throw new Error(`trustProxy must be a whole number of hops, got ${trust}`);
    return String(trust);
  }
  if (trust.length === 0) throw new Error('trustProxy needs at least one CIDR (or a number of hops)');
  return trust.join(',');
}

/** The non-secret settings every cloud gives the bridge, keyed by contract name, in a stable order. */
export function bridgeEnvironment(args: ResolvedBridgeArgs, platform: PlatformEnvironment): Record<string, string> {
  const env: Record<string, string> = {};
  if (!platform.platformSetsPort) env[BRIDGE_ENV.port] = String(BRIDGE_PORT);
  env[BRIDGE_ENV.logLevel] = args.logLevel;
  env[BRIDGE_ENV.usernameFormat] = args.usernameFormat;
  if (args.schemaExtensions) env[BRIDGE_ENV.schemaExtensions] = args.schemaExtensions;
  if (args.undeclaredExtensions) env[BRIDGE_ENV.undeclaredExtensions] = args.undeclaredExtensions;
  env[BRIDGE_ENV.eventRetentionDays] = String(args.eventRetentionDays);
  // Every deployment is public: the metrics say who provisions what, so they need the bearer token.
  env[BRIDGE_ENV.metricsRequireToken] = 'true';
  env[BRIDGE_ENV.trustProxy] = trustProxyValue(platform.trustProxy);
  env[BRIDGE_ENV.databasePoolSize] = String(platform.databasePoolSize ?? BRIDGE_SIZING.databasePoolSize);
  if (args.allowedDomains.length > 0) env[BRIDGE_ENV.allowedDomains] = args.allowedDomains.join(',');
  // The change feed: the declared endpoints (their signing secrets come from the platform's secret store), the
  // deprovisioning guard's thresholds where set (the bridge's defaults otherwise).
  if (args.webhooks.length > 0) env[BRIDGE_ENV.webhooks] = JSON.stringify(args.webhooks);
  const guard = args.deprovisionGuard;
  if (guard.count !== undefined) env[BRIDGE_ENV.deprovisionHoldCount] = String(guard.count);
  if (guard.percent !== undefined) env[BRIDGE_ENV.deprovisionHoldPercent] = String(guard.percent);
  if (guard.windowSeconds !== undefined) env[BRIDGE_ENV.deprovisionHoldWindowSeconds] = String(guard.windowSeconds);
  if (guard.settleSeconds !== undefined) env[BRIDGE_ENV.deprovisionSettleSeconds] = String(guard.settleSeconds);
  const google = args.googleWorkspace;
  if (google) {
    env[BRIDGE_ENV.googleAdminEmail] = google.adminEmail;
    env[BRIDGE_ENV.googleGroups] = google.groups.join(',');
    env[BRIDGE_ENV.googleSyncIntervalSeconds] = String(google.syncIntervalSeconds);
    env[BRIDGE_ENV.googleDirectoryUrl] = google.directoryUrl;
  }
  return env;
}

/** `{ name, value }` pairs, the shape most platforms take. */
export function envList(env: Record<string, string>): { name: string; value: string }[] {
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}
