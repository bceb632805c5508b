/**
 * What a write answers (RFC 7644 §3.9: `attributes`/`excludedAttributes` on every operation returning a resource;
 * §3.5.2: a PATCH naming attributes answers 200 with them), and what `active` does when a write leaves it out: a
 * suspended user is never reactivated by a removal or an omission.
 */
import { GROUP_SCHEMA, USER_SCHEMA } from '../../bridge/src/scim/schemas';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(STORE_KINDS)('write answers and active (%s store)', (store) => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ store });
  });
  afterAll(() => bridge.stop());

  const createUser = (userName: string, query = '', extra: Record<string, unknown> = {}) =>
    bridge.request('POST', `/Users${query}`, {
      schemas: [USER_SCHEMA],
      userName,
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      title: 'Countess',
      ...extra,
    });

  it('projects the answers of POST, PUT and PATCH of a user', async () => {
    const created = await createUser('ada@example.com', '?attributes=userName,name.givenName');
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ schemas: [USER_SCHEMA], id: created.body.id, userName: 'ada@example.com', name: { givenName: 'Ada' } });
    expect(created.headers.get('location')).toBe(`${bridge.scim}/Users/${created.body.id}`);
    expect(created.headers.get('etag')).toBe('W/"1"');

    const put = await bridge.request('PUT', `/Users/${created.body.id}?excludedAttributes=name,meta`, {
      schemas: [USER_SCHEMA],
      userName: 'ada@example.com',
      title: 'Analyst',
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ userName: 'ada@example.com', title: 'Analyst', active: true });
    expect(put.body.name).toBeUndefined();
    expect(put.body.meta).toBeUndefined();

    const patched = await bridge.request('PATCH', `/Users/${created.body.id}?attributes=title`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'title', value: 'Engineer' }],
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ schemas: [USER_SCHEMA], id: created.body.id, title: 'Engineer' });
    expect(patched.headers.get('etag')).toBe('W/"3"');
  });

  it('answers a group PATCH with 204, or with 200 and the group when attributes are asked for', async () => {
    const user = await createUser('grace@example.com');
    const group = await bridge.request('POST', '/Groups?excludedAttributes=members', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Navy',
      members: [{ value: user.body.id }],
    });
    expect(group.status).toBe(201);
    expect(group.body.members).toBeUndefined();
    expect(group.body.displayName).toBe('Navy');

    const plain = await bridge.request('PATCH', `/Groups/${group.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'US Navy' }],
    });
    expect(plain.status).toBe(204);

    const asked = await bridge.request('PATCH', `/Groups/${group.body.id}?attributes=members,displayName`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Navy' }],
    });
    expect(asked.status).toBe(200);
    expect(asked.headers.get('etag')).toBe('W/"3"');
    expect(asked.body).toMatchObject({ id: group.body.id, displayName: 'Navy', members: [{ value: user.body.id }] });
    expect(asked.body.meta).toBeUndefined();

    const excluded = await bridge.request('PATCH', `/Groups/${group.body.id}?excludedAttributes=members`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'externalId', value: 'navy-1' }],
    });
    expect(excluded.status).toBe(200);
    expect(excluded.body).toMatchObject({ displayName: 'Navy', externalId: 'navy-1', meta: { version: 'W/"4"' } });
    expect(excluded.body.members).toBeUndefined();

    const put = await bridge.request('PUT', `/Groups/${group.body.id}?attributes=displayName`, { schemas: [GROUP_SCHEMA], displayName: 'Navy', members: [] });
    expect(put.body).toEqual({ schemas: [GROUP_SCHEMA], id: group.body.id, displayName: 'Navy' });
  });

  it('never reactivates a suspended user by removing active or leaving it out of a PUT', async () => {
    const { body } = await createUser('alan@example.com');
    const patch = (Operations: unknown[]) => bridge.request('PATCH', `/Users/${body.id}`, { schemas: [PATCH], Operations });
    expect((await patch([{ op: 'replace', path: 'active', value: false }])).body.active).toBe(false);

    for (const operation of [
      { op: 'remove', path: 'active' },
      { op: 'replace', value: { active: null } },
      { op: 'Replace', path: 'active', value: null },
    ]) {
      const refused = await patch([operation]);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ scimType: 'mutability' });
      expect(refused.body.detail).toContain('"active" cannot be removed');
    }
    const put = await bridge.request('PUT', `/Users/${body.id}`, { schemas: [USER_SCHEMA], userName: 'alan@example.com', title: 'Mathematician' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ title: 'Mathematician', active: false });
    expect((await bridge.request('GET', `/Users/${body.id}`)).body.active).toBe(false);

    // Explicit values still suspend and reactivate.
    const back = await bridge.request('PUT', `/Users/${body.id}`, { schemas: [USER_SCHEMA], userName: 'alan@example.com', active: true });
    expect(back.body.active).toBe(true);
    const again = await bridge.request('PUT', `/Users/${body.id}`, { schemas: [USER_SCHEMA], userName: 'alan@example.com' });
    expect(again.body.active).toBe(true);
  });

  it('creates a user active when the POST leaves active out', async () => {
    expect((await createUser('edsger@example.com')).body.active).toBe(true);
    expect((await createUser('barbara@example.com', '', { active: false })).body.active).toBe(false);
  });
});

describe.each(STORE_KINDS)('a suspended user with SCIM_USERNAME_FORMAT=any (%s store)', (store) => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ store, env: { SCIM_USERNAME_FORMAT: 'any' } });
  });
  afterAll(() => bridge.stop());

  it('may get a new login name, as the userName is no email address there, but keeps its email', async () => {
    const { body } = await bridge.request('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'OMalley',
      active: false,
      emails: [{ value: 'omalley@example.com', primary: true }],
    });
    const patch = (Operations: unknown[]) => bridge.request('PATCH', `/Users/${body.id}`, { schemas: [PATCH], Operations });
    const renamed = await patch([{ op: 'Replace', path: 'userName', value: 'newusername' }]);
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ userName: 'newusername', active: false });
    const email = await patch([{ op: 'replace', path: 'emails', value: [{ value: 'someone.else@example.com', primary: true }] }]);
    expect(email.body).toMatchObject({ status: '400', scimType: 'mutability' });
  });
});
