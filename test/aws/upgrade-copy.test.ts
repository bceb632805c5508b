/**
 * The path docs/upgrading.md offers for a stack of the earlier AWS layout, whose database an upgrade cannot keep (its
 * master user and identifier changed, so CloudFormation creates a new, empty instance; aws/aws-cdk#12564): the copy
 * block of "AWS: the database moves to a new instance", run as written with psql against real PostgreSQL. The earlier
 * release's tables sit in `public` (it connected as the master user); the current bridge migrated the new database
 * as its own role, in the schema named after it. After the copy the current bridge reads the directory and appends
 * events after the copied ones.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { POSTGRES_MIGRATIONS, PostgresStore } from '../../bridge/src/store/postgres';
import { describePostgres, freshDatabase, POSTGRES_URL } from '../support/postgres';
import { REPO_ROOT } from './helpers';

/** The first sh block of a docs/upgrading.md section. */
function documentedBlock(heading: string): string {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'upgrading.md'), 'utf8');
  const section = doc.split(`### ${heading}\n`)[1]?.split(/^#{2,3} /m)[0];
  const block = section && /```sh\n([\s\S]*?)```/.exec(section.replace(/^ {3}/gm, ''))?.[1];
  if (!block) throw new Error(`docs/upgrading.md: no sh block under "### ${heading}"`);
  return block;
}

async function run(url: string, sql: string, params: unknown[] = []): Promise<any[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const hasPsql = (() => {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describePostgres('upgrading the earlier AWS layout: the documented copy keeps the directory', () => {
  const copy = documentedBlock('AWS: the database moves to a new instance');
  let oldUrl: string;
  let newUrl: string;
  let adminNewUrl: string;
  let role: string;

  beforeAll(async () => {
    // The earlier release: its first migration, as the master user, in public (the schema history never rewrites it).
    oldUrl = await freshDatabase();
    await run(oldUrl, POSTGRES_MIGRATIONS[0]);
    const doc = (userName: string) => JSON.stringify({ userName, name: { givenName: 'A', familyName: 'B' }, emails: [{ value: userName, primary: true }] });
    for (const [id, userName] of [
      ['u1', 'ada@example.com'],
      ['u2', 'grace@example.com'],
    ]) {
      await run(
        oldUrl,
        'INSERT INTO users (id, user_name, user_name_lc, display_name, active, doc, version, created, last_modified) VALUES ($1, $2, $2, $2, true, $3, 1, $4, $4)',
        [id, userName, doc(userName), '2026-11-01T00:00:00.000Z'],
      );
    }
    await run(
      oldUrl,
      "INSERT INTO groups (id, display_name, display_name_lc, managed, protected, doc, version, created, last_modified) VALUES ('g1', 'Engineering', 'engineering', true, false, '{\"displayName\":\"Engineering\"}', 1, $1, $1)",
      ['2026-11-01T00:00:00.000Z'],
    );
    await run(oldUrl, "INSERT INTO group_members (group_id, user_id) VALUES ('g1', 'u1')");
    for (let i = 0; i < 3; i++)
      await run(oldUrl, "INSERT INTO events (at, actor, action, outcome, status) VALUES ($1, 'Okta', 'user.create', 'success', 201)", [
        `2026-11-01T00:00:0${i}.000Z`,
      ]);

    // The new instance: the app's own role, its schema, migrated by the current bridge as that role.
    newUrl = await freshDatabase();
    adminNewUrl = newUrl;
    role = `scim_app_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await run(POSTGRES_URL!, `CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await run(newUrl, `CREATE SCHEMA ${role} AUTHORIZATION ${role}`);
    const url = new URL(newUrl);
    url.username = role;
    url.password = password;
    newUrl = url.toString();
    const store = await PostgresStore.connect(newUrl, {}, { warn: () => undefined });
    await store.migrate();
    await store.close();
  }, 60_000);

  // Roles are the server's, not the database's: leave none behind.
  afterAll(async () => {
    await run(adminNewUrl, `DROP OWNED BY ${role}`);
    await run(POSTGRES_URL!, `DROP ROLE ${role}`);
  });

  (hasPsql ? it : it.skip)(
    'copies users, groups, memberships and events; the bridge reads them and numbers new events after them',
    async () => {
      execFileSync('bash', ['-c', copy], { env: { ...process.env, OLD_URL: oldUrl, NEW_URL: newUrl }, stdio: 'pipe', timeout: 60_000 });
      const store = await PostgresStore.connect(newUrl, {}, { warn: () => undefined });
      try {
        const users = await store.queryUsers({ startIndex: 1, count: 10 });
        expect(users.items.map((u) => u.userName).sort()).toEqual(['ada@example.com', 'grace@example.com']);
        expect((await store.membersOfGroups(['g1'])).get('g1')?.map((m) => m.value)).toEqual(['u1']);
        await store.recordEvent({ at: '2026-12-06T00:00:00.000Z', actor: 'Okta', action: 'user.update', outcome: 'success', status: 200 });
        const events = await store.listEvents({ limit: 10 });
        expect(events.map((e) => e.id).sort((a, b) => a! - b!)).toEqual([1, 2, 3, 4]);
      } finally {
        await store.close();
      }
      // In the app role's schema, not in public: the bridge's search path ("$user", public) finds them first.
      const where = await run(newUrl, "SELECT table_schema FROM information_schema.tables WHERE table_name = 'users'");
      expect(where.map((r) => r.table_schema)).toEqual([new URL(newUrl).username]);
    },
    90_000,
  );
});
