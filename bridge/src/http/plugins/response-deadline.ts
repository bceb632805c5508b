/**
 * A bound on writing an answer. A client that reads slowly (TCP backpressure) keeps its socket active, so the idle
 * timeout never fires, and the request timeout covers only the request: without this, a trickle of reads holds a
 * concurrency slot, and the memory of the answer, for as long as the client likes. An answer not handed to the
 * operating system within `ms` of being sent has its connection closed (which also frees the slot).
 */
import { rootPlugin } from './root-plugin';

export interface ResponseDeadlineOptions {
  readonly ms: number;
}

export const responseDeadline = rootPlugin<ResponseDeadlineOptions>('scim-bridge-response-deadline', (app, { ms }) => {
  app.addHook('onSend', (request, reply, payload, done) => {
    const res = reply.raw;
    const timer = setTimeout(() => {
      request.log.warn({ reqId: request.id, ms }, 'the client did not read its answer in time; connection closed');
      res.destroy();
    }, ms);
    timer.unref();
    // A response emits 'close' once it is done, whether it finished or its connection went away: one listener.
    res.on('close', () => clearTimeout(timer));
    done(null, payload);
  });
});
