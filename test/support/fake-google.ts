/**
 * A fake of Google's token endpoint and the Admin SDK Directory API on loopback, shaped as Google documents them:
 * the token endpoint checks the JWT-bearer assertion (RS256 over a key pair made here, iss, sub, scope, aud = the
 * key's token_uri, exp) and the API takes only the tokens it issued; users.list, groups.get and members.list page
 * with pageToken; errors carry Google's body ({"error": {"code", "message", "errors": [{"reason"}], "status"}}).
 * Faults (429, 403 rateLimitExceeded, 5xx, ...) are served from a schedule, and requests can be slowed down.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GOOGLE_SCOPES } from '../../bridge/src/sources/google/config';

export interface FakeUser {
  id: string;
  primaryEmail: string;
  name: { givenName?: string; familyName?: string; fullName?: string };
  suspended?: boolean;
  archived?: boolean;
  organizations?: { title?: string; department?: string; primary?: boolean }[];
}

export interface FakeMember {
  id?: string;
  email?: string;
  type: 'USER' | 'GROUP' | 'CUSTOMER' | 'EXTERNAL';
  role?: string;
  status?: string;
}

interface FakeGroup {
  id: string;
  email: string;
  name: string;
  members: FakeMember[];
}

export interface Fault {
  status: number;
  /** Google's `reason` (rateLimitExceeded, userRateLimitExceeded, quotaExceeded, backendError, ...). */
  reason?: string;
  /** Only requests whose path includes this (e.g. '/token', '/members'); any request when absent. */
  path?: string;
  retryAfter?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  agent: string;
  at: number;
  status: number;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export class FakeGoogle {
  readonly domain = 'example.com';
  readonly adminEmail = `admin@example.com`;
  readonly clientEmail = 'scim-bridge@example-project.iam.gserviceaccount.com';
  readonly users = new Map<string, FakeUser>();
  readonly groups = new Map<string, FakeGroup>();
  readonly requests: RecordedRequest[] = [];
  readonly assertions: Record<string, unknown>[] = [];
  /** Faults served in order to the requests they match. */
  readonly faults: Fault[] = [];
  /** Milliseconds each API request waits before it is answered (to hold a sync in the middle). */
  delayMs = 0;
  /** Results per page (Google allows 500 users or 200 members; small here so paging is exercised). */
  pageSize = 2;
  readonly privateKeyPem: string;
  readonly issuedTokens = new Set<string>();
  url = '';
  private readonly publicKey: ReturnType<typeof createPublicKey>;
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private nextId = 100_000_000_000_000_000_000n;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    this.publicKey = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  get tokenUri(): string {
    return `${this.url}/token`;
  }

  /** The service-account key file Google would hand out, pointing at this fake. */
  keyJson(overrides: Record<string, unknown> = {}): string {
    return JSON.stringify({
      type: 'service_account',
      project_id: 'example-project',
      private_key_id: 'f00dfeed',
      private_key: this.privateKeyPem,
      client_email: this.clientEmail,
      client_id: '112233445566778899000',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: this.tokenUri,
      ...overrides,
    });
  }

  /** The bridge's environment for this fake. */
  env(groups: string[], extra: Record<string, string> = {}): Record<string, string> {
    return {
      SCIM_GOOGLE_CREDENTIALS: Buffer.from(this.keyJson()).toString('base64'),
      SCIM_GOOGLE_ADMIN_EMAIL: this.adminEmail,
      SCIM_GOOGLE_GROUPS: groups.join(','),
      SCIM_GOOGLE_DIRECTORY_URL: this.url,
      ...extra,
    };
  }

  // ---- the directory's data ----

  addUser(local: string, extra: Partial<FakeUser> = {}): FakeUser {
    const given = local.split('.')[0];
    const family = local.split('.')[1] ?? 'Example';
    const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
    const user: FakeUser = {
      id: String(this.nextId++),
      primaryEmail: local.includes('@') ? local : `${local}@${this.domain}`,
      name: { givenName: cap(given), familyName: cap(family), fullName: `${cap(given)} ${cap(family)}` },
      ...extra,
    };
    this.users.set(user.id, user);
    return user;
  }

  user(email: string): FakeUser {
    const found = [...this.users.values()].find((u) => u.primaryEmail === email);
    if (!found) throw new Error(`no fake user ${email}`);
    return found;
  }

  addGroup(email: string, name: string): FakeGroup {
    const group = { id: String(this.nextId++), email, name, members: [] };
    this.groups.set(email, group);
    return group;
  }

  /** Adds a user (by e-mail), a nested group (by its e-mail) or an outside address to a group. */
  addMember(groupEmail: string, member: string | FakeMember): void {
    const group = this.groups.get(groupEmail)!;
    if (typeof member !== 'string') {
      group.members.push(member);
      return;
    }
    const nested = this.groups.get(member);
    if (nested) {
      group.members.push({ id: nested.id, email: nested.email, type: 'GROUP', role: 'MEMBER', status: 'ACTIVE' });
      return;
    }
    const user = [...this.users.values()].find((u) => u.primaryEmail === member);
    // Google gives outside members an id too, one that is no user of this account.
    group.members.push(
      user
        ? { id: user.id, email: user.primaryEmail, type: 'USER', role: 'MEMBER', status: 'ACTIVE' }
        : { id: String(this.nextId++), email: member, type: 'USER', role: 'MEMBER', status: 'ACTIVE' },
    );
  }

  removeMember(groupEmail: string, email: string): void {
    const group = this.groups.get(groupEmail)!;
    group.members = group.members.filter((m) => m.email !== email);
  }

  apiRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/admin/'));
  }

  // ---- HTTP ----

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  /** Google's error body. */
  private error(res: ServerResponse, status: number, reason: string, message: string, headers: Record<string, string> = {}): void {
    this.send(
      res,
      status,
      {
        error: {
          code: status,
          message,
          errors: [{ message, domain: status === 403 && reason !== 'forbidden' ? 'usageLimits' : 'global', reason }],
          status: STATUS_TEXT[status] ?? 'UNKNOWN',
        },
      },
      headers,
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      agent: String(req.headers['user-agent'] ?? ''),
      at: Date.now(),
      status: 0,
    };
    this.requests.push(record);
    res.once('finish', () => (record.status = res.statusCode));
    if (url.pathname.startsWith('/admin/') && this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));

    const index = this.faults.findIndex((f) => !f.path || url.pathname.includes(f.path));
    if (index >= 0) {
      const [fault] = this.faults.splice(index, 1);
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': String(fault.retryAfter) } : {};
      if (url.pathname === '/token') return this.send(res, fault.status, { error: fault.reason ?? 'internal_failure', error_description: 'fault' }, headers);
      return this.error(
        res,
        fault.status,
        fault.reason ?? (fault.status >= 500 ? 'backendError' : 'rateLimitExceeded'),
        fault.status >= 500 ? 'Backend Error' : 'Quota exceeded for quota metric',
        headers,
      );
    }
    if (url.pathname === '/token' && req.method === 'POST') return this.token(res, body);
    if (!url.pathname.startsWith('/admin/directory/v1/')) return this.error(res, 404, 'notFound', `No route ${url.pathname}`);

    const auth = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''));
    if (!auth || !this.issuedTokens.has(auth[1])) {
      return this.error(res, 401, 'authError', 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
    }
    const parts = url.pathname.slice('/admin/directory/v1/'.length).split('/').map(decodeURIComponent);
    if (parts[0] === 'users' && parts.length === 1) {
      if (url.searchParams.get('customer') !== 'my_customer' && !url.searchParams.get('domain')) return this.error(res, 400, 'badRequest', 'Bad Request');
      return this.page(res, url, 'users', [...this.users.values()], 'admin#directory#users');
    }
    if (parts[0] === 'groups' && parts.length >= 2) {
      const group = this.groups.get(parts[1]) ?? [...this.groups.values()].find((g) => g.id === parts[1]);
      if (!group) return this.error(res, 404, 'notFound', 'Resource Not Found: groupKey');
      if (parts.length === 2)
        return this.send(res, 200, {
          kind: 'admin#directory#group',
          id: group.id,
          email: group.email,
          name: group.name,
          directMembersCount: String(group.members.length),
        });
      if (parts[2] === 'members')
        return this.page(
          res,
          url,
          'members',
          group.members.map((m) => ({ kind: 'admin#directory#member', ...m })),
          'admin#directory#members',
        );
    }
    return this.error(res, 404, 'notFound', 'Resource Not Found');
  }

  private page(res: ServerResponse, url: URL, key: string, items: unknown[], kind: string): void {
    const size = Math.min(this.pageSize, Number(url.searchParams.get('maxResults') ?? this.pageSize));
    const token = url.searchParams.get('pageToken');
    const offset = token ? Number(Buffer.from(token, 'base64url').toString().slice(4)) : 0;
    if (!Number.isInteger(offset)) return this.error(res, 400, 'invalid', 'Invalid page token');
    const slice = items.slice(offset, offset + size);
    const next = offset + size < items.length ? Buffer.from(`page${offset + size}`).toString('base64url') : undefined;
    this.send(res, 200, { kind, etag: `"${randomBytes(4).toString('hex')}"`, [key]: slice, ...(next ? { nextPageToken: next } : {}) });
  }

  /** RFC 7523 JWT bearer grant, checked as Google's endpoint checks it. */
  private token(res: ServerResponse, body: string): void {
    const form = new URLSearchParams(body);
    const refuse = (error: string, description: string) => this.send(res, 400, { error, error_description: description });
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return refuse('unsupported_grant_type', 'Invalid grant_type');
    const [header, payload, signature] = (form.get('assertion') ?? '').split('.');
    if (!header || !payload || !signature) return refuse('invalid_grant', 'Invalid JWT');
    const head = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
    if (head.alg !== 'RS256') return refuse('invalid_grant', 'Invalid JWT signature algorithm');
    if (!verify('sha256', Buffer.from(`${header}.${payload}`), this.publicKey, Buffer.from(signature, 'base64url')))
      return refuse('invalid_grant', 'Invalid JWT Signature.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    this.assertions.push(claims);
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== this.clientEmail) return refuse('invalid_grant', 'Invalid issuer');
    if (claims.aud !== this.tokenUri) return refuse('invalid_grant', 'Invalid JWT: audience');
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp <= now || claims.exp - claims.iat > 3600)
      return refuse('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    if (claims.sub !== this.adminEmail) return refuse('invalid_grant', 'Invalid email or User ID');
    const scopes = String(claims.scope ?? '').split(' ');
    if (scopes.length !== GOOGLE_SCOPES.length || !GOOGLE_SCOPES.every((s) => scopes.includes(s))) {
      return refuse(
        'unauthorized_client',
        'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
      );
    }
    const token = `ya29.${randomBytes(24).toString('base64url')}`;
    this.issuedTokens.add(token);
    this.send(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
  }
}

export async function startFakeGoogle(): Promise<FakeGoogle> {
  return new FakeGoogle().start();
}
