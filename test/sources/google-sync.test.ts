/**
 * The Google Workspace sync against the fake Directory API and a real store (SQLite, and PostgreSQL when there):
 * first sync, changes, suspension by Google / archive / leaving the groups, reactivation, nested and outside
 * members, protected groups, the provisioning rules, and faults on a schedule.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Directory } from '../../bridge/src/directory/directory';
import { TokenSource } from '../../bridge/src/sources/google/auth';
import { GOOGLE_SCOPES, readGoogleConfig } from '../../bridge/src/sources/google/config';
import { DirectoryClient } from '../../bridge/src/sources/google/directory-client';
import type { RetryPolicy } from '../../bridge/src/sources/google/retry';
import { STATE_KEYS, type SyncRun, runSync } from '../../bridge/src/sources/google/sync';
import { openStore } from '../../bridge/src/store/open';
import type { GroupRecord, Store, UserRecord } from '../../bridge/src/store/types';
import { STORE_KINDS } from '../support/bridge';
import { type FakeGoogle, startFakeGoogle } from '../support/fake-google';
import { freshDatabase } from '../support/postgres';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe.each(STORE_KINDS)('Google Workspace sync (%s store)', (kind) => {
  let google: FakeGoogle;
  let store: Store;
  let dir: string;
  let waits: number[];
  let directory: Directory;

  beforeEach(async () => {
    google = await startFakeGoogle();
    dir = mkdtempSync(join(tmpdir(), 'scim-gsync-'));
    store = await openStore(kind === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`);
    await store.migrate();
    waits = [];
    directory = new Directory(store, { allowedDomains: [] });
  });
  afterEach(async () => {
    await store.close();
    await google.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A sync wired as the runner wires it, with waits recorded instead of slept. */
  const sync = (groups: string[], options: { directory?: Directory; retry?: RetryPolicy } = {}): Promise<SyncRun> => {
    const config = readGoogleConfig(google.env(groups))!;
    const retry: RetryPolicy = { sleep: async (ms) => void waits.push(ms), random: () => 0.5, ...options.retry };
    const tokens = new TokenSource({ key: config.credentials, subject: config.adminEmail, scopes: GOOGLE_SCOPES, retry });
    const client = new DirectoryClient({ baseUrl: config.directoryUrl, tokens, retry });
    return runSync({ client, directory: options.directory ?? directory, store, groups: config.groups, replica: 'test' });
  };

  const users = async () => new Map((await store.queryUsers({ startIndex: 1, count: 1000 })).items.map((u) => [u.userName, u] as [string, UserRecord]));
  const groupNamed = async (name: string) => (await store.queryGroups({ startIndex: 1, count: 1000 })).items.find((g) => g.displayName === name) as GroupRecord;
  const memberNames = async (name: string) => {
    const group = await groupNamed(name);
    const byId = new Map([...(await users()).values()].map((u) => [u.id, u.userName]));
    return ((await store.membersOfGroups([group.id])).get(group.id) ?? []).map((m) => byId.get(m.value)).sort();
  };

  /** engineering@ holds ada, an outside address and platform@ (bob, cy, and engineering@ again: a cycle); design@ holds bob and dee. */
  const seed = () => {
    google.addUser('ada.lovelace', { organizations: [{ title: 'Engineer', department: 'R&D', primary: true }] });
    google.addUser('bob.byte');
    google.addUser('cy.suspended', { suspended: true });
    google.addUser('dee.archived', { archived: true });
    google.addUser('eve.elsewhere');
    google.addGroup('engineering@example.com', 'Engineering');
    google.addGroup('platform@example.com', 'Platform');
    google.addGroup('design@example.com', 'Design');
    google.addMember('engineering@example.com', 'ada.lovelace@example.com');
    google.addMember('engineering@example.com', 'friend@gmail.com');
    google.addMember('engineering@example.com', 'platform@example.com');
    google.addMember('platform@example.com', 'bob.byte@example.com');
    google.addMember('platform@example.com', 'cy.suspended@example.com');
    google.addMember('platform@example.com', 'engineering@example.com');
    google.addMember('design@example.com', 'bob.byte@example.com');
    google.addMember('design@example.com', 'dee.archived@example.com');
  };
  const selected = ['engineering@example.com', 'design@example.com'];

  it('creates the selected groups and their active members, flattening nested groups and ignoring outside members', async () => {
    seed();
    const run = await sync(selected);
    expect(run).toMatchObject({ outcome: 'success', errorCount: 0 });
    expect(run.counts).toMatchObject({ googleUsers: 5, outsideMembers: 1, usersCreated: 2, groupsCreated: 2, membersAdded: 3 });

    const all = await users();
    expect([...all.keys()].sort()).toEqual(['ada.lovelace@example.com', 'bob.byte@example.com']);
    const ada = all.get('ada.lovelace@example.com')!;
    expect(ada).toMatchObject({ active: true, externalId: google.user('ada.lovelace@example.com').id });
    expect(ada.doc).toMatchObject({
      name: { givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' },
      displayName: 'Ada Lovelace',
      emails: [{ value: 'ada.lovelace@example.com', type: 'work', primary: true }],
      title: 'Engineer',
      [ENTERPRISE]: { department: 'R&D' },
    });
    expect(await memberNames('Engineering')).toEqual(['ada.lovelace@example.com', 'bob.byte@example.com']);
    expect(await memberNames('Design')).toEqual(['bob.byte@example.com']);
    expect(await groupNamed('Platform')).toBeUndefined(); // nested groups are flattened, not created
    expect((await groupNamed('Engineering')).managed).toBe(true);

    // Paged: five users at two a page is three pages.
    expect(google.apiRequests().filter((r) => r.path.endsWith('/users'))).toHaveLength(3);
    // Every change is a provisioning event, attributed to the sync, with one request id for the run.
    const events = await store.listEvents({ limit: 50 });
    expect(events.map((e) => e.action).sort()).toEqual(['group.create', 'group.create', 'user.create', 'user.create']);
    expect(new Set(events.map((e) => e.actor))).toEqual(new Set(['google-workspace']));
    expect(new Set(events.map((e) => e.requestId)).size).toBe(1);

    // A second sync with nothing new changes nothing (idempotent).
    const again = await sync(selected);
    expect(again.counts).toMatchObject({ usersCreated: 0, usersUpdated: 0, usersSuspended: 0, groupsCreated: 0, groupsUpdated: 0 });
    expect(await store.listEvents({ limit: 50 })).toHaveLength(4);
  });

  it('updates, suspends (suspended, archived, left the groups, deleted) and reactivates as Google changes', async () => {
    seed();
    await sync(selected);
    const ada = google.user('ada.lovelace@example.com');
    const bob = google.user('bob.byte@example.com');

    ada.name = { givenName: 'Ada', familyName: 'King', fullName: 'Ada King' };
    ada.organizations = [];
    bob.suspended = true;
    google.groups.get('design@example.com')!.name = 'Design Team';
    let run = await sync(selected);
    expect(run.counts).toMatchObject({ usersUpdated: 1, usersSuspended: 1, groupsUpdated: 2, membersRemoved: 2 });
    let all = await users();
    expect(all.get('ada.lovelace@example.com')!.doc).toMatchObject({ name: { familyName: 'King' }, displayName: 'Ada King' });
    expect(all.get('ada.lovelace@example.com')!.doc).not.toHaveProperty('title');
    expect(all.get('ada.lovelace@example.com')!.doc).not.toHaveProperty([ENTERPRISE]);
    expect(all.get('bob.byte@example.com')!.active).toBe(false);
    expect(await memberNames('Engineering')).toEqual(['ada.lovelace@example.com']);
    expect(await memberNames('Design Team')).toEqual([]);

    // Reactivated in Google: active again and back in both groups.
    bob.suspended = false;
    run = await sync(selected);
    expect(run.counts).toMatchObject({ usersReactivated: 1, membersAdded: 2 });
    expect((await users()).get('bob.byte@example.com')!.active).toBe(true);
    expect(await memberNames('Design Team')).toEqual(['bob.byte@example.com']);

    // Archived counts as suspended; leaving every selected group suspends too; so does deletion in Google.
    bob.archived = true;
    google.removeMember('engineering@example.com', 'ada.lovelace@example.com');
    run = await sync(selected);
    expect(run.counts).toMatchObject({ usersSuspended: 2 });
    all = await users();
    expect(all.get('bob.byte@example.com')!.active).toBe(false);
    expect(all.get('ada.lovelace@example.com')!.active).toBe(false);

    google.addMember('design@example.com', 'ada.lovelace@example.com');
    run = await sync(selected);
    expect(run.counts).toMatchObject({ usersReactivated: 1 });
    expect((await users()).get('ada.lovelace@example.com')!.active).toBe(true);
    google.users.delete(ada.id);
    run = await sync(selected);
    expect(run.counts).toMatchObject({ usersSuspended: 1 });
    expect((await users()).get('ada.lovelace@example.com')!.active).toBe(false);

    const actions = (await store.listEvents({ limit: 100 })).map((e) => e.action);
    expect(actions.filter((a) => a === 'user.suspend')).toHaveLength(4);
    expect(actions.filter((a) => a === 'user.reactivate')).toHaveLength(2);
    expect(actions).toContain('group.rename');
  });

  it('never changes a protected group or one the bridge does not manage, and leaves users it does not manage alone', async () => {
    seed();
    google.addGroup('admins@example.com', 'Administrators');
    google.addMember('admins@example.com', 'ada.lovelace@example.com');
    const ctx = { actor: 'Okta SCIM Client', requestId: 'r1', baseUrl: 'http://localhost/scim/v2' };
    // Someone provisioned by another path, and an existing account Google's Bob should be linked to.
    await directory.createUser({ userName: 'someone@example.com' }, ctx);
    await directory.createUser({ userName: 'Bob.Byte@example.com', externalId: 'okta-123' }, ctx);
    const before = (await store.getGroup('administrators'))!;

    const run = await sync([...selected, 'admins@example.com']);
    expect(run.outcome).toBe('partial');
    expect(run.errors).toEqual([expect.stringContaining('"Administrators" is a protected group')]);
    const after = (await store.getGroup('administrators'))!;
    expect(after.version).toBe(before.version);
    expect((await store.membersOfGroups(['administrators'])).get('administrators')).toEqual([]);

    const all = await users();
    expect(all.get('someone@example.com')!.active).toBe(true);
    // Linked, not duplicated: the existing Bob now carries Google's id.
    expect([...all.keys()].filter((n) => n.toLowerCase() === 'bob.byte@example.com')).toHaveLength(1);
    expect(all.get('bob.byte@example.com')!.externalId).toBe(google.user('bob.byte@example.com').id);
    expect(await memberNames('Engineering')).toEqual(['ada.lovelace@example.com', 'bob.byte@example.com']);

    // Someone leaving the groups later does not make the sync touch users it never managed.
    google.removeMember('design@example.com', 'bob.byte@example.com');
    google.removeMember('platform@example.com', 'bob.byte@example.com');
    await sync(selected);
    const later = await users();
    expect(later.get('someone@example.com')!.active).toBe(true);
    expect(later.get('bob.byte@example.com')!.active).toBe(false);
  });

  it('applies the provisioning rules: a user outside the allowed domains is refused and reported', async () => {
    seed();
    google.addUser('zed@subsidiary.org');
    google.addMember('design@example.com', 'zed@subsidiary.org');
    const run = await sync(selected, { directory: new Directory(store, { allowedDomains: ['example.com'] }) });
    expect(run.outcome).toBe('partial');
    expect(run.errors).toEqual([expect.stringMatching(/create zed@subsidiary\.org: .*allowed email domain/)]);
    expect((await users()).has('zed@subsidiary.org')).toBe(false);
    const refused = await store.listEvents({ limit: 10, outcome: 'refused' });
    expect(refused).toEqual([expect.objectContaining({ actor: 'google-workspace', action: 'user.create', status: 400 })]);
  });

  it('rides out 429, 403 rate limits and 5xx with growing, jittered waits, and converges', async () => {
    seed();
    google.faults.push(
      { status: 503, path: '/token' },
      { status: 429, path: '/users', retryAfter: 2 },
      { status: 403, reason: 'userRateLimitExceeded', path: '/users' },
      { status: 403, reason: 'rateLimitExceeded', path: '/members' },
      { status: 403, reason: 'quotaExceeded', path: '/members' },
      { status: 500, path: '/groups' },
      { status: 502, path: '/members' },
    );
    const run = await sync(selected);
    expect(run).toMatchObject({ outcome: 'success', counts: { usersCreated: 2, groupsCreated: 2 } });
    expect(google.faults).toHaveLength(0);
    // Full jitter at random() = 0.5: half of 500·2^(n-1) ms; the 429's Retry-After (2 s) is honoured.
    expect(waits).toContain(2000);
    expect(waits).toContain(250);
    expect(waits).toContain(500);
  });

  it('changes nothing when Google cannot be read in full (a refusal, retries used up, or a selected group gone)', async () => {
    seed();
    await sync(selected);
    google.removeMember('engineering@example.com', 'ada.lovelace@example.com'); // would suspend Ada
    const eventsBefore = (await store.listEvents({ limit: 100 })).length;

    google.faults.push({ status: 403, reason: 'forbidden', path: '/members' });
    let run = await sync(selected);
    expect(run.outcome).toBe('failed');
    expect(google.faults).toHaveLength(0);
    expect(waits).toEqual([]); // a plain 403 is not retried

    for (let i = 0; i < 6; i++) google.faults.push({ status: 503, path: '/users' });
    run = await sync(selected);
    expect(run.outcome).toBe('failed');
    expect(waits).toHaveLength(5); // six attempts in all, then it gives up

    run = await sync([...selected, 'typo@example.com']);
    expect(run).toMatchObject({ outcome: 'failed', errors: [expect.stringContaining('Resource Not Found')] });

    expect((await users()).get('ada.lovelace@example.com')!.active).toBe(true);
    expect(await store.listEvents({ limit: 100 })).toHaveLength(eventsBefore);
    run = await sync(selected);
    expect(run.counts.usersSuspended).toBe(1);
  });

  it('finishes, on the next run, a sync that stopped half-way (users created, groups not yet)', async () => {
    seed();
    // The first run dies after the users: its member listing for the groups fails for good.
    const abort = new AbortController();
    const config = readGoogleConfig(google.env(selected))!;
    const retry: RetryPolicy = { sleep: async () => undefined, attempts: 1 };
    const tokens = new TokenSource({ key: config.credentials, subject: config.adminEmail, scopes: GOOGLE_SCOPES, retry });
    const client = new DirectoryClient({ baseUrl: config.directoryUrl, tokens, retry });
    const stopping = new Directory(store, { allowedDomains: [] });
    const original = stopping.createUser.bind(stopping);
    let created = 0;
    stopping.createUser = async (body, ctx) => {
      const result = await original(body, ctx);
      if (++created === 1) abort.abort(new Error('killed mid-sync'));
      return result;
    };
    const first = await runSync({ client, directory: stopping, store, groups: config.groups, replica: 'first', signal: abort.signal });
    expect(first).toMatchObject({ outcome: 'failed', errors: ['killed mid-sync'] });
    expect((await users()).size).toBe(1);
    expect(JSON.parse((await store.getState(STATE_KEYS.managedUsers))!)).toHaveLength(2);

    const second = await sync(selected);
    expect(second).toMatchObject({ outcome: 'success', counts: { usersCreated: 1, groupsCreated: 2 } });
    expect((await users()).size).toBe(2);
    expect(await memberNames('Engineering')).toEqual(['ada.lovelace@example.com', 'bob.byte@example.com']);
  });
});
