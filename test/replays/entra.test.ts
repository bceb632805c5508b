/**
 * Microsoft Entra ID's provisioning traffic, as its SCIM endpoint guide documents it: the test with a random
 * userName, create with the enterprise extension, PATCH with "Replace"/"Add" in capitals and value-filter
 * paths, the manager reference, group membership checks with excludedAttributes=members, and deletes.
 */
import { randomUUID } from 'node:crypto';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import { type TestBridge, startBridge } from '../support/bridge';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const entra = { 'user-agent': 'Azure AD SCIM Client', 'content-type': 'application/scim+json; charset=utf-8' };

describe('Microsoft Entra ID provisioning replay', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ env: { SCIM_ALLOWED_DOMAINS: 'contoso.com' } });
  });
  afterAll(() => bridge.stop());
  const call = (method: string, path: string, body?: unknown) => bridge.request(method, path, body, entra);
  const patch = (path: string, Operations: unknown[]) => call('PATCH', path, { schemas: [PATCH], Operations });

  it('runs the documented request sequence', async () => {
    // "Test Connection": a filter on a random userName must answer 200 with no results.
    const probe = await call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${randomUUID()}"`)}`);
    expect(probe).toMatchObject({ status: 200, body: { totalResults: 0 } });

    const manager = await call('POST', '/Users', { schemas: [USER], userName: 'boss@contoso.com', active: true });
    const created = await call('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName: 'Test_User_ab6490ee@contoso.com',
      active: true,
      emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@contoso.com' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      [ENTERPRISE]: { employeeNumber: 1001, department: 'Sales' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body[ENTERPRISE]).toEqual({ employeeNumber: '1001', department: 'Sales' });

    // Matching by the mapped attribute, and by externalId.
    const byName = await call('GET', `/Users?filter=${encodeURIComponent('userName eq "test_user_ab6490ee@contoso.com"')}`);
    expect(byName.body.Resources[0].id).toBe(id);
    const byExternal = await call('GET', `/Users?filter=${encodeURIComponent('externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')}`);
    expect(byExternal.body.totalResults).toBe(1);

    // Updates: multi-valued by value filter, single-valued, manager, and several operations at once.
    const updated = await patch(`/Users/${id}`, [
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@contoso.com' },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
      { op: 'Add', path: `${ENTERPRISE}:manager`, value: manager.body.id },
      { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Marketing' },
    ]);
    expect(updated.status).toBe(200);
    expect(updated.body.emails).toEqual([{ primary: true, type: 'work', value: 'updatedEmail@contoso.com' }]);
    expect(updated.body.name.familyName).toBe('updatedFamilyName');
    expect(updated.body[ENTERPRISE]).toMatchObject({ department: 'Marketing', manager: { value: manager.body.id } });

    const renamed = await patch(`/Users/${id}`, [{ op: 'Replace', path: 'userName', value: '5b50642d-79fc-4410-9e90-4c077cdd1a59@contoso.com' }]);
    expect(renamed.body.userName).toBe('5b50642d-79fc-4410-9e90-4c077cdd1a59@contoso.com');

    // A mapping to another domain is refused with a clear error, and nothing changes.
    const outside = await patch(`/Users/${id}`, [{ op: 'Replace', path: 'userName', value: 'someone@fabrikam.com' }]);
    expect(outside).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    expect(outside.body.detail).toContain('fabrikam.com');

    // Disable (Entra has sent both a boolean and the string "False").
    expect((await patch(`/Users/${id}`, [{ op: 'Replace', path: 'active', value: 'False' }])).body.active).toBe(false);

    // Groups: create, find without members, add, check membership, remove, rename, delete.
    const group = await call('POST', '/Groups', {
      schemas: [GROUP],
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'displayName',
      meta: { resourceType: 'Group' },
    });
    expect(group.status).toBe(201);
    const gid = group.body.id;
    const found = await call('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "displayName"')}`);
    expect(found.body.Resources).toEqual([expect.not.objectContaining({ members: expect.anything() })]);
    expect((await patch(`/Groups/${gid}`, [{ op: 'Add', path: 'members', value: [{ $ref: null, value: id }] }])).status).toBe(204);
    const member = encodeURIComponent(`id eq "${gid}" and members[value eq "${id}"]`);
    expect((await call('GET', `/Groups?filter=${member}&excludedAttributes=members`)).body.totalResults).toBe(1);
    expect((await patch(`/Groups/${gid}`, [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: id }] }])).status).toBe(204);
    expect((await call('GET', `/Groups?filter=${member}&excludedAttributes=members`)).body.totalResults).toBe(0);
    expect(
      (await patch(`/Groups/${gid}`, [{ op: 'Replace', path: 'displayName', value: '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName' }])).status,
    ).toBe(204);
    expect((await call('DELETE', `/Groups/${gid}`)).status).toBe(204);
    expect((await call('DELETE', `/Users/${id}`)).status).toBe(204);

    const store = SqliteStore.open(bridge.databaseUrl.slice('sqlite:'.length));
    const refused = await store.listEvents({ limit: 10, outcome: 'refused' });
    await store.close();
    expect(refused).toEqual([expect.objectContaining({ action: 'user.patch', status: 400, actor: 'Azure AD SCIM Client', resourceId: id })]);
  });
});
