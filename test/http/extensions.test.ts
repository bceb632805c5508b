/**
 * Operator-declared schema extensions (SCIM_SCHEMA_EXTENSIONS): a custom attribute sent the way Okta and Entra ID
 * send one round-trips through POST, PUT/PATCH, GET, filters, sorting and /Schemas on both stores; types,
 * canonical values, `required` and `immutable` are enforced; an undeclared extension is refused with a 400 naming
 * it (or kept, with SCIM_UNDECLARED_EXTENSIONS=keep), never dropped.
 *
 * The request shapes follow the providers' documentation of custom attribute mapping:
 * - Okta: a custom attribute of the app's profile (Profile Editor) has an "External name" and an "External
 *   namespace" (the extension URN); Okta sends it inside an object keyed by that namespace, in POST and PUT
 *   (https://support.okta.com/help/s/article/custom-scim-attribute-is-not-available-to-map-and-is-not-sent-to-scim,
 *   https://developer.okta.com/docs/guides/scim-provisioning-integration-prepare/main/).
 * - Entra ID: a custom attribute is added to the target attribute list as
 *   `urn:ietf:params:scim:schemas:extension:<name>:2.0:User:<attribute>`, single-valued and simple only; Entra creates
 *   with the extension object and updates with PATCH operations whose path is that full name
 *   (https://learn.microsoft.com/en-us/entra/identity/app-provisioning/customize-application-attributes#provisioning-a-custom-extension-attribute-to-a-scim-compliant-application).
 */
import { readConfig } from '../../bridge/src/config';
import { openStore } from '../../bridge/src/store/open';
import { USER_SCHEMA, GROUP_SCHEMA } from '../../bridge/src/scim/schemas';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';

const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
const ACME_GROUP = 'urn:ietf:params:scim:schemas:extension:acme:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const okta = { 'user-agent': 'Okta SCIM Client 1.0.0' };
const entra = { 'user-agent': 'Azure AD SCIM Client' };

export const DECLARATIONS = {
  schemas: [
    {
      id: ACME,
      name: 'AcmeUser',
      description: 'Acme custom attributes',
      attributes: [
        {
          name: 'costCenter',
          type: 'string',
          multiValued: false,
          required: false,
          caseExact: false,
          mutability: 'readWrite',
          returned: 'default',
          uniqueness: 'none',
        },
        { name: 'badgeNumber', type: 'integer' },
        { name: 'role', type: 'string', canonicalValues: ['Engineer', 'Manager'] },
        { name: 'hireDate', type: 'dateTime' },
        { name: 'employeeId', type: 'string', mutability: 'immutable', caseExact: true },
        { name: 'remote', type: 'boolean' },
        // Okta's "string array" custom attributes.
        { name: 'skills', type: 'string', multiValued: true },
      ],
    },
    { id: ACME_GROUP, attributes: [{ name: 'budgetCode', type: 'string', required: true }] },
  ],
};

const attr = (name: string) => `${ACME}:${name}`;
const filter = (text: string) => `?filter=${encodeURIComponent(text)}`;

describe.each(STORE_KINDS)('declared schema extensions (%s store)', (store) => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ store, env: { SCIM_SCHEMA_EXTENSIONS: JSON.stringify(DECLARATIONS) } });
  });
  afterAll(() => bridge.stop());

  it('advertises the declared extensions at /Schemas and /ResourceTypes', async () => {
    const schemas = await bridge.request('GET', '/Schemas');
    const acme = schemas.body.Resources.find((s: { id: string }) => s.id === ACME);
    expect(acme).toMatchObject({ name: 'AcmeUser', meta: { location: `${bridge.scim}/Schemas/${ACME}` } });
    expect(acme.attributes.map((a: { name: string }) => a.name)).toEqual(['costCenter', 'badgeNumber', 'role', 'hireDate', 'employeeId', 'remote', 'skills']);
    expect(acme.attributes[2]).toMatchObject({ type: 'string', canonicalValues: ['Engineer', 'Manager'], mutability: 'readWrite', uniqueness: 'none' });
    const group = (await bridge.request('GET', `/Schemas/${ACME_GROUP}`)).body;
    expect(group).toMatchObject({ id: ACME_GROUP, name: 'acme:2.0:Group' });
    expect(group.attributes).toEqual([expect.objectContaining({ name: 'budgetCode', required: true })]);
    const types = (await bridge.request('GET', '/ResourceTypes')).body.Resources;
    expect(types.find((t: { id: string }) => t.id === 'User').schemaExtensions).toContainEqual({ schema: ACME, required: false });
    expect(types.find((t: { id: string }) => t.id === 'Group').schemaExtensions).toEqual([{ schema: ACME_GROUP, required: false }]);
  });

  it('round-trips an Okta-shaped custom attribute: POST, GET, PUT, PATCH and a filter', async () => {
    const created = await bridge.request(
      'POST',
      '/Users',
      {
        schemas: [USER_SCHEMA, ACME],
        userName: 'okta.user@example.com',
        name: { givenName: 'Okta', familyName: 'User' },
        emails: [{ primary: true, value: 'okta.user@example.com', type: 'work' }],
        active: true,
        [ACME]: { costCenter: 'CC-100', badgeNumber: '42', role: 'engineer', hireDate: '2026-03-01', employeeId: 'E-1', remote: 'True' },
      },
      okta,
    );
    expect(created.status).toBe(201);
    expect(created.body.schemas).toEqual([USER_SCHEMA, ACME]);
    // Values of the declared types, and the canonical value's declared spelling.
    expect(created.body[ACME]).toEqual({
      costCenter: 'CC-100',
      badgeNumber: 42,
      role: 'Engineer',
      hireDate: '2026-03-01T00:00:00.000Z',
      employeeId: 'E-1',
      remote: true,
    });
    const id = created.body.id;
    expect((await bridge.request('GET', `/Users/${id}`)).body[ACME]).toEqual(created.body[ACME]);

    // Okta's profile push is a PUT of the whole user; leaving out the immutable employeeId keeps it.
    const put = await bridge.request(
      'PUT',
      `/Users/${id}`,
      {
        schemas: [USER_SCHEMA, ACME],
        id,
        userName: 'okta.user@example.com',
        name: { givenName: 'Okta', familyName: 'User' },
        active: true,
        [ACME]: { costCenter: 'CC-200', badgeNumber: 43, role: 'Manager' },
      },
      okta,
    );
    expect(put.status).toBe(200);
    expect(put.body[ACME]).toEqual({ costCenter: 'CC-200', badgeNumber: 43, role: 'Manager', employeeId: 'E-1' });

    const deactivated = await bridge.request('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] }, okta);
    expect(deactivated.body).toMatchObject({ active: false, [ACME]: { costCenter: 'CC-200' } });

    const found = await bridge.request('GET', `/Users${filter(`${attr('costCenter')} eq "cc-200"`)}`, undefined, okta);
    expect(found.body).toMatchObject({ totalResults: 1, Resources: [{ id }] });
    const byNumber = await bridge.request('GET', `/Users${filter(`${attr('badgeNumber')} gt 42 and ${attr('role')} eq "Manager"`)}`);
    expect(byNumber.body.Resources.map((u: { id: string }) => u.id)).toEqual([id]);
    const projected = await bridge.request('GET', `/Users/${id}?attributes=${encodeURIComponent(attr('costCenter'))}`);
    expect(projected.body).toEqual({ schemas: [USER_SCHEMA, ACME], id, [ACME]: { costCenter: 'CC-200' } });
  });

  it('round-trips an Entra-shaped custom attribute: POST, PATCH by full path and by path-less key, filter and sort', async () => {
    const created = await bridge.request(
      'POST',
      '/Users',
      {
        schemas: [USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', ACME],
        externalId: 'entra-1',
        userName: 'entra.user@example.com',
        active: true,
        [ACME]: { costCenter: 'CC-300', badgeNumber: 7 },
      },
      entra,
    );
    expect(created.status).toBe(201);
    const id = created.body.id;

    const added = await bridge.request(
      'PATCH',
      `/Users/${id}`,
      {
        schemas: [PATCH],
        Operations: [
          { op: 'Add', path: attr('hireDate'), value: '2026-05-04T09:00:00+02:00' },
          { op: 'Replace', path: attr('costCenter'), value: 'CC-301' },
        ],
      },
      entra,
    );
    expect(added.status).toBe(200);
    expect(added.body[ACME]).toEqual({ costCenter: 'CC-301', badgeNumber: 7, hireDate: '2026-05-04T07:00:00.000Z' });

    const pathless = await bridge.request(
      'PATCH',
      `/Users/${id}`,
      { schemas: [PATCH], Operations: [{ op: 'Replace', value: { [attr('badgeNumber')]: '8', [attr('role')]: 'MANAGER' } }] },
      entra,
    );
    expect(pathless.body[ACME]).toMatchObject({ badgeNumber: 8, role: 'Manager' });

    const removed = await bridge.request('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Remove', path: attr('role') }] }, entra);
    expect(removed.body[ACME].role).toBeUndefined();

    const after = await bridge.request('GET', `/Users${filter(`${attr('hireDate')} ge "2026-05-01T00:00:00Z" and externalId eq "entra-1"`)}`, undefined, entra);
    expect(after.body).toMatchObject({ totalResults: 1, Resources: [{ id, [ACME]: { costCenter: 'CC-301' } }] });
    expect((await bridge.request('GET', `/Users${filter(`${attr('hireDate')} lt "2026-05-04T07:00:00Z"`)}`)).body.totalResults).toBe(0);

    const sorted = await bridge.request(
      'GET',
      `/Users?sortBy=${encodeURIComponent(attr('badgeNumber'))}&sortOrder=descending&${filter(`${attr('badgeNumber')} pr`).slice(1)}`,
    );
    expect(sorted.body.Resources.map((u: { [ACME]: { badgeNumber: number } }) => u[ACME].badgeNumber)).toEqual([43, 8]);
    const searched = await bridge.request('POST', '/Users/.search', { filter: `${attr('costCenter')} sw "CC-3"`, attributes: [attr('badgeNumber')] });
    expect(searched.body.Resources).toEqual([{ schemas: [USER_SCHEMA, ACME], id, [ACME]: { badgeNumber: 8 } }]);
  });

  it('carries the custom attributes into the change feed, as the application receives them', async () => {
    const created = await bridge.request(
      'POST',
      '/Users',
      { schemas: [USER_SCHEMA, ACME], userName: 'feed.user@example.com', [ACME]: { costCenter: 'CC-9' } },
      okta,
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    await bridge.request('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: attr('badgeNumber'), value: 12 }] }, entra);
    const store = await openStore(bridge.databaseUrl);
    try {
      const changes = (await store.readChanges(0, 1000)).filter((c) => c.resource.id === id);
      expect(changes.map((c) => [c.type, c.changed, (c.state as Record<string, unknown>)[ACME]])).toEqual([
        ['user.created', undefined, { costCenter: 'CC-9' }],
        ['user.updated', [ACME], { costCenter: 'CC-9', badgeNumber: 12 }],
      ]);
    } finally {
      await store.close();
    }
  });

  it('refuses values of the wrong type, outside the canonical values, or changing an immutable attribute', async () => {
    const post = (values: Record<string, unknown>, userName = 'bad@example.com') =>
      bridge.request('POST', '/Users', { schemas: [USER_SCHEMA, ACME], userName, [ACME]: values });
    expect((await post({ badgeNumber: 'forty-two' })).body).toMatchObject({
      status: '400',
      scimType: 'invalidValue',
      detail: expect.stringContaining(`${ACME}:badgeNumber`),
    });
    expect((await post({ role: 'Janitor' })).body).toMatchObject({
      status: '400',
      scimType: 'invalidValue',
      detail: expect.stringContaining('Engineer, Manager'),
    });
    expect((await post({ hireDate: 'yesterday' })).body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect((await bridge.request('GET', `/Users${filter('userName eq "bad@example.com"')}`)).body.totalResults).toBe(0);

    const { body } = await post({ employeeId: 'E-9' }, 'immutable@example.com');
    const change = await bridge.request('PATCH', `/Users/${body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: attr('employeeId'), value: 'E-10' }],
    });
    expect(change.body).toMatchObject({ status: '400', scimType: 'mutability', detail: expect.stringContaining('immutable') });
    const remove = await bridge.request('PATCH', `/Users/${body.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: attr('employeeId') }] });
    expect(remove.body).toMatchObject({ status: '400', scimType: 'mutability' });
    expect((await bridge.request('GET', `/Users/${body.id}`)).body[ACME]).toEqual({ employeeId: 'E-9' });
    expect((await bridge.request('GET', `/Users${filter(`${attr('badgeNumber')} eq "x"`)}`)).body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
  });

  it('refuses an undeclared extension with a 400 naming its URN, in POST and PATCH, and creates nothing', async () => {
    const other = 'urn:ietf:params:scim:schemas:extension:other:2.0:User';
    const post = await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA, other], userName: 'lost@example.com', [other]: { shoeSize: '42' } });
    expect(post.status).toBe(400);
    expect(post.body).toMatchObject({ scimType: 'invalidValue', detail: expect.stringContaining(other) });
    expect((await bridge.request('GET', `/Users${filter('userName eq "lost@example.com"')}`)).body.totalResults).toBe(0);

    const user = await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'kept@example.com' });
    for (const operation of [
      { op: 'add', path: `${other}:shoeSize`, value: '42' },
      { op: 'replace', value: { [`${other}:shoeSize`]: '42' } },
      { op: 'add', value: { [other]: { shoeSize: '42' } } },
    ]) {
      const res = await bridge.request('PATCH', `/Users/${user.body.id}`, { schemas: [PATCH], Operations: [operation] });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ scimType: 'invalidPath', detail: expect.stringContaining(other) });
    }
  });

  it('keeps a multi-valued attribute (Okta string arrays), adds to it with PATCH, and filters on its presence', async () => {
    const created = await bridge.request(
      'POST',
      '/Users',
      { schemas: [USER_SCHEMA, ACME], userName: 'skills@example.com', [ACME]: { skills: ['go', 'sql'] } },
      okta,
    );
    expect(created.body[ACME]).toEqual({ skills: ['go', 'sql'] });
    const added = await bridge.request('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: attr('skills'), value: ['rust', 'go'] }],
    });
    expect(added.body[ACME].skills).toEqual(['go', 'sql', 'rust']);
    const present = await bridge.request('GET', `/Users${filter(`${attr('skills')} pr and userName eq "skills@example.com"`)}`);
    expect(present.body.totalResults).toBe(1);
    // Comparing the elements of a multi-valued simple attribute is not compiled to SQL: a clear 400, not a 5xx.
    expect((await bridge.request('GET', `/Users${filter(`${attr('skills')} eq "go"`)}`)).body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
  });

  it('stores, requires and filters on a declared group extension', async () => {
    const missing = await bridge.request('POST', '/Groups', { schemas: [GROUP_SCHEMA, ACME_GROUP], displayName: 'No budget', [ACME_GROUP]: {} });
    expect(missing.status).toBe(201); // an empty extension object is no extension
    const group = await bridge.request('POST', '/Groups', {
      schemas: [GROUP_SCHEMA, ACME_GROUP],
      displayName: 'Budgeted',
      [ACME_GROUP]: { budgetCode: 'B-1' },
    });
    expect(group.body).toMatchObject({ schemas: [GROUP_SCHEMA, ACME_GROUP], [ACME_GROUP]: { budgetCode: 'B-1' } });
    const cleared = await bridge.request('PATCH', `/Groups/${group.body.id}?attributes=${encodeURIComponent(ACME_GROUP)}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: `${ACME_GROUP}:budgetCode`, value: 'B-2' }],
    });
    expect(cleared.body[ACME_GROUP]).toEqual({ budgetCode: 'B-2' });
    const found = await bridge.request('GET', `/Groups${filter(`${ACME_GROUP}:budgetCode eq "b-2"`)}`);
    expect(found.body.Resources.map((g: { displayName: string }) => g.displayName)).toEqual(['Budgeted']);
  });
});

describe.each(STORE_KINDS)('undeclared extensions kept (%s store)', (store) => {
  let bridge: TestBridge;
  const other = 'urn:ietf:params:scim:schemas:extension:other:2.0:User';
  beforeAll(async () => {
    bridge = await startBridge({ store, env: { SCIM_UNDECLARED_EXTENSIONS: 'keep' } });
  });
  afterAll(() => bridge.stop());

  it('keeps an undeclared extension as sent, through POST, PATCH and GET', async () => {
    const created = await bridge.request('POST', '/Users', {
      schemas: [USER_SCHEMA, other],
      userName: 'kept@example.com',
      [other]: { shoeSize: '42', tags: ['a'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ schemas: [USER_SCHEMA, other], [other]: { shoeSize: '42', tags: ['a'] } });
    const patched = await bridge.request('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'replace', path: `${other}:shoeSize`, value: 43 },
        { op: 'remove', path: `${other}:tags` },
        { op: 'add', value: { [`${other}:hat`]: 'L' } },
      ],
    });
    expect(patched.body[other]).toEqual({ shoeSize: 43, hat: 'L' });
    expect((await bridge.request('GET', `/Users/${created.body.id}`)).body[other]).toEqual({ shoeSize: 43, hat: 'L' });
    // Only declared attributes can be filtered on.
    expect((await bridge.request('GET', `/Users${filter(`${other}:hat eq "L"`)}`)).body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
  });
});

describe('declaring extensions', () => {
  const env = (value: unknown, extra: Record<string, string> = {}) => ({
    SCIM_SCHEMA_EXTENSIONS: typeof value === 'string' ? value : JSON.stringify(value),
    ...extra,
  });
  const refusal = (value: unknown, extra?: Record<string, string>) => {
    try {
      readConfig(env(value, extra));
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it('reads an array, {"schemas": [...]} or a /Schemas list response', () => {
    const one = DECLARATIONS.schemas[0];
    expect(readConfig(env([one])).extensions.declared.map((d) => [d.kind, d.schema.id])).toEqual([['User', ACME]]);
    expect(readConfig(env(DECLARATIONS)).extensions.declared.map((d) => d.kind)).toEqual(['User', 'Group']);
    expect(readConfig(env({ Resources: [one] })).extensions.declared).toHaveLength(1);
    expect(readConfig({}).extensions).toEqual({ declared: [], undeclared: 'refuse' });
  });

  it.each([
    ['{not json', /SCIM_SCHEMA_EXTENSIONS: not JSON/],
    [[{ id: 'acme', attributes: [{ name: 'a' }] }], /"id" must be the extension's URN/],
    [[{ id: USER_SCHEMA, attributes: [{ name: 'a' }] }], /built-in schema/],
    [[{ id: 'urn:acme:custom', attributes: [{ name: 'a' }] }], /"resourceType": "User" or "Group"/],
    [[{ id: ACME, attributes: [] }], /"attributes" must be a non-empty array/],
    [[{ id: ACME, attributes: [{ name: 'cost center' }] }], /"name" must be an attribute name/],
    [[{ id: ACME, attributes: [{ name: 'a', type: 'text' }] }], /"type" must be one of string, boolean/],
    [[{ id: ACME, attributes: [{ name: 'a' }, { name: 'A' }] }], /declared twice/],
    [[{ id: ACME, attributes: [{ name: 'a', uniqueness: 'server' }] }], /uniqueness.*not enforced/],
    [[{ id: ACME, attributes: [{ name: 'a', mutability: 'writeOnly' }] }], /writeOnly is not supported/],
    [[{ id: ACME, attributes: [{ name: 'a', type: 'complex' }] }], /needs "subAttributes"/],
    [[{ id: ACME, attributes: [{ name: 'a', required: 'yes' }] }], /"required" must be true or false/],
    [
      [
        { id: ACME, attributes: [{ name: 'a' }] },
        { id: ACME, attributes: [{ name: 'b' }] },
      ],
      /declared twice/,
    ],
  ])('refuses a bad declaration with one line: %j', (value, message) => {
    const text = refusal(value);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it('refuses both sources at once, an unreadable file and an unknown policy', () => {
    expect(refusal([], { SCIM_SCHEMA_EXTENSIONS_FILE: '/nonexistent' })).toMatch(/not both/);
    expect(() => readConfig({ SCIM_SCHEMA_EXTENSIONS_FILE: '/nonexistent/schemas.json' })).toThrow(
      /SCIM_SCHEMA_EXTENSIONS_FILE \(\/nonexistent\/schemas.json\) cannot be read: ENOENT/,
    );
    expect(() => readConfig({ SCIM_UNDECLARED_EXTENSIONS: 'drop' })).toThrow(/SCIM_UNDECLARED_EXTENSIONS must be one of refuse, keep/);
  });

  it('stops a bridge from starting on a bad declaration', async () => {
    await expect(startBridge({ env: { SCIM_SCHEMA_EXTENSIONS: '[{"id":"urn:acme:x:User","attributes":[{"name":"a","type":"date"}]}]' } })).rejects.toThrow(
      /SCIM_SCHEMA_EXTENSIONS: schema "urn:acme:x:User", attribute "a": "type" must be one of/,
    );
  });
});
