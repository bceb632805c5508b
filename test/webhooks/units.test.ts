/**
 * The webhooks' parts that need no store: Standard Webhooks signatures (checked with the specification's reference
 * implementation), which targets are refused, the retry schedule, and the declared endpoints' settings.
 */
import { Webhook } from 'standardwebhooks';
import { BRIDGE_ENV } from '../../contract';
import { ConfigError } from '../../bridge/src/config';
import { checkEventFilter, readWebhookSettings, wants, webhookKeepFrom } from '../../bridge/src/feed/endpoints';
import { DEFAULT_RETRY, parseRetryAfter, retryDelayMs, windowOver } from '../../bridge/src/feed/retry';
import { UnsafeTarget, checkTargetUrl, parseCidrs, refusal, unmapped } from '../../bridge/src/feed/safe-target';
import { generateSecret, secretKey, signDelivery } from '../../bridge/src/feed/signing';
import { type Change, changeDocument, changeId } from '../../bridge/src/feed/types';

const change: Change = {
  position: 42,
  directory: 'default',
  at: '2026-12-06T10:00:00.000Z',
  type: 'user.created',
  resource: { type: 'User', id: 'u1', version: 1 },
  actor: 'okta',
  state: { userName: 'ada@example.com', displayName: 'Ada Lovelace ✓' },
};

describe('Standard Webhooks signatures', () => {
  it('verify with the reference implementation, and fail with another secret or a changed body', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const body = JSON.stringify(changeDocument(change));
    const headers = signDelivery(secretKey(secret), changeId(change), body, new Date());
    expect(headers['webhook-id']).toBe('chg_default_42');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(changeDocument(change));
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(body.replace('Ada', 'Eve'), { ...headers })).toThrow(/No matching signature/);
  });

  it('agree with the reference implementation byte for byte', () => {
    const secret = generateSecret();
    const at = new Date(1_765_000_000_000);
    const ours = signDelivery(secretKey(secret), 'msg_1', '{"a":1}', at)['webhook-signature'];
    expect(ours).toBe(new Webhook(secret).sign('msg_1', at, '{"a":1}'));
  });

  it('refuse secrets that are not whsec_ and base64 of 24 to 64 bytes', () => {
    expect(() => secretKey('abc')).toThrow(/whsec_/);
    expect(() => secretKey('whsec_not base64!')).toThrow(/base64/);
    expect(() => secretKey(`whsec_${Buffer.alloc(8).toString('base64')}`)).toThrow(/24 to 64 bytes/);
  });
});

describe('safe targets', () => {
  const policy = { allowLoopback: false, allowPrivate: parseCidrs('') };

  it.each([
    '169.254.169.254',
    'fd00:ec2::254',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    'fc00::1',
    'fe80::1',
    '::ffff:10.0.0.1',
    '::ffff:a00:1',
    '::ffff:169.254.169.254',
    '0.0.0.0',
    '::',
    '127.0.0.1',
    '::1',
    '::ffff:127.0.0.1',
    '224.0.0.1',
  ])('refuse %s', (address) => {
    expect(refusal(address, policy)).toBeDefined();
  });

  it.each(['93.184.216.34', '2606:4700::6810:85e5', '172.32.0.1', '100.128.0.1', '::ffff:8.8.8.8'])('allow %s', (address) => {
    expect(refusal(address, policy)).toBeUndefined();
  });

  it('allow a private range the operator lists, and loopback only with the opt-in', () => {
    const allowing = { allowLoopback: true, allowPrivate: parseCidrs('10.20.0.0/16, fd12::/16') };
    expect(refusal('10.20.3.4', allowing)).toBeUndefined();
    expect(refusal('::ffff:10.20.3.4', allowing)).toBeUndefined();
    expect(refusal('fd12::5', allowing)).toBeUndefined();
    expect(refusal('10.21.0.1', allowing)).toBeDefined();
    expect(refusal('127.0.0.1', allowing)).toBeUndefined();
    expect(refusal('169.254.169.254', allowing)).toBeDefined();
    expect(() => parseCidrs('10.0.0.0')).toThrow(UnsafeTarget);
    expect(() => parseCidrs('10.0.0.0/33')).toThrow(UnsafeTarget);
  });

  it('unmap IPv4-mapped IPv6 addresses in both spellings', () => {
    expect(unmapped('::ffff:192.168.0.1')).toEqual({ address: '192.168.0.1', family: 'ipv4' });
    expect(unmapped('[::ffff:c0a8:1]')).toEqual({ address: '192.168.0.1', family: 'ipv4' });
  });

  it('take https anywhere public, plain http only to loopback with the opt-in, no credentials in the URL', () => {
    expect(checkTargetUrl('https://hooks.example.com/scim', policy).hostname).toBe('hooks.example.com');
    expect(() => checkTargetUrl('http://hooks.example.com/', policy)).toThrow(/plain http/);
    expect(() => checkTargetUrl('http://127.0.0.1:8080/', policy)).toThrow(/SCIM_WEBHOOKS_ALLOW_LOOPBACK/);
    expect(checkTargetUrl('http://127.0.0.1:8080/', { ...policy, allowLoopback: true }).port).toBe('8080');
    expect(() => checkTargetUrl('http://hooks.example.com/', { ...policy, allowLoopback: true })).toThrow(/plain http/);
    expect(() => checkTargetUrl('https://169.254.169.254/latest/meta-data', policy)).toThrow(/link-local/);
    expect(() => checkTargetUrl('https://[::ffff:a9fe:a9fe]/', policy)).toThrow(/link-local/);
    expect(() => checkTargetUrl('https://user:pw@hooks.example.com/', policy)).toThrow(/credentials/);
    expect(() => checkTargetUrl('ftp://hooks.example.com/', policy)).toThrow(/scheme/);
  });
});

describe('retry schedule', () => {
  it('grows exponentially with jitter, capped at an hour, and runs more than a day before the dead letter', () => {
    const low = () => 0;
    const high = () => 1;
    expect(retryDelayMs(1, DEFAULT_RETRY, undefined, low)).toBe(4000);
    expect(retryDelayMs(1, DEFAULT_RETRY, undefined, high)).toBe(6000);
    expect(retryDelayMs(3, DEFAULT_RETRY, undefined, () => 0.5)).toBe(20_000);
    expect(retryDelayMs(30, DEFAULT_RETRY, undefined, () => 0.5)).toBe(3_600_000);
    expect(DEFAULT_RETRY.windowMs).toBeGreaterThan(24 * 3_600_000);
    expect(windowOver(0, DEFAULT_RETRY.windowMs - 1)).toBe(false);
    expect(windowOver(0, DEFAULT_RETRY.windowMs)).toBe(true);
  });

  it('waits at least what Retry-After asks (seconds or a date), at most an hour', () => {
    expect(retryDelayMs(1, DEFAULT_RETRY, 120_000, () => 0.5)).toBe(120_000);
    expect(retryDelayMs(1, DEFAULT_RETRY, 10 * 3_600_000, () => 0.5)).toBe(3_600_000);
    expect(parseRetryAfter('30')).toBe(30_000);
    expect(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(55_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('declared endpoints (SCIM_WEBHOOKS, SCIM_WEBHOOK_SECRETS)', () => {
  const secret = generateSecret();
  const env = (webhooks: unknown, secrets: unknown = { app: secret }, extra: Record<string, string> = {}) => ({
    [BRIDGE_ENV.webhooks]: typeof webhooks === 'string' ? webhooks : JSON.stringify(webhooks),
    [BRIDGE_ENV.webhookSecrets]: typeof secrets === 'string' ? secrets : JSON.stringify(secrets),
    ...extra,
  });

  it('read endpoints with their secrets and filters', () => {
    const settings = readWebhookSettings(env([{ name: 'app', url: 'https://hooks.example.com/scim', events: ['user.*', 'group.deleted'] }]));
    expect(settings.declared).toEqual([{ name: 'app', url: 'https://hooks.example.com/scim', events: ['user.*', 'group.deleted'], secret }]);
    expect(readWebhookSettings({}).declared).toEqual([]);
  });

  it.each([
    ['not JSON', env('[{'), /SCIM_WEBHOOKS is not valid JSON/],
    ['no secret', env([{ name: 'app', url: 'https://h.example.com/' }], {}), /holds no signing secret for "app"/],
    ['a bad secret', env([{ name: 'app', url: 'https://h.example.com/' }], { app: 'whsec_short' }), /the secret for "app" is not usable/],
    ['plain http', env([{ name: 'app', url: 'http://h.example.com/' }]), /\("app"\).*plain http/],
    ['an unknown type', env([{ name: 'app', url: 'https://h.example.com/', events: ['user.renamed'] }]), /user\.renamed/],
    [
      'a twice-declared name',
      env([
        { name: 'app', url: 'https://a.example.com/' },
        { name: 'app', url: 'https://b.example.com/' },
      ]),
      /declared twice/,
    ],
    ['secrets that are not JSON', env([{ name: 'app', url: 'https://h.example.com/' }], `{"app":"${secret}"`), /SCIM_WEBHOOK_SECRETS is not valid JSON/],
    ['a bad CIDR', env([], {}, { [BRIDGE_ENV.webhooksAllowPrivate]: '10.0.0.0/40' }), /SCIM_WEBHOOKS_ALLOW_PRIVATE/],
  ])('refuse %s with one line that never holds a secret', (_what, settings, message) => {
    let error: unknown;
    try {
      readWebhookSettings(settings);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(secret.slice(6));
    expect((error as Error).message).not.toContain('\n');
  });

  it('filter by exact type and by prefix', () => {
    expect(wants(undefined, 'group.deleted')).toBe(true);
    expect(wants(['user.*'], 'user.suspended')).toBe(true);
    expect(wants(['user.*'], 'group.created')).toBe(false);
    expect(wants(['group.members.*'], 'group.members.added')).toBe(true);
    expect(wants(['group.created'], 'group.deleted')).toBe(false);
    expect(() => checkEventFilter('users.*')).toThrow(RangeError);
  });
});

describe('retention', () => {
  it('keeps every change an endpoint still needs: from the lowest cursor on', () => {
    expect(webhookKeepFrom([])).toBeUndefined();
    expect(webhookKeepFrom([{ position: 120 }, { position: 7 }, { position: 300 }])).toBe(8);
  });
});
