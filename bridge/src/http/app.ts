/**
 * The HTTP layer: thin. It parses requests, checks the bearer token, calls the directory and writes SCIM
 * responses; every error becomes a SCIM error body with the right status.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BRIDGE_PATHS, SCIM_BASE_PATH } from '../../../constructs/contract';
import type { Directory } from '../directory/directory';
import { ScimError, badRequest } from '../scim/errors';
import type { SessionHolder } from '../session/source';
import { StoreUnavailable, type Store } from '../store/types';
import { registerScimRoutes } from './scim-routes';

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
}

/** 1 MiB: a PUT of a group with ~10,000 members; larger membership changes arrive as PATCH. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function sendScimError(reply: FastifyReply, error: ScimError): FastifyReply {
  if (error.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="scim-bridge"');
  if (error.retryAfter) reply.header('Retry-After', String(error.retryAfter));
  return reply.code(error.status).type(SCIM_CONTENT_TYPE).send(error.toJSON());
}

/** Maps anything thrown while answering to a SCIM error; only real server faults are 500s. */
export function toScimError(error: unknown): ScimError {
  if (error instanceof ScimError) return error;
  if (error instanceof StoreUnavailable) return new ScimError(503, 'The bridge cannot reach its store right now; retry shortly', undefined, 5);
  const fastifyError = error as FastifyError;
  if (fastifyError.statusCode === 413) return new ScimError(413, `The request body is larger than the bridge accepts`);
  if (fastifyError.statusCode === 415) return badRequest('invalidSyntax', 'Send the body as application/scim+json or application/json');
  if (fastifyError.statusCode === 400 || error instanceof SyntaxError) return badRequest('invalidSyntax', `The request body is not valid JSON`);
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new ScimError(fastifyError.statusCode, fastifyError.message);
  }
  return new ScimError(500, 'The bridge failed to answer this request; the failure is logged with its request id');
}

export function buildApp(options: AppOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
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

  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });

  app.addHook('onResponse', async (request, reply) => {
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
  });

  app.setErrorHandler((error, request, reply) => {
    const scimError = toScimError(error);
    if (scimError.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendScimError(reply, scimError);
  });

  app.setNotFoundHandler((request, reply) => sendScimError(reply, new ScimError(404, `No resource at ${request.method} ${request.url.split('?')[0]}`)));

  app.get(BRIDGE_PATHS.liveness, async () => ({ status: 'ok' }));

  app.get(BRIDGE_PATHS.readiness, async (_request, reply) => {
    const storeCheck = await Promise.race([
      options.store.ping().then(() => 'ok' as const, () => 'unreachable' as const),
      new Promise<'timeout'>((resolve) => setTimeout(resolve, 2000, 'timeout').unref()),
    ]);
    const healthy = options.session.loaded && storeCheck === 'ok';
    return reply.code(healthy ? 200 : 503).send({
      status: healthy ? 'ok' : 'unavailable',
      version: options.version,
      session: { loaded: options.session.loaded, tokens: options.session.verifierCount },
      store: { kind: options.store.kind, status: storeCheck },
    });
  });

  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) return sendScimError(reply, new ScimError(401, 'Send the bearer token of the bridge in the Authorization header'));
    if (!options.session.verify(match[1])) return sendScimError(reply, new ScimError(401, 'The bearer token is not valid for this bridge'));
  };

  for (const prefix of [SCIM_BASE_PATH, '/scim', '']) {
    app.register(async (scope) => registerScimRoutes(scope, { directory: options.directory, authenticate, bodyLimit }), { prefix });
  }
  return app;
}

export const SCIM_JSON = SCIM_CONTENT_TYPE;
