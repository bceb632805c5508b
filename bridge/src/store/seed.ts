/**
 * The groups every store is created with: the account-wide powers (owners, administrators, recovery, managing all
 * groups). The store only seeds them (part of every migration, idempotent); the rules that keep them out of SCIM's
 * reach, and their names from being imitated, are the directory's (directory/protected-groups.ts).
 */
import { nameKey } from '../scim/names';
import type { Dialect } from './sql-filter';
import type { SqlExecutor } from './sql-store';

/** Creates the protected groups a store must always hold (part of every migration, idempotent). */
export async function seedProtectedGroups(db: SqlExecutor, dialect: Dialect): Promise<void> {
  const now = new Date().toISOString();
  for (const group of PROTECTED_GROUPS) {
    await db.run(
      `INSERT INTO groups (id, display_name, display_name_lc, managed, protected, doc, version, created, last_modified)
       VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) ON CONFLICT DO NOTHING`,
      [
        group.id,
        group.displayName,
        nameKey(group.displayName),
        dialect.booleanParam(false),
        dialect.booleanParam(true),
        JSON.stringify({ displayName: group.displayName }),
        now,
      ],
    );
  }
}

/** Groups that hold account-wide powers: present in every store, never changed over SCIM (the directory's rule). */
export const PROTECTED_GROUPS = [
  { id: 'owners', displayName: 'Owners', description: 'Full control of the account' },
  { id: 'administrators', displayName: 'Administrators', description: 'Manage people, groups and settings' },
  { id: 'recovery', displayName: 'Recovery', description: 'Recover accounts of people who lost access' },
  { id: 'group-managers', displayName: 'Group Managers', description: 'Manage all groups' },
] as const;
