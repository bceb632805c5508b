import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import { describeStoreContract, user } from './contract';

describe('SQLite store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-sqlite-'));
  let n = 0;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describeStoreContract(async () => SqliteStore.open(join(dir, `store-${++n}.db`)));

  it('keeps statements outside a transaction out of it: they wait, and never see what it has not committed', async () => {
    const store = SqliteStore.open(join(dir, 'isolation.db'));
    await store.migrate();
    const ada = user('ada@example.com');
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let seenInside: unknown;
    const tx = store.transaction(async (t) => {
      await t.insertUser(ada);
      // the transaction's own work may use the store's outside methods: it must not wait for itself
      seenInside = (await store.getUser(ada.id))?.userName;
      await hold;
    });
    await new Promise((r) => setImmediate(r));
    let outsideSaw: unknown = 'pending';
    const outside = store.getUser(ada.id).then((u) => (outsideSaw = u?.userName));
    const event = store.recordEvent({ at: new Date().toISOString(), actor: 'test', action: 'x', outcome: 'success', status: 200 });
    await new Promise((r) => setImmediate(r));
    expect(outsideSaw).toBe('pending'); // waiting for the transaction, not reading its uncommitted row
    release();
    await tx;
    await Promise.all([outside, event]);
    expect(seenInside).toBe('ada@example.com');
    expect(outsideSaw).toBe('ada@example.com');
    await expect(store.transaction(async () => store.transaction(async () => 1))).rejects.toThrow(/inside another/);
    expect((await store.listEvents({ limit: 5 })).map((e) => e.action)).toEqual(['x']);
    await store.close();
  });

  it('keeps what was committed in the file across a reopen', async () => {
    const path = join(dir, 'durable.db');
    const first = SqliteStore.open(path);
    await first.migrate();
    const ada = user('ada@example.com');
    await first.transaction((tx) => tx.insertUser(ada));
    await first.close();
    const second = SqliteStore.open(path);
    await second.migrate();
    expect((await second.getUser(ada.id))?.userName).toBe('ada@example.com');
    await second.close();
  });
});
