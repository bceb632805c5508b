/**
 * A bound on requests in flight, in two pools: requests that presented a valid token (the identity providers)
 * and everything else. Unauthenticated requests are cheap answers (discovery, the status page, 401s), but a pool
 * of their own means no number of them, however slow, can take the identity providers' slots. Over a bound the
 * answer is 429 with Retry-After at once: identity providers honour it, and a queue would only grow. Probes and
 * metrics (`config: { unbounded: true }`) are never counted, so a saturated replica stays observable.
 */
import type { onRequestHookHandler } from 'fastify';
import { ScimError } from '../../scim/errors';
import { sendScimError } from '../reply';
import { asArray } from './bearer-auth';
import { rootPlugin } from './root-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Not counted against the concurrency bound (probes, metrics). */
    unbounded?: boolean;
  }
}

export interface ConcurrencyOptions {
  /** Authenticated requests answered at once. */
  readonly maxAuthenticated: number;
  /** Other requests answered at once. */
  readonly maxUnauthenticated: number;
}

export class InFlight {
  authenticated = 0;
  unauthenticated = 0;
}

const BUSY = 'The bridge is answering as many requests as it can; retry shortly';

export function createAdmission(options: ConcurrencyOptions, counts: InFlight): onRequestHookHandler {
  const releaseAuthenticated = () => {
    counts.authenticated--;
  };
  const releaseUnauthenticated = () => {
    counts.unauthenticated--;
  };
  return function admit(request, reply, done) {
    // Runs after bearer authentication: only a valid token reaches the identity providers' pool.
    if (request.bridgeAuth === 'ok') {
      if (counts.authenticated >= options.maxAuthenticated) {
        sendScimError(request, reply, new ScimError(429, BUSY, undefined, 1));
        return;
      }
      counts.authenticated++;
      reply.raw.once('close', releaseAuthenticated);
    } else {
      if (counts.unauthenticated >= options.maxUnauthenticated) {
        sendScimError(request, reply, new ScimError(429, BUSY, undefined, 1));
        return;
      }
      counts.unauthenticated++;
      reply.raw.once('close', releaseUnauthenticated);
    }
    done();
  };
}

export const concurrency = rootPlugin<ConcurrencyOptions & { readonly counts: InFlight }>('scim-bridge-concurrency', (app, options) => {
  const admit = createAdmission(options, options.counts);
  // Registered after bearer authentication, so each route's hooks run authenticate, then admit.
  app.addHook('onRoute', (route) => {
    if (!route.config?.unbounded) route.onRequest = [...asArray(route.onRequest), admit];
  });
});
