/**
 * While the bridge shuts down (SIGTERM: a deploy, a scale-in), a request that still arrives on an open keep-alive
 * connection is answered 503 with Retry-After and `Connection: close` in SCIM shape, without running it, so the
 * identity provider retries it on another replica. Fastify's own answer for this (`return503OnClosing`, turned off
 * in app.ts) is a plain JSON body without Retry-After, the security headers, a log line or a metric.
 */
import { ScimError } from '../../scim/errors';
import { sendScimError } from '../reply';
import { rootPlugin } from './root-plugin';

export const draining = rootPlugin('scim-bridge-draining', (app) => {
  let closing = false;
  // preClose runs as close() begins, before the server stops accepting and while requests are in flight.
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (!closing) {
      done();
      return;
    }
    reply.header('connection', 'close');
    sendScimError(request, reply, new ScimError(503, 'The bridge is shutting down; retry the request', undefined, 1));
  });
});
