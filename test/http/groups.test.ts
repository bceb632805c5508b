import { GROUP_SCHEMA, USER_SCHEMA } from '../../bridge/src/scim/schemas';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(STORE_KINDS)('Groups over HTTP (%s store)', (store) => {
  let bridge: TestBridge;
  const users: string[] = [];
  beforeAll(async () => {
    bridge = await startBridge({ store });
    for (const name of ['ada', 'grace', 'alan', 'edsger']) {
      const res = await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: `${name}@example.com`, displayName: name.toUpperCase() });
      users.push(res.body.id);
    }
  });
  afterAll(() => bridge.stop());

  const createGroup = (displayName: string, members: string[] = []) =>
    bridge.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName, members: members.map((value) => ({ value })) });
  const patch = (id: string, Operations: unknown[], headers?: Record<string, string>) =>
    bridge.request('PATCH', `/Groups/${id}`, { schemas: [PATCH], Operations }, headers);
  const memberIds = async (id: string) => ((await bridge.request('GET', `/Groups/${id}`)).body.members ?? []).map((m: { value: string }) => m.value).sort();

  it('creates a group with members, shown with their display names and on each user', async () => {
    const res = await createGroup('Engineering', [users[0], users[1]]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ schemas: [GROUP_SCHEMA], displayName: 'Engineering', meta: { resourceType: 'Group', version: 'W/"1"' } });
    expect(res.body.members).toEqual(expect.arrayContaining([{ value: users[0], display: 'ADA', type: 'User', $ref: `${bridge.scim}/Users/${users[0]}` }]));
    const ada = await bridge.request('GET', `/Users/${users[0]}`);
    expect(ada.body.groups).toEqual([{ value: res.body.id, display: 'Engineering', type: 'direct', $ref: `${bridge.scim}/Groups/${res.body.id}` }]);
  });

  it('refuses a second group of the same name, and a protected name, with 409', async () => {
    await createGroup('Dupes');
    expect((await createGroup('DUPES')).body).toMatchObject({ status: '409', scimType: 'uniqueness' });
    const owners = await createGroup('Owners');
    expect(owners.status).toBe(409);
    expect(owners.body.detail).toMatch(/protected/);
  });

  it('refuses unknown members with 400 and creates nothing', async () => {
    const res = await createGroup('Ghosts', [users[0], 'no-such-user']);
    expect(res).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    expect(res.body.detail).toContain('no-such-user');
    const list = await bridge.request('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Ghosts"')}`);
    expect(list.body.totalResults).toBe(0);
  });

  it('adds (Okta), removes by value list (Entra) and by filter, and renames, answering 204 with a new ETag', async () => {
    const { body } = await createGroup('Platform', [users[0]]);
    const add = await patch(body.id, [{ op: 'add', path: 'members', value: [{ value: users[1], display: 'GRACE' }, { value: users[2] }] }]);
    expect(add.status).toBe(204);
    expect(add.headers.get('etag')).toBe('W/"2"');
    expect(await memberIds(body.id)).toEqual([users[0], users[1], users[2]].sort());

    expect((await patch(body.id, [{ op: 'Remove', path: 'members', value: [{ value: users[0] }, { value: users[1] }] }])).status).toBe(204);
    expect(await memberIds(body.id)).toEqual([users[2]]);

    await patch(body.id, [{ op: 'remove', path: `members[value eq "${users[2]}"]` }]);
    expect(await memberIds(body.id)).toEqual([]);

    const renamed = await patch(body.id, [{ op: 'Replace', value: { id: body.id, displayName: 'Platform Team' } }]);
    expect(renamed.status).toBe(204);
    expect((await bridge.request('GET', `/Groups/${body.id}`)).body.displayName).toBe('Platform Team');
  });

  it('adds a member twice without duplicating it, and replaces the member list', async () => {
    const { body } = await createGroup('Idempotent', [users[0]]);
    await patch(body.id, [{ op: 'add', path: 'members', value: [{ value: users[0] }] }]);
    expect(await memberIds(body.id)).toEqual([users[0]]);
    await patch(body.id, [{ op: 'replace', path: 'members', value: [{ value: users[3] }] }]);
    expect(await memberIds(body.id)).toEqual([users[3]]);
    const put = await bridge.request('PUT', `/Groups/${body.id}`, { schemas: [GROUP_SCHEMA], displayName: 'Idempotent', members: [{ value: users[1] }] });
    expect(put.status).toBe(200);
    expect(put.body.members.map((m: { value: string }) => m.value)).toEqual([users[1]]);
  });

  it('rolls back a PATCH whose later operation fails', async () => {
    const { body } = await createGroup('Atomic', [users[0]]);
    const res = await patch(body.id, [
      { op: 'add', path: 'members', value: [{ value: users[1] }] },
      { op: 'add', path: 'members', value: [{ value: 'nobody' }] },
    ]);
    expect(res.status).toBe(400);
    expect(await memberIds(body.id)).toEqual([users[0]]);
  });

  it("answers Entra's membership check: id eq and members[value eq]", async () => {
    const { body } = await createGroup('Checked', [users[0]]);
    const filter = (user: string) => encodeURIComponent(`id eq "${body.id}" and members[value eq "${user}"]`);
    const yes = await bridge.request('GET', `/Groups?filter=${filter(users[0])}&excludedAttributes=members`);
    expect(yes.body.totalResults).toBe(1);
    expect(yes.body.Resources[0]).not.toHaveProperty('members');
    const no = await bridge.request('GET', `/Groups?filter=${filter(users[1])}&excludedAttributes=members`);
    expect(no.body.totalResults).toBe(0);
  });

  it('never changes protected groups over SCIM', async () => {
    const list = await bridge.request('GET', `/Groups?filter=${encodeURIComponent('displayName eq "administrators"')}`);
    const admins = list.body.Resources[0];
    expect(admins.displayName).toBe('Administrators');
    for (const res of [
      await patch(admins.id, [{ op: 'add', path: 'members', value: [{ value: users[0] }] }]),
      await bridge.request('PUT', `/Groups/${admins.id}`, { schemas: [GROUP_SCHEMA], displayName: 'Admins' }),
      await bridge.request('DELETE', `/Groups/${admins.id}`),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.detail).toMatch(/protected/);
    }
    expect(await memberIds(admins.id)).toEqual([]);
  });

  it('deletes a group and its memberships', async () => {
    const { body } = await createGroup('Temporary', [users[3]]);
    expect((await bridge.request('DELETE', `/Groups/${body.id}`)).status).toBe(204);
    expect((await bridge.request('GET', `/Groups/${body.id}`)).status).toBe(404);
    const edsger = await bridge.request('GET', `/Users/${users[3]}`);
    expect(edsger.body.groups.map((g: { display: string }) => g.display)).not.toContain('Temporary');
  });
});
