import { type TestBridge, startBridge } from '../support/bridge';

describe('discovery, health and errors', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge();
  });
  afterAll(() => bridge.stop());

  it('describes itself: ServiceProviderConfig, ResourceTypes, Schemas', async () => {
    const spc = await bridge.request('GET', '/ServiceProviderConfig', undefined, { authorization: '' });
    expect(spc.status).toBe(200);
    expect(spc.body).toMatchObject({
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 1000 },
      etag: { supported: true },
    });
    expect(spc.body.authenticationSchemes[0]).toMatchObject({ type: 'oauthbearertoken' });

    const types = await bridge.request('GET', '/ResourceTypes');
    expect(types.body.Resources.map((t: { id: string }) => t.id).sort()).toEqual(['Group', 'User']);
    expect((await bridge.request('GET', '/ResourceTypes/User')).body).toMatchObject({ endpoint: '/Users', schemaExtensions: [{ required: false }] });

    const schemas = await bridge.request('GET', '/Schemas');
    expect(schemas.body.totalResults).toBe(3);
    const user = await bridge.request('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User');
    expect(user.body.attributes.find((a: { name: string }) => a.name === 'userName')).toMatchObject({ uniqueness: 'server', caseExact: false, required: true });
    expect((await bridge.request('GET', '/Schemas/urn:nope')).status).toBe(404);
  });

  it('answers /ping without auth or store, and /health with the session and store state', async () => {
    const ping = await fetch(`${bridge.url}/ping`);
    expect(ping.status).toBe(200);
    const health = await fetch(`${bridge.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', session: { loaded: true, tokens: 1 }, store: { kind: 'sqlite', status: 'ok' } });
  });

  it('answers unknown paths with a SCIM 404, echoes request ids, and rejects Bulk clearly', async () => {
    const res = await bridge.request('GET', '/Nope');
    expect(res).toMatchObject({ status: 404, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] } });
    const traced = await bridge.request('GET', '/Users?count=1', undefined, { 'x-request-id': 'trace-123' });
    expect(traced.headers.get('x-request-id')).toBe('trace-123');
    expect((await bridge.request('POST', '/Bulk', { Operations: [] })).status).toBe(501);
  });

  it('treats resource paths case-insensitively, as some clients send /users', async () => {
    expect((await bridge.request('GET', '/users?count=1')).status).toBe(200);
  });
});
