/**
 * The connector's settings, its token flow against the fake token endpoint (which verifies the RS256 assertion the
 * way Google does), and Google's retry policy.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../bridge/src/config';
import { GoogleAuthError, TokenSource } from '../../bridge/src/sources/google/auth';
import { GOOGLE_SCOPES, readGoogleConfig } from '../../bridge/src/sources/google/config';
import { GoogleApiError, backoffMs, isRetryable, withRetry } from '../../bridge/src/sources/google/retry';
import { type FakeGoogle, startFakeGoogle } from '../support/fake-google';

describe('Google Workspace settings', () => {
  let google: FakeGoogle;
  let dir: string;
  beforeAll(async () => {
    google = await startFakeGoogle();
    dir = mkdtempSync(join(tmpdir(), 'scim-gcfg-'));
  });
  afterAll(async () => {
    await google.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = () => ({ SCIM_GOOGLE_ADMIN_EMAIL: 'admin@example.com', SCIM_GOOGLE_GROUPS: 'Staff@Example.com, eng@example.com' });
  const error = (env: Record<string, string>) => {
    try {
      readGoogleConfig(env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('is off when no Google setting is present, and reads a key file, raw JSON or base64 JSON', () => {
    expect(readGoogleConfig({})).toBeUndefined();
    const file = join(dir, 'key.json');
    writeFileSync(file, google.keyJson());
    const fromFile = readGoogleConfig({ ...base(), SCIM_GOOGLE_CREDENTIALS_FILE: file })!;
    expect(fromFile).toMatchObject({
      adminEmail: 'admin@example.com',
      groups: ['staff@example.com', 'eng@example.com'],
      syncIntervalSeconds: 600,
      directoryUrl: 'https://admin.googleapis.com',
      credentials: { clientEmail: google.clientEmail, tokenUri: google.tokenUri },
    });
    expect(readGoogleConfig({ ...base(), SCIM_GOOGLE_CREDENTIALS: google.keyJson() })!.credentials.privateKeyId).toBe('f00dfeed');
    expect(readGoogleConfig({ ...base(), SCIM_GOOGLE_CREDENTIALS: Buffer.from(google.keyJson()).toString('base64') })!.credentials.clientEmail).toBe(
      google.clientEmail,
    );
    // A key without token_uri goes to Google's endpoint.
    const { token_uri: _dropped, ...noUri } = JSON.parse(google.keyJson());
    expect(readGoogleConfig({ ...base(), SCIM_GOOGLE_CREDENTIALS: JSON.stringify(noUri) })!.credentials.tokenUri).toBe('https://oauth2.googleapis.com/token');
  });

  it('names the variable in one line for each mistake, and never prints the key', () => {
    const key = google.keyJson();
    const messages = [
      error({ SCIM_GOOGLE_GROUPS: 'staff@example.com' }),
      error({ ...base(), SCIM_GOOGLE_CREDENTIALS: key, SCIM_GOOGLE_CREDENTIALS_FILE: '/x' }),
      error({ ...base(), SCIM_GOOGLE_CREDENTIALS_FILE: join(dir, 'missing.json') }),
      error({ ...base(), SCIM_GOOGLE_CREDENTIALS: key.replace('"service_account"', '"authorized_user"') }),
      error({ ...base(), SCIM_GOOGLE_CREDENTIALS: key.slice(0, 200) }),
      error({ ...base(), SCIM_GOOGLE_CREDENTIALS: key.replace(/MII[A-Za-z0-9+/]{20}/, 'MIIbroken') }),
      error({ SCIM_GOOGLE_GROUPS: 'staff@example.com', SCIM_GOOGLE_CREDENTIALS: key }),
      error({ ...base(), SCIM_GOOGLE_ADMIN_EMAIL: 'admin', SCIM_GOOGLE_CREDENTIALS: key }),
      error({ ...base(), SCIM_GOOGLE_GROUPS: ' , ', SCIM_GOOGLE_CREDENTIALS: key }),
      error({ ...base(), SCIM_GOOGLE_GROUPS: 'staff', SCIM_GOOGLE_CREDENTIALS: key }),
      error({ ...base(), SCIM_GOOGLE_SYNC_INTERVAL_SECONDS: '0', SCIM_GOOGLE_CREDENTIALS: key }),
      error({ ...base(), SCIM_GOOGLE_SYNC_INTERVAL_SECONDS: '5m', SCIM_GOOGLE_CREDENTIALS: key }),
      error({ ...base(), SCIM_GOOGLE_DIRECTORY_URL: 'http://admin.googleapis.com', SCIM_GOOGLE_CREDENTIALS: key }),
      error({ ...base(), SCIM_GOOGLE_CREDENTIALS: google.keyJson({ token_uri: 'http://tokens.example.com/token' }) }),
    ];
    expect(messages.map((m) => m.match(/SCIM_GOOGLE_[A-Z_]+/)?.[0])).toEqual([
      'SCIM_GOOGLE_CREDENTIALS_FILE',
      'SCIM_GOOGLE_CREDENTIALS_FILE',
      'SCIM_GOOGLE_CREDENTIALS_FILE',
      'SCIM_GOOGLE_CREDENTIALS',
      'SCIM_GOOGLE_CREDENTIALS',
      'SCIM_GOOGLE_CREDENTIALS',
      'SCIM_GOOGLE_ADMIN_EMAIL',
      'SCIM_GOOGLE_ADMIN_EMAIL',
      'SCIM_GOOGLE_GROUPS',
      'SCIM_GOOGLE_GROUPS',
      'SCIM_GOOGLE_SYNC_INTERVAL_SECONDS',
      'SCIM_GOOGLE_SYNC_INTERVAL_SECONDS',
      'SCIM_GOOGLE_DIRECTORY_URL',
      'SCIM_GOOGLE_CREDENTIALS',
    ]);
    for (const message of messages) {
      expect(message).not.toContain('\n');
      expect(message).not.toMatch(/PRIVATE KEY|MII/);
    }
  });
});

describe('the service-account token flow', () => {
  let google: FakeGoogle;
  beforeAll(async () => {
    google = await startFakeGoogle();
  });
  afterAll(() => google.close());
  const source = (overrides: Partial<ConstructorParameters<typeof TokenSource>[0]> = {}) => {
    const config = readGoogleConfig(google.env(['staff@example.com']))!;
    return new TokenSource({
      key: config.credentials,
      subject: config.adminEmail,
      scopes: GOOGLE_SCOPES,
      retry: { sleep: async () => undefined },
      ...overrides,
    });
  };

  it('signs an assertion the token endpoint accepts (iss, sub, scope, aud = token_uri, an hour at most) and caches the token', async () => {
    const tokens = source();
    const first = await tokens.token();
    expect(first).toMatch(/^ya29\./);
    expect(await tokens.token()).toBe(first);
    expect(google.requests.filter((r) => r.path === '/token')).toHaveLength(1);
    const [claims] = google.assertions;
    expect(claims).toMatchObject({ iss: google.clientEmail, sub: 'admin@example.com', aud: google.tokenUri, scope: GOOGLE_SCOPES.join(' ') });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    tokens.invalidate();
    expect(await tokens.token()).not.toBe(first);
  });

  it('renews a token before it expires', async () => {
    let now = Date.now();
    const tokens = source({ now: () => now });
    const first = await tokens.token();
    now += 56 * 60_000; // Google's token lives 3599 s; five minutes before its end it is renewed
    expect(await tokens.token()).not.toBe(first);
  });

  it("explains a refusal in the administrator's terms (delegation missing, wrong administrator, foreign key)", async () => {
    await expect(source({ scopes: [...GOOGLE_SCOPES, 'https://www.googleapis.com/auth/admin.directory.user'] }).token()).rejects.toThrow(
      /unauthorized_client.*Manage Domain Wide Delegation.*admin\.directory\.user\.readonly/,
    );
    await expect(source({ subject: 'someone@example.com' }).token()).rejects.toThrow(/invalid_grant.*SCIM_GOOGLE_ADMIN_EMAIL \(someone@example\.com\)/);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const config = readGoogleConfig(google.env(['staff@example.com']))!;
    const forged = new TokenSource({ key: { ...config.credentials, privateKey: other }, subject: config.adminEmail, scopes: GOOGLE_SCOPES });
    await expect(forged.token()).rejects.toThrow(GoogleAuthError);
    await expect(forged.token()).rejects.toThrow(/Invalid JWT Signature/);
  });

  it("retries the token endpoint's 5xx and 429", async () => {
    google.faults.push({ status: 500, path: '/token' }, { status: 429, path: '/token' });
    expect(await source().token()).toMatch(/^ya29\./);
    expect(google.faults).toHaveLength(0);
  });
});

describe("Google's retry policy", () => {
  const err = (status: number, reason?: string) => new GoogleApiError(status, reason, 'x');

  it('retries exactly what Google says to back off from', () => {
    expect([err(429), err(500), err(503), err(403, 'rateLimitExceeded'), err(403, 'userRateLimitExceeded'), err(403, 'quotaExceeded')].every(isRetryable)).toBe(
      true,
    );
    expect([err(403, 'forbidden'), err(403), err(404, 'notFound'), err(400, 'invalid'), err(401, 'authError')].some(isRetryable)).toBe(false);
    expect(isRetryable(new TypeError('fetch failed'))).toBe(true);
    expect(isRetryable(new GoogleAuthError('no'))).toBe(false);
  });

  it('waits a random time up to an exponentially growing, capped ceiling', () => {
    const at = (random: number) => [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(n, err(503), { random: () => random, baseMs: 500, maxMs: 32_000 }));
    expect(at(0.999)).toEqual([499, 999, 1998, 3996, 7992, 15984, 31968, 31968]);
    expect(at(0)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(backoffMs(1, new GoogleApiError(429, undefined, 'x', 7), { random: () => 0 })).toBe(7000);
  });

  it('gives up after the bounded number of attempts', async () => {
    let calls = 0;
    const waits: number[] = [];
    await expect(
      withRetry(
        async () => {
          calls++;
          throw err(503);
        },
        { attempts: 4, sleep: async (ms) => void waits.push(ms), random: () => 1 - Number.EPSILON },
      ),
    ).rejects.toThrow(GoogleApiError);
    expect(calls).toBe(4);
    expect(waits).toEqual([499, 999, 1999]);
  });
});
