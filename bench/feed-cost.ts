/**
 * The change feed's cost to SCIM writes under concurrency: 16 writers create a user and suspend it through the
 * Directory, with the change log on and off (the store's `appendChanges` a no-op), on SQLite (one store) and on
 * PostgreSQL (two pools on one database, as two replicas). Prints writes per second and the cost, two rounds each.
 *   npx tsx bench/feed-cost.ts      (FEED_COST_USERS, default 1500 per round; PostgreSQL when SCIM_TEST_POSTGRES_URL is set)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Directory } from '../bridge/src/directory/directory';
import { PostgresStore } from '../bridge/src/store/postgres';
import { SqlStoreTx } from '../bridge/src/store/sql-store';
import { SqliteStore } from '../bridge/src/store/sqlite';
import type { Store } from '../bridge/src/store/types';
import { BENCH_POSTGRES_URL, freshPostgres } from './lib';

const USERS = Number(process.env.FEED_COST_USERS ?? 1500);
const WRITERS = 16;
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const appendChanges = SqlStoreTx.prototype.appendChanges;
const dir = mkdtempSync(join(tmpdir(), 'scim-feed-cost-'));

async function round(kind: 'sqlite' | 'postgres', feed: boolean): Promise<number> {
  SqlStoreTx.prototype.appendChanges = feed ? appendChanges : async () => undefined;
  let stores: Store[];
  let drop: () => Promise<void> = async () => {};
  if (kind === 'postgres') {
    const db = await freshPostgres('scim_feed_cost');
    stores = [await PostgresStore.connect(db.url, {}), await PostgresStore.connect(db.url, {})];
    drop = db.drop;
  } else {
    stores = [SqliteStore.open(join(dir, `${Date.now()}-${feed}.db`))];
  }
  await stores[0].migrate();
  const directories = stores.map((store) => new Directory(store, { allowedDomains: [] }));
  const ctx = { actor: 'bench', requestId: 'feed-cost' };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const directory = directories[w % directories.length];
      for (let i = next++; i < USERS; i = next++) {
        const userName = `u${i}@example.com`;
        const { user } = await directory.createUser({ userName, name: { givenName: 'A', familyName: 'B' }, emails: [{ value: userName, primary: true }] }, ctx);
        await directory.patchUser(user.id, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }, undefined, ctx);
      }
    }),
  );
  const perSecond = (2 * USERS) / ((performance.now() - started) / 1000);
  for (const store of stores) await store.close();
  await drop();
  return perSecond;
}

async function main(): Promise<void> {
  const kinds: ('sqlite' | 'postgres')[] = BENCH_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
  try {
    for (const kind of kinds) {
      for (let r = 1; r <= 2; r++) {
        const off = await round(kind, false);
        const on = await round(kind, true);
        console.log(
          JSON.stringify({
            store: kind,
            round: r,
            writers: WRITERS,
            writesPerSecondOff: Math.round(off),
            writesPerSecondOn: Math.round(on),
            costPercent: Number(((1 - on / off) * 100).toFixed(1)),
          }),
        );
      }
    }
  } finally {
    SqlStoreTx.prototype.appendChanges = appendChanges;
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
