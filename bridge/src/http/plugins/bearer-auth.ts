/**
 * Bearer authentication (RFC 6750) at `onRequest`, as `@fastify/bearer-auth` does: before the body is read, so an
 * unauthenticated request is answered 401 whatever it sends, and its body is never parsed. Routes opt in with
 * `config: { bearer: true }`; the check is added to each such route when it is declared (no per-request lookup).
 * Failed attempts are limited per client address (429 past the limit) and recorded as events, at most once per
 * address per 10 s so a flood cannot fill the store. A valid token always passes, even from an address over its
 * limit: behind a proxy that hides addresses everyone shares one, and the identity provider must not be locked
 * out by someone else's failures.
 *
 * Tokens have scopes (feed/types.ts). A route names the scopes it accepts: `config: { bearer: ['provision', 'read'] }`;
 * `bearer: true` means `['provision']`, what identity providers do, so a route that forgets to say accepts only the
 * most trusted token rather than every one. A valid token of another scope gets 403 `insufficient_scope` (RFC 6750
 * §3.1) naming the scope needed: it authenticated, so it is not a failed attempt and counts toward no limit.
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { SCOPES, type Scope } from '../../feed/types';
import { FailureLimiter } from '../../ops/limits';
import { ScimError } from '../../scim/errors';
import type { SessionHolder } from '../../session/source';
import type { ProvisioningEvent } from '../../store/types';
import { clientAddress } from '../client-address';
import { sendScimError } from '../reply';
import { rootPlugin } from './root-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** Whether this request presented a valid bearer token, an invalid one, or was not asked for one. */
    bridgeAuth: 'none' | 'ok' | 'rejected';
    /** The scope of the valid token this request presented; undefined when it presented none. */
    bridgeScope: Scope | undefined;
  }
  interface FastifyContextConfig {
    /** The route needs a bearer token of one of these scopes; `true` is `['provision']`. */
    bearer?: boolean | readonly Scope[];
  }
}

export interface BearerAuthOptions {
  readonly session: SessionHolder;
  /** Failed authentications per client address per minute before 429. */
  readonly failuresPerMinute: number;
  /** Where refusals are recorded; failures to record are logged, never answered. */
  readonly recordEvent: (event: ProvisioningEvent) => Promise<void>;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. No regular expression on the hot path. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 8) return undefined;
  if (header.charCodeAt(6) !== 32 && header.charCodeAt(6) !== 9) return undefined;
  if (header.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  const token = header.slice(7).trim();
  return token || undefined;
}

const agentOf = (request: FastifyRequest) => {
  const agent = request.headers['user-agent'];
  return typeof agent === 'string' && agent ? agent.slice(0, 200) : 'unknown client';
};

/** What each kind of route accepts (feed/types.ts says what each scope is for). */
export const ROUTE_SCOPES = {
  /** SCIM writes: identity providers only. */
  write: ['provision'],
  /** SCIM reads: identity providers and applications. */
  read: ['provision', 'read'],
  /** The change feed and the snapshot: applications. */
  feed: ['read'],
  /** Replay, redrive, pause, resume, holds: operators. */
  operate: ['operate'],
  /** The status page, its read APIs and /metrics: any valid token (they show nothing a read token cannot see). */
  any: SCOPES,
} as const satisfies Record<string, readonly Scope[]>;

/** The scopes a route accepts, from its `bearer` setting; undefined when it needs no token. */
export function acceptedScopes(bearer: boolean | readonly Scope[] | undefined): readonly Scope[] | undefined {
  if (bearer === true) return ['provision'];
  return Array.isArray(bearer) && bearer.length > 0 ? bearer : undefined;
}

/** The 403 for a valid token of the wrong scope: says which scope the route needs, in RFC 6750's header too. */
function refuseScope(request: FastifyRequest, reply: FastifyReply, scope: Scope, accepted: readonly Scope[]): FastifyReply {
  const needed = accepted.length === 1 ? `a ${accepted[0]} token` : `a token of scope ${accepted.slice(0, -1).join(', ')} or ${accepted.at(-1)}`;
  reply.header('www-authenticate', `Bearer realm="scim-bridge", error="insufficient_scope", scope="${accepted.join(' ')}"`);
  return sendScimError(
    request,
    reply,
    new ScimError(403, `This ${scope} token may not ${request.method} ${request.routeOptions.url ?? 'here'}: it needs ${needed}`),
  );
}

/** Makes the check for routes that accept `accepted` scopes; every check shares one failure limit. */
export function createAuthenticator(options: BearerAuthOptions): (accepted: readonly Scope[]) => onRequestHookHandler {
  const failures = new FailureLimiter(options.failuresPerMinute);

  // Every refusal goes to the store, which records them within a budget (ops/event-budget.ts) and counts each.
  const record = (request: FastifyRequest, address: string, reason: string) => {
    options
      .recordEvent({
        at: new Date().toISOString(),
        actor: agentOf(request),
        action: 'auth.rejected',
        outcome: 'refused',
        status: 401,
        requestId: request.id,
        // Never the token, not even a prefix of it.
        detail: `${reason} (${request.method} ${request.url.split('?')[0].slice(0, 200)} from ${address})`,
      })
      .catch((error: Error) => request.log.warn({ reason: error.message }, 'could not record a failed authentication'));
  };

  const reject = (request: FastifyRequest, reply: FastifyReply, token: string | undefined) => {
    request.bridgeAuth = 'rejected';
    const address = clientAddress(request);
    const wait = failures.blockedFor(address);
    if (wait)
      return sendScimError(request, reply, new ScimError(429, 'Too many failed authentication attempts from this address; retry later', undefined, wait));
    failures.fail(address);
    record(request, address, token ? 'bearer token not valid' : 'no bearer token');
    return sendScimError(
      request,
      reply,
      new ScimError(401, token ? 'The bearer token is not valid for this bridge' : 'Send the bearer token of the bridge in the Authorization header'),
    );
  };

  return (accepted) =>
    function authenticate(request, reply, done) {
      const token = bearerToken(request.headers.authorization);
      const scope = token === undefined ? undefined : options.session.verify(token);
      if (scope !== undefined) {
        request.bridgeAuth = 'ok';
        request.bridgeScope = scope;
        if (!accepted.includes(scope)) {
          refuseScope(request, reply, scope, accepted);
          return;
        }
        done();
        return;
      }
      // Answered here: the rest of the chain (and the body) never runs.
      reject(request, reply, token);
    };
}

export const bearerAuth = rootPlugin<BearerAuthOptions>('scim-bridge-bearer-auth', (app, options) => {
  app.decorateRequest('bridgeAuth', 'none');
  app.decorateRequest('bridgeScope', undefined);
  const authenticatorFor = createAuthenticator(options);
  app.addHook('onRoute', (route) => {
    const accepted = acceptedScopes(route.config?.bearer);
    if (accepted) route.onRequest = [authenticatorFor(accepted), ...asArray(route.onRequest)];
  });
});

export function asArray<T>(value: T | readonly T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? [...value] : [value as T];
}
