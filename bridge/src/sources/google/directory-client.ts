/**
 * The read-only calls the sync makes to the Admin SDK Directory API (developers.google.com/admin-sdk/directory/
 * reference/rest): users.list over the whole account, groups.get and members.list, each paged by pageToken until
 * Google stops returning nextPageToken, each request retried by the documented policy.
 */
import type { TokenSource } from './auth';
import { GoogleApiError, type RetryPolicy, withRetry } from './retry';

export interface GoogleUser {
  readonly id: string;
  readonly primaryEmail: string;
  readonly name?: { readonly givenName?: string; readonly familyName?: string; readonly fullName?: string };
  readonly suspended?: boolean;
  readonly archived?: boolean;
  readonly organizations?: readonly { readonly title?: string; readonly department?: string; readonly primary?: boolean }[];
}

export interface GoogleGroup {
  readonly id: string;
  readonly email: string;
  readonly name: string;
}

/** `type` is USER, GROUP, CUSTOMER (everyone in the account) or EXTERNAL. */
export interface GoogleMember {
  readonly id?: string;
  readonly email?: string;
  readonly type?: string;
  readonly status?: string;
}

const REQUEST_TIMEOUT_MS = 60_000;
const USERS_PAGE = 500;
const MEMBERS_PAGE = 200;

export interface DirectoryClientOptions {
  /** The API root, e.g. https://admin.googleapis.com. */
  readonly baseUrl: string;
  readonly tokens: TokenSource;
  readonly retry?: RetryPolicy;
  readonly userAgent?: string;
}

/** Google's error body: `{"error": {"code", "message", "errors": [{"reason", "domain", "message"}], "status"}}`. */
function apiError(status: number, text: string, retryAfter: string | null): GoogleApiError {
  let reason: string | undefined;
  let message = `HTTP ${status}`;
  try {
    const body = JSON.parse(text) as { error?: { message?: string; errors?: { reason?: string }[]; status?: string } };
    reason = body.error?.errors?.[0]?.reason ?? body.error?.status;
    if (body.error?.message) message = body.error.message;
  } catch {
    /* not Google's JSON (a proxy's page): the status says enough */
  }
  const seconds = Number(retryAfter);
  return new GoogleApiError(status, reason, message, Number.isFinite(seconds) && seconds > 0 ? seconds : undefined);
}

export class DirectoryClient {
  /** Requests made, for the sync's counts. */
  requests = 0;

  constructor(private readonly options: DirectoryClientOptions) {}

  private async get<T>(path: string, query: Record<string, string | undefined>, signal?: AbortSignal): Promise<T> {
    const url = new URL(`${this.options.baseUrl}/admin/directory/v1/${path}`);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
    return withRetry(
      async () => {
        const token = await this.options.tokens.token(signal);
        this.requests++;
        const response = await fetch(url, {
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
          },
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) : AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        if (response.status === 401) this.options.tokens.invalidate();
        if (!response.ok) throw apiError(response.status, text, response.headers.get('retry-after'));
        return JSON.parse(text) as T;
      },
      this.options.retry,
      signal,
    );
  }

  private async *pages<T>(path: string, key: string, query: Record<string, string>, signal?: AbortSignal): AsyncGenerator<T[]> {
    let pageToken: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await this.get<Record<string, unknown>>(path, { ...query, pageToken }, signal);
      yield (page[key] as T[] | undefined) ?? [];
      pageToken = typeof page.nextPageToken === 'string' && page.nextPageToken ? page.nextPageToken : undefined;
      // A token handed out twice would page forever.
      if (pageToken && seen.has(pageToken)) throw new GoogleApiError(500, 'pageTokenRepeated', `Google returned the page token of an earlier page for ${path}`);
      if (pageToken) seen.add(pageToken);
    } while (pageToken);
  }

  /** Every user of the account (all its domains). */
  async listUsers(signal?: AbortSignal): Promise<GoogleUser[]> {
    const users: GoogleUser[] = [];
    for await (const page of this.pages<GoogleUser>(
      'users',
      'users',
      { customer: 'my_customer', maxResults: String(USERS_PAGE), projection: 'basic' },
      signal,
    )) {
      users.push(...page);
    }
    return users;
  }

  async getGroup(groupKey: string, signal?: AbortSignal): Promise<GoogleGroup> {
    return this.get<GoogleGroup>(`groups/${encodeURIComponent(groupKey)}`, {}, signal);
  }

  /** Direct members only: the sync flattens nested groups itself, so it sees each group once and stops on cycles. */
  async listMembers(groupKey: string, signal?: AbortSignal): Promise<GoogleMember[]> {
    const members: GoogleMember[] = [];
    for await (const page of this.pages<GoogleMember>(
      `groups/${encodeURIComponent(groupKey)}/members`,
      'members',
      { maxResults: String(MEMBERS_PAGE) },
      signal,
    )) {
      members.push(...page);
    }
    return members;
  }
}
