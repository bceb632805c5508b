/**
 * No client mistake is a 5xx, and both stores give the same answer (issue 17): deep JSON, huge paging values,
 * odd projection paths, NUL and lone surrogates anywhere a client can put text, PATCH bodies built to do quadratic
 * work, and resources past the stored-size bound.
 */
import { performance } from 'node:perf_hooks';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from '../../bridge/src/scim/schemas';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const deep = (levels: number, inner = '"x"') => '['.repeat(levels) + inner + ']'.repeat(levels);
const userJson = (userName: string, extra = '') => `{"schemas":["${USER_SCHEMA}"],"userName":"${userName}"${extra}}`;
const patchJson = (operations: string) => `{"schemas":["${PATCH}"],"Operations":[${operations}]}`;

/** Event-loop time (ms) spent while `work` runs: the bridge runs in this process. */
async function loopBusyMs<T>(work: () => Promise<T>): Promise<{ result: T; busyMs: number }> {
  const before = performance.eventLoopUtilization();
  const result = await work();
  const delta = performance.eventLoopUtilization(before);
  return { result, busyMs: delta.active };
}

describe.each(STORE_KINDS)('hostile input (%s store)', (store) => {
  let bridge: TestBridge;
  let userId: string;
  beforeAll(async () => {
    bridge = await startBridge({ store });
    userId = (await bridge.request('POST', '/Users', userJson('target@example.com'))).body.id;
  });
  afterAll(() => bridge.stop());

  describe('JSON nesting', () => {
    it.each([
      ['a user attribute nested 4,500 levels', () => userJson('deep1@example.com', `,"title":${deep(4500)}`), 'POST', '/Users'],
      ['a PATCH value nested 4,500 levels', () => patchJson(`{"op":"replace","path":"title","value":${deep(4500)}}`), 'PATCH', 'user'],
      ['a PATCH op name nested 4,500 levels', () => patchJson(`{"op":${deep(4500)},"path":"title"}`), 'PATCH', 'user'],
      ['an object nested 33 levels', () => userJson('deep2@example.com', `,"name":${'{"a":'.repeat(33)}1${'}'.repeat(33)}`), 'POST', '/Users'],
    ])('refuses %s with 400 invalidSyntax', async (_name, body, method, target) => {
      const res = await bridge.request(method, target === 'user' ? `/Users/${userId}` : target, body());
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ scimType: 'invalidSyntax' });
      expect(res.body.detail).toMatch(/nested deeper than 32/);
    });

    it('answers values nested within the bound as ordinary bad values (400, never 500)', async () => {
      const res = await bridge.request('POST', '/Users', userJson('deep3@example.com', `,"title":${deep(30)}`));
      expect(res).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
      const op = await bridge.request('PATCH', `/Users/${userId}`, patchJson(`{"op":${deep(30)},"path":"title"}`));
      expect(op).toMatchObject({ status: 400, body: { scimType: 'invalidSyntax' } });
    });
  });

  describe('paging (RFC 7644 §3.4.2.4)', () => {
    it.each([
      ['startIndex=9223372036854775808', 400],
      ['startIndex=1e20', 400],
      ['startIndex=2147483648', 400],
      ['count=1e20', 400],
      ['startIndex=0x10', 400],
      ['startIndex=1.5', 400],
    ])('refuses %s with 400 invalidValue', async (query, status) => {
      const res = await bridge.request('GET', `/Users?${query}`);
      expect(res).toMatchObject({ status, body: { scimType: 'invalidValue' } });
    });

    it.each([
      ['count=99999999999999999999999', { itemsPerPage: 1 }],
      ['count=-7', { itemsPerPage: 0 }],
      ['startIndex=-9999999999999999999', { startIndex: 1 }],
      ['startIndex=2147483647', { startIndex: 2147483647, itemsPerPage: 0 }],
    ])('clamps %s', async (query, expected) => {
      const res = await bridge.request('GET', `/Users?${query}&filter=${encodeURIComponent('userName eq "target@example.com"')}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject(expected);
    });
  });

  describe('projection paths', () => {
    it.each([
      'urn:example:unknown:schema:',
      // An unknown URN whose last segment has dots (a version): it used to reach a parser that threw a plain Error.
      'urn:ietf:params:scim:schemas:extension:acme:2.0:',
      'urn:example:1.0.0:',
      'urn:',
      `${ENTERPRISE_USER_SCHEMA}:`,
      `${ENTERPRISE_USER_SCHEMA}`,
      `${USER_SCHEMA}:`,
      `${USER_SCHEMA}:name.givenName`,
      'urn:example:unknown:schema:attr.sub',
    ])('answers attributes / excludedAttributes = %s without a 5xx', async (path) => {
      for (const name of ['attributes', 'excludedAttributes']) {
        const res = await bridge.request('GET', `/Users/${userId}?${name}=${encodeURIComponent(path)}`);
        expect(res.status).toBe(200);
        expect(res.body.id).toBe(userId);
        const list = await bridge.request('GET', `/Users?${name}=${encodeURIComponent(path)}&count=1`);
        expect(list.status).toBe(200);
      }
    });

    it('reads a whole schema URN with a trailing colon as all of its attributes', async () => {
      const res = await bridge.request('GET', `/Users/${userId}?attributes=${encodeURIComponent(`${USER_SCHEMA}:`)}`);
      expect(res.body).toMatchObject({ id: userId, userName: 'target@example.com', meta: { resourceType: 'User' } });
    });

    it("reads a multi-valued attribute with a value filter (Microsoft's test collection sends one) as the attribute", async () => {
      const res = await bridge.request('GET', `/Users/${userId}?attributes=${encodeURIComponent('emails[type eq "work"]')}`);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(expect.arrayContaining(['id', 'schemas']));
      expect(res.body.userName).toBeUndefined();
    });

    it.each(['a..b', 'a.b.c', 'name[type eq "x"]', 'emails[type eq "x"].value.x'])('refuses the malformed path %s with 400', async (path) => {
      const res = await bridge.request('GET', `/Users/${userId}?attributes=${encodeURIComponent(path)}`);
      expect(res).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    });
  });

  describe('NUL and lone surrogates are refused alike on both stores', () => {
    const nul = '\\u0000';
    const lone = '\\ud800';
    it.each([
      ['a NUL in userName', () => userJson(`a${nul}b@example.com`)],
      ['a NUL in a sub-attribute', () => userJson('n1@example.com', `,"name":{"givenName":"A${nul}"}`)],
      ['a NUL in an extension attribute', () => userJson('n2@example.com', `,"${ENTERPRISE_USER_SCHEMA}":{"department":"${nul}"}`)],
      ['a NUL in an attribute name', () => userJson('n3@example.com', `,"ti${nul}tle":"x"`)],
      ['a lone high surrogate', () => userJson('s1@example.com', `,"title":"x${lone}y"`)],
      ['a lone low surrogate', () => userJson('s2@example.com', `,"title":"\\udc00"`)],
      ['a surrogate pair reversed', () => userJson('s3@example.com', `,"title":"\\udc00\\ud800"`)],
    ])('in a POST body: %s → 400 invalidValue', async (_name, body) => {
      const res = await bridge.request('POST', '/Users', body());
      expect(res).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    });

    it('keeps a proper surrogate pair (an emoji) as given', async () => {
      const res = await bridge.request('POST', '/Users', userJson('emoji@example.com', ',"title":"\\ud83d\\ude00 and 😀"'));
      expect(res.status).toBe(201);
      expect(res.body.title).toBe('😀 and 😀');
    });

    it.each([
      ['a NUL value', `{"op":"replace","path":"title","value":"a${nul}"}`],
      ['a NUL in a path', `{"op":"replace","path":"ti${nul}tle","value":"a"}`],
      ['a NUL in a value filter', `{"op":"replace","path":"emails[type eq \\"${nul}\\"].value","value":"a@example.com"}`],
      ['a lone surrogate in a path-less value', `{"op":"replace","value":{"title":"${lone}"}}`],
    ])('in a PATCH: %s → 400', async (_name, op) => {
      const res = await bridge.request('PATCH', `/Users/${userId}`, patchJson(op));
      expect(res.status).toBe(400);
      expect(['invalidValue', 'invalidPath']).toContain(res.body.scimType);
    });

    it.each([
      ['a NUL escape in a filter string', `filter=${encodeURIComponent('userName eq "a\\u0000b"')}`, 'invalidFilter'],
      ['a lone surrogate escape in a filter string', `filter=${encodeURIComponent('title eq "\\ud800"')}`, 'invalidFilter'],
      ['a raw NUL in a filter', 'filter=userName%20eq%20%22a%00b%22', 'invalidFilter'],
      ['a NUL in attributes', 'attributes=userName%00', 'invalidValue'],
      ['a NUL in sortBy', 'sortBy=userName%00', 'invalidValue'],
    ])('in a query: %s → 400 %s', async (_name, query, scimType) => {
      const res = await bridge.request('GET', `/Users?${query}`);
      expect(res).toMatchObject({ status: 400, body: { scimType } });
    });

    it.each([
      ['GET', '/Users/a%00b'],
      ['GET', '/Groups/%00'],
      ['DELETE', '/Users/%00'],
    ])('in a path: %s %s → 400', async (method, path) => {
      const res = await bridge.request(method, path);
      expect(res).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    });

    it('in the status API search → 400', async () => {
      const res = await bridge.request('GET', `${bridge.url}/api/events?q=a%00b`);
      expect(res.status).toBe(400);
    });
  });

  describe('PATCH work stays linear up to the bounds', () => {
    // A stored resource is at most MAX_DOCUMENT_BYTES (64 KiB): the values are short, and the work is in their number.
    // Merging is done before the write, so 10,000 values show linear work even where the result is too large to store.
    const emails = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `{"value":"${prefix}${i}@x.io"}`);

    it('adds 2,500 values in one operation in well under a second of event-loop time', async () => {
      const created = await bridge.request('POST', '/Users', userJson('many@example.com'));
      const body = patchJson(`{"op":"add","path":"emails","value":[${emails(2_500, 'o').join(',')}]}`);
      const { result, busyMs } = await loopBusyMs(() => bridge.request('PATCH', `/Users/${created.body.id}`, body));
      expect(result.status).toBe(200);
      expect(result.body.emails).toHaveLength(2_500);
      // Quadratic merging took ~25 s for 10,000 values here (~1.5 s for 2,500); linear takes milliseconds.
      expect(busyMs).toBeLessThan(1000);
    });

    it('merges 10,000 values in one operation in well under a second, then refuses the result as too large to store', async () => {
      const created = await bridge.request('POST', '/Users', userJson('many-large@example.com'));
      const body = patchJson(`{"op":"add","path":"emails","value":[${emails(10_000, 'one').join(',')}]}`);
      const { result, busyMs } = await loopBusyMs(() => bridge.request('PATCH', `/Users/${created.body.id}`, body));
      expect(result).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
      expect(result.body.detail).toMatch(/larger than the bridge stores \(64 KiB/);
      expect(busyMs).toBeLessThan(1000);
      expect((await bridge.request('GET', `/Users/${created.body.id}`)).body.meta.version).toBe('W/"1"');
    });

    it('adds 2,000 values in 1,000 operations, duplicates once each, in well under a second', async () => {
      const created = await bridge.request('POST', '/Users', userJson('many-ops@example.com'));
      const all = Array.from({ length: 2_000 }, (_, i) => `{"value":"o${i}@x.io"}`);
      const ops = Array.from({ length: 1000 }, (_, i) => `{"op":"add","path":"emails","value":[${all.slice(i * 2, i * 2 + 2).join(',')},${all[0]}]}`);
      const body = patchJson(ops.join(','));
      const { result, busyMs } = await loopBusyMs(() => bridge.request('PATCH', `/Users/${created.body.id}`, body));
      expect(result.status).toBe(200);
      expect(result.body.emails).toHaveLength(2_000);
      expect(busyMs).toBeLessThan(1000);
    });

    it('refuses a user larger than 64 KiB as stored with 400 invalidValue, writing nothing', async () => {
      const post = await bridge.request('POST', '/Users', userJson('large-title@example.com', `,"title":"${'t'.repeat(70_000)}"`));
      expect(post).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
      expect((await bridge.request('GET', `/Users?filter=${encodeURIComponent('userName eq "large-title@example.com"')}`)).body.totalResults).toBe(0);
      const fits = await bridge.request('POST', '/Users', userJson('fits@example.com', `,"title":"${'t'.repeat(60_000)}"`));
      expect(fits.status).toBe(201);
    });

    it('refuses more than 10,000 values in one operation with 400 tooMany, changing nothing', async () => {
      const created = await bridge.request('POST', '/Users', userJson('too-many@example.com'));
      const values = Array.from({ length: 10_001 }, (_, i) => `"r${i}"`).join(',');
      const res = await bridge.request('PATCH', `/Users/${created.body.id}`, patchJson(`{"op":"add","path":"roles","value":[${values}]}`));
      expect(res).toMatchObject({ status: 400, body: { scimType: 'tooMany' } });
      expect((await bridge.request('GET', `/Users/${created.body.id}`)).body.meta.version).toBe('W/"1"');
    });

    it('refuses a thousand whole-list filters over a 2,500-value list with 400 tooMany, quickly', async () => {
      const created = await bridge.request('POST', '/Users', userJson('filters@example.com'));
      const id = created.body.id;
      expect((await bridge.request('PATCH', `/Users/${id}`, patchJson(`{"op":"add","path":"emails","value":[${emails(2_500, 'f').join(',')}]}`))).status).toBe(
        200,
      );
      const ops = Array.from({ length: 1000 }, (_, i) => `{"op":"replace","path":"emails[value eq \\"nobody${i}@example.com\\"].display","value":"x"}`);
      const { result, busyMs } = await loopBusyMs(() => bridge.request('PATCH', `/Users/${id}`, patchJson(ops.join(','))));
      expect(result).toMatchObject({ status: 400, body: { scimType: 'tooMany' } });
      expect(busyMs).toBeLessThan(1000);
    });
  });
});
