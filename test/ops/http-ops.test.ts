/** Operating the bridge over HTTP: security headers, the status API, failed-authentication events and limits, metrics, retention. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../bridge/src/server';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { openStore } from '../../bridge/src/store/open';
import { type TestBridge, startBridge } from '../support/bridge';
import { eventually, holdRequest, userBody } from './helpers';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('the bridge in operation', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    // The tests stand in for a proxy on loopback: its X-Forwarded-For and X-Forwarded-Proto are believed.
    bridge = await startBridge({ env: { SCIM_TRUST_PROXY: 'loopback' } });
  });
  afterAll(() => bridge.stop());

  const noAuth = (path: string, headers: Record<string, string> = {}) => fetch(`${bridge.url}${path}`, { headers });
  const api = (path: string, headers: Record<string, string> = {}) => bridge.request('GET', `${bridge.url}${path}`, undefined, headers);

  describe('security headers', () => {
    it.each(['/ping', '/health', '/', '/app', '/app/app.js', '/scim/v2/Users', '/scim/v2/ServiceProviderConfig', '/api/status', '/no/such/path'])(
      'are on every response: %s',
      async (path) => {
        const res = await noAuth(path, { authorization: `Bearer ${bridge.token}` });
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('referrer-policy')).toBe('no-referrer');
        expect(res.headers.get('content-security-policy')).toBe(CSP);
        expect(res.headers.get('strict-transport-security')).toBeNull();
      },
    );

    it('forbid caching SCIM and API answers, and revalidate the page assets', async () => {
      expect((await noAuth('/scim/v2/Users', { authorization: `Bearer ${bridge.token}` })).headers.get('cache-control')).toBe('no-store');
      expect((await noAuth('/api/status', { authorization: `Bearer ${bridge.token}` })).headers.get('cache-control')).toBe('no-store');
      expect((await noAuth('/')).headers.get('cache-control')).toBe('no-store');
      expect((await noAuth('/app/app.css')).headers.get('cache-control')).toBe('no-cache');
    });

    it('add Strict-Transport-Security only when the request came over HTTPS through the proxy', async () => {
      const https = await noAuth('/ping', { 'x-forwarded-proto': 'https' });
      expect(https.headers.get('strict-transport-security')).toMatch(/^max-age=\d{7,}/);
      expect((await noAuth('/ping', { 'x-forwarded-proto': 'http' })).headers.get('strict-transport-security')).toBeNull();
    });
  });

  describe('status page', () => {
    it('is served at / and /app with its own script and stylesheet, nothing inline, nothing external', async () => {
      for (const path of ['/', '/app', '/app/']) {
        const res = await noAuth(path);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain('text/html');
        const html = await res.text();
        expect(html).toContain('<script src="/app/app.js" defer></script>');
        expect(html).toContain('<link rel="stylesheet" href="/app/app.css">');
        expect(html).not.toMatch(/<script>|<style|style=|on(click|load|submit)=/i);
        expect(html).not.toMatch(/https?:\/\//);
        expect(html).toMatch(/<main[^>]*>/);
        expect(html).toMatch(/<label for="token">/);
      }
      const script = await noAuth('/app/app.js');
      expect(script.headers.get('content-type')).toContain('text/javascript');
      const js = await script.text();
      expect(js).toContain('sessionStorage');
      expect(js).not.toContain('innerHTML');
      expect(js).not.toContain('document.cookie');
      expect((await noAuth('/app/app.css')).headers.get('content-type')).toContain('text/css');
    });
  });

  describe('status API', () => {
    it('needs the bearer token, and says so in a SCIM error', async () => {
      for (const path of ['/api/status', '/api/events']) {
        const res = await api(path, { authorization: 'Bearer scimb_wrong', 'x-forwarded-for': '198.51.100.1' });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toContain('Bearer');
        expect(res.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
      }
    });

    it('reports health, counts, the identity providers seen and the request rates', async () => {
      const agent = { 'user-agent': 'Okta SCIM Client 1.0.0' };
      const a = await bridge.request('POST', '/Users', userBody('status-a@example.com'), agent);
      await bridge.request('POST', '/Users', userBody('status-b@example.com'), agent);
      await bridge.request('PATCH', `/Users/${a.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] }, agent);
      await bridge.request('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Status Engineers' }, agent);
      await bridge.request('GET', '/Users/does-not-exist', undefined, agent);

      const res = await api('/api/status');
      expect(res.status).toBe(200);
      const status = res.body;
      expect(status).toMatchObject({
        status: 'ok',
        store: { kind: 'sqlite', status: 'ok' },
        session: { loaded: true, tokens: 1 },
        eventRetentionDays: 90,
        limits: { maxConcurrentRequests: 256, authFailuresPerMinute: 20 },
      });
      expect(typeof status.version).toBe('string');
      expect(status.uptimeSeconds).toBeGreaterThanOrEqual(0);
      expect(status.counts.usersActive).toBeGreaterThanOrEqual(1);
      expect(status.counts.usersSuspended).toBeGreaterThanOrEqual(1);
      expect(status.counts.groupsManaged).toBeGreaterThanOrEqual(1);
      // The protected groups every account has (owners, administrators, ...).
      expect(status.counts.groupsProtected).toBeGreaterThan(0);
      const okta = status.clients.find((c: { agent: string }) => c.agent === 'Okta SCIM Client 1.0.0');
      expect(okta).toMatchObject({ method: 'GET', path: '/scim/v2/Users/:id', status: 404, requests: 5 });
      expect(status.rates.requests).toBeGreaterThanOrEqual(5);
      expect(status.rates.clientErrors).toBeGreaterThanOrEqual(1);
      expect(status.rates.windowSeconds).toBe(300);
    });

    it('does not list a client that never presented a valid token', async () => {
      await api('/scim/v2/Users', { authorization: 'Bearer nope', 'user-agent': 'scanner/0.1', 'x-forwarded-for': '198.51.100.2' });
      const res = await api('/api/status');
      expect(res.body.clients.map((c: { agent: string }) => c.agent)).not.toContain('scanner/0.1');
    });

    it('pages through events newest first with a before cursor, and filters by outcome and text', async () => {
      const agent = { 'user-agent': 'Paging IdP' };
      for (let i = 0; i < 12; i++) await bridge.request('POST', '/Users', userBody(`page-${i}@example.com`), agent);
      await bridge.request('POST', '/Users', userBody('page-0@example.com'), agent); // 409: a refusal

      const first = await api('/api/events?limit=5');
      expect(first.status).toBe(200);
      expect(first.body.events).toHaveLength(5);
      expect(first.body.events[0]).toMatchObject({ action: 'user.create', outcome: 'refused', status: 409, actor: 'Paging IdP' });
      expect(first.body.events[0].requestId).toEqual(expect.any(String));
      const second = await api(`/api/events?limit=5&before=${first.body.next}`);
      expect(second.body.events).toHaveLength(5);
      const ids = [...first.body.events, ...second.body.events].map((e: { id: number }) => e.id);
      expect(ids).toEqual([...ids].sort((x, y) => y - x));
      expect(new Set(ids).size).toBe(10);
      expect(second.body.events[0].id).toBeLessThan(first.body.events[4].id);

      const refused = await api('/api/events?outcome=refused&q=page-');
      expect(refused.body.events.length).toBeGreaterThanOrEqual(1);
      expect(refused.body.events.every((e: { outcome: string }) => e.outcome === 'refused')).toBe(true);
      const search = await api('/api/events?q=PAGE-11');
      expect(search.body.events.map((e: { resourceName: string }) => e.resourceName)).toEqual(['page-11@example.com']);
      expect(search.body.next).toBeNull();
    });

    it.each([['limit=0'], ['limit=abc'], ['before=-1'], ['outcome=maybe']])('refuses a bad query (%s) with 400', async (query) => {
      const res = await api(`/api/events?${query}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    });
  });

  describe('failed authentication', () => {
    it('is a provisioning event with the client, never the token; one per address per 10 s', async () => {
      const wrong = `scimb_${'x'.repeat(43)}`;
      const from = { 'x-forwarded-for': '203.0.113.10', 'user-agent': 'Leaky IdP/2.0' };
      expect((await api('/scim/v2/Users', { ...from, authorization: `Bearer ${wrong}` })).status).toBe(401);
      expect((await api('/scim/v2/Groups', { ...from, authorization: `Bearer ${wrong}` })).status).toBe(401);
      expect((await api('/scim/v2/Users', { 'x-forwarded-for': '203.0.113.11', 'user-agent': 'Other/1', authorization: '' })).status).toBe(401);

      const events = await eventually(async () => {
        const res = await api('/api/events?q=auth.rejected&limit=50');
        const found = res.body.events.filter((e: { detail: string }) => /203\.0\.113\.1[01]/.test(e.detail));
        return found.length >= 2 ? found : undefined;
      });
      expect(events).toHaveLength(2);
      const leaky = events.find((e: { actor: string }) => e.actor === 'Leaky IdP/2.0');
      expect(leaky).toMatchObject({ action: 'auth.rejected', outcome: 'refused', status: 401 });
      expect(leaky.detail).toContain('not valid');
      expect(JSON.stringify(events)).not.toContain('xxxxxxxx');
      expect(events.find((e: { actor: string }) => e.actor === 'Other/1').detail).toContain('no bearer token');
    });

    it('answers 429 with Retry-After after 20 failures a minute from one address, while a valid token still works', async () => {
      const from = { 'x-forwarded-for': '203.0.113.50' };
      for (let i = 0; i < 20; i++) expect((await api('/scim/v2/Users', { ...from, authorization: 'Bearer wrong' })).status).toBe(401);
      const limited = await api('/scim/v2/Users', { ...from, authorization: 'Bearer wrong' });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(limited.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' });
      expect((await api('/scim/v2/Users', from)).status).toBe(200);
      // Another address is not affected.
      expect((await api('/scim/v2/Users', { 'x-forwarded-for': '203.0.113.51', authorization: 'Bearer wrong' })).status).toBe(401);
    });
  });

  describe('metrics', () => {
    it('are Prometheus text without a token by default: requests, latency, store latency, events, process', async () => {
      await bridge.request('POST', '/Users', userBody('metrics@example.com'));
      await bridge.request('POST', '/Users', userBody('metrics@example.com'));
      await bridge.request('GET', `/Users?filter=${encodeURIComponent('userName eq "metrics@example.com"')}`);
      const res = await noAuth('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toMatch(/^scim_bridge_http_requests_total\{route="\/scim\/v2\/Users",method="POST",status="201"\} [1-9]/m);
      expect(text).toMatch(/^scim_bridge_http_requests_total\{route="\/scim\/v2\/Users",method="POST",status="409"\} [1-9]/m);
      expect(text).toMatch(/^scim_bridge_http_request_duration_seconds_bucket\{le="0.1",route="\/scim\/v2\/Users"\} [1-9]/m);
      expect(text).toMatch(/^scim_bridge_store_operation_duration_seconds_count\{operation="queryUsers"\} [1-9]/m);
      expect(text).toMatch(/^scim_bridge_store_operation_duration_seconds_count\{operation="transaction"\} [1-9]/m);
      expect(text).toMatch(/^scim_bridge_provisioning_events_total\{action="user.create",outcome="success"\} [1-9]/m);
      expect(text).toMatch(/^scim_bridge_provisioning_events_total\{action="user.create",outcome="refused"\} [1-9]/m);
      expect(text).toMatch(/^scim_bridge_process_resident_memory_bytes \d+/m);
      expect(text).toMatch(/^scim_bridge_nodejs_eventloop_lag_seconds /m);
    });
  });
});

describe('metrics behind the token (SCIM_METRICS_REQUIRE_TOKEN=true)', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ env: { SCIM_METRICS_REQUIRE_TOKEN: 'true' } });
  });
  afterAll(() => bridge.stop());

  it('answers 401 without the token and the metrics with it', async () => {
    expect((await fetch(`${bridge.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${bridge.url}/metrics`, { headers: { authorization: `Bearer ${bridge.token}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('scim_bridge_http_requests_total');
  });
});

describe('the concurrency bound (SCIM_MAX_CONCURRENT_REQUESTS)', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ env: { SCIM_MAX_CONCURRENT_REQUESTS: '1' } });
  });
  afterAll(() => bridge.stop());

  it('answers 429 with Retry-After at once beyond the bound, keeps probes answering, and frees the slot afterwards', async () => {
    const held = await holdRequest(bridge.url, '/scim/v2/Users', bridge.token, userBody('held@example.com'));
    try {
      const over = await eventually(
        async () => {
          const res = await bridge.request('GET', '/Users');
          return res.status === 429 ? res : undefined;
        },
        5000,
        20,
      );
      expect(over.headers.get('retry-after')).toBe('1');
      expect(over.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' });
      expect((await fetch(`${bridge.url}/ping`)).status).toBe(200);
      expect((await fetch(`${bridge.url}/health`)).status).toBe(200);
      expect((await fetch(`${bridge.url}/metrics`)).status).toBe(200);
    } finally {
      expect((await held.finish()).status).toBe(201);
    }
    expect((await bridge.request('GET', '/Users')).status).toBe(200);
    // An aborted request frees its slot too.
    const aborted = await holdRequest(bridge.url, '/scim/v2/Users', bridge.token, userBody('aborted@example.com'));
    aborted.socket.destroy();
    await eventually(async () => (await bridge.request('GET', '/Users')).status === 200, 5000, 20);
  });
});

describe('event retention (SCIM_EVENT_RETENTION_DAYS)', () => {
  it('prunes events older than the retention at start, and keeps newer ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-retention-'));
    const databaseUrl = `sqlite:${join(dir, 'bridge.db')}`;
    const store = await openStore(databaseUrl);
    await store.migrate();
    const day = 86_400_000;
    const old = { actor: 'cli', action: 'group.manage', outcome: 'success' as const, status: 200 };
    await store.recordEvent({ ...old, at: new Date(Date.now() - 31 * day).toISOString(), resourceName: 'too old' });
    await store.recordEvent({ ...old, at: new Date(Date.now() - 29 * day).toISOString(), resourceName: 'recent enough' });
    await store.close();

    const bridge = await startBridge({ env: { SCIM_DATABASE_URL: databaseUrl, SCIM_EVENT_RETENTION_DAYS: '30' } });
    try {
      const names = await eventually(async () => {
        const res = await bridge.request('GET', `${bridge.url}/api/events`);
        const found = res.body.events.map((e: { resourceName?: string }) => e.resourceName);
        return found.includes('too old') ? undefined : found;
      });
      expect(names).toContain('recent enough');
      expect((await bridge.request('GET', `${bridge.url}/api/status`)).body.eventRetentionDays).toBe(30);
    } finally {
      await bridge.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['SCIM_EVENT_RETENTION_DAYS', '-1'],
    ['SCIM_MAX_CONCURRENT_REQUESTS', '0'],
    ['SCIM_METRICS_REQUIRE_TOKEN', 'sometimes'],
  ])('refuses a bad %s at start, naming it', async (name, value) => {
    const start = serve({
      env: { SCIM_SESSION: serializeSession(createSession().session), SCIM_DATABASE_URL: 'sqlite::memory:', PORT: '0', HOST: '127.0.0.1', [name]: value },
      print: () => undefined,
    });
    await expect(start).rejects.toThrow(name);
  });
});
