/**
 * The service-account token flow with domain-wide delegation (RFC 7523 JWT bearer grant, as Google documents it at
 * developers.google.com/identity/protocols/oauth2/service-account): an RS256-signed assertion with `iss` = the
 * service account, `sub` = the administrator it acts for, `scope`, `aud` = the key's `token_uri` and a one-hour
 * `exp`, exchanged at `token_uri` for an access token, which is kept until shortly before it expires.
 *
 * Why not google-auth-library: its JWT client (checked in 11.3.4, the current release) ignores the key file's
 * `token_uri` — it signs `aud` and posts to a hard-coded https://oauth2.googleapis.com/token — so a key that names
 * another token endpoint (a private Google endpoint, or a test's fake) cannot work with it. The flow is one signature
 * and one POST, so it is done here with node:crypto, which also keeps the bundle free of its dependency tree.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { ServiceAccountKey } from './config';
import { GoogleApiError, type RetryPolicy, withRetry } from './retry';

const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google accepts assertions valid for at most an hour. */
const ASSERTION_LIFETIME_S = 3600;
/** A token is renewed this long before Google says it expires (clock skew, a slow sync). */
const EARLY_RENEWAL_MS = 5 * 60_000;
const REQUEST_TIMEOUT_MS = 30_000;

const base64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');

export interface TokenSourceOptions {
  readonly key: ServiceAccountKey;
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly retry?: RetryPolicy;
  readonly now?: () => number;
  readonly userAgent?: string;
}

/** A clear failure from the token endpoint: wrong delegation, a revoked key, a disabled service account. */
export class GoogleAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoogleAuthError';
  }
}

/** What to do about the token endpoint's OAuth error codes, in the administrator's terms. */
function explain(error: string, description: string | undefined, options: TokenSourceOptions): string {
  const said = description ? `${error}: ${description}` : error;
  if (error === 'unauthorized_client') {
    return `Google refused the token (${said}). In the Admin console (Security > Access and data control > API controls > Manage Domain Wide Delegation) give the service account's client ID the scopes ${options.scopes.join(',')}`;
  }
  if (error === 'invalid_grant') {
    return `Google refused the token (${said}). Check that SCIM_GOOGLE_ADMIN_EMAIL (${options.subject}) is an administrator of the Workspace account and that the service-account key is still valid`;
  }
  return `Google refused the token (${said})`;
}

export class TokenSource {
  private readonly key: KeyObject;
  private cached?: { token: string; expiresAt: number };
  private pending?: Promise<string>;

  constructor(private readonly options: TokenSourceOptions) {
    this.key = createPrivateKey(options.key.privateKey);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The signed JWT-bearer assertion (exposed for tests that check its claims). */
  assertion(): string {
    const iat = Math.floor(this.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', ...(this.options.key.privateKeyId ? { kid: this.options.key.privateKeyId } : {}) };
    const claims = {
      iss: this.options.key.clientEmail,
      sub: this.options.subject,
      scope: this.options.scopes.join(' '),
      aud: this.options.key.tokenUri,
      iat,
      exp: iat + ASSERTION_LIFETIME_S,
    };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    return `${input}.${base64url(sign('sha256', Buffer.from(input), this.key))}`;
  }

  /** A valid access token, from the cache or fetched (one fetch at a time). */
  async token(signal?: AbortSignal): Promise<string> {
    if (this.cached && this.cached.expiresAt - EARLY_RENEWAL_MS > this.now()) return this.cached.token;
    this.pending ??= withRetry(() => this.fetchToken(signal), this.options.retry, signal).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets the cached token (after Google answered 401 to it). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async fetchToken(signal?: AbortSignal): Promise<string> {
    const response = await fetch(this.options.key.tokenUri, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
      },
      body: new URLSearchParams({ grant_type: GRANT_TYPE, assertion: this.assertion() }).toString(),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) : AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* not JSON: judged by status below */
    }
    if (response.status === 429 || response.status >= 500) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new GoogleApiError(
        response.status,
        undefined,
        `the token endpoint answered ${response.status}`,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    if (!response.ok || typeof body.access_token !== 'string') {
      const error = typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
      throw new GoogleAuthError(explain(error, typeof body.error_description === 'string' ? body.error_description : undefined, this.options));
    }
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    this.cached = { token: body.access_token, expiresAt: this.now() + expiresIn * 1000 };
    return body.access_token;
  }
}
