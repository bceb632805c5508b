/**
 * The HTTP edge as Fastify plugins with one job each, in the order a request meets them:
 * security headers (every answer), SCIM errors (thrown, unknown paths, framework and parser errors), the input
 * guard (JSON bodies and URL text), bearer authentication and admission (per route, at onRequest, before the body),
 * the lingering close of early answers, and the request log with metrics. Each registers at the root (root-plugin.ts).
 */
export { bearerAuth, bearerToken, createAuthenticator } from './bearer-auth';
export { InFlight, concurrency, createAdmission } from './concurrency';
export { inputGuard } from './input-guard';
export { DEFAULT_LINGER, type LingerOptions, closePolitely, lingeringClose } from './linger';
export { childLoggers, observeRequest, requestLog } from './request-log';
export { createClientErrorHandler, createFrameworkErrorHandler, scimErrors, toScimError } from './scim-errors';
export { STATIC_HEADERS, applySecurityHeaders, securityHeaders } from './security-headers';
