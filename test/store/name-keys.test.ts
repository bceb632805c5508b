/**
 * Migration 4 on both stores: name keys recomputed with nameKey, and names that became one keep the older
 * resource on the key while the later one gets a duplicate key (nothing lost, nothing merged).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DUPLICATE_KEY_PREFIX } from '../../bridge/src/store/name-keys';
import { openStore } from '../../bridge/src/store/open';
import { STORE_KINDS } from '../support/bridge';
import { freshDatabase } from '../support/postgres';

/** Rows as a release before migration 4 wrote them: keys lower-cased by toLowerCase, untrimmed. */
const OLD_ROWS = [
  `INSERT INTO users (id, user_name, user_name_lc, active, doc, version, created, last_modified) VALUES
     ('a', 'straße', 'straße', TRUE_, '{"userName":"straße"}', 1, '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:01.000Z'),
     ('b', 'STRASSE', 'strasse', TRUE_, '{"userName":"STRASSE"}', 1, '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:02.000Z'),
     ('c', 'Jose\u0301', 'jose\u0301', TRUE_, '{"userName":"Jose\u0301"}', 1, '2026-01-01T00:00:03.000Z', '2026-01-01T00:00:03.000Z'),
     ('d', 'Ada ', 'ada ', TRUE_, '{"userName":"Ada "}', 1, '2026-01-01T00:00:04.000Z', '2026-01-01T00:00:04.000Z')`,
  `INSERT INTO groups (id, display_name, display_name_lc, managed, protected, doc, version, created, last_modified) VALUES
     ('g', 'Owners ', 'owners ', TRUE_, FALSE_, '{"displayName":"Owners "}', 1, '2026-01-01T00:00:05.000Z', '2026-01-01T00:00:05.000Z')`,
];

describe.each(STORE_KINDS)('migration 4: name keys (%s)', (kind) => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-name-keys-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('recomputes the keys; a name that became one keeps the older resource', async () => {
    const url = kind === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`;
    const first = await openStore(url, {});
    await first.migrate();
    await first.close();
    // Back to a store before migration 4, holding rows as it wrote them.
    const statements = [...OLD_ROWS, 'DELETE FROM schema_migrations WHERE version >= 4'];
    if (kind === 'sqlite') {
      const db = new DatabaseSync(url.slice('sqlite:'.length));
      for (const sql of statements) db.exec(sql.replace(/TRUE_/g, '1').replace(/FALSE_/g, '0'));
      db.close();
    } else {
      const client = new Client({ connectionString: url });
      await client.connect();
      for (const sql of statements) await client.query(sql.replace(/TRUE_/g, 'true').replace(/FALSE_/g, 'false'));
      await client.end();
    }
    const store = await openStore(url, {});
    try {
      await store.migrate();
      expect((await store.findUserByUserName('STRASSE'))?.id).toBe('a');
      expect((await store.findUserByUserName('straße'))?.id).toBe('a');
      expect((await store.findUserByUserName('jos\u00e9'))?.id).toBe('c');
      expect((await store.findUserByUserName('ada'))?.id).toBe('d');
      // The later "STRASSE" is still there, by id, on a key no name has.
      expect((await store.getUser('b'))?.userName).toBe('STRASSE');
      const page = await store.queryUsers({ startIndex: 1, count: 10 });
      expect(page.totalResults).toBe(4);
      // "Owners " is the protected group's name now; the older protected group keeps it.
      expect((await store.findGroupByName('owners'))?.id).toBe('owners');
      expect((await store.getGroup('g'))?.displayName).toBe('Owners ');
      expect(DUPLICATE_KEY_PREFIX.startsWith('\uffff')).toBe(true);
    } finally {
      await store.close();
    }
  });
});
