/**
 * The HTTP layer: thin. It parses requests, checks the bearer token, calls the directory and writes SCIM
 * responses; every error becomes a SCIM error body with the right status. Around that: security headers on
 * every response, a bound on requests in flight, a per-client limit on failed authentications, metrics,
 * and the status page with its JSON API.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BRIDGE_PATHS, SCIM_BASE_PATH } from '../../../contract';
import type { Directory } from '../directory/directory';
import { EventThrottle, FailureLimiter } from '../ops/limits';
import { BridgeMetrics } from '../ops/metrics';
import { OPS_DEFAULTS } from '../ops/settings';
import { ScimError, badRequest } from '../scim/errors';
import { SCIM_CONTENT_TYPE } from '../scim/messages';
import type { SessionHolder } from '../session/source';
import { StoreUnavailable, type Store } from '../store/types';
import { registerScimRoutes } from './scim-routes';
import { checkStore, registerStatusApi } from './status-api';
import { CONTENT_SECURITY_POLICY, registerStatusPage } from './status-page';

declare module 'fastify' {
  interface FastifyRequest {
    /** Whether this request presented a valid bearer token, an invalid one, or was not asked for one. */
    bridgeAuth: 'none' | 'ok' | 'rejected';
  }
}

export interface AppOptions {
  readonly directory: Directory;
  readonly store: Store;
  readonly session: SessionHolder;
  readonly version: string;
  /** Largest request body accepted, in bytes; larger ones get 413. */
  readonly bodyLimit?: number;
  /** pino log level, or false for no logs (tests). */
  readonly logLevel?: string | false;
  /** Where log lines go (tests capture them); stdout by default. */
  readonly logStream?: NodeJS.WritableStream;
  /** Metrics of this bridge; pass the one the store was instrumented with. @default a new registry */
  readonly metrics?: BridgeMetrics;
  /** Put /metrics behind the bearer token. @default false */
  readonly metricsRequireToken?: boolean;
  /** Requests answered at once; beyond it, 429 with Retry-After. Probes and metrics are not counted. @default 256 */
  readonly maxConcurrentRequests?: number;
  /** Failed authentications per client address per minute before 429. @default 20 */
  readonly authFailuresPerMinute?: number;
  /** Shown on the status page. @default 90 */
  readonly eventRetentionDays?: number;
  /** When this bridge started (uptime). @default now */
  readonly startedAt?: Date;
}

/** 1 MiB: a PUT of a group with ~10,000 members; larger membership changes arrive as PATCH. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function sendScimError(reply: FastifyReply, error: ScimError): FastifyReply {
  if (error.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="scim-bridge"');
  if (error.retryAfter) reply.header('Retry-After', String(error.retryAfter));
  return reply.code(error.status).type(SCIM_CONTENT_TYPE).send(error.toJSON());
}

/** Maps anything thrown while answering to a SCIM error; only real server faults are 500s. */
export function toScimError(error: unknown): ScimError {
  if (error instanceof ScimError) return error;
  // The store's own status and Retry-After: 503 (unreachable, busy, timed out, not ready) or 507 (full).
  if (error instanceof StoreUnavailable) return new ScimError(error.status, error.message, undefined, error.retryAfterSeconds);
  const fastifyError = error as FastifyError;
  if (fastifyError.statusCode === 413) return new ScimError(413, `The request body is larger than the bridge accepts`);
  if (fastifyError.statusCode === 415) return badRequest('invalidSyntax', 'Send the body as application/scim+json or application/json');
  if (fastifyError.statusCode === 400 || error instanceof SyntaxError) return badRequest('invalidSyntax', `The request body is not valid JSON`);
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new ScimError(fastifyError.statusCode, fastifyError.message);
  }
  return new ScimError(500, 'The bridge failed to answer this request; the failure is logged with its request id');
}

/** Not counted against the concurrency bound: a saturated replica must still answer its probes and be observable. */
const UNBOUNDED_ROUTES = new Set<string>([BRIDGE_PATHS.liveness, BRIDGE_PATHS.readiness, BRIDGE_PATHS.metrics]);
const STATIC_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // SCIM answers and the API carry directory data: no cache may keep them. The page's assets override this.
  'cache-control': 'no-store',
};
const HSTS = 'max-age=31536000; includeSubDomains';

export function buildApp(options: AppOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const metrics = options.metrics ?? new BridgeMetrics();
  const maxConcurrent = options.maxConcurrentRequests ?? OPS_DEFAULTS.maxConcurrentRequests;
  const authFailuresPerMinute = options.authFailuresPerMinute ?? OPS_DEFAULTS.authFailuresPerMinute;
  const authFailures = new FailureLimiter(authFailuresPerMinute);
  const authEvents = new EventThrottle(10_000, 30);
  let inFlight = 0;
  const release = () => {
    inFlight--;
  };
  const app = Fastify({
    logger:
      options.logLevel === false
        ? false
        : {
            level: options.logLevel ?? 'info',
            // The token never reaches a log line, even at debug level.
            redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
            ...(options.logStream ? { stream: options.logStream } : {}),
          },
    // One log line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    trustProxy: true,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });

  // Prototype-poisoning-safe JSON; an empty body (Entra sends a content type on DELETE) is no body.
  const strictJson = app.getDefaultJsonParser('error', 'error');
  const parseJson: typeof strictJson = (request, body, done) => (body === '' ? done(null, undefined) : strictJson(request, body, done));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'application/scim+json'], { parseAs: 'string', bodyLimit }, parseJson);
  // Some clients send JSON with another or no content type; SCIM bodies are JSON whatever the header says.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, parseJson);

  app.decorateRequest('bridgeAuth', 'none');

  // Callback-style hooks: they run on every request, and the benchmark's hot path goes through them.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    for (const name in STATIC_HEADERS) reply.header(name, STATIC_HEADERS[name]);
    if (request.headers['x-forwarded-proto'] !== undefined && request.protocol === 'https') reply.header('strict-transport-security', HSTS);
    const route = request.routeOptions.url;
    if (route === undefined || !UNBOUNDED_ROUTES.has(route)) {
      if (inFlight >= maxConcurrent) {
        // Answer at once: identity providers honour Retry-After, and a queue would only grow.
        sendScimError(reply, new ScimError(429, 'The bridge is answering as many requests as it can; retry shortly', undefined, 1));
        return;
      }
      inFlight++;
      reply.raw.once('close', release);
    }
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.observeRequest(route, request.method, status, reply.elapsedTime, !UNBOUNDED_ROUTES.has(route));
    if (request.bridgeAuth !== 'none' && route !== BRIDGE_PATHS.metrics && !route.startsWith('/api/')) {
      const agent = request.headers['user-agent'];
      metrics.clients.record(typeof agent === 'string' && agent ? agent.slice(0, 200) : 'unknown client', request.method, route, status, request.bridgeAuth === 'ok');
    }
    request.log.info(
      {
        method: request.method,
        path: request.url.split('?')[0],
        route: request.routeOptions.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        agent: request.headers['user-agent'],
      },
      'request',
    );
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const scimError = toScimError(error);
    if (scimError.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendScimError(reply, scimError);
  });

  app.setNotFoundHandler((request, reply) => sendScimError(reply, new ScimError(404, `No resource at ${request.method} ${request.url.split('?')[0]}`)));

  app.get(BRIDGE_PATHS.liveness, async () => ({ status: 'ok' }));

  app.get(BRIDGE_PATHS.readiness, async (_request, reply) => {
    const storeCheck = await checkStore(options.store);
    const healthy = options.session.loaded && storeCheck.status === 'ok';
    return reply.code(healthy ? 200 : 503).send({
      status: healthy ? 'ok' : 'unavailable',
      version: options.version,
      session: { loaded: options.session.loaded, tokens: options.session.verifierCount },
      store: { kind: options.store.kind, status: storeCheck.status },
    });
  });

  /** A failed authentication becomes an event, at most once per client address per 10 s (and 30 in all), so a flood cannot fill the store. */
  const recordAuthFailure = (request: FastifyRequest, reason: string) => {
    if (!authEvents.allow(request.ip)) return;
    const agent = request.headers['user-agent'];
    const event = {
      at: new Date().toISOString(),
      actor: typeof agent === 'string' && agent ? agent.slice(0, 200) : 'unknown client',
      action: 'auth.rejected',
      outcome: 'refused' as const,
      status: 401,
      requestId: request.id,
      // Never the token, not even a prefix of it.
      detail: `${reason} (${request.method} ${request.url.split('?')[0].slice(0, 200)} from ${request.ip})`,
    };
    options.store.recordEvent(event).catch((error: Error) => request.log.warn({ reason: error.message }, 'could not record a failed authentication'));
  };

  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    // A valid token always passes, even from an address over its limit: behind a proxy that hides client
    // addresses, everyone shares one, and the identity provider must not be locked out by someone else's failures.
    if (match && options.session.verify(match[1])) {
      request.bridgeAuth = 'ok';
      return;
    }
    request.bridgeAuth = 'rejected';
    const wait = authFailures.blockedFor(request.ip);
    if (wait) return sendScimError(reply, new ScimError(429, 'Too many failed authentication attempts from this address; retry later', undefined, wait));
    authFailures.fail(request.ip);
    recordAuthFailure(request, match ? 'bearer token not valid' : 'no bearer token');
    if (!match) return sendScimError(reply, new ScimError(401, 'Send the bearer token of the bridge in the Authorization header'));
    return sendScimError(reply, new ScimError(401, 'The bearer token is not valid for this bridge'));
  };

  app.get(BRIDGE_PATHS.metrics, options.metricsRequireToken ? { preHandler: authenticate } : {}, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  registerStatusPage(app);
  registerStatusApi(app, {
    store: options.store,
    session: options.session,
    metrics,
    version: options.version,
    startedAt: options.startedAt ?? new Date(),
    authenticate,
    eventRetentionDays: options.eventRetentionDays ?? OPS_DEFAULTS.eventRetentionDays,
    limits: () => ({ maxConcurrentRequests: maxConcurrent, inFlight, authFailuresPerMinute }),
  });

  for (const prefix of [SCIM_BASE_PATH, '/scim', '']) {
    app.register(async (scope) => registerScimRoutes(scope, { directory: options.directory, authenticate, bodyLimit }), { prefix });
  }
  return app;
}

