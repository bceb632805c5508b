/** Writing SCIM answers: the negotiated media type, the body as a ready string, the headers errors need. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ScimError } from '../scim/errors';
import { responseMediaType } from './media-type';

/** Sends a SCIM body (an object, serialized here once) with the media type the client accepts. */
export function sendScim(request: FastifyRequest, reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(responseMediaType(request.headers.accept)).send(JSON.stringify(body));
}

/** Sends a SCIM body already serialized (a list page built resource by resource). */
export function sendScimText(request: FastifyRequest, reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type(responseMediaType(request.headers.accept)).send(text);
}

export function sendScimError(request: FastifyRequest, reply: FastifyReply, error: ScimError): FastifyReply {
  if (error.status === 401) reply.header('www-authenticate', 'Bearer realm="scim-bridge"');
  if (error.retryAfter) reply.header('retry-after', String(error.retryAfter));
  return sendScim(request, reply, error.status, error.toJSON());
}
