/**
 * Security headers and the request id on every answer, set at `onRequest` so that answers sent from any later
 * hook (401, 429, 404) carry them too. Framework errors, which skip the hooks, call `applySecurityHeaders` directly.
 */
import type { FastifyPluginOptions, FastifyReply, FastifyRequest } from 'fastify';
import { CONTENT_SECURITY_POLICY } from '../status-page';
import { rootPlugin } from './root-plugin';

export const STATIC_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // SCIM answers and the API carry directory data: no cache may keep them. The page's assets override this.
  'cache-control': 'no-store',
});
const STATIC_NAMES = Object.keys(STATIC_HEADERS);
const HSTS = 'max-age=31536000; includeSubDomains';

export function applySecurityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  for (let i = 0; i < STATIC_NAMES.length; i++) reply.header(STATIC_NAMES[i], STATIC_HEADERS[STATIC_NAMES[i]]);
  // Over HTTPS only: the bridge's own TLS, or a trusted proxy's X-Forwarded-Proto (SCIM_TRUST_PROXY).
  if (request.protocol === 'https') reply.header('strict-transport-security', HSTS);
}

export const securityHeaders = rootPlugin<FastifyPluginOptions>('scim-bridge-security-headers', (app) => {
  app.addHook('onRequest', (request, reply, done) => {
    applySecurityHeaders(request, reply);
    done();
  });
});
