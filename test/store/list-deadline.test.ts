/**
 * The list deadline on both stores: a list query past it is stopped (not left running) and answered 400
 * `tooMany`, and the store is whole afterwards (PostgreSQL's connections are back in the pool; SQLite's reader
 * thread answers the next list).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFilter } from '../../bridge/src/scim/filter';
import { PostgresStore } from '../../bridge/src/store/postgres';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import type { Store } from '../../bridge/src/store/types';
import { describePostgres, freshDatabase } from '../support/postgres';
import { seedDirectory, seededUserName } from '../support/seed';

const USERS = 30_000;
const COSTLY = 'emails.value co "zz" or name.givenName co "zz"';
const CHEAP = 'userName co "zzz"';

async function expectTooMany(store: Store, filter: string): Promise<void> {
  await expect(store.queryUsers({ filter: parseFilter(filter), startIndex: 1, count: 100 })).rejects.toMatchObject({
    status: 400,
    scimType: 'tooMany',
    message: expect.stringMatching(/more work than the bridge does for one list/),
  });
}

async function expectWhole(store: Store): Promise<void> {
  const page = await store.queryUsers({ filter: parseFilter(`userName eq "${seededUserName(9)}"`), startIndex: 1, count: 100 });
  expect(page.totalResults).toBe(1);
}

describe('the list deadline on SQLite', () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scim-deadline-'));
    url = `sqlite:${join(dir, 'bridge.db')}`;
    await seedDirectory(url, { users: USERS, groups: 5 });
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops a costly list on the reader thread and a cheap one on the main connection', async () => {
    const store = SqliteStore.open(url.slice('sqlite:'.length), { listDeadlineMs: 1 });
    try {
      await expectTooMany(store, COSTLY);
      await expectTooMany(store, CHEAP);
      await expectWhole(store);
      await expectTooMany(store, COSTLY); // the reader answers again
    } finally {
      await store.close();
    }
  });

  it('answers the same lists within the default deadline', async () => {
    const store = SqliteStore.open(url.slice('sqlite:'.length));
    try {
      for (const filter of [COSTLY, CHEAP]) expect((await store.queryUsers({ filter: parseFilter(filter), startIndex: 1, count: 100 })).totalResults).toBe(0);
      const page = await store.queryUsers({ filter: parseFilter('emails.value co "user12@"'), startIndex: 1, count: 100 });
      expect(page.items.map((u) => u.userName)).toContain(seededUserName(12));
    } finally {
      await store.close();
    }
  });
});

describe('the text a list may fold on SQLite', () => {
  it('refuses ten substring searches over 1,000 users of 62 KB names (which exhausted the heap) with 400 tooMany', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-fold-'));
    const path = join(dir, 'bridge.db');
    await seedDirectory(`sqlite:${path}`, { users: 1000, displayNameLength: 62_000 });
    const store = SqliteStore.open(path);
    try {
      const before = process.memoryUsage().rss;
      await expectTooMany(store, Array.from({ length: 10 }, () => 'displayName co "zz"').join(' or '));
      // 620 million characters would have been folded, each kept alive until the statement ended.
      expect(process.memoryUsage().rss - before).toBeLessThan(400 * 1024 * 1024);
      expect((await store.queryUsers({ filter: parseFilter('displayName co "zz"'), startIndex: 1, count: 10 })).totalResults).toBe(0);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describePostgres('the list deadline on PostgreSQL', () => {
  it('cancels the statement on the server and gives the connection back', async () => {
    const url = await freshDatabase();
    await seedDirectory(url, { users: USERS, groups: 5 });
    const store = await PostgresStore.connect(url, { SCIM_DATABASE_POOL_SIZE: '2' }, { listDeadlineMs: 1 });
    try {
      // More lists than the pool has connections: each one's connection came back.
      for (let i = 0; i < 5; i++) await expectTooMany(store, COSTLY);
      await expectWhole(store);
    } finally {
      await store.close();
    }
  }, 60_000);
});
