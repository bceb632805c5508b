/**
 * `POST …/.search` (RFC 7644 §3.4.3) at every level the RFC defines and under every base path: the same answers as
 * the GET list with the same query, the same limits, and counted in the same concurrency bound.
 */
import { request as httpRequest } from 'node:http';
import { GROUP_SCHEMA, USER_SCHEMA } from '../../bridge/src/scim/schemas';
import { SEARCH_REQUEST_SCHEMA } from '../../bridge/src/scim/search';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';

const search = (body: Record<string, unknown>) => ({ schemas: [SEARCH_REQUEST_SCHEMA], ...body });

describe.each(STORE_KINDS)('POST .search (%s store)', (store) => {
  let bridge: TestBridge;
  const userIds: string[] = [];
  beforeAll(async () => {
    bridge = await startBridge({ store, env: { SCIM_USERNAME_FORMAT: 'any' } });
    for (const [name, title] of [
      ['carol', 'Engineer'],
      ['alice', 'Manager'],
      ['bob', 'Engineer'],
      ['dave', 'Engineer'],
    ]) {
      const res = await bridge.request('POST', '/Users', {
        schemas: [USER_SCHEMA],
        userName: name,
        title,
        emails: [{ value: `${name}@example.com`, type: 'work' }],
      });
      userIds.push(res.body.id);
    }
    await bridge.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Engineers', members: [{ value: userIds[0] }] });
    await bridge.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Managers', members: [{ value: userIds[1] }] });
  });
  afterAll(() => bridge.stop());

  it.each(['/scim/v2', '/scim', ''])('answers /Users/.search under %j as GET /Users answers the same query', async (base) => {
    const query = { filter: 'title eq "Engineer"', sortBy: 'userName', sortOrder: 'descending', startIndex: 2, count: 1, attributes: ['userName'] };
    const posted = await bridge.request('POST', `${bridge.url}${base}/Users/.search`, search(query));
    const got = await bridge.request(
      'GET',
      `${bridge.url}${base}/Users?filter=${encodeURIComponent(query.filter)}&sortBy=userName&sortOrder=descending&startIndex=2&count=1&attributes=userName`,
    );
    expect(posted.status).toBe(200);
    expect(posted.body).toEqual(got.body);
    expect(posted.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1, Resources: [{ userName: 'carol' }] });
    expect(Object.keys(posted.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);
  });

  it('answers /Groups/.search with excludedAttributes, as GET /Groups does', async () => {
    const posted = await bridge.request('POST', '/Groups/.search', search({ filter: 'displayName sw "eng"', excludedAttributes: ['members'] }));
    expect(posted.status).toBe(200);
    expect(posted.body.Resources).toEqual([expect.objectContaining({ displayName: 'Engineers' })]);
    expect(posted.body.Resources[0].members).toBeUndefined();
    const got = await bridge.request('GET', `/Groups?filter=${encodeURIComponent('displayName sw "eng"')}&excludedAttributes=members`);
    expect(posted.body).toEqual(got.body);
  });

  it('searches users and groups at the root: a filter either kind lacks finds the other only, and pages run across both', async () => {
    // Every store holds the protected groups too (Owners, Administrators, …), as GET /Groups shows.
    const groups = (await bridge.request('GET', '/Groups?count=0')).body.totalResults;
    const total = 4 + groups;
    const everything = await bridge.request('POST', '/.search', search({}));
    expect(everything.status).toBe(200);
    expect(everything.body.totalResults).toBe(total);
    expect(everything.body.Resources.map((r: { meta: { resourceType: string } }) => r.meta.resourceType)).toEqual([
      ...Array(4).fill('User'),
      ...Array(groups).fill('Group'),
    ]);

    // userName is no Group attribute: the groups contribute nothing instead of a 400.
    const byUserName = await bridge.request('POST', `${bridge.url}/.search`, search({ filter: 'userName eq "bob"' }));
    expect(byUserName.body).toMatchObject({ totalResults: 1, Resources: [{ userName: 'bob' }] });
    const byResourceType = await bridge.request(
      'POST',
      '/.search',
      search({ filter: 'meta.resourceType eq "Group"', sortBy: 'displayName', sortOrder: 'descending' }),
    );
    expect(byResourceType.body.totalResults).toBe(groups);
    expect(byResourceType.body.Resources.slice(0, 2).map((g: { displayName: string }) => g.displayName)).toEqual(['Recovery', 'Owners']);

    // Pages of 3 run across the kinds (the second page holds the last user and the first groups); past the end is empty.
    const page = async (startIndex: number) => (await bridge.request('POST', `${bridge.url}/scim/.search`, search({ startIndex, count: 3 }))).body;
    const seen: string[] = [];
    for (let start = 1; start <= total; start += 3) seen.push(...(await page(start)).Resources.map((r: { id: string }) => r.id));
    expect(seen).toEqual(everything.body.Resources.map((r: { id: string }) => r.id));
    expect(await page(total + 1)).toMatchObject({ totalResults: total, itemsPerPage: 0, Resources: [] });
  });

  it('applies the list limits and refuses a malformed search with a SCIM 400', async () => {
    const big = await bridge.request('POST', '/Users/.search', search({ count: 5000 }));
    expect(big.status).toBe(200);
    expect(big.body.itemsPerPage).toBe(4);
    expect((await bridge.request('POST', '/Users/.search', search({ count: 'many' }))).body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect((await bridge.request('POST', '/Users/.search', search({ filter: 'userName zz "x"' }))).body).toMatchObject({
      status: '400',
      scimType: 'invalidFilter',
    });
    expect((await bridge.request('POST', '/Users/.search', { schemas: ['urn:wrong'], filter: 'userName pr' })).body).toMatchObject({
      status: '400',
      scimType: 'invalidSyntax',
    });
    expect((await bridge.request('POST', '/.search', [1, 2])).body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    expect((await bridge.request('POST', '/Groups/.search', search({ attributes: [1] }))).body).toMatchObject({ status: '400', scimType: 'invalidValue' });
  });

  it('needs the bearer token', async () => {
    const res = await fetch(`${bridge.scim}/.search`, { method: 'POST', headers: { 'content-type': 'application/scim+json' }, body: '{}' });
    expect(res.status).toBe(401);
  });
});

describe('POST .search and the concurrency bound', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ env: { SCIM_MAX_CONCURRENT_REQUESTS: '1' } });
  });
  afterAll(() => bridge.stop());

  it('holds a slot while in flight, like any SCIM request', async () => {
    // A search whose body is still arriving holds the only slot (admission happens before the body is read).
    const held = httpRequest(`${bridge.scim}/Users/.search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bridge.token}`, 'content-type': 'application/scim+json', 'content-length': '100' },
    });
    const answered = new Promise<number>((resolve, reject) => {
      held.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      held.on('error', reject);
    });
    held.write('{"schemas":');
    let status = 0;
    for (let i = 0; i < 200 && status !== 429; i++) status = (await bridge.request('GET', '/Users')).status;
    expect(status).toBe(429);
    const busy = await bridge.request('POST', '/.search', search({}));
    expect(busy.status).toBe(429);
    held.end(`${JSON.stringify([SEARCH_REQUEST_SCHEMA])}}`.padEnd(100 - '{"schemas":'.length));
    expect(await answered).toBe(200);
    expect((await bridge.request('POST', '/.search', search({}))).status).toBe(200);
  });
});
