/** The two admission pools of plugins/concurrency.ts, driven directly: each bounded alone, each slot freed on close. */
import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InFlight, createAdmission } from '../../bridge/src/http/plugins/concurrency';

function fakeExchange(auth: 'ok' | 'rejected' | 'none') {
  const raw = new EventEmitter();
  const sent: number[] = [];
  const reply = {
    raw,
    code(status: number) {
      sent.push(status);
      return reply;
    },
    header: () => reply,
    type: () => reply,
    send: () => reply,
  };
  const request = { bridgeAuth: auth, headers: {} };
  return { request: request as unknown as FastifyRequest, reply: reply as unknown as FastifyReply, raw, sent };
}

describe('admission pools', () => {
  it('bounds authenticated and other requests separately, and frees a slot when its response closes', () => {
    const counts = new InFlight();
    const admit = createAdmission({ maxAuthenticated: 2, maxUnauthenticated: 1 }, counts);
    const run = (auth: 'ok' | 'none') => {
      const exchange = fakeExchange(auth);
      let admitted = false;
      admit.call(undefined as never, exchange.request, exchange.reply, () => (admitted = true));
      return { ...exchange, admitted };
    };
    const a = run('ok');
    const b = run('ok');
    const anonymous = run('none');
    expect([a.admitted, b.admitted, anonymous.admitted]).toEqual([true, true, true]);
    // Both pools full: each refuses its own kind with 429, and only its own kind.
    const c = run('ok');
    expect(c.admitted).toBe(false);
    expect(c.sent).toEqual([429]);
    const another = run('none');
    expect(another.sent).toEqual([429]);
    expect(counts).toMatchObject({ authenticated: 2, unauthenticated: 1 });
    a.raw.emit('close');
    anonymous.raw.emit('close');
    expect(counts).toMatchObject({ authenticated: 1, unauthenticated: 0 });
    expect(run('ok').admitted).toBe(true);
    expect(run('none').admitted).toBe(true);
  });
});
