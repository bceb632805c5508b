/**
 * The change log on PostgreSQL: the contract, and the gap problem. Numbers from a sequence are taken in one order
 * and committed in another across connections; a reader that moved its cursor past a position that commits a
 * moment later would skip that change for good. These tests hold one transaction open just before its COMMIT while
 * a later one commits first, tail the log under concurrent writers from two "replicas" (two pools), and write one
 * resource from both replicas at once: every change is read once, and each resource's versions grow along the feed.
 */
import { Directory } from '../../bridge/src/directory/directory';
import { PATCH_OP_SCHEMA } from '../../bridge/src/scim/schemas';
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

    it('a transaction that commits after a later one still reaches a reader that already read the later one', async () => {
      let releaseEarlier!: () => void;
      const held = new Promise<void>((resolve) => (releaseEarlier = resolve));
      let heldAtCommit!: () => void;
      const atCommit = new Promise<void>((resolve) => (heldAtCommit = resolve));
      // The earlier transaction has written its change and stops just before COMMIT.
      const earlier = first.transaction(
        (tx) => tx.appendChanges([change('earlier')]),
        undefined,
        async () => {
          heldAtCommit();
          await held;
        },
      );
      await atCommit;
      try {
        // The later one, on another replica, commits first; a reader reads it and moves its cursor past it.
        await second.transaction((tx) => tx.appendChanges([change('later')]));
        const seen = await second.readChanges(0, 10);
        expect(seen.map((c) => c.resource.id)).toEqual(['later']);
        const cursor = seen[0].position;
        releaseEarlier();
        await earlier;
        // The earlier change is numbered after the cursor, not below it: the reader gets it.
        expect((await first.readChanges(cursor, 10)).map((c) => c.resource.id)).toEqual(['earlier']);
        expect((await readAll(second)).map((c) => c.resource.id)).toEqual(['later', 'earlier']);
      } finally {
        releaseEarlier();
      }
    });

    it("two replicas writing the same users at once: each user's versions grow along the feed", async () => {
      const directories = [new Directory(first, { allowedDomains: [] }), new Directory(second, { allowedDomains: [] })];
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await directories[0].createUser({ userName: `u${i}@example.com` }, { actor: 't', requestId: 'c' })).user.id);
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 12; i++) {
            const id = ids[(w + i) % ids.length];
            const op = { op: 'replace', path: 'title', value: `w${w}-${i}` };
            await directories[w % 2].patchUser(id, { schemas: [PATCH_OP_SCHEMA], Operations: [op] }, undefined, { actor: 't', requestId: `w${w}` });
          }
        }),
      );
      const log = await readAll(first, 25);
      expect(log).toHaveLength(4 + 8 * 12);
      for (const id of ids) {
        const versions = log.filter((c) => c.resource.id === id).map((c) => c.resource.version);
        expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
        expect(versions[versions.length - 1]).toBe((await first.getUser(id))?.version);
      }
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
