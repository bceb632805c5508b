/**
 * Upgrades while replicas roll: for a while an old and a new bridge serve from one PostgreSQL database. The new
 * one migrates the schema under the old one, so every migration must be additive (expand); destructive steps
 * (contract) wait for a later release, once no old replica is left (docs/upgrading.md).
 *
 * The old bridge is built from git history (git archive of that commit, bundled with esbuild) and run beside the
 * current bundle; each writes, the other reads. The baselines: the last commit of every earlier schema version
 * (pinned below: a new migration must add its predecessor here), and the previous commit (HEAD~1).
 */
import { execFileSync } from 'node:child_process';
import { Client } from 'pg';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { POSTGRES_SCHEMA_VERSION } from '../../bridge/src/store/postgres';
import { SQLITE_SCHEMA_VERSION } from '../../bridge/src/store/sqlite';
import { BUNDLE, type BridgeProcess, spawnBridge } from '../support/process';
import { describePostgres, freshDatabase } from '../support/postgres';
import { ROOT, buildBridgeAt, gitCommit } from './build-at';

/** The last commit on each earlier schema version: the releases a rolling deploy may still be running. */
const SCHEMA_BASELINES: Record<number, { commit: string; note: string }> = {
  1: { commit: '7ddf029a0020862d1631e8655e2452474ee0f8fd', note: 'schema 1: users, groups, members, events' },
  2: { commit: 'c80d04cc62f06256a80a13902fe418fe2de6ab77', note: 'schema 2: leases and state, the release before the change feed' },
};
/** The first schema version no release has run yet: this release's migrations start here (move it up on release). */
const FIRST_UNRELEASED_SCHEMA = 3;

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const { session, token } = createSession();

function baselines(): { name: string; commit: string }[] {
  const list = Object.entries(SCHEMA_BASELINES).map(([version, b]) => ({
    name: `${b.commit.slice(0, 7)} (${b.note})`,
    commit: b.commit,
    version: Number(version),
  }));
  const previous = gitCommit('HEAD~1');
  const out = list.map(({ name, commit }) => ({ name, commit }));
  if (previous && !list.some((b) => b.commit === previous) && differs(previous)) out.push({ name: `HEAD~1 (${previous.slice(0, 7)})`, commit: previous });
  return out;
}

function differs(commit: string): boolean {
  try {
    execFileSync('git', ['diff', '--quiet', commit, 'HEAD', '--', 'bridge/src', 'contract'], { cwd: ROOT, stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
}

const HISTORY = gitCommit('HEAD') !== undefined;

describe('the upgrade baselines', () => {
  it('name a release for every earlier schema version, so each migration is tested against the release before it', () => {
    expect(POSTGRES_SCHEMA_VERSION).toBe(SQLITE_SCHEMA_VERSION);
    expect(POSTGRES_SCHEMA_VERSION).toBeGreaterThanOrEqual(FIRST_UNRELEASED_SCHEMA - 1);
    for (let version = 1; version < FIRST_UNRELEASED_SCHEMA; version++) expect(SCHEMA_BASELINES[version]).toBeDefined();
  });

  (HISTORY ? it : it.skip)('are commits in this clone (a shallow clone cannot test upgrades: fetch with --unshallow)', () => {
    for (const { commit } of Object.values(SCHEMA_BASELINES)) expect(gitCommit(commit)).toBe(commit);
  });
});

const api = (bridge: BridgeProcess) => async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${bridge.url}/scim/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/scim+json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};

/** Columns of the bridge's tables, to show an upgrade only added to them. */
async function columns(url: string): Promise<Set<string>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = current_schema()`,
    );
    return new Set(rows.map((r) => `${r.table_name}.${r.column_name} ${r.data_type} ${r.is_nullable}`));
  } finally {
    await client.end();
  }
}

const describeHistory = HISTORY ? describePostgres : describe.skip;
if (!HISTORY) console.warn('rolling.test.ts: no git history here; the old-and-new-bridge tests are skipped');

for (const { name, commit } of HISTORY ? baselines() : [{ name: '(no git history)', commit: '' }])
  describeHistory(`a rolling deploy from ${name} to this tree on one PostgreSQL`, () => {
    let oldBundle: string;
    let databaseUrl: string;
    let old: BridgeProcess;
    let current: BridgeProcess;
    const env = () => ({ SCIM_SESSION: serializeSession(session), SCIM_DATABASE_URL: databaseUrl });

    beforeAll(async () => {
      oldBundle = await buildBridgeAt(commit);
      databaseUrl = await freshDatabase();
      old = await spawnBridge(env(), 15_000, oldBundle);
    });
    afterAll(async () => {
      for (const bridge of [old, current]) {
        bridge?.child.kill('SIGTERM');
        await bridge?.exited;
      }
    });

    it('old and new serve together: each reads what the other wrote, through every kind of change', async () => {
      const viaOld = api(old);
      const ada = await viaOld('POST', '/Users', { schemas: [USER], userName: 'ada@example.com', name: { givenName: 'Ada' }, externalId: 'x-ada' });
      expect(ada.status).toBe(201);
      const before = await columns(databaseUrl);

      // The new release starts while the old one serves, and migrates the schema under it.
      current = await spawnBridge(env());
      const viaNew = api(current);
      const after = await columns(databaseUrl);
      expect([...before].filter((c) => !after.has(c))).toEqual([]); // nothing dropped, renamed or retyped

      const grace = await viaNew('POST', '/Users', { schemas: [USER], userName: 'grace@example.com', title: 'Rear Admiral' });
      expect(grace.status).toBe(201);
      // written by the new, read by the old (by filter and by id), and the other way round
      expect((await viaOld('GET', `/Users?filter=${encodeURIComponent('userName eq "grace@example.com"')}`)).body).toMatchObject({
        totalResults: 1,
        Resources: [{ id: grace.body.id, title: 'Rear Admiral' }],
      });
      expect((await viaOld('GET', `/Users/${grace.body.id}`)).body).toMatchObject({ userName: 'grace@example.com' });
      expect((await viaNew('GET', `/Users?filter=${encodeURIComponent('externalId eq "x-ada"')}`)).body).toMatchObject({
        totalResults: 1,
        Resources: [{ id: ada.body.id, name: { givenName: 'Ada' } }],
      });

      // a group made by the new with a member made by the old; membership changed by the old, seen by the new
      const team = await viaNew('POST', '/Groups', { schemas: [GROUP], displayName: 'Analytical Engines', members: [{ value: ada.body.id }] });
      expect(team.status).toBe(201);
      expect((await viaOld('GET', `/Groups/${team.body.id}`)).body.members.map((m: { value: string }) => m.value)).toEqual([ada.body.id]);
      expect(
        (
          await viaOld('PATCH', `/Groups/${team.body.id}`, {
            schemas: [PATCH],
            Operations: [{ op: 'add', path: 'members', value: [{ value: grace.body.id }] }],
          })
        ).status,
      ).toBe(204);
      expect((await viaNew('GET', `/Users/${grace.body.id}`)).body.groups).toEqual([
        expect.objectContaining({ value: team.body.id, display: 'Analytical Engines' }),
      ]);
      expect(
        (await viaNew('GET', `/Groups?filter=${encodeURIComponent(`members[value eq "${grace.body.id}"]`)}&excludedAttributes=members`)).body.totalResults,
      ).toBe(1);

      // updates and versions cross over too: the old patches what the new wrote, the new replaces what the old wrote
      const patched = await viaOld('PATCH', `/Users/${grace.body.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] });
      expect(patched.status).toBe(200);
      expect((await viaNew('GET', `/Users/${grace.body.id}`)).body).toMatchObject({ active: false, meta: { version: patched.body.meta.version } });
      expect((await viaNew('PUT', `/Users/${ada.body.id}`, { schemas: [USER], userName: 'ada@example.com', title: 'Countess' })).status).toBe(200);
      expect((await viaOld('GET', `/Users/${ada.body.id}`)).body.title).toBe('Countess');

      // a delete by one is a 404 at the other
      expect((await viaNew('DELETE', `/Users/${grace.body.id}`)).status).toBe(204);
      expect((await viaOld('GET', `/Users/${grace.body.id}`)).status).toBe(404);
      expect((await viaOld('GET', `/Groups/${team.body.id}`)).body.members.map((m: { value: string }) => m.value)).toEqual([ada.body.id]);
    });

    it('an old replica that restarts (or a rollback) starts on the newer schema and serves', async () => {
      old.child.kill('SIGTERM');
      await old.exited;
      old = await spawnBridge(env(), 15_000, oldBundle);
      const viaOld = api(old);
      expect((await fetch(`${old.url}/health`)).status).toBe(200);
      expect((await viaOld('GET', `/Users?filter=${encodeURIComponent('userName eq "ada@example.com"')}`)).body.totalResults).toBe(1);
      expect((await viaOld('POST', '/Users', { schemas: [USER], userName: 'katherine@example.com' })).status).toBe(201);
      expect((await api(current)('GET', `/Users?filter=${encodeURIComponent('userName eq "katherine@example.com"')}`)).body.totalResults).toBe(1);
    });
  });

describeHistory('a rollback on one machine (SQLite)', () => {
  it('the previous release opens a file the new one migrated, and serves it', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'scim-rollback-'));
    // The previous release: the last baseline before this release's schema versions.
    const previous = SCHEMA_BASELINES[FIRST_UNRELEASED_SCHEMA - 1];
    try {
      const env = { SCIM_SESSION: serializeSession(session), SCIM_DATABASE_URL: `sqlite:${join(dir, 'bridge.db')}` };
      const current = await spawnBridge(env, 15_000, BUNDLE);
      expect((await api(current)('POST', '/Users', { schemas: [USER], userName: 'new@example.com' })).status).toBe(201);
      current.child.kill('SIGTERM');
      await current.exited;
      const old = await spawnBridge(env, 15_000, await buildBridgeAt(previous.commit));
      try {
        expect((await api(old)('GET', `/Users?filter=${encodeURIComponent('userName eq "new@example.com"')}`)).body.totalResults).toBe(1);
        expect((await api(old)('POST', '/Users', { schemas: [USER], userName: 'old@example.com' })).status).toBe(201);
      } finally {
        old.child.kill('SIGTERM');
        await old.exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
