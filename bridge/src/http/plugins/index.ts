/**
 * The HTTP edge as Fastify plugins with one job each, in the order a request meets them:
 * security headers (every answer), draining (503 while shutting down), SCIM errors (thrown, unknown paths, framework and parser errors), the input
 * guard (JSON bodies and URL text), bearer authentication and admission (per route, at onRequest, before the body),
 * the lingering close of early answers, the bound on writing an answer, and the request log with metrics. Each registers at the root (root-plugin.ts).
 */
export { bearerAuth, bearerToken, createAuthenticator } from './bearer-auth';
export { InFlight, concurrency, createAdmission } from './concurrency';
export { draining } from './draining';
export { inputGuard } from './input-guard';
export { DEFAULT_LINGER, type LingerOptions, closePolitely, lingeringClose } from './linger';
export { childLoggers, observeRequest, requestLog } from './request-log';
export { responseDeadline } from './response-deadline';
export { createClientErrorHandler, createFrameworkErrorHandler, scimErrors, toScimError } from './scim-errors';
export { STATIC_HEADERS, applySecurityHeaders, securityHeaders } from './security-headers';
