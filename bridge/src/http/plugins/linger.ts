/**
 * A readable answer to a request whose body is still arriving (413, 401 at `onRequest`, 429): the answer is sent
 * with `Connection: close`, then the bridge half-closes and keeps reading, discarding, a bounded amount for a
 * bounded time before it closes. Closing at once would leave the client's unread bytes in the socket, and the
 * reset that follows can reach the client before it reads the answer (Node's fetch then reports EPIPE instead of
 * the 413; curl "connection reset"). nginx's `lingering_close` does the same.
 *
 * One exception keeps the connection: an identity provider (a valid token) told 429 while its body of acceptable
 * size arrives. Node then reads and discards the rest itself (bounded by the request timeout) and the next request
 * reuses the connection, so a burst of 429s is not also a burst of reconnections.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { rootPlugin } from './root-plugin';

export interface LingerOptions {
  /** Longest wait for the client to stop sending, in ms. */
  readonly ms: number;
  /** Most body bytes read (and discarded) after the answer. */
  readonly bytes: number;
  /** Sockets lingering at once; beyond it, the connection is closed at once. */
  readonly maxSockets: number;
}

export const DEFAULT_LINGER: LingerOptions = { ms: 5_000, bytes: 16 * 1024 * 1024, maxSockets: 1024 };

const kLinger = Symbol('scim-bridge.linger');
type LingeringSocket = Socket & { [kLinger]?: true; destroySoon?: () => void };

let lingering = 0;

/** Whether the request announced a body. */
export function announcesBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/**
 * Arms the socket of `request` so that, when Node closes it after the answer (`Connection: close`), it lingers
 * instead. Node's server calls `socket.destroySoon()` once the response is written: that one call is replaced.
 */
export function lingerAfterAnswer(request: IncomingMessage, options: LingerOptions): void {
  const socket = request.socket as LingeringSocket;
  if (!socket || socket[kLinger] || socket.destroyed) return;
  if (lingering >= options.maxSockets) return; // Node's own close: a reset, but a bounded number of sockets
  socket[kLinger] = true;
  socket.destroySoon = function lingeringClose(this: LingeringSocket) {
    lingering++;
    let received = 0;
    let timer: NodeJS.Timeout | undefined;
    const close = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (!this.destroyed) this.destroy();
    };
    this.once('close', () => {
      lingering--;
      if (timer) clearTimeout(timer);
    });
    // Our answer is written: send FIN after it, and keep the read side open.
    this.end();
    if (request.complete) {
      close();
      return;
    }
    timer = setTimeout(close, options.ms);
    timer.unref();
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > options.bytes) close();
    });
    request.once('end', close);
    request.once('error', close);
    this.once('end', close); // the client closed its side: it has stopped sending
    request.resume();
  };
}

/** Called as an answer is sent: arms the lingering close when the request's body is still to come. */
export function closePolitely(request: FastifyRequest, reply: FastifyReply, options: LingerOptions & { readonly bodyLimit: number }): void {
  const raw = request.raw;
  if (raw.complete || !announcesBody(raw)) return;
  const length = Number(raw.headers['content-length']);
  const keepAlive =
    request.bridgeAuth === 'ok' &&
    Number.isFinite(length) &&
    length <= options.bodyLimit &&
    raw.headers.expect === undefined && // a client that waits for 100-continue it will not get must be released
    reply.getHeader('connection') !== 'close';
  if (keepAlive) return;
  reply.header('connection', 'close');
  lingerAfterAnswer(raw, options);
}

export const lingeringClose = rootPlugin<LingerOptions & { readonly bodyLimit: number }>('scim-bridge-linger', (app, options) => {
  app.addHook('onSend', (request, reply, payload, done) => {
    closePolitely(request, reply, options);
    done(null, payload);
  });
});
