/**
 * JumpCloud's provisioning traffic, as its Custom SCIM Identity Management article and its integration guides
 * describe it (docs/identity-providers.md, JumpCloud): Test Connection reads the user list and then creates,
 * updates and deletes a test user and a test group; every push looks the user (or group, by name) up first;
 * updates are PATCHes with one replace per attribute; deactivation is `active: false`; groups are created with
 * their members (JumpCloud creates no empty group), take over a same-named group, and change by minimal
 * `{"value": id}` member lists.
 */
import { eventsOf } from '../support/events';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const jumpcloud = { 'user-agent': 'JumpCloud-SCIM/2.0', accept: 'application/scim+json' };

describe.each(STORE_KINDS)('JumpCloud provisioning replay (%s store)', (store) => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ store });
  });
  afterAll(() => bridge.stop());
  const call = (method: string, path: string, body?: unknown) => bridge.request(method, path, body, jumpcloud);
  const patch = (path: string, Operations: unknown[]) => call('PATCH', path, { schemas: [PATCH], Operations });
  const byUserName = (userName: string) => call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  const byGroupName = (name: string) => call('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}`);

  it('passes Test Connection: list users, then a test user and a test group created, updated and deleted', async () => {
    const list = await call('GET', '/Users');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, Resources: [] });

    expect((await byUserName('jc-test@example.com')).body.totalResults).toBe(0);
    const test = await call('POST', '/Users', {
      schemas: [USER],
      userName: 'jc-test@example.com',
      externalId: '64f1c0ffee00000000000001',
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ value: 'jc-test@example.com', type: 'work', primary: true }],
      active: true,
    });
    expect(test.status).toBe(201);
    expect((await patch(`/Users/${test.body.id}`, [{ op: 'replace', path: 'name.givenName', value: 'Tested' }])).body.name.givenName).toBe('Tested');
    const testGroup = await call('POST', '/Groups', { schemas: [GROUP], displayName: 'JumpCloud Test Group', members: [{ value: test.body.id }] });
    expect(testGroup.status).toBe(201);
    expect((await call('DELETE', `/Groups/${testGroup.body.id}`)).status).toBe(204);
    expect((await call('DELETE', `/Users/${test.body.id}`)).status).toBe(204);
    expect((await byUserName('jc-test@example.com')).body.totalResults).toBe(0);
  });

  it('runs the lifecycle of a bound user and a managed user group', async () => {
    // Binding a user: look up, then create.
    expect((await byUserName('grace.hopper@example.com')).body.totalResults).toBe(0);
    const created = await call('POST', '/Users', {
      schemas: [USER],
      userName: 'grace.hopper@example.com',
      externalId: '64f1c0ffee00000000000002',
      name: { givenName: 'Grace', familyName: 'Hopper' },
      displayName: 'Grace Hopper',
      emails: [{ value: 'grace.hopper@example.com', type: 'work', primary: true }],
      title: 'Rear Admiral',
      active: true,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const second = await call('POST', '/Users', {
      schemas: [USER],
      userName: 'alan.turing@example.com',
      name: { givenName: 'Alan', familyName: 'Turing' },
      active: true,
    });

    // Attribute changes: one replace per attribute, each with a path.
    const updated = await patch(`/Users/${id}`, [
      { op: 'replace', path: 'name.givenName', value: 'Amazing Grace' },
      { op: 'replace', path: 'displayName', value: 'Amazing Grace Hopper' },
      { op: 'replace', path: 'title', value: 'Commodore' },
    ]);
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: { givenName: 'Amazing Grace', familyName: 'Hopper' }, displayName: 'Amazing Grace Hopper', title: 'Commodore' });

    // A user group bound to the app: looked up by name, created with its members (never empty).
    expect((await byGroupName('Engineering')).body.totalResults).toBe(0);
    const group = await call('POST', '/Groups', { schemas: [GROUP], displayName: 'Engineering', members: [{ value: id }] });
    expect(group.status).toBe(201);
    const gid = group.body.id;
    expect(group.body.members).toEqual([expect.objectContaining({ value: id })]);
    // Membership changes carry bare values; removal names the member in a value list.
    expect((await patch(`/Groups/${gid}`, [{ op: 'add', path: 'members', value: [{ value: second.body.id }] }])).status).toBe(204);
    expect((await patch(`/Groups/${gid}`, [{ op: 'remove', path: 'members', value: [{ value: id }] }])).status).toBe(204);
    expect((await call('GET', `/Groups/${gid}`)).body.members.map((m: { value: string }) => m.value)).toEqual([second.body.id]);
    // Renaming the user group renames the group.
    expect((await patch(`/Groups/${gid}`, [{ op: 'replace', path: 'displayName', value: 'Engineering Team' }])).status).toBe(204);
    expect((await byGroupName('Engineering Team')).body.Resources[0].id).toBe(gid);

    // Suspending the user in JumpCloud (or unbinding it) deactivates it; reactivating it reactivates.
    expect((await patch(`/Users/${id}`, [{ op: 'replace', path: 'active', value: false }])).body.active).toBe(false);
    expect((await patch(`/Users/${id}`, [{ op: 'replace', path: 'active', value: true }])).body.active).toBe(true);

    // JumpCloud takes over a same-named group: a protected one refuses, with a reason the admin can act on.
    const admins = await byGroupName('Administrators');
    expect(admins.body.totalResults).toBe(1);
    const takeover = await patch(`/Groups/${admins.body.Resources[0].id}`, [{ op: 'add', path: 'members', value: [{ value: id }] }]);
    expect(takeover.status).toBe(403);
    expect(takeover.body.detail).toContain('protected group');

    // Deleting the managed user group deletes the group; the users stay.
    expect((await call('DELETE', `/Groups/${gid}`)).status).toBe(204);
    expect((await call('GET', `/Users/${id}`)).status).toBe(200);

    const events = await eventsOf(bridge, { search: 'grace' });
    expect(events.map((e) => e.action).reverse()).toEqual(['user.create', 'user.patch', 'user.suspend', 'user.reactivate']);
    expect(new Set(events.map((e) => e.actor))).toEqual(new Set(['JumpCloud-SCIM/2.0']));
  });
});
