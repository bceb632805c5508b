/**
 * A fault-injecting front for the example consumer: every delivery is recorded as it arrives (for order and
 * completeness checks), then answered 500, left hanging, or handed to the consumer, as the test decides.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConsumerTable, type ConsumerServer, receive } from '../../examples/consumer/consumer';

/** `slow`: handed to the consumer after 25 ms (so a kill lands while deliveries are in flight). */
export type Fault = 'fail' | 'hang' | 'pass' | 'slow';

export interface Arrival {
  readonly id: string;
  readonly resource: string;
  readonly version: number;
  readonly position: number;
  /** The consumer answered 2xx (the change is in its table). */
  acknowledged: boolean;
}

export interface Front {
  readonly url: string;
  readonly arrivals: Arrival[];
  readonly table: ConsumerTable;
  fault: (arrival: Arrival, index: number) => Fault;
  /** The consumer verifies with this secret from now on. */
  useSecret(secret: string): Promise<void>;
  /** Ids the consumer acknowledged. */
  acknowledged(): Set<string>;
  until(check: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

export async function startFront(dbPath: string, secret: string): Promise<Front> {
  const table = new ConsumerTable(dbPath);
  let consumer: ConsumerServer = await receive(table, secret);
  const waiters = new Set<() => void>();
  const front: Front = {
    url: '',
    arrivals: [],
    table,
    fault: () => 'pass',
    async useSecret(next) {
      const old = consumer;
      consumer = await receive(table, next);
      await old.close();
    },
    acknowledged: () => new Set(front.arrivals.filter((a) => a.acknowledged).map((a) => a.id)),
    async until(check, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what} (${front.arrivals.length} arrivals)`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 200);
          waiters.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        waiters.clear();
      }
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await consumer.close();
      table.close();
    },
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const doc = JSON.parse(body.toString('utf8'));
      const arrival: Arrival = {
        id: String(request.headers['webhook-id']),
        resource: `${doc.data.resource.type}/${doc.data.resource.id}`,
        version: doc.data.resource.version,
        position: doc.data.position,
        acknowledged: false,
      };
      const fault = front.fault(arrival, front.arrivals.length);
      front.arrivals.push(arrival);
      if (fault === 'hang') return;
      if (fault === 'fail') {
        response.writeHead(500).end('injected failure');
        return;
      }
      const forward = () => {
        const onward = http.request(consumer.url, { method: 'POST', headers: { ...request.headers, host: new URL(consumer.url).host } }, (answer) => {
          answer.resume();
          answer.on('end', () => {
            arrival.acknowledged = answer.statusCode! >= 200 && answer.statusCode! < 300;
            response.writeHead(answer.statusCode!).end();
            for (const poke of [...waiters]) poke();
          });
        });
        onward.on('error', () => response.writeHead(502).end());
        onward.end(body);
      };
      if (fault === 'slow') setTimeout(forward, 25);
      else forward();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  (front as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  return front;
}

/** No resource ever got an older version after a newer one (duplicates allowed). */
export function orderViolations(arrivals: readonly Arrival[]): string[] {
  const last = new Map<string, { version: number; position: number }>();
  const violations: string[] = [];
  for (const a of arrivals) {
    const before = last.get(a.resource);
    if (before && (a.version < before.version || (a.version === before.version && a.position < before.position))) {
      violations.push(`${a.resource}: position ${a.position} (v${a.version}) after position ${before.position} (v${before.version})`);
    }
    if (!before || a.position > before.position) last.set(a.resource, { version: a.version, position: a.position });
  }
  return violations;
}
