/**
 * Webhook endpoints: declared as configuration (SCIM_WEBHOOKS, with each signing secret in SCIM_WEBHOOK_SECRETS
 * from the cloud's secret store) or registered on a running store (`scim-bridge webhooks add`, secret kept in the
 * store). Both kinds are rows in the store, which holds each one's delivery progress; a declared endpoint's secret
 * is never written there.
 */
import { randomBytes } from 'node:crypto';
import { BRIDGE_ENV } from '../../../contract';
import { ConfigError } from '../config';
import type { WebhookEndpoint, WebhookEndpointStore } from './endpoint-record';
import { type TargetPolicy, UnsafeTarget, checkTargetUrl, parseCidrs } from './safe-target';
import { SecretError, generateSecret, secretKey } from './signing';
import { CHANGE_TYPES, type ChangeLog, type ChangeType, DEFAULT_DIRECTORY } from './types';

export interface DeclaredEndpoint {
  readonly name: string;
  readonly url: string;
  readonly events?: readonly string[];
  readonly secret: string;
}

export interface WebhookSettings {
  readonly declared: readonly DeclaredEndpoint[];
  readonly policy: TargetPolicy;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** An event filter: an exact change type, or a prefix ending in `.*` (`user.*`, `group.members.*`). */
export function checkEventFilter(filter: string): string {
  const text = filter.trim();
  if ((CHANGE_TYPES as readonly string[]).includes(text)) return text;
  if (text.endsWith('.*') && CHANGE_TYPES.some((type) => type.startsWith(text.slice(0, -1)))) return text;
  throw new RangeError(`"${filter}" is not a change type or a prefix such as user.* (types: ${CHANGE_TYPES.join(', ')})`);
}

/** Whether an endpoint with `events` (undefined: every type) wants a change of `type`. */
export function wants(events: readonly string[] | undefined, type: ChangeType): boolean {
  if (!events || events.length === 0) return true;
  return events.some((filter) => (filter.endsWith('.*') ? type.startsWith(filter.slice(0, -1)) : filter === type));
}

/** SCIM_WEBHOOKS_ALLOW_LOOPBACK and SCIM_WEBHOOKS_ALLOW_PRIVATE. */
export function targetPolicy(env: NodeJS.ProcessEnv): TargetPolicy {
  const loopback = (env[BRIDGE_ENV.webhooksAllowLoopback] ?? '').trim().toLowerCase();
  if (loopback !== '' && loopback !== 'true' && loopback !== 'false') {
    throw new ConfigError(`${BRIDGE_ENV.webhooksAllowLoopback} must be true or false (got "${env[BRIDGE_ENV.webhooksAllowLoopback]}")`);
  }
  try {
    return { allowLoopback: loopback === 'true', allowPrivate: parseCidrs(env[BRIDGE_ENV.webhooksAllowPrivate]) };
  } catch (error) {
    throw new ConfigError(`${BRIDGE_ENV.webhooksAllowPrivate}: ${(error as Error).message}`);
  }
}

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message may quote the text, and a secret must never reach a log.
    throw new ConfigError(`${name} is not valid JSON`);
  }
}

/**
 * The webhook settings from the environment, read at start: any mistake is one line (a ConfigError) that names
 * the endpoint and never quotes a secret.
 */
export function readWebhookSettings(env: NodeJS.ProcessEnv): WebhookSettings {
  const policy = targetPolicy(env);
  const rawEndpoints = env[BRIDGE_ENV.webhooks]?.trim();
  const rawSecrets = env[BRIDGE_ENV.webhookSecrets]?.trim();
  if (!rawEndpoints) return { declared: [], policy };
  const list = parseJson(BRIDGE_ENV.webhooks, rawEndpoints);
  if (!Array.isArray(list)) throw new ConfigError(`${BRIDGE_ENV.webhooks} must be a JSON array of {"name","url","events"?}`);
  const secrets = rawSecrets ? parseJson(BRIDGE_ENV.webhookSecrets, rawSecrets) : {};
  if (typeof secrets !== 'object' || secrets === null || Array.isArray(secrets))
    throw new ConfigError(`${BRIDGE_ENV.webhookSecrets} must be a JSON object {"name":"whsec_…"}`);
  const seen = new Set<string>();
  const declared = list.map((item: unknown, index): DeclaredEndpoint => {
    const entry = item as { name?: unknown; url?: unknown; events?: unknown };
    const where = `${BRIDGE_ENV.webhooks}[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw new ConfigError(`${where} must be an object {"name","url","events"?}`);
    if (typeof entry.name !== 'string' || !NAME.test(entry.name)) throw new ConfigError(`${where}.name must be 1 to 63 letters, digits, ".", "_" or "-"`);
    if (entry.name.startsWith('wh_')) throw new ConfigError(`${where}.name may not start with wh_ (kept for endpoints registered with the CLI)`);
    if (seen.has(entry.name)) throw new ConfigError(`${where}.name "${entry.name}" is declared twice`);
    seen.add(entry.name);
    if (typeof entry.url !== 'string') throw new ConfigError(`${where} ("${entry.name}") needs a "url"`);
    try {
      checkTargetUrl(entry.url, policy);
    } catch (error) {
      if (!(error instanceof UnsafeTarget)) throw error;
      throw new ConfigError(`${where} ("${entry.name}"): ${error.message}`);
    }
    let events: string[] | undefined;
    if (entry.events !== undefined) {
      if (!Array.isArray(entry.events) || entry.events.some((e) => typeof e !== 'string'))
        throw new ConfigError(`${where}.events must be an array of change types`);
      try {
        events = entry.events.map((e: string) => checkEventFilter(e));
      } catch (error) {
        throw new ConfigError(`${where}.events: ${(error as Error).message}`);
      }
    }
    const secret = (secrets as Record<string, unknown>)[entry.name];
    if (typeof secret !== 'string')
      throw new ConfigError(`${BRIDGE_ENV.webhookSecrets} holds no signing secret for "${entry.name}" (create one with "scim-bridge webhooks secret")`);
    try {
      secretKey(secret);
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      throw new ConfigError(`${BRIDGE_ENV.webhookSecrets}: the secret for "${entry.name}" is not usable: ${error.message}`);
    }
    return { name: entry.name, url: entry.url, ...(events ? { events } : {}), secret };
  });
  return { declared, policy };
}

/** An endpoint ready to deliver to: its row and the signing secret it uses. */
export interface ActiveEndpoint {
  readonly endpoint: WebhookEndpoint;
  readonly secret: string;
}

/**
 * The endpoints this replica delivers to: registered ones with their stored secret, and declared ones that the
 * configuration still lists (a row left by a declaration since removed has no secret here and is not delivered).
 */
export function activeEndpoints(rows: readonly WebhookEndpoint[], declared: readonly DeclaredEndpoint[]): ActiveEndpoint[] {
  const secrets = new Map(declared.map((d) => [d.name, d.secret]));
  const active: ActiveEndpoint[] = [];
  for (const endpoint of rows) {
    const secret = endpoint.source === 'registered' ? endpoint.secret : secrets.get(endpoint.id);
    if (secret) active.push({ endpoint, secret });
  }
  return active;
}

/**
 * Registers an endpoint on a running store (`scim-bridge webhooks add`): its URL checked, a new signing secret,
 * delivery from the log's head on (older changes: `replay --from`). Returns the row and the secret.
 */
export async function registerEndpoint(
  store: Pick<WebhookEndpointStore, 'insertWebhookEndpoint' | 'getWebhookEndpoint'> & Pick<ChangeLog, 'headPosition'>,
  input: { readonly url: string; readonly events?: readonly string[]; readonly name?: string },
  policy: Pick<TargetPolicy, 'allowLoopback' | 'allowPrivate'>,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  checkTargetUrl(input.url, policy);
  const events = input.events?.map(checkEventFilter);
  const id = `wh_${randomBytes(6).toString('hex')}`;
  const name = input.name ?? id;
  if (!NAME.test(name)) throw new RangeError('an endpoint name is 1 to 63 letters, digits, ".", "_" or "-"');
  const secret = generateSecret();
  const position = await store.headPosition(DEFAULT_DIRECTORY);
  await store.insertWebhookEndpoint({
    id,
    name,
    url: input.url,
    events,
    source: 'registered',
    secret,
    directory: DEFAULT_DIRECTORY,
    position,
    created: new Date().toISOString(),
  });
  return { endpoint: (await store.getWebhookEndpoint(id))!, secret };
}

/** The endpoint an operator means: by name or id, else by URL when exactly one endpoint has it. */
export function findEndpoint(rows: readonly WebhookEndpoint[], ref: string): WebhookEndpoint {
  const named = rows.find((e) => e.name === ref || e.id === ref);
  if (named) return named;
  const byUrl = rows.filter((e) => e.url === ref);
  if (byUrl.length === 1) return byUrl[0];
  if (byUrl.length > 1) throw new RangeError(`${byUrl.length} endpoints have the URL ${ref}; name one of them: ${byUrl.map((e) => e.name).join(', ')}`);
  throw new RangeError(`no webhook endpoint named or at "${ref}" (see "scim-bridge webhooks list")`);
}

/**
 * The lowest position a webhook endpoint still needs (the one after its cursor), for the change log's retention:
 * nothing at or after it may be pruned while the endpoint exists, paused or dead-lettered included (a dead letter
 * is kept until it is redriven, and every later change waits behind it). Undefined when there is no endpoint.
 */
export function webhookKeepFrom(rows: readonly Pick<WebhookEndpoint, 'position'>[]): number | undefined {
  return rows.length ? Math.min(...rows.map((e) => e.position)) + 1 : undefined;
}
