/**
 * The change feed's and the deprovisioning guard's settings, shared by every cloud: declared webhook endpoints
 * (plain), the guard's thresholds and operator-declared schema extensions, checked once and turned into the bridge's
 * environment under the contract's names. Each endpoint's signing secret is not here: it is a platform secret
 * (`SCIM_WEBHOOK_SECRETS`, a JSON map from endpoint name to secret) that each cloud injects from its secret store.
 */
import { BRIDGE_ENV } from '../../contract';
import { ArgError } from './resolve';

/** One declared endpoint, as `SCIM_WEBHOOKS` lists it. */
export interface WebhookEndpointArgs {
  /** The endpoint's name: the key of its signing secret in `SCIM_WEBHOOK_SECRETS`. */
  readonly name: string;
  /** `https://` URL the changes are delivered to. */
  readonly url: string;
  /** Change types it receives (`user.*`, `group.members.added`, ...). @default every change */
  readonly events?: readonly string[];
}

export interface ChangeFeedArgs {
  /** Declared webhook endpoints (SCIM_WEBHOOKS). Each needs a signing secret in the platform's webhook secret. @default none */
  readonly webhooks?: readonly WebhookEndpointArgs[];
  /** People deprovisioned within the window that start a hold (SCIM_DEPROVISION_HOLD_COUNT; 0 off). @default the bridge's (50) */
  readonly deprovisionHoldCount?: number;
  /** Percent of active users deprovisioned within the window that start a hold (SCIM_DEPROVISION_HOLD_PERCENT; 0 off). @default the bridge's (10) */
  readonly deprovisionHoldPercent?: number;
  /** The guard's window in seconds (SCIM_DEPROVISION_HOLD_WINDOW_SECONDS). @default the bridge's (900) */
  readonly deprovisionHoldWindowSeconds?: number;
  /** Seconds a deprovisioning change waits before delivery (SCIM_DEPROVISION_SETTLE_SECONDS; 0 none). @default the bridge's (60) */
  readonly deprovisionSettleSeconds?: number;
  /** Operator-declared SCIM schema extensions: RFC 7643 §7 schema definitions as JSON (SCIM_SCHEMA_EXTENSIONS). @default none */
  readonly schemaExtensions?: string;
}

const ENDPOINT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const EVENT = /^[a-z]+(\.[a-z*]+)*$|^\*$/;

/** Checks the feed's args (values not known yet pass) and returns the plain environment they make. */
export function feedEnvironment(args: ChangeFeedArgs, component: string, isUnresolved: (v: unknown) => boolean): Record<string, string> {
  const fail = (arg: string, problem: string): never => {
    throw new ArgError(component, arg, problem);
  };
  const known = (v: unknown) => v !== undefined && !isUnresolved(v);
  const env: Record<string, string> = {};
  const webhooks = args.webhooks ?? [];
  const names = new Set<string>();
  webhooks.forEach((w, i) => {
    if (known(w.name) && !ENDPOINT_NAME.test(w.name)) fail(`webhooks[${i}].name`, `must be letters, digits, _ or - (at most 64), got '${w.name}'`);
    if (names.has(w.name)) fail(`webhooks[${i}].name`, `'${w.name}' is declared twice`);
    names.add(w.name);
    if (known(w.url) && !/^https:\/\/[^\s/]+/.test(w.url)) fail(`webhooks[${i}].url`, `must be an https:// URL, got '${w.url}'`);
    (w.events ?? []).forEach((e, j) => {
      if (known(e) && !EVENT.test(e)) fail(`webhooks[${i}].events[${j}]`, `must be a change type such as user.created or user.*, got '${e}'`);
    });
  });
  if (webhooks.length > 0) {
    env[BRIDGE_ENV.webhooks] = JSON.stringify(webhooks.map((w) => ({ name: w.name, url: w.url, ...(w.events ? { events: [...w.events] } : {}) })));
  }
  const whole = (arg: keyof ChangeFeedArgs, envName: string, min: number, max: number) => {
    const v = args[arg] as number | undefined;
    if (v === undefined) return;
    if (known(v) && (!Number.isInteger(v) || v < min || v > max)) fail(arg, `must be a whole number from ${min} to ${max}, got ${v}`);
    env[envName] = String(v);
  };
  whole('deprovisionHoldCount', BRIDGE_ENV.deprovisionHoldCount, 0, 1_000_000);
  whole('deprovisionHoldPercent', BRIDGE_ENV.deprovisionHoldPercent, 0, 100);
  whole('deprovisionHoldWindowSeconds', BRIDGE_ENV.deprovisionHoldWindowSeconds, 1, 604_800);
  whole('deprovisionSettleSeconds', BRIDGE_ENV.deprovisionSettleSeconds, 0, 86_400);
  if (args.schemaExtensions !== undefined) {
    if (known(args.schemaExtensions)) {
      try {
        JSON.parse(args.schemaExtensions);
      } catch (error) {
        fail('schemaExtensions', `must be JSON (RFC 7643 §7 schema definitions): ${(error as Error).message}`);
      }
    }
    env[BRIDGE_ENV.schemaExtensions] = args.schemaExtensions;
  }
  return env;
}

/** The ports webhook deliveries go out on (443 unless a URL names another), for platforms that filter egress. */
export function webhookPorts(webhooks: readonly WebhookEndpointArgs[] | undefined): number[] {
  const ports = new Set<number>();
  for (const w of webhooks ?? []) {
    try {
      ports.add(Number(new URL(w.url).port || 443));
    } catch {
      // an unresolved or invalid URL: checked (or passed through) by feedEnvironment
    }
  }
  return [...ports].sort((a, b) => a - b);
}
