/**
 * Every failure as a SCIM error body (RFC 7644 §3.12) with the usual headers, a log line and a metric: thrown
 * errors, unknown paths (answered at `onRequest`, before any body is read), Fastify's framework errors (a path
 * parameter over its length, bad percent-encoding: these skip every hook) and the HTTP parser's (header
 * overflow, request timeout: these come before there is a request at all). Only real server faults are 500s.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ScimError, badRequest } from '../../scim/errors';
import { SCIM_CONTENT_TYPE } from '../../scim/messages';
import { asScimError } from '../../directory/store-refusal';
import { StoreRefused, StoreUnavailable } from '../../store/types';
import { sendScimError } from '../reply';
import { type LingerOptions, closePolitely } from './linger';
import { type RequestLogOptions, UNMATCHED_ROUTE, observeRequest } from './request-log';
import { STATIC_HEADERS, applySecurityHeaders } from './security-headers';
import { rootPlugin } from './root-plugin';

/**
 * A store failure: the store's own status and Retry-After, or 503 in 5 s. The subclasses' messages are written for
 * clients (pool busy, timed out, full, not ready); the base class may carry a driver's words, which are only logged.
 */
function storeError(error: StoreUnavailable): ScimError {
  const status = typeof error.status === 'number' && error.status >= 500 ? error.status : 503;
  const retryAfter = typeof error.retryAfterSeconds === 'number' && error.retryAfterSeconds > 0 ? error.retryAfterSeconds : 5;
  const typed = Object.getPrototypeOf(error) !== StoreUnavailable.prototype;
  const detail = typed
    ? error.message
    : status === 507
      ? "The bridge's store is full; retry later"
      : 'The bridge cannot use its store right now; retry shortly';
  return new ScimError(status, detail, undefined, retryAfter);
}

/** Maps anything thrown while answering to a SCIM error. */
export function toScimError(error: unknown): ScimError {
  if (error instanceof ScimError) return error;
  if (error instanceof StoreRefused) return asScimError(error) as ScimError;
  if (error instanceof StoreUnavailable) return storeError(error);
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ScimError(413, 'The request body is larger than the bridge accepts');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return badRequest('invalidSyntax', 'The request body is not as long as its Content-Length says');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ScimError(404, 'No resource at this path: resource ids are at most 100 characters');
    case 'FST_ERR_BAD_URL':
      return badRequest('invalidValue', 'The request path is not validly percent-encoded');
  }
  if (fastifyError.statusCode === 413) return new ScimError(413, 'The request body is larger than the bridge accepts');
  if (fastifyError.statusCode === 415) return badRequest('invalidSyntax', 'Send the body as application/scim+json or application/json');
  if (fastifyError.statusCode === 400 || error instanceof SyntaxError) return badRequest('invalidSyntax', 'The request body is not valid JSON');
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new ScimError(fastifyError.statusCode, STATUS_CODES[fastifyError.statusCode] ?? 'The request was refused');
  }
  return new ScimError(500, 'The bridge failed to answer this request; the failure is logged with its request id');
}

export interface ScimErrorsOptions {
  readonly log: RequestLogOptions;
  readonly linger: LingerOptions & { readonly bodyLimit: number };
}

function logFailure(request: FastifyRequest, error: unknown, scimError: ScimError): void {
  // A ScimError is an answer by design (501 for /Me and /Bulk), not a failure: only the unforeseen is logged as one.
  if (scimError.status < 500 || (error instanceof ScimError && error.status !== 500)) return;
  if (error instanceof StoreUnavailable) request.log.warn({ reqId: request.id, reason: error.message, status: scimError.status }, 'store unavailable');
  else request.log.error({ reqId: request.id, err: error }, 'request failed');
}

export const scimErrors = rootPlugin<ScimErrorsOptions>('scim-bridge-scim-errors', (app) => {
  app.setErrorHandler((error, request, reply) => {
    const scimError = toScimError(error);
    logFailure(request, error, scimError);
    return sendScimError(request, reply, scimError);
  });
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    sendScimError(request, reply, new ScimError(404, `No resource at ${request.method} ${request.url.split('?')[0].slice(0, 200)}`));
  app.setNotFoundHandler(notFound);
  app.addHook('onRequest', (request, reply, done) => {
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400. Node's own check (requireHostHeader, turned off in
    // app.ts) would answer it with a bare 400 that skips the SCIM body, the headers, the log line and the metric.
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      sendScimError(request, reply, badRequest('invalidSyntax', 'An HTTP/1.1 request needs a Host header'));
      return;
    }
    // Unknown paths are answered before their body is read: nobody needs a 1 MiB body parsed to hear 404.
    if (request.is404) {
      notFound(request, reply);
      return;
    }
    done();
  });
});

/** Fastify's `frameworkErrors`: the errors it raises while routing, before any hook runs. */
export function createFrameworkErrorHandler(options: ScimErrorsOptions) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    applySecurityHeaders(request, reply);
    closePolitely(request, reply, options.linger);
    reply.raw.once('finish', () => observeRequest(options.log, UNMATCHED_ROUTE, true, request, reply));
    sendScimError(request, reply, toScimError(error));
  };
}

const RAW_HEADERS = Object.entries(STATIC_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

/**
 * The server's `clientError`: the HTTP parser refused the request (431 header overflow, 400 malformed) or the
 * request took too long to arrive (408). Written to the socket directly: there is no request object.
 */
export function createClientErrorHandler(options: ScimErrorsOptions) {
  return function clientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const requestId = randomUUID();
    options.log.metrics.observeRequest(UNMATCHED_ROUTE, 'unknown', status, 0, true);
    this.log.info({ reqId: requestId, status, code: error.code }, 'client error');
    // An answer already under way on this socket (a slow reader, a lingering close): nothing more can be said.
    const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || current?.headersSent) {
      socket.destroy();
      return;
    }
    const detail =
      status === 408
        ? 'The request did not arrive in time; the bridge closed the connection'
        : status === 431
          ? 'The request headers are larger than the bridge accepts'
          : 'The request is not valid HTTP';
    const body = JSON.stringify(new ScimError(status, detail).toJSON());
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: ${SCIM_CONTENT_TYPE}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n${RAW_HEADERS}\r\n${body}`,
    );
    // Read what the client still sends for a moment, so the answer is not lost to a reset; then close.
    const timer = setTimeout(() => socket.destroy(), Math.min(options.linger.ms, 1000));
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.on('data', () => undefined);
    socket.resume();
  };
}
