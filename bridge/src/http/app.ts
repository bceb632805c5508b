/**
 * The HTTP edge: Fastify set up with the bridge's timeouts and client-address rule, then small plugins with one
 * job each, in the order a request meets them (plugins/): security headers, input guard, bearer authentication and
 * the concurrency bound (both per route, at onRequest), SCIM errors, the lingering close of early answers, and
 * request logging with metrics. Then the routes: probes, metrics, the status page and its API, the change feed's
 * pull API, and SCIM.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import { BRIDGE_PATHS, SCIM_BASE_PATH } from '../../../contract';
import type { Directory } from '../directory/directory';
import { ChangeWaiters } from '../feed/waiters';
import type { EndpointStatus } from '../feed/endpoint-status';
import { BridgeMetrics, type SyncStatus } from '../ops/metrics';
import { OPS_DEFAULTS } from '../ops/settings';
import type { SessionHolder } from '../session/source';
import type { Store } from '../store/types';
import { type TrustProxy, trustFunction } from '../trust-proxy';
import {
  DEFAULT_LINGER,
  InFlight,
  type LingerOptions,
  bearerAuth,
  bearerToken,
  childLoggers,
  concurrency,
  createClientErrorHandler,
  createFrameworkErrorHandler,
  draining,
  inputGuard,
  lingeringClose,
  requestLog,
  responseDeadline,
  scimErrors,
  securityHeaders,
} from './plugins';
import { DEFAULT_MAX_WAITING, feedRoutes } from './feed-routes';
import { ROUTE_SCOPES } from './plugins/bearer-auth';
import { registerHoldsApi } from './holds-api';
import { registerHoldsPage } from './holds-page';
import { registerScimRoutes } from './scim-routes';
import { checkStore, registerStatusApi } from './status-api';
import { registerStatusPage } from './status-page';

export { toScimError } from './plugins';

/** Timeouts that cut slow or absent requests (all in ms). */
export interface EdgeTimeouts {
  /** Whole request, headers and body, must arrive within this (Node's `requestTimeout`). */
  readonly requestMs: number;
  /** Headers must arrive within this (Node's `headersTimeout`); at most `requestMs`. */
  readonly headersMs: number;
  /** A socket silent this long during a request is closed (Fastify's `connectionTimeout`). */
  readonly idleMs: number;
  /** An idle keep-alive connection is kept this long; above the load balancers' idle timeouts (ALB: 60 s). */
  readonly keepAliveMs: number;
  /** How often Node checks the two request timeouts above. */
  readonly checkEveryMs: number;
  /** An answer must be written within this (a client that reads it too slowly is cut, freeing its slot). */
  readonly responseMs: number;
}

export const DEFAULT_TIMEOUTS: EdgeTimeouts = {
  requestMs: 30_000,
  headersMs: 10_000,
  idleMs: 60_000,
  keepAliveMs: 72_000,
  checkEveryMs: 1_000,
  responseMs: 60_000,
};

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
  /** Authenticated requests answered at once; beyond it, 429 with Retry-After. Probes and metrics are not counted. @default 256 */
  readonly maxConcurrentRequests?: number;
  /** Other requests (no or a wrong token, public pages) answered at once, in a pool of their own. @default 64 */
  readonly maxUnauthenticatedRequests?: number;
  /** Failed authentications per client address per minute before 429. @default 20 */
  readonly authFailuresPerMinute?: number;
  /** Whose X-Forwarded-For to believe (SCIM_TRUST_PROXY). @default none */
  readonly trustProxy?: TrustProxy;
  /** @default DEFAULT_TIMEOUTS */
  readonly timeouts?: Partial<EdgeTimeouts>;
  /** How an early answer waits for the rest of a body before closing. @default DEFAULT_LINGER */
  readonly linger?: Partial<LingerOptions>;
  /** Largest request head (request line and headers) in bytes; larger ones get 431. @default 16 KiB (Node's) */
  readonly maxHeaderBytes?: number;
  /** Shown on the status page. @default 90 */
  readonly eventRetentionDays?: number;
  /** When this bridge started (uptime). @default now */
  readonly startedAt?: Date;
  /** Makes the HTTPS server fastify listens with: TLS in the bridge itself (http/tls.ts). @default plain HTTP */
  readonly httpsServerFactory?: FastifyServerFactory;
  /** A directory sync's status (Google Workspace), shown by the status page; absent when none is configured. */
  readonly syncStatus?: () => SyncStatus | undefined;
  /** Long-polls of the change feed waiting at once; beyond it 429. @default 32, at most a quarter of maxConcurrentRequests */
  readonly maxFeedWaiters?: number;
  /** How often a waiting long-poll reads the change log for other replicas' commits, in ms. @default 1000 */
  readonly feedPollMs?: number;
  /** The webhook endpoints' statuses, shown by the status page. */
  readonly webhookStatus?: () => Promise<EndpointStatus[]>;
}

/** 1 MiB: a PUT of a group with ~10,000 members; larger membership changes arrive as PATCH. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Probes and metrics: never counted against the concurrency bound, so a saturated replica stays observable. */
const UNBOUNDED = { config: { unbounded: true } } as const;

export function buildApp(options: AppOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const metrics = options.metrics ?? new BridgeMetrics();
  const maxAuthenticated = options.maxConcurrentRequests ?? OPS_DEFAULTS.maxConcurrentRequests;
  const maxUnauthenticated = options.maxUnauthenticatedRequests ?? OPS_DEFAULTS.maxUnauthenticatedRequests;
  const failuresPerMinute = options.authFailuresPerMinute ?? OPS_DEFAULTS.authFailuresPerMinute;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const linger = { ...DEFAULT_LINGER, ...options.linger, bodyLimit };
  const level = options.logLevel === false ? false : (options.logLevel ?? 'info');
  const loggers = childLoggers(level);
  const log = { metrics, idInLine: loggers.idInLine, lines: loggers.lines };
  const errors = { log, linger };
  const counts = new InFlight();
  // Waiting long-polls hold authenticated slots: by default at most a quarter of them, so SCIM always has the rest.
  const feedWaiters = new ChangeWaiters(options.maxFeedWaiters ?? Math.max(1, Math.min(DEFAULT_MAX_WAITING, Math.floor(maxAuthenticated / 4))));

  const app = Fastify({
    logger:
      level === false
        ? false
        : {
            level,
            // The token never reaches a log line, even at debug level.
            redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
            ...(options.logStream ? { stream: options.logStream } : {}),
          },
    childLoggerFactory: loggers.factory,
    // One log line per request, written by plugins/request-log.ts.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    trustProxy: trustFunction(options.trustProxy ?? { kind: 'none' }),
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    requestIdHeader: false,
    // Requests that arrive while closing are answered by plugins/draining.ts, in SCIM shape with Retry-After.
    return503OnClosing: false,
    // `https: true` only tells fastify the factory's server is HTTPS (its logged addresses); the factory makes it.
    ...(options.httpsServerFactory ? { serverFactory: options.httpsServerFactory, https: true as unknown as null } : {}),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.idleMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: {
      // Refused in SCIM shape by plugins/scim-errors.ts instead of Node's bare 400.
      requireHostHeader: false,
      headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs),
      connectionsCheckingInterval: timeouts.checkEveryMs,
      ...(options.maxHeaderBytes ? { maxHeaderSize: options.maxHeaderBytes } : {}),
    },
    frameworkErrors: createFrameworkErrorHandler(errors),
    clientErrorHandler: createClientErrorHandler(errors),
  });

  // `Expect: 100-continue` (curl sends it above 1 MiB): invite the body only when it could be accepted, so a
  // client about to hear 413 or 401 never sends it. Node answers 100 itself unless someone listens here.
  app.server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const length = Number(request.headers['content-length']);
    if (!(length > bodyLimit) && bearerToken(request.headers.authorization) !== undefined) response.writeContinue();
    app.server.emit('request', request, response);
  });

  // The edge, in the order a request meets it. Hooks added per route (auth, admission, the log line) attach to
  // the routes declared after these plugins, which is why every route below is registered inside a plugin.
  app.register(securityHeaders);
  app.register(draining);
  app.register(scimErrors, errors);
  app.register(inputGuard, { bodyLimit });
  app.register(bearerAuth, {
    session: options.session,
    failuresPerMinute,
    recordEvent: (event) => options.store.recordEvent(event),
  });
  app.register(concurrency, { maxAuthenticated, maxUnauthenticated, counts });
  app.register(lingeringClose, linger);
  app.register(responseDeadline, { ms: timeouts.responseMs });
  app.register(requestLog, log);

  app.register(async (routes) => {
    routes.get(BRIDGE_PATHS.liveness, UNBOUNDED, async (_request, reply) => reply.type('application/json; charset=utf-8').send('{"status":"ok"}'));

    routes.get(BRIDGE_PATHS.readiness, UNBOUNDED, async (_request, reply) => {
      const storeCheck = await checkStore(options.store);
      const healthy = options.session.loaded && storeCheck.status === 'ok';
      return reply.code(healthy ? 200 : 503).send({
        status: healthy ? 'ok' : 'unavailable',
        version: options.version,
        session: { loaded: options.session.loaded, tokens: options.session.verifierCount },
        store: { kind: options.store.kind, status: storeCheck.status },
      });
    });

    routes.get(
      BRIDGE_PATHS.metrics,
      { config: { unbounded: true, bearer: options.metricsRequireToken === true && ROUTE_SCOPES.any } },
      async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );

    registerStatusPage(routes);
    registerStatusApi(routes, {
      store: options.store,
      session: options.session,
      metrics,
      version: options.version,
      startedAt: options.startedAt ?? new Date(),
      eventRetentionDays: options.eventRetentionDays ?? OPS_DEFAULTS.eventRetentionDays,
      limits: () => ({
        maxConcurrentRequests: maxAuthenticated,
        inFlight: counts.authenticated,
        maxUnauthenticatedRequests: maxUnauthenticated,
        unauthenticatedInFlight: counts.unauthenticated,
        authFailuresPerMinute: failuresPerMinute,
        maxFeedWaiters: feedWaiters.max,
        feedWaiting: feedWaiters.count,
      }),
      syncStatus: options.syncStatus,
      webhookStatus: options.webhookStatus,
    });
    registerHoldsApi(routes, { store: options.store });
    registerHoldsPage(routes);

    routes.register(feedRoutes, { store: options.store, waiters: feedWaiters, pollMs: options.feedPollMs });

    for (const prefix of [SCIM_BASE_PATH, '/scim', '']) {
      routes.register(async (scope) => registerScimRoutes(scope, { directory: options.directory }), { prefix });
    }
  });
  return app;
}
