/** A real bridge on loopback for HTTP-level tests, on the embedded store or on PostgreSQL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../bridge/src/server';
import type { SessionHolder } from '../../bridge/src/session/source';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { POSTGRES_URL, freshDatabase } from './postgres';

export type StoreKind = 'sqlite' | 'postgres';

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
}

export interface TestBridge {
  readonly url: string;
  readonly scim: string;
  readonly token: string;
  readonly databaseUrl: string;
  /** The bridge's scimsession holder: `reload` / `reloadError` events say when a rotation is in use. */
  readonly session: SessionHolder;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  stop(): Promise<void>;
}

export interface BridgeOptions {
  readonly store?: StoreKind;
  readonly env?: Record<string, string>;
}

export async function startBridge(options: BridgeOptions = {}): Promise<TestBridge> {
  const dir = mkdtempSync(join(tmpdir(), 'scim-bridge-'));
  const { session, token } = createSession();
  const databaseUrl = options.store === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`;
  const running = await serve({
    env: {
      SCIM_SESSION: serializeSession(session),
      SCIM_DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      // The deprovisioning guard delays every suspension by its settle time: off unless a suite turns it on.
      SCIM_DEPROVISION_HOLD_WINDOW_SECONDS: '0',
      ...options.env,
    },
    print: () => undefined,
  });
  const url = running.url.replace('localhost', '127.0.0.1');
  const scim = `${url}/scim/v2`;
  return {
    url,
    scim,
    token,
    databaseUrl,
    session: running.session,
    async request(method, path, body, headers = {}) {
      const response = await fetch(path.startsWith('http') ? path : `${scim}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: response.status, headers: response.headers, body: parsed };
    },
    async stop() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Store kinds to run an HTTP suite against: SQLite always, PostgreSQL when a server is there (always in CI). */
export const STORE_KINDS: StoreKind[] = POSTGRES_URL || process.env.CI ? ['sqlite', 'postgres'] : ['sqlite'];
