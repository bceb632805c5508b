/**
 * The change log on PostgreSQL: the contract, and the gap problem. Positions from a sequence are taken in one order
 * and committed in another across connections; a reader that moved its cursor past a position that commits a
 * moment later would skip that change for good. These tests hold one transaction between taking its position and
 * committing, and show the later one waits, and that a reader tailing the log under concurrent writers from two
 * "replicas" (two pools) sees every change exactly once, in position order.
 */
import { Client } from 'pg';
import { PostgresStore } from '../../bridge/src/store/postgres';
import { describePostgres, freshDatabase } from '../support/postgres';
import { change, describeChangeLogContract, readAll } from './contract';

describePostgres('PostgreSQL change log', () => {
  describeChangeLogContract(async () => PostgresStore.connect(await freshDatabase(), {}));

  describe('the gap problem', () => {
    let url: string;
    let first: PostgresStore;
    let second: PostgresStore;
    beforeEach(async () => {
      url = await freshDatabase();
      first = await PostgresStore.connect(url, {});
      second = await PostgresStore.connect(url, {});
      await first.migrate();
    });
    afterEach(async () => {
      await first.close();
      await second.close();
    });

    /** Resolves once some session waits for an advisory lock (the change log's), read from pg_locks. */
    async function someoneWaitsForTheLog(): Promise<void> {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        for (let i = 0; i < 500; i++) {
          const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
          if (rows[0].n > 0) return;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        throw new Error('no transaction ever waited for the change log');
      } finally {
        await client.end();
      }
    }

    it('a transaction that takes a position after another cannot commit before it, so a reader never skips one', async () => {
      let releaseEarlier!: () => void;
      const held = new Promise<void>((resolve) => (releaseEarlier = resolve));
      let heldAtCommit!: () => void;
      const atCommit = new Promise<void>((resolve) => (heldAtCommit = resolve));
      // The earlier transaction has its position and stops just before COMMIT.
      const earlier = first.transaction((tx) => tx.appendChanges([change('earlier')]), undefined, async () => {
        heldAtCommit();
        await held;
      });
      await atCommit;
      // The later one, on another replica, would take the next position and commit first: it must wait instead.
      const later = second.transaction((tx) => tx.appendChanges([change('later')]));
      try {
        const outcome = await Promise.race([someoneWaitsForTheLog().then(() => 'waits'), later.then(() => 'committed first')]);
        expect(outcome).toBe('waits');
        // A reader now sees neither: nothing it could move past.
        expect(await second.readChanges(0, 10)).toEqual([]);
        expect(await second.headPosition()).toBe(0);
      } finally {
        releaseEarlier();
      }
      await Promise.all([earlier, later]);
      const log = await readAll(second);
      expect(log.map((c) => c.resource.id)).toEqual(['earlier', 'later']);
      expect(log[1].position).toBeGreaterThan(log[0].position);
    });

    it('a reader tailing the log while two replicas write concurrently sees every change once, in position order', async () => {
      const writers = 8;
      const perWriter = 25;
      let writing = true;
      const seen: number[] = [];
      const ids: string[] = [];
      const tail = (async () => {
        let after = 0;
        for (let i = 0; i < 100_000; i++) {
          const page = await first.readChanges(after, 50);
          for (const c of page) {
            seen.push(c.position);
            ids.push(c.resource.id);
          }
          if (page.length) after = page[page.length - 1].position;
          else if (!writing) return;
          else await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          const store = w % 2 ? second : first;
          for (let i = 0; i < perWriter; i++) {
            await store.transaction(async (tx) => {
              await tx.setState(`w${w}`, String(i));
              await tx.appendChanges([change(`w${w}-${i}`)]);
            });
          }
        }),
      );
      writing = false;
      await tail;
      // One more read after the writers stopped: the tail may have stopped between a commit and its next read.
      const rest = await first.readChanges(seen.length ? seen[seen.length - 1] : 0, 1000);
      for (const c of rest) ids.push(c.resource.id);
      const all = await readAll(first, 100);
      expect(all).toHaveLength(writers * perWriter);
      expect(ids).toEqual(all.map((c) => c.resource.id));
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
    });
  });
});
