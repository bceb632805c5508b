/**
 * One log line and one metric per answered request. The route pattern is captured when each route is declared
 * (no per-request lookup); unmatched paths and framework errors count under `unmatched`. Probes and metrics
 * scrapes stay out of the status page's rates. The log line is built only when its level is on.
 */
import type { FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import { BRIDGE_PATHS } from '../../../../contract';
import type { BridgeMetrics } from '../../ops/metrics';
import { asArray } from './bearer-auth';
import { rootPlugin } from './root-plugin';

export const UNMATCHED_ROUTE = 'unmatched';

export interface RequestLogOptions {
  readonly metrics: BridgeMetrics;
  /** Whether the line carries the request id itself (false when request loggers are children bound to it). */
  readonly idInLine: boolean;
  /** Whether request lines are written at all (the level is info or more detailed). */
  readonly lines: boolean;
}

/**
 * Per-request child loggers cost an allocation and a rebinding per request: the bridge makes them only at debug
 * and trace, where other lines need the request id. Otherwise `request.log` is the root logger and the one request
 * line carries the id itself.
 */
export function childLoggers(level: string | false): {
  idInLine: boolean;
  lines: boolean;
  factory: <L extends { child(bindings: object): L }>(logger: L, bindings: object) => L;
} {
  const detailed = level === 'debug' || level === 'trace';
  return { idInLine: !detailed, lines: detailed || level === 'info', factory: (logger, bindings) => (detailed ? logger.child(bindings) : logger) };
}

/** Records an answered request: metrics, the identity providers seen, the log line. */
export function observeRequest(options: RequestLogOptions, route: string, rated: boolean, request: FastifyRequest, reply: FastifyReply): void {
  const { metrics } = options;
  const status = reply.statusCode;
  const ms = reply.elapsedTime;
  metrics.observeRequest(route, request.method, status, ms, rated);
  const auth = request.bridgeAuth;
  if (auth !== undefined && auth !== 'none' && route !== BRIDGE_PATHS.metrics && !route.startsWith('/api/')) {
    const agent = request.headers['user-agent'];
    metrics.clients.record(typeof agent === 'string' && agent ? agent.slice(0, 200) : 'unknown client', request.method, route, status, auth === 'ok');
  }
  if (!options.lines) return;
  const url = request.url;
  const query = url.indexOf('?');
  request.log.info(
    {
      ...(options.idInLine ? { reqId: request.id } : {}),
      method: request.method,
      path: (query < 0 ? url : url.slice(0, query)).slice(0, 512),
      route,
      status,
      ms: Math.round(ms * 10) / 10,
      agent: request.headers['user-agent'],
    },
    'request',
  );
}

export const requestLog = rootPlugin<RequestLogOptions>('scim-bridge-request-log', (app, options) => {
  app.addHook('onRoute', (route) => {
    if (route.url === undefined) return;
    const url = route.url;
    const rated = !route.config?.unbounded;
    const hook: onResponseHookHandler = (request, reply, done) => {
      observeRequest(options, url, rated, request, reply);
      done();
    };
    route.onResponse = [...asArray(route.onResponse), hook];
  });
  // The not-found handler is no declared route: it is counted here.
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) observeRequest(options, UNMATCHED_ROUTE, true, request, reply);
    done();
  });
});
