/**
 * A webhook receiver on loopback for the tests: verifies every delivery with the standardwebhooks package (the
 * specification's reference implementation) and records it; how it answers is up to the test.
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Delivery {
  readonly id: string;
  readonly body: { id: string; type: string; timestamp: string; data: { position: number; resource: { type: string; id: string; version: number } } };
  readonly verified: boolean;
  readonly at: number;
}

export interface Answer {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Wait this long before answering. */
  readonly delayMs?: number;
  /** Never answer (the bridge's timeout ends the request). */
  readonly hang?: boolean;
}

export interface Receiver {
  readonly url: string;
  readonly deliveries: Delivery[];
  /** Every delivery's signature verified with `secret`. */
  secret: string;
  answer: (delivery: Delivery, index: number) => Answer;
  /** Resolves once `check` holds (re-checked on each delivery), or rejects after `timeoutMs`. */
  until(check: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(secret: string, tls?: { cert: string; key: string }, path = '/hooks'): Promise<Receiver> {
  const waiters = new Set<() => void>();
  const receiver: Receiver = {
    url: '',
    deliveries: [],
    secret,
    answer: () => ({ status: 204 }),
    async until(check, timeoutMs = 20_000) {
      if (check()) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(poke);
          reject(new Error(`receiver: condition not met within ${timeoutMs} ms (${receiver.deliveries.length} deliveries)`));
        }, timeoutMs);
        const poke = () => {
          if (!check()) return;
          clearTimeout(timer);
          waiters.delete(poke);
          resolve();
        };
        waiters.add(poke);
      });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const handler: http.RequestListener = (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let verified = true;
      try {
        new Webhook(receiver.secret).verify(text, request.headers as Record<string, string>);
      } catch {
        verified = false;
      }
      const delivery: Delivery = { id: String(request.headers['webhook-id']), body: JSON.parse(text), verified, at: Date.now() };
      const index = receiver.deliveries.length;
      const answer = receiver.answer(delivery, index);
      // Recorded when answered with a 2xx only after the answer is out, as the bridge sees it.
      receiver.deliveries.push(delivery);
      for (const poke of [...waiters]) poke();
      if (answer.hang) return;
      setTimeout(() => {
        response.writeHead(answer.status ?? 204, answer.headers);
        response.end(answer.body);
      }, answer.delayMs ?? 0);
    });
  };
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  (receiver as { url: string }).url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}${path}`;
  return receiver;
}

/** Deliveries acknowledged-or-not, per resource, as the versions arrived: each list must never go down. */
export function versionsByResource(deliveries: readonly Delivery[]): Map<string, number[]> {
  const map = new Map<string, number[]>();
  for (const d of deliveries) {
    const key = `${d.body.data.resource.type}/${d.body.data.resource.id}`;
    if (!map.has(key)) map.set(key, []);
    map.get(key)!.push(d.body.data.resource.version);
  }
  return map;
}

/** True when no resource ever got an older version after a newer one. */
export function inOrderPerResource(deliveries: readonly Delivery[]): boolean {
  for (const versions of versionsByResource(deliveries).values()) {
    for (let i = 1; i < versions.length; i++) if (versions[i] < versions[i - 1]) return false;
  }
  return true;
}
