/**
 * Migration 4 on both stores: the name keys (`users.user_name_lc`, `groups.display_name_lc`) recomputed with
 * nameKey (scim/names.ts: NFC, trimmed, full case folding), in JavaScript since neither database folds case as it
 * does. Names that were two before and are one now ("straße" and "strasse", "josé" in NFC and NFD) keep the older
 * resource (protected groups first, then by created and id) on the key; each later one gets the key DUPLICATE_KEY_PREFIX + its id, unique and
 * never a name's key, so nothing is lost or merged: it stays readable by id and externalId, a `userName eq` look-up
 * finds the older one, and renaming it gives it a real key again. docs/upgrading.md tells operators how to find them.
 */
import { nameKey } from '../scim/names';
import type { SqlExecutor } from './sql-store';

export const NAME_KEY_MIGRATION = 4;
/** U+FFFF is a noncharacter: no name's key starts with it. */
export const DUPLICATE_KEY_PREFIX = '\uffffduplicate:';
const TEMPORARY_KEY_PREFIX = '\uffffmigrating:';

const TABLES = [
  { table: 'users', name: 'user_name', key: 'user_name_lc', order: 'created, id' },
  // A protected group keeps its name whatever else came to share it.
  { table: 'groups', name: 'display_name', key: 'display_name_lc', order: 'CASE WHEN protected THEN 0 ELSE 1 END, created, id' },
] as const;

export async function recomputeNameKeys(db: SqlExecutor): Promise<void> {
  for (const { table, name, key, order } of TABLES) {
    const rows = await db.rows(`SELECT id, ${name}, ${key} FROM ${table} ORDER BY ${order}`);
    const holders = new Set<string>();
    const changes: [string, string][] = [];
    for (const [id, text, old] of rows as [string, string, string][]) {
      let next = nameKey(text);
      if (holders.has(next)) next = DUPLICATE_KEY_PREFIX + id;
      holders.add(next);
      if (next !== old) changes.push([id, next]);
    }
    // Two passes: no key is ever held by two rows in between, whatever order the unique index checks them in.
    for (const [id] of changes) await db.run(`UPDATE ${table} SET ${key} = $2 WHERE id = $1`, [id, TEMPORARY_KEY_PREFIX + id]);
    for (const [id, next] of changes) await db.run(`UPDATE ${table} SET ${key} = $2 WHERE id = $1`, [id, next]);
  }
}
