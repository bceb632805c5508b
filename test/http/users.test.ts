import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from '../../bridge/src/scim/schemas';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const newUser = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER_SCHEMA],
  userName,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [{ value: userName, type: 'work', primary: true }],
  active: true,
  ...extra,
});

describe.each(STORE_KINDS)('Users over HTTP (%s store)', (store) => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ store, env: { SCIM_ALLOWED_DOMAINS: 'example.com, example.org' } });
  });
  afterAll(() => bridge.stop());

  it('creates a user: 201, Location, ETag, meta; never returns a password; ignores unknown attributes', async () => {
    const res = await bridge.request(
      'POST',
      '/Users',
      newUser('create@example.com', { password: 'hunter2', favouriteColour: 'green', id: 'chosen-by-client' }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toContain('application/scim+json');
    expect(res.body).toMatchObject({
      schemas: [USER_SCHEMA],
      userName: 'create@example.com',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      active: true,
      groups: [],
      meta: { resourceType: 'User', version: 'W/"1"' },
    });
    expect(res.body.id).not.toBe('chosen-by-client');
    expect(res.body.password).toBeUndefined();
    expect(res.body.favouriteColour).toBeUndefined();
    expect(res.headers.get('location')).toBe(res.body.meta.location);
    expect(res.body.meta.location).toBe(`${bridge.scim}/Users/${res.body.id}`);
    expect(res.headers.get('etag')).toBe('W/"1"');
    const again = await bridge.request('GET', `/Users/${res.body.id}`);
    expect(again.body).toEqual(res.body);
  });

  it('answers a second POST of the same userName, in any case, with 409 uniqueness', async () => {
    expect((await bridge.request('POST', '/Users', newUser('twice@example.com'))).status).toBe(201);
    const res = await bridge.request('POST', '/Users', newUser('TWICE@Example.com'));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness' });
  });

  it.each([
    [{ schemas: [USER_SCHEMA] }, 'invalidValue', /userName/],
    [newUser('not-an-email'), 'invalidValue', /email address/],
    [newUser('someone@elsewhere.net'), 'invalidValue', /allowed email domain/],
    [newUser('flag@example.com', { active: 'maybe' }), 'invalidValue', /active/],
    [newUser('emails@example.com', { emails: [{ value: 'nope' }] }), 'invalidValue', /not an email/],
    [newUser('ext@example.com', { externalId: 42 }), 'invalidValue', /externalId/],
    [[1, 2], 'invalidSyntax', /object/],
  ])('refuses a bad user with 400 %#', async (body, scimType, detail) => {
    const res = await bridge.request('POST', '/Users', body);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe(scimType);
    expect(res.body.detail).toMatch(detail);
  });

  it('refuses malformed JSON with invalidSyntax and oversized bodies with 413, never 500', async () => {
    const broken = await bridge.request('POST', '/Users', '{"userName": ');
    expect(broken).toMatchObject({ status: 400, body: { scimType: 'invalidSyntax' } });
    const poisoned = await bridge.request('POST', '/Users', '{"userName":"p@example.com","__proto__":{"admin":true}}');
    expect(poisoned.status).toBe(400);
    const huge = await bridge.request('POST', '/Users', newUser('huge@example.com', { title: 'x'.repeat(1_100_000) }));
    expect(huge.status).toBe(413);
    expect(huge.body.status).toBe('413');
  });

  it('accepts booleans as strings, as identity providers send them', async () => {
    const res = await bridge.request('POST', '/Users', newUser('strings@example.com', { active: 'False' }));
    expect(res.status).toBe(201);
    expect(res.body.active).toBe(false);
  });

  it('keeps the enterprise extension and lists its schema', async () => {
    const res = await bridge.request(
      'POST',
      '/Users',
      newUser('ent@example.com', {
        schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        [ENTERPRISE_USER_SCHEMA]: { department: 'R&D', manager: { value: 'boss-id' } },
      }),
    );
    expect(res.body.schemas).toEqual([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]);
    expect(res.body[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'R&D', manager: { value: 'boss-id' } });
  });

  describe('PATCH', () => {
    let id: string;
    beforeEach(async () => {
      const res = await bridge.request('POST', '/Users', newUser(`patch-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`));
      id = res.body.id;
    });
    const patch = (Operations: unknown[], headers?: Record<string, string>) =>
      bridge.request('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations }, headers);

    it('suspends with Replace active "False" (Entra) and reactivates with a path-less replace (Okta)', async () => {
      const off = await patch([{ op: 'Replace', path: 'active', value: 'False' }]);
      expect(off.status).toBe(200);
      expect(off.body.active).toBe(false);
      expect(off.headers.get('etag')).toBe('W/"2"');
      const on = await patch([{ op: 'replace', value: { active: true } }]);
      expect(on.body.active).toBe(true);
    });

    it('applies dotted keys in path-less values, enterprise paths, and value-filter paths that create the element', async () => {
      const res = await patch([
        { op: 'Replace', value: { 'name.givenName': 'Augusta', displayName: 'Augusta Ada King' } },
        { op: 'Add', path: `${ENTERPRISE_USER_SCHEMA}:department`, value: 'Mathematics' },
        { op: 'Replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+44 20 7946 0000' },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'ada.king@example.com' },
      ]);
      expect(res.status).toBe(200);
      expect(res.body.name).toEqual({ givenName: 'Augusta', familyName: 'Lovelace' });
      expect(res.body.displayName).toBe('Augusta Ada King');
      expect(res.body[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'Mathematics' });
      expect(res.body.phoneNumbers).toEqual([{ type: 'mobile', value: '+44 20 7946 0000' }]);
      expect(res.body.emails).toEqual([{ value: 'ada.king@example.com', type: 'work', primary: true }]);
    });

    it('removes attributes and filtered values', async () => {
      await patch([
        { op: 'add', path: 'emails', value: [{ value: 'home@example.com', type: 'home' }] },
        { op: 'add', path: 'title', value: 'Countess' },
      ]);
      const res = await patch([
        { op: 'remove', path: 'title' },
        { op: 'remove', path: 'emails[type eq "home"]' },
      ]);
      expect(res.body.title).toBeUndefined();
      expect(res.body.emails).toHaveLength(1);
    });

    it.each([
      [[{ op: 'replace', path: 'id', value: 'x' }], 400, 'mutability'],
      [[{ op: 'replace', path: 'groups', value: [] }], 400, 'mutability'],
      [[{ op: 'remove', path: 'userName' }], 400, 'mutability'],
      [[{ op: 'remove' }], 400, 'noTarget'],
      [
        [
          { op: 'replace', path: 'emails[type eq "work" or type eq "home"].display', value: 'x' },
          { op: 'remove', path: 'emails[type eq "work"]' },
          { op: 'replace', path: 'emails[type ne "work"].value', value: 'x@example.com' },
        ],
        400,
        'noTarget',
      ],
      [[{ op: 'replace', path: 'nonsense', value: 1 }], 400, 'invalidPath'],
      [[{ op: 'replace', path: 'emails[type eq ]', value: 1 }], 400, 'invalidPath'],
      [[{ op: 'jump', path: 'title', value: 1 }], 400, 'invalidSyntax'],
      [[], 400, 'invalidSyntax'],
    ])('refuses bad operations and changes nothing %#', async (operations, status, scimType) => {
      const before = await bridge.request('GET', `/Users/${id}`);
      const res = await patch(operations);
      expect(res.status).toBe(status);
      expect(res.body.scimType).toBe(scimType);
      const after = await bridge.request('GET', `/Users/${id}`);
      expect(after.body).toEqual(before.body);
    });

    it('honours If-Match: a stale version gets 412, the current one applies', async () => {
      const stale = await patch([{ op: 'replace', path: 'title', value: 'A' }], { 'if-match': 'W/"7"' });
      expect(stale.status).toBe(412);
      const fresh = await patch([{ op: 'replace', path: 'title', value: 'B' }], { 'if-match': 'W/"1"' });
      expect(fresh.status).toBe(200);
      expect(fresh.body.title).toBe('B');
    });

    it('refuses to change the email of a suspended user, but allows it with the reactivation', async () => {
      await patch([{ op: 'replace', path: 'active', value: false }]);
      const refused = await patch([{ op: 'replace', path: 'userName', value: 'someone.else@example.com' }]);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ scimType: 'mutability' });
      expect(refused.body.detail).toMatch(/suspended/);
      const both = await patch([{ op: 'replace', value: { active: true, userName: `reactivated-${id}@example.com` } }]);
      expect(both.status).toBe(200);
      expect(both.body.userName).toBe(`reactivated-${id}@example.com`);
    });
  });

  it('replaces a user with PUT, keeping id and created, and refusing a taken userName', async () => {
    const created = await bridge.request('POST', '/Users', newUser('put@example.com', { title: 'Old' }));
    const { id } = created.body;
    const put = await bridge.request('PUT', `/Users/${id}`, newUser('put@example.com', { name: { givenName: 'New' }, id }), {
      'if-match': created.headers.get('etag')!,
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id, name: { givenName: 'New' }, meta: { created: created.body.meta.created, version: 'W/"2"' } });
    expect(put.body.title).toBeUndefined();
    await bridge.request('POST', '/Users', newUser('taken@example.com'));
    const clash = await bridge.request('PUT', `/Users/${id}`, newUser('Taken@example.com'));
    expect(clash).toMatchObject({ status: 409, body: { scimType: 'uniqueness' } });
  });

  it('deletes: 204, then 404 with a SCIM error', async () => {
    const { body } = await bridge.request('POST', '/Users', newUser('gone@example.com'));
    expect((await bridge.request('DELETE', `/Users/${body.id}`)).status).toBe(204);
    const missing = await bridge.request('GET', `/Users/${body.id}`);
    expect(missing).toMatchObject({ status: 404, body: { status: '404' } });
    expect((await bridge.request('DELETE', `/Users/${body.id}`)).status).toBe(404);
  });

  describe('listing', () => {
    beforeAll(async () => {
      for (let i = 0; i < 12; i++)
        await bridge.request('POST', '/Users', newUser(`list-${String(i).padStart(2, '0')}@example.org`, { title: i % 2 ? 'odd' : 'even' }));
    });

    it('filters by userName case-insensitively (how providers look a person up)', async () => {
      const res = await bridge.request('GET', `/Users?filter=${encodeURIComponent('userName eq "LIST-03@EXAMPLE.ORG"')}`);
      expect(res.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
      expect(res.body.Resources[0].userName).toBe('list-03@example.org');
      const none = await bridge.request('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody@example.org"')}`);
      expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });
    });

    it('pages with startIndex and count and a coherent total', async () => {
      const filter = encodeURIComponent('userName sw "list-" and title eq "odd"');
      const page1 = await bridge.request('GET', `/Users?filter=${filter}&startIndex=1&count=4&sortBy=userName`);
      const page2 = await bridge.request('GET', `/Users?filter=${filter}&startIndex=5&count=4&sortBy=userName`);
      expect(page1.body).toMatchObject({ totalResults: 6, itemsPerPage: 4, startIndex: 1 });
      expect(page2.body).toMatchObject({ totalResults: 6, itemsPerPage: 2, startIndex: 5 });
      const all = [...page1.body.Resources, ...page2.body.Resources].map((u: { userName: string }) => u.userName);
      expect(all).toEqual(['list-01', 'list-03', 'list-05', 'list-07', 'list-09', 'list-11'].map((n) => `${n}@example.org`));
      const desc = await bridge.request('GET', `/Users?filter=${filter}&count=1&sortBy=userName&sortOrder=descending`);
      expect(desc.body.Resources[0].userName).toBe('list-11@example.org');
      const counted = await bridge.request('GET', `/Users?filter=${filter}&count=0`);
      expect(counted.body).toMatchObject({ totalResults: 6, itemsPerPage: 0, Resources: [] });
    });

    it('projects with attributes and excludedAttributes', async () => {
      const only = await bridge.request('GET', `/Users?filter=${encodeURIComponent('userName eq "list-00@example.org"')}&attributes=userName,name.givenName`);
      expect(Object.keys(only.body.Resources[0]).sort()).toEqual(['id', 'name', 'schemas', 'userName']);
      expect(only.body.Resources[0].name).toEqual({ givenName: 'Ada' });
      const without = await bridge.request(
        'GET',
        `/Users?filter=${encodeURIComponent('userName eq "list-00@example.org"')}&excludedAttributes=emails,groups,meta`,
      );
      expect(without.body.Resources[0]).not.toHaveProperty('emails');
      expect(without.body.Resources[0]).not.toHaveProperty('groups');
      expect(without.body.Resources[0]).toHaveProperty('userName');
    });

    it.each([
      [`filter=${encodeURIComponent('userName eq')}`, 'invalidFilter'],
      [`filter=${encodeURIComponent('nosuch eq "x"')}`, 'invalidFilter'],
      [`filter=${encodeURIComponent('active gt true')}`, 'invalidFilter'],
      [`filter=${encodeURIComponent('meta.lastModified gt "yesterday"')}`, 'invalidFilter'],
      ['startIndex=abc', 'invalidValue'],
      ['sortBy=emails', 'invalidValue'],
    ])('answers a bad query (%s) with 400 %s', async (query, scimType) => {
      const res = await bridge.request('GET', `/Users?${query}`);
      expect(res).toMatchObject({ status: 400, body: { scimType } });
    });
  });

  it('serves the same API under /scim and at the bare host', async () => {
    for (const base of [`${bridge.url}/scim`, bridge.url]) {
      const res = await bridge.request('GET', `${base}/Users?count=1`);
      expect(res.status).toBe(200);
      expect(res.body.totalResults).toBeGreaterThan(0);
    }
  });

  it('asks for the bearer token with 401 and WWW-Authenticate', async () => {
    const none = await bridge.request('GET', '/Users', undefined, { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.body).toMatchObject({ status: '401' });
    const wrong = await bridge.request('GET', '/Users', undefined, { authorization: `Bearer ${bridge.token}x` });
    expect(wrong.status).toBe(401);
  });
});
