/**
 * Rippling's provisioning traffic, as its custom SCIM app settings and the integration guides describe it
 * (docs/identity-providers.md, Rippling): Test Connection reads /ServiceProviderConfig; with "Supports Pagination"
 * Rippling pages through /Users and /Groups to match existing accounts before it creates any; users carry
 * externalId, emails (primary) and name; updates are PATCH replace operations; termination sends `active: false`;
 * with "Supports Groups", "Create & Delete Groups" and "Use PATCH to edit Groups" groups are created, deleted and
 * changed by PATCH (PUT without it); "Mutually Exclusive Groups" moves a user from one group to another; a retried
 * create must not make a second account.
 */
import { eventsOf } from '../support/events';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const rippling = { 'user-agent': 'Rippling-SCIM-Client', accept: 'application/scim+json' };

describe.each(STORE_KINDS)('Rippling provisioning replay (%s store)', (store) => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ store });
  });
  afterAll(() => bridge.stop());
  const call = (method: string, path: string, body?: unknown) => bridge.request(method, path, body, rippling);
  const patch = (path: string, Operations: unknown[]) => call('PATCH', path, { schemas: [PATCH], Operations });
  const person = (n: number, extra: Record<string, unknown> = {}) => ({
    schemas: [USER],
    externalId: `rippling-emp-${n}`,
    userName: `employee${n}@example.com`,
    emails: [{ value: `employee${n}@example.com`, primary: true, type: 'work' }],
    name: { givenName: `Employee`, familyName: `Number${n}` },
    active: true,
    ...extra,
  });

  /** Every page of a list, the way a client with "Supports Pagination" reads it. */
  const all = async (path: string, count = 2) => {
    const items: { id: string; [key: string]: unknown }[] = [];
    for (let startIndex = 1; ; startIndex += count) {
      const page = await call('GET', `${path}?startIndex=${startIndex}&count=${count}`);
      expect(page.status).toBe(200);
      items.push(...page.body.Resources);
      if (startIndex + count > page.body.totalResults) return items;
    }
  };

  it('connects, matches existing accounts page by page, and runs the employee lifecycle', async () => {
    const config = await call('GET', '/ServiceProviderConfig');
    expect(config.status).toBe(200);
    expect(config.body).toMatchObject({ patch: { supported: true }, filter: { supported: true } });

    // Accounts that exist before the app is installed, made by an administrator.
    for (const n of [1, 2, 3]) expect((await call('POST', '/Users', person(n, { externalId: undefined }))).status).toBe(201);
    const existing = await all('/Users');
    expect(existing.map((u) => u.userName).sort()).toEqual(['employee1@example.com', 'employee2@example.com', 'employee3@example.com']);

    // "Match existing users": the existing account is linked (its externalId set); a new hire is created.
    const match = existing.find((u) => u.userName === 'employee2@example.com')!;
    const linked = await patch(`/Users/${match.id}`, [{ op: 'replace', path: 'externalId', value: 'rippling-emp-2' }]);
    expect(linked.body.externalId).toBe('rippling-emp-2');
    const hire = await call('POST', '/Users', person(4, { title: 'Analyst' }));
    expect(hire.status).toBe(201);
    // A retried create (Rippling retries failed requests) makes no second account.
    const retried = await call('POST', '/Users', person(4, { title: 'Analyst' }));
    expect(retried).toMatchObject({ status: 409, body: { scimType: 'uniqueness' } });
    const byExternal = await call('GET', `/Users?filter=${encodeURIComponent('externalId eq "rippling-emp-4"')}`);
    expect(byExternal.body.totalResults).toBe(1);

    // Profile changes: replace operations.
    const promoted = await patch(`/Users/${hire.body.id}`, [
      { op: 'replace', path: 'title', value: 'Senior Analyst' },
      { op: 'replace', path: 'name.familyName', value: 'Renamed' },
      { op: 'replace', value: { 'name.givenName': 'Senior' } },
    ]);
    expect(promoted.body).toMatchObject({ title: 'Senior Analyst', name: { givenName: 'Senior', familyName: 'Renamed' } });

    // Termination, then rehire.
    expect((await patch(`/Users/${hire.body.id}`, [{ op: 'replace', path: 'active', value: false }])).body.active).toBe(false);
    expect((await patch(`/Users/${hire.body.id}`, [{ op: 'replace', path: 'active', value: true }])).body.active).toBe(true);

    const events = await eventsOf(bridge, { search: 'employee4' });
    expect(events.map((e) => e.action).reverse()).toEqual(['user.create', 'user.create', 'user.patch', 'user.suspend', 'user.reactivate']);
    expect(events.map((e) => e.outcome).reverse()).toEqual(['success', 'refused', 'success', 'success', 'success']);
  });

  it('creates, edits (PATCH, or PUT without "Use PATCH to edit Groups"), moves members between exclusive groups, and deletes groups', async () => {
    const ids: string[] = [];
    for (const n of [10, 11, 12]) ids.push((await call('POST', '/Users', person(n))).body.id);
    // Rippling lists the app's groups to map them to teams and departments.
    const groups = await all('/Groups');
    expect(groups.map((g) => g.displayName)).toEqual(expect.arrayContaining(['Owners', 'Administrators', 'Recovery', 'Group Managers']));

    const sales = await call('POST', '/Groups', { schemas: [GROUP], displayName: 'Sales', members: [{ value: ids[0] }, { value: ids[1] }] });
    const support = await call('POST', '/Groups', { schemas: [GROUP], displayName: 'Support', members: [] });
    expect([sales.status, support.status]).toEqual([201, 201]);

    // Mutually exclusive groups: moving employee 11 from Sales to Support.
    expect((await patch(`/Groups/${sales.body.id}`, [{ op: 'remove', path: 'members', value: [{ value: ids[1] }] }])).status).toBe(204);
    expect((await patch(`/Groups/${support.body.id}`, [{ op: 'add', path: 'members', value: [{ value: ids[1] }] }])).status).toBe(204);
    const moved = await call('GET', `/Users/${ids[1]}`);
    expect(moved.body.groups.map((g: { display: string }) => g.display)).toEqual(['Support']);

    // Without "Use PATCH to edit Groups": the whole group with PUT.
    const put = await call('PUT', `/Groups/${support.body.id}`, {
      schemas: [GROUP],
      displayName: 'Customer Support',
      members: [{ value: ids[1] }, { value: ids[2] }],
    });
    expect(put.status).toBe(200);
    expect(put.body.members.map((m: { value: string }) => m.value).sort()).toEqual([ids[1], ids[2]].sort());

    // A protected group cannot be edited, whatever the method.
    const owners = groups.find((g) => g.displayName === 'Owners')!;
    expect((await call('PUT', `/Groups/${owners.id}`, { schemas: [GROUP], displayName: 'Owners', members: [{ value: ids[0] }] })).status).toBe(403);

    expect((await call('DELETE', `/Groups/${sales.body.id}`)).status).toBe(204);
    expect((await call('GET', `/Groups/${sales.body.id}`)).status).toBe(404);
    expect((await all('/Groups')).map((g) => g.displayName)).toContain('Customer Support');
  });
});
