/**
 * Conformance as vendor suites and generic clients test it (issue 17): /Me, the media type a client asks for,
 * discovery that describes what the bridge enforces, the userName format, and what identity providers send for
 * group members.
 */
import { GROUP_SCHEMA, USER_SCHEMA } from '../../bridge/src/scim/schemas';
import { type TestBridge, startBridge } from '../support/bridge';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface Attribute {
  name: string;
  type: string;
  required: boolean;
  mutability: string;
  returned: string;
  uniqueness: string;
  caseExact: boolean;
  multiValued: boolean;
  subAttributes?: Attribute[];
}

describe('conformance', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge();
  });
  afterAll(() => bridge.stop());

  describe('/Me (RFC 7644 §3.11)', () => {
    it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])('answers %s /Me with 501 in SCIM shape, after authentication', async (method) => {
      const res = await bridge.request(method, '/Me', method === 'GET' || method === 'DELETE' ? undefined : { schemas: [USER_SCHEMA] });
      expect(res).toMatchObject({ status: 501, body: { schemas: [ERROR], status: '501' } });
      expect((await bridge.request(method, '/Me', undefined, { authorization: '' })).status).toBe(401);
    });
  });

  describe('media type (RFC 7644 §8.1; OneLogin asks for application/json)', () => {
    it.each([
      [undefined, 'application/scim+json'],
      ['application/scim+json', 'application/scim+json'],
      ['*/*', 'application/scim+json'],
      ['application/json', 'application/json'],
      ['application/json;q=0.9, text/plain', 'application/json'],
      ['application/scim+json, application/json', 'application/scim+json'],
    ])('answers Accept: %s with %s, errors included', async (accept, type) => {
      const headers: Record<string, string> = accept ? { accept } : {};
      for (const path of ['/Users?count=1', '/ServiceProviderConfig', '/Users/no-such-user']) {
        const res = await bridge.request('GET', path, undefined, headers);
        expect(res.headers.get('content-type')).toBe(`${type}; charset=utf-8`);
      }
      const unauthenticated = await bridge.request('GET', '/Users', undefined, { ...headers, authorization: '' });
      expect(unauthenticated.headers.get('content-type')).toBe(`${type}; charset=utf-8`);
    });
  });

  describe('discovery tells the truth', () => {
    let schemas: Map<string, Attribute[]>;
    let endpoints: { endpoint: string; schema: string }[];
    beforeAll(async () => {
      const res = await bridge.request('GET', '/Schemas', undefined, { authorization: '' });
      schemas = new Map(res.body.Resources.map((s: { id: string; attributes: Attribute[] }) => [s.id, s.attributes]));
      endpoints = (await bridge.request('GET', '/ResourceTypes')).body.Resources;
    });
    let n = 0;
    /** A value of the attribute's type, unique per call: an email address does for any string here. */
    const valueFor = (attribute: Attribute): unknown => {
      n++;
      if (attribute.type === 'boolean') return true;
      if (attribute.type === 'integer' || attribute.type === 'decimal') return n;
      if (attribute.type === 'complex') return attribute.multiValued ? [{ value: `v${n}@example.com` }] : { value: `v${n}` };
      return `value${n}@example.com`;
    };
    const writableRequired = (schema: string) => schemas.get(schema)!.filter((a) => a.required && a.mutability !== 'readOnly');

    it('marks userName and Group displayName required, unique and case-insensitive', () => {
      expect(writableRequired(USER_SCHEMA).map((a) => a.name)).toEqual(['userName']);
      expect(writableRequired(GROUP_SCHEMA).map((a) => a.name)).toEqual(['displayName']);
      for (const attribute of [...writableRequired(USER_SCHEMA), ...writableRequired(GROUP_SCHEMA)]) {
        expect(attribute).toMatchObject({ uniqueness: 'server', caseExact: false });
      }
    });

    it('refuses a resource without any attribute discovery calls required, and accepts it with them', async () => {
      for (const { endpoint, schema } of endpoints) {
        const required = writableRequired(schema);
        expect(required.length).toBeGreaterThan(0);
        const full = () => Object.fromEntries([['schemas', [schema]], ...required.map((a) => [a.name, valueFor(a)])]);
        expect((await bridge.request('POST', endpoint, full())).status).toBe(201);
        for (const attribute of required) {
          const body = full();
          delete body[attribute.name];
          const res = await bridge.request('POST', endpoint, body);
          expect({ endpoint, attribute: attribute.name, status: res.status }).toEqual({ endpoint, attribute: attribute.name, status: 400 });
          // Required attributes cannot be removed by PATCH either.
          const created = await bridge.request('POST', endpoint, full());
          const removed = await bridge.request('PATCH', `${endpoint}/${created.body.id}`, {
            schemas: [PATCH],
            Operations: [{ op: 'remove', path: attribute.name }],
          });
          expect(removed.status).toBe(400);
        }
      }
    });

    it('refuses a second resource whose server-unique attribute differs only in case (caseExact false)', async () => {
      for (const { endpoint, schema } of endpoints) {
        for (const attribute of schemas.get(schema)!.filter((a) => a.uniqueness === 'server' && a.mutability !== 'readOnly')) {
          const value = String(valueFor(attribute));
          const others = Object.fromEntries(
            writableRequired(schema)
              .filter((a) => a.name !== attribute.name)
              .map((a) => [a.name, valueFor(a)]),
          );
          expect((await bridge.request('POST', endpoint, { schemas: [schema], ...others, [attribute.name]: value })).status).toBe(201);
          const again = await bridge.request('POST', endpoint, { schemas: [schema], ...others, [attribute.name]: value.toUpperCase() });
          expect({ endpoint, attribute: attribute.name, status: again.status }).toEqual({ endpoint, attribute: attribute.name, status: 409 });
          // And a filter finds it in any case, as caseExact false says.
          const found = await bridge.request('GET', `${endpoint}?filter=${encodeURIComponent(`${attribute.name} eq "${value.toUpperCase()}"`)}`);
          expect(found.body.totalResults).toBe(1);
        }
      }
    });

    it('never returns an attribute marked returned "never", and keeps readOnly attributes out of the client\'s hands', async () => {
      const never = schemas
        .get(USER_SCHEMA)!
        .filter((a) => a.returned === 'never')
        .map((a) => a.name);
      expect(never).toEqual(['password']);
      const created = await bridge.request('POST', '/Users', {
        schemas: [USER_SCHEMA],
        userName: 'readonly@example.com',
        password: 'secret',
        groups: [{ value: 'x' }],
      });
      for (const name of never) expect(created.body).not.toHaveProperty(name);
      expect(created.body.groups).toEqual([]);
      for (const attribute of schemas.get(USER_SCHEMA)!.filter((a) => a.mutability === 'readOnly')) {
        const res = await bridge.request('PATCH', `/Users/${created.body.id}`, {
          schemas: [PATCH],
          Operations: [{ op: 'replace', path: attribute.name, value: [] }],
        });
        expect({ attribute: attribute.name, status: res.status, scimType: res.body.scimType }).toEqual({
          attribute: attribute.name,
          status: 400,
          scimType: 'mutability',
        });
      }
    });

    it('compares case-exact attributes exactly in filters (externalId, id)', async () => {
      const created = await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'exact@example.com', externalId: 'AbC-123' });
      const find = async (filter: string) => (await bridge.request('GET', `/Users?filter=${encodeURIComponent(filter)}`)).body.totalResults;
      expect(await find('externalId eq "AbC-123"')).toBe(1);
      expect(await find('externalId eq "abc-123"')).toBe(0);
      expect(await find(`id eq "${created.body.id}"`)).toBe(1);
      expect(await find(`id eq "${created.body.id.toUpperCase()}"`)).toBe(0);
    });
  });

  describe('group members as identity providers and vendor suites send them', () => {
    const users: string[] = [];
    beforeAll(async () => {
      for (const name of ['m1', 'm2', 'm3', 'm4'])
        users.push((await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: `${name}@example.com`, displayName: name })).body.id);
    });
    const members = async (id: string) => ((await bridge.request('GET', `/Groups/${id}`)).body.members ?? []).map((m: { value: string }) => m.value).sort();

    it('accepts members with display, $ref and type on create, ignoring what the bridge derives', async () => {
      const res = await bridge.request('POST', '/Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: 'Suite group',
        members: [{ value: users[0], display: 'Someone Else', $ref: `https://idp.example/Users/${users[0]}`, type: 'User' }],
      });
      expect(res.status).toBe(201);
      expect(res.body.members).toEqual([{ value: users[0], display: 'm1', type: 'User', $ref: `${bridge.scim}/Users/${users[0]}` }]);
    });

    it('accepts a member given as a bare id string, a list of them, or only by $ref, in a PATCH', async () => {
      const { body } = await bridge.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Bare ids' });
      expect(
        (await bridge.request('PATCH', `/Groups/${body.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: users[0] }] })).status,
      ).toBe(204);
      expect(
        (await bridge.request('PATCH', `/Groups/${body.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [users[1], users[2]] }] }))
          .status,
      ).toBe(204);
      expect(
        (
          await bridge.request('PATCH', `/Groups/${body.id}`, {
            schemas: [PATCH],
            Operations: [{ op: 'add', path: 'members', value: [{ $ref: `${bridge.scim}/Users/${users[3]}`, type: 'User' }] }],
          })
        ).status,
      ).toBe(204);
      expect(await members(body.id)).toEqual([...users].sort());
      expect(
        (
          await bridge.request('PATCH', `/Groups/${body.id}`, {
            schemas: [PATCH],
            Operations: [{ op: 'remove', path: 'members', value: [users[0], { value: users[1], display: 'm2' }] }],
          })
        ).status,
      ).toBe(204);
      expect(await members(body.id)).toEqual([users[2], users[3]].sort());
      // A path-less add of members, with display (Okta's Group Push).
      expect(
        (
          await bridge.request('PATCH', `/Groups/${body.id}`, {
            schemas: [PATCH],
            Operations: [{ op: 'add', value: { members: [{ value: users[0], display: 'm1' }] } }],
          })
        ).status,
      ).toBe(204);
      expect(await members(body.id)).toContain(users[0]);
    });
  });
});

describe('SCIM_USERNAME_FORMAT', () => {
  it('is email by default: a userName that is not an email address is refused', async () => {
    const bridge = await startBridge();
    try {
      const res = await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'ada' });
      expect(res).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
      expect(res.body.detail).toMatch(/email address/);
    } finally {
      await bridge.stop();
    }
  });

  describe('any', () => {
    let bridge: TestBridge;
    beforeAll(async () => {
      bridge = await startBridge({ env: { SCIM_USERNAME_FORMAT: 'any', SCIM_ALLOWED_DOMAINS: 'example.com' } });
    });
    afterAll(() => bridge.stop());

    it('takes any non-empty userName, unique regardless of case, and keeps values as given', async () => {
      const created = await bridge.request('POST', '/Users', {
        schemas: [USER_SCHEMA],
        userName: 'Ada L',
        emails: [{ value: 'Ada.Lovelace@Example.COM', primary: true }],
      });
      expect(created.status).toBe(201);
      expect(created.body.userName).toBe('Ada L');
      expect(created.body.emails).toEqual([{ value: 'Ada.Lovelace@Example.COM', primary: true }]);
      expect((await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'ada l' })).body).toMatchObject({
        status: '409',
        scimType: 'uniqueness',
      });
      const found = await bridge.request('GET', `/Users?filter=${encodeURIComponent('userName eq "ADA L"')}`);
      expect(found.body.Resources.map((u: { id: string }) => u.id)).toEqual([created.body.id]);
      for (const userName of ['', '   ']) expect((await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA], userName })).status).toBe(400);
    });

    it('applies the email-domain allow-list to emails only', async () => {
      expect((await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'someone@elsewhere.net' })).status).toBe(201);
      const refused = await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'grace', emails: [{ value: 'grace@elsewhere.net' }] });
      expect(refused).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
      expect(refused.body.detail).toMatch(/allowed email domain/);
      expect((await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'grace', emails: [{ value: 'grace@example.com' }] })).status).toBe(
        201,
      );
    });
  });

  it('refuses an unknown format at start, naming the variable', async () => {
    await expect(startBridge({ env: { SCIM_USERNAME_FORMAT: 'upn' } })).rejects.toThrow(/SCIM_USERNAME_FORMAT must be one of email, any/);
  });
});
