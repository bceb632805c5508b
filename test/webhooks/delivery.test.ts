/**
 * The delivery loop on both stores, against real HTTP receivers on loopback (the change log itself is in memory
 * here; the end-to-end tests run the real one): every change arrives, verified, in order per resource, at least
 * once, through failures, timeouts, Retry-After, a dead letter and its redrive, a replay, and two replicas.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebhookDelivery } from '../../bridge/src/feed/delivery';
import type { WebhookEndpoint } from '../../bridge/src/feed/endpoint-record';
import { registerEndpoint } from '../../bridge/src/feed/endpoints';
import { parseCidrs } from '../../bridge/src/feed/safe-target';
import { PostgresStore } from '../../bridge/src/store/postgres';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import type { Store } from '../../bridge/src/store/types';
import { createPki } from '../doctor/pki';
import { STORE_KINDS } from '../support/bridge';
import { freshDatabase } from '../support/postgres';
import { MemoryLog, withLog } from './memory-log';
import { type Receiver, inOrderPerResource, startReceiver } from './receiver';

const quiet = process.env.DEBUG_WEBHOOKS
  ? { info: console.log, warn: console.log, error: console.log }
  : { info: () => undefined, warn: () => undefined, error: () => undefined };
const loopback = { allowLoopback: true, allowPrivate: parseCidrs('') };
const fast = { baseMs: 20, maxMs: 200, windowMs: 60_000, jitter: 0.2 };

describe.each(STORE_KINDS)('webhook delivery (%s)', (kind) => {
  let dir: string;
  let store: Store;
  let log: MemoryLog;
  let receiver: Receiver;
  let deliverers: WebhookDelivery[];

  const open = async (): Promise<Store> => {
    if (kind === 'sqlite') return SqliteStore.open(join(dir, 'bridge.db'));
    return PostgresStore.connect(url);
  };
  let url: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scim-webhooks-'));
    if (kind === 'postgres') url = await freshDatabase();
    store = await open();
    await store.migrate();
    log = new MemoryLog();
    receiver = await startReceiver('');
    deliverers = [];
  });

  afterEach(async () => {
    for (const d of deliverers) await d.stop();
    await receiver.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deliver = (options: Partial<ConstructorParameters<typeof WebhookDelivery>[0]> = {}, on: Store = store) => {
    const delivery = new WebhookDelivery({ store: withLog(on, log), declared: [], policy: loopback, log: quiet, retry: fast, pollMs: 50, ...options });
    deliverers.push(delivery);
    return delivery;
  };

  /** The endpoint's row once `check` holds (the progress is written a moment after the receiver answers). */
  const untilRow = async (id: string, check: (row: WebhookEndpoint) => boolean) => {
    for (let i = 0; i < 400; i++) {
      const row = await store.getWebhookEndpoint(id);
      if (row && check(row)) return row;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`endpoint ${id}: condition not met in 10 s: ${JSON.stringify(await store.getWebhookEndpoint(id))}`);
  };

  const register = async (target = receiver, events?: string[]) => {
    const { endpoint, secret } = await registerEndpoint(withLog(store, log), { url: target.url, events }, loopback);
    target.secret = secret;
    return endpoint;
  };

  it('delivers every change after registration, signed and in position order, filtered by type', async () => {
    log.append('user.created', 'before');
    const endpoint = await register(receiver, ['user.*']);
    await deliver({ concurrency: 1 }).start();
    for (let i = 0; i < 20; i++) log.append(i % 4 === 3 ? 'group.created' : 'user.updated', `u${i % 5}`);
    const wanted = log.changes.filter((c) => c.position > 1 && c.type.startsWith('user.'));
    await receiver.until(() => receiver.deliveries.length >= wanted.length);
    expect(receiver.deliveries.map((d) => d.id)).toEqual(wanted.map((c) => `chg_default_${c.position}`));
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
    // The cursor passes the filtered-out tail too.
    const row = await untilRow(endpoint.id, (r) => r.position === log.changes.length);
    expect(row.delivered).toBe(wanted.length);
  });

  it('keeps order per resource with requests in flight across resources, while the receiver fails, stalls and times out', async () => {
    await register();
    // Every third request fails, every fifth waits, some hang past the bridge's timeout.
    receiver.answer = (_d, i) => (i % 3 === 1 ? { status: 500 } : i % 17 === 4 ? { hang: true } : { status: 200, delayMs: i % 5 === 0 ? 30 : 0 });
    await deliver({ concurrency: 6, timeoutMs: 300, leaseMs: 5_000 }).start();
    for (let i = 0; i < 60; i++) log.append('user.updated', `u${i % 7}`);
    const delivered = () => new Set(receiver.deliveries.filter((_d, i) => !(i % 3 === 1 || i % 17 === 4)).map((d) => d.id));
    await receiver.until(() => log.changes.every((c) => delivered().has(`chg_default_${c.position}`)), 30_000);
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
    expect(inOrderPerResource(receiver.deliveries)).toBe(true);
  });

  it('waits at least what Retry-After asks on a 429', async () => {
    const endpoint = await register();
    receiver.answer = (_d, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 });
    await deliver().start();
    log.append('user.created', 'u1');
    await receiver.until(() => receiver.deliveries.length >= 2);
    expect(receiver.deliveries[1].at - receiver.deliveries[0].at).toBeGreaterThanOrEqual(950);
    const row = await untilRow(endpoint.id, (r) => r.delivered === 1);
    expect(row.failures).toBe(1);
  });

  it('dead-letters the head change after the retry window, holds later ones behind it, and redrives', async () => {
    const endpoint = await register();
    receiver.answer = () => ({ status: 500, body: 'down for maintenance' });
    await deliver({ retry: { ...fast, windowMs: 150 } }).start();
    log.append('user.created', 'u1');
    log.append('user.created', 'u2');
    let row: WebhookEndpoint | undefined = await untilRow(endpoint.id, (r) => r.deadPosition !== undefined);
    expect(row).toMatchObject({ deadPosition: 1, position: 0, lastStatus: 500 });
    expect(row?.lastError).toMatch(/down for maintenance/);
    expect((await store.listEvents({ limit: 5 })).map((e) => e.action)).toContain('webhook.dead-letter');
    const seen = receiver.deliveries.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.deliveries.length).toBe(seen);
    receiver.answer = () => ({ status: 204 });
    await store.commandWebhookEndpoint(endpoint.id, { redrive: true });
    await receiver.until(() => receiver.deliveries.some((d) => d.id === 'chg_default_2'));
    row = await store.getWebhookEndpoint(endpoint.id);
    expect(row?.deadPosition).toBeUndefined();
  });

  it('follows no redirect, and refuses a loopback name at connect time when loopback is not allowed', async () => {
    const other = await startReceiver('');
    try {
      const endpoint = await register();
      receiver.answer = () => ({ status: 307, headers: { location: other.url } });
      await deliver().start();
      log.append('user.created', 'u1');
      await receiver.until(() => receiver.deliveries.length >= 2);
      expect(other.deliveries).toHaveLength(0);
      expect((await untilRow(endpoint.id, (r) => r.lastError !== undefined)).lastError).toMatch(/307 \(redirects are not followed\)/);

      // Registered while loopback was allowed; delivered by a replica that does not allow it: refused where it connects.
      for (const d of deliverers.splice(0)) await d.stop();
      const named = await registerEndpoint(withLog(store, log), { url: other.url.replace('127.0.0.1', 'localhost'), name: 'by-name' }, loopback);
      await deliver({ policy: { allowLoopback: false, allowPrivate: parseCidrs('') } }).start();
      log.append('user.created', 'u2');
      const row = await untilRow(named.endpoint.id, (r) => r.lastError !== undefined);
      expect(row.lastError).toMatch(/refused addresses.*loopback/);
      expect(other.deliveries).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('delivers over verified TLS to a CA the test makes, and fails TLS to a CA it was not given', async () => {
    const pki = createPki();
    const leaf = pki.issue('receiver', { hosts: ['127.0.0.1'] });
    const tlsReceiver = await startReceiver('', { cert: readPem(leaf.cert), key: readPem(leaf.key) });
    try {
      const endpoint = await register(tlsReceiver);
      const untrusting = deliver();
      await untrusting.start();
      log.append('user.created', 'u1');
      const row = await untilRow(endpoint.id, (r) => r.lastError !== undefined);
      expect(row.lastError).toMatch(/certificate/i);
      await untrusting.stop();
      await deliver({ policy: { ...loopback, ca: readPem(pki.caFile) } }).start();
      await tlsReceiver.until(() => tlsReceiver.deliveries.length >= 1);
      expect(tlsReceiver.deliveries[0].verified).toBe(true);
    } finally {
      await tlsReceiver.close();
      pki.cleanup();
    }
  });

  it('replays from a position: the same sequence again', async () => {
    const endpoint = await register();
    await deliver({ concurrency: 1 }).start();
    for (let i = 0; i < 10; i++) log.append('user.updated', `u${i % 3}`);
    await receiver.until(() => receiver.deliveries.length >= 10);
    const first = receiver.deliveries.map((d) => JSON.stringify(d.body));
    await store.commandWebhookEndpoint(endpoint.id, { position: 0 });
    await receiver.until(() => receiver.deliveries.length >= 20);
    expect(receiver.deliveries.slice(10).map((d) => JSON.stringify(d.body))).toEqual(first);
  });

  it('two replicas share the work under the lease: everything once in order, never two at a time for an endpoint', async () => {
    await register();
    let inFlight = 0;
    let most = 0;
    receiver.answer = () => {
      most = Math.max(most, ++inFlight);
      setTimeout(() => inFlight--, 5);
      return { status: 204, delayMs: 5 };
    };
    const second = await open();
    try {
      await deliver({ concurrency: 1 }).start();
      await deliver({ concurrency: 1 }, second).start();
      for (let i = 0; i < 40; i++) log.append('user.updated', `u${i % 4}`);
      await receiver.until(() => new Set(receiver.deliveries.map((d) => d.id)).size >= 40, 30_000);
      expect(most).toBe(1);
      expect(inOrderPerResource(receiver.deliveries)).toBe(true);
    } finally {
      for (const d of deliverers.splice(0)) await d.stop();
      await second.close();
    }
  });
});

function readPem(path: string): string {
  return require('node:fs').readFileSync(path, 'utf8');
}
