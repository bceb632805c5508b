/**
 * The store's leases and shared state, on both adapters: what lets exactly one replica run the directory sync and
 * every replica show its progress. (The store engineer adds the same four methods; this suite pins their behaviour.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStore } from '../../bridge/src/store/postgres';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import type { Store } from '../../bridge/src/store/types';
import { STORE_KINDS } from '../support/bridge';
import { freshDatabase } from '../support/postgres';

const until = async (check: () => Promise<boolean>, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe.each(STORE_KINDS)('leases and state (%s)', (kind) => {
  let a: Store;
  let b: Store;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scim-lease-'));
    if (kind === 'sqlite') {
      // Two connections to one file, as two processes on one machine would have.
      a = SqliteStore.open(join(dir, 'bridge.db'));
      await a.migrate();
      b = SqliteStore.open(join(dir, 'bridge.db'));
    } else {
      const url = await freshDatabase();
      a = await PostgresStore.connect(url);
      await a.migrate();
      b = await PostgresStore.connect(url);
    }
    await b.migrate();
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives a lease to one holder until it expires or is released', async () => {
    expect(await a.tryAcquireLease('job', 'replica-a', 60_000)).toBe(true);
    expect(await b.tryAcquireLease('job', 'replica-b', 60_000)).toBe(false);
    // The holder renews; the other still cannot take it.
    expect(await a.tryAcquireLease('job', 'replica-a', 60_000)).toBe(true);
    expect(await b.tryAcquireLease('job', 'replica-b', 60_000)).toBe(false);
    // Releasing by someone else does nothing; by the holder frees it.
    await b.releaseLease('job', 'replica-b');
    expect(await b.tryAcquireLease('job', 'replica-b', 60_000)).toBe(false);
    await a.releaseLease('job', 'replica-a');
    expect(await b.tryAcquireLease('job', 'replica-b', 60_000)).toBe(true);
    // Leases are per name.
    expect(await a.tryAcquireLease('other-job', 'replica-a', 60_000)).toBe(true);
  });

  it('lets another holder take an expired lease (a crashed replica)', async () => {
    expect(await a.tryAcquireLease('short', 'crashed', 150)).toBe(true);
    expect(await b.tryAcquireLease('short', 'survivor', 60_000)).toBe(false);
    await until(() => b.tryAcquireLease('short', 'survivor', 60_000));
    // ...and the crashed holder, back, cannot renew what it lost.
    expect(await a.tryAcquireLease('short', 'crashed', 150)).toBe(false);
  });

  it('lets exactly one of many racing holders win', async () => {
    // SQLite is one process's store (two connections in one thread would only wait on each other's lock).
    const contenders = kind === 'sqlite' ? [a, a] : [a, b];
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => contenders[i % 2].tryAcquireLease('race', `holder-${i}`, 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('keeps shared state by key, visible to every connection', async () => {
    expect(await a.getState('missing')).toBeUndefined();
    await a.setState('sync', JSON.stringify({ n: 1 }));
    expect(JSON.parse((await b.getState('sync'))!)).toEqual({ n: 1 });
    await b.setState('sync', JSON.stringify({ n: 2, big: 'x'.repeat(200_000) }));
    expect(JSON.parse((await a.getState('sync'))!).n).toBe(2);
  });
});
