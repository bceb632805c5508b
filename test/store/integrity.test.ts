/**
 * Constraint races answer SCIM errors, never a 500: a membership naming a user that a concurrent request deleted
 * is refused by the foreign key (PostgreSQL 23503, SQLite's FOREIGN KEY) and answered 409, on both stores.
 */
import { Client } from 'pg';
import { openStore } from '../../bridge/src/store/open';
import type { Store } from '../../bridge/src/store/types';
import { STORE_KINDS, startBridge } from '../support/bridge';
import { describePostgres, freshDatabase } from '../support/postgres';

const at = '2026-01-01T00:00:00.000Z';

describe.each(STORE_KINDS)('a membership of a deleted user (%s)', (kind) => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(kind === 'postgres' ? await freshDatabase() : 'sqlite::memory:', {});
    await store.migrate();
  });
  afterAll(() => store.close());

  it('is a 409 from the store, and nothing of the transaction stays', async () => {
    const attempt = store.transaction(async (tx) => {
      await tx.insertGroup({
        id: 'g-race',
        displayName: 'Race',
        managed: true,
        protected: false,
        doc: { displayName: 'Race' },
        version: 1,
        created: at,
        lastModified: at,
      });
      await tx.addMembers('g-race', ['no-such-user']);
    });
    await expect(attempt).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/deleted while this request/) });
    expect(await store.getGroup('g-race')).toBeUndefined();
  });
});

describePostgres('adding a member while that user is deleted (PostgreSQL, over HTTP)', () => {
  it('answers 409, not 500', async () => {
    const bridge = await startBridge({ store: 'postgres' });
    const admin = new Client({ connectionString: bridge.databaseUrl });
    await admin.connect();
    try {
      const user = await bridge.request('POST', '/Users', { userName: 'leaving@example.com' });
      const group = await bridge.request('POST', '/Groups', { displayName: 'Racing' });
      // A delete of the user, uncommitted: the PATCH sees the user, then waits on its row lock to insert the membership.
      await admin.query('BEGIN');
      await admin.query('DELETE FROM group_members WHERE user_id = $1', [user.body.id]);
      await admin.query('DELETE FROM users WHERE id = $1', [user.body.id]);
      const patch = bridge.request('PATCH', `/Groups/${group.body.id}`, { Operations: [{ op: 'add', path: 'members', value: [{ value: user.body.id }] }] });
      let waiting = false;
      for (let i = 0; i < 500 && !waiting; i++) {
        const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        waiting = rows[0].n > 0;
      }
      expect(waiting).toBe(true);
      await admin.query('COMMIT');
      const res = await patch;
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409' });
      expect((await bridge.request('GET', `/Groups/${group.body.id}`)).body.members ?? []).toEqual([]);
    } finally {
      await admin.end();
      await bridge.stop();
    }
  }, 30_000);
});
