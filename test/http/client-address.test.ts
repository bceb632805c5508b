/**
 * SCIM_TRUST_PROXY: whose X-Forwarded-For the bridge believes. Unset, nobody's: a client that sends a different
 * X-Forwarded-For with every wrong token is still one client and is stopped by the failed-authentication limit.
 */
import { parseTrustProxy, trustFunction } from '../../bridge/src/trust-proxy';
import { readConfig } from '../../bridge/src/config';
import { type TestBridge, startBridge } from '../support/bridge';

const wrongTokens = async (bridge: TestBridge, n: number, forwardedFor: (i: number) => string) => {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${bridge.scim}/Users`, { headers: { authorization: 'Bearer scimb_wrong', 'x-forwarded-for': forwardedFor(i) } });
    statuses.push(res.status);
  }
  return statuses;
};

const rotating = (i: number) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;

describe('SCIM_TRUST_PROXY unset: X-Forwarded-For is ignored', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge();
  });
  afterAll(() => bridge.stop());

  it('answers 429 once over the limit, however the X-Forwarded-For rotates, and records the socket address', async () => {
    const statuses = await wrongTokens(bridge, 200, rotating);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    const events = await bridge.request('GET', `${bridge.url}/api/events?q=auth.rejected&limit=50`);
    const details = events.body.events.map((e: { detail: string }) => e.detail);
    expect(details.length).toBeGreaterThanOrEqual(1);
    for (const detail of details) {
      expect(detail).toContain('from 127.0.0.1');
      expect(detail).not.toMatch(/198\.18\./);
    }
  });

  it('does not believe X-Forwarded-Proto either (no HSTS from a header anyone can send)', async () => {
    const res = await fetch(`${bridge.url}/ping`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('SCIM_TRUST_PROXY=1: one proxy in front', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ env: { SCIM_TRUST_PROXY: '1' } });
  });
  afterAll(() => bridge.stop());

  it('takes the right-most X-Forwarded-For entry (the one the proxy appended) as the client', async () => {
    // What the client wrote itself (left) changes each time; what the proxy appended (right) does not.
    const statuses = await wrongTokens(bridge, 30, (i) => `${rotating(i)}, 203.0.113.77`);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    // Another right-most address is another client.
    expect((await wrongTokens(bridge, 1, () => '203.0.113.78'))[0]).toBe(401);
    const events = await bridge.request('GET', `${bridge.url}/api/events?q=auth.rejected&limit=50`);
    const details: string[] = events.body.events.map((e: { detail: string }) => e.detail);
    expect(details.some((d) => d.includes('from 203.0.113.77'))).toBe(true);
    expect(details.some((d) => d.includes('from 203.0.113.78'))).toBe(true);
    expect(details.some((d) => /198\.18\./.test(d))).toBe(false);
  });

  it('believes the proxy about HTTPS, and the base URL it was reached at', async () => {
    const res = await fetch(`${bridge.scim}/ServiceProviderConfig`, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'scim.example.com' } });
    expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=/);
    expect(((await res.json()) as { meta: { location: string } }).meta.location).toBe('https://scim.example.com/scim/v2/ServiceProviderConfig');
  });
});

describe('parsing SCIM_TRUST_PROXY', () => {
  it.each([
    [undefined, { kind: 'none' }],
    ['', { kind: 'none' }],
    ['0', { kind: 'none' }],
    ['false', { kind: 'none' }],
    ['2', { kind: 'hops', hops: 2 }],
    ['10.0.0.0/8, 192.168.1.7', { kind: 'cidrs', ranges: ['10.0.0.0/8', '192.168.1.7/32'] }],
    ['fd00::/8,::1', { kind: 'cidrs', ranges: ['fd00::/8', '::1/128'] }],
    ['loopback', { kind: 'cidrs', ranges: ['127.0.0.0/8', '::1/128'] }],
  ])('reads %p', (raw, expected) => {
    expect(parseTrustProxy(raw)).toEqual(expected);
  });

  it.each(['true', '*', '10.0.0.0/33', 'fd00::/129', 'not-an-address', '10.0.0.0/8/1', '99'])('refuses %p at start, naming the variable', (raw) => {
    expect(() => readConfig({ SCIM_TRUST_PROXY: raw })).toThrow(/SCIM_TRUST_PROXY must be/);
  });

  it('trusts by CIDR for IPv4, IPv4-mapped IPv6 and IPv6', () => {
    const trust = trustFunction(parseTrustProxy('10.0.0.0/8, fd00::/8')) as (a: string, i: number) => boolean;
    expect(trust('10.1.2.3', 0)).toBe(true);
    expect(trust('::ffff:10.1.2.3', 0)).toBe(true);
    expect(trust('fd12::1', 0)).toBe(true);
    expect(trust('11.0.0.1', 0)).toBe(false);
    expect(trust('fe80::1', 0)).toBe(false);
    expect(trust('garbage', 0)).toBe(false);
  });

  it('trusts a number of hops whatever their addresses', () => {
    const trust = trustFunction(parseTrustProxy('2')) as (a: string, i: number) => boolean;
    expect([trust('1.1.1.1', 0), trust('1.1.1.1', 1), trust('1.1.1.1', 2)]).toEqual([true, true, false]);
    expect(trustFunction(parseTrustProxy(''))).toBe(false);
  });
});
