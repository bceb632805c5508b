/**
 * Okta's provisioning traffic, as its SCIM 2.0 reference documents it: the connector test, the
 * look-up-then-create flow, full-profile PUTs, deactivation by PATCH, and Group Push.
 */
import { SqliteStore } from '../../bridge/src/store/sqlite';
import { type TestBridge, startBridge } from '../support/bridge';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const okta = { 'user-agent': 'Okta SCIM Client 1.0.0', accept: 'application/scim+json' };

describe('Okta provisioning replay', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge();
  });
  afterAll(() => bridge.stop());
  const call = (method: string, path: string, body?: unknown) => bridge.request(method, path, body, okta);
  const q = (filter: string) => `filter=${encodeURIComponent(filter)}&startIndex=1&count=100`;

  it('runs the whole lifecycle the way Okta does', async () => {
    // "Test Connector Configuration": a look-up of a user that does not exist.
    const test = await call('GET', `/Users?${q('userName eq "test.user@okta.local"')}`);
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ totalResults: 0, Resources: [] });

    // Assignment: look up, then create (Okta sends a password and an empty groups list).
    expect((await call('GET', `/Users?${q('userName eq "isaac.brock@example.com"')}`)).body.totalResults).toBe(0);
    const created = await call('POST', '/Users', {
      schemas: [USER],
      userName: 'isaac.brock@example.com',
      name: { givenName: 'Isaac', familyName: 'Brock' },
      emails: [{ primary: true, value: 'isaac.brock@example.com', type: 'work' }],
      displayName: 'Isaac Brock',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      groups: [],
      password: '1mz050nq',
      active: true,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body).toMatchObject({ userName: 'isaac.brock@example.com', externalId: '00ujl29u0le5T6Aj10h7', active: true });
    expect(created.body).not.toHaveProperty('password');

    // A retried assignment finds the user instead of creating another.
    const found = await call('GET', `/Users?${q('userName eq "Isaac.Brock@example.com"')}`);
    expect(found.body.Resources.map((u: { id: string }) => u.id)).toEqual([id]);

    // Profile push: a full PUT.
    const put = await call('PUT', `/Users/${id}`, {
      schemas: [USER],
      id,
      userName: 'isaac.brock@example.com',
      name: { givenName: 'Isaac', familyName: 'Brock-Smith' },
      emails: [{ primary: true, value: 'isaac.brock@example.com', type: 'work' }],
      displayName: 'Isaac Brock-Smith',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      groups: [],
      active: true,
    });
    expect(put.status).toBe(200);
    expect(put.body.name.familyName).toBe('Brock-Smith');

    // Deactivate and reactivate.
    const off = await call('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(off).toMatchObject({ status: 200, body: { active: false } });
    const on = await call('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: true } }] });
    expect(on.body.active).toBe(true);

    // Group Push: create, look up, rename, add and remove members, delete.
    const group = await call('POST', '/Groups', { schemas: [GROUP], displayName: 'Test SCIMv2', members: [] });
    expect(group.status).toBe(201);
    const gid = group.body.id;
    const byName = await call('GET', `/Groups?${q('displayName eq "Test SCIMv2"')}`);
    expect(byName.body.Resources[0].id).toBe(gid);
    const rename = await call('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { id: gid, displayName: 'Test SCIMv2 Renamed' } }],
    });
    expect(rename.status).toBe(204);
    const add = await call('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: id, display: 'isaac.brock@example.com' }] }],
    });
    expect(add.status).toBe(204);
    expect((await call('GET', `/Users/${id}`)).body.groups).toEqual([expect.objectContaining({ value: gid, display: 'Test SCIMv2 Renamed' })]);
    const remove = await call('PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }] });
    expect(remove.status).toBe(204);
    expect((await call('GET', `/Groups/${gid}`)).body.members).toEqual([]);
    expect((await call('DELETE', `/Groups/${gid}`)).status).toBe(204);

    // Every change is a provisioning event, attributed to Okta.
    const store = SqliteStore.open(bridge.databaseUrl.slice('sqlite:'.length));
    const events = await store.listEvents({ limit: 50 });
    await store.close();
    expect(events.map((e) => e.action).reverse()).toEqual([
      'user.create',
      'user.replace',
      'user.suspend',
      'user.reactivate',
      'group.create',
      'group.rename',
      'group.members.add',
      'group.members.remove',
      'group.delete',
    ]);
    expect(new Set(events.map((e) => e.actor))).toEqual(new Set(['Okta SCIM Client 1.0.0']));
    expect(events.every((e) => e.requestId)).toBe(true);
  });
});
