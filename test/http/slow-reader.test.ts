/**
 * A client that reads its answer slowly (TCP backpressure) must not hold a concurrency slot forever. A trickle of
 * reads keeps the socket active, so the idle timeout never fires, and the request timeout covers only the request:
 * the answer itself needs a bound. Here one slot, a list answer of about 20 MB (far more than the socket buffers
 * hold) and a client that reads a little every 100 ms: the bridge cuts it within its response bound, and the next
 * request is admitted.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { UserRecord } from '../../bridge/src/store/types';
import { type TestEdge, startEdge } from '../support/edge';
import { recordFigures } from '../support/figures';

const RESPONSE_MS = 1500;

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a client that reads its answer slowly', () => {
  let edge: TestEdge;
  beforeAll(async () => {
    edge = await startEdge({ logLevel: false, maxConcurrentRequests: 1, timeouts: { idleMs: 60_000, responseMs: RESPONSE_MS } });
    const at = new Date().toISOString();
    await edge.store.transaction(async (tx) => {
      for (let i = 0; i < 400; i++) {
        const userName = `slow${i}@example.com`;
        const user: UserRecord = {
          id: randomUUID(),
          userName,
          active: true,
          version: 1,
          created: at,
          lastModified: at,
          doc: { userName, active: true, title: 'x'.repeat(50_000) },
        };
        await tx.insertUser(user);
      }
    });
  });
  afterAll(() => edge.stop());

  it('is cut within the response bound, and its slot goes to the next request', async () => {
    const { port } = new URL(edge.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET /scim/v2/Users?count=400 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${edge.token}\r\n\r\n`);
    socket.pause();
    let received = 0;
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    // A trickle: whatever the socket buffered, ten times a second.
    const reader = setInterval(() => {
      for (let chunk = socket.read(); chunk !== null; chunk = socket.read()) received += chunk.length;
    }, 100);
    try {
      const ask = () => fetch(`${edge.scim}/Users?count=1`, { headers: { authorization: `Bearer ${edge.token}` } });
      // The slow answer holds the only slot for now...
      await eventually(async () => (await ask()).status === 429, 5000);
      const started = Date.now();
      // ...and the bridge takes it back: the slow client is cut, and the next request is answered.
      await eventually(async () => (await ask()).status === 200, 10 * RESPONSE_MS);
      const freedMs = Date.now() - started;
      expect(freedMs).toBeLessThan(10 * RESPONSE_MS);
      // The slow client got part of the answer, then the end of the connection.
      clearInterval(reader);
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.resume();
      await eventually(async () => closed, 10_000);
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(400 * 50_000);
      recordFigures(`a client reading a 400-user page at a trickle, response bound ${RESPONSE_MS} ms, 1 slot`, {
        slotFreedAfterMs: freedMs,
        bytesTheSlowClientGot: received,
        exit: 'still running',
      });
    } finally {
      clearInterval(reader);
      socket.destroy();
    }
  });
});
