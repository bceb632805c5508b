/**
 * The gate a bridge serves through while its database comes up: 503 (StoreNotReady) meanwhile, the store once a
 * migration succeeds, and for what waiting cannot fix (a privilege, a certificate) one line, at start or later.
 */
import { ConfigError } from '../../bridge/src/config';
import { ReadyGate } from '../../bridge/src/store/ready';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import { type Store, StoreMisconfigured, StoreNotReady, StoreUnavailable } from '../../bridge/src/store/types';

/** A real store whose migrate() fails with the given errors first. */
function flaky(failures: unknown[]): Store {
  const store = SqliteStore.open(':memory:');
  const migrate = store.migrate.bind(store);
  return new Proxy(store, {
    get: (target, property, receiver) =>
      property === 'migrate'
        ? () => (failures.length ? Promise.reject(failures.shift()) : migrate())
        : ((Reflect.get(target, property, receiver) as unknown as { bind?: (t: unknown) => unknown })?.bind?.(target) ??
          Reflect.get(target, property, receiver)),
  });
}

describe('the store gate at start', () => {
  it('answers StoreNotReady (503) until the database answers, then serves, without a restart', async () => {
    const gate = new ReadyGate(flaky([new StoreUnavailable(), new StoreUnavailable()]), { onFatal: () => undefined, initialDelayMs: 1, maxDelayMs: 2 });
    expect(await gate.start()).toBe(false);
    await expect(gate.store.ping()).rejects.toBeInstanceOf(StoreNotReady);
    await expect(gate.store.queryUsers({ startIndex: 1, count: 1 })).rejects.toMatchObject({ status: 503, retryAfterSeconds: 2, reason: 'not-ready' });
    await gate.whenReady();
    await gate.store.ping();
    expect((await gate.store.counts()).groupsProtected).toBe(4);
    await gate.store.close();
  });

  it("stops at start with the operator's line for what waiting cannot fix", async () => {
    const gate = new ReadyGate(
      flaky([new StoreMisconfigured('the database role "x" lacks a privilege the bridge needs (permission denied for schema public)')]),
      { onFatal: () => undefined },
    );
    await expect(gate.start()).rejects.toEqual(
      new ConfigError('the database role "x" lacks a privilege the bridge needs (permission denied for schema public)'),
    );
    await gate.store.close();
  });

  it('calls onFatal once when the database comes up refusing the bridge, and stops retrying', async () => {
    let fatal!: (line: string) => void;
    const said = new Promise<string>((resolve) => (fatal = resolve));
    const gate = new ReadyGate(flaky([new StoreUnavailable(), new StoreMisconfigured('TLS to the database failed: …')]), { onFatal: fatal, initialDelayMs: 1 });
    expect(await gate.start()).toBe(false);
    expect(await said).toBe('TLS to the database failed: …');
    await expect(gate.store.ping()).rejects.toBeInstanceOf(StoreNotReady);
    await gate.store.close();
  });
});
