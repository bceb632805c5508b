/**
 * A directory of many users, written straight into a migrated store by one statement per table (tens of
 * thousands of users in a second or two, where the SCIM API would take minutes): for tests of what costly
 * requests do at scale. Every user has a work email and is in `groupsPerUser` of `groups` groups.
 */
import { DatabaseSync } from 'node:sqlite';
import { Client } from 'pg';
import { openStore } from '../../bridge/src/store/open';

export interface SeedOptions {
  readonly users: number;
  readonly groups?: number;
  /** A display name of this many characters on every user (a group's rendering repeats it per member). */
  readonly displayNameLength?: number;
}

export const seededUserName = (i: number) => `user${i}@seed.example.com`;

export async function seedDirectory(databaseUrl: string, options: SeedOptions): Promise<void> {
  const store = await openStore(databaseUrl, {});
  await store.migrate();
  await store.close();
  const groups = options.groups ?? 0;
  const pad = 'x'.repeat(options.displayNameLength ?? 0);
  const at = '2026-01-01T00:00:00.000Z';
  const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${options.users})`;
  const user = `'user' || i || '@seed.example.com'`;
  const display = pad ? `'${pad}' || i` : 'NULL';
  const doc = (json: (text: string) => string) =>
    json(
      `'{"userName":"' || ${user} || '","active":true,${pad ? `"displayName":"${pad}' || i || '",` : ''}"emails":[{"value":"' || ${user} || '","type":"work","primary":true}]}'`,
    );
  const statements = (json: (text: string) => string, yes: string) => [
    `INSERT INTO users (id, user_name, user_name_lc, external_id, display_name, active, doc, version, created, last_modified)
     ${series} SELECT 'u' || i, ${user}, ${user}, 'ext' || i, ${display}, ${yes}, ${doc(json)}, 1, '${at}', '${at}' FROM n`,
    ...(groups
      ? [
          `INSERT INTO groups (id, display_name, display_name_lc, external_id, managed, protected, doc, version, created, last_modified)
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${groups})
           SELECT 'g' || i, 'Team ' || i, 'team ' || i, NULL, ${yes}, ${yes === '1' ? '0' : 'false'}, ${json(`'{"displayName":"Team ' || i || '"}'`)}, 1, '${at}', '${at}' FROM n`,
          `INSERT INTO group_members (group_id, user_id) ${series} SELECT 'g' || (1 + i % ${groups}), 'u' || i FROM n`,
        ]
      : []),
  ];
  if (/^sqlite:/.test(databaseUrl)) {
    const db = new DatabaseSync(databaseUrl.slice('sqlite:'.length));
    for (const sql of statements((text) => text, '1')) db.exec(sql);
    db.close();
    return;
  }
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const sql of statements((text) => `(${text})::jsonb`, 'true')) await client.query(sql);
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}
